/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toyperf: what its files share.
 *
 *   main.c       options, the rounds, the order of things
 *   net.c        sockets of the three families, child processes, time
 *   workloads.c  the workloads: one measurement ("cell") each
 *   figures.c    the figures: idle memory per pair, bind latency, the
 *                cost of each call of a connection's life
 *   profiler.c   the kernel profile (--profile, --callers)
 *   report.c     the tables and the JSON file
 */
#ifndef TOYPERF_H
#define TOYPERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "toy_util.h"

/* ---------------------------------------------------------- families */

#define NFAM 3
enum { F_TOY, F_UNIX, F_IP };
extern const char *const fam_name[NFAM];	/* "AF_TOY", ... */
extern const char *const fam_key[NFAM];		/* "toy", ... (JSON) */
extern int toy_family;		/* the module's family= (default AF_TOY) */

/* ------------------------------------------------- options (main.c) */

extern double run_time;		/* seconds per measurement */
extern int rounds;
extern bool profile;
extern bool pin_same;		/* --pin same|none */
extern const char *callers_of;	/* --callers SYM (with --profile) */
extern int idle_pairs;		/* idlemem; --quick: 200 */
extern int bind_held;		/* bindlat; --quick: 2000 */
extern int bind_iters;		/* bindlat, per measurement */

#define MAXROUNDS 64

/* ------------------------------------------------------------ net.c */

union addr {
	struct sockaddr sa;
	struct sockaddr_toy toy;
	struct sockaddr_un un;
	struct sockaddr_in in;
};

/* What a child process measured, sent back through a pipe. */
struct report {
	double count;			/* bytes or messages */
	double t_end;			/* time of the last one */
	double extra;
};

/*
 * per cell: context switches of all its processes, operations done, and
 * the time its figure is over (from the clock's start to the last one)
 */
extern double cell_csw, cell_ops, cell_secs;

void die(const char *what) __attribute__((noreturn));
double now(void);			/* CLOCK_MONOTONIC, seconds */
char *buffer(size_t size);		/* malloc'ed, filled, or die */
int sock_domain(int fam);
int new_socket(int fam, int type);	/* TCP: with TCP_NODELAY */
/* A bound socket (listening if listen_too); its address in *a. */
int bound_socket(int fam, int type, bool listen_too, union addr *a,
		 socklen_t *alen);
/* A connected STREAM or SEQPACKET pair made with listen/connect/accept. */
int conn_pair(int fam, int type, int sv[2]);
void set_rcvtimeo(int fd, double sec);
void pin_cpu(int cpu);			/* cpu < 0: no change */
/* fork() with a pipe for the child's report (pfd[1]); dies on failure. */
pid_t spawn(int pfd[2]);
/* spawn() of the peer of the pair sv: the child keeps sv[1] and pfd[1]. */
pid_t spawn_peer(int pfd[2], int sv[2]);
void child_report(int wfd, const struct report *r) __attribute__((noreturn));
/* Read the child's report, reap it (context switches: cell_csw): 0 or -1. */
int collect(pid_t pid, int rfd, struct report *r);

/* ------------------------------------------------------ workloads.c */

enum kind { K_STREAM, K_SEQPACKET, K_DGRAM, K_PINGPONG, K_CONNECT, K_DUAL };

struct workload {
	const char *name;
	const char *label;
	enum kind kind;
	size_t size;
	const char *unit;
	bool lower_better;
	double goal;			/* AF_TOY/AF_UNIX; 0 = none */
};

#define NWL 10
extern const struct workload workloads[NWL];

/* One measurement's outcome. */
struct result {
	double value;			/* in the workload's unit; <0 = n/a */
	double loss;			/* UDP: fraction of datagrams lost */
	double csw;			/* context switches per operation */
	double secs;			/* the time value is over */
};

/* Measure workload w over family fam once, for run_time. */
struct result run_cell(const struct workload *w, int fam);

/* -------------------------------------------------------- figures.c */

/*
 * Figures: measured once for AF_TOY and AF_UNIX, side by side, no goal.
 * A figure that could not be measured is NAN.
 */
#define NFIG_HELD 2			/* bindlat: 0 held, then bind_held */

#define IDLE_BYTES	(256 * 1024)	/* each way, per pair */
#define IDLE_CHUNK	(32 * 1024)
#define IDLE_SNDBUF	(1024 * 1024)
#define IDLE_FLOOR_KIB	(96 * 1024)	/* stop making pairs below this */

/*
 * callcost: the calls of a connection's life in the order they are made,
 * then C_ALL, the five summed.
 */
#define NCALL 5
enum { C_SOCKET, C_CONNECT, C_CLOSE_CLIENT, C_ACCEPT, C_CLOSE_SERVER, C_ALL };

#define CALL_BATCH	50		/* connections open at once */
#define CALL_ROUNDS	4		/* AF_TOY and AF_UNIX take turns */
#define CALL_BATCHES	25		/* per family and round */
#define CALL_WARMUP	2		/* uncounted batches per family */
#define CALL_CONNS	(CALL_ROUNDS * CALL_BATCHES * CALL_BATCH)

struct figures {
	bool idlemem, bindlat, callcost;
	int pairs[NFAM];		/* idlemem: socketpairs made */
	double drop_kib[NFAM];		/* idlemem: MemAvailable drop */
	double idle_kib[NFAM];		/* idlemem: drop per pair */
	int held[NFIG_HELD];		/* bindlat: sockets asked for */
	int held_made[NFIG_HELD][NFAM];	/* bindlat: sockets the holder bound */
	double bind_us[NFIG_HELD][NFAM];
	double call_us[NCALL + 1][NFAM];	/* callcost: mean per call */
};

/* Measure the selected figures (fg->idlemem, fg->bindlat, fg->callcost). */
void run_figures(struct figures *fg);

/* ------------------------------------------------------- profiler.c */

/* Kernel sampling on every online CPU, while one cell runs. */
struct prof;

/* Read /proc/kallsyms (the text symbols) for the profiles. */
void load_kallsyms(void);
/* Start sampling; NULL if it cannot (said on stderr). */
struct prof *prof_start(void);
/* Stop sampling, print where the time went, under title, and free p. */
void prof_stop(struct prof *p, const char *title);

/* --------------------------------------------------------- report.c */

/* Every round's figures of every cell, and what the rounds add up to. */
struct results {
	bool sel[NWL];			/* workloads selected (--only) */
	int nsel;
	double vals[NWL][NFAM][MAXROUNDS];
	double secs[NWL][NFAM][MAXROUNDS];	/* what vals are over */
	double csws[NWL][NFAM][MAXROUNDS];
	double losses[NWL][MAXROUNDS];	/* the IP column (UDP) */
	/* summarise() */
	double value[NWL][NFAM];	/* total ops / total time of the rounds */
	double csw[NWL][NFAM];		/* median */
	double loss[NWL];		/* median */
	double ratio[NWL];		/* AF_TOY/AF_UNIX of the values; <0 n/a */
};

/* Two 64 KiB pairs on two CPUs vs one pair, for AF_TOY: the goal. */
#define DUAL_SCALING_GOAL 1.8

void summarise(struct results *res);
/* dual-stream / stream-64k of AF_TOY; <0 if either was not measured. */
double dual_scaling(const struct results *res);
void print_results(const struct results *res);
void print_figures(const struct figures *fg);
/* The JSON file (bench-guest.sh reads it); dies if it cannot be written. */
void write_json(const char *path, const char *kernel,
		const struct results *res, const struct figures *fg);

#endif /* TOYPERF_H */

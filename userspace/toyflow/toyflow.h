/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toyflow: what its files share.  The pipeline, one file a stage:
 *
 *   tracefs.c  enable the toy tracepoints, read the trace back; the
 *              tracefs file helpers
 *   run.c      run the traced command (default: the toy_echo demo)
 *   kernel.c   --kernel: the function_graph trees of the socket calls
 *   trace.c    trace lines -> events (evs[]), sleeps
 *   model.c    events -> server/client sides, call pairs, blocking
 *   layout.c   events -> diagram rows (rows[])
 *   text.c     rows -> the text diagram
 *   svg.c      rows -> the SVG diagram
 *   main.c     options
 */
#ifndef TOYFLOW_H
#define TOYFLOW_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* ---------------------------------------------------------- trace.c */

enum ev_kind { EV_STATE, EV_SEG, EV_ENTER, EV_EXIT, EV_SLEEP };
enum side { SIDE_NONE = -1, SIDE_SERVER = 0, SIDE_CLIENT = 1 };

/* One toy tracepoint hit (EV_SLEEP: a sched_switch away, kept apart). */
struct ev {
	enum ev_kind kind;
	double ts;		/* seconds */
	int pid;
	char comm[32];
	unsigned long ino;
	char type[16];		/* STREAM, SEQPACKET, DGRAM, - */
	unsigned int port;	/* lport / sport / port */
	unsigned int pport;	/* pport / dport / pport */
	char what[16];		/* call name, segment kind or old state */
	char to[16];		/* new state */
	long val;		/* ret or len */
	/* analysis (model.c) */
	int side;
	int pair;		/* index of the matching enter/exit, or -1 */
	bool blocked;		/* enter/exit pair that blocked */
	bool hidden;		/* folded into its pair's line */
	char raw[512];
};

extern struct ev *evs;		/* the toy events, in trace order */
extern int nev;
/* for_each_conn_ev(e): every event of evs[] but DGRAM's (no connection). */
#define for_each_conn_ev(e)						\
	for ((e) = evs; (e) < evs + nev; (e)++)				\
		if (!strcmp((e)->type, "DGRAM")) {} else
extern int lost_lines;		/* "LOST ... EVENTS" lines seen */
extern bool have_sleeps;	/* sched_switch events were recorded */

void *xrealloc(void *p, size_t n);
/* A tracefs 'trace' file into evs[] and the sleeps; raw: echo toy lines. */
void read_trace(FILE *f, bool raw);
/* Did task pid go to sleep between from and to (seconds)? */
bool slept(int pid, double from, double to);

/* ---------------------------------------------------------- model.c */

#define MAXSET 256
/* A small set of numbers (ports, pids, inodes) in order of addition. */
struct uset {
	int n;
	unsigned long v[MAXSET];
};

bool uset_has(const struct uset *s, unsigned long v);
/* Add v (once); its index. */
int uset_add(struct uset *s, unsigned long v);

extern struct uset server_ports, server_pids, client_pids, listener_inos;
extern struct uset client_ports;	/* in order of appearance (layout.c) */

/* Sides, call pairs and blocking of evs[]; block_sec: see --block-ms. */
void analyse(double block_sec);
/* The client port of event i's connection (0 if none can be told). */
unsigned int conn_port(int i);

/* --------------------------------------------------------- layout.c */

enum row_kind { ROW_NOTE, ROW_ARROW, ROW_DIVIDER };
enum note_kind { NOTE_CALL, NOTE_STATE, NOTE_INFO };

/* One line of the diagram. */
struct row {
	enum row_kind kind;
	int side;		/* NOTE: which lifeline; ARROW: the sender */
	int note;		/* enum note_kind */
	double ts;
	char text[160];
	int block_begin;	/* this row starts a blocked call on side */
	int block_end;		/* this row ends one */
	bool wait[2];		/* lifeline is waiting (blocked) on this row */
};

extern struct row *rows;
extern int nrows;

/* The rows of the analysed evs[]. */
void build_rows(void);
/* "SERVER port 7 (pid 123)" / "CLIENT port ..." */
void title(char *buf, size_t len, int side);

/* ------------------------------------------------------ text.c, svg.c */

/* The diagram as text; t0: the time of the first event. */
void print_text(FILE *out, double t0);
/* The diagram as SVG into path: 0 or -1 (said on stderr). */
int write_svg(const char *path, double t0);

/* -------------------------------------------------------- tracefs.c */

extern const char *tracefs;	/* where tracefs is, once found */

/*
 * Where tracefs is: the first of /sys/kernel/tracing and
 * /sys/kernel/debug/tracing whose file probe is writable; 0, or -1 and
 * "toyflow: <missing>" on stderr.
 */
int tfs_find(const char *probe, const char *missing);
/* Write val to tracefs's file (truncating): 0 or -1 (said unless quiet). */
int tfs_write(const char *file, const char *val, bool quiet);
/* Append val to tracefs's file, all of it: 0 or -1 (errno). */
int tfs_append(const char *file, const char *val);
/* tracefs's file opened for reading, or NULL (said unless quiet). */
FILE *tfs_open(const char *file, bool quiet);
/*
 * The first word of tracefs's file (the bracketed one, as trace_clock's
 * choice) into buf; "" if it cannot be read or is too long.
 */
void tfs_read_word(const char *file, char *buf, size_t len);
/*
 * tfs_write(), after reading what file holds for tfs_undo(): 0, or -1
 * (said unless quiet); if it cannot be read it is not written either.
 */
int tfs_set(const char *file, const char *val, bool quiet);
/* tfs_set() of the enable file of every event of group ("events/toy"). */
int tfs_set_events(const char *group, const char *val, bool quiet);
/* Put back what every tfs_set() changed, the last change first. */
void tfs_undo(void);
/* Clear the buffer and enable the toy events (and sched_switch): 0 or -1. */
int tracing_start(void);
/* Stop recording (tracing_on), so that the trace can be read. */
void tracing_stop(void);
/* Put back everything tracing_start() and tracing_stop() changed. */
void tracing_restore(void);
/* read_trace() of tracefs's 'trace': 0 or -1. */
int tracing_read(bool raw);

/* ------------------------------------------------------------ run.c */

/* Remember toyflow's own directory, where the tools are looked for too. */
void find_self_dir(void);
/* fork + exec argv (PATH, then toyflow's directory): the pid, or -1. */
pid_t spawn(char **argv);
void toyflow_signals(void);
void toyflow_signals_end(void);
/* Exit status of pid (128 + signal if killed). */
int wait_status(pid_t pid);
/* The echo demo: toy_echo server 7 --once and one client; its status. */
int run_demo(void);
/*
 * fork, then wait until *go (a pipe) is written before exec'ing argv, or
 * running the demo if argv is NULL: the pid, or -1.  Closing *go without
 * a write makes the child exit at once.
 */
pid_t spawn_held(char **argv, int *go);

/* --------------------------------------------------------- kernel.c */

/*
 * --kernel: run argv (NULL: the demo) under the function_graph tracer
 * and print the call tree of each socket call whose name is in the
 * comma-separated list want (NULL: all).  The command's status, or -1 if
 * nothing could be traced.
 */
int kernel_trace(char **argv, const char *want, bool raw);

#endif /* TOYFLOW_H */

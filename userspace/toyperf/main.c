// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: the same workloads over AF_TOY, AF_UNIX and TCP/UDP loopback,
 * interleaved and repeated in one run, reported side by side with the
 * AF_TOY/AF_UNIX ratio and the performance goals the README states.
 *
 *   toyperf [--quick] [--rounds N] [--time SEC] [--only WORKLOAD[,..]]
 *           [--json FILE] [--profile] [--callers SYM] [--pin same|none]
 *           [--list]
 *
 * Workloads (peers are separate processes, connected before the clock
 * starts; every measurement runs for a bounded time):
 *   stream-64 stream-4k stream-64k  one writer writes N-byte chunks, one
 *                                   reader drains with a 64 KiB buffer; MB/s
 *   seqpacket-64 seqpacket-4k       records per second (no TCP)
 *   dgram-64 dgram-4k               datagrams received per second (UDP for
 *                                   the IP column; its losses are reported)
 *   pingpong                        1-byte round trip over STREAM, µs
 *   connect                         connect+accept+close per second
 *   dual-stream                     two 64 KiB stream pairs at once, one
 *                                   pair per CPU; aggregate MB/s
 *
 * Figures (AF_TOY and AF_UNIX only, measured once per run after the rounds,
 * reported and never compared with a goal; --only selects them by name too):
 *   idlemem   idle memory per socket pair: 1000 STREAM socketpair()s
 *             (--quick: 200), SO_SNDBUF(FORCE) 1 MiB on both ends, 256 KiB
 *             each way in 32 KiB writes, all read back, then 1 s idle with
 *             every fd open; the drop of MemAvailable over the pairs, KiB
 *   bindlat   socket()+bind()+close() of a DGRAM socket to an ephemeral
 *             port (AF_UNIX: autobind), mean µs over 2000; alone, then while
 *             another process holds 28000 (--quick: 2000) bound DGRAM
 *             sockets of the same family (AF_TOY has 28232 ephemeral ports
 *             with the default net.ipv4.ip_local_port_range)
 *   callcost  mean µs of each call of a STREAM connection's life, both ends
 *             in this process (the CPU cost of each, no scheduling): in
 *             batches of 50, socket()+connect() of each client, then
 *             close() of each, accept() of each, close() of each accepted;
 *             5000 per family, AF_TOY and AF_UNIX taking turns over 4 rounds
 *
 * --pin same (default) runs both ends of a single pair on CPU 0, so a cell
 * measures the CPU cost of the protocol rather than cross-CPU wake-up
 * latency, which under QEMU TCG is large and noisy; --pin none leaves
 * placement to the scheduler.  dual-stream always pins pair i to CPU i.
 *
 * Defaults: 10 rounds x 0.2 s per cell (--quick: 2 x 0.15 s).  The figure
 * of a cell is total operations / total time over its rounds: each round's
 * figure weighted by its length, which is about --time in every round, so
 * for a rate the mean of the per-round rates and for the round trip the
 * harmonic mean of the per-round times.  Many short interleaved rounds
 * average a loaded host out better than a median of a few long ones.  The
 * ratio is AF_TOY/AF_UNIX of those figures.
 *
 * --profile samples the kernel (perf_event_open cpu-clock, every online
 * CPU, with call chains) during an extra, uncounted round of the AF_TOY
 * and AF_UNIX cells, a thread copying the samples out of the kernel's
 * rings as they fill, and prints where the time went, by symbol, self and
 * inclusive, and how many samples the kernel lost; --callers SYM (implies
 * --profile) also lists the call paths of the samples taken in SYM.
 *
 * It is a benchmark: the exit status says nothing about the goals.
 *
 * The parts are in the other files of this directory (toyperf.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "toyperf.h"

double run_time = 0.2;
int rounds = 10;
bool profile;
bool pin_same = true;
const char *callers_of;
int idle_pairs = 1000;
int bind_held = 28000;
int bind_iters = 2000;

static void usage(int status)
{
	size_t i;

	fprintf(stderr,
		"usage: toyperf [--quick] [--rounds N] [--time SEC] [--only W[,W..]]\n"
		"               [--json FILE] [--profile] [--callers SYM] [--pin same|none]\n"
		"               [--list]\n"
		"a cell's figure: total operations / total time over the rounds\n"
		"workloads:");
	for (i = 0; i < NWL; i++)
		fprintf(stderr, " %s", workloads[i].name);
	fprintf(stderr, "\nfigures: idlemem bindlat callcost\n");
	exit(status);
}

static void list(void)
{
	size_t w;

	for (w = 0; w < NWL; w++)
		printf("%s\n", workloads[w].name);
	printf("idlemem\nbindlat\ncallcost\n");
	exit(0);
}

/* The options into the globals; --only and --json into *only and *json. */
static void parse_opts(int argc, char **argv, const char **only,
		       const char **json)
{
	static const struct option long_opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "pin", required_argument, NULL, 'p' },
		{ "callers", required_argument, NULL, 'c' },
		{ "profile", no_argument, NULL, 'P' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			rounds = 2;
			run_time = 0.15;
			idle_pairs = 200;
			bind_held = 2000;
			break;
		case 'r': rounds = atoi(optarg); break;
		case 't': run_time = atof(optarg); break;
		case 'o': *only = optarg; break;
		case 'j': *json = optarg; break;
		case 'p':
			if (strcmp(optarg, "none") && strcmp(optarg, "same"))
				usage(2);
			pin_same = !strcmp(optarg, "same");
			break;
		case 'c':
			callers_of = optarg;
			profile = true;		/* --callers implies --profile */
			break;
		case 'P': profile = true; break;
		case 'l': list(); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || rounds < 1 || rounds > MAXROUNDS || !(run_time > 0) ||
	    run_time > 3600)
		usage(2);
}

/* Is name selected by --only (a name, or a prefix before '-': "stream")? */
static bool selected(const char *only, const char *name)
{
	const char *p = only, *end;
	size_t len = strlen(name), plen;

	if (!only)
		return true;
	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		/* prefix match: "stream" selects stream-64/4k/64k */
		end = strchr(p, ',');
		plen = end ? (size_t)(end - p) : strlen(p);
		if (plen < len && !strncmp(p, name, plen) && name[plen] == '-')
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* The module's family= parameter, if it was loaded with one. */
static void read_family(void)
{
	FILE *f = fopen("/sys/module/af_toy/parameters/family", "r");
	int fam;

	if (f) {
		if (fscanf(f, "%d", &fam) == 1 && fam > 0)
			toy_family = fam;
		fclose(f);
	}
}

/* One cell of round r (r < 0: the profiling round, not counted). */
static void cell(struct results *res, size_t w, int ff, int r)
{
	struct prof *p = NULL;
	struct result cr;
	char title[96];

	if (ff != F_IP && r < 0)
		p = prof_start();
	cr = run_cell(&workloads[w], ff);
	if (p) {
		snprintf(title, sizeof(title), "%s %s", workloads[w].name,
			 fam_name[ff]);
		prof_stop(p, title);
	}
	if (r < 0)
		return;
	res->vals[w][ff][r] = cr.value;
	res->secs[w][ff][r] = cr.secs;
	res->csws[w][ff][r] = cr.csw;
	if (ff == F_IP)
		res->losses[w][r] = cr.loss;
}

/*
 * Rounds outermost, families innermost: interleaved.  With --profile
 * an extra round -1 runs first, sampled, and is not counted.
 */
static void run_rounds(struct results *res)
{
	size_t w;
	int r, f;

	for (r = profile ? -1 : 0; r < rounds && res->nsel; r++) {
		if (r < 0)
			fprintf(stderr, "toyperf: profiling round (not counted)\n");
		else
			fprintf(stderr, "toyperf: round %d/%d\n", r + 1, rounds);
		for (w = 0; w < NWL; w++) {
			if (!res->sel[w])
				continue;
			/* rotate the order so no family always goes first */
			for (f = 0; f < NFAM; f++)
				cell(res, w, (f + r + NFAM) % NFAM, r);
		}
	}
}

static void print_header(const char *kernel)
{
	int fd;

	printf("toyperf: kernel %s, %d round(s) x %.2f s per cell, "
	       "total ops / total time; %ld CPUs; single pairs %s\n", kernel,
	       rounds, run_time, sysconf(_SC_NPROCESSORS_ONLN),
	       pin_same ? "pinned to CPU 0" : "not pinned");
	fd = socket(toy_family, SOCK_STREAM, 0);
	if (fd < 0)
		printf("toyperf: no AF_TOY (family %d): %s\n", toy_family,
		       strerror(errno));
	else
		close(fd);
}

int main(int argc, char **argv)
{
	static struct results res;
	const char *only = NULL, *json = NULL;
	struct figures fg = { 0 };
	struct utsname u;
	size_t w;

	parse_opts(argc, argv, &only, &json);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_family();
	if (toy_lo_up() < 0)
		perror("toyperf: bringing lo up");
	uname(&u);
	for (w = 0; w < NWL; w++) {
		res.sel[w] = selected(only, workloads[w].name);
		res.nsel += res.sel[w];
	}
	fg.idlemem = selected(only, "idlemem");
	fg.bindlat = selected(only, "bindlat");
	fg.callcost = selected(only, "callcost");
	if (profile)
		load_kallsyms();
	print_header(u.release);
	run_rounds(&res);
	run_figures(&fg);
	summarise(&res);
	print_results(&res);
	print_figures(&fg);
	if (json)
		write_json(json, u.release, &res, &fg);
	return 0;
}

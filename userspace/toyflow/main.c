// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: watch an AF_TOY conversation as the classic client/server
 * sequence diagram, drawn from the kernel's own "toy" tracepoints.
 *
 *   toyflow [--svg FILE] [--raw] [--block-ms N] [--input TRACE] [-- CMD ARGS...]
 *   toyflow --kernel[=CALLS] [--raw] [-- CMD ARGS...]
 *
 * It clears the trace buffer, enables /sys/kernel/tracing/events/toy/, runs
 * CMD (default: the echo demo, `toy_echo server 7 --once` in the background
 * and `toy_echo client 7 hello world`), disables the events, reads
 * /sys/kernel/tracing/trace back and renders what happened:
 *
 *   - left lifeline: the server (the side that called listen(); its sockets
 *     carry the listening port), right lifeline: the client(s);
 *   - the socket calls on each side, with their return values;
 *   - an arrow for every segment (SYN, SYN-ACK, ACK, DATA len, FIN, RST);
 *   - every state change, next to the socket that changed state;
 *   - a call during which its task went to sleep (sched:sched_switch with
 *     prev_state S or D, recorded alongside) blocked: it is drawn as
 *     "blocks..." ... "returns" and the lifeline turns into ':' meanwhile.
 *     Without scheduler events (e.g. --input of a trace that lacks them) a
 *     call blocked when another task's toy events come between its enter
 *     and exit, or when it took at least --block-ms (default 200) ms.
 *
 * Several connections (one server, N clients) are told apart by the
 * client's port: a divider starts each new connection, and client notes are
 * prefixed with the client port when there is more than one.
 *
 * --svg FILE also writes the diagram as SVG, --raw first prints the toy
 * trace lines as read, --input TRACE renders a saved trace file instead of
 * running anything.  --kernel shows instead how the kernel runs each socket
 * call: one function_graph call tree per system call (kernel.c); CALLS
 * (e.g. "socket,accept") picks the calls shown.  Needs root (tracefs).  Exit status: the command's.
 * The stages are in the other files of this directory (toyflow.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "toyflow.h"

struct opts {
	const char *svg, *input;
	const char *kcalls;	/* --kernel=CALLS, or NULL: all calls */
	bool raw, kernel;
	double block_ms;
	char **cmd;		/* after "--", or NULL: the demo */
};

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: toyflow [--svg FILE] [--raw] [--block-ms N] [--input TRACE]"
		" [-- CMD ARGS...]\n"
		"       toyflow --kernel[=CALLS] [--raw] [-- CMD ARGS...]\n"
		"  Runs CMD (default: the toy_echo demo) with the toy tracepoints\n"
		"  enabled and draws the client/server sequence diagram.\n"
		"  --svg FILE    also write the diagram as SVG\n"
		"  --raw         print the raw toy trace lines first\n"
		"  --block-ms N  without sched_switch events: a call taking N ms or\n"
		"                more blocked (default 200)\n"
		"  --input TRACE draw a saved tracefs 'trace' file, run nothing\n"
		"  --kernel[=CALLS]  instead, the kernel's call tree of each\n"
		"                socket call (function_graph); CALLS: e.g.\n"
		"                socket,accept (default: all)\n");
	exit(rc);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "svg", required_argument, NULL, 's' },
		{ "raw", no_argument, NULL, 'r' },
		{ "block-ms", required_argument, NULL, 'b' },
		{ "input", required_argument, NULL, 'i' },
		{ "kernel", optional_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": stop at the first operand; CMD comes after "--" */
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's': o->svg = optarg; break;
		case 'r': o->raw = true; break;
		case 'b': o->block_ms = atof(optarg); break;
		case 'i': o->input = optarg; break;
		case 'k': o->kernel = true; o->kcalls = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--"))
		usage(2);	/* an operand without "--" before it */
	if (optind < argc)
		o->cmd = argv + optind;
	if (o->kernel && (o->input || o->svg))
		usage(2);	/* the trees are of a live run, in text */
}

/* Trace the command (or the demo) into evs[]: the command's status. */
static int trace_command(const struct opts *o)
{
	pid_t pid;
	int rc;

	if (tracing_start()) {
		tracing_restore();	/* what it got to change */
		return -1;
	}
	if (o->cmd) {
		pid = spawn(o->cmd);
		rc = pid < 0 ? 1 : wait_status(pid);
	} else {
		rc = run_demo();
	}
	tracing_stop();
	if (o->raw)
		printf("\n== raw toy events (%s/trace)\n", tracefs);
	if (tracing_read(o->raw))
		rc = rc ? rc : 1;
	tracing_restore();
	return rc;
}

static int read_input(const struct opts *o)
{
	FILE *f = strcmp(o->input, "-") ? fopen(o->input, "r") : stdin;

	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", o->input, strerror(errno));
		return -1;
	}
	read_trace(f, o->raw);
	if (f != stdin)
		fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .block_ms = 200 };
	int rc = 0;

	parse_opts(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	find_self_dir();
	if (o.kernel) {
		toyflow_signals();
		rc = kernel_trace(o.cmd, o.kcalls, o.raw);
		toyflow_signals_end();
		return rc < 0 ? 1 : rc;
	}
	if (o.input) {
		if (read_input(&o) < 0)
			return 1;
	} else {
		toyflow_signals();
		rc = trace_command(&o);
		toyflow_signals_end();
		if (rc < 0)
			return 1;
	}
	if (!nev) {
		printf("toyflow: no toy events were recorded\n");
		return rc ? rc : 1;
	}
	analyse(o.block_ms / 1e3);
	build_rows();
	printf("\n== AF_TOY sequence diagram (from %d trace events)\n\n", nev);
	print_text(stdout, evs[0].ts);
	if (o.svg) {
		if (write_svg(o.svg, evs[0].ts))
			return rc ? rc : 1;
		printf("SVG written to %s\n", o.svg);
	}
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: tracefs control.  Enables events/toy (and sched:sched_switch
 * into S or D, to see who slept in a call) with the global trace clock,
 * then puts back what it changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "toyflow.h"

const char *tracefs;

static char saved_clock[32];
static bool sched_was_on, sched_on;

int tfs_write(const char *file, const char *val, bool quiet)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		rc = -1;
	if (rc && !quiet)
		fprintf(stderr, "toyflow: write '%s' to %s: %s\n", val, path,
			strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int find_tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/toy/enable", dirs[i]);
		if (access(path, W_OK) == 0) {
			tracefs = dirs[i];
			return 0;
		}
	}
	fprintf(stderr, "toyflow: no writable events/toy in "
		"/sys/kernel/tracing (is af_toy loaded, tracefs mounted, "
		"are you root?)\n");
	return -1;
}

/* The clock in use: the bracketed one of trace_clock, for restoring. */
static void save_clock(void)
{
	char path[PATH_MAX], buf[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace_clock", tracefs);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f)) {
		char *b = strchr(buf, '['), *e = b ? strchr(b, ']') : NULL;

		if (b && e && e - b - 1 < (long)sizeof(saved_clock)) {
			memcpy(saved_clock, b + 1, e - b - 1);
			saved_clock[e - b - 1] = '\0';
		}
	}
	if (f)
		fclose(f);
}

/* Who slept inside a call: sched_switch away in state S or D. */
static void sched_start(void)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/sched/sched_switch/enable",
		 tracefs);
	f = fopen(path, "r");
	if (f) {
		sched_was_on = fgetc(f) == '1';
		fclose(f);
	}
	if (!sched_was_on) {
		tfs_write("events/sched/sched_switch/filter",
			  "prev_state == 1 || prev_state == 2", true);
		sched_on = !tfs_write("events/sched/sched_switch/enable", "1",
				      true);
	}
}

int tracing_start(void)
{
	if (find_tracefs())
		return -1;
	save_clock();
	tfs_write("events/toy/enable", "0", false);
	/* a global clock keeps the two CPUs' events in order */
	tfs_write("trace_clock", "global", true);
	sched_start();
	if (tfs_write("trace", "", false))	/* clears the buffer */
		return -1;
	tfs_write("tracing_on", "1", false);
	return tfs_write("events/toy/enable", "1", false);
}

void tracing_stop(void)
{
	tfs_write("events/toy/enable", "0", false);
	if (sched_on)
		tfs_write("events/sched/sched_switch/enable", "0", true);
}

void tracing_restore(void)
{
	if (sched_on)
		tfs_write("events/sched/sched_switch/filter", "0", true);
	if (saved_clock[0])
		tfs_write("trace_clock", saved_clock, true);
}

int tracing_read(bool raw)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	read_trace(f, raw);
	fclose(f);
	return 0;
}

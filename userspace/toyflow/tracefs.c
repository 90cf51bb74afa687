// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: tracefs control.  Enables events/toy (and sched:sched_switch
 * into S or D, to see who slept in a call) with the global trace clock,
 * then puts back what it changed.  And the file helpers --kernel
 * (kernel.c, kernel_read.c) uses too: find, open, read a word, write,
 * append.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "toy_util.h"
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

/*
 * Append to a tracefs file (tfs_write() truncates): 0 or -1.  The
 * filter files take one name per write(), returning a short count: the
 * rest is written again, as a shell's echo does.
 */
int tfs_append(const char *file, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -1;
	while (len) {
		n = write(fd, val, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		val += n;
		len -= n;
	}
	close(fd);
	return rc;
}

FILE *tfs_open(const char *file, bool quiet)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	f = fopen(path, "r");
	if (!f && !quiet)
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
	return f;
}

void tfs_read_word(const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	toy_read_word(path, buf, len);
}

int tfs_find(const char *probe, const char *missing)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], probe);
		if (access(path, W_OK) == 0) {
			tracefs = dirs[i];
			return 0;
		}
	}
	fprintf(stderr, "toyflow: %s\n", missing);
	return -1;
}

/* Who slept inside a call: sched_switch away in state S or D. */
static void sched_start(void)
{
	char on[8];

	tfs_read_word("events/sched/sched_switch/enable", on, sizeof(on));
	sched_was_on = on[0] == '1';
	if (!sched_was_on) {
		tfs_write("events/sched/sched_switch/filter",
			  "prev_state == 1 || prev_state == 2", true);
		sched_on = !tfs_write("events/sched/sched_switch/enable", "1",
				      true);
	}
}

int tracing_start(void)
{
	if (tfs_find("events/toy/enable", "no writable events/toy in "
		     "/sys/kernel/tracing (is af_toy loaded, tracefs mounted, "
		     "are you root?)"))
		return -1;
	/* the clock in use, for restoring */
	tfs_read_word("trace_clock", saved_clock, sizeof(saved_clock));
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
	FILE *f = tfs_open("trace", false);

	if (!f)
		return -1;
	read_trace(f, raw);
	fclose(f);
	return 0;
}

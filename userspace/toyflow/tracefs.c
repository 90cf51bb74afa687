// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: tracefs control.  Enables events/toy (and sched:sched_switch
 * into S or D, to see who slept in a call) with the global trace clock,
 * then puts back what it changed.  And the file helpers --kernel
 * (kernel.c, kernel_read.c) uses too: find, open, read a word, write,
 * append, and set (write, remembering what to put back) and undo.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toy_util.h"
#include "toyflow.h"

const char *tracefs;

/*
 * Every tracefs file tfs_set() wrote, with what it held just before.
 * tfs_undo() writes them back last first, so a file set twice ends as
 * it was found and the tracer is off again before the filters it used
 * are put back; a file toyflow never got to set (its set-up failed
 * before) is not written at all.
 */
static struct tfs_change {
	char *file;
	char *old;	/* what to write back; a list: its entries, '\n' each */
	bool list;
} *changes;
static size_t nchanges;

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
/* All @len bytes at @p to @fd, a short count written on: 0 or -1. */
static int write_on(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int tfs_append(const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -1;
	rc = write_on(fd, val, strlen(val));
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

/* Files that hold a list of entries, which a write replaces. */
static bool is_list(const char *file)
{
	return !strcmp(file, "set_ftrace_filter") ||
	       !strcmp(file, "set_ftrace_pid") ||
	       !strcmp(file, "set_event_pid");
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/*
 * A list file's entries as they are written, one a line.  What reads
 * differently: set_ftrace_filter shows a module's function as "fn [mod]"
 * ("fn:mod:mod" selects it), and lists its function probes ("fn:cmd...")
 * which clearing it leaves in place, so they are no entries; nor are the
 * comments ("#### all functions enabled ####") and "no pid".
 */
static char *read_list(const char *file)
{
	FILE *f = tfs_open(file, true), *out;
	char *line = NULL, *buf = NULL, fn[128], mod[64];
	size_t cap = 0, size;

	if (!f)
		return NULL;
	out = open_memstream(&buf, &size);
	if (!out) {
		fclose(f);
		return NULL;
	}
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#' || !strcmp(line, "no pid"))
			continue;
		if (strchr(line, ':') && !strstr(line, ":mod:"))
			continue;
		if (sscanf(line, "%127s [%63[^]]]", fn, mod) == 2)
			fprintf(out, "%s:mod:%s\n", fn, mod);
		else
			fprintf(out, "%s\n", line);
	}
	free(line);
	fclose(f);
	fclose(out);
	return buf;
}

/* An event filter as it is written back: "0" clears it, for "none". */
static char *read_filter(const char *file)
{
	FILE *f = tfs_open(file, true);
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getline(&line, &cap, f) < 0) {
		free(line);
		line = NULL;
	} else {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "none"))
			memcpy(line, "0", 2);
	}
	fclose(f);
	return line;
}

/*
 * What @file holds, in the form it is written back: NULL if it cannot
 * be read.  An event's enable reads "0*" or "1*" in soft mode (a
 * trigger's), of which only the digit is written.
 */
static char *tfs_save(const char *file)
{
	char word[64];

	if (is_list(file))
		return read_list(file);
	if (ends_with(file, "/filter"))
		return read_filter(file);
	tfs_read_word(file, word, sizeof(word));
	if (ends_with(file, "/enable")) {
		if (word[0] != '0' && word[0] != '1')
			return NULL;	/* also a group's "X": mixed */
		word[1] = '\0';
	}
	return word[0] ? dup_str(word) : NULL;
}

int tfs_set(const char *file, const char *val, bool quiet)
{
	char *old = tfs_save(file);

	if (!old) {
		if (!quiet)
			fprintf(stderr, "toyflow: %s/%s is unreadable, so left as it is\n",
				tracefs, file);
		return -1;
	}
	changes = xrealloc(changes, (nchanges + 1) * sizeof(*changes));
	changes[nchanges++] = (struct tfs_change){
		.file = dup_str(file), .old = old, .list = is_list(file),
	};
	/* kept even if the write fails: its O_TRUNC emptied a list */
	return tfs_write(file, val, quiet);
}

int tfs_set_events(const char *group, const char *val, bool quiet)
{
	char path[PATH_MAX], file[NAME_MAX + 64];
	struct dirent *d;
	int rc = 0, n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%s", tracefs, group);
	dir = opendir(path);
	if (!dir) {
		if (!quiet)
			fprintf(stderr, "toyflow: %s: %s\n", path,
				strerror(errno));
		return -1;
	}
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/enable", group, d->d_name);
		snprintf(path, sizeof(path), "%s/%s", tracefs, file);
		if (access(path, F_OK))		/* the group's own files */
			continue;
		if (tfs_set(file, val, quiet))
			rc = -1;
		n++;
	}
	closedir(dir);
	return n ? rc : -1;
}

/*
 * The entries of @list ('\n' after each) appended to @file, one open for
 * them all (a long set_ftrace_filter is updated once, at close) and one
 * write() each, so that one the kernel no longer takes (a module's
 * function, gone) costs only itself: 0 or -1.
 */
static int append_entries(const char *file, const char *list)
{
	char path[PATH_MAX];
	const char *end;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -1;
	for (; *list; list = end) {
		end = strchr(list, '\n') + 1;
		if (write_on(fd, list, end - list))
			rc = -1;	/* that entry only: the next goes on */
	}
	close(fd);
	return rc;
}

/* One change undone: 0 or -1. */
static int put_back(const struct tfs_change *c)
{
	if (!c->list)
		return tfs_write(c->file, c->old, true);
	/* a list: emptied, then its entries */
	if (tfs_write(c->file, "", true))
		return -1;
	return append_entries(c->file, c->old);
}

void tfs_undo(void)
{
	struct tfs_change *c;

	while (nchanges) {
		c = &changes[--nchanges];
		if (put_back(c))
			fprintf(stderr, "toyflow: %s/%s could not be put back: %s\n",
				tracefs, c->file, strerror(errno));
		free(c->file);
		free(c->old);
	}
	free(changes);
	changes = NULL;
}

/*
 * Who slept inside a call: sched_switch away in state S or D, unless
 * sched_switch is on already (someone records it, with their filter).
 */
static void sched_start(void)
{
	char on[8];

	tfs_read_word("events/sched/sched_switch/enable", on, sizeof(on));
	if (on[0] == '1')
		return;
	tfs_set("events/sched/sched_switch/filter",
		"prev_state == 1 || prev_state == 2", true);
	tfs_set("events/sched/sched_switch/enable", "1", true);
}

int tracing_start(void)
{
	if (tfs_find("events/toy/enable", "no writable events/toy in "
		     "/sys/kernel/tracing (is af_toy loaded, tracefs mounted, "
		     "are you root?)"))
		return -1;
	/* no toy event while the buffer is cleared */
	tfs_set_events("events/toy", "0", false);
	/* a global clock keeps the two CPUs' events in order */
	tfs_set("trace_clock", "global", true);
	sched_start();
	if (tfs_write("trace", "", false))	/* clears the buffer */
		return -1;
	if (tfs_set("tracing_on", "1", false))
		return -1;
	return tfs_set_events("events/toy", "1", false);
}

void tracing_stop(void)
{
	/* the buffer as it is, to be read; tracing_restore() sets it back */
	tfs_set("tracing_on", "0", false);
}

void tracing_restore(void)
{
	tfs_undo();
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

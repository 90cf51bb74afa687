// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow --kernel: reading the function_graph output back, one call tree
 * per system call of each traced task (see kernel.c for what is traced).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kernel.h"
#include "toyflow.h"

struct kcall *calls;
int ncalls;
static int cap_calls;

/* Per task: its current call and nesting depth. */
static struct ktask tasks[256];
static int ntasks;

static struct ktask *task_of(int pid)
{
	int i;

	for (i = 0; i < ntasks; i++)
		if (tasks[i].pid == pid)
			return &tasks[i];
	if (ntasks == (int)(sizeof(tasks) / sizeof(tasks[0])))
		return NULL;
	tasks[ntasks].pid = pid;
	tasks[ntasks].call = -1;
	tasks[ntasks].depth = 0;
	return &tasks[ntasks++];
}

static void new_call(struct ktask *t, const char *comm, long nr,
		     const unsigned long *args)
{
	struct kcall *c;

	if (ncalls == cap_calls) {
		cap_calls = cap_calls ? 2 * cap_calls : 256;
		calls = xrealloc(calls, cap_calls * sizeof(*calls));
	}
	c = &calls[ncalls];
	memset(c, 0, sizeof(*c));
	c->pid = t->pid;
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	c->nr = nr;
	memcpy(c->args, args, sizeof(c->args));
	t->call = ncalls++;
	t->depth = 0;
}

static void add_node(struct ktask *t, const char *fn)
{
	struct kcall *c = &calls[t->call];
	struct knode *n;

	if (c->nn == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 32;
		c->n = xrealloc(c->n, c->cap * sizeof(*c->n));
	}
	n = &c->n[c->nn++];
	snprintf(n->fn, sizeof(n->fn), "%s", fn);
	n->depth = t->depth;
	n->after_exit = c->returned;
	if (IN(fn, sock_fns))
		c->sock = true;
	if (t->depth < MAXDEPTH)
		t->open[t->depth] = c->nn - 1;
}

/* The innermost open function of task t's call, or NULL. */
static struct knode *open_node(struct ktask *t)
{
	int d = t->depth - 1;

	if (t->call < 0 || d < 0 || d >= MAXDEPTH ||
	    t->open[d] >= calls[t->call].nn)
		return NULL;
	return &calls[t->call].n[t->open[d]];
}

/* An event, printed as a comment: "/\* name: body *\/". */
static void parse_comment(struct ktask *t, const char *comm, const char *s)
{
	unsigned long a[3] = { 0, 0, 0 }, ino;
	struct knode *n;
	const char *p;
	long nr, ret;

	if (sscanf(s, "/* sys_enter: NR %ld (%lx, %lx, %lx", &nr, &a[0], &a[1],
		   &a[2]) == 4) {
		new_call(t, comm, nr, a);
	} else if (sscanf(s, "/* sys_exit: NR %ld = %ld", &nr, &ret) == 2) {
		if (t->call >= 0 && calls[t->call].nr == nr) {
			calls[t->call].ret = ret;
			calls[t->call].returned = true;
		}
	} else if (t->call >= 0 && !strncmp(s, "/* ino: ", 8) &&
		   (p = strstr(s, " ino=")) && sscanf(p, " ino=%lu", &ino) == 1) {
		/* the first number a socket call drew is its new inode */
		if (!calls[t->call].ino_new) {
			calls[t->call].ino = ino;
			calls[t->call].ino_new = true;
		}
	} else if (t->call >= 0 && !strncmp(s, "/* toy_call_enter: ", 19) &&
		   (p = strstr(s, " ino=")) && sscanf(p, " ino=%lu", &ino) == 1) {
		if (!calls[t->call].ino)
			calls[t->call].ino = ino;
	} else if (!strncmp(s, "/* toy_state: ", 14) && (n = open_node(t)) &&
		   (p = strstr(s, " pport="))) {
		/* "ino=N type=.. lport=.. pport=N OLD -> NEW" */
		n->ev_ino = strtoul(s + 18, NULL, 10);
		p = strchr(p + 1, ' ');
		if (p)
			snprintf(n->ev, sizeof(n->ev), "%.*s",
				 (int)strcspn(p + 1, "*") - 1, p + 1);
	} else if (!strncmp(s, "/* toy_segment: ", 16) && (n = open_node(t))) {
		/* "KIND sport=.. dport=.. len=.. ino=N" */
		p = strstr(s, " ino=");
		n->ev_ino = p ? strtoul(p + 5, NULL, 10) : 0;
		snprintf(n->ev, sizeof(n->ev), "sends %.*s",
			 (int)strcspn(s + 16, " "), s + 16);
	}
}

/*
 * One function_graph line (options cpu, proc, duration, tail):
 *   " 1)  toy_ech-175   |   0.345 us    |      get_next_ino();"
 *   " 1)  toy_ech-175   |               |    __sys_socket() {"
 *   " 1)  toy_ech-175   | + 12.34 us    |    } /\* __sys_socket *\/"
 *   " 1)  toy_ech-175   |               |  /\* sys_exit: NR 41 = 3 *\/"
 */
static void parse_line(const char *line)
{
	const char *bar1 = strchr(line, '|'), *bar2, *s, *dash, *q;
	char comm[16] = "", fn[64];
	struct ktask *t;
	int pid;
	size_t l;

	if (!bar1 || !(bar2 = strchr(bar1 + 1, '|')))
		return;
	/* "cpu)  comm-pid   ": the pid follows the last '-' */
	q = strchr(line, ')');
	if (!q || q > bar1)
		return;
	q++;
	while (*q == ' ')
		q++;
	dash = NULL;
	for (s = q; s < bar1 && *s != ' '; s++)
		if (*s == '-')
			dash = s;
	if (!dash)
		return;
	pid = atoi(dash + 1);
	l = dash - q < (long)sizeof(comm) ? (size_t)(dash - q) : sizeof(comm) - 1;
	memcpy(comm, q, l);
	comm[l] = '\0';
	t = task_of(pid);
	if (!t)
		return;
	s = bar2 + 1;
	while (*s == ' ')
		s++;
	if (!strncmp(s, "/*", 2)) {
		parse_comment(t, comm, s);
		return;
	}
	if (*s == '}') {
		if (t->depth > 0)
			t->depth--;
		return;
	}
	if (t->call < 0 || sscanf(s, "%63[^( ]", fn) != 1)
		return;
	add_node(t, fn);
	if (strstr(s, ") {"))
		t->depth++;
}

/* function_graph cuts names to 7 characters: saved_cmdlines has 15. */
static void full_comms(void)
{
	FILE *f = tfs_open("saved_cmdlines", true);
	char comm[16];
	int pid, i;

	if (!f)
		return;
	while (fscanf(f, "%d %15s", &pid, comm) == 2)
		for (i = 0; i < ncalls; i++)
			if (calls[i].pid == pid &&
			    !strncmp(calls[i].comm, comm, strlen(calls[i].comm)))
				snprintf(calls[i].comm, sizeof(calls[i].comm),
					 "%s", comm);
	fclose(f);
}

int kernel_read(bool raw)
{
	FILE *f = tfs_open("trace", false);
	char line[1024];

	if (!f)
		return -1;
	if (raw)
		printf("\n== raw function_graph trace (%s/trace)\n", tracefs);
	while (fgets(line, sizeof(line), f)) {
		if (raw)
			fputs(line, stdout);
		if (strstr(line, "LOST") && strstr(line, "EVENTS"))
			lost_lines++;
		parse_line(line);
	}
	fclose(f);
	full_comms();
	if (lost_lines)
		fprintf(stderr, "toyflow: the trace buffer overflowed: "
			"%d gaps\n", lost_lines);
	return 0;
}

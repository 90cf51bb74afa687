// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: trace lines -> events.  A tracefs 'trace' line is
 *
 *   "   toy_echo-123     [001] d..1.  45.123456: toy_state: ino=..."
 *
 * and the body after "toy_xxx: " is the event's TP_printk() output, as
 * defined in module/toy_trace.h: every sscanf() below quotes the format
 * it parses, which must change with it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "toyflow.h"

struct ev *evs;
int nev, lost_lines;
bool have_sleeps;

static int cap_ev;
static struct sleep {
	int pid;
	double ts;
} *sleeps;		/* a toy task went to sleep (sched_switch, state S/D) */
static int nsleeps, cap_sleeps;

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "toyflow: out of memory\n");
		exit(1);
	}
	return p;
}

bool slept(int pid, double from, double to)
{
	int i;

	for (i = 0; i < nsleeps; i++)
		if (sleeps[i].pid == pid && sleeps[i].ts >= from &&
		    sleeps[i].ts <= to)
			return true;
	return false;
}

/* The timestamp: the token that ends at p (": toy_..."). */
static double timestamp(const char *line, const char *p)
{
	while (p > line && p[-1] != ' ')
		p--;
	return strtod(p, NULL);
}

/*
 * sched:sched_switch, a task going to sleep (the TP_printk of
 * include/trace/events/sched.h): "prev_comm=... prev_pid=155 ...
 * prev_state=S ==> next_comm=...".  sw points at ": sched_switch: ".
 */
static int parse_sleep(const char *line, const char *sw, struct ev *e)
{
	const char *pp = strstr(sw, " prev_pid="), *ps = strstr(sw, " prev_state=");

	if (!pp || !ps || (ps[12] != 'S' && ps[12] != 'D'))
		return -1;
	memset(e, 0, sizeof(*e));
	e->kind = EV_SLEEP;
	e->pid = atoi(pp + 10);
	e->ts = timestamp(line, sw);
	e->pair = -1;
	e->side = SIDE_NONE;
	snprintf(e->type, sizeof(e->type), "-");
	return 0;
}

/* pid and comm from "comm-pid [cpu]", which ends before q; 0 or -1. */
static int parse_task(const char *line, const char *q, struct ev *e)
{
	const char *b = line, *d, *dash, *s = line;
	size_t len;

	for (;;) {	/* the cpu field */
		b = strstr(b, " [");
		if (!b || b > q)
			return -1;
		if (b[2] >= '0' && b[2] <= '9')
			break;
		b++;
	}
	d = b;
	while (d > line && d[-1] == ' ')
		d--;
	/* d: end of "comm-pid" */
	dash = d;
	while (dash > line && dash[-1] != '-')
		dash--;
	if (dash == line)
		return -1;
	e->pid = atoi(dash);
	while (*s == ' ')
		s++;
	len = dash - 1 < s ? 0 : (size_t)(dash - 1 - s);
	if (len >= sizeof(e->comm))
		len = sizeof(e->comm) - 1;
	memcpy(e->comm, s, len);
	e->comm[len] = '\0';
	return 0;
}

/* The TP_printk() output of toy event name: 0 or -1. */
static int parse_body(const char *name, const char *body, struct ev *e)
{
	if (strcmp(name, "toy_state") == 0) {
		e->kind = EV_STATE;
		/* toy_state: "ino=%lu type=%s lport=%u pport=%u %s -> %s" */
		return sscanf(body, "ino=%lu type=%15s lport=%u pport=%u %15s -> %15s",
			      &e->ino, e->type, &e->port, &e->pport, e->what,
			      e->to) == 6 ? 0 : -1;
	}
	if (strcmp(name, "toy_segment") == 0) {
		e->kind = EV_SEG;
		/* toy_segment: "%s sport=%u dport=%u len=%u ino=%lu" */
		return sscanf(body, "%15s sport=%u dport=%u len=%ld ino=%lu",
			      e->what, &e->port, &e->pport, &e->val,
			      &e->ino) == 5 ? 0 : -1;
	}
	if (strcmp(name, "toy_call_enter") == 0 ||
	    strcmp(name, "toy_call_exit") == 0) {
		e->kind = strcmp(name, "toy_call_enter") ? EV_EXIT : EV_ENTER;
		/*
		 * toy_call_enter, toy_call_exit (class toy_call_class):
		 * "%s ino=%lu type=%s port=%u pport=%u ret=%ld"
		 */
		return sscanf(body, "%15s ino=%lu type=%15s port=%u pport=%u ret=%ld",
			      e->what, &e->ino, e->type, &e->port, &e->pport,
			      &e->val) == 6 ? 0 : -1;
	}
	return -1;
}

/* One line of the trace into *e: 0, or -1 if it is no event of ours. */
static int parse_line(const char *line, struct ev *e)
{
	const char *p = strstr(line, ": toy_");
	const char *sw = strstr(line, ": sched_switch: ");
	const char *body;
	char name[32];
	size_t len;
	int n;

	if (line[0] == '#')
		return -1;
	if (!p && sw)
		return parse_sleep(line, sw, e);
	if (!p)
		return -1;
	memset(e, 0, sizeof(*e));
	e->pair = -1;
	e->side = SIDE_NONE;
	len = strcspn(line, "\n");
	if (len >= sizeof(e->raw))
		len = sizeof(e->raw) - 1;
	memcpy(e->raw, line, len);
	e->raw[len] = '\0';
	e->ts = timestamp(line, p);
	if (parse_task(line, p, e) < 0)
		return -1;
	p += 2;		/* "toy_xxx: ..." */
	n = -1;		/* %n is not set unless the ':' matched */
	if (sscanf(p, "%31[^:]:%n", name, &n) != 1 || n < 0)
		return -1;
	body = p + n;
	while (*body == ' ')
		body++;
	return parse_body(name, body, e);
}

static void add_sleep(const struct ev *e)
{
	have_sleeps = true;
	if (nsleeps == cap_sleeps) {
		cap_sleeps = cap_sleeps ? 2 * cap_sleeps : 256;
		sleeps = xrealloc(sleeps, cap_sleeps * sizeof(*sleeps));
	}
	sleeps[nsleeps].pid = e->pid;
	sleeps[nsleeps].ts = e->ts;
	nsleeps++;
}

void read_trace(FILE *f, bool raw)
{
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		struct ev e;

		if (strstr(line, "LOST") && strstr(line, "EVENTS"))
			lost_lines++;
		if (parse_line(line, &e) < 0)
			continue;
		if (e.kind == EV_SLEEP) {
			add_sleep(&e);
			continue;
		}
		if (raw)
			fputs(line, stdout);
		if (nev == cap_ev) {
			cap_ev = cap_ev ? 2 * cap_ev : 256;
			evs = xrealloc(evs, cap_ev * sizeof(*evs));
		}
		evs[nev++] = e;
	}
}

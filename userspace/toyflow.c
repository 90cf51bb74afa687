// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: watch an AF_TOY conversation as the classic client/server
 * sequence diagram, drawn from the kernel's own "toy" tracepoints.
 *
 *   toyflow [--svg FILE] [--raw] [--block-ms N] [--input TRACE] [-- CMD ARGS...]
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
 * running anything.  Needs root (tracefs).  Exit status: the command's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

/* ---------------------------------------------------------------- events */

enum ev_kind { EV_STATE, EV_SEG, EV_ENTER, EV_EXIT, EV_SLEEP };
enum side { SIDE_NONE = -1, SIDE_SERVER = 0, SIDE_CLIENT = 1 };

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
	/* analysis */
	int side;
	int pair;		/* index of the matching enter/exit, or -1 */
	bool blocked;		/* enter/exit pair that blocked */
	bool hidden;		/* folded into its pair's line */
	char raw[512];
};

static struct ev *evs;
static int nev, cap_ev;
static int lost_lines;
static bool have_sleeps;	/* sched_switch events were recorded */
static struct sleep {
	int pid;
	double ts;
} *sleeps;		/* a toy task went to sleep (sched_switch, state S/D) */
static int nsleeps, cap_sleeps;

static bool slept(int pid, double from, double to)
{
	int i;

	for (i = 0; i < nsleeps; i++)
		if (sleeps[i].pid == pid && sleeps[i].ts >= from &&
		    sleeps[i].ts <= to)
			return true;
	return false;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "toyflow: out of memory\n");
		exit(1);
	}
	return p;
}

/* "   toy_echo-123     [001] d..1.  45.123456: toy_state: ino=..." */
static int parse_line(const char *line, struct ev *e)
{
	const char *p = strstr(line, ": toy_");
	const char *q, *b, *d, *sw = strstr(line, ": sched_switch: ");
	const char *body;
	char name[32];
	int n;

	if (line[0] == '#')
		return -1;
	if (!p && sw) {
		/* a task going to sleep: "prev_pid=155 ... prev_state=S" */
		const char *pp = strstr(sw, " prev_pid="), *ps = strstr(sw, " prev_state=");

		if (!pp || !ps || (ps[12] != 'S' && ps[12] != 'D'))
			return -1;
		p = sw;
		memset(e, 0, sizeof(*e));
		e->kind = EV_SLEEP;
		e->pid = atoi(pp + 10);
		q = p;
		while (q > line && q[-1] != ' ')
			q--;
		e->ts = strtod(q, NULL);
		e->pair = -1;
		e->side = SIDE_NONE;
		snprintf(e->type, sizeof(e->type), "-");
		return 0;
	}
	if (!p)
		return -1;
	memset(e, 0, sizeof(*e));
	e->pair = -1;
	e->side = SIDE_NONE;
	{
		size_t len = strcspn(line, "\n");

		if (len >= sizeof(e->raw))
			len = sizeof(e->raw) - 1;
		memcpy(e->raw, line, len);
		e->raw[len] = '\0';
	}

	/* timestamp: the token before ": toy_" */
	q = p;
	while (q > line && q[-1] != ' ')
		q--;
	e->ts = strtod(q, NULL);

	/* pid: "comm-pid [cpu]" -- find the cpu field */
	b = line;
	for (;;) {
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
	{
		const char *dash = d;

		while (dash > line && dash[-1] != '-')
			dash--;
		if (dash == line)
			return -1;
		e->pid = atoi(dash);
		{
			const char *s = line;
			size_t len;

			while (*s == ' ')
				s++;
			len = (size_t)(dash - 1 - s);
			if (dash - 1 < s)
				len = 0;
			if (len >= sizeof(e->comm))
				len = sizeof(e->comm) - 1;
			memcpy(e->comm, s, len);
			e->comm[len] = '\0';
		}
	}

	p += 2;		/* "toy_xxx: ..." */
	if (sscanf(p, "%31[^:]:%n", name, &n) != 1)
		return -1;
	body = p + n;
	while (*body == ' ')
		body++;

	if (strcmp(name, "toy_state") == 0) {
		e->kind = EV_STATE;
		if (sscanf(body, "ino=%lu type=%15s lport=%u pport=%u %15s -> %15s",
			   &e->ino, e->type, &e->port, &e->pport, e->what,
			   e->to) != 6)
			return -1;
	} else if (strcmp(name, "toy_segment") == 0) {
		e->kind = EV_SEG;
		if (sscanf(body, "%15s sport=%u dport=%u len=%ld ino=%lu",
			   e->what, &e->port, &e->pport, &e->val,
			   &e->ino) != 5)
			return -1;
	} else if (strcmp(name, "toy_call_enter") == 0 ||
		   strcmp(name, "toy_call_exit") == 0) {
		e->kind = name[9] == 'e' && name[10] == 'n' ? EV_ENTER : EV_EXIT;
		if (sscanf(body, "%15s ino=%lu type=%15s port=%u pport=%u ret=%ld",
			   e->what, &e->ino, e->type, &e->port, &e->pport,
			   &e->val) != 6)
			return -1;
	} else {
		return -1;
	}
	return 0;
}

static void read_trace(FILE *f, bool raw)
{
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		struct ev e;

		if (strstr(line, "LOST") && strstr(line, "EVENTS"))
			lost_lines++;
		if (parse_line(line, &e) < 0)
			continue;
		if (e.kind == EV_SLEEP) {
			have_sleeps = true;
			if (nsleeps == cap_sleeps) {
				cap_sleeps = cap_sleeps ? 2 * cap_sleeps : 256;
				sleeps = xrealloc(sleeps,
						  cap_sleeps * sizeof(*sleeps));
			}
			sleeps[nsleeps].pid = e.pid;
			sleeps[nsleeps].ts = e.ts;
			nsleeps++;
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

/* ------------------------------------------------------------- analysis */

#define MAXSET 256
struct uset {
	int n;
	unsigned long v[MAXSET];
};

static bool uset_has(const struct uset *s, unsigned long v)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

static int uset_add(struct uset *s, unsigned long v)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return i;
	if (s->n < MAXSET)
		s->v[s->n++] = v;
	return s->n - 1;
}

static struct uset server_ports, server_pids, client_pids, listener_inos;
static struct uset client_ports;	/* in order of appearance */

/* ino -> side, learnt from events that carry a port */
static struct {
	unsigned long ino;
	int side;
} ino_side[4096];
static int n_ino_side;

static int lookup_ino_side(unsigned long ino)
{
	int i;

	if (!ino)
		return SIDE_NONE;
	for (i = 0; i < n_ino_side; i++)
		if (ino_side[i].ino == ino)
			return ino_side[i].side;
	return SIDE_NONE;
}

static void learn_ino_side(unsigned long ino, int side)
{
	if (!ino || side == SIDE_NONE || lookup_ino_side(ino) != SIDE_NONE)
		return;
	if (n_ino_side < (int)(sizeof(ino_side) / sizeof(ino_side[0]))) {
		ino_side[n_ino_side].ino = ino;
		ino_side[n_ino_side].side = side;
		n_ino_side++;
	}
}

static int side_by_port(unsigned int port)
{
	if (!port)
		return SIDE_NONE;
	return uset_has(&server_ports, port) ? SIDE_SERVER : SIDE_CLIENT;
}

/* The client port a (server- or client-side) event belongs to, or 0. */
static unsigned int client_port_of(const struct ev *e)
{
	if (e->side == SIDE_SERVER)
		return uset_has(&server_ports, e->pport) ? 0 : e->pport;
	if (e->side == SIDE_CLIENT && !uset_has(&server_ports, e->port))
		return e->port;
	return 0;
}

static void analyse(double block_sec)
{
	int i, j;

	/* the server: whoever listens (port from listen exit or LISTEN state) */
	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];

		if (!strcmp(e->type, "DGRAM"))
			continue;
		if (e->kind == EV_STATE && !strcmp(e->to, "LISTEN") && e->port) {
			uset_add(&server_ports, e->port);
			uset_add(&listener_inos, e->ino);
			uset_add(&server_pids, e->pid);
		}
		/* tracing began after listen(): whoever answers a SYN */
		if (e->kind == EV_SEG && !strcmp(e->what, "SYN-ACK") && e->port)
			uset_add(&server_ports, e->port);
		if (e->kind == EV_EXIT && !strcmp(e->what, "listen") &&
		    e->val == 0 && e->port) {
			uset_add(&server_ports, e->port);
			uset_add(&listener_inos, e->ino);
			uset_add(&server_pids, e->pid);
		}
	}

	/* pair call enter/exit per task */
	for (i = 0; i < nev; i++) {
		if (evs[i].kind != EV_ENTER)
			continue;
		for (j = i + 1; j < nev; j++) {
			if (evs[j].pid != evs[i].pid)
				continue;
			if (evs[j].kind == EV_ENTER)
				break;	/* lost exit */
			if (evs[j].kind == EV_EXIT &&
			    !strcmp(evs[j].what, evs[i].what)) {
				evs[i].pair = j;
				evs[j].pair = i;
				break;
			}
		}
	}

	/* sides from ports, then inodes, then pids */
	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];

		if (!strcmp(e->type, "DGRAM"))
			continue;
		e->side = side_by_port(e->port);
		if (e->side != SIDE_NONE && e->kind != EV_SEG)
			learn_ino_side(e->ino, e->side);
	}
	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];

		if (!strcmp(e->type, "DGRAM"))
			continue;
		if (e->side == SIDE_NONE && e->kind != EV_SEG)
			e->side = lookup_ino_side(e->ino);
		if (e->side == SIDE_NONE && e->pair >= 0)
			e->side = side_by_port(evs[e->pair].port);
		if (e->side == SIDE_NONE && e->pair >= 0)
			e->side = lookup_ino_side(evs[e->pair].ino);
		if (e->side == SIDE_NONE && uset_has(&server_pids, e->pid))
			e->side = SIDE_SERVER;
		if (e->side == SIDE_NONE && e->kind != EV_SEG)
			e->side = server_ports.n ? SIDE_CLIENT : SIDE_SERVER;
		if (e->side == SIDE_NONE)
			e->side = SIDE_CLIENT;
	}
	/* an exit belongs where its enter was (release's exit has no port) */
	for (i = 0; i < nev; i++)
		if (evs[i].kind == EV_EXIT && evs[i].pair >= 0)
			evs[i].side = evs[evs[i].pair].side;
	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];

		if (e->kind != EV_ENTER && e->kind != EV_EXIT)
			continue;
		if (e->side == SIDE_CLIENT)
			uset_add(&client_pids, e->pid);
		if (e->side == SIDE_SERVER)
			uset_add(&server_pids, e->pid);
	}

	/* blocking: other tasks' events in between, or a long wait */
	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];

		if (e->kind != EV_ENTER || e->pair < 0)
			continue;
		j = e->pair;
		if (j == i + 1) {
			e->hidden = true;	/* one line: "call() = ret" */
			continue;
		}
		if (have_sleeps) {
			/* exact: the task slept inside the call */
			e->blocked = slept(e->pid, e->ts, evs[j].ts);
		} else {
			/* no scheduler events: another task ran meanwhile */
			if (evs[j].ts - e->ts >= block_sec)
				e->blocked = true;
			for (int k = i + 1; k < j && !e->blocked; k++)
				if (evs[k].pid != e->pid)
					e->blocked = true;
		}
		evs[j].blocked = e->blocked;
	}
}

/* ------------------------------------------------------------ the rows */

enum row_kind { ROW_NOTE, ROW_ARROW, ROW_DIVIDER };
enum note_kind { NOTE_CALL, NOTE_STATE, NOTE_INFO };

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

static struct row *rows;
static int nrows, cap_rows;

static struct row *add_row(enum row_kind kind, int side, int note, double ts,
			   const char *fmt, ...)
{
	struct row *r;
	va_list ap;

	if (nrows == cap_rows) {
		cap_rows = cap_rows ? 2 * cap_rows : 256;
		rows = xrealloc(rows, cap_rows * sizeof(*rows));
	}
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->side = side;
	r->note = note;
	r->ts = ts;
	r->block_begin = -1;
	r->block_end = -1;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	return r;
}

static const char *errname(long ret)
{
	const char *s = NULL;

	if (ret >= 0)
		return "";
	s = strerrorname_np((int)-ret);
	return s ? s : "?";
}

static void fmt_ret(char *buf, size_t len, long ret)
{
	if (ret < 0)
		snprintf(buf, len, "%ld %s", ret, errname(ret));
	else
		snprintf(buf, len, "%ld", ret);
}

/* Port a connect() was aimed at: from its exit or the SYN it sent. */
static unsigned int connect_target(int enter, int exit_)
{
	int k, end = exit_ >= 0 ? exit_ : nev;

	if (exit_ >= 0 && evs[exit_].pport)
		return evs[exit_].pport;
	for (k = enter; k < end; k++)
		if (evs[k].kind == EV_SEG && !strcmp(evs[k].what, "SYN") &&
		    evs[k].pid == evs[enter].pid)
			return evs[k].pport;
	return 0;
}

/* "connect(port 7)", "recv()", ... : the call as the program wrote it */
static void call_name(char *buf, size_t len, int i)
{
	const struct ev *e = &evs[i];
	int enter = e->kind == EV_ENTER ? i : e->pair;
	int exit_ = e->kind == EV_EXIT ? i : e->pair;
	const struct ev *x = exit_ >= 0 ? &evs[exit_] : e;
	const char *w = e->what;

	if (!strcmp(w, "bind"))
		snprintf(buf, len, "bind(port %u)", x->port);
	else if (!strcmp(w, "connect"))
		snprintf(buf, len, "connect(port %u)",
			 connect_target(enter >= 0 ? enter : i, exit_));
	else if (!strcmp(w, "sendmsg"))
		snprintf(buf, len, "send()");
	else if (!strcmp(w, "recvmsg"))
		snprintf(buf, len, "recv()");
	else if (!strcmp(w, "release"))
		snprintf(buf, len, "close(%s)",
			 uset_has(&listener_inos,
				  evs[enter >= 0 ? enter : i].ino) ?
			 "listener" : "conn");
	else
		snprintf(buf, len, "%s()", w);
}

/* The outcome of a call exit: "= 5", "= 0 (EOF)", "-> port 32768" ... */
static void call_result(char *buf, size_t len, const struct ev *x)
{
	char r[48];

	fmt_ret(r, sizeof(r), x->val);
	if (!strcmp(x->what, "socket"))
		snprintf(buf, len, "-> ino %lu", x->ino);
	else if (!strcmp(x->what, "accept") && x->val == 0)
		snprintf(buf, len, "-> port %u", x->pport);
	else if (!strcmp(x->what, "recvmsg") && x->val == 0)
		snprintf(buf, len, "= 0 (EOF)");
	else if (!strcmp(x->what, "release"))
		buf[0] = '\0';
	else
		snprintf(buf, len, "= %s", r);
}

/* The client port of event @i's connection (0 if none can be told). */
static unsigned int conn_port(int i)
{
	const struct ev *e = &evs[i];
	unsigned int cp;
	int k;

	if (e->kind == EV_SEG)
		return uset_has(&server_ports, e->port) ? e->pport :
		       uset_has(&server_ports, e->pport) ? e->port : 0;
	cp = client_port_of(e);
	if (!cp && e->pair >= 0)
		cp = client_port_of(&evs[e->pair]);
	if (!cp && e->side == SIDE_CLIENT) {
		/* socket()/connect enter: look ahead on this inode */
		for (k = i; k < nev && !cp; k++)
			if (evs[k].ino == e->ino && evs[k].side == SIDE_CLIENT)
				cp = client_port_of(&evs[k]);
	}
	return cp;
}

static char client_prefix[32];

/* Client notes get "[port] " when there are several clients. */
static const char *cprefix(const struct ev *e)
{
	unsigned int cp;

	client_prefix[0] = '\0';
	if (e->side != SIDE_CLIENT || client_ports.n < 2)
		return client_prefix;
	cp = conn_port((int)(e - evs));
	if (cp)
		snprintf(client_prefix, sizeof(client_prefix), "[%u] ", cp);
	return client_prefix;
}

static void build_rows(void)
{
	int open[2] = { 0, 0 };	/* blocked calls in progress per side */
	static struct uset seen;
	int i, r;

	for (i = 0; i < nev; i++) {
		unsigned int cp = strcmp(evs[i].type, "DGRAM") ? conn_port(i) : 0;

		if (cp)
			uset_add(&client_ports, cp);
	}

	for (i = 0; i < nev; i++) {
		struct ev *e = &evs[i];
		unsigned int cp;
		char name[64], res[64];
		struct row *row;

		if (!strcmp(e->type, "DGRAM"))
			continue;

		/* a new client port: a new connection */
		cp = conn_port(i);
		if (cp && !uset_has(&seen, cp)) {
			int nconn = uset_add(&seen, cp) + 1;

			if (nconn > 1)
				add_row(ROW_DIVIDER, SIDE_NONE, NOTE_INFO, e->ts,
					"connection %d: client port %u", nconn,
					cp);
		}

		switch (e->kind) {
		case EV_SLEEP:
			break;
		case EV_STATE: {
			const char *who = "";

			if (e->ino == 0)
				who = "new conn: ";
			else if (uset_has(&listener_inos, e->ino))
				who = "listener: ";
			add_row(ROW_NOTE, e->side, NOTE_STATE, e->ts,
				"%s%s%s -> %s", cprefix(e), who, e->what, e->to);
			break;
		}
		case EV_SEG: {
			int from = uset_has(&server_ports, e->port) ?
				SIDE_SERVER : SIDE_CLIENT;
			bool nobody = from == SIDE_CLIENT &&
				!uset_has(&server_ports, e->pport);

			if (!strcmp(e->what, "DATA"))
				add_row(ROW_ARROW, from, NOTE_INFO, e->ts,
					"DATA len=%ld", e->val);
			else if (nobody)
				add_row(ROW_ARROW, from, NOTE_INFO, e->ts,
					"%s (port %u: nobody listens)",
					e->what, e->pport);
			else
				add_row(ROW_ARROW, from, NOTE_INFO, e->ts, "%s",
					e->what);
			break;
		}
		case EV_ENTER:
			if (e->hidden)
				break;
			call_name(name, sizeof(name), i);
			row = add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts,
				      "%s%s %s", cprefix(e), name,
				      e->blocked ? "blocks..." : "...");
			if (e->blocked) {
				row->block_begin = e->side;
				open[e->side]++;
			}
			break;
		case EV_EXIT:
			call_name(name, sizeof(name), i);
			call_result(res, sizeof(res), e);
			if (e->pair < 0 || evs[e->pair].hidden) {
				add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts,
					"%s%s%s%s", cprefix(e), name,
					res[0] ? " " : "", res);
			} else if (e->blocked) {
				double ms = e->pair >= 0 ?
					(e->ts - evs[e->pair].ts) * 1e3 : 0;

				row = add_row(ROW_NOTE, e->side, NOTE_CALL,
					      e->ts, "%s%s returns%s%s [%.*fms]",
					      cprefix(e), name, res[0] ? " " : "",
					      res, ms < 10 ? 1 : 0, ms);
				row->block_end = e->side;
				if (open[e->side] > 0)
					open[e->side]--;
			} else {
				add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts,
					"%s... %s%s%s", cprefix(e), name,
					res[0] ? " " : "", res);
			}
			break;
		}
	}

	/* lifeline state per row: waiting while a blocked call is open */
	open[0] = open[1] = 0;
	for (r = 0; r < nrows; r++) {
		struct row *w = &rows[r];

		if (w->block_end >= 0 && open[w->block_end] > 0)
			open[w->block_end]--;
		w->wait[0] = open[0] > 0;
		w->wait[1] = open[1] > 0;
		if (w->block_begin >= 0)
			open[w->block_begin]++;
	}
}

/* ---------------------------------------------------------- text output */

#define TW 8	/* time column */
#define LW 42	/* server notes, right-aligned against the server lifeline */
#define AW 24	/* between the lifelines */

static void pids_str(char *buf, size_t len, const struct uset *s)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < s->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%lu", i ? "," : "",
				s->v[i]);
}

static void title(char *buf, size_t len, int side)
{
	char pids[64], ports[64];

	if (side == SIDE_SERVER) {
		pids_str(pids, sizeof(pids), &server_pids);
		pids_str(ports, sizeof(ports), &server_ports);
		snprintf(buf, len, "SERVER port %s (pid %s)",
			 ports[0] ? ports : "?", pids[0] ? pids : "?");
	} else {
		pids_str(pids, sizeof(pids), &client_pids);
		pids_str(ports, sizeof(ports), &client_ports);
		snprintf(buf, len, "CLIENT port %s (pid %s)",
			 ports[0] ? ports : "?", pids[0] ? pids : "?");
	}
}

static void text_arrow(char *mid, const char *label, bool right)
{
	int l = (int)strlen(label), start, k;

	if (l > AW - 4)
		l = AW - 4;
	for (k = 0; k < AW; k++)
		mid[k] = '-';
	mid[AW] = '\0';
	start = (AW - l - 2) / 2 + 1;
	mid[start - 1] = ' ';
	memcpy(mid + start, label, l);
	mid[start + l] = ' ';
	if (right)
		mid[AW - 1] = '>';
	else
		mid[0] = '<';
}

static void print_text(FILE *out, double t0)
{
	char ts[TW + 24], left[LW + 168], mid[AW + 1], st[160], ct[160];
	int r;

	title(st, sizeof(st), SIDE_SERVER);
	title(ct, sizeof(ct), SIDE_CLIENT);
	fprintf(out, "%*s%*s%*s%s\n", TW, "ms", LW, st, AW + 3, "", ct);
	fprintf(out, "%*s%*s|%*s|\n", TW, "", LW, "", AW, "");
	for (r = 0; r < nrows; r++) {
		const struct row *w = &rows[r];
		char sl = w->wait[0] ? ':' : '|';
		char cl = w->wait[1] ? ':' : '|';
		const char *ltxt = "", *rtxt = "";

		snprintf(ts, sizeof(ts), "%*.2f", TW, (w->ts - t0) * 1e3);
		memset(mid, ' ', AW);
		mid[AW] = '\0';
		if (w->kind == ROW_DIVIDER) {
			char lab[128];
			int l;

			snprintf(lab, sizeof(lab), " %s ", w->text);
			l = (int)strlen(lab);
			fprintf(out, "%s %.*s", ts, LW, "- - - - - - - - - - - - - - - - - - - - -");
			fprintf(out, "%s", lab);
			fprintf(out, "%.*s\n", l < 60 ? 60 - l : 2, "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - ");
			continue;
		}
		if (w->kind == ROW_ARROW)
			text_arrow(mid, w->text, w->side == SIDE_SERVER);
		else if (w->side == SIDE_SERVER)
			ltxt = w->text;
		else
			rtxt = w->text;
		if ((int)strlen(ltxt) > LW - 1) {
			/* too long for the left column: own line above */
			fprintf(out, "%s %s\n", ts, ltxt);
			ltxt = "";
		}
		if (ltxt[0])
			snprintf(left, sizeof(left), "%*s ", LW - 1, ltxt);
		else
			snprintf(left, sizeof(left), "%*s", LW, "");
		fprintf(out, "%s%s%c%s%c%s%s\n", ts, left, sl, mid, cl,
			rtxt[0] ? " " : "", rtxt);
	}
	fprintf(out, "%*s%*s|%*s|\n", TW, "", LW, "", AW, "");
	fprintf(out, "\n%d toy events. '...': the call goes on (events in between "
		"happen inside it);\n':' on a lifeline: the task sleeps, blocked in "
		"the call (%s).\n", nev, have_sleeps ? "sched_switch" :
		"no sched events: guessed from interleaving");
	if (lost_lines)
		fprintf(out, "WARNING: the trace buffer lost events\n");
}

/* ----------------------------------------------------------- SVG output */

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static int write_svg(const char *path, double t0)
{
	const int row_h = 22, top = 70, xs = 400, xc = 720, width = 1140;
	int height = top + (nrows + 2) * row_h + 30;
	int bstart[2] = { -1, -1 };
	char st[160], ct[160];
	FILE *f;
	int r;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	title(st, sizeof(st), SIDE_SERVER);
	title(ct, sizeof(ct), SIDE_CLIENT);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
		"font-size=\"12\">\n", width, height, width, height);
	fprintf(f, "<title>AF_TOY sequence diagram (toyflow)</title>\n"
		"<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" "
		"refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" "
		"fill=\"#333\"/></marker></defs>\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
		width, height);
	fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" "
		"font-weight=\"bold\">", xs);
	xml_escape(f, st);
	fprintf(f, "</text>\n<text x=\"%d\" y=\"30\" text-anchor=\"middle\" "
		"font-weight=\"bold\">", xc);
	xml_escape(f, ct);
	fprintf(f, "</text>\n<text x=\"10\" y=\"30\" fill=\"#888\">ms</text>\n");
	/* lifelines */
	fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" "
		"stroke-width=\"2\"/>\n", xs, xs, height - 20);
	fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" "
		"stroke-width=\"2\"/>\n", xc, xc, height - 20);

	for (r = 0; r < nrows; r++) {
		const struct row *w = &rows[r];
		int y = top + r * row_h;
		int s;

		fprintf(f, "<text x=\"10\" y=\"%d\" fill=\"#888\">%.3f</text>\n",
			y + 4, (w->ts - t0) * 1e3);
		/* activation bars for blocked calls */
		for (s = 0; s < 2; s++) {
			if (w->block_end == s && bstart[s] >= 0) {
				int x = s == SIDE_SERVER ? xs : xc;

				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" "
					"height=\"%d\" fill=\"#f4c7c3\" "
					"stroke=\"#c0392b\"><title>blocked</title></rect>\n",
					x - 5, bstart[s], y - bstart[s]);
				bstart[s] = -1;
			}
			if (w->block_begin == s)
				bstart[s] = y;
		}
		if (w->kind == ROW_DIVIDER) {
			fprintf(f, "<line x1=\"60\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
				"stroke=\"#999\" stroke-dasharray=\"6,4\"/>\n",
				y, width - 20, y);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
				"fill=\"#555\">", (xs + xc) / 2, y - 4);
			xml_escape(f, w->text);
			fprintf(f, "</text>\n");
		} else if (w->kind == ROW_ARROW) {
			int x1 = w->side == SIDE_SERVER ? xs : xc;
			int x2 = w->side == SIDE_SERVER ? xc : xs;
			const char *col = !strncmp(w->text, "RST", 3) ? "#c0392b" :
				!strncmp(w->text, "DATA", 4) ? "#1f6fb2" : "#333";

			fprintf(f, "<g class=\"segment\"><line x1=\"%d\" y1=\"%d\" "
				"x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
				"marker-end=\"url(#arrow)\"/>\n", x1, y,
				x2 + (x2 > x1 ? -2 : 2), y, col);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
				"fill=\"%s\">", (xs + xc) / 2, y - 4, col);
			xml_escape(f, w->text);
			fprintf(f, "</text></g>\n");
		} else {
			bool srv = w->side == SIDE_SERVER;
			int x = srv ? xs - 12 : xc + 12;
			int tw = (int)strlen(w->text) * 7 + 8;

			if (w->note == NOTE_STATE)
				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
					"height=\"17\" rx=\"3\" fill=\"#fff6c8\" "
					"stroke=\"#d8c36a\"/>\n",
					srv ? x - tw + 4 : x - 4, y - 12, tw);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s>",
				x, y + 1, srv ? "end" : "start",
				w->note == NOTE_CALL ? " font-weight=\"bold\"" : "");
			xml_escape(f, w->text);
			fprintf(f, "</text>\n");
		}
	}
	fprintf(f, "</svg>\n");
	if (fclose(f)) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- tracefs */

static const char *tracefs;

static int tfs_write(const char *file, const char *val, bool quiet)
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

static char saved_clock[32];
static bool sched_was_on, sched_on;

static int tracing_start(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[PATH_MAX], buf[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/toy/enable", dirs[i]);
		if (access(path, W_OK) == 0) {
			tracefs = dirs[i];
			break;
		}
	}
	if (!tracefs) {
		fprintf(stderr, "toyflow: no writable events/toy in "
			"/sys/kernel/tracing (is af_toy loaded, tracefs mounted, "
			"are you root?)\n");
		return -1;
	}
	/* a global clock keeps the two CPUs' events in order */
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
	tfs_write("events/toy/enable", "0", false);
	tfs_write("trace_clock", "global", true);
	/* who slept inside a call: sched_switch away in state S or D */
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
	if (tfs_write("trace", "", false))	/* clears the buffer */
		return -1;
	tfs_write("tracing_on", "1", false);
	return tfs_write("events/toy/enable", "1", false);
}

static void tracing_stop(void)
{
	tfs_write("events/toy/enable", "0", false);
	if (sched_on)
		tfs_write("events/sched/sched_switch/enable", "0", true);
}

static void tracing_restore(void)
{
	if (sched_on)
		tfs_write("events/sched/sched_switch/filter", "0", true);
	if (saved_clock[0])
		tfs_write("trace_clock", saved_clock, true);
}

static int tracing_read(bool raw)
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

/* ------------------------------------------------------------- commands */

static char self_dir[PATH_MAX];

static void exec_tool(char **argv)
{
	char path[PATH_MAX + 64];

	execvp(argv[0], argv);
	/* not in PATH: try next to toyflow itself */
	if (self_dir[0] && !strchr(argv[0], '/')) {
		snprintf(path, sizeof(path), "%s/%s", self_dir, argv[0]);
		execv(path, argv);
	}
	fprintf(stderr, "toyflow: cannot run %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

static pid_t spawn(char **argv)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("toyflow: fork");
		return -1;
	}
	if (pid == 0)
		exec_tool(argv);
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether /proc/net/toy shows a STREAM listener on port. */
static bool listening(unsigned int port)
{
	char line[256], type[32], state[32];
	unsigned long ino;
	unsigned int lport;
	bool found = false;
	FILE *f = fopen("/proc/net/toy", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lu %31s %31s %u", &ino, type, state,
			   &lport) == 4 && !strcmp(state, "LISTEN") &&
		    lport == port)
			found = true;
	fclose(f);
	return found;
}

/* Whether task @pid sleeps in accept()/accept4() (/proc/PID/syscall). */
static bool in_accept(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd, nr;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	nr = atoi(buf);
	return nr == 43 || nr == 288;	/* x86_64 accept, accept4 */
}

/* The echo demo: server 7 --once in the background, one client. */
static int run_demo(void)
{
	char *srv[] = { "toy_echo", "server", "7", "--once", NULL };
	char *cli[] = { "toy_echo", "client", "7", "hello", "world", NULL };
	pid_t s, c;
	int i, rc, src;

	if (listening(7)) {
		fprintf(stderr, "toyflow: port 7 is already in use\n");
		return 1;
	}
	s = spawn(srv);
	if (s < 0)
		return 1;
	for (i = 0; i < 500 && !listening(7); i++) {
		if (waitpid(s, NULL, WNOHANG) == s) {
			fprintf(stderr, "toyflow: the server exited early\n");
			return 1;
		}
		msleep(10);
	}
	/* let the server block in accept() first, as in the textbook */
	for (i = 0; i < 200 && !in_accept(s); i++)
		msleep(10);
	c = spawn(cli);
	rc = c < 0 ? 1 : wait_status(c);
	/* the --once server exits after the client's FIN; do not hang */
	for (i = 0; i < 1000; i++) {
		if (waitpid(s, &src, WNOHANG) == s)
			return rc;
		msleep(10);
	}
	fprintf(stderr, "toyflow: the server did not exit; killing it\n");
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
	return rc ? rc : 1;
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: toyflow [--svg FILE] [--raw] [--block-ms N] [--input TRACE]"
		" [-- CMD ARGS...]\n"
		"  Runs CMD (default: the toy_echo demo) with the toy tracepoints\n"
		"  enabled and draws the client/server sequence diagram.\n"
		"  --svg FILE    also write the diagram as SVG\n"
		"  --raw         print the raw toy trace lines first\n"
		"  --block-ms N  without sched_switch events: a call taking N ms or\n"
		"                more blocked (default 200)\n"
		"  --input TRACE draw a saved tracefs 'trace' file, run nothing\n");
	exit(rc);
}

int main(int argc, char **argv)
{
	const char *svg = NULL, *input = NULL;
	bool raw = false;
	double block_ms = 200;
	char **cmd = NULL;
	int i, rc = 0;
	ssize_t n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			if (i + 1 < argc)
				cmd = argv + i + 1;
			break;
		} else if (!strcmp(argv[i], "--svg") && i + 1 < argc) {
			svg = argv[++i];
		} else if (!strcmp(argv[i], "--raw")) {
			raw = true;
		} else if (!strcmp(argv[i], "--block-ms") && i + 1 < argc) {
			block_ms = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
			input = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(0);
		} else {
			usage(2);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	if (n > 0) {
		char *slash;

		self_dir[n] = '\0';
		slash = strrchr(self_dir, '/');
		if (slash)
			*slash = '\0';
	}

	if (input) {
		FILE *f = strcmp(input, "-") ? fopen(input, "r") : stdin;

		if (!f) {
			fprintf(stderr, "toyflow: %s: %s\n", input,
				strerror(errno));
			return 1;
		}
		read_trace(f, raw);
		if (f != stdin)
			fclose(f);
	} else {
		pid_t pid;

		if (tracing_start()) {
			if (tracefs) {
				tracing_stop();
				tracing_restore();
			}
			return 1;
		}
		if (cmd) {
			pid = spawn(cmd);
			rc = pid < 0 ? 1 : wait_status(pid);
		} else {
			rc = run_demo();
		}
		tracing_stop();
		if (raw)
			printf("\n== raw toy events (%s/trace)\n", tracefs);
		if (tracing_read(raw))
			rc = rc ? rc : 1;
		tracing_restore();
	}

	if (!nev) {
		printf("toyflow: no toy events were recorded\n");
		return rc ? rc : 1;
	}
	analyse(block_ms / 1e3);
	build_rows();
	printf("\n== AF_TOY sequence diagram (from %d trace events)\n\n", nev);
	print_text(stdout, evs[0].ts);
	if (svg) {
		if (write_svg(svg, evs[0].ts))
			return rc ? rc : 1;
		printf("SVG written to %s\n", svg);
	}
	return rc;
}

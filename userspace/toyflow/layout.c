// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: the analysed events -> the rows of the diagram, one a line:
 * notes next to a lifeline (calls, state changes), arrows between them
 * (segments) and dividers between connections.  text.c and svg.c only
 * draw these rows.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>

#include "toyflow.h"

struct row *rows;
int nrows;
static int cap_rows;

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

static void row_state(const struct ev *e)
{
	const char *who = "";

	if (e->ino == 0)
		who = "new conn: ";
	else if (uset_has(&listener_inos, e->ino))
		who = "listener: ";
	add_row(ROW_NOTE, e->side, NOTE_STATE, e->ts, "%s%s%s -> %s",
		cprefix(e), who, e->what, e->to);
}

static void row_segment(const struct ev *e)
{
	int from = uset_has(&server_ports, e->port) ? SIDE_SERVER : SIDE_CLIENT;
	bool nobody = from == SIDE_CLIENT && !uset_has(&server_ports, e->pport);

	if (!strcmp(e->what, "DATA"))
		add_row(ROW_ARROW, from, NOTE_INFO, e->ts, "DATA len=%ld",
			e->val);
	else if (nobody)
		add_row(ROW_ARROW, from, NOTE_INFO, e->ts,
			"%s (port %u: nobody listens)", e->what, e->pport);
	else
		add_row(ROW_ARROW, from, NOTE_INFO, e->ts, "%s", e->what);
}

static void row_enter(int i)
{
	const struct ev *e = &evs[i];
	struct row *row;
	char name[64];

	if (e->hidden)
		return;
	call_name(name, sizeof(name), i);
	row = add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts, "%s%s %s",
		      cprefix(e), name, e->blocked ? "blocks..." : "...");
	if (e->blocked)
		row->block_begin = e->side;
}

static void row_exit(int i)
{
	const struct ev *e = &evs[i];
	char name[64], res[64];
	const char *sp;
	struct row *row;
	double ms;

	call_name(name, sizeof(name), i);
	call_result(res, sizeof(res), e);
	sp = res[0] ? " " : "";
	if (e->pair < 0 || evs[e->pair].hidden) {
		add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts, "%s%s%s%s",
			cprefix(e), name, sp, res);
	} else if (e->blocked) {
		ms = (e->ts - evs[e->pair].ts) * 1e3;
		row = add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts,
			      "%s%s returns%s%s [%.*fms]", cprefix(e), name,
			      sp, res, ms < 10 ? 1 : 0, ms);
		row->block_end = e->side;
	} else {
		add_row(ROW_NOTE, e->side, NOTE_CALL, e->ts, "%s... %s%s%s",
			cprefix(e), name, sp, res);
	}
}

/* Lifeline state per row: waiting while a blocked call is open. */
static void mark_waits(void)
{
	int open[2] = { 0, 0 };
	int r;

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

void build_rows(void)
{
	static struct uset seen;
	const struct ev *e;
	unsigned int cp;
	int i, nconn;

	for (i = 0; i < nev; i++) {
		cp = strcmp(evs[i].type, "DGRAM") ? conn_port(i) : 0;
		if (cp)
			uset_add(&client_ports, cp);
	}
	for_each_conn_ev(e) {
		i = (int)(e - evs);
		/* a new client port: a new connection */
		cp = conn_port(i);
		if (cp && !uset_has(&seen, cp)) {
			nconn = uset_add(&seen, cp) + 1;
			if (nconn > 1)
				add_row(ROW_DIVIDER, SIDE_NONE, NOTE_INFO, e->ts,
					"connection %d: client port %u", nconn,
					cp);
		}
		if (e->kind == EV_STATE)
			row_state(e);
		else if (e->kind == EV_SEG)
			row_segment(e);
		else if (e->kind == EV_ENTER)
			row_enter(i);
		else if (e->kind == EV_EXIT)
			row_exit(i);
	}
	mark_waits();
}

static void pids_str(char *buf, size_t len, const struct uset *s)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < s->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%lu", i ? "," : "",
				s->v[i]);
}

void title(char *buf, size_t len, int side)
{
	char pids[64], ports[64];
	bool srv = side == SIDE_SERVER;

	pids_str(pids, sizeof(pids), srv ? &server_pids : &client_pids);
	pids_str(ports, sizeof(ports), srv ? &server_ports : &client_ports);
	snprintf(buf, len, "%s port %s (pid %s)", srv ? "SERVER" : "CLIENT",
		 ports[0] ? ports : "?", pids[0] ? pids : "?");
}

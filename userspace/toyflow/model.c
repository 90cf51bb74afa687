// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: events -> the model of the conversation.  The server is
 * whoever listens; every event gets a side (its lifeline), every call
 * enter its exit, and a call that slept in between is "blocked".
 */
#define _GNU_SOURCE
#include <string.h>

#include "toyflow.h"

struct uset server_ports, server_pids, client_pids, listener_inos;
struct uset client_ports;

bool uset_has(const struct uset *s, unsigned long v)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

int uset_add(struct uset *s, unsigned long v)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return i;
	if (s->n < MAXSET)
		s->v[s->n++] = v;
	return s->n - 1;
}

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

/* The server: whoever listens (port from listen exit or LISTEN state). */
static void find_server(void)
{
	struct ev *e;

	for_each_conn_ev(e) {
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
}

/* Pair every call enter with the same task's exit of the same call. */
static void pair_calls(void)
{
	int i, j;

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
}

/* The side of event e when its port does not tell. */
static int guess_side(const struct ev *e)
{
	int side = SIDE_NONE;

	if (e->kind != EV_SEG)
		side = lookup_ino_side(e->ino);
	if (side == SIDE_NONE && e->pair >= 0)
		side = side_by_port(evs[e->pair].port);
	if (side == SIDE_NONE && e->pair >= 0)
		side = lookup_ino_side(evs[e->pair].ino);
	if (side == SIDE_NONE && uset_has(&server_pids, e->pid))
		side = SIDE_SERVER;
	if (side == SIDE_NONE && e->kind != EV_SEG)
		side = server_ports.n ? SIDE_CLIENT : SIDE_SERVER;
	return side == SIDE_NONE ? SIDE_CLIENT : side;
}

/* Sides from ports, then inodes, then pids. */
static void assign_sides(void)
{
	struct ev *e;
	int i;

	for_each_conn_ev(e) {
		e->side = side_by_port(e->port);
		if (e->side != SIDE_NONE && e->kind != EV_SEG)
			learn_ino_side(e->ino, e->side);
	}
	for (i = 0; i < nev; i++)
		if (strcmp(evs[i].type, "DGRAM") && evs[i].side == SIDE_NONE)
			evs[i].side = guess_side(&evs[i]);
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
}

/* Blocking: the task slept in the call, or (no sched events) others ran. */
static void mark_blocking(double block_sec)
{
	int i, j, k;

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
			for (k = i + 1; k < j && !e->blocked; k++)
				if (evs[k].pid != e->pid)
					e->blocked = true;
		}
		evs[j].blocked = e->blocked;
	}
}

void analyse(double block_sec)
{
	find_server();
	pair_calls();
	assign_sides();
	mark_blocking(block_sec);
}

unsigned int conn_port(int i)
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

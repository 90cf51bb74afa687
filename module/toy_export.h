/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small API af_toy.ko exports (EXPORT_SYMBOL_GPL) to its companion
 * modules, today only af_toy_diag.ko.  Nothing here exposes struct
 * toy_sock: a walker gets a snapshot of each socket, so the companion
 * needs no knowledge of af_toy's locking.
 *
 * Locking and references: toy_walk_socks() holds a lock of the netns's
 * socket index (a spinlock) while it calls walk->fn, which must not sleep
 * and must not call back into af_toy; between two sockets it may drop the
 * lock and reschedule, so it is called where sleeping is allowed.  The
 * snapshot is only valid during the call.  A module that calls these
 * functions holds a reference on af_toy.ko through its symbol dependency,
 * so af_toy cannot go away under it.
 */
#ifndef _TOY_EXPORT_H
#define _TOY_EXPORT_H

#include <linux/types.h>
#include <linux/uidgid.h>

struct net;

/* One socket, as seen at one instant. */
struct toy_sock_info {
	unsigned long ino;	/* 0 for a child not yet accepted */
	kuid_t uid;
	u32 port;		/* 0 while unbound */
	u32 peer_port;		/* DGRAM: the connected destination */
	u32 rqueue;		/* unread bytes queued; a listener's accept queue */
	u32 squeue;		/* bytes the peer has not read; a listener's backlog */
	u8 type;		/* SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM */
	u8 state;		/* TCP_* numbering */
	u8 shutdown;		/* RCV_SHUTDOWN | SEND_SHUTDOWN */
};

/* The address family af_toy registered (its family= parameter). */
int toy_registered_family(void);

/* A walk's callback; embed it in a context and use container_of(). */
struct toy_sock_walk {
	int (*fn)(struct toy_sock_walk *walk,
		  const struct toy_sock_info *info);
};

/*
 * Call walk->fn for the sockets of @net, in index order, starting at
 * the socket cursor @cursor (0: the first).  Stops early when walk->fn
 * returns non-zero.  Returns the cursor of the first socket walk->fn did
 * not accept, where a later walk resumes without rescanning.
 */
u64 toy_walk_socks(struct net *net, u64 cursor, struct toy_sock_walk *walk);

#endif /* _TOY_EXPORT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Symbols af_toy.ko exports to af_toy_diag.ko (see toy_export.h).
 *
 * Locking and references: the walk holds the lock of one list of the
 * netns's socket index at a time (toy_index.c), which keeps that list's
 * sockets allocated (a socket unlinks itself in release before its last
 * reference can go), exactly like /proc/net/toy, and resumes at a cursor.
 * Fields are read with READ_ONCE()/atomic_read(): each snapshot is
 * consistent per field, not a transaction.  The inode is read under RCU
 * (toy_sk_ino()) because an accept-queue child gains its struct socket
 * concurrently; no lock is taken under the index lock.
 */
#include <linux/export.h>
#include <linux/list.h>

#include "af_toy.h"
#include "toy_export.h"

int toy_registered_family(void)
{
	return toy_family;
}
EXPORT_SYMBOL_GPL(toy_registered_family);

/*
 * What /proc/net/toy and sock_diag show of one socket.  A listener's
 * queues are its accept queue and backlog, as unix_diag and TCP show them.
 */
void toy_snapshot(struct toy_sock *tsk, struct toy_sock_info *info)
{
	struct sock *sk = &tsk->sk;

	info->ino = toy_sk_ino(sk);
	info->uid = sock_net_uid(sock_net(sk), sk);
	info->type = sk->sk_type;
	info->state = READ_ONCE(sk->sk_state);
	info->shutdown = READ_ONCE(sk->sk_shutdown);
	info->port = READ_ONCE(tsk->port);
	info->peer_port = toy_shown_peer_port(tsk);
	if (info->state == TCP_LISTEN) {
		info->rqueue = READ_ONCE(sk->sk_ack_backlog);
		info->squeue = READ_ONCE(sk->sk_max_ack_backlog);
	} else {
		info->rqueue = atomic_read(&tsk->rq_bytes);
		info->squeue = atomic_read(&tsk->sq_bytes);
	}
}

u64 toy_walk_socks(struct net *net, u64 cursor, struct toy_sock_walk *walk)
{
	struct toy_net *tn = toy_net(net);
	struct toy_sock_info info;
	struct toy_sock *tsk;
	unsigned int n = 0;

	toy_index_lock(tn, cursor);
	/* A filter may skip most sockets: no hold of O(all). */
	for (tsk = toy_sock_find(tn, &cursor); tsk;
	     tsk = toy_index_step(tn, tsk, &cursor, !(++n % 64))) {
		toy_snapshot(tsk, &info);
		if (walk->fn(walk, &info))
			break;
	}
	toy_index_unlock(tn, cursor);
	return cursor;
}
EXPORT_SYMBOL_GPL(toy_walk_socks);

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy socket calls and callbacks that every type shares: addresses
 * (bind, getname), ioctl, socketpair(), peers and their credentials, and
 * the write-space callback with poll()'s notion of "writable".
 *
 * Locks and references: bind() holds lock_sock() around the port table
 * (toy_addr.c).  A peer is linked once, with a reference each way, and
 * unlinked at release under sk_callback_lock (toy_drop_peer()), so a
 * syscall on a socket uses tsk->peer freely and the write-space callback,
 * run from the peer's context, reads it under that lock.  sk_peer_lock
 * protects the SO_PEERCRED credentials.
 */
#include <linux/cred.h>
#include <asm/ioctls.h>
#include <linux/sockios.h>

#include "af_toy.h"
#include "toy_trace.h"

/* Validates a sockaddr_toy from bind()/connect()/sendto(). */
int toy_check_addr(const struct sockaddr *uaddr, int alen, u32 *port)
{
	const struct sockaddr_toy *addr = (const struct sockaddr_toy *)uaddr;

	if (alen < (int)sizeof(*addr))
		return -EINVAL;
	if (addr->stoy_family != toy_family)
		return -EAFNOSUPPORT;
	if (addr->stoy_reserved)
		return -EINVAL;
	*port = addr->stoy_port;
	return 0;
}

int toy_bind(struct socket *sock, struct sockaddr *uaddr, int alen)
{
	struct sock *sk = sock->sk;
	u32 port;
	int err;

	toy_call_enter(sock, TOY_CALL_BIND);
	err = toy_check_addr(uaddr, alen, &port);
	if (err)
		goto out;
	lock_sock(sk);
	/* Named already: bound, or a connection's server side (TCP). */
	err = toy_sk(sk)->port ? -EINVAL : toy_port_bind(sk, port);
	/* A port the user named outlives a listener's shutdown (TCP). */
	if (!err && port)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	release_sock(sk);
out:
	return toy_call_exit(sock, sk, TOY_CALL_BIND, err);
}

int toy_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sockaddr_toy *addr = (struct sockaddr_toy *)uaddr;
	struct toy_sock *tsk = toy_sk(sock->sk);
	u32 port = READ_ONCE(tsk->port);
	struct toy_sock *other;

	if (peer) {
		/*
		 * As TCP: a stream reset or closed both ways has no peer for
		 * getpeername(); accept() (peer 2) of a child reset while
		 * queued still names it, or it would drop the connection.
		 */
		if (peer == 1 && sock->type == SOCK_STREAM &&
		    READ_ONCE(sock->sk->sk_state) == TCP_CLOSE)
			return -ENOTCONN;
		other = toy_peer(tsk);
		/* A DGRAM socket is connected to a port or (socketpair) a peer. */
		if (sock->type == SOCK_DGRAM && READ_ONCE(tsk->dgram_dst))
			port = READ_ONCE(tsk->dgram_dst);
		else if (other)
			/* Now, not at connect: a socketpair() end may bind later. */
			port = READ_ONCE(other->port);
		else
			return -ENOTCONN;
	}
	memset(addr, 0, sizeof(*addr));
	addr->stoy_family = toy_family;
	addr->stoy_port = port;
	return sizeof(*addr);
}

int toy_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct toy_sock *tsk = toy_sk(sock->sk);
	int __user *uarg = (int __user *)arg;

	switch (cmd) {
	case SIOCINQ:
		if (READ_ONCE(sock->sk->sk_state) == TCP_LISTEN)
			return -EINVAL;
		/*
		 * As UDP and AF_UNIX: a datagram counts on its own; SEQPACKET
		 * sums its records, as AF_UNIX's unix_inq_len() does.
		 */
		if (sock->type == SOCK_DGRAM)
			return put_user(toy_next_record_len(sock->sk), uarg);
		return put_user(atomic_read(&tsk->rq_bytes), uarg);
	case SIOCOUTQ:
		return put_user(atomic_read(&tsk->sq_bytes), uarg);
	}
	return -ENOIOCTLCMD;
}

/*
 * Release: @sk lets go of its peer.  Under sk_callback_lock so that a
 * write-space callback, run from the peer's context, never reads a peer
 * whose last reference is being dropped.
 */
void toy_drop_peer(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer;

	write_lock_bh(&sk->sk_callback_lock);
	peer = tsk->peer;
	/* Pairs with toy_peer() of lockless readers (getname, /proc). */
	smp_store_release(&tsk->peer, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	if (peer)
		sock_put(&peer->sk);
}

void toy_set_peercred(struct sock *sk, struct pid *pid,
		      const struct cred *cred)
{
	const struct cred *old_cred;
	struct pid *old_pid;

	pid = get_pid(pid);
	cred = get_cred(cred);
	spin_lock(&sk->sk_peer_lock);
	old_pid = sk->sk_peer_pid;
	old_cred = sk->sk_peer_cred;
	sk->sk_peer_pid = pid;
	sk->sk_peer_cred = cred;
	spin_unlock(&sk->sk_peer_lock);
	put_pid(old_pid);
	put_cred(old_cred);
}

/* Gives @sk the credentials @from recorded (a listener's, at listen()). */
void toy_copy_peercred(struct sock *sk, struct sock *from)
{
	const struct cred *cred;
	struct pid *pid;

	spin_lock(&from->sk_peer_lock);
	pid = get_pid(from->sk_peer_pid);
	cred = get_cred(from->sk_peer_cred);
	spin_unlock(&from->sk_peer_lock);
	toy_set_peercred(sk, pid, cred);
	put_pid(pid);
	put_cred(cred);
}

/* Makes @a and @b each other's peer; each holds a reference on the other. */
void toy_link_peers(struct sock *a, struct sock *b)
{
	sock_hold(a);
	sock_hold(b);
	toy_sk(a)->peer_port = toy_sk(b)->port;
	toy_sk(b)->peer_port = toy_sk(a)->port;
	/* Pairs with toy_peer(): peer_port is visible before the peer. */
	smp_store_release(&toy_sk(a)->peer, toy_sk(b));
	/* Likewise for the other direction. */
	smp_store_release(&toy_sk(b)->peer, toy_sk(a));
}

/*
 * Poll's and write_space's notion of writable, with hysteresis.  A
 * connection also needs room at its peer; a DGRAM socket (even a
 * socketpair() end, whose datagrams may go elsewhere) only its own buffer.
 * From a callback the caller holds sk_callback_lock (see toy_drop_peer()).
 */
bool toy_writable(struct sock *sk)
{
	struct toy_sock *peer = toy_peer(toy_sk(sk));

	if (!peer || sk->sk_type == SOCK_DGRAM)
		return sock_writeable(sk);
	/* Halves, not doubles: a count past 1 GiB would overflow. */
	return sk_wmem_alloc_get(sk) < READ_ONCE(sk->sk_sndbuf) >> 1 &&
	       toy_rq_below(peer, READ_ONCE(peer->sk.sk_rcvbuf) >> 1);
}

/*
 * Runs when an skb we sent is freed (it was read, or its receiver went
 * away), in the reader's context: wakes writers once there is room again,
 * and has the ring pages it freed given back.  As TCP, only a socket
 * whose writer or poller found no room (SOCK_NOSPACE) is woken: a
 * ping-pong reader sleeping on this queue would otherwise cost a walk of
 * it on every read.
 */
void toy_write_space(struct sock *sk)
{
	struct socket_wq *wq;
	struct socket *sock;
	bool room;

	toy_ring_skb_freed(sk);
	/*
	 * Pairs with toy_note_nospace(): the room freed before this call is
	 * seen by a writer that set SOCK_NOSPACE, or we see its flag.
	 */
	smp_mb();
	rcu_read_lock();	/* the socket's inode is freed after a grace period */
	sock = READ_ONCE(sk->sk_socket);
	if (!sock || !test_bit(SOCK_NOSPACE, &sock->flags))
		goto out;
	read_lock_bh(&sk->sk_callback_lock);
	room = toy_writable(sk);
	read_unlock_bh(&sk->sk_callback_lock);
	if (!room)
		goto out;
	clear_bit(SOCK_NOSPACE, &sock->flags);	/* a waiter still short sets it again */
	wq = rcu_dereference(sk->sk_wq);
	/* Readers sleeping here ignore this key (toy_wake_reader()). */
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
	if (wq && wq->fasync_list)
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
out:
	rcu_read_unlock();
}

/*
 * A writer or poller found no room: flag it as the socket core's helpers
 * do, so that toy_write_space() wakes it (and sends O_ASYNC's SIGIO).
 * The caller looks for room again after this: room freed between its
 * first look and the flag would wake no one.
 */
void toy_note_nospace(struct socket *sock, struct sock *sk)
{
	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	set_bit(SOCK_NOSPACE, &sock->flags);
	/* Pairs with the barrier in toy_write_space(). */
	smp_mb__after_atomic();
}

/* poll()'s writability by @room(), with tcp_poll()'s second look. */
bool toy_poll_room(struct socket *sock, struct sock *sk,
		   bool (*room)(struct sock *sk))
{
	if (room(sk))
		return true;
	toy_note_nospace(sock, sk);
	return room(sk);
}

/* socketpair(): two unbound sockets, already ESTABLISHED. */
int toy_socketpair(struct socket *a, struct socket *b)
{
	const struct cred *cred = current_cred();
	struct pid *pid = task_tgid(current);

	toy_set_peercred(a->sk, pid, cred);
	toy_set_peercred(b->sk, pid, cred);
	toy_link_peers(a->sk, b->sk);
	toy_set_state(a->sk, TCP_ESTABLISHED);
	toy_set_state(b->sk, TCP_ESTABLISHED);
	a->state = SS_CONNECTED;
	b->state = SS_CONNECTED;
	return 0;
}

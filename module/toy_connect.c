// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy connection setup for SOCK_STREAM and SOCK_SEQPACKET: listen(),
 * connect() and accept(), and the three-way handshake between them.
 *
 *   connect():  client SYN_SENT --SYN--> listener makes a child (SYN_RECV)
 *               child --SYN-ACK--> client ESTABLISHED --ACK--> child
 *               ESTABLISHED, queued for accept().
 *
 * A full backlog makes connect() wait on the listener's backlog_wait
 * (EAGAIN if non-blocking); accept() and a larger listen() backlog wake
 * it, shutdown() aborts it.
 *
 * Locks and references: lock_sock() of the connecting socket is held for
 * the whole of connect() (its checks, the SYN and the handshake: the
 * SYN_SENT -> ESTABLISHED decision) except the wait for room, so that
 * shutdown() sees one state or the other and is never stuck behind a
 * wait; one lock round serves a connect() that does not wait.  The
 * listener's queue lock protects its backlog count and accept queue.
 * connect() holds a reference on the listener (from the port lookup)
 * while it talks to it and publishes it
 * in syn_to, under its own queue lock, while it sleeps.  The child is
 * allocated before the handshake so that it cannot fail halfway; its
 * reference belongs to the listener's accept queue until accept().
 * A listener's spare child (toy_make_spare(), made by accept(); none for
 * a kernel listener) owns its sk_alloc() reference until a connect()
 * takes it with xchg(), or the listener's close or shutdown(SHUT_RD)
 * (toy_close_listener()) frees it; it is stored under the listener's
 * queue lock only while it listens, so none is left behind by either.
 */
#include <linux/cred.h>
#include <linux/sched/signal.h>
#include <linux/security.h>

#include "af_toy.h"
#include "toy_trace.h"

int toy_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int somaxconn = READ_ONCE(sock_net(sk)->core.sysctl_somaxconn);
	int old, err = 0;

	toy_call_enter(sock, TOY_CALL_LISTEN);
	lock_sock(sk);
	if (toy_peer(toy_sk(sk)) || (sk->sk_state != TCP_CLOSE &&
				     sk->sk_state != TCP_LISTEN)) {
		err = -EINVAL;
		goto out;
	}
	err = toy_port_autobind(sk);
	if (err)
		goto out;
	old = sk->sk_max_ack_backlog;
	WRITE_ONCE(sk->sk_max_ack_backlog, min(backlog, somaxconn));
	if (sk->sk_state == TCP_LISTEN) {
		/* A larger backlog may let waiting connect()s in, as AF_UNIX. */
		if (sk->sk_max_ack_backlog > old)
			wake_up_interruptible_all(&toy_sk(sk)->backlog_wait);
		goto out;
	}
	/* Clients read these through SO_PEERCRED, as with AF_UNIX. */
	toy_set_peercred(sk, task_tgid(current), current_cred());
	toy_queue_lock(sk);
	toy_set_state(sk, TCP_LISTEN);
	toy_queue_unlock(sk);
out:
	release_sock(sk);
	return toy_call_exit(sock, sk, TOY_CALL_LISTEN, err);
}

/* Whether the listener can take one more connection. */
static bool toy_backlog_room(const struct sock *lsk)
{
	return READ_ONCE(lsk->sk_ack_backlog) <=
	       READ_ONCE(lsk->sk_max_ack_backlog);
}

/*
 * What a connection's server side takes from its listener: what a TCP
 * child gets from sk_clone_lock() (buffer sizes, timeouts, priority,
 * mark, owner, linger and keepalive) and the LSM label, as af_vsock's
 * children get it.
 */
static void toy_inherit(struct sock *child, struct sock *lsk)
{
	child->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	child->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	/* A bit-field on 6.1: no READ_ONCE(); a stale bit is harmless. */
	child->sk_userlocks = lsk->sk_userlocks &
			      (SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK);
	child->sk_rcvlowat = READ_ONCE(lsk->sk_rcvlowat);
	child->sk_rcvtimeo = READ_ONCE(lsk->sk_rcvtimeo);
	child->sk_sndtimeo = READ_ONCE(lsk->sk_sndtimeo);
	child->sk_priority = READ_ONCE(lsk->sk_priority);
	child->sk_mark = READ_ONCE(lsk->sk_mark);
	child->sk_lingertime = READ_ONCE(lsk->sk_lingertime);
	child->sk_uid = lsk->sk_uid;
	if (sock_flag(lsk, SOCK_LINGER))
		sock_set_flag(child, SOCK_LINGER);
	if (sock_flag(lsk, SOCK_KEEPOPEN))
		sock_set_flag(child, SOCK_KEEPOPEN);
	security_sk_clone(lsk, child);
}

/*
 * The handshake proper, once the listener had room: the child is counted
 * in the listener's backlog but is not yet on its queue.  The caller
 * holds @sk's lock_sock(), so shutdown() sees SYN_SENT or ESTABLISHED.
 * @port is the one the SYN went to.
 */
static void toy_handshake(struct sock *sk, struct sock *lsk,
			  struct sock *child, u32 port)
{
	struct toy_sock *tchild = toy_sk(child);
	struct toy_sock *tsk = toy_sk(sk);
	bool queued = false;

	tchild->port = port;
	tchild->peer_port = tsk->port;	/* the SYN's source */
	toy_inherit(child, lsk);
	toy_set_state(child, TCP_SYN_RECV);
	toy_sock_link(child);
	toy_set_peercred(child, task_tgid(current), current_cred());
	toy_copy_peercred(sk, lsk);
	toy_link_peers(sk, child);

	toy_segment(child, tsk->port, TOY_SEG_SYN_ACK, 0);
	toy_queue_lock(sk);
	toy_set_state(sk, TCP_ESTABLISHED);
	toy_queue_unlock(sk);
	sk->sk_state_change(sk);	/* pollers of the connect()ing socket */
	toy_segment(sk, tchild->port, TOY_SEG_ACK, 0);
	toy_queue_lock(child);
	toy_set_state(child, TCP_ESTABLISHED);
	toy_queue_unlock(child);

	toy_queue_lock(lsk);
	/*
	 * Still listening, and on the port the SYN went to: one that
	 * listens again on another (shutdown(SHUT_RD), listen()) does not
	 * take it, as a TCP listener does not take its old requests.
	 */
	if (lsk->sk_state == TCP_LISTEN &&
	    READ_ONCE(toy_sk(lsk)->port) == port) {
		list_add_tail(&tchild->accept_node, &toy_sk(lsk)->accept_q);
		toy_sk(lsk)->accept_qlen++;
		queued = true;
	} else {
		sk_acceptq_removed(lsk);
	}
	toy_queue_unlock(lsk);
	if (queued)
		lsk->sk_data_ready(lsk);
	else
		toy_abort_child(child);	/* closed, or moved, meanwhile */
}

/*
 * Sends a SYN to the listener @lsk.  Returns 1 when the handshake is done,
 * 0 when its backlog has no room, or an error.  The caller holds
 * lock_sock() and found no abort (toy_do_connect()), so shutdown() finds
 * the connection established after.  The listener's port is read while
 * it listens: shutdown(SHUT_RD) gives a picked one back only once it no
 * longer does (toy_handshake() resets the child if it listens again on
 * another port meanwhile).
 */
static int toy_try_syn(struct sock *sk, struct sock *lsk, struct sock *child)
{
	u32 port;

	sock_owned_by_me(sk);
	toy_queue_lock(lsk);
	if (lsk->sk_state != TCP_LISTEN) {
		toy_queue_unlock(lsk);
		return -ECONNREFUSED;
	}
	if (!toy_backlog_room(lsk)) {
		toy_queue_unlock(lsk);
		return 0;
	}
	sk_acceptq_added(lsk);
	port = READ_ONCE(toy_sk(lsk)->port);
	toy_queue_unlock(lsk);
	toy_segment(sk, port, TOY_SEG_SYN, 0);
	toy_handshake(sk, lsk, child, port);
	return 1;
}

/*
 * Publishes the listener a connect() may sleep on, so that shutdown() can
 * wake it; the connect()ing task holds a reference on it meanwhile.
 */
static void toy_set_syn_to(struct sock *sk, struct sock *lsk)
{
	toy_queue_lock(sk);
	toy_sk(sk)->syn_to = lsk;
	toy_queue_unlock(sk);
}

/* shutdown() during connect(): abort the connect, as TCP does. */
void toy_abort_connect(struct sock *sk, int how)
{
	struct sock *lsk;

	toy_queue_lock(sk);
	sk->sk_shutdown |= how;
	lsk = toy_sk(sk)->syn_to;
	if (lsk)
		wake_up_interruptible_all(&toy_sk(lsk)->backlog_wait);
	toy_queue_unlock(sk);
}

/* Whether a SYN to @lsk should be tried again now (lockless look). */
static bool toy_syn_may_retry(struct sock *sk, struct sock *lsk)
{
	return READ_ONCE(sk->sk_shutdown) ||
	       READ_ONCE(lsk->sk_state) != TCP_LISTEN || toy_backlog_room(lsk);
}

/*
 * One SYN to the listener @lsk and, if its backlog is full, one wait for
 * room: returns 1 when connected, 0 to try again, or an error.  The
 * caller holds lock_sock(), which is dropped while waiting only, so that
 * shutdown() and bind() from other threads are not stuck behind the wait.
 * Nothing that may sleep runs between prepare_to_wait() and the wait.
 */
static int toy_syn_or_wait(struct sock *sk, struct sock *lsk,
			   struct sock *child, long *timeo)
{
	DEFINE_WAIT(wait);
	bool slept = false;
	int err;

	sock_owned_by_me(sk);
	err = toy_try_syn(sk, lsk, child);
	if (err)
		return err;	/* the common case: no waiting at all */
	/* Queued before looking again: room made meanwhile wakes us. */
	prepare_to_wait(&toy_sk(lsk)->backlog_wait, &wait, TASK_INTERRUPTIBLE);
	if (!toy_syn_may_retry(sk, lsk)) {
		toy_stat_add(lsk, TOY_STAT_BACKLOG_OVERFLOWS, 1);
		err = toy_may_sleep(*timeo);
		if (!err) {
			toy_set_syn_to(sk, lsk);
			release_sock(sk);
			*timeo = schedule_timeout(*timeo);
			slept = true;
		}
	}
	finish_wait(&toy_sk(lsk)->backlog_wait, &wait);
	if (slept) {
		lock_sock(sk);
		toy_set_syn_to(sk, NULL);
	}
	return err;
}

/* A child made but never linked: no connection, no index, no port. */
static void toy_free_child(struct sock *child)
{
	sock_set_flag(child, SOCK_DEAD);
	sk_free(child);
}

/*
 * accept() makes the next connection's server side ahead of time and
 * leaves it on the listener: with the two ends on two CPUs the client's
 * calls bound the rate of connections, and the server, which would wait
 * for the next one anyway, pays for the allocation instead.  The child is
 * charged to the cgroups of the task that made it (sk_alloc()): this
 * accept()ing task, or the client for a connection that found no spare.
 * A kernel listener holds no netns reference, and a spare (a user socket,
 * as every child) would hold one for as long as the listener lives: none.
 * Stored under the queue lock only while listening, so that no spare
 * outlives toy_close_listener().
 */
static void toy_make_spare(struct sock *lsk)
{
	struct toy_sock *tlsk = toy_sk(lsk);
	struct sock *child;

	if (READ_ONCE(tlsk->spare) || !lsk->sk_net_refcnt)
		return;
	child = toy_sk_alloc(sock_net(lsk), NULL, lsk->sk_type, GFP_KERNEL, 0);
	if (!child)
		return;		/* the next connect() allocates its own */
	toy_queue_lock(lsk);
	if (lsk->sk_state == TCP_LISTEN && !cmpxchg(&tlsk->spare, NULL, child))
		child = NULL;
	toy_queue_unlock(lsk);
	if (child)
		toy_free_child(child);
}

/* Close: the spare child goes, unless a connect() took it. */
void toy_free_spare(struct sock *lsk)
{
	struct sock *child = xchg(&toy_sk(lsk)->spare, NULL);

	if (child)
		toy_free_child(child);
}

/*
 * The server side for a connection to @lsk: its spare (*@premade), else a
 * new one.  Not the spare while the backlog is full: a connect() that
 * will wait, or fail (non-blocking, a signal), would hold or free what
 * the server made for the next connection.
 */
static struct sock *toy_get_child(struct sock *sk, struct sock *lsk,
				  bool *premade)
{
	struct sock *child = NULL;

	if (toy_backlog_room(lsk) && READ_ONCE(toy_sk(lsk)->spare))
		child = xchg(&toy_sk(lsk)->spare, NULL);
	*premade = !!child;
	if (!child)
		child = toy_sk_alloc(sock_net(sk), NULL, sk->sk_type,
				     GFP_KERNEL, 0);
	return child;
}

/*
 * Connects @sk, locked, to @port: 0 or an error.  *@child is the server
 * side, allocated before the handshake so that it cannot fail halfway,
 * and kept across tries; the caller frees it if the connect fails (a
 * spare is not given back: its cgroups and label would be the ones of
 * whoever made it, for as long as the listener lives).
 */
static int toy_do_connect(struct sock *sk, u32 port, struct sock **child,
			  long timeo)
{
	bool premade = false;
	struct sock *lsk;
	int err;

	do {
		/*
		 * shutdown() aborted us (before, or while we waited; it needs
		 * lock_sock(), which we hold until the SYN): that, not who
		 * listens now.
		 */
		if (sk->sk_shutdown)
			return -ECONNRESET;
		lsk = toy_port_lookup(toy_sk_net(sk), sk->sk_type, port);
		if (!lsk) {
			toy_segment(sk, port, TOY_SEG_SYN, 0);
			return -ECONNREFUSED;	/* nobody there: RST */
		}
		if (!*child)
			*child = toy_get_child(sk, lsk, &premade);
		err = *child ? toy_syn_or_wait(sk, lsk, *child, &timeo) :
			       -ENOMEM;
		sock_put(lsk);
	} while (!err);
	if (err < 0)
		return err;
	if (premade)
		toy_stat_add(sk, TOY_STAT_CHILDREN_PREMADE, 1);
	return 0;
}

/*
 * A connect() that failed: the socket is closed again and, as after TCP's
 * tcp_disconnect(), free of the shutdown bits an abort left and of a port
 * the kernel picked for it, so that the next connect() or a bind() can
 * succeed.
 */
static void toy_connect_failed(struct sock *sk, struct sock *child, int err)
{
	if (err == -ECONNREFUSED)
		toy_stat_add(sk, TOY_STAT_CONNECTS_REFUSED, 1);
	toy_queue_lock(sk);
	toy_set_state(sk, TCP_CLOSE);
	sk->sk_shutdown = 0;
	toy_queue_unlock(sk);
	toy_port_release_auto(sk);
	sk->sk_state_change(sk);	/* pollers waiting on SYN_SENT */
	if (child)
		toy_free_child(child);
}

int toy_connect(struct socket *sock, struct sockaddr *uaddr, int alen,
		int flags)
{
	struct sock *sk = sock->sk;
	struct sock *child = NULL;
	int state, err;
	u32 port;

	toy_call_enter(sock, TOY_CALL_CONNECT);
	err = toy_check_addr(uaddr, alen, &port);
	if (err)
		goto out_trace;
	lock_sock(sk);
	/* A peer's RST may move a connected socket to CLOSE meanwhile. */
	state = READ_ONCE(sk->sk_state);
	if (state == TCP_LISTEN) {
		err = -EISCONN;	/* as TCP (AF_UNIX says EINVAL) */
		goto out;
	}
	if (state == TCP_SYN_SENT) {
		err = -EALREADY;	/* another thread is connecting */
		goto out;
	}
	if (toy_peer(toy_sk(sk)) || state != TCP_CLOSE) {
		err = -EISCONN;
		goto out;
	}
	err = toy_port_autobind(sk);
	if (err == -EADDRINUSE)
		err = -EADDRNOTAVAIL;	/* no port left: as TCP's connect() */
	if (err)
		goto out;

	toy_queue_lock(sk);
	toy_set_state(sk, TCP_SYN_SENT);
	toy_queue_unlock(sk);
	toy_stat_add(sk, TOY_STAT_CONNECTS, 1);
	err = toy_do_connect(sk, port, &child,
			     sock_sndtimeo(sk, flags & O_NONBLOCK));
	if (err)
		toy_connect_failed(sk, child, err);
	else
		sock->state = SS_CONNECTED;
out:
	release_sock(sk);
out_trace:
	return toy_call_exit(sock, sk, TOY_CALL_CONNECT, err);
}

/* Takes the first established child off @sk's accept queue, if any. */
static struct sock *toy_accept_dequeue(struct sock *sk, int *err)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *child = NULL;

	toy_queue_lock(sk);
	if (sk->sk_state != TCP_LISTEN) {
		*err = -EINVAL;
	} else {
		child = list_first_entry_or_null(&tsk->accept_q,
						 struct toy_sock, accept_node);
		if (child) {
			list_del_init(&child->accept_node);
			tsk->accept_qlen--;
			sk_acceptq_removed(sk);
		}
	}
	toy_queue_unlock(sk);
	/* Room for a connect() that waits; wq_has_sleeper() has the barrier. */
	if (child && wq_has_sleeper(&tsk->backlog_wait))
		wake_up_interruptible(&tsk->backlog_wait);
	return child ? &child->sk : NULL;
}

/* accept() with the file flags; the proto_ops entry is toy_accept(). */
int toy_do_accept(struct socket *sock, struct socket *newsock, int flags)
{
	struct sock *sk = sock->sk;
	struct sock *child;
	DEFINE_WAIT(wait);
	long timeo;
	int err = 0;

	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return -EINVAL;
	/* A connection already waits: no need to queue ourselves. */
	child = toy_accept_dequeue(sk, &err);
	if (child)
		goto graft;
	if (err)
		return err;
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		child = toy_accept_dequeue(sk, &err);
		if (child || err)
			break;
		err = toy_may_sleep(timeo);
		if (err)
			break;
		timeo = schedule_timeout(timeo);
	}
	finish_wait(sk_sleep(sk), &wait);
	if (!child)
		return err;
graft:
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	toy_make_spare(sk);
	return 0;
}

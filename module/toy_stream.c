// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy SOCK_STREAM and SOCK_SEQPACKET: the TCP-like connection life cycle.
 *
 * There is no wire: a "segment" is an event that one socket applies to the
 * other, under the receiving socket's lock alone (see af_toy.h), and every
 * segment and state change is narrated by toy_segment()/toy_set_state().
 *
 *   connect():  client SYN_SENT --SYN--> listener makes a child (SYN_RECV)
 *               child --SYN-ACK--> client ESTABLISHED --ACK--> child
 *               ESTABLISHED, queued for accept().
 *   close():    ESTABLISHED --FIN--> peer CLOSE_WAIT, --ACK--> FIN_WAIT2;
 *               the peer's close() sends the last FIN (LAST_ACK -> CLOSED).
 *               Unread data at close() sends RST instead: the peer gets
 *               ECONNRESET.
 *
 * Locks: lock_sock() serialises the control calls of one socket (bind,
 * listen, connect, shutdown); the queue lock protects state, shutdown bits
 * and the accept queue.  connect() holds a reference on the listener while
 * it talks to it; tsk->peer references the peer from connect to release.
 */
#include <linux/cred.h>
#include <linux/sched/signal.h>

#include "af_toy.h"
#include "toy_trace.h"

static int toy_listen(struct socket *sock, int backlog)
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
	if (!toy_sk(sk)->bound) {
		err = toy_port_bind(sk, 0);
		if (err)
			goto out;
	}
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

/* Makes @a and @b each other's peer; each holds a reference on the other. */
static void toy_link_peers(struct sock *a, struct sock *b)
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
 * Applies the peer's FIN to @sk; @gone: the peer was closed, not shut down.
 * The caller wakes @sk after its own FIN_WAIT2 step, so the narration
 * stays causal (a woken reader may close and send its own FIN at once).
 */
static void toy_rcv_fin(struct sock *sk, bool gone)
{
	toy_queue_lock(sk);
	sk->sk_shutdown |= RCV_SHUTDOWN | (gone ? SEND_SHUTDOWN : 0);
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		toy_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		toy_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		/* No TIME_WAIT: there is no wire to drain. */
		toy_set_state(sk, TCP_CLOSE);
		break;
	}
	/* Under the lock: a reader that sees the FIN comes after its ACK. */
	toy_segment(sk, toy_sk(sk)->peer_port, TOY_SEG_ACK, 0);
	toy_queue_unlock(sk);
}

/* The peer acknowledged our FIN. */
static void toy_rcv_fin_ack(struct sock *sk)
{
	toy_queue_lock(sk);
	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		toy_set_state(sk, TCP_FIN_WAIT2);
		break;
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		toy_set_state(sk, TCP_CLOSE);
		break;
	}
	toy_queue_unlock(sk);
	sk->sk_state_change(sk);
}

/* Sends FIN from @sk to its peer (SHUT_WR or close()). */
static void toy_send_fin(struct sock *sk, bool closing)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer = toy_peer(tsk);

	toy_queue_lock(sk);
	if (tsk->fin_sent) {
		toy_queue_unlock(sk);
		return;
	}
	tsk->fin_sent = true;
	sk->sk_shutdown |= SEND_SHUTDOWN;
	if (sk->sk_state == TCP_ESTABLISHED)
		toy_set_state(sk, TCP_FIN_WAIT1);
	else if (sk->sk_state == TCP_CLOSE_WAIT)
		toy_set_state(sk, TCP_LAST_ACK);
	toy_queue_unlock(sk);

	toy_segment(sk, tsk->peer_port, TOY_SEG_FIN, 0);
	toy_rcv_fin(&peer->sk, closing);
	toy_rcv_fin_ack(sk);
	peer->sk.sk_state_change(&peer->sk);
	/* O_ASYNC owners hear of it too, as from TCP and AF_UNIX. */
	sk_wake_async(&peer->sk, SOCK_WAKE_WAITD, closing ? POLL_HUP : POLL_IN);
}

/* The peer is gone after having sent FIN earlier: our writes now fail. */
static void toy_rcv_gone(struct sock *sk)
{
	toy_queue_lock(sk);
	sk->sk_shutdown |= SEND_SHUTDOWN;
	toy_queue_unlock(sk);
	sk->sk_state_change(sk);
	sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
}

/* The peer reset the connection. */
static void toy_rcv_rst(struct sock *sk)
{
	toy_queue_lock(sk);
	if (sk->sk_state != TCP_CLOSE)
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	/* The connection is gone: our close() has no FIN left to send. */
	toy_sk(sk)->fin_sent = true;
	sk->sk_shutdown = SHUTDOWN_MASK;
	toy_set_state(sk, TCP_CLOSE);
	toy_queue_unlock(sk);
	sk_error_report(sk);
	sk->sk_state_change(sk);
}

static void toy_send_rst(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer = toy_peer(tsk);

	toy_queue_lock(sk);
	tsk->fin_sent = true;
	toy_set_state(sk, TCP_CLOSE);
	toy_queue_unlock(sk);
	toy_segment(sk, tsk->peer_port, TOY_SEG_RST, 0);
	toy_stat_add(sk, TOY_STAT_RESETS, 1);
	toy_rcv_rst(&peer->sk);
}

/*
 * The last reference of a connection's user is gone: FIN, or RST if we
 * leave data unread or SO_LINGER is on with a zero timeout (as TCP does),
 * then drop our queue and our peer.
 */
static void toy_close_connection(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer = toy_peer(tsk);
	bool abort;

	toy_queue_lock(sk);
	abort = !skb_queue_empty(&sk->sk_receive_queue) ||
		(sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime);
	sk->sk_shutdown = SHUTDOWN_MASK;
	toy_queue_unlock(sk);

	if (peer) {
		if (abort && READ_ONCE(peer->sk.sk_state) != TCP_CLOSE)
			toy_send_rst(sk);
		else if (!tsk->fin_sent)
			toy_send_fin(sk, true);
		else
			toy_rcv_gone(&peer->sk);
	}
	toy_queue_lock(sk);
	toy_set_state(sk, TCP_CLOSE);
	toy_queue_unlock(sk);
	toy_purge_queue(sk);
}

static void toy_close_sk(struct sock *sk);

/* A child nobody will accept: reset its connection, as TCP does. */
static void toy_abort_child(struct sock *sk)
{
	toy_send_rst(sk);
	toy_close_sk(sk);
}

/* Closes a listener: refuse new connects, reset what was not accepted. */
static void toy_close_listener(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *child, *tmp;
	LIST_HEAD(queue);

	toy_queue_lock(sk);
	toy_set_state(sk, TCP_CLOSE);
	list_splice_init(&tsk->accept_q, &queue);
	toy_queue_unlock(sk);
	wake_up_interruptible_all(&tsk->backlog_wait);
	sk->sk_state_change(sk);

	list_for_each_entry_safe(child, tmp, &queue, accept_node) {
		list_del_init(&child->accept_node);
		sk_acceptq_removed(sk);
		toy_abort_child(&child->sk);
	}
}

/*
 * Tears down @sk and drops the reference its owner held (the struct
 * socket, or the accept queue for a child never accepted).
 */
static void toy_close_sk(struct sock *sk)
{
	toy_ring_close(sk);
	toy_port_unbind(sk);
	toy_sock_unlink(sk);
	if (sk->sk_state == TCP_LISTEN)
		toy_close_listener(sk);
	else
		toy_close_connection(sk);
	/* Only now, so that the teardown's events still name our inode. */
	sock_orphan(sk);
	toy_drop_peer(sk);
	sock_put(sk);
}

static int toy_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	toy_call_enter(sock, TOY_CALL_RELEASE);
	toy_close_sk(sk);
	sock->sk = NULL;
	toy_call_exit(sock, NULL, TOY_CALL_RELEASE, 0);
	return 0;
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
 */
static void toy_handshake(struct sock *sk, struct sock *lsk,
			  struct sock *child)
{
	struct toy_sock *tchild = toy_sk(child);
	struct toy_sock *tsk = toy_sk(sk);
	bool queued = false;

	tchild->port = toy_sk(lsk)->port;
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
	if (lsk->sk_state == TCP_LISTEN) {
		list_add_tail(&tchild->accept_node, &toy_sk(lsk)->accept_q);
		queued = true;
	} else {
		sk_acceptq_removed(lsk);
	}
	toy_queue_unlock(lsk);
	if (queued)
		lsk->sk_data_ready(lsk);
	else
		toy_abort_child(child);	/* the listener closed meanwhile */
}

/*
 * Sends a SYN to the listener @lsk.  Returns 1 when the handshake is done,
 * 0 when the caller should wait for room in the backlog (it is then on the
 * listener's backlog_wait queue), or an error.  The caller holds
 * lock_sock(): shutdown() either aborted us before (sk_shutdown is set) or
 * finds the connection established after.
 */
static int toy_try_syn(struct sock *sk, struct sock *lsk, struct sock *child,
		       struct wait_queue_entry *wait)
{
	sock_owned_by_me(sk);
	prepare_to_wait(&toy_sk(lsk)->backlog_wait, wait, TASK_INTERRUPTIBLE);
	if (sk->sk_shutdown)
		return -ECONNRESET;	/* shutdown() aborted us */
	toy_queue_lock(lsk);
	if (lsk->sk_state != TCP_LISTEN) {
		toy_queue_unlock(lsk);
		return -ECONNREFUSED;
	}
	if (!toy_backlog_room(lsk)) {
		toy_queue_unlock(lsk);
		toy_stat_add(lsk, TOY_STAT_BACKLOG_OVERFLOWS, 1);
		return 0;
	}
	sk_acceptq_added(lsk);
	toy_queue_unlock(lsk);
	toy_segment(sk, toy_sk(lsk)->port, TOY_SEG_SYN, 0);
	toy_handshake(sk, lsk, child);
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
static void toy_abort_connect(struct sock *sk, int how)
{
	struct sock *lsk;

	toy_queue_lock(sk);
	sk->sk_shutdown |= how;
	lsk = toy_sk(sk)->syn_to;
	if (lsk)
		wake_up_interruptible_all(&toy_sk(lsk)->backlog_wait);
	toy_queue_unlock(sk);
}

/*
 * One SYN to the listener @lsk and, if its backlog is full, one wait for
 * room.  lock_sock() is held for the SYN and the handshake only, so that
 * shutdown() and bind() from other threads are not stuck behind a wait.
 */
static int toy_syn_or_wait(struct sock *sk, struct sock *lsk,
			   struct sock *child, long *timeo)
{
	DEFINE_WAIT(wait);
	int err;

	lock_sock(sk);
	err = toy_try_syn(sk, lsk, child, &wait);
	if (!err)
		toy_set_syn_to(sk, lsk);
	release_sock(sk);
	if (!err) {
		err = toy_may_sleep(*timeo);
		if (!err)
			*timeo = schedule_timeout(*timeo);
		toy_set_syn_to(sk, NULL);
	}
	finish_wait(&toy_sk(lsk)->backlog_wait, &wait);
	return err;
}

static int toy_do_connect(struct sock *sk, u32 port, struct sock *child,
			  long timeo)
{
	struct sock *lsk;
	int err;

	do {
		lsk = toy_port_lookup(sock_net(sk), sk->sk_type, port);
		if (!lsk) {
			toy_segment(sk, port, TOY_SEG_SYN, 0);
			return -ECONNREFUSED;	/* nobody there: RST */
		}
		err = toy_syn_or_wait(sk, lsk, child, &timeo);
		sock_put(lsk);
	} while (!err);
	return err < 0 ? err : 0;
}

/*
 * A connect() that failed: the socket is closed again and, as after TCP's
 * tcp_disconnect(), free of the shutdown bits an abort left, so that the
 * next connect() can succeed.
 */
static void toy_connect_failed(struct sock *sk, struct sock *child, int err)
{
	if (err == -ECONNREFUSED)
		toy_stat_add(sk, TOY_STAT_CONNECTS_REFUSED, 1);
	toy_queue_lock(sk);
	toy_set_state(sk, TCP_CLOSE);
	sk->sk_shutdown = 0;
	toy_queue_unlock(sk);
	sk->sk_state_change(sk);	/* pollers waiting on SYN_SENT */
	sock_set_flag(child, SOCK_DEAD);
	sk_free(child);
}

static int toy_connect(struct socket *sock, struct sockaddr *uaddr, int alen,
		       int flags)
{
	struct sock *sk = sock->sk;
	struct sock *child;
	u32 port;
	int err;

	toy_call_enter(sock, TOY_CALL_CONNECT);
	err = toy_check_addr(uaddr, alen, &port);
	if (err)
		goto out_trace;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		err = -EISCONN;	/* as TCP (AF_UNIX says EINVAL) */
		goto out;
	}
	if (sk->sk_state == TCP_SYN_SENT) {
		err = -EALREADY;	/* another thread is connecting */
		goto out;
	}
	if (toy_peer(toy_sk(sk)) || sk->sk_state != TCP_CLOSE) {
		err = -EISCONN;
		goto out;
	}
	if (!toy_sk(sk)->bound) {
		err = toy_port_bind(sk, 0);
		if (err)
			goto out;
	}
	/* Allocated before the handshake so that it cannot fail halfway. */
	child = toy_sk_alloc(sock_net(sk), NULL, sk->sk_type, GFP_KERNEL, 0);
	if (!child) {
		err = -ENOMEM;
		goto out;
	}

	toy_queue_lock(sk);
	toy_set_state(sk, TCP_SYN_SENT);
	toy_queue_unlock(sk);
	toy_stat_add(sk, TOY_STAT_CONNECTS, 1);
	release_sock(sk);
	err = toy_do_connect(sk, port, child,
			     sock_sndtimeo(sk, flags & O_NONBLOCK));
	lock_sock(sk);
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
			sk_acceptq_removed(sk);
		}
	}
	toy_queue_unlock(sk);
	if (child)
		wake_up_interruptible(&tsk->backlog_wait);
	return child ? &child->sk : NULL;
}

static int toy_do_accept(struct socket *sock, struct socket *newsock,
			 int flags)
{
	struct sock *sk = sock->sk;
	struct sock *child;
	DEFINE_WAIT(wait);
	long timeo;
	int err = 0;

	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return -EINVAL;
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

	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	return 0;
}

static int toy_accept(struct socket *sock, struct socket *newsock,
		      TOY_ACCEPT_PARAMS)
{
	int err;

	toy_call_enter(sock, TOY_CALL_ACCEPT);
	err = toy_do_accept(sock, newsock, toy_accept_flags(arg));
	if (!err)
		toy_stat_add(sock->sk, TOY_STAT_ACCEPTS, 1);
	return toy_call_exit(sock, err ? NULL : newsock->sk, TOY_CALL_ACCEPT,
			     err);
}

static int toy_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct toy_sock *peer;
	int err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	how++;	/* SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN */

	toy_call_enter(sock, TOY_CALL_SHUTDOWN);
	/* connect() moves SYN_SENT -> ESTABLISHED under lock_sock() too. */
	lock_sock(sk);
	peer = toy_peer(toy_sk(sk));
	if (sk->sk_state == TCP_SYN_SENT) {
		toy_abort_connect(sk, how);
		goto out;
	}
	if (sk->sk_state == TCP_LISTEN) {
		/*
		 * As TCP: SHUT_RD stops a listener and wakes accept(); a port
		 * bind() chose stays bound, one listen() picked is released.
		 */
		if (how & RCV_SHUTDOWN) {
			if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK)) {
				toy_port_unbind(sk);
				WRITE_ONCE(toy_sk(sk)->port, 0);
			}
			toy_close_listener(sk);
		}
		goto out;
	}
	if (!peer || sk->sk_state == TCP_CLOSE) {
		err = -ENOTCONN;
		goto out;
	}
	if (how & RCV_SHUTDOWN) {
		toy_queue_lock(sk);
		sk->sk_shutdown |= RCV_SHUTDOWN;
		toy_queue_unlock(sk);
		/* The peer's writes now fail with EPIPE, as with AF_UNIX. */
		toy_queue_lock(&peer->sk);
		peer->sk.sk_shutdown |= SEND_SHUTDOWN;
		toy_queue_unlock(&peer->sk);
		peer->sk.sk_state_change(&peer->sk);
		sk->sk_state_change(sk);
	}
	if (how & SEND_SHUTDOWN)
		toy_send_fin(sk, false);
out:
	release_sock(sk);
	return toy_call_exit(sock, sk, TOY_CALL_SHUTDOWN, err);
}

/* Room for one more write: our SO_SNDBUF and the peer's SO_RCVBUF. */
static bool toy_send_room(struct sock *sk, struct toy_sock *peer)
{
	return sk_wmem_alloc_get(sk) < READ_ONCE(sk->sk_sndbuf) &&
	       atomic_read(&peer->rq_mem) < READ_ONCE(peer->sk.sk_rcvbuf);
}

/*
 * Poll's and write_space's notion of writable, with hysteresis.  A
 * connection also needs room at its peer; a DGRAM socket (even a
 * socketpair() end, whose datagrams may go elsewhere) only its own buffer.
 * From a callback the caller holds sk_callback_lock (see toy_drop_peer()).
 */
static bool toy_writable(struct sock *sk)
{
	struct toy_sock *peer = toy_peer(toy_sk(sk));

	if (!peer || sk->sk_type == SOCK_DGRAM)
		return sock_writeable(sk);
	return (sk_wmem_alloc_get(sk) << 1) < READ_ONCE(sk->sk_sndbuf) &&
	       (atomic_read(&peer->rq_mem) << 1) <
	       READ_ONCE(peer->sk.sk_rcvbuf);
}

/*
 * Runs when an skb we sent is freed (it was read, or its receiver went
 * away), in the reader's context: wakes writers once there is room again,
 * and lets an idle writer's ring go.
 */
void toy_write_space(struct sock *sk)
{
	struct socket_wq *wq;
	bool room;

	toy_ring_idle(sk);
	read_lock_bh(&sk->sk_callback_lock);
	room = toy_writable(sk);
	read_unlock_bh(&sk->sk_callback_lock);
	if (!room)
		return;
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	/* Readers sleeping here ignore this key (toy_wake_reader()). */
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
	if (wq && wq->fasync_list)
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* What stops a writer before room: an error, or our side shut down. */
static int toy_send_blocked(struct sock *sk)
{
	int err = sock_error(sk);

	if (!err && (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN))
		err = -EPIPE;
	return err;
}

/* Waits for toy_send_room(); 0, or the error the write must return. */
static int toy_wait_room(struct sock *sk, struct toy_sock *peer, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, toy_wake_writer);
	struct socket *sock = sk->sk_socket;
	int err;

	err = toy_send_blocked(sk);
	if (err || toy_send_room(sk, peer))
		return err;	/* the common case: no waiting at all */
	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		/* Both: the wake-up and, for O_ASYNC, its SIGIO (POLL_OUT). */
		set_bit(SOCK_NOSPACE, &sock->flags);
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
		err = toy_send_blocked(sk);
		if (err || toy_send_room(sk, peer))
			break;
		err = toy_may_sleep(*timeo);
		if (err)
			break;
		*timeo = schedule_timeout(*timeo);
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/* Largest piece of a stream write that goes into one skb. */
#define TOY_STREAM_CHUNK	TOY_RING_MAX

static int toy_do_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct toy_sock *tsk = toy_sk(sk);
	bool record = sk->sk_type == SOCK_SEQPACKET;
	struct toy_sock *peer = toy_peer(tsk);
	struct sk_buff *skb;
	size_t sent = 0, size;
	long timeo;
	int err = 0;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (!peer)
		return -ENOTCONN;
	if (!len && !record) {
		/* Nothing to send, but a closed stream says so (TCP). */
		err = toy_send_blocked(sk);
		toy_send_epipe(sk, err, msg->msg_flags);
		return err;
	}
	if (record && len > min(READ_ONCE(sk->sk_sndbuf),
				READ_ONCE(peer->sk.sk_rcvbuf)))
		return -EMSGSIZE;

	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	do {
		err = toy_wait_room(sk, peer, &timeo);
		if (err)
			break;
		size = record ? len : min_t(size_t, len - sent,
					    TOY_STREAM_CHUNK);
		skb = toy_alloc_data_skb(sk, msg, size, &err);
		if (!skb)
			break;
		err = toy_enqueue(&peer->sk, skb, tsk->port);
		if (err) {
			kfree_skb(skb);
			break;
		}
		sent += size;
	} while (sent < len);

	if (sent)
		return sent;
	toy_send_epipe(sk, err, msg->msg_flags);
	return err;
}

static int toy_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	toy_call_enter(sock, TOY_CALL_SENDMSG);
	return toy_call_exit(sock, sock->sk, TOY_CALL_SENDMSG,
			     toy_do_sendmsg(sock, msg, len));
}

static int toy_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		       int flags)
{
	struct sock *sk = sock->sk;
	int ret;

	toy_call_enter(sock, TOY_CALL_RECVMSG);
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN || !toy_peer(toy_sk(sk)))
		ret = -ENOTCONN;
	else if (sk->sk_type == SOCK_SEQPACKET)
		ret = toy_recv_record(sk, msg, len, flags);
	else
		ret = toy_recv_stream(sk, msg, len, flags);
	return toy_call_exit(sock, sk, TOY_CALL_RECVMSG, ret);
}

/* A poller found no room: flag it as the socket core's helpers do. */
void toy_poll_nospace(struct socket *sock, struct sock *sk)
{
	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	set_bit(SOCK_NOSPACE, &sock->flags);
}

static __poll_t toy_poll(struct file *file, struct socket *sock,
			 poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct toy_sock *tsk = toy_sk(sk);
	__poll_t mask;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);
	state = READ_ONCE(sk->sk_state);
	if (state == TCP_LISTEN)
		return list_empty_careful(&tsk->accept_q) ? 0 :
		       EPOLLIN | EPOLLRDNORM;

	shutdown = READ_ONCE(sk->sk_shutdown);
	mask = toy_poll_rcv(sk, shutdown);
	if (state == TCP_SYN_SENT)
		return mask;	/* not writable before connected, as TCP */
	if (state == TCP_CLOSE)
		mask |= EPOLLHUP;	/* never connected, or reset */
	if (!toy_peer(tsk) || (shutdown & SEND_SHUTDOWN))
		mask |= EPOLLOUT | EPOLLWRNORM;
	else if (toy_writable(sk))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	else
		toy_poll_nospace(sock, sk);
	return mask;
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

const struct proto_ops toy_stream_ops = {
	.family		= PF_TOY,
	.owner		= THIS_MODULE,
	.release	= toy_release,
	.bind		= toy_bind,
	.connect	= toy_connect,
	.socketpair	= toy_socketpair,
	.accept		= toy_accept,
	.getname	= toy_getname,
	.poll		= toy_poll,
	.ioctl		= toy_ioctl,
	.listen		= toy_listen,
	.shutdown	= toy_shutdown,
	.sendmsg	= toy_sendmsg,
	.recvmsg	= toy_recvmsg,
	.mmap		= sock_no_mmap,
};

const struct proto_ops toy_seqpacket_ops = {
	.family		= PF_TOY,
	.owner		= THIS_MODULE,
	.release	= toy_release,
	.bind		= toy_bind,
	.connect	= toy_connect,
	.socketpair	= toy_socketpair,
	.accept		= toy_accept,
	.getname	= toy_getname,
	.poll		= toy_poll,
	.ioctl		= toy_ioctl,
	.listen		= toy_listen,
	.shutdown	= toy_shutdown,
	.sendmsg	= toy_sendmsg,
	.recvmsg	= toy_recvmsg,
	.mmap		= sock_no_mmap,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy connectible sockets (SOCK_STREAM and SOCK_SEQPACKET, as
 * af_vsock names them): the data path, shutdown(), close() with its FIN or
 * RST, poll() and the proto_ops tables.  Setting a connection up is in
 * toy_connect.c.
 *
 * There is no wire: a "segment" is an event that one socket applies to the
 * other, under the receiving socket's queue lock alone (see af_toy.h), and
 * every segment and state change is narrated by toy_segment() and
 * toy_set_state().
 *
 *   close():    ESTABLISHED --FIN--> peer CLOSE_WAIT, --ACK--> FIN_WAIT2;
 *               the peer's close() sends the last FIN (LAST_ACK -> CLOSED).
 *               Unread data at close(), or SO_LINGER with a zero timeout,
 *               sends RST instead: the peer gets ECONNRESET.
 *
 * Locks: lock_sock() serialises shutdown() with the other control calls;
 * the queue lock protects state, shutdown bits and the accept queue;
 * writers wait on their own wait queue for room (toy_wait_room()), readers
 * hold rd_lock (toy_queue.c).  tsk->peer references the peer from connect
 * to release.
 */
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>

#include "af_toy.h"
#include "toy_trace.h"

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
	WRITE_ONCE(tsk->fin_sent, true);
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
	WRITE_ONCE(toy_sk(sk)->fin_sent, true);
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
	WRITE_ONCE(tsk->fin_sent, true);
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
		else if (!READ_ONCE(tsk->fin_sent))
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
void toy_abort_child(struct sock *sk)
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
	/*
	 * The backlog count, under the lock as every change of it: a
	 * handshake still under way takes its own share off (toy_handshake()).
	 */
	WRITE_ONCE(sk->sk_ack_backlog, sk->sk_ack_backlog - tsk->accept_qlen);
	tsk->accept_qlen = 0;
	list_splice_init(&tsk->accept_q, &queue);
	toy_queue_unlock(sk);
	toy_free_spare(sk);
	wake_up_interruptible_all(&tsk->backlog_wait);
	sk->sk_state_change(sk);

	list_for_each_entry_safe(child, tmp, &queue, accept_node) {
		list_del_init(&child->accept_node);
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
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN)
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

static int toy_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct toy_sock *peer;
	int state, err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	how++;	/* SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN */

	toy_call_enter(sock, TOY_CALL_SHUTDOWN);
	/* connect() moves SYN_SENT -> ESTABLISHED under lock_sock() too. */
	lock_sock(sk);
	peer = toy_peer(toy_sk(sk));
	/* A peer's RST may set it to TCP_CLOSE meanwhile: no matter. */
	state = READ_ONCE(sk->sk_state);
	if (state == TCP_SYN_SENT) {
		toy_abort_connect(sk, how);
		goto out;
	}
	if (state == TCP_LISTEN) {
		/*
		 * As TCP: SHUT_RD stops a listener and wakes accept().  The
		 * port goes after: a connect() reads it while we listen.
		 */
		if (how & RCV_SHUTDOWN) {
			toy_close_listener(sk);
			toy_port_release_auto(sk);
		}
		goto out;
	}
	if (!peer || state == TCP_CLOSE) {
		/*
		 * Nothing to shut: the bits would abort a later connect()
		 * (toy_do_connect()), where TCP keeps them for its connection.
		 */
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
	       toy_rq_below(peer, READ_ONCE(peer->sk.sk_rcvbuf));
}

/*
 * What stops a writer before room: an error, or our side shut down.  A
 * write that sent bytes already returns them and leaves the error (a
 * reset) for the next call to report, as TCP: only @clear takes it.
 */
static int toy_send_blocked(struct sock *sk, bool clear)
{
	int err = clear ? sock_error(sk) : -READ_ONCE(sk->sk_err);

	if (!err && (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN))
		err = -EPIPE;
	return err;
}

/*
 * A stream writer found no room while its reader holds fewer bytes than
 * its SO_RCVLOWAT: toy_rcv_pressure() now makes them readable, and when
 * the room went by a setsockopt() (our SO_SNDBUF, the peer's SO_RCVBUF)
 * rather than by a write nothing else would tell the reader: as TCP's
 * closed window, which makes tcp_epollin_ready() true.
 */
static void toy_window_closed(struct sock *sk, struct toy_sock *peer)
{
	int avail;

	if (sk->sk_type != SOCK_STREAM)
		return;
	avail = atomic_read(&peer->rq_bytes);
	if (avail && avail < sock_rcvlowat(&peer->sk, 0, INT_MAX))
		peer->sk.sk_data_ready(&peer->sk);
}

/*
 * Waits for toy_send_room(); 0, or the error the write must return
 * (taking a pending one only if @clear: the write sent nothing yet).
 */
static int toy_wait_room(struct sock *sk, struct toy_sock *peer, long *timeo,
			 bool clear)
{
	DEFINE_WAIT_FUNC(wait, toy_wake_writer);
	struct socket *sock = sk->sk_socket;
	int err;

	err = toy_send_blocked(sk, clear);
	if (err || toy_send_room(sk, peer))
		return err;	/* the common case: no waiting at all */
	toy_window_closed(sk, peer);
	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		toy_note_nospace(sock, sk);
		err = toy_send_blocked(sk, clear);
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

/*
 * A write that sent bytes returns them and leaves a reset for the next
 * call (toy_send_blocked()), as TCP; but an allocation that failed on it
 * (sock_alloc_send_pskb(), the only source of -ECONNRESET in
 * toy_send_chunk()) took it with sock_error(): it goes back.
 */
static void toy_keep_reset(struct sock *sk, int err, size_t sent)
{
	if (sent && err == -ECONNRESET)
		WRITE_ONCE(sk->sk_err, ECONNRESET);
}

/* Largest piece of a stream write that goes into one skb. */
#define TOY_STREAM_CHUNK	TOY_RING_MAX

/*
 * Sends @size bytes of @msg to @peer: straight into the buffer of a
 * stream reader waiting there, or a small stream write appended to the
 * last skb queued there, else an skb of its own.  Returns the bytes sent
 * (a direct copy may take fewer than @size) or an error.
 */
static int toy_send_chunk(struct sock *sk, struct toy_sock *peer,
			  struct msghdr *msg, size_t size)
{
	struct sk_buff *skb;
	int err;

	if (sk->sk_type == SOCK_STREAM) {
		err = toy_direct_give(sk, &peer->sk, msg, size);
		if (!err)
			err = toy_stream_append(sk, &peer->sk, msg, size);
		if (err)
			return err;
	}
	/* Room for appending only where the reader is behind. */
	skb = toy_alloc_data_skb(sk, msg, size, sk->sk_type == SOCK_STREAM &&
				 !skb_queue_empty_lockless(&peer->sk.sk_receive_queue),
				 &err);
	if (!skb)
		return err;
	err = toy_enqueue(&peer->sk, skb, sk, false);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	return size;
}

static int toy_do_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct toy_sock *tsk = toy_sk(sk);
	bool record = sk->sk_type == SOCK_SEQPACKET;
	struct toy_sock *peer = toy_peer(tsk);
	size_t sent = 0, size;
	long timeo;
	int err = 0;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	err = toy_send_cmsgs(sk, msg);
	if (err)
		return err;
	if (!peer)
		return -ENOTCONN;
	if (!len && !record) {
		/* Nothing to send, but a closed stream says so (TCP). */
		err = toy_send_blocked(sk, true);
		toy_send_epipe(sk, err, msg->msg_flags);
		return err;
	}
	if (record && len > min(READ_ONCE(sk->sk_sndbuf),
				READ_ONCE(peer->sk.sk_rcvbuf)))
		return -EMSGSIZE;

	if (!record)
		toy_direct_hint(&peer->sk, len);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	do {
		size = record ? len : min_t(size_t, len - sent,
					    TOY_STREAM_CHUNK);
		if (!record)
			toy_direct_await(sk, &peer->sk, size, timeo);
		err = toy_wait_room(sk, peer, &timeo, !sent);
		if (err)
			break;
		err = toy_send_chunk(sk, peer, msg, size);
		if (err < 0) {
			toy_keep_reset(sk, err, sent);
			break;
		}
		sent += err;
	} while (sent < len);

	if (sent) {
		/* A reply may follow soon: toy_spin_for_data() */
		WRITE_ONCE(tsk->last_send, local_clock());
		return sent;
	}
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
	/* toy_recv_flags() answers MSG_ERRQUEUE in every state, as TCP. */
	if (!(flags & MSG_ERRQUEUE) &&
	    (READ_ONCE(sk->sk_state) == TCP_LISTEN || !toy_peer(toy_sk(sk))))
		ret = -ENOTCONN;
	else if (sk->sk_type == SOCK_SEQPACKET)
		ret = toy_recv_record(sk, msg, len, flags);
	else
		ret = toy_recv_stream(sk, msg, len, flags);
	return toy_call_exit(sock, sk, TOY_CALL_RECVMSG, ret);
}

/* The proto_ops entry: its signature differs by kernel (toy_compat.h). */
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

static __poll_t toy_poll(struct file *file, struct socket *sock,
			 poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer;
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
	peer = toy_peer(tsk);
	if (!peer || (shutdown & SEND_SHUTDOWN))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	else if (toy_poll_room(sock, sk, toy_writable))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	else
		toy_window_closed(sk, peer);
	return mask;
}

/*
 * SO_RCVLOWAT of a stream: a poller waiting for more than is queued may
 * have enough now that the mark is lower; only then it is woken (and
 * O_ASYNC's SIGIO sent), as by TCP's tcp_set_rcvlowat().
 */
static int toy_set_rcvlowat(struct sock *sk, int val)
{
	WRITE_ONCE(sk->sk_rcvlowat, val ? : 1);
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN && toy_poll_data(sk))
		sk->sk_data_ready(sk);
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
	.set_rcvlowat	= toy_set_rcvlowat,
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

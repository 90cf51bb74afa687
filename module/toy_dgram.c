// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy SOCK_DGRAM: UDP-like addressing, but local and reliable.  A
 * datagram is either queued to its receiver or the sender is told why not;
 * a full receiver makes the sender wait (or EAGAIN), it never drops.
 *
 * Locks and references: lock_sock() serialises bind/connect/shutdown of a
 * socket; a sender holds a reference on its receiver (from
 * toy_port_lookup()) while it waits for room on the receiver's
 * backlog_wait queue and queues the skb.  Readers wake that queue when
 * they take a datagram off.  A socketpair() end references its peer
 * (tsk->peer) until release.  tsk->dgram_dst changes under the socket's
 * own queue lock, under which senders check the filter it sets again as
 * they queue (toy_dgram_admit()).
 *
 * poll() of a connected sender whose receiver is full hooks the sender's
 * peer_wake entry onto the receiver's backlog_wait (as AF_UNIX's
 * unix_dgram_peer_wake_me()), so that the receiver's next read wakes the
 * sender's pollers.  wake_target (under the sender's queue lock) holds a
 * reference on that receiver until the sender is released, disconnected or
 * hooked elsewhere; the entry is on the receiver's queue only under that
 * queue's lock, and the sender unhooks it before it can go away.
 */
#include <linux/sched/signal.h>

#include "af_toy.h"
#include "toy_trace.h"

static void toy_dgram_unhook(struct sock *sk);
static void toy_dgram_rehook(struct sock *sk, bool had_dst);
static bool toy_dgram_wake_me(struct sock *sk, struct sock *target);

/*
 * Binds @sk to an ephemeral port if it is not bound yet; with none left,
 * EAGAIN, as UDP's inet_autobind() for connect() and sendto().
 */
static int toy_dgram_autobind(struct sock *sk)
{
	int err;

	lock_sock(sk);
	err = toy_port_autobind(sk);
	release_sock(sk);
	return err == -EADDRINUSE ? -EAGAIN : err;
}

/*
 * @sk's filter (its connected port) changed: senders waiting for room in
 * its queue, and their pollers (hooked there), look again whether it
 * still takes their datagrams (AF_UNIX wakes them only on a reconnect
 * that drops its queue: unix_dgram_disconnected()).
 */
static void toy_dgram_filter_changed(struct sock *sk)
{
	wake_up_interruptible_all(&toy_sk(sk)->backlog_wait);
}

/*
 * (Dis)connect: where a send() without an address goes now, @port (0:
 * nowhere, or the socketpair() peer), set under the lock that
 * toy_dgram_admit() looks at it with; then the pollers and senders that
 * waited for the old destination hear of it.
 */
static void toy_dgram_set_dst(struct sock *sk, u32 port)
{
	struct toy_sock *tsk = toy_sk(sk);
	bool had_dst;

	toy_queue_lock(sk);
	had_dst = tsk->dgram_dst || toy_peer(tsk);
	WRITE_ONCE(tsk->dgram_dst, port);
	toy_set_state(sk, port || toy_peer(tsk) ? TCP_ESTABLISHED : TCP_CLOSE);
	toy_queue_unlock(sk);
	toy_dgram_rehook(sk, had_dst);
	toy_dgram_filter_changed(sk);
}

static int toy_dgram_connect(struct socket *sock, struct sockaddr *uaddr,
			     int alen, int flags)
{
	struct sock *sk = sock->sk;
	u32 port;
	int err;

	if (alen >= (int)sizeof(uaddr->sa_family) &&
	    uaddr->sa_family == AF_UNSPEC) {
		lock_sock(sk);
		/* As UDP; a socketpair() end keeps its port for its peer. */
		if (!toy_peer(toy_sk(sk)))
			toy_port_release_auto(sk);
		toy_dgram_set_dst(sk, 0);
		sock->state = SS_UNCONNECTED;
		release_sock(sk);
		return 0;
	}
	err = toy_check_addr(uaddr, alen, &port);
	if (err)
		return err;
	if (!port)
		return -EINVAL;
	err = toy_dgram_autobind(sk);
	if (err)
		return err;
	lock_sock(sk);
	toy_dgram_set_dst(sk, port);
	sock->state = SS_CONNECTED;
	release_sock(sk);
	return 0;
}

/*
 * The receiver of a datagram from @sk, referenced: msg_name, else the
 * connected port, else the socketpair() peer.
 */
static struct sock *toy_dgram_target(struct sock *sk, struct msghdr *msg,
				     int *err)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer = toy_peer(tsk);
	struct sock *target;
	u32 port;

	if (msg->msg_name) {
		*err = toy_check_addr(msg->msg_name, msg->msg_namelen, &port);
		if (!*err && !port)
			*err = -EINVAL;	/* as UDP's sendto() to port 0 */
		if (*err)
			return NULL;
	} else {
		port = READ_ONCE(tsk->dgram_dst);
		if (!port && peer) {
			sock_hold(&peer->sk);
			return &peer->sk;
		}
		if (!port) {
			*err = -EDESTADDRREQ;
			return NULL;
		}
	}
	*err = toy_dgram_autobind(sk);
	if (*err)
		return NULL;
	target = toy_port_lookup(toy_sk_net(sk), SOCK_DGRAM, port);
	if (!target)
		*err = -ECONNREFUSED;
	return target;
}

/*
 * The filter of @target by ports and pointers alone: a connected receiver
 * takes datagrams only from the port it named, a socketpair() end only
 * from its peer.  Never follows @target's peer, so needs no lock.
 */
static bool toy_dgram_filter_passes(struct sock *target, struct sock *from)
{
	struct toy_sock *ttarget = toy_sk(target);
	u32 dst = READ_ONCE(ttarget->dgram_dst);
	struct toy_sock *peer = toy_peer(ttarget);

	return dst ? dst == READ_ONCE(toy_sk(from)->port) :
		     !peer || peer == toy_sk(from);
}

/*
 * Whether @target takes a datagram from @from: the filter, which a
 * socketpair() end's peer sets only while it lives (AF_UNIX: until a
 * send() to the closed peer has said ECONNREFUSED).  Under @target's queue
 * lock: its release marks it dead there before it drops its peer, so a
 * live @target's peer may be looked at.  A dead one refuses later.
 */
static bool toy_dgram_accepts(struct sock *target, struct sock *from)
{
	struct toy_sock *peer;

	if (sock_flag(target, SOCK_DEAD) ||
	    toy_dgram_filter_passes(target, from))
		return true;
	/* Refused: a port it named, or a peer that is not @from. */
	peer = toy_peer(toy_sk(target));
	return !toy_sk(target)->dgram_dst && sock_flag(&peer->sk, SOCK_DEAD);
}

/*
 * toy_dgram_accepts() before a sender waits for room, as AF_UNIX checks:
 * the usual answer without the lock.
 */
static bool toy_dgram_may_send(struct sock *target, struct sock *from)
{
	bool ok;

	if (toy_dgram_filter_passes(target, from))
		return true;
	toy_queue_lock(target);
	ok = toy_dgram_accepts(target, from);
	toy_queue_unlock(target);
	return ok;
}

/*
 * toy_enqueue()'s rules for a datagram, under @target's queue lock: the
 * filter again, since @target may have connected elsewhere while we
 * waited for room (AF_UNIX: EPERM), and -ENOBUFS while @target holds
 * SO_RCVBUF or more: senders that all saw room before they copied get in
 * one at a time, the others wait again.
 */
int toy_dgram_admit(struct sock *target, struct sock *from)
{
	if (!toy_dgram_accepts(target, from))
		return -EPERM;
	if (!toy_rq_below(toy_sk(target), READ_ONCE(target->sk_rcvbuf)))
		return -ENOBUFS;
	return 0;
}

/*
 * Why a receiver that stopped reading refuses a datagram, as AF_UNIX
 * says: closed (release marks it dead first), or only shut down for
 * reading (EPIPE, without SIGPIPE: see toy_send_epipe()).
 */
static int toy_dgram_refused(struct sock *target)
{
	return sock_flag(target, SOCK_DEAD) ? -ECONNREFUSED : -EPIPE;
}

/*
 * Whether @sk's datagram may go to @target now: 1, 0 (no room yet) or an
 * error, EPERM once it connected elsewhere.
 */
static int toy_dgram_room(struct sock *sk, struct sock *target)
{
	if (READ_ONCE(target->sk_shutdown) & RCV_SHUTDOWN)
		return toy_dgram_refused(target);
	if (!toy_dgram_may_send(target, sk))
		return -EPERM;
	return toy_rq_below(toy_sk(target), READ_ONCE(target->sk_rcvbuf));
}

/*
 * Waits until @target has room in its queue for @sk; 0 or an error
 * (toy_dgram_room()'s; toy_dgram_filter_changed() wakes us for EPERM).
 * A queue with room is not locked: the wait queue only when we wait.
 */
static int toy_dgram_wait_room(struct sock *sk, struct sock *target,
			       long *timeo)
{
	struct toy_sock *ttarget = toy_sk(target);
	DEFINE_WAIT(wait);
	int ret;

	ret = toy_dgram_room(sk, target);
	if (ret)
		return min(ret, 0);
	ret = toy_may_sleep(*timeo);	/* before the wait queue's locks */
	if (ret)
		return ret;
	for (;;) {
		prepare_to_wait(&ttarget->backlog_wait, &wait,
				TASK_INTERRUPTIBLE);
		ret = toy_dgram_room(sk, target);
		if (ret) {
			ret = min(ret, 0);
			break;
		}
		ret = toy_may_sleep(*timeo);
		if (ret)
			break;
		*timeo = schedule_timeout(*timeo);
	}
	finish_wait(&ttarget->backlog_wait, &wait);
	return ret;
}

/*
 * Sends one datagram, built once: senders woken together may all have
 * seen room, and those toy_enqueue() turns away (-ENOBUFS) wait again.
 */
static int toy_dgram_send_to(struct sock *sk, struct sock *target,
			     struct msghdr *msg, size_t len)
{
	struct sk_buff *skb = NULL;
	long timeo;
	int err;

	if (!toy_dgram_may_send(target, sk))
		return -EPERM;	/* as unix_may_send(); toy_dgram_admit() again */
	if (len > min(READ_ONCE(sk->sk_sndbuf), READ_ONCE(target->sk_rcvbuf)))
		return -EMSGSIZE;
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	for (;;) {
		err = toy_dgram_wait_room(sk, target, &timeo);
		if (err == -EAGAIN && toy_dgram_wake_me(sk, target))
			continue;	/* it drained while we hooked */
		if (err)
			break;
		if (!skb) {
			skb = toy_alloc_data_skb(sk, msg, len, false, &err);
			if (!skb)
				return err;
		}
		err = toy_enqueue(target, skb, sk, true);
		if (err == -EPIPE)
			err = toy_dgram_refused(target); /* shut down meanwhile */
		if (err != -ENOBUFS)
			break;
	}
	if (err) {
		kfree_skb(skb);
		return err;
	}
	return len;
}

static int toy_dgram_sendmsg(struct socket *sock, struct msghdr *msg,
			     size_t len)
{
	struct sock *sk = sock->sk;
	struct sock *target;
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	toy_call_enter(sock, TOY_CALL_SENDMSG);
	err = toy_send_cmsgs(sk, msg);
	if (err)
		goto out;
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) {
		err = -EPIPE;
		toy_send_epipe(sk, err, msg->msg_flags);
		goto out;
	}
	target = toy_dgram_target(sk, msg, &err);
	if (!target)
		goto out;
	err = toy_dgram_send_to(sk, target, msg, len);
	sock_put(target);
	toy_send_epipe(sk, err, msg->msg_flags);	/* counted, no signal */
out:
	return toy_call_exit(sock, sk, TOY_CALL_SENDMSG, err);
}

static int toy_dgram_recvmsg(struct socket *sock, struct msghdr *msg,
			     size_t len, int flags)
{
	toy_call_enter(sock, TOY_CALL_RECVMSG);
	return toy_call_exit(sock, sock->sk, TOY_CALL_RECVMSG,
			     toy_recv_record(sock->sk, msg, len, flags));
}

/*
 * The receiver a connected sender's datagrams go to, referenced, or NULL
 * (not connected, or nobody bound there).
 */
static struct sock *toy_dgram_connected_to(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	u32 port = READ_ONCE(tsk->dgram_dst);
	struct toy_sock *peer;

	if (port)
		return toy_port_lookup(toy_sk_net(sk), SOCK_DGRAM, port);
	peer = toy_peer(tsk);
	if (!peer)
		return NULL;
	sock_hold(&peer->sk);
	return &peer->sk;
}

/*
 * Runs on the receiver's backlog_wait when it takes a datagram off (or
 * goes away), with that queue's lock held: unhook (poll() hooks again if
 * the receiver is still full) and wake the sender's pollers.  The sender
 * is alive: its release unhooks under the same lock first.
 */
int toy_dgram_peer_wake(struct wait_queue_entry *wait, unsigned int mode,
			int sync, void *key)
{
	struct toy_sock *tsk = container_of(wait, struct toy_sock, peer_wake);
	struct sock *sk = &tsk->sk;

	list_del_init(&wait->entry);
	wake_up_interruptible_poll(sk_sleep(sk), EPOLLOUT | EPOLLWRNORM |
				   EPOLLWRBAND);
	sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
	return 0;
}

/* Takes @sk's peer_wake entry off @target's queue, if it is there. */
static void toy_dgram_unqueue(struct sock *sk, struct sock *target)
{
	wait_queue_head_t *q = &toy_sk(target)->backlog_wait;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	list_del_init(&toy_sk(sk)->peer_wake.entry);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* Release, (dis)connect: @sk no longer waits for any receiver's room. */
static void toy_dgram_unhook(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct sock *old;

	toy_queue_lock(sk);
	old = tsk->wake_target;
	tsk->wake_target = NULL;
	if (old)
		toy_dgram_unqueue(sk, old);
	toy_queue_unlock(sk);
	if (old)
		sock_put(old);
}

/*
 * (Dis)connect, after the new destination is set: pollers ask again,
 * about that one (AF_UNIX: ..._peer_wake_disconnect_wakeup(), after
 * unix_peer() changed).  Woken before, a poller could look at the old
 * receiver, still full, and sleep on.  Woken whenever there was an old
 * destination (@had_dst), hooked onto or not: a poller that read it
 * before the change may not have hooked onto it yet, so the unhook would
 * not tell it.  If it hooks there after all, the hook only wakes it once
 * more, and goes at the next (dis)connect or release.  Without one,
 * poll() said writable by our SO_SNDBUF alone, which no connect() makes
 * any truer.
 */
static void toy_dgram_rehook(struct sock *sk, bool had_dst)
{
	toy_dgram_unhook(sk);
	if (had_dst)
		wake_up_interruptible_poll(sk_sleep(sk), EPOLLOUT |
					   EPOLLWRNORM | EPOLLWRBAND);
}

/* Hooks @sk's pollers onto @target's next read; see toy_dgram_peer_wake(). */
static void toy_dgram_hook(struct sock *sk, struct sock *target)
{
	wait_queue_head_t *q = &toy_sk(target)->backlog_wait;
	struct toy_sock *tsk = toy_sk(sk);
	struct sock *old = NULL;
	unsigned long flags;

	toy_queue_lock(sk);
	if (tsk->wake_target != target) {
		old = tsk->wake_target;
		if (old)
			toy_dgram_unqueue(sk, old);
		sock_hold(target);
		tsk->wake_target = target;
	}
	spin_lock_irqsave(&q->lock, flags);
	if (list_empty(&tsk->peer_wake.entry))
		__add_wait_queue(q, &tsk->peer_wake);
	spin_unlock_irqrestore(&q->lock, flags);
	toy_queue_unlock(sk);
	if (old)
		sock_put(old);
}

static bool toy_dgram_full(struct sock *target)
{
	return !toy_rq_below(toy_sk(target), READ_ONCE(target->sk_rcvbuf)) &&
	       !(READ_ONCE(target->sk_shutdown) & RCV_SHUTDOWN);
}

/*
 * Hooks @sk onto full @target's queue, so that its next read (or a
 * connect() elsewhere) wakes our pollers, then looks again: a read in
 * between is not missed.  Whether @target is still full and takes our
 * datagrams: one it refuses makes a send fail at once (EPERM).
 */
static bool toy_dgram_hook_full(struct sock *sk, struct sock *target)
{
	toy_dgram_hook(sk, target);
	/* Orders our hook before the re-read; the reader's wake pairs. */
	smp_mb();
	return toy_dgram_full(target) && toy_dgram_may_send(target, sk);
}

/*
 * Whether a connected sender's receiver has no room: then a send would
 * wait (or EAGAIN), so poll() must not say writable, and must hear when
 * it drains.
 */
static bool toy_dgram_peer_full(struct sock *sk)
{
	struct sock *target = toy_dgram_connected_to(sk);
	bool full;

	if (!target)
		return false;
	full = toy_dgram_full(target) && toy_dgram_hook_full(sk, target);
	sock_put(target);
	return full;
}

/*
 * A send found @target full (EAGAIN).  An edge-triggered epoll calls no
 * poll() that would arrange a wake-up, so the send does: SOCK_NOSPACE,
 * for our own skbs that @target frees (toy_write_space(), and O_ASYNC's
 * SIGIO), and, if @target is our connected receiver, a hook onto its
 * queue, as AF_UNIX's unix_dgram_peer_wake_me().  True if it has room
 * after all: the caller sends again.
 */
static bool toy_dgram_wake_me(struct sock *sk, struct sock *target)
{
	struct sock *conn = toy_dgram_connected_to(sk);
	bool full;

	/* Its barrier orders the flag before the second look below. */
	toy_note_nospace(sk->sk_socket, sk);
	if (conn == target)
		full = toy_dgram_hook_full(sk, target);
	else
		full = toy_dgram_full(target);
	if (conn)
		sock_put(conn);
	return !full;
}

/* Our own send buffer, and a connected receiver's room. */
static bool toy_dgram_writable(struct sock *sk)
{
	return sock_writeable(sk) && !toy_dgram_peer_full(sk);
}

static __poll_t toy_dgram_poll(struct file *file, struct socket *sock,
			       poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask;

	sock_poll_wait(file, sock, wait);
	mask = toy_poll_rcv(sk, READ_ONCE(sk->sk_shutdown));
	if (toy_poll_room(sock, sk, toy_dgram_writable))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	return mask;
}

static int toy_dgram_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	toy_call_enter(sock, TOY_CALL_SHUTDOWN);
	lock_sock(sk);
	/*
	 * As UDP: an unconnected socket says ENOTCONN but is shut down all
	 * the same, which is how a thread blocked in recvfrom() is stopped.
	 */
	if (!READ_ONCE(toy_sk(sk)->dgram_dst) && !toy_peer(toy_sk(sk)))
		err = -ENOTCONN;
	toy_queue_lock(sk);
	sk->sk_shutdown |= how + 1;
	toy_queue_unlock(sk);
	sk->sk_state_change(sk);
	wake_up_interruptible_all(&toy_sk(sk)->backlog_wait);
	release_sock(sk);
	return toy_call_exit(sock, sk, TOY_CALL_SHUTDOWN, err);
}

static int toy_dgram_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct toy_sock *tsk;

	if (!sk)
		return 0;
	toy_call_enter(sock, TOY_CALL_RELEASE);
	tsk = toy_sk(sk);
	toy_port_unbind(sk);
	toy_sock_unlink(sk);
	toy_dgram_unhook(sk);
	toy_ring_close(sk);

	toy_queue_lock(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	/* Before sock_orphan(): senders tell "closed" from "shut down". */
	sock_set_flag(sk, SOCK_DEAD);
	toy_set_state(sk, TCP_CLOSE);
	toy_queue_unlock(sk);
	toy_purge_queue(sk);
	/* Senders waiting for room in our queue now get ECONNREFUSED. */
	if (wq_has_sleeper(&tsk->backlog_wait))
		wake_up_interruptible_all(&tsk->backlog_wait);

	toy_drop_peer(sk);
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);
	toy_call_exit(sock, NULL, TOY_CALL_RELEASE, 0);
	return 0;
}

const struct proto_ops toy_dgram_ops = {
	.family		= PF_TOY,
	.owner		= THIS_MODULE,
	.release	= toy_dgram_release,
	.bind		= toy_bind,
	.connect	= toy_dgram_connect,
	.socketpair	= toy_socketpair,
	.accept		= sock_no_accept,
	.getname	= toy_getname,
	.poll		= toy_dgram_poll,
	.ioctl		= toy_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= toy_dgram_shutdown,
	.sendmsg	= toy_dgram_sendmsg,
	.recvmsg	= toy_dgram_recvmsg,
	.mmap		= sock_no_mmap,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy receive queues: how data leaves a sender, waits for room, lands on
 * the receiver's queue and is read back, for every socket type.
 *
 * Locking (see af_toy.h): the receiver's queue lock (toy_queue_lock()) protects
 * its queue, rq_mem and sk_shutdown.  Readers hold the receiver's rd_lock,
 * so the skb at the head of the queue stays there while it is copied out
 * without the spinlock (copying to user space may fault and sleep).
 *
 * Memory: a queued skb is charged to its sender's sk_wmem_alloc (bounded by
 * the sender's SO_SNDBUF) and to the receiver's rq_mem (bounded by the
 * receiver's SO_RCVBUF).  Freeing the skb when it is read calls the sender's
 * sk_write_space(), which wakes a blocked writer.
 */
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <trace/events/sock.h>

#include "af_toy.h"

/*
 * Wake-up filters: a socket's one wait queue serves its readers and its
 * writers; a reader has no use for "room to write" and a writer none for
 * "data arrived".  Wake-ups without a key (state changes) reach everyone.
 */
int toy_wake_reader(struct wait_queue_entry *wait, unsigned int mode,
		    int sync, void *key)
{
	if (key && !(key_to_poll(key) & (EPOLLIN | EPOLLRDNORM | EPOLLERR |
					 EPOLLHUP | EPOLLRDHUP)))
		return 0;
	return autoremove_wake_function(wait, mode, sync, key);
}

int toy_wake_writer(struct wait_queue_entry *wait, unsigned int mode,
		    int sync, void *key)
{
	if (key && !(key_to_poll(key) & (EPOLLOUT | EPOLLWRNORM | EPOLLERR |
					 EPOLLHUP)))
		return 0;
	return autoremove_wake_function(wait, mode, sync, key);
}

/*
 * Whether a wait loop may sleep now: 0, or the error that ends the wait
 * (-EAGAIN when the timeout is used up, -EINTR/-ERESTARTSYS on a signal).
 */
int toy_may_sleep(long timeo)
{
	if (!timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(timeo);
	return 0;
}

/*
 * Waits until data, an error or end of stream is queued to @sk.  The caller
 * holds rd_lock, which is dropped while spinning or sleeping so that other
 * readers of a shared socket are not stuck behind us.  Returns 0 or
 * -EAGAIN/-EINTR.  The queue lock orders the checks against
 * toy_enqueue(); prepare_to_wait() before them closes the window for a
 * lost wake-up.
 */
int toy_wait_data(struct sock *sk, long *timeo)
{
	return toy_wait_data_or(sk, timeo, NULL, NULL);
}

/* Whether a reader's wait is over: something to read, or @done(@arg). */
static bool toy_wait_over(struct sock *sk, bool (*done)(const void *arg),
			  const void *arg)
{
	return toy_readable(sk) || (done && done(arg));
}

/*
 * Whether a reader may spin now: it wrote within TOY_SPIN_NS, or it read a
 * record within TOY_SPIN_NS and no backoff is running (a one-way flow may
 * pause for long; an answer to our own request is worth the spin each
 * time).  The fields are a shared hint, not state: two readers of one
 * socket may race on them harmlessly.
 */
static bool toy_may_spin(struct toy_sock *tsk, u64 now)
{
	u16 skip;

	/* Another reader spins: we sleep, and leave its backoff alone. */
	if (test_bit(TOY_SPINNING, &tsk->spin_flags))
		return false;
	/* The answer to a request: as long as it comes within TOY_SPIN_NS */
	if (now - READ_ONCE(tsk->last_send) <= TOY_SPIN_NS)
		return true;
	if (now - READ_ONCE(tsk->last_recv) > TOY_SPIN_NS)
		return false;
	skip = READ_ONCE(tsk->spin_skip);
	if (skip) {
		WRITE_ONCE(tsk->spin_skip, skip - 1);
		return false;
	}
	return true;
}

/*
 * A spin that caught data ends the backoff.  The n-th miss in a row (the
 * spin ran out, or another reader took what came) lets the next
 * 2^(n-1) - 1 waits after a read sleep at once: a single miss (a late
 * record now and then) costs nothing, a writer that always pauses longer
 * than TOY_SPIN_NS soon costs a spin only every 2^(TOY_SPIN_BACKOFF_MAX-1)-th
 * wait after a read (waits while another task wants the CPU do not
 * count: they sleep at once).  The wait for the answer to our own write
 * always spins.
 */
static void toy_spin_learn(struct toy_sock *tsk, bool caught)
{
	u8 n = READ_ONCE(tsk->spin_backoff);

	if (caught) {
		if (n) {
			WRITE_ONCE(tsk->spin_backoff, 0);
			WRITE_ONCE(tsk->spin_skip, 0);
		}
		return;
	}
	n = min(n + 1, TOY_SPIN_BACKOFF_MAX);
	WRITE_ONCE(tsk->spin_backoff, n);
	WRITE_ONCE(tsk->spin_skip, BIT(n - 1) - 1);
}

/* The number of times @current was switched out so far. */
static unsigned long toy_switches(void)
{
	return current->nvcsw + current->nivcsw;
}

/*
 * A reader that has just written (a request) waits for the answer a
 * moment without sleeping, and so does one that has just read a record
 * (the writer is still writing), while nothing else wants this CPU: then
 * the peer runs on another one, and going to sleep there and being woken
 * by it costs more than the wait (as KVM's halt polling reasons).  rd_lock
 * is let go meanwhile, as for a sleep, and one reader of a socket spins at
 * a time (TOY_SPINNING): the others of a shared socket sleep at once.
 * Whether data, an error or end of file came (or @done(@arg)) within
 * TOY_SPIN_NS; the caller looks again under rd_lock, since another reader
 * may have been first, and tells toy_spin_learn() what it found.  A spin
 * cut short (a signal, other work for the CPU) teaches nothing.
 */
static bool toy_spin_for_data(struct sock *sk, bool (*done)(const void *arg),
			      const void *arg)
{
	struct toy_sock *tsk = toy_sk(sk);
	unsigned long switches;
	bool caught;
	u64 start;

	/*
	 * Another task wants this CPU (the peer, when both ends share one):
	 * sleep at once; such waits neither spin nor count in the backoff.
	 */
	if (!single_task_running())
		return false;
	start = local_clock();
	if (!toy_may_spin(tsk, start) ||
	    test_and_set_bit(TOY_SPINNING, &tsk->spin_flags))
		return false;
	switches = toy_switches();
	mutex_unlock(&tsk->rd_lock);
	while (!(caught = toy_wait_over(sk, done, arg))) {
		if (need_resched() || !single_task_running() ||
		    signal_pending(current))
			break;
		if (local_clock() - start > TOY_SPIN_NS) {
			/* Only a spin that really ran out is a miss. */
			if (toy_switches() == switches)
				toy_spin_learn(tsk, false);
			break;
		}
		cpu_relax();
	}
	clear_bit(TOY_SPINNING, &tsk->spin_flags);
	mutex_lock(&tsk->rd_lock);
	return caught;
}

/*
 * toy_wait_data() that also ends when @done(@arg) says so (a direct copy
 * took the reader's buffer: toy_direct.c).
 */
int toy_wait_data_or(struct sock *sk, long *timeo,
		     bool (*done)(const void *arg), const void *arg)
{
	DEFINE_WAIT_FUNC(wait, toy_wake_reader);
	struct toy_sock *tsk = toy_sk(sk);
	bool caught;
	int err = 0;

	lockdep_assert_held(&tsk->rd_lock);
	if (toy_readable(sk))
		return 0;	/* no need to queue ourselves */
	if (*timeo && toy_spin_for_data(sk, done, arg)) {
		/* Still there under rd_lock: a catch; gone: a miss. */
		caught = toy_wait_over(sk, done, arg);
		toy_spin_learn(tsk, caught);
		if (caught)
			return 0;
	}
	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		if (toy_wait_over(sk, done, arg))
			break;
		err = toy_may_sleep(*timeo);
		if (err)
			break;
		mutex_unlock(&tsk->rd_lock);
		*timeo = schedule_timeout(*timeo);
		mutex_lock(&tsk->rd_lock);
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/*
 * Largest payload one skb carries in page fragments on every kernel we
 * build for, even when only order-0 pages can be had (6.1 refuses more
 * than MAX_SKB_FRAGS pages; 6.12 falls back to order 0 page by page).
 */
#define TOY_SKB_PIECE	(MAX_SKB_FRAGS * PAGE_SIZE)

/*
 * Chains pieces for the @size bytes of a record that did not fit in @skb's
 * own fragments onto its frag_list, charged to @sk like the head (the
 * head's destructor gives back its whole truesize).
 */
static int toy_chain_pieces(struct sock *sk, struct sk_buff *skb,
			    size_t size)
{
	struct sk_buff **tail = &skb_shinfo(skb)->frag_list;
	struct sk_buff *piece;
	size_t n;
	int err;

	while (size) {
		n = min_t(size_t, size, TOY_SKB_PIECE);
		piece = alloc_skb_with_frags(0, n, PAGE_ALLOC_COSTLY_ORDER,
					     &err, sk->sk_allocation);
		if (!piece)
			return err;
		piece->len = n;
		piece->data_len = n;
		*tail = piece;
		tail = &piece->next;
		skb->len += n;
		skb->data_len += n;
		skb->truesize += piece->truesize;
		refcount_add(piece->truesize, &sk->sk_wmem_alloc);
		size -= n;
	}
	return 0;
}

/*
 * Allocates an skb for @size bytes charged to @sk and fills it from @msg.
 * Small payloads, and any up to @room bytes, go to the skb's head, made
 * at least @room bytes large so that later small writes can be appended
 * to it (toy_stream_append()); larger payloads go to page fragments and,
 * past TOY_SKB_PIECE, to a frag_list, so that no record beyond
 * SKB_MAX_ALLOC needs a high-order allocation (AF_UNIX puts the excess
 * into a large linear head instead, which fragmentation can make fail).
 * A datagram up to SKB_MAX_ALLOC that is not in a ring page
 * (toy_alloc_data_skb()) takes a head of up to order 2 (@room), as
 * AF_UNIX's: a costly order at most, which does not fail.
 */
struct sk_buff *toy_alloc_skb(struct sock *sk, struct msghdr *msg,
			      size_t size, size_t room, int *err)
{
	size_t linear = size <= max(SKB_MAX_HEAD(0), room) ? size : 0;
	size_t frags = min_t(size_t, size - linear, TOY_SKB_PIECE);
	struct sk_buff *skb;

	skb = sock_alloc_send_pskb(sk, linear ? max(linear, room) : 0, frags,
				   msg->msg_flags & MSG_DONTWAIT, err,
				   PAGE_ALLOC_COSTLY_ORDER);
	if (!skb)
		return NULL;
	skb_put(skb, linear);
	skb->data_len = frags;
	skb->len = linear + frags;
	*err = toy_chain_pieces(sk, skb, size - linear - frags);
	if (!*err)
		*err = skb_copy_datagram_from_iter(skb, 0, &msg->msg_iter,
						   size);
	if (*err) {
		kfree_skb(skb);
		return NULL;
	}
	memset(TOY_SKB_CB(skb), 0, sizeof(struct toy_skb_cb));
	return skb;
}

/*
 * Queues @skb from @from to @to.  Fails with -EPIPE if @to no longer
 * reads or, for a datagram (@dgram), with what toy_dgram_admit() says
 * under @to's queue lock, where the receiver's state it looks at changes
 * too.  On failure the caller still owns the skb.
 */
int toy_enqueue(struct sock *to, struct sk_buff *skb, struct sock *from,
		bool dgram)
{
	struct toy_tap_data data = { .skb = skb, .len = skb->len };
	struct toy_sock *tto = toy_sk(to);
	int err = 0;

	TOY_SKB_CB(skb)->src_port = READ_ONCE(toy_sk(from)->port);
	toy_queue_lock(to);
	if (to->sk_shutdown & RCV_SHUTDOWN)
		err = -EPIPE;
	else if (dgram)
		err = toy_dgram_admit(to, from);
	if (err) {
		toy_queue_unlock(to);
		return err;
	}
	__skb_queue_tail(&to->sk_receive_queue, skb);
	atomic_add(skb->truesize, &tto->rq_mem);
	atomic_add(skb->len, &tto->rq_bytes);
	toy_stat_add(to, TOY_STAT_MEM, skb->truesize);
	if (skb->sk)
		atomic_add(skb->len, &toy_sk(skb->sk)->sq_bytes);
	/*
	 * Still under the lock: once it is dropped a reader may consume and
	 * free the skb, so nothing below may touch it.
	 */
	toy_data_segment(skb->sk, to, &data);
	toy_queue_unlock(to);
	to->sk_data_ready(to);
	return 0;
}

/*
 * Appends a small stream write from @sk to the last skb queued to @to, if
 * that skb is @sk's and its head has room: many small writes then share
 * one skb (one allocation, one charge), as TCP coalesces them.  The bytes
 * are copied in first and published by skb->len under the queue lock,
 * where readers look at skb->len too (toy_stream_copy()).  Returns the
 * bytes appended, 0 if the caller must queue an skb of its own (@msg is
 * then as it was), or -EPIPE if @to no longer reads.
 */
int toy_stream_append(struct sock *sk, struct sock *to, struct msghdr *msg,
		      size_t size)
{
	u8 buf[TOY_APPEND_MAX];
	struct sk_buff *tail;
	int ret = 0;

	/* Nothing queued, nothing to append to (a reader keeping up). */
	if (size > TOY_APPEND_MAX ||
	    skb_queue_empty_lockless(&to->sk_receive_queue))
		return 0;
	if (!copy_from_iter_full(buf, size, &msg->msg_iter))
		return 0;	/* the caller's copy reports the fault */
	toy_queue_lock(to);
	tail = skb_peek_tail(&to->sk_receive_queue);
	if (to->sk_shutdown & RCV_SHUTDOWN) {
		ret = -EPIPE;
	} else if (tail && tail->sk == sk && !skb_is_nonlinear(tail) &&
		   skb_tailroom(tail) >= size) {
		struct toy_tap_data data = {
			.skb = tail, .off = tail->len, .len = size,
		};

		skb_put_data(tail, buf, size);
		atomic_add(size, &toy_sk(to)->rq_bytes);
		atomic_add(size, &toy_sk(sk)->sq_bytes);
		toy_stat_add(to, TOY_STAT_BYTES_APPENDED, size);
		toy_data_segment(sk, to, &data);
		ret = size;
	}
	toy_queue_unlock(to);
	if (ret > 0)
		to->sk_data_ready(to);
	else
		iov_iter_revert(&msg->msg_iter, size);
	return ret;
}

/* @skb, off @sk's queue, was read: give its memory back to the queue. */
static void toy_dequeued(struct sock *sk, struct sk_buff *skb)
{
	struct toy_sock *tsk = toy_sk(sk);

	atomic_sub(skb->truesize, &tsk->rq_mem);
	toy_stat_add(sk, TOY_STAT_MEM, -(long)skb->truesize);
	/* DGRAM senders wait on the receiver for room in its queue. */
	if (wq_has_sleeper(&tsk->backlog_wait))
		wake_up_interruptible(&tsk->backlog_wait);
}

/*
 * Takes the first record of @sk, off the queue unless @peek.  The caller
 * holds rd_lock, so no other reader can overtake it while it copies.
 */
static struct sk_buff *toy_take_record(struct sock *sk, bool peek)
{
	struct sk_buff *skb;

	lockdep_assert_held(&toy_sk(sk)->rd_lock);
	toy_queue_lock(sk);
	skb = skb_peek(&sk->sk_receive_queue);
	if (skb && !peek)
		__skb_unlink(skb, &sk->sk_receive_queue);
	toy_queue_unlock(sk);
	return skb;
}

/* Copying a taken record out failed: it stays first for the next read. */
static void toy_return_record(struct sock *sk, struct sk_buff *skb)
{
	toy_queue_lock(sk);
	__skb_queue_head(&sk->sk_receive_queue, skb);
	toy_queue_unlock(sk);
	sk->sk_data_ready(sk);
}

static void toy_fill_name(struct msghdr *msg, u32 port)
{
	DECLARE_SOCKADDR(struct sockaddr_toy *, addr, msg->msg_name);

	if (!addr)
		return;
	if (!port) {
		/* An unbound socketpair() end: no name, as unix(7)'s. */
		msg->msg_namelen = 0;
		return;
	}
	memset(addr, 0, sizeof(*addr));
	addr->stoy_family = toy_family;
	addr->stoy_port = port;
	msg->msg_namelen = sizeof(*addr);
}

/*
 * Flags every read refuses before it looks at the queue: urgent data
 * (there is none), and the error queue, which is never filled: EAGAIN, as
 * TCP's and UDP's empty one, so that a program draining it eats no data.
 */
static int toy_recv_flags(int flags)
{
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;
	return 0;
}

/*
 * The control messages of a send: those of SOL_SOCKET are checked as TCP
 * checks them (EINVAL for one the socket layer does not know, where UDP
 * would pass sock_cmsg_send()'s own error on);
 * descriptors and credentials, which af_toy does not pass, are refused
 * rather than dropped.  Other levels are ignored, as by TCP and UDP.
 */
int toy_send_cmsgs(struct sock *sk, struct msghdr *msg)
{
	struct sockcm_cookie sockc;
	struct cmsghdr *cmsg;

	if (!msg->msg_controllen)
		return 0;
	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    (cmsg->cmsg_type == SCM_RIGHTS ||
		     cmsg->cmsg_type == SCM_CREDENTIALS))
			return -EOPNOTSUPP;
	}
	sockcm_init(&sockc, sk);
	return sock_cmsg_send(sk, msg, &sockc) ? -EINVAL : 0;
}

/*
 * Reads one record (SEQPACKET) or datagram (DGRAM).  A short buffer
 * truncates it and the rest is dropped; with MSG_TRUNC the record's real
 * length is returned.  If copying to user space fails the record stays
 * queued for the next read.
 */
int toy_recv_record(struct sock *sk, struct msghdr *msg, size_t len,
		    int flags)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct sk_buff *skb;
	size_t size, chunk;
	bool nonblock;
	long timeo;
	int err;

	err = toy_recv_flags(flags);
	if (err)
		return err;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	nonblock = !timeo;
	mutex_lock(&tsk->rd_lock);
	err = toy_wait_data(sk, &timeo);
	if (err)
		goto out;
	skb = toy_take_record(sk, flags & MSG_PEEK);
	if (!skb) {
		/*
		 * An error or end of file woke us.  A datagram socket shut
		 * for reading has no end of file: a non-blocking read finds
		 * nothing (EAGAIN), a blocked one returns 0, as UDP/AF_UNIX.
		 */
		err = sock_error(sk);
		if (!err && nonblock && sk->sk_type == SOCK_DGRAM)
			err = -EAGAIN;
		goto out;
	}

	size = skb->len;
	chunk = min(size, len);
	if (chunk < size)
		msg->msg_flags |= MSG_TRUNC;
	err = skb_copy_datagram_msg(skb, 0, msg, chunk);
	if (err) {
		if (!(flags & MSG_PEEK))
			toy_return_record(sk, skb);
		goto out;
	}
	if (sk->sk_type == SOCK_DGRAM)
		toy_fill_name(msg, TOY_SKB_CB(skb)->src_port);
	if (!(flags & MSG_PEEK)) {
		toy_dequeued(sk, skb);
		toy_skb_consumed(sk, skb, size);
		toy_stat_add(sk, TOY_STAT_BYTES_RECEIVED, chunk);
		consume_skb(skb);
	}
	err = (flags & MSG_TRUNC) ? size : chunk;
	/* More records may follow soon: toy_spin_for_data() */
	WRITE_ONCE(tsk->last_recv, local_clock());
out:
	mutex_unlock(&tsk->rd_lock);
	return err;
}

/*
 * @chunk more bytes of @skb, the first on @sk's queue, were read; whether
 * that emptied it (it is then off the queue and freed).  Decided under the
 * queue lock: a writer may be appending to it (toy_stream_append()).
 */
static bool toy_stream_consume(struct sock *sk, struct sk_buff *skb,
			       u32 chunk)
{
	bool done;

	toy_queue_lock(sk);
	TOY_SKB_CB(skb)->consumed += chunk;
	done = TOY_SKB_CB(skb)->consumed == skb->len;
	if (done)
		__skb_unlink(skb, &sk->sk_receive_queue);
	toy_queue_unlock(sk);
	toy_skb_consumed(sk, skb, chunk);
	toy_stat_add(sk, TOY_STAT_BYTES_RECEIVED, chunk);
	if (done) {
		toy_dequeued(sk, skb);
		consume_skb(skb);
	}
	return done;
}

/*
 * Copies @len bytes at @off of a queued stream skb.  A linear one may be
 * the tail that a small write appends to (skb->len, under the queue
 * lock): its bytes are copied without skb_copy_datagram_msg(), which
 * reads skb->len; those below @off + @len never change.  One with pages
 * is never appended to.  A fault copies nothing (@msg is as it was).
 */
static int toy_stream_copy_skb(const struct sk_buff *skb, u32 off,
			       struct msghdr *msg, size_t len)
{
	size_t n;

	if (skb->data_len)
		return skb_copy_datagram_msg(skb, off, msg, len);
	n = copy_to_iter(skb->data + off, len, &msg->msg_iter);
	if (n == len)
		return 0;
	iov_iter_revert(&msg->msg_iter, n);
	return -EFAULT;
}

/*
 * Stream reads: copies across skbs, consuming them as they empty.  With
 * MSG_TRUNC the bytes are discarded instead of copied, as TCP does.  An
 * skb's length is read under the queue lock, since the last one may grow;
 * the bytes below it never change, so they are copied without the lock
 * (rd_lock keeps other readers off them).
 */
static int toy_stream_copy(struct sock *sk, struct msghdr *msg, size_t len,
			   int flags, size_t *copied)
{
	struct sk_buff_head *q = &sk->sk_receive_queue;
	bool peek = flags & MSG_PEEK;
	struct sk_buff *skb = NULL;
	size_t chunk = 0;
	u32 pos = 0;
	int err;

	while (*copied < len) {
		toy_queue_lock(sk);
		if (!skb || pos == skb->len) {
			skb = skb ? skb_peek_next(skb, q) : skb_peek(q);
			pos = skb ? TOY_SKB_CB(skb)->consumed : 0;
		}
		if (skb)
			chunk = min_t(size_t, skb->len - pos, len - *copied);
		toy_queue_unlock(sk);
		if (!skb)
			break;
		err = (flags & MSG_TRUNC) ? 0 :
		      toy_stream_copy_skb(skb, pos, msg, chunk);
		if (err)
			return err;
		*copied += chunk;
		pos += chunk;
		/* Consumed, the next to read is the head again. */
		if (!peek && toy_stream_consume(sk, skb, chunk))
			skb = NULL;
	}
	return 0;
}

/*
 * The SOCK_STREAM read: queued bytes first, then a pending error
 * (ECONNRESET), then end of file.  MSG_WAITALL/SO_RCVLOWAT set how much to
 * wait for; MSG_PEEK returns what is there without consuming it.
 */
int toy_recv_stream(struct sock *sk, struct msghdr *msg, size_t len,
		    int flags)
{
	struct toy_sock *tsk = toy_sk(sk);
	size_t copied = 0;
	int target, err;
	long timeo;

	err = toy_recv_flags(flags);
	if (err)
		return err;
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	mutex_lock(&tsk->rd_lock);
	if (!len) {
		/* As TCP and AF_UNIX: wait for data (or EAGAIN), read none. */
		err = toy_wait_data(sk, &timeo);
		if (!err && skb_queue_empty_lockless(&sk->sk_receive_queue))
			err = sock_error(sk);
		mutex_unlock(&tsk->rd_lock);
		return err;
	}
	/* A read that may sleep will offer its buffer once it runs dry. */
	if (timeo && toy_direct_wanted(sk, msg, len, flags))
		toy_direct_reading(sk);
	for (;;) {
		err = toy_stream_copy(sk, msg, len, flags, &copied);
		if (err || copied >= len || copied >= target)
			break;
		if (copied && (flags & MSG_PEEK))
			break;
		if (toy_direct_wanted(sk, msg, len - copied, flags)) {
			err = toy_direct_wait(sk, msg, len - copied, &timeo);
			if (err > 0) {
				copied += err;
				/*
				 * rd_lock was let go while the offer stood:
				 * what is queued now may follow bytes that
				 * another reader took meanwhile.
				 */
				if (copied >= target)
					break;
				continue;
			}
		} else {
			err = toy_direct_wait_no_offer(sk, &timeo);
		}
		if (err)
			break;
		toy_queue_lock(sk);
		if (skb_queue_empty(&sk->sk_receive_queue)) {
			/*
			 * Woken for nothing (a writer took an offer and
			 * copied nothing, another reader took the data):
			 * wait again.  Only an error or EOF ends the read,
			 * decided under the lock that orders data and FIN.
			 */
			bool over = sk->sk_err ||
				    (sk->sk_shutdown & RCV_SHUTDOWN);

			toy_queue_unlock(sk);
			if (!over)
				continue;
			err = copied ? 0 : sock_error(sk);
			break;
		}
		toy_queue_unlock(sk);
	}
	/*
	 * No last_recv here: a stream reader that spun for the next small
	 * write would take each alone, where sleeping lets them coalesce
	 * (toy_stream_append()): 1.1-1.2x of AF_UNIX instead of 1.4-1.5x.
	 */
	mutex_unlock(&tsk->rd_lock);
	return copied ? copied : err;
}

/* The length of the record a read would return next, 0 if none. */
u32 toy_next_record_len(struct sock *sk)
{
	struct sk_buff *skb;
	u32 len = 0;

	toy_queue_lock(sk);
	skb = skb_peek(&sk->sk_receive_queue);
	if (skb)
		len = skb->len;
	toy_queue_unlock(sk);
	return len;
}

/*
 * Whether a stream's writer may wait for us: its poll() no longer says
 * writable (toy_writable(): half of its SO_SNDBUF or of our SO_RCVBUF
 * used), and a blocked write needs even less room.  Waiting for
 * SO_RCVLOWAT bytes then would wait for ever (TCP: a closed window makes
 * tcp_epollin_ready() true).  The peer is ours until our own release.
 */
static bool toy_rcv_pressure(struct sock *sk)
{
	struct toy_sock *peer = toy_peer(toy_sk(sk));

	return !peer || !toy_writable(&peer->sk);
}

/*
 * Whether a read finds data: for STREAM, SO_RCVLOWAT bytes, or what
 * there is when no more may come (as TCP's tcp_epollin_ready()).
 */
bool toy_poll_data(struct sock *sk)
{
	int avail;

	if (sk->sk_type != SOCK_STREAM)
		return !skb_queue_empty_lockless(&sk->sk_receive_queue);
	avail = atomic_read(&toy_sk(sk)->rq_bytes);
	return avail && (avail >= sock_rcvlowat(sk, 0, INT_MAX) ||
			 toy_rcv_pressure(sk));
}

/*
 * sk_data_ready of every toy socket: wakes its readers and pollers, and
 * sends O_ASYNC's SIGIO only when a read would find something (a stream
 * below SO_RCVLOWAT would not) or a listener has a connection, as TCP's
 * tcp_data_ready() calls sock_def_readable() only once
 * tcp_epollin_ready().
 */
void toy_data_ready(struct sock *sk)
{
	struct socket_wq *wq;

	toy_trace_data_ready(sk);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLIN | EPOLLPRI |
						EPOLLRDNORM | EPOLLRDBAND);
	rcu_read_unlock();
	if (sock_flag(sk, SOCK_FASYNC) &&
	    (READ_ONCE(sk->sk_state) == TCP_LISTEN || toy_poll_data(sk) ||
	     (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN)))
		sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
}

/*
 * The read side of poll() for every type: a pending error, both directions
 * shut, end of file (EPOLLRDHUP) or queued data.
 */
__poll_t toy_poll_rcv(struct sock *sk, u8 shutdown)
{
	__poll_t mask = 0;

	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (shutdown == SHUTDOWN_MASK)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (toy_poll_data(sk))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/*
 * A write failed with @err: count EPIPE; a STREAM socket also raises
 * SIGPIPE unless MSG_NOSIGNAL, as TCP and AF_UNIX.  Record sockets do not,
 * as UDP and AF_UNIX's DGRAM and SEQPACKET (unix_dgram_sendmsg()).
 */
void toy_send_epipe(struct sock *sk, int err, int flags)
{
	if (err != -EPIPE)
		return;
	toy_stat_add(sk, TOY_STAT_EPIPE, 1);
	if (sk->sk_type == SOCK_STREAM && !(flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
}

/*
 * @bytes of @skb (queued to @sk) were read: uncharge both ends' counters.
 * skb->sk is the sender; its struct sock lives while the skb holds write
 * memory on it.
 */
void toy_skb_consumed(struct sock *sk, struct sk_buff *skb, u32 bytes)
{
	atomic_sub(bytes, &toy_sk(sk)->rq_bytes);
	if (skb->sk)
		atomic_sub(bytes, &toy_sk(skb->sk)->sq_bytes);
}

/* Drops everything still queued to @sk, uncharging the senders. */
void toy_purge_queue(struct sock *sk)
{
	struct sk_buff_head q;
	struct sk_buff *skb;

	/*
	 * Empty stays empty: our callers set RCV_SHUTDOWN under the queue
	 * lock first, which every enqueue checks under it (or they hold the
	 * last reference), so what was queued before is seen here.
	 */
	if (skb_queue_empty_lockless(&sk->sk_receive_queue))
		return;
	/*
	 * Our queue lock, not skb_dequeue()'s irq-saving one per skb; one
	 * by one, since a splice re-initialises the head with plain stores
	 * that a peer's lockless look at it may race with.
	 */
	__skb_queue_head_init(&q);
	toy_queue_lock(sk);
	while ((skb = __skb_dequeue(&sk->sk_receive_queue)))
		__skb_queue_tail(&q, skb);
	toy_queue_unlock(sk);
	while ((skb = __skb_dequeue(&q))) {
		atomic_sub(skb->truesize, &toy_sk(sk)->rq_mem);
		toy_stat_add(sk, TOY_STAT_MEM, -(long)skb->truesize);
		toy_skb_consumed(sk, skb, skb->len - TOY_SKB_CB(skb)->consumed);
		kfree_skb(skb);
	}
}

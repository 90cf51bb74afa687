// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy direct copy: a stream writer copies straight into the buffer of
 * a reader that is already waiting, so the bytes are copied once instead
 * of into an skb and out again.
 *
 * A reader that is about to sleep on an empty queue pins the pages of
 * its own buffer (the destination of its recvmsg) and offers them in
 * tsk->direct.  A writer that finds the offer and the queue still empty
 * claims it, copies into those pages and hands back how much it copied;
 * the reader returns those bytes as the result of its read.  When no
 * reader waits, or data is queued already, the writer queues an skb as
 * always, so the order of the bytes never changes.
 *
 * With both ends on one CPU the reader runs only when the writer sleeps:
 * a writer that went on after handing a piece over would queue the next
 * ones, copied twice.  So a big write waits briefly for a reader that was
 * just handed bytes on this CPU to come back and offer again
 * (toy_direct_await()); 2 context switches per 64 KiB piece buy one copy.
 *
 * Locking: the receiver's queue lock (toy_queue_lock()) protects
 * tsk->direct and tsk->handed_cpu (which a waiting writer also reads
 * without it, and resets with cmpxchg()); the decision to claim is made
 * under it together with the check that nothing is queued.  A reader
 * offers only while no offer is posted, so a socket has at most one (a
 * second reader waits the usual way).
 * struct toy_direct lives on the reader's stack: a claimed offer belongs
 * to the writer until it sets TOY_DIRECT_DONE, and the reader waits for
 * that even if a signal or its timeout ends its sleep, so the writer
 * never touches a freed stack.  The writer copies with page faults
 * disabled (after faulting its source in), so that wait is short and
 * never depends on the writer's memory.
 *
 * References: the reader's pages are pinned (FOLL_PIN, FOLL_WRITE) for
 * the time of the offer and unpinned, dirtied if written, by the reader.
 * The writer holds its peer (toy_peer()), so the reader's socket lives
 * while the writer copies.
 */
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/wait_bit.h>

#include "af_toy.h"

enum {
	TOY_DIRECT_WAITING,		/* offered in tsk->direct */
	TOY_DIRECT_FILLING,		/* claimed: a writer copies */
	TOY_DIRECT_DONE,		/* the writer is done with it */
};

struct toy_direct {
	struct page *pages[TOY_DIRECT_PAGES];
	size_t off;			/* of the first byte in pages[0] */
	size_t len;			/* bytes the pages hold */
	size_t filled;			/* bytes the writer copied */
	int state;
	int cpu;			/* the reader's when it offered */
};

/*
 * Whether a read should offer its buffer: a blocking byte-stream read
 * into user memory, big enough, from a peer whose writes are big too
 * (pinning costs more than copying a few bytes twice).
 */
bool toy_direct_wanted(struct sock *sk, struct msghdr *msg, size_t len,
		       int flags)
{
	return len >= TOY_DIRECT_MIN && !(flags & (MSG_PEEK | MSG_TRUNC)) &&
	       user_backed_iter(&msg->msg_iter) &&
	       READ_ONCE(toy_sk(sk)->big_writes);
}

/* The state of an offer. */
static int toy_direct_state(const struct toy_direct *d)
{
	/* Pairs with toy_direct_give(): who sees DONE sees d->filled. */
	return smp_load_acquire(&d->state);
}

/* Whether a writer took the offer (toy_wait_data_or()'s condition). */
static bool toy_direct_taken(const void *arg)
{
	const struct toy_direct *d = arg;

	return toy_direct_state(d) != TOY_DIRECT_WAITING;
}

/* Takes the offer back, or waits for the writer that claimed it. */
static void toy_direct_withdraw(struct sock *sk, struct toy_direct *d)
{
	struct toy_sock *tsk = toy_sk(sk);

	toy_queue_lock(sk);
	if (tsk->direct == d)
		WRITE_ONCE(tsk->direct, NULL);
	toy_queue_unlock(sk);
	wait_var_event(&d->state, toy_direct_state(d) != TOY_DIRECT_FILLING);
}

/* Wakes @writer if it waits in toy_direct_await() (or for room). */
static void toy_direct_wake_writer(struct sock *writer)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(writer->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM);
	rcu_read_unlock();
}

/* Offers @d to the writers of @sk unless data came meanwhile. */
static bool toy_direct_offer(struct sock *sk, struct toy_direct *d)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_sock *peer;
	bool offered = false, back;

	d->filled = 0;
	d->state = TOY_DIRECT_WAITING;
	d->cpu = raw_smp_processor_id();
	toy_queue_lock(sk);
	if (!tsk->direct && !toy_readable(sk)) {
		WRITE_ONCE(tsk->direct, d);
		offered = true;
	}
	back = tsk->handed_cpu >= 0;
	if (back)
		WRITE_ONCE(tsk->handed_cpu, -1);
	toy_queue_unlock(sk);
	/* A writer may wait for us to come back (toy_direct_await()). */
	peer = toy_peer(tsk);
	if (back && peer)
		toy_direct_wake_writer(&peer->sk);
	return offered;
}

/* Unpins @d's pages, dirtying only those a writer wrote to. */
static void toy_direct_unpin(struct toy_direct *d)
{
	unsigned long n = DIV_ROUND_UP(d->off + d->len, PAGE_SIZE);
	unsigned long w = d->filled ? DIV_ROUND_UP(d->off + d->filled, PAGE_SIZE) : 0;

	unpin_user_pages_dirty_lock(d->pages, w, true);
	unpin_user_pages(d->pages + w, n - w);
}

/*
 * Waits for data as toy_wait_data() does, offering the next @len bytes of
 * @msg's buffer to a writer meanwhile.  Returns the bytes a writer copied
 * there (@msg's iterator is past them), 0 when woken for anything else,
 * or -EAGAIN/-EINTR.  The caller holds rd_lock.
 */
int toy_direct_wait(struct sock *sk, struct msghdr *msg, size_t len,
		    long *timeo)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_direct d;
	bool offered = false;
	ssize_t got;
	int err = 0;

	lockdep_assert_held(&tsk->rd_lock);
	/* A read that will not sleep has nothing to offer for. */
	if (toy_readable(sk) || !*timeo || signal_pending(current))
		return toy_wait_data(sk, timeo);
	got = toy_pin_dest_pages(&msg->msg_iter, d.pages,
				 min_t(size_t, len, TOY_DIRECT_MAX),
				 TOY_DIRECT_PAGES, &d.off);
	if (got <= 0)
		return toy_wait_data(sk, timeo);
	d.len = got;
	d.filled = 0;
	/* A first buffer segment too small to be worth it: the usual way. */
	while (got >= TOY_DIRECT_MIN && toy_direct_offer(sk, &d)) {
		offered = true;
		err = toy_wait_data_or(sk, timeo, toy_direct_taken, &d);
		toy_direct_withdraw(sk, &d);
		/* A writer that copied nothing (a fault): offer again. */
		if (d.filled || err || toy_readable(sk))
			break;
	}
	toy_direct_unpin(&d);
	iov_iter_revert(&msg->msg_iter, d.len - d.filled);
	if (!offered)
		return toy_wait_data(sk, timeo);
	if (d.filled)
		toy_stat_add(sk, TOY_STAT_BYTES_RECEIVED, d.filled);
	return d.filled ? d.filled : err;
}

/* Copies what it can of @n bytes of @from into @d's pages, without faults. */
static size_t toy_direct_copy(struct toy_direct *d, struct iov_iter *from,
			      size_t n)
{
	size_t done = 0, pos, chunk, got;

	n = min(n, d->len);
	while (done < n) {
		pos = d->off + done;
		chunk = min_t(size_t, n - done, PAGE_SIZE - offset_in_page(pos));
		got = copy_page_from_iter_atomic(d->pages[pos / PAGE_SIZE],
						 offset_in_page(pos), chunk,
						 from);
		done += got;
		if (got < chunk)
			break;		/* a fault in our source */
	}
	return done;
}

/* A writer of @to claims the offer of its waiting reader, if any. */
static struct toy_direct *toy_direct_claim(struct sock *to)
{
	struct toy_sock *tto = toy_sk(to);
	struct toy_direct *d;

	toy_queue_lock(to);
	d = tto->direct;
	/* Queued bytes go first; a reader gone away takes nothing. */
	if (d && (!skb_queue_empty(&to->sk_receive_queue) ||
		  (to->sk_shutdown & RCV_SHUTDOWN)))
		d = NULL;
	if (d) {
		WRITE_ONCE(tto->direct, NULL);
		WRITE_ONCE(d->state, TOY_DIRECT_FILLING);
		WRITE_ONCE(tto->handed_cpu, d->cpu);
	}
	toy_queue_unlock(to);
	return d;
}

/*
 * Copies up to @size bytes of @msg from @sk into the buffer its peer @to
 * waits with.  Returns the bytes copied, 0 if no reader waits there (or
 * none could be copied: the caller queues them as usual).
 */
int toy_direct_give(struct sock *sk, struct sock *to, struct msghdr *msg,
		    size_t size)
{
	struct toy_sock *tto = toy_sk(to);
	struct toy_direct *d;
	size_t n;

	if (!READ_ONCE(tto->direct))
		return 0;
	/*
	 * Fault our source in now: the copy runs with faults disabled.  A
	 * source with not one readable byte claims nothing.
	 */
	n = min_t(size_t, size, TOY_DIRECT_MAX);
	if (fault_in_iov_iter_readable(&msg->msg_iter, n) == n)
		return 0;
	d = toy_direct_claim(to);
	if (!d)
		return 0;
	n = toy_direct_copy(d, &msg->msg_iter, size);
	if (n) {
		/* The reader's pages hold the bytes until DONE. */
		struct toy_tap_data data = {
			.pages = d->pages, .off = d->off, .len = n,
		};

		toy_stat_add(to, TOY_STAT_BYTES_DIRECT, n);
		toy_data_segment(sk, to, &data);
	}
	d->filled = n;
	/*
	 * Publishes filled and the bytes (toy_direct_state()).  From here
	 * on @d may be gone: only its address is used, to wake the reader.
	 */
	smp_store_release(&d->state, TOY_DIRECT_DONE);
	/* Orders the store before wake_up_var()'s look for sleepers. */
	smp_mb();
	wake_up_var(&d->state);
	/*
	 * A reader still asleep in toy_wait_data_or(): no key, so that
	 * pollers look again and find nothing new to read (no EPOLLIN, no
	 * SIGIO for bytes that are already in a buffer).
	 */
	wake_up_interruptible(sk_sleep(to));
	return n;
}

/*
 * Tells @to whether its writer writes big pieces (@len, a whole write),
 * for which its reader offers its pages (toy_direct_wanted()).
 */
void toy_direct_hint(struct sock *to, size_t len)
{
	bool big = len >= TOY_DIRECT_MIN;

	if (READ_ONCE(toy_sk(to)->big_writes) != big)
		WRITE_ONCE(toy_sk(to)->big_writes, big);
}

/* Whether toy_direct_await() is over: the reader is back, or need not be. */
static bool toy_direct_back(struct sock *sk, struct sock *to)
{
	return READ_ONCE(toy_sk(to)->handed_cpu) < 0 ||
	       !skb_queue_empty_lockless(&to->sk_receive_queue) ||
	       READ_ONCE(to->sk_shutdown) || READ_ONCE(sk->sk_shutdown) ||
	       READ_ONCE(sk->sk_err) || signal_pending(current);
}

/*
 * Before a big stream write of @size bytes to @to: if the reader there
 * was just handed a piece (toy_direct_give()) and offered it from this
 * CPU, let it come back and offer its buffer again before queueing.  With
 * both ends on one CPU the reader runs only when we sleep, so a writer
 * that went on would fill the queue and every byte would be copied twice;
 * waiting costs two context switches per piece and saves a copy of it.
 * The wait is short (TOY_DIRECT_AWAIT_NS): a reader that does something
 * else first gets its bytes queued as usual.
 */
void toy_direct_await(struct sock *sk, struct sock *to, size_t size,
		      long timeo)
{
	DEFINE_WAIT_FUNC(wait, toy_wake_writer);
	struct toy_sock *tto = toy_sk(to);
	ktime_t until;

	if (size < TOY_DIRECT_MIN || !timeo ||
	    READ_ONCE(tto->handed_cpu) != raw_smp_processor_id())
		return;
	until = ktime_add_ns(ktime_get(), TOY_DIRECT_AWAIT_NS);
	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		if (toy_direct_back(sk, to))
			break;
		if (!schedule_hrtimeout(&until, HRTIMER_MODE_ABS)) {
			/* Not back: queue, and do not wait for it again. */
			cmpxchg(&tto->handed_cpu, raw_smp_processor_id(), -1);
			break;
		}
	}
	finish_wait(sk_sleep(sk), &wait);
}

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
 * A write of TOY_DIRECT_SHARE_MIN bytes or more pins its own pages too
 * and, if the reader waits on another CPU, both copy pieces of it at the
 * same time, page to page (toy_direct_share()).  Streaming, a writer
 * that went on while its reader returns and reads again would queue the
 * next write, and every byte would be copied twice; so a big write waits
 * briefly for a reader that reads big pieces to offer its buffer
 * (toy_direct_await()): sleeping if the reader shares its CPU, which
 * runs the reader, else spinning.
 *
 * Locking: the receiver's queue lock (toy_queue_lock()) protects
 * tsk->direct; the decision to claim is made under it together with the
 * check that nothing is queued.  A reader offers only while no offer is
 * posted, so a socket has at most one (a second reader waits the usual
 * way).  tsk->offer_cpu and offer_handed are a hint, read and written
 * with READ_ONCE()/WRITE_ONCE() (and cmpxchg() to clear): they only
 * decide whether a writer waits, and every such wait is bounded.
 *
 * Waits: struct toy_direct lives on the reader's stack; a claimed offer
 * belongs to the writer until it sets TOY_DIRECT_DONE, and the reader
 * waits for that even if a signal or its timeout ends its sleep, so the
 * writer never touches a freed stack.  The writer copies from pages it
 * pinned before it claimed, or with page faults disabled after faulting
 * its source in, so that wait is short and never depends on the writer's
 * memory.  A piece of a shared copy is taken, copied and counted with
 * preemption off, so the writer's spin for the reader's pieces is short.
 *
 * References: the reader's pages are pinned (FOLL_PIN, FOLL_WRITE) for
 * the time of the offer, at most TOY_DIRECT_OFFER_TIME (a reader that
 * waits longer then sleeps without an offer), and unpinned, dirtied if
 * written, by the reader.
 * A writer's source pages are pinned (FOLL_PIN) and listed on its stack
 * until every piece is copied.  The writer holds its peer (toy_peer()),
 * so the reader's socket lives while the writer copies; not its wait
 * queue, which the reader's close() takes away once the copy is DONE
 * (toy_direct_wake_reader()).
 */
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/sched/clock.h>
#include <linux/sched/stat.h>
#include <linux/sched/signal.h>
#include <linux/wait_bit.h>

#include "af_toy.h"

enum {
	TOY_DIRECT_WAITING,		/* offered in tsk->direct */
	TOY_DIRECT_FILLING,		/* claimed: a writer copies */
	TOY_DIRECT_SHARED,		/* ... and the reader may help */
	TOY_DIRECT_DONE,		/* the writer is done with it */
};

struct toy_direct {
	struct page *pages[TOY_DIRECT_PAGES];
	size_t off;			/* of the first byte in pages[0] */
	size_t len;			/* bytes the pages hold */
	size_t filled;			/* bytes the writer copied */
	int state;
	int cpu;			/* the reader's when it offered */
	/* A copy from the writer's pinned pages (toy_direct_pieces()) */
	struct page **src;
	size_t src_off;			/* of the first byte in src[0] */
	unsigned int pieces;		/* TOY_DIRECT_PIECE parts of filled */
	atomic_t next;			/* the next piece to take */
	atomic_t copied;		/* pieces copied */
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

/* Whether no writer has the offer: not claimed, or done with it. */
static bool toy_direct_settled(const struct toy_direct *d)
{
	int state = toy_direct_state(d);

	return state == TOY_DIRECT_WAITING || state == TOY_DIRECT_DONE;
}

/* Copies bytes [@pos, @pos + @len) of @d from its source pages. */
static void toy_direct_copy_piece(struct toy_direct *d, size_t pos,
				  size_t len)
{
	size_t from, to, n;
	void *src, *dst;

	while (len) {
		from = d->src_off + pos;
		to = d->off + pos;
		n = min3(len, PAGE_SIZE - offset_in_page(from),
			 PAGE_SIZE - offset_in_page(to));
		src = kmap_local_page(d->src[from / PAGE_SIZE]);
		dst = kmap_local_page(d->pages[to / PAGE_SIZE]);
		memcpy(dst + offset_in_page(to), src + offset_in_page(from), n);
		kunmap_local(dst);
		kunmap_local(src);
		pos += n;
		len -= n;
	}
}

/*
 * Takes pieces of @d's copy until none is left and copies them; the
 * writer and, on another CPU, the reader do this at once, so that each
 * copies a part.  Returns the bytes this caller copied.
 */
static size_t toy_direct_pieces(struct toy_direct *d)
{
	size_t pos, len, done = 0;
	unsigned int i;

	for (;;) {
		/*
		 * From taking a piece to counting it copied we are not
		 * preempted: the writer spins for the reader's pieces
		 * (toy_direct_share()), each a memcpy() of 8 KiB at most.
		 */
		preempt_disable();
		i = atomic_inc_return(&d->next) - 1;
		if (i >= d->pieces) {
			preempt_enable();
			return done;
		}
		pos = (size_t)i * TOY_DIRECT_PIECE;
		len = min_t(size_t, d->filled - pos, TOY_DIRECT_PIECE);
		toy_direct_copy_piece(d, pos, len);
		atomic_inc(&d->copied);
		preempt_enable();
		done += len;
	}
}

/* A reader whose writer shares the copy with it takes pieces too. */
static void toy_direct_help(struct sock *sk, struct toy_direct *d)
{
	size_t n;

	if (toy_direct_state(d) != TOY_DIRECT_SHARED)
		return;
	n = toy_direct_pieces(d);
	if (n)
		toy_stat_add(sk, TOY_STAT_BYTES_DIRECT_READER, n);
}

/*
 * Takes the offer back, or waits for the writer that claimed it, taking
 * pieces of the copy if it shares them (toy_direct_share()).
 */
static void toy_direct_withdraw(struct sock *sk, struct toy_direct *d)
{
	struct toy_sock *tsk = toy_sk(sk);

	toy_queue_lock(sk);
	if (tsk->direct == d)
		WRITE_ONCE(tsk->direct, NULL);
	toy_queue_unlock(sk);
	wait_var_event(&d->state,
		       toy_direct_state(d) != TOY_DIRECT_FILLING);
	toy_direct_help(sk, d);
	wait_var_event(&d->state, toy_direct_settled(d));
}

/*
 * After clearing @tsk->offer_cpu: wakes a writer that sleeps until it is
 * cleared (toy_direct_await_sleep()).
 */
static void toy_direct_wake_awaiting(struct toy_sock *tsk)
{
	/* Orders the store before wake_up_var()'s look for sleepers. */
	smp_mb();
	wake_up_var(&tsk->offer_cpu);
}

/* Offers @d to the writers of @sk unless data came meanwhile. */
static bool toy_direct_offer(struct sock *sk, struct toy_direct *d)
{
	struct toy_sock *tsk = toy_sk(sk);
	bool offered = false, back;

	d->filled = 0;
	d->state = TOY_DIRECT_WAITING;
	d->cpu = raw_smp_processor_id();
	toy_queue_lock(sk);
	if (!tsk->direct && !toy_readable(sk)) {
		WRITE_ONCE(tsk->direct, d);
		offered = true;
	}
	back = READ_ONCE(tsk->offer_cpu) >= 0;
	if (back)
		WRITE_ONCE(tsk->offer_cpu, -1);
	toy_queue_unlock(sk);
	if (back)
		toy_direct_wake_awaiting(tsk);
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
 * A big read of @sk is about to sleep without offering its buffer (too
 * small a first segment, the pin failed, a signal): a writer waiting for
 * its offer would wait for nothing.
 */
static void toy_direct_not_offering(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	int cpu = READ_ONCE(tsk->offer_cpu);

	if (cpu >= 0 && cmpxchg(&tsk->offer_cpu, cpu, -1) == cpu)
		toy_direct_wake_awaiting(tsk);
}

/* toy_wait_data() for a big read that offers nothing this time. */
int toy_direct_wait_no_offer(struct sock *sk, long *timeo)
{
	if (!toy_readable(sk))
		toy_direct_not_offering(sk);
	return toy_wait_data(sk, timeo);
}

/*
 * toy_wait_data_or() until a writer takes @d, for at most
 * TOY_DIRECT_OFFER_TIME of *@timeo; *@expired: that time ran out, not
 * the caller's.
 */
static int toy_direct_wait_taken(struct sock *sk, struct toy_direct *d,
				 long *timeo, bool *expired)
{
	long slice = min_t(long, *timeo, TOY_DIRECT_OFFER_TIME);
	long rest = *timeo - slice;
	int err;

	err = toy_wait_data_or(sk, &slice, toy_direct_taken, d);
	if (*timeo != MAX_SCHEDULE_TIMEOUT)
		*timeo = rest + slice;
	/* A signal restarts a read without a timeout, as any other wait. */
	if (err == -EINTR)
		err = sock_intr_errno(*timeo);
	*expired = err == -EAGAIN && *timeo;
	return *expired ? 0 : err;
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
	bool offered = false, expired = false;
	struct toy_direct d;
	ssize_t got;
	int err = 0;

	lockdep_assert_held(&tsk->rd_lock);
	/* A read that will not sleep has nothing to offer for. */
	if (toy_readable(sk) || !*timeo || signal_pending(current))
		return toy_direct_wait_no_offer(sk, timeo);
	got = toy_pin_user_pages(&msg->msg_iter, d.pages,
				 min_t(size_t, len, TOY_DIRECT_MAX),
				 TOY_DIRECT_PAGES, &d.off);
	if (got <= 0)
		return toy_direct_wait_no_offer(sk, timeo);
	d.len = got;
	d.filled = 0;
	/* A first buffer segment too small to be worth it: the usual way. */
	while (got >= TOY_DIRECT_MIN && toy_direct_offer(sk, &d)) {
		offered = true;
		err = toy_direct_wait_taken(sk, &d, timeo, &expired);
		toy_direct_withdraw(sk, &d);
		/* A writer that copied nothing (a fault): offer again. */
		if (d.filled || err || expired || toy_readable(sk))
			break;
	}
	toy_direct_unpin(&d);
	iov_iter_revert(&msg->msg_iter, d.len - d.filled);
	if (!offered || (expired && !d.filled))
		return toy_direct_wait_no_offer(sk, timeo);
	if (d.filled)
		toy_stat_add(sk, TOY_STAT_BYTES_RECEIVED, d.filled);
	return d.filled ? d.filled : err;
}

/*
 * Wakes @to's sleepers (no key: see toy_direct_give()).  Once a copy is
 * DONE the reader may have returned and closed, which takes its wait
 * queue (sock_orphan()): so under RCU, as sock_def_readable() does.
 */
static void toy_direct_wake_reader(struct sock *to)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(to->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible(&wq->wait);
	rcu_read_unlock();
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
		/* Handed bytes, the reader comes back for more. */
		WRITE_ONCE(tto->offer_cpu, d->cpu);
		WRITE_ONCE(tto->offer_handed, true);
	}
	toy_queue_unlock(to);
	return d;
}

/*
 * Copies @n bytes from the pinned pages @src (from @src_off on) into
 * @d's: alone if the reader shares our CPU (it could not run meanwhile),
 * else sharing the pieces with the reader, which we wake for that.
 * Returns when every piece is copied.
 */
static void toy_direct_share(struct sock *to, struct toy_direct *d,
			     struct page **src, size_t src_off, size_t n)
{
	d->src = src;
	d->src_off = src_off;
	d->filled = n;
	d->pieces = DIV_ROUND_UP(n, TOY_DIRECT_PIECE);
	atomic_set(&d->next, 0);
	atomic_set(&d->copied, 0);
	if (d->cpu != raw_smp_processor_id()) {
		/* Publishes the fields above (toy_direct_help()). */
		smp_store_release(&d->state, TOY_DIRECT_SHARED);
		/* The reader sleeps here, or in toy_direct_withdraw(). */
		toy_direct_wake_reader(to);
		/* Orders the store before wake_up_var()'s look for sleepers. */
		smp_mb();
		wake_up_var(&d->state);
	}
	toy_direct_pieces(d);
	/*
	 * A piece the reader still copies is a memcpy() it makes without
	 * being preempted, on another CPU: a short spin.  The acquire lets
	 * the tap read what the reader copied.
	 */
	while (atomic_read_acquire(&d->copied) != d->pieces)
		cpu_relax();
}

/*
 * Pins the next @n bytes of our source and, if the reader of @to still
 * offers its buffer, copies them there page to page.  Pinning first
 * keeps page faults (which may wait on anything) out of the time the
 * reader waits for us.  Returns the bytes copied, 0 if no offer was
 * taken (*@taken: the offer, or NULL), < 0 if nothing could be pinned
 * (the caller copies the way that needs no pins).
 */
static ssize_t toy_direct_give_pinned(struct sock *to, struct msghdr *msg,
				      size_t n, struct toy_direct **taken)
{
	struct page *src[TOY_DIRECT_PAGES];
	unsigned int npages;
	struct toy_direct *d;
	size_t off;
	ssize_t got;

	got = toy_pin_user_pages(&msg->msg_iter, src, n, TOY_DIRECT_PAGES,
				 &off);
	if (got <= 0)
		return -EFAULT;
	npages = DIV_ROUND_UP(off + got, PAGE_SIZE);
	d = toy_direct_claim(to);
	if (d) {
		n = min_t(size_t, got, d->len);
		toy_direct_share(to, d, src, off, n);
	} else {
		n = 0;
	}
	unpin_user_pages(src, npages);
	iov_iter_revert(&msg->msg_iter, got - n);
	*taken = d;
	return n;
}

/*
 * Copies the next @n bytes of our source, faulted in first, into the
 * buffer the reader of @to offers, if it still does, with faults
 * disabled.  Returns the bytes copied; *@taken: the offer, or NULL.
 */
static size_t toy_direct_give_copied(struct sock *to, struct msghdr *msg,
				     size_t n, struct toy_direct **taken)
{
	struct toy_direct *d;

	/* A source with not one readable byte claims nothing. */
	if (fault_in_iov_iter_readable(&msg->msg_iter, n) == n)
		d = NULL;
	else
		d = toy_direct_claim(to);
	*taken = d;
	if (!d)
		return 0;
	d->filled = toy_direct_copy(d, &msg->msg_iter, n);
	return d->filled;
}

/*
 * Copies up to @size bytes of @msg from @sk into the buffer its peer @to
 * waits with.  Returns the bytes copied, 0 if no reader waits there (or
 * none could be copied: the caller queues them as usual).
 */
int toy_direct_give(struct sock *sk, struct sock *to, struct msghdr *msg,
		    size_t size)
{
	size_t want = min_t(size_t, size, TOY_DIRECT_MAX);
	struct toy_direct *d = NULL;
	ssize_t n = -EFAULT;

	if (!READ_ONCE(toy_sk(to)->direct))
		return 0;
	/* Pinning takes one segment: a writev() of small ones copies. */
	if (want >= TOY_DIRECT_SHARE_MIN && user_backed_iter(&msg->msg_iter) &&
	    iov_iter_single_seg_count(&msg->msg_iter) >= want)
		n = toy_direct_give_pinned(to, msg, want, &d);
	if (n < 0)
		n = toy_direct_give_copied(to, msg, want, &d);
	if (!d)
		return 0;
	if (n) {
		/* The reader's pages hold the bytes until DONE. */
		struct toy_tap_data data = {
			.pages = d->pages, .off = d->off, .len = n,
		};

		toy_stat_add(to, TOY_STAT_BYTES_DIRECT, n);
		toy_data_segment(sk, to, &data);
	}
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
	toy_direct_wake_reader(to);
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

/* Whether toy_direct_await() is over: an offer came, or none will. */
static bool toy_direct_back(struct sock *sk, struct sock *to)
{
	return READ_ONCE(toy_sk(to)->offer_cpu) < 0 ||
	       (READ_ONCE(to->sk_shutdown) & RCV_SHUTDOWN) ||
	       (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
	       READ_ONCE(sk->sk_err) || signal_pending(current);
}

/*
 * The end of a wait: after one that ran out, skip the next 2^n - 1 big
 * writes' waits, n the misses in a row (up to TOY_SPIN_BACKOFF_MAX).
 */
static void toy_direct_learn(struct sock *sk, struct sock *to, int cpu,
			     bool missed)
{
	struct toy_sock *tsk = toy_sk(sk);
	u8 n = READ_ONCE(tsk->await_backoff);

	if (!missed) {
		if (n)
			WRITE_ONCE(tsk->await_backoff, 0);
		return;
	}
	cmpxchg(&toy_sk(to)->offer_cpu, cpu, -1);
	if (n < TOY_SPIN_BACKOFF_MAX)
		WRITE_ONCE(tsk->await_backoff, ++n);
	WRITE_ONCE(tsk->await_skip, (1U << n) - 1);
}

enum { TOY_AWAIT_BACK, TOY_AWAIT_MISSED, TOY_AWAIT_SLEEP };

/*
 * Spins while nothing else wants our CPU, until @until (CPU time that
 * would be idle: the reasoning of toy_spin_for_data()).
 */
static int toy_direct_await_spin(struct sock *sk, struct sock *to,
				 ktime_t until)
{
	while (!toy_direct_back(sk, to)) {
		if (need_resched() || !single_task_running())
			return TOY_AWAIT_SLEEP;
		if (ktime_after(ktime_get(), until))
			return TOY_AWAIT_MISSED;
		cpu_relax();
	}
	return TOY_AWAIT_BACK;
}

/*
 * Sleeps until the reader offers (toy_direct_offer() wakes us) or
 * @until.  A shutdown or an error wakes only the socket's own queue: it
 * is seen at @until at the latest.
 */
static int toy_direct_await_sleep(struct sock *sk, struct sock *to,
				  ktime_t until)
{
	int *var = &toy_sk(to)->offer_cpu;
	struct wait_queue_head *wq = __var_waitqueue(var);
	struct wait_bit_queue_entry wbq;
	bool back;

	init_wait_var_entry(&wbq, var, 0);
	for (;;) {
		prepare_to_wait_event(wq, &wbq.wq_entry, TASK_INTERRUPTIBLE);
		back = toy_direct_back(sk, to);
		if (back || !schedule_hrtimeout(&until, HRTIMER_MODE_ABS))
			break;
	}
	finish_wait(wq, &wbq.wq_entry);
	return back ? TOY_AWAIT_BACK : TOY_AWAIT_MISSED;
}

/*
 * Before a big stream write of @size bytes to @to: if a reader there
 * reads big pieces and is expected to offer its buffer soon, wait up to
 * TOY_DIRECT_AWAIT_NS for that offer instead of queueing the bytes.
 * - A reader just handed bytes on our CPU (tsk->offer_handed) runs only
 *   when we sleep: a writer that went on would fill the queue and every
 *   byte would be copied twice; sleeping costs two context switches per
 *   write and saves a copy.  (A reader that is reading on our CPU is
 *   our own thread, or will be back only after we sleep anyway.)
 * - A reader on another CPU, reading or handed bytes, comes back while
 *   we spin (if another task wants our CPU, we sleep instead), and the
 *   write is copied once, by both of us at a time (toy_direct_share()),
 *   instead of twice, once on each CPU.
 * Only while no more is queued than one read takes: a reader with a
 * backlog offers nothing soon.  Waits that run out make the next ones
 * rarer (toy_direct_learn()).
 */
void toy_direct_await(struct sock *sk, struct sock *to, size_t size,
		      long timeo)
{
	struct toy_sock *tsk = toy_sk(sk), *tto = toy_sk(to);
	int cpu = READ_ONCE(tto->offer_cpu);
	bool here = cpu == raw_smp_processor_id();
	ktime_t until;
	int ret;
	u8 skip;

	if (size < TOY_DIRECT_MIN || !timeo || cpu < 0 ||
	    (here && !READ_ONCE(tto->offer_handed)) ||
	    atomic_read(&tto->rq_bytes) > (here ? 0 : TOY_DIRECT_MAX))
		return;
	skip = READ_ONCE(tsk->await_skip);
	if (skip) {
		WRITE_ONCE(tsk->await_skip, skip - 1);
		return;
	}
	until = ktime_add_ns(ktime_get(), TOY_DIRECT_AWAIT_NS);
	ret = here ? TOY_AWAIT_SLEEP : toy_direct_await_spin(sk, to, until);
	if (ret == TOY_AWAIT_SLEEP)
		ret = toy_direct_await_sleep(sk, to, until);
	toy_direct_learn(sk, to, cpu, ret == TOY_AWAIT_MISSED);
}

/*
 * A big read of @sk is under way on this CPU: once it has taken what is
 * queued it will offer its buffer, and a writer on another CPU waits for
 * that.
 */
void toy_direct_reading(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	int cpu = raw_smp_processor_id();

	if (READ_ONCE(tsk->offer_cpu) != cpu)
		WRITE_ONCE(tsk->offer_cpu, cpu);
	if (READ_ONCE(tsk->offer_handed))
		WRITE_ONCE(tsk->offer_handed, false);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy data pages: the writer's page ring, and the one policy that
 * decides where a write's payload goes (toy_alloc_data_skb()).
 *
 * A writer recycles its own data pages: a page is rewritten only once no
 * queued skb refers to it (page_ref_count() == 1), which saves the page
 * allocator and, with init_on_alloc, the zeroing of every page on every
 * write.  The ring holds at most SO_SNDBUF worth of pages, every one
 * charged to the writer's memory cgroup.  Once the writer has written
 * nothing for TOY_RING_IDLE (toy_ring_trim()), the pages no skb refers to
 * go back, whether or not the reader has read everything; a page still
 * queued stays in its slot, so that new writes go on filling it rather
 * than strand it with a fresh one each (its skbs are charged their bytes,
 * not the page), and goes back at a later trim, once read.  A datagram
 * socket's ring is of order-0 pages, one per datagram, charged whole: its
 * datagrams go to any number of receivers, which must not pin more than
 * they are charged (toy_alloc_dgram_ring()).  At release
 * (toy_ring_close()) all go, so an idle or closed socket pins none beyond
 * what its unread bytes use.
 *
 * Locking and references: r->lock (a mutex) serialises the writers of one
 * socket and the trim.  A stream or record writer holds it across the copy
 * from user space, which may fault, so the trim only tries it.  A datagram
 * sender holds it only to pick its page, on which it takes a reference,
 * and copies after letting go: a reference count above 1 keeps the other
 * senders and the trim off that page.  The trim work holds a
 * reference on the socket while queued (armed when an skb of the writer
 * is freed, it requeues itself while the writer keeps writing); it runs
 * on toy_wq, which the module drains at exit.  r->arm_lock makes "not
 * closed, so queue the trim" one step against toy_ring_close()'s "closed,
 * so cancel it": a trim queued after the close would pin the socket, and
 * the module, for TOY_RING_IDLE.  Pages in flight are referenced by their
 * skbs.
 */
#include <linux/slab.h>

#include "af_toy.h"

static struct sk_buff *toy_alloc_dgram_ring(struct sock *sk,
					    struct msghdr *msg, size_t size,
					    int *err);

/*
 * Where @size bytes of user data go: a small payload into an skb's own
 * head (with room for the next ones if @append: a small stream write to a
 * reader that is behind), a medium one of a connection into the ring, a
 * large record into page fragments and a frag_list (toy_alloc_skb()).
 * A datagram that fills most of a page goes into a ring page of its own,
 * charged the whole page (toy_alloc_dgram_ring()); one that does not
 * find a free one, and any other datagram up to SKB_MAX_ALLOC, into the
 * head, as on AF_UNIX.
 */
struct sk_buff *toy_alloc_data_skb(struct sock *sk, struct msghdr *msg,
				   size_t size, bool append, int *err)
{
	struct sk_buff *skb;
	size_t room = 0;

	if (sk->sk_type == SOCK_DGRAM && size > TOY_RING_MIN) {
		if (size > SKB_MAX_HEAD(0) && size <= PAGE_SIZE) {
			skb = toy_alloc_dgram_ring(sk, msg, size, err);
			if (skb || *err)
				return skb;
		}
		if (size <= SKB_MAX_ALLOC)
			room = size;
	} else if (size > TOY_RING_MIN && size <= TOY_RING_MAX) {
		return toy_alloc_skb_ring(sk, msg, size, err);
	}
	if (append && size <= TOY_APPEND_MAX)
		room = TOY_APPEND_ROOM;
	return toy_alloc_skb(sk, msg, size, room, err);
}

/* Gives every ring page back; skbs still in flight keep theirs alive. */
static void toy_ring_release_pages(struct toy_ring *r)
{
	int i;

	for (i = 0; i < TOY_RING_PAGES; i++) {
		if (r->page[i])
			put_page(r->page[i]);
		WRITE_ONCE(r->page[i], NULL);	/* see toy_ring_has_pages() */
	}
	r->cur = 0;
	r->off = 0;
}

/*
 * The trim: gives back the pages no queued skb refers to any more; true
 * if some page is still referenced.
 */
static bool toy_ring_release_free(struct toy_ring *r)
{
	bool kept = false;
	int i;

	for (i = 0; i < TOY_RING_PAGES; i++) {
		if (!r->page[i])
			continue;
		if (page_ref_count(r->page[i]) != 1) {
			kept = true;
			continue;
		}
		put_page(r->page[i]);
		WRITE_ONCE(r->page[i], NULL);
		if (i == r->cur)
			r->off = 0;
	}
	return kept;
}

/* Destructor time: no writer and no trim work are left (they hold @sk). */
void toy_ring_free(struct sock *sk)
{
	struct toy_ring *r = toy_sk(sk)->ring;

	if (!r)
		return;
	toy_ring_release_pages(r);
	kfree(r);
	toy_sk(sk)->ring = NULL;
}

/* Lockless hint for toy_ring_skb_freed(); the trim looks under r->lock. */
static bool toy_ring_has_pages(const struct toy_ring *r)
{
	int i;

	for (i = 0; i < TOY_RING_PAGES; i++)
		if (READ_ONCE(r->page[i]))
			return true;
	return false;
}

/*
 * Queues the trim to run after @delay unless the ring is closed; whether
 * it was queued now (it then holds the caller's reference on the socket).
 */
static bool toy_ring_arm(struct toy_ring *r, unsigned long delay)
{
	unsigned long flags;
	bool queued = false;

	/* An skb may be freed in softirq context, or with interrupts off. */
	spin_lock_irqsave(&r->arm_lock, flags);
	if (!r->closed)
		queued = queue_delayed_work(toy_wq, &r->trim, delay);
	spin_unlock_irqrestore(&r->arm_lock, flags);
	return queued;
}

/*
 * The writer has written nothing for TOY_RING_IDLE: its free pages go back
 * to the allocator.  A writer that wrote meanwhile keeps them for another
 * TOY_RING_IDLE.
 */
static void toy_ring_trim(struct work_struct *work)
{
	struct toy_ring *r = container_of(to_delayed_work(work),
					  struct toy_ring, trim);
	struct sock *sk = r->sk;
	long wait;

	if (READ_ONCE(r->closed)) {	/* toy_ring_close() freed the pages */
		sock_put(sk);
		return;
	}
	/* A writer may hold the lock across a fault: it is not idle. */
	if (!mutex_trylock(&r->lock)) {
		wait = TOY_RING_IDLE;
		goto requeue;
	}
	wait = (long)(r->last_use + TOY_RING_IDLE - jiffies);
	/*
	 * A page still referenced while nothing of the writer's is in flight
	 * (a live skb is charged more than 1): an skb is between sock_wfree(),
	 * whose write-space found this trim pending and armed none, and the
	 * release of its pages, or a datagram sender holds it before it
	 * charges its skb.  Once they are put, the page goes too.
	 */
	if (wait <= 0 && toy_ring_release_free(r) &&
	    sk_wmem_alloc_get(sk) <= 1)
		wait = 1;
	mutex_unlock(&r->lock);
requeue:
	/* Requeued, the work keeps our reference. */
	if (wait > 0 && toy_ring_arm(r, wait))
		return;
	sock_put(sk);
}

/*
 * From write-space (an skb of @sk was freed, and with it perhaps the last
 * reference to a ring page): make sure a trim will look.  The work holds a
 * reference, taken only while the socket still has one (release may be
 * under way).
 */
void toy_ring_skb_freed(struct sock *sk)
{
	struct toy_ring *r = READ_ONCE(toy_sk(sk)->ring);

	if (!r || delayed_work_pending(&r->trim) || !toy_ring_has_pages(r) ||
	    READ_ONCE(r->closed))
		return;
	if (!refcount_inc_not_zero(&sk->sk_refcnt))
		return;
	if (!toy_ring_arm(r, TOY_RING_IDLE))
		sock_put(sk);
}

/*
 * Release: the pages go now, and a pending trim with them, so that the
 * socket (and with it the module) is not pinned after close().
 */
void toy_ring_close(struct sock *sk)
{
	struct toy_ring *r = READ_ONCE(toy_sk(sk)->ring);

	if (!r)
		return;
	mutex_lock(&r->lock);
	spin_lock_irq(&r->arm_lock);
	WRITE_ONCE(r->closed, true);
	spin_unlock_irq(&r->arm_lock);
	toy_ring_release_pages(r);
	mutex_unlock(&r->lock);
	/* Queued before, it is cancelled; after, it was not queued. */
	if (cancel_delayed_work(&r->trim))
		sock_put(sk);	/* the work's reference; ours remains */
}

/*
 * How many ring pages @sk may keep: what its send buffer allows, so that
 * recycling pins no more memory than SO_SNDBUF already lets it queue.
 */
static unsigned int toy_ring_slots(struct sock *sk, const struct toy_ring *r)
{
	unsigned int n = READ_ONCE(sk->sk_sndbuf) >> (PAGE_SHIFT + r->order);

	return clamp(n, 1U, (unsigned int)TOY_RING_PAGES);
}

/* A new ring page (high order if it comes easily), memcg-charged. */
static struct page *toy_ring_alloc_page(struct toy_ring *r, unsigned int idx)
{
	struct page *p;

	p = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_COMP | __GFP_NOWARN |
			__GFP_NORETRY, r->order);
	r->size[idx] = PAGE_SIZE << r->order;
	if (!p && r->order) {
		p = alloc_page(GFP_KERNEL_ACCOUNT);
		r->size[idx] = PAGE_SIZE;
	}
	return p;
}

/* A ring page with room at r->off, or NULL if all are in flight. */
static struct page *toy_ring_page(struct sock *sk, struct toy_ring *r)
{
	unsigned int slots = toy_ring_slots(sk, r);
	struct page *p = r->page[r->cur];
	unsigned int i, idx;

	if (p && r->off < r->size[r->cur])
		return p;
	for (i = 1; i <= slots; i++) {
		idx = (r->cur + i) % slots;
		p = r->page[idx];
		if (!p) {
			p = toy_ring_alloc_page(r, idx);
			if (!p)
				return NULL;
			WRITE_ONCE(r->page[idx], p);
		} else if (page_ref_count(p) != 1) {
			continue;	/* still referenced by queued skbs */
		}
		r->cur = idx;
		r->off = 0;
		return p;
	}
	return NULL;
}

static struct toy_ring *toy_ring_get(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_ring *r = READ_ONCE(tsk->ring);

	if (r)
		return r;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return NULL;
	mutex_init(&r->lock);
	spin_lock_init(&r->arm_lock);
	r->sk = sk;
	/* A datagram's page is charged whole to its receiver: one page each. */
	r->order = sk->sk_type == SOCK_DGRAM ? 0 : TOY_RING_ORDER;
	INIT_DELAYED_WORK(&r->trim, toy_ring_trim);
	if (cmpxchg(&tsk->ring, NULL, r)) {
		kfree(r);
		r = READ_ONCE(tsk->ring);
	}
	return r;
}

/*
 * Copies the next @n bytes of @msg into a fragment of @skb: into the ring
 * if a page has room, else into a one-off page.  Returns the bytes copied
 * (0 on error, *err set) and adds what @skb now holds to *@charge: the
 * bytes of a ring page, which its neighbours share, or a whole one-off
 * page.
 */
static size_t toy_ring_fill(struct sock *sk, struct toy_ring *r,
			    struct sk_buff *skb, struct msghdr *msg, size_t n,
			    size_t *charge, int *err)
{
	struct page *page = toy_ring_page(sk, r);
	unsigned int off = 0;
	bool own = !page;

	if (own) {
		page = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!page) {
			*err = -ENOBUFS;
			return 0;
		}
		n = min_t(size_t, n, PAGE_SIZE);
	} else {
		off = r->off;
		n = min_t(size_t, n, r->size[r->cur] - off);
	}
	if (copy_page_from_iter(page, off, n, &msg->msg_iter) != n) {
		if (own)
			put_page(page);
		*err = -EFAULT;
		return 0;
	}
	if (!own) {
		get_page(page);
		r->off = off + n;
	}
	skb_fill_page_desc(skb, skb_shinfo(skb)->nr_frags, page, off, n);
	skb->len += n;
	skb->data_len += n;
	*charge += own ? PAGE_SIZE : n;
	return n;
}

/*
 * Adds @bytes of ring pages to @skb's truesize and to @sk's write memory:
 * sock_wfree() gives back the whole truesize, so all of it is charged.
 */
static void toy_ring_charge(struct sock *sk, struct sk_buff *skb,
			    size_t bytes)
{
	skb->truesize += bytes;
	refcount_add(bytes, &sk->sk_wmem_alloc);
}

/*
 * Like toy_alloc_skb(), but the payload goes into the writer's recycled
 * pages (no linear data, no page allocation, no zeroing).
 * @size <= TOY_RING_MAX.
 */
struct sk_buff *toy_alloc_skb_ring(struct sock *sk, struct msghdr *msg,
				   size_t size, int *err)
{
	struct toy_ring *r = toy_ring_get(sk);
	size_t done = 0, charge = 0, n;
	struct sk_buff *skb;

	if (!r) {
		*err = -ENOBUFS;
		return NULL;
	}
	/* Charges SO_SNDBUF (SEQPACKET waits for it here; STREAM did). */
	skb = sock_alloc_send_pskb(sk, 0, 0, msg->msg_flags & MSG_DONTWAIT,
				   err, 0);
	if (!skb)
		return NULL;
	*err = 0;
	mutex_lock(&r->lock);
	r->last_use = jiffies;
	while (done < size && !*err) {
		if (skb_shinfo(skb)->nr_frags >= MAX_SKB_FRAGS) {
			*err = -EMSGSIZE;
			break;
		}
		n = toy_ring_fill(sk, r, skb, msg, size - done, &charge, err);
		done += n;
	}
	mutex_unlock(&r->lock);
	toy_ring_charge(sk, skb, charge);
	if (*err) {
		kfree_skb(skb);
		return NULL;
	}
	memset(TOY_SKB_CB(skb), 0, sizeof(struct toy_skb_cb));
	return skb;
}

/*
 * Whether some ring page of @sk is free to write (a lockless hint:
 * toy_ring_page() looks again under r->lock).
 */
static bool toy_ring_may_have_free(struct sock *sk, const struct toy_ring *r)
{
	unsigned int i, slots = toy_ring_slots(sk, r);

	for (i = 0; i < slots; i++) {
		struct page *p = READ_ONCE(r->page[i]);

		if (!p || page_ref_count(p) == 1)
			return true;
	}
	return false;
}

/*
 * A free ring page of @sk's for one datagram, referenced (the ring's
 * reference and ours keep other senders and the trim off it), or NULL.
 * r->lock is held only to pick the page and perhaps allocate it: nobody
 * copies from user space under a datagram socket's.  A non-blocking
 * sender only tries it (another one may be reclaiming for a new page)
 * and takes an skb head if it cannot have it.
 */
static struct page *toy_ring_take_page(struct sock *sk, bool nonblock)
{
	struct toy_ring *r = toy_ring_get(sk);
	struct page *page;

	if (!r || !toy_ring_may_have_free(sk, r))
		return NULL;
	if (nonblock) {
		if (!mutex_trylock(&r->lock))
			return NULL;
	} else {
		mutex_lock(&r->lock);
	}
	r->off = r->size[r->cur];	/* no page shared with another */
	page = toy_ring_page(sk, r);
	if (page) {
		get_page(page);
		r->last_use = jiffies;
	}
	mutex_unlock(&r->lock);
	return page;
}

/*
 * A datagram of @size bytes (at most a page) into a ring page of its own:
 * no page allocation, no zeroing, no order-1 head.  The skb is charged the
 * whole page, so a receiver that holds datagrams of many senders holds
 * the memory its SO_RCVBUF counts, not a page per byte charged.  NULL
 * with *@err 0 when no ring page is free: the caller takes an skb head.
 */
static struct sk_buff *toy_alloc_dgram_ring(struct sock *sk,
					    struct msghdr *msg, size_t size,
					    int *err)
{
	bool nonblock = msg->msg_flags & MSG_DONTWAIT;
	struct page *page = toy_ring_take_page(sk, nonblock);
	struct sk_buff *skb;

	*err = 0;
	if (!page)
		return NULL;
	skb = sock_alloc_send_pskb(sk, 0, 0, nonblock, err, 0);
	if (!skb)
		goto out_page;
	*err = 0;
	if (copy_page_from_iter(page, 0, size, &msg->msg_iter) != size) {
		*err = -EFAULT;
		kfree_skb(skb);
		goto out_page;
	}
	skb_fill_page_desc(skb, 0, page, 0, size);	/* takes our reference */
	skb->len = size;
	skb->data_len = size;
	toy_ring_charge(sk, skb, PAGE_SIZE);
	memset(TOY_SKB_CB(skb), 0, sizeof(struct toy_skb_cb));
	return skb;
out_page:
	put_page(page);		/* back to the ring's alone: free again */
	/* Without an skb (sock_wfree()), nothing else arms the trim. */
	toy_ring_skb_freed(sk);
	return NULL;
}

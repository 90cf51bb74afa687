// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy socket index: every socket of a netns, for /proc/net/toy and
 * sock_diag.
 *
 * The index is TOY_INDEX_LISTS lists, each under its own spinlock.  A
 * socket goes to the list its address hashes to, at the tail, with the
 * next id of that list: each list is sorted by id, and linking or
 * unlinking is one short lock round that allocates nothing, so it cannot
 * fail.  Every socket() and every connection's server side is linked and
 * unlinked once: an xarray under one lock cost a tenth of a connection
 * and made the client's and the server's CPU meet on that lock.
 *
 * A walk visits the lists in order and each list in id order.  Its cursor
 * names a list and the first id to consider there, so a walk that lets its
 * lock go resumes in that list, skipping its lower ids (a list holds a
 * TOY_INDEX_LISTS-th of the sockets, as AF_UNIX's buckets: its walk skips
 * within a bucket the same way), never the lists before; it holds one
 * list's lock at a time (innermost: nothing is taken under it but
 * sk_callback_lock), which keeps that list's sockets allocated, since a
 * socket unlinks itself in release, before its last reference can go.
 * The index holds no reference.
 *
 * A cursor (u64 on every kernel) packs the list number in its low
 * TOY_INDEX_BITS bits and the id above them: a list would need 2^56
 * sockets before its ids ran out.
 */
#include <linux/hash.h>
#include <linux/slab.h>

#include "af_toy.h"

#define TOY_INDEX_LISTS		BIT(TOY_INDEX_BITS)
#define TOY_INDEX_MASK		(TOY_INDEX_LISTS - 1)
/* Past the last socket of the last list. */
#define TOY_INDEX_END		U64_MAX

int toy_net_init_index(struct toy_net *tn)
{
	unsigned int i;

	tn->socks = kvcalloc(TOY_INDEX_LISTS, sizeof(*tn->socks),
			     GFP_KERNEL_ACCOUNT);
	if (!tn->socks)
		return -ENOMEM;
	for (i = 0; i < TOY_INDEX_LISTS; i++) {
		spin_lock_init(&tn->socks[i].lock);
		INIT_LIST_HEAD(&tn->socks[i].head);
	}
	return 0;
}

/* Every socket has left in its release: all lists are empty. */
void toy_net_exit_index(struct toy_net *tn)
{
	unsigned int i;

	for (i = 0; i < TOY_INDEX_LISTS; i++)
		WARN_ON_ONCE(!list_empty(&tn->socks[i].head));
	kvfree(tn->socks);
}

static struct toy_index_list *toy_index_list(struct sock *sk)
{
	return &toy_sk_net(sk)->socks[hash_ptr(sk, TOY_INDEX_BITS)];
}

/* Makes @sk visible to /proc and sock_diag; never fails or sleeps. */
void toy_sock_link(struct sock *sk)
{
	struct toy_index_list *l = toy_index_list(sk);
	struct toy_sock *tsk = toy_sk(sk);

	spin_lock(&l->lock);
	tsk->id = ++l->last_id;
	list_add_tail(&tsk->index_node, &l->head);
	spin_unlock(&l->lock);
	tsk->listed = true;
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, 1);
	toy_stat_add(sk, TOY_STAT_SOCKETS_CREATED, 1);
}

void toy_sock_unlink(struct sock *sk)
{
	struct toy_index_list *l = toy_index_list(sk);
	struct toy_sock *tsk = toy_sk(sk);

	if (!tsk->listed)
		return;
	spin_lock(&l->lock);
	list_del(&tsk->index_node);
	spin_unlock(&l->lock);
	tsk->listed = false;
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, -1);
}

static spinlock_t *toy_index_lock_of(struct toy_net *tn, u64 cursor)
{
	return &tn->socks[cursor & TOY_INDEX_MASK].lock;
}

/* Starts (or resumes) a walk at @cursor (0: the first socket). */
void toy_index_lock(struct toy_net *tn, u64 cursor)
	__acquires(toy_index)
{
	spin_lock(toy_index_lock_of(tn, cursor));
}

void toy_index_unlock(struct toy_net *tn, u64 cursor)
	__releases(toy_index)
{
	spin_unlock(toy_index_lock_of(tn, cursor));
}

/* The cursor just after @tsk, which was found at @cursor. */
static u64 toy_index_after(struct toy_sock *tsk, u64 cursor)
{
	return (tsk->id + 1) << TOY_INDEX_BITS | (cursor & TOY_INDEX_MASK);
}

/*
 * The first socket at or after *@cursor, scanning its list from @from (the
 * list's head, or a socket on it) and then the later lists; NULL at the
 * end.  *@cursor becomes its cursor (TOY_INDEX_END at the end).  The
 * caller holds the lock of *@cursor's list (toy_index_lock()); moving on
 * to a later list moves the lock with it, so the caller holds the lock of
 * the new *@cursor on return.
 */
static struct toy_sock *toy_index_scan(struct toy_net *tn, u64 *cursor,
				       struct list_head *from)
	__must_hold(toy_index)
{
	unsigned int i = *cursor & TOY_INDEX_MASK;
	u64 id = *cursor >> TOY_INDEX_BITS;
	struct toy_sock *tsk = list_entry(from, struct toy_sock, index_node);

	for (;;) {
		lockdep_assert_held(&tn->socks[i].lock);
		list_for_each_entry_continue(tsk, &tn->socks[i].head,
					     index_node) {
			if (tsk->id >= id) {
				*cursor = tsk->id << TOY_INDEX_BITS | i;
				return tsk;
			}
		}
		if (i == TOY_INDEX_MASK)
			break;
		spin_unlock(&tn->socks[i].lock);
		spin_lock(&tn->socks[++i].lock);
		id = 0;
		tsk = list_entry(&tn->socks[i].head, struct toy_sock,
				 index_node);
	}
	*cursor = TOY_INDEX_END;
	return NULL;
}

/* toy_index_scan() from the head of *@cursor's list. */
struct toy_sock *toy_sock_find(struct toy_net *tn, u64 *cursor)
	__must_hold(toy_index)
{
	return toy_index_scan(tn, cursor,
			      &tn->socks[*cursor & TOY_INDEX_MASK].head);
}

/*
 * The socket after @tsk, found at *@cursor; same contract as
 * toy_sock_find().  One step along the list while the lock is kept.  With
 * @resched, others may have the list for a moment first: if they did,
 * @tsk may be gone, and the walk goes on from its cursor instead.
 */
struct toy_sock *toy_index_step(struct toy_net *tn, struct toy_sock *tsk,
				u64 *cursor, bool resched)
	__must_hold(toy_index)
{
	u64 after = toy_index_after(tsk, *cursor);	/* while @tsk is */

	if (resched && cond_resched_lock(toy_index_lock_of(tn, *cursor))) {
		*cursor = after;
		return toy_sock_find(tn, cursor);
	}
	return toy_index_scan(tn, cursor, &tsk->index_node);
}

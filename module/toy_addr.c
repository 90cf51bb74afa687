// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy address table: which socket holds which port, per network
 * namespace and per socket type, and the index of every socket of a netns
 * that /proc/net/toy and sock_diag walk.
 *
 * Locking: each port bucket has its own spinlock, held for one bucket's
 * chain only; a bucket is picked by a keyed hash whose key is random per
 * netns, so no user can build one long chain on purpose.  An ephemeral
 * search probes random ports and takes one bucket lock per candidate, so
 * its lock hold times do not grow with the number of bound sockets.
 * The socket index (toy_net->socks) is an xarray: ids are reserved when a
 * socket is allocated (may sleep), published by toy_sock_link() (cannot
 * fail, does not sleep) and erased by toy_sock_unlink().
 *
 * References: the table holds none.  A socket leaves both the port table
 * and the index in its release before its last reference can go, and
 * lookups take a reference under the bucket lock.
 */
#include <linux/capability.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "af_toy.h"

#define TOY_PORT_BUCKETS	BIT(TOY_PORT_HASH_BITS)

int toy_net_init_table(struct toy_net *tn)
{
	unsigned int i;

	tn->ports = kvcalloc(TOY_PORT_BUCKETS, sizeof(*tn->ports),
			     GFP_KERNEL_ACCOUNT);
	if (!tn->ports)
		return -ENOMEM;
	for (i = 0; i < TOY_PORT_BUCKETS; i++) {
		spin_lock_init(&tn->ports[i].lock);
		INIT_HLIST_HEAD(&tn->ports[i].head);
	}
	tn->hash_key = get_random_u32();
	xa_init_flags(&tn->socks, XA_FLAGS_ALLOC1);
	return 0;
}

/*
 * Is any id still reserved or linked?  Not xa_empty(): an allocation that
 * failed after the xarray grew a level leaves that empty level behind
 * until xa_destroy(), and under XA_FLAGS_ALLOC1 slot 0 holds a marker.
 */
static bool toy_index_in_use(struct toy_net *tn)
{
	XA_STATE(xas, &tn->socks, 1);
	void *entry;

	rcu_read_lock();
	entry = xas_find(&xas, ULONG_MAX);
	rcu_read_unlock();
	return entry;
}

/* Every socket has left in its release: both tables are empty. */
void toy_net_exit_table(struct toy_net *tn)
{
	WARN_ON_ONCE(toy_index_in_use(tn));
	xa_destroy(&tn->socks);
	kvfree(tn->ports);
}

/* STREAM and SEQPACKET share the connection code but not their ports. */
static struct toy_port_bucket *toy_bucket(struct toy_net *tn, int type,
					  u32 port)
{
	return &tn->ports[jhash_2words(port, type, tn->hash_key) &
			  (TOY_PORT_BUCKETS - 1)];
}

static struct sock *toy_port_find(struct toy_port_bucket *b, int type,
				  u32 port)
{
	struct toy_sock *tsk;

	lockdep_assert_held(&b->lock);
	hlist_for_each_entry(tsk, &b->head, bind_node)
		if (tsk->port == port && tsk->sk.sk_type == type)
			return &tsk->sk;
	return NULL;
}

/* Puts @sk on @port if it is free: 0 or -EADDRINUSE. */
static int toy_port_take(struct toy_net *tn, struct sock *sk, u32 port)
{
	struct toy_port_bucket *b = toy_bucket(tn, sk->sk_type, port);
	struct toy_sock *tsk = toy_sk(sk);
	int err = 0;

	spin_lock(&b->lock);
	if (toy_port_find(b, sk->sk_type, port)) {
		err = -EADDRINUSE;
	} else {
		WRITE_ONCE(tsk->port, port);
		tsk->bound = true;
		hlist_add_head(&tsk->bind_node, &b->head);
	}
	spin_unlock(&b->lock);
	return err;
}

/* A uniformly random port of the ephemeral range, without a division. */
static u32 toy_random_ephemeral(void)
{
	u32 range = TOY_EPHEMERAL_HI - TOY_EPHEMERAL_LO + 1;

	return TOY_EPHEMERAL_LO + (u32)(((u64)get_random_u32() * range) >> 32);
}

/* Random probes before the exhaustive scan: 99.7% full still finds one. */
#define TOY_EPHEMERAL_PROBES	2048

/*
 * A free ephemeral port, one candidate (and one bucket lock) at a time.
 * Independent random probes first: their expected number is 1/(share of
 * free ports) however the taken ones are laid out, where a scan from a
 * random start would crawl through the runs earlier scans built.  Only a
 * nearly full range falls back to the scan, which also proves exhaustion.
 */
static int toy_port_take_ephemeral(struct toy_net *tn, struct sock *sk)
{
	u32 range = TOY_EPHEMERAL_HI - TOY_EPHEMERAL_LO + 1;
	u32 start, i;

	for (i = 0; i < TOY_EPHEMERAL_PROBES; i++)
		if (!toy_port_take(tn, sk, toy_random_ephemeral()))
			return 0;
	start = toy_random_ephemeral() - TOY_EPHEMERAL_LO;
	for (i = 0; i < range; i++) {
		if (!toy_port_take(tn, sk, TOY_EPHEMERAL_LO +
				   (start + i) % range))
			return 0;
		cond_resched();
	}
	return -EADDRNOTAVAIL;
}

/*
 * Binds @sk to @port (0: an ephemeral one).  The caller holds lock_sock()
 * so the socket cannot be bound twice concurrently.
 */
int toy_port_bind(struct sock *sk, u32 port)
{
	struct net *net = sock_net(sk);
	struct toy_net *tn = toy_net(net);

	sock_owned_by_me(sk);
	if (toy_sk(sk)->bound)
		return -EINVAL;
	if (port && port < PROT_SOCK &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;
	if (!port)
		return toy_port_take_ephemeral(tn, sk);
	return toy_port_take(tn, sk, port);
}

/* Binds @sk to an ephemeral port unless it is bound; lock_sock() held. */
int toy_port_autobind(struct sock *sk)
{
	sock_owned_by_me(sk);
	return toy_sk(sk)->bound ? 0 : toy_port_bind(sk, 0);
}

void toy_port_unbind(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_port_bucket *b;

	if (!tsk->bound)
		return;
	b = toy_bucket(toy_net(sock_net(sk)), sk->sk_type, tsk->port);
	spin_lock(&b->lock);
	hlist_del_init(&tsk->bind_node);
	tsk->bound = false;
	spin_unlock(&b->lock);
}

/* Returns the socket bound to @port with a reference, or NULL. */
struct sock *toy_port_lookup(struct net *net, int type, u32 port)
{
	struct toy_port_bucket *b = toy_bucket(toy_net(net), type, port);
	struct sock *sk;

	spin_lock(&b->lock);
	sk = toy_port_find(b, type, port);
	if (sk)
		sock_hold(sk);
	spin_unlock(&b->lock);
	return sk;
}

/* Reserves @sk's index slot; may sleep.  Undone by toy_sock_forget(). */
int toy_sock_reserve(struct sock *sk)
{
	struct toy_net *tn = toy_net(sock_net(sk));
	struct toy_sock *tsk = toy_sk(sk);

	/*
	 * A NULL entry reserves the id; walks skip it until it is linked.
	 * The lowest free id keeps the tree dense: a socket made while a
	 * walk is under way may land behind its cursor and be missed, as
	 * with any other family's dump.
	 */
	return xa_alloc(&tn->socks, &tsk->id, NULL, xa_limit_32b,
			GFP_KERNEL_ACCOUNT);
}

/* Frees the index slot of a socket that was never (or is no more) listed. */
void toy_sock_forget(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);

	if (!tsk->id)
		return;
	xa_erase(&toy_net(sock_net(sk))->socks, tsk->id);
	tsk->id = 0;
}

/* Makes @sk visible to /proc and sock_diag; never fails or sleeps. */
void toy_sock_link(struct sock *sk)
{
	struct toy_net *tn = toy_net(sock_net(sk));
	struct toy_sock *tsk = toy_sk(sk);

	/* The reserved slot exists: storing into it allocates nothing. */
	WARN_ON_ONCE(xa_is_err(xa_store(&tn->socks, tsk->id, tsk, GFP_ATOMIC)));
	tsk->listed = true;
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, 1);
	toy_stat_add(sk, TOY_STAT_SOCKETS_CREATED, 1);
}

void toy_sock_unlink(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);

	if (!tsk->listed)
		return;
	toy_sock_forget(sk);
	tsk->listed = false;
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, -1);
}

/*
 * The first listed socket with an id >= *@id, or NULL; *@id is set to its
 * id.  The caller holds the index's xa_lock, which keeps it allocated.
 */
struct toy_sock *toy_sock_find(struct toy_net *tn, unsigned long *id)
{
	lockdep_assert_held(&tn->socks.xa_lock);
	return xa_find(&tn->socks, id, ULONG_MAX, XA_PRESENT);
}

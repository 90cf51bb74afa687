// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy address table: which socket holds which port, per network
 * namespace and per socket type.
 *
 * Locking: each port bucket has its own spinlock, held for one bucket's
 * chain only; a bucket is picked by a keyed hash whose key is random per
 * netns, so no user can build one long chain on purpose.  An ephemeral
 * search probes random ports and takes one bucket lock per candidate, so
 * its lock hold times do not grow with the number of bound sockets.
 *
 * References: the table holds none.  A socket leaves the port table in
 * its release before its last reference can go, and lookups take a
 * reference under the bucket lock.
 */
#include <linux/capability.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/ip.h>

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
	return 0;
}

/* Every socket has left in its release: the table is empty. */
void toy_net_exit_table(struct toy_net *tn)
{
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

/*
 * The ephemeral range is the netns's net.ipv4.ip_local_port_range, less
 * its ip_local_reserved_ports, as for TCP and UDP: the privileged ports
 * already end where theirs do, and the kernel keeps that range above
 * ip_unprivileged_port_start, so a port the kernel picks is never a
 * privileged one.
 */
struct toy_ephemeral {
	u32 lo;
	u32 n;		/* ports in the range, at least 1 */
};

static struct toy_ephemeral toy_ephemeral_range(struct sock *sk)
{
	int lo, hi;

	inet_get_local_port_range(sock_net(sk), &lo, &hi);
	return (struct toy_ephemeral){ .lo = lo, .n = hi - lo + 1 };
}

/* A uniformly random port of @r, without a division. */
static u32 toy_random_ephemeral(const struct toy_ephemeral *r)
{
	return r->lo + (u32)(((u64)get_random_u32() * r->n) >> 32);
}

/* Random probes before the exhaustive scan: 99.7% full still finds one. */
#define TOY_EPHEMERAL_PROBES	2048

/* Puts @sk on ephemeral @port unless it is reserved: 0 or -EADDRINUSE. */
static int toy_port_take_unreserved(struct toy_net *tn, struct sock *sk,
				    u32 port)
{
	if (inet_is_local_reserved_port(sock_net(sk), port))
		return -EADDRINUSE;
	return toy_port_take(tn, sk, port);
}

/*
 * A free ephemeral port, one candidate (and one bucket lock) at a time.
 * Independent random probes first: their expected number is 1/(share of
 * free ports) however the taken ones are laid out, where a scan from a
 * random start would crawl through the runs earlier scans built.  Only a
 * nearly full range falls back to the scan, which also proves exhaustion.
 */
static int toy_port_take_ephemeral(struct toy_net *tn, struct sock *sk)
{
	struct toy_ephemeral r = toy_ephemeral_range(sk);
	u32 start, i;

	/* no more probes than the range has ports: a small one is scanned soon */
	for (i = 0; i < min_t(u32, TOY_EPHEMERAL_PROBES, r.n); i++)
		if (!toy_port_take_unreserved(tn, sk, toy_random_ephemeral(&r)))
			return 0;
	start = toy_random_ephemeral(&r) - r.lo;
	for (i = 0; i < r.n; i++) {
		if (!toy_port_take_unreserved(tn, sk, r.lo + (start + i) % r.n))
			return 0;
		cond_resched();
	}
	return -EADDRINUSE;	/* as TCP's and UDP's bind(), listen() */
}

/*
 * Binds @sk to @port (0: an ephemeral one).  The caller holds lock_sock()
 * so the socket cannot be bound twice concurrently.
 */
int toy_port_bind(struct sock *sk, u32 port)
{
	struct net *net = sock_net(sk);
	struct toy_net *tn = toy_sk_net(sk);

	sock_owned_by_me(sk);
	if (toy_sk(sk)->bound)
		return -EINVAL;
	/* Privileged ports end where TCP's do (ip_unprivileged_port_start). */
	if (port && port < (u32)READ_ONCE(net->ipv4.sysctl_ip_prot_sock) &&
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
	b = toy_bucket(toy_sk_net(sk), sk->sk_type, tsk->port);
	spin_lock(&b->lock);
	hlist_del_init(&tsk->bind_node);
	tsk->bound = false;
	spin_unlock(&b->lock);
}

/*
 * A port the kernel picked (autobind, bind() of port 0) goes when the
 * socket closes again without a connection, one the user named stays: as
 * inet_put_port() unless SOCK_BINDPORT_LOCK.  lock_sock() held.
 */
void toy_port_release_auto(struct sock *sk)
{
	sock_owned_by_me(sk);
	if (sk->sk_userlocks & SOCK_BINDPORT_LOCK)
		return;
	toy_port_unbind(sk);
	WRITE_ONCE(toy_sk(sk)->port, 0);
}

/* Returns the socket bound to @port with a reference, or NULL. */
struct sock *toy_port_lookup(struct toy_net *tn, int type, u32 port)
{
	struct toy_port_bucket *b = toy_bucket(tn, type, port);
	struct sock *sk;

	spin_lock(&b->lock);
	sk = toy_port_find(b, type, port);
	if (sk)
		sock_hold(sk);
	spin_unlock(&b->lock);
	return sk;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy address table: which socket holds which port, per network
 * namespace and per socket type, and the list of every socket of a netns
 * that /proc/net/toy walks.
 *
 * Locking: toy_net->lock protects ports[], socks and next_ephemeral; it is
 * the innermost lock of the module (callers may hold a socket's lock).
 * The table holds no references: a socket leaves it in its release before
 * its last reference can go, and lookups take a reference under the lock.
 */
#include <linux/capability.h>
#include <linux/hash.h>

#include "af_toy.h"

void toy_net_init_table(struct toy_net *tn)
{
	int i;

	spin_lock_init(&tn->lock);
	tn->next_ephemeral = TOY_EPHEMERAL_LO;
	for (i = 0; i < ARRAY_SIZE(tn->ports); i++)
		INIT_HLIST_HEAD(&tn->ports[i]);
	INIT_LIST_HEAD(&tn->socks);
}

/* STREAM and SEQPACKET share the connection code but not their ports. */
static struct hlist_head *toy_bucket(struct toy_net *tn, int type, u32 port)
{
	return &tn->ports[hash_32(port ^ ((u32)type << 24),
				  TOY_PORT_HASH_BITS)];
}

static struct sock *toy_port_find(struct toy_net *tn, int type, u32 port)
{
	struct toy_sock *tsk;

	hlist_for_each_entry(tsk, toy_bucket(tn, type, port), bind_node)
		if (tsk->port == port && tsk->sk.sk_type == type)
			return &tsk->sk;
	return NULL;
}

static int toy_pick_ephemeral(struct toy_net *tn, int type, u32 *port)
{
	u32 range = TOY_EPHEMERAL_HI - TOY_EPHEMERAL_LO + 1;
	u32 i, candidate;

	for (i = 0; i < range; i++) {
		candidate = tn->next_ephemeral;
		tn->next_ephemeral = candidate == TOY_EPHEMERAL_HI ?
				     TOY_EPHEMERAL_LO : candidate + 1;
		if (!toy_port_find(tn, type, candidate)) {
			*port = candidate;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/*
 * Binds @sk to @port (0: an ephemeral one).  The caller holds lock_sock()
 * so the socket cannot be bound twice concurrently.
 */
int toy_port_bind(struct sock *sk, u32 port)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct net *net = sock_net(sk);
	struct toy_net *tn = toy_net(net);
	int err = 0;

	if (tsk->bound)
		return -EINVAL;
	if (port && port < PROT_SOCK &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	spin_lock(&tn->lock);
	if (!port)
		err = toy_pick_ephemeral(tn, sk->sk_type, &port);
	else if (toy_port_find(tn, sk->sk_type, port))
		err = -EADDRINUSE;
	if (!err) {
		WRITE_ONCE(tsk->port, port);
		tsk->bound = true;
		hlist_add_head(&tsk->bind_node,
			       toy_bucket(tn, sk->sk_type, port));
	}
	spin_unlock(&tn->lock);
	return err;
}

void toy_port_unbind(struct sock *sk)
{
	struct toy_sock *tsk = toy_sk(sk);
	struct toy_net *tn = toy_net(sock_net(sk));

	if (!tsk->bound)
		return;
	spin_lock(&tn->lock);
	hlist_del_init(&tsk->bind_node);
	tsk->bound = false;
	spin_unlock(&tn->lock);
}

/* Returns the socket bound to @port with a reference, or NULL. */
struct sock *toy_port_lookup(struct net *net, int type, u32 port)
{
	struct toy_net *tn = toy_net(net);
	struct sock *sk;

	spin_lock(&tn->lock);
	sk = toy_port_find(tn, type, port);
	if (sk)
		sock_hold(sk);
	spin_unlock(&tn->lock);
	return sk;
}

void toy_sock_link(struct sock *sk)
{
	struct toy_net *tn = toy_net(sock_net(sk));

	spin_lock(&tn->lock);
	list_add_tail(&toy_sk(sk)->all_node, &tn->socks);
	spin_unlock(&tn->lock);
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, 1);
	toy_stat_add(sk, TOY_STAT_SOCKETS_CREATED, 1);
}

void toy_sock_unlink(struct sock *sk)
{
	struct toy_net *tn = toy_net(sock_net(sk));

	spin_lock(&tn->lock);
	list_del_init(&toy_sk(sk)->all_node);
	spin_unlock(&tn->lock);
	toy_stat_add(sk, TOY_STAT_SOCKETS_ALIVE, -1);
}

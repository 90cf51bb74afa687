// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy: registration of the AF_TOY family and its per-netns state,
 * socket creation, and the narration every socket type shares (states,
 * segments, counters).  The socket calls the types share are in
 * toy_sock.c.
 *
 * See af_toy.h for the locking and reference rules.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
#include <linux/random.h>
#include <asm/ioctls.h>
#include <linux/sockios.h>
#include <net/netns/generic.h>

#include "af_toy.h"
#include "toy_trace.h"

int toy_family = AF_TOY;
module_param_named(family, toy_family, int, 0444);
MODULE_PARM_DESC(family, "address family number to register (default 25)");

static unsigned int toy_net_id __read_mostly;
struct workqueue_struct *toy_wq __read_mostly;

static struct proto toy_proto = {
	.name		= "AF_TOY",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct toy_sock),
};

struct toy_net *toy_net(const struct net *net)
{
	return net_generic(net, toy_net_id);
}

static const char * const toy_state_names[] = {
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN_SENT",
	[TCP_SYN_RECV]		= "SYN_RECV",
	[TCP_FIN_WAIT1]		= "FIN_WAIT1",
	[TCP_FIN_WAIT2]		= "FIN_WAIT2",
	[TCP_TIME_WAIT]		= "TIME_WAIT",
	[TCP_CLOSE]		= "CLOSED",
	[TCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[TCP_LAST_ACK]		= "LAST_ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

const char *toy_state_name(int state)
{
	if (state < 0 || state >= ARRAY_SIZE(toy_state_names) ||
	    !toy_state_names[state])
		return "UNKNOWN";
	return toy_state_names[state];
}

const char *toy_type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "STREAM";
	case SOCK_SEQPACKET:
		return "SEQPACKET";
	case SOCK_DGRAM:
		return "DGRAM";
	}
	return "UNKNOWN";
}

/*
 * Every state change goes through here so that dynamic debug (and the
 * tracepoints) narrate the connection.  Callers hold the socket's lock or
 * own the socket exclusively (it is not yet reachable by anybody else).
 */
void toy_set_state(struct sock *sk, int state)
{
	int old = sk->sk_state;

	if (old == state)
		return;
	WRITE_ONCE(sk->sk_state, state);
	trace_toy_state(sk, old, state);
	pr_debug("port %u (peer %u): %s -> %s\n", toy_sk(sk)->port,
		 toy_sk(sk)->peer_port, toy_state_name(old),
		 toy_state_name(state));
}

static const char * const toy_seg_names[] = {
	[TOY_SEG_SYN]		= "SYN",
	[TOY_SEG_SYN_ACK]	= "SYN-ACK",
	[TOY_SEG_ACK]		= "ACK",
	[TOY_SEG_DATA]		= "DATA",
	[TOY_SEG_FIN]		= "FIN",
	[TOY_SEG_RST]		= "RST",
};

/* A logical segment travelling from @from to port @to_port. */
void toy_segment(struct sock *from, u32 to_port, enum toy_seg_kind kind,
		 size_t len)
{
	toy_stat_add(from, TOY_STAT_SEG_SYN + kind, 1);
	trace_toy_segment(from, to_port, kind, len);
	/* DATA reaches the tap with its payload, from toy_data_segment(). */
	if (kind != TOY_SEG_DATA)
		toy_tap_segment(from, to_port, kind, NULL);
	if (len)
		pr_debug("%s %u -> %u len %zu\n", toy_seg_names[kind],
			 toy_sk(from)->port, to_port, len);
	else
		pr_debug("%s %u -> %u\n", toy_seg_names[kind],
			 toy_sk(from)->port, to_port);
}

/*
 * @d->len bytes from @from reached @to (queued, appended or copied straight
 * into its reader): counted, narrated, and tapped with their payload @d.
 */
void toy_data_segment(struct sock *from, struct sock *to,
		      const struct toy_tap_data *d)
{
	u32 port = toy_sk(to)->port;

	toy_stat_add(to, TOY_STAT_BYTES_SENT, d->len);
	toy_segment(from, port, TOY_SEG_DATA, d->len);
	toy_tap_segment(from, port, TOY_SEG_DATA, d);
}

/*
 * The inode number user space sees in /proc/PID/fd ("socket:[ino]"), or
 * 0 while a connection waits to be accepted.  Lockless, as the
 * tracepoints call it with preemption off, where sk_callback_lock would
 * sleep on PREEMPT_RT: sockfs frees the inode after an RCU grace period
 * (as toy_write_space() relies on too).
 */
unsigned long toy_sk_ino(struct sock *sk)
{
	unsigned long ino = 0;
	struct socket *sock;

	rcu_read_lock();
	sock = READ_ONCE(sk->sk_socket);
	if (sock)
		ino = SOCK_INODE(sock)->i_ino;
	rcu_read_unlock();
	return ino;
}

/*
 * Our receive-queue lock is the socket lock and is never taken from
 * softirq context, unlike the same lock of INET sockets: give it its own
 * lockdep class, as AF_UNIX does.
 */
static struct lock_class_key toy_queue_lock_key;

static void toy_sk_destruct(struct sock *sk)
{
	/* Still in the index, a walker would find freed memory. */
	WARN_ON_ONCE(toy_sk(sk)->listed);
	toy_purge_queue(sk);
	toy_ring_free(sk);
}

/*
 * Allocates a toy socket.  @sock is NULL for a connection's server side,
 * which lives on the listener's accept queue until accept() grafts it.
 */
struct sock *toy_sk_alloc(struct net *net, struct socket *sock, int type,
			  gfp_t gfp, int kern)
{
	struct toy_sock *tsk;
	struct sock *sk;

	sk = sk_alloc(net, toy_family, gfp, &toy_proto, kern);
	if (!sk)
		return NULL;
	sock_init_data(sock, sk);
	sk->sk_type = type;
	sk->sk_protocol = 0;
	sk->sk_destruct = toy_sk_destruct;
	sk->sk_write_space = toy_write_space;
	sk->sk_data_ready = toy_data_ready;
	/* Data pages and skbs count against the writer's memory cgroup. */
	sk->sk_allocation = GFP_KERNEL_ACCOUNT;
	lockdep_set_class(&sk->sk_receive_queue.lock, &toy_queue_lock_key);

	tsk = toy_sk(sk);
	tsk->tn = toy_net(net);
	tsk->port = 0;
	tsk->peer_port = 0;
	tsk->bound = false;
	INIT_HLIST_NODE(&tsk->bind_node);
	tsk->listed = false;
	INIT_LIST_HEAD(&tsk->index_node);
	tsk->id = 0;
	tsk->peer = NULL;
	INIT_LIST_HEAD(&tsk->accept_q);
	tsk->spare = NULL;
	INIT_LIST_HEAD(&tsk->accept_node);
	init_waitqueue_head(&tsk->backlog_wait);
	mutex_init(&tsk->rd_lock);
	tsk->ring = NULL;
	atomic_set(&tsk->rq_bytes, 0);
	atomic_set(&tsk->sq_bytes, 0);
	atomic_set(&tsk->rq_mem, 0);
	tsk->fin_sent = false;
	tsk->syn_to = NULL;
	tsk->dgram_dst = 0;
	init_waitqueue_func_entry(&tsk->peer_wake, toy_dgram_peer_wake);
	/* Not on any queue yet: list_empty() is what toy_dgram_hook() asks. */
	INIT_LIST_HEAD(&tsk->peer_wake.entry);
	tsk->wake_target = NULL;
	tsk->direct = NULL;
	tsk->big_writes = false;
	tsk->offer_cpu = -1;
	tsk->offer_handed = false;
	tsk->await_skip = 0;
	tsk->await_backoff = 0;
	tsk->last_send = 0;
	tsk->last_recv = 0;
	tsk->spin_skip = 0;
	tsk->spin_backoff = 0;
	tsk->spin_flags = 0;
	atomic_set(&tsk->tap_seq, 0);
	tsk->tap_ack = 0;
	return sk;
}

static int toy_create(struct net *net, struct socket *sock, int protocol,
		      int kern)
{
	const struct proto_ops *ops;
	struct sock *sk;

	/* 0, or the family's own number, as unix(7) takes PF_UNIX. */
	if (protocol && protocol != toy_family)
		return -EPROTONOSUPPORT;

	switch (sock->type) {
	case SOCK_STREAM:
		ops = &toy_stream_ops;
		break;
	case SOCK_SEQPACKET:
		ops = &toy_seqpacket_ops;
		break;
	case SOCK_DGRAM:
		ops = &toy_dgram_ops;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}

	sk = toy_sk_alloc(net, sock, sock->type, GFP_KERNEL, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = ops;
	sock->state = SS_UNCONNECTED;
	toy_sock_link(sk);
	toy_call_exit(sock, sk, TOY_CALL_SOCKET, 0);
	return 0;
}

static struct net_proto_family toy_family_ops __ro_after_init = {
	.create	= toy_create,
	.owner	= THIS_MODULE,
};

static int __net_init toy_net_init(struct net *net)
{
	struct toy_net *tn = toy_net(net);
	int err;

	INIT_LIST_HEAD(&tn->taps);
	err = toy_net_init_table(tn);
	if (err)
		return err;
	err = toy_net_init_index(tn);
	if (err)
		goto out_table;
	tn->stats = alloc_percpu(struct toy_stats);
	if (!tn->stats) {
		err = -ENOMEM;
		goto out_index;
	}
	err = toy_proc_init_net(net);
	if (!err)
		return 0;
	free_percpu(tn->stats);
out_index:
	toy_net_exit_index(tn);
out_table:
	toy_net_exit_table(tn);
	return err;
}

/*
 * Every socket holds a reference on its netns, so none is left here; the
 * counters can go.  The netns's devices went first (device exits run
 * before subsystems'), and with them every monitor's tap.
 */
static void __net_exit toy_net_exit(struct net *net)
{
	WARN_ON_ONCE(!list_empty(&toy_net(net)->taps));
	toy_proc_exit_net(net);
	free_percpu(toy_net(net)->stats);
	toy_net_exit_index(toy_net(net));
	toy_net_exit_table(toy_net(net));
}

static struct pernet_operations toy_net_ops = {
	.init	= toy_net_init,
	.exit	= toy_net_exit,
	.id	= &toy_net_id,
	.size	= sizeof(struct toy_net),
};

static int __init toy_init(void)
{
	int err;

	if (toy_family <= 0 || toy_family >= NPROTO) {
		pr_err("family=%d is out of range (1..%d)\n", toy_family,
		       NPROTO - 1);
		return -EINVAL;
	}

	/* Ring trims run here, so that rmmod can wait for the last one. */
	toy_wq = alloc_workqueue("af_toy", 0, 0);
	if (!toy_wq)
		return -ENOMEM;
	err = proto_register(&toy_proto, 1);
	if (err)
		goto out_wq;

	err = register_pernet_subsys(&toy_net_ops);
	if (err)
		goto out_proto;

	toy_family_ops.family = toy_family;
	err = sock_register(&toy_family_ops);
	if (err) {
		if (err == -EEXIST)
			pr_err("address family %d is already registered\n",
			       toy_family);
		else
			pr_err("cannot register address family %d: %d\n",
			       toy_family, err);
		goto out_pernet;
	}

	pr_info("registered address family %d (stream, seqpacket, dgram)\n",
		toy_family);
	return 0;

out_pernet:
	unregister_pernet_subsys(&toy_net_ops);
out_proto:
	proto_unregister(&toy_proto);
out_wq:
	destroy_workqueue(toy_wq);
	return err;
}

static void __exit toy_exit(void)
{
	sock_unregister(toy_family);
	unregister_pernet_subsys(&toy_net_ops);
	proto_unregister(&toy_proto);
	/* A trim work may still be returning from the last sock_put(). */
	destroy_workqueue(toy_wq);
	pr_info("unregistered address family %d\n", toy_family);
}

module_init(toy_init);
module_exit(toy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_TOY: a local socket family that shows the TCP flow");
MODULE_ALIAS_NETPROTO(PF_TOY);

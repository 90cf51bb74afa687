// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy_diag.ko: sock_diag(7) for AF_TOY, like unix_diag and vsock_diag.
 * A NETLINK_SOCK_DIAG dump with sdiag_family = AF_TOY lists the sockets of
 * the requester's network namespace (struct toy_diag_msg, see
 * uapi/linux/toy_diag.h), filtered by state, type and inode.
 *
 * Locking and references: the sockets are walked by af_toy itself
 * (toy_walk_socks()) under its per-netns socket index lock, and this module
 * only sees snapshots, so it never holds a reference on a socket.  The
 * reply messages are written into the dump skb under that spinlock
 * (nlmsg_put() does not allocate or sleep).  A dump that fills the skb
 * stops and resumes at the saved socket cursor on the next call: a socket
 * closed between two parts is not reported, one created meanwhile may or
 * may not be, and none is reported twice.
 *
 * Module references: af_toy's symbols are taken with symbol_get() for
 * the length of one dump part only, not linked, so af_toy.ko stays
 * unloadable (rmmod, reload with another family=) while this module is
 * loaded; with af_toy absent a dump is simply empty.  sock_diag pins this
 * module (handler owner) while a request is in flight and
 * netlink_dump_start() pins it for the dump.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "toy_export.h"
#include "uapi/linux/toy_diag.h"

static int family = 25;	/* AF_TOY */
module_param(family, int, 0444);
MODULE_PARM_DESC(family,
		 "address family if af_toy is not loaded (default 25); shows the one in use");

struct toy_diag_ctx {
	struct toy_sock_walk walk;
	struct sk_buff *skb;
	struct netlink_callback *cb;
	const struct toy_diag_req *req;
	struct user_namespace *user_ns;
};

static bool toy_diag_match(const struct toy_diag_req *req,
			   const struct toy_sock_info *info)
{
	if (info->state >= 32 || !(req->tdiag_states & (1U << info->state)))
		return false;
	if (req->tdiag_types &&
	    (info->type >= 16 || !(req->tdiag_types & (1U << info->type))))
		return false;
	if (req->tdiag_ino && req->tdiag_ino != (u32)info->ino)
		return false;
	return true;
}

/* Called under af_toy's socket index lock: must not sleep. */
static int toy_diag_fill(struct toy_sock_walk *walk,
			 const struct toy_sock_info *info)
{
	struct toy_diag_ctx *ctx = container_of(walk, struct toy_diag_ctx, walk);
	struct toy_diag_msg *rep;
	struct nlmsghdr *nlh;

	if (!toy_diag_match(ctx->req, info))
		return 0;
	nlh = nlmsg_put(ctx->skb, NETLINK_CB(ctx->cb->skb).portid,
			ctx->cb->nlh->nlmsg_seq, SOCK_DIAG_BY_FAMILY,
			sizeof(*rep), NLM_F_MULTI);
	if (!nlh)
		return -EMSGSIZE;
	rep = nlmsg_data(nlh);
	memset(rep, 0, sizeof(*rep));
	rep->tdiag_family = ctx->req->sdiag_family;
	rep->tdiag_type = info->type;
	rep->tdiag_state = info->state;
	rep->tdiag_shutdown = info->shutdown;
	rep->tdiag_ino = info->ino;
	rep->tdiag_port = info->port;
	rep->tdiag_peer_port = info->peer_port;
	rep->tdiag_rqueue = info->rqueue;
	rep->tdiag_wqueue = info->squeue;
	rep->tdiag_uid = from_kuid_munged(ctx->user_ns, info->uid);
	nlmsg_end(ctx->skb, nlh);
	return 0;
}

static int toy_diag_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct toy_diag_ctx ctx = {
		.walk.fn = toy_diag_fill,
		.skb = skb,
		.cb = cb,
		.req = nlmsg_data(cb->nlh),
		.user_ns = sk_user_ns(NETLINK_CB(cb->skb).sk),
	};
	typeof(toy_walk_socks) *walk;
	typeof(toy_registered_family) *registered;
	u64 cursor;

	walk = symbol_get(toy_walk_socks);
	registered = symbol_get(toy_registered_family);
	/* args[0], args[1]: the cursor (u64) of the next socket to report */
	if (walk && registered && registered() == family) {
		cursor = (u64)(u32)cb->args[1] << 32 | (u32)cb->args[0];
		cursor = walk(sock_net(skb->sk), cursor, &ctx.walk);
		cb->args[0] = (u32)cursor;
		cb->args[1] = cursor >> 32;
	}
	if (registered)
		symbol_put(toy_registered_family);
	if (walk)
		symbol_put(toy_walk_socks);
	return skb->len;
}

static int toy_diag_handler_dump(struct sk_buff *skb, struct nlmsghdr *h)
{
	struct net *net = sock_net(skb->sk);
	const struct toy_diag_req *req;
	struct netlink_dump_control c = {
		.dump = toy_diag_dump,
	};

	if (nlmsg_len(h) < sizeof(*req))
		return -EINVAL;
	req = nlmsg_data(h);
	if (req->sdiag_protocol || req->tdiag_pad)
		return -EINVAL;
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP;
	return netlink_dump_start(net->diag_nlsk, skb, h, &c);
}

/* Not const: the family is only known at load time. */
static struct sock_diag_handler toy_diag_handler __ro_after_init = {
	.owner = THIS_MODULE,
	.dump = toy_diag_handler_dump,
};

static int __init toy_diag_init(void)
{
	typeof(toy_registered_family) *registered;
	int err;

	/* Follow a loaded af_toy's family=, else our own family=. */
	registered = symbol_get(toy_registered_family);
	if (registered) {
		family = registered();
		symbol_put(toy_registered_family);
	}
	if (family <= 0 || family >= AF_MAX) {
		pr_err("family=%d is out of range (1..%d)\n", family,
		       AF_MAX - 1);
		return -EINVAL;
	}
	toy_diag_handler.family = family;
	err = sock_diag_register(&toy_diag_handler);
	if (err)
		pr_err("cannot register sock_diag for family %d: %d\n",
		       family, err);
	else
		pr_info("sock_diag registered for family %d\n", family);
	return err;
}

static void __exit toy_diag_exit(void)
{
	sock_diag_unregister(&toy_diag_handler);
	pr_info("sock_diag unregistered\n");
}

module_init(toy_diag_init);
module_exit(toy_diag_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_toy socket monitoring via SOCK_DIAG");
MODULE_SOFTDEP("pre: af_toy");
/* AF_TOY is 25 (uapi/linux/toy.h); a literal as vsock_diag does. */
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_NETLINK, NETLINK_SOCK_DIAG, 25);

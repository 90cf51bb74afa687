/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel series af_toy builds against (6.1, 6.12).
 * Every version test of the module lives here.
 */
#ifndef _TOY_COMPAT_H
#define _TOY_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>

/*
 * 6.10 folded accept()'s flags and kern arguments into struct
 * proto_accept_arg.  TOY_DEFINE_ACCEPT(name, fn) defines a proto_ops
 * .accept entry point "name" that calls fn(sock, newsock, flags).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define TOY_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock,		\
		struct proto_accept_arg *arg)				\
{									\
	return fn(sock, newsock, arg->flags);				\
}
#else
#define TOY_DEFINE_ACCEPT(name, fn)					\
static int name(struct socket *sock, struct socket *newsock, int flags,\
		bool kern)						\
{									\
	return fn(sock, newsock, flags);				\
}
#endif

#endif /* _TOY_COMPAT_H */

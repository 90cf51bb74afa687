/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel series af_toy builds against (6.1, 6.12).
 * Every version difference of the module lives here; the TOY_HAVE_*
 * symbols come from feature tests in Kbuild, which also catch
 * distribution kernels that backport a change.
 */
#ifndef _TOY_COMPAT_H
#define _TOY_COMPAT_H

#include <linux/net.h>

/*
 * 6.10 folded proto_ops.accept()'s flags and kern arguments into struct
 * proto_accept_arg.  An accept entry point is declared as
 *	int f(struct socket *sock, struct socket *newsock,
 *	      TOY_ACCEPT_PARAMS)
 * and reads the file flags with toy_accept_flags(arg).
 */
#ifdef TOY_HAVE_PROTO_ACCEPT_ARG
static inline int toy_accept_flags(struct proto_accept_arg *arg)
{
	return arg->flags;
}

#define TOY_ACCEPT_PARAMS	struct proto_accept_arg *arg
#else
static inline int toy_accept_flags(int flags)
{
	return flags;
}

/* The kern argument is unused: children are user sockets. */
#define TOY_ACCEPT_PARAMS	int arg, bool kern
#endif

#endif /* _TOY_COMPAT_H */

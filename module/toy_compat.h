/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel series af_toy builds against (6.1, 6.12).
 * Every version difference of the module lives here; the TOY_HAVE_*
 * symbols come from feature tests in Kbuild, which also catch
 * distribution kernels that backport a change.
 */
#ifndef _TOY_COMPAT_H
#define _TOY_COMPAT_H

#include <linux/mm.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/uio.h>

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

/*
 * Pins the user pages under the next @max bytes of the iterator @i (at
 * most @maxpages, into @pages), for writing if @i is a read's
 * destination, and advances @i past them; *@off is the offset of the
 * first byte in pages[0].  Returns the bytes pinned or an error.
 * Release the pages with unpin_user_pages(_dirty_lock)().  6.3 added
 * iov_iter_extract_pages(); before, only the first user segment of @i
 * (ubuf or iovec) is pinned.
 */
#ifdef TOY_HAVE_IOV_ITER_EXTRACT_PAGES
static inline ssize_t toy_pin_user_pages(struct iov_iter *i,
					 struct page **pages, size_t max,
					 unsigned int maxpages, size_t *off)
{
	if (!user_backed_iter(i))
		return -EFAULT;
	return iov_iter_extract_pages(i, &pages, max, maxpages, 0, off);
}
#else
static inline ssize_t toy_pin_user_pages(struct iov_iter *i,
					 struct page **pages, size_t max,
					 unsigned int maxpages, size_t *off)
{
	unsigned long addr;
	size_t seg;
	int n;

	if (iter_is_ubuf(i)) {
		addr = (unsigned long)i->ubuf + i->iov_offset;
		seg = i->count;
	} else if (iter_is_iovec(i) && i->nr_segs) {
		addr = (unsigned long)i->iov->iov_base + i->iov_offset;
		seg = i->iov->iov_len - i->iov_offset;
	} else {
		return -EFAULT;
	}
	max = min3(max, seg, i->count);
	if (!max)
		return 0;
	*off = offset_in_page(addr);
	n = min_t(size_t, DIV_ROUND_UP(*off + max, PAGE_SIZE), maxpages);
	n = pin_user_pages_fast(addr & PAGE_MASK, n,
				iov_iter_rw(i) == READ ? FOLL_WRITE : 0, pages);
	if (n <= 0)
		return n ? n : -EFAULT;
	max = min_t(size_t, max, n * PAGE_SIZE - *off);
	iov_iter_advance(i, max);
	return max;
}
#endif

/*
 * A device whose transmit takes no queue lock (as nlmon's and vsockmon's):
 * 6.12 turned the NETIF_F_LLTX feature into net_device.lltx.
 */
#ifdef TOY_HAVE_NETDEV_LLTX
static inline void toy_dev_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}
#else
static inline void toy_dev_set_lltx(struct net_device *dev)
{
	dev->features |= NETIF_F_LLTX;
}
#endif

/*
 * sock_def_readable()'s tracepoint (6.3 on), which toy_data_ready() fires
 * in its place; the caller includes <trace/events/sock.h>, which a file
 * that creates our own tracepoints must not.
 */
#ifdef TOY_HAVE_TRACE_SK_DATA_READY
#define toy_trace_data_ready(sk)	trace_sk_data_ready(sk)
#else
struct sock;
static inline void toy_trace_data_ready(const struct sock *sk)
{
}
#endif

#endif /* _TOY_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * af_toy: a local, in-kernel socket address family that makes the classic
 * TCP client/server flow observable.  UAPI definitions.
 */
#ifndef _UAPI_LINUX_TOY_H
#define _UAPI_LINUX_TOY_H

#include <linux/types.h>
#include <linux/socket.h>

#define AF_TOY 25
#define PF_TOY AF_TOY

struct sockaddr_toy {
	__kernel_sa_family_t stoy_family;	/* AF_TOY */
	__u16 stoy_reserved;			/* must be zero */
	__u32 stoy_port;			/* host byte order; 0 = any */
};

#endif /* _UAPI_LINUX_TOY_H */

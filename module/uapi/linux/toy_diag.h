/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * af_toy sock_diag(7) interface (af_toy_diag.ko): list the AF_TOY sockets
 * of the requester's network namespace over NETLINK_SOCK_DIAG.
 *
 * Send a SOCK_DIAG_BY_FAMILY request with NLM_F_REQUEST | NLM_F_DUMP and
 * a struct toy_diag_req; the reply is one struct toy_diag_msg per socket,
 * then NLMSG_DONE.  Only dumps are supported (a request without
 * NLM_F_DUMP fails with EOPNOTSUPP).
 */
#ifndef _UAPI_LINUX_TOY_DIAG_H
#define _UAPI_LINUX_TOY_DIAG_H

#include <linux/types.h>

/* Request */
struct toy_diag_req {
	__u8	sdiag_family;	/* AF_TOY (the module's family= value) */
	__u8	sdiag_protocol;	/* must be 0 */
	__u16	tdiag_types;	/* 1 << SOCK_STREAM | ...; 0 = every type */
	__u32	tdiag_states;	/* 1 << TCP_LISTEN | ...: states to report */
	__u32	tdiag_ino;	/* 0, or report only this inode */
	__u32	tdiag_pad;	/* must be 0 */
};

#define TOY_DIAG_ALL_STATES	0xffffffffU

/* Response */
struct toy_diag_msg {
	__u8	tdiag_family;	/* AF_TOY */
	__u8	tdiag_type;	/* SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM */
	__u8	tdiag_state;	/* TCP numbering: TCP_ESTABLISHED = 1 ... */
	__u8	tdiag_shutdown;	/* RCV_SHUTDOWN (1) | SEND_SHUTDOWN (2) */
	__u32	tdiag_ino;	/* 0 for a child not yet accepted */
	__u32	tdiag_port;	/* local port, 0 = unbound */
	__u32	tdiag_peer_port; /* peer port (DGRAM: connected dest), or 0 */
	__u32	tdiag_rqueue;	/* unread bytes queued to the socket */
	__u32	tdiag_wqueue;	/* its bytes the peer has not read yet */
	__u32	tdiag_uid;	/* owner, in the requester's user namespace */
};

#endif /* _UAPI_LINUX_TOY_DIAG_H */

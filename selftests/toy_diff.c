// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: differential tests, the world as the oracle.
 *
 * A scenario is a list of steps (socket, bind, listen, connect, accept,
 * send, recv, shutdown, close, poll, getsockopt, setsockopt, ioctl,
 * socketpair, getsockname, getpeername) on numbered socket slots.  It runs
 * in a "world" per family: AF_TOY, then AF_UNIX (abstract names, a file
 * system name where a step asks for one) and, where it makes sense, TCP or
 * UDP over 127.0.0.1.  Every step records what a
 * program can observe: return value or errno, bytes read (and a hash of
 * them), MSG_TRUNC, the poll() mask, a getsockopt()/ioctl() value, and
 * whether SIGPIPE was raised (SIGPIPE is blocked and collected with
 * sigtimedwait()).  AF_TOY's trace must equal each reference's, step by
 * step.  Addresses, ports and family numbers are never compared: SO_DOMAIN
 * and SO_PROTOCOL are recorded as "the family's own" / "the family's
 * default", getsockname()/getpeername() as success or errno.
 *
 * No timing: every call is non-blocking (MSG_DONTWAIT, O_NONBLOCK for
 * accept() and for the connects marked so, poll() timeout 0) or returns at
 * once (a connect to a listener with room, a MSG_WAITALL read whose bytes
 * are queued).  On loopback TCP and UDP deliver within the sending call.
 *
 * Where AF_TOY differs on purpose, the step is listed in divergences[]
 * with both results and the README.md sentence that documents it
 * (scripts/check-diff-table.sh checks the sentences, `make lint` runs it).
 * A difference that is not listed fails, and so does a listed one that
 * no longer occurs.  TOY_DIFF_VERBOSE=1 prints every trace.
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"

/* ---- the step language --------------------------------------------- */

enum op {
	OP_END, OP_SOCK, OP_PAIR, OP_BIND, OP_LISTEN, OP_CONN, OP_ACCEPT,
	OP_SEND, OP_RECV, OP_SHUT, OP_CLOSE, OP_POLL, OP_GETOPT, OP_SETOPT,
	OP_IOCTL, OP_NAME, OP_PEER,
};
static const char * const op_name[] = {
	"end", "socket", "socketpair", "bind", "listen", "connect", "accept",
	"send", "recv", "shutdown", "close", "poll", "getsockopt",
	"setsockopt", "ioctl", "getsockname", "getpeername",
};

/*
 * Address codes: 0..7 are names (a port; for AF_UNIX an abstract name);
 * A_PATH is name 0 but, for AF_UNIX, a file system name.  The rest:
 */
enum { A_PATH = 8, A_ANY = 10, A_SHORT, A_BIG, A_FAM, A_UNSPEC, A_NONE };

struct step {
	unsigned char op, s, x;	/* slot; second slot, address or variant */
	int n, f;		/* type, length, backlog, how, option, request; flags, value */
};

#define SOCK(s)			{ OP_SOCK, s, 0, 0, 0 }
#define SOCKT(s, t)		{ OP_SOCK, s, 0, t, 0 }
#define PAIR(a, b)		{ OP_PAIR, a, b, 0, 0 }
#define BIND(s, ad)		{ OP_BIND, s, ad, 0, 0 }
#define LISTEN(s, bl)		{ OP_LISTEN, s, 0, bl, 0 }
#define CONN(s, ad)		{ OP_CONN, s, ad, 0, 0 }
#define CONNNB(s, ad)		{ OP_CONN, s, ad, 1, 0 }	/* O_NONBLOCK */
#define ACCEPT(l, s)		{ OP_ACCEPT, l, s, 0, 0 }
#define ACCEPTA(l, s)		{ OP_ACCEPT, l, s, 1, 0 }	/* asks the address */
#define SEND(s, n, f)		{ OP_SEND, s, A_NONE, n, f }
#define SENDTO(s, ad, n, f)	{ OP_SEND, s, ad, n, f }
#define RECV(s, n, f)		{ OP_RECV, s, 0, n, f }	/* + MSG_DONTWAIT */
#define RECVB(s, n, f)		{ OP_RECV, s, 1, n, f }	/* data is there */
#define SHUT(s, how)		{ OP_SHUT, s, 0, how, 0 }
#define CLOSE(s)		{ OP_CLOSE, s, 0, 0, 0 }
#define POLL(s)			{ OP_POLL, s, 0, 0, 0 }
#define GETOPT(s, o)		{ OP_GETOPT, s, 0, o, 0 }
#define GETOPT_BADLEN(s, o)	{ OP_GETOPT, s, 1, o, 0 }	/* optlen -1 */
#define SETOPT(s, o, v)		{ OP_SETOPT, s, 0, o, v }
#define SETOPT_BADLEN(s, o, v)	{ OP_SETOPT, s, 1, o, v }	/* optlen 1 */
#define IOCTL(s, req)		{ OP_IOCTL, s, 0, req, 0 }
#define NAME(s)			{ OP_NAME, s, 0, 0, 0 }
#define PEER(s)			{ OP_PEER, s, 0, 0, 0 }
#define LG(on, secs)		((on) << 16 | (secs))	/* SO_LINGER value */

/* A listener in slot l on name k; a connection: 1 connected, 2 accepted. */
#define LSN(l, k)	SOCK(l), BIND(l, k), LISTEN(l, 4)
#define EST		LSN(0, 0), SOCK(1), CONN(1, 0), ACCEPT(0, 2)
/* Two DGRAM sockets on names 0 and 1 connected to each other. */
#define DGP		SOCK(0), BIND(0, 0), SOCK(1), BIND(1, 1), CONN(0, 1), CONN(1, 0)

/* ---- worlds ------------------------------------------------------------ */

enum { W_TOY, W_UNIX, W_INET, NW };
#define R_UNIX	(1 << W_UNIX)
#define R_INET	(1 << W_INET)	/* TCP for STREAM, UDP for DGRAM */
#define R_ALL	(R_UNIX | R_INET)

struct scenario {
	const char *group, *name;
	int type, refs;
	const struct step *steps;
};

#define SC(ty, refs, nm, ...) \
	{ GRP, nm, ty, refs, (const struct step[]){ __VA_ARGS__, { OP_END, 0, 0, 0, 0 } } }
#define ST(refs, nm, ...)	SC(SOCK_STREAM, refs, nm, __VA_ARGS__)
#define SQ(nm, ...)		SC(SOCK_SEQPACKET, R_UNIX, nm, __VA_ARGS__)
#define DG(refs, nm, ...)	SC(SOCK_DGRAM, refs, nm, __VA_ARGS__)

static const struct scenario scenarios[] = {
#define GRP "stream_addr"
	ST(R_ALL, "st_fresh", SOCK(0), GETOPT(0, SO_TYPE), GETOPT(0, SO_ERROR),
	   GETOPT(0, SO_ACCEPTCONN), GETOPT(0, SO_PROTOCOL), GETOPT(0, SO_DOMAIN), POLL(0),
	   IOCTL(0, FIONREAD), IOCTL(0, SIOCOUTQ), NAME(0), PEER(0)),
	ST(R_ALL, "st_bind", SOCK(0), BIND(0, 0), NAME(0), PEER(0), POLL(0)),
	ST(R_ALL, "st_bind_twice", SOCK(0), BIND(0, 0), BIND(0, 1)),
	ST(R_ALL, "st_bind_any_twice", SOCK(0), BIND(0, A_ANY), BIND(0, A_ANY), NAME(0)),
	ST(R_ALL, "st_bind_in_use", SOCK(0), BIND(0, 0), SOCK(1), BIND(1, 0)),
	ST(R_ALL, "st_bind_in_use_listener", LSN(0, 0), SOCK(1), BIND(1, 0)),
	ST(R_ALL, "st_bind_freed_by_close", SOCK(0), BIND(0, 0), CLOSE(0), SOCK(1), BIND(1, 0)),
	ST(R_ALL, "st_bind_freed_listener", LSN(0, 0), CLOSE(0), SOCK(1), BIND(1, 0)),
	ST(R_ALL, "st_bind_short_len", SOCK(0), BIND(0, A_SHORT)),
	ST(R_ALL, "st_bind_big_len", SOCK(0), BIND(0, A_BIG)),
	ST(R_ALL, "st_bind_wrong_family", SOCK(0), BIND(0, A_FAM)),
	ST(R_ALL, "st_bind_unspec", SOCK(0), BIND(0, A_UNSPEC)),
	ST(R_ALL, "st_bind_after_connect", EST, BIND(1, 1)),
	ST(R_ALL, "st_bind_accepted", EST, BIND(2, 1)),
	ST(R_ALL, "st_bind_listener_again", LSN(0, 0), BIND(0, 1)),
	ST(R_ALL, "st_listen_unbound", SOCK(0), LISTEN(0, 4)),
	ST(R_ALL, "st_listen_twice", LSN(0, 0), LISTEN(0, 8), LISTEN(0, 0), GETOPT(0, SO_ACCEPTCONN)),
	ST(R_ALL, "st_listen_negative_backlog", SOCK(0), BIND(0, 0), LISTEN(0, -1),
	   GETOPT(0, SO_ACCEPTCONN)),
	ST(R_ALL, "st_listen_connected", EST, LISTEN(1, 4)),
	ST(R_ALL, "st_listen_accepted", EST, LISTEN(2, 4)),
	ST(R_ALL, "st_listen_after_shut_rd", LSN(0, 0), SHUT(0, SHUT_RD), LISTEN(0, 4),
	   GETOPT(0, SO_ACCEPTCONN), SOCK(1), CONN(1, 0)),
	ST(R_UNIX, "st_bind_port_of_seqpacket", SOCKT(0, SOCK_SEQPACKET), BIND(0, 0), SOCK(1),
	   BIND(1, 0)),
	ST(R_UNIX, "st_bind_path_of_seqpacket", SOCKT(0, SOCK_SEQPACKET), BIND(0, A_PATH), SOCK(1),
	   BIND(1, A_PATH)),
#undef GRP
#define GRP "stream_connect"
	ST(R_ALL, "st_connect_nobody", SOCK(0), CONN(0, 1), GETOPT(0, SO_ERROR), POLL(0), PEER(0),
	   CONN(0, 1)),
	ST(R_ALL, "st_connect", EST, POLL(1), POLL(2), PEER(1), PEER(2), NAME(2), GETOPT(1, SO_ERROR),
	   GETOPT(2, SO_ACCEPTCONN), POLL(0)),
	ST(R_ALL, "st_connect_twice", EST, CONN(1, 0)),
	ST(R_ALL, "st_connect_connected_elsewhere", EST, LSN(3, 1), CONN(1, 1)),
	ST(R_ALL, "st_connect_connected_to_nobody", EST, CONN(1, 2)),
	ST(R_ALL, "st_connect_accepted", EST, CONN(2, 0)),
	ST(R_ALL, "st_connect_on_listener", LSN(0, 0), CONN(0, 0)),
	ST(R_ALL, "st_connect_listener_elsewhere", LSN(0, 0), LSN(3, 1), CONN(0, 1)),
	ST(R_ALL, "st_connect_short_len", LSN(0, 0), SOCK(1), CONN(1, A_SHORT)),
	ST(R_ALL, "st_connect_big_len", LSN(0, 0), SOCK(1), CONN(1, A_BIG)),
	ST(R_ALL, "st_connect_wrong_family", LSN(0, 0), SOCK(1), CONN(1, A_FAM)),
	ST(R_ALL, "st_connect_unspec_fresh", SOCK(0), CONN(0, A_UNSPEC)),
	ST(R_ALL, "st_connect_unspec_connected", EST, CONN(1, A_UNSPEC)),
	ST(R_ALL, "st_connect_nonblocking", LSN(0, 0), SOCK(1), CONNNB(1, 0)),
	ST(R_ALL, "st_connect_full_backlog", SOCK(0), BIND(0, 0), LISTEN(0, 1), SOCK(1), CONN(1, 0),
	   SOCK(2), CONN(2, 0), SOCK(3), CONNNB(3, 0)),
	ST(R_UNIX, "st_connect_full_backlog_then_room", SOCK(0), BIND(0, 0), LISTEN(0, 1), SOCK(1),
	   CONN(1, 0), SOCK(2), CONN(2, 0), SOCK(3), CONNNB(3, 0), ACCEPT(0, 4), CONNNB(3, 0)),
	ST(R_ALL, "st_connect_listener_closed", LSN(0, 0), CLOSE(0), SOCK(1), CONN(1, 0)),
	ST(R_ALL, "st_connect_listener_shut_rd", LSN(0, 0), SHUT(0, SHUT_RD), SOCK(1), CONN(1, 0),
	   SOCK(3), BIND(3, 0)),
	ST(R_UNIX, "st_connect_seqpacket_port", SOCKT(0, SOCK_SEQPACKET), BIND(0, 0), LISTEN(0, 4),
	   SOCK(1), CONN(1, 0)),
	ST(R_UNIX, "st_connect_seqpacket_path", SOCKT(0, SOCK_SEQPACKET), BIND(0, A_PATH), LISTEN(0, 4),
	   SOCK(1), CONN(1, A_PATH)),
	ST(R_ALL, "st_accept_not_listening", SOCK(0), ACCEPT(0, 1)),
	ST(R_ALL, "st_accept_bound", SOCK(0), BIND(0, 0), ACCEPT(0, 1)),
	ST(R_ALL, "st_accept_empty", LSN(0, 0), ACCEPT(0, 1)),
	ST(R_ALL, "st_accept_connected", EST, ACCEPT(1, 3), ACCEPT(2, 3)),
	ST(R_ALL, "st_accept_two", LSN(0, 0), SOCK(1), CONN(1, 0), SOCK(2), CONN(2, 0), POLL(0),
	   ACCEPT(0, 3), ACCEPT(0, 4), ACCEPT(0, 5), POLL(0)),
	ST(R_ALL, "st_accept_after_client_close", LSN(0, 0), SOCK(1), CONN(1, 0), CLOSE(1),
	   ACCEPT(0, 2), RECV(2, 16, 0), SEND(2, 4, 0)),
	ST(R_ALL, "st_accept_after_client_reset", LSN(0, 0), SOCK(1), CONN(1, 0),
	   SETOPT(1, SO_LINGER, LG(1, 0)), CLOSE(1), ACCEPT(0, 2), RECV(2, 16, 0)),
	ST(R_ALL, "st_accept_after_client_reset_named", LSN(0, 0), SOCK(1), CONN(1, 0),
	   SETOPT(1, SO_LINGER, LG(1, 0)), CLOSE(1), ACCEPTA(0, 2), RECV(2, 16, 0)),
	ST(R_ALL, "st_connect_refused_then_bind", SOCK(0), CONN(0, 1), BIND(0, 2), NAME(0)),
	/* AF_UNIX's bind() of an autobound name names it: TCP is the reference */
	ST(R_INET, "st_connect_refused_after_bind_any", SOCK(0), BIND(0, A_ANY), CONN(0, 1),
	   BIND(0, 2)),
	ST(R_ALL, "st_accept_after_shut_rd", LSN(0, 0), SHUT(0, SHUT_RD), ACCEPT(0, 1),
	   GETOPT(0, SO_ACCEPTCONN)),
	ST(R_ALL, "st_close_listener_pending", LSN(0, 0), SOCK(1), CONN(1, 0), CLOSE(0), POLL(1),
	   RECV(1, 16, 0), SEND(1, 4, 0)),
#undef GRP
#define GRP "stream_data"
	ST(R_ALL, "st_send_recv", EST, SEND(1, 5, 0), RECV(2, 16, 0), RECV(2, 16, 0), SEND(2, 7, 0),
	   RECV(1, 16, 0)),
	ST(R_ALL, "st_send_unconnected", SOCK(0), SEND(0, 4, 0)),
	ST(R_ALL, "st_send_unconnected_nosignal", SOCK(0), SEND(0, 4, MSG_NOSIGNAL)),
	ST(R_ALL, "st_recv_unconnected", SOCK(0), RECV(0, 16, 0)),
	ST(R_ALL, "st_send_listener", LSN(0, 0), SEND(0, 4, 0)),
	ST(R_ALL, "st_recv_listener", LSN(0, 0), RECV(0, 16, 0)),
	ST(R_ALL, "st_sendto_connected", EST, SENDTO(1, 0, 4, 0), RECV(2, 16, 0)),
	ST(R_ALL, "st_send_zero", EST, SEND(1, 0, 0), RECV(2, 16, 0)),
	ST(R_ALL, "st_recv_zero_len_empty", EST, RECV(2, 0, 0)),
	ST(R_ALL, "st_recv_zero_len_data", EST, SEND(1, 4, 0), RECV(2, 0, 0), RECV(2, 16, 0)),
	ST(R_ALL, "st_peek", EST, SEND(1, 6, 0), RECV(2, 16, MSG_PEEK), RECV(2, 3, MSG_PEEK),
	   RECV(2, 16, 0), RECV(2, 16, MSG_PEEK)),
	ST(R_ALL, "st_peek_two_sends", EST, SEND(1, 3, 0), SEND(1, 4, 0), RECV(2, 16, MSG_PEEK),
	   RECV(2, 16, 0)),
	ST(R_ALL, "st_trunc", EST, SEND(1, 8, 0), RECV(2, 4, MSG_TRUNC), RECV(2, 16, 0)),
	ST(R_ALL, "st_trunc_peek", EST, SEND(1, 8, 0), RECV(2, 4, MSG_TRUNC | MSG_PEEK),
	   RECV(2, 16, 0)),
	ST(R_ALL, "st_waitall_present", EST, SEND(1, 8, 0), RECVB(2, 8, MSG_WAITALL)),
	ST(R_ALL, "st_waitall_two_sends", EST, SEND(1, 4, 0), SEND(1, 6, 0), RECVB(2, 8, MSG_WAITALL),
	   RECV(2, 16, 0)),
	ST(R_ALL, "st_waitall_partial", EST, SEND(1, 4, 0), RECV(2, 8, MSG_WAITALL)),
	ST(R_ALL, "st_dontwait_empty", EST, RECV(1, 16, 0), RECV(2, 16, 0)),
	ST(R_ALL, "st_oob_send", EST, SEND(1, 1, MSG_OOB)),
	ST(R_ALL, "st_oob_recv", EST, RECV(2, 16, MSG_OOB)),
	ST(R_ALL, "st_siocatmark", EST, IOCTL(2, SIOCATMARK)),
	ST(R_ALL, "st_fionread", EST, IOCTL(2, FIONREAD), SEND(1, 5, 0), SEND(1, 3, 0),
	   IOCTL(2, FIONREAD), RECV(2, 2, 0), IOCTL(2, FIONREAD), RECV(2, 16, MSG_PEEK),
	   IOCTL(2, FIONREAD)),
	ST(R_ALL, "st_fionread_listener", LSN(0, 0), IOCTL(0, FIONREAD)),
	ST(R_ALL, "st_siocoutq", EST, IOCTL(1, SIOCOUTQ), SEND(1, 5, 0), IOCTL(1, SIOCOUTQ),
	   RECV(2, 16, 0), IOCTL(1, SIOCOUTQ)),
	ST(R_ALL, "st_siocoutq_listener", LSN(0, 0), IOCTL(0, SIOCOUTQ)),
	ST(R_ALL, "st_rcvlowat_recv", EST, SETOPT(2, SO_RCVLOWAT, 4), SEND(1, 2, 0), RECV(2, 16, 0),
	   SEND(1, 6, 0), RECV(2, 16, 0)),
	/* AF_UNIX reads data for MSG_ERRQUEUE: TCP is the reference */
	ST(R_INET, "st_errqueue", EST, SEND(1, 4, 0), RECV(2, 16, MSG_ERRQUEUE), RECV(2, 16, 0)),
	ST(R_INET, "st_errqueue_unconnected", SOCK(0), RECV(0, 16, MSG_ERRQUEUE)),
	ST(R_INET, "st_errqueue_listener", LSN(0, 0), RECV(0, 16, MSG_ERRQUEUE)),
#undef GRP
#define GRP "stream_close"
	/* AF_UNIX keeps the peer's name: TCP is the reference */
	ST(R_INET, "st_peer_after_reset", EST, SEND(2, 4, 0), CLOSE(1), PEER(2)),
	ST(R_INET, "st_peer_after_both_shut", EST, SHUT(1, SHUT_WR), SHUT(2, SHUT_WR), PEER(1),
	   PEER(2)),
	ST(R_ALL, "st_send_after_shut_wr", EST, SHUT(1, SHUT_WR), SEND(1, 4, 0),
	   SEND(1, 4, MSG_NOSIGNAL), SEND(1, 0, 0), RECV(2, 16, 0)),
	ST(R_ALL, "st_recv_after_peer_shut_wr", EST, SEND(1, 3, 0), SHUT(1, SHUT_WR), RECV(2, 16, 0),
	   RECV(2, 16, 0), SEND(2, 4, 0), RECV(1, 16, 0)),
	ST(R_ALL, "st_recv_after_shut_rd", EST, SHUT(2, SHUT_RD), RECV(2, 16, 0), SEND(1, 4, 0)),
	ST(R_ALL, "st_recv_after_shut_rd_queued", EST, SEND(1, 3, 0), SHUT(2, SHUT_RD), RECV(2, 16, 0),
	   RECV(2, 16, 0)),
	ST(R_ALL, "st_send_after_peer_close", EST, CLOSE(2), SEND(1, 4, 0), SEND(1, 4, 0),
	   RECV(1, 16, 0)),
	ST(R_ALL, "st_send_nosignal_after_peer_close", EST, CLOSE(2), SEND(1, 4, MSG_NOSIGNAL)),
	ST(R_ALL, "st_send_zero_after_peer_close", EST, CLOSE(2), SEND(1, 0, 0)),
	ST(R_ALL, "st_recv_after_peer_close", EST, SEND(2, 3, 0), CLOSE(2), RECV(1, 16, 0),
	   RECV(1, 16, 0)),
	ST(R_ALL, "st_close_unread_recv", EST, SEND(1, 4, 0), CLOSE(2), RECV(1, 16, 0), RECV(1, 16, 0),
	   SEND(1, 4, 0), SEND(1, 0, 0)),
	ST(R_ALL, "st_close_unread_send", EST, SEND(1, 4, 0), CLOSE(2), SEND(1, 4, 0), SEND(1, 4, 0)),
	ST(R_ALL, "st_close_unread_so_error", EST, SEND(1, 4, 0), CLOSE(2), GETOPT(1, SO_ERROR),
	   GETOPT(1, SO_ERROR), RECV(1, 16, 0)),
	ST(R_ALL, "st_linger_zero_close", EST, SETOPT(2, SO_LINGER, LG(1, 0)), CLOSE(2),
	   RECV(1, 16, 0)),
	ST(R_ALL, "st_linger_close", EST, SETOPT(2, SO_LINGER, LG(1, 5)), CLOSE(2), RECV(1, 16, 0)),
	ST(R_ALL, "st_shutdown_unconnected", SOCK(0), SHUT(0, SHUT_WR)),
	ST(R_ALL, "st_shutdown_listener_wr", LSN(0, 0), SHUT(0, SHUT_WR), GETOPT(0, SO_ACCEPTCONN),
	   SOCK(1), CONN(1, 0), ACCEPT(0, 2)),
	ST(R_ALL, "st_shutdown_bad_how", EST, SHUT(1, 3), SHUT(1, -1)),
	ST(R_ALL, "st_shutdown_twice", EST, SHUT(1, SHUT_WR), SHUT(1, SHUT_WR), SHUT(1, SHUT_RDWR),
	   RECV(2, 16, 0)),
	ST(R_ALL, "st_shutdown_after_peer_close", EST, CLOSE(2), SHUT(1, SHUT_RDWR)),
	ST(R_ALL, "st_shutdown_after_reset", EST, SEND(1, 4, 0), CLOSE(2), SHUT(1, SHUT_WR)),
	ST(R_ALL, "st_both_shut_wr", EST, SHUT(1, SHUT_WR), SHUT(2, SHUT_WR), RECV(1, 16, 0),
	   SEND(1, 1, 0)),
#undef GRP
#define GRP "stream_poll"
	ST(R_ALL, "st_poll_listener", LSN(0, 0), POLL(0), SOCK(1), CONN(1, 0), POLL(0), ACCEPT(0, 2),
	   POLL(0)),
	ST(R_ALL, "st_poll_data", EST, SEND(1, 3, 0), POLL(2), POLL(1), RECV(2, 16, 0), POLL(2)),
	ST(R_ALL, "st_poll_shut_wr", EST, SHUT(1, SHUT_WR), POLL(1), POLL(2)),
	ST(R_ALL, "st_poll_shut_rd", EST, SHUT(1, SHUT_RD), POLL(1), POLL(2)),
	ST(R_ALL, "st_poll_shut_rdwr", EST, SHUT(1, SHUT_RDWR), POLL(1), POLL(2)),
	ST(R_ALL, "st_poll_both_shut_wr", EST, SHUT(1, SHUT_WR), SHUT(2, SHUT_WR), POLL(1), POLL(2)),
	ST(R_ALL, "st_poll_peer_close", EST, CLOSE(2), POLL(1)),
	ST(R_ALL, "st_poll_peer_close_read", EST, SEND(2, 2, 0), CLOSE(2), RECV(1, 16, 0), POLL(1)),
	ST(R_ALL, "st_poll_reset", EST, SEND(1, 4, 0), CLOSE(2), POLL(1), GETOPT(1, SO_ERROR), POLL(1)),
	ST(R_ALL, "st_poll_after_refused", SOCK(0), CONN(0, 1), POLL(0)),
	ST(R_ALL, "st_poll_rcvlowat", EST, SETOPT(2, SO_RCVLOWAT, 4), SEND(1, 2, 0), POLL(2),
	   SEND(1, 2, 0), POLL(2)),
	ST(R_ALL, "st_poll_listener_shut_rd", LSN(0, 0), SHUT(0, SHUT_RD), POLL(0)),
#undef GRP
#define GRP "stream_opt"
	ST(R_ALL, "st_opts_listener", LSN(0, 0), GETOPT(0, SO_TYPE), GETOPT(0, SO_ACCEPTCONN),
	   GETOPT(0, SO_ERROR), GETOPT(0, SO_PROTOCOL), GETOPT(0, SO_DOMAIN), PEER(0)),
	ST(R_ALL, "st_opts_accepted", EST, GETOPT(2, SO_TYPE), GETOPT(2, SO_ACCEPTCONN),
	   GETOPT(2, SO_PROTOCOL), GETOPT(2, SO_DOMAIN), GETOPT(2, SO_ERROR)),
	ST(R_ALL, "st_opt_rcvlowat", SOCK(0), GETOPT(0, SO_RCVLOWAT), SETOPT(0, SO_RCVLOWAT, 7),
	   GETOPT(0, SO_RCVLOWAT), SETOPT(0, SO_RCVLOWAT, 0), GETOPT(0, SO_RCVLOWAT)),
	ST(R_ALL, "st_opt_keepalive", SOCK(0), GETOPT(0, SO_KEEPALIVE), SETOPT(0, SO_KEEPALIVE, 1),
	   GETOPT(0, SO_KEEPALIVE)),
	ST(R_ALL, "st_opt_reuseport", SOCK(0), SETOPT(0, SO_REUSEPORT, 1), GETOPT(0, SO_REUSEPORT)),
	ST(R_ALL, "st_opt_linger", SOCK(0), GETOPT(0, SO_LINGER), SETOPT(0, SO_LINGER, LG(1, 3)),
	   GETOPT(0, SO_LINGER)),
	ST(R_ALL, "st_opt_bufs", SOCK(0), SETOPT(0, SO_SNDBUF, 65536), GETOPT(0, SO_SNDBUF),
	   SETOPT(0, SO_RCVBUF, 65536), GETOPT(0, SO_RCVBUF)),
	ST(R_ALL, "st_opt_bad_len", SOCK(0), SETOPT_BADLEN(0, SO_RCVLOWAT, 1),
	   GETOPT_BADLEN(0, SO_TYPE)),
	ST(R_ALL, "st_opt_unknown", SOCK(0), SETOPT(0, 12345, 1), GETOPT(0, 12345)),
	ST(R_ALL, "st_opt_readonly", SOCK(0), SETOPT(0, SO_TYPE, 1), SETOPT(0, SO_ACCEPTCONN, 1)),
	ST(R_UNIX, "st_opt_peercred", EST, GETOPT(1, SO_PEERCRED), GETOPT(2, SO_PEERCRED)),
	ST(R_ALL, "st_opt_peercred_unconnected", SOCK(0), GETOPT(0, SO_PEERCRED)),
	ST(R_ALL, "st_opt_accepted_inherits", SOCK(0), BIND(0, 0), SETOPT(0, SO_RCVLOWAT, 5),
	   LISTEN(0, 4), SOCK(1), CONN(1, 0), ACCEPT(0, 2), GETOPT(2, SO_RCVLOWAT)),
#undef GRP
#define GRP "seqpacket"
	SQ("sq_fresh", SOCK(0), GETOPT(0, SO_TYPE), GETOPT(0, SO_ACCEPTCONN), GETOPT(0, SO_PROTOCOL),
	   GETOPT(0, SO_ERROR), POLL(0), IOCTL(0, FIONREAD), IOCTL(0, SIOCOUTQ), PEER(0)),
	SQ("sq_bind_twice", SOCK(0), BIND(0, 0), BIND(0, 1)),
	SQ("sq_bind_in_use", SOCK(0), BIND(0, 0), SOCK(1), BIND(1, 0)),
	SQ("sq_bind_wrong_family", SOCK(0), BIND(0, A_FAM)),
	SQ("sq_listen_unbound", SOCK(0), LISTEN(0, 4)),
	SQ("sq_listen_connected", EST, LISTEN(1, 4)),
	SQ("sq_connect_nobody", SOCK(0), CONN(0, 1), POLL(0)),
	SQ("sq_connect", EST, POLL(1), POLL(2), PEER(1), PEER(2), GETOPT(2, SO_ACCEPTCONN)),
	SQ("sq_connect_twice", EST, CONN(1, 0)),
	SQ("sq_connect_on_listener", LSN(0, 0), CONN(0, 0)),
	SQ("sq_connect_stream_port", SOCKT(0, SOCK_STREAM), BIND(0, 0), LISTEN(0, 4), SOCK(1),
	   CONN(1, 0)),
	SQ("sq_connect_stream_path", SOCKT(0, SOCK_STREAM), BIND(0, A_PATH), LISTEN(0, 4), SOCK(1),
	   CONN(1, A_PATH)),
	SQ("sq_connect_full_backlog", SOCK(0), BIND(0, 0), LISTEN(0, 1), SOCK(1), CONN(1, 0), SOCK(2),
	   CONN(2, 0), SOCK(3), CONNNB(3, 0)),
	SQ("sq_accept_not_listening", SOCK(0), ACCEPT(0, 1)),
	SQ("sq_accept_empty", LSN(0, 0), ACCEPT(0, 1), POLL(0)),
	SQ("sq_send_unconnected", SOCK(0), SEND(0, 4, 0)),
	SQ("sq_recv_unconnected", SOCK(0), RECV(0, 16, 0)),
	SQ("sq_records", EST, SEND(1, 5, 0), SEND(1, 3, 0), RECV(2, 16, 0), RECV(2, 16, 0),
	   RECV(2, 16, 0)),
	SQ("sq_short_read", EST, SEND(1, 8, 0), SEND(1, 2, 0), RECV(2, 4, 0), RECV(2, 16, 0)),
	SQ("sq_trunc_flag", EST, SEND(1, 8, 0), RECV(2, 4, MSG_TRUNC), RECV(2, 16, 0)),
	SQ("sq_peek", EST, SEND(1, 6, 0), RECV(2, 16, MSG_PEEK), RECV(2, 2, MSG_PEEK), RECV(2, 16, 0)),
	SQ("sq_zero_record", EST, SEND(1, 0, 0), POLL(2), IOCTL(2, FIONREAD), RECV(2, 16, 0),
	   RECV(2, 16, 0)),
	SQ("sq_fionread", EST, SEND(1, 5, 0), SEND(1, 3, 0), IOCTL(2, FIONREAD)),
	SQ("sq_waitall", EST, SEND(1, 3, 0), SEND(1, 3, 0), RECV(2, 6, MSG_WAITALL)),
	SQ("sq_emsgsize", EST, SETOPT(1, SO_SNDBUF, 4096), SEND(1, 16384, 0)),
	SQ("sq_dontwait_empty", EST, RECV(2, 16, 0)),
	SQ("sq_sendto_connected", EST, SENDTO(1, 1, 4, 0), RECV(2, 16, 0)),
	SQ("sq_eof", EST, SEND(1, 3, 0), SHUT(1, SHUT_WR), RECV(2, 16, 0), RECV(2, 16, 0), POLL(2)),
	SQ("sq_send_after_shut_wr", EST, SHUT(1, SHUT_WR), SEND(1, 4, 0), SEND(1, 4, MSG_NOSIGNAL)),
	SQ("sq_send_after_peer_close", EST, CLOSE(2), SEND(1, 4, 0), RECV(1, 16, 0), POLL(1)),
	SQ("sq_send_after_peer_shut_rd", EST, SHUT(2, SHUT_RD), SEND(1, 4, 0)),
	SQ("sq_close_unread", EST, SEND(1, 4, 0), CLOSE(2), POLL(1), RECV(1, 16, 0), RECV(1, 16, 0)),
	SQ("sq_oob", EST, SEND(1, 1, MSG_OOB), RECV(2, 16, MSG_OOB)),
	SQ("sq_shutdown_unconnected", SOCK(0), SHUT(0, SHUT_RDWR)),
	SQ("sq_siocoutq", EST, SEND(1, 5, 0), IOCTL(1, SIOCOUTQ), RECV(2, 16, 0), IOCTL(1, SIOCOUTQ)),
	SQ("sq_poll_shut", EST, SHUT(1, SHUT_WR), POLL(1), POLL(2), SHUT(2, SHUT_RD), POLL(2), POLL(1)),
#undef GRP
#define GRP "dgram_addr"
	DG(R_ALL, "dg_fresh", SOCK(0), GETOPT(0, SO_TYPE), GETOPT(0, SO_ACCEPTCONN),
	   GETOPT(0, SO_PROTOCOL), GETOPT(0, SO_DOMAIN), GETOPT(0, SO_ERROR), POLL(0),
	   IOCTL(0, FIONREAD), IOCTL(0, SIOCOUTQ), NAME(0), PEER(0)),
	DG(R_ALL, "dg_bind_twice", SOCK(0), BIND(0, 0), BIND(0, 1)),
	DG(R_ALL, "dg_bind_in_use", SOCK(0), BIND(0, 0), SOCK(1), BIND(1, 0)),
	DG(R_ALL, "dg_bind_short_len", SOCK(0), BIND(0, A_SHORT)),
	DG(R_ALL, "dg_bind_wrong_family", SOCK(0), BIND(0, A_FAM)),
	DG(R_ALL, "dg_listen", SOCK(0), BIND(0, 0), LISTEN(0, 4)),
	DG(R_ALL, "dg_accept", SOCK(0), BIND(0, 0), ACCEPT(0, 1)),
	DG(R_ALL, "dg_connect_nobody", SOCK(0), CONN(0, 1), PEER(0)),
	DG(R_ALL, "dg_connect", SOCK(0), BIND(0, 0), SOCK(1), CONN(1, 0), PEER(1), NAME(1), POLL(1)),
	DG(R_ALL, "dg_connect_short_len", SOCK(0), BIND(0, 0), SOCK(1), CONN(1, A_SHORT)),
	DG(R_ALL, "dg_connect_wrong_family", SOCK(0), BIND(0, 0), SOCK(1), CONN(1, A_FAM)),
	DG(R_ALL, "dg_connect_unspec", SOCK(0), BIND(0, 0), SOCK(1), CONN(1, 0), CONN(1, A_UNSPEC),
	   PEER(1), SEND(1, 4, 0)),
	DG(R_ALL, "dg_connect_unspec_fresh", SOCK(0), CONN(0, A_UNSPEC)),
	DG(R_ALL, "dg_reconnect", SOCK(0), BIND(0, 0), SOCK(3), BIND(3, 1), SOCK(1), CONN(1, 0),
	   CONN(1, 1), SEND(1, 4, 0), RECV(3, 16, 0), RECV(0, 16, 0)),
	DG(R_ALL, "dg_shutdown_unconnected", SOCK(0), SHUT(0, SHUT_RDWR)),
	DG(R_ALL, "dg_shutdown_bad_how", SOCK(0), SHUT(0, 5)),
	DG(R_ALL, "dg_opt_bufs", SOCK(0), SETOPT(0, SO_SNDBUF, 65536), GETOPT(0, SO_SNDBUF),
	   SETOPT(0, SO_RCVBUF, 65536), GETOPT(0, SO_RCVBUF)),
#undef GRP
#define GRP "dgram_data"
	DG(R_ALL, "dg_sendto_recv", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 5, 0), RECV(0, 16, 0),
	   RECV(0, 16, 0), NAME(1)),
	DG(R_ALL, "dg_send_unconnected", SOCK(0), SEND(0, 4, 0)),
	DG(R_ALL, "dg_sendto_nobody", SOCK(0), SENDTO(0, 1, 4, 0)),
	DG(R_ALL, "dg_sendto_short_len", SOCK(0), SENDTO(0, A_SHORT, 4, 0)),
	DG(R_ALL, "dg_sendto_wrong_family", SOCK(0), SENDTO(0, A_FAM, 4, 0)),
	DG(R_ALL, "dg_connected", DGP, SEND(1, 5, 0), RECV(0, 16, 0), SEND(0, 3, 0), RECV(1, 16, 0)),
	DG(R_ALL, "dg_filtered_sender", DGP, SOCK(2), SENDTO(2, 0, 4, 0), RECV(0, 16, 0)),
	DG(R_ALL, "dg_sendto_on_connected", DGP, SOCK(2), BIND(2, 2), SENDTO(1, 2, 4, 0),
	   RECV(2, 16, 0)),
	DG(R_ALL, "dg_records", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 5, 0), SENDTO(1, 0, 3, 0),
	   IOCTL(0, FIONREAD), RECV(0, 16, 0), IOCTL(0, FIONREAD), RECV(0, 16, 0), IOCTL(0, FIONREAD)),
	DG(R_ALL, "dg_short_read", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 8, 0), RECV(0, 4, 0),
	   RECV(0, 16, 0)),
	DG(R_ALL, "dg_trunc_flag", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 8, 0),
	   RECV(0, 4, MSG_TRUNC), RECV(0, 16, 0)),
	DG(R_ALL, "dg_unspec_frees_picked_port", SOCK(0), BIND(0, 0), SOCK(1), CONN(1, 0),
	   CONN(1, A_UNSPEC), BIND(1, 1), NAME(1)),
	DG(R_INET, "dg_errqueue", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 4, 0),
	   RECV(0, 16, MSG_ERRQUEUE), RECV(0, 16, 0)),
	DG(R_ALL, "dg_peek", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 6, 0), RECV(0, 16, MSG_PEEK),
	   RECV(0, 2, MSG_PEEK), RECV(0, 16, 0)),
	DG(R_ALL, "dg_zero_len", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 0, 0), POLL(0),
	   IOCTL(0, FIONREAD), RECV(0, 16, 0), RECV(0, 16, 0)),
	DG(R_ALL, "dg_dontwait_empty", SOCK(0), BIND(0, 0), RECV(0, 16, 0)),
	DG(R_ALL, "dg_recv_unbound", SOCK(0), RECV(0, 16, 0)),
	DG(R_ALL, "dg_waitall", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 3, 0), SENDTO(1, 0, 3, 0),
	   RECV(0, 6, MSG_WAITALL)),
	DG(R_ALL, "dg_oob", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 1, MSG_OOB),
	   RECV(0, 16, MSG_OOB)),
	DG(R_UNIX, "dg_emsgsize", SOCK(0), BIND(0, 0), SOCK(1), SETOPT(1, SO_SNDBUF, 4096),
	   SENDTO(1, 0, 16384, 0)),
	DG(R_ALL, "dg_large", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 69000, 0)),
	DG(R_ALL, "dg_siocoutq", SOCK(0), BIND(0, 0), SOCK(1), SENDTO(1, 0, 5, 0), IOCTL(1, SIOCOUTQ),
	   RECV(0, 16, 0), IOCTL(1, SIOCOUTQ)),
	DG(R_ALL, "dg_shut_wr_send", DGP, SHUT(1, SHUT_WR), SEND(1, 4, 0), SENDTO(1, 0, 4, 0), POLL(1)),
	DG(R_ALL, "dg_shut_wr_unconnected", SOCK(0), BIND(0, 0), SOCK(1), SHUT(1, SHUT_WR),
	   SENDTO(1, 0, 4, 0)),
	DG(R_ALL, "dg_shut_rd_recv", DGP, SHUT(0, SHUT_RD), RECV(0, 16, 0), POLL(0)),
	DG(R_UNIX, "dg_send_to_shut_rd", DGP, SHUT(0, SHUT_RD), SEND(1, 4, 0)),
	DG(R_ALL, "dg_shut_rd_queued", DGP, SEND(1, 4, 0), SHUT(0, SHUT_RD), RECV(0, 16, 0)),
	DG(R_UNIX, "dg_receiver_closed", DGP, CLOSE(0), SEND(1, 4, 0), SEND(1, 4, 0), PEER(1)),
	DG(R_ALL, "dg_poll", DGP, POLL(0), SEND(1, 3, 0), POLL(0), SHUT(0, SHUT_RD), POLL(0),
	   SHUT(0, SHUT_WR), POLL(0)),
	DG(R_ALL, "dg_close_unread", DGP, SEND(1, 4, 0), CLOSE(0), POLL(1), RECV(1, 16, 0)),
#undef GRP
#define GRP "pairs"
	ST(R_UNIX, "ps_fresh", PAIR(0, 1), GETOPT(0, SO_TYPE), GETOPT(0, SO_ACCEPTCONN), POLL(0),
	   PEER(0), NAME(0), GETOPT(0, SO_PEERCRED), IOCTL(0, FIONREAD)),
	ST(R_UNIX, "ps_send_recv", PAIR(0, 1), SEND(0, 5, 0), POLL(1), RECV(1, 16, 0), SEND(1, 3, 0),
	   RECV(0, 16, 0)),
	ST(R_UNIX, "ps_shut_wr", PAIR(0, 1), SHUT(0, SHUT_WR), POLL(0), POLL(1), RECV(1, 16, 0),
	   SEND(0, 1, 0), SEND(1, 2, 0), RECV(0, 16, 0)),
	ST(R_UNIX, "ps_shut_rd", PAIR(0, 1), SHUT(0, SHUT_RD), POLL(0), POLL(1), SEND(1, 4, 0),
	   RECV(0, 16, 0)),
	ST(R_UNIX, "ps_shut_rdwr", PAIR(0, 1), SHUT(0, SHUT_RDWR), POLL(0), POLL(1)),
	ST(R_UNIX, "ps_close", PAIR(0, 1), CLOSE(1), POLL(0), RECV(0, 16, 0), SEND(0, 4, 0)),
	ST(R_UNIX, "ps_close_unread", PAIR(0, 1), SEND(0, 4, 0), CLOSE(1), POLL(0), RECV(0, 16, 0),
	   SEND(0, 4, 0)),
	ST(R_UNIX, "ps_listen", PAIR(0, 1), LISTEN(0, 4)),
	ST(R_UNIX, "ps_accept", PAIR(0, 1), ACCEPT(0, 2)),
	ST(R_UNIX, "ps_connect", PAIR(0, 1), LSN(2, 0), CONN(0, 0)),
	ST(R_UNIX, "ps_bind", PAIR(0, 1), BIND(0, 0), NAME(0), SEND(0, 2, 0), RECV(1, 16, 0)),
	ST(R_UNIX, "ps_queues", PAIR(0, 1), SEND(0, 5, 0), IOCTL(1, FIONREAD), IOCTL(0, SIOCOUTQ)),
	ST(R_UNIX, "ps_trunc", PAIR(0, 1), SEND(0, 8, 0), RECV(1, 4, MSG_TRUNC), RECV(1, 16, 0)),
	ST(R_UNIX, "ps_oob", PAIR(0, 1), SEND(0, 1, MSG_OOB)),
	SQ("pq_records", PAIR(0, 1), GETOPT(0, SO_TYPE), SEND(0, 5, 0), SEND(0, 3, 0),
	   IOCTL(1, FIONREAD), RECV(1, 16, 0), RECV(1, 2, 0), RECV(1, 16, 0)),
	SQ("pq_close", PAIR(0, 1), SEND(0, 3, 0), CLOSE(0), RECV(1, 16, 0), RECV(1, 16, 0),
	   SEND(1, 1, 0)),
	SQ("pq_close_unread", PAIR(0, 1), SEND(0, 3, 0), CLOSE(1), RECV(0, 16, 0), SEND(0, 1, 0)),
	SQ("pq_shut_wr", PAIR(0, 1), SHUT(0, SHUT_WR), SEND(0, 1, 0), RECV(1, 16, 0), POLL(1)),
	SQ("pq_listen", PAIR(0, 1), LISTEN(0, 4)),
	DG(R_UNIX, "pd_basic", PAIR(0, 1), GETOPT(0, SO_TYPE), POLL(0), SEND(0, 5, 0), POLL(1),
	   RECV(1, 16, 0), PEER(0)),
	DG(R_UNIX, "pd_close", PAIR(0, 1), CLOSE(1), SEND(0, 4, 0), SEND(0, 4, 0), PEER(0), POLL(0)),
	DG(R_UNIX, "pd_shut_wr", PAIR(0, 1), SHUT(0, SHUT_WR), SEND(0, 4, 0), SEND(1, 4, 0),
	   RECV(0, 16, 0)),
	DG(R_UNIX, "pd_shut_rd", PAIR(0, 1), SHUT(0, SHUT_RD), SEND(1, 4, 0), RECV(0, 16, 0)),
	DG(R_UNIX, "pd_third_sender", PAIR(0, 1), BIND(0, 0), SOCK(2), SENDTO(2, 0, 4, 0)),
	DG(R_UNIX, "pd_sendto_third", PAIR(0, 1), SOCK(2), BIND(2, 0), SENDTO(0, 0, 4, 0),
	   RECV(2, 16, 0)),
	DG(R_UNIX, "pd_connect_elsewhere", PAIR(0, 1), SOCK(2), BIND(2, 0), CONN(0, 0), SEND(0, 4, 0),
	   RECV(2, 16, 0), RECV(1, 16, 0)),
	DG(R_UNIX, "pd_connect_unspec", PAIR(0, 1), CONN(0, A_UNSPEC), PEER(0), SEND(0, 4, 0)),
	DG(R_UNIX, "pd_records", PAIR(0, 1), SEND(0, 5, 0), SEND(0, 3, 0), IOCTL(1, FIONREAD),
	   RECV(1, 2, 0), RECV(1, 16, 0)),
	DG(R_UNIX, "pd_listen", PAIR(0, 1), LISTEN(0, 4), ACCEPT(0, 2)),
#undef GRP
};
#define NSCEN ((int)ARRAY_SIZE(scenarios))

/* ---- intended divergences ---------------------------------------------- */

/*
 * The README.md sentences the table quotes, one #define per line:
 * scripts/check-diff-table.sh finds each in README.md (a run of blanks and
 * line breaks compares as one space).
 */
#define RM_FAMILY "An address of another family gives `EAFNOSUPPORT` (AF_UNIX: `EINVAL`)."
#define RM_LISTEN_BINDS "`listen()` on an unbound socket binds an ephemeral port (AF_UNIX: `EINVAL`)."
#define RM_BIND_TWICE "A `connect()` that succeeds binds the socket too, so a later `bind()` fails with `EINVAL`, as does any second `bind()` (AF_UNIX lets an unnamed client bind, and answers 0 to a second autobind)."
#define RM_EISCONN "`connect()` on a listener gives `EISCONN` (AF_UNIX: `EINVAL`), and on a connected socket `EISCONN` for any well-formed AF_TOY address (AF_UNIX looks the address up first: `ECONNREFUSED`;"
#define RM_RECV_NOTCONN "`recv()` on a STREAM socket that is not connected, or listens, gives `ENOTCONN` (AF_UNIX: `EINVAL`)."
#define RM_SHUT_NOTCONN "`shutdown()` of a STREAM or SEQPACKET socket that is not connected gives `ENOTCONN` (AF_UNIX: 0)."
#define RM_SENDTO "A STREAM `sendto()` on a connected socket ignores the address (AF_UNIX: `EISCONN`)."
#define RM_RELISTEN "After `shutdown(SHUT_RD)` a listener can `listen()` again (AF_UNIX keeps refusing connects)."
#define RM_LISTENER_SHUT "on a listener it stops listening and wakes `accept()` (`EINVAL`), as TCP does"
#define RM_SEND_NOTCONN "`send()` on a STREAM socket that was never connected, or on a listener, fails with `ENOTCONN` and no `SIGPIPE` (TCP: `EPIPE`)."
#define RM_HUP "Once the peer has closed, or shut down both directions, `poll()` reports `EPOLLHUP` (TCP does not)."
#define RM_PORTS "a STREAM and a SEQPACKET socket may both bind port 7"
#define RM_OTHER_TYPE "fails with `ECONNREFUSED`, because port spaces are per type (AF_UNIX: `EPROTOTYPE` for a file system name; abstract names are per type there too)."
#define RM_UNSPEC "on a STREAM socket fails with `EAFNOSUPPORT`: there is no disconnect (TCP disconnects; AF_UNIX says `EINVAL`)."
#define RM_NOWIRE "instead of returning `EINPROGRESS`: there is no wire, so a connect either completes at once or has nothing to wait for but room."
#define RM_EPIPE "fail with `EPIPE` at once, as with AF_UNIX; TCP would accept one more write first."
#define RM_RESET "the peer's next read or write fails with `ECONNRESET` once, then writes give `EPIPE`"
#define RM_LINGER "or with `SO_LINGER` on and a zero timeout, sends RST, not FIN (as TCP)"
#define RM_INHERIT "take from their listener what TCP children take"
#define RM_REUSEPORT "setting `SO_REUSEPORT` fails with `EOPNOTSUPP` too, as on AF_UNIX: the kernel allows it on IPv4 and IPv6 sockets only"
#define RM_TRUNC "`MSG_TRUNC` discards the bytes instead of copying them"
#define RM_RCVLOWAT "`poll()` reports `EPOLLIN` only once `SO_RCVLOWAT` bytes are queued,"
#define RM_OOB "`send()` and `recv()` with it fail with `EOPNOTSUPP` on every type, and `SIOCATMARK` with `ENOTTY` (TCP and AF_UNIX STREAM sockets carry one urgent byte; their `recv(MSG_OOB)` without one says `EINVAL`, UDP's `EAGAIN`)."
#define RM_OUTQ "counts the bytes the peer has not read yet (TCP and UDP: bytes not yet acknowledged or sent, 0 on loopback; AF_UNIX: the memory of the unread skbs)."
#define RM_OUTQ_LISTEN "On a listener `SIOCOUTQ` gives 0, as AF_UNIX (TCP: `EINVAL`)."
#define RM_DG_SHUT "`shutdown()` of an unconnected DGRAM socket returns `ENOTCONN`"
#define RM_DG_CONNECT "`connect()` only records the port, so nobody need be bound there yet (AF_UNIX: `ECONNREFUSED`)."
#define RM_DG_STAYS "A connected socket stays connected when its receiver closes: sends fail with `ECONNREFUSED` (AF_UNIX disconnects it after one: `ENOTCONN`), a `socketpair()` end too."
#define RM_DG_DESTADDR "A `send()` without an address on an unconnected socket fails with `EDESTADDRREQ` (AF_UNIX: `ENOTCONN`), one to port 0 with `EINVAL`, as UDP's."
#define RM_DG_UNSPEC "`connect(AF_UNSPEC)` on a `socketpair()` end forgets a port it was connected to but keeps the pair (AF_UNIX disconnects it);"
#define RM_DG_FILTER "A datagram to a connected socket from another port than its peer fails with `EPERM`, as AF_UNIX (UDP drops it)."
#define RM_RELIABLE "a datagram is queued or the sender is told why not"
#define RM_RECORDS "a SEQPACKET record or a datagram may be as large as"

struct divergence {
	const char *scenario;
	int step;		/* 1-based, after macro expansion */
	const char *ref;	/* "AF_UNIX", "TCP" or "UDP" */
	const char *toy, *other;
	const char *readme;
};

static const struct divergence divergences[] = {
	/* STREAM: addresses, listen, connect */
	{ "st_bind_any_twice", 3, "AF_UNIX", "-1 EINVAL", "0", RM_BIND_TWICE },
	{ "st_bind_after_connect", 7, "AF_UNIX", "-1 EINVAL", "0", RM_BIND_TWICE },
	{ "st_bind_wrong_family", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "st_bind_unspec", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "st_bind_path_of_seqpacket", 4, "AF_UNIX", "0", "-1 EADDRINUSE", RM_PORTS },
	{ "st_listen_unbound", 2, "AF_UNIX", "0", "-1 EINVAL", RM_LISTEN_BINDS },
	{ "st_listen_after_shut_rd", 8, "AF_UNIX", "0", "-1 ECONNREFUSED", RM_RELISTEN },
	{ "st_connect_connected_to_nobody", 7, "AF_UNIX", "-1 EISCONN", "-1 ECONNREFUSED", RM_EISCONN },
	{ "st_connect_on_listener", 4, "AF_UNIX", "-1 EISCONN", "-1 EINVAL", RM_EISCONN },
	{ "st_connect_listener_elsewhere", 7, "AF_UNIX", "-1 EISCONN", "-1 EINVAL", RM_EISCONN },
	{ "st_connect_wrong_family", 5, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "st_connect_unspec_fresh", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_UNSPEC },
	{ "st_connect_unspec_fresh", 2, "TCP", "-1 EAFNOSUPPORT", "0", RM_UNSPEC },
	{ "st_connect_unspec_connected", 7, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_UNSPEC },
	{ "st_connect_unspec_connected", 7, "TCP", "-1 EAFNOSUPPORT", "0", RM_UNSPEC },
	{ "st_connect_nonblocking", 5, "TCP", "0", "-1 EINPROGRESS", RM_NOWIRE },
	{ "st_connect_full_backlog", 9, "TCP", "-1 EAGAIN", "-1 EINPROGRESS", RM_NOWIRE },
	{ "st_connect_seqpacket_path", 5, "AF_UNIX", "-1 ECONNREFUSED", "-1 EPROTOTYPE", RM_OTHER_TYPE },
	{ "st_accept_after_client_close", 9, "TCP", "-1 EPIPE SIGPIPE", "4", RM_EPIPE },
	{ "st_accept_after_client_reset", 9, "AF_UNIX", "-1 ECONNRESET", "0", RM_LINGER },
	{ "st_accept_after_client_reset_named", 9, "AF_UNIX", "-1 ECONNRESET", "0", RM_LINGER },
	{ "st_accept_after_shut_rd", 5, "AF_UNIX", "-1 EINVAL", "-1 EAGAIN", RM_LISTENER_SHUT },
	{ "st_accept_after_shut_rd", 6, "AF_UNIX", "0 = 0", "0 = 1", RM_LISTENER_SHUT },
	/* STREAM: data */
	{ "st_send_unconnected", 2, "TCP", "-1 ENOTCONN", "-1 EPIPE SIGPIPE", RM_SEND_NOTCONN },
	{ "st_send_unconnected_nosignal", 2, "TCP", "-1 ENOTCONN", "-1 EPIPE", RM_SEND_NOTCONN },
	{ "st_send_listener", 4, "TCP", "-1 ENOTCONN", "-1 EPIPE SIGPIPE", RM_SEND_NOTCONN },
	{ "st_recv_unconnected", 2, "AF_UNIX", "-1 ENOTCONN", "-1 EINVAL", RM_RECV_NOTCONN },
	{ "st_recv_listener", 4, "AF_UNIX", "-1 ENOTCONN", "-1 EINVAL", RM_RECV_NOTCONN },
	{ "st_sendto_connected", 7, "AF_UNIX", "4", "-1 EISCONN", RM_SENDTO },
	{ "st_sendto_connected", 8, "AF_UNIX", "4 #549d", "-1 EAGAIN", RM_SENDTO },
	{ "st_opt_reuseport", 2, "TCP", "-1 EOPNOTSUPP", "0", RM_REUSEPORT },
	{ "st_opt_reuseport", 3, "TCP", "0 = 0", "0 = 1", RM_REUSEPORT },
	{ "st_trunc", 8, "AF_UNIX", "4 #13f5", "4 #549d", RM_TRUNC },
	{ "st_trunc_peek", 8, "AF_UNIX", "4 #13f5", "4 #549d", RM_TRUNC },
	{ "st_oob_send", 7, "AF_UNIX", "-1 EOPNOTSUPP", "1", RM_OOB },
	{ "st_oob_send", 7, "TCP", "-1 EOPNOTSUPP", "1", RM_OOB },
	{ "st_oob_recv", 7, "AF_UNIX", "-1 EOPNOTSUPP", "-1 EINVAL", RM_OOB },
	{ "st_oob_recv", 7, "TCP", "-1 EOPNOTSUPP", "-1 EINVAL", RM_OOB },
	{ "st_siocatmark", 7, "AF_UNIX", "-1 ENOTTY", "0 = 0", RM_OOB },
	{ "st_siocatmark", 7, "TCP", "-1 ENOTTY", "0 = 0", RM_OOB },
	{ "st_siocoutq", 9, "TCP", "0 > 0", "0 = 0", RM_OUTQ },
	{ "st_siocoutq_listener", 4, "TCP", "0 = 0", "-1 EINVAL", RM_OUTQ_LISTEN },
	/* STREAM: shutdown and close */
	{ "st_recv_after_shut_rd", 9, "TCP", "-1 EPIPE SIGPIPE", "4", RM_EPIPE },
	{ "st_send_after_peer_close", 8, "TCP", "-1 EPIPE SIGPIPE", "4", RM_EPIPE },
	{ "st_send_nosignal_after_peer_close", 8, "TCP", "-1 EPIPE", "4", RM_EPIPE },
	{ "st_send_zero_after_peer_close", 8, "TCP", "-1 EPIPE SIGPIPE", "0", RM_EPIPE },
	{ "st_close_unread_send", 9, "AF_UNIX", "-1 ECONNRESET", "-1 EPIPE SIGPIPE", RM_RESET },
	{ "st_linger_zero_close", 9, "AF_UNIX", "-1 ECONNRESET", "0", RM_LINGER },
	{ "st_shutdown_unconnected", 2, "AF_UNIX", "-1 ENOTCONN", "0", RM_SHUT_NOTCONN },
	{ "st_shutdown_after_reset", 9, "AF_UNIX", "-1 ENOTCONN", "0", RM_SHUT_NOTCONN },
	/* STREAM: poll, options */
	{ "st_poll_shut_rdwr", 9, "TCP", "poll IN OUT RDHUP HUP", "poll IN OUT RDHUP", RM_HUP },
	{ "st_poll_peer_close", 8, "TCP", "poll IN OUT RDHUP HUP", "poll IN OUT RDHUP", RM_HUP },
	{ "st_poll_peer_close_read", 10, "TCP", "poll IN OUT RDHUP HUP", "poll IN OUT RDHUP", RM_HUP },
	{ "st_poll_rcvlowat", 9, "AF_UNIX", "poll OUT", "poll IN OUT", RM_RCVLOWAT },
	{ "st_poll_listener_shut_rd", 5, "AF_UNIX", "poll OUT HUP", "poll IN RDHUP", RM_LISTENER_SHUT },
	{ "st_opt_accepted_inherits", 8, "AF_UNIX", "0 = 5", "0 = 1", RM_INHERIT },
	/* SEQPACKET */
	{ "sq_bind_wrong_family", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "sq_listen_unbound", 2, "AF_UNIX", "0", "-1 EINVAL", RM_LISTEN_BINDS },
	{ "sq_connect_on_listener", 4, "AF_UNIX", "-1 EISCONN", "-1 EINVAL", RM_EISCONN },
	{ "sq_connect_stream_path", 5, "AF_UNIX", "-1 ECONNREFUSED", "-1 EPROTOTYPE", RM_OTHER_TYPE },
	{ "sq_shutdown_unconnected", 2, "AF_UNIX", "-1 ENOTCONN", "0", RM_SHUT_NOTCONN },
	/* DGRAM */
	{ "dg_bind_wrong_family", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "dg_connect_nobody", 2, "AF_UNIX", "0", "-1 ECONNREFUSED", RM_DG_CONNECT },
	{ "dg_connect_nobody", 3, "AF_UNIX", "0", "-1 ENOTCONN", RM_DG_CONNECT },
	{ "dg_connect_wrong_family", 4, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "dg_connect_unspec", 7, "AF_UNIX", "-1 EDESTADDRREQ", "-1 ENOTCONN", RM_DG_DESTADDR },
	{ "dg_shutdown_unconnected", 2, "AF_UNIX", "-1 ENOTCONN", "0", RM_DG_SHUT },
	{ "dg_send_unconnected", 2, "AF_UNIX", "-1 EDESTADDRREQ", "-1 ENOTCONN", RM_DG_DESTADDR },
	{ "dg_sendto_nobody", 2, "UDP", "-1 ECONNREFUSED", "4", RM_RELIABLE },
	{ "dg_sendto_wrong_family", 2, "AF_UNIX", "-1 EAFNOSUPPORT", "-1 EINVAL", RM_FAMILY },
	{ "dg_filtered_sender", 8, "UDP", "-1 EPERM", "4", RM_DG_FILTER },
	{ "dg_oob", 5, "UDP", "-1 EOPNOTSUPP", "-1 EAGAIN", RM_OOB },
	{ "dg_large", 4, "UDP", "69000", "-1 EMSGSIZE", RM_RECORDS },
	{ "dg_siocoutq", 5, "UDP", "0 > 0", "0 = 0", RM_OUTQ },
	{ "dg_shut_wr_unconnected", 4, "AF_UNIX", "-1 ENOTCONN", "0", RM_DG_SHUT },
	{ "dg_receiver_closed", 9, "AF_UNIX", "-1 ECONNREFUSED", "-1 ENOTCONN", RM_DG_STAYS },
	{ "dg_receiver_closed", 10, "AF_UNIX", "0", "-1 ENOTCONN", RM_DG_STAYS },
	/* socketpair() */
	{ "ps_trunc", 3, "AF_UNIX", "4 #13f5", "4 #549d", RM_TRUNC },
	{ "ps_oob", 2, "AF_UNIX", "-1 EOPNOTSUPP", "1", RM_OOB },
	{ "pd_close", 4, "AF_UNIX", "-1 ECONNREFUSED", "-1 ENOTCONN", RM_DG_STAYS },
	{ "pd_close", 5, "AF_UNIX", "0", "-1 ENOTCONN", RM_DG_STAYS },
	{ "pd_connect_unspec", 3, "AF_UNIX", "0", "-1 ENOTCONN", RM_DG_UNSPEC },
	{ "pd_connect_unspec", 4, "AF_UNIX", "4", "-1 ENOTCONN", RM_DG_UNSPEC },
};
#define NDIV ((int)ARRAY_SIZE(divergences))

/* ---- running a scenario in one world ------------------------------------- */

#define NSLOT		8
#define MAXSTEP		40
#define RESLEN		64
#define BUFLEN		70000

struct world {
	int kind, type, idx;
	int fd[NSLOT];
	unsigned int nsend;
};

union addr {
	struct sockaddr sa;
	struct sockaddr_toy toy;
	struct sockaddr_un un;
	struct sockaddr_in in;
	char raw[256];
};

static unsigned char sbuf[BUFLEN], rbuf[BUFLEN];

static const char *world_name(int kind, int type)
{
	if (kind != W_INET)
		return kind == W_TOY ? "AF_TOY" : "AF_UNIX";
	return type == SOCK_DGRAM ? "UDP" : "TCP";
}

static int world_family(int kind)
{
	return kind == W_TOY ? AF_TOY : kind == W_UNIX ? AF_UNIX : AF_INET;
}

/* The address for code in world w; returns its length. */
static socklen_t mkaddr(const struct world *w, int code, union addr *a)
{
	int k = code < A_PATH ? code : 0, off = offsetof(struct sockaddr_un, sun_path);
	uint32_t port = code == A_ANY ? 0 : 20000 + w->idx * 8 + k;
	socklen_t len;

	memset(a, 0, sizeof(*a));
	if (w->kind == W_TOY) {
		a->toy.stoy_family = AF_TOY;
		a->toy.stoy_port = port;
		len = sizeof(a->toy);
	} else if (w->kind == W_UNIX) {
		a->un.sun_family = AF_UNIX;
		if (code == A_ANY)	/* autobind */
			return off;
		if (code == A_PATH)
			return off + 1 + snprintf(a->un.sun_path, sizeof(a->un.sun_path),
						  "/tmp/toy_diff.%d.%d", (int)getpid(), w->idx);
		len = off + 1 + snprintf(a->un.sun_path + 1, sizeof(a->un.sun_path) - 1,
					 "toy_diff.%d.%d.%d", (int)getpid(), w->idx, k);
	} else {
		a->in.sin_family = AF_INET;
		a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->in.sin_port = htons(port);
		len = sizeof(a->in);
	}
	if (code == A_FAM)
		a->sa.sa_family = w->kind == W_INET ? AF_UNIX : AF_INET;
	else if (code == A_UNSPEC)
		a->sa.sa_family = AF_UNSPEC;
	return code == A_SHORT ? 1 : code == A_BIG ? sizeof(struct sockaddr_storage) + 1 : len;
}

/* Was SIGPIPE (blocked) raised?  Consumes it. */
static bool sigpipe_taken(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	return sigtimedwait(&set, NULL, &zero) == SIGPIPE;
}

/* getsockopt(SOL_SOCKET) and its value as a trace entry. */
static int do_getopt(const struct world *w, int fd, const struct step *st, char *out)
{
	union { int i; struct linger lg; struct ucred uc; char raw[64]; } v;
	socklen_t len = st->n == SO_LINGER ? sizeof(v.lg) : st->n == SO_PEERCRED ?
			sizeof(v.uc) : sizeof(int);
	int inet = w->kind == W_INET, proto = !inet ? 0 : w->type == SOCK_DGRAM ?
		   IPPROTO_UDP : IPPROTO_TCP;

	memset(&v, 0, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, st->n, &v, st->x ? &(socklen_t){ -1 } : &len) < 0)
		return -1;
	if (st->n == SO_ERROR)
		snprintf(out, RESLEN, "0 %s", v.i ? strerrorname_np(v.i) ?: "E?" : "no error");
	else if (st->n == SO_DOMAIN)	/* differs by definition */
		snprintf(out, RESLEN, "0 %s family", v.i == world_family(w->kind) ? "own" : "other");
	else if (st->n == SO_PROTOCOL)	/* IPPROTO_TCP/UDP vs 0 */
		snprintf(out, RESLEN, "0 %s protocol", v.i == proto ? "default" : "other");
	else if (st->n == SO_LINGER)
		snprintf(out, RESLEN, "0 linger %d/%d", v.lg.l_onoff, v.lg.l_linger);
	else if (st->n == SO_PEERCRED)
		snprintf(out, RESLEN, "0 pid %s", v.uc.pid == getpid() ? "self" :
			 v.uc.pid ? "other" : "none");
	else
		snprintf(out, RESLEN, "0 = %d", v.i);
	return 0;
}

/* Runs one step; its observable result goes to out. */
static void do_step(struct world *w, const struct step *st, char *out)
{
	static const struct { short bit; const char *name; } pb[] = {
		{ POLLIN, "IN" }, { POLLPRI, "PRI" }, { POLLOUT, "OUT" }, { POLLRDHUP, "RDHUP" },
		{ POLLERR, "ERR" }, { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
	};
	int *slot = &w->fd[st->s], fd = *slot, fam = world_family(w->kind);
	int ret = 0, err, v[16] = { 0 }, fl = -1, i, n = 0;
	struct iovec iov = { .iov_base = rbuf, .iov_len = st->n };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI };
	struct linger lg = { .l_onoff = st->f >> 16, .l_linger = st->f & 0xffff };
	union addr a;
	socklen_t len = mkaddr(w, st->x, &a);

	/* accept() and the connects marked so must not wait */
	if (st->op == OP_ACCEPT || (st->op == OP_CONN && st->n)) {
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
	out[0] = '\0';
	errno = 0;
	switch (st->op) {
	case OP_SOCK:
		ret = v[0] = socket(fam, st->n ?: w->type, 0);
		break;
	case OP_PAIR:
		ret = socketpair(fam, w->type, 0, v);
		break;
	case OP_BIND:
		ret = bind(fd, &a.sa, len);
		break;
	case OP_CONN:
		ret = connect(fd, &a.sa, len);
		break;
	case OP_LISTEN:
		ret = listen(fd, st->n);
		break;
	case OP_ACCEPT:
		/*
		 * TCP queues a connection when the client's ACK is processed,
		 * which under load can be after connect() returned: give it a
		 * bounded moment, as the other worlds queue it at connect().
		 */
		if (fam == AF_INET && w->type == SOCK_STREAM)
			poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 500);
		errno = 0;
		len = sizeof(a);
		ret = v[0] = accept(fd, st->n ? &a.sa : NULL, st->n ? &len : NULL);
		break;
	case OP_SEND:
		for (i = 0; i < st->n; i++)
			sbuf[i] = (unsigned char)(w->nsend * 37 + i * 7 + 1);
		w->nsend++;
		ret = sendto(fd, sbuf, st->n, st->f | MSG_DONTWAIT, st->x == A_NONE ? NULL : &a.sa,
			     st->x == A_NONE ? 0 : len);
		break;
	case OP_RECV:
		memset(rbuf, 0, st->n);
		ret = recvmsg(fd, &msg, st->f | (st->x ? 0 : MSG_DONTWAIT));
		break;
	case OP_SHUT:
		ret = shutdown(fd, st->n);
		break;
	case OP_CLOSE:
		ret = close(fd);
		*slot = -1;
		break;
	case OP_POLL:
		ret = poll(&p, 1, 0);
		break;
	case OP_GETOPT:
		ret = do_getopt(w, fd, st, out);
		break;
	case OP_SETOPT:
		ret = st->n == SO_LINGER ? setsockopt(fd, SOL_SOCKET, st->n, &lg, sizeof(lg)) :
		      setsockopt(fd, SOL_SOCKET, st->n, &st->f, st->x ? 1 : sizeof(int));
		break;
	case OP_IOCTL:
		ret = ioctl(fd, st->n, v);
		break;
	case OP_NAME:
	case OP_PEER:
		len = sizeof(a);
		ret = st->op == OP_NAME ? getsockname(fd, &a.sa, &len) : getpeername(fd, &a.sa, &len);
		break;
	}
	err = errno;
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl);
	if (ret < 0) {
		snprintf(out, RESLEN, "-1 %s", strerrorname_np(err) ?: "E?");
	} else if (st->op == OP_SOCK || st->op == OP_PAIR || st->op == OP_ACCEPT) {
		int *to = st->op == OP_ACCEPT ? &w->fd[st->x] : slot;

		if (*to >= 0)
			close(*to);
		*to = v[0];
		if (st->op == OP_PAIR)
			w->fd[st->x] = v[1];
		snprintf(out, RESLEN, "0");
	} else if (st->op == OP_RECV) {	/* length, a hash of the bytes, MSG_TRUNC */
		n = snprintf(out, RESLEN, "%d", ret);
		if (ret && st->n)
			n += snprintf(out + n, RESLEN - n, " #%04x", (unsigned int)(toy_fnv1a(
				      TOY_FNV_INIT, rbuf, ret < st->n ? ret : st->n) & 0xffff));
		if (msg.msg_flags & MSG_TRUNC)
			snprintf(out + n, RESLEN - n, " TRUNC");
	} else if (st->op == OP_POLL) {
		n = snprintf(out, RESLEN, "poll%s", ret ? "" : " 0");
		for (i = 0; ret && i < (int)ARRAY_SIZE(pb); i++)
			if (p.revents & pb[i].bit)
				n += snprintf(out + n, RESLEN - n, " %s", pb[i].name);
	} else if (st->op == OP_IOCTL && st->n == SIOCOUTQ) {	/* bytes, truesize or 0 */
		snprintf(out, RESLEN, "0 %s", v[0] ? "> 0" : "= 0");
	} else if (st->op == OP_IOCTL) {
		snprintf(out, RESLEN, "0 = %d", v[0]);
	} else if (st->op != OP_GETOPT) {
		snprintf(out, RESLEN, "%d", ret);
	}
	if (sigpipe_taken())
		strncat(out, " SIGPIPE", RESLEN - strlen(out) - 1);
}

struct trace {
	int n;
	char r[MAXSTEP][RESLEN];
};

static void run_world(int kind, int idx, struct trace *t)
{
	const struct scenario *sc = &scenarios[idx];
	struct world w = { .kind = kind, .type = sc->type, .idx = idx };
	union addr a;
	int i;

	for (i = 0; i < NSLOT; i++)
		w.fd[i] = -1;
	while (sigpipe_taken())
		;
	for (i = 0; sc->steps[i].op != OP_END && i < MAXSTEP; i++) {
		/*
		 * Loopback TCP/UDP finish what a step sent in softirq, which
		 * a loaded machine defers to ksoftirqd: let it run first.
		 */
		if (kind == W_INET && i)
			usleep(1000);
		do_step(&w, &sc->steps[i], t->r[i]);
	}
	t->n = i;
	for (i = 0; i < NSLOT; i++)
		if (w.fd[i] >= 0)
			close(w.fd[i]);
	if (kind == W_UNIX && mkaddr(&w, A_PATH, &a))	/* a file system name, if any */
		unlink(a.un.sun_path);
}

static int find_divergence(const char *name, int step, const char *ref)
{
	int i;

	for (i = 0; i < NDIV; i++)
		if (!strcmp(divergences[i].scenario, name) && divergences[i].step == step &&
		    !strcmp(divergences[i].ref, ref))
			return i;
	return -1;
}

/* Runs scenario idx everywhere; returns the number of unlisted differences. */
static int run_scenario(int idx, bool *hit, int *intended)
{
	const struct scenario *sc = &scenarios[idx];
	const char *v = getenv("TOY_DIFF_VERBOSE");
	bool verbose = v && *v && strcmp(v, "0");
	static struct trace t[NW];
	int kind, i, d, bad = 0;

	run_world(W_TOY, idx, &t[W_TOY]);
	for (kind = W_UNIX; kind < NW; kind++) {
		const char *ref = world_name(kind, sc->type);

		if (!(sc->refs & (1 << kind)))
			continue;
		run_world(kind, idx, &t[kind]);
		for (i = 0; i < t[W_TOY].n; i++) {
			const char *a = t[W_TOY].r[i], *b = t[kind].r[i];
			const struct step *st = &sc->steps[i];

			if (verbose)
				ksft_print_msg("%s %2d %-11s AF_TOY %-22s %-7s %s\n", sc->name, i + 1,
					       op_name[st->op], a, ref, b);
			if (!strcmp(a, b))
				continue;
			d = find_divergence(sc->name, i + 1, ref);
			if (d >= 0 && !strcmp(divergences[d].toy, a) && !strcmp(divergences[d].other, b)) {
				hit[d] = true;
				(*intended)++;
				continue;
			}
			bad++;
			ksft_print_msg("MISMATCH %s step %d (%s on slot %d): AF_TOY \"%s\", %s \"%s\"%s\n",
				       sc->name, i + 1, op_name[st->op], st->s, a, ref, b,
				       d >= 0 ? " (the table says otherwise)" : "");
			ksft_print_msg("  table line: { \"%s\", %d, \"%s\", \"%s\", \"%s\", RM_ },\n",
				       sc->name, i + 1, ref, a, b);
		}
	}
	return bad;
}

static void run_group(struct __test_metadata *_metadata, const char *group)
{
	bool hit[NDIV + 1];
	int i, n = 0, steps = 0, intended = 0, bad = 0, stale = 0;
	sigset_t set;

	if (toy_ensure_module() < 0)
		SKIP(return, "AF_TOY is not available");
	toy_lo_up();
	mkdir("/tmp", 01777);	/* for AF_UNIX file system names */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	memset(hit, 0, sizeof(hit));
	for (i = 0; i < NSCEN; i++) {
		const struct step *st;

		if (strcmp(scenarios[i].group, group))
			continue;
		n++;
		for (st = scenarios[i].steps; st->op != OP_END; st++)
			steps++;
		bad += run_scenario(i, hit, &intended);
	}
	for (i = 0; i < NDIV; i++) {
		int k;

		for (k = 0; k < NSCEN; k++)
			if (!strcmp(scenarios[k].name, divergences[i].scenario))
				break;
		if (k == NSCEN || strcmp(scenarios[k].group, group) || hit[i])
			continue;
		stale++;
		ksft_print_msg("STALE table entry: %s step %d %s: AF_TOY \"%s\", %s \"%s\" did not occur\n",
			       divergences[i].scenario, divergences[i].step, divergences[i].ref,
			       divergences[i].toy, divergences[i].ref, divergences[i].other);
	}
	ksft_print_msg("%s: %d scenarios, %d steps, %d intended divergences, %d unlisted, %d stale\n",
		       group, n, steps, intended, bad, stale);
	EXPECT_LT(0, n);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, stale);
}

/* One test case per group of scenarios (the GRP they were declared under). */
#define GROUPS(G) G(stream_addr) G(stream_connect) G(stream_data) G(stream_close) \
	G(stream_poll) G(stream_opt) G(seqpacket) G(dgram_addr) G(dgram_data) G(pairs)
#define GROUP_TEST(g) TEST(g) { run_group(_metadata, #g); }
#define GROUP_NAME(g) #g,
GROUPS(GROUP_TEST)
static const char * const groups[] = { GROUPS(GROUP_NAME) };

/* The tables themselves: unique names, sane entries, enough scenarios. */
TEST(tables)
{
	int i, k, n[3] = { 0 }, pairs = 0, steps;

	for (i = 0; i < NSCEN; i++) {
		const struct step *st;

		for (k = 0; k < i; k++) {
			EXPECT_NE(0, strcmp(scenarios[i].name, scenarios[k].name))
				TH_LOG("scenario name %s used twice", scenarios[i].name);
		}
		for (steps = 0, st = scenarios[i].steps; st->op != OP_END; st++, steps++)
			if (st->op == OP_PAIR)
				pairs++;
		EXPECT_GE(MAXSTEP, steps) TH_LOG("%s: too many steps", scenarios[i].name);
		for (k = 0; k < (int)ARRAY_SIZE(groups); k++)
			if (!strcmp(groups[k], scenarios[i].group))
				break;
		EXPECT_GT((int)ARRAY_SIZE(groups), k)
			TH_LOG("%s: group %s has no test case", scenarios[i].name, scenarios[i].group);
		n[scenarios[i].type == SOCK_STREAM ? 0 : scenarios[i].type == SOCK_SEQPACKET ? 1 : 2]++;
	}
	for (i = 0; i < NDIV; i++) {
		const struct divergence *d = &divergences[i];

		for (k = 0; k < NSCEN; k++)
			if (!strcmp(scenarios[k].name, d->scenario))
				break;
		EXPECT_GT(NSCEN, k) TH_LOG("table: no scenario %s", d->scenario);
		if (k == NSCEN)
			continue;
		for (steps = 0; scenarios[k].steps[steps].op != OP_END; steps++)
			;
		EXPECT_TRUE(d->step >= 1 && d->step <= steps) TH_LOG("table: %s step %d", d->scenario, d->step);
		EXPECT_TRUE(!strcmp(d->ref, "AF_UNIX") ? scenarios[k].refs & R_UNIX :
			    !strcmp(d->ref, world_name(W_INET, scenarios[k].type)) &&
			    (scenarios[k].refs & R_INET))
			TH_LOG("table: %s is not compared with %s", d->scenario, d->ref);
		EXPECT_NE(0, strcmp(d->toy, d->other)) TH_LOG("table: %s step %d", d->scenario, d->step);
		EXPECT_LT(20, (int)strlen(d->readme)) TH_LOG("table: %s: README sentence", d->scenario);
		EXPECT_EQ(i, find_divergence(d->scenario, d->step, d->ref))
			TH_LOG("table: %s step %d %s listed twice", d->scenario, d->step, d->ref);
	}
	ksft_print_msg("%d scenarios: %d STREAM, %d SEQPACKET, %d DGRAM (%d socketpair() scenarios); %d intended divergences listed\n",
		       NSCEN, n[0], n[1], n[2], pairs, NDIV);
	EXPECT_LE(150, NSCEN);
}

TEST_HARNESS_MAIN

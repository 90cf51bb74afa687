/* SPDX-License-Identifier: GPL-2.0 */
/*
 * af_toy tracepoints (system "toy"): every state change, every logical
 * segment and every socket call entering and leaving the family, so that
 * the TCP flow can be watched with tracefs, perf or trace-cmd.  Sockets
 * are named by inode number and ports, never by kernel pointer.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM toy

#if !defined(_TOY_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TOY_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>

#include "af_toy.h"

/* Let user space tools resolve the symbolic values. */
TRACE_DEFINE_ENUM(TCP_ESTABLISHED);
TRACE_DEFINE_ENUM(TCP_SYN_SENT);
TRACE_DEFINE_ENUM(TCP_SYN_RECV);
TRACE_DEFINE_ENUM(TCP_FIN_WAIT1);
TRACE_DEFINE_ENUM(TCP_FIN_WAIT2);
TRACE_DEFINE_ENUM(TCP_TIME_WAIT);
TRACE_DEFINE_ENUM(TCP_CLOSE);
TRACE_DEFINE_ENUM(TCP_CLOSE_WAIT);
TRACE_DEFINE_ENUM(TCP_LAST_ACK);
TRACE_DEFINE_ENUM(TCP_LISTEN);
TRACE_DEFINE_ENUM(TCP_CLOSING);
TRACE_DEFINE_ENUM(TOY_SEG_SYN);
TRACE_DEFINE_ENUM(TOY_SEG_SYN_ACK);
TRACE_DEFINE_ENUM(TOY_SEG_ACK);
TRACE_DEFINE_ENUM(TOY_SEG_DATA);
TRACE_DEFINE_ENUM(TOY_SEG_FIN);
TRACE_DEFINE_ENUM(TOY_SEG_RST);
TRACE_DEFINE_ENUM(TOY_CALL_SOCKET);
TRACE_DEFINE_ENUM(TOY_CALL_BIND);
TRACE_DEFINE_ENUM(TOY_CALL_LISTEN);
TRACE_DEFINE_ENUM(TOY_CALL_ACCEPT);
TRACE_DEFINE_ENUM(TOY_CALL_CONNECT);
TRACE_DEFINE_ENUM(TOY_CALL_SENDMSG);
TRACE_DEFINE_ENUM(TOY_CALL_RECVMSG);
TRACE_DEFINE_ENUM(TOY_CALL_SHUTDOWN);
TRACE_DEFINE_ENUM(TOY_CALL_RELEASE);

#define toy_show_state(s)						\
	__print_symbolic(s,						\
		{ TCP_ESTABLISHED,	"ESTABLISHED" },		\
		{ TCP_SYN_SENT,		"SYN_SENT" },			\
		{ TCP_SYN_RECV,		"SYN_RECV" },			\
		{ TCP_FIN_WAIT1,	"FIN_WAIT1" },			\
		{ TCP_FIN_WAIT2,	"FIN_WAIT2" },			\
		{ TCP_TIME_WAIT,	"TIME_WAIT" },			\
		{ TCP_CLOSE,		"CLOSED" },			\
		{ TCP_CLOSE_WAIT,	"CLOSE_WAIT" },			\
		{ TCP_LAST_ACK,		"LAST_ACK" },			\
		{ TCP_LISTEN,		"LISTEN" },			\
		{ TCP_CLOSING,		"CLOSING" })

#define toy_show_type(t)						\
	__print_symbolic(t,						\
		{ SOCK_STREAM,		"STREAM" },			\
		{ SOCK_SEQPACKET,	"SEQPACKET" },			\
		{ SOCK_DGRAM,		"DGRAM" },			\
		{ 0,			"-" })

#define toy_show_seg(k)							\
	__print_symbolic(k,						\
		{ TOY_SEG_SYN,		"SYN" },			\
		{ TOY_SEG_SYN_ACK,	"SYN-ACK" },			\
		{ TOY_SEG_ACK,		"ACK" },			\
		{ TOY_SEG_DATA,		"DATA" },			\
		{ TOY_SEG_FIN,		"FIN" },			\
		{ TOY_SEG_RST,		"RST" })

#define toy_show_call(c)						\
	__print_symbolic(c,						\
		{ TOY_CALL_SOCKET,	"socket" },			\
		{ TOY_CALL_BIND,	"bind" },			\
		{ TOY_CALL_LISTEN,	"listen" },			\
		{ TOY_CALL_ACCEPT,	"accept" },			\
		{ TOY_CALL_CONNECT,	"connect" },			\
		{ TOY_CALL_SENDMSG,	"sendmsg" },			\
		{ TOY_CALL_RECVMSG,	"recvmsg" },			\
		{ TOY_CALL_SHUTDOWN,	"shutdown" },			\
		{ TOY_CALL_RELEASE,	"release" })

TRACE_EVENT(toy_state,
	    TP_PROTO(struct sock *sk, int oldstate, int newstate),
	    TP_ARGS(sk, oldstate, newstate),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(u32, lport)
			     __field(u32, pport)
			     __field(int, type)
			     __field(int, oldstate)
			     __field(int, newstate)),
	    TP_fast_assign(__entry->ino = toy_sk_ino(sk);
			   __entry->lport = toy_sk(sk)->port;
			   __entry->pport = toy_shown_peer_port(toy_sk(sk));
			   __entry->type = sk->sk_type;
			   __entry->oldstate = oldstate;
			   __entry->newstate = newstate;),
	    TP_printk("ino=%lu type=%s lport=%u pport=%u %s -> %s",
		      __entry->ino, toy_show_type(__entry->type),
		      __entry->lport, __entry->pport,
		      toy_show_state(__entry->oldstate),
		      toy_show_state(__entry->newstate))
);

TRACE_EVENT(toy_segment,
	    TP_PROTO(struct sock *from, u32 dport, int kind, u32 len),
	    TP_ARGS(from, dport, kind, len),
	    TP_STRUCT__entry(__field(unsigned long, ino)
			     __field(u32, sport)
			     __field(u32, dport)
			     __field(int, kind)
			     __field(u32, len)),
	    TP_fast_assign(__entry->ino = toy_sk_ino(from);
			   __entry->sport = toy_sk(from)->port;
			   __entry->dport = dport;
			   __entry->kind = kind;
			   __entry->len = len;),
	    TP_printk("%s sport=%u dport=%u len=%u ino=%lu",
		      toy_show_seg(__entry->kind), __entry->sport,
		      __entry->dport, __entry->len, __entry->ino)
);

DECLARE_EVENT_CLASS(toy_call_class,
		    TP_PROTO(unsigned long ino, const struct sock *sk,
			     int call, long ret),
		    TP_ARGS(ino, sk, call, ret),
		    TP_STRUCT__entry(__field(unsigned long, ino)
				     __field(u32, port)
				     __field(u32, pport)
				     __field(int, type)
				     __field(int, call)
				     __field(long, ret)),
		    TP_fast_assign(__entry->ino = ino;
				   __entry->port = sk ? toy_sk(sk)->port : 0;
				   __entry->pport = sk ? toy_shown_peer_port(toy_sk(sk)) : 0;
				   __entry->type = sk ? sk->sk_type : 0;
				   __entry->call = call;
				   __entry->ret = ret;),
		    TP_printk("%s ino=%lu type=%s port=%u pport=%u ret=%ld",
			      toy_show_call(__entry->call), __entry->ino,
			      toy_show_type(__entry->type), __entry->port,
			      __entry->pport, __entry->ret)
);

DEFINE_EVENT(toy_call_class, toy_call_enter,
	     TP_PROTO(unsigned long ino, const struct sock *sk, int call,
		      long ret),
	     TP_ARGS(ino, sk, call, ret)
);

DEFINE_EVENT(toy_call_class, toy_call_exit,
	     TP_PROTO(unsigned long ino, const struct sock *sk, int call,
		      long ret),
	     TP_ARGS(ino, sk, call, ret)
);

#ifndef _TOY_TRACE_HELPERS
#define _TOY_TRACE_HELPERS
/* The socket calls' entry and exit events, from the struct socket. */
static inline void toy_call_enter(struct socket *sock, int call)
{
	trace_toy_call_enter(SOCK_INODE(sock)->i_ino, sock->sk, call, 0);
}

static inline long toy_call_exit(struct socket *sock, const struct sock *sk,
				 int call, long ret)
{
	trace_toy_call_exit(SOCK_INODE(sock)->i_ino, sk, call, ret);
	return ret;
}
#endif

#endif /* _TOY_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE toy_trace
#include <trace/define_trace.h>

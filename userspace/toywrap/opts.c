// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options of a moved socket.  SOL_SOCKET options are AF_TOY's own
 * (the kernel's generic code handles them for every family) but
 * SO_REUSEPORT, which the kernel refuses outside IPv4/IPv6; it and the
 * TCP, UDP, IPv4 and IPv6 options have no meaning there: a setsockopt() is
 * checked as the kernel checks an int option, remembered, and a later
 * getsockopt() returns what was set, else Linux's default for a loopback
 * socket.
 * Options set before the move are replayed onto the AF_TOY socket.  Works
 * on a copy of the fd's entry (the caller stores it back).
 */
#include <errno.h>
#include <string.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include "toywrap.h"

struct tw_default {
	int level;
	int name;
	int value;
};

static const struct tw_default tw_defaults[] = {
	{ SOL_SOCKET, SO_REUSEPORT, 0 },
	{ IPPROTO_TCP, TCP_NODELAY, 0 },
	{ IPPROTO_TCP, TCP_MAXSEG, 65483 },	/* loopback's MSS */
	{ IPPROTO_TCP, TCP_CORK, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 7200 },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 75 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 9 },
	{ IPPROTO_TCP, TCP_SYNCNT, 6 },
	{ IPPROTO_TCP, TCP_LINGER2, 60 },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, 0 },
	{ IPPROTO_TCP, TCP_WINDOW_CLAMP, 0 },
	{ IPPROTO_TCP, TCP_QUICKACK, 1 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 0 },
	{ IPPROTO_TCP, TCP_FASTOPEN, 0 },
	{ IPPROTO_UDP, UDP_CORK, 0 },
	{ IPPROTO_IP, IP_TOS, 0 },
	{ IPPROTO_IP, IP_TTL, 64 },
	{ IPPROTO_IP, IP_PKTINFO, 0 },
	{ IPPROTO_IP, IP_RECVERR, 0 },
	{ IPPROTO_IP, IP_FREEBIND, 0 },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0 },
	{ IPPROTO_IP, IP_MTU, 65536 },
	{ IPPROTO_IPV6, IPV6_V6ONLY, 0 },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, 64 },
	{ IPPROTO_IPV6, IPV6_TCLASS, 0 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, 0 },
	{ IPPROTO_IPV6, IPV6_RECVERR, 0 },
	{ IPPROTO_IPV6, IPV6_MTU, 65536 },
};

/* The options only the real stack would understand. */
static bool tw_emulated(int level, int name)
{
	return level == IPPROTO_TCP || level == IPPROTO_UDP ||
	       level == IPPROTO_IP || level == IPPROTO_IPV6 ||
	       (level == SOL_SOCKET && name == SO_REUSEPORT);
}

void tw_opt_record(struct tw_sock *s, int level, int name, const void *val,
		   socklen_t len)
{
	struct tw_opt *o = NULL;
	int i;

	if (len > TW_OPT_MAX_LEN || (len && !val))
		return;
	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == level && s->opts[i].name == name)
			o = &s->opts[i];
	if (!o) {
		if (s->nopts == TW_MAX_OPTS)
			return;
		o = &s->opts[s->nopts++];
	}
	o->level = level;
	o->name = name;
	o->len = len;
	if (len)
		memcpy(o->val, val, len);
}

/* Returns what setsockopt() returns: 0, or -1 with errno set. */
int tw_opt_set(int fd, struct tw_sock *s, int level, int name,
	       const void *val, socklen_t len)
{
	if (!tw_emulated(level, name))
		return tw_real.setsockopt(fd, level, name, val, len);
	if (name == TCP_CONGESTION && level == IPPROTO_TCP) {
		if (!len || len > TW_OPT_MAX_LEN) {
			errno = EINVAL;
			return -1;
		}
	} else if (len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	if (!val) {
		errno = EFAULT;
		return -1;
	}
	tw_opt_record(s, level, name, val, len);
	return 0;
}

static int tw_int_out(int v, void *val, socklen_t *len)
{
	socklen_t n = *len < sizeof(int) ? *len : sizeof(int);

	memcpy(val, &v, n);
	*len = n;
	return 0;
}

static int tw_tcp_info(int fd, void *val, socklen_t *len)
{
	struct tcp_info ti;
	struct sockaddr_toy t;
	socklen_t tl = sizeof(t), il = sizeof(int);
	int listening = 0;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = TCP_CLOSE;
	if (tw_real.getpeername(fd, (struct sockaddr *)&t, &tl) == 0)
		ti.tcpi_state = TCP_ESTABLISHED;
	else if (tw_real.getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) == 0 &&
		 listening)
		ti.tcpi_state = TCP_LISTEN;
	ti.tcpi_snd_mss = 65483;
	ti.tcpi_rcv_mss = 65483;
	ti.tcpi_pmtu = 65536;
	if (*len > sizeof(ti))
		*len = sizeof(ti);
	memcpy(val, &ti, *len);
	return 0;
}

/* Returns what getsockopt() returns: 0, or -1 with errno set. */
int tw_opt_get(int fd, const struct tw_sock *s, int level, int name,
	       void *val, socklen_t *len)
{
	bool ours = level == SOL_SOCKET && (name == SO_DOMAIN || name == SO_PROTOCOL);
	size_t i;
	int n;

	if (!ours && !tw_emulated(level, name))
		return tw_real.getsockopt(fd, level, name, val, len);
	if (!len || !val) {
		errno = EFAULT;
		return -1;
	}
	if ((int)*len < 0) {
		errno = EINVAL;
		return -1;
	}
	if (ours)
		return tw_int_out(name == SO_DOMAIN ? s->family : s->protocol, val, len);
	for (i = 0; i < (size_t)s->nopts; i++) {
		const struct tw_opt *o = &s->opts[i];

		if (o->level == level && o->name == name) {
			n = *len < o->len ? *len : o->len;
			memcpy(val, o->val, n);
			*len = n;
			return 0;
		}
	}
	if (level == IPPROTO_TCP && name == TCP_INFO)
		return tw_tcp_info(fd, val, len);
	for (i = 0; i < sizeof(tw_defaults) / sizeof(tw_defaults[0]); i++)
		if (tw_defaults[i].level == level && tw_defaults[i].name == name)
			return tw_int_out(tw_defaults[i].value, val, len);
	errno = ENOPROTOOPT;
	return -1;
}

/* The SOL_SOCKET options set before the move, onto the AF_TOY socket. */
void tw_opt_replay(int fd, const struct tw_sock *s)
{
	int i;

	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == SOL_SOCKET && !tw_emulated(SOL_SOCKET, s->opts[i].name))
			tw_real.setsockopt(fd, SOL_SOCKET, s->opts[i].name,
					   s->opts[i].val, s->opts[i].len);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options of a moved socket.  SOL_SOCKET options are AF_TOY's own
 * (the kernel's generic code handles them for every family) but
 * SO_REUSEPORT, which the kernel refuses outside IPv4/IPv6; it and the
 * TCP, UDP, IPv4 and IPv6 options have no meaning there: a setsockopt() is
 * checked as the kernel checks an int option, remembered, and a later
 * getsockopt() returns what was set, else Linux's default for a loopback
 * socket.  As in the kernel, TCP options exist on TCP sockets only, UDP
 * options on UDP ones and IPv6 options on IPv6 ones (IPv4 options on both
 * families); the others fail with ENOPROTOOPT.
 * Options set before the move are replayed onto the AF_TOY socket, before
 * it takes the candidate's place.  What is set is recorded in the fd's
 * entry in place (tw_update()).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
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

/* Options the kernel keeps as a flag: getsockopt() gives 0 or 1. */
static bool tw_flag(int level, int name)
{
	switch (level) {
	case SOL_SOCKET:
		return name == SO_REUSEPORT;
	case IPPROTO_TCP:
		return name == TCP_NODELAY || name == TCP_CORK || name == TCP_QUICKACK ||
		       name == TCP_THIN_LINEAR_TIMEOUTS;
	case IPPROTO_UDP:
		return name == UDP_CORK;
	case IPPROTO_IP:
		return name == IP_PKTINFO || name == IP_RECVERR || name == IP_FREEBIND ||
		       name == IP_BIND_ADDRESS_NO_PORT || name == IP_RECVTTL ||
		       name == IP_RECVOPTS || name == IP_RECVTOS ||
		       name == IP_MULTICAST_LOOP || name == IP_MULTICAST_ALL ||
		       name == IP_TRANSPARENT || name == IP_NODEFRAG ||
		       name == IP_RECVORIGDSTADDR || name == IP_PASSSEC ||
		       name == IP_HDRINCL || name == IP_RETOPTS ||
		       name == IP_CHECKSUM || name == IP_RECVFRAGSIZE ||
		       name == IP_RECVERR_RFC4884;
	case IPPROTO_IPV6:
		return name == IPV6_V6ONLY || name == IPV6_RECVPKTINFO ||
		       name == IPV6_RECVERR || name == IPV6_RECVTCLASS ||
		       name == IPV6_RECVHOPLIMIT || name == IPV6_MULTICAST_LOOP ||
		       name == IPV6_TRANSPARENT || name == IPV6_FREEBIND ||
		       name == IPV6_RECVORIGDSTADDR || name == IPV6_RECVPATHMTU;
	}
	return false;
}

/* Whether the kernel has level's options for s's family and protocol. */
static bool tw_level_ok(const struct tw_sock *s, int level)
{
	if (level == IPPROTO_TCP)
		return s->type == SOCK_STREAM;
	if (level == IPPROTO_UDP)
		return s->type == SOCK_DGRAM;
	if (level == IPPROTO_IPV6)
		return s->family == AF_INET6;
	return true;
}

/*
 * tw_update() callback: records the struct tw_opt_change c into the entry,
 * whatever its state; a captured answer never replaces what the program
 * set.  Keeps it.
 */
bool tw_opt_record(struct tw_sock *s, void *change)
{
	struct tw_opt_change *c = change;
	struct tw_opt *o = NULL;
	int i;

	if (c->len > TW_OPT_MAX_LEN || (c->len && !c->val))
		return true;
	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == c->level && s->opts[i].name == c->name)
			o = &s->opts[i];
	if (o && c->captured && !o->captured)
		return true;
	if (!o) {
		if (s->nopts == TW_MAX_OPTS)
			return true;
		o = &s->opts[s->nopts++];
	}
	o->level = c->level;
	o->name = c->name;
	o->captured = c->captured;
	o->len = c->len;
	if (c->len)
		memcpy(o->val, c->val, c->len);
	return true;
}

/* Returns what setsockopt() returns: 0, or -1 with errno set. */
int tw_opt_set(int fd, const struct tw_sock *s, int level, int name,
	       const void *val, socklen_t len)
{
	struct tw_opt_change c = { level, name, val, len, false };
	bool ca = level == IPPROTO_TCP && name == TCP_CONGESTION;
	int v = 0;

	if (!tw_emulated(level, name))
		return tw_real.setsockopt(fd, level, name, val, len);
	if (!tw_level_ok(s, level)) {
		errno = ENOPROTOOPT;
		return -1;
	}
	/* IPv4's int options take a byte too, as the kernel reads them */
	if (ca ? !len || len > TW_OPT_MAX_LEN :
		 len < (level == IPPROTO_IP ? 1 : sizeof(int))) {
		errno = EINVAL;
		return -1;
	}
	if (!val) {
		errno = EFAULT;
		return -1;
	}
	/* a moved socket is bound: the kernel refuses it then */
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
		errno = EINVAL;
		return -1;
	}
	tw_opt_kept(&c, &v);
	tw_update(fd, tw_opt_record, &c);
	return 0;
}

/* Whether level/name has a default here (tw_defaults[]): an int. */
static bool tw_has_default(int level, int name)
{
	size_t i;

	for (i = 0; i < sizeof(tw_defaults) / sizeof(tw_defaults[0]); i++)
		if (tw_defaults[i].level == level && tw_defaults[i].name == name)
			return true;
	return false;
}

/*
 * Whether an emulated option of @len bytes is an int the kernel keeps as
 * one (reading the first int of a longer value): a known one (a default
 * or a flag here) of any length, else any of at most an int's size (an
 * IPv4 one may come as a byte) but the byte strings (TCP_CONGESTION's
 * and TCP_ULP's names, IP_OPTIONS).  Other longer ones are structs
 * (ip_mreqn, TCP_MD5SIG...).
 */
static bool tw_int_opt(int level, int name, socklen_t len)
{
	if (!tw_emulated(level, name))
		return false;
	if (tw_has_default(level, name) || tw_flag(level, name))
		return true;
	if (len > sizeof(int))
		return false;
	if (level == IPPROTO_TCP)
		return name != TCP_CONGESTION && name != TCP_ULP;
	if (level == IPPROTO_IP)
		return name != IP_OPTIONS;
	return true;
}

/*
 * An int option as the kernel keeps it, whatever the program passed
 * (validated: by tw_opt_set(), or by the kernel for a candidate): an int,
 * a flag as 0 or 1, an IPv4 option from a single byte too.  c then points
 * at *v.  Any other (a struct, a name, the SOL_SOCKET ones replayed onto
 * the AF_TOY socket) is kept as it came.
 */
void tw_opt_kept(struct tw_opt_change *c, int *v)
{
	if (!c->val || !c->len || !tw_int_opt(c->level, c->name, c->len))
		return;
	*v = c->len >= sizeof(int) ? *(const int *)c->val :
				     *(const unsigned char *)c->val;
	if (tw_flag(c->level, c->name))
		*v = !!*v;
	c->val = v;
	c->len = sizeof(*v);
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

/*
 * TCP_CONGESTION as TCP answers it: the name in a TCP_CA_NAME_MAX array,
 * NUL-padded, at most that long.  name: what was set or what the TCP
 * socket said at its move (tw_opt_capture()), else (NULL: an accepted
 * socket whose listener set none, a socket adopted across execve(), or an
 * entry with no room left) the namespace's default, which a new TCP
 * socket or connection gets.
 */
#define TW_CA_NAME_MAX 16

static int tw_ca_out(const char *name, socklen_t nlen, void *val, socklen_t *len)
{
	char ca[TW_CA_NAME_MAX] = "";
	ssize_t n;
	int fd;

	if (name) {
		memcpy(ca, name, nlen < sizeof(ca) - 1 ? nlen : sizeof(ca) - 1);
	} else {
		fd = open("/proc/sys/net/ipv4/tcp_congestion_control", O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, ca, sizeof(ca) - 1);
		if (fd >= 0)
			tw_real.close(fd);
		if (n > 0)
			ca[n] = '\0';
		else
			memcpy(ca, "cubic", sizeof("cubic"));
	}
	ca[strcspn(ca, "\n")] = '\0';
	if (*len > sizeof(ca))
		*len = sizeof(ca);
	memcpy(val, ca, *len);
	return 0;
}

/*
 * IPV6_V6ONLY as the socket has it (set, or net.ipv6.bindv6only's
 * default): whether a moved IPv6 socket is IPv6-only decides whether an
 * IPv4 socket of its port is its twin (tw_opt_v6only()).
 */
static void tw_capture_v6only(int fd, struct tw_sock *s)
{
	struct tw_opt_change c = { IPPROTO_IPV6, IPV6_V6ONLY, NULL, sizeof(int), true };
	socklen_t l = sizeof(int);
	int v;

	if (s->family != AF_INET6 ||
	    tw_real.getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) < 0)
		return;
	v = !!v;
	c.val = &v;
	tw_update(fd, tw_opt_record, &c);
	tw_opt_record(s, &c);
}

/* An int option of entry s as recorded (0 if never set): no system call. */
int tw_opt_int(const struct tw_sock *s, int level, int name)
{
	int i, v = 0;

	for (i = 0; i < s->nopts; i++) {
		const struct tw_opt *o = &s->opts[i];

		if (o->level == level && o->name == name) {
			memcpy(&v, o->val, o->len < sizeof(v) ? o->len : sizeof(v));
			break;
		}
	}
	return v;
}

/* Whether entry s is IPv6-only. */
bool tw_opt_v6only(const struct tw_sock *s)
{
	return tw_opt_int(s, IPPROTO_IPV6, IPV6_V6ONLY) != 0;
}

/*
 * Caller holds the move lock, fd still the TCP/UDP socket of entry s.
 * Records, in the entry and in s, the answers that only that socket has
 * and that a moved one keeps giving: TCP's congestion control, fixed when
 * the socket was made (the namespace's default then, or what was set).
 * Asking the socket costs one system call per move, and gives what TCP
 * would say, where /proc, read at each getsockopt(), gives the default
 * of the namespace the process is in now, as it is now.  Marked captured:
 * a listener's connections do not inherit it (tw_accepted()).
 */
void tw_opt_capture(int fd, struct tw_sock *s)
{
	char ca[TW_CA_NAME_MAX];
	socklen_t l = sizeof(ca);
	struct tw_opt_change c = { IPPROTO_TCP, TCP_CONGESTION, ca, 0, true };

	tw_capture_v6only(fd, s);
	if (s->type != SOCK_STREAM ||
	    tw_real.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ca, &l) < 0)
		return;
	c.len = strnlen(ca, l);
	if (!c.len)
		return;
	tw_update(fd, tw_opt_record, &c);
	tw_opt_record(s, &c);
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
	if (!tw_level_ok(s, level)) {
		errno = ENOPROTOOPT;
		return -1;
	}
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
			if (level == IPPROTO_TCP && name == TCP_CONGESTION)
				return tw_ca_out((const char *)o->val, o->len, val, len);
			n = *len < o->len ? *len : o->len;
			memcpy(val, o->val, n);
			*len = n;
			return 0;
		}
	}
	if (level == IPPROTO_TCP && name == TCP_INFO)
		return tw_tcp_info(fd, val, len);
	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return tw_ca_out(NULL, 0, val, len);
	for (i = 0; i < sizeof(tw_defaults) / sizeof(tw_defaults[0]); i++)
		if (tw_defaults[i].level == level && tw_defaults[i].name == name)
			return tw_int_out(tw_defaults[i].value, val, len);
	errno = ENOPROTOOPT;
	return -1;
}

/*
 * The SOL_SOCKET options set before the move, onto fd: the new AF_TOY
 * socket, not yet in the candidate's place.
 */
void tw_opt_replay(int fd, const struct tw_sock *s)
{
	int i;

	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == SOL_SOCKET && !tw_emulated(SOL_SOCKET, s->opts[i].name))
			tw_real.setsockopt(fd, SOL_SOCKET, s->opts[i].name,
					   s->opts[i].val, s->opts[i].len);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * wrap_peer: an ordinary IPv4/IPv6 TCP/UDP program (no AF_TOY in its
 * calls), dynamically linked, that toy_wrap runs under libtoywrap.  Each
 * scenario checks what the program sees (TCP/UDP addresses, option values,
 * errnos, bytes) and, through raw system calls the preload cannot see,
 * that the socket underneath is AF_TOY (or stayed AF_INET).  Prints the
 * first failed check and exits 1; exit 0 means every check held.
 *
 *   wrap_peer tcp4|tcp6|udp4|udp6|real|threads|exec|nomod|race|unspec|opts|
 *             move_opt|move_epoll|move_close|move_fcntl|move_decide|linger|
 *             cancel|nofile [FD]
 *
 * exec re-executes the loader in $WRAP_LOADER with $WRAP_LIBDIR and
 * $WRAP_LIB (as toy_wrap started this program) on a listening socket,
 * once as a low fd and once above 1024, after a vfork() child closed it.
 * Built with _FORTIFY_SOURCE, as Debian's packages are (udp: a recvfrom()
 * that becomes __recvfrom_chk()).
 * nomod and linger need the loopback interface up (real TCP/UDP).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <ucontext.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define AF_TOY_NR 25
#define BULK (256 * 1024)

static const char *scenario;

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "wrap_peer %s: %s:%d: %s failed (errno %d %s)\n", \
			scenario, __FILE__, __LINE__, #c, errno, strerror(errno)); \
		exit(1);						\
	}								\
} while (0)

/* The family the kernel sees, past the preload. */
static int raw_domain(int fd)
{
	int d = -1;
	socklen_t l = sizeof(d);

	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &d, &l) < 0)
		return -1;
	return d;
}

/* The AF_TOY port the kernel sees (struct sockaddr_toy: u16, u16, u32). */
static long raw_port(int fd, int peer)
{
	struct { unsigned short fam, res; unsigned int port; } t;
	socklen_t l = sizeof(t);

	if (syscall(peer ? SYS_getpeername : SYS_getsockname, fd, &t, &l) < 0 ||
	    t.fam != AF_TOY_NR)
		return -1;
	return t.port;
}

static int opt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l) < 0 || l != sizeof(v))
		return -1000;
	return v;
}

static socklen_t loop_addr(int fam, struct sockaddr_storage *ss, int port, int any)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = fam;
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
		a->sin_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	a6->sin6_addr = any ? in6addr_any : in6addr_loopback;
	a6->sin6_port = htons(port);
	return sizeof(*a6);
}

static int addr_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? ntohs(((struct sockaddr_in *)ss)->sin_port) :
	       ntohs(((struct sockaddr_in6 *)ss)->sin6_port);
}

/* ss is fam's loopback (any: the wildcard) address. */
static int is_addr(const struct sockaddr_storage *ss, socklen_t l, int fam, int any)
{
	if (ss->ss_family != fam)
		return 0;
	if (fam == AF_INET)
		return l == sizeof(struct sockaddr_in) &&
		       ((struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
	return l == sizeof(struct sockaddr_in6) &&
	       !memcmp(&((struct sockaddr_in6 *)ss)->sin6_addr,
		       any ? &in6addr_any : &in6addr_loopback, sizeof(struct in6_addr));
}

static int name_of(int fd, int peer, struct sockaddr_storage *ss, socklen_t *l)
{
	*l = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	return peer ? getpeername(fd, (struct sockaddr *)ss, l) :
		      getsockname(fd, (struct sockaddr *)ss, l);
}

static void fill(unsigned char *b, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 31 + seed + (i >> 8));
}

static void xfer(int fd, void *buf, size_t n, int out)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = out ? write(fd, (char *)buf + done, n - done) :
			  read(fd, (char *)buf + done, n - done);
		CHECK(r > 0);
		done += r;
	}
}

/* ------------------------------------------------------------------ TCP */

static int tcp_listener(int fam, int *port)
{
	struct sockaddr_storage ss;
	socklen_t l;
	int fd, one = 1;

	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(raw_domain(fd) == fam);
	CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	if (fam == AF_INET6)
		CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	l = loop_addr(fam, &ss, 0, 0);
	CHECK(bind(fd, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(fd) == AF_TOY_NR);
	CHECK(name_of(fd, 0, &ss, &l) == 0);
	CHECK(is_addr(&ss, l, fam, 0));
	*port = addr_port(&ss);
	CHECK(*port > 0 && raw_port(fd, 0) == *port);
	CHECK(listen(fd, 16) == 0);
	return fd;
}

static void dual_stack(void);

static void tcp(int fam)
{
	static unsigned char out[BULK], in[BULK];
	struct sockaddr_storage ss, ps;
	struct pollfd p;
	socklen_t l, pl;
	int ls, c, a, port, cport, v, one = 1;
	pid_t pid;

	ls = tcp_listener(fam, &port);
	/* what the program asked for, what it sees */
	CHECK(opt_int(ls, SOL_SOCKET, SO_DOMAIN) == fam);
	CHECK(opt_int(ls, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
	CHECK(opt_int(ls, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
	CHECK(opt_int(ls, SOL_SOCKET, SO_ACCEPTCONN) == 1);
	CHECK(opt_int(ls, SOL_SOCKET, SO_REUSEADDR) == 1);
	CHECK(opt_int(ls, IPPROTO_TCP, TCP_NODELAY) == 1);
	if (fam == AF_INET6)
		CHECK(opt_int(ls, IPPROTO_IPV6, IPV6_V6ONLY) == 1);
	CHECK(fcntl(ls, F_GETFD) == FD_CLOEXEC);

	/* a non-blocking client without bind(): ephemeral port */
	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	CHECK(c >= 0);
	l = loop_addr(fam, &ss, port, 0);
	if (connect(c, (struct sockaddr *)&ss, l) < 0)
		CHECK(errno == EINPROGRESS);
	CHECK(raw_domain(c) == AF_TOY_NR);
	CHECK(fcntl(c, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(c, F_GETFD) == 0);
	p.fd = c;
	p.events = POLLOUT;
	CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT));
	CHECK(opt_int(c, SOL_SOCKET, SO_ERROR) == 0);
	CHECK(name_of(c, 0, &ss, &l) == 0 && is_addr(&ss, l, fam, 0));
	cport = addr_port(&ss);
	CHECK(cport >= 32768 && cport == raw_port(c, 0));
	CHECK(name_of(c, 1, &ss, &l) == 0 && is_addr(&ss, l, fam, 0));
	CHECK(addr_port(&ss) == port);

	pl = sizeof(ps);
	a = accept4(ls, (struct sockaddr *)&ps, &pl, SOCK_CLOEXEC);
	CHECK(a >= 0);
	CHECK(is_addr(&ps, pl, fam, 0) && addr_port(&ps) == cport);
	CHECK(fcntl(a, F_GETFD) == FD_CLOEXEC);
	CHECK(opt_int(a, SOL_SOCKET, SO_DOMAIN) == fam);
	CHECK(name_of(a, 0, &ss, &l) == 0 && is_addr(&ss, l, fam, 0) &&
	      addr_port(&ss) == port);
	CHECK(name_of(a, 1, &ss, &l) == 0 && addr_port(&ss) == cport);

	/* options with no AF_TOY meaning: checked, remembered, answered */
	v = 30;
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) == 0);
	CHECK(opt_int(c, IPPROTO_TCP, TCP_KEEPIDLE) == 30);
	CHECK(opt_int(c, IPPROTO_TCP, TCP_KEEPINTVL) == 75);
	CHECK(opt_int(c, IPPROTO_TCP, TCP_NODELAY) == 0);
	v = 0x10;
	CHECK(setsockopt(c, fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			 fam == AF_INET ? IP_TOS : IPV6_TCLASS, &v, sizeof(v)) == 0);
	CHECK(opt_int(c, fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		      fam == AF_INET ? IP_TOS : IPV6_TCLASS) == 0x10);
	errno = 0;
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, 1) < 0 && errno == EINVAL);
	/* kept as the kernel keeps them: a flag reads back 1 */
	v = 5;
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0);
	CHECK(opt_int(c, IPPROTO_TCP, TCP_NODELAY) == 1);
	if (fam == AF_INET) {
		unsigned char tos = 0x20;	/* IPv4 takes a byte too */

		CHECK(setsockopt(c, IPPROTO_IP, IP_TOS, &tos, 1) == 0);
		CHECK(opt_int(c, IPPROTO_IP, IP_TOS) == 0x20);
	} else {
		errno = 0;	/* bound: too late, as on TCP */
		CHECK(setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 &&
		      errno == EINVAL);
	}
	errno = 0;
	CHECK(opt_int(c, IPPROTO_TCP, 9999) == -1000 && errno == ENOPROTOOPT);
	{
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		CHECK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0);
		CHECK(ti.tcpi_state == TCP_ESTABLISHED);
	}

	/* bytes both ways; the echo runs in a child (fork keeps the table) */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		static unsigned char buf[BULK];

		close(c);
		CHECK(name_of(a, 1, &ss, &l) == 0 && addr_port(&ss) == cport);
		xfer(a, buf, BULK, 0);
		xfer(a, buf, BULK, 1);
		_exit(0);
	}
	close(a);
	fcntl(c, F_SETFL, 0);
	fill(out, BULK, fam);
	xfer(c, out, BULK, 1);
	xfer(c, in, BULK, 0);
	CHECK(!memcmp(in, out, BULK));
	CHECK(waitpid(pid, &v, 0) == pid && WIFEXITED(v) && WEXITSTATUS(v) == 0);
	CHECK(read(c, in, 1) == 0);
	CHECK(close(c) == 0 && close(ls) == 0);

	/* the port is free again at once (no TIME_WAIT); SO_REUSEPORT kept */
	ls = socket(fam, SOCK_STREAM, 0);
	CHECK(ls >= 0);
	v = 1;
	CHECK(setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)) == 0);
	l = loop_addr(fam, &ss, port, 0);
	CHECK(bind(ls, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_port(ls, 0) == port);
	CHECK(opt_int(ls, SOL_SOCKET, SO_REUSEPORT) == 1);
	CHECK(close(ls) == 0);

	/* TCP Fast Open's sendto(): connects, then sends */
	ls = tcp_listener(fam, &port);
	c = socket(fam, SOCK_STREAM, 0);
	l = loop_addr(fam, &ss, port, 0);
	CHECK(c >= 0 && sendto(c, "tfo", 3, MSG_FASTOPEN, (struct sockaddr *)&ss, l) == 3);
	CHECK(raw_domain(c) == AF_TOY_NR && raw_port(c, 1) == port);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && read(a, in, 3) == 3 && !memcmp(in, "tfo", 3));
	CHECK(close(a) == 0 && close(c) == 0 && close(ls) == 0);

	/* listen() without bind(): the wildcard and an ephemeral port */
	ls = socket(fam, SOCK_STREAM, 0);
	CHECK(ls >= 0 && listen(ls, 4) == 0);
	CHECK(raw_domain(ls) == AF_TOY_NR);
	CHECK(name_of(ls, 0, &ss, &l) == 0 && is_addr(&ss, l, fam, 1));
	port = addr_port(&ss);
	CHECK(port >= 32768 && raw_port(ls, 0) == port);
	c = socket(fam, SOCK_STREAM, 0);
	l = loop_addr(fam, &ss, port, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && write(c, "q", 1) == 1 && read(a, in, 1) == 1 && in[0] == 'q');
	CHECK(close(a) == 0 && close(c) == 0 && close(ls) == 0);

	if (fam == AF_INET6)
		dual_stack();
}

/*
 * A dual-stack server (nginx's "listen 80; listen [::]:80;"): the IPv4
 * listener moves; the IPv6-only one, on the same port, which one AF_TOY
 * port cannot also hold, stays on TCP; an IPv6 client of the port moves
 * and reaches the IPv4 listener.  Two IPv4 listeners, or two IPv6-only
 * ones, on one port still clash, as on TCP.
 */
static void gone_twin(int how);
static void v6only_first(void);

static void dual_stack(void)
{
	struct sockaddr_storage ss;
	int l4, l6, l4b, c, a, port, one = 1;
	socklen_t l;

	l4 = tcp_listener(AF_INET, &port);
	l6 = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(l6 >= 0);
	CHECK(setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	l = loop_addr(AF_INET6, &ss, port, 1);
	CHECK(bind(l6, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(l6) == AF_INET6);
	CHECK(listen(l6, 4) == 0);
	c = socket(AF_INET6, SOCK_STREAM, 0);
	l = loop_addr(AF_INET6, &ss, port, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(c) == AF_TOY_NR);
	a = accept(l4, NULL, NULL);
	CHECK(a >= 0);
	l4b = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, port, 1);
	CHECK(l4b >= 0 && bind(l4b, (struct sockaddr *)&ss, l) == -1 &&
	      errno == EADDRINUSE);
	CHECK(close(a) == 0 && close(c) == 0 && close(l4b) == 0);
	CHECK(close(l6) == 0 && close(l4) == 0);

	/* two IPv6-only sockets on one port clash, as on TCP */
	l6 = tcp_listener(AF_INET6, &port);
	l4b = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(l4b >= 0 &&
	      setsockopt(l4b, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	l = loop_addr(AF_INET6, &ss, port, 1);
	CHECK(bind(l4b, (struct sockaddr *)&ss, l) == -1 && errno == EADDRINUSE);
	CHECK(close(l4b) == 0 && close(l6) == 0);

	gone_twin(0);
	gone_twin(1);
	v6only_first();
}

/*
 * The other order (nginx's "listen [::]:80 ipv6only=on; listen 80;"): the
 * IPv6-only listener moves, the IPv4 one on its port stays on TCP, and an
 * IPv4 client of the port moves and reaches the IPv6-only one.  The IPv4
 * bind() failed with EADDRINUSE before.
 */
static void v6only_first(void)
{
	struct sockaddr_storage ss;
	int l4, l6, c, a, port, one = 1;
	socklen_t l;

	l6 = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(l6 >= 0);
	CHECK(setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	l = loop_addr(AF_INET6, &ss, 0, 1);
	CHECK(bind(l6, (struct sockaddr *)&ss, l) == 0 && listen(l6, 4) == 0);
	CHECK(raw_domain(l6) == AF_TOY_NR);
	l = sizeof(ss);
	CHECK(getsockname(l6, (struct sockaddr *)&ss, &l) == 0);
	port = addr_port(&ss);
	l4 = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, port, 1);
	CHECK(l4 >= 0 && bind(l4, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(l4) == AF_INET && listen(l4, 4) == 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, port, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(c) == AF_TOY_NR);
	a = accept(l6, NULL, NULL);
	CHECK(a >= 0);
	CHECK(close(a) == 0 && close(c) == 0 && close(l4) == 0 && close(l6) == 0);
}

/*
 * An IPv4 listener closed by close_range() (@how 0) or closefrom() (1) is
 * no twin any more: an IPv6-only socket on its port then moves.  Its table
 * entry used to outlive it, and kept that socket on TCP.
 */
static void gone_twin(int how)
{
	struct sockaddr_storage ss;
	int l4, l6, hi = 900 + how, port, one = 1;
	socklen_t l;

	l4 = tcp_listener(AF_INET, &port);
	CHECK(raw_domain(l4) == AF_TOY_NR);
	/* closefrom() needs the highest fd: a copy far above the others */
	CHECK(dup2(l4, hi) == hi && close(l4) == 0);
	if (how)
		closefrom(hi);
	else
		CHECK(close_range(hi, hi, 0) == 0);
	CHECK(fcntl(hi, F_GETFD) == -1 && errno == EBADF);
	l6 = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(l6 >= 0);
	CHECK(setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	l = loop_addr(AF_INET6, &ss, port, 1);
	CHECK(bind(l6, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(l6) == AF_TOY_NR);
	CHECK(close(l6) == 0);
}

/* ------------------------------------------------------------------ UDP */

/* recvmsg() of one datagram with a control buffer of @clen: its length. */
static ssize_t recv_ctl(int fd, char *ctl, size_t clen, struct msghdr *m)
{
	static char buf[16];
	static struct iovec iov = { buf, sizeof(buf) };

	memset(m, 0, sizeof(*m));
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl;
	m->msg_controllen = clen;
	return recvmsg(fd, m, 0);
}

/*
 * IP_PKTINFO/IPV6_RECVPKTINFO on a moved UDP socket (u1, bound to the
 * wildcard): each datagram comes with the message UDP gives on lo, the
 * interface lo and loopback as the destination; too small a control
 * buffer gets MSG_CTRUNC.  No such message came before (dnsmasq and
 * unbound take the reply's source from it).
 */
static void udp_pktinfo(int fam, int u1, int u2, int port1)
{
	int lvl = fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int opt = fam == AF_INET ? IP_PKTINFO : IPV6_RECVPKTINFO;
	size_t plen = fam == AF_INET ? sizeof(struct in_pktinfo) :
				       sizeof(struct in6_pktinfo);
	char ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_storage ss;
	struct cmsghdr *c;
	struct msghdr m;
	socklen_t l;
	int one = 1, zero = 0;

	CHECK(setsockopt(u1, lvl, opt, &one, sizeof(one)) == 0);
	l = loop_addr(fam, &ss, port1, 0);
	CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
	CHECK(recv_ctl(u1, ctl, sizeof(ctl), &m) == 1);
	c = CMSG_FIRSTHDR(&m);
	CHECK(c && !(m.msg_flags & MSG_CTRUNC));
	if (fam == AF_INET) {
		struct in_pktinfo pi;

		CHECK(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		      c->cmsg_len == CMSG_LEN(sizeof(pi)));
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		CHECK(pi.ipi_ifindex == (int)if_nametoindex("lo") &&
		      pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		      pi.ipi_spec_dst.s_addr == htonl(INADDR_LOOPBACK));
	} else {
		struct in6_pktinfo pi;

		CHECK(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		      c->cmsg_len == CMSG_LEN(sizeof(pi)));
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		CHECK(pi.ipi6_ifindex == if_nametoindex("lo") &&
		      IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
	}
	CHECK(!CMSG_NXTHDR(&m, c));
	/* room as put_cmsg() sees it: CMSG_LEN() is enough, a header is cut */
	CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
	CHECK(recv_ctl(u1, ctl, CMSG_LEN(plen), &m) == 1);
	CHECK(!(m.msg_flags & MSG_CTRUNC) && m.msg_controllen == CMSG_LEN(plen));
	CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
	CHECK(recv_ctl(u1, ctl, sizeof(struct cmsghdr), &m) == 1);
	CHECK((m.msg_flags & MSG_CTRUNC) && m.msg_controllen == sizeof(struct cmsghdr));
	CHECK(((struct cmsghdr *)ctl)->cmsg_len == sizeof(struct cmsghdr));
	/* no room for a header: MSG_CTRUNC, the datagram still read */
	CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
	CHECK(recv_ctl(u1, ctl, sizeof(struct cmsghdr) - 1, &m) == 1);
	CHECK((m.msg_flags & MSG_CTRUNC) && m.msg_controllen == 0);
	/* recvmmsg() too */
	{
		struct mmsghdr mm = { 0 };
		struct iovec iv = { ctl + sizeof(ctl) / 2, 1 };
		char c2[CMSG_SPACE(sizeof(struct in6_pktinfo))];

		mm.msg_hdr.msg_iov = &iv;
		mm.msg_hdr.msg_iovlen = 1;
		mm.msg_hdr.msg_control = c2;
		mm.msg_hdr.msg_controllen = sizeof(c2);
		CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
		CHECK(recvmmsg(u1, &mm, 1, 0, NULL) == 1 && mm.msg_len == 1);
		c = CMSG_FIRSTHDR(&mm.msg_hdr);
		CHECK(c && c->cmsg_level == lvl && c->cmsg_len == CMSG_LEN(plen));
	}
	CHECK(setsockopt(u1, lvl, opt, &zero, sizeof(zero)) == 0);
	CHECK(sendto(u2, "k", 1, 0, (struct sockaddr *)&ss, l) == 1);
	CHECK(recv_ctl(u1, ctl, sizeof(ctl), &m) == 1 && m.msg_controllen == 0);
}

static void udp(int fam)
{
	struct sockaddr_storage ss, src, p1;
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(9) };
	socklen_t l, sl, l1;
	struct msghdr m;
	struct iovec iov;
	volatile size_t want = 64;
	char buf[64];
	int u1, u2, port1, port2;

	u1 = socket(fam, SOCK_DGRAM, 0);
	CHECK(u1 >= 0);
	l = loop_addr(fam, &ss, 0, 1);
	CHECK(bind(u1, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(u1) == AF_TOY_NR);
	CHECK(opt_int(u1, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
	CHECK(opt_int(u1, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
	CHECK(name_of(u1, 0, &p1, &l1) == 0 && is_addr(&p1, l1, fam, 1));
	port1 = addr_port(&p1);
	CHECK(port1 > 0 && raw_port(u1, 0) == port1);

	/* unbound: moves on its first sendto() and gets an ephemeral port */
	u2 = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	CHECK(u2 >= 0 && raw_domain(u2) == fam);
	l = loop_addr(fam, &ss, port1, 0);
	CHECK(sendto(u2, "ping", 4, 0, (struct sockaddr *)&ss, l) == 4);
	CHECK(raw_domain(u2) == AF_TOY_NR);
	CHECK(fcntl(u2, F_GETFD) == FD_CLOEXEC);
	CHECK(name_of(u2, 0, &ss, &l) == 0);
	port2 = addr_port(&ss);
	CHECK(port2 >= 32768 && raw_port(u2, 0) == port2);

	/* a length not known at compile time: __recvfrom_chk() */
	sl = sizeof(src);
	CHECK(recvfrom(u1, buf, want, 0, (struct sockaddr *)&src, &sl) == 4);
	CHECK(!memcmp(buf, "ping", 4));
	CHECK(is_addr(&src, sl, fam, 0) && addr_port(&src) == port2);

	CHECK(sendto(u1, "pong!", 5, 0, (struct sockaddr *)&src, sl) == 5);
	memset(&m, 0, sizeof(m));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &src;
	m.msg_namelen = sizeof(src);
	CHECK(recvmsg(u2, &m, 0) == 5 && !memcmp(buf, "pong!", 5));
	CHECK(is_addr(&src, m.msg_namelen, fam, 0) && addr_port(&src) == port1);
	udp_pktinfo(fam, u1, u2, port1);

	/* connected: send()/recv(), getpeername(); AF_UNSPEC dissolves it */
	l = loop_addr(fam, &ss, port1, 0);
	CHECK(connect(u2, (struct sockaddr *)&ss, l) == 0);
	CHECK(name_of(u2, 1, &ss, &l) == 0 && is_addr(&ss, l, fam, 0) &&
	      addr_port(&ss) == port1);
	CHECK(send(u2, "x", 1, 0) == 1);
	CHECK(recv(u1, buf, sizeof(buf), 0) == 1 && buf[0] == 'x');
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	CHECK(connect(u2, (struct sockaddr *)&ss, sizeof(ss)) == 0);
	errno = 0;
	CHECK(name_of(u2, 1, &ss, &l) < 0 && errno == ENOTCONN);
	/* getsockname() with no buffer: EFAULT, unless it asks for no room */
	l = sizeof(ss);
	errno = 0;
	CHECK(getsockname(u2, NULL, &l) == -1 && errno == EFAULT);
	l = 0;
	CHECK(getsockname(u2, NULL, &l) == 0 && l == (fam == AF_INET ?
	      sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));

	/*
	 * Connected to another loopback name (127.0.0.53, as to a local
	 * resolver; ::ffff:127.0.0.1): replies come from that name, which
	 * resolvers check.
	 */
	{
		struct sockaddr_storage named, from;
		socklen_t nl, fl;
		int u4 = socket(fam, SOCK_DGRAM, 0);

		nl = loop_addr(fam, &named, port1, 0);
		if (fam == AF_INET)
			((struct sockaddr_in *)&named)->sin_addr.s_addr =
				htonl(0x7f000035);
		else
			inet_pton(AF_INET6, "::ffff:127.0.0.1",
				  &((struct sockaddr_in6 *)&named)->sin6_addr);
		CHECK(u4 >= 0 && connect(u4, (struct sockaddr *)&named, nl) == 0);
		CHECK(raw_domain(u4) == AF_TOY_NR && send(u4, "q", 1, 0) == 1);
		fl = sizeof(from);
		CHECK(recvfrom(u1, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 1);
		CHECK(sendto(u1, "r", 1, 0, (struct sockaddr *)&from, fl) == 1);
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		CHECK(recvfrom(u4, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 1);
		CHECK(buf[0] == 'r' && fl == nl && !memcmp(&from, &named, nl));
		CHECK(close(u4) == 0);
	}

	/* the batched calls translate each message's address */
	{
		struct mmsghdr mm[2];
		struct iovec iv[2];
		struct sockaddr_storage to, from[2];
		char b[2][8];
		int i;

		l = loop_addr(fam, &to, port1, 0);
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < 2; i++) {
			iv[i].iov_base = i ? "mm-two" : "mm-one";
			iv[i].iov_len = 6;
			mm[i].msg_hdr.msg_iov = &iv[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &to;
			mm[i].msg_hdr.msg_namelen = l;
		}
		CHECK(sendmmsg(u2, mm, 2, 0) == 2 && mm[0].msg_len == 6 && mm[1].msg_len == 6);
		/* AF_UNSPEC gave back the picked port, as UDP: a new one now */
		CHECK(name_of(u2, 0, &ss, &l) == 0);
		port2 = addr_port(&ss);
		CHECK(port2 >= 32768 && raw_port(u2, 0) == port2);
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < 2; i++) {
			iv[i].iov_base = b[i];
			iv[i].iov_len = sizeof(b[i]);
			mm[i].msg_hdr.msg_iov = &iv[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		CHECK(recvmmsg(u1, mm, 2, 0, NULL) == 2);
		for (i = 0; i < 2; i++) {
			CHECK(mm[i].msg_len == 6 && !memcmp(b[i], i ? "mm-two" : "mm-one", 6));
			CHECK(is_addr(&from[i], mm[i].msg_hdr.msg_namelen, fam, 0) &&
			      addr_port(&from[i]) == port2);
		}
	}

	/* in an epoll set before its first sendto(): still there after the move */
	{
		struct epoll_event ev = { .events = EPOLLIN }, got;
		int ep = epoll_create1(0), u3 = socket(fam, SOCK_DGRAM, 0);

		CHECK(ep >= 0 && u3 >= 0);
		ev.data.fd = u3;
		CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, u3, &ev) == 0);
		l = loop_addr(fam, &ss, port1, 0);
		CHECK(sendto(u3, "ep", 2, 0, (struct sockaddr *)&ss, l) == 2);
		CHECK(raw_domain(u3) == AF_TOY_NR);
		sl = sizeof(src);
		CHECK(recvfrom(u1, buf, sizeof(buf), 0, (struct sockaddr *)&src, &sl) == 2);
		CHECK(sendto(u1, "back", 4, 0, (struct sockaddr *)&src, sl) == 4);
		CHECK(epoll_wait(ep, &got, 1, 10000) == 1);
		CHECK(got.data.fd == u3 && (got.events & EPOLLIN));
		CHECK(recv(u3, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "back", 4));
		close(u3);
		close(ep);
	}

	/* a moved socket cannot reach another host */
	if (fam == AF_INET) {
		inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
		errno = 0;
		CHECK(sendto(u1, "y", 1, 0, (struct sockaddr *)&far, sizeof(far)) < 0 &&
		      errno == ENETUNREACH);
	}
	CHECK(close(u1) == 0 && close(u2) == 0);
}

/* ------------------------------------------------------- non-loopback */

static void real(void)
{
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(9) };
	int t, u, x;

	inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
	t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(t >= 0);
	errno = 0;
	CHECK(connect(t, (struct sockaddr *)&far, sizeof(far)) < 0 && errno == ENETUNREACH);
	CHECK(raw_domain(t) == AF_INET);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(u >= 0);
	errno = 0;
	CHECK(sendto(u, "z", 1, 0, (struct sockaddr *)&far, sizeof(far)) < 0 &&
	      errno == ENETUNREACH);
	CHECK(raw_domain(u) == AF_INET);
	CHECK(opt_int(u, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	/* other families and types are left alone */
	x = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(x >= 0 && raw_domain(x) == AF_UNIX);
	close(x);
	x = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	CHECK(x >= 0 && raw_domain(x) == AF_INET);
	close(x);
	/* dup()ed and closed fds follow */
	x = dup(t);
	CHECK(x >= 0 && opt_int(x, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	close(x);
	close(t);
	close(u);
}

/* ---------------------------------------------------------- threads */

#define NTHREADS 8
#define ROUNDS 40

static void *thread_main(void *arg)
{
	struct sockaddr_storage ss;
	int i, ls, c, a, port, fam = (long)arg % 2 ? AF_INET6 : AF_INET;
	socklen_t l;
	char b[8];

	for (i = 0; i < ROUNDS; i++) {
		ls = tcp_listener(fam, &port);
		c = socket(fam, SOCK_STREAM, 0);
		CHECK(c >= 0);
		l = loop_addr(fam, &ss, port, 0);
		CHECK(connect(c, (struct sockaddr *)&ss, l) == 0);
		a = accept(ls, NULL, NULL);
		CHECK(a >= 0);
		CHECK(name_of(a, 1, &ss, &l) == 0 && is_addr(&ss, l, fam, 0) &&
		      addr_port(&ss) == raw_port(c, 0));
		CHECK(write(c, "abcd", 4) == 4 && read(a, b, 4) == 4 && !memcmp(b, "abcd", 4));
		CHECK(close(a) == 0 && close(c) == 0 && close(ls) == 0);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[NTHREADS];
	long i;

	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
}

/* ------------------------------------------------------------- exec */

static void exec_parent(void)
{
	const char *ld = getenv("WRAP_LOADER"), *dir = getenv("WRAP_LIBDIR");
	const char *lib = getenv("WRAP_LIB"), *self = getenv("WRAP_PEER");
	struct timeval tmo = { .tv_sec = 10 };
	struct rlimit rl;
	struct sockaddr_storage ss;
	char fdarg[16], b[8];
	int ls, c, port, st, i;
	socklen_t l;
	pid_t pid;

	CHECK(ld && dir && lib && self);
	ls = tcp_listener(AF_INET, &port);
	CHECK(fcntl(ls, F_SETFD, 0) == 0);

	/* a vfork() child's close() (a JDK's) leaves the parent's table be */
	pid = vfork();
	if (pid == 0) {
		close(ls);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK(name_of(ls, 0, &ss, &l) == 0 && is_addr(&ss, l, AF_INET, 0) &&
	      addr_port(&ss) == port);

	/* handed over as a low fd, then above 1024 */
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < 2048) {
		rl.rlim_cur = 2048;
		if (rl.rlim_max < 2048)
			rl.rlim_max = 2048;
		CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	for (i = 0; i < 2; i++) {
		if (i) {
			CHECK(dup2(ls, 1500) == 1500 && close(ls) == 0);
			ls = 1500;
		}
		snprintf(fdarg, sizeof(fdarg), "%d", ls);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			execl(ld, ld, "--library-path", dir, "--preload", lib, self,
			      "exec-child", fdarg, (char *)NULL);
			_exit(127);
		}
		c = socket(AF_INET, SOCK_STREAM, 0);
		l = loop_addr(AF_INET, &ss, port, 0);
		/* a child that failed never answers: 10 s, not forever */
		CHECK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) == 0);
		CHECK(connect(c, (struct sockaddr *)&ss, l) == 0);
		CHECK(read(c, b, 2) == 2 && !memcmp(b, "ok", 2));
		close(c);
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0);
	}
	close(ls);
}

static void exec_child(int ls)
{
	struct sockaddr_storage ss;
	socklen_t l;
	int a;

	/* the table did not survive the exec: the socket did, still TCP */
	CHECK(raw_domain(ls) == AF_TOY_NR);
	CHECK(opt_int(ls, SOL_SOCKET, SO_DOMAIN) == AF_INET);
	CHECK(opt_int(ls, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
	CHECK(name_of(ls, 0, &ss, &l) == 0 && is_addr(&ss, l, AF_INET, 1) &&
	      addr_port(&ss) == raw_port(ls, 0));
	a = accept(ls, (struct sockaddr *)&ss, &l);
	CHECK(a >= 0 && is_addr(&ss, l, AF_INET, 0));
	CHECK(write(a, "ok", 2) == 2);
	close(a);
}

/* ------------------------------------------------------- no AF_TOY */

static volatile sig_atomic_t toy_tries;

/* A trapped socket(AF_TOY): fails as it does without the module. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	toy_tries++;
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = -EAFNOSUPPORT;
}

/*
 * Installs the seccomp filter f (n instructions), whose SECCOMP_RET_TRAP
 * calls fn (SIGSYS): 0, or -1 (errno) when the kernel has no filters.
 */
static int trap_syscalls(struct sock_filter *f, unsigned short n,
			 void (*fn)(int, siginfo_t *, void *))
{
	struct sock_fprog prog = { .len = n, .filter = f };
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };

	CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* From here on every socket(AF_TOY) of this process fails and is counted. */
static void hide_af_toy(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_TOY_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	CHECK(trap_syscalls(f, sizeof(f) / sizeof(f[0]), on_sigsys) == 0);
	errno = 0;
	CHECK(syscall(SYS_socket, AF_TOY_NR, SOCK_DGRAM, 0) < 0 && errno == EAFNOSUPPORT);
	CHECK(toy_tries == 1);
	toy_tries = 0;
}

/*
 * As without the af_toy module: the first socket that would move finds
 * AF_TOY missing (one warning), every call after it goes straight to
 * TCP/UDP without trying AF_TOY again.
 */
static void nomod(void)
{
	struct sockaddr_storage ss;
	char buf[4096];
	int r, u, i, k, ls, c, a, port, err[2], e2;
	socklen_t l;
	ssize_t n;

	hide_af_toy();
	CHECK(pipe(err) == 0 && fcntl(err[0], F_SETFL, O_NONBLOCK) == 0);
	e2 = dup(2);
	CHECK(e2 >= 0 && dup2(err[1], 2) == 2);

	r = socket(AF_INET, SOCK_DGRAM, 0);
	l = loop_addr(AF_INET, &ss, 0, 0);
	CHECK(r >= 0 && bind(r, (struct sockaddr *)&ss, l) == 0);
	CHECK(raw_domain(r) == AF_INET);
	CHECK(name_of(r, 0, &ss, &l) == 0);
	for (k = 0; k < 3; k++) {
		u = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(u >= 0);
		for (i = 0; i < 20; i++)
			CHECK(sendto(u, "n", 1, 0, (struct sockaddr *)&ss, l) == 1);
		CHECK(raw_domain(u) == AF_INET);
		CHECK(opt_int(u, SOL_SOCKET, SO_DOMAIN) == AF_INET);
		for (i = 0; i < 20; i++)
			CHECK(recv(r, buf, sizeof(buf), 0) == 1 && buf[0] == 'n');
		close(u);
	}
	close(r);

	ls = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, 0, 0);
	CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&ss, l) == 0 && listen(ls, 4) == 0);
	CHECK(raw_domain(ls) == AF_INET && name_of(ls, 0, &ss, &l) == 0);
	port = addr_port(&ss);
	c = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, port, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && raw_domain(c) == AF_INET && raw_domain(a) == AF_INET);
	CHECK(write(c, "t", 1) == 1 && read(a, buf, 1) == 1 && buf[0] == 't');
	close(a);
	close(c);
	close(ls);

	CHECK(dup2(e2, 2) == 2);
	close(e2);
	close(err[1]);
	n = read(err[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(err[0]);
	fputs(buf, stderr);
	CHECK(toy_tries == 1);
	CHECK(strstr(buf, "unavailable") && !strstr(strstr(buf, "unavailable") + 1, "unavailable"));
}

/* ------------------------------------------------------------- race */

#define RACE_SOCKETS 20000

static int race_fd = -1, race_stop;	/* __atomic: shared with the threads */

/* setsockopt() on whatever socket the main thread is about to move */
static void *race_opts(void *arg)
{
	int v = 1, fd;

	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		fd = __atomic_load_n(&race_fd, __ATOMIC_RELAXED);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
	}
	return NULL;
}

/* epoll_ctl() on it: recorded in the same table entry */
static void *race_epoll(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC), fd;

	(void)arg;
	CHECK(ep >= 0);
	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		fd = __atomic_load_n(&race_fd, __ATOMIC_RELAXED);
		if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	}
	close(ep);
	return NULL;
}

/*
 * Threads updating a socket's entry while another moves it: the entry must
 * stay "moved" (a stale copy written back made SO_DOMAIN answer AF_TOY).
 */
static void race(void)
{
	const char *env = getenv("WRAP_RACE_SOCKETS");
	int n = env ? atoi(env) : RACE_SOCKETS;
	struct sockaddr_storage ss;
	pthread_t t[2];
	int r, s, i, spin, bad = 0;
	socklen_t l;
	char b[8];

	r = socket(AF_INET, SOCK_DGRAM, 0);
	l = loop_addr(AF_INET, &ss, 0, 0);
	CHECK(r >= 0 && bind(r, (struct sockaddr *)&ss, l) == 0);
	CHECK(name_of(r, 0, &ss, &l) == 0);
	CHECK(pthread_create(&t[0], NULL, race_opts, NULL) == 0);
	CHECK(pthread_create(&t[1], NULL, race_epoll, NULL) == 0);
	for (i = 0; i < n; i++) {
		s = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(s >= 0);
		__atomic_store_n(&race_fd, s, __ATOMIC_RELAXED);
		for (spin = 0; spin < (i % 50) * 20; spin++)
			__asm__ __volatile__("" ::: "memory");
		CHECK(sendto(s, "r", 1, 0, (struct sockaddr *)&ss, l) == 1);
		__atomic_store_n(&race_fd, -1, __ATOMIC_RELAXED);
		CHECK(raw_domain(s) == AF_TOY_NR);
		if (opt_int(s, SOL_SOCKET, SO_DOMAIN) != AF_INET ||
		    opt_int(s, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_UDP) {
			if (!bad)
				fprintf(stderr, "wrap_peer %s: socket %d lost its entry\n",
					scenario, i);
			bad++;
		}
		CHECK(recv(r, b, sizeof(b), 0) == 1);
		close(s);
	}
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	CHECK(pthread_join(t[0], NULL) == 0 && pthread_join(t[1], NULL) == 0);
	close(r);
	if (bad)
		fprintf(stderr, "wrap_peer %s: %d of %d sockets lost their entry\n",
			scenario, bad, n);
	CHECK(bad == 0);
}

/* ------------------------------------------------------- held moves */

/*
 * A call in another thread in the middle of a move.  A seccomp filter on
 * the main thread (the mover) traps one call, answered 0 without the
 * kernel: HOLD_OPT traps setsockopt(SOL_SOCKET, SO_DONTROUTE), which the
 * scenario sets first on each socket so that the move's replay of the
 * options starts with it (after the move read the fd's flags, before its
 * dup3()); HOLD_FD traps fcntl(F_GETFD), which the move makes before it
 * makes its AF_TOY socket.  Unarmed, the trap only answers (the scenarios
 * need neither call's effect).  Armed (once), it holds the mover there
 * until the helper thread has made its call, or until it sleeps on a lock
 * (in futex(), as /proc/self/task/TID/syscall shows): a library that
 * serialises the call with the move (its move lock) makes it wait.  So
 * the call lands in the middle of the move when nothing orders it, and
 * the scenario checks what the program sees afterwards, whichever way
 * the call was ordered.  Without seccomp filters (the debug kernel) there
 * is no hold; the rounds after the held ones race freely on every kernel
 * ($WRAP_FREE_ROUNDS of them, default FREE_ROUNDS).  The waits of the
 * held rounds stop HOLD_SECS after hold_start(), so that a library that
 * never lets a call through fails with the scenario's own message well
 * within toy_wrap's time limit.
 */
enum { HOLD_OFF, HOLD_OPT, HOLD_FD };

#define HELD_ROUNDS 4
#define FREE_ROUNDS 2000
#define HOLD_SECS 30

static int hold_armed;		/* __atomic: HOLD_OPT, HOLD_FD: trap once */
static int hold_traps;		/* the filter is on */
static int hold_held;		/* this round is held */
static int hold_in, hold_go, hold_done;		/* __atomic */
static struct timespec hold_until;	/* CLOCK_MONOTONIC: no wait after */
static char hold_task[64], hold_futex[16];
static pthread_barrier_t hold_bar;
static int hold_rounds, held_rounds = HELD_ROUNDS, free_rounds = FREE_ROUNDS;
static void (*hold_act)(int round);

/* 1 ms of a held round's wait; 0 (at once) past hold_until. */
static int hold_nap(void)
{
	struct timespec ms = { 0, 1000000 }, now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > hold_until.tv_sec ||
	    (now.tv_sec == hold_until.tv_sec && now.tv_nsec >= hold_until.tv_nsec))
		return 0;
	syscall(SYS_nanosleep, &ms, NULL);
	return 1;
}

/* The helper sleeps in futex(): on a lock. */
static int hold_blocked(void)
{
	char b[16];
	int fd = syscall(SYS_openat, AT_FDCWD, hold_task, O_RDONLY | O_CLOEXEC);
	size_t l = strlen(hold_futex);
	long n;

	if (fd < 0)
		return 0;
	n = syscall(SYS_read, fd, b, l);
	syscall(SYS_close, fd);
	return n == (long)l && !memcmp(b, hold_futex, l);
}

/*
 * Until the helper has made its call or sleeps on a lock: 10 s at most,
 * so that a helper that never comes does not hang the test.
 */
static void hold_wait(void)
{
	__atomic_store_n(&hold_in, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&hold_done, __ATOMIC_SEQ_CST))
			return;
		if (__atomic_load_n(&hold_go, __ATOMIC_SEQ_CST) && hold_blocked())
			return;
		if (!hold_nap())
			return;
	}
}

/* Raw system calls only: the mover may hold the library's locks. */
static void on_hold(int sig, siginfo_t *si, void *uc)
{
	int what = si->si_syscall == SYS_setsockopt ? HOLD_OPT : HOLD_FD, e = errno;

	(void)sig;
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 0;
	if (__atomic_compare_exchange_n(&hold_armed, &what, HOLD_OFF, 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		hold_wait();
	errno = e;
}

static void hold_spin(int n)
{
	for (int i = 0; i < n; i++)
		__asm__ __volatile__("" ::: "memory");
}

static void *hold_helper(void *arg)
{
	int i, w;

	(void)arg;
	snprintf(hold_task, sizeof(hold_task), "/proc/self/task/%d/syscall", (int)gettid());
	for (i = 0; i < hold_rounds; i++) {
		pthread_barrier_wait(&hold_bar);
		if (hold_held) {
			for (w = 0; w < 10000 && !__atomic_load_n(&hold_in, __ATOMIC_SEQ_CST) &&
			     hold_nap(); w++)
				;
		} else {
			hold_spin((i % 50) * 20);
		}
		__atomic_store_n(&hold_go, 1, __ATOMIC_SEQ_CST);
		hold_act(i);
		__atomic_store_n(&hold_done, 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&hold_bar);
	}
	return NULL;
}

/*
 * The rounds of a scenario: held_rounds (HELD_ROUNDS unless it has more
 * kinds of call to hold), then $WRAP_FREE_ROUNDS (toy_wrap gives fewer on
 * the debug kernel, where every call costs many times more).
 */
static int hold_count(void)
{
	const char *env = getenv("WRAP_FREE_ROUNDS");

	if (env && atoi(env) > 0)
		free_rounds = atoi(env);
	return held_rounds + free_rounds;
}

/* The helper thread, then the trap what on this (the main) thread only. */
static pthread_t hold_start(void (*act)(int), int what)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 10),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, what == HOLD_OPT ? SYS_setsockopt : -1u, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 6),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_DONTROUTE, 3, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, what == HOLD_FD ? SYS_fcntl : -1u, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_GETFD, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	pthread_t t;

	snprintf(hold_futex, sizeof(hold_futex), "%d ", SYS_futex);
	hold_act = act;
	hold_rounds = hold_count();
	CHECK(clock_gettime(CLOCK_MONOTONIC, &hold_until) == 0);
	hold_until.tv_sec += HOLD_SECS;
	CHECK(pthread_barrier_init(&hold_bar, NULL, 2) == 0);
	CHECK(pthread_create(&t, NULL, hold_helper, NULL) == 0);
	hold_traps = trap_syscalls(f, sizeof(f) / sizeof(f[0]), on_hold) == 0;
	if (!hold_traps)
		fprintf(stderr, "wrap_peer %s: no seccomp filters (%s): no held rounds\n",
			scenario, strerror(errno));
	return t;
}

/*
 * Round i: runs move (the call that moves the socket) with the helper's
 * call in the middle of the move (what: the trap that holds it) for the
 * first rounds, racing freely for the others.
 */
static void hold_round(int i, int what, void (*move)(int))
{
	hold_held = hold_traps && i < held_rounds;
	__atomic_store_n(&hold_in, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hold_go, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hold_done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hold_armed, hold_held ? what : HOLD_OFF, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&hold_bar);
	if (!hold_held)
		hold_spin((i * 7 % 50) * 20);
	move(i);
	/* a held round was held: the move made the trapped call */
	CHECK(!hold_held || __atomic_load_n(&hold_in, __ATOMIC_SEQ_CST));
	__atomic_store_n(&hold_armed, HOLD_OFF, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&hold_bar);
}

static int mv_fd, mv_ep, mv_ep2, mv_pipe[2], mv_new, mv_r, mv_errno;
static struct sockaddr_storage mv_to;
static socklen_t mv_tolen;
static int mv_sent;

/* the mover: a UDP candidate's first sendto() */
static void mv_send(int i)
{
	(void)i;
	mv_sent = sendto(mv_fd, "m", 1, 0, (struct sockaddr *)&mv_to, mv_tolen) == 1;
}

/* A bound UDP receiver (moved) for the movers' datagrams. */
static int mv_receiver(void)
{
	int r = socket(AF_INET, SOCK_DGRAM, 0);

	mv_tolen = loop_addr(AF_INET, &mv_to, 0, 0);
	CHECK(r >= 0 && bind(r, (struct sockaddr *)&mv_to, mv_tolen) == 0);
	CHECK(raw_domain(r) == AF_TOY_NR);
	CHECK(name_of(r, 0, &mv_to, &mv_tolen) == 0);
	return r;
}

static void mv_end(pthread_t t, int r)
{
	CHECK(pthread_join(t, NULL) == 0);
	close(r);
}

/* ............................................................ move_opt */

static void act_opt(int i)
{
	int v = 5;

	(void)i;
	mv_r = setsockopt(mv_fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v));
	mv_errno = errno;
}

/*
 * setsockopt() during the move: the option the program set last is the
 * socket's, even when the move replays an older value of it.
 */
static void move_opt(void)
{
	int r = mv_receiver(), i, one = 1, v = 3, raw;
	pthread_t t = hold_start(act_opt, HOLD_OPT);
	socklen_t l;
	char b[8];

	for (i = 0; i < hold_rounds; i++) {
		mv_fd = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(mv_fd >= 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof(v)) == 0);
		hold_round(i, HOLD_OPT, mv_send);
		errno = mv_errno;
		CHECK(mv_sent && mv_r == 0);
		CHECK(raw_domain(mv_fd) == AF_TOY_NR);
		raw = -1;
		l = sizeof(raw);
		CHECK(syscall(SYS_getsockopt, mv_fd, SOL_SOCKET, SO_PRIORITY, &raw, &l) == 0);
		if (raw != 5)
			fprintf(stderr, "wrap_peer %s: round %d: SO_PRIORITY %d, %s\n",
				scenario, i, raw, "not the 5 set last");
		CHECK(raw == 5 && opt_int(mv_fd, SOL_SOCKET, SO_PRIORITY) == 5);
		CHECK(opt_int(mv_fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
		CHECK(recv(r, b, sizeof(b), 0) == 1);
		CHECK(close(mv_fd) == 0);
	}
	mv_end(t, r);
}

/* .......................................................... move_epoll */

/* even rounds take the socket out of an epoll set, odd ones add it to one */
static void act_epoll(int i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = mv_fd };

	if (i % 2)
		mv_r = epoll_ctl(mv_ep2, EPOLL_CTL_ADD, mv_fd, &ev);
	else
		mv_r = epoll_ctl(mv_ep, EPOLL_CTL_DEL, mv_fd, NULL);
	mv_errno = errno;
}

/*
 * epoll_ctl() during the move: each call works, and the socket is in the
 * sets the program left it in, no other (a DEL used to fail with ENOENT
 * and the move put the socket back).
 */
static void move_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	struct sockaddr_storage src;
	int r = mv_receiver(), i, one = 1;
	pthread_t t = hold_start(act_epoll, HOLD_OPT);
	struct pollfd p;
	socklen_t sl;
	char b[8];

	for (i = 0; i < hold_rounds; i++) {
		mv_ep = epoll_create1(EPOLL_CLOEXEC);
		mv_ep2 = epoll_create1(EPOLL_CLOEXEC);
		mv_fd = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(mv_ep >= 0 && mv_ep2 >= 0 && mv_fd >= 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);
		ev.data.fd = mv_fd;
		CHECK(epoll_ctl(mv_ep, EPOLL_CTL_ADD, mv_fd, &ev) == 0);
		hold_round(i, HOLD_OPT, mv_send);
		errno = mv_errno;
		if (mv_r)
			fprintf(stderr, "wrap_peer %s: round %d: %s: %s\n", scenario, i,
				i % 2 ? "EPOLL_CTL_ADD" : "EPOLL_CTL_DEL", strerror(errno));
		CHECK(mv_sent && mv_r == 0);
		CHECK(raw_domain(mv_fd) == AF_TOY_NR);
		/* readable now: a reply to it */
		sl = sizeof(src);
		CHECK(recvfrom(r, b, sizeof(b), 0, (struct sockaddr *)&src, &sl) == 1);
		CHECK(sendto(r, "e", 1, 0, (struct sockaddr *)&src, sl) == 1);
		p.fd = mv_fd;
		p.events = POLLIN;
		CHECK(poll(&p, 1, 10000) == 1);
		if (i % 2) {
			/* in both sets */
			CHECK(epoll_wait(mv_ep, &got, 1, 0) == 1 && got.data.fd == mv_fd);
			CHECK(epoll_wait(mv_ep2, &got, 1, 0) == 1 && got.data.fd == mv_fd);
		} else {
			/* in none */
			CHECK(epoll_wait(mv_ep, &got, 1, 0) == 0);
			errno = 0;
			CHECK(epoll_ctl(mv_ep, EPOLL_CTL_MOD, mv_fd, &ev) < 0 && errno == ENOENT);
		}
		CHECK(recv(mv_fd, b, sizeof(b), 0) == 1 && b[0] == 'e');
		CHECK(close(mv_fd) == 0 && close(mv_ep) == 0 && close(mv_ep2) == 0);
	}
	mv_end(t, r);
}

/* .......................................................... move_close */

#define MV_TOKEN 0x70ce

/* even rounds close the socket and open an eventfd, odd ones dup2() a pipe onto it */
static void act_close(int i)
{
	if (i % 2) {
		mv_r = dup2(mv_pipe[1], mv_fd);
	} else {
		mv_r = close(mv_fd);
		mv_new = eventfd(MV_TOKEN, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	mv_errno = errno;
}

/*
 * close() or dup2() onto the socket during its move: what the program put
 * in its place (whatever fd number it got) stays what it is; the move's
 * dup3() used to land on it.  The mover's sendto() may fail or not: the
 * kernel orders it with the close, as without the library.
 */
static void move_close(void)
{
	int r = mv_receiver(), i, d;
	pthread_t t = hold_start(act_close, HOLD_FD);
	unsigned long long v;
	char b[8];

	for (i = 0; i < hold_rounds; i++) {
		CHECK(pipe2(mv_pipe, O_CLOEXEC | O_NONBLOCK) == 0);
		mv_fd = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(mv_fd >= 0);
		mv_new = -1;
		hold_round(i, HOLD_FD, mv_send);
		errno = mv_errno;
		CHECK(mv_r >= 0);
		d = i % 2 ? mv_fd : mv_new;
		CHECK(d >= 0);
		errno = 0;
		if (raw_domain(d) != -1 || errno != ENOTSOCK) {
			fprintf(stderr, "wrap_peer %s: round %d: fd %d (%s) is a socket now\n",
				scenario, i, d, i % 2 ? "a pipe" : "an eventfd");
			CHECK(0);
		}
		if (i % 2) {
			CHECK(write(d, "p", 1) == 1);
			CHECK(read(mv_pipe[0], b, sizeof(b)) == 1 && b[0] == 'p');
		} else {
			CHECK(read(d, &v, sizeof(v)) == sizeof(v) && v == MV_TOKEN);
		}
		CHECK(close(d) == 0 && close(mv_pipe[0]) == 0 && close(mv_pipe[1]) == 0);
		while (recv(r, b, sizeof(b), MSG_DONTWAIT) == 1)
			;
	}
	mv_end(t, r);
}

/* .......................................................... move_fcntl */

/*
 * Round i % 8 sets (even) or clears (odd) O_NONBLOCK (0, 1, 4, 5) or
 * FD_CLOEXEC (2, 3, 6, 7), with fcntl() (0-3) or ioctl() (4-7); the
 * socket starts the other way.
 */
static void act_fcntl(int i)
{
	int v = !(i % 2);

	switch (i % 8) {
	case 0:
	case 1:
		mv_r = fcntl(mv_fd, F_SETFL, v ? O_NONBLOCK : 0);
		break;
	case 2:
	case 3:
		mv_r = fcntl(mv_fd, F_SETFD, v ? FD_CLOEXEC : 0);
		break;
	case 4:
	case 5:
		mv_r = ioctl(mv_fd, FIONBIO, &v);
		break;
	default:
		mv_r = ioctl(mv_fd, v ? FIOCLEX : FIONCLEX);
		break;
	}
	mv_errno = errno;
}

/*
 * O_NONBLOCK or FD_CLOEXEC changed during the move: the flag is what the
 * program made it last (the move read both before it made its socket,
 * and its dup3() put the old ones back); the other flag is untouched.
 * 8 held rounds, one of each call.
 */
static void move_fcntl(void)
{
	int r = mv_receiver(), i, one = 1, nb, set, type, fl, fdfl;
	pthread_t t;
	char b[8];

	held_rounds = 8;
	t = hold_start(act_fcntl, HOLD_OPT);

	for (i = 0; i < hold_rounds; i++) {
		nb = !(i & 2);
		set = !(i % 2);
		type = SOCK_DGRAM | (set ? 0 : nb ? SOCK_NONBLOCK : SOCK_CLOEXEC);
		mv_fd = socket(AF_INET, type, 0);
		CHECK(mv_fd >= 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);
		hold_round(i, HOLD_OPT, mv_send);
		errno = mv_errno;
		CHECK(mv_sent && mv_r == 0);
		CHECK(raw_domain(mv_fd) == AF_TOY_NR);
		fl = fcntl(mv_fd, F_GETFL);
		fdfl = fcntl(mv_fd, F_GETFD);
		CHECK(fl >= 0 && fdfl >= 0);
		if (nb ? !(fl & O_NONBLOCK) != !set : !(fdfl & FD_CLOEXEC) != !set) {
			fprintf(stderr, "wrap_peer %s: round %d: %s %s by %s() in the move: lost\n",
				scenario, i, nb ? "O_NONBLOCK" : "FD_CLOEXEC",
				set ? "set" : "cleared", i % 8 < 4 ? "fcntl" : "ioctl");
			CHECK(0);
		}
		CHECK(nb ? !(fdfl & FD_CLOEXEC) : !(fl & O_NONBLOCK));
		CHECK(recv(r, b, sizeof(b), 0) == 1);
		CHECK(close(mv_fd) == 0);
	}
	mv_end(t, r);
}

/* ......................................................... move_decide */

/* another host's address: connect() (i % 3 == 0), sendto() (1), bind() (2) */
static void act_decide(int i)
{
	struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(9) };

	inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
	if (i % 3 == 0)
		mv_r = connect(mv_fd, (struct sockaddr *)&far, sizeof(far));
	else if (i % 3 == 1)
		mv_r = sendto(mv_fd, "f", 1, 0, (struct sockaddr *)&far, sizeof(far));
	else
		mv_r = bind(mv_fd, (struct sockaddr *)&far, sizeof(far));
	mv_errno = errno;
}

/*
 * Another host's address named during the move: either the move came
 * first, and the socket is a moved one, which cannot reach that address,
 * or the other call did, and the socket stayed on UDP (the move found
 * nothing to move; the mover's sendto() then went to UDP's loopback,
 * which is down here, and a bind() there may work: with no address up,
 * the namespace has no local table to refuse it).  Never an AF_TOY
 * socket the library forgot, which getsockname() and SO_DOMAIN showed as
 * AF_TOY.  Held rounds are ordered the first way.
 */
static void move_decide(void)
{
	static const char *const call[] = { "connect", "sendto", "bind" };
	int r = mv_receiver(), i, one = 1, dom;
	pthread_t t = hold_start(act_decide, HOLD_OPT);
	struct sockaddr_storage ss;
	socklen_t l;
	char b[8];

	for (i = 0; i < hold_rounds; i++) {
		mv_fd = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(mv_fd >= 0);
		CHECK(setsockopt(mv_fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);
		hold_round(i, HOLD_OPT, mv_send);
		dom = raw_domain(mv_fd);
		if (dom == AF_TOY_NR &&
		    (opt_int(mv_fd, SOL_SOCKET, SO_DOMAIN) != AF_INET ||
		     name_of(mv_fd, 0, &ss, &l) < 0 || ss.ss_family != AF_INET)) {
			fprintf(stderr, "wrap_peer %s: round %d: %s after %s()\n", scenario, i,
				"AF_TOY without its entry", call[i % 3]);
			CHECK(0);
		}
		errno = mv_errno;
		if (dom == AF_TOY_NR || hold_held) {
			CHECK(dom == AF_TOY_NR && mv_sent && mv_r < 0);
			CHECK(i % 3 == 2 || errno == ENETUNREACH);
			CHECK(recv(r, b, sizeof(b), 0) == 1);
		} else {
			CHECK(dom == AF_INET && opt_int(mv_fd, SOL_SOCKET, SO_DOMAIN) == AF_INET);
		}
		CHECK(close(mv_fd) == 0);
	}
	mv_end(t, r);
}

/* -------------------------------------------------------------- linger */

static int lg_tid, lg_case, lg_fd, lg_fd2, lg_r;	/* lg_tid: __atomic */

/* case 0: close(lg_fd); 1, 2: dup2(lg_fd2, lg_fd), which closes lg_fd's socket */
static void *lg_closer(void *arg)
{
	(void)arg;
	__atomic_store_n(&lg_tid, (int)gettid(), __ATOMIC_SEQ_CST);
	lg_r = lg_case ? dup2(lg_fd2, lg_fd) : close(lg_fd);
	return NULL;
}

/* The system call thread tid sleeps in; -1 if it runs or is gone. */
static long task_syscall(int tid)
{
	char path[64], b[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0 || b[0] < '0' || b[0] > '9')
		return -1;
	b[n] = '\0';
	return atol(b);
}

static int lingers(long nr)
{
	return nr == SYS_close || nr == SYS_dup2;
}

/*
 * snd (SO_LINGER 3 s) connected, through raw calls, to lfd, a raw TCP
 * listener at to: its buffer full of what the accepted *rcv does not read,
 * so that its last close() waits the 3 s.
 */
static void lg_connect(int snd, int lfd, const struct sockaddr_in *to, int *rcv)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 3 };
	static char buf[65536];
	int small = 4096;

	CHECK(setsockopt(snd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
	CHECK(setsockopt(snd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	CHECK(syscall(SYS_connect, snd, to, sizeof(*to)) == 0);
	*rcv = syscall(SYS_accept4, lfd, NULL, NULL, 0);
	CHECK(*rcv >= 0);
	while (syscall(SYS_sendto, snd, buf, sizeof(buf), MSG_DONTWAIT, NULL, 0) > 0)
		;
	CHECK(errno == EAGAIN);
}

/*
 * A candidate can be a connected socket (a dup() of one that then stayed
 * on TCP, or, here, one connected by a raw call).  Its last close() with
 * SO_LINGER and data unsent waits for the linger time; so does a dup2()
 * onto it, and a dup2() of a candidate onto a socket the library never
 * saw.  None may hold the move lock meanwhile: a call on another
 * candidate, a move and a fork() (which takes the lock too) must not wait
 * for it, i.e. the closer still lingers once they are done.
 */
static void linger(void)
{
	static const char *const what[] = {
		"close() of a candidate", "dup2() onto a candidate", "dup2() of a candidate"
	};
	struct sockaddr_in to = { .sin_family = AF_INET };
	socklen_t tl = sizeof(to);
	int r = mv_receiver(), lfd, rcv, u, k, w, st, p[2], v = 1, small = 4096;
	struct timespec ms = { 0, 1000000 };
	pthread_t t;
	long nr = -1;
	pid_t pid;
	char b[8];

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0);
	CHECK(syscall(SYS_setsockopt, lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
	CHECK(syscall(SYS_bind, lfd, &to, sizeof(to)) == 0 && syscall(SYS_listen, lfd, 4) == 0);
	CHECK(syscall(SYS_getsockname, lfd, &to, &tl) == 0);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	for (k = 0; k < 3; k++) {
		lg_case = k;
		if (k < 2) {
			lg_fd = socket(AF_INET, SOCK_STREAM, 0);
			lg_fd2 = p[1];
		} else {
			lg_fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
			lg_fd2 = socket(AF_INET, SOCK_DGRAM, 0);
		}
		CHECK(lg_fd >= 0 && lg_fd2 >= 0);
		lg_connect(lg_fd, lfd, &to, &rcv);
		CHECK(raw_domain(lg_fd) == AF_INET);
		__atomic_store_n(&lg_tid, 0, __ATOMIC_SEQ_CST);
		CHECK(pthread_create(&t, NULL, lg_closer, NULL) == 0);
		for (w = 0; w < 10000; w++) {
			nr = task_syscall(__atomic_load_n(&lg_tid, __ATOMIC_SEQ_CST));
			if (lingers(nr))
				break;
			nanosleep(&ms, NULL);
		}
		CHECK(lingers(nr));
		u = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(u >= 0 && setsockopt(u, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == 0);
		CHECK(sendto(u, "l", 1, 0, (struct sockaddr *)&mv_to, mv_tolen) == 1);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(0);
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
		if (!lingers(task_syscall(lg_tid))) {
			fprintf(stderr, "wrap_peer %s: %s: %s\n", scenario, what[k],
				"setsockopt(), a move and fork() waited for its linger");
			CHECK(0);
		}
		CHECK(pthread_join(t, NULL) == 0);
		CHECK(lg_r == (k ? lg_fd : 0));
		CHECK(raw_domain(u) == AF_TOY_NR && recv(r, b, sizeof(b), 0) == 1);
		CHECK(close(u) == 0 && close(rcv) == 0);
		if (k)
			CHECK(close(lg_fd) == 0);
		if (k == 2)
			CHECK(close(lg_fd2) == 0);
	}
	CHECK(close(p[0]) == 0 && close(p[1]) == 0 && close(lfd) == 0 && close(r) == 0);
}

/* -------------------------------------------------------------- cancel */

static int cn_fd;

static void *cn_close(void *arg)
{
	(void)arg;
	pthread_cancel(pthread_self());
	close(cn_fd);
	return NULL;
}

static void *cn_send(void *arg)
{
	(void)arg;
	pthread_cancel(pthread_self());
	sendto(cn_fd, "c", 1, 0, (struct sockaddr *)&mv_to, mv_tolen);
	return NULL;
}

/* setsockopt() on a new candidate: the move lock, unless held for good */
static void *cn_probe(void *arg)
{
	int v = 1, fd = socket(AF_INET, SOCK_DGRAM, 0);
	long ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == 0;

	(void)arg;
	close(fd);
	return (void *)ok;
}

/*
 * A thread cancelled (pthread_cancel(), deferred) at the first cancellation
 * point in a call on a candidate: close(), or sendto() whose move closes
 * its spare fd.  It must not end with the move lock held: a setsockopt()
 * on another candidate in another thread returns within 10 s, and the
 * socket sendto() moved has its entry.
 */
static void cancel(void)
{
	static const char *const what[] = { "close()", "the move of sendto()" };
	void *(*const fn[])(void *) = { cn_close, cn_send };
	int r = mv_receiver(), k, e;
	struct timespec until;
	pthread_t t;
	void *ret;
	char b[8];

	/* glibc unwinds a cancelled thread with libgcc_s (toywrap/ has a copy) */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW)) {
		fprintf(stderr, "wrap_peer %s: no pthread_cancel(): %s\n", scenario, dlerror());
		exit(1);
	}
	for (k = 0; k < 2; k++) {
		cn_fd = socket(AF_INET, SOCK_DGRAM, 0);
		CHECK(cn_fd >= 0);
		CHECK(pthread_create(&t, NULL, fn[k], NULL) == 0);
		CHECK(pthread_join(t, &ret) == 0 && ret == PTHREAD_CANCELED);
		CHECK(pthread_create(&t, NULL, cn_probe, NULL) == 0);
		CHECK(clock_gettime(CLOCK_REALTIME, &until) == 0);
		until.tv_sec += 10;
		e = pthread_timedjoin_np(t, &ret, &until);
		if (e) {
			fprintf(stderr, "wrap_peer %s: a thread cancelled in %s %s (%s)\n",
				scenario, what[k], "left the move lock held", strerror(e));
			exit(1);
		}
		CHECK(ret == (void *)1);
		if (k) {
			/* moved, entry and all; the cancel acted in the real sendto() */
			CHECK(raw_domain(cn_fd) == AF_TOY_NR);
			CHECK(opt_int(cn_fd, SOL_SOCKET, SO_DOMAIN) == AF_INET);
			CHECK(close(cn_fd) == 0);
		} else {
			/* cancelled on its way in, close() may have left it open */
			syscall(SYS_close, cn_fd);
		}
		while (recv(r, b, sizeof(b), MSG_DONTWAIT) == 1)
			;
	}
	CHECK(close(r) == 0);
}

/* -------------------------------------------------------------- nofile */

/*
 * At the fd limit a move cannot make its AF_TOY socket: connect(),
 * sendto(), listen() and bind() fail with EMFILE and the socket stays a
 * candidate, which moves at its next call once an fd is free.  It used to
 * stay on TCP/UDP for good (a connect() to a moved listener was refused).
 */
static void nofile(void)
{
	struct sockaddr_storage ss, any;
	struct rlimit old, rl;
	int ls, r, port, c, u, x, y, a, p[2], fill[64], n = 0, f;
	socklen_t l, al;
	char b[8];

	ls = tcp_listener(AF_INET, &port);
	r = mv_receiver();
	c = socket(AF_INET, SOCK_STREAM, 0);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	x = socket(AF_INET, SOCK_STREAM, 0);
	y = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && u >= 0 && x >= 0 && y >= 0 && pipe2(p, O_CLOEXEC) == 0);
	/* a limit a few fds above the highest, and those few taken */
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	rl = old;
	rl.rlim_cur = p[1] + 8;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	while ((f = syscall(SYS_dup, p[0])) >= 0) {
		CHECK(n < 64);
		fill[n++] = f;
	}
	CHECK(errno == EMFILE && n > 0);
	l = loop_addr(AF_INET, &ss, port, 0);
	al = loop_addr(AF_INET, &any, 0, 0);
	errno = 0;
	CHECK(connect(c, (struct sockaddr *)&ss, l) < 0 && errno == EMFILE);
	errno = 0;
	CHECK(sendto(u, "n", 1, 0, (struct sockaddr *)&mv_to, mv_tolen) < 0 && errno == EMFILE);
	errno = 0;
	CHECK(listen(x, 4) < 0 && errno == EMFILE);
	errno = 0;
	CHECK(bind(y, (struct sockaddr *)&any, al) < 0 && errno == EMFILE);
	CHECK(raw_domain(c) == AF_INET && raw_domain(u) == AF_INET);
	CHECK(raw_domain(x) == AF_INET && raw_domain(y) == AF_INET);
	/* one fd free: each moves now (accept() gets the fd each move gave back) */
	syscall(SYS_close, fill[--n]);
	CHECK(connect(c, (struct sockaddr *)&ss, l) == 0 && raw_domain(c) == AF_TOY_NR);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && write(c, "n", 1) == 1 && read(a, b, 1) == 1 && b[0] == 'n');
	CHECK(close(a) == 0);
	CHECK(sendto(u, "n", 1, 0, (struct sockaddr *)&mv_to, mv_tolen) == 1);
	CHECK(raw_domain(u) == AF_TOY_NR && recv(r, b, sizeof(b), 0) == 1);
	CHECK(listen(x, 4) == 0 && raw_domain(x) == AF_TOY_NR);
	CHECK(bind(y, (struct sockaddr *)&any, al) == 0 && raw_domain(y) == AF_TOY_NR);
	while (n)
		syscall(SYS_close, fill[--n]);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CHECK(close(c) == 0 && close(u) == 0 && close(x) == 0 && close(y) == 0);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0 && close(r) == 0 && close(ls) == 0);
}

/* ------------------------------------------------------------ unspec */

/*
 * bind() with AF_UNSPEC and INADDR_ANY is the IPv4 wildcard to the kernel;
 * a socket bound behind the library's back keeps its TCP port at listen().
 */
static void unspec(void)
{
	struct sockaddr_in any = { .sin_family = AF_UNSPEC, .sin_port = htons(6400) };
	struct sockaddr_storage ss;
	int ls, c, a, x;
	socklen_t l;
	char b;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&any, sizeof(any)) == 0);
	CHECK(raw_domain(ls) == AF_TOY_NR && raw_port(ls, 0) == 6400);
	CHECK(listen(ls, 4) == 0 && raw_port(ls, 0) == 6400);
	CHECK(name_of(ls, 0, &ss, &l) == 0 && is_addr(&ss, l, AF_INET, 1) &&
	      addr_port(&ss) == 6400);
	c = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, 6400, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && write(c, "u", 1) == 1 && read(a, &b, 1) == 1 && b == 'u');
	CHECK(close(a) == 0 && close(c) == 0 && close(ls) == 0);

	/* AF_UNSPEC with another address than INADDR_ANY: refused as by TCP */
	x = socket(AF_INET, SOCK_STREAM, 0);
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	errno = 0;
	CHECK(x >= 0 && bind(x, (struct sockaddr *)&any, sizeof(any)) < 0 &&
	      errno == EAFNOSUPPORT);
	CHECK(raw_domain(x) == AF_INET);
	close(x);

	x = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, 6401, 1);
	CHECK(x >= 0 && syscall(SYS_bind, x, &ss, l) == 0);
	CHECK(listen(x, 4) == 0);
	CHECK(raw_domain(x) == AF_INET);
	CHECK(name_of(x, 0, &ss, &l) == 0 && addr_port(&ss) == 6401);
	close(x);
}

/* -------------------------------------------------------------- opts */

/* name becomes this namespace's default congestion control: false if not */
static int set_default_ca(const char *name)
{
	int fd = open("/proc/sys/net/ipv4/tcp_congestion_control", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, name, strlen(name)) == (ssize_t)strlen(name);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* fd's TCP_CONGESTION is name; what (a socket) in the message if not */
static void ca_is(int fd, const char *name, const char *what)
{
	char cc[32];
	socklen_t cl = sizeof(cc);

	CHECK(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0 && cl == 16);
	if (strcmp(cc, name))
		fprintf(stderr, "wrap_peer %s: %s: TCP_CONGESTION %s, not %s\n", scenario, what,
			cc, name);
	CHECK(!strcmp(cc, name));
}

/*
 * TCP gives a connection the default of when it comes, unless its
 * listener set an algorithm: then that one.  l1 is made under def (its
 * move asks TCP), l2 sets def itself (before its move); then other is
 * the default when both are connected to.
 */
static void accepted_ca(const char *def, const char *other)
{
	struct sockaddr_storage ss;
	int l1, l2, c1, c2, a1, a2, p1, p2;
	socklen_t l;

	l1 = tcp_listener(AF_INET, &p1);
	l2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l2 >= 0);
	CHECK(setsockopt(l2, IPPROTO_TCP, TCP_CONGESTION, def, strlen(def)) == 0);
	l = loop_addr(AF_INET, &ss, 0, 0);
	CHECK(bind(l2, (struct sockaddr *)&ss, l) == 0 && listen(l2, 4) == 0);
	CHECK(raw_domain(l2) == AF_TOY_NR && name_of(l2, 0, &ss, &l) == 0);
	p2 = addr_port(&ss);
	if (!set_default_ca(other)) {
		fprintf(stderr, "wrap_peer %s: cannot make %s the default: %s\n", scenario, other,
			strerror(errno));
		CHECK(close(l1) == 0 && close(l2) == 0);
		return;
	}
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, p1, 0);
	CHECK(c1 >= 0 && connect(c1, (struct sockaddr *)&ss, l) == 0);
	l = loop_addr(AF_INET, &ss, p2, 0);
	CHECK(c2 >= 0 && connect(c2, (struct sockaddr *)&ss, l) == 0);
	a1 = accept(l1, NULL, NULL);
	a2 = accept(l2, NULL, NULL);
	CHECK(a1 >= 0 && a2 >= 0);
	ca_is(a1, other, "accepted on a listener that set none");
	ca_is(a2, def, "accepted on a listener that set one");
	ca_is(l1, def, "a listener made under the old default");
	ca_is(l2, def, "a listener that set one");
	CHECK(set_default_ca(def));
	CHECK(close(a1) == 0 && close(a2) == 0 && close(c1) == 0 && close(c2) == 0);
	CHECK(close(l1) == 0 && close(l2) == 0);
}

/* The emulated options of moved sockets: by level, as TCP/UDP/IP answer. */
/*
 * Options set on a candidate, then read on the moved socket: as the
 * kernel kept them, a flag as 1 (TCP_NODELAY, SO_REUSEPORT set to 5), an
 * IPv4 option given as one byte as an int.  They used to be read back as
 * passed (5; one byte).  SO_REUSEPORT set on the moved socket too.
 */
static void set_before_move(const struct sockaddr_storage *ss, socklen_t l)
{
	unsigned char tos = 0x10;
	int x, v = 5;
	socklen_t vl;

	x = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(x >= 0);
	CHECK(setsockopt(x, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0);
	CHECK(setsockopt(x, IPPROTO_IP, IP_TOS, &tos, 1) == 0);
	CHECK(setsockopt(x, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)) == 0);
	tos = 5;	/* a flag toywrap has no default for, as a byte */
	CHECK(setsockopt(x, IPPROTO_IP, IP_RECVTOS, &tos, 1) == 0);
	CHECK(connect(x, (const struct sockaddr *)ss, l) == 0);
	CHECK(raw_domain(x) == AF_TOY_NR);
	/* opt_int(): an int's length, else -1000 */
	CHECK(opt_int(x, IPPROTO_TCP, TCP_NODELAY) == 1);
	CHECK(opt_int(x, IPPROTO_IP, IP_TOS) == 0x10);
	CHECK(opt_int(x, SOL_SOCKET, SO_REUSEPORT) == 1);
	CHECK(opt_int(x, IPPROTO_IP, IP_RECVTOS) == 1);
	/* an int option given in a longer value: its first int, as a flag */
	{
		long lv = 5;
		long out = -1;

		CHECK(setsockopt(x, IPPROTO_TCP, TCP_NODELAY, &lv, sizeof(lv)) == 0);
		vl = sizeof(out);
		CHECK(getsockopt(x, IPPROTO_TCP, TCP_NODELAY, &out, &vl) == 0);
		CHECK(vl == sizeof(int) && (int)out == 1);
	}
	v = 7;
	CHECK(setsockopt(x, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)) == 0);
	CHECK(opt_int(x, SOL_SOCKET, SO_REUSEPORT) == 1);
	CHECK(close(x) == 0);
}

static void opts(void)
{
	char cc[32], def[32] = "cubic";
	const char *other;
	struct sockaddr_storage ss;
	int ls, c, a, u, x, y, port, v = 1;
	socklen_t l, cl;
	FILE *f;

	f = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "re");
	if (f) {
		if (fgets(def, sizeof(def), f))
			def[strcspn(def, "\n")] = '\0';
		fclose(f);
	}
	ls = tcp_listener(AF_INET, &port);
	c = socket(AF_INET, SOCK_STREAM, 0);
	l = loop_addr(AF_INET, &ss, port, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ss, l) == 0);
	a = accept(ls, NULL, NULL);
	CHECK(a >= 0 && raw_domain(c) == AF_TOY_NR);
	/*
	 * TCP gives a socket the namespace's default when the socket is made:
	 * a default changed later is the next socket's, not this one's
	 */
	other = strcmp(def, "reno") ? "reno" : "cubic";
	x = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(x >= 0);
	if (set_default_ca(other)) {
		y = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(y >= 0 && connect(x, (struct sockaddr *)&ss, l) == 0 &&
		      connect(y, (struct sockaddr *)&ss, l) == 0);
		CHECK(raw_domain(x) == AF_TOY_NR && raw_domain(y) == AF_TOY_NR);
		cl = sizeof(cc);
		CHECK(getsockopt(x, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0);
		if (strcmp(cc, def))
			fprintf(stderr, "wrap_peer %s: TCP_CONGESTION %s, not %s (%s)\n",
				scenario, cc, def, "what it was made with");
		CHECK(cl == 16 && !strcmp(cc, def));
		cl = sizeof(cc);
		CHECK(getsockopt(y, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0);
		CHECK(cl == 16 && !strcmp(cc, other));
		CHECK(set_default_ca(def));
		CHECK(close(y) == 0);
	} else {
		fprintf(stderr, "wrap_peer %s: cannot make %s the default: %s\n", scenario, other,
			strerror(errno));
	}
	CHECK(close(x) == 0);
	set_before_move(&ss, l);
	accepted_ca(def, other);
	memset(cc, 'x', sizeof(cc));
	cl = sizeof(cc);
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0);
	CHECK(cl == 16 && !strcmp(cc, def));
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) == 0);
	cl = sizeof(cc);
	CHECK(getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) == 0);
	CHECK(cl == 16 && !strcmp(cc, "reno"));
	/* IPv6 and UDP levels mean nothing to an IPv4 TCP socket */
	errno = 0;
	CHECK(setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) < 0 &&
	      errno == ENOPROTOOPT);
	errno = 0;
	CHECK(opt_int(c, IPPROTO_IPV6, IPV6_V6ONLY) == -1000 && errno == ENOPROTOOPT);
	errno = 0;
	CHECK(setsockopt(c, IPPROTO_UDP, UDP_CORK, &v, sizeof(v)) < 0 &&
	      errno == ENOPROTOOPT);
	CHECK(opt_int(c, IPPROTO_IP, IP_TTL) == 64);
	CHECK(write(c, "o", 1) == 1 && read(a, cc, 1) == 1);
	CHECK(close(a) == 0 && close(c) == 0 && close(ls) == 0);

	/* TCP options mean nothing to UDP; IPv4 ones do to IPv6 */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	l = loop_addr(AF_INET, &ss, 0, 0);
	CHECK(u >= 0 && bind(u, (struct sockaddr *)&ss, l) == 0 && raw_domain(u) == AF_TOY_NR);
	errno = 0;
	CHECK(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0 &&
	      errno == ENOPROTOOPT);
	errno = 0;
	CHECK(opt_int(u, IPPROTO_TCP, TCP_NODELAY) == -1000 && errno == ENOPROTOOPT);
	cl = sizeof(cc);
	errno = 0;
	CHECK(getsockopt(u, IPPROTO_TCP, TCP_CONGESTION, cc, &cl) < 0 && errno == ENOPROTOOPT);
	CHECK(opt_int(u, IPPROTO_UDP, UDP_CORK) == 0);
	close(u);
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	l = loop_addr(AF_INET6, &ss, 0, 0);
	CHECK(u >= 0 && bind(u, (struct sockaddr *)&ss, l) == 0 && raw_domain(u) == AF_TOY_NR);
	v = 0x20;
	CHECK(setsockopt(u, IPPROTO_IP, IP_TOS, &v, sizeof(v)) == 0);
	CHECK(opt_int(u, IPPROTO_IP, IP_TOS) == 0x20);
	CHECK(opt_int(u, IPPROTO_IPV6, IPV6_V6ONLY) == 0);
	close(u);
}

int main(int argc, char **argv)
{
	scenario = argc > 1 ? argv[1] : "";
	if (!strcmp(scenario, "tcp4"))
		tcp(AF_INET);
	else if (!strcmp(scenario, "tcp6"))
		tcp(AF_INET6);
	else if (!strcmp(scenario, "udp4"))
		udp(AF_INET);
	else if (!strcmp(scenario, "udp6"))
		udp(AF_INET6);
	else if (!strcmp(scenario, "real"))
		real();
	else if (!strcmp(scenario, "threads"))
		threads();
	else if (!strcmp(scenario, "exec"))
		exec_parent();
	else if (!strcmp(scenario, "nomod"))
		nomod();
	else if (!strcmp(scenario, "race"))
		race();
	else if (!strcmp(scenario, "unspec"))
		unspec();
	else if (!strcmp(scenario, "opts"))
		opts();
	else if (!strcmp(scenario, "move_opt"))
		move_opt();
	else if (!strcmp(scenario, "move_epoll"))
		move_epoll();
	else if (!strcmp(scenario, "move_close"))
		move_close();
	else if (!strcmp(scenario, "move_fcntl"))
		move_fcntl();
	else if (!strcmp(scenario, "move_decide"))
		move_decide();
	else if (!strcmp(scenario, "linger"))
		linger();
	else if (!strcmp(scenario, "cancel"))
		cancel();
	else if (!strcmp(scenario, "nofile"))
		nofile();
	else if (!strcmp(scenario, "exec-child") && argc > 2)
		exec_child(atoi(argv[2]));
	else {
		fprintf(stderr, "usage: wrap_peer tcp4|tcp6|udp4|udp6|real|threads|exec|%s%s\n",
			"nomod|race|unspec|opts|move_opt|move_epoll|move_close|",
			"move_fcntl|move_decide|linger|cancel|nofile");
		return 2;
	}
	return 0;
}

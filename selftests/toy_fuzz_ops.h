/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_ops.h - the fuzzer's chaos operations and their random
 * arguments (bad pointers, lengths, flags, addresses, options), included by
 * toy_fuzz.c only, after its worker, randomness and slot helpers.  Every
 * random choice comes from rn()/rnd()/chance(): the running op's tape.
 */
#ifndef TOY_FUZZ_OPS_H
#define TOY_FUZZ_OPS_H

/* A pointer the kernel must refuse with EFAULT (or a valid edge). */
static void *bad_ptr(struct worker *w)
{
	static void *const fixed[] = {
		NULL, (void *)1, (void *)0xffffffffff600000ULL,
		(void *)0xffff888000000000ULL, (void *)-1L, (void *)0x10000,
	};

	switch (rn(w, 4)) {
	case 0:
		return guard;
	case 1:	/* crosses into the guard page */
		return guard - 1 - rn(w, 16);
	default:
		return fixed[rn(w, sizeof(fixed) / sizeof(fixed[0]))];
	}
}

static int rand_type(struct worker *w)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };

	if (chance(w, 2))
		return (int)rn(w, 12);		/* invalid ones too */
	return types[rn(w, 3)];
}

static uint32_t rand_port(struct worker *w)
{
	switch (rn(w, 10)) {
	case 0:
		return 0;
	case 1:
		return rn(w, 1024);
	case 2:
		return (uint32_t)rnd(w);
	case 3:		/* the default ephemeral range: no file read per op */
		return 32768 + rn(w, 64);
	default:
		return PORT_BASE + rn(w, PORT_POOL);
	}
}

static socklen_t rand_len(struct worker *w, socklen_t good)
{
	switch (rn(w, 12)) {
	case 0:
		return 0;
	case 1:
		return good - 1;
	case 2:
		return good + 1 + rn(w, 200);
	case 3:
		return (socklen_t)-1;
	case 4:
		return (socklen_t)rnd(w);
	default:
		return good;
	}
}

static int rand_msg_flags(struct worker *w)
{
	static const int fl[] = {
		MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_WAITALL, MSG_TRUNC,
		MSG_OOB, MSG_MORE, MSG_EOR, MSG_CONFIRM, MSG_ERRQUEUE,
		MSG_CMSG_CLOEXEC, MSG_DONTROUTE, MSG_CTRUNC, MSG_FASTOPEN,
		MSG_ZEROCOPY, MSG_BATCH, 0x8000000 /* MSG_SPLICE_PAGES (kernel-internal) */,
	};
	int flags = 0, n = (int)rn(w, 4), i;

	if (chance(w, 3))
		return (int)rnd(w);
	for (i = 0; i < n; i++)
		flags |= fl[rn(w, sizeof(fl) / sizeof(fl[0]))];
	/* mostly non-blocking: keep the op rate up, block sometimes */
	if (chance(w, 70))
		flags |= MSG_DONTWAIT;
	return flags;
}

static size_t rand_size(struct worker *w)
{
	switch (rn(w, 8)) {
	case 0:
		return 0;
	case 1:
		return 1 + rn(w, 16);
	case 2:
		return BUFSZ - rn(w, 4096);
	case 3:
		return 4096 + rn(w, 60000);
	default:
		return 1 + rn(w, 2048);
	}
}

static struct sockaddr_toy rand_addr(struct worker *w, socklen_t *len)
{
	struct sockaddr_toy a = toy_addr(rand_port(w));

	if (chance(w, 50))	/* a listener we know of (maybe gone) */
		a.stoy_port = __atomic_load_n(&lports[rn(w, 16)], __ATOMIC_RELAXED);

	if (chance(w, 4))
		a.stoy_family = chance(w, 50) ? AF_UNSPEC : (sa_family_t)rn(w, 64);
	if (chance(w, 3))
		a.stoy_reserved = (uint16_t)rnd(w);
	*len = rand_len(w, sizeof(a));
	if (*len > sizeof(a) && *len > 128)
		*len = sizeof(a) + rn(w, 64);	/* kernel caps at 128 anyway */
	return a;
}

static long do_addr_call(struct worker *w, int fd, int which)
{
	struct {
		struct sockaddr_toy a;
		char pad[256];
	} u;
	socklen_t len;
	const struct sockaddr *sa;

	memset(&u, 0, sizeof(u));
	u.a = rand_addr(w, &len);
	sa = (const struct sockaddr *)&u;
	if (chance(w, 4))
		sa = bad_ptr(w);
	if (which == OP_BIND)
		return bind(fd, sa, len);
	return connect(fd, sa, len);
}

static long do_accept(struct worker *w, int fd)
{
	struct sockaddr_toy a;
	socklen_t len = rand_len(w, sizeof(a));
	void *addr = &a, *plen = &len;
	int flags = 0, nfd;

	if (chance(w, 30))
		addr = NULL;
	else if (chance(w, 5))
		addr = bad_ptr(w);
	if (chance(w, 5))
		plen = bad_ptr(w);
	if (chance(w, 60))
		flags |= SOCK_NONBLOCK;
	if (chance(w, 30))
		flags |= SOCK_CLOEXEC;
	if (chance(w, 2))
		flags = (int)rnd(w);
	nfd = accept4(fd, addr, plen, flags);
	new_fd(w, nfd);
	return nfd;
}

static void fill_iov(struct worker *w, struct iovec *iov, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t len = rand_size(w) / (size_t)n;
		size_t off = rn(w, BUFSZ);

		if (off + len > BUFSZ)
			off = BUFSZ - len;
		iov[i].iov_base = w->buf + off;
		iov[i].iov_len = len;
		if (chance(w, 3)) {
			iov[i].iov_base = bad_ptr(w);
			iov[i].iov_len = 1 + rn(w, 100);
		}
	}
}

static long do_sendmsg(struct worker *w, int fd, bool recv_side)
{
	struct iovec iov[8];
	struct sockaddr_toy a;
	char cbuf[64];
	struct msghdr m;
	socklen_t alen;
	int flags = rand_msg_flags(w);

	memset(&m, 0, sizeof(m));
	m.msg_iovlen = 1 + rn(w, 8);
	fill_iov(w, iov, (int)m.msg_iovlen);
	m.msg_iov = iov;
	if (chance(w, 2))
		m.msg_iov = bad_ptr(w);
	if (chance(w, 40)) {
		a = rand_addr(w, &alen);
		m.msg_name = &a;
		m.msg_namelen = alen;
		if (chance(w, 3))
			m.msg_name = bad_ptr(w);
	}
	if (chance(w, 5)) {
		memset(cbuf, 0, sizeof(cbuf));
		if (chance(w, 50)) {
			struct cmsghdr *c = (struct cmsghdr *)cbuf;

			c->cmsg_len = CMSG_LEN(rn(w, 16));
			c->cmsg_level = chance(w, 50) ? SOL_SOCKET : (int)rn(w, 300);
			c->cmsg_type = (int)rn(w, 8);
		}
		m.msg_control = cbuf;
		m.msg_controllen = rn(w, sizeof(cbuf) + 1);
	}
	if (recv_side)
		return recvmsg(fd, &m, flags);
	return sendmsg(fd, &m, flags);
}

static long do_send(struct worker *w, int fd)
{
	size_t len = rand_size(w);
	char *p = w->buf;
	struct sockaddr_toy a;
	socklen_t alen;

	if (chance(w, 3))
		p = bad_ptr(w);
	if (chance(w, 25)) {
		a = rand_addr(w, &alen);
		return sendto(fd, p, len, rand_msg_flags(w),
			      (struct sockaddr *)&a, alen);
	}
	return send(fd, p, len, rand_msg_flags(w));
}

static long do_recv(struct worker *w, int fd)
{
	size_t len = rand_size(w);
	char *p = w->buf;
	struct sockaddr_toy a;
	socklen_t alen = rand_len(w, sizeof(a));
	void *ap = &a, *lp = &alen;

	if (chance(w, 3))
		p = bad_ptr(w);
	if (chance(w, 30)) {
		if (chance(w, 4))
			ap = bad_ptr(w);
		if (chance(w, 4))
			lp = chance(w, 50) ? NULL : bad_ptr(w);
		return recvfrom(fd, p, len, rand_msg_flags(w), ap, lp);
	}
	return recv(fd, p, len, rand_msg_flags(w));
}

static long do_mmsg(struct worker *w, int fd)
{
	struct mmsghdr mm[4];
	struct iovec iov[4];
	unsigned int n = 1 + rn(w, 4), i;
	struct timespec ts = { 0, 1000000 };

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < n; i++) {
		fill_iov(w, &iov[i], 1);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	if (chance(w, 50))
		return sendmmsg(fd, mm, n, rand_msg_flags(w));
	return recvmmsg(fd, mm, n, rand_msg_flags(w) | MSG_DONTWAIT,
			chance(w, 50) ? &ts : NULL);
}

static long do_rw(struct worker *w, int fd)
{
	struct iovec iov[4];
	int n = 1 + (int)rn(w, 4);
	size_t len = rand_size(w);

	switch (rn(w, 4)) {
	case 0:
		return write(fd, chance(w, 5) ? bad_ptr(w) : w->buf, len);
	case 1:
		return read(fd, chance(w, 5) ? bad_ptr(w) : w->buf, len);
	case 2:
		fill_iov(w, iov, n);
		return writev(fd, iov, n);
	default:
		fill_iov(w, iov, n);
		return readv(fd, iov, n);
	}
}

static long do_poll(struct worker *w)
{
	struct pollfd p[6];
	int n = 1 + (int)rn(w, 6), i;

	for (i = 0; i < n; i++) {
		p[i].fd = slot_get(w);
		p[i].events = (short)(chance(w, 20) ? rnd(w) :
			POLLIN | POLLOUT | POLLRDHUP | POLLPRI);
		p[i].revents = 0;
	}
	if (chance(w, 2))
		return poll(bad_ptr(w), (nfds_t)n, 0);
	return poll(p, (nfds_t)n, (int)rn(w, 10));
}

static long do_epoll(struct worker *w)
{
	struct epoll_event ev, out[8];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, n = 1 + (int)rn(w, 5);
	long ret;

	if (ep < 0)
		return -1;
	for (i = 0; i < n; i++) {
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR |
			    (chance(w, 30) ? EPOLLET : 0) |
			    (chance(w, 10) ? EPOLLONESHOT : 0);
		ev.data.u64 = rnd(w);
		epoll_ctl(ep, EPOLL_CTL_ADD, slot_get(w), &ev);
	}
	ret = epoll_wait(ep, out, 8, (int)rn(w, 10));
	/* keep the epoll instance watching while sockets get closed */
	if (chance(w, 20)) {
		ev.events = EPOLLIN;
		epoll_ctl(ep, EPOLL_CTL_MOD, slot_get(w), &ev);
		epoll_wait(ep, out, 8, 0);
	}
	close(ep);
	return ret;
}

static const int sol_opts[] = {
	SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED,
	SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_RCVLOWAT,
	SO_SNDLOWAT, SO_LINGER, SO_PASSCRED, SO_KEEPALIVE, SO_REUSEADDR,
	SO_REUSEPORT, SO_PRIORITY, SO_MARK, SO_PEERNAME, SO_BROADCAST,
	SO_OOBINLINE, SO_TIMESTAMP, SO_RCVTIMEO, SO_SNDTIMEO, SO_PEEK_OFF,
	SO_BUSY_POLL, SO_INCOMING_CPU, SO_MEMINFO, SO_COOKIE, SO_PEERGROUPS,
	SO_BINDTODEVICE, SO_DEBUG, SO_ZEROCOPY, SO_TXTIME, 77 /* SO_PEERPIDFD */,
};

static int rand_level(struct worker *w)
{
	if (chance(w, 85))
		return SOL_SOCKET;
	if (chance(w, 50))
		return 0;		/* SOL_IP / toy protocol level */
	return (int)rn(w, 300);
}

static int rand_opt(struct worker *w)
{
	if (chance(w, 90))
		return sol_opts[rn(w, sizeof(sol_opts) / sizeof(sol_opts[0]))];
	return (int)rn(w, 100);
}

/* Each one time in four: the buffer or the length pointer made bad. */
static void bad_ptrs(struct worker *w, void **vp, void **lp)
{
	if (chance(w, 4))
		*vp = bad_ptr(w);
	if (chance(w, 4))
		*lp = bad_ptr(w);
}

static long do_getsockopt(struct worker *w, int fd)
{
	char val[256];
	socklen_t len = rand_len(w, 4 + rn(w, 2) * 8);
	void *vp = val, *lp = &len;
	long ret;

	if (len > sizeof(val))
		len = sizeof(val);
	bad_ptrs(w, &vp, &lp);
	ret = getsockopt(fd, rand_level(w), rand_opt(w), vp, lp);
	if (ret == 0 && vp == val && len > sizeof(val))
		return -2;	/* kernel reported more than it may have written */
	return ret;
}

static long do_setsockopt(struct worker *w, int fd)
{
	union {
		int i;
		struct timeval tv;
		struct linger l;
		char raw[64];
	} v;
	int opt = rand_opt(w), level = rand_level(w);
	socklen_t len = sizeof(int);
	void *vp = &v;

	memset(&v, 0, sizeof(v));
	switch (rn(w, 4)) {
	case 0:
		v.i = 0;
		break;
	case 1:
		v.i = (int)rnd(w);
		break;
	case 2:
		v.i = 1 << rn(w, 31);
		break;
	default:
		v.i = (int)rn(w, 65536);
		break;
	}
	if (level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO)) {
		/* never 0 (infinite): other threads rely on bounded blocking */
		v.tv.tv_sec = 0;
		v.tv.tv_usec = 1 + rn(w, 50000);
		len = sizeof(v.tv);
		if (chance(w, 5))
			len = rn(w, sizeof(v.tv));
	} else if (opt == SO_LINGER) {
		v.l.l_onoff = (int)rn(w, 2);
		v.l.l_linger = (int)rn(w, 2);	/* never long */
		len = sizeof(v.l);
	} else if (chance(w, 10)) {
		len = rand_len(w, sizeof(int));
		if (len > sizeof(v))
			len = sizeof(v);
	}
	if (chance(w, 4))
		vp = bad_ptr(w);
	return setsockopt(fd, level, opt, vp, len);
}

static long do_ioctl(struct worker *w, int fd)
{
	static const unsigned long cmds[] = {
		FIONREAD, SIOCOUTQ, FIONBIO, SIOCATMARK, SIOCGSTAMP_OLD,
		SIOCOUTQNSD, SIOCGIFINDEX, SIOCGIFNAME, FIOASYNC, SIOCSPGRP,
		SIOCGPGRP, FIOCLEX, SIOCGIFCONF,
	};
	char buf[128];
	unsigned long cmd;
	void *arg = buf;

	memset(buf, 0, sizeof(buf));
	if (chance(w, 10))
		cmd = (unsigned long)(uint32_t)rnd(w);
	else
		cmd = cmds[rn(w, sizeof(cmds) / sizeof(cmds[0]))];
	if (cmd == FIONBIO || cmd == FIOASYNC)
		*(int *)buf = (int)rn(w, 2);
	if (cmd == SIOCSPGRP)	/* own pid: no signals to others */
		*(int *)buf = (int)getpid();
	if (chance(w, 5))
		arg = bad_ptr(w);
	return ioctl(fd, cmd, arg);
}

static long do_name(struct worker *w, int fd)
{
	struct {
		struct sockaddr_toy a;
		char pad[64];
	} u;
	socklen_t len = rand_len(w, sizeof(u.a));
	void *ap = &u, *lp = &len;

	if (len > sizeof(u))
		len = sizeof(u);
	bad_ptrs(w, &ap, &lp);
	if (chance(w, 50))
		return getsockname(fd, ap, lp);
	return getpeername(fd, ap, lp);
}

static long do_fcntl(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return fl;
	return fcntl(fd, F_SETFL, fl ^ O_NONBLOCK);
}

static long do_proc(struct worker *w)
{
	static const char * const files[] = { "/proc/net/toy", "/proc/net/toy_stat" };
	char buf[4096];
	long total = 0, n;
	int fd = open(files[rn(w, 2)], O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, 1 + rn(w, sizeof(buf)))) > 0)
		total += n;
	close(fd);
	return total;
}

#endif /* TOY_FUZZ_OPS_H */

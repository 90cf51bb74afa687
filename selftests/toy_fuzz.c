// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY fuzzer (issue 7): several processes, each with several threads,
 * issue random, seeded sequences of every AF_TOY call on all three socket
 * types -- socket/socketpair/bind/listen/connect/accept/send/recv/splice,
 * shutdown/close/poll/epoll/getsockopt/setsockopt/ioctl/fcntl/dup,
 * getsockname/getpeername, /proc/net/toy reads -- with bad pointers, bad
 * lengths and odd flags, while other threads close the same descriptors
 * (a thread may be blocked in accept/connect/recv/send on it), signals
 * interrupt blocking calls, fork() shares sockets with a child and children
 * or threads move to a fresh network namespace (unshare(CLONE_NEWNET)).
 *
 * Every thread's op sequence is a pure function of (seed, process, thread),
 * so a failure can be replayed with the same TOY_FUZZ_SEED (interleavings
 * still vary).  Bounded in operation count and wall time.
 *
 * Environment:
 *   TOY_FUZZ_SEED      seed (default 1)
 *   TOY_FUZZ_OPS       total operations (default 30000)
 *   TOY_FUZZ_SECS      wall-clock budget in seconds (default 40)
 *   TOY_FUZZ_PROCS     worker processes (default 2)
 *   TOY_FUZZ_THREADS   threads per process (default 4)
 *   TOY_FUZZ_FAILSLAB  if set (percent, e.g. 5): arm failslab from debugfs
 *                      for the fuzzer's tasks only (task-filter +
 *                      make-it-fail) and, where the kernel has the stack
 *                      trace filter, only for allocations made with af_toy
 *                      code on the stack (TOY_FUZZ_FAILSLAB_ALL=1: every
 *                      allocation); reports the injected-fault count
 *   TOY_FUZZ_VERBOSE   print every op of every thread (for replays)
 *
 * Only the kernel's health matters here (the VM runner fails on any splat,
 * the debug check on kmemleak reports); errors returned to the fuzzer are
 * counted, not asserted.  What is asserted: every worker finished (no task
 * stuck in the kernel), at least one op ran, and when every socket is
 * closed /proc/net/toy is empty again (no leaked socket).
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <time.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"

#define NSLOTS		48
#define MAX_THREADS	16
#define MAX_PROCS	16
#define BUFSZ		(70 * 1024)
#define PORT_BASE	40000
#define PORT_POOL	24

enum op {
	OP_SOCKET, OP_SOCKETPAIR, OP_BIND, OP_LISTEN, OP_CONNECT, OP_ACCEPT,
	OP_SEND, OP_SENDMSG, OP_RECV, OP_RECVMSG, OP_MMSG, OP_RW,
	OP_SHUTDOWN, OP_CLOSE, OP_POLL, OP_EPOLL, OP_GETSOCKOPT,
	OP_SETSOCKOPT, OP_IOCTL, OP_NAME, OP_FCNTL, OP_DUP, OP_PROC,
	OP_FORK, OP_NETNS, OP_FLOW, OP_SPLICE, OP_NR
};

static const char * const op_names[OP_NR] = {
	"socket", "socketpair", "bind", "listen", "connect", "accept",
	"send", "sendmsg", "recv", "recvmsg", "mmsg", "rw",
	"shutdown", "close", "poll", "epoll", "getsockopt",
	"setsockopt", "ioctl", "name", "fcntl", "dup", "proc",
	"fork", "netns", "flow", "splice",
};

/* relative weights */
static const int op_weight[OP_NR] = {
	[OP_SOCKET] = 10, [OP_SOCKETPAIR] = 3, [OP_BIND] = 8, [OP_LISTEN] = 6,
	[OP_CONNECT] = 10, [OP_ACCEPT] = 8, [OP_SEND] = 12, [OP_SENDMSG] = 6,
	[OP_RECV] = 10, [OP_RECVMSG] = 6, [OP_MMSG] = 2, [OP_RW] = 3,
	[OP_SHUTDOWN] = 4, [OP_CLOSE] = 9, [OP_POLL] = 4, [OP_EPOLL] = 2,
	[OP_GETSOCKOPT] = 5, [OP_SETSOCKOPT] = 5, [OP_IOCTL] = 3,
	[OP_NAME] = 3, [OP_FCNTL] = 2, [OP_DUP] = 2, [OP_PROC] = 1,
	[OP_FORK] = 1, [OP_NETNS] = 1, [OP_FLOW] = 5,
	[OP_SPLICE] = 2,
};

struct shared {
	long ops;			/* all processes, atomically updated */
	long op_count[OP_NR];
	long op_ok[OP_NR];
	long forks;
	long netns;
	long stop;			/* set by the parent at the deadline */
};

struct worker {
	uint64_t rng;
	int proc, id;
	long budget;
	pid_t tid;
	pthread_t thread;
	volatile int done;
	char *buf;
	pid_t kids[8];
	int nkids;
};

static struct shared *shm;
static int slots[NSLOTS];
static char *guard;		/* page after a valid page, PROT_NONE */
static char *valid_page;
static double deadline;
static int verbose;
static struct worker workers[MAX_THREADS];
static int nthreads;
static uint32_t lports[16];	/* ports that listen() succeeded on */
static int init_netns = -1;	/* to setns() back from a fresh netns */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

/* ---- randomness ---------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct worker *w)
{
	return splitmix(&w->rng);
}

static unsigned int rn(struct worker *w, unsigned int n)
{
	return n ? (unsigned int)(rnd(w) % n) : 0;
}

static bool chance(struct worker *w, unsigned int pct)
{
	return rn(w, 100) < pct;
}

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
	case 3:
		return TOY_EPHEMERAL_LO + rn(w, 64);
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

/* ---- descriptor slots ---------------------------------------------------- */

static int slot_get(struct worker *w)
{
	if (chance(w, 1))
		return chance(w, 50) ? -1 : 100000;
	return __atomic_load_n(&slots[rn(w, NSLOTS)], __ATOMIC_RELAXED);
}

/* Put a new fd into a slot; whatever was there is closed. */
static void slot_put(struct worker *w, int fd)
{
	int old = __atomic_exchange_n(&slots[rn(w, NSLOTS)], fd, __ATOMIC_ACQ_REL);

	if (old >= 0)
		close(old);
}

static void set_timeouts(struct worker *w, int fd)
{
	long us = 1000 + rn(w, 60000);

	toy_set_timeo(fd, SO_RCVTIMEO, us);
	toy_set_timeo(fd, SO_SNDTIMEO, us);
}

static void new_fd(struct worker *w, int fd)
{
	if (fd < 0)
		return;
	set_timeouts(w, fd);
	slot_put(w, fd);
}

/* ---- operations ---------------------------------------------------------- */

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

static long do_getsockopt(struct worker *w, int fd)
{
	char val[256];
	socklen_t len = rand_len(w, 4 + rn(w, 2) * 8);
	void *vp = val, *lp = &len;
	long ret;

	if (len > sizeof(val))
		len = sizeof(val);
	if (chance(w, 4))
		vp = bad_ptr(w);
	if (chance(w, 4))
		lp = bad_ptr(w);
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
	if (chance(w, 4))
		ap = bad_ptr(w);
	if (chance(w, 4))
		lp = bad_ptr(w);
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

static long run_one(struct worker *w, int op, bool in_child);

/* splice()/sendfile() between a socket and a pipe, both directions. */
static long do_splice(struct worker *w, int fd)
{
	int p[2];
	long ret;
	size_t len = rand_size(w);
	unsigned int fl = SPLICE_F_NONBLOCK | (chance(w, 30) ? SPLICE_F_MORE : 0);

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -1;
	if (chance(w, 50)) {
		ret = splice(fd, NULL, p[1], NULL, len, fl);
	} else {
		if (write(p[1], w->buf, 1 + rn(w, 4096)) < 0)
			(void)0;
		if (chance(w, 50))
			ret = splice(p[0], NULL, fd, NULL, len, fl);
		else
			ret = sendfile(fd, p[0], NULL, len);
	}
	close(p[0]);
	close(p[1]);
	return ret;
}

/*
 * A well-formed connection (listener, connect, accept, a little data) so
 * that the random calls find sockets in every state; all three ends go to
 * slots, where other threads close and use them.
 */
static long do_flow(struct worker *w)
{
	int type = chance(w, 50) ? SOCK_STREAM : SOCK_SEQPACKET;
	int l, c, s = -1;
	uint32_t port;

	l = toy_listener_backlog(type, 1 + (int)rn(w, 4), &port);
	if (l < 0)
		return -1;
	__atomic_store_n(&lports[rn(w, 16)], port, __ATOMIC_RELAXED);
	c = socket(AF_TOY, type | SOCK_NONBLOCK, 0);
	if (c >= 0 && toy_connect(c, port) == 0) {
		s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (s >= 0 && chance(w, 70))
			send(c, w->buf, 1 + rn(w, 3000), MSG_DONTWAIT);
		if (s >= 0 && chance(w, 30))
			send(s, w->buf, 1 + rn(w, 3000), MSG_DONTWAIT);
	}
	if (c >= 0 && chance(w, 50))
		toy_set_nonblock(c, false);
	new_fd(w, l);
	new_fd(w, c);
	new_fd(w, s);
	return s >= 0 ? 0 : -1;
}

/* A child sharing all of our sockets runs a short sequence, then exits. */
static long do_fork(struct worker *w, bool netns)
{
	pid_t pid;
	int i;

	while (w->nkids > 0 && waitpid(w->kids[w->nkids - 1], NULL, WNOHANG) > 0)
		w->nkids--;
	if (w->nkids >= (int)(sizeof(w->kids) / sizeof(w->kids[0])))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int n = 10 + (int)rn(w, 60);

		alarm(30);	/* hard bound; SIGALRM kills */
		if (netns && unshare(CLONE_NEWNET) == 0)
			__atomic_fetch_add(&shm->netns, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n && !__atomic_load_n(&shm->stop, __ATOMIC_RELAXED); i++) {
			int op;

			do
				op = (int)rn(w, OP_NR);
			while (op == OP_FORK || op == OP_NETNS);
			run_one(w, op, true);
		}
		_exit(0);	/* closes everything it held, maybe last refs */
	}
	__atomic_fetch_add(&shm->forks, 1, __ATOMIC_RELAXED);
	w->kids[w->nkids++] = pid;
	return 0;
}

static long do_netns(struct worker *w)
{
	/* a child in a fresh netns, sharing our sockets */
	if (chance(w, 60))
		return do_fork(w, true);
	/* or this thread moves back to the initial netns ... */
	if (chance(w, 50))
		return setns(init_netns, CLONE_NEWNET);
	/* ... or to a fresh one; others keep using its sockets */
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	__atomic_fetch_add(&shm->netns, 1, __ATOMIC_RELAXED);
	return 0;
}

static long run_one(struct worker *w, int op, bool in_child)
{
	int fd = slot_get(w), sv[2], type;
	long ret = -1;

	if (verbose)
		fprintf(stderr, "# p%d t%d %s fd %d\n", w->proc, w->id, op_names[op], fd);
	switch (op) {
	case OP_SOCKET:
		type = rand_type(w);
		if (chance(w, 30))
			type |= SOCK_NONBLOCK;
		if (chance(w, 30))
			type |= SOCK_CLOEXEC;
		ret = socket(chance(w, 98) ? AF_TOY : (int)rn(w, 64), type,
			     chance(w, 97) ? 0 : (int)rn(w, 300));
		new_fd(w, (int)ret);
		break;
	case OP_SOCKETPAIR:
		type = rand_type(w);
		if (chance(w, 3))
			ret = socketpair(AF_TOY, type, 0, bad_ptr(w));
		else if ((ret = socketpair(AF_TOY, type, chance(w, 97) ? 0 : 1, sv)) == 0) {
			new_fd(w, sv[0]);
			new_fd(w, sv[1]);
		}
		break;
	case OP_BIND:
	case OP_CONNECT:
		ret = do_addr_call(w, fd, op);
		break;
	case OP_LISTEN: {
		static const int backlogs[] = { -1, 0, 1, 2, 5, 128, 1 << 20, INT32_MAX, INT32_MIN };

		ret = listen(fd, backlogs[rn(w, sizeof(backlogs) / sizeof(backlogs[0]))]);
		if (ret == 0) {
			long p = toy_port(fd);

			if (p > 0)
				__atomic_store_n(&lports[rn(w, 16)], (uint32_t)p,
						 __ATOMIC_RELAXED);
		}
		break;
	}
	case OP_ACCEPT:
		ret = do_accept(w, fd);
		break;
	case OP_SEND:
		ret = do_send(w, fd);
		break;
	case OP_SENDMSG:
		ret = do_sendmsg(w, fd, false);
		break;
	case OP_RECV:
		ret = do_recv(w, fd);
		break;
	case OP_RECVMSG:
		ret = do_sendmsg(w, fd, true);
		break;
	case OP_MMSG:
		ret = do_mmsg(w, fd);
		break;
	case OP_RW:
		ret = do_rw(w, fd);
		break;
	case OP_SHUTDOWN:
		ret = shutdown(fd, chance(w, 95) ? (int)rn(w, 3) : (int)rnd(w));
		break;
	case OP_CLOSE: {
		int old = __atomic_exchange_n(&slots[rn(w, NSLOTS)], -1, __ATOMIC_ACQ_REL);

		ret = old >= 0 ? close(old) : 0;
		break;
	}
	case OP_POLL:
		ret = do_poll(w);
		break;
	case OP_EPOLL:
		ret = do_epoll(w);
		break;
	case OP_GETSOCKOPT:
		ret = do_getsockopt(w, fd);
		break;
	case OP_SETSOCKOPT:
		ret = do_setsockopt(w, fd);
		break;
	case OP_IOCTL:
		ret = do_ioctl(w, fd);
		break;
	case OP_NAME:
		ret = do_name(w, fd);
		break;
	case OP_FCNTL:
		ret = do_fcntl(fd);
		break;
	case OP_DUP:
		ret = fd >= 0 ? dup(fd) : -1;
		if (ret >= 0)
			slot_put(w, (int)ret);
		break;
	case OP_PROC:
		ret = do_proc(w);
		break;
	case OP_FORK:
		ret = in_child ? -1 : do_fork(w, false);
		break;
	case OP_NETNS:
		ret = in_child ? -1 : do_netns(w);
		break;
	case OP_FLOW:
		ret = do_flow(w);
		break;
	case OP_SPLICE:
		ret = do_splice(w, fd);
		break;
	}
	__atomic_fetch_add(&shm->ops, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&shm->op_count[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		__atomic_fetch_add(&shm->op_ok[op], 1, __ATOMIC_RELAXED);
	return ret;
}

static int pick_op(struct worker *w)
{
	static int total;
	int i, r;

	if (!total)
		for (i = 0; i < OP_NR; i++)
			total += op_weight[i];
	r = (int)rn(w, (unsigned int)total);
	for (i = 0; i < OP_NR; i++) {
		r -= op_weight[i];
		if (r < 0)
			return i;
	}
	return OP_SOCKET;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	long i;

	w->tid = (pid_t)syscall(SYS_gettid);
	for (i = 0; i < w->budget; i++) {
		if (__atomic_load_n(&shm->stop, __ATOMIC_RELAXED) || now() > deadline)
			break;
		run_one(w, pick_op(w), false);
	}
	while (w->nkids > 0)
		waitpid(w->kids[--w->nkids], NULL, 0);
	w->done = 1;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Print where a thread that did not finish sits in the kernel. */
static void dump_task(pid_t pid, pid_t tid)
{
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		fprintf(stderr, "# stuck task %d/%d kernel stack:\n%s", pid, tid, buf);
	}
}

/* One worker process: nthreads threads + a signal thread (this one). */
static int proc_main(int proc, uint64_t seed, long budget)
{
	struct sigaction sa;
	void *region;
	int i, stuck = 0;
	double hard;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART: blocking calls get EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Random fcntl(O_ASYNC)/ioctl(FIOASYNC, FIOSETOWN) calls legitimately
	 * arm SIGIO, whose default action would kill the worker.
	 */
	signal(SIGIO, SIG_IGN);
	region = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 2;
	valid_page = region;
	guard = valid_page + 4096;
	mprotect(guard, 4096, PROT_NONE);
	for (i = 0; i < NSLOTS; i++)
		slots[i] = -1;
	init_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	for (i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		uint64_t s = seed ^ ((uint64_t)proc << 32) ^ (uint64_t)(i + 1) * 0x1000193;

		memset(w, 0, sizeof(*w));
		w->rng = splitmix(&s);
		w->proc = proc;
		w->id = i;
		w->budget = budget / nthreads;
		w->buf = malloc(BUFSZ);
		if (!w->buf)
			return 2;
		memset(w->buf, 'a' + i, BUFSZ);
	}
	for (i = 0; i < nthreads; i++) {
		int tries = 0;

		/* failslab may fail the clone: retry a while */
		while (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) &&
		       ++tries < 1000)
			usleep(1000);
		if (tries >= 1000)
			workers[i].done = 2;
	}
	/* signal thread: interrupt blocked calls now and then */
	hard = deadline + 60;
	for (;;) {
		int alive = 0;

		for (i = 0; i < nthreads; i++) {
			if (workers[i].done)
				continue;
			alive++;
			if (workers[i].tid && (now() > deadline || rn(&workers[0], 4) == 0))
				pthread_kill(workers[i].thread, SIGUSR1);
		}
		if (!alive || now() > hard)
			break;
		usleep(now() > deadline ? 2000 : 20000);
	}
	for (i = 0; i < nthreads; i++) {
		if (workers[i].done == 1) {
			pthread_join(workers[i].thread, NULL);
		} else if (workers[i].done == 0) {
			fprintf(stderr, "# process %d thread %d did not finish\n", proc, i);
			dump_task(getpid(), workers[i].tid);
			stuck++;
		}
	}
	if (stuck)
		return 3;
	for (i = 0; i < NSLOTS; i++)
		if (slots[i] >= 0)
			close(slots[i]);
	return 0;
}

/* ---- failslab ------------------------------------------------------------ */

#define FAILSLAB "/sys/kernel/debug/failslab/"
#define FAIL_TIMES 100000000L

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

static long read_long(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/*
 * Restrict injection to allocations with af_toy code on the stack (needs
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): the module's address range
 * from /proc/modules.  Returns true if the filter is set.
 */
static bool failslab_filter_module(void)
{
	unsigned long size, addr;
	char line[256], buf[32];
	bool ok = false;
	FILE *f;

	if (getenv("TOY_FUZZ_FAILSLAB_ALL") || access(FAILSLAB "require-start", W_OK))
		return false;
	f = fopen("/proc/modules", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "af_toy ", 7) ||
		    sscanf(line, "af_toy %lu %*s %*s %*s 0x%lx", &size, &addr) != 2 || !addr)
			continue;
		snprintf(buf, sizeof(buf), "0x%lx", addr);
		ok = !write_str(FAILSLAB "require-start", buf);
		snprintf(buf, sizeof(buf), "0x%lx", addr + size);
		ok = ok && !write_str(FAILSLAB "require-end", buf);
		ok = ok && !write_str(FAILSLAB "stacktrace-depth", "32");
	}
	fclose(f);
	return ok;
}

static bool failslab_filtered;

static bool failslab_arm(long pct)
{
	char v[32];

	if (access(FAILSLAB "probability", W_OK))
		return false;
	failslab_filtered = failslab_filter_module();
	snprintf(v, sizeof(v), "%ld", pct);
	snprintf(v + 16, 16, "%ld", FAIL_TIMES);
	return !write_str(FAILSLAB "task-filter", "Y") &&
	       !write_str(FAILSLAB "ignore-gfp-wait", "N") &&
	       !write_str(FAILSLAB "verbose", "0") &&
	       !write_str(FAILSLAB "interval", "1") &&
	       !write_str(FAILSLAB "space", "0") &&
	       !write_str(FAILSLAB "times", v + 16) &&
	       !write_str(FAILSLAB "probability", v) &&
	       !write_str("/proc/self/make-it-fail", "1");
}

static long failslab_disarm(void)
{
	long left = read_long(FAILSLAB "times");

	write_str("/proc/self/make-it-fail", "0");
	write_str(FAILSLAB "probability", "0");
	write_str(FAILSLAB "times", "1");
	write_str(FAILSLAB "require-start", "0");
	write_str(FAILSLAB "require-end", "0");
	return left < 0 ? -1 : FAIL_TIMES - left;
}

/* ---- the test -------------------------------------------------------------- */

static int wait_proc_empty(void)
{
	int i, n = -1;

	for (i = 0; i < 2000; i++) {
		n = proc_count();
		if (n == 0)
			return 0;
		usleep(5000);
	}
	return n;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, toy_ensure_module());
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* the fuzzer bounds itself (TOY_FUZZ_SECS); this is only a backstop */
TEST_F_TIMEOUT(fuzz, random_ops, 3600)
{
	uint64_t seed = (uint64_t)env_long("TOY_FUZZ_SEED", 1);
	long ops = env_long("TOY_FUZZ_OPS", 30000);
	long secs = env_long("TOY_FUZZ_SECS", 40);
	long fail_pct = env_long("TOY_FUZZ_FAILSLAB", 0);
	int nprocs = (int)env_long("TOY_FUZZ_PROCS", 2), i, bad = 0, left;
	pid_t pids[MAX_PROCS];
	bool armed = false;
	long injected = -1;
	double start, hard;

	verbose = getenv("TOY_FUZZ_VERBOSE") != NULL;
	nthreads = (int)env_long("TOY_FUZZ_THREADS", 4);
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	if (nprocs < 1 || nprocs > MAX_PROCS)
		nprocs = 2;
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shm);
	memset(shm, 0, sizeof(*shm));

	ksft_print_msg("fuzz: seed %llu, budget %ld ops / %ld s, %d procs x %d threads\n",
		       (unsigned long long)seed, ops, secs, nprocs, nthreads);
	if (fail_pct > 0) {
		armed = failslab_arm(fail_pct);
		ksft_print_msg("fuzz: failslab %s (probability %ld%%, fuzzer tasks only, %s)\n",
			       armed ? "armed" : "NOT available", fail_pct,
			       failslab_filtered ? "only allocations from af_toy code" :
			       "every allocation");
	}
	start = now();
	deadline = start + secs;
	hard = deadline + 120;
	for (i = 0; i < nprocs; i++) {
		int tries = 0;

		do
			pids[i] = fork();
		while (pids[i] < 0 && ++tries < 1000 && !usleep(1000));
		if (pids[i] == 0)
			_exit(proc_main(i, seed, ops / nprocs));
		if (pids[i] < 0) {
			ksft_print_msg("fuzz: fork failed: %s\n", strerror(errno));
			bad++;
		}
	}
	left = nprocs;
	while (left > 0) {
		for (i = 0; i < nprocs; i++) {
			int st;

			if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i])
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				ksft_print_msg("fuzz: process %d: %s %d\n", i,
					       WIFEXITED(st) ? "exit" : "signal",
					       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				bad++;
			}
			pids[i] = 0;
		}
		left = 0;
		for (i = 0; i < nprocs; i++)
			left += pids[i] > 0;
		if (left && now() > hard) {
			ksft_print_msg("fuzz: %d processes still running at the hard limit\n", left);
			__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);
			for (i = 0; i < nprocs; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			bad += left;
			break;
		}
		usleep(20000);
	}
	if (armed)
		injected = failslab_disarm();

	ksft_print_msg("fuzz: %ld operations in %.1f s (%d procs x %d threads, seed %llu), %ld forks, %ld netns\n",
		       shm->ops, now() - start, nprocs, nthreads,
		       (unsigned long long)seed, shm->forks, shm->netns);
	for (i = 0; i < OP_NR; i++)
		ksft_print_msg("fuzz:   %-10s %8ld calls %8ld succeeded\n", op_names[i],
			       shm->op_count[i], shm->op_ok[i]);
	if (armed)
		ksft_print_msg("fuzz: failslab injected faults: %ld\n", injected);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, shm->ops);
	/* everything closed: no socket may linger */
	EXPECT_EQ(0, wait_proc_empty());
}

TEST_HARNESS_MAIN

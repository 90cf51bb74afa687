/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the af_toy selftests (toy_*.c).
 *
 * Conventions:
 * - Helpers return -1 (with errno set where a syscall failed) on error and
 *   never abort, so they can be used both in a TEST() body (wrap them in
 *   ASSERT_*) and in forked helper processes (use CHILD_CHECK there: the
 *   harness' ASSERT_* must not be used after fork() in a child process).
 * - No timing assertions: waiting helpers poll with a bounded number of
 *   retries and only report "reached" or "not reached".
 *
 * What the tools need too (loading the module, /proc/net/toy, sock_diag,
 * the kernel log, lo, MemAvailable...) is in userspace/toy_util.h, linked
 * into every test; this file holds what only the selftests use.
 */
#ifndef TOY_COMMON_H
#define TOY_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/toy.h>

#include "toy_util.h"

#define TOY_PROC_HEADER "Inode Type State LocalPort PeerPort RecvQ SendQ Uid"
#define TOY_MODULE_PATH "/af_toy.ko"
/* Writes @val to /proc/sys/@name (one write(), as sysctl -w): 0 or -1. */
static inline int toy_write_sysctl(const char *name, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * AF_TOY's ephemeral ports: the calling task's netns's
 * net.ipv4.ip_local_port_range (its default, 32768-60999, if unreadable).
 */
static inline long toy_ephemeral(bool hi)
{
	long lo = 32768, h = 60999;
	int e = errno;	/* a TH_LOG() of the call before may print it */
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &lo, &h) != 2) {
			lo = 32768;
			h = 60999;
		}
		fclose(f);
	}
	errno = e;
	return hi ? h : lo;
}

#define TOY_EPHEMERAL_LO toy_ephemeral(false)
#define TOY_EPHEMERAL_HI toy_ephemeral(true)

/* Bounded polling: TOY_WAIT_TRIES * TOY_WAIT_USEC (about 10 s). */
#define TOY_WAIT_TRIES 10000
#define TOY_WAIT_USEC 1000

#define TOY_UNUSED __attribute__((unused))

/*
 * In a forked helper process: on failure print where and why, then exit
 * with a non-zero status that the parent asserts on (wait_child()).
 */
#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: check failed: %s "	\
			"(errno %d %s)\n", (int)getpid(), __FILE__,	\
			__LINE__, #cond, errno, strerror(errno));	\
		_exit(100);						\
	}								\
} while (0)

/*
 * EXPECT_ERRNO(E, call) / ASSERT_ERRNO(E, call): call must fail, i.e.
 * return -1 with errno == E.  On failure both the return value and errno
 * are logged; like the harness' own EXPECT_*() / ASSERT_*() they take an
 * optional TH_LOG() after them.  Only in a TEST() body (they use the
 * harness' _metadata); in a forked child use CHILD_CHECK_ERRNO().
 */
#define __TOY_ERRNO(_errno, _call, _assert) do {			\
	int __want = (_errno), __err;					\
	long __ret;							\
									\
	errno = 0;							\
	__ret = (long)(_call);						\
	__err = errno;							\
	if (__ret != -1 || __err != __want) {				\
		__TH_LOG("%s: expected -1 with errno %d (%s), "		\
			 "got %ld with errno %d (%s)", #_call, __want,	\
			 strerror(__want), __ret, __err,		\
			 strerror(__err));				\
		_metadata->exit_code = KSFT_FAIL;			\
		_metadata->trigger = 1;					\
	}								\
} while (0); OPTIONAL_HANDLER(_assert)

#define EXPECT_ERRNO(_errno, _call) __TOY_ERRNO(_errno, _call, 0)
#define ASSERT_ERRNO(_errno, _call) __TOY_ERRNO(_errno, _call, 1)

/* CHILD_CHECK() of "call fails with errno E", for forked helpers. */
#define CHILD_CHECK_ERRNO(_errno, _call) do {				\
	errno = 0;							\
	CHILD_CHECK((_call) == -1 && errno == (_errno));		\
} while (0)

/* ---- addresses and sockets ---------------------------------------- */

static inline int toy_socket(int type)
{
	return socket(AF_TOY, type, 0);
}

static inline int toy_bind(int fd, uint32_t port)
{
	struct sockaddr_toy a = toy_addr(port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static inline int toy_connect(int fd, uint32_t port)
{
	struct sockaddr_toy a = toy_addr(port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

/* The port of getsockname() or getpeername() (get) of fd, or -1. */
static inline long toy_name_port(int fd, int (*get)(int, struct sockaddr *,
						     socklen_t *))
{
	struct sockaddr_toy a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (get(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	return a.stoy_port;
}

/* getsockname() of fd into *a (0xff-filled first): its length, or -1. */
static inline int toy_sockname(int fd, struct sockaddr_toy *a)
{
	socklen_t len = sizeof(*a);

	memset(a, 0xff, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)a, &len) < 0)
		return -1;
	return (int)len;
}

/* Local port of fd (getsockname), or -1. */
static inline long toy_port(int fd)
{
	return toy_name_port(fd, getsockname);
}

/* Peer port of fd (getpeername), or -1. */
static inline long toy_peer_port(int fd)
{
	return toy_name_port(fd, getpeername);
}

/*
 * socket(type) bound to bind_port (0 = ephemeral), no listen(): what a
 * DGRAM socket needs to be reachable.  Returns the fd and stores the bound
 * port in *port (if port != NULL), or -1.
 */
static inline int toy_bound_port(int type, uint32_t bind_port, uint32_t *port)
{
	int fd, saved;
	long p;

	fd = toy_socket(type);
	if (fd < 0)
		return -1;
	if (toy_bind(fd, bind_port) < 0)
		goto fail;
	p = toy_port(fd);
	if (p < 0)
		goto fail;
	if (port)
		*port = (uint32_t)p;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static inline int toy_bound(int type, uint32_t *port)
{
	return toy_bound_port(type, 0, port);
}

/*
 * toy_bound_port() + listen(backlog), for STREAM and SEQPACKET.  DGRAM has
 * no listen(): for it this is toy_bound_port() (for callers that loop over
 * every type, like toy_fuzz.c); a DGRAM test calls toy_bound() itself.
 */
static inline int toy_listener_port(int type, uint32_t bind_port, int backlog,
				    uint32_t *port)
{
	int fd, saved;

	fd = toy_bound_port(type, bind_port, port);
	if (fd < 0 || type == SOCK_DGRAM || listen(fd, backlog) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static inline int toy_listener_backlog(int type, int backlog, uint32_t *port)
{
	return toy_listener_port(type, 0, backlog, port);
}

static inline int toy_listener(int type, uint32_t *port)
{
	return toy_listener_port(type, 0, 16, port);
}

/*
 * Binds @fd (AF_TOY or AF_UNIX) to a name the kernel picks (port 0,
 * autobind) and puts that name in @a/@alen; @fd, or -1.
 */
static inline int sock_autoname(int fd, struct sockaddr_storage *a,
				socklen_t *alen)
{
	socklen_t dlen = sizeof(int), blen = sizeof(sa_family_t);
	int domain;

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen))
		return -1;
	memset(a, 0, sizeof(*a));
	a->ss_family = domain;
	if (domain == AF_TOY)
		blen = sizeof(struct sockaddr_toy);
	*alen = sizeof(*a);
	if (bind(fd, (struct sockaddr *)a, blen) ||
	    getsockname(fd, (struct sockaddr *)a, alen))
		return -1;
	return fd;
}

/*
 * Lets this process open at least @want files, raising the hard limit too
 * where it is lower (root may): 0, or -1 when the limit stays below @want.
 */
static inline int toy_raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* close() each of the n fds that is open (>= 0). */
static inline void toy_close_fds(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* toy_close_all(fd, ...): toy_close_fds() of the fds listed. */
#define toy_close_all(...)						\
	toy_close_fds((const int[]){ __VA_ARGS__ },			\
		      sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

/* Close *fd if open and mark it closed (-1). */
static inline void toy_close(int *fd)
{
	toy_close_all(*fd);
	*fd = -1;
}

/* Close *a and *b (those open) and mark them closed (-1). */
static inline void toy_close_pair(int *a, int *b)
{
	toy_close(a);
	toy_close(b);
}

/*
 * A STREAM listener (of backlog) whose queue toy_fill_backlog() filled:
 * the n (at least one, at most max) pending connects in fds.  Returns the
 * listener, or -1.
 */
static inline int toy_full_listener(int backlog, uint32_t *port, int *fds,
				    int max, int *n)
{
	int l = toy_listener_backlog(SOCK_STREAM, backlog, port);

	if (l < 0)
		return -1;
	*n = toy_fill_backlog(*port, fds, max);
	if (*n > 0)
		return l;
	*n = 0;
	close(l);
	return -1;
}

/*
 * A connect() that may block (a full backlog) in a thread of its own:
 * toy_connect_start() starts it; after pthread_join(thread) ret and err
 * are what connect() returned and its errno.
 */
struct toy_blocked_connect {
	pthread_t thread;
	int fd;
	uint32_t port;
	int ret, err;
};

static inline void *toy_connect_thread(void *arg)
{
	struct toy_blocked_connect *bc = arg;

	bc->ret = toy_connect(bc->fd, bc->port);
	bc->err = errno;
	return NULL;
}

static inline int toy_connect_start(struct toy_blocked_connect *bc)
{
	return pthread_create(&bc->thread, NULL, toy_connect_thread, bc);
}

/*
 * A listener of type (its port in *port) and a socket *c connected to it,
 * not yet accepted: *l.  Returns 0, or -1 with nothing left open.
 */
static inline int toy_listen_connect(int type, int *l, int *c, uint32_t *port)
{
	int saved;

	*l = toy_listener(type, port);
	if (*l < 0)
		return -1;
	*c = toy_socket(type);
	if (*c >= 0 && toy_connect(*c, *port) == 0)
		return 0;
	saved = errno;
	if (*c >= 0)
		close(*c);
	close(*l);
	*l = *c = -1;
	errno = saved;
	return -1;
}

/*
 * A connected pair made the real way: listener, connect, accept.
 * *a = the connecting (client) side, *b = the accepted (server) side.
 * The listener is closed again.  Returns 0 or -1.
 */
static inline int toy_connect_pair(int type, int *a, int *b)
{
	uint32_t port;
	int l, saved;

	if (toy_listen_connect(type, &l, a, &port) < 0)
		return -1;
	*b = accept(l, NULL, NULL);
	saved = errno;
	close(l);
	if (*b >= 0)
		return 0;
	close(*a);
	*a = -1;
	errno = saved;
	return -1;
}

/*
 * recvmsg() into one buffer: the length read; msg_flags into *msg_flags
 * and, if from is given, the sender's port (~0 without a valid address).
 */
static inline ssize_t toy_recvmsg(int fd, void *buf, size_t len, int flags,
				  int *msg_flags, uint32_t *from)
{
	struct sockaddr_toy a;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (from) {
		memset(&a, 0xee, sizeof(a));
		msg.msg_name = &a;
		msg.msg_namelen = sizeof(a);
	}
	n = recvmsg(fd, &msg, flags);
	if (msg_flags)
		*msg_flags = msg.msg_flags;
	if (from) {
		if (n >= 0 && msg.msg_namelen == sizeof(a) &&
		    a.stoy_family == AF_TOY && a.stoy_reserved == 0)
			*from = a.stoy_port;
		else
			*from = ~0u;
	}
	return n;
}

/*
 * TOY_PAIR_FIXTURE(name, type), at file scope after kselftest_harness.h:
 * a fixture whose self->a (connecting side) and self->b (accepted side)
 * are a toy_connect_pair() of type, closed at teardown unless a test
 * marked them closed (-1).
 */
#define TOY_PAIR_FIXTURE(name, type)					\
FIXTURE(name)								\
{									\
	int a, b;							\
};									\
									\
FIXTURE_SETUP(name)							\
{									\
	self->a = self->b = -1;						\
	ASSERT_EQ(0, toy_connect_pair(type, &self->a, &self->b));	\
}									\
									\
FIXTURE_TEARDOWN(name)							\
{									\
	toy_close_all(self->a, self->b);				\
}

/* Load /af_toy.ko (finit_module) if the family is not registered. */
static inline int toy_ensure_module(void)
{
	if (toy_family_available())
		return 0;
	if (toy_module_load(TOY_MODULE_PATH, "") < 0 && errno != EEXIST)
		return -1;
	return toy_family_available() ? 0 : -1;
}

/*
 * Set-up of a test binary whose tests need AF_TOY, from a constructor of
 * the test file (main() is TEST_HARNESS_MAIN): optionally ignore SIGPIPE
 * (the tests check EPIPE instead), and load the module if the runner did
 * not.  A module that cannot be loaded is only a warning here: the tests
 * then fail on their own.
 */
static inline void toy_selftest_init(bool ignore_sigpipe)
{
	if (ignore_sigpipe)
		signal(SIGPIPE, SIG_IGN);
	if (toy_ensure_module() < 0)
		fprintf(stderr, "# warning: AF_TOY not available: %s\n",
			strerror(errno));
}

/* At file scope: toy_selftest_init(ignore_sigpipe) in a constructor. */
#define TOY_SELFTEST_INIT(ignore_sigpipe)				\
static void __attribute__((constructor)) toy_selftest_setup(void)	\
{									\
	toy_selftest_init(ignore_sigpipe);				\
}

static inline int toy_getsockopt_int(int fd, int level, int opt)
{
	int val = -1;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, level, opt, &val, &len) < 0)
		return -1;
	return val;
}

static inline int toy_setsockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

static inline int toy_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

static inline int toy_set_timeo(int fd, int opt, long usec)
{
	struct timeval tv = {
		.tv_sec = usec / 1000000,
		.tv_usec = usec % 1000000,
	};

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* ---- /proc/net/toy (parsed by toy_util's toy_proc_foreach) ---------- */

static inline unsigned long toy_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return st.st_ino;
}

/* Read the header line of /proc/net/toy into buf (newline stripped). */
static inline int proc_net_toy_header(char *buf, size_t len)
{
	FILE *f = fopen(AF_TOY_PROC, "re");
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ret = 0;
	}
	fclose(f);
	return ret;
}

struct proc_line_ctx {
	unsigned long ino;
	char *buf;
};

static inline int proc_line_fn(const struct toy_proc_entry *e,
			       const char *line, void *arg)
{
	struct proc_line_ctx *c = arg;

	if (e->ino != c->ino)
		return 0;
	snprintf(c->buf, 256, "%s", line);
	return 1;
}

/*
 * Find the /proc/net/toy line whose first column is ino; copy it
 * (newline stripped) into buf (at least 256 bytes).  Returns 0 if found,
 * -1 otherwise.
 */
static inline int proc_net_toy_line(unsigned long ino, char *buf)
{
	struct proc_line_ctx c = { ino, buf };

	return toy_proc_foreach(proc_line_fn, &c) == 1 ? 0 : -1;
}

/* Parsed /proc/net/toy entry of socket fd.  0 or -1 (not listed). */
static inline int proc_entry(int fd, struct toy_proc_entry *e)
{
	char buf[256];
	unsigned long ino = toy_ino(fd);

	if (!ino || proc_net_toy_line(ino, buf) < 0)
		return -1;
	return toy_proc_parse(buf, e);
}

struct proc_find_ctx {
	const char *type;
	unsigned long lport, pport;
	struct toy_proc_entry *out;
};

static inline int proc_find_fn(const struct toy_proc_entry *e,
			       const char *line, void *arg)
{
	struct proc_find_ctx *c = arg;

	(void)line;
	if (strcmp(e->type, c->type) || e->lport != c->lport ||
	    (c->pport && e->pport != c->pport))
		return 0;
	*c->out = *e;
	return 1;
}

/*
 * Find an entry by type name ("STREAM"...), local and peer port (peer 0 =
 * any).  Used for sockets without an fd (children not yet accepted, orphans
 * after close).  Returns 0 or -1.
 */
static inline int proc_find(const char *type, unsigned long lport,
			    unsigned long pport, struct toy_proc_entry *out)
{
	struct proc_find_ctx c = { type, lport, pport, out };

	return toy_proc_foreach(proc_find_fn, &c) == 1 ? 0 : -1;
}

static inline int proc_count_fn(const struct toy_proc_entry *e,
				const char *line, void *arg)
{
	(void)e;
	(void)line;
	(*(int *)arg)++;
	return 0;
}

/* Number of socket lines in /proc/net/toy, or -1. */
static inline int proc_count(void)
{
	int n = 0;

	return toy_proc_foreach(proc_count_fn, &n) < 0 ? -1 : n;
}

/*
 * State column of fd's line, e.g. "ESTABLISHED"; "(none)" if fd is not
 * listed.  Returns a per-thread static buffer (valid until the next call).
 */
static inline const char *proc_state(int fd)
{
	static __thread char state[16];
	struct toy_proc_entry e;

	if (proc_entry(fd, &e) < 0)
		snprintf(state, sizeof(state), "(none)");
	else
		snprintf(state, sizeof(state), "%s", e.state);
	return state;
}

/* Poll /proc until fd's state is `state` (bounded).  0 = reached, -1 not. */
static inline int wait_proc_state(int fd, const char *state)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (!strcmp(proc_state(fd), state))
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* Same, for a socket found by type/ports (e.g. an orphan after close()). */
static inline int wait_proc_find_state(const char *type, unsigned long lport,
				       unsigned long pport, const char *state)
{
	struct toy_proc_entry e;
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_find(type, lport, pport, &e) == 0 &&
		    !strcmp(e.state, state))
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* Poll until no entry with type/lport/pport is listed (bounded). */
static inline int wait_proc_gone(const char *type, unsigned long lport,
				 unsigned long pport)
{
	struct toy_proc_entry e;
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_find(type, lport, pport, &e) < 0)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* Poll until fd's RecvQ column equals rq (bounded).  0 or -1. */
static inline int wait_proc_rq(int fd, unsigned long rq)
{
	struct toy_proc_entry e;
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_entry(fd, &e) == 0 && e.rq == rq)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* ---- I/O ------------------------------------------------------------ */

/* Read exactly len bytes unless EOF/error.  Returns bytes read or -1. */
static inline ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -1;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* Write all len bytes.  Returns len or -1. */
static inline ssize_t write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += n;
	}
	return done;
}

/* Poll one fd for events (bounded, ms); returns revents or -1. */
static inline int toy_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -1;
	return n ? p.revents : 0;
}

/* FNV-1a 64-bit: start with h = TOY_FNV_INIT, chain calls. */
#define TOY_FNV_INIT 0xcbf29ce484222325ULL
static inline uint64_t toy_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* xorshift64 PRNG (deterministic; seed != 0). */
static inline uint64_t toy_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Fill buf with the deterministic pattern for stream offset off. */
static inline void toy_pattern(void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((off + i) * 131 + ((off + i) >> 8));
}

/* ---- processes ------------------------------------------------------ */

/*
 * fork() for helper processes: the child gets an alarm so that a helper
 * stuck because of a bug can never outlive the test (and keep the test
 * output pipe open).
 */
#define TOY_CHILD_ALARM 120
static inline pid_t toy_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		alarm(TOY_CHILD_ALARM);
	return pid;
}

/*
 * In a TEST() body: if (TOY_FORK(pid)) { child...; _exit(0); } is
 * toy_fork() into pid, ASSERTed to have worked; true in the child.
 */
#define TOY_FORK(pid) ({						\
	(pid) = toy_fork();						\
	ASSERT_LE(0, (pid));						\
	(pid) == 0;							\
})

/*
 * Wait for pid; returns its exit status (0..255), 128 + signal if it was
 * killed, or -1 if waitpid failed.
 */
static inline int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Simple one-byte pipe barrier between processes. */
static inline int sync_post(int wfd)
{
	char c = 'x';

	return write(wfd, &c, 1) == 1 ? 0 : -1;
}

static inline int sync_wait(int rfd)
{
	char c;
	ssize_t n;

	do {
		n = read(rfd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Install handler for sig with the given sa_flags (e.g. 0 or SA_RESTART). */
static inline int toy_sigaction(int sig, void (*handler)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* Wait until process pid is sleeping in the kernel ('S' in /proc/pid/stat). */
static inline int wait_proc_sleeping(pid_t pid)
{
	char path[64], buf[512], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		FILE *f = fopen(path, "re");
		size_t n;

		if (!f)
			return -1;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/*
 * The syscall number pid is in (first field of /proc/pid/syscall), -2 if
 * it is running or the line cannot be read, -1 if the file is missing.
 */
static inline long proc_syscall_nr(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	long cur = -2;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) &&
	    buf[0] >= '0' && buf[0] <= '9')	/* not "running" */
		cur = strtol(buf, NULL, 10);
	fclose(f);
	return cur;
}

/*
 * Wait until pid is blocked in the given syscall number and sleeping.
 * Returns 0 or -1 (not reached).
 */
static inline int wait_in_syscall(pid_t pid, long nr)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		long cur = proc_syscall_nr(pid);

		if (cur == -1)
			return wait_proc_sleeping(pid);	/* no /proc/pid/syscall */
		if (cur == nr && wait_proc_sleeping(pid) == 0)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* ---- helper threads ---------------------------------------------------- */

/* A thread that runs fn (one blocking call, its result in ret and err). */
struct thr {
	pthread_t th;
	long (*fn)(struct thr *t);
	int fd, n, count, err, tid, done;
	uint32_t port;
	short revents;
	long ret;
};

static inline void *thr_main(void *arg)
{
	struct thr *t = arg;

	__atomic_store_n(&t->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	t->ret = t->fn(t);
	t->err = errno;
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static inline int thr_start(struct thr *t, long (*fn)(struct thr *))
{
	t->fn = fn;
	t->tid = t->done = 0;
	return pthread_create(&t->th, NULL, thr_main, t) ? -1 : 0;
}

static inline bool thr_done(struct thr *t)
{
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/* Bounded (10 s): whether the thread's call has returned. */
static inline bool thr_wait_done(struct thr *t)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES && !thr_done(t); i++)
		usleep(TOY_WAIT_USEC);
	return thr_done(t);
}

/* Bounded: 0 once the thread sleeps in syscall nr, -1 if it never does. */
static inline int thr_wait_blocked(struct thr *t, long nr)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES && !__atomic_load_n(&t->tid, __ATOMIC_SEQ_CST); i++)
		usleep(TOY_WAIT_USEC);
	return t->tid ? wait_in_syscall(t->tid, nr) : -1;
}

/* Puts the calling thread on CPU @cpu (@cpu < 0: leaves it alone). */
static inline int pin_thread(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * The first two CPUs we may run on, in @cpus; how many there are (0-2),
 * or -1 if our affinity cannot be read.
 */
static inline int two_cpus(int cpus[2])
{
	cpu_set_t set;
	int n = 0, c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/*
 * After waking pid out of syscall nr: wait (bounded) until it has left it,
 * i.e. /proc/pid/syscall no longer shows nr.  0 = left (or no
 * /proc/pid/syscall to tell), -1 = still in it: a lost wake-up.  The
 * sleeper must not have a timeout of its own (SO_RCVTIMEO...), which would
 * end the sleep anyway and turn a lost wake-up into a mere delay.
 */
static inline int wait_left_syscall(pid_t pid, long nr)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_syscall_nr(pid) != nr)
			return 0;	/* left it, or no file to tell */
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

/* A number read from the first line of file @path, or -1. */
static inline long read_long_file(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* /sys/module/af_toy/refcnt (every af_toy socket pins the module), or -1 */
static inline long toy_module_refcnt(void)
{
	return read_long_file("/sys/module/af_toy/refcnt");
}

/* The value of counter @name in /proc/net/toy_stat, or -1 if absent. */
static inline long toy_stat_value(const char *name)
{
	FILE *f = fopen("/proc/net/toy_stat", "re");
	char line[256], n[64];
	long v = -1, x;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", n, &x) == 2 && !strcmp(n, name))
			v = x;
	if (f)
		fclose(f);
	return v;
}

/*
 * poll() one fd, waiting at most timeout_ms, through the raw ppoll syscall
 * (the sleeper shows SYS_ppoll in /proc/pid/syscall), which unlike glibc's
 * wrappers hands back the time left.  Returns poll()'s result, the events
 * in *revents, and in *woken whether it returned before the timeout: after
 * a timeout poll() still reports what is ready by then, so without this a
 * lost wake-up would pass as a mere delay.
 */
static inline int toy_ppoll_woken(int fd, short events, int timeout_ms,
				  short *revents, bool *woken)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (timeout_ms % 1000) * 1000000L,
	};
	int n;

	n = syscall(SYS_ppoll, &p, 1, &ts, NULL, 0);
	*revents = n > 0 ? p.revents : 0;
	*woken = n > 0 && (ts.tv_sec > 0 || ts.tv_nsec > 0);
	return n;
}

/* ---- kernel features -------------------------------------------------- */

/*
 * A test skips only for what the kernel or the environment lacks, never
 * for a feature af_toy itself provides: a missing one must fail the test.
 */

/* Does the running kernel know filesystem type fs (/proc/filesystems)? */
static inline bool toy_kernel_has_fs(const char *fs)
{
	FILE *f = fopen("/proc/filesystems", "re");
	char line[128], name[64];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = (sscanf(line, "nodev %63s", name) == 1 ||
			 sscanf(line, "%63s", name) == 1) && !strcmp(name, fs);
	if (f)
		fclose(f);
	return found;
}

#define TOY_TRACEFS "/sys/kernel/tracing"

/*
 * af_toy's tracepoints, TOY_TRACEFS/events/toy (mounts tracefs there if it
 * is not mounted yet; needs root).  Returns 0 when they are usable, 1 when
 * the kernel has no tracefs at all (no kernel tracing: a legitimate skip),
 * -1 when tracefs works but the toy events are missing or unusable (the
 * module provides them: a failure); why says which.
 */
static inline int toy_trace_events(char *why, size_t len)
{
	struct stat st;

	snprintf(why, len, "ok");
	if (stat(TOY_TRACEFS "/events", &st) != 0) {
		if (!toy_kernel_has_fs("tracefs")) {
			snprintf(why, len, "kernel without tracefs (no CONFIG_TRACING)");
			return 1;
		}
		if (syscall(SYS_mount, "tracefs", TOY_TRACEFS, "tracefs", 0UL,
			    NULL) != 0 && errno != EBUSY) {
			snprintf(why, len, "cannot mount tracefs on %s: %s",
				 TOY_TRACEFS, strerror(errno));
			return -1;
		}
	}
	if (access(TOY_TRACEFS "/events/toy/toy_state/enable", W_OK) != 0) {
		snprintf(why, len, "%s: %s: af_toy's tracepoints are missing",
			 TOY_TRACEFS "/events/toy/toy_state/enable",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * In a TEST() body: root and a kernel with tracefs are the environment
 * (else skip); the toy events are af_toy's own: missing, the test fails.
 */
#define TOY_NEED_TRACE() do {						\
	char _why[256];							\
	int _r;								\
									\
	if (geteuid() != 0)						\
		SKIP(return, "needs root for tracefs");			\
	ASSERT_EQ(0, toy_ensure_module());				\
	_r = toy_trace_events(_why, sizeof(_why));			\
	if (_r > 0)							\
		SKIP(return, "%s", _why);				\
	ASSERT_EQ(0, _r) TH_LOG("%s", _why);				\
} while (0)

/* ---- rtnetlink: links (toymon devices) ------------------------------ */

struct toy_nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
};

static inline struct rtattr *toy_nl_attr(struct toy_nl_req *r, int type,
					  const void *data, int len)
{
	struct rtattr *rta = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/* One request, its ack: 0 or -errno. */
static inline int toy_nl_talk(struct toy_nl_req *r)
{
	char buf[4096];
	struct nlmsghdr *nh = (void *)buf;
	int fd, ret;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
	    nh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
}

/* ip link add NAME type KIND [up] */
static inline int toy_link_add(const char *name, const char *kind, bool up)
{
	struct toy_nl_req r = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_NEWLINK,
		.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_flags = up ? IFF_UP : 0,
		.ifi.ifi_change = up ? IFF_UP : 0,
	};
	struct rtattr *li;

	toy_nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	li = toy_nl_attr(&r, IFLA_LINKINFO, NULL, 0);
	toy_nl_attr(&r, IFLA_INFO_KIND, kind, strlen(kind));
	li->rta_len = (char *)&r + r.nh.nlmsg_len - (char *)li;
	return toy_nl_talk(&r);
}

/* ip link set NAME up|down */
static inline int toy_link_set_up(const char *name, bool up)
{
	struct toy_nl_req r = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_NEWLINK,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_flags = up ? IFF_UP : 0,
		.ifi.ifi_change = IFF_UP,
	};

	toy_nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	return toy_nl_talk(&r);
}

static inline int toy_link_del(const char *name)
{
	struct toy_nl_req r = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_DELLINK,
		.ifi.ifi_family = AF_UNSPEC,
	};

	toy_nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	return toy_nl_talk(&r);
}

#endif /* TOY_COMMON_H */

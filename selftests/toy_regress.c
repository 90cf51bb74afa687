// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: regression tests for the defects found in review.
 *
 * One section per defect, numbered as in the review (tests d01a_... to
 * d15_...).  Every test asserts the correct behaviour: values, errnos,
 * bytes, signals, poll masks.  Where Linux has a reference, the same steps
 * run on it in the same test (AF_UNIX, or TCP/UDP over 127.0.0.1) and
 * AF_TOY must agree.  No timing assertions: blocked calls are bounded by
 * SO_SNDTIMEO/SO_RCVTIMEO or poll timeouts of several seconds and waiting
 * loops are bounded; they only decide "happened / did not happen".
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <pthread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/vfs.h>

#include "kselftest_harness.h"

/* ---- helpers ----------------------------------------------------------- */

/* socket(AF_INET, type) bound to 127.0.0.1:0; its address in *a. */
static int inet_bound(int type, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, type, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(fd, (struct sockaddr *)a, &len))
		return -1;
	return fd;
}

/* A connected TCP pair over loopback: *c connected, *s accepted. */
static int tcp_pair(int *c, int *s)
{
	struct sockaddr_in a;
	int l = inet_bound(SOCK_STREAM, &a);

	if (l < 0 || listen(l, 4))
		return -1;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept(l, NULL, NULL);
	close(l);
	return *s < 0 ? -1 : 0;
}

enum { F_TOY, F_UNIX, F_TCP, NFAM };
static const char * const fam_name[NFAM] = { "AF_TOY", "AF_UNIX", "TCP" };

static int stream_pair(int fam, int sv[2])
{
	if (fam == F_TCP)
		return tcp_pair(&sv[0], &sv[1]);
	return socketpair(fam == F_TOY ? AF_TOY : AF_UNIX, SOCK_STREAM, 0, sv);
}

static int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_SOCKET, opt, &val, sizeof(val));
}

/* Bounded wait until FIONREAD of fd reaches want.  0 or -1. */
static int wait_inq(int fd, int want)
{
	int i, v = -1;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (ioctl(fd, FIONREAD, &v) == 0 && v >= want)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl = { .rlim_cur = want, .rlim_max = want };

	setrlimit(RLIMIT_NOFILE, &rl);
}

static void close_all(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

static void close2(int a, int b)
{
	close(a);
	close(b);
}

/* Was SIGPIPE (blocked by the caller) raised?  Consumes it. */
static bool sigpipe_taken(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	return sigtimedwait(&set, NULL, &zero) == SIGPIPE;
}

static void block_sigpipe(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, old);
	while (sigpipe_taken())
		;
}

/* ---- helper threads ---------------------------------------------------- */

struct thr {
	pthread_t th;
	long (*fn)(struct thr *t);
	int fd, n, count, err, tid, done;
	uint32_t port;
	short revents;
	long ret;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;

	__atomic_store_n(&t->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	t->ret = t->fn(t);
	t->err = errno;
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int thr_start(struct thr *t, long (*fn)(struct thr *))
{
	t->fn = fn;
	t->tid = t->done = 0;
	return pthread_create(&t->th, NULL, thr_main, t) ? -1 : 0;
}

static bool thr_done(struct thr *t)
{
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/* Bounded: 0 once the thread sleeps in syscall nr, -1 if it never does. */
static int thr_wait_blocked(struct thr *t, long nr)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES && !__atomic_load_n(&t->tid, __ATOMIC_SEQ_CST); i++)
		usleep(TOY_WAIT_USEC);
	return t->tid ? wait_in_syscall(t->tid, nr) : -1;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Joins t; if it is still blocked, ends the call (SIGUSR1: EINTR) first. */
static void thr_interrupt(struct thr *t)
{
	int i;

	toy_sigaction(SIGUSR1, on_usr1, 0);
	for (i = 0; i < 1000 && !thr_done(t); i++) {
		pthread_kill(t->th, SIGUSR1);
		usleep(10000);
	}
	pthread_join(t->th, NULL);
}

static long th_connect(struct thr *t)
{
	return toy_connect(t->fd, t->port);
}

static long th_poll_out(struct thr *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };
	long r = poll(&p, 1, 10000);

	t->revents = p.revents;
	return r;
}

static long th_recvfrom(struct thr *t)
{
	char buf[64];

	return recvfrom(t->fd, buf, sizeof(buf), 0, NULL, NULL);
}

static long th_sendto_loop(struct thr *t)
{
	struct sockaddr_toy a = toy_addr(t->port);
	static char buf[4096];
	ssize_t r;

	for (t->count = 0; t->count < t->n; t->count++) {
		r = sendto(t->fd, buf, sizeof(buf), 0, (struct sockaddr *)&a,
			   sizeof(a));
		if (r != (ssize_t)sizeof(buf))
			return r;
	}
	return 0;
}

/*
 * A STREAM listener with listen(L, 0) and a full backlog (the connects that
 * filled it are in fills[], *nfill of them), and thread t blocked in a
 * connect() to it (SYN_SENT) with SO_SNDTIMEO timeo_us.  Returns L or -1.
 */
static int blocked_connect(struct thr *t, int *fills, int *nfill, long timeo_us)
{
	int l = toy_listener_backlog(SOCK_STREAM, 0, &t->port), n = 0, fd, err;

	for (err = 0; l >= 0 && n < 8 && !err; n++) {
		fd = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0 || toy_connect(fd, t->port) < 0) {
			err = errno;
			close(fd);
			n--;
		} else {
			fills[n] = fd;
		}
	}
	*nfill = n;
	if (l < 0 || !n || err != EAGAIN)
		return -1;
	t->fd = toy_socket(SOCK_STREAM);
	if (t->fd < 0 || toy_set_timeo(t->fd, SO_SNDTIMEO, timeo_us) ||
	    thr_start(t, th_connect) || wait_proc_state(t->fd, "SYN_SENT") ||
	    thr_wait_blocked(t, SYS_connect))
		return -1;
	return l;
}

FIXTURE(regress)
{
	int unused;
};

FIXTURE_SETUP(regress)
{
	ASSERT_EQ(0, toy_ensure_module());
	toy_lo_up();
}

FIXTURE_TEARDOWN(regress)
{
}

#define REGRESS(name) TEST_F_TIMEOUT(regress, name, 120)

/* ---- 1. memory: memcg accounting, idle pages --------------------------- */

#define CGROUP2_MAGIC 0x63677270

/* The file name in dir (a static buffer, valid until the next call). */
static const char *cg(const char *dir, const char *name)
{
	static char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Whether /proc/filesystems lists @fs (the kernel can mount it). */
static bool has_filesystem(const char *fs)
{
	FILE *f = fopen("/proc/filesystems", "re");
	char line[128], name[64];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "nodev %63s", name) == 1 &&
			!strcmp(name, fs);
	if (f)
		fclose(f);
	return found;
}

static int cg_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static long cg_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? atol(buf) : -1;
}

REGRESS(d01a_memcg_charges_queued_stream_data)
{
	const char *root = "/sys/fs/cgroup";
	char grp[96], ctl[256], pid[32];
	static char buf[32768];
	bool mounted = false;
	long before, after;
	struct statfs sf;
	int sv[2], i;

	if (!has_filesystem("cgroup2"))
		SKIP(return, "kernel has no cgroup2 (CONFIG_CGROUPS)");
	if (statfs(root, &sf) || sf.f_type != CGROUP2_MAGIC) {
		ASSERT_EQ(0, mount("cgroup2", root, "cgroup2", 0, NULL));
		ASSERT_EQ(0, statfs(root, &sf));
		ASSERT_EQ(CGROUP2_MAGIC, sf.f_type);
		mounted = true;
	}
	cg_read(cg(root, "cgroup.controllers"), ctl, sizeof(ctl));
	if (!strstr(ctl, "memory")) {
		if (mounted)
			umount2(root, MNT_DETACH);
		SKIP(return, "kernel has no memory controller");
	}
	ASSERT_EQ(0, cg_write(cg(root, "cgroup.subtree_control"), "+memory"));
	snprintf(grp, sizeof(grp), "%s/toy_regress.%d", root, (int)getpid());
	ASSERT_EQ(0, mkdir(grp, 0755));
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ASSERT_EQ(0, cg_write(cg(grp, "cgroup.procs"), pid));

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_STREAM, 0, sv));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, set_int(sv[i], SO_SNDBUFFORCE, 8 << 20));
		ASSERT_EQ(0, set_int(sv[i], SO_RCVBUFFORCE, 8 << 20));
	}
	memset(buf, 'm', sizeof(buf));
	before = cg_read(cg(grp, "memory.current"), ctl, sizeof(ctl));
	ASSERT_LE(0, before);
	for (i = 0; i < 128; i++)	/* 4 MiB, never read */
		ASSERT_EQ(sizeof(buf), send(sv[0], buf, sizeof(buf), MSG_DONTWAIT))
			TH_LOG("write %d: %s", i, strerror(errno));
	after = cg_read(cg(grp, "memory.current"), ctl, sizeof(ctl));
	TH_LOG("memory.current grew by %ld KiB with 4096 KiB queued",
	       (after - before) >> 10);
	EXPECT_LE(3L << 20, after - before);

	close2(sv[0], sv[1]);
	EXPECT_EQ(0, cg_write(cg(root, "cgroup.procs"), pid));
	rmdir(grp);
	if (mounted)
		umount2(root, MNT_DETACH);
}

#define IDLE_PAIRS 300
#define IDLE_BYTES (256 << 10)
#define IDLE_CHUNK (32 << 10)

/* MemAvailable once it stopped moving (bounded, about 10 s). */
static long mem_settled_kib(void)
{
	return toy_mem_settled_kib(20, 500000, 128);
}

/* IDLE_BYTES from -> to in IDLE_CHUNK writes, each read back.  0 or -1. */
static int pump(int from, int to, char *buf)
{
	int i;

	for (i = 0; i < IDLE_BYTES / IDLE_CHUNK; i++)
		if (send(from, buf, IDLE_CHUNK, 0) != IDLE_CHUNK ||
		    read_all(to, buf, IDLE_CHUNK) != IDLE_CHUNK)
			return -1;
	return 0;
}

/* IDLE_PAIRS socketpairs of @domain, SO_SNDBUF 1 MiB, data each way. */
static int idle_pairs(int domain, int (*sv)[2], char *buf)
{
	int i;

	for (i = 0; i < IDLE_PAIRS; i++) {
		if (socketpair(domain, SOCK_STREAM, 0, sv[i]) ||
		    set_int(sv[i][0], SO_SNDBUFFORCE, 1 << 20) ||
		    set_int(sv[i][1], SO_SNDBUFFORCE, 1 << 20) ||
		    pump(sv[i][0], sv[i][1], buf) || pump(sv[i][1], sv[i][0], buf))
			return -1;
	}
	return 0;
}

REGRESS(d01b_idle_pairs_give_cached_pages_back)
{
	int (*sv)[2] = calloc(IDLE_PAIRS, sizeof(*sv)), i;
	char *buf = malloc(IDLE_CHUNK);
	double unix_kib, toy_kib = -1, limit;
	long before;

	ASSERT_TRUE(sv && buf);
	memset(buf, 'i', IDLE_CHUNK);
	raise_nofile(4096);

	before = mem_settled_kib();
	ASSERT_EQ(0, idle_pairs(AF_UNIX, sv, buf)) TH_LOG("AF_UNIX: %s", strerror(errno));
	unix_kib = (double)(before - mem_settled_kib()) / IDLE_PAIRS;
	for (i = 0; i < IDLE_PAIRS; i++)
		close2(sv[i][0], sv[i][1]);

	limit = 2 * (unix_kib > 0 ? unix_kib : 0) + 8;
	before = mem_settled_kib();
	ASSERT_EQ(0, idle_pairs(AF_TOY, sv, buf)) TH_LOG("AF_TOY: %s", strerror(errno));
	for (i = 0; i < 100; i++) {	/* bounded: about 10 s */
		usleep(100000);
		toy_kib = (double)(before - toy_mem_available_kib()) / IDLE_PAIRS;
		if (toy_kib <= limit)
			break;
	}
	ksft_print_msg("idle memory per pair: AF_UNIX %.1f KiB, AF_TOY %.1f KiB (limit %.1f KiB)\n",
		       unix_kib, toy_kib, limit);
	EXPECT_TRUE(toy_kib <= limit)
		TH_LOG("AF_TOY pins %.1f KiB per idle pair, AF_UNIX %.1f KiB",
		       toy_kib, unix_kib);
	for (i = 0; i < IDLE_PAIRS; i++)
		close2(sv[i][0], sv[i][1]);
	free(sv);
	free(buf);
}

/* ---- 2. lost wake-up of a DGRAM socketpair end ------------------------- */

/*
 * A's datagrams to its pair end B (never read) keep B more than half full;
 * that must not keep A asleep when A waits for its own SO_SNDBUF while
 * sending to C and C is drained.  A's SO_SNDBUF is 1 MiB so that what B
 * holds (charged to A) is well below half of it.  A's SO_SNDTIMEO is long
 * (60 s): an expired timeout retries once and would then find the room, so
 * instead the sender gets 10 s (C's SO_RCVTIMEO) to go on once C was
 * drained, and is interrupted if it did not.
 */
REGRESS(d02_dgram_pair_end_woken_when_other_receiver_drains)
{
	enum { N = 400, SMALL = 512 };
	static char buf[4096];
	struct thr t = { 0 };
	int p[2], sv[2], c, n = 0, k, i, got = 0;
	uint32_t cport;

	/* how many SMALL datagrams fill a pair end's default SO_RCVBUF */
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, p));
	while (n < 100000 && send(p[0], buf, SMALL, MSG_DONTWAIT) == SMALL)
		n++;
	ASSERT_EQ(EAGAIN, errno);
	close(p[0]);
	close(p[1]);
	ASSERT_LT(20, n);

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	k = n * 3 / 5;	/* more than half full, not full */
	for (i = 0; i < k; i++)
		ASSERT_EQ(SMALL, send(sv[0], buf, SMALL, MSG_DONTWAIT));
	c = toy_listener_port(SOCK_DGRAM, 0, 0, &cport);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, set_int(c, SO_RCVBUFFORCE, 8 << 20));
	ASSERT_EQ(0, toy_set_timeo(c, SO_RCVTIMEO, 10000000));
	ASSERT_EQ(0, set_int(sv[0], SO_SNDBUFFORCE, 512 << 10));
	ASSERT_EQ(0, toy_set_timeo(sv[0], SO_SNDTIMEO, 60000000));

	t.fd = sv[0];
	t.port = cport;
	t.n = N;
	ASSERT_EQ(0, thr_start(&t, th_sendto_loop));
	EXPECT_EQ(0, thr_wait_blocked(&t, SYS_sendto))
		TH_LOG("the sender never blocked (sent %d)", t.count);
	while (got < N && recv(c, buf, sizeof(buf), 0) == sizeof(buf))
		got++;
	thr_interrupt(&t);
	EXPECT_EQ(0, t.ret) TH_LOG("sendto %d of %d: %s (C drained, sender not woken)",
				   t.count + 1, N, strerror(t.err));
	EXPECT_EQ(N, t.count);
	EXPECT_EQ(N, got);
	/* B still holds exactly what was queued to it */
	for (i = 0; recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == SMALL; i++)
		;
	EXPECT_EQ(k, i);
	close(c);
	close(sv[0]);
	close(sv[1]);
}

/* ---- 3. records bigger than 64 KiB ------------------------------------- */

/* 100000 bytes and min(SO_SNDBUF, peer SO_RCVBUF) pass intact, +1 does not. */
static void big_records(struct __test_metadata *_metadata, int s, int r,
			uint32_t dst, const char *what)
{
	int snd = toy_getsockopt_int(s, SOL_SOCKET, SO_SNDBUF);
	int rcv = toy_getsockopt_int(r, SOL_SOCKET, SO_RCVBUF);
	size_t max = snd < rcv ? snd : rcv, lens[3] = { 100000, max, max + 1 }, i;
	struct sockaddr_toy a = toy_addr(dst);
	char *sb = malloc(max + 64), *rb = malloc(max + 64);
	ssize_t n;
	int e;

	ASSERT_TRUE(sb && rb);
	ASSERT_EQ(0, toy_set_timeo(s, SO_SNDTIMEO, 10000000));
	ASSERT_EQ(0, toy_set_timeo(r, SO_RCVTIMEO, 10000000));
	for (i = 0; i < 3; i++) {
		toy_pattern(sb, lens[i], i * 7919);
		n = sendto(s, sb, lens[i], 0, dst ? (struct sockaddr *)&a : NULL,
			   dst ? sizeof(a) : 0);
		e = errno;
		if (i == 2) {
			EXPECT_EQ(-1, n) TH_LOG("%s: %zu bytes (max + 1)", what, lens[i]);
			EXPECT_EQ(EMSGSIZE, e);
			break;
		}
		EXPECT_EQ((ssize_t)lens[i], n)
			TH_LOG("%s: %zu-byte record: %s", what, lens[i], strerror(e));
		if (n != (ssize_t)lens[i])
			continue;
		memset(rb, 0, max + 64);
		EXPECT_EQ((ssize_t)lens[i], recv(r, rb, max + 64, 0));
		EXPECT_EQ(0, memcmp(sb, rb, lens[i])) TH_LOG("%s: bytes differ", what);
	}
	free(sb);
	free(rb);
}

REGRESS(d03_records_up_to_the_buffer_size)
{
	int sv[2], c, s;
	uint32_t port;

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_SEQPACKET, 0, sv));
	big_records(_metadata, sv[0], sv[1], 0, "SEQPACKET socketpair");
	close2(sv[0], sv[1]);
	ASSERT_EQ(0, toy_connect_pair(SOCK_SEQPACKET, &c, &s));
	big_records(_metadata, c, s, 0, "SEQPACKET connect/accept");
	close2(c, s);
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	big_records(_metadata, sv[0], sv[1], 0, "DGRAM socketpair");
	close2(sv[0], sv[1]);
	s = toy_listener_port(SOCK_DGRAM, 0, 0, &port);
	ASSERT_LE(0, s);
	c = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, c);
	big_records(_metadata, c, s, port, "DGRAM sendto a bound socket");
	close2(c, s);
}

/* ---- 4. connect() aborted by shutdown() leaves the socket usable ------- */

REGRESS(d04_connect_works_after_an_aborted_connect)
{
	int fills[8], nfill = 0, l, l2, a;
	struct thr t = { 0 };
	uint32_t port2;
	char buf[8];

	l = blocked_connect(&t, fills, &nfill, 10000000);
	ASSERT_LE(0, l);
	EXPECT_EQ(0, shutdown(t.fd, SHUT_RDWR));
	pthread_join(t.th, NULL);
	EXPECT_EQ(-1, t.ret);
	EXPECT_EQ(ECONNRESET, t.err);

	l2 = toy_listener_backlog(SOCK_STREAM, 4, &port2);
	ASSERT_LE(0, l2);
	ASSERT_EQ(0, toy_connect(t.fd, port2))
		TH_LOG("second connect: %s", strerror(errno));
	a = accept(l2, NULL, NULL);
	ASSERT_LE(0, a);
	EXPECT_EQ(4, send(t.fd, "ping", 4, MSG_NOSIGNAL));
	EXPECT_EQ(4, read_all(a, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	EXPECT_EQ(4, send(a, "pong", 4, MSG_NOSIGNAL));
	EXPECT_EQ(4, read_all(t.fd, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	close2(a, l2);
	close2(t.fd, l);
	close_all(fills, nfill);
}

/* ---- 5. poll() of a connected DGRAM socket sees the receiver's room ---- */

static void dgram_poll_case(struct __test_metadata *_metadata, int s, int r,
			    const char *what)
{
	static char buf[1000];
	struct thr t = { 0 };
	int n = 0, m = 0, blocked;

	while (n < 10000 && send(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	ASSERT_EQ(EAGAIN, errno) TH_LOG("%s: %s", what, strerror(errno));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, toy_poll(s, POLLOUT, 0) & POLLOUT)
		TH_LOG("%s: POLLOUT while send() fails with EAGAIN", what);
	t.fd = s;
	ASSERT_EQ(0, thr_start(&t, th_poll_out));
	blocked = thr_wait_blocked(&t, SYS_poll);
	while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		m++;
	pthread_join(t.th, NULL);
	EXPECT_EQ(n, m);
	EXPECT_EQ(0, blocked) TH_LOG("%s: poll(POLLOUT) did not wait", what);
	EXPECT_EQ(1, t.ret) TH_LOG("%s: poll() was not woken by the drain", what);
	EXPECT_EQ(POLLOUT, t.revents & POLLOUT);
	EXPECT_EQ(sizeof(buf), send(s, buf, sizeof(buf), MSG_DONTWAIT));
}

REGRESS(d05_connected_dgram_pollout_follows_the_receiver)
{
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	socklen_t ualen = sizeof(ua);
	int s, r, sv[2];
	uint32_t port;

	/* AF_UNIX: a socket connect()ed to an autobound receiver */
	r = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_EQ(0, bind(r, (struct sockaddr *)&ua, sizeof(sa_family_t)));
	ASSERT_EQ(0, getsockname(r, (struct sockaddr *)&ua, &ualen));
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_EQ(0, connect(s, (struct sockaddr *)&ua, ualen));
	dgram_poll_case(_metadata, s, r, "AF_UNIX connected");
	close2(s, r);

	/* the receivers' SO_RCVBUF is well below the senders' SO_SNDBUF */
	r = toy_listener_port(SOCK_DGRAM, 0, 0, &port);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, set_int(r, SO_RCVBUF, 16384));
	s = toy_socket(SOCK_DGRAM);
	ASSERT_EQ(0, toy_connect(s, port));
	dgram_poll_case(_metadata, s, r, "AF_TOY connected");
	close2(s, r);

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(0, set_int(sv[1], SO_RCVBUF, 16384));
	dgram_poll_case(_metadata, sv[0], sv[1], "AF_TOY socketpair");
	close2(sv[0], sv[1]);
}

/* ---- 6. accepted sockets inherit the listener's options ---------------- */

struct opts {
	int snd, rcv, lowat, prio, keep;
	struct timeval rto, sto;
};

static int set_opts(int fd)
{
	struct timeval rto = { 3, 250000 }, sto = { 4, 500000 };

	return set_int(fd, SO_SNDBUF, 65536) || set_int(fd, SO_RCVBUF, 98304) ||
	       set_int(fd, SO_RCVLOWAT, 7) || set_int(fd, SO_PRIORITY, 5) ||
	       set_int(fd, SO_KEEPALIVE, 1) ||
	       setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto)) ||
	       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto));
}

static void get_opts(int fd, struct opts *o)
{
	socklen_t len = sizeof(o->rto);

	o->snd = toy_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
	o->rcv = toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
	o->lowat = toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT);
	o->prio = toy_getsockopt_int(fd, SOL_SOCKET, SO_PRIORITY);
	o->keep = toy_getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &o->rto, &len);
	len = sizeof(o->sto);
	getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &o->sto, &len);
}

/* Options set on a listener before listen(): the listener's and child's. */
static int accepted_opts(bool tcp, struct opts *lst, struct opts *child)
{
	struct sockaddr_in a;
	uint32_t port;
	int l, c, s;

	l = tcp ? inet_bound(SOCK_STREAM, &a) : toy_socket(SOCK_STREAM);
	if (l < 0 || set_opts(l) || (!tcp && toy_bind(l, 0)) || listen(l, 4))
		return -1;
	port = toy_port(l);
	c = socket(tcp ? AF_INET : AF_TOY, SOCK_STREAM, 0);
	if (c < 0 || (tcp ? connect(c, (struct sockaddr *)&a, sizeof(a)) :
			    toy_connect(c, port)))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return -1;
	get_opts(l, lst);
	get_opts(s, child);
	close2(s, c);
	close(l);
	return 0;
}

static long tv_us(struct timeval tv)
{
	return tv.tv_sec * 1000000L + tv.tv_usec;
}

/* SO_PRIORITY: TCP's child does not keep it, the review asks AF_TOY's to. */
REGRESS(d06_accept_inherits_buffers_timeouts_priority)
{
	struct opts tl, tc, yl, yc;

	ASSERT_EQ(0, accepted_opts(true, &tl, &tc));
	ASSERT_EQ(0, accepted_opts(false, &yl, &yc));
	TH_LOG("snd/rcv/prio: TCP child %d/%d/%d, AF_TOY listener %d/%d/%d, child %d/%d/%d",
	       tc.snd, tc.rcv, tc.prio, yl.snd, yl.rcv, yl.prio, yc.snd, yc.rcv, yc.prio);
	EXPECT_EQ(tc.snd, yc.snd);
	EXPECT_EQ(tc.rcv, yc.rcv);
	EXPECT_EQ(yl.snd, yc.snd);
	EXPECT_EQ(yl.rcv, yc.rcv);
	EXPECT_EQ(yl.prio, yc.prio);
	EXPECT_EQ(tv_us(tc.rto), tv_us(yc.rto));
	EXPECT_EQ(tv_us(yl.rto), tv_us(yc.rto));
	EXPECT_EQ(tv_us(tc.sto), tv_us(yc.sto));
	EXPECT_EQ(tv_us(yl.sto), tv_us(yc.sto));
}

REGRESS(d06_accept_inherits_rcvlowat_keepalive)
{
	struct opts tl, tc, yl, yc;

	ASSERT_EQ(0, accepted_opts(true, &tl, &tc));
	ASSERT_EQ(0, accepted_opts(false, &yl, &yc));
	EXPECT_EQ(tc.lowat, yc.lowat);
	EXPECT_EQ(tc.keep, yc.keep);
	EXPECT_EQ(yl.lowat, yc.lowat);
	EXPECT_EQ(yl.keep, yc.keep);
}

REGRESS(d06_unaccepted_child_shows_the_listener_uid)
{
	const uid_t uid = 4321;
	pid_t pid = toy_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct toy_proc_entry e;
		uint32_t port;
		int l, c, a;
		long cport;

		CHILD_CHECK(setresgid(uid, uid, uid) == 0);
		CHILD_CHECK(setresuid(uid, uid, uid) == 0);
		prctl(PR_SET_DUMPABLE, 1);
		l = toy_listener(SOCK_STREAM, &port);
		CHILD_CHECK(l >= 0);
		c = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c >= 0 && toy_connect(c, port) == 0);
		cport = toy_port(c);
		CHILD_CHECK(proc_entry(l, &e) == 0 && e.uid == uid);
		CHILD_CHECK(proc_find("STREAM", port, cport, &e) == 0);
		if (e.uid != uid) {
			fprintf(stderr, "# unaccepted child: uid %lu, listener %u\n",
				e.uid, (unsigned int)uid);
			_exit(1);
		}
		a = accept(l, NULL, NULL);
		CHILD_CHECK(a >= 0 && proc_entry(a, &e) == 0 && e.uid == uid);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

/* ---- 7. /proc/net/toy and ephemeral ports with 3000 sockets ------------ */

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * 3000 bound sockets must each be listed exactly once although the file is
 * read in 300-byte chunks while other sockets, listed before them, are
 * closed between the chunks (the listing must not shift under a reader).
 */
REGRESS(d07_proc_lists_3000_sockets_once_in_small_reads)
{
	enum { N = 3000, V = 300, CAP = 1 << 20 };
	int *fd = calloc(N + V, sizeof(int)), *seen = calloc(N, sizeof(int));
	unsigned long *ino = calloc(N, sizeof(long));
	long *port = calloc(N, sizeof(long)), *sorted = calloc(N, sizeof(long));
	char *all = malloc(CAP), *line, *save;
	int i, pf, v = 0, missing = 0, dups = 0, wrong = 0;
	size_t len = 0;
	ssize_t n;
	long p;

	ASSERT_TRUE(fd && seen && ino && port && sorted && all);
	raise_nofile(N + V + 256);
	for (i = 0; i < N + V; i++) {	/* V victims first, then N bound */
		fd[i] = toy_socket(SOCK_DGRAM);
		ASSERT_LE(0, fd[i]) TH_LOG("socket %d: %s", i, strerror(errno));
		if (i < V)
			continue;
		ASSERT_EQ(0, toy_bind(fd[i], 0)) TH_LOG("bind %d: %s", i, strerror(errno));
		port[i - V] = sorted[i - V] = toy_port(fd[i]);
		ino[i - V] = toy_ino(fd[i]);
		ASSERT_LE(TOY_EPHEMERAL_LO, port[i - V]);
		ASSERT_GE(TOY_EPHEMERAL_HI, port[i - V]);
	}
	qsort(sorted, N, sizeof(long), cmp_long);
	for (i = 1; i < N; i++)
		ASSERT_NE(sorted[i - 1], sorted[i]);
	ASSERT_EQ(0, toy_bind(fd[0], 0));	/* one more ephemeral port */
	p = toy_port(fd[0]);
	EXPECT_LE(TOY_EPHEMERAL_LO, p);
	EXPECT_GE(TOY_EPHEMERAL_HI, p);
	EXPECT_EQ(NULL, bsearch(&p, sorted, N, sizeof(long), cmp_long));

	pf = open(AF_TOY_PROC, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, pf);
	while (len + 300 < CAP && (n = read(pf, all + len, 300)) > 0) {
		len += n;
		if (v < V)
			close(fd[v++]);	/* already listed */
	}
	close(pf);
	ASSERT_LT(len + 300, CAP);
	all[len] = '\0';
	for (line = strtok_r(all, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct toy_proc_entry e;

		if (toy_proc_parse(line, &e) < 0)
			continue;
		for (i = 0; i < N && ino[i] != e.ino; i++)
			;
		if (i < N) {
			seen[i]++;
			wrong += e.lport != (unsigned long)port[i];
		}
	}
	for (i = 0; i < N; i++) {
		missing += !seen[i];
		dups += seen[i] > 1;
	}
	EXPECT_EQ(0, missing) TH_LOG("%d of %d sockets not listed", missing, N);
	EXPECT_EQ(0, dups);
	EXPECT_EQ(0, wrong);
	close_all(fd + v, N + V - v);
	free(fd);
	free(seen);
	free(ino);
	free(port);
	free(sorted);
	free(all);
}

/* ---- 8. record sizes: FIONREAD, MSG_TRUNC, SO_RCVLOWAT ----------------- */

static void fionread_case(struct __test_metadata *_metadata, int s, int r,
			  const struct sockaddr *dst, socklen_t dlen,
			  int want, const char *what)
{
	static const char data[30];
	int v = -1, i;

	for (i = 1; i <= 3; i++)
		ASSERT_EQ(10 * i, sendto(s, data, 10 * i, 0, dst, dlen))
			TH_LOG("%s: %s", what, strerror(errno));
	ASSERT_EQ(POLLIN, toy_poll(r, POLLIN, 5000) & POLLIN);
	ASSERT_EQ(0, ioctl(r, FIONREAD, &v));
	EXPECT_EQ(want, v) TH_LOG("%s: FIONREAD with 10, 20, 30 queued", what);
	close2(s, r);
}

/*
 * DGRAM: the next datagram, as AF_UNIX and UDP.  SEQPACKET: the whole
 * queue, as AF_UNIX (unix_inq_len() sums STREAM and SEQPACKET queues).
 */
REGRESS(d08_fionread_is_the_next_record)
{
	struct sockaddr_toy ta;
	struct sockaddr_in ua;
	int sv[2], s, r;
	uint32_t port;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	fionread_case(_metadata, sv[0], sv[1], NULL, 0, 10, "AF_UNIX DGRAM");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	fionread_case(_metadata, sv[0], sv[1], NULL, 0, 60, "AF_UNIX SEQPACKET");
	r = inet_bound(SOCK_DGRAM, &ua);
	ASSERT_LE(0, r);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	fionread_case(_metadata, s, r, (struct sockaddr *)&ua, sizeof(ua), 10,
		      "UDP");

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	fionread_case(_metadata, sv[0], sv[1], NULL, 0, 10,
		      "AF_TOY DGRAM socketpair");
	r = toy_listener_port(SOCK_DGRAM, 0, 0, &port);
	ASSERT_LE(0, r);
	s = toy_socket(SOCK_DGRAM);
	ta = toy_addr(port);
	fionread_case(_metadata, s, r, (struct sockaddr *)&ta, sizeof(ta), 10,
		      "AF_TOY DGRAM sendto");
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_SEQPACKET, 0, sv));
	fionread_case(_metadata, sv[0], sv[1], NULL, 0, 60, "AF_TOY SEQPACKET");
	ASSERT_EQ(0, toy_connect_pair(SOCK_SEQPACKET, &s, &r));
	fionread_case(_metadata, s, r, NULL, 0, 60,
		      "AF_TOY SEQPACKET connect/accept");
}

REGRESS(d08_stream_msg_trunc_discards)
{
	char buf[16];
	int sv[2], fam;

	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY, TCP */
		ASSERT_EQ(0, stream_pair(fam, sv));
		ASSERT_EQ(10, send(sv[0], "abcdefghij", 10, 0));
		ASSERT_EQ(0, wait_inq(sv[1], 10));
		memset(buf, 'X', sizeof(buf));
		EXPECT_EQ(5, recv(sv[1], buf, 5, MSG_TRUNC)) TH_LOG("%s", fam_name[fam]);
		EXPECT_EQ(0, memcmp(buf, "XXXXXXXXXXXXXXXX", sizeof(buf)))
			TH_LOG("%s: MSG_TRUNC copied \"%.5s\"", fam_name[fam], buf);
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(5, recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_STREQ("fghij", buf) TH_LOG("%s", fam_name[fam]);
		close2(sv[0], sv[1]);
	}
}

REGRESS(d08_stream_poll_honours_rcvlowat)
{
	int sv[2], fam;

	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY, TCP */
		ASSERT_EQ(0, stream_pair(fam, sv));
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 10));
		ASSERT_EQ(5, send(sv[0], "12345", 5, 0));
		ASSERT_EQ(0, wait_inq(sv[1], 5));
		EXPECT_EQ(0, toy_poll(sv[1], POLLIN, 0) & POLLIN)
			TH_LOG("%s: POLLIN with 5 bytes, SO_RCVLOWAT 10", fam_name[fam]);
		ASSERT_EQ(5, send(sv[0], "67890", 5, 0));
		ASSERT_EQ(0, wait_inq(sv[1], 10));
		EXPECT_EQ(POLLIN, toy_poll(sv[1], POLLIN, 5000) & POLLIN)
			TH_LOG("%s: no POLLIN with 10 bytes", fam_name[fam]);
		close2(sv[0], sv[1]);
	}
}

/* ---- 9. shutdown() wakes a reader of an unconnected DGRAM socket ------- */

REGRESS(d09_shutdown_wakes_unconnected_dgram_reader)
{
	struct sockaddr_in ua;
	int udp, k, e;

	for (udp = 1; udp >= 0; udp--) {
		const char *what = udp ? "UDP" : "AF_TOY";
		struct thr t = { 0 };

		t.fd = udp ? inet_bound(SOCK_DGRAM, &ua) :
			     toy_listener_port(SOCK_DGRAM, 0, 0, NULL);
		ASSERT_LE(0, t.fd);
		ASSERT_EQ(0, toy_set_timeo(t.fd, SO_RCVTIMEO, 10000000));
		ASSERT_EQ(0, thr_start(&t, th_recvfrom));
		EXPECT_EQ(0, thr_wait_blocked(&t, SYS_recvfrom)) TH_LOG("%s", what);
		k = shutdown(t.fd, SHUT_RDWR);
		e = errno;
		EXPECT_EQ(-1, k) TH_LOG("%s", what);
		EXPECT_EQ(ENOTCONN, e) TH_LOG("%s", what);
		pthread_join(t.th, NULL);
		TH_LOG("%s: the blocked recvfrom() returned %ld (%s)", what,
		       t.ret, t.ret < 0 ? strerror(t.err) : "-");
		EXPECT_FALSE(t.ret < 0 && t.err == EAGAIN)
			TH_LOG("%s: recvfrom() slept until SO_RCVTIMEO", what);
		if (udp)
			EXPECT_EQ(0, t.ret);
		close(t.fd);
	}
}

/* ---- 10. O_ASYNC: SIGIO on FIN and on write space ----------------------- */

static volatile sig_atomic_t sigio_n;

static void on_sigio(int sig)
{
	(void)sig;
	sigio_n++;
}

/* how: 0 the peer close()s, 1 it shuts down writing, 2 it reads our data */
static void sigio_case(struct __test_metadata *_metadata, int how)
{
	static char buf[65536];
	int sv[2], fam, i;

	ASSERT_EQ(0, toy_sigaction(SIGIO, on_sigio, SA_RESTART));
	for (fam = 0; fam < NFAM; fam++) {
		ASSERT_EQ(0, stream_pair(fam, sv)) TH_LOG("%s", fam_name[fam]);
		ASSERT_EQ(0, fcntl(sv[0], F_SETOWN, getpid()));
		ASSERT_EQ(0, fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_ASYNC));
		if (how == 2) {	/* fill until EAGAIN */
			ASSERT_EQ(0, set_int(sv[0], SO_SNDBUF, 65536));
			ASSERT_EQ(0, set_int(sv[1], SO_RCVBUF, 65536));
			for (i = 0; i < 10000; i++)
				if (send(sv[0], buf, sizeof(buf), MSG_DONTWAIT) < 0)
					break;
			ASSERT_EQ(EAGAIN, errno) TH_LOG("%s", fam_name[fam]);
		}
		sigio_n = 0;
		if (how == 0)
			close(sv[1]);
		else if (how == 1)
			shutdown(sv[1], SHUT_WR);
		else
			while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0 ||
			       toy_poll(sv[1], POLLIN, 200) > 0)
				;
		for (i = 0; i < 5000 && !sigio_n; i++)	/* bounded: 5 s */
			usleep(1000);
		EXPECT_NE(0, sigio_n) TH_LOG("%s: no SIGIO", fam_name[fam]);
		close(sv[0]);
		if (how)
			close(sv[1]);
	}
}

REGRESS(d10_sigio_when_the_peer_closes)
{
	sigio_case(_metadata, 0);
}

REGRESS(d10_sigio_when_the_peer_shuts_down_writing)
{
	sigio_case(_metadata, 1);
}

REGRESS(d10_sigio_when_space_frees_after_eagain)
{
	sigio_case(_metadata, 2);
}

/* ---- 11. listen() raising the backlog wakes waiting connectors --------- */

/*
 * SO_SNDTIMEO is long (60 s): an expired timeout retries once and would
 * find the room.  The connect gets 10 s after listen(), then is aborted.
 */
REGRESS(d11_second_listen_wakes_waiting_connect)
{
	int fills[8], nfill = 0, l, i;
	struct thr t = { 0 };

	l = blocked_connect(&t, fills, &nfill, 60000000);
	ASSERT_LE(0, l);
	EXPECT_EQ(0, listen(l, 8));
	for (i = 0; i < 10000 && !thr_done(&t); i++)
		usleep(1000);
	if (!thr_done(&t))
		shutdown(t.fd, SHUT_RDWR);	/* not woken: abort it */
	pthread_join(t.th, NULL);
	EXPECT_EQ(0, t.ret) TH_LOG("connect: %s", strerror(t.err));
	EXPECT_STREQ("ESTABLISHED", proc_state(t.fd));
	close2(t.fd, l);
	close_all(fills, nfill);
}

/* ---- 12. DGRAM send() after our SHUT_WR: EPIPE, no SIGPIPE -------------- */

REGRESS(d12_dgram_send_after_shut_wr_no_sigpipe)
{
	static const char * const what[] = { "AF_TOY socketpair",
		"AF_TOY connected", "UDP connected", "AF_UNIX socketpair" };
	struct sockaddr_in ua;
	uint32_t port = 0;
	int sv[2], i, e;
	sigset_t old;
	ssize_t n;

	block_sigpipe(&old);
	for (i = 0; i < 4; i++) {
		if (i == 0 || i == 3) {
			ASSERT_EQ(0, socketpair(i ? AF_UNIX : AF_TOY, SOCK_DGRAM, 0, sv));
		} else if (i == 1) {
			sv[1] = toy_listener_port(SOCK_DGRAM, 0, 0, &port);
			sv[0] = toy_socket(SOCK_DGRAM);
			ASSERT_EQ(0, toy_connect(sv[0], port));
		} else {
			sv[1] = inet_bound(SOCK_DGRAM, &ua);
			sv[0] = socket(AF_INET, SOCK_DGRAM, 0);
			ASSERT_EQ(0, connect(sv[0], (struct sockaddr *)&ua, sizeof(ua)));
		}
		ASSERT_EQ(0, shutdown(sv[0], SHUT_WR)) TH_LOG("%s", what[i]);
		n = send(sv[0], "x", 1, 0);
		e = errno;
		EXPECT_FALSE(sigpipe_taken()) TH_LOG("%s: SIGPIPE", what[i]);
		EXPECT_EQ(-1, n) TH_LOG("%s", what[i]);
		EXPECT_EQ(EPIPE, e) TH_LOG("%s", what[i]);
		close2(sv[0], sv[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- 13. zero-length STREAM send on a closed direction: EPIPE ---------- */

static void zero_send_epipe(struct __test_metadata *_metadata, int fd,
			    const char *what)
{
	ssize_t n = send(fd, "", 0, 0);
	int e = errno;

	EXPECT_EQ(-1, n) TH_LOG("%s: zero-length send", what);
	EXPECT_EQ(EPIPE, e) TH_LOG("%s", what);
	EXPECT_TRUE(sigpipe_taken()) TH_LOG("%s: no SIGPIPE", what);
	n = send(fd, "", 0, MSG_NOSIGNAL);
	e = errno;
	EXPECT_EQ(-1, n) TH_LOG("%s: zero-length send, MSG_NOSIGNAL", what);
	EXPECT_EQ(EPIPE, e) TH_LOG("%s", what);
	EXPECT_FALSE(sigpipe_taken()) TH_LOG("%s: SIGPIPE despite MSG_NOSIGNAL", what);
}

/* After our SHUT_WR, and after a reset (reported once as ECONNRESET). */
REGRESS(d13_zero_length_stream_send_epipe)
{
	char buf[8], what[64];
	sigset_t old;
	int sv[2], fam, e;
	ssize_t n;

	block_sigpipe(&old);
	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY, TCP */
		snprintf(what, sizeof(what), "%s after SHUT_WR", fam_name[fam]);
		ASSERT_EQ(0, stream_pair(fam, sv));
		ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
		zero_send_epipe(_metadata, sv[0], what);
		close2(sv[0], sv[1]);

		ASSERT_EQ(0, stream_pair(fam, sv));
		ASSERT_EQ(4, send(sv[0], "data", 4, 0));
		ASSERT_EQ(0, wait_inq(sv[1], 4));
		close(sv[1]);	/* unread data: RST */
		ASSERT_NE(0, toy_poll(sv[0], POLLIN, 5000));
		n = recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT);
		e = errno;
		EXPECT_EQ(-1, n) TH_LOG("%s", fam_name[fam]);
		EXPECT_EQ(ECONNRESET, e) TH_LOG("%s", fam_name[fam]);
		snprintf(what, sizeof(what), "%s after a reset", fam_name[fam]);
		zero_send_epipe(_metadata, sv[0], what);
		close(sv[0]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- 14. SO_LINGER {1, 0}: close() resets the connection ---------------- */

REGRESS(d14_linger_zero_close_resets_the_peer)
{
	static const char * const what[] = { "TCP", "AF_TOY connect/accept",
					     "AF_TOY socketpair" };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int sv[2], i, e, k;
	char buf[8];
	ssize_t n;

	for (i = 0; i < 3; i++) {
		if (i == 0)
			k = tcp_pair(&sv[0], &sv[1]);
		else if (i == 1)
			k = toy_connect_pair(SOCK_STREAM, &sv[0], &sv[1]);
		else
			k = socketpair(AF_TOY, SOCK_STREAM, 0, sv);
		ASSERT_EQ(0, k) TH_LOG("%s", what[i]);
		ASSERT_EQ(0, setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
		ASSERT_EQ(0, toy_set_timeo(sv[1], SO_RCVTIMEO, 5000000));
		close(sv[0]);
		toy_poll(sv[1], POLLIN, 5000);
		n = recv(sv[1], buf, sizeof(buf), 0);
		e = errno;
		EXPECT_EQ(-1, n) TH_LOG("%s: recv after the peer's abortive close", what[i]);
		EXPECT_EQ(ECONNRESET, e) TH_LOG("%s", what[i]);
		close(sv[1]);
	}
}

/* ---- 15. no POLLOUT while connect() waits (SYN_SENT) -------------------- */

REGRESS(d15_no_pollout_while_connect_waits)
{
	int fills[8], nfill = 0, l, i, s, tf[2];
	struct sockaddr_in a;
	struct thr t = { 0 };

	/* TCP: listen(1) with two connections queued drops the next SYN */
	l = inet_bound(SOCK_STREAM, &a);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, listen(l, 1));
	for (i = 0; i < 2; i++) {
		tf[i] = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_EQ(0, connect(tf[i], (struct sockaddr *)&a, sizeof(a)));
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_EQ(-1, connect(s, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(0, toy_poll(s, POLLOUT, 0) & POLLOUT) TH_LOG("TCP in SYN_SENT");
	close2(s, l);
	close_all(tf, 2);

	l = blocked_connect(&t, fills, &nfill, 10000000);
	ASSERT_LE(0, l);
	EXPECT_EQ(0, toy_poll(t.fd, POLLOUT, 0) & POLLOUT)
		TH_LOG("AF_TOY in %s", proc_state(t.fd));
	shutdown(t.fd, SHUT_RDWR);	/* ends the connect */
	pthread_join(t.th, NULL);
	EXPECT_EQ(-1, t.ret);
	close2(t.fd, l);
	close_all(fills, nfill);
}

TEST_HARNESS_MAIN

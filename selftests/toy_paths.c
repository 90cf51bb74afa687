// SPDX-License-Identifier: GPL-2.0
/*
 * Paths of the module that only a deliberate sequence reaches (found by
 * `make coverage`): a second connect() while one waits, a listener's
 * SO_LINGER on its children, DGRAM poll() across a reconnect, a write
 * that faults into a one-off page, the charge of that page, and records
 * built without any high-order page (fail_page_alloc, debug kernel only).
 * Where TCP or AF_UNIX can run the same steps, they are the reference.
 */
#include "toy_common.h"	/* first: it defines _GNU_SOURCE */

#include <netinet/in.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/prctl.h>

#include "kselftest_harness.h"

TEST(second_connect_while_one_waits_ealready)
{
	struct toy_blocked_connect bc = { .ret = 1 };
	int l, q[8], nq;
	uint32_t port;

	ASSERT_EQ(0, toy_ensure_module());
	l = toy_full_listener(0, &port, q, 8, &nq);
	ASSERT_LE(0, l);
	bc.fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, bc.fd);
	bc.port = port;
	ASSERT_EQ(0, toy_connect_start(&bc));
	ASSERT_EQ(0, wait_proc_state(bc.fd, "SYN_SENT"));

	EXPECT_ERRNO(EALREADY, toy_connect(bc.fd, port));

	ASSERT_EQ(0, shutdown(bc.fd, SHUT_RDWR));	/* aborts the first */
	ASSERT_EQ(0, pthread_join(bc.thread, NULL));
	EXPECT_EQ(-1, bc.ret);
	EXPECT_EQ(ECONNRESET, bc.err);
	close(bc.fd);
	toy_close_fds(q, nq);
	close(l);
}

/* SO_LINGER set on a listener, as its accepted socket reports it. */
static int child_linger(int l, int c, struct linger *got)
{
	socklen_t len = sizeof(*got);
	int a = accept(l, NULL, NULL);

	close(c);
	if (a < 0)
		return -1;
	memset(got, 0, sizeof(*got));
	if (getsockopt(a, SOL_SOCKET, SO_LINGER, got, &len))
		return -1;
	close(a);
	return 0;
}

TEST(accepted_socket_inherits_linger_as_tcp)
{
	struct linger set = { .l_onoff = 1, .l_linger = 7 }, tcp, toy;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	uint32_t port;
	int l, c;

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, toy_lo_up());
	/* TCP loopback */
	l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, setsockopt(l, SOL_SOCKET, SO_LINGER, &set, sizeof(set)));
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&sin, &slen));
	ASSERT_EQ(0, listen(l, 4));
	c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, child_linger(l, c, &tcp));
	close(l);
	/* AF_TOY */
	l = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, setsockopt(l, SOL_SOCKET, SO_LINGER, &set, sizeof(set)));
	ASSERT_EQ(0, toy_bind(l, 0));
	ASSERT_EQ(0, listen(l, 4));
	port = toy_port(l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_EQ(0, toy_connect(c, port));
	ASSERT_EQ(0, child_linger(l, c, &toy));
	close(l);

	EXPECT_EQ(1, tcp.l_onoff);
	EXPECT_EQ(7, tcp.l_linger);
	EXPECT_EQ(tcp.l_onoff, toy.l_onoff);
	EXPECT_EQ(tcp.l_linger, toy.l_linger);
}

/* A bound DGRAM receiver with a small buffer, filled up by @s. */
static int full_receiver(int s, uint32_t *port)
{
	int r = toy_socket(SOCK_DGRAM), v = 4096;
	char buf[512] = { 0 };

	if (r < 0 || toy_bind(r, 0) ||
	    toy_setsockopt_int(r, SOL_SOCKET, SO_RCVBUF, v))
		return -1;
	*port = toy_port(r);
	if (toy_connect(s, *port))
		return -1;
	while (send(s, buf, sizeof(buf), MSG_DONTWAIT) == sizeof(buf))
		;
	return errno == EAGAIN ? r : -1;
}

struct poller {
	pthread_t thread;
	int fd, ret;
	volatile pid_t tid;
	short revents;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };

	p->tid = (pid_t)syscall(SYS_gettid);
	p->ret = (int)syscall(SYS_poll, &pfd, 1, 10000);
	p->revents = pfd.revents;
	return NULL;
}

TEST(dgram_poll_follows_a_reconnect)
{
	struct poller p = { .ret = -2 };
	uint32_t port1, port2;
	int s, r1, r2;

	ASSERT_EQ(0, toy_ensure_module());
	s = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, toy_bind(s, 0));
	r1 = full_receiver(s, &port1);
	ASSERT_LE(0, r1);
	EXPECT_EQ(0, toy_poll(s, POLLOUT, 0));	/* hooked on r1's room */

	/* A blocked poller learns of the new, empty receiver at once. */
	p.fd = s;
	ASSERT_EQ(0, pthread_create(&p.thread, NULL, poll_thread, &p));
	while (!p.tid)
		usleep(1000);
	ASSERT_EQ(0, wait_in_syscall(p.tid, SYS_poll));
	r2 = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, r2);
	ASSERT_EQ(0, toy_bind(r2, 0));
	port2 = toy_port(r2);
	ASSERT_EQ(0, toy_connect(s, port2));
	ASSERT_EQ(0, pthread_join(p.thread, NULL));
	EXPECT_EQ(1, p.ret);
	EXPECT_TRUE(p.revents & POLLOUT);
	EXPECT_EQ(1, send(s, "x", 1, MSG_DONTWAIT));

	/* Disconnected: its own buffer decides again. */
	ASSERT_EQ(0, toy_connect(s, port1));
	EXPECT_EQ(0, toy_poll(s, POLLOUT, 0));
	{
		struct sockaddr unspec = { .sa_family = AF_UNSPEC };

		ASSERT_EQ(0, connect(s, &unspec, sizeof(unspec)));
	}
	EXPECT_EQ(POLLOUT, toy_poll(s, POLLOUT, 0) & POLLOUT);
	close(s);
	close(r1);
	close(r2);
}

#define RING_FILL	(256 << 10)	/* every ring page of a 1 MiB SO_SNDBUF */

/* A pair whose writer has all its ring pages in flight (nothing read). */
static int pair_with_ring_in_flight(int sv[2], char *buf)
{
	int v = 1 << 20, off;

	if (socketpair(AF_TOY, SOCK_STREAM, 0, sv) ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) ||
	    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		return -1;
	toy_pattern(buf, RING_FILL, 0);
	for (off = 0; off < RING_FILL; off += 32 << 10)
		if (send(sv[0], buf + off, 32 << 10, MSG_DONTWAIT) != 32 << 10)
			return -1;
	return 0;
}

TEST(one_off_page_is_charged_whole)
{
	static char buf[RING_FILL];
	long before, after;
	int sv[2];

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, pair_with_ring_in_flight(sv, buf));
	before = toy_stat_value("mem_charged");
	ASSERT_LE(0, before);
	ASSERT_EQ(2048, send(sv[0], buf, 2048, MSG_DONTWAIT));
	after = toy_stat_value("mem_charged");
	TH_LOG("a 2048-byte write with the ring in flight charged %ld bytes",
	       after - before);
	EXPECT_LE(4096, after - before);
	toy_close_fds(sv, 2);
}

TEST(fault_into_a_one_off_page_keeps_the_stream)
{
	static char buf[RING_FILL], got[RING_FILL];
	int sv[2];

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, pair_with_ring_in_flight(sv, buf));
	/* Past the last mapped byte of our buffer: nothing is sent. */
	EXPECT_ERRNO(EFAULT, send(sv[0], (char *)8, 2048, MSG_DONTWAIT));
	ASSERT_EQ(RING_FILL, read_all(sv[1], got, RING_FILL));
	EXPECT_EQ(0, memcmp(buf, got, RING_FILL));
	EXPECT_ERRNO(EAGAIN, recv(sv[1], got, 1, MSG_DONTWAIT));
	toy_close_fds(sv, 2);
}

#define FPA "/sys/kernel/debug/fail_page_alloc/"

/* How many failures fail_page_alloc injected since "times" was set. */
static long fpa_injected(void)
{
	long left = read_long_file(FPA "times");

	return left < 0 ? -1 : 1000000 - left;
}

/* Writes @val to the fault injection attribute @file of @dir. */
static int fault_set(const char *dir, const char *file, const char *val)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), "%s%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (int)strlen(val) ? 0 : -1;
}

/* af_toy's place in memory, from /proc/modules (kptr_restrict off). */
static int module_range(unsigned long *start, unsigned long *end)
{
	FILE *f = fopen("/proc/modules", "re");
	char line[256], name[64];
	unsigned long size, addr;
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%63s %lu %*d %*s %*s %lx", name, &size,
			       &addr) == 3 && !strcmp(name, "af_toy") && addr;
	if (f)
		fclose(f);
	if (!found)
		return -1;
	*start = addr;
	*end = addr + size;
	return 0;
}

/*
 * Points the injector of @dir at this task's allocations with af_toy's
 * code on the stack (@on), or at nothing; the caller arms it.
 */
static int fault_target_af_toy(const char *dir, bool on)
{
	int fd, err = 0;
	unsigned long start = 0, end = ~0UL;
	char v[32];

	/* Disarmed first: the filters below then match every task. */
	if (!on)
		err |= fault_set(dir, "probability", "0") |
		       fault_set(dir, "times", "0");
	fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	err |= fd < 0 || write(fd, on ? "1" : "0", 1) != 1;
	if (fd >= 0)
		close(fd);
	fd = open("/proc/sys/kernel/kptr_restrict", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		err |= write(fd, "0", 1) != 1;
		close(fd);
	}
	if (on)
		err |= module_range(&start, &end);
	snprintf(v, sizeof(v), "0x%lx", start);
	err |= fault_set(dir, "require-start", v);
	snprintf(v, sizeof(v), "0x%lx", end);
	err |= fault_set(dir, "require-end", v);
	err |= fault_set(dir, "stacktrace-depth", "32");
	err |= fault_set(dir, "task-filter", on ? "1" : "0");
	err |= fault_set(dir, "ignore-gfp-wait", on ? "0" : "1");
	err |= fault_set(dir, "verbose", "0");
	err |= fault_set(dir, "interval", "1");
	err |= fault_set(dir, "space", "0");
	return err ? -1 : 0;
}

/* Is the fault injection directory @dir there (debugfs mounted)? */
static bool have_fault_dir(const char *dir)
{
	if (access(dir, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return !access(dir, F_OK);
}

/*
 * From now on, every order >= 1 page allocation that this task makes
 * from af_toy's code fails (the stack trace filter keeps the rest of the
 * kernel, page faults included, out of it).
 */
static int no_high_order_pages(bool on)
{
	int err = fault_target_af_toy(FPA, on);

	err |= fault_set(FPA, "min-order", on ? "1" : "0");
	err |= fault_set(FPA, "ignore-gfp-highmem", "0");
	if (on) {
		err |= fault_set(FPA, "times", "1000000");
		err |= fault_set(FPA, "probability", "100");
	}
	return err ? -1 : 0;
}

/* One record of @len bytes from @s to @r, read back intact. */
static int record_round_trip(int s, int r, size_t len)
{
	static char out[1 << 20], in[1 << 20];

	toy_pattern(out, len, len);
	memset(in, 0, len);
	if (send(s, out, len, 0) != (ssize_t)len ||
	    recv(r, in, sizeof(in), 0) != (ssize_t)len)
		return -1;
	return memcmp(out, in, len) ? -1 : 0;
}

TEST(records_need_no_high_order_page)
{
	int sp[2], dg[2], big = 1 << 20, i;
	size_t sizes[] = { 100000, 212992, 1 << 20 };

	ASSERT_EQ(0, toy_ensure_module());
	if (!have_fault_dir(FPA))
		SKIP(return, "no fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC)");
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_SEQPACKET, 0, sp));
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, dg));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, setsockopt(sp[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)));
		ASSERT_EQ(0, setsockopt(sp[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)));
		ASSERT_EQ(0, setsockopt(dg[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)));
		ASSERT_EQ(0, setsockopt(dg[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)));
	}
	ASSERT_EQ(0, no_high_order_pages(true));
	for (i = 0; i < (int)ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(0, record_round_trip(sp[0], sp[1], sizes[i]))
			TH_LOG("SEQPACKET %zu bytes: %s", sizes[i], strerror(errno));
		EXPECT_EQ(0, record_round_trip(dg[0], dg[1], sizes[i]))
			TH_LOG("DGRAM %zu bytes: %s", sizes[i], strerror(errno));
	}
	/* The kernel really was refused: the test is not vacuous. */
	TH_LOG("high-order allocations refused: %ld", fpa_injected());
	EXPECT_LT(0, fpa_injected());
	EXPECT_EQ(0, no_high_order_pages(false));
	toy_close_fds(sp, 2);
	toy_close_fds(dg, 2);
}

#define WALK_SOCKS 900
#define WALK_READS 5

/* How often each of @ino[0..n) appears in one read of /proc/net/toy. */
static int count_in_proc(const ino_t *ino, int n, int *seen)
{
	char line[256];
	unsigned long i;
	FILE *f;
	int k;

	memset(seen, 0, n * sizeof(*seen));
	f = fopen("/proc/net/toy", "r");
	if (!f)
		return -1;
	/* A small buffer: many reads, each resuming the kernel's walk. */
	setvbuf(f, NULL, _IOFBF, 512);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu", &i) != 1)
			continue;
		for (k = 0; k < n; k++)
			if (ino[k] == i)
				seen[k]++;
	}
	fclose(f);
	return 0;
}

/*
 * /proc/net/toy walks the socket index list by list, resuming where each
 * output chunk stopped.  While another process creates and closes sockets
 * all the time (they come and go in the same lists), every socket that
 * stays open is listed exactly once, in every read.
 */
TEST(proc_walk_lists_each_socket_once_under_churn)
{
	static ino_t ino[WALK_SOCKS];
	static int fds[WALK_SOCKS], seen[WALK_SOCKS];
	struct stat st;
	int i, r, bad;
	pid_t pid;

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, toy_raise_nofile(WALK_SOCKS + 64));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	for (i = 0; i < WALK_SOCKS; i++) {
		ASSERT_LE(0, fds[i] = socket(AF_TOY, SOCK_DGRAM, 0));
		ASSERT_EQ(0, fstat(fds[i], &st));
		ino[i] = st.st_ino;
	}
	if (TOY_FORK(pid)) {
		/* gone with the test, whatever ends it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int fd = socket(AF_TOY, i++ % 2 ? SOCK_STREAM :
					SOCK_DGRAM, 0);

			if (fd >= 0)
				close(fd);
		}
	}
	for (r = 0; r < WALK_READS; r++) {
		EXPECT_EQ(0, count_in_proc(ino, WALK_SOCKS, seen));
		for (bad = 0, i = 0; i < WALK_SOCKS; i++)
			bad += seen[i] != 1;
		EXPECT_EQ(0, bad)
			TH_LOG("read %d: %d open sockets not listed once", r, bad);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	toy_close_fds(fds, WALK_SOCKS);
}

TEST_HARNESS_MAIN

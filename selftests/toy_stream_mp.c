// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM across processes: concurrent connects
 * beyond the backlog, blocking connect/accept/read/write woken by the
 * other side, signals (EINTR and SA_RESTART), SO_SNDTIMEO/non-blocking
 * connect on a full backlog, a listener closed under waiting clients,
 * SO_PEERCRED across processes and users, network namespaces.
 *
 * Sequencing is done with pipes and by waiting (bounded) until a process
 * sleeps in the kernel; nothing asserts how long anything took.
 */
#include "toy_common.h"

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(true)

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

/* SIGUSR1 to pid once it sleeps in the kernel: 0 or -1. */
static int interrupt_sleeper(pid_t pid)
{
	if (wait_proc_sleeping(pid))
		return -1;
	return kill(pid, SIGUSR1);
}

/* ---- concurrent connects ----------------------------------------------- */

TEST(concurrent_connects_beyond_backlog)
{
	enum { N = 12 };
	pid_t pids[N];
	bool seen[N] = { false };
	int l, i, pending_max = 0;
	uint32_t port;

	l = toy_listener_backlog(SOCK_STREAM, 1, &port);
	ASSERT_LE(0, l);

	for (i = 0; i < N; i++) {
		if (TOY_FORK(pids[i])) {
			uint32_t id = i, ack = 0;
			int c = toy_socket(SOCK_STREAM);

			CHILD_CHECK(c >= 0);
			CHILD_CHECK(toy_connect(c, port) == 0);	/* may wait */
			CHILD_CHECK(write(c, &id, sizeof(id)) == sizeof(id));
			CHILD_CHECK(read_all(c, &ack, sizeof(ack)) == sizeof(ack));
			CHILD_CHECK(ack == id + 1000);
			CHILD_CHECK(read(c, &ack, 1) == 0);	/* server closed */
			_exit(0);
		}
	}

	/* let the clients pile up before accepting anything */
	for (i = 0; i < N; i++) {
		struct toy_proc_entry e;
		char line[512];
		FILE *f;
		int pending = 0;

		ASSERT_EQ(0, wait_proc_sleeping(pids[i]));
		f = fopen(AF_TOY_PROC, "re");
		ASSERT_NE(NULL, f);
		while (fgets(line, sizeof(line), f))
			if (toy_proc_parse(line, &e) == 0 && e.ino == 0 &&
			    e.lport == port && !strcmp(e.state, "ESTABLISHED"))
				pending++;
		fclose(f);
		if (pending > pending_max)
			pending_max = pending;
	}
	/* backlog 1: at most backlog + 1 connections wait in the queue */
	EXPECT_LE(pending_max, 2) TH_LOG("%d children pending", pending_max);
	EXPECT_LE(1, pending_max);

	for (i = 0; i < N; i++) {
		uint32_t id = ~0u, ack;
		int s = accept(l, NULL, NULL);

		ASSERT_LE(0, s);
		ASSERT_EQ(sizeof(id), read_all(s, &id, sizeof(id)));
		ASSERT_GT(N, (int)id);
		EXPECT_FALSE(seen[id]) TH_LOG("client %u twice", id);
		seen[id] = true;
		ack = id + 1000;
		ASSERT_EQ(sizeof(ack), write(s, &ack, sizeof(ack)));
		close(s);
	}
	for (i = 0; i < N; i++) {
		EXPECT_TRUE(seen[i]);
		EXPECT_EQ(0, wait_child(pids[i])) TH_LOG("client %d", i);
	}
	close(l);
}

TEST(threaded_server_many_clients)
{
	enum { N = 8, ROUNDS = 50 };
	pid_t pids[N];
	int l, i;
	uint32_t port;

	l = toy_listener_backlog(SOCK_STREAM, N, &port);
	ASSERT_LE(0, l);
	for (i = 0; i < N; i++) {
		if (TOY_FORK(pids[i])) {
			int c = toy_socket(SOCK_STREAM), r;

			CHILD_CHECK(c >= 0);
			CHILD_CHECK(toy_connect(c, port) == 0);
			for (r = 0; r < ROUNDS; r++) {
				uint32_t v = i * 100000 + r, w;

				CHILD_CHECK(write_all(c, &v, sizeof(v)) == sizeof(v));
				CHILD_CHECK(read_all(c, &w, sizeof(w)) == sizeof(w));
				CHILD_CHECK(w == v * 2);
			}
			close(c);
			_exit(0);
		}
	}
	/* one server process per connection */
	for (i = 0; i < N; i++) {
		int s = accept(l, NULL, NULL);
		pid_t srv;

		ASSERT_LE(0, s);
		if (TOY_FORK(srv)) {
			uint32_t v;

			while (read_all(s, &v, sizeof(v)) == sizeof(v)) {
				v *= 2;
				CHILD_CHECK(write_all(s, &v, sizeof(v)) == sizeof(v));
			}
			_exit(0);
		}
		close(s);
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ(0, wait_child(pids[i]));
	}
	/* reap the servers */
	while (wait(NULL) > 0)
		;
	close(l);
}

/* ---- blocking calls woken by the other side ------------------------------ */

TEST(accept_blocks_until_connect)
{
	int l, p[2];
	uint32_t port;
	pid_t pid;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		struct sockaddr_toy a;
		socklen_t len = sizeof(a);
		uint32_t cport;
		int s = accept(l, (struct sockaddr *)&a, &len);

		CHILD_CHECK(s >= 0);
		CHILD_CHECK(read(p[0], &cport, sizeof(cport)) == sizeof(cport));
		CHILD_CHECK(a.stoy_port == cport);
		CHILD_CHECK(write(s, "welcome", 7) == 7);
		_exit(0);
	}
	{
		char buf[16];
		uint32_t cport;
		int c;

		ASSERT_EQ(0, wait_proc_sleeping(pid));
		c = toy_socket(SOCK_STREAM);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, toy_connect(c, port));
		cport = toy_port(c);
		ASSERT_EQ(sizeof(cport), write(p[1], &cport, sizeof(cport)));
		ASSERT_EQ(7, read_all(c, buf, 7));
		EXPECT_EQ(0, memcmp(buf, "welcome", 7));
		close(c);
	}
	EXPECT_EQ(0, wait_child(pid));
	close(l);
}

TOY_PAIR_FIXTURE(pair, SOCK_STREAM)

TEST_F(pair, blocked_reader_gets_eof_on_peer_close)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		char buf[16];

		toy_close(&self->a);
		CHILD_CHECK(read(self->b, buf, sizeof(buf)) == 3);
		CHILD_CHECK(read(self->b, buf, sizeof(buf)) == 0);	/* blocks */
		_exit(0);
	}
	toy_close(&self->b);
	ASSERT_EQ(3, write(self->a, "abc", 3));
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	toy_close(&self->a);
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, blocked_reader_gets_eof_on_peer_shutdown)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		char buf[16];

		CHILD_CHECK(read(self->b, buf, sizeof(buf)) == 0);	/* blocks */
		/* the half-closed peer still reads */
		CHILD_CHECK(write(self->b, "back", 4) == 4);
		_exit(0);
	}
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(0, wait_child(pid));
	{
		char buf[8];

		EXPECT_EQ(4, read_all(self->a, buf, 4));
		EXPECT_EQ(0, memcmp(buf, "back", 4));
	}
}

TEST_F(pair, blocked_reader_gets_econnreset)
{
	pid_t pid;

	/* a has unread data, so its close is a reset */
	ASSERT_EQ(4, write(self->b, "junk", 4));
	ASSERT_EQ(0, wait_proc_rq(self->a, 4));
	if (TOY_FORK(pid)) {
		char buf[16];

		toy_close(&self->a);
		/* blocks */
		CHILD_CHECK_ERRNO(ECONNRESET, read(self->b, buf, sizeof(buf)));
		_exit(0);
	}
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	toy_close(&self->a);
	EXPECT_EQ(0, wait_child(pid));
}

/* The writer of blocked_writer_gets_epipe_on_peer_close (a child). */
static void epipe_writer(int a, int b)
{
	static char buf[1 << 20];
	ssize_t n;
	int i;

	signal(SIGPIPE, SIG_IGN);
	close(b);
	n = write(a, buf, sizeof(buf));		/* blocks when full */
	/* either a short count or the error; then the error */
	CHILD_CHECK(n == -1 || (n > 0 && n < (ssize_t)sizeof(buf)));
	if (n == -1)
		CHILD_CHECK(errno == EPIPE || errno == ECONNRESET);
	for (i = 0; i < 2; i++) {
		errno = 0;
		n = write(a, buf, 1);
		CHILD_CHECK(n == -1);
		if (errno == EPIPE)
			break;
		CHILD_CHECK(errno == ECONNRESET);
	}
	CHILD_CHECK(errno == EPIPE);
	_exit(0);
}

/* The writer of blocked_writer_sigpipe (a child): SIGPIPE ends it. */
static void sigpipe_writer(int a, int b)
{
	static char buf[1 << 20];

	signal(SIGPIPE, SIG_DFL);
	close(b);
	for (;;)
		(void)!write(a, buf, sizeof(buf));
	_exit(0);
}

/* With a 4 KiB send buffer on a: a child running writer(a, b), or -1. */
static pid_t blocked_writer(int a, int b, void (*writer)(int a, int b))
{
	pid_t pid;

	if (toy_setsockopt_int(a, SOL_SOCKET, SO_SNDBUF, 4096))
		return -1;
	pid = toy_fork();
	if (pid == 0)
		writer(a, b);
	return pid;
}

TEST_F(pair, blocked_writer_gets_epipe_on_peer_close)
{
	pid_t pid = blocked_writer(self->a, self->b, epipe_writer);

	ASSERT_LE(0, pid);
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	toy_close(&self->a);
	toy_close(&self->b);	/* peer closes (with unread data) while the writer waits */
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, blocked_writer_sigpipe)
{
	pid_t pid = blocked_writer(self->a, self->b, sigpipe_writer);

	ASSERT_LE(0, pid);
	toy_close(&self->a);
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	ASSERT_EQ(0, shutdown(self->b, SHUT_RD));
	toy_close(&self->b);
	EXPECT_EQ(128 + SIGPIPE, wait_child(pid));
}

/* ---- signals --------------------------------------------------------------- */

TEST(signal_during_accept_eintr)
{
	int l;
	uint32_t port;
	pid_t pid;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	if (TOY_FORK(pid)) {
		CHILD_CHECK(toy_sigaction(SIGUSR1, on_signal, 0) == 0);
		CHILD_CHECK_ERRNO(EINTR, accept(l, NULL, NULL));
		CHILD_CHECK(got_signal == 1);
		_exit(0);
	}
	ASSERT_EQ(0, interrupt_sleeper(pid));
	EXPECT_EQ(0, wait_child(pid));
	/* the listener is unaffected */
	EXPECT_STREQ("LISTEN", proc_state(l));
	close(l);
}

TEST(signal_during_accept_sa_restart)
{
	int l, p[2];
	uint32_t port;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	if (TOY_FORK(pid)) {
		int s;

		CHILD_CHECK(toy_sigaction(SIGUSR1, on_signal, SA_RESTART) == 0);
		s = accept(l, NULL, NULL);	/* restarted after the handler */
		CHILD_CHECK(s >= 0);
		CHILD_CHECK(got_signal == 1);
		CHILD_CHECK(write(s, "R", 1) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, interrupt_sleeper(pid));
	/* still (again) asleep in accept after the handler ran */
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	{
		char c = 0;
		int fd = toy_socket(SOCK_STREAM);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, toy_connect(fd, port));
		EXPECT_EQ(1, read(fd, &c, 1));
		EXPECT_EQ('R', c);
		close(fd);
	}
	EXPECT_EQ(0, wait_child(pid));
	close(l);
}

TEST(signal_during_recv_eintr)
{
	int a, b, p[2];
	pid_t pid;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		char c;

		CHILD_CHECK(toy_sigaction(SIGUSR1, on_signal, 0) == 0);
		CHILD_CHECK_ERRNO(EINTR, read(b, &c, 1));
		CHILD_CHECK(sync_post(p[1]) == 0);
		/* nothing was lost: the data sent afterwards arrives */
		CHILD_CHECK(read(b, &c, 1) == 1 && c == 'D');
		_exit(0);
	}
	ASSERT_EQ(0, interrupt_sleeper(pid));
	ASSERT_EQ(0, sync_wait(p[0]));
	ASSERT_EQ(1, write(a, "D", 1));
	EXPECT_EQ(0, wait_child(pid));
	close(a);
	close(b);
}

/* A listener of backlog 1 whose queue is full (fds: the n connections). */
FIXTURE(full)
{
	int l, fds[64], n;
	uint32_t port;
};

FIXTURE_SETUP(full)
{
	self->n = 0;
	self->l = toy_full_listener(1, &self->port, self->fds, 64, &self->n);
	ASSERT_LE(0, self->l);
}

FIXTURE_TEARDOWN(full)
{
	toy_close_fds(self->fds, self->n);
	toy_close_all(self->l);
}

TEST_F(full, signal_during_connect_eintr)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		int c;

		CHILD_CHECK(toy_sigaction(SIGUSR1, on_signal, 0) == 0);
		c = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c >= 0);
		/* waits for room */
		CHILD_CHECK_ERRNO(EINTR, toy_connect(c, self->port));
		CHILD_CHECK(got_signal == 1);
		_exit(0);
	}
	ASSERT_EQ(0, interrupt_sleeper(pid));
	EXPECT_EQ(0, wait_child(pid));
}

/* ---- full backlog ----------------------------------------------------------- */

TEST_F(full, blocking_connect_waits_for_accept)
{
	int i, s;
	pid_t pid;

	if (TOY_FORK(pid)) {
		int c = toy_socket(SOCK_STREAM);

		CHILD_CHECK(c >= 0);
		CHILD_CHECK(toy_connect(c, self->port) == 0);	/* waits */
		CHILD_CHECK(write(c, "late", 4) == 4);
		_exit(0);
	}
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	/* the waiting client is not connected yet */
	for (i = 0; i <= self->n; i++) {
		char buf[8];

		s = accept(self->l, NULL, NULL);
		ASSERT_LE(0, s);
		if (i == self->n) {
			ASSERT_EQ(4, read_all(s, buf, 4));
			EXPECT_EQ(0, memcmp(buf, "late", 4));
		}
		close(s);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(full, nonblocking_connect_full_backlog_eagain)
{
	int i, c;

	ASSERT_GE(2, self->n);
	c = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, c);
	EXPECT_ERRNO(EAGAIN, toy_connect(c, self->port));
	/* the failed socket is left unconnected and may retry */
	EXPECT_STREQ("CLOSED", proc_state(c));
	i = accept(self->l, NULL, NULL);
	ASSERT_LE(0, i);
	close(i);
	EXPECT_EQ(0, toy_connect(c, self->port));
	EXPECT_STREQ("ESTABLISHED", proc_state(c));
	close(c);
}

TEST_F(full, sndtimeo_connect_full_backlog_eagain)
{
	int c;

	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_set_timeo(c, SO_SNDTIMEO, 50000));
	EXPECT_ERRNO(EAGAIN, toy_connect(c, self->port));
	EXPECT_STREQ("CLOSED", proc_state(c));
	close(c);
}

TEST(listener_closed_while_connect_waits)
{
	enum { W = 3 };
	int l, fds[64], n, i;
	uint32_t port;
	pid_t pids[W];

	l = toy_full_listener(1, &port, fds, 64, &n);
	ASSERT_LE(0, l);
	for (i = 0; i < W; i++) {
		if (TOY_FORK(pids[i])) {
			int c = toy_socket(SOCK_STREAM);

			close(l);
			CHILD_CHECK(c >= 0);
			errno = 0;
			CHILD_CHECK(toy_connect(c, port) == -1);	/* waits */
			CHILD_CHECK(errno == ECONNREFUSED);
			_exit(0);
		}
	}
	for (i = 0; i < W; i++) {
		ASSERT_EQ(0, wait_proc_sleeping(pids[i]));
	}
	close(l);
	for (i = 0; i < W; i++) {
		EXPECT_EQ(0, wait_child(pids[i])) TH_LOG("waiter %d", i);
	}
	/* the queued, never accepted connections are reset or closed */
	for (i = 0; i < n; i++) {
		char c;
		ssize_t r;

		ASSERT_EQ(0, toy_set_nonblock(fds[i], false));
		ASSERT_EQ(0, toy_set_timeo(fds[i], SO_RCVTIMEO, 10000000));
		errno = 0;
		r = read(fds[i], &c, 1);
		EXPECT_TRUE(r == 0 || (r == -1 && errno == ECONNRESET))
			TH_LOG("queued %d: read %zd errno %d", i, r, errno);
		close(fds[i]);
	}
	/* the port is free again */
	l = toy_listener_port(SOCK_STREAM, port, 1, NULL);
	EXPECT_LE(0, l);
	close(l);
}

/* ---- credentials -------------------------------------------------------------- */

TEST(peercred_across_processes_and_users)
{
	int p[2], l;
	uint32_t port;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to change uid");
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct toy_proc_entry e;
		int s;

		CHILD_CHECK(setgid(65533) == 0);
		CHILD_CHECK(setuid(65534) == 0);
		l = toy_listener(SOCK_STREAM, &port);
		CHILD_CHECK(l >= 0);
		CHILD_CHECK(proc_entry(l, &e) == 0 && e.uid == 65534);
		CHILD_CHECK(write(p[1], &port, sizeof(port)) == sizeof(port));
		s = accept(l, NULL, NULL);
		CHILD_CHECK(s >= 0);
		CHILD_CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0);
		CHILD_CHECK(cr.pid == getppid());
		CHILD_CHECK(cr.uid == 0 && cr.gid == 0);
		CHILD_CHECK(proc_entry(s, &e) == 0 && e.uid == 65534);
		CHILD_CHECK(write(s, "k", 1) == 1);
		_exit(0);
	}
	{
		struct ucred cr;
		socklen_t len = sizeof(cr);
		char k;
		int c = toy_socket(SOCK_STREAM);

		ASSERT_EQ(sizeof(port), read(p[0], &port, sizeof(port)));
		ASSERT_LE(0, c);
		ASSERT_EQ(0, toy_connect(c, port));
		ASSERT_EQ(0, getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len));
		/* the listener's credentials from listen() time */
		EXPECT_EQ(pid, cr.pid);
		EXPECT_EQ(65534U, cr.uid);
		EXPECT_EQ(65533U, cr.gid);
		EXPECT_EQ(1, read(c, &k, 1));
		close(c);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST(unprivileged_client_server)
{
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to change uid");
	if (TOY_FORK(pid)) {
		char buf[8];
		int a, b;

		CHILD_CHECK(setuid(65534) == 0);
		CHILD_CHECK(toy_connect_pair(SOCK_STREAM, &a, &b) == 0);
		CHILD_CHECK(write(a, "nobody", 6) == 6);
		CHILD_CHECK(read_all(b, buf, 6) == 6);
		CHILD_CHECK(memcmp(buf, "nobody", 6) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

/* ---- network namespaces -------------------------------------------------------- */

TEST(netns_ports_are_per_netns)
{
	int l, p[2];
	uint32_t port;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWNET)");
	l = toy_listener_port(SOCK_STREAM, 7000, 4, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		struct toy_proc_entry e;
		int c, l2, c2, s2;
		uint32_t port2;

		close(l);
		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		/* the parent's listener is not reachable from here */
		c = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c >= 0);
		CHILD_CHECK_ERRNO(ECONNREFUSED, toy_connect(c, 7000));
		/* and not listed in this netns's /proc/net/toy */
		CHILD_CHECK(proc_find("STREAM", 7000, 0, &e) == -1);
		/* the same port is free here */
		l2 = toy_listener_port(SOCK_STREAM, 7000, 4, &port2);
		CHILD_CHECK(l2 >= 0 && port2 == 7000);
		c2 = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c2 >= 0);
		CHILD_CHECK(toy_connect(c2, 7000) == 0);
		s2 = accept(l2, NULL, NULL);
		CHILD_CHECK(s2 >= 0);
		CHILD_CHECK(write(c2, "ns", 2) == 2);
		CHILD_CHECK(read(s2, &e, 2) == 2);
		CHILD_CHECK(proc_find("STREAM", 7000, 0, &e) == 0);
		CHILD_CHECK(sync_post(p[1]) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, sync_wait(p[0]));
	EXPECT_EQ(0, wait_child(pid));
	/* the child's sockets never showed up in our netns */
	{
		struct toy_proc_entry e;

		ASSERT_EQ(0, proc_entry(l, &e));
		EXPECT_STREQ("LISTEN", e.state);
		ASSERT_EQ(0, toy_set_nonblock(l, true));
		EXPECT_ERRNO(EAGAIN, accept(l, NULL, NULL));
	}
	close(l);
}

/*
 * A netns dies with sockets in every state still open (its only process
 * exits): all of them are freed (the module's refcount, which each socket
 * holds, comes back to where it was) and af_toy keeps working.
 */
TEST(netns_destroyed_with_live_sockets)
{
	long r0, during, after = -1;
	int i, k;

	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWNET)");
	r0 = toy_module_refcnt();
	ASSERT_LE(0, r0) TH_LOG("no /sys/module/af_toy/refcnt: af_toy not loaded as a module?");
	for (i = 0; i < 3; i++) {
		int up[2], go[2], nsock = -1;
		pid_t pid;

		ASSERT_EQ(0, pipe(up));
		ASSERT_EQ(0, pipe(go));
		if (TOY_FORK(pid)) {
			int l, c1, c2, a, b, fds[4], n;
			uint32_t port;

			CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
			CHILD_CHECK(proc_count() == 0);	/* a fresh netns */
			l = toy_listener(SOCK_STREAM, &port);
			CHILD_CHECK(l >= 0);
			c1 = toy_socket(SOCK_STREAM);
			c2 = toy_socket(SOCK_STREAM);
			CHILD_CHECK(c1 >= 0 && c2 >= 0);
			CHILD_CHECK(toy_connect(c1, port) == 0);
			CHILD_CHECK(toy_connect(c2, port) == 0);	/* left pending */
			a = accept(l, NULL, NULL);
			CHILD_CHECK(a >= 0);
			CHILD_CHECK(write(a, "unread", 6) == 6);
			CHILD_CHECK(toy_connect_pair(SOCK_STREAM, &fds[0], &fds[1]) == 0);
			CHILD_CHECK(shutdown(fds[0], SHUT_WR) == 0);
			CHILD_CHECK(socketpair(AF_TOY, SOCK_STREAM, 0, &fds[2]) == 0);
			b = fds[2];
			CHILD_CHECK(write(b, "x", 1) == 1);
			CHILD_CHECK(wait_proc_state(fds[1], "CLOSE_WAIT") == 0);
			CHILD_CHECK(wait_proc_rq(c1, 6) == 0);
			/* l, c1, c2 + its unaccepted child, a, 4 more */
			n = proc_count();
			CHILD_CHECK(n >= 9);
			CHILD_CHECK(write(up[1], &n, sizeof(n)) == sizeof(n));
			CHILD_CHECK(sync_wait(go[0]) == 0);
			/* exit with everything open: the netns dies with them */
			_exit(0);
		}
		ASSERT_EQ(sizeof(nsock), read(up[0], &nsock, sizeof(nsock)));
		/* the refcount sees the netns's sockets (so it can see a leak) */
		during = toy_module_refcnt();
		EXPECT_LE(r0 + nsock, during)
			TH_LOG("refcnt %ld with %d sockets, %ld before", during, nsock, r0);
		ASSERT_EQ(0, sync_post(go[1]));
		EXPECT_EQ(0, wait_child(pid));
		toy_close_fds(up, 2);
		toy_close_fds(go, 2);
	}
	/* every socket of the dead namespaces is freed (bounded wait) */
	for (k = 0; k < TOY_WAIT_TRIES; k++) {
		after = toy_module_refcnt();
		if (after <= r0)
			break;
		usleep(TOY_WAIT_USEC);
	}
	EXPECT_LE(after, r0) TH_LOG("refcnt %ld, %ld before: sockets of dead netns leaked", after, r0);
	/* the module still works in the initial netns */
	{
		char z = 0;
		int a, b;

		ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
		ASSERT_EQ(1, write(a, "z", 1));
		EXPECT_EQ(1, read(b, &z, 1));
		EXPECT_EQ('z', z);
		close(a);
		close(b);
	}
}

TEST(netns_socket_outlives_its_namespace_process)
{
	/* a socket passed out of a netns keeps working after the creator exits */
	int sv[2], p[2];
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWNET)");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	if (TOY_FORK(pid)) {
		char cbuf[CMSG_SPACE(2 * sizeof(int))];
		struct msghdr m = { 0 };
		struct iovec iov = { "f", 1 };
		struct cmsghdr *cm;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_connect_pair(SOCK_STREAM, &sv[0], &sv[1]) == 0);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cm), sv, 2 * sizeof(int));
		CHILD_CHECK(sendmsg(p[1], &m, 0) == 1);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	{
		char cbuf[CMSG_SPACE(2 * sizeof(int))], f, buf[8];
		struct msghdr m = { 0 };
		struct iovec iov = { &f, 1 };
		struct cmsghdr *cm;

		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		ASSERT_EQ(1, recvmsg(p[0], &m, 0));
		cm = CMSG_FIRSTHDR(&m);
		ASSERT_NE(NULL, cm);
		memcpy(sv, CMSG_DATA(cm), 2 * sizeof(int));
		ASSERT_EQ(5, write(sv[0], "alive", 5));
		ASSERT_EQ(5, read_all(sv[1], buf, 5));
		EXPECT_EQ(0, memcmp(buf, "alive", 5));
		close(sv[0]);
		EXPECT_EQ(0, read(sv[1], buf, 5));
		close(sv[1]);
	}
	toy_close_fds(p, 2);
}

TEST_HARNESS_MAIN

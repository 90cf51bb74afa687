// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM (issue 3): bind, listen, connect, accept/accept4,
 * getsockname/getpeername, socket options, shutdown and the state machine
 * as seen in /proc/net/toy and in the dynamic-debug narration.
 *
 * Data transfer, poll/epoll and errors on I/O: toy_stream_io.c.
 * Multi-process cases (signals, backlog, netns, credentials, timeouts):
 * toy_stream_mp.c.  The 64 MiB transfer: toy_stream_bulk.c.
 */
#include "toy_common.h"

#include <limits.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"

/* ---- bind ------------------------------------------------------------ */

TEST(bind_port0_picks_ephemeral)
{
	struct sockaddr_toy a;
	socklen_t len = sizeof(a);
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 0));
	memset(&a, 0xff, sizeof(a));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &len));
	EXPECT_EQ(sizeof(struct sockaddr_toy), len);
	EXPECT_EQ(AF_TOY, a.stoy_family);
	EXPECT_EQ(0, a.stoy_reserved);
	EXPECT_LE(TOY_EPHEMERAL_LO, a.stoy_port);
	EXPECT_GE(TOY_EPHEMERAL_HI, a.stoy_port);
	close(fd);
}

TEST(bind_specific_port_visible)
{
	struct toy_proc_entry e;
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 5001));
	EXPECT_EQ(5001, toy_port(fd));
	ASSERT_EQ(0, proc_entry(fd, &e));
	EXPECT_STREQ("STREAM", e.type);
	EXPECT_STREQ("CLOSED", e.state);
	EXPECT_EQ(5001UL, e.lport);
	EXPECT_EQ(0UL, e.pport);
	close(fd);
}

TEST(bind_large_port_number)
{
	/* ports are 32 bit on AF_TOY */
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 100000));
	EXPECT_EQ(100000, toy_port(fd));
	close(fd);
}

TEST(bind_short_addrlen_einval)
{
	struct sockaddr_toy a = toy_addr(5002);
	static const socklen_t lens[] = { 0, 2, 4, sizeof(a) - 1 };
	unsigned int i;
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, lens[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("addrlen %u", lens[i]);
	}
	/* still unbound */
	EXPECT_EQ(0, toy_port(fd));
	close(fd);
}

TEST(bind_wrong_family_eafnosupport)
{
	struct sockaddr_toy a = toy_addr(5003);
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	a.stoy_family = AF_INET;
	errno = 0;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	a.stoy_family = AF_UNIX;
	errno = 0;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	close(fd);
}

TEST(bind_reserved_nonzero_einval)
{
	struct sockaddr_toy a = toy_addr(5004);
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	a.stoy_reserved = 1;
	errno = 0;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, toy_port(fd));
	close(fd);
}

TEST(bind_bad_pointer_efault)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)8, sizeof(struct sockaddr_toy)));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

TEST(bind_twice_einval)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 5005));
	errno = 0;
	EXPECT_EQ(-1, toy_bind(fd, 5006));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, toy_bind(fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(5005, toy_port(fd));
	close(fd);
}

TEST(bind_addrinuse_then_free_after_close)
{
	int a = toy_socket(SOCK_STREAM), b = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, toy_bind(a, 5007));
	errno = 0;
	EXPECT_EQ(-1, toy_bind(b, 5007));
	EXPECT_EQ(EADDRINUSE, errno);
	/* a listener holds it too */
	ASSERT_EQ(0, listen(a, 1));
	errno = 0;
	EXPECT_EQ(-1, toy_bind(b, 5007));
	EXPECT_EQ(EADDRINUSE, errno);
	close(a);
	EXPECT_EQ(0, toy_bind(b, 5007));
	close(b);
}

TEST(bind_same_port_other_types)
{
	int s = toy_socket(SOCK_STREAM), q = toy_socket(SOCK_SEQPACKET);
	int d = toy_socket(SOCK_DGRAM), s2 = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, s);
	ASSERT_LE(0, q);
	ASSERT_LE(0, d);
	ASSERT_LE(0, s2);
	EXPECT_EQ(0, toy_bind(s, 5008));
	EXPECT_EQ(0, toy_bind(q, 5008));
	EXPECT_EQ(0, toy_bind(d, 5008));
	errno = 0;
	EXPECT_EQ(-1, toy_bind(s2, 5008));
	EXPECT_EQ(EADDRINUSE, errno);
	close(s);
	close(q);
	close(d);
	close(s2);
}

TEST(bind_ephemeral_ports_distinct)
{
	enum { N = 64 };
	int fds[N], i, j;
	long ports[N];

	for (i = 0; i < N; i++) {
		fds[i] = toy_socket(SOCK_STREAM);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, toy_bind(fds[i], 0));
		ports[i] = toy_port(fds[i]);
		ASSERT_LE(TOY_EPHEMERAL_LO, ports[i]);
		ASSERT_GE(TOY_EPHEMERAL_HI, ports[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(ports[j], ports[i]);
	}
	for (i = 0; i < N; i++)
		close(fds[i]);
}

TEST(bind_ephemeral_skips_taken_port)
{
	/* a fixed bind inside the range is never handed out again */
	int a = toy_socket(SOCK_STREAM), i;
	long p;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, toy_bind(a, 0));
	p = toy_port(a);
	for (i = 0; i < 32; i++) {
		int b = toy_socket(SOCK_STREAM);

		ASSERT_LE(0, b);
		ASSERT_EQ(0, toy_bind(b, 0));
		EXPECT_NE(p, toy_port(b));
		close(b);
	}
	close(a);
}

TEST(bind_low_port_as_root)
{
	int fd = toy_socket(SOCK_STREAM);

	if (geteuid() != 0)
		SKIP(return, "needs root");
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, toy_bind(fd, 7));
	EXPECT_EQ(7, toy_port(fd));
	close(fd);
}

TEST(bind_low_port_unprivileged_eacces)
{
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop privileges");
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int a, b, c;

		CHILD_CHECK(setgid(65534) == 0);
		CHILD_CHECK(setuid(65534) == 0);
		a = toy_socket(SOCK_STREAM);
		CHILD_CHECK(a >= 0);
		errno = 0;
		CHILD_CHECK(toy_bind(a, 80) == -1 && errno == EACCES);
		errno = 0;
		CHILD_CHECK(toy_bind(a, 1023) == -1 && errno == EACCES);
		CHILD_CHECK(toy_bind(a, 1024) == 0);
		b = toy_socket(SOCK_STREAM);
		CHILD_CHECK(b >= 0);
		CHILD_CHECK(toy_bind(b, 0) == 0);
		CHILD_CHECK(toy_port(b) >= TOY_EPHEMERAL_LO);
		/* listen autobind works unprivileged too */
		c = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c >= 0);
		CHILD_CHECK(listen(c, 1) == 0);
		CHILD_CHECK(toy_port(c) >= TOY_EPHEMERAL_LO);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

/* ---- listen ---------------------------------------------------------- */

TEST(listen_autobinds_and_shows_listen)
{
	struct toy_proc_entry e;
	int fd = toy_socket(SOCK_STREAM);
	long port;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, toy_port(fd));
	ASSERT_EQ(0, listen(fd, 4));
	port = toy_port(fd);
	EXPECT_LE(TOY_EPHEMERAL_LO, port);
	EXPECT_GE(TOY_EPHEMERAL_HI, port);
	ASSERT_EQ(0, proc_entry(fd, &e));
	EXPECT_STREQ("LISTEN", e.state);
	EXPECT_EQ((unsigned long)port, e.lport);
	EXPECT_EQ(0UL, e.pport);
	close(fd);
}

TEST(listen_so_acceptconn)
{
	int fd = toy_socket(SOCK_STREAM), a, b;

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, toy_getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN));
	ASSERT_EQ(0, listen(fd, 1));
	EXPECT_EQ(1, toy_getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN));
	close(fd);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	EXPECT_EQ(0, toy_getsockopt_int(a, SOL_SOCKET, SO_ACCEPTCONN));
	EXPECT_EQ(0, toy_getsockopt_int(b, SOL_SOCKET, SO_ACCEPTCONN));
	close(a);
	close(b);
}

TEST(listen_on_connected_einval)
{
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	errno = 0;
	EXPECT_EQ(-1, listen(a, 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, listen(b, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("ESTABLISHED", proc_state(a));
	close(a);
	close(b);
}

TEST(listen_backlog_clamped_to_somaxconn)
{
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWNET)");
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fds[64], l1, l2, n_small, n_big, i;
		uint32_t p1, p2;
		FILE *f;

		/* somaxconn is per netns: change it in a private one */
		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		f = fopen("/proc/sys/net/core/somaxconn", "w");
		CHILD_CHECK(f != NULL);
		CHILD_CHECK(fprintf(f, "3\n") > 0);
		CHILD_CHECK(fclose(f) == 0);

		l1 = toy_listener_backlog(SOCK_STREAM, 3, &p1);
		CHILD_CHECK(l1 >= 0);
		n_small = toy_fill_backlog(p1, fds, 64);
		CHILD_CHECK(n_small >= 3 && n_small <= 4);
		for (i = 0; i < n_small; i++)
			close(fds[i]);

		l2 = toy_listener_backlog(SOCK_STREAM, 1000, &p2);
		CHILD_CHECK(l2 >= 0);
		n_big = toy_fill_backlog(p2, fds, 64);
		if (n_big != n_small)
			fprintf(stderr, "# backlog 3: %d, backlog 1000 with somaxconn 3: %d\n",
				n_small, n_big);
		CHILD_CHECK(n_big == n_small);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST(listen_backlog_limits_pending)
{
	int fds[64], l, n, i, k;
	uint32_t port;

	l = toy_listener_backlog(SOCK_STREAM, 2, &port);
	ASSERT_LE(0, l);
	n = toy_fill_backlog(port, fds, 64);
	/* backlog 2: two (TCP and AF_UNIX allow backlog + 1) */
	EXPECT_TRUE(n == 2 || n == 3) TH_LOG("accepted %d pending connects", n);
	/* accepting one makes room for exactly one more */
	k = accept(l, NULL, NULL);
	ASSERT_LE(0, k);
	i = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, toy_connect(i, port));
	errno = 0;
	EXPECT_EQ(0, toy_fill_backlog(port, fds + n, 1));
	close(i);
	close(k);
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(l);
}

/* ---- connect --------------------------------------------------------- */

TEST(connect_nobody_bound_econnrefused)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, toy_connect(fd, 5010));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_STREQ("CLOSED", proc_state(fd));
	/* the socket can still connect somewhere else afterwards */
	{
		uint32_t port;
		int l = toy_listener(SOCK_STREAM, &port);

		ASSERT_LE(0, l);
		EXPECT_EQ(0, toy_connect(fd, port));
		close(l);
	}
	close(fd);
}

TEST(connect_bound_not_listening_econnrefused)
{
	int s = toy_socket(SOCK_STREAM), c = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, s);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_bind(s, 5011));
	errno = 0;
	EXPECT_EQ(-1, toy_connect(c, 5011));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(s);
	close(c);
}

TEST(connect_stream_to_seqpacket_listener_econnrefused)
{
	int l, c;
	uint32_t port;

	l = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	errno = 0;
	EXPECT_EQ(-1, toy_connect(c, port));
	EXPECT_EQ(ECONNREFUSED, errno);
	/* the seqpacket listener got nothing */
	ASSERT_EQ(0, toy_set_nonblock(l, true));
	errno = 0;
	EXPECT_EQ(-1, accept(l, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(l);
}

TEST(connect_autobinds_and_names)
{
	struct sockaddr_toy pa;
	socklen_t plen = sizeof(pa);
	int l, c, s;
	uint32_t port;
	long cport;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	cport = toy_port(c);
	EXPECT_LE(TOY_EPHEMERAL_LO, cport);
	EXPECT_GE(TOY_EPHEMERAL_HI, cport);
	EXPECT_EQ((long)port, toy_peer_port(c));

	memset(&pa, 0xff, sizeof(pa));
	s = accept(l, (struct sockaddr *)&pa, &plen);
	ASSERT_LE(0, s);
	EXPECT_EQ(sizeof(struct sockaddr_toy), plen);
	EXPECT_EQ(AF_TOY, pa.stoy_family);
	EXPECT_EQ(0, pa.stoy_reserved);
	EXPECT_EQ(cport, (long)pa.stoy_port);
	EXPECT_EQ(cport, toy_peer_port(s));
	EXPECT_EQ((long)port, toy_port(s));
	close(c);
	close(s);
	close(l);
}

TEST(connect_from_bound_port)
{
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_bind(c, 5012));
	ASSERT_EQ(0, toy_connect(c, port));
	EXPECT_EQ(5012, toy_port(c));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(5012, toy_peer_port(s));
	close(s);
	close(c);
	close(l);
}

TEST(connect_twice_eisconn)
{
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	errno = 0;
	EXPECT_EQ(-1, toy_connect(c, port));
	EXPECT_EQ(EISCONN, errno);
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	errno = 0;
	EXPECT_EQ(-1, toy_connect(s, port));
	EXPECT_EQ(EISCONN, errno);
	/* exactly one connection was made */
	ASSERT_EQ(0, toy_set_nonblock(l, true));
	errno = 0;
	EXPECT_EQ(-1, accept(l, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(s);
	close(c);
	close(l);
}

/* TCP says EISCONN here (AF_UNIX: EINVAL); the differential test agrees. */
TEST(connect_on_listener_eisconn)
{
	int l, l2;
	uint32_t port, port2;

	l = toy_listener(SOCK_STREAM, &port);
	l2 = toy_listener(SOCK_STREAM, &port2);
	ASSERT_LE(0, l);
	ASSERT_LE(0, l2);
	errno = 0;
	EXPECT_EQ(-1, toy_connect(l, port2));
	EXPECT_EQ(EISCONN, errno);
	EXPECT_STREQ("LISTEN", proc_state(l));
	close(l);
	close(l2);
}

TEST(connect_bad_address)
{
	struct sockaddr_toy a;
	int l, c;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	a = toy_addr(port);
	errno = 0;
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a) - 1));
	EXPECT_EQ(EINVAL, errno);
	a.stoy_family = AF_INET;
	errno = 0;
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	a = toy_addr(port);
	a.stoy_reserved = 7;
	errno = 0;
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)8, sizeof(a)));
	EXPECT_EQ(EFAULT, errno);
	/* none of them connected */
	EXPECT_STREQ("CLOSED", proc_state(c));
	EXPECT_EQ(0, toy_connect(c, port));
	close(c);
	close(l);
}

TEST(connect_self_listener_port_from_same_process)
{
	/* request/response inside one process: the plain classic flow */
	char buf[16];
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(5, write(c, "hello", 5));
	ASSERT_EQ(5, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(5, write(s, "HELLO", 5));
	ASSERT_EQ(5, read(c, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "HELLO", 5));
	close(c);
	EXPECT_EQ(0, read(s, buf, sizeof(buf)));
	close(s);
	close(l);
}

/* ---- accept ---------------------------------------------------------- */

TEST(accept_non_listener_einval)
{
	int fd = toy_socket(SOCK_STREAM), a, b;

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, accept(fd, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, toy_bind(fd, 0));
	errno = 0;
	EXPECT_EQ(-1, accept(fd, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	errno = 0;
	EXPECT_EQ(-1, accept(a, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	close(a);
	close(b);
}

TEST(accept_nonblock_empty_eagain)
{
	int l;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_set_nonblock(l, true));
	errno = 0;
	EXPECT_EQ(-1, accept(l, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	errno = 0;
	EXPECT_EQ(-1, accept4(l, NULL, NULL, SOCK_CLOEXEC));
	EXPECT_EQ(EAGAIN, errno);
	close(l);
}

TEST(accept_rcvtimeo_eagain)
{
	int l;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_set_timeo(l, SO_RCVTIMEO, 50000));
	errno = 0;
	EXPECT_EQ(-1, accept(l, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno);
	close(l);
}

TEST(accept4_flags)
{
	int l, c, s, s2, c2;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	c2 = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, toy_connect(c, port));
	ASSERT_EQ(0, toy_connect(c2, port));

	s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, s);
	EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(s, F_GETFD) & FD_CLOEXEC);
	/* non-blocking accepted socket: empty read is EAGAIN */
	{
		char b;

		errno = 0;
		EXPECT_EQ(-1, read(s, &b, 1));
		EXPECT_EQ(EAGAIN, errno);
	}
	s2 = accept4(l, NULL, NULL, 0);
	ASSERT_LE(0, s2);
	EXPECT_FALSE(fcntl(s2, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(s2, F_GETFD) & FD_CLOEXEC);
	errno = 0;
	EXPECT_EQ(-1, accept4(l, NULL, NULL, 0x7fff0000));
	EXPECT_EQ(EINVAL, errno);
	close(s);
	close(s2);
	close(c);
	close(c2);
	close(l);
}

TEST(accept_short_addrlen_truncates)
{
	struct sockaddr_toy pa;
	socklen_t plen = 2;
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	memset(&pa, 0, sizeof(pa));
	s = accept(l, (struct sockaddr *)&pa, &plen);
	ASSERT_LE(0, s);
	/* the real length is reported, only 2 bytes were written */
	EXPECT_EQ(sizeof(struct sockaddr_toy), plen);
	EXPECT_EQ(AF_TOY, pa.stoy_family);
	EXPECT_EQ(0U, pa.stoy_port);
	close(s);
	close(c);
	close(l);
}

TEST(accept_fifo_order)
{
	enum { N = 4 };
	int l, c[N], i;
	uint32_t port;

	l = toy_listener_backlog(SOCK_STREAM, 8, &port);
	ASSERT_LE(0, l);
	for (i = 0; i < N; i++) {
		c[i] = toy_socket(SOCK_STREAM);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, toy_connect(c[i], port));
	}
	for (i = 0; i < N; i++) {
		int s = accept(l, NULL, NULL);

		ASSERT_LE(0, s);
		EXPECT_EQ(toy_port(c[i]), toy_peer_port(s));
		close(s);
	}
	for (i = 0; i < N; i++)
		close(c[i]);
	close(l);
}

TEST(data_sent_before_accept)
{
	char buf[32];
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	/* connect() returned: the connection exists before accept() */
	ASSERT_EQ(5, write(c, "early", 5));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, wait_proc_rq(s, 5));
	ASSERT_EQ(5, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "early", 5));
	close(s);
	close(c);
	close(l);
}

TEST(client_closed_before_accept)
{
	char buf[32];
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	ASSERT_EQ(3, write(c, "bye", 3));
	close(c);
	/* still accepted, with its data and then EOF (as TCP) */
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(3, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "bye", 3));
	EXPECT_EQ(0, read(s, buf, sizeof(buf)));
	EXPECT_STREQ("CLOSE_WAIT", proc_state(s));
	close(s);
	close(l);
}

/* ---- names and options ------------------------------------------------ */

TEST(getsockname_unbound_port0)
{
	struct sockaddr_toy a;
	socklen_t len = sizeof(a);
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	memset(&a, 0xff, sizeof(a));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &len));
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_TOY, a.stoy_family);
	EXPECT_EQ(0U, a.stoy_port);
	close(fd);
}

TEST(getpeername_unconnected_enotconn)
{
	struct sockaddr_toy a;
	socklen_t len = sizeof(a);
	int fd = toy_socket(SOCK_STREAM), l;
	uint32_t port;

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&a, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	errno = 0;
	EXPECT_EQ(-1, getpeername(l, (struct sockaddr *)&a, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(l);
}

TEST(sockopt_type_domain_protocol)
{
	int l, a, b, fds[3], i;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	fds[0] = l;
	fds[1] = a;
	fds[2] = b;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(SOCK_STREAM, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_TYPE));
		EXPECT_EQ(AF_TOY, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_DOMAIN));
		EXPECT_EQ(0, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_PROTOCOL));
		EXPECT_EQ(0, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_ERROR));
	}
	close(l);
	close(a);
	close(b);
}

TEST(sockopt_peercred_same_process)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int a, b, fd;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	memset(&cr, 0, sizeof(cr));
	ASSERT_EQ(0, getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(sizeof(cr), len);
	EXPECT_EQ(getpid(), cr.pid);
	EXPECT_EQ(getuid(), cr.uid);
	EXPECT_EQ(getgid(), cr.gid);
	len = sizeof(cr);
	memset(&cr, 0, sizeof(cr));
	ASSERT_EQ(0, getsockopt(b, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(getpid(), cr.pid);
	EXPECT_EQ(getuid(), cr.uid);
	close(a);
	close(b);

	/* an unconnected socket has no peer credentials */
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	len = sizeof(cr);
	memset(&cr, 0xff, sizeof(cr));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
		EXPECT_EQ(0, cr.pid);
		EXPECT_EQ((uid_t)-1, cr.uid);
	} else {
		EXPECT_EQ(ENOTCONN, errno);
	}
	close(fd);
}

TEST(sockopt_generic_buffers)
{
	int fd = toy_socket(SOCK_STREAM), v;

	ASSERT_LE(0, fd);
	v = 65536;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	/* the kernel's sock_setsockopt doubles the value */
	EXPECT_EQ(2 * 65536, toy_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF));
	v = 32768;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
	EXPECT_EQ(2 * 32768, toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF));
	v = 1;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	EXPECT_EQ(1, toy_getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE));
	v = 0x1000;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)));
	EXPECT_EQ(0x1000, toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT));
	{
		struct timeval tv = { .tv_sec = 3, .tv_usec = 500000 }, got;
		socklen_t len = sizeof(got);

		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
		EXPECT_EQ(3, got.tv_sec);
		EXPECT_EQ(500000, got.tv_usec);
	}
	/* an unknown option is rejected by the core, not crashed on */
	errno = 0;
	EXPECT_EQ(-1, setsockopt(fd, SOL_SOCKET, 9999, &v, sizeof(v)));
	EXPECT_EQ(ENOPROTOOPT, errno);
	close(fd);
}

/* ---- socketpair -------------------------------------------------------- */

TEST(socketpair_stream)
{
	char buf[8];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_STREAM, 0, sv));
	EXPECT_STREQ("ESTABLISHED", proc_state(sv[0]));
	EXPECT_STREQ("ESTABLISHED", proc_state(sv[1]));
	ASSERT_EQ(3, write(sv[0], "abc", 3));
	ASSERT_EQ(3, read(sv[1], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(2, write(sv[1], "xy", 2));
	ASSERT_EQ(2, read(sv[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "xy", 2));
	errno = 0;
	EXPECT_EQ(-1, toy_connect(sv[0], 1));
	EXPECT_EQ(EISCONN, errno);
	close(sv[0]);
	EXPECT_EQ(0, read(sv[1], buf, sizeof(buf)));
	close(sv[1]);
}

/* ---- shutdown ---------------------------------------------------------- */

TEST(shutdown_bad_how_einval)
{
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	errno = 0;
	EXPECT_EQ(-1, shutdown(a, 3));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, shutdown(a, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_STREQ("ESTABLISHED", proc_state(a));
	close(a);
	close(b);
}

TEST(shutdown_unconnected_enotconn)
{
	int fd = toy_socket(SOCK_STREAM), i;

	ASSERT_LE(0, fd);
	for (i = SHUT_RD; i <= SHUT_RDWR; i++) {
		errno = 0;
		EXPECT_EQ(-1, shutdown(fd, i));
		EXPECT_EQ(ENOTCONN, errno);
	}
	ASSERT_EQ(0, toy_bind(fd, 0));
	errno = 0;
	EXPECT_EQ(-1, shutdown(fd, SHUT_WR));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);
}

TEST(shutdown_wr_half_close_states)
{
	struct toy_proc_entry e;
	char buf[32];
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	ASSERT_EQ(4, write(a, "data", 4));
	ASSERT_EQ(0, shutdown(a, SHUT_WR));
	EXPECT_EQ(0, wait_proc_state(a, "FIN_WAIT2")) TH_LOG("a: %s", proc_state(a));
	EXPECT_EQ(0, wait_proc_state(b, "CLOSE_WAIT")) TH_LOG("b: %s", proc_state(b));
	/* queued data first, then EOF, twice */
	ASSERT_EQ(4, read(b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
	EXPECT_EQ(0, read(b, buf, sizeof(buf)));
	EXPECT_EQ(0, read(b, buf, sizeof(buf)));
	/* the passive side can still write back */
	ASSERT_EQ(5, write(b, "reply", 5));
	ASSERT_EQ(5, read(a, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "reply", 5));
	/* ports stay in the lines */
	ASSERT_EQ(0, proc_entry(b, &e));
	EXPECT_EQ((unsigned long)toy_port(a), e.pport);
	/* passive close: LAST_ACK -> CLOSED, the active side gets EOF */
	close(b);
	EXPECT_EQ(0, read(a, buf, sizeof(buf)));
	EXPECT_EQ(0, wait_proc_state(a, "CLOSED")) TH_LOG("a: %s", proc_state(a));
	close(a);
}

TEST(shutdown_rd_read_returns_0)
{
	char buf[8];
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	ASSERT_EQ(0, shutdown(b, SHUT_RD));
	EXPECT_EQ(0, read(b, buf, sizeof(buf)));
	/* b can still send */
	ASSERT_EQ(2, write(b, "ok", 2));
	ASSERT_EQ(2, read(a, buf, sizeof(buf)));
	/* a writing to a peer that shut down reading: EPIPE */
	errno = 0;
	EXPECT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	close(a);
	close(b);
}

TEST(shutdown_rdwr_both_directions)
{
	char buf[8];
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	ASSERT_EQ(0, shutdown(a, SHUT_RDWR));
	EXPECT_EQ(0, read(a, buf, sizeof(buf)));
	errno = 0;
	EXPECT_EQ(-1, send(a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, read(b, buf, sizeof(buf)));
	EXPECT_EQ(0, wait_proc_state(a, "FIN_WAIT2"));
	EXPECT_EQ(0, wait_proc_state(b, "CLOSE_WAIT"));
	/* repeating a shutdown is harmless */
	EXPECT_EQ(0, shutdown(a, SHUT_WR));
	close(a);
	close(b);
}

TEST(shutdown_both_sides_closed_states)
{
	int a, b;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	ASSERT_EQ(0, shutdown(a, SHUT_WR));
	EXPECT_EQ(0, wait_proc_state(a, "FIN_WAIT2"));
	ASSERT_EQ(0, shutdown(b, SHUT_WR));
	/* b: CLOSE_WAIT -> LAST_ACK -> CLOSED; a: FIN_WAIT2 -> CLOSED */
	EXPECT_EQ(0, wait_proc_state(b, "CLOSED")) TH_LOG("b: %s", proc_state(b));
	EXPECT_EQ(0, wait_proc_state(a, "CLOSED")) TH_LOG("a: %s", proc_state(a));
	close(a);
	close(b);
}

TEST(simultaneous_close_no_hang)
{
	int a, b;
	uint32_t pa, pb;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	pa = toy_port(a);
	pb = toy_port(b);
	close(a);
	close(b);
	EXPECT_EQ(0, wait_proc_gone("STREAM", pa, pb));
	EXPECT_EQ(0, wait_proc_gone("STREAM", pb, pa));
}

/* ---- /proc/net/toy ----------------------------------------------------- */

TEST(proc_established_lines)
{
	struct toy_proc_entry ea, eb, el;
	int l, c, s;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, proc_entry(l, &el));
	ASSERT_EQ(0, proc_entry(c, &ea));
	ASSERT_EQ(0, proc_entry(s, &eb));
	EXPECT_STREQ("LISTEN", el.state);
	EXPECT_STREQ("ESTABLISHED", ea.state);
	EXPECT_STREQ("ESTABLISHED", eb.state);
	EXPECT_STREQ("STREAM", ea.type);
	EXPECT_EQ((unsigned long)toy_port(c), ea.lport);
	EXPECT_EQ((unsigned long)port, ea.pport);
	EXPECT_EQ((unsigned long)port, eb.lport);
	EXPECT_EQ((unsigned long)toy_port(c), eb.pport);
	EXPECT_EQ(0UL, ea.rq);
	EXPECT_EQ(0UL, ea.sq);
	EXPECT_EQ((unsigned long)getuid(), eb.uid);
	close(c);
	close(s);
	close(l);
}

TEST(proc_unaccepted_child_inode0)
{
	struct toy_proc_entry e;
	int l, c, s;
	uint32_t port;
	long cport;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	cport = toy_port(c);
	ASSERT_EQ(0, proc_find("STREAM", port, cport, &e));
	EXPECT_EQ(0UL, e.ino);
	EXPECT_STREQ("ESTABLISHED", e.state);
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, proc_find("STREAM", port, cport, &e));
	EXPECT_EQ(toy_ino(s), e.ino);
	close(s);
	close(c);
	close(l);
}

TEST(proc_recvq_sendq_count_unread)
{
	struct toy_proc_entry e;
	char buf[100];
	int a, b, n;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	memset(buf, 'q', sizeof(buf));
	ASSERT_EQ(100, write(a, buf, 100));
	ASSERT_EQ(0, wait_proc_rq(b, 100));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(100UL, e.sq);
	EXPECT_EQ(0UL, e.rq);
	ASSERT_EQ(0, ioctl(b, FIONREAD, &n));
	EXPECT_EQ(100, n);

	ASSERT_EQ(40, read(b, buf, 40));
	EXPECT_EQ(0, wait_proc_rq(b, 60));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(60UL, e.sq);
	ASSERT_EQ(0, ioctl(b, FIONREAD, &n));
	EXPECT_EQ(60, n);

	/* MSG_PEEK does not consume */
	ASSERT_EQ(60, recv(b, buf, 100, MSG_PEEK));
	EXPECT_EQ(0, wait_proc_rq(b, 60));
	ASSERT_EQ(60, read(b, buf, 100));
	EXPECT_EQ(0, wait_proc_rq(b, 0));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(0UL, e.sq);
	close(a);
	close(b);
}

TEST(proc_closed_sockets_vanish)
{
	int a, b, n0;
	uint32_t pa, pb;

	n0 = proc_count();
	ASSERT_LE(0, n0);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	EXPECT_EQ(n0 + 2, proc_count());
	pa = toy_port(a);
	pb = toy_port(b);
	close(a);
	close(b);
	EXPECT_EQ(0, wait_proc_gone("STREAM", pa, pb));
	EXPECT_EQ(0, wait_proc_gone("STREAM", pb, pa));
	EXPECT_EQ(n0, proc_count());
}

TEST(ports_reusable_after_close)
{
	int l, a, b;
	uint32_t port, cport;

	l = toy_listener_port(SOCK_STREAM, 5020, 4, &port);
	ASSERT_LE(0, l);
	a = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, toy_bind(a, 5021));
	ASSERT_EQ(0, toy_connect(a, 5020));
	b = accept(l, NULL, NULL);
	ASSERT_LE(0, b);
	cport = toy_port(a);
	EXPECT_EQ(5021U, cport);
	close(a);
	close(b);
	close(l);
	/* no TIME_WAIT: both ports are free again at once */
	l = toy_listener_port(SOCK_STREAM, 5020, 4, &port);
	EXPECT_LE(0, l);
	a = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, a);
	EXPECT_EQ(0, toy_bind(a, 5021));
	EXPECT_EQ(0, toy_connect(a, 5020));
	close(a);
	close(l);
}

/* ---- the flow narrated by dynamic debug --------------------------------- */

/*
 * The dynamic debug control file: in procfs whenever the kernel has
 * dynamic debug (CONFIG_DYNAMIC_DEBUG_CORE), also in debugfs if mounted.
 */
static const char *const ddebug_controls[] = {
	"/proc/dynamic_debug/control",
	"/sys/kernel/debug/dynamic_debug/control",
};
static const char *ddebug_control;

static const char *ddebug_find(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(ddebug_controls) / sizeof(ddebug_controls[0]); i++)
		if (access(ddebug_controls[i], F_OK) == 0)
			return ddebug_controls[i];
	return NULL;
}

static int ddebug(const char *cmd)
{
	int fd = open(ddebug_control, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* af_toy's call sites listed in the control file with flag p on, or -1. */
static int ddebug_af_toy_sites_on(void)
{
	FILE *f = fopen(ddebug_control, "re");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *flags;

		if (!strstr(line, " [af_toy]"))
			continue;
		/* "file:line [module]function =flags \"format\"" */
		flags = strstr(line, " =");
		if (!flags)
			continue;
		flags += 2;
		flags[strcspn(flags, " \n")] = '\0';
		n += strchr(flags, 'p') != NULL;
	}
	fclose(f);
	return n;
}

/* Does text contain the words of seq[] in this order (as substrings)? */
static bool in_order(const char *text, const char *const *seq, int n)
{
	const char *p = text;
	int i;

	for (i = 0; i < n; i++) {
		p = strstr(p, seq[i]);
		if (!p)
			return false;
		p += strlen(seq[i]);
	}
	return true;
}

TEST(dmesg_narrates_state_flow)
{
	static const char *const client_seq[] = {
		"SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE",
	};
	static const char *const server_seq[] = {
		"SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE",
	};
	static char text[1 << 16];
	char rec[2048], cp[16];
	const char *const match[] = { "af_toy", cp, NULL };
	int kfd, l, c, s, sites;
	uint32_t port;

	/*
	 * Skip only for what the kernel or the environment lacks; af_toy's
	 * pr_debug() narration not being there is a failure.
	 */
	ddebug_control = ddebug_find();
	if (!ddebug_control)
		SKIP(return, "kernel without dynamic debug (no /proc/dynamic_debug): pr_debug() is compiled out");
	if (geteuid() != 0)
		SKIP(return, "needs root for %s", ddebug_control);
	kfd = toy_kmsg_open(false);
	if (kfd < 0)
		SKIP(return, "no /dev/kmsg");
	ASSERT_EQ(0, ddebug("module af_toy +p"))
		TH_LOG("%s: module af_toy +p: %s", ddebug_control, strerror(errno));
	sites = ddebug_af_toy_sites_on();
	if (sites <= 0)
		ddebug("module af_toy -p");
	ASSERT_LT(0, sites)
		TH_LOG("%s lists no af_toy call site with +p", ddebug_control);
	lseek(kfd, 0, SEEK_END);

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(2, write(c, "hi", 2));
	ASSERT_EQ(2, read(s, rec, 2));
	snprintf(cp, sizeof(cp), "%ld", toy_port(c));
	close(c);			/* active close */
	EXPECT_EQ(0, read(s, rec, sizeof(rec)));
	close(s);			/* passive close */
	close(l);
	ddebug("module af_toy -p");

	/* only the af_toy lines that name the client's port */
	toy_kmsg_collect(kfd, text, sizeof(text), match);
	close(kfd);
	EXPECT_TRUE(in_order(text, client_seq, 5)) TH_LOG("dmesg:\n%s", text);
	EXPECT_TRUE(in_order(text, server_seq, 5)) TH_LOG("dmesg:\n%s", text);
	/* segments are narrated too */
	EXPECT_TRUE(strstr(text, "SYN") && strstr(text, "FIN") && strstr(text, "ACK"))
		TH_LOG("dmesg:\n%s", text);
}

int main(int argc, char **argv)
{
	if (toy_ensure_module() < 0)
		fprintf(stderr, "# warning: AF_TOY not available: %s\n",
			strerror(errno));
	return test_harness_run(argc, argv);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM: setting a connection up: bind, listen,
 * connect, accept/accept4.
 *
 * Names, socket options, socketpair, shutdown and the state machine as
 * seen in /proc/net/toy and in the dynamic-debug narration:
 * toy_stream_state.c.  Data transfer, poll/epoll and errors on I/O:
 * toy_stream_io.c.  Multi-process cases (signals, backlog, netns, credentials, timeouts):
 * toy_stream_mp.c.  The 64 MiB transfer: toy_stream_bulk.c.
 */
#include "toy_common.h"

#include <limits.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(false)

/* Two STREAM sockets: 0, or -1 with neither open. */
static int two_sockets(int *a, int *b)
{
	*a = toy_socket(SOCK_STREAM);
	*b = toy_socket(SOCK_STREAM);
	if (*a >= 0 && *b >= 0)
		return 0;
	toy_close_pair(a, b);
	return -1;
}

/* ---- bind ------------------------------------------------------------ */

TEST(bind_port0_picks_ephemeral)
{
	int fd = toy_socket(SOCK_STREAM), len;
	struct sockaddr_toy a;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 0));
	len = toy_sockname(fd, &a);
	ASSERT_LE(0, len);
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
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		EXPECT_ERRNO(EINVAL, bind(fd, (struct sockaddr *)&a, lens[i]))
			TH_LOG("addrlen %u", lens[i]);
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
	EXPECT_ERRNO(EAFNOSUPPORT, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	a.stoy_family = AF_UNIX;
	EXPECT_ERRNO(EAFNOSUPPORT, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);
}

TEST(bind_reserved_nonzero_einval)
{
	struct sockaddr_toy a = toy_addr(5004);
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	a.stoy_reserved = 1;
	EXPECT_ERRNO(EINVAL, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(0, toy_port(fd));
	close(fd);
}

TEST(bind_bad_pointer_efault)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EFAULT, bind(fd, (struct sockaddr *)8,
				  sizeof(struct sockaddr_toy)));
	close(fd);
}

TEST(bind_twice_einval)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 5005));
	EXPECT_ERRNO(EINVAL, toy_bind(fd, 5006));
	EXPECT_ERRNO(EINVAL, toy_bind(fd, 0));
	EXPECT_EQ(5005, toy_port(fd));
	close(fd);
}

TEST(bind_addrinuse_then_free_after_close)
{
	int a, b;

	ASSERT_EQ(0, two_sockets(&a, &b));
	ASSERT_EQ(0, toy_bind(a, 5007));
	EXPECT_ERRNO(EADDRINUSE, toy_bind(b, 5007));
	/* a listener holds it too */
	ASSERT_EQ(0, listen(a, 1));
	EXPECT_ERRNO(EADDRINUSE, toy_bind(b, 5007));
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
	EXPECT_ERRNO(EADDRINUSE, toy_bind(s2, 5008));
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
		for (j = 0; j < i; j++) {
			ASSERT_NE(ports[j], ports[i]);
		}
	}
	toy_close_fds(fds, N);
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
	if (TOY_FORK(pid)) {
		int a, b, c;

		CHILD_CHECK(setgid(65534) == 0);
		CHILD_CHECK(setuid(65534) == 0);
		a = toy_socket(SOCK_STREAM);
		CHILD_CHECK(a >= 0);
		CHILD_CHECK_ERRNO(EACCES, toy_bind(a, 80));
		CHILD_CHECK_ERRNO(EACCES, toy_bind(a, 1023));
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
	EXPECT_ERRNO(EINVAL, listen(a, 1));
	EXPECT_ERRNO(EINVAL, listen(b, 1));
	EXPECT_STREQ("ESTABLISHED", proc_state(a));
	close(a);
	close(b);
}

TEST(listen_backlog_clamped_to_somaxconn)
{
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWNET)");
	if (TOY_FORK(pid)) {
		int fds[64], l1, l2, n_small, n_big;
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
		toy_close_fds(fds, n_small);

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
	toy_close_fds(fds, n);
	close(l);
}

/* ---- connect --------------------------------------------------------- */

TEST(connect_nobody_bound_econnrefused)
{
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(fd, 5010));
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
	int s, c;

	ASSERT_EQ(0, two_sockets(&s, &c));
	ASSERT_EQ(0, toy_bind(s, 5011));
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(c, 5011));
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
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(c, port));
	/* the seqpacket listener got nothing */
	ASSERT_EQ(0, toy_set_nonblock(l, true));
	EXPECT_ERRNO(EAGAIN, accept(l, NULL, NULL));
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

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
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

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	EXPECT_ERRNO(EISCONN, toy_connect(c, port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_ERRNO(EISCONN, toy_connect(s, port));
	/* exactly one connection was made */
	ASSERT_EQ(0, toy_set_nonblock(l, true));
	EXPECT_ERRNO(EAGAIN, accept(l, NULL, NULL));
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
	EXPECT_ERRNO(EISCONN, toy_connect(l, port2));
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
	EXPECT_ERRNO(EINVAL, connect(c, (struct sockaddr *)&a, sizeof(a) - 1));
	a.stoy_family = AF_INET;
	EXPECT_ERRNO(EAFNOSUPPORT, connect(c, (struct sockaddr *)&a,
					   sizeof(a)));
	a = toy_addr(port);
	a.stoy_reserved = 7;
	EXPECT_ERRNO(EINVAL, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_ERRNO(EFAULT, connect(c, (struct sockaddr *)8, sizeof(a)));
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

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
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
	EXPECT_ERRNO(EINVAL, accept(fd, NULL, NULL));
	ASSERT_EQ(0, toy_bind(fd, 0));
	EXPECT_ERRNO(EINVAL, accept(fd, NULL, NULL));
	close(fd);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	EXPECT_ERRNO(EINVAL, accept(a, NULL, NULL));
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
	EXPECT_ERRNO(EAGAIN, accept(l, NULL, NULL));
	EXPECT_ERRNO(EAGAIN, accept4(l, NULL, NULL, SOCK_CLOEXEC));
	close(l);
}

TEST(accept_rcvtimeo_eagain)
{
	int l;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_set_timeo(l, SO_RCVTIMEO, 50000));
	EXPECT_ERRNO(EAGAIN, accept(l, NULL, NULL));
	close(l);
}

TEST(accept4_flags)
{
	int l, c, s, s2, c2;
	uint32_t port;

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	c2 = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, toy_connect(c2, port));

	s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, s);
	EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(s, F_GETFD) & FD_CLOEXEC);
	/* non-blocking accepted socket: empty read is EAGAIN */
	{
		char b;

		EXPECT_ERRNO(EAGAIN, read(s, &b, 1));
	}
	s2 = accept4(l, NULL, NULL, 0);
	ASSERT_LE(0, s2);
	EXPECT_FALSE(fcntl(s2, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(s2, F_GETFD) & FD_CLOEXEC);
	EXPECT_ERRNO(EINVAL, accept4(l, NULL, NULL, 0x7fff0000));
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

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
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
	toy_close_fds(c, N);
	close(l);
}

TEST(data_sent_before_accept)
{
	char buf[32];
	int l, c, s;
	uint32_t port;

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
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

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
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

TEST_HARNESS_MAIN

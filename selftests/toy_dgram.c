// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: SOCK_DGRAM.
 *
 * bind, sendto/recvfrom and sendmsg/recvmsg with the sender's address,
 * boundaries, zero-length datagrams, autobind,
 * connect as default destination and receive filter, AF_UNSPEC, errors,
 * flow control (EAGAIN / blocking), concurrent senders with per-sender
 * order and no loss, poll and /proc/net/toy.  Truncation, recv(MSG_TRUNC)
 * and MSG_PEEK of every type: toy_recv.c.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "toy_common.h"

#include <pthread.h>

#include "kselftest_harness.h"

#define DG_FILL_MAX	100000	/* bound on datagrams sent to fill a queue */

struct dg_msg {
	uint32_t id;
	uint32_t seq;
	unsigned char pad[100];
};

static ssize_t dg_sendto(int fd, const void *buf, size_t len, int flags,
			 uint32_t port)
{
	struct sockaddr_toy a = toy_addr(port);

	return sendto(fd, buf, len, flags, (struct sockaddr *)&a, sizeof(a));
}

/* recvfrom(); stores the sender's port (or ~0 if no valid address). */
static ssize_t dg_recvfrom(int fd, void *buf, size_t len, int flags,
			   uint32_t *from)
{
	struct sockaddr_toy a;
	socklen_t alen = sizeof(a);
	ssize_t n;

	memset(&a, 0xee, sizeof(a));
	n = recvfrom(fd, buf, len, flags, (struct sockaddr *)&a, &alen);
	if (from) {
		if (n >= 0 && alen == sizeof(a) && a.stoy_family == AF_TOY &&
		    a.stoy_reserved == 0)
			*from = a.stoy_port;
		else
			*from = ~0u;
	}
	return n;
}

/* The next datagram on fd (read into buf) is the string want, from port. */
static void recv_expect(struct __test_metadata *_metadata, int fd, char *buf,
			size_t len, const char *want, uint32_t port)
{
	uint32_t from = 0;
	ssize_t n = (ssize_t)strlen(want);

	ASSERT_EQ(n, dg_recvfrom(fd, buf, len, 0, &from));
	EXPECT_EQ(0, memcmp(buf, want, n));
	EXPECT_EQ(port, from);
}

static int dg_connect_unspec(int fd)
{
	struct sockaddr_toy a;

	memset(&a, 0, sizeof(a));
	a.stoy_family = AF_UNSPEC;
	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

/*
 * Send numbered dg_msg datagrams with MSG_DONTWAIT until EAGAIN.
 * Returns the number sent, or -1 (with *err = errno) on another error or
 * if the queue never filled.
 */
static int dg_fill(int fd, uint32_t port, int *err)
{
	struct dg_msg m;
	int i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < DG_FILL_MAX; i++) {
		ssize_t n;

		m.id = 0;
		m.seq = i;
		if (port)
			n = dg_sendto(fd, &m, sizeof(m), MSG_DONTWAIT, port);
		else
			n = send(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == sizeof(m))
			continue;
		*err = n < 0 ? errno : 0;
		return (n < 0 && errno == EAGAIN) ? i : -1;
	}
	*err = 0;
	return -1;
}

/* A port nobody has bound (of DGRAM type), found by binding and closing. */
static long dg_free_port(void)
{
	int fd = toy_socket(SOCK_DGRAM);
	long p;

	if (fd < 0 || toy_bind(fd, 0) < 0)
		return -1;
	p = toy_port(fd);
	close(fd);
	return p;
}

FIXTURE(dg)
{
	int a, b, c;	/* three bound DGRAM sockets */
	uint32_t pa, pb, pc;
};

FIXTURE_SETUP(dg)
{
	self->a = self->b = self->c = -1;
	ASSERT_EQ(0, toy_ensure_module());
	self->a = toy_bound(SOCK_DGRAM, &self->pa);
	self->b = toy_bound(SOCK_DGRAM, &self->pb);
	self->c = toy_bound(SOCK_DGRAM, &self->pc);
	ASSERT_LE(0, self->a) TH_LOG("bind: %s", strerror(errno));
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);
	/* a lost datagram fails a blocking recv instead of hanging */
	ASSERT_EQ(0, toy_set_timeo(self->a, SO_RCVTIMEO, 10000000));
	ASSERT_EQ(0, toy_set_timeo(self->b, SO_RCVTIMEO, 10000000));
	ASSERT_EQ(0, toy_set_timeo(self->c, SO_RCVTIMEO, 10000000));
}

FIXTURE_TEARDOWN(dg)
{
	toy_close_all(self->a, self->b, self->c);
}

/*
 * A read that faults leaves the datagram queued, first, for the next
 * (AF_UNIX and UDP drop it: man toy.7, NOTES).
 */
TEST_F(dg, efault_recv_leaves_datagram)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	uint32_t from = 0;
	char buf[16];

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(5, dg_sendto(self->a, "hello", 5, 0, self->pb));
	ASSERT_EQ(2, dg_sendto(self->c, "yo", 2, 0, self->pb));
	EXPECT_ERRNO(EFAULT, recv(self->b, bad, sizeof(buf), 0));
	memset(buf, 0, sizeof(buf));
	recv_expect(_metadata, self->b, buf, sizeof(buf), "hello", self->pa);
	ASSERT_EQ(2, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(self->pc, from);
	munmap(bad, 4096);
}

/* ---- basics ----------------------------------------------------------- */

TEST(dgram_socket_type_and_proc)
{
	struct toy_proc_entry e;
	int fd;

	ASSERT_EQ(0, toy_ensure_module());
	fd = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SOCK_DGRAM, toy_getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(AF_TOY, toy_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(0, toy_getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL));
	EXPECT_EQ(0, toy_port(fd));
	ASSERT_EQ(0, proc_entry(fd, &e));
	EXPECT_STREQ("DGRAM", e.type);
	EXPECT_EQ(0, e.lport);

	ASSERT_EQ(0, toy_bind(fd, 0));
	ASSERT_EQ(0, proc_entry(fd, &e));
	EXPECT_STREQ("DGRAM", e.type);
	EXPECT_EQ(toy_port(fd), e.lport);
	EXPECT_GE(e.lport, TOY_EPHEMERAL_LO);
	EXPECT_LE(e.lport, TOY_EPHEMERAL_HI);
	close(fd);
}

TEST_F(dg, bind_errors)
{
	int fd = toy_socket(SOCK_DGRAM);

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(EADDRINUSE, toy_bind(fd, self->pa));
	ASSERT_EQ(0, toy_bind(fd, 0));
	EXPECT_ERRNO(EINVAL, toy_bind(self->a, 0));
	close(fd);
}

TEST_F(dg, sendto_recvfrom_sender_address)
{
	char buf[32];
	uint32_t from = 0;

	ASSERT_EQ(5, dg_sendto(self->a, "hello", 5, 0, self->pb));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(self->pa, from);

	/* reply to the address received */
	ASSERT_EQ(3, dg_sendto(self->b, "hey", 3, 0, from));
	recv_expect(_metadata, self->a, buf, sizeof(buf), "hey", self->pb);

	/* NULL address is fine too */
	ASSERT_EQ(2, dg_sendto(self->c, "ok", 2, 0, self->pb));
	ASSERT_EQ(2, recvfrom(self->b, buf, sizeof(buf), 0, NULL, NULL));
}

TEST_F(dg, send_to_self)
{
	char buf[8];
	uint32_t from = 0;

	ASSERT_EQ(4, dg_sendto(self->a, "self", 4, 0, self->pa));
	ASSERT_EQ(4, dg_recvfrom(self->a, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(self->pa, from);
	EXPECT_EQ(0, memcmp(buf, "self", 4));
}

TEST_F(dg, sendmsg_recvmsg_msg_name)
{
	struct sockaddr_toy to = toy_addr(self->pb), from;
	struct iovec iov[2] = {
		{ .iov_base = "part1-", .iov_len = 6 },
		{ .iov_base = "part2", .iov_len = 5 },
	};
	struct msghdr msg = {
		.msg_name = &to, .msg_namelen = sizeof(to),
		.msg_iov = iov, .msg_iovlen = 2,
	};
	char buf[32];
	struct iovec riov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr rmsg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &riov, .msg_iovlen = 1,
	};

	ASSERT_EQ(11, sendmsg(self->c, &msg, 0));
	memset(&from, 0xee, sizeof(from));
	ASSERT_EQ(11, recvmsg(self->b, &rmsg, 0));
	EXPECT_EQ(0, memcmp(buf, "part1-part2", 11));
	EXPECT_EQ(sizeof(from), rmsg.msg_namelen);
	EXPECT_EQ(AF_TOY, from.stoy_family);
	EXPECT_EQ(0, from.stoy_reserved);
	EXPECT_EQ(self->pc, from.stoy_port);
	EXPECT_EQ(0, rmsg.msg_flags & MSG_TRUNC);
}

TEST_F(dg, message_boundaries)
{
	char buf[64];
	uint32_t from;

	ASSERT_EQ(3, dg_sendto(self->a, "abc", 3, 0, self->pb));
	ASSERT_EQ(5, dg_sendto(self->c, "defgh", 5, 0, self->pb));
	ASSERT_EQ(1, dg_sendto(self->a, "i", 1, 0, self->pb));

	recv_expect(_metadata, self->b, buf, sizeof(buf), "abc", self->pa);
	recv_expect(_metadata, self->b, buf, sizeof(buf), "defgh", self->pc);
	ASSERT_EQ(1, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ('i', buf[0]);
	EXPECT_EQ(self->pa, from);
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(dg, zero_length_datagrams)
{
	char buf[16];
	uint32_t from = 0;
	int fl = -1;

	EXPECT_EQ(0, toy_poll(self->b, POLLIN, 0));
	ASSERT_EQ(0, dg_sendto(self->a, "", 0, 0, self->pb));
	ASSERT_EQ(0, dg_sendto(self->c, NULL, 0, 0, self->pb));
	EXPECT_EQ(POLLIN, toy_poll(self->b, POLLIN, 0));

	ASSERT_EQ(0, toy_recvmsg(self->b, buf, sizeof(buf), MSG_DONTWAIT, &fl,
				 &from));
	EXPECT_EQ(self->pa, from);
	EXPECT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(0, dg_recvfrom(self->b, buf, sizeof(buf), MSG_DONTWAIT,
				 &from));
	EXPECT_EQ(self->pc, from);

	/* both consumed */
	EXPECT_EQ(0, toy_poll(self->b, POLLIN, 0));
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
}

/* ---- autobind --------------------------------------------------------- */

TEST_F(dg, unbound_sender_autobinds_and_gets_reply)
{
	struct toy_proc_entry e;
	char buf[16];
	uint32_t from = 0, from2 = 0;
	long port;
	int u;

	u = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, toy_set_timeo(u, SO_RCVTIMEO, 10000000));
	EXPECT_EQ(0, toy_port(u));

	ASSERT_EQ(4, dg_sendto(u, "ping", 4, 0, self->pb));
	port = toy_port(u);
	EXPECT_GE(port, TOY_EPHEMERAL_LO);
	EXPECT_LE(port, TOY_EPHEMERAL_HI);

	ASSERT_EQ(4, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(port, from);

	ASSERT_EQ(4, dg_sendto(self->b, "pong", 4, 0, from));
	ASSERT_EQ(4, dg_recvfrom(u, buf, sizeof(buf), 0, &from2));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	EXPECT_EQ(self->pb, from2);

	/* the port stays the same for later datagrams */
	ASSERT_EQ(1, dg_sendto(u, "x", 1, 0, self->pb));
	ASSERT_EQ(1, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(port, from);
	EXPECT_EQ(port, toy_port(u));

	ASSERT_EQ(0, proc_entry(u, &e));
	EXPECT_STREQ("DGRAM", e.type);
	EXPECT_EQ(port, e.lport);
	close(u);
}

/* ---- connect ----------------------------------------------------------- */

TEST_F(dg, connect_sets_default_destination)
{
	char buf[16];

	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	EXPECT_EQ(self->pb, toy_peer_port(self->a));
	ASSERT_EQ(4, send(self->a, "conn", 4, 0));
	ASSERT_EQ(5, write(self->a, "write", 5));
	recv_expect(_metadata, self->b, buf, sizeof(buf), "conn", self->pa);
	recv_expect(_metadata, self->b, buf, sizeof(buf), "write", self->pa);

	/* the connected peer's datagrams are received (read() works) */
	ASSERT_EQ(3, dg_sendto(self->b, "rep", 3, 0, self->pa));
	ASSERT_EQ(3, read(self->a, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "rep", 3));
}

TEST_F(dg, connect_unbound_socket_autobinds)
{
	char buf[8];
	uint32_t from = 0;
	int u = toy_socket(SOCK_DGRAM);

	ASSERT_LE(0, u);
	ASSERT_EQ(0, toy_connect(u, self->pb));
	EXPECT_GE(toy_port(u), TOY_EPHEMERAL_LO);
	ASSERT_EQ(1, send(u, "u", 1, 0));
	ASSERT_EQ(1, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(toy_port(u), from);
	close(u);
}

TEST_F(dg, connect_filters_other_senders)
{
	char buf[16];
	ssize_t n;

	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	/* c is not a's peer: EPERM, as AF_UNIX, and a gets nothing */
	n = dg_sendto(self->c, "intruder", 8, MSG_DONTWAIT, self->pa);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, toy_poll(self->a, POLLIN, 0));

	ASSERT_EQ(4, dg_sendto(self->b, "peer", 4, 0, self->pa));
	recv_expect(_metadata, self->a, buf, sizeof(buf), "peer", self->pb);
	EXPECT_ERRNO(EAGAIN, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));

	/* not even after dissolving: it was never queued */
	ASSERT_EQ(0, dg_connect_unspec(self->a));
	EXPECT_ERRNO(EAGAIN, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(dg, connect_af_unspec_dissolves)
{
	char buf[16];
	uint32_t from = 0;

	struct sockaddr_toy named = toy_addr(self->pa);

	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	ASSERT_EQ(0, dg_connect_unspec(self->a));
	EXPECT_ERRNO(ENOTCONN, toy_peer_port(self->a));
	EXPECT_ERRNO(EDESTADDRREQ, send(self->a, "x", 1, 0));
	/* as UDP: a port the user did not name (bind() to 0 picked it) goes */
	EXPECT_EQ(0, toy_port(self->a));

	/* named now, everybody may send to it again */
	ASSERT_EQ(0, bind(self->a, (struct sockaddr *)&named, sizeof(named)));
	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	ASSERT_EQ(0, dg_connect_unspec(self->a));
	EXPECT_EQ(self->pa, toy_port(self->a));
	ASSERT_EQ(5, dg_sendto(self->c, "again", 5, 0, self->pa));
	ASSERT_EQ(5, dg_recvfrom(self->a, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(self->pc, from);
	/* and it may reconnect elsewhere */
	ASSERT_EQ(0, toy_connect(self->a, self->pc));
	ASSERT_EQ(2, send(self->a, "to", 2, 0));
	ASSERT_EQ(2, dg_recvfrom(self->c, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(self->pa, from);
}

/* ---- errors ------------------------------------------------------------- */

TEST_F(dg, send_without_destination_edestaddrreq)
{
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int u = toy_socket(SOCK_DGRAM);

	ASSERT_LE(0, u);
	EXPECT_ERRNO(EDESTADDRREQ, send(self->a, "x", 1, 0));
	EXPECT_ERRNO(EDESTADDRREQ, write(self->a, "x", 1));
	EXPECT_ERRNO(EDESTADDRREQ, sendmsg(self->a, &msg, 0));
	/* unbound too */
	EXPECT_ERRNO(EDESTADDRREQ, send(u, "x", 1, 0));
	close(u);
}

TEST_F(dg, sendto_bad_address)
{
	struct sockaddr_toy a = toy_addr(self->pb);

	/* too short */
	EXPECT_ERRNO(EINVAL, sendto(self->a, "x", 1, 0, (struct sockaddr *)&a,
				    sizeof(a) - 1));
	/* reserved must be zero */
	a.stoy_reserved = 1;
	EXPECT_ERRNO(EINVAL, sendto(self->a, "x", 1, 0, (struct sockaddr *)&a,
				    sizeof(a)));
	/* wrong family */
	a.stoy_reserved = 0;
	a.stoy_family = AF_INET;
	EXPECT_ERRNO(EAFNOSUPPORT, sendto(self->a, "x", 1, 0,
					  (struct sockaddr *)&a, sizeof(a)));
	/* nothing arrived */
	EXPECT_EQ(0, toy_poll(self->b, POLLIN, 0));
}

/* Port 0 names no receiver: EINVAL, as UDP's, not ECONNREFUSED. */
TEST_F(dg, sendto_port_zero_einval_as_udp)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_toy a = toy_addr(0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);

	ASSERT_LE(0, u);
	EXPECT_ERRNO(EINVAL, sendto(u, "x", 1, 0, (struct sockaddr *)&in,
				    sizeof(in)));
	close(u);
	EXPECT_ERRNO(EINVAL, sendto(self->a, "x", 1, 0, (struct sockaddr *)&a,
				    sizeof(a)));
	u = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, u);
	EXPECT_ERRNO(EINVAL, sendto(u, "x", 1, 0, (struct sockaddr *)&a,
				    sizeof(a)));
	close(u);
}

TEST_F(dg, destination_nobody_bound_econnrefused)
{
	long free_port = dg_free_port();
	uint32_t sport;
	int st;

	ASSERT_LT(0, free_port);
	EXPECT_ERRNO(ECONNREFUSED, dg_sendto(self->a, "x", 1, 0, free_port));

	/* a port bound only by a STREAM listener is not a DGRAM destination */
	st = toy_listener(SOCK_STREAM, &sport);
	ASSERT_LE(0, st);
	if (sport != self->pa && sport != self->pb && sport != self->pc) {
		EXPECT_ERRNO(ECONNREFUSED, dg_sendto(self->a, "x", 1, 0,
						     sport));
	}
	close(st);

	/* a destination that goes away */
	close(self->c);
	self->c = -1;
	EXPECT_ERRNO(ECONNREFUSED, dg_sendto(self->a, "x", 1, 0, self->pc));
}

TEST_F(dg, connected_destination_closed_econnrefused)
{
	ASSERT_EQ(0, toy_connect(self->a, self->pc));
	close(self->c);
	self->c = -1;
	EXPECT_ERRNO(ECONNREFUSED, send(self->a, "x", 1, 0));
}

TEST_F(dg, listen_accept_eopnotsupp)
{
	int u = toy_socket(SOCK_DGRAM);

	ASSERT_LE(0, u);
	EXPECT_ERRNO(EOPNOTSUPP, listen(self->a, 5));
	EXPECT_ERRNO(EOPNOTSUPP, listen(u, 5));
	EXPECT_ERRNO(EOPNOTSUPP, accept(self->a, NULL, NULL));
	EXPECT_ERRNO(EOPNOTSUPP, accept4(u, NULL, NULL, SOCK_NONBLOCK));
	EXPECT_EQ(0, toy_getsockopt_int(self->a, SOL_SOCKET, SO_ACCEPTCONN));
	close(u);
}

/* ---- flow control --------------------------------------------------------- */

TEST_F(dg, nonblocking_sender_gets_eagain_nothing_lost)
{
	struct dg_msg m;
	int n, err = 0, i;
	uint32_t from;

	n = dg_fill(self->a, self->pb, &err);
	ASSERT_LT(0, n) TH_LOG("fill: %d, errno %d (%s)", n, err,
			       strerror(err));
	/* still full */
	EXPECT_ERRNO(EAGAIN, dg_sendto(self->a, &m, sizeof(m), MSG_DONTWAIT,
				       self->pb));

	/* every successfully sent datagram is there, in order */
	for (i = 0; i < n; i++) {
		memset(&m, 0xff, sizeof(m));
		ASSERT_EQ(sizeof(m), dg_recvfrom(self->b, &m, sizeof(m),
						 MSG_DONTWAIT, &from))
			TH_LOG("datagram %d of %d: %s", i, n, strerror(errno));
		ASSERT_EQ(i, m.seq);
		ASSERT_EQ(self->pa, from);
	}
	EXPECT_ERRNO(EAGAIN, recv(self->b, &m, sizeof(m), MSG_DONTWAIT));

	/* room again */
	EXPECT_EQ(sizeof(m), dg_sendto(self->a, &m, sizeof(m), MSG_DONTWAIT,
				       self->pb));
}

TEST_F(dg, nonblocking_socket_flag_eagain)
{
	struct dg_msg m;
	int i, sent = 0;
	ssize_t r = 0;

	memset(&m, 0, sizeof(m));
	ASSERT_EQ(0, toy_set_nonblock(self->a, true));
	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	for (i = 0; i < DG_FILL_MAX; i++) {
		m.seq = i;
		r = send(self->a, &m, sizeof(m), 0);
		if (r < 0)
			break;
		sent++;
	}
	ASSERT_EQ(-1, r);
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_LT(0, sent);
	/* writable again after the receiver read everything */
	EXPECT_EQ(0, toy_poll(self->a, POLLOUT, 0) & POLLOUT);
	for (i = 0; i < sent; i++) {
		ASSERT_EQ(sizeof(m), recv(self->b, &m, sizeof(m), 0));
		ASSERT_EQ(i, m.seq);
	}
	EXPECT_EQ(POLLOUT, toy_poll(self->a, POLLOUT, 0) & POLLOUT);
	EXPECT_EQ(sizeof(m), send(self->a, &m, sizeof(m), 0));
}

TEST_F(dg, blocking_sender_waits_until_receiver_reads)
{
	int res[2], n, err = 0, i;
	struct dg_msg m;
	pid_t pid;
	ssize_t sent = 0;
	uint32_t from;

	n = dg_fill(self->a, self->pb, &err);
	ASSERT_LT(0, n) TH_LOG("fill: errno %d", err);
	ASSERT_EQ(0, pipe(res));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ssize_t r;

		memset(&m, 0, sizeof(m));
		m.seq = n;
		r = dg_sendto(self->a, &m, sizeof(m), 0, self->pb);
		if (r < 0)
			r = -errno;
		CHILD_CHECK(write(res[1], &r, sizeof(r)) == sizeof(r));
		_exit(0);
	}
	/* the child blocks in sendto() and has not reported a result */
	EXPECT_EQ(0, wait_in_syscall(pid, SYS_sendto));
	EXPECT_EQ(0, toy_poll(res[0], POLLIN, 0));

	/* reading makes room: the child's datagram arrives after all others */
	for (i = 0; i <= n; i++) {
		ASSERT_EQ(sizeof(m), dg_recvfrom(self->b, &m, sizeof(m), 0,
						 &from)) TH_LOG("dgram %d", i);
		ASSERT_EQ(i, m.seq);
		ASSERT_EQ(self->pa, from);
	}
	ASSERT_EQ(sizeof(sent), read(res[0], &sent, sizeof(sent)));
	EXPECT_EQ(sizeof(m), sent);
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_ERRNO(EAGAIN, recv(self->b, &m, sizeof(m), MSG_DONTWAIT));
	toy_close_fds(res, 2);
}

TEST_F(dg, queued_datagrams_survive_sender_close)
{
	char buf[8];
	uint32_t from = 0;
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, dg_sendto(self->a, &"012"[i], 1, 0, self->pb));
	}
	close(self->a);
	self->a = -1;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
		EXPECT_EQ("012"[i], buf[0]);
		EXPECT_EQ(self->pa, from);
	}
}

/* ---- page-sized datagrams: the sender's page ring (module/toy_ring.c) -- */

/*
 * Around the size where a datagram leaves an skb head for a ring page of
 * its own (SKB_MAX_HEAD(0), 3776 bytes with 4 KiB pages) and a page.
 */
static const size_t pg_len[] = { 3776, 3777, 4095, 4096 };
#define PG_NLEN		(sizeof(pg_len) / sizeof(pg_len[0]))
#define PG_SEED(i)	((uint64_t)(i) * 7919)

static ssize_t pg_send(int fd, char *buf, unsigned int i, uint32_t dst)
{
	toy_pattern(buf, pg_len[i % PG_NLEN], PG_SEED(i));
	return dg_sendto(fd, buf, pg_len[i % PG_NLEN], MSG_DONTWAIT, dst);
}

/* The next datagram on @fd is the @i-th of pg_send(), whole, from @src. */
static void pg_expect(struct __test_metadata *_metadata, int fd,
		      unsigned int i, uint32_t src)
{
	static char got[8192], want[8192];
	size_t len = pg_len[i % PG_NLEN];
	uint32_t from = 0;

	toy_pattern(want, len, PG_SEED(i));
	ASSERT_EQ(len, dg_recvfrom(fd, got, sizeof(got), 0, &from))
		TH_LOG("datagram %u", i);
	EXPECT_EQ(0, memcmp(got, want, len)) TH_LOG("datagram %u", i);
	EXPECT_EQ(src, from);
}

/*
 * Datagrams of about a page arrive whole, in order, once each: while more
 * are queued than the sender has ring pages (the rest take an skb head),
 * and while the sender rewrites pages its earlier datagrams left, five
 * still queued.  Nothing is left over.
 */
TEST_F(dg, page_sized_datagrams_intact_queued_and_recycled)
{
	static char buf[8192];
	unsigned int i;

	/* Room for 30 (MSG_DONTWAIT: a full queue fails the test, no hang). */
	ASSERT_EQ(0, toy_setsockopt_int(self->a, SOL_SOCKET, SO_SNDBUF, 200000));
	ASSERT_EQ(0, toy_setsockopt_int(self->b, SOL_SOCKET, SO_RCVBUF, 200000));
	for (i = 0; i < 30; i++) {
		ASSERT_EQ(pg_len[i % PG_NLEN], pg_send(self->a, buf, i, self->pb));
	}
	for (i = 0; i < 30; i++)
		pg_expect(_metadata, self->b, i, self->pa);
	for (i = 0; i < 400; i++) {
		ASSERT_EQ(pg_len[i % PG_NLEN], pg_send(self->a, buf, i, self->pb));
		if (i >= 5)
			pg_expect(_metadata, self->b, i - 5, self->pa);
	}
	for (i = 395; i < 400; i++)
		pg_expect(_metadata, self->b, i, self->pa);
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
}

/*
 * A page-sized datagram peeked is still there whole; a short read takes
 * its head and drops the rest (MSG_TRUNC says so); a send from a bad
 * buffer, wholly or from its middle on, fails with EFAULT and queues
 * nothing, and the next one is whole.
 */
TEST_F(dg, page_sized_datagram_peek_truncate_efault)
{
	char *bad = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static char buf[8192], want[8192];
	struct iovec iov = { .iov_base = buf, .iov_len = 100 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, mprotect(bad + 4096, 4096, PROT_NONE));
	ASSERT_EQ(4096, pg_send(self->a, buf, 3, self->pb));
	ASSERT_EQ(4096, recv(self->b, buf, sizeof(buf), MSG_PEEK));
	toy_pattern(want, 4096, PG_SEED(3));
	EXPECT_EQ(0, memcmp(buf, want, 4096));
	ASSERT_EQ(4096, pg_send(self->a, buf, 7, self->pb));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(100, recvmsg(self->b, &m, 0));
	EXPECT_EQ(MSG_TRUNC, m.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(buf, want, 100));
	pg_expect(_metadata, self->b, 7, self->pa);
	EXPECT_ERRNO(EFAULT, dg_sendto(self->a, bad + 4096, 4096, 0, self->pb));
	EXPECT_ERRNO(EFAULT, dg_sendto(self->a, bad + 2096, 4000, 0, self->pb));
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(4095, pg_send(self->a, buf, 2, self->pb));
	pg_expect(_metadata, self->b, 2, self->pa);
	munmap(bad, 8192);
}

/* ---- concurrent senders ------------------------------------------------ */

#define NSENDERS	4
#define NPERSENDER	2000

/* Receive NSENDERS * NPERSENDER dg_msg; per-sender order, no loss. */
static int dg_collect(struct __test_metadata *_metadata, int fd,
		      const uint32_t *ports)
{
	uint32_t next[NSENDERS] = { 0 };
	struct dg_msg m;
	uint32_t from;
	int i;

	for (i = 0; i < NSENDERS * NPERSENDER; i++) {
		ssize_t n = dg_recvfrom(fd, &m, sizeof(m), 0, &from);

		if (n != sizeof(m)) {
			TH_LOG("datagram %d: got %zd (%s)", i, n,
			       strerror(errno));
			return -1;
		}
		if (m.id >= NSENDERS) {
			TH_LOG("datagram %d: bad sender id %u", i, m.id);
			return -1;
		}
		if (ports && ports[m.id] != from) {
			TH_LOG("datagram %d: sender %u from port %u, not %u",
			       i, m.id, from, ports[m.id]);
			return -1;
		}
		if (m.seq != next[m.id]) {
			TH_LOG("sender %u: seq %u, expected %u", m.id, m.seq,
			       next[m.id]);
			return -1;
		}
		if (m.pad[0] != (unsigned char)(m.id * 31 + m.seq)) {
			TH_LOG("sender %u seq %u: payload corrupt", m.id,
			       m.seq);
			return -1;
		}
		next[m.id]++;
	}
	for (i = 0; i < NSENDERS; i++) {
		if (next[i] != NPERSENDER) {
			TH_LOG("sender %d: %u datagrams", i, next[i]);
			return -1;
		}
	}
	if (recv(fd, &m, sizeof(m), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		TH_LOG("extra datagram after all were received");
		return -1;
	}
	return 0;
}

static int dg_send_series(int fd, uint32_t id, uint32_t dst)
{
	struct dg_msg m;
	uint32_t i;

	memset(&m, 0, sizeof(m));
	m.id = id;
	for (i = 0; i < NPERSENDER; i++) {
		m.seq = i;
		m.pad[0] = (unsigned char)(id * 31 + i);
		if (dg_sendto(fd, &m, sizeof(m), 0, dst) != sizeof(m))
			return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(dg, concurrent_sender_processes, 120)
{
	uint32_t ports[NSENDERS];
	int go[2], fds[NSENDERS], i;
	pid_t pids[NSENDERS];

	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < NSENDERS; i++) {
		fds[i] = toy_bound(SOCK_DGRAM, &ports[i]);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < NSENDERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			CHILD_CHECK(sync_wait(go[0]) == 0);
			CHILD_CHECK(dg_send_series(fds[i], i, self->pb) == 0);
			_exit(0);
		}
	}
	/* release all senders at once */
	for (i = 0; i < NSENDERS; i++) {
		ASSERT_EQ(0, sync_post(go[1]));
	}
	EXPECT_EQ(0, dg_collect(_metadata, self->b, ports));
	for (i = 0; i < NSENDERS; i++) {
		EXPECT_EQ(0, wait_child(pids[i]));
		close(fds[i]);
	}
	toy_close_fds(go, 2);
}

struct dg_thread_arg {
	int fd;
	uint32_t id;
	uint32_t dst;
	int ret;
	pthread_barrier_t *bar;
};

static void *dg_sender_thread(void *p)
{
	struct dg_thread_arg *a = p;

	pthread_barrier_wait(a->bar);
	a->ret = dg_send_series(a->fd, a->id, a->dst);
	return NULL;
}

static void dg_threads(struct __test_metadata *_metadata, int recv_fd,
		       uint32_t dst, bool shared)
{
	struct dg_thread_arg args[NSENDERS];
	pthread_t th[NSENDERS];
	pthread_barrier_t bar;
	uint32_t ports[NSENDERS];
	int shared_fd = -1, i;

	if (shared) {
		/* one unbound socket used by all threads: autobinds once */
		shared_fd = toy_socket(SOCK_DGRAM);
		ASSERT_LE(0, shared_fd);
	}
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, NSENDERS));
	for (i = 0; i < NSENDERS; i++) {
		args[i].fd = shared ? shared_fd : toy_socket(SOCK_DGRAM);
		ASSERT_LE(0, args[i].fd);
		args[i].id = i;
		args[i].dst = dst;
		args[i].ret = -1;
		args[i].bar = &bar;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, dg_sender_thread,
					    &args[i]));
	}
	/* unbound senders: ports are only known afterwards, so check them
	 * by consistency below rather than up front
	 */
	EXPECT_EQ(0, dg_collect(_metadata, recv_fd, NULL));
	for (i = 0; i < NSENDERS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, args[i].ret);
		ports[i] = toy_port(args[i].fd);
		EXPECT_GE(ports[i], TOY_EPHEMERAL_LO);
		if (shared) {
			EXPECT_EQ(ports[0], ports[i]);
		} else if (i) {
			EXPECT_NE(ports[0], ports[i]);
		}
	}
	if (shared) {
		close(shared_fd);
	} else {
		for (i = 0; i < NSENDERS; i++)
			close(args[i].fd);
	}
	pthread_barrier_destroy(&bar);
}

TEST_F_TIMEOUT(dg, concurrent_sender_threads, 120)
{
	dg_threads(_metadata, self->b, self->pb, false);
}

TEST_F_TIMEOUT(dg, concurrent_threads_sharing_one_socket, 120)
{
	dg_threads(_metadata, self->b, self->pb, true);
}

/* ---- poll ------------------------------------------------------------- */

TEST_F(dg, poll_readable_writable)
{
	char buf[8];
	int u;

	EXPECT_EQ(POLLOUT, toy_poll(self->b, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, dg_sendto(self->a, "r", 1, 0, self->pb));
	EXPECT_EQ(POLLIN | POLLOUT, toy_poll(self->b, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, dg_sendto(self->c, "s", 1, 0, self->pb));
	ASSERT_EQ(1, recv(self->b, buf, sizeof(buf), 0));
	/* one still queued */
	EXPECT_EQ(POLLIN | POLLOUT, toy_poll(self->b, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, recv(self->b, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, toy_poll(self->b, POLLIN | POLLOUT, 0));

	/* an unbound socket is writable and not readable */
	u = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, u);
	EXPECT_EQ(POLLOUT, toy_poll(u, POLLIN | POLLOUT, 0));
	close(u);
}

TEST_F(dg, poll_wakes_on_datagram_and_on_room)
{
	int go[2], n, err = 0, i;
	short revents = 0;
	bool woken = false;
	struct dg_msg m;
	pid_t pid;

	/*
	 * Each waker acts only once the parent provably sleeps in poll():
	 * else the datagram (or the room) may be there before poll() starts
	 * and no wake-up is exercised.  And poll() must be woken, not ended
	 * by its timeout (after which it reports what is ready all the same).
	 */
	ASSERT_EQ(0, pipe(go));
	/* readable: a blocked poll() wakes when a datagram arrives */
	EXPECT_EQ(0, toy_poll(self->b, POLLIN, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(sync_wait(go[0]) == 0);
		CHILD_CHECK(wait_in_syscall(getppid(), SYS_ppoll) == 0);
		CHILD_CHECK(dg_sendto(self->a, "w", 1, 0, self->pb) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, sync_post(go[1]));
	ASSERT_EQ(1, toy_ppoll_woken(self->b, POLLIN, 12000, &revents, &woken));
	EXPECT_TRUE(woken) TH_LOG("poll() timed out: the datagram did not wake it");
	EXPECT_EQ(POLLIN, revents & POLLIN);
	EXPECT_EQ(0, wait_child(pid));
	ASSERT_EQ(1, recv(self->b, &m, sizeof(m), 0));

	/* writable: a connected sender to a full receiver wakes on room */
	ASSERT_EQ(0, toy_connect(self->a, self->pb));
	n = dg_fill(self->a, 0, &err);
	ASSERT_LT(0, n) TH_LOG("fill: errno %d", err);
	EXPECT_EQ(0, toy_poll(self->a, POLLOUT, 0) & POLLOUT);	/* full */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(sync_wait(go[0]) == 0);
		CHILD_CHECK(wait_in_syscall(getppid(), SYS_ppoll) == 0);
		for (i = 0; i < n; i++)
			CHILD_CHECK(recv(self->b, &m, sizeof(m), 0) ==
				    sizeof(m));
		_exit(0);
	}
	ASSERT_EQ(0, sync_post(go[1]));
	woken = false;
	ASSERT_EQ(1, toy_ppoll_woken(self->a, POLLOUT, 12000, &revents, &woken));
	EXPECT_TRUE(woken) TH_LOG("poll() timed out: the reads did not wake it");
	EXPECT_EQ(POLLOUT, revents & POLLOUT);
	EXPECT_EQ(0, wait_child(pid));
	toy_close_fds(go, 2);
}

TEST_F(dg, blocking_recv_woken_by_datagram)
{
	char buf[8];
	uint32_t from = 0;
	pid_t pid;

	/*
	 * No SO_RCVTIMEO here: a receive timeout would end the sleep and then
	 * find the datagram, a lost wake-up would pass for a delay.
	 */
	ASSERT_EQ(0, toy_set_timeo(self->b, SO_RCVTIMEO, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/*
		 * Send only once the parent provably sleeps in recvfrom():
		 * else the datagram may be queued first and no wake-up is
		 * exercised.  Then it must leave recvfrom() (a lost wake-up
		 * fails here, and hangs it until the harness times it out).
		 */
		CHILD_CHECK(wait_in_syscall(getppid(), SYS_recvfrom) == 0);
		CHILD_CHECK(dg_sendto(self->c, "late", 4, 0, self->pb) == 4);
		CHILD_CHECK(wait_left_syscall(getppid(), SYS_recvfrom) == 0);
		_exit(0);
	}
	ASSERT_EQ(4, dg_recvfrom(self->b, buf, sizeof(buf), 0, &from));
	EXPECT_EQ(self->pc, from);
	EXPECT_EQ(0, wait_child(pid));
}

TEST_HARNESS_MAIN

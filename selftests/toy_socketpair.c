// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: socketpair(AF_TOY, type, 0, sv).
 *
 * For STREAM, SEQPACKET and DGRAM: a connected pair, data both ways,
 * ESTABLISHED in /proc/net/toy for both ends with crossing ports, and for
 * the connection types EOF after one end closes.
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include "kselftest_harness.h"

FIXTURE(pair)
{
	int sv[2];
};

FIXTURE_VARIANT(pair)
{
	int type;
	const char *name;	/* type column of /proc/net/toy */
	bool records;		/* preserves message boundaries */
	bool connection;	/* has EOF / states beyond ESTABLISHED */
};

FIXTURE_VARIANT_ADD(pair, stream)
{
	.type = SOCK_STREAM,
	.name = "STREAM",
	.records = false,
	.connection = true,
};

FIXTURE_VARIANT_ADD(pair, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.name = "SEQPACKET",
	.records = true,
	.connection = true,
};

FIXTURE_VARIANT_ADD(pair, dgram)
{
	.type = SOCK_DGRAM,
	.name = "DGRAM",
	.records = true,
	.connection = false,
};

FIXTURE_SETUP(pair)
{
	self->sv[0] = self->sv[1] = -1;
	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, socketpair(AF_TOY, variant->type, 0, self->sv))
		TH_LOG("socketpair(%s): %s", variant->name, strerror(errno));
	ASSERT_LE(0, self->sv[0]);
	ASSERT_LE(0, self->sv[1]);
	ASSERT_NE(self->sv[0], self->sv[1]);
	ASSERT_EQ(0, toy_set_timeo(self->sv[0], SO_RCVTIMEO, 10000000));
	ASSERT_EQ(0, toy_set_timeo(self->sv[1], SO_RCVTIMEO, 10000000));
}

FIXTURE_TEARDOWN(pair)
{
	toy_close_all(self->sv[0], self->sv[1]);
}

TEST_F(pair, socket_options)
{
	int i;

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(variant->type,
			  toy_getsockopt_int(self->sv[i], SOL_SOCKET, SO_TYPE));
		EXPECT_EQ(AF_TOY,
			  toy_getsockopt_int(self->sv[i], SOL_SOCKET,
					     SO_DOMAIN));
		EXPECT_EQ(0, toy_getsockopt_int(self->sv[i], SOL_SOCKET,
						SO_PROTOCOL));
		EXPECT_EQ(0, toy_getsockopt_int(self->sv[i], SOL_SOCKET,
						SO_ACCEPTCONN));
		EXPECT_EQ(0, toy_getsockopt_int(self->sv[i], SOL_SOCKET,
						SO_ERROR));
	}
}

/*
 * Like AF_UNIX, the ends of a pair start unnamed (port 0) and may be named
 * later with bind() (port 0: an ephemeral one).  getpeername() works
 * either way (they are connected) and reports the other end's local port.
 */
static long bind_ephemeral(struct __test_metadata *_metadata, int fd)
{
	long p;

	EXPECT_EQ(0, toy_bind(fd, 0)) TH_LOG("bind: %s", strerror(errno));
	p = toy_port(fd);
	EXPECT_GE(p, TOY_EPHEMERAL_LO) TH_LOG("getsockname: %s", strerror(errno));
	EXPECT_LE(p, TOY_EPHEMERAL_HI);
	return p;
}

TEST_F(pair, addresses_cross)
{
	long p0, p1;

	/* unnamed ends: port 0 each, and 0 is what the other end sees */
	EXPECT_EQ(0, toy_port(self->sv[0]));
	EXPECT_EQ(0, toy_port(self->sv[1]));
	EXPECT_EQ(0, toy_peer_port(self->sv[0]))
		TH_LOG("getpeername: %s", strerror(errno));
	EXPECT_EQ(0, toy_peer_port(self->sv[1]));

	/* named ends: two distinct real ports, each seen by the other end */
	p0 = bind_ephemeral(_metadata, self->sv[0]);
	p1 = bind_ephemeral(_metadata, self->sv[1]);
	EXPECT_NE(p0, p1);
	EXPECT_EQ(p1, toy_peer_port(self->sv[0]))
		TH_LOG("getpeername: %s", strerror(errno));
	EXPECT_EQ(p0, toy_peer_port(self->sv[1]));
}

TEST_F(pair, peercred_is_the_creator)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int i;

	for (i = 0; i < 2; i++) {
		memset(&uc, 0xff, sizeof(uc));
		ASSERT_EQ(0, getsockopt(self->sv[i], SOL_SOCKET, SO_PEERCRED,
					&uc, &len));
		EXPECT_EQ(getpid(), uc.pid);
		EXPECT_EQ(getuid(), uc.uid);
		EXPECT_EQ(getgid(), uc.gid);
	}
}

TEST_F(pair, proc_established_both_ends)
{
	struct toy_proc_entry e0, e1;

	ASSERT_EQ(0, proc_entry(self->sv[0], &e0));
	ASSERT_EQ(0, proc_entry(self->sv[1], &e1));
	EXPECT_STREQ(variant->name, e0.type);
	EXPECT_STREQ(variant->name, e1.type);
	EXPECT_STREQ("ESTABLISHED", e0.state);
	EXPECT_STREQ("ESTABLISHED", e1.state);
	EXPECT_EQ(toy_port(self->sv[0]), e0.lport);
	EXPECT_EQ(toy_port(self->sv[1]), e1.lport);
	EXPECT_EQ(e1.lport, e0.pport);
	EXPECT_EQ(e0.lport, e1.pport);
	EXPECT_EQ(0, e0.rq);
	EXPECT_EQ(0, e1.rq);
}

TEST_F(pair, data_both_ways)
{
	char buf[32];

	ASSERT_EQ(5, send(self->sv[0], "hello", 5, 0));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, read_all(self->sv[1], buf, 5));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));

	ASSERT_EQ(5, write(self->sv[1], "world", 5));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, read_all(self->sv[0], buf, 5));
	EXPECT_EQ(0, memcmp(buf, "world", 5));

	EXPECT_ERRNO(EAGAIN, recv(self->sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_ERRNO(EAGAIN, recv(self->sv[1], buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(pair, recvfrom_reports_the_peer)
{
	struct sockaddr_toy a;
	socklen_t alen = sizeof(a);
	long p1;
	char buf[8];

	/* a named sender, so that its address is not just 0 */
	p1 = bind_ephemeral(_metadata, self->sv[1]);
	ASSERT_EQ(2, send(self->sv[1], "pp", 2, 0));
	memset(&a, 0xee, sizeof(a));
	ASSERT_EQ(2, recvfrom(self->sv[0], buf, sizeof(buf), 0,
			      (struct sockaddr *)&a, &alen));
	EXPECT_EQ(0, memcmp(buf, "pp", 2));
	/* connection types fill in no address, as TCP; a datagram the peer's */
	if (variant->connection) {
		EXPECT_EQ(0, alen);
		return;
	}
	EXPECT_EQ(sizeof(a), alen);
	EXPECT_EQ(AF_TOY, a.stoy_family);
	EXPECT_EQ(p1, a.stoy_port);
	EXPECT_EQ(toy_port(self->sv[1]), a.stoy_port);
}

/*
 * A message from an end that is not bound comes with no address: length
 * 0, as from an AF_UNIX socketpair() end (it used to be a whole
 * struct sockaddr_toy with port 0 for datagrams).
 */
TEST_F(pair, recvfrom_an_unbound_end_gives_no_address)
{
	int fam, sv[2], fd[2];
	struct sockaddr_storage a;
	socklen_t alen;
	char buf[8];

	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, sv));
	for (fam = 0; fam < 2; fam++) {
		fd[0] = fam ? sv[0] : self->sv[0];
		fd[1] = fam ? sv[1] : self->sv[1];
		ASSERT_EQ(2, send(fd[1], "nn", 2, 0));
		alen = sizeof(a);
		memset(&a, 0xee, sizeof(a));
		ASSERT_EQ(2, recvfrom(fd[0], buf, sizeof(buf), 0,
				      (struct sockaddr *)&a, &alen));
		EXPECT_EQ(0, alen) TH_LOG("%s", fam ? "AF_UNIX" : "AF_TOY");
	}
	toy_close_all(sv[0], sv[1]);
}

TEST_F(pair, boundaries)
{
	char buf[32];
	ssize_t n;

	ASSERT_EQ(3, send(self->sv[0], "abc", 3, 0));
	ASSERT_EQ(4, send(self->sv[0], "defg", 4, 0));
	if (!variant->records) {
		/* a byte stream: all 7 bytes in order, however split */
		ASSERT_EQ(7, read_all(self->sv[1], buf, 7));
		EXPECT_EQ(0, memcmp(buf, "abcdefg", 7));
		return;
	}
	n = recv(self->sv[1], buf, sizeof(buf), 0);
	ASSERT_EQ(3, n);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	n = recv(self->sv[1], buf, sizeof(buf), 0);
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(buf, "defg", 4));
}

TEST_F(pair, truncation)
{
	struct iovec iov;
	struct msghdr msg;
	char buf[8];

	if (!variant->records)
		SKIP(return, "byte stream: no records to truncate");
	ASSERT_EQ(6, send(self->sv[0], "123456", 6, 0));
	ASSERT_EQ(2, send(self->sv[0], "78", 2, 0));
	iov.iov_base = buf;
	iov.iov_len = 2;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	ASSERT_EQ(2, recvmsg(self->sv[1], &msg, 0));
	EXPECT_EQ(MSG_TRUNC, msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(buf, "12", 2));
	ASSERT_EQ(2, recv(self->sv[1], buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "78", 2));
}

TEST_F(pair, zero_length_message)
{
	char buf[8];

	if (!variant->records)
		SKIP(return, "byte stream: a zero-length send carries nothing");
	ASSERT_EQ(0, send(self->sv[1], "", 0, 0));
	EXPECT_EQ(POLLIN, toy_poll(self->sv[0], POLLIN, 0));
	ASSERT_EQ(0, recv(self->sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, toy_poll(self->sv[0], POLLIN, 0));
}

TEST_F(pair, close_one_end_other_reads_eof)
{
	char buf[8];

	if (!variant->connection)
		SKIP(return, "DGRAM has no EOF");
	ASSERT_EQ(4, send(self->sv[0], "last", 4, 0));
	close(self->sv[0]);
	self->sv[0] = -1;
	ASSERT_EQ(4, read_all(self->sv[1], buf, 4));
	EXPECT_EQ(0, memcmp(buf, "last", 4));
	EXPECT_EQ(0, recv(self->sv[1], buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->sv[1], buf, sizeof(buf), 0));
	EXPECT_EQ(POLLIN, toy_poll(self->sv[1], POLLIN, 0) & POLLIN);
	EXPECT_EQ(0, wait_proc_state(self->sv[1], "CLOSE_WAIT"))
		TH_LOG("state %s", proc_state(self->sv[1]));
	EXPECT_ERRNO(EPIPE, send(self->sv[1], "x", 1, MSG_NOSIGNAL));
}

TEST_F(pair, shutdown_wr_states)
{
	char buf[8];

	if (!variant->connection)
		SKIP(return, "DGRAM has no FIN");
	ASSERT_EQ(0, shutdown(self->sv[0], SHUT_WR));
	ASSERT_EQ(0, recv(self->sv[1], buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_proc_state(self->sv[1], "CLOSE_WAIT"))
		TH_LOG("state %s", proc_state(self->sv[1]));
	EXPECT_EQ(0, wait_proc_state(self->sv[0], "FIN_WAIT2"))
		TH_LOG("state %s", proc_state(self->sv[0]));
	/* the other direction still works */
	ASSERT_EQ(2, send(self->sv[1], "ok", 2, 0));
	ASSERT_EQ(2, read_all(self->sv[0], buf, 2));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
}

/* Poll (bounded) until no /proc/net/toy line has inode ino. */
static int wait_ino_gone(unsigned long ino)
{
	char buf[256];
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_net_toy_line(ino, buf) < 0)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

TEST_F(pair, closed_pair_vanishes_from_proc)
{
	unsigned long i0 = toy_ino(self->sv[0]), i1 = toy_ino(self->sv[1]);
	char buf[256];

	ASSERT_NE(0, i0);
	ASSERT_EQ(0, proc_net_toy_line(i0, buf));
	ASSERT_EQ(0, proc_net_toy_line(i1, buf));
	toy_close_fds(self->sv, 2);
	self->sv[0] = self->sv[1] = -1;
	EXPECT_EQ(0, wait_ino_gone(i0));
	EXPECT_EQ(0, wait_ino_gone(i1));
}

TEST_F(pair, across_fork_bulk_transfer)
{
	const size_t total = 1 << 20, chunk = 4000;
	static char buf[4096], want[4096];
	uint64_t h_sent = TOY_FNV_INIT, h_got = TOY_FNV_INIT;
	size_t got = 0;
	pid_t pid;
	int res[2];

	ASSERT_EQ(0, pipe(res));
	if (TOY_FORK(pid)) {
		size_t off;

		close(self->sv[1]);
		for (off = 0; off < total; off += chunk) {
			size_t len = total - off < chunk ? total - off : chunk;

			toy_pattern(buf, len, off);
			h_sent = toy_fnv1a(h_sent, buf, len);
			CHILD_CHECK(send(self->sv[0], buf, len, 0) ==
				    (ssize_t)len);
		}
		CHILD_CHECK(write(res[1], &h_sent, sizeof(h_sent)) ==
			    sizeof(h_sent));
		_exit(0);
	}
	close(self->sv[0]);
	self->sv[0] = -1;
	while (got < total) {
		ssize_t n = recv(self->sv[1], buf, sizeof(buf), 0);

		ASSERT_LT(0, n) TH_LOG("at %zu: %s", got, strerror(errno));
		if (variant->records)
			ASSERT_EQ(total - got < chunk ? total - got : chunk,
				  (size_t)n);
		toy_pattern(want, n, got);
		ASSERT_EQ(0, memcmp(buf, want, n)) TH_LOG("at %zu", got);
		h_got = toy_fnv1a(h_got, buf, n);
		got += n;
	}
	ASSERT_EQ(sizeof(h_sent), read(res[0], &h_sent, sizeof(h_sent)));
	EXPECT_EQ(h_sent, h_got);
	EXPECT_EQ(0, wait_child(pid));
	if (variant->connection)
		EXPECT_EQ(0, recv(self->sv[1], buf, sizeof(buf), 0));
	toy_close_fds(res, 2);
}

TEST_F(pair, poll)
{
	char buf[8];

	EXPECT_EQ(POLLOUT, toy_poll(self->sv[0], POLLIN | POLLOUT, 0));
	EXPECT_EQ(POLLOUT, toy_poll(self->sv[1], POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, send(self->sv[0], "p", 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, toy_poll(self->sv[1], POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, recv(self->sv[1], buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, toy_poll(self->sv[1], POLLIN | POLLOUT, 0));
}

/* ---- plain tests ------------------------------------------------------- */

TEST(socketpair_bad_protocol_and_type)
{
	int sv[2] = { -1, -1 };

	ASSERT_EQ(0, toy_ensure_module());
	EXPECT_ERRNO(EPROTONOSUPPORT, socketpair(AF_TOY, SOCK_STREAM, 1, sv));
	EXPECT_ERRNO(ESOCKTNOSUPPORT, socketpair(AF_TOY, SOCK_RAW, 0, sv));
}

TEST(socketpair_flags_nonblock_cloexec)
{
	int sv[2], fl;
	char c;

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_SEQPACKET | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0, sv));
	fl = fcntl(sv[0], F_GETFL);
	EXPECT_EQ(O_NONBLOCK, fl & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
	EXPECT_ERRNO(EAGAIN, recv(sv[0], &c, 1, 0));
	toy_close_fds(sv, 2);
}

TEST(many_pairs_independent)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	enum { N = 60 };
	int sv[N][2], i, j;
	long ports[2 * N];
	struct toy_proc_entry e;

	ASSERT_EQ(0, toy_ensure_module());
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, socketpair(AF_TOY, types[i % 3], 0, sv[i]));
		/* unnamed until bound; then an ephemeral port each */
		for (j = 0; j < 2; j++) {
			ASSERT_EQ(0, toy_port(sv[i][j]));
			ASSERT_EQ(0, toy_bind(sv[i][j], 0))
				TH_LOG("bind pair %d end %d: %s", i, j, strerror(errno));
			ports[2 * i + j] = toy_port(sv[i][j]);
			ASSERT_GE(ports[2 * i + j], TOY_EPHEMERAL_LO);
			ASSERT_LE(ports[2 * i + j], TOY_EPHEMERAL_HI);
		}
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, proc_entry(sv[i][0], &e));
		EXPECT_STREQ("ESTABLISHED", e.state);
		ASSERT_EQ(0, proc_entry(sv[i][1], &e));
		EXPECT_STREQ("ESTABLISHED", e.state);
	}
	/* named ends never share a port within one type */
	for (i = 0; i < 2 * N; i++)
		for (j = i + 1; j < 2 * N; j++)
			if ((i / 2) % 3 == (j / 2) % 3) {
				ASSERT_NE(ports[i], ports[j])
					TH_LOG("ends %d and %d share port %ld", i, j, ports[i]);
			}
	/* each pair talks only to itself, in both directions */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(sizeof(i), send(sv[i][0], &i, sizeof(i), 0));
		j = i + 1000;
		ASSERT_EQ(sizeof(j), send(sv[i][1], &j, sizeof(j), 0));
	}
	for (i = 0; i < N; i++) {
		int v = -1;

		ASSERT_EQ(sizeof(v), recv(sv[i][1], &v, sizeof(v),
					  MSG_DONTWAIT));
		ASSERT_EQ(i, v);
		ASSERT_EQ(sizeof(v), recv(sv[i][0], &v, sizeof(v),
					  MSG_DONTWAIT));
		ASSERT_EQ(i + 1000, v);
	}
	for (i = 0; i < N; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: SOCK_SEQPACKET.
 *
 * Connection life cycle and /proc/net/toy states with type SEQPACKET,
 * record boundaries, zero-length records, EMSGSIZE, per-type port spaces,
 * EOF after close and poll.  Truncation, recv(MSG_TRUNC) and MSG_PEEK of
 * every type: toy_recv.c.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include "toy_common.h"

#include "kselftest_harness.h"

FIXTURE(sp)
{
	int l;		/* listener */
	int c;		/* client (connecting side) */
	int s;		/* server (accepted side) */
	uint32_t port;
};

FIXTURE_SETUP(sp)
{
	self->l = self->c = self->s = -1;
	ASSERT_EQ(0, toy_ensure_module());
	self->l = toy_listener(SOCK_SEQPACKET, &self->port);
	ASSERT_LE(0, self->l) TH_LOG("listener: %s", strerror(errno));
	self->c = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, toy_connect(self->c, self->port))
		TH_LOG("connect: %s", strerror(errno));
	self->s = accept(self->l, NULL, NULL);
	ASSERT_LE(0, self->s) TH_LOG("accept: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sp)
{
	toy_close_all(self->s, self->c, self->l);
}

/* ---- life cycle ------------------------------------------------------ */

TEST(socket_type_and_listener_proc)
{
	struct toy_proc_entry e;
	uint32_t port;
	int fd;

	ASSERT_EQ(0, toy_ensure_module());
	fd = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SOCK_SEQPACKET, toy_getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(AF_TOY, toy_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(1, toy_getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN));
	EXPECT_GE(port, TOY_EPHEMERAL_LO);
	EXPECT_LE(port, TOY_EPHEMERAL_HI);
	ASSERT_EQ(0, proc_entry(fd, &e));
	EXPECT_STREQ("SEQPACKET", e.type);
	EXPECT_STREQ("LISTEN", e.state);
	EXPECT_EQ(port, e.lport);
	EXPECT_EQ(0, e.pport);
	close(fd);
}

TEST_F(sp, connect_accept_established)
{
	struct sockaddr_toy a;
	socklen_t alen = sizeof(a);
	struct toy_proc_entry ec, es;
	long cport = toy_port(self->c);
	int s2;

	ASSERT_GE(cport, TOY_EPHEMERAL_LO);
	EXPECT_EQ(self->port, toy_peer_port(self->c));
	EXPECT_EQ(self->port, toy_port(self->s));
	EXPECT_EQ(cport, toy_peer_port(self->s));
	EXPECT_EQ(SOCK_SEQPACKET,
		  toy_getsockopt_int(self->s, SOL_SOCKET, SO_TYPE));

	ASSERT_EQ(0, proc_entry(self->c, &ec));
	ASSERT_EQ(0, proc_entry(self->s, &es));
	EXPECT_STREQ("SEQPACKET", ec.type);
	EXPECT_STREQ("SEQPACKET", es.type);
	EXPECT_STREQ("ESTABLISHED", ec.state);
	EXPECT_STREQ("ESTABLISHED", es.state);
	EXPECT_EQ(cport, ec.lport);
	EXPECT_EQ(self->port, ec.pport);
	EXPECT_EQ(self->port, es.lport);
	EXPECT_EQ(cport, es.pport);

	/* accept() returns the peer's address */
	close(self->c);
	self->c = toy_socket(SOCK_SEQPACKET);
	ASSERT_EQ(0, toy_connect(self->c, self->port));
	memset(&a, 0xaa, sizeof(a));
	s2 = accept(self->l, (struct sockaddr *)&a, &alen);
	ASSERT_LE(0, s2);
	EXPECT_EQ(sizeof(a), alen);
	EXPECT_EQ(AF_TOY, a.stoy_family);
	EXPECT_EQ(0, a.stoy_reserved);
	EXPECT_EQ(toy_port(self->c), a.stoy_port);
	close(s2);
}

TEST_F(sp, shutdown_states_fin_wait2_close_wait)
{
	char buf[16];

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	/* the FIN reached the server once it reads EOF */
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_proc_state(self->s, "CLOSE_WAIT"))
		TH_LOG("server state %s", proc_state(self->s));
	EXPECT_EQ(0, wait_proc_state(self->c, "FIN_WAIT2"))
		TH_LOG("client state %s", proc_state(self->c));

	/* the half-open direction still carries records */
	ASSERT_EQ(3, send(self->s, "abc", 3, 0));
	ASSERT_EQ(3, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));

	/* passive close: the client sees EOF, the server vanishes */
	close(self->s);
	self->s = -1;
	EXPECT_EQ(0, recv(self->c, buf, sizeof(buf), 0));
}

TEST_F(sp, unconnected_send_enotconn)
{
	int fd = toy_socket(SOCK_SEQPACKET);
	char buf[4];

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, send(fd, "x", 1, MSG_NOSIGNAL));
	EXPECT_ERRNO(ENOTCONN, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_ERRNO(ENOTCONN, recv(self->l, buf, sizeof(buf), MSG_DONTWAIT));
	close(fd);
}

TEST_F(sp, connection_errors_like_stream)
{
	struct sockaddr_toy a;
	socklen_t alen = sizeof(a);
	long free_port;
	char buf[4];
	int fd;

	/* already connected */
	EXPECT_ERRNO(EISCONN, toy_connect(self->c, self->port));
	/* listen on a connected socket, accept on a non-listener */
	EXPECT_ERRNO(EINVAL, listen(self->c, 1));
	EXPECT_ERRNO(EINVAL, accept(self->s, NULL, NULL));
	/* connect on a listener: EISCONN, as TCP */
	EXPECT_ERRNO(EISCONN, toy_connect(self->l, self->port));
	/* empty accept queue, non-blocking */
	EXPECT_EQ(0, toy_set_nonblock(self->l, true));
	EXPECT_ERRNO(EAGAIN, accept(self->l, NULL, NULL));
	/* SO_RCVTIMEO on an idle connection */
	ASSERT_EQ(0, toy_set_timeo(self->s, SO_RCVTIMEO, 20000));
	EXPECT_ERRNO(EAGAIN, recv(self->s, buf, sizeof(buf), 0));

	/* nobody bound / bound but not listening */
	fd = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 0));
	free_port = toy_port(fd);
	ASSERT_LT(0, free_port);
	close(fd);
	fd = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(fd, free_port));
	close(fd);
	fd = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 0));
	{
		int c2 = toy_socket(SOCK_SEQPACKET);

		ASSERT_LE(0, c2);
		EXPECT_ERRNO(ECONNREFUSED, toy_connect(c2, toy_port(fd)));
		close(c2);
	}
	close(fd);

	/* getpeername on an unconnected socket */
	fd = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, getpeername(fd, (struct sockaddr *)&a, &alen));
	EXPECT_ERRNO(ENOTCONN, shutdown(fd, SHUT_WR));
	close(fd);
}

TEST_F(sp, reset_when_peer_closes_with_unread_records)
{
	char buf[8];

	ASSERT_EQ(6, send(self->c, "unread", 6, 0));
	close(self->s);		/* never read: the client is reset */
	self->s = -1;
	EXPECT_ERRNO(ECONNRESET, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_ERRNO(EPIPE, send(self->c, "x", 1, MSG_NOSIGNAL));
}

TEST_F(sp, msg_oob_eopnotsupp)
{
	EXPECT_ERRNO(EOPNOTSUPP, send(self->c, "x", 1, MSG_OOB));
}

/* ---- records --------------------------------------------------------- */

/*
 * A read that faults leaves the whole record queued, first, for the next
 * (AF_UNIX drops it: man toy.7, NOTES).
 */
TEST_F(sp, efault_recv_leaves_record)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char buf[16];

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(6, send(self->c, "abcdef", 6, 0));
	ASSERT_EQ(2, send(self->c, "gh", 2, 0));
	EXPECT_ERRNO(EFAULT, recv(self->s, bad, sizeof(buf), 0));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(6, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "abcdef", 6));
	ASSERT_EQ(2, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "gh", 2));
	munmap(bad, 4096);
}

TEST_F(sp, record_boundaries)
{
	char buf[64];
	int fl;

	ASSERT_EQ(3, send(self->c, "abc", 3, 0));
	ASSERT_EQ(5, send(self->c, "defgh", 5, 0));
	ASSERT_EQ(1, send(self->c, "i", 1, 0));

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, toy_recvmsg(self->s, buf, sizeof(buf), 0, &fl, NULL));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(5, toy_recvmsg(self->s, buf, sizeof(buf), 0, &fl, NULL));
	EXPECT_EQ(0, memcmp(buf, "defgh", 5));
	EXPECT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ('i', buf[0]);
	EXPECT_ERRNO(EAGAIN, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));

	/* and the other direction */
	ASSERT_EQ(2, send(self->s, "xy", 2, 0));
	ASSERT_EQ(4, send(self->s, "zzzz", 4, 0));
	ASSERT_EQ(2, recv(self->c, buf, sizeof(buf), 0));
	ASSERT_EQ(4, recv(self->c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "zzzz", 4));
}

TEST_F(sp, many_records_varying_sizes)
{
	static char out[3000], in[4096];
	int i;

	/* 200 records, 0..2999 bytes; queued records stay below sndbuf */
	for (i = 0; i < 200; i++) {
		size_t len = (i * 997) % 3000;

		toy_pattern(out, len, i);
		ASSERT_EQ((ssize_t)len, send(self->c, out, len, 0))
			TH_LOG("record %d: %s", i, strerror(errno));
		memset(in, 0, sizeof(in));
		if (i % 3 == 2) {
			/* drain three records at a time */
			int j;

			for (j = i - 2; j <= i; j++) {
				size_t l = (j * 997) % 3000;
				int fl;

				toy_pattern(out, l, j);
				ASSERT_EQ((ssize_t)l,
					  toy_recvmsg(self->s, in, sizeof(in),
						      0, &fl, NULL));
				ASSERT_EQ(0, memcmp(in, out, l));
				ASSERT_EQ(0, fl & MSG_TRUNC);
			}
		}
	}
	/* records 198 and 199 */
	ASSERT_EQ((ssize_t)((198 * 997) % 3000),
		  recv(self->s, in, sizeof(in), 0));
	ASSERT_EQ((ssize_t)((199 * 997) % 3000),
		  recv(self->s, in, sizeof(in), 0));
}

TEST_F(sp, sendmsg_iovecs_form_one_record)
{
	struct iovec iov[3] = {
		{ .iov_base = "one", .iov_len = 3 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "two!", .iov_len = 4 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
	char a[2], b[16];
	struct iovec riov[2] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = sizeof(b) },
	};
	struct msghdr rmsg = { .msg_iov = riov, .msg_iovlen = 2 };

	ASSERT_EQ(7, sendmsg(self->c, &msg, 0));
	ASSERT_EQ(1, send(self->c, "#", 1, 0));
	ASSERT_EQ(7, recvmsg(self->s, &rmsg, 0));
	EXPECT_EQ(0, rmsg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(a, "on", 2));
	EXPECT_EQ(0, memcmp(b, "etwo!", 5));
	ASSERT_EQ(1, recv(self->s, b, sizeof(b), 0));
	EXPECT_EQ('#', b[0]);
}

TEST_F(sp, zero_length_records_delivered)
{
	char buf[16];
	int fl = -1;

	/* nothing queued: not readable */
	EXPECT_EQ(0, toy_poll(self->s, POLLIN, 0) & POLLIN);

	ASSERT_EQ(0, send(self->c, "", 0, 0));
	/* the empty record makes the socket readable */
	EXPECT_EQ(POLLIN, toy_poll(self->s, POLLIN, 0) & POLLIN);
	ASSERT_EQ(0, toy_recvmsg(self->s, buf, sizeof(buf), MSG_DONTWAIT, &fl, NULL));
	EXPECT_EQ(0, fl & MSG_TRUNC);

	/* consumed, and it was not EOF: not readable, later records arrive */
	EXPECT_EQ(0, toy_poll(self->s, POLLIN | POLLRDHUP, 0) &
		     (POLLIN | POLLRDHUP | POLLHUP));
	EXPECT_ERRNO(EAGAIN, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(1, send(self->c, "x", 1, 0));
	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ('x', buf[0]);
}

TEST_F(sp, zero_length_records_between_data)
{
	char buf[16];

	ASSERT_EQ(1, send(self->c, "a", 1, 0));
	ASSERT_EQ(0, send(self->c, NULL, 0, 0));
	ASSERT_EQ(0, send(self->c, "", 0, 0));
	ASSERT_EQ(1, send(self->c, "b", 1, 0));

	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ('a', buf[0]);
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ('b', buf[0]);
	EXPECT_ERRNO(EAGAIN, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(sp, large_record_in_one_recv)
{
	size_t len = 60000;
	char *out = malloc(len), *in = malloc(len + 100);
	int fl = 0;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	toy_pattern(out, len, 7);
	ASSERT_EQ((ssize_t)len, send(self->c, out, len, 0))
		TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(1, send(self->c, "z", 1, 0));
	ASSERT_EQ((ssize_t)len, toy_recvmsg(self->s, in, len + 100, 0, &fl, NULL));
	EXPECT_EQ(0, fl & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(in, out, len));
	ASSERT_EQ(1, recv(self->s, in, len, 0));
	EXPECT_EQ('z', in[0]);
	free(out);
	free(in);
}

/* A zeroed buffer of SO_SNDBUF of fd times mul plus add bytes (*len). */
static char *sndbuf_multiple(int fd, size_t mul, size_t add, size_t *len)
{
	int sndbuf = toy_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);

	if (sndbuf <= 0)
		return NULL;
	*len = (size_t)sndbuf * mul + add;
	return calloc(1, *len);
}

TEST_F(sp, emsgsize_record_larger_than_sndbuf)
{
	int val = 4096;
	size_t big;
	char *buf;

	ASSERT_EQ(0, toy_setsockopt_int(self->c, SOL_SOCKET, SO_SNDBUF, val));
	buf = sndbuf_multiple(self->c, 4, 1, &big);
	ASSERT_NE(NULL, buf);

	/* MSG_DONTWAIT: a module that wrongly waits would report EAGAIN */
	EXPECT_ERRNO(EMSGSIZE, send(self->c, buf, big,
				    MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_ERRNO(EMSGSIZE, send(self->c, buf, big, MSG_NOSIGNAL));
	/* nothing was queued and the connection still works */
	EXPECT_ERRNO(EAGAIN, recv(self->s, buf, big, MSG_DONTWAIT));
	ASSERT_EQ(2, send(self->c, "ok", 2, 0));
	ASSERT_EQ(2, recv(self->s, buf, big, 0));
	free(buf);
}

TEST_F(sp, emsgsize_default_sndbuf)
{
	size_t big;
	char *buf = sndbuf_multiple(self->c, 2, 4096, &big);

	ASSERT_NE(NULL, buf);
	EXPECT_ERRNO(EMSGSIZE, send(self->c, buf, big,
				    MSG_DONTWAIT | MSG_NOSIGNAL));
	free(buf);
}

/* A writer process sends numbered records of varying length while the
 * reader checks each one: boundaries survive blocking flow control.
 */
TEST_F(sp, records_survive_flow_control)
{
	const int nrec = 2000;
	static char in[9000], out[9000];
	pid_t pid;
	int i;

	if (TOY_FORK(pid)) {
		close(self->s);
		for (i = 0; i < nrec; i++) {
			size_t len = 4 + (i * 7919) % 8000;

			toy_pattern(out, len, i);
			memcpy(out, &i, sizeof(i));
			CHILD_CHECK(send(self->c, out, len, 0) == (ssize_t)len);
		}
		_exit(0);
	}
	close(self->c);
	self->c = -1;
	for (i = 0; i < nrec; i++) {
		size_t len = 4 + (i * 7919) % 8000;
		int fl = 0, seq;

		toy_pattern(out, len, i);
		memcpy(out, &i, sizeof(i));
		ASSERT_EQ((ssize_t)len, toy_recvmsg(self->s, in, sizeof(in), 0,
						    &fl, NULL)) TH_LOG("record %d", i);
		memcpy(&seq, in, sizeof(seq));
		ASSERT_EQ(i, seq);
		ASSERT_EQ(0, memcmp(in, out, len));
		ASSERT_EQ(0, fl & MSG_TRUNC);
	}
	EXPECT_EQ(0, wait_child(pid));
	/* the writer exited: EOF */
	EXPECT_EQ(0, recv(self->s, in, sizeof(in), 0));
}

/* ---- EOF and poll ------------------------------------------------------ */

TEST_F(sp, eof_after_close_delivers_queued_records_first)
{
	char buf[16];

	ASSERT_EQ(4, send(self->c, "rec1", 4, 0));
	ASSERT_EQ(5, send(self->c, "rec22", 5, 0));
	close(self->c);
	self->c = -1;

	ASSERT_EQ(4, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "rec1", 4));
	ASSERT_EQ(5, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "rec22", 5));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), MSG_DONTWAIT));
	/* sending to a closed peer */
	EXPECT_ERRNO(EPIPE, send(self->s, "x", 1, MSG_NOSIGNAL));
}

TEST_F(sp, blocking_recv_woken_by_close)
{
	int p[2];
	pid_t pid;
	char buf[8];

	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		CHILD_CHECK(sync_wait(p[0]) == 0);
		/*
		 * Close only once the parent provably sleeps in recv(): else
		 * recv() may just find the EOF and no wake-up is exercised.
		 * Then it must leave recv() (it has no timeout: a lost wake-up
		 * fails here, and hangs it until the harness times it out).
		 */
		CHILD_CHECK(wait_in_syscall(getppid(), SYS_recvfrom) == 0);
		close(self->c);
		CHILD_CHECK(wait_left_syscall(getppid(), SYS_recvfrom) == 0);
		_exit(0);
	}
	close(self->c);		/* the child holds the last reference */
	self->c = -1;
	ASSERT_EQ(0, sync_post(p[1]));
	EXPECT_EQ(0, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_child(pid));
	toy_close_fds(p, 2);
}

TEST_F(sp, poll_states)
{
	int ev, l2, c2;
	char buf[8];

	/* connected, idle: writable, not readable */
	ev = toy_poll(self->c, POLLIN | POLLOUT | POLLRDHUP, 0);
	EXPECT_EQ(POLLOUT, ev);
	ev = toy_poll(self->s, POLLIN | POLLOUT | POLLRDHUP, 0);
	EXPECT_EQ(POLLOUT, ev);

	/* a record makes the peer readable */
	ASSERT_EQ(2, send(self->c, "hi", 2, 0));
	ev = toy_poll(self->s, POLLIN | POLLOUT | POLLRDHUP, 0);
	EXPECT_EQ(POLLIN | POLLOUT, ev);
	ASSERT_EQ(2, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, toy_poll(self->s, POLLIN, 0));

	/* peer FIN: readable (EOF) and RDHUP */
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ev = toy_poll(self->s, POLLIN | POLLRDHUP, 0);
	EXPECT_EQ(POLLIN | POLLRDHUP, ev & (POLLIN | POLLRDHUP));
	EXPECT_EQ(0, ev & POLLHUP);

	/* both directions shut: HUP */
	ASSERT_EQ(0, shutdown(self->s, SHUT_WR));
	ev = toy_poll(self->s, POLLIN, 0);
	EXPECT_EQ(POLLHUP, ev & POLLHUP);
	ev = toy_poll(self->c, POLLIN, 0);
	EXPECT_EQ(POLLHUP, ev & POLLHUP);

	/* listener: readable when a connection is waiting */
	EXPECT_EQ(0, toy_poll(self->l, POLLIN, 0));
	c2 = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, toy_connect(c2, self->port));
	EXPECT_EQ(POLLIN, toy_poll(self->l, POLLIN, 0));
	l2 = accept(self->l, NULL, NULL);
	ASSERT_LE(0, l2);
	EXPECT_EQ(0, toy_poll(self->l, POLLIN, 0));
	close(l2);
	close(c2);
}

TEST_F(sp, poll_wakes_blocked_reader)
{
	short revents = 0;
	bool woken = false;
	int p[2];
	pid_t pid;
	char buf[8];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(0, toy_poll(self->s, POLLIN, 0));	/* nothing to read yet */
	if (TOY_FORK(pid)) {
		CHILD_CHECK(sync_wait(p[0]) == 0);
		/* send only once the parent provably sleeps in poll() */
		CHILD_CHECK(wait_in_syscall(getppid(), SYS_ppoll) == 0);
		CHILD_CHECK(send(self->c, "wake", 4, 0) == 4);
		_exit(0);
	}
	ASSERT_EQ(0, sync_post(p[1]));
	/* woken by the record, not ended by the timeout */
	ASSERT_EQ(1, toy_ppoll_woken(self->s, POLLIN, 12000, &revents, &woken));
	EXPECT_TRUE(woken) TH_LOG("poll() timed out: the record did not wake it");
	EXPECT_EQ(POLLIN, revents & POLLIN);
	ASSERT_EQ(4, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, wait_child(pid));
	toy_close_fds(p, 2);
}

/* ---- port spaces --------------------------------------------------------- */

TEST(port_space_per_type_bind_same_port)
{
	uint32_t port;
	int sp, st, sp2, dg;

	ASSERT_EQ(0, toy_ensure_module());
	sp = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, sp);

	/* STREAM may bind the SEQPACKET port number */
	st = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, st);
	EXPECT_EQ(0, toy_bind(st, port)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(port, toy_port(st));

	/* but a second SEQPACKET socket may not */
	sp2 = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, sp2);
	EXPECT_ERRNO(EADDRINUSE, toy_bind(sp2, port));

	/* DGRAM has its own space too */
	dg = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, dg);
	EXPECT_EQ(0, toy_bind(dg, port)) TH_LOG("%s", strerror(errno));
	close(dg);
	close(sp2);
	close(st);
	close(sp);
}

TEST(port_space_stream_to_seqpacket_listener_refused)
{
	uint32_t port;
	int l, c;

	ASSERT_EQ(0, toy_ensure_module());
	l = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(c, port));
	EXPECT_EQ(0, toy_poll(l, POLLIN, 0));
	close(c);

	/* and the other way round */
	close(l);
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	c = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, c);
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(c, port));
	close(c);
	close(l);
}

TEST(port_space_both_types_listen_on_same_port)
{
	struct toy_proc_entry e;
	uint32_t port;
	int lsp, lst, csp, cst, ssp, sst;
	char buf[8];
	int fl = 0;

	ASSERT_EQ(0, toy_ensure_module());
	lsp = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, lsp);
	lst = toy_listener_port(SOCK_STREAM, port, 4, NULL);
	ASSERT_LE(0, lst) TH_LOG("%s", strerror(errno));

	cst = toy_socket(SOCK_STREAM);
	csp = toy_socket(SOCK_SEQPACKET);
	ASSERT_LE(0, cst);
	ASSERT_LE(0, csp);
	ASSERT_EQ(0, toy_connect(cst, port));
	ASSERT_EQ(0, toy_connect(csp, port));

	ssp = accept4(lsp, NULL, NULL, SOCK_NONBLOCK);
	sst = accept4(lst, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, ssp);
	ASSERT_LE(0, sst);
	EXPECT_EQ(SOCK_SEQPACKET, toy_getsockopt_int(ssp, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(SOCK_STREAM, toy_getsockopt_int(sst, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(toy_port(csp), toy_peer_port(ssp));
	EXPECT_EQ(toy_port(cst), toy_peer_port(sst));
	/* each listener got exactly one connection */
	ASSERT_EQ(0, toy_set_nonblock(lsp, true));
	ASSERT_EQ(0, toy_set_nonblock(lst, true));
	EXPECT_ERRNO(EAGAIN, accept(lsp, NULL, NULL));
	EXPECT_ERRNO(EAGAIN, accept(lst, NULL, NULL));

	ASSERT_EQ(0, proc_entry(ssp, &e));
	EXPECT_STREQ("SEQPACKET", e.type);
	EXPECT_EQ(port, e.lport);
	ASSERT_EQ(0, proc_entry(sst, &e));
	EXPECT_STREQ("STREAM", e.type);
	EXPECT_EQ(port, e.lport);
	ASSERT_EQ(0, proc_entry(lsp, &e));
	EXPECT_STREQ("SEQPACKET", e.type);
	EXPECT_STREQ("LISTEN", e.state);
	ASSERT_EQ(0, proc_entry(lst, &e));
	EXPECT_STREQ("STREAM", e.type);
	EXPECT_STREQ("LISTEN", e.state);

	/* data goes where it belongs: records on the SEQPACKET pair */
	ASSERT_EQ(2, send(csp, "ab", 2, 0));
	ASSERT_EQ(1, toy_recvmsg(ssp, buf, 1, 0, &fl, NULL));
	EXPECT_EQ(MSG_TRUNC, fl & MSG_TRUNC);
	ASSERT_EQ(2, send(cst, "cd", 2, 0));
	ASSERT_EQ(1, toy_recvmsg(sst, buf, 1, 0, &fl, NULL));
	EXPECT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(1, recv(sst, buf, 1, 0));	/* stream: the rest stays */
	EXPECT_EQ('d', buf[0]);

	close(ssp);
	close(sst);
	close(csp);
	close(cst);
	close(lst);
	close(lsp);
}

TEST(closed_sockets_vanish_from_proc)
{
	struct toy_proc_entry e;
	int c, s;
	long cport, sport;

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, toy_connect_pair(SOCK_SEQPACKET, &c, &s));
	cport = toy_port(c);
	sport = toy_port(s);
	ASSERT_EQ(0, proc_find("SEQPACKET", cport, sport, &e));
	EXPECT_STREQ("ESTABLISHED", e.state);
	close(c);
	/* the server sees CLOSE_WAIT; closing it ends both */
	EXPECT_EQ(0, wait_proc_state(s, "CLOSE_WAIT"));
	close(s);
	EXPECT_EQ(0, wait_proc_gone("SEQPACKET", cport, sport));
	EXPECT_EQ(0, wait_proc_gone("SEQPACKET", sport, cport));
}

TEST_HARNESS_MAIN

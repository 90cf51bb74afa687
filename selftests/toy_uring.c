// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring on AF_TOY sockets (liburing, linked statically so that the
 * binary runs in the busybox VM): accept (single and multishot), connect,
 * send, recv, poll, cancellation of a pending recv, and EOF to a pending
 * recv.  Every completion's result is checked: fds, byte counts, poll
 * masks, -ECANCELED, and the data itself; nothing completes before its
 * condition holds (a completion that is already there is checked with a
 * non-blocking peek, no timing).
 */
#include <liburing.h>

#include "toy_common.h"

#include "kselftest_harness.h"

#define WAIT_SECS 10

FIXTURE(uring) {
	struct io_uring ring;
	int listener;
	uint32_t port;
};

FIXTURE_SETUP(uring)
{
	int r = io_uring_queue_init(16, &self->ring, 0);

	/* the debug kernel (tinyconfig based) has no io_uring */
	if (r == -ENOSYS) {
		self->listener = -1;
		SKIP(return, "kernel without io_uring (CONFIG_IO_URING)");
	}
	ASSERT_EQ(0, r);
	self->listener = toy_listener(SOCK_STREAM, &self->port);
	ASSERT_GE(self->listener, 0);
}

FIXTURE_TEARDOWN(uring)
{
	if (self->listener < 0)
		return;
	io_uring_queue_exit(&self->ring);
	close(self->listener);
}

/* Waits for one completion (at most WAIT_SECS): its res and user_data. */
static int reap(struct io_uring *ring, int *res, __u64 *data, unsigned int *flags)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_SECS };
	struct io_uring_cqe *cqe;
	int r;

	r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (r < 0)
		return r;
	*res = cqe->res;
	*data = cqe->user_data;
	if (flags)
		*flags = cqe->flags;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* A completion already there: 1 (and its fields), 0 if none. */
static int peek(struct io_uring *ring, int *res, __u64 *data)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(ring, &cqe) < 0)
		return 0;
	*res = cqe->res;
	*data = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return 1;
}

static struct io_uring_sqe *sqe_for(struct io_uring *ring, __u64 data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (sqe)
		io_uring_sqe_set_data64(sqe, data);
	return sqe;
}

/* A recv of up to len bytes into buf on fd, submitted: 1 if it was. */
static int submit_recv(struct io_uring *ring, __u64 data, int fd, char *buf,
		       size_t len)
{
	io_uring_prep_recv(sqe_for(ring, data), fd, buf, len, 0);
	return io_uring_submit(ring);
}

/* A connected pair made through io_uring: accept and connect in one submit. */
static int uring_pair(struct __test_metadata *_metadata, struct io_uring *ring,
		      int listener, uint32_t port, int *client, int *server)
{
	struct sockaddr_toy a = { .stoy_family = AF_TOY, .stoy_port = port };
	struct sockaddr_toy peer;
	socklen_t plen = sizeof(peer);
	struct io_uring_sqe *sqe;
	int i, res = 0, acc = -1, con = 1;
	__u64 data = 0;

	*client = toy_socket(SOCK_STREAM);
	EXPECT_GE(*client, 0);
	sqe = sqe_for(ring, 1);
	io_uring_prep_accept(sqe, listener, (struct sockaddr *)&peer, &plen, 0);
	sqe = sqe_for(ring, 2);
	io_uring_prep_connect(sqe, *client, (struct sockaddr *)&a, sizeof(a));
	EXPECT_EQ(2, io_uring_submit(ring));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, reap(ring, &res, &data, NULL));
		if (data == 1)
			acc = res;
		else
			con = res;
	}
	EXPECT_EQ(0, con);
	EXPECT_GE(acc, 0);
	EXPECT_EQ(sizeof(peer), plen);
	EXPECT_EQ(AF_TOY, peer.stoy_family);
	EXPECT_EQ(toy_port(*client), peer.stoy_port);
	EXPECT_EQ(port, toy_peer_port(*client));
	*server = acc;
	return acc >= 0 && con == 0 ? 0 : -1;
}

TEST_F(uring, accept_connect_send_recv)
{
	static char out[256 * 1024], in[256 * 1024];
	struct io_uring_sqe *sqe;
	size_t got = 0, sent = 0;
	int c, s, res;
	__u64 data;

	ASSERT_EQ(0, uring_pair(_metadata, &self->ring, self->listener, self->port, &c, &s));
	toy_pattern(out, sizeof(out), 7);
	/* sends and receives through the ring until every byte is across */
	while (got < sizeof(in)) {
		if (sent < sizeof(out)) {
			sqe = sqe_for(&self->ring, 3);
			io_uring_prep_send(sqe, c, out + sent, sizeof(out) - sent, 0);
		}
		sqe = sqe_for(&self->ring, 4);
		io_uring_prep_recv(sqe, s, in + got, sizeof(in) - got, 0);
		ASSERT_GE(io_uring_submit(&self->ring), 1);
		for (int n = sent < sizeof(out) ? 2 : 1; n > 0; n--) {
			ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
			ASSERT_GT(res, 0);
			if (data == 3)
				sent += res;
			else
				got += res;
		}
	}
	EXPECT_EQ(sizeof(out), sent);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	close(c);
	close(s);
}

TEST_F(uring, multishot_accept)
{
	int c[4], fds[4], i, res, seen = 0;
	struct io_uring_sqe *sqe;
	unsigned int flags;
	__u64 data;

	sqe = sqe_for(&self->ring, 10);
	io_uring_prep_multishot_accept(sqe, self->listener, NULL, NULL, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(0, peek(&self->ring, &res, &data));
	for (i = 0; i < 4; i++) {
		c[i] = toy_socket(SOCK_STREAM);
		ASSERT_GE(c[i], 0);
		ASSERT_EQ(0, toy_connect(c[i], self->port));
	}
	/* one completion per connection, each with more to come */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, reap(&self->ring, &res, &data, &flags));
		EXPECT_EQ(10, data);
		ASSERT_GE(res, 0);
		EXPECT_TRUE(flags & IORING_CQE_F_MORE);
		fds[i] = res;
		/* the accepted socket is one of ours: its peer is a client */
		for (int j = 0; j < 4; j++)
			if (toy_peer_port(res) == toy_port(c[j]))
				seen |= 1 << j;
	}
	EXPECT_EQ(0xf, seen);
	/* cancelling ends it: -ECANCELED, no more */
	sqe = sqe_for(&self->ring, 11);
	io_uring_prep_cancel64(sqe, 10, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, reap(&self->ring, &res, &data, &flags));
		if (data == 10) {
			EXPECT_EQ(-ECANCELED, res);
			EXPECT_FALSE(flags & IORING_CQE_F_MORE);
		} else {
			EXPECT_EQ(11, data);
			EXPECT_EQ(0, res);
		}
	}
	for (i = 0; i < 4; i++) {
		close(c[i]);
		close(fds[i]);
	}
}

TEST_F(uring, poll_in_on_data)
{
	struct io_uring_sqe *sqe;
	int c, s, res;
	__u64 data;

	ASSERT_EQ(0, uring_pair(_metadata, &self->ring, self->listener, self->port, &c, &s));
	sqe = sqe_for(&self->ring, 20);
	io_uring_prep_poll_add(sqe, s, POLLIN);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* nothing to read yet: no completion */
	EXPECT_EQ(0, peek(&self->ring, &res, &data));
	ASSERT_EQ(3, write(c, "abc", 3));
	ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
	EXPECT_EQ(20, data);
	EXPECT_TRUE(res & POLLIN);
	/* POLLOUT on a fresh connection is there at once */
	sqe = sqe_for(&self->ring, 21);
	io_uring_prep_poll_add(sqe, c, POLLOUT);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
	EXPECT_EQ(21, data);
	EXPECT_EQ(POLLOUT, res & (POLLOUT | POLLIN));
	close(c);
	close(s);
}

TEST_F(uring, cancel_pending_recv)
{
	struct io_uring_sqe *sqe;
	char buf[16];
	int c, s, res, i;
	__u64 data;

	ASSERT_EQ(0, uring_pair(_metadata, &self->ring, self->listener, self->port, &c, &s));
	ASSERT_EQ(1, submit_recv(&self->ring, 30, s, buf, sizeof(buf)));
	EXPECT_EQ(0, peek(&self->ring, &res, &data));
	sqe = sqe_for(&self->ring, 31);
	io_uring_prep_cancel64(sqe, 30, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
		if (data == 30) {
			EXPECT_EQ(-ECANCELED, res);
		} else {
			EXPECT_EQ(0, res);
		}
	}
	/* the cancelled recv took nothing: later data arrives whole */
	ASSERT_EQ(5, write(c, "hello", 5));
	ASSERT_EQ(1, submit_recv(&self->ring, 32, s, buf, sizeof(buf)));
	ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
	EXPECT_EQ(32, data);
	ASSERT_EQ(5, res);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(c);
	close(s);
}

TEST_F(uring, pending_recv_sees_eof)
{
	char buf[16];
	int c, s, res;
	__u64 data;

	ASSERT_EQ(0, uring_pair(_metadata, &self->ring, self->listener, self->port, &c, &s));
	ASSERT_EQ(1, submit_recv(&self->ring, 40, s, buf, sizeof(buf)));
	EXPECT_EQ(0, peek(&self->ring, &res, &data));
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
	EXPECT_EQ(40, data);
	EXPECT_EQ(0, res);
	close(s);
}

TEST_F(uring, connect_refused)
{
	struct sockaddr_toy a = { .stoy_family = AF_TOY };
	struct io_uring_sqe *sqe;
	uint32_t port;
	int fd, res, b;
	__u64 data;

	/* a bound port with no listener: refused, as TCP's RST */
	b = toy_bound(SOCK_STREAM, &port);
	ASSERT_GE(b, 0);
	a.stoy_port = port;
	fd = toy_socket(SOCK_STREAM);
	ASSERT_GE(fd, 0);
	sqe = sqe_for(&self->ring, 50);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&a, sizeof(a));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, &res, &data, NULL));
	EXPECT_EQ(-ECONNREFUSED, res);
	close(fd);
	close(b);
}

static void __attribute__((constructor)) init(void)
{
	toy_selftest_init(true);
}

TEST_HARNESS_MAIN

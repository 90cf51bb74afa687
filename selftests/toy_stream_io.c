// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM data path: read/write/readv/writev/
 * sendmsg/recvmsg, MSG_WAITALL/DONTWAIT/NOSIGNAL, EPIPE/SIGPIPE,
 * RST/ECONNRESET, EFAULT without losing or duplicating data, flow control
 * by SO_SNDBUF, memory bounds, poll/select/epoll.  Short reads, MSG_TRUNC
 * and MSG_PEEK next to the record types: toy_recv.c.
 */
#include "toy_common.h"

#include <sys/ioctl.h>
#include <sys/select.h>

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(true)

TOY_PAIR_FIXTURE(pair, SOCK_STREAM)

static volatile sig_atomic_t got_sigpipe;

/* an unmapped user address the compiler cannot see through */
static void *volatile bad_addr = (void *)8;

static void on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe++;
}

/* ---- plain data -------------------------------------------------------- */

TEST_F(pair, request_response_loop)
{
	char req[64], rsp[64];
	int i;

	for (i = 0; i < 200; i++) {
		int n = snprintf(req, sizeof(req), "request %d", i);
		int j;

		ASSERT_EQ(n, write(self->a, req, n));
		ASSERT_EQ(n, read_all(self->b, rsp, n));
		ASSERT_EQ(0, memcmp(req, rsp, n));
		for (j = 0; j < n; j++)
			rsp[j] ^= 0x20;
		ASSERT_EQ(n, write(self->b, rsp, n));
		ASSERT_EQ(n, read_all(self->a, req, n));
		ASSERT_EQ(0, memcmp(req, rsp, n));
	}
}

TEST_F(pair, stream_coalesces_writes)
{
	char buf[256], want[100];
	int i;

	for (i = 0; i < 10; i++) {
		memset(want + i * 10, 'a' + i, 10);
		ASSERT_EQ(10, write(self->a, want + i * 10, 10));
	}
	/* no record boundaries on a stream: one read takes all 100 bytes */
	ASSERT_EQ(100, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want, 100));
}

TEST_F(pair, stream_splits_reads)
{
	char buf[7], all[1000], want[1000];
	size_t got = 0;

	toy_pattern(want, sizeof(want), 0);
	ASSERT_EQ(1000, write(self->a, want, 1000));
	while (got < sizeof(all)) {
		ssize_t n = read(self->b, buf, sizeof(buf));

		ASSERT_LT(0, n);
		ASSERT_GE(7, n);
		memcpy(all + got, buf, n);
		got += n;
	}
	EXPECT_EQ(0, memcmp(all, want, sizeof(want)));
	ASSERT_EQ(0, toy_set_nonblock(self->b, true));
	EXPECT_ERRNO(EAGAIN, read(self->b, buf, 1));
}

TEST_F(pair, readv_writev)
{
	char x[3] = "abc", y[5] = "defgh", z[2] = "ij", r1[4], r2[6];
	struct iovec wv[3] = { { x, 3 }, { y, 5 }, { z, 2 } };
	struct iovec rv[2] = { { r1, 4 }, { r2, 6 } };

	ASSERT_EQ(10, writev(self->a, wv, 3));
	ASSERT_EQ(10, readv(self->b, rv, 2));
	EXPECT_EQ(0, memcmp(r1, "abcd", 4));
	EXPECT_EQ(0, memcmp(r2, "efghij", 6));
}

TEST_F(pair, sendmsg_recvmsg)
{
	char data[] = "message", buf[32];
	struct iovec iov = { data, 7 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_toy from;

	ASSERT_EQ(7, sendmsg(self->a, &m, 0));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	ASSERT_EQ(7, recvmsg(self->b, &m, 0));
	EXPECT_EQ(0, memcmp(buf, "message", 7));
	EXPECT_EQ(0, m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_OOB));
}

TEST_F(pair, zero_length_write)
{
	char buf[4];

	EXPECT_EQ(0, write(self->a, buf, 0));
	EXPECT_EQ(0, send(self->a, buf, 0, 0));
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(pair, data_then_eof_after_peer_close)
{
	char buf[64];

	ASSERT_EQ(10, write(self->a, "0123456789", 10));
	close(self->a);
	self->a = -1;
	ASSERT_EQ(10, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	EXPECT_STREQ("CLOSE_WAIT", proc_state(self->b));
}

/* ---- flags --------------------------------------------------------------- */

TEST_F(pair, msg_dontwait)
{
	char buf[8];

	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	/* the socket itself stays blocking */
	EXPECT_FALSE(fcntl(self->b, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(1, send(self->a, "z", 1, MSG_DONTWAIT));
	ASSERT_EQ(1, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ('z', buf[0]);
}

TEST_F(pair, msg_waitall_across_writes)
{
	char buf[300], want[300];
	pid_t pid;

	toy_pattern(want, sizeof(want), 7);
	if (TOY_FORK(pid)) {
		int i;

		/* three writes, each once the reader is asleep in recv */
		for (i = 0; i < 3; i++) {
			CHILD_CHECK(wait_proc_sleeping(getppid()) == 0);
			CHILD_CHECK(write(self->a, want + i * 100, 100) == 100);
		}
		_exit(0);
	}
	ASSERT_EQ(300, recv(self->b, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, msg_waitall_short_on_eof)
{
	char buf[100];

	ASSERT_EQ(50, write(self->a, buf, 50));
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(50, recv(self->b, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(0, recv(self->b, buf, sizeof(buf), MSG_WAITALL));
}

TEST_F(pair, msg_oob_eopnotsupp)
{
	char buf[4] = "oob";

	EXPECT_ERRNO(EOPNOTSUPP, send(self->a, buf, 1, MSG_OOB));
	errno = 0;
	EXPECT_EQ(-1, recv(self->b, buf, 1, MSG_OOB | MSG_DONTWAIT));
	EXPECT_TRUE(errno == EOPNOTSUPP || errno == EINVAL || errno == EAGAIN);
}

TEST_F(pair, recv_rcvtimeo_eagain)
{
	char buf[4];

	ASSERT_EQ(0, toy_set_timeo(self->b, SO_RCVTIMEO, 50000));
	EXPECT_ERRNO(EAGAIN, read(self->b, buf, sizeof(buf)));
	/* data that arrives later is still read normally */
	ASSERT_EQ(1, write(self->a, "k", 1));
	EXPECT_EQ(1, read(self->b, buf, sizeof(buf)));
}

TEST_F(pair, fionread_siocoutq)
{
	int n = -1;

	ASSERT_EQ(0, ioctl(self->b, FIONREAD, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(33, write(self->a, "123456789012345678901234567890123", 33));
	ASSERT_EQ(0, ioctl(self->b, FIONREAD, &n));
	EXPECT_EQ(33, n);
	ASSERT_EQ(0, ioctl(self->a, TIOCOUTQ, &n));
	EXPECT_EQ(33, n);
}

/* ---- unconnected ----------------------------------------------------------- */

TEST(send_recv_unconnected_enotconn)
{
	char buf[4] = "abc";
	int fd = toy_socket(SOCK_STREAM), l;
	uint32_t port;

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, send(fd, buf, 3, MSG_NOSIGNAL));
	EXPECT_ERRNO(ENOTCONN, write(fd, buf, 3));
	EXPECT_ERRNO(ENOTCONN, recv(fd, buf, 3, 0));
	close(fd);

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	EXPECT_ERRNO(ENOTCONN, recv(l, buf, 3, 0));
	EXPECT_ERRNO(ENOTCONN, send(l, buf, 3, MSG_NOSIGNAL));
	close(l);
}

/* ---- EPIPE, SIGPIPE, RST ---------------------------------------------------- */

TEST_F(pair, write_after_shut_wr_epipe_sigpipe)
{
	char c = 'x';

	ASSERT_EQ(0, toy_sigaction(SIGPIPE, on_sigpipe, 0));
	got_sigpipe = 0;
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_ERRNO(EPIPE, write(self->a, &c, 1));
	EXPECT_EQ(1, got_sigpipe);
	/* MSG_NOSIGNAL: the error, no signal */
	EXPECT_ERRNO(EPIPE, send(self->a, &c, 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, got_sigpipe);
	/* reading still works on the half-closed side */
	ASSERT_EQ(1, write(self->b, &c, 1));
	EXPECT_EQ(1, read(self->a, &c, 1));
}

TEST_F(pair, sigpipe_kills_by_default)
{
	pid_t pid;

	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	if (TOY_FORK(pid)) {
		signal(SIGPIPE, SIG_DFL);
		(void)!write(self->a, "x", 1);
		_exit(0);	/* not reached */
	}
	EXPECT_EQ(128 + SIGPIPE, wait_child(pid));
}

TEST_F(pair, write_after_peer_close_epipe)
{
	ASSERT_EQ(0, toy_sigaction(SIGPIPE, on_sigpipe, 0));
	got_sigpipe = 0;
	close(self->b);		/* nothing unread: FIN, no RST */
	self->b = -1;
	EXPECT_ERRNO(EPIPE, write(self->a, "x", 1));
	EXPECT_EQ(1, got_sigpipe);
	EXPECT_ERRNO(EPIPE, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(1, got_sigpipe);
}

TEST_F(pair, write_after_peer_shut_rd_epipe)
{
	ASSERT_EQ(0, shutdown(self->b, SHUT_RD));
	EXPECT_ERRNO(EPIPE, send(self->a, "x", 1, MSG_NOSIGNAL));
}

TEST_F(pair, rst_read_econnreset)
{
	char buf[16];

	ASSERT_EQ(10, write(self->a, "unread....", 10));
	ASSERT_EQ(0, wait_proc_rq(self->b, 10));
	close(self->b);		/* unread data: RST */
	self->b = -1;
	EXPECT_ERRNO(ECONNRESET, read(self->a, buf, sizeof(buf)));
	/* reported once; afterwards the connection is just gone */
	EXPECT_EQ(0, read(self->a, buf, sizeof(buf)));
	EXPECT_STREQ("CLOSED", proc_state(self->a));
}

TEST_F(pair, rst_write_econnreset_then_epipe)
{
	ASSERT_EQ(5, write(self->b, "xxxxx", 5));
	ASSERT_EQ(5, write(self->a, "yyyyy", 5));
	ASSERT_EQ(0, wait_proc_rq(self->b, 5));
	close(self->b);		/* unread data: RST */
	self->b = -1;
	EXPECT_ERRNO(ECONNRESET, send(self->a, "z", 1, MSG_NOSIGNAL));
	EXPECT_ERRNO(EPIPE, send(self->a, "z", 1, MSG_NOSIGNAL));
}

TEST_F(pair, rst_so_error)
{
	ASSERT_EQ(3, write(self->a, "abc", 3));
	ASSERT_EQ(0, wait_proc_rq(self->b, 3));
	close(self->b);
	self->b = -1;
	EXPECT_EQ(ECONNRESET, toy_getsockopt_int(self->a, SOL_SOCKET, SO_ERROR));
	/* SO_ERROR clears the pending error */
	EXPECT_EQ(0, toy_getsockopt_int(self->a, SOL_SOCKET, SO_ERROR));
}

TEST_F(pair, rst_poll_err)
{
	int ev;

	ASSERT_EQ(3, write(self->a, "abc", 3));
	ASSERT_EQ(0, wait_proc_rq(self->b, 3));
	close(self->b);
	self->b = -1;
	ev = toy_poll(self->a, POLLIN | POLLOUT | POLLRDHUP, 1000);
	EXPECT_TRUE(ev & POLLERR) TH_LOG("revents 0x%x", ev);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("revents 0x%x", ev);
}

TEST_F(pair, close_with_unread_resets_not_fin)
{
	/* the peer of a reset socket never sees a clean EOF first */
	char buf[8];

	ASSERT_EQ(1, write(self->b, "u", 1));
	ASSERT_EQ(0, wait_proc_rq(self->a, 1));
	close(self->a);
	self->a = -1;
	EXPECT_ERRNO(ECONNRESET, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
}

/* ---- EFAULT ------------------------------------------------------------------- */

TEST_F(pair, efault_recv_leaves_data)
{
	char want[100], buf[200];
	struct toy_proc_entry e;

	toy_pattern(want, sizeof(want), 3);
	ASSERT_EQ(100, write(self->a, want, 100));
	ASSERT_EQ(0, wait_proc_rq(self->b, 100));
	EXPECT_ERRNO(EFAULT, read(self->b, bad_addr, 100));
	EXPECT_ERRNO(EFAULT, recv(self->b, bad_addr, 100, MSG_DONTWAIT));
	ASSERT_EQ(0, proc_entry(self->b, &e));
	EXPECT_EQ(100UL, e.rq);
	ASSERT_EQ(100, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want, 100));
	EXPECT_EQ(0, wait_proc_rq(self->b, 0));
}

TEST_F(pair, efault_recv_partial_no_loss_no_dup)
{
	long pg = sysconf(_SC_PAGESIZE);
	char want[300], got[600];
	char *map;
	ssize_t n, total = 0;

	toy_pattern(want, sizeof(want), 11);
	ASSERT_EQ(300, write(self->a, want, 300));
	/* a buffer whose second half is unmapped */
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + pg, pg));
	n = read(self->b, map + pg - 100, 200);
	if (n < 0) {
		EXPECT_EQ(EFAULT, errno);
	} else {
		/* a short read is fine, as long as it is exactly what fitted */
		EXPECT_GE(100, n);
		memcpy(got, map + pg - 100, n);
		total = n;
	}
	while (total < 300) {
		n = recv(self->b, got + total, sizeof(got) - total, MSG_DONTWAIT);
		ASSERT_LT(0, n) TH_LOG("after %zd bytes: %s", total, strerror(errno));
		total += n;
	}
	EXPECT_EQ(300, total);
	EXPECT_EQ(0, memcmp(got, want, 300));
	EXPECT_ERRNO(EAGAIN, recv(self->b, got, 1, MSG_DONTWAIT));
	munmap(map, pg);
}

TEST_F(pair, efault_send_queues_nothing)
{
	char buf[8];
	struct toy_proc_entry e;

	EXPECT_ERRNO(EFAULT, write(self->a, bad_addr, 100));
	EXPECT_ERRNO(EAGAIN, recv(self->b, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, proc_entry(self->b, &e));
	EXPECT_EQ(0UL, e.rq);
	ASSERT_EQ(0, proc_entry(self->a, &e));
	EXPECT_EQ(0UL, e.sq);
	/* the connection is intact */
	ASSERT_EQ(2, write(self->a, "ok", 2));
	ASSERT_EQ(2, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
}

TEST_F(pair, efault_send_partial_exact)
{
	long pg = sysconf(_SC_PAGESIZE);
	char got[400];
	char *map;
	ssize_t n, total = 0, r;

	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	toy_pattern(map + pg - 100, 100, 0);
	ASSERT_EQ(0, munmap(map + pg, pg));
	n = write(self->a, map + pg - 100, 300);
	if (n < 0) {
		EXPECT_EQ(EFAULT, errno);
		n = 0;
	} else {
		EXPECT_GE(100, n);
	}
	/* the peer gets exactly the n bytes that were accepted */
	while ((r = recv(self->b, got + total, sizeof(got) - total,
			 MSG_DONTWAIT)) > 0)
		total += r;
	EXPECT_EQ(n, total);
	{
		char want[100];

		toy_pattern(want, 100, 0);
		EXPECT_EQ(0, memcmp(got, want, total));
	}
	munmap(map, pg);
}

/* ---- flow control and memory ---------------------------------------------------- */

/* Non-blocking fill; returns bytes queued; *short_seen if a short count. */
static ssize_t fill_nonblock(int fd, size_t chunk, int *short_seen,
			     uint64_t *hash)
{
	static char buf[1 << 20];
	ssize_t total = 0;

	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	for (;;) {
		ssize_t n;

		toy_pattern(buf, chunk, total);
		n = send(fd, buf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? total : -1;
		if ((size_t)n < chunk && short_seen)
			*short_seen = 1;
		if (hash)
			*hash = toy_fnv1a(*hash, buf, n);
		total += n;
		if (total > (64 << 20))
			return -2;	/* no flow control at all */
	}
}

TEST_F(pair, sndbuf_nonblock_eagain_and_short_count)
{
	int v = 8192, short_seen = 0, ev;
	uint64_t h1 = TOY_FNV_INIT, h2 = TOY_FNV_INIT;
	ssize_t total, got = 0;
	static char buf[1 << 16];

	ASSERT_EQ(0, toy_setsockopt_int(self->a, SOL_SOCKET, SO_SNDBUF, v));
	/* one write much larger than the buffer: short count, not EAGAIN */
	total = fill_nonblock(self->a, 1 << 20, &short_seen, &h1);
	ASSERT_LT(0, total) TH_LOG("fill returned %zd", total);
	EXPECT_TRUE(short_seen);
	EXPECT_GT(1 << 20, total);
	/* full: EAGAIN, and no POLLOUT */
	EXPECT_ERRNO(EAGAIN, send(self->a, "x", 1, MSG_DONTWAIT));
	ev = toy_poll(self->a, POLLOUT, 0);
	EXPECT_FALSE(ev & POLLOUT);
	EXPECT_EQ(0, wait_proc_rq(self->b, total));
	/* everything queued arrives intact */
	while (got < total) {
		ssize_t n = recv(self->b, buf, sizeof(buf), MSG_DONTWAIT);

		ASSERT_LT(0, n);
		h2 = toy_fnv1a(h2, buf, n);
		got += n;
	}
	EXPECT_EQ(total, got);
	EXPECT_EQ(h1, h2);
	/* room again */
	ev = toy_poll(self->a, POLLOUT, 5000);
	EXPECT_TRUE(ev & POLLOUT);
	EXPECT_EQ(1, send(self->a, "x", 1, MSG_DONTWAIT));
}

/* SO_SNDBUF of a set to sndbuf, then fill_nonblock(): what it queued. */
static ssize_t fill_with_sndbuf(int a, int sndbuf)
{
	if (toy_setsockopt_int(a, SOL_SOCKET, SO_SNDBUF, sndbuf))
		return -1;
	return fill_nonblock(a, 4096, NULL, NULL);
}

TEST_F(pair, sndbuf_bounds_queued_bytes)
{
	int small = 4096, big = 262144;
	ssize_t t_small, t_big;
	int a2, b2;

	/* bigger SO_SNDBUF: more can be queued; memory is charged */
	t_small = fill_with_sndbuf(self->a, small);
	ASSERT_LT(0, t_small);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a2, &b2));
	t_big = fill_with_sndbuf(a2, big);
	ASSERT_LT(0, t_big);
	EXPECT_LT(t_small, t_big);
	/* never more than the two buffers together */
	EXPECT_GE(toy_getsockopt_int(self->a, SOL_SOCKET, SO_SNDBUF) +
		  toy_getsockopt_int(self->b, SOL_SOCKET, SO_RCVBUF), t_small);
	EXPECT_GE(toy_getsockopt_int(a2, SOL_SOCKET, SO_SNDBUF) +
		  toy_getsockopt_int(b2, SOL_SOCKET, SO_RCVBUF), t_big);
	toy_close_all(a2, b2);
}

TEST_F(pair, rcvbuf_bounds_queued_bytes)
{
	int big = 1 << 20, small = 4096;
	ssize_t t_default, t_small;
	struct toy_proc_entry e;
	int a2, b2;

	/* the receiver's SO_RCVBUF limits what a sender can queue to it */
	t_default = fill_with_sndbuf(self->a, big);
	ASSERT_LT(0, t_default);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a2, &b2));
	ASSERT_EQ(0, toy_setsockopt_int(b2, SOL_SOCKET, SO_RCVBUF, small));
	t_small = fill_with_sndbuf(a2, big);
	ASSERT_LT(0, t_small);
	EXPECT_LT(t_small, t_default);
	EXPECT_GE(toy_getsockopt_int(b2, SOL_SOCKET, SO_RCVBUF), t_small);
	ASSERT_EQ(0, proc_entry(b2, &e));
	EXPECT_EQ((unsigned long)t_small, e.rq);
	toy_close_all(a2, b2);
}

TEST_F(pair, rcvlowat_read_waits_for_enough)
{
	char buf[64];
	int v = 10;
	pid_t pid;

	ASSERT_EQ(0, toy_setsockopt_int(self->b, SOL_SOCKET, SO_RCVLOWAT, v));
	if (TOY_FORK(pid)) {
		CHILD_CHECK(wait_proc_sleeping(getppid()) == 0);
		CHILD_CHECK(write(self->a, "12345", 5) == 5);
		usleep(1000);
		CHILD_CHECK(wait_proc_sleeping(getppid()) == 0);
		CHILD_CHECK(write(self->a, "67890", 5) == 5);
		_exit(0);
	}
	/* woken only once 10 bytes are there */
	ASSERT_EQ(10, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "1234567890", 10));
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, sndbuf_blocking_writer_waits_for_reader)
{
	enum { TOTAL = 4 << 20 };
	uint64_t hw = TOY_FNV_INIT, hr = TOY_FNV_INIT;
	int v = 16384, p[2];
	pid_t pid;
	struct toy_proc_entry e;
	static char buf[1 << 16];
	size_t got = 0;

	ASSERT_EQ(0, toy_setsockopt_int(self->a, SOL_SOCKET, SO_SNDBUF, v));
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		static char wb[TOTAL];

		toy_pattern(wb, TOTAL, 0);
		hw = toy_fnv1a(TOY_FNV_INIT, wb, TOTAL);
		CHILD_CHECK(write_all(self->a, wb, TOTAL) == TOTAL);
		CHILD_CHECK(write(p[1], &hw, sizeof(hw)) == sizeof(hw));
		_exit(0);
	}
	/* the writer blocks with a bounded amount queued */
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	ASSERT_EQ(0, proc_entry(self->b, &e));
	EXPECT_GT((unsigned long)TOTAL, e.rq);
	while (got < TOTAL) {
		ssize_t n = read(self->b, buf, sizeof(buf));

		ASSERT_LT(0, n);
		hr = toy_fnv1a(hr, buf, n);
		got += n;
	}
	ASSERT_EQ(sizeof(hw), read(p[0], &hw, sizeof(hw)));
	EXPECT_EQ(hw, hr);
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, sndtimeo_full_buffer)
{
	int v = 4096;
	static char buf[1 << 20];

	ASSERT_EQ(0, toy_setsockopt_int(self->a, SOL_SOCKET, SO_SNDBUF, v));
	ASSERT_LT(0, fill_nonblock(self->a, 4096, NULL, NULL));
	ASSERT_EQ(0, toy_set_timeo(self->a, SO_SNDTIMEO, 50000));
	EXPECT_ERRNO(EAGAIN, write(self->a, buf, sizeof(buf)));
}

/* ---- poll / select / epoll ------------------------------------------------------- */

TEST_F(pair, poll_in_out)
{
	int ev;

	ev = toy_poll(self->b, POLLIN | POLLOUT | POLLRDHUP, 0);
	EXPECT_EQ(POLLOUT, ev & (POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR));
	ASSERT_EQ(1, write(self->a, "p", 1));
	ev = toy_poll(self->b, POLLIN | POLLOUT | POLLRDHUP, 1000);
	EXPECT_EQ(POLLIN | POLLOUT, ev & (POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR));
	ASSERT_EQ(1, read(self->b, &ev, 1));
	ev = toy_poll(self->b, POLLIN, 0);
	EXPECT_FALSE(ev & POLLIN);
}

TEST_F(pair, poll_rdhup_on_peer_fin)
{
	int ev;
	char c;

	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	ev = toy_poll(self->b, POLLIN | POLLRDHUP, 1000);
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_TRUE(ev & POLLRDHUP);
	EXPECT_FALSE(ev & POLLHUP);
	EXPECT_FALSE(ev & POLLERR);
	EXPECT_EQ(0, read(self->b, &c, 1));
	/* the shutting side itself: still writable? no; readable? no */
	ev = toy_poll(self->a, POLLIN | POLLRDHUP, 0);
	EXPECT_FALSE(ev & (POLLIN | POLLRDHUP | POLLHUP));
}

TEST_F(pair, poll_hup_both_directions)
{
	int ev;

	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	ev = toy_poll(self->a, POLLIN, 0);
	EXPECT_FALSE(ev & POLLHUP);
	ASSERT_EQ(0, shutdown(self->b, SHUT_WR));
	ev = toy_poll(self->a, POLLIN | POLLRDHUP, 1000);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("a revents 0x%x", ev);
	EXPECT_TRUE(ev & POLLIN);
	ev = toy_poll(self->b, POLLIN | POLLRDHUP, 1000);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("b revents 0x%x", ev);
}

TEST_F(pair, poll_hup_after_peer_close_and_own_shutdown)
{
	int ev;

	close(self->a);
	self->a = -1;
	ev = toy_poll(self->b, POLLIN | POLLRDHUP, 1000);
	EXPECT_TRUE(ev & POLLIN);
	EXPECT_TRUE(ev & POLLRDHUP);
	ASSERT_EQ(0, shutdown(self->b, SHUT_RDWR));
	ev = toy_poll(self->b, POLLIN, 0);
	EXPECT_TRUE(ev & POLLHUP) TH_LOG("revents 0x%x", ev);
}

TEST(poll_listener_readable_with_pending)
{
	int l, c, s, ev;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ev = toy_poll(l, POLLIN | POLLOUT, 0);
	EXPECT_EQ(0, ev & (POLLIN | POLLERR | POLLHUP));
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, port));
	ev = toy_poll(l, POLLIN, 1000);
	EXPECT_TRUE(ev & POLLIN);
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ev = toy_poll(l, POLLIN, 0);
	EXPECT_FALSE(ev & POLLIN);
	close(s);
	close(c);
	close(l);
}

TEST(poll_unconnected_socket)
{
	int fd = toy_socket(SOCK_STREAM), ev;

	ASSERT_LE(0, fd);
	ev = toy_poll(fd, POLLIN | POLLOUT, 0);
	/* like TCP: a fresh socket reports POLLOUT | POLLHUP, never POLLIN data */
	EXPECT_FALSE(ev & POLLIN) TH_LOG("revents 0x%x", ev);
	EXPECT_FALSE(ev & POLLERR) TH_LOG("revents 0x%x", ev);
	close(fd);
}

TEST_F(pair, select_readable_writable)
{
	fd_set r, w;
	struct timeval tv = { 1, 0 };

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(self->b, &r);
	FD_SET(self->b, &w);
	ASSERT_EQ(1, select(self->b + 1, &r, &w, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->b, &r));
	EXPECT_TRUE(FD_ISSET(self->b, &w));
	ASSERT_EQ(2, write(self->a, "se", 2));
	FD_ZERO(&r);
	FD_SET(self->b, &r);
	tv.tv_sec = 5;
	ASSERT_EQ(1, select(self->b + 1, &r, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->b, &r));
}

TEST_F(pair, epoll_level_events)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP }, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), n;

	ASSERT_LE(0, ep);
	ev.data.fd = self->b;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->b, &ev));
	n = epoll_wait(ep, out, 4, 1000);
	ASSERT_EQ(1, n);
	EXPECT_EQ((unsigned int)EPOLLOUT, out[0].events);
	ASSERT_EQ(3, write(self->a, "epo", 3));
	n = epoll_wait(ep, out, 4, 1000);
	ASSERT_EQ(1, n);
	EXPECT_EQ((unsigned int)(EPOLLIN | EPOLLOUT), out[0].events);
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	n = epoll_wait(ep, out, 4, 1000);
	ASSERT_EQ(1, n);
	EXPECT_EQ((unsigned int)(EPOLLIN | EPOLLOUT | EPOLLRDHUP), out[0].events);
	close(ep);
}

TEST_F(pair, epoll_edge_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[2];
	int ep = epoll_create1(0);
	char buf[8];

	ASSERT_LE(0, ep);
	ev.data.fd = self->b;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->b, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(6, write(self->a, "edge-1", 6));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 1000));
	EXPECT_TRUE(out[0].events & EPOLLIN);
	/* same edge: no second report, even with data left over */
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(3, read(self->b, buf, 3));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	/* new data: a new edge */
	ASSERT_EQ(6, write(self->a, "edge-2", 6));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 1000));
	EXPECT_TRUE(out[0].events & EPOLLIN);
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(9, read(self->b, buf, 8) + read(self->b, buf, 8));
	close(ep);
}

TEST_F(pair, epoll_wakes_blocked_waiter)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		struct epoll_event ev = { .events = EPOLLIN }, out;
		int ep = epoll_create1(0);
		char buf[8];

		CHILD_CHECK(ep >= 0);
		ev.data.fd = self->b;
		CHILD_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, self->b, &ev) == 0);
		CHILD_CHECK(epoll_wait(ep, &out, 1, 60000) == 1);
		CHILD_CHECK(out.events & EPOLLIN);
		CHILD_CHECK(read(self->b, buf, sizeof(buf)) == 4);
		CHILD_CHECK(memcmp(buf, "wake", 4) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_proc_sleeping(pid));
	ASSERT_EQ(4, write(self->a, "wake", 4));
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(pair, epoll_err_on_reset)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);

	ASSERT_LE(0, ep);
	ev.data.fd = self->a;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->a, &ev));
	ASSERT_EQ(1, write(self->a, "r", 1));
	ASSERT_EQ(0, wait_proc_rq(self->b, 1));
	close(self->b);
	self->b = -1;
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	EXPECT_TRUE(out.events & EPOLLERR) TH_LOG("events 0x%x", out.events);
	close(ep);
}

TEST_HARNESS_MAIN

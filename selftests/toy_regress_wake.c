// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: regression tests for the defects found in review,
 * wake-ups, poll and signals: a DGRAM
 * socketpair end woken when the other receiver drains, POLLOUT of a
 * connected DGRAM socket, shutdown() waking an unconnected DGRAM reader,
 * SIGIO (O_ASYNC), a second listen() waking connectors, no POLLOUT while
 * connect() waits; from the second review: a DGRAM send's EAGAIN and
 * edge-triggered epoll, SO_RCVLOWAT beyond what can be queued, lowering
 * SO_RCVLOWAT; from the fourth: a writer out of room waking a reader
 * below SO_RCVLOWAT, SIGIO only past SO_RCVLOWAT; later: a DGRAM
 * (dis)connect waking its poller about the new destination.
 *
 * One section per defect, numbered as in the review; the helpers, the
 * fixture and the rules all of them follow: toy_regress.h.  The other
 * areas: toy_regress_mem.c, toy_regress_conn.c.
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include "kselftest_harness.h"
#include "toy_regress.h"

/* ---- 2. lost wake-up of a DGRAM socketpair end ------------------------- */

/*
 * A's datagrams to its pair end B (never read) keep B more than half full;
 * that must not keep A asleep when A waits for its own SO_SNDBUF while
 * sending to C and C is drained.  A's SO_SNDBUF is 1 MiB so that what B
 * holds (charged to A) is well below half of it.  A's SO_SNDTIMEO is long
 * (60 s): an expired timeout retries once and would then find the room, so
 * instead the sender gets 10 s (C's SO_RCVTIMEO) to go on once C was
 * drained, and is interrupted if it did not.  No reference runs: an
 * AF_UNIX DGRAM sender waits on its receiver's backlog, not on its own
 * SO_SNDBUF, and UDP's loopback never makes a sender wait.
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
	toy_close_fds(p, 2);
	ASSERT_LT(20, n);

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	k = n * 3 / 5;	/* more than half full, not full */
	for (i = 0; i < k; i++) {
		ASSERT_EQ(SMALL, send(sv[0], buf, SMALL, MSG_DONTWAIT));
	}
	c = toy_bound(SOCK_DGRAM, &cport);
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
	toy_close_fds(sv, 2);
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

/*
 * A bound AF_TOY DGRAM receiver, its port in *@port, or -1: its SO_RCVBUF
 * is well below the senders' SO_SNDBUF, so that it fills first.
 */
static int toy_dgram_receiver(uint32_t *port)
{
	int r = toy_bound(SOCK_DGRAM, port);

	if (r < 0 || set_int(r, SO_RCVBUF, 16384))
		return -1;
	return r;
}

REGRESS(d05_connected_dgram_pollout_follows_the_receiver)
{
	struct sockaddr_storage ua;
	socklen_t ualen;
	int s, r, sv[2];
	uint32_t port;

	/* AF_UNIX: a socket connect()ed to an autobound receiver */
	r = sock_autoname(socket(AF_UNIX, SOCK_DGRAM, 0), &ua, &ualen);
	ASSERT_LE(0, r);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_EQ(0, connect(s, (struct sockaddr *)&ua, ualen));
	dgram_poll_case(_metadata, s, r, "AF_UNIX connected");
	close2(s, r);

	r = toy_dgram_receiver(&port);
	ASSERT_LE(0, r);
	s = toy_socket(SOCK_DGRAM);
	ASSERT_EQ(0, toy_connect(s, port));
	dgram_poll_case(_metadata, s, r, "AF_TOY connected");
	close2(s, r);

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(0, set_int(sv[1], SO_RCVBUF, 16384));
	dgram_poll_case(_metadata, sv[0], sv[1], "AF_TOY socketpair");
	close2(sv[0], sv[1]);
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
			     toy_bound(SOCK_DGRAM, NULL);
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
		EXPECT_EQ(0, t.ret) TH_LOG("%s: end of file, as UDP's", what);
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
	int fills[8], nfill = 0, l;
	struct thr t = { 0 };

	l = blocked_connect(&t, fills, &nfill, 60000000);
	ASSERT_LE(0, l);
	EXPECT_EQ(0, listen(l, 8));
	if (!thr_wait_done(&t))
		shutdown(t.fd, SHUT_RDWR);	/* not woken: abort it */
	pthread_join(t.th, NULL);
	EXPECT_EQ(0, t.ret) TH_LOG("connect: %s", strerror(t.err));
	EXPECT_STREQ("ESTABLISHED", proc_state(t.fd));
	close2(t.fd, l);
	close_all(fills, nfill);
}

/* ---- 16. a DGRAM send's EAGAIN arranges its EPOLLOUT ------------------- */

/*
 * Edge-triggered epoll calls no poll() after the EAGAIN, so the send itself
 * must arrange the wake-up that the receiver's drain gives.  @dst: NULL for
 * a connected @s, else the address sendto() uses.
 */
static void dgram_et_case(struct __test_metadata *_metadata, int s, int r,
			  const struct sockaddr *dst, socklen_t dlen,
			  const char *what)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET };
	static char buf[512];
	int ep = epoll_create1(0), n = 0;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0)) TH_LOG("%s: no first edge", what);
	while (n < 100000 && sendto(s, buf, sizeof(buf), 0, dst, dlen) > 0)
		n++;
	ASSERT_EQ(EAGAIN, errno) TH_LOG("%s: %s", what, strerror(errno));
	ASSERT_LT(0, n);
	while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, 10000))
		TH_LOG("%s: no EPOLLOUT after the receiver drained", what);
	EXPECT_EQ(sizeof(buf), sendto(s, buf, sizeof(buf), 0, dst, dlen))
		TH_LOG("%s", what);
	close(ep);
}

REGRESS(d16_dgram_eagain_then_drain_wakes_edge_triggered_epoll)
{
	struct sockaddr_toy ta;
	struct sockaddr_storage ua;
	socklen_t ualen;
	int s, r, sv[2];
	uint32_t port;

	/* AF_UNIX: connected to an autobound receiver, then sendto() it */
	r = sock_autoname(socket(AF_UNIX, SOCK_DGRAM, 0), &ua, &ualen);
	ASSERT_LE(0, r);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_EQ(0, connect(s, (struct sockaddr *)&ua, ualen));
	dgram_et_case(_metadata, s, r, NULL, 0, "AF_UNIX connected");
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	dgram_et_case(_metadata, s, r, (struct sockaddr *)&ua, ualen,
		      "AF_UNIX sendto");
	close2(s, r);

	/* AF_TOY: the same two, and a socketpair */
	r = toy_dgram_receiver(&port);
	ASSERT_LE(0, r);
	s = toy_socket(SOCK_DGRAM);
	ASSERT_EQ(0, toy_connect(s, port));
	dgram_et_case(_metadata, s, r, NULL, 0, "AF_TOY connected");
	close(s);
	ta = toy_addr(port);
	s = toy_socket(SOCK_DGRAM);
	dgram_et_case(_metadata, s, r, (struct sockaddr *)&ta, sizeof(ta),
		      "AF_TOY sendto");
	close2(s, r);

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(0, set_int(sv[1], SO_RCVBUF, 16384));
	dgram_et_case(_metadata, sv[0], sv[1], NULL, 0, "AF_TOY socketpair");
	close2(sv[0], sv[1]);
}

/* ---- 18. SO_RCVLOWAT above what can be queued: poll() says readable ---- */

/*
 * The reader's SO_RCVLOWAT is more than the writer can queue in small
 * writes (each skb's overhead is charged too): TCP's poll() says readable
 * once no more may come, and so must ours, or an event loop waits for
 * ever.  @by_poll: the writer sends once per POLLOUT (and so stops when
 * poll() says no, before EAGAIN), else until EAGAIN.  TCP's loopback
 * needs a few rounds to fill.
 */
static void rcvlowat_case(struct __test_metadata *_metadata, int fam,
			  bool by_poll)
{
	static char buf[1000];
	int c, a, round, n, sv[2];

	ASSERT_EQ(0, stream_pair(fam, sv)) TH_LOG("%s", fam_name[fam]);
	c = sv[0];
	a = sv[1];
	ASSERT_EQ(0, set_int(a, SO_RCVLOWAT, 10000000));
	ASSERT_EQ(0, fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK));
	for (round = 0; round < 20; round++) {
		if (by_poll) {
			while (toy_poll(c, POLLOUT, 0) > 0) {
				ASSERT_EQ(sizeof(buf), send(c, buf, sizeof(buf),
							    MSG_NOSIGNAL));
			}
		} else {
			while (send(c, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
				;
			ASSERT_EQ(EAGAIN, errno) TH_LOG("%s", fam_name[fam]);
		}
		if (toy_poll(c, POLLOUT, 100) <= 0)
			break;
	}
	ASSERT_EQ(0, ioctl(a, FIONREAD, &n));
	ASSERT_LT(0, n);
	ASSERT_LT(n, 10000000) TH_LOG("%s: the low mark was reached", fam_name[fam]);
	EXPECT_EQ(POLLIN, toy_poll(a, POLLIN, 10000) & POLLIN)
		TH_LOG("%s%s: %d bytes queued, the writer waits, no POLLIN",
		       fam_name[fam], by_poll ? " (writer by POLLOUT)" : "", n);
	EXPECT_LT(0, recv(a, buf, sizeof(buf), MSG_DONTWAIT))
		TH_LOG("%s", fam_name[fam]);
	close2(c, a);
}

REGRESS(d18_rcvlowat_beyond_the_buffers_still_polls_readable)
{
	int fam;

	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY and TCP */
		rcvlowat_case(_metadata, fam, false);
		rcvlowat_case(_metadata, fam, true);
	}
}

/* ---- 19. lowering SO_RCVLOWAT wakes a poller that now has enough ------- */

static long th_poll_in(struct thr *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	long r = poll(&p, 1, -1);

	t->revents = p.revents;
	return r;
}

/*
 * poll() looks once more when its timeout ends, so it waits without one;
 * a poller still asleep 10 s after the change is woken by more data.
 * With nothing queued, setting the mark signals nothing (O_ASYNC).
 */
REGRESS(d19_lowering_rcvlowat_wakes_a_poller)
{
	int fam, sv[2];
	bool woken;

	ASSERT_EQ(0, toy_sigaction(SIGIO, on_sigio, SA_RESTART));
	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY and TCP */
		struct thr t = { 0 };

		ASSERT_EQ(0, stream_pair(fam, sv)) TH_LOG("%s", fam_name[fam]);
		ASSERT_EQ(0, fcntl(sv[1], F_SETOWN, getpid()));
		ASSERT_EQ(0, fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_ASYNC));
		sigio_n = 0;
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 1000));
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 1));
		EXPECT_EQ(0, sigio_n) TH_LOG("%s: SIGIO with nothing to read",
					     fam_name[fam]);
		ASSERT_EQ(0, fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_ASYNC));
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 1000));
		ASSERT_EQ(10, send(sv[0], "0123456789", 10, 0));
		ASSERT_EQ(0, wait_inq(sv[1], 10));
		EXPECT_EQ(0, toy_poll(sv[1], POLLIN, 0)) TH_LOG("%s", fam_name[fam]);
		t.fd = sv[1];
		ASSERT_EQ(0, thr_start(&t, th_poll_in));
		EXPECT_EQ(0, thr_wait_blocked(&t, SYS_poll)) TH_LOG("%s", fam_name[fam]);
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 1));
		woken = thr_wait_done(&t);
		if (!woken)
			send(sv[0], "x", 1, 0);
		pthread_join(t.th, NULL);
		EXPECT_TRUE(woken) TH_LOG("%s: poll() slept on after SO_RCVLOWAT 1",
					  fam_name[fam]);
		EXPECT_EQ(1, t.ret) TH_LOG("%s", fam_name[fam]);
		EXPECT_EQ(POLLIN, t.revents & POLLIN) TH_LOG("%s", fam_name[fam]);
		close2(sv[0], sv[1]);
	}
}

/* ---- 22. a writer out of room tells a reader below SO_RCVLOWAT --------- */

/*
 * The reader waits (epoll) for 100000 bytes; 50000 are queued and the
 * writer has room, so that is right.  Then the writer's SO_SNDBUF goes
 * down to 4096: its next send() finds no room (EAGAIN), which makes the
 * 50000 bytes readable (no more can come, as TCP's closed window).  The
 * reader's epoll must say so: it used to learn nothing, each end waiting
 * for the other.  (TCP lets the writer go on, its buffer holding only
 * what is unacknowledged; its reader then wakes for the data.)
 */
REGRESS(d22_writer_out_of_room_wakes_a_reader_below_rcvlowat)
{
	static char buf[50000];
	struct epoll_event ev = { .events = EPOLLIN };
	int sv[2], ep;

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_STREAM, 0, sv));
	ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 100000));
	ASSERT_EQ((ssize_t)sizeof(buf), send(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0)) TH_LOG("readable below the mark");
	ASSERT_EQ(0, set_int(sv[0], SO_SNDBUF, 4096));
	EXPECT_ERRNO(EAGAIN, send(sv[0], buf, 1000, MSG_DONTWAIT));
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, 0))
		TH_LOG("the writer cannot go on and the reader was not told");
	EXPECT_EQ(POLLIN, toy_poll(sv[1], POLLIN, 0));
	EXPECT_EQ((ssize_t)sizeof(buf), recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	close(ep);
	close2(sv[0], sv[1]);
}

/* ---- 23. no SIGIO for data below SO_RCVLOWAT ---------------------------- */

/*
 * O_ASYNC with SO_RCVLOWAT 1000: five 10-byte writes raise no SIGIO (a
 * read would not find the mark), as on TCP; crossing the mark does.
 * AF_TOY used to signal every write.
 */
REGRESS(d23_no_sigio_below_rcvlowat)
{
	static char buf[1000];
	int fam, sv[2], i, n;

	ASSERT_EQ(0, toy_sigaction(SIGIO, on_sigio, SA_RESTART));
	for (fam = 0; fam < NFAM; fam += 2) {	/* AF_TOY and TCP */
		ASSERT_EQ(0, stream_pair(fam, sv)) TH_LOG("%s", fam_name[fam]);
		ASSERT_EQ(0, set_int(sv[1], SO_RCVLOWAT, 1000));
		ASSERT_EQ(0, fcntl(sv[1], F_SETOWN, getpid()));
		ASSERT_EQ(0, fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_ASYNC));
		sigio_n = 0;
		for (i = 0, n = 0; i < 5; i++) {
			ASSERT_EQ(10, send(sv[0], buf, 10, 0));
			ASSERT_EQ(0, wait_inq(sv[1], 10 * (i + 1)));
			n += sigio_n;
			sigio_n = 0;
		}
		EXPECT_EQ(0, n) TH_LOG("%s: SIGIO for data below SO_RCVLOWAT",
				       fam_name[fam]);
		ASSERT_EQ((ssize_t)sizeof(buf), send(sv[0], buf, sizeof(buf), 0));
		for (i = 0; i < 5000 && !sigio_n; i++)	/* bounded: 5 s */
			usleep(1000);
		EXPECT_NE(0, sigio_n) TH_LOG("%s: no SIGIO past the mark",
					     fam_name[fam]);
		close2(sv[0], sv[1]);
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
	ASSERT_ERRNO(EINPROGRESS, connect(s, (struct sockaddr *)&a, sizeof(a)));
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

/* ---- 29. (dis)connect wakes a POLLOUT poller about the new destination -- */

/* poll(POLLOUT) at SCHED_FIFO on CPU 0: it runs as soon as it is woken. */
static long th_poll_out_fifo(struct thr *t)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };
	long r;

	if (pin_thread(0) || sched_setscheduler(0, SCHED_FIFO, &sp))
		return -2;
	r = poll(&p, 1, -1);
	t->revents = p.revents;
	return r;
}

/*
 * A DGRAM socket, connected to a full receiver, must be one sender to the
 * new destination: @reconnect (to an empty receiver, or AF_UNSPEC) wakes
 * its poller, which then says POLLOUT.  On a fully preemptible kernel
 * (6.12-rt) the woken poller runs at once on the connecting thread's CPU:
 * woken before the destination changed, it looked at the old receiver,
 * still full, and slept on.  It gets 10 s, then the old receiver drains.
 */
static void d29_case(struct __test_metadata *_metadata, int s, int r1,
		     const struct sockaddr *to, socklen_t tolen,
		     const char *what)
{
	static char buf[1000];
	struct thr t = { .fd = s };
	bool woken;

	while (send(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	ASSERT_EQ(EAGAIN, errno) TH_LOG("%s", what);
	ASSERT_EQ(0, pin_thread(0));
	ASSERT_EQ(0, thr_start(&t, th_poll_out_fifo));
	EXPECT_EQ(0, thr_wait_blocked(&t, SYS_poll)) TH_LOG("%s", what);
	ASSERT_EQ(0, connect(s, to, tolen)) TH_LOG("%s: %s", what,
						   strerror(errno));
	woken = thr_wait_done(&t);
	if (!woken)
		while (recv(r1, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	pthread_join(t.th, NULL);
	EXPECT_TRUE(woken) TH_LOG("%s: poll() slept on", what);
	EXPECT_EQ(1, t.ret) TH_LOG("%s", what);
	EXPECT_EQ(POLLOUT, t.revents & POLLOUT) TH_LOG("%s", what);
	if (to->sa_family != AF_UNSPEC)	/* else: no destination left */
		EXPECT_EQ(sizeof(buf), send(s, buf, sizeof(buf), MSG_DONTWAIT))
			TH_LOG("%s: %s", what, strerror(errno));
}

REGRESS(d29_dgram_reconnect_wakes_poller_about_new_destination)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct sockaddr_storage u1, u2;
	socklen_t u1len, u2len;
	struct sockaddr_toy a2;
	int s, r1, r2, re;
	uint32_t p1, p2;

	for (re = 0; re < 2; re++) {	/* to an empty receiver, AF_UNSPEC */
		const char *what = re ? "AF_UNIX, AF_UNSPEC" : "AF_UNIX";

		r1 = sock_autoname(socket(AF_UNIX, SOCK_DGRAM, 0), &u1, &u1len);
		r2 = sock_autoname(socket(AF_UNIX, SOCK_DGRAM, 0), &u2, &u2len);
		s = socket(AF_UNIX, SOCK_DGRAM, 0);
		ASSERT_LE(0, r1);
		ASSERT_LE(0, r2);
		ASSERT_EQ(0, connect(s, (struct sockaddr *)&u1, u1len));
		d29_case(_metadata, s, r1, re ? &unspec : (void *)&u2,
			 re ? sizeof(unspec) : u2len, what);
		close2(s, r1);
		close(r2);

		what = re ? "AF_TOY, AF_UNSPEC" : "AF_TOY";
		r1 = toy_dgram_receiver(&p1);
		r2 = toy_dgram_receiver(&p2);
		s = toy_socket(SOCK_DGRAM);
		ASSERT_LE(0, r1);
		ASSERT_LE(0, r2);
		ASSERT_EQ(0, toy_connect(s, p1));
		a2 = toy_addr(p2);
		d29_case(_metadata, s, r1, re ? &unspec : (void *)&a2,
			 re ? sizeof(unspec) : sizeof(a2), what);
		close2(s, r1);
		close(r2);
	}
}

TEST_HARNESS_MAIN

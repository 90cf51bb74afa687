// SPDX-License-Identifier: GPL-2.0
/*
 * epoll on AF_TOY STREAM sockets, edge-triggered: an edge fires once per
 * change (no repeat while the data stays unread, unlike level-triggered),
 * EPOLLOUT comes back once a full send queue drains, EPOLLRDHUP on the
 * peer's shutdown, and an edge-triggered echo server (non-blocking
 * accept4() and reads until EAGAIN, as such servers must) serving 200
 * connections at once, every byte checked.  Whether an event is pending is
 * read with epoll_wait(timeout 0): a state, not a timing.
 */
#include "toy_common.h"

#include <pthread.h>

#include "kselftest_harness.h"

#define CLIENTS 200
#define ROUNDS 4
#define MSG 512
#define WAIT_MS 10000

static int ep_add(int ep, int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The events pending for one fd now (epoll_wait timeout 0), 0 if none. */
static unsigned int pending(int ep, int timeout)
{
	struct epoll_event ev;

	if (epoll_wait(ep, &ev, 1, timeout) != 1)
		return 0;
	return ev.events;
}

TEST(edge_fires_once_level_repeats)
{
	int c, s, et, lt;
	char buf[8];

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	et = epoll_create1(EPOLL_CLOEXEC);
	lt = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(et, 0);
	ASSERT_GE(lt, 0);
	ASSERT_EQ(0, ep_add(et, s, EPOLLIN | EPOLLET));
	ASSERT_EQ(0, ep_add(lt, s, EPOLLIN));
	EXPECT_EQ(0, pending(et, 0));
	ASSERT_EQ(3, write(c, "abc", 3));
	EXPECT_EQ(EPOLLIN, pending(et, WAIT_MS));
	/* unread data: level-triggered repeats, edge-triggered does not */
	EXPECT_EQ(0, pending(et, 0));
	EXPECT_EQ(EPOLLIN, pending(lt, 0));
	EXPECT_EQ(EPOLLIN, pending(lt, 0));
	/* new data is a new edge, though the old is still unread */
	ASSERT_EQ(2, write(c, "de", 2));
	EXPECT_EQ(EPOLLIN, pending(et, WAIT_MS));
	EXPECT_EQ(0, pending(et, 0));
	ASSERT_EQ(5, read(s, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcde", 5));
	EXPECT_EQ(0, pending(lt, 0));
	close(et);
	close(lt);
	close(c);
	close(s);
}

TEST(edge_epollout_after_drain)
{
	static char buf[64 * 1024];
	int c, s, ep;
	ssize_t n;
	long queued = 0;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	ASSERT_EQ(0, toy_set_nonblock(c, true));
	ep = epoll_create1(0);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, ep_add(ep, c, EPOLLOUT | EPOLLET));
	EXPECT_EQ(EPOLLOUT, pending(ep, WAIT_MS));
	/* fill the send queue until EAGAIN: no EPOLLOUT edge while full */
	while ((n = write(c, buf, sizeof(buf))) > 0)
		queued += n;
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_GT(queued, 0);
	EXPECT_EQ(0, pending(ep, 0));
	/* the reader drains it: the edge comes */
	while (queued > 0) {
		n = read(s, buf, sizeof(buf));
		ASSERT_GT(n, 0);
		queued -= n;
	}
	EXPECT_EQ(EPOLLOUT, pending(ep, WAIT_MS));
	EXPECT_EQ(0, pending(ep, 0));
	close(ep);
	close(c);
	close(s);
}

TEST(edge_rdhup_on_peer_shutdown)
{
	int c, s, ep;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	ep = epoll_create1(0);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, ep_add(ep, s, EPOLLIN | EPOLLRDHUP | EPOLLET));
	EXPECT_EQ(0, pending(ep, 0));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, pending(ep, WAIT_MS));
	EXPECT_EQ(0, pending(ep, 0));
	close(ep);
	close(c);
	close(s);
}

/* ---- the echo server ------------------------------------------------ */

struct server {
	int listener, ep, stop[2];
	long accepted, echoed;
	int error;
};

/* Echoes everything fd has (edge-triggered: until EAGAIN); -1 when closed. */
static int echo(struct server *sv, int fd)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			/* small echoes into an empty queue: written whole */
			if (write(fd, buf, n) != n)
				sv->error = __LINE__;
			sv->echoed += n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			sv->error = __LINE__;
		close(fd);
		return -1;
	}
}

static void *server_main(void *arg)
{
	struct server *sv = arg;
	struct epoll_event evs[64];
	int i, n, fd;

	for (;;) {
		n = epoll_wait(sv->ep, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sv->error = __LINE__;
			return NULL;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == sv->stop[0])
				return NULL;
			if (fd != sv->listener) {
				echo(sv, fd);
				continue;
			}
			/* one edge for any number of connections: accept them all */
			while ((fd = accept4(sv->listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				sv->accepted++;
				if (ep_add(sv->ep, fd, EPOLLIN | EPOLLRDHUP | EPOLLET) < 0)
					sv->error = __LINE__;
			}
			if (errno != EAGAIN)
				sv->error = __LINE__;
		}
	}
}

TEST(edge_triggered_echo_server_200_connections)
{
	static int c[CLIENTS];
	struct server sv = { 0 };
	char out[MSG], in[MSG];
	long before = toy_stat_value("bytes_received");
	pthread_t th;
	uint32_t port;
	int i, r;

	sv.listener = toy_listener_backlog(SOCK_STREAM, CLIENTS, &port);
	ASSERT_GE(sv.listener, 0);
	ASSERT_EQ(0, toy_set_nonblock(sv.listener, true));
	sv.ep = epoll_create1(0);
	ASSERT_GE(sv.ep, 0);
	ASSERT_EQ(0, pipe(sv.stop));
	ASSERT_EQ(0, ep_add(sv.ep, sv.listener, EPOLLIN | EPOLLET));
	ASSERT_EQ(0, ep_add(sv.ep, sv.stop[0], EPOLLIN));
	ASSERT_EQ(0, pthread_create(&th, NULL, server_main, &sv));

	for (i = 0; i < CLIENTS; i++) {
		c[i] = toy_socket(SOCK_STREAM);
		ASSERT_GE(c[i], 0);
		ASSERT_EQ(0, toy_connect(c[i], port));
	}
	/* every client sends, then every client reads its echo back */
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < CLIENTS; i++) {
			toy_pattern(out, MSG, (uint64_t)i * ROUNDS + r);
			ASSERT_EQ(MSG, write_all(c[i], out, MSG));
		}
		for (i = 0; i < CLIENTS; i++) {
			toy_pattern(out, MSG, (uint64_t)i * ROUNDS + r);
			ASSERT_EQ(MSG, read_all(c[i], in, MSG));
			ASSERT_EQ(0, memcmp(in, out, MSG)) TH_LOG("client %d round %d", i, r);
		}
	}
	for (i = 0; i < CLIENTS; i++)
		close(c[i]);
	ASSERT_EQ(1, write(sv.stop[1], "x", 1));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, sv.error);
	EXPECT_EQ(CLIENTS, sv.accepted);
	EXPECT_EQ((long)CLIENTS * ROUNDS * MSG, sv.echoed);
	EXPECT_GE(toy_stat_value("bytes_received") - before, 2L * CLIENTS * ROUNDS * MSG);
	close(sv.ep);
	close(sv.listener);
	close(sv.stop[0]);
	close(sv.stop[1]);
}

static void __attribute__((constructor)) init(void)
{
	toy_selftest_init(true);
}

TEST_HARNESS_MAIN

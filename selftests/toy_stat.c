// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/toy_stat: per-netns counters.  Every test runs in a fresh
 * network namespace (unshare(CLONE_NEWNET) in the harness' per-test child),
 * reads /proc/self/net/toy_stat before and after a scripted action and
 * asserts the exact delta of EVERY counter (unlisted ones must not move).
 */
#include <stdarg.h>

#include "toy_common.h"

#include "kselftest_harness.h"

#define STAT_PATH "/proc/self/net/toy_stat"

static const char *const names[] = {
	"sockets_alive", "sockets_created", "connects_attempted",
	"connects_refused", "connections_reset", "accepts", "segments_syn",
	"segments_synack", "segments_ack", "segments_data", "segments_fin",
	"segments_rst", "bytes_sent", "bytes_received", "backlog_overflows",
	"epipe", "mem_charged", "bytes_appended", "bytes_direct",
	"children_premade", "bytes_direct_reader",
};
#define NSTAT ((int)ARRAY_SIZE(names))

enum {
	ALIVE, CREATED, CONNECTS, REFUSED, RESETS, ACCEPTS, SYN, SYNACK, ACK,
	DATA, FIN, RST, BYTES_SENT, BYTES_RECEIVED, BACKLOG, EPIPES, MEM,
	APPENDED, DIRECT, PREMADE, DIRECT_READER
};

struct snap {
	long v[NSTAT];
};

/* Reads all counters; -1 if the file is missing or a name is absent. */
static int read_stats(struct snap *s)
{
	char line[128], name[64];
	bool seen[NSTAT] = { false };
	long val;
	FILE *f;
	int i;

	f = fopen(STAT_PATH, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &val) != 2)
			continue;
		for (i = 0; i < NSTAT; i++)
			if (!strcmp(name, names[i])) {
				s->v[i] = val;
				seen[i] = true;
			}
	}
	fclose(f);
	for (i = 0; i < NSTAT; i++)
		if (!seen[i])
			return -1;
	return 0;
}

/* The expected deltas: pairs of (counter, delta), ended by -1. */
static int check_deltas(struct __test_metadata *_metadata,
			const struct snap *a, const struct snap *b, ...)
{
	long want[NSTAT] = { 0 };
	bool given[NSTAT] = { false };
	int i, k, bad = 0;
	va_list ap;

	va_start(ap, b);
	while ((k = va_arg(ap, int)) >= 0) {
		want[k] = va_arg(ap, long);
		given[k] = true;
	}
	va_end(ap);
	for (i = 0; i < NSTAT; i++) {
		long d = b->v[i] - a->v[i];

		/* how the bytes travelled: only where a test says */
		if ((i == MEM || i == APPENDED || i == DIRECT ||
		     i == PREMADE || i == DIRECT_READER) && !given[i])
			continue;
		if (d != want[i]) {
			TH_LOG("%s: delta %ld, expected %ld (%ld -> %ld)",
			       names[i], d, want[i], a->v[i], b->v[i]);
			bad++;
		}
	}
	return bad;
}

/* Runs this test in a new netns, where all counters start at zero. */
static int fresh_netns(void)
{
	if (toy_ensure_module())
		return -1;
	return unshare(CLONE_NEWNET);
}

/* sockets_alive back to @alive (release may finish a moment later). */
static void settle(struct snap *s, long alive)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (read_stats(s) == 0 && s->v[ALIVE] == alive)
			return;
		usleep(TOY_WAIT_USEC);
	}
}

#define D(k, v) (k), (long)(v)
#define END -1

TEST(fresh_netns_all_zero)
{
	struct snap s;
	int i;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, read_stats(&s));
	for (i = 0; i < NSTAT; i++) {
		if (s.v[i])
			TH_LOG("%s = %ld in a fresh netns", names[i], s.v[i]);
		EXPECT_EQ(0, s.v[i]);
	}
}

TEST(format_one_name_one_value)
{
	char line[128], name[64], extra[8];
	long val;
	int n = 0;
	FILE *f;

	ASSERT_EQ(0, fresh_netns());
	f = fopen(STAT_PATH, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		EXPECT_EQ(2, sscanf(line, "%63s %ld %7s", name, &val, extra))
			TH_LOG("bad line: %s", line);
		EXPECT_STREQ(names[n < NSTAT ? n : 0], name);
		n++;
	}
	fclose(f);
	EXPECT_EQ(NSTAT, n);
}

TEST(socket_alive_and_created)
{
	struct snap a, b, c;
	int fd;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, read_stats(&a));
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(ALIVE, 1), D(CREATED, 1), END));
	close(fd);
	settle(&c, a.v[ALIVE]);
	EXPECT_EQ(0, check_deltas(_metadata, &a, &c, D(CREATED, 1), END));
}

/*
 * A whole connection: handshake (SYN, SYN-ACK, ACK), 5 bytes one way and
 * 2 back, SHUT_WR (FIN + ACK), close both (FIN + ACK).
 */
TEST(connection_lifecycle)
{
	struct snap a, mid, b;
	uint32_t port;
	char buf[16];
	int l, c, s;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, read_stats(&a));
	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(5, send(c, "hello", 5, 0));

	/* 5 bytes queued and unread: memory is charged */
	ASSERT_EQ(0, read_stats(&mid));
	EXPECT_EQ(3, mid.v[ALIVE] - a.v[ALIVE]);
	EXPECT_LT(a.v[MEM], mid.v[MEM]);
	EXPECT_EQ(0, check_deltas(_metadata, &a, &mid, D(ALIVE, 3), D(CREATED, 3),
				  D(CONNECTS, 1), D(ACCEPTS, 1), D(SYN, 1), D(SYNACK, 1),
				  D(ACK, 1), D(DATA, 1), D(BYTES_SENT, 5),
				  D(MEM, mid.v[MEM] - a.v[MEM]), END));

	ASSERT_EQ(5, recv(s, buf, sizeof(buf), 0));
	ASSERT_EQ(2, send(s, "hi", 2, 0));
	ASSERT_EQ(2, recv(c, buf, sizeof(buf), 0));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_EQ(0, recv(s, buf, sizeof(buf), 0));
	close(s);
	ASSERT_EQ(0, recv(c, buf, sizeof(buf), 0));
	close(c);
	close(l);
	settle(&b, a.v[ALIVE]);
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(CREATED, 3), D(CONNECTS, 1),
				  D(ACCEPTS, 1), D(SYN, 1), D(SYNACK, 1), D(ACK, 3),
				  D(DATA, 2), D(FIN, 2), D(BYTES_SENT, 7),
				  D(BYTES_RECEIVED, 7), D(MEM, 0), END));
}

/* Nobody listens: one SYN, a refused connect, no socket for the peer. */
TEST(connect_refused)
{
	struct snap a, b;
	uint32_t port;
	int l, c;

	ASSERT_EQ(0, fresh_netns());
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	close(l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	settle(&a, 1);
	ASSERT_EQ(1, a.v[ALIVE]);
	ASSERT_ERRNO(ECONNREFUSED, toy_connect(c, port));
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(CONNECTS, 1), D(REFUSED, 1),
				  D(SYN, 1), END));
	close(c);
}

/*
 * close() with unread data: RST.  The peer's next send fails with
 * ECONNRESET, the one after with EPIPE.
 */
TEST(reset_and_epipe)
{
	struct snap a, b;
	uint32_t port;
	int l, c, s;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	close(l);
	settle(&a, 2);
	ASSERT_EQ(2, a.v[ALIVE]);

	ASSERT_EQ(3, send(c, "abc", 3, 0));
	close(s);				/* 3 bytes unread */
	EXPECT_ERRNO(ECONNRESET, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_ERRNO(EPIPE, send(c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(0, read_stats(&b));
	/* the 3 bytes were sent but never received: they were discarded */
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(ALIVE, -1), D(DATA, 1),
				  D(BYTES_SENT, 3), D(RST, 1), D(RESETS, 1),
				  D(EPIPES, 1), D(MEM, 0), END));
	close(c);
}

/* send after our own SHUT_WR: EPIPE, counted once per failing call. */
TEST(epipe_after_shutdown)
{
	struct snap a, b;
	int c, s;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	settle(&a, 2);
	EXPECT_ERRNO(EPIPE, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_ERRNO(EPIPE, send(c, "yy", 2, MSG_NOSIGNAL));
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(EPIPES, 2), END));
	close(c);
	close(s);
}

/* A full backlog: a non-blocking connect finds no room (EAGAIN). */
TEST(backlog_overflow)
{
	struct snap a, b;
	uint32_t port;
	int l, c1, c2;

	ASSERT_EQ(0, fresh_netns());
	l = toy_listener_backlog(SOCK_STREAM, 0, &port);
	ASSERT_LE(0, l);
	c1 = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c1);
	c2 = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, read_stats(&a));
	ASSERT_EQ(0, toy_connect(c1, port));	/* takes the only slot */
	ASSERT_EQ(0, toy_set_nonblock(c2, true));
	ASSERT_ERRNO(EAGAIN, toy_connect(c2, port));
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(ALIVE, 1), D(CREATED, 1),
				  D(CONNECTS, 2), D(SYN, 1), D(SYNACK, 1), D(ACK, 1),
				  D(BACKLOG, 1), END));
	close(c2);
	close(c1);
	close(l);
}

/* SEQPACKET truncation: only the bytes recv() returned are "received". */
TEST(bytes_received_not_discarded)
{
	struct snap a, b;
	char buf[4];
	int c, s;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, toy_connect_pair(SOCK_SEQPACKET, &c, &s));
	settle(&a, 2);
	ASSERT_EQ(10, send(c, "0123456789", 10, 0));
	ASSERT_EQ(4, recv(s, buf, sizeof(buf), 0));
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(DATA, 1), D(BYTES_SENT, 10),
				  D(BYTES_RECEIVED, 4), D(MEM, 0), END));
	close(c);
	close(s);
}

/* Counters are per netns: another namespace's traffic does not show. */
TEST(per_netns)
{
	struct snap a, b, other;
	int status, c, s;
	pid_t pid;

	ASSERT_EQ(0, fresh_netns());
	ASSERT_EQ(0, read_stats(&a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct snap x;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_connect_pair(SOCK_STREAM, &c, &s) == 0);
		CHILD_CHECK(send(c, "abc", 3, 0) == 3);
		CHILD_CHECK(read_stats(&x) == 0);
		CHILD_CHECK(x.v[CONNECTS] == 1 && x.v[BYTES_SENT] == 3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, read_stats(&b));
	EXPECT_EQ(0, check_deltas(_metadata, &a, &b, D(MEM, 0), END));

	/* and our own traffic does show here */
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	ASSERT_EQ(0, read_stats(&other));
	EXPECT_EQ(1, other.v[CONNECTS] - a.v[CONNECTS]);
	close(c);
	close(s);
}

TEST_HARNESS_MAIN

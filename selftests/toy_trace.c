// SPDX-License-Identifier: GPL-2.0
/*
 * The "toy" tracepoints (toy_state, toy_segment, toy_call_enter/exit):
 * a scripted connection in one process with the events enabled through
 * tracefs; the trace is read back and every expected event must appear,
 * in order, with exactly the right fields (inodes from fstat, ports from
 * getsockname, states, segment kinds and lengths, return values).
 */
#include "toy_common.h"

#include <ctype.h>

#include "kselftest_harness.h"

#define TRACEFS "/sys/kernel/tracing"
#define MAX_LINES 4096

static int tfs_write(const char *file, const char *val)
{
	char path[256];
	int fd, rc = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Clears the buffer and enables the toy events. */
static int trace_begin(void)
{
	if (tfs_write("events/toy/enable", "0") ||
	    tfs_write("trace", "") ||
	    tfs_write("tracing_on", "1"))
		return -1;
	return tfs_write("events/toy/enable", "1");
}

/*
 * Disables the events and returns this process' toy events as
 * "toy_xxx: fields" strings (malloc'd), in trace order.
 */
static int trace_end(char **lines, int max)
{
	char buf[1024], me[32];
	FILE *f;
	int n = 0;

	tfs_write("events/toy/enable", "0");
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -1;
	snprintf(me, sizeof(me), "-%d ", (int)getpid());
	while (fgets(buf, sizeof(buf), f) && n < max) {
		char *ev = strstr(buf, ": toy_");
		char *cpu = strstr(buf, " [");

		if (buf[0] == '#' || !ev || !cpu)
			continue;
		/* "comm-pid [cpu]": keep only this process */
		*cpu = '\0';
		if (!strstr(buf, me) && !strstr(strcat(buf, " "), me))
			continue;
		ev[strcspn(ev, "\n")] = '\0';
		lines[n++] = strdup(ev + 2);
	}
	fclose(f);
	return n;
}

static void free_lines(char **lines, int n)
{
	while (n > 0)
		free(lines[--n]);
}

/*
 * Every string of want[] must occur in lines[], in this order (other
 * events may come in between).  Returns -1 when all matched, else the
 * index in want[] of the first one missing.
 */
static int find_in_order(char **lines, int n, char want[][160], int nwant)
{
	int i = 0, w;

	for (w = 0; w < nwant; w++) {
		while (i < n && strcmp(lines[i], want[w]))
			i++;
		if (i == n)
			return w;
		i++;
	}
	return -1;
}

static int count_exact(char **lines, int n, const char *s)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += !strcmp(lines[i], s);
	return c;
}

/*
 * Where want[0..k) are in lines[] in this order: -1, else the first one
 * missing (logged, with the whole trace).
 */
static int in_order(struct __test_metadata *_metadata, char **lines, int n,
		    char want[][160], int k)
{
	int i, miss = find_in_order(lines, n, want, k);

	if (miss >= 0) {
		TH_LOG("missing (in order): %s", want[miss]);
		for (i = 0; i < n; i++)
			fprintf(stderr, "#   trace[%d] %s\n", i, lines[i]);
	}
	return miss;
}

/*
 * The scripted connection, all in this process:
 *   l = socket, bind(0), listen   c = socket, connect(lport)   a = accept
 *   c send 5, a recv 5, a send 2, c recv 2, c shutdown(SHUT_WR),
 *   a recv -> 0 (EOF), close(a), c recv -> 0, close(c), close(l)
 */
FIXTURE(conn) {
	char *lines[MAX_LINES];
	int n;
	unsigned long l_ino, c_ino, a_ino;
	uint32_t lport, cport;
	ssize_t eof_a, eof_c;
};

FIXTURE_SETUP(conn)
{
	char buf[16];
	int l, c, a;

	self->n = 0;
	TOY_NEED_TRACE();
	ASSERT_EQ(0, trace_begin());

	l = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_bind(l, 0));
	ASSERT_EQ(0, listen(l, 4));
	self->lport = toy_port(l);
	c = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, toy_connect(c, self->lport));
	self->cport = toy_port(c);
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	self->l_ino = toy_ino(l);
	self->c_ino = toy_ino(c);
	self->a_ino = toy_ino(a);

	ASSERT_EQ(5, send(c, "hello", 5, 0));
	ASSERT_EQ(5, recv(a, buf, sizeof(buf), 0));
	ASSERT_EQ(2, send(a, "hi", 2, 0));
	ASSERT_EQ(2, recv(c, buf, sizeof(buf), 0));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	self->eof_a = recv(a, buf, sizeof(buf), 0);
	close(a);
	self->eof_c = recv(c, buf, sizeof(buf), 0);
	close(c);
	close(l);

	self->n = trace_end(self->lines, MAX_LINES);
	ASSERT_LT(0, self->n);
	ASSERT_EQ(0, self->eof_a);
	ASSERT_EQ(0, self->eof_c);
}

FIXTURE_TEARDOWN(conn)
{
	if (self->n > 0)
		free_lines(self->lines, self->n);
	tfs_write("events/toy/enable", "0");
}

/* Every state change of the three sockets, in order. */
/*
 * The toy_state line of who going from -> to: 'l' the listener, 'c' the
 * client, 'a' the accepted socket, 'n' the child before accept() (inode
 * 0); upper case: its peer port is not known yet (0).
 */
static void state_line(char *out, FIXTURE_DATA(conn) *self, char who,
		       const char *from, const char *to)
{
	bool c = tolower(who) == 'c';
	unsigned long ino = c ? self->c_ino : tolower(who) == 'l' ? self->l_ino :
			    tolower(who) == 'a' ? self->a_ino : 0;
	uint32_t peer = c ? self->lport : tolower(who) == 'l' ? 0 : self->cport;

	snprintf(out, 160, "toy_state: ino=%lu type=STREAM lport=%u pport=%u %s -> %s",
		 ino, c ? self->cport : self->lport, isupper(who) ? 0 : peer,
		 from, to);
}

/* Every state change of the three sockets, in order. */
TEST_F(conn, states)
{
	/* client and the server's child interleave as the handshake goes */
	static const struct {
		char who;
		const char *from, *to;
	} changes[] = {
		{ 'L', "CLOSED", "LISTEN" }, { 'C', "CLOSED", "SYN_SENT" },
		{ 'n', "CLOSED", "SYN_RECV" }, { 'c', "SYN_SENT", "ESTABLISHED" },
		{ 'n', "SYN_RECV", "ESTABLISHED" },
		/* shutdown(c, SHUT_WR) */
		{ 'c', "ESTABLISHED", "FIN_WAIT1" },
		{ 'a', "ESTABLISHED", "CLOSE_WAIT" }, { 'c', "FIN_WAIT1", "FIN_WAIT2" },
		/* close(a), close(l) */
		{ 'a', "CLOSE_WAIT", "LAST_ACK" }, { 'c', "FIN_WAIT2", "CLOSED" },
		{ 'a', "LAST_ACK", "CLOSED" }, { 'L', "LISTEN", "CLOSED" },
	};
	char w[16][160];
	int k;

	for (k = 0; k < (int)ARRAY_SIZE(changes); k++) {
		state_line(w[k], self, changes[k].who, changes[k].from,
			   changes[k].to);
		/* the child may or may not know its peer's port yet */
		if (!strcmp(changes[k].to, "SYN_RECV") &&
		    !count_exact(self->lines, self->n, w[k]))
			state_line(w[k], self, 'N', changes[k].from,
				   changes[k].to);
	}
	ASSERT_EQ(-1, in_order(_metadata, self->lines, self->n, w, k));
}

/* The segments: handshake, DATA with lengths, FIN/ACK pairs. */
TEST_F(conn, segments)
{
	/* who sent it: c, the accepted a, or the child before accept (n) */
	static const struct {
		const char *seg;
		char from;
		int len;
	} segs[] = {
		{ "SYN", 'c', 0 }, { "SYN-ACK", 'n', 0 }, { "ACK", 'c', 0 },
		{ "DATA", 'c', 5 }, { "DATA", 'a', 2 },
		/* shutdown(c, SHUT_WR): FIN from c, ACK from a */
		{ "FIN", 'c', 0 }, { "ACK", 'a', 0 },
		/* close(a): FIN from a, ACK from c */
		{ "FIN", 'a', 0 }, { "ACK", 'c', 0 },
	};
	char w[16][160];
	int k;

	for (k = 0; k < (int)ARRAY_SIZE(segs); k++) {
		bool c = segs[k].from == 'c';

		snprintf(w[k], 160, "toy_segment: %s sport=%u dport=%u len=%d ino=%lu",
			 segs[k].seg, c ? self->cport : self->lport,
			 c ? self->lport : self->cport, segs[k].len,
			 c ? self->c_ino : segs[k].from == 'a' ? self->a_ino : 0);
	}
	ASSERT_EQ(-1, in_order(_metadata, self->lines, self->n, w, k));

	/* exactly one of each handshake segment, no RST */
	EXPECT_EQ(1, count_exact(self->lines, self->n, w[0]));
	EXPECT_EQ(1, count_exact(self->lines, self->n, w[1]));
	{
		int i, rst = 0;

		for (i = 0; i < self->n; i++)
			rst += !strncmp(self->lines[i], "toy_segment: RST", 16);
		EXPECT_EQ(0, rst);
	}
}

/* Call enter/exit pairs with their return values. */
TEST_F(conn, calls)
{
	char w[40][160];
	int k = 0;
	uint32_t lp = self->lport, cp = self->cport;

	snprintf(w[k++], 160, "toy_call_exit: socket ino=%lu type=STREAM port=0 pport=0 ret=0", self->l_ino);
	snprintf(w[k++], 160, "toy_call_enter: bind ino=%lu type=STREAM port=0 pport=0 ret=0", self->l_ino);
	snprintf(w[k++], 160, "toy_call_exit: bind ino=%lu type=STREAM port=%u pport=0 ret=0", self->l_ino, lp);
	snprintf(w[k++], 160, "toy_call_enter: listen ino=%lu type=STREAM port=%u pport=0 ret=0", self->l_ino, lp);
	snprintf(w[k++], 160, "toy_call_exit: listen ino=%lu type=STREAM port=%u pport=0 ret=0", self->l_ino, lp);
	snprintf(w[k++], 160, "toy_call_exit: socket ino=%lu type=STREAM port=0 pport=0 ret=0", self->c_ino);
	snprintf(w[k++], 160, "toy_call_enter: connect ino=%lu type=STREAM port=0 pport=0 ret=0", self->c_ino);
	snprintf(w[k++], 160, "toy_call_exit: connect ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_enter: accept ino=%lu type=STREAM port=%u pport=0 ret=0", self->l_ino, lp);
	/* accept's exit: the listener's inode, the child's ports */
	snprintf(w[k++], 160, "toy_call_exit: accept ino=%lu type=STREAM port=%u pport=%u ret=0", self->l_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_enter: sendmsg ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_exit: sendmsg ino=%lu type=STREAM port=%u pport=%u ret=5", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_enter: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=0", self->a_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_exit: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=5", self->a_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_exit: sendmsg ino=%lu type=STREAM port=%u pport=%u ret=2", self->a_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_exit: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=2", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_enter: shutdown ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_exit: shutdown ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	/* the read that returns 0: EOF after the peer's FIN */
	snprintf(w[k++], 160, "toy_call_exit: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=0", self->a_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_enter: release ino=%lu type=STREAM port=%u pport=%u ret=0", self->a_ino, lp, cp);
	snprintf(w[k++], 160, "toy_call_exit: release ino=%lu type=- port=0 pport=0 ret=0", self->a_ino);
	snprintf(w[k++], 160, "toy_call_exit: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_enter: release ino=%lu type=STREAM port=%u pport=%u ret=0", self->c_ino, cp, lp);
	snprintf(w[k++], 160, "toy_call_exit: release ino=%lu type=- port=0 pport=0 ret=0", self->c_ino);
	snprintf(w[k++], 160, "toy_call_enter: release ino=%lu type=STREAM port=%u pport=0 ret=0", self->l_ino, lp);
	snprintf(w[k++], 160, "toy_call_exit: release ino=%lu type=- port=0 pport=0 ret=0", self->l_ino);

	ASSERT_EQ(-1, in_order(_metadata, self->lines, self->n, w, k));
}

/* Every enter has its exit right behind it or later, per call kind. */
TEST_F(conn, enter_exit_balanced)
{
	static const char *const calls[] = { "bind", "listen", "accept",
		"connect", "sendmsg", "recvmsg", "shutdown", "release" };
	unsigned int c;
	int i;

	for (c = 0; c < ARRAY_SIZE(calls); c++) {
		char en[64], ex[64];
		int depth = 0, nen = 0;

		snprintf(en, sizeof(en), "toy_call_enter: %s ", calls[c]);
		snprintf(ex, sizeof(ex), "toy_call_exit: %s ", calls[c]);
		for (i = 0; i < self->n; i++) {
			if (!strncmp(self->lines[i], en, strlen(en))) {
				depth++;
				nen++;
			} else if (!strncmp(self->lines[i], ex, strlen(ex))) {
				depth--;
				EXPECT_LE(0, depth) TH_LOG("%s exit before enter", calls[c]);
			}
		}
		EXPECT_EQ(0, depth) TH_LOG("%s: enters and exits differ", calls[c]);
		EXPECT_LT(0, nen) TH_LOG("no %s event", calls[c]);
	}
}

/* close() with unread data sends RST; the peer's recv sees ECONNRESET. */
TEST(rst_on_unread_close)
{
	char *lines[MAX_LINES], w[4][160], buf[8];
	unsigned long c_ino, a_ino;
	uint32_t lport, cport;
	int l, c, a, n, k = 0;
	ssize_t r;

	TOY_NEED_TRACE();
	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &lport));
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	cport = toy_port(c);
	c_ino = toy_ino(c);
	a_ino = toy_ino(a);

	ASSERT_EQ(0, trace_begin());
	ASSERT_EQ(3, send(c, "abc", 3, 0));
	close(a);			/* 3 bytes unread: RST */
	r = recv(c, buf, sizeof(buf), 0);
	ASSERT_EQ(-1, r);
	ASSERT_EQ(ECONNRESET, errno);
	close(c);
	close(l);
	n = trace_end(lines, MAX_LINES);
	ASSERT_LT(0, n);

	snprintf(w[k++], 160, "toy_segment: DATA sport=%u dport=%u len=3 ino=%lu", cport, lport, c_ino);
	snprintf(w[k++], 160, "toy_segment: RST sport=%u dport=%u len=0 ino=%lu", lport, cport, a_ino);
	snprintf(w[k++], 160, "toy_state: ino=%lu type=STREAM lport=%u pport=%u ESTABLISHED -> CLOSED", c_ino, cport, lport);
	snprintf(w[k++], 160, "toy_call_exit: recvmsg ino=%lu type=STREAM port=%u pport=%u ret=-104", c_ino, cport, lport);
	EXPECT_EQ(-1, in_order(_metadata, lines, n, w, k));
	/* an RST, never a FIN, from the closer */
	{
		char fin[160];

		snprintf(fin, sizeof(fin), "toy_segment: FIN sport=%u dport=%u len=0 ino=%lu", lport, cport, a_ino);
		EXPECT_EQ(0, count_exact(lines, n, fin));
	}
	free_lines(lines, n);
}

/*
 * connect() to a port nobody listens on: a SYN from the port it picked,
 * then ret=-111, and the port is given back (as TCP).
 */
TEST(connect_refused)
{
	char *lines[MAX_LINES], w[4][160], pre[80];
	unsigned long ino;
	unsigned int sport = 0;
	uint32_t port;
	int fd, l, n, k = 0, i, exits = 0;

	TOY_NEED_TRACE();
	/* a port that was just free: bind a listener, note it, close it */
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	close(l);
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	ino = toy_ino(fd);

	ASSERT_EQ(0, trace_begin());
	ASSERT_ERRNO(ECONNREFUSED, toy_connect(fd, port));
	n = trace_end(lines, MAX_LINES);
	ASSERT_LT(0, n);

	/* the port connect() picked, from its state change */
	snprintf(pre, sizeof(pre), "toy_state: ino=%lu type=STREAM lport=", ino);
	for (i = 0; i < n && !sport; i++)
		if (!strncmp(lines[i], pre, strlen(pre)))
			sport = strtoul(lines[i] + strlen(pre), NULL, 10);
	EXPECT_NE(0, sport);
	EXPECT_EQ(0, toy_port(fd)) TH_LOG("the picked port was not given back");
	snprintf(w[k++], 160, "toy_call_enter: connect ino=%lu type=STREAM port=0 pport=0 ret=0", ino);
	snprintf(w[k++], 160, "toy_segment: SYN sport=%u dport=%u len=0 ino=%lu", sport, port, ino);
	EXPECT_EQ(-1, in_order(_metadata, lines, n, w, k));
	for (i = 0; i < n; i++) {
		snprintf(pre, sizeof(pre), "toy_call_exit: connect ino=%lu ", ino);
		if (!strncmp(lines[i], pre, strlen(pre))) {
			exits++;
			EXPECT_NE(NULL, strstr(lines[i], " ret=-111")) TH_LOG("%s", lines[i]);
		}
	}
	EXPECT_EQ(1, exits);
	close(fd);
	free_lines(lines, n);
}

/*
 * sock:sk_data_ready (kernels from 6.3) fires for AF_TOY as for the
 * families whose data_ready is sock_def_readable(): toy_data_ready(),
 * which replaced it, first did not fire it.  A kernel without the event
 * (6.1) skips: there is nothing to see, and a pass would claim more.
 */
TEST(sk_data_ready_event)
{
	char buf[1024], want[64];
	int sv[2], found = 0;
	FILE *f;

	TOY_NEED_TRACE();
	if (access(TRACEFS "/events/sock/sk_data_ready/enable", F_OK))
		SKIP(return, "no sock:sk_data_ready on this kernel");
	ASSERT_EQ(0, tfs_write("trace", ""));
	ASSERT_EQ(0, tfs_write("tracing_on", "1"));
	ASSERT_EQ(0, tfs_write("events/sock/sk_data_ready/enable", "1"));
	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_STREAM, 0, sv));
	EXPECT_EQ(1, send(sv[0], "x", 1, 0));
	tfs_write("events/sock/sk_data_ready/enable", "0");
	snprintf(want, sizeof(want), "sk_data_ready: family=%d ", AF_TOY);
	f = fopen(TRACEFS "/trace", "r");
	ASSERT_NE(NULL, f);
	while (fgets(buf, sizeof(buf), f))
		found += !!strstr(buf, want);
	fclose(f);
	close(sv[0]);
	close(sv[1]);
	EXPECT_LT(0, found) TH_LOG("no \"%s\" in the trace", want);
}

/* The tracepoints exist with their fields (the format files). */
TEST(event_formats)
{
	static const char *const fmt[][2] = {
		{ "toy_state", "field:unsigned long ino;" },
		{ "toy_state", "field:int oldstate;" },
		{ "toy_state", "field:int newstate;" },
		{ "toy_segment", "field:u32 sport;" },
		{ "toy_segment", "field:u32 len;" },
		{ "toy_call_enter", "field:long ret;" },
		{ "toy_call_exit", "field:int call;" },
	};
	unsigned int i;

	TOY_NEED_TRACE();
	for (i = 0; i < ARRAY_SIZE(fmt); i++) {
		char path[256], buf[8192];
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), TRACEFS "/events/toy/%s/format", fmt[i][0]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd) TH_LOG("%s", path);
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_LT(0, len);
		buf[len] = '\0';
		EXPECT_NE(NULL, strstr(buf, fmt[i][1])) TH_LOG("%s lacks %s", path, fmt[i][1]);
	}
}

TEST_HARNESS_MAIN

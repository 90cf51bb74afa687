// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM: getsockname/getpeername, socket options,
 * socketpair, shutdown and the state machine as seen in /proc/net/toy and
 * in the dynamic-debug narration.
 *
 * bind, listen, connect and accept: toy_stream.c.
 */
#include "toy_common.h"

#include <limits.h>
#include <sys/ioctl.h>
#include <sys/un.h>

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(false)

/* ---- names and options ------------------------------------------------ */

TEST(getsockname_unbound_port0)
{
	int fd = toy_socket(SOCK_STREAM), len;
	struct sockaddr_toy a;

	ASSERT_LE(0, fd);
	len = toy_sockname(fd, &a);
	ASSERT_LE(0, len);
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(AF_TOY, a.stoy_family);
	EXPECT_EQ(0U, a.stoy_port);
	close(fd);
}

TEST(getpeername_unconnected_enotconn)
{
	struct sockaddr_toy a;
	socklen_t len = sizeof(a);
	int fd = toy_socket(SOCK_STREAM), l;
	uint32_t port;

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, getpeername(fd, (struct sockaddr *)&a, &len));
	close(fd);
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	EXPECT_ERRNO(ENOTCONN, getpeername(l, (struct sockaddr *)&a, &len));
	close(l);
}

TEST(sockopt_type_domain_protocol)
{
	int l, a, b, fds[3], i;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	fds[0] = l;
	fds[1] = a;
	fds[2] = b;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(SOCK_STREAM, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_TYPE));
		EXPECT_EQ(AF_TOY, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_DOMAIN));
		EXPECT_EQ(0, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_PROTOCOL));
		EXPECT_EQ(0, toy_getsockopt_int(fds[i], SOL_SOCKET, SO_ERROR));
	}
	close(l);
	close(a);
	close(b);
}

TEST(sockopt_peercred_same_process)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int a, b, fd;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	memset(&cr, 0, sizeof(cr));
	ASSERT_EQ(0, getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(sizeof(cr), len);
	EXPECT_EQ(getpid(), cr.pid);
	EXPECT_EQ(getuid(), cr.uid);
	EXPECT_EQ(getgid(), cr.gid);
	len = sizeof(cr);
	memset(&cr, 0, sizeof(cr));
	ASSERT_EQ(0, getsockopt(b, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(getpid(), cr.pid);
	EXPECT_EQ(getuid(), cr.uid);
	close(a);
	close(b);

	/* an unconnected socket has no peer credentials */
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	len = sizeof(cr);
	memset(&cr, 0xff, sizeof(cr));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
		EXPECT_EQ(0, cr.pid);
		EXPECT_EQ((uid_t)-1, cr.uid);
	} else {
		EXPECT_EQ(ENOTCONN, errno);
	}
	close(fd);
}

TEST(sockopt_generic_buffers)
{
	int fd = toy_socket(SOCK_STREAM), v;

	ASSERT_LE(0, fd);
	v = 65536;
	ASSERT_EQ(0, toy_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, v));
	/* the kernel's sock_setsockopt doubles the value */
	EXPECT_EQ(2 * 65536, toy_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF));
	v = 32768;
	ASSERT_EQ(0, toy_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, v));
	EXPECT_EQ(2 * 32768, toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF));
	v = 1;
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	EXPECT_EQ(1, toy_getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE));
	v = 0x1000;
	ASSERT_EQ(0, toy_setsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT, v));
	EXPECT_EQ(0x1000, toy_getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT));
	{
		struct timeval tv = { .tv_sec = 3, .tv_usec = 500000 }, got;
		socklen_t len = sizeof(got);

		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
		EXPECT_EQ(3, got.tv_sec);
		EXPECT_EQ(500000, got.tv_usec);
	}
	/* an unknown option is rejected by the core, not crashed on */
	EXPECT_ERRNO(ENOPROTOOPT, setsockopt(fd, SOL_SOCKET, 9999, &v,
					     sizeof(v)));
	close(fd);
}

/* ---- socketpair -------------------------------------------------------- */

TEST(socketpair_stream)
{
	char buf[8];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_TOY, SOCK_STREAM, 0, sv));
	EXPECT_STREQ("ESTABLISHED", proc_state(sv[0]));
	EXPECT_STREQ("ESTABLISHED", proc_state(sv[1]));
	ASSERT_EQ(3, write(sv[0], "abc", 3));
	ASSERT_EQ(3, read(sv[1], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(2, write(sv[1], "xy", 2));
	ASSERT_EQ(2, read(sv[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "xy", 2));
	EXPECT_ERRNO(EISCONN, toy_connect(sv[0], 1));
	close(sv[0]);
	EXPECT_EQ(0, read(sv[1], buf, sizeof(buf)));
	close(sv[1]);
}

/* ---- shutdown ---------------------------------------------------------- */

TOY_PAIR_FIXTURE(conn, SOCK_STREAM)

/* Close a connected pair: EXPECT both its lines to leave /proc/net/toy. */
static void close_expect_gone(struct __test_metadata *_metadata, int *a,
			      int *b)
{
	uint32_t pa = toy_port(*a), pb = toy_port(*b);

	toy_close_pair(a, b);
	EXPECT_EQ(0, wait_proc_gone("STREAM", pa, pb));
	EXPECT_EQ(0, wait_proc_gone("STREAM", pb, pa));
}

TEST_F(conn, shutdown_bad_how_einval)
{

	EXPECT_ERRNO(EINVAL, shutdown(self->a, 3));
	EXPECT_ERRNO(EINVAL, shutdown(self->a, -1));
	EXPECT_STREQ("ESTABLISHED", proc_state(self->a));
}

TEST(shutdown_unconnected_enotconn)
{
	int fd = toy_socket(SOCK_STREAM), i;

	ASSERT_LE(0, fd);
	for (i = SHUT_RD; i <= SHUT_RDWR; i++) {
		EXPECT_ERRNO(ENOTCONN, shutdown(fd, i));
	}
	ASSERT_EQ(0, toy_bind(fd, 0));
	EXPECT_ERRNO(ENOTCONN, shutdown(fd, SHUT_WR));
	close(fd);
}

/*
 * A shutdown() that said ENOTCONN changed nothing (man toy.7, ERRORS;
 * TCP and AF_UNIX keep it for a later connection): a connect() after it
 * makes a connection that reads and writes both ways.
 */
TEST(shutdown_unconnected_then_connect_works)
{
	int fd = toy_socket(SOCK_STREAM), l, c;
	uint32_t port;
	char buf[4];

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, shutdown(fd, SHUT_RDWR));
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_connect(fd, port));
	c = accept(l, NULL, NULL);
	ASSERT_LE(0, c);
	ASSERT_EQ(3, send(fd, "abc", 3, 0));
	ASSERT_EQ(3, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(2, send(c, "xy", 2, 0));
	ASSERT_EQ(2, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "xy", 2));
	toy_close_all(fd, c, l);
}

/*
 * connect() to our own port, bound and not listening: ECONNREFUSED, as
 * AF_UNIX to its own name (TCP would connect the socket to itself).
 */
TEST(connect_to_own_port_refused)
{
	struct sockaddr_storage ua;
	socklen_t len;
	int fd = toy_socket(SOCK_STREAM), u;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, toy_bind(fd, 0));
	EXPECT_ERRNO(ECONNREFUSED, toy_connect(fd, toy_port(fd)));
	EXPECT_STREQ("CLOSED", proc_state(fd));
	u = sock_autoname(socket(AF_UNIX, SOCK_STREAM, 0), &ua, &len);
	ASSERT_LE(0, u);
	EXPECT_ERRNO(ECONNREFUSED, connect(u, (struct sockaddr *)&ua, len));
	toy_close_all(fd, u);
}

/* What poll() says about writing: the POLLOUT family of bits. */
static short poll_out_bits(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT | POLLWRNORM |
					       POLLWRBAND };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents & (POLLOUT | POLLWRNORM | POLLWRBAND);
}

/*
 * Wherever a STREAM or SEQPACKET socket polls writable, it says so with
 * POLLOUT, POLLWRNORM and POLLWRBAND, as AF_UNIX: unconnected, after its
 * own SHUT_WR, after the peer's SHUT_RD, after the peer's close, and with
 * room.  WRBAND used to be missing in the first four.
 */
TEST(writable_poll_bits_as_af_unix)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	const short all = POLLOUT | POLLWRNORM | POLLWRBAND;
	int t, fam, step, sv[2], fd;

	for (t = 0; t < 2; t++) {
		for (fam = 0; fam < 2; fam++) {
			int f = fam ? AF_UNIX : AF_TOY;
			const char *name = fam ? "AF_UNIX" : "AF_TOY";

			fd = socket(f, types[t], 0);
			ASSERT_LE(0, fd);
			EXPECT_EQ(all, poll_out_bits(fd)) TH_LOG("%s type %d unconnected",
							      name, types[t]);
			close(fd);
			for (step = 0; step < 4; step++) {
				if (fam) {
					ASSERT_EQ(0, socketpair(f, types[t], 0, sv));
				} else {
					ASSERT_EQ(0, toy_connect_pair(types[t], &sv[0], &sv[1]));
				}
				if (step == 1) {
					ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
				}
				if (step == 2) {
					ASSERT_EQ(0, shutdown(sv[1], SHUT_RD));
				}
				if (step == 3) {
					close(sv[1]);
					sv[1] = -1;
				}
				EXPECT_EQ(all, poll_out_bits(sv[0]))
					TH_LOG("%s type %d step %d", name, types[t], step);
				toy_close_all(sv[0], sv[1]);
			}
		}
	}
}

TEST_F(conn, shutdown_wr_half_close_states)
{
	struct toy_proc_entry e;
	char buf[32];

	ASSERT_EQ(4, write(self->a, "data", 4));
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(0, wait_proc_state(self->a, "FIN_WAIT2"))
		TH_LOG("a: %s", proc_state(self->a));
	EXPECT_EQ(0, wait_proc_state(self->b, "CLOSE_WAIT"))
		TH_LOG("b: %s", proc_state(self->b));
	/* queued data first, then EOF, twice */
	ASSERT_EQ(4, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	/* the passive side can still write back */
	ASSERT_EQ(5, write(self->b, "reply", 5));
	ASSERT_EQ(5, read(self->a, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "reply", 5));
	/* ports stay in the lines */
	ASSERT_EQ(0, proc_entry(self->b, &e));
	EXPECT_EQ((unsigned long)toy_port(self->a), e.pport);
	/* passive close: LAST_ACK -> CLOSED, the active side gets EOF */
	close(self->b);
	self->b = -1;
	EXPECT_EQ(0, read(self->a, buf, sizeof(buf)));
	EXPECT_EQ(0, wait_proc_state(self->a, "CLOSED"))
		TH_LOG("a: %s", proc_state(self->a));
}

TEST_F(conn, shutdown_rd_read_returns_0)
{
	char buf[8];

	ASSERT_EQ(0, shutdown(self->b, SHUT_RD));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	/* b can still send */
	ASSERT_EQ(2, write(self->b, "ok", 2));
	ASSERT_EQ(2, read(self->a, buf, sizeof(buf)));
	/* a writing to a peer that shut down reading: EPIPE */
	EXPECT_ERRNO(EPIPE, send(self->a, "x", 1, MSG_NOSIGNAL));
}

TEST_F(conn, shutdown_rdwr_both_directions)
{
	char buf[8];

	ASSERT_EQ(0, shutdown(self->a, SHUT_RDWR));
	EXPECT_EQ(0, read(self->a, buf, sizeof(buf)));
	EXPECT_ERRNO(EPIPE, send(self->a, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(0, read(self->b, buf, sizeof(buf)));
	EXPECT_EQ(0, wait_proc_state(self->a, "FIN_WAIT2"));
	EXPECT_EQ(0, wait_proc_state(self->b, "CLOSE_WAIT"));
	/* repeating a shutdown is harmless */
	EXPECT_EQ(0, shutdown(self->a, SHUT_WR));
}

TEST_F(conn, shutdown_both_sides_closed_states)
{
	ASSERT_EQ(0, shutdown(self->a, SHUT_WR));
	EXPECT_EQ(0, wait_proc_state(self->a, "FIN_WAIT2"));
	ASSERT_EQ(0, shutdown(self->b, SHUT_WR));
	/* b: CLOSE_WAIT -> LAST_ACK -> CLOSED; a: FIN_WAIT2 -> CLOSED */
	EXPECT_EQ(0, wait_proc_state(self->b, "CLOSED"))
		TH_LOG("b: %s", proc_state(self->b));
	EXPECT_EQ(0, wait_proc_state(self->a, "CLOSED"))
		TH_LOG("a: %s", proc_state(self->a));
}

TEST_F(conn, simultaneous_close_no_hang)
{
	close_expect_gone(_metadata, &self->a, &self->b);
}

/* ---- /proc/net/toy ----------------------------------------------------- */

TEST(proc_established_lines)
{
	struct toy_proc_entry ea, eb, el;
	int l, c, s;
	uint32_t port;

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, proc_entry(l, &el));
	ASSERT_EQ(0, proc_entry(c, &ea));
	ASSERT_EQ(0, proc_entry(s, &eb));
	EXPECT_STREQ("LISTEN", el.state);
	EXPECT_STREQ("ESTABLISHED", ea.state);
	EXPECT_STREQ("ESTABLISHED", eb.state);
	EXPECT_STREQ("STREAM", ea.type);
	EXPECT_EQ((unsigned long)toy_port(c), ea.lport);
	EXPECT_EQ((unsigned long)port, ea.pport);
	EXPECT_EQ((unsigned long)port, eb.lport);
	EXPECT_EQ((unsigned long)toy_port(c), eb.pport);
	EXPECT_EQ(0UL, ea.rq);
	EXPECT_EQ(0UL, ea.sq);
	EXPECT_EQ((unsigned long)getuid(), eb.uid);
	close(c);
	close(s);
	close(l);
}

TEST(proc_unaccepted_child_inode0)
{
	struct toy_proc_entry e;
	int l, c, s;
	uint32_t port;
	long cport;

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	cport = toy_port(c);
	ASSERT_EQ(0, proc_find("STREAM", port, cport, &e));
	EXPECT_EQ(0UL, e.ino);
	EXPECT_STREQ("ESTABLISHED", e.state);
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, proc_find("STREAM", port, cport, &e));
	EXPECT_EQ(toy_ino(s), e.ino);
	close(s);
	close(c);
	close(l);
}

TEST(proc_recvq_sendq_count_unread)
{
	struct toy_proc_entry e;
	char buf[100];
	int a, b, n;

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	memset(buf, 'q', sizeof(buf));
	ASSERT_EQ(100, write(a, buf, 100));
	ASSERT_EQ(0, wait_proc_rq(b, 100));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(100UL, e.sq);
	EXPECT_EQ(0UL, e.rq);
	ASSERT_EQ(0, ioctl(b, FIONREAD, &n));
	EXPECT_EQ(100, n);

	ASSERT_EQ(40, read(b, buf, 40));
	EXPECT_EQ(0, wait_proc_rq(b, 60));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(60UL, e.sq);
	ASSERT_EQ(0, ioctl(b, FIONREAD, &n));
	EXPECT_EQ(60, n);

	/* MSG_PEEK does not consume */
	ASSERT_EQ(60, recv(b, buf, 100, MSG_PEEK));
	EXPECT_EQ(0, wait_proc_rq(b, 60));
	ASSERT_EQ(60, read(b, buf, 100));
	EXPECT_EQ(0, wait_proc_rq(b, 0));
	ASSERT_EQ(0, proc_entry(a, &e));
	EXPECT_EQ(0UL, e.sq);
	close(a);
	close(b);
}

TEST(proc_closed_sockets_vanish)
{
	int a, b, n0;

	n0 = proc_count();
	ASSERT_LE(0, n0);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	EXPECT_EQ(n0 + 2, proc_count());
	close_expect_gone(_metadata, &a, &b);
	EXPECT_EQ(n0, proc_count());
}

/* A listener on port 5020 (*l) and a socket from port 5021 connected to it. */
static int connect_5021_to_5020(struct __test_metadata *_metadata, int *l)
{
	uint32_t port;
	int a;

	*l = toy_listener_port(SOCK_STREAM, 5020, 4, &port);
	ASSERT_LE(0, *l);
	a = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, toy_bind(a, 5021));
	ASSERT_EQ(0, toy_connect(a, 5020));
	return a;
}

TEST(ports_reusable_after_close)
{
	int l, a, b;

	a = connect_5021_to_5020(_metadata, &l);
	b = accept(l, NULL, NULL);
	ASSERT_LE(0, b);
	EXPECT_EQ(5021, toy_port(a));
	toy_close_all(a, b, l);
	/* no TIME_WAIT: both ports are free again at once */
	a = connect_5021_to_5020(_metadata, &l);
	toy_close_all(a, l);
}

/* ---- the flow narrated by dynamic debug --------------------------------- */

/*
 * The dynamic debug control file: in procfs whenever the kernel has
 * dynamic debug (CONFIG_DYNAMIC_DEBUG_CORE), also in debugfs if mounted.
 */
static const char *const ddebug_controls[] = {
	"/proc/dynamic_debug/control",
	"/sys/kernel/debug/dynamic_debug/control",
};
static const char *ddebug_control;

static const char *ddebug_find(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ddebug_controls); i++)
		if (access(ddebug_controls[i], F_OK) == 0)
			return ddebug_controls[i];
	return NULL;
}

static int ddebug(const char *cmd)
{
	int fd = open(ddebug_control, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* af_toy's call sites listed in the control file with flag p on, or -1. */
static int ddebug_af_toy_sites_on(void)
{
	FILE *f = fopen(ddebug_control, "re");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *flags;

		if (!strstr(line, " [af_toy]"))
			continue;
		/* "file:line [module]function =flags \"format\"" */
		flags = strstr(line, " =");
		if (!flags)
			continue;
		flags += 2;
		flags[strcspn(flags, " \n")] = '\0';
		n += strchr(flags, 'p') != NULL;
	}
	fclose(f);
	return n;
}

/* Does text contain the words of seq[] in this order (as substrings)? */
static bool in_order(const char *text, const char *const *seq, int n)
{
	const char *p = text;
	int i;

	for (i = 0; i < n; i++) {
		p = strstr(p, seq[i]);
		if (!p)
			return false;
		p += strlen(seq[i]);
	}
	return true;
}

TEST(dmesg_narrates_state_flow)
{
	static const char *const client_seq[] = {
		"SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE",
	};
	static const char *const server_seq[] = {
		"SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE",
	};
	static char text[1 << 16];
	char rec[2048], cp[16];
	const char *const match[] = { "af_toy", cp, NULL };
	int kfd, l, c, s, sites;
	uint32_t port;

	/*
	 * Skip only for what the kernel or the environment lacks; af_toy's
	 * pr_debug() narration not being there is a failure.
	 */
	ddebug_control = ddebug_find();
	if (!ddebug_control)
		SKIP(return, "kernel without dynamic debug (no /proc/dynamic_debug): pr_debug() is compiled out");
	if (geteuid() != 0)
		SKIP(return, "needs root for %s", ddebug_control);
	kfd = toy_kmsg_open(false);
	if (kfd < 0)
		SKIP(return, "no /dev/kmsg");
	ASSERT_EQ(0, ddebug("module af_toy +p"))
		TH_LOG("%s: module af_toy +p: %s", ddebug_control, strerror(errno));
	sites = ddebug_af_toy_sites_on();
	if (sites <= 0)
		ddebug("module af_toy -p");
	ASSERT_LT(0, sites)
		TH_LOG("%s lists no af_toy call site with +p", ddebug_control);
	lseek(kfd, 0, SEEK_END);

	ASSERT_EQ(0, toy_listen_connect(SOCK_STREAM, &l, &c, &port));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(2, write(c, "hi", 2));
	ASSERT_EQ(2, read(s, rec, 2));
	snprintf(cp, sizeof(cp), "%ld", toy_port(c));
	close(c);			/* active close */
	EXPECT_EQ(0, read(s, rec, sizeof(rec)));
	close(s);			/* passive close */
	close(l);
	ddebug("module af_toy -p");

	/* only the af_toy lines that name the client's port */
	toy_kmsg_collect(kfd, text, sizeof(text), match);
	close(kfd);
	EXPECT_TRUE(in_order(text, client_seq, 5)) TH_LOG("dmesg:\n%s", text);
	EXPECT_TRUE(in_order(text, server_seq, 5)) TH_LOG("dmesg:\n%s", text);
	/* segments are narrated too */
	EXPECT_TRUE(strstr(text, "SYN") && strstr(text, "FIN") && strstr(text, "ACK"))
		TH_LOG("dmesg:\n%s", text);
}

TEST_HARNESS_MAIN

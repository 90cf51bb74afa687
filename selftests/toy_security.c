// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY security checks, on the fixture of the stress tests
 * (toy_stress.h):
 * - no kernel pointers in /proc/net/toy*, af_toy dmesg lines or the toy
 *   trace events;
 * - an unprivileged user cannot bind below 1024, cannot reach another
 *   netns and cannot pin more memory than its buffer sizes allow.
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <grp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "toy_stress.h"

/* ---- security --------------------------------------------------------------- */

/* kernel addresses: 0xffff... or a bare ffff + 12 hex digits */
static int count_pointers(const char *what, const char *text, regex_t *re)
{
	const char *p = text;
	regmatch_t m;
	int n = 0;

	while (!regexec(re, p, 1, &m, 0)) {
		if (n < 3) {
			const char *ls = p + m.rm_so, *le;

			while (ls > text && ls[-1] != '\n')
				ls--;
			le = strchr(p + m.rm_so, '\n');
			fprintf(stderr, "# kernel pointer in %s: %.*s\n", what,
				(int)(le ? le - ls : (long)strlen(ls)), ls);
		}
		n++;
		p += m.rm_eo;
	}
	return n;
}

static char *slurp(const char *path, size_t max)
{
	char *buf = malloc(max + 1);
	size_t len = 0;
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return buf;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			(void)0;
		close(fd);
	}
}

TEST_F_TIMEOUT(stress, no_kernel_pointers_leak, 300)
{
	const char *tr = "/sys/kernel/tracing";
	char path[256], *text;
	int a, b, l, d, n, bad = 0, traced = 0;
	regex_t re;
	uint32_t port;

	ASSERT_EQ(0, regcomp(&re, "(0x)?ffff[0-9a-f]{12}", REG_EXTENDED | REG_ICASE));
	/* dynamic debug + trace events on, then a bit of every kind of traffic */
	write_file("/sys/kernel/debug/dynamic_debug/control", "module af_toy +p");
	snprintf(path, sizeof(path), "%s/events/toy/enable", tr);
	if (!access(path, W_OK)) {
		write_file(path, "1");
		snprintf(path, sizeof(path), "%s/trace", tr);
		write_file(path, "");	/* clear (O_TRUNC not needed: write clears) */
		traced = 1;
	}
	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	EXPECT_EQ(5, send(a, "hello", 5, 0));
	d = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, d);
	{
		int c = toy_socket(SOCK_STREAM);

		ASSERT_LE(0, c);
		ASSERT_EQ(0, toy_connect(c, port));	/* queued child: inode 0 */
		text = slurp("/proc/net/toy", 1 << 20);
		ASSERT_NE(NULL, text);
		bad += count_pointers("/proc/net/toy", text, &re);
		free(text);
		text = slurp("/proc/net/toy_stat", 1 << 20);
		if (text) {
			bad += count_pointers("/proc/net/toy_stat", text, &re);
			free(text);
		}
		close(c);
	}
	close(b);	/* RST path: a has unread nothing, b had unread data */
	close(a);
	close(l);
	close(d);
	usleep(100000);
	write_file("/sys/kernel/debug/dynamic_debug/control", "module af_toy -p");
	{
		/* the module's own lines (pr_fmt "af_toy: ") */
		static const char *const own[] = { "af_toy:", NULL };
		int len = toy_klog_size(), kfd;
		char *log, *line, *save;
		int lines = 0;

		ASSERT_LT(0, len);
		log = calloc(1, len + 1);
		ASSERT_NE(NULL, log);
		kfd = toy_kmsg_open(true);
		ASSERT_LE(0, kfd);
		toy_kmsg_collect(kfd, log, len + 1, own);
		close(kfd);
		for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			lines++;
			bad += count_pointers("dmesg", line, &re);
		}
		TH_LOG("checked %d af_toy dmesg lines", lines);
		free(log);
	}
	if (traced) {
		snprintf(path, sizeof(path), "%s/events/toy/enable", tr);
		write_file(path, "0");
		snprintf(path, sizeof(path), "%s/trace", tr);
		text = slurp(path, 4 << 20);
		ASSERT_NE(NULL, text);
		n = 0;
		for (char *p = text; (p = strstr(p, "toy_")); p++)
			n++;
		TH_LOG("checked trace output (%d toy_ event mentions)", n);
		bad += count_pointers("trace", text, &re);
		free(text);
	}
	regfree(&re);
	EXPECT_EQ(0, bad);
}

static void drop_privileges(void)
{
	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(UNPRIV_UID) == 0);
	CHILD_CHECK(setuid(UNPRIV_UID) == 0);
}

TEST_F_TIMEOUT(stress, unprivileged_bind_below_1024, 120)
{
	pid_t pid = toy_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
		static const uint32_t ports[] = { 1, 22, 80, 1023 };
		unsigned int t, p;

		drop_privileges();
		for (t = 0; t < 3; t++) {
			for (p = 0; p < 4; p++) {
				int fd = toy_socket(types[t]);

				CHILD_CHECK(fd >= 0);
				CHILD_CHECK_ERRNO(EACCES, toy_bind(fd, ports[p]));
				close(fd);
			}
			{
				int fd = toy_socket(types[t]);

				CHILD_CHECK(fd >= 0);
				CHILD_CHECK(toy_bind(fd, 0) == 0 && toy_port(fd) >= 1024);
				close(fd);
				fd = toy_socket(types[t]);
				CHILD_CHECK(toy_bind(fd, 1024 + 7 * t + 3000) == 0 || errno == EADDRINUSE);
				close(fd);
			}
		}
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

/* 0 if the calling task could bind @port on TCP (any address), else errno. */
static int tcp_bind_errno(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), e;

	if (fd < 0)
		return errno;
	e = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	close(fd);
	return e;
}

/*
 * net.ipv4.ip_unprivileged_port_start sets where privileged ports end, as
 * for TCP: an unprivileged user may bind 100 once it is 80 (a container's
 * nginx on port 80 with it 0), not 79.  In a netns of its own, as that
 * sysctl is per netns.
 */
TEST_F_TIMEOUT(stress, unprivileged_port_start_as_tcp, 120)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
		unsigned int t;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_write_sysctl("net/ipv4/ip_unprivileged_port_start",
					     "80") == 0);
		drop_privileges();
		CHILD_CHECK(tcp_bind_errno(100) == 0);
		CHILD_CHECK(tcp_bind_errno(79) == EACCES);
		for (t = 0; t < 3; t++) {
			int fd = toy_socket(types[t]);

			CHILD_CHECK(fd >= 0);
			CHILD_CHECK(toy_bind(fd, 100) == 0);
			close(fd);
			fd = toy_socket(types[t]);
			CHILD_CHECK(fd >= 0);
			CHILD_CHECK(toy_bind(fd, 80) == 0);
			close(fd);
			fd = toy_socket(types[t]);
			CHILD_CHECK(fd >= 0);
			CHILD_CHECK_ERRNO(EACCES, toy_bind(fd, 79));
			close(fd);
		}
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

/* The local port of a TCP socket the calling task bound to port 0, or -1. */
static long tcp_autobind_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

#define AB_LO	40000
#define AB_HI	40063

/*
 * The ports the kernel picks come from net.ipv4.ip_local_port_range, as
 * TCP's, and so stay above a raised ip_unprivileged_port_start (which the
 * kernel keeps at or below that range).  AF_TOY's range was fixed at
 * 32768-60999: an unprivileged bind() of port 0 could get port 33000,
 * which the same user may not bind by name.
 */
TEST_F_TIMEOUT(stress, unprivileged_autobind_in_local_port_range_as_tcp, 120)
{
	pid_t pid;

	if (TOY_FORK(pid)) {
		static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
		unsigned int t, i;
		int fd;
		long p;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_write_sysctl("net/ipv4/ip_local_port_range",
					     "40000 40063") == 0);
		CHILD_CHECK(toy_write_sysctl("net/ipv4/ip_unprivileged_port_start",
					     "40000") == 0);
		drop_privileges();
		p = tcp_autobind_port();
		CHILD_CHECK(p >= AB_LO && p <= AB_HI);
		CHILD_CHECK(tcp_bind_errno(AB_LO - 1) == EACCES);
		for (t = 0; t < 3; t++) {
			int fds[AB_HI - AB_LO + 1];

			for (i = 0; i <= AB_HI - AB_LO; i++) {
				fds[i] = toy_socket(types[t]);
				CHILD_CHECK(fds[i] >= 0 && toy_bind(fds[i], 0) == 0);
				p = toy_port(fds[i]);
				CHILD_CHECK(p >= AB_LO && p <= AB_HI);
			}
			/* all 64 taken: the range is the whole range */
			fd = toy_socket(types[t]);
			CHILD_CHECK_ERRNO(EADDRINUSE, toy_bind(fd, 0));
			close(fd);
			toy_close_fds(fds, AB_HI - AB_LO + 1);
			fd = toy_socket(types[t]);
			CHILD_CHECK_ERRNO(EACCES, toy_bind(fd, AB_LO - 1));
			close(fd);
		}
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F_TIMEOUT(stress, unprivileged_cannot_reach_other_netns, 120)
{
	uint32_t sport, dport;
	int l = toy_listener(SOCK_STREAM, &sport);
	int d = toy_socket(SOCK_DGRAM);
	pid_t pid;

	ASSERT_LE(0, l);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, toy_bind(d, 0));
	dport = (uint32_t)toy_port(d);
	if (TOY_FORK(pid)) {
		int c, u, i;
		char line[512];
		FILE *f;

		drop_privileges();
		/* an unprivileged user can get its own netns via a user ns */
		CHILD_CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0);
		c = toy_socket(SOCK_STREAM);
		CHILD_CHECK(c >= 0);
		CHILD_CHECK_ERRNO(ECONNREFUSED, toy_connect(c, sport));
		u = toy_socket(SOCK_DGRAM);
		CHILD_CHECK(u >= 0);
		CHILD_CHECK(sendto(u, "x", 1, 0, (struct sockaddr *)&(struct sockaddr_toy){
			.stoy_family = AF_TOY, .stoy_port = dport }, sizeof(struct sockaddr_toy)) < 0 &&
			errno == ECONNREFUSED);
		/* the same ports are free here: separate port spaces */
		i = toy_socket(SOCK_STREAM);
		CHILD_CHECK(i >= 0 && toy_bind(i, sport) == 0);
		/* and the other netns' sockets are invisible */
		f = fopen("/proc/net/toy", "re");
		CHILD_CHECK(f != NULL);
		while (fgets(line, sizeof(line), f)) {
			struct toy_proc_entry e;

			if (toy_proc_parse(line, &e) == 0)
				CHILD_CHECK(e.lport != dport);
		}
		fclose(f);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	close(l);
	close(d);
}

TEST_F_TIMEOUT(stress, unprivileged_memory_bounded, 300)
{
	long before = toy_stat_value("mem_charged");
	int us[2];
	pid_t pid;

	/* the module's memory accounting: missing is a failure, not a skip */
	ASSERT_LE(0, before) TH_LOG("no mem_charged line in /proc/net/toy_stat");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, us));
	if (TOY_FORK(pid)) {
		static char buf[65536];
		int sv[2], d1, d2, big = INT32_MAX, rb = 0, sb = 0;
		socklen_t len = sizeof(int);
		long limit = 0;
		int t;

		drop_privileges();
		for (t = 0; t < 3; t++) {
			int type = t == 0 ? SOCK_STREAM : t == 1 ? SOCK_SEQPACKET : SOCK_DGRAM;
			size_t chunk = t == 2 ? 1 : 4096;	/* tiny datagrams: overhead-heavy */

			CHILD_CHECK(socketpair(AF_TOY, type, 0, sv) == 0);
			/* asking for huge buffers is capped by the sysctls */
			toy_setsockopt_int(sv[0], SOL_SOCKET, SO_SNDBUF, big);
			toy_setsockopt_int(sv[1], SOL_SOCKET, SO_RCVBUF, big);
			CHILD_CHECK(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sb, &len) == 0);
			CHILD_CHECK(getsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &rb, &len) == 0);
			CHILD_CHECK(sb < INT32_MAX / 2 && rb < INT32_MAX / 2);
			limit += sb + rb;
			while (send(sv[0], buf, chunk, MSG_DONTWAIT) > 0)
				;
			CHILD_CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
			/* keep both ends open, queue full */
		}
		/* many DGRAM senders into one receiver */
		d2 = toy_socket(SOCK_DGRAM);
		CHILD_CHECK(d2 >= 0 && toy_bind(d2, 0) == 0);
		CHILD_CHECK(getsockopt(d2, SOL_SOCKET, SO_RCVBUF, &rb, &len) == 0);
		limit += rb;
		for (t = 0; t < 16; t++) {
			d1 = toy_socket(SOCK_DGRAM);
			CHILD_CHECK(d1 >= 0 && toy_connect(d1, (uint32_t)toy_port(d2)) == 0);
			while (send(d1, buf, 1, MSG_DONTWAIT) > 0)
				;
		}
		CHILD_CHECK(write(us[1], &limit, sizeof(limit)) == sizeof(limit));
		pause();	/* parent measures, then kills */
		_exit(0);
	}
	{
		long limit = 0, after, pinned;

		ASSERT_EQ(sizeof(limit), read(us[0], &limit, sizeof(limit)));
		after = toy_stat_value("mem_charged");
		pinned = after - before;
		TH_LOG("unprivileged user pinned %ld bytes (buffer sizes allow %ld)", pinned, limit);
		/* truesize accounting may overshoot by one skb per queue */
		EXPECT_GE(limit * 2 + 20 * 70000, pinned);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	toy_close_fds(us, 2);
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

TEST_HARNESS_MAIN

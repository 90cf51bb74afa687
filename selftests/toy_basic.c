// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy basics: the family is registered, socket()
 * gives a real socket fd, unsupported types/protocols are refused, the
 * module is pinned while sockets exist, the family= parameter is checked,
 * and /proc/net/toy exists.
 *
 * The module tests unload and reload /af_toy.ko; their teardown always
 * makes sure the module is loaded again for the tests that follow.
 */
#include "toy_common.h"

#include <limits.h>
#include <sys/klog.h>

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(false)

#define MODNAME "af_toy"

static bool module_loaded(void)
{
	return toy_module_loaded(MODNAME);
}

/* finit_module(/af_toy.ko, params): 0 or -errno */
static int load_module(const char *params)
{
	return toy_module_load(TOY_MODULE_PATH, params) < 0 ? -errno : 0;
}

/* Skip unless we can unload/reload the module (in the VM: /af_toy.ko). */
#define NEED_MODULE_FILE() do {						\
	if (access(TOY_MODULE_PATH, R_OK) != 0)				\
		SKIP(return, "%s not present", TOY_MODULE_PATH);	\
	if (!module_loaded())						\
		SKIP(return, "af_toy is not a loaded module");		\
} while (0)

/* Does one line of text contain both a and b? */
static bool line_has_both(const char *text, const char *a, const char *b)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (strstr(line, a) && strstr(line, b))
			return true;
		p += l + (nl ? 1 : 0);
	}
	return false;
}

/* ------------------------------------------------------------------ */

TEST(socket_stream_is_socket_fd)
{
	char path[64], link[128], want[64];
	struct stat st;
	ssize_t n;
	int fd;

	fd = socket(AF_TOY, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket(AF_TOY, SOCK_STREAM): %s", strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(S_IFSOCK, st.st_mode & S_IFMT);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	EXPECT_STREQ(want, link);
	EXPECT_EQ(0, close(fd));
}

TEST(socket_all_types_created)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	static const char *const names[] = { "STREAM", "SEQPACKET", "DGRAM" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct toy_proc_entry e;
		int fd = socket(AF_TOY, types[i], 0);

		ASSERT_LE(0, fd) TH_LOG("type %s: %s", names[i], strerror(errno));
		EXPECT_EQ(types[i], toy_getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
		EXPECT_EQ(AF_TOY, toy_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
		EXPECT_EQ(0, toy_getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL));
		ASSERT_EQ(0, proc_entry(fd, &e));
		EXPECT_STREQ(names[i], e.type);
		EXPECT_STREQ("CLOSED", e.state);
		EXPECT_EQ(0UL, e.lport);
		EXPECT_EQ(0UL, e.pport);
		EXPECT_EQ(0UL, e.rq);
		EXPECT_EQ(0UL, e.sq);
		EXPECT_EQ((unsigned long)getuid(), e.uid);
		close(fd);
	}
}

TEST(socket_flags_nonblock_cloexec)
{
	int fd = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(socket_unsupported_type)
{
	/* valid socket types the family does not implement */
	static const int types[] = { SOCK_RAW, SOCK_RDM, 6 /* SOCK_DCCP */,
				     SOCK_PACKET };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		EXPECT_ERRNO(ESOCKTNOSUPPORT, socket(AF_TOY, types[i], 0))
			TH_LOG("type %d", types[i]);
	}
}

TEST(socket_type_out_of_range)
{
	/*
	 * Type 99 is >= SOCK_MAX: the socket core rejects it with EINVAL
	 * before the family is consulted (same for every family).
	 */
	errno = 0;
	EXPECT_EQ(-1, socket(AF_TOY, 99, 0));
	EXPECT_TRUE(errno == EINVAL || errno == ESOCKTNOSUPPORT)
		TH_LOG("errno %d (%s)", errno, strerror(errno));
}

TEST(socket_nonzero_protocol)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	static const int protos[] = { 1, 6, 17, 255 };
	unsigned int i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < ARRAY_SIZE(protos); j++) {
			EXPECT_ERRNO(EPROTONOSUPPORT, socket(AF_TOY, types[i],
							     protos[j]))
				TH_LOG("type %d protocol %d", types[i], protos[j]);
		}
	}
}

/*
 * The family's own number as the protocol is taken, as AF_UNIX takes
 * PF_UNIX (it was refused with EPROTONOSUPPORT); SO_PROTOCOL still says 0.
 */
TEST(socket_own_family_as_protocol)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	static const int fams[] = { AF_TOY, AF_UNIX };
	unsigned int i, j;
	int fd, sv[2];

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		for (j = 0; j < ARRAY_SIZE(fams); j++) {
			fd = socket(fams[j], types[i], fams[j]);
			EXPECT_LE(0, fd) TH_LOG("family %d type %d: %s", fams[j],
						types[i], strerror(errno));
			EXPECT_EQ(0, toy_getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL));
			close(fd);
			ASSERT_EQ(0, socketpair(fams[j], types[i], fams[j], sv));
			toy_close_all(sv[0], sv[1]);
		}
	}
}

TEST(proc_header_line)
{
	char hdr[256];
	struct stat st;

	ASSERT_EQ(0, stat(AF_TOY_PROC, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, proc_net_toy_header(hdr, sizeof(hdr)));
	/* allow column padding: compare the words */
	{
		char norm[256];
		char *w, *save = NULL;
		size_t used = 0;

		norm[0] = '\0';
		for (w = strtok_r(hdr, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save))
			used += snprintf(norm + used, sizeof(norm) - used,
					 "%s%s", used ? " " : "", w);
		EXPECT_STREQ(TOY_PROC_HEADER, norm);
	}
}

TEST(proc_lists_socket_until_close)
{
	char line[256];
	unsigned long ino;
	int fd, n0, n1;

	n0 = proc_count();
	ASSERT_LE(0, n0);
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	ino = toy_ino(fd);
	ASSERT_NE(0UL, ino);
	ASSERT_EQ(0, proc_net_toy_line(ino, line));
	n1 = proc_count();
	EXPECT_EQ(n0 + 1, n1);
	close(fd);
	EXPECT_EQ(-1, proc_net_toy_line(ino, line)) TH_LOG("still listed: %s", line);
	EXPECT_EQ(n0, proc_count());
}

/*
 * A listener's RecvQ and SendQ are its accept queue and backlog, as
 * unix_diag and /proc/net/tcp show them (they were always 0 0).
 */
TEST(proc_listener_queues)
{
	struct toy_proc_entry e;
	int l, c[3], i;
	uint32_t port;

	ASSERT_EQ(0, toy_ensure_module());
	l = toy_listener_backlog(SOCK_STREAM, 5, &port);
	ASSERT_LE(0, l);
	for (i = 0; i < 3; i++) {
		c[i] = toy_socket(SOCK_STREAM);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, toy_connect(c[i], port));
	}
	ASSERT_EQ(0, proc_entry(l, &e));
	EXPECT_STREQ("LISTEN", e.state);
	EXPECT_EQ(3UL, e.rq);
	EXPECT_EQ(5UL, e.sq);
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(l);
}

TEST(proc_no_kernel_pointers)
{
	char line[512];
	FILE *f;
	int fd = toy_socket(SOCK_STREAM);

	ASSERT_LE(0, fd);
	f = fopen(AF_TOY_PROC, "re");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f)) {
		struct toy_proc_entry e;
		char *w, *save = NULL;
		int cols = 0;

		EXPECT_EQ(0, toy_proc_parse(line, &e)) TH_LOG("line: %s", line);
		for (w = strtok_r(line, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			cols++;
			/* a hashed/raw pointer would be a long hex word */
			EXPECT_TRUE(strlen(w) < 16) TH_LOG("word %s", w);
		}
		EXPECT_EQ(8, cols);
	}
	fclose(f);
	close(fd);
}

TEST(socket_other_families_unaffected)
{
	/* AF_TOY 25 must not have disturbed the neighbours */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-1, socket(AF_TOY + 100, SOCK_STREAM, 0));
}

/* ---- module lifetime ----------------------------------------------- */

FIXTURE(module) {
	int dummy;
};

FIXTURE_SETUP(module)
{
	self->dummy = 0;
}

FIXTURE_TEARDOWN(module)
{
	/* whatever happened, leave the module loaded */
	if (!toy_family_available() && access(TOY_MODULE_PATH, R_OK) == 0)
		load_module("");
	if (!toy_family_available())
		TH_LOG("af_toy could not be reloaded");
}

/* Load af_toy again with its defaults: the family is back. */
static void reload_default(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, load_module(""));
	EXPECT_TRUE(toy_family_available());
}

/*
 * With af_toy unloaded: loading it with params fails with -err, leaves it
 * unloaded and logs a line naming af_toy (and what, if given).
 */
static void expect_load_refused(struct __test_metadata *_metadata,
				const char *params, int err, const char *what)
{
	char log[16384] = "";
	int kfd = toy_kmsg_open(false), ret;

	ret = load_module(params);
	EXPECT_EQ(-err, ret) TH_LOG("%s: %s", params, strerror(-ret));
	EXPECT_FALSE(module_loaded());
	if (kfd >= 0) {
		toy_kmsg_collect(kfd, log, sizeof(log), NULL);
		EXPECT_TRUE(line_has_both(log, "af_toy", what ? what : ""))
			TH_LOG("%s: dmesg:\n%s", params, log);
		close(kfd);
	}
}

TEST_F(module, refcnt_tracks_sockets)
{
	long r0, r1, r2;
	int fds[3], i;

	NEED_MODULE_FILE();
	r0 = toy_module_refcnt();
	ASSERT_LE(0, r0);
	for (i = 0; i < 3; i++) {
		fds[i] = toy_socket(i == 0 ? SOCK_STREAM :
				    i == 1 ? SOCK_SEQPACKET : SOCK_DGRAM);
		ASSERT_LE(0, fds[i]);
	}
	r1 = toy_module_refcnt();
	EXPECT_LE(r0 + 3, r1) TH_LOG("refcnt %ld -> %ld with 3 sockets", r0, r1);
	toy_close_fds(fds, 3);
	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		r2 = toy_module_refcnt();
		if (r2 == r0)
			break;
		usleep(TOY_WAIT_USEC);
	}
	EXPECT_EQ(r0, r2);
}

TEST_F(module, rmmod_refused_while_socket_open)
{
	int fd, ret;

	NEED_MODULE_FILE();
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);

	errno = 0;
	ret = toy_module_unload(MODNAME, 1);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EBUSY || errno == EAGAIN)
		TH_LOG("delete_module: %s", strerror(errno));
	EXPECT_TRUE(module_loaded());
	/* the socket still works */
	EXPECT_EQ(0, toy_bind(fd, 0));
	EXPECT_LE(TOY_EPHEMERAL_LO, toy_port(fd));

	/* rmmod(8) refuses too */
	if (access("/sbin/rmmod", X_OK) == 0 || access("/bin/rmmod", X_OK) == 0)
		EXPECT_NE(0, system("rmmod " MODNAME " 2>/dev/null"));
	EXPECT_TRUE(module_loaded());

	/* after the last close it goes, and loads again */
	close(fd);
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	EXPECT_FALSE(module_loaded());
	EXPECT_ERRNO(EAFNOSUPPORT, socket(AF_TOY, SOCK_STREAM, 0));

	ASSERT_EQ(0, load_module(""));
	EXPECT_TRUE(module_loaded());
	fd = toy_socket(SOCK_STREAM);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_F(module, rmmod_refused_with_connected_pair)
{
	int a, b;

	NEED_MODULE_FILE();
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &a, &b));
	errno = 0;
	EXPECT_EQ(-1, toy_module_unload(MODNAME, 1));
	EXPECT_TRUE(errno == EBUSY || errno == EAGAIN);
	close(a);
	/* one socket (b) left: still pinned */
	errno = 0;
	EXPECT_EQ(-1, toy_module_unload(MODNAME, 1));
	EXPECT_TRUE(errno == EBUSY || errno == EAGAIN);
	close(b);
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	reload_default(_metadata);
}

TEST_F(module, insmod_family_taken_fails)
{
	int ret;

	NEED_MODULE_FILE();
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	expect_load_refused(_metadata, "family=2", EEXIST, "family 2"); /* AF_INET */
	/* AF_INET is untouched */
	ret = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_LE(0, ret);
	close(ret);

	reload_default(_metadata);
}

TEST_F(module, insmod_family_out_of_range_fails)
{
	static const char *const bad[] = { "family=999", "family=0",
					   "family=-1" };
	unsigned int i;

	NEED_MODULE_FILE();
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expect_load_refused(_metadata, bad[i], EINVAL, NULL);
	reload_default(_metadata);
}

TEST_F(module, insmod_other_family_then_default)
{
	char log[16384] = "";
	int kfd, fd;

	NEED_MODULE_FILE();
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	/* 27 is AF_IB: a number with no socket family registered */
	kfd = toy_kmsg_open(false);
	ASSERT_EQ(0, load_module("family=27"));	/* AF_IB: no socket family */
	if (kfd >= 0) {
		toy_kmsg_collect(kfd, log, sizeof(log), NULL);
		EXPECT_TRUE(line_has_both(log, "af_toy", "27")) TH_LOG("dmesg:\n%s", log);
		close(kfd);
	}
	fd = socket(27, SOCK_STREAM, 0);
	EXPECT_LE(0, fd) TH_LOG("socket(27): %s", strerror(errno));
	if (fd >= 0) {
		EXPECT_EQ(27, toy_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
		close(fd);
	}
	EXPECT_ERRNO(EAFNOSUPPORT, socket(AF_TOY, SOCK_STREAM, 0));
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	reload_default(_metadata);
}

TEST_F(module, load_unload_logs_pr_info)
{
	char log[16384] = "";
	int kfd;

	NEED_MODULE_FILE();
	kfd = toy_kmsg_open(false);
	if (kfd < 0)
		SKIP(return, "/dev/kmsg not available");
	ASSERT_EQ(0, toy_module_unload(MODNAME, TOY_WAIT_TRIES));
	ASSERT_EQ(0, load_module(""));
	toy_kmsg_collect(kfd, log, sizeof(log), NULL);
	close(kfd);
	{
		/* one pr_info on unload and one on load, both naming 25 */
		const char *p = log;
		int n = 0;

		while ((p = strstr(p, "af_toy"))) {
			n++;
			p++;
		}
		EXPECT_LE(2, n) TH_LOG("dmesg:\n%s", log);
		EXPECT_TRUE(line_has_both(log, "af_toy", "25"))
			TH_LOG("dmesg:\n%s", log);
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * toy_autoload: with af_toy installed under /lib/modules/$(uname -r) and
 * depmod run (`make install`), a plain socket(AF_TOY, ...) loads af_toy
 * through its net-pf-25 alias (the kernel's request_module() runs
 * /proc/sys/kernel/modprobe), and a NETLINK_SOCK_DIAG request for AF_TOY
 * loads af_toy_diag through net-pf-16-proto-4-type-25.  No insmod.
 *
 * Unloads af_toy_diag and af_toy first (when it can), and skips when the
 * modules are not installed for the running kernel (the normal suite VM
 * has no /lib/modules); `make check-autoload` provides an installed root.
 * Leaves af_toy loaded.
 */
#include "toy_common.h"

#include <sys/utsname.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/toy_diag.h>

#include "kselftest_harness.h"

static bool mod_loaded(const char *name)
{
	FILE *f = fopen("/proc/modules", "re");
	size_t len = strlen(name);
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			found = true;
	fclose(f);
	return found;
}

static int unload(const char *name)
{
	int i;

	for (i = 0; i < TOY_WAIT_TRIES && mod_loaded(name); i++) {
		if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
			return 0;
		if (errno != EBUSY && errno != EAGAIN)
			return -1;
		usleep(TOY_WAIT_USEC);
	}
	return mod_loaded(name) ? -1 : 0;
}

/* Is af_toy in modules.dep of the running kernel? */
static bool installed(char *why, size_t len)
{
	struct utsname u;
	char path[512], line[512];
	bool found = false;
	FILE *f;

	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/af_toy.ko"))
			found = true;
	fclose(f);
	if (!found)
		snprintf(why, len, "af_toy is not in %s", path);
	return found;
}

#define NEED_INSTALLED() do {						\
	char why[600];							\
	if (!installed(why, sizeof(why)))				\
		SKIP(return, "not installed: %s", why);			\
} while (0)

TEST(modprobe_helper_present)
{
	char path[256] = "";
	FILE *f;

	NEED_INSTALLED();
	f = fopen("/proc/sys/kernel/modprobe", "re");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(path, sizeof(path), f));
	fclose(f);
	path[strcspn(path, "\n")] = '\0';
	TH_LOG("kernel.modprobe = %s", path);
	EXPECT_EQ(0, access(path, X_OK));
}

TEST(socket_loads_af_toy)
{
	int fd;

	NEED_INSTALLED();
	ASSERT_EQ(0, unload("af_toy_diag"));
	ASSERT_EQ(0, unload("af_toy"));
	ASSERT_FALSE(mod_loaded("af_toy"));

	fd = socket(AF_TOY, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket(AF_TOY): %s", strerror(errno));
	EXPECT_TRUE(mod_loaded("af_toy"));
	EXPECT_EQ(SOCK_STREAM, toy_getsockopt_int(fd, SOL_SOCKET, SO_TYPE));
	EXPECT_EQ(AF_TOY, toy_getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	close(fd);
}

TEST(each_type_after_autoload)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	unsigned int i;

	NEED_INSTALLED();
	ASSERT_EQ(0, unload("af_toy_diag"));
	ASSERT_EQ(0, unload("af_toy"));
	for (i = 0; i < 3; i++) {
		int fd = socket(AF_TOY, types[i], 0);

		ASSERT_LE(0, fd) TH_LOG("type %d: %s", types[i], strerror(errno));
		close(fd);
	}
	EXPECT_TRUE(mod_loaded("af_toy"));
}

TEST(sock_diag_loads_af_toy_diag)
{
	struct {
		struct nlmsghdr nlh;
		struct toy_diag_req req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = AF_TOY,
			.tdiag_states = TOY_DIAG_ALL_STATES,
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[8192];
	struct nlmsghdr *h;
	int fd, sk, n = 0, done = 0;
	unsigned long ino;

	NEED_INSTALLED();
	ASSERT_EQ(0, unload("af_toy_diag"));
	ASSERT_FALSE(mod_loaded("af_toy_diag"));
	sk = socket(AF_TOY, SOCK_DGRAM, 0);	/* loads af_toy if needed */
	ASSERT_LE(0, sk);
	ino = toy_ino(sk);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(msg), sendto(fd, &msg, sizeof(msg), 0,
				      (struct sockaddr *)&sa, sizeof(sa)));
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		ASSERT_LT(0, len);
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			const struct toy_diag_msg *r = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			ASSERT_NE(NLMSG_ERROR, h->nlmsg_type)
				TH_LOG("sock_diag: %s",
				       strerror(-((struct nlmsgerr *)NLMSG_DATA(h))->error));
			if (r->tdiag_ino == ino)
				n++;
		}
	}
	EXPECT_EQ(1, n);
	EXPECT_TRUE(mod_loaded("af_toy_diag"));
	close(fd);
	close(sk);
}

TEST_HARNESS_MAIN

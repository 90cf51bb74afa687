// SPDX-License-Identifier: GPL-2.0
/*
 * toy_autoload: with af_toy installed under /lib/modules/$(uname -r) and
 * depmod run (`make install`), a plain socket(AF_TOY, ...) loads af_toy
 * through its net-pf-25 alias (the kernel's request_module() runs
 * /proc/sys/kernel/modprobe), and a NETLINK_SOCK_DIAG request for AF_TOY
 * loads af_toy_diag through net-pf-16-proto-4-type-25, and `ip link add
 * toymon0 type toymon` loads af_toy_mon through rtnl-link-toymon.  No
 * insmod.
 *
 * Unloads af_toy_diag and af_toy first (when it can), and skips when the
 * modules are not installed for the running kernel (the normal suite VM
 * has no /lib/modules); `make check-autoload` provides an installed root.
 * Leaves af_toy loaded.
 */
#include "toy_common.h"

#include <sys/utsname.h>
#include <linux/netlink.h>
#include <linux/toy_diag.h>

#include "kselftest_harness.h"

static int unload(const char *name)
{
	if (!toy_module_loaded(name))
		return 0;
	return toy_module_unload(name, TOY_WAIT_TRIES);
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
	ASSERT_FALSE(toy_module_loaded("af_toy"));

	fd = socket(AF_TOY, SOCK_STREAM, 0);
	ASSERT_LE(0, fd) TH_LOG("socket(AF_TOY): %s", strerror(errno));
	EXPECT_TRUE(toy_module_loaded("af_toy"));
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
	EXPECT_TRUE(toy_module_loaded("af_toy"));
}

/* A dump callback: counts the messages about socket inode ino. */
struct ino_count {
	unsigned long ino;
	int n;
};

static int count_ino(const struct toy_diag_msg *r, void *arg)
{
	struct ino_count *c = arg;

	if (r->tdiag_ino == c->ino)
		c->n++;
	return 0;
}

TEST(sock_diag_loads_af_toy_diag)
{
	struct toy_diag_req req = {
		.sdiag_family = AF_TOY,
		.tdiag_states = TOY_DIAG_ALL_STATES,
	};
	struct ino_count c = { 0, 0 };
	int sk, ret;

	NEED_INSTALLED();
	ASSERT_EQ(0, unload("af_toy_diag"));
	ASSERT_FALSE(toy_module_loaded("af_toy_diag"));
	sk = socket(AF_TOY, SOCK_DGRAM, 0);	/* loads af_toy if needed */
	ASSERT_LE(0, sk);
	c.ino = toy_ino(sk);

	ret = toy_diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof(req),
			       count_ino, &c);
	ASSERT_LE(0, ret) TH_LOG("sock_diag: %s", strerror(-ret));
	EXPECT_EQ(1, c.n);
	EXPECT_TRUE(toy_module_loaded("af_toy_diag"));
	close(sk);
}

TEST(link_add_loads_af_toy_mon)
{
	NEED_INSTALLED();
	ASSERT_EQ(0, unload("af_toy_mon"));
	ASSERT_FALSE(toy_module_loaded("af_toy_mon"));
	ASSERT_EQ(0, toy_link_add("toymon0", "toymon", true));
	EXPECT_TRUE(toy_module_loaded("af_toy_mon"));
	EXPECT_EQ(0, toy_link_del("toymon0"));
}

TEST_HARNESS_MAIN

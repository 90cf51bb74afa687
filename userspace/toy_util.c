// SPDX-License-Identifier: GPL-2.0
/*
 * toy_util: the jobs the af_toy tools and selftests share.  The contracts
 * are in toy_util.h, in the same order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "toy_util.h"

/* syslog(2) actions: include/linux/syslog.h, which has no UAPI copy */
#define SYSLOG_ACTION_SIZE_BUFFER	10

#define TOY_UNLOAD_RETRY_USEC	1000
#define TOY_DIAG_BUF		65536	/* larger than any dump skb */
#define TOY_KMSG_REC		2048	/* one /dev/kmsg record */

/* ---- the af_toy module and its family ------------------------------- */

bool toy_family_available(void)
{
	int fd = socket(AF_TOY, SOCK_STREAM, 0);

	if (fd < 0)
		return errno != EAFNOSUPPORT;
	close(fd);
	return true;
}

bool toy_module_loaded(const char *name)
{
	FILE *f = fopen("/proc/modules", "re");
	size_t len = strlen(name), cap = 0;
	char *line = NULL;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = !strncmp(line, name, len) && line[len] == ' ';
	free(line);
	fclose(f);
	return found;
}

int toy_module_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret, err;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	errno = err;
	return ret < 0 ? -1 : 0;
}

int toy_module_unload(const char *name, int tries)
{
	int i;

	for (i = 0; i < tries; i++) {
		if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
			return 0;
		if (errno != EBUSY && errno != EAGAIN)
			return -1;
		if (i + 1 < tries)
			usleep(TOY_UNLOAD_RETRY_USEC);
	}
	return -1;
}

int toy_module_ensure(const char *name, const char *path, char *why,
		      size_t len)
{
	int err;

	if (toy_module_loaded(name))
		return 0;
	if (toy_module_load(path, "") < 0 && errno != EEXIST) {
		err = errno;
		if (why)
			snprintf(why, len, "loading %s: %s (see dmesg)", path,
				 strerror(err));
		errno = err;
		return -1;
	}
	if (!toy_module_loaded(name)) {
		if (why)
			snprintf(why, len, "%s not in /proc/modules after loading %s",
				 name, path);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* ---- addresses and connections -------------------------------------- */

struct sockaddr_toy toy_addr(uint32_t port)
{
	struct sockaddr_toy a;

	memset(&a, 0, sizeof(a));
	a.stoy_family = AF_TOY;
	a.stoy_port = port;
	return a;
}

int toy_fill_backlog(uint32_t port, int *fds, int max)
{
	struct sockaddr_toy a = toy_addr(port);
	int n;

	for (n = 0; n < max; n++) {
		fds[n] = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[n] < 0)
			return -1;
		if (connect(fds[n], (struct sockaddr *)&a, sizeof(a)) < 0) {
			int err = errno;

			close(fds[n]);
			errno = err;
			return err == EAGAIN ? n : -1;
		}
	}
	return n;
}

/* ---- socket state and type names ------------------------------------ */

/* TCP numbering, as the module's toy_state_names[] (af_toy_main.c) */
static const char *const state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSED", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN", [11] = "CLOSING",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *toy_state_name(unsigned int state)
{
	if (state < NSTATES && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

int toy_state_num(const char *name)
{
	unsigned int i;

	for (i = 0; i < NSTATES; i++)
		if (state_names[i] && !strcasecmp(name, state_names[i]))
			return i;
	return -1;
}

const char *toy_type_name(unsigned int type)
{
	switch (type) {
	case SOCK_STREAM: return "STREAM";
	case SOCK_SEQPACKET: return "SEQPACKET";
	case SOCK_DGRAM: return "DGRAM";
	}
	return "UNKNOWN";
}

int toy_type_num(const char *name)
{
	if (!strcasecmp(name, "STREAM"))
		return SOCK_STREAM;
	if (!strcasecmp(name, "SEQPACKET"))
		return SOCK_SEQPACKET;
	if (!strcasecmp(name, "DGRAM"))
		return SOCK_DGRAM;
	return -1;
}

/* ---- /proc/net/toy -------------------------------------------------- */

int toy_proc_parse(const char *line, struct toy_proc_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%lu %15s %15s %lu %lu %lu %lu %lu", &e->ino,
		   e->type, e->state, &e->lport, &e->pport, &e->rq, &e->sq,
		   &e->uid) != 8)
		return -1;
	return 0;
}

int toy_proc_foreach(toy_proc_fn *fn, void *arg)
{
	FILE *f = fopen(AF_TOY_PROC, "re");
	char line[512];
	int ret = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {	/* the header line */
		fclose(f);
		errno = ENODATA;
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		struct toy_proc_entry e;

		line[strcspn(line, "\n")] = '\0';
		if (toy_proc_parse(line, &e) == 0)
			ret = fn(&e, line, arg);
	}
	fclose(f);
	return ret;
}

/* ---- sock_diag (af_toy_diag.ko) ------------------------------------- */

struct proc_diag {
	toy_diag_fn *fn;
	void *arg;
};

static int proc_diag_entry(const struct toy_proc_entry *p, const char *line,
			   void *arg)
{
	int type = toy_type_num(p->type), state = toy_state_num(p->state);
	struct proc_diag *pd = arg;
	struct toy_diag_msg m = {
		.tdiag_family = AF_TOY,
		.tdiag_type = type < 0 ? 0xff : type,
		.tdiag_state = state < 0 ? 0 : state,
		.tdiag_ino = p->ino,
		.tdiag_port = p->lport,
		.tdiag_peer_port = p->pport,
		.tdiag_rqueue = p->rq,
		.tdiag_wqueue = p->sq,
		.tdiag_uid = p->uid,
	};

	(void)line;
	return pd->fn(&m, pd->arg);
}

int toy_proc_foreach_diag(toy_diag_fn *fn, void *arg)
{
	struct proc_diag pd = { fn, arg };

	return toy_proc_foreach(proc_diag_entry, &pd);
}

/*
 * The messages of one recv()ed buffer: 1 at NLMSG_DONE, 0 for more to
 * come, -errno to stop; *n counts the toy_diag_msgs.
 */
static int diag_parse(const char *buf, ssize_t len, toy_diag_fn *fn,
		      void *arg, int *n)
{
	const struct nlmsghdr *h;
	int rc;

	for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, len);
	     h = NLMSG_NEXT(h, len)) {
		const struct toy_diag_msg *r = NLMSG_DATA(h);

		/* a dump that failed partway ends with its -errno here */
		if (h->nlmsg_type == NLMSG_DONE) {
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
			    *(const int *)NLMSG_DATA(h) < 0)
				return *(const int *)NLMSG_DATA(h);
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*r)))
			return -EBADMSG;
		rc = fn(r, arg);
		if (rc < 0)
			return rc;
		(*n)++;
	}
	return 0;
}

int toy_diag_request(uint16_t flags, const struct toy_diag_req *req,
		     size_t reqlen, toy_diag_fn *fn, void *arg)
{
	struct {
		struct nlmsghdr nlh;
		struct toy_diag_req req;
		char pad[16];
	} msg;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char *buf;
	int fd, n = 0, rc = 0;

	if (reqlen > sizeof(msg.req) + sizeof(msg.pad))
		return -EINVAL;
	buf = malloc(TOY_DIAG_BUF);
	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	memset(&msg, 0, sizeof(msg));
	memcpy(&msg.req, req, sizeof(*req));
	msg.nlh.nlmsg_len = NLMSG_LENGTH(reqlen);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = flags;
	msg.nlh.nlmsg_seq = 1;
	if (sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		rc = -errno;
	while (!rc) {
		ssize_t len = recv(fd, buf, TOY_DIAG_BUF, 0);

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			rc = len < 0 ? -errno : 1;
			break;
		}
		rc = diag_parse(buf, len, fn, arg, &n);
	}
	close(fd);
out_free:
	free(buf);
	return rc < 0 ? rc : n;
}

/* ---- the kernel log ------------------------------------------------- */

int toy_kmsg_open(bool whole)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && !whole)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Does text contain every string of match (NULL: no condition)? */
static bool has_all(const char *text, const char *const *match)
{
	for (; match && *match; match++)
		if (!strstr(text, *match))
			return false;
	return true;
}

int toy_kmsg_collect(int kmsg_fd, char *out, size_t len,
		     const char *const *match)
{
	size_t used = strlen(out);
	char rec[TOY_KMSG_REC];
	int n = 0;

	for (;;) {
		/* one record a read: "prio,seq,usec,flags;text\n" */
		ssize_t r = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *msg;

		if (r < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (r <= 0)			/* EAGAIN: no more */
			break;
		rec[r] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (!has_all(msg, match) || used + strlen(msg) + 2 >= len)
			continue;
		used += snprintf(out + used, len - used, "%s\n", msg);
		n++;
	}
	return n;
}

int toy_klog_size(void)
{
	return klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
}

/* ---- the machine ---------------------------------------------------- */

int toy_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0, err;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	err = errno;
	close(fd);
	errno = err;
	return ret < 0 ? -1 : 0;
}

/* Pages freed to the per-CPU lists, which MemAvailable does not count. */
static long pcp_free_kib(void)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[128];
	long pages = 0, n;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	if (f)
		fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static long mem_available_raw_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

void toy_read_word(const char *path, char *buf, size_t len)
{
	char line[512], *b, *e;
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		b = strchr(line, '[');
		b = b ? b + 1 : line;
		e = b + strcspn(b, "] \n");
		if ((size_t)(e - b) < len) {
			memcpy(buf, b, e - b);
			buf[e - b] = '\0';
		}
	}
	fclose(f);
}

long toy_mem_available_kib(void)
{
	long kib = mem_available_raw_kib();

	return kib < 0 ? kib : kib + pcp_free_kib();
}

long toy_mem_settled_kib(int tries, long interval_us, long within_kib)
{
	long prev = toy_mem_available_kib(), cur = prev;
	int i;

	for (i = 0; i < tries; i++) {
		usleep(interval_us);
		cur = toy_mem_available_kib();
		if (labs(cur - prev) < within_kib)
			break;
		prev = cur;
	}
	return cur;
}

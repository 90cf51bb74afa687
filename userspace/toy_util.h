/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_util: the jobs the af_toy tools (userspace/) and the selftests
 * (selftests/, through toy_common.h) share, written once in toy_util.c and
 * linked into every binary as a static archive (userspace/toy_util.mk).
 *
 * Conventions: unless a contract says otherwise a function returns 0 (or
 * a count, an fd) on success and -1 with errno set on failure, prints
 * nothing and never exits, so that a tool, a selftest and a forked helper
 * process can all call it.  Include it after any _GNU_SOURCE definition.
 */
#ifndef TOY_UTIL_H
#define TOY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/toy.h>
#include <linux/toy_diag.h>

#ifndef AF_TOY_PROC
#define AF_TOY_PROC "/proc/net/toy"
#endif

/* ---- the af_toy module and its family ------------------------------- */

/* Is AF_TOY registered (socket(AF_TOY) does not fail with EAFNOSUPPORT)? */
bool toy_family_available(void);
/* Is module name listed in /proc/modules? */
bool toy_module_loaded(const char *name);
/* finit_module() of the .ko at path with params (errno EEXIST: loaded). */
int toy_module_load(const char *path, const char *params);
/* delete_module(name, O_NONBLOCK), tries >= 1 times 1 ms apart while busy. */
int toy_module_unload(const char *name, int tries);
/* Load path unless name is loaded; -1: why (if not NULL) says what failed. */
int toy_module_ensure(const char *name, const char *path, char *why,
		      size_t len);

/* ---- addresses and connections -------------------------------------- */

/* The AF_TOY address of port (host byte order; 0: any). */
struct sockaddr_toy toy_addr(uint32_t port);
/* Non-blocking STREAM connects to port until EAGAIN: how many (<= max). */
int toy_fill_backlog(uint32_t port, int *fds, int max);

/* ---- socket state and type names ------------------------------------ */

/* "ESTABLISHED" for TCP state 1 ..., as /proc/net/toy says; "UNKNOWN". */
const char *toy_state_name(unsigned int state);
/* The TCP state number of a state name (any case), or -1. */
int toy_state_num(const char *name);
/* "STREAM", "SEQPACKET" or "DGRAM" for a SOCK_* type, else "UNKNOWN". */
const char *toy_type_name(unsigned int type);
/* The SOCK_* type of a type name (any case), or -1. */
int toy_type_num(const char *name);

/* ---- /proc/net/toy -------------------------------------------------- */

/* One socket line: "Inode Type State LocalPort PeerPort RecvQ SendQ Uid". */
struct toy_proc_entry {
	unsigned long ino;
	char type[16];
	char state[16];
	unsigned long lport;
	unsigned long pport;
	unsigned long rq;
	unsigned long sq;
	unsigned long uid;
};

/* Parse a socket line of AF_TOY_PROC: 0, or -1 (none, e.g. the header). */
int toy_proc_parse(const char *line, struct toy_proc_entry *e);
/* Called per socket line (without its newline); non-zero stops the walk. */
typedef int toy_proc_fn(const struct toy_proc_entry *e, const char *line,
			void *arg);
/* Walk AF_TOY_PROC: 0 at its end, what stopped fn, or -1 if unreadable. */
int toy_proc_foreach(toy_proc_fn *fn, void *arg);

/* ---- sock_diag (af_toy_diag.ko) ------------------------------------- */

/* Called per toy_diag_msg of a reply; a negative value ends the dump. */
typedef int toy_diag_fn(const struct toy_diag_msg *m, void *arg);
/*
 * One SOCK_DIAG_BY_FAMILY request (nlmsg_flags flags, the first reqlen
 * bytes of *req); fn gets each reply message until NLMSG_DONE.  How many,
 * or -errno: a syscall's, the NLMSG_ERROR's, fn's, EBADMSG (not a reply).
 */
int toy_diag_request(uint16_t flags, const struct toy_diag_req *req,
		     size_t reqlen, toy_diag_fn *fn, void *arg);
/*
 * toy_proc_foreach() with fn of a sock_diag dump: each AF_TOY_PROC entry
 * as a reply message (an unknown type as 0xff, an unknown state as 0).
 */
int toy_proc_foreach_diag(toy_diag_fn *fn, void *arg);

/* ---- the kernel log ------------------------------------------------- */

/* /dev/kmsg, non-blocking: from its oldest record if whole, else from now. */
int toy_kmsg_open(bool whole);
/*
 * Append to out (len bytes, NUL-terminated) the text of every record still
 * unread on kmsg_fd that contains each string of match (NULL-terminated;
 * NULL: every record), a line each, while it fits: how many were appended.
 */
int toy_kmsg_collect(int kmsg_fd, char *out, size_t len,
		     const char *const *match);
/* The kernel log buffer's size (SYSLOG_ACTION_SIZE_BUFFER): all its text. */
int toy_klog_size(void);

/* ---- the machine ---------------------------------------------------- */

/* Bring the loopback interface up if it is down: 0, or -1 if it stays down. */
int toy_lo_up(void);
/*
 * The first word of file @path's first line, or the chosen one of a list
 * that brackets it (tracefs' trace_clock, current_tracer): "" if the file
 * cannot be read or the word does not fit in @len.
 */
void toy_read_word(const char *path, char *buf, size_t len);
/* MemAvailable plus the per-CPU free lists (free, uncounted there), KiB. */
long toy_mem_available_kib(void);
/* It once two readings interval_us apart differ by < within_kib (<= tries). */
long toy_mem_settled_kib(int tries, long interval_us, long within_kib);

#endif /* TOY_UTIL_H */

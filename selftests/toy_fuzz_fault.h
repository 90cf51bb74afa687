/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_fault.h - fault injection for toy_fuzz (TOY_FUZZ_FAILSLAB,
 * TOY_FUZZ_FAILPAGE), included by toy_fuzz.c only.
 *
 * failslab and fail_page_alloc are armed from debugfs for the fuzzer's
 * tasks only (task-filter + make-it-fail per thread) and, where the kernel
 * has the stack trace filter, only for allocations with af_toy code on the
 * stack; disarming reports how many faults were injected.
 */
#ifndef TOY_FUZZ_FAULT_H
#define TOY_FUZZ_FAULT_H

/* ---- fault injection ------------------------------------------------------ */

#define FAILSLAB "/sys/kernel/debug/failslab/"
#define FAILPAGE "/sys/kernel/debug/fail_page_alloc/"
#define FAIL_TIMES 100000000L

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

static long read_long(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

static int fault_write(const char *dir, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s%s", dir, file);
	return write_str(path, val);
}

/*
 * Restrict injection to allocations with af_toy code on the stack (needs
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): the module's address range
 * from /proc/modules.  Returns true if the filter is set.
 */
static bool fault_filter_module(const char *dir)
{
	unsigned long size, addr;
	char buf[32];
	bool ok;

	if (getenv("TOY_FUZZ_FAILSLAB_ALL") || !module_range(&addr, &size))
		return false;
	snprintf(buf, sizeof(buf), "0x%lx", addr);
	ok = !fault_write(dir, "require-start", buf);
	snprintf(buf, sizeof(buf), "0x%lx", addr + size);
	ok = ok && !fault_write(dir, "require-end", buf);
	return ok && !fault_write(dir, "stacktrace-depth", "32");
}

/* failslab or fail_page_alloc (page): for the tasks with make-it-fail only */
static bool fault_arm(const char *dir, long pct, bool page, bool *filtered)
{
	char v[32], t[32];

	if (pct <= 0 || access(dir, W_OK))
		return false;
	*filtered = fault_filter_module(dir);
	snprintf(v, sizeof(v), "%ld", pct);
	snprintf(t, sizeof(t), "%ld", FAIL_TIMES);
	/* never a user page: a page fault of ours would call the OOM killer */
	if (page && (fault_write(dir, "ignore-gfp-highmem", "Y") ||
		     fault_write(dir, "min-order", "0")))
		return false;
	return !fault_write(dir, "task-filter", "Y") &&
	       !fault_write(dir, "ignore-gfp-wait", "N") &&
	       !fault_write(dir, "verbose", "0") &&
	       !fault_write(dir, "interval", "1") &&
	       !fault_write(dir, "space", "0") &&
	       !fault_write(dir, "times", t) &&
	       !fault_write(dir, "probability", v);
}

static long fault_disarm(const char *dir)
{
	char path[128];
	long left;

	snprintf(path, sizeof(path), "%stimes", dir);
	left = read_long(path);
	fault_write(dir, "probability", "0");
	fault_write(dir, "times", "1");
	fault_write(dir, "require-start", "0");
	fault_write(dir, "require-end", "0");
	return left < 0 ? -1 : FAIL_TIMES - left;
}

/* This task's make-it-fail (no-op when nothing is armed). */
static void set_make_it_fail(bool on)
{
	if (inject_armed)
		write_str("/proc/thread-self/make-it-fail", on ? "1" : "0");
}

#endif /* TOY_FUZZ_FAULT_H */

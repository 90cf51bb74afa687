// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow --kernel: the kernel path of the traced command's socket calls,
 * one indented call tree per system call, each step annotated:
 *
 *   socket(AF_TOY, SOCK_STREAM, 0) = 3            [toy_echo pid 175]
 *     __x64_sys_socket          system call entry
 *       __sys_socket
 *         __sock_create         socket creation: the family's create()
 *           sock_alloc          sockfs inode 1223 created
 *           ...
 *           toy_create          af_toy creates the sock
 *       sock_alloc_file         file socket:[1223] for the inode
 *       fd_install              file installed as fd 3
 *
 * How it is recorded (tracefs, root):
 *
 *   - the function_graph tracer, restricted with set_ftrace_filter to the
 *     socket layer (the functions of net/socket.c the calls go through),
 *     the sockfs and file helpers they call (inode: new_inode_pseudo,
 *     get_next_ino; file: alloc_file_pseudo; fd: get_unused_fd_flags,
 *     fd_install, close_fd, __fput) and af_toy's own functions
 *     ("toy_*:mod:af_toy").  Only the filtered functions are recorded, so
 *     the graph's nesting is the nesting among them: a compact tree.  The
 *     names of both kernels are listed; those a kernel does not have (they
 *     differ between 6.1 and 6.12, or got inlined) are left out after a
 *     look at available_filter_functions;
 *   - set_ftrace_pid and set_event_pid name the command's first task,
 *     function-fork and event-fork add its children;
 *   - raw_syscalls:sys_enter/sys_exit delimit the system calls and give
 *     their arguments and return values (the fd socket() and accept()
 *     return).  Events show up in the function_graph output as comments,
 *     at the point they fired;
 *   - the inode number: function_graph shows neither arguments nor return
 *     values on 6.1 (funcgraph-retval is 6.5+ and would print a pointer),
 *     and reading inode->i_ino through a kprobe fetcharg needs structure
 *     offsets that depend on the kernel's configuration.  But sock_alloc()
 *     numbers the new sockfs inode with get_next_ino(), an exported
 *     function of fs/inode.c called out of line on every kernel: a
 *     kretprobe event on it ("toyflow/ino", ino=$retval:u32) records the
 *     very number /proc/PID/fd shows as socket:[N] and fstat() as st_ino,
 *     inside the sock_alloc() node of the call that created it.  No
 *     offsets, the same on 6.1 and 6.12.  Calls on an existing socket get
 *     its inode from af_toy's toy:toy_call_enter event;
 *   - close(): the last fput() of a file is deferred to the return to user
 *     space (task_work), so sock_close() runs after sys_exit: what a task
 *     runs after a call's exit and before its next call belongs to that
 *     call ("on the way back to user space").
 *
 * Afterwards every tracefs file it wrote is put back to what it held
 * before (tfs_set(), tfs_undo()) and its kprobe event is removed; also
 * when the set-up fails partway, when only what it got to change is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kernel.h"
#include "toyflow.h"

/* What set_ftrace_filter gets: the socket layer (net/socket.c). */
const char *const sock_fns[] = {
	"__sys_socket", "__sys_socket_file", "sock_create", "__sock_create",
	"sock_alloc", "sock_alloc_inode", "sock_alloc_file", "sock_from_file",
	"sockfd_lookup_light", "__sys_socketpair",
	"__sys_bind", "__sys_bind_socket", "__sys_listen",
	"__sys_listen_socket", "__sys_connect", "__sys_connect_file",
	"__sys_accept4", "do_accept", "move_addr_to_kernel",
	"__sys_sendto", "__sys_recvfrom", "__sys_sendmsg", "__sys_recvmsg",
	"sock_sendmsg", "sock_recvmsg", "sock_read_iter", "sock_write_iter",
	"__sys_shutdown", "__sys_shutdown_sock", "__sys_getsockname",
	"__sys_getpeername", "__sys_setsockopt", "__sys_getsockopt",
	"sock_close", "__sock_release", "sock_release",
};

const size_t n_sock_fns = sizeof(sock_fns) / sizeof(sock_fns[0]);

/* ... the sockfs inode, file and fd helpers it calls ... */
const char *const file_fns[] = {
	"new_inode_pseudo", "get_next_ino", "alloc_file_pseudo",
	"get_unused_fd_flags", "fd_install", "close_fd", "file_close_fd",
	"__fput",
};
const size_t n_file_fns = sizeof(file_fns) / sizeof(file_fns[0]);


/* ... and the system calls' entry points. */
static const char *const sys_names[] = {
	"socket", "socketpair", "bind", "listen", "connect", "accept",
	"accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown",
	"close", "read", "write", "getsockname", "getpeername", "setsockopt",
	"getsockopt",
};

/* x86-64 syscall numbers (raw_syscalls give numbers) -> names. */
static const struct {
	long nr;
	const char *name;
} nr_names[] = {
	{ SYS_socket, "socket" }, { SYS_socketpair, "socketpair" },
	{ SYS_bind, "bind" }, { SYS_listen, "listen" },
	{ SYS_connect, "connect" }, { SYS_accept, "accept" },
	{ SYS_accept4, "accept4" }, { SYS_sendto, "sendto" },
	{ SYS_recvfrom, "recvfrom" }, { SYS_sendmsg, "sendmsg" },
	{ SYS_recvmsg, "recvmsg" }, { SYS_shutdown, "shutdown" },
	{ SYS_close, "close" }, { SYS_read, "read" }, { SYS_write, "write" },
	{ SYS_readv, "readv" }, { SYS_writev, "writev" },
	{ SYS_getsockname, "getsockname" }, { SYS_getpeername, "getpeername" },
	{ SYS_setsockopt, "setsockopt" }, { SYS_getsockopt, "getsockopt" },
	{ SYS_exit, "exit" }, { SYS_exit_group, "exit_group" },
	{ SYS_dup2, "dup2" }, { SYS_dup3, "dup3" }, { SYS_execve, "execve" },
	{ SYS_poll, "poll" }, { SYS_ppoll, "ppoll" }, { SYS_fcntl, "fcntl" },
	{ SYS_ioctl, "ioctl" }, { SYS_close_range, "close_range" },
};


#define KPROBE "toyflow/ino"

static const char *const opt_names[] = {
	"funcgraph-proc", "funcgraph-cpu", "funcgraph-duration",
	"funcgraph-overhead", "funcgraph-tail", "funcgraph-irqs",
	"funcgraph-abstime", "function-fork", "event-fork",
};
static const char opt_want[] = { 1, 1, 1, 1, 1, 0, 0, 1, 1 };
static bool kprobe_made, toy_events;

bool in_list(const char *fn, const char *const *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(fn, l[i]))
			return true;
	return false;
}

bool is_toy(const char *fn)
{
	return !strncmp(fn, "toy_", 4);
}

const char *nr_name(long nr)
{
	size_t i;

	for (i = 0; i < sizeof(nr_names) / sizeof(nr_names[0]); i++)
		if (nr_names[i].nr == nr)
			return nr_names[i].name;
	return NULL;
}

static bool has_graph_tracer(void)
{
	char buf[1024] = "";
	FILE *f = tfs_open("available_tracers", true);

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "function_graph") != NULL;
}

/*
 * set_ftrace_filter: the listed functions this kernel has (a name it does
 * not know would fail the whole write), then af_toy's.
 */
static int set_filter(void)
{
	char line[256], *filter;
	size_t len = 0, cap = 4096, i;
	FILE *f = tfs_open("available_filter_functions", false);

	if (!f)
		return -1;
	filter = xrealloc(NULL, cap);
	snprintf(filter, cap, " ");
	len = 1;
	while (fgets(line, sizeof(line), f)) {
		char fn[128], sys[80];
		bool want;

		if (sscanf(line, "%127s", fn) != 1 || strchr(line, '['))
			continue;
		want = IN(fn, sock_fns) || IN(fn, file_fns);
		for (i = 0; !want && i < sizeof(sys_names) / sizeof(sys_names[0]); i++) {
			snprintf(sys, sizeof(sys), "__x64_sys_%s", sys_names[i]);
			want = !strcmp(fn, sys);
		}
		snprintf(sys, sizeof(sys), " %.70s ", fn);
		if (!want || strstr(filter, sys))	/* listed twice */
			continue;
		if (len + strlen(fn) + 2 >= cap)
			filter = xrealloc(filter, cap *= 2);
		len += sprintf(filter + len, "%s ", fn);
	}
	fclose(f);
	if (tfs_set("set_ftrace_filter", "", false)) {
		free(filter);
		return -1;
	}
	if (tfs_append("set_ftrace_filter", filter)) {
		fprintf(stderr, "toyflow: set_ftrace_filter '%s': %s\n",
			filter, strerror(errno));
		free(filter);
		return -1;
	}
	free(filter);
	if (toy_events) {
		if (tfs_append("set_ftrace_filter", "toy_*:mod:af_toy")) {
			fprintf(stderr, "toyflow: af_toy's functions cannot be "
				"traced (%s)\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The options a kernel has (6.1 and 6.12 differ); the others are left. */
static void set_options(void)
{
	char file[80];
	size_t i;

	for (i = 0; i < sizeof(opt_want); i++) {
		snprintf(file, sizeof(file), "options/%s", opt_names[i]);
		tfs_set(file, opt_want[i] ? "1" : "0", true);
	}
}

/*
 * What was changed, back as it was (tfs_undo(): the kprobe event's
 * enable too, which it must be before the event can go).
 */
static void kernel_restore(void)
{
	tfs_undo();
	if (kprobe_made) {
		tfs_append("kprobe_events", "-:" KPROBE);
		kprobe_made = false;
	}
}

static int make_kprobe(void)
{
	/* a leftover of an earlier run that was killed */
	tfs_append("kprobe_events", "-:" KPROBE);
	if (tfs_append("kprobe_events",
		       "r:" KPROBE " get_next_ino ino=$retval:u32")) {
		fprintf(stderr, "toyflow: cannot add a kretprobe event on "
			"get_next_ino to %s/kprobe_events: %s\n", tracefs,
			strerror(errno));
		return -1;
	}
	kprobe_made = true;
	return tfs_set("events/" KPROBE "/enable", "1", false);
}

/* Everything but the pid and the tracer: 0 or -1. */
static int kernel_setup(void)
{
	char path[PATH_MAX];

	if (tfs_find("current_tracer", "no writable current_tracer in "
		     "/sys/kernel/tracing (tracefs mounted? root?)"))
		return -1;
	if (!has_graph_tracer()) {
		fprintf(stderr, "toyflow: this kernel has no function_graph "
			"tracer (CONFIG_FUNCTION_GRAPH_TRACER)\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/events/toy/toy_call_enter/enable",
		 tracefs);
	toy_events = access(path, W_OK) == 0;
	if (!toy_events)
		fprintf(stderr, "toyflow: af_toy is not loaded: its functions "
			"are not shown\n");
	tfs_set("tracing_on", "0", false);
	tfs_set("current_tracer", "nop", false);
	set_options();
	tfs_set("trace_clock", "global", true);
	if (set_filter() || make_kprobe())
		return -1;
	if (tfs_set_events("events/raw_syscalls", "1", false))
		return -1;
	if (toy_events) {
		tfs_set("events/toy/toy_call_enter/enable", "1", false);
		tfs_set("events/toy/toy_state/enable", "1", false);
		tfs_set("events/toy/toy_segment/enable", "1", false);
	}
	return tfs_write("trace", "", false);	/* clears the buffer */
}

int kernel_trace(char **cmd, const char *want, bool raw)
{
	char pidbuf[24];
	int go = -1, rc;
	pid_t pid;

	if (kernel_setup()) {
		kernel_restore();	/* what it got to change */
		return -1;
	}
	pid = spawn_held(cmd, &go);
	if (pid < 0) {
		kernel_restore();
		return -1;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	if (tfs_set("set_ftrace_pid", pidbuf, false) ||
	    tfs_set("set_event_pid", pidbuf, false) ||
	    tfs_set("current_tracer", "function_graph", false) ||
	    tfs_set("tracing_on", "1", false)) {
		close(go);	/* the child exits without running */
		wait_status(pid);
		kernel_restore();
		return -1;
	}
	if (write(go, "g", 1) != 1)
		perror("toyflow: release the command");
	close(go);
	rc = wait_status(pid);
	tfs_write("tracing_on", "0", false);
	/* the trace is formatted by the current tracer: read it first */
	if (kernel_read(raw) || kernel_print(want))
		rc = rc ? rc : 1;
	kernel_restore();
	return rc;
}

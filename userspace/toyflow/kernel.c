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
 * Afterwards the tracer, the options, the clock and tracing_on are put
 * back as they were; the function filter, the pid filters, the events it
 * enabled and its kprobe event are cleared.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "toyflow.h"

/* What set_ftrace_filter gets: the socket layer (net/socket.c). */
static const char *const sock_fns[] = {
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

/* ... the sockfs inode, file and fd helpers it calls ... */
static const char *const file_fns[] = {
	"new_inode_pseudo", "get_next_ino", "alloc_file_pseudo",
	"get_unused_fd_flags", "fd_install", "close_fd", "file_close_fd",
	"__fput",
};

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

/*
 * What each step means.  %I: the call's inode number, %F: its fd.  A
 * function not listed here is shown without a note.
 */
static const struct {
	const char *fn, *note;
} notes[] = {
	{ "__sys_socket", "socket(): create a socket, then give it an fd" },
	{ "__sock_create", "socket creation: the family's create()" },
	{ "sock_alloc", "sockfs inode %I created (struct socket + inode)" },
	{ "new_inode_pseudo", "an inode of the sockfs pseudo-filesystem" },
	{ "sock_alloc_inode", "sockfs allocates struct socket_alloc" },
	{ "get_next_ino", "inode number %I" },
	{ "toy_create", "af_toy creates the sock" },
	{ "sock_alloc_file", "file socket:[%I] for the inode" },
	{ "alloc_file_pseudo", "struct file on a sockfs dentry" },
	{ "get_unused_fd_flags", "a free fd is reserved" },
	{ "fd_install", "file installed as fd %F" },
	{ "do_accept", "new socket and file, then the family's accept()" },
	{ "toy_accept", "af_toy accept: the queued connection's sock is "
			"grafted onto the new socket" },
	{ "sock_from_file", "fd's file -> struct socket" },
	{ "sockfd_lookup_light", "fd -> struct socket" },
	{ "move_addr_to_kernel", "copy the address in" },
	{ "toy_bind", "af_toy binds the port" },
	{ "toy_listen", "af_toy: LISTEN" },
	{ "toy_connect", "af_toy connects: SYN, SYN-ACK, ACK" },
	{ "toy_dgram_connect", "af_toy sets the datagram peer" },
	{ "sock_read_iter", "read() of a socket file" },
	{ "sock_write_iter", "write() to a socket file" },
	{ "sock_recvmsg", "LSM check, then the family's recvmsg()" },
	{ "sock_sendmsg", "LSM check, then the family's sendmsg()" },
	{ "toy_recvmsg", "af_toy receives" },
	{ "toy_sendmsg", "af_toy sends" },
	{ "toy_dgram_recvmsg", "af_toy receives a datagram" },
	{ "toy_dgram_sendmsg", "af_toy sends a datagram" },
	{ "toy_shutdown", "af_toy shuts down" },
	{ "toy_dgram_shutdown", "af_toy shuts down" },
	{ "close_fd", "fd %F is removed from the fd table" },
	{ "file_close_fd", "fd %F is removed from the fd table" },
	{ "__fput", "the last reference: the file is released" },
	{ "sock_close", "the socket file's release()" },
	{ "__sock_release", "the family's release(), then the inode goes" },
	{ "toy_release", "af_toy releases the sock" },
	{ "toy_dgram_release", "af_toy releases the sock" },
};

#define KPROBE "toyflow/ino"

/* One function of a call's tree. */
struct knode {
	char fn[64];
	char ev[48];		/* af_toy's event inside: state change, segment */
	unsigned long ev_ino;	/* ... of this socket */
	int depth;
	bool after_exit;	/* on the way back to user space */
};

/* One system call of one task, and what ran in it. */
struct kcall {
	int pid;
	char comm[16];
	long nr;
	unsigned long args[3];
	long ret;
	bool returned;
	bool sock;		/* a socket-layer function ran in it */
	unsigned long ino;	/* the socket's sockfs inode, 0: unknown */
	bool ino_new;		/* created in this call (get_next_ino) */
	struct knode *n;
	int nn, cap;
};

static struct kcall *calls;
static int ncalls, cap_calls;

/* Per task: its current call and nesting depth. */
#define MAXDEPTH 64
static struct ktask {
	int pid;
	int call;		/* index into calls[], -1: none */
	int depth;
	int open[MAXDEPTH];	/* node index of each open function */
} tasks[256];
static int ntasks;

static char avail_path[PATH_MAX];
static char saved_tracer[32], saved_clock[32], saved_on[8];
static const char *const opt_names[] = {
	"funcgraph-proc", "funcgraph-cpu", "funcgraph-duration",
	"funcgraph-overhead", "funcgraph-tail", "funcgraph-irqs",
	"funcgraph-abstime", "function-fork", "event-fork",
};
static const char opt_want[] = { 1, 1, 1, 1, 1, 0, 0, 1, 1 };
static int opt_saved[sizeof(opt_want)];
static bool kprobe_made, toy_events;

/*
 * Append to a tracefs file (tfs_write() truncates): 0 or -1.  The
 * filter files take one name per write(), returning a short count: the
 * rest is written again, as a shell's echo does.
 */
static int tfs_append(const char *file, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -1;
	while (len) {
		n = write(fd, val, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		val += n;
		len -= n;
	}
	close(fd);
	return rc;
}

static bool in_list(const char *fn, const char *const *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(fn, l[i]))
			return true;
	return false;
}

#define IN(fn, l) in_list(fn, l, sizeof(l) / sizeof(l[0]))

static bool is_toy(const char *fn)
{
	return !strncmp(fn, "toy_", 4);
}

static const char *nr_name(long nr)
{
	size_t i;

	for (i = 0; i < sizeof(nr_names) / sizeof(nr_names[0]); i++)
		if (nr_names[i].nr == nr)
			return nr_names[i].name;
	return NULL;
}

/* The first word of a tracefs file (bracketed one for trace_clock). */
static void tfs_read_word(const char *file, char *buf, size_t len)
{
	char path[PATH_MAX], line[512], *b, *e;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	f = fopen(path, "r");
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

static int find_tracefs_graph(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/current_tracer", dirs[i]);
		if (access(path, W_OK) == 0) {
			tracefs = dirs[i];
			snprintf(avail_path, sizeof(avail_path),
				 "%s/available_tracers", tracefs);
			return 0;
		}
	}
	fprintf(stderr, "toyflow: no writable current_tracer in "
		"/sys/kernel/tracing (tracefs mounted? root?)\n");
	return -1;
}

static bool has_graph_tracer(void)
{
	char buf[1024] = "";
	FILE *f = fopen(avail_path, "r");

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
	char path[PATH_MAX], line[256], *filter;
	size_t len = 0, cap = 4096, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/available_filter_functions", tracefs);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
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
	tfs_write("set_ftrace_filter", "", true);
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

static void set_options(bool restore)
{
	char file[80], v[8];
	size_t i;

	for (i = 0; i < sizeof(opt_want); i++) {
		snprintf(file, sizeof(file), "options/%s", opt_names[i]);
		if (!restore) {
			tfs_read_word(file, v, sizeof(v));
			opt_saved[i] = v[0] ? v[0] == '1' : -1;
			if (opt_saved[i] >= 0)
				tfs_write(file, opt_want[i] ? "1" : "0", true);
		} else if (opt_saved[i] >= 0) {
			tfs_write(file, opt_saved[i] ? "1" : "0", true);
		}
	}
}

static void kernel_restore(void)
{
	tfs_write("tracing_on", "0", true);
	tfs_write("events/raw_syscalls/enable", "0", true);
	if (toy_events) {
		tfs_write("events/toy/toy_call_enter/enable", "0", true);
		tfs_write("events/toy/toy_state/enable", "0", true);
		tfs_write("events/toy/toy_segment/enable", "0", true);
	}
	if (kprobe_made) {
		tfs_write("events/" KPROBE "/enable", "0", true);
		tfs_append("kprobe_events", "-:" KPROBE);
		kprobe_made = false;
	}
	tfs_write("current_tracer", saved_tracer[0] ? saved_tracer : "nop",
		  true);
	tfs_write("set_ftrace_filter", "", true);
	tfs_write("set_ftrace_pid", "", true);
	tfs_write("set_event_pid", "", true);
	set_options(true);
	if (saved_clock[0])
		tfs_write("trace_clock", saved_clock, true);
	tfs_write("tracing_on", saved_on[0] == '0' ? "0" : "1", true);
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
	return tfs_write("events/" KPROBE "/enable", "1", false);
}

/* Everything but the pid and the tracer: 0 or -1. */
static int kernel_setup(void)
{
	char path[PATH_MAX];

	if (find_tracefs_graph())
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
	tfs_read_word("current_tracer", saved_tracer, sizeof(saved_tracer));
	tfs_read_word("trace_clock", saved_clock, sizeof(saved_clock));
	tfs_read_word("tracing_on", saved_on, sizeof(saved_on));
	tfs_write("tracing_on", "0", false);
	tfs_write("current_tracer", "nop", false);
	set_options(false);
	tfs_write("trace_clock", "global", true);
	if (set_filter() || make_kprobe())
		return -1;
	if (tfs_write("events/raw_syscalls/enable", "1", false))
		return -1;
	if (toy_events) {
		tfs_write("events/toy/toy_call_enter/enable", "1", false);
		tfs_write("events/toy/toy_state/enable", "1", false);
		tfs_write("events/toy/toy_segment/enable", "1", false);
	}
	return tfs_write("trace", "", false);	/* clears the buffer */
}

/* ------------------------------------------------------------ parsing */

static struct ktask *task_of(int pid)
{
	int i;

	for (i = 0; i < ntasks; i++)
		if (tasks[i].pid == pid)
			return &tasks[i];
	if (ntasks == (int)(sizeof(tasks) / sizeof(tasks[0])))
		return NULL;
	tasks[ntasks].pid = pid;
	tasks[ntasks].call = -1;
	tasks[ntasks].depth = 0;
	return &tasks[ntasks++];
}

static void new_call(struct ktask *t, const char *comm, long nr,
		     const unsigned long *args)
{
	struct kcall *c;

	if (ncalls == cap_calls) {
		cap_calls = cap_calls ? 2 * cap_calls : 256;
		calls = xrealloc(calls, cap_calls * sizeof(*calls));
	}
	c = &calls[ncalls];
	memset(c, 0, sizeof(*c));
	c->pid = t->pid;
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	c->nr = nr;
	memcpy(c->args, args, sizeof(c->args));
	t->call = ncalls++;
	t->depth = 0;
}

static void add_node(struct ktask *t, const char *fn)
{
	struct kcall *c = &calls[t->call];
	struct knode *n;

	if (c->nn == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 32;
		c->n = xrealloc(c->n, c->cap * sizeof(*c->n));
	}
	n = &c->n[c->nn++];
	snprintf(n->fn, sizeof(n->fn), "%s", fn);
	n->depth = t->depth;
	n->after_exit = c->returned;
	if (IN(fn, sock_fns))
		c->sock = true;
	if (t->depth < MAXDEPTH)
		t->open[t->depth] = c->nn - 1;
}

/* The innermost open function of task t's call, or NULL. */
static struct knode *open_node(struct ktask *t)
{
	int d = t->depth - 1;

	if (t->call < 0 || d < 0 || d >= MAXDEPTH ||
	    t->open[d] >= calls[t->call].nn)
		return NULL;
	return &calls[t->call].n[t->open[d]];
}

/* An event, printed as a comment: "/\* name: body *\/". */
static void parse_comment(struct ktask *t, const char *comm, const char *s)
{
	unsigned long a[3] = { 0, 0, 0 }, ino;
	struct knode *n;
	const char *p;
	long nr, ret;

	if (sscanf(s, "/* sys_enter: NR %ld (%lx, %lx, %lx", &nr, &a[0], &a[1],
		   &a[2]) == 4) {
		new_call(t, comm, nr, a);
	} else if (sscanf(s, "/* sys_exit: NR %ld = %ld", &nr, &ret) == 2) {
		if (t->call >= 0 && calls[t->call].nr == nr) {
			calls[t->call].ret = ret;
			calls[t->call].returned = true;
		}
	} else if (t->call >= 0 && !strncmp(s, "/* ino: ", 8) &&
		   (p = strstr(s, " ino=")) && sscanf(p, " ino=%lu", &ino) == 1) {
		/* the first number a socket call drew is its new inode */
		if (!calls[t->call].ino_new) {
			calls[t->call].ino = ino;
			calls[t->call].ino_new = true;
		}
	} else if (t->call >= 0 && !strncmp(s, "/* toy_call_enter: ", 19) &&
		   (p = strstr(s, " ino=")) && sscanf(p, " ino=%lu", &ino) == 1) {
		if (!calls[t->call].ino)
			calls[t->call].ino = ino;
	} else if (!strncmp(s, "/* toy_state: ", 14) && (n = open_node(t)) &&
		   (p = strstr(s, " pport="))) {
		/* "ino=N type=.. lport=.. pport=N OLD -> NEW" */
		n->ev_ino = strtoul(s + 18, NULL, 10);
		p = strchr(p + 1, ' ');
		if (p)
			snprintf(n->ev, sizeof(n->ev), "%.*s",
				 (int)strcspn(p + 1, "*") - 1, p + 1);
	} else if (!strncmp(s, "/* toy_segment: ", 16) && (n = open_node(t))) {
		/* "KIND sport=.. dport=.. len=.. ino=N" */
		p = strstr(s, " ino=");
		n->ev_ino = p ? strtoul(p + 5, NULL, 10) : 0;
		snprintf(n->ev, sizeof(n->ev), "sends %.*s",
			 (int)strcspn(s + 16, " "), s + 16);
	}
}

/*
 * One function_graph line (options cpu, proc, duration, tail):
 *   " 1)  toy_ech-175   |   0.345 us    |      get_next_ino();"
 *   " 1)  toy_ech-175   |               |    __sys_socket() {"
 *   " 1)  toy_ech-175   | + 12.34 us    |    } /\* __sys_socket *\/"
 *   " 1)  toy_ech-175   |               |  /\* sys_exit: NR 41 = 3 *\/"
 */
static void parse_line(const char *line)
{
	const char *bar1 = strchr(line, '|'), *bar2, *s, *dash, *q;
	char comm[16] = "", fn[64];
	struct ktask *t;
	int pid;
	size_t l;

	if (!bar1 || !(bar2 = strchr(bar1 + 1, '|')))
		return;
	/* "cpu)  comm-pid   ": the pid follows the last '-' */
	q = strchr(line, ')');
	if (!q || q > bar1)
		return;
	q++;
	while (*q == ' ')
		q++;
	dash = NULL;
	for (s = q; s < bar1 && *s != ' '; s++)
		if (*s == '-')
			dash = s;
	if (!dash)
		return;
	pid = atoi(dash + 1);
	l = dash - q < (long)sizeof(comm) ? (size_t)(dash - q) : sizeof(comm) - 1;
	memcpy(comm, q, l);
	comm[l] = '\0';
	t = task_of(pid);
	if (!t)
		return;
	s = bar2 + 1;
	while (*s == ' ')
		s++;
	if (!strncmp(s, "/*", 2)) {
		parse_comment(t, comm, s);
		return;
	}
	if (*s == '}') {
		if (t->depth > 0)
			t->depth--;
		return;
	}
	if (t->call < 0 || sscanf(s, "%63[^( ]", fn) != 1)
		return;
	add_node(t, fn);
	if (strstr(s, ") {"))
		t->depth++;
}

/* function_graph cuts names to 7 characters: saved_cmdlines has 15. */
static void full_comms(void)
{
	char path[PATH_MAX], comm[16];
	FILE *f;
	int pid, i;

	snprintf(path, sizeof(path), "%s/saved_cmdlines", tracefs);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%d %15s", &pid, comm) == 2)
		for (i = 0; i < ncalls; i++)
			if (calls[i].pid == pid &&
			    !strncmp(calls[i].comm, comm, strlen(calls[i].comm)))
				snprintf(calls[i].comm, sizeof(calls[i].comm),
					 "%s", comm);
	fclose(f);
}

static int kernel_read(bool raw)
{
	char path[PATH_MAX], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (raw)
		printf("\n== raw function_graph trace (%s)\n", path);
	while (fgets(line, sizeof(line), f)) {
		if (raw)
			fputs(line, stdout);
		if (strstr(line, "LOST") && strstr(line, "EVENTS"))
			lost_lines++;
		parse_line(line);
	}
	fclose(f);
	full_comms();
	if (lost_lines)
		fprintf(stderr, "toyflow: the trace buffer overflowed: "
			"%d gaps\n", lost_lines);
	return 0;
}

/* ----------------------------------------------------------- printing */

static const char *family_name(unsigned long f)
{
	static char buf[24];

	switch (f) {
	case 1: return "AF_UNIX";
	case 2: return "AF_INET";
	case 10: return "AF_INET6";
	case 25: return "AF_TOY";
	}
	snprintf(buf, sizeof(buf), "%lu", f);
	return buf;
}

static const char *type_name(unsigned long t)
{
	static char buf[64];

	switch (t & 0xf) {
	case 1: snprintf(buf, sizeof(buf), "SOCK_STREAM"); break;
	case 2: snprintf(buf, sizeof(buf), "SOCK_DGRAM"); break;
	case 5: snprintf(buf, sizeof(buf), "SOCK_SEQPACKET"); break;
	default: snprintf(buf, sizeof(buf), "%lu", t & 0xf);
	}
	if (t & 02000000)
		strcat(buf, "|SOCK_CLOEXEC");
	if (t & 04000)
		strcat(buf, "|SOCK_NONBLOCK");
	return buf;
}

static bool is_new_fd_call(const struct kcall *c)
{
	return c->nr == SYS_socket || c->nr == SYS_accept ||
	       c->nr == SYS_accept4;
}

/* Data calls are shown one level deep: af_toy's entry, not below. */
static bool is_data_call(const struct kcall *c)
{
	return c->nr == SYS_read || c->nr == SYS_write ||
	       c->nr == SYS_readv || c->nr == SYS_writev ||
	       c->nr == SYS_sendto || c->nr == SYS_recvfrom ||
	       c->nr == SYS_sendmsg || c->nr == SYS_recvmsg;
}

static void print_header(const struct kcall *c)
{
	const char *name = nr_name(c->nr);
	char call[160], ret[32];

	if (!name)
		snprintf(call, sizeof(call), "syscall %ld", c->nr);
	else if (c->nr == SYS_socket)
		snprintf(call, sizeof(call), "socket(%s, %s, %lu)",
			 family_name(c->args[0]), type_name(c->args[1]),
			 c->args[2]);
	else if (c->nr == SYS_exit_group || c->nr == SYS_exit ||
		 c->nr == SYS_close)
		snprintf(call, sizeof(call), "%s(%d)", name, (int)c->args[0]);
	else if (c->nr == SYS_listen)
		snprintf(call, sizeof(call), "listen(%d, %d)", (int)c->args[0],
			 (int)c->args[1]);
	else if (c->nr == SYS_shutdown)
		snprintf(call, sizeof(call), "shutdown(%d, %s)",
			 (int)c->args[0], c->args[1] == SHUT_RD ? "SHUT_RD" :
			 c->args[1] == SHUT_WR ? "SHUT_WR" : "SHUT_RDWR");
	else
		snprintf(call, sizeof(call), "%s(%d, ...)", name,
			 (int)c->args[0]);
	if (c->returned)
		snprintf(ret, sizeof(ret), " = %ld", c->ret);
	else
		ret[0] = '\0';
	printf("\n%s%s", call, ret);
	if (c->ino)
		printf("   socket:[%lu]", c->ino);
	printf("   (%s pid %d)\n", c->comm, c->pid);
}

/* The note of fn in call c, expanded, or NULL. */
static const char *note_of(const struct kcall *c, const struct knode *n,
			   char *buf, size_t len)
{
	const char *tmpl = NULL, *p;
	size_t i, off = 0;
	long fd = is_new_fd_call(c) ? c->ret : (long)(int)c->args[0];

	if (!strncmp(n->fn, "__x64_sys_", 10))
		tmpl = "system call entry";
	for (i = 0; !tmpl && i < sizeof(notes) / sizeof(notes[0]); i++)
		if (!strcmp(n->fn, notes[i].fn))
			tmpl = notes[i].note;
	if (!tmpl)
		return NULL;
	/* a note that needs a number the trace did not give is left out */
	if ((strstr(tmpl, "%I") && !c->ino) ||
	    (strstr(tmpl, "%F") && (fd < 0 || !c->returned)))
		return NULL;
	for (p = tmpl; *p && off + 24 < len; p++) {
		if (p[0] == '%' && p[1] == 'I') {
			off += snprintf(buf + off, len - off, "%lu", c->ino);
			p++;
		} else if (p[0] == '%' && p[1] == 'F') {
			off += snprintf(buf + off, len - off, "%ld", fd);
			p++;
		} else {
			buf[off++] = *p;
		}
	}
	buf[off] = '\0';
	if (n->after_exit && !strcmp(n->fn, "__fput"))
		snprintf(buf + off, len - off,
			 " (on the way back to user space)");
	return buf;
}

/* Has a node of the subtree of c->n[i] an af_toy event? */
static bool subtree_has_ev(const struct kcall *c, int i)
{
	int j;

	for (j = i; j < c->nn && (j == i || c->n[j].depth > c->n[i].depth); j++)
		if (c->n[j].ev[0])
			return true;
	return false;
}

/*
 * af_toy's part is shown to one level below its entry point (toy_create,
 * toy_accept, ...), deeper only on the way to a state change or segment;
 * that of the data calls (read, write, ...) only down to the entry point.
 */
static bool shown(const struct kcall *c, int i, int entry)
{
	const struct knode *n = &c->n[i];

	if (entry < 0 || n->depth <= entry)
		return true;
	if (is_data_call(c))
		return false;
	return n->depth == entry + 1 || subtree_has_ev(c, i);
}

/*
 * A state change or segment, said of whose socket it is: the call's own,
 * its peer's, or a connection not yet accepted (inode 0).
 */
static const char *ev_note(const struct kcall *c, const struct knode *n,
			   char *buf, size_t len)
{
	if (n->ev_ino == c->ino)
		snprintf(buf, len, "%s", n->ev);
	else if (!n->ev_ino)
		snprintf(buf, len, "new connection: %s", n->ev);
	else
		snprintf(buf, len, "socket:[%lu]: %s", n->ev_ino, n->ev);
	return buf;
}

static void print_call(const struct kcall *c)
{
	int i, entry = -1;
	char fn[128], note[200];

	print_header(c);
	for (i = 0; i < c->nn; i++) {
		const struct knode *n = &c->n[i];
		const char *txt;

		if (entry >= 0 && n->depth <= entry)
			entry = -1;
		if (!shown(c, i, entry))
			continue;
		if (entry < 0 && is_toy(n->fn))
			entry = n->depth;
		snprintf(fn, sizeof(fn), "%*s%s", 2 + 2 * n->depth, "", n->fn);
		txt = note_of(c, n, note, sizeof(note));
		if (!txt && n->ev[0])
			txt = ev_note(c, n, note, sizeof(note));
		if (txt)
			printf("%-40s %s\n", fn, txt);
		else
			printf("%s\n", fn);
	}
}

static bool in_csv(const char *csv, const char *name)
{
	size_t l = strlen(name);
	const char *p;

	for (p = csv; (p = strstr(p, name)); p += l)
		if ((p == csv || p[-1] == ',') && (p[l] == ',' || !p[l]))
			return true;
	return false;
}

/*
 * Is call c's name in the comma-separated list want (NULL: all)?
 * "accept" stands for accept4() too, as the man page's accept(2) does.
 */
static bool wanted(const struct kcall *c, const char *want)
{
	const char *name = nr_name(c->nr);

	if (!want)
		return true;
	if (!name)
		return false;
	return in_csv(want, name) ||
	       (c->nr == SYS_accept4 && in_csv(want, "accept"));
}

static int kernel_print(const char *want)
{
	int i, shown = 0;

	printf("\n== kernel path of the socket calls (function_graph)\n");
	for (i = 0; i < ncalls; i++) {
		if (!calls[i].sock || !wanted(&calls[i], want))
			continue;
		print_call(&calls[i]);
		shown++;
	}
	if (!shown)
		printf("\n(no socket call was traced)\n");
	return shown ? 0 : -1;
}

int kernel_trace(char **cmd, const char *want, bool raw)
{
	char pidbuf[24];
	int go = -1, rc;
	pid_t pid;

	if (kernel_setup()) {
		if (tracefs)
			kernel_restore();
		return -1;
	}
	pid = spawn_held(cmd, &go);
	if (pid < 0) {
		kernel_restore();
		return -1;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	if (tfs_write("set_ftrace_pid", pidbuf, false) ||
	    tfs_write("set_event_pid", pidbuf, false) ||
	    tfs_write("current_tracer", "function_graph", false) ||
	    tfs_write("tracing_on", "1", false)) {
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

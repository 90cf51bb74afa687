// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow (userspace/toyflow/, installed in the VM as /usr/bin/toyflow):
 * it is run via fork/exec on four scenarios and its text diagram must show
 * the segment arrows in the right order and direction:
 *   - the default echo demo (toy_echo server 7 --once + client hello world);
 *   - a half-close: the client sends, shutdown(SHUT_WR), the server reads
 *     EOF, writes back, closes; the client reads the reply and EOF;
 *   - a reset: the server closes with unread data (RST, ECONNRESET);
 *   - two clients of one server.
 * and `toyflow --kernel` must print the kernel's call tree of socket(),
 * listen(), accept() and close() with the steps in the order the kernel
 * runs them, the inode number fstat() gives, and connect()'s handshake
 * (kernel_path).
 * The scenarios are this binary itself, re-executed as the command:
 * `toy_toyflow --scenario halfclose|reset|twoclients|kpath` (which is why this
 * file has a main() of its own instead of TEST_HARNESS_MAIN).  The SVG
 * output must be well-formed (balanced tags) and carry the arrow labels.
 */
#include "toy_common.h"

#include <sys/utsname.h>

#include <sys/mount.h>

#include "kselftest_harness.h"

#define OUT_MAX (256 * 1024)

/* Server notes end before this column, client notes start after it. */
#define MID_COL 60

static char self_path[4096];

static const char *toyflow_path(void)
{
	static const char *const cand[] = { "/usr/bin/toyflow", "/bin/toyflow",
					    "/usr/local/bin/toyflow",
					    "../userspace/toyflow",
					    "../build/userspace/toyflow" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cand); i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

/* Runs argv, returns its stdout+stderr (malloc'd) and exit status. */
static char *run(char *const argv[], int *status)
{
	char *out = malloc(OUT_MAX);
	size_t len = 0;
	int p[2];
	pid_t pid;

	if (!out || pipe(p))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		toy_close_fds(p, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], out + len, OUT_MAX - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(p[0]);
	out[len] = '\0';
	waitpid(pid, status, 0);
	return out;
}

/*
 * The arrows of the text diagram, in order, as "C>S SYN" (client to
 * server: drawn "<---- SYN ----") or "S>C SYN-ACK" ("---- SYN-ACK --->"),
 * joined by ", ".
 */
static void arrows(const char *out, char *buf, size_t len)
{
	const char *line = out;
	size_t off = 0;

	buf[0] = '\0';
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char l[512], lab[128];
		char *lt, *gt, *s, *e;

		if (ll >= sizeof(l))
			ll = sizeof(l) - 1;
		memcpy(l, line, ll);
		l[ll] = '\0';
		line = nl ? nl + 1 : NULL;
		lt = strstr(l, "<--");
		gt = strstr(l, "-->");
		if (!lt && !gt)
			continue;
		/* the label: between the runs of dashes */
		s = lt ? lt + 1 : strstr(l, "--");
		while (*s == '-')
			s++;
		while (*s == ' ')
			s++;
		e = strstr(s, " -");
		if (!e)
			continue;
		snprintf(lab, sizeof(lab), "%.*s", (int)(e - s), s);
		off += snprintf(buf + off, len - off, "%s%s %s", off ? ", " : "",
				lt ? "C>S" : "S>C", lab);
		if (off >= len)
			break;
	}
}

/* Column of the first occurrence of @s on its line, -1 if absent. */
static int column_of(const char *out, const char *s)
{
	const char *p = strstr(out, s), *bol;

	if (!p)
		return -1;
	bol = p;
	while (bol > out && bol[-1] != '\n')
		bol--;
	return (int)(p - bol);
}

/* Position of @s in @out after position @from, or -1. */
static long pos_after(const char *out, long from, const char *s)
{
	const char *p;

	if (from < 0)
		return -1;
	p = strstr(out + from, s);
	return p ? p - out : -1;
}

/* Position of the first arrow @label (client to server if @c2s), or -1. */
static long arrow_pos(const char *out, bool c2s, const char *label)
{
	const char *line = out;
	char want[64];

	snprintf(want, sizeof(want), " %s ", label);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *w = memmem(line, ll, want, strlen(want));

		if (w && memmem(line, ll, c2s ? "<--" : "-->", 3))
			return line - out;
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* A tiny XML check: every tag closed, in order, one root <svg>. */
static int svg_well_formed(const char *x, char *why, size_t len)
{
	char stack[64][32];
	int depth = 0, roots = 0;
	const char *p = x;

	while (*p == ' ' || *p == '\n')
		p++;
	if (strncmp(p, "<svg", 4)) {
		snprintf(why, len, "does not start with <svg");
		return -1;
	}
	while ((p = strchr(p, '<'))) {
		const char *end = strchr(p, '>');
		char name[32];
		int n = 0;

		if (!end) {
			snprintf(why, len, "unterminated tag");
			return -1;
		}
		if (p[1] == '!' || p[1] == '?') {
			p = end + 1;
			continue;
		}
		if (p[1] == '/') {
			sscanf(p + 2, "%31[^ >]", name);
			if (!depth || strcmp(stack[depth - 1], name)) {
				snprintf(why, len, "unexpected </%s>", name);
				return -1;
			}
			depth--;
		} else {
			if (sscanf(p + 1, "%31[^ />]%n", name, &n) != 1) {
				snprintf(why, len, "bad tag");
				return -1;
			}
			if (!depth)
				roots++;
			if (end[-1] != '/') {
				if (depth == 64)
					return -1;
				snprintf(stack[depth++], 32, "%s", name);
			}
		}
		p = end + 1;
	}
	if (depth || roots != 1) {
		snprintf(why, len, "depth %d, %d roots at the end", depth, roots);
		return -1;
	}
	return 0;
}

/*
 * No root, no tracefs in the kernel or no toyflow binary (outside the VM)
 * skip; missing toy tracepoints are af_toy's fault: the test fails.
 */
#define NEED_TOYFLOW()							\
	const char *tf = toyflow_path();				\
	do {								\
		TOY_NEED_TRACE();					\
		if (!tf)						\
			SKIP(return, "toyflow not installed");		\
	} while (0)

/*
 * toyflow (tf) run with argv[1...], asserted to exit 0: its output (to be
 * freed), and its arrows (see arrows()) in got.
 */
static char *run_scenario(struct __test_metadata *_metadata, const char *tf,
			  char **argv, char *got, size_t len)
{
	char *out;
	int st;

	argv[0] = (char *)tf;
	out = run(argv, &st);
	ASSERT_NE(NULL, out);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	arrows(out, got, len);
	return out;
}

/*
 * SIGTERM to toyflow alone while it traces: the traced command ends, the
 * toy events are off again, the trace clock is the one before, and
 * toyflow dies of the signal (it left tracing on, the command running).
 */
TEST(sigterm_puts_tracing_back)
{
	char clock[32], now[32], on[8];
	pid_t pid;
	int st, i;
	NEED_TOYFLOW();

	toy_read_word(TOY_TRACEFS "/trace_clock", clock, sizeof(clock));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		sigset_t none;

		sigemptyset(&none);	/* as from a shell */
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		execl(tf, tf, "--", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		toy_read_word(TOY_TRACEFS "/events/toy/enable", on, sizeof(on));
		if (on[0] == '1')
			break;
		usleep(TOY_WAIT_USEC);
	}
	EXPECT_EQ('1', on[0]);
	ASSERT_EQ(0, kill(pid, SIGTERM));
	for (i = 0; i < TOY_WAIT_TRIES; i++) {	/* 10 s, then it failed */
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(TOY_WAIT_USEC);
	}
	if (i == TOY_WAIT_TRIES) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	ASSERT_GT(TOY_WAIT_TRIES, i) TH_LOG("toyflow outlived its SIGTERM");
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	toy_read_word(TOY_TRACEFS "/events/toy/enable", on, sizeof(on));
	EXPECT_EQ('0', on[0]);
	toy_read_word(TOY_TRACEFS "/trace_clock", now, sizeof(now));
	EXPECT_STREQ(clock, now);
}

/* Writes val to a tracefs file (O_APPEND: adds to a list): 0 or -1. */
static int tfs_put(const char *file, const char *val, bool append)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TOY_TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* The first word of a tracefs file ("" if none). */
static void tfs_word(const char *file, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), TOY_TRACEFS "/%s", file);
	toy_read_word(path, buf, len);
}

/* Tracefs files the failed set-up below must leave as they were. */
static const char *const kept_files[] = {
	"set_ftrace_filter", "set_ftrace_pid", "set_event_pid",
	"events/toy/toy_state/enable", "events/toy/toy_segment/enable",
	"trace_clock", "tracing_on", "current_tracer",
};

#define KEPT_N ARRAY_SIZE(kept_files)

/* Whether a kept file is a list (set_*): restored entry by entry. */
static bool tfs_is_list(const char *file)
{
	return !strncmp(file, "set_", 4);
}

/* What a kept file holds: a list's whole text, else its first word. */
static void tfs_save(const char *file, char *buf, size_t len)
{
	char path[256], more;
	size_t used;
	ssize_t n = 0;
	int fd;

	if (!tfs_is_list(file)) {
		tfs_word(file, buf, len);
		return;
	}
	snprintf(path, sizeof(path), TOY_TRACEFS "/%s", file);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (used = 0; used < len - 1; used += n) {
		n = read(fd, buf + used, len - 1 - used);
		if (n <= 0)
			break;
	}
	buf[used] = '\0';
	/* a list that does not fit: its whole entries only */
	if (used == len - 1 && read(fd, &more, 1) == 1) {
		char *nl = strrchr(buf, '\n');

		*(nl ? nl : buf) = '\0';
	}
	close(fd);
}

/*
 * Puts back what tfs_save() read: a list emptied, then its entries one
 * by one ("#### all functions enabled ####", "no pid": none); an event's
 * "0*"/"1*" (soft mode) as its digit.
 */
static void tfs_restore(const char *file, char *saved)
{
	char *line, *save = NULL;

	if (!tfs_is_list(file)) {
		saved[strcspn(saved, "*")] = '\0';
		tfs_put(file, saved, false);
		return;
	}
	tfs_put(file, "", false);
	for (line = strtok_r(saved, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#' && strcmp(line, "no pid"))
			tfs_put(file, line, true);
}

/*
 * toyflow --kernel whose set-up fails partway (its kprobe event's name is
 * taken by an enabled one) puts back only what it changed, and as it was:
 * it used to clear the function filter and both pid filters and turn the
 * toy events off, none of which it had saved.  A kernel without kprobe
 * events fails it at the same step, one without function_graph before it
 * changes anything: the same must hold.  The test puts back what it
 * found, whatever happens, so that the later cases record events.
 */
TEST(failed_kernel_setup_leaves_tracefs_as_it_was)
{
	char *argv[] = { NULL, "--kernel", "--", "/bin/true", NULL };
	static char orig[KEPT_N][4096];
	char before[KEPT_N][64], after[KEPT_N][64];
	bool probe, kprobes, made;
	char *out = NULL;
	unsigned int i;
	int st = 0, bad = 0;
	NEED_TOYFLOW();

	for (i = 0; i < KEPT_N; i++)
		tfs_save(kept_files[i], orig[i], sizeof(orig[i]));
	/* a state unlike the defaults, where the kernel has the file */
	tfs_put("set_ftrace_filter", "schedule", false);
	tfs_put("set_event_pid", "1", false);
	tfs_put("set_ftrace_pid", "1", false);
	bad += !!tfs_put("events/toy/toy_state/enable", "1", false);
	bad += !!tfs_put("events/toy/toy_segment/enable", "0", false);
	tfs_put("trace_clock", "mono", false);
	bad += !!tfs_put("tracing_on", "0", false);
	kprobes = !access(TOY_TRACEFS "/kprobe_events", W_OK);
	made = kprobes && !tfs_put("kprobe_events", "p:toyflow/ino vfs_read", true);
	probe = made && !tfs_put("events/toyflow/ino/enable", "1", false);
	for (i = 0; i < KEPT_N; i++)
		tfs_word(kept_files[i], before[i], sizeof(before[i]));
	if (!bad && probe == kprobes) {
		argv[0] = (char *)tf;
		out = run(argv, &st);
	}
	for (i = 0; i < KEPT_N; i++)
		tfs_word(kept_files[i], after[i], sizeof(after[i]));

	/* back to what the test found */
	if (made) {	/* ours only: one already there made it fail */
		tfs_put("events/toyflow/ino/enable", "0", false);
		tfs_put("kprobe_events", "-:toyflow/ino", true);
	}
	for (i = 0; i < KEPT_N; i++)
		tfs_restore(kept_files[i], orig[i]);

	ASSERT_EQ(0, bad) TH_LOG("a toy event or tracing_on could not be set");
	if (kprobes && !probe)
		SKIP(return, "kprobe event toyflow/ino could not be made");
	ASSERT_NE(NULL, out);
	EXPECT_STREQ("1", before[3]);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0) TH_LOG("%s", out);
	for (i = 0; i < KEPT_N; i++) {	/* braces: the macro is two statements */
		EXPECT_STREQ(before[i], after[i]) TH_LOG("%s", kept_files[i]);
	}
	free(out);
}

/* The default run: the echo demo. */
TEST(demo)
{
	char *argv[] = { NULL, "--svg", "/tmp/toyflow-demo.svg", NULL };
	char got[2048], why[128];
	char *out, *svg, *dia;
	long p;
	int st, fd;
	ssize_t n;
	NEED_TOYFLOW();

	if (access("/usr/bin/toy_echo", X_OK) && access("/bin/toy_echo", X_OK))
		SKIP(return, "toy_echo not installed");
	argv[0] = (char *)tf;
	out = run(argv, &st);
	ASSERT_NE(NULL, out);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s", out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	/* toy_echo's own narration comes first: look at the diagram only */
	dia = strstr(out, "== AF_TOY sequence diagram");
	ASSERT_NE(NULL, dia) TH_LOG("%s", out);
	arrows(dia, got, sizeof(got));
	EXPECT_STREQ("C>S SYN, S>C SYN-ACK, C>S ACK, "
		     "C>S DATA len=5, S>C DATA len=5, C>S DATA len=5, S>C DATA len=5, "
		     "C>S FIN, S>C ACK, S>C FIN, C>S ACK", got)
		fprintf(stderr, "%s", out);

	/* the server side: listen, accept blocks until the client connects */
	EXPECT_LT(0, column_of(dia, "listen()"));
	EXPECT_GT(MID_COL, column_of(dia, "listen()"));
	EXPECT_GT(MID_COL, column_of(dia, "accept() blocks"));
	EXPECT_GT(MID_COL, column_of(dia, "accept() returns -> port"));
	/* the client side: connect */
	EXPECT_LT(MID_COL, column_of(dia, "connect(port 7)"));
	/* the read that returns 0 comes after the client's FIN */
	p = arrow_pos(dia, true, "FIN");
	p = pos_after(dia, p, "= 0 (EOF)");
	EXPECT_LT(0, p) fprintf(stderr, "%s", out);
	EXPECT_GT(MID_COL, column_of(dia, "= 0 (EOF)"));
	/* state changes on the right sides */
	EXPECT_LT(MID_COL, column_of(dia, "CLOSED -> SYN_SENT"));
	EXPECT_GT(MID_COL, column_of(dia, "ESTABLISHED -> CLOSE_WAIT"));
	EXPECT_LT(MID_COL, column_of(dia, "FIN_WAIT1 -> FIN_WAIT2"));
	EXPECT_GT(MID_COL, column_of(dia, "LAST_ACK -> CLOSED"));

	/* the SVG */
	svg = malloc(OUT_MAX);
	ASSERT_NE(NULL, svg);
	fd = open("/tmp/toyflow-demo.svg", O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, svg, OUT_MAX - 1);
	close(fd);
	ASSERT_LT(0, n);
	svg[n] = '\0';
	EXPECT_EQ(0, svg_well_formed(svg, why, sizeof(why))) TH_LOG("%s", why);
	EXPECT_NE(NULL, strstr(svg, ">SYN</text>"));
	EXPECT_NE(NULL, strstr(svg, ">SYN-ACK</text>"));
	EXPECT_NE(NULL, strstr(svg, ">FIN</text>"));
	EXPECT_NE(NULL, strstr(svg, ">DATA len=5</text>"));
	EXPECT_NE(NULL, strstr(svg, "accept() blocks"));
	EXPECT_NE(NULL, strstr(svg, "CLOSED -&gt; LISTEN"));
	free(svg);
	free(out);
}

TEST(half_close)
{
	char *argv[] = { NULL, "--", self_path, "--scenario", "halfclose", NULL };
	char got[2048];
	char *out;
	long p;
	NEED_TOYFLOW();

	out = run_scenario(_metadata, tf, argv, got, sizeof(got));
	EXPECT_STREQ("C>S SYN, S>C SYN-ACK, C>S ACK, C>S DATA len=4, "
		     "C>S FIN, S>C ACK, S>C DATA len=4, S>C FIN, C>S ACK", got)
		fprintf(stderr, "%s", out);
	/*
	 * The client's shutdown, its FIN, the server's read of 0, then its
	 * reply.  shutdown()'s exit may be drawn after the server's read (the
	 * FIN wakes the server first), so the order is checked from the FIN.
	 */
	EXPECT_LT(MID_COL, column_of(out, "shutdown() = 0"));
	p = arrow_pos(out, true, "FIN");
	EXPECT_LT(0, p);
	p = pos_after(out, p, "= 0 (EOF)");
	EXPECT_LT(0, p);
	EXPECT_GT(MID_COL, column_of(out, "= 0 (EOF)"));
	p = pos_after(out, p, "DATA len=4");
	EXPECT_LT(0, p);
	free(out);
}

TEST(reset)
{
	char *argv[] = { NULL, "--svg", "/tmp/toyflow-rst.svg", "--", self_path,
			 "--scenario", "reset", NULL };
	char got[2048];
	char *out;
	NEED_TOYFLOW();

	out = run_scenario(_metadata, tf, argv, got, sizeof(got));
	/*
	 * Up to the RST.  (What the reset client's own close() draws after
	 * it is the module's business: see toy_trace's rst tests.)
	 */
	EXPECT_EQ(0, strncmp("C>S SYN, S>C SYN-ACK, C>S ACK, C>S DATA len=3, S>C RST",
			     got, strlen("C>S SYN, S>C SYN-ACK, C>S ACK, C>S DATA len=3, S>C RST")))
		TH_LOG("arrows: %s", got);
	EXPECT_LT(0, arrow_pos(out, false, "RST"));
	if (arrow_pos(out, true, "FIN") >= 0)	/* no FIN before the RST */
		EXPECT_LT(arrow_pos(out, false, "RST"), arrow_pos(out, true, "FIN"));
	EXPECT_LT(MID_COL, column_of(out, "recv() = -104 ECONNRESET"))
		fprintf(stderr, "%s", out);
	free(out);
}

/* Sequential clients: one divider per new connection. */
TEST(two_clients)
{
	char *argv[] = { NULL, "--", self_path, "--scenario", "twoclients", NULL };
	char got[2048];
	char *out;
	NEED_TOYFLOW();

	out = run_scenario(_metadata, tf, argv, got, sizeof(got));
	EXPECT_STREQ("C>S SYN, S>C SYN-ACK, C>S ACK, C>S FIN, S>C ACK, S>C FIN, C>S ACK, "
		     "C>S SYN, S>C SYN-ACK, C>S ACK, C>S FIN, S>C ACK, S>C FIN, C>S ACK",
		     got) fprintf(stderr, "%s", out);
	EXPECT_NE(NULL, strstr(out, "connection 2: client port"));
	free(out);
}

/*
 * The kernel path (toyflow --kernel): the steps of each call, in the order
 * the kernel runs them, with the function that is the step on each kernel
 * series.  The one table of the names that differ between 6.1 and 6.12;
 * "": no step of its own there (6.12 inlines the fd lookup of listen()
 * into __sys_listen()).  Note accept(): do_accept() gives the new socket
 * its file before the family's accept() runs (on both series); the fd
 * comes last.  And close(): 6.1 releases the file on the way back to user
 * space (__fput after the system call's exit), 6.12 within the call.
 */
static const struct kstep {
	const char *call;	/* header prefix of the call's tree */
	const char *step;
	const char *fn_61, *fn_612;
} ksteps[] = {
	{ "socket(", "syscall",		"__x64_sys_socket",	"__x64_sys_socket" },
	{ "socket(", "socket creation",	"__sock_create",	"__sock_create" },
	{ "socket(", "sockfs inode",	"sock_alloc",		"sock_alloc" },
	{ "socket(", "af_toy create",	"toy_create",		"toy_create" },
	{ "socket(", "file",		"sock_alloc_file",	"sock_alloc_file" },
	{ "socket(", "fd",		"fd_install",		"fd_install" },
	{ "listen(", "syscall",		"__x64_sys_listen",	"__x64_sys_listen" },
	{ "listen(", "fd -> socket",	"sockfd_lookup_light",	"" },
	{ "listen(", "af_toy listen",	"toy_listen",		"toy_listen" },
	{ "accept(", "syscall",		"__x64_sys_accept",	"__x64_sys_accept" },
	{ "accept(", "new socket and inode", "sock_alloc",	"sock_alloc" },
	{ "accept(", "file",		"sock_alloc_file",	"sock_alloc_file" },
	{ "accept(", "af_toy accept",	"toy_accept",		"toy_accept" },
	{ "accept(", "fd",		"fd_install",		"fd_install" },
	{ "close(", "syscall",		"__x64_sys_close",	"__x64_sys_close" },
	{ "close(", "fd removed",	"close_fd",		"file_close_fd" },
	{ "close(", "last reference",	"__fput",		"__fput" },
	{ "close(", "socket release",	"sock_close",		"sock_close" },
	{ "close(", "af_toy release",	"toy_release",		"toy_release" },
};

/*
 * The tree of @call on fd @fd: its text up to the next tree.  The header
 * names the fd as the return value of socket() and accept()
 * ("socket(AF_TOY, SOCK_STREAM, 0) = 3 ..."), as the first argument of
 * the others ("close(3) = 0 ...").
 */
static char *kernel_tree(const char *out, const char *call, int fd,
			 char *buf, size_t len)
{
	bool by_ret = !strcmp(call, "socket(") || !strcmp(call, "accept(");
	const char *p = out, *end;
	char ret[32];

	snprintf(ret, sizeof(ret), " = %d ", fd);
	while ((p = strstr(p, call))) {
		const char *eol = strchr(p, '\n');

		if ((p == out || p[-1] == '\n') && eol &&
		    (by_ret ? !!memmem(p, eol - p, ret, strlen(ret)) :
		     atoi(p + strlen(call)) == fd))
			break;
		p = eol;
	}
	if (!p)
		return NULL;
	end = strstr(p, "\n\n");
	snprintf(buf, len, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
	return buf;
}

/* Offset of the line of function @fn in @tree, or -1. */
static long step_pos(const char *tree, const char *fn)
{
	char want[80];
	const char *p;

	snprintf(want, sizeof(want), " %s", fn);
	for (p = tree; (p = strstr(p, want)); p++) {
		const char *bol = p;

		while (bol > tree && bol[-1] == ' ')
			bol--;
		if ((bol == tree || bol[-1] == '\n') &&
		    (p[strlen(want)] == ' ' || p[strlen(want)] == '\n' ||
		     !p[strlen(want)]))
			return p - tree;
	}
	return -1;
}

/* The steps of @call in tree, in order, for this kernel series. */
static int check_steps(struct __test_metadata *_metadata, const char *tree,
		       const char *call, bool is61)
{
	long last = -1, pos;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ksteps); i++) {
		const char *fn = is61 ? ksteps[i].fn_61 : ksteps[i].fn_612;

		if (strcmp(ksteps[i].call, call) || !*fn)
			continue;
		pos = step_pos(tree, fn);
		EXPECT_LT(last, pos) TH_LOG("%s step '%s' (%s) missing or out "
					    "of order:\n%s", call,
					    ksteps[i].step, fn, tree);
		if (pos <= last)
			return -1;
		last = pos;
	}
	return 0;
}

/* Whether the kernel has ftrace's function_graph tracer. */
static bool has_graph_tracer(void)
{
	char buf[512] = "";
	FILE *f;

	if (access("/sys/kernel/tracing/available_tracers", R_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	f = fopen("/sys/kernel/tracing/available_tracers", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "function_graph");
}

TEST(kernel_path)
{
	char *argv[] = { NULL, "--kernel", "--", self_path, "--scenario",
			 "kpath", NULL };
	int lfd, afd, cfd, st;
	long syn, synack, ack;
	unsigned long lino, aino;
	char *out, *tree, want[96];
	const char *p;
	struct utsname u;
	bool is61;
	NEED_TOYFLOW();

	ASSERT_EQ(0, uname(&u));
	/* the series of the table: 6.1 or 6.12 (and 6.12-rt) */
	is61 = !strncmp(u.release, "6.1.", 4);
	if (!is61 && strncmp(u.release, "6.12.", 5))
		SKIP(return, "no function names known for %s", u.release);
	/* the debug kernel of make check-debug is built without it */
	if (!has_graph_tracer())
		SKIP(return, "no function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER)");
	argv[0] = (char *)tf;
	out = run(argv, &st);
	ASSERT_NE(NULL, out);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	/* what the scenario saw: its fds and their fstat() inodes */
	p = strstr(out, "kpath: socket fd=");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_EQ(2, sscanf(p, "kpath: socket fd=%d ino=%lu", &lfd, &lino));
	p = strstr(out, "kpath: accept fd=");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_EQ(2, sscanf(p, "kpath: accept fd=%d ino=%lu", &afd, &aino));
	p = strstr(out, "kpath: connect fd=");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_EQ(1, sscanf(p, "kpath: connect fd=%d", &cfd));
	tree = malloc(OUT_MAX);
	ASSERT_NE(NULL, tree);

	/* socket(): the listener's */
	ASSERT_NE(NULL, kernel_tree(out, "socket(", lfd, tree, OUT_MAX))
		TH_LOG("no socket() = %d tree:\n%s", lfd, out);
	EXPECT_EQ(0, check_steps(_metadata, tree, "socket(", is61));
	snprintf(want, sizeof(want), "sockfs inode %lu created", lino);
	EXPECT_NE(NULL, strstr(tree, want)) TH_LOG("%s:\n%s", want, tree);
	EXPECT_LT(step_pos(tree, "sock_alloc"), (long)(strstr(tree, want) - tree));
	snprintf(want, sizeof(want), "file installed as fd %d", lfd);
	EXPECT_NE(NULL, strstr(tree, want)) TH_LOG("%s:\n%s", want, tree);
	EXPECT_NE(NULL, strstr(tree, "af_toy creates the sock"));

	ASSERT_NE(NULL, kernel_tree(out, "listen(", lfd, tree, OUT_MAX))
		TH_LOG("%s", out);
	EXPECT_EQ(0, check_steps(_metadata, tree, "listen(", is61));
	EXPECT_NE(NULL, strstr(tree, "CLOSED -> LISTEN")) TH_LOG("%s", tree);

	/*
	 * connect(): the handshake inside af_toy's connect, the SYN-ACK
	 * from the connection the listener has not handed out yet
	 */
	ASSERT_NE(NULL, kernel_tree(out, "connect(", cfd, tree, OUT_MAX))
		TH_LOG("%s", out);
	syn = pos_after(tree, step_pos(tree, "toy_connect"), " sends SYN\n");
	synack = pos_after(tree, syn, " new connection: sends SYN-ACK\n");
	ack = pos_after(tree, synack, " sends ACK\n");
	EXPECT_LT(0, syn) TH_LOG("%s", tree);
	EXPECT_LT(syn, synack) TH_LOG("%s", tree);
	EXPECT_LT(synack, ack) TH_LOG("%s", tree);

	/* accept(): the new socket's */
	ASSERT_NE(NULL, kernel_tree(out, "accept(", afd, tree, OUT_MAX))
		TH_LOG("no accept() = %d tree:\n%s", afd, out);
	EXPECT_EQ(0, check_steps(_metadata, tree, "accept(", is61));
	snprintf(want, sizeof(want), "sockfs inode %lu created", aino);
	EXPECT_NE(NULL, strstr(tree, want)) TH_LOG("%s:\n%s", want, tree);
	snprintf(want, sizeof(want), "file installed as fd %d", afd);
	EXPECT_NE(NULL, strstr(tree, want)) TH_LOG("%s:\n%s", want, tree);
	EXPECT_NE(lino, aino);

	/* close() of the accepted socket: down to af_toy's release */
	ASSERT_NE(NULL, kernel_tree(out, "close(", afd, tree, OUT_MAX))
		TH_LOG("%s", out);
	EXPECT_EQ(0, check_steps(_metadata, tree, "close(", is61));
	snprintf(want, sizeof(want), "socket:[%lu]", aino);
	EXPECT_NE(NULL, strstr(tree, want)) TH_LOG("%s:\n%s", want, tree);
	free(tree);
	free(out);
}

/* ---- scenarios run under toyflow ------------------------------------ */

#define SC(cond) CHILD_CHECK(cond)

/* A STREAM client of listener l (on port) in *c, its accepted end in *s. */
static void sc_connect(int l, uint32_t port, int *c, int *s)
{
	*c = toy_socket(SOCK_STREAM);
	SC(*c >= 0);
	SC(toy_connect(*c, port) == 0);
	*s = accept(l, NULL, NULL);
	SC(*s >= 0);
}

static int scenario_halfclose(void)
{
	uint32_t port;
	char buf[16];
	int l, c, s, status;
	pid_t pid;

	l = toy_listener(SOCK_STREAM, &port);
	SC(l >= 0);
	pid = fork();
	SC(pid >= 0);
	if (pid == 0) {		/* the client */
		close(l);
		c = toy_socket(SOCK_STREAM);
		SC(c >= 0);
		SC(toy_connect(c, port) == 0);
		SC(send(c, "ping", 4, 0) == 4);
		SC(shutdown(c, SHUT_WR) == 0);
		SC(recv(c, buf, sizeof(buf), MSG_WAITALL) == 4);
		SC(recv(c, buf, sizeof(buf), 0) == 0);
		close(c);
		_exit(0);
	}
	s = accept(l, NULL, NULL);
	SC(s >= 0);
	SC(recv(s, buf, 4, MSG_WAITALL) == 4);
	SC(recv(s, buf, sizeof(buf), 0) == 0);	/* the client's FIN */
	SC(send(s, "pong", 4, 0) == 4);
	close(s);
	close(l);
	SC(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int scenario_reset(void)
{
	uint32_t port;
	char buf[8];
	int l, c, s;

	l = toy_listener(SOCK_STREAM, &port);
	SC(l >= 0);
	sc_connect(l, port, &c, &s);
	SC(send(c, "abc", 3, 0) == 3);
	close(s);			/* unread data: RST */
	SC(recv(c, buf, sizeof(buf), 0) == -1 && errno == ECONNRESET);
	close(c);
	close(l);
	return 0;
}

static int scenario_twoclients(void)
{
	uint32_t port;
	int l, c, s, i;

	l = toy_listener(SOCK_STREAM, &port);
	SC(l >= 0);
	for (i = 0; i < 2; i++) {
		sc_connect(l, port, &c, &s);
		close(c);
		close(s);
	}
	close(l);
	return 0;
}

/* socket, bind, listen, connect, accept, close; the fds and inodes */
static int scenario_kpath(void)
{
	struct stat lst, ast;
	uint32_t port;
	int l, c, s;

	l = toy_listener(SOCK_STREAM, &port);
	SC(l >= 0);
	sc_connect(l, port, &c, &s);
	SC(fstat(l, &lst) == 0 && fstat(s, &ast) == 0);
	printf("kpath: socket fd=%d ino=%lu\n", l, (unsigned long)lst.st_ino);
	printf("kpath: accept fd=%d ino=%lu\n", s, (unsigned long)ast.st_ino);
	printf("kpath: connect fd=%d\n", c);
	fflush(stdout);
	close(s);
	close(c);
	close(l);
	return 0;
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

	if (n > 0)
		self_path[n] = '\0';
	else
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	if (argc == 3 && !strcmp(argv[1], "--scenario")) {
		if (!strcmp(argv[2], "halfclose"))
			return scenario_halfclose();
		if (!strcmp(argv[2], "reset"))
			return scenario_reset();
		if (!strcmp(argv[2], "twoclients"))
			return scenario_twoclients();
		if (!strcmp(argv[2], "kpath"))
			return scenario_kpath();
		return 2;
	}
	return test_harness_run(argc, argv);
}

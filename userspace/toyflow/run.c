// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: process control.  Runs the traced command, by default the echo
 * demo: `toy_echo server 7 --once` in the background, started and blocked
 * in accept() before `toy_echo client 7 hello world` runs, as in the
 * textbook diagram.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "toy_util.h"
#include "toyflow.h"

static char self_dir[PATH_MAX];

/*
 * A signal that ends toyflow (SIGTERM, SIGHUP) goes on to the children it
 * runs, so that the traced command ends; toyflow then stops tracing, puts
 * back what it changed (tracefs, the kernel tracer), and dies of that
 * signal (toyflow_signals_end()).  SIGINT and SIGQUIT from the terminal
 * reach the children anyway (one process group): toyflow ignores them
 * while they run, as system() does, and they get them back as they start.
 */
static volatile pid_t kids[8];
static volatile sig_atomic_t ended_by;

static void remember_kid(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		if (!kids[i]) {
			kids[i] = pid;
			break;
		}
	}
	/* the signal came before we knew the child: it goes now */
	if (ended_by)
		kill(pid, SIGTERM);
}

static void on_end(int sig)
{
	unsigned int i;

	ended_by = sig;
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
}

void toyflow_signals(void)
{
	struct sigaction sa = { .sa_handler = on_end };
	sigset_t ends;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	/* blocked by whoever started us, they would never reach us */
	sigemptyset(&ends);
	sigaddset(&ends, SIGTERM);
	sigaddset(&ends, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &ends, NULL);
}

void toyflow_signals_end(void)
{
	if (!ended_by)
		return;
	signal(ended_by, SIG_DFL);
	raise(ended_by);
}

/*
 * fork(), with SIGTERM and SIGHUP held until the child is one of kids[]
 * (else on_end() would miss it, or, in the child before its exec, run and
 * lose the signal).  A child that runs a tool (@tool) takes every signal
 * as usual; one that runs the demo keeps on_end() for its own kids.
 */
static pid_t fork_kid(bool tool)
{
	sigset_t ends, old;
	unsigned int i;
	pid_t pid;

	sigemptyset(&ends);
	sigaddset(&ends, SIGTERM);
	sigaddset(&ends, SIGHUP);
	fflush(stdout);
	fflush(stderr);
	sigprocmask(SIG_BLOCK, &ends, &old);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
			kids[i] = 0;	/* its own, from here */
		if (tool) {
			signal(SIGINT, SIG_DFL);
			signal(SIGQUIT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
		}
	} else if (pid > 0) {
		remember_kid(pid);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

void find_self_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
	char *slash;

	if (n <= 0)
		return;
	self_dir[n] = '\0';
	slash = strrchr(self_dir, '/');
	if (slash)
		*slash = '\0';
}

static void exec_tool(char **argv)
{
	char path[PATH_MAX + 64];

	execvp(argv[0], argv);
	/* not in PATH: try next to toyflow itself */
	if (self_dir[0] && !strchr(argv[0], '/')) {
		snprintf(path, sizeof(path), "%s/%s", self_dir, argv[0]);
		execv(path, argv);
	}
	fprintf(stderr, "toyflow: cannot run %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

pid_t spawn(char **argv)
{
	pid_t pid;

	pid = fork_kid(true);
	if (pid < 0) {
		perror("toyflow: fork");
		return -1;
	}
	if (pid == 0)
		exec_tool(argv);
	return pid;
}

pid_t spawn_held(char **argv, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p)) {
		perror("toyflow: pipe");
		return -1;
	}
	pid = fork_kid(argv != NULL);
	if (pid < 0) {
		perror("toyflow: fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		close(p[0]);
		if (argv)
			exec_tool(argv);
		exit(run_demo());
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int is_listener(const struct toy_proc_entry *e, const char *line,
		       void *port)
{
	(void)line;
	return !strcmp(e->state, "LISTEN") && e->lport == *(unsigned int *)port;
}

/* Whether /proc/net/toy shows a listener on port. */
static bool listening(unsigned int port)
{
	return toy_proc_foreach(is_listener, &port) == 1;
}

/* Whether task @pid sleeps in accept()/accept4() (/proc/PID/syscall). */
static bool in_accept(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd, nr;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	nr = atoi(buf);
#ifdef SYS_accept
	if (nr == SYS_accept)
		return true;
#endif
	return nr == SYS_accept4;
}

/* Wait (bounded) until the --once server has exited; its client's status. */
static int reap_server(pid_t s, int rc)
{
	int i, src;

	for (i = 0; i < 1000; i++) {
		if (waitpid(s, &src, WNOHANG) == s)
			return rc;
		msleep(10);
	}
	fprintf(stderr, "toyflow: the server did not exit; killing it\n");
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
	return rc ? rc : 1;
}

int run_demo(void)
{
	char *srv[] = { "toy_echo", "server", "7", "--once", NULL };
	char *cli[] = { "toy_echo", "client", "7", "hello", "world", NULL };
	pid_t s, c;
	int i, rc;

	if (listening(7)) {
		fprintf(stderr, "toyflow: port 7 is already in use\n");
		return 1;
	}
	s = spawn(srv);
	if (s < 0)
		return 1;
	for (i = 0; i < 500 && !listening(7); i++) {
		if (waitpid(s, NULL, WNOHANG) == s) {
			fprintf(stderr, "toyflow: the server exited early\n");
			return 1;
		}
		msleep(10);
	}
	/* let the server block in accept() first, as in the textbook */
	for (i = 0; i < 200 && !in_accept(s); i++)
		msleep(10);
	c = spawn(cli);
	rc = c < 0 ? 1 : wait_status(c);
	/* the --once server exits after the client's FIN; do not hang */
	return reap_server(s, rc);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY fuzzer: several processes, each with several threads,
 * issue seeded sequences of every AF_TOY call on all three socket types --
 * socket/socketpair/bind/listen/connect/accept/send/recv/splice,
 * shutdown/close/poll/epoll/getsockopt/setsockopt/ioctl/fcntl/dup,
 * getsockname/getpeername, /proc/net/toy reads -- with bad pointers, bad
 * lengths and odd flags, while other threads close the same descriptors
 * (a thread may be blocked in accept/connect/recv/send on it), signals
 * interrupt blocking calls, fork() shares sockets with a child and children
 * or threads move to a fresh network namespace (unshare(CLONE_NEWNET)).
 *
 * Coverage-guided where the kernel has KCOV and af_toy is instrumented
 * (toy_fuzz_cover.h): a thread runs programs, short lists of operations
 * whose random choices are stored per operation; one that reaches new af_toy
 * PCs joins the corpus, which is mutated (splice, insert, delete, change a
 * choice) into the next programs, and printed at the end between
 * "fuzz-corpus-begin" and "fuzz-corpus-end" for the next run (debug-kernel.sh
 * saves it in build/fuzz-corpus/).  Without KCOV: random programs only.
 * Every ~10 s: "fuzz: coverage t=S ops=N corpus=N lines=N" (lines: distinct
 * af_toy PCs so far).
 *
 * Oracles, beyond the VM runner's "no splat" and the debug check's kmemleak:
 * - calm operations (toy_fuzz_calm.h): a child with its own sockets, long
 *   timeouts and no signals transfers data checked end to end (bytes,
 *   records, EOF) and blocks in recv/send/poll/accept/connect; a call that
 *   slept through its timeout although its wake condition had been true
 *   for seconds is a lost wake-up;
 * - every forked child (fork op, calm op, worker process) must exit 0;
 * - minimum success counts per operation (a run that only hits error paths
 *   fails), and every worker finishes (no task stuck in the kernel);
 * - when every socket is closed /proc/net/toy is empty again;
 * - before fuzzing, the differential mode (toy_fuzz_diff.h) compares
 *   TOY_FUZZ_DIFF_SEEDS seeded sequences with AF_UNIX.
 *
 * Every thread's programs are a pure function of (seed, process, thread)
 * and the corpus, so a failure can be replayed with the same TOY_FUZZ_SEED
 * (interleavings still vary).  Bounded in operation count and wall time.
 *
 * Usage: toy_fuzz [harness options]    the test (environment below)
 *        toy_fuzz --diff SEED [--ops N] [-v]   one differential run
 *
 * Environment:
 *   TOY_FUZZ_SEED      seed (default 1)
 *   TOY_FUZZ_OPS       total operations (default 30000)
 *   TOY_FUZZ_SECS      wall-clock budget in seconds (default 40)
 *   TOY_FUZZ_PROCS     worker processes (default 2)
 *   TOY_FUZZ_THREADS   threads per process (default 4)
 *   TOY_FUZZ_CORPUS    file of programs to start from (one per line)
 *   TOY_FUZZ_FAILSLAB  if set (percent, e.g. 5): arm failslab from debugfs
 *                      for the fuzzer's tasks only (task-filter +
 *                      make-it-fail) and, where the kernel has the stack
 *                      trace filter, only for allocations made with af_toy
 *                      code on the stack (TOY_FUZZ_FAILSLAB_ALL=1: every
 *                      allocation); reports the injected-fault count
 *   TOY_FUZZ_FAILPAGE  the same for page allocations (fail_page_alloc,
 *                      order 0 and up, never highmem/user pages)
 *   TOY_FUZZ_RANDOM    1: random programs even with KCOV (coverage is still
 *                      measured: to compare with the guided mode)
 *   TOY_FUZZ_DIFF_SEEDS, TOY_FUZZ_DIFF_OPS  differential runs before the
 *                      fuzzing (default 12 seeds from TOY_FUZZ_SEED, 300 ops)
 *   TOY_FUZZ_VERBOSE   print every op of every thread (for replays)
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <time.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"

#define NSLOTS		48
#define NLOCAL		8
#define MAX_THREADS	16
#define MAX_PROCS	16
#define BUFSZ		(70 * 1024)
#define PORT_BASE	40000
#define PORT_POOL	24
#define PROG_MAX	20
#define OVR_MAX		4

enum op {
	OP_SOCKET, OP_SOCKETPAIR, OP_BIND, OP_LISTEN, OP_CONNECT, OP_ACCEPT,
	OP_SEND, OP_SENDMSG, OP_RECV, OP_RECVMSG, OP_MMSG, OP_RW,
	OP_SHUTDOWN, OP_CLOSE, OP_POLL, OP_EPOLL, OP_GETSOCKOPT,
	OP_SETSOCKOPT, OP_IOCTL, OP_NAME, OP_FCNTL, OP_DUP, OP_PROC,
	OP_FORK, OP_NETNS, OP_FLOW, OP_SPLICE, OP_CALM, OP_NR
};

static const char * const op_names[OP_NR] = {
	"socket", "socketpair", "bind", "listen", "connect", "accept",
	"send", "sendmsg", "recv", "recvmsg", "mmsg", "rw",
	"shutdown", "close", "poll", "epoll", "getsockopt",
	"setsockopt", "ioctl", "name", "fcntl", "dup", "proc",
	"fork", "netns", "flow", "splice", "calm",
};

/* relative weights */
static const int op_weight[OP_NR] = {
	[OP_SOCKET] = 10, [OP_SOCKETPAIR] = 3, [OP_BIND] = 8, [OP_LISTEN] = 6,
	[OP_CONNECT] = 10, [OP_ACCEPT] = 8, [OP_SEND] = 12, [OP_SENDMSG] = 6,
	[OP_RECV] = 10, [OP_RECVMSG] = 6, [OP_MMSG] = 2, [OP_RW] = 3,
	[OP_SHUTDOWN] = 4, [OP_CLOSE] = 9, [OP_POLL] = 4, [OP_EPOLL] = 2,
	[OP_GETSOCKOPT] = 5, [OP_SETSOCKOPT] = 5, [OP_IOCTL] = 3,
	[OP_NAME] = 3, [OP_FCNTL] = 2, [OP_DUP] = 2, [OP_PROC] = 1,
	[OP_FORK] = 1, [OP_NETNS] = 1, [OP_FLOW] = 5,
	[OP_SPLICE] = 2, [OP_CALM] = 2,
};

/*
 * Oracle (d): a run must have succeeded this often (per 1000 calls of the
 * op, and at least once in 100 calls).  accept is left out: random accepts
 * rarely find a queued connection; flow and the calm ops accept for sure.
 */
static const int min_ok_permille[OP_NR] = {
	[OP_SOCKET] = 300, [OP_SOCKETPAIR] = 300, [OP_BIND] = 20, [OP_LISTEN] = 20,
	[OP_CONNECT] = 5, [OP_SEND] = 20, [OP_RECV] = 10, [OP_CLOSE] = 100,
	[OP_FLOW] = 300,
};

struct shared {
	long ops;			/* all processes, atomically updated */
	long op_count[OP_NR];
	long op_ok[OP_NR];
	long forks;
	long netns;
	long stop;			/* set by the parent at the deadline */
	long lines;			/* distinct af_toy PCs seen */
	long execs;			/* programs run */
	long child_bad;			/* forked children that did not exit 0 */
	long lost;			/* lost wake-ups */
	long bad_data;			/* other calm-op oracle failures */
	long calm_ok[5], calm_run, calm_skipped, calm_busy, calm_bytes, calm_records;
	long calm_usecs;			/* time in calm ops, all threads */
	long calm_fresh[MAX_PROCS][MAX_THREADS];
};

/* one operation of a program: its kind and the tape of its random choices */
struct pop {
	uint64_t seed;			/* choice i: splitmix(seed, i) ... */
	uint32_t oval[OVR_MAX];		/* ... unless overridden */
	uint8_t op, novr, ndraw;	/* ndraw: choices it made last run */
	uint8_t oidx[OVR_MAX];
};

struct prog {
	int n;
	struct pop ops[PROG_MAX];
};

struct worker {
	uint64_t rng;			/* for generating programs */
	const struct pop *cur;		/* the op running, NULL: use rng */
	unsigned int draw;		/* next choice of cur */
	int proc, id;
	long budget, nops;
	pid_t tid;
	pthread_t thread;
	volatile int done, calm;
	bool replaying;
	char *buf;
	pid_t kids[8];
	double kid_start[8];		/* when each was forked */
	bool kid_dumped[8];		/* its stack shown (kid_watch()) */
	int nkids;
	int local[NLOCAL];		/* this thread's own sockets */
	int kcov_fd;
	unsigned long *cover, cover_words;
};

static struct shared *shm;
static int slots[NSLOTS];
static char *guard;		/* page after a valid page, PROT_NONE */
static char *valid_page;
static double deadline;
static int verbose;
static struct worker workers[MAX_THREADS];
static int nthreads;
static uint32_t lports[16];	/* ports that listen() succeeded on */
static int init_netns = -1;	/* to setns() back from a fresh netns */
static int calm_netns = -1;	/* the calm ops' private netns (per process) */
static bool inject_armed;	/* failslab / fail_page_alloc armed */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

/* ---- randomness ---------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The running op's next choice (its tape), or the generator's. */
static uint64_t rnd(struct worker *w)
{
	const struct pop *o = w->cur;
	unsigned int i, k;
	uint64_t x;

	if (!o)
		return splitmix(&w->rng);
	i = w->draw++;
	for (k = 0; k < o->novr; k++)
		if (o->oidx[k] == i)
			return o->oval[k];
	x = o->seed ^ ((uint64_t)i * 0xd1342543de82ef95ULL);
	return splitmix(&x);
}

static unsigned int rn(struct worker *w, unsigned int n)
{
	return n ? (unsigned int)(rnd(w) % n) : 0;
}

static bool chance(struct worker *w, unsigned int pct)
{
	return rn(w, 100) < pct;
}

/* ---- descriptor slots ---------------------------------------------------- */

/*
 * A thread's own slots (local[]) hold what its program made; the shared
 * slots are used by every thread of the process.  Mostly the k-th live
 * local socket, so that a program's ops find the sockets it made.
 */
static int *local_pick(struct worker *w, unsigned int k)
{
	unsigned int n = 0, i;

	for (i = 0; i < NLOCAL; i++)
		n += w->local[i] >= 0;
	if (!n)
		return NULL;
	k %= n;
	for (i = 0; i < NLOCAL; i++)
		if (w->local[i] >= 0 && !k--)
			break;
	return &w->local[i];
}

static int slot_get(struct worker *w)
{
	unsigned int r = rn(w, 100), v = (unsigned int)rnd(w);
	int *l;

	if (r < 1)
		return v & 1 ? -1 : 100000;
	if (r < 75 && (l = local_pick(w, v)))
		return *l;
	return __atomic_load_n(&slots[v % NSLOTS], __ATOMIC_RELAXED);
}

/* Put a new fd into a slot; whatever was there is closed. */
static void slot_put(struct worker *w, int fd)
{
	int old;

	if (chance(w, 80)) {
		int *l = &w->local[rn(w, NLOCAL)];

		old = *l;
		*l = fd;
	} else {
		old = __atomic_exchange_n(&slots[rn(w, NSLOTS)], fd, __ATOMIC_ACQ_REL);
	}
	if (old >= 0)
		close(old);
}

/* After a program: its sockets go to the shared slots or are closed. */
static void locals_release(struct worker *w)
{
	int i, old;

	for (i = 0; i < NLOCAL; i++) {
		if (w->local[i] < 0)
			continue;
		if (chance(w, 50)) {
			old = __atomic_exchange_n(&slots[rn(w, NSLOTS)], w->local[i],
						  __ATOMIC_ACQ_REL);
			if (old >= 0)
				close(old);
		} else {
			close(w->local[i]);
		}
		w->local[i] = -1;
	}
}

static int pick_op(struct worker *w)
{
	static int total;
	int i, r;

	if (!total)
		for (i = 0; i < OP_NR; i++)
			total += op_weight[i];
	r = (int)rn(w, (unsigned int)total);
	for (i = 0; i < OP_NR; i++) {
		r -= op_weight[i];
		if (r < 0)
			return i;
	}
	return OP_SOCKET;
}

#include "toy_fuzz_cover.h"
#include "toy_fuzz_diff.h"

static void set_timeouts(struct worker *w, int fd)
{
	long us = 1000 + rn(w, 60000);

	toy_set_timeo(fd, SO_RCVTIMEO, us);
	toy_set_timeo(fd, SO_SNDTIMEO, us);
}

static void new_fd(struct worker *w, int fd)
{
	if (fd < 0)
		return;
	set_timeouts(w, fd);
	slot_put(w, fd);
}

#include "toy_fuzz_ops.h"

#include "toy_fuzz_fault.h"

static void child_failed(struct worker *w, pid_t pid, int st, const char *what)
{
	__atomic_fetch_add(&shm->child_bad, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "# fuzz: ORACLE: %s child %d of process %d thread %d: %s %d\n",
		what, (int)pid, w->proc, w->id, WIFEXITED(st) ? "exit" : "signal",
		WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void dump_task(pid_t pid, pid_t tid);

/*
 * A fork-op child still running after KID_DUMP_SECS (SIGALRM ends it at
 * 30 s, a failure): its kernel stack and wait channel, once, so that the
 * failure says where it was.
 */
#define KID_DUMP_SECS	25

/* The state letter of task @pid (/proc/PID/stat), or 0 if it is gone. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* after the command name, which may hold any */
	return p && p[1] == ' ' ? p[2] : 0;
}

static void kid_watch(struct worker *w, int i)
{
	char path[64], wchan[64] = "", st;

	if (w->kid_dumped[i] || now() - w->kid_start[i] < KID_DUMP_SECS)
		return;
	w->kid_dumped[i] = true;
	st = task_state(w->kids[i]);
	if (!st || st == 'Z' || st == 'X')	/* done, not reaped yet */
		return;
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)w->kids[i]);
	toy_read_word(path, wchan, sizeof(wchan));
	fprintf(stderr, "# fuzz: fork-op child %d of process %d thread %d runs after %d s (state %c, wchan %s)\n",
		(int)w->kids[i], w->proc, w->id, KID_DUMP_SECS, st, wchan);
	dump_task(w->kids[i], w->kids[i]);
}

/* Reap our fork-op children (all of them if block); check how they ended. */
static void reap_kids(struct worker *w, bool block)
{
	int i;

	for (i = 0; i < w->nkids; i++)
		kid_watch(w, i);
	while (w->nkids > 0) {
		pid_t pid = w->kids[w->nkids - 1], r;
		int st;

		r = waitpid(pid, &st, WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && block) {	/* polled, to watch it meanwhile */
			kid_watch(w, w->nkids - 1);
			usleep(10000);
			continue;
		}
		if (r == 0)
			break;
		if (r == pid && (!WIFEXITED(st) || WEXITSTATUS(st)))
			child_failed(w, pid, st, "fork-op");
		w->nkids--;
	}
}

#include "toy_fuzz_calm.h"

static long run_one(struct worker *w, int op, bool in_child);

/* splice()/sendfile() between a socket and a pipe, both directions. */
static long do_splice(struct worker *w, int fd)
{
	int p[2];
	long ret;
	size_t len = rand_size(w);
	unsigned int fl = SPLICE_F_NONBLOCK | (chance(w, 30) ? SPLICE_F_MORE : 0);

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -1;
	if (chance(w, 50)) {
		ret = splice(fd, NULL, p[1], NULL, len, fl);
	} else {
		if (write(p[1], w->buf, 1 + rn(w, 4096)) < 0)
			(void)0;
		if (chance(w, 50))
			ret = splice(p[0], NULL, fd, NULL, len, fl);
		else
			ret = sendfile(fd, p[0], NULL, len);
	}
	toy_close_fds(p, 2);
	return ret;
}

/*
 * A well-formed connection (listener, connect, accept, a little data) so
 * that the random calls find sockets in every state; all three ends go to
 * slots, where other threads close and use them.
 */
static long do_flow(struct worker *w)
{
	int type = chance(w, 50) ? SOCK_STREAM : SOCK_SEQPACKET;
	int l, c, s = -1;
	uint32_t port;

	l = toy_listener_backlog(type, 1 + (int)rn(w, 4), &port);
	if (l < 0)
		return -1;
	__atomic_store_n(&lports[rn(w, 16)], port, __ATOMIC_RELAXED);
	c = socket(AF_TOY, type | SOCK_NONBLOCK, 0);
	if (c >= 0 && toy_connect(c, port) == 0) {
		s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (s >= 0 && chance(w, 70))
			send(c, w->buf, 1 + rn(w, 3000), MSG_DONTWAIT);
		if (s >= 0 && chance(w, 30))
			send(s, w->buf, 1 + rn(w, 3000), MSG_DONTWAIT);
	}
	if (c >= 0 && chance(w, 50))
		toy_set_nonblock(c, false);
	new_fd(w, l);
	new_fd(w, c);
	new_fd(w, s);
	return s >= 0 ? 0 : -1;
}

/* A child sharing all of our sockets runs a short sequence, then exits 0. */
static long do_fork(struct worker *w, bool netns)
{
	uint64_t crng = rnd(w);
	struct pop cp;
	pid_t pid;
	int i;

	reap_kids(w, false);
	if (w->nkids >= (int)(sizeof(w->kids) / sizeof(w->kids[0])))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int n = 10 + (int)(crng % 60);
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
		struct itimerspec its = { { 0, 50000000 }, { 0, 50000000 } };
		timer_t tm;

		/*
		 * Random setsockopt()s may leave a socket without a timeout:
		 * SIGUSR1 every 50 ms interrupts blocked calls, as the signal
		 * thread does for the workers; 30 s is the hard bound (SIGALRM
		 * kills, which is reported).
		 */
		if (!timer_create(CLOCK_MONOTONIC, &sev, &tm))
			timer_settime(tm, 0, &its, NULL);
		alarm(30);
		w->cover = NULL;	/* the parent thread's kcov area */
		if (netns && unshare(CLONE_NEWNET) == 0)
			__atomic_fetch_add(&shm->netns, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n && !__atomic_load_n(&shm->stop, __ATOMIC_RELAXED); i++) {
			memset(&cp, 0, sizeof(cp));
			cp.seed = splitmix(&crng);
			do
				cp.op = (uint8_t)(splitmix(&crng) % OP_NR);
			while (cp.op == OP_FORK || cp.op == OP_NETNS || cp.op == OP_CALM);
			w->cur = &cp;
			w->draw = 0;
			run_one(w, cp.op, true);
		}
		_exit(0);	/* closes everything it held, maybe last refs */
	}
	__atomic_fetch_add(&shm->forks, 1, __ATOMIC_RELAXED);
	w->kid_start[w->nkids] = now();
	w->kid_dumped[w->nkids] = false;
	w->kids[w->nkids++] = pid;
	return 0;
}

static long do_netns(struct worker *w)
{
	/* a child in a fresh netns, sharing our sockets */
	if (chance(w, 60))
		return do_fork(w, true);
	/* or this thread moves back to the initial netns ... */
	if (chance(w, 50))
		return setns(init_netns, CLONE_NEWNET);
	/* ... or to a fresh one; others keep using its sockets */
	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	__atomic_fetch_add(&shm->netns, 1, __ATOMIC_RELAXED);
	return 0;
}

/* The operations that are one call: of (worker, descriptor), of the worker. */
static long (*const fd_ops[OP_NR])(struct worker *w, int fd) = {
	[OP_ACCEPT] = do_accept, [OP_SEND] = do_send, [OP_RECV] = do_recv,
	[OP_MMSG] = do_mmsg, [OP_RW] = do_rw, [OP_GETSOCKOPT] = do_getsockopt,
	[OP_SETSOCKOPT] = do_setsockopt, [OP_IOCTL] = do_ioctl,
	[OP_NAME] = do_name, [OP_SPLICE] = do_splice,
};

static long (*const w_ops[OP_NR])(struct worker *w) = {
	[OP_POLL] = do_poll, [OP_EPOLL] = do_epoll, [OP_PROC] = do_proc,
	[OP_FLOW] = do_flow,
};

static long run_one(struct worker *w, int op, bool in_child)
{
	int fd = slot_get(w), sv[2], type;
	long ret = -1;

	if (verbose)
		fprintf(stderr, "# p%d t%d %s fd %d\n", w->proc, w->id, op_names[op], fd);
	switch (op) {
	case OP_SOCKET:
		type = rand_type(w);
		if (chance(w, 30))
			type |= SOCK_NONBLOCK;
		if (chance(w, 30))
			type |= SOCK_CLOEXEC;
		ret = socket(chance(w, 98) ? AF_TOY : (int)rn(w, 64), type,
			     chance(w, 97) ? 0 : (int)rn(w, 300));
		new_fd(w, (int)ret);
		break;
	case OP_SOCKETPAIR:
		type = rand_type(w);
		if (chance(w, 3))
			ret = socketpair(AF_TOY, type, 0, bad_ptr(w));
		else if ((ret = socketpair(AF_TOY, type, chance(w, 97) ? 0 : 1, sv)) == 0) {
			new_fd(w, sv[0]);
			new_fd(w, sv[1]);
		}
		break;
	case OP_BIND:
	case OP_CONNECT:
		ret = do_addr_call(w, fd, op);
		break;
	case OP_LISTEN: {
		static const int backlogs[] = { -1, 0, 1, 2, 5, 128, 1 << 20, INT32_MAX, INT32_MIN };

		ret = listen(fd, backlogs[rn(w, sizeof(backlogs) / sizeof(backlogs[0]))]);
		if (ret == 0) {
			long p = toy_port(fd);

			if (p > 0)
				__atomic_store_n(&lports[rn(w, 16)], (uint32_t)p,
						 __ATOMIC_RELAXED);
		}
		break;
	}
	case OP_SENDMSG:
		ret = do_sendmsg(w, fd, false);
		break;
	case OP_RECVMSG:
		ret = do_sendmsg(w, fd, true);
		break;
	case OP_SHUTDOWN:
		ret = shutdown(fd, chance(w, 95) ? (int)rn(w, 3) : (int)rnd(w));
		break;
	case OP_CLOSE: {
		int *l = chance(w, 60) ? local_pick(w, (unsigned int)rnd(w)) : NULL, old;

		if (l) {
			old = *l;
			*l = -1;
		} else {
			old = __atomic_exchange_n(&slots[rn(w, NSLOTS)], -1, __ATOMIC_ACQ_REL);
		}
		ret = old >= 0 ? close(old) : 0;
		break;
	}
	case OP_FCNTL:
		ret = do_fcntl(fd);
		break;
	case OP_DUP:
		ret = fd >= 0 ? dup(fd) : -1;
		if (ret >= 0)
			slot_put(w, (int)ret);
		break;
	case OP_FORK:
		ret = in_child ? -1 : do_fork(w, false);
		break;
	case OP_NETNS:
		ret = in_child ? -1 : do_netns(w);
		break;
	case OP_CALM:
		ret = do_calm(w, in_child);
		break;
	default:
		if (fd_ops[op])
			ret = fd_ops[op](w, fd);
		else if (w_ops[op])
			ret = w_ops[op](w);
		break;
	}
	__atomic_fetch_add(&shm->ops, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&shm->op_count[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		__atomic_fetch_add(&shm->op_ok[op], 1, __ATOMIC_RELAXED);
	return ret;
}

#include "toy_fuzz_proc.h"

/* ---- the test -------------------------------------------------------------- */

static int wait_proc_empty(void)
{
	int i, n = -1;

	for (i = 0; i < 2000; i++) {
		n = proc_count();
		if (n == 0)
			return 0;
		usleep(5000);
	}
	return n;
}

/* The differential mode for a few seeds, each in a child; how many failed. */
static int diff_seeds(uint64_t seed, long nseeds, int nops)
{
	int bad = 0, st;
	long i;

	for (i = 0; i < nseeds; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			st = diff_seed(seed + (uint64_t)i, nops);
			fflush(stdout);
			_exit(st);
		}
		st = pid < 0 ? -1 : wait_child(pid);
		if (st) {
			ksft_print_msg("fuzz-diff: seed %llu: %s %d\n",
				       (unsigned long long)(seed + (uint64_t)i),
				       st == 1 ? "DIVERGENCE, exit" : "FAILED, status", st);
			bad++;
		}
	}
	return bad;
}

/* Oracle (d): did every op that must succeed now and then do so? */
static int check_min_ok(void)
{
	int i, bad = 0;
	long ok;

	for (i = 0; i < OP_NR; i++) {
		long need = shm->op_count[i] * min_ok_permille[i] / 1000;

		if (!need && shm->op_count[i] >= 100)
			need = 1;
		if (!min_ok_permille[i] || shm->op_ok[i] >= need)
			continue;
		ksft_print_msg("fuzz: ORACLE: %s succeeded %ld times in %ld calls, at least %ld expected\n",
			       op_names[i], shm->op_ok[i], shm->op_count[i], need);
		bad++;
	}
	/* the calm ops (60% transfers, 10% each accept and connect) mostly complete */
	for (i = 0, ok = 0; i < C_NR; i++)
		ok += shm->calm_ok[i];
	if (shm->calm_run >= 10 && ok < shm->calm_run / 2) {
		ksft_print_msg("fuzz: ORACLE: %ld of %ld calm ops completed, at least half expected\n",
			       ok, shm->calm_run);
		bad++;
	}
	if (shm->calm_run >= 60 && (!shm->calm_ok[C_XFER] || !shm->calm_records ||
				    !shm->calm_ok[C_ACCEPT] || !shm->calm_ok[C_CONNECT])) {
		ksft_print_msg("fuzz: ORACLE: %ld calm ops, but not every scenario completed once\n",
			       shm->calm_run);
		bad++;
	}
	return bad;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, toy_ensure_module());
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* the fuzzer bounds itself (TOY_FUZZ_SECS); this is only a backstop */
TEST_F_TIMEOUT(fuzz, random_ops, 3600)
{
	uint64_t seed = (uint64_t)env_long("TOY_FUZZ_SEED", 1);
	long ops = env_long("TOY_FUZZ_OPS", 30000);
	long secs = env_long("TOY_FUZZ_SECS", 40);
	long slab_pct = env_long("TOY_FUZZ_FAILSLAB", 0);
	long page_pct = env_long("TOY_FUZZ_FAILPAGE", 0);
	long dseeds = env_long("TOY_FUZZ_DIFF_SEEDS", 12);
	int nprocs = (int)env_long("TOY_FUZZ_PROCS", 2), i, bad = 0, left, dbad;
	const char *corpus_file = getenv("TOY_FUZZ_CORPUS"), *why;
	pid_t pids[MAX_PROCS];
	bool slab = false, page = false, slab_filt = false, page_filt = false;
	long slab_n = -1, page_n = -1, loaded = 0, ncorpus, c;
	double start, hard, last_report, t;
	struct rlimit rl;

	verbose = getenv("TOY_FUZZ_VERBOSE") != NULL;
	random_only = env_long("TOY_FUZZ_RANDOM", 0) != 0;
	nthreads = (int)env_long("TOY_FUZZ_THREADS", 4);
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	if (nprocs < 1 || nprocs > MAX_PROCS)
		nprocs = 2;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shm);
	memset(shm, 0, sizeof(*shm));
	corpus = mmap(NULL, sizeof(*corpus), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, corpus);

	/* (5) differential runs against AF_UNIX, before any fault injection */
	dbad = diff_seeds(seed, dseeds, (int)env_long("TOY_FUZZ_DIFF_OPS", 300));
	ksft_print_msg("fuzz-diff: %ld seeds from %llu: %d diverged from AF_UNIX\n", dseeds,
		       (unsigned long long)seed, dbad);

	ksft_print_msg("fuzz: seed %llu, budget %ld ops / %ld s, %d procs x %d threads\n",
		       (unsigned long long)seed, ops, secs, nprocs, nthreads);
	why = kcov_probe();
	if (why)
		ksft_print_msg("fuzz: no coverage feedback (%s): random programs only\n", why);
	else
		ksft_print_msg("fuzz: KCOV: af_toy PCs %#lx..%#lx: %s\n", cov.lo, cov.lo + cov.span,
			       random_only ? "coverage measured, random programs (TOY_FUZZ_RANDOM)" :
			       "coverage-guided");
	if (corpus_file && *corpus_file) {
		loaded = cov.on ? corpus_load(corpus_file) : 0;
		ksft_print_msg("fuzz: corpus %s: %ld programs loaded%s\n", corpus_file, loaded,
			       cov.on ? "" : " (not used without KCOV)");
	}
	if (slab_pct > 0) {
		slab = fault_arm(FAILSLAB, slab_pct, false, &slab_filt);
		ksft_print_msg("fuzz: failslab %s (probability %ld%%, fuzzer tasks only, %s)\n",
			       slab ? "armed" : "NOT available", slab_pct,
			       slab_filt ? "only allocations from af_toy code" : "every allocation");
	}
	if (page_pct > 0) {
		page = fault_arm(FAILPAGE, page_pct, true, &page_filt);
		ksft_print_msg("fuzz: fail_page_alloc %s (probability %ld%%, fuzzer tasks only, %s)\n",
			       page ? "armed" : "NOT available", page_pct,
			       page_filt ? "only allocations from af_toy code" : "every allocation");
	}
	inject_armed = slab || page;
	set_make_it_fail(true);
	start = now();
	last_report = start;
	deadline = start + secs;
	hard = deadline + 120;
	for (i = 0; i < nprocs; i++) {
		int tries = 0;

		do
			pids[i] = fork();
		while (pids[i] < 0 && ++tries < 1000 && !usleep(1000));
		if (pids[i] == 0)
			_exit(proc_main(i, seed, ops / nprocs));
		if (pids[i] < 0) {
			ksft_print_msg("fuzz: fork failed: %s\n", strerror(errno));
			bad++;
		}
	}
	set_make_it_fail(false);
	left = nprocs;
	while (left > 0) {
		for (i = 0; i < nprocs; i++) {
			int st;

			if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i])
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				ksft_print_msg("fuzz: process %d: %s %d\n", i,
					       WIFEXITED(st) ? "exit" : "signal",
					       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				bad++;
			}
			pids[i] = 0;
		}
		left = 0;
		for (i = 0; i < nprocs; i++)
			left += pids[i] > 0;
		t = now();
		if (t - last_report >= 10) {
			last_report = t;
			ksft_print_msg("fuzz: coverage t=%.0f ops=%ld corpus=%ld lines=%ld\n",
				       t - start, shm->ops,
				       corpus->n < CORPUS_MAX ? corpus->n : CORPUS_MAX, shm->lines);
		}
		if (left && t > hard) {
			ksft_print_msg("fuzz: %d processes still running at the hard limit\n", left);
			__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);
			for (i = 0; i < nprocs; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			bad += left;
			break;
		}
		usleep(20000);
	}
	if (slab)
		slab_n = fault_disarm(FAILSLAB);
	if (page)
		page_n = fault_disarm(FAILPAGE);
	if (slab || page)
		write_str("/proc/self/make-it-fail", "0");

	t = now() - start;
	ncorpus = corpus->n < CORPUS_MAX ? corpus->n : CORPUS_MAX;
	ksft_print_msg("fuzz: coverage t=%.0f ops=%ld corpus=%ld lines=%ld\n", t, shm->ops,
		       ncorpus, shm->lines);
	ksft_print_msg("fuzz: %ld operations in %.1f s (%d procs x %d threads, seed %llu), %ld forks, %ld netns\n",
		       shm->ops, t, nprocs, nthreads, (unsigned long long)seed, shm->forks,
		       shm->netns);
	for (i = 0; i < OP_NR; i++)
		ksft_print_msg("fuzz:   %-10s %8ld calls %8ld succeeded\n", op_names[i],
			       shm->op_count[i], shm->op_ok[i]);
	if (slab)
		ksft_print_msg("fuzz: failslab injected faults: %ld\n", slab_n);
	if (page)
		ksft_print_msg("fuzz: fail_page_alloc injected faults: %ld\n", page_n);
	c = shm->calm_ok[C_XFER];
	ksft_print_msg("fuzz: calm ops: %ld run (%.0f ms each), %ld transfers (%ld bytes, %ld records checked), %ld accepts, %ld connects, %ld aborted by shutdown(), %ld inconclusive, %ld skipped (%d per process at a time)\n",
		       shm->calm_run, shm->calm_run ? shm->calm_usecs / 1e3 / shm->calm_run : 0.0,
		       c, shm->calm_bytes, shm->calm_records,
		       shm->calm_ok[C_ACCEPT], shm->calm_ok[C_CONNECT],
		       shm->calm_ok[C_ACCEPT_SHUT] + shm->calm_ok[C_CONNECT_SHUT], shm->calm_skipped,
		       shm->calm_busy, CALM_PAR);
	ksft_print_msg("fuzz: summary: %.0f ops/s, %ld programs, %s, %ld lost wake-ups, %ld data/semantics failures, %ld bad child exits\n",
		       t > 0 ? shm->ops / t : 0.0, shm->execs,
		       !cov.on ? "random (no KCOV)" : random_only ? "random (KCOV measured)" :
		       "coverage-guided", shm->lost,
		       shm->bad_data, shm->child_bad);
	if (cov.on) {
		ksft_print_msg("fuzz: summary: %ld af_toy PCs covered, corpus %ld programs (%ld of %ld loaded kept, %ld new), %ld generated, %ld mutated\n",
			       shm->lines, ncorpus, corpus->seeds_kept, loaded,
			       ncorpus - corpus->seeds_kept, corpus->generated, corpus->mutated);
		corpus_print();
	}
	EXPECT_EQ(0, dbad);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, shm->ops);
	EXPECT_EQ(0, shm->lost);
	EXPECT_EQ(0, shm->bad_data);
	EXPECT_EQ(0, shm->child_bad);
	EXPECT_EQ(0, check_min_ok());
	/* everything closed: no socket may linger */
	EXPECT_EQ(0, wait_proc_empty());
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--diff"))
		return diff_main(argc, argv);
	return test_harness_run(argc, argv);
}

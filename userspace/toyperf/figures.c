// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: the figures, measured once per run for AF_TOY and AF_UNIX.
 *   idlemem   the MemAvailable drop per idle STREAM socketpair, KiB
 *   bindlat   socket()+bind()+close() of a DGRAM socket to an ephemeral
 *             port, alone and while another process holds many
 *   callcost  each call of a STREAM connection's life, both ends in this
 *             process: socket(), connect(), close() of the client, accept(),
 *             close() of the accepted socket
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "toyperf.h"

/*
 * MemAvailable once it stopped moving: two readings 100 ms apart within
 * 64 KiB (at most 5 s), so that pages freed just before are counted.
 */
static long mem_settled_kib(void)
{
	return toy_mem_settled_kib(50, 100000, 65);
}

/* Raises RLIMIT_NOFILE to at least @want (the hard limit too if we may). */
static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	/* not allowed past the hard limit: as far as it goes */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void set_sndbuf(int fd, int bytes)
{
	if (geteuid() == 0 &&
	    !setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

/*
 * Pushes IDLE_BYTES from @from to @to in IDLE_CHUNK writes and reads them
 * all back.  Both ends are ours, so nothing blocks: write while there is
 * room, read when there is not.  0, or -1 on an error or no progress.
 */
static int pump(int from, int to, char *buf)
{
	size_t sent = 0, got = 0, len;
	int stuck = 0;
	ssize_t n;

	while (got < IDLE_BYTES) {
		if (sent < IDLE_BYTES) {
			len = IDLE_BYTES - sent < IDLE_CHUNK ? IDLE_BYTES - sent
							     : IDLE_CHUNK;
			n = send(from, buf, len, MSG_DONTWAIT);
			if (n > 0) {
				sent += n;
				stuck = 0;
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
		n = recv(to, buf, IDLE_CHUNK, MSG_DONTWAIT);
		if (n > 0) {
			got += n;
			stuck = 0;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
		    ++stuck > 1000)
			return -1;
		usleep(1000);
	}
	return 0;
}

/*
 * Makes up to idle_pairs socketpairs in sv[] that moved IDLE_BYTES each
 * way; how many were made, *ok false if one of them failed.
 */
static int make_idle_pairs(int fam, int (*sv)[2], char *buf, bool *ok)
{
	int i, n = 0;

	*ok = true;
	for (i = 0; i < idle_pairs && *ok; i++) {
		if (socketpair(sock_domain(fam), SOCK_STREAM, 0, sv[i]) < 0) {
			fprintf(stderr, "toyperf: idlemem %s: socketpair %d: %s\n",
				fam_name[fam], i, strerror(errno));
			break;
		}
		n++;
		set_sndbuf(sv[i][0], IDLE_SNDBUF);
		set_sndbuf(sv[i][1], IDLE_SNDBUF);
		if (pump(sv[i][0], sv[i][1], buf) < 0 ||
		    pump(sv[i][1], sv[i][0], buf) < 0) {
			fprintf(stderr, "toyperf: idlemem %s: pair %d: %s\n",
				fam_name[fam], i, strerror(errno));
			*ok = false;
		}
		if ((i & 15) == 15 && toy_mem_available_kib() < IDLE_FLOOR_KIB) {
			fprintf(stderr, "toyperf: idlemem %s: MemAvailable below "
				"%d MiB after %d pairs: stopped there\n",
				fam_name[fam], IDLE_FLOOR_KIB / 1024, n);
			break;
		}
	}
	return n;
}

/*
 * idlemem: the MemAvailable drop per STREAM socketpair that moved
 * IDLE_BYTES each way and then sat idle for 1 s, in KiB.
 */
static void fig_idlemem(struct figures *fg, int fam)
{
	int (*sv)[2] = calloc(idle_pairs, sizeof(*sv));
	char *buf = buffer(IDLE_CHUNK);
	long before, after = -1;
	int i, n;
	bool ok;

	if (!sv)
		die("calloc");
	raise_nofile(2 * idle_pairs + 64);
	before = mem_settled_kib();	/* what earlier cells freed, settles */
	n = make_idle_pairs(fam, sv, buf, &ok);
	if (ok && n) {
		usleep(1000000);	/* idle: the writers' data was read */
		after = mem_settled_kib();
	}
	for (i = 0; i < n; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	free(sv);
	free(buf);
	fg->pairs[fam] = n;
	if (before < 0 || after < 0)
		return;
	fg->drop_kib[fam] = before - after;
	fg->idle_kib[fam] = (double)(before - after) / n;
}

/* A DGRAM socket bound to an ephemeral port (AF_UNIX: autobind), or -1. */
static int bind_any(int fam)
{
	union addr a;
	socklen_t alen;
	int fd = socket(sock_domain(fam), SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	if (fam == F_TOY) {
		a.toy.stoy_family = toy_family;
		alen = sizeof(a.toy);
	} else {
		a.un.sun_family = AF_UNIX;
		alen = sizeof(sa_family_t);
	}
	if (bind(fd, &a.sa, alen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Forks another user of the port space: a process that binds @n DGRAM
 * sockets of @fam and holds them until *@release is closed.  Returns its
 * pid, with how many it bound in *@made.
 */
static pid_t hold_bound(int fam, int n, int *release, int *made)
{
	int ready[2], hold[2], k = 0;
	pid_t pid;
	char c;

	if (pipe(hold) < 0)
		die("pipe");
	pid = spawn(ready);
	if (!pid) {
		close(ready[0]);
		close(hold[1]);
		raise_nofile(65536);
		while (k < n && bind_any(fam) >= 0)
			k++;
		if (k < n)
			fprintf(stderr, "toyperf: bindlat %s: holder bound %d of "
				"%d: %s\n", fam_name[fam], k, n, strerror(errno));
		if (write(ready[1], &k, sizeof(k)) != sizeof(k))
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (read(ready[0], made, sizeof(*made)) != sizeof(*made))
		*made = -1;
	close(ready[0]);
	*release = hold[1];
	return pid;
}

/* Mean µs of bind_iters socket()+bind()+close(), or NAN. */
static double bind_latency(int fam)
{
	double t0;
	int i, fd;

	for (i = 0; i < bind_iters / 20 + 1; i++) {	/* warm-up */
		fd = bind_any(fam);
		if (fd < 0)
			return NAN;
		close(fd);
	}
	t0 = now();
	for (i = 0; i < bind_iters; i++) {
		fd = bind_any(fam);
		if (fd < 0) {
			fprintf(stderr, "toyperf: bindlat %s: bind %d: %s\n",
				fam_name[fam], i, strerror(errno));
			return NAN;
		}
		close(fd);
	}
	return (now() - t0) / bind_iters * 1e6;
}

/*
 * A figure that times calls runs on CPU 0 under --pin same, as the
 * workloads' pairs do: fig_pin() saves where this process may run into
 * @saved, fig_unpin() puts it back.
 */
static void fig_pin(cpu_set_t *saved)
{
	sched_getaffinity(0, sizeof(*saved), saved);
	if (pin_same)
		pin_cpu(0);
}

static void fig_unpin(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

/* bindlat for one family and one count of sockets held elsewhere. */
static void fig_bindlat(struct figures *fg, int h, int fam)
{
	int release = -1, status;
	pid_t pid = 0;
	cpu_set_t all;

	fg->held_made[h][fam] = 0;
	if (fg->held[h]) {
		pid = hold_bound(fam, fg->held[h], &release,
				 &fg->held_made[h][fam]);
		if (fg->held_made[h][fam] < 0) {
			close(release);
			waitpid(pid, &status, 0);
			return;
		}
	}
	fig_pin(&all);
	fg->bind_us[h][fam] = bind_latency(fam);
	fig_unpin(&all);
	if (pid) {
		close(release);
		waitpid(pid, &status, 0);
	}
}

/* ----------------------------------------------------------- callcost */

/* One family's listener and the seconds its calls took, summed. */
struct callcost {
	int lfd;			/* -1: failed, the family stays NAN */
	union addr a;
	socklen_t alen;
	double sec[NCALL];
};

/* Says which call of a batch failed, with errno. */
static void call_failed(int fam, const char *call, int i)
{
	fprintf(stderr, "toyperf: callcost %s: %s %d of a batch: %s\n",
		fam_name[fam], call, i, strerror(errno));
}

/*
 * socket() and connect() of up to CALL_BATCH clients into @c, each call
 * timed alone; how many were connected (fewer: said on stderr).
 */
static int connect_timed(int fam, const struct callcost *cc, int *c,
			 double *sec)
{
	double t;
	int n;

	for (n = 0; n < CALL_BATCH; n++) {
		t = now();
		c[n] = socket(sock_domain(fam), SOCK_STREAM, 0);
		sec[C_SOCKET] += now() - t;
		if (c[n] < 0) {
			call_failed(fam, "socket", n);
			break;
		}
		t = now();
		if (connect(c[n], &cc->a.sa, cc->alen) < 0) {
			call_failed(fam, "connect", n);
			close(c[n]);
			break;
		}
		sec[C_CONNECT] += now() - t;
	}
	return n;
}

/* accept() of @n connections into @s, each timed; how many were accepted. */
static int accept_timed(int fam, int lfd, int *s, int n, double *sec)
{
	double t;
	int m;

	for (m = 0; m < n; m++) {
		t = now();
		s[m] = accept(lfd, NULL, NULL);
		*sec += now() - t;
		if (s[m] < 0) {
			call_failed(fam, "accept", m);
			break;
		}
	}
	return m;
}

/* close() of the @n sockets of @fd, each timed. */
static void close_timed(const int *fd, int n, double *sec)
{
	double t;
	int i;

	for (i = 0; i < n; i++) {
		t = now();
		close(fd[i]);
		*sec += now() - t;
	}
}

/*
 * One batch: CALL_BATCH clients made and connected, then all closed, then
 * their connections accepted and closed.  Each kind of call comes in a
 * run of its own, so that each is timed alone; the clients are gone
 * before their connections are accepted, as in the hand-made measurements
 * this figure replaces, so that it compares with them.  Adds the seconds
 * to @sec; 0, or -1 (said on stderr, every socket of the batch closed).
 */
static int call_batch(int fam, const struct callcost *cc, double *sec)
{
	int c[CALL_BATCH], s[CALL_BATCH];
	int n, m;

	n = connect_timed(fam, cc, c, sec);
	close_timed(c, n, &sec[C_CLOSE_CLIENT]);
	m = accept_timed(fam, cc->lfd, s, n, &sec[C_ACCEPT]);
	close_timed(s, m, &sec[C_CLOSE_SERVER]);
	return n == CALL_BATCH && m == n ? 0 : -1;
}

/* Gives up on the family of @cc: its figures stay NAN. */
static void call_stop(struct callcost *cc)
{
	close(cc->lfd);
	cc->lfd = -1;
}

/*
 * The listener of @fam in @cc (AF_TOY: an ephemeral port; AF_UNIX: an
 * abstract name of this pid), then CALL_WARMUP batches not counted, so
 * that the first counted ones do not pay for the caches and the slabs.
 */
static void call_start(int fam, struct callcost *cc)
{
	double warm[NCALL] = { 0 };
	int i;

	memset(cc, 0, sizeof(*cc));
	cc->lfd = bound_socket(fam, SOCK_STREAM, true, &cc->a, &cc->alen);
	if (cc->lfd < 0) {
		fprintf(stderr, "toyperf: callcost %s: listener: %s\n",
			fam_name[fam], strerror(errno));
		return;
	}
	set_rcvtimeo(cc->lfd, 5);	/* an accept() that would hang fails */
	for (i = 0; i < CALL_WARMUP && cc->lfd >= 0; i++)
		if (call_batch(fam, cc, warm) < 0)
			call_stop(cc);
}

/* CALL_BATCHES counted batches of @fam; the first failure ends them. */
static void call_round(int fam, struct callcost *cc)
{
	int b;

	for (b = 0; b < CALL_BATCHES && cc->lfd >= 0; b++)
		if (call_batch(fam, cc, cc->sec) < 0)
			call_stop(cc);
}

/* The mean µs per call of @fam, and their sum, into fg->call_us. */
static void call_finish(struct figures *fg, int fam, struct callcost *cc)
{
	int c;

	if (cc->lfd < 0)
		return;
	close(cc->lfd);
	fg->call_us[C_ALL][fam] = 0;
	for (c = 0; c < NCALL; c++) {
		fg->call_us[c][fam] = cc->sec[c] / CALL_CONNS * 1e6;
		fg->call_us[C_ALL][fam] += fg->call_us[c][fam];
	}
}

/*
 * callcost: the mean µs of each call of a STREAM connection's life, both
 * ends in this process, so that it is the CPU cost of the calls with no
 * wake-up of another process.  The families take turns over CALL_ROUNDS
 * rounds, the first of a round alternating, so that a slow phase of a
 * loaded host falls on both alike.
 */
static void fig_callcost(struct figures *fg)
{
	struct callcost cc[F_UNIX + 1];
	cpu_set_t all;
	int r, i, f;

	fig_pin(&all);
	for (f = F_TOY; f <= F_UNIX; f++)
		call_start(f, &cc[f]);
	for (r = 0; r < CALL_ROUNDS; r++) {
		fprintf(stderr, "toyperf: callcost round %d/%d\n", r + 1,
			CALL_ROUNDS);
		for (i = 0; i < 2; i++) {
			f = (r + i) % 2 ? F_UNIX : F_TOY;
			call_round(f, &cc[f]);
		}
	}
	for (f = F_TOY; f <= F_UNIX; f++)
		call_finish(fg, f, &cc[f]);
	fig_unpin(&all);
}

void run_figures(struct figures *fg)
{
	int f, h, c;

	for (f = 0; f < NFAM; f++) {
		fg->idle_kib[f] = NAN;
		fg->drop_kib[f] = NAN;
		for (h = 0; h < NFIG_HELD; h++)
			fg->bind_us[h][f] = NAN;
		for (c = 0; c <= NCALL; c++)
			fg->call_us[c][f] = NAN;
	}
	fg->held[0] = 0;
	fg->held[1] = bind_held;
	for (f = F_TOY; f <= F_UNIX && fg->idlemem; f++) {
		fprintf(stderr, "toyperf: idlemem %s\n", fam_name[f]);
		fig_idlemem(fg, f);
	}
	for (h = 0; h < NFIG_HELD && fg->bindlat; h++) {
		for (f = F_TOY; f <= F_UNIX; f++) {
			fprintf(stderr, "toyperf: bindlat %s, %d held\n",
				fam_name[f], fg->held[h]);
			fig_bindlat(fg, h, f);
		}
	}
	if (fg->callcost)
		fig_callcost(fg);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers and the fixture of the regression tests (toy_regress_*.c, one
 * section per defect found in review, numbered as in the review: tests
 * d01a_... to d15_...); include after kselftest_harness.h.
 *
 * Every test asserts the correct behaviour: values, errnos, bytes,
 * signals, poll masks.  Where Linux has a reference, the same steps run
 * on it in the same test (AF_UNIX, or TCP/UDP over 127.0.0.1) and AF_TOY
 * must agree.  No timing assertions: blocked calls are bounded by
 * SO_SNDTIMEO/SO_RCVTIMEO or poll timeouts of several seconds and waiting
 * loops are bounded; they only decide "happened / did not happen".
 */
#ifndef TOY_REGRESS_H
#define TOY_REGRESS_H

#include "toy_common.h"

#include <pthread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/vfs.h>

/* ---- helpers ----------------------------------------------------------- */

/* socket(AF_INET, type) bound to 127.0.0.1:0; its address in *a. */
static inline int inet_bound(int type, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, type, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(fd, (struct sockaddr *)a, &len))
		return -1;
	return fd;
}

/* A connected TCP pair over loopback: *c connected, *s accepted. */
static inline int tcp_pair(int *c, int *s)
{
	struct sockaddr_in a;
	int l = inet_bound(SOCK_STREAM, &a);

	if (l < 0 || listen(l, 4))
		return -1;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept(l, NULL, NULL);
	close(l);
	return *s < 0 ? -1 : 0;
}

enum { F_TOY, F_UNIX, F_TCP, NFAM };
static const char * const fam_name[NFAM] = { "AF_TOY", "AF_UNIX", "TCP" };

static inline int stream_pair(int fam, int sv[2])
{
	if (fam == F_TCP)
		return tcp_pair(&sv[0], &sv[1]);
	return socketpair(fam == F_TOY ? AF_TOY : AF_UNIX, SOCK_STREAM, 0, sv);
}

static inline int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_SOCKET, opt, &val, sizeof(val));
}

/* Bounded wait until FIONREAD of fd reaches want.  0 or -1. */
static inline int wait_inq(int fd, int want)
{
	int i, v = -1;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (ioctl(fd, FIONREAD, &v) == 0 && v >= want)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

static inline void close_all(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

static inline void close2(int a, int b)
{
	close(a);
	close(b);
}

/* Was SIGPIPE (blocked by the caller) raised?  Consumes it. */
static inline bool sigpipe_taken(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	return sigtimedwait(&set, NULL, &zero) == SIGPIPE;
}

static inline void block_sigpipe(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, old);
	while (sigpipe_taken())
		;
}

/* ---- helper threads (struct thr: toy_common.h) ----------------------- */

static inline void on_usr1(int sig)
{
	(void)sig;
}

/* Joins t; if it is still blocked, ends the call (SIGUSR1: EINTR) first. */
static inline void thr_interrupt(struct thr *t)
{
	int i;

	toy_sigaction(SIGUSR1, on_usr1, 0);
	for (i = 0; i < 1000 && !thr_done(t); i++) {
		pthread_kill(t->th, SIGUSR1);
		usleep(10000);
	}
	pthread_join(t->th, NULL);
}

static inline long th_connect(struct thr *t)
{
	return toy_connect(t->fd, t->port);
}

static inline long th_poll_out(struct thr *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };
	long r = poll(&p, 1, 10000);

	t->revents = p.revents;
	return r;
}

static inline long th_recvfrom(struct thr *t)
{
	char buf[64];

	return recvfrom(t->fd, buf, sizeof(buf), 0, NULL, NULL);
}

static inline long th_sendto_loop(struct thr *t)
{
	struct sockaddr_toy a = toy_addr(t->port);
	static char buf[4096];
	ssize_t r;

	for (t->count = 0; t->count < t->n; t->count++) {
		r = sendto(t->fd, buf, sizeof(buf), 0, (struct sockaddr *)&a,
			   sizeof(a));
		if (r != (ssize_t)sizeof(buf))
			return r;
	}
	return 0;
}

/*
 * A STREAM listener with listen(L, 0) and a full backlog (the connects that
 * filled it are in fills[], *nfill of them), and thread t blocked in a
 * connect() to it (SYN_SENT) with SO_SNDTIMEO timeo_us.  Returns L or -1.
 */
static inline int blocked_connect(struct thr *t, int *fills, int *nfill, long timeo_us)
{
	int l = toy_listener_backlog(SOCK_STREAM, 0, &t->port), n = 0, fd, err;

	for (err = 0; l >= 0 && n < 8 && !err; n++) {
		fd = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0 || toy_connect(fd, t->port) < 0) {
			err = errno;
			close(fd);
			n--;
		} else {
			fills[n] = fd;
		}
	}
	*nfill = n;
	if (l < 0 || !n || err != EAGAIN)
		return -1;
	t->fd = toy_socket(SOCK_STREAM);
	if (t->fd < 0 || toy_set_timeo(t->fd, SO_SNDTIMEO, timeo_us) ||
	    thr_start(t, th_connect) || wait_proc_state(t->fd, "SYN_SENT") ||
	    thr_wait_blocked(t, SYS_connect))
		return -1;
	return l;
}

FIXTURE(regress)
{
	int unused;
};

FIXTURE_SETUP(regress)
{
	ASSERT_EQ(0, toy_ensure_module());
	toy_lo_up();
}

FIXTURE_TEARDOWN(regress)
{
}

#define REGRESS(name) TEST_F_TIMEOUT(regress, name, 120)

#endif /* TOY_REGRESS_H */

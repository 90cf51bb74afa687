// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: sockets of the three families (AF_TOY, AF_UNIX with abstract
 * names, TCP/UDP on 127.0.0.1), the child processes a measurement runs
 * its peer in, and the clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "toyperf.h"

const char *const fam_name[NFAM] = { "AF_TOY", "AF_UNIX", "TCP" };
const char *const fam_key[NFAM] = { "toy", "unix", "tcp" };
int toy_family = AF_TOY;

double cell_csw, cell_ops, cell_secs;

void die(const char *what)
{
	fprintf(stderr, "toyperf: %s: %s\n", what, strerror(errno));
	exit(1);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

char *buffer(size_t size)
{
	char *p = malloc(size);

	if (!p)
		die("malloc");
	memset(p, 'x', size);
	return p;
}

/* ------------------------------------------------------------ addresses */

int sock_domain(int fam)
{
	return fam == F_TOY ? toy_family : fam == F_UNIX ? AF_UNIX : AF_INET;
}

int new_socket(int fam, int type)
{
	int fd = socket(sock_domain(fam), type, 0);

	if (fd < 0)
		return -1;
	if (fam == F_IP && type == SOCK_STREAM) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

int bound_socket(int fam, int type, bool listen_too, union addr *a,
		 socklen_t *alen)
{
	static unsigned int seq;
	int fd = new_socket(fam, type);

	if (fd < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	switch (fam) {
	case F_TOY:
		a->toy.stoy_family = toy_family;
		*alen = sizeof(a->toy);
		break;
	case F_UNIX:
		a->un.sun_family = AF_UNIX;
		/* abstract name */
		*alen = offsetof(struct sockaddr_un, sun_path) + 1 +
			snprintf(a->un.sun_path + 1, sizeof(a->un.sun_path) - 1,
				 "toyperf-%d-%u", getpid(), seq++);
		break;
	default:
		a->in.sin_family = AF_INET;
		a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*alen = sizeof(a->in);
		break;
	}
	if (bind(fd, &a->sa, *alen) < 0)
		goto fail;
	if (fam != F_UNIX && getsockname(fd, &a->sa, alen) < 0)
		goto fail;
	if (listen_too && listen(fd, 4096) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int conn_pair(int fam, int type, int sv[2])
{
	union addr a;
	socklen_t alen;
	int lfd, c, s;

	lfd = bound_socket(fam, type, true, &a, &alen);
	if (lfd < 0)
		return -1;
	c = new_socket(fam, type);
	if (c < 0 || connect(c, &a.sa, alen) < 0) {
		close(lfd);
		if (c >= 0)
			close(c);
		return -1;
	}
	s = accept(lfd, NULL, NULL);
	close(lfd);
	if (s < 0) {
		close(c);
		return -1;
	}
	sv[0] = c;
	sv[1] = s;
	return 0;
}

void set_rcvtimeo(int fd, double sec)
{
	struct timeval tv = { (time_t)sec, (long)((sec - (long)sec) * 1e6) };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ------------------------------------------------ child process helpers */

pid_t spawn(int pfd[2])
{
	pid_t pid;

	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

pid_t spawn_peer(int pfd[2], int sv[2])
{
	pid_t pid = spawn(pfd);

	close(pid ? pfd[1] : pfd[0]);
	close(pid ? sv[1] : sv[0]);
	return pid;
}

void child_report(int wfd, const struct report *r)
{
	if (write(wfd, r, sizeof(*r)) != sizeof(*r))
		_exit(1);
	_exit(0);
}

int collect(pid_t pid, int rfd, struct report *r)
{
	ssize_t n = read(rfd, r, sizeof(*r));
	struct rusage ru;
	int status;

	close(rfd);
	if (wait4(pid, &status, 0, &ru) == pid)
		cell_csw += ru.ru_nvcsw + ru.ru_nivcsw;
	return n == sizeof(*r) ? 0 : -1;
}

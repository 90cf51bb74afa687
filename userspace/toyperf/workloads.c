// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: the workloads.  A cell is one workload over one family for
 * run_time: the peer runs in a child process, connected before the clock
 * starts, and reports what it received through a pipe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "toyperf.h"

/*
 * The goals are AF_TOY/AF_UNIX ratios that must hold with the ends pinned
 * and unpinned alike: at least AF_UNIX's speed everywhere, more where the
 * design should win (one lock and no credentials per small write, no
 * skb per 64-byte write, fewer wake-ups per round trip).
 */
const struct workload workloads[] = {
	{ "stream-64", "stream 64 B", K_STREAM, 64, "MB/s", false, 1.2 },
	{ "stream-4k", "stream 4 KiB", K_STREAM, 4096, "MB/s", false, 1.0 },
	{ "stream-64k", "stream 64 KiB", K_STREAM, 65536, "MB/s", false, 2.0 },
	{ "seqpacket-64", "seqpacket 64 B", K_SEQPACKET, 64, "kmsg/s", false, 1.0 },
	{ "seqpacket-4k", "seqpacket 4 KiB", K_SEQPACKET, 4096, "kmsg/s", false, 1.0 },
	{ "dgram-64", "dgram 64 B", K_DGRAM, 64, "kmsg/s", false, 1.0 },
	{ "dgram-4k", "dgram 4 KiB", K_DGRAM, 4096, "kmsg/s", false, 1.0 },
	{ "pingpong", "ping-pong 1 B RTT", K_PINGPONG, 1, "us", true, 0.8 },
	{ "connect", "connect+accept+close", K_CONNECT, 0, "k/s", false, 1.2 },
	{ "dual-stream", "2 stream pairs 64 KiB", K_DUAL, 65536, "MB/s", false, 1.0 },
};
_Static_assert(sizeof(workloads) / sizeof(workloads[0]) == NWL, "NWL");

/* Reader side of a byte stream: drains until EOF. */
static void drain_stream(int fd, int wfd)
{
	struct report r = { 0 };
	char *buf = buffer(65536);
	ssize_t n;

	while ((n = read(fd, buf, 65536)) > 0)
		r.count += n;
	r.t_end = now();
	child_report(wfd, &r);
}

/* Writes @size-byte chunks until @deadline; returns bytes written. */
static double write_until(int fd, size_t size, double deadline)
{
	char *buf = buffer(size);
	double total = 0;
	unsigned int i = 0;
	ssize_t n;

	for (;;) {
		if ((++i & 15) == 0 || size >= 4096)
			if (now() >= deadline)
				break;
		n = write(fd, buf, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		total += n;
	}
	free(buf);
	return total;
}

static double bench_stream(int fam, size_t size)
{
	struct report r;
	int sv[2], pfd[2];
	double t0;
	pid_t pid;

	if (conn_pair(fam, SOCK_STREAM, sv) < 0)
		return -1;
	pid = spawn_peer(pfd, sv);
	if (!pid) {
		drain_stream(sv[1], pfd[1]);
	}
	t0 = now();
	cell_ops = write_until(sv[0], size, t0 + run_time) / size;
	shutdown(sv[0], SHUT_WR);
	if (collect(pid, pfd[0], &r) < 0) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	cell_secs = r.t_end - t0;
	return r.count / cell_secs / 1e6;
}

/* dual-stream: the writer of pair i, on CPU i, from t0 on. */
static pid_t dual_writer(int i, int sv[2], int wpfd[2], size_t size, double t0)
{
	pid_t pid = spawn(wpfd);
	struct report w = { 0 };

	if (pid)
		return pid;
	pin_cpu(i);
	close(wpfd[0]);
	close(sv[1]);
	while (now() < t0)
		;
	w.count = write_until(sv[0], size, t0 + run_time);
	shutdown(sv[0], SHUT_WR);
	child_report(wpfd[1], &w);
}

static double bench_dual(int fam, size_t size)
{
	struct report r;
	int sv[2][2], pfd[2][2], wpfd[2][2];
	pid_t rpid[2], wpid[2];
	double t0, total = 0, t_end = 0;
	int i, ok = 0;

	for (i = 0; i < 2; i++)
		if (conn_pair(fam, SOCK_STREAM, sv[i]) < 0)
			return -1;
	t0 = now() + 0.02;
	for (i = 0; i < 2; i++) {
		rpid[i] = spawn(pfd[i]);
		if (!rpid[i]) {
			pin_cpu(i);
			close(pfd[i][0]);
			close(sv[i][0]);
			drain_stream(sv[i][1], pfd[i][1]);
		}
		close(pfd[i][1]);
		wpid[i] = dual_writer(i, sv[i], wpfd[i], size, t0);
		close(wpfd[i][1]);
		close(sv[i][0]);
		close(sv[i][1]);
	}
	for (i = 0; i < 2; i++) {
		if (collect(wpid[i], wpfd[i][0], &r) == 0)
			ok++;
		if (collect(rpid[i], pfd[i][0], &r) == 0) {
			ok++;
			total += r.count;
			if (r.t_end > t_end)
				t_end = r.t_end;
		}
	}
	if (ok != 4)
		return -1;
	cell_ops = total / size;
	cell_secs = t_end - t0;
	return total / cell_secs / 1e6;
}

/* A connected SEQPACKET pair, or a DGRAM socket connected to a bound one. */
static int msgs_pair(int fam, int type, int sv[2])
{
	union addr a;
	socklen_t alen;

	if (type == SOCK_SEQPACKET)
		return conn_pair(fam, type, sv);
	sv[1] = bound_socket(fam, type, false, &a, &alen);
	if (sv[1] < 0)
		return -1;
	sv[0] = new_socket(fam, type);
	if (sv[0] < 0 || connect(sv[0], &a.sa, alen) < 0) {
		close(sv[1]);
		if (sv[0] >= 0)
			close(sv[0]);
		return -1;
	}
	return 0;
}

/* The child: counts size-byte messages until EOF, the end or 0.5 s idle. */
static void msgs_receiver(int fd, size_t size, int wfd)
{
	struct report rr = { 0 };
	char *rbuf = buffer(size + 1);
	ssize_t n;

	set_rcvtimeo(fd, 0.5);
	for (;;) {
		n = recv(fd, rbuf, size + 1, 0);
		if (n <= 0 || n != (ssize_t)size) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 1 || n == 0)
				rr.t_end = now();	/* end marker / EOF */
			break;
		}
		rr.count++;
		rr.t_end = now();
	}
	child_report(wfd, &rr);
}

/* Sends size-byte messages until deadline, then the end: how many went. */
static double msgs_send(int fam, int type, int fd, const char *buf,
			size_t size, double deadline)
{
	unsigned int i = 0;
	double sent = 0;

	for (;;) {
		if ((++i & 15) == 0 || size >= 4096)
			if (now() >= deadline)
				break;
		if (send(fd, buf, size, 0) == (ssize_t)size)
			sent++;
		else if (errno != EINTR && errno != ENOBUFS)
			break;
	}
	if (type == SOCK_SEQPACKET) {
		shutdown(fd, SHUT_WR);
	} else {
		/* 1-byte end marker; sent thrice for UDP which may drop it */
		for (i = 0; i < (fam == F_IP ? 3u : 1u); i++) {
			send(fd, buf, 1, 0);
			if (fam == F_IP)
				usleep(20000);
		}
	}
	return sent;
}

/* SEQPACKET or DGRAM: messages per second (thousands). */
static double bench_msgs(int fam, int type, size_t size, double *loss)
{
	struct report r;
	int sv[2], pfd[2];
	double t0, sent;
	char *buf;
	pid_t pid;

	*loss = -1;
	if (msgs_pair(fam, type, sv) < 0)
		return -1;
	pid = spawn_peer(pfd, sv);
	if (!pid) {
		msgs_receiver(sv[1], size, pfd[1]);
	}
	buf = buffer(size);
	t0 = now();
	sent = msgs_send(fam, type, sv[0], buf, size, t0 + run_time);
	free(buf);
	if (collect(pid, pfd[0], &r) < 0 || r.count == 0) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	cell_ops = r.count;
	if (fam == F_IP && type == SOCK_DGRAM)
		*loss = sent > 0 ? (sent - r.count) / sent : 0;
	else if (r.count != sent)
		/* AF_TOY and AF_UNIX are reliable: this must not happen */
		printf("toyperf: WARNING: %s %s lost messages: sent %.0f, "
		       "received %.0f\n", fam_name[fam],
		       type == SOCK_DGRAM ? "DGRAM" : "SEQPACKET", sent, r.count);
	cell_secs = r.t_end - t0;
	return r.count / cell_secs / 1e3;
}

static double bench_pingpong(int fam)
{
	struct report r;
	int sv[2], pfd[2];
	double t0, deadline, count = 0;
	char c = 'p';
	pid_t pid;

	if (conn_pair(fam, SOCK_STREAM, sv) < 0)
		return -1;
	pid = spawn_peer(pfd, sv);
	if (!pid) {
		struct report rr = { 0 };

		while (read(sv[1], &c, 1) == 1 && write(sv[1], &c, 1) == 1)
			rr.count++;
		child_report(pfd[1], &rr);
	}
	t0 = now();
	deadline = t0 + run_time;
	do {
		if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
			break;
		count++;
	} while (now() < deadline);
	deadline = now();
	shutdown(sv[0], SHUT_WR);
	collect(pid, pfd[0], &r);
	close(sv[0]);
	if (!count)
		return -1;
	cell_ops = count;
	cell_secs = deadline - t0;
	return cell_secs / count * 1e6;
}

/* The child: accepts and closes until 0.5 s without a connection. */
static void accept_all(int lfd, int wfd)
{
	struct report rr = { 0 };
	int fd;

	set_rcvtimeo(lfd, 0.5);
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		close(fd);
		rr.count++;
		rr.t_end = now();
	}
	child_report(wfd, &rr);
}

static double bench_connect(int fam)
{
	struct report r;
	union addr a;
	socklen_t alen;
	int lfd, pfd[2], fd;
	double t0, deadline;
	pid_t pid;

	lfd = bound_socket(fam, SOCK_STREAM, true, &a, &alen);
	if (lfd < 0)
		return -1;
	pid = spawn(pfd);
	if (!pid) {
		close(pfd[0]);
		accept_all(lfd, pfd[1]);
	}
	close(pfd[1]);
	t0 = now();
	deadline = t0 + run_time;
	do {
		fd = new_socket(fam, SOCK_STREAM);
		if (fd < 0)
			break;
		if (connect(fd, &a.sa, alen) < 0) {
			close(fd);
			break;
		}
		close(fd);
	} while (now() < deadline);
	if (collect(pid, pfd[0], &r) < 0 || !r.count) {
		close(lfd);
		return -1;
	}
	close(lfd);
	cell_ops = r.count;
	cell_secs = r.t_end - t0;
	return r.count / cell_secs / 1e3;
}

static double run_workload(const struct workload *w, int fam, double *loss)
{
	switch (w->kind) {
	case K_STREAM:
		return bench_stream(fam, w->size);
	case K_DUAL:
		return bench_dual(fam, w->size);
	case K_SEQPACKET:
		return fam != F_IP ? bench_msgs(fam, SOCK_SEQPACKET, w->size,
						loss) : -1;
	case K_DGRAM:
		return bench_msgs(fam, SOCK_DGRAM, w->size, loss);
	case K_PINGPONG:
		return bench_pingpong(fam);
	case K_CONNECT:
		return bench_connect(fam);
	}
	return -1;
}

struct result run_cell(const struct workload *w, int fam)
{
	struct result res = { -1, -1, -1, 0 };
	struct rusage ru0, ru1;
	cpu_set_t all;

	/*
	 * One pair: both ends on CPU 0, so that the figure is the CPU cost of
	 * the protocol and not the cross-CPU wake-up latency of the VM (an
	 * IPI between TCG vCPU threads costs more than a whole round trip).
	 */
	sched_getaffinity(0, sizeof(all), &all);
	if (pin_same && w->kind != K_DUAL)
		pin_cpu(0);
	cell_csw = 0;
	cell_ops = 0;
	cell_secs = 0;
	getrusage(RUSAGE_SELF, &ru0);
	res.value = run_workload(w, fam, &res.loss);
	sched_setaffinity(0, sizeof(all), &all);
	getrusage(RUSAGE_SELF, &ru1);
	cell_csw += ru1.ru_nvcsw + ru1.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw;
	if (res.value >= 0 && cell_ops > 0)
		res.csw = cell_csw / cell_ops;
	if (res.value >= 0)
		res.secs = cell_secs;
	return res;
}

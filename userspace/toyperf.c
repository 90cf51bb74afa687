// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: the same workloads over AF_TOY, AF_UNIX and TCP/UDP loopback,
 * interleaved and repeated in one run, reported side by side with the
 * AF_TOY/AF_UNIX ratio and the performance goals of issue 6.
 *
 *   toyperf [--quick] [--rounds N] [--time SEC] [--only WORKLOAD[,..]]
 *           [--json FILE] [--profile] [--callers SYM] [--pin same|none]
 *           [--list]
 *
 * Workloads (peers are separate processes, connected before the clock
 * starts; every measurement runs for a bounded time):
 *   stream-64 stream-4k stream-64k  one writer writes N-byte chunks, one
 *                                   reader drains with a 64 KiB buffer; MB/s
 *   seqpacket-64 seqpacket-4k       records per second (no TCP)
 *   dgram-64 dgram-4k               datagrams received per second (UDP for
 *                                   the IP column; its losses are reported)
 *   pingpong                        1-byte round trip over STREAM, µs
 *   connect                         connect+accept+close per second
 *   dual-stream                     two 64 KiB stream pairs at once, one
 *                                   pair per CPU; aggregate MB/s
 *
 * Figures (AF_TOY and AF_UNIX only, measured once per run after the rounds,
 * reported and never compared with a goal; --only selects them by name too):
 *   idlemem   idle memory per socket pair: 1000 STREAM socketpair()s
 *             (--quick: 200), SO_SNDBUF(FORCE) 1 MiB on both ends, 256 KiB
 *             each way in 32 KiB writes, all read back, then 1 s idle with
 *             every fd open; the drop of MemAvailable over the pairs, KiB
 *   bindlat   socket()+bind()+close() of a DGRAM socket to an ephemeral
 *             port (AF_UNIX: autobind), mean µs over 2000; alone, then while
 *             another process holds 28000 (--quick: 2000) bound DGRAM
 *             sockets of the same family (AF_TOY has 28232 ephemeral ports)
 *
 * --pin same (default) runs both ends of a single pair on CPU 0, so a cell
 * measures the CPU cost of the protocol rather than cross-CPU wake-up
 * latency, which under QEMU TCG is large and noisy; --pin none leaves
 * placement to the scheduler.  dual-stream always pins pair i to CPU i.
 *
 * Defaults: 10 rounds x 0.2 s per cell (--quick: 2 x 0.15 s).  The figure
 * of a cell is the time-weighted mean over the rounds (total operations /
 * total time): many short interleaved rounds average a loaded host out
 * better than a median of a few long ones.  The ratio is AF_TOY/AF_UNIX of
 * those means.  --profile samples
 * the kernel (perf_event_open cpu-clock, all CPUs, with call chains) while
 * the AF_TOY and AF_UNIX cells run and prints where the time went, by
 * symbol, self and inclusive; --callers SYM (implies --profile) also
 * lists the call paths of the samples taken in SYM.  It is a benchmark: the exit status says
 * nothing about the goals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include <linux/toy.h>

#define NFAM 3
enum { F_TOY, F_UNIX, F_IP };
static const char *const fam_name[NFAM] = { "AF_TOY", "AF_UNIX", "TCP" };
static const char *const fam_key[NFAM] = { "toy", "unix", "tcp" };
static int toy_family = AF_TOY;

static double run_time = 0.2;		/* seconds per measurement */
static int rounds = 10;
static bool profile;
static bool pin_same = true;		/* --pin same|none */
static const char *callers_of;		/* --callers SYM (with --profile) */
static int idle_pairs = 1000;		/* idlemem; --quick: 200 */
static int bind_held = 28000;		/* bindlat; --quick: 2000 */
static int bind_iters = 2000;		/* bindlat, per measurement */

/* per cell: context switches of all its processes, and operations done */
static double cell_csw, cell_ops;

enum kind { K_STREAM, K_SEQPACKET, K_DGRAM, K_PINGPONG, K_CONNECT, K_DUAL };

struct workload {
	const char *name;
	const char *label;
	enum kind kind;
	size_t size;
	const char *unit;
	bool lower_better;
	double goal;			/* AF_TOY/AF_UNIX; 0 = none */
};

static const struct workload workloads[] = {
	{ "stream-64", "stream 64 B", K_STREAM, 64, "MB/s", false, 0 },
	{ "stream-4k", "stream 4 KiB", K_STREAM, 4096, "MB/s", false, 1.0 },
	{ "stream-64k", "stream 64 KiB", K_STREAM, 65536, "MB/s", false, 1.2 },
	{ "seqpacket-64", "seqpacket 64 B", K_SEQPACKET, 64, "kmsg/s", false, 1.0 },
	{ "seqpacket-4k", "seqpacket 4 KiB", K_SEQPACKET, 4096, "kmsg/s", false, 1.0 },
	{ "dgram-64", "dgram 64 B", K_DGRAM, 64, "kmsg/s", false, 0 },
	{ "dgram-4k", "dgram 4 KiB", K_DGRAM, 4096, "kmsg/s", false, 0 },
	{ "pingpong", "ping-pong 1 B RTT", K_PINGPONG, 1, "us", true, 0.9 },
	{ "connect", "connect+accept+close", K_CONNECT, 0, "k/s", false, 1.0 },
	{ "dual-stream", "2 stream pairs 64 KiB", K_DUAL, 65536, "MB/s", false, 0 },
};
#define NWL (sizeof(workloads) / sizeof(workloads[0]))

struct result {
	double value;			/* in the workload's unit; <0 = n/a */
	double loss;			/* UDP: fraction of datagrams lost */
	double csw;			/* context switches per operation */
};

static void die(const char *what)
{
	fprintf(stderr, "toyperf: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ addresses */

union addr {
	struct sockaddr sa;
	struct sockaddr_toy toy;
	struct sockaddr_un un;
	struct sockaddr_in in;
};

static int sock_domain(int fam)
{
	return fam == F_TOY ? toy_family : fam == F_UNIX ? AF_UNIX : AF_INET;
}

static int new_socket(int fam, int type)
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

/* A bound socket (listening if @listen_too); its address in @a. */
static int bound_socket(int fam, int type, bool listen_too, union addr *a,
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

/* A connected STREAM or SEQPACKET pair made with listen/connect/accept. */
static int conn_pair(int fam, int type, int sv[2])
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

static void set_rcvtimeo(int fd, double sec)
{
	struct timeval tv = { (time_t)sec, (long)((sec - (long)sec) * 1e6) };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ------------------------------------------------ child process helpers */

struct report {
	double count;			/* bytes or messages */
	double t_end;			/* time of the last one */
	double extra;
};

static pid_t spawn(int pfd[2])
{
	pid_t pid;

	if (pipe(pfd) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

static void child_report(int wfd, const struct report *r)
{
	if (write(wfd, r, sizeof(*r)) != sizeof(*r))
		_exit(1);
	_exit(0);
}

static int collect(pid_t pid, int rfd, struct report *r)
{
	ssize_t n = read(rfd, r, sizeof(*r));
	struct rusage ru;
	int status;

	close(rfd);
	if (wait4(pid, &status, 0, &ru) == pid)
		cell_csw += ru.ru_nvcsw + ru.ru_nivcsw;
	return n == sizeof(*r) ? 0 : -1;
}

static char *buffer(size_t size)
{
	char *p = malloc(size);

	if (!p)
		die("malloc");
	memset(p, 'x', size);
	return p;
}

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

/* ------------------------------------------------------------ workloads */

static double bench_stream(int fam, size_t size)
{
	struct report r;
	int sv[2], pfd[2];
	double t0;
	pid_t pid;

	if (conn_pair(fam, SOCK_STREAM, sv) < 0)
		return -1;
	pid = spawn(pfd);
	if (!pid) {
		close(pfd[0]);
		close(sv[0]);
		drain_stream(sv[1], pfd[1]);
	}
	close(pfd[1]);
	close(sv[1]);
	t0 = now();
	cell_ops = write_until(sv[0], size, t0 + run_time) / size;
	shutdown(sv[0], SHUT_WR);
	if (collect(pid, pfd[0], &r) < 0) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	return r.count / (r.t_end - t0) / 1e6;
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
		wpid[i] = spawn(wpfd[i]);
		if (!wpid[i]) {
			struct report w = { 0 };

			pin_cpu(i);
			close(wpfd[i][0]);
			close(sv[i][1]);
			while (now() < t0)
				;
			w.count = write_until(sv[i][0], size, t0 + run_time);
			shutdown(sv[i][0], SHUT_WR);
			child_report(wpfd[i][1], &w);
		}
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
	return total / (t_end - t0) / 1e6;
}

/* SEQPACKET or DGRAM: messages per second (thousands). */
static double bench_msgs(int fam, int type, size_t size, double *loss)
{
	struct report r;
	int sv[2], pfd[2];
	double t0, sent = 0, deadline;
	union addr a;
	socklen_t alen;
	char *buf;
	unsigned int i = 0;
	pid_t pid;

	*loss = -1;
	if (type == SOCK_SEQPACKET) {
		if (conn_pair(fam, type, sv) < 0)
			return -1;
	} else {
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
	}
	pid = spawn(pfd);
	if (!pid) {
		struct report rr = { 0 };
		char *rbuf = buffer(size + 1);
		ssize_t n;

		close(pfd[0]);
		close(sv[0]);
		set_rcvtimeo(sv[1], 0.5);
		for (;;) {
			n = recv(sv[1], rbuf, size + 1, 0);
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
		child_report(pfd[1], &rr);
	}
	close(pfd[1]);
	close(sv[1]);
	buf = buffer(size);
	t0 = now();
	deadline = t0 + run_time;
	for (;;) {
		if ((++i & 15) == 0 || size >= 4096)
			if (now() >= deadline)
				break;
		if (send(sv[0], buf, size, 0) == (ssize_t)size)
			sent++;
		else if (errno != EINTR && errno != ENOBUFS)
			break;
	}
	if (type == SOCK_SEQPACKET) {
		shutdown(sv[0], SHUT_WR);
	} else {
		/* 1-byte end marker; sent thrice for UDP which may drop it */
		for (i = 0; i < (fam == F_IP ? 3u : 1u); i++) {
			send(sv[0], buf, 1, 0);
			if (fam == F_IP)
				usleep(20000);
		}
	}
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
	return r.count / (r.t_end - t0) / 1e3;
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
	pid = spawn(pfd);
	if (!pid) {
		struct report rr = { 0 };

		close(pfd[0]);
		close(sv[0]);
		while (read(sv[1], &c, 1) == 1 && write(sv[1], &c, 1) == 1)
			rr.count++;
		child_report(pfd[1], &rr);
	}
	close(pfd[1]);
	close(sv[1]);
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
	return (deadline - t0) / count * 1e6;
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
		struct report rr = { 0 };

		close(pfd[0]);
		set_rcvtimeo(lfd, 0.5);
		while ((fd = accept(lfd, NULL, NULL)) >= 0) {
			close(fd);
			rr.count++;
			rr.t_end = now();
		}
		child_report(pfd[1], &rr);
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
	return r.count / (r.t_end - t0) / 1e3;
}

static struct result run_cell(const struct workload *w, int fam)
{
	struct result res = { -1, -1, -1 };
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
	getrusage(RUSAGE_SELF, &ru0);

	switch (w->kind) {
	case K_STREAM:
		res.value = bench_stream(fam, w->size);
		break;
	case K_DUAL:
		res.value = bench_dual(fam, w->size);
		break;
	case K_SEQPACKET:
		if (fam != F_IP)
			res.value = bench_msgs(fam, SOCK_SEQPACKET, w->size,
					       &res.loss);
		break;
	case K_DGRAM:
		res.value = bench_msgs(fam, SOCK_DGRAM, w->size, &res.loss);
		break;
	case K_PINGPONG:
		res.value = bench_pingpong(fam);
		break;
	case K_CONNECT:
		res.value = bench_connect(fam);
		break;
	}
	sched_setaffinity(0, sizeof(all), &all);
	getrusage(RUSAGE_SELF, &ru1);
	cell_csw += ru1.ru_nvcsw + ru1.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw;
	if (res.value >= 0 && cell_ops > 0)
		res.csw = cell_csw / cell_ops;
	return res;
}

/* -------------------------------------------------------------- figures */

/*
 * Figures: measured once for AF_TOY and AF_UNIX, side by side, no goal.
 * A figure that could not be measured is NAN.
 */
#define NFIG_HELD 2			/* bindlat: 0 held, then bind_held */

struct figures {
	bool idlemem, bindlat;
	int pairs[NFAM];		/* idlemem: socketpairs made */
	double drop_kib[NFAM];		/* idlemem: MemAvailable drop */
	double idle_kib[NFAM];		/* idlemem: drop per pair */
	int held[NFIG_HELD];		/* bindlat: sockets asked for */
	int held_made[NFIG_HELD][NFAM];	/* bindlat: sockets the holder bound */
	double bind_us[NFIG_HELD][NFAM];
};

#define IDLE_BYTES	(256 * 1024)	/* each way, per pair */
#define IDLE_CHUNK	(32 * 1024)
#define IDLE_SNDBUF	(1024 * 1024)
#define IDLE_FLOOR_KIB	(96 * 1024)	/* stop making pairs below this */

/* Pages freed to the per-CPU lists, which MemAvailable does not count. */
static long pcp_free_kib(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[128];
	long pages = 0, n;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	if (f)
		fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static long mem_available_raw_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* MemAvailable plus what the per-CPU page lists hold (it is free too). */
static long mem_available_kib(void)
{
	long kib = mem_available_raw_kib();

	return kib < 0 ? kib : kib + pcp_free_kib();
}

/*
 * MemAvailable once it stopped moving: two readings 100 ms apart within
 * 64 KiB (at most 5 s), so that pages freed just before are counted.
 */
static long mem_settled_kib(void)
{
	long prev = mem_available_kib(), cur = prev;
	int i;

	for (i = 0; i < 50; i++) {
		usleep(100000);
		cur = mem_available_kib();
		if (labs(cur - prev) <= 64)
			break;
		prev = cur;
	}
	return cur;
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
 * idlemem: the MemAvailable drop per STREAM socketpair that moved
 * IDLE_BYTES each way and then sat idle for 1 s, in KiB.
 */
static void fig_idlemem(struct figures *fg, int fam)
{
	int (*sv)[2] = calloc(idle_pairs, sizeof(*sv));
	char *buf = buffer(IDLE_CHUNK);
	long before, after = -1;
	int i, n = 0;
	bool ok = true;

	if (!sv)
		die("calloc");
	raise_nofile(2 * idle_pairs + 64);
	before = mem_settled_kib();	/* what earlier cells freed, settles */
	for (i = 0; i < idle_pairs && ok; i++) {
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
			ok = false;
		}
		if ((i & 15) == 15 && mem_available_kib() < IDLE_FLOOR_KIB) {
			fprintf(stderr, "toyperf: idlemem %s: MemAvailable below "
				"%d MiB after %d pairs: stopped there\n",
				fam_name[fam], IDLE_FLOOR_KIB / 1024, n);
			break;
		}
	}
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
	sched_getaffinity(0, sizeof(all), &all);
	if (pin_same)
		pin_cpu(0);
	fg->bind_us[h][fam] = bind_latency(fam);
	sched_setaffinity(0, sizeof(all), &all);
	if (pid) {
		close(release);
		waitpid(pid, &status, 0);
	}
}

static void run_figures(struct figures *fg)
{
	int f, h;

	for (f = 0; f < NFAM; f++) {
		fg->idle_kib[f] = NAN;
		fg->drop_kib[f] = NAN;
		for (h = 0; h < NFIG_HELD; h++)
			fg->bind_us[h][f] = NAN;
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
}

/* ------------------------------------------------------------ profiling */

struct ksym {
	unsigned long addr;
	char name[64];
};

static struct ksym *ksyms;
static size_t nksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256], type, name[200], mod[64];
	unsigned long addr;
	size_t cap = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%lx %c %199s %63s", &addr, &type, name,
			   mod) < 3)
			continue;
		if (!addr || (type != 't' && type != 'T'))
			continue;
		if (nksyms == cap) {
			cap = cap ? cap * 2 : 65536;
			ksyms = realloc(ksyms, cap * sizeof(*ksyms));
			if (!ksyms)
				die("realloc");
		}
		ksyms[nksyms].addr = addr;
		snprintf(ksyms[nksyms].name, sizeof(ksyms[nksyms].name), "%.63s",
			 name);
		nksyms++;
	}
	fclose(f);
	qsort(ksyms, nksyms, sizeof(*ksyms), ksym_cmp);
}

static int ksym_find(unsigned long ip)
{
	size_t lo = 0, hi = nksyms;

	if (!nksyms || ip < ksyms[0].addr)
		return -1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ksyms[mid].addr <= ip)
			lo = mid;
		else
			hi = mid;
	}
	return (int)lo;
}

#define MAXCPU 8
#define RING_PAGES 256

struct prof {
	int ncpu;
	int fd[MAXCPU];
	void *ring[MAXCPU];
	size_t ring_size;
};

static int prof_start(struct prof *p)
{
	struct perf_event_attr attr;
	long pg = sysconf(_SC_PAGESIZE);
	int cpu;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 250000;		/* ns: 4 kHz */
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN;
	attr.exclude_callchain_user = 1;
	attr.disabled = 1;
	p->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (p->ncpu > MAXCPU)
		p->ncpu = MAXCPU;
	p->ring_size = (RING_PAGES + 1) * pg;
	for (cpu = 0; cpu < p->ncpu; cpu++) {
		p->fd[cpu] = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
		if (p->fd[cpu] < 0) {
			perror("toyperf: perf_event_open");
			return -1;
		}
		p->ring[cpu] = mmap(NULL, p->ring_size, PROT_READ | PROT_WRITE,
				    MAP_SHARED, p->fd[cpu], 0);
		if (p->ring[cpu] == MAP_FAILED)
			die("mmap perf ring");
	}
	for (cpu = 0; cpu < p->ncpu; cpu++)
		ioctl(p->fd[cpu], PERF_EVENT_IOC_ENABLE, 0);
	return 0;
}

struct symcount {
	double self, incl;
};

/* --callers: call paths (4 frames) of the samples taken in one symbol */
#define NPATHS 256
static struct {
	char path[256];
	double n;
} paths[NPATHS];
static int npaths;

static void count_path(const uint64_t *chain, uint64_t nr)
{
	char buf[256] = "";
	uint64_t j;
	int k, depth = 0;

	for (j = 0; j < nr && depth < 5; j++) {
		int q;

		if (chain[j] >= PERF_CONTEXT_MAX)
			continue;
		q = ksym_find(chain[j]);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 depth ? " < " : "", q < 0 ? "?" : ksyms[q].name);
		depth++;
	}
	for (k = 0; k < npaths; k++)
		if (!strcmp(paths[k].path, buf))
			break;
	if (k == npaths) {
		if (npaths == NPATHS)
			return;
		snprintf(paths[npaths++].path, sizeof(paths[0].path), "%s", buf);
	}
	paths[k].n++;
}

static void prof_stop(struct prof *p, const char *title)
{
	struct symcount *cnt = calloc(nksyms + 1, sizeof(*cnt));
	unsigned int *seen = calloc(nksyms + 1, sizeof(*seen));
	double total = 0, user = 0, lost = 0, idle = 0, busy;
	unsigned int stamp = 0;
	long pg = sysconf(_SC_PAGESIZE);
	int cpu, *order;
	size_t i, n;

	if (!cnt || !seen)
		die("calloc");
	for (cpu = 0; cpu < p->ncpu; cpu++)
		ioctl(p->fd[cpu], PERF_EVENT_IOC_DISABLE, 0);
	for (cpu = 0; cpu < p->ncpu; cpu++) {
		struct perf_event_mmap_page *mp = p->ring[cpu];
		unsigned char *data = (unsigned char *)mp + pg;
		uint64_t size = RING_PAGES * pg, head = mp->data_head, tail;

		__sync_synchronize();
		tail = head > size ? head - size : 0;
		while (tail < head) {
			struct perf_event_header hdr;
			uint64_t rec[520];
			size_t k;

			for (k = 0; k < sizeof(hdr); k++)
				((unsigned char *)&hdr)[k] =
					data[(tail + k) % size];
			if (hdr.size < sizeof(hdr) || hdr.size > sizeof(rec))
				break;
			for (k = 0; k < hdr.size; k++)
				((unsigned char *)rec)[k] =
					data[(tail + k) % size];
			tail += hdr.size;
			if (hdr.type == PERF_RECORD_LOST) {
				lost += rec[2];
				continue;
			}
			if (hdr.type != PERF_RECORD_SAMPLE)
				continue;
			/* rec[0] header, rec[1] ip, rec[2] nr, rec[3..] chain */
			total++;
			stamp++;
			if (hdr.misc & PERF_RECORD_MISC_USER) {
				user++;
				continue;
			}
			{
				int s = ksym_find(rec[1]);
				uint64_t nr = rec[2], j;
				bool is_idle = false;

				/* idle CPUs: left out of the percentages */
				for (j = 0; j < nr && 3 + j < 520; j++) {
					int q = rec[3 + j] >= PERF_CONTEXT_MAX ? -1 :
						ksym_find(rec[3 + j]);

					if (q >= 0 && (!strcmp(ksyms[q].name, "do_idle") ||
						       !strcmp(ksyms[q].name, "cpu_startup_entry"))) {
						is_idle = true;
						break;
					}
				}
				if (is_idle) {
					idle++;
					continue;
				}
				cnt[s < 0 ? nksyms : (size_t)s].self++;
				if (callers_of && s >= 0 &&
				    !strcmp(ksyms[s].name, callers_of))
					count_path(&rec[3], nr < 517 ? nr : 517);
				for (j = 0; j < nr && 3 + j < 520; j++) {
					uint64_t ip = rec[3 + j];

					if (ip >= PERF_CONTEXT_MAX)
						continue;
					s = ksym_find(ip);
					i = s < 0 ? nksyms : (size_t)s;
					if (seen[i] != stamp) {
						seen[i] = stamp;
						cnt[i].incl++;
					}
				}
			}
		}
		munmap(p->ring[cpu], p->ring_size);
		close(p->fd[cpu]);
	}
	busy = total - idle;
	printf("\n## profile %s: %.0f samples, %.0f idle (left out), %.0f busy"
	       " (%.0f%% of them user), %.0f lost; %% of busy samples:\n",
	       title, total, idle, busy, busy > 0 ? 100 * user / busy : 0, lost);
	n = nksyms + 1;
	order = malloc(n * sizeof(*order));
	if (!order)
		die("malloc");
	for (i = 0; i < n; i++)
		order[i] = (int)i;
	/* top by self, then top by inclusive */
	for (int pass = 0; pass < 2 && busy > 0; pass++) {
		size_t k, best;

		printf("%s\n", pass ? "  inclusive  self   symbol (top by inclusive)"
				    : "  self   inclusive  symbol (top by self)");
		for (k = 0; k < 30; k++) {
			best = k;
			for (i = k + 1; i < n; i++) {
				double a = pass ? cnt[order[i]].incl : cnt[order[i]].self;
				double b = pass ? cnt[order[best]].incl : cnt[order[best]].self;

				if (a > b)
					best = i;
			}
			int t = order[k];

			order[k] = order[best];
			order[best] = t;
			t = order[k];
			if ((pass ? cnt[t].incl : cnt[t].self) == 0)
				break;
			printf("  %5.1f%%  %5.1f%%  %s\n",
			       100 * (pass ? cnt[t].incl : cnt[t].self) / busy,
			       100 * (pass ? cnt[t].self : cnt[t].incl) / busy,
			       (size_t)t == nksyms ? "[unknown]" : ksyms[t].name);
		}
	}
	if (callers_of && busy > 0) {
		int k, best;

		printf("  call paths of %s (%% of busy samples):\n", callers_of);
		for (i = 0; i < 15; i++) {
			best = -1;
			for (k = 0; k < npaths; k++)
				if (paths[k].n > 0 &&
				    (best < 0 || paths[k].n > paths[best].n))
					best = k;
			if (best < 0)
				break;
			printf("  %5.1f%%  %s\n", 100 * paths[best].n / busy,
			       paths[best].path);
			paths[best].n = -paths[best].n;
		}
		npaths = 0;
	}
	free(order);
	free(cnt);
	free(seen);
}

/* ----------------------------------------------------------------- main */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The figure of a cell over the rounds: the time-weighted mean, i.e. total
 * operations over total time (for a rate the mean, for a latency the
 * harmonic mean).  With many short, interleaved rounds a slow phase of a
 * loaded host hits every family alike; a single stalled round (a vCPU
 * thread descheduled on the host) cannot swing it the way it swings a
 * per-round ratio.
 */
static double mean(const double *v, int n, bool latency)
{
	double sum = 0;
	int i, m = 0;

	for (i = 0; i < n; i++) {
		if (v[i] <= 0)
			continue;
		sum += latency ? 1 / v[i] : v[i];
		m++;
	}
	if (!m || sum <= 0)
		return -1;
	return latency ? m / sum : sum / m;
}

static double median(double *v, int n)
{
	double tmp[64];
	int i, m = 0;

	for (i = 0; i < n && m < 64; i++)
		if (v[i] >= 0)
			tmp[m++] = v[i];
	if (!m)
		return -1;
	qsort(tmp, m, sizeof(double), cmp_double);
	return m & 1 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
}

static void lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			perror("toyperf: bringing lo up");
	}
	close(fd);
}

static void read_family(void)
{
	FILE *f = fopen("/sys/module/af_toy/parameters/family", "r");
	int fam;

	if (f) {
		if (fscanf(f, "%d", &fam) == 1 && fam > 0)
			toy_family = fam;
		fclose(f);
	}
}

static void fmt(char *out, size_t n, double v)
{
	if (v < 0)
		snprintf(out, n, "-");
	else if (v >= 100)
		snprintf(out, n, "%.0f", v);
	else if (v >= 10)
		snprintf(out, n, "%.1f", v);
	else
		snprintf(out, n, "%.2f", v);
}

static void fmt_fig(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (v < 0)
		snprintf(out, n, "%.1f", v);	/* noise around zero */
	else
		fmt(out, n, v);
}

static double fig_ratio(const double *v)
{
	return v[F_TOY] > 0 && v[F_UNIX] > 0 ? v[F_TOY] / v[F_UNIX] : NAN;
}

static void print_fig_row(const char *label, const char *unit,
			  const double *v)
{
	char c[2][32], ratio[32] = "-";
	double q = fig_ratio(v);

	fmt_fig(c[0], sizeof(c[0]), v[F_TOY]);
	fmt_fig(c[1], sizeof(c[1]), v[F_UNIX]);
	if (!isnan(q))
		snprintf(ratio, sizeof(ratio), "%.2fx", q);
	printf("%-24s %-8s %10s %10s %9s\n", label, unit, c[0], c[1], ratio);
}

static void print_figures(const struct figures *fg)
{
	char label[48];
	int h;

	if (!fg->idlemem && !fg->bindlat)
		return;
	printf("\n%-24s %-8s %10s %10s %9s\n", "figure", "unit", "AF_TOY",
	       "AF_UNIX", "TOY/UNIX");
	if (fg->idlemem)
		print_fig_row("idle memory per pair", "KiB/pair", fg->idle_kib);
	for (h = 0; h < NFIG_HELD && fg->bindlat; h++) {
		snprintf(label, sizeof(label), "socket+bind, %d held",
			 fg->held[h]);
		print_fig_row(label, "us", fg->bind_us[h]);
	}
	if (fg->idlemem) {
		char d[2][32];

		fmt_fig(d[0], sizeof(d[0]), fg->drop_kib[F_TOY]);
		fmt_fig(d[1], sizeof(d[1]), fg->drop_kib[F_UNIX]);
		printf("idlemem: STREAM socketpairs made: AF_TOY %d, AF_UNIX %d; "
		       "%d KiB each way in %d KiB writes, all read; %s %d KiB; "
		       "1 s idle\n", fg->pairs[F_TOY], fg->pairs[F_UNIX],
		       IDLE_BYTES / 1024, IDLE_CHUNK / 1024,
		       geteuid() ? "SO_SNDBUF" : "SO_SNDBUFFORCE",
		       IDLE_SNDBUF / 1024);
		printf("idlemem: MemAvailable drop: AF_TOY %s KiB, AF_UNIX %s KiB\n",
		       d[0], d[1]);
	}
	if (fg->bindlat)
		printf("bindlat: DGRAM socket()+bind(port 0 / autobind)+close(), "
		       "mean of %d; bound by the other process: AF_TOY %d, "
		       "AF_UNIX %d\n", bind_iters, fg->held_made[1][F_TOY],
		       fg->held_made[1][F_UNIX]);
}

static void json_num(FILE *j, const char *key, double v)
{
	if (isnan(v))
		fprintf(j, "\"%s\": null", key);
	else
		fprintf(j, "\"%s\": %.6g", key, v);
}

static void json_fig_values(FILE *j, const double *v)
{
	json_num(j, "toy", v[F_TOY]);
	fprintf(j, ", ");
	json_num(j, "unix", v[F_UNIX]);
	fprintf(j, ", ");
	json_num(j, "ratio", fig_ratio(v));
}

static void json_figures(FILE *j, const struct figures *fg)
{
	bool first = true;
	int h;

	fprintf(j, "  \"figures\": [");
	if (fg->idlemem) {
		fprintf(j, "\n    {\"figure\": \"idlemem\", \"unit\": \"KiB/pair\", ");
		json_fig_values(j, fg->idle_kib);
		fprintf(j, ", \"pairs\": {\"toy\": %d, \"unix\": %d}, ",
			fg->pairs[F_TOY], fg->pairs[F_UNIX]);
		fprintf(j, "\"memavailable_drop_kib\": {");
		json_num(j, "toy", fg->drop_kib[F_TOY]);
		fprintf(j, ", ");
		json_num(j, "unix", fg->drop_kib[F_UNIX]);
		fprintf(j, "}, \"bytes_each_way\": %d, \"write_size\": %d}",
			IDLE_BYTES, IDLE_CHUNK);
		first = false;
	}
	for (h = 0; h < NFIG_HELD && fg->bindlat; h++) {
		fprintf(j, "%s\n    {\"figure\": \"bindlat\", \"held\": %d, "
			"\"unit\": \"us\", ", first ? "" : ",", fg->held[h]);
		json_fig_values(j, fg->bind_us[h]);
		fprintf(j, ", \"held_made\": {\"toy\": %d, \"unix\": %d}, "
			"\"iterations\": %d}", fg->held_made[h][F_TOY],
			fg->held_made[h][F_UNIX], bind_iters);
		first = false;
	}
	fprintf(j, "\n  ]");
}

static void usage(int status)
{
	size_t i;

	fprintf(stderr,
		"usage: toyperf [--quick] [--rounds N] [--time SEC] [--only W[,W..]]\n"
		"               [--json FILE] [--profile] [--callers SYM] [--pin same|none]\n"
		"               [--list]\n"
		"workloads:");
	for (i = 0; i < NWL; i++)
		fprintf(stderr, " %s", workloads[i].name);
	fprintf(stderr, "\nfigures: idlemem bindlat\n");
	exit(status);
}

static bool selected(const char *only, const char *name)
{
	const char *p = only;
	size_t len = strlen(name);

	if (!only)
		return true;
	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		/* prefix match: "stream" selects stream-64/4k/64k */
		{
			const char *end = strchr(p, ',');
			size_t plen = end ? (size_t)(end - p) : strlen(p);

			if (plen < len && !strncmp(p, name, plen) &&
			    name[plen] == '-')
				return true;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

int main(int argc, char **argv)
{
	static double vals[NWL][NFAM][64], losses[NWL][64], csws[NWL][NFAM][64];
	double csw_med[NWL][NFAM], ratio_med[NWL];
	const char *only = NULL, *json = NULL;
	struct result med[NWL][NFAM];
	double loss_med[NWL];
	bool sel[NWL];
	struct figures fg = { 0 };
	struct utsname u;
	int i, r, f, goals = 0, met = 0, nsel = 0;
	size_t w;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			rounds = 2;
			run_time = 0.15;
			idle_pairs = 200;
			bind_held = 2000;
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--time") && i + 1 < argc) {
			run_time = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else if (!strcmp(argv[i], "--pin") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "none"))
				pin_same = false;
			else if (!strcmp(argv[i], "same"))
				pin_same = true;
			else
				usage(2);
		} else if (!strcmp(argv[i], "--callers") && i + 1 < argc) {
			callers_of = argv[++i];
			profile = true;
		} else if (!strcmp(argv[i], "--profile")) {
			profile = true;
		} else if (!strcmp(argv[i], "--list")) {
			for (w = 0; w < NWL; w++)
				printf("%s\n", workloads[w].name);
			printf("idlemem\nbindlat\n");
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(0);
		} else {
			usage(2);
		}
	}
	if (rounds < 1 || rounds > 64 || run_time <= 0)
		usage(2);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_family();
	lo_up();
	uname(&u);
	for (w = 0; w < NWL; w++) {
		sel[w] = selected(only, workloads[w].name);
		nsel += sel[w];
	}
	fg.idlemem = selected(only, "idlemem");
	fg.bindlat = selected(only, "bindlat");
	if (profile)
		load_kallsyms();

	printf("toyperf: kernel %s, %d round(s) x %.2f s per cell, mean; "
	       "%ld CPUs; single pairs %s\n", u.release, rounds, run_time,
	       sysconf(_SC_NPROCESSORS_ONLN),
	       pin_same ? "pinned to CPU 0" : "not pinned");
	{
		int fd = socket(toy_family, SOCK_STREAM, 0);

		if (fd < 0)
			printf("toyperf: no AF_TOY (family %d): %s\n",
			       toy_family, strerror(errno));
		else
			close(fd);
	}

	/*
	 * Rounds outermost, families innermost: interleaved.  With --profile
	 * an extra round -1 runs first, sampled, and is not counted.
	 */
	for (r = profile ? -1 : 0; r < rounds && nsel; r++) {
		if (r < 0)
			fprintf(stderr, "toyperf: profiling round (not counted)\n");
		else
			fprintf(stderr, "toyperf: round %d/%d\n", r + 1, rounds);
		for (w = 0; w < NWL; w++) {
			if (!sel[w])
				continue;
			for (f = 0; f < NFAM; f++) {
				/* rotate the order so no family always goes first */
				int ff = (f + r + NFAM) % NFAM;
				struct prof p = { 0 };
				bool prof_on = ff != F_IP && r < 0;
				struct result res;

				if (prof_on && prof_start(&p) < 0)
					prof_on = false;
				res = run_cell(&workloads[w], ff);
				if (prof_on) {
					char title[96];

					snprintf(title, sizeof(title), "%s %s",
						 workloads[w].name, fam_name[ff]);
					prof_stop(&p, title);
				}
				if (r < 0)
					continue;
				vals[w][ff][r] = res.value;
				csws[w][ff][r] = res.csw;
				if (ff == F_IP)
					losses[w][r] = res.loss;
			}
		}
	}
	run_figures(&fg);

	for (w = 0; w < NWL; w++) {
		for (f = 0; f < NFAM; f++) {
			med[w][f].value = mean(vals[w][f], rounds,
					       workloads[w].lower_better);
			csw_med[w][f] = median(csws[w][f], rounds);
		}
		loss_med[w] = median(losses[w], rounds);
		ratio_med[w] = med[w][F_TOY].value > 0 && med[w][F_UNIX].value > 0 ?
			       med[w][F_TOY].value / med[w][F_UNIX].value : -1;
	}

	if (nsel)
		printf("\n%-24s %-7s %10s %10s %10s %9s  %s\n", "workload",
		       "unit", "AF_TOY", "AF_UNIX", "TCP/UDP", "TOY/UNIX", "goal");
	for (w = 0; w < NWL; w++) {
		const struct workload *wl = &workloads[w];
		char c[NFAM][32], ratio[32], goal[48];
		double q = ratio_med[w];

		if (!sel[w])
			continue;
		for (f = 0; f < NFAM; f++)
			fmt(c[f], sizeof(c[f]), med[w][f].value);
		if (q >= 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", q);
		else
			snprintf(ratio, sizeof(ratio), "-");
		if (!wl->goal)
			goal[0] = 0;
		else if (q < 0)
			snprintf(goal, sizeof(goal), "%s %.1fx: n/a",
				 wl->lower_better ? "<=" : ">=", wl->goal);
		else
			snprintf(goal, sizeof(goal), "%s %.1fx: %s",
				 wl->lower_better ? "<=" : ">=", wl->goal,
				 (wl->lower_better ? q <= wl->goal : q >= wl->goal)
				 ? "met" : "NOT met");
		printf("%-24s %-7s %10s %10s %10s %9s  %s\n", wl->label,
		       wl->unit, c[F_TOY], c[F_UNIX], c[F_IP], ratio, goal);
		if (wl->goal && q >= 0) {
			goals++;
			if (wl->lower_better ? q <= wl->goal : q >= wl->goal)
				met++;
		}
	}
	if (goals)
		printf("goals (AF_TOY/AF_UNIX, issue 6): %d of %d met\n", met,
		       goals);
	if (nsel)
		printf("\ncontext switches per operation (write, message, round "
		       "trip, connection; all processes):\n");
	for (w = 0; w < NWL; w++) {
		char c[NFAM][32];

		if (!sel[w])
			continue;
		for (f = 0; f < NFAM; f++)
			fmt(c[f], sizeof(c[f]), csw_med[w][f]);
		printf("%-24s %-7s %10s %10s %10s\n", workloads[w].label, "csw/op",
		       c[F_TOY], c[F_UNIX], c[F_IP]);
	}
	for (w = 0; w < NWL; w++)
		if (sel[w] && workloads[w].kind == K_DGRAM && loss_med[w] >= 0)
			printf("UDP %s: %.1f%% of datagrams lost (TCP/UDP column counts received ones)\n",
			       workloads[w].name, 100 * loss_med[w]);
	print_figures(&fg);

	if (json) {
		FILE *j = fopen(json, "w");
		bool first = true;

		if (!j)
			die(json);
		fprintf(j, "{\n  \"kernel\": \"%s\",\n  \"rounds\": %d,\n"
			"  \"seconds_per_cell\": %.3f,\n  \"pin\": \"%s\",\n"
			"  \"results\": [",
			u.release, rounds, run_time, pin_same ? "same" : "none");
		for (w = 0; w < NWL; w++) {
			const struct workload *wl = &workloads[w];
			double q = ratio_med[w];

			if (!sel[w])
				continue;
			fprintf(j, "%s\n    {\"workload\": \"%s\", \"unit\": \"%s\"",
				first ? "" : ",", wl->name, wl->unit);
			first = false;
			for (f = 0; f < NFAM; f++) {
				if (med[w][f].value < 0)
					fprintf(j, ", \"%s\": null", fam_key[f]);
				else
					fprintf(j, ", \"%s\": %.4g", fam_key[f],
						med[w][f].value);
			}
			fprintf(j, ", \"rounds\": {");
			for (f = 0; f < NFAM; f++) {
				fprintf(j, "%s\"%s\": [", f ? ", " : "", fam_key[f]);
				for (r = 0; r < rounds; r++)
					fprintf(j, "%s%.4g", r ? ", " : "",
						vals[w][f][r]);
				fprintf(j, "]");
			}
			fprintf(j, "}");
			if (q >= 0)
				fprintf(j, ", \"ratio\": %.3f", q);
			else
				fprintf(j, ", \"ratio\": null");
			if (wl->goal) {
				fprintf(j, ", \"goal\": \"%s%.1f\"",
					wl->lower_better ? "<=" : ">=", wl->goal);
				if (q >= 0)
					fprintf(j, ", \"met\": %s",
						(wl->lower_better ? q <= wl->goal
								  : q >= wl->goal)
						? "true" : "false");
			}
			if (wl->kind == K_DGRAM && loss_med[w] >= 0)
				fprintf(j, ", \"udp_loss\": %.4f", loss_med[w]);
			fprintf(j, ", \"csw_per_op\": {");
			for (f = 0; f < NFAM; f++)
				fprintf(j, "%s\"%s\": %.4g", f ? ", " : "",
					fam_key[f], csw_med[w][f]);
			fprintf(j, "}");
			fprintf(j, "}");
		}
		fprintf(j, "\n  ],\n");
		json_figures(j, &fg);
		fprintf(j, "\n}\n");
		fclose(j);
	}
	return 0;
}

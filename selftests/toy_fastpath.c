// SPDX-License-Identifier: GPL-2.0
/*
 * The stream fast paths: small writes appended to the skb last queued to
 * the reader (coalescing), and reads that look at a growing skb.  Every
 * case checks order and exactly-once delivery byte for byte; where the
 * same calls can run on AF_UNIX, they do, and the results must agree.
 */
#include "toy_common.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"

/* A connected STREAM pair of @family: AF_TOY through a listener. */
static int stream_pair(int family, int sv[2])
{
	if (family == AF_UNIX)
		return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	return toy_connect_pair(SOCK_STREAM, &sv[0], &sv[1]);
}

FIXTURE(fam) {
	int sv[2];
};

FIXTURE_VARIANT(fam) {
	int family;
};

FIXTURE_VARIANT_ADD(fam, toy) { .family = AF_TOY };
FIXTURE_VARIANT_ADD(fam, unix) { .family = AF_UNIX };

FIXTURE_SETUP(fam)
{
	if (variant->family == AF_TOY)
		ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, stream_pair(variant->family, self->sv));
}

FIXTURE_TEARDOWN(fam)
{
	close(self->sv[0]);
	close(self->sv[1]);
}

#define SMALL_WRITES 2000

/*
 * Many small writes of every size up to a few hundred bytes, none read
 * yet: they come back in order, each byte once, and FIONREAD counts them
 * all as they are queued (appended or not).
 */
TEST_F_TIMEOUT(fam, small_writes_read_back_in_order, 300)
{
	static char out[SMALL_WRITES * 300], in[sizeof(out) + 1];
	size_t off = 0, n;
	int i, inq;

	toy_pattern(out, sizeof(out), 7);
	/* room for all of it on both families (AF_UNIX: a skb per write) */
	for (i = 0; i < 2; i++) {
		int big = 16 << 20;

		ASSERT_EQ(0, setsockopt(self->sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)));
		ASSERT_EQ(0, setsockopt(self->sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)));
	}
	for (i = 0; i < SMALL_WRITES; i++) {
		n = 1 + (i * 37) % 300;
		ASSERT_EQ((ssize_t)n, send(self->sv[0], out + off, n, MSG_DONTWAIT));
		off += n;
		if (i % 97 == 0) {
			ASSERT_EQ(0, ioctl(self->sv[1], FIONREAD, &inq));
			ASSERT_EQ((int)off, inq);
		}
	}
	ASSERT_EQ((ssize_t)off, read_all(self->sv[1], in, off));
	EXPECT_EQ(0, memcmp(out, in, off));
	EXPECT_ERRNO(EAGAIN, recv(self->sv[1], in, 1, MSG_DONTWAIT));
}

/*
 * Peeks and reads interleaved with writes that grow the last queued skb:
 * each call returns what AF_UNIX returns for it (the table is written for
 * both), and the bytes are the stream's next ones.
 */
TEST_F(fam, peek_and_read_across_appends)
{
	static const struct step {
		char op;	/* w: write n, p: peek n, r: read n */
		int n, expect;
	} steps[] = {
		{ 'w', 10, 10 }, { 'p', 5, 5 }, { 'w', 10, 10 },
		{ 'p', 100, 20 }, { 'r', 3, 3 }, { 'w', 7, 7 },
		{ 'p', 100, 24 }, { 'r', 24, 24 }, { 'w', 1, 1 },
		{ 'w', 200, 200 }, { 'r', 50, 50 }, { 'p', 1000, 151 },
		{ 'r', 1000, 151 },
	};
	char out[1024], got[1024], want[1024];
	size_t wr = 0, rd = 0, i;
	ssize_t r;

	toy_pattern(out, sizeof(out), 3);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];

		if (s->op == 'w') {
			ASSERT_EQ(s->expect, write(self->sv[0], out + wr, s->n));
			wr += s->n;
			continue;
		}
		r = recv(self->sv[1], got, s->n,
			 MSG_DONTWAIT | (s->op == 'p' ? MSG_PEEK : 0));
		ASSERT_EQ(s->expect, r) TH_LOG("step %zu (%c %d)", i, s->op, s->n);
		memcpy(want, out + rd, r);
		ASSERT_EQ(0, memcmp(want, got, r)) TH_LOG("step %zu", i);
		if (s->op == 'r')
			rd += r;
	}
	EXPECT_EQ(wr, rd);
}

/* An address no process maps (hidden from the compiler's checks). */
static void *bad_addr = (void *)8;

/* A small write from a bad address sends nothing, and the stream goes on. */
TEST_F(fam, faulting_small_write_appends_nothing)
{
	char got[64];

	ASSERT_EQ(5, write(self->sv[0], "abcde", 5));
	EXPECT_ERRNO(EFAULT, send(self->sv[0], bad_addr, 64, 0));
	ASSERT_EQ(3, write(self->sv[0], "fgh", 3));
	ASSERT_EQ(8, recv(self->sv[1], got, sizeof(got), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(got, "abcdefgh", 8));
}

/*
 * The reader shut down for reading while bytes wait: a small write is
 * refused with EPIPE whether or not it could have been appended, as on
 * AF_UNIX.
 */
TEST_F(fam, small_write_after_peer_shut_rd_epipe)
{
	toy_selftest_init(true);
	ASSERT_EQ(5, write(self->sv[0], "abcde", 5));
	ASSERT_EQ(0, shutdown(self->sv[1], SHUT_RD));
	EXPECT_ERRNO(EPIPE, write(self->sv[0], "x", 1));
}

struct flow {
	int fd;
	uint64_t seed;
	size_t max;		/* writer: largest write */
	size_t total, done;
	int bad;		/* reader: first mismatching offset + 1 */
	size_t off;		/* big_reader: its buffer's offset from a page */
	int cpu1;		/* 0, or run on CPU cpu1 - 1 */
};

/*
 * Writes @total bytes of pattern: pieces of 1..max bytes, random if
 * f->seed is set, else max each.
 */
static void *pattern_writer(void *arg)
{
	static __thread char buf[64 * 1024];
	struct flow *f = arg;
	uint64_t rnd = f->seed;
	size_t n, made_n = 0, made_at = 0;
	ssize_t w;

	if (f->cpu1 && pin_thread(f->cpu1 - 1)) {
		shutdown(f->fd, SHUT_RDWR);	/* the reader sees the end */
		return NULL;
	}
	while (f->done < f->total) {
		n = f->seed ? 1 + toy_rand(&rnd) % f->max : f->max;
		if (n > f->total - f->done)
			n = f->total - f->done;
		/* The pattern repeats every 64 KiB: reuse what is there. */
		if (n != made_n || f->done % 65536 != made_at) {
			toy_pattern(buf, n, f->done);
			made_n = n;
			made_at = f->done % 65536;
		}
		w = write(f->fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;	/* a signal before any byte went */
		if (w <= 0)
			break;
		f->done += w;
	}
	return NULL;
}

/* Reads with varying sizes, peeking first now and then; checks every byte. */
static void *checking_reader(void *arg)
{
	struct flow *f = arg;
	uint64_t rnd = f->seed ^ 0x5a5a;
	char buf[4096], want[4096], peeked[4096];
	ssize_t r, p = 0;
	size_t n;

	while (f->done < f->total && !f->bad) {
		n = 1 + toy_rand(&rnd) % sizeof(buf);
		if (toy_rand(&rnd) % 4 == 0) {
			p = recv(f->fd, peeked, n, MSG_PEEK);
			if (p <= 0)
				break;
		}
		r = read(f->fd, buf, n);
		if (r <= 0)
			break;
		toy_pattern(want, r, f->done);
		if (memcmp(buf, want, r) ||
		    (p > 0 && memcmp(peeked, buf, p < r ? p : r)))
			f->bad = f->done + 1;
		p = 0;
		f->done += r;
	}
	return NULL;
}

/*
 * A writer of small pieces and a reader of random sizes that peeks now and
 * then, at the same time: the reader sees every byte once, in order, also
 * while the writer appends to the skb being read.
 */
TEST_F_TIMEOUT(fam, concurrent_small_writes_exactly_once, 300)
{
	struct flow w = { .fd = self->sv[0], .seed = 11, .max = 300, .total = 1 << 20 };
	struct flow r = { .fd = self->sv[1], .seed = 11, .total = 1 << 20 };
	pthread_t tw, tr;

	ASSERT_EQ(0, pthread_create(&tr, NULL, checking_reader, &r));
	ASSERT_EQ(0, pthread_create(&tw, NULL, pattern_writer, &w));
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	EXPECT_EQ(w.total, w.done);
	EXPECT_EQ(r.total, r.done);
	EXPECT_EQ(0, r.bad) TH_LOG("first bad byte at %d", r.bad - 1);
}

/*
 * Small writes share skbs: with the reader asleep, non-blocking 64-byte
 * writes fill the send buffer with many times the data that one skb per
 * write would allow, and the receiver is charged no more than its
 * receive buffer plus one skb.
 */
TEST(small_writes_share_skbs)
{
	int sv[2], n = 0, buf = 64 * 1024;
	long mem0, mem1;
	char c[64] = { 0 };

	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &sv[0], &sv[1]));
	ASSERT_EQ(0, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)));
	ASSERT_EQ(0, setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)));
	buf = toy_getsockopt_int(sv[1], SOL_SOCKET, SO_RCVBUF);
	mem0 = toy_stat_value("mem_charged");
	while (send(sv[0], c, sizeof(c), MSG_DONTWAIT) == sizeof(c))
		n++;
	mem1 = toy_stat_value("mem_charged");
	TH_LOG("%d writes of 64 B queued, %ld B charged (SO_RCVBUF %d)",
	       n, mem1 - mem0, buf);
	/* one skb per write (about 1 KiB of truesize) would stop near buf/1024 */
	EXPECT_LT(8 * (buf / 1024), n);
	EXPECT_GE(buf + 8192, mem1 - mem0);
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------------- direct copy */

#define BIG (64 * 1024)

/* Counter @name of /proc/net/toy_stat, 0 on AF_UNIX (it has none). */
static long toy_counter(int family, const char *name)
{
	return family == AF_TOY ? toy_stat_value(name) : 0;
}

static volatile sig_atomic_t signals;

static void count_signal(int sig)
{
	(void)sig;
	signals++;
}

/* Reads in BIG pieces and checks every byte; EINTR is retried. */
static void *big_reader(void *arg)
{
	struct flow *f = arg;
	static __thread char page[BIG + 4096] __attribute__((aligned(4096)));
	static __thread char want[BIG];
	char *buf = page + f->off;
	size_t made_n = 0, made_at = 0;
	ssize_t r;

	if (f->cpu1 && pin_thread(f->cpu1 - 1)) {
		shutdown(f->fd, SHUT_RDWR);	/* the writer sees EPIPE */
		return NULL;
	}
	while (f->done < f->total && !f->bad) {
		r = read(f->fd, buf, BIG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((size_t)r != made_n || f->done % 65536 != made_at) {
			toy_pattern(want, r, f->done);	/* repeats every 64 KiB */
			made_n = r;
			made_at = f->done % 65536;
		}
		if (memcmp(buf, want, r))
			f->bad = f->done + 1;
		f->done += r;
	}
	if (f->done < f->total)
		shutdown(f->fd, SHUT_RDWR);	/* the writer stops too */
	return NULL;
}

/*
 * Big writes to a reader that waits with a big buffer, signalled all the
 * while (no SA_RESTART: its reads fail with EINTR now and then): every
 * byte arrives once and in order, and on AF_TOY many of them were
 * copied straight into the reader's buffer, part of them by the reader
 * itself from the writer's pages (each piece by one of the two).
 */
TEST_F_TIMEOUT(fam, big_writes_to_waiting_reader_exactly_once, 300)
{
	struct flow w = { .fd = self->sv[0], .max = BIG, .total = 16 << 20 };
	struct flow r = { .fd = self->sv[1], .total = 16 << 20 };
	long direct = toy_counter(variant->family, "bytes_direct");
	long helped = toy_counter(variant->family, "bytes_direct_reader");
	pthread_t tw, tr;
	int i;

	ASSERT_EQ(0, toy_sigaction(SIGUSR1, count_signal, 0));
	ASSERT_EQ(0, pthread_create(&tr, NULL, big_reader, &r));
	ASSERT_EQ(0, pthread_create(&tw, NULL, pattern_writer, &w));
	for (i = 0; i < 200 && r.done < r.total && !r.bad; i++) {
		pthread_kill(tr, SIGUSR1);
		usleep(2000);
	}
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	direct = toy_counter(variant->family, "bytes_direct") - direct;
	helped = toy_counter(variant->family, "bytes_direct_reader") - helped;
	TH_LOG("%ld of %zu bytes copied directly (%ld by the reader), %d signals",
	       direct, r.total, helped, (int)signals);
	EXPECT_EQ(w.total, w.done);
	EXPECT_EQ(r.total, r.done);
	EXPECT_EQ(0, r.bad) TH_LOG("first bad byte at %d", r.bad - 1);
	if (variant->family == AF_TOY)
		EXPECT_LT(0, direct);
	EXPECT_LE(helped, direct);
}

/*
 * A child that reads into a BIG buffer, @off bytes past the start of a
 * page, once or (@whole) until it has BIG bytes, and reports on a pipe
 * what its first read returned, then (@whole) the total, then the bytes.
 */
static pid_t waiting_reader_at(int fd, size_t off, bool whole, int *pipe_rd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = toy_fork();
	if (pid == 0) {
		static char page[BIG + 4096] __attribute__((aligned(4096)));
		char *buf = page + off;
		ssize_t r = read(fd, buf, BIG), got = r, n = 1;

		while (whole && got > 0 && got < BIG && n > 0) {
			n = read(fd, buf + got, BIG - got);
			got += n > 0 ? n : 0;
		}
		if (write(p[1], &r, sizeof(r)) != sizeof(r) ||
		    (whole && write(p[1], &got, sizeof(got)) != sizeof(got)) ||
		    (got > 0 && write_all(p[1], buf, got) != got))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	*pipe_rd = p[0];
	return pid;
}

static pid_t waiting_reader(int fd, int *pipe_rd)
{
	return waiting_reader_at(fd, 0, false, pipe_rd);
}

/*
 * Two BIG writes from sv[0], read whole at sv[1]: on AF_TOY the reader
 * then knows its writer writes big pieces, and offers its buffer for the
 * next ones (toy_direct_hint()).  0, or -1 if a call fell short.
 */
static int big_writes_seen(const int sv[2])
{
	static char buf[BIG];
	int i;

	for (i = 0; i < 2; i++)
		if (write(sv[0], buf, BIG) != BIG ||
		    read_all(sv[1], buf, BIG) != BIG)
			return -1;
	return 0;
}

/*
 * What a whole waiting_reader_at() reported on @pr: its first read's
 * result in *@first, the bytes in @got; returns their number, or -1.
 */
static ssize_t whole_report(int pr, ssize_t *first, char *got)
{
	ssize_t total;

	if (read(pr, first, sizeof(*first)) != sizeof(*first) ||
	    read(pr, &total, sizeof(total)) != sizeof(total) ||
	    total < 0 || total > BIG || read_all(pr, got, total) != total)
		return -1;
	return total;
}

/*
 * A big write to a reader that waits with a buffer that does not start on
 * a page (as malloc() gives): the reader gets the whole write, as on
 * AF_UNIX (which may wake it after the first of its skbs, for a second
 * read), and on AF_TOY in one read, all of it straight into that buffer.  (The
 * buffer offered used to be 16 pages, 16 bytes short of 64 KiB here:
 * 65520 bytes went directly and the last 16 took the queue.)  An offer
 * stands 10 ms: a writer slower than that (a debug kernel) finds none and
 * queues all, so up to 10 tries, each all or nothing, one of them direct.
 */
TEST_F(fam, big_write_fills_an_unaligned_waiting_buffer)
{
	static char src[BIG], got[BIG];
	long direct, went = 0;
	ssize_t first = -1;
	int pr, try;
	pid_t pid;

	ASSERT_EQ(0, big_writes_seen(self->sv));
	toy_pattern(src, BIG, 5);
	for (try = 0; try < 10 && went != BIG; try++) {
		direct = toy_counter(variant->family, "bytes_direct");
		pid = waiting_reader_at(self->sv[1], 16, true, &pr);
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
		ASSERT_EQ(BIG, write(self->sv[0], src, BIG));
		ASSERT_EQ(BIG, whole_report(pr, &first, got));
		EXPECT_EQ(0, memcmp(src, got, BIG));
		EXPECT_EQ(0, wait_child(pid));
		close(pr);
		EXPECT_ERRNO(EAGAIN, recv(self->sv[1], got, 1, MSG_DONTWAIT));
		if (variant->family != AF_TOY)
			break;
		EXPECT_EQ(BIG, first);
		went = toy_counter(variant->family, "bytes_direct") - direct;
		EXPECT_TRUE(went == 0 || went == BIG)
			TH_LOG("%ld of %d bytes went directly", went, BIG);
	}
	if (variant->family == AF_TOY)
		EXPECT_EQ(BIG, went) TH_LOG("no offer taken in %d tries", try);
}

/*
 * A big writev() of four segments to a waiting reader: the reader gets
 * all of it, as on AF_UNIX, and on AF_TOY in one read (only a one-segment
 * write is pinned; this one is copied segment after segment).
 */
TEST_F(fam, big_writev_to_waiting_reader)
{
	static char src[BIG], got[BIG];
	ssize_t first = -1;
	struct iovec iov[4];
	int pr, i;
	pid_t pid;

	ASSERT_EQ(0, big_writes_seen(self->sv));
	toy_pattern(src, BIG, 6);
	for (i = 0; i < 4; i++) {
		iov[i].iov_base = src + i * (BIG / 4);
		iov[i].iov_len = BIG / 4;
	}
	pid = waiting_reader_at(self->sv[1], 0, true, &pr);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
	ASSERT_EQ(BIG, writev(self->sv[0], iov, 4));
	ASSERT_EQ(BIG, whole_report(pr, &first, got));
	EXPECT_EQ(0, memcmp(src, got, BIG));
	EXPECT_EQ(0, wait_child(pid));
	if (variant->family == AF_TOY)
		EXPECT_EQ(BIG, first);
	close(pr);
}

/*
 * Both ends on one CPU, big writes, a reader with an unaligned buffer and
 * both threads signalled all the while (no SA_RESTART): every byte
 * arrives once and in order.  This is where a writer sleeps until its
 * reader comes back for the next piece (toy_direct_await()), where a
 * signal ends that wait, and where the reader never copies a part itself
 * (it cannot run while the writer copies).
 */
TEST_F_TIMEOUT(fam, same_cpu_big_writes_exactly_once, 300)
{
	int cpu = sched_getcpu();
	struct flow w = { .fd = self->sv[0], .max = BIG, .total = 16 << 20,
			  .cpu1 = cpu + 1 };
	struct flow r = { .fd = self->sv[1], .total = 16 << 20, .off = 16,
			  .cpu1 = cpu + 1 };
	long direct = toy_counter(variant->family, "bytes_direct");
	long helped = toy_counter(variant->family, "bytes_direct_reader");
	pthread_t tw, tr;
	int i;

	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, toy_sigaction(SIGUSR1, count_signal, 0));
	ASSERT_EQ(0, pthread_create(&tr, NULL, big_reader, &r));
	ASSERT_EQ(0, pthread_create(&tw, NULL, pattern_writer, &w));
	for (i = 0; i < 200 && r.done < r.total && !r.bad; i++) {
		pthread_kill(i & 1 ? tw : tr, SIGUSR1);
		usleep(2000);
	}
	pthread_join(tw, NULL);
	pthread_join(tr, NULL);
	direct = toy_counter(variant->family, "bytes_direct") - direct;
	helped = toy_counter(variant->family, "bytes_direct_reader") - helped;
	TH_LOG("%ld of %zu bytes copied directly, %d signals", direct,
	       r.total, (int)signals);
	EXPECT_EQ(w.total, w.done);
	EXPECT_EQ(r.total, r.done);
	EXPECT_EQ(0, r.bad) TH_LOG("first bad byte at %d", r.bad - 1);
	if (variant->family == AF_TOY)
		EXPECT_LT(0, direct);
	/* a reader on the writer's CPU never copies at the same time */
	EXPECT_EQ(0, helped);
}

/*
 * The two ends on two CPUs, big writes and reads, nothing else going on:
 * every byte arrives once and in order, and on AF_TOY the reader copied
 * a part of the direct copies itself, at the same time as the writer
 * (toy_direct_share()).  Whether the reader is awake in time to take a
 * piece depends on the scheduler, so up to 8 rounds of 16 MiB run until
 * one shows it.  The two CPUs are needed for that: skipped on one.
 */
TEST_F_TIMEOUT(fam, two_cpu_big_writes_shared_copy, 600)
{
	long direct = toy_counter(variant->family, "bytes_direct");
	long helped = toy_counter(variant->family, "bytes_direct_reader");
	int cpus[2], n = two_cpus(cpus), round;
	pthread_t tw, tr;

	ASSERT_LE(0, n);
	if (n < 2)
		SKIP(return, "one CPU: the two ends cannot copy at once");
	for (round = 0; round < 8; round++) {
		struct flow w = { .fd = self->sv[0], .max = BIG,
				  .total = 16 << 20, .cpu1 = cpus[0] + 1 };
		struct flow r = { .fd = self->sv[1], .total = 16 << 20,
				  .off = 16, .cpu1 = cpus[1] + 1 };

		ASSERT_EQ(0, pthread_create(&tr, NULL, big_reader, &r));
		ASSERT_EQ(0, pthread_create(&tw, NULL, pattern_writer, &w));
		pthread_join(tw, NULL);
		pthread_join(tr, NULL);
		ASSERT_EQ(w.total, w.done);
		ASSERT_EQ(r.total, r.done);
		ASSERT_EQ(0, r.bad) TH_LOG("first bad byte at %d", r.bad - 1);
		if (variant->family != AF_TOY ||
		    toy_counter(variant->family, "bytes_direct_reader") > helped)
			break;
	}
	direct = toy_counter(variant->family, "bytes_direct") - direct;
	helped = toy_counter(variant->family, "bytes_direct_reader") - helped;
	TH_LOG("%d round(s): %ld bytes copied directly, %ld of them by the reader",
	       round < 8 ? round + 1 : 8, direct, helped);
	if (variant->family == AF_TOY) {
		EXPECT_LT(0, helped);
		EXPECT_LE(helped, direct);
	}
}

struct stopping_reader {
	int fd, go;		/* the socket; a pipe that says "read on" */
	int cpu;
	volatile pid_t tid;
	size_t first, rest;	/* bytes read before and after the pause */
	int bad;
};

/* Reads @want bytes of @s's stream, or to its end; checks every byte. */
static size_t stopping_read(struct stopping_reader *s, size_t want)
{
	static char buf[BIG], ok[BIG];
	size_t got = 0, at;
	ssize_t r;

	while (got < want) {
		r = read(s->fd, buf, want - got < BIG ? want - got : BIG);
		if (r <= 0)
			break;
		at = s->first + s->rest + got;
		toy_pattern(ok, r, at);
		if (memcmp(buf, ok, r))
			s->bad = 1;
		got += r;
	}
	return got;
}

/* Reads one BIG write, waits on a pipe (not reading), then reads on. */
static void *stopping_reader(void *arg)
{
	struct stopping_reader *s = arg;
	char c;

	if (pin_thread(s->cpu)) {
		s->tid = -1;
		return NULL;
	}
	s->tid = (pid_t)syscall(SYS_gettid);
	s->first = stopping_read(s, BIG);
	if (read(s->go, &c, 1) != 1)
		return NULL;
	s->rest = stopping_read(s, SIZE_MAX);
	return NULL;
}

/*
 * Both ends on one CPU: a reader takes one big write, then does something
 * else (waits on a pipe) instead of reading again.  The writer is not
 * held by it: its next big writes are queued and return whole (AF_TOY's
 * writer waits only briefly for a reader that shares its CPU), and the
 * reader gets them in order once it reads on.
 */
TEST_F_TIMEOUT(fam, same_cpu_writer_not_held_by_a_reader_that_stops, 60)
{
	static char src[BIG];
	int cpu = sched_getcpu(), go[2], i;
	struct stopping_reader s = { .fd = self->sv[1], .cpu = cpu };
	pthread_t tr;

	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, pin_thread(cpu));
	ASSERT_EQ(0, big_writes_seen(self->sv));
	ASSERT_EQ(0, pipe(go));
	s.go = go[0];
	ASSERT_EQ(0, pthread_create(&tr, NULL, stopping_reader, &s));
	while (!s.tid)
		usleep(1000);
	ASSERT_LT(0, s.tid);
	ASSERT_EQ(0, wait_in_syscall(s.tid, SYS_read));
	for (i = 0; i < 3; i++) {
		toy_pattern(src, BIG, (size_t)i * BIG);
		EXPECT_EQ(BIG, write_all(self->sv[0], src, BIG));
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, shutdown(self->sv[0], SHUT_WR));
	pthread_join(tr, NULL);
	EXPECT_EQ(BIG, s.first);
	EXPECT_EQ(2 * BIG, s.rest);
	EXPECT_EQ(0, s.bad);
	close(go[0]);
	close(go[1]);
}

struct closing_reader {
	int fd;
	volatile pid_t tid;
	ssize_t got;
	int bad;
};

/* SCHED_FIFO, so that it runs as soon as it is woken: one BIG, close. */
static void *closing_reader(void *arg)
{
	static char buf[BIG], want[BIG];
	struct sched_param sp = { .sched_priority = 10 };
	struct closing_reader *c = arg;

	pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	c->tid = (pid_t)syscall(SYS_gettid);
	c->got = read_all(c->fd, buf, BIG);
	close(c->fd);
	toy_pattern(want, BIG, 0);
	c->bad = memcmp(buf, want, BIG) != 0;
	return NULL;
}

/*
 * A reader that offered its buffer on one CPU is moved to the writer's
 * and runs first once woken: it takes pieces of the shared copy, returns
 * as soon as the copy is DONE and closes its socket while the writer is
 * still in its write.  The writer's last wake-up of the reader's queue
 * found the queue gone (a NULL dereference, seen with full preemption and
 * on PREEMPT_RT).  Both families: every byte arrives.
 */
TEST_F_TIMEOUT(fam, reader_closes_at_once_after_a_shared_copy, 300)
{
	static char src[BIG];
	int cpus[2], n = two_cpus(cpus), i;
	cpu_set_t set;

	ASSERT_LE(0, n);
	if (n < 2)
		SKIP(return, "one CPU: the reader cannot offer from another");
	toy_pattern(src, BIG, 0);
	for (i = 0; i < 20; i++) {
		struct closing_reader r = { 0 };
		pthread_t tr;
		int sv[2];

		ASSERT_EQ(0, stream_pair(variant->family, sv));
		ASSERT_EQ(0, big_writes_seen(sv));
		r.fd = sv[1];
		ASSERT_EQ(0, pin_thread(cpus[1]));	/* the reader's, inherited */
		ASSERT_EQ(0, pthread_create(&tr, NULL, closing_reader, &r));
		ASSERT_EQ(0, pin_thread(cpus[0]));
		while (!r.tid)
			usleep(1000);
		ASSERT_EQ(0, wait_in_syscall(r.tid, SYS_read));
		CPU_ZERO(&set);
		CPU_SET(cpus[0], &set);
		ASSERT_EQ(0, sched_setaffinity(r.tid, sizeof(set), &set));
		EXPECT_EQ(BIG, write_all(sv[0], src, BIG));
		pthread_join(tr, NULL);
		EXPECT_EQ(BIG, r.got) TH_LOG("round %d", i);
		EXPECT_EQ(0, r.bad) TH_LOG("round %d", i);
		close(sv[0]);
	}
}

/*
 * Pages pinned (FOLL_PIN) and not yet unpinned, system-wide; -1 unknown.
 * The counters are per CPU until folded: stat_refresh folds them.
 */
static long pins_held(void)
{
	long acq = -1, rel = -1, v;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	char name[64];
	FILE *f;

	if (fd < 0)
		return -1;
	if (write(fd, "1", 1) != 1)
		acq = -2;	/* EINVAL for a negative counter: still folded */
	close(fd);
	f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	if (f)
		fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/* One read(): its thread (t.ret: what it got), its CPU, its buffer. */
struct run_reader {
	struct thr t;
	int cpu;
	char buf[BIG];
};

static long run_read(struct thr *t)
{
	struct run_reader *r = (struct run_reader *)t;

	if (pin_thread(r->cpu))
		return -1;
	return read(t->fd, r->buf, BIG);
}

/* Starts @r and waits until it sleeps in its read(); 0 or -1. */
static int run_reader_start(struct run_reader *r)
{
	return thr_start(&r->t, run_read) ? -1 :
	       thr_wait_blocked(&r->t, SYS_read);
}

/*
 * A SCHED_FIFO thread that, once @go is readable, keeps its CPU from
 * everything else until @stop: a reader woken there cannot run.
 */
struct cpu_hog {
	int cpu, go, running, stop, err;
};

static void *cpu_hog(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct cpu_hog *h = arg;
	char c;

	h->err = pin_thread(h->cpu);
	if (!h->err)
		h->err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (read(h->go, &c, 1) != 1 && !h->err)
		h->err = EIO;
	__atomic_store_n(&h->running, 1, __ATOMIC_SEQ_CST);
	while (!h->err && !__atomic_load_n(&h->stop, __ATOMIC_SEQ_CST))
		;
	return NULL;
}

#define RUN_PIECE	(16 * 1024)	/* TOY_DIRECT_MIN: a reader offers for it */
#define RUN_TOTAL	(3 * RUN_PIECE)

/* The stream written: 32-bit words, each different (k * an odd number). */
static void run_stream(char *all)
{
	uint32_t w;
	size_t k;

	for (k = 0; k < RUN_TOTAL / sizeof(w); k++) {
		w = (uint32_t)(k * 2654435761u + 1);
		memcpy(all + k * sizeof(w), &w, sizeof(w));
	}
}

/*
 * Where in @all the @n bytes of one read() lie, if they are one run of
 * the stream; -1 if they are not.
 */
static long run_offset(const char *all, const char *got, ssize_t n)
{
	const char *at;

	if (n < 16)
		return -1;	/* every read here gets a piece or more */
	at = memmem(all, RUN_TOTAL, got, 16);
	if (!at || at - all + n > RUN_TOTAL || memcmp(at, got, n))
		return -1;
	return at - all;
}

/*
 * Whether the @n reads in @bufs/@lens are each one run of the stream and
 * together cover it exactly once.
 */
static bool runs_tile(struct __test_metadata *_metadata, const char *all,
		      char *const bufs[], const ssize_t lens[], int n)
{
	long off[4], covered = 0;
	int i;

	for (i = 0; i < n; i++) {
		off[i] = run_offset(all, bufs[i], lens[i]);
		if (off[i] < 0) {
			TH_LOG("read %d: %zd bytes that are no run of the stream",
			       i, lens[i]);
			return false;
		}
	}
	while (covered < RUN_TOTAL) {
		for (i = 0; i < n && off[i] != covered; i++)
			;
		if (i == n) {
			TH_LOG("no read has the bytes from %ld on", covered);
			return false;
		}
		covered += lens[i];
	}
	return covered == RUN_TOTAL;
}

/*
 * Two readers of one socket, one per CPU, each blocked in read(): A
 * offers its buffer, a writer fills it with piece X and A is woken, but
 * its CPU is taken (cpu_hog) until B has read piece Y and Z is written.
 * Every read() returns one run of the stream (A: X, B: Y, then Z), as on
 * AF_UNIX and TCP.  A used to go on from its offer into the queue, since
 * its read wants more than it got: X and Z, with Y in between read by B
 * (found in review).  An offer stands 10 ms, so a try where A's read did
 * not begin the stream (it offered too early, B took X) says nothing:
 * up to 10 tries, one of which must, on AF_TOY.
 */
TEST_F_TIMEOUT(fam, two_readers_each_read_one_run, 300)
{
	static char all[RUN_TOTAL], rest[RUN_TOTAL];
	int cpus[2], n = two_cpus(cpus), try;
	bool began = false;

	ASSERT_LE(0, n);
	if (n < 2)
		SKIP(return, "one CPU: the readers need one each");
	run_stream(all);
	for (try = 0; try < 10 && !began; try++) {
		struct run_reader *a = calloc(1, sizeof(*a));
		struct run_reader *b = calloc(1, sizeof(*b));
		struct cpu_hog h = { .cpu = cpus[0] };
		pthread_t th;
		char *bufs[3];
		ssize_t lens[3];
		int sv[2], go[2];

		ASSERT_TRUE(a && b);
		ASSERT_EQ(0, stream_pair(variant->family, sv));
		ASSERT_EQ(0, big_writes_seen(sv));
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pin_thread(cpus[1]));
		a->t.fd = b->t.fd = sv[1];
		a->cpu = cpus[0];
		b->cpu = cpus[1];
		h.go = go[0];
		ASSERT_EQ(0, run_reader_start(b))
			TH_LOG("B: %ld, %s", b->t.ret, strerror(b->t.err));
		usleep(30000);		/* B's offer is over: A's is the one */
		ASSERT_EQ(0, pthread_create(&th, NULL, cpu_hog, &h));
		ASSERT_EQ(0, run_reader_start(a))
			TH_LOG("A: %ld, %s", a->t.ret, strerror(a->t.err));
		ASSERT_EQ(1, write(go[1], "g", 1));
		while (!__atomic_load_n(&h.running, __ATOMIC_SEQ_CST))
			;
		ASSERT_EQ(0, h.err) TH_LOG("SCHED_FIFO on CPU %d", cpus[0]);
		ASSERT_EQ(RUN_PIECE, write(sv[0], all, RUN_PIECE));
		ASSERT_EQ(RUN_PIECE, write(sv[0], all + RUN_PIECE, RUN_PIECE));
		pthread_join(b->t.th, NULL);
		ASSERT_EQ(RUN_PIECE, write(sv[0], all + 2 * RUN_PIECE, RUN_PIECE));
		__atomic_store_n(&h.stop, 1, __ATOMIC_SEQ_CST);
		pthread_join(th, NULL);
		pthread_join(a->t.th, NULL);
		lens[0] = a->t.ret;
		lens[1] = b->t.ret;
		lens[2] = recv(sv[1], rest, RUN_TOTAL, MSG_DONTWAIT);
		if (lens[2] < 0 && errno == EAGAIN)
			lens[2] = 0;
		bufs[0] = a->buf;
		bufs[1] = b->buf;
		bufs[2] = rest;
		EXPECT_ERRNO(EAGAIN, recv(sv[1], rest, 1, MSG_DONTWAIT));
		EXPECT_TRUE(runs_tile(_metadata, all, bufs, lens, lens[2] ? 3 : 2))
			TH_LOG("try %d: A %zd, B %zd, then %zd bytes", try,
			       lens[0], lens[1], lens[2]);
		began = lens[0] > 0 && !memcmp(a->buf, all, 16);
		close(go[0]);
		close(go[1]);
		close(sv[0]);
		close(sv[1]);
		free(a);
		free(b);
		if (variant->family != AF_TOY)
			break;
	}
	if (variant->family == AF_TOY)
		EXPECT_TRUE(began) TH_LOG("A's offer was not taken in %d tries", try);
}

/*
 * A big read that waits for a writer that does not come: its offer (its
 * pages pinned) stands only briefly, then it waits as any reader does,
 * holding nothing, as AF_UNIX's and TCP's readers do; the next write
 * still reaches it.  It used to keep 17 pages pinned for as long as it
 * waited, without limit and without a charge.
 */
TEST_F_TIMEOUT(fam, blocked_reader_holds_no_pinned_pages, 60)
{
	static char src[BIG], got[BIG];
	long base = pins_held(), now = base;
	ssize_t first;
	int pr, i;
	pid_t pid;

	if (base < 0)
		SKIP(return, "no nr_foll_pin_* in /proc/vmstat");
	ASSERT_EQ(0, big_writes_seen(self->sv));
	pid = waiting_reader_at(self->sv[1], 0, true, &pr);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
	for (i = 0; i < 1000; i++) {	/* bounded: 10 s */
		now = pins_held();
		if (now == base)
			break;
		usleep(10000);
	}
	EXPECT_EQ(base, now) TH_LOG("pages still pinned by a waiting reader");
	toy_pattern(src, BIG, 0);
	EXPECT_EQ(BIG, write_all(self->sv[0], src, BIG));
	EXPECT_EQ(BIG, whole_report(pr, &first, got));
	EXPECT_EQ(0, memcmp(src, got, BIG));
	EXPECT_EQ(0, wait_child(pid));
	close(pr);
}

struct restarting_reader {
	int fd;
	volatile pid_t tid;
	ssize_t ret;
	int err;
};

static void *restarting_reader(void *arg)
{
	static char buf[BIG];
	struct restarting_reader *r = arg;

	r->tid = (pid_t)syscall(SYS_gettid);
	r->ret = read(r->fd, buf, BIG);
	r->err = errno;
	return NULL;
}

/*
 * A signal with SA_RESTART while a big read waits (and offers its buffer):
 * the read restarts, as on AF_UNIX and TCP, and gets the write that comes
 * after.  For a while the offer's own short wait made it fail with EINTR.
 * 20 rounds, each signalled every 0.5 ms while the reader starts to wait.
 */
TEST_F_TIMEOUT(fam, signal_restarts_a_waiting_big_read, 120)
{
	static char src[BIG];
	int i, k;

	ASSERT_EQ(0, toy_sigaction(SIGUSR1, count_signal, SA_RESTART));
	ASSERT_EQ(0, big_writes_seen(self->sv));
	for (i = 0; i < 20; i++) {
		struct restarting_reader r = { .fd = self->sv[1] };
		pthread_t tr;

		ASSERT_EQ(0, pthread_create(&tr, NULL, restarting_reader, &r));
		while (!r.tid)
			usleep(100);
		/* through the offer's first 20 ms, and once it sleeps */
		for (k = 0; k < 40; k++) {
			ASSERT_EQ(0, pthread_kill(tr, SIGUSR1));
			usleep(500);
		}
		if (!wait_in_syscall(r.tid, SYS_read))	/* else it failed */
			ASSERT_EQ(0, pthread_kill(tr, SIGUSR1));
		EXPECT_EQ(BIG, write_all(self->sv[0], src, BIG));
		pthread_join(tr, NULL);
		if (r.ret < 0)
			TH_LOG("round %d: read failed: %s", i, strerror(r.err));
		ASSERT_LT(0, r.ret);
		if (r.ret < BIG)	/* AF_UNIX may wake it after one skb */
			ASSERT_EQ(BIG - r.ret, read_all(self->sv[1], src, BIG - r.ret));
	}
}

/*
 * A big write whose source faults in its middle, to a reader already
 * waiting: the writer is told how many bytes went (or EFAULT), and the
 * reader gets exactly those bytes, the first of the buffer.
 */
TEST_F(fam, faulting_big_write_to_waiting_reader)
{
	long direct = toy_counter(variant->family, "bytes_direct");
	char *src, got[BIG];
	ssize_t w, r = -1;
	int pr;
	pid_t pid;

	ASSERT_EQ(0, big_writes_seen(self->sv));
	src = mmap(NULL, 2 * BIG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	toy_pattern(src, BIG, 0);
	/* the last quarter of the write is not readable */
	ASSERT_EQ(0, mprotect(src + BIG - BIG / 4, BIG / 4 + BIG, PROT_NONE));
	pid = waiting_reader(self->sv[1], &pr);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
	w = write(self->sv[0], src, BIG);
	if (w < 0) {
		EXPECT_EQ(EFAULT, errno);
		ASSERT_EQ(0, shutdown(self->sv[0], SHUT_WR));
	} else {
		EXPECT_GE(BIG - BIG / 4, (size_t)w);
	}
	ASSERT_EQ(sizeof(r), read(pr, &r, sizeof(r)));
	ASSERT_EQ(w < 0 ? 0 : w, r);
	if (r > 0) {
		ASSERT_EQ(r, read_all(pr, got, r));
		EXPECT_EQ(0, memcmp(src, got, r));
	}
	EXPECT_EQ(0, wait_child(pid));
	/* nothing more went than the writer was told: EOF if we shut down */
	if (w < 0) {
		EXPECT_EQ(0, recv(self->sv[1], got, 1, MSG_DONTWAIT));
	} else {
		EXPECT_ERRNO(EAGAIN, recv(self->sv[1], got, 1, MSG_DONTWAIT));
	}
	TH_LOG("write returned %zd; %ld bytes direct", w,
	       toy_counter(variant->family, "bytes_direct") - direct);
	munmap(src, 2 * BIG);
	close(pr);
}

/*
 * A big write from a buffer with not one readable byte, to a reader that
 * already waits: the writer gets EFAULT and the reader goes on waiting (no
 * end of file), then reads the next write whole.
 */
TEST_F(fam, unreadable_big_write_leaves_reader_waiting)
{
	char *src, got[BIG], ok[100];
	ssize_t r = -1;
	int pr;
	pid_t pid;

	ASSERT_EQ(0, big_writes_seen(self->sv));
	src = mmap(NULL, BIG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	pid = waiting_reader(self->sv[1], &pr);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
	EXPECT_ERRNO(EFAULT, write(self->sv[0], src, BIG));
	/* still blocked: nothing was sent, and no FIN either */
	EXPECT_EQ(0, wait_in_syscall(pid, SYS_read));
	toy_pattern(ok, sizeof(ok), 9);
	ASSERT_EQ((ssize_t)sizeof(ok), write(self->sv[0], ok, sizeof(ok)));
	ASSERT_EQ(sizeof(r), read(pr, &r, sizeof(r)));
	ASSERT_EQ((ssize_t)sizeof(ok), r);
	ASSERT_EQ(r, read_all(pr, got, r));
	EXPECT_EQ(0, memcmp(ok, got, r));
	EXPECT_EQ(0, wait_child(pid));
	munmap(src, BIG);
	close(pr);
}

/*
 * Readers that must not take bytes directly: one that peeks, one with
 * SO_RCVTIMEO that times out, and one shut down for reading while it
 * waits.  Each returns what AF_UNIX returns, and the bytes are not lost.
 */
TEST_F(fam, peek_timeout_and_shutdown_while_waiting)
{
	static char buf[BIG], got[BIG];
	int pr;
	ssize_t r;
	pid_t pid;

	ASSERT_EQ(0, big_writes_seen(self->sv));
	/* timeout: EAGAIN, then the next write is still read whole */
	ASSERT_EQ(0, toy_set_timeo(self->sv[1], SO_RCVTIMEO, 20000));
	EXPECT_ERRNO(EAGAIN, read(self->sv[1], got, BIG));
	toy_pattern(buf, BIG, 1);
	ASSERT_EQ(BIG, write(self->sv[0], buf, BIG));
	ASSERT_EQ(BIG, read_all(self->sv[1], got, BIG));
	EXPECT_EQ(0, memcmp(buf, got, BIG));
	ASSERT_EQ(0, toy_set_timeo(self->sv[1], SO_RCVTIMEO, 0));

	/* peek: sees the bytes, which stay for the read */
	toy_pattern(buf, BIG, 2);
	ASSERT_EQ(BIG, write(self->sv[0], buf, BIG));
	r = recv(self->sv[1], got, BIG, MSG_PEEK | MSG_WAITALL);
	ASSERT_EQ(BIG, r);
	ASSERT_EQ(BIG, read_all(self->sv[1], got, BIG));
	EXPECT_EQ(0, memcmp(buf, got, BIG));

	/* shutdown(SHUT_RD) of a waiting reader: it returns 0, a write EPIPE */
	toy_selftest_init(true);
	pid = waiting_reader(self->sv[1], &pr);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_in_syscall(pid, SYS_read));
	ASSERT_EQ(0, shutdown(self->sv[1], SHUT_RD));
	ASSERT_EQ(sizeof(r), read(pr, &r, sizeof(r)));
	EXPECT_EQ(0, r);
	EXPECT_EQ(0, wait_child(pid));
	close(pr);
}

/* --------------------------------- readers that wait without sleeping */

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A blocking read of @fd, interrupted by SIGALRM (no SA_RESTART) @usec
 * from now, and every millisecond after (the first may come before the
 * read begins): the read's spin (toy_spin_for_data()) or its sleep.
 * Returns what read() returned, errno in *@err.
 */
static ssize_t read_with_alarm(int fd, long usec, int *err)
{
	struct itimerval it = { .it_interval = { 0, 1000 },
				.it_value = { 0, usec } };
	struct sigaction sa = { .sa_handler = on_alarm };
	char c;
	ssize_t r;

	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return -2;
	r = read(fd, &c, 1);
	*err = errno;
	/* No alarm left, and the default again: a child's watchdog kills. */
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
	return r;
}

#define SPIN_STREAM_BYTES (64 * 1024)

/*
 * Another process writes small pieces as fast as it can while the reader
 * reads (a stream reader sleeps after a read, letting pieces coalesce; a
 * DGRAM reader spins: the next test).  Every byte comes once, in order.  Right after the last read, a signal
 * ends the wait (EINTR), then SO_RCVTIMEO (EAGAIN), then the writer's
 * close (end of file, twice), as each ends a sleep.
 */
TEST_F_TIMEOUT(fam, streaming_reader_waits_like_a_sleeper, 300)
{
	static char want[SPIN_STREAM_BYTES], got[SPIN_STREAM_BYTES];
	size_t off = 0, n;
	int go[2], err;
	ssize_t r;
	pid_t pid;
	char c;

	toy_pattern(want, sizeof(want), 0);
	ASSERT_EQ(0, pipe(go));
	if (TOY_FORK(pid)) {
		close(go[1]);
		close(self->sv[1]);
		for (n = 1; off < sizeof(want); off += n, n = n % 64 + 1) {
			n = off + n > sizeof(want) ? sizeof(want) - off : n;
			if (write(self->sv[0], want + off, n) != (ssize_t)n)
				_exit(1);
		}
		/* closes when the parent says so (or is gone) */
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	close(self->sv[0]);
	self->sv[0] = -1;
	while (off < sizeof(want) &&
	       (r = read(self->sv[1], got + off, sizeof(got) - off)) > 0)
		off += r;
	EXPECT_EQ(sizeof(want), off);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
	EXPECT_EQ(-1, read_with_alarm(self->sv[1], 20, &err));
	EXPECT_EQ(EINTR, err);
	ASSERT_EQ(0, toy_set_timeo(self->sv[1], SO_RCVTIMEO, 20000));
	EXPECT_ERRNO(EAGAIN, read(self->sv[1], got, 1));
	ASSERT_EQ(0, toy_set_timeo(self->sv[1], SO_RCVTIMEO, 0));
	close(go[1]);
	EXPECT_EQ(0, read(self->sv[1], got, 1));
	EXPECT_EQ(0, read(self->sv[1], got, 1));
	EXPECT_EQ(0, wait_child(pid));
}

#define SPIN_DGRAMS 3000

/*
 * The same for datagrams, on AF_TOY and AF_UNIX: each comes once and in
 * order; right after a read, a signal ends the wait with EINTR and
 * SO_RCVTIMEO with EAGAIN, on both families.
 */
TEST(dgram_reader_waits_like_a_sleeper)
{
	static const int fams[] = { AF_TOY, AF_UNIX };
	uint32_t seq, i;
	int f, sv[2], err;
	pid_t pid;

	ASSERT_EQ(0, toy_ensure_module());
	for (f = 0; f < 2; f++) {
		ASSERT_EQ(0, socketpair(fams[f], SOCK_DGRAM, 0, sv));
		if (TOY_FORK(pid)) {
			close(sv[1]);
			for (i = 0; i < SPIN_DGRAMS; i++)
				if (send(sv[0], &i, sizeof(i), 0) != sizeof(i))
					_exit(1);
			_exit(0);
		}
		for (i = 0; i < SPIN_DGRAMS; i++) {
			ASSERT_EQ(sizeof(seq), recv(sv[1], &seq, sizeof(seq), 0));
			ASSERT_EQ(i, seq);
		}
		EXPECT_EQ(-1, read_with_alarm(sv[1], 20, &err));
		EXPECT_EQ(EINTR, err);
		EXPECT_EQ(0, wait_child(pid));
		ASSERT_EQ(sizeof(i), send(sv[0], &i, sizeof(i), 0));
		ASSERT_EQ(sizeof(seq), recv(sv[1], &seq, sizeof(seq), 0));
		ASSERT_EQ(0, toy_set_timeo(sv[1], SO_RCVTIMEO, 20000));
		EXPECT_ERRNO(EAGAIN, recv(sv[1], &seq, sizeof(seq), 0));
		toy_close_fds(sv, 2);
	}
}

#define POOL_READERS 3

/*
 * Several processes read one DGRAM socket (a worker pool), each waiting
 * with a spin or a sleep, while another sends as fast as it can: every
 * datagram is received exactly once over all readers, on AF_TOY as on
 * AF_UNIX.  The sender ends with one end marker per reader.
 */
TEST_F_TIMEOUT(fam, dgram_reader_pool_gets_each_datagram_once, 300)
{
	pid_t pids[POOL_READERS], spid;
	uint32_t i, seq;
	int r, sv[2], bad;
	int *seen;

	seen = mmap(NULL, SPIN_DGRAMS * sizeof(*seen), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	ASSERT_EQ(0, socketpair(variant->family, SOCK_DGRAM, 0, sv));
	memset(seen, 0, SPIN_DGRAMS * sizeof(*seen));
	for (r = 0; r < POOL_READERS; r++) {
		if (TOY_FORK(pids[r])) {
			close(sv[0]);
			while (recv(sv[1], &seq, sizeof(seq), 0) == sizeof(seq) &&
			       seq < SPIN_DGRAMS)
				__atomic_add_fetch(&seen[seq], 1, __ATOMIC_RELAXED);
			_exit(0);
		}
	}
	if (TOY_FORK(spid)) {
		close(sv[1]);
		for (i = 0; i < SPIN_DGRAMS + POOL_READERS; i++) {
			seq = i < SPIN_DGRAMS ? i : UINT32_MAX;
			if (send(sv[0], &seq, sizeof(seq), 0) != sizeof(seq))
				_exit(1);
		}
		_exit(0);
	}
	/* the children hold what they need: none waits on us */
	toy_close_fds(sv, 2);
	EXPECT_EQ(0, wait_child(spid));
	for (r = 0; r < POOL_READERS; r++) {
		EXPECT_EQ(0, wait_child(pids[r]));
	}
	for (bad = 0, i = 0; i < SPIN_DGRAMS; i++)
		bad += seen[i] != 1;
	EXPECT_EQ(0, bad)
		TH_LOG("%d datagrams not received exactly once", bad);
	munmap(seen, SPIN_DGRAMS * sizeof(*seen));
}

/* A STREAM listener of @family at @a (AF_UNIX: an abstract name). */
static int fam_listener(int family, struct sockaddr_storage *a,
			socklen_t *alen)
{
	struct sockaddr_un *u = (struct sockaddr_un *)a;
	int l;

	memset(a, 0, sizeof(*a));
	*alen = sizeof(*a);
	if (family == AF_TOY) {
		uint32_t port;

		l = toy_listener(SOCK_STREAM, &port);
		if (l >= 0 && getsockname(l, (struct sockaddr *)a, alen)) {
			close(l);
			return -1;
		}
		return l;
	}
	u->sun_family = AF_UNIX;
	snprintf(u->sun_path + 1, sizeof(u->sun_path) - 1, "toy_spare_%d",
		 getpid());
	*alen = offsetof(struct sockaddr_un, sun_path) + 1 +
		strlen(u->sun_path + 1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l >= 0 && (bind(l, (struct sockaddr *)a, *alen) || listen(l, 8))) {
		close(l);
		return -1;
	}
	return l;
}

#define SPARE_CONNS 3

struct port_count {
	unsigned long port;
	int n;			/* STREAM sockets bound or connected to port */
	int waiting;		/* ... of them, connections not yet accepted */
	unsigned long uid;	/* the owner of the last of those */
};

static int count_port_fn(const struct toy_proc_entry *e, const char *line,
			 void *arg)
{
	struct port_count *c = arg;

	(void)line;
	if (strcmp(e->type, "STREAM") ||
	    (e->lport != c->port && e->pport != c->port))
		return 0;
	c->n++;
	if (e->lport == c->port && !e->ino && e->pport) {
		c->waiting++;
		c->uid = e->uid;
	}
	return 0;
}

/* The /proc/net/toy sockets of AF_TOY port @port, into *@pc. */
static int count_port(unsigned long port, struct port_count *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->port = port;
	return toy_proc_foreach(count_port_fn, pc);
}

/*
 * accept() leaves the next connection's server side on the listener
 * (toy_make_spare()), made by the server.  Connections that get it
 * (children_premade counts them: all but the first) must look like the
 * first, which did not: each accepted socket has the connecting process's
 * credentials (SO_PEERCRED, as AF_UNIX gives them for the same calls)
 * and, until accept() (whose sock_graft() gives it the accepter's, as
 * for every family), the uid of the listener's owner in /proc/net/toy: a
 * child is made with uid 0 and takes the listener's, which is not 0 here
 * when run as root.  No spare is listed.  In a netns of its own (as
 * root), so that the counter is this test's alone.  A listener shut for reading refuses, then listens and
 * serves again.  Under kmemleak (check-debug) the spare the listener
 * keeps at close must not leak.
 */
TEST(listener_spare_child_serves_like_a_new_one)
{
	static const int fams[] = { AF_TOY, AF_UNIX };
	struct sockaddr_storage a;
	int f, i, l, s[SPARE_CONNS], ready[2];
	struct port_count pc;
	struct toy_proc_entry e;
	uid_t cuid, luid, suid = geteuid();
	struct ucred cr;
	socklen_t alen, len;
	long premade = 0;
	uint32_t port;
	pid_t pid;
	char k;

	ASSERT_EQ(0, toy_ensure_module());
	if (suid == 0)
		ASSERT_EQ(0, unshare(CLONE_NEWNET));
	cuid = suid == 0 ? 65534 : suid;
	luid = suid == 0 ? 65533 : suid;
	for (f = 0; f < 2; f++) {
		/* the listener's owner: neither the client nor the server */
		ASSERT_EQ(0, seteuid(luid));
		l = fam_listener(fams[f], &a, &alen);
		ASSERT_EQ(0, seteuid(suid));
		ASSERT_LE(0, l);
		if (fams[f] == AF_TOY)
			premade = toy_stat_value("children_premade");
		ASSERT_EQ(0, pipe(ready));
		if (TOY_FORK(pid)) {
			int c[SPARE_CONNS];

			close(ready[0]);
			CHILD_CHECK(geteuid() != 0 || setuid(cuid) == 0);
			for (i = 0; i < SPARE_CONNS; i++) {
				c[i] = socket(fams[f], SOCK_STREAM, 0);
				CHILD_CHECK(c[i] >= 0);
				CHILD_CHECK(connect(c[i], (struct sockaddr *)&a,
						    alen) == 0);
				/* the next one after this one's accept() */
				CHILD_CHECK(read(c[i], &k, 1) == 1);
			}
			CHILD_CHECK(write(ready[1], "r", 1) == 1);
			/* hold the sockets until the server has looked */
			CHILD_CHECK(read(c[0], &k, 1) == 0);
			_exit(0);
		}
		close(ready[1]);
		for (i = 0; i < SPARE_CONNS; i++) {
			struct pollfd pfd = { .fd = l, .events = POLLIN };

			ASSERT_EQ(1, poll(&pfd, 1, 10000));
			if (fams[f] == AF_TOY) {
				port = ((struct sockaddr_toy *)&a)->stoy_port;
				ASSERT_EQ(0, count_port(port, &pc));
				EXPECT_EQ(1, pc.waiting);
				EXPECT_EQ(luid, pc.uid);
			}
			s[i] = accept(l, NULL, NULL);
			ASSERT_LE(0, s[i]);
			len = sizeof(cr);
			ASSERT_EQ(0, getsockopt(s[i], SOL_SOCKET, SO_PEERCRED,
						&cr, &len));
			EXPECT_EQ(pid, cr.pid);
			EXPECT_EQ(cuid, cr.uid);
			ASSERT_EQ(1, write(s[i], "k", 1));
		}
		ASSERT_EQ(1, read(ready[0], &k, 1));
		close(ready[0]);
		if (fams[f] == AF_TOY) {
			for (i = 0; i < SPARE_CONNS; i++) {
				ASSERT_EQ(0, proc_entry(s[i], &e));
				EXPECT_EQ(suid, e.uid);
				EXPECT_EQ(port, e.lport);
			}
			EXPECT_EQ(SPARE_CONNS - 1,
				  toy_stat_value("children_premade") - premade);
			/* listener, children, clients: no spare among them */
			ASSERT_EQ(0, count_port(port, &pc));
			EXPECT_EQ(1 + 2 * SPARE_CONNS, pc.n);
		}
		toy_close_fds(s, SPARE_CONNS);
		EXPECT_EQ(0, wait_child(pid));

		/* Shut for reading: refused, as AF_UNIX and TCP. */
		ASSERT_EQ(0, shutdown(l, SHUT_RD));
		s[0] = socket(fams[f], SOCK_STREAM, 0);
		ASSERT_LE(0, s[0]);
		EXPECT_ERRNO(ECONNREFUSED,
			     connect(s[0], (struct sockaddr *)&a, alen));
		close(s[0]);
		/* As TCP (not AF_UNIX): listening again, it serves. */
		if (fams[f] == AF_TOY) {
			ASSERT_EQ(0, listen(l, 8));
			ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&a,
						 &alen));
			port = ((struct sockaddr_toy *)&a)->stoy_port;
			s[0] = toy_socket(SOCK_STREAM);
			ASSERT_LE(0, s[0]);
			ASSERT_EQ(0, toy_connect(s[0], port));
			s[1] = accept(l, NULL, NULL);
			ASSERT_LE(0, s[1]);
			len = sizeof(cr);
			ASSERT_EQ(0, getsockopt(s[1], SOL_SOCKET, SO_PEERCRED,
						&cr, &len));
			EXPECT_EQ(getpid(), cr.pid);
			toy_close_fds(s, 2);
		}
		close(l);
	}
}

TEST_HARNESS_MAIN

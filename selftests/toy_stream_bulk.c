// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY SOCK_STREAM bulk transfers: 64 MiB from a writer
 * process to a reader process with random-sized writes and reads, compared
 * by checksum; the same in both directions at once; many small
 * connections in a row.  A separate binary so the long transfers get the
 * whole per-binary timeout.
 */
#include "toy_common.h"

#include "kselftest_harness.h"

TOY_SELFTEST_INIT(true)

#define BULK_BYTES (64ULL << 20)
#define MAX_CHUNK 65536

/*
 * Write `total` bytes of the PRNG stream seeded with `seed` in random
 * sized writes (1..MAX_CHUNK); returns the FNV-1a of what was written.
 * fd < 0: only compute the checksum of that stream.
 */
static uint64_t bulk_write(int fd, uint64_t total, uint64_t seed, int *err)
{
	static __thread char buf[MAX_CHUNK + 8];
	uint64_t rng = seed, sizes = seed ^ 0x9e3779b97f4a7c15ULL;
	uint64_t h = TOY_FNV_INIT, done = 0;

	*err = 0;
	while (done < total) {
		size_t len = toy_rand(&sizes) % MAX_CHUNK + 1, i;

		if (len > total - done)
			len = total - done;
		for (i = 0; i < len; i += 8) {
			uint64_t r = toy_rand(&rng);

			memcpy(buf + i, &r, 8);
		}
		h = toy_fnv1a(h, buf, len);
		if (fd >= 0 && write_all(fd, buf, len) != (ssize_t)len) {
			*err = errno ? errno : EIO;
			return h;
		}
		done += len;
	}
	return h;
}

/* Read until EOF in random-sized reads; returns the FNV-1a and *count. */
static uint64_t bulk_read(int fd, uint64_t seed, uint64_t *count, int *err)
{
	static __thread char buf[MAX_CHUNK];
	uint64_t sizes = seed, h = TOY_FNV_INIT;

	*count = 0;
	*err = 0;
	for (;;) {
		size_t len = toy_rand(&sizes) % MAX_CHUNK + 1;
		ssize_t n = read(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		if (n == 0)
			break;
		h = toy_fnv1a(h, buf, n);
		*count += n;
	}
	return h;
}

TOY_PAIR_FIXTURE(bulk, SOCK_STREAM)

TEST_F_TIMEOUT(bulk, transfer_64mib_checksummed, 240)
{
	int p[2];
	pid_t writer, reader;
	uint64_t hw, hr, count;
	int err;

	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(writer)) {
		alarm(230);
		close(self->b);
		hw = bulk_write(self->a, BULK_BYTES, 0x1234567ULL, &err);
		CHILD_CHECK(err == 0);
		CHILD_CHECK(write(p[1], &hw, sizeof(hw)) == sizeof(hw));
		close(self->a);		/* FIN: the reader sees EOF */
		_exit(0);
	}
	if (TOY_FORK(reader)) {
		alarm(230);
		close(self->a);
		hr = bulk_read(self->b, 0xabcdefULL, &count, &err);
		CHILD_CHECK(err == 0);
		CHILD_CHECK(count == BULK_BYTES);
		CHILD_CHECK(write(p[1], &hr, sizeof(hr)) == sizeof(hr));
		_exit(0);
	}
	toy_close_pair(&self->a, &self->b);
	EXPECT_EQ(0, wait_child(writer));
	EXPECT_EQ(0, wait_child(reader));
	ASSERT_EQ(sizeof(hw), read(p[0], &hw, sizeof(hw)));
	ASSERT_EQ(sizeof(hr), read(p[0], &hr, sizeof(hr)));
	/* the writer reported first (it finished writing before EOF) */
	EXPECT_EQ(hw, hr);
}

/* In a child: write `bytes` of stream `wseed` on fd from a grandchild
 * while reading everything the peer sends; report the read checksum. */
static void duplex_side(int fd, uint64_t bytes, uint64_t wseed, int report)
{
	uint64_t hr, count;
	int err;
	pid_t w = toy_fork();

	CHILD_CHECK(w >= 0);
	if (w == 0) {
		bulk_write(fd, bytes, wseed, &err);
		CHILD_CHECK(err == 0);
		CHILD_CHECK(shutdown(fd, SHUT_WR) == 0);
		_exit(0);
	}
	hr = bulk_read(fd, wseed + 100, &count, &err);
	CHILD_CHECK(err == 0);
	CHILD_CHECK(count == bytes);
	CHILD_CHECK(wait_child(w) == 0);
	CHILD_CHECK(write(report, &hr, sizeof(hr)) == sizeof(hr));
	_exit(0);
}

TEST_F_TIMEOUT(bulk, transfer_both_directions_at_once, 240)
{
	enum { BYTES = 16 << 20 };
	uint64_t got_a, got_b, want1, want2;
	int pa_pipe[2], pb_pipe[2], err;
	pid_t pa, pb;

	ASSERT_EQ(0, pipe(pa_pipe));
	ASSERT_EQ(0, pipe(pb_pipe));
	if (TOY_FORK(pa)) {
		close(self->b);
		duplex_side(self->a, BYTES, 1, pa_pipe[1]);
	}
	if (TOY_FORK(pb)) {
		close(self->a);
		duplex_side(self->b, BYTES, 2, pb_pipe[1]);
	}
	toy_close_pair(&self->a, &self->b);
	EXPECT_EQ(0, wait_child(pa));
	EXPECT_EQ(0, wait_child(pb));
	ASSERT_EQ(sizeof(got_a), read(pa_pipe[0], &got_a, sizeof(got_a)));
	ASSERT_EQ(sizeof(got_b), read(pb_pipe[0], &got_b, sizeof(got_b)));
	want1 = bulk_write(-1, BYTES, 1, &err);
	want2 = bulk_write(-1, BYTES, 2, &err);
	EXPECT_EQ(want2, got_a);	/* a read what b wrote */
	EXPECT_EQ(want1, got_b);
}

TEST_F_TIMEOUT(bulk, many_connections_in_a_row, 120)
{
	int l, i;
	uint32_t port;

	l = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, l);
	for (i = 0; i < 500; i++) {
		char buf[32];
		int c = toy_socket(SOCK_STREAM), s, n;

		ASSERT_LE(0, c);
		ASSERT_EQ(0, toy_connect(c, port));
		s = accept(l, NULL, NULL);
		ASSERT_LE(0, s);
		n = snprintf(buf, sizeof(buf), "conn %d", i);
		ASSERT_EQ(n, write(c, buf, n));
		ASSERT_EQ(n, read(s, buf, sizeof(buf)));
		close(c);
		ASSERT_EQ(0, read(s, buf, sizeof(buf)));
		close(s);
	}
	close(l);
	/* nothing leaked: only our two fixture sockets remain listed */
	EXPECT_EQ(0, wait_proc_gone("STREAM", port, 0));
}

TEST_HARNESS_MAIN

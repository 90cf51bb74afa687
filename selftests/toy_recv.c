// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy selftests: what a short read and the receive flags do, the same
 * tests over STREAM, SEQPACKET and DGRAM (one fixture variant each).
 *
 * A record (SEQPACKET) or datagram cut short by the buffer sets MSG_TRUNC
 * in msg_flags and its rest is gone; recv(MSG_TRUNC) returns its real
 * length; MSG_PEEK leaves it queued.  A byte stream has no records: a short
 * read leaves the rest queued, and recv(MSG_TRUNC) discards the bytes it
 * counts instead of copying them, as TCP does.  A DGRAM receiver also
 * learns the sender's port from every read.
 */
#include "toy_common.h"

#include "kselftest_harness.h"

FIXTURE(rx)
{
	int tx;			/* sends to rx */
	int rx;
	uint32_t tx_port;
	uint32_t from;		/* sender port read by a DGRAM variant */
	uint32_t *fromp;	/* &from for DGRAM, else NULL */
};

FIXTURE_VARIANT(rx)
{
	int type;
	bool records;		/* preserves message boundaries */
};

FIXTURE_VARIANT_ADD(rx, stream)
{
	.type = SOCK_STREAM,
	.records = false,
};

FIXTURE_VARIANT_ADD(rx, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.records = true,
};

FIXTURE_VARIANT_ADD(rx, dgram)
{
	.type = SOCK_DGRAM,
	.records = true,
};

FIXTURE_SETUP(rx)
{
	uint32_t rx_port;
	long p;

	self->tx = self->rx = -1;
	self->fromp = NULL;
	ASSERT_EQ(0, toy_ensure_module());
	if (variant->type == SOCK_DGRAM) {
		/* connected: send() reaches rx, as on the connection types */
		self->rx = toy_bound(SOCK_DGRAM, &rx_port);
		ASSERT_LE(0, self->rx) TH_LOG("bind: %s", strerror(errno));
		self->tx = toy_bound(SOCK_DGRAM, NULL);
		ASSERT_LE(0, self->tx);
		ASSERT_EQ(0, toy_connect(self->tx, rx_port));
		self->fromp = &self->from;
	} else {
		ASSERT_EQ(0, toy_connect_pair(variant->type, &self->tx,
					      &self->rx))
			TH_LOG("connect: %s", strerror(errno));
	}
	p = toy_port(self->tx);
	ASSERT_LT(0, p);
	self->tx_port = (uint32_t)p;
	/* a lost message fails a blocking recv instead of hanging */
	ASSERT_EQ(0, toy_set_timeo(self->rx, SO_RCVTIMEO, 10000000));
}

FIXTURE_TEARDOWN(rx)
{
	toy_close_all(self->tx, self->rx);
}

/* Queue the messages m1 and m2 (strings) from tx: 0 or -1. */
static int send2(int tx, const char *m1, const char *m2)
{
	ssize_t n1 = send(tx, m1, strlen(m1), 0);

	if (n1 != (ssize_t)strlen(m1))
		return -1;
	return send(tx, m2, strlen(m2), 0) == (ssize_t)strlen(m2) ? 0 : -1;
}

/* The sender's port was read, where the type reports one. */
#define EXPECT_FROM_TX() do {						\
	if (self->fromp)						\
		EXPECT_EQ(self->tx_port, self->from);			\
} while (0)

TEST_F(rx, truncation_sets_msg_trunc_and_discards_rest)
{
	char buf[16];
	int fl = 0;

	ASSERT_EQ(0, send2(self->tx, "0123456789", "abc"));

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(4, toy_recvmsg(self->rx, buf, 4, 0, &fl, self->fromp));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	if (!variant->records) {
		/* nothing to cut: the rest stays for the next read */
		EXPECT_EQ(0, fl & MSG_TRUNC);
		ASSERT_EQ(9, recv(self->rx, buf, sizeof(buf), 0));
		EXPECT_EQ(0, memcmp(buf, "456789abc", 9));
		EXPECT_ERRNO(EAGAIN, recv(self->rx, buf, sizeof(buf),
					  MSG_DONTWAIT));
		return;
	}
	EXPECT_EQ(MSG_TRUNC, fl & MSG_TRUNC);
	EXPECT_FROM_TX();

	/* the rest of the first record is gone: the next read is "abc" */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, toy_recvmsg(self->rx, buf, sizeof(buf), 0, &fl,
				 self->fromp));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, fl & MSG_TRUNC);
	EXPECT_ERRNO(EAGAIN, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(rx, truncation_to_zero_bytes)
{
	char buf[8];
	int fl = 0;

	ASSERT_EQ(0, send2(self->tx, "hello", "hi"));
	ASSERT_EQ(0, toy_recvmsg(self->rx, buf, 0, 0, &fl, NULL));
	if (!variant->records) {
		/* a zero-byte stream read takes nothing (TCP, AF_UNIX) */
		EXPECT_EQ(0, fl & MSG_TRUNC);
		ASSERT_EQ(7, recv(self->rx, buf, sizeof(buf), 0));
		EXPECT_EQ(0, memcmp(buf, "hellohi", 7));
		return;
	}
	EXPECT_EQ(MSG_TRUNC, fl & MSG_TRUNC);
	ASSERT_EQ(2, recv(self->rx, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hi", 2));
}

TEST_F(rx, recv_flag_msg_trunc_returns_real_length)
{
	char buf[16];
	int fl = 0;

	ASSERT_EQ(0, send2(self->tx, "0123456789", "ABCDEF"));

	memset(buf, 0, sizeof(buf));
	if (!variant->records) {
		/* TCP: the counted bytes are discarded, not copied */
		ASSERT_EQ(4, toy_recvmsg(self->rx, buf, 4, MSG_TRUNC, &fl,
					 NULL));
		EXPECT_EQ(0, buf[0]);
		EXPECT_EQ(0, fl & MSG_TRUNC);
		ASSERT_EQ(12, recv(self->rx, buf, sizeof(buf), 0));
		EXPECT_EQ(0, memcmp(buf, "456789ABCDEF", 12));
		return;
	}
	ASSERT_EQ(10, toy_recvmsg(self->rx, buf, 4, MSG_TRUNC, &fl, NULL));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(0, buf[4]);	/* only 4 bytes were copied */
	EXPECT_EQ(MSG_TRUNC, fl & MSG_TRUNC);

	/* a record that fits: the real length is returned too */
	ASSERT_EQ(6, recv(self->rx, buf, sizeof(buf), MSG_TRUNC));
	EXPECT_EQ(0, memcmp(buf, "ABCDEF", 6));
}

TEST_F(rx, msg_peek_keeps_data)
{
	char buf[32];
	int fl = 0;

	if (!variant->records) {
		/* a peek sees what is queued, also after a partial read */
		ASSERT_EQ(6, write(self->tx, "abcdef", 6));
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(3, recv(self->rx, buf, 3, MSG_PEEK));
		EXPECT_EQ(0, memcmp(buf, "abc", 3));
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(6, recv(self->rx, buf, sizeof(buf), MSG_PEEK));
		EXPECT_EQ(0, memcmp(buf, "abcdef", 6));
		ASSERT_EQ(2, read(self->rx, buf, 2));
		EXPECT_EQ(0, memcmp(buf, "ab", 2));
		ASSERT_EQ(4, recv(self->rx, buf, sizeof(buf), MSG_PEEK));
		EXPECT_EQ(0, memcmp(buf, "cdef", 4));
		ASSERT_EQ(4, read(self->rx, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, "cdef", 4));
		return;
	}
	ASSERT_EQ(0, send2(self->tx, "peekme", "no"));
	ASSERT_EQ(6, toy_recvmsg(self->rx, buf, sizeof(buf), MSG_PEEK, NULL,
				 self->fromp));
	EXPECT_EQ(0, memcmp(buf, "peekme", 6));
	EXPECT_FROM_TX();
	/* a truncated peek does not discard anything either */
	ASSERT_EQ(3, toy_recvmsg(self->rx, buf, 3, MSG_PEEK, &fl, NULL));
	EXPECT_EQ(MSG_TRUNC, fl & MSG_TRUNC);
	ASSERT_EQ(6, toy_recvmsg(self->rx, buf, sizeof(buf), 0, NULL,
				 self->fromp));
	EXPECT_EQ(0, memcmp(buf, "peekme", 6));
	EXPECT_FROM_TX();
	ASSERT_EQ(2, recv(self->rx, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "no", 2));
	EXPECT_ERRNO(EAGAIN, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_HARNESS_MAIN

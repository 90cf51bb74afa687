// SPDX-License-Identifier: GPL-2.0
/*
 * AF_TOY stress checks:
 * - rmmod while sockets are busy is refused cleanly, succeeds once every
 *   socket is closed; rmmod racing with socket creation;
 * - 10 000 sockets open at once (TOY_STRESS_SOCKETS);
 * - a network namespace destroyed with live connections, blocked readers
 *   and a blocked accept; a socket outliving its namespace's processes;
 * - more concurrent connects than the backlog, from many threads;
 * - concurrent checksummed STREAM/SEQPACKET/DGRAM transfers losing no byte
 *   (TOY_STRESS_BYTES per stream).
 *
 * The security checks of the same issue: toy_security.c.
 */
#define _GNU_SOURCE
#include "toy_common.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "toy_stress.h"

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

static int module_loaded(void)
{
	return toy_module_loaded("af_toy");
}

static int unload_module(void)
{
	return toy_module_unload("af_toy", 1);
}

/* ---- rmmod ----------------------------------------------------------------- */

static void *blocked_reader(void *arg)
{
	char c;

	return (void *)(long)recv(*(int *)arg, &c, 1, 0);
}

TEST_F_TIMEOUT(stress, rmmod_refused_while_busy, 300)
{
	int l, a, b, d, ret;
	pthread_t th;
	void *res;

	if (access(TOY_MODULE_PATH, R_OK))
		SKIP(return, "%s not present (not in the VM)", TOY_MODULE_PATH);
	l = toy_listener(SOCK_STREAM, NULL);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, toy_connect_pair(SOCK_SEQPACKET, &a, &b));
	d = toy_socket(SOCK_DGRAM);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_reader, &a));
	usleep(100000);

	ret = unload_module();
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);
	EXPECT_TRUE(module_loaded());
	/* still fully working after the refused rmmod */
	EXPECT_EQ(3, send(b, "abc", 3, 0));
	ASSERT_EQ(0, pthread_join(th, &res));
	EXPECT_EQ(1, (long)res);

	close(l);
	EXPECT_EQ(-1, unload_module());	/* a, b, d still open */
	close(a);
	close(b);
	close(d);
	/* every socket released: rmmod succeeds (bounded wait for releases) */
	EXPECT_EQ(self->base, wait_proc_count(self->base));
	for (int i = 0; i < 500 && (ret = unload_module()); i++)
		usleep(10000);
	EXPECT_EQ(0, ret) TH_LOG("rmmod after closing everything: %s", strerror(errno));
	EXPECT_FALSE(module_loaded());
	ASSERT_EQ(0, load_module());
	EXPECT_TRUE(toy_family_available());
}

struct churn {
	volatile int stop;
	long created, eafnosupport;
};

static void *churn_sockets(void *arg)
{
	struct churn *c = arg;

	while (!c->stop) {
		int sv[2];
		int fd = socket(AF_TOY, SOCK_STREAM, 0);

		if (fd >= 0) {
			__atomic_fetch_add(&c->created, 1, __ATOMIC_RELAXED);
			listen(fd, 1);
			close(fd);
		} else if (errno == EAFNOSUPPORT) {
			__atomic_fetch_add(&c->eafnosupport, 1, __ATOMIC_RELAXED);
			usleep(1000);
		}
		if (socketpair(AF_TOY, SOCK_DGRAM, 0, sv) == 0) {
			send(sv[0], "x", 1, MSG_DONTWAIT);
			toy_close_fds(sv, 2);
		}
	}
	return NULL;
}

/*
 * Whether the race was run: rmmod got through a few times while sockets
 * came and went, and a socket() found the family gone.  Most tries are
 * refused (3-11 of 60 got through in past runs), so the loop goes on
 * until then, within a bound.
 */
#define RACE_MIN_TRIES		60
#define RACE_MAX_TRIES		3000
#define RACE_MIN_UNLOADS	3

static bool race_seen(const struct churn *c, int tries, int unloaded)
{
	return tries >= RACE_MIN_TRIES && unloaded >= RACE_MIN_UNLOADS &&
	       __atomic_load_n(&c->eafnosupport, __ATOMIC_RELAXED) > 0;
}

TEST_F_TIMEOUT(stress, rmmod_races_socket_creation, 300)
{
	struct churn c = { 0 };
	pthread_t th[2];
	int i, unloaded = 0, refused = 0;

	if (access(TOY_MODULE_PATH, R_OK))
		SKIP(return, "%s not present (not in the VM)", TOY_MODULE_PATH);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&th[i], NULL, churn_sockets, &c));
	}
	for (i = 0; i < RACE_MAX_TRIES && !race_seen(&c, i, unloaded); i++) {
		if (unload_module() == 0) {
			unloaded++;
			usleep(2000);
			ASSERT_EQ(0, load_module());
		} else {
			EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
			refused++;
		}
		usleep(5000);
	}
	c.stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(0, load_module());
	TH_LOG("rmmod: %d unloaded, %d refused; %ld sockets created, %ld EAFNOSUPPORT",
	       unloaded, refused, c.created, c.eafnosupport);
	EXPECT_LT(0, c.created);
	/* not a vacuous pass: the module went away under the churn */
	EXPECT_LE(RACE_MIN_UNLOADS, unloaded);
	EXPECT_LT(0, c.eafnosupport);
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

/* ---- 10 000 sockets ------------------------------------------------------- */

TEST_F_TIMEOUT(stress, ten_thousand_sockets, 900)
{
	long want = env_long("TOY_STRESS_SOCKETS", 10000);
	int *fds, n = 0, l, i, seen;
	uint32_t port;

	ASSERT_EQ(0, toy_raise_nofile(want + 1000));
	fds = calloc(want, sizeof(int));
	ASSERT_NE(NULL, fds);
	l = toy_listener_backlog(SOCK_STREAM, 4096, &port);
	ASSERT_LE(0, l);
	/* a quarter connected STREAM pairs, a quarter SEQPACKET socketpairs,
	 * a quarter bound DGRAM (ephemeral ports), the rest plain sockets */
	while (n + 2 <= want / 2) {
		int c = toy_socket(SOCK_STREAM), s;

		ASSERT_LE(0, c);
		ASSERT_EQ(0, toy_connect(c, port)) TH_LOG("connect %d: %s", n, strerror(errno));
		s = accept(l, NULL, NULL);
		ASSERT_LE(0, s);
		fds[n++] = c;
		fds[n++] = s;
		if (n + 2 > want / 2)
			break;
		ASSERT_EQ(0, socketpair(AF_TOY, SOCK_SEQPACKET, 0, &fds[n]));
		n += 2;
	}
	while (n < want * 3 / 4) {
		fds[n] = toy_socket(SOCK_DGRAM);
		ASSERT_LE(0, fds[n]);
		ASSERT_EQ(0, toy_bind(fds[n], 0)) TH_LOG("bind %d: %s", n, strerror(errno));
		n++;
	}
	while (n < want) {
		fds[n] = toy_socket(n % 2 ? SOCK_STREAM : SOCK_SEQPACKET);
		ASSERT_LE(0, fds[n]);
		n++;
	}
	seen = proc_count();
	TH_LOG("%d sockets open, /proc/net/toy lists %d", n, seen);
	EXPECT_LE(n + 1 + self->base, seen);
	/* some traffic on the pairs while everything is open */
	for (i = 0; i + 1 < want / 2; i += 64) {
		char c;

		EXPECT_EQ(1, send(fds[i], "z", 1, MSG_DONTWAIT));
		EXPECT_EQ(1, recv(fds[i + 1], &c, 1, MSG_DONTWAIT));
	}
	toy_close_fds(fds, n);
	close(l);
	free(fds);
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

/* ---- netns teardown ---------------------------------------------------- */

static int send_fd(int unix_sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'f';
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(unix_sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int unix_sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(unix_sock, &m, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void *blocked_accept(void *arg)
{
	return (void *)(long)accept(*(int *)arg, NULL, NULL);
}

/*
 * In a fresh netns: a listener with queued (unaccepted) children, connected
 * pairs with unread data both ways, threads blocked in recv/accept/send.
 * One socket is handed to the parent over AF_UNIX; then the whole process
 * is killed, so the netns loses its last process with everything live.
 */
static void netns_child(int us)
{
	enum { PAIRS = 6 };
	int l, c[PAIRS], s[PAIRS], q[4], i, held;
	pthread_t th[PAIRS + 2];
	uint32_t port;
	static char big[256 * 1024];

	CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
	l = toy_listener_backlog(SOCK_STREAM, 16, &port);
	CHILD_CHECK(l >= 0);
	for (i = 0; i < PAIRS; i++) {
		c[i] = toy_socket(i % 2 ? SOCK_STREAM : SOCK_SEQPACKET);
		CHILD_CHECK(c[i] >= 0);
	}
	/* SEQPACKET needs its own listener */
	{
		uint32_t sport;
		int sl = toy_listener_backlog(SOCK_SEQPACKET, 16, &sport);

		CHILD_CHECK(sl >= 0);
		for (i = 0; i < PAIRS; i++) {
			int lfd = i % 2 ? l : sl;

			CHILD_CHECK(toy_connect(c[i], i % 2 ? port : sport) == 0);
			s[i] = accept(lfd, NULL, NULL);
			CHILD_CHECK(s[i] >= 0);
			CHILD_CHECK(send(c[i], "data", 4, 0) == 4);	/* unread */
		}
	}
	for (i = 0; i < 4; i++) {	/* queued, never accepted */
		q[i] = toy_socket(SOCK_STREAM);
		CHILD_CHECK(q[i] >= 0 && toy_connect(q[i], port) == 0);
	}
	/* blocked readers on the client ends (no data that way) */
	for (i = 0; i < PAIRS - 1; i++)
		CHILD_CHECK(pthread_create(&th[i], NULL, blocked_reader, &c[i]) == 0);
	held = PAIRS - 1;	/* c[held]/s[held]: c goes to the parent */
	CHILD_CHECK(send_fd(us, c[held]) == 0);
	/* a blocked accept on an empty second listener */
	{
		static int l2;

		l2 = toy_listener(SOCK_STREAM, NULL);
		CHILD_CHECK(l2 >= 0);
		CHILD_CHECK(pthread_create(&th[PAIRS - 1], NULL, blocked_accept, &l2) == 0);
	}
	/* a DGRAM socket with a full queue and a blocked sender */
	{
		int d1 = toy_socket(SOCK_DGRAM), d2 = toy_socket(SOCK_DGRAM);

		CHILD_CHECK(d1 >= 0 && d2 >= 0);
		CHILD_CHECK(toy_bind(d2, 0) == 0);
		CHILD_CHECK(toy_connect(d1, (uint32_t)toy_port(d2)) == 0);
		toy_set_nonblock(d1, true);
		while (send(d1, big, 1000, 0) > 0)
			;
		toy_set_nonblock(d1, false);
		CHILD_CHECK(pthread_create(&th[PAIRS], NULL, blocked_reader, &q[0]) == 0);
		/* the main thread blocks in send; the parent kills us */
		CHILD_CHECK(write(us, "r", 1) == 1);
		send(d1, big, 1000, 0);
	}
	_exit(0);
}

TEST_F_TIMEOUT(stress, netns_destroyed_with_live_connections, 300)
{
	int round;

	for (round = 0; round < 4; round++) {
		int us[2], fd, st;
		char c;
		pid_t pid;
		ssize_t n;

		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, us));
		if (TOY_FORK(pid)) {
			close(us[0]);
			netns_child(us[1]);
		}
		close(us[1]);
		fd = recv_fd(us[0]);
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, read(us[0], &c, 1));	/* child is blocked everywhere */
		usleep(50000);
		if (round % 2) {
			/* the inherited socket is closed first, then the netns dies */
			close(fd);
			fd = -1;
		}
		kill(pid, SIGKILL);
		ASSERT_EQ(0, waitpid(pid, &st, 0) == pid ? 0 : -1);
		EXPECT_TRUE(WIFSIGNALED(st));
		if (fd >= 0) {
			char buf[16];

			/* the peer went away with our unread data: RST or EOF */
			toy_set_timeo(fd, SO_RCVTIMEO, 5000000);
			n = recv(fd, buf, sizeof(buf), 0);
			EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET))
				TH_LOG("recv after netns death: %zd %s", n, strerror(errno));
			n = send(fd, "x", 1, MSG_NOSIGNAL);
			EXPECT_TRUE(n < 0 && (errno == EPIPE || errno == ECONNRESET));
			/* the last reference to the dead netns goes now */
			close(fd);
		}
		close(us[0]);
	}
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

/* ---- backlog overflow ----------------------------------------------------- */

struct conn_arg {
	uint32_t port;
	int id;
	int result;	/* 0 ok, else errno-ish */
};

static void *connector(void *arg)
{
	struct conn_arg *a = arg;
	int fd = toy_socket(SOCK_STREAM), id = -1;

	if (fd < 0) {
		a->result = errno;
		return NULL;
	}
	toy_set_timeo(fd, SO_SNDTIMEO, 60000000);
	toy_set_timeo(fd, SO_RCVTIMEO, 60000000);
	if (toy_connect(fd, a->port) < 0) {
		a->result = errno;
	} else if (write_all(fd, &a->id, sizeof(a->id)) != sizeof(a->id) ||
		   read_all(fd, &id, sizeof(id)) != sizeof(id) || id != a->id + 1) {
		a->result = errno ? errno : -1;
	} else {
		a->result = 0;
	}
	close(fd);
	return NULL;
}

/*
 * Bounded wait until listener l's backlog is full: its RecvQ (connections
 * queued or in their handshake) above its SendQ (the backlog), as a
 * backlog of n takes n + 1 (TCP's rule).
 */
static int wait_backlog_full(int l)
{
	struct toy_proc_entry e;
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		if (proc_entry(l, &e) == 0 && e.rq > e.sq)
			return 0;
		usleep(TOY_WAIT_USEC);
	}
	return -1;
}

TEST_F_TIMEOUT(stress, connects_beyond_backlog_many_threads, 600)
{
	enum { N = 64 };
	struct conn_arg args[N];
	pthread_t th[N];
	int l, i, done = 0, nb_eagain = 0;
	uint32_t port;

	l = toy_listener_backlog(SOCK_STREAM, 2, &port);
	ASSERT_LE(0, l);
	for (i = 0; i < N; i++) {
		args[i] = (struct conn_arg){ .port = port, .id = i, .result = -2 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, connector, &args[i]));
	}
	/* the backlog of 2 (3 slots) full: the others pile up behind it */
	ASSERT_EQ(0, wait_backlog_full(l));
	/* non-blocking connects on the full backlog fail with EAGAIN */
	for (i = 0; i < 4; i++) {
		int fd = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);

		ASSERT_LE(0, fd);
		if (toy_connect(fd, port) < 0 && errno == EAGAIN)
			nb_eagain++;
		close(fd);
	}
	while (done < N) {
		int s = accept(l, NULL, NULL), id;

		ASSERT_LE(0, s);
		ASSERT_EQ(sizeof(id), read_all(s, &id, sizeof(id)));
		id++;
		ASSERT_EQ(sizeof(id), write_all(s, &id, sizeof(id)));
		close(s);
		done++;
	}
	for (i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].result) TH_LOG("connector %d: %d", i, args[i].result);
	}
	TH_LOG("%d connects through a backlog of 2; %d/4 non-blocking got EAGAIN",
	       N, nb_eagain);
	EXPECT_EQ(4, nb_eagain);	/* nothing was accepted meanwhile */
	close(l);
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

/*
 * A connect() blocked on a full backlog must not hold the socket lock while
 * it sleeps: another thread's shutdown()/bind()/listen() on that socket
 * would sleep uninterruptibly (D state, hung-task warnings) for as long as
 * the connect waits.  TCP releases the lock while it waits.
 *
 * shutdown() aborts a connect() blocked on a full backlog (as TCP does):
 * connect() has no timeout here, so only the abort can end it.
 */
TEST_F_TIMEOUT(stress, shutdown_while_connect_blocked, 120)
{
	struct toy_blocked_connect b = { 0 };
	int l, fill[8], nfill = 0, i;

	l = toy_listener_backlog(SOCK_STREAM, 1, &b.port);
	ASSERT_LE(0, l);
	for (i = 0; i < 8; i++) {	/* fill the backlog */
		fill[nfill] = socket(AF_TOY, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, fill[nfill]);
		if (toy_connect(fill[nfill], b.port) < 0) {
			close(fill[nfill]);
			break;
		}
		nfill++;
	}
	b.fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, toy_connect_start(&b));
	ASSERT_EQ(0, wait_proc_state(b.fd, "SYN_SENT"));
	EXPECT_EQ(0, shutdown(b.fd, SHUT_RDWR));
	ASSERT_EQ(0, pthread_join(b.thread, NULL));
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECONNRESET, b.err);
	EXPECT_STREQ("CLOSED", proc_state(b.fd));
	close(b.fd);
	toy_close_fds(fill, nfill);
	close(l);
}

/* ---- checksummed transfers ------------------------------------------------ */

struct xfer {
	int fd;
	int type;
	long bytes;
	uint64_t seed;
	uint64_t sum;	/* FNV-1a of everything sent / received */
	long count;	/* bytes (stream) or records */
	int err;
};

#define REC_MAX 3000

static void *xfer_send(void *arg)
{
	struct xfer *x = arg;
	uint64_t rng = x->seed, h = TOY_FNV_INIT;
	static __thread char buf[65536];
	long sent = 0;

	while (sent < x->bytes) {
		size_t len = 1 + toy_rand(&rng) % (x->type == SOCK_STREAM ? sizeof(buf) : REC_MAX);
		size_t i;

		if (len > (size_t)(x->bytes - sent))
			len = x->bytes - sent;
		for (i = 0; i < len; i++)
			buf[i] = (char)toy_rand(&rng);
		if (x->type == SOCK_STREAM) {
			if (write_all(x->fd, buf, len) != (ssize_t)len) {
				x->err = errno;
				break;
			}
		} else {
			ssize_t n;

			do
				n = send(x->fd, buf, len, 0);
			while (n < 0 && errno == EINTR);
			if (n != (ssize_t)len) {
				x->err = n < 0 ? errno : EMSGSIZE;
				break;
			}
			x->count++;
		}
		h = toy_fnv1a(h, buf, len);
		sent += len;
	}
	x->sum = h;
	if (x->type != SOCK_DGRAM) {
		shutdown(x->fd, SHUT_WR);
	} else {	/* end marker: an empty datagram */
		send(x->fd, buf, 0, 0);
	}
	return NULL;
}

static void *xfer_recv(void *arg)
{
	struct xfer *x = arg;
	uint64_t h = TOY_FNV_INIT;
	static __thread char buf[65536];

	for (;;) {
		ssize_t n = recv(x->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			x->err = errno;
			break;
		}
		if (n == 0)
			break;	/* EOF (stream/seqpacket) or end marker (dgram) */
		h = toy_fnv1a(h, buf, n);
		x->count += x->type == SOCK_STREAM ? n : 1;
	}
	x->sum = h;
	return NULL;
}

TEST_F_TIMEOUT(stress, concurrent_checksummed_transfers, 900)
{
	enum { PAIRS = 6 };
	long bytes = env_long("TOY_STRESS_BYTES", 2L << 20);
	struct xfer tx[PAIRS], rx[PAIRS];
	pthread_t ts[PAIRS], tr[PAIRS];
	int i;

	for (i = 0; i < PAIRS; i++) {
		int type = i % 3 == 0 ? SOCK_STREAM : i % 3 == 1 ? SOCK_SEQPACKET : SOCK_DGRAM;
		int a, b;

		if (type == SOCK_DGRAM) {
			a = toy_socket(type);
			b = toy_socket(type);
			ASSERT_LE(0, a);
			ASSERT_LE(0, b);
			ASSERT_EQ(0, toy_bind(b, 0));
			ASSERT_EQ(0, toy_bind(a, 0));
			ASSERT_EQ(0, toy_connect(a, (uint32_t)toy_port(b)));
			ASSERT_EQ(0, toy_connect(b, (uint32_t)toy_port(a)));
		} else if (i < 3) {
			ASSERT_EQ(0, toy_connect_pair(type, &a, &b));
		} else {
			{
				int sv[2];

				ASSERT_EQ(0, socketpair(AF_TOY, type, 0, sv));
				a = sv[0];
				b = sv[1];
			}
		}
		tx[i] = (struct xfer){ .fd = a, .type = type, .bytes = type == SOCK_DGRAM ? bytes / 4 : bytes,
				       .seed = 0x1234567ULL + i };
		rx[i] = (struct xfer){ .fd = b, .type = type };
		ASSERT_EQ(0, pthread_create(&tr[i], NULL, xfer_recv, &rx[i]));
		ASSERT_EQ(0, pthread_create(&ts[i], NULL, xfer_send, &tx[i]));
	}
	for (i = 0; i < PAIRS; i++) {
		pthread_join(ts[i], NULL);
		pthread_join(tr[i], NULL);
		EXPECT_EQ(0, tx[i].err) TH_LOG("pair %d sender: %s", i, strerror(tx[i].err));
		EXPECT_EQ(0, rx[i].err) TH_LOG("pair %d receiver: %s", i, strerror(rx[i].err));
		if (tx[i].type == SOCK_STREAM) {
			EXPECT_EQ(tx[i].bytes, rx[i].count);
		} else {
			EXPECT_EQ(tx[i].count, rx[i].count);
		}
		EXPECT_EQ(tx[i].sum, rx[i].sum) TH_LOG("pair %d (type %d): checksum mismatch",
						       i, tx[i].type);
		close(tx[i].fd);
		close(rx[i].fd);
	}
	EXPECT_EQ(self->base, wait_proc_count(self->base));
}

TEST_HARNESS_MAIN

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_calm.h - the fuzzer's oracle operation ("calm"), included by
 * toy_fuzz.c only.
 *
 * Amid the chaos (short timeouts, signals, shared descriptors closed by
 * other threads, injected allocation failures) a calm operation forks a
 * child that owns its sockets alone: it drops the inherited descriptors,
 * enters its process's private network namespace (no other operation can
 * reach its ports), turns fault injection off for itself, is sent no
 * signal, and gives every socket SO_RCVTIMEO/SO_SNDTIMEO of CALM_TIMEO
 * seconds.  At most CALM_PAR of them run per worker process at a time.
 * Two threads then run one scenario:
 *
 *   transfer   A sends a random amount (STREAM: a byte pattern keyed by the
 *              offset; SEQPACKET records and DGRAM datagrams: a header of
 *              magic^key, sequence number, length and flags, then a keyed
 *              pattern) with blocking send()/sendmsg()/write(),
 *              B reads with blocking recv()/recvmsg()/read()/readv(), with
 *              and without MSG_PEEK/MSG_WAITALL, poll() first sometimes;
 *              both pause now and then so that each side blocks.  Every
 *              byte and record is checked end to end, then EOF.
 *   accept     A blocks in accept(), B connects (after A sleeps, mostly)
 *   connect    A blocks in connect() on a full backlog, B accepts one
 *   *-shutdown B shuts down the listener (accept: EINVAL) or the
 *              connecting socket (connect: ECONNRESET), README semantics
 *
 * Lost wake-up oracle: a blocked call that slept through its whole
 * timeout (took >= CALM_SLEPT s) although its wake condition had been true
 * for CALM_MARGIN s before it returned is reported.  Conditions, recorded
 * by the thread that made them true, after its call returned: for recv /
 * poll(POLLIN), bytes sent > bytes received (or the peer shut down); for
 * send / poll(POLLOUT), the reader saw an empty queue (FIONREAD 0) after
 * receiving every byte the writer had queued; for accept, a connect()
 * returned 0 (or the listener was shut down); for connect, an accept()
 * made room (or the socket was shut down).  No timing is asserted
 * otherwise: a slow call is never reported, only one woken by its timeout.
 */
#ifndef TOY_FUZZ_CALM_H
#define TOY_FUZZ_CALM_H

#define CALM_TIMEO	12
#define CALM_SLEPT	(CALM_TIMEO - 1.5)
#define CALM_MARGIN	3.0
#define CALM_PAR	1	/* calm ops per worker process at a time */
#define CALM_WORDS	(16 << 10)	/* KCOV area of a calm op */
#define REC_MAGIC	0x70795f31u
#define REC_LAST	1u

enum { C_XFER, C_ACCEPT, C_ACCEPT_SHUT, C_CONNECT, C_CONNECT_SHUT, C_NR };
static const char * const calm_names[C_NR] = {
	"transfer", "accept", "accept-shutdown", "connect", "connect-shutdown",
};

struct rec_hdr {
	uint32_t magic, seq, len, flags;
};

struct calm {
	pthread_mutex_t mu;
	int kind, type, a, b, l, nconn;
	uint32_t port;
	uint64_t key, hseed;
	size_t maxrec;
	pid_t a_tid;
	/* under mu */
	uint64_t sent, recvd, drained, total;
	double t_sent, t_drain, t_shut, t_event;
	long events;
	bool done, stop, complete;
};

static const char *type_name(int type)
{
	return type == SOCK_STREAM ? "STREAM" : type == SOCK_SEQPACKET ? "SEQPACKET" : "DGRAM";
}

static void calm_fail(struct calm *c, bool lost, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void calm_fail(struct calm *c, bool lost, const char *fmt, ...)
{
	char msg[512], l1[256] = "", l2[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->a >= 0 && proc_net_toy_line(toy_ino(c->a), l1) < 0)
		l1[0] = 0;
	if (c->b >= 0 && proc_net_toy_line(toy_ino(c->b), l2) < 0)
		l2[0] = 0;
	fprintf(stderr, "# fuzz: ORACLE: %s%s (%s %s, key %llx)%s%s%s%s\n",
		lost ? "lost wake-up: " : "", msg, calm_names[c->kind], type_name(c->type),
		(unsigned long long)c->key, l1[0] ? "\n# fuzz:   A: " : "", l1,
		l2[0] ? "\n# fuzz:   B: " : "", l2);
	__atomic_fetch_add(lost ? &shm->lost : &shm->bad_data, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_mutex_unlock(&c->mu);
}

/* poll() of one fd with the calm timeout; it ran during [*t0, *t1]. */
static int calm_poll(struct pollfd *p, double *t0, double *t1)
{
	int n;

	*t0 = now();
	n = poll(p, 1, CALM_TIMEO * 1000);
	*t1 = now();
	return n;
}

/* What the other side of a calm op has done so far, read under mu. */
struct calm_seen {
	uint64_t sent, drained;
	long events;
	double t_sent, t_drain, t_shut, t_event;
};

static struct calm_seen calm_look(struct calm *c)
{
	struct calm_seen s;

	pthread_mutex_lock(&c->mu);
	s.sent = c->sent;
	s.drained = c->drained;
	s.events = c->events;
	s.t_sent = c->t_sent;
	s.t_drain = c->t_drain;
	s.t_shut = c->t_shut;
	s.t_event = c->t_event;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* A call [t0, t1] that slept through its timeout although cond held since tc? */
static bool calm_lost(struct calm *c, double t0, double t1, bool cond, double tc,
		      const char *call, const char *what)
{
	if (t1 - t0 < CALM_SLEPT || !cond || tc <= 0 || tc > t1 - CALM_MARGIN)
		return false;
	calm_fail(c, true, "%s blocked %.1f s until its %d s timeout, although %s %.1f s before it returned",
		  call, t1 - t0, CALM_TIMEO, what, t1 - tc);
	return true;
}

static int calm_fd(int fd)
{
	if (fd >= 0) {
		toy_set_timeo(fd, SO_RCVTIMEO, CALM_TIMEO * 1000000L);
		toy_set_timeo(fd, SO_SNDTIMEO, CALM_TIMEO * 1000000L);
	}
	return fd;
}

/* ---- transfer ------------------------------------------------------------ */

static size_t calm_chunk(uint64_t *r, size_t max)
{
	size_t n;

	switch (splitmix(r) % 4) {
	case 0:
		n = 1 + splitmix(r) % 64;
		break;
	case 1:
		n = 1 + splitmix(r) % 4096;
		break;
	default:
		n = 1 + splitmix(r) % 65536;
		break;
	}
	return n < max ? n : max;
}

static void iov_split(uint64_t *r, struct iovec *iov, int *n, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	*n = 1 + (int)(splitmix(r) % 4);
	for (i = 0; i < *n; i++) {
		size_t part = i == *n - 1 ? len - off : (len - off) * (splitmix(r) % 100) / 100;

		iov[i].iov_base = buf + off;
		iov[i].iov_len = part;
		off += part;
	}
}

/* A msghdr m of iov[] (at most 4) over buf, split at random. */
static void calm_msghdr(uint64_t *r, struct msghdr *m, struct iovec *iov,
			char *buf, size_t len)
{
	int n;

	memset(m, 0, sizeof(*m));
	iov_split(r, iov, &n, buf, len);
	m->msg_iov = iov;
	m->msg_iovlen = (size_t)n;
}

static ssize_t calm_write(uint64_t *r, int fd, char *buf, size_t len)
{
	struct iovec iov[4];
	struct msghdr m;

	switch (splitmix(r) % 3) {
	case 0:
		return send(fd, buf, len, 0);
	case 1:
		return write(fd, buf, len);
	default:
		calm_msghdr(r, &m, iov, buf, len);
		return sendmsg(fd, &m, 0);
	}
}

static ssize_t calm_read(uint64_t *r, int fd, char *buf, size_t len, int flags, int *mflags)
{
	struct iovec iov[4];
	struct msghdr m;
	ssize_t ret;
	int n;

	*mflags = 0;
	switch (flags ? 0 : splitmix(r) % 4) {
	case 0:
		return recv(fd, buf, len, flags);
	case 1:
		return read(fd, buf, len);
	case 2:
		iov_split(r, iov, &n, buf, len);
		return readv(fd, iov, n);
	default:
		calm_msghdr(r, &m, iov, buf, len);
		ret = recvmsg(fd, &m, 0);
		*mflags = m.msg_flags;
		return ret;
	}
}

static void rec_fill(struct calm *c, char *buf, size_t len, uint32_t seq, bool last)
{
	struct rec_hdr h = { REC_MAGIC ^ (uint32_t)c->key, seq, (uint32_t)len, last ? REC_LAST : 0 };

	memcpy(buf, &h, sizeof(h));
	toy_pattern(buf + sizeof(h), len - sizeof(h), c->key + (uint64_t)seq * 1000003);
}

/* B: read and check everything until EOF (DGRAM: the last record). */
static void *calm_reader(void *arg)
{
	struct calm *c = arg;
	size_t cap = c->type == SOCK_STREAM ? 131072 : c->maxrec + 4096;
	char *buf = malloc(cap), *want = malloc(cap), *peek = malloc(cap);
	uint64_t r = c->hseed, off = 0;
	uint32_t seq = 0;
	bool last = false;

	if (!buf || !want || !peek)
		goto out;
	for (;;) {
		struct calm_seen w;
		uint64_t before;
		size_t len = c->type == SOCK_STREAM ? calm_chunk(&r, cap) : cap;
		int waitall = 0, mflags, v = -1;
		double t0, t1;
		ssize_t n, pn = -1;
		struct pollfd p = { .fd = c->b, .events = POLLIN };

		pthread_mutex_lock(&c->mu);
		before = c->recvd;
		pthread_mutex_unlock(&c->mu);
		if (c->stop)
			break;
		if (splitmix(&r) % 8 == 0)
			usleep((useconds_t)(splitmix(&r) % 5000));
		if (c->type == SOCK_STREAM && splitmix(&r) % 6 == 0)
			waitall = MSG_WAITALL;
		if (splitmix(&r) % 5 == 0) {
			n = calm_poll(&p, &t0, &t1);
			w = calm_look(c);
			if (n == 0 && (calm_lost(c, t0, t1, w.sent > before, w.t_sent, "poll(POLLIN)",
						 "data was queued") ||
				       calm_lost(c, t0, t1, true, w.t_shut, "poll(POLLIN)",
						 "the writer shut down")))
				break;
		}
		if (splitmix(&r) % 8 == 0)
			pn = recv(c->b, peek, len, MSG_PEEK);
		t0 = now();
		n = calm_read(&r, c->b, buf, len, waitall, &mflags);
		t1 = now();
		w = calm_look(c);
		if (calm_lost(c, t0, t1, w.sent >= before + (waitall ? len : 1), w.t_sent,
			      waitall ? "recv(MSG_WAITALL)" : "recv", "the bytes were queued") ||
		    calm_lost(c, t0, t1, true, w.t_shut, "recv", "the writer shut down"))
			break;
		if (n < 0) {
			if (errno != EAGAIN)
				calm_fail(c, false, "B: read: %s after %llu bytes", strerror(errno),
					  (unsigned long long)before);
			break;		/* a timeout: the writer's check covers it */
		}
		if (n == 0 && c->type == SOCK_DGRAM) {
			if (!c->done)	/* no empty datagram is ever sent */
				calm_fail(c, false, "B: an empty datagram after %u records", seq);
			break;		/* else the writer gave up and woke us */
		}
		if (n == 0) {
			pthread_mutex_lock(&c->mu);
			c->complete = c->done && c->total == before;
			pthread_mutex_unlock(&c->mu);
			if (!c->complete)
				calm_fail(c, false, "B: EOF after %llu bytes, %u records; the writer sent %llu%s",
					  (unsigned long long)before, seq, (unsigned long long)c->sent,
					  c->done ? "" : " and was not done");
			break;
		}
		if (pn >= 0 && memcmp(peek, buf, (size_t)(pn < n ? pn : n))) {
			calm_fail(c, false, "B: MSG_PEEK saw other bytes than the read after it");
			break;
		}
		if (c->type == SOCK_STREAM) {
			toy_pattern(want, (size_t)n, c->key + off);
			if (memcmp(want, buf, (size_t)n)) {
				size_t i = 0;

				while (want[i] == buf[i])
					i++;
				calm_fail(c, false, "B: byte %llu: got %02x, expected %02x",
					  (unsigned long long)(off + i), (unsigned char)buf[i],
					  (unsigned char)want[i]);
				break;
			}
			off += (uint64_t)n;
		} else {
			struct rec_hdr h;

			memcpy(&h, buf, sizeof(h));
			if ((size_t)n < sizeof(h) || h.magic != (REC_MAGIC ^ (uint32_t)c->key) ||
			    h.seq != seq || h.len != (uint32_t)n || (mflags & MSG_TRUNC) || last) {
				calm_fail(c, false, "B: record %u: got %zd bytes, seq %u, length field %u%s%s",
					  seq, n, h.seq, h.len, mflags & MSG_TRUNC ? ", MSG_TRUNC" : "",
					  last ? ", after the last record" : "");
				break;
			}
			rec_fill(c, want, (size_t)n, seq, h.flags & REC_LAST);
			if (memcmp(want, buf, (size_t)n)) {
				calm_fail(c, false, "B: record %u (%zd bytes): payload differs", seq, n);
				break;
			}
			seq++;
			last = h.flags & REC_LAST;
			__atomic_fetch_add(&shm->calm_records, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&shm->calm_bytes, n, __ATOMIC_RELAXED);
		if (ioctl(c->b, SIOCINQ, &v) < 0)
			v = -1;
		pthread_mutex_lock(&c->mu);
		c->recvd += (uint64_t)n;
		if (v == 0) {
			c->drained = c->recvd;
			c->t_drain = now();
		}
		pthread_mutex_unlock(&c->mu);
		if (c->type == SOCK_DGRAM && last) {
			c->complete = true;
			break;
		}
	}
out:
	/* a writer still blocked for room fails at once (EPIPE) */
	shutdown(c->b, SHUT_RD);
	free(buf);
	free(want);
	free(peek);
	return NULL;
}

static int calm_pair(struct calm *c, uint64_t *r)
{
	int sv[2];

	if (splitmix(r) % 2) {
		if (socketpair(AF_TOY, c->type, 0, sv))
			return -1;
		c->a = sv[0];
		c->b = sv[1];
	} else if (c->type != SOCK_DGRAM) {
		if (toy_connect_pair(c->type, &c->a, &c->b))
			return -1;
	} else {
		c->b = toy_socket(SOCK_DGRAM);
		c->a = toy_socket(SOCK_DGRAM);
		if (c->a < 0 || c->b < 0 || toy_bind(c->b, 0) ||
		    toy_connect(c->a, (uint32_t)toy_port(c->b)))
			return -1;
	}
	calm_fd(c->a);
	calm_fd(c->b);
	return 0;
}

static int calm_xfer(struct calm *c, uint64_t r)
{
	static const int bufs[] = { 4096, 16384, 65536, 262144 };
	uint64_t total, sent = 0;
	uint32_t seq = 0;
	size_t cap;
	char *buf;
	pthread_t th;
	int v;

	if (calm_pair(c, &r))
		return 2;
	if (splitmix(&r) % 3 == 0)
		v = bufs[splitmix(&r) % 4], toy_setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, v);
	if (splitmix(&r) % 3 == 0)
		v = bufs[splitmix(&r) % 4], toy_setsockopt_int(c->b, SOL_SOCKET, SO_RCVBUF, v);
	c->maxrec = (size_t)toy_getsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
	v = toy_getsockopt_int(c->b, SOL_SOCKET, SO_RCVBUF);
	if ((size_t)v < c->maxrec)
		c->maxrec = (size_t)v;
	if (c->maxrec < 64)
		return 2;
	switch (splitmix(&r) % 32) {
	case 0:
		total = 1 + splitmix(&r) % (1 << 20);
		break;
	case 1:
	case 2:
		total = 1 + splitmix(&r) % (256 << 10);
		break;
	case 3:
	case 4:
	case 5:
		total = 1 + splitmix(&r) % 64;
		break;
	default:
		total = 1 + splitmix(&r) % (16 << 10);
		break;
	}
	if (c->type != SOCK_STREAM)
		total = 1 + splitmix(&r) % 16;		/* records */
	cap = c->type == SOCK_STREAM ? 65536 : c->maxrec;
	buf = malloc(cap);
	if (!buf || pthread_create(&th, NULL, calm_reader, c)) {
		free(buf);
		return 2;
	}
	while (!c->stop && (c->type == SOCK_STREAM ? sent < total : seq < total)) {
		size_t len;
		double t0, t1, t_drain;
		uint64_t drained;
		ssize_t n;
		struct pollfd p = { .fd = c->a, .events = POLLOUT };

		if (splitmix(&r) % 8 == 0)
			usleep((useconds_t)(splitmix(&r) % 5000));
		if (c->type == SOCK_STREAM) {
			len = calm_chunk(&r, total - sent < cap ? total - sent : cap);
			toy_pattern(buf, len, c->key + sent);
		} else {
			/* mostly small records, sometimes up to min(SO_SNDBUF, SO_RCVBUF) */
			len = splitmix(&r) % 16 ? calm_chunk(&r, cap) : cap - splitmix(&r) % 2 * (splitmix(&r) % cap);
			if (len < sizeof(struct rec_hdr))
				len = sizeof(struct rec_hdr);
			rec_fill(c, buf, len, seq, seq + 1 == total);
		}
		if (splitmix(&r) % 5 == 0) {
			struct calm_seen rd;

			n = calm_poll(&p, &t0, &t1);
			rd = calm_look(c);
			if (n == 0 && calm_lost(c, t0, t1, rd.drained == sent, rd.t_drain, "poll(POLLOUT)",
						"the reader had emptied the queue"))
				break;
		}
		t0 = now();
		n = calm_write(&r, c->a, buf, len);
		t1 = now();
		if (n > 0)
			sent += (uint64_t)n;
		pthread_mutex_lock(&c->mu);
		c->sent = sent;
		c->t_sent = t1;
		drained = c->drained;
		t_drain = c->t_drain;
		pthread_mutex_unlock(&c->mu);
		if (calm_lost(c, t0, t1, drained == sent, t_drain, "send",
			      t_drain < t0 ? "the queue had been empty since before the call" :
			      "the reader had emptied the queue"))
			break;
		if (n < 0) {
			if (errno == EMSGSIZE && len <= c->maxrec)
				calm_fail(c, false, "A: a record of %zu bytes <= min(SO_SNDBUF, SO_RCVBUF) = %zu: EMSGSIZE",
					  len, c->maxrec);
			else if (errno != EAGAIN && errno != EPIPE)
				calm_fail(c, false, "A: send: %s after %llu bytes", strerror(errno),
					  (unsigned long long)sent);
			break;
		}
		if (c->type != SOCK_STREAM && (size_t)n != len) {
			calm_fail(c, false, "A: record %u: sent %zd of %zu bytes", seq, n, len);
			break;
		}
		seq++;
	}
	pthread_mutex_lock(&c->mu);
	c->total = sent;
	c->done = true;
	pthread_mutex_unlock(&c->mu);
	if (c->type != SOCK_DGRAM) {
		shutdown(c->a, SHUT_WR);
		pthread_mutex_lock(&c->mu);
		c->t_shut = now();
		pthread_mutex_unlock(&c->mu);
	} else if (seq < total) {
		shutdown(c->b, SHUT_RDWR);	/* wakes the reader: recv returns 0 */
	}
	pthread_join(th, NULL);
	free(buf);
	return c->stop ? 1 : c->complete ? 0 : 2;
}

/* ---- accept and connect -------------------------------------------------- */

static void calm_event(struct calm *c)
{
	pthread_mutex_lock(&c->mu);
	c->events++;
	c->t_event = now();
	pthread_mutex_unlock(&c->mu);
}

/* B of accept: connect nconn times, or shut the listener down. */
static void *calm_connector(void *arg)
{
	struct calm *c = arg;
	uint64_t r = c->hseed;
	int fds[4], i, n = 0;

	for (i = 0; i < c->nconn && !c->stop; i++) {
		if (splitmix(&r) % 4)
			wait_proc_sleeping(c->a_tid);	/* in poll() or accept() */
		else
			usleep((useconds_t)(splitmix(&r) % 20000));
		if (c->kind == C_ACCEPT_SHUT) {
			shutdown(c->l, SHUT_RD);
			calm_event(c);
			break;
		}
		fds[n] = calm_fd(toy_socket(c->type));
		if (fds[n] >= 0 && toy_connect(fds[n], c->port) == 0) {
			calm_event(c);
			n++;
		} else if (fds[n] >= 0) {
			calm_fail(c, false, "B: connect to a listener with room: %s", strerror(errno));
			close(fds[n]);
		}
	}
	/* keep the connections until A is done with them */
	while (n > 0 && !c->done && !c->stop)
		usleep(1000);
	while (n > 0)
		close(fds[--n]);
	return NULL;
}

static int calm_accept(struct calm *c, uint64_t r)
{
	pthread_t th;
	int i, ret = 0;

	c->nconn = c->kind == C_ACCEPT_SHUT ? 1 : 1 + (int)(splitmix(&r) % 3);
	c->l = calm_fd(toy_listener_backlog(c->type, 4 + (int)(splitmix(&r) % 4), &c->port));
	if (c->l < 0 || pthread_create(&th, NULL, calm_connector, c))
		return 2;
	for (i = 0; i < c->nconn && !c->stop; i++) {
		struct pollfd p = { .fd = c->l, .events = POLLIN };
		struct calm_seen cn;
		double t0, t1;
		int s;

		if (splitmix(&r) % 4 == 0) {
			s = calm_poll(&p, &t0, &t1);
			cn = calm_look(c);
			if (s == 0 && calm_lost(c, t0, t1, cn.events > i, cn.t_event,
						"poll(POLLIN) on a listener",
						c->kind == C_ACCEPT_SHUT ? "it was shut down" :
						"a connection was queued"))
				break;
		}
		t0 = now();
		s = accept4(c->l, NULL, NULL, SOCK_CLOEXEC);
		t1 = now();
		cn = calm_look(c);
		if (calm_lost(c, t0, t1, cn.events > i, cn.t_event, "accept",
			      c->kind == C_ACCEPT_SHUT ? "its listener was shut down" :
			      "a connection was queued"))
			break;
		if (c->kind == C_ACCEPT_SHUT) {
			if (s >= 0 || errno != EINVAL)
				calm_fail(c, false, "A: accept on a listener shut down (SHUT_RD): %s, README: EINVAL",
					  s >= 0 ? "a connection" : strerror(errno));
			break;
		}
		if (s < 0) {
			if (errno != EAGAIN)
				calm_fail(c, false, "A: accept: %s", strerror(errno));
			ret = 2;
			break;
		}
		close(s);
	}
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_mutex_unlock(&c->mu);
	pthread_join(th, NULL);
	return c->stop ? 1 : ret;
}

/* B of connect: make room with one accept(), or shut the connecting socket down. */
static void *calm_acceptor(void *arg)
{
	struct calm *c = arg;
	uint64_t r = c->hseed;
	int s = -1;

	if (c->kind == C_CONNECT_SHUT || splitmix(&r) % 4)
		wait_in_syscall(c->a_tid, SYS_connect);
	else
		usleep((useconds_t)(splitmix(&r) % 20000));
	if (c->kind == C_CONNECT_SHUT) {
		/* 0 only if it found the connect waiting (SYN_SENT): then it must abort it */
		if (shutdown(c->a, (int)(splitmix(&r) % 3)) == 0)
			calm_event(c);
	} else {
		s = accept4(c->l, NULL, NULL, SOCK_CLOEXEC);
		if (s >= 0)
			calm_event(c);
		else
			calm_fail(c, false, "B: accept on a full listener: %s", strerror(errno));
	}
	while (!c->done && !c->stop)
		usleep(1000);
	if (s >= 0)
		close(s);
	return NULL;
}

static int calm_connect(struct calm *c, uint64_t r)
{
	int fill[20], nfill = 0, ret = 0, e;
	double t0, t1, te;
	pthread_t th;
	long ev;

	c->l = calm_fd(toy_listener_backlog(c->type, (int)(splitmix(&r) % 3), &c->port));
	if (c->l < 0)
		return 2;
	/* fill the backlog with non-blocking connects until one says EAGAIN */
	for (;;) {
		if (nfill == 20)
			goto out;
		fill[nfill] = socket(AF_TOY, c->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fill[nfill] < 0)
			goto out;
		if (toy_connect(fill[nfill], c->port) < 0) {
			e = errno;
			close(fill[nfill]);
			if (e == EAGAIN)
				break;
			goto out;
		}
		nfill++;
	}
	c->a = calm_fd(toy_socket(c->type));
	if (c->a < 0 || pthread_create(&th, NULL, calm_acceptor, c))
		goto out;
	t0 = now();
	e = toy_connect(c->a, c->port) ? errno : 0;
	t1 = now();
	pthread_mutex_lock(&c->mu);
	ev = c->events;
	te = c->t_event;
	c->done = true;
	pthread_mutex_unlock(&c->mu);
	if (!calm_lost(c, t0, t1, ev > 0, te, "connect",
		       c->kind == C_CONNECT_SHUT ? "the socket was shut down" :
		       "accept() made room in the backlog")) {
		if (c->kind == C_CONNECT_SHUT && ev > 0 && e != ECONNRESET && t1 - t0 < CALM_SLEPT)
			calm_fail(c, false, "A: connect aborted by shutdown(): %s, README: ECONNRESET",
				  e ? strerror(e) : "success");
		else if (c->kind == C_CONNECT && e && e != EAGAIN)
			calm_fail(c, false, "A: connect: %s", strerror(e));
		else if (e == EAGAIN)
			ret = 2;
	}
	pthread_join(th, NULL);
	ret = c->stop ? 1 : ret;
	return ret;
out:
	while (nfill > 0)
		close(fill[--nfill]);
	return 2;
}

/* The child of a calm op: 0 ok, 1 an oracle failed (reported), 2 not run. */
static int calm_child(struct worker *w, int kind, int type, uint64_t s1, uint64_t s2)
{
	struct calm c;
	long fresh;
	int ret;

	alarm(100);
	w->cover = NULL;
	if (calm_netns < 0 || setns(calm_netns, CLONE_NEWNET))
		return 2;
	close_range(3, ~0U, 0);
	set_make_it_fail(false);
	w->cover_words = CALM_WORDS;
	if (cov.on)
		w->kcov_fd = kcov_open(&w->cover, w->cover_words);
	cover_reset(w);
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	c.kind = kind;
	c.type = type;
	c.a = c.b = c.l = -1;
	c.key = s1;
	c.hseed = s2 ^ 0x5bd1e995;
	c.a_tid = getpid();
	switch (kind) {
	case C_XFER:
		ret = calm_xfer(&c, s2);
		break;
	case C_ACCEPT:
	case C_ACCEPT_SHUT:
		ret = calm_accept(&c, s2);
		break;
	default:
		ret = calm_connect(&c, s2);
		break;
	}
	fresh = cover_collect(w);
	__atomic_store_n(&shm->calm_fresh[w->proc][w->id], fresh, __ATOMIC_RELAXED);
	return ret;
}

static int calm_running;	/* calm ops of this worker process */

/* OP_CALM: run a scenario in a child; its exit status is checked. */
static long do_calm(struct worker *w, bool in_child)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	int kind, type, st;
	uint64_t s1, s2;
	double t0;
	pid_t pid;

	switch (rn(w, 10)) {
	case 6:
		kind = C_ACCEPT;
		break;
	case 7:
		kind = C_ACCEPT_SHUT;
		break;
	case 8:
		kind = C_CONNECT;
		break;
	case 9:
		kind = C_CONNECT_SHUT;
		break;
	default:
		kind = C_XFER;
		break;
	}
	type = kind == C_XFER ? types[rn(w, 3)] : types[rn(w, 2)];
	s1 = rnd(w);
	s2 = rnd(w);
	if (in_child)
		return -1;
	/* they take long: never more than CALM_PAR threads of a process */
	if (__atomic_add_fetch(&calm_running, 1, __ATOMIC_ACQ_REL) > CALM_PAR) {
		__atomic_sub_fetch(&calm_running, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&shm->calm_busy, 1, __ATOMIC_RELAXED);
		return 0;
	}
	w->calm = 1;
	t0 = now();
	pid = fork();
	if (pid == 0)
		_exit(calm_child(w, kind, type, s1, s2));
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	w->calm = 0;
	__atomic_sub_fetch(&calm_running, 1, __ATOMIC_ACQ_REL);
	if (pid < 0)
		return -1;
	__atomic_fetch_add(&shm->calm_run, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&shm->calm_usecs, (long)((now() - t0) * 1e6), __ATOMIC_RELAXED);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		__atomic_fetch_add(&shm->calm_ok[kind], 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
		__atomic_fetch_add(&shm->calm_skipped, 1, __ATOMIC_RELAXED);
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
		child_failed(w, pid, st, calm_names[kind]);
	return -1;
}

#endif /* TOY_FUZZ_CALM_H */

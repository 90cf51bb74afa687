/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_diff.h - the differential mode of toy_fuzz, included by
 * toy_fuzz.c only (the selftests Makefile builds one binary per toy_*.c).
 *
 *   toy_fuzz --diff SEED [--ops N] [-v]
 *
 * One seeded random sequence of non-blocking calls, single-threaded and
 * deterministic, on two connected AF_TOY sockets and on two AF_UNIX
 * sockets of the same type made the same way: socketpair(), listener +
 * connect + accept, or two DGRAM sockets bound and connected to each
 * other.  Every step's observable result is compared: return value or
 * errno, a hash of the bytes read, recvmsg()'s msg_flags, the poll() mask,
 * the ioctl()/getsockopt() value and whether SIGPIPE was raised.
 *
 * Intended divergences (README.md, "Semantics worth knowing") are
 * filtered by d_intended(), each with the README sentence that documents
 * it.  Sends stay far below both families' buffer limits (at most 8 unread
 * records, 12 unread sends, 12 KiB unread per direction, decided from the
 * AF_UNIX results before the step runs, so the same for both worlds):
 * AF_UNIX's capacity and POLLOUT threshold (max_dgram_qlen, skb truesize
 * against SO_SNDBUF / 4) are not AF_TOY's.
 *
 * A divergence is shrunk by delta debugging (drop runs of steps while the
 * same divergence -- step kind, differing fields, both errnos -- persists)
 * and the minimal sequence is printed with both worlds' results.
 * Exit status: 0 no divergence, 1 divergence, 2 setup failed.
 */
#ifndef TOY_FUZZ_DIFF_H
#define TOY_FUZZ_DIFF_H

#include <sys/un.h>

enum {
	D_SEND, D_SENDMSG, D_RECV, D_RECVMSG, D_SHUT, D_CLOSE, D_POLL,
	D_INQ, D_OUTQ, D_ATMARK, D_GETOPT, D_SETOPT, D_PEER, D_NEW, D_NR
};
static const char * const d_names[D_NR] = {
	"send", "sendmsg", "recv", "recvmsg", "shutdown", "close", "poll",
	"FIONREAD", "SIOCOUTQ", "SIOCATMARK", "getsockopt", "setsockopt", "getpeername",
	"newpair",
};
static const int d_weight[D_NR] = {
	[D_SEND] = 20, [D_SENDMSG] = 8, [D_RECV] = 20, [D_RECVMSG] = 8,
	[D_SHUT] = 3, [D_CLOSE] = 1, [D_POLL] = 10, [D_INQ] = 5, [D_OUTQ] = 3, [D_ATMARK] = 1,
	[D_GETOPT] = 5, [D_SETOPT] = 2, [D_PEER] = 2, [D_NEW] = 1,
};

#define D_MAXSTEPS	2000
#define D_BUF		20000
#define D_QREC		8		/* unread records per direction */
#define D_QSENDS	12		/* unread STREAM sends per direction */
#define D_QBYTES	12288

struct dstep {
	uint8_t op, s;
	int len, flags, arg;
};

struct dres {
	long ret;
	int err, mflags, val, sig, skip;
	uint64_t hash;
};

/* what the filter and the capacity model need to know about the run */
struct dstate {
	int type, kind;
	int fd[2][2];			/* [world][slot]; world 0 AF_TOY, 1 AF_UNIX */
	int qn[2], qs[2];		/* unread records / sends into slot i */
	long qb[2];			/* unread bytes into slot i */
	int qlen[2][D_QREC];		/* record lengths, oldest first */
	bool peer_closed[2], reset[2], lowat[2], fin_sent[2], fin_rcvd[2];
	const char *desync[2];		/* slot i's states differ on purpose since */
};

/* a divergence: the step's kind, which fields differ, both errnos */
struct dsig {
	int step, op, mask, err0, err1;
};

enum { DF_RET = 1, DF_HASH = 2, DF_FLAGS = 4, DF_VAL = 8, DF_SIG = 16 };

static unsigned char d_sbuf[D_BUF], d_rbuf[D_BUF];
static long d_compared, d_filtered, d_skipped;
static int d_verbose;

/* README.md sentences (word for word) justifying the filtered divergences */
#define DR_OUTQ "counts the bytes the peer has not read yet (TCP and UDP: bytes not yet acknowledged or sent, 0 on loopback; AF_UNIX: the memory of the unread skbs)."
#define DR_TRUNC "`MSG_TRUNC` discards the bytes instead of copying them"
#define DR_RCVLOWAT "`poll()` reports `EPOLLIN` only once `SO_RCVLOWAT` bytes are queued, as TCP."
#define DR_DG_STAYS "A connected socket stays connected when its receiver closes: sends fail with `ECONNREFUSED` (AF_UNIX disconnects it after one: `ENOTCONN`), a `socketpair()` end too."
#define DR_RESET "the peer's next read or write fails with `ECONNRESET` once, then writes give `EPIPE`"
#define DR_OOB "`send()` and `recv()` with it fail with `EOPNOTSUPP` on every type, and `SIOCATMARK` with `ENOTTY` (TCP and AF_UNIX STREAM sockets carry one urgent byte; their `recv(MSG_OOB)` without one says `EINVAL`, UDP's `EAGAIN`)."
#define DR_SHUT_NOTCONN "`shutdown()` of a STREAM or SEQPACKET socket that is not connected gives `ENOTCONN` (AF_UNIX: 0)."

static const char *d_intended(struct dstate *st, const struct dstep *s,
			      const struct dres *t, const struct dres *u, int mask)
{
	int i = s->s;

	if (st->desync[i])
		return st->desync[i];
	if (s->op == D_OUTQ && mask == DF_VAL && t->ret >= 0 && u->ret >= 0)
		return DR_OUTQ;
	if ((s->op == D_ATMARK || (s->flags & MSG_OOB)) && t->ret < 0 &&
	    t->err == (s->op == D_ATMARK ? ENOTTY : EOPNOTSUPP)) {
		/* an urgent byte AF_UNIX took changes both ends' streams */
		if (u->ret > 0 && (s->op == D_SEND || s->op == D_SENDMSG))
			st->desync[0] = st->desync[1] = DR_OOB;
		return DR_OOB;
	}
	if (st->type == SOCK_STREAM && (s->op == D_RECV || s->op == D_RECVMSG) &&
	    (s->flags & MSG_TRUNC) && mask == DF_HASH)
		return DR_TRUNC;
	if (st->type == SOCK_STREAM && s->op == D_POLL && st->lowat[i] && mask == DF_VAL &&
	    !((t->val ^ u->val) & ~(POLLIN | POLLRDNORM)))
		return DR_RCVLOWAT;
	if (st->type == SOCK_DGRAM && st->peer_closed[i] &&
	    ((u->ret < 0 && u->err == ENOTCONN) || s->op == D_POLL))
		return DR_DG_STAYS;
	/*
	 * A reset: AF_TOY reports it once, after the queued data (as TCP),
	 * AF_UNIX keeps it pending (SEQPACKET: before the data), so the
	 * survivor's states differ from the first difference on.
	 */
	if (st->type != SOCK_DGRAM && st->reset[i] && s->op != D_SHUT)
		return st->desync[i] = DR_RESET;
	/* both directions shut (FIN each way): a closed connection, as TCP */
	if (st->type != SOCK_DGRAM && s->op == D_SHUT && t->ret < 0 && t->err == ENOTCONN &&
	    u->ret == 0 && ((st->fin_sent[i] && st->fin_rcvd[i]) || st->reset[i]))
		return DR_SHUT_NOTCONN;
	return NULL;
}

/* ---- worlds ------------------------------------------------------------ */

static int d_unix_autobind(int fd, struct sockaddr_un *a, socklen_t *len)
{
	sa_family_t fam = AF_UNIX;

	*len = sizeof(*a);
	if (bind(fd, (struct sockaddr *)&fam, sizeof(fam)) < 0)
		return -1;
	return getsockname(fd, (struct sockaddr *)a, len);
}

/* Make the two connected sockets of world w (0 AF_TOY, 1 AF_UNIX). */
static int d_world(int w, int type, int kind, int *fd)
{
	int fam = w ? AF_UNIX : AF_TOY, l = -1, ok = -1;
	struct sockaddr_un ua[2];
	socklen_t ul[2];

	fd[0] = fd[1] = -1;
	if (kind == 0)
		return socketpair(fam, type, 0, fd);
	if (!w && type != SOCK_DGRAM)
		return toy_connect_pair(type, &fd[0], &fd[1]);
	if (!w) {
		uint32_t p[2];
		int i;

		for (i = 0; i < 2; i++) {
			fd[i] = toy_socket(type);
			if (fd[i] < 0 || toy_bind(fd[i], 0) < 0 || (p[i] = toy_port(fd[i])) <= 0)
				return -1;
		}
		return toy_connect(fd[0], p[1]) || toy_connect(fd[1], p[0]) ? -1 : 0;
	}
	if (type == SOCK_DGRAM) {
		fd[0] = socket(AF_UNIX, type, 0);
		fd[1] = socket(AF_UNIX, type, 0);
		if (fd[0] < 0 || fd[1] < 0 || d_unix_autobind(fd[0], &ua[0], &ul[0]) ||
		    d_unix_autobind(fd[1], &ua[1], &ul[1]))
			return -1;
		return connect(fd[0], (struct sockaddr *)&ua[1], ul[1]) ||
		       connect(fd[1], (struct sockaddr *)&ua[0], ul[0]) ? -1 : 0;
	}
	l = socket(AF_UNIX, type, 0);
	fd[0] = socket(AF_UNIX, type, 0);
	if (l >= 0 && fd[0] >= 0 && !d_unix_autobind(l, &ua[0], &ul[0]) && !listen(l, 4) &&
	    !connect(fd[0], (struct sockaddr *)&ua[0], ul[0]))
		fd[1] = accept(l, NULL, NULL);
	ok = fd[1] >= 0 ? 0 : -1;
	if (l >= 0)
		close(l);
	return ok;
}

static void d_close_worlds(struct dstate *st)
{
	int w, i;

	for (w = 0; w < 2; w++)
		for (i = 0; i < 2; i++)
			if (st->fd[w][i] >= 0)
				close(st->fd[w][i]);
}

static int d_sigpipe(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	return sigtimedwait(&set, NULL, &zero) == SIGPIPE;
}

static void d_iov(struct iovec *iov, int n, unsigned char *buf, int len)
{
	int i, off = 0;

	for (i = 0; i < n; i++) {
		int part = i == n - 1 ? len - off : len / n;

		iov[i].iov_base = buf + off;
		iov[i].iov_len = (size_t)part;
		off += part;
	}
}

static void d_exec(const struct dstep *s, int idx, int *fds, struct dres *r)
{
	int fd = fds[s->s], v = 0;
	struct msghdr m;
	struct iovec iov[3];
	struct pollfd p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(r, 0, sizeof(*r));
	if (fd < 0) {
		r->skip = 1;
		return;
	}
	memset(&m, 0, sizeof(m));
	errno = 0;
	switch (s->op) {
	case D_SEND:
	case D_SENDMSG:
		toy_pattern(d_sbuf, (size_t)s->len, (uint64_t)idx * 7919);
		if (s->op == D_SEND) {
			r->ret = send(fd, d_sbuf, (size_t)s->len, s->flags);
			break;
		}
		d_iov(iov, s->arg, d_sbuf, s->len);
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)s->arg;
		r->ret = sendmsg(fd, &m, s->flags);
		break;
	case D_RECV:
	case D_RECVMSG:
		memset(d_rbuf, 0, (size_t)s->len);
		if (s->op == D_RECV) {
			r->ret = recv(fd, d_rbuf, (size_t)s->len, s->flags);
		} else {
			d_iov(iov, s->arg, d_rbuf, s->len);
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)s->arg;
			r->ret = recvmsg(fd, &m, s->flags);
			r->mflags = m.msg_flags & (MSG_TRUNC | MSG_EOR | MSG_CTRUNC | MSG_OOB);
		}
		if (r->ret > 0)
			r->hash = toy_fnv1a(TOY_FNV_INIT, d_rbuf,
					    (size_t)(r->ret < s->len ? r->ret : s->len));
		break;
	case D_SHUT:
		r->ret = shutdown(fd, s->arg);
		break;
	case D_CLOSE:
		r->ret = close(fd);
		fds[s->s] = -1;
		break;
	case D_POLL:
		p.fd = fd;
		p.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;
		p.revents = 0;
		r->ret = poll(&p, 1, 0);
		r->val = p.revents;
		break;
	case D_INQ:
	case D_OUTQ:
	case D_ATMARK:
		r->ret = ioctl(fd, s->op == D_INQ ? SIOCINQ : s->op == D_OUTQ ? SIOCOUTQ : SIOCATMARK, &v);
		r->val = r->ret < 0 ? 0 : v;
		break;
	case D_GETOPT:
		sl = sizeof(v);
		r->ret = getsockopt(fd, SOL_SOCKET, s->arg, &v, &sl);
		r->val = r->ret < 0 ? 0 : v;
		break;
	case D_SETOPT:
		v = s->len;
		r->ret = setsockopt(fd, SOL_SOCKET, s->arg, &v, sizeof(v));
		break;
	case D_PEER:
		r->ret = getpeername(fd, (struct sockaddr *)&ss, &sl);
		break;
	}
	if (r->ret < 0)
		r->err = errno;
	if (s->op == D_SEND || s->op == D_SENDMSG)
		r->sig = d_sigpipe();
}

static int d_mask(const struct dres *a, const struct dres *b)
{
	int m = 0;

	if (a->skip || b->skip)
		return a->skip == b->skip ? 0 : DF_RET;
	if (a->ret != b->ret || (a->ret < 0 && a->err != b->err))
		m |= DF_RET;
	if (a->hash != b->hash)
		m |= DF_HASH;
	if (a->mflags != b->mflags)
		m |= DF_FLAGS;
	if (a->val != b->val)
		m |= DF_VAL;
	if (a->sig != b->sig)
		m |= DF_SIG;
	return m;
}

/* Would this send go beyond the capacity both families surely have? */
static bool d_over(const struct dstate *st, const struct dstep *s)
{
	int in = 1 - s->s;

	if (s->op != D_SEND && s->op != D_SENDMSG)
		return false;
	if (st->qb[in] + s->len > D_QBYTES)
		return true;
	return st->type == SOCK_STREAM ? st->qs[in] >= D_QSENDS : st->qn[in] >= D_QREC;
}

/* Track the unread data and the state flags from the AF_UNIX result. */
static void d_update(struct dstate *st, const struct dstep *s, const struct dres *u)
{
	int i = s->s, in = 1 - i;

	switch (s->op) {
	case D_SEND:
	case D_SENDMSG:
		/* AF_UNIX disconnects (and purges) a DGRAM socket whose peer closed */
		if (st->type == SOCK_DGRAM && st->peer_closed[i] && u->ret < 0 &&
		    u->err == ECONNREFUSED)
			st->desync[i] = DR_DG_STAYS;
		if (u->ret < 0 || (u->ret == 0 && st->type == SOCK_STREAM))
			break;
		st->qb[in] += u->ret;
		st->qs[in]++;
		if (st->qn[in] < D_QREC)
			st->qlen[in][st->qn[in]++] = (int)u->ret;
		break;
	case D_RECV:
	case D_RECVMSG:
		if (u->ret < 0 || (s->flags & MSG_PEEK))
			break;
		if (st->type == SOCK_STREAM) {
			st->qb[i] -= u->ret;
			if (st->qb[i] <= 0)
				st->qb[i] = st->qs[i] = 0;
		} else if (st->qn[i] > 0) {
			st->qb[i] -= st->qlen[i][0];
			memmove(&st->qlen[i][0], &st->qlen[i][1], sizeof(int) * (D_QREC - 1));
			st->qn[i]--;
			st->qs[i]--;
		}
		break;
	case D_SHUT:
		if (u->ret == 0 && s->arg != SHUT_RD) {
			st->fin_sent[i] = true;
			st->fin_rcvd[in] = true;
		}
		break;
	case D_CLOSE:
		st->peer_closed[in] = true;
		st->fin_rcvd[in] = true;
		if (st->type != SOCK_DGRAM && st->qb[i] + st->qn[i] > 0)
			st->reset[in] = true;
		st->qb[i] = st->qn[i] = st->qs[i] = 0;
		break;
	case D_SETOPT:
		if (s->arg == SO_RCVLOWAT && u->ret == 0)
			st->lowat[i] = s->len > 1;
		break;
	}
}

static const char *d_errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void d_fmt_step(const struct dstep *s, char *buf, size_t len)
{
	static const struct { int f; const char *n; } fl[] = {
		{ MSG_DONTWAIT, "DONTWAIT" }, { MSG_NOSIGNAL, "NOSIGNAL" }, { MSG_PEEK, "PEEK" },
		{ MSG_TRUNC, "TRUNC" }, { MSG_WAITALL, "WAITALL" }, { MSG_EOR, "EOR" },
		{ MSG_MORE, "MORE" }, { MSG_OOB, "OOB" },
	};
	size_t o;
	unsigned int k;

	o = (size_t)snprintf(buf, len, "%s(s%d", d_names[s->op], s->s);
	switch (s->op) {
	case D_SEND: case D_SENDMSG: case D_RECV: case D_RECVMSG:
		o += (size_t)snprintf(buf + o, len - o, ", %d", s->len);
		for (k = 0; k < sizeof(fl) / sizeof(fl[0]); k++)
			if (s->flags & fl[k].f)
				o += (size_t)snprintf(buf + o, len - o, "%s%s",
						      k ? "|" : ", ", fl[k].n);
		if (s->op == D_SENDMSG || s->op == D_RECVMSG)
			o += (size_t)snprintf(buf + o, len - o, ", %d iov", s->arg);
		break;
	case D_SHUT:
		o += (size_t)snprintf(buf + o, len - o, ", %s",
				      s->arg == SHUT_RD ? "SHUT_RD" : s->arg == SHUT_WR ? "SHUT_WR" : "SHUT_RDWR");
		break;
	case D_GETOPT: case D_SETOPT:
		o += (size_t)snprintf(buf + o, len - o, ", %s",
				      s->arg == SO_ERROR ? "SO_ERROR" : s->arg == SO_TYPE ? "SO_TYPE" :
				      s->arg == SO_ACCEPTCONN ? "SO_ACCEPTCONN" : "SO_RCVLOWAT");
		if (s->op == D_SETOPT)
			o += (size_t)snprintf(buf + o, len - o, ", %d", s->len);
		break;
	}
	snprintf(buf + o, len - o, ")");
}

static void d_fmt_res(const struct dstep *s, const struct dres *r, char *buf, size_t len)
{
	static const struct { int b; const char *n; } pb[] = {
		{ POLLIN, "IN" }, { POLLPRI, "PRI" }, { POLLOUT, "OUT" }, { POLLERR, "ERR" },
		{ POLLHUP, "HUP" }, { POLLRDNORM, "RDNORM" }, { POLLWRNORM, "WRNORM" },
		{ POLLWRBAND, "WRBAND" }, { POLLRDHUP, "RDHUP" },
	};
	size_t o;
	unsigned int k;

	if (r->skip) {
		snprintf(buf, len, "(closed)");
		return;
	}
	if (r->ret < 0)
		o = (size_t)snprintf(buf, len, "-1 %s", d_errname(r->err));
	else
		o = (size_t)snprintf(buf, len, "%ld", r->ret);
	if (r->ret > 0 && (s->op == D_RECV || s->op == D_RECVMSG))
		o += (size_t)snprintf(buf + o, len - o, " #%04x", (unsigned int)(r->hash & 0xffff));
	if (r->mflags)
		o += (size_t)snprintf(buf + o, len - o, "%s%s%s", r->mflags & MSG_TRUNC ? " TRUNC" : "",
				      r->mflags & MSG_EOR ? " EOR" : "", r->mflags & MSG_CTRUNC ? " CTRUNC" : "");
	if (s->op == D_POLL)
		for (k = 0; k < sizeof(pb) / sizeof(pb[0]); k++)
			if (r->val & pb[k].b)
				o += (size_t)snprintf(buf + o, len - o, " %s", pb[k].n);
	if (r->ret >= 0 && (s->op == D_INQ || s->op == D_OUTQ || s->op == D_ATMARK ||
			    s->op == D_GETOPT))
		o += (size_t)snprintf(buf + o, len - o, " = %d", r->val);
	if (r->sig)
		snprintf(buf + o, len - o, " SIGPIPE");
}

static void d_print_step(int i, const struct dstep *s, const struct dres *t,
			 const struct dres *u, const char *mark)
{
	char a[96], b[96], c[96];

	d_fmt_step(s, a, sizeof(a));
	d_fmt_res(s, t, b, sizeof(b));
	d_fmt_res(s, u, c, sizeof(c));
	printf("# fuzz-diff: %4d %-44s AF_TOY %-22s AF_UNIX %-22s%s\n", i, a, b, c, mark);
}

static const char *d_type_name(int type)
{
	return type == SOCK_STREAM ? "STREAM" : type == SOCK_DGRAM ? "DGRAM" : "SEQPACKET";
}

/*
 * Run steps in both worlds.  Returns 1 at the first divergence that is not
 * intended (*sig says which), 0 if none, -1 if a world cannot be set up.
 * print: 1 every step, 2 every step with its verdict (the final report).
 */
static int d_run(int type, int kind, const struct dstep *steps, int n, struct dsig *sig, int print)
{
	struct dstate st;
	struct dres t, u;
	int i, mask, ret = 0;

	for (i = -1; i < n; i++) {
		const struct dstep *s = &steps[i < 0 ? 0 : i];
		const char *why = NULL;

		if (i < 0 || s->op == D_NEW) {	/* (new) pairs in both worlds */
			if (i >= 0)
				d_close_worlds(&st);
			memset(&st, 0, sizeof(st));
			st.type = type;
			st.kind = kind;
			if (d_world(0, type, kind, st.fd[0]) || d_world(1, type, kind, st.fd[1])) {
				printf("# fuzz-diff: cannot set up the %s pairs: %s\n",
				       d_type_name(type), strerror(errno));
				d_close_worlds(&st);
				return -1;
			}
			if (print && i >= 0)
				printf("# fuzz-diff: %4d newpair()\n", i);
			continue;
		}
		if (d_over(&st, s)) {
			d_skipped++;
			continue;
		}
		d_exec(s, i, st.fd[0], &t);
		d_exec(s, i, st.fd[1], &u);
		mask = d_mask(&t, &u);
		d_compared += !t.skip || !u.skip;
		if (mask)
			why = d_intended(&st, s, &t, &u, mask);
		if (print)
			d_print_step(i, s, &t, &u, !mask ? "" : why ? "  (intended)" : "  <-- DIVERGES");
		if (print && why && print > 1)
			printf("# fuzz-diff:        README: \"%s\"\n", why);
		if (mask && why)
			d_filtered++;
		if (mask && !why) {
			sig->step = i;
			sig->op = s->op;
			sig->mask = mask;
			sig->err0 = t.ret < 0 ? t.err : 0;
			sig->err1 = u.ret < 0 ? u.err : 0;
			ret = 1;
			break;
		}
		d_update(&st, s, &u);
	}
	d_close_worlds(&st);
	return ret;
}

static bool d_same(const struct dsig *a, const struct dsig *b)
{
	return a->op == b->op && a->mask == b->mask && a->err0 == b->err0 && a->err1 == b->err1;
}

/* Delta debugging: the smallest subsequence that still shows *want. */
static int d_shrink(int type, int kind, struct dstep *steps, int n, const struct dsig *want)
{
	static struct dstep cand[D_MAXSTEPS];
	int gran = 2, runs = 0;
	struct dsig got;

	n = want->step + 1;		/* nothing after the divergence matters */
	while (n >= 2 && runs < 5000) {
		int chunk = (n + gran - 1) / gran, start;
		bool reduced = false;

		for (start = 0; start < n; start += chunk) {
			int end = start + chunk < n ? start + chunk : n, m;

			m = start;
			memcpy(cand, steps, sizeof(*steps) * (size_t)start);
			memcpy(cand + m, steps + end, sizeof(*steps) * (size_t)(n - end));
			m += n - end;
			runs++;
			if (m > 0 && d_run(type, kind, cand, m, &got, 0) == 1 && d_same(&got, want)) {
				memcpy(steps, cand, sizeof(*steps) * (size_t)m);
				n = got.step + 1;
				gran = gran > 2 ? gran - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (gran >= n)
				break;
			gran = gran * 2 < n ? gran * 2 : n;
		}
	}
	return n;
}

static uint64_t d_rng;

static unsigned int d_rn(unsigned int n)
{
	return n ? (unsigned int)(splitmix(&d_rng) % n) : 0;
}

static int d_len(void)
{
	switch (d_rn(10)) {
	case 0:
		return 0;
	case 1: case 2: case 3:
		return 1 + (int)d_rn(16);
	case 4: case 5: case 6:
		return 17 + (int)d_rn(1008);
	case 7: case 8:
		return 1025 + (int)d_rn(7168);
	default:
		return 8193 + (int)d_rn(3800);
	}
}

static void d_gen(struct dstep *s)
{
	static const int opts[] = { SO_ERROR, SO_TYPE, SO_ACCEPTCONN, SO_RCVLOWAT };
	int total = 0, i, r;

	for (i = 0; i < D_NR; i++)
		total += d_weight[i];
	r = (int)d_rn((unsigned int)total);
	for (i = 0; i < D_NR && r >= d_weight[i]; i++)
		r -= d_weight[i];
	memset(s, 0, sizeof(*s));
	s->op = (uint8_t)i;
	s->s = (uint8_t)d_rn(2);
	switch (i) {
	case D_SEND:
	case D_SENDMSG:
		s->len = d_len();
		s->flags = MSG_DONTWAIT | (d_rn(2) ? MSG_NOSIGNAL : 0) |
			   (d_rn(20) ? 0 : MSG_EOR) | (d_rn(20) ? 0 : MSG_MORE) |
			   (d_rn(50) ? 0 : MSG_OOB);
		s->arg = 1 + (int)d_rn(3);
		break;
	case D_RECV:
	case D_RECVMSG:
		s->len = d_len();
		s->flags = MSG_DONTWAIT | (d_rn(6) ? 0 : MSG_PEEK) |
			   (d_rn(10) ? 0 : MSG_TRUNC) | (d_rn(10) ? 0 : MSG_WAITALL) |
			   (d_rn(50) ? 0 : MSG_OOB);
		s->arg = 1 + (int)d_rn(3);
		break;
	case D_SHUT:
		s->arg = (int)d_rn(3);
		break;
	case D_GETOPT:
		s->arg = opts[d_rn(4)];
		break;
	case D_SETOPT:
		s->arg = SO_RCVLOWAT;
		s->len = d_rn(3) ? 1 + (int)d_rn(64) : 1;
		break;
	}
}

/* One seed: generate, run, shrink and report.  0 / 1 / 2 as the mode's exit status. */
static int diff_seed(uint64_t seed, int nops)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	static struct dstep steps[D_MAXSTEPS];
	static const char * const kinds[] = { "socketpair()", "connected" };
	struct dsig sig, again;
	int type, kind, i, k, r, n;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d_rng = seed * 0x2545f4914f6cdd1dULL + 1;
	type = types[d_rn(3)];
	kind = (int)d_rn(2);
	if (nops < 1 || nops > D_MAXSTEPS)
		nops = 200;
	for (i = 0, k = -1; i < nops; i++) {
		if (k-- == 0) {		/* a while after a close: a new pair */
			memset(&steps[i], 0, sizeof(steps[i]));
			steps[i].op = D_NEW;
			continue;
		}
		d_gen(&steps[i]);
		if (steps[i].op == D_CLOSE && k < 0)
			k = 3 + (int)d_rn(12);
	}
	r = d_run(type, kind, steps, nops, &sig, d_verbose);
	if (r < 0)
		return 2;
	if (r == 0) {
		printf("# fuzz-diff: seed %llu: %s %s, %d steps: same as AF_UNIX\n",
		       (unsigned long long)seed, d_type_name(type), kinds[kind], nops);
		return 0;
	}
	printf("# fuzz-diff: seed %llu: %s %s: step %d %s differs from AF_UNIX; shrinking\n",
	       (unsigned long long)seed, d_type_name(type), kinds[kind], sig.step, d_names[sig.op]);
	n = d_shrink(type, kind, steps, nops, &sig);
	printf("# fuzz-diff: seed %llu: DIVERGENCE, minimal sequence (%d steps) on a %s %s pair:\n",
	       (unsigned long long)seed, n, d_type_name(type), kinds[kind]);
	if (d_run(type, kind, steps, n, &again, 2) != 1)
		printf("# fuzz-diff: (the minimal sequence did not diverge again: flaky)\n");
	return 1;
}

static int diff_main(int argc, char **argv)
{
	uint64_t seed = strtoull(argv[2], NULL, 0);
	int nops = 200, i, ret;

	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			nops = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-v"))
			d_verbose = 1;
	}
	if (toy_ensure_module()) {
		printf("# fuzz-diff: AF_TOY not available\n");
		return 2;
	}
	ret = diff_seed(seed, nops);
	printf("# fuzz-diff: %ld steps compared, %ld intended divergences filtered, %ld sends skipped (capacity)\n",
	       d_compared, d_filtered, d_skipped);
	return ret;
}

#endif /* TOY_FUZZ_DIFF_H */

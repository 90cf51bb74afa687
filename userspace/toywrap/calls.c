// SPDX-License-Identifier: GPL-2.0
/*
 * The socket calls libtoywrap interposes (LD_PRELOAD: the program's calls
 * into the C library land here first; dlsym(RTLD_NEXT) finds the C
 * library's own).
 *
 * socket() of an IPv4/IPv6 TCP or UDP socket makes a candidate.  Its first
 * bind(), connect(), listen() or sendto()/sendmsg() with an address decides:
 * a loopback or wildcard address moves it to AF_TOY (STREAM for TCP, DGRAM
 * for UDP, the port number unchanged), any other address leaves it to the
 * real stack for good, and so does a socket already bound there.  The move
 * creates the AF_TOY socket with the original's O_NONBLOCK, replays onto
 * it the SOL_SOCKET options recorded, then dup3()s it onto the original fd
 * number (keeping FD_CLOEXEC), which closes the original: the program's fd
 * is never an AF_TOY socket without its options.  From then on the fd is
 * an AF_TOY socket, so read/write/poll/epoll/select need no wrapper.  The
 * calls that show or take addresses translate them.  Closing the original
 * takes it out of the epoll sets it was in; the move adds the AF_TOY
 * socket to them (epoll_ctl() on candidates is recorded).  Other fds of
 * the same socket (dup(), fork()) and calls already blocked on it stay
 * with the original.
 *
 * The calls that change what a move copies or replaces (setsockopt(),
 * epoll_ctl(), fcntl(F_SETFL/F_SETFD), ioctl(FIONBIO/FIOCLEX/FIONCLEX),
 * dup() and friends) and the ones whose answer would show a half-moved
 * socket (getsockopt(), getsockname(), getpeername()) hold the move lock
 * while they work on a candidate (tw_hold(), tw_lookup_hold()), so that
 * each happens wholly before or wholly after its move: an option or flag
 * set during a move is neither lost nor replayed over a newer one, and an
 * fd taken out of an epoll set is not put back.  close() drops the entry
 * and waits for a move under way before the real close(), made without
 * the lock (it can linger): a move after that finds no entry, so its
 * dup3() does not land on an fd number the program reused meanwhile.
 * Sockets with no entry and moved ones, nearly every call, never take it.
 * A move that fails for want of an fd or of memory fails the call that
 * made it (EMFILE, ENOMEM, ...) and leaves the socket a candidate.
 *
 * Out of reach: statically linked programs, raw system calls, io_uring
 * socket operations, and the C library's calls to itself (its resolver,
 * fclose() of an fdopen()ed socket): a move racing one of those closes
 * may still dup3() onto the fd number reused.
 * State: the fd table (fdtab.c, its own locks), tw_real (written once by
 * tw_resolve() under pthread_once), tw_verbose (set in the constructor),
 * tw_no_toy (set once, atomically, when AF_TOY turns out missing).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "toywrap.h"

struct tw_real tw_real;
bool tw_verbose;
static pthread_once_t tw_once = PTHREAD_ONCE_INIT;

/*
 * AF_TOY is missing (no module, or not allowed): no socket of the process
 * becomes a candidate any more, so that the calls after the first failed
 * socket(AF_TOY) do not try (and modprobe) again each time.
 */
static bool tw_no_toy;

static void *tw_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		dprintf(2, "toywrap: %s not found in the C library: %s\n", name, dlerror());
		abort();
	}
	return p;
}

static void tw_resolve_once(void)
{
	tw_real.socket = tw_sym("socket");
	tw_real.bind = tw_sym("bind");
	tw_real.listen = tw_sym("listen");
	tw_real.connect = tw_sym("connect");
	tw_real.accept = tw_sym("accept");
	tw_real.accept4 = tw_sym("accept4");
	tw_real.getsockname = tw_sym("getsockname");
	tw_real.getpeername = tw_sym("getpeername");
	tw_real.setsockopt = tw_sym("setsockopt");
	tw_real.getsockopt = tw_sym("getsockopt");
	tw_real.sendto = tw_sym("sendto");
	tw_real.sendmsg = tw_sym("sendmsg");
	tw_real.recvfrom = tw_sym("recvfrom");
	tw_real.recvmsg = tw_sym("recvmsg");
	tw_real.sendmmsg = tw_sym("sendmmsg");
	tw_real.recvmmsg = tw_sym("recvmmsg");
	tw_real.close = tw_sym("close");
	/* not in every C library (musl has no closefrom()): optional */
	tw_real.close_range = dlsym(RTLD_NEXT, "close_range");
	tw_real.closefrom = dlsym(RTLD_NEXT, "closefrom");
	tw_real.dup = tw_sym("dup");
	tw_real.dup2 = tw_sym("dup2");
	tw_real.dup3 = tw_sym("dup3");
	tw_real.fcntl = tw_sym("fcntl");
	tw_real.epoll_ctl = tw_sym("epoll_ctl");
	tw_real.ioctl = tw_sym("ioctl");
	tw_real.fcntl64 = dlsym(RTLD_NEXT, "fcntl64");
	if (!tw_real.fcntl64)
		tw_real.fcntl64 = tw_real.fcntl;
}

void tw_resolve(void)
{
	pthread_once(&tw_once, tw_resolve_once);
}

void tw_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "toywrap[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	dprintf(2, "%s\n", buf);
}

static const char *tw_kind(const struct tw_sock *s)
{
	return s->type == SOCK_STREAM ? "TCP" : "UDP";
}

/* fd is the kind of socket its entry s says: AF_INET/AF_INET6 or AF_TOY. */
static bool tw_is(int fd, const struct tw_sock *s)
{
	int dom = -1;
	socklen_t l = sizeof(dom);

	return tw_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 &&
	       dom == (s->moved ? AF_TOY : s->family);
}

/* tw_update() callback: drops the entry if it is still arg's socket's. */
static bool tw_unless_same(struct tw_sock *e, void *arg)
{
	return e->gen != ((struct tw_sock *)arg)->gen;
}

/*
 * fd's entry if it is (still) what the entry says: a candidate is an
 * AF_INET/AF_INET6 socket, a moved one an AF_TOY socket.  An fd closed
 * behind our back (by the C library itself, e.g. fclose()) and reused
 * fails the check and loses its stale entry.  So does, for a moment, a
 * candidate another thread is moving: the check is repeated once no move
 * is under way, and only an entry unchanged since is dropped.
 */
static bool tw_lookup(int fd, struct tw_sock *s)
{
	bool ok;

	if (!tw_get(fd, s))
		return false;
	if (tw_is(fd, s))
		return true;
	tw_move_lock();
	ok = tw_get(fd, s) && tw_is(fd, s);
	if (!ok)
		tw_update(fd, tw_unless_same, s);
	tw_move_unlock();
	return ok;
}

/* tw_update() callback: whether the entry is a candidate, to arg (bool). */
static bool tw_read_candidate(struct tw_sock *e, void *arg)
{
	*(bool *)arg = !e->moved;
	return true;
}

static bool tw_candidate(int fd)
{
	bool cand = false;

	tw_update(fd, tw_read_candidate, &cand);
	return cand;
}

/*
 * Takes the move lock if fd or fd2 (-1: none) is a candidate, for a call
 * that must not interleave with its move; true if taken (tw_release()).
 * The check is made again under the lock: a move that held it meanwhile
 * left a moved socket, which needs no lock.
 */
static bool tw_hold(int fd, int fd2)
{
	if (!tw_candidate(fd) && !tw_candidate(fd2))
		return false;
	tw_move_lock();
	if (tw_candidate(fd) || tw_candidate(fd2))
		return true;
	tw_move_unlock();
	return false;
}

/* Ends tw_hold() or tw_lookup_hold(); keeps errno, the call's result. */
static void tw_release(bool held)
{
	int e = errno;

	if (held)
		tw_move_unlock();
	errno = e;
}

/*
 * tw_lookup(), and for a candidate the move lock (*held), taken as by
 * tw_hold(): s is the entry as it is under the lock.
 */
static bool tw_lookup_hold(int fd, struct tw_sock *s, bool *held)
{
	*held = false;
	if (!tw_lookup(fd, s))
		return false;
	if (s->moved)
		return true;
	tw_move_lock();
	if (!tw_get(fd, s)) {
		tw_move_unlock();
		return false;
	}
	if (s->moved)
		tw_move_unlock();
	else
		*held = true;
	return true;
}

/* tw_update() callback: the move is done; the entry as it is now to arg. */
static bool tw_moved(struct tw_sock *e, void *arg)
{
	e->moved = true;
	e->neps = 0;
	*(struct tw_sock *)arg = *e;
	return true;
}

/*
 * socket(AF_TOY) failed for want of an fd or of memory: the move can work
 * later, so the call fails and the socket stays a candidate.  Leaving it
 * on TCP/UDP for good would cut it off from its AF_TOY peers (a connect()
 * to a moved listener would be refused).
 */
static bool tw_transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
}

/*
 * Caller holds the move lock.  tw_move()'s work on a candidate: 1 if fd
 * is AF_TOY now (*did tells whether this call moved it, else another
 * thread did before); 0 if it stays on the real stack or has no entry
 * any more; -1 (errno set, entry kept) if the move failed for a
 * while only (tw_transient()).  Every call that changes the entry's
 * options or epoll sets, the fd's flags or the fd holds the lock too when
 * the fd is a candidate, and close() drops the entry before it closes the
 * fd, then waits for the lock: s, taken under it, stays current, and the
 * fd stays the candidate's until the move is done.
 */
static int tw_move_locked(int fd, struct tw_sock *s, bool *did)
{
	static bool warned;
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int fl, fdfl, nfd, e, type;

	/* another thread may have moved it, decided it or closed it since s was taken */
	*did = false;
	if (!tw_get(fd, s))
		return 0;
	if (s->moved)
		return 1;
	if (__atomic_load_n(&tw_no_toy, __ATOMIC_RELAXED)) {
		errno = EAFNOSUPPORT;
		return 0;
	}
	/*
	 * Bound on the real stack already (a bind() the library did not see,
	 * or let through): the socket keeps its port there.
	 */
	if (tw_real.getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return 0;
	if (tw_addr_port((struct sockaddr *)&ss)) {
		errno = EADDRINUSE;
		return 0;
	}
	fl = tw_real.fcntl(fd, F_GETFL);
	fdfl = tw_real.fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return 0;
	type = s->type | SOCK_CLOEXEC | ((fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0);
	nfd = tw_real.socket(AF_TOY, type, 0);
	if (nfd < 0) {
		e = errno;
		if (tw_transient(e))
			return -1;
		if (e == EAFNOSUPPORT || e == EACCES || e == EPERM) {
			__atomic_store_n(&tw_no_toy, true, __ATOMIC_RELAXED);
			if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
				tw_log("AF_TOY sockets unavailable (%s): %s", strerror(e),
				       "TCP/UDP stay on the real stack");
		}
		errno = e;
		return 0;
	}
	/* the answers only the TCP/UDP socket has, asked before it goes */
	tw_opt_capture(fd, s);
	/* the options before the socket is the program's: none is missed */
	tw_opt_replay(nfd, s);
	if (tw_real.dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		e = errno;
		tw_real.close(nfd);
		errno = e;
		return 0;
	}
	tw_real.close(nfd);
	/*
	 * The epoll sets before the entry says moved: an epoll_ctl() that
	 * sees it moved acts on the AF_TOY socket directly and must find it
	 * in the sets the program put it in.
	 */
	for (int i = 0; i < s->neps; i++)
		tw_real.epoll_ctl(s->eps[i].epfd, EPOLL_CTL_ADD, fd, &s->eps[i].ev);
	if (!tw_update(fd, tw_moved, s)) {
		/* dropped meanwhile by a close() of fd, which waits for this move */
		s->moved = true;
		s->neps = 0;
	}
	*did = true;
	return 1;
}

/*
 * Replaces candidate fd by an AF_TOY socket of the same kind; s is updated
 * (the entry as stored).  1 if fd is AF_TOY now.  0 (errno set, fd
 * untouched) if AF_TOY is unavailable or the socket is bound on TCP/UDP
 * already: then the entry is dropped, the socket stays on the real stack
 * for good, and the caller makes the real call; also 0, with the entry
 * left alone, if fd has no entry any more (closed, perhaps reused by a
 * new socket meanwhile).  -1 (errno set, fd and entry untouched) if the
 * move can work later only: the caller fails with errno.
 */
static int tw_move(int fd, struct tw_sock *s, const char *why,
		   const struct sockaddr *addr)
{
	bool did;
	char a[80];
	int r;

	tw_move_lock();
	r = tw_move_locked(fd, s, &did);
	if (!r)
		tw_update(fd, tw_unless_same, s);
	tw_release(true);
	if (r > 0 && tw_verbose && did)
		tw_log("fd %d: %s%s %s -> AF_TOY %s port %u (%s)", fd, tw_kind(s),
		       s->family == AF_INET6 ? "v6" : "",
		       addr ? tw_addr_str(addr, a, sizeof(a)) : "*",
		       s->type == SOCK_STREAM ? "STREAM" : "DGRAM",
		       addr ? tw_addr_port(addr) : 0, why);
	return r;
}

/*
 * tw_update() callback: a candidate named another host and stays on the
 * real stack; arg is its entry as the caller took it.  Dropped if it is
 * still that candidate; if a move got there first, arg becomes the moved
 * entry; an entry of another socket (fd closed and reused) is kept.
 */
static bool tw_stay(struct tw_sock *e, void *arg)
{
	struct tw_sock *s = arg;

	if (e->gen != s->gen)
		return true;
	if (!e->moved)
		return false;
	*s = *e;
	return true;
}

/*
 * The decision for a socket about to use addr: 1 if fd is (now) AF_TOY
 * and addr local, -1 (errno set) if the move failed for now (tw_move()),
 * else 0.  A non-local address of the socket's family drops a candidate's
 * entry (the socket stays real), under the move lock: a move under way
 * finishes first, and then the socket, s says, is a moved one, which
 * cannot reach addr, rather than an AF_TOY socket with no entry.
 */
static int tw_decide(int fd, struct tw_sock *s, const struct sockaddr *addr,
		     socklen_t len, const char *why)
{
	if (s->moved)
		return tw_addr_local(addr, len, s->family);
	if (!tw_addr_local(addr, len, s->family)) {
		if (addr && addr->sa_family == s->family) {
			tw_move_lock();
			tw_update(fd, tw_stay, s);
			tw_move_unlock();
		}
		return 0;
	}
	return tw_move(fd, s, why, addr);
}

static int tw_fail(int err)
{
	errno = err;
	return -1;
}

/* ------------------------------------------------------------ creation */

int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), fd;
	struct tw_sock s;

	tw_resolve();
	fd = tw_real.socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	tw_drop(fd);
	if ((domain != AF_INET && domain != AF_INET6) ||
	    __atomic_load_n(&tw_no_toy, __ATOMIC_RELAXED))
		return fd;
	if (!(base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) &&
	    !(base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)))
		return fd;
	memset(&s, 0, sizeof(s));
	s.family = domain;
	s.type = base;
	s.protocol = base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	tw_put(fd, &s);
	return fd;
}

/* tw_update() callback: drops the entry; arg (a bool): it was a candidate's. */
static bool tw_drop_candidate(struct tw_sock *e, void *arg)
{
	*(bool *)arg = !e->moved;
	return false;
}

/*
 * close() drops the entry, then for a candidate waits for a move of it
 * under way (the move lock, taken and given back), and only then closes:
 * a move in the middle of its work replaces the fd before it goes, and a
 * move after the entry went finds none and leaves the fd number alone,
 * whatever the program opens there next.  The real close() is made
 * without the lock: it can take long (SO_LINGER with data unsent, on a
 * candidate that is a connected socket, e.g. a dup() of one that stayed
 * on TCP) and is a cancellation point.  An fd with no entry costs one
 * look at the table (none past its end): close() is a hot call.
 */
int close(int fd)
{
	bool cand = false;

	tw_resolve();
	if (tw_update(fd, tw_drop_candidate, &cand) && cand) {
		tw_move_lock();
		tw_move_unlock();
	}
	return tw_real.close(fd);
}

/*
 * close_range() and closefrom() (a daemon's or a JDK child's "close all
 * but 0-2") drop the entries of the fds they close, as close() does: a
 * stale entry of a moved IPv4 socket would still count as the twin of a
 * later IPv6-only socket on its port, which then stayed on TCP.  With
 * CLOSE_RANGE_CLOEXEC nothing closes yet; exec() makes a new table.
 */
static void tw_closing_range(unsigned int first, unsigned int last)
{
	if (tw_drop_range(first, last)) {
		tw_move_lock();
		tw_move_unlock();
	}
}

#ifndef SYS_close_range
#define SYS_close_range 436	/* Linux 5.9: the generic table's (x86, arm, ...) */
#endif

/* The C library's close_range(), or the system call where it has none. */
static int tw_close_range(unsigned int first, unsigned int last, int flags)
{
	if (tw_real.close_range)
		return tw_real.close_range(first, last, flags);
	return syscall(SYS_close_range, first, last, flags);
}

/*
 * Entries go only when the calling process's fds close: not with
 * CLOSE_RANGE_CLOEXEC (nothing closes yet), nor with CLOSE_RANGE_UNSHARE
 * (the fds close in a private copy of the table, and the process's other
 * threads still use them), nor with flags the kernel refuses.
 */
int close_range(unsigned int first, unsigned int last, int flags)
{
	tw_resolve();
	if (!flags && first <= last)
		tw_closing_range(first, last);
	return tw_close_range(first, last, flags);
}

/* glibc's closefrom() closes from 0 for a negative lowfd. */
void closefrom(int lowfd)
{
	unsigned int first = lowfd < 0 ? 0 : lowfd;

	tw_resolve();
	tw_closing_range(first, ~0U);
	if (tw_real.closefrom)
		tw_real.closefrom(lowfd);
	else
		tw_close_range(first, ~0U, 0);
}

/*
 * r: the result of a call that made fd's copy r (or failed), under the
 * move lock if held.
 */
static int tw_copied(int fd, int r, bool held)
{
	if (r >= 0)
		tw_copy(fd, r);
	tw_release(held);
	return r;
}

/*
 * The dup()s hold a candidate's move lock (tw_hold()): a dup() of it in
 * the middle of its move would copy the entry of one socket onto an fd of
 * the other, and a dup2() onto it would let the move's dup3() replace
 * what the program put there.
 */
int dup(int fd)
{
	bool held;

	tw_resolve();
	held = tw_hold(fd, -1);
	return tw_copied(fd, tw_real.dup(fd), held);
}

/*
 * dup2() and dup3() close what fd2 was, which can take long where that
 * was the last fd of a lingering socket.  Under the move lock (fd or fd2
 * a candidate) a spare fd of it keeps that close quick, and is closed
 * once the lock is given back, with the raw system call: dup2() is no
 * cancellation point.  With no fd to spare (EMFILE) the call goes ahead
 * without it.
 */
static int tw_dup_onto(int fd, int fd2, int flags, bool three)
{
	int r, keep = -1, e;
	bool held;

	tw_resolve();
	held = tw_hold(fd, fd2);
	if (held && fd != fd2)
		keep = tw_real.fcntl(fd2, F_DUPFD_CLOEXEC, 0);
	r = three ? tw_real.dup3(fd, fd2, flags) : tw_real.dup2(fd, fd2);
	r = tw_copied(fd, r, held);
	if (keep >= 0) {
		e = errno;
		syscall(SYS_close, keep);
		errno = e;
	}
	return r;
}

int dup2(int fd, int fd2)
{
	return tw_dup_onto(fd, fd2, 0, false);
}

int dup3(int fd, int fd2, int flags)
{
	return tw_dup_onto(fd, fd2, flags, true);
}

/*
 * fcntl() and fcntl64() (what fcntl() is with large file offsets on
 * 32-bit): the third argument, if any, passed on as a pointer-sized one.
 * F_DUPFD makes a copy, as dup() does; F_SETFL (O_NONBLOCK) and F_SETFD
 * (FD_CLOEXEC) change what a move copies: on a candidate they hold the
 * move lock, so that a move copies the flags before or after the change
 * and never loses it.
 */
#define TW_FCNTL(name)							\
int name(int fd, int cmd, ...)						\
{									\
	va_list ap;							\
	void *arg;							\
	bool held;							\
	int r;								\
									\
	tw_resolve();							\
	va_start(ap, cmd);						\
	arg = va_arg(ap, void *);					\
	va_end(ap);							\
	switch (cmd) {							\
	case F_DUPFD:							\
	case F_DUPFD_CLOEXEC:						\
		held = tw_hold(fd, -1);					\
		return tw_copied(fd, tw_real.name(fd, cmd, arg), held);	\
	case F_SETFL:							\
	case F_SETFD:							\
		held = tw_hold(fd, -1);					\
		r = tw_real.name(fd, cmd, arg);				\
		tw_release(held);					\
		return r;						\
	default:							\
		return tw_real.name(fd, cmd, arg);			\
	}								\
}

TW_FCNTL(fcntl)
TW_FCNTL(fcntl64)

/* FIONBIO, FIOCLEX and FIONCLEX: fcntl()'s F_SETFL and F_SETFD as ioctl()s. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	bool held;
	int r;

	tw_resolve();
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req != FIONBIO && req != FIOCLEX && req != FIONCLEX)
		return tw_real.ioctl(fd, req, arg);
	held = tw_hold(fd, -1);
	r = tw_real.ioctl(fd, req, arg);
	tw_release(held);
	return r;
}

struct tw_ep_change {
	int epfd;
	int op;
	struct epoll_event *ev;
};

/* tw_update() callback: records an epoll_ctl() into a candidate's entry. */
static bool tw_ep_record(struct tw_sock *s, void *arg)
{
	struct tw_ep_change *c = arg;
	int i;

	for (i = 0; i < s->neps && s->eps[i].epfd != c->epfd; i++)
		;
	if (c->op == EPOLL_CTL_DEL && i < s->neps) {
		s->eps[i] = s->eps[--s->neps];
	} else if (c->op != EPOLL_CTL_DEL && c->ev) {
		if (i == s->neps && s->neps < TW_MAX_EPOLL)
			s->neps++;
		if (i < s->neps)
			s->eps[i] = (struct tw_ep){ .epfd = c->epfd, .ev = *c->ev };
	}
	return true;
}

/*
 * The epoll sets of a candidate, for the move (tw_move()).  The call and
 * its record are one step for a move (the move lock): a set the program
 * takes the fd out of is not one the move puts it back into.
 */
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct tw_ep_change c = { epfd, op, ev };
	bool held;
	int r;

	tw_resolve();
	held = tw_hold(fd, -1);
	r = tw_real.epoll_ctl(epfd, op, fd, ev);
	if (held && r == 0)
		tw_update(fd, tw_ep_record, &c);
	tw_release(held);
	return r;
}

/* ------------------------------------------------- binding, connecting */

/* tw_update() callback: the address arg (a sockaddr_storage) was bound. */
static bool tw_set_local(struct tw_sock *s, void *arg)
{
	s->local_set = true;
	s->local = *(struct sockaddr_storage *)arg;
	return true;
}

/* What an IPv6-only socket's IPv4 twin has: its type and port. */
struct tw_twin {
	int type;
	unsigned int port;
};

/* tw_any() callback: a moved IPv4 socket of arg's type, bound to its port. */
static bool tw_is_v4_twin(const struct tw_sock *e, const void *arg)
{
	const struct tw_twin *w = arg;

	return e->moved && e->family == AF_INET && e->type == w->type &&
	       e->local_set &&
	       tw_addr_port((const struct sockaddr *)&e->local) == w->port;
}

/* tw_any() callback: a moved IPv6-only socket of arg's type on its port. */
static bool tw_is_v6only_twin(const struct tw_sock *e, const void *arg)
{
	const struct tw_twin *w = arg;

	return e->moved && e->family == AF_INET6 && e->type == w->type &&
	       e->local_set && tw_opt_v6only(e) &&
	       tw_addr_port((const struct sockaddr *)&e->local) == w->port;
}

/*
 * A dual-stack server's second listener: an IPv6-only socket (nginx's
 * "listen [::]:80", redis's "::*") binding the port of this process's
 * IPv4 socket of its type, moved, or an IPv4 one binding the port of its
 * moved IPv6-only socket (the other order).  TCP lets the two share the
 * port, one AF_TOY port space cannot: the second stays on TCP/UDP, and
 * the clients of the port, which move, reach the first, whichever
 * family they use.  Any other holder of the port (a socket that is not
 * IPv6-only, another process) makes the bind fail with EADDRINUSE, as it
 * would on TCP or could not be told apart from that.
 */
static bool tw_dual_stack_twin(int fd, const struct tw_sock *s,
			       const struct sockaddr *a, socklen_t al)
{
	struct tw_twin want = { s->type, 0 };
	socklen_t l = sizeof(int);
	int v = 0;

	if (s->moved || !tw_addr_local(a, al, s->family))
		return false;
	want.port = tw_addr_port(a);
	if (!want.port)
		return false;
	if (s->family == AF_INET)
		return tw_any(tw_is_v6only_twin, &want);
	if (tw_real.getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) < 0 || !v)
		return false;
	return tw_any(tw_is_v4_twin, &want);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr *a = addr;
	struct sockaddr_storage local;
	struct sockaddr_in any4;
	struct sockaddr_toy t;
	struct tw_sock s;
	socklen_t al = len;
	int r;

	tw_resolve();
	if (!tw_lookup(fd, &s))
		return tw_real.bind(fd, addr, len);
	/*
	 * IPv4 takes AF_UNSPEC with INADDR_ANY for its wildcard (old programs
	 * zero the whole address): so does the decision.
	 */
	if (s.family == AF_INET && addr && len >= sizeof(any4) &&
	    addr->sa_family == AF_UNSPEC &&
	    ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY)) {
		memcpy(&any4, addr, sizeof(any4));
		any4.sin_family = AF_INET;
		a = (const struct sockaddr *)&any4;
		al = sizeof(any4);
	}
	if (tw_dual_stack_twin(fd, &s, a, al)) {
		tw_move_lock();
		tw_update(fd, tw_stay, &s);
		tw_move_unlock();
		if (!s.moved) {	/* else another thread's call moved it first */
			if (tw_verbose)
				tw_log("fd %d: %s%s, port %u of its dual-stack twin: stays (bind)",
				       fd, tw_kind(&s),
				       s.family == AF_INET ? "v4" : "v6 IPv6-only",
				       tw_addr_port(a));
			return tw_real.bind(fd, addr, len);
		}
	}
	r = tw_decide(fd, &s, a, al, "bind");
	if (r < 0)
		return -1;
	if (!r)
		return tw_real.bind(fd, addr, len);
	tw_addr_toy(&t, tw_addr_port(a));
	r = tw_real.bind(fd, (struct sockaddr *)&t, sizeof(t));
	if (r == 0) {
		struct sockaddr_storage asked;
		socklen_t tl = sizeof(t);

		/* the port the kernel picked for port 0: a twin looks for it */
		memset(&asked, 0, sizeof(asked));
		memcpy(&asked, a, al < sizeof(asked) ? al : sizeof(asked));
		if (tw_real.getsockname(fd, (struct sockaddr *)&t, &tl) < 0)
			t.stoy_port = tw_addr_port(a);
		tw_addr_make(&local, s.family, &asked, false, t.stoy_port);
		tw_update(fd, tw_set_local, &local);
	}
	return r;
}

int listen(int fd, int backlog)
{
	struct sockaddr_storage any;
	struct tw_sock s;

	tw_resolve();
	if (tw_lookup(fd, &s) && !s.moved && s.type == SOCK_STREAM) {
		/*
		 * listen() without bind(): TCP binds the wildcard.  A socket
		 * bound on TCP already stays there (tw_move()).
		 */
		tw_addr_make(&any, s.family, NULL, false, 0);
		if (tw_move(fd, &s, "listen", (struct sockaddr *)&any) < 0)
			return -1;
	}
	return tw_real.listen(fd, backlog);
}

/* tw_update() callback: the peer is arg (a sockaddr_storage), or none. */
static bool tw_set_peer(struct tw_sock *s, void *arg)
{
	s->peer_set = !!arg;
	if (arg)
		s->peer = *(struct sockaddr_storage *)arg;
	return true;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage peer;
	struct sockaddr_toy t;
	struct tw_sock s;
	int r;

	tw_resolve();
	if (!tw_lookup(fd, &s))
		return tw_real.connect(fd, addr, len);
	if (addr && len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
		if (s.moved)
			tw_update(fd, tw_set_peer, NULL);
		return tw_real.connect(fd, addr, len);
	}
	r = tw_decide(fd, &s, addr, len, "connect");
	if (r < 0)
		return -1;
	if (!r) {
		if (s.moved)
			return tw_fail(addr && addr->sa_family == s.family ?
				       ENETUNREACH : EAFNOSUPPORT);
		return tw_real.connect(fd, addr, len);
	}
	tw_addr_toy(&t, tw_addr_port(addr));
	memset(&peer, 0, sizeof(peer));
	memcpy(&peer, addr, len < sizeof(peer) ? len : sizeof(peer));
	tw_update(fd, tw_set_peer, &peer);
	r = tw_real.connect(fd, (struct sockaddr *)&t, sizeof(t));
	if (r < 0) {
		int e = errno;

		/* not connected there: the old peer (UDP) or none stays */
		tw_update(fd, tw_set_peer, s.peer_set ? &s.peer : NULL);
		errno = e;
	}
	return r;
}

static void tw_accepted(int lfd, const struct tw_sock *ls, int fd,
			const struct sockaddr_toy *t, struct sockaddr *addr,
			socklen_t *addrlen)
{
	struct sockaddr_storage ss;
	struct tw_sock s;
	socklen_t n;

	memset(&s, 0, sizeof(s));
	s.moved = true;
	s.family = ls->family;
	s.type = ls->type;
	s.protocol = ls->protocol;
	s.local_set = ls->local_set;
	s.local = ls->local;
	/*
	 * The options the program set on the listener, which TCP gives its
	 * connections too; not the answers captured at its move (TCP gives a
	 * connection the TCP_CONGESTION default of when it comes, unless the
	 * listener set one).
	 */
	for (int i = 0; i < ls->nopts; i++)
		if (!ls->opts[i].captured)
			s.opts[s.nopts++] = ls->opts[i];
	tw_put(fd, &s);
	n = tw_addr_make(&ss, s.family, NULL, true, t->stoy_port);
	tw_addr_out(&ss, n, addr, addrlen);
	if (tw_verbose) {
		char a[80];

		tw_log("fd %d: %s%s %s accepted on fd %d (AF_TOY %s port %u)", fd,
		       tw_kind(&s), s.family == AF_INET6 ? "v6" : "",
		       tw_addr_str((struct sockaddr *)&ss, a, sizeof(a)), lfd,
		       s.type == SOCK_STREAM ? "STREAM" : "DGRAM", t->stoy_port);
	}
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct sockaddr_toy t;
	socklen_t tl = sizeof(t);
	struct tw_sock s;
	int nfd;

	tw_resolve();
	if (!tw_lookup(fd, &s) || !s.moved) {
		nfd = tw_real.accept4(fd, addr, addrlen, flags);
		tw_drop(nfd);
		return nfd;
	}
	memset(&t, 0, sizeof(t));
	nfd = tw_real.accept4(fd, (struct sockaddr *)&t, &tl, flags);
	if (nfd >= 0)
		tw_accepted(fd, &s, nfd, &t, addr, addrlen);
	return nfd;
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return accept4(fd, addr, addrlen, 0);
}

/* ------------------------------------------------------------- naming */

/*
 * getsockname() (peer false) or getpeername() of fd; a candidate's under
 * the move lock, as in the middle of its move the real call would answer
 * with the AF_TOY address.
 */
static int tw_name(int fd, struct sockaddr *addr, socklen_t *addrlen, bool peer)
{
	int (*real)(int, struct sockaddr *, socklen_t *);
	const struct sockaddr_storage *named;
	struct sockaddr_storage ss;
	struct sockaddr_toy t, p;
	socklen_t tl = sizeof(t), pl = sizeof(p), n;
	struct tw_sock s;
	bool connected, held;
	int r;

	tw_resolve();
	real = peer ? tw_real.getpeername : tw_real.getsockname;
	if (!tw_lookup_hold(fd, &s, &held) || held) {
		r = real(fd, addr, addrlen);
		tw_release(held);
		return r;
	}
	if (!addrlen)
		return tw_fail(EFAULT);
	if (real(fd, (struct sockaddr *)&t, &tl) < 0)
		return -1;
	/* As the kernel, after its own checks: no room needed if none asked. */
	if ((int)*addrlen < 0)
		return tw_fail(EINVAL);
	if (!addr && *addrlen)
		return tw_fail(EFAULT);
	if (peer) {
		connected = true;
		named = s.peer_set ? &s.peer : NULL;
	} else {
		connected = tw_real.getpeername(fd, (struct sockaddr *)&p, &pl) == 0;
		named = s.local_set ? &s.local : NULL;
	}
	n = tw_addr_make(&ss, s.family, named, connected, t.stoy_port);
	if (addr)
		tw_addr_out(&ss, n, addr, addrlen);
	else
		*addrlen = n;	/* the length it would have taken */
	return 0;
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return tw_name(fd, addr, addrlen, false);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return tw_name(fd, addr, addrlen, true);
}

/* ------------------------------------------------------------ options */

/*
 * A candidate's options are set and recorded as one step for a move (the
 * move lock): the move replays each one, in its latest value, onto the
 * AF_TOY socket before it replaces the candidate.
 */
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct tw_opt_change c = { level, name, val, len, false };
	struct tw_sock s;
	bool held;
	int r, v;

	tw_resolve();
	if (!tw_lookup_hold(fd, &s, &held))
		return tw_real.setsockopt(fd, level, name, val, len);
	if (!held)
		return tw_opt_set(fd, &s, level, name, val, len);
	r = tw_real.setsockopt(fd, level, name, val, len);
	if (r == 0) {
		/* as a moved socket will answer it: as the kernel kept it */
		tw_opt_kept(&c, &v);
		tw_update(fd, tw_opt_record, &c);
	}
	tw_release(held);
	return r;
}

/* A candidate's under the move lock: mid-move, AF_TOY would answer. */
int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct tw_sock s;
	bool held;
	int r;

	tw_resolve();
	if (tw_lookup_hold(fd, &s, &held) && !held)
		return tw_opt_get(fd, &s, level, name, val, len);
	r = tw_real.getsockopt(fd, level, name, val, len);
	tw_release(held);
	return r;
}

/* --------------------------------------------------------------- data */

/*
 * The AF_TOY destination for a send with an address: 1 with *t set (or
 * *drop: send without the address), 0 if fd is no moved socket (send as it
 * is), -1 with errno set.  TCP ignores the address of a send on a
 * connection, but MSG_FASTOPEN's, which connects first: so does this.
 */
static int tw_dest(int fd, const struct sockaddr *addr, socklen_t len,
		   struct sockaddr_toy *t, bool *drop, int *flags)
{
	struct tw_sock s;
	int r;

	*drop = false;
	if (!addr || !tw_lookup(fd, &s))
		return 0;
	if (s.type == SOCK_STREAM) {
		/* a candidate moved by another thread meanwhile: as a moved one */
		if (!s.moved) {
			r = tw_decide(fd, &s, addr, len, "sendto");
			if (r < 0)
				return -1;
			if (!r && !s.moved)
				return 0;
		}
		if (*flags & MSG_FASTOPEN) {
			if (connect(fd, addr, len) < 0 && errno != EISCONN)
				return -1;
			*flags &= ~MSG_FASTOPEN;
		}
		*drop = true;
		return 1;
	}
	r = tw_decide(fd, &s, addr, len, "sendto");
	if (r < 0)
		return -1;
	if (!r)
		return s.moved ? tw_fail(ENETUNREACH) : 0;
	tw_addr_toy(t, tw_addr_port(addr));
	return 1;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_toy t;
	bool drop;
	int r;

	tw_resolve();
	r = tw_dest(fd, addr, len, &t, &drop, &flags);
	if (r < 0)
		return -1;
	if (r == 0)
		return tw_real.sendto(fd, buf, n, flags, addr, len);
	if (drop)
		return tw_real.sendto(fd, buf, n, flags, NULL, 0);
	return tw_real.sendto(fd, buf, n, flags, (struct sockaddr *)&t, sizeof(t));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sockaddr_toy t;
	struct msghdr m;
	bool drop;
	int r;

	tw_resolve();
	if (!msg)
		return tw_real.sendmsg(fd, msg, flags);
	r = tw_dest(fd, msg->msg_name, msg->msg_namelen, &t, &drop, &flags);
	if (r < 0)
		return -1;
	if (r == 0)
		return tw_real.sendmsg(fd, msg, flags);
	m = *msg;
	m.msg_name = drop ? NULL : &t;
	m.msg_namelen = drop ? 0 : sizeof(t);
	return tw_real.sendmsg(fd, &m, flags);
}

/*
 * A received AF_TOY source as the program's family sees it: the address
 * a connected socket named for its peer's port (127.0.0.53, an
 * IPv4-mapped one: resolvers check that the reply comes from where the
 * query went), else loopback.
 */
static void tw_source(const struct tw_sock *s, const struct sockaddr_toy *t,
		      socklen_t tl, struct sockaddr *addr, socklen_t *addrlen)
{
	const struct sockaddr_storage *peer = NULL;
	struct sockaddr_storage ss;
	socklen_t n;

	if (!tl || t->stoy_family != AF_TOY) {
		*addrlen = 0;
		return;
	}
	if (s->peer_set &&
	    tw_addr_port((const struct sockaddr *)&s->peer) == t->stoy_port)
		peer = &s->peer;
	n = tw_addr_make(&ss, s->family, peer, true, t->stoy_port);
	tw_addr_out(&ss, n, addr, addrlen);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
		 socklen_t *addrlen)
{
	struct sockaddr_toy t;
	socklen_t tl = sizeof(t);
	struct tw_sock s;
	ssize_t r;

	tw_resolve();
	if (!addr || !addrlen || !tw_lookup(fd, &s) || !s.moved)
		return tw_real.recvfrom(fd, buf, n, flags, addr, addrlen);
	memset(&t, 0, sizeof(t));
	r = tw_real.recvfrom(fd, buf, n, flags, (struct sockaddr *)&t, &tl);
	if (r >= 0)
		tw_source(&s, &t, tl, addr, addrlen);
	return r;
}

/*
 * _FORTIFY_SOURCE (Debian builds its packages with it) turns a recvfrom()
 * into a buffer of known size but a length that is not constant into
 * __recvfrom_chk(), which the C library serves without calling
 * recvfrom(): the same check, then the same translation.
 */
extern void __chk_fail(void) __attribute__((noreturn));

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, addr, addrlen);
}

/* lo's, in every netns (the kernel's LOOPBACK_IFINDEX) */
#define TW_LO_IFINDEX 1

/* Whether a moved UDP socket asked for IP_PKTINFO/IPV6_RECVPKTINFO. */
static bool tw_wants_pktinfo(const struct tw_sock *s)
{
	if (s->type != SOCK_DGRAM)
		return false;
	if (s->family == AF_INET)
		return tw_opt_int(s, IPPROTO_IP, IP_PKTINFO);
	return tw_opt_int(s, IPPROTO_IPV6, IPV6_RECVPKTINFO);
}

/* The IP_PKTINFO/IPV6_PKTINFO message of a datagram to socket s, into c. */
static size_t tw_pktinfo(const struct tw_sock *s, struct cmsghdr *c)
{
	bool v4 = s->family == AF_INET;
	size_t len = v4 ? sizeof(struct in_pktinfo) : sizeof(struct in6_pktinfo);
	struct sockaddr_storage to;

	tw_addr_make(&to, s->family, s->local_set ? &s->local : NULL, true, 0);
	memset(c, 0, CMSG_SPACE(len));
	c->cmsg_len = CMSG_LEN(len);
	if (v4) {
		struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		pi->ipi_ifindex = TW_LO_IFINDEX;
		pi->ipi_spec_dst = ((struct sockaddr_in *)&to)->sin_addr;
		pi->ipi_addr = pi->ipi_spec_dst;
	} else {
		struct in6_pktinfo *pi = (struct in6_pktinfo *)CMSG_DATA(c);

		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		pi->ipi6_ifindex = TW_LO_IFINDEX;
		pi->ipi6_addr = ((struct sockaddr_in6 *)&to)->sin6_addr;
	}
	return len;
}

/*
 * The IP_PKTINFO/IPV6_PKTINFO message UDP gives, which AF_TOY has none
 * of, after the @used bytes of @cap the kernel filled: the interface lo
 * and, as the destination, the address the socket is bound to, loopback
 * if the wildcard (a datagram carries ports only, so a wildcard socket
 * cannot tell 127.0.0.53 from 127.0.0.1).  Short of room, as put_cmsg():
 * MSG_CTRUNC and no message below a header, else as much as fits.
 */
static void tw_add_pktinfo(const struct tw_sock *s, struct msghdr *msg,
			   size_t used, size_t cap)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} u;
	size_t len = tw_pktinfo(s, &u.c), room = cap > used ? cap - used : 0;
	size_t cmlen = CMSG_LEN(len);

	if (!msg->msg_control || room < sizeof(struct cmsghdr)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	u.c.cmsg_len = cmlen;
	memcpy((char *)msg->msg_control + used, u.b, cmlen);
	msg->msg_controllen = used + (room < CMSG_SPACE(len) ? room : CMSG_SPACE(len));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sockaddr_toy t;
	struct msghdr m;
	struct tw_sock s;
	bool pktinfo;
	size_t cap;
	ssize_t r;

	tw_resolve();
	/*
	 * Nothing to translate without an address or a control buffer (a
	 * hot path: no system call to check the entry), unless PKTINFO is
	 * wanted, whose message then sets MSG_CTRUNC, as UDP's would.
	 */
	if (msg && !msg->msg_name && !msg->msg_control &&
	    (!tw_get(fd, &s) || !s.moved || !tw_wants_pktinfo(&s)))
		return tw_real.recvmsg(fd, msg, flags);
	if (!msg || !tw_lookup(fd, &s) || !s.moved)
		return tw_real.recvmsg(fd, msg, flags);
	pktinfo = tw_wants_pktinfo(&s);
	cap = msg->msg_controllen;
	if (!msg->msg_name && !pktinfo)
		return tw_real.recvmsg(fd, msg, flags);
	memset(&t, 0, sizeof(t));
	m = *msg;
	m.msg_name = &t;
	m.msg_namelen = sizeof(t);
	r = tw_real.recvmsg(fd, &m, flags);
	if (r < 0)
		return r;
	msg->msg_controllen = m.msg_controllen;
	msg->msg_flags = m.msg_flags;
	/* a datagram names its sender; none: no datagram (after SHUT_RD) */
	if (pktinfo && m.msg_namelen)
		tw_add_pktinfo(&s, msg, m.msg_controllen, cap);
	if (msg->msg_name)
		tw_source(&s, &t, m.msg_namelen, msg->msg_name, &msg->msg_namelen);
	return r;
}

/*
 * The copies sendmmsg() and recvmmsg() hand on: *vlen (cut to UIO_MAXIOV)
 * messages and as many zeroed AF_TOY addresses; false if out of memory.
 */
static bool tw_mmsg_alloc(unsigned int *vlen, struct mmsghdr **m,
			  struct sockaddr_toy **t)
{
	if (*vlen > UIO_MAXIOV)
		*vlen = UIO_MAXIOV;
	*m = malloc(*vlen * sizeof(**m));
	*t = calloc(*vlen, sizeof(**t));
	if (*m && *t)
		return true;
	free(*m);
	free(*t);
	return false;
}

/*
 * The batched calls: each message's address as in sendmsg()/recvmsg(), on
 * copies of the headers (the kernel takes at most UIO_MAXIOV of them).  A
 * send stops before the first message whose address cannot be reached:
 * the ones before it go, as the kernel stops at a failing message.
 */
int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct sockaddr_toy *t;
	struct mmsghdr *m;
	struct tw_sock s;
	unsigned int n, i;
	int r = 0, f, e = 0;
	bool drop;

	tw_resolve();
	if (!vec || !vlen || !tw_get(fd, &s))
		return tw_real.sendmmsg(fd, vec, vlen, flags);
	if (!tw_mmsg_alloc(&vlen, &m, &t))
		return tw_fail(ENOMEM);
	for (n = 0; n < vlen; n++) {
		m[n] = vec[n];
		f = flags;
		r = tw_dest(fd, vec[n].msg_hdr.msg_name, vec[n].msg_hdr.msg_namelen, &t[n],
			    &drop, &f);
		if (r < 0) {
			e = errno;
			break;
		}
		if (r > 0) {
			m[n].msg_hdr.msg_name = drop ? NULL : &t[n];
			m[n].msg_hdr.msg_namelen = drop ? 0 : sizeof(t[n]);
		}
	}
	if (n) {
		r = tw_real.sendmmsg(fd, m, n, flags);
		for (i = 0; r > 0 && i < (unsigned int)r; i++)
			vec[i].msg_len = m[i].msg_len;
	} else {
		r = -1;
	}
	free(m);
	free(t);
	/* the first message that failed says why: the kernel's, if it sent none */
	if (!n)
		errno = e;
	return r;
}

int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
	     struct timespec *tmo)
{
	struct sockaddr_toy *t;
	struct mmsghdr *m;
	struct tw_sock s;
	unsigned int i;
	bool pktinfo;
	int r;

	tw_resolve();
	if (!vec || !vlen || !tw_lookup(fd, &s) || !s.moved)
		return tw_real.recvmmsg(fd, vec, vlen, flags, tmo);
	if (!tw_mmsg_alloc(&vlen, &m, &t))
		return tw_fail(ENOMEM);
	pktinfo = tw_wants_pktinfo(&s);
	for (i = 0; i < vlen; i++) {
		m[i] = vec[i];
		/* pktinfo: the name tells a datagram from none */
		if (vec[i].msg_hdr.msg_name || pktinfo) {
			m[i].msg_hdr.msg_name = &t[i];
			m[i].msg_hdr.msg_namelen = sizeof(t[i]);
		}
	}
	r = tw_real.recvmmsg(fd, m, vlen, flags, tmo);
	for (i = 0; r > 0 && i < (unsigned int)r; i++) {
		size_t cap = vec[i].msg_hdr.msg_controllen;

		vec[i].msg_len = m[i].msg_len;
		vec[i].msg_hdr.msg_flags = m[i].msg_hdr.msg_flags;
		vec[i].msg_hdr.msg_controllen = m[i].msg_hdr.msg_controllen;
		if (pktinfo && m[i].msg_hdr.msg_namelen)
			tw_add_pktinfo(&s, &vec[i].msg_hdr, m[i].msg_hdr.msg_controllen, cap);
		if (vec[i].msg_hdr.msg_name)
			tw_source(&s, &t[i], m[i].msg_hdr.msg_namelen, vec[i].msg_hdr.msg_name,
				  &vec[i].msg_hdr.msg_namelen);
	}
	free(m);
	free(t);
	return r;
}

/* ---------------------------------------------------------- start-up */

/* fd, inherited across execve(): an AF_TOY socket a wrapped parent moved? */
static void tw_adopt_fd(int fd)
{
	struct sockaddr_toy t;
	struct tw_sock s;
	int dom, type;
	socklen_t l;

	l = sizeof(dom);
	if (tw_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) < 0 ||
	    dom != AF_TOY)
		return;
	l = sizeof(type);
	if (tw_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM))
		return;
	memset(&s, 0, sizeof(s));
	s.moved = true;
	s.family = AF_INET;
	s.type = type;
	s.protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	l = sizeof(t);
	if (tw_real.getsockname(fd, (struct sockaddr *)&t, &l) == 0 && t.stoy_port) {
		/* its port, for a dual-stack twin (tw_dual_stack_twin()) */
		tw_addr_make(&s.local, AF_INET, NULL, false, t.stoy_port);
		s.local_set = true;
	}
	tw_put(fd, &s);
}

/*
 * Sockets a wrapped parent moved and handed over across execve(): the
 * table did not survive the exec, the AF_TOY socket did.  Their IP family
 * is not recorded anywhere the kernel keeps: IPv4 is assumed.  The open
 * fds are listed in /proc/self/fd; without /proc, every fd below the fd
 * limit (up to 65536) is asked.
 */
static void tw_adopt_inherited(void)
{
	struct rlimit rl;
	struct dirent *e;
	int fd, max;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (d) {
		while ((e = readdir(d))) {
			char *end;
			long v = strtol(e->d_name, &end, 10);

			if (*end || end == e->d_name || v == dirfd(d))
				continue;
			tw_adopt_fd((int)v);
		}
		closedir(d);
		return;
	}
	max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ?
	      (int)rl.rlim_cur : 65536;
	for (fd = 0; fd < max; fd++)
		tw_adopt_fd(fd);
}

__attribute__((constructor)) static void tw_init(void)
{
	const char *v = getenv("TOYWRAP_VERBOSE");

	tw_resolve();
	tw_fdtab_init();
	tw_verbose = v && *v && strcmp(v, "0");
	tw_adopt_inherited();
}

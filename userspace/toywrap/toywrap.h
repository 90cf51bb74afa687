/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libtoywrap: an LD_PRELOAD library that moves a program's loopback TCP and
 * UDP sockets onto AF_TOY, while the program keeps seeing TCP/UDP.
 *
 * Locking: one mutex guards the fd table (fdtab.c); readers copy an entry
 * out under it, writers change the entry in place under it (tw_update()),
 * and nobody sleeps while holding it, so a blocking accept() or recvmsg()
 * in one thread never stalls another.  A second mutex, taken before the
 * table's and never after it, serialises the moves (tw_move_lock()): a
 * move holds it across a few quick system calls (socket, setsockopt, dup3,
 * epoll_ctl), and its holder cannot be cancelled meanwhile, so that no
 * cancellation point ends a thread that holds it.  The calls that would
 * otherwise interleave with a candidate's move hold it too, while their fd
 * is a candidate, around the one quick system call they make:
 * setsockopt(), epoll_ctl(), fcntl()'s F_SETFL and F_SETFD, ioctl()'s
 * FIONBIO, FIOCLEX and FIONCLEX, and the dup()s, which change what the
 * move copies or replaces, and getsockopt(), getsockname() and
 * getpeername(), which would show a half-moved socket; a candidate sent to
 * another host (bind(), connect(), sendto()) loses its entry under it,
 * unless a move got there first.  Each of them happens wholly before or
 * wholly after the move: an option or a flag is neither lost nor replayed
 * over a newer one, an epoll set the fd left is not given it back, and no
 * AF_TOY socket is left without its entry.  No close that can take long
 * (SO_LINGER with data unsent) is made under it: close() drops the entry,
 * waits for a move of the fd under way (takes the lock and gives it back)
 * and closes without it, and a dup2() onto an fd keeps a spare fd of the
 * file it replaces, closed once the lock is given back.  The move's dup3()
 * still never lands on an fd number closed and reused meanwhile: a move
 * looks at the entry again under the lock, and an fd closed before that
 * has none.  Such a call first looks at the entry and takes the lock only
 * for a candidate, then looks again under it (a move may have finished
 * meanwhile): calls on fds with no entry or a moved one, and blocking
 * calls (which would stall every move), never take it.  Another thread
 * seeing the fd half-moved waits for the move to finish instead of taking
 * the entry for stale.  Two threads racing on one fd (a close against a
 * connect) race as they would without the library: the kernel decides, the
 * table follows the winner.
 * The wrappers are not async-signal-safe (a close() in a signal handler
 * that interrupted a wrapper of the same thread would wait for itself).
 */
#ifndef TOYWRAP_H
#define TOYWRAP_H

#include <stdbool.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

#include <linux/toy.h>

#define TW_MAX_OPTS	24
#define TW_OPT_MAX_LEN	64
#define TW_MAX_EPOLL	4

/*
 * A setsockopt() the program made, replayed or answered later; or
 * (captured) an answer the TCP/UDP socket gave at its move, which the
 * program did not set, so that an accepted socket does not inherit it.
 */
struct tw_opt {
	int level;
	int name;
	bool captured;
	socklen_t len;
	unsigned char val[TW_OPT_MAX_LEN];
};

/* An epoll set a candidate is in: the move puts the new socket there too. */
struct tw_ep {
	int epfd;
	struct epoll_event ev;
};

/*
 * What the program believes about one of its sockets.  A candidate is still
 * the original TCP/UDP socket (nothing decided yet); a moved one is AF_TOY
 * underneath.  Sockets decided to stay TCP/UDP have no entry.
 */
struct tw_sock {
	unsigned long gen;		/* which socket: new for each tw_put() */
	bool moved;
	int family;			/* AF_INET or AF_INET6 */
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	int protocol;			/* IPPROTO_TCP or IPPROTO_UDP */
	bool local_set;			/* local: the address bind() named */
	struct sockaddr_storage local;
	bool peer_set;			/* peer: the address connect() named */
	struct sockaddr_storage peer;
	int nopts;
	struct tw_opt opts[TW_MAX_OPTS];
	int neps;			/* candidates only */
	struct tw_ep eps[TW_MAX_EPOLL];
};

/* The C library's functions the wrappers call through (calls.c). */
struct tw_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*ioctl)(int, unsigned long, ...);
};

extern struct tw_real tw_real;
void tw_resolve(void);

/* fdtab.c: the per-fd table; tw_get() copies an entry out, false if none. */
bool tw_get(int fd, struct tw_sock *out);
bool tw_update(int fd, bool (*fn)(struct tw_sock *s, void *arg), void *arg);
void tw_put(int fd, const struct tw_sock *s);
void tw_drop(int fd);
bool tw_drop_range(unsigned int first, unsigned int last);
void tw_copy(int from, int to);
bool tw_any(bool (*fn)(const struct tw_sock *s, const void *arg),
	    const void *arg);
void tw_move_lock(void);
void tw_move_unlock(void);
void tw_fdtab_init(void);

/* addr.c: which addresses move, and the translation both ways. */
bool tw_addr_local(const struct sockaddr *a, socklen_t len, int family);
bool tw_addr_wildcard(const struct sockaddr *a);
unsigned int tw_addr_port(const struct sockaddr *a);
void tw_addr_toy(struct sockaddr_toy *t, unsigned int port);
socklen_t tw_addr_make(struct sockaddr_storage *ss, int family,
		       const struct sockaddr_storage *like, bool loopback,
		       unsigned int port);
void tw_addr_out(const struct sockaddr_storage *ss, socklen_t len,
		 struct sockaddr *addr, socklen_t *addrlen);
const char *tw_addr_str(const struct sockaddr *a, char *buf, size_t size);

/* opts.c: options with no meaning on AF_TOY, remembered and answered. */
struct tw_opt_change {			/* a setsockopt() to record */
	int level;
	int name;
	const void *val;
	socklen_t len;
	bool captured;			/* tw_opt_capture()'s: never over a set one */
};

bool tw_opt_record(struct tw_sock *s, void *change);
void tw_opt_capture(int fd, struct tw_sock *s);
void tw_opt_kept(struct tw_opt_change *c, int *v);
bool tw_opt_v6only(const struct tw_sock *s);
int tw_opt_int(const struct tw_sock *s, int level, int name);
int tw_opt_set(int fd, const struct tw_sock *s, int level, int name,
	       const void *val, socklen_t len);
int tw_opt_get(int fd, const struct tw_sock *s, int level, int name,
	       void *val, socklen_t *len);
void tw_opt_replay(int fd, const struct tw_sock *s);

/* calls.c */
void tw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool tw_verbose;

#endif /* TOYWRAP_H */

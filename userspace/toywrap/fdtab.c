// SPDX-License-Identifier: GPL-2.0
/*
 * The per-fd table of libtoywrap: entry i describes fd i.  One mutex guards
 * the whole table; it is never held across a system call, so it only
 * orders short memory copies and updates.  Readers take a copy
 * (tw_get()); writers change the entry in place under the lock
 * (tw_update()), never by storing back a copy taken before a system call:
 * another thread may have moved the socket meanwhile, and an old copy
 * written back would make a moved socket a candidate again.
 * After fork() the child has its own copy of the table, as of its own fds;
 * fork() takes both locks first (pthread_atfork()), so that the child never
 * starts with one held by a thread it does not have.  A vfork() child (a
 * JDK's, which closes every fd above 2 before its exec) shares the
 * parent's memory, table included, but has fds of its own, and no
 * pthread_atfork() handler runs for it: tw_pid, the process the table
 * describes, is not its pid, and it leaves the table as it is (its calls
 * read entries, and change only its own fds).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toywrap.h"

static pthread_mutex_t tw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tw_mlock = PTHREAD_MUTEX_INITIALIZER;	/* moves */
static int tw_mlock_cancel;	/* the cancel state its holder had: under it */
static struct tw_sock **tw_tab;
static int tw_size;	/* written under tw_lock; read without it by tw_update() */
static unsigned long tw_gen;
static pid_t tw_pid;	/* set at start and in a fork() child */

/*
 * A vfork() child (or another CLONE_VM one): hands off the table.  Not
 * before our constructor ran (tw_pid 0): another library's constructor may
 * make sockets first.  A system call: asked before tw_lock, and only to
 * change the table.  A child of a raw clone() or of _Fork(), which run no
 * pthread_atfork() handler, is taken for one too, for its whole life.
 */
static bool tw_foreign(void)
{
	pid_t owner = __atomic_load_n(&tw_pid, __ATOMIC_RELAXED);

	return owner && getpid() != owner;
}

/* Caller holds tw_lock.  Grows the table to hold fd; false if out of memory. */
static bool tw_room(int fd)
{
	struct tw_sock **t;
	int n = tw_size ? tw_size : 64;

	if (fd < tw_size)
		return true;
	while (n <= fd)
		n *= 2;
	t = realloc(tw_tab, n * sizeof(*t));
	if (!t)
		return false;
	memset(t + tw_size, 0, (n - tw_size) * sizeof(*t));
	tw_tab = t;
	__atomic_store_n(&tw_size, n, __ATOMIC_RELAXED);
	return true;
}

static bool tw_copy_out(struct tw_sock *s, void *out)
{
	*(struct tw_sock *)out = *s;
	return true;	/* keep it */
}

/*
 * Applies fn to fd's entry under the lock (to a copy of it if @foreign:
 * its answer, not its changes); fn returns false to drop the entry.  fn
 * must be quick and make no system call.  False if fd has no entry (fn
 * not called).  An fd past the end of the table has none and is answered
 * without the lock (close() of every fd comes here): the table grows for
 * an fd before the wrapper that made it (socket(), accept(), dup())
 * returns it, so a thread that has the fd sees the table grown.
 */
static bool tw_apply(int fd, bool (*fn)(struct tw_sock *s, void *arg),
		     void *arg, bool foreign)
{
	struct tw_sock *old = NULL;
	bool found = false;

	pthread_mutex_lock(&tw_lock);
	if (fd < tw_size && tw_tab[fd]) {
		found = true;
		if (foreign) {
			struct tw_sock copy = *tw_tab[fd];

			fn(&copy, arg);
		} else if (!fn(tw_tab[fd], arg)) {
			old = tw_tab[fd];
			tw_tab[fd] = NULL;
		}
	}
	pthread_mutex_unlock(&tw_lock);
	free(old);
	return found;
}

/* Whether fd may have an entry: a quick look before the lock. */
static bool tw_in_table(int fd)
{
	return fd >= 0 && fd < __atomic_load_n(&tw_size, __ATOMIC_RELAXED);
}

/* A read: no tw_foreign() and its system call. */
bool tw_get(int fd, struct tw_sock *out)
{
	return tw_in_table(fd) && tw_apply(fd, tw_copy_out, out, false);
}

bool tw_update(int fd, bool (*fn)(struct tw_sock *s, void *arg), void *arg)
{
	return tw_in_table(fd) && tw_apply(fd, fn, arg, tw_foreign());
}

/* A new entry for fd (a new socket, an accepted or inherited one). */
void tw_put(int fd, const struct tw_sock *s)
{
	if (fd < 0 || tw_foreign())
		return;
	pthread_mutex_lock(&tw_lock);
	if (tw_room(fd)) {
		if (!tw_tab[fd])
			tw_tab[fd] = malloc(sizeof(*s));
		if (tw_tab[fd]) {
			*tw_tab[fd] = *s;
			tw_tab[fd]->gen = ++tw_gen;
		}
	}
	pthread_mutex_unlock(&tw_lock);
}

/*
 * Held across a move's system calls; taken before tw_lock, never after.
 * Its holder cannot be cancelled (pthread_cancel()): a cancellation point
 * under it (the move's close() of its spare fd, tw_log()'s write) would
 * end the thread with the lock held, and every later move, candidate call
 * and fork() would wait for it forever.  A cancel that came meanwhile
 * acts at the thread's next cancellation point, once the lock is free.
 */
void tw_move_lock(void)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&tw_mlock);
	tw_mlock_cancel = old;
}

void tw_move_unlock(void)
{
	int old = tw_mlock_cancel;

	pthread_mutex_unlock(&tw_mlock);
	pthread_setcancelstate(old, NULL);
}

static void tw_fork_prepare(void)
{
	pthread_mutex_lock(&tw_mlock);
	pthread_mutex_lock(&tw_lock);
}

static void tw_fork_done(void)
{
	pthread_mutex_unlock(&tw_lock);
	pthread_mutex_unlock(&tw_mlock);
}

static void tw_fork_child(void)
{
	__atomic_store_n(&tw_pid, getpid(), __ATOMIC_RELAXED);
	tw_fork_done();
}

void tw_fdtab_init(void)
{
	__atomic_store_n(&tw_pid, getpid(), __ATOMIC_RELAXED);
	pthread_atfork(tw_fork_prepare, tw_fork_done, tw_fork_child);
}

void tw_drop(int fd)
{
	struct tw_sock *old = NULL;

	if (fd < 0 || tw_foreign())
		return;
	pthread_mutex_lock(&tw_lock);
	if (fd < tw_size) {
		old = tw_tab[fd];
		tw_tab[fd] = NULL;
	}
	pthread_mutex_unlock(&tw_lock);
	free(old);
}

/*
 * close_range() and closefrom(): drops the entries of fds @first..@last
 * under one lock (freed under it: free() makes none of our calls); a
 * vfork() child only looks.  Whether one of them was a candidate, whose
 * move under way must end before the fds close, as for close().
 */
bool tw_drop_range(unsigned int first, unsigned int last)
{
	bool foreign = tw_foreign(), cand = false;
	unsigned int fd;

	pthread_mutex_lock(&tw_lock);
	for (fd = first; fd < (unsigned int)tw_size && fd <= last; fd++) {
		if (!tw_tab[fd])
			continue;
		cand |= !tw_tab[fd]->moved;
		if (!foreign) {
			free(tw_tab[fd]);
			tw_tab[fd] = NULL;
		}
	}
	pthread_mutex_unlock(&tw_lock);
	return cand;
}

/* Whether fn() is true of some entry (fn quick, no system call). */
bool tw_any(bool (*fn)(const struct tw_sock *s, const void *arg),
	    const void *arg)
{
	bool found = false;
	int fd;

	pthread_mutex_lock(&tw_lock);
	for (fd = 0; fd < tw_size && !found; fd++)
		found = tw_tab[fd] && fn(tw_tab[fd], arg);
	pthread_mutex_unlock(&tw_lock);
	return found;
}

/* dup() and friends: the new fd is the same socket (one snapshot). */
void tw_copy(int from, int to)
{
	struct tw_sock *old = NULL;

	if (from == to || from < 0 || to < 0 || tw_foreign())
		return;
	pthread_mutex_lock(&tw_lock);
	if (from < tw_size && tw_tab[from] && tw_room(to)) {
		if (!tw_tab[to])
			tw_tab[to] = malloc(sizeof(*tw_tab[to]));
		if (tw_tab[to])
			*tw_tab[to] = *tw_tab[from];
	} else if (to < tw_size) {
		old = tw_tab[to];
		tw_tab[to] = NULL;
	}
	pthread_mutex_unlock(&tw_lock);
	free(old);
}

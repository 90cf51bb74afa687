// SPDX-License-Identifier: GPL-2.0
/*
 * The per-fd table of libtoywrap: entry i describes fd i.  One mutex guards
 * the whole table (the entries are copied in and out under it); it is
 * never held across a system call, so it only orders short memory copies.
 * After fork() the child has its own copy of the table, as of its own fds;
 * fork() takes the lock first (pthread_atfork()), so that the child never
 * starts with it held by a thread it does not have.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "toywrap.h"

static pthread_mutex_t tw_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tw_sock **tw_tab;
static int tw_size;

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
	tw_size = n;
	return true;
}

bool tw_get(int fd, struct tw_sock *out)
{
	bool found = false;

	if (fd < 0)
		return false;
	pthread_mutex_lock(&tw_lock);
	if (fd < tw_size && tw_tab[fd]) {
		*out = *tw_tab[fd];
		found = true;
	}
	pthread_mutex_unlock(&tw_lock);
	return found;
}

void tw_put(int fd, const struct tw_sock *s)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&tw_lock);
	if (tw_room(fd)) {
		if (!tw_tab[fd])
			tw_tab[fd] = malloc(sizeof(*s));
		if (tw_tab[fd])
			*tw_tab[fd] = *s;
	}
	pthread_mutex_unlock(&tw_lock);
}

static void tw_fork_prepare(void)
{
	pthread_mutex_lock(&tw_lock);
}

static void tw_fork_done(void)
{
	pthread_mutex_unlock(&tw_lock);
}

void tw_fdtab_init(void)
{
	pthread_atfork(tw_fork_prepare, tw_fork_done, tw_fork_done);
}

void tw_drop(int fd)
{
	struct tw_sock *old = NULL;

	if (fd < 0)
		return;
	pthread_mutex_lock(&tw_lock);
	if (fd < tw_size) {
		old = tw_tab[fd];
		tw_tab[fd] = NULL;
	}
	pthread_mutex_unlock(&tw_lock);
	free(old);
}

/* dup() and friends: the new fd is the same socket. */
void tw_copy(int from, int to)
{
	struct tw_sock s;

	if (from == to)
		return;
	if (tw_get(from, &s))
		tw_put(to, &s);
	else
		tw_drop(to);
}

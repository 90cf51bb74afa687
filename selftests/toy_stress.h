/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture the stress (toy_stress.c) and security (toy_security.c)
 * tests share; include after kselftest_harness.h.
 */
#ifndef TOY_STRESS_H
#define TOY_STRESS_H

#include "toy_common.h"

#define UNPRIV_UID 65534

static inline void on_usr1(int sig)
{
	(void)sig;
}

static inline int load_module(void)
{
	return toy_module_ensure("af_toy", TOY_MODULE_PATH, NULL, 0);
}

/* number of sockets in /proc/net/toy (this netns), waiting for it to reach want */
static inline int wait_proc_count(int want)
{
	int i, n = -1;

	for (i = 0; i < 3000; i++) {
		n = proc_count();
		if (n == want)
			return n;
		usleep(5000);
	}
	return n;
}

FIXTURE(stress) {
	int base;	/* sockets in /proc/net/toy before the test */
};

FIXTURE_SETUP(stress)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, toy_ensure_module());
	self->base = proc_count();
	ASSERT_LE(0, self->base);
}

FIXTURE_TEARDOWN(stress)
{
	load_module();	/* tests must leave it loaded */
}

#endif /* TOY_STRESS_H */

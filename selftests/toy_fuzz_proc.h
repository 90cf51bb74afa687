/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_proc.h - toy_fuzz's worker processes, included by toy_fuzz.c
 * only (after the operations): each process runs its threads' programs
 * (exec_prog() keeps those that reached new af_toy PCs), interrupts
 * blocking calls with signals from its main thread and reports threads that
 * never finish with their kernel stacks.
 */
#ifndef TOY_FUZZ_PROC_H
#define TOY_FUZZ_PROC_H

/* Run one program; keep it in the corpus if it reached new af_toy PCs. */
static void exec_prog(struct worker *w, struct prog *p)
{
	char enc[PROG_MAX * 80];
	int i, last = -1;

	if (verbose) {
		prog_fmt(p, enc, sizeof(enc));
		fprintf(stderr, "# p%d t%d program: %s\n", w->proc, w->id, enc);
	}
	for (i = 0; i < p->n; i++) {
		long fresh;

		if (__atomic_load_n(&shm->stop, __ATOMIC_RELAXED) || now() > deadline)
			break;
		w->cur = &p->ops[i];
		w->draw = 0;
		shm->calm_fresh[w->proc][w->id] = 0;
		cover_reset(w);
		run_one(w, p->ops[i].op, false);
		p->ops[i].ndraw = (uint8_t)(w->draw > 255 ? 255 : w->draw);
		fresh = cover_collect(w) + shm->calm_fresh[w->proc][w->id];
		if (fresh)
			last = i;
		w->nops++;
	}
	w->cur = NULL;
	locals_release(w);
	__atomic_fetch_add(&shm->execs, 1, __ATOMIC_RELAXED);
	if (last >= 0 && cov.on) {
		p->n = last + 1;	/* what follows added nothing */
		corpus_add(p);
		if (w->replaying)
			__atomic_fetch_add(&corpus->seeds_kept, 1, __ATOMIC_RELAXED);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct prog p;

	w->tid = (pid_t)syscall(SYS_gettid);
	if (cov.on) {
		set_make_it_fail(false);
		w->cover_words = COVER_WORDS;
		w->kcov_fd = kcov_open(&w->cover, w->cover_words);
		set_make_it_fail(true);
	}
	while (w->nops < w->budget && !__atomic_load_n(&shm->stop, __ATOMIC_RELAXED) &&
	       now() <= deadline) {
		prog_next(w, &p);
		exec_prog(w, &p);
	}
	reap_kids(w, true);
	if (w->cover)
		kcov_close(w->kcov_fd, w->cover, w->cover_words);
	w->cover = NULL;
	w->done = 1;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Print where a thread that did not finish sits in the kernel. */
static void dump_task(pid_t pid, pid_t tid)
{
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		fprintf(stderr, "# stuck task %d/%d kernel stack:\n%s", pid, tid, buf);
	}
}

/* One worker process: nthreads threads + a signal thread (this one). */
static int proc_main(int proc, uint64_t seed, long budget)
{
	struct sigaction sa;
	void *region;
	int i, j, stuck = 0;
	uint64_t sig_rng;
	double hard;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART: blocking calls get EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Random fcntl(O_ASYNC)/ioctl(FIOASYNC, FIOSETOWN) calls legitimately
	 * arm SIGIO, whose default action would kill the worker.
	 */
	signal(SIGIO, SIG_IGN);
	region = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 2;
	valid_page = region;
	guard = valid_page + 4096;
	mprotect(guard, 4096, PROT_NONE);
	for (i = 0; i < NSLOTS; i++)
		slots[i] = -1;
	init_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	/* the calm ops' network namespace: nobody else binds or connects there */
	set_make_it_fail(false);
	if (init_netns >= 0 && unshare(CLONE_NEWNET) == 0) {
		calm_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		setns(init_netns, CLONE_NEWNET);
	}
	set_make_it_fail(true);

	for (i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		uint64_t s = seed ^ ((uint64_t)proc << 32) ^ (uint64_t)(i + 1) * 0x1000193;

		memset(w, 0, sizeof(*w));
		w->rng = splitmix(&s);
		w->proc = proc;
		w->id = i;
		w->budget = budget / nthreads;
		w->kcov_fd = -1;
		for (j = 0; j < NLOCAL; j++)
			w->local[j] = -1;
		w->buf = malloc(BUFSZ);
		if (!w->buf)
			return 2;
		memset(w->buf, 'a' + i, BUFSZ);
	}
	for (i = 0; i < nthreads; i++) {
		int tries = 0;

		/* failslab may fail the clone: retry a while */
		while (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) &&
		       ++tries < 1000)
			usleep(1000);
		if (tries >= 1000)
			workers[i].done = 2;
	}
	/* signal thread: interrupt blocked calls now and then (not calm ops) */
	hard = deadline + 60;
	sig_rng = seed ^ 0x51e7a1;
	for (;;) {
		int alive = 0;

		for (i = 0; i < nthreads; i++) {
			if (workers[i].done)
				continue;
			alive++;
			if (workers[i].tid && !workers[i].calm &&
			    (now() > deadline || splitmix(&sig_rng) % 4 == 0))
				pthread_kill(workers[i].thread, SIGUSR1);
		}
		if (!alive || now() > hard)
			break;
		usleep(now() > deadline ? 2000 : 20000);
	}
	for (i = 0; i < nthreads; i++) {
		if (workers[i].done == 1) {
			pthread_join(workers[i].thread, NULL);
		} else if (workers[i].done == 0) {
			fprintf(stderr, "# process %d thread %d did not finish\n", proc, i);
			dump_task(getpid(), workers[i].tid);
			stuck++;
		}
	}
	if (stuck)
		return 3;
	for (i = 0; i < NSLOTS; i++)
		if (slots[i] >= 0)
			close(slots[i]);
	return 0;
}

#endif /* TOY_FUZZ_PROC_H */

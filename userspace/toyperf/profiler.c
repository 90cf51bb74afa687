// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf --profile: samples the kernel (perf_event_open cpu-clock on
 * every online CPU, with call chains) while a cell runs, and prints where
 * the time went by symbol, self and inclusive; --callers SYM also lists
 * the call paths of the samples taken in SYM.  Symbols: /proc/kallsyms.
 *
 * A ring holds well under a second of one CPU's samples, so a reader
 * thread empties the rings while the cell runs: woken by the kernel when
 * a ring is half full, it only copies the records out (into the stash);
 * they are counted after the cell, so the thread costs the workload
 * little.  What the kernel still could not write (a full ring) is
 * reported as lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "toyperf.h"

#ifndef PERF_FORMAT_LOST
#define PERF_FORMAT_LOST (1U << 4)	/* Linux 6.0 */
#endif

/*
 * 128 data pages per CPU (512 KiB with 4 KiB pages): with the header page
 * that is kernel.perf_event_mlock_kb's default per CPU, so a user without
 * CAP_IPC_LOCK can map every CPU's ring too.  Half a ring is a few tenths
 * of a second of one CPU's samples (4 kHz, a few hundred bytes each): the
 * reader thread has that long to be scheduled before samples are lost.
 */
#define RING_PAGES 128

/*
 * The stash holds up to STASH_MAX of records; when it is full the reader
 * thread counts them itself (CPU time while the cell runs, rather than
 * memory without bound on a long --time).  Its first STASH_TOUCHED bytes
 * are paged in before the cell, seconds' worth of samples.
 */
#define STASH_MAX (64UL << 20)
#define STASH_TOUCHED (4UL << 20)
_Static_assert(STASH_TOUCHED <= STASH_MAX, "STASH_TOUCHED");

struct ksym {
	unsigned long addr;
	char name[64];
};

static struct ksym *ksyms;
static size_t nksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void load_kallsyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256], type, name[200], mod[64];
	unsigned long addr;
	size_t cap = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%lx %c %199s %63s", &addr, &type, name,
			   mod) < 3)
			continue;
		if (!addr || (type != 't' && type != 'T'))
			continue;
		if (nksyms == cap) {
			cap = cap ? cap * 2 : 65536;
			ksyms = realloc(ksyms, cap * sizeof(*ksyms));
			if (!ksyms)
				die("realloc");
		}
		ksyms[nksyms].addr = addr;
		snprintf(ksyms[nksyms].name, sizeof(ksyms[nksyms].name), "%.63s",
			 name);
		nksyms++;
	}
	fclose(f);
	qsort(ksyms, nksyms, sizeof(*ksyms), ksym_cmp);
}

static int ksym_find(unsigned long ip)
{
	size_t lo = 0, hi = nksyms;

	if (!nksyms || ip < ksyms[0].addr)
		return -1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ksyms[mid].addr <= ip)
			lo = mid;
		else
			hi = mid;
	}
	return (int)lo;
}

struct symcount {
	double self, incl;
};

/* What the samples of one profile add up to. */
struct samples {
	struct symcount *cnt;		/* per symbol; [nksyms]: unknown */
	unsigned int *seen;		/* sample stamp last counted in incl */
	unsigned int stamp;
	double total, user, idle;
	double lost;			/* as PERF_RECORD_LOST said */
	double throttled;		/* PERF_RECORD_THROTTLE records */
};

/* --callers: call paths (4 frames) of the samples taken in one symbol */
#define NPATHS 256
static struct {
	char path[256];
	double n;
} paths[NPATHS];
static int npaths;

static void count_path(const uint64_t *chain, uint64_t nr)
{
	char buf[256] = "";
	uint64_t j;
	int k, depth = 0;

	for (j = 0; j < nr && depth < 5; j++) {
		int q;

		if (chain[j] >= PERF_CONTEXT_MAX)
			continue;
		q = ksym_find(chain[j]);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 depth ? " < " : "", q < 0 ? "?" : ksyms[q].name);
		depth++;
	}
	for (k = 0; k < npaths; k++)
		if (!strcmp(paths[k].path, buf))
			break;
	if (k == npaths) {
		if (npaths == NPATHS)
			return;
		snprintf(paths[npaths++].path, sizeof(paths[0].path), "%s", buf);
	}
	paths[k].n++;
}

/* An idle CPU's sample (left out of the percentages)? */
static bool is_idle(const uint64_t *chain, uint64_t nr)
{
	uint64_t j;

	for (j = 0; j < nr; j++) {
		int q = chain[j] >= PERF_CONTEXT_MAX ? -1 : ksym_find(chain[j]);

		if (q >= 0 && (!strcmp(ksyms[q].name, "do_idle") ||
			       !strcmp(ksyms[q].name, "cpu_startup_entry")))
			return true;
	}
	return false;
}

/*
 * rec[0] header, rec[1] ip, rec[2] nr, rec[3..] chain; words: the
 * record's length, which bounds the chain whatever nr says.
 */
static void count_sample(struct samples *sm, uint16_t misc, const uint64_t *rec,
			 size_t words)
{
	uint64_t nr = rec[2] < words - 3 ? rec[2] : words - 3, j;
	int s = ksym_find(rec[1]);
	size_t i;

	sm->total++;
	sm->stamp++;
	if (misc & PERF_RECORD_MISC_USER) {
		sm->user++;
		return;
	}
	if (is_idle(&rec[3], nr)) {
		sm->idle++;
		return;
	}
	sm->cnt[s < 0 ? nksyms : (size_t)s].self++;
	if (callers_of && s >= 0 && !strcmp(ksyms[s].name, callers_of))
		count_path(&rec[3], nr);
	for (j = 0; j < nr; j++) {
		uint64_t ip = rec[3 + j];

		if (ip >= PERF_CONTEXT_MAX)
			continue;
		s = ksym_find(ip);
		i = s < 0 ? nksyms : (size_t)s;
		if (sm->seen[i] != sm->stamp) {
			sm->seen[i] = sm->stamp;
			sm->cnt[i].incl++;
		}
	}
}

/* One record of a ring, 8-byte aligned (the kernel pads them so). */
static void count_record(struct samples *sm, const struct perf_event_header *h)
{
	const uint64_t *rec = (const uint64_t *)h;
	size_t words = h->size / sizeof(uint64_t);

	if (words < 3)
		return;
	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		count_sample(sm, h->misc, rec, words);
		break;
	case PERF_RECORD_LOST:		/* header, id, lost */
		sm->lost += rec[2];
		break;
	case PERF_RECORD_THROTTLE:
		sm->throttled++;
		break;
	}
}

/* ------------------------------------------------------------ sampling */

/* Kernel sampling on every online CPU, while one cell runs. */
struct prof {
	int ncpu;			/* CPUs 0..ncpu-1: the configured ones */
	int nopen;			/* how many of them are sampled */
	int *fd;			/* [cpu] its event; -1: offline */
	void **ring;			/* [cpu] its mapped ring, or NULL */
	/* [cpu] its event (-1: not watched); [ncpu] the stop pipe */
	struct pollfd *pfd;
	size_t page, data_size;		/* a ring: one header page + data */
	bool fmt_lost;			/* read() counts the lost samples */
	int stop[2];			/* prof_stop() ends the reader with it */
	pthread_t reader;
	bool reading;			/* the reader thread runs */
	unsigned char *stash;		/* records copied out of the rings */
	size_t len;			/* bytes in the stash */
	struct samples sm;
};

/* Count the records of the stash and empty it. */
static void fold(struct prof *p)
{
	size_t off = 0;

	while (p->len - off >= sizeof(struct perf_event_header)) {
		const struct perf_event_header *h = (const void *)(p->stash + off);

		if (h->size < sizeof(*h) || h->size > p->len - off)
			break;		/* cannot happen: whole records only */
		count_record(&p->sm, h);
		off += h->size;
	}
	p->len = 0;
}

/*
 * Room for need more bytes in the stash: when it is full, what it holds
 * is counted now (need is at most a ring, far less than STASH_MAX).
 */
static void stash_room(struct prof *p, size_t need)
{
	if (need > STASH_MAX - p->len)
		fold(p);
}

/* Move what the kernel wrote into cpu's ring to the stash, and free it. */
static void drain_ring(struct prof *p, int cpu)
{
	struct perf_event_mmap_page *mp = p->ring[cpu];
	const unsigned char *data = (const unsigned char *)mp + p->page;
	uint64_t tail = mp->data_tail, head;
	size_t len, off, first;

	/* Acquire: the records below data_head are all written. */
	head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	len = head - tail;
	if (!len || len > p->data_size)	/* more cannot be: tail holds it back */
		return;
	stash_room(p, len);
	off = tail & (p->data_size - 1);
	first = len < p->data_size - off ? len : p->data_size - off;
	memcpy(p->stash + p->len, data + off, first);
	memcpy(p->stash + p->len + first, data, len - first);
	p->len += len;
	/* Release: the copy is done before the kernel may write there. */
	__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
}

static void drain_all(struct prof *p)
{
	int cpu;

	for (cpu = 0; cpu < p->ncpu; cpu++)
		if (p->ring[cpu])
			drain_ring(p, cpu);
}

/*
 * The reader thread: sleeps in poll() until a ring is half full (the
 * event's wakeup_watermark) or prof_stop() writes to the stop pipe.
 */
static void *reader(void *arg)
{
	struct prof *p = arg;
	int cpu;

	for (;;) {
		if (poll(p->pfd, p->ncpu + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("toyperf: profile: poll");
			break;		/* prof_stop() still drains */
		}
		if (p->pfd[p->ncpu].revents)
			break;
		/* An event that cannot be polled must not make this spin. */
		for (cpu = 0; cpu < p->ncpu; cpu++)
			if (p->pfd[cpu].revents & (POLLERR | POLLHUP | POLLNVAL))
				p->pfd[cpu].fd = -1;
		drain_all(p);
	}
	return NULL;
}

/* Sampling of the kernel and user space, at 4 kHz, with call chains. */
static void sample_attr(struct perf_event_attr *attr, size_t data_size)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = PERF_TYPE_SOFTWARE;
	attr->config = PERF_COUNT_SW_CPU_CLOCK;
	attr->sample_period = 250000;		/* ns: 4 kHz */
	attr->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN;
	attr->read_format = PERF_FORMAT_LOST;
	attr->exclude_callchain_user = 1;
	attr->disabled = 1;
	attr->watermark = 1;
	attr->wakeup_watermark = data_size / 2;
}

/*
 * The event and ring of one CPU; an offline CPU is skipped (fd -1):
 * 0, or -1 (said on stderr).
 */
static int open_cpu(struct prof *p, struct perf_event_attr *attr, int cpu)
{
	int fd = syscall(SYS_perf_event_open, attr, -1, cpu, -1, 0);

	if (fd < 0 && errno == EINVAL && (attr->read_format & PERF_FORMAT_LOST)) {
		/* before 6.0: only PERF_RECORD_LOST tells of losses */
		attr->read_format &= ~PERF_FORMAT_LOST;
		p->fmt_lost = false;
		fd = syscall(SYS_perf_event_open, attr, -1, cpu, -1, 0);
	}
	if (fd < 0 && errno == ENODEV)
		return 0;
	if (fd < 0) {
		fprintf(stderr, "toyperf: perf_event_open CPU %d: %s\n", cpu,
			strerror(errno));
		return -1;
	}
	p->fd[cpu] = fd;
	p->pfd[cpu].fd = fd;
	p->ring[cpu] = mmap(NULL, p->page + p->data_size,
			    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p->ring[cpu] == MAP_FAILED) {
		p->ring[cpu] = NULL;
		fprintf(stderr, "toyperf: mmap of CPU %d's perf ring: %s\n",
			cpu, strerror(errno));
		return -1;
	}
	p->nopen++;
	return 0;
}

static void prof_free(struct prof *p)
{
	int cpu;

	for (cpu = 0; cpu < p->ncpu; cpu++) {
		if (p->ring && p->ring[cpu])
			munmap(p->ring[cpu], p->page + p->data_size);
		if (p->fd && p->fd[cpu] >= 0)
			close(p->fd[cpu]);
	}
	if (p->stop[0] >= 0) {
		close(p->stop[0]);
		close(p->stop[1]);
	}
	if (p->stash)
		munmap(p->stash, STASH_MAX);
	free(p->fd);
	free(p->ring);
	free(p->pfd);
	free(p->sm.cnt);
	free(p->sm.seen);
	free(p);
}

/*
 * The stash: STASH_MAX of address space, of which the first STASH_TOUCHED
 * bytes are paged in now so that our page faults stay out of the profile.
 * The cell's children do not inherit it (MADV_DONTFORK): while they share
 * its pages, each first write to one would be a copy-on-write fault.
 */
static unsigned char *stash_alloc(void)
{
	void *s = mmap(NULL, STASH_MAX, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	madvise(s, STASH_MAX, MADV_DONTFORK);
	memset(s, 0, STASH_TOUCHED);
	return s;
}

/* Everything one profile needs, allocated now; NULL if out of memory. */
static struct prof *prof_alloc(void)
{
	struct prof *p = calloc(1, sizeof(*p));
	long n = sysconf(_SC_NPROCESSORS_CONF);
	int cpu;

	if (!p)
		return NULL;
	p->ncpu = n > 0 ? (int)n : 1;
	p->page = sysconf(_SC_PAGESIZE);
	p->data_size = RING_PAGES * p->page;
	p->fmt_lost = true;
	p->stop[0] = -1;
	p->stop[1] = -1;
	p->fd = malloc(p->ncpu * sizeof(*p->fd));
	p->ring = calloc(p->ncpu, sizeof(*p->ring));
	p->pfd = calloc(p->ncpu + 1, sizeof(*p->pfd));
	p->stash = stash_alloc();
	p->sm.cnt = calloc(nksyms + 1, sizeof(*p->sm.cnt));
	p->sm.seen = calloc(nksyms + 1, sizeof(*p->sm.seen));
	if (!p->fd || !p->ring || !p->pfd || !p->stash || !p->sm.cnt ||
	    !p->sm.seen) {
		p->ncpu = 0;		/* no fd to close yet */
		prof_free(p);
		return NULL;
	}
	for (cpu = 0; cpu < p->ncpu; cpu++) {
		p->fd[cpu] = -1;
		p->pfd[cpu].fd = -1;
		p->pfd[cpu].events = POLLIN;
	}
	return p;
}

/* The stop pipe and the reader thread: 0, or -1 (said on stderr). */
static int start_reader(struct prof *p)
{
	int err;

	if (pipe(p->stop) < 0) {	/* leaves p->stop -1 */
		perror("toyperf: profile: pipe");
		return -1;
	}
	p->pfd[p->ncpu].fd = p->stop[0];
	p->pfd[p->ncpu].events = POLLIN;
	err = pthread_create(&p->reader, NULL, reader, p);
	if (err) {
		fprintf(stderr, "toyperf: profile: pthread_create: %s\n",
			strerror(err));
		return -1;
	}
	p->reading = true;
	return 0;
}

struct prof *prof_start(void)
{
	struct perf_event_attr attr;
	struct prof *p = prof_alloc();
	int cpu;

	if (!p) {
		fprintf(stderr, "toyperf: profile: out of memory\n");
		return NULL;
	}
	sample_attr(&attr, p->data_size);
	for (cpu = 0; cpu < p->ncpu; cpu++)
		if (open_cpu(p, &attr, cpu) < 0)
			goto fail;
	if (!p->nopen) {
		fprintf(stderr, "toyperf: profile: no CPU to sample\n");
		goto fail;
	}
	if (start_reader(p) < 0)
		goto fail;
	for (cpu = 0; cpu < p->ncpu; cpu++)
		if (p->fd[cpu] >= 0)
			ioctl(p->fd[cpu], PERF_EVENT_IOC_ENABLE, 0);
	return p;
fail:
	prof_free(p);
	return NULL;
}

/*
 * Samples the kernel could not write into a full ring.  A
 * PERF_RECORD_LOST record says so only once there is room again, so
 * losses just before the end would go unreported: read() of the event
 * (PERF_FORMAT_LOST, since 6.0) counts every one.  *exact: which it is.
 */
static double lost_samples(const struct prof *p, bool *exact)
{
	uint64_t v[2];			/* value, lost */
	double lost = 0;
	int cpu;

	*exact = p->fmt_lost;
	for (cpu = 0; cpu < p->ncpu && *exact; cpu++) {
		if (p->fd[cpu] < 0)
			continue;
		if (read(p->fd[cpu], v, sizeof(v)) != sizeof(v))
			*exact = false;
		else
			lost += v[1];
	}
	return *exact ? lost : p->sm.lost;
}

static double pick(const struct symcount *c, int incl)
{
	return incl ? c->incl : c->self;
}

/* The top 30 symbols by self time, then by inclusive time. */
static void print_top(const struct symcount *cnt, double busy)
{
	size_t n = nksyms + 1, i, k, best;
	int pass, t, *order = malloc(n * sizeof(*order));

	if (!order)
		die("malloc");
	for (i = 0; i < n; i++)
		order[i] = (int)i;
	for (pass = 0; pass < 2; pass++) {
		printf("%s\n", pass ? "  inclusive  self   symbol (top by inclusive)"
				    : "  self   inclusive  symbol (top by self)");
		for (k = 0; k < 30; k++) {
			best = k;
			for (i = k + 1; i < n; i++)
				if (pick(&cnt[order[i]], pass) >
				    pick(&cnt[order[best]], pass))
					best = i;
			t = order[k];
			order[k] = order[best];
			order[best] = t;
			t = order[k];
			if (pick(&cnt[t], pass) == 0)
				break;
			printf("  %5.1f%%  %5.1f%%  %s\n",
			       100 * pick(&cnt[t], pass) / busy,
			       100 * pick(&cnt[t], !pass) / busy,
			       (size_t)t == nksyms ? "[unknown]" : ksyms[t].name);
		}
	}
	free(order);
}

/* --callers: the 15 most frequent call paths, then forget them. */
static void print_paths(double busy)
{
	int i, k, best;

	printf("  call paths of %s (%% of busy samples):\n", callers_of);
	for (i = 0; i < 15; i++) {
		best = -1;
		for (k = 0; k < npaths; k++)
			if (paths[k].n > 0 &&
			    (best < 0 || paths[k].n > paths[best].n))
				best = k;
		if (best < 0)
			break;
		printf("  %5.1f%%  %s\n", 100 * paths[best].n / busy,
		       paths[best].path);
		paths[best].n = -paths[best].n;
	}
	npaths = 0;
}

void prof_stop(struct prof *p, const char *title)
{
	struct samples *sm = &p->sm;
	double busy, lost;
	bool exact;
	int cpu;

	for (cpu = 0; cpu < p->ncpu; cpu++)
		if (p->fd[cpu] >= 0)
			ioctl(p->fd[cpu], PERF_EVENT_IOC_DISABLE, 0);
	if (p->reading) {
		if (write(p->stop[1], "", 1) != 1)
			perror("toyperf: profile: stopping the reader");
		pthread_join(p->reader, NULL);
	}
	drain_all(p);			/* what came after its last wake-up */
	fold(p);
	lost = lost_samples(p, &exact);
	busy = sm->total - sm->idle;
	printf("\n## profile %s: %d CPUs, %.0f samples, %.0f idle (left out),"
	       " %.0f busy (%.0f%% of them user), %s%.0f lost",
	       title, p->nopen, sm->total, sm->idle, busy,
	       busy > 0 ? 100 * sm->user / busy : 0, exact ? "" : "at least ",
	       lost);
	if (sm->throttled)
		printf(", sampling throttled %.0f times", sm->throttled);
	printf("; %% of busy samples:\n");
	if (busy > 0)
		print_top(sm->cnt, busy);
	if (callers_of && busy > 0)
		print_paths(busy);
	prof_free(p);
}

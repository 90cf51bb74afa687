// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf --profile: samples the kernel (perf_event_open cpu-clock on
 * every CPU, with call chains) while a cell runs, and prints where the
 * time went by symbol, self and inclusive; --callers SYM also lists the
 * call paths of the samples taken in SYM.  Symbols: /proc/kallsyms.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "toyperf.h"

#define RING_PAGES 256
#define REC_WORDS 520		/* the longest sample record we read */

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

int prof_start(struct prof *p)
{
	struct perf_event_attr attr;
	long pg = sysconf(_SC_PAGESIZE);
	int cpu;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 250000;		/* ns: 4 kHz */
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN;
	attr.exclude_callchain_user = 1;
	attr.disabled = 1;
	p->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (p->ncpu > MAXCPU)
		p->ncpu = MAXCPU;
	p->ring_size = (RING_PAGES + 1) * pg;
	for (cpu = 0; cpu < p->ncpu; cpu++) {
		p->fd[cpu] = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
		if (p->fd[cpu] < 0) {
			perror("toyperf: perf_event_open");
			return -1;
		}
		p->ring[cpu] = mmap(NULL, p->ring_size, PROT_READ | PROT_WRITE,
				    MAP_SHARED, p->fd[cpu], 0);
		if (p->ring[cpu] == MAP_FAILED)
			die("mmap perf ring");
	}
	for (cpu = 0; cpu < p->ncpu; cpu++)
		ioctl(p->fd[cpu], PERF_EVENT_IOC_ENABLE, 0);
	return 0;
}

struct symcount {
	double self, incl;
};

/* What the samples of one profile add up to. */
struct samples {
	struct symcount *cnt;		/* per symbol; [nksyms]: unknown */
	unsigned int *seen;		/* sample stamp last counted in incl */
	unsigned int stamp;
	double total, user, lost, idle;
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

	for (j = 0; j < nr && 3 + j < REC_WORDS; j++) {
		int q = chain[j] >= PERF_CONTEXT_MAX ? -1 : ksym_find(chain[j]);

		if (q >= 0 && (!strcmp(ksyms[q].name, "do_idle") ||
			       !strcmp(ksyms[q].name, "cpu_startup_entry")))
			return true;
	}
	return false;
}

/* rec[0] header, rec[1] ip, rec[2] nr, rec[3..] chain */
static void count_sample(struct samples *sm, uint16_t misc, const uint64_t *rec)
{
	uint64_t nr = rec[2], j;
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
		count_path(&rec[3], nr < REC_WORDS - 3 ? nr : REC_WORDS - 3);
	for (j = 0; j < nr && 3 + j < REC_WORDS; j++) {
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

/* The records of one CPU's ring (the last RING_PAGES of them). */
static void read_ring(const struct prof *p, int cpu, struct samples *sm)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct perf_event_mmap_page *mp = p->ring[cpu];
	unsigned char *data = (unsigned char *)mp + pg;
	uint64_t size = RING_PAGES * pg, head = mp->data_head, tail;

	__sync_synchronize();
	tail = head > size ? head - size : 0;
	while (tail < head) {
		struct perf_event_header hdr;
		uint64_t rec[REC_WORDS];
		size_t k;

		for (k = 0; k < sizeof(hdr); k++)
			((unsigned char *)&hdr)[k] = data[(tail + k) % size];
		if (hdr.size < sizeof(hdr) || hdr.size > sizeof(rec))
			break;
		for (k = 0; k < hdr.size; k++)
			((unsigned char *)rec)[k] = data[(tail + k) % size];
		tail += hdr.size;
		if (hdr.type == PERF_RECORD_LOST)
			sm->lost += rec[2];
		else if (hdr.type == PERF_RECORD_SAMPLE)
			count_sample(sm, hdr.misc, rec);
	}
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
	struct samples sm = {
		.cnt = calloc(nksyms + 1, sizeof(*sm.cnt)),
		.seen = calloc(nksyms + 1, sizeof(*sm.seen)),
	};
	double busy;
	int cpu;

	if (!sm.cnt || !sm.seen)
		die("calloc");
	for (cpu = 0; cpu < p->ncpu; cpu++)
		ioctl(p->fd[cpu], PERF_EVENT_IOC_DISABLE, 0);
	for (cpu = 0; cpu < p->ncpu; cpu++) {
		read_ring(p, cpu, &sm);
		munmap(p->ring[cpu], p->ring_size);
		close(p->fd[cpu]);
	}
	busy = sm.total - sm.idle;
	printf("\n## profile %s: %.0f samples, %.0f idle (left out), %.0f busy"
	       " (%.0f%% of them user), %.0f lost; %% of busy samples:\n",
	       title, sm.total, sm.idle, busy,
	       busy > 0 ? 100 * sm.user / busy : 0, sm.lost);
	if (busy > 0)
		print_top(sm.cnt, busy);
	if (callers_of && busy > 0)
		print_paths(busy);
	free(sm.cnt);
	free(sm.seen);
}

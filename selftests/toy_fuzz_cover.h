/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toy_fuzz_cover.h - coverage feedback for toy_fuzz, included by
 * toy_fuzz.c only (after its program and worker types).
 *
 * KCOV: every worker thread opens /sys/kernel/debug/kcov (KCOV_INIT_TRACE,
 * mmap, KCOV_ENABLE with KCOV_TRACE_PC) and after each operation reads the
 * PCs it hit.  Only af_toy is built with KCOV_INSTRUMENT, but PCs are
 * filtered to the module's range anyway (/proc/modules: core text address
 * and size; kcov reports PCs minus the KASLR offset, taken from _text in
 * /proc/kallsyms).  A bitmap shared by all worker processes holds every
 * module PC seen; "lines" is its population.
 *
 * Programs: a short list of operations; an operation is its kind and the
 * tape of its random choices: choice i is splitmix(seed, i) unless one of
 * up to OVR_MAX overrides sets it.  A program whose run reached new module
 * PCs (trimmed after its last operation that did) goes to the corpus, in
 * memory shared by the worker processes; new programs are mostly mutated
 * corpus programs (splice two, insert or delete an operation, change one
 * choice or re-roll an operation), some purely random.
 *
 * Text form, one program per line (what the guest prints between the
 * fuzz-corpus markers and TOY_FUZZ_CORPUS reads back):
 *     op:seed[/choice=value...] op:seed ...       (hex numbers)
 * e.g. "flow:3f2a9c01d2e4b7a1 send:9e0c12aa4b1f07d3/2=0/5=1a0".
 */
#ifndef TOY_FUZZ_COVER_H
#define TOY_FUZZ_COVER_H

#define KCOV_PATH	"/sys/kernel/debug/kcov"
#define KCOV_INIT_TRACE	_IOR('c', 1, unsigned long)
#define KCOV_ENABLE	_IO('c', 100)
#define KCOV_DISABLE	_IO('c', 101)
#define KCOV_TRACE_PC	0
#define COVER_WORDS	(64 << 10)	/* PCs recorded per worker thread per op */
#define KCOV_FD_MIN	700		/* out of the way of the fuzzed descriptors */
#define START_KERNEL	0xffffffff81000000UL	/* __START_KERNEL, x86-64 */

#define CORPUS_MAX	4096

struct corpus {
	long n;				/* programs in progs[] (may pass CORPUS_MAX) */
	long nseeds, next_seed;		/* loaded programs, next to replay */
	long seeds_kept;		/* loaded programs that still added PCs */
	long generated, mutated;
	int ready[CORPUS_MAX];
	struct prog progs[CORPUS_MAX];
	struct prog seeds[CORPUS_MAX];
};

static struct {
	bool on;
	unsigned long lo, span;		/* module PCs as kcov reports them */
	unsigned char *bits;		/* shared, span bits */
} cov;

static struct corpus *corpus;
static bool random_only;		/* TOY_FUZZ_RANDOM: measure, do not mutate */

/* ---- KCOV ---------------------------------------------------------------- */

/* KCOV for this thread: an area of words PCs; returns the fd or -1. */
static int kcov_open(unsigned long **area, unsigned long words)
{
	int fd = open(KCOV_PATH, O_RDWR | O_CLOEXEC), hi;
	void *m;

	if (fd < 0)
		return -1;
	/* a racing op of another thread must not find it by a stale number */
	hi = fcntl(fd, F_DUPFD_CLOEXEC, KCOV_FD_MIN);
	if (hi >= 0) {
		close(fd);
		fd = hi;
	}
	if (ioctl(fd, KCOV_INIT_TRACE, words))
		goto fail;
	m = mmap(NULL, words * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	if (ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC)) {
		munmap(m, words * sizeof(unsigned long));
		goto fail;
	}
	*area = m;
	__atomic_store_n(&(*area)[0], 0, __ATOMIC_RELAXED);
	return fd;
fail:
	close(fd);
	return -1;
}

static void kcov_close(int fd, unsigned long *area, unsigned long words)
{
	if (fd < 0)
		return;
	ioctl(fd, KCOV_DISABLE, 0);
	munmap(area, words * sizeof(unsigned long));
	close(fd);
}

/* af_toy's core text address and size from /proc/modules */
static bool module_range(unsigned long *addr, unsigned long *size)
{
	char line[256];
	bool ok = false;
	FILE *f = fopen("/proc/modules", "re");

	while (f && !ok && fgets(line, sizeof(line), f))
		ok = !strncmp(line, "af_toy ", 7) &&
		     sscanf(line, "af_toy %lu %*s %*s %*s 0x%lx", size, addr) == 2 && *addr;
	if (f)
		fclose(f);
	return ok;
}

static unsigned long kaslr_offset(void)
{
	char line[256], name[128], t;
	unsigned long a, off = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %127s", &a, &t, name) == 3 && !strcmp(name, "_text")) {
			if (a >= START_KERNEL)
				off = a - START_KERNEL;
			break;
		}
	if (f)
		fclose(f);
	return off;
}

/*
 * Can we collect af_toy's coverage?  NULL if so (cov set up), else why not.
 * Run before the workers fork: cov.bits is shared with them.
 */
static const char *kcov_probe(void)
{
	static char why[160];
	unsigned long addr, size, *area, n, i, hits = 0;
	int fd, s;

	if (!module_range(&addr, &size))
		return "af_toy's address is not in /proc/modules";
	fd = kcov_open(&area, COVER_WORDS);
	if (fd < 0) {
		snprintf(why, sizeof(why), "%s: %s (kernel without CONFIG_KCOV?)", KCOV_PATH,
			 strerror(errno));
		return why;
	}
	cov.lo = addr - kaslr_offset();
	cov.span = size;
	s = socket(AF_TOY, SOCK_STREAM, 0);
	if (s >= 0)
		close(s);
	n = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
	for (i = 0; i < n && i < COVER_WORDS - 1; i++)
		hits += area[i + 1] - cov.lo < cov.span;
	kcov_close(fd, area, COVER_WORDS);
	if (!hits) {
		snprintf(why, sizeof(why), n ? "KCOV works, but none of %lu PCs is af_toy's" :
			 "KCOV works, but af_toy is not instrumented (Kbuild: KCOV_INSTRUMENT := y)",
			 n);
		return why;
	}
	cov.bits = mmap(NULL, cov.span / 8 + 1, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cov.bits == MAP_FAILED)
		return "cannot map the coverage bitmap";
	cov.on = true;
	return NULL;
}

static void cover_reset(struct worker *w)
{
	if (w->cover)
		__atomic_store_n(&w->cover[0], 0, __ATOMIC_RELAXED);
}

/* Merge the PCs of the last op into the shared bitmap; returns how many were new. */
static long cover_collect(struct worker *w)
{
	unsigned long n, i;
	long fresh = 0;

	if (!w->cover)
		return 0;
	n = __atomic_load_n(&w->cover[0], __ATOMIC_RELAXED);
	if (n > w->cover_words - 1)
		n = w->cover_words - 1;
	for (i = 0; i < n; i++) {
		unsigned long off = w->cover[i + 1] - cov.lo;
		unsigned char *b, m;

		if (off >= cov.span)
			continue;
		b = &cov.bits[off >> 3];
		m = (unsigned char)(1u << (off & 7));
		if (!(__atomic_load_n(b, __ATOMIC_RELAXED) & m) &&
		    !(__atomic_fetch_or(b, m, __ATOMIC_RELAXED) & m))
			fresh++;
	}
	if (fresh)
		__atomic_fetch_add(&shm->lines, fresh, __ATOMIC_RELAXED);
	return fresh;
}

/* ---- programs -------------------------------------------------------------- */

static void pop_new(struct worker *w, struct pop *o)
{
	memset(o, 0, sizeof(*o));
	o->op = (uint8_t)pick_op(w);
	o->seed = rnd(w);
}

static void prog_gen(struct worker *w, struct prog *p)
{
	int i;

	p->n = 1 + (int)rn(w, 6) + (int)rn(w, 10);
	for (i = 0; i < p->n; i++)
		pop_new(w, &p->ops[i]);
}

static bool corpus_pick(struct worker *w, struct prog *p)
{
	long n = __atomic_load_n(&corpus->n, __ATOMIC_ACQUIRE), i;

	if (n > CORPUS_MAX)
		n = CORPUS_MAX;
	if (n <= 0)
		return false;
	i = (long)rn(w, (unsigned int)n);
	if (!__atomic_load_n(&corpus->ready[i], __ATOMIC_ACQUIRE))
		return false;
	*p = corpus->progs[i];
	return true;
}

/* Set choice idx of op o (an override), or re-roll the op. */
static void pop_mutate(struct worker *w, struct pop *o)
{
	unsigned int idx, k;
	uint32_t val;

	if (chance(w, 15)) {
		o->seed = rnd(w);
		o->novr = 0;
		return;
	}
	idx = rn(w, o->ndraw ? o->ndraw : 24);
	val = chance(w, 60) ? rn(w, 16) : (uint32_t)rnd(w);
	for (k = 0; k < o->novr; k++)
		if (o->oidx[k] == idx)
			break;
	if (k == o->novr) {
		if (o->novr < OVR_MAX)
			o->novr++;
		else
			k = rn(w, OVR_MAX);
	}
	o->oidx[k] = (uint8_t)idx;
	o->oval[k] = val;
}

static void prog_mutate(struct worker *w, struct prog *p)
{
	int k, n = 1 + (int)rn(w, 2) + (chance(w, 20) ? (int)rn(w, 4) : 0);
	struct prog q;

	for (k = 0; k < n; k++) {
		int i = (int)rn(w, (unsigned int)p->n), j;

		switch (rn(w, 10)) {
		case 0:
		case 1:	/* splice: our head, another program's tail */
			if (!corpus_pick(w, &q))
				break;
			i = (int)rn(w, (unsigned int)p->n + 1);
			j = (int)rn(w, (unsigned int)q.n);
			for (; j < q.n && i < PROG_MAX; j++)
				p->ops[i++] = q.ops[j];
			p->n = i;
			break;
		case 2:
		case 3:	/* insert a random op */
			if (p->n >= PROG_MAX)
				break;
			i = (int)rn(w, (unsigned int)p->n + 1);
			memmove(&p->ops[i + 1], &p->ops[i], sizeof(p->ops[0]) * (size_t)(p->n - i));
			pop_new(w, &p->ops[i]);
			p->n++;
			break;
		case 4:	/* delete one */
			if (p->n < 2)
				break;
			memmove(&p->ops[i], &p->ops[i + 1], sizeof(p->ops[0]) * (size_t)(p->n - i - 1));
			p->n--;
			break;
		default: /* change an argument (one random choice) */
			pop_mutate(w, &p->ops[i]);
			break;
		}
	}
}

/* The next program: a loaded one to replay, a mutated corpus one or a random one. */
static void prog_next(struct worker *w, struct prog *p)
{
	long s;

	if (cov.on && __atomic_load_n(&corpus->next_seed, __ATOMIC_RELAXED) < corpus->nseeds) {
		s = __atomic_fetch_add(&corpus->next_seed, 1, __ATOMIC_RELAXED);
		if (s < corpus->nseeds) {
			*p = corpus->seeds[s];
			w->replaying = true;
			return;
		}
	}
	w->replaying = false;
	if (cov.on && !random_only && !chance(w, 15) && corpus_pick(w, p)) {
		prog_mutate(w, p);
		__atomic_fetch_add(&corpus->mutated, 1, __ATOMIC_RELAXED);
		return;
	}
	prog_gen(w, p);
	__atomic_fetch_add(&corpus->generated, 1, __ATOMIC_RELAXED);
}

static void corpus_add(const struct prog *p)
{
	long i = __atomic_fetch_add(&corpus->n, 1, __ATOMIC_ACQ_REL);

	if (i >= CORPUS_MAX)
		return;
	corpus->progs[i] = *p;
	__atomic_store_n(&corpus->ready[i], 1, __ATOMIC_RELEASE);
}

/* ---- text form ------------------------------------------------------------- */

static void prog_fmt(const struct prog *p, char *buf, size_t len)
{
	size_t o = 0;
	int i, k;

	buf[0] = 0;
	for (i = 0; i < p->n && o < len; i++) {
		const struct pop *x = &p->ops[i];

		o += (size_t)snprintf(buf + o, len - o, "%s%s:%llx", i ? " " : "",
				      op_names[x->op], (unsigned long long)x->seed);
		for (k = 0; k < x->novr && o < len; k++)
			o += (size_t)snprintf(buf + o, len - o, "/%x=%x", x->oidx[k], x->oval[k]);
	}
}

static bool prog_parse(char *line, struct prog *p)
{
	char *save = NULL, *tok;

	memset(p, 0, sizeof(*p));
	for (tok = strtok_r(line, " \t\r\n", &save); tok && p->n < PROG_MAX;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		struct pop *x = &p->ops[p->n];
		char *colon = strchr(tok, ':'), *s;
		int op;

		if (!colon)
			continue;
		*colon = 0;
		for (op = 0; op < OP_NR && strcmp(op_names[op], tok); op++)
			;
		if (op == OP_NR)
			continue;
		memset(x, 0, sizeof(*x));
		x->op = (uint8_t)op;
		x->seed = strtoull(colon + 1, &s, 16);
		while (*s == '/' && x->novr < OVR_MAX) {
			x->oidx[x->novr] = (uint8_t)strtoul(s + 1, &s, 16);
			if (*s != '=')
				break;
			x->oval[x->novr++] = (uint32_t)strtoul(s + 1, &s, 16);
		}
		p->n++;
	}
	return p->n > 0;
}

/* Read TOY_FUZZ_CORPUS into corpus->seeds; returns the count or -1. */
static long corpus_load(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (corpus->nseeds < CORPUS_MAX && fgets(line, sizeof(line), f))
		if (prog_parse(line, &corpus->seeds[corpus->nseeds]))
			corpus->nseeds++;
	fclose(f);
	return corpus->nseeds;
}

static void corpus_print(void)
{
	long n = corpus->n < CORPUS_MAX ? corpus->n : CORPUS_MAX, i;
	char buf[PROG_MAX * 80];

	ksft_print_msg("fuzz-corpus-begin %ld programs\n", n);
	for (i = 0; i < n; i++) {
		if (!corpus->ready[i])
			continue;
		prog_fmt(&corpus->progs[i], buf, sizeof(buf));
		ksft_print_msg("fuzz-corpus: %s\n", buf);
	}
	ksft_print_msg("fuzz-corpus-end\n");
}

#endif /* TOY_FUZZ_COVER_H */

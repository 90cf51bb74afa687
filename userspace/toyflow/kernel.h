/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toyflow --kernel, shared by its parts: kernel.c sets tracefs up and runs
 * the command, kernel_read.c turns the function_graph output into one
 * call tree per system call, kernel_print.c prints them annotated.
 */
#ifndef TOYFLOW_KERNEL_H
#define TOYFLOW_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define KPROBE "toyflow/ino"

/* One function of a call's tree. */
struct knode {
	char fn[64];
	char ev[48];		/* af_toy's event inside: state change, segment */
	unsigned long ev_ino;	/* ... of this socket */
	int depth;
	bool after_exit;	/* on the way back to user space */
};

/* One system call of one task, and what ran in it. */
struct kcall {
	int pid;
	char comm[16];
	long nr;
	unsigned long args[3];
	long ret;
	bool returned;
	bool sock;		/* a socket-layer function ran in it */
	unsigned long ino;	/* the socket's sockfs inode, 0: unknown */
	bool ino_new;		/* created in this call (get_next_ino) */
	struct knode *n;
	int nn, cap;
};


/* Per task: its current call and nesting depth. */
#define MAXDEPTH 64
struct ktask {
	int pid;
	int call;		/* index into calls[], -1: none */
	int depth;
	int open[MAXDEPTH];	/* node index of each open function */
};

/* kernel_read.c: every call traced, in the order they began */
extern struct kcall *calls;
extern int ncalls;

/* The trace read back into calls[]: 0 or -1; @raw also prints it. */
int kernel_read(bool raw);

/* kernel_print.c: the trees of the calls named in @want (all if NULL). */
int kernel_print(const char *want);

/* kernel.c: the functions traced, and names */
extern const char *const sock_fns[];
extern const size_t n_sock_fns;
extern const char *const file_fns[];
extern const size_t n_file_fns;
bool in_list(const char *fn, const char *const *l, size_t n);
#define IN(fn, l) in_list(fn, l, n_##l)
/* An af_toy function? */
bool is_toy(const char *fn);
/* The name of x86-64 system call @nr, or NULL. */
const char *nr_name(long nr);

#endif /* TOYFLOW_KERNEL_H */

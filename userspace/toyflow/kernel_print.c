// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow --kernel: printing the call trees, each step annotated with what
 * it means (see kernel.c for what is traced).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "kernel.h"
#include "toyflow.h"

/*
 * What each step means.  %I: the call's inode number, %F: its fd.  A
 * function not listed here is shown without a note.
 */
static const struct {
	const char *fn, *note;
} notes[] = {
	{ "__sys_socket", "socket(): create a socket, then give it an fd" },
	{ "__sock_create", "socket creation: the family's create()" },
	{ "sock_alloc", "sockfs inode %I created (struct socket + inode)" },
	{ "new_inode_pseudo", "an inode of the sockfs pseudo-filesystem" },
	{ "sock_alloc_inode", "sockfs allocates struct socket_alloc" },
	{ "get_next_ino", "inode number %I" },
	{ "toy_create", "af_toy creates the sock" },
	{ "sock_alloc_file", "file socket:[%I] for the inode" },
	{ "alloc_file_pseudo", "struct file on a sockfs dentry" },
	{ "get_unused_fd_flags", "a free fd is reserved" },
	{ "fd_install", "file installed as fd %F" },
	{ "do_accept", "new socket and file, then the family's accept()" },
	{ "toy_accept", "af_toy accept: the queued connection's sock is "
			"grafted onto the new socket" },
	{ "sock_from_file", "fd's file -> struct socket" },
	{ "sockfd_lookup_light", "fd -> struct socket" },
	{ "move_addr_to_kernel", "copy the address in" },
	{ "toy_bind", "af_toy binds the port" },
	{ "toy_listen", "af_toy: LISTEN" },
	{ "toy_connect", "af_toy connects: SYN, SYN-ACK, ACK" },
	{ "toy_dgram_connect", "af_toy sets the datagram peer" },
	{ "sock_read_iter", "read() of a socket file" },
	{ "sock_write_iter", "write() to a socket file" },
	{ "sock_recvmsg", "LSM check, then the family's recvmsg()" },
	{ "sock_sendmsg", "LSM check, then the family's sendmsg()" },
	{ "toy_recvmsg", "af_toy receives" },
	{ "toy_sendmsg", "af_toy sends" },
	{ "toy_dgram_recvmsg", "af_toy receives a datagram" },
	{ "toy_dgram_sendmsg", "af_toy sends a datagram" },
	{ "toy_shutdown", "af_toy shuts down" },
	{ "toy_dgram_shutdown", "af_toy shuts down" },
	{ "close_fd", "fd %F is removed from the fd table" },
	{ "file_close_fd", "fd %F is removed from the fd table" },
	{ "__fput", "the last reference: the file is released" },
	{ "sock_close", "the socket file's release()" },
	{ "__sock_release", "the family's release(), then the inode goes" },
	{ "toy_release", "af_toy releases the sock" },
	{ "toy_dgram_release", "af_toy releases the sock" },
};

static const char *family_name(unsigned long f)
{
	static char buf[24];

	switch (f) {
	case 1: return "AF_UNIX";
	case 2: return "AF_INET";
	case 10: return "AF_INET6";
	case 25: return "AF_TOY";
	}
	snprintf(buf, sizeof(buf), "%lu", f);
	return buf;
}

static const char *type_name(unsigned long t)
{
	static char buf[64];

	switch (t & 0xf) {
	case 1: snprintf(buf, sizeof(buf), "SOCK_STREAM"); break;
	case 2: snprintf(buf, sizeof(buf), "SOCK_DGRAM"); break;
	case 5: snprintf(buf, sizeof(buf), "SOCK_SEQPACKET"); break;
	default: snprintf(buf, sizeof(buf), "%lu", t & 0xf);
	}
	if (t & 02000000)
		strcat(buf, "|SOCK_CLOEXEC");
	if (t & 04000)
		strcat(buf, "|SOCK_NONBLOCK");
	return buf;
}

static bool is_new_fd_call(const struct kcall *c)
{
	return c->nr == SYS_socket || c->nr == SYS_accept ||
	       c->nr == SYS_accept4;
}

/* Data calls are shown one level deep: af_toy's entry, not below. */
static bool is_data_call(const struct kcall *c)
{
	return c->nr == SYS_read || c->nr == SYS_write ||
	       c->nr == SYS_readv || c->nr == SYS_writev ||
	       c->nr == SYS_sendto || c->nr == SYS_recvfrom ||
	       c->nr == SYS_sendmsg || c->nr == SYS_recvmsg;
}

static void print_header(const struct kcall *c)
{
	const char *name = nr_name(c->nr);
	char call[160], ret[32];

	if (!name)
		snprintf(call, sizeof(call), "syscall %ld", c->nr);
	else if (c->nr == SYS_socket)
		snprintf(call, sizeof(call), "socket(%s, %s, %lu)",
			 family_name(c->args[0]), type_name(c->args[1]),
			 c->args[2]);
	else if (c->nr == SYS_exit_group || c->nr == SYS_exit ||
		 c->nr == SYS_close)
		snprintf(call, sizeof(call), "%s(%d)", name, (int)c->args[0]);
	else if (c->nr == SYS_listen)
		snprintf(call, sizeof(call), "listen(%d, %d)", (int)c->args[0],
			 (int)c->args[1]);
	else if (c->nr == SYS_shutdown)
		snprintf(call, sizeof(call), "shutdown(%d, %s)",
			 (int)c->args[0], c->args[1] == SHUT_RD ? "SHUT_RD" :
			 c->args[1] == SHUT_WR ? "SHUT_WR" : "SHUT_RDWR");
	else
		snprintf(call, sizeof(call), "%s(%d, ...)", name,
			 (int)c->args[0]);
	if (c->returned)
		snprintf(ret, sizeof(ret), " = %ld", c->ret);
	else
		ret[0] = '\0';
	printf("\n%s%s", call, ret);
	if (c->ino)
		printf("   socket:[%lu]", c->ino);
	printf("   (%s pid %d)\n", c->comm, c->pid);
}

/* The note of fn in call c, expanded, or NULL. */
static const char *note_of(const struct kcall *c, const struct knode *n,
			   char *buf, size_t len)
{
	const char *tmpl = NULL, *p;
	size_t i, off = 0;
	long fd = is_new_fd_call(c) ? c->ret : (long)(int)c->args[0];

	if (!strncmp(n->fn, "__x64_sys_", 10))
		tmpl = "system call entry";
	for (i = 0; !tmpl && i < sizeof(notes) / sizeof(notes[0]); i++)
		if (!strcmp(n->fn, notes[i].fn))
			tmpl = notes[i].note;
	if (!tmpl)
		return NULL;
	/* a note that needs a number the trace did not give is left out */
	if ((strstr(tmpl, "%I") && !c->ino) ||
	    (strstr(tmpl, "%F") && (fd < 0 || !c->returned)))
		return NULL;
	for (p = tmpl; *p && off + 24 < len; p++) {
		if (p[0] == '%' && p[1] == 'I') {
			off += snprintf(buf + off, len - off, "%lu", c->ino);
			p++;
		} else if (p[0] == '%' && p[1] == 'F') {
			off += snprintf(buf + off, len - off, "%ld", fd);
			p++;
		} else {
			buf[off++] = *p;
		}
	}
	buf[off] = '\0';
	if (n->after_exit && !strcmp(n->fn, "__fput"))
		snprintf(buf + off, len - off,
			 " (on the way back to user space)");
	return buf;
}

/* Has a node of the subtree of c->n[i] an af_toy event? */
static bool subtree_has_ev(const struct kcall *c, int i)
{
	int j;

	for (j = i; j < c->nn && (j == i || c->n[j].depth > c->n[i].depth); j++)
		if (c->n[j].ev[0])
			return true;
	return false;
}

/*
 * af_toy's part is shown to one level below its entry point (toy_create,
 * toy_accept, ...), deeper only on the way to a state change or segment;
 * that of the data calls (read, write, ...) only down to the entry point.
 */
static bool shown(const struct kcall *c, int i, int entry)
{
	const struct knode *n = &c->n[i];

	if (entry < 0 || n->depth <= entry)
		return true;
	if (is_data_call(c))
		return false;
	return n->depth == entry + 1 || subtree_has_ev(c, i);
}

/*
 * A state change or segment, said of whose socket it is: the call's own,
 * its peer's, or a connection not yet accepted (inode 0).
 */
static const char *ev_note(const struct kcall *c, const struct knode *n,
			   char *buf, size_t len)
{
	if (n->ev_ino == c->ino)
		snprintf(buf, len, "%s", n->ev);
	else if (!n->ev_ino)
		snprintf(buf, len, "new connection: %s", n->ev);
	else
		snprintf(buf, len, "socket:[%lu]: %s", n->ev_ino, n->ev);
	return buf;
}

static void print_call(const struct kcall *c)
{
	int i, entry = -1;
	char fn[128], note[200];

	print_header(c);
	for (i = 0; i < c->nn; i++) {
		const struct knode *n = &c->n[i];
		const char *txt;

		if (entry >= 0 && n->depth <= entry)
			entry = -1;
		if (!shown(c, i, entry))
			continue;
		if (entry < 0 && is_toy(n->fn))
			entry = n->depth;
		snprintf(fn, sizeof(fn), "%*s%s", 2 + 2 * n->depth, "", n->fn);
		txt = note_of(c, n, note, sizeof(note));
		if (!txt && n->ev[0])
			txt = ev_note(c, n, note, sizeof(note));
		if (txt)
			printf("%-40s %s\n", fn, txt);
		else
			printf("%s\n", fn);
	}
}

static bool in_csv(const char *csv, const char *name)
{
	size_t l = strlen(name);
	const char *p;

	for (p = csv; (p = strstr(p, name)); p += l)
		if ((p == csv || p[-1] == ',') && (p[l] == ',' || !p[l]))
			return true;
	return false;
}

/*
 * Is call c's name in the comma-separated list want (NULL: all)?
 * "accept" stands for accept4() too, as the man page's accept(2) does.
 */
static bool wanted(const struct kcall *c, const char *want)
{
	const char *name = nr_name(c->nr);

	if (!want)
		return true;
	if (!name)
		return false;
	return in_csv(want, name) ||
	       (c->nr == SYS_accept4 && in_csv(want, "accept"));
}

int kernel_print(const char *want)
{
	int i, shown = 0;

	printf("\n== kernel path of the socket calls (function_graph)\n");
	for (i = 0; i < ncalls; i++) {
		if (!calls[i].sock || !wanted(&calls[i], want))
			continue;
		print_call(&calls[i]);
		shown++;
	}
	if (!shown)
		printf("\n(no socket call was traced)\n");
	return shown ? 0 : -1;
}

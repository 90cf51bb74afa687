// SPDX-License-Identifier: GPL-2.0
/*
 * toyss: list AF_TOY sockets like ss(8).
 *
 *   toyss [-a | -l] [-t TYPE]... [-s STATE]... [-i INODE] [-F FAMILY]
 *         [-N | -P] [-H] [-v]
 *
 *   -a, --all             all sockets (the default)
 *   -l, --listening       listening sockets only (same as -s LISTEN)
 *   -t, --type TYPE       only this type: stream, seqpacket, dgram
 *                         (repeatable)
 *   -s, --state STATE     only this state: LISTEN, ESTABLISHED, ...
 *                         (repeatable, case-insensitive; "connected" =
 *                         every state but LISTEN and CLOSED)
 *   -i, --inode INODE     only the socket with this inode
 *   -F, --family FAMILY   the address family af_toy registered (default 25)
 *   -N, --netlink         netlink only (fail if af_toy_diag is not available)
 *   -P, --proc            /proc/net/toy only
 *   -H, --no-header       no header line
 *   -v, --verbose         say on stderr which source was used
 *
 * The sockets come from NETLINK_SOCK_DIAG (af_toy_diag.ko, which the
 * kernel loads on demand when installed); whenever that gives no whole
 * listing of AF_TOY sockets (an error: ENOENT, EINVAL, EOPNOTSUPP,
 * EPROTONOSUPPORT...; or a reply that is another family's) toyss falls
 * back to /proc/net/toy.  Both list the sockets of the caller's network
 * namespace.  Output:
 *
 *   Type      State       Recv-Q Send-Q Local  Peer   Inode  Uid
 *   STREAM    LISTEN      0      0      7      0      12345  0
 *
 * Exit status: 0 ok, 1 error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/tcp.h>	/* TCP_LISTEN, TCP_CLOSE */
#include <sys/socket.h>
#include <linux/netlink.h>

#include "toy_util.h"

/* A state name, or "CLOSE" (as ss(8) spells CLOSED). */
static int parse_state(const char *s)
{
	return strcasecmp(s, "CLOSE") ? toy_state_num(s) : TCP_CLOSE;
}

/* Filters, applied to both sources. */
static unsigned int want_states = TOY_DIAG_ALL_STATES;
static unsigned int want_types;		/* 0 = all */
static unsigned long want_ino;
static int family = AF_TOY;

/* A socket either source reports, in the netlink reply's form. */
static int matches(const struct toy_diag_msg *e)
{
	if (e->tdiag_state >= 32 || !(want_states & (1U << e->tdiag_state)))
		return 0;
	if (want_types && (e->tdiag_type >= 16 ||
			   !(want_types & (1U << e->tdiag_type))))
		return 0;
	if (want_ino && e->tdiag_ino != want_ino)
		return 0;
	return 1;
}

static void print_header(void)
{
	printf("%-9s %-11s %-6s %-6s %-6s %-6s %-8s %s\n", "Type", "State",
	       "Recv-Q", "Send-Q", "Local", "Peer", "Inode", "Uid");
}

static void print_entry(const struct toy_diag_msg *e)
{
	printf("%-9s %-11s %-6u %-6u %-6u %-6u %-8lu %u\n",
	       toy_type_name(e->tdiag_type), toy_state_name(e->tdiag_state),
	       e->tdiag_rqueue, e->tdiag_wqueue, e->tdiag_port,
	       e->tdiag_peer_port, (unsigned long)e->tdiag_ino, e->tdiag_uid);
}

/*
 * The matching sockets of one source, kept until it has given them all:
 * a netlink dump that fails halfway prints nothing, so that the
 * /proc/net/toy listing that replaces it is the only one.
 */
struct listing {
	struct toy_diag_msg *e;
	int n, cap;
};

static int list_diag_msg(const struct toy_diag_msg *r, void *arg)
{
	struct listing *l = arg;
	struct toy_diag_msg *e;

	if (!matches(r))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		e = realloc(l->e, l->cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->e = e;
	}
	l->e[l->n++] = *r;
	return 0;
}

/* The header (also when no socket matched), then the sockets: the count. */
static int list_print(struct listing *l, int header)
{
	int i;

	if (header)
		print_header();
	for (i = 0; i < l->n; i++)
		print_entry(&l->e[i]);
	free(l->e);
	return l->n;
}

/* A netlink reply that was not AF_TOY's (for the messages). */
static bool foreign_reply;

/*
 * Another family's sock_diag handler may answer (one registered at the
 * number -F names, or loaded on demand for it) with messages that are
 * no toy_diag_msg; af_toy_diag's name the family that was asked for.
 * Only some are told apart so (TIPC's): inet, unix, netlink and packet
 * messages start with the family asked for too, and only one too short
 * is caught (-EBADMSG).  -F has to name AF_TOY's number.
 */
static int netlink_diag_msg(const struct toy_diag_msg *r, void *arg)
{
	if (r->tdiag_family != family) {
		foreign_reply = true;
		return -EPROTO;
	}
	return list_diag_msg(r, arg);
}

/* Why netlink gave no listing (its -errno): for the messages. */
static const char *netlink_why(int err)
{
	return foreign_reply ? "the reply is another family's, not AF_TOY's"
			     : strerror(-err);
}

/*
 * Dump over NETLINK_SOCK_DIAG.  Returns the number of sockets printed, or
 * -errno when it gave no whole AF_TOY listing (nothing printed then).
 */
static int list_netlink(int header)
{
	struct toy_diag_req req = {
		.sdiag_family = family,
		.tdiag_states = want_states,
		.tdiag_types = want_types,
		.tdiag_ino = want_ino,
	};
	struct listing l = { NULL, 0, 0 };
	int ret;

	ret = toy_diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof(req),
			       netlink_diag_msg, &l);
	if (ret < 0) {
		free(l.e);
		return ret;
	}
	return list_print(&l, header);
}

static int list_proc(int header)
{
	struct listing l = { NULL, 0, 0 };
	int ret;

	ret = toy_proc_foreach_diag(list_diag_msg, &l);
	if (ret) {
		/* -1: unreadable (errno), else list_diag_msg()'s -errno */
		fprintf(stderr, "toyss: %s: %s (is af_toy loaded?)\n",
			AF_TOY_PROC, strerror(ret == -1 ? errno : -ret));
		free(l.e);
		return -1;
	}
	return list_print(&l, header);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: toyss [-a | -l] [-t TYPE]... [-s STATE]... [-i INODE] [-F FAMILY]\n"
		"             [-N | -P] [-H] [-v]\n"
		"  -a --all  -l --listening  -t --type  -s --state  -i --inode\n"
		"  -F --family  -N --netlink  -P --proc  -H --no-header  -v --verbose\n"
		"  TYPE: stream seqpacket dgram\n"
		"  STATE: LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2\n"
		"         CLOSE_WAIT LAST_ACK CLOSING CLOSED, or connected\n");
	exit(status);
}

static const struct option long_opts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "listening", no_argument, NULL, 'l' },
	{ "type", required_argument, NULL, 't' },
	{ "state", required_argument, NULL, 's' },
	{ "inode", required_argument, NULL, 'i' },
	{ "family", required_argument, NULL, 'F' },
	{ "netlink", no_argument, NULL, 'N' },
	{ "proc", no_argument, NULL, 'P' },
	{ "no-header", no_argument, NULL, 'H' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* -t TYPE: its bit in the type filter. */
static unsigned int type_bit(const char *s)
{
	int v = toy_type_num(s);

	if (v < 0) {
		fprintf(stderr, "toyss: unknown type %s\n", s);
		usage(2);
	}
	return 1U << v;
}

/* -s STATE: its bits in the state filter. */
static unsigned int state_bits(const char *s)
{
	int v;

	if (!strcasecmp(s, "connected"))
		return TOY_DIAG_ALL_STATES & ~(1U << TCP_LISTEN | 1U << TCP_CLOSE);
	v = parse_state(s);
	if (v < 0) {
		fprintf(stderr, "toyss: unknown state %s\n", s);
		usage(2);
	}
	return 1U << v;
}

int main(int argc, char **argv)
{
	int header = 1, verbose = 0, source = 0;	/* 'N', 'P' or 0 */
	unsigned int states = 0;
	char *end;
	int c, n;

	while ((c = getopt_long(argc, argv, "alt:s:i:F:NPHvh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'a':
			break;
		case 'l':
			states |= 1U << TCP_LISTEN;
			break;
		case 't':
			want_types |= type_bit(optarg);
			break;
		case 's':
			states |= state_bits(optarg);
			break;
		case 'i':
			want_ino = strtoul(optarg, &end, 0);
			if (end == optarg || *end || !want_ino)
				usage(2);
			break;
		case 'F':
			/* the request's sdiag_family is a byte */
			family = (int)strtol(optarg, &end, 0);
			if (end == optarg || *end || family <= 0 || family > 255)
				usage(2);
			break;
		case 'N':
		case 'P':
			source = c;
			break;
		case 'H':
			header = 0;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (states)
		want_states = states;

	if (source != 'P') {
		n = list_netlink(header);
		if (n >= 0) {
			fflush(stdout);
			if (verbose)
				fprintf(stderr, "toyss: %d sockets via netlink sock_diag\n", n);
			return 0;
		}
		if (source == 'N') {
			fprintf(stderr, "toyss: netlink sock_diag for family %d: %s\n",
				family, netlink_why(n));
			return 1;
		}
		if (verbose)
			fprintf(stderr, "toyss: netlink sock_diag unavailable (%s), using /proc/net/toy\n",
				netlink_why(n));
	}
	n = list_proc(header);
	if (n < 0)
		return 1;
	fflush(stdout);
	if (verbose)
		fprintf(stderr, "toyss: %d sockets via /proc/net/toy\n", n);
	return 0;
}

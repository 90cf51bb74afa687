// SPDX-License-Identifier: GPL-2.0
/*
 * toyss: list AF_TOY sockets like ss(8).
 *
 *   toyss [-a | -l] [-t TYPE]... [-s STATE]... [-i INODE] [-F FAMILY]
 *         [-N | -P] [-H] [-v]
 *
 *   -a          all sockets (the default)
 *   -l          listening sockets only (same as -s LISTEN)
 *   -t TYPE     only this type: stream, seqpacket, dgram (repeatable)
 *   -s STATE    only this state: LISTEN, ESTABLISHED, ... (repeatable,
 *               case-insensitive; "connected" = every state but LISTEN
 *               and CLOSED)
 *   -i INODE    only the socket with this inode
 *   -F FAMILY   the address family af_toy registered (default 25)
 *   -N          netlink only (fail if af_toy_diag is not available)
 *   -P          /proc/net/toy only
 *   -H          no header line
 *   -v          say on stderr which source was used
 *
 * The sockets come from NETLINK_SOCK_DIAG (af_toy_diag.ko, which the
 * kernel loads on demand when installed); when that is not available
 * (ENOENT, EINVAL, EPROTONOSUPPORT...) toyss falls back to /proc/net/toy.
 * Both list the sockets of the caller's network namespace.  Output:
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
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <linux/toy.h>
#include <linux/toy_diag.h>

struct entry {
	unsigned int type, state;
	unsigned long ino;
	unsigned int port, peer, rq, sq, uid;
};

static const char *const state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSED", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN", [11] = "CLOSING",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))
#define LISTEN_STATE 10
#define CLOSED_STATE 7

static const char *type_name(unsigned int type)
{
	switch (type) {
	case SOCK_STREAM: return "STREAM";
	case SOCK_SEQPACKET: return "SEQPACKET";
	case SOCK_DGRAM: return "DGRAM";
	}
	return "UNKNOWN";
}

static const char *state_name(unsigned int state)
{
	if (state < NSTATES && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

static int parse_type(const char *s)
{
	if (!strcasecmp(s, "stream"))
		return SOCK_STREAM;
	if (!strcasecmp(s, "seqpacket"))
		return SOCK_SEQPACKET;
	if (!strcasecmp(s, "dgram"))
		return SOCK_DGRAM;
	return -1;
}

static int parse_state(const char *s)
{
	unsigned int i;

	if (!strcasecmp(s, "CLOSE"))
		return CLOSED_STATE;
	for (i = 0; i < NSTATES; i++)
		if (state_names[i] && !strcasecmp(s, state_names[i]))
			return i;
	return -1;
}

/* Filters, applied to both sources. */
static unsigned int want_states = TOY_DIAG_ALL_STATES;
static unsigned int want_types;		/* 0 = all */
static unsigned long want_ino;
static int family = AF_TOY;

static int matches(const struct entry *e)
{
	if (e->state >= 32 || !(want_states & (1U << e->state)))
		return 0;
	if (want_types && (e->type >= 16 || !(want_types & (1U << e->type))))
		return 0;
	if (want_ino && e->ino != want_ino)
		return 0;
	return 1;
}

static void print_header(void)
{
	printf("%-9s %-11s %-6s %-6s %-6s %-6s %-8s %s\n", "Type", "State",
	       "Recv-Q", "Send-Q", "Local", "Peer", "Inode", "Uid");
}

static void print_entry(const struct entry *e)
{
	printf("%-9s %-11s %-6u %-6u %-6u %-6u %-8lu %u\n", type_name(e->type),
	       state_name(e->state), e->rq, e->sq, e->port, e->peer, e->ino,
	       e->uid);
}

/*
 * Dump over NETLINK_SOCK_DIAG.  Returns the number of sockets printed, or
 * -errno when the kernel side is not available (nothing printed then).
 */
static int list_netlink(int header)
{
	struct {
		struct nlmsghdr nlh;
		struct toy_diag_req req;
	} msg;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[32768];
	int fd, n = 0, done = 0, started = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = family;
	msg.req.tdiag_states = want_states;
	msg.req.tdiag_types = want_types;
	msg.req.tdiag_ino = want_ino;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		n = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			goto out;
		}
		if (len == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			const struct toy_diag_msg *r = NLMSG_DATA(h);
			struct entry e;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(h);

				n = err->error ? err->error : -EPROTO;
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*r)))
				continue;
			e.type = r->tdiag_type;
			e.state = r->tdiag_state;
			e.ino = r->tdiag_ino;
			e.port = r->tdiag_port;
			e.peer = r->tdiag_peer_port;
			e.rq = r->tdiag_rqueue;
			e.sq = r->tdiag_wqueue;
			e.uid = r->tdiag_uid;
			if (!matches(&e))
				continue;
			if (header && !started)
				print_header();
			started = 1;
			print_entry(&e);
			n++;
		}
	}
	if (header && !started)
		print_header();
out:
	close(fd);
	return n;
}

static int list_proc(int header)
{
	FILE *f = fopen("/proc/net/toy", "r");
	char line[256], type[32], state[32];
	int n = 0;

	if (!f) {
		fprintf(stderr, "toyss: /proc/net/toy: %s (is af_toy loaded?)\n",
			strerror(errno));
		return -1;
	}
	if (header)
		print_header();
	while (fgets(line, sizeof(line), f)) {
		struct entry e;
		int s;

		if (sscanf(line, "%lu %31s %31s %u %u %u %u %u", &e.ino, type,
			   state, &e.port, &e.peer, &e.rq, &e.sq, &e.uid) != 8)
			continue;	/* the header line */
		e.type = parse_type(type);
		s = parse_state(state);
		e.state = s < 0 ? 0 : s;
		if (!matches(&e))
			continue;
		print_entry(&e);
		n++;
	}
	fclose(f);
	return n;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: toyss [-a | -l] [-t TYPE]... [-s STATE]... [-i INODE] [-F FAMILY]\n"
		"             [-N | -P] [-H] [-v]\n"
		"  TYPE: stream seqpacket dgram\n"
		"  STATE: LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2\n"
		"         CLOSE_WAIT LAST_ACK CLOSING CLOSED, or connected\n");
	exit(status);
}

int main(int argc, char **argv)
{
	int header = 1, verbose = 0, source = 0;	/* 'N', 'P' or 0 */
	unsigned int states = 0;
	int c, v, n;

	while ((c = getopt(argc, argv, "alt:s:i:F:NPHvh")) != -1) {
		switch (c) {
		case 'a':
			break;
		case 'l':
			states |= 1U << LISTEN_STATE;
			break;
		case 't':
			v = parse_type(optarg);
			if (v < 0) {
				fprintf(stderr, "toyss: unknown type %s\n", optarg);
				usage(2);
			}
			want_types |= 1U << v;
			break;
		case 's':
			if (!strcasecmp(optarg, "connected")) {
				states |= TOY_DIAG_ALL_STATES &
					  ~(1U << LISTEN_STATE | 1U << CLOSED_STATE);
				break;
			}
			v = parse_state(optarg);
			if (v < 0) {
				fprintf(stderr, "toyss: unknown state %s\n", optarg);
				usage(2);
			}
			states |= 1U << v;
			break;
		case 'i':
			want_ino = strtoul(optarg, NULL, 0);
			break;
		case 'F':
			family = atoi(optarg);
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
				family, strerror(-n));
			return 1;
		}
		if (verbose)
			fprintf(stderr, "toyss: netlink sock_diag unavailable (%s), using /proc/net/toy\n",
				strerror(-n));
	}
	n = list_proc(header);
	if (n < 0)
		return 1;
	fflush(stdout);
	if (verbose)
		fprintf(stderr, "toyss: %d sockets via /proc/net/toy\n", n);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * toy_diag: the sock_diag view (af_toy_diag.ko, NETLINK_SOCK_DIAG) against
 * /proc/net/toy: the same sockets with the same fields, for sockets in
 * many states; the state, type and inode filters; multi-part dumps;
 * per-netns isolation; uids; malformed requests.
 *
 * Loads /af_toy_diag.ko itself when it is not loaded yet (left loaded: it
 * does not pin af_toy.ko).  sock_diag support is part of af_toy: when the
 * companion module is neither loaded nor loadable every test FAILS (it
 * used to skip, which hid a broken af_toy_diag.ko behind a green run).
 */
#include "toy_common.h"

#include <linux/netlink.h>
#include <linux/toy_diag.h>

#include "kselftest_harness.h"

#define DIAG_MODULE_PATH "/af_toy_diag.ko"
#define MAX_ENTRIES 4096

#define ST_ESTABLISHED	1
#define ST_FIN_WAIT2	5
#define ST_CLOSE	7
#define ST_CLOSE_WAIT	8
#define ST_LISTEN	10

struct ent {
	unsigned long ino;
	unsigned int type, state, port, peer, rq, sq, uid;
};

/* 0 when af_toy_diag is loaded (loading /af_toy_diag.ko if needed). */
static int diag_ensure(char *why, size_t len)
{
	return toy_module_ensure("af_toy_diag", DIAG_MODULE_PATH, why, len);
}

struct ents {
	struct ent *out;
	int max, n;
};

/* The first max sockets into out[], every one counted. */
static void ents_add(struct ents *e, const struct toy_diag_msg *r)
{
	if (e->n < e->max) {
		e->out[e->n].ino = r->tdiag_ino;
		e->out[e->n].type = r->tdiag_type;
		e->out[e->n].state = r->tdiag_state;
		e->out[e->n].port = r->tdiag_port;
		e->out[e->n].peer = r->tdiag_peer_port;
		e->out[e->n].rq = r->tdiag_rqueue;
		e->out[e->n].sq = r->tdiag_wqueue;
		e->out[e->n].uid = r->tdiag_uid;
	}
	e->n++;
}

/* A dump callback (netlink or /proc): the first max messages into out[]. */
static int diag_store(const struct toy_diag_msg *r, void *arg)
{
	if (r->tdiag_family != AF_TOY)
		return -EBADMSG;
	ents_add(arg, r);
	return 0;
}

/*
 * Send a raw request (hdr flags, req) and collect the replies.  Returns
 * the number of entries, or -errno from an NLMSG_ERROR / a syscall.
 */
static int diag_request(uint16_t flags, const struct toy_diag_req *req,
			size_t reqlen, struct ent *out, int max)
{
	struct ents e = { out, max, 0 };

	return toy_diag_request(flags, req, reqlen, diag_store, &e);
}

static int diag_dump(uint32_t states, uint16_t types, uint32_t ino,
		     struct ent *out, int max)
{
	struct toy_diag_req req = {
		.sdiag_family = AF_TOY,
		.tdiag_states = states,
		.tdiag_types = types,
		.tdiag_ino = ino,
	};

	return diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof(req),
			    out, max);
}

static int proc_dump(struct ent *out, int max)
{
	struct ents e = { out, max, 0 };

	return toy_proc_foreach_diag(diag_store, &e) < 0 ? -errno : e.n;
}

static int ent_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ent));
}

static void ent_sort(struct ent *e, int n)
{
	qsort(e, n, sizeof(*e), ent_cmp);
}

static const struct ent *ent_find(const struct ent *e, int n,
				  unsigned long ino)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].ino == ino)
			return &e[i];
	return NULL;
}

static struct ent nl[MAX_ENTRIES], pr[MAX_ENTRIES], pr2[MAX_ENTRIES];

/* A companion module of ours that does not load is a failure, not a skip. */
#define NEED_DIAG() do {						\
	char _why[256] = "";						\
	ASSERT_EQ(0, diag_ensure(_why, sizeof(_why)))			\
		TH_LOG("af_toy_diag is not loaded and cannot be: %s", _why); \
} while (0)

/* A zoo of sockets in many states, shared by the comparison tests. */
FIXTURE(zoo) {
	int lst, cli, srv;		/* STREAM listener, ESTABLISHED pair */
	int pend;			/* client whose child is not accepted */
	int fin_c, fin_s;		/* FIN_WAIT2 / CLOSE_WAIT pair */
	int unbound;			/* STREAM, CLOSED, port 0 */
	int seq_l;			/* SEQPACKET listener */
	int dg_a, dg_b;			/* DGRAM, b connected to a */
	uint32_t lport, seqport;
};

FIXTURE_SETUP(zoo)
{
	char data[100] = { 0 };

	NEED_DIAG();
	ASSERT_EQ(0, toy_ensure_module());
	self->lst = toy_listener(SOCK_STREAM, &self->lport);
	ASSERT_LE(0, self->lst);
	self->cli = toy_socket(SOCK_STREAM);
	ASSERT_EQ(0, toy_connect(self->cli, self->lport));
	self->srv = accept(self->lst, NULL, NULL);
	ASSERT_LE(0, self->srv);
	/* 100 unread bytes queued to srv: RecvQ there, SendQ at cli */
	ASSERT_EQ(100, write(self->cli, data, sizeof(data)));
	ASSERT_EQ(0, wait_proc_rq(self->srv, 100));

	self->pend = toy_socket(SOCK_STREAM);
	ASSERT_EQ(0, toy_connect(self->pend, self->lport));

	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &self->fin_c, &self->fin_s));
	ASSERT_EQ(0, shutdown(self->fin_c, SHUT_WR));
	ASSERT_EQ(0, wait_proc_state(self->fin_s, "CLOSE_WAIT"));
	ASSERT_EQ(0, wait_proc_state(self->fin_c, "FIN_WAIT2"));

	self->unbound = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, self->unbound);
	self->seq_l = toy_listener(SOCK_SEQPACKET, &self->seqport);
	ASSERT_LE(0, self->seq_l);

	self->dg_a = toy_socket(SOCK_DGRAM);
	ASSERT_EQ(0, toy_bind(self->dg_a, 0));
	self->dg_b = toy_socket(SOCK_DGRAM);
	ASSERT_EQ(0, toy_connect(self->dg_b, toy_port(self->dg_a)));
}

FIXTURE_TEARDOWN(zoo)
{
	int fds[] = { self->lst, self->cli, self->srv, self->pend,
		      self->fin_c, self->fin_s, self->unbound, self->seq_l,
		      self->dg_a, self->dg_b };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] > 0)
			close(fds[i]);
}

/* Every socket, every field: netlink == /proc (read before and after). */
TEST_F(zoo, netlink_matches_proc)
{
	int n_pr, n_nl, n_pr2, i;

	n_pr = proc_dump(pr, MAX_ENTRIES);
	n_nl = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
	n_pr2 = proc_dump(pr2, MAX_ENTRIES);
	ASSERT_LE(10, n_pr);
	ASSERT_LT(n_pr, MAX_ENTRIES);
	ASSERT_EQ(n_pr, n_pr2);
	ASSERT_EQ(n_pr, n_nl);
	ent_sort(pr, n_pr);
	ent_sort(pr2, n_pr2);
	ent_sort(nl, n_nl);
	ASSERT_EQ(0, memcmp(pr, pr2, n_pr * sizeof(*pr)));
	for (i = 0; i < n_pr; i++) {
		EXPECT_EQ(pr[i].ino, nl[i].ino);
		EXPECT_EQ(pr[i].type, nl[i].type);
		EXPECT_EQ(pr[i].state, nl[i].state);
		EXPECT_EQ(pr[i].port, nl[i].port);
		EXPECT_EQ(pr[i].peer, nl[i].peer);
		EXPECT_EQ(pr[i].rq, nl[i].rq);
		EXPECT_EQ(pr[i].sq, nl[i].sq);
		EXPECT_EQ(pr[i].uid, nl[i].uid);
	}
}

/* The fields of known sockets, looked up by inode. */
TEST_F(zoo, fields_of_known_sockets)
{
	const struct ent *e;
	int n;

	n = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
	ASSERT_LE(10, n);

	e = ent_find(nl, n, toy_ino(self->lst));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(SOCK_STREAM, e->type);
	EXPECT_EQ(ST_LISTEN, e->state);
	EXPECT_EQ(self->lport, e->port);
	EXPECT_EQ(0, e->peer);
	EXPECT_EQ(getuid(), e->uid);

	e = ent_find(nl, n, toy_ino(self->srv));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ST_ESTABLISHED, e->state);
	EXPECT_EQ(self->lport, e->port);
	EXPECT_EQ(toy_port(self->cli), e->peer);
	EXPECT_EQ(100, e->rq);

	e = ent_find(nl, n, toy_ino(self->cli));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ST_ESTABLISHED, e->state);
	EXPECT_EQ(self->lport, e->peer);
	EXPECT_EQ(100, e->sq);

	e = ent_find(nl, n, toy_ino(self->fin_c));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ST_FIN_WAIT2, e->state);
	e = ent_find(nl, n, toy_ino(self->fin_s));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ST_CLOSE_WAIT, e->state);

	e = ent_find(nl, n, toy_ino(self->unbound));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(ST_CLOSE, e->state);
	EXPECT_EQ(0, e->port);

	e = ent_find(nl, n, toy_ino(self->seq_l));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(SOCK_SEQPACKET, e->type);
	EXPECT_EQ(ST_LISTEN, e->state);
	EXPECT_EQ(self->seqport, e->port);

	e = ent_find(nl, n, toy_ino(self->dg_b));
	ASSERT_NE(NULL, e);
	EXPECT_EQ(SOCK_DGRAM, e->type);
	EXPECT_EQ(toy_port(self->dg_a), e->peer);

	/* the not-yet-accepted child: inode 0, on the listener's port */
	e = ent_find(nl, n, 0);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(SOCK_STREAM, e->type);
	EXPECT_EQ(self->lport, e->port);
	EXPECT_EQ(toy_port(self->pend), e->peer);
}

TEST_F(zoo, state_filter)
{
	int n, i, all;
	bool lst = false, seq = false;

	n = diag_dump(1U << ST_LISTEN, 0, 0, nl, MAX_ENTRIES);
	ASSERT_LE(2, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(ST_LISTEN, nl[i].state);
		lst |= nl[i].ino == toy_ino(self->lst);
		seq |= nl[i].ino == toy_ino(self->seq_l);
	}
	EXPECT_TRUE(lst);
	EXPECT_TRUE(seq);

	n = diag_dump(1U << ST_FIN_WAIT2 | 1U << ST_CLOSE_WAIT, 0, 0, nl,
		      MAX_ENTRIES);
	ASSERT_LE(2, n);
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(nl[i].state == ST_FIN_WAIT2 ||
			    nl[i].state == ST_CLOSE_WAIT);
	}
	EXPECT_NE(NULL, ent_find(nl, n, toy_ino(self->fin_c)));
	EXPECT_NE(NULL, ent_find(nl, n, toy_ino(self->fin_s)));

	/* the union of all single-state dumps is the full dump */
	all = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
	n = 0;
	for (i = 0; i < 32; i++)
		n += diag_dump(1U << i, 0, 0, pr, MAX_ENTRIES);
	EXPECT_EQ(all, n);

	/* no state asked, nothing reported */
	EXPECT_EQ(0, diag_dump(0, 0, 0, nl, MAX_ENTRIES));
}

TEST_F(zoo, type_and_inode_filter)
{
	int n, i;

	n = diag_dump(TOY_DIAG_ALL_STATES, 1U << SOCK_DGRAM, 0, nl,
		      MAX_ENTRIES);
	ASSERT_LE(2, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(SOCK_DGRAM, nl[i].type);
	}
	EXPECT_NE(NULL, ent_find(nl, n, toy_ino(self->dg_a)));

	n = diag_dump(TOY_DIAG_ALL_STATES, 1U << SOCK_SEQPACKET, 0, nl,
		      MAX_ENTRIES);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(SOCK_SEQPACKET, nl[i].type);
	}

	n = diag_dump(TOY_DIAG_ALL_STATES, 0, toy_ino(self->srv), nl,
		      MAX_ENTRIES);
	ASSERT_EQ(1, n);
	EXPECT_EQ(toy_ino(self->srv), nl[0].ino);
	EXPECT_EQ(100, nl[0].rq);
}

/* Enough sockets that the dump needs several netlink messages. */
TEST(many_sockets_multipart_dump)
{
	enum { N = 1500 };
	static int fds[N];
	int i, n_nl, n_pr, found = 0;

	NEED_DIAG();
	ASSERT_EQ(0, toy_ensure_module());
	toy_raise_nofile(N + 100);
	for (i = 0; i < N; i++) {
		fds[i] = toy_socket(i % 2 ? SOCK_DGRAM : SOCK_STREAM);
		ASSERT_LE(0, fds[i]);
	}
	n_pr = proc_dump(pr, MAX_ENTRIES);
	n_nl = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
	EXPECT_LE(N, n_nl);
	EXPECT_EQ(n_pr, n_nl);
	for (i = 0; i < N && n_nl <= MAX_ENTRIES; i++)
		found += ent_find(nl, n_nl, toy_ino(fds[i])) != NULL;
	EXPECT_EQ(N, found);
	toy_close_fds(fds, N);
}

/* A socket closed is gone from both views. */
TEST(closed_socket_disappears)
{
	unsigned long ino;
	int fd;

	NEED_DIAG();
	ASSERT_EQ(0, toy_ensure_module());
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	ino = toy_ino(fd);
	ASSERT_EQ(1, diag_dump(TOY_DIAG_ALL_STATES, 0, ino, nl, MAX_ENTRIES));
	close(fd);
	ASSERT_EQ(0, diag_dump(TOY_DIAG_ALL_STATES, 0, ino, nl, MAX_ENTRIES));
}

/* A new netns sees only its own sockets, and the parent does not see them. */
TEST(netns_isolation)
{
	int to_child[2], to_parent[2], lst;
	uint32_t port;
	unsigned long parent_ino;
	pid_t pid;

	NEED_DIAG();
	ASSERT_EQ(0, toy_ensure_module());
	lst = toy_listener(SOCK_STREAM, &port);
	ASSERT_LE(0, lst);
	parent_ino = toy_ino(lst);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	if (TOY_FORK(pid)) {
		int a, b, n, m;
		unsigned long child_ino;
		char c;

		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		/* empty at first */
		CHILD_CHECK(diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl,
				      MAX_ENTRIES) == 0);
		CHILD_CHECK(proc_dump(pr, MAX_ENTRIES) == 0);
		CHILD_CHECK(toy_connect_pair(SOCK_STREAM, &a, &b) == 0);
		child_ino = toy_ino(a);
		n = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
		m = proc_dump(pr, MAX_ENTRIES);
		CHILD_CHECK(n == 2 && m == 2);
		CHILD_CHECK(ent_find(nl, n, child_ino) != NULL);
		CHILD_CHECK(ent_find(nl, n, parent_ino) == NULL);
		if (write(to_parent[1], &child_ino, sizeof(child_ino)) !=
		    sizeof(child_ino))
			_exit(1);
		CHILD_CHECK(read(to_child[0], &c, 1) == 1);
		close(a);
		close(b);
		_exit(0);
	}
	{
		unsigned long child_ino = 0;
		int n;

		close(to_parent[1]);	/* a child that failed: EOF, not a hang */
		ASSERT_EQ(sizeof(child_ino),
			  read(to_parent[0], &child_ino, sizeof(child_ino)));
		n = diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES);
		EXPECT_NE(NULL, ent_find(nl, n, parent_ino));
		EXPECT_EQ(NULL, ent_find(nl, n, child_ino));
		EXPECT_EQ(0, diag_dump(TOY_DIAG_ALL_STATES, 0, child_ino, nl,
				       MAX_ENTRIES));
		ASSERT_EQ(0, sync_post(to_child[1]));
		EXPECT_EQ(0, wait_child(pid));
	}
	close(lst);
}

/* The uid of the socket's owner, as both views report it. */
TEST(uid_reported)
{
	int p[2];
	pid_t pid;

	NEED_DIAG();
	ASSERT_EQ(0, toy_ensure_module());
	ASSERT_EQ(0, pipe(p));
	if (TOY_FORK(pid)) {
		unsigned long ino;
		int fd;

		CHILD_CHECK(setresuid(4321, 4321, 4321) == 0);
		fd = toy_socket(SOCK_DGRAM);
		CHILD_CHECK(fd >= 0);
		ino = toy_ino(fd);
		if (write(p[1], &ino, sizeof(ino)) != sizeof(ino))
			_exit(1);
		pause();
		_exit(0);
	}
	{
		unsigned long ino = 0;
		const struct ent *e;
		int n;

		close(p[1]);	/* a child that failed: EOF, not a hang */
		ASSERT_EQ(sizeof(ino), read(p[0], &ino, sizeof(ino)));
		n = diag_dump(TOY_DIAG_ALL_STATES, 0, ino, nl, MAX_ENTRIES);
		ASSERT_EQ(1, n);
		EXPECT_EQ(4321, nl[0].uid);
		n = proc_dump(pr, MAX_ENTRIES);
		e = ent_find(pr, n, ino);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(4321, e->uid);
		kill(pid, SIGKILL);
		wait_child(pid);
	}
}

TEST(bad_requests)
{
	struct toy_diag_req req = {
		.sdiag_family = AF_TOY,
		.tdiag_states = TOY_DIAG_ALL_STATES,
	};

	NEED_DIAG();
	/* only dumps */
	EXPECT_EQ(-EOPNOTSUPP, diag_request(NLM_F_REQUEST, &req, sizeof(req),
					    nl, MAX_ENTRIES));
	/* short request */
	EXPECT_EQ(-EINVAL, diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req, 4,
					nl, MAX_ENTRIES));
	/* reserved fields */
	req.sdiag_protocol = 1;
	EXPECT_EQ(-EINVAL, diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req,
					sizeof(req), nl, MAX_ENTRIES));
	req.sdiag_protocol = 0;
	req.tdiag_pad = 1;
	EXPECT_EQ(-EINVAL, diag_request(NLM_F_REQUEST | NLM_F_DUMP, &req,
					sizeof(req), nl, MAX_ENTRIES));
}

/* The diag module does not pin af_toy: it can be unloaded and reloaded. */
TEST(af_toy_unloadable_with_diag_loaded)
{
	int fd, ret;

	NEED_DIAG();
	if (access(TOY_MODULE_PATH, R_OK) != 0)
		SKIP(return, "%s not present", TOY_MODULE_PATH);
	ret = toy_module_unload("af_toy", TOY_WAIT_TRIES);
	ASSERT_EQ(0, ret) TH_LOG("delete_module(af_toy): %s", strerror(errno));
	/* no af_toy: an empty dump, not an error */
	EXPECT_EQ(0, diag_dump(TOY_DIAG_ALL_STATES, 0, 0, nl, MAX_ENTRIES));
	ASSERT_EQ(0, toy_ensure_module());
	fd = toy_socket(SOCK_STREAM);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, diag_dump(TOY_DIAG_ALL_STATES, 0, toy_ino(fd), nl,
			       MAX_ENTRIES));
	close(fd);
}

/*
 * toyss (userspace/toyss.c) shows the same socket through netlink and
 * /proc.
 */
static int toyss_line(const char *opts, unsigned long ino, char *out,
		      size_t len)
{
	char cmd[256];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "toyss -H %s -i %lu 2>/dev/null", opts, ino);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(out, len, f))
		n++;
	if (pclose(f) != 0)
		return -1;
	return n;
}

TEST(toyss_netlink_and_proc_agree)
{
	char nl_line[256] = "", pr_line[256] = "";
	unsigned long ino;
	uint32_t port;
	char port_s[16];
	int lst;

	NEED_DIAG();
	if (system("command -v toyss >/dev/null 2>&1") != 0)
		SKIP(return, "toyss not in PATH");
	ASSERT_EQ(0, toy_ensure_module());
	lst = toy_listener(SOCK_SEQPACKET, &port);
	ASSERT_LE(0, lst);
	ino = toy_ino(lst);
	ASSERT_EQ(1, toyss_line("-N", ino, nl_line, sizeof(nl_line)));
	ASSERT_EQ(1, toyss_line("-P", ino, pr_line, sizeof(pr_line)));
	EXPECT_STREQ(pr_line, nl_line);
	snprintf(port_s, sizeof(port_s), " %u ", port);
	EXPECT_NE(NULL, strstr(nl_line, "SEQPACKET"));
	EXPECT_NE(NULL, strstr(nl_line, "LISTEN"));
	EXPECT_NE(NULL, strstr(nl_line, port_s));
	/* the state filter: a listener is not "connected" */
	EXPECT_EQ(0, toyss_line("-N -s connected", ino, nl_line,
				sizeof(nl_line)));
	EXPECT_EQ(0, toyss_line("-P -s connected", ino, pr_line,
				sizeof(pr_line)));
	EXPECT_EQ(1, toyss_line("-N -l -t seqpacket", ino, nl_line,
				sizeof(nl_line)));
	close(lst);
}

TEST_HARNESS_MAIN

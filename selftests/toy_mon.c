// SPDX-License-Identifier: GPL-2.0
/*
 * toy_mon: capturing AF_TOY traffic on a toymon device (af_toy_mon.ko)
 * with the real tcpdump and tshark, which scripts/guest-tools.sh puts in
 * the VM.  What tcpdump prints (flags, sequence and ack numbers, lengths,
 * checksums) and what tshark reassembles (follow,tcp,raw) and diagnoses
 * (-z expert, checksums verified) must match what the test sent; a
 * capture sees its own netns only; only CAP_NET_ADMIN over the netns
 * creates a device; both modules unload while a capture runs or right
 * after.
 *
 * Needs /af_toy_mon.ko (the runner loads it); the cases that capture
 * need /usr/bin/tcpdump, /usr/bin/tshark and packet sockets, and skip
 * without them (the debug kernel has no CONFIG_PACKET), the first case
 * needs none of them.  Leaves af_toy and af_toy_mon loaded.
 */
#include "toy_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <sched.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "kselftest_harness.h"

#define MON_KO		"/af_toy_mon.ko"
#define TCPDUMP		"/usr/bin/tcpdump"
#define TSHARK		"/usr/bin/tshark"
#define PCAP		"/tmp/toy_mon.pcap"
#define OUT_MAX		(8 << 20)

#define NEED_TOOLS() do {						\
	if (access(TCPDUMP, X_OK) || access(TSHARK, X_OK))		\
		SKIP(return, "no %s or %s in this VM (scripts/guest-tools.sh)", \
		     TCPDUMP, TSHARK);					\
	if (!packet_sockets())						\
		SKIP(return, "no AF_PACKET in this kernel (CONFIG_PACKET)"); \
	ASSERT_EQ(0, mon_module());					\
} while (0)

/* The debug kernel of `make check-debug` has no packet sockets. */
static bool packet_sockets(void)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno != EAFNOSUPPORT;
	close(fd);
	return true;
}

static int mon_module(void)
{
	if (toy_ensure_module())
		return -1;
	return toy_module_ensure("af_toy_mon", MON_KO, NULL, 0);
}

/* Whole packet records in a pcap file (tcpdump -w), -1 if unreadable. */
static long pcap_records(const char *file)
{
	struct stat st;
	off_t off = 24;
	uint32_t incl;
	long n = 0;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	while (off + 16 <= st.st_size &&
	       pread(fd, &incl, sizeof(incl), off + 8) == sizeof(incl) &&
	       off + 16 + incl <= st.st_size) {
		off += 16 + incl;
		n++;
	}
	close(fd);
	return n;
}

/*
 * What af_toy transmitted on the device (its rx counters), from
 * /proc/net/dev: that of the caller's netns, unlike /sys.
 */
static long dev_counter(const char *dev, bool packets)
{
	char line[512], name[IFNAMSIZ + 2];
	long v = -1, bytes = -1;
	FILE *f;

	f = fopen("/proc/net/dev", "re");
	if (!f)
		return -1;
	snprintf(name, sizeof(name), "%s:", dev);
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " ");

		if (!strncmp(s, name, strlen(name)) &&
		    sscanf(s + strlen(name), "%ld %ld", &bytes, &v) == 2)
			break;
		v = bytes = -1;
	}
	fclose(f);
	return packets ? v : bytes;
}

static long dev_packets(const char *dev)
{
	return dev_counter(dev, true);
}

static long dev_bytes(const char *dev)
{
	return dev_counter(dev, false);
}

/* ------------------------------------------------------ running the tools */

/*
 * Runs argv, its stdout and stderr into out (NUL-terminated, cut at
 * len); returns its exit status as wait_child() does.
 */
static int run(char *const argv[], char *out, size_t len)
{
	int p[2], st;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	char junk[4096];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = toy_fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		if (got + 1 < len)
			n = read(p[0], out + got, len - 1 - got);
		else
			n = read(p[0], junk, sizeof(junk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got + 1 < len)
			got += n;
	}
	close(p[0]);
	out[got] = '\0';
	st = wait_child(pid);
	return st;
}

struct capture {
	pid_t pid;
	int err;		/* tcpdump's stderr */
	const char *dev, *file;
};

/* tcpdump -i DEV -w FILE, back once it listens; 0 or -1. */
static int capture_start(struct capture *c, const char *dev, const char *file)
{
	char line[512];
	size_t got = 0;
	int p[2];
	ssize_t n;

	c->dev = dev;
	c->file = file;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	c->pid = toy_fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		/* every packet whole, room for many in the ring */
		char *argv[] = { TCPDUMP, "-Z", "root", "-n", "-U",
				 "--immediate-mode", "-s", "65600", "-B", "16384",
				 "-i", (char *)dev, "-w", (char *)file, NULL };

		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	c->err = p[0];
	/* "tcpdump: listening on toymon0, link-type RAW (Raw IP), ..." */
	while (got + 1 < sizeof(line)) {
		n = read(c->err, line + got, sizeof(line) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		line[got] = '\0';
		if (strstr(line, "listening on") && strstr(line, "link-type RAW"))
			return 0;
	}
	line[got] = '\0';
	fprintf(stderr, "# tcpdump did not start: %s\n", line);
	return -1;
}

/* Until the file holds every packet the device saw (-U: written at once). */
static void capture_sync(struct capture *c)
{
	long want = -1, have = -1;
	int i;

	for (i = 0; i < TOY_WAIT_TRIES; i++) {
		want = dev_packets(c->dev);
		have = pcap_records(c->file);
		if (want < 0 || have >= want)
			return;
		usleep(TOY_WAIT_USEC);
	}
	fprintf(stderr, "# %s: %ld packets, %s: %ld\n", c->dev, want, c->file,
		have);
}

/* Synced, SIGINT; tcpdump's exit status, its last words into out. */
static int capture_stop(struct capture *c, char *out, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int st;

	capture_sync(c);
	kill(c->pid, SIGINT);
	st = wait_child(c->pid);
	while (got + 1 < len && (n = read(c->err, out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(c->err);
	return st;
}

/* ------------------------------------------------ tcpdump's text output */

struct pkt {
	uint16_t sport, dport;
	bool udp;
	char flags[8];		/* TCP: tcpdump's, e.g. "P." */
	bool has_seq, has_ack;
	uint32_t seq, ack;
	uint32_t len;
	bool cksum_ok;		/* tcpdump verified the TCP/UDP checksum */
};

/*
 * tcpdump -r FILE -n -S -t -vv: two lines per packet, e.g.
 *   IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 45)
 *       127.0.0.1.40000 > 127.0.0.1.7: Flags [P.], cksum 0x1234 (correct),
 *       seq 1:6, ack 1, win 1664, length 5
 *       127.0.0.1.40001 > 127.0.0.1.40002: [udp sum ok] UDP, length 4
 * Returns the number of packets parsed into p (at most max); a bad IPv4
 * header checksum makes the first line say "bad cksum": counts as -1.
 */
static int parse_tcpdump(char *out, struct pkt *p, int max)
{
	char *line, *save, *s;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct pkt *k = &p[n];
		unsigned int a, b, c, d, e, f, g, h, sp, dp;

		if (strstr(line, "bad cksum"))
			return -1;
		if (sscanf(line, " %u.%u.%u.%u.%u > %u.%u.%u.%u.%u:",
			   &a, &b, &c, &d, &sp, &e, &f, &g, &h, &dp) != 10)
			continue;
		memset(k, 0, sizeof(*k));
		k->sport = sp;
		k->dport = dp;
		s = strstr(line, " length ");
		if (s)
			k->len = strtoul(s + 8, NULL, 10);
		n++;
		if (strstr(line, " UDP, ")) {
			k->udp = true;
			k->cksum_ok = strstr(line, "[udp sum ok]") != NULL;
			continue;
		}
		s = strstr(line, "Flags [");
		if (s)
			sscanf(s, "Flags [%7[^]]", k->flags);
		k->cksum_ok = strstr(line, "(correct)") != NULL;
		s = strstr(line, " seq ");
		if (s) {
			k->has_seq = true;
			k->seq = strtoul(s + 5, NULL, 10);
		}
		s = strstr(line, " ack ");
		if (s) {
			k->has_ack = true;
			k->ack = strtoul(s + 5, NULL, 10);
		}
	}
	return n;
}

/* The packets of the connection with port @port (either side), in place. */
static int only_port(struct pkt *p, int n, int port)
{
	int i, m = 0;

	for (i = 0; i < n; i++)
		if (p[i].sport == port || p[i].dport == port)
			p[m++] = p[i];
	return m;
}

static int tcpdump_read(const char *file, char *out, size_t len)
{
	char *argv[] = { TCPDUMP, "-Z", "root", "-r", (char *)file, "-n", "-S",
			 "-t", "-vv", NULL };

	return run(argv, out, len);
}

static unsigned int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/*
 * The bytes of one "-z follow,PROTO,raw,N" section of tshark's output:
 * from the stream's first sender (unindented hex lines) into a, the
 * other way (tab-indented) into b.  0, or -1 if the section is missing
 * or longer than max.
 */
static int follow_raw(const char *out, const char *proto, int stream,
		      uint8_t *a, size_t *alen, uint8_t *b, size_t *blen,
		      size_t max)
{
	const char *s, *end;
	char filter[64];

	*alen = *blen = 0;
	snprintf(filter, sizeof(filter), "Filter: %s.stream eq %d\n", proto,
		 stream);
	s = strstr(out, filter);
	if (!s || !(s = strstr(s, "Node 1:")))
		return -1;
	s = strchr(s, '\n');
	end = s ? strstr(s, "=====") : NULL;
	if (!end)
		return -1;
	while (s && s < end) {
		bool back;
		uint8_t *dst;
		size_t *dlen;

		s++;
		back = *s == '\t';
		dst = back ? b : a;
		dlen = back ? blen : alen;
		if (back)
			s++;
		/* not sscanf(): it measures the whole rest of out each time */
		for (; isxdigit((unsigned char)s[0]) &&
		       isxdigit((unsigned char)s[1]); s += 2) {
			if (*dlen >= max)
				return -1;
			dst[(*dlen)++] = hexval(s[0]) << 4 | hexval(s[1]);
		}
		s = strchr(s, '\n');
	}
	return 0;
}

#define EXPECT_FOLLOW(_out, _proto, _n, _a, _alen, _b, _blen) do {	\
	size_t __max = (_alen) > (_blen) ? (_alen) : (_blen);		\
	uint8_t *__a = malloc(__max + 1), *__b = malloc(__max + 1);	\
	size_t __al, __bl;						\
	ASSERT_NE(NULL, __a);						\
	ASSERT_NE(NULL, __b);						\
	EXPECT_EQ(0, follow_raw(_out, _proto, _n, __a, &__al, __b,	\
				&__bl, __max + 1));			\
	EXPECT_EQ(_alen, __al);						\
	EXPECT_EQ(_blen, __bl);						\
	if (__al == (_alen))						\
		EXPECT_EQ(0, memcmp(__a, _a, _alen));			\
	if (__bl == (_blen))						\
		EXPECT_EQ(0, memcmp(__b, _b, _blen));			\
	free(__a);							\
	free(__b);							\
} while (0)

/*
 * Sequence continuity of one connection: in each direction every
 * packet starts where the previous one ended (SYN and FIN count one),
 * and every ack is what the other direction has sent so far.
 */
static int check_continuity(const struct pkt *p, int n, char *why, size_t len)
{
	uint32_t next[2] = { 0, 0 };
	bool seen[2] = { false, false };
	int i;

	for (i = 0; i < n; i++) {
		int d = p[i].sport != p[0].sport;
		uint32_t end;

		if (!p[i].has_seq) {
			snprintf(why, len, "packet %d has no seq", i);
			return -1;
		}
		if (seen[d] && p[i].seq != next[d]) {
			snprintf(why, len, "packet %d: seq %u, expected %u", i,
				 p[i].seq, next[d]);
			return -1;
		}
		end = p[i].seq + p[i].len + !!strchr(p[i].flags, 'S') +
		      !!strchr(p[i].flags, 'F');
		next[d] = end;
		seen[d] = true;
		if (strchr(p[i].flags, '.') && seen[!d] && p[i].ack != next[!d]) {
			snprintf(why, len, "packet %d: ack %u, expected %u", i,
				 p[i].ack, next[!d]);
			return -1;
		}
		if (!p[i].cksum_ok) {
			snprintf(why, len, "packet %d: checksum not correct", i);
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- tests */

FIXTURE(mon) {
	struct capture cap;
	bool capturing;
	char *out;
	struct pkt pkts[1024];
};

FIXTURE_SETUP(mon)
{
	self->capturing = false;
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
	NEED_TOOLS();
	toy_link_del("toymon0");
	ASSERT_EQ(0, toy_link_add("toymon0", "toymon", true));
	unlink(PCAP);
	ASSERT_EQ(0, capture_start(&self->cap, "toymon0", PCAP));
	self->capturing = true;
}

FIXTURE_TEARDOWN(mon)
{
	if (self->capturing)
		capture_stop(&self->cap, self->out, OUT_MAX);
	toy_link_del("toymon0");
	unlink(PCAP);
	free(self->out);
}

/* Stops the capture; tcpdump must have dropped nothing. */
static void mon_stop(struct __test_metadata *_metadata,
		     FIXTURE_DATA(mon) *self)
{
	self->capturing = false;
	ASSERT_EQ(0, capture_stop(&self->cap, self->out, OUT_MAX))
		TH_LOG("tcpdump: %s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\n0 packets dropped by kernel"))
		TH_LOG("tcpdump: %s", self->out);
}

/* Reads the capture with tcpdump: the number of packets in self->pkts. */
static int mon_packets(struct __test_metadata *_metadata,
		       FIXTURE_DATA(mon) *self)
{
	EXPECT_EQ(0, tcpdump_read(PCAP, self->out, OUT_MAX))
		TH_LOG("tcpdump -r: %s", self->out);
	return parse_tcpdump(self->out, self->pkts, ARRAY_SIZE(self->pkts));
}

static void flag_sequence(const struct pkt *p, int n, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && off + 12 < len; i++)
		off += snprintf(buf + off, len - off, "%s[%s]", i ? " " : "",
				p[i].flags);
}

#define STREAM_PORT	7001
#define SEQPACKET_PORT	7002
#define BULK_PORT	7003
#define APPEND_PORT	7004	/* small writes appended to a queued skb */
/*
 * Below the default ephemeral range (32768-60999): a client port picked there
 * shows in the capture as itself, and one that was 40001 once made 17
 * packets of a connection count as DGRAM_A's.
 */
#define DGRAM_A		20001
#define DGRAM_B		(0x10000 + 20002)	/* shows as 20002 */
#define DGRAM_BIG	20003
#define UDP_MAX		(65535 - 20 - 8)
#define BULK		(256 << 10)

static const char hello[] = "hello", world[] = "world!";
static const size_t records[] = { 100, 70000, 1 };

/* A connection made the real way, to a listener on @port. */
static int pair_on(int type, uint32_t port, int *c, int *s)
{
	uint32_t bound;
	int l;

	l = toy_listener_port(type, port, 4, &bound);
	if (l < 0)
		return -1;
	*c = toy_socket(type);
	if (*c < 0 || toy_connect(*c, port))
		return -1;
	*s = accept(l, NULL, NULL);
	close(l);
	return *s < 0 ? -1 : 0;
}

/* One STREAM connection to port, hello, close. */
static int talk(uint32_t port)
{
	uint32_t bound;
	char buf[8];
	int l, c, s;

	l = toy_listener_port(SOCK_STREAM, port, 4, &bound);
	if (l < 0)
		return -1;
	c = toy_socket(SOCK_STREAM);
	if (c < 0 || toy_connect(c, port))
		return -1;
	s = accept(l, NULL, NULL);
	if (s < 0 || write(c, "hello", 5) != 5 || read(s, buf, 8) != 5)
		return -1;
	close(c);
	close(s);
	close(l);
	return 0;
}

/*
 * Without any capture the device still counts what af_toy transmits on
 * it: the 9 packets of a STREAM connection that says hello and closes,
 * with their IPv4 lengths (SYN, SYN-ACK with 8 bytes of options), a
 * SEQPACKET record split in two packets, a DGRAM record cut to the
 * largest UDP datagram.  Runs the whole tap path where packet sockets
 * are missing too (under KASAN and lockdep in check-debug).
 */
TEST(device_counts_segments)
{
	struct sockaddr_toy to;
	int c, s, i;
	long before;
	char buf[8];
	uint8_t *big;

	ASSERT_EQ(0, mon_module());
	toy_link_del("toymon2");
	ASSERT_EQ(0, toy_link_add("toymon2", "toymon", false));
	EXPECT_EQ(0, dev_packets("toymon2"));
	ASSERT_EQ(0, toy_link_set_up("toymon2", true));
	before = dev_packets("toymon2");
	ASSERT_EQ(0, pair_on(SOCK_STREAM, 7005, &c, &s));
	ASSERT_EQ(5, write(c, hello, 5));
	ASSERT_EQ(5, read(s, buf, sizeof(buf)));
	ASSERT_EQ(6, write(s, world, 6));
	ASSERT_EQ(6, read(c, buf, sizeof(buf)));
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, close(s));
	EXPECT_EQ(before + 9, dev_packets("toymon2"));
	EXPECT_EQ(48 + 48 + 40 + 45 + 46 + 40 + 40 + 40 + 40, dev_bytes("toymon2"));

	/* a 70000-byte record: 65495 + 4505 bytes; a 70000-byte datagram: cut */
	big = calloc(1, 70000);
	ASSERT_NE(NULL, big);
	before = dev_bytes("toymon2");
	ASSERT_EQ(0, pair_on(SOCK_SEQPACKET, 7005, &c, &s));
	ASSERT_EQ(70000, write(c, big, 70000));
	ASSERT_EQ(70000, read(s, big, 70000));
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, close(s));
	EXPECT_EQ(before + 48 + 48 + 40 + 65535 + 4545 + 4 * 40,
		  dev_bytes("toymon2"));
	before = dev_bytes("toymon2");
	ASSERT_LE(0, c = toy_socket(SOCK_DGRAM));
	ASSERT_LE(0, s = toy_socket(SOCK_DGRAM));
	ASSERT_EQ(0, toy_bind(s, 7005));
	to = toy_addr(7005);
	ASSERT_EQ(70000, sendto(c, big, 70000, 0, (void *)&to, sizeof(to)));
	ASSERT_EQ(70000, recv(s, big, 70000, 0));
	EXPECT_EQ(before + 65535, dev_bytes("toymon2"));
	close(c);
	close(s);
	free(big);
	/* down: no tap, nothing counted */
	ASSERT_EQ(0, toy_link_set_up("toymon2", false));
	before = dev_packets("toymon2");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, talk(7006 + i));
	}
	EXPECT_EQ(before, dev_packets("toymon2"));
	EXPECT_EQ(0, toy_link_del("toymon2"));
}

/*
 * Every kind of segment in one capture, checked by tcpdump and by one
 * tshark run (tshark starts slowly under emulation):
 *  - STREAM: handshake, data both ways, close from both ends, with the
 *    flags, numbers and checksums TCP would show;
 *  - SEQPACKET: one segment per record, PSH on its last packet, a record
 *    longer than an IPv4 packet split with consecutive numbers;
 *  - a bulk STREAM transfer, reassembled byte for byte, nothing missed;
 *  - DGRAM records as UDP datagrams, ports cut to their low 16 bits, a
 *    record longer than a UDP datagram truncated;
 *  - tshark's expert information, every checksum verified: no error,
 *    no warning (malformed, bad checksum, previous segment not
 *    captured, ...).
 */
TEST_F_TIMEOUT(mon, tcpdump_and_tshark, 240)
{
	char *argv[] = { TSHARK, "-r", PCAP, "-q",
			 "-o", "ip.check_checksum:TRUE",
			 "-o", "tcp.check_checksum:TRUE",
			 "-o", "udp.check_checksum:TRUE",
			 "-z", "expert",
			 "-z", "follow,tcp,raw,0", "-z", "follow,tcp,raw,1",
			 "-z", "follow,tcp,raw,2", "-z", "follow,tcp,raw,3",
			 "-z", "follow,udp,raw,0",
			 "-z", "follow,udp,raw,1", NULL };
	uint8_t *sent, *got, dgram[3000];
	size_t total = 0, n, i;
	long appended;
	int c, s, all, k, psh;
	struct sockaddr_toy to;
	char seq[256], why[128];
	struct pkt *p = self->pkts;
	pid_t pid;
	ssize_t r;

	sent = malloc(BULK);
	got = malloc(BULK);
	ASSERT_NE(NULL, sent);
	ASSERT_NE(NULL, got);
	toy_pattern(sent, BULK, 11);

	/* STREAM */
	ASSERT_EQ(0, pair_on(SOCK_STREAM, STREAM_PORT, &c, &s));
	ASSERT_EQ(5, write(c, hello, 5));
	ASSERT_EQ(5, read(s, got, 64));
	ASSERT_EQ(6, write(s, world, 6));
	ASSERT_EQ(6, read(c, got, 64));
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, read(s, got, 64));
	ASSERT_EQ(0, close(s));

	/* SEQPACKET */
	ASSERT_EQ(0, pair_on(SOCK_SEQPACKET, SEQPACKET_PORT, &c, &s));
	for (i = 0; i < ARRAY_SIZE(records); i++) {
		ASSERT_EQ(records[i], write(c, sent + total, records[i]));
		ASSERT_EQ(records[i], read(s, got, BULK));
		total += records[i];
	}
	close(c);
	close(s);

	/* bulk STREAM, the writer in a child */
	ASSERT_EQ(0, pair_on(SOCK_STREAM, BULK_PORT, &c, &s));
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(s);
		_exit(write_all(c, sent, BULK) == BULK ? 0 : 1);
	}
	close(c);
	for (n = 0; (r = read(s, got + n, BULK - n)) > 0; n += r)
		;
	ASSERT_EQ(BULK, n);
	ASSERT_EQ(0, memcmp(got, sent, BULK));
	ASSERT_EQ(0, wait_child(pid));
	close(s);

	/* DGRAM */
	toy_pattern(dgram, sizeof(dgram), 3);
	ASSERT_LE(0, c = toy_socket(SOCK_DGRAM));
	ASSERT_LE(0, s = toy_socket(SOCK_DGRAM));
	ASSERT_EQ(0, toy_bind(c, DGRAM_A));
	ASSERT_EQ(0, toy_bind(s, DGRAM_B));
	to = toy_addr(DGRAM_B);
	ASSERT_EQ(5, sendto(c, hello, 5, 0, (void *)&to, sizeof(to)));
	to = toy_addr(DGRAM_A);
	ASSERT_EQ(sizeof(dgram), sendto(s, dgram, sizeof(dgram), 0,
					(void *)&to, sizeof(to)));
	ASSERT_EQ(5, recv(s, got, BULK, 0));
	ASSERT_EQ(sizeof(dgram), recv(c, got, BULK, 0));
	close(c);
	/* longer than a UDP datagram: truncated in the capture only */
	ASSERT_LE(0, c = toy_socket(SOCK_DGRAM));
	ASSERT_EQ(0, toy_bind(c, DGRAM_BIG));
	to = toy_addr(DGRAM_B);
	ASSERT_EQ(70000, sendto(c, sent, 70000, 0, (void *)&to, sizeof(to)));
	ASSERT_EQ(70000, recv(s, got, BULK, 0));
	close(c);
	close(s);

	/* small writes to a reader that is behind share one skb */
	ASSERT_EQ(0, pair_on(SOCK_STREAM, APPEND_PORT, &c, &s));
	appended = toy_stat_value("bytes_appended");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(3, write(c, "abc", 3));
	}
	ASSERT_EQ(9, read_all(s, got, 9));
	appended = toy_stat_value("bytes_appended") - appended;
	EXPECT_LT(0, appended);
	close(c);
	close(s);

	mon_stop(_metadata, self);
	all = mon_packets(_metadata, self);
	ASSERT_LT(0, all) TH_LOG("tcpdump saw a bad IPv4 header checksum");

	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, STREAM_PORT);
	flag_sequence(p + all, k, seq, sizeof(seq));
	EXPECT_STREQ("[S] [S.] [.] [P.] [P.] [F.] [.] [F.] [.]", seq);
	if (k == 9) {
		EXPECT_EQ(5, p[all + 3].len);
		EXPECT_EQ(6, p[all + 4].len);
		/* the ISNs: SYN-ACK and ACK count from them */
		EXPECT_EQ(p[all].seq + 1, p[all + 1].ack);
		EXPECT_EQ(p[all + 1].seq + 1, p[all + 2].ack);
		EXPECT_EQ(0, check_continuity(p + all, k, why, sizeof(why)))
			TH_LOG("STREAM: %s", why);
	}

	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, SEQPACKET_PORT);
	flag_sequence(p + all, k, seq, sizeof(seq));
	/* 100 | 65495 + 4505 | 1 */
	EXPECT_STREQ("[S] [S.] [.] [P.] [.] [P.] [P.] [F.] [.] [F.] [.]", seq);
	if (k == 11) {
		EXPECT_EQ(100, p[all + 3].len);
		EXPECT_EQ(65495, p[all + 4].len);
		EXPECT_EQ(4505, p[all + 5].len);
		EXPECT_EQ(1, p[all + 6].len);
		EXPECT_EQ(0, check_continuity(p + all, k, why, sizeof(why)))
			TH_LOG("SEQPACKET: %s", why);
	}

	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, BULK_PORT);
	ASSERT_LT(8, k);
	for (i = 0, psh = 0; i < (size_t)k; i++)
		psh += p[all + i].len;
	EXPECT_EQ(BULK, psh);
	EXPECT_EQ(0, check_continuity(p + all, k, why, sizeof(why)))
		TH_LOG("bulk: %s", why);

	/* each appended write is a segment of its own in the capture */
	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, APPEND_PORT);
	for (i = 0, psh = 0; i < (size_t)k; i++)
		psh += p[all + i].len == 3;
	EXPECT_EQ(3, psh);
	EXPECT_EQ(0, check_continuity(p + all, k, why, sizeof(why)))
		TH_LOG("appended: %s", why);

	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, DGRAM_A);
	ASSERT_EQ(2, k);
	EXPECT_TRUE(p[all].udp && p[all + 1].udp);
	EXPECT_EQ(DGRAM_B & 0xffff, p[all].dport);
	EXPECT_EQ(5, p[all].len);
	EXPECT_EQ(sizeof(dgram), p[all + 1].len);
	EXPECT_TRUE(p[all].cksum_ok && p[all + 1].cksum_ok);

	k = only_port(memcpy(p + all, p, all * sizeof(*p)), all, DGRAM_BIG);
	ASSERT_EQ(1, k);
	EXPECT_TRUE(p[all].udp);
	EXPECT_EQ(UDP_MAX, p[all].len);
	EXPECT_TRUE(p[all].cksum_ok);

	ASSERT_EQ(0, run(argv, self->out, OUT_MAX)) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "Errors ("))
		TH_LOG("tshark -z expert:\n%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "Warnings ("))
		TH_LOG("tshark -z expert:\n%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "not captured"));
	EXPECT_EQ(NULL, strstr(self->out, "Malformed"));
	EXPECT_EQ(NULL, strstr(self->out, "hecksum"));
	EXPECT_FOLLOW(self->out, "tcp", 0, hello, 5, world, 6);
	EXPECT_FOLLOW(self->out, "tcp", 1, sent, total, "", 0);
	EXPECT_FOLLOW(self->out, "tcp", 2, sent, BULK, "", 0);
	EXPECT_FOLLOW(self->out, "tcp", 3, "abcabcabc", 9, "", 0);
	EXPECT_FOLLOW(self->out, "udp", 0, hello, 5, dgram, sizeof(dgram));
	EXPECT_FOLLOW(self->out, "udp", 1, sent, UDP_MAX, "", 0);
	free(sent);
	free(got);
}

/*
 * close() with unread data resets the connection, as TCP does: RST from
 * the closing side at its next sequence number, nothing after it.
 */
TEST_F(mon, reset)
{
	struct pkt *p = self->pkts;
	char seq[128], why[128], buf[8];
	int c, s, n;

	ASSERT_EQ(0, pair_on(SOCK_STREAM, 7004, &c, &s));
	ASSERT_EQ(3, write(c, "abc", 3));
	ASSERT_EQ(0, close(s));
	EXPECT_ERRNO(ECONNRESET, read(c, buf, sizeof(buf)));
	ASSERT_EQ(0, close(c));
	mon_stop(_metadata, self);

	n = mon_packets(_metadata, self);
	n = only_port(p, n, 7004);
	flag_sequence(p, n, seq, sizeof(seq));
	EXPECT_STREQ("[S] [S.] [.] [P.] [R.]", seq);
	EXPECT_EQ(0, check_continuity(p, n, why, sizeof(why))) TH_LOG("%s", why);
}

/* The packets of a capture file with TCP port @port (either side). */
static int capture_port(char *out, size_t len, const char *file, int port)
{
	static struct pkt p[256];
	int n;

	if (tcpdump_read(file, out, len))
		return -1;
	n = parse_tcpdump(out, p, ARRAY_SIZE(p));
	return n < 0 ? n : only_port(p, n, port);
}

/*
 * A capture sees its own netns only: a device in a child netns sees the
 * child's connection, not the parent's, and the other way round.
 */
TEST_F_TIMEOUT(mon, netns_isolation, 120)
{
	int p2c[2], c2p[2], st, n;

	struct capture cc;
	pid_t pid;

	ASSERT_EQ(0, pipe(p2c));
	ASSERT_EQ(0, pipe(c2p));
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_link_add("toymon0", "toymon", true) == 0);
		CHILD_CHECK(capture_start(&cc, "toymon0", "/tmp/toy_mon_ns.pcap") == 0);
		CHILD_CHECK(sync_post(c2p[1]) == 0);
		CHILD_CHECK(talk(41002) == 0);
		CHILD_CHECK(sync_wait(p2c[0]) == 0);	/* parent talked */
		CHILD_CHECK(capture_stop(&cc, self->out, OUT_MAX) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, sync_wait(c2p[0]));
	ASSERT_EQ(0, talk(41001));
	ASSERT_EQ(0, sync_post(p2c[1]));
	ASSERT_EQ(0, wait_child(pid));
	mon_stop(_metadata, self);

	/* [S] [S.] [.] [P.] [F.] [.] [F.] [.] */
	n = capture_port(self->out, OUT_MAX, PCAP, 41001);
	EXPECT_EQ(8, n);
	n = capture_port(self->out, OUT_MAX, PCAP, 41002);
	EXPECT_EQ(0, n);
	n = capture_port(self->out, OUT_MAX, "/tmp/toy_mon_ns.pcap", 41002);
	EXPECT_EQ(8, n);
	n = capture_port(self->out, OUT_MAX, "/tmp/toy_mon_ns.pcap", 41001);
	EXPECT_EQ(0, n);
	st = unlink("/tmp/toy_mon_ns.pcap");
	EXPECT_EQ(0, st);
}

/*
 * The IPv4 packets of TCP port @port a packet socket on @ifname sees,
 * until none is pending.
 */
static int packets_of_port(int fd, int port)
{
	uint8_t pkt[70000];
	int n = 0;
	ssize_t r;

	while ((r = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0) {
		if (r >= 24 && pkt[0] == 0x45 && pkt[9] == IPPROTO_TCP &&
		    ((pkt[20] << 8 | pkt[21]) == port ||
		     (pkt[22] << 8 | pkt[23]) == port))
			n++;
	}
	return n;
}

/*
 * Only CAP_NET_ADMIN over the netns creates a device: EPERM for an
 * unprivileged user in the initial netns, success for the same user in
 * a netns of its own user namespace, where it sees its own traffic.
 */
TEST(cap_net_admin)
{
	pid_t pid;

	NEED_TOOLS();
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sockaddr_ll ll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_ALL),
		};
		int fd, n;

		CHILD_CHECK(setgid(65534) == 0 && setuid(65534) == 0);
		CHILD_CHECK(toy_link_add("toymon9", "toymon", false) == -EPERM);
		CHILD_CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0);
		CHILD_CHECK(toy_link_add("toymon9", "toymon", true) == 0);
		ll.sll_ifindex = if_nametoindex("toymon9");
		CHILD_CHECK(ll.sll_ifindex > 0);
		fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(bind(fd, (void *)&ll, sizeof(ll)) == 0);
		CHILD_CHECK(talk(41003) == 0);
		n = packets_of_port(fd, 41003);
		if (n != 8)
			fprintf(stderr, "# %d packets of port 41003\n", n);
		CHILD_CHECK(n == 8);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(-ENODEV, toy_link_del("toymon9"));
}

/*
 * Unload while a capture runs: af_toy is pinned by the up device
 * (EAGAIN: in use), af_toy_mon goes at once and takes its device with
 * it (tcpdump ends), the traffic goes on; then af_toy unloads too, and
 * both load again.  With the device down af_toy is unloadable, and the
 * device cannot go up without it.
 */
TEST(unload_while_capturing)
{
	struct capture cc;
	char out[1024], *big;
	int c, s, i, st;
	long port;
	pid_t pid;

	NEED_TOOLS();
	big = malloc(OUT_MAX);
	ASSERT_NE(NULL, big);
	toy_link_del("toymon1");
	ASSERT_EQ(0, toy_link_add("toymon1", "toymon", true));
	ASSERT_EQ(0, capture_start(&cc, "toymon1", PCAP));
	ASSERT_EQ(0, toy_connect_pair(SOCK_STREAM, &c, &s));
	port = toy_port(c);
	pid = toy_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[64];

		close(c);
		while (read(s, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(s);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(64, write(c, out, 64));
	}
	capture_sync(&cc);

	EXPECT_EQ(-1, toy_module_unload("af_toy", 1));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, toy_module_unload("af_toy_mon", TOY_WAIT_TRIES));
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(64, write(c, out, 64));
	}
	st = capture_stop(&cc, out, sizeof(out));
	EXPECT_NE(0, st) TH_LOG("tcpdump: %s", out);	/* its device went */
	close(c);
	ASSERT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, toy_module_unload("af_toy", TOY_WAIT_TRIES));

	/* right after: both load again; down, af_toy is free to go */
	ASSERT_EQ(0, toy_module_load(MON_KO, ""));
	ASSERT_EQ(0, toy_link_add("toymon1", "toymon", false));
	EXPECT_EQ(-EPROTONOSUPPORT, toy_link_set_up("toymon1", true));
	ASSERT_EQ(0, toy_module_load(TOY_MODULE_PATH, ""));
	ASSERT_EQ(0, toy_link_set_up("toymon1", true));
	EXPECT_EQ(-1, toy_module_unload("af_toy", 1));
	ASSERT_EQ(0, toy_link_set_up("toymon1", false));
	ASSERT_EQ(0, toy_module_unload("af_toy", TOY_WAIT_TRIES));
	ASSERT_EQ(0, toy_module_load(TOY_MODULE_PATH, ""));
	EXPECT_EQ(0, toy_link_del("toymon1"));
	/* what was written until the device went reads back */
	EXPECT_LE(3 + 50, capture_port(big, OUT_MAX, PCAP, port));
	unlink(PCAP);
	free(big);
}

TEST_HARNESS_MAIN

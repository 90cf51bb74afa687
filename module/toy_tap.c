// SPDX-License-Identifier: GPL-2.0
/*
 * Copies of every segment for monitor devices (af_toy_mon.ko, see
 * toy_tap.h): each SYN, SYN-ACK, ACK, DATA, FIN and RST becomes an IPv4
 * packet from 127.0.0.1 to 127.0.0.1 that tcpdump and Wireshark decode
 * natively: TCP for STREAM and SEQPACKET (one record per segment, PSH on
 * its last packet), UDP for DGRAM.  Ports are the AF_TOY ports' low 16
 * bits.  Each socket numbers its bytes from a random-looking initial
 * sequence number, a keyed hash of the socket (toy_tap_isn()), so that no
 * socket pays for a random draw a capture may never ask for; tap_seq counts
 * the numbers used since; SYN and FIN count one, as in TCP.  A segment's ack
 * number is its peer's next sequence number (what the sender has received:
 * everything its peer sent is already in its queue; tsk->tap_ack once the
 * peer is unlinked), its window the room left in the sender's receive queue,
 * scaled by TOY_TAP_WSCALE, announced in the SYN and SYN-ACK.  A DATA
 * segment longer than one IPv4 packet is split into packets of TOY_TAP_MSS
 * bytes with consecutive sequence numbers; a DGRAM record longer than one
 * UDP packet is truncated (the UDP length says what the packet carries).
 *
 * Cost with no monitor: toy_tap_segment() is a static branch, patched
 * to a jump only while at least one tap is registered; tap_seq then
 * advances too, so numbering starts when the first monitor goes up.
 * Each netns has its own list of taps (as netlink's taps), so monitors
 * elsewhere cost a segment one look at an empty list, whatever their
 * number.
 *
 * Locking and references: a netns's taps (toy_net->taps) are an RCU list,
 * written under toy_taps_lock by toy_add_tap()/toy_remove_tap() (under
 * RTNL, from ndo_open/ndo_stop; a device changes netns only while down)
 * and read under rcu_read_lock() by the senders, in
 * the context of the segment's narration (a syscall, possibly under the
 * receiver's queue lock: so GFP_ATOMIC, and nothing here takes an AF_TOY
 * lock).  toy_remove_tap() waits for the readers (synchronize_net()), so
 * a device is never used after its ndo_stop.  tap_seq is atomic: a
 * STREAM's DATA segments are numbered under the receiver's queue lock,
 * its SYN and FIN by the sending socket's own syscall.  The peer whose
 * tap_seq gives the ack number is the socket's referenced tsk->peer,
 * alive for as long as the sender's syscall runs.
 */
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/ip.h>
#include <linux/jump_label.h>
#include <linux/netdevice.h>
#include <linux/rculist.h>
#include <linux/siphash.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/tcp.h>

#include "af_toy.h"
#include "toy_tap.h"

DEFINE_STATIC_KEY_FALSE(toy_tap_active);

static DEFINE_SPINLOCK(toy_taps_lock);

/* The largest IPv4 packet: 64 KiB - 1. */
#define TOY_TAP_IP_MAX		0xffff
#define TOY_TAP_MSS		(TOY_TAP_IP_MAX - sizeof(struct iphdr) - \
				 sizeof(struct tcphdr))
#define TOY_TAP_UDP_MAX		(TOY_TAP_IP_MAX - sizeof(struct iphdr) - \
				 sizeof(struct udphdr))
/* Window scale of every connection: a 64 KiB field covers 8 MiB. */
#define TOY_TAP_WSCALE		7
/* MSS (4 bytes), NOP, window scale (3 bytes): the SYN's options. */
#define TOY_TAP_SYN_OPTS	8
/* Payload pages: try 64 KiB at once, order 0 when memory is fragmented. */
#define TOY_TAP_ORDER		get_order(TOY_TAP_IP_MAX)

/* One packet's header fields. */
struct toy_tap_pkt {
	__be16 sport, dport;
	u32 seq, ack;
	u16 win;		/* unscaled: the bytes of room */
	u8 flags;		/* TCPHDR_* */
	bool udp;
};

int toy_add_tap(struct toy_tap *tap)
{
	ASSERT_RTNL();
	spin_lock(&toy_taps_lock);
	list_add_rcu(&tap->list, &toy_net(dev_net(tap->dev))->taps);
	spin_unlock(&toy_taps_lock);
	static_branch_inc(&toy_tap_active);
	return 0;
}
EXPORT_SYMBOL_GPL(toy_add_tap);

void toy_remove_tap(struct toy_tap *tap)
{
	ASSERT_RTNL();
	spin_lock(&toy_taps_lock);
	list_del_rcu(&tap->list);
	spin_unlock(&toy_taps_lock);
	synchronize_net();
	static_branch_dec(&toy_tap_active);
}
EXPORT_SYMBOL_GPL(toy_remove_tap);

/* Room in @sk's receive queue, as a window field of a packet. */
static u16 toy_tap_window(struct sock *sk, bool syn)
{
	int room = READ_ONCE(sk->sk_rcvbuf) -
		   atomic_read(&toy_sk(sk)->rq_mem);

	if (room <= 0)
		return 0;
	if (!syn)
		room >>= TOY_TAP_WSCALE;
	return min(room, 0xffff);
}

static void toy_tap_tcp_header(struct tcphdr *th, const struct toy_tap_pkt *p,
			       unsigned int hlen)
{
	u8 *opt = (u8 *)(th + 1);

	memset(th, 0, hlen);
	th->source = p->sport;
	th->dest = p->dport;
	th->seq = htonl(p->seq);
	th->ack_seq = htonl(p->ack);
	th->doff = hlen / 4;
	tcp_flag_byte(th) = p->flags;
	th->window = htons(p->win);
	if (hlen == sizeof(*th))
		return;
	*opt++ = TCPOPT_MSS;
	*opt++ = TCPOLEN_MSS;
	*opt++ = TOY_TAP_MSS >> 8;
	*opt++ = TOY_TAP_MSS & 0xff;
	*opt++ = TCPOPT_NOP;
	*opt++ = TCPOPT_WINDOW;
	*opt++ = TCPOLEN_WINDOW;
	*opt = TOY_TAP_WSCALE;
}

/*
 * Copies @n bytes of @d's payload from @off to @to; returns their
 * checksum.  The payload is an skb's (queued, under its receiver's queue
 * lock) or a reader's pinned pages (a direct copy, before the reader may
 * return).
 */
static __wsum toy_tap_copy(const struct toy_tap_data *d, u32 off, u8 *to,
			   u32 n)
{
	size_t pos, chunk;
	u32 done;

	if (d->skb)
		return skb_copy_and_csum_bits(d->skb, d->off + off, to, n);
	for (done = 0; done < n; done += chunk) {
		pos = d->off + off + done;
		chunk = min_t(size_t, n - done, PAGE_SIZE - offset_in_page(pos));
		memcpy_from_page(to + done, d->pages[pos / PAGE_SIZE],
				 offset_in_page(pos), chunk);
	}
	return csum_partial(to, n, 0);
}

/*
 * One packet for @p carrying @len bytes of @data from @off: headers in
 * the head, the payload in page fragments (no high-order allocation is
 * needed), checksums computed while copying.
 */
static struct sk_buff *toy_tap_build(const struct toy_tap_pkt *p,
				     const struct toy_tap_data *data, u32 off,
				     u32 len)
{
	unsigned int l4len, pos = 0;
	__wsum csum = 0;
	struct sk_buff *skb;
	struct iphdr *iph;
	int err, i;

	if (p->udp)
		l4len = sizeof(struct udphdr);
	else if (p->flags & TCPHDR_SYN)
		l4len = sizeof(struct tcphdr) + TOY_TAP_SYN_OPTS;
	else
		l4len = sizeof(struct tcphdr);
	skb = alloc_skb_with_frags(sizeof(*iph) + l4len, len, TOY_TAP_ORDER,
				   &err, GFP_ATOMIC | __GFP_NOWARN);
	if (!skb)
		return NULL;
	skb_put(skb, sizeof(*iph) + l4len);
	skb->data_len = len;
	skb->len += len;
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
		unsigned int n = skb_frag_size(frag);

		csum = csum_block_add(csum,
				      toy_tap_copy(data, off + pos,
						   skb_frag_address(frag), n),
				      pos);
		pos += n;
	}

	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*iph));
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = 0;
	iph->tot_len = htons(skb->len);
	iph->id = 0;
	iph->frag_off = htons(IP_DF);
	iph->ttl = IPDEFTTL;
	iph->protocol = p->udp ? IPPROTO_UDP : IPPROTO_TCP;
	iph->saddr = htonl(INADDR_LOOPBACK);
	iph->daddr = htonl(INADDR_LOOPBACK);
	iph->check = 0;
	iph->check = ip_fast_csum(iph, iph->ihl);

	/* l4len is even: the payload's sum adds as it is. */
	if (p->udp) {
		struct udphdr *uh = udp_hdr(skb);

		uh->source = p->sport;
		uh->dest = p->dport;
		uh->len = htons(l4len + len);
		uh->check = 0;
		csum = csum_partial(uh, l4len, csum);
		uh->check = csum_tcpudp_magic(iph->saddr, iph->daddr,
					      l4len + len, IPPROTO_UDP, csum);
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
	} else {
		struct tcphdr *th = tcp_hdr(skb);

		toy_tap_tcp_header(th, p, l4len);
		csum = csum_partial(th, l4len, csum);
		th->check = csum_tcpudp_magic(iph->saddr, iph->daddr,
					      l4len + len, IPPROTO_TCP, csum);
	}
	skb->protocol = htons(ETH_P_IP);
	skb->ip_summed = CHECKSUM_NONE;
	return skb;
}

/* Transmits one packet on every tap of @net; consumes @skb. */
static void toy_tap_xmit(struct net *net, struct sk_buff *skb)
{
	struct toy_tap *tap;

	list_for_each_entry_rcu(tap, &toy_net(net)->taps, list) {
		struct sk_buff *nskb;

		nskb = skb_clone(skb, GFP_ATOMIC);
		if (!nskb)
			continue;
		nskb->dev = tap->dev;
		dev_queue_xmit(nskb);
	}
	consume_skb(skb);
}

static bool toy_tap_in_net(struct net *net)
{
	return !list_empty(&toy_net(net)->taps);
}

/*
 * @len bytes of @data (possibly none) as packets like @p: TCP split at
 * TOY_TAP_MSS with PSH only on the last one, UDP (@len already cut to
 * TOY_TAP_UDP_MAX) in one.
 */
static void toy_tap_send(struct net *net, struct toy_tap_pkt *p,
			 const struct toy_tap_data *data, u32 len)
{
	u32 mss = p->udp ? TOY_TAP_UDP_MAX : TOY_TAP_MSS;
	u8 psh = p->flags & TCPHDR_PSH;
	u32 off = 0;

	do {
		u32 n = min_t(u32, len - off, mss);
		struct sk_buff *skb;

		p->flags &= ~TCPHDR_PSH;
		if (off + n == len)
			p->flags |= psh;
		skb = toy_tap_build(p, data, off, n);
		if (skb)
			toy_tap_xmit(net, skb);
		p->seq += n;
		off += n;
	} while (off < len);
}

/*
 * A socket's initial sequence number: secret-keyed, so that it neither
 * shows the socket's address nor can be guessed, and different for a new
 * socket at a freed one's address (its place in its netns's index,
 * tsk->id, is never reused there, and is set before the socket's first
 * segment; captures are per netns).
 */
static u32 toy_tap_isn(const struct toy_sock *tsk)
{
	static siphash_key_t key __read_mostly;

	net_get_random_once(&key, sizeof(key));
	return siphash_2u64((unsigned long)tsk, tsk->id, &key);
}

void __toy_tap_segment(struct sock *from, u32 to_port,
		       enum toy_seg_kind kind, const struct toy_tap_data *data)
{
	struct toy_sock *tsk = toy_sk(from);
	struct net *net = sock_net(from);
	struct toy_tap_pkt p = {
		.sport	= htons((u16)READ_ONCE(tsk->port)),
		.dport	= htons((u16)to_port),
	};
	struct toy_sock *peer;
	u32 len = data ? data->len : 0;

	if (from->sk_type == SOCK_DGRAM) {
		if (kind != TOY_SEG_DATA)
			return;
		p.udp = true;
		rcu_read_lock();
		if (toy_tap_in_net(net))
			toy_tap_send(net, &p, data, min_t(u32, len,
							  TOY_TAP_UDP_MAX));
		rcu_read_unlock();
		return;
	}

	switch (kind) {
	case TOY_SEG_SYN:
		p.flags = TCPHDR_SYN;	/* sent before the peers are linked */
		len = 1;
		break;
	case TOY_SEG_SYN_ACK:
		p.flags = TCPHDR_SYN | TCPHDR_ACK;
		len = 1;
		break;
	case TOY_SEG_ACK:
		p.flags = TCPHDR_ACK;
		break;
	case TOY_SEG_DATA:
		p.flags = TCPHDR_PSH | TCPHDR_ACK;
		break;
	case TOY_SEG_FIN:
		p.flags = TCPHDR_FIN | TCPHDR_ACK;
		len = 1;
		break;
	case TOY_SEG_RST:
		p.flags = TCPHDR_RST | TCPHDR_ACK;
		break;
	}
	/* Numbered even with no tap in this netns: one counter, one rule. */
	p.seq = toy_tap_isn(tsk) + atomic_fetch_add(len, &tsk->tap_seq);
	peer = toy_peer(tsk);
	if (peer) {
		p.ack = toy_tap_isn(peer) + atomic_read(&peer->tap_seq);
		WRITE_ONCE(peer->tap_ack, p.seq + len);
	} else {
		p.ack = READ_ONCE(tsk->tap_ack);
	}
	if (kind == TOY_SEG_SYN)
		p.ack = 0;
	p.win = toy_tap_window(from, p.flags & TCPHDR_SYN);

	rcu_read_lock();
	if (toy_tap_in_net(net))
		toy_tap_send(net, &p, kind == TOY_SEG_DATA ? data : NULL,
			     kind == TOY_SEG_DATA ? len : 0);
	rcu_read_unlock();
}

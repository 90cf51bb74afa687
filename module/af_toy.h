/* SPDX-License-Identifier: GPL-2.0 */
/*
 * af_toy internal definitions shared by the module's files.
 *
 * Locking and references (the whole module follows this):
 *
 * - The port table of a netns is split in buckets, each with its own
 *   spinlock (innermost; nothing is taken under it).  Buckets are chosen by
 *   a keyed hash with a per-netns random key, so user-chosen ports cannot
 *   be steered into one chain.
 * - toy_net->socks (lists by socket address, a spinlock each: toy_index.c)
 *   index every socket of the netns for /proc/net/toy and sock_diag; a walk
 *   holds one list's lock at a time and resumes at a cursor: it finds its
 *   place again within one list (1/256 of the sockets, as in
 *   AF_UNIX's hash buckets), never by a rescan of the lists before it.
 * - The "queue lock" of a toy socket is sk->sk_receive_queue.lock, taken
 *   with toy_queue_lock()/toy_queue_unlock().  It protects the receive queue, the
 *   rq_bytes counter, sk_shutdown, sk_state and, on a listener, the accept
 *   queue and sk_ack_backlog; on a DGRAM socket, the port it connected
 *   to (dgram_dst: senders check its filter under the lock as they
 *   queue) and, as a sender, wake_target; on a STREAM
 *   reader, the buffer it offers (tsk->direct) and the growth of the last
 *   queued skb (skb->len, appended to by small writes).  Two queue
 *   locks are never held together: every event that crosses a connection
 *   (SYN, FIN, ACK, RST, data) is applied to the receiving socket under
 *   that socket's queue lock alone, so there is no lock order between
 *   peers.  A queue lock may be held while taking another socket's
 *   backlog_wait.lock (abort of a connect, DGRAM poll's wake-up hook),
 *   never the reverse.  Lockless readers (poll, /proc) use READ_ONCE().
 * - lock_sock() serialises the control calls on one socket (bind, listen,
 *   connect, shutdown) and covers connect()'s SYN_SENT -> ESTABLISHED
 *   decision, so shutdown() sees either state, never a half-made one;
 *   tsk->rd_lock serialises readers so that bytes leave a stream in order.
 *   Neither is held while taking another socket's lock_sock().
 * - tsk->ring (the writer's recycled data pages) has its own mutex, taken
 *   by writers and by the idle-trim work, with no other lock held; under
 *   it, or alone, its arm_lock (a spinlock) orders queueing the trim
 *   against close.
 * - References: a struct socket owns the reference from sk_alloc().  An
 *   accept-queue child's reference is owned by the listener's queue until
 *   accept() grafts it; a listener's spare child's by tsk->spare (stored
 *   under the queue lock while listening, taken with xchg():
 *   toy_connect.c).  tsk->peer holds a reference on the peer, set once
 *   when the connection is made and dropped at release under
 *   sk_callback_lock (write), so a syscall on a socket may use tsk->peer
 *   without locks, and a callback run from another context (write-space)
 *   reads it under sk_callback_lock (read).  An skb in a receive queue
 *   holds write memory (sk_wmem_alloc) of its sender, which keeps the
 *   sender's struct sock alive until the skb is consumed or purged.
 *   wake_target and a queued ring-trim work each hold a reference on their
 *   socket.  Every sock holds a reference on the module through
 *   toy_proto.owner, so rmmod is refused while any exists; the module's
 *   workqueue is drained at exit for a work that dropped the last one.
 */
#ifndef _AF_TOY_H
#define _AF_TOY_H

#include <linux/atomic.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "uapi/linux/toy.h"
#include "toy_compat.h"

#define TOY_PORT_HASH_BITS	12
/* Lists of the socket index per netns (toy_index.c) */
#define TOY_INDEX_BITS		8

extern int toy_family;
extern struct workqueue_struct *toy_wq;

/* Logical segments, as tracepoints and counters name them. */
enum toy_seg_kind {
	TOY_SEG_SYN,
	TOY_SEG_SYN_ACK,
	TOY_SEG_ACK,
	TOY_SEG_DATA,
	TOY_SEG_FIN,
	TOY_SEG_RST,
};

/* Socket calls, for the toy_call_enter/exit tracepoints. */
enum toy_call {
	TOY_CALL_SOCKET,
	TOY_CALL_BIND,
	TOY_CALL_LISTEN,
	TOY_CALL_ACCEPT,
	TOY_CALL_CONNECT,
	TOY_CALL_SENDMSG,
	TOY_CALL_RECVMSG,
	TOY_CALL_SHUTDOWN,
	TOY_CALL_RELEASE,
};

/* /proc/net/toy_stat counters; names in toy_proc.c, same order. */
enum toy_stat {
	TOY_STAT_SOCKETS_ALIVE,
	TOY_STAT_SOCKETS_CREATED,
	TOY_STAT_CONNECTS,
	TOY_STAT_CONNECTS_REFUSED,
	TOY_STAT_RESETS,
	TOY_STAT_ACCEPTS,
	TOY_STAT_SEG_SYN,	/* TOY_STAT_SEG_SYN + enum toy_seg_kind */
	TOY_STAT_SEG_SYN_ACK,
	TOY_STAT_SEG_ACK,
	TOY_STAT_SEG_DATA,
	TOY_STAT_SEG_FIN,
	TOY_STAT_SEG_RST,
	TOY_STAT_BYTES_SENT,
	TOY_STAT_BYTES_RECEIVED,
	TOY_STAT_BACKLOG_OVERFLOWS,
	TOY_STAT_EPIPE,
	TOY_STAT_MEM,
	TOY_STAT_BYTES_APPENDED,	/* small writes added to a queued skb */
	TOY_STAT_BYTES_DIRECT,		/* copied straight into a reader */
	TOY_STAT_CHILDREN_PREMADE,	/* connections served by a spare */
	TOY_STAT_BYTES_DIRECT_READER,	/* bytes_direct the reader copied */
	TOY_STAT_NR
};

struct toy_port_bucket {
	spinlock_t lock;		/* head and its sockets' bind_node */
	struct hlist_head head;
};

struct toy_index_list {
	spinlock_t lock;		/* head, last_id, sockets' index_node */
	struct list_head head;		/* sorted by tsk->id */
	u64 last_id;
};

struct toy_net {
	struct toy_port_bucket *ports;	/* 1 << TOY_PORT_HASH_BITS */
	u32 hash_key;			/* random: ports cannot be steered */
	struct toy_index_list *socks;	/* every socket: 1 << TOY_INDEX_BITS */
	struct toy_stats __percpu *stats;	/* summed by /proc */
	struct list_head taps;		/* monitor devices up here (toy_tap.c) */
};

struct toy_stats {
	long v[TOY_STAT_NR];
};

/*
 * Data pages a writer recycles: a page may be overwritten once only the
 * ring holds it (page_ref_count() == 1), i.e. every skb that pointed into
 * it has been read and freed.  Saves the page allocator and, with
 * init_on_alloc, the zeroing of every page on every write.  The pages no
 * skb refers to go back to the allocator once the writer has written
 * nothing for TOY_RING_IDLE (trim), so an idle socket pins none beyond
 * what its unread bytes use.
 */
#define TOY_RING_PAGES	8
#define TOY_RING_ORDER	3		/* 32 KiB, like SKB_FRAG_PAGE_ORDER */
/* (A datagram socket's ring has order-0 pages: toy_alloc_dgram_ring().) */
#define TOY_RING_IDLE	(HZ / 10)
/*
 * Payloads above this size use the ring (datagrams: only those of about
 * a page, toy_alloc_data_skb()); smaller ones an skb's own head.
 */
#define TOY_RING_MIN	1024
/*
 * Stream writes up to TOY_APPEND_MAX bytes may be appended to the last
 * skb queued to the reader; such a write's own skb gets a head of
 * TOY_APPEND_ROOM bytes (2 KiB with its overhead) so that the next ones
 * can be.
 */
#define TOY_APPEND_MAX	256
#define TOY_APPEND_ROOM	SKB_WITH_OVERHEAD(2048)
/*
 * Direct copy (toy_direct.c): a waiting reader offers at most
 * TOY_DIRECT_MAX bytes of its buffer, and only for reads and writes of
 * at least TOY_DIRECT_MIN bytes, below which pinning the pages costs
 * more than the copy it saves.
 */
#define TOY_DIRECT_MAX		(64 * 1024)
/* One more page than it fills: a buffer need not start on a page. */
#define TOY_DIRECT_PAGES	(DIV_ROUND_UP(TOY_DIRECT_MAX - 1, PAGE_SIZE) + 1)
#define TOY_DIRECT_MIN		(16 * 1024)
/*
 * A direct copy of at least TOY_DIRECT_SHARE_MIN bytes goes from the
 * writer's pinned pages, in pieces of TOY_DIRECT_PIECE bytes that the
 * writer and the reader (on another CPU) copy at once.
 */
#define TOY_DIRECT_SHARE_MIN	(32 * 1024)
#define TOY_DIRECT_PIECE	(8 * 1024)
/* How long a big write waits for its reader's offer (toy_direct_await()) */
#define TOY_DIRECT_AWAIT_NS	(200 * NSEC_PER_USEC)
/*
 * How long a reader's offer stands (its pages pinned) before it sleeps
 * the usual way: a pin is for a short time, not for an idle connection.
 */
#define TOY_DIRECT_OFFER_TIME	(HZ / 100 + 1)	/* a jiffy may end at once */
/*
 * How long a reader that just wrote or read a record waits for more before
 * sleeping; after n spins in a row that came to nothing, only every
 * 2^(n-1)-th wait after a read spins (n up to TOY_SPIN_BACKOFF_MAX), so
 * that a one-way flow that pauses does not cost a spin a record.
 */
#define TOY_SPIN_NS		(50 * NSEC_PER_USEC)
#define TOY_SPIN_BACKOFF_MAX	6
#define TOY_SPINNING		0	/* bit of tsk->spin_flags */
/* Largest payload one ring skb carries (a stream write's chunk). */
#define TOY_RING_MAX	(64 * 1024)
struct toy_ring {
	struct mutex lock;		/* writers of one socket, trim */
	unsigned int cur, off;
	unsigned long last_use;		/* jiffies of the last write */
	spinlock_t arm_lock;		/* closed vs queueing the trim */
	bool closed;			/* released: no more trims */
	struct sock *sk;		/* the owner, for trim */
	struct delayed_work trim;	/* holds a reference on sk */
	struct page *page[TOY_RING_PAGES];
	unsigned int size[TOY_RING_PAGES];
	unsigned int order;		/* of new pages: 0 for datagrams */
};

struct toy_sock {
	struct sock sk;			/* must be first */
	/* sock_net(sk)'s: kept here, as the hot paths' counters need it */
	struct toy_net *tn;
	u32 port;			/* local port, 0 while unbound */
	u32 peer_port;
	bool bound;			/* holds tsk->port in the port table */
	bool listed;			/* visible in toy_net->socks */
	bool fin_sent;			/* we sent FIN (or RST) */
	struct hlist_node bind_node;
	struct list_head index_node;	/* in toy_net->socks while listed */
	u64 id;				/* order in that list */
	/* listener: children on accept_q, of sk_ack_backlog */
	unsigned int accept_qlen;
	u32 dgram_dst;			/* DGRAM: connected port; queue lock */
	struct toy_sock *peer;		/* set once, referenced */
	struct list_head accept_q;	/* listener: established children */
	struct sock *spare;		/* listener: next child, made by accept() */
	struct list_head accept_node;
	wait_queue_head_t backlog_wait;	/* connect()/DGRAM senders waiting for room */
	struct mutex rd_lock;
	struct toy_ring *ring;		/* writer's recycled data pages */
	atomic_t rq_bytes;		/* unread bytes queued to us */
	atomic_t sq_bytes;		/* our bytes the peer has not read */
	atomic_t rq_mem;		/* truesize queued to us (DGRAM) */
	struct sock *syn_to;		/* listener a connect() waits on */
	/* DGRAM poll(): hooked on a full receiver's backlog_wait */
	struct wait_queue_entry peer_wake;
	struct sock *wake_target;	/* that receiver, referenced */
	/* STREAM: the buffer our waiting reader offers (toy_direct.c) */
	struct toy_direct *direct;
	bool big_writes;		/* the peer's last write was big */
	/*
	 * Hints for writers (toy_direct_await()): the CPU a big reader of
	 * ours reads on, or was handed bytes on (offer_handed), and will
	 * offer its buffer from; -1: it has, or no offer is expected
	 */
	int offer_cpu;
	bool offer_handed;
	/* writer: big writes that do not wait, and misses in a row */
	u8 await_skip;
	u8 await_backoff;
	/* Readers' spin (toy_spin_for_data()): waits left to skip, backoff */
	u16 spin_skip;
	u8 spin_backoff;
	u64 last_send;			/* local_clock() of our last write */
	u64 last_recv;			/* ... of our last record read */
	unsigned long spin_flags;	/* TOY_SPINNING: a reader spins */
	/*
	 * A capture's TCP numbering (toy_tap.c), advanced only while a
	 * monitor is up: tap_seq is how far our segments' numbers have
	 * gone past our initial sequence number (toy_tap_isn()), 0 at
	 * creation; tap_ack the peer's next sequence number as its last
	 * segment left it, our ack number once the peer is no longer
	 * linked (our last ACK after close()).
	 */
	atomic_t tap_seq;
	u32 tap_ack;
};

/* Per-skb state, kept in skb->cb. */
struct toy_skb_cb {
	u32 consumed;			/* bytes of a stream skb already read */
	u32 src_port;			/* DGRAM: sender's port */
};

#define TOY_SKB_CB(skb) ((struct toy_skb_cb *)((skb)->cb))

static inline struct toy_sock *toy_sk(const struct sock *sk)
{
	return (struct toy_sock *)sk;
}

/*
 * Our netns's state, without net_generic()'s RCU section: the netns
 * outlives its sockets.  A user socket holds a reference on it; a kernel
 * socket holds none, and its user must release it in a pernet exit that
 * runs before ours (registered after af_toy), as net_generic() already
 * required.
 */
static inline struct toy_net *toy_sk_net(const struct sock *sk)
{
	return toy_sk(sk)->tn;
}

/*
 * Per-CPU, so that the data path of two CPUs shares no counter line;
 * inline, as a data segment counts several.
 */
static inline void toy_stat_add(const struct sock *sk, enum toy_stat item,
				long val)
{
	this_cpu_add(toy_sk_net(sk)->stats->v[item], val);
}

static inline void toy_queue_lock(struct sock *sk)
{
	spin_lock(&sk->sk_receive_queue.lock);
}

static inline void toy_queue_unlock(struct sock *sk)
{
	spin_unlock(&sk->sk_receive_queue.lock);
}

static inline struct toy_sock *toy_peer(const struct toy_sock *tsk)
{
	/* Pairs with smp_store_release() when the connection is made. */
	return smp_load_acquire(&tsk->peer);
}

/* The peer port shown (/proc, diag, trace): DGRAM's connected destination. */
static inline u32 toy_shown_peer_port(const struct toy_sock *tsk)
{
	return tsk->sk.sk_type == SOCK_DGRAM ? READ_ONCE(tsk->dgram_dst) :
					       READ_ONCE(tsk->peer_port);
}

/*
 * Whether @tsk's queue holds less than @limit of truesize.  Unsigned, as
 * UDP's __udp_enqueue_schedule_skb(): with SO_RCVBUFFORCE near INT_MAX
 * the count may pass INT_MAX, and a signed look would find room for ever.
 */
static inline bool toy_rq_below(const struct toy_sock *tsk, int limit)
{
	return (unsigned int)atomic_read(&tsk->rq_mem) < (unsigned int)limit;
}

/* af_toy_main.c: registration, socket creation, narration */
struct sock *toy_sk_alloc(struct net *net, struct socket *sock, int type,
			  gfp_t gfp, int kern);
struct toy_net *toy_net(const struct net *net);
const char *toy_state_name(int state);
const char *toy_type_name(int type);
void toy_set_state(struct sock *sk, int state);
void toy_segment(struct sock *from, u32 to_port, enum toy_seg_kind kind,
		 size_t len);
unsigned long toy_sk_ino(struct sock *sk);
/* toy_export.c: one socket as /proc/net/toy and sock_diag show it */
struct toy_sock_info;
void toy_snapshot(struct toy_sock *tsk, struct toy_sock_info *info);

/* toy_sock.c: the socket calls and callbacks every type shares */
int toy_check_addr(const struct sockaddr *uaddr, int alen, u32 *port);
int toy_bind(struct socket *sock, struct sockaddr *uaddr, int alen);
int toy_getname(struct socket *sock, struct sockaddr *uaddr, int peer);
int toy_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg);
int toy_socketpair(struct socket *a, struct socket *b);
void toy_link_peers(struct sock *a, struct sock *b);
void toy_drop_peer(struct sock *sk);
void toy_set_peercred(struct sock *sk, struct pid *pid,
		      const struct cred *cred);
void toy_copy_peercred(struct sock *sk, struct sock *from);
bool toy_writable(struct sock *sk);
void toy_write_space(struct sock *sk);
void toy_note_nospace(struct socket *sock, struct sock *sk);
bool toy_poll_room(struct socket *sock, struct sock *sk,
		   bool (*room)(struct sock *sk));

/* toy_addr.c: the per-netns port table */
int toy_port_bind(struct sock *sk, u32 port);
int toy_port_autobind(struct sock *sk);
void toy_port_unbind(struct sock *sk);
void toy_port_release_auto(struct sock *sk);
struct sock *toy_port_lookup(struct toy_net *tn, int type, u32 port);
int toy_net_init_table(struct toy_net *tn);
void toy_net_exit_table(struct toy_net *tn);

/* toy_index.c: the per-netns index of every socket, and walks over it */
int toy_net_init_index(struct toy_net *tn);
void toy_net_exit_index(struct toy_net *tn);
void toy_sock_link(struct sock *sk);
void toy_sock_unlink(struct sock *sk);
void toy_index_lock(struct toy_net *tn, u64 cursor)
	__acquires(toy_index);
void toy_index_unlock(struct toy_net *tn, u64 cursor)
	__releases(toy_index);
struct toy_sock *toy_sock_find(struct toy_net *tn, u64 *cursor)
	__must_hold(toy_index);
struct toy_sock *toy_index_step(struct toy_net *tn, struct toy_sock *tsk,
				u64 *cursor, bool resched)
	__must_hold(toy_index);

/* toy_connect.c: listen(), connect(), accept() and the handshake */
int toy_listen(struct socket *sock, int backlog);
int toy_connect(struct socket *sock, struct sockaddr *uaddr, int alen,
		int flags);
int toy_do_accept(struct socket *sock, struct socket *newsock, int flags);
void toy_free_spare(struct sock *lsk);
void toy_abort_connect(struct sock *sk, int how);

/* toy_connectible.c: STREAM and SEQPACKET data, shutdown, close, poll */
/*
 * The proto_ops tables say PF_TOY; with another family= the socket's
 * family (sk_family, the registered net_proto_family) is that number: the
 * kernel never reads a socket family's proto_ops.family, and the tables
 * stay const.
 */
extern const struct proto_ops toy_stream_ops;
extern const struct proto_ops toy_seqpacket_ops;
void toy_abort_child(struct sock *sk);

/* toy_dgram.c */
extern const struct proto_ops toy_dgram_ops;
int toy_dgram_peer_wake(struct wait_queue_entry *wait, unsigned int mode,
			int sync, void *key);
int toy_dgram_admit(struct sock *target, struct sock *from);

/* Whether a reader waiting on @sk has something to look at. */
static inline bool toy_readable(struct sock *sk)
{
	return !skb_queue_empty_lockless(&sk->sk_receive_queue) ||
	       READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

/* toy_direct.c: stream writes copied straight into a waiting reader */
bool toy_direct_wanted(struct sock *sk, struct msghdr *msg, size_t len,
		       int flags);
int toy_direct_wait(struct sock *sk, struct msghdr *msg, size_t len,
		    long *timeo);
int toy_direct_give(struct sock *sk, struct sock *to, struct msghdr *msg,
		    size_t size);
void toy_direct_hint(struct sock *to, size_t len);
void toy_direct_await(struct sock *sk, struct sock *to, size_t size,
		      long timeo);
void toy_direct_reading(struct sock *sk);
int toy_direct_wait_no_offer(struct sock *sk, long *timeo);

/* toy_queue.c: receive queues shared by all types */
int toy_may_sleep(long timeo);
int toy_wait_data(struct sock *sk, long *timeo);
int toy_wait_data_or(struct sock *sk, long *timeo,
		     bool (*done)(const void *arg), const void *arg);
int toy_wake_reader(struct wait_queue_entry *wait, unsigned int mode,
		    int sync, void *key);
int toy_wake_writer(struct wait_queue_entry *wait, unsigned int mode,
		    int sync, void *key);
struct sk_buff *toy_alloc_skb(struct sock *sk, struct msghdr *msg,
			      size_t size, size_t room, int *err);
int toy_enqueue(struct sock *to, struct sk_buff *skb, struct sock *from,
		bool dgram);
int toy_stream_append(struct sock *sk, struct sock *to, struct msghdr *msg,
		      size_t size);
int toy_recv_record(struct sock *sk, struct msghdr *msg, size_t len,
		    int flags);
int toy_recv_stream(struct sock *sk, struct msghdr *msg, size_t len,
		    int flags);
void toy_send_epipe(struct sock *sk, int err, int flags);
u32 toy_next_record_len(struct sock *sk);
void toy_skb_consumed(struct sock *sk, struct sk_buff *skb, u32 bytes);
void toy_purge_queue(struct sock *sk);
int toy_send_cmsgs(struct sock *sk, struct msghdr *msg);
bool toy_poll_data(struct sock *sk);
void toy_data_ready(struct sock *sk);
__poll_t toy_poll_rcv(struct sock *sk, u8 shutdown);

/* toy_ring.c: the writer's data pages */
struct sk_buff *toy_alloc_data_skb(struct sock *sk, struct msghdr *msg,
				   size_t size, bool append, int *err);
struct sk_buff *toy_alloc_skb_ring(struct sock *sk, struct msghdr *msg,
				   size_t size, int *err);
void toy_ring_free(struct sock *sk);
void toy_ring_skb_freed(struct sock *sk);
void toy_ring_close(struct sock *sk);

/* toy_tap.c: copies of the segments for monitor devices (af_toy_mon) */
DECLARE_STATIC_KEY_FALSE(toy_tap_active);

/* A DATA segment's payload: @len bytes from @off of @skb, or of @pages. */
struct toy_tap_data {
	const struct sk_buff *skb;
	struct page * const *pages;
	size_t off;
	u32 len;
};

void __toy_tap_segment(struct sock *from, u32 to_port,
		       enum toy_seg_kind kind, const struct toy_tap_data *data);

/*
 * A segment from @from to @to_port, @data its payload (DATA only): a
 * patched-out jump unless a monitor device is up.
 */
static inline void toy_tap_segment(struct sock *from, u32 to_port,
				   enum toy_seg_kind kind,
				   const struct toy_tap_data *data)
{
	if (static_branch_unlikely(&toy_tap_active))
		__toy_tap_segment(from, to_port, kind, data);
}

void toy_data_segment(struct sock *from, struct sock *to,
		      const struct toy_tap_data *d);

/* toy_proc.c */
int toy_proc_init_net(struct net *net);
void toy_proc_exit_net(struct net *net);

#endif /* _AF_TOY_H */

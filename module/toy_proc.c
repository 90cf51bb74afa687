// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/toy: one line per AF_TOY socket of the reader's netns.
 *
 * The walk holds the lock of one list of the netns's socket index
 * (toy_index.c) at a time from start() to stop(), i.e. for one output
 * chunk, which keeps the sockets of that list allocated (a socket leaves
 * the index in its release, before its last reference can go).  A chunk
 * resumes at the cursor where the previous one stopped, so reading the
 * file does not recount; only a seek backwards recounts from the first.
 * Fields are read with READ_ONCE(): a line is a snapshot, not a
 * transaction.  No kernel pointers are shown; the inode is the number in
 * the socket's /proc/PID/fd link ("socket:[ino]"), 0 for a connection not
 * yet accepted.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "af_toy.h"
#include "toy_export.h"

struct toy_seq_iter {
	struct seq_net_private p;	/* first: seq_file_net() needs it */
	loff_t pos;			/* the line a start() may resume at */
	u64 cursor;			/* where that line's socket was; its
					 * index list is locked from start()
					 * to stop()
					 */
};

/* @v is line @pos, at @cursor: remembered for stop() and the next start(). */
static void *toy_seq_at(struct seq_file *seq, void *v, u64 cursor, loff_t pos)
{
	struct toy_seq_iter *it = seq->private;

	it->cursor = cursor;
	it->pos = pos;
	return v;
}

static void *toy_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(toy_index)
{
	struct toy_net *tn = toy_net(seq_file_net(seq));
	struct toy_seq_iter *it = seq->private;
	bool resume = *pos && *pos == it->pos;
	u64 cursor = resume ? it->cursor : 0;
	struct toy_sock *tsk;
	loff_t n;

	toy_index_lock(tn, cursor);
	if (!*pos)
		return toy_seq_at(seq, SEQ_START_TOKEN, cursor, 0);
	tsk = toy_sock_find(tn, &cursor);
	/* A seek: count the lines from the first socket. */
	for (n = 1; !resume && tsk && n < *pos; n++)
		tsk = toy_index_step(tn, tsk, &cursor, !(n % 64));
	return toy_seq_at(seq, tsk, cursor, *pos);
}

static void *toy_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct toy_net *tn = toy_net(seq_file_net(seq));
	struct toy_seq_iter *it = seq->private;
	u64 cursor = it->cursor;
	struct toy_sock *tsk;

	++*pos;
	if (v == SEQ_START_TOKEN)
		tsk = toy_sock_find(tn, &cursor);
	else	/* a long traverse() (a seek) must not keep a lock for all */
		tsk = toy_index_step(tn, v, &cursor, !(*pos % 64));
	return toy_seq_at(seq, tsk, cursor, *pos);
}

static void toy_seq_stop(struct seq_file *seq, void *v)
	__releases(toy_index)
{
	struct toy_seq_iter *it = seq->private;

	toy_index_unlock(toy_net(seq_file_net(seq)), it->cursor);
}

static int toy_seq_show(struct seq_file *seq, void *v)
{
	struct toy_sock_info info;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq,
			 "Inode Type State LocalPort PeerPort RecvQ SendQ Uid\n");
		return 0;
	}
	toy_snapshot(v, &info);
	seq_printf(seq, "%lu %s %s %u %u %u %u %u\n", info.ino,
		   toy_type_name(info.type), toy_state_name(info.state),
		   info.port, info.peer_port, info.rqueue, info.squeue,
		   from_kuid_munged(seq_user_ns(seq), info.uid));
	return 0;
}

static const struct seq_operations toy_seq_ops = {
	.start	= toy_seq_start,
	.next	= toy_seq_next,
	.stop	= toy_seq_stop,
	.show	= toy_seq_show,
};

static const char * const toy_stat_names[TOY_STAT_NR] = {
	[TOY_STAT_SOCKETS_ALIVE]	= "sockets_alive",
	[TOY_STAT_SOCKETS_CREATED]	= "sockets_created",
	[TOY_STAT_CONNECTS]		= "connects_attempted",
	[TOY_STAT_CONNECTS_REFUSED]	= "connects_refused",
	[TOY_STAT_RESETS]		= "connections_reset",
	[TOY_STAT_ACCEPTS]		= "accepts",
	[TOY_STAT_SEG_SYN]		= "segments_syn",
	[TOY_STAT_SEG_SYN_ACK]		= "segments_synack",
	[TOY_STAT_SEG_ACK]		= "segments_ack",
	[TOY_STAT_SEG_DATA]		= "segments_data",
	[TOY_STAT_SEG_FIN]		= "segments_fin",
	[TOY_STAT_SEG_RST]		= "segments_rst",
	[TOY_STAT_BYTES_SENT]		= "bytes_sent",
	[TOY_STAT_BYTES_RECEIVED]	= "bytes_received",
	[TOY_STAT_BACKLOG_OVERFLOWS]	= "backlog_overflows",
	[TOY_STAT_EPIPE]		= "epipe",
	[TOY_STAT_MEM]			= "mem_charged",
	[TOY_STAT_BYTES_APPENDED]	= "bytes_appended",
	[TOY_STAT_BYTES_DIRECT]		= "bytes_direct",
	[TOY_STAT_CHILDREN_PREMADE]	= "children_premade",
	[TOY_STAT_BYTES_DIRECT_READER]	= "bytes_direct_reader",
};

/* /proc/net/toy_stat: "name value" per line, this netns only. */
static int toy_stat_show(struct seq_file *seq, void *v)
{
	struct toy_net *tn = toy_net(seq_file_single_net(seq));
	long sum;
	int i, cpu;

	for (i = 0; i < TOY_STAT_NR; i++) {
		sum = 0;
		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(tn->stats, cpu)->v[i];
		/*
		 * Counts that go down on another CPU than they went up on
		 * (sockets alive, memory charged) may sum below their true
		 * value mid-change: never below 0, as sock_prot_inuse_get().
		 */
		seq_printf(seq, "%s %ld\n", toy_stat_names[i], max(sum, 0L));
	}
	return 0;
}

int toy_proc_init_net(struct net *net)
{
	if (!proc_create_net("toy", 0444, net->proc_net, &toy_seq_ops,
			     sizeof(struct toy_seq_iter)))
		return -ENOMEM;
	if (!proc_create_net_single("toy_stat", 0444, net->proc_net,
				    toy_stat_show, NULL)) {
		remove_proc_entry("toy", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void toy_proc_exit_net(struct net *net)
{
	remove_proc_entry("toy_stat", net->proc_net);
	remove_proc_entry("toy", net->proc_net);
}

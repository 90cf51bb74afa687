// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy_mon.ko: "toymon" monitor devices, like nlmon and vsockmon, for
 * capturing AF_TOY traffic with tcpdump or Wireshark:
 *
 *	ip link add toymon0 type toymon && ip link set toymon0 up
 *	tcpdump -i toymon0 -w toy.pcap
 *
 * While a device is up, af_toy transmits every segment of the device's
 * netns on it as a synthetic IPv4 TCP or UDP packet (toy_tap.c); the
 * device counts and drops them, packet sockets see them on the way.  The
 * device has no link-layer header (ARPHRD_NONE, protocol ETH_P_IP), which
 * libpcap maps to LINKTYPE_RAW.  Creating one needs CAP_NET_ADMIN in the
 * user namespace of its netns (rtnetlink checks it).
 *
 * Locking and references: everything here runs under RTNL (ndo_open,
 * ndo_stop, newlink, dellink) but the transmit, which runs in the
 * sender's context under af_toy's rcu_read_lock() and only touches
 * per-CPU counters.  ndo_open takes af_toy's tap symbols with
 * symbol_get(), which pins af_toy.ko for as long as the device is up: an
 * rmmod of af_toy then fails with EBUSY, and works again once every
 * toymon device is down.  This module is unloadable at any time:
 * rtnl_link_unregister() deletes the devices, whose ndo_stop unregisters
 * the tap (af_toy waits for its readers) and drops the symbols.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/addrconf.h>
#include <net/rtnetlink.h>

#include "toy_compat.h"
#include "toy_tap.h"

struct toy_mon {
	struct toy_tap tap;
	typeof(toy_remove_tap) *remove;	/* set while the tap is up */
};

static netdev_tx_t toy_mon_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_lstats_add(dev, skb->len);
	consume_skb(skb);
	return NETDEV_TX_OK;
}

static int toy_mon_init(struct net_device *dev)
{
	dev->lstats = netdev_alloc_pcpu_stats(struct pcpu_lstats);
	return dev->lstats ? 0 : -ENOMEM;
}

static void toy_mon_uninit(struct net_device *dev)
{
	free_percpu(dev->lstats);
}

/*
 * IPv6 configures ARPHRD_NONE devices (a link-local address, router
 * solicitations, MLD reports): none of that on a monitor, whose
 * captures show AF_TOY segments only.  Runs before NETDEV_UP, which
 * then leaves the device alone.
 */
static void toy_mon_no_ipv6(struct net_device *dev)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (idev)
		WRITE_ONCE(idev->cnf.disable_ipv6, 1);
#endif
}

static int toy_mon_open(struct net_device *dev)
{
	struct toy_mon *mon = netdev_priv(dev);
	typeof(toy_add_tap) *add;
	int err;

	toy_mon_no_ipv6(dev);

	add = symbol_get(toy_add_tap);
	mon->remove = symbol_get(toy_remove_tap);
	if (!add || !mon->remove) {
		err = -EPROTONOSUPPORT;	/* af_toy is not loaded */
		goto out_put;
	}
	mon->tap.dev = dev;
	err = add(&mon->tap);
	symbol_put(toy_add_tap);
	if (!err)
		return 0;
	symbol_put(toy_remove_tap);
	mon->remove = NULL;
	return err;

out_put:
	if (add)
		symbol_put(toy_add_tap);
	if (mon->remove)
		symbol_put(toy_remove_tap);
	mon->remove = NULL;
	return err;
}

static int toy_mon_stop(struct net_device *dev)
{
	struct toy_mon *mon = netdev_priv(dev);

	if (mon->remove) {
		mon->remove(&mon->tap);
		mon->remove = NULL;
		symbol_put(toy_remove_tap);
	}
	return 0;
}

static void toy_mon_get_stats64(struct net_device *dev,
				struct rtnl_link_stats64 *stats)
{
	dev_lstats_read(dev, &stats->rx_packets, &stats->rx_bytes);
}

static const struct net_device_ops toy_mon_ops = {
	.ndo_init		= toy_mon_init,
	.ndo_uninit		= toy_mon_uninit,
	.ndo_open		= toy_mon_open,
	.ndo_stop		= toy_mon_stop,
	.ndo_start_xmit		= toy_mon_xmit,
	.ndo_get_stats64	= toy_mon_get_stats64,
};

static void toy_mon_setup(struct net_device *dev)
{
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_NOARP;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->netdev_ops = &toy_mon_ops;
	dev->needs_free_netdev = true;
	/* The payload comes in page fragments: never linearise it. */
	dev->features = NETIF_F_SG | NETIF_F_FRAGLIST | NETIF_F_HIGHDMA;
	/* Senders on every CPU, each under its receiver's queue lock. */
	toy_dev_set_lltx(dev);
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	/* The largest IPv4 packet, which af_toy never exceeds. */
	dev->mtu = 0xffff;
	dev->min_mtu = 0xffff;
	dev->max_mtu = 0xffff;
}

static int toy_mon_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		NL_SET_ERR_MSG(extack, "toymon devices have no address");
		return -EINVAL;
	}
	return 0;
}

static struct rtnl_link_ops toy_mon_link_ops __read_mostly = {
	.kind		= "toymon",
	.priv_size	= sizeof(struct toy_mon),
	.setup		= toy_mon_setup,
	.validate	= toy_mon_validate,
};

static int __init toy_mon_module_init(void)
{
	return rtnl_link_register(&toy_mon_link_ops);
}

static void __exit toy_mon_module_exit(void)
{
	rtnl_link_unregister(&toy_mon_link_ops);
}

module_init(toy_mon_module_init);
module_exit(toy_mon_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_toy monitor device: AF_TOY segments for tcpdump and Wireshark");
MODULE_SOFTDEP("pre: af_toy");
MODULE_ALIAS_RTNL_LINK("toymon");

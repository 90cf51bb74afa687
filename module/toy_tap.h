/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tap interface af_toy.ko exports (EXPORT_SYMBOL_GPL) to monitor
 * devices, today af_toy_mon.ko: every segment of a netns, as a synthetic
 * IPv4 TCP (STREAM, SEQPACKET) or UDP (DGRAM) packet, is transmitted on
 * each registered device of that netns, where packet sockets (tcpdump)
 * see it.
 *
 * Locking and references: toy_add_tap() and toy_remove_tap() sleep (they
 * flip a static key) and are called under RTNL from the device's
 * ndo_open and ndo_stop; toy_remove_tap() returns once no CPU can still
 * be delivering to the device (synchronize_net()), so the device may go
 * right after.  The caller owns @tap and keeps @tap->dev up in between.
 * A module that registers a tap holds a reference on af_toy.ko for as
 * long as the tap is registered (af_toy_mon takes it with symbol_get()),
 * so af_toy cannot be unloaded while any tap is up, and is unloadable
 * otherwise.
 */
#ifndef _TOY_TAP_H
#define _TOY_TAP_H

#include <linux/list.h>

struct net_device;

struct toy_tap {
	struct net_device *dev;	/* set by the caller */
	struct list_head list;	/* af_toy's */
};

int toy_add_tap(struct toy_tap *tap);
void toy_remove_tap(struct toy_tap *tap);

#endif /* _TOY_TAP_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * toy_warn - a deliberately broken module for the VM runner's self-test.
 * Its init triggers WARN_ON(1); the runner must notice the splat in the
 * kernel console and fail the run.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init toy_warn_init(void)
{
	pr_info("toy_warn: planting a WARN for the runner self-test\n");
	WARN_ON(1);
	return 0;
}

static void __exit toy_warn_exit(void)
{
}

module_init(toy_warn_init);
module_exit(toy_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_toy VM runner self-test: planted WARN_ON");

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tc.h - putting a program on an interface's clsact hook, and taking it off again. */
#ifndef CTLUA_TC_H
#define CTLUA_TC_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>

struct ctl_tc_link {
	char ifname[IF_NAMESIZE];
	int ifindex;
	int dir;		/* enum ctlua_dir */
	__u32 handle;		/* as the kernel chose them, for detach */
	__u32 priority;
	bool owns_qdisc;	/* we created clsact and must remove it when last off */
	bool l3;		/* packets start at the IP header: no link header */
};

/*
 * Whether the packets of @ifname carry no link header at TC (tun, wireguard, ipip: any
 * device type but Ethernet and loopback). Returns 1, 0, or -errno (-ENODEV).
 */
int ctl_tc_is_l3(const char *ifname);

/*
 * Attach @prog_fd to @ifname in direction @dir, creating the clsact qdisc if missing.
 * Returns 0 or -errno (-ENODEV for an unknown interface). The caller sets link->l3.
 */
int ctl_tc_attach(int prog_fd, const char *ifname, int dir, struct ctl_tc_link *link);

/*
 * Remove the filter; with @remove_qdisc also the clsact qdisc. Returns 0 or -errno;
 * an interface that is already gone counts as success.
 */
int ctl_tc_detach(const struct ctl_tc_link *link, bool remove_qdisc);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tc.h - putting a program on an interface's clsact hook, taking it off again, and the
 * process-wide record of what ctlua put there, which the watchdog thread can read.
 */
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
	bool l3;		/* packets start at the IP header: no link header */
};

/*
 * Whether the packets of @ifname carry no link header at TC (tun, wireguard, ipip: any
 * device type but Ethernet and loopback). Returns 1, 0, or -errno (-ENODEV).
 */
int ctl_tc_is_l3(const char *ifname);

/*
 * Attach @prog_fd to @ifname in direction @dir, creating the clsact qdisc if missing,
 * and record the filter (and whether ctlua created the qdisc) in the process's record.
 * Returns 0 or -errno (-ENODEV for an unknown interface). The caller sets link->l3.
 */
int ctl_tc_attach(int prog_fd, const char *ifname, int dir, struct ctl_tc_link *link);

/*
 * Remove the filter and its record. When ctlua created the clsact qdisc and no other
 * filter of ours is on that interface, the qdisc goes too, if no one else's filter is
 * on it. Returns 0 or -errno; an interface or filter that is already gone counts as
 * success. On failure the record stays, so a later detach or the watchdog can retry.
 */
int ctl_tc_detach(const struct ctl_tc_link *link);

/*
 * Forget the record of @link without touching the kernel (a detach that failed for good).
 */
void ctl_tc_forget(const struct ctl_tc_link *link);

/*
 * For the watchdog, from any thread: remove every recorded filter, and each clsact qdisc
 * ctlua created that is left empty. Returns how many filters were removed, or -errno
 * of the first failure.
 */
int ctl_tc_remove_all(void);

#endif

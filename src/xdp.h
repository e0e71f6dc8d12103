/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xdp.h - putting ctlua's program on an interface's XDP hook through a bpf_link, and
 * taking it off. The link is a descriptor of this process: when the process ends, for
 * whatever reason (a SIGKILL too), the kernel takes the program off the interface, so
 * nothing is left behind. The hook's ownership record (owner.h) is the one of the
 * interface's ingress that a TC filter would take: one ctlua decides an interface's
 * arriving packets at one hook, never at both.
 */
#ifndef CTLUA_XDP_H
#define CTLUA_XDP_H

#include <stdbool.h>
#include <linux/types.h>
#include "owner.h"
#include "tc.h"

/* Where ctlua runs on an interface: ct.attach's hook option (ctl_hook_names). */
enum ctl_hook { CTL_HOOK_TC, CTL_HOOK_XDP };
extern const char *const ctl_hook_names[];	/* "tc", "xdp" */

/* How the XDP program runs: in the driver, or on the skb after it (any device). */
enum ctl_xdp_mode { CTL_XDP_NATIVE, CTL_XDP_GENERIC, CTL_XDP_AUTO };
extern const char *const ctl_xdp_mode_names[];	/* "native", "generic" */

struct ctl_xdp_link {
	int fd;			/* the bpf_link (-1: none); closing it takes the program off */
	int mode;		/* the one used: CTL_XDP_NATIVE or CTL_XDP_GENERIC */
	struct ctl_owner_rec rec;
};

/*
 * Attach @prog_fd at @ifname's XDP hook in @mode (CTL_XDP_AUTO: native where the driver
 * has XDP, else generic), taking the ingress ownership record. Fills @where (ifname,
 * ifindex, dir ingress, prog_id, netns) and @x on success only. Returns 0; -EBUSY with
 * @why filled (CTL_TC_LIVE: a living ctlua owns the interface's ingress, at TC or XDP;
 * CTL_TC_FOREIGN: another XDP program is on the interface, its name in why->foreign);
 * -ENODEV for an unknown interface; -EOPNOTSUPP when native was asked of a driver
 * without XDP; or -errno.
 */
int ctl_xdp_attach(int prog_fd, const char *ifname, int mode, struct ctl_tc_link *where,
		   struct ctl_xdp_link *x, struct ctl_tc_conflict *why);

/* Whether @x still holds its interface: 1, 0 (the interface went away), or -errno. */
int ctl_xdp_check(const struct ctl_xdp_link *x);

/*
 * Take @x's program off its interface and let its ownership record go. Returns 0 (also
 * for a link that was not attached).
 */
int ctl_xdp_detach(struct ctl_xdp_link *x);

#endif

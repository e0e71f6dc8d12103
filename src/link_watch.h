/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * link_watch.h - the kernel's notifications of interfaces that appear, change and go,
 * read without blocking from the host's event loop (for links that wait for their
 * interface, and for links whose interface is deleted under them).
 */
#ifndef CTLUA_LINK_WATCH_H
#define CTLUA_LINK_WATCH_H

#include <stdbool.h>

struct ctl_link_watch;

/*
 * What a notification says of one interface: it exists with this name (new, renamed,
 * or changed state: RTM_NEWLINK), or it is gone (RTM_DELLINK).
 */
struct ctl_link_change {
	bool gone;
	int ifindex;
	const char *ifname;	/* valid during the call; "" if the kernel sent none */
};

/*
 * Subscribe to the link notifications (RTNLGRP_LINK) of the network namespace the
 * caller is in now. Returns 0 or -errno; *@out is set only on success.
 */
int ctl_link_watch_open(struct ctl_link_watch **out);
void ctl_link_watch_close(struct ctl_link_watch *w);

/* The socket to watch for input (ctl_loop_add). */
int ctl_link_watch_fd(const struct ctl_link_watch *w);

/*
 * Hand every notification that waits to @fn(@ctx, change), in the order the kernel
 * sent them, without blocking. Returns how many, or -errno: -ENOBUFS means the socket
 * overflowed and some were lost (those after it are still read by the next call): the
 * caller must look at the interfaces it cares about again.
 */
int ctl_link_watch_read(struct ctl_link_watch *w,
			void (*fn)(void *ctx, const struct ctl_link_change *c), void *ctx);

#endif

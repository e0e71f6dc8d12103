/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netns.h - network namespaces by the names `ip netns` gives them (/run/netns/NAME).
 * Every function returns 0 or -errno unless it says otherwise.
 */
#ifndef CTLUA_NETNS_H
#define CTLUA_NETNS_H

#include <stdbool.h>

/* The message for a name with nothing at /run/netns/NAME (one %s: the name). */
#define CTL_NETNS_MISSING "no network namespace '%s' (ip netns list shows them)"

/* Whether @name can name a namespace: not empty, no '/', not "." or "..". */
bool ctl_netns_name_ok(const char *name);

/*
 * The peer id (nsid) that namespace @name has as seen from ours, the number the kfuncs
 * take as opts.netns_id. Assigns one (as `ip netns set NAME auto` does) if it has none.
 * Returns the id (>= 0) or -errno.
 */
int ctl_netns_nsid(const char *name);

/*
 * Move the calling thread into namespace @name; *@back receives a descriptor of the
 * namespace it was in, for ctl_netns_leave. Sockets opened in between stay bound to
 * @name after the return.
 */
int ctl_netns_enter(const char *name, int *back);
/*
 * Return to the namespace ctl_netns_enter saved, and close its descriptor. When the
 * kernel refuses the way back, it aborts rather than go on in the wrong one.
 */
void ctl_netns_leave(int back);

#endif

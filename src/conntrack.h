/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conntrack.h - the conntrack table over ctnetlink: dumped with libnetfilter_conntrack,
 * entries deleted with libmnl, in ctlua's network namespace or one named by `ip netns`.
 * No Lua here: lua_conntrack.c makes ct.entries, ct.delete and ct.flush of it. Every
 * function returns 0 or -errno unless it says otherwise.
 */
#ifndef CTLUA_CONNTRACK_H
#define CTLUA_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "fields.h"

/* What a dump or a flush selects. Absent fields select everything. */
struct ctl_ct_filter {
	__be32 src[4], src_mask[4];	/* mask all zero: any address */
	__be32 dst[4], dst_mask[4];
	int family;			/* CTLUA_AF_*, or 0 for both */
	int proto;			/* -1: any */
	int sport, dport;		/* host order, -1: any */
	int64_t mark;			/* -1: any */
	int zone;			/* -1: any (dump, flush), the default (delete) */
	const char *netns;		/* NULL: ctlua's own; owned by the caller */
};

/* A filter that selects everything, in ctlua's own namespace. */
void ctl_ct_filter_init(struct ctl_ct_filter *f);

/* Whether @e is selected; tuple fields are matched in the original direction. */
bool ctl_ct_filter_match(const struct ctl_ct_filter *f, const struct ctl_entry *e);

/* Which step of a conversation failed, for the caller's message. */
enum ctl_ct_step {
	CTL_CT_ENTER,		/* into the named namespace */
	CTL_CT_OPEN,		/* a ctnetlink socket */
	CTL_CT_DUMP,
	CTL_CT_DELETE,
	CTL_CT_MEMORY,		/* keeping the dumped entries (the keep callback failed) */
};

/*
 * One walk over the table of @filter's namespace. With @keep, each selected entry is
 * handed to it (0 to go on, -errno to stop: reported as CTL_CT_MEMORY); without, each
 * is deleted, on a second socket while the first one dumps, as `conntrack -D` does,
 * and @removed counts the deletions the kernel confirmed. An entry that went away
 * meanwhile (ENOENT) is neither an error nor counted.
 */
struct ctl_ct_walk {
	const struct ctl_ct_filter *filter;
	int (*keep)(void *arg, const struct ctl_entry *e);
	void *arg;
	long long removed;
	enum ctl_ct_step step;		/* set when the walk fails */
};

/*
 * Run the walk. Returns 0, or -errno with w->step set. Every socket is closed on
 * return, and the thread is back in its own namespace.
 */
int ctl_ct_walk(struct ctl_ct_walk *w);

/*
 * Delete the entry with original tuple @fl (looked up in either direction, as
 * ctnetlink does) in zone @zone (-1: the default) of namespace @netns (NULL: ours).
 * Returns 0 or -errno with *@step set: -ENOENT at CTL_CT_DELETE when there is none.
 */
int ctl_ct_delete(const char *netns, const struct ctlua_flow *fl, int zone,
		  enum ctl_ct_step *step);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tc.h - putting a program on an interface's clsact hook as ctlua's own filter, taking
 * exactly that filter off again, and the process-wide record of what ctlua put there,
 * which the watchdog thread can read.
 *
 * ctlua's filters are recognizable: cls_bpf at priority CTL_TC_PRIORITY, handle
 * CTL_TC_HANDLE, running a program whose name starts with "ctlua_" (tc filter show:
 * "pref 50970 bpf ... handle 0xc71a ctlua_ingress:[ID]"). One ctlua owns a hook (an
 * interface and direction in a network namespace) at a time; owner.h keeps the records.
 */
#ifndef CTLUA_TC_H
#define CTLUA_TC_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include "owner.h"

#define CTL_TC_PRIORITY	0xc71a	/* 50970: after filters at the kernel's first choice, 49152 */
#define CTL_TC_HANDLE	0xc71a
#define CTL_TC_PROG_PREFIX "ctlua_"

struct ctl_tc_link {
	char ifname[IF_NAMESIZE];
	int ifindex;
	int dir;		/* enum ctlua_dir */
	__u32 handle;		/* CTL_TC_HANDLE, CTL_TC_PRIORITY */
	__u32 priority;
	__u32 prog_id;		/* the program this link put there: detach removes only it */
	__u64 netns;		/* inode of the namespace it was attached in */
	__u64 serial;		/* which of the process's records is this link's */
	bool l3;		/* packets start at the IP header: no link header */
};

/* What to do with filters a dead ctlua left on the hook (orphans). */
enum ctl_orphans {
	CTL_ORPHANS_REFUSE,	/* refuse to attach, naming them */
	CTL_ORPHANS_REMOVE,	/* remove them and attach */
	CTL_ORPHANS_ADOPT,	/* replace them, keeping the pinned maps their program uses */
};
/* ct.attach's default when neither the call nor the command line chose: adopt with pins. */
#define CTL_ORPHANS_AUTO	(-1)
extern const char *const ctl_orphans_names[];	/* "refuse", "remove", "adopt" */

struct ctl_tc_opts {
	bool takeover;		/* replace a living owner's filter (and any orphans) */
	int orphans;		/* enum ctl_orphans, or CTL_ORPHANS_AUTO (defaults only) */
	const __u32 *adopt_ids;	/* with CTL_ORPHANS_ADOPT: the maps an orphan's program */
	int nadopt_ids;		/* must use to be adopted (the pinned state's) */
};

/* Why an attach was refused: -EBUSY (a living owner) or -EEXIST (orphans, foreign). */
enum ctl_tc_why { CTL_TC_OK, CTL_TC_LIVE, CTL_TC_ORPHANS, CTL_TC_FOREIGN, CTL_TC_UNADOPTABLE,
		  /* xdp.c and lua_link.c: the interface's ingress is this ctlua's at the
		   * other hook (foreign: its name); a living ctlua owns the ingress that an
		   * XDP attach wants; another XDP program is there (foreign: its name) */
		  CTL_TC_OTHER_HOOK, CTL_TC_XDP_LIVE, CTL_TC_XDP_FOREIGN };

#define CTL_TC_MAX_ORPHANS 8
struct ctl_tc_conflict {
	int why;			/* enum ctl_tc_why */
	struct ctl_owner_info owner;	/* the record: a living owner's, or a dead one's */
	int norphans;			/* ctlua filters no living ctlua owns */
	__u32 orphan_ids[CTL_TC_MAX_ORPHANS];
	char foreign[64];		/* kind or program name of a foreign filter in our place */
	__u32 unadoptable;		/* CTL_TC_UNADOPTABLE: the orphan that does not use the */
	int unadoptable_err;		/* pins (0), or the -errno that asking about it gave */
	int adopted;			/* on success: how many orphans were adopted */
};

/* The defaults ct.attach uses for options it is not given (the command line sets them). */
void ctl_tc_set_defaults(const struct ctl_tc_opts *opts);
const struct ctl_tc_opts *ctl_tc_defaults(void);

/*
 * Whether the packets of @ifname carry no link header at TC (tun, wireguard, ipip: any
 * device type but Ethernet and loopback). Returns 1, 0, or -errno (-ENODEV).
 */
int ctl_tc_is_l3(const char *ifname);

/*
 * Attach @prog_fd to @ifname in direction @dir as ctlua's filter, creating the clsact
 * qdisc if missing (and marking it ctlua's), take the hook's ownership record and keep
 * it locked, and note the filter in the process's record. @opts says what to do with a
 * living owner (takeover: its filter is replaced in one step) and with orphans (orphans
 * at ctlua's place are replaced, others removed; adopting does the same once every
 * orphan's program uses the maps opts->adopt_ids). Returns 0; -EBUSY (a living owner),
 * -EEXIST (orphans, an orphan that cannot be adopted, or a foreign filter at ctlua's
 * place), with @why filled; -ENODEV
 * for an unknown interface; or -errno. @link is filled only on success (a failure leaves
 * it as it was, so @ifname may be its own name); the caller sets link->l3.
 */
int ctl_tc_attach(int prog_fd, const char *ifname, int dir, const struct ctl_tc_opts *opts,
		  struct ctl_tc_link *link, struct ctl_tc_conflict *why);

/*
 * Whether @link's filter is still on its hook with the program it attached: 1, 0 (the
 * interface or the filter is gone, or another ctlua took the hook over), or -errno.
 */
int ctl_tc_check(const struct ctl_tc_link *link);

/*
 * Remove @link's filter if it still runs the program @link attached (a taker-over's
 * stays), release the ownership record, and remove the clsact qdisc if a ctlua created
 * it and no filter of anyone is left on it (ingress or egress). Returns 0 or -errno; an
 * interface or filter that is already gone counts as success. On failure the record
 * stays, so a later detach or the watchdog can retry. It acts in the namespace @link was
 * attached in, from whichever namespace the calling thread is in (-ESTALE if that one
 * could not be kept open).
 */
int ctl_tc_detach(const struct ctl_tc_link *link);

/*
 * Forget the record of @link without touching the kernel (a detach that failed for
 * good); its ownership record stays on disk, unlocked, for a later ctlua to find.
 */
void ctl_tc_forget(const struct ctl_tc_link *link);

/*
 * For the watchdog, from any thread: what ctl_tc_detach does, for every recorded filter.
 * Returns how many filters were removed, or -errno of the first failure.
 */
int ctl_tc_remove_all(void);

#endif

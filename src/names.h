/* SPDX-License-Identifier: GPL-2.0-or-later */
/* names.h - the words ctlua's users type and read, and the kernel values behind them. */
#ifndef CTLUA_NAMES_H
#define CTLUA_NAMES_H

#include <stdint.h>

/* NULL-terminated lists, indexed by the enum value (for luaL_checkoption). */
extern const char *const ctl_action_names[];	/* enum ctlua_action */
extern const char *const ctl_mode_names[];	/* enum ctlua_mode */
extern const char *const ctl_event_names[];	/* enum ctlua_event_kind */
/* ct.on's kinds: the TC program's (enum ctlua_event_kind), then the host's own. */
#define CTL_ON_LINK	CTLUA_EV_NR	/* a link was lost, attached again, or failed to */
#define CTL_ON_NR	(CTLUA_EV_NR + 1)
extern const char *const ctl_on_names[];	/* ct.on's kinds: those, then CTL_ON_LINK */
extern const char *const ctl_link_event_names[];	/* enum ctl_link_event_what */
extern const char *const ctl_dir_names[];	/* enum ctlua_dir */
extern const char *const ctl_family_names[];	/* "ipv4", "ipv6": 0 is AF_INET */
/* A rate limit's over actions ("drop", "pass"), and the enum ctlua_action of each. */
extern const char *const ctl_over_names[];
extern const uint8_t ctl_over_actions[];

/*
 * Index of @name in the NULL-terminated list @names, or -1 (also for a NULL @name).
 * Every option lookup goes through here.
 */
int ctl_name_index(const char *const names[], const char *name);

/* Name of the stat slot @slot below CTLUA_STAT_NAMED, or NULL. */
const char *ctl_stat_name(int slot);

/* "tcp", "udp" or NULL for another protocol number. */
const char *ctl_proto_name(int proto);
/* IPPROTO_TCP or IPPROTO_UDP for "tcp"/"udp", -1 otherwise. */
int ctl_proto_parse(const char *name);

/*
 * Conntrack status bits that BPF may set (KERNEL.md section 4): name -> IPS_* bit.
 * Returns 0 for an unknown name.
 */
uint32_t ctl_status_bit(const char *name);
/* The settable names, NULL-terminated, for messages and completion. */
extern const char *const ctl_status_names[];
/* Name of a single IPS_* bit (any bit, not just settable ones), or NULL. */
const char *ctl_status_bit_name(uint32_t bit);

/* "EEXIST" for 17; "E<n>" in @buf for a number libc does not name. */
const char *ctl_errno_name(int err, char *buf, int len);

#endif

// SPDX-License-Identifier: GPL-2.0-or-later
/* names.c - tables that turn ctlua's enums and kernel bits into words and back. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/types.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/types.h>
#include "ctlua.h"
#include "names.h"

const char *const ctl_action_names[] = { "pass", "alloc", "drop", NULL };
const char *const ctl_mode_names[] = { "off", "observe", "enforce", NULL };
const char *const ctl_event_names[] = { "miss", "alloc", "alloc_error", "drop", NULL };
const char *const ctl_on_names[] = { "miss", "alloc", "alloc_error", "drop", "link", NULL };
const char *const ctl_link_event_names[] = { "lost", "attached", "failed", NULL };
const char *const ctl_dir_names[] = { "ingress", "egress", NULL };
const char *const ctl_family_names[] = { "ipv4", "ipv6", NULL };
const char *const ctl_over_names[] = { "drop", "pass", NULL };
const uint8_t ctl_over_actions[] = { CTLUA_ACT_DROP, CTLUA_ACT_PASS };

_Static_assert(sizeof(ctl_action_names) / sizeof(ctl_action_names[0]) == CTLUA_ACT_NR + 1,
	       "one name per action");
_Static_assert(sizeof(ctl_over_names) / sizeof(ctl_over_names[0]) ==
	       sizeof(ctl_over_actions) + 1, "one action per over name");
_Static_assert(sizeof(ctl_on_names) / sizeof(ctl_on_names[0]) == CTL_ON_NR + 1,
	       "ct.on's kinds are the events' and 'link'");
_Static_assert(sizeof(ctl_event_names) / sizeof(ctl_event_names[0]) == CTLUA_EV_NR + 1,
	       "one name per event kind");

static const char *const stat_names[CTLUA_STAT_NAMED] = {
	[CTLUA_STAT_PACKETS] = "packets",
	[CTLUA_STAT_NOT_IP] = "not_ip",
	[CTLUA_STAT_FRAGMENTS] = "fragments",
	[CTLUA_STAT_IPV6_EXT] = "ipv6_ext",
	[CTLUA_STAT_OTHER_L4] = "other_l4",
	[CTLUA_STAT_MALFORMED] = "malformed",
	[CTLUA_STAT_LOOKUP_HIT] = "lookup_hit",
	[CTLUA_STAT_LOOKUP_MISS] = "lookup_miss",
	[CTLUA_STAT_LOOKUP_ERROR] = "lookup_error",
	[CTLUA_STAT_BY_VERDICT] = "by_verdict",
	[CTLUA_STAT_BY_RULE] = "by_rule",
	[CTLUA_STAT_BY_DEFAULT] = "by_default",
	[CTLUA_STAT_PASSES] = "passes",
	[CTLUA_STAT_ALLOC_OK] = "alloc_ok",
	[CTLUA_STAT_ALLOC_ERROR] = "alloc_error",
	[CTLUA_STAT_DROPS] = "drops",
	[CTLUA_STAT_EVENTS] = "events",
	[CTLUA_STAT_EVENTS_LOST] = "events_lost",
	[CTLUA_STAT_VERDICTS_FULL] = "verdicts_full",
	[CTLUA_STAT_VERDICTS_EXPIRED] = "verdicts_expired",
	[CTLUA_STAT_WAKEUPS] = "wakeups",
	[CTLUA_STAT_IPV6_FRAGMENTS] = "ipv6_fragments",
	[CTLUA_STAT_IPV6_EXT_WALKED] = "ipv6_ext_walked",
	[CTLUA_STAT_ICMP] = "icmp",
	[CTLUA_STAT_ICMPV6] = "icmpv6",
	[CTLUA_STAT_SCTP] = "sctp",
	[CTLUA_STAT_LIMITED] = "limited",
	[CTLUA_STAT_ZONE_HIT] = "zone_hit",
};

int ctl_name_index(const char *const names[], const char *name)
{
	for (int i = 0; name && names[i]; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *ctl_stat_name(int slot)
{
	return slot >= 0 && slot < CTLUA_STAT_NAMED ? stat_names[slot] : NULL;
}

const char *ctl_proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

int ctl_proto_parse(const char *name)
{
	if (!strcmp(name, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(name, "udp"))
		return IPPROTO_UDP;
	return -1;
}

const char *const ctl_status_names[] = { "seen_reply", "assured", "fixed_timeout", "helper", NULL };
static const uint32_t settable_bits[] = { IPS_SEEN_REPLY, IPS_ASSURED, IPS_FIXED_TIMEOUT, IPS_HELPER };

uint32_t ctl_status_bit(const char *name)
{
	for (int i = 0; ctl_status_names[i]; i++)
		if (!strcmp(name, ctl_status_names[i]))
			return settable_bits[i];
	return 0;
}

/* Every IPS_* bit by position, as `conntrack -L` users know them. */
static const char *const all_status_names[] = {
	"expected", "seen_reply", "assured", "confirmed", "src_nat", "dst_nat",
	"seq_adjust", "src_nat_done", "dst_nat_done", "dying", "fixed_timeout",
	"template", "untracked", "helper", "offload", "hw_offload",
};

const char *ctl_status_bit_name(uint32_t bit)
{
	for (unsigned int i = 0; i < sizeof(all_status_names) / sizeof(all_status_names[0]); i++)
		if (bit == 1u << i)
			return all_status_names[i];
	return NULL;
}

const char *ctl_errno_name(int err, char *buf, int len)
{
	/* wide: -INT_MIN is no int (an event's error is any __s32 the record holds) */
	long long e = err < 0 ? -(long long)err : err;
	const char *name = e <= INT_MAX ? strerrorname_np((int)e) : NULL;

	if (name)
		return name;
	snprintf(buf, len, "E%lld", e);
	return buf;
}

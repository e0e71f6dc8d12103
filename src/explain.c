// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * explain.c - the errors of the conntrack kfuncs in words, including the ones their
 * documentation leaves out. The facts and their sources are in KERNEL.md sections 1-6.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "ctlua.h"
#include "explain.h"
#include "names.h"

static const struct ctl_explanation table[] = {
	{ EINVAL, "bpf_skb_ct_alloc, bpf_skb_ct_lookup", "5.18 (lookup), 6.0 (alloc)",
	  "the opts are not acceptable",
	  "reserved bytes not zero, an opts size this kernel does not take (6.0-6.10: only 12; "
	  "6.11+: 12 or 16), netns_id below -1, or a zone id with the 12-byte opts; "
	  "bpf_ct_set_nat_info also gives it for a family other than IPv4/IPv6" },
	{ EPROTO, "bpf_skb_ct_alloc, bpf_skb_ct_lookup", "5.18 (lookup), 6.0 (alloc)",
	  "the protocol is neither TCP nor UDP",
	  "opts.l4proto (the tuple's proto, unless the l4proto opt overrides it) must be 6 or "
	  "17; ICMP and others are refused" },
	{ EAFNOSUPPORT, "bpf_skb_ct_alloc, bpf_skb_ct_lookup", "5.18 (lookup), 6.0 (alloc)",
	  "the tuple size is neither 12 (IPv4) nor 36 (IPv6)",
	  "the kernel tells the family from tuple__sz alone" },
	{ ENONET, "bpf_skb_ct_alloc, bpf_skb_ct_lookup", "5.18 (lookup), 6.0 (alloc)",
	  "netns_id names no network namespace",
	  "netns_id is a peer id (nsid) as seen from the packet's namespace, not an inode "
	  "number; -1 means the packet's own namespace. Give ctlua the name from `ip netns` "
	  "and it finds (or assigns) the id" },
	{ ENOENT, "bpf_skb_ct_lookup", "5.18",
	  "no conntrack entry has this tuple",
	  "the lookup matches either direction, but zone and network namespace are part of "
	  "the key" },
	{ ENOMEM, "bpf_skb_ct_alloc, bpf_ct_set_nat_info", "6.0 (alloc), 6.1 (nat)",
	  "the kernel could not allocate the entry",
	  "the table is full (nf_conntrack_max) and early drop found nothing to evict, or "
	  "memory ran out; set_nat_info also returns it when NAT refuses the mapping, for "
	  "example the same manip type set twice. The documentation does not list it" },
	{ EEXIST, "bpf_ct_insert_entry", "6.0",
	  "an entry with this tuple is already in the table",
	  "either direction counts, in the same zone and namespace; the kernel returns NULL "
	  "without a reason and frees the allocation, so ctlua confirms it with a lookup" },
	{ ENOSPC, "bpf_ct_insert_entry", "6.0",
	  "the insert failed and no entry has this tuple",
	  "the hash chain was too long (the chaintoolong statistic counts it)" },
	{ EBUSY, "bpf_ct_set_status, bpf_ct_change_status", "6.0",
	  "this status change is not allowed",
	  "status bits can only be added: the request touched EXPECTED, CONFIRMED or DYING, or "
	  "left out SEEN_REPLY or ASSURED that the entry already has; BPF can set only "
	  "seen_reply, assured, fixed_timeout and helper" },
	{ EPERM, "bpf_ct_change_timeout", "6.0",
	  "the entry has fixed_timeout, so its timeout cannot change",
	  "nothing was changed; fixed_timeout cannot be cleared from BPF" },
	{ ETIME, "bpf_ct_change_timeout", "6.0",
	  "the entry is dying",
	  "the new timeout was written anyway, but the entry is on its way out" },
	{ EAGAIN, "bpf_ct_insert_entry (inside the kernel)", "6.0",
	  "the insert raced with a change of the conntrack extensions",
	  "rare; trying again is the answer" },
};

const struct ctl_explanation *ctl_explain(int err)
{
	long long e = err < 0 ? -(long long)err : err;	/* -INT_MIN is no int */

	for (unsigned int i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].err == e)
			return &table[i];
	return NULL;
}

int ctl_errno_parse(const char *name)
{
	for (int e = 1; e < 256; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcasecmp(n, name))
			return e;
	}
	return 0;
}

int ctl_errno_text(const char *text, int *err)
{
	const char *digits = text + (*text == '-');
	char *end;
	long long n;

	if (!isdigit((unsigned char)*digits)) {
		*err = ctl_errno_parse(text);
		return *err ? 0 : -EINVAL;
	}
	errno = 0;
	n = strtoll(text, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || n < -CTL_ERRNO_MAX || n > CTL_ERRNO_MAX)
		return -ERANGE;
	if (n == 0)
		return -EDOM;
	*err = (int)n;
	return 0;
}

char *ctl_explain_format(int err, char *buf, int len)
{
	const struct ctl_explanation *x = ctl_explain(err);
	long long e = err < 0 ? -(long long)err : err;	/* -INT_MIN is no int */
	char name[16];

	if (!x)
		snprintf(buf, len, "%s (%lld): not returned by the conntrack kfuncs (%s)",
			 ctl_errno_name(err, name, sizeof(name)), e,
			 e <= INT_MAX ? strerror((int)e) : "no errno");
	else
		snprintf(buf, len, "%s (%lld): %s\n  returned by: %s, since Linux %s\n  %s",
			 ctl_errno_name(err, name, sizeof(name)), e, x->brief, x->calls,
			 x->since, x->detail);
	return buf;
}

/* The stages' words and kfuncs, indexed by enum ctlua_req_stage. */
static const struct {
	const char *name, *call;
} stages[] = {
	[CTLUA_STAGE_ALLOC] = { "alloc", "bpf_skb_ct_alloc" },
	[CTLUA_STAGE_SET_STATUS] = { "status", "bpf_ct_set_status" },
	[CTLUA_STAGE_SNAT] = { "snat", "bpf_ct_set_nat_info" },
	[CTLUA_STAGE_DNAT] = { "dnat", "bpf_ct_set_nat_info" },
	[CTLUA_STAGE_INSERT] = { "insert", "bpf_ct_insert_entry" },
	[CTLUA_STAGE_LOOKUP] = { "lookup", "bpf_skb_ct_lookup" },
	[CTLUA_STAGE_CHANGE_TIMEOUT] = { "change_timeout", "bpf_ct_change_timeout" },
	[CTLUA_STAGE_CHANGE_STATUS] = { "change_status", "bpf_ct_change_status" },
};

#define NSTAGES	(sizeof(stages) / sizeof(stages[0]))

const char *ctl_stage_name(unsigned int stage)
{
	return stage < NSTAGES ? stages[stage].name : NULL;
}

int ctl_stage_parse(const char *name)
{
	for (unsigned int i = 1; i < NSTAGES; i++)
		if (!strcmp(stages[i].name, name))
			return (int)i;
	return 0;
}

const char *ctl_stage_call(unsigned int stage)
{
	return stage < NSTAGES ? stages[stage].call : NULL;
}

int ctl_explained(int i)
{
	return i >= 0 && i < (int)(sizeof(table) / sizeof(table[0])) ? table[i].err : 0;
}

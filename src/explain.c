// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * explain.c - the errors of the conntrack kfuncs in words, including the ones their
 * documentation leaves out. The facts and their sources are in KERNEL.md sections 1-6.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "ctlua.h"
#include "addr.h"
#include "explain.h"
#include "names.h"
#include "probe.h"

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
	  "the kernel tells the family from tuple__sz alone; ctlua's packet path also gives "
	  "it, at stage snat or dnat, for a verdict whose NAT address is not of the flow's "
	  "family (a default's, which serves both)" },
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

/* The stage's name for a sentence: "?" for one this ctlua does not know (a recording's). */
static const char *stage_word(unsigned int stage)
{
	const char *name = ctl_stage_name(stage);

	return name ? name : "?";
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

/* --- an event --------------------------------------------------------------------------- */

/* Text appended to a fixed buffer; what does not fit is cut. */
struct text {
	char *buf;
	size_t len, used;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->len ? t->used + (size_t)n : t->len - 1;
}

/* One numbered step: "  N. kfunc: what". */
static void step(struct text *t, int *n, const char *call, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void step(struct text *t, int *n, const char *call, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	add(t, "  %d. %s: %s\n", ++*n, call, what);
}

/* A verdict's bpf_ct_set_nat_info calls, source then destination, up to @stage's failure. */
static void nat_steps(struct text *t, int *n, const struct ctlua_verdict *v, unsigned int stage,
		      const char *errname)
{
	const struct ctlua_nat *nat[2] = { &v->snat, &v->dnat };
	const unsigned int stages[2] = { CTLUA_STAGE_SNAT, CTLUA_STAGE_DNAT };
	char addr[CTL_ADDR_STRLEN];

	for (int i = 0; i < 2; i++) {
		char pool[128] = "";

		if (!nat[i]->set)
			continue;
		if (nat[i]->addr_bits || nat[i]->port_hi > nat[i]->port)
			snprintf(pool, sizeof(pool), " (a pool: %u addresses, ports %u-%u, one of "
				 "each per flow by the tuple's hash)", 1u << nat[i]->addr_bits,
				 nat[i]->port, nat[i]->port_hi > nat[i]->port ? nat[i]->port_hi
									       : nat[i]->port);
		step(t, n, "bpf_ct_set_nat_info", "(%s) %s port %u%s: %s", stage_word(stages[i]),
		     ctl_addr_format(nat[i]->family, nat[i]->addr, addr), nat[i]->port, pool,
		     stage == stages[i] ? errname : "ok");
		if (stage == stages[i])
			return;
	}
}

/*
 * The allocation's kfuncs, in the order bpf/ctlua.bpf.c calls them (ct_create_args),
 * up to where it stopped: @stage (CTLUA_STAGE_NONE: it went through) with @err.
 */
static void alloc_steps(struct text *t, int *n, const struct ctlua_event *e,
			const struct ctlua_verdict *v, bool request)
{
	const struct ctlua_opts *o = v ? &v->opts : NULL;
	char name[16], opts[96];
	unsigned int stage = e->stage;
	bool failed = e->kind == CTLUA_EV_ALLOC_ERROR;
	const char *errname = ctl_errno_name(e->error, name, sizeof(name));

	if (failed && stage == CTLUA_STAGE_ALLOC) {
		step(t, n, "bpf_skb_ct_alloc", "refused: %s; nothing was allocated, so nothing "
		     "else ran", errname);
		return;
	}
	if (o && (o->flags & CTLUA_OPT_ZONE))
		snprintf(opts, sizeof(opts), " (opts of 16 bytes: netns_id -1, l4proto of the "
			 "packet, zone %u)", o->zone_id);
	else
		snprintf(opts, sizeof(opts), " (opts of 12 bytes: netns_id -1, l4proto of the "
			 "packet)");
	step(t, n, "bpf_skb_ct_alloc", "ok: an entry allocated, not yet in the table%s",
	     request ? "" : opts);
	if (!o) {
		add(t, "     (the opts are not part of the event%s: which set_* calls ran "
		    "before the insert is not known)\n", request ? "" : e->rule_id ?
		    ", and its rule is not in this state" : ", nor which verdict decided");
	} else {
		if (o->flags & CTLUA_OPT_TIMEOUT)
			step(t, n, "bpf_ct_set_timeout", "%u ms (it returns nothing: it cannot fail)",
			     o->timeout_ms);
		if (o->flags & CTLUA_OPT_MARK)
			step(t, n, "ct->mark", "0x%x, written directly (not a kfunc; 6.1+)", o->mark);
		if (o->flags & CTLUA_OPT_STATUS)
			step(t, n, "bpf_ct_set_status", "current | 0x%x: %s", o->status,
			     failed && stage == CTLUA_STAGE_SET_STATUS ? errname : "ok");
	}
	if (failed && stage == CTLUA_STAGE_SET_STATUS && !o)
		step(t, n, "bpf_ct_set_status", "refused: %s", errname);
	if (o && (o->flags & CTLUA_OPT_NAT))
		nat_steps(t, n, v, failed ? stage : CTLUA_STAGE_NONE, errname);
	else if ((request || !o) && (stage == CTLUA_STAGE_SNAT || stage == CTLUA_STAGE_DNAT))
		step(t, n, "bpf_ct_set_nat_info", "(%s) refused: %s", stage_word(stage),
		     errname);
	if (failed && stage != CTLUA_STAGE_INSERT) {
		step(t, n, "bpf_ct_set_timeout", "0: no kfunc discards an allocation, so it "
		     "goes in already expired");
		step(t, n, "bpf_ct_insert_entry", "the expired entry is inserted (or refused); "
		     "the event reports the %s failure", stage_word(stage));
		return;
	}
	if (failed) {
		step(t, n, "bpf_ct_insert_entry", "refused (NULL, no reason given): %s", errname);
		if (request)
			add(t, "     a direct request then looks the tuple up: EEXIST if an entry "
			    "has it, ENOSPC if none does\n");
		else
			add(t, "     on the packet path ctlua reports EEXIST without looking: a "
			    "duplicate is by far the likeliest reason\n");
		return;
	}
	step(t, n, "bpf_ct_insert_entry", "ok: the entry is in the table");
	step(t, n, "bpf_ct_release", "the reference the insert returned is dropped");
}

/* The deciding rule has a limit, and the event's action is not the rule's: its over action. */
static bool limited(const struct ctlua_event *e, const struct ctl_event_why *w)
{
	return e->rule_id && w->verdict && w->verdict->limit && e->action != w->verdict->action;
}

/* The name of action @a (enum ctlua_action), "?" for a value no program sends. */
static const char *action_name(unsigned int a)
{
	return a < CTLUA_ACT_NR ? ctl_action_names[a] : "?";
}

/* What the limit did to the flow: its over action applied, the rule's opts did not. */
static void limit_line(struct text *t, const struct ctlua_event *e, const struct ctl_event_why *w)
{
	const struct ctlua_limit *l = w->limit;
	char name[48] = "";

	if (l && l->name[0])
		snprintf(name, sizeof(name), " '%.31s'", l->name);
	add(t, "over the limit: rule %u's action is %s, but the flow was over its rate limit "
	    "(slot %u%s, over \"%s\"): the limit's over action applied, so none of the rule's "
	    "opts ran\n", e->rule_id, action_name(w->verdict->action), w->verdict->limit, name,
	    action_name(l ? l->over : e->action));
}

char *ctl_explain_event(const struct ctlua_event *e, const struct ctl_event_why *w, char *buf,
			size_t len)
{
	struct text t = { buf, len, 0 };
	char flow[CTL_FLOW_STRLEN], xbuf[1024];
	const char *action = action_name(e->action);
	bool request = e->dir == CTLUA_DIR_REQUEST;
	int n = 0;

	buf[0] = '\0';
	add(&t, "%s: %s on %s %s\n", e->kind < CTLUA_EV_NR ? ctl_event_names[e->kind] : "?",
	    ctl_flow_format(&e->flow, flow), w->ifname ? w->ifname : "?",
	    request ? "(a direct request)" :
	    e->dir == CTLUA_DIR_EGRESS ? "egress" : "ingress");
	if (request)
		add(&t, "decided: by the host, not the packet path: ct.alloc, or a callback's "
		    "\"alloc\" answer applied at once (BPF_PROG_TEST_RUN, in the host's network "
		    "namespace)\n");
	else if (e->rule_id)
		add(&t, "decided: %s, by rule %u (no per-flow verdict for this flow; rules come "
		    "before the default)\n", action, e->rule_id);
	else
		add(&t, "decided: %s, by a per-flow verdict (an earlier callback's answer or "
		    "ct.verdict) or, with none and no rule matching, by the default\n", action);
	if (!request && limited(e, w))
		limit_line(&t, e, w);
	if (w->xdp)
		add(&t, "at XDP: ctlua_xdp ran it, calling bpf_xdp_ct_lookup and bpf_xdp_ct_alloc "
		    "where the names below say bpf_skb_; a drop is XDP_DROP\n");
	add(&t, "kfuncs, in order:\n");
	if (!request)
		step(&t, &n, "bpf_skb_ct_lookup", "no entry (ENOENT): the flow is new, so the "
		     "policy decides");
	if (!request && w->verdict && (w->verdict->opts.flags & CTLUA_OPT_ZONE))
		step(&t, &n, "bpf_skb_ct_lookup", "in the rule's zone %u: no entry there either "
		     "(an entry there would have made the packet a hit)",
		     w->verdict->opts.zone_id);
	switch (e->kind) {
	case CTLUA_EV_MISS:
		add(&t, "  then: %s\n", e->action == CTLUA_ACT_ALLOC ?
		    "bpf_skb_ct_alloc and the rest (in enforce mode; an alloc or alloc_error "
		    "event follows)" : e->action == CTLUA_ACT_DROP ?
		    "the packet is dropped (TC_ACT_SHOT, in enforce mode; a drop event follows)" :
		    "nothing: the packet goes on to netfilter, which may create the entry itself");
		add(&t, "the miss event is emitted before the program acts; in observe mode "
		    "nothing acts\n");
		break;
	case CTLUA_EV_DROP:
		add(&t, "  then: the packet is dropped (TC_ACT_SHOT); no kfunc allocates\n");
		break;
	default:
		alloc_steps(&t, &n, e, w->verdict, request);
		break;
	}
	if (e->error) {
		add(&t, "the kernel answered: %s\n", ctl_explain_format(e->error, xbuf,
									sizeof(xbuf)));
		if (e->stage)
			add(&t, "  at: %s (stage \"%s\")\n", ctl_stage_call(e->stage),
			    stage_word(e->stage));
	}
	add(&t, "kernel facts that applied:\n");
	if (!request)
		add(&t, "  - the packet path passes opts of 12 bytes, which every kernel from 6.0 "
		    "takes (16, with a zone id, only 6.11+)\n");
	else
		add(&t, "  - a request passes the opts size it was given (12 unless zone or "
		    "opts_size asked for 16, which only 6.11+ takes)\n");
	if (w->feat)
		add(&t, "  - this kernel (%s) takes opts of %s; zones %s; bpf_ct_set_nat_info %s\n",
		    w->feat->release, w->feat->opts_size >= 16 ? "12 or 16 bytes" : "12 bytes only",
		    w->feat->zones ? "yes (6.11+)" : "no (before 6.11)",
		    w->feat->nat ? "yes" : "no");
	if (e->kind == CTLUA_EV_ALLOC || e->kind == CTLUA_EV_ALLOC_ERROR) {
		add(&t, "  - every bpf_skb_ct_alloc must reach bpf_ct_insert_entry: no kfunc "
		    "discards an allocation\n");
		add(&t, "  - status bits go in as current | wanted, which 6.0 and 6.1+ both take; "
		    "BPF can set only seen_reply, assured, fixed_timeout and helper\n");
		add(&t, "  - entries inserted from BPF produce no ctnetlink events: this event is "
		    "their only record\n");
	}
	if (t.used && buf[t.used - 1] == '\n')
		buf[--t.used] = '\0';
	return buf;
}

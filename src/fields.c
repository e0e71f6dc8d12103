// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fields.c - the field tables of ctlua's records (fields.h): what an event and a
 * conntrack entry contain, and how each field is read from the raw record. The order
 * of a table is the order of doc/api.md's table for that record.
 */
#include <arpa/inet.h>
#include <string.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include "explain.h"
#include "fields.h"
#include "names.h"

/* A field read by a getter. */
#define FIELD(name, type, flags, get)	{ name, type, flags, get, 0, 0 }

/* --- events (struct ctlua_event from the ring buffer) --------------------------------- */

#define EV(rec)	((const struct ctlua_event *)(rec))
#define CTX(ctx) ((const struct ctl_event_ctx *)(ctx))

static bool ev_kind(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = EV(rec)->kind < CTLUA_EV_NR ? ctl_event_names[EV(rec)->kind] : "?";
	return true;
}

static bool ev_src(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = ctl_addr_format(EV(rec)->flow.family, EV(rec)->flow.saddr, v->buf);
	return true;
}

static bool ev_dst(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = ctl_addr_format(EV(rec)->flow.family, EV(rec)->flow.daddr, v->buf);
	return true;
}

static bool ev_sport(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->i = ntohs(EV(rec)->flow.sport);
	return true;
}

static bool ev_dport(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->i = ntohs(EV(rec)->flow.dport);
	return true;
}

static bool ev_proto(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->i = EV(rec)->flow.proto;
	v->s = ctl_proto_name(EV(rec)->flow.proto);
	return true;
}

static bool ev_family(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = EV(rec)->flow.family == CTLUA_AF_INET6 ? "ipv6" : "ipv4";
	return true;
}

static bool ev_tuple(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->flow = &EV(rec)->flow;
	return true;
}

static bool ev_ifname(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)rec;
	v->s = CTX(ctx)->ifname;
	return true;
}

static bool ev_dir(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = EV(rec)->dir == CTLUA_DIR_EGRESS ? "egress" :
	       EV(rec)->dir == CTLUA_DIR_REQUEST ? "request" : "ingress";
	return true;
}

static bool ev_action(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->s = EV(rec)->action < CTLUA_ACT_NR ? ctl_action_names[EV(rec)->action] : "?";
	return true;
}

/* Absent when the verdict map or the default decided. */
static bool ev_rule(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->i = EV(rec)->rule_id;
	return v->i != 0;
}

static bool ev_err(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->i = EV(rec)->error;
	return true;
}

static bool ev_errname(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	if (!EV(rec)->error)
		return false;
	v->s = ctl_errno_name(EV(rec)->error, v->buf, sizeof(v->buf));
	return true;
}

/* Where an alloc_error stopped; absent for other events. */
static bool ev_stage(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	if (!EV(rec)->stage)
		return false;
	v->s = ctl_stage_name(EV(rec)->stage);
	if (!v->s)
		v->s = "?";
	return true;
}

/* Wall-clock seconds: the program's CLOCK_MONOTONIC stamp moved by the offset. */
static bool ev_time(const void *rec, const void *ctx, struct ctl_value *v)
{
	/* unsigned sum: a record's stamp is not trusted to leave room for the offset */
	v->n = (double)(__s64)(EV(rec)->time_ns + (__u64)CTX(ctx)->realtime_offset_ns) / 1e9;
	return true;
}

#define F_EV	(CTL_FIELD_ALWAYS | CTL_FIELD_FILTER)

static const struct ctl_field event_fields[] = {
	FIELD("kind", CTL_FT_STRING, F_EV | CTL_FIELD_CORE, ev_kind),
	FIELD("src", CTL_FT_STRING, F_EV, ev_src),
	FIELD("dst", CTL_FT_STRING, F_EV, ev_dst),
	FIELD("sport", CTL_FT_INT, F_EV, ev_sport),
	FIELD("dport", CTL_FT_INT, F_EV, ev_dport),
	FIELD("proto", CTL_FT_PROTO, F_EV, ev_proto),
	FIELD("family", CTL_FT_STRING, F_EV, ev_family),
	FIELD("tuple", CTL_FT_TUPLE, CTL_FIELD_ALWAYS | CTL_FIELD_CORE, ev_tuple),
	FIELD("ifname", CTL_FT_STRING, F_EV | CTL_FIELD_CORE, ev_ifname),
	FIELD("dir", CTL_FT_STRING, F_EV | CTL_FIELD_CORE, ev_dir),
	FIELD("action", CTL_FT_STRING, F_EV | CTL_FIELD_CORE, ev_action),
	FIELD("rule", CTL_FT_INT, CTL_FIELD_FILTER, ev_rule),
	FIELD("err", CTL_FT_INT, CTL_FIELD_ALWAYS, ev_err),
	FIELD("errname", CTL_FT_STRING, CTL_FIELD_FILTER, ev_errname),
	FIELD("stage", CTL_FT_STRING, CTL_FIELD_FILTER, ev_stage),
	FIELD("time", CTL_FT_NUMBER, CTL_FIELD_ALWAYS, ev_time),
};

const struct ctl_record ctl_event_record = {
	"event", event_fields, sizeof(event_fields) / sizeof(event_fields[0]),
};

/* --- conntrack entries (struct ctl_entry) --------------------------------------------- */

#define EN(rec)	((const struct ctl_entry *)(rec))

static bool en_tuple(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->flow = &EN(rec)->tuple;
	return true;
}

static bool en_reply(const void *rec, const void *ctx, struct ctl_value *v)
{
	(void)ctx;
	v->flow = &EN(rec)->reply;
	return true;
}

/* Source NAT changes where replies go: the reply's destination. */
static bool en_snat(const void *rec, const void *ctx, struct ctl_value *v)
{
	const struct ctlua_flow *r = &EN(rec)->reply;

	(void)ctx;
	v->nat.family = r->family;
	v->nat.addr = r->daddr;
	v->nat.port = ntohs(r->dport);
	return EN(rec)->status & IPS_SRC_NAT;
}

/* Destination NAT changes who answers: the reply's source. */
static bool en_dnat(const void *rec, const void *ctx, struct ctl_value *v)
{
	const struct ctlua_flow *r = &EN(rec)->reply;

	(void)ctx;
	v->nat.family = r->family;
	v->nat.addr = r->saddr;
	v->nat.port = ntohs(r->sport);
	return EN(rec)->status & IPS_DST_NAT;
}

#define F_EN	CTL_FIELD_ALWAYS

static const struct ctl_field entry_fields[] = {
	FIELD("tuple", CTL_FT_TUPLE, F_EN | CTL_FIELD_CORE, en_tuple),
	FIELD("reply", CTL_FT_TUPLE, F_EN | CTL_FIELD_CORE, en_reply),
	{ "status", CTL_FT_STATUS, F_EN, NULL, offsetof(struct ctl_entry, status),
	  sizeof(__u32) },	/* the bits, as their names */
	CTL_FIELD_UINT(struct ctl_entry, status, "status_bits", F_EN | CTL_FIELD_CORE),
	CTL_FIELD_UINT(struct ctl_entry, timeout_ms, "timeout", F_EN),
	CTL_FIELD_UINT(struct ctl_entry, mark, "mark", F_EN),
	CTL_FIELD_UINT(struct ctl_entry, zone, "zone", F_EN),
	FIELD("snat", CTL_FT_NAT, 0, en_snat),
	FIELD("dnat", CTL_FT_NAT, 0, en_dnat),
};

const struct ctl_record ctl_entry_record = {
	"entry", entry_fields, sizeof(entry_fields) / sizeof(entry_fields[0]),
};

/* --- reading ---------------------------------------------------------------------------- */

const struct ctl_field *ctl_record_field(const struct ctl_record *r, const char *name,
					 size_t len)
{
	for (unsigned int i = 0; i < r->nfields; i++)
		if (strlen(r->fields[i].name) == len && !memcmp(r->fields[i].name, name, len))
			return &r->fields[i];
	return NULL;
}

bool ctl_field_get(const struct ctl_field *f, const void *rec, const void *ctx,
		   struct ctl_value *v)
{
	const unsigned char *p = (const unsigned char *)rec + f->offset;

	if (f->get)
		return f->get(rec, ctx, v);
	switch (f->size) {
	case 1:
		v->i = *p;
		break;
	case 2:
		v->i = *(const uint16_t *)p;
		break;
	case 4:
		v->i = *(const uint32_t *)p;
		break;
	default:
		v->i = (int64_t)*(const uint64_t *)p;
		break;
	}
	return true;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fields.h - the records ctlua reports (an event, a conntrack entry), each declared
 * once as a table of its fields: name, type, flags and how to read it from the raw
 * record. The Lua value (lua_event.c, lua_entry.c), the shell's printer (pretty.c),
 * ct.watch's filter (lua_events.c) and the check of doc/api.md (tests/unit) are driven
 * from these tables, and a JSON writer would be too; adding a field is one line here
 * (and one row in the docs, which a test asks for). No Lua here.
 */
#ifndef CTLUA_FIELDS_H
#define CTLUA_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "addr.h"
#include "ctlua.h"

/*
 * A conntrack entry as ctlua reports it, whether a kfunc request (lua_direct.c) or
 * ctnetlink (conntrack.c) read it. Its fields: ctl_entry_record.
 */
struct ctl_entry {
	struct ctlua_flow tuple;	/* original direction */
	struct ctlua_flow reply;	/* reply direction, rewritten by NAT */
	__u32 status;			/* IPS_* bits */
	__u32 mark;
	__u32 timeout_ms;		/* time left */
	__u16 zone;			/* zone id, 0 the default */
};

/* What an event's fields need besides the ring buffer's record (struct ctlua_event). */
struct ctl_event_ctx {
	const char *ifname;		/* the name of the record's ifindex */
	__s64 realtime_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
};

/* How a field's value is represented, in Lua and in text. */
enum ctl_field_type {
	CTL_FT_STRING,		/* .s: a name or an address */
	CTL_FT_INT,		/* .i */
	CTL_FT_NUMBER,		/* .n: a float (seconds) */
	CTL_FT_PROTO,		/* .s when the protocol has a name, else NULL and .i */
	CTL_FT_TUPLE,		/* .flow: a ct.tuple */
	CTL_FT_STATUS,		/* .i: IPS_* bits, shown as the list of their names */
	CTL_FT_NAT,		/* .nat: where NAT sends one side, {addr=, port=} */
};

/* One field's value, as a getter read it. Strings may point into .buf. */
struct ctl_value {
	int64_t i;
	double n;
	const char *s;
	const struct ctlua_flow *flow;
	struct {
		int family;
		const __be32 *addr;
		__u16 port;		/* host order */
	} nat;
	char buf[CTL_ADDR_STRLEN];
};

#define CTL_FIELD_ALWAYS	0x1	/* every record has it (else the getter may say no) */
#define CTL_FIELD_CORE		0x2	/* the printer's one-line form needs it */
#define CTL_FIELD_FILTER	0x4	/* ct.watch can select on it (events) */

struct ctl_field {
	const char *name;
	enum ctl_field_type type;
	unsigned int flags;		/* CTL_FIELD_* */
	/*
	 * Read the field of @rec (with the record's context @ctx) into @v; false when this
	 * record has no such field. NULL for an unsigned integer read at @offset.
	 */
	bool (*get)(const void *rec, const void *ctx, struct ctl_value *v);
	size_t offset, size;
};

/* An unsigned integer member of the record, read without a getter. */
#define CTL_FIELD_UINT(type, member, name, flags) \
	{ name, CTL_FT_INT, flags, NULL, offsetof(type, member), sizeof(((type *)0)->member) }

struct ctl_record {
	const char *name;		/* "event", "entry": the printer's word for it */
	const struct ctl_field *fields;
	unsigned int nfields;
};

/* Fields of struct ctlua_event with a struct ctl_event_ctx; of struct ctl_entry, no ctx. */
extern const struct ctl_record ctl_event_record;
extern const struct ctl_record ctl_entry_record;

/* The field of @r named by the @len bytes at @name, or NULL. */
const struct ctl_field *ctl_record_field(const struct ctl_record *r, const char *name,
					 size_t len);

/* Read field @f of @rec into @v; false when the record has none (see struct ctl_field). */
bool ctl_field_get(const struct ctl_field *f, const void *rec, const void *ctx,
		   struct ctl_value *v);

#endif

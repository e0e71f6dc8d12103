/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules.h - the rule table as the host keeps it: a rule's fields compiled into the
 * struct ctlua_rule the TC program matches, kept in evaluation order by priority, and
 * flattened for the map. No Lua here: lua_policy.c reads the fields, this checks them.
 */
#ifndef CTLUA_RULES_H
#define CTLUA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_sets;

/* The bounds of a rule's priority (lower values are evaluated first). */
#define CTL_RULE_PRIORITY_MIN	(-1000000)
#define CTL_RULE_PRIORITY_MAX	1000000

/*
 * A port field as read (ctl_check_port_at): @items 0, absent; -1, one port, @lo; n > 0,
 * a table of n entries (each counts, so {1, 2, 3} and {1, 2, x = 3} are not read as
 * {1, 2}; {} counts as one), whose [1] and [2] are @lo and @hi, both integers if @ints.
 */
struct ctl_port_spec {
	int items;
	bool ints;
	long long lo, hi;
};

/*
 * A rule as the user wrote it, each field read but not yet checked against the others.
 * Zero it, then set what was given.
 */
struct ctl_rule_spec {
	const char *proto;		/* "tcp" or "udp"; NULL: any */
	const char *src, *dst;		/* "ADDR" or "ADDR/LEN"; NULL: any */
	int family;			/* CTLUA_AF_INET or CTLUA_AF_INET6; 0: from the addresses */
	struct ctl_port_spec dport, sport;	/* absent: any port */
	struct ctlua_verdict verdict;	/* action and opts; the rule id is set when added */
	/* names of sets (enum ctlua_set_field: src_set, ...), NULL: none; found in @sets */
	const char *set[CTLUA_SET_FIELDS];
	const struct ctl_sets *sets;	/* the state's (sets.h); NULL: it has none */
};

/* The rule fields that name a set, by enum ctlua_set_field: "src_set", ..., NULL. */
extern const char *const ctl_set_field_names[];

/*
 * Check the port field @name ("dport", "snat.port") read as @p, each end in @min to
 * 65535 (absent: 0 to 65535), into *@lo..*@hi. Returns 0, or -EINVAL with the reason in
 * @why, worded as the tail of a "bad argument" message ("field 'dport': ...").
 */
int ctl_port_compile(const char *name, const struct ctl_port_spec *p, int min, __u16 *lo,
		     __u16 *hi, char *why, size_t len);

/*
 * Check @spec and build the rule into @out (id 0; the rest as the program matches it).
 * Returns 0, or -EINVAL with the reason in @why, worded as the tail of a
 * "bad argument" message ("field 'dport': ...").
 */
int ctl_rule_compile(const struct ctl_rule_spec *spec, struct ctlua_rule *out, char *why,
		     size_t len);

struct ctl_rule_entry {
	struct ctlua_rule rule;
	long long priority;
};

/*
 * The rules in evaluation order: by priority, then in the order they were added. The
 * entries come last, so a table known to hold at most k rules may be allocated as
 * offsetof(struct ctl_rules, e) + k * sizeof(e[0]) (ct.policy's).
 */
struct ctl_rules {
	unsigned int n;
	__u32 last_id;			/* ids are last_id + 1, never reused */
	struct ctl_rule_entry e[CTLUA_MAX_RULES];
};

/* Make @t an empty table whose first id will be 1; the entries are left as they are. */
void ctl_rules_init(struct ctl_rules *t);

/* Make @to hold what @from holds: its n entries (not the whole array) and its last id. */
void ctl_rules_copy(struct ctl_rules *to, const struct ctl_rules *from);

/*
 * Add @r (its id and verdict.rule_id are set to the next id) after every rule whose
 * priority is <= @priority. Returns its position, or -E2BIG when the table holds
 * CTLUA_MAX_RULES. ctl_rules_undo_add(t, pos) takes it out again, id included, for
 * when the map could not be written.
 */
int ctl_rules_add(struct ctl_rules *t, struct ctlua_rule *r, long long priority);
void ctl_rules_undo_add(struct ctl_rules *t, int pos);

/* The position of the rule with id @id, or -ENOENT. */
int ctl_rules_find(const struct ctl_rules *t, long long id);
/* Remove the rule at @pos into *@gone; ctl_rules_restore puts it back where it was. */
void ctl_rules_remove(struct ctl_rules *t, unsigned int pos, struct ctl_rule_entry *gone);
void ctl_rules_restore(struct ctl_rules *t, unsigned int pos, const struct ctl_rule_entry *gone);

/* Copy the rules, in evaluation order, to @out (room for t->n); returns t->n. */
unsigned int ctl_rules_flatten(const struct ctl_rules *t, struct ctlua_rule *out);

/*
 * The distinct (field, set) pairs the rules of @t name: the classifier takes at most
 * CTLUA_SET_REFS (ctlua.h).
 */
unsigned int ctl_rules_set_refs(const struct ctl_rules *t);

/* The length of a prefix mask (its set bits), as ct.rules() prints "ADDR/LEN". */
int ctl_rule_prefix_len(const __be32 mask[4]);

#endif

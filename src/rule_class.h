/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rule_class.h - the rule classifier (struct ctlua_rule_class in ctlua.h): built here
 * from a rule table for the TC program, and looked up here the way the program does,
 * beside the ordered scan it must agree with, so that tests can compare the two.
 */
#ifndef CTLUA_RULE_CLASS_H
#define CTLUA_RULE_CLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

/*
 * Build the classifier of @rules[0..n) (evaluation order, n <= CTLUA_MAX_RULES, every
 * prefix mask contiguous, as ctl_rule_compile makes them) into @c: everything before
 * the pool, and the pool's first c->pool_used words (the rest is not written). Returns
 * 0, -E2BIG when the rules name more than CTLUA_SET_REFS distinct (field, set) pairs
 * (ctlua_rule.set[]; nothing is written then), -EINVAL for a set id of CTLUA_SETS or
 * more, -ENOSPC when the sets do not fit the pool
 * (or an address dimension has more than CTLUA_RULE_SPANS intervals), -ENOMEM.
 */
int ctl_rule_class_build(const struct ctlua_rule *rules, unsigned int n,
			 struct ctlua_rule_class *c);

/* The bytes of @c that ctl_rule_class_build wrote: from its start to the pool's end in use. */
size_t ctl_rule_class_size(const struct ctlua_rule_class *c);

/*
 * The place of the first rule that matches @f (a TCP or UDP flow) whose set references
 * hold under @refs (ctl_rule_class_refs; 0 when no rule names a set), CTLUA_MAX_RULES
 * if none, through @c, step for step as the program does (tests/unit/rule_class.c
 * holds it to an ordered scan of its own).
 */
unsigned int ctl_rule_class_lookup(const struct ctlua_rule_class *c, const struct ctlua_flow *f,
				   __u32 refs);

/*
 * The reference mask of @f under @c (ctlua.h, by_refs): bit i set when @holds(@ctx,
 * field, set, @f) of c->ref[i] is true, as the program computes it from the set maps.
 */
__u32 ctl_rule_class_refs(const struct ctlua_rule_class *c, const struct ctlua_flow *f,
			  bool (*holds)(void *ctx, unsigned int field, unsigned int set,
					const struct ctlua_flow *f),
			  void *ctx);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rule_class.h - the rule classifier (struct ctlua_rule_class in ctlua.h): built here
 * from a rule table for the TC program, and looked up here the way the program does,
 * beside the ordered scan it must agree with, so that tests can compare the two.
 */
#ifndef CTLUA_RULE_CLASS_H
#define CTLUA_RULE_CLASS_H

#include <linux/types.h>
#include "ctlua.h"

/*
 * Build the classifier of @rules[0..n) (evaluation order, n <= CTLUA_MAX_RULES, every
 * prefix mask contiguous, as ctl_rule_compile makes them) into @c, every byte written.
 */
void ctl_rule_class_build(const struct ctlua_rule *rules, unsigned int n,
			  struct ctlua_rule_class *c);

/*
 * The position of the first rule that matches @f (a TCP or UDP flow), CTLUA_MAX_RULES
 * if none, through @c, step for step as the program does (tests/unit/rule_class.c
 * holds it to an ordered scan of its own).
 */
unsigned int ctl_rule_class_lookup(const struct ctlua_rule_class *c, const struct ctlua_flow *f);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rule_counts.h - the host's half of ctl_counts, the program's per-CPU counters of what
 * decided each miss (struct ctlua_count): summing the CPUs, and carrying a rule's counts
 * to its new position when a policy switch puts a new rule table live
 * (doc/performance.md, "Counting per rule"). Every function returns 0 or -errno.
 */
#ifndef CTLUA_RULE_COUNTS_H
#define CTLUA_RULE_COUNTS_H

#include <stdbool.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_counts;

/*
 * The counters of map @fd (ctl_counts, zeroed or pinned) on @ncpus possible CPUs, with
 * nothing carried yet. *@out on success.
 */
int ctl_counts_new(struct ctl_counts **out, int fd, int ncpus);
void ctl_counts_free(struct ctl_counts *c);

/*
 * What the idle slot holds is not known (a pinned map, left by another ctlua): the next
 * carry zeroes all of it, and nothing it holds is added to the live rules.
 */
void ctl_counts_idle_unknown(struct ctl_counts *c);

/* A policy's parts that counts follow: its rules in evaluation order, its default. */
struct ctl_counts_policy {
	const struct ctlua_rule *rules;
	unsigned int n;
	const struct ctlua_verdict *dflt;
	/*
	 * The rate limits' specs by slot (ratelimit.h), so that a verdict's limit compares
	 * by its rate, burst, per and over and not by its slot, which a rule given again
	 * takes anew; NULL: compared by slot.
	 */
	const struct ctlua_limit *limits;
};

/*
 * Before a switch from the live policy @old (in slot @live) to @new (in the other, which
 * no packet may be reading: after the switch's grace period): set the idle slot's
 * counters so that each rule of @new that is also in @old (the same struct ctlua_rule
 * but for its id, and its limit's slot compared by spec) starts with the counts it has
 * now, the others, and the default unless it is unchanged (the same way), at 0. Then call ctl_counts_switched with whether the switch
 * was made.
 */
int ctl_counts_carry(struct ctl_counts *c, __u32 live, const struct ctl_counts_policy *old,
		     const struct ctl_counts_policy *new);
void ctl_counts_switched(struct ctl_counts *c, bool done);

/*
 * For each rule k of @new, the position of the same rule in @old (the same struct
 * ctlua_rule but for its id, its limit by spec) into @from[k], or -1: the i-th of several equal rules in
 * @new is the i-th of them in @old. Linear in the rules' number; -ENOMEM.
 */
int ctl_counts_match(const struct ctl_counts_policy *old, const struct ctl_counts_policy *new,
		     int *from);

/*
 * The counts of the live policy in slot @live: its @n rules' into @rules[0..n), its
 * default's into *@dflt, each per-flow verdict source's into @src[CTLUA_SRC_NR]; summed
 * over the CPUs, with what landed in the old slot after the last carry.
 */
int ctl_counts_read(struct ctl_counts *c, __u32 live, unsigned int n, struct ctlua_count *rules,
		    struct ctlua_count *dflt, struct ctlua_count *src);

/* @to += @from, field by field. */
void ctl_count_add(struct ctlua_count *to, const struct ctlua_count *from);

#endif

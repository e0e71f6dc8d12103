// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rule_counts.c - TAP tests of ctl_counts_match (src/rule_counts.h): which rule of a new
 * table takes the counts of which rule of the old, on hand-made tables and against a
 * plain quadratic match on random ones with duplicates. No kernel.
 */
#include <stdio.h>
#include <string.h>
#include "rule_counts.h"
#include "rulegen.h"
#include "tap.h"

#define MAXN	600

#define NSLOT	12	/* limit slots the random tables use: 1..NSLOT */
#define NSPEC	3	/* the specs in them: slot k has spec k % NSPEC */

static struct ctlua_rule old_r[MAXN], new_r[MAXN];

/* Whether limit slots @a and @b hold the same spec, but for gen, owner and rule (or none). */
static bool spec_same(const struct ctlua_limit *limits, __u16 a, __u16 b)
{
	struct ctlua_limit x, y;

	if (!a || !b)
		return a == b;
	x = limits[a];
	y = limits[b];
	x.gen = y.gen = x.owner = y.owner = x.rule_id = y.rule_id = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/*
 * The reference: each new rule takes the first old one not yet taken that is equal but
 * for the id, its limit compared by spec in @limits (by slot without them).
 */
static void match_slowly(unsigned int nold, unsigned int nnew, int *from,
			 const struct ctlua_limit *limits)
{
	bool used[MAXN] = {};

	for (unsigned int k = 0; k < nnew; k++) {
		from[k] = -1;
		for (unsigned int i = 0; i < nold; i++) {
			struct ctlua_rule a = old_r[i], b = new_r[k];
			bool limit_same = limits ? spec_same(limits, a.verdict.limit, b.verdict.limit) :
						   a.verdict.limit == b.verdict.limit;

			a.id = a.verdict.rule_id = b.id = b.verdict.rule_id = 0;
			a.verdict.limit = b.verdict.limit = 0;
			if (!used[i] && limit_same && !memcmp(&a, &b, sizeof(a))) {
				used[i] = true;
				from[k] = (int)i;
				break;
			}
		}
	}
}

/* With @limits, verdicts' limits compare by the spec in their slot; else by slot. */
static int match_in(unsigned int nold, unsigned int nnew, int *from,
		    const struct ctlua_limit *limits)
{
	const struct ctlua_verdict d = {};
	const struct ctl_counts_policy o = { old_r, nold, &d, limits },
				       n = { new_r, nnew, &d, limits };

	return ctl_counts_match(&o, &n, from);
}

static int match(unsigned int nold, unsigned int nnew, int *from)
{
	return match_in(nold, nnew, from, NULL);
}

/* A limited rule given again takes a new slot: the same spec is the same rule. */
static void test_limits(void)
{
	static struct ctlua_limit lim[CTLUA_MAX_LIMITS];
	const struct ctlua_limit spec = { .rate_milli = 10000, .burst = 10, .per = CTLUA_PER_SRC,
					  .over = CTLUA_ACT_DROP, .mask4 = { 0xffffffff },
					  .mask6 = { 0xffffffff, 0xffffffff, 0xffffffff,
						     0xffffffff } };
	int from[4];

	rulegen_state = 7;
	rg_rules(old_r, 2);
	old_r[0].verdict.limit = 3;
	old_r[1].verdict.limit = 4;
	lim[3] = lim[4] = lim[5] = lim[6] = spec;
	lim[3].gen = 1;		/* what the user did not give differs, and does not matter */
	lim[5].gen = 9;
	lim[5].owner = 2;
	lim[6].rate_milli = 20000;	/* a changed rate */
	memcpy(new_r, old_r, 2 * sizeof(*old_r));
	new_r[0].verdict.limit = 5;
	new_r[1].verdict.limit = 6;
	ok(!match_in(2, 2, from, lim) && from[0] == 0 && from[1] == -1,
	   "a limit in a new slot with the same spec: kept; with another rate: changed");
	ok(!match(2, 2, from) && from[0] == -1 && from[1] == -1,
	   "without the specs, slots compare: both changed");
	new_r[1].verdict.limit = 0;
	ok(!match_in(2, 2, from, lim) && from[1] == -1, "a limit removed: changed");
	lim[6] = spec;
	lim[6].over = CTLUA_ACT_PASS;
	new_r[1].verdict.limit = 6;
	ok(!match_in(2, 2, from, lim) && from[1] == -1, "another over action: changed");
	lim[6] = spec;
	lim[6].mask4[0] = 0xffffff00;
	ok(!match_in(2, 2, from, lim) && from[1] == -1, "another per: changed");
	lim[6] = spec;
	lim[6].burst = 11;
	ok(!match_in(2, 2, from, lim) && from[1] == -1, "another burst: changed");
	lim[6] = spec;
	ok(!match_in(2, 2, from, lim) && from[0] == 0 && from[1] == 1,
	   "both given again unchanged, in new slots: both kept");
	/* the hashed match, not the in-order one: the new table is longer */
	new_r[2] = new_r[1];
	new_r[2].id = new_r[2].verdict.rule_id = 99;
	ok(!match_in(2, 3, from, lim) && from[0] == 0 && from[1] == 1 && from[2] == -1,
	   "by hash: both kept, the copy new");
}

static void test_cases(void)
{
	int from[8], i;

	rulegen_state = 1;
	rg_rules(old_r, 3);
	/* a rule in front, the old ones under new ids, the middle one twice */
	while (rg_rule(&new_r[0]))
		;
	new_r[1] = old_r[0];
	new_r[2] = old_r[1];
	new_r[3] = old_r[1];
	new_r[4] = old_r[2];
	for (i = 0; i < 5; i++)
		new_r[i].id = new_r[i].verdict.rule_id = 10 + i;
	new_r[4].verdict.opts.mark = 7;		/* changed: its opts */
	new_r[4].verdict.opts.flags |= CTLUA_OPT_MARK;
	ok(!match(3, 5, from) && from[0] == -1 && from[1] == 0 && from[2] == 1 &&
	   from[3] == -1 && from[4] == -1,
	   "new in front: -1; kept under new ids: 0, 1; the copy and the changed rule: -1");
	ok(!match(3, 3, from) && from[0] == -1 && from[1] == 0 && from[2] == 1,
	   "the same, cut to 3");
	memcpy(new_r, old_r, 3 * sizeof(*old_r));
	ok(!match(3, 3, from) && from[0] == 0 && from[1] == 1 && from[2] == 2,
	   "the same rules: each keeps its place");
	ok(!match(3, 0, from) && !match(0, 3, from) && from[0] == -1 && from[2] == -1,
	   "an empty table, old or new");
}

/* Slots 1..NSLOT: NSPEC specs, each in several slots that differ in gen, owner and rule. */
static void limit_pool(struct ctlua_limit *lim)
{
	for (unsigned int k = 1; k <= NSLOT; k++) {
		lim[k] = (struct ctlua_limit){ .rate_milli = 1000 * (1 + k % NSPEC), .burst = 5,
					       .per = CTLUA_PER_SRC, .over = CTLUA_ACT_DROP,
					       .mask4 = { 0xffffffff }, .gen = k, .owner = k % 2,
					       .rule_id = 100 + k };
		if (k % NSPEC == 2)
			lim[k].over = CTLUA_ACT_PASS;	/* not the rate alone */
	}
}

/* A random limit slot, or none (half the time). */
static __u16 any_slot(void)
{
	return rg(2) ? 0 : (__u16)(1 + rg(NSLOT));
}

static void test_random(void)
{
	static struct ctlua_limit lim[CTLUA_MAX_LIMITS];
	static int from[MAXN], want[MAXN];
	int bad = 0, bad_limits = 0;

	limit_pool(lim);
	for (int round = 0; round < 200; round++) {
		unsigned int nold = 1 + rg(MAXN - 100), nnew = 0;

		rulegen_state = 1000 + round;
		rg_rules(old_r, nold);
		for (unsigned int i = 0; i < nold; i++) {	/* some limited, some duplicates */
			old_r[i].verdict.limit = any_slot();
			if (!rg(8))
				old_r[i] = old_r[rg(nold)];
		}
		/* the new table: old rules in any order, some twice, some new */
		while (nnew < nold + rg(50) && nnew < MAXN) {
			if (rg(5))
				new_r[nnew] = old_r[rg(nold)];
			else
				while (rg_rule(&new_r[nnew]))
					;
			new_r[nnew].id = new_r[nnew].verdict.rule_id = 100000 + nnew;
			nnew++;
		}
		match_slowly(nold, nnew, want, NULL);
		if (match(nold, nnew, from) || memcmp(from, want, nnew * sizeof(*from))) {
			if (!bad++)
				diag("round %d (seed %d): %u old, %u new rules differ", round,
				     1000 + round, nold, nnew);
		}
		/* again with the specs: a new rule's limit moves to another slot of its spec */
		for (unsigned int k = 0; k < nnew; k++) {
			__u16 *slot = &new_r[k].verdict.limit;

			if (!rg(3))
				*slot = any_slot();
			else if (*slot && rg(2))
				*slot = *slot + NSPEC <= NSLOT ? *slot + NSPEC : *slot % NSPEC + NSPEC;
		}
		match_slowly(nold, nnew, want, lim);
		if (match_in(nold, nnew, from, lim) || memcmp(from, want, nnew * sizeof(*from))) {
			if (!bad_limits++)
				diag("round %d (seed %d), limits: %u old, %u new rules differ", round,
				     1000 + round, nold, nnew);
		}
	}
	ok(!bad, "200 random tables with duplicates: the same match as the quadratic one (%d differ)",
	   bad);
	ok(!bad_limits, "and with limits from a pool of %d specs in %d slots (%d differ)", NSPEC,
	   NSLOT, bad_limits);
}

void test_rule_counts(void)
{
	test_cases();
	test_limits();
	test_random();
}

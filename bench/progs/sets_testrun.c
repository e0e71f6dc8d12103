// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sets_testrun.c - what a rule naming a prefix set costs in ctlua_ingress, by the set's
 * size, through BPF_PROG_TEST_RUN (issue #14: a rule naming a 100 000-prefix set costs
 * at most 10 % more than the same rule with a 1-prefix set).
 *
 *   sets_testrun REPEAT ROUNDS
 *
 * Loads ctlua's object as the host does (ctl_dp_open), in mode observe with events off,
 * so that a run is parse, a conntrack lookup that misses and the decision, and nothing
 * is created (run it in a namespace of its own). Three tables of one rule each, written
 * as ct.rule does: "plain" (src = 198.18.0.1, no set), "set1" (src_set of a set holding
 * 198.18.0.1 alone), "set100k" (src_set of a set holding it and 99 999 other /32s, filled
 * as set:add does). The packet is tuple 0 of bench/progs/flowgen.h from 198.18.0.1, which
 * each rule decides. Each round runs every table once with REPEAT repeats, in turns;
 * prints "sets NAME median-ns min-ns" per table from the kernel's per-repeat average.
 * Exits 1 unless every run was decided by the rule (ct.stats' by_rule).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"
#include "sets.h"
#include "testrun.h"

#define MAX_ROUNDS	101
#define BIG		100000

/* The rule of table @name into @r: src = 198.18.0.1, or src_set = @name. 0 or -EINVAL. */
static int make_rule(const char *name, const struct ctl_sets *sets, struct ctlua_rule *r)
{
	struct ctl_rule_spec s = { .proto = "udp", .sets = sets };
	char why[200];

	if (!strcmp(name, "plain"))
		s.src = "198.18.0.1";
	else
		s.set[CTLUA_SET_SRC] = name;
	s.verdict.action = CTLUA_ACT_ALLOC;
	if (ctl_rule_compile(&s, r, why, sizeof(why))) {
		fprintf(stderr, "sets_testrun: %s\n", why);
		return -EINVAL;
	}
	r->id = r->verdict.rule_id = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const tables[] = { "plain", "set1", "set100k" };
	enum { NT = sizeof(tables) / sizeof(tables[0]) };
	static __u32 ns[NT][MAX_ROUNDS];
	struct ctlua_rule rules[NT];
	const __be32 one[4] = { htonl(0xc6120001u) };	/* 198.18.0.1 */
	unsigned long long want = 0;
	struct ctl_sets *sets;
	struct ctlua_stats st;
	struct testrun tr;
	int repeat, rounds, a, b, err;

	if (argc != 3 || (repeat = atoi(argv[1])) <= 0 || (rounds = atoi(argv[2])) <= 0 ||
	    rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: sets_testrun REPEAT ROUNDS (ROUNDS at most %d)\n",
			MAX_ROUNDS);
		return 2;
	}
	if (testrun_open(&tr, CTLUA_ACT_PASS, "sets_testrun"))
		return 1;
	if (ctl_sets_new(&sets, tr.dp) || (a = ctl_set_get(sets, "set1", CTL_SET_PREFIX)) < 0 ||
	    (b = ctl_set_get(sets, "set100k", CTL_SET_PREFIX)) < 0) {
		fprintf(stderr, "sets_testrun: cannot make the sets\n");
		return 1;
	}
	err = ctl_set_add_prefix(sets, (unsigned int)a, CTLUA_AF_INET, one, 32);
	/* 198.18.0.1, then 99 999 others from 198.18.64.0 on */
	for (unsigned int i = 0; !err && i < BIG; i++) {
		const __be32 x[4] = { htonl(i ? 0xc6124000u + i : 0xc6120001u) };

		err = ctl_set_add_prefix(sets, (unsigned int)b, CTLUA_AF_INET, x, 32);
	}
	for (int t = 0; !err && t < NT; t++)
		err = make_rule(tables[t], sets, &rules[t]);
	if (err) {
		fprintf(stderr, "sets_testrun: cannot fill the sets (%s)\n", strerror(-err));
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		for (int t = 0; t < NT; t++) {
			tr.pol.rules = &rules[t];
			tr.pol.nrules = 1;
			if ((err = testrun_once(&tr, repeat, &ns[t][r]))) {
				fprintf(stderr, "sets_testrun: %s: %s\n", tables[t],
					strerror(-err));
				return 1;
			}
			want += (unsigned long long)repeat;
		}
	}
	if (ctl_dp_stats(tr.dp, &st) || st.count[CTLUA_STAT_BY_RULE] != want) {
		fprintf(stderr, "sets_testrun: decided by_rule %llu, expected %llu\n",
			(unsigned long long)st.count[CTLUA_STAT_BY_RULE], want);
		return 1;
	}
	for (int t = 0; t < NT; t++) {
		__u32 median = testrun_median(ns[t], rounds);

		printf("sets %s %u %u\n", tables[t], median, ns[t][0]);
	}
	ctl_sets_free(sets);
	ctl_dp_close(tr.dp);
	return 0;
}

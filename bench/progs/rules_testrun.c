// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rules_testrun.c - row 2b without traffic: what deciding a new flow costs in
 * ctlua_ingress with 0, 1, 256 and 10 000 rules, through BPF_PROG_TEST_RUN.
 *
 *   rules_testrun REPEAT ROUNDS
 *
 * Loads ctlua's object as the host does (ctl_dp_open), in mode observe with events off,
 * so that a run is parse, a conntrack lookup that misses and the decision, and nothing
 * is created (run it in a namespace of its own). The rules are those of
 * bench/lua/rules.lua (written through ctl_dp_put_policy, as ct.rule does), case "last"
 * (the flow's first match is the last rule) and "none" (no rule matches); the packet is
 * tuple 0 of bench/progs/flowgen.h from 198.18.0.1. Each round runs every table once
 * with REPEAT repeats, in turns; prints "rules N CASE median-ns min-ns" per table from
 * the kernel's per-repeat average. Exits 1 unless every run decided as its case says
 * (ct.stats' by_rule and by_default).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"
#include "testrun.h"

#define MAX_ROUNDS	101

static struct ctlua_rule rules[CTLUA_MAX_RULES];

/* The N rules of bench/lua/rules.lua (rule k is rules[k - 1]); 0 or -EINVAL. */
static int make_rules(int n, bool last)
{
	char src[64], why[200];

	for (int k = 1; k <= n; k++) {
		struct ctl_rule_spec s = { .proto = "udp", .dport.items = -1 };

		if (k == n) {
			s.dst = "198.19.0.1";
			s.dport.lo = last ? 53 : 54;
		} else if (k % 2) {
			snprintf(src, sizeof(src), "198.18.0.0/%d", 15 + (k / 2) % 17);
			s.src = src;
			s.dst = "198.19.0.1";
			s.dport.lo = 1000 + k;
		} else {
			snprintf(src, sizeof(src), "198.19.%d.%d/32", 128 + k / 256, k % 256);
			s.src = src;
			s.dport.lo = 53;
		}
		s.verdict.action = CTLUA_ACT_ALLOC;
		if (ctl_rule_compile(&s, &rules[k - 1], why, sizeof(why))) {
			fprintf(stderr, "rules_testrun: rule %d: %s\n", k, why);
			return -EINVAL;
		}
		rules[k - 1].id = rules[k - 1].verdict.rule_id = (__u32)k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { int n; bool last; } tables[] = {
		{ 0, false }, { 1, true }, { 1, false }, { 256, true }, { 256, false },
		{ 10000, true }, { 10000, false },
	};
	enum { NT = sizeof(tables) / sizeof(tables[0]) };
	static __u32 ns[NT][MAX_ROUNDS];
	unsigned long long want_rule = 0, want_default = 0;
	struct ctlua_stats st;
	struct testrun tr;
	int repeat, rounds;

	if (argc != 3 || (repeat = atoi(argv[1])) <= 0 || (rounds = atoi(argv[2])) <= 0 ||
	    rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: rules_testrun REPEAT ROUNDS (ROUNDS at most %d)\n", MAX_ROUNDS);
		return 2;
	}
	if (testrun_open(&tr, CTLUA_ACT_ALLOC, "rules_testrun"))
		return 1;
	for (int r = 0; r < rounds; r++) {
		for (int t = 0; t < NT; t++) {
			int err = make_rules(tables[t].n, tables[t].last);

			tr.pol.rules = rules;
			tr.pol.nrules = (unsigned int)tables[t].n;
			if (!err)
				err = testrun_once(&tr, repeat, &ns[t][r]);
			if (err) {
				fprintf(stderr, "rules_testrun: %d rules: %s\n", tables[t].n,
					strerror(-err));
				return 1;
			}
			/* a test run with repeat R runs the program R times */
			if (tables[t].last)
				want_rule += (unsigned long long)repeat;
			else
				want_default += (unsigned long long)repeat;
		}
	}
	if (ctl_dp_stats(tr.dp, &st) || st.count[CTLUA_STAT_BY_RULE] != want_rule ||
	    st.count[CTLUA_STAT_BY_DEFAULT] != want_default) {
		fprintf(stderr, "rules_testrun: decided by_rule %llu by_default %llu, expected %llu %llu\n",
			(unsigned long long)st.count[CTLUA_STAT_BY_RULE],
			(unsigned long long)st.count[CTLUA_STAT_BY_DEFAULT], want_rule, want_default);
		return 1;
	}
	for (int t = 0; t < NT; t++) {
		__u32 median = testrun_median(ns[t], rounds);

		printf("rules %d %s %u %u\n", tables[t].n, tables[t].n ? tables[t].last ? "last" : "none" : "-",
		       median, ns[t][0]);
	}
	ctl_dp_close(tr.dp);
	return 0;
}

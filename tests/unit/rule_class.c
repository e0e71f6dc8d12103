// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rule_class.c - TAP tests of the rule classifier (src/rule_class.h) against the
 * ordered scan it replaces: first in C on the tables the host builds (hand-made cases
 * where the longest or the most specific match is not the first, then random rule
 * tables and flows), then, with `unit_tests rules-kernel` (root, tests/39-rule-class.t),
 * through the real TC program: random tables written with ctl_dp_put_policy, random
 * packets run with BPF_PROG_TEST_RUN, and the rule each miss event names compared with
 * the scan's. With a bpffs directory after rules-kernel, a pinned state's set members
 * reused by a new process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"
#include "rule_class.h"
#include "rulegen.h"
#include "tap.h"

static struct ctlua_rule_class cls;	/* 10 MB, untouched past the pool in use */

/* A rule from text; aborts the test run on a typo in the test itself. */
static struct ctlua_rule mk(const char *proto, const char *src, const char *dst, int lo, int hi)
{
	struct ctl_rule_spec spec = { .proto = proto, .src = src, .dst = dst };
	struct ctlua_rule r;
	char why[200];

	if (lo >= 0) {
		spec.dport.items = 2;
		spec.dport.ints = true;
		spec.dport.lo = lo;
		spec.dport.hi = hi;
	}
	if (ctl_rule_compile(&spec, &r, why, sizeof(why))) {
		fprintf(stderr, "rule_class.c: bad test rule: %s\n", why);
		abort();
	}
	return r;
}

static struct ctlua_flow flow(int proto, const char *src, const char *dst, int dport)
{
	struct ctlua_flow f = { .proto = (__u8)proto };
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	f.family = af == AF_INET6 ? CTLUA_AF_INET6 : CTLUA_AF_INET;
	inet_pton(af, src, f.saddr);
	inet_pton(af, dst, f.daddr);
	f.dport = htons((uint16_t)dport);
	return f;
}

static void is_pos(unsigned int got, unsigned int want, const char *name)
{
	if (!ok(got == want, "%s", name)) {
		diag("         got: %u", got);
		diag("    expected: %u", want);
	}
}

static void test_cases(void)
{
	struct ctlua_rule r[6];
	struct ctlua_flow f;

	/* a /15 before a /32 inside it: the /15 decides, though the /32 is longer */
	r[0] = mk(NULL, "198.18.0.0/15", NULL, -1, 0);
	r[1] = mk(NULL, "198.18.0.1", NULL, -1, 0);
	ctl_rule_class_build(r, 2, &cls);
	f = flow(IPPROTO_UDP, "198.18.0.1", "198.19.0.1", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 0, "class: /15 first, then a /32 in it: the /15 (0)");
	ctl_rule_class_build(r + 1, 1, &cls);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 0, "class: the /32 alone matches (0)");
	f = flow(IPPROTO_UDP, "198.18.0.2", "198.19.0.1", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), CTLUA_MAX_RULES, "class: the /32 alone, another host: none");

	/* the most specific rule on every field, but last */
	r[0] = mk("tcp", NULL, NULL, -1, 0);
	r[1] = mk(NULL, "2001:db8::/32", NULL, 1000, 2000);
	r[2] = mk("udp", "198.18.0.0/24", "198.19.0.1/32", 53, 53);
	r[3] = mk(NULL, NULL, NULL, -1, 0);
	ctl_rule_class_build(r, 4, &cls);
	f = flow(IPPROTO_UDP, "198.18.0.9", "198.19.0.1", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 2, "class: udp 198.18.0.9 -> 198.19.0.1:53: rule 2");
	f = flow(IPPROTO_TCP, "198.18.0.9", "198.19.0.1", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 0, "class: tcp: rule 0 (any address)");
	f = flow(IPPROTO_UDP, "2001:db8::1", "2001:db8::2", 2000);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 1, "class: udp 2001:db8::1 port 2000: rule 1");
	f = flow(IPPROTO_UDP, "2001:db9::1", "2001:db8::2", 2000);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 3, "class: outside 2001:db8::/32: the catch-all (3)");
	f = flow(IPPROTO_UDP, "2001:db8::1", "2001:db8::2", 2001);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 3, "class: port 2001, past the range: rule 3");

	/* the ends of the spaces: ports 0 and 65535, the highest and lowest addresses */
	r[0] = mk(NULL, NULL, NULL, 65535, 65535);
	r[1] = mk(NULL, NULL, "255.255.255.255/32", -1, 0);
	r[2] = mk(NULL, NULL, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", -1, 0);
	r[3] = mk(NULL, "0.0.0.0/32", NULL, 0, 0);
	r[4] = mk(NULL, "::/128", NULL, -1, 0);
	ctl_rule_class_build(r, 5, &cls);
	f = flow(IPPROTO_TCP, "198.18.0.1", "198.19.0.1", 65535);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 0, "class: port 65535: rule 0");
	f = flow(IPPROTO_TCP, "198.18.0.1", "255.255.255.255", 65534);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 1, "class: to 255.255.255.255: rule 1");
	f = flow(IPPROTO_TCP, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 2, "class: to ffff:...:ffff: rule 2");
	f = flow(IPPROTO_TCP, "0.0.0.0", "198.19.0.1", 0);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 3, "class: from 0.0.0.0 to port 0: rule 3");
	f = flow(IPPROTO_TCP, "0.0.0.0", "198.19.0.1", 1);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), CTLUA_MAX_RULES, "class: from 0.0.0.0 to port 1: none");
	f = flow(IPPROTO_UDP, "::", "2001:db8::1", 1);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 4, "class: from :: : rule 4 (the v4 /32 of 0 is not it)");

	/* a rule's family alone keeps it from the other family */
	{
		struct ctl_rule_spec spec = { .family = CTLUA_AF_INET6 };
		char why[200];

		ctl_rule_compile(&spec, &r[0], why, sizeof(why));
	}
	ctl_rule_class_build(r, 1, &cls);
	f = flow(IPPROTO_UDP, "198.18.0.1", "198.19.0.1", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), CTLUA_MAX_RULES, "class: family ipv6: not an IPv4 flow");
	f = flow(IPPROTO_UDP, "2001:db8::1", "2001:db8::2", 53);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 0, "class: family ipv6: an IPv6 flow (0)");

	ctl_rule_class_build(r, 0, &cls);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), CTLUA_MAX_RULES, "class: no rules: none");
}

/* The membership of test_set_cases: set 5 holds 198.18.0.0/24, set 7 port 53. */
static bool case_holds(void *ctx, unsigned int field, unsigned int set,
		       const struct ctlua_flow *f)
{
	const __be32 *a = field == CTLUA_SET_SRC ? f->saddr : f->daddr;

	(void)ctx;
	if (field >= CTLUA_SET_SPORT)
		return set == 7 && ntohs(field == CTLUA_SET_SPORT ? f->sport : f->dport) == 53;
	return set == 5 && f->family == CTLUA_AF_INET && (ntohl(a[0]) >> 8) == (198u << 16 | 18u << 8);
}

/* Lookup of @f with the reference mask case_holds gives; the mask into *@mask. */
static unsigned int case_lookup(const struct ctlua_flow *f, __u32 *mask)
{
	*mask = ctl_rule_class_refs(&cls, f, case_holds, NULL);
	return ctl_rule_class_lookup(&cls, f, *mask);
}

/* Rules naming sets: the fifth dimension, with the other matches, and its limit. */
static void test_set_cases(void)
{
	struct ctlua_rule r[12];
	struct ctlua_flow f;
	__u32 mask;
	int err;

	r[0] = mk("udp", NULL, NULL, 1000, 2000);
	r[0].set[CTLUA_SET_SRC] = 5 + 1;	/* from set 5, to ports 1000-2000 */
	r[1] = mk(NULL, NULL, NULL, -1, 0);
	r[1].set[CTLUA_SET_DST] = 5 + 1;
	r[2] = mk("tcp", "198.18.0.0/16", NULL, -1, 0);
	r[2].set[CTLUA_SET_DPORT] = 7 + 1;
	r[3] = mk(NULL, NULL, NULL, 53, 53);
	err = ctl_rule_class_build(r, 4, &cls);
	ok(!err && cls.nrefs == 3, "class: 3 distinct references of 3 rules (nrefs %u)", cls.nrefs);
	f = flow(IPPROTO_UDP, "198.18.0.9", "198.19.0.1", 1500);
	is_pos(case_lookup(&f, &mask), 0, "class: udp from a member of the set, port 1500: rule 0");
	f = flow(IPPROTO_UDP, "198.18.0.9", "198.19.0.1", 999);
	is_pos(case_lookup(&f, &mask), CTLUA_MAX_RULES,
	       "class: from a member, port 999: not rule 0 (the range still matters)");
	f = flow(IPPROTO_UDP, "198.18.1.9", "198.19.0.1", 1500);
	is_pos(case_lookup(&f, &mask), CTLUA_MAX_RULES, "class: from a non-member: none");
	f = flow(IPPROTO_TCP, "198.18.1.9", "198.18.0.200", 1500);
	is_pos(case_lookup(&f, &mask), 1, "class: to a member: rule 1");
	f = flow(IPPROTO_TCP, "198.18.1.9", "198.19.0.1", 53);
	is_pos(case_lookup(&f, &mask), 2, "class: tcp from 198.18/16 to a port of set 7: rule 2");
	f = flow(IPPROTO_UDP, "198.18.1.9", "198.19.0.1", 53);
	is_pos(case_lookup(&f, &mask), 3, "class: udp to port 53: not rule 2 (its proto), rule 3");
	f = flow(IPPROTO_TCP, "198.18.0.1", "198.18.0.2", 53);
	is_pos(case_lookup(&f, &mask), 1, "class: every reference holds: the first rule (1)");
	ok(mask == 7, "class: ... and its mask has the three bits (%#x)", mask);
	is_pos(ctl_rule_class_lookup(&cls, &f, 0), 3,
	       "class: the same flow with no reference holding: rule 3");

	/* the same set for two fields are two references; the same pair twice is one */
	r[1].set[CTLUA_SET_SRC] = 5 + 1;
	r[3].set[CTLUA_SET_DPORT] = 7 + 1;
	err = ctl_rule_class_build(r, 4, &cls);
	ok(!err && cls.nrefs == 3, "class: a pair named again adds no reference (nrefs %u)",
	   cls.nrefs);
	f = flow(IPPROTO_TCP, "198.18.0.1", "198.18.0.2", 80);
	is_pos(case_lookup(&f, &mask), 1, "class: rule 1 needs both its sets: both hold (1)");
	f = flow(IPPROTO_TCP, "198.19.0.1", "198.18.0.2", 80);
	is_pos(case_lookup(&f, &mask), CTLUA_MAX_RULES, "class: rule 1, one set of two holds: none");

	/* CTLUA_SET_REFS references at most: a ninth refused, -E2BIG */
	for (unsigned int i = 0; i < 9; i++) {
		r[i] = mk(NULL, NULL, NULL, -1, 0);
		r[i].set[i % 2 ? CTLUA_SET_DST : CTLUA_SET_SRC] = (__u8)(i / 2 + 1);
	}
	ok(!ctl_rule_class_build(r, 8, &cls) && cls.nrefs == CTLUA_SET_REFS,
	   "class: %d references build", CTLUA_SET_REFS);
	is_pos((unsigned int)-ctl_rule_class_build(r, 9, &cls), E2BIG,
	       "class: a ninth distinct reference: -E2BIG");
	r[8].set[CTLUA_SET_SRC] = 0;
	r[8].set[CTLUA_SET_DST] = 0;
	ok(!ctl_rule_class_build(r, 9, &cls), "class: the ninth rule without its set builds");

	/* an id past the last the datapath hands out (a port mask has 32 bits) */
	r[0] = mk(NULL, NULL, NULL, -1, 0);
	r[0].set[CTLUA_SET_DPORT] = CTLUA_SETS + 1;
	is_pos((unsigned int)-ctl_rule_class_build(r, 1, &cls), EINVAL,
	       "class: set id CTLUA_SETS: -EINVAL");
	r[0].set[CTLUA_SET_DPORT] = CTLUA_SETS;
	ok(!ctl_rule_class_build(r, 1, &cls), "class: set id CTLUA_SETS - 1 builds");

	/* no rule names a set: the program reads no reference */
	r[0] = mk(NULL, NULL, NULL, -1, 0);
	ok(!ctl_rule_class_build(r, 1, &cls) && cls.nrefs == 0, "class: no set named: nrefs 0");
}

static const char *flow_text(const struct ctlua_flow *f, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = f->family == CTLUA_AF_INET ? AF_INET : AF_INET6;

	snprintf(buf, len, "%s %s port %u -> %s port %u", f->proto == IPPROTO_TCP ? "tcp" : "udp",
		 inet_ntop(af, f->saddr, s, sizeof(s)), ntohs(f->sport),
		 inet_ntop(af, f->daddr, d, sizeof(d)), ntohs(f->dport));
	return buf;
}

/*
 * @tables random tables of 1 to @max rules (the first ones of the sizes in @sizes), and
 * @flows random flows through each: class == scan. Returns how many disagreed.
 */
static unsigned int random_tables(uint64_t seed, unsigned int tables, unsigned int flows,
				  unsigned int max, const unsigned int *sizes, unsigned int nsizes,
				  unsigned int *matched, unsigned int *later, unsigned int *by_set)
{
	static struct ctlua_rule r[CTLUA_MAX_RULES];
	unsigned int wrong = 0;
	struct ctlua_flow f;
	char buf[160];

	rulegen_state = seed;
	for (unsigned int t = 0; t < tables; t++) {
		unsigned int n = t < nsizes ? sizes[t] : 1 + rg(max);
		int err;

		rg_rules(r, n);
		if (rulegen_sets)
			rg_fill_sets();
		/* the build need not clear what it does not write: none of it may be read */
		memset(&cls, 0xa5, offsetof(struct ctlua_rule_class, pool));
		if ((err = ctl_rule_class_build(r, n, &cls))) {
			if (wrong++ < 3)
				diag("table %u (%u rules): build failed (%s)", t, n, strerror(-err));
			continue;
		}
		for (unsigned int k = 0; k < flows; k++) {
			unsigned int want, got;

			rg_flow(&f);
			want = rg_scan_sets(r, n, &f, rg_holds, rg_sets);
			got = ctl_rule_class_lookup(&cls, &f,
						    ctl_rule_class_refs(&cls, &f, rg_holds, rg_sets));
			*matched += want < n;
			*later += want < n && want > 0;
			*by_set += want < n && memcmp(r[want].set, "\0\0\0\0", 4);
			if (got != want && wrong++ < 3)
				diag("table %u (%u rules), %s: class %u, scan %u", t, n,
				     flow_text(&f, buf, sizeof(buf)), got, want);
		}
	}
	return wrong;
}

/* Random tables of 1 to 256 rules, and random flows through each: class == scan. */
static void test_random(void)
{
	static const unsigned int sizes[] = { 1, 2, 3, 16, 63, 64, 65, 128, 200, 255, 256 };
	unsigned int tables = 400, flows = 300, matched = 0, later = 0, by_set = 0, wrong;
	uint64_t seed = 0x5eed0011ull;

	wrong = random_tables(seed, tables, flows, 256, sizes, 11, &matched, &later, &by_set);
	ok(!wrong, "class agrees with the ordered scan: %u tables of 1 to 256 rules, %u flows each "
	   "(seed %#llx)", tables, flows, (unsigned long long)seed);
	if (wrong)
		diag("%u flows disagreed", wrong);
	/* a generator that never matched would prove nothing */
	ok(matched > tables * flows / 4 && later > tables * flows / 8,
	   "the random flows matched a rule often (%u), one after the first often (%u)", matched, later);

	/* rules naming sets too, each table with sets of new members */
	matched = later = by_set = 0;
	rulegen_sets = 1;
	wrong = random_tables(seed + 2, tables, flows, 256, sizes, 11, &matched, &later, &by_set);
	rulegen_sets = 0;
	ok(!wrong, "with set references: class agrees with the ordered scan and the membership "
	   "oracle: %u tables of 1 to 256 rules, %u flows each (seed %#llx)", tables, flows,
	   (unsigned long long)seed + 2);
	if (wrong)
		diag("%u flows disagreed", wrong);
	ok(matched > tables * flows / 4 && by_set > tables * flows / 50,
	   "with set references: flows matched often (%u), by a rule naming a set often (%u)",
	   matched, by_set);
}

/* Tables of 257 to CTLUA_MAX_RULES rules: class == scan, and what a build takes. */
static void test_random_large(void)
{
	static const unsigned int sizes[] = { 257, 1000, 4096, 10000, CTLUA_MAX_RULES };
	static struct ctlua_rule r[CTLUA_MAX_RULES];
	unsigned int tables = 12, flows = 2000, matched = 0, later = 0, by_set = 0, wrong;
	uint64_t seed = 0x5eed1000ull;
	struct timespec t0, t1;
	double ms;

	wrong = random_tables(seed, tables, flows, CTLUA_MAX_RULES, sizes, 5, &matched, &later,
			      &by_set);
	ok(!wrong, "class agrees with the ordered scan: %u tables of 257 to %d rules, %u flows each "
	   "(seed %#llx)", tables, CTLUA_MAX_RULES, flows, (unsigned long long)seed);
	if (wrong)
		diag("%u flows disagreed", wrong);
	ok(matched > tables * flows / 4 && later > tables * flows / 8,
	   "large tables: the flows matched often (%u), one after the first often (%u)", matched,
	   later);

	/* addresses from wide pools: thousands of intervals, many blocks of the search */
	matched = later = 0;
	rulegen_wide = 1;
	/* the sizes alone: the last, of CTLUA_MAX_RULES rules, has thousands of intervals */
	wrong = random_tables(seed + 1, 5, flows, CTLUA_MAX_RULES, sizes, 5, &matched, &later,
			      &by_set);
	rulegen_wide = 0;
	ok(!wrong && !cls.short_search, "wide addresses: class agrees with the ordered scan on 5 "
	   "tables of 257 to %d rules (the last searched in two levels: %s)", CTLUA_MAX_RULES,
	   cls.short_search ? "no" : "yes");
	if (wrong)
		diag("%u flows disagreed", wrong);
	ok(matched > 5 * flows / 10, "wide addresses: the flows matched a rule often (%u)",
	   matched);

	/* large tables naming sets */
	matched = later = by_set = 0;
	rulegen_sets = 1;
	wrong = random_tables(seed + 2, 5, flows, CTLUA_MAX_RULES, sizes, 5, &matched, &later,
			      &by_set);
	rulegen_sets = 0;
	ok(!wrong && by_set > 0, "with set references: class agrees with the ordered scan on 5 "
	   "tables of 257 to %d rules (%u flows decided by a rule naming a set)",
	   CTLUA_MAX_RULES, by_set);

	/*
	 * A table whose sets do not fit the pool: 8192 hosts, each its own set with the
	 * 8192 rules of any source (128 words each): about 8192 x 130 words, past
	 * CTLUA_RULE_POOL. Refused, not cut short.
	 */
	for (unsigned int k = 0; k < CTLUA_MAX_RULES; k++) {
		char host[32];

		snprintf(host, sizeof(host), "198.%u.%u.%u", 18 + k / 65536, (k / 256) % 256, k % 256);
		r[k] = k % 2 ? mk(NULL, NULL, NULL, (int)k, (int)k) : mk(NULL, host, NULL, -1, 0);
	}
	is_pos((unsigned int)-ctl_rule_class_build(r, CTLUA_MAX_RULES, &cls), ENOSPC,
	       "a table whose sets do not fit the pool: -ENOSPC");

	/* build time: 10 000 random rules, as ct.policy would commit them */
	rulegen_state = 0xb1d7ull;
	rg_rules(r, 10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(!ctl_rule_class_build(r, 10000, &cls), "10 000 random rules build");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	diag("10 000 random rules: built in %.1f ms, %u pool words (%.1f MiB)", ms,
	     cls.pool_used, cls.pool_used * 8.0 / (1 << 20));
	/* a generous bound for a shared, sanitized machine: the goal is well under a second */
	ok(ms < 2000, "building the classifier of 10 000 rules takes under 2 s (%.1f ms)", ms);
}

void test_rule_class(void)
{
	test_cases();
	test_set_cases();
	test_random();
	test_random_large();
}

/* --- through the kernel: unit_tests rules-kernel --- */

static __u32 last_rule_id;
static unsigned int events_seen;

static int on_event(void *ctx, void *data, size_t len)
{
	const struct ctlua_event *e = data;

	(void)ctx;
	if (len >= sizeof(*e) && e->kind == CTLUA_EV_MISS) {
		last_rule_id = e->rule_id;
		events_seen++;
	}
	return 0;
}

/* The frame of @f: Ethernet, IPv4 or IPv6, then the ports; returns its length. */
static size_t frame_of(const struct ctlua_flow *f, uint8_t *buf)
{
	size_t l3 = 14, l4;

	memset(buf, 0, 128);
	buf[0] = 0x02;
	buf[6] = 0x02;
	buf[11] = 1;
	if (f->family == CTLUA_AF_INET) {
		buf[12] = 0x08;
		buf[l3] = 0x45;
		buf[l3 + 3] = 48;			/* total length */
		buf[l3 + 8] = 64;			/* ttl */
		buf[l3 + 9] = f->proto;
		memcpy(buf + l3 + 12, f->saddr, 4);
		memcpy(buf + l3 + 16, f->daddr, 4);
		l4 = l3 + 20;
	} else {
		buf[12] = 0x86;
		buf[13] = 0xdd;
		buf[l3] = 0x60;
		buf[l3 + 5] = 28;			/* payload length */
		buf[l3 + 6] = f->proto;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, f->saddr, 16);
		memcpy(buf + l3 + 24, f->daddr, 16);
		l4 = l3 + 40;
	}
	memcpy(buf + l4, &f->sport, 2);
	memcpy(buf + l4 + 2, &f->dport, 2);
	return l4 + 28;
}

/*
 * The members of rg_sets into the datapath's set maps (@add), or out of them: host
 * addresses (/32, /128) as hash keys, shorter prefixes as trie keys, each set's bits of
 * the kinds it holds in ctl_set_kinds (all clear after a removal), port ranges as bits of
 * the port masks. Returns 0 or -errno.
 */
static int write_sets(struct ctl_dp *dp, bool add)
{
	static __u32 ports[65536];
	struct ctlua_set_kinds kinds = { 0 };
	struct ctl_dp_set_fds fds;
	__u32 zero = 0;
	__u8 one = 1;

	ctl_dp_set_fds(dp, &fds);
	memset(ports, 0, sizeof(ports));
	for (unsigned int id = 0; id < CTLUA_SETS; id++) {
		const struct rg_set *s = &rg_sets[id];

		for (unsigned int m = 0; m < s->n; m++) {
			struct ctlua_set_key6 k = { .prefixlen = 8 + s->plen[m], .set = (__u8)id };
			struct ctlua_set_hkey6 h = { .set = (__u8)id };
			bool v4 = s->family[m] == CTLUA_AF_INET, host = s->plen[m] == (v4 ? 32 : 128);
			int fd = host ? (v4 ? fds.h4 : fds.h6) : (v4 ? fds.v4 : fds.v6), err;
			void *key = host ? (void *)&h : (void *)&k;

			if (!s->family[m]) {	/* a port range */
				for (unsigned int p = s->lo[m]; p <= s->hi[m]; p++)
					ports[p] |= 1u << id;
				continue;
			}
			memcpy(k.addr, s->addr[m], v4 ? 4 : 16);
			memcpy(h.addr, s->addr[m], v4 ? 4 : 16);
			if (add)
				(host ? kinds.host : kinds.shorter)[!v4] |= 1u << id;
			/* the bits before the first entry, as src/sets.c writes them */
			if (add && bpf_map_update_elem(fds.kinds, &zero, &kinds, BPF_ANY))
				return -errno;
			err = add ? bpf_map_update_elem(fd, key, &one, BPF_ANY) :
				    bpf_map_delete_elem(fd, key);
			if (err && (add || errno != ENOENT))	/* a prefix twice: gone already */
				return -errno;
		}
	}
	if (!add && bpf_map_update_elem(fds.kinds, &zero, &kinds, BPF_ANY))
		return -errno;
	for (__u32 p = 0; p < 65536; p++) {
		__u32 v = add ? ports[p] : 0;

		if (bpf_map_update_elem(fds.ports, &p, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* What the kernel test counts. */
struct kernel_run {
	int fd;
	struct ring_buffer *rb;
	unsigned int wrong, runs, matched, by_set;
};

/* @flows random packets through the program against rules @r[0..n) (table @t). */
static void kernel_flows(struct kernel_run *k, const struct ctlua_rule *r, unsigned int n,
			 unsigned int flows, unsigned int t)
{
	struct ctlua_flow f;
	uint8_t frame[128];
	char buf[160];
	int err;

	for (unsigned int i = 0; i < flows; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .repeat = 1);
		unsigned int want;
		__u32 want_id;

		rg_flow(&f);	/* from the table's pools */
		opts.data_size_in = (__u32)frame_of(&f, frame);
		want = rg_scan_sets(r, n, &f, rg_holds, rg_sets);
		want_id = want < n ? r[want].id : 0;
		k->matched += want < n;
		k->by_set += want < n && memcmp(r[want].set, "\0\0\0\0", 4);
		last_rule_id = ~0u;
		events_seen = 0;
		err = bpf_prog_test_run_opts(k->fd, &opts);
		ring_buffer__consume(k->rb);
		k->runs++;
		if ((err || events_seen != 1 || last_rule_id != want_id) && k->wrong++ < 3)
			diag("table %u (%u rules), %s: run %d, %u events, rule id %d, scan says %u",
			     t, n, flow_text(&f, buf, sizeof(buf)), err, events_seen,
			     (int)last_rule_id, want_id);
	}
}

/*
 * How many of set @id's two members the maps hold: 198.18.0.0/24 in the trie,
 * 198.18.1.7 in the hash. Port 53's mask of sets into *@ports, and ctl_set_kinds' IPv4
 * bits into *@kinds (host bits in the low half, shorter ones in the high).
 */
static int pin_member(const struct ctl_dp_set_fds *fds, unsigned int id, __u32 *ports,
		      __u32 *kinds)
{
	struct ctlua_set_key4 k = { .prefixlen = 8 + 24, .set = (__u8)id, .addr = { 198, 18 } };
	struct ctlua_set_hkey4 h = { .set = (__u8)id, .addr = { 198, 18, 1, 7 } };
	struct ctlua_set_kinds w;
	__u32 port = 53, zero = 0;
	__u8 v;

	if (bpf_map_lookup_elem(fds->ports, &port, ports))
		*ports = ~0u;
	*kinds = bpf_map_lookup_elem(fds->kinds, &zero, &w) ? ~0u
							    : (w.host[0] & 0xffff) | w.shorter[0] << 16;
	return !bpf_map_lookup_elem(fds->v4, &k, &v) + !bpf_map_lookup_elem(fds->h4, &h, &v);
}

/*
 * A pinned state reused by a new process (@pin, a bpffs directory): the members of the
 * sets its live rules name stay, with their ids taken, until a policy of the new process
 * names them no more; every other member is removed at open.
 */
static void test_sets_pinned(const char *pin)
{
	struct ctlua_rule r = mk(NULL, NULL, NULL, -1, 0);
	struct ctl_dp_policy pol;
	struct ctl_dp_set_fds fds;
	struct ctl_dp_opts o;
	struct ctl_dp *dp;
	int a, b, c, err;
	char msg[256];
	__u32 ports, kinds, zero = 0;
	bool held;

	ctl_dp_opts_init(&o);
	snprintf(o.pin, sizeof(o.pin), "%s", pin);
	if (!ok(!(err = ctl_dp_open(&dp, &o, msg, sizeof(msg))), "sets-pin: a pinned datapath")) {
		diag("%s", msg);
		return;
	}
	a = ctl_dp_set_id_take(dp);
	b = ctl_dp_set_id_take(dp);
	ctl_dp_set_fds(dp, &fds);
	for (int id = a; id <= b; id++) {
		struct ctlua_set_key4 k = { .prefixlen = 8 + 24, .set = (__u8)id, .addr = { 198, 18 } };
		struct ctlua_set_hkey4 h = { .set = (__u8)id, .addr = { 198, 18, 1, 7 } };
		struct ctlua_set_kinds w = { .host = { 3 }, .shorter = { 3 } };
		__u32 port = 53, mask = (1u << a) | (1u << b);
		__u8 one = 1;

		err = err ?: bpf_map_update_elem(fds.kinds, &zero, &w, BPF_ANY) ?:
			     bpf_map_update_elem(fds.v4, &k, &one, BPF_ANY) ?:
			     bpf_map_update_elem(fds.h4, &h, &one, BPF_ANY) ?:
			     bpf_map_update_elem(fds.ports, &port, &mask, BPF_ANY);
	}
	r.set[CTLUA_SET_SRC] = (__u8)(a + 1);
	r.id = 1;
	ctl_dp_policy(dp, &pol);
	pol.rules = &r;
	pol.nrules = 1;
	ok(a == 0 && b == 1 && !err && !ctl_dp_put_policy(dp, &pol),
	   "sets-pin: sets 0 and 1 filled, a rule naming set 0 live");
	ok(ctl_dp_set_live(dp, 0) && !ctl_dp_set_live(dp, 1) && !ctl_dp_set_live(dp, CTLUA_SETS),
	   "sets-pin: set 0 is live, set 1 and an id out of range are not");
	ctl_dp_close(dp);

	if (!ok(!(err = ctl_dp_open(&dp, &o, msg, sizeof(msg))) && ctl_dp_pin_reused(dp),
		"sets-pin: the pinned state reused by a new datapath")) {
		diag("%s", msg);
		return;
	}
	ctl_dp_set_fds(dp, &fds);
	held = pin_member(&fds, 1, &ports, &kinds) == 0 && pin_member(&fds, 0, &ports, &kinds) == 2;
	ok(held && ports == 1u && kinds == 0x10001,
	   "sets-pin: set 0's members stay in the trie and the hash (the live rule names it), set "
	   "1's are gone (port 53's mask %#x, kinds %#x)", ports, kinds);
	c = ctl_dp_set_id_take(dp);
	ok(c == 1, "sets-pin: set 0's id stays taken: the next id is 1 (%d)", c);
	ctl_dp_policy(dp, &pol);
	pol.nrules = 0;
	ok(!ctl_dp_put_policy(dp, &pol), "sets-pin: a policy without the rule");
	held = pin_member(&fds, 0, &ports, &kinds) > 0;
	ok(!held && ports == 0 && kinds == 0, "sets-pin: ... and set 0's members are gone (port "
	   "53's mask %#x, kinds %#x)", ports, kinds);
	c = ctl_dp_set_id_take(dp);
	ok(c == 0, "sets-pin: ... and its id is free again (%d)", c);
	ctl_dp_close(dp);
}

int test_rule_class_kernel(const char *pin)
{
	static struct ctlua_rule r[CTLUA_MAX_RULES];
	unsigned int tables = 40, flows = 150, set_tables = 0;
	uint64_t seed = 0xc0ffee11ull;
	struct kernel_run k = { 0 };
	struct ctl_dp_policy pol;
	struct ctl_dp *dp;
	char msg[256];
	int err;

	err = ctl_dp_open(&dp, NULL, msg, sizeof(msg));
	if (!ok(!err, "rules-kernel: the BPF object loads")) {
		diag("%s", msg);
		return 1;
	}
	ctl_dp_policy(dp, &pol);
	pol.mode = CTLUA_MODE_OBSERVE;		/* decide and report, create nothing */
	pol.event_mask = 1u << CTLUA_EV_MISS;
	ok(!ctl_dp_put_policy(dp, &pol), "rules-kernel: mode observe, miss events only");
	k.rb = ring_buffer__new(ctl_dp_events_fd(dp), on_event, NULL, NULL);
	k.fd = ctl_dp_prog_fd(dp, CTLUA_DIR_INGRESS, false);
	rulegen_state = seed;
	memset(rg_sets, 0, sizeof(rg_sets));
	for (unsigned int t = 0; k.rb && t < tables; t++) {
		/* both ends, then small tables and large ones in turns */
		unsigned int n = t == 0 ? CTLUA_MAX_RULES : t == 1 ? 1 :
				 1 + rg(t % 2 ? 256 : CTLUA_MAX_RULES);

		/* every fourth table from wide address pools, large: thousands of intervals */
		rulegen_wide = t % 4 == 2;
		if (rulegen_wide)
			n = CTLUA_MAX_RULES / 2 + rg(CTLUA_MAX_RULES / 2);
		/*
		 * every third names sets, whose members are new; not a wide one, whose pool
		 * is nearly full already (the fifth dimension adds up to 256 sets)
		 */
		rulegen_sets = t % 3 == 1 && !rulegen_wide;
		rg_rules(r, n);
		if (rulegen_sets) {
			set_tables++;
			if ((err = write_sets(dp, false)) ||
			    (rg_fill_sets(), err = write_sets(dp, true))) {
				k.wrong++;
				diag("table %u: writing the sets failed (%s)", t, strerror(-err));
				break;
			}
		}
		pol.rules = r;
		pol.nrules = n;
		if ((err = ctl_dp_put_policy(dp, &pol))) {
			k.wrong++;
			diag("table %u: ctl_dp_put_policy failed (%s)", t, strerror(-err));
			break;
		}
		kernel_flows(&k, r, n, flows, t);
		if (!rulegen_sets)
			continue;
		/* the sets change, the table does not: the next packets see the new members */
		if ((err = write_sets(dp, false)) || (rg_fill_sets(), err = write_sets(dp, true))) {
			k.wrong++;
			diag("table %u: changing the sets failed (%s)", t, strerror(-err));
			break;
		}
		kernel_flows(&k, r, n, flows, t);
	}
	rulegen_wide = rulegen_sets = 0;
	ok(k.rb && !k.wrong && k.runs == (tables + set_tables) * flows,
	   "rules-kernel: the program's rule is the scan's for %u packets through %u random tables, "
	   "%u of them naming sets whose members changed once under them (seed %#llx)", k.runs,
	   tables, set_tables, (unsigned long long)seed);
	ok(k.matched > k.runs / 4, "rules-kernel: many packets matched a rule (%u)", k.matched);
	ok(k.by_set > k.runs / 100, "rules-kernel: packets decided by a rule naming a set (%u)",
	   k.by_set);
	ring_buffer__free(k.rb);
	ctl_dp_close(dp);
	if (pin)
		test_sets_pinned(pin);
	return 0;
}

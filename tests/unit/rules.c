// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rules.c - TAP tests of src/rules.h: a rule's fields compiled into struct ctlua_rule
 * (bytes as the TC program matches them), the exact reasons for refusing one, and the
 * table's order by priority, ids, undo and flattening. No Lua, no kernel.
 *
 * Expected bytes and texts are written out by hand, never computed by the code under test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "rules.h"
#include "tap.h"

static void is_int(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name)) {
		diag("         got: %lld", got);
		diag("    expected: %lld", want);
	}
}

static void is_str(const char *got, const char *want, const char *name)
{
	if (!ok(!strcmp(got, want), "%s", name)) {
		diag("         got: '%s'", got);
		diag("    expected: '%s'", want);
	}
}

static void is_bytes(const void *got, const uint8_t want[16], const char *name)
{
	if (!ok(!memcmp(got, want, 16), "%s", name)) {
		const uint8_t *g = got;

		diag("         got: %02x %02x %02x %02x %02x %02x %02x %02x ...", g[0], g[1], g[2],
		     g[3], g[4], g[5], g[6], g[7]);
	}
}

/* Compile @spec into @r (poisoned first: the compiler must write every byte it owns). */
static int compile(const struct ctl_rule_spec *spec, struct ctlua_rule *r, char *why, size_t len)
{
	memset(r, 0xa5, sizeof(*r));
	why[0] = 0;
	return ctl_rule_compile(spec, r, why, len);
}

static void test_compile_ok(void)
{
	static const uint8_t net4[16] = { 198, 18, 0, 0 }, mask15[16] = { 255, 254 };
	static const uint8_t host4[16] = { 198, 18, 0, 1 };
	static const uint8_t all1[16] = { 255, 255, 255, 255 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t mask32[16] = { 255, 255, 255, 255 };
	static const uint8_t zero[16] = { 0 };
	struct ctl_rule_spec spec;
	struct ctlua_rule r;
	char why[200];

	memset(&spec, 0, sizeof(spec));
	spec.verdict.action = CTLUA_ACT_PASS;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: an empty rule is fine");
	is_int(r.family, 0, "compile: empty rule: any family (0)");
	is_int(r.proto, 0, "compile: empty rule: any protocol (0)");
	is_bytes(r.src_mask, zero, "compile: empty rule: src mask zero (matches all)");
	is_bytes(r.dst_mask, zero, "compile: empty rule: dst mask zero");
	is_int(r.dport_lo, 0, "compile: no dport: lo 0");
	is_int(r.dport_hi, 65535, "compile: no dport: hi 65535");
	is_int(r.sport_lo * 100000LL + r.sport_hi, 65535, "compile: no sport: 0 to 65535");
	is_int(r.id, 0, "compile: the id is left to ctl_rules_add (0)");
	is_int(r.pad[0] | r.pad[1], 0, "compile: padding zeroed");

	memset(&spec, 0, sizeof(spec));
	spec.proto = "udp";
	spec.src = "198.18.3.4/15";
	spec.dst = "198.18.0.1";
	spec.dport.items = -1;
	spec.dport.lo = 5353;
	spec.verdict.action = CTLUA_ACT_ALLOC;
	spec.verdict.rule_id = 77;
	spec.verdict.opts.mark = 0x42;
	spec.verdict.opts.flags = CTLUA_OPT_MARK;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: udp 198.18.3.4/15 -> 198.18.0.1:5353");
	is_int(r.family, 2, "compile: the family comes from the addresses (AF_INET, 2)");
	is_int(r.proto, 17, "compile: udp is 17");
	is_bytes(r.src, net4, "compile: src host bits cleared: 198.18.0.0");
	is_bytes(r.src_mask, mask15, "compile: src mask /15: ff fe 00 00");
	is_bytes(r.dst, host4, "compile: dst 198.18.0.1");
	is_bytes(r.dst_mask, all1, "compile: dst without a length is a host (/32)");
	is_int(r.dport_lo, 5353, "compile: one port: lo 5353");
	is_int(r.dport_hi, 5353, "compile: one port: hi 5353");
	is_int(r.verdict.action, 1, "compile: action alloc (1)");
	is_int(r.verdict.opts.mark, 0x42, "compile: opts carried over (mark 0x42)");
	is_int(r.verdict.rule_id, 0, "compile: a rule_id in the spec is not trusted (0)");

	memset(&spec, 0, sizeof(spec));
	spec.proto = "tcp";
	spec.dst = "2001:db8::/32";
	spec.family = CTLUA_AF_INET6;
	spec.dport.items = 2;
	spec.dport.ints = true;
	spec.dport.lo = 8000;
	spec.dport.hi = 8080;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: tcp to 2001:db8::/32 ports 8000-8080");
	is_int(r.family, 10, "compile: family ipv6 agrees with the address (10)");
	is_int(r.proto, 6, "compile: tcp is 6");
	is_bytes(r.dst, net6, "compile: dst 2001:db8::");
	is_bytes(r.dst_mask, mask32, "compile: dst mask /32");
	is_int(r.dport_lo, 8000, "compile: range lo 8000");
	is_int(r.dport_hi, 8080, "compile: range hi 8080");

	memset(&spec, 0, sizeof(spec));
	spec.family = CTLUA_AF_INET;
	spec.dport.items = 2;
	spec.dport.ints = true;
	spec.dport.lo = 0;
	spec.dport.hi = 65535;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: family alone; range {0, 65535}");
	is_int(r.family, 2, "compile: family ipv4 without addresses (2)");
	is_int(r.dport_hi, 65535, "compile: range {0, 65535} is every port");

	memset(&spec, 0, sizeof(spec));
	spec.dport.items = 2;
	spec.dport.ints = true;
	spec.dport.lo = 53;
	spec.dport.hi = 53;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: range {53, 53}, lo = hi");
	is_int(r.dport_lo * 100000 + r.dport_hi, 5300053, "compile: range {53, 53} is port 53");

	memset(&spec, 0, sizeof(spec));
	spec.sport.items = -1;
	spec.sport.lo = 40000;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: sport 40000");
	is_int(r.sport_lo * 100000LL + r.sport_hi, 4000040000, "compile: sport 40000 is 40000 to 40000");
	is_int(r.dport_lo * 100000 + r.dport_hi, 65535, "compile: sport alone: any dport");
	spec.sport.items = 2;
	spec.sport.ints = true;
	spec.sport.lo = 1024;
	spec.sport.hi = 65535;
	is_int(compile(&spec, &r, why, sizeof(why)), 0, "compile: sport {1024, 65535}");
	is_int(r.sport_lo * 100000LL + r.sport_hi, 102465535, "compile: sport range 1024 to 65535");
}

struct bad_case {
	const char *what;
	struct ctl_rule_spec spec;
	const char *why;
};

static const struct bad_case bad[] = {
	{ "proto icmp", { .proto = "icmp" }, "field 'proto': 'icmp' is not \"tcp\" or \"udp\"" },
	{ "proto TCP", { .proto = "TCP" }, "field 'proto': 'TCP' is not \"tcp\" or \"udp\"" },
	{ "src /33", { .src = "198.18.0.0/33" },
	  "field 'src': '198.18.0.0/33': prefix length must be 0 to 32" },
	{ "dst not an address", { .dst = "abc/8" },
	  "field 'dst': 'abc/8': not an IPv4 or IPv6 address" },
	{ "dst /129", { .dst = "2001:db8::/129" },
	  "field 'dst': '2001:db8::/129': prefix length must be 0 to 128" },
	{ "src v4, dst v6", { .src = "198.18.0.0/15", .dst = "2001:db8::/32" },
	  "'src' and 'dst' are of different address families" },
	{ "family ipv6, src v4", { .src = "198.18.0.0/15", .family = CTLUA_AF_INET6 },
	  "field 'family' does not match the addresses" },
	{ "family ipv4, dst v6", { .dst = "2001:db8::1", .family = CTLUA_AF_INET },
	  "field 'family' does not match the addresses" },
	{ "dport 70000", { .dport.items = -1, .dport.lo = 70000 },
	  "field 'dport': 70000 is out of range 0 to 65535" },
	{ "dport -1", { .dport.items = -1, .dport.lo = -1 },
	  "field 'dport': -1 is out of range 0 to 65535" },
	{ "dport {10, 5}", { .dport.items = 2, .dport.ints = true, .dport.lo = 10, .dport.hi = 5 },
	  "field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "dport {10}", { .dport.items = 1, .dport.lo = 10 },
	  "field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "dport {1, 'x'}", { .dport.items = 2, .dport.ints = false, .dport.lo = 1 },
	  "field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "dport {1, 70000}", { .dport.items = 2, .dport.ints = true, .dport.lo = 1, .dport.hi = 70000 },
	  "field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "dport {-1, 5}", { .dport.items = 2, .dport.ints = true, .dport.lo = -1, .dport.hi = 5 },
	  "field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "dport {1, 2, 3}", { .dport.items = 3, .dport.ints = true, .dport.lo = 1, .dport.hi = 2 },
	  "field 'dport': a range is {lo, hi}, got 3 items (one rule takes one port or one range)" },
	{ "dport of 5 items", { .dport.items = 5, .dport.ints = true, .dport.lo = 80, .dport.hi = 443 },
	  "field 'dport': a range is {lo, hi}, got 5 items (one rule takes one port or one range)" },
	{ "sport 70000", { .sport.items = -1, .sport.lo = 70000 },
	  "field 'sport': 70000 is out of range 0 to 65535" },
	{ "sport {10, 5}", { .sport.items = 2, .sport.ints = true, .sport.lo = 10, .sport.hi = 5 },
	  "field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "sport {1, 'x'}", { .sport.items = 2, .sport.ints = false, .sport.lo = 1 },
	  "field 'sport': expected {lo, hi} with 0 <= lo <= hi <= 65535" },
	{ "sport {1, 2, 3}", { .sport.items = 3, .sport.ints = true, .sport.lo = 1, .sport.hi = 2 },
	  "field 'sport': a range is {lo, hi}, got 3 items (one rule takes one port or one range)" },
	{ NULL, { 0 }, NULL },
};

static void test_compile_bad(void)
{
	struct ctlua_rule r, untouched;
	char why[200], name[96];

	for (const struct bad_case *c = bad; c->what; c++) {
		memset(&r, 0xa5, sizeof(r));
		memset(&untouched, 0xa5, sizeof(untouched));
		why[0] = 0;
		snprintf(name, sizeof(name), "compile refuses %s: -EINVAL", c->what);
		is_int(ctl_rule_compile(&c->spec, &r, why, sizeof(why)), -EINVAL, name);
		snprintf(name, sizeof(name), "compile refuses %s: why", c->what);
		is_str(why, c->why, name);
		snprintf(name, sizeof(name), "compile refuses %s: the output is untouched", c->what);
		ok(!memcmp(&r, &untouched, sizeof(r)), "%s", name);
	}
	/* a short buffer truncates, never overflows */
	memset(why, 'x', sizeof(why));
	ctl_rule_compile(&bad[0].spec, &r, why, 8);
	is_str(why, "field '", "compile: the reason is cut to the buffer (8 bytes with the NUL)");
	is_int(why[8], 'x', "compile: nothing is written past the buffer");
}

/* A rule with @action, compiled from an empty spec. */
static struct ctlua_rule plain(int action)
{
	struct ctl_rule_spec spec = { .verdict = { .action = (__u8)action } };
	struct ctlua_rule r;
	char why[200];

	ctl_rule_compile(&spec, &r, why, sizeof(why));
	return r;
}

/* The ids of the table in order, as "1 3 2". */
static const char *ids(const struct ctl_rules *t, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < t->n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u", i ? " " : "", t->e[i].rule.id);
	return buf;
}

static struct ctl_rules table;	/* 26 KB: not on the stack */

static void test_table(void)
{
	struct ctlua_rule r, flat[CTLUA_MAX_RULES];
	struct ctl_rule_entry gone;
	char buf[256];
	int pos;

	ctl_rules_init(&table);
	is_int(table.n, 0, "rules_init: empty");
	r = plain(CTLUA_ACT_PASS);
	is_int(ctl_rules_add(&table, &r, 0), 0, "rules_add: the first rule goes at position 0");
	is_int(r.id, 1, "rules_add: the first id is 1");
	is_int(r.verdict.rule_id, 1, "rules_add: the verdict carries its rule id (1)");
	r = plain(CTLUA_ACT_DROP);
	is_int(ctl_rules_add(&table, &r, 10), 1, "rules_add: priority 10 goes after priority 0");
	r = plain(CTLUA_ACT_ALLOC);
	is_int(ctl_rules_add(&table, &r, -5), 0, "rules_add: priority -5 goes first");
	r = plain(CTLUA_ACT_PASS);
	is_int(ctl_rules_add(&table, &r, 0), 2, "rules_add: a tie goes after the earlier rule");
	is_str(ids(&table, buf, sizeof(buf)), "3 1 4 2", "rules order: by priority, ties as added");
	is_int(table.e[0].priority, -5, "rules keep their priority (-5 first)");

	r = plain(CTLUA_ACT_PASS);
	pos = ctl_rules_add(&table, &r, 5);
	is_int(r.id, 5, "rules_add: the next id is 5");
	ctl_rules_undo_add(&table, pos);
	is_str(ids(&table, buf, sizeof(buf)), "3 1 4 2", "rules_undo_add: the table is as before");
	r = plain(CTLUA_ACT_PASS);
	ctl_rules_add(&table, &r, 5);
	is_int(r.id, 5, "rules_undo_add gives the id back: the next rule is 5 again");

	is_int(ctl_rules_find(&table, 4), 2, "rules_find 4: position 2");
	is_int(ctl_rules_find(&table, 99), -ENOENT, "rules_find 99: -ENOENT");
	is_int(ctl_rules_find(&table, 4294967297LL), -ENOENT,
	       "rules_find 2^32 + 1: -ENOENT, not rule 1");
	ctl_rules_remove(&table, 1, &gone);
	is_int(gone.rule.id, 1, "rules_remove at 1 hands back rule 1");
	is_str(ids(&table, buf, sizeof(buf)), "3 4 5 2", "rules_remove: the rest close up");
	ctl_rules_restore(&table, 1, &gone);
	is_str(ids(&table, buf, sizeof(buf)), "3 1 4 5 2", "rules_restore: back in its place");

	is_int(ctl_rules_flatten(&table, flat), 5, "rules_flatten: 5 rules");
	is_int(flat[0].id * 10000 + flat[1].id * 1000 + flat[2].id * 100 + flat[3].id * 10 +
	       flat[4].id, 31452, "rules_flatten: in evaluation order (3 1 4 5 2)");
	is_int(flat[0].verdict.action, CTLUA_ACT_ALLOC, "rules_flatten: rule 3's action (alloc)");

	ctl_rules_init(&table);
	for (int i = 0; i < CTLUA_MAX_RULES; i++) {
		r = plain(CTLUA_ACT_PASS);
		ctl_rules_add(&table, &r, i * 3 / CTLUA_MAX_RULES);	/* appended: no moves */
	}
	is_int(table.n, CTLUA_MAX_RULES, "rules_add: CTLUA_MAX_RULES (16384) rules fit");
	r = plain(CTLUA_ACT_PASS);
	is_int(ctl_rules_add(&table, &r, 0), -E2BIG, "rules_add: the next is -E2BIG");
	is_int(table.last_id, CTLUA_MAX_RULES, "rules_add: a refused rule takes no id");
	pos = ctl_rules_find(&table, 1);
	ctl_rules_remove(&table, (unsigned int)pos, &gone);
	r = plain(CTLUA_ACT_PASS);
	ok(ctl_rules_add(&table, &r, 0) >= 0, "rules_add: after a removal there is room again");
	is_int(r.id, CTLUA_MAX_RULES + 1, "rules_add: ids are not reused (16385)");
}

static void test_prefix_len(void)
{
	__be32 m[4] = { 0 };

	is_int(ctl_rule_prefix_len(m), 0, "prefix_len of a zero mask: 0");
	memset(m, 0xff, 16);
	is_int(ctl_rule_prefix_len(m), 128, "prefix_len of all ones: 128");
	memset(m, 0, 16);
	((uint8_t *)m)[0] = 0xff;
	((uint8_t *)m)[1] = 0xfe;
	is_int(ctl_rule_prefix_len(m), 15, "prefix_len ff fe 00 ...: 15");
}

void test_rules(void)
{
	test_compile_ok();
	test_compile_bad();
	test_table();
	test_prefix_len();
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * unit.c - TAP tests of the pure functions in src/addr.h and src/names.h: parsing and
 * printing addresses, prefixes and flows, and the name tables; then, from main, those of
 * the other files here (pretty.c, fields.c, rules.c). No kernel.
 *
 * Every expected value is written out by hand (bytes, strings, bit values from
 * <linux/netfilter/nf_conntrack_common.h> as numbers), never computed by the code
 * under test, so a bug cannot agree with itself.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include "addr.h"
#include "explain.h"
#include "names.h"
#include "tap.h"

/* String equality; NULL is a value of its own ("(null)" in diagnostics). */
static void is_str(const char *got, const char *want, const char *name)
{
	bool same = got && want ? !strcmp(got, want) : got == want;

	if (!ok(same, "%s", name)) {
		diag("         got: '%s'", got ? got : "(null)");
		diag("    expected: '%s'", want ? want : "(null)");
	}
}

static void is_int(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name)) {
		diag("         got: %lld", got);
		diag("    expected: %lld", want);
	}
}

static void hex(const char *label, const void *p, size_t n)
{
	char buf[3 * 16 + 1] = "";

	for (size_t i = 0; i < n && i < 16; i++)
		snprintf(buf + 3 * i, sizeof(buf) - 3 * i, "%02x ", ((const uint8_t *)p)[i]);
	diag("%s%s", label, buf);
}

/* The 16 bytes of an address slot (addr[4] in network order) against literal bytes. */
static void is_bytes(const __be32 got[4], const uint8_t want[16], const char *name)
{
	if (!ok(!memcmp(got, want, 16), "%s", name)) {
		hex("         got: ", got, 16);
		hex("    expected: ", want, 16);
	}
}

/* Fill a slot with garbage first: parsers must write every byte they own. */
static void poison(__be32 a[4])
{
	memset(a, 0xa5, 16);
}

/* --- ctl_addr_parse ------------------------------------------------------------------- */

static void test_addr_parse(void)
{
	static const uint8_t v4[16] = { 198, 18, 0, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 1, 2, 3, 4 };
	static const uint8_t zero[16] = { 0 };
	static const char *const garbage[] = {
		"", "198.18.0", "198.18.0.1.2", "198.18.0.256", "hello", " 198.18.0.1",
		"198.18.0.1 ", "2001:db8::1::2", "2001:db8::g", "198.18.0.1/32", NULL,
	};
	__be32 a[4];

	poison(a);
	is_int(ctl_addr_parse("198.18.0.1", a), 2, "addr_parse 198.18.0.1: AF_INET (2)");
	is_bytes(a, v4, "addr_parse 198.18.0.1: bytes c6 12 00 01 in word 0, the rest zero");

	poison(a);
	is_int(ctl_addr_parse("2001:db8::1", a), 10, "addr_parse 2001:db8::1: AF_INET6 (10)");
	is_bytes(a, v6, "addr_parse 2001:db8::1: bytes 20 01 0d b8 0 ... 0 01");

	poison(a);
	is_int(ctl_addr_parse("::ffff:1.2.3.4", a), 10, "addr_parse ::ffff:1.2.3.4 is IPv6");
	is_bytes(a, mapped, "addr_parse ::ffff:1.2.3.4: v4-mapped bytes");

	poison(a);
	is_int(ctl_addr_parse("0.0.0.0", a), 2, "addr_parse 0.0.0.0 is IPv4");
	is_bytes(a, zero, "addr_parse 0.0.0.0: all zero");

	for (int i = 0; garbage[i]; i++) {
		char name[80];

		snprintf(name, sizeof(name), "addr_parse '%s' is not an address (0)", garbage[i]);
		is_int(ctl_addr_parse(garbage[i], a), 0, name);
	}
}

/* --- ctl_prefix_parse ----------------------------------------------------------------- */

struct prefix_case {
	const char *text;
	int family;
	uint8_t addr[16];
	uint8_t mask[16];
};

static const struct prefix_case prefix_ok[] = {
	{ "198.18.0.0/15", 2, { 198, 18, 0, 0 }, { 255, 254, 0, 0 } },
	/* host bits are cleared */
	{ "198.18.3.4/15", 2, { 198, 18, 0, 0 }, { 255, 254, 0, 0 } },
	{ "198.19.255.255/15", 2, { 198, 18, 0, 0 }, { 255, 254, 0, 0 } },
	{ "10.1.2.3/0", 2, { 0 }, { 0 } },
	{ "10.1.2.3/32", 2, { 10, 1, 2, 3 }, { 255, 255, 255, 255 } },
	{ "10.1.2.3/24", 2, { 10, 1, 2, 0 }, { 255, 255, 255, 0 } },
	{ "10.1.2.3/1", 2, { 0 }, { 128 } },
	{ "10.255.2.3/9", 2, { 10, 128, 0, 0 }, { 255, 128, 0, 0 } },
	/* no length: a host */
	{ "10.1.2.3", 2, { 10, 1, 2, 3 }, { 255, 255, 255, 255 } },
	{ "2001:db8:1:2:3:4:5:6/64", 10,
	  { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 },
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	{ "2001:db8::/32", 10,
	  { 0x20, 0x01, 0x0d, 0xb8 },
	  { 0xff, 0xff, 0xff, 0xff } },
	/* a length that is not a multiple of 32 inside the second word */
	{ "2001:db8:ffff:ffff::/36", 10,
	  { 0x20, 0x01, 0x0d, 0xb8, 0xf0 },
	  { 0xff, 0xff, 0xff, 0xff, 0xf0 } },
	{ "2001:db8::1/0", 10, { 0 }, { 0 } },
	{ "2001:db8::1", 10,
	  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	{ "2001:db8::1/128", 10,
	  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	{ NULL, 0, { 0 }, { 0 } },
};

struct prefix_bad {
	const char *text;
	const char *why;
};

static const struct prefix_bad prefix_bad[] = {
	{ "198.18.0.0/33", "prefix length must be 0 to 32" },
	{ "1.2.3.4/", "prefix length must be 0 to 32" },
	{ "1.2.3.4/-1", "prefix length must be 0 to 32" },
	{ "1.2.3.4/8x", "prefix length must be 0 to 32" },
	{ "1.2.3.4/8/9", "prefix length must be 0 to 32" },
	/* digits only: strtol would read these as /8 */
	{ "1.2.3.4/ 8", "prefix length must be 0 to 32" },
	{ "1.2.3.4/+8", "prefix length must be 0 to 32" },
	{ "1.2.3.4/99999999999999999999", "prefix length must be 0 to 32" },
	{ "2001:db8::/129", "prefix length must be 0 to 128" },
	{ "2001:db8::/", "prefix length must be 0 to 128" },
	{ "abc/8", "not an IPv4 or IPv6 address" },
	{ "/8", "not an IPv4 or IPv6 address" },
	{ "", "not an IPv4 or IPv6 address" },
	{ "198.18.0/15", "not an IPv4 or IPv6 address" },
	/* longer than any address: must not overflow the copy */
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/64",
	  "not an IPv4 or IPv6 address" },
	{ NULL, NULL },
};

static void test_prefix_parse(void)
{
	__be32 addr[4], mask[4];
	const char *why;
	char name[128];

	for (const struct prefix_case *c = prefix_ok; c->text; c++) {
		poison(addr);
		poison(mask);
		why = NULL;
		snprintf(name, sizeof(name), "prefix_parse %s: family %d", c->text, c->family);
		is_int(ctl_prefix_parse(c->text, addr, mask, &why), c->family, name);
		if (why)
			diag("    why: %s", why);
		snprintf(name, sizeof(name), "prefix_parse %s: address", c->text);
		is_bytes(addr, c->addr, name);
		snprintf(name, sizeof(name), "prefix_parse %s: mask", c->text);
		is_bytes(mask, c->mask, name);
	}
	for (const struct prefix_bad *c = prefix_bad; c->text; c++) {
		why = NULL;
		snprintf(name, sizeof(name), "prefix_parse '%s' fails (0)", c->text);
		is_int(ctl_prefix_parse(c->text, addr, mask, &why), 0, name);
		snprintf(name, sizeof(name), "prefix_parse '%s': why", c->text);
		is_str(why, c->why, name);
	}
}

/* --- ctl_addr_format, ctl_flow_format ------------------------------------------------- */

static void set_bytes(__be32 a[4], const uint8_t b[16])
{
	memcpy(a, b, 16);
}

static void test_addr_format(void)
{
	static const uint8_t v4[16] = { 198, 18, 0, 1 };
	static const uint8_t v4max[16] = { 255, 255, 255, 255 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	static const uint8_t v6full[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4,
					    0, 5, 0, 6 };
	static const uint8_t zero[16] = { 0 };
	char buf[CTL_ADDR_STRLEN];
	__be32 a[4];

	set_bytes(a, v4);
	is_str(ctl_addr_format(2, a, buf), "198.18.0.1", "addr_format IPv4");
	ok(ctl_addr_format(2, a, buf) == buf, "addr_format returns its buffer");
	set_bytes(a, v4max);
	is_str(ctl_addr_format(2, a, buf), "255.255.255.255", "addr_format 255.255.255.255");
	set_bytes(a, zero);
	is_str(ctl_addr_format(2, a, buf), "0.0.0.0", "addr_format IPv4 zero");
	is_str(ctl_addr_format(10, a, buf), "::", "addr_format IPv6 zero is ::");
	set_bytes(a, (const uint8_t[16]){ 100, 10, 9, 109 });
	is_str(ctl_addr_format(2, a, buf), "100.10.9.109", "addr_format IPv4, one to three digits");
	set_bytes(a, v6);
	is_str(ctl_addr_format(10, a, buf), "2001:db8::1", "addr_format IPv6, compressed");
	set_bytes(a, v6full);
	is_str(ctl_addr_format(10, a, buf), "2001:db8:1:2:3:4:5:6", "addr_format IPv6, no zeros");
}

/* A flow from literal bytes and host-order ports, as the BPF side fills it in. */
static struct ctlua_flow flow(int family, int proto, const uint8_t src[16], int sport,
			      const uint8_t dst[16], int dport)
{
	struct ctlua_flow f;

	memset(&f, 0, sizeof(f));
	f.family = (__u8)family;
	f.proto = (__u8)proto;
	memcpy(f.saddr, src, 16);
	memcpy(f.daddr, dst, 16);
	/* network order written out byte by byte, not with htons */
	((uint8_t *)&f.sport)[0] = (uint8_t)(sport >> 8);
	((uint8_t *)&f.sport)[1] = (uint8_t)sport;
	((uint8_t *)&f.dport)[0] = (uint8_t)(dport >> 8);
	((uint8_t *)&f.dport)[1] = (uint8_t)dport;
	return f;
}

static void test_flow_format(void)
{
	static const uint8_t a4[16] = { 198, 18, 0, 1 }, b4[16] = { 198, 18, 1, 1 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	char buf[CTL_FLOW_STRLEN];
	struct ctlua_flow f;

	f = flow(2, 17, a4, 5353, b4, 53);
	is_str(ctl_flow_format(&f, buf), "udp 198.18.0.1:5353 \u2192 198.18.1.1:53",
	       "flow_format IPv4 UDP");
	ok(ctl_flow_format(&f, buf) == buf, "flow_format returns its buffer");
	f = flow(2, 6, b4, 65535, a4, 0);
	is_str(ctl_flow_format(&f, buf), "tcp 198.18.1.1:65535 \u2192 198.18.0.1:0",
	       "flow_format IPv4 TCP, ports 65535 and 0");
	f = flow(10, 6, a6, 40000, b6, 443);
	is_str(ctl_flow_format(&f, buf), "tcp [2001:db8::1]:40000 \u2192 [2001:db8::2]:443",
	       "flow_format IPv6 in brackets");
	f = flow(2, 47, a4, 0, b4, 0);
	is_str(ctl_flow_format(&f, buf), "47 198.18.0.1:0 \u2192 198.18.1.1:0",
	       "flow_format: an unknown protocol as its number");
	f = flow(10, 132, a6, 1, b6, 2);
	is_str(ctl_flow_format(&f, buf), "132 [2001:db8::1]:1 \u2192 [2001:db8::2]:2",
	       "flow_format: an unknown protocol over IPv6");
}

/* --- names.h -------------------------------------------------------------------------- */

/* A NULL-terminated table against its expected words, in order. */
static void is_list(const char *const *got, const char *const *want, const char *name)
{
	int i;

	for (i = 0; want[i] && got[i]; i++)
		if (strcmp(got[i], want[i]))
			break;
	if (!ok(!want[i] && !got[i], "%s", name))
		diag("    differs at index %d: got '%s', expected '%s'", i,
		     got[i] ? got[i] : "(null)", want[i] ? want[i] : "(null)");
}

static void test_name_tables(void)
{
	static const char *const actions[] = { "pass", "alloc", "drop", NULL };
	static const char *const modes[] = { "off", "observe", "enforce", NULL };
	static const char *const events[] = { "miss", "alloc", "alloc_error", "drop", NULL };
	static const char *const dirs[] = { "ingress", "egress", NULL };
	static const char *const settable[] = { "seen_reply", "assured", "fixed_timeout",
						"helper", NULL };

	is_list(ctl_action_names, actions, "action names: pass alloc drop");
	is_list(ctl_mode_names, modes, "mode names: off observe enforce");
	is_list(ctl_event_names, events, "event names: miss alloc alloc_error drop");
	is_list(ctl_dir_names, dirs, "direction names: ingress egress");
	is_list(ctl_status_names, settable,
		"settable status names: seen_reply assured fixed_timeout helper");
}

static void test_status(void)
{
	/* IPS_* bit positions from nf_conntrack_common.h, by hand. */
	static const struct { const char *name; uint32_t bit; } all[] = {
		{ "expected", 1u << 0 }, { "seen_reply", 1u << 1 }, { "assured", 1u << 2 },
		{ "confirmed", 1u << 3 }, { "src_nat", 1u << 4 }, { "dst_nat", 1u << 5 },
		{ "seq_adjust", 1u << 6 }, { "src_nat_done", 1u << 7 },
		{ "dst_nat_done", 1u << 8 }, { "dying", 1u << 9 },
		{ "fixed_timeout", 1u << 10 }, { "template", 1u << 11 },
		{ "untracked", 1u << 12 }, { "helper", 1u << 13 }, { "offload", 1u << 14 },
		{ "hw_offload", 1u << 15 },
	};
	char name[80];

	is_int(ctl_status_bit("seen_reply"), 0x2, "status_bit seen_reply = 0x2");
	is_int(ctl_status_bit("assured"), 0x4, "status_bit assured = 0x4");
	is_int(ctl_status_bit("fixed_timeout"), 0x400, "status_bit fixed_timeout = 0x400");
	is_int(ctl_status_bit("helper"), 0x2000, "status_bit helper = 0x2000");
	is_int(ctl_status_bit("confirmed"), 0, "status_bit confirmed: not settable (0)");
	is_int(ctl_status_bit("dying"), 0, "status_bit dying: not settable (0)");
	is_int(ctl_status_bit("ASSURED"), 0, "status_bit is case-sensitive");
	is_int(ctl_status_bit(""), 0, "status_bit of the empty name is 0");
	is_int(ctl_status_bit("nonsense"), 0, "status_bit of an unknown name is 0");

	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		snprintf(name, sizeof(name), "status_bit_name 0x%x = %s", all[i].bit, all[i].name);
		is_str(ctl_status_bit_name(all[i].bit), all[i].name, name);
	}
	is_str(ctl_status_bit_name(0), NULL, "status_bit_name 0 is NULL");
	is_str(ctl_status_bit_name(0x6), NULL, "status_bit_name of two bits (0x6) is NULL");
	is_str(ctl_status_bit_name(1u << 16), NULL, "status_bit_name 0x10000 (unnamed) is NULL");
	is_str(ctl_status_bit_name(1u << 31), NULL, "status_bit_name 0x80000000 is NULL");
}

static void test_errno_name(void)
{
	char buf[16];

	is_str(ctl_errno_name(17, buf, sizeof(buf)), "EEXIST", "errno_name 17 = EEXIST");
	is_str(ctl_errno_name(-71, buf, sizeof(buf)), "EPROTO", "errno_name -71 = EPROTO");
	is_str(ctl_errno_name(2, buf, sizeof(buf)), "ENOENT", "errno_name 2 = ENOENT");
	is_str(ctl_errno_name(-19, buf, sizeof(buf)), "ENODEV", "errno_name -19 = ENODEV");
	is_str(ctl_errno_name(1, buf, sizeof(buf)), "EPERM", "errno_name 1 = EPERM");
	is_str(ctl_errno_name(7, buf, sizeof(buf)), "E2BIG", "errno_name 7 = E2BIG");
	is_str(ctl_errno_name(4000, buf, sizeof(buf)), "E4000", "errno_name 4000 = E4000");
	is_str(ctl_errno_name(-4000, buf, sizeof(buf)), "E4000", "errno_name -4000 = E4000");
	/* found by fuzz/names_fuzz.c: -INT_MIN overflowed (an event's error is any __s32) */
	is_str(ctl_errno_name(-2147483647 - 1, buf, sizeof(buf)), "E2147483648",
	       "errno_name INT_MIN = E2147483648");
	is_str(ctl_errno_name(2147483647, buf, sizeof(buf)), "E2147483647",
	       "errno_name INT_MAX = E2147483647");
}

/* ctl_explain and its text for any int; the twelve texts are tests/12-explain.t's. */
static void test_explain_range(void)
{
	char buf[1024];

	ok(ctl_explain(-71) != NULL, "explain -71 (EPROTO) has an explanation");
	ok(ctl_explain(-2147483647 - 1) == NULL, "explain INT_MIN has none (and no overflow)");
	is_str(ctl_explain_format(-2147483647 - 1, buf, sizeof(buf)),
	       "E2147483648 (2147483648): not returned by the conntrack kfuncs (no errno)",
	       "explain_format INT_MIN");
	is_str(ctl_explain_format(-4000, buf, sizeof(buf)),
	       "E4000 (4000): not returned by the conntrack kfuncs (Unknown error 4000)",
	       "explain_format -4000");
}

static void test_proto(void)
{
	is_int(ctl_proto_parse("tcp"), 6, "proto_parse tcp = 6");
	is_int(ctl_proto_parse("udp"), 17, "proto_parse udp = 17");
	is_int(ctl_proto_parse("TCP"), -1, "proto_parse is case-sensitive (TCP = -1)");
	is_int(ctl_proto_parse("icmp"), -1, "proto_parse icmp = -1");
	is_int(ctl_proto_parse(""), -1, "proto_parse '' = -1");
	is_int(ctl_proto_parse("6"), -1, "proto_parse takes names, not numbers ('6' = -1)");
	is_str(ctl_proto_name(6), "tcp", "proto_name 6 = tcp");
	is_str(ctl_proto_name(17), "udp", "proto_name 17 = udp");
	is_str(ctl_proto_name(1), NULL, "proto_name 1 (icmp) is NULL");
	is_str(ctl_proto_name(0), NULL, "proto_name 0 is NULL");
	is_str(ctl_proto_name(132), NULL, "proto_name 132 (sctp) is NULL");
}

static void test_stat_name(void)
{
	/* The counter names of ct.stats(), in the order of enum ctlua_stat. */
	static const char *const names[] = {
		"packets", "not_ip", "fragments", "ipv6_ext", "other_l4", "malformed",
		"lookup_hit", "lookup_miss", "lookup_error", "by_verdict", "by_rule",
		"by_default", "passes", "alloc_ok", "alloc_error", "drops", "events",
		"events_lost", "verdicts_full", "verdicts_expired", "wakeups", "limited", "zone_hit",
		"ipv6_fragments", "ipv6_ext_walked", "icmp", "icmpv6", "sctp",
	};
	const int n = (int)(sizeof(names) / sizeof(names[0]));
	char name[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "stat_name %d = %s", i, names[i]);
		is_str(ctl_stat_name(i), names[i], name);
	}
	snprintf(name, sizeof(name), "stat_name %d (past the named slots) is NULL", n);
	is_str(ctl_stat_name(n), NULL, name);
	is_str(ctl_stat_name(-1), NULL, "stat_name -1 is NULL");
	is_str(ctl_stat_name(128), NULL, "stat_name 128 (the errno slots) is NULL");
}

/* --- ctl_errno_text: errnos as typed on the command line ---------------------------- */

static void test_errno_text(void)
{
	static const struct { const char *text; int ret, err; } cases[] = {
		{ "EPROTO", 0, 71 }, { "eproto", 0, 71 }, { "71", 0, 71 }, { "-16", 0, -16 },
		{ "4095", 0, 4095 }, { "-4095", 0, -4095 }, { "071", 0, 71 },
		{ "0", -EDOM, 0 }, { "-0", -EDOM, 0 },
		{ "4096", -ERANGE, 0 }, { "4294967367", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 }, { "-99999999999999999999", -ERANGE, 0 },
		{ "71abc", -EINVAL, 0 }, { "71 ", -EINVAL, 0 }, { " 71", -EINVAL, 0 },
		{ "+71", -EINVAL, 0 }, { "", -EINVAL, 0 }, { "-", -EINVAL, 0 },
		{ "0x47", -EINVAL, 0 }, { "EFOO", -EINVAL, 0 },
	};
	char name[96];

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = 0, ret = ctl_errno_text(cases[i].text, &err);

		snprintf(name, sizeof(name), "errno_text '%s' returns %d", cases[i].text,
			 cases[i].ret);
		is_int(ret, cases[i].ret, name);
		if (!cases[i].ret) {
			snprintf(name, sizeof(name), "errno_text '%s' is %d", cases[i].text,
				 cases[i].err);
			is_int(err, cases[i].err, name);
		}
	}
}

/*
 * unit_tests: every test above; unit_tests rules-kernel [PIN]: the classifier in the
 * kernel (root), then with PIN (a bpffs directory) a pinned state's set members; unit_tests link-watch: link notifications (root, in a namespace of its own).
 */
int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "rules-kernel")) {
		test_rule_class_kernel(argc > 2 ? argv[2] : NULL);
		goto done;
	}
	if (argc > 1 && !strcmp(argv[1], "link-watch")) {
		test_link_watch_kernel();
		goto done;
	}
	test_addr_parse();
	test_prefix_parse();
	test_addr_format();
	test_flow_format();
	test_name_tables();
	test_status();
	test_errno_name();
	test_explain_range();
	test_proto();
	test_stat_name();
	test_errno_text();
	test_pretty();
	test_fields();
	test_rules();
	test_ratelimit();
	test_rule_class();
	test_rule_counts();
	test_sandbox();
	test_loop();
	test_json();
	test_sets();
done:
	printf("1..%d\n", tests_run);
	if (tests_failed)
		diag("failed %d of %d tests", tests_failed, tests_run);
	return tests_failed > 254 ? 254 : tests_failed;
}

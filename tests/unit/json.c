// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json.c - TAP tests of the JSON writer (src/json.h): how strings are escaped (quotes,
 * backslashes, control characters, valid UTF-8 kept, each byte of invalid UTF-8 as
 * \u00XX), objects with their members, and an event and an entry written from their
 * field tables. Runs from unit.c's main; no kernel.
 *
 * Every expected text is written out by hand, never produced by the code under test.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include "fields.h"
#include "json.h"
#include "tap.h"

static void is_text(const struct ctl_json *j, const char *want, const char *name)
{
	if (!ok(!j->failed && j->buf && !strcmp(j->buf, want), "%s", name)) {
		diag("         got: %s", j->buf ? j->buf : "(null)");
		diag("    expected: %s", want);
	}
}

static void string_case(const char *in, size_t len, const char *want, const char *name)
{
	struct ctl_json j;

	ctl_json_init(&j);
	ctl_json_string(&j, in, len);
	is_text(&j, want, name);
	ctl_json_free(&j);
}

#define STR(in, want, name)	string_case(in, sizeof(in) - 1, want, name)

static void test_strings(void)
{
	STR("", "\"\"", "the empty string");
	STR("plain text 123", "\"plain text 123\"", "plain ASCII as it is");
	STR("say \"hi\"", "\"say \\\"hi\\\"\"", "quotes escaped");
	STR("a\\b", "\"a\\\\b\"", "a backslash escaped");
	STR("l1\nl2\tx\ry", "\"l1\\nl2\\tx\\ry\"", "newline, tab and carriage return");
	STR("\x01\x08\x0c\x1f", "\"\\u0001\\u0008\\u000c\\u001f\"",
	    "other control characters as \\u00XX");
	STR("del\x7f", "\"del\\u007f\"", "DEL escaped");
	STR("a\0b", "\"a\\u0000b\"", "a NUL byte inside the string");
	STR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "valid UTF-8 (2, 3 and 4 bytes) as it is");
	STR("\xff", "\"\\u00ff\"", "the byte 0xff as \\u00ff");
	STR("x\x80y", "\"x\\u0080y\"", "a lone continuation byte");
	STR("\xc0\xaf", "\"\\u00c0\\u00af\"", "an overlong '/' byte by byte");
	STR("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"", "an overlong three-byte form");
	STR("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "a UTF-16 surrogate is not UTF-8");
	STR("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", "above U+10FFFF");
	STR("\xe2\x82", "\"\\u00e2\\u0082\"", "a sequence cut short at the end");
	STR("\xe2\x82x", "\"\\u00e2\\u0082x\"", "a sequence cut short by ASCII");
	STR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF itself is valid");
	STR("\xed\x9f\xbf", "\"\xed\x9f\xbf\"", "U+D7FF, just below the surrogates, is valid");
}

static void test_objects(void)
{
	struct ctl_json j;

	ctl_json_init(&j);
	ctl_json_begin(&j);
	ctl_json_end(&j);
	is_text(&j, "{}\n", "an empty object, and its newline");
	ctl_json_begin(&j);
	ctl_json_str(&j, "type", "log", 3);
	ctl_json_int(&j, "n", -5);
	ctl_json_int(&j, "big", 9007199254740993LL);
	ctl_json_num(&j, "t", 1.5);
	ctl_json_num(&j, "nan", NAN);
	ctl_json_num(&j, "inf", INFINITY);
	ctl_json_str(&j, "k\"ey", "v", 1);
	ctl_json_end(&j);
	is_text(&j, "{\"type\":\"log\",\"n\":-5,\"big\":9007199254740993,\"t\":1.500000,"
		"\"nan\":null,\"inf\":null,\"k\\\"ey\":\"v\"}\n",
		"members separated by commas; numbers to the microsecond; not finite is null");
	ctl_json_begin(&j);
	ctl_json_int(&j, "again", 1);
	ctl_json_end(&j);
	is_text(&j, "{\"again\":1}\n", "begin starts a new object in the same buffer");
	ctl_json_free(&j);
}

static void test_records(void)
{
	struct ctlua_event e = {
		.time_ns = 1000000000ull, .ifindex = 7, .rule_id = 3, .error = -17,
		.kind = CTLUA_EV_ALLOC_ERROR, .dir = CTLUA_DIR_EGRESS, .action = CTLUA_ACT_ALLOC,
	};
	struct ctl_event_ctx ctx = { .ifname = "veth\"0", .realtime_offset_ns = 1500000000 };
	struct ctl_entry en = {};
	struct ctl_json j;

	e.flow.family = CTLUA_AF_INET;
	e.flow.proto = 17;
	e.flow.saddr[0] = htonl(0xc6120002);
	e.flow.daddr[0] = htonl(0xc6120001);
	e.flow.sport = htons(1000);
	e.flow.dport = htons(80);
	ctl_json_init(&j);
	ctl_json_begin(&j);
	ctl_json_record(&j, &ctl_event_record, &e, &ctx);
	ctl_json_end(&j);
	is_text(&j, "{\"kind\":\"alloc_error\",\"src\":\"198.18.0.2\",\"dst\":\"198.18.0.1\","
		"\"sport\":1000,\"dport\":80,\"proto\":\"udp\",\"family\":\"ipv4\","
		"\"tuple\":\"udp 198.18.0.2:1000 \xe2\x86\x92 198.18.0.1:80\",\"ifname\":\"veth\\\"0\","
		"\"dir\":\"egress\",\"action\":\"alloc\",\"rule\":3,\"err\":-17,"
		"\"errname\":\"EEXIST\",\"time\":2.500000}\n",
		"an event: every field of the table, in its order");

	e.rule_id = 0;
	e.error = 0;
	e.kind = CTLUA_EV_MISS;
	e.flow.proto = 132;
	ctl_json_begin(&j);
	ctl_json_record(&j, &ctl_event_record, &e, &ctx);
	ctl_json_end(&j);
	is_text(&j, "{\"kind\":\"miss\",\"src\":\"198.18.0.2\",\"dst\":\"198.18.0.1\","
		"\"sport\":1000,\"dport\":80,\"proto\":132,\"family\":\"ipv4\","
		"\"tuple\":\"132 198.18.0.2:1000 \xe2\x86\x92 198.18.0.1:80\",\"ifname\":\"veth\\\"0\","
		"\"dir\":\"egress\",\"action\":\"alloc\",\"err\":0,\"time\":2.500000}\n",
		"no rule, no error: those fields left out; a protocol without a name as its number");

	en.tuple = e.flow;
	en.tuple.proto = 6;
	en.reply = en.tuple;
	en.reply.saddr[0] = htonl(0xc6120063);
	en.reply.sport = htons(8080);
	en.reply.daddr[0] = e.flow.saddr[0];
	en.reply.dport = e.flow.sport;
	en.status = IPS_CONFIRMED | IPS_DST_NAT | IPS_SEEN_REPLY;
	en.mark = 97;
	en.timeout_ms = 30000;
	ctl_json_begin(&j);
	ctl_json_record(&j, &ctl_entry_record, &en, NULL);
	ctl_json_end(&j);
	if (!ok(strstr(j.buf, "\"status\":[\"seen_reply\",\"confirmed\",\"dst_nat\"],"
		       "\"status_bits\":42,") != NULL,
		"an entry's status: an array of its bits' names, then the number"))
		diag("    %s", j.buf);
	ok(strstr(j.buf, "\"dnat\":{\"addr\":\"198.18.0.99\",\"port\":8080}}\n") != NULL,
	   "destination NAT as {addr, port}; no snat (not NATed so)");
	if (!ok(strstr(j.buf, "\"snat\"") == NULL, "no snat member"))
		diag("    %s", j.buf);
	ctl_json_free(&j);
}

void test_json(void)
{
	test_strings();
	test_objects();
	test_records();
}

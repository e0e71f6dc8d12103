// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ratelimit.c - TAP tests of src/ratelimit.h without the kernel: a limit's key
 * ("src/24" and the rest) into the masks the TC program applies and back, the exact
 * reason for refusing one, and a rate and burst into the step and span it reads.
 *
 * Expected masks and numbers are written out by hand, never computed by the code under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ratelimit.h"
#include "tap.h"

static const struct {
	const char *text;
	int per;
	__u32 mask4;			/* host order; [1..3] are always 0 */
	__u32 mask6[4];			/* host order */
	const char *back;		/* as ctl_limit_format_per writes it */
} keys[] = {
	{ "src", CTLUA_PER_SRC, 0xffffffff, { ~0u, ~0u, ~0u, ~0u }, "src" },
	{ "src/24", CTLUA_PER_SRC, 0xffffff00, { ~0u, ~0u, 0, 0 }, "src/24/64" },
	{ "src/64", CTLUA_PER_SRC, 0xffffff00, { ~0u, ~0u, 0, 0 }, "src/24/64" },
	{ "src/16/48", CTLUA_PER_SRC, 0xffff0000, { ~0u, 0xffff0000, 0, 0 }, "src/16/48" },
	{ "src/32/128", CTLUA_PER_SRC, 0xffffffff, { ~0u, ~0u, ~0u, ~0u }, "src" },
	{ "src/0/0", CTLUA_PER_SRC, 0, { 0, 0, 0, 0 }, "src/0/0" },
	{ "dst/8", CTLUA_PER_DST, 0xff000000, { ~0u, ~0u, 0, 0 }, "dst/8/64" },
	{ "dst", CTLUA_PER_DST, 0xffffffff, { ~0u, ~0u, ~0u, ~0u }, "dst" },
	{ "dport", CTLUA_PER_DPORT, 0, { 0, 0, 0, 0 }, "dport" },
	{ "rule", CTLUA_PER_RULE, 0, { 0, 0, 0, 0 }, "rule" },
};

static const char *const refused[] = {
	"", "flow", "src/", "src/33/64", "src/24/129", "src/129", "src/24/64/1", "dport/16",
	"rule/1", "src24", "src/-1", "src/0024x", "Src",
};

static void test_keys(void)
{
	char why[160], buf[32];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct ctlua_limit l = {};
		bool same = true;

		ok(ctl_limit_parse_per(keys[i].text, &l, why, sizeof(why)) == 0, "per '%s' is taken",
		   keys[i].text);
		same = l.per == keys[i].per && ntohl(l.mask4[0]) == keys[i].mask4 &&
		       !l.mask4[1] && !l.mask4[2] && !l.mask4[3];
		for (int w = 0; w < 4; w++)
			same = same && ntohl(l.mask6[w]) == keys[i].mask6[w];
		ok(same, "per '%s': its kind and masks", keys[i].text);
		ctl_limit_format_per(&l, buf, sizeof(buf));
		if (!ok(!strcmp(buf, keys[i].back), "per '%s' reads back as '%s'", keys[i].text,
			keys[i].back))
			diag("         got: '%s'", buf);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct ctlua_limit l = {};
		char want[200];

		snprintf(want, sizeof(want), "'%s' is not \"rule\", \"dport\", \"src\", \"src/LEN\", "
			 "\"src/LEN4/LEN6\" or the same of \"dst\"", refused[i]);
		ok(ctl_limit_parse_per(refused[i], &l, why, sizeof(why)) == -EINVAL &&
		   !strcmp(why, want), "per '%s' is refused, with its reason", refused[i]);
	}
}

static void test_rate(void)
{
	struct ctlua_limit l = {};

	ctl_limit_set_rate(&l, 100000, 20);	/* 100 a second */
	ok(l.step_ns == 10000000 && l.span_ns == 200000000 && l.burst == 20 &&
	   l.rate_milli == 100000, "rate 100, burst 20: a step of 10 ms, a span of 200 ms");
	ctl_limit_set_rate(&l, 1, 1);		/* one per 1000 s */
	ok(l.step_ns == 1000000000000ull && l.span_ns == 1000000000000ull,
	   "rate 0.001: a step of 1000 s");
	ctl_limit_set_rate(&l, 1000000000000ull, 1000000);	/* 1e9 a second */
	ok(l.step_ns == 1 && l.span_ns == 1000000, "rate 1e9: a step of 1 ns, never 0");
	ctl_limit_set_rate(&l, 3000, 2);
	ok(l.step_ns == 333333333 && l.span_ns == 666666666, "rate 3: the step rounds down");
}

void test_ratelimit(void)
{
	test_keys();
	test_rate();
}

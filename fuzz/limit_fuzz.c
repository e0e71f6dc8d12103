// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * limit_fuzz.c - libFuzzer harness for a rule's rate limit as ct.rule and ct.policy
 * read it (src/lua_limit.c, ctl_limit_check; src/ratelimit.c, ctl_limit_parse_per),
 * and ct.limit's changes, through a Lua state whose datapath never loads (fuzz.h).
 *
 * Input: byte 0 picks the shape (bit 0: rate as a float, else an integer; bit 1: burst
 * given; bit 2: over = "pass", bit 3: over is the text too; bit 4: a name, the text),
 * bytes 1-8 are the rate, 9-16 the burst, the rest is the text given as per, NULs and
 * all. Checks the contract: a limit that ct.rule or ct.policy reads (the call raises no
 * error) has a per text with no NUL that ctl_limit_parse_per takes alone, and a per
 * text that ctl_limit_parse_per takes reads back as a text it takes again unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "fuzz.h"
#include "ratelimit.h"

struct input {
	int flags;
	lua_Integer rate_i, burst;
	lua_Number rate_f;
	const char *text;
	size_t len;
};

static void push_limit(lua_State *L, const struct input *in)
{
	lua_createtable(L, 0, 5);
	if (in->flags & 1)
		lua_pushnumber(L, in->rate_f);
	else
		lua_pushinteger(L, in->rate_i);
	lua_setfield(L, -2, "rate");
	if (in->flags & 2) {
		lua_pushinteger(L, in->burst);
		lua_setfield(L, -2, "burst");
	}
	lua_pushlstring(L, in->text, in->len);
	lua_setfield(L, -2, "per");
	if (in->flags & 8)
		lua_pushlstring(L, in->text, in->len);
	else
		lua_pushstring(L, in->flags & 4 ? "pass" : "drop");
	lua_setfield(L, -2, "over");
	if (in->flags & 16) {
		lua_pushlstring(L, in->text, in->len);
		lua_setfield(L, -2, "name");
	}
}

/* Whether ctl_limit_parse_per takes the per text as a whole: it has no NUL and parses. */
static bool per_parses(const struct input *in)
{
	struct ctlua_limit l = {};
	char why[160], *text;
	bool ok;

	if (memchr(in->text, 0, in->len))
		return false;
	text = strndup(in->text, in->len);
	fz_check(text != NULL, "out of memory", "strndup");
	ok = !ctl_limit_parse_per(text, &l, why, sizeof(why));
	free(text);
	return ok;
}

/* A per text the parser takes reads back as one it takes again, unchanged. */
static void per_round_trip(const struct input *in)
{
	struct ctlua_limit l = {}, again = {};
	char text[64], why[160], back[32];

	if (in->len >= sizeof(text) || memchr(in->text, 0, in->len))
		return;
	memcpy(text, in->text, in->len);
	text[in->len] = '\0';
	if (ctl_limit_parse_per(text, &l, why, sizeof(why)))
		return;
	ctl_limit_format_per(&l, back, sizeof(back));
	fz_check(!ctl_limit_parse_per(back, &again, why, sizeof(why)),
		 "a key read back is refused", back);
	fz_check(again.per == l.per && !memcmp(again.mask4, l.mask4, sizeof(l.mask4)) &&
		 !memcmp(again.mask6, l.mask6, sizeof(l.mask6)), "a key read back differs", back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {};
	uint8_t word[16] = {};
	lua_State *L;
	int st;

	if (size < 1)
		return 0;
	in.flags = data[0];
	memcpy(word, data + 1, size - 1 < 16 ? size - 1 : 16);
	memcpy(&in.rate_i, word, 8);
	memcpy(&in.rate_f, word, 8);
	memcpy(&in.burst, word + 8, 8);
	in.text = size > 17 ? (const char *)data + 17 : "";
	in.len = size > 17 ? size - 17 : 0;
	per_round_trip(&in);

	L = fz_lua_new();
	lua_createtable(L, 0, 3);
	lua_pushliteral(L, "alloc");
	lua_setfield(L, -2, "action");
	push_limit(L, &in);
	lua_setfield(L, -2, "limit");
	st = fz_call_ct(L, "rule", 1);
	fz_check(st != LUA_OK || per_parses(&in), "ct.rule read a per the parser refuses",
		 in.text);

	lua_createtable(L, 0, 1);	/* ct.policy{rules = {{action =, limit =}}} */
	lua_createtable(L, 1, 0);
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "drop");
	lua_setfield(L, -2, "action");
	push_limit(L, &in);
	lua_setfield(L, -2, "limit");
	lua_rawseti(L, -2, 1);
	lua_setfield(L, -2, "rules");
	st = fz_call_ct(L, "policy", 1);
	fz_check(st != LUA_OK || per_parses(&in), "ct.policy read a per the parser refuses",
		 in.text);

	lua_pushlstring(L, in.text, in.len);	/* ct.limit(name, {rate =, burst =, over =}) */
	push_limit(L, &in);
	lua_pushnil(L);
	lua_setfield(L, -2, "per");
	lua_pushnil(L);
	lua_setfield(L, -2, "name");
	fz_call_ct(L, "limit", 2);
	fz_lua_close(L);
	return 0;
}

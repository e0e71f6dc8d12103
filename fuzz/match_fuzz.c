// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * match_fuzz.c - libFuzzer harness for src/match.c: every input is split into a call of
 * string.find, match, gmatch or gsub (pattern, subject, replacement, init or n), run by
 * match.c and by Lua's own string library; any difference in results or error messages
 * aborts with both outcomes printed.
 *
 * Build and run (from the top of the tree; CTL_MATCH_POLL_STEPS low so the poll limit
 * below stops a backtracking pattern early, before lstrlib would be given it):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       -DCTL_MATCH_POLL_STEPS=64 -Isrc $(pkg-config --cflags lua5.4) \
 *       fuzz/match_fuzz.c src/match.c $(pkg-config --libs lua5.4) -o build/match_fuzz
 *   mkdir -p build/corpus-match
 *   build/match_fuzz -max_total_time=300 build/corpus-match fuzz/corpus/match
 *
 * Input layout: byte 0's low 3 bits pick the call, byte 1 is init (or gsub's n; 0x80
 * means none), byte 2 the pattern's length (plus 256 times byte 0's high 5 bits, so a
 * pattern can nest past 200 levels), byte 3 the replacement's; then the pattern, the
 * replacement and, to the end, the subject. Lengths past the input's end are cut.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "match.h"

/* Polls allowed per call: past it, the call backtracks too much to give lstrlib. */
#define POLL_LIMIT 64

static lua_State *L;
static int compare_ref;
static long polls, limit = -1;

static void count_poll(lua_State *L)
{
	if (limit >= 0 && ++polls > limit) {
		lua_pushliteral(L, "match poll limit reached");
		lua_error(L);
	}
}

static int set_limit(lua_State *L)
{
	limit = luaL_optinteger(L, 1, -1);
	polls = 0;
	return 0;
}

/*
 * compare(op, s, p, r, init) returns nil when both agree (or match.c was stopped), else
 * a text with both outcomes. Errors are compared with their messages; every call is made
 * from the same line through the same upvalue, so locations and names agree.
 */
static const char compare_lua[] =
	"local orig, mine, set_limit, poll_limit = ...\n"
	"local fn\n"
	"local function call(...)\n"
	"	local r = table.pack(fn(...))\n"
	"	return r\n"
	"end\n"
	"local function show(v)\n"
	"	if type(v) == 'string' then return string.format('%q', v) end\n"
	"	if math.type(v) then return math.type(v) .. ' ' .. tostring(v) end\n"
	"	return type(v) == 'table' and 'table' or tostring(v)\n"
	"end\n"
	"local function outcome(f, gmatch, ...)\n"
	"	fn = f\n"
	"	local ok, r = pcall(call, ...)\n"
	"	if not ok then return 'error ' .. show(r) end\n"
	"	local out = {}\n"
	"	if gmatch then\n"
	"		local iter = r[1]\n"
	"		for _ = 1, 20 do\n"
	"			fn = iter\n"
	"			local iok, v = pcall(call)\n"
	"			if not iok then out[#out + 1] = 'error ' .. show(v) break end\n"
	"			if v.n == 0 or v[1] == nil then out[#out + 1] = 'end' break end\n"
	"			for i = 1, v.n do out[#out + 1] = show(v[i]) end\n"
	"			out[#out + 1] = ';'\n"
	"		end\n"
	"		return table.concat(out, ' ')\n"
	"	end\n"
	"	for i = 1, r.n do out[#out + 1] = show(r[i]) end\n"
	"	return table.concat(out, ' ')\n"
	"end\n"
	"local tbl = { a = 'A', b = false, ab = 7, x = {}, [1] = 'one', [3] = 3.5, ['\\0'] = '' }\n"
	"local function func(a, b)\n"
	"	if a == 'x' then return {} elseif b then return b elseif a == 'b' then return false end\n"
	"	return a\n"
	"end\n"
	"local names = { 'find', 'find', 'match', 'gmatch', 'gsub', 'gsub', 'gsub', 'gsub' }\n"
	"return function(op, s, p, r, init)\n"
	"	local name = names[op + 1]\n"
	"	local args\n"
	"	if op == 1 then args = table.pack(s, p, init, true)\n"
	"	elseif op <= 3 then args = table.pack(s, p, init)\n"
	"	elseif op == 4 then args = table.pack(s, p, r)\n"
	"	elseif op == 5 then args = table.pack(s, p, tbl)\n"
	"	elseif op == 6 then args = table.pack(s, p, func)\n"
	"	else args = table.pack(s, p, r, init) end\n"
	"	set_limit(poll_limit)\n"
	"	local got = outcome(mine[name], name == 'gmatch', table.unpack(args, 1, args.n))\n"
	"	set_limit()\n"
	"	if got:find('match poll limit reached', 1, true) then return nil end\n"
	"	local want = outcome(orig[name], name == 'gmatch', table.unpack(args, 1, args.n))\n"
	"	if got == want then return nil end\n"
	"	local shown = {}\n"
	"	for i = 1, args.n do shown[i] = show(args[i]) end\n"
	"	return ('string.%s(%s)\\n  match.c: %s\\n  lstrlib: %s'):format(name,\n"
	"		table.concat(shown, ', '), got, want)\n"
	"end\n";

static void setup(void)
{
	static const char *const names[] = { "find", "match", "gmatch", "gsub" };

	L = luaL_newstate();
	luaL_openlibs(L);
	if (luaL_loadbuffer(L, compare_lua, sizeof(compare_lua) - 1, "=compare"))
		goto fail;
	/* the original functions, then ours, as the chunk's two tables */
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			ctl_open_string_match(L, count_poll);
		lua_newtable(L);
		lua_getglobal(L, "string");
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			lua_getfield(L, -1, names[i]);
			lua_setfield(L, -3, names[i]);
		}
		lua_pop(L, 1);
	}
	lua_pushcfunction(L, set_limit);
	lua_pushinteger(L, POLL_LIMIT);
	if (lua_pcall(L, 4, 1, 0))
		goto fail;
	compare_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return;
fail:
	fprintf(stderr, "match_fuzz: %s\n", lua_tostring(L, -1));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long runs;
	size_t lp, lr;
	const char *in = (const char *)data;

	if (!L)
		setup();
	if (size < 4)
		return 0;
	lp = data[2] | (size_t)(data[0] >> 3) << 8;
	lr = data[3];
	in += 4;
	size -= 4;
	if (lp > size)
		lp = size;
	if (lr > size - lp)
		lr = size - lp;

	lua_rawgeti(L, LUA_REGISTRYINDEX, compare_ref);
	lua_pushinteger(L, data[0] % 8);
	lua_pushlstring(L, in + lp + lr, size - lp - lr);	/* subject */
	lua_pushlstring(L, in, lp);				/* pattern */
	lua_pushlstring(L, in + lp, lr);			/* replacement */
	if (data[1] == 0x80)
		lua_pushnil(L);
	else
		lua_pushinteger(L, (int8_t)data[1]);
	if (lua_pcall(L, 5, 1, 0)) {
		fprintf(stderr, "match_fuzz: compare failed: %s\n", lua_tostring(L, -1));
		abort();
	}
	if (lua_isstring(L, -1)) {
		fprintf(stderr, "match_fuzz: match.c and lstrlib differ:\n%s\n", lua_tostring(L, -1));
		abort();
	}
	lua_pop(L, 1);
	if (++runs % 4096 == 0)
		lua_gc(L, LUA_GCCOLLECT);
	return 0;
}

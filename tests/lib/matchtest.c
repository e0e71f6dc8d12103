// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * matchtest.c - a Lua C module for tests/15-match.t, built as build/matchtest.so: it puts
 * src/match.c's string functions in place with a poll function that counts its calls and
 * raises an error after a limit, so a test can stop a match and see how often it polled.
 *
 *   local m = package.loadlib("build/matchtest.so", "luaopen_matchtest")()
 *   local orig = m.originals()  -- lstrlib's find, match, gmatch, gsub
 *   m.install()           -- string.find etc. are now match.c's
 *   m.limit(3)            -- the 4th poll raises "match poll limit reached"; nil: none
 *   m.polls()             -- polls since the last m.limit
 */
#include <lauxlib.h>
#include <lualib.h>
#include "match.h"

static long polls, limit = -1;

static void count_poll(lua_State *L)
{
	polls++;
	if (limit >= 0 && polls > limit) {
		lua_pushliteral(L, "match poll limit reached");	/* no location: C has none */
		lua_error(L);
	}
}

/*
 * Lua's own string library, from a fresh luaopen_string: ctlua's sandbox has already put
 * match.c's functions in the global `string`. luaopen_string also gives strings a new
 * metatable; the old one is put back. Stack: +1 (the library's table).
 */
static int originals(lua_State *L)
{
	lua_pushliteral(L, "");
	if (!lua_getmetatable(L, -1))
		lua_pushnil(L);
	luaopen_string(L);
	lua_pushvalue(L, -3);
	lua_pushvalue(L, -3);
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
	return 1;
}

static int install(lua_State *L)
{
	ctl_open_string_match(L, count_poll);
	return 0;
}

static int set_limit(lua_State *L)
{
	limit = luaL_optinteger(L, 1, -1);
	polls = 0;
	return 0;
}

static int get_polls(lua_State *L)
{
	lua_pushinteger(L, polls);
	return 1;
}

/* The module table. Stack: +1. */
int luaopen_matchtest(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "originals", originals },
		{ "install", install },
		{ "limit", set_limit },
		{ "polls", get_polls },
		{ NULL, NULL },
	};

	luaL_newlib(L, funcs);
	return 1;
}

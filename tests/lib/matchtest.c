// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * matchtest.c - a Lua C module for tests/15-match.t, built as build/matchtest.so: it puts
 * src/match.c's string functions in place with a poll function that counts its calls and
 * raises an error after a limit, so a test can stop a match and see how often it polled.
 *
 *   local m = package.loadlib("build/matchtest.so", "luaopen_matchtest")()
 *   m.install()           -- string.find etc. are now match.c's
 *   m.limit(3)            -- the 4th poll raises "match poll limit reached"; nil: none
 *   m.polls()             -- polls since the last m.limit
 */
#include <lauxlib.h>
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
		{ "install", install },
		{ "limit", set_limit },
		{ "polls", get_polls },
		{ NULL, NULL },
	};

	luaL_newlib(L, funcs);
	return 1;
}

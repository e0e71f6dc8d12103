// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * args_fuzz.c - libFuzzer harness for the argument checking of the `ct` functions that
 * take option tables (tuples, rules, opts, request params, event lists), through a Lua
 * state whose datapath never loads (fuzz.h), so a call that passes its checks fails
 * with ENOSYS instead of touching the kernel.
 *
 * Input, as text: the name of a `ct` function on the first line, then a Lua expression
 * list on the rest, e.g.
 *
 *     rule
 *     {src = "198.18.0.0/15", dport = {1, 1024}, action = "alloc", timeout = 0/0}
 *
 * The list is loaded as text ("return " .. rest, never bytecode) in an empty
 * environment with no standard library, so it can build values (tables with holes,
 * NaN, 2^63, strings with NULs, nested tables) but reach nothing; an instruction limit
 * and a memory cap bound what it builds. The values are then passed to the function.
 * Only the functions listed below are called: none of them can attach or open
 * anything, and ct.conntrack, ct.run, ct.poll, ct.watch and ct.attach are never named.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "fuzz.h"

static const char *const callable[] = {
	"tuple", "rule", "unrule", "rules", "default", "events", "mode", "verdict",
	"forget", "alloc", "lookup", "change", "alloc_many", "explain", "budget", NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char name[16], *chunk;
	size_t len, rest;
	lua_State *L;
	int i, base;

	if (!nl || (len = (size_t)(nl - data)) >= sizeof(name))
		return -1;
	memcpy(name, data, len);
	name[len] = '\0';
	for (i = 0; callable[i] && strcmp(callable[i], name); i++)
		;
	if (!callable[i])
		return -1;

	rest = size - len - 1;
	chunk = malloc(rest + 7);
	fz_check(chunk != NULL, "out of memory", NULL);
	memcpy(chunk, "return ", 7);
	memcpy(chunk + 7, nl + 1, rest);

	L = fz_lua_new();
	base = lua_gettop(L);
	if (luaL_loadbufferx(L, chunk, rest + 7, "=fuzz", "t") == LUA_OK) {
		lua_newtable(L);	/* the chunk's _ENV: nothing to reach */
		lua_setupvalue(L, -2, 1);
		if (lua_pcall(L, 0, LUA_MULTRET, 0) == LUA_OK &&
		    lua_checkstack(L, 8))
			fz_call_ct(L, callable[i], lua_gettop(L) - base);
	}
	fz_lua_close(L);
	free(chunk);
	return 0;
}

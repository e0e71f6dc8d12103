// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_library.c - preloads the Lua half of ctlua: package.preload["ctlua.NAME"] for each
 * lua/NAME.lua the build embedded (build/lua_library_text.c). Installed copies of the same
 * files serve stock lua5.4 with ct.so.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_library.h"

/* package.preload's loader for the module at upvalue 1: require passes the module name. */
static int load_module(lua_State *L)
{
	const struct ctl_lua_module *m = lua_touserdata(L, lua_upvalueindex(1));
	char chunkname[128];

	snprintf(chunkname, sizeof(chunkname), "@%s", m->path);
	if (luaL_loadbufferx(L, m->text, strlen(m->text), chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, 1);		/* the chunk gets the module name, as from a file */
	lua_pushstring(L, m->path);	/* and where it came from */
	lua_call(L, 2, 1);
	return 1;
}

void ctl_open_library(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (const struct ctl_lua_module *m = ctl_lua_modules; m->name; m++) {
		lua_pushfstring(L, "ctlua.%s", m->name);
		lua_pushlightuserdata(L, (void *)m);
		lua_pushcclosure(L, load_module, 1);
		lua_settable(L, -3);
	}
	lua_pop(L, 1);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lua_library.h - the Lua half of ctlua (the files lua/NAME.lua), built into the ctlua command and
 * preloaded as the modules ctlua.NAME.
 */
#ifndef CTLUA_LUA_LIBRARY_H
#define CTLUA_LUA_LIBRARY_H

#include <lua.h>

/* One file of lua/: its module name (NAME in ctlua.NAME), where it came from, its text. */
struct ctl_lua_module {
	const char *name;
	const char *path;
	const char *text;
};

/* Every file of lua/, as the build found them, ended by an entry whose name is NULL. */
extern const struct ctl_lua_module ctl_lua_modules[];

/*
 * Make `require "ctlua.NAME"` in @L load the built-in lua/NAME.lua (ahead of any file of
 * that name on package.path, so the command and its library always match). Loading is
 * text only, and errors name lua/NAME.lua and its line. Stack: unchanged.
 */
void ctl_open_library(lua_State *L);

#endif

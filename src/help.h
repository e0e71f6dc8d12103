/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * help.h - help(), the Lua API reference at the prompt. The texts are the "## " sections
 * of doc/api.md, turned into build/help_text.c by scripts/gen-help.awk.
 */
#ifndef CTLUA_HELP_H
#define CTLUA_HELP_H

#include <stdbool.h>
#include <lua.h>

/* One "## " section of doc/api.md, or one "### " of its Concepts. */
struct ctl_help_topic {
	const char *name;	/* what help "name" finds: "ct.alloc", "help", "conventions" */
	const char *signature;	/* the heading without backticks (UTF-8) */
	const char *body;	/* the section for a terminal, example included; lines end in \n */
	bool function;		/* a function's section, not a topic such as "conventions" */
	bool concept;		/* a "### " of the Concepts section: "status", "opts" */
};

/* In the order of doc/api.md; generated (build/help_text.c). */
extern const struct ctl_help_topic ctl_help_topics[];
extern const unsigned int ctl_help_ntopics;

/*
 * Push the name of the function at @idx: "help", or "ct.<key>" for the field of
 * package.loaded.ct that holds it (looked up now, as the module is now). Returns
 * whether it has one; pushes nothing when it has not.
 */
bool ctl_push_function_name(lua_State *L, int idx);

/*
 * In a message handler, with the error message at @msg: a "bad argument #N to 'rule'"
 * raised by a function of the ct module names it as the user wrote it, 'ct.rule'. Lua
 * names a function by the field the calling code read ('rule' for ct.rule{...}), so
 * every script and the shell would otherwise see the short name. The function at
 * level 1 is the one that raised. Replaces the message in place when it applies.
 */
void ctl_qualify_error(lua_State *L, int msg);

/*
 * Define the global function `help` in @L: a convenience of ctlua's own (the module
 * creates no globals). Call it after `ct` is in package.loaded, as luaL_requiref leaves
 * it; help(fn) finds a function's name there at call time. Stack unchanged.
 */
void ctl_open_help(lua_State *L);

/*
 * The same function for stock Lua, from ct.so: local help = require "ct.help" (Lua's
 * all-in-one loader finds luaopen_ct_help in ct.so). Pushes it; returns 1.
 */
int luaopen_ct_help(lua_State *L);

#endif

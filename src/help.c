// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * help.c - help(), the Lua API reference at the prompt: the list of signatures, or one
 * function's or topic's section of doc/api.md as build/help_text.c holds it.
 */
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "help.h"

static int l_help(lua_State *L);

static const struct ctl_help_topic *find(const char *name)
{
	for (unsigned int i = 0; i < ctl_help_ntopics; i++)
		if (strcmp(ctl_help_topics[i].name, name) == 0)
			return &ctl_help_topics[i];
	return NULL;
}

/* @name as doc/api.md spells it, or without the "ct." in front ("alloc"). */
static const struct ctl_help_topic *find_loose(const char *name)
{
	const struct ctl_help_topic *t = find(name);
	char full[64];

	if (!t && strncmp(name, "ct.", 3) != 0 &&
	    snprintf(full, sizeof(full), "ct.%s", name) < (int)sizeof(full))
		t = find(full);
	return t;
}

bool ctl_push_function_name(lua_State *L, int idx)
{
	int top = lua_gettop(L);

	idx = lua_absindex(L, idx);
	if (lua_tocfunction(L, idx) == l_help) {
		lua_pushliteral(L, "help");
		return true;
	}
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "ct") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			/* lua_tostring on a number key would confuse lua_next: strings only */
			if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, idx)) {
				lua_pushfstring(L, "ct.%s", lua_tostring(L, -2));
				lua_replace(L, top + 1);
				lua_settop(L, top + 1);
				return true;
			}
			lua_pop(L, 1);
		}
	}
	lua_settop(L, top);
	return false;
}

void ctl_qualify_error(lua_State *L, int msg)
{
	const char *text, *p, *q;
	lua_Debug ar;

	if (lua_type(L, msg) != LUA_TSTRING)	/* error(42) stays a number */
		return;
	text = lua_tostring(L, msg);
	if (!text || !(p = strstr(text, "bad argument #")) || !(p = strstr(p, " to '")) ||
	    !(q = strchr(p += 5, '\'')))
		return;
	if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "f", &ar))
		return;
	if (lua_iscfunction(L, -1) && ctl_push_function_name(L, -1)) {
		lua_pushlstring(L, text, (size_t)(p - text));
		lua_insert(L, -2);
		lua_pushstring(L, q);
		lua_concat(L, 3);
		lua_replace(L, msg);
	}
	lua_pop(L, 1);
}

/* The list help() prints, in the order of doc/api.md, topics where their sections are. */
static void push_list(lua_State *L)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	luaL_addstring(&b, "The ct module (its reference is doc/api.md):\n\n");
	for (unsigned int i = 0; i < ctl_help_ntopics; i++) {
		const struct ctl_help_topic *t = &ctl_help_topics[i];

		luaL_addstring(&b, t->concept ? "    " : "  ");	/* under Concepts */
		luaL_addstring(&b, t->signature);
		if (!t->function) {
			luaL_addstring(&b, ": help \"");
			luaL_addstring(&b, t->name);
			luaL_addchar(&b, '"');
		}
		luaL_addchar(&b, '\n');
	}
	luaL_addstring(&b, "\nhelp(ct.alloc) or help \"ct.alloc\" shows one function: its signature, "
			   "description and an example; help \"status\" explains a concept.\n");
	luaL_pushresult(&b);
}

static void push_topic(lua_State *L, const struct ctl_help_topic *t)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	luaL_addstring(&b, t->signature);
	luaL_addstring(&b, "\n\n");
	luaL_addstring(&b, t->body);
	luaL_pushresult(&b);
}

/*
 * Write the string on top and pop it, through io.write as it is at this moment, so a
 * host that redirects io.write or io.output() gets the text. Without the io library,
 * to stdout.
 */
static void write_out(lua_State *L)
{
	int text = lua_gettop(L);

	if (lua_getglobal(L, "io") == LUA_TTABLE &&
	    lua_getfield(L, -1, "write") == LUA_TFUNCTION) {
		lua_pushvalue(L, text);
		lua_call(L, 1, 0);	/* its nil, msg on a write error is not ours to raise */
	} else {
		size_t len;
		const char *s = lua_tolstring(L, text, &len);

		fwrite(s, 1, len, stdout);
		fflush(stdout);
	}
	lua_settop(L, text - 1);
}

/*
 * help([function | "name"]) -> nothing | nil, "no help for 'x' (help() lists what there is)"
 * Prints the list, or the section of a function (by value or name) or topic.
 */
static int l_help(lua_State *L)
{
	const struct ctl_help_topic *t;

	lua_settop(L, 1);
	switch (lua_type(L, 1)) {
	case LUA_TNIL:
		push_list(L);
		write_out(L);
		return 0;
	case LUA_TFUNCTION:
		/* at 2: its name, or what tostring says of a function that has none */
		if (!ctl_push_function_name(L, 1))
			luaL_tolstring(L, 1, NULL);
		t = find(lua_tostring(L, 2));
		break;
	case LUA_TSTRING:
		lua_pushvalue(L, 1);
		t = find_loose(lua_tostring(L, 2));
		break;
	default:
		return luaL_typeerror(L, 1, "function or string");
	}
	if (!t) {
		luaL_pushfail(L);
		lua_pushfstring(L, "no help for '%s' (help() lists what there is)", lua_tostring(L, 2));
		return 2;
	}
	push_topic(L, t);
	write_out(L);
	return 0;
}

void ctl_open_help(lua_State *L)
{
	lua_pushcfunction(L, l_help);
	lua_setglobal(L, "help");
}

int luaopen_ct_help(lua_State *L)
{
	lua_pushcfunction(L, l_help);
	return 1;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_push.c - the Lua forms of the small records ctlua answers with: a status as a list
 * of names, a verdict's opts as table fields. (Entries are lua_entry.c's, tuples
 * lua_tuple.c's.)
 */
#include "lua_ct.h"
#include "names.h"

void ctl_push_status(lua_State *L, __u32 status)
{
	int n = 0;

	lua_newtable(L);
	for (int i = 0; i < 32; i++) {
		const char *name = ctl_status_bit_name(status & (1u << i));

		if (name) {
			lua_pushstring(L, name);
			lua_rawseti(L, -2, ++n);
		}
	}
}

void ctl_push_opts_fields(lua_State *L, const struct ctlua_opts *o)
{
	if (o->flags & CTLUA_OPT_TIMEOUT) {
		lua_pushinteger(L, o->timeout_ms);
		lua_setfield(L, -2, "timeout");
	}
	if (o->flags & CTLUA_OPT_MARK) {
		lua_pushinteger(L, o->mark);
		lua_setfield(L, -2, "mark");
	}
	if (o->flags & CTLUA_OPT_STATUS) {
		ctl_push_status(L, o->status);
		lua_setfield(L, -2, "status");
	}
}

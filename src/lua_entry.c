// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_entry.c - ctlua's records (events, conntrack entries) as Lua tables, made from
 * their field tables (fields.h), so a record reads the same whoever produced it; and
 * filters on them (ct.watch), checked against the same tables.
 */
#include "addr.h"
#include "fields.h"
#include "lua_ct.h"
#include "pretty.h"

void ctl_push_value(lua_State *L, enum ctl_field_type type, const struct ctl_value *v)
{
	char buf[CTL_ADDR_STRLEN];

	switch (type) {
	case CTL_FT_STRING:
		lua_pushstring(L, v->s);
		break;
	case CTL_FT_INT:
		lua_pushinteger(L, (lua_Integer)v->i);
		break;
	case CTL_FT_NUMBER:
		lua_pushnumber(L, v->n);
		break;
	case CTL_FT_PROTO:
		if (v->s)
			lua_pushstring(L, v->s);
		else
			lua_pushinteger(L, (lua_Integer)v->i);
		break;
	case CTL_FT_TUPLE:
		ctl_push_tuple(L, v->flow);
		break;
	case CTL_FT_STATUS:
		ctl_push_status(L, (__u32)v->i);
		break;
	case CTL_FT_NAT:
		lua_createtable(L, 0, 2);
		lua_pushstring(L, ctl_addr_format(v->nat.family, v->nat.addr, buf));
		lua_setfield(L, -2, "addr");
		lua_pushinteger(L, v->nat.port);
		lua_setfield(L, -2, "port");
		break;
	}
}

void ctl_push_record(lua_State *L, const struct ctl_record *r, const void *rec,
		     const void *ctx, const char *mt)
{
	struct ctl_value v;

	lua_createtable(L, 0, (int)r->nfields);
	if (mt)
		ctl_set_record_mt(L, mt);
	for (unsigned int i = 0; i < r->nfields; i++) {
		const struct ctl_field *f = &r->fields[i];

		if (!ctl_field_get(f, rec, ctx, &v))
			continue;
		ctl_push_value(L, f->type, &v);
		lua_setfield(L, -2, f->name);
	}
}

void ctl_check_record_filter(lua_State *L, int arg, const struct ctl_record *r)
{
	const char *names[32];
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nfields && n < 31; i++)
		if (r->fields[i].flags & CTL_FIELD_FILTER)
			names[n++] = r->fields[i].name;
	names[n] = NULL;
	ctl_check_keys(L, arg, arg, names);
	/* values are compared as they are: "53" would never equal a port */
	lua_pushnil(L);
	while (lua_next(L, arg)) {
		size_t len;
		const char *k = lua_tolstring(L, -2, &len);
		enum ctl_field_type type = ctl_record_field(r, k, len)->type;
		int want = type == CTL_FT_INT || (type == CTL_FT_PROTO && lua_type(L, -1) ==
						  LUA_TNUMBER) ? LUA_TNUMBER : LUA_TSTRING;

		if (lua_type(L, -1) != want || (want == LUA_TNUMBER && !lua_isinteger(L, -1)))
			luaL_argerror(L, arg, lua_pushfstring(L, "field '%s': %s expected, got %s",
				      k, want == LUA_TNUMBER ? "an integer" : "a string",
				      luaL_typename(L, -1)));
		lua_pop(L, 1);
	}
}

void ctl_push_entry(lua_State *L, const struct ctl_entry *e)
{
	ctl_push_record(L, &ctl_entry_record, e, NULL, CTL_ENTRY_MT);
}

void ctl_set_record_mt(lua_State *L, const char *name)
{
	if (luaL_newmetatable(L, name)) {
		lua_pushcfunction(L, ctl_pretty_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
}

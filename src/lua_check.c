// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_check.c - how the `ct` module reports misuse (raise, naming the argument and
 * field) and failures of the system (return nil, "ENAME: ...", errno).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "lua_ct.h"
#include "netns.h"
#include "names.h"

int ctl_fail(lua_State *L, int err, const char *fmt, ...)
{
	char name[16], text[512];
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", ctl_errno_name(err, name, sizeof(name)), text);
	lua_pushinteger(L, err);
	return 3;
}

int ctl_arg_item;

int ctl_arg_error(lua_State *L, int arg, const char *fmt, ...)
{
	char text[256];
	int n = 0;
	va_list ap;

	if (ctl_arg_item) {
		n = snprintf(text, sizeof(text), "item %d: ", ctl_arg_item);
		ctl_arg_item = 0;
	}
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - n, fmt, ap);
	va_end(ap);
	if (arg > 0)
		return luaL_argerror(L, arg, text);
	return luaL_error(L, "%s", text);
}

void ctl_check_keys(lua_State *L, int idx, int arg, const char *const allowed[])
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

		if (!key) {
			const char *k = luaL_tolstring(L, -2, NULL);	/* pushes: value at -2 */
			const char *v = luaL_tolstring(L, -2, NULL);

			ctl_arg_error(L, arg, "unexpected value %s at [%s]: give fields by name", v, k);
		} else if (ctl_name_index(allowed, key) < 0) {
			luaL_Buffer b;

			luaL_buffinit(L, &b);
			for (int i = 0; allowed[i]; i++) {
				luaL_addstring(&b, i ? ", " : "");
				luaL_addstring(&b, allowed[i]);
			}
			luaL_pushresult(&b);
			ctl_arg_error(L, arg, "unknown field '%s' (known: %s)", key,
				      lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
}

bool ctl_field_int(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
		   lua_Integer max, lua_Integer *out)
{
	lua_Integer v;
	int isint;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return false;
	}
	v = lua_tointegerx(L, -1, &isint);
	if (!isint || lua_type(L, -1) == LUA_TSTRING)
		ctl_arg_error(L, arg, "field '%s': expected an integer, got %s", field,
			      lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
	if (v < min || v > max)
		ctl_arg_error(L, arg, "field '%s': %lld is out of range %lld to %lld", field,
			      (long long)v, (long long)min, (long long)max);
	lua_pop(L, 1);
	*out = v;
	return true;
}

const char *ctl_field_str(lua_State *L, int idx, int arg, const char *field)
{
	const char *s;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		ctl_arg_error(L, arg, "field '%s': expected a string, got %s", field,
			      luaL_typename(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);	/* still referenced by the table */
	return s;
}

int ctl_field_option(lua_State *L, int idx, int arg, const char *field, const char *const names[],
		     int dflt)
{
	const char *s = ctl_field_str(L, idx, arg, field);
	int i;

	if (!s)
		return dflt;
	if ((i = ctl_name_index(names, s)) < 0)
		return ctl_arg_error(L, arg, "field '%s': invalid option '%s'", field, s);
	return i;
}

/* Push and return "seen_reply, assured, ..." (KERNEL.md section 4: all BPF may set). */
static const char *settable_list(lua_State *L)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 0; ctl_status_names[i]; i++) {
		luaL_addstring(&b, i ? ", " : "");
		luaL_addstring(&b, ctl_status_names[i]);
	}
	luaL_pushresult(&b);
	return lua_tostring(L, -1);
}

int ctl_rawfield(lua_State *L, int idx, const char *k)
{
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx)) {
		lua_pushnil(L);
		return LUA_TNIL;
	}
	lua_pushstring(L, k);
	return lua_rawget(L, idx);
}

int ctl_field_proto(lua_State *L, int idx, int arg, const char *field)
{
	lua_Integer n;
	const char *name;
	int type = lua_getfield(L, idx, field), proto;

	lua_pop(L, 1);
	if (type == LUA_TNIL)
		return -1;
	if (type == LUA_TNUMBER) {
		ctl_field_int(L, idx, arg, field, 0, 255, &n);
		return (int)n;
	}
	name = ctl_field_str(L, idx, arg, field);
	proto = ctl_proto_parse(name);
	if (proto < 0)
		ctl_arg_error(L, arg, "field '%s': '%s' is not \"tcp\", \"udp\" or a number", field,
			      name);
	return proto;
}

const char *ctl_field_netns(lua_State *L, int idx, int arg, const char *field)
{
	const char *name = ctl_field_str(L, idx, arg, field);

	/* it becomes /run/netns/NAME: misuse is raised here, before anything is opened */
	if (name && !ctl_netns_name_ok(name))
		ctl_arg_error(L, arg, "field '%s': '%s' is not a namespace name (ip netns list "
			      "shows them)", field, name);
	return name;
}

int ctl_field_prefix(lua_State *L, int idx, int arg, const char *field, __be32 addr[4],
		     __be32 mask[4])
{
	const char *text = ctl_field_str(L, idx, arg, field);
	const char *why;
	int family;

	memset(addr, 0, 16);
	memset(mask, 0, 16);
	if (!text)
		return 0;
	family = ctl_prefix_parse(text, addr, mask, &why);
	if (!family)
		ctl_arg_error(L, arg, "field '%s': '%s': %s", field, text, why);
	return family;
}

/*
 * status = {"assured", ...} or a number of IPS_* bits. Only settable bits are accepted,
 * unless @raw: then a number reaches the kernel as given, for experiments.
 */
static __u32 check_status(lua_State *L, int idx, int arg, bool raw)
{
	__u32 bits = 0, settable = 0;
	lua_Integer n;

	for (int i = 0; ctl_status_names[i]; i++)
		settable |= ctl_status_bit(ctl_status_names[i]);
	lua_getfield(L, idx, "status");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		lua_pop(L, 1);
		ctl_field_int(L, idx, arg, "status", 0, 0xffffffff, &n);
		if (!raw && ((__u32)n & ~settable))
			ctl_arg_error(L, arg, "field 'status': bits 0x%x cannot be set from BPF "
				      "(settable: %s)", (__u32)n & ~settable, settable_list(L));
		return (__u32)n;
	}
	if (!lua_istable(L, -1))
		ctl_arg_error(L, arg, "field 'status': expected a list of names or a number, got %s",
			      luaL_typename(L, -1));
	for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
		const char *name = lua_tostring(L, -1);
		__u32 bit = name && lua_type(L, -1) == LUA_TSTRING ? ctl_status_bit(name) : 0;

		if (!bit)
			ctl_arg_error(L, arg, "field 'status': '%s' is not a status BPF can set "
				      "(%s)", name ? name : luaL_typename(L, -1), settable_list(L));
		bits |= bit;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return bits;
}

void ctl_check_opts(lua_State *L, int idx, int arg, bool raw_status, struct ctlua_opts *o)
{
	lua_Integer n;

	memset(o, 0, sizeof(*o));
	idx = lua_absindex(L, idx);
	if (ctl_field_int(L, idx, arg, "timeout", 0, 0xffffffff, &n)) {
		o->timeout_ms = (__u32)n;
		o->flags |= CTLUA_OPT_TIMEOUT;
	}
	if (ctl_field_int(L, idx, arg, "mark", 0, 0xffffffff, &n)) {
		o->mark = (__u32)n;
		o->flags |= CTLUA_OPT_MARK;
	}
	if (lua_getfield(L, idx, "status") != LUA_TNIL) {
		o->status = check_status(L, idx, arg, raw_status);
		o->flags |= CTLUA_OPT_STATUS;
	}
	lua_pop(L, 1);
}

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

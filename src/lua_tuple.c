// SPDX-License-Identifier: GPL-2.0-or-later
/* lua_tuple.c - ct.tuple: a flow's five fields as an immutable Lua value. */
#include <arpa/inet.h>
#include <string.h>
#include "addr.h"
#include "lua_ct.h"
#include "names.h"

static const char *const tuple_keys[] = { "src", "dst", "sport", "dport", "proto", NULL };
/* What a tuple shows: its five fields and two derived ones (tuple_index). */
const char *const ctl_tuple_fields[] = { "src", "dst", "sport", "dport", "proto", "family",
					 "reply", NULL };

static int check_addr(lua_State *L, int idx, int arg, const char *field, __be32 addr[4])
{
	const char *text = ctl_field_str(L, idx, arg, field);
	int family;

	if (!text)
		return ctl_arg_error(L, arg, "field '%s': missing (an IPv4 or IPv6 address)", field);
	family = ctl_addr_parse(text, addr);
	if (!family)
		return ctl_arg_error(L, arg, "field '%s': '%s' is not an IPv4 or IPv6 address",
				     field, text);
	return family;
}

static __be16 check_port(lua_State *L, int idx, int arg, const char *field)
{
	lua_Integer port;

	if (!ctl_field_int(L, idx, arg, field, 0, 65535, &port))
		ctl_arg_error(L, arg, "field '%s': missing (a port, 0 to 65535)", field);
	return htons((uint16_t)port);
}

/* proto = "tcp" | "udp" | a protocol number (others reach the kernel for experiments). */
static __u8 check_proto(lua_State *L, int idx, int arg)
{
	int proto = ctl_field_proto(L, idx, arg, "proto");

	if (proto < 0)
		ctl_arg_error(L, arg, "field 'proto': missing (\"tcp\", \"udp\" or a number)");
	return (__u8)proto;
}

void ctl_check_flow_at(lua_State *L, int idx, int arg, struct ctlua_flow *f)
{
	struct ctlua_flow *ud = ctl_testobject(L, idx, CTL_TUPLE_MT, sizeof(*ud));
	int sfam, dfam;

	if (ud) {
		*f = *ud;
		return;
	}
	if (!lua_istable(L, idx))
		ctl_arg_error(L, arg, "tuple or table expected, got %s", luaL_typename(L, idx));
	memset(f, 0, sizeof(*f));
	ctl_check_keys(L, idx, arg, tuple_keys);
	sfam = check_addr(L, idx, arg, "src", f->saddr);
	dfam = check_addr(L, idx, arg, "dst", f->daddr);
	if (sfam != dfam)
		ctl_arg_error(L, arg, "'src' and 'dst' are of different address families");
	f->family = (__u8)sfam;
	f->sport = check_port(L, idx, arg, "sport");
	f->dport = check_port(L, idx, arg, "dport");
	f->proto = check_proto(L, idx, arg);
}

/*
 * Batches (ct.alloc_many): the same checks, made cheap for the common case of a plain
 * table with the five fields. Field names are compared as the interned strings they
 * are, and an address or protocol string equal (same object) to the previous item's
 * is not parsed again; while the list holds every item, no string can move. Anything
 * unusual goes through ctl_check_flow_at, which raises the right error.
 */
void ctl_flow_batch_begin(lua_State *L, struct ctl_flow_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->keys = lua_gettop(L) + 1;
	for (int i = 0; tuple_keys[i]; i++)
		lua_pushstring(L, tuple_keys[i]);
}

void ctl_flow_batch_end(lua_State *L, struct ctl_flow_batch *b)
{
	lua_settop(L, b->keys - 1);
}

/* t[key #k] by raw access; pushes it and returns its type. */
static int batch_field(lua_State *L, const struct ctl_flow_batch *b, int idx, int k)
{
	lua_pushvalue(L, b->keys + k);
	return lua_rawget(L, idx);
}

/* The address string on top, through the cache of the last one; 0 if it is none. */
static int batch_addr(lua_State *L, const char **last, __be32 cached[4], int *family,
		      __be32 addr[4])
{
	size_t len;
	const char *text = lua_tolstring(L, -1, &len);

	if (text != *last) {
		/* "1.2.3.4\0/8" is no address: the slow path says so */
		*family = strlen(text) == len ? ctl_addr_parse(text, cached) : 0;
		*last = *family ? text : NULL;
	}
	memcpy(addr, cached, 16);
	return *family;
}

static bool batch_port(lua_State *L, __be16 *port)
{
	lua_Integer n;

	if (!lua_isinteger(L, -1) || (n = lua_tointeger(L, -1)) < 0 || n > 65535)
		return false;
	*port = htons((uint16_t)n);
	return true;
}

static bool batch_fast(lua_State *L, struct ctl_flow_batch *b, int idx, struct ctlua_flow *f)
{
	int top = lua_gettop(L), keys = 0, proto = -1;
	bool good;

	memset(f, 0, sizeof(*f));
	good = batch_field(L, b, idx, 0) == LUA_TSTRING &&
	       batch_addr(L, &b->src_text, b->src, &b->src_family, f->saddr) &&
	       batch_field(L, b, idx, 1) == LUA_TSTRING &&
	       batch_addr(L, &b->dst_text, b->dst, &b->dst_family, f->daddr) &&
	       b->src_family == b->dst_family &&
	       batch_field(L, b, idx, 2) == LUA_TNUMBER && batch_port(L, &f->sport) &&
	       batch_field(L, b, idx, 3) == LUA_TNUMBER && batch_port(L, &f->dport);
	if (good) {
		int type = batch_field(L, b, idx, 4);

		if (type == LUA_TSTRING) {
			size_t len;
			const char *name = lua_tolstring(L, -1, &len);

			if (name != b->proto_text) {
				b->proto = strlen(name) == len ? ctl_proto_parse(name) : -1;
				b->proto_text = b->proto < 0 ? NULL : name;
			}
			proto = b->proto;
		} else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 &&
			   lua_tointeger(L, -1) <= 255) {
			proto = (int)lua_tointeger(L, -1);
		}
		good = proto >= 0;
	}
	lua_settop(L, top);
	if (!good)
		return false;
	/* exactly the five fields: anything else is misuse the slow path names */
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		keys++;
	}
	if (keys != 5)
		return false;
	f->family = (__u8)b->src_family;
	f->proto = (__u8)proto;
	return true;
}

/* ctl_check_item's check: the flow at @idx into @ud, raising plain text on misuse. */
static void check_item_flow(lua_State *L, int idx, void *ud)
{
	ctl_check_flow_at(L, idx, 0, ud);
}

void ctl_flow_batch_read(lua_State *L, struct ctl_flow_batch *b, int idx, int arg,
			 lua_Integer item, struct ctlua_flow *f)
{
	struct ctlua_flow *ud;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TTABLE && batch_fast(L, b, idx, f))
		return;
	if ((ud = ctl_testobject(L, idx, CTL_TUPLE_MT, sizeof(*ud)))) {
		*f = *ud;
		return;
	}
	ctl_check_item(L, idx, arg, item, check_item_flow, f);
}

void ctl_check_flow(lua_State *L, int arg, struct ctlua_flow *f)
{
	ctl_check_flow_at(L, arg, arg, f);
}

void ctl_push_tuple(lua_State *L, const struct ctlua_flow *f)
{
	struct ctlua_flow *ud = lua_newuserdatauv(L, sizeof(*ud), 0);

	*ud = *f;
	luaL_setmetatable(L, CTL_TUPLE_MT);
}

/* ct.tuple{src=, dst=, sport=, dport=, proto=} -> tuple */
static int l_tuple(lua_State *L)
{
	struct ctlua_flow f;

	luaL_checktype(L, 1, LUA_TTABLE);
	ctl_check_flow(L, 1, &f);
	ctl_push_tuple(L, &f);
	return 1;
}

static int tuple_index(lua_State *L)
{
	const struct ctlua_flow *f = ctl_checkobject(L, 1, CTL_TUPLE_MT, sizeof(*f));
	size_t len;
	const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
	char buf[CTL_ADDR_STRLEN];

	if (!key || strlen(key) != len)	/* t[1], t["src\0x"]: no such field */
		lua_pushnil(L);
	else if (!strcmp(key, "src"))
		lua_pushstring(L, ctl_addr_format(f->family, f->saddr, buf));
	else if (!strcmp(key, "dst"))
		lua_pushstring(L, ctl_addr_format(f->family, f->daddr, buf));
	else if (!strcmp(key, "sport"))
		lua_pushinteger(L, ntohs(f->sport));
	else if (!strcmp(key, "dport"))
		lua_pushinteger(L, ntohs(f->dport));
	else if (!strcmp(key, "proto")) {
		const char *name = ctl_proto_name(f->proto);

		if (name)
			lua_pushstring(L, name);
		else
			lua_pushinteger(L, f->proto);
	} else if (!strcmp(key, "family"))
		lua_pushstring(L, f->family == CTLUA_AF_INET6 ? "ipv6" : "ipv4");
	else if (!strcmp(key, "reply")) {
		struct ctlua_flow r = *f;	/* the reply tuple alloc builds: a swap */

		memcpy(r.saddr, f->daddr, sizeof(r.saddr));
		memcpy(r.daddr, f->saddr, sizeof(r.daddr));
		r.sport = f->dport;
		r.dport = f->sport;
		ctl_push_tuple(L, &r);
	} else
		lua_pushnil(L);
	return 1;
}

static int tuple_tostring(lua_State *L)
{
	char buf[CTL_FLOW_STRLEN];

	lua_pushstring(L, ctl_flow_format(ctl_checkobject(L, 1, CTL_TUPLE_MT,
							  sizeof(struct ctlua_flow)), buf));
	return 1;
}

/* Equal tuples have the same five fields; a tuple is never equal to anything else. */
static int tuple_eq(lua_State *L)
{
	const struct ctlua_flow *a = ctl_testobject(L, 1, CTL_TUPLE_MT, sizeof(*a));
	const struct ctlua_flow *b = ctl_testobject(L, 2, CTL_TUPLE_MT, sizeof(*b));

	lua_pushboolean(L, a && b && !memcmp(a, b, sizeof(*a)));
	return 1;
}

static int tuple_newindex(lua_State *L)
{
	return luaL_error(L, "a tuple cannot be changed: build a new one with ct.tuple");
}

static const luaL_Reg tuple_meta[] = {
	{ "__index", tuple_index },
	{ "__newindex", tuple_newindex },
	{ "__tostring", tuple_tostring },
	{ "__eq", tuple_eq },
	{ NULL, NULL },
};

static const luaL_Reg tuple_funcs[] = {
	{ "tuple", l_tuple },
	{ NULL, NULL },
};

void ctl_open_tuple(lua_State *L)
{
	luaL_newmetatable(L, CTL_TUPLE_MT);
	luaL_setfuncs(L, tuple_meta, 0);
	lua_pop(L, 1);
	lua_pushvalue(L, -2);	/* the state, as upvalue */
	luaL_setfuncs(L, tuple_funcs, 1);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * prefix_fuzz.c - libFuzzer harness for the address, prefix and port fields as the `ct`
 * functions check them (src/lua_check.c ctl_field_prefix and ctl_field_int, the tuple's
 * and NAT's checks): ct.rule{src=, dst=, dport=}, ct.tuple{...} and ct.alloc's snat
 * and dnat, through a Lua state whose datapath never loads (fuzz.h).
 *
 * Input: byte 0 picks how the port is passed (bit 0: as a float, else an integer;
 * bit 1: dport as a {lo, hi} range), bytes 1-8 are the port's value, the rest is the
 * address text, NULs and all. Checks the contract: ct.tuple accepts a port only if it
 * is a whole number from 0 to 65535, and then gives it back unchanged.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include "fuzz.h"

struct input {
	int flags;
	lua_Integer port_i;
	lua_Number port_f;
	const char *addr;
	size_t addr_len;
};

static void push_port(lua_State *L, const struct input *in)
{
	if (in->flags & 1)
		lua_pushnumber(L, in->port_f);
	else
		lua_pushinteger(L, in->port_i);
}

static bool port_ok(const struct input *in)
{
	if (!(in->flags & 1))
		return in->port_i >= 0 && in->port_i <= 65535;
	return in->port_f >= 0 && in->port_f <= 65535 && floor(in->port_f) == in->port_f;
}

static void set_addr(lua_State *L, const struct input *in, const char *field)
{
	lua_pushlstring(L, in->addr, in->addr_len);
	lua_setfield(L, -2, field);
}

static void rules(lua_State *L, const struct input *in)
{
	lua_createtable(L, 0, 3);
	set_addr(L, in, "src");
	lua_pushliteral(L, "pass");
	lua_setfield(L, -2, "action");
	fz_call_ct(L, "rule", 1);

	lua_createtable(L, 0, 3);
	set_addr(L, in, "dst");
	if (in->flags & 2) {
		lua_createtable(L, 2, 0);
		push_port(L, in);
		lua_rawseti(L, -2, 1);
		push_port(L, in);
		lua_rawseti(L, -2, 2);
	} else {
		push_port(L, in);
	}
	lua_setfield(L, -2, "dport");
	lua_pushliteral(L, "drop");
	lua_setfield(L, -2, "action");
	fz_call_ct(L, "rule", 1);
}

/* {src=addr, dst=addr, sport=port, dport=port, proto="udp"} on the stack */
static void push_tuple_table(lua_State *L, const struct input *in)
{
	lua_createtable(L, 0, 5);
	set_addr(L, in, "src");
	set_addr(L, in, "dst");
	push_port(L, in);
	lua_setfield(L, -2, "sport");
	push_port(L, in);
	lua_setfield(L, -2, "dport");
	lua_pushliteral(L, "udp");
	lua_setfield(L, -2, "proto");
}

static void tuple(lua_State *L, const struct input *in)
{
	int base = lua_gettop(L);

	lua_getfield(L, 1, "tuple");
	push_tuple_table(L, in);
	if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
		fz_check(port_ok(in), "ct.tuple accepted a port that is no whole number 0-65535",
			 NULL);
		lua_getfield(L, -1, "sport");
		fz_check(lua_tointeger(L, -1) == (in->flags & 1 ? (lua_Integer)in->port_f
							       : in->port_i),
			 "ct.tuple changed the port", NULL);
		lua_pop(L, 1);
		luaL_tolstring(L, -1, NULL);
	}
	lua_settop(L, base);
}

static void nat(lua_State *L, const struct input *in)
{
	static const char *const fields[] = { "snat", "dnat" };

	for (int i = 0; i < 2; i++) {
		lua_createtable(L, 0, 5);
		lua_pushliteral(L, "198.18.0.1");
		lua_setfield(L, -2, "src");
		lua_pushliteral(L, "198.18.0.2");
		lua_setfield(L, -2, "dst");
		lua_pushinteger(L, 1);
		lua_setfield(L, -2, "sport");
		lua_pushinteger(L, 2);
		lua_setfield(L, -2, "dport");
		lua_pushliteral(L, "tcp");
		lua_setfield(L, -2, "proto");
		lua_createtable(L, 0, 1);
		lua_createtable(L, 0, 2);
		set_addr(L, in, "addr");
		push_port(L, in);
		lua_setfield(L, -2, "port");
		lua_setfield(L, -2, fields[i]);
		fz_call_ct(L, "alloc", 2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {};
	uint8_t word[8] = {};
	lua_State *L;

	if (size < 1)
		return 0;
	in.flags = data[0];
	memcpy(word, data + 1, size - 1 < 8 ? size - 1 : 8);
	memcpy(&in.port_i, word, 8);
	memcpy(&in.port_f, word, 8);
	in.addr = size > 9 ? (const char *)data + 9 : "";
	in.addr_len = size > 9 ? size - 9 : 0;

	L = fz_lua_new();
	rules(L, &in);
	tuple(L, &in);
	nat(L, &in);
	fz_lua_close(L);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* lua_entry.c - a conntrack entry as a Lua table, the same whoever read it. */
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include "addr.h"
#include "lua_ct.h"
#include "pretty.h"

/* {addr=, port=}: where NAT sends this side, read off the rewritten reply tuple. */
static void push_nat(lua_State *L, int family, const __be32 addr[4], __be16 port)
{
	char buf[CTL_ADDR_STRLEN];

	lua_createtable(L, 0, 2);
	lua_pushstring(L, ctl_addr_format(family, addr, buf));
	lua_setfield(L, -2, "addr");
	lua_pushinteger(L, ntohs(port));
	lua_setfield(L, -2, "port");
}

void ctl_push_entry(lua_State *L, const struct ctl_entry *e)
{
	lua_createtable(L, 0, 9);
	ctl_set_record_mt(L, CTL_ENTRY_MT);
	ctl_push_tuple(L, &e->tuple);
	lua_setfield(L, -2, "tuple");
	ctl_push_tuple(L, &e->reply);
	lua_setfield(L, -2, "reply");
	ctl_push_status(L, e->status);
	lua_setfield(L, -2, "status");
	lua_pushinteger(L, e->status);
	lua_setfield(L, -2, "status_bits");
	lua_pushinteger(L, e->timeout_ms);
	lua_setfield(L, -2, "timeout");
	lua_pushinteger(L, e->mark);
	lua_setfield(L, -2, "mark");
	lua_pushinteger(L, e->zone);
	lua_setfield(L, -2, "zone");
	/* Source NAT changes where replies go: the reply's destination. */
	if (e->status & IPS_SRC_NAT) {
		push_nat(L, e->reply.family, e->reply.daddr, e->reply.dport);
		lua_setfield(L, -2, "snat");
	}
	/* Destination NAT changes who answers: the reply's source. */
	if (e->status & IPS_DST_NAT) {
		push_nat(L, e->reply.family, e->reply.saddr, e->reply.sport);
		lua_setfield(L, -2, "dnat");
	}
}

void ctl_set_record_mt(lua_State *L, const char *name)
{
	if (luaL_newmetatable(L, name)) {
		lua_pushcfunction(L, ctl_pretty_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
}

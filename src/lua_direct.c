// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_direct.c - ct.alloc and ct.lookup: the conntrack kfuncs called right now, from
 * Lua, through the ctlua_req program and BPF_PROG_TEST_RUN (DESIGN.md, path 2). They act
 * in the network namespace ctlua runs in.
 */
#include <errno.h>
#include <string.h>
#include "addr.h"
#include "datapath.h"
#include "lua_ct.h"

/* Push what the kernel said of an entry: tuple, reply, status, timeout, mark. */
static void push_entry(lua_State *L, const struct ctlua_request *r)
{
	lua_createtable(L, 0, 6);
	ctl_push_tuple(L, &r->flow);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "tuple");
	lua_getfield(L, -1, "reply");	/* the swap alloc builds; NAT is not used yet */
	lua_setfield(L, -3, "reply");
	lua_pop(L, 1);
	ctl_push_status(L, r->status);
	lua_setfield(L, -2, "status");
	lua_pushinteger(L, r->status);
	lua_setfield(L, -2, "status_bits");
	lua_pushinteger(L, r->timeout_ms);
	lua_setfield(L, -2, "timeout");
	lua_pushinteger(L, r->mark);
	lua_setfield(L, -2, "mark");
}

/* Run one request for the flow at argument 1; leaves the result in *out. */
static int run_one(lua_State *L, struct ctl_state *s, int op, const struct ctlua_opts *o,
		   struct ctlua_request *out)
{
	struct ctlua_request *r;
	int err, ready;

	if ((ready = ctl_ready(L, s)))
		return ready;
	r = ctl_dp_requests(s->dp);
	memset(r, 0, sizeof(*r));
	ctl_check_flow(L, 1, &r->flow);
	if (o)
		r->opts = *o;
	r->op = (__u8)op;
	r->error = -EINPROGRESS;	/* stays if the run stops before this slot */
	err = ctl_dp_run_requests(s->dp, 1);
	if (err)
		return ctl_fail(L, err, "BPF_PROG_TEST_RUN failed (%s)", strerror(-err));
	*out = *r;
	return 0;
}

/* ct.alloc(tuple [, {timeout=, status=, mark=}]) -> entry | nil, msg, errno */
static int l_alloc(lua_State *L)
{
	static const char *const keys[] = { "timeout", "status", "mark", NULL };
	struct ctl_state *s = ctl_state(L);
	struct ctlua_opts o = {};
	struct ctlua_request r;
	struct ctlua_flow f;
	char buf[CTL_FLOW_STRLEN];
	int ret;

	ctl_check_flow(L, 1, &f);	/* misuse is raised before the kernel is touched */
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		ctl_check_keys(L, 2, 2, keys);
		ctl_check_opts(L, 2, 2, &o);
	}
	if ((ret = run_one(L, s, CTLUA_REQ_ALLOC, &o, &r)))
		return ret;
	if (r.error == -EEXIST)
		return ctl_fail(L, r.error, "bpf_ct_insert_entry refused %s: an entry with this "
				"tuple (either direction) is already in the table", ctl_flow_format(&f, buf));
	if (r.error)
		return ctl_fail(L, r.error, "bpf_skb_ct_alloc failed for %s (%s)",
				ctl_flow_format(&f, buf), strerror(-r.error));
	push_entry(L, &r);
	return 1;
}

/* ct.lookup(tuple) -> entry | nil, "ENOENT: ...", 2 */
static int l_lookup(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_request r;
	struct ctlua_flow f;
	char buf[CTL_FLOW_STRLEN];
	int ret;

	ctl_check_flow(L, 1, &f);
	if ((ret = run_one(L, s, CTLUA_REQ_LOOKUP, NULL, &r)))
		return ret;
	if (r.error == -ENOENT)
		return ctl_fail(L, r.error, "no conntrack entry for %s", ctl_flow_format(&f, buf));
	if (r.error)
		return ctl_fail(L, r.error, "bpf_skb_ct_lookup failed for %s (%s)",
				ctl_flow_format(&f, buf), strerror(-r.error));
	push_entry(L, &r);
	return 1;
}

static const luaL_Reg direct_funcs[] = {
	{ "alloc", l_alloc },
	{ "lookup", l_lookup },
	{ NULL, NULL },
};

void ctl_open_direct(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, direct_funcs, 1);
}

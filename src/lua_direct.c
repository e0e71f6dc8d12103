// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_direct.c - ct.alloc, ct.lookup, ct.change: the conntrack kfuncs called now, from
 * Lua, through the ctlua_req program and BPF_PROG_TEST_RUN (DESIGN.md, path 2). They act
 * in the network namespace ctlua runs in.
 */
#include <errno.h>
#include <string.h>
#include "addr.h"
#include "datapath.h"
#include "explain.h"
#include "names.h"
#include "lua_ct.h"

/* The one-line explanation of a kfunc's errno, or libc's text for any other. */
static const char *brief(int err)
{
	const struct ctl_explanation *x = ctl_explain(err);

	return x ? x->brief : strerror(-err);
}

/* ct.explain([errno | "ENAME"]) -> text, or the list of explained names */
static int l_explain(lua_State *L)
{
	char buf[1024], name[16];
	int err;

	if (lua_isnoneornil(L, 1)) {
		lua_newtable(L);
		for (int i = 0; (err = ctl_explained(i)); i++) {
			lua_pushstring(L, ctl_errno_name(err, name, sizeof(name)));
			lua_rawseti(L, -2, i + 1);
		}
		return 1;
	}
	if (lua_type(L, 1) == LUA_TNUMBER) {
		err = (int)luaL_checkinteger(L, 1);
		luaL_argcheck(L, err != 0 && err > -4096 && err < 4096, 1, "not an errno");
	} else {
		const char *text = luaL_checkstring(L, 1);

		err = ctl_errno_parse(text);
		if (!err)
			return luaL_argerror(L, 1, lua_pushfstring(L, "'%s' is not an errno name", text));
	}
	lua_pushstring(L, ctl_explain_format(err, buf, sizeof(buf)));
	return 1;
}

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

/* Run one request for @f; 0, or pushes nil, msg, errno and returns 3. */
static int run_one(lua_State *L, struct ctl_state *s, int op, const struct ctlua_flow *f,
		   const struct ctlua_opts *o, struct ctlua_request *out)
{
	int err, ready;

	if ((ready = ctl_ready(L, s)))
		return ready;
	err = ctl_dp_request(s->dp, op, f, o, out);
	if (err)
		return ctl_fail(L, err, "BPF_PROG_TEST_RUN failed (%s)", strerror(-err));
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
	if ((ret = run_one(L, s, CTLUA_REQ_ALLOC, &f, &o, &r)))
		return ret;
	if (r.error == -EEXIST)
		return ctl_fail(L, r.error, "bpf_ct_insert_entry refused %s: an entry with this "
				"tuple (either direction) is already in the table", ctl_flow_format(&f, buf));
	if (r.error == -ENOSPC)
		return ctl_fail(L, r.error, "bpf_ct_insert_entry refused %s, and no entry has this "
				"tuple: the hash chain is too long", ctl_flow_format(&f, buf));
	if (r.error)
		return ctl_fail(L, r.error, "bpf_skb_ct_alloc failed for %s: %s",
				ctl_flow_format(&f, buf), brief(r.error));
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
	if ((ret = run_one(L, s, CTLUA_REQ_LOOKUP, &f, NULL, &r)))
		return ret;
	if (r.error == -ENOENT)
		return ctl_fail(L, r.error, "no conntrack entry for %s", ctl_flow_format(&f, buf));
	if (r.error)
		return ctl_fail(L, r.error, "bpf_skb_ct_lookup failed for %s: %s",
				ctl_flow_format(&f, buf), brief(r.error));
	push_entry(L, &r);
	return 1;
}

/* ct.change(tuple, {timeout=, status=, mark=}) -> entry | nil, msg, errno */
static int l_change(lua_State *L)
{
	static const char *const keys[] = { "timeout", "status", "mark", NULL };
	struct ctl_state *s = ctl_state(L);
	struct ctlua_opts o;
	struct ctlua_request r;
	struct ctlua_flow f;
	char buf[CTL_FLOW_STRLEN];
	int ret;

	ctl_check_flow(L, 1, &f);
	luaL_checktype(L, 2, LUA_TTABLE);
	ctl_check_keys(L, 2, 2, keys);
	ctl_check_opts(L, 2, 2, &o);
	if ((ret = run_one(L, s, CTLUA_REQ_CHANGE, &f, &o, &r)))
		return ret;
	if (r.error == -ENOENT)
		return ctl_fail(L, r.error, "no conntrack entry for %s", ctl_flow_format(&f, buf));
	if (r.error == -EPERM)
		return ctl_fail(L, r.error, "bpf_ct_change_timeout refused %s: it has fixed_timeout, "
				"so its timeout cannot change", ctl_flow_format(&f, buf));
	if (r.error)
		return ctl_fail(L, r.error, "cannot change %s (%s)", ctl_flow_format(&f, buf),
				strerror(-r.error));
	push_entry(L, &r);
	return 1;
}

/*
 * ct.alloc_many(tuples [, opts]) -> created, failures | nil, msg, errno
 * Requests are written straight into the mmap'ed request array (no syscall each) and
 * run CTLUA_MAX_REQUESTS at a time, one BPF_PROG_TEST_RUN per chunk. failures is a
 * list of {index=, errname=, err=} for the tuples the kernel refused.
 */
static int l_alloc_many(lua_State *L)
{
	static const char *const keys[] = { "timeout", "status", "mark", NULL };
	struct ctl_state *s = ctl_state(L);
	struct ctlua_opts o = {};
	struct ctlua_request *reqs;
	lua_Integer n, created = 0, nfail = 0;
	char name[16];
	int ret, err;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		ctl_check_keys(L, 2, 2, keys);
		ctl_check_opts(L, 2, 2, &o);
	}
	lua_settop(L, 2);
	n = luaL_len(L, 1);
	if ((ret = ctl_ready(L, s)))
		return ret;
	reqs = ctl_dp_requests(s->dp);
	lua_newtable(L);	/* failures, at 3 */
	for (lua_Integer base = 0; base < n; base += CTLUA_MAX_REQUESTS) {
		unsigned int m = (unsigned int)(n - base < CTLUA_MAX_REQUESTS ? n - base
									    : CTLUA_MAX_REQUESTS);

		for (unsigned int j = 0; j < m; j++) {
			struct ctlua_request *r = &reqs[j];

			lua_geti(L, 1, base + j + 1);
			memset(r, 0, sizeof(*r));
			ctl_arg_item = (int)(base + j + 1);
			ctl_check_flow_at(L, -1, 1, &r->flow);
			ctl_arg_item = 0;
			lua_pop(L, 1);
			r->opts = o;
			r->op = CTLUA_REQ_ALLOC;
			r->error = -EINPROGRESS;	/* stays if the run stops early */
		}
		err = ctl_dp_run_requests(s->dp, m);
		if (err)
			return ctl_fail(L, err, "BPF_PROG_TEST_RUN failed after %lld of %lld "
					"tuples were created (%s)", (long long)created, (long long)n,
					strerror(-err));
		for (unsigned int j = 0; j < m; j++) {
			if (!reqs[j].error) {
				created++;
				continue;
			}
			lua_createtable(L, 0, 3);
			lua_pushinteger(L, base + j + 1);
			lua_setfield(L, -2, "index");
			lua_pushstring(L, ctl_errno_name(reqs[j].error, name, sizeof(name)));
			lua_setfield(L, -2, "errname");
			lua_pushinteger(L, reqs[j].error);
			lua_setfield(L, -2, "err");
			lua_rawseti(L, 3, ++nfail);
		}
	}
	lua_pushinteger(L, created);
	lua_insert(L, 3);
	return 2;
}

static const luaL_Reg direct_funcs[] = {
	{ "alloc", l_alloc },
	{ "lookup", l_lookup },
	{ "change", l_change },
	{ "alloc_many", l_alloc_many },
	{ "explain", l_explain },
	{ NULL, NULL },
};

void ctl_open_direct(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, direct_funcs, 1);
}

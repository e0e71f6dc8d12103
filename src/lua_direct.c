// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_direct.c - ct.alloc, ct.lookup, ct.change: the conntrack kfuncs called now, from
 * Lua, through the ctlua_req program and BPF_PROG_TEST_RUN (doc/api.md). They act
 * in the network namespace ctlua runs in.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "datapath.h"
#include "explain.h"
#include "names.h"
#include "lua_ct.h"
#include "probe.h"
#include "ratelimit.h"

/* The one-line explanation of a kfunc's errno, or libc's text for any other. */
static const char *brief(int err)
{
	const struct ctl_explanation *x = ctl_explain(err);

	return x ? x->brief : strerror(-err);
}

/* ct.explain(ev): what happened to the event at 1. Pushes the text. */
static int explain_event(lua_State *L, const struct ctlua_event *e)
{
	struct ctl_state *s = ctl_state(L);
	struct ctl_event_why w = { NULL, NULL, NULL, NULL, false };
	struct ctlua_limit lim;
	struct ctl_limit_map m;
	char buf[4096];
	int pos;

	lua_getfield(L, 1, "ifname");	/* a replayed event carries its recorded name */
	w.ifname = lua_tostring(L, -1);
	if (e->rule_id && (pos = ctl_rules_find(&s->rules, e->rule_id)) >= 0)
		w.verdict = &s->rules.e[pos].rule.verdict;
	if (w.verdict && w.verdict->limit && s->dp && !ctl_limit_map_open(s->dp, &m)) {
		lim = m.slot[w.verdict->limit & (CTLUA_MAX_LIMITS - 1)];
		ctl_limit_map_close(&m);
		w.limit = &lim;
	}
	for (const struct ctl_link *l = s->links; l && e->dir == CTLUA_DIR_INGRESS; l = l->next)
		if (l->hook == CTL_HOOK_XDP && l->tc.ifindex == (int)e->ifindex)
			w.xdp = true;	/* this ctlua's XDP link on its interface */
	w.feat = ctl_state_features(s);
	lua_pushstring(L, ctl_explain_event(e, &w, buf, sizeof(buf)));
	return 1;
}

/* ct.explain([errno | "ENAME" | event]) -> text, or the list of explained names */
static int l_explain(lua_State *L)
{
	const struct ctlua_event *e = ctl_test_event(L, 1);
	char buf[1024], name[16];
	int err;

	if (e)
		return explain_event(L, e);

	if (lua_isnoneornil(L, 1)) {
		lua_newtable(L);
		for (int i = 0; (err = ctl_explained(i)); i++) {
			lua_pushstring(L, ctl_errno_name(err, name, sizeof(name)));
			lua_rawseti(L, -2, i + 1);
		}
		return 1;
	}
	if (lua_type(L, 1) == LUA_TNUMBER) {
		/* checked before it becomes an int: 2^32+71 is not EPROTO */
		err = (int)ctl_check_int(L, 1, -CTL_ERRNO_MAX, CTL_ERRNO_MAX);
		if (!err)
			return luaL_argerror(L, 1, "0 is not an errno");
	} else {
		const char *text;

		if (lua_type(L, 1) != LUA_TSTRING)
			return luaL_typeerror(L, 1, "errno, errno name or event");
		text = ctl_check_cstring(L, 1);

		err = ctl_errno_parse(text);
		if (!err)
			return luaL_argerror(L, 1, lua_pushfstring(L, "'%s' is not an errno name", text));
	}
	lua_pushstring(L, ctl_explain_format(err, buf, sizeof(buf)));
	return 1;
}

static const char *call_name(const struct ctlua_request *r)
{
	const char *call = ctl_stage_call(r->stage);

	return call ? call : "the request";
}

/*
 * Which of the EINVAL checks of alloc and lookup (KERNEL.md section 1, in the kernel's
 * order) the request's @p fails, or NULL when none does that ctlua can see.
 */
static const char *einval_cause(lua_State *L, const struct ctlua_req_params *p, char *buf,
				size_t len)
{
	const struct ctl_features *feat = ctl_dp_features(ctl_state(L)->dp);
	const struct ctlua_kopts *k = &p->kopts;
	bool takes16 = feat && feat->opts_size >= 16;

	if (p->opts_size != 12 && !(takes16 && p->opts_size == 16))
		snprintf(buf, len, "opts size %u is not one this kernel takes (%s)", p->opts_size,
			 takes16 ? "12 or 16" : "only 12");
	else if (p->opts_size == 16 && (k->reserved[0] || k->reserved[1] || k->reserved[2]))
		snprintf(buf, len, "the reserved bytes of the 16-byte opts are not zero (%u, %u, %u)",
			 k->reserved[0], k->reserved[1], k->reserved[2]);
	else if (p->opts_size == 12 && k->zone_id)
		snprintf(buf, len, "bytes 10-11 of the 12-byte opts (reserved, or the zone id) are "
			 "%u, not zero: a zone needs opts size 16", k->zone_id);
	else if (k->netns_id < -1)
		snprintf(buf, len, "netns_id %d is below -1", k->netns_id);
	else
		return NULL;
	return buf;
}

/* nil, "ENAME: which kfunc refused what, and why", errno for a failed request. */
static int request_failure(lua_State *L, const struct ctlua_request *r,
			   const struct ctlua_req_params *p)
{
	static const char discarded[] = "; no kfunc can discard an allocation, so ctlua "
					"inserts it already expired";
	char flow[CTL_FLOW_STRLEN], cause[160];
	const char *call = call_name(r);

	ctl_flow_format(&r->flow, flow);
	switch (r->stage) {
	case CTLUA_STAGE_ALLOC:
	case CTLUA_STAGE_LOOKUP:
		/* one errno for five checks: say which one the request fails */
		if (r->error == -EINVAL && einval_cause(L, p, cause, sizeof(cause)))
			return ctl_fail(L, r->error, "%s refused %s: %s", call, flow, cause);
		if (r->stage == CTLUA_STAGE_LOOKUP && r->error == -ENOENT)
			return ctl_fail(L, r->error, "no conntrack entry for %s", flow);
		break;
	case CTLUA_STAGE_INSERT:
		if (r->error == -EEXIST)
			return ctl_fail(L, r->error, "%s refused %s: an entry with this tuple "
					"(either direction) is already in the table", call, flow);
		return ctl_fail(L, r->error, "%s refused %s, and no entry has this tuple: %s",
				call, flow, brief(r->error));
	case CTLUA_STAGE_SET_STATUS:
		return ctl_fail(L, r->error, "%s refused status 0x%x for %s: %s%s", call,
				r->opts.status, flow, brief(r->error), discarded);
	case CTLUA_STAGE_SNAT:
	case CTLUA_STAGE_DNAT:
		return ctl_fail(L, r->error, "%s (%s) failed for %s: %s%s", call,
				r->stage == CTLUA_STAGE_SNAT ? "snat" : "dnat", flow,
				brief(r->error), discarded);
	case CTLUA_STAGE_CHANGE_TIMEOUT:
		if (r->error == -EPERM)
			return ctl_fail(L, r->error, "%s refused %s: it has fixed_timeout, so its "
					"timeout cannot change", call, flow);
		break;
	case CTLUA_STAGE_CHANGE_STATUS:
		return ctl_fail(L, r->error, "%s refused status 0x%x for %s: %s", call,
				r->opts.status, flow, brief(r->error));
	}
	return ctl_fail(L, r->error, "%s failed for %s: %s", call, flow, brief(r->error));
}

/*
 * Check a direct request's arguments: the tuple at 1, the opts table at 2 (optional
 * unless @need_opts) with only @keys in it. Returns 0, or 3 with nil, msg, errno pushed.
 */
static int check_request(lua_State *L, const char *const keys[], bool need_opts,
			 struct ctlua_flow *f, struct ctlua_opts *o, struct ctlua_req_params *p)
{
	/* misuse is raised before the kernel is touched */
	ctl_check_flow(L, 1, f);
	memset(o, 0, sizeof(*o));
	if (!need_opts && lua_isnoneornil(L, 2)) {
		ctl_req_params_default(p);
		return 0;
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	ctl_check_keys(L, 2, 2, keys);
	ctl_check_opts(L, 2, 2, true, o);
	return ctl_check_req_params(L, 2, 2, f->family, p);
}

/* Run one request; pushes the entry, or nil, msg, errno. */
static int run_one(lua_State *L, int op, const struct ctlua_flow *f, const struct ctlua_opts *o,
		   const struct ctlua_req_params *p)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_request r;
	struct ctl_entry e;
	int err, ready;

	if ((ready = ctl_ready(L, s)))
		return ready;
	err = ctl_dp_request(s->dp, op, f, o, p, &r);
	if (err)
		return ctl_fail(L, err, "BPF_PROG_TEST_RUN failed (%s)", strerror(-err));
	if (r.error)
		return request_failure(L, &r, p);
	ctl_request_entry(&r, &e);
	ctl_push_entry(L, &e);
	return 1;
}

/* What each takes: ctl_keys_alloc, _change, _lookup and _alloc_many (arg_keys.c). */

/* ct.alloc(tuple [, opts]) -> entry | nil, msg, errno */
static int l_alloc(lua_State *L)
{
	struct ctlua_req_params p;
	struct ctlua_opts o;
	struct ctlua_flow f;
	int ret;

	if ((ret = check_request(L, ctl_keys_alloc, false, &f, &o, &p)))
		return ret;
	return run_one(L, CTLUA_REQ_ALLOC, &f, &o, &p);
}

/* ct.lookup(tuple [, opts]) -> entry | nil, "ENOENT: ...", 2 */
static int l_lookup(lua_State *L)
{
	struct ctlua_req_params p;
	struct ctlua_opts o;
	struct ctlua_flow f;
	int ret;

	if ((ret = check_request(L, ctl_keys_lookup, false, &f, &o, &p)))
		return ret;
	return run_one(L, CTLUA_REQ_LOOKUP, &f, NULL, &p);
}

/* ct.change(tuple, {timeout=, status=, mark=, ...}) -> entry | nil, msg, errno */
static int l_change(lua_State *L)
{
	struct ctlua_req_params p;
	struct ctlua_opts o;
	struct ctlua_flow f;
	int ret;

	if ((ret = check_request(L, ctl_keys_change, true, &f, &o, &p)))
		return ret;
	return run_one(L, CTLUA_REQ_CHANGE, &f, &o, &p);
}

/* Append {index=, errname=, err=, call=} for a refused request to the list at @list. */
static void add_failure(lua_State *L, int list, lua_Integer index, const struct ctlua_request *r)
{
	char name[16];

	lua_createtable(L, 0, 4);
	lua_pushinteger(L, index);
	lua_setfield(L, -2, "index");
	lua_pushstring(L, ctl_errno_name(r->error, name, sizeof(name)));
	lua_setfield(L, -2, "errname");
	lua_pushinteger(L, r->error);
	lua_setfield(L, -2, "err");
	lua_pushstring(L, call_name(r));
	lua_setfield(L, -2, "call");
	lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
}

/*
 * The tuples of ct.alloc_many are read into a malloc'd buffer before any runs. A fresh
 * one per call costs a page fault per 4 KiB (some 10 ms for 100 000 tuples in a VM), so
 * the last one is kept in the registry for the next call, up to SCRATCH_KEEP bytes. A
 * call owns its buffer through a userdata of its own (freed by __gc if it raises), so a
 * call nested in a metamethod gets another buffer, never this one.
 */
#define SCRATCH_MT	"ct.scratch"
#define SCRATCH_KEEP	(16u << 20)

struct scratch {
	void *p;
	size_t size;
};

static int scratch_gc(lua_State *L)
{
	struct scratch *b = lua_touserdata(L, 1);

	free(b->p);
	b->p = NULL;
	return 0;
}

/* Push a new empty owner; the kept one is registry[SCRATCH_MT].box. */
static struct scratch *scratch_new(lua_State *L)
{
	struct scratch *b = lua_newuserdatauv(L, sizeof(*b), 0);

	memset(b, 0, sizeof(*b));
	if (luaL_newmetatable(L, SCRATCH_MT)) {
		lua_pushcfunction(L, scratch_gc);
		lua_setfield(L, -2, "__gc");
		scratch_new(L);		/* the kept buffer's owner, in the metatable */
		lua_setfield(L, -2, "box");
	}
	lua_setmetatable(L, -2);
	return b;
}

static struct scratch *scratch_kept(lua_State *L)
{
	struct scratch *k;

	luaL_getmetatable(L, SCRATCH_MT);
	lua_getfield(L, -1, "box");
	k = lua_touserdata(L, -1);
	lua_pop(L, 2);
	return k;
}

/* Push an owner of @size bytes and return them (the kept buffer if it is big enough), or NULL. */
static void *scratch(lua_State *L, size_t size, struct scratch **owner)
{
	struct scratch *b = scratch_new(L), *k = scratch_kept(L);

	*owner = b;
	if (k->p && k->size >= size) {
		*b = *k;
		k->p = NULL;
		k->size = 0;
		return b->p;
	}
	b->size = size ? size : 1;
	b->p = malloc(b->size);
	return b->p;
}

/* Done with @b's buffer: keep it for the next call, or free it. */
static void scratch_done(lua_State *L, struct scratch *b)
{
	struct scratch *k = scratch_kept(L);

	if (b->size <= SCRATCH_KEEP && b->size > k->size) {
		free(k->p);
		*k = *b;
	} else {
		free(b->p);
	}
	b->p = NULL;
	b->size = 0;
}

/*
 * Read the list at 1 into @flows (n of them) with every check, before the kernel sees
 * any: a bad item is misuse, raised with nothing created. NAT addresses need one
 * family, that of the first tuple.
 */
static void read_tuples(lua_State *L, lua_Integer n, bool nat, struct ctlua_flow *flows)
{
	struct ctl_flow_batch batch;

	ctl_flow_batch_begin(L, &batch);
	for (lua_Integer i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		ctl_flow_batch_read(L, &batch, -1, 1, i + 1, &flows[i]);
		if (nat && flows[i].family != flows[0].family)
			ctl_arg_error(L, 1, "item %lld: not of the first tuple's family, which the "
				      "NAT addresses are", (long long)i + 1);
		lua_pop(L, 1);
	}
	ctl_flow_batch_end(L, &batch);
}

/*
 * ct.alloc_many(tuples [, opts]) -> created, failures [, msg, errno]
 * Requests are written straight into the mmap'ed request array (no syscall each) and
 * run CTLUA_MAX_REQUESTS at a time, one BPF_PROG_TEST_RUN per chunk, or per slice of a
 * chunk with opts.threads (runs on as many CPUs at once). failures lists the tuples the
 * kernel refused. When a run fails part way (a signal: EINTR), what was done comes
 * first, then the error: created, failures, "ENAME: ...", errno.
 */
static int l_alloc_many(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_req_params p;
	struct ctlua_opts o = {};
	struct ctlua_request *reqs;
	struct ctlua_flow *flows;
	struct scratch *owner;
	lua_Integer n, created = 0, tried = 0, threads = 1;
	int ret, err;

	if (ctl_testobject(L, 1, CTL_TUPLE_MT, sizeof(struct ctlua_flow)) ||
	    (lua_istable(L, 1) && ctl_rawfield(L, 1, "src") != LUA_TNIL))
		return luaL_argerror(L, 1, "expected a list of tuples, got one tuple (a list of "
				     "one is {tuple})");
	luaL_checktype(L, 1, LUA_TTABLE);
	n = ctl_check_list(L, 1, 1, NULL, "a list of tuples");
	ctl_req_params_default(&p);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		ctl_check_keys(L, 2, 2, ctl_keys_alloc_many);
		ctl_check_opts(L, 2, 2, true, &o);
		ctl_field_int(L, 2, 2, "threads", 1, CTL_DP_THREADS_MAX, &threads);
	}
	lua_settop(L, 2);
	flows = scratch(L, (size_t)n * sizeof(*flows), &owner);	/* owner at 3 */
	if (!flows)
		return ctl_fail(L, ENOMEM, "no memory for %lld tuples", (long long)n);
	/* the NAT fields, if any, are checked against the first tuple's family */
	p.snat.set = !lua_isnil(L, 2) && lua_getfield(L, 2, "snat") != LUA_TNIL;
	p.dnat.set = !lua_isnil(L, 2) && lua_getfield(L, 2, "dnat") != LUA_TNIL;
	lua_settop(L, 3);
	read_tuples(L, n, p.snat.set || p.dnat.set, flows);
	if (!lua_isnil(L, 2) &&
	    (ret = ctl_check_req_params(L, 2, 2, n > 0 ? flows[0].family : CTLUA_AF_INET, &p))) {
		scratch_done(L, owner);
		return ret;
	}
	/* thousands of events nobody takes would only fill the ring buffer */
	if (s->cb_ref[CTLUA_EV_ALLOC] == LUA_NOREF && s->cb_ref[CTLUA_EV_ALLOC_ERROR] == LUA_NOREF &&
	    s->watch_ref == LUA_NOREF && !s->tap)	/* ctlua run --record takes all */
		p.flags |= CTLUA_PARAM_QUIET;
	p.flags |= CTLUA_PARAM_NO_ENTRY;	/* only the error comes back: no entry to read */
	if ((ret = ctl_ready(L, s))) {
		scratch_done(L, owner);
		return ret;
	}
	reqs = ctl_dp_requests(s->dp);
	lua_newtable(L);	/* failures, at 4 */
	for (lua_Integer base = 0; base < n; base += CTLUA_MAX_REQUESTS) {
		unsigned int m = (unsigned int)(n - base < CTLUA_MAX_REQUESTS ? n - base
									    : CTLUA_MAX_REQUESTS);
		struct ctl_dp_alloc_chunk c = { .reqs = reqs, .flows = flows + base, .opts = &o };

		ctl_dp_set_params(s->dp, &p);
		err = ctl_dp_run_parallel(s->dp, m, (unsigned int)threads, ctl_dp_fill_alloc, &c);
		ctl_dp_set_params(s->dp, NULL);
		for (unsigned int j = 0; j < m; j++) {
			if (reqs[j].error == -EINPROGRESS)
				continue;	/* the run stopped before it */
			tried++;
			if (!reqs[j].error)
				created++;
			else
				add_failure(L, 4, base + j + 1, &reqs[j]);
		}
		if (err) {
			/* what was done, then why the rest was not */
			scratch_done(L, owner);
			lua_pushinteger(L, created);
			lua_pushvalue(L, 4);
			ctl_fail(L, err, "BPF_PROG_TEST_RUN stopped after %lld of %lld tuples, "
				 "%lld created (%s)", (long long)tried, (long long)n,
				 (long long)created, strerror(-err));
			lua_remove(L, -3);	/* ctl_fail's nil */
			return 4;
		}
	}
	scratch_done(L, owner);
	lua_pushinteger(L, created);
	lua_insert(L, 4);
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

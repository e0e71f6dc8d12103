// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_ct.c - the `ct` module: its state, luaopen_ct, and ct.stats. The same object is
 * linked into the ctlua binary and into ct.so for stock lua5.4 (require "ct").
 * The module creates no globals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "datapath.h"
#include "lab_net.h"
#include "lua_ct.h"
#include "names.h"
#include "sandbox.h"
#include "verdict_buf.h"

/*
 * os.exit() without its close flag ends the process without collecting the Lua state,
 * which would leave our filters on the interfaces; an exit handler takes them off.
 */
static struct ctl_state *live_states;

static void detach_at_exit(void)
{
	for (struct ctl_state *s = live_states; s; s = s->next_live)
		ctl_links_detach_all(s);
}

static void forget_state(struct ctl_state *s)
{
	for (struct ctl_state **p = &live_states; *p; p = &(*p)->next_live)
		if (*p == s) {
			*p = s->next_live;
			break;
		}
}

void *ctl_testobject(lua_State *L, int idx, const char *tname, size_t size)
{
	void *p = luaL_testudata(L, idx, tname);

	return p && lua_rawlen(L, idx) == size ? p : NULL;
}

void *ctl_checkobject(lua_State *L, int idx, const char *tname, size_t size)
{
	void *p = ctl_testobject(L, idx, tname, size);

	if (!p && luaL_testudata(L, idx, tname))	/* luaL_typeerror would say "got" tname */
		luaL_argerror(L, idx, lua_pushfstring(L, "%s expected, got another userdata "
						      "with its metatable", tname));
	if (!p)
		luaL_typeerror(L, idx, tname);
	return p;
}

/* In a state's first bytes: Lua code cannot write a userdata's block, only C can. */
#define STATE_MAGIC 0x6374756cU	/* "ctul" */

struct ctl_state *ctl_state(lua_State *L)
{
	/*
	 * Checked, not trusted: debug.setupvalue can put anything there. The magic number
	 * costs less than luaL_testudata's registry look-up, on every call of a ct function.
	 */
	struct ctl_state *s = lua_touserdata(L, lua_upvalueindex(1));

	/* a light userdata has no length */
	if (s && (lua_rawlen(L, lua_upvalueindex(1)) != sizeof(*s) || s->magic != STATE_MAGIC))
		s = NULL;
	if (!s)
		luaL_error(L, "the ct module's state is missing (upvalue 1 of a ct function was "
			   "replaced)");
	if (s->closed)
		luaL_error(L, "the ct module is closed");
	return s;
}

/* Where luaopen_ct leaves the state for hosts (the REPL), in the registry. */
#define STATE_KEY "ctlua.state"

struct ctl_state *ctl_state_of(lua_State *L)
{
	struct ctl_state *s;

	lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
	s = ctl_testobject(L, -1, CTL_STATE_MT, sizeof(*s));
	lua_pop(L, 1);
	return s && !s->closed ? s : NULL;
}

void ctl_state_set_dp_opts(struct ctl_state *s, const struct ctl_dp_opts *o)
{
	s->dp_opts = *o;
}

int ctl_ready(lua_State *L, struct ctl_state *s)
{
	char msg[512];
	int err;

	if (s->dp && !s->mask_unsynced)
		return 0;
	if (s->dp)	/* loaded, but the event mask failed last time: try it again */
		goto mask;
	if (s->closed)	/* user code that ran since ctl_state (an __index) closed it */
		return luaL_error(L, "the ct module is closed");
	if (s->dry)	/* every caller is replaced or bypasses this in a check (lua_stage.c) */
		return ctl_fail(L, ENOTSUP, "ctlua check loads no datapath");
	err = ctl_dp_open(&s->dp, &s->dp_opts, msg, sizeof(msg));
	if (err)
		return ctl_fail(L, err, "%s", msg);
	err = ctl_vbuf_new(&s->vbuf, s->dp);
	if (err) {
		ctl_dp_close(s->dp);
		s->dp = NULL;
		return ctl_fail(L, err, "cannot start the verdict writer");
	}
mask:
	/* the program starts with every kind on; until this works, each call tries again */
	s->mask_unsynced = true;
	if ((err = ctl_events_sync_mask(L, s)))
		return ctl_fail(L, err, "cannot write the config map");
	s->mask_unsynced = false;
	return 0;
}

/* ct.stats() -> {packets=, lookup_hit=, ..., errors = {EEXIST = n, ...}} | nil, msg, errno */
static int l_stats(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_stats sum;
	char buf[16];
	int r, err;

	if ((r = ctl_ready(L, s)))
		return r;
	ctl_verdicts_flush(s);		/* the counters of a table as the script sees it */
	if ((err = ctl_dp_stats(s->dp, &sum)))
		return ctl_fail(L, err, "cannot read the counters");
	lua_createtable(L, 0, CTLUA_STAT_NAMED + 1);
	for (int i = 0; i < CTLUA_STAT_NAMED; i++) {
		lua_pushinteger(L, (lua_Integer)sum.count[i]);
		lua_setfield(L, -2, ctl_stat_name(i));
	}
	lua_newtable(L);
	for (int e = 1; e < CTLUA_ERRNO_SLOTS; e++)
		if (sum.count[CTLUA_STAT_ERRNO + e]) {
			lua_pushinteger(L, (lua_Integer)sum.count[CTLUA_STAT_ERRNO + e]);
			lua_setfield(L, -2, ctl_errno_name(e, buf, sizeof(buf)));
		}
	lua_setfield(L, -2, "errors");
	lua_pushinteger(L, (lua_Integer)s->callback_errors);	/* the host's own counts */
	lua_setfield(L, -2, "callback_errors");
	lua_pushinteger(L, (lua_Integer)s->callback_timeouts);
	lua_setfield(L, -2, "callback_timeouts");
	lua_pushinteger(L, (lua_Integer)s->callback_memory);
	lua_setfield(L, -2, "callback_memory");
	if ((err = ctl_push_sources(L, s)))
		return ctl_fail(L, err, "cannot read the rule counters");
	lua_setfield(L, -2, "sources");
	return 1;
}

/*
 * Whether the running C function was called by the collector as a finalizer, rather
 * than by hand (getmetatable(state).__gc(state), reachable through debug.getupvalue):
 * Lua names a finalizer call "__gc" of kind "metamethod", and nothing else so.
 */
static bool finalizing(lua_State *L)
{
	lua_Debug ar;

	return lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name &&
	       !strcmp(ar.name, "__gc") && ar.namewhat && !strcmp(ar.namewhat, "metamethod");
}

void ctl_state_release(struct ctl_state *s)
{
	ctl_events_close(s);
	ctl_sets_close(s);	/* the maps are the datapath's: before it goes */
	if (s->staged)		/* never went live: the limits it took go too */
		ctl_limits_abandon(s);
	if (!s->dp_borrowed) {	/* a staged policy's are the running one's (lua_stage.c) */
		ctl_vbuf_free(s->vbuf);
		ctl_dp_close(s->dp);
	}
	s->vbuf = NULL;
	s->dp = NULL;
}

/*
 * Tear down in the order the kernel needs: filters off, then the object unloaded. Every
 * ct function refuses a closed state. A call by hand only closes: a C function further
 * down the stack may still hold the datapath, which is freed when the collector
 * finalizes the state for real. That can happen inside ct.run only through lua_close
 * from a callback (os.exit(code, true)), after which the process ends without going back
 * to the loop, so the ring buffer can go too.
 */
static int state_gc(lua_State *L)
{
	struct ctl_state *s = ctl_checkobject(L, 1, CTL_STATE_MT, sizeof(*s));

	s->closed = true;
	forget_state(s);
	ctl_timers_close(L, s);
	ctl_links_detach_all(s);
	if (finalizing(L))
		ctl_state_release(s);
	return 0;
}

static const luaL_Reg ct_funcs[] = {
	{ "stats", l_stats },
	{ NULL, NULL },
};

int luaopen_ct(lua_State *L)
{
	static bool exit_handler;
	struct ctl_state *s = lua_newuserdatauv(L, sizeof(*s), 0);

	memset(s, 0, offsetof(struct ctl_state, rules));
	ctl_rules_init(&s->rules);
	s->magic = STATE_MAGIC;
	if (!exit_handler)
		exit_handler = atexit(detach_at_exit) == 0;
	s->next_live = live_states;
	live_states = s;
	for (int k = 0; k < CTL_ON_NR; k++)
		s->cb_ref[k] = LUA_NOREF;
	s->watch_ref = LUA_NOREF;
	s->budget_ms = 1000;
	ctl_dp_opts_init(&s->dp_opts);
	/* the guard rails: the memory cap (ctlua's own state has it already) and wrappers */
	ctl_mem_wrap(L, ctl_mem_default_limit());
	ctl_sandbox_open(L);
	luaL_newmetatable(L, CTL_STATE_MT);
	lua_pushcfunction(L, state_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);

	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);	/* for ctl_state_of */

	luaL_newlibtable(L, ct_funcs);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, ct_funcs, 1);
	ctl_open_tuple(L);
	ctl_open_link(L);
	ctl_open_policy(L);
	ctl_open_limit(L);
	ctl_open_events(L);
	ctl_open_direct(L);
	ctl_open_kernel(L);
	ctl_open_conntrack(L);
	ctl_open_timer(L);
	ctl_open_record(L);
	ctl_open_set(L);
	ctl_open_lab_net(L);	/* require "ctlua.lab_net": the lab's sockets (private) */
	lua_pushstring(L, CTLUA_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}

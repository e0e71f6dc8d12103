// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_timer.c - a policy's clock and timers: ct.now, ct.timer, ct.every. Timers belong
 * to the module's state and fire while a loop waits (ct.run, ct.poll, `ctlua run`, the
 * shell's prompt: loop.c asks when the next is due); each callback runs as an event's
 * does, under the budget (lua_events.c, ctl_callback_run).
 *
 * A scheduled timer is anchored in the registry, so `ct.every(1000, f)` keeps firing with
 * no variable holding it; once it fired (a one-shot), was cancelled or its state closed,
 * it is an ordinary value the collector takes. __close cancels, so that
 * `local t <close> = ct.every(...)` stops at the end of the block.
 */
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include "datapath.h"
#include "deadline.h"
#include "loop.h"
#include "lua_ct.h"

#define TIMER_MT	"ct.timer"
#define MAX_MS		((lua_Integer)INT_MAX)	/* about 24.8 days */

struct ctl_timer {
	struct ctl_state *s;	/* NULL: not scheduled (fired once, cancelled, state closed) */
	struct ctl_timer *next;	/* s->timers, soonest first */
	__s64 due_ns;		/* CLOCK_MONOTONIC */
	__s64 every_ns;		/* 0: fires once */
	int self_ref;		/* the anchor while scheduled, LUA_NOREF otherwise */
};

/* Put @t into its state's list, after the timers due no later (equal: in order made). */
static void insert(struct ctl_timer *t)
{
	struct ctl_timer **p = &t->s->timers;

	while (*p && (*p)->due_ns <= t->due_ns)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

/* Take @t out of @s's list (it is there). */
static void unlink_timer(struct ctl_state *s, struct ctl_timer *t)
{
	for (struct ctl_timer **p = &s->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->next = NULL;
}

/* Unschedule @t: out of the list, its anchor dropped. Returns whether it was scheduled. */
static bool cancel(lua_State *L, struct ctl_timer *t)
{
	if (!t->s)
		return false;
	unlink_timer(t->s, t);
	t->s = NULL;
	luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);
	t->self_ref = LUA_NOREF;
	return true;
}

void ctl_timers_close(lua_State *L, struct ctl_state *s)
{
	while (s->timers)
		cancel(L, s->timers);
}

__s64 ctl_timers_next(const struct ctl_state *s)
{
	return s && !s->closed && s->timers ? s->timers->due_ns : -1;
}

/* Protected (ctl_callback_run's body): (struct ctl_callback *, callback, timer). */
static int timer_body(lua_State *L)
{
	struct ctl_callback *cb = lua_touserdata(L, 1);

	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	return ctl_callback_call(L, cb, 1, 0) ? 1 : 0;
}

int ctl_timers_fire(lua_State *L, struct ctl_state *s)
{
	/* only what was due when the round began: a ct.timer(0, f) made in f waits for the next */
	__s64 now = ctl_now_ns(CLOCK_MONOTONIC);
	bool entered;
	int ran = 0;

	if (!s->timers || s->timers->due_ns > now)
		return 0;
	L = ctl_callbacks_enter(L, s, &entered);
	while (!s->closed && s->timers && s->timers->due_ns <= now && !ctl_signal_pending()) {
		struct ctl_timer *t = s->timers;
		struct ctl_callback cb = { .s = s, .label = "timer", .phase = CTL_CB_SETUP };

		lua_rawgeti(L, LUA_REGISTRYINDEX, t->self_ref);	/* kept while it runs */
		lua_getiuservalue(L, -1, 1);			/* the callback */
		lua_rotate(L, -2, 1);				/* callback, timer */
		s->timers = t->next;
		if (t->every_ns) {
			/* the next tick on the grid; ticks missed (a long stop) are skipped */
			t->due_ns += t->every_ns;
			if (t->due_ns <= now)
				t->due_ns = now + t->every_ns - (now - t->due_ns) % t->every_ns;
			insert(t);
		} else {
			t->next = NULL;
			t->s = NULL;
			luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);
			t->self_ref = LUA_NOREF;
		}
		ctl_callback_run(L, &cb, timer_body, 1);
		ran++;
	}
	ctl_callbacks_leave(s, entered);
	return ran;
}

static __s64 loop_next(void *ctx)
{
	return ctl_timers_next(ctx);
}

static void loop_fire(void *ctx)
{
	struct ctl_state *s = ctx;

	if (!s->closed && s->timer_L)
		ctl_timers_fire(s->timer_L, s);
}

void ctl_timers_watch(lua_State *L, struct ctl_state *s, struct ctl_loop *loop)
{
	if (!s) {
		ctl_loop_set_timers(loop, NULL, NULL, NULL);
		return;
	}
	s->timer_L = L;
	ctl_loop_set_timers(loop, loop_next, loop_fire, s);
}

/*
 * ct.timer(ms, fn) / ct.every(ms, fn) -> timer: @fn(timer) runs once @ms from now, or
 * every @ms (the first time @ms from now).
 */
static int make_timer(lua_State *L, bool every)
{
	struct ctl_state *s = ctl_state(L);
	lua_Integer ms = ctl_check_int(L, 1, every ? 1 : 0, MAX_MS);
	struct ctl_timer *t;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	t = lua_newuserdatauv(L, sizeof(*t), 1);
	*t = (struct ctl_timer){ .self_ref = LUA_NOREF };
	luaL_setmetatable(L, TIMER_MT);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);
	t->every_ns = every ? (__s64)ms * 1000000 : 0;
	t->due_ns = ctl_now_ns(CLOCK_MONOTONIC) + (__s64)ms * 1000000;
	lua_pushvalue(L, -1);
	t->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	t->s = s;
	insert(t);
	return 1;
}

static int l_timer(lua_State *L)
{
	return make_timer(L, false);
}

static int l_every(lua_State *L)
{
	return make_timer(L, true);
}

/*
 * ct.now() -> seconds (a float) on the clock of the events' `time`: CLOCK_MONOTONIC plus
 * an offset taken once per process (datapath.c), so it never jumps and ct.now() - ev.time
 * is an event's age.
 */
static int l_now(lua_State *L)
{
	ctl_state(L);
	lua_pushnumber(L, (lua_Number)(ctl_now_ns(CLOCK_MONOTONIC) + ctl_dp_clock_offset()) / 1e9);
	return 1;
}

static struct ctl_timer *check_timer(lua_State *L)
{
	return ctl_checkobject(L, 1, TIMER_MT, sizeof(struct ctl_timer));
}

/* timer:cancel() -> whether it was scheduled; also its __close */
static int timer_cancel(lua_State *L)
{
	lua_pushboolean(L, cancel(L, check_timer(L)));
	return 1;
}

/* timer:active() -> whether it will fire again */
static int timer_active(lua_State *L)
{
	lua_pushboolean(L, check_timer(L)->s != NULL);
	return 1;
}

static int timer_tostring(lua_State *L)
{
	struct ctl_timer *t = check_timer(L);
	char left[32] = "";

	if (t->s)
		snprintf(left, sizeof(left), ", due in %.3f s",
			 (double)(t->due_ns - ctl_now_ns(CLOCK_MONOTONIC)) / 1e9);
	if (t->every_ns)
		lua_pushfstring(L, "ct.timer (every %d ms%s)", (int)(t->every_ns / 1000000),
				t->s ? left : ", stopped");
	else
		lua_pushfstring(L, "ct.timer (once%s)", t->s ? left : ", done");
	return 1;
}

static const luaL_Reg timer_methods[] = {
	{ "cancel", timer_cancel },
	{ "active", timer_active },
	{ NULL, NULL },
};

static const luaL_Reg timer_meta[] = {
	{ "__close", timer_cancel },
	{ "__tostring", timer_tostring },
	{ NULL, NULL },
};

static const luaL_Reg timer_funcs[] = {
	{ "now", l_now },
	{ "timer", l_timer },
	{ "every", l_every },
	{ NULL, NULL },
};

void ctl_open_timer(lua_State *L)
{
	/* no __gc: a scheduled timer is anchored, and one that is not holds nothing */
	luaL_newmetatable(L, TIMER_MT);
	luaL_setfuncs(L, timer_meta, 0);
	luaL_newlib(L, timer_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, timer_funcs, 1);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_events.c - events from the ring buffer into Lua callbacks and ct.watch: ct.on,
 * ct.run, ct.poll, and the drain a host's own loop (the shell) calls.
 *
 * A callback runs under a time budget enforced by an instruction-count hook that keeps
 * firing once the budget is spent, so a pcall inside the callback cannot swallow it.
 * An error in a callback is printed and the loop carries on. What a callback returns
 * (action [, opts]) becomes the flow's verdict; an "alloc" answer in enforce mode also
 * takes effect at once through a direct request (README, "What the first packet of an
 * undecided flow meets").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "datapath.h"
#include "loop.h"
#include "lua_ct.h"
#include "names.h"
#include "pretty.h"

#define BUDGET_HOOK_COUNT 1000	/* instructions between clock checks */
#define RB_TAG 0

/* The running callback's limits; the hook has no other way to reach them. */
static struct timespec budget_deadline;
static int budget_ms;

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* @t = now (CLOCK_MONOTONIC) + @ms */
static void deadline_after(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (!past(&budget_deadline))
		return;
	luaL_where(L, 0);	/* inside a hook, level 0 is the Lua code that ran too long */
	lua_pushfstring(L, "callback exceeded its time budget of %d ms", budget_ms);
	lua_concat(L, 2);
	lua_error(L);
}

int ctl_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void report(lua_State *L, const char *what)
{
	fprintf(stderr, "%s: %s%s\n", ctl_progname, what ? what : "", lua_tostring(L, -1));
	fflush(stderr);
	lua_pop(L, 1);
}

void ctl_push_event(lua_State *L, struct ctl_state *s, const struct ctlua_event *e)
{
	char addr[CTL_ADDR_STRLEN], ifbuf[IF_NAMESIZE], errbuf[16];
	const struct ctlua_flow *f = &e->flow;
	const char *proto = ctl_proto_name(f->proto);

	lua_createtable(L, 0, 16);
	ctl_set_record_mt(L, CTL_EVENT_MT);
	lua_pushstring(L, e->kind < CTLUA_EV_NR ? ctl_event_names[e->kind] : "?");
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, ctl_addr_format(f->family, f->saddr, addr));
	lua_setfield(L, -2, "src");
	lua_pushstring(L, ctl_addr_format(f->family, f->daddr, addr));
	lua_setfield(L, -2, "dst");
	lua_pushinteger(L, ntohs(f->sport));
	lua_setfield(L, -2, "sport");
	lua_pushinteger(L, ntohs(f->dport));
	lua_setfield(L, -2, "dport");
	if (proto)
		lua_pushstring(L, proto);
	else
		lua_pushinteger(L, f->proto);
	lua_setfield(L, -2, "proto");
	lua_pushstring(L, f->family == CTLUA_AF_INET6 ? "ipv6" : "ipv4");
	lua_setfield(L, -2, "family");
	lua_pushstring(L, ctl_ifname(s, (int)e->ifindex, ifbuf));
	lua_setfield(L, -2, "ifname");
	lua_pushstring(L, e->dir == CTLUA_DIR_EGRESS ? "egress" :
			  e->dir == CTLUA_DIR_REQUEST ? "request" : "ingress");
	lua_setfield(L, -2, "dir");
	lua_pushstring(L, e->action < CTLUA_ACT_NR ? ctl_action_names[e->action] : "?");
	lua_setfield(L, -2, "action");
	if (e->rule_id) {
		lua_pushinteger(L, e->rule_id);
		lua_setfield(L, -2, "rule");
	}
	lua_pushinteger(L, e->error);
	lua_setfield(L, -2, "err");
	if (e->error) {
		lua_pushstring(L, ctl_errno_name(e->error, errbuf, sizeof(errbuf)));
		lua_setfield(L, -2, "errname");
	}
	/* unsigned: a record's time is not trusted to leave room for the offset */
	lua_pushnumber(L, (double)(__s64)(e->time_ns + (__u64)ctl_dp_realtime_offset(s->dp)) / 1e9);
	lua_setfield(L, -2, "time");
	ctl_push_tuple(L, f);
	lua_setfield(L, -2, "tuple");
}

/*
 * Turn a callback's answer (stack: action [, opts]) into the flow's verdict; an alloc
 * answer in enforce mode is applied at once: the entry netfilter may have made for the
 * first packet gets the opts, or a new entry is created.
 */
static void apply_answer(lua_State *L, struct ctl_state *s, const struct ctlua_flow *f, int base)
{
	static const char *const keys[] = { "timeout", "status", "mark", NULL };
	struct ctlua_verdict v = {};
	struct ctlua_request req;
	int i = lua_type(L, base) == LUA_TSTRING
		? ctl_name_index(ctl_action_names, lua_tostring(L, base)) : -1;
	char buf[CTL_FLOW_STRLEN], name[16];
	int err;

	if (i < 0)
		luaL_error(L, "a callback returned %s where an action (pass, alloc or drop) "
			   "was expected", luaL_tolstring(L, base, NULL));
	v.action = (__u8)i;
	if (!lua_isnoneornil(L, base + 1)) {
		if (!lua_istable(L, base + 1))
			luaL_error(L, "a callback returned %s where an opts table was expected",
				   luaL_typename(L, base + 1));
		ctl_check_keys(L, base + 1, 0, keys);
		ctl_check_opts(L, base + 1, 0, false, &v.opts);
	}
	err = ctl_dp_put_verdict(s->dp, f, &v);
	if (err)
		luaL_error(L, "cannot store the verdict for %s (%s)", ctl_flow_format(f, buf),
			   strerror(-err));
	if (v.action != CTLUA_ACT_ALLOC || ctl_dp_config(s->dp)->mode != CTLUA_MODE_ENFORCE)
		return;
	err = ctl_dp_request(s->dp, CTLUA_REQ_APPLY, f, &v.opts, NULL, &req);
	if (!err)
		err = req.error;
	if (err)
		luaL_error(L, "cannot apply the answer to %s: %s (%s)", ctl_flow_format(f, buf),
			   ctl_errno_name(err, name, sizeof(name)), strerror(-err));
}

/* Print the event on top if every field of the watch filter equals the event's. */
static void watch(lua_State *L, struct ctl_state *s)
{
	int ev = lua_gettop(L);
	bool match = true;

	lua_rawgeti(L, LUA_REGISTRYINDEX, s->watch_ref);
	lua_pushnil(L);
	while (match && lua_next(L, -2)) {
		lua_pushvalue(L, -2);
		lua_gettable(L, ev);
		match = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	lua_settop(L, ev);
	if (!match)
		return;
	ctl_pretty(L, ev);
	printf("%s\n", lua_tostring(L, -1));
	fflush(stdout);
	lua_pop(L, 1);
}

/*
 * Protected: build the event, show it if it is watched, run the callback under its
 * budget, apply the answer.
 */
static int dispatch(lua_State *L)
{
	struct ctl_state *s = lua_touserdata(L, 1);
	const struct ctlua_event *e = lua_touserdata(L, 2);
	lua_Hook old_hook = lua_gethook(L);
	int old_mask = lua_gethookmask(L), old_count = lua_gethookcount(L);
	int base, status;

	lua_settop(L, 0);
	if (s->watch_ref != LUA_NOREF) {
		ctl_push_event(L, s, e);
		watch(L, s);
		lua_settop(L, 0);
	}
	if (s->cb_ref[e->kind] == LUA_NOREF)
		return 0;
	lua_pushcfunction(L, ctl_traceback);
	base = lua_gettop(L) + 1;
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[e->kind]);
	ctl_push_event(L, s, e);

	budget_ms = s->budget_ms;
	deadline_after(&budget_deadline, budget_ms);
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_HOOK_COUNT);
	status = lua_pcall(L, 1, 2, 1);
	lua_sethook(L, old_hook, old_mask, old_count);
	if (status != LUA_OK)
		return lua_error(L);	/* already has its traceback */
	if (!lua_isnil(L, base))
		apply_answer(L, s, &e->flow, base);
	return 0;
}

/* ring_buffer sample callback: one event. Returning non-zero stops the drain. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct ctl_state *s = ctx;
	const struct ctlua_event *e = data;
	lua_State *L = s->run_L;

	if (size < sizeof(*e) || e->kind >= CTLUA_EV_NR)
		return 0;
	if (s->cb_ref[e->kind] == LUA_NOREF && s->watch_ref == LUA_NOREF)
		return 0;
	lua_pushcfunction(L, dispatch);
	lua_pushlightuserdata(L, s);
	lua_pushlightuserdata(L, data);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK)
		report(L, NULL);
	s->handled++;
	if (ctl_signal_pending())	/* a flood must not outlast Ctrl-C */
		return -EINTR;
	if (s->drain_limited && past(&s->drain_until))	/* nor hold the shell's prompt */
		return -EAGAIN;
	return 0;
}

static int events_open(lua_State *L, struct ctl_state *s)
{
	int r, err;

	if ((r = ctl_ready(L, s)))
		return r;
	if (s->rb)
		return 0;
	err = ctl_loop_new(&s->loop);
	if (err)
		return ctl_fail(L, err, "cannot create the event loop");
	s->rb = ring_buffer__new(ctl_dp_events_fd(s->dp), on_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		ctl_loop_free(s->loop);
		s->loop = NULL;
		return ctl_fail(L, err, "cannot open the event ring buffer");
	}
	err = ctl_loop_add(s->loop, ring_buffer__epoll_fd(s->rb), RB_TAG);
	if (err) {
		ctl_events_close(s);
		return ctl_fail(L, err, "cannot watch the event ring buffer");
	}
	return 0;
}

void ctl_events_close(struct ctl_state *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	ctl_loop_free(s->loop);
	s->loop = NULL;
}

/* ct.on(kind, fn | nil) -> the previous callback for that kind, or nil */
static int l_on(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	int kind = luaL_checkoption(L, 1, NULL, ctl_event_names);

	if (!lua_isnil(L, 2))
		luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	if (s->cb_ref[kind] != LUA_NOREF) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[kind]);
		luaL_unref(L, LUA_REGISTRYINDEX, s->cb_ref[kind]);
	} else {
		lua_pushnil(L);
	}
	lua_pushvalue(L, 2);
	s->cb_ref[kind] = lua_isnil(L, -1) ? (lua_pop(L, 1), LUA_NOREF)
					   : luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait for events up to @seconds (negative: no limit) and hand them to callbacks.
 * Returns "signal" or "timeout" on the stack, or nil, msg, errno.
 */
static int run_loop(lua_State *L, struct ctl_state *s, double seconds, bool once)
{
	double end = seconds >= 0 ? now_s() + seconds : 0;
	const char *why = "timeout";
	int tags[4], n = 0, err = 0, signo = 0;
	bool stragglers = true;	/* events emitted without a wakeup may be waiting */

	if (s->run_L)	/* libbpf has not yet advanced past the event being handled */
		return luaL_error(L, "ct.run and ct.poll cannot be called from an event callback");
	if ((err = events_open(L, s)))
		return err;
	if ((err = ctl_signals_catch()))
		return ctl_fail(L, err, "cannot catch signals");
	s->run_L = L;
	for (;;) {
		int timeout = -1;

		if (seconds >= 0) {
			double left = end - now_s();

			timeout = left <= 0 ? 0 : left > 86400 ? 86400000 : (int)(left * 1000) + 1;
		}
		/* the program wakes us at most every CTLUA_WAKE_NS per CPU: look again soon */
		if (stragglers && (timeout < 0 || timeout > CTLUA_STRAGGLER_MS))
			timeout = CTLUA_STRAGGLER_MS;
		n = ctl_loop_wait(s->loop, timeout, tags, 4);
		if (n < 0 && n != -EINTR) {
			err = n;
			break;
		}
		/* also without a wakeup: a burst's last events come unannounced. Read some, or
		 * stopped early (a signal): there may be more */
		stragglers = ring_buffer__consume(s->rb) != 0;
		if ((signo = ctl_signal_take())) {
			why = "signal";
			break;
		}
		if (once || (seconds >= 0 && now_s() >= end))
			break;
	}
	ctl_signals_release();
	s->run_L = NULL;
	/*
	 * ct.run answers a signal by returning; ct.poll, called in a loop, must not eat
	 * it: it goes on to the handler that was there before (main's, or the default).
	 * In the shell, a signal interrupts the whole line, ct.run included.
	 */
	if ((once || s->signals_interrupt) && signo)
		raise(signo);
	if (err)
		return ctl_fail(L, err, "waiting for events failed");
	lua_pushstring(L, why);
	return 1;
}

/* ct.run([seconds]) -> "timeout" | "signal" | nil, msg, errno */
static int l_run(lua_State *L)
{
	double seconds = luaL_optnumber(L, 1, -1);

	if (!lua_isnoneornil(L, 1))
		luaL_argcheck(L, seconds >= 0, 1, "seconds must not be negative");
	return run_loop(L, ctl_state(L), seconds, false);
}

/* ct.poll([ms]) -> number of events handed to callbacks | nil, msg, errno */
static int l_poll(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	lua_Integer ms = luaL_optinteger(L, 1, 0);
	unsigned long before = s->handled;
	int r;

	luaL_argcheck(L, ms >= 0, 1, "milliseconds must not be negative");
	r = run_loop(L, s, (double)ms / 1000, true);
	if (lua_isnil(L, -r))
		return r;
	lua_pushinteger(L, (lua_Integer)(s->handled - before));
	return 1;
}

/* ct.budget([ms]) -> the time budget of a callback in ms */
static int l_budget(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);

	if (!lua_isnoneornil(L, 1)) {
		lua_Integer ms = luaL_checkinteger(L, 1);

		luaL_argcheck(L, ms >= 1 && ms <= 3600000, 1, "expected 1 to 3600000 ms");
		s->budget_ms = (int)ms;
	}
	lua_pushinteger(L, s->budget_ms);
	return 1;
}

/* Whether anything wants events: a callback or a watch. */
static bool wanted(const struct ctl_state *s)
{
	if (s->watch_ref != LUA_NOREF)
		return true;
	for (int k = 0; k < CTLUA_EV_NR; k++)
		if (s->cb_ref[k] != LUA_NOREF)
			return true;
	return false;
}

int ctl_events_fd(lua_State *L, struct ctl_state *s)
{
	if (!s->dp || !wanted(s) || s->events_broken)
		return -1;
	if (!s->rb) {
		int r = events_open(L, s);

		if (r) {	/* nil, message, errno: say it once, and stop trying */
			lua_pop(L, 1);
			report(L, NULL);
			lua_pop(L, 1);
			s->events_broken = true;
			return -1;
		}
	}
	return ring_buffer__epoll_fd(s->rb);
}

int ctl_events_drain(lua_State *L, struct ctl_state *s, int max_ms)
{
	int consumed;

	if (!s->rb || s->run_L)
		return -1;
	deadline_after(&s->drain_until, max_ms);
	s->drain_limited = true;
	s->run_L = L;
	consumed = ring_buffer__consume(s->rb);
	s->run_L = NULL;
	s->drain_limited = false;
	return consumed;
}

void ctl_events_unwatch(lua_State *L, struct ctl_state *s)
{
	luaL_unref(L, LUA_REGISTRYINDEX, s->watch_ref);
	s->watch_ref = LUA_NOREF;
}

/*
 * ct.watch([filter]) -> true: print every event whose fields equal the filter's (all
 * events without one) as it arrives; ct.watch(false) stops. The REPL also stops it at
 * the next line typed.
 */
static int l_watch(lua_State *L)
{
	static const char *const fields[] = { "kind", "src", "dst", "sport", "dport", "proto",
					      "family", "ifname", "dir", "action", "rule",
					      "errname", NULL };
	struct ctl_state *s = ctl_state(L);

	if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
		ctl_events_unwatch(L, s);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	else
		luaL_checktype(L, 1, LUA_TTABLE);
	ctl_check_keys(L, 1, 1, fields);
	/* values are compared as they are: "53" would never equal a port */
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_tostring(L, -2);
		bool number = !strcmp(k, "sport") || !strcmp(k, "dport") || !strcmp(k, "rule");
		int want = number || (!strcmp(k, "proto") && lua_type(L, -1) == LUA_TNUMBER)
			? LUA_TNUMBER : LUA_TSTRING;

		if (lua_type(L, -1) != want || (want == LUA_TNUMBER && !lua_isinteger(L, -1)))
			return luaL_argerror(L, 1, lua_pushfstring(L, "field '%s': %s expected, got "
					     "%s", k, want == LUA_TNUMBER ? "an integer" : "a string",
					     luaL_typename(L, -1)));
		lua_pop(L, 1);
	}
	lua_settop(L, 1);
	ctl_events_unwatch(L, s);
	s->watch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg event_funcs[] = {
	{ "on", l_on },
	{ "watch", l_watch },
	{ "run", l_run },
	{ "poll", l_poll },
	{ "budget", l_budget },
	{ NULL, NULL },
};

void ctl_open_events(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, event_funcs, 1);
}

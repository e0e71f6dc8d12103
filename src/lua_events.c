// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_events.c - events from the ring buffer into Lua callbacks and ct.watch: ct.on,
 * ct.run, ct.poll, and the drain a host's own loop (the shell) calls.
 *
 * A callback and the reading of its answer run under a budget (time and memory,
 * sandbox.c) that nothing in the callback can catch or lift. An error in a callback is
 * printed with the callback's name and a traceback, counted (ct.stats), and the loop
 * carries on. What a callback returns (action [, opts]) becomes the flow's verdict; an
 * "alloc" answer in enforce mode also takes effect at once through a direct request
 * (doc/guide.md, "What the first packet of an undecided flow meets").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "datapath.h"
#include "deadline.h"
#include "log.h"
#include "loop.h"
#include "lua_ct.h"
#include "help.h"
#include "names.h"
#include "pretty.h"
#include "sandbox.h"
#include "verdict_buf.h"


int ctl_traceback(lua_State *L)
{
	const char *msg;

	ctl_qualify_error(L, 1);		/* 'ct.rule', not 'rule' */
	msg = lua_tostring(L, 1);

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void report(lua_State *L, const char *what)
{
	ctl_log(CTL_LOG_ERR, "%s%s", what ? what : "", lua_tostring(L, -1));
	lua_pop(L, 1);
}

/*
 * Turn a callback's answer (stack: action [, opts]) into the flow's verdict; an alloc
 * answer in enforce mode is applied at once: the entry netfilter may have made for the
 * first packet gets the opts, or a new entry is created. Runs under the callback's
 * budget: reading the answer may run its metamethods.
 */
static void apply_answer(lua_State *L, struct ctl_state *s, const struct ctlua_flow *f, int base)
{
	const char *const *keys = ctl_keys_opts;
	struct ctlua_verdict v = {};
	struct ctl_dp_policy p;
	struct ctlua_flow fail;
	struct ctlua_request req;
	struct ctlua_req_params params;
	int i = lua_type(L, base) == LUA_TSTRING
		? ctl_name_index(ctl_action_names, lua_tostring(L, base)) : -1;
	char buf[CTL_FLOW_STRLEN], name[16], msg[320];
	int err;

	if (i < 0)
		luaL_error(L, lua_type(L, base) == LUA_TSTRING
			   ? "'%s' is not an action (pass, alloc or drop)"
			   : "%s is not an action (pass, alloc or drop)",
			   luaL_tolstring(L, base, NULL));
	v.action = (__u8)i;
	v.source = CTLUA_SRC_ANSWER;	/* counted apart from ct.verdict's */
	if (!lua_isnoneornil(L, base + 1)) {
		if (!lua_istable(L, base + 1))
			luaL_error(L, "expected an opts table after the action, got %s",
				   luaL_typename(L, base + 1));
		ctl_check_keys(L, base + 1, 0, keys);
		ctl_check_verdict(L, base + 1, 0, f->family, "the tuple's", &v, NULL);
		if (ctl_check_verdict_support(L, s, &v)) {
			lua_pop(L, 1);	/* nil, msg, errno: the message is raised */
			lua_error(L);
		}
	}
	err = ctl_vbuf_put(s->vbuf, f, &v, &fail);	/* written at the batch's end */
	if (err)
		luaL_error(L, "%s", ctl_dp_verdict_error(s->dp, err, ctl_flow_format(&fail, buf),
							 msg, sizeof(msg)));
	ctl_dp_policy(s->dp, &p);
	if (v.action != CTLUA_ACT_ALLOC || p.mode != CTLUA_MODE_ENFORCE)
		return;
	ctl_verdict_req_params(&v, &params);	/* its zone and NAT, if any */
	err = ctl_dp_request(s->dp, CTLUA_REQ_APPLY, f, &v.opts, &params, &req);
	if (!err)
		err = req.error;
	if (err)
		luaL_error(L, "cannot apply the answer to %s: %s (%s)", ctl_flow_format(f, buf),
			   ctl_errno_name(err, name, sizeof(name)), strerror(-err));
}

/*
 * Push "the 'miss' callback (function 'f', policy.lua:3)": what the callback is for (@cb's
 * label, or its event kind quoted), its global name if it has one, and where it is
 * defined. @fn: the callback.
 */
static void push_callback_name(lua_State *L, int fn, const struct ctl_callback *cb)
{
	const char *name = NULL;
	int top = lua_gettop(L);
	lua_Debug ar;

	fn = lua_absindex(L, fn);
	if (cb->label)
		lua_pushfstring(L, "the %s callback", cb->label);
	else
		lua_pushfstring(L, "the '%s' callback", ctl_event_names[cb->kind]);
	lua_pushglobaltable(L);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, fn)) {
			lua_pop(L, 1);
			name = lua_tostring(L, -1);	/* the key, kept on the stack */
			break;
		}
		lua_pop(L, 1);
	}
	lua_pushvalue(L, fn);
	lua_getinfo(L, ">S", &ar);
	if (name)
		lua_pushfstring(L, "%s (function '%s', %s:%d)", lua_tostring(L, top + 1), name,
				ar.short_src, ar.linedefined);
	else if (ar.linedefined > 0)
		lua_pushfstring(L, "%s (%s:%d)", lua_tostring(L, top + 1), ar.short_src,
				ar.linedefined);
	else
		lua_pushfstring(L, "%s (%s)", lua_tostring(L, top + 1), ar.short_src);
	lua_replace(L, top + 1);
	lua_settop(L, top + 1);
}

/*
 * Push the message of a failed callback: "<the callback's name><what><error>". Stack:
 * the callback, the error, the struct ctl_callback, what (plain lua_pcall: it needs
 * memory). Returns it.
 */
static int describe_failure(lua_State *L)
{
	const struct ctl_callback *cb = lua_touserdata(L, 3);
	const char *what = lua_tostring(L, 4);

	push_callback_name(L, 1, cb);
	lua_pushstring(L, what);
	lua_pushvalue(L, 2);
	lua_concat(L, 3);
	return 1;
}

/* With --json (log.h): the event as a JSON line, decoded by the event's field table. */
static void json_event(struct ctl_state *s, const struct ctlua_event *e)
{
	char ifbuf[IF_NAMESIZE];
	struct ctl_event_ctx ctx = { ctl_ifname(s, (int)e->ifindex, ifbuf),
				     s->dp ? ctl_dp_realtime_offset(s->dp) : 0 };

	ctl_log_event(e, &ctx);
}

/* ctlua run --record: the event read, and what its callback answered. */
static void tap(struct ctl_state *s, const struct ctlua_event *e, int answer)
{
	char ifbuf[IF_NAMESIZE];
	struct ctl_event_ctx ctx;

	if (!s->tap)
		return;
	ctx.ifname = ctl_ifname(s, (int)e->ifindex, ifbuf);
	ctx.realtime_offset_ns = s->dp ? ctl_dp_realtime_offset(s->dp) : 0;
	s->tap(s->tap_ctx, e, &ctx, answer);
}

void ctl_events_tap(struct ctl_state *s, ctl_event_tap_fn fn, void *ctx)
{
	s->tap = fn;
	s->tap_ctx = ctx;
}

/*
 * One line of the watch: to the front end's output if it set one, else stdout. The
 * only place the watch writes.
 */
static void watch_line(struct ctl_state *s, const char *line)
{
	if (s->watch_out) {
		s->watch_out(s->watch_ctx, line);
		return;
	}
	printf("%s\n", line);
	fflush(stdout);
}

/* Whether every field of the watch filter equals the event's at @ev. Stack: balanced. */
static bool watch_match(lua_State *L, struct ctl_state *s, int ev)
{
	int top = lua_gettop(L);
	bool match = true;

	ev = lua_absindex(L, ev);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->watch_ref);
	lua_pushnil(L);
	while (match && lua_next(L, -2)) {
		lua_pushvalue(L, -2);
		lua_gettable(L, ev);
		match = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	lua_settop(L, top);
	return match;
}

/* The watch's line for the event at @ev: the local time of @ns (wall clock), then as printed. */
static void watch_show(lua_State *L, struct ctl_state *s, int ev, __s64 ns)
{
	int top = lua_gettop(L);
	char stamp[32];
	struct tm tm;
	time_t sec;

	ev = lua_absindex(L, ev);
	sec = (time_t)(ns / 1000000000);
	if (!localtime_r(&sec, &tm) || !strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm))
		strcpy(stamp, "??:??:??");
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03d ",
		 (int)(ns / 1000000 % 1000));
	ctl_pretty(L, ev);
	lua_pushstring(L, stamp);
	lua_insert(L, -2);
	lua_concat(L, 2);
	watch_line(s, lua_tostring(L, -1));
	lua_settop(L, top);
}

/*
 * Show the event at @ev if it came after the watch began and every field of the watch
 * filter equals the event's, behind the local time it was emitted at (12:04:05.123).
 * With --json, as a JSON line, unless a callback's event already was one (on_event), or
 * a shell of the service's control socket is watching.
 */
static void watch(lua_State *L, struct ctl_state *s, int ev, const struct ctlua_event *e)
{
	if (e->time_ns < s->watch_since_ns || !watch_match(L, s, ev))
		return;
	s->watch_shown++;
	if (ctl_log_json_on() && !s->watch_out) {	/* a shell's watch is text */
		if (s->cb_ref[e->kind] == LUA_NOREF)
			json_event(s, e);
		return;
	}
	watch_show(L, s, ev, (__s64)e->time_ns + (s->dp ? ctl_dp_realtime_offset(s->dp) : 0));
}

void ctl_events_watch_value(lua_State *L, struct ctl_state *s, int idx, __u64 mono_ns)
{
	if (s->watch_ref == LUA_NOREF || mono_ns < s->watch_since_ns || !watch_match(L, s, idx))
		return;
	s->watch_shown++;
	if (ctl_log_json_on() && !s->watch_out)	/* the log's JSON line says it already */
		return;
	watch_show(L, s, idx, (__s64)mono_ns + ctl_dp_clock_offset());
}

struct dispatch {
	struct ctl_callback cb;		/* first: the body gets a pointer to it */
	const struct ctlua_event *e;
	int answer;			/* for the tap: the action answered, or CTL_TAP_* */
};

/*
 * Protected, with ctl_traceback as message handler (ctl_callback_run's body): (struct
 * dispatch *, callback or nil). Makes the event, shows it if it is watched, runs the
 * callback and applies its answer under the budget (armed by ctl_callback_call,
 * disarmed by ctl_callback_run also when this raises). One protected call per event:
 * the callback runs inside it with lua_call, as an error anywhere ends the event the
 * same way; d->cb.phase tells what failed. Returns the budget's message when the
 * callback caught its stop.
 */
static int dispatch(lua_State *L)
{
	struct dispatch *d = lua_touserdata(L, 1);
	struct ctl_state *s = d->cb.s;

	ctl_push_event(L, s, d->e);				/* 3 */
	if (s->watch_ref != LUA_NOREF)
		watch(L, s, 3, d->e);
	if (lua_isnil(L, 2))
		return 0;
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	d->answer = CTL_TAP_NO_ANSWER;
	if (ctl_callback_call(L, &d->cb, 1, 2))			/* answer at 4, 5 */
		return 1;
	if (lua_isnil(L, 4))
		return 0;
	d->cb.phase = CTL_CB_ANSWER;
	apply_answer(L, s, &d->e->flow, 4);
	d->answer = ctl_name_index(ctl_action_names, lua_tostring(L, 4));
	if (ctl_budget_spent(L))
		return d->cb.swallowed = true, 1;
	return 0;
}

lua_State *ctl_callbacks_enter(lua_State *L, struct ctl_state *s, bool *entered)
{
	*entered = !s->run_L;
	if (*entered) {
		s->run_L = L;
		ctl_signals_interrupt_push(L);
	}
	return s->run_L;
}

void ctl_callbacks_leave(struct ctl_state *s, bool entered)
{
	if (!entered)
		return;
	ctl_signals_interrupt_pop();
	s->run_L = NULL;
}

bool ctl_callback_call(lua_State *L, struct ctl_callback *cb, int nargs, int nresults)
{
	cb->phase = CTL_CB_CALLBACK;
	ctl_budget_arm(L, cb->s->budget_ms);
	lua_call(L, nargs, nresults);
	/* stopped, and the stop swallowed: the budget's message is pushed */
	return cb->swallowed = ctl_budget_spent(L);
}

/*
 * Report the failed callback @cb whose error is on top, naming the callback at @fn.
 * Stack: [-1, +0].
 */
static void callback_failed(lua_State *L, struct ctl_callback *cb, int fn)
{
	if (cb->phase != CTL_CB_SETUP) {
		lua_pushcfunction(L, describe_failure);
		lua_pushvalue(L, fn);
		lua_rotate(L, -3, -1);		/* describe, callback, error */
		lua_pushlightuserdata(L, cb);
		lua_pushstring(L, cb->phase == CTL_CB_CALLBACK ? " failed: " : ", its answer: ");
		lua_pcall(L, 4, 1, 0);		/* out of memory: that message instead */
	}
	report(L, NULL);
}

int ctl_callback_run(lua_State *L, struct ctl_callback *cb, lua_CFunction body, int nargs)
{
	int fn = lua_gettop(L) - nargs, base = fn - 1, status;
	enum ctl_stop why;

	lua_pushcfunction(L, ctl_traceback);
	lua_insert(L, fn++);			/* traceback, callback, its arguments */
	lua_pushcfunction(L, body);
	lua_pushlightuserdata(L, cb);
	for (int i = 0; i <= nargs; i++)
		lua_pushvalue(L, fn + i);
	status = lua_pcall(L, nargs + 2, 1, fn - 1);
	why = ctl_budget_disarm(L);
	if (status == LUA_OK && cb->swallowed)
		status = LUA_ERRRUN;
	if (status != LUA_OK) {
		struct ctl_state *s = cb->s;

		s->callback_errors++;
		if (why == CTL_STOP_TIME)
			s->callback_timeouts++;
		if (why == CTL_STOP_MEMORY || status == LUA_ERRMEM) {
			s->callback_memory++;
			lua_gc(L, LUA_GCCOLLECT, 0);	/* the next callback starts clean */
		}
		callback_failed(L, cb, fn);
	}
	lua_settop(L, base);
	return status;
}

/* ring_buffer sample callback: one event. Returning non-zero stops the drain. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct ctl_state *s = ctx;
	struct dispatch d = { .cb = { .s = s, .phase = CTL_CB_SETUP }, .e = data,
			      .answer = CTL_TAP_NO_CALLBACK };
	lua_State *L = s->run_L;

	if (s->closed)		/* a callback closed the module: stop reading */
		return -ECANCELED;
	if (size < sizeof(*d.e) || d.e->kind >= CTLUA_EV_NR)
		return 0;
	d.cb.kind = d.e->kind;
	if (s->cb_ref[d.cb.kind] == LUA_NOREF && s->watch_ref == LUA_NOREF) {
		tap(s, d.e, CTL_TAP_NO_CALLBACK);
		return 0;
	}
	if (s->cb_ref[d.cb.kind] != LUA_NOREF && ctl_log_json_on())
		json_event(s, d.e);	/* before its callback, which may log */
	if (s->cb_ref[d.cb.kind] != LUA_NOREF)	/* for messages */
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[d.cb.kind]);
	else
		lua_pushnil(L);
	if (ctl_callback_run(L, &d.cb, dispatch, 0) != LUA_OK)
		d.answer = CTL_TAP_FAILED;
	tap(s, d.e, d.answer);
	s->handled++;
	if (ctl_signal_pending())	/* a flood must not outlast Ctrl-C */
		return -EINTR;
	if (s->drain_limited && ctl_deadline_past(&s->drain_until))	/* nor hold the shell's prompt */
		return -EAGAIN;
	return 0;
}

/*
 * One drain batch: what waits in the ring buffer, to the callbacks (ct.run, ct.poll
 * and the shell's prompt all drain through here). Returns what ring_buffer__consume
 * returns.
 */
static int consume_batch(struct ctl_state *s)
{
	int n;

	if (s->vbuf)
		ctl_vbuf_batch(s->vbuf, true);
	n = ring_buffer__consume(s->rb);
	/*
	 * The end of a drain batch: the one place where what the batch's callbacks wrote
	 * (their verdicts) goes to the kernel, before the flows' next packets.
	 */
	ctl_verdicts_flush(s);
	if (s->vbuf)	/* a callback may have closed the module: then vbuf is gone */
		ctl_vbuf_batch(s->vbuf, false);
	return n;
}

/* The loop's event source. */
static int consume_ring(void *ctx)
{
	return consume_batch(ctx);
}

static int events_open(lua_State *L, struct ctl_state *s)
{
	long page = sysconf(_SC_PAGESIZE);
	int r, err, fd;

	if ((r = ctl_ready(L, s)))
		return r;
	if (s->rb)
		return 0;
	err = ctl_loop_new(&s->loop);
	if (err)
		return ctl_fail(L, err, "cannot create the event loop");
	fd = ctl_dp_events_fd(s->dp);
	s->rb = ring_buffer__new(fd, on_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		ctl_loop_free(s->loop);
		s->loop = NULL;
		return ctl_fail(L, err, "cannot open the event ring buffer");
	}
	/* The consumer's page, then the producer's: what the loop looks at before it sleeps. */
	s->ring_pos = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_SHARED, fd, 0);
	if (s->ring_pos == MAP_FAILED) {
		err = -errno;
		s->ring_pos = NULL;
		ctl_events_close(s);
		return ctl_fail(L, err, "cannot map the event ring buffer");
	}
	s->wake.asleep = ctl_dp_asleep(s->dp);
	s->wake.consumer = s->ring_pos;
	s->wake.producer = (const void *)((const char *)s->ring_pos + page);
	/* the map itself, not libbpf's epoll descriptor: one epoll set, not two nested */
	err = ctl_loop_set_source(s->loop, fd, consume_ring, s, &s->wake);
	if (err) {
		ctl_events_close(s);
		return ctl_fail(L, err, "cannot watch the event ring buffer");
	}
	return 0;
}

void ctl_events_close(struct ctl_state *s)
{
	if (s->ring_pos)
		munmap(s->ring_pos, (size_t)sysconf(_SC_PAGESIZE) * 2);
	s->ring_pos = NULL;
	s->wake = (struct ctl_wake){ 0 };
	ring_buffer__free(s->rb);
	s->rb = NULL;
	ctl_loop_free(s->loop);
	s->loop = NULL;
}

/* The kinds the watch filter lets through: the one its kind names, else all. */
static unsigned int watched_kinds(lua_State *L, struct ctl_state *s)
{
	unsigned int kinds = (1u << CTLUA_EV_NR) - 1;
	int k;

	lua_rawgeti(L, LUA_REGISTRYINDEX, s->watch_ref);
	lua_pushliteral(L, "kind");
	if (lua_rawget(L, -2) == LUA_TSTRING) {	/* ct.watch checked its type */
		k = ctl_name_index(ctl_event_names, lua_tostring(L, -1));
		kinds = k >= 0 ? 1u << k : 0;	/* an unknown kind matches nothing */
	}
	lua_pop(L, 2);
	return kinds;
}

__u8 ctl_events_mask(lua_State *L, struct ctl_state *s)
{
	unsigned int want = 0;

	for (int k = 0; k < CTLUA_EV_NR; k++)
		if (s->cb_ref[k] != LUA_NOREF)
			want |= 1u << k;
	if (s->watch_ref != LUA_NOREF)
		want |= watched_kinds(L, s);
	if (s->tap)	/* ctlua run --record */
		want = (1u << CTLUA_EV_NR) - 1;
	return (__u8)(want & ~(unsigned int)s->events_off);
}

int ctl_events_sync_mask(lua_State *L, struct ctl_state *s)
{
	struct ctl_dp_policy p;
	__u8 want;

	if (!s->dp || s->staged)	/* staged: written with the whole policy (lua_stage.c) */
		return 0;
	want = ctl_events_mask(L, s);
	ctl_dp_policy(s->dp, &p);
	if (p.event_mask == want)
		return 0;
	p.event_mask = want;
	return ctl_dp_put_policy(s->dp, &p);
}

/*
 * ct.on(kind, fn | nil) -> the previous callback for that kind, or nil | nil, msg,
 * errno (the callback is set, but the program's event mask could not be written)
 */
static int l_on(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	int kind = ctl_check_option(L, 1, NULL, ctl_on_names), err;

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
	if ((err = ctl_events_sync_mask(L, s)))
		return ctl_fail(L, err, "cannot write the config map");
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait for events up to @seconds (negative: no limit) and hand them to callbacks; with
 * @once, return as soon as some were handed over. Returns "signal" or "timeout" on the
 * stack, or nil, msg, errno.
 *
 * A stop signal ends the wait. ct.run in a script answers it by returning "signal" (and
 * returns at once from then on: the script was asked to end). ct.poll, called in a loop,
 * must not eat it, nor ct.run in the shell, where a signal interrupts the whole line: it
 * stays pending and raises "interrupted" at the caller's next instruction. In stock Lua
 * (ct.so) it goes on to the handler that was there before instead.
 */
static int run_loop(lua_State *L, struct ctl_state *s, double seconds, bool once)
{
	double end = seconds >= 0 ? now_s() + seconds : 0;
	bool pass_on = once || s->signals_interrupt, hosted = ctl_signals_hosted();
	unsigned long before = s->handled;
	const char *why = "timeout";
	int n, err = 0, signo = 0, tags[4];

	if (s->served)
		return luaL_error(L, "ct.run and ct.poll cannot be called in a policy that "
				  "'ctlua run' serves (it serves the events itself)");
	if (s->run_L)	/* libbpf has not yet advanced past the event being handled */
		return luaL_error(L, "ct.run and ct.poll cannot be called from an event callback");
	if (hosted && ctl_signal_stopping() && !ctl_signal_pending()) {
		if (pass_on)
			return luaL_error(L, "interrupted");
		lua_pushstring(L, "signal");
		return 1;
	}
	if ((err = events_open(L, s)))
		return err;
	if ((err = ctl_links_watch(s, s->loop)))
		return ctl_fail(L, err, "cannot watch the interfaces");
	if ((err = ctl_signals_catch()))
		return ctl_fail(L, err, "cannot catch signals");
	s->run_L = L;
	ctl_signals_interrupt_push(L);
	ctl_timers_watch(L, s, s->loop);
	while (!s->closed) {
		int timeout = -1;

		if (seconds >= 0) {
			double left = end - now_s();

			timeout = left <= 0 ? 0 : left > 86400 ? 86400000 : (int)(left * 1000) + 1;
		}
		ctl_links_deliver(L, s);	/* what a read of link.attached found */
		n = ctl_loop_wait(s->loop, timeout, tags, 4);
		for (int i = 0; i < n; i++)
			if (tags[i] == CTL_LINK_TAG)
				ctl_links_changed(L, s);
		if (n == -EINTR) {
			signo = ctl_signal_pending();
			why = "signal";
			break;
		}
		if (n < 0) {
			err = n;
			break;
		}
		if (once && s->handled != before)
			break;
		if (seconds >= 0 && now_s() >= end)
			break;
	}
	if (signo && (!pass_on || !hosted))
		ctl_signal_take();
	ctl_signals_interrupt_pop();
	s->run_L = NULL;
	ctl_signals_release();
	if (signo && pass_on) {
		if (hosted)
			ctl_signal_interrupt(L);	/* L may be a coroutine no one else knows */
		else
			raise(signo);
	}
	if (s->closed)	/* by a callback, through the state's __gc called by hand */
		return luaL_error(L, "the ct module is closed");
	if (err)
		return ctl_fail(L, err, "waiting for events failed");
	lua_pushstring(L, why);
	return 1;
}

/* ct.run([seconds]) -> "timeout" | "signal" | nil, msg, errno */
static int l_run(lua_State *L)
{
	/* inf is "no limit", as no argument; nan and negative times are refused */
	double seconds = lua_isnoneornil(L, 1) ? -1 : ctl_check_number(L, 1, 0, HUGE_VAL);

	return run_loop(L, ctl_state(L), seconds, false);
}

/*
 * ct.poll([ms]) -> number of events handed to callbacks | nil, msg, errno: waits up to
 * @ms for the first one, then returns with what came with it.
 */
static int l_poll(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	lua_Integer ms = lua_isnoneornil(L, 1) ? 0 : ctl_check_int(L, 1, 0, INT_MAX);
	unsigned long before = s->handled;
	int r;

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
		lua_Integer ms = ctl_check_int(L, 1, 1, 3600000);

		s->budget_ms = (int)ms;
	}
	lua_pushinteger(L, s->budget_ms);
	return 1;
}

/* Whether anything wants events: a callback or a watch. */
static bool wanted(const struct ctl_state *s)
{
	if (s->watch_ref != LUA_NOREF || s->tap)
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
	return ctl_dp_events_fd(s->dp);
}

const struct ctl_wake *ctl_events_wake(const struct ctl_state *s)
{
	return s->ring_pos ? &s->wake : NULL;
}

int ctl_events_drain(lua_State *L, struct ctl_state *s, int max_ms)
{
	bool entered;
	int consumed;

	if (!s->rb || s->run_L || s->closed)
		return -1;
	ctl_deadline_after(&s->drain_until, max_ms);
	s->drain_limited = true;
	ctl_callbacks_enter(L, s, &entered);	/* Ctrl-C at the prompt stops a callback too */
	consumed = consume_batch(s);
	ctl_callbacks_leave(s, entered);
	s->drain_limited = false;
	return consumed;
}

/* Stop the watch; returns 0 or -errno from writing the event mask. */
static int unwatch(lua_State *L, struct ctl_state *s)
{
	luaL_unref(L, LUA_REGISTRYINDEX, s->watch_ref);
	s->watch_ref = LUA_NOREF;
	return ctl_events_sync_mask(L, s);
}

void ctl_events_unwatch(lua_State *L, struct ctl_state *s)
{
	/* a kind left on costs records nobody reads, nothing worse: the next sync fixes it */
	unwatch(L, s);
}

bool ctl_events_watching(const struct ctl_state *s, unsigned long *shown)
{
	*shown = s->watch_shown;
	return s->watch_ref != LUA_NOREF;
}

void ctl_events_watch_output(struct ctl_state *s, void (*out)(void *ctx, const char *line),
			     void *ctx)
{
	s->watch_out = out;
	s->watch_ctx = ctx;
}

void ctl_events_signals_interrupt(struct ctl_state *s)
{
	s->signals_interrupt = true;
}

/*
 * ct.watch([filter]) -> true: print every event from now on whose fields equal the
 * filter's (all events without one) as it arrives; ct.watch(false) stops. The shell
 * holds the prompt while a watch is on, and Ctrl-C stops it.
 */
static int l_watch(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	int err;

	if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
		if ((err = unwatch(L, s)))
			return ctl_fail(L, err, "cannot write the config map");
		lua_pushboolean(L, 1);
		return 1;
	}
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	ctl_flow_filter(L, 1);		/* a tuple, or its text: that flow's events */
	luaL_checktype(L, 1, LUA_TTABLE);
	ctl_check_record_filter(L, 1, &ctl_event_record);
	lua_settop(L, 1);
	luaL_unref(L, LUA_REGISTRYINDEX, s->watch_ref);
	s->watch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* what waits in the ring buffer came before: not shown */
	s->watch_since_ns = (__u64)ctl_now_ns(CLOCK_MONOTONIC);
	s->watch_shown = 0;
	if ((err = ctl_events_sync_mask(L, s)))
		return ctl_fail(L, err, "cannot write the config map");
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * ct.memory_limit([size]) -> limit, used: the Lua state's memory limit in bytes (a size
 * as an integer or a string like "512M"), and the bytes it uses now.
 */
static int l_memory_limit(lua_State *L)
{
	if (!lua_isnoneornil(L, 1)) {
		size_t limit;
		const char *why = NULL;

		if (ctl_budget_active())	/* the cap is what holds a callback in */
			return luaL_error(L, "ct.memory_limit cannot change the limit from a "
					  "callback");

		if (lua_type(L, 1) == LUA_TNUMBER) {
			lua_Integer n = ctl_check_int(L, 1, LUA_MININTEGER, LUA_MAXINTEGER);

			limit = (size_t)n;
			if (n < (1 << 20))
				why = "a size of at least 1M is expected";
		} else {
			why = ctl_parse_size(ctl_check_cstring(L, 1), &limit);
		}
		if (why)
			return luaL_argerror(L, 1, why);
		if (!ctl_mem_limit(L))
			return luaL_error(L, "this Lua state's allocator is not ctlua's: "
					  "no memory limit can be set");
		ctl_mem_set_limit(L, limit);
	}
	lua_pushinteger(L, (lua_Integer)ctl_mem_limit(L));
	lua_pushinteger(L, (lua_Integer)ctl_mem_used(L));
	return 2;
}

static const luaL_Reg event_funcs[] = {
	{ "on", l_on },
	{ "watch", l_watch },
	{ "run", l_run },
	{ "poll", l_poll },
	{ "budget", l_budget },
	{ "memory_limit", l_memory_limit },
	{ NULL, NULL },
};

void ctl_open_events(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, event_funcs, 1);
}

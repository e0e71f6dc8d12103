/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ct_host.h - what a host of the `ct` module (src/main.c, the shell in src/repl*.c)
 * calls: opening the module, its events for the host's own loop, and the few helpers
 * the shell shares. The module's files share more, in lua_ct.h; hosts include only this.
 */
#ifndef CTLUA_CT_HOST_H
#define CTLUA_CT_HOST_H

#include <stdbool.h>
#include <lua.h>
#include <linux/types.h>
#include "ctlua.h"

#define CTL_TUPLE_MT	"ct.tuple"
#define CTL_LINK_MT	"ct.link"
#define CTL_SET_MT	"ct.set"

struct ctl_state;
struct ctl_dp_opts;
struct ctl_loop;

/* The module's opener, for luaL_requiref(L, "ct", luaopen_ct, 1). Pushes the module. */
int luaopen_ct(lua_State *L);

/* Name printed before messages on stderr ("ctlua", or "ct" inside stock lua). */
extern const char *ctl_progname;

/* Message handler for lua_pcall: the error message with a traceback appended. */
int ctl_traceback(lua_State *L);

/* The state of the `ct` module loaded into @L, or NULL (for hosts, not module functions). */
struct ctl_state *ctl_state_of(lua_State *L);

/*
 * Set what the state's datapath will be loaded with (the command line's --verdicts), as
 * ct.config does; only before the first use loads it. Copies @o.
 */
void ctl_state_set_dp_opts(struct ctl_state *s, const struct ctl_dp_opts *o);

/*
 * For a host's own event loop (the REPL): the descriptor that turns readable when events
 * wait, opening the ring buffer if a callback or a watch wants events; -1 while nothing
 * does or the datapath is not loaded. The program wakes the reader only when it says it
 * is asleep: give the loop ctl_events_wake(s) with the descriptor (ctl_loop_set_source).
 */
int ctl_events_fd(lua_State *L, struct ctl_state *s);
/* The wakeup protocol of the ring buffer ctl_events_fd opened (NULL before it did). */
const struct ctl_wake *ctl_events_wake(const struct ctl_state *s);
/*
 * Hand the waiting events to the watch and the callbacks, without blocking, for at most
 * about @max_ms (and one callback's budget); returns how many records were read, 0
 * when none waited, -1 when there is nothing to read from, or another negative
 * number when it stopped early with more waiting.
 */
int ctl_events_drain(lua_State *L, struct ctl_state *s, int max_ms);
/*
 * Write the buffered verdicts now (src/verdict_buf.h); a write the kernel refused is
 * reported on stderr with its flow. For the ends of callback batches, shell lines and
 * scripts (ctl_run_call). Does nothing before the datapath is loaded.
 */
void ctl_verdicts_flush(struct ctl_state *s);
/* The loop's tag of the link notifications' socket. */
#define CTL_LINK_TAG	100
/*
 * Put the link notifications' socket in @loop (once links exist): ct.run, ct.poll and
 * the service call it before they wait. Returns 0 or -errno.
 */
int ctl_links_watch(struct ctl_state *s, struct ctl_loop *loop);
/*
 * Read the link notifications and act on them: a waiting link attaches when its
 * interface appears; an attached one whose interface is deleted is lost (attached
 * false, a line on stderr) and, with wait, waits for it again. Stack: balanced.
 */
void ctl_links_changed(lua_State *L, struct ctl_state *s);
/*
 * Run the 'link' callback (ct.on("link", fn)) for what happened to the links since the
 * last call: lost, attached when the interface appeared, failed to attach. ct.run,
 * ct.poll and the service's loop call it (ctl_links_changed does); a link.attached
 * read only queues. Each runs as an event's callback does (ctl_callback_run).
 */
void ctl_links_deliver(lua_State *L, struct ctl_state *s);
/*
 * ctl_links_changed, then a look at every link's interface as it is now, not as the
 * notifications said: what changed before the notifications were watched (a policy
 * made live by ctlua run, whose watch opens at its commit) is found too. Stack: balanced.
 */
void ctl_links_resync(lua_State *L, struct ctl_state *s);
/*
 * Timers (ct.timer, ct.every; lua_timer.c) for a host's own loop: from now on @loop
 * fires @s's due timers while it waits, on @L (ct.run's thread instead while it runs).
 * The service calls it for the live state at every switch, so that only its timers
 * fire; NULL @s takes the timers out of @loop.
 */
void ctl_timers_watch(lua_State *L, struct ctl_state *s, struct ctl_loop *loop);
/* When @s's next timer is due (CLOCK_MONOTONIC ns), or -1 when none is scheduled. */
__s64 ctl_timers_next(const struct ctl_state *s);
/*
 * Run the callbacks of @s's timers that are due, on @L, each as an event's callback runs
 * (lua_events.c, ctl_callback_run). Returns how many ran.
 */
int ctl_timers_fire(lua_State *L, struct ctl_state *s);
/*
 * What ctlua run --record sees of each event it reads from the ring buffer, whether a
 * callback takes it or not: the record, its context (interface name, clock offset),
 * and the answer of its callback: an enum ctlua_action, CTL_TAP_NO_CALLBACK,
 * CTL_TAP_NO_ANSWER (it returned nothing) or CTL_TAP_FAILED (it raised).
 */
#define CTL_TAP_NO_CALLBACK	(-1)
#define CTL_TAP_NO_ANSWER	(-2)
#define CTL_TAP_FAILED		(-3)
struct ctl_event_ctx;
typedef void (*ctl_event_tap_fn)(void *ctx, const struct ctlua_event *e,
				 const struct ctl_event_ctx *ectx, int answer);
/*
 * Give every event @s reads to @fn(@ctx, ...) after its callback ran; while a tap is
 * set, the program emits every kind that ct.events allows. NULL @fn removes it.
 */
void ctl_events_tap(struct ctl_state *s, ctl_event_tap_fn fn, void *ctx);
/* Stop ct.watch. */
void ctl_events_unwatch(lua_State *L, struct ctl_state *s);
/* Whether ct.watch is on; how many lines it printed since it began. */
bool ctl_events_watching(const struct ctl_state *s, unsigned long *shown);
/*
 * Send ct.watch's lines to @out (one line, no newline, each call) instead of stdout;
 * NULL sends them to stdout again. For a front end that shows them elsewhere.
 */
void ctl_events_watch_output(struct ctl_state *s, void (*out)(void *ctx, const char *line),
			     void *ctx);
/*
 * Show the event at @idx (a table, such as a link event) that happened at @mono_ns
 * (CLOCK_MONOTONIC) on the watch, if it began before and its filter lets it through,
 * stamped with the wall-clock time of events. With --json nothing: the log has a JSON
 * line for it. Stack: balanced.
 */
void ctl_events_watch_value(lua_State *L, struct ctl_state *s, int idx, __u64 mono_ns);
/* From now on a signal during ct.run interrupts it as it does ct.poll (the shell's way). */
void ctl_events_signals_interrupt(struct ctl_state *s);

/*
 * ctlua run's start and reload (lua_stage.c, src/service.c). Staging @s: from now until
 * ctl_stage_commit, ct.rule, ct.unrule, ct.default, ct.mode, ct.events and ct.on are
 * recorded in @s without touching what packets read, and ct.attach checks the
 * interface and loads its program but attaches nothing. With @running (the live
 * state of the service), @s shares its datapath and verdict buffer instead of loading
 * its own. ct.run and ct.poll refuse in @s for good: the service serves its events.
 */
void ctl_stage_begin(struct ctl_state *s, struct ctl_state *running);
/*
 * Make the staged @s live: attach its new links (an interface and direction that
 * @running, NULL at start, has already is adopted, not re-attached), then switch rules,
 * classifier, default, mode and event mask with one ctl_dp_put_policy. The datapath
 * and verdict buffer become @s's; @running keeps only the links @s did not adopt, which
 * lua_close(@running) detaches. On failure nothing has changed (links attached for the
 * commit are detached again), one sentence is in @msg, and -errno is returned. A
 * Lua error (out of memory) can be raised only before anything has changed: the
 * caller runs it protected. Stack: balanced.
 */
int ctl_stage_commit(lua_State *L, struct ctl_state *s, struct ctl_state *running, char *msg,
		     size_t len);

/*
 * ctlua check: stage @s with no datapath at all. On top of ctl_stage_begin's staging,
 * ct.attach checks the interface (a missing one is a problem, and the check goes on)
 * and loads nothing, and the module's functions that act at once (ct.alloc and the
 * other direct requests, ct.verdict, ct.forget, ct.sync, ct.stats, ct.delete,
 * ct.flush) are replaced in the module table at @idx by ones that report a problem and
 * return nil, "EOPNOTSUPP: ...". Problems go to stderr with the caller's file:line.
 */
void ctl_stage_dry(lua_State *L, int idx, struct ctl_state *s);
/* How many problems ctlua check reported in @s. */
unsigned int ctl_stage_problems(const struct ctl_state *s);
/*
 * One line for what the staged @s would do when made live: "attach veth0 ingress;
 * mode enforce; default drop; 2 rules; callbacks miss, alloc". Pushes it.
 */
void ctl_stage_push_summary(lua_State *L, struct ctl_state *s);

/*
 * Push t[k] read raw (no __index runs) and return its type; nil when the value at @idx
 * is no table. For code that must not run user code: completion, the printer.
 */
int ctl_rawfield(lua_State *L, int idx, const char *k);

/* The fields a tuple, a link and a set answer to (for completion), NULL-terminated. */
extern const char *const ctl_tuple_fields[];
extern const char *const ctl_link_fields[];
extern const char *const ctl_set_fields[];
/* A set's kinds, as ct.set takes them: "prefix", "port", NULL. */
extern const char *const ctl_set_kind_names[];

#endif

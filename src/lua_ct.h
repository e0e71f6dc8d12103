/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lua_ct.h - what the files of the `ct` Lua module share. Not an API: the module's
 * API is what luaopen_ct registers (doc/api.md); what hosts call is in ct_host.h.
 *
 * Every module function gets the state userdata as upvalue 1 (ctl_state).
 */
#ifndef CTLUA_LUA_CT_H
#define CTLUA_LUA_CT_H

#include <stdbool.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <linux/types.h>
#include "ctlua.h"
#include "arg_keys.h"
#include "ct_host.h"
#include "datapath.h"
#include "fields.h"
#include "loop.h"
#include "names.h"
#include "rules.h"
#include "tc.h"
#include "xdp.h"

#define CTL_STATE_MT	"ct.state"
#define CTL_ENTRY_MT	"ct.entry"	/* plain tables; the metatable only prints them */
#define CTL_EVENT_MT	"ct.event"	/* userdata over the record (lua_event.c) */

struct ctl_dp;
struct ctl_loop;
struct ctl_vbuf;
struct ctl_link_watch;
struct ring_buffer;

struct ctl_link {
	struct ctl_tc_link tc;
	bool attached;
	bool lost;			/* taken over, or its filter or interface went away */
	bool staged;			/* on its state's staged_links (ctlua run, lua_stage.c) */
	struct ctl_tc_opts opts;	/* staged (ctlua run): what the commit attaches with */
	bool wait;			/* attach whenever the interface appears (lua_link.c) */
	char where[LUA_IDSIZE + 24];	/* staged: "FILE:LINE: " of its ct.attach, for the commit */
	struct ctl_state *state;
	__u64 netns;			/* inode of the namespace it was made in */
	struct ctl_link *next;		/* state's list of attached links */
	int hook;			/* enum ctl_hook: tc (tc holds the filter) or xdp */
	int xdp_mode;			/* enum ctl_xdp_mode asked for; xdp.mode is the one used */
	struct ctl_xdp_link xdp;	/* hook xdp: the link, fd -1 while not attached */
};

/* What happened to a link (ct.on("link")): ctl_link_event_names. */
enum ctl_link_event_what {
	CTL_LINK_LOST,		/* its filter went away: interface deleted, filter removed */
	CTL_LINK_ATTACHED,	/* a waiting link attached: its interface appeared */
	CTL_LINK_FAILED,	/* it could not attach when its interface appeared */
};

/* One of them, queued until the loop can run the callback (lua_link.c). */
struct ctl_link_event {
	char ifname[IF_NAMESIZE];
	int ifindex;
	int err;			/* CTL_LINK_FAILED: -errno */
	__u8 dir;
	__u8 what;
	bool wait;			/* the link waits for its interface (again) */
	__u64 mono_ns;			/* when, CLOCK_MONOTONIC (ev.time adds the clock offset) */
};
#define CTL_LINK_EVENTS	16		/* queued at most; older ones are dropped */

struct ctl_state {
	__u32 magic;			/* tells a state from other userdata (ctl_state) */
	struct ctl_dp *dp;		/* loaded on first use (ctl_ready) */
	struct ctl_vbuf *vbuf;		/* verdict writes on their way to dp (verdict_buf.h) */
	struct ctl_dp_opts dp_opts;	/* what it loads with (ct.config) */
	struct ctl_loop *loop;		/* created with the ring buffer */
	struct ring_buffer *rb;
	void *ring_pos;			/* the ring's two position pages, read-only */
	struct ctl_wake wake;		/* the ring's wakeup protocol (loop.h) */
	lua_State *run_L;		/* the thread inside ct.run/ct.poll */
	int cb_ref[CTL_ON_NR];		/* callbacks, LUA_NOREF when unset */
	int watch_ref;			/* ct.watch filter, LUA_NOREF when off */
	__u64 watch_since_ns;		/* ... shows events from then on (CLOCK_MONOTONIC) */
	unsigned long watch_shown;	/* ... lines it printed */
	void (*watch_out)(void *ctx, const char *line);	/* where they go; NULL: stdout */
	void *watch_ctx;
	__u8 events_off;		/* kinds ct.events turned off (bit 1 << kind) */
	__u32 limit_owner;		/* tags the limit slots it took (lua_limit.c); 0: none yet */
	struct ctlua_limit *dry_limits;	/* a dry state's own slots, on the Lua heap; NULL: none */
	struct ctl_sets *sets;		/* ct.set's (lua_set.c); NULL until the first */
	bool signals_interrupt;		/* the shell: ct.run passes a signal on, as ct.poll */
	bool events_broken;		/* the ring buffer could not be opened for the shell */
	bool mask_unsynced;		/* ctl_ready could not write the event mask yet */
	bool drain_limited;		/* ctl_events_drain: stop the drain at drain_until */
	struct timespec drain_until;
	struct ctl_link *links;		/* attached, and waiting for their interface */
	struct ctl_link_watch *link_watch;	/* link notifications, from the first link */
	bool link_watch_looped;		/* its socket is in loop (tag CTL_LINK_TAG) */
	/* what happened to links, for the 'link' callback (ctl_links_deliver) */
	struct ctl_link_event link_events[CTL_LINK_EVENTS];
	unsigned int link_events_n;
	__u64 link_watch_netns;		/* the namespace it watches: its links' only */
	int budget_ms;			/* time a callback may run */
	unsigned long handled;		/* events given to callbacks */
	unsigned long callback_errors;	/* callbacks that failed, for any reason */
	unsigned long callback_timeouts; /* ... stopped by their time budget */
	unsigned long callback_memory;	/* ... stopped by the memory limit */
	struct ctl_state *next_live;	/* every open state, for the exit handler */
	bool closed;			/* collected: a finalizer may still call us */
	bool leave_enforcing;		/* ct.config{when_stopped="enforce"}: exit leaves filters */
	int event_mt_ref;		/* the events' metatable (lua_event.c); 0 until made */
	/* ctlua run (lua_stage.c): a policy staged, then made live in one step */
	bool staged;			/* its top level runs: what packets read is recorded */
	bool served;			/* ctlua run serves its events: ct.run, ct.poll refuse */
	bool dp_borrowed;		/* dp and vbuf are the running state's: not freed here */
	__u8 stage_mode;		/* ct.mode while staged */
	struct ctlua_verdict stage_dflt;	/* ct.default while staged */
	struct ctl_link *staged_links;	/* ct.attach while staged: attached at the commit */
	bool dry;			/* ctlua check: staged with no datapath at all */
	bool replay;			/* ctlua replay: dry, and interfaces need not exist */
	ctl_event_tap_fn tap;		/* ctlua run --record: every event read (ct_host.h) */
	void *tap_ctx;
	unsigned int problems;		/* what ctlua check found (ctl_check_problem) */
	/* ct.timer, ct.every (lua_timer.c) */
	struct ctl_timer *timers;	/* scheduled, soonest first */
	lua_State *timer_L;		/* the thread they fire on outside ct.run */
	/*
	 * the host's copy of the live rule table: last, as luaopen_ct zeroes only what comes
	 * before it (2.6 MB whose pages stay untouched until rules are added)
	 */
	struct ctl_rules rules;
};

/*
 * One run of a Lua callback (an event's, a timer's) under the guard rails every callback
 * has: protected, with a traceback, under the budget (time and memory); a failure is
 * reported with the callback's name and counted (ct.stats), and the caller goes on.
 */
enum ctl_cb_phase {
	CTL_CB_SETUP,		/* before the callback (making the event): the error as it is */
	CTL_CB_CALLBACK,	/* the callback: "the ... callback (...) failed: " */
	CTL_CB_ANSWER,		/* reading its answer: "the ... callback (...), its answer: " */
};
struct ctl_callback {
	struct ctl_state *s;
	const char *label;	/* messages say "the <label> callback"; NULL: the event kind's */
	int kind;		/* that kind, when label is NULL */
	enum ctl_cb_phase phase;	/* where it is: set by the body */
	bool swallowed;		/* the budget stopped the callback and it caught the stop */
};
/*
 * Call @body protected, with (lightuserdata @cb, the callback, its @nargs arguments),
 * the callback (or nil, for messages) and its arguments being on top of the stack. The
 * body runs the callback with ctl_callback_call and returns 0, or 1 if that returned
 * true. Returns the pcall's status, the failure reported and counted.
 * Stack: [-(nargs + 1), +0].
 */
int ctl_callback_run(lua_State *L, struct ctl_callback *cb, lua_CFunction body, int nargs);
/*
 * Callbacks that run outside ct.run (timers, link events, the shell's drain) enter the
 * context ct.run gives them: ct.run and ct.poll refuse inside, Ctrl-C stops them. Returns
 * the thread they run on (ct.run's while it runs, else @L); *@entered says whether
 * ctl_callbacks_leave has something to undo.
 */
lua_State *ctl_callbacks_enter(lua_State *L, struct ctl_state *s, bool *entered);
void ctl_callbacks_leave(struct ctl_state *s, bool entered);
/*
 * Inside a body: lua_call the function below its @nargs arguments under the budget. True
 * when the budget stopped it and the callback caught the stop: the budget's message is
 * then pushed and the body must return it (return 1).
 */
bool ctl_callback_call(lua_State *L, struct ctl_callback *cb, int nargs, int nresults);

/*
 * luaL_testudata and luaL_checkudata for the module's objects, which also check the
 * block's @size: debug.setmetatable can give any userdata (io.stdout) our metatable.
 */
void *ctl_testobject(lua_State *L, int idx, const char *tname, size_t size);
void *ctl_checkobject(lua_State *L, int idx, const char *tname, size_t size);

/* The state, from upvalue 1 of the running C function; raises once it is closed. */
struct ctl_state *ctl_state(lua_State *L);

/*
 * Make sure the datapath is loaded and its event mask written. Returns 0, or pushes
 * nil, message, errno and returns 3 (so callers can `return r`); what failed is tried
 * again at the next call.
 */
int ctl_ready(lua_State *L, struct ctl_state *s);

/*
 * Rate limits (lua_limit.c). ctl_limit_check reads a rule's limit field, the table at
 * @idx, into @out; misuse raises "field 'limit': ..." as argument @arg's.
 * ctl_limit_attach gives @spec a slot for rule @rule_id (0: the default), taken by @s,
 * loading the datapath if need be (a dry state takes one of its own array: ctlua check
 * and replay see the limits as a run would); returns the slot, or pushes nil, msg, errno
 * and returns -3. ctl_limit_detach frees a slot again (its rule could not be written).
 * ctl_limits_reap frees the slots @s took that no live policy used and its rules and
 * staged default no longer name (a staged policy's, replaced); call it before taking
 * more and after a policy is written (ctl_dp_put_policy frees the slots the live
 * policy no longer names). ctl_limits_abandon frees all of those, named or not (a
 * staged policy that never went live). ctl_limits_map maps @s's slots into @m (0, or
 * -errno; -ENODEV when it has none), ctl_limit_map_close (ratelimit.h) unmaps them.
 * ctl_limit_push sets field 'limit' of the table on top to slot @idx's spec of @m, as
 * a rule takes it (nothing for slot 0, or when @m maps nothing).
 */
struct ctlua_limit;
struct ctl_limit_map;
void ctl_limit_check(lua_State *L, int idx, int arg, struct ctlua_limit *out);
int ctl_limit_attach(lua_State *L, struct ctl_state *s, struct ctlua_limit *spec, __u32 rule_id);
void ctl_limit_detach(struct ctl_state *s, unsigned int idx);
void ctl_limits_reap(struct ctl_state *s);
void ctl_limits_abandon(struct ctl_state *s);
int ctl_limits_map(struct ctl_state *s, struct ctl_limit_map *m);
void ctl_limit_push(lua_State *L, struct ctl_limit_map *m, unsigned int idx);
/* The over action (enum ctlua_action) of @s's limit slot @idx, or -1 when none. */
int ctl_limit_over(struct ctl_state *s, unsigned int idx);

/* Push nil, "ENAME: <fmt...>", errno (positive) and return 3. @err may be negative. */
int ctl_fail(lua_State *L, int err, const char *fmt, ...);

/*
 * Argument checking. @arg is the argument number for "bad argument #arg to 'f'"
 * messages, or 0 outside a function call (then the error is raised as plain text).
 * Field checks read t[field] of the table at @idx; @field NULL means the argument
 * itself. Strings holding a NUL byte are refused everywhere (C would read their start),
 * and numbers are range-checked before they are converted.
 */
int ctl_arg_error(lua_State *L, int arg, const char *fmt, ...);
/* Push @len bytes of @s as a message quotes them (\0 for NUL, cut after 60); returns it. */
const char *ctl_quote(lua_State *L, const char *s, size_t len);
/* Argument @arg as a string without NUL bytes (luaL_checkstring otherwise). */
const char *ctl_check_cstring(lua_State *L, int arg);
/* luaL_checkoption that refuses "alloc\0x" instead of reading "alloc". */
int ctl_check_option(lua_State *L, int arg, const char *dflt, const char *const names[]);
/*
 * The value at @idx as an integer in [min, max]: "expected an integer, got 1.5|nan|
 * string", "2^63 is out of range 0 to 65535" (what it was, and the range wanted).
 */
lua_Integer ctl_check_int_at(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
			     lua_Integer max);
/* Argument @arg as an integer in [min, max], as ctl_check_int_at. */
lua_Integer ctl_check_int(lua_State *L, int arg, lua_Integer min, lua_Integer max);
/* Argument @arg as a number in [min, max]; nan is refused ("expected a number, got nan"). */
lua_Number ctl_check_number(lua_State *L, int arg, lua_Number min, lua_Number max);
/* The value at @idx as a string without NUL bytes; raises on anything else. */
const char *ctl_check_str_at(lua_State *L, int idx, int arg, const char *field);
/*
 * The length n of the list at @idx; raises unless its keys are exactly 1..n, naming a
 * key that is no list index or the first hole. @what is what the list should be
 * ("a list of event kinds"). Raw access, no metamethods.
 */
lua_Integer ctl_check_list(lua_State *L, int idx, int arg, const char *field, const char *what);
/*
 * Run @check(L, vidx, @ud) on the value at @idx (an item of a list), with arg 0; a misuse
 * it raises is raised again as "bad argument #arg to 'f' (item N: ...)". Stack: balanced.
 */
void ctl_check_item(lua_State *L, int idx, int arg, lua_Integer item,
		    void (*check)(lua_State *L, int vidx, void *ud), void *ud);
/* Raise on any key of the table at @idx that is not in @allowed (NULL-terminated). */
void ctl_check_keys(lua_State *L, int idx, int arg, const char *const allowed[]);
/* The same for the table that is field @field of argument @arg ("field 'snat': ..."). */
void ctl_check_keys_in(lua_State *L, int idx, int arg, const char *field,
		       const char *const allowed[]);
/*
 * The port field @field (named so in messages: "dport", "snat.port") whose value is at
 * @idx, nil, one port 0 to 65535 or a table, into @p, which ctl_port_compile checks.
 * Raises on another type. Raw access, no metamethods; stack: balanced.
 */
void ctl_check_port_at(lua_State *L, int idx, int arg, const char *field,
		       struct ctl_port_spec *p);
/* t[field] as an integer in [min, max]; returns false (and *out untouched) when nil. */
bool ctl_field_int(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
		   lua_Integer max, lua_Integer *out);
/*
 * t[field] as a string, or NULL when nil. The string stays valid while t holds it, and
 * for at least the next 15 calls whatever happens to t (an __index may have made it).
 */
const char *ctl_field_str(lua_State *L, int idx, int arg, const char *field);
/* t[field] as one of @names; returns its index, or @dflt when nil. */
int ctl_field_option(lua_State *L, int idx, int arg, const char *field, const char *const names[],
		     int dflt);

/* t[field] as the name of a namespace from `ip netns` (checked, not opened), or NULL. */
const char *ctl_field_netns(lua_State *L, int idx, int arg, const char *field);
/* t[field] as "tcp", "udp" or a protocol number 0-255; -1 when nil. */
int ctl_field_proto(lua_State *L, int idx, int arg, const char *field);
/*
 * t[field] as "ADDR" or "ADDR/LEN" into @addr and @mask (both zero when nil).
 * Returns the family, or 0 when nil.
 */
int ctl_field_prefix(lua_State *L, int idx, int arg, const char *field, __be32 addr[4],
		     __be32 mask[4]);
/*
 * opts fields timeout (ms), status (names or number), mark, from the table at @idx.
 * Status bits BPF cannot set are refused, except in a number when @raw_status (the
 * direct requests, where experiments want the kernel's answer).
 */
void ctl_check_opts(lua_State *L, int idx, int arg, bool raw_status, struct ctlua_opts *o);
/* Add the set opts fields to the table on top of the stack (lua_push.c). */
void ctl_push_opts_fields(lua_State *L, const struct ctlua_opts *o);
/* Push {decided=, allocated=, dropped=, errors={EEXIST=n, ...}} for @c (lua_counts.c). */
void ctl_push_count(lua_State *L, const struct ctlua_count *c);
/*
 * The live policy into @p (ctl_dp_policy) and its counts (ctl_dp_counts) in a userdata
 * pushed on the stack: [0, p->nrules) its rules', then the default's, then each per-flow
 * verdict source's. On failure NULL, nothing pushed, and -errno in *@err.
 */
const struct ctlua_count *ctl_counts_live(lua_State *L, struct ctl_state *s,
					  struct ctl_dp_policy *p, int *err);
/*
 * Push ct.stats().sources (doc/api.md); 0, or -errno with nothing pushed. Its keys, in
 * order: ctl_source_names (NULL-terminated).
 */
int ctl_push_sources(lua_State *L, struct ctl_state *s);
extern const char *const ctl_source_names[];
/*
 * The kfunc-level fields of a request's opts at @idx (netns, zone, l4proto, dir,
 * reserved, tuple_size, opts_size, snat, dnat) into @p, from the default. @family is the
 * tuple's, which NAT addresses must share. Raises on misuse; returns 0, or pushes nil,
 * msg, errno and returns 3 when the kernel lacks a feature or a netns name is unknown.
 * The caller limits which fields are allowed (ctl_check_keys).
 */
int ctl_check_req_params(lua_State *L, int idx, int arg, int family, struct ctlua_req_params *p);
/*
 * A verdict's fields, the table at @idx (the zone and NAT ones are those direct requests
 * take), into @v, its action kept: the opts (ctl_check_opts), zone, snat and dnat with
 * their CTLUA_OPT_* flags, and with @lim its limit (ctl_limit_check; rate 0: none).
 * NULL @lim: the caller's keys refuse a limit. NAT addresses must be of @family (@whose
 * names it in messages: "the rule's"); 0 takes either, the two alike. The caller checks
 * the keys first (ctl_check_keys) and what the kernel lacks after
 * (ctl_check_verdict_support). Raises on misuse. Returns the NAT addresses' family, 0
 * when there is no NAT.
 */
int ctl_check_verdict(lua_State *L, int idx, int arg, int family, const char *whose,
		      struct ctlua_verdict *v, struct ctlua_limit *lim);
/*
 * What the kernel offers, for @s: as its datapath read it when loaded, else what the
 * kernel's BTF says (ctlua check, a staged policy, explaining a replayed event), probed
 * once; NULL when BTF cannot be read.
 */
const struct ctl_features *ctl_state_features(struct ctl_state *s);
/*
 * Whether the kernel offers the zone and NAT @v asks for, as @s's datapath sees it (or,
 * not loaded, the kernel's BTF): 0, or nil, "EOPNOTSUPP: ... kernel 6.11 ...", errno
 * pushed and 3 returned.
 */
int ctl_check_verdict_support(lua_State *L, struct ctl_state *s, const struct ctlua_verdict *v);
/* The direct-request params that allocate as verdict @v does: its zone and NAT. */
void ctl_verdict_req_params(const struct ctlua_verdict *v, struct ctlua_req_params *p);
/* Add @v's zone, snat and dnat, as ctl_check_verdict reads them, to the table on top. */
void ctl_push_verdict_xlat(lua_State *L, const struct ctlua_verdict *v);
/* The entry a direct request read back. */
void ctl_request_entry(const struct ctlua_request *r, struct ctl_entry *e);
/* Push a list of the names of the IPS_* bits in @status (lua_push.c). */
void ctl_push_status(lua_State *L, __u32 status);

/* A flow from a ct.tuple userdata, a table or a string ct.tuple accepts, at @arg. */
void ctl_check_flow(lua_State *L, int arg, struct ctlua_flow *f);
/* The same for the value at stack index @idx, reported as part of argument @arg. */
void ctl_check_flow_at(lua_State *L, int idx, int arg, struct ctlua_flow *f);
/*
 * A filter argument at @arg that is a tuple or its text becomes the table of its five
 * fields (src, dst, sport, dport, proto), in place; anything else is left as it is.
 */
void ctl_flow_filter(lua_State *L, int arg);
void ctl_push_tuple(lua_State *L, const struct ctlua_flow *f);
/*
 * Parse a tuple written as tostring(tuple) writes it, "udp 198.18.0.2:40000 → 198.18.0.1:53"
 * ("->" for the arrow also goes; IPv6 in brackets; a protocol name or number). Returns
 * true with @f filled, false if @text (@len bytes) is not one.
 */
bool ctl_flow_parse_text(const char *text, size_t len, struct ctlua_flow *f);

/*
 * Reading the flows of a long list (ct.alloc_many) with the same checks, faster: begin
 * pushes what the reads share onto the stack, end pops it. Every item must stay
 * referenced (by the list) until end.
 */
#define CTL_FLOW_BATCH_CACHE	8	/* addresses remembered by string (a power of 2) */
struct ctl_flow_batch {
	int keys;			/* stack index of the five field names */
	const char *key[5];		/* and their interned texts, to compare by address */
	const char *proto_text;		/* the last protocol string parsed */
	int proto;
	/* address strings parsed lately, by their (interned, unmoving) text */
	const char *addr_text[CTL_FLOW_BATCH_CACHE];
	__be32 addr[CTL_FLOW_BATCH_CACHE][4];
	int addr_family[CTL_FLOW_BATCH_CACHE];
};
void ctl_flow_batch_begin(lua_State *L, struct ctl_flow_batch *b);
/* Item @item of argument @arg, at @idx: misuse reads "bad argument #arg ... (item N: ...)". */
void ctl_flow_batch_read(lua_State *L, struct ctl_flow_batch *b, int idx, int arg,
			 lua_Integer item, struct ctlua_flow *f);
void ctl_flow_batch_end(lua_State *L, struct ctl_flow_batch *b);
/*
 * Push a record as a table with metatable @mt (none if NULL): every field of @r that @rec (with its
 * context @ctx) has, as ctl_push_value makes it. Stack: [-0, +1].
 */
void ctl_push_record(lua_State *L, const struct ctl_record *r, const void *rec,
		     const void *ctx, const char *mt);
/* Push one field's value in its Lua form (enum ctl_field_type says which). */
void ctl_push_value(lua_State *L, enum ctl_field_type type, const struct ctl_value *v);
/*
 * Check the table at @arg as a filter on records of @r: only fields flagged
 * CTL_FIELD_FILTER, integers where the field is one, strings otherwise (a protocol
 * may be either). Raises on misuse.
 */
void ctl_check_record_filter(lua_State *L, int arg, const struct ctl_record *r);
/* Push an entry: the fields of ctl_entry_record (fields.c), metatable ct.entry. */
void ctl_push_entry(lua_State *L, const struct ctl_entry *e);
/* Give the table on top the metatable @name, whose __tostring prints it as the shell does. */
void ctl_set_record_mt(lua_State *L, const char *name);

/* Name of the interface with @ifindex, from the attached links first (no syscall). */
const char *ctl_ifname(struct ctl_state *s, int ifindex, char buf[IF_NAMESIZE]);

/*
 * Push the Lua value of one ring-buffer record: the event object callbacks get
 * (lua_event.c), a copy of @e whose fields are decoded when read. Any bytes are safe
 * in @e: an unknown kind or action reads "?". Also the entry point of
 * fuzz/event_fuzz.c. Stack: [-0, +1]; raises only when memory runs out.
 */
void ctl_push_event(lua_State *L, struct ctl_state *s, const struct ctlua_event *e);
/* The record of the event object at @idx, or NULL when it is no event. */
const struct ctlua_event *ctl_test_event(lua_State *L, int idx);

/* Detach every link; used when the state goes away. */
void ctl_links_detach_all(struct ctl_state *s);
/*
 * Write the event mask the TC program reads: the kinds something listens to (a ct.on
 * callback, ct.watch: the kind its filter names, else all), less those ct.events
 * turned off. Nothing to do before the datapath is loaded (ctl_ready calls it then).
 * Returns 0 or -errno (the config map could not be written). Stack: balanced.
 */
int ctl_events_sync_mask(lua_State *L, struct ctl_state *s);
/*
 * The event mask ctl_events_sync_mask writes: the kinds something listens to, less
 * those ct.events turned off. Stack: balanced.
 */
__u8 ctl_events_mask(lua_State *L, struct ctl_state *s);
/*
 * ct.attach while @s is staged: @l (on the stack, not attached) names @ifname and @dir
 * and goes on the state's staged list; ctl_stage_commit attaches it with @opts (copied)
 * or adopts it.
 */
void ctl_stage_link(struct ctl_state *s, struct ctl_link *l, const char *ifname, int dir,
		    bool l3, const struct ctl_tc_opts *opts);
/*
 * The sentence for an attach of @ifname, @dir that ctl_tc_attach refused with @err and
 * @why (who holds the hook, which orphans, what to do), into @buf.
 */
void ctl_link_refusal(char *buf, size_t len, int err, const char *ifname, int dir,
		      const struct ctl_tc_conflict *why, const char *pin_dir);
/*
 * Take @l off its hook for good: its filter if it still runs there (when it is gone, the
 * detach only lets the record go), or, if the detach fails, the record alone. @l reads
 * unattached afterwards; it stays on the state's list.
 */
void ctl_link_drop(struct ctl_link *l);
/*
 * Attach @fd as @l's filter (its tc.ifname, tc.dir and opts set) with ctl_tc_attach;
 * orphans="adopt" compares with @s's pinned maps, and an adoption is said on stderr.
 * A link of hook xdp goes to ctl_xdp_attach instead. Either is refused (-EBUSY,
 * CTL_TC_OTHER_HOOK) where a link of @s holds the interface's ingress at the other hook.
 * Returns what ctl_tc_attach (ctl_xdp_attach) returns.
 */
int ctl_link_tc_attach(struct ctl_state *s, int fd, struct ctl_link *l,
		       struct ctl_tc_conflict *why);
/*
 * The program @l attaches (its hook, tc.dir set; @l3: the device has no link header),
 * loaded on first use: a fd, -EPROTONOSUPPORT (XDP on an L3 device) or -errno.
 */
int ctl_link_prog_fd(struct ctl_state *s, const struct ctl_link *l, bool l3);
/* Whether @l's filter or XDP link is still on its interface: 1, 0, or -errno. */
int ctl_link_check(const struct ctl_link *l);
/*
 * ctlua check: report a problem in the policy at the Lua code calling the running C
 * function ("ctlua: policy.lua:3: <fmt...>" on stderr) and count it. Returns 0.
 */
int ctl_check_problem(lua_State *L, struct ctl_state *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Release the ring buffer and loop. */
void ctl_events_close(struct ctl_state *s);
/* Free what a closed state holds (ring buffer, loop, datapath); for the finalizer. */
void ctl_state_release(struct ctl_state *s);


/* Registration, one per file: each adds its functions to the module table on top. */
void ctl_open_tuple(lua_State *L);	/* also creates the tuple metatable */
void ctl_open_link(lua_State *L);
void ctl_open_policy(lua_State *L);
void ctl_open_limit(lua_State *L);
void ctl_open_events(lua_State *L);
void ctl_open_direct(lua_State *L);
void ctl_open_kernel(lua_State *L);
void ctl_open_conntrack(lua_State *L);
void ctl_open_timer(lua_State *L);
/* Cancel every timer of @s: the state is closing (lua_timer.c). */
void ctl_timers_close(lua_State *L, struct ctl_state *s);
void ctl_open_record(lua_State *L);	/* ct.record (lua_record.c) */
void ctl_open_set(lua_State *L);	/* ct.set, ct.sets (lua_set.c) */
/*
 * Named sets (lua_set.c): ctl_sets_of gives @s's sets in *@out, made on first use (with
 * the datapath's maps when @s has one, on the host alone when dry): 0 or -ENOMEM.
 * ctl_sets_close frees them, their entries leaving the maps: before the datapath goes.
 */
struct ctl_sets;
int ctl_sets_of(struct ctl_state *s, struct ctl_sets **out);
void ctl_sets_close(struct ctl_state *s);

#endif

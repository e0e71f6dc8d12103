/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lua_ct.h - what the files of the `ct` Lua module share. Not an API: the module's
 * API is what luaopen_ct registers (README, "Lua API").
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
#include "tc.h"

#define CTL_TUPLE_MT	"ct.tuple"
#define CTL_LINK_MT	"ct.link"
#define CTL_STATE_MT	"ct.state"
#define CTL_ENTRY_MT	"ct.entry"	/* plain tables; the metatable only prints them */
#define CTL_EVENT_MT	"ct.event"

struct ctl_dp;
struct ctl_loop;
struct ring_buffer;

struct ctl_link {
	struct ctl_tc_link tc;
	bool attached;
	struct ctl_state *state;
	struct ctl_link *next;		/* state's list of attached links */
};

/*
 * A conntrack entry as ctlua reports it, whether a kfunc request (lua_direct.c) or
 * ctnetlink (lua_conntrack.c) read it. ctl_push_entry makes the one Lua form of it.
 */
struct ctl_entry {
	struct ctlua_flow tuple;	/* original direction */
	struct ctlua_flow reply;	/* reply direction, rewritten by NAT */
	__u32 status;			/* IPS_* bits */
	__u32 mark;
	__u32 timeout_ms;		/* time left */
	__u16 zone;			/* zone id, 0 the default */
};

struct ctl_rule_entry {
	struct ctlua_rule rule;
	lua_Integer priority;
};

struct ctl_state {
	struct ctl_dp *dp;		/* loaded on first use (ctl_ready) */
	struct ctl_loop *loop;		/* created with the ring buffer */
	struct ring_buffer *rb;
	lua_State *run_L;		/* the thread inside ct.run/ct.poll */
	int cb_ref[CTLUA_EV_NR];	/* callbacks, LUA_NOREF when unset */
	int watch_ref;			/* ct.watch filter, LUA_NOREF when off */
	bool signals_interrupt;		/* the shell: ct.run passes a signal on, as ct.poll */
	bool events_broken;		/* the ring buffer could not be opened for the shell */
	bool drain_limited;		/* ctl_events_drain: stop the drain at drain_until */
	struct timespec drain_until;
	struct ctl_link *links;
	struct ctl_rule_entry rules[CTLUA_MAX_RULES];
	unsigned int nrules;
	__u32 next_rule_id;
	int budget_ms;			/* time a callback may run */
	unsigned long handled;		/* events given to callbacks */
	struct ctl_state *next_live;	/* every open state, for the exit handler */
	bool closed;			/* collected: a finalizer may still call us */
};

/* Name printed before messages on stderr ("ctlua", or "ct" inside stock lua). */
extern const char *ctl_progname;

/* The state, from upvalue 1 of the running C function; raises once it is closed. */
struct ctl_state *ctl_state(lua_State *L);

/*
 * Make sure the datapath is loaded. Returns 0, or pushes nil, message, errno and
 * returns 3 (so callers can `return r`).
 */
int ctl_ready(lua_State *L, struct ctl_state *s);

/* Push nil, "ENAME: <fmt...>", errno (positive) and return 3. @err may be negative. */
int ctl_fail(lua_State *L, int err, const char *fmt, ...);

/*
 * Argument checking. @arg is the argument number for "bad argument #arg to 'f'"
 * messages, or 0 outside a function call (then the error is raised as plain text).
 * Field checks read t[field] of the table at @idx.
 */
int ctl_arg_error(lua_State *L, int arg, const char *fmt, ...);
/* While non-zero, ctl_arg_error starts its text with "item N: " (and resets it). */
extern int ctl_arg_item;
/* Raise on any key of the table at @idx that is not in @allowed (NULL-terminated). */
void ctl_check_keys(lua_State *L, int idx, int arg, const char *const allowed[]);
/* t[field] as an integer in [min, max]; returns false (and *out untouched) when nil. */
bool ctl_field_int(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
		   lua_Integer max, lua_Integer *out);
/* t[field] as a string, or NULL when nil. The string stays valid while t holds it. */
const char *ctl_field_str(lua_State *L, int idx, int arg, const char *field);
/* t[field] as one of @names; returns its index, or @dflt when nil. */
int ctl_field_option(lua_State *L, int idx, int arg, const char *field, const char *const names[],
		     int dflt);

/*
 * Push t[k] read raw (no __index runs) and return its type; nil when the value at @idx
 * is no table. For code that must not run user code: completion, the printer.
 */
int ctl_rawfield(lua_State *L, int idx, const char *k);
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
/* Add the set opts fields to the table on top of the stack. */
void ctl_push_opts_fields(lua_State *L, const struct ctlua_opts *o);
/*
 * The kfunc-level fields of a request's opts at @idx (netns, zone, l4proto, dir,
 * reserved, tuple_size, opts_size, snat, dnat) into @p, from the default. @family is the
 * tuple's, which NAT addresses must share. Raises on misuse; returns 0, or pushes nil,
 * msg, errno and returns 3 when the kernel lacks a feature or a netns name is unknown.
 * The caller limits which fields are allowed (ctl_check_keys).
 */
int ctl_check_req_params(lua_State *L, int idx, int arg, int family, struct ctlua_req_params *p);
/* The entry a direct request read back. */
void ctl_request_entry(const struct ctlua_request *r, struct ctl_entry *e);
/* Push a list of the names of the IPS_* bits in @status. */
void ctl_push_status(lua_State *L, __u32 status);

/* A flow from a ct.tuple userdata or a table ct.tuple accepts, at @arg. */
void ctl_check_flow(lua_State *L, int arg, struct ctlua_flow *f);
/* The same for the value at stack index @idx, reported as part of argument @arg. */
void ctl_check_flow_at(lua_State *L, int idx, int arg, struct ctlua_flow *f);
void ctl_push_tuple(lua_State *L, const struct ctlua_flow *f);

/*
 * Reading the flows of a long list (ct.alloc_many) with the same checks, faster: begin
 * pushes what the reads share onto the stack, end pops it. Every item must stay
 * referenced (by the list) until end.
 */
struct ctl_flow_batch {
	int keys;			/* stack index of the five field names */
	const char *src_text, *dst_text, *proto_text;	/* the last strings parsed */
	__be32 src[4], dst[4];
	int src_family, dst_family, proto;
};
void ctl_flow_batch_begin(lua_State *L, struct ctl_flow_batch *b);
void ctl_flow_batch_read(lua_State *L, struct ctl_flow_batch *b, int idx, int arg,
			 struct ctlua_flow *f);
void ctl_flow_batch_end(lua_State *L, struct ctl_flow_batch *b);
/*
 * Push an entry: {tuple=, reply=, status={names}, status_bits=, timeout=, mark=, zone=,
 * snat={addr=, port=} and dnat={...} where the status says NAT rewrote the reply}.
 */
void ctl_push_entry(lua_State *L, const struct ctl_entry *e);
/* Give the table on top the metatable @name, whose __tostring prints it as the shell does. */
void ctl_set_record_mt(lua_State *L, const char *name);

/* The fields a tuple and a link answer to (for completion), NULL-terminated. */
extern const char *const ctl_tuple_fields[];
extern const char *const ctl_link_fields[];

/* Name of the interface with @ifindex, from the attached links first (no syscall). */
const char *ctl_ifname(struct ctl_state *s, int ifindex, char buf[IF_NAMESIZE]);

/*
 * Push the Lua value of one ring-buffer record (the event table callbacks get). Any
 * bytes are safe in @e: an unknown kind or action reads "?". Also the entry point of
 * fuzz/event_fuzz.c.
 */
void ctl_push_event(lua_State *L, struct ctl_state *s, const struct ctlua_event *e);

/* Message handler for lua_pcall: the error message with a traceback appended. */
int ctl_traceback(lua_State *L);

/* Detach every link; used when the state goes away. */
void ctl_links_detach_all(struct ctl_state *s);
/* Release the ring buffer and loop. */
void ctl_events_close(struct ctl_state *s);

/*
 * For a host's own event loop (the REPL): the descriptor that turns readable when events
 * wait, opening the ring buffer if a callback or a watch wants events; -1 while nothing
 * does or the datapath is not loaded.
 */
int ctl_events_fd(lua_State *L, struct ctl_state *s);
/*
 * Hand the waiting events to the watch and the callbacks, without blocking, for at most
 * about @max_ms (and one callback's budget); returns how many records were read, 0
 * when none waited, -1 when there is nothing to read from, or another negative
 * number when it stopped early with more waiting. The program wakes the reader at most every
 * CTLUA_WAKE_NS per CPU, so after a drain that read some, drain again within
 * CTLUA_STRAGGLER_MS even if the descriptor stays quiet.
 */
int ctl_events_drain(lua_State *L, struct ctl_state *s, int max_ms);
/* Stop ct.watch. */
void ctl_events_unwatch(lua_State *L, struct ctl_state *s);
/* The state of the `ct` module loaded into @L, or NULL (for hosts, not module functions). */
struct ctl_state *ctl_state_of(lua_State *L);

/* Registration, one per file: each adds its functions to the module table on top. */
void ctl_open_tuple(lua_State *L);	/* also creates the tuple metatable */
void ctl_open_link(lua_State *L);
void ctl_open_policy(lua_State *L);
void ctl_open_events(lua_State *L);
void ctl_open_direct(lua_State *L);
void ctl_open_kernel(lua_State *L);
void ctl_open_conntrack(lua_State *L);

#endif

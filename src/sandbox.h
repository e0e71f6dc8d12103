/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.h - what keeps a Lua callback from taking the host down: its time budget, the
 * memory cap of the Lua state, the wrappers that make the budget's error uncatchable, and
 * text-only chunk loading (sandbox.c).
 */
#ifndef CTLUA_SANDBOX_H
#define CTLUA_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

/* The memory limit when none is given: 1 GiB, or half the machine's RAM if smaller. */
size_t ctl_mem_default_limit(void);

/*
 * A new Lua state (luaL_newstate) whose allocator counts its memory and refuses to grow
 * past the hard cap, the limit plus an eighth (ctl_mem_wrap). NULL when out of memory.
 */
lua_State *ctl_sandbox_newstate(size_t limit);

/*
 * Make @L's allocator the counting one if it is not already (ct.so in stock lua5.4): the
 * count starts at what the state uses now; the old allocator is put back when @L closes.
 * Stack: unchanged.
 */
void ctl_mem_wrap(lua_State *L, size_t limit);

/* The memory limit of @L in bytes (0: none, @L's allocator is not ours); set it. */
size_t ctl_mem_limit(lua_State *L);
void ctl_mem_set_limit(lua_State *L, size_t limit);
/*
 * Read a size: bytes, or a number with K, M or G (powers of 1024), at least 1M.
 * Returns NULL, or why @text is not one.
 */
const char *ctl_parse_size(const char *text, size_t *size);
/* Bytes @L uses now, as its allocator counts them (lua_gc's count otherwise). */
size_t ctl_mem_used(lua_State *L);

/*
 * Replace, in @L's globals, what would let a callback escape its budget or load bytecode:
 * pcall, xpcall, coroutine.resume/wrap/close, debug.sethook, load, loadfile, dofile,
 * string.rep, table.move/insert/remove, and the string matching functions (src/match.c).
 * Idempotent; call it before any user code runs, so nobody holds the originals.
 * Bytecode stays loadable only after ctl_sandbox_allow_bytecode(true). Stack: unchanged.
 */
void ctl_sandbox_open(lua_State *L);
void ctl_sandbox_allow_bytecode(bool allow);

/*
 * luaL_loadfilex / luaL_loadbufferx for the host's own chunks (policies, -e, stdin):
 * text only unless bytecode is allowed, with a message that names the chunk.
 */
int ctl_load_file(lua_State *L, const char *path);
int ctl_load_buffer(lua_State *L, const char *buf, size_t len, const char *name);

/* Why a budget stopped a callback. */
enum ctl_stop {
	CTL_STOP_NONE,
	CTL_STOP_TIME,		/* the time budget is spent */
	CTL_STOP_MEMORY,	/* the memory limit is reached */
	CTL_STOP_SIGNAL,	/* ctl_budget_interrupt */
};

/*
 * Arm the budget of a callback about to run on @L: @ms of time (counted from its first
 * check, at most a thousand instructions in) and the state's memory limit. Sets the
 * budget's hook on @L, saving the one there was. Callbacks do not nest.
 */
void ctl_budget_arm(lua_State *L, int ms);
/*
 * End the budget armed on @L. Returns why it stopped the callback (CTL_STOP_NONE if it
 * did not). Safe to call when not armed. The hook stays until it next fires (within a
 * thousand instructions of Lua code run after), then puts the old one back: callbacks
 * in a row pay for setting it once.
 */
enum ctl_stop ctl_budget_disarm(lua_State *L);
/*
 * Stop the running callback, or the next one to start, at its next check (within a
 * thousand instructions, or the next poll of a C loop) with the error "interrupted",
 * which nothing in it can catch. Async-signal-safe: meant for the stop signals' handler,
 * so that a callback cannot catch Ctrl-C with pcall. ctl_budget_interrupt_clear, when
 * the signal has been taken, forgets it.
 */
void ctl_budget_interrupt(void);
void ctl_budget_interrupt_clear(void);
/* Whether a budget is armed (code runs inside a callback). */
bool ctl_budget_active(void);
/*
 * Whether the armed budget has stopped the callback, even if something caught the stop
 * where no wrapper raises it again (a __tostring run under the printer's own pcall):
 * then pushes the budget's error and returns true. Stack: [-0, +(0|1)].
 */
bool ctl_budget_spent(lua_State *L);

/*
 * The poll of long C loops (src/match.c's matcher, the table and string wrappers):
 * raises the budget's error if the armed budget is spent, or "FILE:LINE: interrupted"
 * when a stop signal is waiting (also outside callbacks), else returns.
 */
void ctl_budget_poll(lua_State *L);

#endif

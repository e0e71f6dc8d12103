/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * match.h - Lua 5.4's pattern matching (string.find, match, gmatch, gsub) with a step
 * counter, so a pathological pattern can be stopped by the caller's time budget.
 */
#ifndef CTLUA_MATCH_H
#define CTLUA_MATCH_H

#include <lua.h>

/*
 * Matching steps between two calls of the poll function. A step is one pattern item tried
 * at one position (a few nanoseconds), one subject byte scanned by a repetition, a %b or a
 * back-reference, or one byte of a long set read. Overridable at build time (the fuzzer
 * sets it low).
 */
#ifndef CTL_MATCH_POLL_STEPS
#define CTL_MATCH_POLL_STEPS 16384
#endif

/*
 * Replace string.find, string.match, string.gmatch and string.gsub in the global
 * `string` table with equivalents that call poll(L) every CTL_MATCH_POLL_STEPS
 * matching steps; poll raises an error to stop a match (or returns to let it go on).
 *
 * Results and error messages are those of Lua 5.4's string library. Without a global
 * `string` table (a state that did not open the library) nothing is replaced. Methods on
 * strings (s:find) use the new functions too, as the string metatable's __index is that
 * table. Stack: unchanged.
 */
void ctl_open_string_match(lua_State *L, void (*poll)(lua_State *L));

#endif

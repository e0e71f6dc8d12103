/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pretty.h - how the REPL (and ct.watch) show a Lua value: tables laid out in sorted
 * key order within 72 columns, ctlua's entries and events on one line each.
 */
#ifndef CTLUA_PRETTY_H
#define CTLUA_PRETTY_H

#include <lua.h>

/* Lines longer than this are broken, one table field per line. */
#define CTL_PRETTY_WIDTH	72

/*
 * Push a string showing the value at @idx as the REPL prints it. Stack: [-0, +1].
 *
 * Never raises on any value. The only Lua code it runs is the __tostring metamethods
 * of tables and userdata, each through lua_pcall (an error there shows as
 * "<userdata: error in __tostring>"); tables and metatables are read raw, so no
 * __index, __len or __pairs runs. Nesting stops after 6 levels ("{…}") and the output
 * after 1000 fields ("…"), so any value prints in bounded time. Running out of memory
 * shows as "<not printable: not enough memory>". Callable from any C function that
 * has the value on its stack; the REPL, and ct.watch inside the event loop, use it.
 */
void ctl_pretty(lua_State *L, int idx);

/*
 * A __tostring for ctlua's records (entries, events), so that print() and tostring()
 * show them as the shell does.
 */
int ctl_pretty_tostring(lua_State *L);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - what the libFuzzer harnesses in fuzz/ share (fuzz/fuzz.c): a Lua state with
 * the `ct` module that cannot reach the kernel, a memory cap and an instruction limit.
 *
 * Every harness is linked with -Wl,--wrap for ctl_dp_open, ctl_netns_nsid and
 * ctl_dp_realtime_offset (Makefile, FUZZ_WRAP): the BPF object never loads, so no
 * harness can create a map, attach a filter or assign a namespace id, whatever the
 * fuzzer feeds it. A call that gets past its argument checks fails with ENOSYS.
 */
#ifndef CTLUA_FUZZ_H
#define CTLUA_FUZZ_H

#include <stddef.h>
#include <lua.h>

/*
 * A fresh Lua state with no standard library, `ct` loaded (left on the stack, index
 * 1), an allocator that fails past a few MB, and a count hook that raises once a
 * chunk has run too long. Never NULL (aborts: a harness without a state is broken).
 */
lua_State *fz_lua_new(void);
/* Close it (runs every finalizer, as a real exit does). */
void fz_lua_close(lua_State *L);
/*
 * Call ct[@name] with the @nargs values on top of the stack, protected; the values are
 * popped. Returns the lua_pcall status; on LUA_OK the results are turned into strings
 * (tostring, protected) and popped. An error that is not "bad argument #N to
 * 'ct.NAME' (...)" (or Lua's out-of-memory error) aborts: the functions a harness
 * calls raise only for misuse, and misuse reads so (STYLE.md).
 */
int fz_call_ct(lua_State *L, const char *name, int nargs);
/* abort() with a message when @cond is false; the fuzzer reports it as a crash. */
void fz_check(int cond, const char *what, const char *detail);

#endif

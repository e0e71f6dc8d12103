// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz.c - the shared half of the libFuzzer harnesses (fuzz.h): a sealed Lua state,
 * and stand-ins for the three functions that would reach the kernel.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "datapath.h"
#include "fuzz.h"
#include "lua_ct.h"
#include "netns.h"
#include "sandbox.h"

#define FZ_MEM_CAP	(16u << 20)	/* the memory limit: allocations fail an eighth above it */
#define FZ_HOOK_COUNT	1000		/* instructions between checks of the limit */
#define FZ_HOOK_LIMIT	100		/* checks: 100 000 instructions in all */

/* The kernel is out of reach: see fuzz.h. */
int __wrap_ctl_dp_open(struct ctl_dp **out, const struct ctl_dp_opts *opts, char *msg,
		       size_t len)
{
	(void)opts;
	*out = NULL;
	snprintf(msg, len, "fuzz harness: no BPF object");
	return -ENOSYS;
}

int __wrap_ctl_netns_nsid(const char *name)
{
	(void)name;
	return -ENOENT;
}

/*
 * The event decoder adds this to a record's time; with no datapath loaded the real one
 * would read through NULL. A fixed offset (late 2023) stands in.
 */
__s64 __wrap_ctl_dp_realtime_offset(const struct ctl_dp *dp)
{
	(void)dp;
	return 1700000000000000000LL;
}

/* Instructions counted in the state's extra space, a thousand per hook call. */
static void fz_hook(lua_State *L, lua_Debug *ar)
{
	int *hooks = lua_getextraspace(L);

	(void)ar;
	if (++*hooks > FZ_HOOK_LIMIT)
		luaL_error(L, "fuzz harness: instruction limit");
}

void fz_check(int cond, const char *what, const char *detail)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz check failed: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

lua_State *fz_lua_new(void)
{
	/* ctlua's own counting allocator, capped (sandbox.c): no standard library opened */
	lua_State *L = ctl_sandbox_newstate(FZ_MEM_CAP);

	fz_check(L != NULL, "cannot create a Lua state", NULL);
	*(int *)lua_getextraspace(L) = 0;
	lua_sethook(L, fz_hook, LUA_MASKCOUNT, FZ_HOOK_COUNT);
	luaL_requiref(L, "ct", luaopen_ct, 0);
	return L;
}

void fz_lua_close(lua_State *L)
{
	lua_close(L);
}

static int fz_tostring_all(lua_State *L)
{
	int n = lua_gettop(L);

	for (int i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		lua_pop(L, 1);
	}
	return 0;
}

/* Whether @msg is "bad argument #N to 'ct.NAME' (...)", as misuse must read (STYLE.md). */
static bool is_misuse(const char *msg, const char *name)
{
	char want[64];
	const char *p;

	if (strncmp(msg, "bad argument #", 14))
		return false;
	for (p = msg + 14; *p >= '0' && *p <= '9'; p++)
		;
	if (p == msg + 14)
		return false;
	snprintf(want, sizeof(want), " to 'ct.%s' (", name);
	return !strncmp(p, want, strlen(want));
}

int fz_call_ct(lua_State *L, const char *name, int nargs)
{
	int base = lua_gettop(L) - nargs, status;

	lua_getfield(L, 1, name);
	fz_check(lua_type(L, -1) == LUA_TFUNCTION, "no such function in ct", name);
	lua_insert(L, base + 1);
	status = lua_pcall(L, nargs, LUA_MULTRET, 0);
	if (status != LUA_OK) {
		/* a memory error's message is a string too */
		fz_check(lua_type(L, -1) == LUA_TSTRING, "ct raised a non-string error", name);
		fz_check(status == LUA_ERRMEM || is_misuse(lua_tostring(L, -1), name),
			 "ct raised something else than \"bad argument #N to 'ct.f' (...)\"",
			 lua_tostring(L, -1));
		lua_settop(L, base);
		return status;
	}
	lua_pushcfunction(L, fz_tostring_all);
	lua_insert(L, base + 1);
	lua_pcall(L, lua_gettop(L) - base - 1, 0, 0);
	lua_settop(L, base);
	return LUA_OK;
}

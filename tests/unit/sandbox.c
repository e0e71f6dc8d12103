// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox.c - TAP tests of the budget (src/sandbox.h) without events: a chunk run as a
 * callback runs (armed by hand) cannot escape it, ctl_budget_interrupt stops it in a
 * way pcall cannot catch, and the hook goes once the budget is disarmed. Runs from
 * unit.c's main. No kernel.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "sandbox.h"
#include "tap.h"

static int interrupt(lua_State *L)
{
	(void)L;
	ctl_budget_interrupt();
	return 0;
}

/* Run @code as a callback with a budget of @ms; its error (or "") in @err. */
static enum ctl_stop run_armed(lua_State *L, int ms, const char *code, char *err, size_t n)
{
	int status = luaL_loadbuffer(L, code, strlen(code), "=test");

	*err = '\0';
	ctl_budget_arm(L, ms);
	if (status == LUA_OK)
		status = lua_pcall(L, 0, 0, 0);
	if (status != LUA_OK) {
		snprintf(err, n, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return ctl_budget_disarm(L);
}

static void is_run(lua_State *L, int ms, const char *code, enum ctl_stop why,
		   const char *want, const char *name)
{
	char err[256];
	enum ctl_stop got = run_armed(L, ms, code, err, sizeof(err));

	ok(got == why, "%s: stopped for the right reason", name);
	if (!ok(!strcmp(err, want), "%s", name))
		diag("         got: %s\n#     expected: %s", err, want);
}

void test_sandbox(void)
{
	lua_State *L = ctl_sandbox_newstate(64 << 20);
	char err[256];

	alarm(120);	/* a budget that does not hold must fail the run, not hang it */
	luaL_openlibs(L);
	ctl_sandbox_open(L);
	lua_register(L, "interrupt", interrupt);

	is_run(L, 100, "while true do pcall(function() while true do end end) end", CTL_STOP_TIME,
	       "test:1: callback exceeded its time budget of 100 ms",
	       "a pcall loop cannot swallow the time budget");
	is_run(L, 100, "local co = coroutine.wrap(function() while true do end end)\n"
	       "while true do pcall(co) end", CTL_STOP_TIME,
	       "test:1: callback exceeded its time budget of 100 ms",
	       "a coroutine runs under the budget");
	is_run(L, 100, "interrupt() while true do pcall(function() while true do end end) end",
	       CTL_STOP_SIGNAL, "test:1: interrupted",
	       "ctl_budget_interrupt stops a callback, and pcall cannot catch it");
	/* C metamethods run no hook: only the comparison's poll can stop this sort */
	is_run(L, 100, "local t = setmetatable({}, { __len = function() return 2^31 - 2 end,\n"
	       "__index = rawlen, __newindex = rawequal })\ntable.sort(t)", CTL_STOP_TIME,
	       "test:3: callback exceeded its time budget of 100 ms",
	       "table.sort of 2^31 elements through C metamethods is stopped");
	is_run(L, 100, "table.move({}, 1, 1e15, 2)", CTL_STOP_TIME,
	       "test:1: callback exceeded its time budget of 100 ms", "so is table.move of 1e15");
	is_run(L, 100, "return 1", CTL_STOP_NONE, "", "a callback that returns is not stopped");
	/* time enough to fill 64 MiB on a busy machine */
	is_run(L, 20000, "local t = {} while true do t[#t + 1] = {} end", CTL_STOP_MEMORY,
	       "test:1: memory limit of 64 MiB reached", "the memory limit stops a callback");
	lua_gc(L, LUA_GCCOLLECT, 0);

	run_armed(L, 100, "return 1", err, sizeof(err));
	ctl_budget_interrupt();	/* outside a callback: nothing */
	ok(luaL_dostring(L, "for i = 1, 3000 do end return 'ran'") == LUA_OK &&
	   !strcmp(lua_tostring(L, -1), "ran"), "ctl_budget_interrupt outside a callback does nothing");
	lua_pop(L, 1);
	ok(lua_gethook(L) == NULL, "the budget's hook is gone a thousand instructions after it");
	lua_close(L);
	alarm(0);
}

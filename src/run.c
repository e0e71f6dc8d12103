// SPDX-License-Identifier: GPL-2.0-or-later
/* run.c - Lua calls that the stop signals interrupt, as lua.c does for its own. */
#include <signal.h>
#include <lauxlib.h>
#include "run.h"

static lua_State *running_L;
static volatile sig_atomic_t last_signal;

/* A signal only sets a hook; the hook raises the error inside Lua, where it is safe. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted");
}

/*
 * Unlike lua.c, a second signal does not kill the process: that would leave our filters
 * on the interfaces. (A sender like timeout(1) may deliver the same signal twice.)
 */
static void on_signal(int signo)
{
	last_signal = signo;
	if (running_L)
		lua_sethook(running_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void set_stop_signals(void (*handler)(int))
{
	signal(SIGINT, handler);
	signal(SIGTERM, handler);
	signal(SIGHUP, handler);
}

void ctl_run_ignore_signals(void)
{
	set_stop_signals(SIG_IGN);
}

int ctl_run_call(lua_State *L, int nargs, int nresults, lua_CFunction handler)
{
	int base = lua_gettop(L) - nargs, status;

	if (handler) {
		lua_pushcfunction(L, handler);
		lua_insert(L, base);
	}
	running_L = L;
	last_signal = 0;
	set_stop_signals(on_signal);
	status = lua_pcall(L, nargs, nresults, handler ? base : 0);
	ctl_run_ignore_signals();
	running_L = NULL;
	lua_sethook(L, NULL, 0, 0);	/* a signal that came as the call ended */
	if (handler)
		lua_remove(L, base);
	return status;
}

int ctl_run_signal(void)
{
	return last_signal;
}

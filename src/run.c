// SPDX-License-Identifier: GPL-2.0-or-later
/* run.c - Lua calls that the stop signals interrupt, as lua.c does for its own. */
#include "ct_host.h"
#include "help.h"
#include "loop.h"
#include "run.h"

/* The message handler of a call that asked for none: the message, with ct.f named. */
static int qualify(lua_State *L)
{
	ctl_qualify_error(L, 1);
	lua_settop(L, 1);
	return 1;
}

int ctl_run_call(lua_State *L, int nargs, int nresults, lua_CFunction handler)
{
	struct ctl_state *s;
	int base = lua_gettop(L) - nargs, status;

	lua_pushcfunction(L, handler ? handler : qualify);
	lua_insert(L, base);
	ctl_signals_interrupt_push(L);
	status = lua_pcall(L, nargs, nresults, base);
	ctl_signals_interrupt_pop();
	if ((s = ctl_state_of(L)))
		ctl_verdicts_flush(s);	/* a shell line's or script's verdicts, now */
	lua_remove(L, base);
	return status;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* run.c - Lua calls that the stop signals interrupt, as lua.c does for its own. */
#include "ct_host.h"
#include "loop.h"
#include "run.h"

int ctl_run_call(lua_State *L, int nargs, int nresults, lua_CFunction handler)
{
	struct ctl_state *s;
	int base = lua_gettop(L) - nargs, status;

	if (handler) {
		lua_pushcfunction(L, handler);
		lua_insert(L, base);
	}
	ctl_signals_interrupt_push(L);
	status = lua_pcall(L, nargs, nresults, handler ? base : 0);
	ctl_signals_interrupt_pop();
	if ((s = ctl_state_of(L)))
		ctl_verdicts_flush(s);	/* a shell line's or script's verdicts, now */
	if (handler)
		lua_remove(L, base);
	return status;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.h - calling Lua code from the command so that SIGINT, SIGTERM and SIGHUP
 * interrupt it with an error ("interrupted") instead of killing the process with
 * filters still attached.
 */
#ifndef CTLUA_RUN_H
#define CTLUA_RUN_H

#include <lua.h>

/*
 * Call the function below @nargs arguments on top of @L, as lua_pcall does, with
 * @handler as message handler (NULL: none), while the stop signals interrupt it.
 * Afterwards the stop signals are ignored until the caller installs its own handlers.
 * Returns the Lua status; on error the message is on top.
 */
int ctl_run_call(lua_State *L, int nargs, int nresults, lua_CFunction handler);

/* The stop signal that came during the last ctl_run_call, or 0. */
int ctl_run_signal(void);

/* Ignore SIGINT, SIGTERM and SIGHUP (while lua_close detaches everything). */
void ctl_run_ignore_signals(void);

#endif

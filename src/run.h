/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.h - calling Lua code from the command so that SIGINT, SIGTERM and SIGHUP
 * interrupt it with an error ("interrupted") instead of killing the process with
 * filters still attached (the handlers themselves are loop.c's, installed by main).
 */
#ifndef CTLUA_RUN_H
#define CTLUA_RUN_H

#include <lua.h>

/*
 * Call the function below @nargs arguments on top of @L, as lua_pcall does, with
 * @handler as message handler (NULL: one that only names ct's functions as typed,
 * 'ct.rule' for 'rule': ctl_qualify_error), while a stop signal interrupts it. The
 * signal stays pending afterwards (ctl_signal_pending, ctl_signal_take in loop.h).
 * Returns the Lua status; on error the message is on top. The verdicts the call
 * buffered are written afterwards (ctl_verdicts_flush).
 */
int ctl_run_call(lua_State *L, int nargs, int nresults, lua_CFunction handler);

#endif

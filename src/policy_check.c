// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policy_check.c - `ctlua check POLICY`: the policy's top level run against a dry-run
 * `ct` that records what attach, rule, default, mode and on would do and runs nothing
 * that acts at once (lua_stage.c), so a policy can be checked before `ctlua run` or a
 * reload meets it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "ct_host.h"
#include "log.h"
#include "loop.h"
#include "policy_check.h"
#include "run.h"
#include "sandbox.h"

int ctl_policy_check(const char *path, const struct ctl_service_opts *o)
{
	struct ctl_state *s;
	unsigned int problems = 0;
	char msg[1024];
	lua_State *L;
	int err, status;

	ctl_progname = "ctlua";
	/* Ctrl-C interrupts a top level that never ends */
	if ((err = ctl_signals_install())) {
		ctl_log(CTL_LOG_ERR, "cannot set up the stop signals (%s)", strerror(-err));
		return 1;
	}
	err = ctl_service_check_file(path, msg, sizeof(msg));
	if (err && err != -EPERM) {	/* no file to check */
		ctl_log(CTL_LOG_ERR, "%s", msg);
		return 1;
	}
	if (err) {	/* ctlua run would refuse it: a problem, and the check goes on */
		ctl_log(CTL_LOG_ERR, "%s", msg);
		problems++;
	}
	if (!(L = ctl_service_new_state(path, o))) {
		ctl_log(CTL_LOG_ERR, "cannot create a Lua state (out of memory)");
		return 1;
	}
	s = ctl_state_of(L);
	lua_getglobal(L, "ct");
	ctl_stage_dry(L, -1, s);
	lua_pop(L, 1);
	status = ctl_load_file(L, path);
	if (status == LUA_OK)
		status = ctl_run_call(L, 0, 0, NULL);
	if (status != LUA_OK) {
		ctl_log(CTL_LOG_ERR, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		problems++;
	}
	problems += ctl_stage_problems(s);
	if (problems) {
		ctl_log(CTL_LOG_ERR, "policy '%s': %u problem%s", path, problems,
			problems == 1 ? "" : "s");
	} else {
		ctl_stage_push_summary(L, s);
		printf("policy '%s': ok: %s\n", path, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_close(L);
	return problems ? 1 : 0;
}

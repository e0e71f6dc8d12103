/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service.h - `ctlua run POLICY`: a policy as a long-running service, with readiness
 * for systemd, reload on SIGHUP and levelled logs (doc/service.md).
 */
#ifndef CTLUA_SERVICE_H
#define CTLUA_SERVICE_H

#include <stddef.h>
#include <lua.h>
#include "datapath.h"

struct ctl_service_opts {
	struct ctl_dp_opts dp_opts;	/* --verdicts; each policy may change what it may */
	size_t mem_limit;		/* each policy's Lua state */
	bool json;			/* --json: logs, events and print as JSON lines */
	const char *name;		/* the control socket's (--name); NULL: the file's */
	const char *record;		/* --record FILE: every event read, as JSON lines */
};

/*
 * Refuse a policy file others could have written, as sshd's StrictModes does: the file
 * or its directory writable by group or others, or either owned by a user other than
 * root and the one running ctlua. Returns 0, or -errno with one sentence in @msg
 * (-EPERM: refused; other: the file cannot be examined).
 */
int ctl_service_check_file(const char *path, char *msg, size_t len);

/*
 * A fresh Lua state as the service makes one for each generation: the standard
 * libraries, the global `ct`, @o's datapath options, arg[0] = @path. NULL: no memory.
 */
lua_State *ctl_service_new_state(const char *path, const struct ctl_service_opts *o);

/*
 * Run the policy at @path as a service until SIGTERM or SIGINT, reloading it on SIGHUP.
 * Sets up the signals and the watchdog itself. Returns the exit status: 0 when stopped
 * by a signal, 1 when the policy could not start or waiting failed.
 */
int ctl_service_run(const char *path, const struct ctl_service_opts *o);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h - the control socket of `ctlua run` (/run/ctlua/NAME.sock): `ctlua status NAME`
 * and `ctlua shell NAME` ask the running service through it. The server side is served
 * from the service's own loop; the client side is the two subcommands. The protocol is
 * in doc/service.md ("The control socket").
 */
#ifndef CTLUA_CONTROL_H
#define CTLUA_CONTROL_H

#include <stddef.h>
#include <time.h>
#include <lua.h>
#include "loop.h"

/* The loop tags the control socket uses: the listener, then one per client above it. */
#define CTL_CONTROL_TAG		1000
#define CTL_CONTROL_CLIENTS	8

/* What the service shows through the socket; it keeps this up to date. */
struct ctl_control_view {
	const char *path;		/* the policy file */
	lua_State *L;			/* the live policy's state */
	unsigned int generation;
	time_t loaded;			/* when that generation went live (wall clock) */
};

struct ctl_control;

/*
 * Whether @name may name a service: 1 to 64 of [A-Za-z0-9_.@-], not starting with '.'.
 * The default is the policy file's name without its directory and ".lua".
 */
bool ctl_control_name_ok(const char *name);
void ctl_control_default_name(const char *path, char *name, size_t size);

/*
 * Listen on /run/ctlua/@name.sock (mode 0600) and watch it in @loop. A socket of a
 * service that no longer runs is replaced; one that answers is left alone and -EADDRINUSE
 * returned. @view is read at each request. Starts keeping the last warnings and errors
 * of the log (ctl_log_tap). Returns 0 or -errno with one sentence in @msg.
 */
int ctl_control_open(struct ctl_control **out, const char *name, struct ctl_loop *loop,
		     const struct ctl_control_view *view, char *msg, size_t len);

/*
 * Serve what descriptor @tag (one of the control socket's: >= CTL_CONTROL_TAG) has:
 * a client to accept, a request line, room for pending output. Never blocks.
 */
void ctl_control_ready(struct ctl_control *c, int tag);

/*
 * The service switched to a new policy (a reload): a shell's watch, which belonged to the
 * state that is gone, ends, and its prompt comes back.
 */
void ctl_control_switched(struct ctl_control *c);

/* Close every client and the socket, and remove the socket file if it is still ours. */
void ctl_control_close(struct ctl_control *c);

/*
 * The subcommands. `ctlua status NAME`: print the service's status, return the exit
 * status (0; 1 when it does not run or refuses). `ctlua shell NAME`: a shell in the
 * service's Lua state, reading stdin (readline on a terminal); returns 0, or 1 when it
 * cannot connect or (without a terminal) a line failed.
 */
int ctl_control_status(const char *name);
int ctl_control_shell(const char *name);

#endif

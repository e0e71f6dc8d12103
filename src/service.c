// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * service.c - `ctlua run POLICY`: start the policy, tell systemd it is ready, serve its
 * events, reload it on SIGHUP, and take everything off on SIGTERM/SIGINT. A reload
 * loads the file into a fresh Lua state staged on the running datapath (lua_stage.c);
 * only if its whole top level succeeds does it go live, in one switch, and the old
 * state is closed. doc/service.md says what a user sees.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <systemd/sd-daemon.h>
#include "control.h"
#include "ct_host.h"
#include "log.h"
#include "loop.h"
#include "lua_library.h"
#include "run.h"
#include "sandbox.h"
#include "service.h"
#include "watchdog.h"

/* How long a drain may hold the loop before it looks at its signals again. */
#define DRAIN_MS	100

struct service {
	const char *path;
	const struct ctl_service_opts *opts;
	lua_State *L;			/* the live policy's state */
	struct ctl_state *s;
	struct ctl_loop *loop;		/* the service's own: it outlives every state */
	unsigned int generation;	/* 1 at start, +1 per reload that went live */
	struct ctl_control *control;	/* /run/ctlua/NAME.sock */
	struct ctl_control_view view;	/* what it shows: kept as L and generation change */
};

/* What the control socket shows: the live state, as it is now. */
static void update_view(struct service *sv)
{
	sv->view.path = sv->path;
	sv->view.L = sv->L;
	sv->view.generation = sv->generation;
	sv->view.loaded = time(NULL);
}

/* One rule of StrictModes for @what (the file, or its directory) at @st. */
static int strict(const char *path, const char *what, const char *name, const struct stat *st,
		  char *msg, size_t len)
{
	const char *who = st->st_mode & S_IWOTH ? "others" : "its group";

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(msg, len, "refusing policy '%s': %s%s%s is writable by %s (mode %04o); "
			 "chmod go-w fixes it", path, what, name ? " " : "", name ? name : "", who,
			 (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(msg, len, "refusing policy '%s': %s%s%s is owned by uid %u, neither "
			 "root nor the user running ctlua (uid %u)", path, what, name ? " " : "",
			 name ? name : "", (unsigned int)st->st_uid, (unsigned int)geteuid());
		return -EPERM;
	}
	return 0;
}

int ctl_service_check_file(const char *path, char *msg, size_t len)
{
	char real[PATH_MAX], dir[PATH_MAX], quoted[PATH_MAX + 2];
	struct stat st;
	int err;

	/* the file a link leads to, and the directory it is really in */
	if (!realpath(path, real) || stat(real, &st)) {
		err = -errno;
		snprintf(msg, len, "cannot open '%s': %s", path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, len, "cannot run '%s': not a regular file", path);
		return -EINVAL;
	}
	if ((err = strict(path, "the file", NULL, &st, msg, len)))
		return err;
	snprintf(dir, sizeof(dir), "%s", real);
	snprintf(quoted, sizeof(quoted), "'%s'", dirname(dir));
	if (stat(dir, &st)) {
		err = -errno;
		snprintf(msg, len, "cannot examine the directory %s of '%s': %s", quoted, path,
			 strerror(-err));
		return err;
	}
	return strict(path, "its directory", quoted, &st, msg, len);
}

/* print(...) with --json: the values as print writes them, as one {"type":"print"} line. */
static int json_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	size_t len;
	const char *s;

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		s = luaL_tolstring(L, i, &len);
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_addlstring(&b, s, len);
		lua_pop(L, 1);
	}
	luaL_pushresult(&b);
	s = lua_tolstring(L, -1, &len);
	ctl_log_print(s, len);
	return 0;
}

lua_State *ctl_service_new_state(const char *path, const struct ctl_service_opts *o)
{
	lua_State *L = ctl_sandbox_newstate(o->mem_limit);

	if (!L)
		return NULL;
	luaL_openlibs(L);
	luaL_requiref(L, "ct", luaopen_ct, 1);
	lua_pop(L, 1);
	ctl_open_library(L);
	ctl_state_set_dp_opts(ctl_state_of(L), &o->dp_opts);
	if (o->json) {	/* its lines among the JSON ones would break the stream */
		lua_pushcfunction(L, json_print);
		lua_setglobal(L, "print");
	}
	lua_createtable(L, 0, 1);
	lua_pushstring(L, path);
	lua_rawseti(L, -2, 0);
	lua_setglobal(L, "arg");
	return L;
}

/* What commit() does, and what it answers. */
struct commit {
	struct ctl_state *running;
	char *msg;
	size_t len;
	int err;
};

/*
 * Protected (a Lua error out of memory must not end the service): make the staged
 * policy live, then look at its interfaces as they are now, which finds what came or
 * went while it was staged.
 */
static int commit(lua_State *L)
{
	struct commit *c = lua_touserdata(L, 1);
	struct ctl_state *s = ctl_state_of(L);

	lua_pop(L, 1);
	c->err = ctl_stage_commit(L, s, c->running, c->msg, c->len);
	if (!c->err)
		ctl_links_resync(L, s);
	return 0;
}

/*
 * Load the policy into a fresh state staged on @running's datapath (NULL: a datapath of
 * its own), run its top level and make it live. Returns the new state, or NULL with the
 * reason logged (@what says what failed: "not started", "reload failed ..."), in which
 * case nothing of @running has changed.
 */
static lua_State *load_policy(struct service *sv, struct ctl_state *running, const char *what)
{
	char msg[1024];
	/* -ECANCELED until the commit answers: a Lua error came first */
	struct commit c = { .running = running, .msg = msg, .len = sizeof(msg),
			    .err = -ECANCELED };
	lua_State *L;
	int status;

	if (ctl_service_check_file(sv->path, msg, sizeof(msg))) {
		ctl_log(CTL_LOG_ERR, "%s: %s", what, msg);
		return NULL;
	}
	if (!(L = ctl_service_new_state(sv->path, sv->opts))) {
		ctl_log(CTL_LOG_ERR, "%s: cannot create a Lua state (out of memory)", what);
		return NULL;
	}
	ctl_stage_begin(ctl_state_of(L), running);
	status = ctl_load_file(L, sv->path);
	if (status == LUA_OK)
		status = ctl_run_call(L, 0, 0, NULL);
	if (status != LUA_OK) {
		ctl_log(CTL_LOG_ERR, "%s: %s", what, lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	lua_pushcfunction(L, commit);
	lua_pushlightuserdata(L, &c);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		if (!c.err)	/* live already: what failed is the look at its interfaces */
			ctl_log(CTL_LOG_WARNING, "%s", lua_tostring(L, -1));
		else
			snprintf(msg, sizeof(msg), "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	if (c.err) {
		ctl_log(CTL_LOG_ERR, "%s: %s", what, msg);
		lua_close(L);
		return NULL;
	}
	return L;
}

/* The loop's event source: the live state's ring buffer, to its callbacks. */
static int consume(void *ctx)
{
	struct service *sv = ctx;
	int n = ctl_events_drain(sv->L, sv->s, DRAIN_MS);

	return n == -1 ? 0 : n;		/* -1: nothing to read from */
}

/*
 * Watch the live state's ring buffer, opened once a callback wants events (a callback
 * may call ct.on later: checked after every wait), and its links' interfaces. Returns
 * 0 or -errno.
 */
static int watch_events(struct service *sv)
{
	int fd = ctl_events_fd(sv->L, sv->s);

	ctl_timers_watch(sv->L, sv->s, sv->loop);	/* the live state's: the old ones stop */
	if (ctl_links_watch(sv->s, sv->loop))
		ctl_log(CTL_LOG_WARNING, "interfaces that are deleted or created go unnoticed: "
			"their notifications cannot be watched");
	if (fd < 0)
		return ctl_loop_set_source(sv->loop, -1, NULL, NULL, NULL);
	return ctl_loop_set_source(sv->loop, fd, consume, sv, ctl_events_wake(sv->s));
}

static void notify_ready(const struct service *sv, const char *note)
{
	sd_notifyf(0, "READY=1\nSTATUS=policy %s, generation %u%s", sv->path, sv->generation,
		   note);
}

/* SIGHUP: the policy file again, into a fresh state; the old one runs on if it fails. */
static void reload(struct service *sv)
{
	struct timespec now;
	char what[64];
	lua_State *L;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* MONOTONIC_USEC: what systemd 253 and later want with RELOADING=1 */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)now.tv_sec * 1000000ULL +
		   (unsigned long long)now.tv_nsec / 1000, sv->path);
	ctl_log(CTL_LOG_INFO, "reloading '%s' (SIGHUP)", sv->path);
	snprintf(what, sizeof(what), "reload failed, generation %u runs on", sv->generation);
	L = load_policy(sv, sv->s, what);
	if (!L) {
		notify_ready(sv, " (the last reload failed)");
		return;
	}
	/* the old state: what it buffered written, its reader closed, its links detached */
	ctl_verdicts_flush(sv->s);
	ctl_loop_set_source(sv->loop, -1, NULL, NULL, NULL);
	lua_close(sv->L);
	sv->L = L;
	sv->s = ctl_state_of(L);
	sv->generation++;
	update_view(sv);
	if (watch_events(sv))
		ctl_log(CTL_LOG_WARNING, "the callbacks get no events: the ring buffer cannot be "
			"watched");
	ctl_log(CTL_LOG_INFO, "policy '%s' running (generation %u)", sv->path, sv->generation);
	notify_ready(sv, "");
}

static const char *signame(int signo)
{
	return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

int ctl_service_run(const char *path, const struct ctl_service_opts *o)
{
	struct service sv = { .path = path, .opts = o };
	int err, n, signo, status = 0, tags[8];
	char name[80], msg[512];

	ctl_progname = "ctlua";
	ctl_log_levels(true);
	if (o->json && (err = ctl_log_json(path))) {
		ctl_log(CTL_LOG_ERR, "--json: stdout cannot be written without blocking (%s)",
			strerror(-err));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	ctl_signals_hup_reloads();
	if ((err = ctl_watchdog_start()) || (err = ctl_signals_install()) ||
	    (err = ctl_loop_new(&sv.loop))) {
		ctl_log(CTL_LOG_ERR, "cannot set up the signals (%s)", strerror(-err));
		ctl_log_json_finish();
		return 1;
	}
	if (o->name)
		snprintf(name, sizeof(name), "%s", o->name);
	else
		ctl_control_default_name(path, name, sizeof(name));
	/* a second service of this name is refused before it touches anything */
	if (!ctl_control_name_ok(name)) {
		err = -EINVAL;
		snprintf(msg, sizeof(msg), "'%s' is not a service name (1 to 64 of A-Z a-z 0-9 "
			 "_ . @ -, not starting with '.'): --name gives it one", name);
	} else {
		err = ctl_control_open(&sv.control, name, sv.loop, &sv.view, msg, sizeof(msg));
	}
	if (err) {
		ctl_log(CTL_LOG_ERR, "policy not started: %s", msg);
		ctl_loop_free(sv.loop);
		ctl_log_json_finish();
		return 1;
	}
	sv.L = load_policy(&sv, NULL, "policy not started");
	if (!sv.L) {
		ctl_control_close(sv.control);
		ctl_loop_free(sv.loop);
		ctl_log_json_finish();
		return 1;
	}
	sv.s = ctl_state_of(sv.L);
	sv.generation = 1;
	update_view(&sv);
	if (watch_events(&sv))
		ctl_log(CTL_LOG_WARNING, "the callbacks get no events: the ring buffer cannot be "
			"watched");
	ctl_log(CTL_LOG_INFO, "policy '%s' running (generation 1)", path);
	notify_ready(&sv, "");
	for (;;) {
		n = ctl_loop_wait(sv.loop, -1, tags, 8);
		if (n == -EINTR)
			break;
		if (n < 0) {
			ctl_log(CTL_LOG_ERR, "waiting for events failed (%s)", strerror(-n));
			status = 1;
			break;
		}
		for (int i = 0; i < n; i++)
			if (tags[i] == CTL_LINK_TAG)
				ctl_links_changed(sv.L, sv.s);
		for (int i = 0; i < n; i++)	/* the control socket's: between dispatches */
			ctl_control_ready(sv.control, tags[i]);
		if (ctl_signal_pending())
			break;
		if (ctl_signal_reload_take())
			reload(&sv);
		else
			watch_events(&sv);	/* a callback may have called ct.on */
	}
	signo = ctl_signal_take();
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	if (signo)
		ctl_log(CTL_LOG_INFO, "stopping on %s: removing the filters", signame(signo));
	ctl_loop_set_source(sv.loop, -1, NULL, NULL, NULL);
	ctl_control_close(sv.control);
	lua_close(sv.L);	/* detaches every link, unloads the program */
	ctl_loop_free(sv.loop);
	ctl_log(CTL_LOG_INFO, "stopped");
	ctl_log_json_finish();
	return status;
}

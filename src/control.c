// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control.c - the server side of the control socket of `ctlua run` (control.h): accept
 * clients from the service's loop, answer `status`, and evaluate `shell` lines in the
 * live policy's Lua state between event dispatches. Nothing here blocks the loop: the
 * sockets are non-blocking, what a client has not read yet waits in a bounded buffer,
 * and a client that lets it fill up is dropped. The protocol is in doc/service.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <lauxlib.h>
#include "ct_host.h"
#include "control.h"
#include "log.h"
#include "lua_ct.h"
#include "names.h"
#include "owner.h"
#include "pretty.h"
#include "repl.h"
#include "sandbox.h"

#define IN_MAX		8192		/* a request line, at most */
#define OUT_MAX		(1 << 20)	/* output a client has not read yet, at most */
#define RING_N		16		/* the last warnings and errors kept */
#define RING_LEN	300		/* of each, the first line, cut there */
#define CONTROL_LOCK_WAIT_MS	5000	/* for the lock of ctlua's tc changes, at most */

enum client_mode { MODE_REQUEST, MODE_SHELL };

struct client {
	int fd;				/* -1: free slot */
	enum client_mode mode;
	bool closing;			/* close once the output is written */
	bool dead;			/* close now (fell behind, or the peer went away) */
	bool want_out;			/* EPOLLOUT is on */
	char in[IN_MAX];
	size_t inlen;
	char *out;
	size_t outlen;
	char *chunk;			/* the shell's unfinished statement */
	size_t chunklen;
	unsigned int generation;	/* the state the shell runs in */
	bool watching;			/* a line of it started ct.watch: its lines come here */
	struct ctl_control *control;	/* the socket it came to */
};

struct ctl_control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct ctl_loop *loop;
	const struct ctl_control_view *view;
	struct client clients[CTL_CONTROL_CLIENTS];
};

/* ---- the last warnings and errors ------------------------------------------------- */

static struct {
	time_t when;
	int level;
	char msg[RING_LEN];
} ring[RING_N];
static unsigned int ring_next;

static void keep_log(int level, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (level > CTL_LOG_WARNING)
		return;
	ring[ring_next % RING_N].when = time(NULL);
	ring[ring_next % RING_N].level = level;
	snprintf(ring[ring_next % RING_N].msg, RING_LEN, "%.*s", (int)n, msg);
	ring_next++;
}

/* ---- names and the socket --------------------------------------------------------- */

bool ctl_control_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 64 || *name == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")
	       == n;
}

void ctl_control_default_name(const char *path, char *name, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".lua"))
		n -= 4;
	snprintf(name, size, "%.*s", (int)n, base);
}

static int socket_path(const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", CTL_OWNER_DIR,
			     name) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* Whether a service answers at @sa: 1 yes, 0 no (nothing, or a stale socket), -errno. */
static int answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 1;
	close(fd);
	if (r == -ECONNREFUSED || r == -ENOENT)
		return 0;
	return r;
}

/*
 * ctl_control_open's part under the lock: the name is free (or its socket stale), and
 * the socket is bound and listens. Returns 0 with *@out set, or -errno with @msg.
 */
static int claim(const char *name, const struct sockaddr_un *sa_in, struct ctl_control **out,
		 struct ctl_loop *loop, const struct ctl_control_view *view, char *msg,
		 size_t len)
{
	struct sockaddr_un sa = *sa_in;
	struct ctl_control *c;
	struct stat st;
	mode_t mask;
	int err, r;

	r = answers(&sa);
	if (r == 1) {
		snprintf(msg, len, "a service named '%s' runs already (%s answers); --name "
			 "gives this one another name", name, sa.sun_path);
		return -EADDRINUSE;
	}
	if (r < 0) {
		snprintf(msg, len, "cannot examine %s: %s", sa.sun_path, strerror(-r));
		return r;
	}
	if (unlink(sa.sun_path) && errno != ENOENT) {	/* a dead service's */
		err = -errno;
		snprintf(msg, len, "cannot remove the stale %s: %s", sa.sun_path, strerror(-err));
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < CTL_CONTROL_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->loop = loop;
	c->view = view;
	snprintf(c->path, sizeof(c->path), "%s", sa.sun_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		err = -errno;
		goto fail;
	}
	mask = umask(0177);	/* 0600 from the start: no moment when others may connect */
	r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (r || listen(c->fd, 8) || stat(c->path, &st)) {
		err = -errno;
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if ((err = ctl_loop_add(loop, c->fd, CTL_CONTROL_TAG)))
		goto fail;
	*out = c;
	return 0;
fail:
	snprintf(msg, len, "cannot listen on %s: %s", c->path, strerror(-err));
	ctl_control_close(c);
	return err;
}

int ctl_control_open(struct ctl_control **out, const char *name, struct ctl_loop *loop,
		     const struct ctl_control_view *view, char *msg, size_t len)
{
	struct ctl_control *c = NULL;
	struct sockaddr_un sa;
	int err, lock;

	if ((err = socket_path(name, &sa))) {
		snprintf(msg, len, "the service name '%s' is too long", name);
		return err;
	}
	if ((err = ctl_owner_private_dir())) {
		snprintf(msg, len, "cannot use %s for the control socket: %s%s", CTL_OWNER_DIR,
			 strerror(-err), err == -EPERM ? " (it must be ours, mode 0700)" : "");
		return err;
	}
	/*
	 * From the look at the name to the bind, under the lock of ctlua's tc changes: two
	 * services starting with one name must not both find it free, nor one unlink the
	 * socket the other has just bound.
	 */
	if ((lock = ctl_owner_lock(CONTROL_LOCK_WAIT_MS)) < 0) {
		snprintf(msg, len, "cannot take the lock of %s: %s", CTL_OWNER_DIR,
			 strerror(-lock));
		return lock;
	}
	err = claim(name, &sa, &c, loop, view, msg, len);
	ctl_owner_unlock(lock);
	if (err)
		return err;
	ctl_log_tap(keep_log);
	*out = c;
	return 0;
}

static void watch_end(struct ctl_control *c, struct client *cl, bool unwatch);

static void client_close(struct ctl_control *c, struct client *cl)
{
	char discard[4096];

	if (cl->fd < 0)
		return;
	if (cl->watching)	/* the watch was this shell's: it ends with it */
		watch_end(c, cl, true);
	/* input left unread would reset the connection before the client reads our answer */
	for (int i = 0; i < 16; i++)
		if (recv(cl->fd, discard, sizeof(discard), MSG_DONTWAIT) <= 0)
			break;
	ctl_loop_remove(c->loop, cl->fd);
	close(cl->fd);
	free(cl->out);
	free(cl->chunk);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

void ctl_control_close(struct ctl_control *c)
{
	struct stat st;

	if (!c)
		return;
	ctl_log_tap(NULL);
	for (int i = 0; i < CTL_CONTROL_CLIENTS; i++)
		client_close(c, &c->clients[i]);
	if (c->fd >= 0) {
		ctl_loop_remove(c->loop, c->fd);
		close(c->fd);
		/* only our own: a later service may have replaced it */
		if (c->ino && !stat(c->path, &st) && st.st_dev == c->dev && st.st_ino == c->ino)
			unlink(c->path);
	}
	free(c);
}

/* ---- output ----------------------------------------------------------------------- */

static void put(struct client *cl, const char *s, size_t n)
{
	char *grown;

	if (cl->dead || !n)
		return;
	if (cl->outlen + n > OUT_MAX) {
		ctl_log(CTL_LOG_WARNING, "control: dropping a client that does not read what it "
			"asked for (%d bytes waiting)", OUT_MAX);
		cl->dead = true;
		return;
	}
	grown = realloc(cl->out, cl->outlen + n);
	if (!grown) {
		cl->dead = true;
		return;
	}
	cl->out = grown;
	memcpy(cl->out + cl->outlen, s, n);
	cl->outlen += n;
}

/* The loop's tag of client @cl's socket. */
static int client_tag(const struct ctl_control *c, const struct client *cl)
{
	return CTL_CONTROL_TAG + 1 + (int)(cl - c->clients);
}

/* The shell's prompt line: "p >> " while a statement is unfinished, else "p > ". */
static void prompt(struct client *cl)
{
	put(cl, cl->chunk ? "p >> \n" : "p > \n", cl->chunk ? 6 : 5);
}

static void putf(struct client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct client *cl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(cl, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The shell's framing: each line of @s as "K line". */
static void emit(struct client *cl, char kind, const char *s, size_t n)
{
	const char *end = s + n;

	do {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = (size_t)((nl ? nl : end) - s);

		put(cl, (char[]){ kind, ' ' }, 2);
		put(cl, s, len);
		put(cl, "\n", 1);
		s += len + 1;
	} while (s < end);
}

/* Write what waits, without blocking; watch for room when some is left. */
static void flush(struct ctl_control *c, struct client *cl, int tag)
{
	while (!cl->dead && cl->outlen) {
		ssize_t n = send(cl->fd, cl->out, cl->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				cl->dead = true;
			break;
		}
		memmove(cl->out, cl->out + n, cl->outlen - (size_t)n);
		cl->outlen -= (size_t)n;
	}
	if (cl->dead || (cl->closing && !cl->outlen)) {
		client_close(c, cl);
		return;
	}
	if (cl->want_out != (cl->outlen > 0)) {
		cl->want_out = cl->outlen > 0;
		ctl_loop_want_output(c->loop, cl->fd, tag, cl->want_out);
	}
}

/* ---- status ----------------------------------------------------------------------- */

static void put_time(struct client *cl, time_t t)
{
	char buf[64];
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	put(cl, buf, strlen(buf));
}

/* Protected: ct.stats() of the module itself (not a global the policy may have replaced). */
static int get_stats(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, "ct");
	lua_getfield(L, -1, "stats");
	lua_call(L, 0, 1);
	return 1;
}

/* "decided: rules=N default=N verdict=N answer=N" from ct.stats() on top of @L's stack. */
static void put_sources(struct client *cl, lua_State *L)
{
	const char *const *names = ctl_source_names;

	if (lua_getfield(L, -1, "sources") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	put(cl, "decided:", 8);
	for (size_t i = 0; names[i]; i++) {
		long long n = 0;

		if (lua_getfield(L, -1, names[i]) == LUA_TTABLE) {
			lua_getfield(L, -1, "decided");
			n = (long long)lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		putf(cl, " %s=%lld", names[i], n);
	}
	put(cl, "\n", 1);
	lua_pop(L, 1);
}

static void put_stats(struct client *cl, lua_State *L)
{
	static const char *const keys[][2] = {
		{ "packets", "packets" }, { "misses", "lookup_miss" }, { "allocs", "alloc_ok" },
		{ "alloc_errors", "alloc_error" }, { "drops", "drops" }, { "events", "events" },
		{ "events_lost", "events_lost" }, { "callback_errors", "callback_errors" },
		{ "callback_timeouts", "callback_timeouts" },
	};
	int top = lua_gettop(L);

	lua_pushcfunction(L, get_stats);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
		putf(cl, "counters: unavailable (%s)\n",
		     lua_isstring(L, -1) ? lua_tostring(L, -1) : lua_isnil(L, -1) &&
		     lua_isstring(L, -2) ? lua_tostring(L, -2) : "no datapath");
		lua_settop(L, top);
		return;
	}
	put(cl, "counters:", 9);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		lua_getfield(L, -1, keys[i][1]);
		putf(cl, " %s=%lld", keys[i][0], (long long)lua_tointeger(L, -1));
		lua_pop(L, 1);
	}
	put(cl, "\n", 1);
	put_sources(cl, L);
	lua_settop(L, top);
}

static void status(struct ctl_control *c, struct client *cl)
{
	const struct ctl_control_view *v = c->view;
	struct ctl_state *s = ctl_state_of(v->L);
	unsigned int n = 0;

	putf(cl, "policy: %s\n", v->path);
	putf(cl, "generation: %u\n", v->generation);
	put(cl, "loaded: ", 8);
	put_time(cl, v->loaded);
	putf(cl, "\npid: %d\n", (int)getpid());
	put(cl, "attachments:\n", 13);
	for (struct ctl_link *l = s ? s->links : NULL; l; l = l->next, n++)
		putf(cl, "  %s %s attached=%s%s%s\n", l->tc.ifname, ctl_dir_names[l->tc.dir],
		     l->attached && !l->lost ? "true" : "false",
		     l->hook == CTL_HOOK_XDP ? " hook=xdp" : "",
		     l->hook != CTL_HOOK_XDP || !l->attached ? "" :
		     l->xdp.mode == CTL_XDP_NATIVE ? " mode=native" : " mode=generic");
	if (!n)
		put(cl, "  (none)\n", 9);
	put_stats(cl, v->L);
	put(cl, "last errors:\n", 13);
	n = ring_next > RING_N ? ring_next - RING_N : 0;
	if (n == ring_next)
		put(cl, "  (none)\n", 9);
	for (; n < ring_next; n++) {
		put(cl, "  ", 2);
		put_time(cl, ring[n % RING_N].when);
		putf(cl, " %s: %s\n", ring[n % RING_N].level == CTL_LOG_ERR ? "error" : "warning",
		     ring[n % RING_N].msg);
	}
	put(cl, "\n", 1);
}

/* ---- shell ------------------------------------------------------------------------ */

/* The client whose line runs now: print() writes to it. */
static struct client *printing;

/*
 * print() while a shell line runs: to the client, as Lua's print would write it. A copy
 * the line kept (`p = print`) and calls later writes to stdout, as print does there.
 */
static int shell_print(lua_State *L)
{
	struct client *cl = printing;
	int n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, '\t');
	}
	luaL_pushresult(&b);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);

	if (cl) {
		emit(cl, 'o', s, len);
	} else {
		fwrite(s, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	return 0;
}

/* Protected: run the chunk at 2 and print what it returned, to the client at 1. */
static int run_and_print(lua_State *L)
{
	struct client *cl = lua_touserdata(L, 1);
	luaL_Buffer b;
	int n;

	lua_settop(L, 2);
	lua_call(L, 0, LUA_MULTRET);
	if (ctl_budget_spent(L))	/* stopped, and the stop caught */
		return lua_error(L);
	n = lua_gettop(L) - 1;
	if (!n)
		return 0;
	luaL_buffinit(L, &b);
	for (int i = 0; i < n; i++) {
		ctl_pretty(L, 2 + i);
		luaL_addvalue(&b);
		if (i + 1 < n)
			luaL_addchar(&b, '\t');
	}
	luaL_pushresult(&b);
	if (ctl_budget_spent(L))	/* a __tostring that ran out of time */
		return lua_error(L);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);

	emit(cl, 'o', s, len);
	return 0;
}

/* ---- ct.watch in a shell ------------------------------------------------------------- */

/* Output put for @cl outside its own request: the loop writes it when it can. */
static void write_later(struct client *cl)
{
	if (cl->dead || cl->want_out)
		return;
	cl->want_out = true;
	ctl_loop_want_output(cl->control->loop, cl->fd, client_tag(cl->control, cl), true);
}

/* One line of the watch, to the shell that started it. */
static void watch_to_client(void *ctx, const char *line)
{
	struct client *cl = ctx;

	emit(cl, 'o', line, strlen(line));
	write_later(cl);
}

/*
 * A shell line started a watch (ct.watch): its events go to that shell, and the prompt
 * waits until the shell asks to end it (Ctrl-C there: "x"), as the shell's own does.
 */
static void watch_begin(struct client *cl, struct ctl_state *s)
{
	struct client *before = s->watch_out == watch_to_client ? s->watch_ctx : NULL;

	if (before && before != cl) {	/* another shell's watch: this one replaced it */
		before->watching = false;
		put(before, "o (watch ended: another shell started one)\n", 44);
		prompt(before);
		write_later(before);
	}
	cl->watching = true;
	ctl_events_watch_output(s, watch_to_client, cl);
	emit(cl, 'o', "(watching events; Ctrl-C ends the watch)", 41);
}

/*
 * The end of @cl's watch: Ctrl-C there, the shell leaving, or a reload (@unwatch false:
 * the state that watched is gone). The prompt comes back.
 */
static void watch_end(struct ctl_control *c, struct client *cl, bool unwatch)
{
	struct ctl_state *s = ctl_state_of(c->view->L);
	unsigned long shown = 0;

	cl->watching = false;
	if (unwatch && s && s->watch_ctx == cl) {	/* still this shell's */
		ctl_events_watching(s, &shown);
		ctl_events_watch_output(s, NULL, NULL);
		ctl_events_unwatch(c->view->L, s);
	}
	if (unwatch)
		putf(cl, "o (watch ended: %lu event%s shown)\n", shown, shown == 1 ? "" : "s");
	else
		putf(cl, "n the policy was reloaded: the watch ended\n");
	prompt(cl);
}

void ctl_control_switched(struct ctl_control *c)
{
	for (int i = 0; c && i < CTL_CONTROL_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd >= 0 && cl->watching) {
			watch_end(c, cl, false);
			flush(c, cl, client_tag(c, cl));
		}
	}
}

/*
 * Run the function on top of @L for @cl, as a callback runs: under the state's budget,
 * interrupted by a stop signal, print() going to the client. Pops it.
 */
static void shell_run(struct client *cl, lua_State *L)
{
	struct ctl_state *s = ctl_state_of(L);
	int top = lua_gettop(L) - 1, status;
	unsigned long shown;
	enum ctl_stop why;
	__u64 since;
	bool ours;

	lua_pushglobaltable(L);				/* top + 2 */
	lua_getfield(L, -1, "print");			/* top + 3: the policy's print */
	lua_pushcfunction(L, shell_print);
	lua_pushvalue(L, -1);				/* top + 4: ours */
	lua_setfield(L, top + 2, "print");
	lua_pushcfunction(L, ctl_repl_traceback);	/* top + 5 */
	lua_pushcfunction(L, run_and_print);
	lua_pushlightuserdata(L, cl);
	lua_pushvalue(L, top + 1);
	since = s ? s->watch_since_ns : 0;
	ctl_signals_interrupt_push(L);
	ctl_budget_arm(L, s ? s->budget_ms : 1000);
	printing = cl;
	status = lua_pcall(L, 2, 0, top + 5);
	printing = NULL;
	why = ctl_budget_disarm(L);
	ctl_signals_interrupt_pop();
	if (status != LUA_OK) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);

		if (msg)
			emit(cl, 'e', msg, len);
		else
			emit(cl, 'e', "(error object is not a string)", 30);
		if (why == CTL_STOP_MEMORY || status == LUA_ERRMEM)
			lua_gc(L, LUA_GCCOLLECT, 0);
	}
	/* print back as it was, unless the line replaced it */
	lua_getfield(L, top + 2, "print");
	ours = lua_rawequal(L, -1, top + 4);
	lua_pop(L, 1);
	if (ours) {
		lua_pushvalue(L, top + 3);
		lua_setfield(L, top + 2, "print");
	}
	lua_settop(L, top);
	if (s && !s->closed)
		ctl_verdicts_flush(s);	/* what the line buffered, before the next packets */
	/* a watch the line started (not the policy's own) is this shell's */
	if (s && !s->closed && ctl_events_watching(s, &shown) && s->watch_since_ns != since)
		watch_begin(cl, s);
	/* a stop signal that came stays pending: the service's loop stops on it */
}

static void drop_chunk(struct client *cl)
{
	free(cl->chunk);
	cl->chunk = NULL;
	cl->chunklen = 0;
}

static void shell_line(struct ctl_control *c, struct client *cl, const char *line)
{
	const struct ctl_control_view *v = c->view;
	lua_State *L = v->L;
	size_t n = strlen(line);
	char *grown;
	int r;

	if (cl->generation != v->generation) {
		putf(cl, "n the policy was reloaded: this shell now runs in generation %u%s\n",
		     v->generation, cl->chunk ? " (the unfinished statement was dropped)" : "");
		drop_chunk(cl);
		cl->generation = v->generation;
	}
	grown = realloc(cl->chunk, cl->chunklen + n + 2);
	if (!grown) {
		emit(cl, 'e', "out of memory", 13);
		drop_chunk(cl);
		prompt(cl);
		return;
	}
	cl->chunk = grown;
	cl->chunklen += (size_t)sprintf(cl->chunk + cl->chunklen, "%s%s",
					cl->chunklen ? "\n" : "", line);
	r = ctl_repl_load(L, cl->chunk, cl->chunklen);
	if (r == 0) {
		prompt(cl);
		return;
	}
	drop_chunk(cl);
	if (r < 0) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);

		emit(cl, 'e', msg, len);
		lua_pop(L, 1);
	} else {
		shell_run(cl, L);
		if (cl->watching)
			return;		/* the prompt comes when the watch ends */
	}
	prompt(cl);
}

/*
 * "c START LINE": the candidates for the word at byte START of LINE (the line up to the
 * cursor), as "c WORD" lines, then the prompt again.
 */
static void shell_complete(struct client *cl, lua_State *L, const char *req)
{
	char *end, **cands;
	unsigned long start = strtoul(req, &end, 10);
	size_t n;

	if (end != req && *end == ' ' && start <= strlen(end + 1)) {
		n = ctl_complete_collect(L, end + 1, (int)start, end + 1 + start, &cands);
		for (size_t i = 0; i < n; i++)
			putf(cl, "c %s\n", cands[i]);
	}
	prompt(cl);
}

/* ---- requests --------------------------------------------------------------------- */

static void request(struct ctl_control *c, struct client *cl, char *line)
{
	if (cl->mode == MODE_SHELL) {
		if (!strcmp(line, "x")) {	/* Ctrl-C: it ends a watch, else nothing */
			if (cl->watching)
				watch_end(c, cl, true);
		} else if (cl->watching)	/* lines wait for the watch's end: not read */
			putf(cl, "e the shell is watching events: Ctrl-C ends the watch first\n");
		else if (!strncmp(line, "l ", 2) || !strcmp(line, "l"))
			shell_line(c, cl, line[1] ? line + 2 : "");
		else if (!strncmp(line, "c ", 2))
			shell_complete(cl, c->view->L, line + 2);
		else
			putf(cl, "e unknown shell request '%.40s' (l LINE, c START LINE)\np > \n", line);
		return;
	}
	if (!strcmp(line, "status")) {
		status(c, cl);
		cl->closing = true;
	} else if (!strcmp(line, "shell")) {
		cl->mode = MODE_SHELL;
		cl->generation = c->view->generation;
		putf(cl, "h ctlua shell in the service's Lua state: policy %s, generation %u, "
		     "pid %d; Ctrl-D leaves, the service runs on\n", c->view->path, c->view->generation, (int)getpid());
		prompt(cl);
	} else {
		putf(cl, "error: unknown request '%.40s' (status or shell)\n", line);
		cl->closing = true;
	}
}

static void accept_client(struct ctl_control *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *cl = NULL;
	int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
	char msg[128];

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		snprintf(msg, sizeof(msg), "error: permission denied (uid %u is neither root nor "
			 "the service's)\n", (unsigned int)cred.uid);
		if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* it is refused all the same */
		}
		close(fd);
		ctl_log(CTL_LOG_WARNING, "control: refused a client of uid %u",
			(unsigned int)cred.uid);
		return;
	}
	for (i = 0; i < CTL_CONTROL_CLIENTS && !cl; i++)
		if (c->clients[i].fd < 0)
			cl = &c->clients[i];
	if (!cl || ctl_loop_add(c->loop, fd, client_tag(c, cl))) {
		static const char busy[] = "error: too many clients\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* refused all the same */
		}
		close(fd);
		return;
	}
	cl->fd = fd;
	cl->control = c;
}

static void client_input(struct ctl_control *c, struct client *cl, int tag)
{
	char *nl;
	ssize_t n;

	for (;;) {
		n = recv(cl->fd, cl->in + cl->inlen, IN_MAX - cl->inlen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				cl->dead = true;
			break;
		}
		if (n == 0) {		/* the client is done (Ctrl-D): what is written goes */
			cl->closing = true;
			break;
		}
		cl->inlen += (size_t)n;
		while (!cl->dead && (nl = memchr(cl->in, '\n', cl->inlen))) {
			size_t used = (size_t)(nl - cl->in) + 1;

			*nl = '\0';
			if (!cl->closing || cl->mode == MODE_SHELL)
				request(c, cl, cl->in);
			memmove(cl->in, cl->in + used, cl->inlen - used);
			cl->inlen -= used;
		}
		if (cl->inlen == IN_MAX) {
			putf(cl, "%s line too long (at most %d bytes)\n",
			     cl->mode == MODE_SHELL ? "e" : "error:", IN_MAX - 1);
			cl->closing = true;
			break;
		}
		if (cl->closing)
			break;
	}
	flush(c, cl, tag);
}

void ctl_control_ready(struct ctl_control *c, int tag)
{
	struct client *cl;

	if (tag == CTL_CONTROL_TAG) {
		accept_client(c);
		return;
	}
	if (tag <= CTL_CONTROL_TAG || tag > CTL_CONTROL_TAG + CTL_CONTROL_CLIENTS)
		return;
	cl = &c->clients[tag - CTL_CONTROL_TAG - 1];
	if (cl->fd < 0)
		return;
	if (cl->closing)
		flush(c, cl, tag);
	else
		client_input(c, cl, tag);
}

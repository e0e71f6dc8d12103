// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * repl.c - the interactive shell: read a statement or an expression, run it, print what
 * it returned, and keep the ring buffer's events flowing while the prompt waits.
 *
 * On a terminal, readline's callback interface shares one ppoll() with the ring buffer,
 * so callbacks run (and ct.watch prints) while a line is half typed: the line is cleared
 * from the screen for that output and drawn again below it. Without a terminal the same
 * loop reads plain lines: no prompt, no history, no escape codes.
 *
 * The stop signals are blocked except inside ppoll() and while a line runs, so one that
 * arrives during a callback or a keystroke is not lost until the next key.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>
#include <lauxlib.h>
#include "ct_host.h"
#include "pretty.h"
#include "repl.h"
#include "run.h"

#define PROMPT		"> "
#define PROMPT_MORE	">> "
#define HISTORY_MAX	1000
#define CHUNKNAME	"=stdin"

static struct {
	lua_State *L;
	bool tty;
	bool done;
	bool failed;			/* some chunk raised an error */
	char *chunk;			/* lines of an unfinished statement */
	size_t len;
	char history[4096];		/* the history file, "" for none */
	sigset_t unblocked;		/* the mask to run code and wait with */
	volatile sig_atomic_t signo;	/* a stop signal that arrived at the prompt */
} repl;

#define DRAIN_MS	50	/* events handled before the terminal is looked at again */

/* ---- output that must not garble the line being typed ---------------------------- */

static void hide_line(void)
{
	if (repl.tty)
		rl_clear_visible_line();	/* prompt and text; readline keeps both */
}

static void show_line(void)
{
	if (!repl.tty)
		return;
	rl_on_new_line();
	rl_redisplay();
}

/* ---- history ----------------------------------------------------------------------- */

static void history_open(void)
{
	const char *path = getenv("CTLUA_HISTORY"), *home = getenv("HOME");

	if (path)
		snprintf(repl.history, sizeof(repl.history), "%s", path);
	else if (home && *home)
		snprintf(repl.history, sizeof(repl.history), "%s/.ctlua_history", home);
	using_history();
	stifle_history(HISTORY_MAX);
	/* a multi-line statement is one entry, kept whole in the file by its timestamp line */
	history_multiline_entries = 1;
	history_write_timestamps = 1;
	history_comment_char = '#';	/* what readline marks those timestamps with */
	if (*repl.history)
		read_history(repl.history);	/* a first session has none */
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Keep @text unless it is blank or repeats the last entry; save it at once. */
static void history_add(const char *text)
{
	HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;
	int err;

	if (blank(text) || (last && !strcmp(last->line, text)))
		return;
	add_history(text);
	if (!*repl.history)
		return;
	/* saved at once, so a session that ends badly keeps what was typed */
	err = access(repl.history, F_OK) ? write_history(repl.history)
					 : append_history(1, repl.history);
	if (err) {
		fprintf(stderr, "ctlua: cannot save history to %s (%s); CTLUA_HISTORY chooses "
			"another file\n", repl.history, strerror(err));
		*repl.history = '\0';	/* say it once */
	}
}

/* ---- compiling and running ---------------------------------------------------------- */

/* The message handler: the error with a traceback, without the REPL's own frame. */
static int short_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1), *tail;

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	msg = lua_tostring(L, -1);
	tail = strstr(msg, "\n\t[C]: in ?");
	if (tail && !tail[strlen("\n\t[C]: in ?")])
		lua_pushlstring(L, msg, (size_t)(tail - msg));
	return 1;
}

/*
 * Load the pending chunk: as an expression first (its values are printed), then as a
 * statement. Returns 1 with the function on top, 0 when the statement is incomplete,
 * -1 with the syntax error on top.
 */
static int load_chunk(lua_State *L)
{
	const char *expr = lua_pushfstring(L, "return %s;", repl.chunk);
	int status;

	status = luaL_loadbuffer(L, expr, strlen(expr), CHUNKNAME);
	lua_remove(L, -2);
	if (status == LUA_OK)
		return 1;
	lua_pop(L, 1);
	status = luaL_loadbuffer(L, repl.chunk, repl.len, CHUNKNAME);
	if (status == LUA_OK)
		return 1;
	if (status == LUA_ERRSYNTAX) {
		size_t n;
		const char *msg = lua_tolstring(L, -1, &n);
		static const char eof[] = "<eof>";

		if (n >= sizeof(eof) - 1 && !strcmp(msg + n - (sizeof(eof) - 1), eof)) {
			lua_pop(L, 1);
			return 0;
		}
	}
	return -1;
}

/* Print the @n values on top side by side, then drop them. */
static void print_values(lua_State *L, int n)
{
	int first = lua_gettop(L) - n + 1;

	for (int i = 0; i < n; i++) {
		ctl_pretty(L, first + i);
		fputs(lua_tostring(L, -1), stdout);
		fputc(i + 1 < n ? '\t' : '\n', stdout);
		lua_pop(L, 1);
	}
	lua_settop(L, first - 1);
}

/* Protected: run the chunk at 1 and print what it returned (a slow __tostring included). */
static int run_and_print(lua_State *L)
{
	lua_call(L, 0, LUA_MULTRET);
	print_values(L, lua_gettop(L));
	return 0;
}

static void report_error(lua_State *L)
{
	fprintf(stderr, "ctlua: %s\n", lua_tostring(L, -1));
	lua_pop(L, 1);
	repl.failed = true;
}

static void catch_at_prompt(void);

/* Run the chunk on top with the stop signals let through; SIGTERM and SIGHUP end the shell. */
static void run_chunk(lua_State *L)
{
	sigset_t blocked;
	int status, signo;

	lua_pushcfunction(L, run_and_print);
	lua_insert(L, -2);
	sigprocmask(SIG_SETMASK, &repl.unblocked, &blocked);
	status = ctl_run_call(L, 1, 0, short_traceback);
	signo = ctl_run_signal();
	catch_at_prompt();
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	if (status != LUA_OK)
		report_error(L);
	if (signo == SIGTERM || signo == SIGHUP)
		repl.done = true;
	fflush(stdout);
}

static void reset_chunk(void)
{
	free(repl.chunk);
	repl.chunk = NULL;
	repl.len = 0;
	if (repl.tty)
		rl_set_prompt(PROMPT);
}

/* A line typed or read; NULL at the end of input. */
static void on_line(char *line)
{
	lua_State *L = repl.L;
	char *grown;
	int r;

	if (line && ctl_state_of(L))	/* a watch lasts until the next Enter */
		ctl_events_unwatch(L, ctl_state_of(L));
	if (!line) {
		if (repl.len) {	/* input ended inside a statement: that is its error */
			fprintf(stderr, "ctlua: stdin: unfinished statement at the end of input\n");
			repl.failed = true;
		}
		if (repl.tty)
			putchar('\n');
		repl.done = true;
		return;
	}
	grown = realloc(repl.chunk, repl.len + strlen(line) + 2);
	if (!grown) {
		fprintf(stderr, "ctlua: out of memory\n");
		repl.done = repl.failed = true;
		return;
	}
	repl.chunk = grown;
	repl.len += (size_t)sprintf(repl.chunk + repl.len, "%s%s", repl.len ? "\n" : "", line);
	if (repl.tty)
		free(line);
	r = load_chunk(L);
	if (r == 0) {
		if (repl.tty)
			rl_set_prompt(PROMPT_MORE);
		return;
	}
	if (repl.tty)
		history_add(repl.chunk);
	reset_chunk();
	if (r < 0)
		report_error(L);
	else
		run_chunk(L);
}

/* ---- input without a terminal ------------------------------------------------------ */

static char *inbuf;
static size_t inlen;

/* Read what stdin has and hand each complete line to on_line; at its end, the rest. */
static void read_piped(void)
{
	char buf[4096], *nl, *grown;
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n > 0) {
		grown = realloc(inbuf, inlen + (size_t)n + 1);
		if (!grown) {
			fprintf(stderr, "ctlua: out of memory\n");
			repl.done = repl.failed = true;
			return;
		}
		inbuf = grown;
		memcpy(inbuf + inlen, buf, (size_t)n);
		inlen += (size_t)n;
		inbuf[inlen] = '\0';
	}
	while (!repl.done && inbuf && (nl = memchr(inbuf, '\n', inlen))) {
		size_t used = (size_t)(nl - inbuf) + 1;

		*nl = '\0';
		on_line(inbuf);
		memmove(inbuf, inbuf + used, inlen - used + 1);
		inlen -= used;
	}
	if (n <= 0 && !repl.done) {	/* end of input (or an error reading it) */
		if (inlen)
			on_line(inbuf);
		if (!repl.done)
			on_line(NULL);
	}
}

/* ---- signals at the prompt ----------------------------------------------------------- */

static void stop_at_prompt(int signo)
{
	repl.signo = signo;
}

/* Ctrl-C clears the line (and an unfinished statement); SIGTERM and SIGHUP end the REPL. */
static void handle_signal(void)
{
	int signo = repl.signo;

	repl.signo = 0;
	if (signo != SIGINT || !repl.tty) {
		repl.done = true;
		repl.failed |= signo == SIGINT;
		return;
	}
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	reset_chunk();
	fputs("^C\n", stdout);
	rl_on_new_line();
	rl_redisplay();
}

static void catch_at_prompt(void)
{
	struct sigaction sa = { .sa_handler = stop_at_prompt };	/* no SA_RESTART: poll ends */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- the loop ---------------------------------------------------------------------- */

/* At exit, also through os.exit in a line or a callback: give the terminal back. */
static void restore_terminal(void)
{
	rl_callback_handler_remove();
}

int ctl_repl(lua_State *L, bool tty)
{
	bool stragglers = false;
	sigset_t stops;

	repl.L = L;
	repl.tty = tty;
	if (tty) {
		rl_catch_signals = 0;	/* ours: Ctrl-C must not kill the process */
		rl_readline_name = "ctlua";
		history_open();
		ctl_complete_init(L);
		printf("ctlua %s (%s): Lua with the module ct. help() lists the API; "
		       "Ctrl-D leaves.\n", CTLUA_VERSION, LUA_RELEASE);
		rl_callback_handler_install(PROMPT, on_line);
		atexit(restore_terminal);
	}
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &repl.unblocked);
	sigdelset(&repl.unblocked, SIGINT);
	sigdelset(&repl.unblocked, SIGTERM);
	sigdelset(&repl.unblocked, SIGHUP);
	catch_at_prompt();
	while (!repl.done) {
		struct ctl_state *s = ctl_state_of(L);
		int efd = s ? ctl_events_fd(L, s) : -1, drained;
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = efd, .events = POLLIN } };
		/* after a drain that read something, look again soon even if nothing wakes us */
		struct timespec soon = { 0, CTLUA_STRAGGLER_MS * 1000000L };

		if (s)
			ctl_events_signals_interrupt(s);
		if (ppoll(p, efd >= 0 ? 2 : 1, efd >= 0 && stragglers ? &soon : NULL,
			  &repl.unblocked) < 0 && errno != EINTR) {
			perror("ctlua: poll");
			repl.failed = true;
			break;
		}
		if (repl.signo) {
			handle_signal();
			continue;
		}
		if (efd >= 0 && (p[1].revents || stragglers)) {
			hide_line();
			drained = ctl_events_drain(L, s, DRAIN_MS);
			stragglers = drained != 0 && drained != -1;
			fflush(stdout);
			show_line();
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (tty)
				rl_callback_read_char();
			else
				read_piped();
		}
		fflush(stdout);
	}
	if (tty) {
		rl_callback_handler_remove();
		if (*repl.history)
			history_truncate_file(repl.history, HISTORY_MAX);
	}
	ctl_run_ignore_signals();	/* until lua_close has detached everything */
	sigprocmask(SIG_SETMASK, &repl.unblocked, NULL);
	free(repl.chunk);
	free(inbuf);
	/* At a terminal, errors were seen and answered; a script reading a pipe needs to know */
	return repl.failed && !tty ? 1 : 0;
}

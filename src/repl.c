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
 * The waiting is loop.c's, as for ct.run: the terminal is one more descriptor, the ring
 * buffer the event source, and a stop signal ends the wait at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <termios.h>
#include <sys/stat.h>
#include <readline/readline.h>
#include <readline/history.h>
#include <lauxlib.h>
#include "ct_host.h"
#include "deadline.h"
#include "loop.h"
#include "pretty.h"
#include "repl.h"
#include "run.h"
#include "sandbox.h"
#include "watchdog.h"

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
	struct termios tty_mode;	/* the terminal's settings before readline's */
} repl;

#define DRAIN_MS	50	/* events handled before the terminal is looked at again */
#define STDIN_TAG	0

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

/*
 * Whether the history file may be written: not through a symbolic link, which could
 * point anywhere (another user's file, in a directory they control). Says why once.
 */
static bool history_writable(void)
{
	struct stat st;

	if (!*repl.history)
		return false;
	if (lstat(repl.history, &st) || !S_ISLNK(st.st_mode))
		return true;
	fprintf(stderr, "ctlua: not saving history to %s (it is a symbolic link); "
		"CTLUA_HISTORY chooses another file\n", repl.history);
	*repl.history = '\0';	/* say it once */
	return false;
}

/* Keep @text unless it is blank or repeats the last entry; save it at once. */
static void history_add(const char *text)
{
	HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;
	int err;

	if (blank(text) || (last && !strcmp(last->line, text)))
		return;
	add_history(text);
	if (!history_writable())
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

int ctl_repl_traceback(lua_State *L)
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

int ctl_repl_load(lua_State *L, const char *chunk, size_t len)
{
	const char *expr = lua_pushfstring(L, "return %s;", chunk);
	int status;

	status = ctl_load_buffer(L, expr, strlen(expr), CHUNKNAME);
	lua_remove(L, -2);
	if (status == LUA_OK)
		return 1;
	lua_pop(L, 1);
	status = ctl_load_buffer(L, chunk, len, CHUNKNAME);
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

/*
 * Run the chunk on top; a stop signal interrupts it. SIGINT ends only the line (the stop
 * is honoured: the watchdog stands down); SIGTERM and SIGHUP end the shell.
 */
static void run_chunk(lua_State *L)
{
	int status, signo;

	lua_pushcfunction(L, run_and_print);
	lua_insert(L, -2);
	status = ctl_run_call(L, 1, 0, ctl_repl_traceback);
	if (status != LUA_OK)
		report_error(L);
	fflush(stdout);
	signo = ctl_signal_take();
	if (signo == SIGINT && ctl_signal_stopping() == SIGINT)
		ctl_signal_honoured();
	else if (signo)
		repl.done = true;
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
	r = ctl_repl_load(L, repl.chunk, repl.len);
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

/* Ctrl-C clears the line (and an unfinished statement); SIGTERM and SIGHUP end the REPL. */
static void handle_signal(int signo)
{
	if (signo != SIGINT || !repl.tty || ctl_signal_stopping() != SIGINT) {
		repl.done = true;
		repl.failed |= signo == SIGINT;
		return;
	}
	ctl_signal_honoured();
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	reset_chunk();
	fputs("^C\n", stdout);
	rl_on_new_line();
	rl_redisplay();
}

/* ---- the loop ---------------------------------------------------------------------- */

/* At exit, also through os.exit in a line or a callback: give the terminal back. */
static void restore_terminal(void)
{
	rl_callback_handler_remove();
}

/* The watchdog's version: readline's state is the stuck thread's, the settings are not. */
static void reset_terminal(void)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &repl.tty_mode);
}

/* The loop's event source: callbacks and ct.watch, with the typed line moved aside. */
static int drain(void *ctx)
{
	struct ctl_state *s = ctl_state_of(repl.L);
	int n;

	(void)ctx;
	if (!s)
		return 0;
	hide_line();
	n = ctl_events_drain(repl.L, s, DRAIN_MS);
	fflush(stdout);
	show_line();
	return n == -1 ? 0 : n;
}

/* The loop's timers: the state's, fired with the typed line moved aside. */
static __s64 timer_next(void *ctx)
{
	(void)ctx;
	return ctl_timers_next(ctl_state_of(repl.L));
}

static void timer_fire(void *ctx)
{
	struct ctl_state *s = ctl_state_of(repl.L);
	__s64 due = ctl_timers_next(s);

	(void)ctx;
	if (due < 0 || due > ctl_now_ns(CLOCK_MONOTONIC))
		return;
	hide_line();
	ctl_timers_fire(repl.L, s);
	fflush(stdout);
	show_line();
}

int ctl_repl(lua_State *L, bool tty)
{
	struct ctl_loop *loop;
	int src_fd = -1, err;

	repl.L = L;
	repl.tty = tty;
	err = ctl_loop_new(&loop);
	if (!err)
		err = ctl_loop_add(loop, STDIN_FILENO, STDIN_TAG);
	if (err) {
		fprintf(stderr, "ctlua: cannot wait for input (%s)\n", strerror(-err));
		ctl_loop_free(loop);
		return 1;
	}
	ctl_loop_set_timers(loop, timer_next, timer_fire, NULL);
	if (tty) {
		rl_catch_signals = 0;	/* ours: Ctrl-C must not kill the process */
		rl_readline_name = "ctlua";
		history_open();
		ctl_complete_init(L);
		printf("ctlua %s (%s): Lua with the module ct. help() lists the API; "
		       "Ctrl-D leaves.\n", CTLUA_VERSION, LUA_RELEASE);
		if (!tcgetattr(STDIN_FILENO, &repl.tty_mode))
			ctl_watchdog_last_words(reset_terminal);
		rl_callback_handler_install(PROMPT, on_line);
		atexit(restore_terminal);
	}
	while (!repl.done) {
		struct ctl_state *s = ctl_state_of(L);
		int efd = s ? ctl_events_fd(L, s) : -1, tag, n;

		if (s)
			ctl_events_signals_interrupt(s);
		if (efd != src_fd &&
		    !(err = ctl_loop_set_source(loop, efd, drain, NULL, s ? ctl_events_wake(s) : NULL)))
			src_fd = efd;
		n = ctl_loop_wait(loop, -1, &tag, 1);
		if (n == -EINTR) {
			handle_signal(ctl_signal_take());
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "ctlua: waiting for input failed (%s)\n", strerror(-n));
			repl.failed = true;
			break;
		}
		if (n > 0) {
			if (tty)
				rl_callback_read_char();
			else
				read_piped();
		}
		fflush(stdout);
	}
	if (tty) {
		rl_callback_handler_remove();
		if (history_writable())
			history_truncate_file(repl.history, HISTORY_MAX);
	}
	ctl_loop_free(loop);
	free(repl.chunk);
	free(inbuf);
	/* At a terminal, errors were seen and answered; a script reading a pipe needs to know */
	return repl.failed && !tty ? 1 : 0;
}

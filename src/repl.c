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
#include "help.h"
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
	bool watching;			/* ct.watch holds the prompt until Ctrl-C */
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
	if (repl.tty && !repl.watching)
		rl_clear_visible_line();	/* prompt and text; readline keeps both */
}

static void show_line(void)
{
	if (!repl.tty || repl.watching)
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
	const char *msg, *tail;

	ctl_qualify_error(L, 1);		/* 'ct.rule', not 'rule' */
	msg = lua_tostring(L, 1);

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

/*
 * Show the generic-for iterator at 1..4 (function, state, control, closing value) as
 * the rows it gives: the first ROWS_SHOWN printed as values are, then a count line.
 * The loop runs as a for loop would run it, to its end (the count needs that), and
 * closes the closing value as the loop would. Leaves the list of the rows on top:
 * each the value it gave, or the list of its values when it gave several.
 */
#define ROWS_SHOWN	20

static void print_rows(lua_State *L)
{
	lua_Integer count = 0;
	int rows;

	lua_settop(L, 4);
	lua_newtable(L);
	rows = lua_gettop(L);
	for (;;) {
		lua_pushvalue(L, 1);
		lua_pushvalue(L, 2);
		lua_pushvalue(L, 3);
		lua_call(L, 2, LUA_MULTRET);
		if (lua_gettop(L) == rows || lua_isnil(L, rows + 1))
			break;
		lua_pushvalue(L, rows + 1);
		lua_replace(L, 3);		/* the control variable */
		if (lua_gettop(L) == rows + 1) {	/* the row: its value, or a list of them */
			lua_pushvalue(L, rows + 1);
		} else {
			lua_createtable(L, lua_gettop(L) - rows, 0);
			for (int i = rows + 1, k = 1; i < lua_gettop(L); i++, k++) {
				lua_pushvalue(L, i);
				lua_rawseti(L, -2, k);
			}
		}
		lua_rawseti(L, rows, ++count);
		if (count <= ROWS_SHOWN)
			print_values(L, lua_gettop(L) - rows);
		lua_settop(L, rows);
	}
	lua_settop(L, rows);
	if (!lua_isnil(L, 4) && luaL_getmetafield(L, 4, "__close") != LUA_TNIL) {
		lua_pushvalue(L, 4);
		lua_pushnil(L);
		lua_call(L, 2, 0);
	}
	if (count > ROWS_SHOWN)
		printf("... %lld more (%lld rows)\n", (long long)(count - ROWS_SHOWN),
		       (long long)count);
	else
		printf("(%lld row%s)\n", (long long)count, count == 1 ? "" : "s");
}

/*
 * Protected: run the chunk at 1 and print what it returned (a slow __tostring included);
 * an iterator (a function followed by its state, as pairs() and ct.entries() return
 * them) as its rows. `_` then holds the first value printed, or the list of the rows.
 */
static int run_and_print(lua_State *L)
{
	int n;

	lua_call(L, 0, LUA_MULTRET);
	n = lua_gettop(L);
	if (n == 0)
		return 0;
	/* as pairs, ipairs, io.lines and ct.entries give them; not (hook, "c", 0) */
	if (n >= 2 && lua_type(L, 1) == LUA_TFUNCTION &&
	    (lua_isnil(L, 2) || lua_istable(L, 2) || lua_isuserdata(L, 2))) {
		print_rows(L);
	} else {
		lua_pushvalue(L, 1);
		lua_insert(L, 1);
		print_values(L, n);
	}
	lua_setglobal(L, "_");
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

static void on_line(char *line);
static void process_piped(void);

/* ---- ct.watch at the prompt ------------------------------------------------------------ */

/*
 * A line left a watch on: the shell shows its events, and nothing else, until Ctrl-C.
 * The prompt goes; keys typed meanwhile are read and dropped (a terminal) or wait
 * (a pipe: the next lines run after the watch).
 */
static void watch_begin(void)
{
	struct ctl_state *s = ctl_state_of(repl.L);
	unsigned long shown;
	struct termios quiet;

	if (!s || !ctl_events_watching(s, &shown) || repl.watching)
		return;
	repl.watching = true;
	fputs("(watching events; Ctrl-C ends the watch)\n", stdout);
	fflush(stdout);
	if (!repl.tty)
		return;
	rl_callback_handler_remove();	/* no prompt, and no line to redraw */
	if (!tcgetattr(STDIN_FILENO, &quiet)) {	/* typed keys not echoed; Ctrl-C still a signal */
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
}

/* Ctrl-C during a watch: stop it and give the prompt back. */
static void watch_end(void)
{
	struct ctl_state *s = ctl_state_of(repl.L);
	unsigned long shown = 0;

	if (s) {
		ctl_events_watching(s, &shown);
		ctl_events_unwatch(repl.L, s);
	}
	repl.watching = false;
	printf("%s(watch ended: %lu event%s shown)\n", repl.tty ? "^C\n" : "", shown,
	       shown == 1 ? "" : "s");
	fflush(stdout);
	if (repl.tty) {
		tcflush(STDIN_FILENO, TCIFLUSH);	/* what was typed meanwhile is not a line */
		rl_callback_handler_install(PROMPT, on_line);
	} else {
		process_piped();			/* the lines that waited */
	}
}

/* Keys typed while a watch holds the terminal: dropped. */
static void drop_input(void)
{
	char buf[256];

	if (read(STDIN_FILENO, buf, sizeof(buf)) == 0 && !repl.tty)
		repl.done = true;
}

/* A line typed or read; NULL at the end of input. */
static void on_line(char *line)
{
	lua_State *L = repl.L;
	char *grown;
	int r;

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
	if (!repl.done)
		watch_begin();
}

/* ---- input without a terminal ------------------------------------------------------ */

static char *inbuf;
static size_t inlen;
static bool in_eof;		/* stdin said it has no more */
static bool in_looped = true;	/* stdin is among the loop's descriptors */

/*
 * Hand each complete line read to on_line; at the end of input, the rest. A watch
 * holds the lines that follow until it ends.
 */
static void process_piped(void)
{
	char *nl;

	while (!repl.done && !repl.watching && inbuf && (nl = memchr(inbuf, '\n', inlen))) {
		size_t used = (size_t)(nl - inbuf) + 1;

		*nl = '\0';
		on_line(inbuf);
		memmove(inbuf, inbuf + used, inlen - used + 1);
		inlen -= used;
	}
	if (in_eof && !repl.done && !repl.watching) {	/* end of input (or an error reading it) */
		if (inlen) {
			inlen = 0;
			on_line(inbuf);
		}
		if (!repl.done && !repl.watching)
			on_line(NULL);
	}
}

/* Read what stdin has, then process it. */
static void read_piped(void)
{
	char buf[4096], *grown;
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
	} else {
		in_eof = true;
	}
	process_piped();
}

/* ---- signals at the prompt ----------------------------------------------------------- */

/* Ctrl-C clears the line (and an unfinished statement); SIGTERM and SIGHUP end the REPL. */
static void handle_signal(int signo)
{
	if (signo == SIGINT && repl.watching) {	/* ends the watch, not the shell */
		if (ctl_signal_stopping() == SIGINT)
			ctl_signal_honoured();
		watch_end();
		return;
	}
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
		if (!tty && in_looped == (repl.watching || in_eof)) {	/* a pipe waits */
			err = in_looped ? ctl_loop_remove(loop, STDIN_FILENO)
					: ctl_loop_add(loop, STDIN_FILENO, STDIN_TAG);
			in_looped = !in_looped;
		}
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
		if (n > 0 && repl.watching && tty)
			drop_input();
		else if (n > 0 && tty)
			rl_callback_read_char();
		else if (n > 0)
			read_piped();
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* repl.h - ctlua's interactive shell (repl.c) and its tab completion (repl_complete.c). */
#ifndef CTLUA_REPL_H
#define CTLUA_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

/*
 * Read, run and print until the input ends (Ctrl-D), SIGTERM or SIGHUP. @tty: stdin is a
 * terminal, so use readline, a prompt, completion and history. Returns 0, or (without a
 * terminal) 1 when a chunk failed or the input ended inside a statement.
 */
int ctl_repl(lua_State *L, bool tty);

/*
 * Load the statement or expression @chunk (@len bytes, NUL-terminated) as the shell
 * does: as an expression first (its values are printed), then as a statement. Returns
 * 1 with the function on top, 0 when the statement is incomplete (nothing pushed), -1
 * with the syntax error on top. The control socket's shell (control.c) loads the same way.
 */
int ctl_repl_load(lua_State *L, const char *chunk, size_t len);

/* A message handler: the error with a traceback, without the shell's own frame. */
int ctl_repl_traceback(lua_State *L);

/* Make readline complete from the live state of @L. */
void ctl_complete_init(lua_State *L);

/*
 * The candidates, sorted, for the word @text that starts at byte @start of @line (the
 * whole line being typed), from @L's state as the shell completes it. *@out stays
 * valid until the next call. Returns how many. The control socket's shell answers
 * completion requests with it.
 */
size_t ctl_complete_collect(lua_State *L, const char *line, int start, const char *text,
			    char ***out);

/*
 * What a readline completion function returns for the word @text: the @n candidates of
 * @list (each already matching @text), copied into readline's own array, or NULL when
 * there are none. @list is only read, and only during the call: the caller keeps it.
 * The shell and `ctlua shell` (whose candidates come from the service) both use it.
 */
char **ctl_complete_matches(const char *text, char *const *list, size_t n);

/* Set readline up as the shell does (word breaks, quotes), completing with @fn. */
void ctl_complete_readline(char **(*fn)(const char *text, int start, int end));

#endif

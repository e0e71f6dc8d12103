// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * repl_complete.c - Tab completion from the live Lua state: globals, fields of tables,
 * methods and fields of ctlua's userdata, the option strings a ct function takes
 * (modes, actions, event kinds, status bits, errno names, interface names), and the
 * fields of its option tables (`ct.rule{pro` -> `proto = `), from arg_keys.c, the lists
 * the argument checkers use.
 *
 * Completion only reads: tables are walked with raw access, so no __index function of
 * user code runs while a key is pressed.
 */
#include <ctype.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
#include <lauxlib.h>
#include "arg_keys.h"
#include "ct_host.h"
#include "explain.h"
#include "names.h"
#include "tc.h"
#include "xdp.h"
#include "repl.h"

static lua_State *complete_L;

/* The candidates of the completion in progress, sorted; freed by the next one. */
static char **cands;
static size_t ncands, capcands;

static void cands_clear(void)
{
	for (size_t i = 0; i < ncands; i++)
		free(cands[i]);
	ncands = 0;
}

/* Add @prefix@word if it starts with @text and is not there yet. */
static void cand_add(const char *prefix, const char *word, const char *text)
{
	size_t plen = strlen(prefix);
	char *full;

	if (ncands == capcands) {
		size_t cap = capcands ? capcands * 2 : 64;
		char **grown = realloc(cands, cap * sizeof(*cands));

		if (!grown)
			return;
		cands = grown;
		capcands = cap;
	}
	full = malloc(plen + strlen(word) + 1);
	if (!full)
		return;
	strcpy(full, prefix);
	strcat(full, word);
	if (strncmp(full, text, strlen(text))) {
		free(full);
		return;
	}
	for (size_t i = 0; i < ncands; i++)
		if (!strcmp(cands[i], full)) {
			free(full);
			return;
		}
	cands[ncands++] = full;
}

static void cand_add_list(const char *const names[], const char *text)
{
	for (int i = 0; names[i]; i++)
		cand_add("", names[i], text);
}

static bool identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	while (*++s)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The string keys of the table on top that are identifiers. */
static void cand_add_keys(lua_State *L, const char *prefix, const char *text)
{
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING && identifier(lua_tostring(L, -1)))
			cand_add(prefix, lua_tostring(L, -1), text);
	}
}

/* Candidates for "<prefix><sep><text>" where the value of prefix is on top. */
static void cand_add_fields(lua_State *L, const char *prefix, const char *text)
{
	int top = lua_gettop(L);

	if (lua_istable(L, -1))
		cand_add_keys(L, prefix, text);
	/* ctlua's userdata: their __index is a function, which completion must not call */
	if (luaL_testudata(L, -1, CTL_TUPLE_MT)) {
		for (int i = 0; ctl_tuple_fields[i]; i++)
			cand_add(prefix, ctl_tuple_fields[i], text);
	} else if (luaL_testudata(L, -1, CTL_LINK_MT)) {
		for (int i = 0; ctl_link_fields[i]; i++)
			cand_add(prefix, ctl_link_fields[i], text);
	} else if (luaL_testudata(L, -1, CTL_SET_MT)) {
		for (int i = 0; ctl_set_fields[i]; i++)
			cand_add(prefix, ctl_set_fields[i], text);
	} else if (lua_getmetatable(L, -1)) {	/* methods through a table __index */
		if (ctl_rawfield(L, -1, "__index") == LUA_TTABLE)
			cand_add_keys(L, prefix, text);
	}
	lua_settop(L, top);
}

/*
 * Push the value an expression like "ct" or "a.b" names, walking globals and tables
 * with raw access; nil when any step is not a table.
 */
static void push_path(lua_State *L, const char *path, size_t len)
{
	size_t i = 0;

	lua_pushglobaltable(L);
	while (i < len) {
		size_t j = i;
		char key[128];

		while (j < len && path[j] != '.' && path[j] != ':')
			j++;
		if (j - i >= sizeof(key)) {
			lua_pop(L, 1);
			lua_pushnil(L);
			return;
		}
		memcpy(key, path + i, j - i);
		key[j - i] = '\0';
		ctl_rawfield(L, -1, key);
		lua_remove(L, -2);
		i = j + 1;
	}
}

/* The names a function takes as an option string (for its opts field @field, if any). */
static void cand_add_options(const char *func, const char *field, const char *text)
{
	if (!strcmp(func, "ct.mode")) {
		cand_add_list(ctl_mode_names, text);
	} else if (!strcmp(func, "ct.default") || !strcmp(func, "ct.verdict")) {
		cand_add_list(ctl_action_names, text);
	} else if (!strcmp(func, "ct.on") || !strcmp(func, "ct.events")) {
		cand_add_list(ctl_event_names, text);
	} else if (!strcmp(func, "ct.set") && !*field) {
		cand_add_list(ctl_set_kind_names, text);
	} else if (!strcmp(func, "ct.explain")) {
		char name[16];

		for (int i = 0, e; (e = ctl_explained(i)); i++)
			cand_add("", ctl_errno_name(e, name, sizeof(name)), text);
	} else if (!strcmp(func, "ct.attach") && !strcmp(field, "dir")) {
		cand_add_list(ctl_dir_names, text);
	} else if (!strcmp(func, "ct.attach") && !strcmp(field, "orphans")) {
		cand_add_list(ctl_orphans_names, text);
	} else if (!strcmp(func, "ct.attach") && !strcmp(field, "hook")) {
		cand_add_list(ctl_hook_names, text);
	} else if (!strcmp(func, "ct.attach") && !strcmp(field, "xdp_mode")) {
		cand_add_list(ctl_xdp_mode_names, text);
	} else if (!strcmp(field, "over")) {	/* a limit's over action */
		cand_add_list(ctl_over_names, text);
	} else if (!strcmp(field, "status")) {	/* status = {"fix -> the bits BPF can set */
		cand_add_list(ctl_status_names, text);
	} else if (!strcmp(field, "action")) {
		cand_add_list(ctl_action_names, text);
	} else if (!strcmp(field, "mode")) {
		cand_add_list(ctl_mode_names, text);
	} else if (!strcmp(field, "kind")) {
		cand_add_list(ctl_event_names, text);
	} else if (!strcmp(field, "family")) {
		cand_add_list(ctl_family_names, text);
	} else if (!strcmp(func, "ct.attach") && !*field) {
		struct if_nameindex *ifs = if_nameindex();

		for (struct if_nameindex *i = ifs; i && i->if_name; i++)
			cand_add("", i->if_name, text);
		if (ifs)
			if_freenameindex(ifs);
	}
}

static const char *const keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
	"if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
	"while", NULL
};

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Copy line[from, to) into @out (@size bytes), or leave it empty if it does not fit. */
static void copy_span(const char *line, int from, int to, char *out, size_t size)
{
	*out = '\0';
	if (to > from && (size_t)(to - from) < size) {
		memcpy(out, line + from, (size_t)(to - from));
		out[to - from] = '\0';
	}
}

/* Where the innermost table constructor still open before @pos starts ('{'), or -1. */
static int open_brace(const char *line, int pos)
{
	int depth = 0;

	for (int i = pos - 1; i >= 0; i--) {
		if (strchr(")}]", line[i]))
			depth++;
		else if (strchr("({[", line[i]) && depth-- == 0)
			return line[i] == '{' ? i : -1;
	}
	return -1;
}

/* The name (a.b.c) that ends just before @end, skipping blanks, into @out. */
static void name_before(const char *line, int end, char *out, size_t size)
{
	int i;

	while (end > 0 && line[end - 1] == ' ')
		end--;
	for (i = end - 1; i >= 0 && (name_char(line[i]) || strchr(".:", line[i])); i--)
		;
	copy_span(line, i + 1, end, out, size);
}

/*
 * The word at @start is a key of a table constructor (`{pro`, `, time`): the function
 * it is an argument of, which one (*@arg, from 1), and the field it is nested in, if
 * any (`zone = {i` -> "zone"). False when the word is not in such a place.
 */
static bool table_context(const char *line, int start, char *func, size_t fsize, char *field,
			  size_t ksize, int *arg)
{
	int i = start - 1, b, depth = 0;

	*func = *field = '\0';
	while (i >= 0 && line[i] == ' ')
		i--;
	if (i < 0 || (line[i] != '{' && line[i] != ','))
		return false;
	b = open_brace(line, i + 1);
	if (b < 0)
		return false;
	for (i = b - 1; i >= 0 && line[i] == ' '; i--)
		;
	if (i >= 0 && (line[i] == '{' || line[i] == ',')) {	/* an item of a list: f = {{ */
		int l = open_brace(line, i + 1), k = l - 1;

		while (k >= 0 && line[k] == ' ')
			k--;
		if (l >= 0 && k >= 0 && line[k] == '=') {
			b = l;
			i = k;
		}
	}
	if (i >= 0 && line[i] == '=') {		/* a nested table: field = { */
		name_before(line, i, field, ksize);
		if ((b = open_brace(line, i)) < 0)
			return false;
		for (i = b - 1; i >= 0 && line[i] == ' '; i--)
			;
	}
	if (i >= 0 && name_char(line[i])) {	/* f{...}: the one argument */
		name_before(line, b, func, fsize);
		*arg = 1;
		return true;
	}
	*arg = 1;				/* f(a, {...}): count the commas before it */
	for (i = b - 1; i >= 0; i--) {
		if (strchr(")}]", line[i]))
			depth++;
		else if (strchr("{[", line[i]) && depth)
			depth--;
		else if (line[i] == '(' && depth-- == 0)
			break;
		else if (line[i] == ',' && depth == 0)
			(*arg)++;
	}
	if (i < 0)
		return false;
	name_before(line, i, func, fsize);
	return *func != '\0';
}

/* The fields of the table argument the word is in, each as `name = `. */
static void cand_add_table_keys(const char *func, const char *field, int arg, const char *text)
{
	const char *const *keys = ctl_arg_keys(func, arg, *field ? field : NULL);

	for (int i = 0; keys && keys[i]; i++) {
		char key[64];

		snprintf(key, sizeof(key), "%s = ", keys[i]);
		cand_add("", key, text);
	}
}

/*
 * Inside a string opened at @quote: the function whose arguments hold it ("ct.mode" for
 * `ct.mode("en`, also through a table argument, `ct.attach("x", {dir = "in`), and the
 * field the string is the value of ("dir"), if any. Both empty when there is none.
 */
static void string_context(const char *line, int quote, char *func, size_t fsize, char *field,
			   size_t ksize)
{
	int i = quote - 1, depth = 0, end;

	*func = *field = '\0';
	while (i >= 0 && line[i] == ' ')
		i--;
	if (i >= 0 && (line[i] == '{' || line[i] == ',')) {	/* an item: field = {"a", "b */
		i = open_brace(line, i + 1);
		for (i--; i >= 0 && line[i] == ' '; i--)
			;
	}
	if (i >= 0 && line[i] == '=') {
		for (i--; i >= 0 && line[i] == ' '; i--)
			;
		end = i + 1;
		while (i >= 0 && name_char(line[i]))
			i--;
		copy_span(line, i + 1, end, field, ksize);
	}
	for (i = quote - 1; i >= 0; i--) {
		if (line[i] == ')' || line[i] == '}') {
			depth++;
		} else if ((line[i] == '(' || line[i] == '{') && depth-- == 0) {
			int k = i - 1;

			while (k >= 0 && line[k] == ' ')
				k--;
			if (k >= 0 && name_char(line[k]))
				break;		/* name( or name{: the call */
			depth = 0;		/* a table among the arguments: look further out */
		}
	}
	if (i < 0)
		return;
	for (end = i; end > 0 && line[end - 1] == ' '; end--)
		;
	for (i = end - 1; i >= 0 && (name_char(line[i]) || strchr(".:", line[i])); i--)
		;
	copy_span(line, i + 1, end, func, fsize);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fill the candidates for the word @text that starts at @start of @line. */
static void collect(lua_State *L, const char *line, const char *text, int start)
{
	const char *sep = strpbrk(text, ".:");

	cands_clear();
	if (start > 0 && strchr("\"'", line[start - 1])) {
		char func[64], field[32];

		string_context(line, start - 1, func, sizeof(func), field, sizeof(field));
		cand_add_options(func, field, text);
	} else if (sep) {
		const char *last = text + strlen(text);
		char prefix[256];

		while (last > text && last[-1] != '.' && last[-1] != ':')
			last--;
		if ((size_t)(last - text) >= sizeof(prefix))
			return;
		memcpy(prefix, text, (size_t)(last - text));
		prefix[last - text] = '\0';
		push_path(L, text, (size_t)(last - text - 1));
		cand_add_fields(L, prefix, text);
		lua_pop(L, 1);
	} else {
		char func[64], field[32];
		int arg;

		/* a key of an option table: its fields only (it takes no positional values) */
		if (table_context(line, start, func, sizeof(func), field, sizeof(field), &arg) &&
		    ctl_arg_keys(func, arg, *field ? field : NULL)) {
			cand_add_table_keys(func, field, arg, text);
		} else {
			lua_pushglobaltable(L);
			cand_add_keys(L, "", text);
			lua_pop(L, 1);
			cand_add_list(keywords, text);
		}
	}
	if (ncands)		/* cands is NULL until a first candidate */
		qsort(cands, ncands, sizeof(*cands), by_name);
}

/* The list ctl_complete_matches hands readline, one entry a call. */
static char *const *match_list;
static size_t match_n;

static char *next_candidate(const char *text, int state)
{
	static size_t i;

	(void)text;
	if (!state)
		i = 0;
	return i < match_n ? strdup(match_list[i++]) : NULL;
}

char **ctl_complete_matches(const char *text, char *const *list, size_t n)
{
	match_list = list;
	match_n = n;
	return rl_completion_matches(text, next_candidate);
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;	/* never fall back to file names */
	rl_completion_append_character = '\0';
	collect(complete_L, rl_line_buffer, text, start);
	return ctl_complete_matches(text, cands, ncands);
}

size_t ctl_complete_collect(lua_State *L, const char *line, int start, const char *text,
			    char ***out)
{
	collect(L, line, text, start);
	*out = cands;
	return ncands;
}

void ctl_complete_readline(char **(*fn)(const char *text, int start, int end))
{
	rl_attempted_completion_function = fn;
	/* '.' and ':' are part of a word, so "ct.al" completes as a whole */
	rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{}()[],+-*/%^~#";
	rl_completer_quote_characters = "\"'";
}

void ctl_complete_init(lua_State *L)
{
	complete_L = L;
	ctl_complete_readline(complete);
}

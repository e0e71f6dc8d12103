// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pretty.c - a Lua value as the REPL shows it: scalars as Lua writes them, tables with
 * their keys in a stable order, one line when it fits in CTL_PRETTY_WIDTH columns and
 * one field per line otherwise, ctlua's entries and events as one compact line.
 *
 * Whatever the value, printing must neither raise nor hang: tables are read raw (no
 * __index, __len, __pairs), the only Lua code run is a __tostring metamethod inside
 * lua_pcall, and nesting and the number of fields are capped.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "fields.h"
#include "lua_ct.h"
#include "pretty.h"

#define MAX_DEPTH	6	/* tables open at once; a deeper one shows as {…} */
#define MAX_FIELDS	1000	/* fields in the whole output; then … */
#define INDENT		2
#define ELLIPSIS	"…"
#define UNBOUNDED	LONG_MAX

/*
 * The text being built lives in a userdata at stack slot @slot, so an error (only
 * running out of memory) leaks nothing: the pcall in ctl_pretty drops it.
 *
 * "Flat" mode is an attempt to write a table on one line: @cols counts the columns
 * written since the attempt began and every writer reports whether they still fit in
 * @room. The attempt that fails is cut off (len, fields, stack) and redone on lines.
 */
struct out {
	lua_State *L;
	int slot;
	char *p;
	size_t len, cap;
	int fields;			/* written so far, against MAX_FIELDS */
	int depth;			/* tables open on the current path */
	const void *path[MAX_DEPTH];	/* those tables, to spot cycles */
	bool flat;
	long cols, room;
};

static bool value(struct out *o, int idx, int ind, int tail);

/* Display columns of UTF-8 text: every byte but continuation bytes. */
static long columns(const char *s, size_t n)
{
	long c = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			return UNBOUNDED / 2;	/* a line break never fits on one line */
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	}
	return c;
}

static void add(struct out *o, const char *s, size_t n)
{
	if (o->cap - o->len < n) {
		size_t cap = o->cap;
		char *p;

		while (cap - o->len < n)
			cap *= 2;
		p = lua_newuserdatauv(o->L, cap, 0);
		memcpy(p, o->p, o->len);
		lua_replace(o->L, o->slot);
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	if (o->flat && o->cols < UNBOUNDED / 2)
		o->cols += columns(s, n);
}

static void adds(struct out *o, const char *s)
{
	add(o, s, strlen(s));
}

/* For short texts only: numbers and fixed names; anything past 255 bytes is cut. */
static void addf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct out *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add(o, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void newline(struct out *o, int ind)
{
	static const char spaces[] = "                                ";

	add(o, "\n", 1);
	for (; ind > 0; ind -= (int)sizeof(spaces) - 1)
		add(o, spaces, ind < (int)sizeof(spaces) - 1 ? (size_t)ind : sizeof(spaces) - 1);
}

static bool fits(const struct out *o)
{
	return !o->flat || o->cols <= o->room;
}

/* The column the next byte lands in: what the current line holds. */
static long column(const struct out *o)
{
	size_t start = o->len;

	while (start > 0 && o->p[start - 1] != '\n')
		start--;
	return columns(o->p + start, o->len - start);
}

/*
 * A string between double quotes, escaped as string.format("%q") does, except that a
 * newline shows as \n rather than a backslash before a real line break. Bytes from
 * 0x80 up pass unchanged, so UTF-8 text stays readable.
 */
static void quoted(struct out *o, const char *s, size_t n)
{
	size_t run = 0;

	add(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool digit_next = i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9';

		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		add(o, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\')
			addf(o, "\\%c", c);
		else if (c == '\n')
			add(o, "\\n", 2);
		else	/* %q's form: \ddd when a digit follows, so it cannot absorb it */
			addf(o, digit_next ? "\\%03d" : "\\%d", c);
	}
	add(o, s + run, n - run);
	add(o, "\"", 1);
}

/* Names that need no ["..."]: Lua identifiers that are not reserved words. */
static bool is_name(const char *s, size_t n)
{
	static const char *const reserved[] = {
		"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
		"goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
		"true", "until", "while", NULL,
	};

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	for (int i = 0; reserved[i]; i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

/*
 * Write the value at @idx with the __tostring field of its metatable (read raw, so no
 * __index of the metatable's own runs) and return true; false when it has none. The
 * call is protected: raising, or returning neither string nor number, shows as
 * "<TYPE: error in __tostring>", as pretty.h promises.
 */
static bool tostring(struct out *o, int idx)
{
	lua_State *L = o->L;
	size_t n;
	const char *s;

	if (!lua_getmetatable(L, idx))
		return false;
	/* ours leads back here: a record that lost its shape prints as the table it is */
	if (ctl_rawfield(L, -1, "__tostring") == LUA_TNIL ||
	    lua_tocfunction(L, -1) == ctl_pretty_tostring) {
		lua_pop(L, 2);
		return false;
	}
	lua_remove(L, -2);
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isstring(L, -1)) {
		s = lua_tolstring(L, -1, &n);
		add(o, s, n);
	} else {
		addf(o, "<%s: error in __tostring>", luaL_typename(L, idx));
	}
	lua_pop(L, 1);
	return true;
}

/* <NAME> from the metatable's __name (as luaL_tolstring does), else <userdata>. */
static void userdata(struct out *o, int idx)
{
	lua_State *L = o->L;

	if (tostring(o, idx))
		return;
	if (lua_getmetatable(L, idx)) {
		if (ctl_rawfield(L, -1, "__name") == LUA_TSTRING) {
			adds(o, "<");
			adds(o, lua_tostring(L, -1));
			adds(o, ">");
		} else
			adds(o, "<userdata>");
		lua_pop(L, 2);
		return;
	}
	adds(o, "<userdata>");
}

/* Where a Lua function was defined; C functions have nothing a user could open. */
static void function(struct out *o, int idx)
{
	lua_Debug ar;

	if (lua_iscfunction(o->L, idx)) {
		adds(o, "<function: builtin>");
		return;
	}
	lua_pushvalue(o->L, idx);
	lua_getinfo(o->L, ">S", &ar);
	addf(o, "<function: %s:%d>", ar.short_src, ar.linedefined);
}

/* --- ctlua's entries and events ------------------------------------------------------ */

/*
 * The compact forms hide fields (src/dst/sport/... repeat the tuple), so they apply
 * only to a table that has nothing else: every key is known and of its type. Anything
 * a user added makes it print as an ordinary table, where nothing is hidden. Which
 * keys are known, their types, and which the one-line form needs come from the
 * records' field tables (fields.c).
 */

/* Keys of the table at @t, counting no further than @limit + 1. */
static lua_Integer count_keys(lua_State *L, int t, lua_Integer limit)
{
	lua_Integer n = 0;

	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (++n > limit) {
			lua_pop(L, 1);
			break;
		}
	}
	return n;
}

/* {"assured", "seen_reply", ...}: a sequence of at most 32 strings and nothing else. */
static bool is_names(lua_State *L, int t)
{
	lua_Integer n = 0, max = 0;
	bool good = true;

	lua_pushnil(L);
	while (good && lua_next(L, t)) {
		good = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
		       lua_tointeger(L, -2) <= 32 && lua_type(L, -1) == LUA_TSTRING;
		if (good && lua_tointeger(L, -2) > max)
			max = lua_tointeger(L, -2);
		n++;
		lua_pop(L, good ? 1 : 2);
	}
	return good && max == n;	/* n distinct keys, none above n: exactly 1..n */
}

/* {addr = "198.18.0.9", port = 6666} and nothing else, as push_nat makes. */
static bool is_nat(lua_State *L, int t)
{
	bool good;

	good = ctl_rawfield(L, t, "addr") == LUA_TSTRING;
	good = ctl_rawfield(L, t, "port") == LUA_TNUMBER && lua_isinteger(L, -1) && good;
	lua_pop(L, 2);
	return good && count_keys(L, t, 2) == 2;
}

/* Whether the value at @idx is of the form push_value (lua_entry.c) gives @type. */
static bool is_wanted(lua_State *L, int idx, enum ctl_field_type type)
{
	int t = lua_type(L, idx);

	switch (type) {
	case CTL_FT_TUPLE:
		return ctl_testobject(L, idx, CTL_TUPLE_MT, sizeof(struct ctlua_flow)) != NULL;
	case CTL_FT_INT:
		return lua_isinteger(L, idx);
	case CTL_FT_NUMBER:
		return t == LUA_TNUMBER;
	case CTL_FT_STRING:
		return t == LUA_TSTRING;
	case CTL_FT_PROTO:
		return t == LUA_TSTRING || lua_isinteger(L, idx);
	case CTL_FT_STATUS:
		return t == LUA_TTABLE && is_names(L, lua_absindex(L, idx));
	case CTL_FT_NAT:
		return t == LUA_TTABLE && is_nat(L, lua_absindex(L, idx));
	}
	return false;
}

/*
 * Whether the table at @t is a record of @r: every field the one-line form needs
 * (CTL_FIELD_CORE), and no key that is not a field of its type.
 */
static bool has_shape(lua_State *L, int t, const struct ctl_record *r)
{
	unsigned int seen = 0, required = 0;
	bool good = true;
	unsigned int i;

	_Static_assert(sizeof(seen) * 8 >= 32, "a bit per field");
	for (i = 0; i < r->nfields && i < 32; i++)
		if (r->fields[i].flags & CTL_FIELD_CORE)
			required |= 1u << i;
	lua_pushnil(L);
	while (good && lua_next(L, t)) {
		size_t len = 0;
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : "";
		const struct ctl_field *f = ctl_record_field(r, key, len);

		good = f && is_wanted(L, -1, f->type);
		if (good && f - r->fields < 32)
			seen |= 1u << (f - r->fields);
		lua_pop(L, good ? 1 : 2);
	}
	return good && (seen & required) == required;
}

/* t[k] as an integer, or 0 when unset (the shape check made sure of the type). */
static lua_Integer int_field(lua_State *L, int t, const char *k)
{
	lua_Integer v;

	ctl_rawfield(L, t, k);
	v = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return v;
}

/* t[k] written as the value it is: tuples through their __tostring. */
static void put_field(struct out *o, int t, const char *k)
{
	ctl_rawfield(o->L, t, k);
	value(o, lua_gettop(o->L), 0, 0);
	lua_pop(o->L, 1);
}

/* ", snat 198.18.0.9:6666", IPv6 in brackets as in tuples; nothing when t[k] is unset. */
static void put_nat(struct out *o, int t, const char *k)
{
	lua_State *L = o->L;
	const char *addr;
	bool v6;

	if (ctl_rawfield(L, t, k) == LUA_TTABLE) {
		ctl_rawfield(L, -1, "addr");
		ctl_rawfield(L, -2, "port");
		addr = lua_tostring(L, -2);
		v6 = strchr(addr, ':') != NULL;
		addf(o, ", %s %s", k, v6 ? "[" : "");
		adds(o, addr);
		addf(o, "%s:%lld", v6 ? "]" : "", (long long)lua_tointeger(L, -1));
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
}

/*
 * entry{udp 198.18.0.2:1000 → 198.18.0.1:80, reply udp 198.18.0.1:80 → ..., status
 * assured,seen_reply, timeout 29000 ms, mark 0x5}: the fields that are zero are left
 * out, as is status_bits, which the names say again.
 */
static void entry(struct out *o, int t)
{
	lua_State *L = o->L;
	lua_Integer v;

	adds(o, "entry{");
	put_field(o, t, "tuple");
	adds(o, ", reply ");
	put_field(o, t, "reply");
	if (ctl_rawfield(L, t, "status") == LUA_TTABLE && lua_rawlen(L, -1) > 0) {
		adds(o, ", status ");
		for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			if (i > 1)
				adds(o, ",");
			adds(o, lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (ctl_rawfield(L, t, "timeout") == LUA_TNUMBER)
		addf(o, ", timeout %lld ms", (long long)lua_tointeger(L, -1));
	lua_pop(L, 1);
	if ((v = int_field(L, t, "mark")))
		addf(o, ", mark 0x%llx", (unsigned long long)v);
	if ((v = int_field(L, t, "zone")))
		addf(o, ", zone %lld", (long long)v);
	put_nat(o, t, "snat");
	put_nat(o, t, "dnat");
	adds(o, "}");
}

/* Write a string field unquoted, as the event line shows names. */
static void put_name(struct out *o, int t, const char *k)
{
	size_t n;
	const char *s;

	ctl_rawfield(o->L, t, k);
	s = lua_tolstring(o->L, -1, &n);
	add(o, s, n);
	lua_pop(o->L, 1);
}

/* event{miss ingress veth0 udp 198.18.0.2:40000 → 198.18.0.1:5353, action pass, rule 3} */
static void event(struct out *o, int t)
{
	lua_State *L = o->L;
	lua_Integer v;

	adds(o, "event{");
	put_name(o, t, "kind");
	adds(o, " ");
	put_name(o, t, "dir");
	adds(o, " ");
	put_name(o, t, "ifname");
	adds(o, " ");
	put_field(o, t, "tuple");
	adds(o, ", action ");
	put_name(o, t, "action");
	if ((v = int_field(L, t, "rule")))
		addf(o, ", rule %lld", (long long)v);
	if (ctl_rawfield(L, t, "errname") == LUA_TSTRING) {
		adds(o, ", error ");
		put_name(o, t, "errname");
	} else if ((v = int_field(L, t, "err"))) {
		addf(o, ", error %lld", (long long)v);
	}
	lua_pop(L, 1);
	adds(o, "}");
}

/* If the table at @t is an entry or an event, write its compact form. */
static bool compact(struct out *o, int t)
{
	lua_State *L = o->L;
	bool tuple = ctl_rawfield(L, t, "tuple") == LUA_TUSERDATA &&
		     is_wanted(L, -1, CTL_FT_TUPLE);

	lua_pop(L, 1);
	if (!tuple)
		return false;
	if (has_shape(L, t, &ctl_entry_record))
		entry(o, t);
	else if (has_shape(L, t, &ctl_event_record))
		event(o, t);
	else
		return false;
	return true;
}

/* --- tables -------------------------------------------------------------------------- */

/* A key beyond the sequence, with what sorts it. */
struct key {
	int rank;		/* 0 integer, 1 string, 2 anything else */
	lua_Integer i;		/* rank 0 */
	const char *s;		/* rank 1: the key; rank 2: its rendering */
	size_t len;
	const char *type;	/* rank 2: the type name, which sorts first */
	int slot;		/* where the key is in the keys table */
};

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c;

	if (a->rank != b->rank)
		return a->rank - b->rank;
	if (a->rank == 0)
		return (a->i > b->i) - (a->i < b->i);
	if (a->rank == 2 && (c = strcmp(a->type, b->type)))
		return c;
	if ((c = bytes_cmp(a->s, a->len, b->s, b->len)))
		return c;
	return a->slot - b->slot;	/* equal renderings: keep a stable order */
}

/*
 * Start a field: its separator, then true; or, once MAX_FIELDS are out, the separator
 * and … and false, to close the table there. @n counts this table's fields.
 */
static bool field_start(struct out *o, int ind, int *n)
{
	if (o->flat) {
		if (*n)
			adds(o, ", ");
	} else {
		newline(o, ind + INDENT);
	}
	if (o->fields >= MAX_FIELDS) {
		adds(o, ELLIPSIS);
		return false;
	}
	(*n)++;
	o->fields++;
	return true;
}

/*
 * The value on top as a field of a table at indent @ind, then pop it. Lines end in a
 * comma (Lua accepts the last one), which is why a nested table must fit one column
 * short. Returns false once a flat attempt overflows.
 */
static bool field_value(struct out *o, int ind)
{
	bool good = value(o, lua_gettop(o->L), ind + INDENT, 1);

	if (!o->flat)
		adds(o, ",");
	lua_pop(o->L, 1);
	return good && fits(o);
}

/*
 * Render the key at @idx flat and unbounded, for sorting and for its [...] prefix;
 * pushes the text. Keeps the caller's flat attempt (cols, room) as it was.
 */
static const char *key_text(struct out *o, int idx, size_t *len)
{
	bool flat = o->flat;
	long cols = o->cols, room = o->room;
	size_t start = o->len;
	const char *s;

	o->flat = true;
	o->cols = 0;
	o->room = UNBOUNDED;
	value(o, idx, 0, 0);
	s = lua_pushlstring(o->L, o->p + start, o->len - start);
	*len = o->len - start;
	o->len = start;
	o->flat = flat;
	o->cols = cols;
	o->room = room;
	return s;
}

/*
 * The keys of the table at @t that are not in its sequence 1..@seq, sorted: pushes the
 * table of keys, their renderings and the sorted array (3 values) and returns the
 * array, with its length in *@nkeys. NULL when a flat attempt cannot fit that many
 * fields (3 columns each at least, "x, "); then nothing is pushed.
 */
static struct key *sorted_keys(struct out *o, int t, lua_Integer seq, int *nkeys)
{
	lua_State *L = o->L;
	int keys, texts, n = 0;
	struct key *k;

	lua_newtable(L);
	keys = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= seq)
			continue;
		if (o->flat && 3 * ((long)seq + n + 1) > o->room) {
			lua_pop(L, 2);
			return NULL;
		}
		if (n == INT_MAX - 1)
			luaL_error(L, "too many keys");
		lua_pushvalue(L, -1);
		lua_rawseti(L, keys, ++n);
	}
	/* Collected first: rendering a key runs __tostring, which could change @t. */
	lua_newtable(L);
	texts = lua_gettop(L);
	k = lua_newuserdatauv(L, n ? (size_t)n * sizeof(*k) : 1, 0);
	for (int i = 0; i < n; i++) {
		struct key *e = &k[i];

		e->slot = i + 1;
		lua_rawgeti(L, keys, e->slot);
		if (lua_isinteger(L, -1)) {
			e->rank = 0;
			e->i = lua_tointeger(L, -1);
		} else if (lua_type(L, -1) == LUA_TSTRING) {
			e->rank = 1;
			e->s = lua_tolstring(L, -1, &e->len);	/* the keys table holds it */
		} else {
			e->rank = 2;
			e->type = luaL_typename(L, -1);
			e->s = key_text(o, lua_gettop(L), &e->len);
			lua_rawseti(L, texts, e->slot);		/* holds the text */
		}
		lua_pop(L, 1);
	}
	qsort(k, (size_t)n, sizeof(*k), key_cmp);
	*nkeys = n;
	return k;
}

/* The [key] = or name = before a field's value. */
static void key_prefix(struct out *o, const struct key *k)
{
	if (k->rank == 0)
		addf(o, "[%lld] = ", (long long)k->i);
	else if (k->rank == 1 && is_name(k->s, k->len)) {
		add(o, k->s, k->len);
		adds(o, " = ");
	} else if (k->rank == 1) {
		adds(o, "[");
		quoted(o, k->s, k->len);
		adds(o, "] = ");
	} else {
		adds(o, "[");
		add(o, k->s, k->len);
		adds(o, "] = ");
	}
}

/* Whether the key @k holds a mark (an integer from 0 up, on top), shown in hex. */
static bool is_mark(const struct key *k, lua_State *L)
{
	return k->rank == 1 && k->len == 4 && !memcmp(k->s, "mark", 4) && lua_isinteger(L, -1) &&
	       lua_tointeger(L, -1) >= 0;
}

/* Whether the table at @t has no key at all. */
static bool is_empty(lua_State *L, int t)
{
	lua_pushnil(L);
	if (!lua_next(L, t))
		return true;
	lua_pop(L, 2);
	return false;
}

/*
 * The fields of the table at @t between braces: on one line in flat mode, else one
 * per line at @ind + INDENT with the brace back at @ind. Order: the sequence 1..n,
 * then the other keys as key_cmp sorts them. Returns false once a flat attempt
 * overflows, leaving the stack for the caller to reset.
 */
static bool fields(struct out *o, int t, int ind)
{
	lua_State *L = o->L;
	int top = lua_gettop(L), n = 0, nkeys;
	bool cut = false;
	lua_Integer seq;
	struct key *k;

	if (o->fields >= MAX_FIELDS) {	/* past the cap: skip collecting and sorting */
		adds(o, is_empty(L, t) ? "{}" : "{" ELLIPSIS "}");
		return fits(o);
	}
	adds(o, "{");
	for (seq = 0; lua_rawgeti(L, t, seq + 1) != LUA_TNIL; seq++) {
		if ((cut = !field_start(o, ind, &n)))
			goto close;
		if (!field_value(o, ind))
			return false;
	}
	lua_pop(L, 1);
	k = sorted_keys(o, t, seq, &nkeys);
	if (!k)
		return false;
	for (int i = 0; i < nkeys; i++) {
		if ((cut = !field_start(o, ind, &n)))
			goto close;
		key_prefix(o, &k[i]);
		lua_rawgeti(L, top + 1, k[i].slot);	/* the keys table */
		lua_rawget(L, t);
		if (is_mark(&k[i], L)) {	/* in hex, as marks are written */
			addf(o, "0x%llx", (unsigned long long)lua_tointeger(L, -1));
			lua_pop(L, 1);
			if (!o->flat)
				adds(o, ",");
			if (!fits(o))
				return false;
		} else if (!field_value(o, ind)) {
			return false;
		}
	}
close:
	lua_settop(L, top);
	if (!o->flat && (n > 0 || cut))
		newline(o, ind);
	adds(o, "}");
	return fits(o);
}

/*
 * A table: its compact form, its __tostring, <cycle> when it is already open on the
 * path, {…} past MAX_DEPTH; else its fields, on one line if they fit between the
 * current column and CTL_PRETTY_WIDTH less @tail, one per line otherwise.
 */
static bool table(struct out *o, int t, int ind, int tail)
{
	lua_State *L = o->L;
	const void *p = lua_topointer(L, t);
	size_t len;
	int nfields, depth, top;
	bool good;

	luaL_checkstack(L, 12, "printing a table");	/* what one level pushes, with room */
	/* compact first: ctlua's entries and events have a __tostring that prints them so */
	if (compact(o, t) || tostring(o, t))
		return fits(o);
	for (int i = 0; i < o->depth; i++)
		if (o->path[i] == p) {
			adds(o, "<cycle>");
			return fits(o);
		}
	if (o->depth == MAX_DEPTH) {
		adds(o, is_empty(L, t) ? "{}" : "{" ELLIPSIS "}");
		return fits(o);
	}
	o->path[o->depth++] = p;
	if (o->flat) {
		good = fields(o, t, ind);
		o->depth--;
		return good;
	}
	len = o->len;
	nfields = o->fields;
	depth = o->depth;
	top = lua_gettop(L);
	o->flat = true;
	o->cols = 0;
	o->room = CTL_PRETTY_WIDTH - column(o) - tail;
	good = fields(o, t, ind);
	o->flat = false;
	if (!good) {	/* too wide: forget the attempt, one field per line */
		o->len = len;
		o->fields = nfields;
		o->depth = depth;
		lua_settop(L, top);
		fields(o, t, ind);
	}
	o->depth--;
	return true;
}

/*
 * Write the value at @idx (an absolute index) on a line indented by @ind, with @tail
 * columns to keep free after it. Returns false once a flat attempt overflows.
 */
static bool value(struct out *o, int idx, int ind, int tail)
{
	lua_State *L = o->L;
	const char *s;
	size_t n;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		adds(o, "nil");
		break;
	case LUA_TBOOLEAN:
		adds(o, lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNUMBER:	/* Lua's own conversion, on a copy: 1, 1.0, 3.5, 1e+100 */
		lua_pushvalue(L, idx);
		s = lua_tolstring(L, -1, &n);
		add(o, s, n);
		lua_pop(L, 1);
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &n);
		quoted(o, s, n);
		break;
	case LUA_TTABLE:
		return table(o, idx, ind, tail);
	case LUA_TFUNCTION:
		function(o, idx);
		break;
	case LUA_TUSERDATA:
	case LUA_TLIGHTUSERDATA:
		userdata(o, idx);
		break;
	default:
		addf(o, "<%s>", luaL_typename(L, idx));	/* thread */
		break;
	}
	return fits(o);
}

/* Protected part of ctl_pretty: (struct out *, value) -> text. */
static int pretty(lua_State *L)
{
	struct out *o = lua_touserdata(L, 1);

	o->cap = 256;
	o->p = lua_newuserdatauv(L, o->cap, 0);
	o->slot = lua_gettop(L);
	value(o, 2, 0, 0);
	lua_pushlstring(L, o->p, o->len);
	return 1;
}

void ctl_pretty(lua_State *L, int idx)
{
	struct out o = { .L = L };

	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, pretty);
	lua_pushlightuserdata(L, &o);
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {	/* out of memory: nothing else raises */
		const char *msg = lua_tostring(L, -1);

		/* The buffer is garbage now, and Lua collects before it fails an allocation. */
		lua_pushfstring(L, "<not printable: %s>", msg ? msg : "error");
		lua_remove(L, -2);
	}
}

int ctl_pretty_tostring(lua_State *L)
{
	ctl_pretty(L, 1);
	return 1;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * match.c - Lua 5.4 patterns (reference manual §6.4.1) for string.find, match, gmatch
 * and gsub, with a step counter that calls a poll function, so that a callback's time
 * budget can stop a match that backtracks for minutes inside one C call.
 *
 * The matcher is a backtracking one, as the manual's semantics require: each pattern
 * item is tried at the current subject position, repetitions try their longest (or, for
 * '-', shortest) run first and give back one byte at a time. Results, error messages,
 * the order in which malformed patterns are noticed (only when the matcher reaches the
 * bad item) and the nesting limit ("pattern too complex") are those of Lua 5.4.4's
 * string library; tests/15-match.t and fuzz/match_fuzz.c compare the two.
 *
 * The poll function may raise a Lua error: everything a match holds lives on the C stack
 * or in Lua values, so unwinding through it leaks nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <lauxlib.h>
#include "match.h"

/* As Lua's defaults: at most 32 captures, at most 200 nested matcher calls. */
#define MAX_CAPTURES	32
#define MAX_DEPTH	200

/* A capture's length while it is open, and for a position capture "()". */
#define CAP_OPEN	(-1)
#define CAP_POSITION	(-2)

struct matcher {
	lua_State *L;
	const char *src;	/* the subject */
	const char *src_end;	/* one past its last byte (Lua puts a NUL there) */
	const char *pat_end;	/* one past the pattern's last byte (a NUL there too) */
	int depth_left;		/* nested calls allowed before "pattern too complex" */
	int ncap;
	long steps_left;	/* countdown to the next poll */
	void (*poll)(lua_State *L);
	struct {
		const char *at;
		ptrdiff_t len;	/* or CAP_OPEN, CAP_POSITION */
	} cap[MAX_CAPTURES];
};

/* The first upvalue of find, match, gmatch and gsub. */
struct poller {
	void (*poll)(lua_State *L);
};

static void start(struct matcher *m, lua_State *L, void (*poll)(lua_State *L),
		  const char *s, size_t ls, const char *p, size_t lp)
{
	m->L = L;
	m->src = s;
	m->src_end = s + ls;
	m->pat_end = p + lp;
	m->poll = poll;
	m->steps_left = CTL_MATCH_POLL_STEPS;
}

/* Before each attempt at a new subject position. */
static void restart(struct matcher *m)
{
	m->ncap = 0;
	m->depth_left = MAX_DEPTH;
}

static void __attribute__((noinline)) poll_now(struct matcher *m)
{
	m->steps_left = CTL_MATCH_POLL_STEPS;
	m->poll(m->L);
}

/* Count @n steps; every CTL_MATCH_POLL_STEPS of them, let the poll function stop us. */
static inline void tick(struct matcher *m, long n)
{
	m->steps_left -= n;
	if (__builtin_expect(m->steps_left <= 0, 0))
		poll_now(m);
}

/* Does byte @c belong to class letter @cl (%a, %D...)? Other letters stand for themselves. */
static int in_class(int c, int cl)
{
	int yes;

	switch (tolower(cl)) {
	case 'a': yes = isalpha(c); break;
	case 'c': yes = iscntrl(c); break;
	case 'd': yes = isdigit(c); break;
	case 'g': yes = isgraph(c); break;
	case 'l': yes = islower(c); break;
	case 'p': yes = ispunct(c); break;
	case 's': yes = isspace(c); break;
	case 'u': yes = isupper(c); break;
	case 'w': yes = isalnum(c); break;
	case 'x': yes = isxdigit(c); break;
	case 'z': yes = c == 0; break;	/* deprecated by the manual, still in 5.4.4 */
	default: return cl == c;
	}
	if (isupper(cl))	/* the upper-case letter is the complement */
		return !yes;
	return yes;
}

/*
 * Is @c in the set that starts at @p ('[') and whose closing ']' is at @close? Inside,
 * %x is a class or an escaped byte, a-b a range (a '-' first or last is itself).
 */
static int in_set(int c, const char *p, const char *close)
{
	int found = 1;

	if (p[1] == '^') {
		found = 0;
		p++;
	}
	while (++p < close) {
		if (*p == '%') {
			p++;
			if (in_class(c, (unsigned char)*p))
				return found;
		} else if (p[1] == '-' && p + 2 < close) {
			if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
				return found;
			p += 2;
		} else if ((unsigned char)*p == c) {
			return found;
		}
	}
	return !found;
}

/*
 * The end of the single-byte class at @p: one past '.', a byte, %x or [set]. A pattern
 * that ends inside it is malformed.
 *
 * Each look into a set (here and in one()) costs its length, and the caller counts one
 * step for it; a set longer than LONG_SET counts its length too, as the pattern may be
 * one set of a megabyte.
 */
#define LONG_SET 32
static const char *item_end(struct matcher *m, const char *p)
{
	const char *end = m->pat_end, *set = p;

	if (*p == '%') {
		if (p + 1 == end)
			luaL_error(m->L, "malformed pattern (ends with '%%')");
		return p + 2;
	}
	if (*p != '[')
		return p + 1;
	p++;
	if (*p == '^')
		p++;
	/* The first byte of a set is never its end: "[]]" is the set of ']'. */
	do {
		if (p == end)
			luaL_error(m->L, "malformed pattern (missing ']')");
		if (*p++ == '%' && p < end)
			p++;
	} while (*p != ']');
	if (p - set > LONG_SET)
		tick(m, p - set);
	return p + 1;
}

/* Does the subject byte at @s match the single-byte class [@p, @ep)? */
static inline int one(struct matcher *m, const char *s, const char *p, const char *ep)
{
	int c;

	if (s >= m->src_end)
		return 0;
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return 1;
	case '%':
		return in_class(c, (unsigned char)p[1]);
	case '[':
		if (ep - p > LONG_SET)
			tick(m, ep - p);
		return in_set(c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

static const char *match(struct matcher *m, const char *s, const char *p);

/* Item [@p, @ep) followed by '*' (or '+', its first byte matched): longest run first. */
static const char *longest(struct matcher *m, const char *s, const char *p, const char *ep)
{
	ptrdiff_t n = 0;
	const char *r;

	if (*p == '.')
		n = m->src_end - s;
	else
		while (one(m, s + n, p, ep))
			n++;
	tick(m, n);
	for (; n >= 0; n--) {
		r = match(m, s + n, ep + 1);
		if (r)
			return r;
	}
	return NULL;
}

/* Item [@p, @ep) followed by '-': shortest run first. */
static const char *shortest(struct matcher *m, const char *s, const char *p, const char *ep)
{
	const char *r;

	for (;;) {
		r = match(m, s, ep + 1);
		if (r)
			return r;
		if (!one(m, s, p, ep))
			return NULL;
		s++;
	}
}

/* %bxy at @p (pointing at x): a run from x to its balancing y. */
static const char *balanced(struct matcher *m, const char *s, const char *p)
{
	const char *from = s;
	int open, close, depth = 1;

	if (p >= m->pat_end - 1)
		luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
	open = p[0];
	close = p[1];
	if (s >= m->src_end || *s != open)
		return NULL;
	while (++s < m->src_end) {
		if (*s == close) {
			if (--depth == 0) {
				tick(m, s - from);
				return s + 1;
			}
		} else if (*s == open) {
			depth++;
		}
	}
	tick(m, s - from);
	return NULL;
}

/* A capture opens at @s; @len is CAP_OPEN or CAP_POSITION. */
static const char *open_capture(struct matcher *m, const char *s, const char *p, ptrdiff_t len)
{
	const char *r;

	if (m->ncap >= MAX_CAPTURES)
		luaL_error(m->L, "too many captures");
	m->cap[m->ncap].at = s;
	m->cap[m->ncap].len = len;
	m->ncap++;
	r = match(m, s, p);
	if (!r)
		m->ncap--;
	return r;
}

/* ')' closes the innermost open capture at @s. */
static const char *close_capture(struct matcher *m, const char *s, const char *p)
{
	const char *r;
	int i = m->ncap - 1;

	while (i >= 0 && m->cap[i].len != CAP_OPEN)
		i--;
	if (i < 0)
		luaL_error(m->L, "invalid pattern capture");
	m->cap[i].len = s - m->cap[i].at;
	r = match(m, s, p);
	if (!r)
		m->cap[i].len = CAP_OPEN;
	return r;
}

/* %1-%9 (@digit) at @s: the same bytes as that closed capture. */
static const char *backref(struct matcher *m, const char *s, int digit)
{
	int i = digit - '1';
	ptrdiff_t len;

	if (i < 0 || i >= m->ncap || m->cap[i].len == CAP_OPEN)
		luaL_error(m->L, "invalid capture index %%%d", i + 1);
	len = m->cap[i].len;
	/* a position capture has no text, so it matches nothing */
	if (len < 0 || m->src_end - s < len)
		return NULL;
	tick(m, len);
	if (memcmp(m->cap[i].at, s, len))
		return NULL;
	return s + len;
}

/*
 * Match the pattern from @p at subject position @s: the end of the match, or NULL.
 * A tail of the pattern is matched by looping; only backtracking points (repetitions,
 * '?', captures) nest, and those count against MAX_DEPTH.
 */
static const char *match(struct matcher *m, const char *s, const char *p)
{
	const char *ep, *r;
	int prev;

	if (m->depth_left-- == 0)
		luaL_error(m->L, "pattern too complex");
	while (p != m->pat_end) {
		tick(m, 1);	/* per item: a long pattern is work even without recursion */
		switch (*p) {
		case '(':
			if (p[1] == ')')
				s = open_capture(m, s, p + 2, CAP_POSITION);
			else
				s = open_capture(m, s, p + 1, CAP_OPEN);
			goto done;
		case ')':
			s = close_capture(m, s, p + 1);
			goto done;
		case '$':
			if (p + 1 != m->pat_end)
				break;	/* a '$' elsewhere is a byte */
			if (s != m->src_end)
				s = NULL;
			goto done;
		case '%':
			switch (p[1]) {
			case 'b':
				s = balanced(m, s, p + 2);
				if (!s)
					goto done;
				p += 4;
				continue;
			case 'f':
				p += 2;
				if (*p != '[')
					luaL_error(m->L, "missing '[' after '%%f' in pattern");
				ep = item_end(m, p);
				if (ep - p > LONG_SET)
					tick(m, 2 * (ep - p));
				/* outside the subject is '\0' on both sides (src_end holds one) */
				prev = s == m->src ? 0 : (unsigned char)s[-1];
				if (in_set(prev, p, ep - 1) ||
				    !in_set((unsigned char)*s, p, ep - 1)) {
					s = NULL;
					goto done;
				}
				p = ep;
				continue;
			case '0': case '1': case '2': case '3': case '4':
			case '5': case '6': case '7': case '8': case '9':
				s = backref(m, s, (unsigned char)p[1]);
				if (!s)
					goto done;
				p += 2;
				continue;
			}
			break;
		}
		/* a single-byte class, maybe followed by a quantifier */
		ep = item_end(m, p);
		if (!one(m, s, p, ep)) {
			if (*ep == '*' || *ep == '?' || *ep == '-') {
				p = ep + 1;	/* zero repetitions will do */
				continue;
			}
			s = NULL;
			goto done;
		}
		switch (*ep) {
		case '?':
			r = match(m, s + 1, ep + 1);
			if (r) {
				s = r;
				goto done;
			}
			p = ep + 1;
			continue;
		case '+':
			s = longest(m, s + 1, p, ep);
			goto done;
		case '*':
			s = longest(m, s, p, ep);
			goto done;
		case '-':
			s = shortest(m, s, p, ep);
			goto done;
		default:
			s++;
			p = ep;
			continue;
		}
	}
done:
	m->depth_left++;
	return s;
}

/*
 * Push capture @i of the match [@s, @e): its text, its position, or with no captures
 * (then @i is 0) the whole match. Stack: +1.
 */
static void push_capture(struct matcher *m, int i, const char *s, const char *e)
{
	ptrdiff_t len;

	if (i >= m->ncap) {	/* i == 0: callers ask for no other */
		lua_pushlstring(m->L, s, e - s);
		return;
	}
	len = m->cap[i].len;
	if (len == CAP_OPEN)
		luaL_error(m->L, "unfinished capture");
	if (len == CAP_POSITION)
		lua_pushinteger(m->L, m->cap[i].at - m->src + 1);
	else
		lua_pushlstring(m->L, m->cap[i].at, len);
}

/*
 * Push every capture, or the whole match [@s, @e) when there is none; @s NULL pushes
 * only captures (find). Returns how many values were pushed.
 */
static int push_captures(struct matcher *m, const char *s, const char *e)
{
	int n = m->ncap == 0 && s ? 1 : m->ncap;

	luaL_checkstack(m->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(m, i, s, e);
	return n;
}

/* A position argument: negative counts from the end, then clamped at 1 below. */
static size_t position(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

/* Does @p hold none of the bytes that make a pattern more than its text? */
static int is_plain(const char *p, size_t lp)
{
	for (size_t i = 0; i < lp; i++) {
		switch (p[i]) {
		case '^': case '$': case '*': case '+': case '?':
		case '.': case '(': case '[': case '%': case '-':
			return 0;
		}
	}
	return 1;
}

/*
 * The first @p (@lp bytes) in @s (@ls bytes), or NULL. Both ways are linear in the
 * subject, so they need no step count: memchr's, quicker for short subjects, compares at
 * most SHORT_NEEDLE bytes per candidate; memmem's (two-way) is linear for any needle.
 */
#define SHORT_NEEDLE 32
static const char *find_plain(const char *s, size_t ls, const char *p, size_t lp)
{
	const char *end, *at;

	if (lp > SHORT_NEEDLE)
		return memmem(s, ls, p, lp);
	if (lp == 0)
		return s;
	if (lp > ls)
		return NULL;
	end = s + ls - lp + 1;	/* where the last candidate starts, plus one */
	while (s < end && (at = memchr(s, *p, end - s))) {
		if (!memcmp(at + 1, p + 1, lp - 1))
			return at;
		s = at + 1;
	}
	return NULL;
}

static void (*poll_of(lua_State *L))(lua_State *)
{
	return ((struct poller *)lua_touserdata(L, lua_upvalueindex(1)))->poll;
}

/* string.find (@find) and string.match: the same search, different results. */
static int find_or_match(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = position(luaL_optinteger(L, 3, 1), ls) - 1;
	struct matcher m;
	const char *at, *e;
	int anchored;

	if (init > ls) {	/* starts past the end: nothing to find */
		lua_pushnil(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || is_plain(p, lp))) {
		at = find_plain(s + init, ls - init, p, lp);
		if (!at)
			goto fail;
		lua_pushinteger(L, (at - s) + 1);
		lua_pushinteger(L, (at - s) + lp);
		return 2;
	}
	anchored = *p == '^';
	if (anchored) {
		p++;
		lp--;
	}
	start(&m, L, poll_of(L), s, ls, p, lp);
	at = s + init;
	do {
		restart(&m);
		e = match(&m, at, p);
		if (e) {
			if (!find)
				return push_captures(&m, at, e);
			lua_pushinteger(L, (at - s) + 1);
			lua_pushinteger(L, e - s);
			return 2 + push_captures(&m, NULL, NULL);
		}
	} while (at++ < m.src_end && !anchored);
fail:
	lua_pushnil(L);
	return 1;
}

static int str_find(lua_State *L)
{
	return find_or_match(L, 1);
}

static int str_match(lua_State *L)
{
	return find_or_match(L, 0);
}

/* What gmatch's iterator keeps between calls (its third upvalue). */
struct gmatch_state {
	struct matcher m;
	const char *next;	/* where the next search starts */
	const char *last;	/* end of the last match: an empty match there is skipped */
	const char *p;
};

static int gmatch_next(lua_State *L)
{
	struct gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
	/*
	 * A copy on the C stack: the poll may run finalizers (a full collection under the
	 * memory limit) that call this same iterator, which must not reset our captures.
	 */
	struct matcher m = g->m;
	const char *at, *e;

	m.L = L;	/* it may be called from another coroutine */
	m.steps_left = CTL_MATCH_POLL_STEPS;
	for (at = g->next; at <= m.src_end; at++) {
		restart(&m);
		e = match(&m, at, g->p);
		if (e && e != g->last) {
			g->next = g->last = e;
			return push_captures(&m, at, e);
		}
	}
	return 0;
}

/* string.gmatch(s, pattern [, init]): '^' is a byte here, not an anchor. */
static int str_gmatch(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = position(luaL_optinteger(L, 3, 1), ls) - 1;
	void (*poll)(lua_State *) = poll_of(L);
	struct gmatch_state *g;

	lua_settop(L, 2);	/* the iterator keeps s and p alive as upvalues */
	g = lua_newuserdatauv(L, sizeof(*g), 0);
	if (init > ls)
		init = ls + 1;	/* past the end, without overflowing the pointer */
	start(&g->m, L, poll, s, ls, p, lp);
	g->next = s + init;
	g->last = NULL;
	g->p = p;
	lua_pushcclosure(L, gmatch_next, 3);
	return 1;
}

/* gsub's string replacement: %0-%9 are captures, %% is '%'. */
static void add_string(struct matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
	lua_State *L = m->L;
	size_t lr;
	const char *r = lua_tolstring(L, 3, &lr);
	const char *q;
	int i;
	ptrdiff_t len;

	while ((q = memchr(r, '%', lr))) {
		luaL_addlstring(b, r, q - r);
		q++;	/* at the byte after '%' (the string's NUL if it ends there) */
		if (*q == '%') {
			luaL_addchar(b, '%');
		} else if (*q == '0') {
			luaL_addlstring(b, s, e - s);
		} else if (isdigit((unsigned char)*q)) {
			i = *q - '1';
			if (i >= m->ncap) {
				if (i != 0)
					luaL_error(L, "invalid capture index %%%d", i + 1);
				luaL_addlstring(b, s, e - s);
			} else if ((len = m->cap[i].len) == CAP_OPEN) {
				luaL_error(L, "unfinished capture");
			} else if (len == CAP_POSITION) {
				lua_pushinteger(L, m->cap[i].at - m->src + 1);
				luaL_addvalue(b);
			} else {
				luaL_addlstring(b, m->cap[i].at, len);
			}
		} else {
			luaL_error(L, "invalid use of '%c' in replacement string", '%');
		}
		lr -= q + 1 - r;
		r = q + 1;
	}
	luaL_addlstring(b, r, lr);
}

/*
 * Add the replacement of match [@s, @e) by the repl of type @type to @b. A function or
 * table answering nil or false keeps the match. Returns whether anything was replaced.
 */
static int add_replacement(struct matcher *m, luaL_Buffer *b, const char *s, const char *e,
			   int type)
{
	lua_State *L = m->L;

	if (type == LUA_TFUNCTION) {
		lua_pushvalue(L, 3);
		lua_call(L, push_captures(m, s, e), 1);
	} else if (type == LUA_TTABLE) {
		push_capture(m, 0, s, e);
		lua_gettable(L, 3);
	} else {
		add_string(m, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, e - s);
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

/* string.gsub(s, pattern, repl [, n]) */
static int str_gsub(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	int type = lua_type(L, 3);
	lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	lua_Integer n = 0;
	const char *last = NULL, *e;
	int anchored = *p == '^', changed = 0;
	struct matcher m;
	luaL_Buffer b;

	luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING ||
			 type == LUA_TFUNCTION || type == LUA_TTABLE, 3, "string/function/table");
	luaL_buffinit(L, &b);
	if (anchored) {
		p++;
		lp--;
	}
	start(&m, L, poll_of(L), s, ls, p, lp);
	while (n < max) {
		restart(&m);
		e = match(&m, s, p);
		if (e && e != last) {	/* an empty match right after the last one is skipped */
			n++;
			changed |= add_replacement(&m, &b, s, e, type);
			s = last = e;
		} else if (s < m.src_end) {
			luaL_addchar(&b, *s++);
		} else {
			break;
		}
		if (anchored)
			break;
	}
	if (changed) {
		luaL_addlstring(&b, s, m.src_end - s);
		luaL_pushresult(&b);
	} else {
		lua_pushvalue(L, 1);
	}
	lua_pushinteger(L, n);
	return 2;
}

/*
 * Put find, match, gmatch and gsub in the global `string` table, all sharing one upvalue
 * that holds @poll (the contract is in match.h); a state without the string library (the
 * fuzz harnesses' sealed one) is left as it is. Stack: unchanged.
 */
void ctl_open_string_match(lua_State *L, void (*poll)(lua_State *L))
{
	static const luaL_Reg funcs[] = {
		{ "find", str_find },
		{ "match", str_match },
		{ "gmatch", str_gmatch },
		{ "gsub", str_gsub },
		{ NULL, NULL },
	};
	struct poller *up;

	if (lua_getglobal(L, "string") != LUA_TTABLE) {	/* no string library: nothing to bound */
		lua_pop(L, 1);
		return;
	}
	up = lua_newuserdatauv(L, sizeof(*up), 0);
	up->poll = poll;
	luaL_setfuncs(L, funcs, 1);
	lua_pop(L, 1);
}

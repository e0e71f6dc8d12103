// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pretty.c - TAP tests of ctl_pretty (src/pretty.h), the REPL's printer: scalars,
 * escapes, key order, the 72-column layout, cycles and caps, functions and userdata,
 * ctlua's tuples, entries and events. Runs from unit.c's main, numbering its tests
 * after unit.c's own; needs Lua and the ct module, but neither root nor a kernel.
 *
 * Every expected text is written out by hand, never produced by the code under test.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "pretty.h"
#include "tap.h"

int luaopen_ct(lua_State *L);

/* Multi-line texts are shown line by line, so a diff by eye is possible. */
static void diag_text(const char *label, const char *s)
{
	const char *nl;

	diag("%s", label);
	for (; (nl = strchr(s, '\n')); s = nl + 1)
		diag("  |%.*s", (int)(nl - s), s);
	diag("  |%s", s);
}

/* ctl_pretty of the value on top; checks it pushed exactly one string and pops both. */
static void is_top(lua_State *L, const char *want, const char *name)
{
	int top = lua_gettop(L);
	const char *got;

	ctl_pretty(L, -1);
	if (!ok(lua_gettop(L) == top + 1 && lua_type(L, -1) == LUA_TSTRING, "%s: pushes one string",
		name)) {
		diag("    stack went from %d to %d", top, lua_gettop(L));
		lua_settop(L, top - 1);
		return;
	}
	got = lua_tostring(L, -1);
	if (!ok(!strcmp(got, want), "%s", name)) {
		diag_text("         got:", got);
		diag_text("    expected:", want);
	}
	lua_settop(L, top - 1);
}

/* Push the one value the chunk @code returns; false (and nothing pushed) if it fails. */
static bool run(lua_State *L, const char *code)
{
	if (luaL_loadbuffer(L, code, strlen(code), "=test") || lua_pcall(L, 0, 1, 0)) {
		diag("    chunk failed: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return false;
	}
	return true;
}

/* ctl_pretty of what the chunk @code returns. */
static void is_pretty(lua_State *L, const char *code, const char *want, const char *name)
{
	if (run(L, code))
		is_top(L, want, name);
	else
		ok(false, "%s", name);
}

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	luaL_requiref(L, "ct", luaopen_ct, 1);	/* ct.tuple needs no root */
	lua_pop(L, 1);
	return L;
}

static void test_scalars(lua_State *L)
{
	is_pretty(L, "return nil", "nil", "nil");
	is_pretty(L, "return true", "true", "true");
	is_pretty(L, "return false", "false", "false");
	is_pretty(L, "return 42", "42", "integer 42");
	is_pretty(L, "return -7", "-7", "integer -7");
	is_pretty(L, "return math.mininteger", "-9223372036854775808", "math.mininteger");
	is_pretty(L, "return 1.0", "1.0", "float 1.0 keeps its .0, as tostring does");
	is_pretty(L, "return 3.5", "3.5", "float 3.5");
	is_pretty(L, "return 0.1", "0.1", "float 0.1 (%.14g)");
	is_pretty(L, "return 1/3", "0.33333333333333", "float 1/3 has 14 digits");
	is_pretty(L, "return 1e100", "1e+100", "float 1e100");
	is_pretty(L, "return 2^63", "9.2233720368548e+18", "float 2^63");
}

static void test_strings(lua_State *L)
{
	is_pretty(L, "return 'hello'", "\"hello\"", "string quoted");
	is_pretty(L, "return ''", "\"\"", "empty string");
	is_pretty(L, "return 'a\"b\\\\c'", "\"a\\\"b\\\\c\"", "quote and backslash escaped");
	is_pretty(L, "return 'one\\ntwo'", "\"one\\ntwo\"", "newline shows as \\n");
	is_pretty(L, "return 'a\\tb\\rc'", "\"a\\9b\\13c\"", "tab and CR as %q writes them");
	is_pretty(L, "return '\\0' .. '1'", "\"\\0001\"", "NUL before a digit takes 3 digits");
	is_pretty(L, "return 'x\\0y'", "\"x\\0y\"", "NUL before a letter takes 1");
	is_pretty(L, "return '\\127'", "\"\\127\"", "DEL escaped");
	is_pretty(L, "return 'h\\xc3\\xa9llo \\xe2\\x86\\x92'", "\"héllo →\"",
		  "UTF-8 stays readable");
}

static void test_tables(lua_State *L)
{
	is_pretty(L, "return {}", "{}", "empty table");
	is_pretty(L, "return {1, 2, 3}", "{1, 2, 3}", "sequence");
	is_pretty(L, "return {'a', true, 1.5, {}}", "{\"a\", true, 1.5, {}}", "mixed sequence");
	is_pretty(L, "return {{1}, {2, {3}}}", "{{1}, {2, {3}}}", "nested sequences");
	is_pretty(L, "return {1, nil, 3}", "{1, [3] = 3}", "a hole ends the sequence");
	is_pretty(L, "return {3, 2, 1, z = 1, [5] = 0}", "{3, 2, 1, [5] = 0, z = 1}",
		  "sequence, then integer keys, then names");
	is_pretty(L, "return {port = 53, addr = '198.18.0.1'}",
		  "{addr = \"198.18.0.1\", port = 53}", "names sorted");
	is_pretty(L,
		  "return {7, [10] = 4, [-1] = 0, a = 1, b = 2, B = 3, ['x y'] = 3,\n"
		  "        ['end'] = 1, [true] = 6, [false] = 7, [2.5] = 5}",
		  "{\n"
		  "  7,\n"
		  "  [-1] = 0,\n"
		  "  [10] = 4,\n"
		  "  B = 3,\n"
		  "  a = 1,\n"
		  "  b = 2,\n"
		  "  [\"end\"] = 1,\n"
		  "  [\"x y\"] = 3,\n"
		  "  [false] = 7,\n"
		  "  [true] = 6,\n"
		  "  [2.5] = 5,\n"
		  "}",
		  "key order: sequence, integers, strings bytewise, then by type and text");
	is_pretty(L, "return {['1a'] = 1, _x = 2, ['a.b'] = 3, ['\\n'] = 4}",
		  "{[\"\\n\"] = 4, [\"1a\"] = 1, _x = 2, [\"a.b\"] = 3}",
		  "keys that are no identifier are quoted");
	is_pretty(L, "return {[{1}] = 'b', [{1, 2}] = 'a', [1.5] = 0, [-2.5] = 0}",
		  "{[-2.5] = 0, [1.5] = 0, [{1, 2}] = \"a\", [{1}] = \"b\"}",
		  "other keys: by type name, then by their text bytewise");
	is_pretty(L, "return setmetatable({1}, {__index = error, __len = error, __pairs = error})",
		  "{1}", "__index, __len and __pairs are not called");
}

static void test_width(lua_State *L)
{
	char want[400];

	/* A name longer than any fixed buffer: 300 k, written out by this loop. */
	strcpy(want, "{\n  ");
	memset(want + 4, 'k', 300);
	strcpy(want + 304, " = 1,\n}");
	is_pretty(L, "return {[('k'):rep(300)] = 1}", want, "a 300-character name");

	/* {"x...x"}: 68 x are 72 columns. */
	is_pretty(L, "return {('x'):rep(68)}",
		  "{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
		  "72 columns stay on one line");
	is_pretty(L, "return {('x'):rep(69)}",
		  "{\n"
		  "  \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\n"
		  "}",
		  "73 columns break, one field per line");
	/* Columns, not bytes: 68 é are 136 bytes. */
	is_pretty(L, "return {('\\xc3\\xa9'):rep(68)}",
		  "{\"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\"}",
		  "UTF-8 counts one column a character");
	/* "  a = {" is 7 columns, the comma 1: 61 y fit in the rest, 62 do not. */
	is_pretty(L, "return {a = {('y'):rep(61)}, b = 1}",
		  "{\n"
		  "  a = {\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"},\n"
		  "  b = 1,\n"
		  "}",
		  "a nested table fits counting its indent, key and comma");
	is_pretty(L, "return {a = {('y'):rep(62)}, b = 1}",
		  "{\n"
		  "  a = {\n"
		  "    \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\",\n"
		  "  },\n"
		  "  b = 1,\n"
		  "}",
		  "one column more and it breaks too");
	is_pretty(L, "return {a = {b = {('z'):rep(70)}, c = {1, 2}}}",
		  "{\n"
		  "  a = {\n"
		  "    b = {\n"
		  "      \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\",\n"
		  "    },\n"
		  "    c = {1, 2},\n"
		  "  },\n"
		  "}",
		  "2 spaces a level, closing braces under their opening lines");
}

static bool ends_with(const char *s, size_t len, const char *tail)
{
	size_t n = strlen(tail);

	return len >= n && !memcmp(s + len - n, tail, n);
}

static void test_caps(lua_State *L)
{
	const char *got;
	size_t len;
	int lines = 0;

	is_pretty(L, "local t = {} t.self = t return t", "{self = <cycle>}", "self cycle");
	is_pretty(L, "local a, b = {}, {} a.b = b b.a = a return a", "{b = {a = <cycle>}}",
		  "cycle through another table");
	is_pretty(L, "local t = {} t[t] = 1 return t", "{[<cycle>] = 1}", "cycle through a key");
	is_pretty(L, "local s = {1} return {s, s, {s}}", "{{1}, {1}, {{1}}}",
		  "a table repeated beside itself is no cycle");
	is_pretty(L, "return {{{{{{1}}}}}}", "{{{{{{1}}}}}}", "6 levels print");
	is_pretty(L, "return {{{{{{{1}}}}}}}", "{{{{{{{…}}}}}}}", "the 7th level is {…}");
	is_pretty(L, "return {{{{{{{}}}}}}}", "{{{{{{{}}}}}}}", "an empty 7th level is {}");

	/* 1500 integers: "{", 1000 fields, "…", "}" are 1003 lines. */
	if (!run(L, "local t = {} for i = 1, 1500 do t[i] = i end return t"))
		lua_pushnil(L);
	ctl_pretty(L, -1);
	got = lua_tolstring(L, -1, &len);
	for (size_t i = 0; i < len; i++)
		lines += got[i] == '\n';
	if (!ok(lines == 1002, "1500 fields: 1000 printed, then …"))
		diag("    %d lines", lines + 1);
	if (!ok(!strncmp(got, "{\n  1,\n  2,\n", 11), "1500 fields: the first ones"))
		diag("    starts with '%.20s'", got);
	if (!ok(ends_with(got, len, "\n  999,\n  1000,\n  …\n}"), "1500 fields: … after the 1000th"))
		diag("    ends with '%s'", len > 30 ? got + len - 30 : got);
	lua_pop(L, 2);

	/* The cap counts across tables: a, its 600, b (602), then b's first 398. */
	if (!run(L, "local a, b = {}, {} for i = 1, 600 do a[i] = i b[i] = i end\n"
		    "return {a = a, b = b}"))
		lua_pushnil(L);
	ctl_pretty(L, -1);
	got = lua_tolstring(L, -1, &len);
	if (!ok(ends_with(got, len, "\n    397,\n    398,\n    …\n  },\n}"),
		"the field cap counts nested fields"))
		diag("    ends with '%s'", len > 40 ? got + len - 40 : got);
	lua_pop(L, 2);
}

static int thrower(lua_State *L)
{
	return luaL_error(L, "broken");
}

static void test_functions_userdata(lua_State *L)
{
	static const char chunk[] = "\n\nreturn function() end";

	is_pretty(L, "return print", "<function: builtin>", "C function");
	is_pretty(L, "return ct.tuple", "<function: builtin>", "ct's functions are C functions");
	luaL_loadbuffer(L, chunk, sizeof(chunk) - 1, "@file.lua");
	lua_call(L, 0, 1);
	is_top(L, "<function: file.lua:3>", "Lua function: source and line");
	is_pretty(L, "return coroutine.create(print)", "<thread>", "thread");
	is_pretty(L, "local t = {version = '1'}\n"
		     "for k in ('mode on poll rule rules run stats tuple unrule verdict alloc attach '\n"
		     "        .. 'budget change default delete entries events explain flush '\n"
		     "        .. 'forget kernel lookup'):gmatch('%a+') do t[k] = print end\n"
		     "return t",
		  "{\n"
		  "  alloc = <function: builtin>,\n"
		  "  attach = <function: builtin>,\n"
		  "  budget = <function: builtin>,\n"
		  "  change = <function: builtin>,\n"
		  "  default = <function: builtin>,\n"
		  "  delete = <function: builtin>,\n"
		  "  entries = <function: builtin>,\n"
		  "  events = <function: builtin>,\n"
		  "  explain = <function: builtin>,\n"
		  "  flush = <function: builtin>,\n"
		  "  forget = <function: builtin>,\n"
		  "  kernel = <function: builtin>,\n"
		  "  lookup = <function: builtin>,\n"
		  "  mode = <function: builtin>,\n"
		  "  on = <function: builtin>,\n"
		  "  poll = <function: builtin>,\n"
		  "  rule = <function: builtin>,\n"
		  "  rules = <function: builtin>,\n"
		  "  run = <function: builtin>,\n"
		  "  stats = <function: builtin>,\n"
		  "  tuple = <function: builtin>,\n"
		  "  unrule = <function: builtin>,\n"
		  "  verdict = <function: builtin>,\n"
		  "  version = \"1\",\n"
		  "}",
		  "a module table: sorted, a function a line");
	/* The real ct grows; its first lines are stable. */
	if (run(L, "return ct")) {
		static const char head[] = "{\n  alloc = <function: builtin>,\n  alloc_many = ";
		const char *got;

		ctl_pretty(L, -1);
		got = lua_tostring(L, -1);
		if (!ok(!strncmp(got, head, sizeof(head) - 1),
			"the ct module prints its functions in order"))
			diag("    starts with '%.60s'", got);
		lua_pop(L, 2);
	}

	lua_newuserdatauv(L, 8, 0);
	is_top(L, "<userdata>", "userdata without a metatable");

	lua_newuserdatauv(L, 8, 0);
	luaL_newmetatable(L, "test.thing");
	lua_setmetatable(L, -2);
	is_top(L, "<test.thing>", "userdata with __name");

	lua_newuserdatauv(L, 8, 0);
	lua_newtable(L);
	lua_pushcfunction(L, thrower);
	lua_setfield(L, -2, "__tostring");
	lua_setmetatable(L, -2);
	is_top(L, "<userdata: error in __tostring>", "userdata whose __tostring raises");

	is_pretty(L, "return setmetatable({1, 2}, {__tostring = function() return 'pair' end})",
		  "pair", "table with __tostring: its text, unquoted");
	is_pretty(L, "return setmetatable({}, {__tostring = function() error('no') end})",
		  "<table: error in __tostring>", "table whose __tostring raises");
	is_pretty(L, "return setmetatable({}, {__tostring = function() return {} end})",
		  "<table: error in __tostring>", "table whose __tostring returns a table");
	is_pretty(L, "return {x = setmetatable({}, {__tostring = function() error('no') end})}",
		  "{x = <table: error in __tostring>}", "a raising __tostring inside a table");
}

/* T: a tuple the tests below share. */
#define TUPLE "local T = ct.tuple{src = '198.18.0.2', dst = '198.18.0.1', sport = 1000, " \
	      "dport = 80, proto = 'udp'}\n"

static void test_ctlua(lua_State *L)
{
	is_pretty(L, "return ct.tuple{src = '198.18.0.1', dst = '198.18.1.1', sport = 5353, "
		     "dport = 53, proto = 'udp'}",
		  "udp 198.18.0.1:5353 → 198.18.1.1:53", "tuple");
	is_pretty(L, "return ct.tuple{src = '2001:db8::1', dst = '2001:db8::2', sport = 1, "
		     "dport = 2, proto = 'tcp'}",
		  "tcp [2001:db8::1]:1 → [2001:db8::2]:2", "IPv6 tuple");
	is_pretty(L, TUPLE "return {T, n = 1}",
		  "{udp 198.18.0.2:1000 → 198.18.0.1:80, n = 1}", "tuple inside a table");

	is_pretty(L, TUPLE "return {tuple = T, reply = T.reply, status = {'seen_reply', 'assured'},\n"
		     "        status_bits = 6, timeout = 29000, mark = 5, zone = 0}",
		  "entry{udp 198.18.0.2:1000 → 198.18.0.1:80, reply udp 198.18.0.1:80 → "
		  "198.18.0.2:1000, status seen_reply,assured, timeout 29000 ms, mark 0x5}",
		  "entry");
	is_pretty(L, TUPLE "return {tuple = T, reply = T.reply, status = {'assured', 'src_nat'},\n"
		     "        status_bits = 20, timeout = 1, mark = 0, zone = 7,\n"
		     "        snat = {addr = '198.18.0.9', port = 6666},\n"
		     "        dnat = {addr = '2001:db8::9', port = 7}}",
		  "entry{udp 198.18.0.2:1000 → 198.18.0.1:80, reply udp 198.18.0.1:80 → "
		  "198.18.0.2:1000, status assured,src_nat, timeout 1 ms, zone 7, "
		  "snat 198.18.0.9:6666, dnat [2001:db8::9]:7}",
		  "entry with zone and NAT, no mark");
	is_pretty(L, TUPLE "return {tuple = T, reply = T.reply, status_bits = 0, note = 'mine'}",
		  "{\n"
		  "  note = \"mine\",\n"
		  "  reply = udp 198.18.0.1:80 → 198.18.0.2:1000,\n"
		  "  status_bits = 0,\n"
		  "  tuple = udp 198.18.0.2:1000 → 198.18.0.1:80,\n"
		  "}",
		  "an entry with a field of its own prints as a table");
	is_pretty(L, TUPLE "return {tuple = T, reply = T.reply, status_bits = 'x'}",
		  "{\n"
		  "  reply = udp 198.18.0.1:80 → 198.18.0.2:1000,\n"
		  "  status_bits = \"x\",\n"
		  "  tuple = udp 198.18.0.2:1000 → 198.18.0.1:80,\n"
		  "}",
		  "an entry with a field of the wrong type prints as a table");

	is_pretty(L, TUPLE "return {kind = 'miss', src = '198.18.0.2', dst = '198.18.0.1',\n"
		     "        sport = 1000, dport = 80, proto = 'udp', family = 'ipv4',\n"
		     "        ifname = 'veth0', dir = 'ingress', action = 'pass', err = 0,\n"
		     "        time = 1700000000.25, tuple = T}",
		  "event{miss ingress veth0 udp 198.18.0.2:1000 → 198.18.0.1:80, action pass}",
		  "event");
	is_pretty(L, TUPLE "return {kind = 'alloc', ifname = 'veth0', dir = 'egress',\n"
		     "        action = 'alloc', rule = 3, err = -17, errname = 'EEXIST', tuple = T}",
		  "event{alloc egress veth0 udp 198.18.0.2:1000 → 198.18.0.1:80, action alloc, "
		  "rule 3, error EEXIST}",
		  "event with rule and error");
	is_pretty(L, TUPLE "return {kind = 'miss', tuple = T}",
		  "{kind = \"miss\", tuple = udp 198.18.0.2:1000 → 198.18.0.1:80}",
		  "kind and tuple alone are no event");
	is_pretty(L, TUPLE "local e = {kind = 'miss', ifname = 'veth0', dir = 'ingress',\n"
		     "        action = 'pass', tuple = T}\n"
		     "return {e, e}",
		  "{\n"
		  "  event{miss ingress veth0 udp 198.18.0.2:1000 → 198.18.0.1:80, action pass},\n"
		  "  event{miss ingress veth0 udp 198.18.0.2:1000 → 198.18.0.1:80, action pass},\n"
		  "}",
		  "a list of events, one a line");
}

/* An allocator that fails past a limit, to show that running out of memory is caught. */
static size_t mem_used, mem_limit = (size_t)-1;

static void *capped_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	(void)ud;
	if (!p)
		osize = 0;
	if (nsize == 0) {
		mem_used -= osize;
		free(p);
		return NULL;
	}
	if (nsize > osize && mem_used + (nsize - osize) > mem_limit)
		return NULL;
	p = realloc(p, nsize);
	if (p)
		mem_used += nsize - osize;
	return p;
}

static void test_out_of_memory(void)
{
	lua_State *L = lua_newstate(capped_alloc, NULL);
	const char *got;

	luaL_openlibs(L);
	if (!run(L, "local t = {} for i = 1, 900 do t['k' .. i] = ('v'):rep(60) end return t"))
		lua_pushnil(L);
	lua_gc(L, LUA_GCCOLLECT);
	mem_limit = mem_used + 16 * 1024;	/* far less than the text needs */
	ctl_pretty(L, -1);
	mem_limit = (size_t)-1;
	got = lua_tostring(L, -1);
	if (!ok(lua_gettop(L) == 2 && got && !strcmp(got, "<not printable: not enough memory>"),
		"out of memory shows as a text, without raising"))
		diag("    got '%.40s', stack %d", got ? got : "(null)", lua_gettop(L));
	lua_close(L);
}

/* Entry point, from unit.c's main; the TAP numbering runs on (tap.h). */
void test_pretty(void)
{
	lua_State *L = new_state();

	test_scalars(L);
	test_strings(L);
	test_tables(L);
	test_width(L);
	test_caps(L);
	test_functions_userdata(L);
	test_ctlua(L);
	if (!ok(lua_gettop(L) == 0, "the stack is back where it was"))
		diag("    %d values left", lua_gettop(L));
	lua_close(L);
	test_out_of_memory();
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_check.c - what the `ct` module accepts from its callers. Each check reads one kind
 * of value (a string without NUL bytes, an integer in range, a list without holes, a
 * table of known fields) and raises misuse in one format, naming the argument, the field
 * and the list item; ctl_fail is the format of failures of the system.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "help.h"
#include "lua_ct.h"
#include "netns.h"
#include "names.h"

int ctl_fail(lua_State *L, int err, const char *fmt, ...)
{
	char name[16], text[512];
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", ctl_errno_name(err, name, sizeof(name)), text);
	lua_pushinteger(L, err);
	return 3;
}

int ctl_arg_error(lua_State *L, int arg, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (arg > 0) {
		lua_Debug ar;

		/* named as the user wrote it (ct.rule), even where no message handler runs */
		if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "f", &ar) &&
		    ctl_push_function_name(L, -1))
			return luaL_error(L, "bad argument #%d to '%s' (%s)", arg,
					  lua_tostring(L, -1), text);
		return luaL_argerror(L, arg, text);
	}
	return luaL_error(L, "%s", text);
}

/* Room for "field 'NAME': " before a message; field names are short. */
#define FIELD_PREFIX	80

/* "field 'NAME': " for a field, "" for the argument itself. */
static const char *field_prefix(const char *field, char buf[FIELD_PREFIX])
{
	if (!field)
		return "";
	snprintf(buf, FIELD_PREFIX, "field '%s': ", field);
	return buf;
}

const char *ctl_quote(lua_State *L, const char *s, size_t len)
{
	enum { SHOWN = 60 };	/* a message quotes the start of a long string */
	luaL_Buffer b;
	char esc[8];

	luaL_buffinit(L, &b);
	for (size_t i = 0; i < len && i < SHOWN; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0') {
			luaL_addstring(&b, "\\0");
		} else if (c < 32 || c == 127) {
			snprintf(esc, sizeof(esc), "\\%u", c);
			luaL_addstring(&b, esc);
		} else {
			luaL_addchar(&b, (char)c);
		}
	}
	if (len > SHOWN)
		luaL_addstring(&b, "...");
	luaL_pushresult(&b);
	return lua_tostring(L, -1);
}

/* Raise unless the string at @idx holds no NUL: C would read only its start. */
static const char *check_nul(lua_State *L, int idx, int arg, const char *field)
{
	char pre[FIELD_PREFIX];
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);

	if (strlen(s) != len)
		ctl_arg_error(L, arg, "%s'%s' contains a NUL byte", field_prefix(field, pre),
			      ctl_quote(L, s, len));
	return s;
}

const char *ctl_check_cstring(lua_State *L, int arg)
{
	if (lua_type(L, arg) != LUA_TSTRING)
		luaL_checkstring(L, arg);	/* raises "string expected, got ..." (or converts a number) */
	return check_nul(L, arg, arg, NULL);
}

int ctl_check_option(lua_State *L, int arg, const char *dflt, const char *const names[])
{
	const char *name = dflt && lua_isnoneornil(L, arg) ? dflt : ctl_check_cstring(L, arg);
	int i = ctl_name_index(names, name);

	if (i < 0)
		return luaL_argerror(L, arg, lua_pushfstring(L, "invalid option '%s'", name));
	return i;
}

/*
 * Describe the number at @idx as Lua prints it, with nan and inf spelt out (printf's
 * text for them differs between libcs); pushes nothing.
 */
static const char *number_text(lua_State *L, int idx, char *buf, size_t len)
{
	lua_Number x = lua_tonumber(L, idx);

	if (lua_isinteger(L, idx))
		snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
	else if (isnan(x))
		snprintf(buf, len, "nan");
	else if (isinf(x))
		snprintf(buf, len, x > 0 ? "inf" : "-inf");
	else
		snprintf(buf, len, LUA_NUMBER_FMT, (LUAI_UACNUMBER)x);
	return buf;
}

lua_Integer ctl_check_int_at(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
			     lua_Integer max)
{
	char pre[FIELD_PREFIX], num[64];
	lua_Integer v;
	int isint;

	if (lua_type(L, idx) != LUA_TNUMBER)
		return ctl_arg_error(L, arg, "%sexpected an integer, got %s",
				     field_prefix(field, pre), luaL_typename(L, idx));
	v = lua_tointegerx(L, idx, &isint);
	if (!isint) {
		lua_Number x = lua_tonumber(L, idx);

		/* a whole number too large for an integer is out of range, not a fraction */
		if (isfinite(x) && x == floor(x))
			return ctl_arg_error(L, arg, "%s%s is out of range %lld to %lld",
					     field_prefix(field, pre), number_text(L, idx, num, sizeof(num)),
					     (long long)min, (long long)max);
		return ctl_arg_error(L, arg, "%sexpected an integer, got %s",
				     field_prefix(field, pre), number_text(L, idx, num, sizeof(num)));
	}
	if (v < min || v > max)
		return ctl_arg_error(L, arg, "%s%lld is out of range %lld to %lld",
				     field_prefix(field, pre), (long long)v, (long long)min,
				     (long long)max);
	return v;
}

lua_Integer ctl_check_int(lua_State *L, int arg, lua_Integer min, lua_Integer max)
{
	luaL_checkany(L, arg);
	return ctl_check_int_at(L, arg, arg, NULL, min, max);
}

lua_Number ctl_check_number(lua_State *L, int arg, lua_Number min, lua_Number max)
{
	char num[64];
	lua_Number x;

	if (lua_type(L, arg) != LUA_TNUMBER)
		luaL_checknumber(L, arg);	/* raises "number expected, got ..." */
	x = lua_tonumber(L, arg);
	if (isnan(x))
		return luaL_argerror(L, arg, "expected a number, got nan");
	if (x < min || x > max) {
		char lo[64], hi[64];

		snprintf(lo, sizeof(lo), LUA_NUMBER_FMT, (LUAI_UACNUMBER)min);
		snprintf(hi, sizeof(hi), LUA_NUMBER_FMT, (LUAI_UACNUMBER)max);
		return ctl_arg_error(L, arg, "%s is out of range %s to %s",
				     number_text(L, arg, num, sizeof(num)), lo, hi);
	}
	return x;
}

/* A key as a message shows it: 'name' for a string, Lua's text for anything else. */
static const char *key_text(lua_State *L, int idx)
{
	size_t len;

	if (lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tolstring(L, idx, &len);

		return lua_pushfstring(L, "'%s'", ctl_quote(L, s, len));
	}
	return luaL_tolstring(L, idx, NULL);
}

lua_Integer ctl_check_list(lua_State *L, int idx, int arg, const char *field, const char *what)
{
	char pre[FIELD_PREFIX];
	lua_Integer count = 0, max = 0;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_Integer k = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;

		if (k < 1)
			ctl_arg_error(L, arg, "%s%s is not a list index (expected %s)",
				      field_prefix(field, pre), key_text(L, -2), what);
		if (k > max)
			max = k;
		count++;
		lua_pop(L, 1);
	}
	if (count != max) {
		lua_Integer hole = 1;

		while (lua_rawgeti(L, idx, hole) != LUA_TNIL) {
			lua_pop(L, 1);
			hole++;
		}
		ctl_arg_error(L, arg, "%sitem %lld is nil (%s cannot have holes)",
			      field_prefix(field, pre), (long long)hole, what);
	}
	return max;
}

/* The protected half of ctl_check_item: its check, given (ud, value). */
static int item_trampoline(lua_State *L)
{
	void (*check)(lua_State *, int, void *) = *(void (**)(lua_State *, int, void *))
		lua_touserdata(L, 1);

	check(L, 3, lua_touserdata(L, 2));
	return 0;
}

void ctl_check_item(lua_State *L, int idx, int arg, lua_Integer item,
		    void (*check)(lua_State *L, int idx, void *ud), void *ud)
{
	int status;

	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, item_trampoline);
	lua_pushlightuserdata(L, &check);
	lua_pushlightuserdata(L, ud);
	lua_pushvalue(L, idx);
	status = lua_pcall(L, 3, 0, 0);
	if (status == LUA_OK)
		return;
	if (status != LUA_ERRRUN || lua_type(L, -1) != LUA_TSTRING)
		lua_error(L);	/* out of memory and the like pass through as they are */
	ctl_arg_error(L, arg, "item %lld: %s", (long long)item, lua_tostring(L, -1));
}

void ctl_check_keys_in(lua_State *L, int idx, int arg, const char *field,
		       const char *const allowed[])
{
	char pre[FIELD_PREFIX];

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		size_t len = 0;
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
		int i = key && strlen(key) == len ? ctl_name_index(allowed, key) : -1;

		if (!key) {
			const char *k = luaL_tolstring(L, -2, NULL);	/* pushes: value at -2 */
			const char *v = luaL_tolstring(L, -2, NULL);

			ctl_arg_error(L, arg, "%sunexpected value %s at [%s]: give fields by name",
				      field_prefix(field, pre), v, k);
		} else if (i < 0) {
			luaL_Buffer b;
			const char *k = ctl_quote(L, key, len);

			luaL_buffinit(L, &b);
			for (int j = 0; allowed[j]; j++) {
				luaL_addstring(&b, j ? ", " : "");
				luaL_addstring(&b, allowed[j]);
			}
			luaL_pushresult(&b);
			ctl_arg_error(L, arg, "%sunknown field '%s' (known: %s)",
				      field_prefix(field, pre), k, lua_tostring(L, -1));
		}
		lua_pop(L, 1);
	}
}

void ctl_check_keys(lua_State *L, int idx, int arg, const char *const allowed[])
{
	ctl_check_keys_in(L, idx, arg, NULL, allowed);
}

bool ctl_field_int(lua_State *L, int idx, int arg, const char *field, lua_Integer min,
		   lua_Integer max, lua_Integer *out)
{
	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return false;
	}
	*out = ctl_check_int_at(L, -1, arg, field, min, max);
	lua_pop(L, 1);
	return true;
}

void ctl_check_port_at(lua_State *L, int idx, int arg, const char *field,
		       struct ctl_port_spec *p)
{
	int type = lua_type(L, idx);

	memset(p, 0, sizeof(*p));
	if (type == LUA_TNIL)
		return;
	if (type != LUA_TTABLE) {
		p->items = -1;
		p->lo = ctl_check_int_at(L, idx, arg, field, 0, 65535);
		return;
	}
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		p->items++;
		lua_pop(L, 1);
	}
	if (!p->items)
		p->items = 1;	/* {} is given, not absent: refused as {80} is */
	lua_rawgeti(L, idx, 1);
	lua_rawgeti(L, idx, 2);
	p->lo = lua_tointeger(L, -2);
	p->hi = lua_tointeger(L, -1);
	p->ints = lua_isinteger(L, -2) && lua_isinteger(L, -1);
	lua_pop(L, 2);
}

const char *ctl_check_str_at(lua_State *L, int idx, int arg, const char *field)
{
	char pre[FIELD_PREFIX];

	if (lua_type(L, idx) != LUA_TSTRING)
		ctl_arg_error(L, arg, "%sexpected a string, got %s", field_prefix(field, pre),
			      luaL_typename(L, idx));
	return check_nul(L, idx, arg, field);
}

#define ANCHORS	16	/* strings ctl_field_str keeps alive at once */

/*
 * Keep the string at @idx alive after it is popped, until ANCHORS more are kept: one an
 * __index made, or one a later metamethod removes from its table, would otherwise be
 * collectable while the caller still reads it (ct.rule holds three across other reads).
 */
static void anchor(lua_State *L, int idx)
{
	static unsigned int next;	/* the slot to reuse; any state may take any */

	idx = lua_absindex(L, idx);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &next) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, ANCHORS, 0);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &next);
	}
	lua_pushvalue(L, idx);
	lua_rawseti(L, -2, next++ % ANCHORS + 1);
	lua_pop(L, 1);
}

const char *ctl_field_str(lua_State *L, int idx, int arg, const char *field)
{
	const char *s;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	s = ctl_check_str_at(L, -1, arg, field);
	anchor(L, -1);
	lua_pop(L, 1);
	return s;
}

int ctl_field_option(lua_State *L, int idx, int arg, const char *field, const char *const names[],
		     int dflt)
{
	const char *s = ctl_field_str(L, idx, arg, field);
	int i;

	if (!s)
		return dflt;
	if ((i = ctl_name_index(names, s)) < 0)
		return ctl_arg_error(L, arg, "field '%s': invalid option '%s'", field, s);
	return i;
}

/* Push and return "seen_reply, assured, ..." (KERNEL.md section 4: all BPF may set). */
static const char *settable_list(lua_State *L)
{
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 0; ctl_status_names[i]; i++) {
		luaL_addstring(&b, i ? ", " : "");
		luaL_addstring(&b, ctl_status_names[i]);
	}
	luaL_pushresult(&b);
	return lua_tostring(L, -1);
}

int ctl_rawfield(lua_State *L, int idx, const char *k)
{
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx)) {
		lua_pushnil(L);
		return LUA_TNIL;
	}
	lua_pushstring(L, k);
	return lua_rawget(L, idx);
}

int ctl_field_proto(lua_State *L, int idx, int arg, const char *field)
{
	lua_Integer n;
	const char *name;
	int type = lua_getfield(L, idx, field), proto;

	lua_pop(L, 1);
	if (type == LUA_TNIL)
		return -1;
	if (type == LUA_TNUMBER) {
		ctl_field_int(L, idx, arg, field, 0, 255, &n);
		return (int)n;
	}
	name = ctl_field_str(L, idx, arg, field);
	proto = ctl_proto_parse(name);
	if (proto < 0)
		ctl_arg_error(L, arg, "field '%s': '%s' is not \"tcp\", \"udp\" or a number", field,
			      name);
	return proto;
}

const char *ctl_field_netns(lua_State *L, int idx, int arg, const char *field)
{
	const char *name = ctl_field_str(L, idx, arg, field);

	/* it becomes /run/netns/NAME: misuse is raised here, before anything is opened */
	if (name && !ctl_netns_name_ok(name))
		ctl_arg_error(L, arg, "field '%s': '%s' is not a namespace name (ip netns list "
			      "shows them)", field, name);
	return name;
}

int ctl_field_prefix(lua_State *L, int idx, int arg, const char *field, __be32 addr[4],
		     __be32 mask[4])
{
	const char *text = ctl_field_str(L, idx, arg, field);
	const char *why;
	int family;

	memset(addr, 0, 16);
	memset(mask, 0, 16);
	if (!text)
		return 0;
	family = ctl_prefix_parse(text, addr, mask, &why);
	if (!family)
		ctl_arg_error(L, arg, "field '%s': '%s': %s", field, text, why);
	return family;
}

/*
 * status = {"assured", ...} or a number of IPS_* bits. Only settable bits are accepted,
 * unless @raw: then a number reaches the kernel as given, for experiments. A table
 * must be a list: {assured=true} would otherwise read as no status at all.
 */
static __u32 check_status(lua_State *L, int idx, int arg, bool raw)
{
	__u32 bits = 0, settable = 0;
	lua_Integer n;

	for (int i = 0; ctl_status_names[i]; i++)
		settable |= ctl_status_bit(ctl_status_names[i]);
	lua_getfield(L, idx, "status");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		lua_pop(L, 1);
		ctl_field_int(L, idx, arg, "status", 0, 0xffffffff, &n);
		if (!raw && ((__u32)n & ~settable))
			ctl_arg_error(L, arg, "field 'status': bits 0x%x cannot be set from BPF "
				      "(settable: %s)", (__u32)n & ~settable, settable_list(L));
		return (__u32)n;
	}
	if (!lua_istable(L, -1))
		ctl_arg_error(L, arg, "field 'status': expected a list of names or a number, got %s",
			      luaL_typename(L, -1));
	n = ctl_check_list(L, -1, arg, "status", "a list of status names");
	for (lua_Integer i = 1; i <= n; i++) {
		size_t len;
		const char *name;
		__u32 bit = 0;

		lua_rawgeti(L, -1, i);
		name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (name && strlen(name) == len)
			bit = ctl_status_bit(name);
		if (!bit)
			ctl_arg_error(L, arg, "field 'status': %s is not a status BPF can set (%s)",
				      name ? lua_pushfstring(L, "'%s'", ctl_quote(L, name, len))
					   : luaL_typename(L, -1),
				      settable_list(L));
		bits |= bit;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return bits;
}

void ctl_check_opts(lua_State *L, int idx, int arg, bool raw_status, struct ctlua_opts *o)
{
	lua_Integer n;

	memset(o, 0, sizeof(*o));
	idx = lua_absindex(L, idx);
	if (ctl_field_int(L, idx, arg, "timeout", 0, 0xffffffff, &n)) {
		o->timeout_ms = (__u32)n;
		o->flags |= CTLUA_OPT_TIMEOUT;
	}
	if (ctl_field_int(L, idx, arg, "mark", 0, 0xffffffff, &n)) {
		o->mark = (__u32)n;
		o->flags |= CTLUA_OPT_MARK;
	}
	if (lua_getfield(L, idx, "status") != LUA_TNIL) {
		o->status = check_status(L, idx, arg, raw_status);
		o->flags |= CTLUA_OPT_STATUS;
	}
	lua_pop(L, 1);
}

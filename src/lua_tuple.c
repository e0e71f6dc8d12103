// SPDX-License-Identifier: GPL-2.0-or-later
/* lua_tuple.c - ct.tuple: a flow's five fields as an immutable Lua value. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include "addr.h"
#include "lua_ct.h"
#include "names.h"

/* What a tuple shows: its five fields and two derived ones (tuple_index). */
const char *const ctl_tuple_fields[] = { "src", "dst", "sport", "dport", "proto", "family",
					 "reply", NULL };

static int check_addr(lua_State *L, int idx, int arg, const char *field, __be32 addr[4])
{
	const char *text = ctl_field_str(L, idx, arg, field);
	int family;

	if (!text)
		return ctl_arg_error(L, arg, "field '%s': missing (an IPv4 or IPv6 address)", field);
	family = ctl_addr_parse(text, addr);
	if (!family)
		return ctl_arg_error(L, arg, "field '%s': '%s' is not an IPv4 or IPv6 address",
				     field, text);
	return family;
}

static __be16 check_port(lua_State *L, int idx, int arg, const char *field)
{
	lua_Integer port;

	if (!ctl_field_int(L, idx, arg, field, 0, 65535, &port))
		ctl_arg_error(L, arg, "field '%s': missing (a port, 0 to 65535)", field);
	return htons((uint16_t)port);
}

/* proto = "tcp" | "udp" | a protocol number (others reach the kernel for experiments). */
static __u8 check_proto(lua_State *L, int idx, int arg)
{
	int proto = ctl_field_proto(L, idx, arg, "proto");

	if (proto < 0)
		ctl_arg_error(L, arg, "field 'proto': missing (\"tcp\", \"udp\" or a number)");
	return (__u8)proto;
}

static void check_text_at(lua_State *L, int idx, int arg, lua_Integer item, struct ctlua_flow *f);
static int tuple_index(lua_State *L);

void ctl_check_flow_at(lua_State *L, int idx, int arg, struct ctlua_flow *f)
{
	struct ctlua_flow *ud = ctl_testobject(L, idx, CTL_TUPLE_MT, sizeof(*ud));
	int sfam, dfam;

	if (ud) {
		*f = *ud;
		return;
	}
	if (lua_type(L, idx) == LUA_TSTRING) {	/* what tostring(tuple) printed, pasted back */
		check_text_at(L, idx, arg, 0, f);
		return;
	}
	if (!lua_istable(L, idx))
		ctl_arg_error(L, arg, "tuple, table or string expected, got %s",
			      luaL_typename(L, idx));
	memset(f, 0, sizeof(*f));
	ctl_check_keys(L, idx, arg, ctl_keys_tuple);
	sfam = check_addr(L, idx, arg, "src", f->saddr);
	dfam = check_addr(L, idx, arg, "dst", f->daddr);
	if (sfam != dfam)
		ctl_arg_error(L, arg, "'src' and 'dst' are of different address families");
	f->family = (__u8)sfam;
	f->sport = check_port(L, idx, arg, "sport");
	f->dport = check_port(L, idx, arg, "dport");
	f->proto = check_proto(L, idx, arg);
}

/*
 * Tuples as text, the form tostring(tuple) prints. IPv4 is parsed by hand (inet_pton's
 * rules: four decimal octets up to 255, no leading zeros, nothing else), as building
 * tuples from strings is meant to be cheap; IPv6 goes through ctl_addr_parse.
 */
static bool ipv4_text(const char *s, const char *end, __be32 *out)
{
	uint32_t addr = 0;

	for (int octet = 0; octet < 4; octet++) {
		unsigned int v = 0, digits = 0;

		if (octet && (s >= end || *s++ != '.'))
			return false;
		while (s < end && *s >= '0' && *s <= '9') {
			if (digits++ && !v)
				return false;	/* a leading zero */
			v = v * 10 + (unsigned int)(*s++ - '0');
			if (v > 255)
				return false;
		}
		if (!digits)
			return false;
		addr = addr << 8 | v;
	}
	if (s != end)
		return false;
	*out = htonl(addr);
	return true;
}

/* Decimal 0..@max in [s, end), no sign, no leading zeros; -1 if it is not one. */
static long text_number(const char *s, const char *end, long max)
{
	long v = 0;

	if (s == end || end - s > 5 || (*s == '0' && end - s > 1))
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" in [s, end); returns the family, 0 if it is not one. */
static int endpoint_text(const char *s, const char *end, __be32 addr[4], __be16 *port)
{
	const char *colon, *a_end;
	char buf[CTL_ADDR_STRLEN];
	long n;
	int family = CTLUA_AF_INET;

	if (s < end && *s == '[') {
		a_end = memchr(s, ']', (size_t)(end - s));
		if (!a_end || a_end + 1 >= end || a_end[1] != ':' ||
		    (size_t)(a_end - s - 1) >= sizeof(buf))
			return 0;
		memcpy(buf, s + 1, (size_t)(a_end - s - 1));
		buf[a_end - s - 1] = '\0';
		if (ctl_addr_parse(buf, addr) != CTLUA_AF_INET6)
			return 0;
		family = CTLUA_AF_INET6;
		colon = a_end + 1;
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		memset(addr, 0, 16);
		if (!colon || !ipv4_text(s, colon, addr))
			return 0;
	}
	if ((n = text_number(colon + 1, end, 65535)) < 0)
		return 0;
	*port = htons((uint16_t)n);
	return family;
}

bool ctl_flow_parse_text(const char *text, size_t len, struct ctlua_flow *f)
{
	static const char arrow[] = " \xe2\x86\x92 ", ascii[] = " -> ";
	const char *end = text + len, *sp, *src_end, *dst;
	int proto, sfam, dfam;
	long n;

	memset(f, 0, sizeof(*f));
	if (!(sp = memchr(text, ' ', len)))
		return false;
	if (sp - text == 3 && !memcmp(text, "udp", 3))
		proto = IPPROTO_UDP;
	else if (sp - text == 3 && !memcmp(text, "tcp", 3))
		proto = IPPROTO_TCP;
	else if ((n = text_number(text, sp, 255)) >= 0)
		proto = (int)n;
	else
		return false;
	/* the arrow: the first " → " or " -> " after the source */
	for (src_end = sp + 1; src_end < end; src_end++) {
		if (*src_end != ' ')
			continue;
		if ((size_t)(end - src_end) > sizeof(arrow) - 1 &&
		    !memcmp(src_end, arrow, sizeof(arrow) - 1)) {
			dst = src_end + sizeof(arrow) - 1;
			break;
		}
		if ((size_t)(end - src_end) > sizeof(ascii) - 1 &&
		    !memcmp(src_end, ascii, sizeof(ascii) - 1)) {
			dst = src_end + sizeof(ascii) - 1;
			break;
		}
		return false;
	}
	if (src_end >= end)
		return false;
	sfam = endpoint_text(sp + 1, src_end, f->saddr, &f->sport);
	dfam = endpoint_text(dst, end, f->daddr, &f->dport);
	if (!sfam || sfam != dfam)
		return false;
	f->family = (__u8)sfam;
	f->proto = (__u8)proto;
	return true;
}

/* A string tuple at @idx, or a raised error naming it (as item @item of a list if > 0). */
static void check_text_at(lua_State *L, int idx, int arg, lua_Integer item, struct ctlua_flow *f)
{
	size_t len;
	const char *text = lua_tolstring(L, idx, &len), *shown;

	if (ctl_flow_parse_text(text, len, f))
		return;
	shown = ctl_quote(L, text, len);	/* NUL bytes shown as \0, long text cut */
	if (item > 0)
		ctl_arg_error(L, arg, "item %lld: '%s' is not a tuple like 'udp 198.18.0.2:40000 "
			      "-> 198.18.0.1:53'", (long long)item, shown);
	ctl_arg_error(L, arg, "'%s' is not a tuple like 'udp 198.18.0.2:40000 -> 198.18.0.1:53'",
		      shown);
}

/*
 * Batches (ct.alloc_many): the same checks, made cheap for the common case of a plain
 * table with the five fields. One lua_next walk reads every field (no lookups by key):
 * keys are told apart by the address of their interned text, and an address string
 * seen lately (same string object) is not parsed again; while the list holds every
 * item, no string can move. Anything unusual goes through ctl_check_flow_at, which
 * raises the right error.
 */
void ctl_flow_batch_begin(lua_State *L, struct ctl_flow_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->keys = lua_gettop(L) + 1;
	for (int i = 0; ctl_keys_tuple[i]; i++)
		b->key[i] = lua_pushstring(L, ctl_keys_tuple[i]);
}

void ctl_flow_batch_end(lua_State *L, struct ctl_flow_batch *b)
{
	lua_settop(L, b->keys - 1);
}

/* The address string on top, through the cache; its family, 0 if it is none. */
static int batch_addr(lua_State *L, struct ctl_flow_batch *b, __be32 addr[4])
{
	size_t len;
	const char *text = lua_tolstring(L, -1, &len);
	unsigned int slot = (unsigned int)((uintptr_t)text >> 4) & (CTL_FLOW_BATCH_CACHE - 1);

	if (b->addr_text[slot] != text) {
		/* "1.2.3.4\0/8" is no address: the slow path says so */
		int family = strlen(text) == len ? ctl_addr_parse(text, b->addr[slot]) : 0;

		if (!family)
			return 0;
		b->addr_text[slot] = text;
		b->addr_family[slot] = family;
	}
	memcpy(addr, b->addr[slot], 16);
	return b->addr_family[slot];
}

static bool batch_port(lua_State *L, __be16 *port)
{
	lua_Integer n;

	if (!lua_isinteger(L, -1) || (n = lua_tointeger(L, -1)) < 0 || n > 65535)
		return false;
	*port = htons((uint16_t)n);
	return true;
}

static int batch_proto(lua_State *L, struct ctl_flow_batch *b)
{
	if (lua_type(L, -1) == LUA_TSTRING) {
		size_t len;
		const char *name = lua_tolstring(L, -1, &len);

		if (name != b->proto_text) {
			b->proto = strlen(name) == len ? ctl_proto_parse(name) : -1;
			b->proto_text = b->proto < 0 ? NULL : name;
		}
		return b->proto;
	}
	if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= 255)
		return (int)lua_tointeger(L, -1);
	return -1;
}

/* One walk over the table at @idx; false (stack as it was) for anything unusual. */
static bool batch_fast(lua_State *L, struct ctl_flow_batch *b, int idx, struct ctlua_flow *f)
{
	int top = lua_gettop(L), sfam = 0, dfam = 0, proto = -1;
	unsigned int seen = 0;

	memset(f, 0, sizeof(*f));
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key;
		bool good = false;
		int k = -1;

		if (lua_type(L, -2) == LUA_TSTRING) {
			key = lua_tostring(L, -2);
			for (k = 0; k < 5 && key != b->key[k]; k++)
				;
		}
		switch (k) {
		case 0:
			good = lua_type(L, -1) == LUA_TSTRING && (sfam = batch_addr(L, b, f->saddr));
			break;
		case 1:
			good = lua_type(L, -1) == LUA_TSTRING && (dfam = batch_addr(L, b, f->daddr));
			break;
		case 2:
			good = batch_port(L, &f->sport);
			break;
		case 3:
			good = batch_port(L, &f->dport);
			break;
		case 4:
			good = (proto = batch_proto(L, b)) >= 0;
			break;
		}
		if (!good) {
			lua_settop(L, top);
			return false;
		}
		seen |= 1u << k;
		lua_pop(L, 1);
	}
	if (seen != 0x1f || sfam != dfam)
		return false;
	f->family = (__u8)sfam;
	f->proto = (__u8)proto;
	return true;
}

/* ctl_check_item's check: the flow at @idx into @ud, raising plain text on misuse. */
static void check_item_flow(lua_State *L, int idx, void *ud)
{
	ctl_check_flow_at(L, idx, 0, ud);
}

void ctl_flow_batch_read(lua_State *L, struct ctl_flow_batch *b, int idx, int arg,
			 lua_Integer item, struct ctlua_flow *f)
{
	struct ctlua_flow *ud;

	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TTABLE && batch_fast(L, b, idx, f))
		return;
	if ((ud = ctl_testobject(L, idx, CTL_TUPLE_MT, sizeof(*ud)))) {
		*f = *ud;
		return;
	}
	if (lua_type(L, idx) == LUA_TSTRING) {
		check_text_at(L, idx, arg, item, f);
		return;
	}
	ctl_check_item(L, idx, arg, item, check_item_flow, f);
}

void ctl_check_flow(lua_State *L, int arg, struct ctlua_flow *f)
{
	ctl_check_flow_at(L, arg, arg, f);
}

void ctl_push_tuple(lua_State *L, const struct ctlua_flow *f)
{
	struct ctlua_flow *ud = lua_newuserdatauv(L, sizeof(*ud), 0);

	*ud = *f;
	luaL_setmetatable(L, CTL_TUPLE_MT);
}

void ctl_flow_filter(lua_State *L, int arg)
{
	struct ctlua_flow f;
	int t;

	if (lua_type(L, arg) != LUA_TSTRING &&
	    !ctl_testobject(L, arg, CTL_TUPLE_MT, sizeof(struct ctlua_flow)))
		return;
	ctl_check_flow(L, arg, &f);
	ctl_push_tuple(L, &f);
	t = lua_gettop(L);
	lua_createtable(L, 0, 5);
	/* the fields as the tuple reads them, so they are what filters and events compare */
	for (int i = 0; ctl_keys_tuple[i]; i++) {
		lua_pushcfunction(L, tuple_index);
		lua_pushvalue(L, t);
		lua_pushstring(L, ctl_keys_tuple[i]);
		lua_call(L, 2, 1);
		lua_setfield(L, -2, ctl_keys_tuple[i]);
	}
	lua_replace(L, arg);
	lua_pop(L, 1);
}

/* ct.tuple{src=, dst=, sport=, dport=, proto=} | ct.tuple("udp A:P -> B:Q") -> tuple */
static int l_tuple(lua_State *L)
{
	struct ctl_flow_batch b;
	struct ctlua_flow f;

	if (lua_type(L, 1) == LUA_TSTRING) {
		check_text_at(L, 1, 1, 0, &f);
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		/* the batch reader's one walk is the cheap way; anything odd, the checks */
		lua_settop(L, 1);
		ctl_flow_batch_begin(L, &b);
		if (!batch_fast(L, &b, 1, &f))
			ctl_check_flow(L, 1, &f);
	}
	ctl_push_tuple(L, &f);
	return 1;
}

static int tuple_index(lua_State *L)
{
	const struct ctlua_flow *f = ctl_checkobject(L, 1, CTL_TUPLE_MT, sizeof(*f));
	size_t len;
	const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
	char buf[CTL_ADDR_STRLEN];

	if (!key || strlen(key) != len)	/* t[1], t["src\0x"]: no such field */
		lua_pushnil(L);
	else if (!strcmp(key, "src"))
		lua_pushstring(L, ctl_addr_format(f->family, f->saddr, buf));
	else if (!strcmp(key, "dst"))
		lua_pushstring(L, ctl_addr_format(f->family, f->daddr, buf));
	else if (!strcmp(key, "sport"))
		lua_pushinteger(L, ntohs(f->sport));
	else if (!strcmp(key, "dport"))
		lua_pushinteger(L, ntohs(f->dport));
	else if (!strcmp(key, "proto")) {
		const char *name = ctl_proto_name(f->proto);

		if (name)
			lua_pushstring(L, name);
		else
			lua_pushinteger(L, f->proto);
	} else if (!strcmp(key, "family"))
		lua_pushstring(L, f->family == CTLUA_AF_INET6 ? "ipv6" : "ipv4");
	else if (!strcmp(key, "reply")) {
		struct ctlua_flow r = *f;	/* the reply tuple alloc builds: a swap */

		memcpy(r.saddr, f->daddr, sizeof(r.saddr));
		memcpy(r.daddr, f->saddr, sizeof(r.daddr));
		r.sport = f->dport;
		r.dport = f->sport;
		ctl_push_tuple(L, &r);
	} else
		lua_pushnil(L);
	return 1;
}

static int tuple_tostring(lua_State *L)
{
	char buf[CTL_FLOW_STRLEN];

	lua_pushstring(L, ctl_flow_format(ctl_checkobject(L, 1, CTL_TUPLE_MT,
							  sizeof(struct ctlua_flow)), buf));
	return 1;
}

/* Equal tuples have the same five fields; a tuple is never equal to anything else. */
static int tuple_eq(lua_State *L)
{
	const struct ctlua_flow *a = ctl_testobject(L, 1, CTL_TUPLE_MT, sizeof(*a));
	const struct ctlua_flow *b = ctl_testobject(L, 2, CTL_TUPLE_MT, sizeof(*b));

	lua_pushboolean(L, a && b && !memcmp(a, b, sizeof(*a)));
	return 1;
}

static int tuple_newindex(lua_State *L)
{
	return luaL_error(L, "a tuple cannot be changed: build a new one with ct.tuple");
}

static const luaL_Reg tuple_meta[] = {
	{ "__index", tuple_index },
	{ "__newindex", tuple_newindex },
	{ "__tostring", tuple_tostring },
	{ "__eq", tuple_eq },
	{ NULL, NULL },
};

static const luaL_Reg tuple_funcs[] = {
	{ "tuple", l_tuple },
	{ NULL, NULL },
};

void ctl_open_tuple(lua_State *L)
{
	luaL_newmetatable(L, CTL_TUPLE_MT);
	luaL_setfuncs(L, tuple_meta, 0);
	lua_pop(L, 1);
	lua_pushvalue(L, -2);	/* the state, as upvalue */
	luaL_setfuncs(L, tuple_funcs, 1);
}

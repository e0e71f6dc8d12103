// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_set.c - named sets from Lua: ct.set(name [, kind]) makes or finds a set of the
 * state (sets.c keeps it), its methods add, del, has, count, list and flush, and
 * ct.sets() lists them. Rules name a set by its name (src_set, dst_set, sport_set,
 * dport_set: lua_policy.c, rules.c); a set's contents change live, without a rule
 * table swap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "lua_ct.h"
#include "sets.h"

const char *const ctl_set_kind_names[] = { "prefix", "port", NULL };
const char *const ctl_set_fields[] = { "name", "kind", "add", "del", "has", "count", "list",
				       "flush", NULL };

/* A set object: which set of its state (the state is every method's upvalue 1). */
struct lset {
	unsigned int id;
	enum ctl_set_kind kind;
};

/* One member as read: a prefix, or a port range; a list of prefixes is one to add at once. */
union member {
	struct ctl_set_prefix p;
	struct {
		__u16 lo, hi;
	};
};
_Static_assert(sizeof(union member) == sizeof(struct ctl_set_prefix),
	       "a list of members is a list of prefixes");

int ctl_sets_of(struct ctl_state *s, struct ctl_sets **out)
{
	int err;

	if (!s->sets && (err = ctl_sets_new(&s->sets, s->dry ? NULL : s->dp)))
		return err;
	*out = s->sets;
	return 0;
}

void ctl_sets_close(struct ctl_state *s)
{
	ctl_sets_free(s->sets);
	s->sets = NULL;
}

/*
 * The state's sets, made on first use: a state with a datapath loads it first (the
 * sets' maps are its), a dry one keeps them on the host. Returns 0, or pushes nil,
 * msg, errno and returns 3.
 */
static int sets_ready(lua_State *L, struct ctl_state *s, struct ctl_sets **out)
{
	int r, err;

	if (!s->dry && (r = ctl_ready(L, s)))
		return r;
	if ((err = ctl_sets_of(s, out)))
		return ctl_fail(L, err, "cannot keep the sets");
	return 0;
}

/* The set object at 1 and the state's sets; raises on a state that lost them. */
static struct lset *check_set(lua_State *L, struct ctl_sets **sets)
{
	struct lset *o = ctl_checkobject(L, 1, CTL_SET_MT, sizeof(*o));
	struct ctl_state *s = ctl_state(L);

	if (!s->sets || !ctl_set_name(s->sets, o->id))
		luaL_error(L, "attempt to use a set of another ct state");
	*sets = s->sets;
	return o;
}

/* The registry's table of the set objects made, by name: ct.set gives the same one again. */
static const char objects_key = 'S';

/* Push the object of set @id named @name, made on first use. */
static void push_set(lua_State *L, const char *name, unsigned int id, enum ctl_set_kind kind)
{
	struct lset *o;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &objects_key);
	if (lua_getfield(L, -1, name) != LUA_TNIL) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	o = lua_newuserdatauv(L, sizeof(*o), 0);
	o->id = id;
	o->kind = kind;
	luaL_setmetatable(L, CTL_SET_MT);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, name);
	lua_remove(L, -2);
}

/* ct.set(name [, "prefix"|"port"]) -> set | nil, msg, errno */
static int l_set(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	const char *name = ctl_check_cstring(L, 1);
	enum ctl_set_kind kind = (enum ctl_set_kind)ctl_check_option(L, 2, "prefix",
								     ctl_set_kind_names);
	enum ctl_set_kind had;
	struct ctl_sets *sets;
	size_t len = strlen(name);
	int r, id;

	if (!len || len > CTL_SET_NAME_MAX)
		ctl_arg_error(L, 1, "a set's name has 1 to %d characters, got %d",
			      CTL_SET_NAME_MAX, (int)len);
	if ((r = sets_ready(L, s, &sets)))
		return r;
	if (ctl_set_find(sets, name, &had) >= 0 && had != kind)
		ctl_arg_error(L, 2, "'%s' is a %s set, not a %s set", name, ctl_set_kind_names[had],
			      ctl_set_kind_names[kind]);
	id = ctl_set_get(sets, name, kind);
	if (id == -ENOSPC)
		return ctl_fail(L, id, "no room for set '%s': the datapath holds %d sets at most",
				name, CTLUA_SETS);
	if (id < 0)
		return ctl_fail(L, id, "cannot make set '%s'", name);
	push_set(L, name, (unsigned int)id, kind);
	return 1;
}

/*
 * Member @item (0: the argument itself) of a prefix set, the value at @idx, into @m.
 * Raises "bad argument #1 to 'add' (item N: 'TEXT': reason)" on misuse.
 */
static void read_prefix(lua_State *L, int idx, lua_Integer item, union member *m)
{
	const char *why = NULL, *text;
	__be32 mask[4];
	char at[32] = "";
	size_t len;
	int family;

	if (item)
		snprintf(at, sizeof(at), "item %lld: ", (long long)item);
	if (lua_type(L, idx) != LUA_TSTRING)
		ctl_arg_error(L, 2, "%sexpected a prefix (\"ADDR\" or \"ADDR/LEN\"), got %s", at,
			      luaL_typename(L, idx));
	text = lua_tolstring(L, idx, &len);
	family = strlen(text) == len ? ctl_prefix_parse(text, m->p.addr, mask, &why) : 0;
	if (!family)
		ctl_arg_error(L, 2, "%s'%s': %s", at, ctl_quote(L, text, len),
			      why ? why : "not a prefix");
	m->p.family = (__u8)family;
	m->p.plen = (__u8)ctl_rule_prefix_len(mask);
}

/* A port set's member, for ctl_check_item: a port or {lo, hi}, into the union member. */
static void read_port(lua_State *L, int idx, void *ud)
{
	union member *m = ud;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		m->lo = m->hi = (__u16)ctl_check_int_at(L, idx, 0, NULL, 0, 65535);
		return;
	}
	if (lua_type(L, idx) != LUA_TTABLE || lua_rawlen(L, idx) != 2 ||
	    lua_rawgeti(L, idx, 1) != LUA_TNUMBER || lua_rawgeti(L, idx, 2) != LUA_TNUMBER ||
	    !lua_isinteger(L, -2) || !lua_isinteger(L, -1) || lua_tointeger(L, -2) < 0 ||
	    lua_tointeger(L, -2) > lua_tointeger(L, -1) || lua_tointeger(L, -1) > 65535)
		luaL_error(L, "expected a port or {lo, hi} with 0 <= lo <= hi <= 65535, got %s",
			   lua_istable(L, idx) ? "another table" : luaL_typename(L, idx));
	m->lo = (__u16)lua_tointeger(L, -2);
	m->hi = (__u16)lua_tointeger(L, -1);
	lua_pop(L, 2);
}

/*
 * The members argument 2 gives (one member, or a list of them), read and checked
 * before the set changes, into a userdata pushed on the stack. Returns how many.
 */
static lua_Integer read_members(lua_State *L, const struct lset *o, union member **out)
{
	const char *what = o->kind == CTL_SET_PREFIX ? "prefix" : "port";
	bool one = lua_type(L, 2) != LUA_TTABLE;
	union member *m;
	lua_Integer n;

	if (lua_isnoneornil(L, 2))
		ctl_arg_error(L, 2, "expected a %s or a list of them, got %s", what,
			      luaL_typename(L, 2));
	n = one ? 1 : ctl_check_list(L, 2, 2, NULL, o->kind == CTL_SET_PREFIX ?
				     "a list of prefixes" : "a list of ports and {lo, hi} ranges");
	m = lua_newuserdatauv(L, (size_t)n * sizeof(*m) + 1, 0);
	memset(m, 0, (size_t)n * sizeof(*m));
	for (lua_Integer i = 0; i < n; i++) {
		int idx = 2;

		if (!one) {
			lua_rawgeti(L, 2, i + 1);
			idx = lua_gettop(L);
		}
		if (o->kind == CTL_SET_PREFIX)
			read_prefix(L, idx, one ? 0 : i + 1, &m[i]);
		else if (one)	/* a table is a list: one member is a port */
			m[i].lo = m[i].hi = (__u16)ctl_check_int_at(L, idx, 2, NULL, 0, 65535);
		else
			ctl_check_item(L, idx, 2, i + 1, read_port, &m[i]);
		if (!one)
			lua_pop(L, 1);
	}
	*out = m;
	return n;
}

/* nil, msg, errno for a change of set @o that failed with @err at member @i (from 0). */
static int fail(lua_State *L, struct ctl_sets *sets, const struct lset *o, int err, bool add,
		unsigned int i)
{
	return ctl_fail(L, err, "set '%s': cannot %s item %u%s", ctl_set_name(sets, o->id),
			add ? "add" : "remove", i + 1, err == -ENOSPC ?
			" (the set maps are full; the items before it are in)" :
			" (the items before it are done)");
}

/* set:add(member | {member, ...}) / set:del(...) -> set | nil, msg, errno */
static int change(lua_State *L, bool add)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	union member *m;
	lua_Integer n;
	int err = 0;

	lua_settop(L, 2);
	n = read_members(L, o, &m);
	if (add && o->kind == CTL_SET_PREFIX) {	/* all at once: the tries in batches */
		unsigned int done;

		err = ctl_set_add_prefixes(sets, o->id, &m[0].p, (unsigned int)n, &done);
		if (err)
			return fail(L, sets, o, err, add, done);
	}
	for (lua_Integer i = 0; i < n && !(add && o->kind == CTL_SET_PREFIX); i++) {
		if (o->kind == CTL_SET_PORT)
			err = add ? ctl_set_add_ports(sets, o->id, m[i].lo, m[i].hi)
				  : ctl_set_del_ports(sets, o->id, m[i].lo, m[i].hi);
		else
			err = ctl_set_del_prefix(sets, o->id, m[i].p.family, m[i].p.addr,
						 m[i].p.plen);
		if (err)
			return fail(L, sets, o, err, add, (unsigned int)i);
	}
	lua_settop(L, 1);
	return 1;
}

static int l_add(lua_State *L)
{
	return change(L, true);
}

static int l_del(lua_State *L)
{
	return change(L, false);
}

/* set:has(addr | port) -> true [, longest prefix holding it] | false */
static int l_has(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	char buf[CTL_ADDR_STRLEN];
	__be32 addr[4], mask[4];
	unsigned int plen;
	const char *text;
	int family;

	if (o->kind == CTL_SET_PORT) {
		if (lua_isnone(L, 2))
			luaL_checkinteger(L, 2);	/* "number expected, got no value" */
		lua_pushboolean(L, ctl_set_has_port(sets, o->id,
						    (__u16)ctl_check_int(L, 2, 0, 65535)));
		return 1;
	}
	text = ctl_check_cstring(L, 2);
	if (!(family = ctl_addr_parse(text, addr)))
		ctl_arg_error(L, 2, "'%s' is not an IPv4 or IPv6 address", text);
	if (!ctl_set_has_addr(sets, o->id, family, addr, &plen)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	/* the prefix itself: the address masked to its length */
	ctl_prefix_mask(plen, mask);
	for (unsigned int w = 0; w < 4; w++)
		addr[w] &= mask[w];
	lua_pushboolean(L, 1);
	lua_pushfstring(L, "%s/%d", ctl_addr_format(family, addr, buf), (int)plen);
	return 2;
}

/* set:count() -> the number of prefixes, or of ports */
static int l_count(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);

	lua_pushinteger(L, ctl_set_count(sets, o->id));
	return 1;
}

struct list_ctx {
	lua_State *L;
	lua_Integer n;
};

static void list_one(void *ctx, int family, const __be32 addr[4], unsigned int plen, __u16 lo,
		     __u16 hi)
{
	struct list_ctx *c = ctx;
	char buf[CTL_ADDR_STRLEN];

	if (family) {
		lua_pushfstring(c->L, "%s/%d", ctl_addr_format(family, addr, buf), (int)plen);
	} else if (lo == hi) {
		lua_pushinteger(c->L, lo);
	} else {
		lua_createtable(c->L, 2, 0);
		lua_pushinteger(c->L, lo);
		lua_rawseti(c->L, -2, 1);
		lua_pushinteger(c->L, hi);
		lua_rawseti(c->L, -2, 2);
	}
	lua_rawseti(c->L, -2, ++c->n);
}

/* set:list() -> {"198.18.0.0/24", ...} | {80, {8000, 8099}, ...}, in order */
static int l_list(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	struct list_ctx c = { .L = L };
	/* the sort's room in a userdata: a push that raises (the memory cap) leaks nothing */
	void *scratch = lua_newuserdatauv(L, ctl_set_each_scratch(sets, o->id), 0);

	lua_createtable(L, o->kind == CTL_SET_PREFIX ? (int)ctl_set_count(sets, o->id) : 0, 0);
	ctl_set_each(sets, o->id, scratch, list_one, &c);
	return 1;
}

/* set:flush() -> set | nil, msg, errno */
static int l_flush(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	int err = ctl_set_flush(sets, o->id);

	if (err)
		return ctl_fail(L, err, "cannot flush set '%s'", ctl_set_name(sets, o->id));
	lua_settop(L, 1);
	return 1;
}

/* set.name, set.kind, and the methods */
static int set_index(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	const char *key = luaL_checkstring(L, 2);

	if (!strcmp(key, "name"))
		lua_pushstring(L, ctl_set_name(sets, o->id));
	else if (!strcmp(key, "kind"))
		lua_pushstring(L, ctl_set_kind_names[o->kind]);
	else
		lua_rawget(L, lua_upvalueindex(2));	/* the methods, or nil */
	return 1;
}

/* tostring(set): "set blocklist (prefix, 3 members)" */
static int set_tostring(lua_State *L)
{
	struct ctl_sets *sets;
	struct lset *o = check_set(L, &sets);
	unsigned int n = ctl_set_count(sets, o->id);

	lua_pushfstring(L, "set %s (%s, %d %s)", ctl_set_name(sets, o->id),
			ctl_set_kind_names[o->kind],
			(int)n, o->kind == CTL_SET_PORT ? (n == 1 ? "port" : "ports")
							: (n == 1 ? "prefix" : "prefixes"));
	return 1;
}

/* ct.sets() -> {{name=, kind=, id=, count=}, ...} in the order they were made */
static int l_sets(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	int n = 0;

	lua_newtable(L);
	for (unsigned int id = 0; s->sets && id < CTLUA_SETS; id++) {
		enum ctl_set_kind kind;
		const char *name = ctl_set_name(s->sets, id);

		if (!name)
			continue;
		ctl_set_find(s->sets, name, &kind);
		lua_createtable(L, 0, 4);
		lua_pushstring(L, name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, ctl_set_kind_names[kind]);
		lua_setfield(L, -2, "kind");
		lua_pushinteger(L, id);
		lua_setfield(L, -2, "id");
		lua_pushinteger(L, ctl_set_count(s->sets, id));
		lua_setfield(L, -2, "count");
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

static const luaL_Reg set_methods[] = {
	{ "add", l_add },
	{ "del", l_del },
	{ "has", l_has },
	{ "count", l_count },
	{ "list", l_list },
	{ "flush", l_flush },
	{ NULL, NULL },
};

static const luaL_Reg set_funcs[] = {
	{ "set", l_set },
	{ "sets", l_sets },
	{ NULL, NULL },
};

void ctl_open_set(lua_State *L)
{
	/* stack: state, ct table */
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &objects_key);
	luaL_newmetatable(L, CTL_SET_MT);
	lua_pushvalue(L, -3);
	lua_pushcclosure(L, set_tostring, 1);
	lua_setfield(L, -2, "__tostring");
	lua_pushvalue(L, -3);			/* __index's upvalues: the state, the methods */
	luaL_newlibtable(L, set_methods);
	lua_pushvalue(L, -5);
	luaL_setfuncs(L, set_methods, 1);
	lua_pushcclosure(L, set_index, 2);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, set_funcs, 1);
}

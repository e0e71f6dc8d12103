// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_event.c - the event a callback gets: a small userdata holding the ring buffer's
 * raw record, whose fields are decoded when they are read.
 *
 * Building the event as a table of its 15 fields cost ~85 % of a trivial callback's
 * time (two inet_ntop, five strings, a tuple userdata per event), though most
 * callbacks read two or three fields. Here the event is one allocation and a 64-byte
 * copy; `ev.src` formats the address when it is asked for. Each event is its own
 * object, so one a callback keeps (in a table, a coroutine) keeps its own record: no
 * event ever reads another's data.
 *
 * Fields are those of ctl_event_record (fields.c), as for every other reader of events
 * (the printer, ct.watch, the docs). An event otherwise reads like the table it
 * replaced: other keys can be written to it and read back, pairs() walks its fields,
 * tostring() shows it as the shell does. What a table allowed and this does not:
 * rawget, next and # (documented in doc/api.md, "Event fields").
 */
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include "fields.h"
#include "lua_ct.h"
#include "pretty.h"

/*
 * Small, as the collector's work grows with the bytes allocated: no user value (keys
 * Lua writes live in a weak table) and no interface name (found when read).
 */
struct ctl_event_obj {
	__u64 magic;			/* EVENT_MAGIC: tells an event from other userdata */
	struct ctlua_event rec;		/* the ring buffer's record, copied */
	__s64 realtime_offset_ns;	/* for the time field */
	bool extras;			/* Lua wrote keys to it: see push_extras */
};

/*
 * Lua code cannot write a userdata's block, only C can: a magic word and the size
 * check an event in a few instructions (its __index runs for every field read), where
 * comparing metatables costs several API calls. Only getmetatable(ev).__index can hand
 * the metamethods another value at all.
 */
#define EVENT_MAGIC	0x746e657661756c63ULL	/* "cluaevnt" */

/* Registry key of the weak table event -> {keys Lua wrote} */
static const char extras_key;

/*
 * Push the table of keys Lua wrote to the event at @idx (made if @make, else nil when
 * there is none). Stack: [-0, +1].
 */
static void push_extras(lua_State *L, int idx, bool make)
{
	idx = lua_absindex(L, idx);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &extras_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_createtable(L, 0, 1);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &extras_key);
	}
	lua_pushvalue(L, idx);
	if (lua_rawget(L, -2) == LUA_TNIL && make) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, idx);
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
}

/* The event's interface name: an attached link's, else the system's (no state: closed). */
static const char *event_ifname(lua_State *L, const struct ctl_event_obj *o,
				char buf[IF_NAMESIZE])
{
	struct ctl_state *s = ctl_state_of(L);

	if (s)
		return ctl_ifname(s, (int)o->rec.ifindex, buf);
	if (!if_indextoname(o->rec.ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%u", o->rec.ifindex);
	return buf;
}

/* The event at argument 1 of a metamethod, or raise. */
static struct ctl_event_obj *check_event(lua_State *L)
{
	struct ctl_event_obj *o = lua_touserdata(L, 1);

	if (!o || lua_rawlen(L, 1) != sizeof(*o) || o->magic != EVENT_MAGIC)
		luaL_typeerror(L, 1, CTL_EVENT_MT);
	return o;
}

static const struct ctl_field *ifname_field;	/* needs the state to be read */

static void push_field(lua_State *L, const struct ctl_event_obj *o, const struct ctl_field *f)
{
	char ifbuf[IF_NAMESIZE];
	struct ctl_event_ctx ctx = { NULL, o->realtime_offset_ns };
	struct ctl_value v;

	if (f == ifname_field)
		ctx.ifname = event_ifname(L, o, ifbuf);
	if (ctl_field_get(f, &o->rec, &ctx, &v))
		ctl_push_value(L, f->type, &v);
	else
		lua_pushnil(L);
}

/*
 * __index(ev, key): a key written by Lua first, then the record's field. Upvalue 1 (of
 * every metamethod) maps each field name to its index in ctl_event_record, so finding
 * a field is one lookup of the interned key string.
 */
static int ev_index(lua_State *L)
{
	struct ctl_event_obj *o = check_event(L);
	lua_Integer i;

	if (o->extras) {
		push_extras(L, 1, false);
		if (lua_istable(L, -1)) {
			lua_pushvalue(L, 2);
			if (lua_rawget(L, -2) != LUA_TNIL)
				return 1;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pushvalue(L, 2);
	i = lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
	if (i <= 0 || (unsigned long)i > ctl_event_record.nfields) {
		lua_pushnil(L);
		return 1;
	}
	push_field(L, o, &ctl_event_record.fields[i - 1]);
	return 1;
}

/* __newindex(ev, key, value): kept beside the record, read first by __index. */
static int ev_newindex(lua_State *L)
{
	struct ctl_event_obj *o = check_event(L);

	push_extras(L, 1, true);
	o->extras = true;
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, -3);	/* a nil or NaN key raises as it would on a table */
	return 0;
}

/* Push the event as a table: its fields, then what Lua wrote to it. */
static void push_table(lua_State *L, int idx, const struct ctl_event_obj *o)
{
	char ifbuf[IF_NAMESIZE];
	struct ctl_event_ctx ctx = { event_ifname(L, o, ifbuf), o->realtime_offset_ns };

	idx = lua_absindex(L, idx);
	ctl_push_record(L, &ctl_event_record, &o->rec, &ctx, NULL);
	if (!o->extras)
		return;
	push_extras(L, idx, true);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -5);
	}
	lua_pop(L, 1);
}

/* The iterator __pairs returns: next, on the event's table (no global to look up). */
static int ev_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

/* __pairs(ev) -> next, t, nil: the fields as a table, walked as one */
static int ev_pairs(lua_State *L)
{
	const struct ctl_event_obj *o = check_event(L);

	lua_pushcfunction(L, ev_next);
	push_table(L, 1, o);
	lua_pushnil(L);
	return 3;
}

/* __tostring(ev): as the shell shows events (the printer's form of the table) */
static int ev_tostring(lua_State *L)
{
	const struct ctl_event_obj *o = check_event(L);

	push_table(L, 1, o);
	ctl_pretty(L, -1);
	return 1;
}

static const luaL_Reg event_meta[] = {
	{ "__index", ev_index },
	{ "__newindex", ev_newindex },
	{ "__pairs", ev_pairs },
	{ "__tostring", ev_tostring },
	{ NULL, NULL },
};

/* Push the events' metatable, made on first use. Stack: [-0, +1]. */
static void push_mt(lua_State *L, struct ctl_state *s)
{
	if (s->event_mt_ref > 0) {	/* an integer key: no hashing per event */
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->event_mt_ref);
		return;
	}
	ifname_field = ctl_record_field(&ctl_event_record, "ifname", 6);
	luaL_newmetatable(L, CTL_EVENT_MT);	/* __name, for luaL_typeerror */
	lua_createtable(L, 0, (int)ctl_event_record.nfields);	/* upvalue 1: name -> index */
	for (unsigned int i = 0; i < ctl_event_record.nfields; i++) {
		lua_pushinteger(L, (lua_Integer)i + 1);
		lua_setfield(L, -2, ctl_event_record.fields[i].name);
	}
	luaL_setfuncs(L, event_meta, 1);
	lua_pushvalue(L, -1);
	s->event_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

const struct ctlua_event *ctl_test_event(lua_State *L, int idx)
{
	const struct ctl_event_obj *o = lua_touserdata(L, idx);

	if (!o || lua_rawlen(L, idx) != sizeof(*o) || o->magic != EVENT_MAGIC)
		return NULL;
	return &o->rec;
}

void ctl_push_event(lua_State *L, struct ctl_state *s, const struct ctlua_event *e)
{
	struct ctl_event_obj *o = lua_newuserdatauv(L, sizeof(*o), 0);

	o->magic = EVENT_MAGIC;
	memcpy(&o->rec, e, sizeof(o->rec));
	o->realtime_offset_ns = s->dp ? ctl_dp_realtime_offset(s->dp) : 0;
	o->extras = false;
	push_mt(L, s);
	lua_setmetatable(L, -2);
}

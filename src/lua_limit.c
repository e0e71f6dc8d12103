// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_limit.c - rate limits from Lua: a rule's limit = {rate=, burst=, per=, over=,
 * name=} read and given a slot of the program's spec array, ct.limits() to list them
 * with their counts, ct.limit() to read or change one live. Slots are taken when a
 * rule is added and freed once no live policy uses them (ratelimit.c, ctl_limit_sweep).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "arg_keys.h"
#include "datapath.h"
#include "ratelimit.h"
#include "lua_ct.h"
#include "names.h"

/*
 * A limit's fields as ct.rule's limit (@whole: rate required, the rest defaulted) or
 * ct.limit's changes (rate, burst and over, each optional) take them. Read with arg 0,
 * so that misuse is plain text, which read() raises again under the caller's argument.
 */
struct limit_read {
	struct ctlua_limit *out;
	bool whole;
	bool set_rate, set_burst, set_over;
};

/* Raise "field '@field': expected @what, got X", X the value at -1 (a number's text). */
static int field_bad(lua_State *L, const char *field, const char *what)
{
	const char *got = lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL)
							 : luaL_typename(L, -1);

	return luaL_error(L, "field '%s': expected %s, got %s", field, what, got);
}

static int read_body(lua_State *L)
{
	static const char *const fixed[] = { "per", "name" };
	struct limit_read *rd = lua_touserdata(L, 1);
	struct ctlua_limit *l = rd->out;
	const char *s;
	char why[160];
	lua_Number x;

	for (int i = 0; !rd->whole && i < 2; i++)
		if (lua_getfield(L, 2, fixed[i]) != LUA_TNIL)
			luaL_error(L, "field '%s': a live limit keeps it (a new one comes with "
				   "a new rule)", fixed[i]);
	ctl_check_keys(L, 2, 0, rd->whole ? ctl_keys_limit : ctl_keys_limit_change);
	if (lua_getfield(L, 2, "rate") != LUA_TNIL || rd->whole) {
		if (lua_isnil(L, -1))
			luaL_error(L, "field 'rate': missing (new flows a second)");
		x = lua_tonumber(L, -1);
		if (lua_type(L, -1) != LUA_TNUMBER || !(x >= CTL_LIMIT_RATE_MIN) ||
		    x > CTL_LIMIT_RATE_MAX)
			field_bad(L, "rate", "a number of new flows a second from 0.001 to 1e9");
		l->rate_milli = (__u64)(x * 1000 + 0.5);
		rd->set_rate = true;
	}
	if (lua_getfield(L, 2, "burst") != LUA_TNIL) {
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
		    lua_tointeger(L, -1) > CTL_LIMIT_BURST_MAX)
			field_bad(L, "burst", "an integer number of flows from 1 to 1000000");
		l->burst = (__u32)lua_tointeger(L, -1);
		rd->set_burst = true;
	} else if (rd->whole) {		/* as limit.bucket's: max(1, rate) */
		__u64 r = l->rate_milli / 1000;

		l->burst = r < 1 ? 1 : r > CTL_LIMIT_BURST_MAX ? CTL_LIMIT_BURST_MAX : (__u32)r;
	}
	l->over = CTLUA_ACT_DROP;
	if ((s = ctl_field_str(L, 2, 0, "over"))) {
		int i = ctl_name_index(ctl_over_names, s);

		if (i < 0)
			luaL_error(L, "field 'over': '%s' is not \"drop\" or \"pass\"", s);
		l->over = ctl_over_actions[i];
		rd->set_over = true;
	}
	if (!rd->whole)
		return 0;
	s = ctl_field_str(L, 2, 0, "per");
	if (ctl_limit_parse_per(s ? s : "src", l, why, sizeof(why)))
		luaL_error(L, "field 'per': %s", why);
	if ((s = ctl_field_str(L, 2, 0, "name"))) {
		if (!*s || strlen(s) > CTL_LIMIT_NAME_MAX)
			luaL_error(L, "field 'name': expected 1 to %d characters, got %d",
				   (int)CTL_LIMIT_NAME_MAX, (int)strlen(s));
		memcpy(l->name, s, strlen(s));
	}
	ctl_field_int(L, 2, 0, "id", 1, CTLUA_MAX_LIMITS - 1, &(lua_Integer){ 0 });
	return 0;
}

/* Run read_body on the table at @idx; its misuse raised as argument @arg's, after @pre. */
static void read(lua_State *L, int idx, int arg, const char *pre, struct limit_read *rd)
{
	int status;

	idx = lua_absindex(L, idx);
	memset(rd->out, 0, sizeof(*rd->out));
	lua_pushcfunction(L, read_body);
	lua_pushlightuserdata(L, rd);
	lua_pushvalue(L, idx);
	status = lua_pcall(L, 2, 0, 0);
	if (status == LUA_OK)
		return;
	if (status != LUA_ERRRUN || lua_type(L, -1) != LUA_TSTRING)
		lua_error(L);
	ctl_arg_error(L, arg, "%s%s", pre, lua_tostring(L, -1));
}

void ctl_limit_check(lua_State *L, int idx, int arg, struct ctlua_limit *out)
{
	struct limit_read rd = { .out = out, .whole = true };

	if (!lua_istable(L, idx))
		ctl_arg_error(L, arg, "field 'limit': expected a table {rate=, burst=, per=, "
			      "over=, name=}, got %s", luaL_typename(L, idx));
	read(L, idx, arg, "field 'limit': ", &rd);
}

/* The tag of @s's slots, made on first use: slots taken by other states are not its own. */
static __u32 owner(struct ctl_state *s)
{
	static __u32 next;

	if (!s->limit_owner)
		s->limit_owner = ++next ? next : ++next;
	return s->limit_owner;
}

int ctl_limits_map(struct ctl_state *s, struct ctl_limit_map *m)
{
	if (s->dp)
		return ctl_limit_map_open(s->dp, m);
	if (!s->dry_limits)
		return -ENODEV;
	ctl_limit_map_dry(s->dry_limits, m);
	return 0;
}

/*
 * Map the spec array, or push nil, msg, errno and return 3. A dry state (ctlua check,
 * replay: no datapath) gets an array of its own on first use, kept by the registry.
 */
static int open_map(lua_State *L, struct ctl_state *s, struct ctl_limit_map *m)
{
	size_t size = CTLUA_MAX_LIMITS * sizeof(struct ctlua_limit);
	int err;

	if (!s->dp && s->dry && !s->dry_limits) {
		s->dry_limits = memset(lua_newuserdatauv(L, size, 0), 0, size);
		luaL_ref(L, LUA_REGISTRYINDEX);
	}
	err = ctl_limits_map(s, m);
	return err ? ctl_fail(L, err, "cannot map the rate limits") : 0;
}

int ctl_limit_attach(lua_State *L, struct ctl_state *s, struct ctlua_limit *spec, __u32 rule_id)
{
	struct ctl_limit_map m;
	int r, idx;

	if ((!s->dry && (r = ctl_ready(L, s))) || (r = open_map(L, s, &m)))
		return -r;
	spec->rule_id = rule_id;
	spec->owner = owner(s);
	idx = ctl_limit_take(&m, spec);
	ctl_limit_map_close(&m);
	if (idx == -ENOSPC)
		return -ctl_fail(L, ENOSPC, "no room for another rate limit (%d are in use)",
				 CTLUA_MAX_LIMITS - 1);
	if (idx < 0)
		return -ctl_fail(L, idx, "cannot store the rate limit");
	return idx;
}

void ctl_limit_detach(struct ctl_state *s, unsigned int idx)
{
	struct ctl_limit_map m;

	if (idx && !ctl_limits_map(s, &m)) {
		ctl_limit_free(&m, idx);
		ctl_limit_map_close(&m);
	}
}

/* Free the slots @s took that no live policy used; with @keep, not those it still names. */
static void free_pending(struct ctl_state *s, bool keep)
{
	bool used[CTLUA_MAX_LIMITS] = { false };
	struct ctl_limit_map m;

	if (!s->limit_owner || ctl_limits_map(s, &m))
		return;
	for (unsigned int i = 0; keep && i < s->rules.n; i++)
		ctl_limit_mark(used, &s->rules.e[i].rule.verdict);
	if (keep && s->staged)
		ctl_limit_mark(used, &s->stage_dflt);
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++) {
		const struct ctlua_limit *l = &m.slot[i];

		if ((l->flags & (CTLUA_LIMIT_USED | CTLUA_LIMIT_LIVE)) == CTLUA_LIMIT_USED &&
		    l->owner == s->limit_owner && !used[i])
			ctl_limit_free(&m, i);
	}
	ctl_limit_map_close(&m);
}

void ctl_limits_reap(struct ctl_state *s)
{
	free_pending(s, true);
}

void ctl_limits_abandon(struct ctl_state *s)
{
	free_pending(s, false);
}

int ctl_limit_over(struct ctl_state *s, unsigned int idx)
{
	struct ctl_limit_map m;
	int over = -1;

	if (!idx || ctl_limits_map(s, &m))
		return -1;
	if (m.slot[idx & (CTLUA_MAX_LIMITS - 1)].flags & CTLUA_LIMIT_USED)
		over = m.slot[idx & (CTLUA_MAX_LIMITS - 1)].over;
	ctl_limit_map_close(&m);
	return over;
}

/* Push slot @idx of @m as a table: what a rule's limit takes, and with @counts more. */
static void push_limit(lua_State *L, struct ctl_limit_map *m, unsigned int idx, bool counts)
{
	const struct ctlua_limit *l = &m->slot[idx];
	struct ctlua_limit_count c;
	char per[32];

	lua_createtable(L, 0, 10);
	lua_pushinteger(L, idx);
	lua_setfield(L, -2, "id");
	if (l->name[0]) {
		lua_pushstring(L, l->name);
		lua_setfield(L, -2, "name");
	}
	if (l->rate_milli % 1000)
		lua_pushnumber(L, (lua_Number)l->rate_milli / 1000);
	else
		lua_pushinteger(L, (lua_Integer)(l->rate_milli / 1000));
	lua_setfield(L, -2, "rate");
	lua_pushinteger(L, l->burst);
	lua_setfield(L, -2, "burst");
	lua_pushstring(L, ctl_limit_format_per(l, per, sizeof(per)));
	lua_setfield(L, -2, "per");
	lua_pushstring(L, ctl_action_names[l->over < CTLUA_ACT_NR ? l->over : 0]);
	lua_setfield(L, -2, "over");
	if (!counts)
		return;
	if (l->rule_id) {
		lua_pushinteger(L, l->rule_id);
		lua_setfield(L, -2, "rule");
	}
	lua_pushboolean(L, (l->flags & CTLUA_LIMIT_LIVE) != 0);
	lua_setfield(L, -2, "live");
	if (!ctl_limit_count(m, idx, &c)) {
		lua_pushinteger(L, (lua_Integer)c.admitted);
		lua_setfield(L, -2, "admitted");
		lua_pushinteger(L, (lua_Integer)c.over);
		lua_setfield(L, -2, "limited");
	}
}

void ctl_limit_push(lua_State *L, struct ctl_limit_map *m, unsigned int idx)
{
	if (!idx || !m->slot)
		return;
	push_limit(L, m, idx & (CTLUA_MAX_LIMITS - 1), false);
	lua_setfield(L, -2, "limit");
}

/* ct.limits() -> list of the limits in use, by id, with their counts | nil, msg, errno */
static int l_limits(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctl_limit_map m;
	int r, n = 0;

	if ((r = ctl_ready(L, s)) || (r = open_map(L, s, &m)))
		return r;
	lua_newtable(L);
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++)
		if (m.slot[i].flags & CTLUA_LIMIT_USED) {
			push_limit(L, &m, i, true);
			lua_rawseti(L, -2, ++n);
		}
	ctl_limit_map_close(&m);
	return 1;
}

/* Whether slot @i is what argument 1 of ct.limit names: its id, or its name. */
static bool named(lua_State *L, const struct ctlua_limit *l, unsigned int i)
{
	if (!(l->flags & CTLUA_LIMIT_USED))
		return false;
	if (lua_type(L, 1) == LUA_TNUMBER)
		return lua_tointeger(L, 1) == (lua_Integer)i;
	return !strcmp(l->name, lua_tostring(L, 1));
}

/*
 * ct.limit(id | name [, {rate=, burst=, over=}]) -> the limit (as ct.limits() lists it)
 * | nil, "ENOENT: ...", 2. A name changes every limit of that name; the first is
 * returned. The buckets keep their state: a rate change applies from the next flow.
 */
static int l_limit(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_limit want;
	struct limit_read rd = { .out = &want };
	bool change = !lua_isnoneornil(L, 2);
	struct ctl_limit_map m;
	int r, first = 0;

	if (lua_type(L, 1) == LUA_TNUMBER)
		ctl_check_int(L, 1, 1, CTLUA_MAX_LIMITS - 1);
	else if (lua_type(L, 1) == LUA_TSTRING)
		ctl_check_cstring(L, 1);
	else
		return ctl_arg_error(L, 1, "expected a limit's id or name, got %s",
				     luaL_typename(L, 1));
	if (change) {
		luaL_checktype(L, 2, LUA_TTABLE);
		read(L, 2, 2, "", &rd);
	}
	if ((r = ctl_ready(L, s)) || (r = open_map(L, s, &m)))
		return r;
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++) {
		struct ctlua_limit *l = &m.slot[i];

		if (!named(L, l, i))
			continue;
		if (!first)
			first = (int)i;
		if (!change)
			break;
		if (rd.set_over)
			l->over = want.over;
		if (rd.set_rate || rd.set_burst)
			ctl_limit_set_rate(l, rd.set_rate ? want.rate_milli : l->rate_milli,
					   rd.set_burst ? want.burst : l->burst);
	}
	if (first)
		push_limit(L, &m, (unsigned int)first, true);
	ctl_limit_map_close(&m);
	if (!first) {
		if (lua_type(L, 1) == LUA_TNUMBER)
			return ctl_fail(L, ENOENT, "no rate limit with id %d",
					(int)lua_tointeger(L, 1));
		return ctl_fail(L, ENOENT, "no rate limit named '%s'", lua_tostring(L, 1));
	}
	return 1;
}

static const luaL_Reg limit_funcs[] = {
	{ "limits", l_limits },
	{ "limit", l_limit },
	{ NULL, NULL },
};

void ctl_open_limit(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, limit_funcs, 1);
}

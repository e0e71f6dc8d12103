// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_conntrack.c - ct.entries, ct.delete, ct.flush: the Lua binding of the conntrack
 * table over ctnetlink (src/conntrack.c does the talking), in ctlua's network namespace
 * or in one named by `ip netns`. They need CAP_NET_ADMIN but not the BPF object: no
 * ctl_ready here.
 *
 * Arguments are checked before anything is opened, and every kernel conversation runs
 * in C with no Lua call in between, so nothing can raise while a socket is open or the
 * thread sits in another namespace; what Lua sees is built afterwards.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "conntrack.h"
#include "lua_ct.h"
#include "names.h"
#include "netns.h"

/* The dumped entries ct.entries iterates over (a userdata; see struct ct_box). */
#define CTL_ENTRIES_MT	"ct.entries"

/* The filter's fields: ctl_keys_filter; ct.delete's options: ctl_keys_delete. */

/* ---- the filter ------------------------------------------------------------------ */

/*
 * The table at @arg (none or nil: select everything) as a filter, raising on misuse
 * before anything is opened. @keys are the fields this function accepts; the others
 * are then absent, so reading all of them is harmless.
 */
static void check_filter(lua_State *L, int arg, const char *const keys[],
			 struct ctl_ct_filter *f)
{
	lua_Integer n;
	int sfam, dfam, type;

	ctl_ct_filter_init(f);
	if (lua_isnoneornil(L, arg))
		return;
	if (keys == ctl_keys_filter)	/* a tuple, or its text: that flow */
		ctl_flow_filter(L, arg);
	luaL_checktype(L, arg, LUA_TTABLE);
	ctl_check_keys(L, arg, arg, keys);

	sfam = ctl_field_prefix(L, arg, arg, "src", f->src, f->src_mask);
	dfam = ctl_field_prefix(L, arg, arg, "dst", f->dst, f->dst_mask);
	if (sfam && dfam && sfam != dfam)
		ctl_arg_error(L, arg, "'src' and 'dst' are of different address families");
	f->family = sfam ? sfam : dfam;
	type = ctl_field_option(L, arg, arg, "family", ctl_family_names, -1);
	if (type >= 0) {
		int want = type ? CTLUA_AF_INET6 : CTLUA_AF_INET;

		if (f->family && f->family != want)
			ctl_arg_error(L, arg, "field 'family' does not match the addresses");
		f->family = want;
	}

	/* Any protocol number: the table also holds ICMP and others, unlike the datapath. */
	f->proto = ctl_field_proto(L, arg, arg, "proto");
	if (ctl_field_int(L, arg, arg, "sport", 0, 65535, &n))
		f->sport = (int)n;
	if (ctl_field_int(L, arg, arg, "dport", 0, 65535, &n))
		f->dport = (int)n;
	if (ctl_field_int(L, arg, arg, "mark", 0, 0xffffffff, &n))
		f->mark = n;
	if (ctl_field_int(L, arg, arg, "zone", 0, 65535, &n))
		f->zone = (int)n;
	f->netns = ctl_field_netns(L, arg, arg, "netns");
}

/*
 * The entries a dump kept, for ct.entries to hand out one by one. The array comes from
 * the state's allocator (as lauxlib's buffers do), so a memory limit on the state
 * covers it; the userdata frees it on __gc and __close, so a loop left early or an
 * error raised later cannot leak it.
 */
struct ct_box {
	struct ctl_entry *v;
	size_t n, cap;
	size_t next;			/* the iterator's position */
	lua_Alloc alloc;
	void *alloc_ud;
};

/* Append @e; 0 or -ENOMEM. Called from the dump callback: no Lua call in here. */
static int box_push(void *arg, const struct ctl_entry *e)
{
	struct ct_box *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		void *v;

		if (cap > SIZE_MAX / sizeof(*b->v))
			return -ENOMEM;
		v = b->alloc(b->alloc_ud, b->v, b->cap * sizeof(*b->v), cap * sizeof(*b->v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *e;
	return 0;
}

static void box_free(struct ct_box *b)
{
	if (b->v)
		b->alloc(b->alloc_ud, b->v, b->cap * sizeof(*b->v), 0);
	b->v = NULL;
	b->n = b->cap = b->next = 0;
}

/* __gc and __close of the box: free the entries now. */
static int box_close(lua_State *L)
{
	box_free(ctl_checkobject(L, 1, CTL_ENTRIES_MT, sizeof(struct ct_box)));
	return 0;
}

/*
 * Push nil, message, errno for a failed walk or delete of @fname, which failed at @step
 * (for a walk: @w, whose arg is the box of ct.entries); returns 3.
 */
static int walk_fail(lua_State *L, const char *fname, const struct ctl_ct_filter *f,
		     enum ctl_ct_step step, const struct ctl_ct_walk *w, int err)
{
	const struct ct_box *box = w && w->keep ? w->arg : NULL;
	char where[300] = "";

	if (f->netns)
		snprintf(where, sizeof(where), " of namespace '%s'", f->netns);
	switch (step) {
	case CTL_CT_ENTER:
		if (err == -ENOENT)
			return ctl_fail(L, err, CTL_NETNS_MISSING, f->netns);
		if (err == -EPERM)
			return ctl_fail(L, err, "%s needs the capability CAP_SYS_ADMIN to enter "
					"network namespace '%s' (run it as root)", fname, f->netns);
		return ctl_fail(L, err, "cannot enter network namespace '%s' (%s)", f->netns,
				strerror(-err));
	case CTL_CT_OPEN:
		return ctl_fail(L, err, "cannot open a ctnetlink socket (%s)", strerror(-err));
	case CTL_CT_MEMORY:
		if (!box)
			return ctl_fail(L, err, "not enough memory to dump the conntrack table%s",
					where);
		return ctl_fail(L, err, "not enough memory for the conntrack table%s (%zu entries "
				"kept)", where, box->n);
	case CTL_CT_DUMP:
	case CTL_CT_DELETE:
		break;
	}
	/* nfnetlink checks the capability per message, so EPERM comes with the dump. */
	if (err == -EPERM)
		return ctl_fail(L, err, "%s needs the capability CAP_NET_ADMIN (run it as root)",
				fname);
	if (step == CTL_CT_DUMP)
		return ctl_fail(L, err, "cannot dump the conntrack table%s through ctnetlink (%s)",
				where, strerror(-err));
	return ctl_fail(L, err, "cannot delete an entry%s through ctnetlink after %lld were "
			"removed (%s)", where, w ? w->removed : 0LL, strerror(-err));
}

/* ---- the Lua functions ----------------------------------------------------------- */

/* The iterator ct.entries returns; upvalue 1 is the box. Frees the box at the end. */
static int entries_next(lua_State *L)
{
	struct ct_box *b = lua_touserdata(L, lua_upvalueindex(1));

	if (b->next >= b->n) {
		box_free(b);	/* the loop is over: no need to wait for the collector */
		lua_pushnil(L);
		return 1;
	}
	ctl_push_entry(L, &b->v[b->next++]);
	return 1;
}

/*
 * ct.entries([filter]) -> iterator, nil, nil, box | nil, msg, errno
 * The whole table is dumped, and the matches kept, before this returns: the loop
 * then reads a snapshot. The four values are those of io.lines in Lua 5.4: the last
 * one is the generic for's closing value, which frees the snapshot when a loop is
 * left early.
 */
static int l_entries(lua_State *L)
{
	struct ctl_ct_walk w = { 0 };
	struct ctl_ct_filter f;
	struct ct_box *b;
	int err;

	check_filter(L, 1, ctl_keys_filter, &f);
	b = lua_newuserdatauv(L, sizeof(*b), 0);
	memset(b, 0, sizeof(*b));
	b->alloc = lua_getallocf(L, &b->alloc_ud);
	luaL_setmetatable(L, CTL_ENTRIES_MT);
	w.filter = &f;
	w.keep = box_push;
	w.arg = b;
	if ((err = ctl_ct_walk(&w)))
		return walk_fail(L, "ct.entries", &f, w.step, &w, err);	/* the box is collected */
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, entries_next, 1);
	lua_pushnil(L);
	lua_pushnil(L);
	lua_rotate(L, -4, -1);	/* box, iter, nil, nil -> iter, nil, nil, box */
	return 4;
}

/*
 * ct.delete(tuple [, {zone=, netns=}]) -> true | nil, msg, errno
 * Deletes the entry the tuple names, in either direction as ctnetlink looks it up.
 */
static int l_delete(lua_State *L)
{
	enum ctl_ct_step step;
	struct ctlua_flow fl;
	struct ctl_ct_filter f;
	char buf[CTL_FLOW_STRLEN];
	int err;

	ctl_check_flow(L, 1, &fl);
	check_filter(L, 2, ctl_keys_delete, &f);
	err = ctl_ct_delete(f.netns, &fl, f.zone, &step);
	if (!err) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (step == CTL_CT_MEMORY)
		return ctl_fail(L, err, "cannot delete %s: out of memory",
				ctl_flow_format(&fl, buf));
	if (step == CTL_CT_DELETE && err == -ENOENT)
		return ctl_fail(L, err, "no conntrack entry for %s%s%s%s", ctl_flow_format(&fl, buf),
				f.netns ? " in namespace '" : "", f.netns ? f.netns : "",
				f.netns ? "'" : "");
	if (step == CTL_CT_DELETE && err != -EPERM)
		return ctl_fail(L, err, "cannot delete %s through ctnetlink (%s)",
				ctl_flow_format(&fl, buf), strerror(-err));
	return walk_fail(L, "ct.delete", &f, step, NULL, err);
}

/*
 * ct.flush([filter]) -> removed | nil, msg, errno
 * Deletes every entry the filter selects (all of them without one) and counts only
 * the deletions the kernel confirmed.
 */
static int l_flush(lua_State *L)
{
	struct ctl_ct_walk w = { 0 };
	struct ctl_ct_filter f;
	int err;

	check_filter(L, 1, ctl_keys_filter, &f);
	w.filter = &f;
	if ((err = ctl_ct_walk(&w)))
		return walk_fail(L, "ct.flush", &f, w.step, &w, err);
	lua_pushinteger(L, w.removed);
	return 1;
}

static const luaL_Reg entries_meta[] = {
	{ "__gc", box_close },
	{ "__close", box_close },
	{ NULL, NULL },
};

static const luaL_Reg conntrack_funcs[] = {
	{ "entries", l_entries },
	{ "delete", l_delete },
	{ "flush", l_flush },
	{ NULL, NULL },
};

void ctl_open_conntrack(lua_State *L)
{
	luaL_newmetatable(L, CTL_ENTRIES_MT);
	luaL_setfuncs(L, entries_meta, 0);
	lua_pop(L, 1);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, conntrack_funcs, 1);
}

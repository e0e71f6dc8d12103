// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_request.c - the kfunc-level fields of a direct request's opts table (netns, zone,
 * l4proto, dir, reserved, sizes, NAT), and the entry a request returns. These reach
 * the kernel as given, so that experiments see what it answers (KERNEL.md section 1).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "datapath.h"
#include "lua_ct.h"
#include "names.h"
#include "netns.h"
#include "probe.h"

static const char *const zone_dir_names[] = { "both", "original", "reply", NULL };

/*
 * What the kernel offers, as the datapath read it when it loaded (the request is about
 * to need it loaded anyway); NULL, with nil, msg, errno pushed, when it cannot load.
 */
static const struct ctl_features *features(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);

	return ctl_ready(L, s) ? NULL : ctl_dp_features(s->dp);
}

/* zone = id | {id=, dir="original"|"reply"|"both"|number} */
static void check_zone(lua_State *L, int idx, int arg, struct ctlua_kopts *k)
{
	const char *const *keys = ctl_keys_zone;
	lua_Integer n;
	int type = lua_getfield(L, idx, "zone");

	if (type == LUA_TNUMBER) {
		lua_pop(L, 1);
		ctl_field_int(L, idx, arg, "zone", 0, 65535, &n);
		k->zone_id = (__u16)n;
		return;
	}
	if (type != LUA_TTABLE)
		ctl_arg_error(L, arg, "field 'zone': a zone id or {id=, dir=} expected, got %s",
			      luaL_typename(L, -1));
	idx = lua_gettop(L);
	ctl_check_keys_in(L, idx, arg, "zone", keys);
	if (lua_getfield(L, idx, "id") == LUA_TNIL)
		ctl_arg_error(L, arg, "field 'zone.id': missing (0 to 65535)");
	k->zone_id = (__u16)ctl_check_int_at(L, -1, arg, "zone.id", 0, 65535);
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "dir") == LUA_TNUMBER) {
		/* raw, for experiments */
		k->zone_dir = (__u8)ctl_check_int_at(L, -1, arg, "zone.dir", 0, 255);
	} else if (!lua_isnil(L, -1)) {
		/* the kernel's bits: 1 original, 2 reply; 0 means both */
		const char *name = ctl_check_str_at(L, -1, arg, "zone.dir");
		int i = ctl_name_index(zone_dir_names, name);

		if (i < 0)
			ctl_arg_error(L, arg, "field 'zone.dir': invalid option '%s'", name);
		k->zone_dir = (__u8)i;
	}
	lua_pop(L, 2);
}

/* snat = / dnat = {addr=, port=}: the address must be of the tuple's family. */
static bool check_nat(lua_State *L, int idx, int arg, const char *field, int family,
		      struct ctlua_nat *nat)
{
	const char *const *keys = ctl_keys_nat;
	char label[16];
	const char *text;
	lua_Integer port = 0;
	int type = lua_getfield(L, idx, field);

	if (type == LUA_TNIL) {
		lua_pop(L, 1);
		return false;
	}
	if (type != LUA_TTABLE)
		ctl_arg_error(L, arg, "field '%s': {addr=, port=} expected, got %s", field,
			      luaL_typename(L, -1));
	idx = lua_gettop(L);
	/* snat and dnat take the same fields: every message says which one it is about */
	ctl_check_keys_in(L, idx, arg, field, keys);
	snprintf(label, sizeof(label), "%s.addr", field);
	if (lua_getfield(L, idx, "addr") == LUA_TNIL)
		ctl_arg_error(L, arg, "field '%s': missing (an %s address like the tuple's)", label,
			      family == CTLUA_AF_INET6 ? "IPv6" : "IPv4");
	text = ctl_check_str_at(L, -1, arg, label);
	if (ctl_addr_parse(text, nat->addr) != family)
		ctl_arg_error(L, arg, "field '%s': '%s' is not an %s address like the tuple's",
			      field, text, family == CTLUA_AF_INET6 ? "IPv6" : "IPv4");
	lua_pop(L, 1);
	snprintf(label, sizeof(label), "%s.port", field);
	if (lua_getfield(L, idx, "port") != LUA_TNIL)
		port = ctl_check_int_at(L, -1, arg, label, 0, 65535);
	lua_pop(L, 1);
	nat->port = (__u16)port;
	nat->set = 1;
	lua_pop(L, 1);
	return true;
}

int ctl_check_req_params(lua_State *L, int idx, int arg, int family, struct ctlua_req_params *p)
{
	const struct ctl_features *feat;
	struct ctlua_kopts *k = &p->kopts;
	lua_Integer n;
	const char *netns = NULL;
	bool zoned, sized, nat;
	int type;

	ctl_req_params_default(p);
	idx = lua_absindex(L, idx);
	/* a name is resolved last: finding its id may assign one, a change to the kernel */
	type = lua_getfield(L, idx, "netns");
	lua_pop(L, 1);
	if (type == LUA_TSTRING)
		netns = ctl_field_netns(L, idx, arg, "netns");
	else if (ctl_field_int(L, idx, arg, "netns", INT32_MIN, INT32_MAX, &n))
		k->netns_id = (__s32)n;
	if ((n = ctl_field_proto(L, idx, arg, "l4proto")) >= 0) {
		k->l4proto = (__u8)n;
		p->flags |= CTLUA_PARAM_L4PROTO;
	}
	if (ctl_field_int(L, idx, arg, "dir", 0, 255, &n))
		k->dir = (__u8)n;	/* lookup writes it; the kernel ignores what we give */
	zoned = lua_getfield(L, idx, "zone") != LUA_TNIL;
	lua_pop(L, 1);
	if (zoned)
		check_zone(L, idx, arg, k);
	if ((sized = ctl_field_int(L, idx, arg, "opts_size", 0, CTLUA_KFUNC_BUF, &n)))
		p->opts_size = (__u32)n;
	else if (zoned)
		p->opts_size = 16;	/* where the zone fields are (6.11+, checked below) */
	if (ctl_field_int(L, idx, arg, "tuple_size", 0, CTLUA_KFUNC_BUF, &n)) {
		p->tuple_size = (__u32)n;
		p->flags |= CTLUA_PARAM_TUPLE_SIZE;
	}
	/* reserved: the first reserved byte of the layout the size selects */
	if (ctl_field_int(L, idx, arg, "reserved", 0, 255, &n)) {
		if (p->opts_size > 12)
			k->reserved[0] = (__u8)n;
		else
			k->zone_id = (__u16)n;	/* reserved[0..1] of the 12-byte struct */
	}
	nat = check_nat(L, idx, arg, "snat", family, &p->snat);
	nat |= check_nat(L, idx, arg, "dnat", family, &p->dnat);
	/* every field checked: now what the kernel offers (an experiment's size goes as given) */
	if ((zoned && !sized) || nat) {
		if (!(feat = features(L)))
			return 3;
		if (zoned && !sized && !feat->zones)
			return ctl_fail(L, EOPNOTSUPP, "conntrack zones in the kfuncs need kernel "
					"6.11 or later (struct bpf_ct_opts has no ct_zone_id here)");
		if (nat && !feat->nat)
			return ctl_fail(L, EOPNOTSUPP, "NAT needs bpf_ct_set_nat_info (kernel 6.1 "
					"or later with CONFIG_NF_NAT)");
	}
	if (netns) {
		int id = ctl_netns_nsid(netns);

		if (id < 0)
			return ctl_fail(L, id, id == -ENOENT ? CTL_NETNS_MISSING
					: "cannot find the id of network namespace '%s'", netns);
		k->netns_id = id;
	}
	return 0;
}

void ctl_request_entry(const struct ctlua_request *r, struct ctl_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->tuple = r->tuple;
	e->reply = r->reply;
	e->status = r->status;
	e->mark = r->mark;
	e->timeout_ms = r->timeout_ms;
	e->zone = r->zone_id;
}

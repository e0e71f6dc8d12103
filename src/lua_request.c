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
#include "rules.h"

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

/* The most addresses a verdict's NAT pool holds: 2^CTL_NAT_POOL_BITS (a /16, a /112). */
#define CTL_NAT_POOL_BITS	16

/*
 * A verdict's pool address "ADDR/LEN" at the top of the stack into @nat (addr,
 * addr_bits, family); @label names it in messages.
 */
static void check_nat_pool_addr(lua_State *L, int arg, const char *label, const char *text,
				struct ctlua_nat *nat)
{
	__be32 mask[4];
	const char *why = NULL;
	int bits;

	nat->family = (__u8)ctl_prefix_parse(text, nat->addr, mask, &why);
	if (!nat->family)
		ctl_arg_error(L, arg, "field '%s': '%s': %s", label, text, why);
	bits = (nat->family == CTLUA_AF_INET ? 32 : 128) - ctl_rule_prefix_len(mask);
	if (bits > CTL_NAT_POOL_BITS)
		ctl_arg_error(L, arg, "field '%s': '%s' is a pool of more than %u addresses "
			      "(at most /%d)", label, text, 1u << CTL_NAT_POOL_BITS,
			      (nat->family == CTLUA_AF_INET ? 32 : 128) - CTL_NAT_POOL_BITS);
	nat->addr_bits = (__u8)bits;
}

/*
 * A verdict's port (@label: "snat.port") at the top of the stack into @nat: one port (0:
 * the flow's own), or a range {lo, hi} of 1 to 65535, checked as a rule's dport is.
 */
static void check_nat_port(lua_State *L, int arg, const char *label, struct ctlua_nat *nat)
{
	struct ctl_port_spec p;
	char why[128];

	ctl_check_port_at(L, -1, arg, label, &p);
	if (p.items < 0)
		nat->port = (__u16)p.lo;
	else if (ctl_port_compile(label, &p, 1, &nat->port, &nat->port_hi, why, sizeof(why)))
		ctl_arg_error(L, arg, "%s", why);
}

/*
 * snat = / dnat = {addr=, port=}: the address must be of @family (@whose says whose
 * family that is: "the tuple's"); @family 0 takes either. With @pool (verdicts) addr
 * may be a prefix and port a range {lo, hi}: a pool, from which the program picks one
 * address and port per flow. Returns whether it was given; @nat->family is set to the
 * address's.
 */
static bool check_nat(lua_State *L, int idx, int arg, const char *field, int family,
		      const char *whose, bool pool, struct ctlua_nat *nat)
{
	const char *const *keys = ctl_keys_nat;
	char label[16];
	const char *text;
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
	if (lua_getfield(L, idx, "addr") == LUA_TNIL) {
		if (!family)
			ctl_arg_error(L, arg, "field '%s': missing (an IPv4 or IPv6 address)",
				      label);
		ctl_arg_error(L, arg, "field '%s': missing (an %s address like %s)", label,
			      family == CTLUA_AF_INET6 ? "IPv6" : "IPv4", whose);
	}
	text = ctl_check_str_at(L, -1, arg, label);
	if (pool && strchr(text, '/'))
		check_nat_pool_addr(L, arg, label, text, nat);
	else
		nat->family = (__u8)ctl_addr_parse(text, nat->addr);
	if (!nat->family)
		ctl_arg_error(L, arg, "field '%s': '%s' is not an IPv4 or IPv6 address", label,
			      text);
	if (family && nat->family != family)
		ctl_arg_error(L, arg, "field '%s': '%s' is not an %s address like %s",
			      field, text, family == CTLUA_AF_INET6 ? "IPv6" : "IPv4", whose);
	lua_pop(L, 1);
	snprintf(label, sizeof(label), "%s.port", field);
	if (lua_getfield(L, idx, "port") != LUA_TNIL && pool)
		check_nat_port(L, arg, label, nat);
	else if (!lua_isnil(L, -1))
		nat->port = (__u16)ctl_check_int_at(L, -1, arg, label, 0, 65535);
	lua_pop(L, 1);
	nat->set = 1;
	lua_pop(L, 1);
	return true;
}

/* What the kernel (@f) lacks of a zone or NAT that is asked for, as an error; NULL: none. */
static const char *lacking(const struct ctl_features *f, bool zone, bool nat)
{
	if (zone && !f->zones)
		return "conntrack zones in the kfuncs need kernel 6.11 or later (struct "
		       "bpf_ct_opts has no ct_zone_id here)";
	if (nat && !f->nat)
		return "NAT needs bpf_ct_set_nat_info (kernel 6.1 or later with CONFIG_NF_NAT)";
	return NULL;
}

/* A verdict's zone, snat and dnat (ctl_check_verdict); returns the NAT addresses' family. */
static int check_verdict_xlat(lua_State *L, int idx, int arg, int family, const char *whose,
			      struct ctlua_verdict *v)
{
	struct ctlua_kopts k = {};
	bool nat;

	idx = lua_absindex(L, idx);
	memset(&v->snat, 0, sizeof(v->snat));
	memset(&v->dnat, 0, sizeof(v->dnat));
	v->opts.flags &= (__u8)~(CTLUA_OPT_ZONE | CTLUA_OPT_NAT);
	v->opts.zone_id = 0;
	v->opts.zone_dir = 0;
	if (lua_getfield(L, idx, "zone") != LUA_TNIL) {
		check_zone(L, idx, arg, &k);
		v->opts.zone_id = k.zone_id;
		v->opts.zone_dir = k.zone_dir;
		v->opts.flags |= CTLUA_OPT_ZONE;
	}
	lua_pop(L, 1);
	nat = check_nat(L, idx, arg, "snat", family, whose, true, &v->snat);
	/* with no family of its own, a verdict's two mappings must still agree */
	if (nat && !family)
		family = v->snat.family, whose = "snat's";
	nat |= check_nat(L, idx, arg, "dnat", family, whose, true, &v->dnat);
	if (!nat)
		return 0;
	v->opts.flags |= CTLUA_OPT_NAT;
	return v->snat.set ? v->snat.family : v->dnat.family;
}

int ctl_check_verdict(lua_State *L, int idx, int arg, int family, const char *whose,
		      struct ctlua_verdict *v, struct ctlua_limit *lim)
{
	idx = lua_absindex(L, idx);
	ctl_check_opts(L, idx, arg, false, &v->opts);
	family = check_verdict_xlat(L, idx, arg, family, whose, v);
	if (lim) {
		lim->rate_milli = 0;	/* none; the slot is the caller's to take */
		if (lua_getfield(L, idx, "limit") != LUA_TNIL)
			ctl_limit_check(L, -1, arg, lim);
		lua_pop(L, 1);
	}
	return family;
}

const struct ctl_features *ctl_state_features(struct ctl_state *s)
{
	static struct ctl_features probed;
	static bool have_probed;

	if (s->dp)
		return ctl_dp_features(s->dp);	/* as the loaded program sees it */
	/* BTF is world-readable: no root needed; the kernel does not change under us */
	if (!have_probed && !ctl_probe_features(&probed))
		have_probed = true;
	return have_probed ? &probed : NULL;
}

int ctl_check_verdict_support(lua_State *L, struct ctl_state *s, const struct ctlua_verdict *v)
{
	static const struct ctl_features none;	/* BTF unreadable: nothing is offered */
	const struct ctl_features *f;
	const char *why;

	if (!(v->opts.flags & (CTLUA_OPT_ZONE | CTLUA_OPT_NAT)))
		return 0;
	if (!(f = ctl_state_features(s)))
		f = &none;
	why = lacking(f, v->opts.flags & CTLUA_OPT_ZONE, v->opts.flags & CTLUA_OPT_NAT);
	return why ? ctl_fail(L, EOPNOTSUPP, "%s", why) : 0;
}

void ctl_push_verdict_xlat(lua_State *L, const struct ctlua_verdict *v)
{
	const struct ctlua_nat *n[2] = { &v->snat, &v->dnat };
	static const char *const names[2] = { "snat", "dnat" };
	char buf[CTL_ADDR_STRLEN];

	if (v->opts.flags & CTLUA_OPT_ZONE) {
		if (!v->opts.zone_dir) {
			lua_pushinteger(L, v->opts.zone_id);
		} else {
			lua_createtable(L, 0, 2);
			lua_pushinteger(L, v->opts.zone_id);
			lua_setfield(L, -2, "id");
			if (v->opts.zone_dir < 3)
				lua_pushstring(L, zone_dir_names[v->opts.zone_dir]);
			else
				lua_pushinteger(L, v->opts.zone_dir);
			lua_setfield(L, -2, "dir");
		}
		lua_setfield(L, -2, "zone");
	}
	if (!(v->opts.flags & CTLUA_OPT_NAT))
		return;
	for (int i = 0; i < 2; i++) {
		if (!n[i]->set)
			continue;
		lua_createtable(L, 0, 2);
		ctl_addr_format(n[i]->family, n[i]->addr, buf);
		if (n[i]->addr_bits)
			lua_pushfstring(L, "%s/%d", buf, (n[i]->family == CTLUA_AF_INET ? 32 : 128) -
					n[i]->addr_bits);
		else
			lua_pushstring(L, buf);
		lua_setfield(L, -2, "addr");
		if (n[i]->port_hi > n[i]->port) {
			lua_createtable(L, 2, 0);
			lua_pushinteger(L, n[i]->port);
			lua_rawseti(L, -2, 1);
			lua_pushinteger(L, n[i]->port_hi);
			lua_rawseti(L, -2, 2);
			lua_setfield(L, -2, "port");
		} else if (n[i]->port) {
			lua_pushinteger(L, n[i]->port);
			lua_setfield(L, -2, "port");
		}
		lua_setfield(L, -2, names[i]);
	}
}

void ctl_verdict_req_params(const struct ctlua_verdict *v, struct ctlua_req_params *p)
{
	ctl_req_params_default(p);
	if (v->opts.flags & CTLUA_OPT_ZONE) {
		p->kopts.zone_id = v->opts.zone_id;
		p->kopts.zone_dir = v->opts.zone_dir;
		p->opts_size = sizeof(p->kopts);
	}
	if (v->opts.flags & CTLUA_OPT_NAT) {
		p->snat = v->snat;
		p->dnat = v->dnat;
	}
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
	nat = check_nat(L, idx, arg, "snat", family, "the tuple's", false, &p->snat);
	nat |= check_nat(L, idx, arg, "dnat", family, "the tuple's", false, &p->dnat);
	/* the kernel checks nothing: its address is taken in the entry's family */
	p->snat.family = p->dnat.family = 0;
	/* every field checked: now what the kernel offers (an experiment's size goes as given) */
	if ((zoned && !sized) || nat) {
		const char *why;

		if (!(feat = features(L)))
			return 3;
		if ((why = lacking(feat, zoned && !sized, nat)))
			return ctl_fail(L, EOPNOTSUPP, "%s", why);
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

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_policy.c - what the TC program decides on a miss: ct.mode, ct.default, ct.events,
 * the rule table (ct.rule, ct.unrule, ct.rules; compiled by rules.c), all of them at
 * once (ct.policy), and per-flow verdicts (ct.verdict, ct.forget, sized by ct.config).
 * Each writes its map at once; the program sees it on the next packet. The policy
 * changes through ctl_dp_put_policy, which no packet sees half done. In a staged
 * policy (ctlua run, lua_stage.c) mode, default, rules and events are recorded
 * instead, and go live together.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "addr.h"
#include "datapath.h"
#include "log.h"
#include "lua_ct.h"
#include "ratelimit.h"
#include "names.h"
#include "pin.h"
#include "sets.h"
#include "verdict_buf.h"

/* The longest verdict_idle ct.config takes: a day, in ms. */
#define CTL_VERDICT_IDLE_MAX_MS	86400000

/* ct.mode(["off"|"observe"|"enforce"]) -> the mode now in force | nil, msg, errno */
static int l_mode(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctl_dp_policy p;
	int r, err;

	if (s->staged) {	/* ctlua run: made live with the whole policy (lua_stage.c) */
		if (!lua_isnoneornil(L, 1))
			s->stage_mode = (__u8)ctl_check_option(L, 1, NULL, ctl_mode_names);
		lua_pushstring(L, ctl_mode_names[s->stage_mode]);
		return 1;
	}
	if (!lua_isnoneornil(L, 1)) {
		int mode = ctl_check_option(L, 1, NULL, ctl_mode_names);

		if ((r = ctl_ready(L, s)))
			return r;
		ctl_dp_policy(s->dp, &p);
		p.mode = (__u8)mode;
		if ((err = ctl_dp_put_policy(s->dp, &p)))
			return ctl_fail(L, err, "cannot write the policy");
	} else if ((r = ctl_ready(L, s))) {
		return r;
	}
	ctl_dp_policy(s->dp, &p);
	lua_pushstring(L, ctl_mode_names[p.mode]);
	return 1;
}

/* What a verdict's opts table gave (@from: opts, zone, NAT) into @to, its action kept. */
static void set_verdict_opts(struct ctlua_verdict *to, const struct ctlua_verdict *from)
{
	to->opts = from->opts;
	to->snat = from->snat;
	to->dnat = from->dnat;
	to->limit = from->limit;
}

/*
 * ct.default([action [, opts]]) -> action, opts now in force | nil, msg, errno
 * ct.default(nil, opts) keeps the action and replaces its opts.
 */
static int l_default(lua_State *L)
{
	const char *const *keys = ctl_keys_default;
	struct ctl_state *s = ctl_state(L);
	bool set_action = !lua_isnoneornil(L, 1), set_opts = !lua_isnoneornil(L, 2);
	const struct ctlua_verdict *v;
	struct ctl_dp_policy p;
	struct ctlua_verdict o = {};	/* its opts, zone, NAT and limit */
	struct ctlua_limit lim = {};
	struct ctl_limit_map m;
	int action = 0, r, err, slot = 0;

	if (set_action)
		action = ctl_check_option(L, 1, NULL, ctl_action_names);
	if (set_opts) {
		luaL_checktype(L, 2, LUA_TTABLE);
		ctl_check_keys(L, 2, 2, keys);
		/* the default serves both families: a flow of the other one gets EAFNOSUPPORT */
		ctl_check_verdict(L, 2, 2, 0, NULL, &o, &lim);
		if ((r = ctl_check_verdict_support(L, s, &o)))
			return r;
	}
	if (set_action || set_opts)	/* as ct.rule and ct.policy: before taking more */
		ctl_limits_reap(s);
	if (lim.rate_milli && (slot = ctl_limit_attach(L, s, &lim, 0)) < 0)
		return -slot;
	o.limit = (__u16)slot;
	if (s->staged) {	/* ctlua run: made live with the whole policy */
		if (set_action) {
			memset(&s->stage_dflt, 0, sizeof(s->stage_dflt));
			s->stage_dflt.action = (__u8)action;
		}
		if (set_action || set_opts) {
			set_verdict_opts(&s->stage_dflt, &o);
			ctl_limits_reap(s);	/* the slot of the default it replaced */
		}
		v = &s->stage_dflt;
		goto out;
	}
	if ((r = ctl_ready(L, s)))
		return r;
	ctl_dp_policy(s->dp, &p);
	if (set_action || set_opts) {
		if (set_action) {
			memset(&p.dflt, 0, sizeof(p.dflt));
			p.dflt.action = (__u8)action;
		}
		set_verdict_opts(&p.dflt, &o);	/* a new action without opts has none */
		if ((err = ctl_dp_put_policy(s->dp, &p))) {
			ctl_limit_detach(s, (unsigned int)slot);
			return ctl_fail(L, err, "cannot write the policy");
		}
		ctl_limits_reap(s);
	}
	v = &p.dflt;
out:
	lua_pushstring(L, ctl_action_names[v->action]);
	lua_newtable(L);
	ctl_push_opts_fields(L, &v->opts);
	ctl_push_verdict_xlat(L, v);
	if (v->limit && !ctl_limits_map(s, &m)) {
		ctl_limit_push(L, &m, v->limit);
		ctl_limit_map_close(&m);
	}
	return 2;
}

/*
 * ct.events([{kind, ...}]) -> list of the event kinds allowed | nil, msg, errno
 * All are allowed at first. The program emits an allowed kind only while something
 * listens to it (ctl_events_sync_mask). The argument is a list: a table with other
 * keys ({miss=true}) is refused, since it would read as the empty list and turn every
 * kind off.
 */
static int l_events(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	__u8 mask = 0;
	int r, err, n = 0;

	if (!lua_isnoneornil(L, 1)) {
		lua_Integer len;

		luaL_checktype(L, 1, LUA_TTABLE);
		len = ctl_check_list(L, 1, 1, NULL, "a list of event kinds");
		for (lua_Integer i = 1; i <= len; i++) {
			size_t sz;
			const char *name;
			int k = -1;

			lua_rawgeti(L, 1, i);
			name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &sz) : NULL;
			if (name && strlen(name) == sz)
				k = ctl_name_index(ctl_event_names, name);
			if (k < 0)
				ctl_arg_error(L, 1, "item %d: '%s' is not an event kind "
					      "(miss, alloc, alloc_error, drop)", (int)i,
					      name ? ctl_quote(L, name, sz) : luaL_tolstring(L, -1, NULL));
			mask |= 1u << k;
			lua_pop(L, 1);
		}
	}
	if (!s->staged && (r = ctl_ready(L, s)))	/* staged: the commit loads it */
		return r;
	if (!lua_isnoneornil(L, 1)) {
		s->events_off = (__u8)(((1u << CTLUA_EV_NR) - 1) & ~mask);
		if ((err = ctl_events_sync_mask(L, s)))
			return ctl_fail(L, err, "cannot write the config map");
	}
	lua_newtable(L);
	for (int k = 0; k < CTLUA_EV_NR; k++)
		if (!(s->events_off & (1u << k))) {
			lua_pushstring(L, ctl_event_names[k]);
			lua_rawseti(L, -2, ++n);
		}
	return 1;
}

/*
 * Make the live policy @p (NULL: the one in force) with the rules of @t. Returns 0 or
 * -errno.
 */
static int write_rules(struct ctl_state *s, const struct ctl_rules *t,
		       const struct ctl_dp_policy *p)
{
	struct ctlua_rule *flat;
	struct ctl_dp_policy np;
	int err;

	if (ctl_rules_set_refs(t) > CTLUA_SET_REFS)	/* refused before it is staged too */
		return -E2BIG;
	if (s->staged)		/* ctlua run: written with the whole policy (lua_stage.c) */
		return 0;
	flat = malloc(t->n * sizeof(*flat) + 1);
	if (!flat)
		return -ENOMEM;
	if (p)
		np = *p;
	else
		ctl_dp_policy(s->dp, &np);
	np.rules = flat;
	np.nrules = ctl_rules_flatten(t, flat);
	err = ctl_dp_put_policy(s->dp, &np);
	free(flat);
	if (!err)
		ctl_limits_reap(s);
	return err;
}

/*
 * nil, "ENAME: @what", errno for a rule table that could not be written; a table whose
 * classifier does not fit (ENOSPC) says so. Returns 3.
 */
static int rules_fail(lua_State *L, int err, const char *what)
{
	if (err == -ENOSPC)
		return ctl_fail(L, err, "%s: the rules' classifier does not fit its %u words "
				"(doc/performance.md, \"Rules at scale\")", what, CTLUA_RULE_POOL);
	if (err == -E2BIG)
		return ctl_fail(L, err, "%s: its rules name more than %d sets (each set in "
				"each of src_set, dst_set, sport_set, dport_set counts once)",
				what, CTLUA_SET_REFS);
	return ctl_fail(L, err, "%s", what);
}

/* The fields ct.rule takes, and each rule of ct.policy's list: ctl_keys_rule. */

/*
 * The rule table at @idx into @r (id 0) and @priority. Misuse raises "bad argument #@arg"
 * (plain text with @arg 0). Each field's type is checked as it is read; rules.c checks
 * what they mean together.
 */
static void read_rule(lua_State *L, struct ctl_state *s, int idx, int arg, struct ctlua_rule *r,
		      lua_Integer *priority, struct ctlua_limit *lim)
{
	struct ctl_rule_spec spec = {};
	char why[200];
	int family;

	idx = lua_absindex(L, idx);
	ctl_check_keys(L, idx, arg, ctl_keys_rule);
	spec.proto = ctl_field_str(L, idx, arg, "proto");
	spec.src = ctl_field_str(L, idx, arg, "src");
	spec.dst = ctl_field_str(L, idx, arg, "dst");
	for (int f = 0; f < CTLUA_SET_FIELDS; f++)
		spec.set[f] = ctl_field_str(L, idx, arg, ctl_set_field_names[f]);
	spec.sets = s->sets;
	if (lua_getfield(L, idx, "family") != LUA_TNIL)
		spec.family = ctl_field_option(L, idx, arg, "family", ctl_family_names, 0)
			      ? CTLUA_AF_INET6 : CTLUA_AF_INET;
	lua_pop(L, 1);
	lua_getfield(L, idx, "dport");
	ctl_check_port_at(L, -1, arg, "dport", &spec.dport);
	lua_getfield(L, idx, "sport");
	ctl_check_port_at(L, -1, arg, "sport", &spec.sport);
	lua_pop(L, 2);
	if (lua_getfield(L, idx, "action") == LUA_TNIL)
		ctl_arg_error(L, arg, "field 'action': missing (\"pass\", \"alloc\" or \"drop\")");
	lua_pop(L, 1);
	spec.verdict.action = (__u8)ctl_field_option(L, idx, arg, "action", ctl_action_names, 0);
	*priority = 0;
	ctl_field_int(L, idx, arg, "priority", CTL_RULE_PRIORITY_MIN, CTL_RULE_PRIORITY_MAX,
		      priority);
	/* a rule as ct.rules() lists it pastes back: its id and counts are ignored */
	ctl_field_int(L, idx, arg, "id", 1, UINT32_MAX, &(lua_Integer){ 0 });
	if (lua_getfield(L, idx, "counts") != LUA_TNIL && !lua_istable(L, -1))
		ctl_arg_error(L, arg, "field 'counts': expected a table (ct.rules() shows one), got %s",
			      luaL_typename(L, -1));
	lua_pop(L, 1);
	if (ctl_rule_compile(&spec, r, why, sizeof(why)))
		ctl_arg_error(L, arg, "%s", why);
	/*
	 * a rule that translates matches only its addresses' family; the limit's slot is
	 * taken once the rule is sure to be added
	 */
	family = ctl_check_verdict(L, idx, arg, r->family, "the rule's", &r->verdict, lim);
	if (family)
		r->family = (__u8)family;
}

/*
 * ct.rule{proto=, src=, dst=, sport=, dport=, action=, timeout=, status=, mark=, priority=} -> id
 * Lower priority values are evaluated first; equal ones in the order they were added.
 */
static int l_rule(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_limit lim;
	struct ctlua_rule r;
	lua_Integer priority;
	int pos, rr, err, slot;

	luaL_checktype(L, 1, LUA_TTABLE);
	read_rule(L, s, 1, 1, &r, &priority, &lim);
	if ((rr = ctl_check_verdict_support(L, s, &r.verdict)))
		return rr;
	if (s->rules.n >= CTLUA_MAX_RULES)
		return ctl_fail(L, E2BIG, "the rule table is full (%d rules)", CTLUA_MAX_RULES);
	if (!s->staged && (rr = ctl_ready(L, s)))	/* staged: the commit loads it */
		return rr;
	ctl_limits_reap(s);
	if (lim.rate_milli) {
		if ((slot = ctl_limit_attach(L, s, &lim, s->rules.last_id + 1)) < 0)
			return -slot;
		r.verdict.limit = (__u16)slot;
	}

	pos = ctl_rules_add(&s->rules, &r, priority);
	err = pos < 0 ? pos : write_rules(s, &s->rules, NULL);
	if (err) {
		if (pos >= 0)
			ctl_rules_undo_add(&s->rules, pos);	/* the kernel has the old table */
		ctl_limit_detach(s, r.verdict.limit);
		return rules_fail(L, err, "cannot write the rule table");
	}
	lua_pushinteger(L, r.id);
	return 1;
}

/*
 * Run @fn(L) on arguments (@ud, the value on top of the stack, popped), protected:
 * what it raises as plain text (its checks use arg 0) is raised again as "bad argument
 * #1 to 'f' (@prefix: ...)". Out of memory and the like pass through as they are.
 */
static void check_value(lua_State *L, lua_CFunction fn, void *ud, const char *prefix)
{
	int status;

	lua_pushcfunction(L, fn);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, ud);
	lua_insert(L, -2);
	status = lua_pcall(L, 2, 0, 0);
	if (status == LUA_OK)
		return;
	if (status != LUA_ERRRUN || lua_type(L, -1) != LUA_TSTRING)
		lua_error(L);
	ctl_arg_error(L, 1, "%s: %s", prefix, lua_tostring(L, -1));
}

/* ct.policy's rules as read: the table, and the limit of each (rate 0: none) in order. */
struct policy_rules {
	struct ctl_state *s;
	struct ctl_rules *t;
	struct ctlua_limit *lim;	/* one per rule of the list */
	unsigned int n;			/* rules read so far */
};

/* One rule of ct.policy's list, for check_value: @ud a struct policy_rules to add it to. */
static int policy_rule(lua_State *L)
{
	struct policy_rules *pr = lua_touserdata(L, 1);
	struct ctlua_rule r;
	lua_Integer priority;

	if (!lua_istable(L, 2))
		luaL_error(L, "expected a rule table, got %s", luaL_typename(L, 2));
	read_rule(L, pr->s, 2, 0, &r, &priority, &pr->lim[pr->n]);
	ctl_rules_add(pr->t, &r, priority);
	pr->n++;
	return 0;
}

/* Free the slots of @t's limits (a table that was not written after all). */
static void policy_limits_undo(struct ctl_state *s, const struct ctl_rules *t)
{
	for (unsigned int i = 0; i < t->n; i++)
		ctl_limit_detach(s, t->e[i].rule.verdict.limit);
}

/*
 * Give the limits of ct.policy's rules their slots; the rule read i-th has the id
 * @first + i. One pass over the table: a policy of many rules and few limits costs
 * little. Returns 0, or frees what it took, pushes nil, msg, errno and returns 3.
 */
static int policy_limits(lua_State *L, struct ctl_state *s, struct policy_rules *pr, __u32 first)
{
	for (unsigned int j = 0; j < pr->t->n; j++) {
		struct ctlua_rule *r = &pr->t->e[j].rule;
		unsigned int i = r->id - first;
		int slot;

		if (i >= pr->n || !pr->lim[i].rate_milli)
			continue;
		if ((slot = ctl_limit_attach(L, s, &pr->lim[i], r->id)) < 0) {
			policy_limits_undo(s, pr->t);
			return -slot;
		}
		r->verdict.limit = (__u16)slot;
	}
	return 0;
}

/* ct.policy's default as read: the verdict, and its limit (rate 0: none). */
struct policy_default {
	struct ctlua_verdict v;
	struct ctlua_limit lim;
};

/* ct.policy's default, for check_value: "action" or {action=, opts...} into @ud. */
static int policy_default(lua_State *L)
{
	const char *const *keys = ctl_keys_policy_default;
	struct policy_default *d = lua_touserdata(L, 1);
	struct ctlua_verdict *v = &d->v;
	int action;

	if (lua_type(L, 2) == LUA_TSTRING) {	/* "drop" is {action = "drop"} */
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 2);
		lua_setfield(L, -2, "action");
		lua_replace(L, 2);
	}
	if (!lua_istable(L, 2))
		luaL_error(L, "expected an action or {action=, timeout=, status=, mark=, limit=}, "
			   "got %s", luaL_typename(L, 2));
	ctl_check_keys(L, 2, 0, keys);
	if (lua_getfield(L, 2, "action") == LUA_TNIL)
		luaL_error(L, "field 'action': missing (\"pass\", \"alloc\" or \"drop\")");
	lua_pop(L, 1);
	action = ctl_field_option(L, 2, 0, "action", ctl_action_names, 0);
	memset(v, 0, sizeof(*v));
	v->action = (__u8)action;
	ctl_check_verdict(L, 2, 0, 0, NULL, v, &d->lim);
	return 0;
}

/*
 * ct.policy{mode=, default=, rules=} -> list of the new rules' ids | nil, msg, errno
 * Whatever is given replaces what is in force, all at once (ctl_dp_put_policy): rules
 * (a list of what ct.rule takes: the whole table), default ("action" or {action=,
 * timeout=, ...}) and mode. What is not given stays.
 */
static int l_policy(lua_State *L)
{
	const char *const *keys = ctl_keys_policy;
	struct ctl_state *s = ctl_state(L);
	struct ctl_rules *t = NULL;
	struct policy_rules pr = { 0 };
	struct policy_default d;
	struct ctlua_verdict dflt;
	struct ctl_dp_policy p;
	int mode = -1, r, err;
	bool set_dflt;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	ctl_check_keys(L, 1, 1, keys);
	if (lua_getfield(L, 1, "mode") != LUA_TNIL)
		mode = ctl_field_option(L, 1, 1, "mode", ctl_mode_names, 0);
	lua_pop(L, 1);
	set_dflt = lua_getfield(L, 1, "default") != LUA_TNIL;
	if (set_dflt)
		check_value(L, policy_default, &d, "field 'default'");
	else
		lua_pop(L, 1);
	if (lua_getfield(L, 1, "rules") != LUA_TNIL) {
		lua_Integer n;

		if (!lua_istable(L, -1))
			ctl_arg_error(L, 1, "field 'rules': expected a list of rules, got %s",
				      luaL_typename(L, -1));
		n = ctl_check_list(L, -1, 1, "rules", "a list of rules");
		if (n > CTLUA_MAX_RULES)
			return ctl_fail(L, E2BIG, "the rule table holds %d rules, got %lld",
					CTLUA_MAX_RULES, (long long)n);
		/* at 3, a userdata: misuse raised while reading frees it */
		t = lua_newuserdatauv(L, offsetof(struct ctl_rules, e) + (size_t)n * sizeof(t->e[0]), 0);
		ctl_rules_init(t);
		t->last_id = s->rules.last_id;
		pr.t = t;
		pr.s = s;
		pr.lim = lua_newuserdatauv(L, (size_t)n * sizeof(*pr.lim) + 1, 0);	/* at 4 */
		lua_insert(L, 2);
		for (lua_Integer i = 1; i <= n; i++) {
			char prefix[48];

			snprintf(prefix, sizeof(prefix), "field 'rules': item %lld", (long long)i);
			lua_rawgeti(L, 3, i);
			check_value(L, policy_rule, &pr, prefix);
		}
	}
	if (t && ctl_rules_set_refs(t) > CTLUA_SET_REFS)	/* staged too, as ct.rule */
		return rules_fail(L, -E2BIG, "cannot write the policy");
	/* what the kernel lacks is refused before anything changes */
	if (set_dflt && (r = ctl_check_verdict_support(L, s, &d.v)))
		return r;
	for (unsigned int i = 0; t && i < t->n; i++)
		if ((r = ctl_check_verdict_support(L, s, &t->e[i].rule.verdict)))
			return r;
	if (!s->staged && (r = ctl_ready(L, s)))
		return r;
	if (t || set_dflt)
		ctl_limits_reap(s);
	if (t && (r = policy_limits(L, s, &pr, s->rules.last_id + 1)))
		return r;
	if (set_dflt) {
		dflt = d.v;
		if (d.lim.rate_milli && (r = ctl_limit_attach(L, s, &d.lim, 0)) < 0) {
			if (t)
				policy_limits_undo(s, t);
			return -r;
		}
		dflt.limit = (__u16)(d.lim.rate_milli ? r : 0);
	}
	if (s->staged) {	/* ctlua run: made live with the whole policy (lua_stage.c) */
		if (mode >= 0)
			s->stage_mode = (__u8)mode;
		if (set_dflt)
			s->stage_dflt = dflt;
	} else {
		if ((r = ctl_ready(L, s)))
			return r;
		ctl_dp_policy(s->dp, &p);
		if (mode >= 0)
			p.mode = (__u8)mode;
		if (set_dflt)
			p.dflt = dflt;
		err = write_rules(s, t ? t : &s->rules, &p);
		if (err) {
			if (t)
				policy_limits_undo(s, t);
			if (set_dflt)
				ctl_limit_detach(s, dflt.limit);
			return rules_fail(L, err, "cannot write the policy");
		}
	}
	lua_newtable(L);
	if (t) {
		/* ids go up in the order given: rule i of the list got last_id + i */
		for (unsigned int i = 1; i <= t->n; i++) {
			lua_pushinteger(L, (lua_Integer)s->rules.last_id + i);
			lua_rawseti(L, -2, i);
		}
		ctl_rules_copy(&s->rules, t);
	}
	/* staged: the replaced rules' and default's slots are no one's now (none was live) */
	if (t || set_dflt)
		ctl_limits_reap(s);
	return 1;
}

/* ct.unrule(id) -> true | nil, "ENOENT: ...", 2 */
static int l_unrule(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	lua_Integer id = ctl_check_int(L, 1, LUA_MININTEGER, LUA_MAXINTEGER);
	int pos = ctl_rules_find(&s->rules, id), err;
	struct ctl_rule_entry gone;

	if (pos < 0)
		return ctl_fail(L, ENOENT, "no rule with id %lld", (long long)id);
	ctl_rules_remove(&s->rules, (unsigned int)pos, &gone);
	err = write_rules(s, &s->rules, NULL);
	if (err) {
		ctl_rules_restore(&s->rules, (unsigned int)pos, &gone);
		return rules_fail(L, err, "cannot write the rule table");
	}
	lua_pushboolean(L, 1);
	return 1;
}

static void push_prefix(lua_State *L, int family, const __be32 addr[4], const __be32 mask[4],
			const char *field)
{
	char buf[CTL_ADDR_STRLEN];
	int bits = ctl_rule_prefix_len(mask);

	if (!bits)
		return;
	lua_pushfstring(L, "%s/%d", ctl_addr_format(family, addr, buf), bits);
	lua_setfield(L, -2, field);
}

/* A port field as ct.rule takes it: a number, {lo, hi}, or nothing for any port. */
static void push_port(lua_State *L, __u16 lo, __u16 hi, const char *field)
{
	if (lo == hi) {
		lua_pushinteger(L, lo);
	} else if (lo != 0 || hi != 65535) {
		lua_createtable(L, 2, 0);
		lua_pushinteger(L, lo);
		lua_rawseti(L, -2, 1);
		lua_pushinteger(L, hi);
		lua_rawseti(L, -2, 2);
	} else {
		return;
	}
	lua_setfield(L, -2, field);
}

/*
 * ct.rules() -> list of rule tables, in evaluation order | nil, msg, errno
 * Each live rule's counts in its field counts; a staged policy's rules have none.
 */
static int l_rules(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	const struct ctlua_count *counts = NULL;
	struct ctl_limit_map m = { 0 };
	struct ctl_dp_policy live;
	int err, mapped = 0;

	if (s->dp && !s->staged && !(counts = ctl_counts_live(L, s, &live, &err)))
		return ctl_fail(L, err, "cannot read the rule counters");
	lua_createtable(L, (int)s->rules.n, 0);
	for (unsigned int i = 0; i < s->rules.n; i++) {
		const struct ctlua_rule *r = &s->rules.e[i].rule;

		lua_newtable(L);
		lua_pushinteger(L, r->id);
		lua_setfield(L, -2, "id");
		lua_pushinteger(L, s->rules.e[i].priority);
		lua_setfield(L, -2, "priority");
		if (r->proto) {
			lua_pushstring(L, ctl_proto_name(r->proto));
			lua_setfield(L, -2, "proto");
		}
		if (r->family) {
			lua_pushstring(L, r->family == CTLUA_AF_INET6 ? "ipv6" : "ipv4");
			lua_setfield(L, -2, "family");
		}
		push_prefix(L, r->family, r->src, r->src_mask, "src");
		push_prefix(L, r->family, r->dst, r->dst_mask, "dst");
		push_port(L, r->dport_lo, r->dport_hi, "dport");
		push_port(L, r->sport_lo, r->sport_hi, "sport");
		for (int f = 0; f < CTLUA_SET_FIELDS; f++)
			if (r->set[f] && s->sets) {
				lua_pushstring(L, ctl_set_name(s->sets, r->set[f] - 1u));
				lua_setfield(L, -2, ctl_set_field_names[f]);
			}
		lua_pushstring(L, ctl_action_names[r->verdict.action]);
		lua_setfield(L, -2, "action");
		ctl_push_opts_fields(L, &r->verdict.opts);
		/* the live table is this one once written; a failed write left the old one */
		if (counts && i < live.nrules && live.rules[i].id == r->id) {
			ctl_push_count(L, &counts[i]);
			lua_setfield(L, -2, "counts");
		}
		/* the limits mapped once, at the first rule that has one */
		if (r->verdict.limit && !mapped++ && ctl_limits_map(s, &m))
			m.slot = NULL;
		ctl_limit_push(L, &m, r->verdict.limit);
		ctl_push_verdict_xlat(L, &r->verdict);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	ctl_limit_map_close(&m);
	return 1;
}

/* nil, "ENAME: ..." for a failed verdict write about @f (the flow refused); returns 3. */
static int verdict_fail(lua_State *L, struct ctl_state *s, int err, const struct ctlua_flow *f)
{
	char buf[CTL_FLOW_STRLEN], msg[320];

	return ctl_fail(L, err, "%s", ctl_dp_verdict_error(s->dp, err, ctl_flow_format(f, buf),
							     msg, sizeof(msg)));
}

/* ct.verdict(tuple) -> action, opts | nil, "ENOENT: ...", 2: the verdict in force */
static int get_verdict(lua_State *L, struct ctl_state *s, const struct ctlua_flow *f)
{
	struct ctlua_verdict v;
	char buf[CTL_FLOW_STRLEN];
	int err = ctl_vbuf_get(s->vbuf, f, &v);

	if (err == -ENOENT)
		return ctl_fail(L, err, "no verdict for %s", ctl_flow_format(f, buf));
	if (err)
		return ctl_fail(L, err, "cannot read the verdict for %s", ctl_flow_format(f, buf));
	lua_pushstring(L, v.action < CTLUA_ACT_NR ? ctl_action_names[v.action] : "?");
	lua_newtable(L);
	ctl_push_opts_fields(L, &v.opts);
	ctl_push_verdict_xlat(L, &v);
	return 2;
}

/*
 * ct.verdict(tuple, action [, opts]) -> true | nil, msg, errno
 * ct.verdict(tuple) -> action, opts | nil, msg, errno
 */
static int l_verdict(lua_State *L)
{
	const char *const *keys = ctl_keys_opts;
	struct ctl_state *s = ctl_state(L);
	struct ctlua_verdict v = {};
	struct ctlua_flow f, fail;
	int r, err;

	ctl_check_flow(L, 1, &f);
	if (lua_gettop(L) == 1) {	/* only the tuple: a read (a nil action is misuse) */
		if ((r = ctl_ready(L, s)))
			return r;
		return get_verdict(L, s, &f);
	}
	v.action = (__u8)ctl_check_option(L, 2, NULL, ctl_action_names);
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		ctl_check_keys(L, 3, 3, keys);
		ctl_check_verdict(L, 3, 3, f.family, "the tuple's", &v, NULL);
	}
	if ((r = ctl_ready(L, s)) || (r = ctl_check_verdict_support(L, s, &v)))
		return r;
	err = ctl_vbuf_put(s->vbuf, &f, &v, &fail);
	if (err)
		return verdict_fail(L, s, err, &fail);
	lua_pushboolean(L, 1);
	return 1;
}

/* ct.forget(tuple) -> true | nil, "ENOENT: ...", 2 */
static int l_forget(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_flow f;
	char buf[CTL_FLOW_STRLEN];
	int r, err;

	ctl_check_flow(L, 1, &f);
	if ((r = ctl_ready(L, s)))
		return r;
	err = ctl_vbuf_del(s->vbuf, &f);
	if (err == -ENOENT)
		return ctl_fail(L, err, "no verdict for %s", ctl_flow_format(&f, buf));
	if (err)
		return ctl_fail(L, err, "cannot forget %s", ctl_flow_format(&f, buf));
	lua_pushboolean(L, 1);
	return 1;
}

/* ct.sync() -> true | nil, msg, errno: the buffered verdicts into the kernel now */
static int l_sync(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctlua_flow fail;
	int err;

	lua_settop(L, 0);
	if (!s->dp) {		/* nothing was written, so nothing waits: load nothing */
		lua_pushboolean(L, 1);
		return 1;
	}
	err = ctl_vbuf_sync(s->vbuf, &fail);
	if (err)
		return verdict_fail(L, s, err, &fail);
	lua_pushboolean(L, 1);
	return 1;
}

void ctl_verdicts_flush(struct ctl_state *s)
{
	char buf[CTL_FLOW_STRLEN], name[16], msg[320];
	struct ctlua_flow fail;
	int err;

	if (!s->vbuf || !(err = ctl_vbuf_sync(s->vbuf, &fail)))
		return;
	ctl_log(CTL_LOG_ERR, "%s: %s", ctl_errno_name(-err, name, sizeof(name)),
		ctl_dp_verdict_error(s->dp, err, ctl_flow_format(&fail, buf), msg, sizeof(msg)));
}

/*
 * ct.config([{verdicts=N, verdict_idle=MS, pin=DIR|false, when_stopped="pass"|"enforce"}])
 * -> the settings in force. verdicts and pin shape the datapath: they must come before
 * it loads (the first call that needs the kernel), as a map's size and the maps' home
 * are fixed then. verdict_idle, how long a verdict must go unused before a full table
 * may reclaim it (0: never), and when_stopped, what the filters do once this ctlua
 * ends, may change at any time; "enforce" needs pins. Needs no kernel and loads nothing.
 */
static int l_config(lua_State *L)
{
	const char *const *keys = ctl_keys_config;
	static const char *const stopped[] = { "pass", "enforce", NULL };
	struct ctl_state *s = ctl_state(L);
	struct ctl_dp_opts o = s->dp_opts;
	bool enforce = s->leave_enforcing;
	lua_Integer n;

	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		ctl_check_keys(L, 1, 1, keys);
		if (ctl_field_int(L, 1, 1, "verdicts", CTL_DP_VERDICTS_MIN, CTL_DP_VERDICTS_MAX,
				  &n)) {
			if (s->dp && (unsigned int)n != ctl_dp_verdicts(s->dp))
				ctl_arg_error(L, 1, "field 'verdicts': the verdict table is loaded "
					      "already, with room for %u; set its size before the "
					      "first call that loads the datapath",
					      ctl_dp_verdicts(s->dp));
			o.verdicts = (unsigned int)n;
		}
		if (ctl_field_int(L, 1, 1, "verdict_idle", 0, CTL_VERDICT_IDLE_MAX_MS, &n))
			o.verdict_idle_ms = (unsigned int)n;
		lua_getfield(L, 1, "pin");
		if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
			o.pin[0] = '\0';
		} else if (!lua_isnil(L, -1)) {
			const char *dir = ctl_check_str_at(L, -1, 1, "pin");
			int err = ctl_pin_path(dir, o.pin, sizeof(o.pin));

			if (err == -EINVAL)
				ctl_arg_error(L, 1, "field 'pin': expected a directory or a name");
			if (err)
				ctl_arg_error(L, 1, "field 'pin': the path is too long");
		}
		lua_pop(L, 1);
		if (s->dp && strcmp(o.pin, s->dp_opts.pin))
			ctl_arg_error(L, 1, "field 'pin': the datapath is loaded already, %s%s%s; "
				      "set it before the first call that loads the datapath",
				      s->dp_opts.pin[0] ? "pinned in '" : "without pins",
				      s->dp_opts.pin, s->dp_opts.pin[0] ? "'" : "");
		enforce = ctl_field_option(L, 1, 1, "when_stopped", stopped, enforce) == 1;
		if (enforce && !o.pin[0])
			ctl_arg_error(L, 1, "field 'when_stopped': \"enforce\" needs pinned maps "
				      "(--pin DIR or ct.config{pin=DIR}): without them the next "
				      "ctlua cannot adopt the filter");
		s->dp_opts = o;
		s->leave_enforcing = enforce;
		if (s->dp && !s->staged)	/* staged: set at the commit */
			ctl_dp_set_verdict_idle(s->dp, o.verdict_idle_ms);
	}
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, s->dp ? ctl_dp_verdicts(s->dp) : o.verdicts);
	lua_setfield(L, -2, "verdicts");
	lua_pushinteger(L, o.verdict_idle_ms);
	lua_setfield(L, -2, "verdict_idle");
	if (o.pin[0])
		lua_pushstring(L, o.pin);
	else
		lua_pushboolean(L, 0);
	lua_setfield(L, -2, "pin");
	lua_pushstring(L, stopped[enforce]);
	lua_setfield(L, -2, "when_stopped");
	return 1;
}

static const luaL_Reg policy_funcs[] = {
	{ "config", l_config },
	{ "mode", l_mode },
	{ "default", l_default },
	{ "events", l_events },
	{ "rule", l_rule },
	{ "unrule", l_unrule },
	{ "rules", l_rules },
	{ "policy", l_policy },
	{ "verdict", l_verdict },
	{ "forget", l_forget },
	{ "sync", l_sync },
	{ NULL, NULL },
};

void ctl_open_policy(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, policy_funcs, 1);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_counts.c - what decided misses, as Lua sees it: each rule's counts in ct.rules(),
 * and the counts of the rules, the default and each per-flow verdict source in
 * ct.stats().sources (bpf/ctlua.h, struct ctlua_count).
 */
#include <string.h>
#include "lua_ct.h"
#include "rule_counts.h"

/* The errno each of ctlua_count's errors counts, as ct.stats().errors names it. */
static const char *const err_names[CTLUA_CERR_NR] = {
	[CTLUA_CERR_EEXIST] = "EEXIST",
	[CTLUA_CERR_ENOMEM] = "ENOMEM",
	[CTLUA_CERR_ENOSPC] = "ENOSPC",
	[CTLUA_CERR_EINVAL] = "EINVAL",
	[CTLUA_CERR_OTHER] = "other",
};

/* The rules' and the default's, then each per-flow source's, as ctl_counts_live leaves them. */
const char *const ctl_source_names[] = {
	"rules",
	"default",
	[2 + CTLUA_SRC_VERDICT] = "verdict",
	[2 + CTLUA_SRC_ANSWER] = "answer",
	NULL
};
_Static_assert(sizeof(ctl_source_names) / sizeof(ctl_source_names[0]) == 2 + CTLUA_SRC_NR + 1,
	       "a per-flow verdict source without a name");

void ctl_push_count(lua_State *L, const struct ctlua_count *c)
{
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)c->decided);
	lua_setfield(L, -2, "decided");
	lua_pushinteger(L, (lua_Integer)c->allocated);
	lua_setfield(L, -2, "allocated");
	lua_pushinteger(L, (lua_Integer)c->dropped);
	lua_setfield(L, -2, "dropped");
	lua_newtable(L);
	for (int e = 0; e < CTLUA_CERR_NR; e++)
		if (c->errors[e]) {
			lua_pushinteger(L, (lua_Integer)c->errors[e]);
			lua_setfield(L, -2, err_names[e]);
		}
	lua_setfield(L, -2, "errors");
}

const struct ctlua_count *ctl_counts_live(lua_State *L, struct ctl_state *s,
					  struct ctl_dp_policy *p, int *err)
{
	struct ctlua_count *c;

	ctl_dp_policy(s->dp, p);
	c = lua_newuserdatauv(L, (p->nrules + 1 + CTLUA_SRC_NR) * sizeof(*c), 0);
	*err = ctl_dp_counts(s->dp, c, &c[p->nrules], &c[p->nrules + 1]);
	if (*err) {
		lua_pop(L, 1);
		return NULL;
	}
	return c;
}

int ctl_push_sources(lua_State *L, struct ctl_state *s)
{
	const struct ctlua_count *c;
	struct ctl_dp_policy p;
	struct ctlua_count rules = {};
	int err;

	if (!(c = ctl_counts_live(L, s, &p, &err)))
		return err;
	for (unsigned int i = 0; i < p.nrules; i++)
		ctl_count_add(&rules, &c[i]);
	lua_createtable(L, 0, 2 + CTLUA_SRC_NR);
	ctl_push_count(L, &rules);
	lua_setfield(L, -2, ctl_source_names[0]);
	for (int i = 0; i < 1 + CTLUA_SRC_NR; i++) {	/* the default, then the sources */
		ctl_push_count(L, &c[p.nrules + i]);
		lua_setfield(L, -2, ctl_source_names[1 + i]);
	}
	lua_remove(L, -2);	/* the counts' userdata */
	return 0;
}

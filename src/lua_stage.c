// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_stage.c - a policy staged, then made live in one step: how `ctlua run` starts a
 * policy and reloads it (doc/service.md). While a state is staged, the functions that
 * set what packets read record it in the state (lua_policy.c, lua_events.c) and
 * ct.attach only prepares (lua_link.c); the commit here attaches, switches the policy
 * with one ctl_dp_put_policy and hands the datapath over from the running state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "datapath.h"
#include "link_watch.h"
#include "log.h"
#include "lua_ct.h"
#include "names.h"
#include "verdict_buf.h"

void ctl_stage_begin(struct ctl_state *s, struct ctl_state *running)
{
	s->staged = true;
	s->served = true;
	/* a fresh policy starts where a fresh datapath does (ctl_dp_open) */
	s->stage_mode = CTLUA_MODE_ENFORCE;
	memset(&s->stage_dflt, 0, sizeof(s->stage_dflt));
	s->stage_dflt.action = CTLUA_ACT_PASS;
	if (running) {
		s->dp = running->dp;
		s->vbuf = running->vbuf;
		s->dp_borrowed = true;
		/* what the datapath was loaded with: ct.config compares with it */
		s->dp_opts = running->dp_opts;
	}
}

void ctl_stage_link(struct ctl_state *s, struct ctl_link *l, const char *ifname, int dir,
		    bool l3, const struct ctl_tc_opts *opts)
{
	l->opts = *opts;
	l->staged = true;
	snprintf(l->tc.ifname, sizeof(l->tc.ifname), "%s", ifname);
	l->tc.ifindex = (int)if_nametoindex(ifname);
	l->tc.dir = dir;
	l->tc.l3 = l3;
	l->state = s;
	l->next = s->staged_links;
	s->staged_links = l;
}

/* The running state's link on @l's interface and direction, or NULL. */
static struct ctl_link *running_link(struct ctl_state *running, const struct ctl_link *l)
{
	for (struct ctl_link *o = running ? running->links : NULL; o; o = o->next)
		if (o->attached && o->tc.ifindex == l->tc.ifindex && o->tc.dir == l->tc.dir &&
		    o->hook == l->hook)
			return o;
	return NULL;
}

/* Undo the attachments the commit made (those with no running link to adopt). */
static void undo_attach(struct ctl_state *s, struct ctl_state *running)
{
	for (struct ctl_link *l = s->staged_links; l; l = l->next)
		if (l->attached && !running_link(running, l))
			ctl_link_drop(l);
}

/*
 * The running state's links whose filter is no longer on its hook (removed by hand, or
 * taken over): they let go of their records, so that the new policy attaches anew
 * instead of adopting a filter that is not there.
 */
static void settle_running(struct ctl_state *running)
{
	for (struct ctl_link *o = running ? running->links : NULL; o; o = o->next)
		if (o->attached && ctl_link_check(o) == 0) {
			ctl_log(CTL_LOG_WARNING, "'%s' %s: ctlua's filter is gone; the new policy "
				"attaches it again", o->tc.ifname, ctl_dir_names[o->tc.dir]);
			ctl_link_drop(o);	/* nothing of it is left but its record */
			o->lost = true;		/* its detach returns true once (api.md) */
		}
}

/* Attach the staged links that the running state does not have. Returns 0 or -errno. */
static int attach_new(struct ctl_state *s, struct ctl_state *running, char *msg, size_t len)
{
	for (struct ctl_link *l = s->staged_links; l; l = l->next) {
		struct ctl_tc_link tc = l->tc;
		struct ctl_tc_conflict why = { .why = CTL_TC_OK };
		int fd, err, l3;

		if (running_link(running, l))
			continue;
		/* a waiting link's interface may have appeared since it was staged */
		if (!tc.ifindex && (l3 = ctl_tc_is_l3(tc.ifname)) >= 0)
			tc.l3 = l3;
		fd = ctl_link_prog_fd(s, l, tc.l3);
		err = fd < 0 ? fd : ctl_link_tc_attach(s, fd, l, &why);
		if (err == -ENODEV && l->wait) {	/* it attaches when the interface appears */
			l->tc.ifindex = 0;
			continue;
		}
		if (err) {
			size_t n = (size_t)snprintf(msg, len, "%s", l->where);

			if (n < len)	/* after where its ct.attach was */
				ctl_link_refusal(msg + n, len - n, err, tc.ifname, tc.dir, &why,
						 ctl_dp_pin_dir(s->dp));
			return err;
		}
		l->tc.l3 = tc.l3;
		l->attached = true;
	}
	return 0;
}

int ctl_stage_commit(lua_State *L, struct ctl_state *s, struct ctl_state *running, char *msg,
		     size_t len)
{
	struct ctl_dp_policy p = { .mode = s->stage_mode, .dflt = s->stage_dflt };
	struct ctlua_rule *flat;
	struct ctl_link *l;
	int err;

	if (ctl_ready(L, s)) {	/* a policy that needed no kernel until now: load it */
		snprintf(msg, len, "%s", lua_tostring(L, -2));
		err = -(int)lua_tointeger(L, -1);
		lua_pop(L, 3);
		return err ? err : -EIO;
	}
	flat = malloc(s->rules.n * sizeof(*flat) + 1);
	if (!flat) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	p.rules = flat;
	p.nrules = ctl_rules_flatten(&s->rules, flat);
	p.event_mask = ctl_events_mask(L, s);
	/*
	 * The links follow their interfaces from before they attach (lua_link.c), so that
	 * none of its notifications is missed; ctl_links_resync, after the commit, takes
	 * them and what the running state's watch had not read yet.
	 */
	if (s->staged_links && !s->link_watch) {
		if ((err = ctl_link_watch_open(&s->link_watch)))
			ctl_log(CTL_LOG_WARNING, "cannot watch the interfaces (%s): an interface "
				"deleted or created goes unnoticed", strerror(-err));
		else	/* the namespace its links were staged in (lua_link.c) */
			s->link_watch_netns = s->staged_links->netns;
	}
	settle_running(running);
	/* new interfaces first, so that one that cannot be attached leaves all as it was */
	err = attach_new(s, running, msg, len);
	if (!err && (err = ctl_dp_put_policy(s->dp, &p)))
		snprintf(msg, len, "cannot write the policy to the datapath (%s)", strerror(-err));
	free(flat);
	if (err) {
		undo_attach(s, running);
		return err;
	}
	ctl_limits_reap(s);	/* what a staged policy took and then replaced */
	/* adopt what runs already: the filter stays, only its owner changes */
	while ((l = s->staged_links)) {
		struct ctl_link *o = l->attached ? NULL : running_link(running, l);

		if (o) {
			for (struct ctl_link **pp = &running->links; *pp; pp = &(*pp)->next)
				if (*pp == o) {
					*pp = o->next;
					break;
				}
			l->tc = o->tc;
			l->xdp = o->xdp;	/* its descriptor and record move with it */
			o->xdp.fd = o->xdp.rec.fd = -1;
			l->attached = true;
			o->attached = false;
		}
		s->staged_links = l->next;
		l->next = NULL;
		l->staged = false;
		if (!l->attached && !l->wait)	/* a second ct.attach of what the first adopted */
			continue;
		l->next = s->links;
		s->links = l;
	}
	if (running) {
		running->dp_borrowed = true;
		/* its links left are those the new policy dropped: detached at its close, even
		 * where it chose to leave its filters enforcing at the end (when_stopped) */
		running->leave_enforcing = false;
	}
	s->dp_borrowed = false;
	s->staged = false;
	ctl_dp_set_verdict_idle(s->dp, s->dp_opts.verdict_idle_ms);
	return 0;
}

int ctl_check_problem(lua_State *L, struct ctl_state *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	luaL_where(L, 1);	/* the Lua code that called the running C function */
	ctl_log(CTL_LOG_ERR, "%s%s", lua_tostring(L, -1), msg);
	lua_pop(L, 1);
	s->problems++;
	return 0;
}

/* What ctlua check puts in place of a function that acts at once: upvalues state, name. */
static int acts_at_once(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	const char *name = lua_tostring(L, lua_upvalueindex(2));

	const char *cmd = s->replay ? "replay" : "check";

	ctl_check_problem(L, s, "%s acts at once: ctlua %s does not run it", name, cmd);
	return ctl_fail(L, ENOTSUP, "%s acts at once: ctlua %s does not run it", name, cmd);
}

void ctl_stage_dry(lua_State *L, int idx, struct ctl_state *s)
{
	static const char *const at_once[] = { "alloc", "alloc_many", "lookup", "change",
					       "verdict", "forget", "sync", "stats", "delete",
					       "flush", NULL };

	idx = lua_absindex(L, idx);
	ctl_stage_begin(s, NULL);
	s->dry = true;
	for (int i = 0; at_once[i]; i++) {
		if (lua_getfield(L, idx, at_once[i]) != LUA_TFUNCTION ||
		    !lua_getupvalue(L, -1, 1)) {	/* the state, as every ct function has */
			lua_pop(L, 1);
			continue;
		}
		lua_pushfstring(L, "ct.%s", at_once[i]);
		lua_pushcclosure(L, acts_at_once, 2);
		lua_setfield(L, idx, at_once[i]);
		lua_pop(L, 1);
	}
}

unsigned int ctl_stage_problems(const struct ctl_state *s)
{
	return s->problems;
}

void ctl_stage_push_summary(lua_State *L, struct ctl_state *s)
{
	struct ctl_link *in_order[64];
	const char *sep = "attach ";
	luaL_Buffer b;
	int n = 0, ncb = 0;

	/* the staged list is newest first: its reverse is the order of the policy's calls */
	for (struct ctl_link *l = s->staged_links; l && n < 64; l = l->next)
		in_order[n++] = l;
	luaL_buffinit(L, &b);
	if (!n)
		luaL_addstring(&b, "no interface attached");
	while (n--) {
		luaL_addstring(&b, sep);
		luaL_addstring(&b, in_order[n]->tc.ifname);
		luaL_addchar(&b, ' ');
		luaL_addstring(&b, ctl_dir_names[in_order[n]->tc.dir]);
		sep = ", ";
	}
	lua_pushfstring(L, "; mode %s; default %s; %d rule%s; callbacks ",
			ctl_mode_names[s->stage_mode], ctl_action_names[s->stage_dflt.action],
			(int)s->rules.n, s->rules.n == 1 ? "" : "s");
	luaL_addvalue(&b);
	for (int k = 0; k < CTL_ON_NR; k++)
		if (s->cb_ref[k] != LUA_NOREF) {
			luaL_addstring(&b, ncb++ ? ", " : "");
			luaL_addstring(&b, ctl_on_names[k]);
		}
	if (!ncb)
		luaL_addstring(&b, "none");
	luaL_pushresult(&b);
}

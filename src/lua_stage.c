// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_stage.c - a policy staged, then made live in one step: how `ctlua run` starts a
 * policy and reloads it (doc/service.md). While a state is staged, the functions that
 * set what packets read record it in the state (lua_policy.c, lua_events.c) and
 * ct.attach only prepares (lua_link.c); the commit here attaches, switches the policy
 * with one ctl_dp_put_policy and hands the datapath over from the running state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "datapath.h"
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
	}
}

void ctl_stage_link(struct ctl_state *s, struct ctl_link *l, const char *ifname, int dir,
		    bool l3)
{
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
		if (o->attached && o->tc.ifindex == l->tc.ifindex && o->tc.dir == l->tc.dir)
			return o;
	return NULL;
}

/* Undo the attachments the commit made (those with no running link to adopt). */
static void undo_attach(struct ctl_state *s, struct ctl_state *running)
{
	for (struct ctl_link *l = s->staged_links; l; l = l->next)
		if (l->attached && !running_link(running, l)) {
			if (ctl_tc_detach(&l->tc))
				ctl_tc_forget(&l->tc);
			l->attached = false;
		}
}

/* Attach the staged links that the running state does not have. Returns 0 or -errno. */
static int attach_new(struct ctl_state *s, struct ctl_state *running, char *msg, size_t len)
{
	for (struct ctl_link *l = s->staged_links; l; l = l->next) {
		struct ctl_tc_link tc = l->tc;
		int fd, err;

		if (running_link(running, l))
			continue;
		fd = ctl_dp_prog_fd(s->dp, tc.dir, tc.l3);
		err = fd < 0 ? fd : ctl_tc_attach(fd, tc.ifname, tc.dir, &l->tc);
		if (err) {
			l->tc = tc;
			snprintf(msg, len, "cannot attach to '%s' %s (%s)", tc.ifname,
				 ctl_dir_names[tc.dir], strerror(-err));
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
	/* new interfaces first, so that one that cannot be attached leaves all as it was */
	err = attach_new(s, running, msg, len);
	if (!err && (err = ctl_dp_put_policy(s->dp, &p)))
		snprintf(msg, len, "cannot write the policy to the datapath (%s)", strerror(-err));
	free(flat);
	if (err) {
		undo_attach(s, running);
		return err;
	}
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
			l->attached = true;
			o->attached = false;
		}
		s->staged_links = l->next;
		l->next = NULL;
		if (!l->attached)	/* a second ct.attach of what the first adopted */
			continue;
		l->next = s->links;
		s->links = l;
	}
	if (running)
		running->dp_borrowed = true;
	s->dp_borrowed = false;
	s->staged = false;
	ctl_dp_set_verdict_idle(s->dp, s->dp_opts.verdict_idle_ms);
	return 0;
}

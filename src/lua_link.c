// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_link.c - ct.attach and the link object. The state keeps every attached link
 * alive, so a link the script did not keep stays attached until link:detach(), a
 * to-be-closed variable going out of scope, or the end of the program. Links follow
 * their interface as it comes and goes (link_watch.c's notifications, at the end). A
 * link holds a TC filter (tc.c) or, with hook="xdp", an XDP link (xdp.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "datapath.h"
#include "deadline.h"
#include "link_watch.h"
#include "log.h"
#include "lua_ct.h"
#include "names.h"
#include "owner.h"
#include "pin.h"

/* Registry key of the table state -> attached link userdata, keeping them alive. */
static const char live_links_key = 0;

static void anchor(lua_State *L, int idx, bool keep)
{
	idx = lua_absindex(L, idx);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &live_links_key);
	lua_pushvalue(L, idx);
	if (keep)
		lua_pushboolean(L, 1);
	else
		lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

static void unlink_link(struct ctl_state *s, struct ctl_link *l)
{
	for (struct ctl_link **p = &s->links; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
}

/* What the hook of @l holds (tc.c's filter, xdp.c's link), taken off: 0 or -errno. */
static int hook_detach(struct ctl_link *l)
{
	return l->hook == CTL_HOOK_XDP ? ctl_xdp_detach(&l->xdp) : ctl_tc_detach(&l->tc);
}

/*
 * Let go of the record of what @l holds without taking it off (a detach that failed for
 * good). An XDP link cannot stay without this process: it goes now.
 */
static void hook_forget(struct ctl_link *l)
{
	if (l->hook == CTL_HOOK_XDP)
		ctl_xdp_detach(&l->xdp);
	else
		ctl_tc_forget(&l->tc);
}

int ctl_link_check(const struct ctl_link *l)
{
	return l->hook == CTL_HOOK_XDP ? ctl_xdp_check(&l->xdp) : ctl_tc_check(&l->tc);
}

int ctl_link_prog_fd(struct ctl_state *s, const struct ctl_link *l, bool l3)
{
	if (l->hook != CTL_HOOK_XDP)
		return ctl_dp_prog_fd(s->dp, l->tc.dir, l3);
	if (l3)		/* ctlua_xdp parses an Ethernet header */
		return -EPROTONOSUPPORT;
	return ctl_dp_xdp_fd(s->dp);
}

/*
 * Take @l off its interface: tc.c removes its filter if it still runs the program @l
 * put there, and the clsact qdisc when a ctlua created it and nothing is left on it;
 * xdp.c closes its link.
 */
static int detach(struct ctl_link *l)
{
	int err;

	if (l->staged) {	/* ctlua run: not attached yet, and the commit must not see it */
		for (struct ctl_link **p = &l->state->staged_links; *p; p = &(*p)->next)
			if (*p == l) {
				*p = l->next;
				break;
			}
		l->staged = false;
		l->wait = false;
		return 0;
	}
	if (!l->attached) {	/* waiting (it stops), or lost: off the state's list */
		if (l->state)	/* none: it never got that far (its ct.attach failed) */
			unlink_link(l->state, l);
		l->wait = false;
		return 0;
	}
	err = hook_detach(l);
	if (err)
		return err;	/* still attached: a later detach or the exit will retry */
	unlink_link(l->state, l);
	l->attached = false;
	l->wait = false;
	return 0;
}

/*
 * Attach @l (its tc.ifname, tc.dir and opts set) now. Returns 0, or -errno with
 * *@loading saying whether loading the program failed (else attaching did; -ENODEV: no
 * such interface; a hook another ctlua holds: @why says who, ctl_link_refusal).
 */
static int attach_now(struct ctl_state *s, struct ctl_link *l, bool *loading,
		      struct ctl_tc_conflict *why)
{
	char ifname[IF_NAMESIZE];
	int l3, fd, err;

	memcpy(ifname, l->tc.ifname, sizeof(ifname));
	*loading = false;
	l3 = ctl_tc_is_l3(ifname);
	if (l3 < 0)
		return l3;
	fd = ctl_link_prog_fd(s, l, l3);
	if (fd == -EPROTONOSUPPORT)
		return fd;	/* not a loading failure: an XDP link on an L3 device */
	if (fd < 0) {
		*loading = true;
		return fd;
	}
	err = ctl_link_tc_attach(s, fd, l, why);
	if (err)
		return err;
	l->tc.l3 = l3;
	l->attached = true;
	return 0;
}

/*
 * The end of a ctlua whose policy chose to keep enforcing while no host runs
 * (ct.config{when_stopped="enforce"}, which needs pins): @l's filter stays on its hook,
 * running on the pinned maps, and its ownership record stays on disk, unlocked, naming
 * the program: the next ctlua with the same pins finds an orphan that uses them and
 * adopts it.
 */
static void leave(struct ctl_link *l)
{
	const char *dir = l->state->dp ? ctl_dp_pin_dir(l->state->dp) : NULL;

	if (!l->attached)
		return;
	hook_forget(l);
	unlink_link(l->state, l);
	l->attached = false;
	ctl_log(CTL_LOG_WARNING, "%s %s: left enforcing the last policy (pinned in %s); the "
		"next ctlua with --pin %s adopts it", l->tc.ifname, ctl_dir_names[l->tc.dir],
		dir ? dir : "?", dir ? dir : "?");
}

/*
 * Whether a link of @list holds @l's interface's ingress at the other hook (one hook
 * decides an interface's arriving flows, never both: xdp.h); if so, @why says which.
 * The staged list counts too: a policy's commit attaches its links one by one.
 */
static bool other_hook(const struct ctl_link *list, const struct ctl_link *l,
		       struct ctl_tc_conflict *why)
{
	int ifindex = (int)if_nametoindex(l->tc.ifname);

	for (const struct ctl_link *o = list; o && ifindex; o = o->next)
		if (o != l && o->attached && o->hook != l->hook && o->netns == l->netns &&
		    o->tc.ifindex == ifindex && o->tc.dir == CTLUA_DIR_INGRESS &&
		    l->tc.dir == CTLUA_DIR_INGRESS) {
			memset(why, 0, sizeof(*why));
			why->why = CTL_TC_OTHER_HOOK;
			snprintf(why->foreign, sizeof(why->foreign), "%s", ctl_hook_names[o->hook]);
			return true;
		}
	return false;
}

int ctl_link_tc_attach(struct ctl_state *s, int fd, struct ctl_link *l,
		       struct ctl_tc_conflict *why)
{
	struct ctl_tc_opts opts = l->opts;
	int err;

	if (other_hook(s->links, l, why) || other_hook(s->staged_links, l, why))
		return -EBUSY;
	if (l->hook == CTL_HOOK_XDP)
		return ctl_xdp_attach(fd, l->tc.ifname, l->xdp_mode, &l->tc, &l->xdp, why);
	if (opts.orphans == CTL_ORPHANS_ADOPT) {	/* what runs on the pinned maps */
		opts.adopt_ids = ctl_dp_pin_ids(s->dp);
		opts.nadopt_ids = CTL_PIN_NMAPS;
	}
	err = ctl_tc_attach(fd, l->tc.ifname, l->tc.dir, &opts, &l->tc, why);
	if (!err && why->adopted) {
		ctl_log(CTL_LOG_INFO, "%s %s: adopted the filter left enforcing on the state pinned "
			"in %s (program id %u, now %u)", l->tc.ifname, ctl_dir_names[l->tc.dir],
			ctl_dp_pin_dir(s->dp), why->orphan_ids[0], l->tc.prog_id);
	}
	return err;
}

void ctl_link_drop(struct ctl_link *l)
{
	if (hook_detach(l))
		hook_forget(l);
	l->attached = false;
}

void ctl_links_detach_all(struct ctl_state *s)
{
	while (s->links) {
		struct ctl_link *l = s->links;

		if (s->leave_enforcing && s->dp && ctl_dp_pin_dir(s->dp)) {
			leave(l);
			continue;
		}
		if (detach(l)) {	/* the last chance has passed: let it go */
			hook_forget(l);
			unlink_link(s, l);
			l->attached = false;
			l->wait = false;
		}
	}
	ctl_link_watch_close(s->link_watch);	/* its socket leaves the loop as it closes */
	s->link_watch = NULL;
	s->link_watch_looped = false;
}

const char *ctl_ifname(struct ctl_state *s, int ifindex, char buf[IF_NAMESIZE])
{
	for (struct ctl_link *l = s->links; l; l = l->next)
		if (l->tc.ifindex == ifindex)
			return l->tc.ifname;
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

/* t[field] as a boolean, or @dflt when nil. */
static bool field_bool(lua_State *L, int idx, const char *field, bool dflt)
{
	bool v = dflt;

	lua_getfield(L, idx, field);
	if (lua_isboolean(L, -1))
		v = lua_toboolean(L, -1);
	else if (!lua_isnil(L, -1))
		ctl_arg_error(L, 2, "field '%s': expected a boolean, got %s", field,
			      luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

void ctl_link_refusal(char *buf, size_t len, int err, const char *ifname, int dir,
		      const struct ctl_tc_conflict *why, const char *pin_dir)
{
	const char *d = ctl_dir_names[dir];
	const char *filters = why->norphans > 1 ? "filters" : "a filter";
	const char *s = why->norphans > 1 ? "s" : "", *them = why->norphans > 1 ? "them" : "it";
	char owner[PATH_MAX + 32], ids[CTL_TC_MAX_ORPHANS * 12] = "";
	size_t n = 0;

	ctl_owner_describe(&why->owner, owner, sizeof(owner));
	switch (why->why) {
	case CTL_TC_LIVE:
		if (!why->owner.pid)	/* it has the record locked, and is still writing it */
			snprintf(buf, len, "'%s' %s is being attached by another ctlua; "
				 "ct.attach('%s', {takeover=true}) or --take-over replaces it",
				 ifname, d, ifname);
		else if (why->owner.pid == getpid())
			snprintf(buf, len, "'%s' %s is already attached by this ctlua; detach "
				 "that link first, or ct.attach('%s', {takeover=true}) "
				 "replaces it", ifname, d, ifname);
		else
			snprintf(buf, len, "'%s' %s is enforced by ctlua pid %d (%s); "
				 "ct.attach('%s', {takeover=true}) or --take-over replaces it",
				 ifname, d, why->owner.pid, owner, ifname);
		return;
	case CTL_TC_ORPHANS:
		for (int i = 0; i < why->norphans; i++)
			n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%u", i ? ", " : "",
					      why->orphan_ids[i]);
		if (!why->owner.pid)
			snprintf(buf, len, "'%s' %s has %s left by a ctlua that no longer runs "
				 "(program id%s %s, no record of its owner); "
				 "ct.attach('%s', {orphans=\"remove\"}) or --orphans=remove "
				 "removes %s", ifname, d, filters, s, ids, ifname, them);
		else
			snprintf(buf, len, "'%s' %s has %s left by a ctlua that no longer runs "
				 "(program id%s %s, pid %d, %s); "
				 "ct.attach('%s', {orphans=\"remove\"}) or --orphans=remove "
				 "removes %s", ifname, d, filters, s, ids, why->owner.pid, owner,
				 ifname, them);
		return;
	case CTL_TC_UNADOPTABLE:
		if (why->owner.pid)
			snprintf(ids, sizeof(ids), ", pid %d", why->owner.pid);
		snprintf(buf, len, "'%s' %s has a filter left by a ctlua that no longer runs "
			 "(program id %u%s%s%s) that cannot be adopted: %s '%s'; "
			 "ct.attach('%s', {orphans=\"remove\"}) or --orphans=remove "
			 "removes it", ifname, d, why->unadoptable, ids,
			 why->owner.pid ? ", " : "", why->owner.pid ? owner : "",
			 why->unadoptable_err ? "it cannot be read to compare with" :
			 "its program does not use the state pinned in",
			 pin_dir ? pin_dir : "", ifname);
		return;
	case CTL_TC_FOREIGN:
		snprintf(buf, len, "'%s' %s has a filter that is not ctlua's at ctlua's place "
			 "(pref %d handle 0x%x: %s); remove it or move it elsewhere",
			 ifname, d, CTL_TC_PRIORITY, CTL_TC_HANDLE, why->foreign);
		return;
	case CTL_TC_OTHER_HOOK:
		snprintf(buf, len, "'%s' %s is already attached by this ctlua at %s: one hook "
			 "decides an interface's flows; detach that link first", ifname, d,
			 why->foreign);
		return;
	case CTL_TC_XDP_LIVE:
		if (why->owner.pid == getpid())
			snprintf(buf, len, "'%s' %s is already attached by this ctlua; detach "
				 "that link first", ifname, d);
		else
			snprintf(buf, len, "'%s' %s is enforced by ctlua pid %d (%s)", ifname, d,
				 why->owner.pid, owner);
		return;
	case CTL_TC_XDP_FOREIGN:
		snprintf(buf, len, "'%s' already runs an XDP program that is not this link's "
			 "(%s); remove it first (ip link set dev %s xdp off)", ifname,
			 why->foreign, ifname);
		return;
	}
	if (err == -EOPNOTSUPP)
		snprintf(buf, len, "cannot attach to '%s' at xdp in native mode: its driver has "
			 "no XDP (xdp_mode=\"generic\" works on any device)", ifname);
	else if (err == -EPROTONOSUPPORT)
		snprintf(buf, len, "cannot attach to '%s' at xdp: it has no Ethernet header "
			 "(hook=\"tc\" parses it)", ifname);
	else if (err == -EPERM || err == -ENOTDIR)
		snprintf(buf, len, "cannot attach to '%s' %s: " CTL_OWNER_DIR " must be a "
			 "directory of this user's that no one else may enter", ifname, d);
	else
		snprintf(buf, len, "cannot attach to '%s' %s (%s)", ifname, d, strerror(-err));
}

/*
 * Refuse (raise) what hook="xdp" cannot do, and an xdp_mode without it. Returns 0.
 * takeover replaces a filter in one step at TC; the kernel lets no one replace an XDP
 * link, and the orphans options are about filters a dead ctlua left, which XDP never
 * leaves.
 */
static int check_hook(lua_State *L, int hook, int mode, int dir)
{
	if (hook == CTL_HOOK_TC && mode != CTL_XDP_AUTO)
		return luaL_argerror(L, 2, "xdp_mode goes with hook=\"xdp\"");
	if (hook == CTL_HOOK_TC)
		return 0;
	if (dir != CTLUA_DIR_INGRESS)
		return luaL_argerror(L, 2, "hook=\"xdp\" has no egress: XDP sees packets "
				     "arriving only");
	if (lua_getfield(L, 2, "takeover") != LUA_TNIL)
		return luaL_argerror(L, 2, "takeover does not work with hook=\"xdp\": the "
				     "kernel lets no one replace an XDP link");
	if (lua_getfield(L, 2, "orphans") != LUA_TNIL)
		return luaL_argerror(L, 2, "orphans does not apply to hook=\"xdp\": an XDP "
				     "link ends with the ctlua that made it");
	lua_pop(L, 2);
	return 0;
}

/* nil, message, errno for an attach that ctl_tc_attach refused with @why. */
static int refused(lua_State *L, struct ctl_state *s, int err, const char *ifname, int dir,
		   const struct ctl_tc_conflict *why)
{
	char msg[PATH_MAX + 512];

	ctl_link_refusal(msg, sizeof(msg), err, ifname, dir, why, ctl_dp_pin_dir(s->dp));
	return ctl_fail(L, err, "%s", msg);
}

/*
 * ct.attach(ifname [, {dir = "ingress"|"egress", wait = bool, takeover = bool,
 *                      orphans = "refuse"|"remove"|"adopt", hook = "tc"|"xdp",
 *                      xdp_mode = "native"|"generic"}]) -> link | nil, msg, errno
 */
static int l_attach(lua_State *L)
{
	const char *const *keys = ctl_keys_attach;
	struct ctl_state *s = ctl_state(L);
	const char *ifname = ctl_check_cstring(L, 1);
	struct ctl_tc_opts opts = *ctl_tc_defaults();
	struct ctl_tc_conflict why = { .why = CTL_TC_OK };
	struct ctl_link *l;
	int dir = CTLUA_DIR_INGRESS, hook = CTL_HOOK_TC, mode = CTL_XDP_AUTO, err, r, l3, fd = -1;
	bool wait = false, loading, pinned;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		ctl_check_keys(L, 2, 2, keys);
		dir = ctl_field_option(L, 2, 2, "dir", ctl_dir_names, CTLUA_DIR_INGRESS);
		wait = field_bool(L, 2, "wait", false);
		opts.takeover = field_bool(L, 2, "takeover", opts.takeover);
		opts.orphans = ctl_field_option(L, 2, 2, "orphans", ctl_orphans_names,
						opts.orphans);
		hook = ctl_field_option(L, 2, 2, "hook", ctl_hook_names, CTL_HOOK_TC);
		mode = ctl_field_option(L, 2, 2, "xdp_mode", ctl_xdp_mode_names, CTL_XDP_AUTO);
	}
	if ((err = check_hook(L, hook, mode, dir)))
		return err;
	pinned = s->dp ? ctl_dp_pin_dir(s->dp) != NULL : s->dp_opts.pin[0] != '\0';
	if (opts.orphans == CTL_ORPHANS_AUTO)	/* with pins, adopt what runs on them */
		opts.orphans = pinned ? CTL_ORPHANS_ADOPT : CTL_ORPHANS_REFUSE;
	if (opts.orphans == CTL_ORPHANS_ADOPT && !pinned && hook == CTL_HOOK_TC)
		return luaL_argerror(L, 2, "orphans=\"adopt\" needs pinned maps (--pin DIR or "
				     "ct.config{pin=DIR}): a filter is adopted with the state it "
				     "runs on");
	if (pinned && hook == CTL_HOOK_XDP)
		return luaL_argerror(L, 2, "hook=\"xdp\" does not work with pinned maps yet "
				     "(--pin, ct.config{pin=DIR}): an XDP link ends with the "
				     "ctlua that made it");
	if (strlen(ifname) >= IF_NAMESIZE)
		return luaL_argerror(L, 1, "interface names are at most 15 characters");
	r = s->dry ? 0 : ctl_ready(L, s);	/* ctlua check loads no datapath */
	if (r)
		return r;
	l = lua_newuserdatauv(L, sizeof(*l), 1);
	memset(l, 0, sizeof(*l));
	l->hook = hook;
	l->xdp_mode = mode;
	l->xdp.fd = l->xdp.rec.fd = -1;
	l->tc.dir = dir;	/* for ctl_link_prog_fd; ctl_stage_link sets the rest */
	luaL_setmetatable(L, CTL_LINK_MT);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setiuservalue(L, -2, 1);	/* the state outlives its links */
	if (s->staged) {	/* ctlua run and ctlua check: attached when the policy goes live */
		err = l3 = ctl_tc_is_l3(ifname);
		if (err == -ENODEV && wait)	/* it attaches when the interface appears */
			err = l3 = 0;
		if (err == -ENODEV && s->replay)	/* recorded elsewhere: not looked for */
			err = l3 = 0;
		if (err == -ENODEV && s->dry)	/* ctlua check: reported, and the check goes on */
			err = l3 = ctl_check_problem(L, s, "no interface named '%s'", ifname);
		if (err == -ENODEV)
			return ctl_fail(L, err, "no interface named '%s'", ifname);
		if (err < 0)
			return ctl_fail(L, err, "cannot read the device type of '%s' (%s)", ifname,
					strerror(-err));
		if (hook == CTL_HOOK_XDP && l3 > 0) {	/* what ctl_link_prog_fd refuses live */
			char msg[256];

			ctl_link_refusal(msg, sizeof(msg), -EPROTONOSUPPORT, ifname, dir,
					 &(struct ctl_tc_conflict){ .why = CTL_TC_OK }, NULL);
			return ctl_fail(L, EPROTONOSUPPORT, "%s", msg);
		}
		if (!s->dry && (fd = ctl_link_prog_fd(s, l, l3)) < 0)
			return ctl_fail(L, fd, "cannot load the %s program for '%s' (%s)",
					ctl_dir_names[dir], ifname, strerror(-fd));
		luaL_where(L, 1);	/* a refusal at the commit says where */
		snprintf(l->where, sizeof(l->where), "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		if ((err = ctl_owner_netns(&l->netns)))
			return ctl_fail(L, err, "cannot read ctlua's network namespace (%s)",
					strerror(-err));
		ctl_stage_link(s, l, ifname, dir, l3, &opts);
		l->wait = wait;
		anchor(L, -1, true);
		return 1;
	}
	if ((err = ctl_owner_netns(&l->netns)))
		return ctl_fail(L, err, "cannot read ctlua's network namespace (%s)",
				strerror(-err));
	/*
	 * The watch follows the namespace ctlua's thread is in now (it moves in a lab): links
	 * made in another one are not watched from here on (on_change).
	 */
	if (s->link_watch && s->link_watch_netns != l->netns) {
		ctl_link_watch_close(s->link_watch);	/* leaves the loop as it closes */
		s->link_watch = NULL;
		s->link_watch_looped = false;
	}
	if (!s->link_watch && (err = ctl_link_watch_open(&s->link_watch)))
		return ctl_fail(L, err, "cannot watch the interfaces (%s)", strerror(-err));
	s->link_watch_netns = l->netns;
	snprintf(l->tc.ifname, sizeof(l->tc.ifname), "%s", ifname);
	l->tc.dir = dir;
	l->opts = opts;
	err = attach_now(s, l, &loading, &why);
	if (loading)
		return ctl_fail(L, err, "cannot load the %s program for '%s' (%s)",
				ctl_dir_names[dir], ifname, strerror(-err));
	if (err == -ENODEV && !wait)
		return ctl_fail(L, err, "no interface named '%s'", ifname);
	if (err && err != -ENODEV)
		return refused(L, s, err, ifname, dir, &why);
	l->wait = wait;
	l->state = s;
	l->next = s->links;
	s->links = l;
	anchor(L, -1, true);
	return 1;
}

/* Queue what happened to @l for the 'link' callback, if it or a watch listens. */
static void queue_event(struct ctl_state *s, const struct ctl_link *l, int what, int err)
{
	struct ctl_link_event *e;

	if (s->cb_ref[CTL_ON_LINK] == LUA_NOREF && s->watch_ref == LUA_NOREF)
		return;
	if (s->link_events_n == CTL_LINK_EVENTS) {	/* the oldest goes */
		memmove(s->link_events, s->link_events + 1,
			(CTL_LINK_EVENTS - 1) * sizeof(s->link_events[0]));
		s->link_events_n--;
	}
	e = &s->link_events[s->link_events_n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->ifname, l->tc.ifname, sizeof(e->ifname));
	e->ifindex = l->tc.ifindex;
	e->dir = (__u8)l->tc.dir;
	e->what = (__u8)what;
	e->err = err;
	e->wait = l->wait;
	e->mono_ns = (__u64)ctl_now_ns(CLOCK_MONOTONIC);
}

static void read_changes(lua_State *L, struct ctl_state *s);

/*
 * Whether @l's filter is still on its hook, running the program it put there. A link
 * that lost it (another ctlua took over; the filter or the interface went away) lets
 * go of what it held: the detach removes nothing that is not its own. An error asking
 * the kernel counts as still attached. The link at @idx stops being kept alive.
 */
static bool still_attached(lua_State *L, int idx, struct ctl_link *l)
{
	if (!l->attached || ctl_link_check(l) != 0)
		return l->attached;
	if (!detach(l)) {
		l->lost = true;
		anchor(L, idx, false);
		if (l->state)
			queue_event(l->state, l, CTL_LINK_LOST, 0);
	}
	return l->attached;
}

/*
 * link:detach() -> true | nil, msg, errno; a detached link raises, as a closed file does,
 * except the first time after it lost its filter (link.attached said false).
 */
static int link_detach(lua_State *L)
{
	struct ctl_link *l = ctl_checkobject(L, 1, CTL_LINK_MT, sizeof(*l));
	int err;

	if (l->lost) {
		l->lost = false;
		lua_pushboolean(L, 1);
		return 1;
	}
	if (!l->attached && !l->wait && !l->staged)
		return luaL_error(L, "attempt to use a detached link (%s %s)", l->tc.ifname,
				  ctl_dir_names[l->tc.dir]);
	err = detach(l);
	if (!err)
		anchor(L, 1, false);
	if (err)
		return ctl_fail(L, err, "cannot detach from '%s' %s (%s)", l->tc.ifname,
				ctl_dir_names[l->tc.dir], strerror(-err));
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * An attached link is kept alive by the state, so it is collected only when the state
 * closes: the end of ctlua, which leaves the filter when the policy chose so.
 */
static int link_gc(lua_State *L)
{
	struct ctl_link *l = ctl_checkobject(L, 1, CTL_LINK_MT, sizeof(*l));

	if (l->attached && l->state->leave_enforcing && l->state->dp &&
	    ctl_dp_pin_dir(l->state->dp))
		leave(l);
	else
		detach(l);
	return 0;
}

/* A <close> variable going out of scope: detach, and stop keeping the link alive. */
static int link_close(lua_State *L)
{
	struct ctl_link *l = ctl_checkobject(L, 1, CTL_LINK_MT, sizeof(*l));

	if (!detach(l))
		anchor(L, 1, false);
	return 0;
}

static int link_tostring(lua_State *L)
{
	struct ctl_link *l = ctl_checkobject(L, 1, CTL_LINK_MT, sizeof(*l));

	lua_pushfstring(L, "link %s %s%s%s", l->tc.ifname, ctl_dir_names[l->tc.dir],
			l->hook == CTL_HOOK_XDP ? " at xdp" : "",
			l->attached ? "" : l->wait ? " (waiting)" : " (detached)");
	return 1;
}

const char *const ctl_link_fields[] = { "ifname", "ifindex", "dir", "attached", "detach",
					"layer", "hook", "xdp_mode", NULL };

static int link_index(lua_State *L)
{
	struct ctl_link *l = ctl_checkobject(L, 1, CTL_LINK_MT, sizeof(*l));

	switch (ctl_name_index(ctl_link_fields, ctl_check_cstring(L, 2))) {
	case 0:
		lua_pushstring(L, l->tc.ifname);
		break;
	case 1:
		lua_pushinteger(L, l->tc.ifindex);
		break;
	case 2:
		lua_pushstring(L, ctl_dir_names[l->tc.dir]);
		break;
	case 3:	/* the truth now: what the kernel said of the interfaces is taken first */
		if (l->state && !l->state->closed)
			read_changes(L, l->state);	/* the callback runs in the loop */
		lua_pushboolean(L, still_attached(L, 1, l));
		break;
	case 4:
		lua_pushcfunction(L, link_detach);
		break;
	case 5:	/* where the program starts to parse */
		lua_pushstring(L, l->tc.l3 ? "ip" : "ethernet");
		break;
	case 6:
		lua_pushstring(L, ctl_hook_names[l->hook]);
		break;
	case 7:	/* the mode the kernel took, once attached; nil at tc or before */
		if (l->hook == CTL_HOOK_XDP && l->attached)
			lua_pushstring(L, ctl_xdp_mode_names[l->xdp.mode]);
		else
			lua_pushnil(L);
		break;
	default:
		lua_pushnil(L);
	}
	return 1;
}

/* ---- interfaces that come and go ---- */

int ctl_links_watch(struct ctl_state *s, struct ctl_loop *loop)
{
	int err;

	if (!s->link_watch || s->link_watch_looped || !loop)
		return 0;
	err = ctl_loop_add(loop, ctl_link_watch_fd(s->link_watch), CTL_LINK_TAG);
	if (!err)
		s->link_watch_looped = true;
	return err;
}

/* Stop keeping @l alive (anchor, without its userdata at hand). Stack: balanced. */
static void unanchor(lua_State *L, const struct ctl_link *l)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &live_links_key);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_touserdata(L, -1) == l) {
			lua_pushnil(L);
			lua_rawset(L, -3);
			break;
		}
	}
	lua_pop(L, 1);
}

/* What ctl_links_changed hands to each notification. */
struct changes {
	lua_State *L;
	struct ctl_state *s;
};

/* @l's interface is gone, and with it the filter: say so, and wait or let go. */
static void lost(struct changes *c, struct ctl_link *l)
{
	ctl_log(CTL_LOG_WARNING, "'%s' was deleted: its %s link is lost%s", l->tc.ifname,
		ctl_dir_names[l->tc.dir],
		l->wait ? "; it attaches again when the interface is back" : "");
	queue_event(c->s, l, CTL_LINK_LOST, 0);
	ctl_link_drop(l);	/* the filter went with the interface: the record goes */
	l->tc.ifindex = 0;
	if (l->wait)
		return;
	l->lost = true;		/* its detach returns true once (api.md) */
	unlink_link(c->s, l);
	unanchor(c->L, l);
}

static void on_change(void *ctx, const struct ctl_link_change *ch)
{
	struct changes *c = ctx;
	struct ctl_link *l, *next;
	bool loading;
	int err;

	for (l = c->s->links; l; l = next) {
		next = l->next;
		if (l->netns != c->s->link_watch_netns)
			continue;	/* an index or name of another namespace */
		if (l->attached && l->tc.ifindex == ch->ifindex && ch->gone) {
			lost(c, l);
		} else if (!l->attached && l->wait && !ch->gone &&
			   !strcmp(l->tc.ifname, ch->ifname)) {
			struct ctl_tc_conflict why = { .why = CTL_TC_OK };
			char msg[PATH_MAX + 512];

			err = attach_now(c->s, l, &loading, &why);
			if (err && err != -ENODEV) {
				ctl_link_refusal(msg, sizeof(msg), err, l->tc.ifname, l->tc.dir,
						 &why, ctl_dp_pin_dir(c->s->dp));
				ctl_log(CTL_LOG_ERR, "%s", msg);
				queue_event(c->s, l, CTL_LINK_FAILED, err);
			} else if (!err) {
				queue_event(c->s, l, CTL_LINK_ATTACHED, 0);
			}
		}
	}
}

/*
 * After lost notifications, look again: an attached link whose name now names another
 * index (or none) lost its interface; a waiting one whose name exists attaches.
 */
static void resync(struct changes *c)
{
	struct ctl_link *l, *next;

	for (l = c->s->links; l; l = next) {
		struct ctl_link_change ch = { .ifname = l->tc.ifname };

		next = l->next;
		if (l->netns != c->s->link_watch_netns)
			continue;
		ch.ifindex = (int)if_nametoindex(l->tc.ifname);
		if (l->attached && ch.ifindex != l->tc.ifindex) {
			ch.gone = true;
			ch.ifindex = l->tc.ifindex;
		}
		if (ch.ifindex)
			on_change(c, &ch);
	}
}

/* Read the link notifications and act on them; what happened is queued (queue_event). */
static void read_changes(lua_State *L, struct ctl_state *s)
{
	struct changes c = { .L = L, .s = s };

	if (s->link_watch && ctl_link_watch_read(s->link_watch, on_change, &c) == -ENOBUFS)
		resync(&c);
}

void ctl_links_changed(lua_State *L, struct ctl_state *s)
{
	read_changes(L, s);
	ctl_links_deliver(L, s);
}

/* ---- the 'link' callback ---- */

static const char link_event_key = 'e';	/* the registry's metatable of link events */

/* tostring(ev): "link lost eth0 ingress (it waits for the interface)" */
static int link_event_tostring(lua_State *L)
{
	const char *what, *ifname, *dir, *errname;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "what");
	lua_getfield(L, 1, "ifname");
	lua_getfield(L, 1, "dir");
	lua_getfield(L, 1, "errname");
	what = luaL_optstring(L, 2, "?");
	ifname = luaL_optstring(L, 3, "?");
	dir = luaL_optstring(L, 4, "?");
	errname = luaL_optstring(L, 5, NULL);
	lua_getfield(L, 1, "wait");
	lua_pushfstring(L, "link %s %s %s%s%s%s", what, ifname, dir,
			errname ? " (" : lua_toboolean(L, 6) && !strcmp(what, "lost") ?
			" (it waits for the interface)" : "",
			errname ? errname : "", errname ? ")" : "");
	return 1;
}

/* Push @e as the table the 'link' callback receives. */
static void push_link_event(lua_State *L, const struct ctl_link_event *e)
{
	char name[32];

	lua_createtable(L, 0, 9);
	lua_pushliteral(L, "link");
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, ctl_link_event_names[e->what]);
	lua_setfield(L, -2, "what");
	lua_pushstring(L, e->ifname);
	lua_setfield(L, -2, "ifname");
	lua_pushinteger(L, e->ifindex);
	lua_setfield(L, -2, "ifindex");
	lua_pushstring(L, ctl_dir_names[e->dir]);
	lua_setfield(L, -2, "dir");
	lua_pushboolean(L, e->wait);
	lua_setfield(L, -2, "wait");
	/* the clock of ev.time and ct.now: monotonic, shifted to the wall clock once */
	lua_pushnumber(L, (lua_Number)((__s64)e->mono_ns + ctl_dp_clock_offset()) / 1e9);
	lua_setfield(L, -2, "time");
	lua_pushinteger(L, e->err);
	lua_setfield(L, -2, "err");
	if (e->err) {
		lua_pushstring(L, ctl_errno_name(-e->err, name, sizeof(name)));
		lua_setfield(L, -2, "errname");
	}
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &link_event_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, link_event_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &link_event_key);
	}
	lua_setmetatable(L, -2);
}

/*
 * Protected (ctl_callback_run's body): (struct ctl_callback *, callback or nil, event).
 * Shows the event on the watch, then runs the callback.
 */
static int link_body(lua_State *L)
{
	struct ctl_callback *cb = lua_touserdata(L, 1);
	const struct ctl_link_event *e = lua_touserdata(L, 3);

	push_link_event(L, e);					/* 4 */
	ctl_events_watch_value(L, cb->s, 4, e->mono_ns);
	if (lua_isnil(L, 2))
		return 0;
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 4);
	return ctl_callback_call(L, cb, 1, 0) ? 1 : 0;
}

void ctl_links_deliver(lua_State *L, struct ctl_state *s)
{
	unsigned int n = s->link_events_n;	/* what the callbacks queue waits a turn */
	bool entered;

	if (!n || s->closed)
		return;
	L = ctl_callbacks_enter(L, s, &entered);
	while (n-- && s->link_events_n && !s->closed && !ctl_signal_pending()) {
		struct ctl_callback cb = { .s = s, .label = "'link'", .phase = CTL_CB_SETUP };
		struct ctl_link_event e = s->link_events[0];

		if (s->cb_ref[CTL_ON_LINK] == LUA_NOREF && s->watch_ref == LUA_NOREF) {
			s->link_events_n = 0;	/* no one listens any more */
			break;
		}
		memmove(s->link_events, s->link_events + 1, --s->link_events_n * sizeof(e));
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[CTL_ON_LINK]);	/* or nil */
		lua_pushlightuserdata(L, &e);
		ctl_callback_run(L, &cb, link_body, 1);
	}
	ctl_callbacks_leave(s, entered);
}

void ctl_links_resync(lua_State *L, struct ctl_state *s)
{
	struct changes c = { .L = L, .s = s };

	if (s->link_watch)
		ctl_link_watch_read(s->link_watch, on_change, &c);
	resync(&c);
}

static const luaL_Reg link_meta[] = {
	{ "__index", link_index },
	{ "__gc", link_gc },
	{ "__close", link_close },
	{ "__tostring", link_tostring },
	{ NULL, NULL },
};

static const luaL_Reg link_funcs[] = {
	{ "attach", l_attach },
	{ NULL, NULL },
};

void ctl_open_link(lua_State *L)
{
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &live_links_key);
	luaL_newmetatable(L, CTL_LINK_MT);
	luaL_setfuncs(L, link_meta, 0);
	lua_pop(L, 1);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, link_funcs, 1);
}

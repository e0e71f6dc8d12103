// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_conntrack.c - ct.entries, ct.delete, ct.flush: the conntrack table read and pruned
 * over ctnetlink (dumped with libnetfilter_conntrack, deletions sent with libmnl), in
 * ctlua's network namespace or in one named by `ip netns`. They need CAP_NET_ADMIN but
 * not the BPF object: no ctl_ready here.
 *
 * Every kernel conversation runs in C with no Lua call in between, so nothing can raise
 * while a socket is open or the thread sits in another namespace; what Lua sees is
 * built afterwards.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include "addr.h"
#include "lua_ct.h"
#include "names.h"
#include "netns.h"
#include "nlreq.h"

/* The dumped entries ct.entries iterates over (a userdata; see struct ct_box). */
#define CTL_ENTRIES_MT	"ct.entries"

/*
 * A deletion: the entry's attributes as a dump gave them, a few hundred bytes; an error
 * answer quotes the request. nfct_nlmsg_build does not know the buffer's size, so this
 * is generous (MNL_SOCKET_BUFFER_SIZE's upper bound, as a constant).
 */
#define CT_MSG_SIZE	8192

/* ctlua's family numbers are the kernel's, so they pass to ctnetlink unchanged. */
_Static_assert(CTLUA_AF_INET == AF_INET && CTLUA_AF_INET6 == AF_INET6, "CTLUA_AF_* are AF_*");

/* What ct.entries and ct.flush select. Absent fields select everything. */
struct ct_filter {
	__be32 src[4], src_mask[4];	/* mask all zero: any address */
	__be32 dst[4], dst_mask[4];
	int family;			/* CTLUA_AF_*, or 0 for both */
	int proto;			/* -1: any */
	int sport, dport;		/* host order, -1: any */
	lua_Integer mark;		/* -1: any */
	int zone;			/* -1: any (ct.entries, ct.flush), the default (ct.delete) */
	const char *netns;		/* NULL: ctlua's own; owned by the Lua table */
};

static const char *const filter_keys[] = { "src", "dst", "sport", "dport", "proto", "family",
					   "mark", "zone", "netns", NULL };
static const char *const delete_keys[] = { "zone", "netns", NULL };

/* The attributes of one direction's tuple, so that both are read by the same code. */
static const struct tuple_attrs {
	enum nf_conntrack_attr l3, l4, src4, dst4, src6, dst6, sport, dport;
} dir_attrs[2] = {
	{ ATTR_ORIG_L3PROTO, ATTR_ORIG_L4PROTO, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST,
	  ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST, ATTR_ORIG_PORT_SRC, ATTR_ORIG_PORT_DST },
	{ ATTR_REPL_L3PROTO, ATTR_REPL_L4PROTO, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV4_DST,
	  ATTR_REPL_IPV6_SRC, ATTR_REPL_IPV6_DST, ATTR_REPL_PORT_SRC, ATTR_REPL_PORT_DST },
};

/* ---- the filter ------------------------------------------------------------------ */

/*
 * The table at @arg (none or nil: select everything) as a filter, raising on misuse
 * before anything is opened. @keys are the fields this function accepts; the others
 * are then absent, so reading all of them is harmless.
 */
static void check_filter(lua_State *L, int arg, const char *const keys[], struct ct_filter *f)
{
	lua_Integer n;
	int sfam, dfam, type;

	memset(f, 0, sizeof(*f));
	f->proto = f->sport = f->dport = f->zone = -1;
	f->mark = -1;
	if (lua_isnoneornil(L, arg))
		return;
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
	ctl_field_int(L, arg, arg, "mark", 0, 0xffffffff, &f->mark);
	if (ctl_field_int(L, arg, arg, "zone", 0, 65535, &n))
		f->zone = (int)n;
	f->netns = ctl_field_netns(L, arg, arg, "netns");
}

static bool in_prefix(const __be32 addr[4], const __be32 net[4], const __be32 mask[4])
{
	for (int i = 0; i < 4; i++)
		if ((addr[i] & mask[i]) != net[i])
			return false;
	return true;
}

/* Whether @e is selected; tuple fields are matched in the original direction. */
static bool filter_match(const struct ct_filter *f, const struct ctl_entry *e)
{
	const struct ctlua_flow *t = &e->tuple;

	return (!f->family || t->family == f->family) &&
	       (f->proto < 0 || t->proto == f->proto) &&
	       (f->sport < 0 || ntohs(t->sport) == f->sport) &&
	       (f->dport < 0 || ntohs(t->dport) == f->dport) &&
	       in_prefix(t->saddr, f->src, f->src_mask) &&
	       in_prefix(t->daddr, f->dst, f->dst_mask) &&
	       (f->mark < 0 || e->mark == (__u32)f->mark) &&
	       (f->zone < 0 || e->zone == f->zone);
}

/* ---- entries between libnetfilter_conntrack and ctlua ---------------------------- */

/* One direction of @ct into @fl. False for a family ctlua does not know. */
static bool read_flow(const struct nf_conntrack *ct, int dir, struct ctlua_flow *fl)
{
	const struct tuple_attrs *a = &dir_attrs[dir];
	const void *src, *dst;

	memset(fl, 0, sizeof(*fl));
	fl->family = nfct_get_attr_u8(ct, a->l3);
	if (fl->family == CTLUA_AF_INET) {
		fl->saddr[0] = nfct_get_attr_u32(ct, a->src4);
		fl->daddr[0] = nfct_get_attr_u32(ct, a->dst4);
	} else if (fl->family == CTLUA_AF_INET6) {
		src = nfct_get_attr(ct, a->src6);
		dst = nfct_get_attr(ct, a->dst6);
		if (!src || !dst)
			return false;
		memcpy(fl->saddr, src, sizeof(fl->saddr));
		memcpy(fl->daddr, dst, sizeof(fl->daddr));
	} else {
		return false;
	}
	fl->proto = nfct_get_attr_u8(ct, a->l4);
	/* ICMP and other protocols without ports carry none: they stay 0. */
	if (nfct_attr_is_set(ct, a->sport) > 0)
		fl->sport = nfct_get_attr_u16(ct, a->sport);
	if (nfct_attr_is_set(ct, a->dport) > 0)
		fl->dport = nfct_get_attr_u16(ct, a->dport);
	return true;
}

static bool read_entry(const struct nf_conntrack *ct, struct ctl_entry *e)
{
	__u64 ms = (__u64)nfct_get_attr_u32(ct, ATTR_TIMEOUT) * 1000;	/* ctnetlink: seconds */

	memset(e, 0, sizeof(*e));
	if (!read_flow(ct, 0, &e->tuple) || !read_flow(ct, 1, &e->reply))
		return false;
	e->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	e->mark = nfct_get_attr_u32(ct, ATTR_MARK);
	e->timeout_ms = ms > UINT32_MAX ? UINT32_MAX : (__u32)ms;
	/* a zone for one direction only comes inside that direction's tuple */
	if (nfct_attr_is_set(ct, ATTR_ZONE))
		e->zone = nfct_get_attr_u16(ct, ATTR_ZONE);
	else if (nfct_attr_is_set(ct, ATTR_ORIG_ZONE))
		e->zone = nfct_get_attr_u16(ct, ATTR_ORIG_ZONE);
	else if (nfct_attr_is_set(ct, ATTR_REPL_ZONE))
		e->zone = nfct_get_attr_u16(ct, ATTR_REPL_ZONE);
	return true;
}

/* The original tuple of @fl, as ctnetlink looks an entry up to delete it. */
static void set_flow(struct nf_conntrack *ct, const struct ctlua_flow *fl)
{
	const struct tuple_attrs *a = &dir_attrs[0];

	nfct_set_attr_u8(ct, a->l3, fl->family);
	if (fl->family == CTLUA_AF_INET) {
		nfct_set_attr_u32(ct, a->src4, fl->saddr[0]);
		nfct_set_attr_u32(ct, a->dst4, fl->daddr[0]);
	} else {
		nfct_set_attr(ct, a->src6, fl->saddr);
		nfct_set_attr(ct, a->dst6, fl->daddr);
	}
	nfct_set_attr_u8(ct, a->l4, fl->proto);
	nfct_set_attr_u16(ct, a->sport, fl->sport);
	nfct_set_attr_u16(ct, a->dport, fl->dport);
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
static int box_push(struct ct_box *b, const struct ctl_entry *e)
{
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
	box_free(luaL_checkudata(L, 1, CTL_ENTRIES_MT));
	return 0;
}

/* ---- talking to ctnetlink -------------------------------------------------------- */

/* Which step failed, for the message built once everything is closed again. */
enum ct_step {
	STEP_ENTER,		/* into the named namespace */
	STEP_OPEN,		/* a ctnetlink socket */
	STEP_DUMP,
	STEP_DELETE,
	STEP_MEMORY,		/* keeping the dumped entries */
};

/*
 * The sockets of one call, all created in the namespace the call names: a netlink
 * socket stays in the namespace it was created in, wherever the thread goes next.
 */
struct ct_socks {
	struct nfct_handle *dump;	/* ct.entries, ct.flush: libnetfilter_conntrack's */
	struct mnl_socket *del;		/* ct.delete, ct.flush: deletions we build ourselves */
	unsigned int seq;		/* of the last deletion sent */
};

static void close_socks(struct ct_socks *s)
{
	if (s->dump)
		nfct_close(s->dump);
	if (s->del)
		mnl_socket_close(s->del);
	s->dump = NULL;
	s->del = NULL;
}

/*
 * Open the sockets a call needs, in namespace @netns (ours when NULL): ctlua enters it
 * only to create them and comes straight back. 0, or -errno with *@step set and
 * nothing left open.
 */
static int open_socks(const char *netns, bool dump, bool del, struct ct_socks *s,
		      enum ct_step *step)
{
	int back = -1, err = 0;

	memset(s, 0, sizeof(*s));
	s->seq = (unsigned int)time(NULL);
	if (netns && (err = ctl_netns_enter(netns, &back))) {
		*step = STEP_ENTER;
		return err;
	}
	errno = 0;
	if (dump && !(s->dump = nfct_open(CONNTRACK, 0))) {
		err = errno ? -errno : -EIO;
	} else if (del) {
		s->del = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
		if (!s->del || mnl_socket_bind(s->del, 0, MNL_SOCKET_AUTOPID) < 0)
			err = -errno;
	}
	if (err)
		*step = STEP_OPEN;
	if (netns)
		ctl_netns_leave(back);	/* cannot fail: it stops the process first */
	if (err)
		close_socks(s);
	return err;
}

/*
 * Delete the entry with @ct's original tuple (and zone, if set) and wait for the
 * kernel's answer. With @id (host order, as a dump gave it) the kernel deletes the
 * entry only if it still has that id, so not a newer one that took the same tuple
 * since. libnetfilter_conntrack never sends the id (nfct_query's destroy leaves
 * CTA_ID out), which is why the message is built and sent here.
 * Returns 0 or -errno: -ENOENT when there is no such entry.
 */
static int delete_entry(struct ct_socks *s, const struct nf_conntrack *ct, const __u32 *id)
{
	char buf[CT_MSG_SIZE] = { 0 };	/* libmnl 1.0.4 leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = ++s->seq;
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	nfg->version = NFNETLINK_V0;
	if (nfct_nlmsg_build(nlh, ct) < 0)
		return errno ? -errno : -EINVAL;
	if (id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(*id));
	return ctl_nl_request(s->del, nlh, NULL, NULL);
}

/* One walk over the table: what is selected, and what happens to each match. */
struct ct_walk {
	const struct ct_filter *filter;
	struct ct_socks socks;
	struct ct_box *box;		/* ct.entries: matches are copied here; NULL: ct.flush */
	lua_Integer removed;		/* ct.flush: deletions the kernel confirmed */
	int err;			/* the first failure inside the callback, -errno */
	enum ct_step step;		/* where it happened */
};

/* The dump callback: keep or delete what the filter selects. */
static int on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct ct_walk *w = data;
	struct ctl_entry e;
	__u32 id;
	int err;

	(void)type;
	if (!read_entry(ct, &e) || !filter_match(w->filter, &e))
		return NFCT_CB_CONTINUE;
	if (!w->box) {
		/*
		 * ENOENT: the entry went away by itself (timed out, or was seen twice when
		 * the kernel restarted a hash bucket of the dump) or its tuple now belongs
		 * to a newer entry. Either way nothing was deleted, and nothing is counted.
		 */
		id = nfct_get_attr_u32(ct, ATTR_ID);
		err = delete_entry(&w->socks, ct, nfct_attr_is_set(ct, ATTR_ID) > 0 ? &id : NULL);
		if (!err)
			w->removed++;
		else if (err != -ENOENT) {
			w->err = err;
			w->step = STEP_DELETE;
			return NFCT_CB_STOP;
		}
		return NFCT_CB_CONTINUE;
	}
	if (box_push(w->box, &e)) {
		w->err = -ENOMEM;
		w->step = STEP_MEMORY;
		return NFCT_CB_STOP;
	}
	return NFCT_CB_CONTINUE;
}

/*
 * Dump the table of the filter's namespace and hand each entry to on_entry; ct.flush
 * deletes on a second socket while the first one dumps, as `conntrack -D` does.
 * Returns 0, or -errno with w->step set. Every socket is closed on return.
 */
static int walk(struct ct_walk *w)
{
	__u32 family = AF_UNSPEC;	/* both IPv4 and IPv6 in one dump */
	int err;

	if ((err = open_socks(w->filter->netns, true, !w->box, &w->socks, &w->step)))
		return err;
	if (nfct_callback_register(w->socks.dump, NFCT_T_ALL, on_entry, w) < 0) {
		err = -ENOMEM;
		w->step = STEP_MEMORY;
	} else if (nfct_query(w->socks.dump, NFCT_Q_DUMP, &family) < 0 && !w->err) {
		err = errno ? -errno : -EIO;
		w->step = STEP_DUMP;
	}
	if (w->err)
		err = w->err;	/* the callback stopped the dump, and says why */
	close_socks(&w->socks);
	return err;
}

/* Push nil, message, errno for a failed walk or delete of @fname; returns 3. */
static int walk_fail(lua_State *L, const char *fname, const struct ct_filter *f,
		     const struct ct_walk *w, int err)
{
	char where[300] = "";

	if (f->netns)
		snprintf(where, sizeof(where), " of namespace '%s'", f->netns);
	switch (w->step) {
	case STEP_ENTER:
		if (err == -ENOENT)
			return ctl_fail(L, err, CTL_NETNS_MISSING, f->netns);
		if (err == -EPERM)
			return ctl_fail(L, err, "%s needs the capability CAP_SYS_ADMIN to enter "
					"network namespace '%s' (run it as root)", fname, f->netns);
		return ctl_fail(L, err, "cannot enter network namespace '%s' (%s)", f->netns,
				strerror(-err));
	case STEP_OPEN:
		return ctl_fail(L, err, "cannot open a ctnetlink socket (%s)", strerror(-err));
	case STEP_MEMORY:
		if (!w->box)
			return ctl_fail(L, err, "not enough memory to dump the conntrack table%s",
					where);
		return ctl_fail(L, err, "not enough memory for the conntrack table%s (%zu entries "
				"kept)", where, w->box->n);
	case STEP_DUMP:
	case STEP_DELETE:
		break;
	}
	/* nfnetlink checks the capability per message, so EPERM comes with the dump. */
	if (err == -EPERM)
		return ctl_fail(L, err, "%s needs the capability CAP_NET_ADMIN (run it as root)",
				fname);
	if (w->step == STEP_DUMP)
		return ctl_fail(L, err, "cannot dump the conntrack table%s through ctnetlink (%s)",
				where, strerror(-err));
	return ctl_fail(L, err, "cannot delete an entry%s through ctnetlink after %lld were "
			"removed (%s)", where, (long long)w->removed, strerror(-err));
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
	struct ct_walk w = { 0 };
	struct ct_filter f;
	struct ct_box *b;
	int err;

	check_filter(L, 1, filter_keys, &f);
	b = lua_newuserdatauv(L, sizeof(*b), 0);
	memset(b, 0, sizeof(*b));
	b->alloc = lua_getallocf(L, &b->alloc_ud);
	luaL_setmetatable(L, CTL_ENTRIES_MT);
	w.filter = &f;
	w.box = b;
	if ((err = walk(&w)))
		return walk_fail(L, "ct.entries", &f, &w, err);	/* the box is collected */
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
	struct ct_walk w = { 0 };
	struct nf_conntrack *ct;
	struct ctlua_flow fl;
	struct ct_filter f;
	char buf[CTL_FLOW_STRLEN];
	int err;

	ctl_check_flow(L, 1, &fl);
	check_filter(L, 2, delete_keys, &f);
	w.filter = &f;
	if (!(ct = nfct_new()))
		return ctl_fail(L, ENOMEM, "cannot delete %s: out of memory",
				ctl_flow_format(&fl, buf));
	set_flow(ct, &fl);
	if (f.zone >= 0)
		nfct_set_attr_u16(ct, ATTR_ZONE, (__u16)f.zone);
	err = open_socks(f.netns, false, true, &w.socks, &w.step);
	if (!err) {
		if ((err = delete_entry(&w.socks, ct, NULL)))
			w.step = STEP_DELETE;
		close_socks(&w.socks);
	}
	nfct_destroy(ct);
	if (!err) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (w.step == STEP_DELETE && err == -ENOENT)
		return ctl_fail(L, err, "no conntrack entry for %s%s%s%s", ctl_flow_format(&fl, buf),
				f.netns ? " in namespace '" : "", f.netns ? f.netns : "",
				f.netns ? "'" : "");
	if (w.step == STEP_DELETE && err != -EPERM)
		return ctl_fail(L, err, "cannot delete %s through ctnetlink (%s)",
				ctl_flow_format(&fl, buf), strerror(-err));
	return walk_fail(L, "ct.delete", &f, &w, err);
}

/*
 * ct.flush([filter]) -> removed | nil, msg, errno
 * Deletes every entry the filter selects (all of them without one) and counts only
 * the deletions the kernel confirmed.
 */
static int l_flush(lua_State *L)
{
	struct ct_walk w = { 0 };
	struct ct_filter f;
	int err;

	check_filter(L, 1, filter_keys, &f);
	w.filter = &f;
	if ((err = walk(&w)))
		return walk_fail(L, "ct.flush", &f, &w, err);
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

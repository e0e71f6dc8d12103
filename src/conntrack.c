// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * conntrack.c - the conntrack table over ctnetlink: dumped with libnetfilter_conntrack,
 * deletions sent with libmnl, in ctlua's network namespace or in one named by
 * `ip netns`. No Lua here (lua_conntrack.c is the binding); they need CAP_NET_ADMIN
 * but not the BPF object.
 *
 * Every kernel conversation runs to its end with nothing of the caller's in between,
 * so nothing can raise while a socket is open or the thread sits in another namespace.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include "conntrack.h"
#include "netns.h"
#include "nlreq.h"

/*
 * A deletion: the entry's attributes as a dump gave them, a few hundred bytes; an error
 * answer quotes the request. nfct_nlmsg_build does not know the buffer's size, so this
 * is generous (MNL_SOCKET_BUFFER_SIZE's upper bound, as a constant).
 */
#define CT_MSG_SIZE	8192

/* ctlua's family numbers are the kernel's, so they pass to ctnetlink unchanged. */
_Static_assert(CTLUA_AF_INET == AF_INET && CTLUA_AF_INET6 == AF_INET6, "CTLUA_AF_* are AF_*");

/* The attributes of one direction's tuple, so that both are read by the same code. */
static const struct tuple_attrs {
	enum nf_conntrack_attr l3, l4, src4, dst4, src6, dst6, sport, dport;
} dir_attrs[2] = {
	{ ATTR_ORIG_L3PROTO, ATTR_ORIG_L4PROTO, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST,
	  ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST, ATTR_ORIG_PORT_SRC, ATTR_ORIG_PORT_DST },
	{ ATTR_REPL_L3PROTO, ATTR_REPL_L4PROTO, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV4_DST,
	  ATTR_REPL_IPV6_SRC, ATTR_REPL_IPV6_DST, ATTR_REPL_PORT_SRC, ATTR_REPL_PORT_DST },
};

void ctl_ct_filter_init(struct ctl_ct_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = f->sport = f->dport = f->zone = -1;
	f->mark = -1;
}

static bool in_prefix(const __be32 addr[4], const __be32 net[4], const __be32 mask[4])
{
	for (int i = 0; i < 4; i++)
		if ((addr[i] & mask[i]) != net[i])
			return false;
	return true;
}

/* Whether @e is selected; tuple fields are matched in the original direction. */
bool ctl_ct_filter_match(const struct ctl_ct_filter *f, const struct ctl_entry *e)
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

/* ---- entries between libnetfilter_conntrack and ctlua ----------------------------- */

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

/* ---- talking to ctnetlink -------------------------------------------------------- */

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
		      enum ctl_ct_step *step)
{
	int back = -1, err = 0;

	memset(s, 0, sizeof(*s));
	s->seq = (unsigned int)time(NULL);
	if (netns && (err = ctl_netns_enter(netns, &back))) {
		*step = CTL_CT_ENTER;
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
		*step = CTL_CT_OPEN;
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
/* One walk in progress: the caller's request, its sockets, the first failure. */
struct walk_run {
	struct ctl_ct_walk *w;
	struct ct_socks socks;
	int err;			/* -errno, with w->step set */
};

/* The dump callback: keep or delete what the filter selects. */
static int on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct walk_run *run = data;
	struct ctl_ct_walk *w = run->w;
	struct ctl_entry e;
	__u32 id;
	int err;

	(void)type;
	if (!read_entry(ct, &e) || !ctl_ct_filter_match(w->filter, &e))
		return NFCT_CB_CONTINUE;
	if (!w->keep) {
		/*
		 * ENOENT: the entry went away by itself (timed out, or was seen twice when
		 * the kernel restarted a hash bucket of the dump) or its tuple now belongs
		 * to a newer entry. Either way nothing was deleted, and nothing is counted.
		 */
		id = nfct_get_attr_u32(ct, ATTR_ID);
		err = delete_entry(&run->socks, ct, nfct_attr_is_set(ct, ATTR_ID) > 0 ? &id : NULL);
		if (!err)
			w->removed++;
		else if (err != -ENOENT) {
			run->err = err;
			w->step = CTL_CT_DELETE;
			return NFCT_CB_STOP;
		}
		return NFCT_CB_CONTINUE;
	}
	if ((err = w->keep(w->arg, &e))) {
		run->err = err;
		w->step = CTL_CT_MEMORY;
		return NFCT_CB_STOP;
	}
	return NFCT_CB_CONTINUE;
}

int ctl_ct_walk(struct ctl_ct_walk *w)
{
	__u32 family = AF_UNSPEC;	/* both IPv4 and IPv6 in one dump */
	struct walk_run run = { .w = w };
	int err;

	w->removed = 0;
	if ((err = open_socks(w->filter->netns, true, !w->keep, &run.socks, &w->step)))
		return err;
	if (nfct_callback_register(run.socks.dump, NFCT_T_ALL, on_entry, &run) < 0) {
		err = -ENOMEM;
		w->step = CTL_CT_MEMORY;
	} else if (nfct_query(run.socks.dump, NFCT_Q_DUMP, &family) < 0 && !run.err) {
		err = errno ? -errno : -EIO;
		w->step = CTL_CT_DUMP;
	}
	if (run.err)
		err = run.err;	/* the callback stopped the dump, and says why */
	close_socks(&run.socks);
	return err;
}

int ctl_ct_delete(const char *netns, const struct ctlua_flow *fl, int zone,
		  enum ctl_ct_step *step)
{
	struct nf_conntrack *ct;
	struct ct_socks socks;
	int err;

	if (!(ct = nfct_new())) {
		*step = CTL_CT_MEMORY;
		return -ENOMEM;
	}
	set_flow(ct, fl);
	if (zone >= 0)
		nfct_set_attr_u16(ct, ATTR_ZONE, (__u16)zone);
	err = open_socks(netns, false, true, &socks, step);
	if (!err) {
		if ((err = delete_entry(&socks, ct, NULL)))
			*step = CTL_CT_DELETE;
		close_socks(&socks);
	}
	nfct_destroy(ct);
	return err;
}

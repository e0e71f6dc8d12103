// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tc.c - ctlua's cls_bpf filters on clsact, attached through libbpf's netlink TC API at
 * a fixed priority and handle, and read back through a netlink dump of the hook. ctlua
 * removes on exit exactly what it added: the filter at its place if it still runs the
 * program ctlua put there, and the clsact qdisc only if a ctlua created it (owner.c's
 * marker) and no filter of anyone is left on it. What it added is recorded
 * process-wide, under a lock, so the watchdog thread can take it off when the Lua
 * thread is stuck.
 *
 * A record holds a descriptor of the namespace its filter is in: ctlua's thread can move
 * between namespaces (the lab, lab_net.c), and the watchdog's thread is wherever it was
 * started, while an ifindex means something only in its own namespace. Removing and
 * checking a filter happen in that namespace, entered for the moment if it is not the
 * caller's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/libbpf.h>
#include "ctlua.h"
#include "netns.h"
#include "nlreq.h"
#include "owner.h"
#include "pin.h"
#include "tc.h"

/* How long ctl_tc_remove_all, which must not hang at exit, waits for owner.h's lock. */
#define TC_LOCK_WAIT_WATCHDOG_MS 1000

const char *const ctl_orphans_names[] = { "refuse", "remove", "adopt", NULL };

static struct ctl_tc_opts defaults = { .takeover = false, .orphans = CTL_ORPHANS_AUTO };

void ctl_tc_set_defaults(const struct ctl_tc_opts *opts)
{
	defaults = *opts;
}

const struct ctl_tc_opts *ctl_tc_defaults(void)
{
	return &defaults;
}

/* One filter ctlua added, and the ownership record it holds for it. */
struct tc_record {
	__u64 serial;		/* the link's: links of one process may share a program */
	int ifindex;
	int dir;
	__u32 prog_id;
	__u64 netns;
	int nsfd;		/* that namespace, to act in it from another (-1: none) */
	struct ctl_owner_rec rec;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_record *reg;
static size_t nreg, reg_cap;
static __u64 last_serial;

/* Index of @link's record, or -1. Called with reg_lock held. */
static int find(const struct ctl_tc_link *link)
{
	for (size_t i = 0; i < nreg; i++)
		if (reg[i].serial == link->serial)
			return (int)i;
	return -1;
}

/*
 * Make room for one more record, before anything is attached: once the filter exists,
 * recording it must not fail. Called with reg_lock held. Returns 0 or -ENOMEM.
 */
static int reserve_record(void)
{
	size_t cap;
	struct tc_record *grown;

	if (nreg < reg_cap)
		return 0;
	cap = reg_cap ? reg_cap * 2 : 8;
	grown = realloc(reg, cap * sizeof(*reg));
	if (!grown)
		return -ENOMEM;
	reg = grown;
	reg_cap = cap;
	return 0;
}

/* Drop record @i, releasing its ownership record (@remove: its file too). reg_lock held. */
static void unrecord_at(size_t i, bool remove)
{
	ctl_owner_release(&reg[i].rec, remove);
	if (reg[i].nsfd >= 0)
		close(reg[i].nsfd);
	reg[i] = reg[--nreg];
}

void ctl_tc_forget(const struct ctl_tc_link *link)
{
	int i;

	pthread_mutex_lock(&reg_lock);
	if ((i = find(link)) >= 0)
		unrecord_at((size_t)i, false);
	pthread_mutex_unlock(&reg_lock);
}

/* One filter of a hook, as the kernel's dump shows it. */
struct tc_filter {
	__u32 priority, handle, prog_id;
	char kind[IFNAMSIZ];
	char name[64];		/* cls_bpf's name: "ctlua_ingress:[42]" as libbpf sets it */
};

/* What a dump of one hook found. */
struct hook_dump {
	int count;			/* every filter, anyone's */
	bool at_place;			/* a filter at ctlua's priority and handle: */
	struct tc_filter place;
	int nctlua;			/* ctlua's filters elsewhere (older versions, stacked) */
	struct tc_filter ctlua[CTL_TC_MAX_ORPHANS];
};

static bool is_ctlua(const struct tc_filter *f)
{
	return !strcmp(f->kind, "bpf") &&
	       !strncmp(f->name, CTL_TC_PROG_PREFIX, sizeof(CTL_TC_PROG_PREFIX) - 1);
}

static int bpf_attr(const struct nlattr *a, void *data)
{
	struct tc_filter *f = data;

	if (mnl_attr_get_type(a) == TCA_BPF_ID && !mnl_attr_validate(a, MNL_TYPE_U32))
		f->prog_id = mnl_attr_get_u32(a);
	else if (mnl_attr_get_type(a) == TCA_BPF_NAME && !mnl_attr_validate(a, MNL_TYPE_STRING))
		snprintf(f->name, sizeof(f->name), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int filter_attr(const struct nlattr *a, void *data)
{
	struct tc_filter *f = data;

	if (mnl_attr_get_type(a) == TCA_KIND && !mnl_attr_validate(a, MNL_TYPE_STRING))
		snprintf(f->kind, sizeof(f->kind), "%s", mnl_attr_get_str(a));
	else if (mnl_attr_get_type(a) == TCA_OPTIONS)
		mnl_attr_parse_nested(a, bpf_attr, f);
	return MNL_CB_OK;
}

static int dump_answer(const struct nlmsghdr *nlh, void *data)
{
	struct hook_dump *d = data;
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	struct tc_filter f = {};

	if (nlh->nlmsg_type != RTM_NEWTFILTER)
		return MNL_CB_OK;
	d->count++;
	if (!t->tcm_handle)
		return MNL_CB_OK;	/* the head of a priority's list, not a filter */
	f.priority = TC_H_MAJ(t->tcm_info) >> 16;
	f.handle = t->tcm_handle;
	mnl_attr_parse(nlh, sizeof(*t), filter_attr, &f);
	if (f.priority == CTL_TC_PRIORITY && f.handle == CTL_TC_HANDLE) {
		d->at_place = true;
		d->place = f;
	} else if (is_ctlua(&f) && d->nctlua < CTL_TC_MAX_ORPHANS) {
		d->ctlua[d->nctlua++] = f;
	}
	return MNL_CB_OK;
}

static __u32 parent_of(int dir)
{
	return TC_H_MAKE(TC_H_CLSACT, dir == CTLUA_DIR_EGRESS ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

/*
 * Dump the filters of @ifindex's hook in direction @dir (-1: both) into @d. No clsact
 * qdisc or no interface is an empty hook. Returns 0 or -errno.
 */
static int dump_hook(int ifindex, int dir, struct hook_dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int err = 0;

	memset(d, 0, sizeof(*d));
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto close;
	}
	for (int i = CTLUA_DIR_INGRESS; i <= CTLUA_DIR_EGRESS && !err; i++) {
		struct nlmsghdr *nlh;
		struct tcmsg *t;

		if (dir >= 0 && i != dir)
			continue;
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETTFILTER;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = (unsigned int)time(NULL) + (unsigned int)i;
		t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
		t->tcm_family = AF_UNSPEC;
		t->tcm_ifindex = ifindex;
		t->tcm_parent = parent_of(i);
		err = ctl_nl_request(nl, nlh, dump_answer, d);
		if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
			err = 0;	/* no qdisc, or no interface: nothing is on it */
	}
close:
	mnl_socket_close(nl);
	return err;
}

/* Remove the filter at @priority/@handle of a hook. Already gone is success. */
static int detach_filter(int ifindex, int dir, __u32 handle, __u32 priority)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
	int err;

	hook.attach_point = dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	err = bpf_tc_detach(&hook, &opts);
	return err == -ENODEV || err == -ENOENT || err == -EINVAL ? 0 : err;	/* gone under us */
}

/*
 * Remove the clsact qdisc of @ifindex if a ctlua created it and no filter of anyone is on
 * it, with its marker. Called with owner.h's lock held. Returns 0 or -errno.
 */
static int remove_qdisc(__u64 netns, int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    /* both points together name the clsact qdisc itself */
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct hook_dump d;
	int err;

	if (!ctl_owner_qdisc_ours(netns, ifindex))
		return 0;
	if ((err = dump_hook(ifindex, -1, &d)))
		return err;
	if (d.count)
		return 0;	/* someone's filter is on it: it stays, and stays ours to remove */
	err = bpf_tc_hook_destroy(&hook);
	if (err && err != -ENODEV && err != -ENOENT && err != -EINVAL)
		return err;
	return ctl_owner_qdisc_mark(netns, ifindex, false);
}

/*
 * Move the calling thread into the namespace of record @r unless it is there already;
 * *@back is -1 then, or the way back for ctl_netns_leave. Returns 0 or -errno: the
 * caller must not touch the ifindex of a record whose namespace it cannot reach.
 */
static int enter_record(const struct tc_record *r, int *back)
{
	__u64 here;
	int err;

	*back = -1;
	if ((err = ctl_owner_netns(&here)))
		return err;
	if (here == r->netns)
		return 0;
	if (r->nsfd < 0)
		return -ESTALE;
	*back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*back < 0)
		return -errno;
	if (setns(r->nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(*back);
		*back = -1;
		return err;
	}
	return 0;
}

static void leave_record(int back)
{
	if (back >= 0)
		ctl_netns_leave(back);
}

/*
 * Take record @i's filter off if it still runs its program, then let the ownership
 * record go, then remove the qdisc if it is ours and empty. reg_lock held. Returns 0 or
 * -errno: the record stays if the filter could not be removed, not if only the qdisc
 * could not.
 */
static int remove_at(size_t i)
{
	struct tc_record r = reg[i];
	struct hook_dump d;
	int back, err = enter_record(&r, &back);

	if (err)
		return err;
	err = dump_hook(r.ifindex, r.dir, &d);
	if (!err && d.at_place && d.place.prog_id == r.prog_id)
		err = detach_filter(r.ifindex, r.dir, CTL_TC_HANDLE, CTL_TC_PRIORITY);
	if (!err) {
		unrecord_at(i, true);	/* closes r.nsfd: the thread is in it already */
		err = remove_qdisc(r.netns, r.ifindex);
	}
	leave_record(back);
	return err;
}

int ctl_tc_is_l3(const char *ifname)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name) - 1);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	/* loopback frames carry an all-zero Ethernet header */
	return ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER &&
	       ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK;
}

/*
 * Decide from the hook's dump @d and the record's state (@seized: a living owner's)
 * whether the attach may go on, filling @why if not. *@replace: a filter of ctlua's is
 * at our place and is to be replaced in one step. Returns 0, -EBUSY or -EEXIST.
 */
static int judge(const struct hook_dump *d, bool seized, const struct ctl_tc_opts *opts,
		 bool *replace, struct ctl_tc_conflict *why)
{
	bool remove = opts->takeover || opts->orphans == CTL_ORPHANS_REMOVE;

	*replace = d->at_place;
	if (d->at_place && !is_ctlua(&d->place)) {
		why->why = CTL_TC_FOREIGN;
		snprintf(why->foreign, sizeof(why->foreign), "%s",
			 d->place.name[0] ? d->place.name : d->place.kind);
		return -EEXIST;
	}
	/* a living owner's filter is the one at our place; everything else is orphaned */
	if (d->at_place && !seized)
		why->orphan_ids[why->norphans++] = d->place.prog_id;
	for (int i = 0; i < d->nctlua && why->norphans < CTL_TC_MAX_ORPHANS; i++)
		why->orphan_ids[why->norphans++] = d->ctlua[i].prog_id;
	/* adopted: replaced as removed, once each is known to run on the pinned state */
	for (int i = 0; !remove && opts->orphans == CTL_ORPHANS_ADOPT && i < why->norphans; i++) {
		int r = ctl_pin_prog_uses(why->orphan_ids[i], opts->adopt_ids, opts->nadopt_ids);

		if (r != 1) {
			why->why = CTL_TC_UNADOPTABLE;
			why->unadoptable = why->orphan_ids[i];
			why->unadoptable_err = r < 0 ? r : 0;
			return -EEXIST;
		}
	}
	if (why->norphans && !remove && opts->orphans != CTL_ORPHANS_ADOPT) {
		why->why = CTL_TC_ORPHANS;
		return -EEXIST;
	}
	if (!remove && opts->orphans == CTL_ORPHANS_ADOPT)
		why->adopted = why->norphans;
	return 0;
}

int ctl_tc_attach(int prog_fd, const char *ifname, int dir, const struct ctl_tc_opts *opts,
		  struct ctl_tc_link *link, struct ctl_tc_conflict *why)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tco, .prog_fd = prog_fd, .handle = CTL_TC_HANDLE,
			    .priority = CTL_TC_PRIORITY);
	int ifindex = if_nametoindex(ifname);
	struct ctl_owner_rec rec = { .fd = -1 };
	char name[IF_NAMESIZE];
	struct hook_dump d;
	bool created = false, replace, seized;
	__u64 netns;
	int lock = -1, err;

	snprintf(name, sizeof(name), "%s", ifname);	/* @ifname may be link->ifname */
	memset(why, 0, sizeof(*why));
	if (!ifindex)
		return -ENODEV;
	if ((err = ctl_owner_netns(&netns)))
		return err;
	hook.ifindex = ifindex;
	hook.attach_point = dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	/* held until the filter is recorded: the watchdog must not miss one in between */
	pthread_mutex_lock(&reg_lock);
	if ((err = reserve_record()))
		goto unlock;
	/* and no other ctlua changes this host's tc while we look and decide */
	if ((err = lock = ctl_owner_lock(CTL_OWNER_LOCK_WAIT_MS)) < 0)
		goto unlock;
	err = ctl_owner_claim(netns, ifindex, dir, opts->takeover, &rec, &why->owner);
	if (err == -EBUSY)
		why->why = CTL_TC_LIVE;
	if (err < 0)
		goto unlock_tc;
	seized = err == 1;
	if ((err = dump_hook(ifindex, dir, &d)) ||
	    (err = judge(&d, seized, opts, &replace, why)))
		goto release;
	for (int i = 0; i < d.nctlua; i++)	/* orphans elsewhere on the hook go */
		if ((err = detach_filter(ifindex, dir, d.ctlua[i].handle, d.ctlua[i].priority)))
			goto release;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto release;
	created = !err;
	if (created && (err = ctl_owner_qdisc_mark(netns, ifindex, true)))
		goto release;
	/* over a living owner's or an orphan's filter: replaced, no packet sees neither */
	tco.flags = replace ? BPF_TC_F_REPLACE : 0;
	if ((err = bpf_tc_attach(&hook, &tco)))
		goto release;
	memcpy(link->ifname, name, sizeof(link->ifname));
	link->ifindex = ifindex;
	link->dir = dir;
	link->handle = CTL_TC_HANDLE;
	link->priority = CTL_TC_PRIORITY;
	link->prog_id = tco.prog_id;
	link->netns = netns;
	link->serial = ++last_serial;
	/* the filter is on: a failed write leaves a record that names no program, no worse */
	ctl_owner_write(&rec, ifname, dir, link->prog_id);
	/* taken over from a link of this process: it runs the same program, so only the
	 * process's record can tell it that it lost the hook */
	for (size_t i = nreg; seized && i-- > 0;)
		if (reg[i].netns == netns && reg[i].ifindex == ifindex && reg[i].dir == dir)
			unrecord_at(i, false);
	reg[nreg++] = (struct tc_record){ .serial = link->serial, .ifindex = ifindex,
					  .dir = dir, .netns = netns, .prog_id = link->prog_id,
					  .rec = rec, .nsfd = open("/proc/thread-self/ns/net",
								   O_RDONLY | O_CLOEXEC) };
	goto unlock_tc;
release:
	if (created)
		remove_qdisc(netns, ifindex);
	/* a dead owner's words stay for the next message; an empty record goes */
	ctl_owner_release(&rec, !why->owner.pid || seized);
unlock_tc:
	ctl_owner_unlock(lock);
unlock:
	pthread_mutex_unlock(&reg_lock);
	return err;
}

int ctl_tc_check(const struct ctl_tc_link *link)
{
	struct hook_dump d;
	int i, back, err;

	pthread_mutex_lock(&reg_lock);
	i = find(link);
	if (i < 0) {
		pthread_mutex_unlock(&reg_lock);
		return 0;	/* a link of this process took the hook over */
	}
	if (!(err = enter_record(&reg[i], &back))) {
		err = dump_hook(link->ifindex, link->dir, &d);
		leave_record(back);
	}
	pthread_mutex_unlock(&reg_lock);
	if (err)
		return err;
	return d.at_place && d.place.prog_id == link->prog_id;
}

int ctl_tc_detach(const struct ctl_tc_link *link)
{
	int i, lock, err = 0;

	pthread_mutex_lock(&reg_lock);
	i = find(link);
	if (i >= 0 && (err = lock = ctl_owner_lock(CTL_OWNER_LOCK_WAIT_MS)) >= 0) {
		err = remove_at((size_t)i);
		ctl_owner_unlock(lock);
	}
	pthread_mutex_unlock(&reg_lock);
	return err;
}

int ctl_tc_remove_all(void)
{
	struct timespec limit;
	int removed = 0, first_err = 0, err, lock;
	bool locked;

	/* the Lua thread holds the lock only briefly; if it is stuck holding it, go on */
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 1;
	locked = pthread_mutex_timedlock(&reg_lock, &limit) == 0;
	/* likewise another ctlua's tc change: without the lock, a qdisc check may race */
	lock = ctl_owner_lock(TC_LOCK_WAIT_WATCHDOG_MS);
	while (nreg) {
		size_t before = nreg;

		err = remove_at(nreg - 1);
		if (err && !first_err)
			first_err = err;
		if (nreg < before)
			removed++;
		else	/* the filter stays, an orphan now: its record says whose */
			unrecord_at(nreg - 1, false);
	}
	ctl_owner_unlock(lock);
	if (locked)
		pthread_mutex_unlock(&reg_lock);
	return first_err ? first_err : removed;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tc.c - cls_bpf filters on clsact through libbpf's netlink TC API. ctlua removes on
 * exit what it added: its filters, and the clsact qdisc only if it created it and no
 * filter is left on it. What it added is recorded process-wide, under a lock, so the
 * watchdog thread can take it off when the Lua thread is stuck.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/libbpf.h>
#include "ctlua.h"
#include "nlreq.h"
#include "tc.h"

/* One filter ctlua added. */
struct tc_record {
	int ifindex;
	int dir;
	__u32 handle;
	__u32 priority;
	bool owns_qdisc;	/* ctlua created clsact here; one record per interface says so */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_record *reg;
static size_t nreg, reg_cap;

/* Index of @link's record, or -1. Called with reg_lock held. */
static int find(const struct ctl_tc_link *link)
{
	for (size_t i = 0; i < nreg; i++)
		if (reg[i].ifindex == link->ifindex && reg[i].dir == link->dir &&
		    reg[i].handle == link->handle && reg[i].priority == link->priority)
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

/* Add @link's record, in the room reserve_record made. Called with reg_lock held. */
static void record(const struct ctl_tc_link *link, bool owns_qdisc)
{
	reg[nreg++] = (struct tc_record){ .ifindex = link->ifindex, .dir = link->dir,
					  .handle = link->handle, .priority = link->priority,
					  .owns_qdisc = owns_qdisc };
}

/*
 * Drop the record of @link. Returns whether the clsact qdisc is now ours to remove:
 * ctlua created it and no other filter of ours is on that interface (else the duty
 * passes to one that is).
 */
static bool unrecord(const struct ctl_tc_link *link)
{
	bool owns;
	int i;

	pthread_mutex_lock(&reg_lock);
	i = find(link);
	owns = i >= 0 && reg[i].owns_qdisc;
	if (i >= 0)
		reg[i] = reg[--nreg];
	for (size_t j = 0; owns && j < nreg; j++)
		if (reg[j].ifindex == link->ifindex) {
			reg[j].owns_qdisc = true;
			owns = false;
		}
	pthread_mutex_unlock(&reg_lock);
	return owns;
}

void ctl_tc_forget(const struct ctl_tc_link *link)
{
	unrecord(link);
}

static int count_answer(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)data)++;
	return MNL_CB_OK;
}

/* Whether clsact on @ifindex holds no filter at all: 1, 0, or -errno. */
static int hook_empty(int ifindex)
{
	static const __u32 parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int filters = 0, err = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto close;
	}
	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]) && !err; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct tcmsg *t;

		nlh->nlmsg_type = RTM_GETTFILTER;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = (unsigned int)time(NULL) + (unsigned int)i;
		t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
		t->tcm_family = AF_UNSPEC;
		t->tcm_ifindex = ifindex;
		t->tcm_parent = parents[i];
		err = ctl_nl_request(nl, nlh, count_answer, &filters);
	}
close:
	mnl_socket_close(nl);
	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 1;	/* no qdisc, or no interface: nothing is on it */
	return err ? err : filters == 0;
}

/* Remove the clsact qdisc of @ifindex if nothing is on it. Returns 0 or -errno. */
static int remove_qdisc(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    /* both points together name the clsact qdisc itself */
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int err = hook_empty(ifindex);

	if (err <= 0)
		return err;	/* someone else's filter is on it: it stays */
	err = bpf_tc_hook_destroy(&hook);
	return err == -ENODEV || err == -ENOENT || err == -EINVAL ? 0 : err;
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

int ctl_tc_attach(int prog_fd, const char *ifname, int dir, struct ctl_tc_link *link)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int ifindex = if_nametoindex(ifname);
	bool created;
	int err;

	if (!ifindex)
		return -ENODEV;
	memset(link, 0, sizeof(*link));
	hook.ifindex = ifindex;
	hook.attach_point = dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	/* held until the filter is recorded: the watchdog must not miss one in between */
	pthread_mutex_lock(&reg_lock);
	if ((err = reserve_record()))
		goto unlock;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto unlock;
	created = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (!err) {
		strncpy(link->ifname, ifname, sizeof(link->ifname) - 1);
		link->ifindex = ifindex;
		link->dir = dir;
		link->handle = opts.handle;
		link->priority = opts.priority;
		record(link, created);
	}
	if (err && created)
		remove_qdisc(ifindex);
unlock:
	pthread_mutex_unlock(&reg_lock);
	return err;
}

static int detach_filter(int ifindex, int dir, __u32 handle, __u32 priority)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
	int err;

	hook.attach_point = dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	err = bpf_tc_detach(&hook, &opts);
	return err == -ENODEV || err == -ENOENT ? 0 : err;	/* gone under us */
}

int ctl_tc_detach(const struct ctl_tc_link *link)
{
	int err = detach_filter(link->ifindex, link->dir, link->handle, link->priority);

	if (err)
		return err;
	return unrecord(link) ? remove_qdisc(link->ifindex) : 0;
}

int ctl_tc_remove_all(void)
{
	struct timespec limit;
	int removed = 0, first_err = 0, err;
	bool locked;

	/* the Lua thread holds the lock only briefly; if it is stuck holding it, go on */
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 1;
	locked = pthread_mutex_timedlock(&reg_lock, &limit) == 0;
	for (size_t i = 0; i < nreg; i++) {
		err = detach_filter(reg[i].ifindex, reg[i].dir, reg[i].handle, reg[i].priority);
		if (!err)
			removed++;
		else if (!first_err)
			first_err = err;
	}
	for (size_t i = 0; i < nreg; i++)
		if (reg[i].owns_qdisc && (err = remove_qdisc(reg[i].ifindex)) && !first_err)
			first_err = err;
	nreg = 0;
	if (locked)
		pthread_mutex_unlock(&reg_lock);
	return first_err ? first_err : removed;
}

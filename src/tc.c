// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tc.c - cls_bpf filters on clsact through libbpf's netlink TC API. ctlua removes on
 * exit what it added: its filters, and the clsact qdisc only if it created it (with
 * any filter someone else added to that qdisc meanwhile).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include "ctlua.h"
#include "tc.h"

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
	int err;

	if (!ifindex)
		return -ENODEV;
	memset(link, 0, sizeof(*link));
	hook.ifindex = ifindex;
	hook.attach_point = dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	link->owns_qdisc = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		if (link->owns_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		return err;
	}
	strncpy(link->ifname, ifname, sizeof(link->ifname) - 1);
	link->ifindex = ifindex;
	link->dir = dir;
	link->handle = opts.handle;
	link->priority = opts.priority;
	return 0;
}

int ctl_tc_detach(const struct ctl_tc_link *link, bool remove_qdisc)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = link->ifindex);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = link->handle,
			    .priority = link->priority);
	int err;

	hook.attach_point = link->dir == CTLUA_DIR_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	err = bpf_tc_detach(&hook, &opts);
	if ((!err || err == -ENOENT) && remove_qdisc) {
		/* Both points together name the clsact qdisc itself. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
	}
	if (err == -ENODEV || err == -ENOENT)
		return 0;	/* the interface or the filter went away under us */
	return err;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xdp.c - ctlua's program at an interface's XDP hook, as a bpf_link this process holds
 * (xdp.h). A link rather than a program set by netlink: the kernel takes it off when
 * the last descriptor closes, so a ctlua that dies leaves no XDP program behind, and no
 * other program (ip link set ... xdp) can replace it while it is there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctlua.h"
#include "xdp.h"

const char *const ctl_hook_names[] = { "tc", "xdp", NULL };
const char *const ctl_xdp_mode_names[] = { "native", "generic", NULL };

/* Link @prog_fd to @ifindex's XDP hook in @mode; returns the link's fd or -errno. */
static int link_in(int prog_fd, int ifindex, int mode)
{
	DECLARE_LIBBPF_OPTS(bpf_link_create_opts, o,
			    .flags = mode == CTL_XDP_NATIVE ? XDP_FLAGS_DRV_MODE
							    : XDP_FLAGS_SKB_MODE);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &o);

	return fd < 0 ? -errno : fd;
}

/*
 * The XDP program already on @ifindex, for the refusal: "NAME (id N)" into why->foreign.
 * Returns -EBUSY if there is one, else @err (the kernel refused for another reason).
 */
static int foreign(int ifindex, int err, struct ctl_tc_conflict *why)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q))
		return err;
	id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (!id)
		return err;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) && info.name[0])
		snprintf(why->foreign, sizeof(why->foreign), "%s, id %u", info.name, id);
	else
		snprintf(why->foreign, sizeof(why->foreign), "id %u", id);
	if (fd >= 0)
		close(fd);
	why->why = CTL_TC_XDP_FOREIGN;
	return -EBUSY;
}

int ctl_xdp_attach(int prog_fd, const char *ifname, int mode, struct ctl_tc_link *where,
		   struct ctl_xdp_link *x, struct ctl_tc_conflict *why)
{
	int ifindex = (int)if_nametoindex(ifname), used = mode, fd = -1, lock, err;
	struct ctl_owner_rec rec = { .fd = -1 };
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char name[IF_NAMESIZE];
	__u64 netns;

	snprintf(name, sizeof(name), "%s", ifname);	/* @ifname may be where->ifname */
	memset(why, 0, sizeof(*why));
	if (!ifindex)
		return -ENODEV;
	if ((err = ctl_owner_netns(&netns)))
		return err;
	if ((err = lock = ctl_owner_lock(CTL_OWNER_LOCK_WAIT_MS)) < 0)
		return err;
	/* the ingress record, which a TC filter there would hold too */
	err = ctl_owner_claim(netns, ifindex, CTLUA_DIR_INGRESS, false, &rec, &why->owner);
	if (err == -EBUSY)
		why->why = CTL_TC_XDP_LIVE;
	if (err < 0)
		goto unlock;
	if (mode == CTL_XDP_AUTO) {
		used = CTL_XDP_NATIVE;
		fd = link_in(prog_fd, ifindex, used);
		if (fd == -EOPNOTSUPP)	/* the driver has no XDP: the kernel's, after it */
			fd = link_in(prog_fd, ifindex, used = CTL_XDP_GENERIC);
	} else {
		fd = link_in(prog_fd, ifindex, mode);
	}
	if (fd < 0) {
		err = fd == -EBUSY || fd == -EEXIST ? foreign(ifindex, fd, why) : fd;
		goto release;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (err) {
		close(fd);
		goto release;
	}
	ctl_owner_write(&rec, name, CTLUA_DIR_INGRESS, info.prog_id);
	memset(where, 0, sizeof(*where));
	memcpy(where->ifname, name, sizeof(where->ifname));
	where->ifindex = ifindex;
	where->dir = CTLUA_DIR_INGRESS;
	where->prog_id = info.prog_id;
	where->netns = netns;
	x->fd = fd;
	x->mode = used;
	x->rec = rec;
	goto unlock;
release:
	/* a dead owner's words stay for the next message; an empty record goes */
	ctl_owner_release(&rec, !why->owner.pid);
unlock:
	ctl_owner_unlock(lock);
	return err;
}

int ctl_xdp_check(const struct ctl_xdp_link *x)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (x->fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(x->fd, &info, &len))
		return -errno;
	return info.xdp.ifindex != 0;	/* 0: the interface went, and the link with it */
}

int ctl_xdp_detach(struct ctl_xdp_link *x)
{
	if (x->fd >= 0)
		close(x->fd);	/* the last descriptor: the kernel takes the program off */
	x->fd = -1;
	ctl_owner_release(&x->rec, true);
	return 0;
}

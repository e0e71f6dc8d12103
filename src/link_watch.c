// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_watch.c - interfaces that come and go: a netlink socket subscribed to the
 * kernel's link notifications, read without blocking, each message turned into "this
 * index now has this name" or "this index is gone".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "link_watch.h"

struct ctl_link_watch {
	struct mnl_socket *nl;
	/* a notification is one message of well under a page; a read takes what fits */
	char buf[8192];
};

int ctl_link_watch_open(struct ctl_link_watch **out)
{
	struct ctl_link_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		err = -errno;
		free(w);
		return err;
	}
	if (mnl_socket_bind(w->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		ctl_link_watch_close(w);
		return err;
	}
	*out = w;
	return 0;
}

void ctl_link_watch_close(struct ctl_link_watch *w)
{
	if (!w)
		return;
	mnl_socket_close(w->nl);
	free(w);
}

int ctl_link_watch_fd(const struct ctl_link_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

/* What one read hands on. */
struct reader {
	void (*fn)(void *ctx, const struct ctl_link_change *c);
	void *ctx;
	int n;
};

static int on_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **name = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = a;
	return MNL_CB_OK;
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	const struct ifinfomsg *ifm;
	const struct nlattr *name = NULL;
	struct ctl_link_change c;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;	/* too short to say which interface: not ours to judge */
	ifm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifm), on_attr, &name);
	c.gone = nlh->nlmsg_type == RTM_DELLINK;
	c.ifindex = ifm->ifi_index;
	c.ifname = name ? mnl_attr_get_str(name) : "";
	r->fn(r->ctx, &c);
	r->n++;
	return MNL_CB_OK;
}

int ctl_link_watch_read(struct ctl_link_watch *w,
			void (*fn)(void *ctx, const struct ctl_link_change *c), void *ctx)
{
	struct reader r = { .fn = fn, .ctx = ctx };
	ssize_t len;

	for (;;) {
		len = mnl_socket_recvfrom(w->nl, w->buf, sizeof(w->buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return r.n;
			return -errno;	/* ENOBUFS: the kernel dropped some */
		}
		/* notifications carry sequence 0 and port 0: neither is checked */
		if (mnl_cb_run(w->buf, (size_t)len, 0, 0, on_msg, &r) < 0 && errno != EINTR)
			return -errno;
	}
}

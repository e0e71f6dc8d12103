/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nlreq.h - one netlink request and its acknowledgement, over libmnl. */
#ifndef CTLUA_NLREQ_H
#define CTLUA_NLREQ_H

#include <libmnl/libmnl.h>

/*
 * Send @nlh (flags should include NLM_F_ACK) on @nl and read until the kernel's
 * acknowledgement for its sequence number, handing each answer to @cb (may be NULL).
 * Returns 0, or -errno: the kernel's refusal or a socket error.
 */
int ctl_nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif

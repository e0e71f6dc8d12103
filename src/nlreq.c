// SPDX-License-Identifier: GPL-2.0-or-later
/* nlreq.c - one netlink request and its acknowledgement, over libmnl. */
#include <errno.h>
#include "nlreq.h"

int ctl_nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {	/* answers first, if any; then the acknowledgement ends it */
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
	} while (ret == MNL_CB_OK);
	return ret < 0 ? -errno : 0;
}

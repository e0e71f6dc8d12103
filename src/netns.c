// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netns.c - network namespaces by the names `ip netns` gives them: entering one for a
 * moment, and the peer id (nsid) it has as seen from ours, asked of rtnetlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include "netns.h"
#include "nlreq.h"

/* Where `ip netns add` bind-mounts a namespace, so that it outlives its processes. */
#define NETNS_RUN_DIR	"/run/netns"

/*
 * An nsid request and its answer are a few dozen bytes; an error answer quotes the
 * request. MNL_SOCKET_BUFFER_SIZE is a run-time expression (the page size, at most
 * 8192), so its upper bound is spelt out to keep the buffer a plain array.
 */
#define NSID_BUF_SIZE	8192

/*
 * Open /run/netns/@name. The name becomes a path, so one that is empty, "." or "..",
 * or holds a '/', could name something other than a namespace: -EINVAL.
 * Returns the descriptor (close-on-exec) or -errno.
 */
bool ctl_netns_name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int open_named(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!ctl_netns_name_ok(name))
		return -EINVAL;
	if (snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* RTM_NEWNSID answer to RTM_GETNSID: store its NETNSA_NSID in *(int *)@data. */
static int nsid_answer(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg))
		if (mnl_attr_get_type(a) == NETNSA_NSID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*(int *)data = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/*
 * One rtnetlink request about the namespace open at @fd, answered before it returns:
 * RTM_GETNSID stores the peer id in *@nsid (NETNSA_NSID_NOT_ASSIGNED when it has none);
 * RTM_NEWNSID with NETNSA_NSID -1 asks the kernel to pick a free id, and is answered
 * by the acknowledgement alone (*@nsid stays as it was). NLM_F_ACK on both, so the end of the answer is known.
 * Returns 0 or -errno (the kernel's, from its error message).
 */
static int nsid_request(struct mnl_socket *nl, __u16 type, unsigned int seq, int fd, int *nsid)
{
	char buf[NSID_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *gen;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	gen = mnl_nlmsg_put_extra_header(nlh, sizeof(*gen));
	gen->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (__u32)fd);
	if (type == RTM_NEWNSID)
		mnl_attr_put_u32(nlh, NETNSA_NSID, (__u32)NETNSA_NSID_NOT_ASSIGNED);
	return ctl_nl_request(nl, nlh, nsid_answer, nsid);
}

int ctl_netns_nsid(const char *name)
{
	unsigned int seq = (unsigned int)time(NULL);
	int fd, nsid = NETNSA_NSID_NOT_ASSIGNED, err;
	struct mnl_socket *nl;

	fd = open_named(name);
	if (fd < 0)
		return fd;
	/* The socket's namespace is the "ours" the peer id is relative to. */
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		err = -errno;
		goto close_fd;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto close_socket;
	}
	err = nsid_request(nl, RTM_GETNSID, seq, fd, &nsid);
	if (!err && nsid == NETNSA_NSID_NOT_ASSIGNED) {
		/*
		 * As `ip netns set NAME auto`. EEXIST means someone assigned one since we
		 * asked: that one is as good, so ask again either way.
		 */
		err = nsid_request(nl, RTM_NEWNSID, seq + 1, fd, &nsid);
		if (!err || err == -EEXIST)
			err = nsid_request(nl, RTM_GETNSID, seq + 2, fd, &nsid);
		/* Assigned and acknowledged, yet still unset: nothing more to try. */
		if (!err && nsid < 0)
			err = -EIO;
	}
close_socket:
	mnl_socket_close(nl);
close_fd:
	close(fd);
	return err ? err : nsid;
}

int ctl_netns_enter(const char *name, int *back)
{
	int target, self, err;

	target = open_named(name);
	if (target < 0)
		return target;
	/*
	 * setns moves the calling thread only, so the way back is this thread's namespace;
	 * /proc/self would name the main thread's, which differs inside a threaded host of
	 * ct.so.
	 */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		goto close_target;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		err = -errno;
		goto close_self;
	}
	close(target);
	*back = self;
	return 0;

close_self:
	close(self);
close_target:
	close(target);
	return err;
}

void ctl_netns_leave(int back)
{
	/*
	 * Cannot fail short of a kernel bug (we were there a moment ago); if it does, every
	 * later call would act on the wrong namespace's table and interfaces. Stop.
	 */
	if (setns(back, CLONE_NEWNET) < 0) {
		fprintf(stderr, "ctlua: cannot return to the original network namespace (%s); "
			"stopping rather than act in the wrong one\n", strerror(errno));
		abort();
	}
	close(back);
}

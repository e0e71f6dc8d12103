// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * link_watch.c - src/link_watch.c against the kernel (root, in a namespace of its own:
 * tests/60-link-watch.t runs `unit_tests link-watch`): a veth pair created, deleted and
 * created again under the watch is reported as new, gone and new, with its name and
 * index, and nothing waits once the notifications are read.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "../../src/link_watch.h"
#include "tap.h"

#define MAX_SEEN	16

struct seen {
	int n;
	struct {
		bool gone;
		int ifindex;
		char ifname[IF_NAMESIZE];
	} c[MAX_SEEN];
};

static void on_change(void *ctx, const struct ctl_link_change *c)
{
	struct seen *s = ctx;

	if (s->n == MAX_SEEN)
		return;
	s->c[s->n].gone = c->gone;
	s->c[s->n].ifindex = c->ifindex;
	snprintf(s->c[s->n].ifname, IF_NAMESIZE, "%s", c->ifname);
	s->n++;
}

/* Run @cmd, then read what the watch has; returns the number read or -errno. */
static int step(struct ctl_link_watch *w, const char *cmd, struct seen *s)
{
	struct pollfd p = { .fd = ctl_link_watch_fd(w), .events = POLLIN };

	memset(s, 0, sizeof(*s));
	if (system(cmd)) {
		diag("'%s' failed", cmd);
		return -1;
	}
	poll(&p, 1, 1000);	/* rtnetlink sends before the command returns: no wait */
	return ctl_link_watch_read(w, on_change, s);
}

/* The last change @s holds for @name: its index if it exists, -1 if gone, 0 if none. */
static int last_of(const struct seen *s, const char *name, int *ifindex)
{
	int state = 0;

	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].ifname, name)) {
			state = s->c[i].gone ? -1 : 1;
			*ifindex = s->c[i].ifindex;
		}
	return state;
}

int test_link_watch_kernel(void)
{
	struct ctl_link_watch *w;
	struct seen s;
	int err, state, first = 0, idx = 0, again = 0;

	err = ctl_link_watch_open(&w);
	if (!ok(!err, "link-watch: the netlink socket opens and subscribes")) {
		diag("%s", strerror(-err));
		return 1;
	}
	ok(ctl_link_watch_read(w, on_change, &s) == 0, "link-watch: nothing waits at first");
	err = step(w, "ip link add ctlw-a type veth peer name ctlw-b", &s);
	ok(err >= 2, "link-watch: creating a veth pair is reported (%d notifications)", err);
	state = last_of(&s, "ctlw-a", &first);
	ok(state == 1 && first > 0 && first == (int)if_nametoindex("ctlw-a"),
	   "link-watch: ctlw-a is new, with the index the kernel gave it (%d)", first);
	ok(ctl_link_watch_read(w, on_change, &s) == 0, "link-watch: a second read finds nothing");
	err = step(w, "ip link set ctlw-a up", &s);
	ok(err >= 1 && last_of(&s, "ctlw-a", &idx) == 1 && idx == first,
	   "link-watch: a change of state reads as 'exists', same index");
	err = step(w, "ip link del ctlw-a", &s);
	ok(err >= 1 && last_of(&s, "ctlw-a", &idx) == -1 && idx == first,
	   "link-watch: deleting it is reported as gone, with its index");
	ok(last_of(&s, "ctlw-b", &idx) == -1, "link-watch: and its peer too");
	err = step(w, "ip link add ctlw-a type veth peer name ctlw-b", &s);
	state = last_of(&s, "ctlw-a", &again);
	ok(err >= 2 && state == 1 && again != first && again == (int)if_nametoindex("ctlw-a"),
	   "link-watch: created again, it is new under another index (%d, was %d)", again, first);
	step(w, "ip link del ctlw-a", &s);
	ctl_link_watch_close(w);
	return 0;
}

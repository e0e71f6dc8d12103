/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testrun.h - what the decision's test runs (rules_testrun.c, sets_testrun.c) share:
 * ctlua's object loaded as the host loads it, in mode observe with events off and
 * default @dflt, so that a run is parse, a conntrack lookup that misses and the
 * decision; tuple 0 of bench/progs/flowgen.h from 198.18.0.1 as the frame; one timed
 * run of REPEAT repeats; the median of the rounds.
 */
#ifndef CTLB_TESTRUN_H
#define CTLB_TESTRUN_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include "datapath.h"
#include "pkt_frame.h"

struct testrun {
	struct ctl_dp *dp;
	struct ctl_dp_policy pol;	/* its rules are the caller's to set */
	int fd;				/* ctlua_ingress */
	uint8_t frame[PKT_FRAME_LEN];
};

/* Load the datapath into @t; 0, or 1 with the reason on stderr after "@who: ". */
static inline int testrun_open(struct testrun *t, __u8 dflt, const char *who)
{
	static const uint8_t dst_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t src_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct flowgen g = flowgen_at(0xc6120001u, 0);	/* 198.18.0.1 */
	char msg[256];

	if (ctl_dp_open(&t->dp, NULL, msg, sizeof(msg))) {
		fprintf(stderr, "%s: %s\n", who, msg);
		return 1;
	}
	ctl_dp_policy(t->dp, &t->pol);
	t->pol.mode = CTLUA_MODE_OBSERVE;
	t->pol.event_mask = 0;
	t->pol.dflt.action = dflt;
	if (ctl_dp_put_policy(t->dp, &t->pol)) {
		fprintf(stderr, "%s: cannot write the config\n", who);
		return 1;
	}
	t->fd = ctl_dp_prog_fd(t->dp, CTLUA_DIR_INGRESS, false);
	pkt_frame_build(t->frame, dst_mac, src_mac, &g);
	return 0;
}

/* Write @t's policy, then run the frame @repeat times: the kernel's average in *@ns. */
static inline int testrun_once(struct testrun *t, int repeat, __u32 *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = t->frame, .data_size_in = PKT_FRAME_LEN,
		    .repeat = (__u32)repeat);
	int err = ctl_dp_put_policy(t->dp, &t->pol);

	if (!err)
		err = bpf_prog_test_run_opts(t->fd, &o);
	*ns = o.duration;
	return err;
}

static inline int testrun_cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Sort @ns's @n rounds; their median. */
static inline __u32 testrun_median(__u32 *ns, int n)
{
	qsort(ns, (size_t)n, sizeof(ns[0]), testrun_cmp_u32);
	return ns[n / 2];
}

#endif

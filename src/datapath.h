/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * datapath.h - the loaded BPF object and its maps, seen from the host.
 * Every function returns 0 or -errno, as libbpf does, unless it says otherwise.
 */
#ifndef CTLUA_DATAPATH_H
#define CTLUA_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_dp;

/* With @on, libbpf's informational messages and the verifier log go to stderr. */
void ctl_dp_set_verbose(bool on);

/*
 * Check the kernel (ctl_probe), load and verify the BPF object, check its ABI and write
 * the initial config (mode enforce, default pass, every event kind on). On failure
 * writes one sentence to @msg and returns -errno; *@out is set only on success.
 */
int ctl_dp_open(struct ctl_dp **out, char *msg, size_t len);
void ctl_dp_close(struct ctl_dp *dp);

/* The config as last written; change a copy and hand it to ctl_dp_set_config. */
const struct ctlua_config *ctl_dp_config(const struct ctl_dp *dp);
int ctl_dp_set_config(struct ctl_dp *dp, const struct ctlua_config *cfg);

int ctl_dp_put_verdict(struct ctl_dp *dp, const struct ctlua_flow *f, const struct ctlua_verdict *v);
/* -ENOENT when the flow had no verdict. */
int ctl_dp_del_verdict(struct ctl_dp *dp, const struct ctlua_flow *f);

/* Write @n rules (evaluation order) to the idle table slot, then make it live. */
int ctl_dp_put_rules(struct ctl_dp *dp, const struct ctlua_rule *rules, unsigned int n);

/* Sum the per-CPU counters into @sum. */
int ctl_dp_stats(struct ctl_dp *dp, struct ctlua_stats *sum);

/*
 * Direct requests: fill ctl_dp_requests(dp)[0..n) (at most CTLUA_MAX_REQUESTS), then
 * ctl_dp_run_requests runs them all in one BPF_PROG_TEST_RUN, in the calling task's
 * netns, with the params last set, and leaves each result in its slot.
 */
struct ctlua_request *ctl_dp_requests(struct ctl_dp *dp);
int ctl_dp_run_requests(struct ctl_dp *dp, unsigned int n);

/* The plain kfunc call: netns -1, the flow's protocol, 12-byte opts, no NAT. */
void ctl_req_params_default(struct ctlua_req_params *p);
/* What the following runs share (NULL: the default, which ctl_dp_open sets). */
void ctl_dp_set_params(struct ctl_dp *dp, const struct ctlua_req_params *p);

/*
 * One request, op (enum ctlua_req_op) on @f with @o and @p (NULL: none, the default),
 * run at once; the result, kernel error included, is copied to @out. The params go
 * back to the default afterwards. Returns 0 or -errno of the run.
 */
int ctl_dp_request(struct ctl_dp *dp, int op, const struct ctlua_flow *f,
		   const struct ctlua_opts *o, const struct ctlua_req_params *p,
		   struct ctlua_request *out);

/*
 * Program fd for a direction (enum ctlua_dir) on a device with an Ethernet header, or
 * (@l3) one whose packets start at the IP header; and the ring buffer's map fd.
 */
int ctl_dp_prog_fd(const struct ctl_dp *dp, int dir, bool l3);
int ctl_dp_events_fd(const struct ctl_dp *dp);

/* What the kernel offers (zones, NAT, ...), as read before loading. */
struct ctl_features;
const struct ctl_features *ctl_dp_features(const struct ctl_dp *dp);

/* Nanoseconds to add to an event's CLOCK_MONOTONIC time to get the wall clock. */
__s64 ctl_dp_realtime_offset(const struct ctl_dp *dp);

#endif

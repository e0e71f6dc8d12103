/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * datapath.h - the loaded BPF object and its maps, seen from the host.
 * Every function returns 0 or -errno, as libbpf does, unless it says otherwise.
 */
#ifndef CTLUA_DATAPATH_H
#define CTLUA_DATAPATH_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_dp;

/* With @on, libbpf's informational messages and the verifier log go to stderr. */
void ctl_dp_set_verbose(bool on);

/* The bounds of the verdict table's capacity (--verdicts, ct.config{verdicts=}). */
#define CTL_DP_VERDICTS_MIN	1
#define CTL_DP_VERDICTS_MAX	4194304	/* the hash's buckets, 16 B a slot, are made at load */
/* How long a verdict must go unused before a full table may reclaim it, by default. */
#define CTL_DP_VERDICT_IDLE_MS	120000

/* What the datapath starts with; the capacity is fixed once it is loaded. */
struct ctl_dp_opts {
	unsigned int verdicts;		/* capacity of the verdict table */
	unsigned int verdict_idle_ms;	/* see ctl_dp_set_verdict_idle */
	char pin[PATH_MAX];		/* "": no pins; else the state's bpffs directory (pin.h) */
};

/* Fill @o with the defaults (CTLUA_VERDICTS_DEFAULT, CTL_DP_VERDICT_IDLE_MS, no pins). */
void ctl_dp_opts_init(struct ctl_dp_opts *o);

/*
 * Check the kernel (ctl_probe), load and verify the BPF object sized as @opts says
 * (NULL: the defaults; sizes out of range are refused with -EINVAL), check its ABI and
 * make the initial policy live (mode enforce, default pass, every event kind on, no
 * rules). With @opts->pin, the state maps are those pinned there when they match
 * (pin.h): then nothing is written, and the policy in force is the pinned one, as the
 * program left it (ctl_dp_policy reads it). On failure writes one sentence to @msg and
 * returns -errno; *@out is set only on success.
 */
int ctl_dp_open(struct ctl_dp **out, const struct ctl_dp_opts *opts, char *msg, size_t len);
void ctl_dp_close(struct ctl_dp *dp);

/* @fv = verdict @v, last used now (the program's clock), padding zeroed. */
void ctl_dp_verdict_value(struct ctlua_flow_verdict *fv, const struct ctlua_verdict *v);

/*
 * Store (or replace) the verdict for @f, as used now. When the table is full, first
 * removes the verdicts idle for the idle time (at most once per min(idle, 1 s)); if
 * that frees nothing, returns -ENOSPC and counts it (CTLUA_STAT_VERDICTS_FULL).
 */
int ctl_dp_put_verdict(struct ctl_dp *dp, const struct ctlua_flow *f, const struct ctlua_verdict *v);
/*
 * One sentence for @err from ctl_dp_put_verdict into @msg, @flow the flow as printed:
 * for -ENOSPC "the verdict table is full (N entries, ...): cannot store FLOW (what to
 * do)", else "cannot store the verdict for FLOW (strerror)". Returns @msg.
 */
const char *ctl_dp_verdict_error(const struct ctl_dp *dp, int err, const char *flow,
				 char *msg, size_t len);
/* -ENOENT when the flow had no verdict. */
int ctl_dp_del_verdict(struct ctl_dp *dp, const struct ctlua_flow *f);
/*
 * Remove every verdict unused for at least @idle_ms (0: all of them). Returns how many
 * were removed (also counted in CTLUA_STAT_VERDICTS_EXPIRED), or -errno.
 */
int ctl_dp_expire_verdicts(struct ctl_dp *dp, unsigned int idle_ms);
/*
 * Have @fn(@ctx, flow) called for each verdict ctl_dp_expire_verdicts removes (the
 * host's count of stored flows, verdict_buf.c); NULL: none.
 */
void ctl_dp_on_verdict_gone(struct ctl_dp *dp, void (*fn)(void *ctx, const struct ctlua_flow *f),
			    void *ctx);
/* The verdict map's fd: writes that bypass ctl_dp_put_verdict keep its rules themselves. */
int ctl_dp_verdicts_fd(const struct ctl_dp *dp);
/* The verdict table's capacity, as loaded. */
unsigned int ctl_dp_verdicts(const struct ctl_dp *dp);
/* The idle time a full table reclaims after; 0 turns reclaiming off. */
void ctl_dp_set_verdict_idle(struct ctl_dp *dp, unsigned int ms);

/*
 * From now on the program looks per-flow verdicts up (it skips the map until then).
 * Never undone; ctl_dp_put_verdict calls it, writes that bypass it call it first.
 */
int ctl_dp_use_verdicts(struct ctl_dp *dp);

/* Everything a policy sets that packets read, switched as one by ctl_dp_put_policy. */
struct ctl_dp_policy {
	__u8 mode;			/* enum ctlua_mode */
	__u8 event_mask;		/* bit (1 << kind): that kind is emitted */
	struct ctlua_verdict dflt;	/* for flows no verdict and no rule decides */
	const struct ctlua_rule *rules;	/* evaluation order, at most CTLUA_MAX_RULES */
	unsigned int nrules;
};

/*
 * Make @p the live policy: the one way to change any part of it (ct.mode, ct.default,
 * the event mask, ct.rule, ct.policy, a service's reload). Its rules with their
 * classifier (src/rule_class.h), mode, event mask and default are written to the idle
 * slot, then made live with one write of the config: a packet decides by the old
 * policy or by the new one, never by parts of both (doc/performance.md, "Switching a
 * policy"). Before it writes the idle slot it waits, if that slot was live since the
 * last wait, until no packet can still be reading it: an RCU grace period, microseconds
 * with expedited RCU, a few ms without. Rules equal to those the slot holds are not
 * written again, nor is their classifier rebuilt. Once @p is live, the rate limit slots
 * it names are marked live and those the old policy named and @p does not are freed
 * (ctl_limit_sweep). Returns -E2BIG for too many rules or more than CTLUA_SET_REFS
 * distinct set references (ctl_rule_class_build), -EINVAL for a mode, action or set id
 * out of range; on failure the live policy is unchanged.
 * Not thread-safe: one thread changes the policy.
 */
int ctl_dp_put_policy(struct ctl_dp *dp, const struct ctl_dp_policy *p);
/*
 * The live policy into @p, to change a part and hand back to ctl_dp_put_policy. Its
 * rules point into the host's copy, valid until the next ctl_dp_put_policy.
 */
void ctl_dp_policy(const struct ctl_dp *dp, struct ctl_dp_policy *p);

/*
 * The pinned state's directory, or NULL without pins; whether its maps were an earlier
 * ctlua's; and the ids of its maps (CTL_PIN_NMAPS), which an adopted filter's program
 * must use.
 */
const char *ctl_dp_pin_dir(const struct ctl_dp *dp);
bool ctl_dp_pin_reused(const struct ctl_dp *dp);
const __u32 *ctl_dp_pin_ids(const struct ctl_dp *dp);

/* Sum the per-CPU counters into @sum, with the host's own (the verdict table's). */
int ctl_dp_stats(struct ctl_dp *dp, struct ctlua_stats *sum);
/*
 * What decided misses (ctlua.h, struct ctlua_count), summed over the CPUs: each live
 * rule's into @rules (room for the live policy's nrules, in its order), the default's
 * into *@dflt, each per-flow verdict source's into @src[CTLUA_SRC_NR]. A rule keeps its
 * counts across a policy switch that keeps it (rule_counts.h).
 */
int ctl_dp_counts(struct ctl_dp *dp, struct ctlua_count *rules, struct ctlua_count *dflt,
		  struct ctlua_count *src);

/*
 * Direct requests: fill ctl_dp_requests(dp)[0..n) (at most CTLUA_MAX_REQUESTS), then
 * ctl_dp_run_requests runs them all in one BPF_PROG_TEST_RUN, in the calling task's
 * netns, with the params last set, and leaves each result in its slot.
 */
struct ctlua_request *ctl_dp_requests(struct ctl_dp *dp);
int ctl_dp_run_requests(struct ctl_dp *dp, unsigned int n);
/*
 * The same for the slots [start, start + n) alone. Runs of disjoint slices may go on at
 * once in different threads (each run names its slice in its context: the
 * program keeps no shared cursor); the params are shared.
 */
int ctl_dp_run_slice(struct ctl_dp *dp, unsigned int start, unsigned int n);

/* The most threads ctl_dp_run_parallel uses. */
#define CTL_DP_THREADS_MAX	64
/* Fill slots [start, start + n) of the request array, in the thread that runs them. */
typedef void (*ctl_dp_prep_fn)(void *ctx, unsigned int start, unsigned int n);
/*
 * Run requests [0, n) as @threads slices of equal size at once (at most
 * CTL_DP_THREADS_MAX, at most one per request), one BPF_PROG_TEST_RUN each: the caller
 * runs the first, helper threads the others. @prep (NULL: none) fills each slice in its
 * own thread first. Helper threads block signals, so a signal stops the caller's slice
 * (-EINTR) while the others finish; a slot left at -EINPROGRESS by its filler was not
 * run. Returns 0 or the first slice's -errno.
 */
int ctl_dp_run_parallel(struct ctl_dp *dp, unsigned int n, unsigned int threads,
			ctl_dp_prep_fn prep, void *ctx);

/* A chunk of ALLOC requests, one per flow, all with the same opts. */
struct ctl_dp_alloc_chunk {
	struct ctlua_request *reqs;	/* the request array (ctl_dp_requests) */
	const struct ctlua_flow *flows;	/* the chunk's first flow */
	const struct ctlua_opts *opts;
};
/*
 * A ctl_dp_prep_fn for ctl_dp_run_parallel, @ctx a struct ctl_dp_alloc_chunk: fills
 * slots [start, start + n) as ALLOC requests, each at -EINPROGRESS until it runs.
 */
void ctl_dp_fill_alloc(void *ctx, unsigned int start, unsigned int n);

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
 * (@l3) one whose packets start at the IP header, or -errno. ctl_dp_open loads only the
 * ingress one; the others are loaded (and verified) on their first call, sharing every
 * map. The ring buffer's map fd.
 */
int ctl_dp_prog_fd(struct ctl_dp *dp, int dir, bool l3);
/* The XDP program's fd (ctlua_xdp: ingress, Ethernet), loaded on its first call, or -errno. */
int ctl_dp_xdp_fd(struct ctl_dp *dp);
int ctl_dp_events_fd(const struct ctl_dp *dp);
/* The rate limits' maps (bpf/limit.h): specs (mmap-able), per-CPU counts, buckets. */
struct ctl_dp_limit_fds {
	int specs, counts, buckets;
};
void ctl_dp_limit_fds(const struct ctl_dp *dp, struct ctl_dp_limit_fds *out);
/*
 * The ring buffer reader's "asleep" flag (ctl_asleep in bpf/ctlua.h's wakeup protocol),
 * mapped into this process: set it before blocking, clear it after.
 */
__u64 *ctl_dp_asleep(const struct ctl_dp *dp);

/*
 * The named sets' maps (ctlua.h, "Named sets") and their ids: the fds of ctl_set4,
 * ctl_set6, ctl_set_ports, ctl_set_h4, ctl_set_h6 and ctl_set_kinds; an id no state
 * holds (0..CTLUA_SETS-1, marked taken) or -ENOSPC; an id given back, whose entries the caller has removed. Ids are per
 * datapath, so two states on one (a staged reload's and the live one) never share one.
 * A pinned state reused at open keeps the members of the sets its live rules name, their
 * ids taken until a policy put by this process names them no more; every other member
 * left in the pinned maps is removed at open.
 */
struct ctl_dp_set_fds {
	int v4, v6, ports, h4, h6, kinds;
};
void ctl_dp_set_fds(const struct ctl_dp *dp, struct ctl_dp_set_fds *out);
int ctl_dp_set_id_take(struct ctl_dp *dp);
void ctl_dp_set_id_put(struct ctl_dp *dp, unsigned int id);
/*
 * Whether the live policy's rules name set @id. A state freed while its policy stays in
 * force (an exit that leaves the filters enforcing on pinned maps, when_stopped =
 * "enforce") must leave such a set's members in the maps: the program still reads them,
 * and the next process that reuses the pins keeps them (see above).
 */
bool ctl_dp_set_live(const struct ctl_dp *dp, unsigned int id);

/*
 * What the kernel offers (zones, opts sizes, NAT, ...): its BTF, read on the first call
 * (not at load: see ctl_probe_host), with nat as the loaded program sees it. Never NULL;
 * all false if BTF cannot be read.
 */
struct ctl_features;
const struct ctl_features *ctl_dp_features(struct ctl_dp *dp);

/* Nanoseconds to add to an event's CLOCK_MONOTONIC time to get the wall clock. */
__s64 ctl_dp_realtime_offset(const struct ctl_dp *dp);
/*
 * That offset, taken once per process (the wall clock minus CLOCK_MONOTONIC at its first
 * use): every datapath stamps events with it, and ct.now reads the same clock.
 */
__s64 ctl_dp_clock_offset(void);

#endif

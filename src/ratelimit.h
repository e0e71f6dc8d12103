/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit.h - the rate limits' slots as the host handles them (bpf/limit.h): the
 * program's array of specs mapped into this process, taking and freeing a slot, a
 * limit's rate and key turned into what the program reads, and its counts. No Lua
 * here: lua_limit.c reads and shows limits. Functions return 0 or -errno unless they
 * say otherwise.
 */
#ifndef CTLUA_RATELIMIT_H
#define CTLUA_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_dp;
struct ctl_dp_policy;

/* The bounds of what a limit takes (doc/api.md, ct.rule's limit). */
#define CTL_LIMIT_RATE_MIN	0.001		/* new flows a second */
#define CTL_LIMIT_RATE_MAX	1e9
#define CTL_LIMIT_BURST_MAX	1000000		/* flows */
#define CTL_LIMIT_NAME_MAX	(sizeof(((struct ctlua_limit *)0)->name) - 1)

/*
 * The spec array, mapped for as long as one operation lasts; or a dry state's own
 * array (ctlua check, replay), with no counts and no buckets.
 */
struct ctl_limit_map {
	struct ctlua_limit *slot;	/* CTLUA_MAX_LIMITS of them; slot 0 is never used */
	size_t len;			/* mapped bytes; 0: not mapped (a dry array) */
	int counts_fd;			/* -1: no counts */
	int buckets_fd;
	int ncpus;			/* 0 until the counts are first read or zeroed */
	struct ctlua_limit_count *buf;	/* ncpus of them, for that; freed by close */
};

/* Map @dp's spec array into *@m (and note its counts' and buckets' fds); close unmaps. */
int ctl_limit_map_open(struct ctl_dp *dp, struct ctl_limit_map *m);
/* @specs (CTLUA_MAX_LIMITS, the caller's) as *@m: taking and freeing work, counts are 0. */
void ctl_limit_map_dry(struct ctlua_limit *specs, struct ctl_limit_map *m);
void ctl_limit_map_close(struct ctl_limit_map *m);

/*
 * Set @l's rate (new flows per 1000 s) and burst, and the step and span the program
 * reads, step last: a slot in use changes in place (ct.limit).
 */
void ctl_limit_set_rate(struct ctlua_limit *l, __u64 rate_milli, __u32 burst);

/*
 * @text ("rule", "dport", "src", "dst", "src/N", "src/N/M", "dst/...") into @l's per and
 * masks: "src" keeps whole addresses; "src/N" groups IPv4 sources by /N if N <= 32
 * (IPv6 by /64), else IPv6 by /N (IPv4 by /24); "src/N/M" sets both. Returns 0, or
 * -EINVAL with the reason in @why.
 */
int ctl_limit_parse_per(const char *text, struct ctlua_limit *l, char *why, size_t len);
/* What ctl_limit_parse_per would read back into @l's per and masks; returns @buf. */
const char *ctl_limit_format_per(const struct ctlua_limit *l, char *buf, size_t len);

/*
 * Take a free slot for @spec (its rate, key, over action, name, rule and owner): a new
 * generation, so no bucket of an earlier use applies, and counts from zero. Returns
 * the slot (1 or more), or -ENOSPC when all CTLUA_MAX_LIMITS - 1 are taken.
 */
int ctl_limit_take(struct ctl_limit_map *m, const struct ctlua_limit *spec);
/* Free slot @idx: a packet that still names it is admitted, as with no limit. */
void ctl_limit_free(struct ctl_limit_map *m, unsigned int idx);
/* The counts of slot @idx, summed over the CPUs, into @sum (a dry array's: 0). */
int ctl_limit_count(struct ctl_limit_map *m, unsigned int idx, struct ctlua_limit_count *sum);
/* Mark in @used (CTLUA_MAX_LIMITS flags, by slot) the slot that verdict @v names. */
static inline void ctl_limit_mark(bool *used, const struct ctlua_verdict *v)
{
	used[v->limit & (CTLUA_MAX_LIMITS - 1)] = true;
}

/*
 * After @live became the live policy: its slots are marked live, and the slots a live
 * policy used before and @live does not are freed. Slots never live yet (a staged
 * policy's) are left alone.
 */
void ctl_limit_sweep(struct ctl_limit_map *m, const struct ctl_dp_policy *live);
/*
 * Pinned maps reused, @live the policy pinned in force: its slots are marked live and
 * every other slot is freed. Only when no other process uses the maps (the pin
 * directory is locked): a process killed while a staged policy held slots left them
 * taken, and no later process owns them.
 */
void ctl_limit_adopt(struct ctl_limit_map *m, const struct ctl_dp_policy *live);

#endif

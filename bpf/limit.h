/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * limit.h - rate limits on the packet path: a miss whose verdict names a limit takes a
 * token from its key's bucket, or gets the limit's over action (bpf/ctlua.h, struct
 * ctlua_limit). Included once, by ctlua.bpf.c, after stats() and count_in().
 */
#ifndef CTLUA_LIMIT_H
#define CTLUA_LIMIT_H

/*
 * The limits' specs, written by the host through a mapping of the array (lua_limit.c):
 * changing a rate is a store, no syscall and no rule swap. A packet may read a spec
 * half changed (the new step with the old span): one flow is then judged by a mix of
 * both, which is no worse than a change a microsecond later.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTLUA_MAX_LIMITS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ctlua_limit);
} ctl_limits SEC(".maps");

/* Per limit, per CPU: flows admitted and over; the host sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTLUA_MAX_LIMITS);
	__type(key, __u32);
	__type(value, struct ctlua_limit_count);
} ctl_lcounts SEC(".maps");

/*
 * The buckets. One map for every CPU, not a per-CPU one: a limit of 100 flows a second
 * must hold for a source whose flows land on several CPUs (RSS spreads them). The
 * update is a compare-and-swap of one u64, so no lock is needed: a lost race retries.
 * An LRU hash, so a flood of new keys (a spoofed source per packet) evicts the least
 * recently used buckets instead of failing: an evicted bucket comes back full, and a
 * bucket idle for span_ns is full anyway, so only keys that were still draining lose
 * their state, and only when more than CTLUA_LIMIT_KEYS keys are active.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CTLUA_LIMIT_KEYS);
	__type(key, struct ctlua_limit_key);
	__type(value, __u64);	/* the time the bucket is full again (bpf_ktime_get_ns) */
} ctl_lbuckets SEC(".maps");

/* Tries of the compare-and-swap before a flow is judged over: only under contention. */
#define CTLUA_LIMIT_TRIES	4

/* The key of @f's bucket under limit @l in slot @idx. */
static __always_inline void limit_key(struct ctlua_limit_key *k, const struct ctlua_limit *l,
				      __u32 idx, const struct ctlua_flow *f)
{
	const __be32 *addr = l->per == CTLUA_PER_DST ? f->daddr : f->saddr;
	const __be32 *mask = f->family == CTLUA_AF_INET ? l->mask4 : l->mask6;
	int i;

	k->gen = l->gen;
	k->slot = (__u16)idx;
	k->family = 0;
	k->pad = 0;
	k->addr[0] = k->addr[1] = k->addr[2] = k->addr[3] = 0;
	if (l->per == CTLUA_PER_SRC || l->per == CTLUA_PER_DST) {
		k->family = f->family;
		for (i = 0; i < 4; i++)
			k->addr[i] = addr[i] & mask[i];
	} else if (l->per == CTLUA_PER_DPORT) {
		k->addr[0] = f->dport;
	}
}

/*
 * Take a token from @k's bucket (GCRA): the bucket is the time it is full again; a
 * token moves that step later, and is refused when it would be more than span ahead
 * of now. A missing bucket is full. Returns whether the flow is admitted.
 */
static __always_inline bool limit_take(const struct ctlua_limit *l, const struct ctlua_limit_key *k)
{
	__u64 now = bpf_ktime_get_ns(), step = l->step_ns, span = l->span_ns;
	__u64 old, base, want, *tat;
	int i;

	tat = bpf_map_lookup_elem(&ctl_lbuckets, k);
	if (!tat) {
		want = now + step;
		/* span >= step (burst >= 1): a full bucket always has a token */
		if (!bpf_map_update_elem(&ctl_lbuckets, k, &want, BPF_NOEXIST))
			return true;
		tat = bpf_map_lookup_elem(&ctl_lbuckets, k);	/* another CPU made it */
		if (!tat)
			return false;
	}
	for (i = 0; i < CTLUA_LIMIT_TRIES; i++) {
		old = *(volatile __u64 *)tat;
		base = old > now ? old : now;
		/*
		 * Further ahead than span: the rate was raised since (a smaller step makes a
		 * smaller span). An empty bucket at the new rate, not a debt at the old one;
		 * written back, so the next token comes one new step later.
		 */
		if (base - now > span) {
			__sync_val_compare_and_swap(tat, old, now + span);
			return false;
		}
		want = base + step;
		if (want - now > span)
			return false;
		if (__sync_val_compare_and_swap(tat, old, want) == old)
			return true;
	}
	return false;
}

/*
 * The action for a miss that @v decided, under its limit: @v's own while the key has a
 * token, else the limit's over action. A free slot (step 0, as after the limit was
 * removed while a packet still held the old rules) admits.
 */
static __always_inline __u8 limit_apply(struct ctlua_stats *st, const struct ctlua_verdict *v,
					const struct ctlua_flow *f)
{
	__u32 idx = v->limit & (CTLUA_MAX_LIMITS - 1);
	const struct ctlua_limit *l = bpf_map_lookup_elem(&ctl_limits, &idx);
	struct ctlua_limit_count *c;
	struct ctlua_limit_key k;

	if (!l || !l->step_ns)
		return v->action;
	c = bpf_map_lookup_elem(&ctl_lcounts, &idx);
	limit_key(&k, l, idx, f);
	if (limit_take(l, &k)) {
		if (c)
			c->admitted++;
		return v->action;
	}
	if (c)
		c->over++;
	count_in(st, CTLUA_STAT_LIMITED);
	return l->over;
}

#endif /* CTLUA_LIMIT_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rule_counts.c - reading ctl_counts and carrying each rule's counts across a switch of
 * the rule table.
 *
 * The program counts a rule by its position in the slot it read (bpf/ctlua.h, struct
 * ctlua_count), so a switch, which puts the new table in the other slot, would start
 * every rule at 0. Before the switch, once no packet reads the idle slot any more, the
 * host writes there, at each surviving rule's new position, the counts the rule has
 * now. Packets still deciding by the old slot between that read and the switch (and
 * its grace period) count there: the host remembers what each old position held when
 * it was read ("late" base) and adds what it gained since, both when reading and at the
 * next switch, when the old slot is idle and still. So no count is lost, and counters
 * are only ever written where no packet is counting (per-CPU values written while a
 * CPU counts could lose its increments). doc/performance.md, "Counting per rule".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "rule_counts.h"

#define D		CTLUA_COUNT_DEFAULT	/* a slot's default, after its rules */
#define CHUNK		256			/* entries per batch syscall */

struct ctl_counts {
	int fd, ncpus;
	size_t vsize;			/* one entry's value: a struct ctlua_count per CPU */
	__u32 *keys;			/* CHUNK keys, and CHUNK values in buf */
	char *buf;
	/* positions of the idle slot (below D; D itself always) that may not be zero */
	unsigned int idle_n;
	/*
	 * For each live position (D: the default), the idle slot's position whose counts
	 * since the last carry are also its own, or -1, and what that position held then.
	 */
	int *late_from;
	struct ctlua_count *late_base;
	bool late_any;
	/* the same for after the switch, set by ctl_counts_carry */
	int *next_from;
	struct ctlua_count *next_base;
	unsigned int next_idle_n, written_n;
	struct ctlua_count *idle, *cur, *vals;	/* scratch */
	/*
	 * The seven arrays, CTLUA_COUNT_SLOT entries each, in one block allocated at the
	 * first carry (a ctlua that switches no rules makes none); only the positions in
	 * use are touched, so the rest takes no memory. late_from is read only while
	 * late_any: never unset.
	 */
	void *arrays;
};

/* struct ctlua_count is __u64 counters only (bpf/ctlua.h): both sums go field by field */
void ctl_count_add(struct ctlua_count *to, const struct ctlua_count *from)
{
	const __u64 *a = (const __u64 *)from;
	__u64 *t = (__u64 *)to;

	for (size_t i = 0; i < sizeof(*to) / sizeof(__u64); i++)
		t[i] += a[i];
}

/* @to += @now - @then, field by field; a field that went down (a map reset) adds 0. */
static void count_add_since(struct ctlua_count *to, const struct ctlua_count *now,
			    const struct ctlua_count *then)
{
	const __u64 *a = (const __u64 *)now, *b = (const __u64 *)then;
	__u64 *t = (__u64 *)to;

	for (size_t i = 0; i < sizeof(*to) / sizeof(__u64); i++)
		t[i] += a[i] > b[i] ? a[i] - b[i] : 0;
}

int ctl_counts_new(struct ctl_counts **out, int fd, int ncpus)
{
	struct ctl_counts *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->ncpus = ncpus;
	c->vsize = sizeof(struct ctlua_count) * ncpus;
	c->keys = calloc(CHUNK, sizeof(*c->keys));
	c->buf = calloc(CHUNK, c->vsize);
	if (!c->keys || !c->buf) {
		ctl_counts_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

/* The arrays a carry works on (struct ctl_counts), from the first one on; 0 or -ENOMEM. */
static int alloc_arrays(struct ctl_counts *c)
{
	const size_t n = CTLUA_COUNT_SLOT, counts = n * sizeof(struct ctlua_count);
	char *p;

	if (c->arrays)
		return 0;
	/* the counts first, then the ints: each part stays aligned */
	if (!(c->arrays = p = malloc(5 * counts + 2 * n * sizeof(int))))
		return -ENOMEM;
	c->late_base = (struct ctlua_count *)p;
	c->next_base = (struct ctlua_count *)(p + counts);
	c->idle = (struct ctlua_count *)(p + 2 * counts);
	c->cur = (struct ctlua_count *)(p + 3 * counts);
	c->vals = (struct ctlua_count *)(p + 4 * counts);
	c->late_from = (int *)(p + 5 * counts);
	c->next_from = c->late_from + n;
	return 0;
}

void ctl_counts_free(struct ctl_counts *c)
{
	if (!c)
		return;
	free(c->keys);
	free(c->buf);
	free(c->arrays);
	free(c);
}

void ctl_counts_idle_unknown(struct ctl_counts *c)
{
	c->idle_n = CTLUA_MAX_RULES;
	c->late_any = false;
}

/* Entries [@first, @first + @n) of the map, each summed over the CPUs, into @out. */
static int read_range(struct ctl_counts *c, __u32 first, unsigned int n, struct ctlua_count *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	while (n) {
		__u32 cnt = n < CHUNK ? n : CHUNK, prev = first - 1, next;
		int err = bpf_map_lookup_batch(c->fd, first ? &prev : NULL, &next, c->keys,
					       c->buf, &cnt, &opts);

		if (err && err != -ENOENT)
			return err;
		if (!cnt)
			return -ENOENT;
		for (__u32 i = 0; i < cnt; i++) {
			const struct ctlua_count *v = (const void *)(c->buf + i * c->vsize);

			memset(&out[i], 0, sizeof(out[i]));
			for (int cpu = 0; cpu < c->ncpus; cpu++)
				ctl_count_add(&out[i], &v[cpu]);
		}
		first += cnt;
		out += cnt;
		n -= cnt;
	}
	return 0;
}

/* Write @vals[0..n) to entries [@first, @first + @n): each on CPU 0, the others zero. */
static int write_range(struct ctl_counts *c, __u32 first, unsigned int n,
		       const struct ctlua_count *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	while (n) {
		__u32 cnt = n < CHUNK ? n : CHUNK;
		int err;

		memset(c->buf, 0, cnt * c->vsize);
		for (__u32 i = 0; i < cnt; i++) {
			c->keys[i] = first + i;
			memcpy(c->buf + i * c->vsize, &vals[i], sizeof(vals[i]));
		}
		err = bpf_map_update_batch(c->fd, c->keys, c->buf, &cnt, &opts);
		if (err)
			return err;
		first += cnt;
		vals += cnt;
		n -= cnt;
	}
	return 0;
}

/* Slot @slot's rule entries [0, @n) into @out[0..n) and its default into *@dflt. */
static int read_slot(struct ctl_counts *c, __u32 slot, unsigned int n, struct ctlua_count *out,
		     struct ctlua_count *dflt)
{
	int err = read_range(c, slot * CTLUA_COUNT_SLOT, n, out);

	return err ? err : read_range(c, slot * CTLUA_COUNT_SLOT + D, 1, dflt);
}

/*
 * Add to the live counts @cur and *@dflt (as read_slot gives them, @n rules) what
 * reached the idle slot's positions after the last carry (@idle: that slot, its
 * default at D).
 */
static void add_late(const struct ctl_counts *c, unsigned int n, struct ctlua_count *cur,
		     struct ctlua_count *dflt, const struct ctlua_count *idle)
{
	for (unsigned int j = 0; j <= n; j++) {
		unsigned int at = j < n ? j : D;
		int from = c->late_from[at];

		if (from >= 0)
			count_add_since(j < n ? &cur[j] : dflt, &idle[from], &c->late_base[at]);
	}
}

/* What of a limit slot's spec makes it the same limit: what the user gave but its name. */
struct limit_key {
	__u64 rate_milli;	/* 0: no limit */
	__u32 burst;
	__u8 per, over, pad[2];
	__be32 mask4[4], mask6[4];
};

/* The key of slot @slot of @limits (all zero for slot 0); with no @limits, the slot. */
static void limit_key(const struct ctlua_limit *limits, __u16 slot, struct limit_key *k)
{
	const struct ctlua_limit *l;

	memset(k, 0, sizeof(*k));
	if (!slot)
		return;
	if (!limits) {
		k->rate_milli = slot;
		return;
	}
	l = &limits[slot & (CTLUA_MAX_LIMITS - 1)];
	k->rate_milli = l->rate_milli;
	k->burst = l->burst;
	k->per = l->per;
	k->over = l->over;
	memcpy(k->mask4, l->mask4, sizeof(k->mask4));
	memcpy(k->mask6, l->mask6, sizeof(k->mask6));
}

/* Whether slot @a of @la and slot @b of @lb are the same limit (or both none). */
static bool limit_same(const struct ctlua_limit *la, __u16 a, const struct ctlua_limit *lb,
		       __u16 b)
{
	struct limit_key ka, kb;

	limit_key(la, a, &ka);
	limit_key(lb, b, &kb);
	return !memcmp(&ka, &kb, sizeof(ka));
}

/* A rule as "the same rule" compares it: without its id, its limit apart (limit_same). */
static void rule_key(const struct ctlua_rule *r, struct ctlua_rule *k)
{
	*k = *r;
	k->id = 0;
	k->verdict.rule_id = 0;
	k->verdict.limit = 0;
}

static bool rule_same(const struct ctlua_rule *a, const struct ctlua_limit *la,
		      const struct ctlua_rule *b, const struct ctlua_limit *lb)
{
	struct ctlua_rule x, y;

	rule_key(a, &x);
	rule_key(b, &y);
	return !memcmp(&x, &y, sizeof(x)) &&
	       limit_same(la, a->verdict.limit, lb, b->verdict.limit);
}

static __u64 fnv(__u64 h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static __u64 rule_hash(const struct ctlua_rule *r, const struct ctlua_limit *limits)
{
	struct ctlua_rule k;
	struct limit_key lk;

	rule_key(r, &k);
	limit_key(limits, r->verdict.limit, &lk);
	return fnv(fnv(0xcbf29ce484222325ull, &k, sizeof(k)), &lk, sizeof(lk));
}

int ctl_counts_match(const struct ctl_counts_policy *old, const struct ctl_counts_policy *new,
		     int *from)
{
	unsigned int size = 2, mask;
	unsigned int *slot;
	bool *used;

	if (old->n == new->n) {		/* the rules stay (a mode or default change) */
		unsigned int k = 0;

		while (k < new->n &&
		       rule_same(&old->rules[k], old->limits, &new->rules[k], new->limits))
			k++;
		if (k == new->n) {
			for (k = 0; k < new->n; k++)
				from[k] = (int)k;
			return 0;
		}
	}
	while (size < 2 * old->n)
		size *= 2;
	mask = size - 1;
	slot = calloc(size, sizeof(*slot));	/* old position + 1; 0: empty */
	used = calloc(old->n + 1, sizeof(*used));
	if (!slot || !used) {
		free(slot);
		free(used);
		return -ENOMEM;
	}
	/* linear probing, filled in order: equal rules are met in their order */
	for (unsigned int i = 0; i < old->n; i++) {
		unsigned int h = (unsigned int)rule_hash(&old->rules[i], old->limits) & mask;

		while (slot[h])
			h = (h + 1) & mask;
		slot[h] = i + 1;
	}
	for (unsigned int k = 0; k < new->n; k++) {
		unsigned int h = (unsigned int)rule_hash(&new->rules[k], new->limits) & mask;

		from[k] = -1;
		for (; slot[h]; h = (h + 1) & mask) {
			unsigned int i = slot[h] - 1;

			if (!used[i] && rule_same(&old->rules[i], old->limits, &new->rules[k],
						  new->limits)) {
				used[i] = true;
				from[k] = (int)i;
				break;
			}
		}
	}
	free(slot);
	free(used);
	return 0;
}

/* Whether @old's default and @new's are the same: the same verdict, the limit by spec. */
static bool dflt_same(const struct ctl_counts_policy *old, const struct ctl_counts_policy *new)
{
	struct ctlua_verdict x = *old->dflt, y = *new->dflt;

	x.limit = y.limit = 0;
	return !memcmp(&x, &y, sizeof(x)) &&
	       limit_same(old->limits, old->dflt->limit, new->limits, new->dflt->limit);
}

int ctl_counts_carry(struct ctl_counts *c, __u32 live, const struct ctl_counts_policy *old,
		     const struct ctl_counts_policy *new)
{
	unsigned int nw = new->n > c->idle_n ? new->n : c->idle_n;
	struct ctlua_count *cur;	/* the live slot, by old position */
	__u32 idle = !live;
	int err;

	if (old->n > CTLUA_MAX_RULES || new->n > CTLUA_MAX_RULES)
		return -E2BIG;
	if ((err = alloc_arrays(c)))
		return err;
	cur = c->cur;
	/* the idle slot is still: what reached it after the last carry is final */
	if (c->late_any && (err = read_slot(c, idle, c->idle_n, c->idle, &c->idle[D])))
		return err;
	if ((err = read_slot(c, live, old->n, cur, &cur[D])) ||
	    (err = ctl_counts_match(old, new, c->next_from)))
		return err;
	c->next_from[D] = dflt_same(old, new) ? D : -1;
	for (unsigned int k = 0; k <= nw; k++) {
		unsigned int at = k < nw ? k : D;
		int m = k < new->n || at == D ? c->next_from[at] : -1;

		memset(&c->vals[at], 0, sizeof(c->vals[at]));
		if (m < 0)
			continue;
		/* what the rule has now; what its old position gains later is late */
		c->vals[at] = cur[m];
		c->next_base[at] = cur[m];
		if (c->late_any && c->late_from[m] >= 0)
			count_add_since(&c->vals[at], &c->idle[c->late_from[m]], &c->late_base[m]);
	}
	c->written_n = nw;
	c->next_idle_n = old->n;
	err = write_range(c, idle * CTLUA_COUNT_SLOT, nw, c->vals);
	if (!err)
		err = write_range(c, idle * CTLUA_COUNT_SLOT + D, 1, &c->vals[D]);
	if (err)
		ctl_counts_switched(c, false);
	return err;
}

void ctl_counts_switched(struct ctl_counts *c, bool done)
{
	int *from;
	struct ctlua_count *base;

	if (!done) {
		/* the idle slot holds what the carry wrote, which counts for nobody */
		ctl_counts_idle_unknown(c);
		c->idle_n = c->written_n;
		return;
	}
	from = c->late_from;
	base = c->late_base;
	c->late_from = c->next_from;
	c->late_base = c->next_base;
	c->next_from = from;
	c->next_base = base;
	c->idle_n = c->next_idle_n;
	c->late_any = true;
}

int ctl_counts_read(struct ctl_counts *c, __u32 live, unsigned int n, struct ctlua_count *rules,
		    struct ctlua_count *dflt, struct ctlua_count *src)
{
	int err;

	if (n > CTLUA_MAX_RULES)
		return -E2BIG;
	if ((err = read_slot(c, live, n, rules, dflt)))
		return err;
	if (c->late_any) {	/* after a carry: the arrays are there */
		if ((err = read_slot(c, !live, c->idle_n, c->idle, &c->idle[D])))
			return err;
		add_late(c, n, rules, dflt, c->idle);
	}
	return read_range(c, CTLUA_COUNT_SOURCES, CTLUA_SRC_NR, src);
}

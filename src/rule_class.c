// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rule_class.c - building the rule classifier the TC program uses to find a packet's
 * first matching rule without trying the rules one by one (ctlua.h, struct
 * ctlua_rule_class; doc/performance.md, "Rules at scale"), and looking it up in C.
 *
 * Each dimension (source and destination address per family, destination port, source
 * port per protocol) is cut into elementary intervals at every rule's bounds: no rule's
 * range begins or ends inside one, so every value of an interval matches the same
 * rules. One sweep over the bounds keeps the set of rules covering the current interval;
 * each distinct set is stored once in the pool, compressed to its nonzero words.
 *
 * Rules that name sets (ctlua_rule.set[]) add a fifth dimension: the distinct (field,
 * set) pairs they name are the references, at most CTLUA_SET_REFS; for each mask of
 * references that hold, the set of rules whose references are all among them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "rule_class.h"

typedef unsigned __int128 u128;

struct range {
	u128 lo, hi;
	unsigned int bit;		/* the rule's bit position */
};

/* What one build works on besides the classifier: the sets met so far, by hash. */
struct build {
	struct ctlua_rule_class *c;
	__u64 cur[CTLUA_RULE_WORDS];	/* the set of the current interval */
	__u32 *slots;			/* open addressing: pool offset + 1, 0 empty */
	__u64 *hashes;
	unsigned int nslots;		/* a power of two */
	unsigned int nsets;
	struct range *r;		/* scratch: one range per rule */
	unsigned int *by_lo, *by_hi;
	u128 *start;			/* the intervals of a dimension */
	__u32 *set;			/* and their sets */
	unsigned int filled[2][2];	/* [v6][dst]: entries of the address table written */
};

/*
 * The sets of a build: at most one per interval of its 7 dimensions (4 address, 3 port),
 * each with at most 2n + 1 intervals, in a table kept at most half full; at most
 * BUILD_SLOTS (as many as CTLUA_MAX_RULES rules need).
 */
#define BUILD_DIMS	7
#define BUILD_SLOTS	(1u << 18)

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/* An address slot (network order) as a number: IPv4 in 32 bits, IPv6 in 128. */
static u128 addr_num(const __be32 a[4], int family)
{
	u128 v = 0;

	if (family == CTLUA_AF_INET)
		return ntohl(a[0]);
	for (int i = 0; i < 4; i++)
		v = v << 32 | ntohl(a[i]);
	return v;
}

/* The pool offset of the set in b->cur, stored now if it is new; -ENOSPC if it is full. */
static long intern(struct build *b)
{
	struct ctlua_rule_class *c = b->c;
	__u64 sum[CTLUA_RULE_SUMMARY] = { 0 }, h = 0xcbf29ce484222325ull, counts = 0;
	unsigned int nz = 0, slot;
	__u32 o;

	for (unsigned int w = 0; w < CTLUA_RULE_WORDS; w++) {
		if (!b->cur[w])
			continue;
		sum[w / 64] |= 1ull << (w % 64);
		h = (h ^ b->cur[w] ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (unsigned int q = 0; q < CTLUA_RULE_SUMMARY; q++) {
		counts |= (__u64)nz << (16 * q);
		nz += (unsigned int)__builtin_popcountll(sum[q]);
	}
	for (slot = (unsigned int)h & (b->nslots - 1); b->slots[slot];
	     slot = (slot + 1) & (b->nslots - 1)) {
		const __u64 *p;
		unsigned int k = 0;
		bool same;

		if (b->hashes[slot] != h)
			continue;
		o = b->slots[slot] - 1;
		p = &c->pool[o];
		same = !memcmp(p, sum, sizeof(sum));
		for (unsigned int w = 0; same && w < CTLUA_RULE_WORDS; w++)
			if (b->cur[w])
				same = p[CTLUA_RULE_SET_HEAD + k++] == b->cur[w];
		if (same)
			return o;
	}
	if (b->nsets + 1 >= b->nslots / 2 ||
	    c->pool_used + CTLUA_RULE_SET_HEAD + nz > CTLUA_RULE_POOL)
		return -ENOSPC;
	o = c->pool_used;
	memcpy(&c->pool[o], sum, sizeof(sum));
	c->pool[o + CTLUA_RULE_SUMMARY] = counts;
	nz = 0;
	for (unsigned int w = 0; w < CTLUA_RULE_WORDS; w++)
		if (b->cur[w])
			c->pool[o + CTLUA_RULE_SET_HEAD + nz++] = b->cur[w];
	c->pool_used = o + CTLUA_RULE_SET_HEAD + nz;
	b->slots[slot] = o + 1;
	b->hashes[slot] = h;
	b->nsets++;
	return o;
}

/*
 * The order of the bit positions: rules alike in their ports, protocol and addresses
 * side by side, so that a set of rules that differ on one field (all of one port, all
 * from one prefix) fills few words and its summary names few. Any order gives the
 * same answers; this one only keeps the candidate words few.
 */
static int by_likeness(const void *pa, const void *pb, void *rules)
{
	const struct ctlua_rule *a = (const struct ctlua_rule *)rules + *(const __u16 *)pa;
	const struct ctlua_rule *b = (const struct ctlua_rule *)rules + *(const __u16 *)pb;
	int d;

	if (a->dport_lo != b->dport_lo)
		return a->dport_lo < b->dport_lo ? -1 : 1;
	if (a->dport_hi != b->dport_hi)
		return a->dport_hi < b->dport_hi ? -1 : 1;
	if (a->sport_lo != b->sport_lo)
		return a->sport_lo < b->sport_lo ? -1 : 1;
	if (a->sport_hi != b->sport_hi)
		return a->sport_hi < b->sport_hi ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((d = memcmp(a->set, b->set, sizeof(a->set))) ||
	    (d = memcmp(a->dst_mask, b->dst_mask, 16)) || (d = memcmp(a->dst, b->dst, 16)) ||
	    (d = memcmp(a->src_mask, b->src_mask, 16)) || (d = memcmp(a->src, b->src, 16)))
		return d;
	return *(const __u16 *)pa < *(const __u16 *)pb ? -1 : 1;
}

static int by_u16(const void *pa, const void *pb)
{
	return (int)*(const __u16 *)pa - (int)*(const __u16 *)pb;
}

/* order[] and its inverse *@bit_of: grouped by by_likeness, in table order within a word. */
static void place(const struct ctlua_rule *rules, unsigned int n, struct ctlua_rule_class *c,
		  unsigned int *bit_of)
{
	for (unsigned int i = 0; i < n; i++)
		c->order[i] = (__u16)i;
	qsort_r(c->order, n, sizeof(c->order[0]), by_likeness, (void *)rules);
	/* the lowest bit of a word must be its first rule in the table */
	for (unsigned int w = 0; w < n; w += 64)
		qsort(&c->order[w], n - w < 64 ? n - w : 64, sizeof(c->order[0]), by_u16);
	for (unsigned int k = 0; k < n; k++)
		bit_of[c->order[k]] = k;
}

static int by_lo(const void *pa, const void *pb, void *r)
{
	return cmp_u128(&((const struct range *)r)[*(const unsigned int *)pa].lo,
			&((const struct range *)r)[*(const unsigned int *)pb].lo);
}

static int by_hi(const void *pa, const void *pb, void *r)
{
	return cmp_u128(&((const struct range *)r)[*(const unsigned int *)pa].hi,
			&((const struct range *)r)[*(const unsigned int *)pb].hi);
}

/*
 * The elementary intervals of b->r[0..nr) over [0, max]: their starts into b->start
 * (ascending, start[0] = 0) and each one's set into b->set; returns their number, or
 * -ENOSPC. A sweep: at each start the ranges ending just before leave the current set
 * and those beginning there join it.
 */
static long sweep(struct build *b, unsigned int nr, u128 max)
{
	unsigned int m = 0, k = 1, in = 0, out = 0;
	const struct range *r = b->r;
	long o = 0;

	b->start[m++] = 0;
	for (unsigned int i = 0; i < nr; i++) {
		b->start[m++] = r[i].lo;
		if (r[i].hi < max)
			b->start[m++] = r[i].hi + 1;
		b->by_lo[i] = b->by_hi[i] = i;
	}
	qsort(b->start, m, sizeof(*b->start), cmp_u128);
	for (unsigned int i = 1; i < m; i++)	/* unique */
		if (b->start[i] != b->start[k - 1])
			b->start[k++] = b->start[i];
	qsort_r(b->by_lo, nr, sizeof(*b->by_lo), by_lo, b->r);
	qsort_r(b->by_hi, nr, sizeof(*b->by_hi), by_hi, b->r);
	memset(b->cur, 0, sizeof(b->cur));
	for (unsigned int j = 0; j < k; j++) {
		u128 s = b->start[j];
		bool changed = j == 0;

		for (; out < nr && r[b->by_hi[out]].hi < s; out++, changed = true)
			b->cur[r[b->by_hi[out]].bit / 64] &= ~(1ull << (r[b->by_hi[out]].bit % 64));
		for (; in < nr && r[b->by_lo[in]].lo == s; in++, changed = true)
			b->cur[r[b->by_lo[in]].bit / 64] |= 1ull << (r[b->by_lo[in]].bit % 64);
		if (changed && (o = intern(b)) < 0)
			return o;
		b->set[j] = (__u32)o;
	}
	return k;
}

/* The ranges one address field of the rules of @family covers; returns their number. */
static unsigned int addr_ranges(const struct ctlua_rule *rules, unsigned int n,
				const unsigned int *bit_of, int family, int dst, struct range *out)
{
	u128 max = family == CTLUA_AF_INET ? 0xffffffffu : ~(u128)0;
	unsigned int nr = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct ctlua_rule *r = &rules[i];
		const __be32 *a = dst ? r->dst : r->src, *m = dst ? r->dst_mask : r->src_mask;
		u128 mask;

		if (r->family && r->family != family)
			continue;
		mask = addr_num(m, family);	/* zero for a zero mask in either family */
		out[nr].lo = addr_num(a, family) & mask;
		out[nr].hi = out[nr].lo | (~mask & max);
		out[nr].bit = bit_of[i];
		nr++;
	}
	return nr;
}

/*
 * Entries [@from, @to) of address table @dst of @family: the sweep's @m intervals in
 * b->start and b->set, then copies of the last, which the search may land on.
 */
static void fill_addr(struct build *b, int family, int dst, unsigned int m, unsigned int from,
		      unsigned int to)
{
	struct ctlua_rule_class *c = b->c;

	for (unsigned int j = from; j < to; j++) {
		unsigned int k = j < m ? j : m - 1;
		u128 s = b->start[k];

		if (family == CTLUA_AF_INET) {
			c->v4[dst].start[j] = (__u32)s;
			c->v4[dst].set[j] = b->set[k];
		} else {
			c->v6[dst].start[j][0] = (__u64)(s >> 64);
			c->v6[dst].start[j][1] = (__u64)s;
			c->v6[dst].set[j] = b->set[k];
		}
	}
}

/*
 * Both address dimensions of @family; 0 or -ENOSPC. A table is filled to
 * CTLUA_RULE_SAMPLES while every one seen fits there (short_search: the program reads
 * no further), else to CTLUA_RULE_SPANS; b->filled[] says how far.
 */
static int addr_dims(struct build *b, const struct ctlua_rule *rules, unsigned int n,
		     const unsigned int *bit_of, int family)
{
	u128 max = family == CTLUA_AF_INET ? 0xffffffffu : ~(u128)0;

	for (int dst = 0; dst < 2; dst++) {
		unsigned int nr = addr_ranges(rules, n, bit_of, family, dst, b->r);
		long m = sweep(b, nr, max);
		unsigned int to = CTLUA_RULE_SAMPLES;

		if (m < 0 || m > CTLUA_RULE_SPANS)
			return -ENOSPC;
		if (m > CTLUA_RULE_SAMPLES) {
			b->c->short_search = 0;
			to = CTLUA_RULE_SPANS;
		}
		fill_addr(b, family, dst, (unsigned int)m, 0, to);
		b->filled[family == CTLUA_AF_INET6][dst] = to;
	}
	return 0;
}

/*
 * With short_search 0, the two-level search: the tables filled to CTLUA_RULE_SAMPLES
 * only are filled on with copies of their last entry, and every table gets its samples.
 */
static void addr_spans(struct build *b)
{
	struct ctlua_rule_class *c = b->c;

	for (int dst = 0; dst < 2; dst++) {
		for (int v6 = 0; v6 < 2; v6++) {
			unsigned int last = b->filled[v6][dst] - 1;

			for (unsigned int j = last + 1; j < CTLUA_RULE_SPANS; j++) {
				if (v6) {
					memcpy(c->v6[dst].start[j], c->v6[dst].start[last],
					       sizeof(c->v6[dst].start[j]));
					c->v6[dst].set[j] = c->v6[dst].set[last];
				} else {
					c->v4[dst].start[j] = c->v4[dst].start[last];
					c->v4[dst].set[j] = c->v4[dst].set[last];
				}
			}
		}
		for (unsigned int i = 0; i < CTLUA_RULE_SAMPLES; i++) {
			c->v4[dst].sample[i] = c->v4[dst].start[i * CTLUA_RULE_BLOCK];
			memcpy(c->v6[dst].sample[i], c->v6[dst].start[i * CTLUA_RULE_BLOCK],
			       sizeof(c->v6[dst].sample[i]));
		}
	}
}

/* A port dimension: @src the source port of @proto's rules, else every rule's dport. */
static int port_dim(struct build *b, const struct ctlua_rule *rules, unsigned int n,
		    const unsigned int *bit_of, bool src, int proto, __u32 *cls)
{
	unsigned int nr = 0, k = 0;
	long m;

	for (unsigned int i = 0; i < n; i++) {
		if (src && rules[i].proto && rules[i].proto != proto)
			continue;
		b->r[nr].lo = src ? rules[i].sport_lo : rules[i].dport_lo;
		b->r[nr].hi = src ? rules[i].sport_hi : rules[i].dport_hi;
		b->r[nr].bit = bit_of[i];
		nr++;
	}
	m = sweep(b, nr, 65535);
	if (m < 0)
		return (int)m;
	for (unsigned int j = 0; j < 65536; j++) {
		if (k + 1 < m && b->start[k + 1] == j)
			k++;
		cls[j] = b->set[k];
	}
	return 0;
}

/*
 * The references of @rules into c->ref[] and c->nrefs, and each rule's mask of them in
 * @need[]; -E2BIG when they name more than CTLUA_SET_REFS distinct (field, set) pairs,
 * -EINVAL for a set id past CTLUA_SETS - 1 (a port mask has a bit for each id, no more).
 */
static int collect_refs(const struct ctlua_rule *rules, unsigned int n,
			struct ctlua_rule_class *c, __u32 *need)
{
	c->nrefs = 0;
	for (unsigned int i = 0; i < n; i++) {
		need[i] = 0;
		for (unsigned int f = 0; f < CTLUA_SET_FIELDS; f++) {
			unsigned int k;

			if (!rules[i].set[f])
				continue;
			if (rules[i].set[f] > CTLUA_SETS)
				return -EINVAL;
			for (k = 0; k < c->nrefs; k++)
				if (c->ref[k].field == f && c->ref[k].set == rules[i].set[f] - 1)
					break;
			if (k == c->nrefs) {
				if (k == CTLUA_SET_REFS)
					return -E2BIG;
				c->ref[k].field = (__u8)f;
				c->ref[k].set = (__u8)(rules[i].set[f] - 1);
				c->nrefs++;
			}
			need[i] |= 1u << k;
		}
	}
	return 0;
}

/*
 * The fifth dimension: by_refs[mask] for every mask of the c->nrefs references, the
 * rules whose needed references (@need) all hold under it; 0 or -ENOSPC.
 */
static int refs_dim(struct build *b, unsigned int n, const unsigned int *bit_of,
		    const __u32 *need)
{
	struct ctlua_rule_class *c = b->c;
	long o;

	for (__u32 m = 0; m < 1u << c->nrefs; m++) {
		memset(b->cur, 0, sizeof(b->cur));
		for (unsigned int i = 0; i < n; i++)
			if (!(need[i] & ~m))
				b->cur[bit_of[i] / 64] |= 1ull << (bit_of[i] % 64);
		if ((o = intern(b)) < 0)
			return (int)o;
		c->by_refs[m] = (__u32)o;
	}
	return 0;
}

int ctl_rule_class_build(const struct ctlua_rule *rules, unsigned int n,
			 struct ctlua_rule_class *c)
{
	struct build b = { .c = c, .nslots = 2 };
	unsigned int *bit_of = NULL;
	__u32 *need = NULL;
	int err = -ENOMEM;

	if (n > CTLUA_MAX_RULES)
		return -E2BIG;
	/* the empty set at offset 0: what a dimension without rules gives everywhere */
	memset(c->pool, 0, CTLUA_RULE_SET_HEAD * sizeof(c->pool[0]));
	c->pool_used = CTLUA_RULE_SET_HEAD;
	if (!n) {	/* every table all zero: the empty set everywhere */
		memset(c, 0, offsetof(struct ctlua_rule_class, pool));
		c->pool_used = CTLUA_RULE_SET_HEAD;
		return 0;
	}
	/*
	 * The rest is written below, each part as far as the program reads it: the address
	 * tables (addr_dims, addr_spans), the port tables whole, order[0..n)
	 */
	/* the references first: a table naming too many is refused before any work */
	memset(c->ref, 0, sizeof(c->ref));
	memset(c->by_refs, 0, sizeof(c->by_refs));
	if (!(need = malloc((n + 1) * sizeof(*need))))
		return -ENOMEM;
	if ((err = collect_refs(rules, n, c, need))) {
		free(need);
		return err;
	}
	err = -ENOMEM;
	while (b.nslots < 2 * (BUILD_DIMS * (2 * n + 1) + (1u << CTLUA_SET_REFS)) &&
	       b.nslots < BUILD_SLOTS)
		b.nslots *= 2;
	b.slots = calloc(b.nslots, sizeof(*b.slots));
	b.hashes = malloc(b.nslots * sizeof(*b.hashes));
	b.r = malloc(n * sizeof(*b.r));
	b.by_lo = malloc(n * sizeof(*b.by_lo));
	b.by_hi = malloc(n * sizeof(*b.by_hi));
	b.start = malloc((2 * n + 1) * sizeof(*b.start));
	b.set = malloc((2 * n + 1) * sizeof(*b.set));
	bit_of = malloc(n * sizeof(*bit_of));
	if (!b.slots || !b.hashes || !b.r || !b.by_lo || !b.by_hi || !b.start || !b.set || !bit_of)
		goto out;
	place(rules, n, c, bit_of);
	c->short_search = 1;	/* until a dimension has more intervals */
	if ((err = addr_dims(&b, rules, n, bit_of, CTLUA_AF_INET)) ||
	    (err = addr_dims(&b, rules, n, bit_of, CTLUA_AF_INET6)) ||
	    (err = port_dim(&b, rules, n, bit_of, false, 0, c->dport)) ||
	    (err = port_dim(&b, rules, n, bit_of, true, IPPROTO_TCP, c->sport[0])) ||
	    (err = port_dim(&b, rules, n, bit_of, true, IPPROTO_UDP, c->sport[1])) ||
	    (c->nrefs && (err = refs_dim(&b, n, bit_of, need))))
		goto out;
	if (!c->short_search)
		addr_spans(&b);
out:
	free(need);
	free(bit_of);
	free(b.set);
	free(b.start);
	free(b.by_hi);
	free(b.by_lo);
	free(b.r);
	free(b.hashes);
	free(b.slots);
	return err;
}

size_t ctl_rule_class_size(const struct ctlua_rule_class *c)
{
	return offsetof(struct ctlua_rule_class, pool) + c->pool_used * sizeof(c->pool[0]);
}

/* Entry @j of @table's starts (@sample: of its samples) as a number. */
static u128 start_at(const void *table, int family, bool sample, unsigned int j)
{
	const struct ctlua_rule_v4 *t4 = table;
	const struct ctlua_rule_v6 *t6 = table;
	const __u64 *s6 = sample ? t6->sample[j] : t6->start[j];

	if (family == CTLUA_AF_INET)
		return sample ? t4->sample[j] : t4->start[j];
	return (u128)s6[0] << 64 | s6[1];
}

/*
 * The program's search (ctlua.h): the last sample <= @a, then in its block the last
 * start; with @one_level the last of the first CTLUA_RULE_SAMPLES starts <= @a.
 */
static unsigned int span_of(const void *table, int family, u128 a, bool one_level)
{
	unsigned int base = 0;

	if (one_level) {
		for (unsigned int step = CTLUA_RULE_SAMPLES / 2; step; step >>= 1)
			if (start_at(table, family, false, base + step) <= a)
				base += step;
		return base;
	}

	for (unsigned int step = CTLUA_RULE_SAMPLES / 2; step; step >>= 1)
		if (start_at(table, family, true, base + step) <= a)
			base += step;
	base *= CTLUA_RULE_BLOCK;
	for (unsigned int step = CTLUA_RULE_BLOCK / 2; step; step >>= 1)
		if (start_at(table, family, false, base + step) <= a)
			base += step;
	return base;
}

__u32 ctl_rule_class_refs(const struct ctlua_rule_class *c, const struct ctlua_flow *f,
			  bool (*holds)(void *ctx, unsigned int field, unsigned int set,
					const struct ctlua_flow *f),
			  void *ctx)
{
	__u32 mask = 0;

	for (unsigned int i = 0; i < c->nrefs && i < CTLUA_SET_REFS; i++)
		if (holds(ctx, c->ref[i].field, c->ref[i].set, f))
			mask |= 1u << i;
	return mask;
}

unsigned int ctl_rule_class_lookup(const struct ctlua_rule_class *c, const struct ctlua_flow *f,
				   __u32 refs)
{
	const __u64 *p = c->pool;
	__u32 set[5], best = CTLUA_MAX_RULES;
	bool one = c->short_search;
	int fam = f->family, nsets = c->nrefs ? 5 : 4;

	if (fam == CTLUA_AF_INET) {
		set[0] = c->v4[0].set[span_of(&c->v4[0], fam, addr_num(f->saddr, fam), one)];
		set[1] = c->v4[1].set[span_of(&c->v4[1], fam, addr_num(f->daddr, fam), one)];
	} else {
		set[0] = c->v6[0].set[span_of(&c->v6[0], fam, addr_num(f->saddr, fam), one)];
		set[1] = c->v6[1].set[span_of(&c->v6[1], fam, addr_num(f->daddr, fam), one)];
	}
	set[2] = c->dport[ntohs(f->dport)];
	set[3] = c->sport[f->proto == IPPROTO_UDP][ntohs(f->sport)];
	set[4] = c->by_refs[refs & ((1u << CTLUA_SET_REFS) - 1)];
	for (unsigned int q = 0; q < CTLUA_RULE_SUMMARY; q++) {
		__u64 cand = ~0ull;

		for (int k = 0; k < nsets; k++)
			cand &= p[set[k] + q];
		for (; cand; cand &= cand - 1) {
			__u64 bit = cand & -cand, w = ~0ull;
			unsigned int pos;

			for (int k = 0; k < nsets; k++) {
				unsigned int rank = (p[set[k] + CTLUA_RULE_SUMMARY] >> (16 * q)) & 0xffff;

				rank += (unsigned int)__builtin_popcountll(p[set[k] + q] & (bit - 1));
				w &= p[set[k] + CTLUA_RULE_SET_HEAD + rank];
			}
			if (!w)
				continue;
			pos = (q * 64 + (unsigned int)__builtin_ctzll(bit)) * 64 +
			      (unsigned int)__builtin_ctzll(w);
			if (c->order[pos] < best)
				best = c->order[pos];
		}
	}
	return best;
}

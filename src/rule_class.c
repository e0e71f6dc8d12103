// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rule_class.c - building the rule classifier the TC program uses to find a packet's
 * first matching rule at a cost that does not depend on the rule count (ctlua.h, struct
 * ctlua_rule_class; doc/performance.md, "Rules at scale"), and looking it up in C.
 *
 * Each dimension (source and destination address per family, destination port) is cut
 * into elementary intervals at every rule's bounds: no rule's range begins or ends
 * inside one, so every address of an interval matches the same rules, and the set
 * stored for it is exact.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "rule_class.h"

typedef unsigned __int128 u128;

struct range {
	u128 lo, hi;
	unsigned int rule;
};

static void set_bit(struct ctlua_rule_bits *b, unsigned int i)
{
	b->w[i / 64] |= 1ull << (i % 64);
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

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The elementary intervals of @r[0..nr) over [0, max]: their starts into @start
 * (ascending, start[0] = 0), the rules covering each into @bits; returns their number,
 * at most 2 * nr + 1.
 */
static unsigned int spans(const struct range *r, unsigned int nr, u128 max, u128 *start,
			  struct ctlua_rule_bits *bits)
{
	unsigned int m = 0, k = 1;

	start[m++] = 0;
	for (unsigned int i = 0; i < nr; i++) {
		start[m++] = r[i].lo;
		if (r[i].hi < max)
			start[m++] = r[i].hi + 1;
	}
	qsort(start, m, sizeof(*start), cmp_u128);
	for (unsigned int i = 1; i < m; i++)	/* unique */
		if (start[i] != start[k - 1])
			start[k++] = start[i];
	memset(bits, 0, k * sizeof(*bits));
	for (unsigned int j = 0; j < k; j++)
		for (unsigned int i = 0; i < nr; i++)
			if (r[i].lo <= start[j] && start[j] <= r[i].hi)
				set_bit(&bits[j], r[i].rule);
	return k;
}

/* The ranges one address field of the rules of @family covers; returns their number. */
static unsigned int addr_ranges(const struct ctlua_rule *rules, unsigned int n, int family,
				int dst, struct range *out)
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
		out[nr].rule = i;
		nr++;
	}
	return nr;
}

/* A port dimension (@src: the source port) into @bits and @cls; @r and @start: scratch. */
static void port_dim(const struct ctlua_rule *rules, unsigned int n, bool src, struct range *r,
		     u128 *start, struct ctlua_rule_bits *bits, __u16 *cls)
{
	unsigned int m, j, k;

	for (unsigned int i = 0; i < n; i++) {
		r[i].lo = src ? rules[i].sport_lo : rules[i].dport_lo;
		r[i].hi = src ? rules[i].sport_hi : rules[i].dport_hi;
		r[i].rule = i;
	}
	m = spans(r, n, 65535, start, bits);
	for (k = 0, j = 0; j < 65536; j++) {
		if (k + 1 < m && start[k + 1] == j)
			k++;
		cls[j] = (__u16)k;
	}
}

void ctl_rule_class_build(const struct ctlua_rule *rules, unsigned int n,
			  struct ctlua_rule_class *c)
{
	struct range r[CTLUA_MAX_RULES];	/* 12 KB */
	u128 start[2 * CTLUA_MAX_RULES + 1];	/* 8 KB */
	unsigned int nr, m, j, i;

	memset(c, 0, sizeof(*c));
	for (int dst = 0; dst < 2; dst++) {
		struct ctlua_rule_v4 *t4 = &c->v4[dst];
		struct ctlua_rule_v6 *t6 = &c->v6[dst];

		nr = addr_ranges(rules, n, CTLUA_AF_INET, dst, r);
		m = spans(r, nr, 0xffffffffu, start, t4->bits);
		for (j = 0; j < CTLUA_RULE_SPANS; j++) {
			/* past the last interval: copies of it, which the search may land on */
			t4->start[j] = (__u32)start[j < m ? j : m - 1];
			if (j >= m)
				t4->bits[j] = t4->bits[m - 1];
		}
		nr = addr_ranges(rules, n, CTLUA_AF_INET6, dst, r);
		m = spans(r, nr, ~(u128)0, start, t6->bits);
		for (j = 0; j < CTLUA_RULE_SPANS; j++) {
			u128 s = start[j < m ? j : m - 1];

			t6->start[j][0] = (__u64)(s >> 64);
			t6->start[j][1] = (__u64)s;
			if (j >= m)
				t6->bits[j] = t6->bits[m - 1];
		}
	}
	for (i = 0; i < n; i++) {
		if (!rules[i].proto || rules[i].proto == IPPROTO_TCP)
			set_bit(&c->proto_bits[0], i);
		if (!rules[i].proto || rules[i].proto == IPPROTO_UDP)
			set_bit(&c->proto_bits[1], i);
	}
	port_dim(rules, n, false, r, start, c->port_bits, c->port_class);
	port_dim(rules, n, true, r, start, c->sport_bits, c->sport_class);
}

/* The program's binary search: a fixed number of steps, the last start <= @a. */
static unsigned int span_of(const void *table, int family, u128 a)
{
	unsigned int base = 0;

	for (unsigned int step = CTLUA_RULE_SPANS / 2; step; step >>= 1) {
		unsigned int j = base + step;
		u128 s;

		if (family == CTLUA_AF_INET)
			s = ((const struct ctlua_rule_v4 *)table)->start[j];
		else
			s = (u128)((const struct ctlua_rule_v6 *)table)->start[j][0] << 64 |
			    ((const struct ctlua_rule_v6 *)table)->start[j][1];
		if (s <= a)
			base = j;
	}
	return base;
}

unsigned int ctl_rule_class_lookup(const struct ctlua_rule_class *c, const struct ctlua_flow *f)
{
	const struct ctlua_rule_bits *src, *dst, *proto, *port, *sport;
	int fam = f->family;

	if (fam == CTLUA_AF_INET) {
		src = &c->v4[0].bits[span_of(&c->v4[0], fam, addr_num(f->saddr, fam))];
		dst = &c->v4[1].bits[span_of(&c->v4[1], fam, addr_num(f->daddr, fam))];
	} else {
		src = &c->v6[0].bits[span_of(&c->v6[0], fam, addr_num(f->saddr, fam))];
		dst = &c->v6[1].bits[span_of(&c->v6[1], fam, addr_num(f->daddr, fam))];
	}
	proto = &c->proto_bits[f->proto == IPPROTO_UDP];
	port = &c->port_bits[c->port_class[ntohs(f->dport)]];
	sport = &c->sport_bits[c->sport_class[ntohs(f->sport)]];
	for (unsigned int i = 0; i < CTLUA_RULE_WORDS; i++) {
		__u64 w = src->w[i] & dst->w[i] & proto->w[i] & port->w[i] & sport->w[i];

		if (w)
			return i * 64 + (unsigned int)__builtin_ctzll(w);
	}
	return CTLUA_MAX_RULES;
}

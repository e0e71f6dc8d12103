/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rulegen.h - random rule tables and flows for comparing the rule classifier with the
 * ordered scan (tests/unit/rule_class.c, in C and in the kernel). Rules are compiled by
 * ctl_rule_compile from text, as ct.rule does; addresses come from small pools inside
 * 198.18.0.0/15 and 2001:db8::/32 so that prefixes overlap and flows often match
 * several rules, the case where first-match order decides.
 */
#ifndef CTLUA_TEST_RULEGEN_H
#define CTLUA_TEST_RULEGEN_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "rules.h"

static uint64_t rulegen_state;
/* Addresses from wider pools: tables with thousands of intervals. */
static int rulegen_wide;
/* Rules name sets (rg_refs) one time in three: the classifier's fifth dimension. */
static int rulegen_sets;

/*
 * The sets rules may name: prefix sets 0, 3, 9 and 17, port sets 20 and 31 (ids of both
 * ends of a port mask), and the eight (field, set) pairs of rg_refs, CTLUA_SET_REFS: any
 * table of rg_rule's stays within the limit.
 */
#define RG_MEMBERS	6
struct rg_set {
	unsigned int n;			/* members */
	int family[RG_MEMBERS];		/* of a prefix */
	uint8_t addr[RG_MEMBERS][16];	/* network order, bits past plen zero */
	unsigned int plen[RG_MEMBERS];
	uint16_t lo[RG_MEMBERS], hi[RG_MEMBERS];	/* of a port range */
};
static struct rg_set rg_sets[CTLUA_SETS];
static const uint8_t rg_prefix_sets[] = { 0, 3, 9, 17 }, rg_port_sets[] = { 20, 31 };
static const struct {
	uint8_t field, set;
} rg_refs[CTLUA_SET_REFS] = {
	{ CTLUA_SET_SRC, 3 }, { CTLUA_SET_SRC, 9 }, { CTLUA_SET_DST, 9 }, { CTLUA_SET_DST, 17 },
	{ CTLUA_SET_SRC, 0 }, { CTLUA_SET_SPORT, 31 }, { CTLUA_SET_DPORT, 20 },
	{ CTLUA_SET_DPORT, 31 },
};

/*
 * The membership oracle (ctl_rule_class_refs's @holds): whether set @set holds @f's
 * field @field, by trying every member; written here, not shared with src/sets.c.
 */
static inline bool rg_holds(void *ctx, unsigned int field, unsigned int set,
			    const struct ctlua_flow *f)
{
	const struct rg_set *s = &((const struct rg_set *)ctx)[set % CTLUA_SETS];
	unsigned int port = ntohs(field == CTLUA_SET_SPORT ? f->sport : f->dport);
	const uint8_t *a = (const uint8_t *)(field == CTLUA_SET_SRC ? f->saddr : f->daddr);

	for (unsigned int i = 0; i < s->n; i++) {
		unsigned int l = s->plen[i], k;

		if (field >= CTLUA_SET_SPORT) {
			if (port >= s->lo[i] && port <= s->hi[i])
				return true;
			continue;
		}
		if (s->family[i] != f->family)
			continue;
		for (k = 0; k < l / 8 && a[k] == s->addr[i][k]; k++)
			;
		if (k == l / 8 && (l % 8 == 0 || !((a[k] ^ s->addr[i][k]) >> (8 - l % 8))))
			return true;
	}
	return false;
}

/*
 * The reference: try the rules in their order, as the program did before the classifier,
 * written here and not shared with src/ so a mistake there cannot agree with itself.
 * Addresses compared byte by byte under the mask; a rule naming a set matches only
 * when @holds(@ctx, ...) says its set holds the field (never with @holds NULL).
 * CTLUA_MAX_RULES if none matches.
 */
static inline unsigned int rg_scan_sets(const struct ctlua_rule *rules, unsigned int n,
					const struct ctlua_flow *f,
					bool (*holds)(void *ctx, unsigned int field,
						      unsigned int set, const struct ctlua_flow *f),
					void *ctx)
{
	unsigned int dport = (unsigned int)ntohs(f->dport), sport = (unsigned int)ntohs(f->sport);

	for (unsigned int i = 0; i < n; i++) {
		const struct ctlua_rule *r = &rules[i];
		const uint8_t *sw = (const uint8_t *)r->src, *sm = (const uint8_t *)r->src_mask;
		const uint8_t *dw = (const uint8_t *)r->dst, *dm = (const uint8_t *)r->dst_mask;
		const uint8_t *sa = (const uint8_t *)f->saddr, *da = (const uint8_t *)f->daddr;
		int good = (!r->family || r->family == f->family) &&
			   (!r->proto || r->proto == f->proto) &&
			   dport >= r->dport_lo && dport <= r->dport_hi &&
			   sport >= r->sport_lo && sport <= r->sport_hi;

		for (int k = 0; good && k < 16; k++)
			good = (sa[k] & sm[k]) == (sw[k] & sm[k]) && (da[k] & dm[k]) == (dw[k] & dm[k]);
		for (unsigned int k = 0; good && k < CTLUA_SET_FIELDS; k++)
			good = !r->set[k] || (holds && holds(ctx, k, r->set[k] - 1u, f));
		if (good)
			return i;
	}
	return CTLUA_MAX_RULES;
}

static inline unsigned int rg_scan(const struct ctlua_rule *rules, unsigned int n,
				   const struct ctlua_flow *f)
{
	return rg_scan_sets(rules, n, f, NULL, NULL);
}

static inline uint32_t rg_next(void)
{
	/* xorshift64*: fixed sequences from a printed seed */
	rulegen_state ^= rulegen_state >> 12;
	rulegen_state ^= rulegen_state << 25;
	rulegen_state ^= rulegen_state >> 27;
	return (uint32_t)((rulegen_state * 2685821657736338717ull) >> 32);
}

static inline uint32_t rg(uint32_t n)
{
	return rg_next() % n;
}

/* An address of @family from the pool, as text. */
static inline void rg_addr(int family, char *buf, size_t len)
{
	if (rulegen_wide && family == CTLUA_AF_INET)
		snprintf(buf, len, "198.%u.%u.%u", 18 + rg(2), rg(8), rg(256));
	else if (rulegen_wide)
		snprintf(buf, len, "2001:db8:%x::%x", rg(4), rg(2048));
	else if (family == CTLUA_AF_INET)
		snprintf(buf, len, "198.%u.%u.%u", 18 + rg(2), rg(3) * 64, rg(4) == 0 ? 255 : rg(6));
	else
		snprintf(buf, len, "2001:db8:%x::%x:%x", rg(3), rg(4) == 0 ? 0xffff : rg(3),
			 rg(5));
}

static inline int rg_len(int family)
{
	static const int v4[] = { 0, 1, 8, 15, 16, 17, 18, 24, 26, 30, 31, 32 };
	static const int v6[] = { 0, 1, 16, 32, 33, 48, 64, 96, 111, 112, 127, 128 };

	return family == CTLUA_AF_INET ? v4[rg(12)] : v6[rg(12)];
}

/*
 * A random port field (struct ctl_rule_spec): any port one time in @any_in, else one
 * port or a range from a pool with near neighbours.
 */
static inline void rg_port(int *items, bool *ints, long long *lo, long long *hi,
			   unsigned int any_in)
{
	static const uint16_t ports[] = { 0, 1, 53, 80, 443, 1000, 1024, 8080, 65534, 65535 };
	uint16_t x, y;

	if (rg(any_in) == 0)
		return;
	if (rg(3) == 0) {
		*items = -1;
		*lo = ports[rg(10)];
		return;
	}
	x = ports[rg(10)];
	y = rg(2) ? ports[rg(10)] : (uint16_t)(x + rg(100));
	if (y < x) {
		uint16_t t = x;

		x = y;
		y = t;
	}
	*items = 2;
	*ints = true;
	*lo = x;
	*hi = y;
}

/*
 * New random members for the sets of rg_refs: none to RG_MEMBERS each, prefixes of both
 * families from the address pools, port ranges from the port pool.
 */
static inline void rg_fill_sets(void)
{
	char a[48];

	memset(rg_sets, 0, sizeof(rg_sets));
	for (unsigned int i = 0; i < sizeof(rg_prefix_sets); i++) {
		struct rg_set *s = &rg_sets[rg_prefix_sets[i]];

		s->n = rg(RG_MEMBERS + 1);
		for (unsigned int m = 0; m < s->n; m++) {
			int fam = rg(2) ? CTLUA_AF_INET : CTLUA_AF_INET6;
			unsigned int l = (unsigned int)rg_len(fam);

			rg_addr(fam, a, sizeof(a));
			inet_pton(fam == CTLUA_AF_INET ? AF_INET : AF_INET6, a, s->addr[m]);
			for (unsigned int b = l; b < 128; b++)
				s->addr[m][b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			s->family[m] = fam;
			s->plen[m] = l;
		}
	}
	for (unsigned int i = 0; i < sizeof(rg_port_sets); i++) {
		struct rg_set *s = &rg_sets[rg_port_sets[i]];

		s->n = rg(RG_MEMBERS + 1);
		for (unsigned int m = 0; m < s->n; m++) {
			int items = 0;
			bool ints = false;
			long long lo = 0, hi = 0;

			rg_port(&items, &ints, &lo, &hi, 1000);
			s->lo[m] = (uint16_t)lo;
			s->hi[m] = (uint16_t)(items == 2 ? hi : lo);
		}
	}
}

/* A random rule at @r, compiled; 0 or -EINVAL (then try again). */
static inline int rg_rule(struct ctlua_rule *r)
{
	char src[64], dst[64], why[200], a[48];
	struct ctl_rule_spec spec;
	int family = rg(3) == 0 ? 0 : rg(2) ? CTLUA_AF_INET : CTLUA_AF_INET6;
	int pf = family ? family : (rg(2) ? CTLUA_AF_INET : CTLUA_AF_INET6);

	memset(&spec, 0, sizeof(spec));
	spec.family = family && rg(2) ? family : 0;
	spec.proto = rg(3) == 0 ? "tcp" : rg(2) ? "udp" : NULL;
	if (family && rg(3)) {
		rg_addr(pf, a, sizeof(a));
		snprintf(src, sizeof(src), "%s/%d", a, rg_len(pf));
		spec.src = src;
	}
	if (family && rg(3)) {
		rg_addr(pf, a, sizeof(a));
		snprintf(dst, sizeof(dst), "%s/%d", a, rg_len(pf));
		spec.dst = dst;
	}
	if (family && !spec.src && !spec.dst)
		spec.family = family;	/* a family without addresses */
	rg_port(&spec.dport.items, &spec.dport.ints, &spec.dport.lo, &spec.dport.hi, 4);
	rg_port(&spec.sport.items, &spec.sport.ints, &spec.sport.lo, &spec.sport.hi, 2);
	spec.verdict.action = (uint8_t)rg(3);
	if (ctl_rule_compile(&spec, r, why, sizeof(why)))
		return -EINVAL;
	/* one or two set references, with the other matches */
	for (unsigned int k = rulegen_sets && rg(3) == 0 ? 1 + rg(2) : 0; k; k--) {
		unsigned int i = rg(CTLUA_SET_REFS);

		r->set[rg_refs[i].field] = rg_refs[i].set + 1;
	}
	return 0;
}

/* @n random rules into @out, ids 1..n. */
static inline void rg_rules(struct ctlua_rule *out, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		while (rg_rule(&out[i]))
			;
		out[i].id = out[i].verdict.rule_id = i + 1;
	}
}

/* A random TCP or UDP flow from the same pools. */
static inline void rg_flow(struct ctlua_flow *f)
{
	static const uint16_t ports[] = { 0, 1, 2, 52, 53, 54, 80, 443, 999, 1000, 1001, 1023,
					  1024, 8080, 8081, 40000, 65534, 65535 };
	char a[48];

	memset(f, 0, sizeof(*f));
	f->family = rg(2) ? CTLUA_AF_INET : CTLUA_AF_INET6;
	f->proto = rg(2) ? IPPROTO_TCP : IPPROTO_UDP;
	rg_addr(f->family, a, sizeof(a));
	inet_pton(f->family == CTLUA_AF_INET ? AF_INET : AF_INET6, a, f->saddr);
	rg_addr(f->family, a, sizeof(a));
	inet_pton(f->family == CTLUA_AF_INET ? AF_INET : AF_INET6, a, f->daddr);
	f->sport = htons(rg(2) ? ports[rg(18)] : (uint16_t)rg_next());
	f->dport = htons(rg(4) ? ports[rg(18)] : (uint16_t)rg_next());
}

#endif

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sets.c - TAP tests of the host's named sets (src/sets.c) in a dry state (no datapath,
 * no kernel): ids, names and kinds; prefix sets held to an oracle of their own (a plain
 * list scanned for the longest prefix holding an address) through random adds and
 * deletes that exercise the hash's growth and its backward-shift deletion; port sets to
 * a plain array of booleans; the membership test rule decisions take (ctl_sets_hold).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "sets.h"
#include "tap.h"

static void names(void)
{
	struct ctl_sets *s;
	enum ctl_set_kind k;
	char name[16];
	int a, b;

	ok(ctl_sets_new(&s, NULL) == 0, "sets: a dry state's");
	a = ctl_set_get(s, "bl", CTL_SET_PREFIX);
	b = ctl_set_get(s, "web", CTL_SET_PORT);
	ok(a == 0 && b == 1, "sets: a dry state numbers its ids from 0 (%d, %d)", a, b);
	ok(ctl_set_get(s, "bl", CTL_SET_PREFIX) == a, "sets: the same name is the same set");
	ok(ctl_set_get(s, "bl", CTL_SET_PORT) == -EEXIST, "sets: the other kind is -EEXIST");
	ok(ctl_set_find(s, "web", &k) == b && k == CTL_SET_PORT, "sets: find gives id and kind");
	ok(ctl_set_find(s, "nope", NULL) == -ENOENT, "sets: find of an unknown name: -ENOENT");
	ok(!strcmp(ctl_set_name(s, (unsigned int)b), "web") && !ctl_set_name(s, 5) &&
	   !ctl_set_name(s, 99), "sets: names by id, NULL for ids none has");
	for (int i = 2; i < CTLUA_SETS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		if (ctl_set_get(s, name, CTL_SET_PREFIX) != i)
			break;
	}
	ok(ctl_set_get(s, "one-more", CTL_SET_PREFIX) == -ENOSPC,
	   "sets: set %d of %d is -ENOSPC", CTLUA_SETS + 1, CTLUA_SETS);
	ctl_sets_free(s);
}

struct pfx {
	__be32 addr[4];
	int family;
	unsigned int plen;
	bool in;
};

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

/* @a masked to @plen bits (of a @bits-bit address), into @out. */
static void mask_to(const __be32 a[4], unsigned int plen, __be32 out[4])
{
	for (unsigned int w = 0; w < 4; w++) {
		unsigned int from = w * 32;
		__u32 keep = plen <= from ? 0 : plen >= from + 32 ? ~0u
						       : ~0u << (32 - (plen - from));

		out[w] = a[w] & htonl(keep);
	}
}

/* A random address near the others: 198.18.x.y, or 2001:db8::x:y (few bits vary). */
static int random_addr(__be32 a[4])
{
	memset(a, 0, 16);
	if (rnd(2)) {
		a[0] = htonl(0xc6120000u | rnd(1u << 12));
		return CTLUA_AF_INET;
	}
	a[0] = htonl(0x20010db8u);
	a[3] = htonl(rnd(1u << 12));
	a[1] = htonl(rnd(4) << 30);
	return CTLUA_AF_INET6;
}

/* The oracle: the longest prefix of @p held that holds @a, its length or -1. */
static int oracle(const struct pfx *p, unsigned int n, int family, const __be32 a[4])
{
	int best = -1;

	for (unsigned int i = 0; i < n; i++) {
		__be32 m[4];

		if (!p[i].in || p[i].family != family || (int)p[i].plen <= best)
			continue;
		mask_to(a, p[i].plen, m);
		if (!memcmp(m, p[i].addr, 16))
			best = (int)p[i].plen;
	}
	return best;
}

static void prefixes(void)
{
	enum { N = 3000, PROBES = 20000 };
	struct pfx *p = calloc(N, sizeof(*p));
	unsigned int held = 0, bad = 0, badcount = 0;
	struct ctl_sets *s;
	int id;

	srandom(14);
	ctl_sets_new(&s, NULL);
	id = ctl_set_get(s, "p", CTL_SET_PREFIX);
	for (unsigned int i = 0; i < N; i++) {
		__be32 a[4];

		p[i].family = random_addr(a);
		p[i].plen = p[i].family == CTLUA_AF_INET ? 16 + rnd(17) : 64 + rnd(65);
		mask_to(a, p[i].plen, p[i].addr);
	}
	/* rounds of adds and deletes, the count checked against the oracle's each time */
	for (int round = 0; round < 6; round++) {
		for (unsigned int k = 0; k < N; k++) {
			struct pfx *x = &p[rnd(N)];
			bool add = round < 3 ? rnd(4) != 0 : rnd(2) != 0;
			int err = add ? ctl_set_add_prefix(s, (unsigned int)id, x->family, x->addr,
							   x->plen)
				      : ctl_set_del_prefix(s, (unsigned int)id, x->family, x->addr,
							   x->plen);
			if (err)
				bad++;
			/* duplicates in p share one member: set them all alike */
			for (unsigned int j = 0; j < N; j++)
				if (p[j].family == x->family && p[j].plen == x->plen &&
				    !memcmp(p[j].addr, x->addr, 16))
					p[j].in = add;
		}
		held = 0;
		for (unsigned int i = 0; i < N; i++) {
			bool dup = false;

			for (unsigned int j = 0; j < i && p[i].in && !dup; j++)
				dup = p[j].family == p[i].family && p[j].plen == p[i].plen &&
				      !memcmp(p[j].addr, p[i].addr, 16);
			held += p[i].in && !dup;
		}
		if (ctl_set_count(s, (unsigned int)id) != held)
			badcount++;
	}
	ok(!bad, "prefix set: %d adds and deletes return 0", 6 * N);
	ok(!badcount, "prefix set: its count is the oracle's after each round (%u now)", held);
	bad = 0;
	for (unsigned int k = 0; k < PROBES; k++) {
		__be32 a[4];
		int family = random_addr(a), want = oracle(p, N, family, a);
		unsigned int plen = 999;
		bool has = ctl_set_has_addr(s, (unsigned int)id, family, a, &plen);

		if (has != (want >= 0) || (has && (int)plen != want))
			bad++;
	}
	ok(!bad, "prefix set: has() and its longest prefix agree with the oracle on %d addresses "
	   "(%u differ)", PROBES, bad);
	ok(ctl_set_add_prefix(s, (unsigned int)id, CTLUA_AF_INET,
			      (const __be32[4]){ htonl(0xc6120001u) }, 24) == -EINVAL,
	   "prefix set: an address with bits past its length is -EINVAL");
	ok(ctl_set_flush(s, (unsigned int)id) == 0 && ctl_set_count(s, (unsigned int)id) == 0,
	   "prefix set: flush empties it");
	bad = 0;
	for (unsigned int i = 0; i < N; i++)
		bad += ctl_set_has_addr(s, (unsigned int)id, p[i].family, p[i].addr, NULL);
	ok(!bad, "prefix set: nothing is held after the flush");
	ctl_sets_free(s);
	free(p);
}

struct runs {
	char text[256];
};

static void run_text(void *ctx, int family, const __be32 addr[4], unsigned int plen, __u16 lo,
		     __u16 hi)
{
	struct runs *r = ctx;
	size_t n = strlen(r->text);

	(void)family, (void)addr, (void)plen;
	snprintf(r->text + n, sizeof(r->text) - n, "%u-%u ", lo, hi);
}

static void ports(void)
{
	static bool want[65536];
	struct runs r = { "" };
	struct ctl_sets *s;
	unsigned int bad = 0, n = 0;
	int id;

	srandom(15);
	ctl_sets_new(&s, NULL);
	id = ctl_set_get(s, "web", CTL_SET_PORT);
	for (int k = 0; k < 400; k++) {
		unsigned int lo = rnd(65536), hi = lo + rnd(300);
		bool add = rnd(3) != 0;

		hi = hi > 65535 ? 65535 : hi;
		if ((add ? ctl_set_add_ports : ctl_set_del_ports)(s, (unsigned int)id, (__u16)lo,
								  (__u16)hi))
			bad++;
		for (unsigned int p = lo; p <= hi; p++)
			want[p] = add;
	}
	for (unsigned int p = 0; p < 65536; p++) {
		bad += ctl_set_has_port(s, (unsigned int)id, (__u16)p) != want[p];
		n += want[p];
	}
	ok(!bad && ctl_set_count(s, (unsigned int)id) == n,
	   "port set: has() and count agree with the oracle after random ranges (%u ports)", n);
	ctl_set_flush(s, (unsigned int)id);
	ctl_set_add_ports(s, (unsigned int)id, 80, 80);
	ctl_set_add_ports(s, (unsigned int)id, 8000, 8099);
	ctl_set_add_ports(s, (unsigned int)id, 8100, 8100);
	ctl_set_add_ports(s, (unsigned int)id, 65535, 65535);
	ctl_set_each(s, (unsigned int)id, NULL, run_text, &r);	/* a port set needs no scratch */
	ok(!strcmp(r.text, "80-80 8000-8100 65535-65535 "), "port set: listed as runs ('%s')",
	   r.text);
	ok(ctl_set_count(s, (unsigned int)id) == 103, "port set: count is the ports (103)");
	ctl_sets_free(s);
}

/* ctl_set_add_prefixes: the list as the single adds would leave it, or nothing when bad. */
static void add_many(void)
{
	struct ctl_set_prefix in[5] = {
		{ { htonl(0xc6120000u) }, CTLUA_AF_INET, 24 },
		{ { htonl(0x20010db8u) }, CTLUA_AF_INET6, 32 },
		{ { htonl(0xc6120000u) }, CTLUA_AF_INET, 24 },	/* twice in the list */
		{ { htonl(0xc6130001u) }, CTLUA_AF_INET, 32 },	/* held already */
		{ { htonl(0xc6120001u) }, CTLUA_AF_INET, 24 },	/* bits past its length */
	};
	struct ctl_sets *s;
	unsigned int done = 99, plen = 0;
	int id;

	ctl_sets_new(&s, NULL);
	id = ctl_set_get(s, "p", CTL_SET_PREFIX);
	ctl_set_add_prefix(s, (unsigned int)id, CTLUA_AF_INET, in[3].addr, 32);
	ok(ctl_set_add_prefixes(s, (unsigned int)id, in, 5, &done) == -EINVAL && done == 0 &&
	   ctl_set_count(s, (unsigned int)id) == 1, "add many: a bad prefix adds none (-EINVAL)");
	ok(ctl_set_add_prefixes(s, (unsigned int)id, in, 4, &done) == 0 && done == 4 &&
	   ctl_set_count(s, (unsigned int)id) == 3,
	   "add many: both families, a prefix twice and one held: 3 held");
	ok(ctl_set_has_addr(s, (unsigned int)id, CTLUA_AF_INET6,
			    (const __be32[4]){ htonl(0x20010db8u), 0, 0, htonl(1) }, &plen) &&
	   plen == 32, "add many: the IPv6 prefix answers has()");
	ctl_sets_free(s);
}

static void hold(void)
{
	struct ctl_sets *s;
	struct ctlua_flow f = { .family = CTLUA_AF_INET, .proto = 17 };
	int bl, web;

	ctl_sets_new(&s, NULL);
	bl = ctl_set_get(s, "bl", CTL_SET_PREFIX);
	web = ctl_set_get(s, "web", CTL_SET_PORT);
	ctl_set_add_prefix(s, (unsigned int)bl, CTLUA_AF_INET,
			   (const __be32[4]){ htonl(0xc6120000u) }, 24);
	ctl_set_add_ports(s, (unsigned int)web, 53, 53);
	f.saddr[0] = htonl(0xc6120007u);
	f.daddr[0] = htonl(0xc6130001u);
	f.sport = htons(53);
	f.dport = htons(5353);
	ok(ctl_sets_hold(s, CTLUA_SET_SRC, (unsigned int)bl, &f) &&
	   !ctl_sets_hold(s, CTLUA_SET_DST, (unsigned int)bl, &f) &&
	   ctl_sets_hold(s, CTLUA_SET_SPORT, (unsigned int)web, &f) &&
	   !ctl_sets_hold(s, CTLUA_SET_DPORT, (unsigned int)web, &f),
	   "hold: 198.18.0.7:53 -> 198.19.0.1:5353 against 198.18.0.0/24 and port 53");
	f.family = CTLUA_AF_INET6;
	ok(!ctl_sets_hold(s, CTLUA_SET_SRC, (unsigned int)bl, &f),
	   "hold: an IPv6 flow is not in an IPv4 prefix with the same first word");
	ctl_sets_free(s);
}

void test_sets(void)
{
	names();
	prefixes();
	ports();
	add_many();
	hold();
}

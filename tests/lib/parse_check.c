// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * parse_check.c - random frames through ctlua_ingress's parser, each compared with a
 * plain reading of what doc/guide.md says the program does with it (which counter it
 * lands in), for tests/89-parse-passed.t.
 *
 *   parse_check SEED COUNT
 *
 * Loads ctlua's object as the host does (ctl_dp_open), mode observe, events off, and
 * runs ctlua_ingress once per frame through BPF_PROG_TEST_RUN (run it in a namespace of
 * its own: a parsed frame costs a conntrack lookup there, which misses). The frames are
 * built from random parts (0 to 4 VLAN tags, IPv4 with options and fragment bits, IPv6
 * with chains of extension headers of random kinds and lengths, TCP, UDP, ICMP, SCTP and
 * others), then sometimes cut short or with a byte changed. A test run hands the program
 * the frame as written: every tag is in its data; it refuses an Ethernet type of IPv4 or
 * IPv6 without that header whole (EINVAL), and those frames are skipped. Prints
 * "ok N frames (M too short for the test run)" and exits 0,
 * or prints the first frame whose counters moved otherwise than expected and exits 1.
 * This is a kernel check, not a libFuzzer harness: fuzz/'s harnesses never load BPF.
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "datapath.h"
#include "names.h"

#define FRAME_MAX	600

/* The counters a frame moves: its one terminal slot, and the details beside it. */
static const int watched[] = {
	CTLUA_STAT_NOT_IP, CTLUA_STAT_FRAGMENTS, CTLUA_STAT_IPV6_EXT, CTLUA_STAT_OTHER_L4,
	CTLUA_STAT_MALFORMED, CTLUA_STAT_LOOKUP_HIT, CTLUA_STAT_LOOKUP_MISS,
	CTLUA_STAT_LOOKUP_ERROR, CTLUA_STAT_IPV6_FRAGMENTS, CTLUA_STAT_IPV6_EXT_WALKED,
	CTLUA_STAT_ICMP, CTLUA_STAT_ICMPV6, CTLUA_STAT_SCTP,
};
#define NWATCHED	(int)(sizeof(watched) / sizeof(watched[0]))

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

static unsigned int be16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* An upper layer's type, most often TCP or UDP. */
static unsigned char l4_type(void)
{
	static const unsigned char kinds[] = { 6, 17, 6, 17, 1, 58, 132, 50, 59, 47, 255 };

	return kinds[rnd(sizeof(kinds))];
}

/* A random frame into @f; returns its length. */
static size_t build(unsigned char *f)
{
	static const unsigned char exts[] = { 0, 43, 60, 51, 44, 0, 60 };
	size_t n = 12;
	unsigned int tags = rnd(8) < 5 ? 0 : rnd(5), i, nexts;

	memset(f, 0, FRAME_MAX);
	for (i = 0; i < 12; i++)
		f[i] = (unsigned char)random();
	for (i = 0; i < tags; i++, n += 4) {
		put16(f + n, rnd(2) ? 0x8100 : 0x88a8);
		put16(f + n + 2, rnd(4096));
	}
	switch (rnd(10)) {
	case 0:
		put16(f + n, 0x0806);	/* ARP */
		return n + 2 + 28;
	case 1: case 2: case 3: case 4: {
		unsigned int ihl = rnd(4) ? 5 : 5 + rnd(11);

		put16(f + n, 0x0800);
		n += 2;
		f[n] = (unsigned char)(0x40 | ihl);
		if (!rnd(30))
			f[n] = (unsigned char)random();	/* a bad version or length */
		put16(f + n + 6, rnd(3) ? 0x4000 : rnd(2) ? 0x2000 : rnd(0x4000));
		f[n + 9] = l4_type();
		for (i = 12; i < 20; i++)
			f[n + i] = (unsigned char)random();
		n += ihl * 4;
		break;
	}
	default: {
		unsigned char *nh;

		put16(f + n, 0x86dd);
		n += 2;
		f[n] = 0x60;
		nh = &f[n + 6];
		for (i = 8; i < 40; i++)
			f[n + i] = (unsigned char)random();
		n += 40;
		nexts = rnd(3) ? rnd(4) : rnd(9);
		for (i = 0; i < nexts && n < FRAME_MAX - 300; i++) {
			unsigned char t = exts[rnd(sizeof(exts))];
			unsigned int len = rnd(4) ? rnd(3) : rnd(30);

			*nh = t;
			nh = &f[n];
			f[n + 1] = (unsigned char)len;
			n += t == 51 ? (len + 2) * 4 : t == 44 ? 8 : (len + 1) * 8;
		}
		*nh = l4_type();
		break;
	}
	}
	for (i = 0; i < 8; i++)	/* ports and more */
		f[n + i] = (unsigned char)random();
	n += 8 + rnd(20);
	return n;
}

/* What the guide says: the counters @f moves, into @want (indexed by stat slot). */
static void expect(const unsigned char *f, size_t n, unsigned long long *want)
{
	size_t off = 14;
	unsigned int proto = be16(f + 12), l4, i, len;

#define END(slot)	do { want[slot]++; return; } while (0)
	for (i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (off + 4 > n)
			END(CTLUA_STAT_MALFORMED);
		proto = be16(f + off + 2);
		off += 4;
	}
	if (proto == 0x0800) {
		if (off + 20 > n)
			END(CTLUA_STAT_MALFORMED);
		if (f[off] >> 4 != 4 || (f[off] & 15) < 5)
			END(CTLUA_STAT_MALFORMED);
		if (be16(f + off + 6) & 0x3fff)
			END(CTLUA_STAT_FRAGMENTS);
		l4 = f[off + 9];
		off += (f[off] & 15) * 4u;
	} else if (proto == 0x86dd) {
		if (off + 40 > n)
			END(CTLUA_STAT_MALFORMED);
		l4 = f[off + 6];
		off += 40;
		for (i = 0; l4 == 0 || l4 == 43 || l4 == 60 || l4 == 51 || l4 == 44; i++) {
			if (l4 == 44) {
				want[CTLUA_STAT_IPV6_FRAGMENTS]++;
				END(CTLUA_STAT_FRAGMENTS);
			}
			if (i == 6)
				END(CTLUA_STAT_IPV6_EXT);
			if (off + 2 > n)
				END(CTLUA_STAT_MALFORMED);
			len = l4 == 51 ? (f[off + 1] + 2) * 4u : (f[off + 1] + 1) * 8u;
			l4 = f[off];
			off += len;
		}
		if (i)
			want[CTLUA_STAT_IPV6_EXT_WALKED]++;
	} else {
		END(CTLUA_STAT_NOT_IP);
	}
	if (l4 != 6 && l4 != 17) {
		if (l4 == 1)
			want[CTLUA_STAT_ICMP]++;
		if (l4 == 58)
			want[CTLUA_STAT_ICMPV6]++;
		if (l4 == 132)
			want[CTLUA_STAT_SCTP]++;
		END(CTLUA_STAT_OTHER_L4);
	}
	if (off + 4 > n)
		END(CTLUA_STAT_MALFORMED);
	END(CTLUA_STAT_LOOKUP_MISS);
#undef END
}

static void dump(const unsigned char *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x%s", f[i], i % 16 == 15 ? "\n" : " ");
	printf("\n");
}

int main(int argc, char **argv)
{
	static unsigned char f[FRAME_MAX];
	struct ctlua_stats before, after;
	unsigned long long want[CTLUA_STAT_SLOTS];
	struct ctl_dp_policy pol;
	struct ctl_dp *dp;
	char msg[256];
	long count, refused = 0;
	int fd;

	if (argc != 3 || (count = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: parse_check SEED COUNT\n");
		return 2;
	}
	srandom((unsigned int)atol(argv[1]));
	if (ctl_dp_open(&dp, NULL, msg, sizeof(msg))) {
		fprintf(stderr, "parse_check: %s\n", msg);
		return 1;
	}
	ctl_dp_policy(dp, &pol);
	pol.mode = CTLUA_MODE_OBSERVE;
	pol.event_mask = 0;
	if (ctl_dp_put_policy(dp, &pol)) {
		fprintf(stderr, "parse_check: cannot write the policy\n");
		return 1;
	}
	fd = ctl_dp_prog_fd(dp, CTLUA_DIR_INGRESS, false);
	for (long k = 0; k < count; k++) {
		size_t n = build(f);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)n);
		int err;

		if (k % 4 == 1)	/* cut short */
			n = 14 + rnd((unsigned int)n - 13);
		else if (k % 4 == 2)	/* a byte changed */
			f[rnd((unsigned int)n)] = (unsigned char)random();
		o.data_size_in = (__u32)n;
		memset(want, 0, sizeof(want));
		expect(f, n, want);
		if (ctl_dp_stats(dp, &before))
			return fprintf(stderr, "parse_check: cannot read the counters\n"), 1;
		err = bpf_prog_test_run_opts(fd, &o);
		/* the test run itself wants the IP header whole where the type names one */
		if (err == -EINVAL && n < 14 + (be16(f + 12) == 0x0800 ? 20u :
					       be16(f + 12) == 0x86dd ? 40u : 0u)) {
			refused++;
			continue;
		}
		if (err || ctl_dp_stats(dp, &after)) {
			fprintf(stderr, "parse_check: frame %ld (%zu bytes): test run: %s\n", k, n,
				strerror(err ? -err : errno));
			return 1;
		}
		for (int i = 0; i < NWATCHED; i++) {
			int s = watched[i];
			unsigned long long got = after.count[s] - before.count[s];

			if (got == want[s])
				continue;
			printf("frame %ld (%zu bytes): %s moved by %llu, expected %llu\n", k, n,
			       ctl_stat_name(s), got, want[s]);
			dump(f, n);
			return 1;
		}
	}
	printf("ok %ld frames (%ld too short for the test run)\n", count - refused, refused);
	ctl_dp_close(dp);
	return 0;
}

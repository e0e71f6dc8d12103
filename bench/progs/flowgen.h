/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flowgen.h - the benchmark's tuples, generated the same way by every contender.
 *
 * Tuple i (0-based) of a set whose first source address is @first (host order):
 *
 *   udp  src = first + i / 50000   sport = 10000 + i % 50000
 *        dst = 198.19.0.1          dport = 53
 *
 * bench/lua/insert.lua and the conntrack save file (bench/rows/10-batch-insert.sh) use the same
 * formula; change all three together. Every address lies in 198.18.0.0/15 as long as
 * first + count / 50000 does.
 */
#ifndef CTLB_FLOWGEN_H
#define CTLB_FLOWGEN_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FLOWGEN_PER_SRC		50000u
#define FLOWGEN_SPORT0		10000u
#define FLOWGEN_DST		0xc6130001u	/* 198.19.0.1 */
#define FLOWGEN_DPORT		53u
#define FLOWGEN_NET		0xc6120000u	/* 198.18.0.0/15 */
#define FLOWGEN_MASK		0xfffe0000u

/* One tuple, host order. */
struct flowgen {
	uint32_t src, dst;
	uint16_t sport, dport;
};

static inline struct flowgen flowgen_at(uint32_t first, uint32_t i)
{
	struct flowgen g = {
		.src = first + i / FLOWGEN_PER_SRC,
		.dst = FLOWGEN_DST,
		.sport = (uint16_t)(FLOWGEN_SPORT0 + i % FLOWGEN_PER_SRC),
		.dport = FLOWGEN_DPORT,
	};
	return g;
}

/*
 * Parse the command line shared by the inserters: COUNT FIRST-SRC [THREADS] (the
 * threads or sockets to share the work, 1 to 64, 1 by default). Returns 0, or 2 (the
 * usage exit status) after a message. Refuses sets that leave 198.18.0.0/15.
 */
static inline int flowgen_args(const char *prog, int argc, char **argv,
			       uint32_t *count, uint32_t *first, uint32_t *threads)
{
	struct in_addr a;
	char *end;
	unsigned long n;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s COUNT FIRST-SRC [THREADS]\n", prog);
		return 2;
	}
	*threads = 1;
	if (argc == 4) {
		errno = 0;
		n = strtoul(argv[3], &end, 10);
		if (errno || *end || n < 1 || n > 64) {
			fprintf(stderr, "%s: bad thread count '%s' (1 to 64)\n", prog, argv[3]);
			return 2;
		}
		*threads = (uint32_t)n;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno || *end || n == 0 || n > 10000000) {
		fprintf(stderr, "%s: bad count '%s'\n", prog, argv[1]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &a) != 1) {
		fprintf(stderr, "%s: bad address '%s'\n", prog, argv[2]);
		return 2;
	}
	*count = (uint32_t)n;
	*first = ntohl(a.s_addr);
	if ((*first & FLOWGEN_MASK) != FLOWGEN_NET ||
	    ((*first + (*count - 1) / FLOWGEN_PER_SRC) & FLOWGEN_MASK) != FLOWGEN_NET) {
		fprintf(stderr, "%s: the tuples would leave 198.18.0.0/15\n", prog);
		return 2;
	}
	return 0;
}

/* CLOCK_MONOTONIC in nanoseconds: wall time, unaffected by clock steps. */
static inline uint64_t flowgen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif

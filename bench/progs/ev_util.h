/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ev_util.h - what the helpers of rows 4 to 6 share (ev_sender.c, ev_consumer.c,
 * fp_load.c): the clock, crafted UDP packets, finding a loaded ctlua object's maps
 * from its program's id, and percentiles.
 *
 * Every time is CLOCK_MONOTONIC in ns, the clock bpf_ktime_get_ns reads, so a time
 * taken here and an event's time_ns compare directly on the same host.
 */
#ifndef CTLB_EV_UTIL_H
#define CTLB_EV_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctlua.h"

static inline uint64_t ev_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns, as ctlua computes it for an event's e.time. */
static inline int64_t ev_realtime_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + ((int64_t)r.tv_nsec - m.tv_nsec);
}

/* Sleep until @t (CLOCK_MONOTONIC ns). */
static inline void ev_sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Parse an IPv4 address of 198.18.0.0/15 (the only range the bench may use), network order. */
static inline int ev_addr(const char *prog, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || (ntohl(a.s_addr) & 0xfffe0000u) != 0xc6120000u) {
		fprintf(stderr, "%s: '%s' is not an address in 198.18.0.0/15\n", prog, s);
		return -EINVAL;
	}
	*out = a.s_addr;
	return 0;
}

static inline long ev_num(const char *prog, const char *what, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: bad %s '%s' (expected %ld to %ld)\n", prog, what, s, lo, hi);
		exit(2);
	}
	return v;
}

/*
 * An IPv4/UDP packet for a raw socket with IP_HDRINCL: the kernel fills in the IP
 * checksum and id; the UDP checksum is 0 (none, allowed over IPv4). A raw socket lets
 * every packet carry another source port, so each can be the first of a new flow.
 */
struct ev_pkt {
	struct iphdr ip;
	struct udphdr udp;
	unsigned char payload[16];
};

static inline void ev_pkt_init(struct ev_pkt *p, uint32_t saddr, uint32_t daddr,
			       uint16_t sport, uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.tot_len = htons(sizeof(*p));
	p->ip.saddr = saddr;
	p->ip.daddr = daddr;
	p->udp.source = htons(sport);
	p->udp.dest = htons(dport);
	p->udp.len = htons(sizeof(*p) - sizeof(p->ip));
}

/* A raw socket that sends such packets; -errno on failure, after a message. */
static inline int ev_raw_socket(const char *prog)
{
	int one = 1, fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		int err = -errno;

		fprintf(stderr, "%s: cannot open a raw socket (%s)\n", prog, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/*
 * The map named @name of the loaded program with id @prog_id (a ctlua object someone
 * else loaded: ctlua, or ev_consumer): its fd, or -errno after a message. Ids are
 * global, so this works from any network namespace.
 */
static inline int ev_map_of_prog(const char *prog, __u32 prog_id, const char *name,
				 struct bpf_map_info *out)
{
	struct bpf_prog_info info = {};
	__u32 ids[16], len = sizeof(info);
	int pfd = bpf_prog_get_fd_by_id(prog_id), err;

	if (pfd < 0) {
		err = -errno;
		fprintf(stderr, "%s: no BPF program with id %u (%s)\n", prog, prog_id, strerror(-err));
		return err;
	}
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len)) {
		err = -errno;
		close(pfd);
		fprintf(stderr, "%s: cannot read program %u (%s)\n", prog, prog_id, strerror(-err));
		return err;
	}
	close(pfd);
	for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name)) {
			if (out)
				*out = mi;
			return fd;
		}
		close(fd);
	}
	fprintf(stderr, "%s: program %u uses no map named '%s'\n", prog, prog_id, name);
	return -ENOENT;
}

/* Run count and run time (ns) of a program, counted while BPF_ENABLE_STATS is held. */
static inline int ev_prog_stats(int pfd, __u64 *cnt, __u64 *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(pfd, &info, &len))
		return -errno;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

/* Slot @slot of ctl_stats summed over the CPUs; -1 on failure. */
static inline long long ev_stat(int stats_fd, int slot)
{
	static struct ctlua_stats *percpu;
	static int ncpus;
	long long sum = 0;
	__u32 zero = 0;

	if (!percpu) {
		ncpus = libbpf_num_possible_cpus();
		if (ncpus <= 0)
			return -1;
		percpu = calloc((size_t)ncpus, sizeof(*percpu));
		if (!percpu)
			return -1;
	}
	if (bpf_map_lookup_elem(stats_fd, &zero, percpu))
		return -1;
	for (int c = 0; c < ncpus; c++)
		sum += (long long)percpu[c].count[slot];
	return sum;
}

static inline int ev_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile @p (0 < p <= 100) of @v[0..n), which it sorts. */
static inline uint64_t ev_pct(uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), ev_cmp_u64);
	rank = (size_t)(p / 100 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* Take the filter off again as ctlua does: the filter, then clsact if it was ours. */
static inline void ev_tc_detach(struct bpf_tc_hook *hook, struct bpf_tc_opts *opts,
				bool attached, bool own_qdisc)
{
	if (attached) {
		opts->prog_fd = 0;
		opts->prog_id = 0;
		opts->flags = 0;
		bpf_tc_detach(hook, opts);
	}
	if (own_qdisc) {
		hook->attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(hook);
	}
}

#endif

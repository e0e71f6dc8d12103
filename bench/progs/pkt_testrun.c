// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pkt_testrun.c - row 3 without traffic: the per-run cost of ctlua_ingress on a packet
 * whose flow has a conntrack entry, against an empty TC program and a bare lookup,
 * each through BPF_PROG_TEST_RUN with a repeat count.
 *
 *   pkt_testrun PROGS.O REPEAT SLICES FIRST-SRC NAME...   NAME: empty, lookup or ctlua
 *
 * ctlua_ingress comes from ctlua's own object (the skeleton build/ctlua.skel.h, built
 * from bpf/ctlua.bpf.c), loaded without the host and set up as ctl_dp_open leaves it:
 * mode enforce, default pass, every event kind on. pkt_empty and pkt_lookup come from
 * PROGS.O (bench/progs/pkt_progs.bpf). The packet is tuple 0 of bench/progs/flowgen.h from
 * FIRST-SRC as a bench/progs/pkt_frame.h frame; its entry must exist in the calling task's
 * netns, where the test runs look it up.
 *
 * First one untimed run of 1000 repeats per NAME (first-run costs). Then each NAME
 * gets REPEAT repeats in SLICES test runs, the NAMEs taking turns slice by slice, the
 * first of each turn rotating, so that they share the machine's ups and downs.
 * Prints per NAME "NAME REPEAT WALL-NS KERNEL-NS": the wall time of its test runs
 * (CLOCK_MONOTONIC around each BPF_PROG_TEST_RUN, summed; the skb each call builds
 * once, about a microsecond, is in it) and the kernel's own average per repeat (it
 * reports whole ns, rounded down). Exits 1 unless every run returned TC_ACT_OK and was a hit:
 * pkt_misses stays 0, ctlua's lookup_hit counts every run and lookup_miss none.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "ctlua.h"
#include "ctlua.skel.h"
#include "pkt_frame.h"
#include "pkt_bss.h"

#define WARM_REPEAT	1000

struct contender {
	const char *name;
	int prog_fd;
	__u64 runs;		/* repeats so far, warm-up included */
	__u64 wall_ns;		/* of the timed test runs */
	__u64 kernel_ns;	/* sum of the kernel's per-repeat average times repeats */
	bool used;
};

/* A test run of @prog_fd on @frame, @repeat times; @wall_ns and @kernel_ns get the times. */
static int test_run(int prog_fd, const uint8_t *frame, __u32 repeat, __u64 *wall_ns,
		    __u32 *kernel_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = PKT_FRAME_LEN,
		    .repeat = repeat);
	uint64_t t0, t1;
	int err;

	t0 = flowgen_now_ns();
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = flowgen_now_ns();
	if (err)
		return err;
	/* a packet let through: TC_ACT_OK (the peers) or TC_ACT_UNSPEC (ctlua's program) */
	if (opts.retval != 0 && opts.retval != (__u32)-1)
		return -EPROTO;
	*wall_ns = t1 - t0;
	*kernel_ns = opts.duration;
	return 0;
}

/* ctlua's object as the host loads it, with only ctlua_ingress; policy as ctl_dp_open sets it. */
static struct ctlua_bpf *load_ctlua(void)
{
	struct ctlua_policy pol = {	/* slot 0, which the zeroed config names */
		.mode = CTLUA_MODE_ENFORCE,
		.event_mask = (1u << CTLUA_EV_NR) - 1,
		.dflt = { .action = CTLUA_ACT_PASS },
	};
	struct ctlua_bpf *skel;
	struct bpf_program *p;
	__u32 zero = 0;
	int err;

	skel = ctlua_bpf__open();
	if (!skel) {
		fprintf(stderr, "pkt_testrun: cannot open ctlua's BPF object (%s)\n", strerror(errno));
		return NULL;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.ctlua_ingress);
	err = ctlua_bpf__load(skel);
	if (err) {
		fprintf(stderr, "pkt_testrun: cannot load ctlua's BPF object (%s)\n", strerror(-err));
		goto destroy;
	}
	err = bpf_map__update_elem(skel->maps.ctl_policy, &zero, sizeof(zero), &pol, sizeof(pol), 0);
	if (err) {
		fprintf(stderr, "pkt_testrun: cannot write ctlua's policy (%s)\n", strerror(-err));
		goto destroy;
	}
	return skel;

destroy:
	ctlua_bpf__destroy(skel);
	return NULL;
}

/* ctlua's counter @slot, summed over CPUs; -1 if it cannot be read. */
static long long ctlua_stat(struct ctlua_bpf *skel, unsigned int slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct ctlua_stats *per_cpu;
	long long sum = 0;
	__u32 zero = 0;

	if (ncpu <= 0)
		return -1;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -1;
	if (bpf_map__lookup_elem(skel->maps.ctl_stats, &zero, sizeof(zero), per_cpu,
				 (size_t)ncpu * sizeof(*per_cpu), 0)) {
		free(per_cpu);
		return -1;
	}
	for (int i = 0; i < ncpu; i++)
		sum += (long long)per_cpu[i].count[slot];
	free(per_cpu);
	return sum;
}

static int usage(void)
{
	fprintf(stderr, "usage: pkt_testrun PROGS.O REPEAT SLICES FIRST-SRC NAME...  "
		"(NAME: empty, lookup or ctlua)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const uint8_t dst_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t src_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct contender all[] = { { .name = "empty" }, { .name = "lookup" }, { .name = "ctlua" } };
	struct contender *order[8];
	struct bpf_object *progs = NULL;
	struct ctlua_bpf *skel = NULL;
	uint8_t frame[PKT_FRAME_LEN];
	struct flowgen g;
	struct in_addr a;
	unsigned long repeat, slices;
	long long misses, hits, missed;
	int n = 0, status = 1, err;
	char *end;

	if (argc < 6 || argc - 5 > (int)(sizeof(order) / sizeof(order[0])))
		return usage();
	errno = 0;
	repeat = strtoul(argv[2], &end, 10);
	if (errno || *end || repeat == 0 || repeat > 1000000000)
		return usage();
	slices = strtoul(argv[3], &end, 10);
	if (errno || *end || slices == 0 || slices > repeat)
		return usage();
	if (inet_pton(AF_INET, argv[4], &a) != 1 || (ntohl(a.s_addr) & FLOWGEN_MASK) != FLOWGEN_NET) {
		fprintf(stderr, "pkt_testrun: '%s' is not an address in 198.18.0.0/15\n", argv[4]);
		return 2;
	}
	for (int i = 5; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			if (!strcmp(argv[i], all[k].name))
				break;
		if (k == sizeof(all) / sizeof(all[0]) || all[k].used)
			return usage();
		all[k].used = true;
		order[n++] = &all[k];
	}
	g = flowgen_at(ntohl(a.s_addr), 0);
	pkt_frame_build(frame, dst_mac, src_mac, &g);

	progs = bpf_object__open_file(argv[1], NULL);
	if (!progs) {
		fprintf(stderr, "pkt_testrun: cannot open '%s' (%s)\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(progs);
	if (err) {
		fprintf(stderr, "pkt_testrun: cannot load '%s' (%s)\n", argv[1], strerror(-err));
		goto close;
	}
	all[0].prog_fd = bpf_program__fd(bpf_object__find_program_by_name(progs, "pkt_empty"));
	all[1].prog_fd = bpf_program__fd(bpf_object__find_program_by_name(progs, "pkt_lookup"));
	skel = load_ctlua();
	if (!skel)
		goto close;
	all[2].prog_fd = bpf_program__fd(skel->progs.ctlua_ingress);
	if (all[0].prog_fd < 0 || all[1].prog_fd < 0 || all[2].prog_fd < 0) {
		fprintf(stderr, "pkt_testrun: a program is missing from '%s' or ctlua's object\n",
			argv[1]);
		goto close;
	}

	for (unsigned long slice = 0; slice <= slices; slice++) {
		/* slice 0 is the warm-up; slice k times its share of REPEAT */
		__u32 rep = slice ? (__u32)(repeat * slice / slices - repeat * (slice - 1) / slices) :
			    WARM_REPEAT;

		for (int j = 0; j < n; j++) {
			struct contender *c = order[(slice + (unsigned long)j) % (unsigned long)n];
			__u64 wall;
			__u32 kernel;

			err = test_run(c->prog_fd, frame, rep, &wall, &kernel);
			if (err) {
				fprintf(stderr, "pkt_testrun: BPF_PROG_TEST_RUN of %s failed (%s)\n",
					c->name, err == -EPROTO ? "the program did not return TC_ACT_OK" :
					strerror(-err));
				goto close;
			}
			c->runs += rep;
			if (slice) {
				c->wall_ns += wall;
				c->kernel_ns += (__u64)kernel * rep;
			}
		}
	}
	for (int j = 0; j < n; j++)
		printf("%s %lu %llu %.2f\n", order[j]->name, repeat,
		       (unsigned long long)order[j]->wall_ns, (double)order[j]->kernel_ns / repeat);

	/* Every timed run must have been a lookup hit, or the numbers mean something else. */
	misses = pkt_bss_first_u64(progs);
	hits = ctlua_stat(skel, CTLUA_STAT_LOOKUP_HIT);
	missed = ctlua_stat(skel, CTLUA_STAT_LOOKUP_MISS);
	if (misses != 0)
		fprintf(stderr, "pkt_testrun: pkt_lookup missed %lld times (is there an entry "
			"for the packet's flow in this netns?)\n", misses);
	else if (all[2].used && (hits != (long long)all[2].runs || missed != 0))
		fprintf(stderr, "pkt_testrun: ctlua_ingress counted %lld hits and %lld misses in "
			"%llu runs\n", hits, missed, (unsigned long long)all[2].runs);
	else
		status = 0;
close:
	ctlua_bpf__destroy(skel);
	bpf_object__close(progs);
	return status;
}

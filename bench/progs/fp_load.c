// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fp_load.c - row 6's peer (bench/rows/60-footprint.sh): ctlua's BPF object loaded and
 * attached by the least C that can, and then given the same per-flow verdicts as
 * bench/lua/fp_footprint.lua, so ctlua's footprint and start-up have a baseline.
 *
 *   fp_load IFNAME VERDICTS
 *
 * What ctlua needs to load the object, and nothing more: whether nf_nat is a loaded
 * module with BTF (the object's nat_module_btf; a stat, no BTF read), the skeleton
 * (build/ctlua.skel.h) with the programs ctlua loads at start, ctlua_ingress and
 * ctlua_req (the others wait for an attach that needs them), the config ctlua writes
 * after loading (enforce, default pass, every event kind), clsact and the ingress filter
 * with bpf_tc_*. Then, on stdout, each line flushed:
 *
 *   attached probe_ns P open_ns O load_ns L attach_ns A   (its own CLOCK_MONOTONIC)
 *   idle rss_kb R mapped_kb P maps_kb M
 *   verdicts N ns T rss_kb R maps_kb M
 *
 * rss_kb is VmRSS; mapped_kb the part of it that is BPF maps mapped into the process
 * (/proc/self/smaps: the skeleton maps .bss, with ctlua's request array); maps_kb the
 * memlock the kernel reports for the object's maps (/proc/self/fdinfo). The verdicts are VERDICTS bpf_map_update_elem calls on
 * ctl_verdicts with the tuples of bench/progs/flowgen.h, action alloc, timed.
 */
#include <net/if.h>
#include <unistd.h>
#include "ev_util.h"
#include "flowgen.h"
#include "ctlua.skel.h"

static const char *prog = "fp_load";

/* VmRSS of this process in KiB, from /proc/self/status; -1 if unreadable. */
static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The resident KiB of this process's mappings of BPF maps, from /proc/self/smaps. */
static long mapped_kb(void)
{
	char line[512];
	long sum = 0, kb;
	bool in_map = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in_map = strstr(line, "anon_inode:bpf-map") != NULL;
		else if (in_map && sscanf(line, "Rss: %ld kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

/* The memlock of every BPF map this process holds, in KiB (fdinfo says what each is). */
static long maps_kb(void)
{
	long long sum = 0;

	for (int fd = 0; fd < 1024; fd++) {
		char path[64], line[256];
		long long v;
		bool map = false;
		long long mem = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "map_type:", 9))
				map = true;
			else if (sscanf(line, "memlock: %lld", &v) == 1)
				mem = v;
		}
		fclose(f);
		if (map)
			sum += mem;
	}
	return (long)(sum / 1024);
}

/*
 * What the object needs to know before load, as ctlua asks it: whether nf_nat is a loaded
 * module with BTF (the object reads CONFIG_NF_NAT through libbpf itself).
 */
static bool nat_module_btf(void)
{
	return access("/sys/kernel/btf/nf_nat", R_OK) == 0;
}

int main(int argc, char **argv)
{
	struct ctlua_policy pol = {	/* slot 0, which the zeroed config names */
		.mode = CTLUA_MODE_ENFORCE,
		.event_mask = (1u << CTLUA_EV_NR) - 1,
		.dflt = { .action = CTLUA_ACT_PASS },
	};
	struct ctlua_flow_verdict v = { .v = { .action = CTLUA_ACT_ALLOC } };
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	uint64_t t0 = ev_now(), t_probe, t_open, t_load, t_attach;
	struct ctlua_bpf *skel;
	struct bpf_program *p;
	long n;
	bool nat, own_qdisc;
	__u32 zero = 0;
	int err, vfd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IFNAME VERDICTS\n", prog);
		return 2;
	}
	n = ev_num(prog, "verdict count", argv[2], 0, CTLUA_VERDICTS_DEFAULT);
	hook.ifindex = (int)if_nametoindex(argv[1]);
	if (!hook.ifindex) {
		fprintf(stderr, "%s: no interface named '%s'\n", prog, argv[1]);
		return 1;
	}
	nat = nat_module_btf();
	t_probe = ev_now();
	skel = ctlua_bpf__open();
	if (!skel) {
		fprintf(stderr, "%s: cannot open the BPF object (%s)\n", prog, strerror(errno));
		return 1;
	}
	skel->rodata->nat_module_btf = nat;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.ctlua_ingress ||
					  p == skel->progs.ctlua_req);
	t_open = ev_now();
	if ((err = ctlua_bpf__load(skel))) {
		fprintf(stderr, "%s: cannot load the BPF object (%s)\n", prog, strerror(-err));
		return 1;
	}
	if (bpf_map__update_elem(skel->maps.ctl_policy, &zero, sizeof(zero), &pol, sizeof(pol), 0)) {
		fprintf(stderr, "%s: cannot write the policy (%s)\n", prog, strerror(errno));
		return 1;
	}
	t_load = ev_now();
	err = bpf_tc_hook_create(&hook);
	own_qdisc = !err;
	if (err && err != -EEXIST) {
		fprintf(stderr, "%s: cannot add clsact to '%s' (%s)\n", prog, argv[1], strerror(-err));
		return 1;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.ctlua_ingress);
	if ((err = bpf_tc_attach(&hook, &opts))) {
		fprintf(stderr, "%s: cannot attach to '%s' (%s)\n", prog, argv[1], strerror(-err));
		return 1;
	}
	t_attach = ev_now();
	printf("attached probe_ns %llu open_ns %llu load_ns %llu attach_ns %llu\n",
	       (unsigned long long)(t_probe - t0), (unsigned long long)(t_open - t_probe),
	       (unsigned long long)(t_load - t_open), (unsigned long long)(t_attach - t_load));
	fflush(stdout);
	printf("idle rss_kb %ld mapped_kb %ld maps_kb %ld\n", rss_kb(), mapped_kb(), maps_kb());
	fflush(stdout);

	vfd = bpf_map__fd(skel->maps.ctl_verdicts);
	t0 = ev_now();
	for (long i = 0; i < n; i++) {
		struct flowgen g = flowgen_at(0xc6120001u, (uint32_t)i);	/* 198.18.0.1 */
		struct ctlua_flow f = {
			.saddr = { htonl(g.src) }, .daddr = { htonl(g.dst) },
			.sport = htons(g.sport), .dport = htons(g.dport),
			.family = CTLUA_AF_INET, .proto = IPPROTO_UDP,
		};

		if (bpf_map_update_elem(vfd, &f, &v, BPF_ANY)) {
			fprintf(stderr, "%s: verdict %ld: cannot update ctl_verdicts (%s)\n", prog, i,
				strerror(errno));
			return 1;
		}
	}
	t_attach = ev_now();
	printf("verdicts %ld ns %llu rss_kb %ld maps_kb %ld\n", n,
	       (unsigned long long)(t_attach - t0), rss_kb(), maps_kb());
	fflush(stdout);
	ev_tc_detach(&hook, &opts, true, own_qdisc);	/* as ctlua does at exit; untimed */
	ctlua_bpf__destroy(skel);
	return 0;
}

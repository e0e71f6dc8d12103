// SPDX-License-Identifier: GPL-2.0-or-later
/* datapath.c - loading the BPF object with libbpf and reading and writing its maps. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"	/* first: the skeleton needs ctlua.h's types */
#include "ctlua.skel.h"
#include "probe.h"

struct ctl_dp {
	struct ctlua_bpf *skel;
	struct ctlua_config cfg;	/* what the map holds */
	struct ctlua_rule_table *table;	/* scratch for ctl_dp_put_rules */
	__s64 realtime_offset;
	int ncpus;
	struct ctl_features feat;	/* what ctl_probe read of the kernel */
};

static bool verbose;

/* libbpf's warnings include the verifier log: shown only with -v, like its info lines. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void ctl_dp_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_print);
}

static __s64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ctl_dp_open(struct ctl_dp **out, char *msg, size_t len)
{
	struct ctl_dp *dp;
	struct ctlua_config cfg = {
		.mode = CTLUA_MODE_ENFORCE,
		.event_mask = (1u << CTLUA_EV_NR) - 1,
		.dflt = { .action = CTLUA_ACT_PASS },
	};
	struct ctl_features feat;
	int err;

	libbpf_set_print(libbpf_print);
	err = ctl_probe(msg, len, &feat);
	if (err)
		return err;
	dp = calloc(1, sizeof(*dp));
	if (!dp || !(dp->table = calloc(1, sizeof(*dp->table)))) {
		free(dp);
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	dp->ncpus = libbpf_num_possible_cpus();
	dp->feat = feat;
	dp->skel = ctlua_bpf__open();
	if (dp->skel) {
		dp->skel->rodata->have_nat = feat.nat;
		err = ctlua_bpf__load(dp->skel);
	} else {
		err = -errno;
	}
	if (err) {
		snprintf(msg, len, "cannot load the BPF program (%s)%s", strerror(-err),
			 verbose ? "" : "; run with -v to see libbpf's and the verifier's messages");
		ctl_dp_close(dp);
		return err;
	}
	if (dp->skel->rodata->ctlua_abi != CTLUA_ABI) {
		snprintf(msg, len, "the BPF object speaks ABI %u, this host ABI %u: rebuild ctlua",
			 dp->skel->rodata->ctlua_abi, CTLUA_ABI);
		ctl_dp_close(dp);
		return -EPROTO;
	}
	dp->realtime_offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	ctl_dp_set_params(dp, NULL);
	err = ctl_dp_set_config(dp, &cfg);
	if (err) {
		snprintf(msg, len, "cannot write the config map (%s)", strerror(-err));
		ctl_dp_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

void ctl_dp_close(struct ctl_dp *dp)
{
	if (!dp)
		return;
	ctlua_bpf__destroy(dp->skel);
	free(dp->table);
	free(dp);
}

const struct ctlua_config *ctl_dp_config(const struct ctl_dp *dp)
{
	return &dp->cfg;
}

int ctl_dp_set_config(struct ctl_dp *dp, const struct ctlua_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(dp->skel->maps.ctl_config, &zero, sizeof(zero), cfg,
				 sizeof(*cfg), BPF_ANY))
		return -errno;
	dp->cfg = *cfg;
	return 0;
}

int ctl_dp_put_verdict(struct ctl_dp *dp, const struct ctlua_flow *f, const struct ctlua_verdict *v)
{
	struct ctlua_config cfg = dp->cfg;

	if (bpf_map__update_elem(dp->skel->maps.ctl_verdicts, f, sizeof(*f), v, sizeof(*v), BPF_ANY))
		return -errno;
	if (cfg.has_verdicts)
		return 0;
	cfg.has_verdicts = 1;	/* from now on the program reads the map (never cleared) */
	return ctl_dp_set_config(dp, &cfg);
}

int ctl_dp_del_verdict(struct ctl_dp *dp, const struct ctlua_flow *f)
{
	if (bpf_map__delete_elem(dp->skel->maps.ctl_verdicts, f, sizeof(*f), 0))
		return -errno;
	return 0;
}

int ctl_dp_put_rules(struct ctl_dp *dp, const struct ctlua_rule *rules, unsigned int n)
{
	struct ctlua_config cfg = dp->cfg;
	__u32 idle = !cfg.rule_slot;

	if (n > CTLUA_MAX_RULES)
		return -E2BIG;
	memset(dp->table, 0, sizeof(*dp->table));
	dp->table->count = n;
	memcpy(dp->table->rule, rules, n * sizeof(*rules));
	if (bpf_map__update_elem(dp->skel->maps.ctl_rules, &idle, sizeof(idle), dp->table,
				 sizeof(*dp->table), BPF_ANY))
		return -errno;
	cfg.rule_slot = idle;
	return ctl_dp_set_config(dp, &cfg);
}

int ctl_dp_stats(struct ctl_dp *dp, struct ctlua_stats *sum)
{
	struct ctlua_stats *percpu = calloc(dp->ncpus, sizeof(*percpu));
	__u32 zero = 0;
	int err = 0;

	if (!percpu)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map__lookup_elem(dp->skel->maps.ctl_stats, &zero, sizeof(zero), percpu,
				 dp->ncpus * sizeof(*percpu), 0)) {
		err = -errno;
	} else {
		for (int c = 0; c < dp->ncpus; c++)
			for (int i = 0; i < CTLUA_STAT_SLOTS; i++)
				sum->count[i] += percpu[c].count[i];
		/* every packet ends in exactly one of these, so the program counts it once */
		sum->count[CTLUA_STAT_PACKETS] = 0;
		for (int i = CTLUA_STAT_NOT_IP; i <= CTLUA_STAT_LOOKUP_ERROR; i++)
			sum->count[CTLUA_STAT_PACKETS] += sum->count[i];
	}
	free(percpu);
	return err;
}

struct ctlua_request *ctl_dp_requests(struct ctl_dp *dp)
{
	return dp->skel->bss->ctl_reqs;
}

int ctl_dp_run_requests(struct ctl_dp *dp, unsigned int n)
{
	/* SCHED_CLS test runs want an Ethernet frame; the kfuncs only use our tuples. */
	static const unsigned char frame[14 + 20 + 8] = { [12] = 0x08, [14] = 0x45 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = n);

	if (n == 0)
		return 0;
	if (n > CTLUA_MAX_REQUESTS)
		return -E2BIG;
	dp->skel->bss->req_count = n;
	dp->skel->bss->req_next = 0;
	if (bpf_prog_test_run_opts(bpf_program__fd(dp->skel->progs.ctlua_req), &run))
		return -errno;
	return 0;
}

void ctl_req_params_default(struct ctlua_req_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kopts.netns_id = -1;		/* BPF_F_CURRENT_NETNS */
	p->opts_size = 12;		/* accepted from 5.19 to today (KERNEL.md section 1) */
}

void ctl_dp_set_params(struct ctl_dp *dp, const struct ctlua_req_params *p)
{
	if (p)
		dp->skel->bss->req_params = *p;
	else
		ctl_req_params_default(&dp->skel->bss->req_params);
}

int ctl_dp_request(struct ctl_dp *dp, int op, const struct ctlua_flow *f,
		   const struct ctlua_opts *o, const struct ctlua_req_params *p,
		   struct ctlua_request *out)
{
	struct ctlua_request *r = ctl_dp_requests(dp);
	int err;

	memset(r, 0, sizeof(*r));
	r->flow = *f;
	if (o)
		r->opts = *o;
	r->op = (__u8)op;
	r->error = -EINPROGRESS;	/* stays if the run stops before this slot */
	ctl_dp_set_params(dp, p);
	err = ctl_dp_run_requests(dp, 1);
	ctl_dp_set_params(dp, NULL);
	*out = *r;
	return err;
}

int ctl_dp_prog_fd(const struct ctl_dp *dp, int dir, bool l3)
{
	const struct ctlua_bpf *k = dp->skel;

	if (dir == CTLUA_DIR_EGRESS)
		return bpf_program__fd(l3 ? k->progs.ctlua_egress_l3 : k->progs.ctlua_egress);
	return bpf_program__fd(l3 ? k->progs.ctlua_ingress_l3 : k->progs.ctlua_ingress);
}

int ctl_dp_events_fd(const struct ctl_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.ctl_events);
}

const struct ctl_features *ctl_dp_features(const struct ctl_dp *dp)
{
	return &dp->feat;
}

__s64 ctl_dp_realtime_offset(const struct ctl_dp *dp)
{
	return dp->realtime_offset;
}

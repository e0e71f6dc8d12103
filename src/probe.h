/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h - can this kernel and this user run ctlua? Asked before anything is loaded. */
#ifndef CTLUA_PROBE_H
#define CTLUA_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The kfuncs the datapath calls, NULL-terminated. */
extern const char *const ctl_needed_kfuncs[];

struct ctl_features;

/*
 * What can be checked without reading BTF (a few system calls): the kernel's release
 * (6.1+), that it has BTF, and the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN
 * (CAP_SYS_ADMIN stands in for the first two). Returns 0, or
 * -errno with one sentence naming what is missing in @msg. The datapath calls only this
 * before loading: libbpf's load reads the kernel's BTF, and a second reading would
 * double the cost of start-up (bench/README.md, row 6).
 */
int ctl_probe_host(char *msg, size_t len);

/*
 * ctl_probe_host, then every needed kfunc, from the kernel's BTF (read once).
 * Returns 0 and, if @out is not NULL, what the kernel offers there (as
 * ctl_probe_features); or -errno with one sentence naming what is missing in @msg.
 * For `ctlua --check`, and to explain a load that failed.
 */
int ctl_probe(char *msg, size_t len, struct ctl_features *out);

/*
 * ctl_probe's checks and every feature's capabilities, one line each on @out, as
 * `ctlua --check` prints them (doc/privileges.md has the format): "WHAT: ok [(detail)]"
 * or "WHAT: missing DETAIL". Returns 0 when the core (load and attach) can work, else
 * -errno with the first reason, in ctl_probe's words, in @msg.
 */
int ctl_probe_report(FILE *out, char *msg, size_t len);

/* Capability @c as a bit of a set (bit N is capability N, as capget gives them). */
#define CTL_CAP(c)	(1ULL << (c))

/* The features whose needs differ, in the order the report lists them. */
enum ctl_need_id {
	CTL_NEED_CORE,		/* load the program, attach, maps, events */
	CTL_NEED_DIRECT,	/* ct.alloc and friends: BPF_PROG_TEST_RUN */
	CTL_NEED_TABLE,		/* ct.entries, ct.delete, ct.flush: ctnetlink */
	CTL_NEED_NETNS,		/* netns = "NAME" there: setns */
	CTL_NEED_NR
};

/* A feature, as the report names it, and the capabilities it needs (CTL_CAP bits). */
struct ctl_need {
	const char *what;
	unsigned long long caps;
};

/* Indexed by enum ctl_need_id; measured, see doc/privileges.md. */
extern const struct ctl_need ctl_needs[CTL_NEED_NR];

/* The calling thread's effective capabilities in @caps. Returns 0 or -errno. */
int ctl_probe_caps(unsigned long long *caps);

/*
 * The capabilities of @need that @have lacks, where CAP_SYS_ADMIN in @have counts as
 * CAP_BPF and CAP_PERFMON too (the kernel's bpf_capable() and perfmon_capable()).
 */
unsigned long long ctl_caps_missing(unsigned long long need, unsigned long long have);

/* @caps as "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN" in @buf ("" for none). */
void ctl_caps_names(unsigned long long caps, char *buf, size_t len);

/* Whether nf_nat is a loaded module with BTF: its kfunc is there, not in vmlinux. */
bool ctl_probe_nat_module(void);

/* Every conntrack kfunc, used by ctlua or not, NULL-terminated (KERNEL.md scope). */
extern const char *const ctl_all_kfuncs[];

struct ctl_features {
	char release[65];		/* uname -r */
	bool kfunc[16];			/* indexed like ctl_all_kfuncs */
	int opts_size;			/* sizeof(struct bpf_ct_opts) in BTF, 0 if absent */
	bool zones;			/* bpf_ct_opts has ct_zone_id (6.11+) */
	bool nat;			/* bpf_ct_set_nat_info exists (6.1+, CONFIG_NF_NAT) */
	bool mark_write;		/* nf_conn has mark and the kernel is 6.1+ */
};

/*
 * Read what the running kernel offers from its BTF, less what CTLUA_HIDE_FEATURES hides.
 * Returns 0 or -errno.
 */
int ctl_probe_features(struct ctl_features *f);
/*
 * A testing aid (doc/development.md): the environment variable CTLUA_HIDE_FEATURES,
 * a comma-separated list of "zones" and "nat", makes @f say the kernel lacks them, so
 * the refusals an older kernel gets can be tested on a new one. Other names are ignored.
 */
void ctl_probe_hide(struct ctl_features *f);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h - can this kernel and this user run ctlua? Asked before anything is loaded. */
#ifndef CTLUA_PROBE_H
#define CTLUA_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* The kfuncs the datapath calls, NULL-terminated. */
extern const char *const ctl_needed_kfuncs[];

struct ctl_features;

/*
 * Check BTF, capabilities (CAP_BPF, CAP_NET_ADMIN) and every needed kfunc.
 * Returns 0 and, if @out is not NULL, what the kernel offers there (as
 * ctl_probe_features); or -errno with one sentence naming what is missing in @msg.
 */
int ctl_probe(char *msg, size_t len, struct ctl_features *out);

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

/* Read what the running kernel offers from its BTF. Returns 0 or -errno. */
int ctl_probe_features(struct ctl_features *f);

#endif

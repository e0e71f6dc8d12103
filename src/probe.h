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
 * What can be checked without reading BTF (a few system calls): the kernel's release
 * (6.1+), that it has BTF, and the capabilities CAP_BPF, CAP_PERFMON (or CAP_SYS_ADMIN)
 * and CAP_NET_ADMIN. Returns 0, or
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

/* Read what the running kernel offers from its BTF. Returns 0 or -errno. */
int ctl_probe_features(struct ctl_features *f);

#endif

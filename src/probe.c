// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * probe.c - preflight checks with one-sentence answers, so that a missing kernel
 * feature reads as such rather than as a verifier dump (KERNEL.md section 8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <bpf/btf.h>
#include "probe.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

const char *const ctl_needed_kfuncs[] = {
	"bpf_skb_ct_lookup", "bpf_skb_ct_alloc", "bpf_ct_insert_entry", "bpf_ct_release",
	"bpf_ct_set_timeout", "bpf_ct_change_timeout", "bpf_ct_set_status",
	"bpf_ct_change_status", NULL,
};

const char *const ctl_all_kfuncs[] = {
	"bpf_skb_ct_alloc", "bpf_skb_ct_lookup", "bpf_xdp_ct_alloc", "bpf_xdp_ct_lookup",
	"bpf_ct_insert_entry", "bpf_ct_release", "bpf_ct_set_timeout", "bpf_ct_change_timeout",
	"bpf_ct_set_status", "bpf_ct_change_status", "bpf_ct_set_nat_info", NULL,
};

/*
 * Look in vmlinux BTF, then in nf_conntrack's module BTF (present only while the module
 * is loaded). @vmlinux and *@mod are loaded by the caller's first call and kept.
 */
static int find_kfunc(const char *name, struct btf *vmlinux, struct btf **mod)
{
	if (btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0)
		return 1;
	if (!*mod)
		*mod = btf__load_module_btf("nf_conntrack", vmlinux);
	return *mod && btf__find_by_name_kind(*mod, name, BTF_KIND_FUNC) > 0;
}

/* Whether uname's @release is at least @maj.@min (6.1 brought ct->mark writes). */
static bool at_least(const char *release, int maj, int min)
{
	int a, b;

	if (sscanf(release, "%d.%d", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

static bool has_member(const struct btf *btf, int type_id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), name))
			return true;
	return false;
}

int ctl_probe_features(struct ctl_features *f)
{
	struct btf *vmlinux, *mod = NULL, *where;
	struct utsname uts;
	int id;

	memset(f, 0, sizeof(*f));
	if (uname(&uts) == 0)
		snprintf(f->release, sizeof(f->release), "%s", uts.release);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -errno;
	for (int i = 0; ctl_all_kfuncs[i]; i++)
		f->kfunc[i] = find_kfunc(ctl_all_kfuncs[i], vmlinux, &mod);
	f->nat = find_kfunc("bpf_ct_set_nat_info", vmlinux, &mod);
	if (!f->nat && ctl_probe_nat_module()) {
		/* a modular nf_nat has the kfunc in its own BTF */
		struct btf *nat = btf__load_module_btf("nf_nat", vmlinux);

		f->nat = nat && btf__find_by_name_kind(nat, "bpf_ct_set_nat_info",
						       BTF_KIND_FUNC) > 0;
		btf__free(nat);
		for (int i = 0; ctl_all_kfuncs[i]; i++)
			if (!strcmp(ctl_all_kfuncs[i], "bpf_ct_set_nat_info"))
				f->kfunc[i] = f->nat;
	}
	/* The types live where nf_conntrack was built: vmlinux, or its module. */
	where = vmlinux;
	id = btf__find_by_name_kind(where, "bpf_ct_opts", BTF_KIND_STRUCT);
	if (id <= 0 && mod)
		id = btf__find_by_name_kind(where = mod, "bpf_ct_opts", BTF_KIND_STRUCT);
	if (id > 0) {
		f->opts_size = (int)btf__resolve_size(where, id);
		f->zones = has_member(where, id, "ct_zone_id");
	}
	where = vmlinux;
	id = btf__find_by_name_kind(where, "nf_conn", BTF_KIND_STRUCT);
	if (id <= 0 && mod)
		id = btf__find_by_name_kind(where = mod, "nf_conn", BTF_KIND_STRUCT);
	if (id > 0)
		f->mark_write = has_member(where, id, "mark") && at_least(f->release, 6, 1);
	btf__free(mod);
	btf__free(vmlinux);
	ctl_probe_hide(f);
	return 0;
}

void ctl_probe_hide(struct ctl_features *f)
{
	const char *env = getenv("CTLUA_HIDE_FEATURES");
	const char *p = env, *end;
	size_t n;

	while (p && *p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 5 && !strncmp(p, "zones", 5))
			f->zones = false;
		else if (n == 3 && !strncmp(p, "nat", 3))
			f->nat = false;
		p = end ? end + 1 : NULL;
	}
}

bool ctl_probe_nat_module(void)
{
	return access("/sys/kernel/btf/nf_nat", R_OK) == 0;
}

/* Capabilities by name, in the order messages list them (least to most powerful). */
static const struct {
	int cap;
	const char *name;
} cap_names[] = {
	{ CAP_BPF, "CAP_BPF" }, { CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" }, { CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
};

/*
 * What each feature needs, as measured on Linux 6.18 (doc/privileges.md): every set
 * below works and each set with one fewer fails. Loading needs CAP_NET_ADMIN as well
 * (a sched_cls program is a "net admin" program type), CAP_PERFMON for the verifier;
 * direct requests and the maps need the loaded program and nothing more. Entering a
 * namespace by name is setns, which asks for CAP_SYS_ADMIN.
 */
const struct ctl_need ctl_needs[CTL_NEED_NR] = {
	[CTL_NEED_CORE] = { "load and attach (ct.attach, rules, verdicts, events)",
			    CTL_CAP(CAP_BPF) | CTL_CAP(CAP_PERFMON) | CTL_CAP(CAP_NET_ADMIN) },
	[CTL_NEED_DIRECT] = { "direct requests (ct.alloc, ct.lookup, ct.change)",
			      CTL_CAP(CAP_BPF) | CTL_CAP(CAP_PERFMON) | CTL_CAP(CAP_NET_ADMIN) },
	[CTL_NEED_TABLE] = { "conntrack table (ct.entries, ct.delete, ct.flush)",
			     CTL_CAP(CAP_NET_ADMIN) },
	[CTL_NEED_NETNS] = { "named namespaces (ct.entries, ct.delete, ct.flush with "
			     "netns = \"NAME\")",
			     CTL_CAP(CAP_NET_ADMIN) | CTL_CAP(CAP_SYS_ADMIN) },
};

int ctl_probe_caps(unsigned long long *caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*caps = data[0].effective | (unsigned long long)data[1].effective << 32;
	return 0;
}

unsigned long long ctl_caps_missing(unsigned long long need, unsigned long long have)
{
	/* as the kernel's bpf_capable() and perfmon_capable() */
	if (have & CTL_CAP(CAP_SYS_ADMIN))
		have |= CTL_CAP(CAP_BPF) | CTL_CAP(CAP_PERFMON);
	return need & ~have;
}

void ctl_caps_names(unsigned long long caps, char *buf, size_t len)
{
	size_t n = 0, left = (size_t)__builtin_popcountll(caps);

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]) && n < len; i++) {
		if (!(caps & CTL_CAP(cap_names[i].cap)))
			continue;
		left--;
		n += snprintf(buf + n, len - n, "%s%s", cap_names[i].name,
			      left > 1 ? ", " : left == 1 ? " and " : "");
	}
}

int ctl_probe_host(char *msg, size_t len)
{
	const unsigned long long need = ctl_needs[CTL_NEED_CORE].caps;
	unsigned long long have, lacks;
	struct utsname uts;
	char names[64];

	if (uname(&uts) == 0 && !at_least(uts.release, 6, 1)) {
		/* 6.0 has the kfuncs but refuses the ct->mark write (KERNEL.md section 7) */
		snprintf(msg, len, "this kernel is %s: ctlua needs Linux 6.1 or later "
			 "(conntrack kfuncs with mark writes)", uts.release);
		return -ENOTSUP;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(msg, len, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			 "ctlua needs a kernel built with CONFIG_DEBUG_INFO_BTF");
		return -ENOTSUP;
	}
	if (ctl_probe_caps(&have) || !(lacks = ctl_caps_missing(need, have)))
		return 0;
	/*
	 * CAP_PERFMON: the program reads nf_conn fields and relies on allow_uninit_stack;
	 * CAP_SYS_ADMIN stands in for it and for CAP_BPF, as in the kernel.
	 */
	ctl_caps_names(lacks, names, sizeof(names));
	snprintf(msg, len, "ctlua needs the capabilities CAP_BPF, CAP_PERFMON and "
		 "CAP_NET_ADMIN, and lacks %s (run it as root)", names);
	return -EPERM;
}

/* Whether @f has the kfunc @name. */
static bool has_kfunc(const struct ctl_features *f, const char *name)
{
	for (int k = 0; ctl_all_kfuncs[k]; k++)
		if (!strcmp(ctl_all_kfuncs[k], name))
			return f->kfunc[k];
	return false;
}

/* The first kfunc the datapath calls that @f lacks, or NULL. */
static const char *missing_kfunc(const struct ctl_features *f)
{
	for (int i = 0; ctl_needed_kfuncs[i]; i++)
		if (!has_kfunc(f, ctl_needed_kfuncs[i]))
			return ctl_needed_kfuncs[i];
	return NULL;
}

static void kfunc_msg(const char *name, char *msg, size_t len)
{
	snprintf(msg, len, "this kernel lacks the conntrack kfunc '%s': ctlua needs "
		 "Linux 6.1 or later with CONFIG_NF_CONNTRACK and BTF "
		 "(modprobe nf_conntrack if it is a module)", name);
}

int ctl_probe(char *msg, size_t len, struct ctl_features *out)
{
	struct ctl_features f;
	const char *lack;
	int err;

	if ((err = ctl_probe_host(msg, len)))
		return err;
	/* one reading of BTF (15 to 50 ms) serves the check and the caller's features */
	if ((err = ctl_probe_features(&f))) {
		snprintf(msg, len, "cannot read the kernel's BTF (%s)", strerror(-err));
		return err;
	}
	if ((lack = missing_kfunc(&f))) {
		kfunc_msg(lack, msg, len);
		return -ENOTSUP;
	}
	if (out)
		*out = f;
	return 0;
}

/* One line of the report: "what: ok (detail)" or "what: missing detail". */
static void line(FILE *out, const char *what, bool ok, const char *detail)
{
	if (ok)
		fprintf(out, "%s: ok%s%s%s\n", what, *detail ? " (" : "", detail,
			*detail ? ")" : "");
	else
		fprintf(out, "%s: missing %s\n", what, detail);
}

/* The line of feature @i: what it needs that @have lacks. */
static void caps_line(FILE *out, enum ctl_need_id i, unsigned long long have)
{
	unsigned long long lacks = ctl_caps_missing(ctl_needs[i].caps, have);
	char names[64];

	ctl_caps_names(lacks, names, sizeof(names));
	line(out, ctl_needs[i].what, !lacks, names);
}

int ctl_probe_report(FILE *out, char *msg, size_t len)
{
	struct ctl_features f;
	unsigned long long have = 0;
	char detail[512];
	bool kernel_ok = false, features = false;
	struct utsname uts;
	int err, ferr;

	/* the first reason the core cannot work, as the datapath would give it */
	err = ctl_probe_host(msg, len);
	if (uname(&uts))
		snprintf(uts.release, sizeof(uts.release), "?");
	if (!at_least(uts.release, 6, 1)) {
		snprintf(detail, sizeof(detail), "Linux 6.1 or later (this is %s)", uts.release);
		line(out, "kernel", false, detail);
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		line(out, "kernel", false, "BTF (/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF)");
	} else {
		snprintf(detail, sizeof(detail), "Linux %s with BTF", uts.release);
		line(out, "kernel", true, detail);
		kernel_ok = true;
	}
	if (kernel_ok && (ferr = ctl_probe_features(&f))) {
		line(out, "conntrack kfuncs", false, "a readable BTF (/sys/kernel/btf/vmlinux)");
		if (!err) {
			snprintf(msg, len, "cannot read the kernel's BTF (%s)", strerror(-ferr));
			err = ferr;
		}
	} else if (kernel_ok) {
		const char *lack = missing_kfunc(&f);
		size_t n = 0;

		features = true;
		detail[0] = '\0';
		for (int i = 0; ctl_needed_kfuncs[i] && n < sizeof(detail); i++)
			if (!has_kfunc(&f, ctl_needed_kfuncs[i]))
				n += snprintf(detail + n, sizeof(detail) - n, "%s%s", n ? ", " : "",
					      ctl_needed_kfuncs[i]);
		if (lack) {
			snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0,
				 " (CONFIG_NF_CONNTRACK; modprobe nf_conntrack if it is a module)");
			line(out, "conntrack kfuncs", false, detail);
			if (!err) {
				kfunc_msg(lack, msg, len);
				err = -ENOTSUP;
			}
		} else {
			line(out, "conntrack kfuncs", true, "");
		}
	}
	ctl_probe_caps(&have);
	caps_line(out, CTL_NEED_CORE, have);
	caps_line(out, CTL_NEED_DIRECT, have);
	if (kernel_ok && features) {
		line(out, "conntrack zones (zone = in direct requests)", f.zones,
		     f.zones ? "" : "Linux 6.11 or later (bpf_ct_opts has no ct_zone_id)");
		line(out, "NAT (snat, dnat in direct requests)", f.nat,
		     f.nat ? "" : "bpf_ct_set_nat_info (CONFIG_NF_NAT; modprobe nf_nat if it is "
		     "a module)");
	}
	caps_line(out, CTL_NEED_TABLE, have);
	caps_line(out, CTL_NEED_NETNS, have);
	/* since 5.11, map memory is charged to the memory cgroup, not RLIMIT_MEMLOCK */
	line(out, "locked memory", at_least(uts.release, 5, 11),
	     at_least(uts.release, 5, 11) ? "not needed: the kernel charges BPF memory to the "
	     "memory cgroup" : "a high RLIMIT_MEMLOCK (ulimit -l unlimited)");
	return err;
}

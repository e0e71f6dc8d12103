// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * probe.c - preflight checks with one-sentence answers, so that a missing kernel
 * feature reads as such rather than as a verifier dump (KERNEL.md section 8).
 */
#include <errno.h>
#include <stdio.h>
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

static int has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return !!(data[cap / 32].effective & (1u << (cap % 32)));
}

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
	return 0;
}

bool ctl_probe_nat_module(void)
{
	return access("/sys/kernel/btf/nf_nat", R_OK) == 0;
}

int ctl_probe_host(char *msg, size_t len)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	struct utsname uts;

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
	if (syscall(SYS_capget, &hdr, data) == 0) {
		/*
		 * CAP_PERFMON: the program reads nf_conn fields and relies on
		 * allow_uninit_stack; CAP_SYS_ADMIN stands in for it, as in the kernel.
		 */
		bool bpf = has_cap(data, CAP_BPF), net = has_cap(data, CAP_NET_ADMIN);
		bool perfmon = has_cap(data, CAP_PERFMON) || has_cap(data, CAP_SYS_ADMIN);
		char lacks[64] = "";

		if (bpf && perfmon && net)
			return 0;
		snprintf(lacks, sizeof(lacks), "%s%s%s%s%s", bpf ? "" : "CAP_BPF",
			 !bpf && !perfmon ? (net ? " and " : ", ") : "",
			 perfmon ? "" : "CAP_PERFMON",
			 !net && (!bpf || !perfmon) ? " and " : "", net ? "" : "CAP_NET_ADMIN");
		snprintf(msg, len, "ctlua needs the capabilities CAP_BPF, CAP_PERFMON and "
			 "CAP_NET_ADMIN, and lacks %s (run it as root)", lacks);
		return -EPERM;
	}
	return 0;
}

int ctl_probe(char *msg, size_t len, struct ctl_features *out)
{
	struct ctl_features f;
	int err;

	if ((err = ctl_probe_host(msg, len)))
		return err;
	/* one reading of BTF (15 to 50 ms) serves the check and the caller's features */
	if ((err = ctl_probe_features(&f))) {
		snprintf(msg, len, "cannot read the kernel's BTF (%s)", strerror(-err));
		return err;
	}
	for (int i = 0; ctl_needed_kfuncs[i]; i++) {
		int k = 0;

		while (ctl_all_kfuncs[k] && strcmp(ctl_all_kfuncs[k], ctl_needed_kfuncs[i]))
			k++;
		if (ctl_all_kfuncs[k] && f.kfunc[k])
			continue;
		snprintf(msg, len, "this kernel lacks the conntrack kfunc '%s': ctlua needs "
			 "Linux 6.1 or later with CONFIG_NF_CONNTRACK and BTF "
			 "(modprobe nf_conntrack if it is a module)", ctl_needed_kfuncs[i]);
		return -ENOTSUP;
	}
	if (out)
		*out = f;
	return 0;
}

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

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

const char *const ctl_needed_kfuncs[] = {
	"bpf_skb_ct_lookup", "bpf_skb_ct_alloc", "bpf_ct_insert_entry", "bpf_ct_release",
	"bpf_ct_set_timeout", "bpf_ct_change_timeout", "bpf_ct_set_status",
	"bpf_ct_change_status", NULL,
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

int ctl_probe(char *msg, size_t len)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	struct btf *vmlinux, *mod = NULL;
	struct utsname uts;
	int major, minor, err = 0;

	if (uname(&uts) == 0 && sscanf(uts.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 6 || (major == 6 && minor < 1))) {
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
	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (!has_cap(data, CAP_BPF) || !has_cap(data, CAP_NET_ADMIN))) {
		snprintf(msg, len, "ctlua needs the capabilities CAP_BPF and CAP_NET_ADMIN "
			 "(run it as root)");
		return -EPERM;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		err = -errno;
		snprintf(msg, len, "cannot read the kernel's BTF (%s)", strerror(-err));
		return err;
	}
	for (int i = 0; ctl_needed_kfuncs[i] && !err; i++) {
		if (find_kfunc(ctl_needed_kfuncs[i], vmlinux, &mod))
			continue;
		snprintf(msg, len, "this kernel lacks the conntrack kfunc '%s': ctlua needs "
			 "Linux 6.1 or later with CONFIG_NF_CONNTRACK and BTF "
			 "(modprobe nf_conntrack if it is a module)", ctl_needed_kfuncs[i]);
		err = -ENOTSUP;
	}
	btf__free(mod);
	btf__free(vmlinux);
	return err;
}

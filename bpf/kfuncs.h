/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kfuncs.h - hand-written prototypes of the conntrack kfuncs ctlua calls.
 *
 * bpftool 7.1's vmlinux.h carries no kfunc prototypes (KERNEL.md section 7). libbpf 1.1
 * checks each against the kernel's BTF: parameter kinds must match, struct names need not,
 * which is what lets us pass our own 12-byte opts struct.
 */
#ifndef CTLUA_KFUNCS_H
#define CTLUA_KFUNCS_H

/*
 * The 12-byte layout of struct bpf_ct_opts (5.19 to 6.10; still accepted on 6.11+).
 * The kernel's 16-byte struct is refused with -EINVAL at run time before 6.11,
 * so ctlua passes this one everywhere (KERNEL.md section 1).
 */
struct ctlua_ct_opts {
	__s32 netns_id;
	__s32 error;		/* written by the kernel, on failure only */
	__u8 l4proto;
	__u8 dir;		/* written by lookup */
	__u8 reserved[2];
};
#define CTLUA_CT_OPTS_SZ 12

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct ctlua_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern struct nf_conn___init *bpf_skb_ct_alloc(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					       __u32 tuple__sz, struct ctlua_ct_opts *opts,
					       __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *nfct) __ksym;
extern void bpf_ct_release(struct nf_conn *nfct) __ksym;
extern void bpf_ct_set_timeout(struct nf_conn___init *nfct, __u32 timeout) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *nfct, __u32 timeout) __ksym;
extern int bpf_ct_set_status(const struct nf_conn___init *nfct, __u32 status) __ksym;
extern int bpf_ct_change_status(struct nf_conn *nfct, __u32 status) __ksym;

#endif /* CTLUA_KFUNCS_H */

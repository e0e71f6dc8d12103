/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kfuncs.h - hand-written prototypes of the conntrack kfuncs ctlua calls.
 *
 * bpftool 7.1's vmlinux.h carries no kfunc prototypes (KERNEL.md section 7). libbpf 1.1
 * checks each against the kernel's BTF: parameter kinds must match, struct names need not,
 * which is what lets us pass our own opts struct (struct ctlua_kopts, below).
 */
#ifndef CTLUA_KFUNCS_H
#define CTLUA_KFUNCS_H

/*
 * The opts argument is struct ctlua_kopts (ctlua.h): the kernel's 16-byte layout, passed
 * with size 12 unless zones or an experiment need more. 16 is refused at run time before
 * 6.11, 12 works everywhere (KERNEL.md section 1).
 */
#define CTLUA_CT_OPTS_SZ 12

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct ctlua_kopts *opts,
					 __u32 opts__sz) __ksym;
extern struct nf_conn___init *bpf_skb_ct_alloc(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					       __u32 tuple__sz, struct ctlua_kopts *opts,
					       __u32 opts__sz) __ksym;
/* The same at XDP: the context is the xdp_md, the rest is shared (KERNEL.md section 3). */
extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct ctlua_kopts *opts,
					 __u32 opts__sz) __ksym;
extern struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *xdp, struct bpf_sock_tuple *tuple,
					       __u32 tuple__sz, struct ctlua_kopts *opts,
					       __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *nfct) __ksym;
extern void bpf_ct_release(struct nf_conn *nfct) __ksym;
extern void bpf_ct_set_timeout(struct nf_conn___init *nfct, __u32 timeout) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *nfct, __u32 timeout) __ksym;
extern int bpf_ct_set_status(const struct nf_conn___init *nfct, __u32 status) __ksym;
extern int bpf_ct_change_status(struct nf_conn *nfct, __u32 status) __ksym;
/* 6.1+ with CONFIG_NF_NAT; weak, and only reached when have_nat (ctlua.bpf.c) holds. */
extern int bpf_ct_set_nat_info(struct nf_conn___init *nfct, union nf_inet_addr *addr, int port,
			       enum nf_nat_manip_type manip) __ksym __weak;

#endif /* CTLUA_KFUNCS_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctlua.bpf.c - the kernel side: a TC (or XDP) program that looks every TCP/UDP packet
 * up in conntrack and, on a miss, decides (per-flow verdict, rules, default) whether to
 * leave it to netfilter, create the entry itself, or drop it; plus ctlua_req, which the
 * host runs through BPF_PROG_TEST_RUN to create, change or read entries on request.
 *
 * The kfuncs' real behaviour, version by version, is in shared/KERNEL.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "ctlua.h"
#include "kfuncs.h"

char LICENSE[] SEC("license") = "GPL";	/* the kfuncs refuse anything else */

/*
 * What the packet path returns for a packet it lets through: not a verdict, so the
 * filters after ctlua's on the hook (another program's) still see it. Only a drop
 * (TC_ACT_SHOT) ends the classification.
 */
#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ENOENT		2
#define ENOMEM		12
#define EEXIST		17
#define EINVAL		22
#define ENOSPC		28
#define EAFNOSUPPORT	97

/* libbpf reads the running kernel's config for these (one file, no BTF parse) */
extern unsigned int CONFIG_HZ __kconfig __weak;
extern enum libbpf_tristate CONFIG_NF_NAT __kconfig __weak;

/* The host refuses an object built from another version of ctlua.h. */
const volatile __u32 ctlua_abi = CTLUA_ABI;
/* Set by the loader when nf_nat is a loaded module with BTF (/sys/kernel/btf/nf_nat). */
const volatile bool nat_module_btf;

/*
 * Whether bpf_ct_set_nat_info exists (KERNEL.md sections 0 and 8): on 6.1+ (the host's
 * minimum) it is built wherever nf_nat is and BTF is: in vmlinux with CONFIG_NF_NAT=y,
 * else in nf_nat's module BTF while it is loaded. Both are constants to the verifier
 * (.kconfig and .rodata are frozen), so when this is false the weak kfunc's call is
 * dead code and the object loads. The loader needs no BTF of its own for it: libbpf's
 * one parse of the kernel's BTF resolves the kfunc.
 */
#define have_nat (CONFIG_NF_NAT == TRI_YES || (CONFIG_NF_NAT == TRI_MODULE && nat_module_btf))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctlua_config);
} ctl_config SEC(".maps");

/*
 * Per-flow verdicts. The loader sets max_entries (--verdicts, ct.config); entries are
 * allocated as they are stored (a preallocated map would hold its whole size from the
 * start). A plain hash, not an LRU one: the host decides what is reclaimed, by idle
 * time, and a full table is an error it can report (doc/development.md says why).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTLUA_VERDICTS_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctlua_flow);
	__type(value, struct ctlua_flow_verdict);
} ctl_verdicts SEC(".maps");

/*
 * A policy in two slots, each a rule table and the rest (mode, event mask, default):
 * the host fills the idle slot, then flips ctlua_config.rule_slot (see live_policy).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_MMAPABLE);	/* the host writes what a table uses, no more */
	__type(key, __u32);
	__type(value, struct ctlua_rule_table);
} ctl_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct ctlua_policy);
} ctl_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctlua_stats);
} ctl_stats SEC(".maps");

/*
 * What each rule position of each slot, each slot's default and each per-flow verdict
 * source decided (struct ctlua_count, ctlua.h): per CPU, so counting takes no atomic
 * and no cache line is shared; the host sums the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTLUA_COUNT_ENTRIES);
	__type(key, __u32);
	__type(value, struct ctlua_count);
} ctl_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CTLUA_RINGBUF_BYTES);
} ctl_events SEC(".maps");

/*
 * Set by the event reader just before it blocks, cleared by it when it wakes: the
 * program forces a wakeup only when it finds it set (emit). In a section of its own,
 * which libbpf makes a separate mmap-able map: the reader writes it without a syscall,
 * and its cache line is shared with nothing else.
 */
__u64 ctl_asleep SEC(".data.wake");

/*
 * Direct requests live in .bss, which libbpf maps into the host: filling a batch costs
 * a memory write per field instead of a syscall per request (bench/, row 1).
 * One test run with repeat = n runs ctlua_req once per request of its slice, which the
 * run's context names (see ctlua_req); runs on other CPUs work on other slices.
 */
struct ctlua_request ctl_reqs[CTLUA_MAX_REQUESTS];
struct ctlua_req_params req_params;

/* This CPU's counters; NULL only if the map were missing, which the loader prevents. */
static __always_inline struct ctlua_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ctl_stats, &zero);
}

/* Add one to @slot of @s (from stats(), looked up once per packet and reused). */
static __always_inline void count_in(struct ctlua_stats *s, __u32 slot)
{
	if (s)	/* the mask, not a compare, is what the verifier can follow */
		s->count[slot & (CTLUA_STAT_SLOTS - 1)]++;
}

/*
 * The packet a program runs on: a TC skb or an XDP buffer. @xdp is a constant in each
 * program (ctlua_ingress passes false, ctlua_xdp true), so once handle() is inlined
 * clang keeps only that hook's loads and kfunc calls: the TC programs are what they
 * were without XDP, and the verifier never sees a call whose context does not match
 * (KERNEL.md section 3: bpf_xdp_ct_* want the xdp_md, bpf_skb_ct_* the skb).
 */
struct pkt {
	void *ctx;		/* struct __sk_buff * or struct xdp_md * */
	bool xdp;
};

static __always_inline struct __sk_buff *pkt_skb(struct pkt p)
{
	return p.ctx;
}

static __always_inline struct xdp_md *pkt_xdp(struct pkt p)
{
	return p.ctx;
}

/* The interface the packet crossed (XDP: the one it arrived on). */
static __always_inline __u32 pkt_ifindex(struct pkt p)
{
	return p.xdp ? pkt_xdp(p)->ingress_ifindex : pkt_skb(p)->ifindex;
}

/* The L3 protocol TC knows without a link header; XDP never runs on such devices. */
static __always_inline __be16 pkt_protocol(struct pkt p)
{
	return p.xdp ? 0 : (__be16)pkt_skb(p)->protocol;
}
#include "limit.h"
#include "setmatch.h"

/* Build the kfunc tuple from a flow; returns its size (12 or 36), 0 if the family is unknown. */
static __always_inline __u32 flow_to_tuple(const struct ctlua_flow *f, struct bpf_sock_tuple *t)
{
	if (f->family == CTLUA_AF_INET) {
		t->ipv4.saddr = f->saddr[0];
		t->ipv4.daddr = f->daddr[0];
		t->ipv4.sport = f->sport;
		t->ipv4.dport = f->dport;
		return sizeof(t->ipv4);
	}
	if (f->family == CTLUA_AF_INET6) {
		__builtin_memcpy(t->ipv6.saddr, f->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, f->daddr, 16);
		t->ipv6.sport = f->sport;
		t->ipv6.dport = f->dport;
		return sizeof(t->ipv6);
	}
	return 0;
}

/*
 * The tuple and opts of one kfunc call. The buffers are larger than the kernel's structs
 * so that a request's size overrides reach the kernel unchanged: the verifier only wants
 * [ptr, ptr + size) to be ours (KERNEL.md section 3).
 */
struct kfunc_args {
	union {
		struct bpf_sock_tuple t;
		__u8 raw[CTLUA_KFUNC_BUF];
	} tuple;
	union {
		struct ctlua_kopts o;
		__u8 raw[CTLUA_KFUNC_BUF];
	} opts;
	/* 64-bit: two u32 would share a stack slot, of which the verifier bounds one only */
	__u64 tuple_size;
	__u64 opts_size;
};

/*
 * The opts of a packet's kfunc call for @f: the current namespace, the flow's protocol,
 * and zone @zone_id as @zone_dir says (0, 0: zone 0, which a 12-byte opts means too).
 */
static __always_inline struct ctlua_kopts kopts_for(const struct ctlua_flow *f, __u16 zone_id,
						    __u8 zone_dir)
{
	return (struct ctlua_kopts){ .netns_id = BPF_F_CURRENT_NETNS, .l4proto = f->proto,
				     .zone_id = zone_id, .zone_dir = zone_dir };
}

/*
 * Fill @a for a request's flow @f from the run's params @p. Built afresh for every
 * call: the kernel writes error, dir and zone_dir back into the opts.
 */
static __always_inline void args_for(struct kfunc_args *a, const struct ctlua_flow *f,
				     const struct ctlua_req_params *p)
{
	/*
	 * The kernel reads tuple_size and opts_size bytes: the family's tuple and the 16
	 * bytes of opts are written in full below, so the buffers are zeroed only when a
	 * request's sizes reach past them. The verifier, which checks the largest size,
	 * lets the rest stay unwritten because the loader has CAP_PERFMON
	 * (allow_uninit_stack), which the object needs to load at all (its other programs
	 * do not load with CAP_BPF and CAP_NET_ADMIN alone).
	 */
	if ((p->flags & CTLUA_PARAM_TUPLE_SIZE) || p->opts_size > sizeof(a->opts.o))
		__builtin_memset(a, 0, sizeof(*a));
	a->tuple_size = flow_to_tuple(f, &a->tuple.t);
	a->opts.o = p->kopts;
	if (!(p->flags & CTLUA_PARAM_L4PROTO))
		a->opts.o.l4proto = f->proto;
	a->opts_size = p->opts_size < CTLUA_KFUNC_BUF ? p->opts_size : CTLUA_KFUNC_BUF;
	if (p->flags & CTLUA_PARAM_TUPLE_SIZE)
		a->tuple_size = p->tuple_size < CTLUA_KFUNC_BUF ? p->tuple_size : CTLUA_KFUNC_BUF;
}

/* bpf_{skb,xdp}_ct_lookup, as the hook of @p wants. */
static __always_inline struct nf_conn *pkt_ct_lookup(struct pkt p, struct bpf_sock_tuple *t,
						     __u32 tsz, struct ctlua_kopts *o, __u32 osz)
{
	if (p.xdp)
		return bpf_xdp_ct_lookup(pkt_xdp(p), t, tsz, o, osz);
	return bpf_skb_ct_lookup(pkt_skb(p), t, tsz, o, osz);
}

/* bpf_{skb,xdp}_ct_alloc, as the hook of @p wants. */
static __always_inline struct nf_conn___init *pkt_ct_alloc(struct pkt p, struct bpf_sock_tuple *t,
							   __u32 tsz, struct ctlua_kopts *o,
							   __u32 osz)
{
	if (p.xdp)
		return bpf_xdp_ct_alloc(pkt_xdp(p), t, tsz, o, osz);
	return bpf_skb_ct_alloc(pkt_skb(p), t, tsz, o, osz);
}

static __always_inline struct nf_conn *args_lookup(struct pkt p, struct kfunc_args *a)
{
	return pkt_ct_lookup(p, &a->tuple.t, a->tuple_size, &a->opts.o, a->opts_size);
}

/* Remaining lifetime of an inserted entry in ms; 0 where the kernel's HZ is unknown. */
static __always_inline __u32 timeout_left_ms(const struct nf_conn *ct)
{
	__s32 left = (__s32)(ct->timeout - (__u32)bpf_jiffies64());

	if (!CONFIG_HZ || left <= 0)
		return 0;
	return (__u32)((__u64)left * 1000 / CONFIG_HZ);
}

static __always_inline void read_tuple(const struct nf_conntrack_tuple *t, struct ctlua_flow *out)
{
	out->family = (__u8)t->src.l3num;
	out->proto = t->dst.protonum;
	out->saddr[0] = t->src.u3.all[0];
	out->saddr[1] = t->src.u3.all[1];
	out->saddr[2] = t->src.u3.all[2];
	out->saddr[3] = t->src.u3.all[3];
	out->daddr[0] = t->dst.u3.all[0];
	out->daddr[1] = t->dst.u3.all[1];
	out->daddr[2] = t->dst.u3.all[2];
	out->daddr[3] = t->dst.u3.all[3];
	out->sport = t->src.u.all;
	out->dport = t->dst.u.all;
	if (out->family == CTLUA_AF_INET) {	/* the kernel leaves the rest as it was */
		out->saddr[1] = out->saddr[2] = out->saddr[3] = 0;
		out->daddr[1] = out->daddr[2] = out->daddr[3] = 0;
	}
}

/* What the host reports of an entry: both tuples as the kernel holds them, and the rest. */
static __always_inline void read_entry(const struct nf_conn *ct, struct ctlua_request *out)
{
	if (!out)
		return;
	out->status = (__u32)ct->status;
	out->timeout_ms = timeout_left_ms(ct);
	if (bpf_core_field_exists(ct->mark))
		out->mark = ct->mark;
	if (bpf_core_field_exists(ct->zone))
		out->zone_id = ct->zone.id;
	read_tuple(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, &out->tuple);
	read_tuple(&ct->tuplehash[IP_CT_DIR_REPLY].tuple, &out->reply);
}

/*
 * A hash of the kfunc tuple in @args (3 words for IPv4, 9 for IPv6), for a NAT pool's
 * pick: the same flow always gets the same address and port, and no state is kept.
 */
static __always_inline __u32 flow_hash(const struct kfunc_args *args)
{
	const __u32 *w = (const __u32 *)args->tuple.raw;
	__u32 n = args->tuple_size == sizeof(args->tuple.t.ipv4) ? 3 : 9, h = 0x9e3779b9;

	for (__u32 i = 0; i < 9 && i < n; i++) {
		h ^= w[i];
		h *= 0x85ebca6b;
		h ^= h >> 13;
	}
	return h;
}

/* Whether mapping @n picks from a pool (flow_hash's), not one address and port. */
static __always_inline bool nat_pool(const struct ctlua_nat *n)
{
	return n->port_hi > n->port || n->addr_bits;
}

/*
 * bpf_ct_set_nat_info with mapping @n for an entry of family @v4 (IPv4 or IPv6): a
 * pool's address and port picked by @h, flow_hash's of the tuple (ctlua.h, struct
 * ctlua_nat). The family is the kernel's, which a request's tuple_size override sets,
 * not the flow's.
 */
static __always_inline int set_nat(struct nf_conn___init *a, const struct ctlua_nat *n, int manip,
				   bool v4, __u32 h)
{
	union nf_inet_addr addr;
	int port = n->port;
	__u32 i = v4 ? 0 : 3;	/* the address's last word */

	if (!have_nat || !n->set)
		return 0;
	/* a verdict's address of the other family (a default's): the kernel would take it */
	if (n->family && n->family != (v4 ? CTLUA_AF_INET : CTLUA_AF_INET6))
		return -EAFNOSUPPORT;
	__builtin_memcpy(addr.all, n->addr, sizeof(addr.all));
	if (n->port_hi > n->port)
		port += h % (__u32)(n->port_hi - n->port + 1);
	/* addr_bits <= 16; 0, a single address, masks the hash to 0 */
	h = (h >> 16) & ((1u << (n->addr_bits & 31)) - 1);
	addr.all[i] = bpf_htonl(bpf_ntohl(addr.all[i]) + h);
	return bpf_ct_set_nat_info(a, &addr, port, manip);
}

/* Note, for the host, which kfunc a request or a packet's allocation failed in. */
static __always_inline int failed_at(__u8 *where, __u8 stage, int err)
{
	*where = stage;
	return err;
}

/*
 * Allocate, configure and insert an entry for @f (@nat: NULL, or the source then the
 * destination mapping), and read it into @out (NULL: not read). Every
 * allocation must reach bpf_ct_insert_entry, as no kfunc discards one: when a set_*
 * call fails, the entry goes in already expired (timeout 0) and the failure is
 * returned. Until a lookup or the gc worker reaps it, it still takes its tuple's place
 * in the table (ctlua_req retries once for that). Status bits go in as current |
 * wanted, which works before and after 6.1.
 * Returns 0 or a negative errno: opts.error for a failed alloc, the set_* call's error,
 * or -EEXIST for a failed insert (the kernel reports no reason; a duplicate is by far
 * the likeliest).
 * The kfunc it stopped at goes to *@where (enum ctlua_req_stage), for the request's
 * result or the packet's alloc_error event.
 * ct_create_args takes the kfunc arguments already built (@args: the tuple, and opts
 * whose error is 0): the packet path reuses its lookup's instead of building them again.
 */
static __always_inline int ct_create_args(struct pkt pkt, struct kfunc_args *args,
					  const struct ctlua_opts *o,
					  const struct ctlua_nat *nat,
					  struct ctlua_request *out, __u8 *where)
{
	bool v4 = args->tuple_size == sizeof(args->tuple.t.ipv4);
	struct nf_conn___init *a;
	struct nf_conn *ct;
	__u8 stage = CTLUA_STAGE_NONE;
	__u32 h = 0;
	int err = 0;

	a = pkt_ct_alloc(pkt, &args->tuple.t, args->tuple_size, &args->opts.o, args->opts_size);
	if (!a)
		return failed_at(where, CTLUA_STAGE_ALLOC,
				 args->opts.o.error ? args->opts.o.error : -ENOMEM);
	if (o->flags & CTLUA_OPT_TIMEOUT)
		bpf_ct_set_timeout(a, o->timeout_ms);
	if ((o->flags & CTLUA_OPT_MARK) && bpf_core_field_exists(a->ct.mark))
		a->ct.mark = o->mark;
	if (o->flags & CTLUA_OPT_STATUS) {
		err = bpf_ct_set_status(a, a->ct.status | o->status);
		stage = CTLUA_STAGE_SET_STATUS;
	}
	if (nat && (nat_pool(&nat[0]) || nat_pool(&nat[1])))
		h = flow_hash(args);
	if (!err && nat) {
		err = set_nat(a, &nat[0], NF_NAT_MANIP_SRC, v4, h);
		stage = CTLUA_STAGE_SNAT;
	}
	if (!err && nat) {
		err = set_nat(a, &nat[1], NF_NAT_MANIP_DST, v4, h);
		stage = CTLUA_STAGE_DNAT;
	}
	if (err)
		bpf_ct_set_timeout(a, 0);
	ct = bpf_ct_insert_entry(a);
	if (!ct)
		return failed_at(where, err ? stage : CTLUA_STAGE_INSERT, err ? err : -EEXIST);
	if (!err)
		read_entry(ct, out);
	bpf_ct_release(ct);
	return err ? failed_at(where, stage, err) : 0;
}

/* The same, the arguments built from @f and @p. */
static __always_inline int ct_create(struct pkt pkt, const struct ctlua_flow *f,
				     const struct ctlua_opts *o, const struct ctlua_req_params *p,
				     struct ctlua_request *out)
{
	struct kfunc_args args;	/* args_for writes what the kernel reads */

	args_for(&args, f, p);
	return ct_create_args(pkt, &args, o, &p->snat,
			      (p->flags & CTLUA_PARAM_NO_ENTRY) ? NULL : out, &out->stage);
}

/*
 * bpf_ct_insert_entry gives no reason for a failure (KERNEL.md section 6). A lookup tells
 * the likeliest, a duplicate (EEXIST), from the rest (ENOSPC: hash chain too long).
 */
static __always_inline int confirm_insert_error(struct pkt pkt, const struct ctlua_flow *f,
						const struct ctlua_req_params *p)
{
	struct kfunc_args args;	/* args_for writes what the kernel reads */
	struct nf_conn *ct;

	args_for(&args, f, p);
	ct = args_lookup(pkt, &args);
	if (!ct)
		return -ENOSPC;
	bpf_ct_release(ct);
	return -EEXIST;
}

/* Change an existing entry in place (CTLUA_REQ_CHANGE, and APPLY when there is one). */
static __always_inline int ct_change(struct nf_conn *ct, const struct ctlua_opts *o,
				     struct ctlua_request *out)
{
	int err;

	/* e.g. -EPERM: FIXED_TIMEOUT forbids a new timeout; then change nothing more */
	if (o->flags & CTLUA_OPT_TIMEOUT) {
		err = bpf_ct_change_timeout(ct, o->timeout_ms);
		if (err)
			return failed_at(&out->stage, CTLUA_STAGE_CHANGE_TIMEOUT, err);
	}
	if (o->flags & CTLUA_OPT_STATUS) {
		err = bpf_ct_change_status(ct, ct->status | o->status);
		if (err)
			return failed_at(&out->stage, CTLUA_STAGE_CHANGE_STATUS, err);
	}
	if ((o->flags & CTLUA_OPT_MARK) && bpf_core_field_exists(ct->mark))
		ct->mark = o->mark;
	return 0;
}

/*
 * Copy @len bytes at @off of the packet into @to: straight from the linear part when it
 * holds them (no helper call: the common case costs a few loads), else through
 * bpf_skb_load_bytes, which copes with the non-linear skbs veth hands over from packet
 * generators and GRO (at XDP, bpf_xdp_load_bytes, which reads a multi-buffer frame's
 * fragments). Returns 0 or a negative errno.
 */
static __always_inline int load(struct pkt pkt, __u32 off, void *to, const __u32 len)
{
	void *data = (void *)(long)(pkt.xdp ? pkt_xdp(pkt)->data : pkt_skb(pkt)->data);
	void *end = (void *)(long)(pkt.xdp ? pkt_xdp(pkt)->data_end : pkt_skb(pkt)->data_end);

	if (off <= 128 && data + off + len <= end) {	/* the bound keeps the verifier sure */
		/*
		 * Every header parse() reads starts at an even offset from the packet's
		 * data (12, 14, 18, 22 behind up to two VLAN tags, 0 on an L3 device, then
		 * IP header lengths in 4-byte units and IPv6 extension headers in 4 or 8).
		 * Saying so lets clang copy 16-bit words instead of bytes: half the loads
		 * and stores per header.
		 */
		__builtin_memcpy(to, __builtin_assume_aligned(data + off, 2), len);
		return 0;
	}
	if (pkt.xdp)
		return bpf_xdp_load_bytes(pkt_xdp(pkt), off, to, len);
	return bpf_skb_load_bytes(pkt_skb(pkt), off, to, len);
}

/* IPv6 extension headers walked to the upper layer before the packet is given up. */
#define IPV6_EXT_MAX	6
/* IPv6 next-header values the walk knows (vmlinux.h has only IPPROTO_AH of them). */
#define NEXTHDR_HOP	0
#define NEXTHDR_ROUTING	43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST	60
#define NEXTHDR_ICMPV6	58

/* Whether @proto (network order) is a VLAN tag's type: 802.1Q, or QinQ's 802.1ad outer one. */
static __always_inline bool is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Step over the VLAN tag at *@off: *@proto becomes the type it carries. 0, or -1 if cut short. */
static __always_inline int vlan_tag(struct pkt pkt, __u32 *off, __be16 *proto)
{
	__be16 tag[2];	/* TCI, the type of what follows */

	if (load(pkt, *off, tag, sizeof(tag)))
		return -1;
	*proto = tag[1];
	*off += sizeof(tag);
	return 0;
}

/*
 * Walk IPv6 extension headers from *@off, where f->proto is the first one's type, to
 * the upper layer, as conntrack finds it (ipv6_skip_exthdr): hop-by-hop, routing and
 * destination options (length in 8-byte units, not counting the first 8) and AH (in
 * 4-byte units, not counting the first 8), at most IPV6_EXT_MAX of them. Leaves f->proto
 * the upper layer's type and *@off at its header; what the walk ends on (ESP and "no next
 * header" included) is the upper layer. Returns 0, or the stat slot for passing the
 * packet: a fragment header (fragments; ipv6_fragments counts it too, in @st), more
 * headers than the bound (ipv6_ext), or too short (malformed). A walk that reached the
 * upper layer counts in ipv6_ext_walked.
 */
static __always_inline int ipv6_ext(struct pkt pkt, struct ctlua_flow *f, __u32 *off,
				    struct ctlua_stats *st)
{
	__u8 hdr[2] __attribute__((aligned(2)));	/* next header, length: load copies words */
	__u32 i;

	for (i = 0;; i++) {	/* IPV6_EXT_MAX + 1 rounds at most */
		switch (f->proto) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
		case IPPROTO_AH:
			if (i == IPV6_EXT_MAX)
				return CTLUA_STAT_IPV6_EXT;
			break;
		case NEXTHDR_FRAGMENT:
			count_in(st, CTLUA_STAT_IPV6_FRAGMENTS);
			return CTLUA_STAT_FRAGMENTS;
		default:
			if (i)
				count_in(st, CTLUA_STAT_IPV6_EXT_WALKED);
			return 0;
		}
		if (load(pkt, *off, hdr, sizeof(hdr)))
			return CTLUA_STAT_MALFORMED;
		*off += f->proto == IPPROTO_AH ? (hdr[1] + 2) * 4 : (hdr[1] + 1) * 8;
		f->proto = hdr[0];
	}
}

/*
 * The stat slot of an upper layer the kfuncs refuse (they take TCP and UDP only,
 * KERNEL.md section 1): other_l4, and the kind's own slot beside it (counted in @st)
 * where it has one.
 */
static __always_inline int refused_l4(__u8 proto, struct ctlua_stats *st)
{
	__u32 kind = proto == IPPROTO_ICMP ? CTLUA_STAT_ICMP :
		     proto == NEXTHDR_ICMPV6 ? CTLUA_STAT_ICMPV6 :
		     proto == IPPROTO_SCTP ? CTLUA_STAT_SCTP : 0;

	if (kind)
		count_in(st, kind);
	return CTLUA_STAT_OTHER_L4;
}

/*
 * Parse the link header (Ethernet with up to two VLAN tags, or none on an L3 device
 * such as tun or wireguard, where @l3 is set and skb->protocol says what follows),
 * IPv4 or IPv6 with its extension headers, and the TCP/UDP ports into @f. Returns 0,
 * or the stat slot that explains why the packet is passed untouched (some kinds of
 * passed packets count in a slot of their own as well, in @st).
 *
 * A tag the kernel has already taken out of the data (skb->vlan_tci: veth and most
 * drivers take the outer one before TC ingress) is not in the data and needs no step;
 * the flow does not depend on tags. Fragments are all passed (doc/guide.md says why).
 */
static __always_inline int parse(struct pkt pkt, struct ctlua_flow *f, bool l3,
				 struct ctlua_stats *st)
{
	__u32 off = 0;
	__be16 proto;
	__be16 ports[2];
	int why;

	if (l3) {
		proto = pkt_protocol(pkt);
	} else {
		/* of the Ethernet header only the type: two bytes, not fourteen */
		off = sizeof(struct ethhdr);
		if (load(pkt, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)))
			return CTLUA_STAT_MALFORMED;
		/* QinQ's outer and inner tag, written out; a third leaves proto a VLAN type */
		if (is_vlan(proto)) {
			if (vlan_tag(pkt, &off, &proto))
				return CTLUA_STAT_MALFORMED;
			if (is_vlan(proto) && vlan_tag(pkt, &off, &proto))
				return CTLUA_STAT_MALFORMED;
		}
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		__u32 ihl;

		if (load(pkt, off, &ip, sizeof(ip)))
			return CTLUA_STAT_MALFORMED;
		ihl = ip.ihl * 4;
		if (ip.version != 4 || ihl < sizeof(ip))
			return CTLUA_STAT_MALFORMED;
		if (ip.frag_off & bpf_htons(0x3fff))	/* MF or an offset */
			return CTLUA_STAT_FRAGMENTS;
		f->family = CTLUA_AF_INET;
		f->proto = ip.protocol;
		f->saddr[0] = ip.saddr;
		f->daddr[0] = ip.daddr;
		off += ihl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (load(pkt, off, &ip6, sizeof(ip6)))
			return CTLUA_STAT_MALFORMED;
		f->family = CTLUA_AF_INET6;
		f->proto = ip6.nexthdr;
		__builtin_memcpy(f->saddr, &ip6.saddr, 16);
		__builtin_memcpy(f->daddr, &ip6.daddr, 16);
		off += sizeof(ip6);
		why = ipv6_ext(pkt, f, &off, st);	/* reads nothing before TCP or UDP */
		if (why)
			return why;
	} else {
		return CTLUA_STAT_NOT_IP;
	}

	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		return refused_l4(f->proto, st);
	if (load(pkt, off, ports, sizeof(ports)))
		return CTLUA_STAT_MALFORMED;
	f->sport = ports[0];
	f->dport = ports[1];
	return 0;
}

/*
 * The rule classifier (ctlua.h, struct ctlua_rule_class; doc/performance.md, "Rules at
 * scale"). The searches and the summaries cost the same whatever the rule count; what
 * grows is the number of candidate words, which the host's order of the rules keeps
 * small.
 *
 * The binary searches take no branch on the data: a compare whose outcome picked one of
 * two paths would give the verifier two states per step (2^15 per search) that it
 * cannot prune, as the index differs. Instead each step computes the outcome as 0 or 1
 * with arithmetic (the borrow of a subtraction), and hides it from clang with an empty
 * asm, which would otherwise turn it back into a compare and a branch.
 */
#define hide(x) asm volatile("" : "+r"(x))
#define POOL_MASK (CTLUA_RULE_POOL - 1)

/* 1 if a < b (unsigned 64-bit), without a branch: the borrow out of a - b - borrow. */
static __always_inline __u64 borrow64(__u64 a, __u64 b, __u64 borrow)
{
	__u64 d = a - b - borrow, r;

	hide(d);
	r = (~a & b) | ((~a | b) & d);
	hide(r);
	return r >> 63;
}

/*
 * Index of the last start <= @a in a v4 interval table: the last sample <= @a names the
 * block, then the block's last start <= @a (ctlua.h). @one_level (the table's
 * short_search): the first CTLUA_RULE_SAMPLES starts alone, searched as the samples are.
 */
static __always_inline __u32 span_v4(const struct ctlua_rule_v4 *t, __u32 a, bool one_level)
{
	const __u32 *first = one_level ? t->start : t->sample;
	__u64 base = 0, step, d;

#pragma clang loop unroll(full)
	for (step = CTLUA_RULE_SAMPLES / 2; step; step >>= 1) {
		/* a < sample: the top bit of a - sample, both below 2^32 */
		d = (__u64)a - first[(base + step) & (CTLUA_RULE_SAMPLES - 1)];
		hide(d);
		base += ((d >> 63) ^ 1) * step;
	}
	if (one_level)
		return base & (CTLUA_RULE_SAMPLES - 1);
	base *= CTLUA_RULE_BLOCK;
#pragma clang loop unroll(full)
	for (step = CTLUA_RULE_BLOCK / 2; step; step >>= 1) {
		d = (__u64)a - t->start[(base + step) & (CTLUA_RULE_SPANS - 1)];
		hide(d);
		base += ((d >> 63) ^ 1) * step;
	}
	return base & (CTLUA_RULE_SPANS - 1);
}

/* Index of the last start <= (@hi, @lo) in a v6 interval table, as span_v4. */
static __always_inline __u32 span_v6(const struct ctlua_rule_v6 *t, __u64 hi, __u64 lo,
				     bool one_level)
{
	const __u64 (*first)[2] = one_level ? t->start : t->sample;
	__u64 base = 0, step, lt;
	const __u64 *st;

#pragma clang loop unroll(full)
	for (step = CTLUA_RULE_SAMPLES / 2; step; step >>= 1) {
		st = first[(base + step) & (CTLUA_RULE_SAMPLES - 1)];
		lt = borrow64(hi, st[0], borrow64(lo, st[1], 0));
		hide(lt);
		base += (lt ^ 1) * step;
	}
	if (one_level)
		return base & (CTLUA_RULE_SAMPLES - 1);
	base *= CTLUA_RULE_BLOCK;
#pragma clang loop unroll(full)
	for (step = CTLUA_RULE_BLOCK / 2; step; step >>= 1) {
		st = t->start[(base + step) & (CTLUA_RULE_SPANS - 1)];
		lt = borrow64(hi, st[0], borrow64(lo, st[1], 0));
		hide(lt);
		base += (lt ^ 1) * step;
	}
	return base & (CTLUA_RULE_SPANS - 1);
}

static __always_inline __u64 addr_hi(const __be32 *a)
{
	return (__u64)bpf_ntohl(a[0]) << 32 | bpf_ntohl(a[1]);
}

static __always_inline __u64 addr_lo(const __be32 *a)
{
	return (__u64)bpf_ntohl(a[2]) << 32 | bpf_ntohl(a[3]);
}

/* 1 if @x is not 0, without a branch: x | -x has its top bit set. */
static __always_inline __u64 nonzero(__u64 x)
{
	x |= -x;
	hide(x);
	return x >> 63;
}

/* The position of the lowest set bit of @x (not 0), without a branch. */
static __always_inline __u32 lowest_bit(__u64 x)
{
	__u64 b = x & -x;

	return nonzero(b & 0xffffffff00000000ull) << 5 | nonzero(b & 0xffff0000ffff0000ull) << 4 |
	       nonzero(b & 0xff00ff00ff00ff00ull) << 3 | nonzero(b & 0xf0f0f0f0f0f0f0f0ull) << 2 |
	       nonzero(b & 0xccccccccccccccccull) << 1 | nonzero(b & 0xaaaaaaaaaaaaaaaaull);
}

/* The number of set bits of @x (BPF has no instruction for it). */
static __always_inline __u32 popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((x * 0x0101010101010101ull) >> 56);
}

/*
 * What the candidate words' loop (class_word) works on: one packet's four sets, and a
 * fifth when the table names sets (the rules whose references hold: by_refs).
 */
struct class_walk {
	__u32 slot;		/* the ctl_rules slot, looked up again in the callback */
	__u32 best;		/* the least place in the table found so far */
	__u32 set[5];		/* pool offsets: source, destination, dport, sport, refs */
	__u32 refs;		/* 1: set[4] is read too (c->nrefs > 0) */
	__u64 cand[CTLUA_RULE_SUMMARY];	/* the AND of the summaries, taken word by word */
};

/* The word of the set at pool offset @o at the position of summary bit @b of word @q. */
static __always_inline __u64 set_word(const struct ctlua_rule_class *c, __u32 o, __u32 q,
				      __u64 b)
{
	__u32 rank = (c->pool[(o + CTLUA_RULE_SUMMARY) & POOL_MASK] >> (16 * q)) & 0xffff;

	rank += popcount(c->pool[(o + q) & POOL_MASK] & (b - 1));
	return c->pool[(o + CTLUA_RULE_SET_HEAD + rank) & POOL_MASK];
}

/*
 * One candidate word (bpf_loop callback): the lowest bit left in cand, the word of each
 * set at that position (its rank among the set's nonzero words), their AND, and its
 * first rule. Returns 1 when no candidate is left.
 */
static long class_word(__u64 i, void *data)
{
	struct class_walk *x = data;
	const struct ctlua_rule_table *t = bpf_map_lookup_elem(&ctl_rules, &x->slot);
	const struct ctlua_rule_class *c;
	__u64 s, b, w = ~0ull;
	__u32 q, k, pos;

	if (!t)
		return 1;
	c = &t->cls;
	for (q = 0; q < CTLUA_RULE_SUMMARY; q++)
		if (x->cand[q])
			break;
	if (q >= CTLUA_RULE_SUMMARY)
		return 1;
	s = x->cand[q];
	b = s & -s;
	x->cand[q] = s ^ b;
	for (k = 0; k < 4; k++)
		w &= set_word(c, x->set[k], q, b);
	if (x->refs)
		w &= set_word(c, x->set[4], q, b);
	if (w) {
		pos = (q * 64 + lowest_bit(b)) * 64 + lowest_bit(w);
		pos = c->order[pos & (CTLUA_MAX_RULES - 1)];
		if (pos < x->best)
			x->best = pos;
	}
	return 0;
}

/* The place of the first rule of @t (slot @slot) that matches @f, CTLUA_MAX_RULES if none. */
static __always_inline __u32 classify(const struct ctlua_rule_table *t, __u32 slot,
				      const struct ctlua_flow *f)
{
	const struct ctlua_rule_class *c = &t->cls;
	struct class_walk x = { .slot = slot, .best = CTLUA_MAX_RULES };
	__u32 q, k;

	if (f->family == CTLUA_AF_INET) {
		__u32 s = bpf_ntohl(f->saddr[0]), d = bpf_ntohl(f->daddr[0]);

		x.set[0] = c->v4[0].set[span_v4(&c->v4[0], s, c->short_search)];
		x.set[1] = c->v4[1].set[span_v4(&c->v4[1], d, c->short_search)];
	} else {
		__u64 sh = addr_hi(f->saddr), sl = addr_lo(f->saddr);
		__u64 dh = addr_hi(f->daddr), dl = addr_lo(f->daddr);

		x.set[0] = c->v6[0].set[span_v6(&c->v6[0], sh, sl, c->short_search)];
		x.set[1] = c->v6[1].set[span_v6(&c->v6[1], dh, dl, c->short_search)];
	}
	x.set[2] = c->dport[bpf_ntohs(f->dport)];
	x.set[3] = c->sport[f->proto == IPPROTO_UDP][bpf_ntohs(f->sport)];
	for (q = 0; q < CTLUA_RULE_SUMMARY; q++) {
		x.cand[q] = ~0ull;
		for (k = 0; k < 4; k++)
			x.cand[q] &= c->pool[(x.set[k] + q) & POOL_MASK];
	}
	if (c->nrefs) {	/* the fifth dimension: the rules whose set references hold */
		x.refs = 1;
		x.set[4] = refs_set(c, slot, f);
		for (q = 0; q < CTLUA_RULE_SUMMARY; q++)
			x.cand[q] &= c->pool[(x.set[4] + q) & POOL_MASK];
	}
	bpf_loop(CTLUA_RULE_WORDS, class_word, &x, 0);
	return x.best;
}

/*
 * The live policy, and in *@slot its slot: rule_slot is read once, so every later read
 * of this packet (mode, mask, default, rules) is of that one slot, which the host does
 * not write again until this run has ended (ctlua.h, struct ctlua_config). NULL only if
 * a map were missing, which the loader prevents.
 */
static __always_inline const struct ctlua_policy *live_policy(const struct ctlua_config **cfg,
							       __u32 *slot)
{
	__u32 zero = 0;

	*cfg = bpf_map_lookup_elem(&ctl_config, &zero);
	if (!*cfg)
		return NULL;
	*slot = *(volatile const __u8 *)&(*cfg)->rule_slot;
	return bpf_map_lookup_elem(&ctl_policy, slot);
}

/*
 * Decide for a flow without an entry: per-flow verdict, then the rules of @slot, then
 * its default (@pol). *@by gets the ctl_counts entry of what decided, *@why its
 * ctl_stats slot (by_verdict, by_rule, by_default): the caller counts them once it knows
 * the packet was a miss (a zoned verdict's flow may be found in its zone).
 */
static __always_inline const struct ctlua_verdict *decide(const struct ctlua_config *cfg,
							  const struct ctlua_policy *pol, __u32 slot,
							  const struct ctlua_flow *f, __u32 *by,
							  __u32 *why)
{
	/* an empty hash map still costs a cache miss: skip it until a verdict is stored */
	struct ctlua_flow_verdict *fv = cfg->has_verdicts ? bpf_map_lookup_elem(&ctl_verdicts, f)
							   : NULL;
	const struct ctlua_rule_table *table;
	__u32 found;

	if (fv) {
		/*
		 * Keep it from looking idle to the host's reclaim. The coarse clock is a
		 * load, not a clock read; the grain keeps a flood from dirtying the line.
		 */
		__u64 now = bpf_ktime_get_coarse_ns();

		if (now - fv->used_ns >= CTLUA_USED_GRAIN_NS)
			fv->used_ns = now;
		*why = CTLUA_STAT_BY_VERDICT;
		*by = CTLUA_COUNT_SOURCES + fv->v.source;
		return &fv->v;
	}
	table = bpf_map_lookup_elem(&ctl_rules, &slot);
	if (table && table->count) {
		found = classify(table, slot, f);
		/* one state, not one per way out of classify, for the rest of the program */
		hide(found);
		if (found < CTLUA_MAX_RULES) {
			*why = CTLUA_STAT_BY_RULE;
			*by = slot * CTLUA_COUNT_SLOT + found;
			/*
			 * CTLUA_MAX_RULES is a power of two; the mask keeps the verifier sure,
			 * and hiding found keeps clang from dropping the mask after the compare
			 */
			hide(found);
			return &table->rule[found & (CTLUA_MAX_RULES - 1)].verdict;
		}
	}
	*why = CTLUA_STAT_BY_DEFAULT;
	*by = slot * CTLUA_COUNT_SLOT + CTLUA_COUNT_DEFAULT;
	return &pol->dflt;
}

/* Whether the reader said it is asleep; if so, lower its flag: the caller wakes it. */
static __always_inline bool take_asleep(void)
{
	return *(volatile __u64 *)&ctl_asleep && __sync_lock_test_and_set(&ctl_asleep, 0);
}

/*
 * Emit an event of @kind for @f, if the policy's mask wants it: @rule_id is the deciding
 * verdict's, @action what was applied (a limit's over action, for a flow over it).
 */
static __always_inline void emit(struct ctlua_stats *st, const struct ctlua_policy *pol,
				 struct pkt pkt,
				 __u8 kind, __u8 dir, const struct ctlua_flow *f,
				 __u32 rule_id, __u8 action, int error, __u8 stage)
{
	struct ctlua_event *e;

	if (!(pol->event_mask & (1u << kind)))
		return;
	e = bpf_ringbuf_reserve(&ctl_events, sizeof(*e), 0);
	if (!e) {
		count_in(st, CTLUA_STAT_EVENTS_LOST);
		return;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->ifindex = pkt_ifindex(pkt);
	e->rule_id = rule_id;
	e->error = error;
	e->kind = kind;
	e->dir = dir;
	e->action = action;
	e->stage = stage;
	e->flow = *f;
	/*
	 * Wake the reader only if it said it is asleep (bpf/ctlua.h): a wakeup costs
	 * microseconds inside this run (irq_work, then a cross-CPU wakeup), and a reader
	 * that is reading needs none. Taking the flag (an exchange) makes one producer the
	 * waker; a plain load first, because a locked exchange on every event costs
	 * ~150 ns here (it waits for the record's stores to reach the cache).
	 */
	if (take_asleep()) {
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		count_in(st, CTLUA_STAT_WAKEUPS);
	} else {
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
		/*
		 * The load above is not ordered after the reserve: the reader may have raised
		 * its flag, then read a producer_pos without this record, and slept. The
		 * submit's exchange is a full barrier, so this load sees such a flag (or the
		 * reader saw the record and reads it). A record of no content, discarded,
		 * carries the wakeup then.
		 */
		if (take_asleep()) {
			struct ctlua_event *w = bpf_ringbuf_reserve(&ctl_events, 8, 0);

			if (w) {
				bpf_ringbuf_discard(w, BPF_RB_FORCE_WAKEUP);
				count_in(st, CTLUA_STAT_WAKEUPS);
			} else {
				ctl_asleep = 1;	/* full: let a later record try */
			}
		}
	}
	count_in(st, CTLUA_STAT_EVENTS);
}

/*
 * Count and report the outcome of ct_create: every allocation leaves an event, unless
 * a batch of requests said nobody listens (CTLUA_PARAM_QUIET). @rule_id: the deciding
 * verdict's, 0 for a request.
 */
static __always_inline void report_alloc(struct ctlua_stats *st, const struct ctlua_policy *pol,
					 struct pkt pkt,
					 __u8 dir, const struct ctlua_flow *f,
					 __u32 rule_id, int err, __u8 stage,
					 bool quiet)
{
	if (err) {
		count_in(st, CTLUA_STAT_ALLOC_ERROR);
		if (-err > 0 && -err < CTLUA_ERRNO_SLOTS)
			count_in(st, CTLUA_STAT_ERRNO - err);
		if (!quiet)
			emit(st, pol, pkt, CTLUA_EV_ALLOC_ERROR, dir, f, rule_id, CTLUA_ACT_ALLOC, err,
			     stage);
	} else {
		count_in(st, CTLUA_STAT_ALLOC_OK);
		if (!quiet)
			emit(st, pol, pkt, CTLUA_EV_ALLOC, dir, f, rule_id, CTLUA_ACT_ALLOC, 0, 0);
	}
}

/*
 * This CPU's counters of what decided a miss (entry @i of ctl_counts, from decide()),
 * with the decision counted; NULL for an entry out of range (a verdict's unknown
 * source), which counts nothing. The one lookup of the map per decided miss.
 */
static __always_inline struct ctlua_count *count_decided(__u32 i)
{
	struct ctlua_count *c = bpf_map_lookup_elem(&ctl_counts, &i);

	if (c)
		c->decided++;
	return c;
}

/* Count in @c (count_decided's) the outcome of its allocation: 0 or a negative errno. */
static __always_inline void count_alloc(struct ctlua_count *c, int err)
{
	if (!c)
		return;
	switch (-err) {
	case 0:
		c->allocated++;
		break;
	case EEXIST:
		c->errors[CTLUA_CERR_EEXIST]++;
		break;
	case ENOMEM:
		c->errors[CTLUA_CERR_ENOMEM]++;
		break;
	case ENOSPC:
		c->errors[CTLUA_CERR_ENOSPC]++;
		break;
	case EINVAL:
		c->errors[CTLUA_CERR_EINVAL]++;
		break;
	default:
		c->errors[CTLUA_CERR_OTHER]++;
	}
}

/*
 * A verdict with a zone (CTLUA_OPT_ZONE): the program's own lookup was in zone 0, so the
 * flow's entry, made in the verdict's zone by its first packet, is looked up there too,
 * and a hit there is a hit (KERNEL.md section 1, zones). Flows without a zone never come
 * here: they cost what they did. Leaves @a's opts naming the zone (16 bytes), for the
 * allocation that follows a miss. Returns true on a hit, counted as one; the caller
 * counts the miss (the zone-0 miss was not one yet).
 */
static __always_inline bool zone_hit(struct pkt pkt, struct kfunc_args *a,
				     const struct ctlua_flow *f, const struct ctlua_opts *o,
				     struct ctlua_stats *st)
{
	struct nf_conn *ct;

	a->opts.o = kopts_for(f, o->zone_id, o->zone_dir);
	ct = pkt_ct_lookup(pkt, &a->tuple.t, a->tuple_size, &a->opts.o, sizeof(struct ctlua_kopts));
	if (!ct)
		return false;
	bpf_ct_release(ct);
	count_in(st, CTLUA_STAT_LOOKUP_HIT);
	count_in(st, CTLUA_STAT_ZONE_HIT);
	return true;
}

/* The opts size of @v's allocation: a zone's fields are past the 12 bytes of 5.19+. */
static __always_inline __u32 verdict_opts_size(const struct ctlua_verdict *v)
{
	return (v->opts.flags & CTLUA_OPT_ZONE) ? sizeof(struct ctlua_kopts) : CTLUA_CT_OPTS_SZ;
}

/*
 * The NAT pair ct_create_args takes for @v, NULL when it has none. A branch, not a
 * select: clang would mask the pointer with the flag, which the verifier refuses.
 */
static __always_inline const struct ctlua_nat *verdict_nat(const struct ctlua_verdict *v)
{
	const struct ctlua_nat *n = NULL;

	if (v->opts.flags & CTLUA_OPT_NAT) {
		n = &v->snat;
		hide(n);
	}
	return n;
}

/*
 * The packet path. Per new flow it does the least the kfuncs allow: one lookup of this
 * CPU's counters, the kfunc arguments built once (the tuple and opts of the lookup
 * serve the alloc; a miss writes only opts.error, which is reset), and no zeroing of
 * what the kernel does not read (bench/README.md, row 2).
 */
static __always_inline int handle(struct pkt pkt, __u8 dir, bool l3)
{
	const struct ctlua_verdict *v;
	const struct ctlua_policy *pol;
	const struct ctlua_config *cfg;
	struct ctlua_stats *st;
	struct ctlua_count *by;
	struct ctlua_flow f = {};
	struct kfunc_args a;
	struct nf_conn *ct;
	__u32 slot, by_i, by_stat;
	__u8 stage = CTLUA_STAGE_NONE, action;
	int why, err;

	pol = live_policy(&cfg, &slot);
	if (!pol || pol->mode == CTLUA_MODE_OFF)
		return TC_ACT_UNSPEC;
	st = stats();
	why = parse(pkt, &f, l3, st);
	if (why) {
		count_in(st, why);
		return TC_ACT_UNSPEC;
	}

	/* the opts' 12 bytes the kernel reads; the tuple's tuple_size bytes are all written */
	a.opts.o = kopts_for(&f, 0, 0);
	a.tuple_size = flow_to_tuple(&f, &a.tuple.t);
	ct = pkt_ct_lookup(pkt, &a.tuple.t, a.tuple_size, &a.opts.o, CTLUA_CT_OPTS_SZ);
	if (ct) {
		bpf_ct_release(ct);
		count_in(st, CTLUA_STAT_LOOKUP_HIT);
		return TC_ACT_UNSPEC;
	}
	if (a.opts.o.error != -ENOENT) {
		count_in(st, CTLUA_STAT_LOOKUP_ERROR);
		return TC_ACT_UNSPEC;
	}

	v = decide(cfg, pol, slot, &f, &by_i, &by_stat);
	/* a zoned flow's entry is in its zone: found there, the packet was no miss */
	if ((v->opts.flags & CTLUA_OPT_ZONE) && zone_hit(pkt, &a, &f, &v->opts, st))
		return TC_ACT_UNSPEC;
	count_in(st, CTLUA_STAT_LOOKUP_MISS);
	count_in(st, by_stat);
	by = count_decided(by_i);
	action = v->limit ? limit_apply(st, v, &f) : v->action;
	emit(st, pol, pkt, CTLUA_EV_MISS, dir, &f, v->rule_id, action, 0, 0);
	if (pol->mode != CTLUA_MODE_ENFORCE)
		return TC_ACT_UNSPEC;

	switch (action) {
	case CTLUA_ACT_ALLOC:
		a.opts.o.error = 0;
		a.opts_size = verdict_opts_size(v);
		err = ct_create_args(pkt, &a, &v->opts, verdict_nat(v), NULL, &stage);
		report_alloc(st, pol, pkt, dir, &f, v->rule_id, err, stage, false);
		count_alloc(by, err);
		return TC_ACT_UNSPEC;
	case CTLUA_ACT_DROP:
		count_in(st, CTLUA_STAT_DROPS);
		if (by)
			by->dropped++;
		emit(st, pol, pkt, CTLUA_EV_DROP, dir, &f, v->rule_id, action, 0, 0);
		return TC_ACT_SHOT;
	default:
		count_in(st, CTLUA_STAT_PASSES);
		return TC_ACT_UNSPEC;
	}
}

SEC("tc")
int ctlua_ingress(struct __sk_buff *skb)
{
	return handle((struct pkt){ skb, false }, CTLUA_DIR_INGRESS, false);
}

SEC("tc")
int ctlua_egress(struct __sk_buff *skb)
{
	return handle((struct pkt){ skb, false }, CTLUA_DIR_EGRESS, false);
}

/* The same for devices whose packets start at the IP header (tun, wireguard, ipip). */
SEC("tc")
int ctlua_ingress_l3(struct __sk_buff *skb)
{
	return handle((struct pkt){ skb, false }, CTLUA_DIR_INGRESS, true);
}

SEC("tc")
int ctlua_egress_l3(struct __sk_buff *skb)
{
	return handle((struct pkt){ skb, false }, CTLUA_DIR_EGRESS, true);
}

/*
 * The same at XDP, on devices with an Ethernet header (ct.attach refuses the others):
 * ingress only, as XDP sees no packet leave. A flow is decided as at TC; only what a
 * drop and a pass are called differs. "xdp.frags": it takes multi-buffer frames (load()
 * reads past the first buffer with bpf_xdp_load_bytes), without which the kernel
 * refuses native XDP on a veth whose MTU exceeds a page (ERANGE).
 */
SEC("xdp.frags")
int ctlua_xdp(struct xdp_md *xdp)
{
	return handle((struct pkt){ xdp, true }, CTLUA_DIR_INGRESS, false) == TC_ACT_SHOT ?
	       XDP_DROP : XDP_PASS;
}

/*
 * One direct request per repeat of a test run. The run's context names its slice of
 * ctl_reqs: cb[0] the next request, cb[1] the end (exclusive); each repeat takes the
 * next one, counting in cb[0], which stays with the run's skb from repeat to repeat.
 * Runs on other CPUs, at the same time, work on other slices (ctl_dp_run_slice). The
 * host fills the slice and req_params, and results go back into the same slots. Runs
 * in the host task's netns (BPF_PROG_TEST_RUN uses its loopback device as skb->dev),
 * or in the peer namespace req_params.kopts.netns_id names.
 */
SEC("tc")
int ctlua_req(struct __sk_buff *skb)
{
	const struct ctlua_policy *pol;
	const struct ctlua_config *cfg;
	struct kfunc_args args;	/* args_for writes what the kernel reads */
	struct ctlua_request *r;
	struct nf_conn *ct;
	__u32 i = skb->cb[0], end = skb->cb[1], slot;
	struct ctlua_stats *st = stats();
	struct pkt pkt = { skb, false };

	skb->cb[0] = i + 1;
	pol = live_policy(&cfg, &slot);	/* for the event mask */
	if (!pol || i >= end || i >= CTLUA_MAX_REQUESTS)
		return TC_ACT_OK;
	r = &ctl_reqs[i];
	r->error = 0;
	r->existed = 0;
	r->stage = CTLUA_STAGE_NONE;
	if (r->op == CTLUA_REQ_ALLOC) {
		r->error = ct_create(pkt, &r->flow, &r->opts, &req_params, r);
		/*
		 * Refused, and no live entry has the tuple: an expired one that only lookups
		 * reap (a failed set_* inserts its allocation dead) may have been in the way.
		 * The confirming lookup has just reaped it, so one more try tells.
		 */
		if (r->error == -EEXIST && r->stage == CTLUA_STAGE_INSERT &&
		    confirm_insert_error(pkt, &r->flow, &req_params) == -ENOSPC) {
			r->stage = CTLUA_STAGE_NONE;
			r->error = ct_create(pkt, &r->flow, &r->opts, &req_params, r);
			if (r->error == -EEXIST && r->stage == CTLUA_STAGE_INSERT)
				r->error = confirm_insert_error(pkt, &r->flow, &req_params);
		}
		report_alloc(st, pol, pkt, CTLUA_DIR_REQUEST, &r->flow, 0, r->error, r->stage,
			     req_params.flags & CTLUA_PARAM_QUIET);
		return TC_ACT_OK;
	}

	args_for(&args, &r->flow, &req_params);
	ct = args_lookup(pkt, &args);
	if (!ct) {
		if (r->op == CTLUA_REQ_APPLY && args.opts.o.error == -ENOENT) {
			r->error = ct_create(pkt, &r->flow, &r->opts, &req_params, r);
			report_alloc(st, pol, pkt, CTLUA_DIR_REQUEST, &r->flow, 0, r->error,
				     r->stage, req_params.flags & CTLUA_PARAM_QUIET);
		} else
			r->error = failed_at(&r->stage, CTLUA_STAGE_LOOKUP,
					     args.opts.o.error ? args.opts.o.error : -ENOENT);
		return TC_ACT_OK;
	}
	if (r->op == CTLUA_REQ_APPLY || r->op == CTLUA_REQ_CHANGE) {
		r->existed = 1;
		r->error = ct_change(ct, &r->opts, r);
	}
	read_entry(ct, r);
	bpf_ct_release(ct);
	return TC_ACT_OK;
}

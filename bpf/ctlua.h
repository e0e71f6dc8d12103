/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctlua.h - the one contract between the TC program (bpf/) and the host (src/).
 *
 * No includes: the includer provides __u8..__u64 and __be16/__be32 (vmlinux.h on
 * the BPF side, <linux/types.h> on the host). Every struct has explicit padding that
 * writers zero, and a size assert. Bump CTLUA_ABI whenever a layout or a meaning here
 * changes; the host refuses an object whose ABI (ctlua_abi in its .rodata) differs.
 */
#ifndef CTLUA_H
#define CTLUA_H

#define CTLUA_ABI		17

#define CTLUA_MAX_RULES		16384	/* rules per table slot: a power of two */
#define CTLUA_VERDICTS_DEFAULT	131072	/* per-flow verdicts; the loader may set another size */
#define CTLUA_USED_GRAIN_NS	100000000ull	/* a verdict's use is written at most this often */
#define CTLUA_MAX_REQUESTS	16384	/* direct requests in one test run (2.6 MB) */
#define CTLUA_RINGBUF_BYTES	(1 << 22)
#define CTLUA_SPIN_NS		50000	/* after a read, the reader watches the ring this long */

/* Address families, with the kernel's values so no translation is needed. */
#define CTLUA_AF_INET		2
#define CTLUA_AF_INET6		10

/* What happens to a packet whose flow has no conntrack entry. */
enum ctlua_action {
	CTLUA_ACT_PASS = 0,	/* leave it to netfilter */
	CTLUA_ACT_ALLOC = 1,	/* create the entry with the kfuncs */
	CTLUA_ACT_DROP = 2,	/* TC_ACT_SHOT */
	CTLUA_ACT_NR
};

/* What the program does at all (struct ctlua_policy), read on every packet. */
enum ctlua_mode {
	CTLUA_MODE_OFF = 0,	/* the program returns at once */
	CTLUA_MODE_OBSERVE = 1,	/* decide and report, change nothing */
	CTLUA_MODE_ENFORCE = 2,	/* decide and act */
	CTLUA_MODE_NR
};

enum ctlua_event_kind {
	CTLUA_EV_MISS = 0,	/* no entry: what was decided, before acting */
	CTLUA_EV_ALLOC = 1,	/* an entry was created and inserted */
	CTLUA_EV_ALLOC_ERROR = 2, /* alloc or insert failed; error says why */
	CTLUA_EV_DROP = 3,	/* the packet was dropped */
	CTLUA_EV_NR
};

/* Which way the packet crossed the interface. */
enum ctlua_dir {
	CTLUA_DIR_INGRESS = 0,
	CTLUA_DIR_EGRESS = 1,
	CTLUA_DIR_REQUEST = 2,	/* not a packet: a direct request from the host */
};

/*
 * Per-CPU counters: one array, named slots first, then one slot per errno
 * (CTLUA_STAT_ERRNO + e counts alloc failures with error -e, e < CTLUA_ERRNO_SLOTS).
 */
enum ctlua_stat {
	CTLUA_STAT_PACKETS = 0,		/* seen while mode is not off; not counted per
					 * packet: the host sums the next eight slots */
	CTLUA_STAT_NOT_IP,		/* neither IPv4 nor IPv6: passed */
	CTLUA_STAT_FRAGMENTS,		/* IPv4 and IPv6 fragments: passed */
	CTLUA_STAT_IPV6_EXT,		/* IPv6 with more extension headers than the
					 * program walks (6): passed */
	CTLUA_STAT_OTHER_L4,		/* neither TCP nor UDP (the kfuncs refuse
					 * them): passed */
	CTLUA_STAT_MALFORMED,		/* too short for its headers: passed */
	CTLUA_STAT_LOOKUP_HIT,
	CTLUA_STAT_LOOKUP_MISS,
	CTLUA_STAT_LOOKUP_ERROR,	/* lookup failed other than ENOENT */
	CTLUA_STAT_BY_VERDICT,		/* misses decided by the per-flow map */
	CTLUA_STAT_BY_RULE,		/* ... by a rule */
	CTLUA_STAT_BY_DEFAULT,		/* ... by the global default */
	CTLUA_STAT_PASSES,		/* misses left to netfilter */
	CTLUA_STAT_ALLOC_OK,
	CTLUA_STAT_ALLOC_ERROR,		/* alloc or insert failed (all errnos) */
	CTLUA_STAT_DROPS,
	CTLUA_STAT_EVENTS,		/* events submitted */
	CTLUA_STAT_EVENTS_LOST,		/* ring buffer full */
	CTLUA_STAT_VERDICTS_FULL,	/* host: verdicts refused, the table was full */
	CTLUA_STAT_VERDICTS_EXPIRED,	/* host: idle verdicts removed to make room */
	CTLUA_STAT_WAKEUPS,		/* events that woke the reader (it was asleep) */
	CTLUA_STAT_LIMITED,		/* misses over their limit: got its over-action */
	CTLUA_STAT_ZONE_HIT,		/* zone-0 misses whose verdict's zone held the entry:
					 * counted as lookup_hit, not lookup_miss */
	/* details: each counted beside another slot, not in packets' sum */
	CTLUA_STAT_IPV6_FRAGMENTS,	/* of fragments, the IPv6 ones */
	CTLUA_STAT_IPV6_EXT_WALKED,	/* IPv6 whose extension headers were walked: they
					 * go on, to the lookup or a slot above */
	CTLUA_STAT_ICMP,		/* of other_l4, ICMP (protocol 1) */
	CTLUA_STAT_ICMPV6,		/* ... ICMPv6 (58) */
	CTLUA_STAT_SCTP,		/* ... SCTP (132) */
	CTLUA_STAT_NAMED,		/* number of named slots */
	CTLUA_STAT_ERRNO = 128,
	CTLUA_STAT_SLOTS = 256,	/* a power of two: the BPF side masks the index */
};
#define CTLUA_ERRNO_SLOTS	(CTLUA_STAT_SLOTS - CTLUA_STAT_ERRNO)

struct ctlua_stats {
	__u64 count[CTLUA_STAT_SLOTS];
};

/*
 * Who stored a per-flow verdict: ct.verdict, or a callback's answer (which the host
 * stores as a per-flow verdict too). Each has its counters (struct ctlua_count).
 */
enum ctlua_source {
	CTLUA_SRC_VERDICT = 0,	/* ct.verdict */
	CTLUA_SRC_ANSWER = 1,	/* an event callback's answer */
	CTLUA_SRC_NR
};

/* The errnos an allocation on the packet path counts apart; the rest are "other". */
enum ctlua_count_err {
	CTLUA_CERR_EEXIST = 0,	/* the insert found the tuple taken */
	CTLUA_CERR_ENOMEM,	/* bpf_skb_ct_alloc: table full or no memory */
	CTLUA_CERR_ENOSPC,	/* hash chain too long */
	CTLUA_CERR_EINVAL,	/* a kfunc refused an argument */
	CTLUA_CERR_OTHER,
	CTLUA_CERR_NR
};

/*
 * What decided a packet's flow, counted per CPU in ctl_counts (doc/performance.md,
 * "Counting per rule"). One entry per rule position of each slot of ctl_rules and per
 * slot's default (CTLUA_COUNT_SLOT apart: entry slot * CTLUA_COUNT_SLOT + position,
 * the default at position CTLUA_COUNT_DEFAULT), then one per enum ctlua_source. The
 * host carries a rule's counts to its new position when the table is swapped.
 */
struct ctlua_count {
	__u64 decided;		/* misses it decided (any mode) */
	__u64 allocated;	/* entries it created (enforce) */
	__u64 dropped;		/* packets it dropped (enforce) */
	__u64 errors[CTLUA_CERR_NR];	/* failed allocations, by errno */
};
_Static_assert(sizeof(struct ctlua_count) == 64, "ctlua_count layout");
#define CTLUA_COUNT_DEFAULT	CTLUA_MAX_RULES
#define CTLUA_COUNT_SLOT	(CTLUA_MAX_RULES + 1)
#define CTLUA_COUNT_SOURCES	(2 * CTLUA_COUNT_SLOT)
#define CTLUA_COUNT_ENTRIES	(CTLUA_COUNT_SOURCES + CTLUA_SRC_NR)

/*
 * A flow as the packet carries it (original direction = this packet's direction).
 * Addresses and ports in network order; IPv4 uses saddr[0]/daddr[0], the rest zero.
 */
struct ctlua_flow {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 family;		/* CTLUA_AF_INET or CTLUA_AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP (others only in requests) */
	__u8 pad[2];
};
_Static_assert(sizeof(struct ctlua_flow) == 40, "ctlua_flow layout");

/* Which fields of struct ctlua_opts are set. */
#define CTLUA_OPT_TIMEOUT	(1u << 0)
#define CTLUA_OPT_STATUS	(1u << 1)
#define CTLUA_OPT_MARK		(1u << 2)
#define CTLUA_OPT_ZONE		(1u << 3)	/* verdicts: look up and alloc in zone_id */
#define CTLUA_OPT_NAT		(1u << 4)	/* verdicts: snat/dnat of struct ctlua_verdict */

/* What to do to an entry after alloc and before insert (or to an existing one). */
struct ctlua_opts {
	__u32 timeout_ms;	/* bpf_ct_set_timeout / change_timeout */
	__u32 status;		/* IPS_* bits to add (KERNEL.md section 4) */
	__u32 mark;		/* written to ct->mark */
	__u8 flags;		/* CTLUA_OPT_* */
	/* with CTLUA_OPT_ZONE (verdicts only; requests take theirs in ctlua_req_params) */
	__u8 zone_dir;		/* as ctlua_kopts.zone_dir */
	__u16 zone_id;
};
_Static_assert(sizeof(struct ctlua_opts) == 16, "ctlua_opts layout");

/*
 * One NAT mapping for bpf_ct_set_nat_info, or (verdicts) a pool of them: the kfunc takes
 * one address and port, so for a pool the program picks one per flow by a hash of the
 * flow's tuple (flow_hash in ctlua.bpf.c): the port port + h % (port_hi - port + 1),
 * the address addr + (h >> 16) % 2^addr_bits in its last 32 bits (host order).
 */
struct ctlua_nat {
	__be32 addr[4];		/* network order; IPv4 in addr[0]; a pool's first address */
	__u16 port;		/* host order, as the kfunc takes it; 0 keeps the port */
	__u8 set;		/* 0: no mapping of this kind */
	__u8 family;		/* verdicts: the address's; a flow of the other family
				 * fails with EAFNOSUPPORT. 0 (requests): not checked */
	__u16 port_hi;		/* > port: a range of ports, port..port_hi */
	__u8 addr_bits;		/* > 0: a pool of 2^addr_bits addresses from addr */
	__u8 pad;
};
_Static_assert(sizeof(struct ctlua_nat) == 24, "ctlua_nat layout");

/*
 * Value of the per-flow verdict map, and of the default in the config. NAT sits inline
 * (doc/performance.md, "Zones and NAT"): read only when opts.flags has CTLUA_OPT_NAT.
 */
struct ctlua_verdict {
	__u8 action;		/* enum ctlua_action */
	__u8 source;		/* per-flow verdicts: enum ctlua_source; else 0 */
	__u16 limit;		/* slot of ctl_limits that meters this action; 0: none */
	__u32 rule_id;		/* the rule it came from, 0 if none */
	struct ctlua_opts opts;
	struct ctlua_nat snat;	/* with CTLUA_OPT_NAT; snat then dnat, as in */
	struct ctlua_nat dnat;	/* ctlua_req_params: ct_create_args takes the pair */
};
_Static_assert(sizeof(struct ctlua_verdict) == 72, "ctlua_verdict layout");

/*
 * Rate limits (doc/performance.md, "Rate limits in the kernel"). A verdict whose limit
 * is not 0 names a slot of ctl_limits (an mmap-able array the host writes); the miss it
 * decides takes a token from its key's bucket, and is decided by the limit's over
 * action instead when there is none. A bucket is one time, GCRA's "theoretical arrival
 * time" (as lua/limit.lua): when it would be full again; taking a token moves it
 * step_ns later, and is refused when that would put it more than span_ns past now.
 * The host turns rate and burst into step_ns and span_ns, so the program divides
 * nothing. Buckets live in ctl_lbuckets, an LRU hash; a key idle for span_ns is full,
 * the same as a key with no bucket, so eviction changes no answer that matters.
 */
#define CTLUA_MAX_LIMITS	1024	/* slots of ctl_limits, 0 unused; a power of two */
#define CTLUA_LIMIT_KEYS	65536	/* buckets held at once, all limits together */

/* What a limit's buckets are per. */
enum ctlua_limit_per {
	CTLUA_PER_RULE = 0,	/* one bucket for every flow the verdict decides */
	CTLUA_PER_SRC = 1,	/* the source address under mask4 or mask6 */
	CTLUA_PER_DST = 2,	/* the destination address, the same way */
	CTLUA_PER_DPORT = 3,	/* the destination port */
	CTLUA_PER_NR
};

/* ctlua_limit.flags: the host's bookkeeping; the program reads none of it. */
#define CTLUA_LIMIT_USED	(1u << 0)	/* the slot is taken */
#define CTLUA_LIMIT_LIVE	(1u << 1)	/* a live policy has used it */

struct ctlua_limit {
	__u64 step_ns;		/* 1e9 / rate; 0: a free slot, which admits every flow */
	__u64 span_ns;		/* burst * step_ns */
	__be32 mask4[4];	/* the bits of an IPv4 address the key keeps ([1..3] zero) */
	__be32 mask6[4];	/* ... of an IPv6 address */
	__u32 gen;		/* in every bucket key: a slot taken again starts afresh */
	__u8 per;		/* enum ctlua_limit_per */
	__u8 over;		/* CTLUA_ACT_PASS or CTLUA_ACT_DROP: a flow over the limit */
	__u8 flags;		/* CTLUA_LIMIT_* */
	__u8 pad;
	/* what the user gave, for ct.limits(); the program reads none of it */
	__u64 rate_milli;	/* new flows per 1000 s */
	__u32 burst;		/* flows */
	__u32 rule_id;		/* the rule it was given with, 0 if none */
	__u32 owner;		/* the Lua state that took the slot (lua_limit.c) */
	__u32 pad2;
	char name[32];		/* NUL-terminated; "" if it has none */
};
_Static_assert(sizeof(struct ctlua_limit) == 112, "ctlua_limit layout");

/* Key of ctl_lbuckets. */
struct ctlua_limit_key {
	__u32 gen;		/* the slot's gen */
	__u16 slot;
	__u8 family;		/* of addr; 0 when the key is no address */
	__u8 pad;
	__be32 addr[4];		/* the masked address; per dport: the port in addr[0] */
};
_Static_assert(sizeof(struct ctlua_limit_key) == 24, "ctlua_limit_key layout");

/* Per limit and per CPU (ctl_lcounts): what its buckets decided. */
struct ctlua_limit_count {
	__u64 admitted;		/* the verdict's own action applied */
	__u64 over;		/* the over action applied */
};
_Static_assert(sizeof(struct ctlua_limit_count) == 16, "ctlua_limit_count layout");

/*
 * Value of the per-flow verdict map: the verdict, and when it was last used, in
 * bpf_ktime_get_coarse_ns time (CLOCK_MONOTONIC_COARSE on the host). The host writes
 * the time of the store; the program moves it forward when a packet uses the verdict,
 * at most once per CTLUA_USED_GRAIN_NS so a flood does not keep writing the line.
 * The host reclaims verdicts idle for longer than its idle time when the table is full.
 */
struct ctlua_flow_verdict {
	struct ctlua_verdict v;
	__u64 used_ns;
};
_Static_assert(sizeof(struct ctlua_flow_verdict) == 80, "ctlua_flow_verdict layout");

/*
 * Named sets (doc/api.md, ct.set): prefix sets and port sets that rules name, filled
 * and changed live by the host without a rule table swap. A datapath holds at most
 * CTLUA_SETS at once, each under an id 0..CTLUA_SETS-1 that the host hands out.
 *
 * Prefixes of every set live in two LPM tries, one per family (ctl_set4, ctl_set6),
 * keyed by the set's id and then the prefix: the key's prefixlen counts the id's 8 bits,
 * so a lookup with prefixlen 8 + 32 (or 8 + 128) finds the longest prefix of that one
 * set. The value is 1 (its presence is the answer). Full-length prefixes (IPv4 /32,
 * IPv6 /128) are not in the tries but in two hash maps (ctl_set_h4, ctl_set_h6) keyed by
 * the set's id and the address: a host address costs one hash lookup, not a walk down
 * the trie. ctl_set_kinds (one entry) says which sets have entries where, so that a
 * packet looks in the hash only for sets holding host addresses and in the trie only for
 * sets holding shorter prefixes, the hash first. The host sets a bit before the first
 * entry of its kind is written and clears it after the last is deleted. Port sets live
 * in ctl_set_ports, an array of 65536 masks indexed by the port (host order): bit id
 * set, that set holds the port. Whatever the protocol: a rule's proto says which.
 */
#define CTLUA_SETS		32	/* ids of sets; a power of two, <= 32 (the port masks) */
#define CTLUA_SET_PREFIXES	(1u << 20)	/* entries of each trie, all sets */
/*
 * Entries of each hash, all sets: a hash's buckets (one per entry, 16 bytes) are made
 * with the map, empty or not, so 2^20 would take 16 MB each and some 70 ms of start-up
 */
#define CTLUA_SET_HOSTS		(1u << 18)	/* a reload holds two generations' */

enum ctlua_set_field {
	CTLUA_SET_SRC,		/* source address in a prefix set */
	CTLUA_SET_DST,		/* destination address in a prefix set */
	CTLUA_SET_SPORT,	/* source port in a port set */
	CTLUA_SET_DPORT,	/* destination port in a port set */
	CTLUA_SET_FIELDS
};

struct ctlua_set_key4 {
	__u32 prefixlen;	/* 8 (the id) + the prefix length */
	__u8 set;		/* id */
	__u8 addr[4];		/* network order; bits past the prefix zero */
	__u8 pad[3];
};
_Static_assert(sizeof(struct ctlua_set_key4) == 12, "ctlua_set_key4 layout");

struct ctlua_set_key6 {
	__u32 prefixlen;
	__u8 set;
	__u8 addr[16];
	__u8 pad[3];
};
_Static_assert(sizeof(struct ctlua_set_key6) == 24, "ctlua_set_key6 layout");

/* A host address of a set (ctl_set_h4, ctl_set_h6): a v4 key is a v6 key's first bytes. */
struct ctlua_set_hkey4 {
	__u8 set;		/* id */
	__u8 pad[3];
	__u8 addr[4];		/* network order */
};
_Static_assert(sizeof(struct ctlua_set_hkey4) == 8, "ctlua_set_hkey4 layout");

struct ctlua_set_hkey6 {
	__u8 set;
	__u8 pad[3];
	__u8 addr[16];
};
_Static_assert(sizeof(struct ctlua_set_hkey6) == 20, "ctlua_set_hkey6 layout");

/* ctl_set_kinds' one value: per family ([0] IPv4, [1] IPv6), bit id set when set id has */
struct ctlua_set_kinds {
	__u32 host[2];		/* entries in ctl_set_h4 / ctl_set_h6 */
	__u32 shorter[2];	/* entries in ctl_set4 / ctl_set6 */
};
_Static_assert(sizeof(struct ctlua_set_kinds) == 16, "ctlua_set_kinds layout");

/*
 * One rule. A packet matches when every set field matches: family 0 and proto 0
 * mean any; prefixes compare (addr & mask) == addr, so a zero mask matches all;
 * dport_lo..dport_hi and sport_lo..sport_hi (host order, inclusive) with 0..65535
 * meaning any; set[field] (enum ctlua_set_field) is 0 for none, else the id + 1 of a
 * set that must hold the field's value (and the prefix or port range must match too).
 */
struct ctlua_rule {
	__u32 id;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
	__be32 src[4];
	__be32 src_mask[4];
	__be32 dst[4];
	__be32 dst_mask[4];
	__u16 dport_lo;
	__u16 dport_hi;
	__u16 sport_lo;
	__u16 sport_hi;
	__u8 set[CTLUA_SET_FIELDS];	/* id + 1 of the set each field must be in; 0 none */
	struct ctlua_verdict verdict;
};
_Static_assert(sizeof(struct ctlua_rule) == 156, "ctlua_rule layout");

/*
 * The rule classifier (doc/performance.md, "Rules at scale"): a packet's first matching
 * rule found without trying the rules one by one. Each field the rules test is a
 * dimension; for the packet's value in each, a table gives the set of rules whose
 * condition on that field holds. The intersection of the four sets holds exactly the
 * rules that match, and the first of them in evaluation order decides.
 *
 * A set is a bitmap over CTLUA_MAX_RULES bit positions. Positions are the rules in an
 * order of the host's choosing that keeps alike rules in the same 64-bit words
 * (order[] maps a position back to the rule's place in the table; within a word,
 * positions keep the table's order, so a word's lowest set bit is its first rule). A set
 * is stored once however many intervals share it, in pool[], at an offset: words
 * [0..3] its summary (bit k set: word k of the bitmap is not zero), word [4] the number
 * of nonzero words before summary word q in bits 16q..16q+15, then its nonzero words in
 * ascending order. The program ANDs the four summaries, and only for the words left
 * (the candidates) reads and ANDs the four words; the first rule is the least among
 * the candidates' lowest bits.
 *
 * Addresses: the elementary intervals of the rules' prefixes, per direction and family
 * (no rule begins or ends inside one). start[] holds the first address of each interval
 * in ascending order, start[0] = 0; set[j] is the offset of the set of rules whose prefix
 * (or "any") covers interval j. The program finds the last start <= the address by a
 * binary search of a fixed number of steps; past the last interval the host repeats it
 * to fill the CTLUA_RULE_SPANS entries. The search has two levels, so that it touches
 * few pages of the map: first the samples (every CTLUA_RULE_BLOCK-th start, 4 kB for
 * IPv4), then one block of CTLUA_RULE_BLOCK starts. When no table has more intervals
 * than CTLUA_RULE_SAMPLES (short_search), it searches the first that many starts alone:
 * 10 steps instead of 15. A rule of the other family is in no set of this
 * one. Addresses are in host order (IPv6 as two u64, high half first).
 * Ports: dport[port] and sport[proto][port] (host order; proto 0 TCP, 1 UDP) are set
 * offsets; a rule of the other protocol is in no set of sport[proto], so the protocol
 * needs no dimension of its own.
 */
#define CTLUA_RULE_WORDS	(CTLUA_MAX_RULES / 64)
#define CTLUA_RULE_SUMMARY	(CTLUA_RULE_WORDS / 64)	/* summary words of a set */
#define CTLUA_RULE_SET_HEAD	(CTLUA_RULE_SUMMARY + 1)	/* summary, then the counts */
#define CTLUA_RULE_SPANS	32768	/* a power of two; intervals per address dimension */
#define CTLUA_RULE_BLOCK	32	/* entries searched at the second level */
#define CTLUA_RULE_SAMPLES	(CTLUA_RULE_SPANS / CTLUA_RULE_BLOCK)	/* the first level's */
#define CTLUA_SET_REFS		8	/* distinct (field, set) pairs in one rule table */
#define CTLUA_RULE_POOL		(1u << 20)	/* words of the sets, per slot (8 MiB) */

struct ctlua_rule_v4 {
	__u32 sample[CTLUA_RULE_SAMPLES];	/* start[i * CTLUA_RULE_BLOCK] */
	__u32 start[CTLUA_RULE_SPANS];
	__u32 set[CTLUA_RULE_SPANS];
};

struct ctlua_rule_v6 {
	__u64 sample[CTLUA_RULE_SAMPLES][2];
	__u64 start[CTLUA_RULE_SPANS][2];	/* high, low */
	__u32 set[CTLUA_RULE_SPANS];
};

struct ctlua_rule_class {
	__u32 pool_used;			/* words of pool[] in use (the host's) */
	__u32 short_search;			/* 1: every address table has at most
						 * CTLUA_RULE_SAMPLES intervals */
	struct ctlua_rule_v4 v4[2];		/* [0] source, [1] destination */
	struct ctlua_rule_v6 v6[2];
	__u32 dport[65536];
	__u32 sport[2][65536];			/* [0] TCP, [1] UDP */
	__u16 order[CTLUA_MAX_RULES];		/* position -> place in the table */
	/*
	 * Set references: the distinct (field, set) pairs the rules name, at most
	 * CTLUA_SET_REFS. For a packet, bit i of its reference mask says that ref[i]'s set
	 * holds the packet's field; by_refs[mask] is the pool offset of the rules whose
	 * references all hold under that mask (every rule naming no set is in each). With
	 * nrefs 0 the program reads neither.
	 */
	__u32 nrefs;
	struct {
		__u8 field;			/* enum ctlua_set_field */
		__u8 set;			/* id (not + 1) */
	} ref[CTLUA_SET_REFS];
	__u32 by_refs[1 << CTLUA_SET_REFS];
	__u64 pool[CTLUA_RULE_POOL];
};
_Static_assert(sizeof(struct ctlua_rule_class) % 8 == 0, "ctlua_rule_class layout");

/*
 * A whole rule table, in evaluation order, with its classifier: one per slot of
 * ctl_rules, which the host writes through a memory mapping (only what is in use).
 * count 0: the program reads nothing else.
 */
struct ctlua_rule_table {
	__u32 count;
	__u32 pad;
	struct ctlua_rule rule[CTLUA_MAX_RULES];
	struct ctlua_rule_class cls;
};

/*
 * The rest of what a policy sets: one per slot of ctl_policy, beside the same slot of
 * ctl_rules.
 */
struct ctlua_policy {
	__u8 mode;		/* enum ctlua_mode */
	__u8 event_mask;	/* bit (1 << kind) set: that kind is emitted */
	__u8 pad[2];
	struct ctlua_verdict dflt;	/* for misses no verdict and no rule decides */
};
_Static_assert(sizeof(struct ctlua_policy) == 76, "ctlua_policy layout");

/*
 * Entry 0 of the config map. A policy lives in a slot (0 or 1) of ctl_policy and of
 * ctl_rules; rule_slot names the live one. The host writes only the idle slot, and
 * only once no packet can still be reading it, then makes it live by writing this:
 * a packet reads rule_slot once and decides by that slot alone (doc/performance.md,
 * "Switching a policy").
 */
struct ctlua_config {
	__u8 rule_slot;		/* which slot of ctl_policy and ctl_rules is live */
	__u8 has_verdicts;	/* 0 until the first per-flow verdict: the map is not read */
	__u8 pad[2];
};
_Static_assert(sizeof(struct ctlua_config) == 4, "ctlua_config layout");

/*
 * One event, as streamed through the ring buffer (ctl_events). Waking the reader: it
 * sets the program's global ctl_asleep (section .data.wake, mmap-able) to 1 with a full
 * barrier before it blocks, then looks at the ring's producer position once more and
 * does not block if it moved; it clears the flag when it wakes. The program, after
 * reserving the record, takes the flag if it is set (an atomic exchange: one producer
 * wakes the reader) and then submits with a forced wakeup, otherwise without one; and
 * after that submit (a full barrier) it looks at the flag again, and wakes a reader
 * that fell asleep meanwhile with an empty record, discarded. After a read that found
 * records the reader watches the ring for CTLUA_SPIN_NS before it sleeps, so while
 * events keep coming it never sleeps and no producer pays for a wakeup.
 */
struct ctlua_event {
	__u64 time_ns;		/* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u32 ifindex;
	__u32 rule_id;		/* 0 unless a rule decided */
	__s32 error;		/* negative errno for alloc_error, else 0 */
	__u8 kind;		/* enum ctlua_event_kind */
	__u8 dir;		/* enum ctlua_dir */
	__u8 action;		/* enum ctlua_action that was decided */
	__u8 stage;		/* enum ctlua_req_stage: where an alloc_error stopped, else 0 */
	struct ctlua_flow flow;
};
_Static_assert(sizeof(struct ctlua_event) == 64, "ctlua_event layout");

/* Direct requests, run by the ctlua_req program through BPF_PROG_TEST_RUN. */
enum ctlua_req_op {
	CTLUA_REQ_ALLOC = 0,	/* alloc, set_*, insert */
	CTLUA_REQ_APPLY = 1,	/* change the entry if it exists, else as ALLOC */
	CTLUA_REQ_LOOKUP = 2,	/* read the entry */
	CTLUA_REQ_CHANGE = 3,	/* change the entry; ENOENT if there is none */
};

/*
 * The kfuncs' opts as 6.11+ lays them out (KERNEL.md section 1); the first 12 bytes
 * are the layout of 5.19 to 6.10, where zone_id sits on what was reserved[0..1].
 */
struct ctlua_kopts {
	__s32 netns_id;		/* -1: the namespace of the run; else a peer nsid */
	__s32 error;		/* written by the kernel on failure */
	__u8 l4proto;
	__u8 dir;		/* written by lookup: 0 original, 1 reply */
	__u16 zone_id;
	__u8 zone_dir;		/* 1 original, 2 reply, 0 both (the kernel writes 3) */
	__u8 reserved[3];
};
_Static_assert(sizeof(struct ctlua_kopts) == 16, "ctlua_kopts layout");

/* tuple_size and opts_size reach the kernel unchanged up to this many bytes. */
#define CTLUA_KFUNC_BUF		64

/* Which fields of struct ctlua_req_params override what the flow implies. */
#define CTLUA_PARAM_L4PROTO	(1u << 0)	/* kopts.l4proto instead of flow.proto */
#define CTLUA_PARAM_TUPLE_SIZE	(1u << 1)	/* tuple_size instead of the family's */
#define CTLUA_PARAM_QUIET	(1u << 2)	/* count, but emit no events (nobody listens) */
#define CTLUA_PARAM_NO_ENTRY	(1u << 3)	/* results: error and stage only, no entry read */

/*
 * What every request of one run shares, beside the per-request ctlua_opts: the opts
 * bytes the kfuncs get, their size and the tuple's, and NAT. The packet path never
 * reads this; its opts are {-1, 0, proto} in 12 bytes, with a zoned verdict's zone in 16.
 */
struct ctlua_req_params {
	struct ctlua_kopts kopts;
	__u32 tuple_size;	/* with CTLUA_PARAM_TUPLE_SIZE; at most CTLUA_KFUNC_BUF */
	__u32 opts_size;	/* 12 or 16, or an experiment's value up to CTLUA_KFUNC_BUF */
	__u8 flags;		/* CTLUA_PARAM_* */
	__u8 pad[3];
	struct ctlua_nat snat;
	struct ctlua_nat dnat;
};
_Static_assert(sizeof(struct ctlua_req_params) == 76, "ctlua_req_params layout");
_Static_assert(__builtin_offsetof(struct ctlua_req_params, dnat) ==
	       __builtin_offsetof(struct ctlua_req_params, snat) + sizeof(struct ctlua_nat) &&
	       __builtin_offsetof(struct ctlua_verdict, dnat) ==
	       __builtin_offsetof(struct ctlua_verdict, snat) + sizeof(struct ctlua_nat),
	       "snat then dnat: the pair ct_create_args takes");

/* Which kfunc a failed request or alloc_error event stopped at, so the host can name it. */
enum ctlua_req_stage {
	CTLUA_STAGE_NONE = 0,
	CTLUA_STAGE_ALLOC,		/* bpf_skb_ct_alloc */
	CTLUA_STAGE_SET_STATUS,		/* bpf_ct_set_status */
	CTLUA_STAGE_SNAT,		/* bpf_ct_set_nat_info, source */
	CTLUA_STAGE_DNAT,		/* bpf_ct_set_nat_info, destination */
	CTLUA_STAGE_INSERT,		/* bpf_ct_insert_entry */
	CTLUA_STAGE_LOOKUP,		/* bpf_skb_ct_lookup */
	CTLUA_STAGE_CHANGE_TIMEOUT,	/* bpf_ct_change_timeout */
	CTLUA_STAGE_CHANGE_STATUS,	/* bpf_ct_change_status */
};

struct ctlua_request {
	struct ctlua_flow flow;
	struct ctlua_opts opts;
	__u8 op;		/* enum ctlua_req_op */
	__u8 pad[3];
	/* results, written by the program */
	__s32 error;		/* 0 or negative errno */
	__u32 status;		/* ct->status after the operation */
	__u32 mark;
	__u32 timeout_ms;	/* time left, as far as it can be read */
	__u32 existed;		/* APPLY found an entry and changed it */
	struct ctlua_flow tuple; /* the entry's original tuple, as the kernel holds it */
	struct ctlua_flow reply; /* and its reply tuple, rewritten by NAT */
	__u16 zone_id;
	__u8 stage;		/* enum ctlua_req_stage, when error is set */
	__u8 pad2;
};
_Static_assert(sizeof(struct ctlua_request) == 164, "ctlua_request layout");

#endif /* CTLUA_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * setmatch.h - named sets on the packet path: the maps that hold their members
 * (ctlua.h, "Named sets") and a packet's reference mask, the fifth dimension of the rule
 * classifier (struct ctlua_rule_class, nrefs/ref/by_refs). Included once, by
 * ctlua.bpf.c, before the classifier.
 */
#ifndef CTLUA_SETMATCH_H
#define CTLUA_SETMATCH_H

/*
 * The prefixes of every prefix set, one trie per family, keyed by set id then prefix.
 * Entries are allocated as they are added: a trie of CTLUA_SET_PREFIXES nodes made at
 * load would hold its whole size from the start. The value's presence is the answer.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CTLUA_SET_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctlua_set_key4);
	__type(value, __u8);
} ctl_set4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CTLUA_SET_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctlua_set_key6);
	__type(value, __u8);
} ctl_set6 SEC(".maps");

/*
 * The full-length prefixes (host addresses) of every prefix set, keyed by set id and
 * address: a hash lookup where the trie would walk down some 17 levels (100 000 /32s),
 * each a likely cache miss under a flood. Entries are allocated as added, as the
 * tries' are; the buckets are not (CTLUA_SET_HOSTS).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTLUA_SET_HOSTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctlua_set_hkey4);
	__type(value, __u8);
} ctl_set_h4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTLUA_SET_HOSTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctlua_set_hkey6);
	__type(value, __u8);
} ctl_set_h6 SEC(".maps");

/* Which sets have entries in which of the four maps above (an array: the read is inlined). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctlua_set_kinds);
} ctl_set_kinds SEC(".maps");

/*
 * Port sets: per port (host order), bit id set when set id holds it. An array, not a
 * hash: one indexed load per port (the lookup is inlined), the same whatever the sets
 * hold, and a range of ports costs no more entries than one port's bit in each.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} ctl_set_ports SEC(".maps");

/*
 * What the references' loop (ref_held) works on: the packet, in the caller's frame (its
 * addresses are not copied: the program's stack is nearly full).
 */
struct ref_walk {
	__u32 slot;			/* the ctl_rules slot, looked up again in the callback */
	__u32 mask;			/* the answer: bit i, ref[i]'s set holds the field */
	const struct ctlua_flow *f;
};

/*
 * Whether prefix set @set holds @addr (@v6: of IPv6, else IPv4): its host addresses'
 * hash first, if it has any, then its shorter prefixes' trie, if it has any.
 */
static __always_inline bool prefix_held(__u32 set, bool v6, const void *addr)
{
	/* a v4 key is the first bytes of a v6 one, in either map */
	struct ctlua_set_hkey6 h = { .set = (__u8)set };
	struct ctlua_set_key6 t = { .set = (__u8)set };
	const struct ctlua_set_kinds *w;
	__u32 zero = 0, bit = 1u << (set & 31);

	w = bpf_map_lookup_elem(&ctl_set_kinds, &zero);
	if (!w)
		return false;
	/* one map per call site: the verifier then inlines the hash and array lookups */
	if (w->host[v6] & bit) {
		__builtin_memcpy(h.addr, addr, 16);
		if (v6 ? !!bpf_map_lookup_elem(&ctl_set_h6, &h)
		       : !!bpf_map_lookup_elem(&ctl_set_h4, &h))
			return true;
	}
	if (!(w->shorter[v6] & bit))
		return false;
	__builtin_memcpy(t.addr, addr, 16);
	if (v6) {
		t.prefixlen = 8 + 128;
		return bpf_map_lookup_elem(&ctl_set6, &t);
	}
	t.prefixlen = 8 + 32;
	return bpf_map_lookup_elem(&ctl_set4, &t);
}

/* Reference @i of the table (bpf_loop callback): whether its set holds the field. */
static long ref_held(__u64 i, void *data)
{
	struct ref_walk *x = data;
	const struct ctlua_rule_table *t = bpf_map_lookup_elem(&ctl_rules, &x->slot);
	const struct ctlua_flow *f = x->f;
	__u32 k = i & (CTLUA_SET_REFS - 1), field, set;
	__u32 port, *m;

	if (!t)
		return 1;
	field = t->cls.ref[k].field;
	set = t->cls.ref[k].set;
	if (field >= CTLUA_SET_SPORT) {
		/* an array read, inlined: a table of prefix references alone takes none */
		port = bpf_ntohs(field == CTLUA_SET_SPORT ? f->sport : f->dport);
		m = bpf_map_lookup_elem(&ctl_set_ports, &port);
		if (m)
			x->mask |= ((*m >> (set & 31)) & 1) << k;
		return 0;
	}
	if (prefix_held(set, f->family == CTLUA_AF_INET6,
			field == CTLUA_SET_SRC ? f->saddr : f->daddr))
		x->mask |= 1u << k;
	return 0;
}

/*
 * The reference mask of @f under classifier @c of slot @slot (c->nrefs > 0): per prefix
 * reference a hash lookup, a trie lookup or both (prefix_held), per port reference an
 * array read.
 */
static __always_inline __u32 ref_mask(const struct ctlua_rule_class *c, __u32 slot,
				      const struct ctlua_flow *f)
{
	struct ref_walk x = { .slot = slot, .f = f };
	__u32 n = c->nrefs;

	bpf_loop(n < CTLUA_SET_REFS ? n : CTLUA_SET_REFS, ref_held, &x, 0);
	return x.mask;
}

/*
 * The pool offset of the rules whose references hold for @f (c->nrefs > 0). Out of line,
 * so that its state is in a frame of its own and not in the program's, whose stack is
 * nearly full (360 of 512 bytes with the candidate loop's 88).
 */
static __noinline __u32 refs_set(const struct ctlua_rule_class *c, __u32 slot,
				 const struct ctlua_flow *f)
{
	return c->by_refs[ref_mask(c, slot, f) & ((1u << CTLUA_SET_REFS) - 1)];
}

#endif

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

/* Reference @i of the table (bpf_loop callback): whether its set holds the field. */
static long ref_held(__u64 i, void *data)
{
	struct ref_walk *x = data;
	const struct ctlua_rule_table *t = bpf_map_lookup_elem(&ctl_rules, &x->slot);
	const struct ctlua_flow *f = x->f;
	__u32 k = i & (CTLUA_SET_REFS - 1), field, set;
	/* a v4 key is the first bytes of a v6 one: prefixlen, set, then the address */
	struct ctlua_set_key6 key = { 0 };
	__u32 port, *m;
	void *hit;

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
	key.set = (__u8)set;
	__builtin_memcpy(key.addr, field == CTLUA_SET_SRC ? f->saddr : f->daddr, 16);
	if (f->family == CTLUA_AF_INET6) {
		key.prefixlen = 8 + 128;
		hit = bpf_map_lookup_elem(&ctl_set6, &key);
	} else {
		key.prefixlen = 8 + 32;
		hit = bpf_map_lookup_elem(&ctl_set4, &key);
	}
	if (hit)
		x->mask |= 1u << k;
	return 0;
}

/*
 * The reference mask of @f under classifier @c of slot @slot (c->nrefs > 0): one trie
 * lookup per prefix reference, one array read per port reference.
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

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sets.c - the named sets of one state (sets.h): the host's copy of each set, which
 * answers has(), list() and offline decisions, kept in step with the datapath's set
 * maps (ctl_set4, ctl_set6, ctl_set_h4, ctl_set_h6, ctl_set_kinds, ctl_set_ports) that
 * the program reads.
 *
 * A prefix set is a hash of its prefixes (family, length, masked address) with, per
 * family, how many prefixes of each length it holds: has() tries the lengths present,
 * longest first, so it costs a few probes whatever the set's size. In the datapath, a
 * set's host addresses (/32, /128) go to the hash maps and its shorter prefixes to the
 * tries, and ctl_set_kinds has the set's bit for each kind it holds of each family: set
 * before the first entry of the kind is written, cleared after the last is deleted (a
 * bit left set costs the program a lookup that misses; a bit missing, a member not
 * matched). A port set is a
 * bitmap of the 65536 ports; the program's array holds one bit per set in each port's
 * mask, shared by every state of the datapath, so a port's mask is read and written
 * back with only this set's bit changed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "datapath.h"
#include "sets.h"

#define FAMILIES	2	/* [0] IPv4, [1] IPv6 */
#define PLENS		129	/* lengths 0..128 */
#define PORT_WORDS	(65536 / 64)

struct prefix {
	__be32 addr[4];
	__u8 family;		/* 0: an empty slot */
	__u8 plen;
};

struct set {
	char name[CTL_SET_NAME_MAX + 1];
	enum ctl_set_kind kind;
	unsigned int id;
	unsigned int count;		/* prefixes, or ports */
	/* prefix set: open addressing, linear probing, deletion by backward shift */
	struct prefix *slot;
	unsigned int cap;		/* a power of two, or 0 */
	unsigned int nplen[FAMILIES][PLENS];	/* prefixes of each length */
	unsigned int nshort[FAMILIES];		/* prefixes shorter than an address */
	/* port set */
	__u64 *ports;			/* PORT_WORDS words */
};

struct ctl_sets {
	struct ctl_dp *dp;		/* NULL: a dry state, nothing written */
	struct ctl_dp_set_fds fds;
	__u32 dry_ids;			/* a dry state's ids in use */
	unsigned int n;
	struct set *set[CTLUA_SETS];	/* in the order they were made */
	struct set *by_id[CTLUA_SETS];
};

static int fam_index(int family)
{
	return family == CTLUA_AF_INET6;
}

static unsigned int addr_bits(int family)
{
	return family == CTLUA_AF_INET6 ? 128 : 32;
}

static void put_id(struct ctl_sets *s, unsigned int id);

int ctl_sets_new(struct ctl_sets **out, struct ctl_dp *dp)
{
	struct ctl_sets *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dp = dp;
	s->fds.v4 = s->fds.v6 = s->fds.ports = s->fds.h4 = s->fds.h6 = s->fds.kinds = -1;
	if (dp)
		ctl_dp_set_fds(dp, &s->fds);
	*out = s;
	return 0;
}

void ctl_sets_free(struct ctl_sets *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->n; i++) {
		struct set *e = s->set[i];

		/*
		 * its entries leave the maps and its id comes back, unless the live policy
		 * still names it: a policy left enforcing on pins at exit (when_stopped),
		 * whose program and next process read them (ctl_dp_set_live)
		 */
		if ((!s->dp || !ctl_dp_set_live(s->dp, e->id)) && !ctl_set_flush(s, e->id))
			put_id(s, e->id);	/* not when members may be left: a leak, not a match */
		free(e->slot);
		free(e->ports);
		free(e);
	}
	free(s);
}

static struct set *by_name(const struct ctl_sets *s, const char *name)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (!strcmp(s->set[i]->name, name))
			return s->set[i];
	return NULL;
}

static struct set *by_id(const struct ctl_sets *s, unsigned int id)
{
	return id < CTLUA_SETS ? s->by_id[id] : NULL;
}

/* An id no set of this state's datapath holds (a dry state: none of its own), or -ENOSPC. */
static int take_id(struct ctl_sets *s)
{
	if (s->dp)
		return ctl_dp_set_id_take(s->dp);
	for (int id = 0; id < CTLUA_SETS; id++)
		if (!(s->dry_ids & (1u << id))) {
			s->dry_ids |= 1u << id;
			return id;
		}
	return -ENOSPC;
}

static void put_id(struct ctl_sets *s, unsigned int id)
{
	if (s->dp)
		ctl_dp_set_id_put(s->dp, id);
	else
		s->dry_ids &= ~(1u << id);
}

int ctl_set_get(struct ctl_sets *s, const char *name, enum ctl_set_kind kind)
{
	struct set *e = by_name(s, name);
	int id;

	if (e)
		return e->kind == kind ? (int)e->id : -EEXIST;
	if (s->n >= CTLUA_SETS)
		return -ENOSPC;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (kind == CTL_SET_PORT && !(e->ports = calloc(PORT_WORDS, sizeof(__u64)))) {
		free(e);
		return -ENOMEM;
	}
	if ((id = take_id(s)) < 0) {
		free(e->ports);
		free(e);
		return id;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = kind;
	e->id = (unsigned int)id;
	s->set[s->n++] = e;
	s->by_id[id] = e;
	return id;
}

int ctl_set_find(const struct ctl_sets *s, const char *name, enum ctl_set_kind *kind)
{
	const struct set *e = by_name(s, name);

	if (!e)
		return -ENOENT;
	if (kind)
		*kind = e->kind;
	return (int)e->id;
}

const char *ctl_set_name(const struct ctl_sets *s, unsigned int id)
{
	const struct set *e = by_id(s, id);

	return e ? e->name : NULL;
}

/* --- prefix sets: the host's hash --- */

static __u32 hash_prefix(int family, const __be32 addr[4], unsigned int plen)
{
	__u64 h = (__u64)family << 8 | plen;

	for (int i = 0; i < 4; i++)
		h = (h ^ addr[i]) * 0x9e3779b97f4a7c15ull;
	return (__u32)(h >> 32);
}

static bool same(const struct prefix *p, int family, const __be32 addr[4], unsigned int plen)
{
	return p->family == family && p->plen == plen && !memcmp(p->addr, addr, 16);
}

/* The slot holding the prefix, or the empty slot where it would go. cap must be > 0. */
static struct prefix *probe(const struct set *e, int family, const __be32 addr[4],
			    unsigned int plen)
{
	unsigned int m = e->cap - 1, i = hash_prefix(family, addr, plen) & m;

	while (e->slot[i].family && !same(&e->slot[i], family, addr, plen))
		i = (i + 1) & m;
	return &e->slot[i];
}

/* Room for @n prefixes at a load of at most one half. 0 or -ENOMEM. */
static int reserve(struct set *e, unsigned int n)
{
	unsigned int cap = e->cap ? e->cap : 64;
	struct prefix *old = e->slot;
	unsigned int ocap = e->cap;

	if ((unsigned long long)n * 2 <= e->cap)
		return 0;
	while ((unsigned long long)n * 2 > cap)
		cap *= 2;
	if (!(e->slot = calloc(cap, sizeof(*e->slot)))) {
		e->slot = old;
		return -ENOMEM;
	}
	e->cap = cap;
	for (unsigned int i = 0; i < ocap; i++)
		if (old[i].family)
			*probe(e, old[i].family, old[i].addr, old[i].plen) = old[i];
	free(old);
	return 0;
}

/* Take slot @hole out of its probe chain: the entries after it move back (no tombstones). */
static void unlink_slot(struct set *e, unsigned int hole)
{
	unsigned int m = e->cap - 1, i = hole;

	e->slot[hole].family = 0;
	for (;;) {
		unsigned int home;

		i = (i + 1) & m;
		if (!e->slot[i].family)
			return;
		home = hash_prefix(e->slot[i].family, e->slot[i].addr, e->slot[i].plen) & m;
		/* the entry at i may fill the hole if its home is not in (hole, i] */
		if (((i - home) & m) >= ((i - hole) & m)) {
			e->slot[hole] = e->slot[i];
			e->slot[i].family = 0;
			hole = i;
		}
	}
}

/* Whether a prefix of @plen bits is a host address of @family (in a hash, not a trie). */
static bool is_host(int family, unsigned int plen)
{
	return plen == addr_bits(family);
}

/* The map of @family's prefixes of kind @host, and the size of its keys in *@ksz. */
static int map_fd(const struct ctl_sets *s, int family, bool host, size_t *ksz)
{
	bool v6 = family == CTLUA_AF_INET6;

	if (host) {
		*ksz = v6 ? sizeof(struct ctlua_set_hkey6) : sizeof(struct ctlua_set_hkey4);
		return v6 ? s->fds.h6 : s->fds.h4;
	}
	*ksz = v6 ? sizeof(struct ctlua_set_key6) : sizeof(struct ctlua_set_key4);
	return v6 ? s->fds.v6 : s->fds.v4;
}

/* The key of a prefix of set @id in its map (map_fd): a hash's for a host address. */
static void map_key(unsigned int id, int family, const __be32 addr[4], unsigned int plen,
		    void *key)
{
	size_t alen = family == CTLUA_AF_INET6 ? 16 : 4;

	if (is_host(family, plen)) {
		struct ctlua_set_hkey6 *k = key;	/* a key4 is its first bytes */

		memset(k, 0, offsetof(struct ctlua_set_hkey6, addr) + alen);
		k->set = (__u8)id;
		memcpy(k->addr, addr, alen);
	} else {
		struct ctlua_set_key6 *k = key;

		memset(k, 0, family == CTLUA_AF_INET6 ? sizeof(*k) : sizeof(struct ctlua_set_key4));
		k->prefixlen = 8 + plen;
		k->set = (__u8)id;
		memcpy(k->addr, addr, alen);
	}
}

/* How many prefixes of @family and kind @host set @e holds. */
static unsigned int kind_count(const struct set *e, int family, bool host)
{
	int f = fam_index(family);

	return host ? e->nplen[f][addr_bits(family)] : e->nshort[f];
}

/* Set (@on) or clear set @id's bit of @family and kind @host in ctl_set_kinds. 0 or -errno. */
static int kind_mark(struct ctl_sets *s, unsigned int id, int family, bool host, bool on)
{
	struct ctlua_set_kinds k;
	__u32 zero = 0, *w;
	int err;

	if (!s->dp)
		return 0;
	if ((err = bpf_map_lookup_elem(s->fds.kinds, &zero, &k)))
		return err;
	w = host ? &k.host[fam_index(family)] : &k.shorter[fam_index(family)];
	*w = on ? *w | 1u << id : *w & ~(1u << id);
	return bpf_map_update_elem(s->fds.kinds, &zero, &k, BPF_ANY);
}

/*
 * Set @id's bit of the kind of @family, @plen, as the host's copy of set @e says now:
 * set while @e holds such prefixes or @on (about to write the first). 0 or -errno.
 */
static int kind_sync(struct ctl_sets *s, struct set *e, int family, unsigned int plen, bool on)
{
	bool host = is_host(family, plen);

	if (kind_count(e, family, host))
		return 0;
	return kind_mark(s, e->id, family, host, on);
}

/* Write (@add) or remove the map entry of a prefix. 0 or -errno (-ENOSPC: full). */
static int map_write(struct ctl_sets *s, unsigned int id, int family, const __be32 addr[4],
		     unsigned int plen, bool add)
{
	union {
		struct ctlua_set_key6 trie;
		struct ctlua_set_hkey6 hash;
	} key;
	size_t ksz;
	int fd = map_fd(s, family, is_host(family, plen), &ksz);
	__u8 one = 1;
	int err;

	if (!s->dp)
		return 0;
	map_key(id, family, addr, plen, &key);
	err = add ? bpf_map_update_elem(fd, &key, &one, BPF_ANY) : bpf_map_delete_elem(fd, &key);
	if (err == -E2BIG)	/* a trie or hash at max_entries */
		err = -ENOSPC;
	return err == -ENOENT && !add ? 0 : err;
}

/* Whether @addr has no bits set past @plen (the host keeps prefixes masked). */
static bool masked(int family, const __be32 addr[4], unsigned int plen)
{
	__be32 m[4];

	ctl_prefix_mask(plen, m);
	for (unsigned int w = 0; w < addr_bits(family) / 32; w++)
		if (addr[w] & ~m[w])
			return false;
	return true;
}

/* Whether @family, @addr, @plen is a prefix a set takes: a family, a length, masked. */
static bool valid(int family, const __be32 addr[4], unsigned int plen)
{
	return (family == CTLUA_AF_INET || family == CTLUA_AF_INET6) &&
	       plen <= addr_bits(family) && masked(family, addr, plen);
}

/* Put a prefix in the host's copy (room reserved), unless it is there. */
static void host_add(struct set *e, int family, const __be32 addr[4], unsigned int plen)
{
	struct prefix *p = probe(e, family, addr, plen);

	if (p->family)
		return;
	memset(p->addr, 0, sizeof(p->addr));
	memcpy(p->addr, addr, family == CTLUA_AF_INET6 ? 16 : 4);
	p->family = (__u8)family;
	p->plen = (__u8)plen;
	e->nplen[fam_index(family)][plen]++;
	if (!is_host(family, plen))
		e->nshort[fam_index(family)]++;
	e->count++;
}

int ctl_set_add_prefix(struct ctl_sets *s, unsigned int id, int family, const __be32 addr[4],
		       unsigned int plen)
{
	struct set *e = by_id(s, id);
	int err;

	if (!e || e->kind != CTL_SET_PREFIX || !valid(family, addr, plen))
		return -EINVAL;
	if (e->cap && probe(e, family, addr, plen)->family)
		return 0;
	if ((err = reserve(e, e->count + 1)) || (err = kind_sync(s, e, family, plen, true)))
		return err;
	if ((err = map_write(s, id, family, addr, plen, true))) {
		kind_sync(s, e, family, plen, false);	/* the bit of none, if it was the first */
		return err;
	}
	host_add(e, family, addr, plen);
	return 0;
}

/* Prefixes written to a map per batch: at most 192 kB of keys. */
#define BATCH	8192

/*
 * Write @n keys of one map (@key, as map_key makes them) to map @fd in one batch: every
 * kernel that runs the program (bpf_loop, 5.17) has batches for tries and hashes.
 * *@wrote: how many are in. 0 or -errno (-ENOSPC: full).
 */
static int map_write_many(int fd, const void *key, unsigned int n, unsigned int *wrote)
{
	static const __u8 ones[BATCH] = { [0 ... BATCH - 1] = 1 };
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = n;
	int err = bpf_map_update_batch(fd, key, ones, &count, &o);

	/*
	 * the kernel writes back how many it wrote, unless it refused the call before
	 * writing any (count is then still n, which a failed batch never reports)
	 */
	*wrote = !err ? n : count < n ? count : 0;
	return err == -E2BIG ? -ENOSPC : err;
}

/* A batch of keys for one map, and the input of each. */
struct batch {
	unsigned int n, wrote;
	unsigned int src[BATCH];
};

/*
 * Write batch @b of keys @keys (@host: of a hash) of @family for set @e, its kind's bit
 * first, and put what was written in the host's copy from @in. 0 or -errno.
 */
static int batch_write(struct ctl_sets *s, struct set *e, int family, bool host,
		       const void *keys, struct batch *b, const struct ctl_set_prefix *in)
{
	unsigned int plen = host ? addr_bits(family) : 0;
	size_t ksz;
	int fd = map_fd(s, family, host, &ksz), err = 0;

	b->wrote = 0;
	if (!b->n)
		return 0;
	if (!s->dp) {
		b->wrote = b->n;
	} else {
		if ((err = kind_sync(s, e, family, plen, true)))
			return err;
		err = map_write_many(fd, keys, b->n, &b->wrote);
		if (err && !b->wrote)
			kind_sync(s, e, family, plen, false);
	}
	for (unsigned int j = 0; j < b->wrote; j++)
		host_add(e, family, in[b->src[j]].addr, in[b->src[j]].plen);
	return err;
}

int ctl_set_add_prefixes(struct ctl_sets *s, unsigned int id, const struct ctl_set_prefix *in,
			 unsigned int n, unsigned int *done)
{
	static struct ctlua_set_key6 tkeys[BATCH];	/* IPv4 runs use them as key4s */
	static struct ctlua_set_hkey6 hkeys[BATCH];	/* and as hkey4s */
	static struct batch tb, hb;			/* the trie's, the hash's */
	struct set *e = by_id(s, id);
	unsigned int i = 0;

	*done = 0;
	if (!e || e->kind != CTL_SET_PREFIX)
		return -EINVAL;
	for (unsigned int j = 0; j < n; j++)
		if (!valid(in[j].family, in[j].addr, in[j].plen))
			return -EINVAL;
	while (i < n) {
		/*
		 * a run of one family, in order, of at most BATCH prefixes not held yet: its
		 * host addresses in one batch, its shorter prefixes in another
		 */
		int family = in[i].family;
		size_t hsz = family == CTLUA_AF_INET6 ? sizeof(struct ctlua_set_hkey6)
						      : sizeof(struct ctlua_set_hkey4);
		size_t tsz = family == CTLUA_AF_INET6 ? sizeof(struct ctlua_set_key6)
						      : sizeof(struct ctlua_set_key4);
		int err;

		tb.n = hb.n = tb.wrote = hb.wrote = 0;
		for (; i < n && in[i].family == family && tb.n + hb.n < BATCH; i++) {
			bool host = is_host(family, in[i].plen);
			struct batch *b = host ? &hb : &tb;

			if (e->cap && probe(e, family, in[i].addr, in[i].plen)->family)
				continue;
			map_key(id, family, in[i].addr, in[i].plen,
				host ? (char *)hkeys + hb.n * hsz : (char *)tkeys + tb.n * tsz);
			b->src[b->n++] = i;
		}
		if ((err = reserve(e, e->count + tb.n + hb.n)))
			return err;
		if ((err = batch_write(s, e, family, true, hkeys, &hb, in)) ||
		    (err = batch_write(s, e, family, false, tkeys, &tb, in))) {
			/* the first input not written, of either batch (the trie's: none yet) */
			*done = hb.wrote < hb.n ? hb.src[hb.wrote] : i;
			if (tb.wrote < tb.n && tb.src[tb.wrote] < *done)
				*done = tb.src[tb.wrote];
			return err;
		}
		*done = i;
	}
	return 0;
}

int ctl_set_del_prefix(struct ctl_sets *s, unsigned int id, int family, const __be32 addr[4],
		       unsigned int plen)
{
	struct set *e = by_id(s, id);
	struct prefix *p;
	int err;

	if (!e || e->kind != CTL_SET_PREFIX || (family != CTLUA_AF_INET &&
	    family != CTLUA_AF_INET6) || plen > addr_bits(family))
		return -EINVAL;
	if (!e->cap || !(p = probe(e, family, addr, plen))->family)
		return 0;
	if ((err = map_write(s, id, family, addr, plen, false)))
		return err;
	unlink_slot(e, (unsigned int)(p - e->slot));
	e->nplen[fam_index(family)][plen]--;
	if (!is_host(family, plen))
		e->nshort[fam_index(family)]--;
	e->count--;
	kind_sync(s, e, family, plen, false);	/* failing, a bit of none: a lookup that misses */
	return 0;
}

bool ctl_set_has_addr(const struct ctl_sets *s, unsigned int id, int family,
		      const __be32 addr[4], unsigned int *plen)
{
	const struct set *e = by_id(s, id);
	__be32 a[4] = { 0 };
	int f = fam_index(family);

	if (!e || e->kind != CTL_SET_PREFIX || !e->count)
		return false;
	memcpy(a, addr, family == CTLUA_AF_INET6 ? 16 : 4);
	for (unsigned int len = addr_bits(family);; len--) {
		if (e->nplen[f][len] && probe(e, family, a, len)->family) {
			if (plen)
				*plen = len;
			return true;
		}
		if (!len)
			break;
		/* a, masked to len bits, to len - 1: its last bit goes */
		a[(len - 1) / 32] &= ~__builtin_bswap32(1u << (31 - (len - 1) % 32));
	}
	return false;
}

/* --- port sets --- */

static bool port_held(const struct set *e, unsigned int port)
{
	return e->ports[port / 64] >> (port % 64) & 1;
}

/* Set or clear set @id's bit in the program's mask of @port. 0 or -errno. */
static int port_write(struct ctl_sets *s, unsigned int id, __u32 port, bool add)
{
	__u32 mask = 0;
	int err;

	if (!s->dp)
		return 0;
	if ((err = bpf_map_lookup_elem(s->fds.ports, &port, &mask)))
		return err;
	mask = add ? mask | 1u << id : mask & ~(1u << id);
	return bpf_map_update_elem(s->fds.ports, &port, &mask, BPF_ANY);
}

/* Flip port @p of set @e in the host's copy. */
static void port_flip(struct set *e, unsigned int p, bool add)
{
	e->ports[p / 64] ^= 1ull << (p % 64);
	e->count += add ? 1 : -1u;
}

/*
 * Ports @lo..@hi of set @e (id @id) as ports_change does, with two system calls: the
 * masks of the range read in a batch, those that change written in one. 0 or -errno;
 * -EAGAIN when the kernel read less than the range (the caller goes port by port).
 */
static int ports_batch(struct ctl_sets *s, struct set *e, unsigned int id, unsigned int lo,
		       unsigned int hi, bool add)
{
	static __u32 keys[65536], masks[65536];
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 prev = lo - 1, next, n = hi - lo + 1, count = n, k = 0;
	int err;

	/* the batch starts after its in_batch key: none for port 0 */
	err = bpf_map_lookup_batch(s->fds.ports, lo ? &prev : NULL, &next, keys, masks, &count,
				   &o);
	if ((err && err != -ENOENT) || count < n || keys[0] != lo)
		return -EAGAIN;
	for (unsigned int j = 0; j < n; j++) {
		if (port_held(e, lo + j) == add)
			continue;
		keys[k] = lo + j;
		masks[k++] = add ? masks[j] | 1u << id : masks[j] & ~(1u << id);
	}
	count = k;
	err = k ? bpf_map_update_batch(s->fds.ports, keys, masks, &count, &o) : 0;
	if (err && count >= k)
		count = 0;	/* refused before any write: count was not written back */
	for (unsigned int j = 0; j < (err ? count : k); j++)
		port_flip(e, keys[j], add);
	return err;
}

/* Add (@add) or remove ports @lo..@hi of set @id, the map first for each port. */
static int ports_change(struct ctl_sets *s, unsigned int id, __u16 lo, __u16 hi, bool add)
{
	struct set *e = by_id(s, id);
	int err;

	if (!e || e->kind != CTL_SET_PORT || lo > hi)
		return -EINVAL;
	/* a range beyond a few ports: in batches, where the kernel has them for arrays */
	if (s->dp && hi - lo >= 16 && (err = ports_batch(s, e, id, lo, hi, add)) != -EAGAIN)
		return err;
	for (unsigned int p = lo; p <= hi; p++) {
		if (port_held(e, p) == add)
			continue;
		if ((err = port_write(s, id, p, add)))
			return err;
		port_flip(e, p, add);
	}
	return 0;
}

int ctl_set_add_ports(struct ctl_sets *s, unsigned int id, __u16 lo, __u16 hi)
{
	return ports_change(s, id, lo, hi, true);
}

int ctl_set_del_ports(struct ctl_sets *s, unsigned int id, __u16 lo, __u16 hi)
{
	return ports_change(s, id, lo, hi, false);
}

bool ctl_set_has_port(const struct ctl_sets *s, unsigned int id, __u16 port)
{
	const struct set *e = by_id(s, id);

	return e && e->kind == CTL_SET_PORT && port_held(e, port);
}

bool ctl_sets_hold(void *ctx, unsigned int field, unsigned int set, const struct ctlua_flow *f)
{
	const struct ctl_sets *s = ctx;

	switch (field) {
	case CTLUA_SET_SRC:
		return ctl_set_has_addr(s, set, f->family, f->saddr, NULL);
	case CTLUA_SET_DST:
		return ctl_set_has_addr(s, set, f->family, f->daddr, NULL);
	case CTLUA_SET_SPORT:
		return ctl_set_has_port(s, set, __builtin_bswap16(f->sport));
	case CTLUA_SET_DPORT:
		return ctl_set_has_port(s, set, __builtin_bswap16(f->dport));
	}
	return false;
}

unsigned int ctl_set_count(const struct ctl_sets *s, unsigned int id)
{
	const struct set *e = by_id(s, id);

	return e ? e->count : 0;
}

/* Prefixes in list order: IPv4 first, then by address, then shorter first. */
static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((c = memcmp(x->addr, y->addr, 16)))
		return c;
	return (int)x->plen - (int)y->plen;
}

size_t ctl_set_each_scratch(const struct ctl_sets *s, unsigned int id)
{
	const struct set *e = by_id(s, id);

	return e && e->kind == CTL_SET_PREFIX ? e->count * sizeof(struct prefix) : 0;
}

void ctl_set_each(const struct ctl_sets *s, unsigned int id, void *scratch,
		  void (*fn)(void *ctx, int family, const __be32 addr[4], unsigned int plen,
			     __u16 lo, __u16 hi),
		  void *ctx)
{
	const struct set *e = by_id(s, id);
	struct prefix *all = scratch;
	unsigned int n = 0;

	if (!e)
		return;
	if (e->kind == CTL_SET_PORT) {	/* runs of ports held, as ranges */
		for (unsigned int p = 0; p < 65536; p++) {
			unsigned int lo = p;

			if (!port_held(e, p))
				continue;
			while (p + 1 < 65536 && port_held(e, p + 1))
				p++;
			fn(ctx, 0, NULL, 0, (__u16)lo, (__u16)p);
		}
		return;
	}
	for (unsigned int i = 0; i < e->cap; i++)
		if (e->slot[i].family)
			all[n++] = e->slot[i];
	qsort(all, n, sizeof(*all), prefix_cmp);
	for (unsigned int i = 0; i < n; i++)
		fn(ctx, all[i].family, all[i].addr, all[i].plen, 0, 0);
}

/*
 * Empty prefix set @e, its map entries removed in a batch per map (bpf_map_delete_batch),
 * then its bits. 0, or -errno with the host's copy unchanged: the caller then removes the
 * prefixes one by one (a prefix the batch removed already is no error then).
 */
static int drop_all(struct ctl_sets *s, struct set *e)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct ctlua_set_key6 *keys;	/* the largest key */
	int err = 0;

	if (!e->count)
		return 0;
	if (s->dp) {
		if (!(keys = malloc(e->count * sizeof(*keys))))
			return -ENOMEM;
		for (int j = 0; !err && j < 2 * FAMILIES; j++) {
			int f = j / 2 ? CTLUA_AF_INET6 : CTLUA_AF_INET;
			bool host = j % 2;
			size_t ksz;
			int fd = map_fd(s, f, host, &ksz);
			__u32 k = 0;

			for (unsigned int i = 0; i < e->cap; i++)
				if (e->slot[i].family == f && is_host(f, e->slot[i].plen) == host)
					map_key(e->id, f, e->slot[i].addr, e->slot[i].plen,
						(char *)keys + k++ * ksz);
			if (k)
				err = bpf_map_delete_batch(fd, keys, &k, &o);
		}
		free(keys);
		if (err)
			return err;
	}
	memset(e->slot, 0, e->cap * sizeof(*e->slot));
	memset(e->nplen, 0, sizeof(e->nplen));
	memset(e->nshort, 0, sizeof(e->nshort));
	e->count = 0;
	/* failing, bits of none: lookups that miss */
	for (int j = 0; j < 2 * FAMILIES; j++)
		kind_mark(s, e->id, j / 2 ? CTLUA_AF_INET6 : CTLUA_AF_INET, j % 2, false);
	return 0;
}

int ctl_set_flush(struct ctl_sets *s, unsigned int id)
{
	struct set *e = by_id(s, id);
	int err;

	if (!e)
		return -EINVAL;
	if (e->kind == CTL_SET_PORT)
		return ports_change(s, id, 0, 65535, false);
	if (!drop_all(s, e))
		return 0;
	/* slot by slot: what moves back into a freed slot is taken from there next */
	for (unsigned int i = 0; i < e->cap; i++)
		while (e->slot[i].family) {
			struct prefix p = e->slot[i];

			if ((err = ctl_set_del_prefix(s, id, p.family, p.addr, p.plen)))
				return err;
		}
	return 0;
}

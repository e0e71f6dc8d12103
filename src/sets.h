/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sets.h - named sets (ct.set): the sets of one Lua state, each a name, a kind and an
 * id, their members kept here (to list, test and decide offline) and, for a state with
 * a datapath, in the datapath's set maps (ctlua.h, "Named sets") for the program.
 *
 * Ids come from the datapath (ctl_dp_set_id_take), so a staged reload's sets and the
 * live generation's never share one; a dry state (ctlua check, replay) numbers its own.
 * Freeing the sets removes their entries from the maps and gives the ids back.
 */
#ifndef CTLUA_SETS_H
#define CTLUA_SETS_H

#include <stdbool.h>
#include <linux/types.h>
#include "ctlua.h"

struct ctl_dp;
struct ctl_sets;

enum ctl_set_kind { CTL_SET_PREFIX, CTL_SET_PORT };

#define CTL_SET_NAME_MAX	64	/* bytes of a set's name */

/* The sets of a state; @dp NULL for a dry one. 0 or -ENOMEM. */
int ctl_sets_new(struct ctl_sets **out, struct ctl_dp *dp);
void ctl_sets_free(struct ctl_sets *s);

/*
 * The id of set @name of kind @kind, made (empty) if it does not exist yet. Returns the
 * id (0..CTLUA_SETS-1), -EEXIST if @name is a set of the other kind, -ENOSPC when
 * CTLUA_SETS are in use in the datapath, -ENOMEM.
 */
int ctl_set_get(struct ctl_sets *s, const char *name, enum ctl_set_kind kind);

/* The id of set @name, or -ENOENT; its kind in *@kind when not NULL. */
int ctl_set_find(const struct ctl_sets *s, const char *name, enum ctl_set_kind *kind);

/* The name of set @id (NULL if none has it). */
const char *ctl_set_name(const struct ctl_sets *s, unsigned int id);

/*
 * Add or remove a prefix (@addr network order, bits past @plen zero; @family CTLUA_AF_*)
 * of prefix set @id, in the host's copy and the datapath's trie. Adding a prefix held
 * already, or removing one not held, changes nothing and returns 0. -ENOSPC when the
 * trie is full; -errno of a map update otherwise (the host's copy is then unchanged).
 */
int ctl_set_add_prefix(struct ctl_sets *s, unsigned int id, int family, const __be32 addr[4],
		       unsigned int plen);
int ctl_set_del_prefix(struct ctl_sets *s, unsigned int id, int family, const __be32 addr[4],
		       unsigned int plen);

/*
 * Add @n prefixes as ctl_set_add_prefix adds each, writing the tries in batches (100 000
 * prefixes: one system call per 8192 of a family in a row, not one each). Checks them
 * all first (-EINVAL, nothing added). On failure, *@done is the index of the first
 * prefix not added (every one before it is in); n on success.
 */
struct ctl_set_prefix {
	__be32 addr[4];
	__u8 family;
	__u8 plen;
};
int ctl_set_add_prefixes(struct ctl_sets *s, unsigned int id, const struct ctl_set_prefix *p,
			 unsigned int n, unsigned int *done);

/* Add or remove ports @lo..@hi (host order, inclusive) of port set @id, as above. */
int ctl_set_add_ports(struct ctl_sets *s, unsigned int id, __u16 lo, __u16 hi);
int ctl_set_del_ports(struct ctl_sets *s, unsigned int id, __u16 lo, __u16 hi);

/*
 * Whether prefix set @id holds @addr (@family), and if so its longest prefix holding it
 * in *@plen when not NULL; whether port set @id holds @port.
 */
bool ctl_set_has_addr(const struct ctl_sets *s, unsigned int id, int family,
		      const __be32 addr[4], unsigned int *plen);
bool ctl_set_has_port(const struct ctl_sets *s, unsigned int id, __u16 port);

/*
 * Whether the set of reference (@field, @set) (enum ctlua_set_field) holds @f's value
 * of that field: the membership test ctl_rule_class_refs takes, with @ctx the sets.
 */
bool ctl_sets_hold(void *ctx, unsigned int field, unsigned int set, const struct ctlua_flow *f);

/*
 * Members of set @id: prefixes or port ranges, in a stable order, by callback. The
 * prefixes are sorted in @scratch, ctl_set_each_scratch(@s, @id) bytes of the caller's
 * (Lua's: a @fn that raises leaves nothing to free).
 */
unsigned int ctl_set_count(const struct ctl_sets *s, unsigned int id);
size_t ctl_set_each_scratch(const struct ctl_sets *s, unsigned int id);
void ctl_set_each(const struct ctl_sets *s, unsigned int id, void *scratch,
		  void (*fn)(void *ctx, int family, const __be32 addr[4], unsigned int plen,
			     __u16 lo, __u16 hi),
		  void *ctx);

/* Empty set @id (its entries leave the maps too). 0 or -errno. */
int ctl_set_flush(struct ctl_sets *s, unsigned int id);

#endif

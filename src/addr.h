/* SPDX-License-Identifier: GPL-2.0-or-later */
/* addr.h - parsing and printing addresses, prefixes and flows (no Lua, no kernel). */
#ifndef CTLUA_ADDR_H
#define CTLUA_ADDR_H

#include <stdint.h>
#include <linux/types.h>
#include "ctlua.h"

/* Room for any address or flow ctl_*_format writes, with its terminating NUL. */
#define CTL_ADDR_STRLEN		48
#define CTL_FLOW_STRLEN		128

/*
 * Parse an IPv4 or IPv6 address into @addr (network order, IPv4 in word 0).
 * Returns CTLUA_AF_INET, CTLUA_AF_INET6, or 0 if @text is neither.
 */
int ctl_addr_parse(const char *text, __be32 addr[4]);

/*
 * Parse "ADDR" or "ADDR/LEN" into a masked address and its mask.
 * Returns the family, or 0 with a reason in @why (static text) on error.
 */
int ctl_prefix_parse(const char *text, __be32 addr[4], __be32 mask[4], const char **why);

/* The mask of a prefix of @plen bits (0 to 128), network order, into @mask. */
void ctl_prefix_mask(unsigned int plen, __be32 mask[4]);

/* Write the address into @buf (CTL_ADDR_STRLEN bytes); returns @buf. */
char *ctl_addr_format(int family, const __be32 addr[4], char *buf);

/*
 * Write "udp 198.18.0.1:5353 → 198.18.1.1:53" (IPv6 in brackets) into @buf
 * (CTL_FLOW_STRLEN bytes); returns @buf.
 */
char *ctl_flow_format(const struct ctlua_flow *f, char *buf);

#endif

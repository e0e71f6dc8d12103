// SPDX-License-Identifier: GPL-2.0-or-later
/* addr.c - addresses and prefixes as people type them, flows as people read them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "names.h"

int ctl_addr_parse(const char *text, __be32 addr[4])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return CTLUA_AF_INET;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return CTLUA_AF_INET6;
	return 0;
}

int ctl_prefix_parse(const char *text, __be32 addr[4], __be32 mask[4], const char **why)
{
	char buf[CTL_ADDR_STRLEN];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	int family, bits, max;

	if (len >= sizeof(buf)) {
		*why = "not an IPv4 or IPv6 address";
		return 0;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	family = ctl_addr_parse(buf, addr);
	if (!family) {
		*why = "not an IPv4 or IPv6 address";
		return 0;
	}
	max = family == CTLUA_AF_INET ? 32 : 128;
	bits = max;
	if (slash) {
		const char *d = slash + 1;
		long n = 0;

		/* digits only: strtol would also take " 8" and "+8" */
		while (*d >= '0' && *d <= '9' && n <= max)
			n = n * 10 + (*d++ - '0');
		if (d == slash + 1 || *d || n > max) {
			*why = family == CTLUA_AF_INET ? "prefix length must be 0 to 32"
						       : "prefix length must be 0 to 128";
			return 0;
		}
		bits = (int)n;
	}
	ctl_prefix_mask((unsigned int)bits, mask);
	for (int i = 0; i < 4; i++)
		addr[i] &= mask[i];
	return family;
}

void ctl_prefix_mask(unsigned int plen, __be32 mask[4])
{
	for (int i = 0; i < 4; i++) {
		int left = (int)plen - 32 * i;
		uint32_t m = left >= 32 ? 0xffffffffu : left <= 0 ? 0 : ~(0xffffffffu >> left);

		mask[i] = htonl(m);
	}
}

char *ctl_addr_format(int family, const __be32 addr[4], char *buf)
{
	if (family != CTLUA_AF_INET6) {	/* by hand: inet_ntop's sprintf costs ~0.1 us */
		const unsigned char *b = (const unsigned char *)addr;
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (b[i] >= 100)
				*p++ = (char)('0' + b[i] / 100);
			if (b[i] >= 10)
				*p++ = (char)('0' + b[i] / 10 % 10);
			*p++ = (char)('0' + b[i] % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (!inet_ntop(family == CTLUA_AF_INET6 ? AF_INET6 : AF_INET, addr, buf, CTL_ADDR_STRLEN))
		snprintf(buf, CTL_ADDR_STRLEN, "?");
	return buf;
}

char *ctl_flow_format(const struct ctlua_flow *f, char *buf)
{
	char src[CTL_ADDR_STRLEN], dst[CTL_ADDR_STRLEN], pnum[8];
	const char *proto = ctl_proto_name(f->proto);
	const char *fmt = f->family == CTLUA_AF_INET6 ? "%s [%s]:%u → [%s]:%u" : "%s %s:%u → %s:%u";

	if (!proto) {
		snprintf(pnum, sizeof(pnum), "%u", f->proto);
		proto = pnum;
	}
	snprintf(buf, CTL_FLOW_STRLEN, fmt, proto, ctl_addr_format(f->family, f->saddr, src),
		 ntohs(f->sport), ctl_addr_format(f->family, f->daddr, dst), ntohs(f->dport));
	return buf;
}

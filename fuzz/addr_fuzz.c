// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * addr_fuzz.c - libFuzzer harness for the address parsers (src/addr.c): every string a
 * user types as src/dst or a rule's prefix goes through ctl_addr_parse or
 * ctl_prefix_parse. Besides "no crash", checks what must hold for any input: a parsed
 * address prints and parses back to itself, a prefix's address has no bit outside its
 * mask, a refusal has a reason. The input's first 40 bytes also go to ctl_flow_format
 * as a raw struct ctlua_flow (what the printer gets from the kernel).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), buf[CTL_ADDR_STRLEN], flow[CTL_FLOW_STRLEN];
	__be32 addr[4], again[4], mask[4];
	struct ctlua_flow f = {};
	const char *why = NULL;
	int family;

	fz_check(text != NULL, "out of memory", NULL);
	memcpy(text, data, size);
	text[size] = '\0';	/* Lua strings may hold NULs; the parsers see up to the first */

	family = ctl_addr_parse(text, addr);
	fz_check(family == 0 || family == CTLUA_AF_INET || family == CTLUA_AF_INET6,
		 "ctl_addr_parse returned no family", text);
	if (family) {
		ctl_addr_format(family, addr, buf);
		fz_check(ctl_addr_parse(buf, again) == family && !memcmp(addr, again, 16),
			 "an address does not print and parse back to itself", buf);
	}

	family = ctl_prefix_parse(text, addr, mask, &why);
	if (family) {
		for (int i = 0; i < 4; i++)
			fz_check(!(addr[i] & ~mask[i]), "a prefix keeps bits outside its mask", text);
		ctl_addr_format(family, addr, buf);
		fz_check(ctl_addr_parse(buf, again) == family && !memcmp(addr, again, 16),
			 "a prefix's address does not parse back", buf);
	} else {
		fz_check(why != NULL && why[0] != '\0', "a prefix refused without a reason", text);
	}

	memcpy(&f, data, size < sizeof(f) ? size : sizeof(f));
	ctl_flow_format(&f, flow);
	fz_check(strlen(flow) < sizeof(flow), "flow text overran", NULL);
	free(text);
	return 0;
}

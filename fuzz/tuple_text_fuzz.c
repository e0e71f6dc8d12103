// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tuple_text_fuzz.c - libFuzzer harness for tuples written as text (src/lua_tuple.c,
 * ctl_flow_parse_text): what ct.tuple(text) and ct.alloc_many's string items read.
 * Besides "no crash", checks what must hold for any input: a parsed tuple prints
 * (ctl_flow_format) and parses back to itself; and the hand-written IPv4 parser takes
 * exactly what inet_pton takes, tried as the source of "udp TEXT:1 -> 1.2.3.4:2" for an
 * input of digits and dots.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fuzz.h"
#include "lua_ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char flow[CTL_FLOW_STRLEN], line[96];
	struct ctlua_flow f, again;
	struct in_addr a;
	bool dotted = size > 0 && size < 40;

	/* Lua strings may hold NUL bytes: the parser gets the length, as Lua gives it */
	if (ctl_flow_parse_text((const char *)data, size, &f)) {
		fz_check(f.family == CTLUA_AF_INET || f.family == CTLUA_AF_INET6,
			 "a parsed tuple has no family", NULL);
		ctl_flow_format(&f, flow);
		fz_check(ctl_flow_parse_text(flow, strlen(flow), &again) &&
			 !memcmp(&f, &again, sizeof(f)),
			 "a tuple does not print and parse back to itself", flow);
	}

	for (size_t i = 0; i < size && dotted; i++)
		dotted = (data[i] >= '0' && data[i] <= '9') || data[i] == '.';
	if (dotted) {
		char text[40];
		bool mine, theirs;

		memcpy(text, data, size);
		text[size] = '\0';
		snprintf(line, sizeof(line), "udp %s:1 -> 1.2.3.4:2", text);
		mine = ctl_flow_parse_text(line, strlen(line), &f);
		theirs = inet_pton(AF_INET, text, &a) == 1;
		fz_check(mine == theirs, "the IPv4 parser and inet_pton disagree", text);
		fz_check(!mine || f.saddr[0] == a.s_addr, "the IPv4 parser read another address",
			 text);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * names_fuzz.c - libFuzzer harness for the name tables (src/names.c) and errno names
 * (src/explain.c): protocol, status, action, mode, event, direction and family names,
 * and what `ct.explain` and `ctlua explain` parse. The input is a name; its first four
 * bytes are also read as the int an errno-taking function gets (from the kernel, in an
 * event, or from a user's number). Checks that a name found maps back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "explain.h"
#include "fuzz.h"
#include "names.h"

static void name_tables(const char *text)
{
	const char *const *tables[] = { ctl_action_names, ctl_mode_names, ctl_event_names,
					ctl_dir_names, ctl_family_names, ctl_status_names };

	for (unsigned int t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		int i = ctl_name_index(tables[t], text);

		fz_check(i < 0 || !strcmp(tables[t][i], text), "ctl_name_index found another name",
			 text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), name[16], buf[1024];
	int32_t n = 0;
	uint32_t bit;
	int p, e;

	fz_check(text != NULL, "out of memory", NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	memcpy(&n, data, size < sizeof(n) ? size : sizeof(n));

	name_tables(text);
	p = ctl_proto_parse(text);
	fz_check(p < 0 || !strcmp(ctl_proto_name(p), text), "a protocol does not map back", text);
	ctl_proto_name(n);
	bit = ctl_status_bit(text);
	fz_check(!bit || (bit & (bit - 1)) == 0, "a status name is more than one bit", text);
	fz_check(!bit || !strcmp(ctl_status_bit_name(bit), text), "a status bit does not map back",
		 text);
	ctl_status_bit_name((uint32_t)n);
	ctl_stat_name(n);

	e = ctl_errno_parse(text);
	if (e) {
		fz_check(e > 0 && e < 4096, "ctl_errno_parse out of range", text);
		fz_check(!strcasecmp(ctl_errno_name(e, name, sizeof(name)), text),
			 "an errno name does not map back", text);
	}
	/* errnos come from the kernel (any __s32 in an event) and from users */
	ctl_errno_name(n, name, sizeof(name));
	ctl_explain(n);
	ctl_explain_format(n, buf, sizeof(buf));
	ctl_explained(n);
	free(text);
	return 0;
}

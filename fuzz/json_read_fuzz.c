// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json_read_fuzz.c - libFuzzer harness for the JSON reader of `ctlua replay`
 * (ctl_json_parse_object in src/json.c). Whatever bytes a recording holds, the reader
 * must not read or write out of bounds, and what it accepts must survive a round trip:
 * its string members written again by the writer (json.c) read back as the same bytes.
 * And the writer's output for any bytes (the string, an event record) must be
 * accepted, the string reading back as exactly the bytes given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fields.h"
#include "fuzz.h"
#include "json.h"

#define MAX_M	32

/* Parse @j's line; returns the member count (checked to be >= 0). */
static int parse_back(const struct ctl_json *j, char *scratch, struct ctl_json_member *m)
{
	char why[160];
	int n = ctl_json_parse_object(j->buf, j->len, scratch, m, MAX_M, why, sizeof(why));

	fz_check(n >= 0, "the writer's line is refused by the reader", why);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_json_member m[MAX_M], m2[MAX_M];
	struct ctl_event_ctx ctx = { "veth0", 0 };
	char *scratch = malloc(size + 1), *s2, why[160];
	struct ctlua_event ev;
	struct ctl_json j;
	int n, n2, k;

	fz_check(scratch != NULL, "out of memory", NULL);
	ctl_json_init(&j);

	/* any bytes as a line: accepted or refused, never out of bounds */
	n = ctl_json_parse_object((const char *)data, size, scratch, m, MAX_M, why, sizeof(why));
	if (n > 0) {
		ctl_json_begin(&j);
		for (int i = 0; i < n; i++) {
			fz_check(m[i].len <= size, "a string longer than its text", NULL);
			if (m[i].type == CTL_JSON_STRING)
				ctl_json_str(&j, m[i].key, m[i].s, m[i].len);
		}
		ctl_json_end(&j);
		fz_check(!j.failed, "out of memory", NULL);
		s2 = malloc(j.len + 1);
		fz_check(s2 != NULL, "out of memory", NULL);
		n2 = parse_back(&j, s2, m2);
		k = 0;
		for (int i = 0; i < n; i++) {
			if (m[i].type != CTL_JSON_STRING)
				continue;
			/* a key with a NUL is cut short by the writer's strlen: compared as C strings */
			fz_check(k < n2 && !strcmp(m2[k].key, m[i].key) && m2[k].len == m[i].len &&
				 !memcmp(m2[k].s, m[i].s, m[i].len),
				 "a string member does not survive writing and reading again", j.buf);
			k++;
		}
		free(s2);
	}
	free(scratch);

	/* the writer's string of any bytes reads back as those bytes */
	ctl_json_begin(&j);
	ctl_json_str(&j, "s", (const char *)data, size);
	ctl_json_end(&j);
	scratch = malloc(j.len + 1);
	fz_check(scratch != NULL, "out of memory", NULL);
	n = parse_back(&j, scratch, m);
	fz_check(n == 1 && m[0].type == CTL_JSON_STRING && m[0].len == size &&
		 !memcmp(m[0].s, data, size), "the string does not read back as the bytes given",
		 j.buf);
	free(scratch);

	/* any event record, as --record writes it, is accepted */
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	ctl_json_begin(&j);
	ctl_json_str(&j, "type", "event", 5);
	ctl_json_record(&j, &ctl_event_record, &ev, &ctx);
	ctl_json_end(&j);
	scratch = malloc(j.len + 1);
	fz_check(scratch != NULL, "out of memory", NULL);
	parse_back(&j, scratch, m);
	free(scratch);
	ctl_json_free(&j);
	return 0;
}

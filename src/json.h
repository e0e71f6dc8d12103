/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json.h - JSON text for `ctlua run --json` (doc/service.md, "JSON output"): one object
 * per line, built in a growing buffer. Strings are bytes, written as JSON strings that
 * any parser accepts: quotes, backslashes and control characters escaped, valid UTF-8
 * as it is, and each byte that is not part of valid UTF-8 as the escape \u00XX of its
 * value (so a raw \u0080..\u00ff in the text always stands for such a byte: valid
 * UTF-8 is never escaped). A record (fields.h) is written from its field table.
 */
#ifndef CTLUA_JSON_H
#define CTLUA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fields.h"

struct ctl_json {
	char *buf;		/* malloc'd; NUL-terminated after every call */
	size_t len, cap;
	bool failed;		/* out of memory: the text is incomplete, do not write it */
	bool first;		/* no member yet in the open object */
};

/* An empty buffer (no allocation yet). */
void ctl_json_init(struct ctl_json *j);
/* Free the buffer. */
void ctl_json_free(struct ctl_json *j);
/* Start a new object: the buffer holds "{". */
void ctl_json_begin(struct ctl_json *j);
/* End the object: "}" and a newline. */
void ctl_json_end(struct ctl_json *j);
/* Members of the open object: "name":value (a comma before all but the first). */
void ctl_json_str(struct ctl_json *j, const char *name, const char *s, size_t len);
void ctl_json_int(struct ctl_json *j, const char *name, int64_t v);
/* A number with microsecond precision (seconds); null when not finite. */
void ctl_json_num(struct ctl_json *j, const char *name, double v);
/* Append @s, @len bytes, as a JSON string (with its quotes). */
void ctl_json_string(struct ctl_json *j, const char *s, size_t len);
/*
 * Every field of @r that @rec has (with context @ctx, as ctl_field_get reads it) as a
 * member of the open object, in the table's order; a field the record lacks is left
 * out. Types: string, int, number, proto (its name, or the number when it has none),
 * tuple (its text, as ct.tuple's tostring), status (an array of names), nat
 * ({"addr": ..., "port": ...}).
 */
void ctl_json_record(struct ctl_json *j, const struct ctl_record *r, const void *rec,
		     const void *ctx);

/* Reading back (ctlua replay): one flat object per line. */
enum ctl_json_type {
	CTL_JSON_STRING,
	CTL_JSON_NUMBER,
	CTL_JSON_TRUE,
	CTL_JSON_FALSE,
	CTL_JSON_NULL,
};

struct ctl_json_member {
	const char *key;	/* decoded, NUL-terminated, in the caller's scratch */
	enum ctl_json_type type;
	const char *s;		/* CTL_JSON_STRING: decoded, NUL-terminated (may hold NULs) */
	size_t len;		/* its length in bytes */
	double n;		/* CTL_JSON_NUMBER */
};

/*
 * Parse @text (@len bytes, no NUL needed) as one JSON object whose values are strings,
 * numbers, true, false or null (RFC 8259, strictly: no nested objects or arrays, which
 * the recording schema does not have), with only whitespace around it. Strings are
 * decoded into @scratch (room for @len + 1 bytes): an escape \u0080..\u00ff is the one
 * byte of that value (json.h's writer, above, escapes a byte that is not UTF-8 so), any
 * other \u escape (surrogate pairs joined) its UTF-8. Returns the number of members (at
 * most @max; more is an error), or -EINVAL with the reason and its byte offset in @why.
 */
int ctl_json_parse_object(const char *text, size_t len, char *scratch,
			  struct ctl_json_member *m, int max, char *why, size_t whylen);

#endif

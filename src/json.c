// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json.c - JSON text for `ctlua run --json` (json.h): objects built member by member in
 * a growing buffer, strings escaped so that any bytes make valid JSON, and a record
 * written from its field table (fields.c), the one list of what an event contains.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "json.h"
#include "names.h"

void ctl_json_init(struct ctl_json *j)
{
	memset(j, 0, sizeof(*j));
}

void ctl_json_free(struct ctl_json *j)
{
	free(j->buf);
	ctl_json_init(j);
}

/* Room for @n more bytes and the NUL; false (and j->failed) when there is none. */
static bool reserve(struct ctl_json *j, size_t n)
{
	size_t cap;
	char *p;

	if (j->failed)
		return false;
	if (j->len + n + 1 <= j->cap)
		return true;
	cap = j->cap ? j->cap : 256;
	while (cap < j->len + n + 1)
		cap *= 2;
	p = realloc(j->buf, cap);
	if (!p) {
		j->failed = true;
		return false;
	}
	j->buf = p;
	j->cap = cap;
	return true;
}

static void put(struct ctl_json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct ctl_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/*
 * The length of the valid UTF-8 sequence at @s (@n bytes left), or 0 when the byte at
 * @s does not start one: overlong forms, surrogates (U+D800..U+DFFF) and code points
 * above U+10FFFF are not valid (RFC 3629), and a JSON parser may reject them.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* the second byte's range is what rules out overlong forms, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void ctl_json_string(struct ctl_json *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, n;
	char esc[8];

	put(j, "\"", 1);
	while (i < len) {
		/* the longest stretch that needs no escape goes in one copy */
		for (run = i; run < len; run += n) {
			if (s[run] < 0x20 || s[run] == '"' || s[run] == '\\' || s[run] == 0x7f)
				break;
			n = utf8_len(s + run, len - run);
			if (!n)
				break;
		}
		put(j, str + i, run - i);
		if (run == len)
			break;
		switch (s[run]) {
		case '"':
			put(j, "\\\"", 2);
			break;
		case '\\':
			put(j, "\\\\", 2);
			break;
		case '\n':
			put(j, "\\n", 2);
			break;
		case '\t':
			put(j, "\\t", 2);
			break;
		case '\r':
			put(j, "\\r", 2);
			break;
		default:	/* a control character, DEL, or a byte that is not UTF-8 */
			snprintf(esc, sizeof(esc), "\\u%04x", s[run]);
			put(j, esc, 6);
			break;
		}
		i = run + 1;
	}
	put(j, "\"", 1);
}

void ctl_json_begin(struct ctl_json *j)
{
	j->len = 0;
	j->failed = false;
	j->first = true;
	put(j, "{", 1);
}

void ctl_json_end(struct ctl_json *j)
{
	put(j, "}\n", 2);
}

/* "name": with the comma before it when it is not the first member */
static void key(struct ctl_json *j, const char *name)
{
	if (!j->first)
		put(j, ",", 1);
	j->first = false;
	ctl_json_string(j, name, strlen(name));
	put(j, ":", 1);
}

void ctl_json_str(struct ctl_json *j, const char *name, const char *s, size_t len)
{
	key(j, name);
	ctl_json_string(j, s, len);
}

void ctl_json_int(struct ctl_json *j, const char *name, int64_t v)
{
	char buf[24];

	key(j, name);
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	puts_(j, buf);
}

static void number(struct ctl_json *j, double v)
{
	char buf[48];

	if (!isfinite(v)) {	/* JSON has no NaN or infinity */
		puts_(j, "null");
		return;
	}
	snprintf(buf, sizeof(buf), "%.6f", v);
	puts_(j, buf);
}

void ctl_json_num(struct ctl_json *j, const char *name, double v)
{
	key(j, name);
	number(j, v);
}

static void value(struct ctl_json *j, enum ctl_field_type type, const struct ctl_value *v)
{
	char buf[CTL_FLOW_STRLEN > CTL_ADDR_STRLEN ? CTL_FLOW_STRLEN : CTL_ADDR_STRLEN];
	bool first = true;

	switch (type) {
	case CTL_FT_STRING:
		if (v->s)
			ctl_json_string(j, v->s, strlen(v->s));
		else
			puts_(j, "null");
		break;
	case CTL_FT_INT:
		snprintf(buf, sizeof(buf), "%" PRId64, v->i);
		puts_(j, buf);
		break;
	case CTL_FT_NUMBER:
		number(j, v->n);
		break;
	case CTL_FT_PROTO:
		if (v->s) {
			ctl_json_string(j, v->s, strlen(v->s));
		} else {
			snprintf(buf, sizeof(buf), "%" PRId64, v->i);
			puts_(j, buf);
		}
		break;
	case CTL_FT_TUPLE:
		ctl_flow_format(v->flow, buf);
		ctl_json_string(j, buf, strlen(buf));
		break;
	case CTL_FT_STATUS:
		put(j, "[", 1);
		for (int i = 0; i < 32; i++) {
			const char *name = ctl_status_bit_name((uint32_t)v->i & (1u << i));

			if (!name)
				continue;
			if (!first)
				put(j, ",", 1);
			first = false;
			ctl_json_string(j, name, strlen(name));
		}
		put(j, "]", 1);
		break;
	case CTL_FT_NAT:
		puts_(j, "{\"addr\":");
		ctl_addr_format(v->nat.family, v->nat.addr, buf);
		ctl_json_string(j, buf, strlen(buf));
		snprintf(buf, sizeof(buf), ",\"port\":%u}", (unsigned int)v->nat.port);
		puts_(j, buf);
		break;
	}
}

void ctl_json_record(struct ctl_json *j, const struct ctl_record *r, const void *rec,
		     const void *ctx)
{
	struct ctl_value v;

	for (unsigned int i = 0; i < r->nfields; i++) {
		const struct ctl_field *f = &r->fields[i];

		if (!ctl_field_get(f, rec, ctx, &v))
			continue;
		key(j, f->name);
		value(j, f->type, &v);
	}
}

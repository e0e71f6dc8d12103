// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json.c - JSON text for `ctlua run --json` (json.h): objects built member by member in
 * a growing buffer, strings escaped so that any bytes make valid JSON, and a record
 * written from its field table (fields.c), the one list of what an event contains.
 */
#include <errno.h>
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

/* --- reading ---------------------------------------------------------------------------- */

struct reader {
	const unsigned char *p, *start, *end;
	char *out;		/* the next free byte of the scratch */
	char *why;
	size_t whylen;
};

static int fail(struct reader *r, const char *what)
{
	snprintf(r->why, r->whylen, "%s at byte %zu", what, (size_t)(r->p - r->start) + 1);
	return -1;
}

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at r->p into *@u. */
static int hex4(struct reader *r, unsigned int *u)
{
	*u = 0;
	if (r->end - r->p < 4)
		return fail(r, "a \\u escape cut short");
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[i]);

		if (h < 0)
			return fail(r, "a \\u escape with a character that is not hex");
		*u = *u << 4 | (unsigned int)h;
	}
	r->p += 4;
	return 0;
}

static void put_utf8(struct reader *r, unsigned int cp)
{
	unsigned char *o = (unsigned char *)r->out;

	if (cp < 0x80) {
		*o++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*o++ = (unsigned char)(0xc0 | cp >> 6);
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xe0 | cp >> 12);
		*o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | cp >> 18);
		*o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	r->out = (char *)o;
}

/*
 * The string at r->p (its opening quote) into the scratch; *@s and *@len say where.
 * The decoded form is never longer than its text (an escape of 6 or 12 bytes makes at
 * most 4), so the scratch of len + 1 bytes always has room.
 */
static int string(struct reader *r, const char **s, size_t *len)
{
	char *start = r->out;
	unsigned int u, lo;
	size_t n;

	r->p++;
	for (;;) {
		if (r->p >= r->end)
			return fail(r, "a string without its closing quote");
		if (*r->p == '"')
			break;
		if (*r->p < 0x20)
			return fail(r, "a control character in a string");
		if (*r->p != '\\') {
			n = utf8_len(r->p, (size_t)(r->end - r->p));
			if (!n)
				return fail(r, "a byte that is not UTF-8");
			memcpy(r->out, r->p, n);
			r->out += n;
			r->p += n;
			continue;
		}
		if (++r->p >= r->end)
			return fail(r, "a string without its closing quote");
		switch (*r->p++) {
		case '"':  *r->out++ = '"'; break;
		case '\\': *r->out++ = '\\'; break;
		case '/':  *r->out++ = '/'; break;
		case 'b':  *r->out++ = '\b'; break;
		case 'f':  *r->out++ = '\f'; break;
		case 'n':  *r->out++ = '\n'; break;
		case 'r':  *r->out++ = '\r'; break;
		case 't':  *r->out++ = '\t'; break;
		case 'u':
			if (hex4(r, &u))
				return -1;
			if (u >= 0x80 && u <= 0xff) {	/* a byte, as the writer escapes it */
				*r->out++ = (char)u;
				break;
			}
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(r, "a low surrogate without a high one");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
					return fail(r, "a high surrogate without a low one");
				r->p += 2;
				if (hex4(r, &lo))
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(r, "a high surrogate without a low one");
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(r, u);
			break;
		default:
			r->p--;
			return fail(r, "an unknown escape");
		}
	}
	r->p++;
	*len = (size_t)(r->out - start);
	*r->out++ = '\0';
	*s = start;
	return 0;
}

/* A number, as RFC 8259's grammar has it (no leading zeros, no '+', no bare '.'). */
static int number_at(struct reader *r, double *v)
{
	const unsigned char *q = r->p;
	char buf[64];

	if (q < r->end && *q == '-')
		q++;
	if (q < r->end && *q == '0')
		q++;
	else if (q < r->end && *q >= '1' && *q <= '9')
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	else
		return fail(r, "a value that is not JSON");
	if (q < r->end && *q == '.') {
		if (++q >= r->end || *q < '0' || *q > '9')
			return fail(r, "a number without digits after its point");
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		if (++q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9')
			return fail(r, "a number without digits in its exponent");
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((size_t)(q - r->p) >= sizeof(buf))
		return fail(r, "a number longer than 63 characters");
	memcpy(buf, r->p, (size_t)(q - r->p));
	buf[q - r->p] = '\0';
	*v = strtod(buf, NULL);
	r->p = q;
	return 0;
}

static bool word(struct reader *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return false;
	r->p += n;
	return true;
}

static int member_value(struct reader *r, struct ctl_json_member *m)
{
	if (r->p >= r->end)
		return fail(r, "a line that ends before its value");
	switch (*r->p) {
	case '"':
		m->type = CTL_JSON_STRING;
		return string(r, &m->s, &m->len);
	case '{':
	case '[':
		return fail(r, "a nested object or array (not in the schema)");
	case 't':
		m->type = CTL_JSON_TRUE;
		return word(r, "true") ? 0 : fail(r, "a value that is not JSON");
	case 'f':
		m->type = CTL_JSON_FALSE;
		return word(r, "false") ? 0 : fail(r, "a value that is not JSON");
	case 'n':
		m->type = CTL_JSON_NULL;
		return word(r, "null") ? 0 : fail(r, "a value that is not JSON");
	default:
		m->type = CTL_JSON_NUMBER;
		return number_at(r, &m->n);
	}
}

int ctl_json_parse_object(const char *text, size_t len, char *scratch,
			  struct ctl_json_member *m, int max, char *why, size_t whylen)
{
	struct reader r = { (const unsigned char *)text, (const unsigned char *)text,
			    (const unsigned char *)text + len, scratch, why, whylen };
	int n = 0;
	size_t klen;

	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return fail(&r, "not a JSON object"), -EINVAL;
	r.p++;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto end;
	}
	for (;;) {
		if (n >= max)
			return fail(&r, "too many members"), -EINVAL;
		memset(&m[n], 0, sizeof(m[n]));
		if (r.p >= r.end || *r.p != '"')
			return fail(&r, "a member without a quoted name"), -EINVAL;
		if (string(&r, &m[n].key, &klen))
			return -EINVAL;
		skip_ws(&r);
		if (r.p >= r.end || *r.p != ':')
			return fail(&r, "a member name without ':'"), -EINVAL;
		r.p++;
		skip_ws(&r);
		if (member_value(&r, &m[n]))
			return -EINVAL;
		n++;
		skip_ws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			skip_ws(&r);
			continue;
		}
		if (r.p < r.end && *r.p == '}') {
			r.p++;
			break;
		}
		return fail(&r, "a member not followed by ',' or '}'"), -EINVAL;
	}
end:
	skip_ws(&r);
	if (r.p != r.end)
		return fail(&r, "text after the object"), -EINVAL;
	return n;
}

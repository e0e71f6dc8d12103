// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json_fuzz.c - libFuzzer harness for the JSON writer (src/json.c) of `ctlua run --json`.
 * Whatever bytes a string holds (a policy's error message, a printed value), the object
 * written must be valid JSON (RFC 8259, checked by the small strict parser below, which
 * also checks the text is valid UTF-8), end in one newline with no other, and its string
 * must read back as exactly the bytes given (an escape \u0080..\u00ff standing for an
 * invalid byte). The first 64 bytes are also written as an event record, whose every
 * field must make valid JSON too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fields.h"
#include "fuzz.h"
#include "json.h"

struct parser {
	const unsigned char *p, *end;
	unsigned char *out;		/* the first string's bytes, decoded */
	size_t out_len, out_cap;
	bool capture;
};

static bool value(struct parser *ps, int depth);

static void ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
				   *ps->p == '\r'))
		ps->p++;
}

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One UTF-8 sequence at ps->p (strictly: no overlong, surrogate or > U+10FFFF). */
static size_t utf8(const unsigned char *s, const unsigned char *end)
{
	unsigned int cp, len, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - s) < len)
		return 0;
	for (unsigned int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void emit(struct parser *ps, const unsigned char *s, size_t n)
{
	if (ps->capture) {
		fz_check(ps->out_len + n <= ps->out_cap, "the string reads back longer than given",
			 NULL);
		memcpy(ps->out + ps->out_len, s, n);
		ps->out_len += n;
	}
}

static bool string(struct parser *ps)
{
	unsigned char b;

	if (ps->p >= ps->end || *ps->p++ != '"')
		return false;
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;
		size_t n;

		if (c == '"') {
			ps->p++;
			ps->capture = false;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (ps->end - ps->p < 2)
				return false;
			switch (ps->p[1]) {
			case '"': case '\\': case '/':
				b = ps->p[1];
				break;
			case 'n': b = '\n'; break;
			case 't': b = '\t'; break;
			case 'r': b = '\r'; break;
			case 'b': b = '\b'; break;
			case 'f': b = '\f'; break;
			case 'u': {
				int v = 0;

				if (ps->end - ps->p < 6)
					return false;
				for (int i = 2; i < 6; i++) {
					int h = hex(ps->p[i]);

					if (h < 0)
						return false;
					v = v * 16 + h;
				}
				/* the writer escapes single bytes only */
				fz_check(v <= 0xff, "an escape above \\u00ff", NULL);
				b = (unsigned char)v;
				ps->p += 4;
				break;
			}
			default:
				return false;
			}
			emit(ps, &b, 1);
			ps->p += 2;
			continue;
		}
		n = utf8(ps->p, ps->end);
		if (!n)
			return false;
		emit(ps, ps->p, n);
		ps->p += n;
	}
	return false;
}

static bool number(struct parser *ps)
{
	const unsigned char *s = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return false;
	if (*ps->p == '0')
		ps->p++;
	else if (*ps->p >= '1' && *ps->p <= '9')
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	else
		return false;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return false;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	return ps->p > s;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

static bool members(struct parser *ps, int depth, bool object)
{
	char close = object ? '}' : ']';

	ps->p++;
	ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		ws(ps);
		if (object) {
			if (!string(ps))
				return false;
			ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return false;
		}
		if (!value(ps, depth + 1))
			return false;
		ws(ps);
		if (ps->p >= ps->end)
			return false;
		if (*ps->p == close) {
			ps->p++;
			return true;
		}
		if (*ps->p++ != ',')
			return false;
	}
}

static bool value(struct parser *ps, int depth)
{
	if (depth > 16)
		return false;
	ws(ps);
	if (ps->p >= ps->end)
		return false;
	switch (*ps->p) {
	case '{':
		return members(ps, depth, true);
	case '[':
		return members(ps, depth, false);
	case '"':
		return string(ps);
	case 't':
		return literal(ps, "true");
	case 'f':
		return literal(ps, "false");
	case 'n':
		return literal(ps, "null");
	default:
		return number(ps);
	}
}

/* Whether @j holds one valid JSON value and a newline; the value of "s" into @out. */
static void check_line(const struct ctl_json *j, unsigned char *out, size_t *out_len)
{
	struct parser ps = { (const unsigned char *)j->buf,
			     (const unsigned char *)j->buf + j->len, out, 0,
			     out_len ? *out_len : 0, false };

	fz_check(!j->failed, "out of memory", NULL);
	fz_check(j->len >= 2 && j->buf[j->len - 1] == '\n', "the line does not end in a newline",
		 j->buf);
	fz_check(memchr(j->buf, '\n', j->len - 1) == NULL, "a newline inside the line", j->buf);
	ps.end--;
	if (out) {
		/* {"s": — the writer's own key — then the value is captured */
		fz_check(!memcmp(j->buf, "{\"s\":", 5), "the object does not start as written",
			 j->buf);
		ps.p += 5;
		ps.capture = true;
		fz_check(string(&ps), "the string is not valid JSON", j->buf);
		*out_len = ps.out_len;
		fz_check(ps.p < ps.end && *ps.p == '}', "the object does not end after it", j->buf);
		ps.p = (const unsigned char *)j->buf;
	}
	fz_check(value(&ps, 0), "not valid JSON", j->buf);
	fz_check(ps.p == ps.end, "text after the value", j->buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_event_ctx ctx = { "veth0", 0 };
	struct ctlua_event ev;
	struct ctl_entry en;
	unsigned char *back = malloc(size + 1);
	struct ctl_json j;
	size_t back_len = size;	/* room, then what was read */

	fz_check(back != NULL, "out of memory", NULL);
	ctl_json_init(&j);
	ctl_json_begin(&j);
	ctl_json_str(&j, "s", (const char *)data, size);
	ctl_json_end(&j);
	check_line(&j, back, &back_len);
	fz_check(back_len == size && !memcmp(back, data, size),
		 "the string does not read back as the bytes given", j.buf);
	free(back);

	/* the same bytes as an event and as an entry: any record is valid JSON */
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	ctx.realtime_offset_ns = size > sizeof(ev) ? (int64_t)((uint64_t)data[sizeof(ev)] << 56) : 0;
	ctl_json_begin(&j);
	ctl_json_str(&j, "type", "event", 5);
	ctl_json_record(&j, &ctl_event_record, &ev, &ctx);
	ctl_json_end(&j);
	check_line(&j, NULL, NULL);
	memset(&en, 0, sizeof(en));
	memcpy(&en, data, size < sizeof(en) ? size : sizeof(en));
	ctl_json_begin(&j);
	ctl_json_record(&j, &ctl_entry_record, &en, NULL);
	ctl_json_end(&j);
	check_line(&j, NULL, NULL);
	ctl_json_free(&j);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fields.c - TAP tests of the records' field tables (src/fields.h): each field read from
 * a hand-made raw record, the Lua table made of it as the shell prints it, and the
 * tables of doc/api.md that list the fields (an event's, an entry's, ct.watch's filter)
 * against the field tables, so that a field added to one and not the other fails here.
 * Runs from unit.c's main (from the top of the tree, where doc/ is); no kernel.
 *
 * Every expected value is written out by hand, never produced by the code under test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "fields.h"
#include "lua_ct.h"
#include "pretty.h"
#include "tap.h"

static void is_s(const char *got, const char *want, const char *name)
{
	if (!ok(got && !strcmp(got, want), "%s", name))
		diag("    got '%s', expected '%s'", got ? got : "(null)", want);
}

static void is_i(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name))
		diag("    got %lld, expected %lld", got, want);
}

/* Read field @name of @rec; false when the record has none (or there is no such field). */
static bool get(const struct ctl_record *r, const char *name, const void *rec, const void *ctx,
		struct ctl_value *v)
{
	const struct ctl_field *f = ctl_record_field(r, name, strlen(name));

	memset(v, 0, sizeof(*v));
	if (!ok(f != NULL, "%s has a field '%s'", r->name, name))
		return false;
	return ctl_field_get(f, rec, ctx, v);
}

/* udp 198.18.0.2:1000 -> 198.18.0.1:80 */
static void make_flow(struct ctlua_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = CTLUA_AF_INET;
	f->proto = 17;
	f->saddr[0] = htonl(0xc6120002);
	f->daddr[0] = htonl(0xc6120001);
	f->sport = htons(1000);
	f->dport = htons(80);
}

static void test_event_fields(lua_State *L)
{
	struct ctlua_event e = {
		.time_ns = 1000000000ull, .ifindex = 7, .rule_id = 3, .error = -17,
		.kind = CTLUA_EV_ALLOC_ERROR, .dir = CTLUA_DIR_EGRESS, .action = CTLUA_ACT_ALLOC,
	};
	struct ctl_event_ctx ctx = { .ifname = "veth0", .realtime_offset_ns = 1500000000 };
	struct ctl_value v;

	make_flow(&e.flow);
	if (get(&ctl_event_record, "kind", &e, &ctx, &v))
		is_s(v.s, "alloc_error", "event kind");
	if (get(&ctl_event_record, "src", &e, &ctx, &v))
		is_s(v.s, "198.18.0.2", "event src");
	if (get(&ctl_event_record, "dst", &e, &ctx, &v))
		is_s(v.s, "198.18.0.1", "event dst");
	if (get(&ctl_event_record, "sport", &e, &ctx, &v))
		is_i(v.i, 1000, "event sport, in host order");
	if (get(&ctl_event_record, "dport", &e, &ctx, &v))
		is_i(v.i, 80, "event dport");
	if (get(&ctl_event_record, "proto", &e, &ctx, &v))
		is_s(v.s, "udp", "event proto, by name");
	if (get(&ctl_event_record, "family", &e, &ctx, &v))
		is_s(v.s, "ipv4", "event family");
	if (get(&ctl_event_record, "ifname", &e, &ctx, &v))
		is_s(v.s, "veth0", "event ifname, from the context");
	if (get(&ctl_event_record, "dir", &e, &ctx, &v))
		is_s(v.s, "egress", "event dir");
	if (get(&ctl_event_record, "action", &e, &ctx, &v))
		is_s(v.s, "alloc", "event action");
	if (get(&ctl_event_record, "rule", &e, &ctx, &v))
		is_i(v.i, 3, "event rule");
	if (get(&ctl_event_record, "err", &e, &ctx, &v))
		is_i(v.i, -17, "event err");
	if (get(&ctl_event_record, "errname", &e, &ctx, &v))
		is_s(v.s, "EEXIST", "event errname");
	if (get(&ctl_event_record, "time", &e, &ctx, &v))
		ok(v.n == 2.5, "event time: the stamp moved by the offset, in seconds");

	ctl_push_record(L, &ctl_event_record, &e, &ctx, NULL);
	ctl_pretty(L, -1);
	is_s(lua_tostring(L, -1), "event{alloc_error egress veth0 udp 198.18.0.2:1000 → "
	     "198.18.0.1:80, action alloc, rule 3, error EEXIST}",
	     "the pushed event prints as the shell shows events");
	lua_pop(L, 2);

	e.rule_id = 0;
	e.error = 0;
	e.flow.proto = 47;
	ok(!get(&ctl_event_record, "rule", &e, &ctx, &v), "no rule when none decided");
	ok(!get(&ctl_event_record, "errname", &e, &ctx, &v), "no errname without an error");
	if (get(&ctl_event_record, "proto", &e, &ctx, &v))
		ok(v.s == NULL && v.i == 47, "a protocol without a name is its number");
	ctl_push_record(L, &ctl_event_record, &e, &ctx, NULL);
	is_i(lua_getfield(L, -1, "rule"), LUA_TNIL, "and the table has no rule");
	is_i(lua_getfield(L, -2, "errname"), LUA_TNIL, "nor an errname");
	is_i(lua_getfield(L, -3, "err"), LUA_TNUMBER, "but err, which every event has");
	lua_pop(L, 4);
}

static void test_entry_fields(lua_State *L)
{
	struct ctl_entry e = { .status = 0x8 | 0x10 | 0x4, .mark = 5, .timeout_ms = 29000,
			       .zone = 7 };
	struct ctl_value v;
	char buf[CTL_ADDR_STRLEN];

	make_flow(&e.tuple);
	make_flow(&e.reply);	/* the reply as SNAT to 198.18.0.9:6666 leaves it */
	e.reply.saddr[0] = htonl(0xc6120001);
	e.reply.daddr[0] = htonl(0xc6120009);
	e.reply.sport = htons(80);
	e.reply.dport = htons(6666);
	if (get(&ctl_entry_record, "status_bits", &e, NULL, &v))
		is_i(v.i, 0x1c, "entry status_bits");
	if (get(&ctl_entry_record, "timeout", &e, NULL, &v))
		is_i(v.i, 29000, "entry timeout, from its offset");
	if (get(&ctl_entry_record, "mark", &e, NULL, &v))
		is_i(v.i, 5, "entry mark");
	if (get(&ctl_entry_record, "zone", &e, NULL, &v))
		is_i(v.i, 7, "entry zone, a 16-bit member");
	if (get(&ctl_entry_record, "snat", &e, NULL, &v)) {
		is_s(ctl_addr_format(v.nat.family, v.nat.addr, buf), "198.18.0.9",
		     "snat: the reply's destination");
		is_i(v.nat.port, 6666, "and its port");
	}
	ok(!get(&ctl_entry_record, "dnat", &e, NULL, &v), "no dnat without IPS_DST_NAT");

	ctl_push_entry(L, &e);
	ctl_pretty(L, -1);
	is_s(lua_tostring(L, -1), "entry{udp 198.18.0.2:1000 → 198.18.0.1:80, reply udp "
	     "198.18.0.1:80 → 198.18.0.9:6666, status assured,confirmed,src_nat, timeout "
	     "29000 ms, mark 0x5, zone 7, snat 198.18.0.9:6666}",
	     "the pushed entry prints as the shell shows entries");
	lua_pop(L, 2);
}

/* --- doc/api.md ----------------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)n + 1))) {
		s[fread(s, 1, (size_t)n, f)] = '\0';
	}
	fclose(f);
	return s;
}

/*
 * The names in backticks in the first column of the table that follows @after in @doc,
 * in order, separated by spaces, into @out. The header row is skipped.
 */
static void table_names(const char *doc, const char *after, char *out, size_t size)
{
	const char *p = strstr(doc, after);

	out[0] = '\0';
	if (!p)
		return;
	p = strstr(p, "\n|");
	for (int row = 0; p && p[1] == '|'; row++) {
		const char *end = strchr(p + 2, '|');
		const char *q = p + 2;

		if (row >= 2) {	/* after the head and the rule under it */
			while (end && (q = memchr(q, '`', (size_t)(end - q)))) {
				const char *close = memchr(q + 1, '`', (size_t)(end - q - 1));

				if (!close)
					break;
				snprintf(out + strlen(out), size - strlen(out), "%s%.*s",
					 out[0] ? " " : "", (int)(close - q - 1), q + 1);
				q = close + 1;
			}
		}
		p = strchr(p + 1, '\n');
	}
}

/* The names in backticks in the rest of the paragraph after @after, in order. */
static void text_names(const char *doc, const char *after, char *out, size_t size)
{
	const char *p = strstr(doc, after), *end;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(after);
	end = strstr(p, "\n\n");
	while ((p = strchr(p, '`')) && p < end) {
		const char *close = strchr(p + 1, '`');

		snprintf(out + strlen(out), size - strlen(out), "%s%.*s", out[0] ? " " : "",
			 (int)(close - p - 1), p + 1);
		p = close + 1;
	}
}

/* The field names of @r with every flag of @flags, in order, separated by spaces. */
static void record_names(const struct ctl_record *r, unsigned int flags, char *out,
			 size_t size)
{
	out[0] = '\0';
	for (unsigned int i = 0; i < r->nfields; i++)
		if ((r->fields[i].flags & flags) == flags)
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "",
				 r->fields[i].name);
}

static void test_docs(void)
{
	char *doc = slurp("doc/api.md");
	char got[512], want[512];

	if (!ok(doc != NULL, "doc/api.md can be read (run from the top of the tree)"))
		return;
	table_names(doc, "\n## Event fields\n", got, sizeof(got));
	record_names(&ctl_event_record, 0, want, sizeof(want));
	is_s(got, want, "doc/api.md's Event fields table lists the event's fields, in order");
	table_names(doc, "\nThe entry is a table:\n", got, sizeof(got));
	record_names(&ctl_entry_record, 0, want, sizeof(want));
	is_s(got, want, "doc/api.md's entry table (under ct.alloc) lists the entry's fields");
	text_names(doc, "Filter fields are event fields:", got, sizeof(got));
	record_names(&ctl_event_record, CTL_FIELD_FILTER, want, sizeof(want));
	is_s(got, want, "ct.watch's filter fields in doc/api.md are those it accepts");

	/* the readers see what they should: a table whose names differ is caught */
	table_names("x\n| a | b |\n|---|---|\n| `kind`, `src` | y |\n| `dst` | z |\n\nq", "x",
		    got, sizeof(got));
	is_s(got, "kind src dst", "the table reader takes the first column's names");
	free(doc);
}

void test_fields(void)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	luaL_requiref(L, "ct", luaopen_ct, 1);	/* the tuple metatable */
	lua_pop(L, 1);
	test_event_fields(L);
	test_entry_fields(L);
	if (!ok(lua_gettop(L) == 0, "the stack is back where it was"))
		diag("    %d values left", lua_gettop(L));
	lua_close(L);
	test_docs();
}

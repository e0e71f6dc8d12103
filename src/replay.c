// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay.c - `ctlua replay FILE POLICY [--diff OTHER]` (replay.h): the recording read
 * back (json.c's reader, the schema of recorder.h), the policy's top level run against
 * a dry `ct` as `ctlua check` runs it (lua_stage.c), and each recorded event decided
 * as the TC program decides: a per-flow verdict an earlier answer set, then the first
 * matching rule (rule_class.c, the program's own classifier), then the default; mode
 * off decides nothing and observe acts on nothing. Callbacks get event objects built
 * from the record and their answers become verdicts. What a replay cannot know (what
 * the kernel would answer to an allocation the recording does not hold) it does not
 * guess: doc/replay.md says what is replayed and what is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <lua.h>
#include <lauxlib.h>
#include "addr.h"
#include "explain.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "lua_ct.h"
#include "names.h"
#include "recorder.h"
#include "replay.h"
#include "rule_class.h"
#include "sets.h"
#include "run.h"
#include "sandbox.h"

/* enum ctlua_dir as the event field writes it */
static const char *const dir_names[] = { "ingress", "egress", "request", NULL };

#define NO_ANSWER_RECORDED	(-100)	/* the event had no callback when recorded */
#define MAX_MEMBERS		32

/* One recorded event. */
struct rev {
	struct ctlua_event e;	/* time_ns: the recorded wall-clock time */
	char ifname[IF_NAMESIZE];
	unsigned int line;
	int answer;		/* recorded: an action, CTL_TAP_*, or NO_ANSWER_RECORDED */
};

/* One policy being replayed. */
struct side {
	const char *path;
	lua_State *L;
	struct ctl_state *s;
	struct ctlua_rule *rules;	/* in evaluation order */
	unsigned int nrules;
	struct ctlua_rule_class *cls;
	int flows;			/* registry ref: flow bytes -> {verdict=, last=, rule=, applied=} */
	unsigned long by_action[CTLUA_ACT_NR], by_verdict, by_default, off;
	unsigned long limited;		/* misses over a limit as recorded: not replayed */
	unsigned long *by_rule;		/* by position */
	unsigned long delivered, skipped, callbacks, errors, differ;
};

/* --- reading the recording -------------------------------------------------------------- */

static const struct ctl_json_member *member(const struct ctl_json_member *m, int n,
					    const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(m[i].key, key))
			return &m[i];
	return NULL;
}

/* The string member @key, or NULL (with the reason in @why) when missing or not a string. */
static const char *str_member(const struct ctl_json_member *m, int n, const char *key,
			      char *why, size_t len)
{
	const struct ctl_json_member *x = member(m, n, key);

	if (!x || x->type != CTL_JSON_STRING || strlen(x->s) != x->len) {
		snprintf(why, len, "member '%s': %s", key, x ? "not a string" : "missing");
		return NULL;
	}
	return x->s;
}

/* The integer member @key in [lo, hi] into *@v; false (with @why) otherwise. */
static bool int_member(const struct ctl_json_member *m, int n, const char *key, double lo,
		       double hi, long long *v, char *why, size_t len)
{
	const struct ctl_json_member *x = member(m, n, key);

	if (!x) {
		snprintf(why, len, "member '%s': missing", key);
		return false;
	}
	/* the range first: a cast of a value out of range is undefined */
	if (x->type != CTL_JSON_NUMBER || !(x->n >= lo && x->n <= hi) ||
	    x->n != (double)(long long)x->n) {
		snprintf(why, len, "member '%s': not an integer from %.0f to %.0f", key, lo, hi);
		return false;
	}
	*v = (long long)x->n;
	return true;
}

/* The option member @key: its index in @names, or -1 (with @why). */
static int opt_member(const struct ctl_json_member *m, int n, const char *key,
		      const char *const names[], char *why, size_t len)
{
	const char *s = str_member(m, n, key, why, len);
	int i = s ? ctl_name_index(names, s) : -1;

	if (s && i < 0)
		snprintf(why, len, "member '%s': '%s' is not one of its values", key, s);
	return i;
}

/* An event line's members into @r. Returns true, or false with the reason in @why. */
static bool read_event(const struct ctl_json_member *m, int n, struct rev *r, char *why,
		       size_t len)
{
	const struct ctl_json_member *x;
	const char *s;
	long long v;
	int i, fam;

	memset(&r->e, 0, sizeof(r->e));
	if ((i = opt_member(m, n, "kind", ctl_event_names, why, len)) < 0)
		return false;
	r->e.kind = (__u8)i;
	if ((i = opt_member(m, n, "family", ctl_family_names, why, len)) < 0)
		return false;
	fam = i ? CTLUA_AF_INET6 : CTLUA_AF_INET;
	r->e.flow.family = (__u8)fam;
	if (!(s = str_member(m, n, "src", why, len)))
		return false;
	if (ctl_addr_parse(s, r->e.flow.saddr) != fam) {
		snprintf(why, len, "member 'src': '%s' is not an address of its family", s);
		return false;
	}
	if (!(s = str_member(m, n, "dst", why, len)))
		return false;
	if (ctl_addr_parse(s, r->e.flow.daddr) != fam) {
		snprintf(why, len, "member 'dst': '%s' is not an address of its family", s);
		return false;
	}
	if (!int_member(m, n, "sport", 0, 65535, &v, why, len))
		return false;
	r->e.flow.sport = htons((__u16)v);
	if (!int_member(m, n, "dport", 0, 65535, &v, why, len))
		return false;
	r->e.flow.dport = htons((__u16)v);
	x = member(m, n, "proto");
	if (x && x->type == CTL_JSON_STRING && ctl_proto_parse(x->s) > 0) {
		r->e.flow.proto = (__u8)ctl_proto_parse(x->s);
	} else if (int_member(m, n, "proto", 0, 255, &v, why, len)) {
		r->e.flow.proto = (__u8)v;
	} else {
		snprintf(why, len, "member 'proto': neither a protocol name nor a number 0-255");
		return false;
	}
	if (!(s = str_member(m, n, "ifname", why, len)))
		return false;
	snprintf(r->ifname, sizeof(r->ifname), "%s", s);
	if ((i = opt_member(m, n, "dir", dir_names, why, len)) < 0)
		return false;
	r->e.dir = (__u8)i;
	if ((i = opt_member(m, n, "action", ctl_action_names, why, len)) < 0)
		return false;
	r->e.action = (__u8)i;
	if (member(m, n, "rule")) {
		if (!int_member(m, n, "rule", 1, 4294967295.0, &v, why, len))
			return false;
		r->e.rule_id = (__u32)v;
	}
	if (!int_member(m, n, "err", -CTL_ERRNO_MAX, 0, &v, why, len))
		return false;
	r->e.error = (__s32)v;
	if (member(m, n, "stage")) {
		if (!(s = str_member(m, n, "stage", why, len)))
			return false;
		if (!(i = ctl_stage_parse(s))) {
			snprintf(why, len, "member 'stage': '%s' is not a stage", s);
			return false;
		}
		r->e.stage = (__u8)i;
	}
	x = member(m, n, "time");
	if (!x || x->type != CTL_JSON_NUMBER || x->n < 0 || x->n > 1e10) {
		snprintf(why, len, "member 'time': %s", x ? "not a time in seconds" : "missing");
		return false;
	}
	r->e.time_ns = (__u64)(x->n * 1e9 + 0.5);
	r->answer = NO_ANSWER_RECORDED;
	if (member(m, n, "answer")) {
		static const char *const answers[] = { "pass", "alloc", "drop", "none", "error",
						       NULL };

		if ((i = opt_member(m, n, "answer", answers, why, len)) < 0)
			return false;
		r->answer = i < CTLUA_ACT_NR ? i : i == 3 ? CTL_TAP_NO_ANSWER : CTL_TAP_FAILED;
	}
	return true;
}

/* The header line: the schema and a version this ctlua reads. */
static bool read_header(const struct ctl_json_member *m, int n, char *why, size_t len)
{
	const char *type = str_member(m, n, "type", why, len);
	const char *schema;
	long long v;

	if (!type || strcmp(type, "header") ||
	    !(schema = str_member(m, n, "schema", why, len)) || strcmp(schema, CTL_RECORD_SCHEMA)) {
		snprintf(why, len, "not a ctlua recording: the first line is not its header "
			 "({\"type\":\"header\",\"schema\":\"%s\",...})", CTL_RECORD_SCHEMA);
		return false;
	}
	if (!int_member(m, n, "version", 1, 1e9, &v, why, len))
		return false;
	if (v != CTL_RECORD_VERSION) {
		snprintf(why, len, "schema version %lld: this ctlua reads version %d", v,
			 CTL_RECORD_VERSION);
		return false;
	}
	return true;
}

/*
 * Read @file into *@out (*@n events). Malformed lines are reported as FILE:LINE and
 * skipped, counted in *@bad. Returns 0, or -errno when the file cannot be read or is
 * no recording (reported).
 */
static int read_recording(const char *file, struct rev **out, size_t *n, unsigned int *bad)
{
	struct ctl_json_member m[MAX_MEMBERS];
	char why[256], *line = NULL, *scratch = NULL;
	size_t cap = 0, have = 0, scap = 0;
	struct rev *evs = NULL;
	unsigned int lineno = 0;
	ssize_t len;
	int nm, err = 0;
	FILE *f = fopen(file, "r");

	if (!f) {
		err = -errno;
		ctl_log(CTL_LOG_ERR, "cannot open '%s': %s", file, strerror(-err));
		return err;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *type;

		lineno++;
		if ((size_t)len + 1 > scap) {
			char *p = realloc(scratch, (size_t)len + 1);

			if (!p) {
				err = -ENOMEM;
				break;
			}
			scratch = p;
			scap = (size_t)len + 1;
		}
		nm = ctl_json_parse_object(line, (size_t)len, scratch, m, MAX_MEMBERS, why,
					   sizeof(why));
		if (lineno == 1) {
			if (nm < 0 || !read_header(m, nm, why, sizeof(why))) {
				ctl_log(CTL_LOG_ERR, "%s:1: %s", file, why);
				err = -EINVAL;
				break;
			}
			continue;
		}
		if (nm < 0) {
			ctl_log(CTL_LOG_ERR, "%s:%u: not JSON: %s; line skipped", file, lineno, why);
			(*bad)++;
			continue;
		}
		type = str_member(m, nm, "type", why, sizeof(why));
		if (!type) {
			ctl_log(CTL_LOG_ERR, "%s:%u: %s; line skipped", file, lineno, why);
			(*bad)++;
			continue;
		}
		if (strcmp(type, "event"))	/* a later version's other lines */
			continue;
		if (have % 1024 == 0) {
			struct rev *p = realloc(evs, (have + 1024) * sizeof(*evs));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			evs = p;
		}
		if (!read_event(m, nm, &evs[have], why, sizeof(why))) {
			ctl_log(CTL_LOG_ERR, "%s:%u: %s; line skipped", file, lineno, why);
			(*bad)++;
			continue;
		}
		evs[have++].line = lineno;
	}
	if (!err && ferror(f))
		err = -errno;
	if (!err && lineno == 0) {
		ctl_log(CTL_LOG_ERR, "%s: empty: not a ctlua recording", file);
		err = -EINVAL;
	}
	if (err == -ENOMEM)
		ctl_log(CTL_LOG_ERR, "%s: out of memory", file);
	fclose(f);
	free(line);
	free(scratch);
	if (err) {
		free(evs);
		return err;
	}
	*out = evs;
	*n = have;
	return 0;
}

/* --- the policies ----------------------------------------------------------------------- */

/* Load @sd->path into a fresh dry state; its rules into the classifier. Returns 0 or -1. */
static int side_open(struct side *sd, const struct ctl_service_opts *o)
{
	int status;

	if (!(sd->L = ctl_service_new_state(sd->path, o))) {
		ctl_log(CTL_LOG_ERR, "cannot create a Lua state (out of memory)");
		return -1;
	}
	sd->s = ctl_state_of(sd->L);
	sd->s->replay = true;
	lua_getglobal(sd->L, "ct");
	ctl_stage_dry(sd->L, -1, sd->s);
	lua_pop(sd->L, 1);
	status = ctl_load_file(sd->L, sd->path);
	if (status == LUA_OK)
		status = ctl_run_call(sd->L, 0, 0, NULL);
	if (status != LUA_OK) {
		ctl_log(CTL_LOG_ERR, "%s", lua_tostring(sd->L, -1));
		return -1;
	}
	sd->rules = malloc(sd->s->rules.n * sizeof(*sd->rules) + 1);
	sd->cls = malloc(sizeof(*sd->cls));
	sd->by_rule = calloc(CTLUA_MAX_RULES, sizeof(*sd->by_rule));
	if (!sd->rules || !sd->cls || !sd->by_rule) {
		ctl_log(CTL_LOG_ERR, "out of memory");
		return -1;
	}
	sd->nrules = ctl_rules_flatten(&sd->s->rules, sd->rules);
	if (sd->nrules && ctl_rule_class_build(sd->rules, sd->nrules, sd->cls)) {
		ctl_log(CTL_LOG_ERR, "cannot build the rule classifier");
		return -1;
	}
	lua_newtable(sd->L);
	sd->flows = luaL_ref(sd->L, LUA_REGISTRYINDEX);
	return 0;
}

static void side_close(struct side *sd)
{
	if (sd->L)
		lua_close(sd->L);
	free(sd->rules);
	free(sd->cls);
	free(sd->by_rule);
}

/* Push the flow's record {verdict=, last=, rule=, applied=}, made if missing. */
static void push_flow(struct side *sd, const struct ctlua_flow *f)
{
	lua_State *L = sd->L;

	lua_rawgeti(L, LUA_REGISTRYINDEX, sd->flows);
	lua_pushlstring(L, (const char *)f, sizeof(*f));
	if (lua_rawget(L, -2) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 4);
		lua_pushlstring(L, (const char *)f, sizeof(*f));
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
}

static lua_Integer flow_get(struct side *sd, const struct ctlua_flow *f, const char *k,
			    lua_Integer dflt)
{
	lua_Integer v;

	push_flow(sd, f);
	v = lua_getfield(sd->L, -1, k) == LUA_TNUMBER ? lua_tointeger(sd->L, -1) : dflt;
	lua_pop(sd->L, 2);
	return v;
}

static void flow_set(struct side *sd, const struct ctlua_flow *f, const char *k, lua_Integer v)
{
	push_flow(sd, f);
	lua_pushinteger(sd->L, v);
	lua_setfield(sd->L, -2, k);
	lua_pop(sd->L, 1);
}

/*
 * Protected: (callback, struct ctlua_event *, ifname as a C string, struct ctl_state *).
 * Makes the event (the recorded ifname: this host has no such index) and calls the
 * callback on it; its answer is the result.
 */
static int call_on_event(lua_State *L)
{
	ctl_push_event(L, lua_touserdata(L, 4), lua_touserdata(L, 2));
	lua_pushstring(L, lua_touserdata(L, 3));
	lua_setfield(L, -2, "ifname");
	lua_replace(L, 2);
	lua_settop(L, 2);
	lua_call(L, 1, 2);
	return 2;
}

/*
 * Run the callback of @e's kind on an event made of @e (the ifname of @r); the answer
 * becomes the flow's verdict. Returns the answer as the tap reports it (ct_host.h),
 * CTL_TAP_NO_CALLBACK when there is none; a failure is reported with FILE:LINE.
 */
static int callback(struct side *sd, const char *file, const struct rev *r,
		    const struct ctlua_event *e)
{
	lua_State *L = sd->L;
	struct ctl_state *s = sd->s;
	int base = lua_gettop(L), status, answer = CTL_TAP_NO_ANSWER;
	bool spent;

	if (s->cb_ref[e->kind] == LUA_NOREF || (s->events_off & (1u << e->kind)))
		return CTL_TAP_NO_CALLBACK;
	sd->callbacks++;
	lua_pushcfunction(L, ctl_traceback);
	lua_pushcfunction(L, call_on_event);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->cb_ref[e->kind]);
	lua_pushlightuserdata(L, (void *)e);
	lua_pushlightuserdata(L, (void *)r->ifname);
	lua_pushlightuserdata(L, s);
	ctl_budget_arm(L, s->budget_ms);
	status = lua_pcall(L, 4, 2, base + 1);
	spent = status == LUA_OK && ctl_budget_spent(L);
	ctl_budget_disarm(L);
	if (status == LUA_OK && !spent && !lua_isnil(L, base + 2)) {
		int a = lua_type(L, base + 2) == LUA_TSTRING
			? ctl_name_index(ctl_action_names, lua_tostring(L, base + 2)) : -1;

		if (a < 0) {
			lua_pushfstring(L, "its answer: %s is not an action (pass, alloc or drop)",
					luaL_tolstring(L, base + 2, NULL));
			status = LUA_ERRRUN;
		} else {
			answer = a;
		}
	}
	if (status != LUA_OK || spent) {
		ctl_log(CTL_LOG_ERR, "%s:%u: the '%s' callback failed: %s", file, r->line,
			ctl_event_names[e->kind], lua_tostring(L, -1));
		sd->errors++;
		answer = CTL_TAP_FAILED;
	} else if (answer >= 0) {
		flow_set(sd, &e->flow, "verdict", answer);
		/* enforce: an alloc answer is applied at once, by a request (lua_events.c) */
		if (answer == CTLUA_ACT_ALLOC && s->stage_mode == CTLUA_MODE_ENFORCE)
			flow_set(sd, &e->flow, "applied", 1);
	}
	lua_settop(L, base);
	return answer;
}

static const char *answer_name(int answer)
{
	return answer >= 0 ? ctl_action_names[answer] : answer == CTL_TAP_FAILED ? "error"
									   : "none";
}

/*
 * Decide @r as the program would under @sd's policy, run its callback, and write one
 * line saying so into @out (without the recording's comparison: see replay_one).
 * *@decided: the event was a miss that got a decision, with it in *@ev.
 */
static void decide(struct side *sd, const char *file, const struct rev *r, char *out,
		   size_t len, struct ctlua_event *ev, bool *decided, int *answer)
{
	struct ctl_state *s = sd->s;
	const struct ctlua_flow *f = &r->e.flow;
	int want, n = 0;

	*ev = r->e;
	*decided = false;
	*answer = CTL_TAP_NO_CALLBACK;
	if (s->stage_mode == CTLUA_MODE_OFF) {
		sd->off++;
		snprintf(out, len, "off (mode off: the program decides nothing)");
		return;
	}
	if (r->e.dir == CTLUA_DIR_REQUEST) {
		/* a callback's alloc answer, applied at once: only if this policy gave one */
		if (r->e.kind == CTLUA_EV_MISS || r->e.kind == CTLUA_EV_DROP ||
		    !flow_get(sd, f, "applied", 0)) {
			sd->skipped++;
			snprintf(out, len, "skipped (a direct request this policy did not make)");
			return;
		}
		flow_set(sd, f, "applied", 0);
		sd->delivered++;
		n = snprintf(out, len, "delivered as recorded");
	} else if (r->e.kind == CTLUA_EV_MISS) {
		lua_Integer v = flow_get(sd, f, "verdict", -1);
		const struct ctlua_verdict *by = NULL;	/* the rule's or the default's */
		unsigned int pos;

		*decided = true;
		ev->rule_id = 0;
		if (v >= 0) {
			ev->action = (__u8)v;
			sd->by_verdict++;
			n = snprintf(out, len, "%s (verdict)", ctl_action_names[v]);
		} else if ((f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) && sd->nrules &&
			   (pos = ctl_rule_class_lookup(sd->cls, f, ctl_rule_class_refs(sd->cls, f,
				ctl_sets_hold, s->sets))) < sd->nrules) {
			by = &sd->rules[pos].verdict;
			ev->action = by->action;
			ev->rule_id = sd->rules[pos].id;
			sd->by_rule[pos]++;
			n = snprintf(out, len, "%s (rule %u)", ctl_action_names[ev->action],
				     ev->rule_id);
		} else {
			by = &s->stage_dflt;
			ev->action = by->action;
			sd->by_default++;
			n = snprintf(out, len, "%s (default)", ctl_action_names[ev->action]);
		}
		/* over a limit, the kernel took its over action: as recorded, not replayed */
		if (by && r->e.action != ev->action && r->e.rule_id == ev->rule_id &&
		    ctl_limit_over(s, by->limit) == r->e.action) {
			ev->action = r->e.action;
			sd->limited++;
			n += snprintf(out + n, len - (size_t)n, ", over its rate limit: %s as "
				      "recorded (the kernel's buckets are not replayed)",
				      ctl_action_names[ev->action]);
		}
		sd->by_action[ev->action]++;
		if (s->stage_mode == CTLUA_MODE_OBSERVE)
			n += snprintf(out + n, len - (size_t)n, ", observed: not acted on");
		/* what the flow's next allocation or drop event follows from */
		flow_set(sd, f, "last", s->stage_mode == CTLUA_MODE_ENFORCE ? ev->action : -1);
		flow_set(sd, f, "rule", ev->rule_id);
	} else {
		want = r->e.kind == CTLUA_EV_DROP ? CTLUA_ACT_DROP : CTLUA_ACT_ALLOC;
		if (flow_get(sd, f, "last", -1) != want) {
			sd->skipped++;
			snprintf(out, len, "skipped (this policy's decision for the flow was not %s)",
				 ctl_action_names[want]);
			return;
		}
		ev->action = (__u8)want;
		ev->rule_id = (__u32)flow_get(sd, f, "rule", 0);
		sd->delivered++;
		n = snprintf(out, len, "delivered");
	}
	*answer = callback(sd, file, r, ev);
	if (*answer != CTL_TAP_NO_CALLBACK && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "; callback: %s", answer_name(*answer));
}

/* "LINE: kind tuple ifname dir" for @r into @buf. */
static void event_label(const char *file, const struct rev *r, char *buf, size_t len)
{
	char flow[CTL_FLOW_STRLEN];

	snprintf(buf, len, "%s:%u: %s %s %s %s", file, r->line, ctl_event_names[r->e.kind],
		 ctl_flow_format(&r->e.flow, flow), r->ifname, dir_names[r->e.dir]);
}

/* One line per event, and how it compares with what was recorded. */
static void replay_one(struct side *sd, const char *file, const struct rev *r)
{
	char label[CTL_FLOW_STRLEN + 128], what[256], note[160] = "";
	struct ctlua_event ev;
	bool decided;
	int answer, n = 0;

	decide(sd, file, r, what, sizeof(what), &ev, &decided, &answer);
	if (decided && (ev.action != r->e.action || ev.rule_id != r->e.rule_id)) {
		if (r->e.rule_id)
			n = snprintf(note, sizeof(note), " [recorded: %s (rule %u)]",
				     ctl_action_names[r->e.action], r->e.rule_id);
		else
			n = snprintf(note, sizeof(note), " [recorded: %s]",
				     ctl_action_names[r->e.action]);
	}
	if (r->answer != NO_ANSWER_RECORDED && answer != CTL_TAP_NO_CALLBACK &&
	    answer != r->answer)
		snprintf(note + n, sizeof(note) - (size_t)n, " [recorded callback: %s]",
			 answer_name(r->answer));
	if (note[0])
		sd->differ++;
	event_label(file, r, label, sizeof(label));
	printf("%s: %s%s\n", label, what, note);
}

static void summary(const struct side *sd, size_t nev, unsigned int bad)
{
	printf("replay of '%s': %zu events, %lu decided (", sd->path, nev,
	       sd->by_action[0] + sd->by_action[1] + sd->by_action[2]);
	for (int a = 0; a < CTLUA_ACT_NR; a++)
		printf("%s%s %lu", a ? ", " : "", ctl_action_names[a], sd->by_action[a]);
	printf("; by verdict %lu, default %lu", sd->by_verdict, sd->by_default);
	for (unsigned int i = 0; i < sd->nrules; i++)
		if (sd->by_rule[i])
			printf(", rule %u: %lu", sd->rules[i].id, sd->by_rule[i]);
	printf(")");
	if (sd->off)
		printf(", %lu with mode off", sd->off);
	if (sd->limited)
		printf(", %lu over a rate limit as recorded (not compared)", sd->limited);
	printf(", %lu delivered, %lu skipped; callbacks %lu run, %lu failed; %lu differ from "
	       "the recording; %u malformed line%s\n", sd->delivered, sd->skipped, sd->callbacks,
	       sd->errors, sd->differ, bad, bad == 1 ? "" : "s");
}

/* Both policies on every event: print the events where their lines differ. */
static unsigned long diff(struct side *a, struct side *b, const char *file,
			  const struct rev *evs, size_t n)
{
	char label[CTL_FLOW_STRLEN + 128], wa[256], wb[256];
	struct ctlua_event ev;
	unsigned long differ = 0;
	bool decided;
	int answer;

	for (size_t i = 0; i < n; i++) {
		decide(a, file, &evs[i], wa, sizeof(wa), &ev, &decided, &answer);
		decide(b, file, &evs[i], wb, sizeof(wb), &ev, &decided, &answer);
		if (!strcmp(wa, wb))
			continue;
		differ++;
		event_label(file, &evs[i], label, sizeof(label));
		printf("%s: '%s': %s | '%s': %s\n", label, a->path, wa, b->path, wb);
	}
	printf("diff of '%s' and '%s' on %zu events: %lu decided or answered differently\n",
	       a->path, b->path, n, differ);
	return differ;
}

int ctl_replay(const char *file, const char *policy, const char *other,
	       const struct ctl_service_opts *o)
{
	struct side a = { .path = policy }, b = { .path = other };
	struct rev *evs = NULL;
	unsigned int bad = 0;
	size_t n = 0;
	int status = 1, err;

	ctl_progname = "ctlua";
	if ((err = ctl_signals_install())) {
		ctl_log(CTL_LOG_ERR, "cannot set up the stop signals (%s)", strerror(-err));
		return 1;
	}
	if (read_recording(file, &evs, &n, &bad))
		return 1;
	if (side_open(&a, o) || (other && side_open(&b, o)))
		goto out;
	if (other) {
		status = diff(&a, &b, file, evs, n) || bad ? 1 : 0;
	} else {
		for (size_t i = 0; i < n && !ctl_signal_pending(); i++)
			replay_one(&a, file, &evs[i]);
		summary(&a, n, bad);
		status = bad ? 1 : 0;
	}
	if (ctl_signal_pending())
		status = 1;
out:
	fflush(stdout);
	side_close(&a);
	side_close(&b);
	free(evs);
	return status;
}

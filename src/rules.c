// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rules.c - compiling rules into what the TC program matches (struct ctlua_rule) and
 * keeping the host's copy of the table in evaluation order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "names.h"
#include "rules.h"
#include "sets.h"

const char *const ctl_set_field_names[] = { "src_set", "dst_set", "sport_set", "dport_set",
					     NULL };

/* A prefix field into @addr/@mask (zero when absent); returns its family, 0, or -EINVAL. */
static int compile_prefix(const char *field, const char *text, __be32 addr[4], __be32 mask[4],
			  char *why, size_t len)
{
	const char *reason = NULL;
	int family;

	memset(addr, 0, 16);
	memset(mask, 0, 16);
	if (!text)
		return 0;
	family = ctl_prefix_parse(text, addr, mask, &reason);
	if (!family) {
		snprintf(why, len, "field '%s': '%s': %s", field, text,
			 reason ? reason : "not a prefix");
		return -EINVAL;
	}
	return family;
}

int ctl_port_compile(const char *name, const struct ctl_port_spec *p, int min, __u16 *lo,
		     __u16 *hi, char *why, size_t len)
{
	long long l = p->lo, h = p->hi;

	if (p->items == 0) {
		l = 0;
		h = 65535;
	} else if (p->items < 0) {
		if (l < min || l > 65535) {
			snprintf(why, len, "field '%s': %lld is out of range %d to 65535", name, l,
				 min);
			return -EINVAL;
		}
		h = l;
	} else if (p->items > 2) {
		snprintf(why, len, "field '%s': a range is {lo, hi}, got %d items", name,
			 p->items);
		return -EINVAL;
	} else if (p->items < 2 || !p->ints || l < min || h > 65535 || l > h) {
		snprintf(why, len, "field '%s': expected {lo, hi} with %d <= lo <= hi <= 65535",
			 name, min);
		return -EINVAL;
	}
	*lo = (__u16)l;
	*hi = (__u16)h;
	return 0;
}

/* A rule's port field @name, as ctl_port_compile; a table of many says what a rule takes. */
static int compile_port(const char *name, const struct ctl_port_spec *p, __u16 *lo, __u16 *hi,
			char *why, size_t len)
{
	size_t n;

	if (!ctl_port_compile(name, p, 0, lo, hi, why, len))
		return 0;
	/* {80, 443, 8080} reads like a set of ports; only the first two were ever used */
	n = strlen(why);
	if (p->items > 2 && n < len)
		snprintf(why + n, len - n, " (one rule takes one port or one range)");
	return -EINVAL;
}

/*
 * The sets @spec names into @r->set[] (id + 1), each of the kind its field takes.
 * Returns 0 or -EINVAL with the reason in @why.
 */
static int compile_sets(const struct ctl_rule_spec *spec, struct ctlua_rule *r, char *why,
			size_t len)
{
	static const char *const kinds[] = { "prefix", "port" };

	for (int f = 0; f < CTLUA_SET_FIELDS; f++) {
		enum ctl_set_kind want = f < CTLUA_SET_SPORT ? CTL_SET_PREFIX : CTL_SET_PORT, kind;
		const char *name = spec->set[f];
		int id;

		if (!name)
			continue;
		id = spec->sets ? ctl_set_find(spec->sets, name, &kind) : -ENOENT;
		if (id < 0) {
			snprintf(why, len, "field '%s': '%s' is not a set (ct.set makes one)",
				 ctl_set_field_names[f], name);
			return -EINVAL;
		}
		if (kind != want) {
			snprintf(why, len, "field '%s': '%s' is a %s set, not a %s set",
				 ctl_set_field_names[f], name, kinds[kind], kinds[want]);
			return -EINVAL;
		}
		r->set[f] = (__u8)(id + 1);
	}
	return 0;
}

int ctl_rule_compile(const struct ctl_rule_spec *spec, struct ctlua_rule *out, char *why,
		     size_t len)
{
	struct ctlua_rule r;
	int proto = 0, sfam, dfam, family;

	memset(&r, 0, sizeof(r));
	if (spec->proto && (proto = ctl_proto_parse(spec->proto)) < 0) {
		snprintf(why, len, "field 'proto': '%s' is not \"tcp\" or \"udp\"", spec->proto);
		return -EINVAL;
	}
	r.proto = (__u8)proto;
	if ((sfam = compile_prefix("src", spec->src, r.src, r.src_mask, why, len)) < 0 ||
	    (dfam = compile_prefix("dst", spec->dst, r.dst, r.dst_mask, why, len)) < 0)
		return -EINVAL;
	if (sfam && dfam && sfam != dfam) {
		snprintf(why, len, "'src' and 'dst' are of different address families");
		return -EINVAL;
	}
	family = sfam ? sfam : dfam;
	if (spec->family) {
		if (family && family != spec->family) {
			snprintf(why, len, "field 'family' does not match the addresses");
			return -EINVAL;
		}
		family = spec->family;
	}
	r.family = (__u8)family;
	if (compile_port("dport", &spec->dport, &r.dport_lo, &r.dport_hi, why, len) ||
	    compile_port("sport", &spec->sport, &r.sport_lo, &r.sport_hi, why, len))
		return -EINVAL;
	if (compile_sets(spec, &r, why, len))
		return -EINVAL;
	r.verdict = spec->verdict;
	r.verdict.rule_id = 0;
	*out = r;
	return 0;
}

void ctl_rules_init(struct ctl_rules *t)
{
	/*
	 * entries past n are never read: a table of 16384 is 2.6 MB, left untouched so that
	 * its pages are not made resident until rules fill them
	 */
	t->n = 0;
	t->last_id = 0;
}

void ctl_rules_copy(struct ctl_rules *to, const struct ctl_rules *from)
{
	memcpy(to->e, from->e, from->n * sizeof(from->e[0]));
	to->n = from->n;
	to->last_id = from->last_id;
}

int ctl_rules_add(struct ctl_rules *t, struct ctlua_rule *r, long long priority)
{
	unsigned int pos;

	if (t->n >= CTLUA_MAX_RULES)
		return -E2BIG;
	r->id = r->verdict.rule_id = t->last_id + 1;
	/* after the last rule of the same or a lower priority: ties keep their order */
	for (pos = t->n; pos > 0 && t->e[pos - 1].priority > priority; pos--)
		;
	memmove(&t->e[pos + 1], &t->e[pos], (t->n - pos) * sizeof(t->e[0]));
	t->e[pos].rule = *r;
	t->e[pos].priority = priority;
	t->n++;
	t->last_id++;
	return (int)pos;
}

void ctl_rules_undo_add(struct ctl_rules *t, int pos)
{
	struct ctl_rule_entry gone;

	ctl_rules_remove(t, (unsigned int)pos, &gone);
	t->last_id--;
}

int ctl_rules_find(const struct ctl_rules *t, long long id)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->e[i].rule.id == id)
			return (int)i;
	return -ENOENT;
}

void ctl_rules_remove(struct ctl_rules *t, unsigned int pos, struct ctl_rule_entry *gone)
{
	*gone = t->e[pos];
	memmove(&t->e[pos], &t->e[pos + 1], (t->n - pos - 1) * sizeof(t->e[0]));
	t->n--;
}

void ctl_rules_restore(struct ctl_rules *t, unsigned int pos, const struct ctl_rule_entry *gone)
{
	memmove(&t->e[pos + 1], &t->e[pos], (t->n - pos) * sizeof(t->e[0]));
	t->e[pos] = *gone;
	t->n++;
}

unsigned int ctl_rules_flatten(const struct ctl_rules *t, struct ctlua_rule *out)
{
	for (unsigned int i = 0; i < t->n; i++)
		out[i] = t->e[i].rule;
	return t->n;
}

unsigned int ctl_rules_set_refs(const struct ctl_rules *t)
{
	__u32 seen[CTLUA_SET_FIELDS] = { 0 };	/* bit id: the field names set id */
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->n; i++)
		for (int f = 0; f < CTLUA_SET_FIELDS; f++) {
			unsigned int v = t->e[i].rule.set[f];

			if (v && !(seen[f] & 1u << (v - 1))) {
				seen[f] |= 1u << (v - 1);
				n++;
			}
		}
	return n;
}

int ctl_rule_prefix_len(const __be32 mask[4])
{
	int bits = 0;

	for (int i = 0; i < 4; i++)
		bits += __builtin_popcount(mask[i]);
	return bits;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * arg_keys.c - the fields each ct function accepts in its option tables, kept in one
 * place: the argument checkers refuse any other field with these lists, and the shell
 * completes `ct.rule{pro<TAB>` from them, so the two cannot drift apart.
 */
#include <stddef.h>
#include <string.h>
#include "arg_keys.h"

#define OPTS_KEYS	"timeout", "status", "mark"	/* the opts of the Conventions */
/* what a verdict adds: where its entry goes and how it is translated */
#define XLAT_KEYS	"zone", "snat", "dnat"
/* what the kfuncs' struct bpf_ct_opts and their size arguments take (KERNEL.md) */
#define LOOKUP_KEYS	"netns", "zone", "l4proto", "dir", "reserved", "tuple_size", "opts_size"

const char *const ctl_keys_tuple[] = { "src", "dst", "sport", "dport", "proto", NULL };
const char *const ctl_keys_opts[] = { OPTS_KEYS, XLAT_KEYS, NULL };
/* "id", "counts": what ct.rules() shows, taken back and ignored (the rule is new) */
const char *const ctl_keys_rule[] = { "proto", "family", "src", "dst", "sport", "dport",
				      "src_set", "dst_set", "sport_set", "dport_set", "action",
				      OPTS_KEYS, XLAT_KEYS, "priority", "id", "counts", "limit",
				      NULL };
/* a rule's limit; "id": what ct.rules() shows, ignored */
const char *const ctl_keys_limit[] = { "rate", "burst", "per", "over", "name", "id", NULL };
const char *const ctl_keys_limit_change[] = { "rate", "burst", "over", NULL };
/* the default: its opts may carry a rate limit, as a rule's do */
const char *const ctl_keys_default[] = { OPTS_KEYS, XLAT_KEYS, "limit", NULL };
const char *const ctl_keys_policy_default[] = { "action", OPTS_KEYS, XLAT_KEYS, "limit", NULL };
const char *const ctl_keys_policy[] = { "mode", "default", "rules", NULL };
const char *const ctl_keys_config[] = { "verdicts", "verdict_idle", "pin", "when_stopped", NULL };
const char *const ctl_keys_attach[] = { "dir", "wait", "takeover", "orphans", "hook",
					"xdp_mode", NULL };
const char *const ctl_keys_alloc[] = { OPTS_KEYS, LOOKUP_KEYS, "snat", "dnat", NULL };
const char *const ctl_keys_change[] = { OPTS_KEYS, LOOKUP_KEYS, NULL };
const char *const ctl_keys_lookup[] = { LOOKUP_KEYS, NULL };
const char *const ctl_keys_alloc_many[] = { OPTS_KEYS, LOOKUP_KEYS, "snat", "dnat", "threads",
					    NULL };
const char *const ctl_keys_zone[] = { "id", "dir", NULL };
const char *const ctl_keys_nat[] = { "addr", "port", NULL };
const char *const ctl_keys_filter[] = { "src", "dst", "sport", "dport", "proto", "family",
					"mark", "zone", "netns", NULL };
const char *const ctl_keys_delete[] = { "zone", "netns", NULL };

static const struct {
	const char *func;
	int arg;
	const char *const *keys;
} by_arg[] = {
	{ "ct.tuple", 1, ctl_keys_tuple },
	{ "ct.alloc", 1, ctl_keys_tuple },
	{ "ct.alloc", 2, ctl_keys_alloc },
	{ "ct.change", 1, ctl_keys_tuple },
	{ "ct.change", 2, ctl_keys_change },
	{ "ct.lookup", 1, ctl_keys_tuple },
	{ "ct.lookup", 2, ctl_keys_lookup },
	{ "ct.alloc_many", 2, ctl_keys_alloc_many },
	{ "ct.delete", 1, ctl_keys_tuple },
	{ "ct.delete", 2, ctl_keys_delete },
	{ "ct.verdict", 1, ctl_keys_tuple },
	{ "ct.verdict", 3, ctl_keys_opts },
	{ "ct.forget", 1, ctl_keys_tuple },
	{ "ct.default", 2, ctl_keys_default },
	{ "ct.rule", 1, ctl_keys_rule },
	{ "ct.limit", 2, ctl_keys_limit_change },
	{ "ct.policy", 1, ctl_keys_policy },
	{ "ct.config", 1, ctl_keys_config },
	{ "ct.attach", 2, ctl_keys_attach },
	{ "ct.entries", 1, ctl_keys_filter },
	{ "ct.flush", 1, ctl_keys_filter },
};

const char *const *ctl_arg_keys(const char *func, int arg, const char *field)
{
	const char *const *keys = NULL;

	for (size_t i = 0; i < sizeof(by_arg) / sizeof(by_arg[0]) && !keys; i++)
		if (by_arg[i].arg == arg && !strcmp(by_arg[i].func, func))
			keys = by_arg[i].keys;
	if (!keys || !field || !*field)
		return keys;
	for (int i = 0; keys[i]; i++)	/* a nested table only where its field is accepted */
		if (!strcmp(keys[i], field)) {
			if (!strcmp(field, "zone") && keys != ctl_keys_filter && keys != ctl_keys_delete)
				return ctl_keys_zone;
			if (!strcmp(field, "snat") || !strcmp(field, "dnat"))
				return ctl_keys_nat;
			if (!strcmp(field, "limit"))
				return ctl_keys_limit;
			if (!strcmp(field, "default") && keys == ctl_keys_policy)
				return ctl_keys_policy_default;
			if (!strcmp(field, "rules") && keys == ctl_keys_policy)
				return ctl_keys_rule;	/* each item of the list: rules = {{ */
		}
	return NULL;
}

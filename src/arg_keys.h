/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * arg_keys.h - the fields each ct function accepts in its option tables: the one list
 * its argument checker reads (ctl_check_keys) and the shell's completion offers.
 */
#ifndef CTLUA_ARG_KEYS_H
#define CTLUA_ARG_KEYS_H

/* NULL-terminated lists of field names, one per kind of table. */
extern const char *const ctl_keys_tuple[];	/* ct.tuple{...} and every tuple as a table */
extern const char *const ctl_keys_opts[];	/* timeout, status, mark, zone, snat, dnat: verdicts */
extern const char *const ctl_keys_rule[];	/* ct.rule{...}, ct.policy's rules */
extern const char *const ctl_keys_limit[];	/* a rule's limit = {...} */
extern const char *const ctl_keys_default[];	/* ct.default's opts, limit too */
extern const char *const ctl_keys_policy_default[];	/* ct.policy's default = {...} */
extern const char *const ctl_keys_limit_change[];	/* ct.limit(id, {...}) */
extern const char *const ctl_keys_policy[];	/* ct.policy{...} */
extern const char *const ctl_keys_config[];	/* ct.config{...} */
extern const char *const ctl_keys_attach[];	/* ct.attach(ifname, {...}) */
extern const char *const ctl_keys_alloc[];	/* ct.alloc(tuple, {...}) */
extern const char *const ctl_keys_change[];	/* ct.change(tuple, {...}) */
extern const char *const ctl_keys_lookup[];	/* ct.lookup(tuple, {...}) */
extern const char *const ctl_keys_alloc_many[];	/* ct.alloc_many(tuples, {...}) */
extern const char *const ctl_keys_zone[];	/* zone = {...} */
extern const char *const ctl_keys_nat[];	/* snat = {...}, dnat = {...} */
extern const char *const ctl_keys_filter[];	/* ct.entries{...}, ct.flush{...} */
extern const char *const ctl_keys_delete[];	/* ct.delete(tuple, {...}) */

/*
 * The fields the table argument @arg (from 1) of the function @func ("ct.alloc") takes,
 * or, with @field, the fields of its nested table @field ("zone"; for ct.policy's
 * "rules", those of each rule of the list); NULL when there is no such table.
 */
const char *const *ctl_arg_keys(const char *func, int arg, const char *field);

#endif

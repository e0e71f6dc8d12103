/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap.h - the TAP output the C unit tests share: one numbering for all their files. */
#ifndef CTLUA_TEST_TAP_H
#define CTLUA_TEST_TAP_H

#include <stdbool.h>

extern int tests_run, tests_failed;

/* ok(cond, name...): one TAP line; returns cond so callers can add diagnostics. */
bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A "# ..." line on stderr, after stdout is flushed so the two stay in order. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tests/unit/pretty.c */
void test_pretty(void);
/* tests/unit/fields.c */
void test_fields(void);
/* tests/unit/rules.c; tests/unit/ratelimit.c */
void test_rules(void);
void test_ratelimit(void);
/* tests/unit/rule_class.c; the second needs root and runs alone */
void test_rule_class(void);
int test_rule_class_kernel(const char *pin);
/* tests/unit/rule_counts.c */
void test_rule_counts(void);
/* tests/unit/sandbox.c */
void test_sandbox(void);
/* tests/unit/loop.c */
void test_loop(void);
/* tests/unit/link_watch.c: needs root and a namespace of its own, and runs alone */
int test_link_watch_kernel(void);
/* json.c */
void test_json(void);
/* tests/unit/sets.c */
void test_sets(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy_check.h - `ctlua check POLICY`: a policy validated with no kernel writes, as
 * `nft -c` checks a ruleset (doc/service.md, "check POLICY").
 */
#ifndef CTLUA_POLICY_CHECK_H
#define CTLUA_POLICY_CHECK_H

#include "service.h"

/*
 * Run @path's top level against a dry-run `ct` (ctl_stage_dry): report every problem
 * with its file and line on stderr, or print on stdout what the policy would do.
 * Returns the exit status: 0 without problems, 1 with any.
 */
int ctl_policy_check(const char *path, const struct ctl_service_opts *o);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.h - `ctlua replay FILE POLICY [--diff OTHER]`: a policy's decisions on the
 * events of a recording (ctlua run --record), with no kernel and no root
 * (doc/replay.md).
 */
#ifndef CTLUA_REPLAY_H
#define CTLUA_REPLAY_H

#include "service.h"

/*
 * Replay the recording @file through @policy (and, with @other, through it too,
 * printing only the events whose decisions differ). Each policy's top level runs
 * against a dry `ct` (ctl_stage_dry); decisions are made as the TC program makes
 * them, and its callbacks get events built from the record. Returns the exit status:
 * 0; 1 when a policy failed, a line was malformed, or (with @other) decisions differ.
 */
int ctl_replay(const char *file, const char *policy, const char *other,
	       const struct ctl_service_opts *o);

#endif

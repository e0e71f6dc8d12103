/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recorder.h - `ctlua run --record FILE` and ct.record(FILE): every event the service reads, as JSON lines
 * under a versioned schema that `ctlua replay` reads back (doc/replay.md).
 */
#ifndef CTLUA_RECORDER_H
#define CTLUA_RECORDER_H

#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

/* The schema's name and version, in the header line of every recording. */
#define CTL_RECORD_SCHEMA	"ctlua-record"
#define CTL_RECORD_VERSION	1

struct ctl_recorder;
struct ctl_event_ctx;

/*
 * Create (or truncate) @path and write the header line, naming @policy. Returns 0 with
 * the recorder in *@r, or -errno with one sentence in @msg.
 */
int ctl_recorder_open(struct ctl_recorder **r, const char *path, const char *policy,
		      char *msg, size_t len);

/*
 * A tap (ct_host.h, ctl_events_tap): event @e with its context, and its callback's
 * answer, as one line. Buffered: ctl_recorder_flush writes it out. A line that cannot
 * be written is counted and reported once.
 */
void ctl_recorder_event(void *r, const struct ctlua_event *e, const struct ctl_event_ctx *ctx,
			int answer);

/* From now on write each line out as it is made (ct.record: few events, watched). */
void ctl_recorder_flush_lines(struct ctl_recorder *r);

/* Write what is buffered (the end of a drain batch). */
void ctl_recorder_flush(struct ctl_recorder *r);

/* Flush, close, report lines lost, free. NULL is fine. */
void ctl_recorder_close(struct ctl_recorder *r);

#endif

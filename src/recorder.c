// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * recorder.c - `ctlua run --record FILE` and ct.record (recorder.h): a header line, then one JSON
 * line per event the service reads, written by json.c from the event's field table
 * (so a recording holds exactly the fields a callback reads), and the answer of its
 * callback. The schema is in doc/replay.md; replay.c reads it back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ct_host.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "recorder.h"

struct ctl_recorder {
	FILE *f;
	char *path;
	struct ctl_json j;
	unsigned long lost;	/* lines not written (disk full, out of memory) */
	bool warned;
	bool flush_lines;	/* each line written out at once (ct.record) */
};

/* Write the line in r->j, or count it lost (and say so once). */
static void put_line(struct ctl_recorder *r)
{
	if (!r->j.failed && fwrite(r->j.buf, 1, r->j.len, r->f) == r->j.len)
		return;
	r->lost++;
	if (!r->warned)
		ctl_log(CTL_LOG_WARNING, "recording: cannot write to '%s' (%s): events are lost",
			r->path, r->j.failed ? "out of memory" : strerror(errno));
	r->warned = true;
}

int ctl_recorder_open(struct ctl_recorder **out, const char *path, const char *policy,
		      char *msg, size_t len)
{
	struct ctl_recorder *r = calloc(1, sizeof(*r));
	struct timespec now;
	int err;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	r->f = fopen(path, "w");
	if (!r->f) {
		err = -errno;
		snprintf(msg, len, "cannot create '%s' (%s)", path, strerror(-err));
		free(r->path);
		free(r);
		return err;
	}
	ctl_json_init(&r->j);
	clock_gettime(CLOCK_REALTIME, &now);
	ctl_json_begin(&r->j);
	ctl_json_str(&r->j, "type", "header", 6);
	ctl_json_str(&r->j, "schema", CTL_RECORD_SCHEMA, strlen(CTL_RECORD_SCHEMA));
	ctl_json_int(&r->j, "version", CTL_RECORD_VERSION);
	ctl_json_str(&r->j, "ctlua", CTLUA_VERSION, strlen(CTLUA_VERSION));
	ctl_json_str(&r->j, "policy", policy, strlen(policy));
	ctl_json_num(&r->j, "time", (double)now.tv_sec + now.tv_nsec / 1e9);
	ctl_json_end(&r->j);
	put_line(r);
	fflush(r->f);
	*out = r;
	return 0;
}

void ctl_recorder_event(void *ctx, const struct ctlua_event *e, const struct ctl_event_ctx *ectx,
			int answer)
{
	struct ctl_recorder *r = ctx;
	const char *a = answer >= 0 && answer < CTLUA_ACT_NR ? ctl_action_names[answer] :
			answer == CTL_TAP_NO_ANSWER ? "none" :
			answer == CTL_TAP_FAILED ? "error" : NULL;

	ctl_json_begin(&r->j);
	ctl_json_str(&r->j, "type", "event", 5);
	ctl_json_record(&r->j, &ctl_event_record, e, ectx);
	if (a)
		ctl_json_str(&r->j, "answer", a, strlen(a));
	ctl_json_end(&r->j);
	put_line(r);
	if (r->flush_lines)
		ctl_recorder_flush(r);
}

void ctl_recorder_flush_lines(struct ctl_recorder *r)
{
	r->flush_lines = true;
}

void ctl_recorder_flush(struct ctl_recorder *r)
{
	if (r && fflush(r->f) && !r->warned) {
		ctl_log(CTL_LOG_WARNING, "recording: cannot write to '%s' (%s): events are lost",
			r->path, strerror(errno));
		r->warned = true;
	}
}

void ctl_recorder_close(struct ctl_recorder *r)
{
	if (!r)
		return;
	if (fclose(r->f) && !r->warned)
		r->lost++;
	if (r->lost)
		ctl_log(CTL_LOG_WARNING, "recording: %lu event lines were not written to '%s'",
			r->lost, r->path);
	ctl_json_free(&r->j);
	free(r->path);
	free(r);
}

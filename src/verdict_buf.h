/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verdict_buf.h - per-flow verdict writes buffered on the host and written to the
 * kernel's verdict table in batches (bpf_map_update_batch): at the end of a callback
 * batch, a shell line or a script, on ct.sync(), when the buffer is full, and at most
 * CTL_VBUF_DEADLINE_NS after the first write that waits (a thread keeps that deadline
 * whatever Lua does meanwhile). Reads and deletes see the buffered writes.
 *
 * The table's bounds keep their meaning: the host knows which flows it has stored, so
 * a write that needs a new slot in a full table is not buffered but made at once, with
 * the reclaim of idle verdicts and the ENOSPC of ctl_dp_put_verdict, to its caller.
 * Every function returns 0 or -errno.
 */
#ifndef CTLUA_VERDICT_BUF_H
#define CTLUA_VERDICT_BUF_H

#include <stddef.h>
#include <linux/types.h>
#include "ctlua.h"

/* How long a write may wait in the buffer, and how many may wait at once. */
#define CTL_VBUF_DEADLINE_NS	900000	/* + waking and writing: in the kernel within 1 ms */
#define CTL_VBUF_SLOTS		4096

struct ctl_dp;
struct ctl_vbuf;

/*
 * A buffer in front of @dp's verdict table, with its flusher thread; the table must be
 * empty (the host is its only writer: it counts the flows stored). *@out on success.
 */
int ctl_vbuf_new(struct ctl_vbuf **out, struct ctl_dp *dp);
/* Write what waits (errors are lost: the table goes with the datapath), stop the thread. */
void ctl_vbuf_free(struct ctl_vbuf *b);

/*
 * Store (or replace) the verdict for @f. Buffered when the flow has a slot or the table
 * has room; otherwise what waits is written first and this one at once. On failure the
 * error is ctl_dp_put_verdict's (-ENOSPC: the table is full); @fail, when not NULL,
 * receives the flow it is about (ctl_dp_verdict_error words it): @f, or a buffered
 * write that the kernel refused when it was written (see ctl_vbuf_sync).
 */
int ctl_vbuf_put(struct ctl_vbuf *b, const struct ctlua_flow *f, const struct ctlua_verdict *v,
		 struct ctlua_flow *fail);

/* The verdict stored for @f, the buffered one first; -ENOENT when there is none. */
int ctl_vbuf_get(struct ctl_vbuf *b, const struct ctlua_flow *f, struct ctlua_verdict *v);

/* Remove the verdict for @f, buffered and stored; -ENOENT when there was none. */
int ctl_vbuf_del(struct ctl_vbuf *b, const struct ctlua_flow *f);

/*
 * Write every buffered verdict now. A write the kernel refuses (the table filled by
 * someone else, ENOMEM) is retried one by one with ctl_dp_put_verdict (reclaim
 * included); if that fails too, it is dropped, counted, and the error returned, with its
 * flow in *@fail (when not NULL). ctl_vbuf_put does this first (a refusal it reports
 * leaves its own write unmade); ctl_vbuf_get and ctl_vbuf_del see refused writes as
 * waiting ones.
 */
int ctl_vbuf_sync(struct ctl_vbuf *b, struct ctlua_flow *fail);

/*
 * A drain batch begins (@on) or ends. Within one, a first waiting write does not wake
 * the thread: the batch's end writes it (ctl_vbuf_sync), and later writes check the
 * deadline themselves. Whatever still waits when the batch ends is the thread's again.
 */
void ctl_vbuf_batch(struct ctl_vbuf *b, bool on);

/* How many writes wait (for tests and the shell). */
unsigned int ctl_vbuf_pending(struct ctl_vbuf *b);

#endif

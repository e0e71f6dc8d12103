/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain.h - what each errno means when a conntrack kfunc returns it (KERNEL.md). */
#ifndef CTLUA_EXPLAIN_H
#define CTLUA_EXPLAIN_H

#include <stdbool.h>

struct ctl_explanation {
	int err;		/* positive errno */
	const char *calls;	/* the kfuncs that return it */
	const char *since;	/* the first kernel where they can */
	const char *brief;	/* one line, for error messages */
	const char *detail;	/* what to check */
};

/* The explanation for @err (either sign), or NULL when the kfuncs never return it. */
const struct ctl_explanation *ctl_explain(int err);

/* The errno named @name ("EPROTO", any case), or 0. */
int ctl_errno_parse(const char *name);

/* Errno numbers are 1 to this (the kernel's MAX_ERRNO); a negative one means the same. */
#define CTL_ERRNO_MAX	4095

/*
 * An errno as a user types it on a command line: a name (as ctl_errno_parse) or a
 * decimal number from -CTL_ERRNO_MAX to CTL_ERRNO_MAX other than 0, with nothing
 * around it ("71abc", "71 " and "" are not numbers). Returns 0 with the errno (either
 * sign) in *@err; -ERANGE for a number outside that range (99999999999999999999
 * included), -EDOM for 0, -EINVAL for anything else.
 */
int ctl_errno_text(const char *text, int *err);

/*
 * Write "EPROTO (71): ..." with the calls, the kernel and the detail on the lines after
 * into @buf; an errno the kfuncs never return gets one line saying so. Returns @buf.
 */
char *ctl_explain_format(int err, char *buf, int len);

/* Every explained errno, in table order; ends with 0. */
int ctl_explained(int i);

/*
 * The word for enum ctlua_req_stage @stage ("alloc", "status", "snat", "dnat", "insert",
 * "lookup", "change_timeout", "change_status"), as the event field `stage` reads;
 * NULL for CTLUA_STAGE_NONE and unknown values. ctl_stage_parse is its inverse (0 for
 * an unknown word).
 */
const char *ctl_stage_name(unsigned int stage);
int ctl_stage_parse(const char *name);
/* The kfunc @stage stands for ("bpf_ct_insert_entry"), or NULL. */
const char *ctl_stage_call(unsigned int stage);

struct ctlua_event;
struct ctlua_verdict;
struct ctl_features;

/* What an event's explanation knows beside the record; any member may be NULL. */
struct ctl_event_why {
	const char *ifname;
	const struct ctlua_verdict *verdict;	/* the deciding rule's, as it is now */
	const struct ctlua_limit *limit;	/* its limit's spec, if it has one (or NULL) */
	const struct ctl_features *feat;	/* the running kernel's (probe.h) */
	bool xdp;				/* it came from an XDP link of this ctlua */
};

/*
 * Write into @buf (@len bytes, truncated if need be) what happened to event @e: the
 * kfuncs that ran in order and what each answered, what decided, the kernel's errno
 * explained, and the facts of kernel versions that applied. Returns @buf.
 */
char *ctl_explain_event(const struct ctlua_event *e, const struct ctl_event_why *w, char *buf,
			size_t len);

#endif

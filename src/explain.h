/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain.h - what each errno means when a conntrack kfunc returns it (KERNEL.md). */
#ifndef CTLUA_EXPLAIN_H
#define CTLUA_EXPLAIN_H

struct ctl_explanation {
	int err;		/* positive errno */
	const char *calls;	/* the kfuncs that return it */
	const char *since;	/* the first kernel where they can */
	const char *brief;	/* one line, for error messages */
	const char *detail;	/* what to check */
};

/* The explanation for @err (either sign), or NULL when the kfuncs never return it. */
const struct ctl_explanation *ctl_explain(int err);

/* The errno named @name ("EPROTO"), or 0. */
int ctl_errno_parse(const char *name);

/*
 * Write "EPROTO (71): ..." with the calls, the kernel and the detail on the lines after
 * into @buf; an errno the kfuncs never return gets one line saying so. Returns @buf.
 */
char *ctl_explain_format(int err, char *buf, int len);

/* Every explained errno, in table order; ends with 0. */
int ctl_explained(int i);

#endif

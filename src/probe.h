/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h - can this kernel and this user run ctlua? Asked before anything is loaded. */
#ifndef CTLUA_PROBE_H
#define CTLUA_PROBE_H

#include <stddef.h>

/* The kfuncs the datapath calls, NULL-terminated. */
extern const char *const ctl_needed_kfuncs[];

/*
 * Check BTF, capabilities (CAP_BPF, CAP_NET_ADMIN) and every needed kfunc.
 * Returns 0, or -errno with one sentence naming what is missing in @msg.
 */
int ctl_probe(char *msg, size_t len);

#endif

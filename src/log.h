/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - the host's messages on stderr. Outside a service they read as they always
 * have ("ctlua: message"); `ctlua run` turns levels on, and then every line carries
 * its level: "ctlua: error: ..." on a terminal or a file, or the sd-daemon priority
 * prefix ("<3>...") when stderr is the journal's stream, so journald records levels.
 */
#ifndef CTLUA_LOG_H
#define CTLUA_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The syslog priorities sd-daemon's prefixes use (<systemd/sd-daemon.h>: SD_ERR ...). */
enum ctl_log_level {
	CTL_LOG_ERR = 3,
	CTL_LOG_WARNING = 4,
	CTL_LOG_INFO = 6,
};

/*
 * Turn levels on (the service) or off (the default). With @on, whether stderr is the
 * journal is decided now, from $JOURNAL_STREAM ("DEVICE:INODE") against stderr's fstat.
 */
void ctl_log_levels(bool on);

/* Whether levels are on (a service is logging). */
bool ctl_log_leveled(void);

/*
 * Write @fmt as one message at @level: each of its lines is prefixed as ctl_log_levels
 * says, and a newline ends it. Without levels the prefix is "PROG: " on the first line
 * only (PROG is ctl_progname), as the command's messages always were.
 */
void ctl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_vlog(int level, const char *fmt, va_list ap);

struct ctlua_event;
struct ctl_event_ctx;

/*
 * Turn JSON lines on: from now on every message is an object {"type":"log", ...} on
 * stdout and not a line on stderr, and ctl_log_event writes events; @policy (kept, not
 * copied) names the policy in each. Stdout is written through a descriptor of its own
 * that never blocks: a line that does not fit (a full pipe) is dropped and counted, and
 * the next line that fits is preceded by a warning that says how many were. Returns 0,
 * or -errno when stdout cannot be written so (nothing changed then).
 */
int ctl_log_json(const char *policy);

/* Whether JSON lines are on. */
bool ctl_log_json_on(void);

/* Write event @e (its context @ctx) as {"type":"event", ...}; nothing without JSON. */
void ctl_log_event(const struct ctlua_event *e, const struct ctl_event_ctx *ctx);

/* Write what a policy printed, @len bytes at @s, as {"type":"print", ...}. */
void ctl_log_print(const char *s, size_t len);

/*
 * The end of JSON lines: what a line left unwritten is given up to 200 ms to go out,
 * lines still counted as dropped are reported on stderr, and stdout's descriptor is
 * closed. Messages go to stderr again after this.
 */
void ctl_log_json_finish(void);

/*
 * Also hand every message (whole, before its prefixes) to @fn, NULL: no one. The
 * control socket (control.c) keeps the last warnings and errors this way.
 */
void ctl_log_tap(void (*fn)(int level, const char *msg));

#endif

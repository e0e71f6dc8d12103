/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watchdog.h - the last resort behind the stop signals: when Lua does not come back
 * within a grace time after SIGINT, SIGTERM or SIGHUP (a long C call such as a huge
 * string.rep or a blocking read, a looping __gc finalizer), a thread outside Lua
 * removes the tc filters ctlua added and ends the process as the signal would have.
 */
#ifndef CTLUA_WATCHDOG_H
#define CTLUA_WATCHDOG_H

/* How long a stop signal may go unhonoured before the watchdog acts. */
#define CTL_WATCHDOG_GRACE_MS	1500

/*
 * Start the watchdog thread (once; later calls do nothing). It blocks every signal, so
 * the handlers run on the Lua thread. Returns 0 or -errno.
 */
int ctl_watchdog_start(void);

/*
 * A stop signal @signo arrived: unless already armed, act in CTL_WATCHDOG_GRACE_MS. Safe
 * in a signal handler; does nothing before ctl_watchdog_start.
 */
void ctl_watchdog_arm(int signo);

/* The stop was honoured without ending the process (the shell's Ctrl-C): stand down. */
void ctl_watchdog_disarm(void);

/*
 * Have the watchdog call @fn just before it ends the process (the shell gives the
 * terminal its settings back). @fn runs on the watchdog's thread while the Lua thread is
 * stuck: it must not take locks that thread may hold. One at a time; NULL removes it.
 */
void ctl_watchdog_last_words(void (*fn)(void));

#endif

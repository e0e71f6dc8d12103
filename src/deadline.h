/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deadline.h - points in CLOCK_MONOTONIC time a few milliseconds ahead, and whether one
 * has passed: the callback budget (sandbox.c), the shell's drain limit (lua_events.c)
 * and the watchdog's grace (watchdog.c) all count time this way.
 */
#ifndef CTLUA_DEADLINE_H
#define CTLUA_DEADLINE_H

#include <stdbool.h>
#include <time.h>

/* @t = now (CLOCK_MONOTONIC) + @ms. Async-signal-safe. */
static inline void ctl_deadline_after(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* Whether CLOCK_MONOTONIC has reached @t. */
static inline bool ctl_deadline_past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

#endif

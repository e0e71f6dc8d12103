/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deadline.h - points in CLOCK_MONOTONIC time a few milliseconds ahead, and whether one
 * has passed: the callback budget (sandbox.c), the shell's drain limit (lua_events.c)
 * the watchdog's grace (watchdog.c) and the verdict writer's deadline (verdict_buf.c)
 * all count time this way.
 */
#ifndef CTLUA_DEADLINE_H
#define CTLUA_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* @clock's time now, in ns. */
static inline int64_t ctl_now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* @t = now (CLOCK_MONOTONIC) + @ns. Async-signal-safe. */
static inline void ctl_deadline_after_ns(struct timespec *t, long long ns)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ns / 1000000000;
	t->tv_nsec += ns % 1000000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* @t = now (CLOCK_MONOTONIC) + @ms. Async-signal-safe. */
static inline void ctl_deadline_after(struct timespec *t, int ms)
{
	ctl_deadline_after_ns(t, (long long)ms * 1000000);
}

/* Whether CLOCK_MONOTONIC has reached @t. */
static inline bool ctl_deadline_past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

#endif

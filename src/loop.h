/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop.h - one epoll set for every descriptor the host waits on (the ring buffer so far),
 * plus SIGINT/SIGTERM/SIGHUP turned into a readable pipe so a wait ends when they arrive.
 */
#ifndef CTLUA_LOOP_H
#define CTLUA_LOOP_H

#include <stdbool.h>

struct ctl_loop;

/* Returns 0 or -errno. */
int ctl_loop_new(struct ctl_loop **out);
void ctl_loop_free(struct ctl_loop *loop);

/* Watch @fd for input; ctl_loop_wait reports it as @tag (>= 0). Returns 0 or -errno. */
int ctl_loop_add(struct ctl_loop *loop, int fd, int tag);

/*
 * Wait up to @timeout_ms (-1: no limit) and store the tags of ready descriptors in @tags.
 * Returns how many, 0 on timeout, or -EINTR when a caught signal arrived (see below).
 */
int ctl_loop_wait(struct ctl_loop *loop, int timeout_ms, int *tags, int max);

/*
 * While caught (between catch and release, which nest), SIGINT, SIGTERM and SIGHUP do not kill
 * the process: they are recorded and end the current ctl_loop_wait. Release restores
 * the handlers that were there before. Returns 0 or -errno.
 */
int ctl_signals_catch(void);
void ctl_signals_release(void);

/* Whether a caught signal is waiting to be taken. */
bool ctl_signal_pending(void);

/* The signal recorded since the last call (0 if none), and forget it. */
int ctl_signal_take(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop.h - the host's one wait and its one signal mechanism. ct.run, ct.poll, ct.watch and
 * the shell all wait here: on an epoll set of descriptors (the terminal), one event source
 * whose producer wakes the reader only when it sleeps (the ring buffer), timers (the
 * wait's timeout is cut to the soonest), and
 * SIGINT/SIGTERM/SIGHUP, which a self-pipe turns into a readable descriptor so a wait
 * ends the moment they arrive.
 */
#ifndef CTLUA_LOOP_H
#define CTLUA_LOOP_H

#include <stdbool.h>
#include <linux/types.h>
#include <lua.h>

struct ctl_loop;

/* Returns 0 or -errno. */
int ctl_loop_new(struct ctl_loop **out);
void ctl_loop_free(struct ctl_loop *loop);

/*
 * Watch @fd for input; ctl_loop_wait reports it as @tag (>= 0). A file epoll cannot watch
 * (a regular file, /dev/null) is reported ready at every wait (two such at most).
 * Returns 0 or -errno.
 */
int ctl_loop_add(struct ctl_loop *loop, int fd, int tag);

/*
 * A descriptor added with ctl_loop_add: with @output, also report it (as its tag) when
 * it can be written (EPOLLOUT), for a writer whose buffer is waiting; without, input
 * only again. ctl_loop_remove stops watching it. Return 0 or -errno.
 */
int ctl_loop_want_output(struct ctl_loop *loop, int fd, int tag, bool output);
int ctl_loop_remove(struct ctl_loop *loop, int fd);

/*
 * How a ring buffer's producer and its reader agree on wakeups (bpf/ctlua.h, above
 * struct ctlua_event): the reader's "asleep" flag, and the ring's two positions, from
 * its pages mapped into this process.
 */
struct ctl_wake {
	__u64 *asleep;
	const unsigned long *producer;	/* bytes reserved: written or being written */
	const unsigned long *consumer;	/* bytes read */
};

/*
 * The event source: @fd turns readable when records wait, and @consume(@ctx) reads what
 * waits without blocking, returning how many it read (0: none; negative: stopped early,
 * more may wait, so the next wait reads again at once). With @wake (NULL: none; copied)
 * the producer wakes the reader only when the flag says it is asleep: the loop sets it
 * just before it blocks, after one more look at the ring, and clears it when it wakes;
 * after a read that found records it watches the ring for a short while before
 * blocking, so a busy reader is never woken. @fd -1 removes the source.
 * Returns 0 or -errno.
 */
int ctl_loop_set_source(struct ctl_loop *loop, int fd, int (*consume)(void *ctx), void *ctx,
			const struct ctl_wake *wake);

/*
 * Timers: before it blocks, the loop asks @next(@ctx) when the soonest is due
 * (CLOCK_MONOTONIC ns, -1: none) and wakes up by then; after every wait that no stop
 * signal ended it calls @fire(@ctx), which runs what is due. NULL @next: no timers.
 */
void ctl_loop_set_timers(struct ctl_loop *loop, __s64 (*next)(void *ctx),
			 void (*fire)(void *ctx), void *ctx);

/*
 * Wait up to @timeout_ms (-1: no limit), reading the source when it has records, and
 * store the tags of ready descriptors in @tags (at most @max). Returns how many tags,
 * 0 when the time passed (or only the source or timers had something), -EINTR when a stop signal
 * is pending (see below; it stays pending), or another -errno.
 */
int ctl_loop_wait(struct ctl_loop *loop, int timeout_ms, int *tags, int max);

/*
 * Signals. In the ctlua command (host mode), ctl_signals_install puts one handler on
 * SIGINT, SIGTERM and SIGHUP for the whole run (a SIGHUP inherited as ignored, as nohup
 * leaves it, stays ignored). A stop signal then: is recorded as pending, ends any wait,
 * interrupts the registered Lua threads with the error "interrupted" (a hook that fires
 * at every instruction until the signal is taken, so pcall cannot swallow it), and arms
 * the watchdog (watchdog.h), which ends the process if the stop is not honoured in time.
 * Returns 0 or -errno.
 */
int ctl_signals_install(void);

/*
 * ctlua run, before ctl_signals_install: SIGHUP asks for a reload instead of a stop (also
 * when inherited as ignored). It ends the wait it comes in (ctl_loop_wait returns 0),
 * interrupts no Lua code and arms no watchdog; ctl_signal_reload_take says whether one
 * came since it was last called, and takes it.
 */
void ctl_signals_hup_reloads(void);
bool ctl_signal_reload_take(void);

/* Whether ctl_signals_install was called: the ctlua command, not ct.so in another Lua. */
bool ctl_signals_hosted(void);

/*
 * Outside host mode (ct.so loaded by stock lua), ct.run and ct.poll catch the stop
 * signals only while they wait: catch and release nest, release restores the handlers
 * that were there before. In host mode both do nothing. Return 0 or -errno.
 */
int ctl_signals_catch(void);
void ctl_signals_release(void);

/*
 * While registered (calls nest, at most 4 deep), a stop signal interrupts Lua code running
 * in @L (host mode only). ctl_run_call registers the thread it calls; ct.run the thread it
 * runs callbacks on.
 */
void ctl_signals_interrupt_push(lua_State *L);
void ctl_signals_interrupt_pop(void);

/* Interrupt @L at its next instruction because a signal is pending (host mode). */
void ctl_signal_interrupt(lua_State *L);

/* The pending stop signal, or 0. */
int ctl_signal_pending(void);

/*
 * Take the pending signal (0 if none): it no longer ends waits nor interrupts Lua (the
 * hooks it set are removed). A stop stays requested until ctl_signal_honoured.
 */
int ctl_signal_take(void);

/*
 * The first stop signal since start (or since the last ctl_signal_honoured), or 0: a
 * script asked to stop must end, and ct.run returns at once from then on.
 */
int ctl_signal_stopping(void);

/*
 * The stop was answered without ending the process (the shell interrupted a line for
 * SIGINT and is back at its prompt): disarm the watchdog.
 */
void ctl_signal_honoured(void);

#endif

// SPDX-License-Identifier: GPL-2.0-or-later
/* loop.c - the host's one wait (epoll, an event source and its wakeups, timers) and its stop signals. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/types.h>
#include <lauxlib.h>
#include "ctlua.h"
#include "deadline.h"
#include "loop.h"
#include "sandbox.h"
#include "watchdog.h"

#define SIGNAL_TAG	(-1)
#define SOURCE_TAG	(-2)
#define MAX_THREADS	4
/*
 * After a read that found records, a source with a wakeup protocol is watched this long
 * before the loop sleeps: under steady traffic the reader then never sleeps and no
 * producer pays for a wakeup (doc/performance.md, "Waking the reader").
 */

struct ctl_loop {
	int epfd;
	int src_fd;			/* -1: no source */
	int (*consume)(void *ctx);
	void *ctx;
	struct ctl_wake wake;		/* asleep NULL: the source has no wakeup protocol */
	bool busy;			/* the last read found records */
	bool look;			/* read at the next wait, whatever the descriptor says */
	int always[2];			/* tags of files epoll refuses: always readable */
	int nalways;
	__s64 (*timer_next)(void *ctx);	/* NULL: no timers */
	void (*timer_fire)(void *ctx);
	void *timer_ctx;
};

/* Process-wide: a handler can reach only static storage. */
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_pending;	/* not yet taken */
static volatile sig_atomic_t sig_stopping;	/* not yet honoured */
static volatile sig_atomic_t sig_reload;	/* ctlua run: a SIGHUP not yet taken */
static bool hosted, hup_reloads;
static int catch_depth;
static struct sigaction old_int, old_term, old_hup;
/* The Lua threads a signal interrupts; written only by the thread the handler runs on. */
static lua_State *volatile interrupt_L[MAX_THREADS];
static volatile sig_atomic_t ninterrupt, interrupt_depth;

/*
 * Raised at every instruction while the signal is pending: a pcall that catches it meets
 * it again at its next instruction. Once the signal is taken, it removes itself.
 */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (!sig_pending) {
		lua_sethook(L, NULL, 0, 0);
		return;
	}
	luaL_where(L, 0);	/* inside a hook, level 0 is the Lua code that was running */
	lua_pushliteral(L, "interrupted");
	lua_concat(L, 2);
	lua_error(L);
}

void ctl_signal_interrupt(lua_State *L)
{
	/* Lua documents lua_sethook as safe to call from a signal handler (lua.c does) */
	lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
}

static void interrupt_all(void)
{
	for (int i = 0; i < ninterrupt; i++)
		if (interrupt_L[i])
			ctl_signal_interrupt(interrupt_L[i]);
}

static void on_signal(int signo)
{
	int saved = errno;

	if (signo == SIGHUP && hup_reloads) {	/* no stop: ends the wait, interrupts nothing */
		sig_reload = 1;
		if (write(sig_pipe[1], "", 1) < 0) {
			/* the pipe is full: a wake-up is already pending */
		}
		errno = saved;
		return;
	}
	/* a SIGTERM is not hidden behind an earlier SIGINT */
	if (!sig_pending || signo != SIGINT)
		sig_pending = signo;
	if (hosted) {
		if (!sig_stopping)
			sig_stopping = signo;
		interrupt_all();
		ctl_budget_interrupt();	/* and the C loops a callback runs (match.c, sort) */
		ctl_watchdog_arm(signo);
	}
	if (write(sig_pipe[1], "", 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static int sig_pipe_open(void)
{
	if (sig_pipe[0] >= 0)
		return 0;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	return 0;
}

int ctl_signals_install(void)
{
	/*
	 * SA_RESTART as signal() gives: a read of the terminal goes on (the hook interrupts
	 * the Lua code after it); epoll_wait and ppoll end with EINTR whatever the flag.
	 */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART }, old;
	int err = sig_pipe_open();

	if (err)
		return err;
	hosted = true;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* nohup and shells start a process with SIGHUP ignored so that it outlives them */
	sigaction(SIGHUP, NULL, &old);
	if (old.sa_handler != SIG_IGN || hup_reloads)	/* a service reloads even under nohup */
		sigaction(SIGHUP, &sa, NULL);
	return 0;
}

void ctl_signals_hup_reloads(void)
{
	hup_reloads = true;
}

bool ctl_signal_reload_take(void)
{
	char drain[64];

	if (!sig_reload)
		return false;
	/* the pipe first: a signal that comes after the drain leaves its byte */
	while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
		;
	return __atomic_exchange_n(&sig_reload, 0, __ATOMIC_SEQ_CST) != 0;
}

bool ctl_signals_hosted(void)
{
	return hosted;
}

int ctl_signals_catch(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err = sig_pipe_open();

	if (err)
		return err;
	if (!hosted && catch_depth++ == 0) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGHUP, &sa, &old_hup);
	}
	return 0;
}

void ctl_signals_release(void)
{
	if (hosted || catch_depth == 0 || --catch_depth > 0)
		return;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

void ctl_signals_interrupt_push(lua_State *L)
{
	int i = interrupt_depth++;

	if (i >= MAX_THREADS)
		return;		/* deeper threads go unregistered: the watchdog still ends them */
	interrupt_L[i] = L;
	ninterrupt = i + 1;	/* after the pointer: the handler reads up to ninterrupt */
	if (hosted && sig_pending)	/* it came before this thread was known */
		ctl_signal_interrupt(L);
}

void ctl_signals_interrupt_pop(void)
{
	int i = --interrupt_depth;

	if (i < 0) {
		interrupt_depth = 0;
		return;
	}
	if (i >= MAX_THREADS)
		return;
	ninterrupt = i;
	interrupt_L[i] = NULL;
}

int ctl_signal_pending(void)
{
	return sig_pending;
}

int ctl_signal_take(void)
{
	char drain[64];
	int signo;

	/* the pipe first: a signal that comes after the drain leaves its byte */
	if (sig_pipe[0] >= 0)
		while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
			;
	signo = __atomic_exchange_n(&sig_pending, 0, __ATOMIC_SEQ_CST);
	ctl_budget_interrupt_clear();
	for (int i = 0; i < ninterrupt; i++)
		if (interrupt_L[i] && lua_gethook(interrupt_L[i]) == stop_hook)
			lua_sethook(interrupt_L[i], NULL, 0, 0);
	if (hosted && sig_pending)	/* another came meanwhile: its hooks were just removed */
		interrupt_all();
	return signo;
}

int ctl_signal_stopping(void)
{
	return sig_stopping;
}

void ctl_signal_honoured(void)
{
	sig_stopping = 0;
	ctl_watchdog_disarm();
}

int ctl_loop_new(struct ctl_loop **out)
{
	struct ctl_loop *loop = calloc(1, sizeof(*loop));
	int err;

	if (!loop)
		return -ENOMEM;
	loop->src_fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		err = -errno;
		free(loop);
		return err;
	}
	err = sig_pipe_open();
	if (!err)
		err = ctl_loop_add(loop, sig_pipe[0], SIGNAL_TAG);
	if (err) {
		ctl_loop_free(loop);
		return err;
	}
	*out = loop;
	return 0;
}

void ctl_loop_free(struct ctl_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop);
}

int ctl_loop_add(struct ctl_loop *loop, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (__uint64_t)(__int64_t)tag };

	if (!epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return 0;
	/* a regular file or /dev/null (the shell's input redirected): reads never block */
	if (errno != EPERM || tag < 0 || loop->nalways == 2)
		return -errno;
	loop->always[loop->nalways++] = tag;
	return 0;
}

int ctl_loop_want_output(struct ctl_loop *loop, int fd, int tag, bool output)
{
	struct epoll_event ev = { .events = EPOLLIN | (output ? EPOLLOUT : 0),
				  .data.u64 = (__uint64_t)(__int64_t)tag };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int ctl_loop_remove(struct ctl_loop *loop, int fd)
{
	return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) ? -errno : 0;
}

int ctl_loop_set_source(struct ctl_loop *loop, int fd, int (*consume)(void *ctx), void *ctx,
			const struct ctl_wake *wake)
{
	int err;

	loop->wake = wake && fd >= 0 ? *wake : (struct ctl_wake){ 0 };
	if (fd == loop->src_fd) {
		loop->consume = fd >= 0 ? consume : NULL;
		loop->ctx = ctx;
		return 0;
	}
	if (loop->src_fd >= 0)
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->src_fd, NULL);
	loop->src_fd = -1;
	loop->consume = NULL;
	loop->busy = loop->look = false;
	if (fd < 0)
		return 0;
	if ((err = ctl_loop_add(loop, fd, SOURCE_TAG))) {
		loop->wake = (struct ctl_wake){ 0 };
		return err;
	}
	loop->src_fd = fd;
	loop->consume = consume;
	loop->ctx = ctx;
	loop->look = true;	/* records may have come before we watched */
	return 0;
}

/* Whether records were written (or are being written) that the reader has not read. */
static bool waiting(const struct ctl_loop *loop)
{
	if (!loop->wake.asleep)
		return false;
	return __atomic_load_n(loop->wake.producer, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(loop->wake.consumer, __ATOMIC_ACQUIRE);
}

/*
 * After a read that found records: watch the ring for CTLUA_SPIN_NS. No PAUSE in the
 * loop: in a VM a run of them makes the host take the CPU away (pause-loop exiting).
 * Returns true as soon as records wait (or a stop signal came), false when the time
 * passed.
 */
static bool spin(const struct ctl_loop *loop)
{
	__s64 end;

	if (!loop->busy || !loop->wake.asleep)
		return false;
	end = ctl_now_ns(CLOCK_MONOTONIC) + CTLUA_SPIN_NS;
	for (unsigned int i = 1;; i++) {
		if (waiting(loop) || sig_pending)
			return true;
		if (!(i & 15) && ctl_now_ns(CLOCK_MONOTONIC) >= end)
			return false;
	}
}

/*
 * About to block: say so, then look at the ring once more. The store and the load are
 * ordered by a full barrier, as the program's last load of the flag is after its
 * reserve and a full barrier (bpf/ctlua.h): a record written meanwhile is either seen
 * here or wakes us. Returns false, with the flag cleared again, when records wait.
 */
static bool fall_asleep(const struct ctl_loop *loop)
{
	if (!loop->wake.asleep)
		return true;
	__atomic_store_n(loop->wake.asleep, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!waiting(loop))
		return true;
	__atomic_store_n(loop->wake.asleep, 0, __ATOMIC_RELAXED);
	return false;
}

void ctl_loop_set_timers(struct ctl_loop *loop, __s64 (*next)(void *ctx),
			 void (*fire)(void *ctx), void *ctx)
{
	loop->timer_next = next;
	loop->timer_fire = next ? fire : NULL;
	loop->timer_ctx = ctx;
}

/* @timeout_ms, cut to when the soonest timer is due (rounded up: no early wakeups). */
static int timer_timeout(const struct ctl_loop *loop, int timeout_ms)
{
	__s64 due = loop->timer_next ? loop->timer_next(loop->timer_ctx) : -1, left;

	if (due < 0)
		return timeout_ms;
	left = due - ctl_now_ns(CLOCK_MONOTONIC);
	left = left <= 0 ? 0 : (left + 999999) / 1000000;
	if (left > INT_MAX)
		left = INT_MAX;
	return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}

int ctl_loop_wait(struct ctl_loop *loop, int timeout_ms, int *tags, int max)
{
	struct epoll_event ev[8];
	bool readable = false, asleep = false, look = loop->look;
	int n, out = 0;

	if (sig_pending)
		return -EINTR;
	if (loop->nalways)
		timeout_ms = 0;
	timeout_ms = timer_timeout(loop, timeout_ms);
	loop->look = false;
	if (loop->consume && !look && timeout_ms != 0) {
		if (spin(loop) || !(asleep = fall_asleep(loop)))
			look = true;
	}
	n = epoll_wait(loop->epfd, ev, 8, look ? 0 : timeout_ms);
	if (asleep && loop->wake.asleep)
		__atomic_store_n(loop->wake.asleep, 0, __ATOMIC_RELAXED);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		int tag = (int)(__int64_t)ev[i].data.u64;

		if (tag == SOURCE_TAG)
			readable = true;
		else if (tag >= 0 && out < max)
			tags[out++] = tag;
	}
	for (int i = 0; i < loop->nalways && out < max; i++)
		tags[out++] = loop->always[i];
	loop->busy = false;
	if (loop->consume && !sig_pending && (readable || look || waiting(loop))) {
		int r = loop->consume(loop->ctx);

		loop->busy = r != 0;
		loop->look = r < 0;	/* stopped early: more waits */
	}
	if (loop->timer_fire && !sig_pending)
		loop->timer_fire(loop->timer_ctx);
	if (sig_pending)
		return -EINTR;
	return out;
}

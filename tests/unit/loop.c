// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loop.c - TAP tests of src/loop.h, the one wait and the stop signals: descriptors and
 * their tags, a file epoll refuses, the event source and its wakeup protocol (the
 * reader's flag, a look before sleeping, the watch after a read), a signal ending a
 * wait (stock-Lua mode, then the command's mode), and the hook that interrupts Lua
 * code until the signal is taken, pcall or not; timers cutting a wait short. Runs from
 * unit.c's main; no kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "loop.h"
#include "tap.h"

static int consumed_calls, consume_answer;

static int count_consume(void *ctx)
{
	int fd = *(int *)ctx;
	char buf[16];

	consumed_calls++;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return consume_answer;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_descriptors(void)
{
	struct ctl_loop *loop;
	int p[2], src[2], tags[4], n;
	struct timespec t0;
	FILE *file = tmpfile();

	if (!ok(ctl_loop_new(&loop) == 0, "loop: ctl_loop_new"))
		return;
	if (pipe(p) || pipe2(src, O_NONBLOCK) || !file) {
		diag("    cannot make pipes or a temporary file: %s", strerror(errno));
		return;
	}
	ok(ctl_loop_add(loop, p[0], 3) == 0, "loop: a pipe added with tag 3");
	ok(ctl_loop_wait(loop, 0, tags, 4) == 0, "loop: nothing to read: wait(0) returns 0");
	if (write(p[1], "x", 1) != 1)
		diag("    write failed");
	n = ctl_loop_wait(loop, 1000, tags, 4);
	ok(n == 1 && tags[0] == 3, "loop: readable: wait returns its tag (%d, tag %d)", n, tags[0]);
	if (read(p[0], tags, 1) != 1)
		diag("    read failed");

	ok(ctl_loop_set_source(loop, src[0], count_consume, &src[0], NULL) == 0, "loop: a source set");
	consumed_calls = 0;
	consume_answer = 0;
	ctl_loop_wait(loop, 0, tags, 0);
	ok(consumed_calls == 1, "loop: a new source is read once at the first wait, unannounced");
	consumed_calls = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = ctl_loop_wait(loop, 60, tags, 0);
	ok(consumed_calls == 0 && ms_since(&t0) >= 50,
	   "loop: a quiet source is not read; the wait lasts its 60 ms (%ld ms)", ms_since(&t0));
	consume_answer = 5;
	if (write(src[1], "r", 1) != 1)
		diag("    write failed");
	n = ctl_loop_wait(loop, 1000, tags, 0);
	ok(n == 0 && consumed_calls == 1, "loop: a readable source is read, and is no tag (%d)", n);
	consume_answer = -1;
	if (write(src[1], "r", 1) != 1)
		diag("    write failed");
	ctl_loop_wait(loop, 1000, tags, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 1000, tags, 0);
	ok(consumed_calls == 3 && ms_since(&t0) < 500,
	   "loop: a read that stopped early is taken up again at once (%ld ms)", ms_since(&t0));
	consume_answer = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 60, tags, 0);
	ok(consumed_calls == 4 && ms_since(&t0) < 500,
	   "loop: and once more at the next wait (%ld ms)", ms_since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 60, tags, 0);
	ok(consumed_calls == 4 && ms_since(&t0) >= 50,
	   "loop: then a quiet source without a wakeup protocol is left to its descriptor (%ld ms)",
	   ms_since(&t0));
	ok(ctl_loop_set_source(loop, -1, NULL, NULL, NULL) == 0, "loop: the source removed");

	ok(ctl_loop_add(loop, fileno(file), 7) == 0, "loop: a regular file is accepted");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = ctl_loop_wait(loop, 2000, tags, 4);
	ok(n >= 1 && tags[n - 1] == 7 && ms_since(&t0) < 1000,
	   "loop: and is ready at once at every wait (%d tags, last %d)", n, tags[n ? n - 1 : 0]);
	ctl_loop_free(loop);
	close(p[0]);
	close(p[1]);
	close(src[0]);
	close(src[1]);
	fclose(file);
}

/*
 * The wakeup protocol (struct ctl_wake) against a producer played by a thread: the
 * ring's positions and the reader's flag are plain variables here.
 */
static __u64 w_asleep;
static unsigned long w_prod, w_cons;
static int w_consumed;
static __u64 w_seen_asleep;	/* the flag, as the producer found it */

static int wake_consume(void *ctx)
{
	unsigned long p = __atomic_load_n(&w_prod, __ATOMIC_ACQUIRE);
	int n = (int)(p - w_cons);

	(void)ctx;
	w_consumed += n;
	__atomic_store_n(&w_cons, p, __ATOMIC_RELEASE);
	return n;
}

/* The producer: after @arg microseconds, one record; a wakeup only if the reader sleeps. */
static void *produce(void *arg)
{
	int fd = *(int *)arg;

	usleep(30000);
	__atomic_add_fetch(&w_prod, 8, __ATOMIC_SEQ_CST);
	w_seen_asleep = __atomic_exchange_n(&w_asleep, 0, __ATOMIC_SEQ_CST);
	if (w_seen_asleep && write(fd, "w", 1) != 1)
		w_seen_asleep = 2;
	return NULL;
}

static void test_wake(void)
{
	struct ctl_wake wake = { &w_asleep, &w_prod, &w_cons };
	struct ctl_loop *loop;
	struct timespec t0;
	pthread_t th;
	int src[2], tags[1];
	char c;

	if (!ok(ctl_loop_new(&loop) == 0, "wake: a loop"))
		return;
	if (pipe2(src, O_NONBLOCK)) {
		diag("    cannot make a pipe: %s", strerror(errno));
		return;
	}
	ok(ctl_loop_set_source(loop, src[0], wake_consume, NULL, &wake) == 0,
	   "wake: a source with a wakeup protocol");
	w_prod = 64;	/* records written before anyone watched, without a wakeup */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 1000, tags, 1);
	ok(w_consumed == 64 && ms_since(&t0) < 500 && w_asleep == 0,
	   "wake: records that wait unannounced are read without sleeping (%d bytes, %ld ms)",
	   w_consumed, ms_since(&t0));
	w_prod += 8;	/* one more, still unannounced, during the watch after a read */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 1000, tags, 1);
	ok(w_consumed == 72 && ms_since(&t0) < 500,
	   "wake: after a read, the ring is watched before sleeping (%ld ms)", ms_since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 60, tags, 1);
	ok(w_consumed == 72 && ms_since(&t0) >= 50 && w_asleep == 0,
	   "wake: nothing more: it sleeps its 60 ms, and the flag is down after (%ld ms)",
	   ms_since(&t0));
	if (pthread_create(&th, NULL, produce, &src[1])) {
		diag("    cannot start a thread");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 5000, tags, 1);
	pthread_join(th, NULL);
	ok(w_seen_asleep == 1 && w_consumed == 80 && ms_since(&t0) < 1000 && w_asleep == 0,
	   "wake: a sleeping reader is seen asleep by the producer, woken and reads (%ld ms)",
	   ms_since(&t0));
	while (read(src[0], &c, 1) == 1)
		;
	ctl_loop_wait(loop, 0, tags, 1);	/* no more busy: no watch before the next sleep */
	ctl_loop_free(loop);
	close(src[0]);
	close(src[1]);
}

/* Run @code in @L; the error message (or "ok") into @out. */
static void run(lua_State *L, const char *code, char *out, size_t len)
{
	int status = luaL_loadbuffer(L, code, strlen(code), "=t");

	if (status == LUA_OK)
		status = lua_pcall(L, 0, 0, 0);
	snprintf(out, len, "%s", status == LUA_OK ? "ok" : lua_tostring(L, -1));
	lua_settop(L, 0);
}

static void test_signals(void)
{
	struct ctl_loop *loop;
	int tags[1];
	char out[256];
	lua_State *L;

	if (!ok(ctl_loop_new(&loop) == 0, "signals: a loop"))
		return;
	/* stock Lua's mode first: the command's mode, once installed, stays */
	ok(ctl_signals_catch() == 0, "signals: caught while ct.run waits (stock Lua)");
	raise(SIGTERM);
	ok(ctl_signal_pending() == SIGTERM, "signals: SIGTERM is pending, the process alive");
	ok(ctl_loop_wait(loop, -1, tags, 1) == -EINTR, "signals: a wait ends with -EINTR");
	ok(ctl_loop_wait(loop, -1, tags, 1) == -EINTR, "signals: and again while it is not taken");
	ok(ctl_signal_take() == SIGTERM && ctl_signal_pending() == 0, "signals: taken once");
	ok(ctl_loop_wait(loop, 0, tags, 1) == 0, "signals: then waits go on");
	ctl_signals_release();

	ok(!ctl_signals_hosted() && ctl_signals_install() == 0 && ctl_signals_hosted(),
	   "signals: the command's handlers installed");
	L = luaL_newstate();
	luaL_openlibs(L);
	ctl_signals_interrupt_push(L);
	raise(SIGINT);
	ok(ctl_signal_stopping() == SIGINT, "signals: a stop is requested");
	/* bounded loops: a hook that failed would make the test fail, not hang */
	run(L, "local i = 0\nfor _ = 1, 1e8 do i = i + 1 end", out, sizeof(out));
	ok(!strcmp(out, "t:1: interrupted"),
	   "signals: code run while a stop is pending stops at its first line (%s)", out);
	run(L, "for _ = 1, 1e6 do pcall(function() for _ = 1, 10 do end end) end", out,
	    sizeof(out));
	ok(!strcmp(out, "t:1: interrupted"), "signals: a pcall in a loop cannot swallow it (%s)",
	   out);
	raise(SIGTERM);
	raise(SIGINT);
	ok(ctl_signal_take() == SIGTERM, "signals: a later SIGINT does not hide a SIGTERM");
	run(L, "local x = 0\nfor i = 1, 1000 do x = x + i end", out, sizeof(out));
	ok(!strcmp(out, "ok"), "signals: once taken, Lua code runs again (%s)", out);
	ok(ctl_signal_stopping() == SIGINT, "signals: the stop stays requested");
	ctl_signal_honoured();
	ok(ctl_signal_stopping() == 0, "signals: until it is honoured");
	ctl_signals_interrupt_pop();
	raise(SIGINT);
	run(L, "local x = 0\nfor i = 1, 1000 do x = x + i end", out, sizeof(out));
	ok(!strcmp(out, "ok"), "signals: a thread no longer registered is not interrupted");
	ok(ctl_signal_take() == SIGINT, "signals: though the signal is pending");
	ctl_signal_honoured();
	lua_close(L);
	ctl_loop_free(loop);
}

/* Timers: a hook that says one is due at t_due (ns, -1: none) and counts the fires. */
static __s64 t_due;
static int t_fired;

static __s64 timer_next(void *ctx)
{
	(void)ctx;
	return t_due;
}

static void timer_fire(void *ctx)
{
	struct timespec now;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (t_due >= 0 && (__s64)now.tv_sec * 1000000000 + now.tv_nsec >= t_due) {
		t_fired++;
		t_due = -1;
	}
}

static void test_timers(void)
{
	struct ctl_loop *loop;
	struct timespec t0;
	int tags[4], n;

	if (!ok(ctl_loop_new(&loop) == 0, "timers: ctl_loop_new"))
		return;
	ctl_loop_set_timers(loop, timer_next, timer_fire, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t_due = (__s64)t0.tv_sec * 1000000000 + t0.tv_nsec + 40000000;	/* in 40 ms */
	n = ctl_loop_wait(loop, -1, tags, 4);
	ok(n == 0 && t_fired == 1 && ms_since(&t0) >= 40 && ms_since(&t0) < 1000,
	   "timers: a wait with no limit ends when the timer is due, and fires it (%ld ms)",
	   ms_since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 60, tags, 4);
	ok(t_fired == 1 && ms_since(&t0) >= 50,
	   "timers: none due: the wait lasts its 60 ms, nothing fires (%ld ms)", ms_since(&t0));
	t_due = 0;	/* long past */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 5000, tags, 4);
	ok(t_fired == 2 && ms_since(&t0) < 1000, "timers: one past due fires at once (%ld ms)",
	   ms_since(&t0));
	ctl_loop_set_timers(loop, NULL, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t_due = 0;
	ctl_loop_wait(loop, 30, tags, 4);
	ok(t_fired == 2, "timers: taken out of the loop, they no longer fire");
	ctl_loop_free(loop);
}

void test_loop(void)
{
	test_timers();
	test_descriptors();
	test_wake();
	test_signals();
}

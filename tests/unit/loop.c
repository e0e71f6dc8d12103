// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loop.c - TAP tests of src/loop.h, the one wait and the stop signals: descriptors and
 * their tags, a file epoll refuses, the event source and its stragglers, a signal ending
 * a wait (stock-Lua mode, then the command's mode), and the hook that interrupts Lua
 * code until the signal is taken, pcall or not. Runs from unit.c's main; no kernel.
 */
#include <errno.h>
#include <fcntl.h>
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

	ok(ctl_loop_set_source(loop, src[0], count_consume, &src[0]) == 0, "loop: a source set");
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
	consume_answer = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, -1, tags, 0);
	ok(consumed_calls == 2 && ms_since(&t0) < 500,
	   "loop: after a read that found some, read again soon without a wakeup (%ld ms)",
	   ms_since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_loop_wait(loop, 60, tags, 0);
	ok(consumed_calls == 2 && ms_since(&t0) >= 50,
	   "loop: after a read that found none, no more stragglers (%ld ms)", ms_since(&t0));
	ok(ctl_loop_set_source(loop, -1, NULL, NULL) == 0, "loop: the source removed");

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

void test_loop(void)
{
	test_descriptors();
	test_signals();
}

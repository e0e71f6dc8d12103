// SPDX-License-Identifier: GPL-2.0-or-later
/* loop.c - the host's epoll loop and its self-pipe for signals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "loop.h"

#define SIGNAL_TAG (-1)

struct ctl_loop {
	int epfd;
};

/* Process-wide: a handler can reach only static storage. */
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_caught;
static int catch_depth;
static struct sigaction old_int, old_term, old_hup;

static void on_signal(int signo)
{
	int saved = errno;

	sig_caught = signo;
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

int ctl_signals_catch(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err = sig_pipe_open();

	if (err)
		return err;
	if (catch_depth++ == 0) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGHUP, &sa, &old_hup);
	}
	return 0;
}

void ctl_signals_release(void)
{
	if (catch_depth == 0 || --catch_depth > 0)
		return;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

bool ctl_signal_pending(void)
{
	return sig_caught != 0;
}

int ctl_signal_take(void)
{
	int signo = sig_caught;
	char drain[64];

	sig_caught = 0;
	if (sig_pipe[0] >= 0)
		while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
			;
	return signo;
}

int ctl_loop_new(struct ctl_loop **out)
{
	struct ctl_loop *loop = calloc(1, sizeof(*loop));
	int err;

	if (!loop)
		return -ENOMEM;
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

	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

int ctl_loop_wait(struct ctl_loop *loop, int timeout_ms, int *tags, int max)
{
	struct epoll_event ev[8];
	int n, out = 0;

	if (sig_caught)
		return -EINTR;
	if (max > 8)
		max = 8;
	n = epoll_wait(loop->epfd, ev, max, timeout_ms);
	if (n < 0)
		return errno == EINTR ? (sig_caught ? -EINTR : 0) : -errno;
	for (int i = 0; i < n; i++) {
		int tag = (int)(__int64_t)ev[i].data.u64;

		if (tag == SIGNAL_TAG)
			return -EINTR;
		tags[out++] = tag;
	}
	return out;
}

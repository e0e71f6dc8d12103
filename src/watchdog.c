// SPDX-License-Identifier: GPL-2.0-or-later
/* watchdog.c - ends the process, filters removed, when a stop signal goes unhonoured. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "deadline.h"
#include "lua_ct.h"
#include "tc.h"
#include "watchdog.h"

static sem_t kick;			/* posted on every arm and disarm */
static atomic_int armed_signo;		/* 0: standing down */
static atomic_uint armed_gen;		/* a new arming restarts the grace time */
static atomic_bool started;
static void (*_Atomic last_words)(void);

static void say(const char *text)
{
	size_t len = strlen(text);

	while (len) {
		ssize_t n = write(STDERR_FILENO, text, len);

		if (n <= 0 && errno != EINTR)
			return;
		if (n > 0) {
			text += n;
			len -= (size_t)n;
		}
	}
}

/*
 * Act for the signal: what the process printed so far goes out (unless the Lua thread
 * holds stdout: it is stuck, and we must not be), the filters come off, and the exit
 * status is the one a death by @signo gives.
 */
_Noreturn static void end_process(int signo)
{
	const char *name = sigabbrev_np(signo);
	char msg[256];
	int n;

	if (ftrylockfile(stdout) == 0) {
		fflush_unlocked(stdout);
		funlockfile(stdout);
	}
	snprintf(msg, sizeof(msg), "%s: SIG%s was not honoured within %.1f s (Lua did not "
		 "return): the watchdog removes ctlua's tc filters and ends ctlua\n",
		 ctl_progname, name ? name : "?", CTL_WATCHDOG_GRACE_MS / 1000.0);
	say(msg);
	n = ctl_tc_remove_all();
	if (n < 0) {
		snprintf(msg, sizeof(msg), "%s: watchdog: cannot remove every tc filter (%s)\n",
			 ctl_progname, strerror(-n));
		say(msg);
	}
	if (atomic_load(&last_words))
		atomic_load(&last_words)();
	_exit(128 + signo);
}

static void *watch(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec deadline;
		unsigned int gen;
		int signo;

		while (!(signo = atomic_load(&armed_signo)))
			sem_wait(&kick);
		gen = atomic_load(&armed_gen);
		ctl_deadline_after(&deadline, CTL_WATCHDOG_GRACE_MS);
		while (atomic_load(&armed_signo) && atomic_load(&armed_gen) == gen)
			if (sem_clockwait(&kick, CLOCK_MONOTONIC, &deadline) && errno == ETIMEDOUT)
				break;
		if (atomic_load(&armed_signo) && atomic_load(&armed_gen) == gen)
			end_process(signo);
	}
	return NULL;
}

int ctl_watchdog_start(void)
{
	sigset_t all, old;
	pthread_t thread;
	int err;

	if (atomic_load(&started))
		return 0;
	if (sem_init(&kick, 0, 0))
		return -errno;
	/* the thread inherits the mask: every signal goes to the Lua thread's handlers */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, NULL, watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_detach(thread);
	atomic_store(&started, true);
	return 0;
}

void ctl_watchdog_arm(int signo)
{
	int idle = 0;

	if (!atomic_load(&started))
		return;
	if (atomic_compare_exchange_strong(&armed_signo, &idle, signo)) {
		atomic_fetch_add(&armed_gen, 1);
		sem_post(&kick);	/* async-signal-safe, unlike a mutex */
	}
}

void ctl_watchdog_disarm(void)
{
	if (!atomic_load(&started))
		return;
	atomic_store(&armed_signo, 0);
	sem_post(&kick);
}

void ctl_watchdog_last_words(void (*fn)(void))
{
	atomic_store(&last_words, fn);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stamp.c - a wall clock for contenders that have none (a Lua script, a tool).
 *
 *   stamp CMD [ARG...]
 *
 * Runs CMD with its stdout on a pipe and copies every line it writes, prefixed with
 * the CLOCK_MONOTONIC time in ns at which the line was read:
 *
 *   <ns> start              just before fork
 *   <ns> <line of CMD>      as each line arrives
 *   <ns> exit <status>      after CMD ended (status 128+N if killed by signal N)
 *
 * A script brackets the work it wants timed with two flushed lines; the difference of
 * their stamps is its wall time. Each stamp lags its write by one pipe wakeup (the
 * reader sleeps in read() on an otherwise idle CPU), the same lag at both ends, so the
 * lags cancel up to their jitter (microseconds). Exits with CMD's status.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "flowgen.h"

int main(int argc, char **argv)
{
	char buf[4096], line[4096];
	size_t used = 0;
	int fds[2], status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: stamp CMD [ARG...]\n");
		return 2;
	}
	if (pipe(fds)) {
		fprintf(stderr, "stamp: pipe failed (%s)\n", strerror(errno));
		return 1;
	}
	printf("%llu start\n", (unsigned long long)flowgen_now_ns());
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "stamp: fork failed (%s)\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "stamp: cannot run '%s' (%s)\n", argv[1], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof(buf));
		unsigned long long now = flowgen_now_ns();

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Lines longer than the buffer are cut; the scripts write short ones. */
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n' && used < sizeof(line) - 1) {
				line[used++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;
			line[used] = '\0';
			printf("%llu %s\n", now, line);
			used = 0;
		}
	}
	if (used) {
		line[used] = '\0';
		printf("%llu %s\n", (unsigned long long)flowgen_now_ns(), line);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("%llu exit %d\n", (unsigned long long)flowgen_now_ns(), status);
	return status;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pkt_bpfstats.c - what BPF programs cost per run while a command runs: the kernel's
 * run-time statistics, switched on for exactly that long.
 *
 *   pkt_bpfstats PROG-ID[,PROG-ID]... CMD [ARG...]
 *
 * Turns the statistics on with BPF_ENABLE_STATS (the kernel turns them off again when
 * the last such descriptor closes, also if this process is killed, so nothing is left
 * to restore; kernel.bpf_stats_enabled reads 1 meanwhile), reads each program's
 * run_time_ns and run_cnt, runs CMD with its stdout and stderr passed through, reads
 * them again and prints, per program, "bpf_stats id ID run_time_ns T run_cnt C" with
 * the differences. Exits with CMD's status (1 if the statistics cannot be had).
 *
 * While the statistics are on, the kernel reads its clock before and after every run
 * of every BPF program (sched_clock); run_time_ns holds about one such read per run.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/types.h>

static int prog_stats(int fd, __u64 *run_time_ns, __u64 *run_cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);

	if (err)
		return err;
	*run_time_ns = info.run_time_ns;
	*run_cnt = info.run_cnt;
	return 0;
}

#define MAX_PROGS	8

int main(int argc, char **argv)
{
	__u64 t0[MAX_PROGS], n0[MAX_PROGS], t1, n1;
	unsigned long ids[MAX_PROGS];
	int fds[MAX_PROGS], nprogs = 0, stats_fd, status;
	char *p, *end;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: pkt_bpfstats PROG-ID[,PROG-ID]... CMD [ARG...]\n");
		return 2;
	}
	for (p = argv[1]; nprogs < MAX_PROGS; p = end + 1) {
		errno = 0;
		ids[nprogs] = strtoul(p, &end, 10);
		if (errno || end == p || (*end && *end != ',') || !ids[nprogs] ||
		    ids[nprogs] > 0xffffffffUL) {
			fprintf(stderr, "pkt_bpfstats: bad program id list '%s'\n", argv[1]);
			return 2;
		}
		fds[nprogs] = bpf_prog_get_fd_by_id((__u32)ids[nprogs]);
		if (fds[nprogs] < 0) {
			fprintf(stderr, "pkt_bpfstats: no program with id %lu (%s)\n", ids[nprogs],
				strerror(errno));
			return 1;
		}
		nprogs++;
		if (!*end)
			break;
	}
	if (*end) {
		fprintf(stderr, "pkt_bpfstats: more than %d programs\n", MAX_PROGS);
		return 2;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "pkt_bpfstats: cannot turn BPF statistics on (%s)\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < nprogs; i++) {
		if (prog_stats(fds[i], &t0[i], &n0[i])) {
			fprintf(stderr, "pkt_bpfstats: cannot read program %lu (%s)\n", ids[i],
				strerror(errno));
			return 1;
		}
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pkt_bpfstats: fork failed (%s)\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(stats_fd);	/* the parent's copy keeps them on */
		for (int i = 0; i < nprogs; i++)
			close(fds[i]);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "pkt_bpfstats: cannot run '%s' (%s)\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "pkt_bpfstats: waitpid failed (%s)\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < nprogs; i++) {
		if (prog_stats(fds[i], &t1, &n1)) {
			fprintf(stderr, "pkt_bpfstats: cannot read program %lu (%s)\n", ids[i],
				strerror(errno));
			return 1;
		}
		printf("bpf_stats id %lu run_time_ns %llu run_cnt %llu\n", ids[i],
		       (unsigned long long)(t1 - t0[i]), (unsigned long long)(n1 - n0[i]));
	}
	close(stats_fd);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

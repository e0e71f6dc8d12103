// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner.c - ownership records of tc hooks under /run/ctlua/. A record's file is keyed
 * by network namespace, interface index and direction; its owner holds it flock()ed
 * for its life, so "locked" means "a living ctlua owns this hook" and an unlocked
 * record is what a dead one (kill -9) left. flock belongs to the open file, not the
 * process: a second open in the same process conflicts too, which is what we want.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "names.h"
#include "owner.h"

static char my_policy[PATH_MAX];
static bool policy_set;

void ctl_owner_set_policy(const char *policy)
{
	snprintf(my_policy, sizeof(my_policy), "%s", policy);
	policy_set = true;
}

/* Without a policy from the host: "command lua5.4 x.lua", from /proc/self/cmdline. */
static const char *policy(void)
{
	static const char prefix[] = "command ";
	char *p = my_policy + sizeof(prefix) - 1;
	ssize_t n;
	int fd;

	if (policy_set)
		return my_policy;
	policy_set = true;
	memcpy(my_policy, prefix, sizeof(prefix));
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return my_policy;
	n = read(fd, p, sizeof(my_policy) - sizeof(prefix));
	close(fd);
	for (ssize_t i = 0; i < n; i++)
		if (p[i] == '\0' || p[i] == '\n')
			p[i] = ' ';
	while (n > 0 && p[n - 1] == ' ')
		n--;
	p[n > 0 ? n : 0] = '\0';
	return my_policy;
}

const char *ctl_owner_describe(const struct ctl_owner_info *info, char *buf, size_t size)
{
	const char *p = info->policy;

	if (p[0] == '/')
		snprintf(buf, size, "policy %s", p);
	else if (!strcmp(p, "-e"))
		snprintf(buf, size, "policy given with -e");
	else if (!strcmp(p, "-"))
		snprintf(buf, size, "policy from standard input");
	else if (!p[0])
		snprintf(buf, size, "interactive shell");
	else
		snprintf(buf, size, "%s", p);
	return buf;
}

int ctl_owner_netns(__u64 *ino)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/*
 * /run/ctlua must exist, be a directory, belong to us and let no one else in: the
 * records decide what ctlua removes, so no one else may write them.
 */
int ctl_owner_private_dir(void)
{
	struct stat st;

	if (mkdir(CTL_OWNER_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(CTL_OWNER_DIR, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* A whole decimal number in [0, @max], or -1. */
static long long number(const char *s, long long max)
{
	long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > max / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

void ctl_owner_parse(const char *text, size_t len, struct ctl_owner_info *info)
{
	const char *end = text + len;
	char line[CTL_OWNER_RECORD_MAX];
	long long v;

	memset(info, 0, sizeof(*info));
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = (size_t)((nl ? nl : end) - text);

		if (n < sizeof(line)) {	/* longer lines are not ours */
			memcpy(line, text, n);
			line[n] = '\0';
			if (!strncmp(line, "pid ", 4) && (v = number(line + 4, INT_MAX)) > 0)
				info->pid = (int)v;
			else if (!strncmp(line, "prog_id ", 8) &&
				 (v = number(line + 8, UINT32_MAX)) >= 0)
				info->prog_id = (__u32)v;
			else if (!strncmp(line, "policy ", 7))	/* cut to fit, as written */
				*(char *)mempcpy(info->policy, line + 7,
						 strnlen(line + 7, sizeof(info->policy) - 1)) = '\0';
		}
		text += n + (nl != NULL);
	}
}

int ctl_owner_format(char *buf, size_t size, int pid, __u32 prog_id, const char *ifname,
		     int dir, const char *policy)
{
	int n = snprintf(buf, size, "pid %d\nprog_id %u\nifname %s\ndir %s\npolicy ", pid,
			 prog_id, ifname, ctl_dir_names[dir]);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* one line per field: a newline in a path must not start another */
	for (; *policy && (size_t)n + 2 < size; policy++)
		buf[n++] = *policy == '\n' ? '?' : *policy;
	if (*policy)
		return -ENAMETOOLONG;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* What the record in @fd says; pid 0 when it says nothing usable. */
static void read_info(int fd, struct ctl_owner_info *info)
{
	char buf[CTL_OWNER_RECORD_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	ctl_owner_parse(buf, n > 0 ? (size_t)n : 0, info);
}

/* Whether @fd is still the file at @path (not unlinked or replaced under us). */
static bool still_there(int fd, const char *path, struct stat *st)
{
	struct stat at;

	return fstat(fd, st) == 0 && stat(path, &at) == 0 && at.st_dev == st->st_dev &&
	       at.st_ino == st->st_ino;
}

static void keep(struct ctl_owner_rec *rec, int fd, const struct stat *st)
{
	rec->fd = fd;
	rec->dev = st->st_dev;
	rec->ino = st->st_ino;
}

/* A new record, locked, in place of the one at rec->path: written aside, renamed over. */
static int seize(struct ctl_owner_rec *rec)
{
	char tmp[sizeof(rec->path) + 32];
	struct stat st;
	int fd, err;

	snprintf(tmp, sizeof(tmp), "%s.new.%d", rec->path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 || rename(tmp, rec->path) < 0) {
		err = -errno;
		unlink(tmp);
		close(fd);
		return err;
	}
	keep(rec, fd, &st);
	return 0;
}

int ctl_owner_claim(__u64 netns, int ifindex, int dir, bool do_seize, struct ctl_owner_rec *rec,
		    struct ctl_owner_info *prev)
{
	struct stat st;
	int fd, err;

	rec->fd = -1;
	memset(prev, 0, sizeof(*prev));
	if ((err = ctl_owner_private_dir()))
		return err;
	snprintf(rec->path, sizeof(rec->path), CTL_OWNER_DIR "/tc-%llu-%d-%s",
		 (unsigned long long)netns, ifindex, ctl_dir_names[dir]);
	/* a few rounds: an owner that lets go unlinks the file we may just have opened */
	for (int round = 0; round < 8; round++) {
		fd = open(rec->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (!still_there(fd, rec->path, &st)) {
				close(fd);
				continue;
			}
			read_info(fd, prev);	/* a dead owner's words, if any */
			keep(rec, fd, &st);
			return 0;
		}
		if (errno != EWOULDBLOCK) {
			err = -errno;
			close(fd);
			return err;
		}
		read_info(fd, prev);
		close(fd);
		if (!do_seize)
			return -EBUSY;
		err = seize(rec);
		return err ? err : 1;
	}
	return -EAGAIN;
}

int ctl_owner_write(const struct ctl_owner_rec *rec, const char *ifname, int dir, __u32 prog_id)
{
	char buf[CTL_OWNER_RECORD_MAX];
	int n = ctl_owner_format(buf, sizeof(buf), (int)getpid(), prog_id, ifname, dir,
				 policy());

	if (n < 0)
		return n;
	if (ftruncate(rec->fd, 0) < 0 || pwrite(rec->fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

void ctl_owner_release(struct ctl_owner_rec *rec, bool remove)
{
	struct stat at;

	if (rec->fd < 0)
		return;
	if (remove && stat(rec->path, &at) == 0 && at.st_dev == rec->dev && at.st_ino == rec->ino)
		unlink(rec->path);
	close(rec->fd);	/* the lock goes with it */
	rec->fd = -1;
}

static void marker(char *buf, size_t size, __u64 netns, int ifindex)
{
	snprintf(buf, size, CTL_OWNER_DIR "/qdisc-%llu-%d", (unsigned long long)netns, ifindex);
}

bool ctl_owner_qdisc_ours(__u64 netns, int ifindex)
{
	char path[64];

	marker(path, sizeof(path), netns, ifindex);
	return access(path, F_OK) == 0;
}

int ctl_owner_qdisc_mark(__u64 netns, int ifindex, bool ours)
{
	char path[64];
	int fd, err;

	marker(path, sizeof(path), netns, ifindex);
	if (!ours)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	if ((err = ctl_owner_private_dir()))
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int ctl_owner_lock(int timeout_ms)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	int fd, err;

	if ((err = ctl_owner_private_dir()))
		return err;
	fd = open(CTL_OWNER_DIR "/tc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	for (int waited = 0;; waited += 10) {
		if (flock(fd, timeout_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			errno = ETIMEDOUT;
			break;
		}
		if (timeout_ms >= 0)
			nanosleep(&nap, NULL);
	}
	err = -errno;
	close(fd);
	return err;
}

void ctl_owner_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

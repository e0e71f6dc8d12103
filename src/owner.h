/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * owner.h - the records under /run/ctlua/ that say which ctlua owns which tc hook. A
 * record is a small file that its owner holds flock()ed for its whole life, so a dead
 * owner's lock vanishes by itself and a later ctlua can tell a living owner from an
 * orphan. Every function returns 0 or -errno unless it says otherwise.
 */
#ifndef CTLUA_OWNER_H
#define CTLUA_OWNER_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#define CTL_OWNER_DIR	"/run/ctlua"
#define CTL_OWNER_RECORD_MAX (PATH_MAX + 128)	/* a record file's size, at most */

/*
 * Make sure CTL_OWNER_DIR exists, is a directory, is ours and lets no one else in
 * (mode 0700 or stricter); -EPERM or -ENOTDIR otherwise. The control sockets live
 * there too (control.c).
 */
int ctl_owner_private_dir(void);

/* What a record says about its owner. */
struct ctl_owner_info {
	int pid;		/* 0: no record, or an unreadable one */
	__u32 prog_id;		/* the program it attached; 0 while it attaches */
	char policy[PATH_MAX];	/* as ctl_owner_set_policy was given it */
};

/* A record this process holds (locked). */
struct ctl_owner_rec {
	int fd;			/* -1: none */
	__u64 dev, ino;		/* of the file, to tell ours from one that replaced it */
	char path[64];
};

/*
 * What records of this process say it runs: an absolute policy path, "-e" (code from
 * the command line), "-" (standard input) or "" (the interactive shell). Copied. Until
 * it is called (ct.so in another host) records name the process's command line.
 */
void ctl_owner_set_policy(const char *policy);

/* @info's owner for a message: "policy /etc/ctlua/x.lua", "interactive shell", ... */
const char *ctl_owner_describe(const struct ctl_owner_info *info, char *buf, size_t size);

/*
 * A record's text: "pid N\nprog_id N\nifname NAME\ndir DIR\npolicy TEXT\n", a newline in
 * @policy written as '?'. Returns its length (< @size) or -ENAMETOOLONG.
 */
int ctl_owner_format(char *buf, size_t size, int pid, __u32 prog_id, const char *ifname,
		     int dir, const char *policy);
/*
 * Read a record's @len bytes of @text (any bytes) into @info: unknown or malformed lines
 * are skipped, and pid stays 0 unless a whole positive number is given.
 */
void ctl_owner_parse(const char *text, size_t len, struct ctl_owner_info *info);

/* The inode of the calling thread's network namespace (what records are keyed by). */
int ctl_owner_netns(__u64 *ino);

/*
 * Take the record of hook (@netns, @ifindex, @dir), locked, into @rec. @prev receives
 * what the record said before (pid 0 if there was none). When a living process holds
 * it: -EBUSY, unless @seize, which puts a new record in its place (the holder keeps a
 * lock on a file no longer linked there). Returns 0 (the record was free: @prev is what
 * a dead owner left), 1 (seized from a living owner), -EBUSY or -errno.
 */
int ctl_owner_claim(__u64 netns, int ifindex, int dir, bool seize, struct ctl_owner_rec *rec,
		    struct ctl_owner_info *prev);

/* Write this process's record into @rec: pid, policy, @ifname, @dir, @prog_id. */
int ctl_owner_write(const struct ctl_owner_rec *rec, const char *ifname, int dir, __u32 prog_id);

/*
 * Let @rec go. With @remove, its file goes too, if it is still the one at its path (a
 * taker-over's record stays). Without, the file stays for a later ctlua to read (the
 * filter could not be removed: it is an orphan now). Safe on a released record.
 */
void ctl_owner_release(struct ctl_owner_rec *rec, bool remove);

/* Whether a ctlua created the clsact qdisc of @ifindex (a marker file says so). */
bool ctl_owner_qdisc_ours(__u64 netns, int ifindex);
/* Set or clear that marker. */
int ctl_owner_qdisc_mark(__u64 netns, int ifindex, bool ours);

/*
 * Serialize ctlua's tc changes on this host (create a qdisc and mark it; check that a
 * qdisc is empty and remove it), across processes and threads. Waits at most
 * @timeout_ms (-1: forever). Returns a descriptor for ctl_owner_unlock, or -errno.
 */
int ctl_owner_lock(int timeout_ms);
void ctl_owner_unlock(int fd);

/* How long an attach or detach (tc.c, xdp.c) waits for another ctlua's change. */
#define CTL_OWNER_LOCK_WAIT_MS	5000

#endif

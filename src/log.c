// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log.c - the host's messages on stderr, with levels when a service writes them, or as
 * JSON lines on stdout with the service's events (log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include "ct_host.h"
#include "fields.h"
#include "json.h"
#include "log.h"

/* The name messages start with: "ct" in another Lua, "ctlua" in the command. */
const char *ctl_progname = "ct";

static bool leveled, journal;
static void (*tap)(int level, const char *msg);

void ctl_log_tap(void (*fn)(int level, const char *msg))
{
	tap = fn;
}

/* JSON lines (ctl_log_json) */
static struct {
	bool on;
	bool sock;		/* stdout is a socket: send(MSG_DONTWAIT) on fd 1 */
	int fd;			/* what lines are written to: never blocks */
	int restore_fl;		/* fd 1's flags to put back, or -1 */
	const char *policy;
	struct ctl_json j;
	char *pending;		/* the rest of a line a write took only part of */
	size_t pending_len;
	unsigned long long dropped;	/* lines not written since the last report */
} js = { .fd = -1, .restore_fl = -1 };

/* Whether $JOURNAL_STREAM names stderr: systemd set it for the stream it connected us to. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ctl_log_levels(bool on)
{
	leveled = on;
	journal = on && stderr_is_journal();
}

bool ctl_log_leveled(void)
{
	return leveled;
}

static const char *level_name(int level)
{
	switch (level) {
	case CTL_LOG_ERR:
		return "error";
	case CTL_LOG_WARNING:
		return "warning";
	default:
		return "info";
	}
}

static void put_prefix(int level, bool first)
{
	if (journal)
		fputs(level == CTL_LOG_ERR ? SD_ERR : level == CTL_LOG_WARNING ? SD_WARNING
		      : SD_INFO, stderr);
	else if (leveled)
		fprintf(stderr, "%s: %s: ", ctl_progname, level_name(level));
	else if (first)
		fprintf(stderr, "%s: ", ctl_progname);
}

/* A write that never blocks: the bytes written, or -1 with errno. */
static ssize_t put_nb(const char *buf, size_t len)
{
	if (js.sock)
		return send(js.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(js.fd, buf, len);
}

/* Write what is left of a torn line; true when nothing is left. */
static bool flush_pending(void)
{
	ssize_t n;

	while (js.pending_len) {
		n = put_nb(js.pending, js.pending_len);
		if (n <= 0)
			return false;
		memmove(js.pending, js.pending + n, js.pending_len - (size_t)n);
		js.pending_len -= (size_t)n;
	}
	free(js.pending);	/* put_line makes a new one for the next torn line */
	js.pending = NULL;
	return true;
}

/*
 * Write one line whole, or not at all, or in part, when the rest is kept to go before
 * anything else: a line is never torn. Returns false when nothing of it went out.
 */
static bool put_line(const char *buf, size_t len)
{
	ssize_t n;

	if (!flush_pending())
		return false;
	n = put_nb(buf, len);
	if (n == (ssize_t)len)
		return true;
	if (n <= 0)
		return false;
	js.pending = malloc(len - (size_t)n);
	if (!js.pending) {	/* a torn line would break the stream: end it, at least */
		js.pending_len = 0;
		put_nb("\n", 1);
		return false;
	}
	memcpy(js.pending, buf + n, len - (size_t)n);
	js.pending_len = len - (size_t)n;
	return true;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* {"type":"log","time":...,"level":...,"msg":...,"policy":...[,"dropped":N]} */
static void json_log_object(struct ctl_json *j, int level, const char *msg, size_t len,
			    unsigned long long dropped)
{
	const char *name = level_name(level);

	ctl_json_begin(j);
	ctl_json_str(j, "type", "log", 3);
	ctl_json_num(j, "time", now_seconds());
	ctl_json_str(j, "level", name, strlen(name));
	ctl_json_str(j, "msg", msg, len);
	ctl_json_str(j, "policy", js.policy, strlen(js.policy));
	if (dropped)
		ctl_json_int(j, "dropped", (int64_t)dropped);
	ctl_json_end(j);
}

/*
 * Write the line in js.j, after the report of the lines dropped before it, if any: a
 * line goes out only after that report, so a reader always learns of a gap where it is.
 */
static void json_emit(void)
{
	struct ctl_json w;
	char msg[96];
	bool sent;
	int len;

	if (js.j.failed) {
		js.dropped++;
		return;
	}
	if (js.dropped) {
		ctl_json_init(&w);
		len = snprintf(msg, sizeof(msg), "stdout was full: %llu line%s dropped",
			       js.dropped, js.dropped == 1 ? "" : "s");
		json_log_object(&w, CTL_LOG_WARNING, msg, (size_t)len, js.dropped);
		sent = !w.failed && put_line(w.buf, w.len);
		ctl_json_free(&w);
		if (!sent) {
			js.dropped++;
			return;
		}
		js.dropped = 0;
	}
	if (!put_line(js.j.buf, js.j.len))
		js.dropped++;
}

int ctl_log_json(const char *policy)
{
	struct stat st;
	int fl, fd;

	if (fstat(STDOUT_FILENO, &st))
		return -errno;
	js.sock = S_ISSOCK(st.st_mode);
	fd = STDOUT_FILENO;
	if (!js.sock && !S_ISREG(st.st_mode)) {
		/*
		 * A pipe, FIFO or terminal: opened again, a description of our own takes
		 * O_NONBLOCK without changing the one we share with whoever gave us stdout.
		 * Where that cannot be (a pipe of a process we cannot reach), fd 1 itself,
		 * its flags restored at the end. A file never blocks.
		 */
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			fd = STDOUT_FILENO;
			fl = fcntl(fd, F_GETFL);
			if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
				return -errno;
			js.restore_fl = fl;
		}
	}
	js.fd = fd;
	js.policy = policy;
	js.on = true;
	return 0;
}

bool ctl_log_json_on(void)
{
	return js.on;
}

void ctl_log_event(const struct ctlua_event *e, const struct ctl_event_ctx *ctx)
{
	if (!js.on)
		return;
	ctl_json_begin(&js.j);
	ctl_json_str(&js.j, "type", "event", 5);
	ctl_json_str(&js.j, "policy", js.policy, strlen(js.policy));
	ctl_json_record(&js.j, &ctl_event_record, e, ctx);
	ctl_json_end(&js.j);
	json_emit();
}

void ctl_log_print(const char *s, size_t len)
{
	if (!js.on)
		return;
	ctl_json_begin(&js.j);
	ctl_json_str(&js.j, "type", "print", 5);
	ctl_json_num(&js.j, "time", now_seconds());
	ctl_json_str(&js.j, "msg", s, len);
	ctl_json_str(&js.j, "policy", js.policy, strlen(js.policy));
	ctl_json_end(&js.j);
	json_emit();
}

void ctl_log_json_finish(void)
{
	struct pollfd p;
	unsigned long long dropped;

	if (!js.on)
		return;
	p.fd = js.fd;
	p.events = POLLOUT;
	for (int i = 0; i < 20 && js.pending_len; i++)
		if (poll(&p, 1, 10) >= 0)
			flush_pending();
	if (js.pending_len)
		js.dropped++;
	dropped = js.dropped;
	free(js.pending);
	js.pending = NULL;
	js.pending_len = 0;
	ctl_json_free(&js.j);
	if (js.restore_fl >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, js.restore_fl);
	else if (js.fd != STDOUT_FILENO)
		close(js.fd);
	js.fd = -1;
	js.restore_fl = -1;
	js.on = false;
	if (dropped)
		ctl_log(CTL_LOG_WARNING, "stdout was full: %llu JSON line%s dropped and not "
			"reported there", dropped, dropped == 1 ? "" : "s");
}

void ctl_vlog(int level, const char *fmt, va_list ap)
{
	char small[512], *msg = small, *line, *nl;
	va_list copy;
	int len;

	va_copy(copy, ap);
	len = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(small)) {
		msg = malloc((size_t)len + 1);
		if (!msg) {	/* the start of it, rather than nothing */
			msg = small;
			len = sizeof(small) - 1;
		} else {
			vsnprintf(msg, (size_t)len + 1, fmt, ap);
		}
	}
	if (tap)
		tap(level, msg);
	if (js.on) {
		json_log_object(&js.j, level, msg, (size_t)len, 0);
		json_emit();
		goto out;
	}
	for (line = msg;; line = nl + 1) {
		nl = strchr(line, '\n');
		put_prefix(level, line == msg);
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl)
			break;
	}
	fflush(stderr);
out:
	if (msg != small)
		free(msg);
}

void ctl_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vlog(level, fmt, ap);
	va_end(ap);
}

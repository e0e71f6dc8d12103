// SPDX-License-Identifier: GPL-2.0-or-later
/* log.c - the host's messages on stderr, with levels when a service writes them (log.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include "ct_host.h"
#include "log.h"

static bool leveled, journal;
static void (*tap)(int level, const char *msg);

void ctl_log_tap(void (*fn)(int level, const char *msg))
{
	tap = fn;
}

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
		} else {
			vsnprintf(msg, (size_t)len + 1, fmt, ap);
		}
	}
	if (tap)
		tap(level, msg);
	for (line = msg;; line = nl + 1) {
		nl = strchr(line, '\n');
		put_prefix(level, line == msg);
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl)
			break;
	}
	fflush(stderr);
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

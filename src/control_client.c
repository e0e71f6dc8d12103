// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control_client.c - `ctlua status NAME` and `ctlua shell NAME`: the client side of the
 * control socket of a running `ctlua run` (control.h; the protocol is in
 * doc/service.md). The shell reads lines with readline on a terminal (a prompt and this
 * session's history), plain lines otherwise, and sends each to the service.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "control.h"
#include "owner.h"
#include "repl.h"

static volatile sig_atomic_t interrupted;	/* Ctrl-C while the service answers */
/* The connection, for readline's completion; the candidates of the last answer. */
static int shell_fd = -1;
static FILE *shell_in;
static char **cands;
static size_t ncands;

/* Connect to service @name's socket. Returns the descriptor, or -1 with the reason said. */
static int connect_to(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (!ctl_control_name_ok(name)) {
		fprintf(stderr, "ctlua: '%s' is not a service name (1 to 64 of A-Z a-z 0-9 _ . @ -, "
			"not starting with '.')\n", name);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", CTL_OWNER_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "ctlua: cannot make a socket: %s\n", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	err = errno;
	close(fd);
	if (err == ENOENT)
		fprintf(stderr, "ctlua: no service named '%s' (no %s)\n", name, sa.sun_path);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "ctlua: no service named '%s' runs (%s is left from one that "
			"ended)\n", name, sa.sun_path);
	else
		fprintf(stderr, "ctlua: cannot connect to %s: %s\n", sa.sun_path, strerror(err));
	return -1;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A refusal ("error: ..."), as the client says it. */
static int refused(const char *line)
{
	fprintf(stderr, "ctlua: the service refused: %s\n", line + strlen("error: "));
	return 1;
}

int ctl_control_status(const char *name)
{
	int fd = connect_to(name);
	char *text = NULL;
	size_t len = 0;
	FILE *in;
	ssize_t n;
	bool any = false;

	if (fd < 0)
		return 1;
	/* a refusal is read even when the request could not be sent (EPIPE) */
	send_all(fd, "status\n", 7);
	if (!(in = fdopen(fd, "r"))) {
		fprintf(stderr, "ctlua: cannot ask the service: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = getline(&text, &len, in)) > 0) {
		if (!any && !strncmp(text, "error: ", 7)) {
			text[strcspn(text, "\n")] = '\0';
			refused(text);
			free(text);
			fclose(in);
			return 1;
		}
		any = true;
		if (!strcmp(text, "\n"))	/* the end of the answer */
			break;
		fputs(text, stdout);
	}
	free(text);
	fclose(in);
	if (!any) {
		fprintf(stderr, "ctlua: the service '%s' closed the connection without an "
			"answer\n", name);
		return 1;
	}
	return 0;
}

/* ---- the shell ---------------------------------------------------------------------- */


static void on_sigint(int signo)
{
	(void)signo;
	interrupted = 1;
}

/*
 * The next whole line from @in into *@line (its newline removed), or -1 at the end.
 * Ctrl-C (interrupted) sends "x" to the service; a read it cut short leaves part of a
 * line, which is kept and joined with the rest.
 */
static ssize_t next_line(FILE *in, char **line, size_t *len)
{
	static char *part;
	static size_t partlen, partcap;
	ssize_t n;

	for (;;) {
		if (interrupted) {
			interrupted = 0;
			if (send_all(fileno(in), "x\n", 2))
				return -1;
		}
		errno = 0;
		n = getline(line, len, in);
		if (n < 0 && errno == EINTR) {
			clearerr(in);
			continue;
		}
		if (n <= 0)
			return -1;
		if ((*line)[n - 1] != '\n' && errno == EINTR) {	/* a part: keep it */
			if (partlen + (size_t)n + 1 > partcap) {
				char *grown = realloc(part, partlen + (size_t)n + 1);

				if (!grown)
					return -1;
				part = grown;
				partcap = partlen + (size_t)n + 1;
			}
			memcpy(part + partlen, *line, (size_t)n);
			partlen += (size_t)n;
			clearerr(in);
			continue;
		}
		if ((*line)[n - 1] == '\n')
			(*line)[--n] = '\0';
		if (partlen) {		/* the part first, then the rest of the line */
			char *whole = malloc(partlen + (size_t)n + 1);

			if (!whole)
				return -1;
			memcpy(whole, part, partlen);
			memcpy(whole + partlen, *line, (size_t)n + 1);
			free(*line);
			*line = whole;
			*len = partlen + (size_t)n + 1;
			n += (ssize_t)partlen;
			partlen = 0;
		}
		return n;
	}
}

/* answer()'s loop, with Ctrl-C caught. */
static int answer_lines(FILE *in, bool tty, char *prompt, size_t size)
{
	static char *line;
	static size_t len;
	int r = 0;
	ssize_t n;

	for (;;) {
		n = next_line(in, &line, &len);
		if (n < 0)
			break;
		if (!strncmp(line, "error: ", 7)) {
			refused(line);
			return -1;
		}
		if (n < 2 || line[1] != ' ')
			continue;	/* not ours: skipped */
		switch (line[0]) {
		case 'c': {
			char **grown = realloc(cands, (ncands + 1) * sizeof(*cands));

			if (grown && (grown[ncands] = strdup(line + 2)))
				ncands++;
			if (grown)
				cands = grown;
			break;
		}
		case 'o':	/* flushed: a watch's lines come as they happen */
			puts(line + 2);
			fflush(stdout);
			break;
		case 'e':
			fprintf(stderr, "%s\n", line + 2);
			r = 1;
			break;
		case 'h':	/* the greeting: for a terminal only, as the shell's own */
			if (tty)
				puts(line + 2);
			break;
		case 'n':
			fprintf(stderr, "ctlua: %s\n", line + 2);
			break;
		case 'p':
			snprintf(prompt, size, "%s", line + 2);
			fflush(stdout);
			return r;
		}
	}
	fflush(stdout);
	return -1;
}

/*
 * Read the answer to one line up to its prompt ("p PROMPT"), which goes to @prompt.
 * Ctrl-C meanwhile asks the service to end a watch the line started ("x"); the answer
 * goes on until the prompt. Returns 0, 1 when a line reported an error, or -1 when the
 * connection ended.
 */
static int answer(FILE *in, bool tty, char *prompt, size_t size)
{
	struct sigaction sa = { .sa_handler = on_sigint }, old;	/* no SA_RESTART: EINTR */
	int r;

	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	r = answer_lines(in, tty, prompt, size);
	sigaction(SIGINT, &old, NULL);
	return r;
}

/* Tab: the service completes the word from its state ("c START LINE"). */
static char **complete(const char *text, int start, int end)
{
	char prompt[16], *req;
	int n;

	rl_attempted_completion_over = 1;	/* never file names */
	rl_completion_append_character = '\0';
	for (size_t i = 0; i < ncands; i++)
		free(cands[i]);
	ncands = 0;
	n = asprintf(&req, "c %d %.*s\n", start, end, rl_line_buffer);
	if (n < 0)
		return NULL;
	n = send_all(shell_fd, req, (size_t)n);
	free(req);
	if (n || answer(shell_in, true, prompt, sizeof(prompt)) < 0)
		return NULL;
	return ctl_complete_matches(text, cands, ncands);
}

int ctl_control_shell(const char *name)
{
	bool tty = isatty(STDIN_FILENO), failed = false;
	char prompt[16] = "> ", *line = NULL, *msg;
	int fd = connect_to(name), r;
	size_t cap = 0;
	FILE *in;

	if (fd < 0)
		return 1;
	send_all(fd, "shell\n", 6);	/* as status: a refusal is read */
	if (!(in = fdopen(fd, "r"))) {
		fprintf(stderr, "ctlua: cannot ask the service: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	if (tty) {
		rl_readline_name = "ctlua";
		shell_fd = fd;
		shell_in = in;
		ctl_complete_readline(complete);
	}
	if (answer(in, tty, prompt, sizeof(prompt)) < 0) {
		fclose(in);
		return 1;
	}
	for (;;) {
		if (tty) {
			free(line);
			line = readline(prompt);
			if (!line) {
				putchar('\n');
				break;
			}
			if (*line)
				add_history(line);
		} else {
			ssize_t n = getline(&line, &cap, stdin);

			if (n <= 0)
				break;
			if (line[n - 1] == '\n')
				line[n - 1] = '\0';
		}
		if (strchr(line, '\n'))
			continue;
		if (!(msg = malloc(strlen(line) + 4)))
			break;
		sprintf(msg, "l %s\n", line);
		r = send_all(fd, msg, strlen(msg));
		free(msg);
		if (r || (r = answer(in, tty, prompt, sizeof(prompt))) < 0) {
			fprintf(stderr, "ctlua: the service '%s' ended the shell\n", name);
			free(line);
			fclose(in);
			return 1;
		}
		failed |= r;
	}
	free(line);
	fclose(in);		/* Ctrl-D: the shell ends, the service runs on */
	return failed && !tty ? 1 : 0;
}

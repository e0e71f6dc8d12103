// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * complete_fuzz.c - libFuzzer harness for the shell's completion (src/repl_complete.c,
 * ctl_complete_collect): the line and the word's start that `ctlua shell NAME` sends
 * the control socket ("c START LINE"), or readline hands the shell. The first byte of
 * the input picks START (within the line), the rest is the line. Besides "no crash",
 * checks that every candidate starts with the word being completed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "repl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	char *line, **cands;
	size_t len, n;
	int start;

	if (!L) {
		L = fz_lua_new();	/* one state: completion only reads it */
		lua_pushvalue(L, 1);
		lua_setglobal(L, "ct");	/* as the shell has it: ct.al<Tab> */
	}
	if (size < 1)
		return 0;
	line = malloc(size);
	fz_check(line != NULL, "out of memory", NULL);
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	len = strlen(line);		/* the socket's line ends at its first NUL, too */
	start = (int)(data[0] % (len + 1));
	n = ctl_complete_collect(L, line, start, line + start, &cands);
	for (size_t i = 0; i < n; i++)
		fz_check(!strncmp(cands[i], line + start, len - (size_t)start),
			 "a candidate does not start with the word", cands[i]);
	free(line);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * owner_fuzz.c - libFuzzer harness for the ownership records under /run/ctlua
 * (src/owner.c): what a later ctlua reads from a file a dead or living one wrote, which
 * may be cut short or damaged. Any bytes must parse without harm, and a record written
 * from a pid, program id and policy taken from the input must read back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "owner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_owner_info info, back;
	char buf[CTL_OWNER_RECORD_MAX], policy[PATH_MAX];
	size_t n = size < 8 ? 0 : size - 8;
	int32_t pid = 0;
	uint32_t id = 0;
	int len;

	ctl_owner_parse((const char *)data, size, &info);
	fz_check(info.pid >= 0, "a negative pid was read", NULL);
	fz_check(memchr(info.policy, '\0', sizeof(info.policy)) != NULL,
		 "the policy is not terminated", NULL);

	/* round trip: the first 8 bytes are the pid and program id, the rest the policy */
	if (size < 8)
		return 0;
	memcpy(&pid, data, 4);
	memcpy(&id, data + 4, 4);
	pid = pid == INT32_MIN ? 1 : abs(pid) ? abs(pid) : 1;
	if (n >= sizeof(policy))
		n = sizeof(policy) - 1;
	memcpy(policy, data + 8, n);
	policy[n] = '\0';
	len = ctl_owner_format(buf, sizeof(buf), pid, id, "veth0", 0, policy);
	if (len < 0)
		return 0;
	fz_check((size_t)len == strlen(buf), "the length returned is not the text's", policy);
	ctl_owner_parse(buf, (size_t)len, &back);
	fz_check(back.pid == pid && back.prog_id == id, "pid or program id did not read back",
		 policy);
	for (char *p = policy; *p; p++)
		if (*p == '\n')
			*p = '?';
	fz_check(!strcmp(back.policy, policy), "the policy did not read back", policy);
	return 0;
}

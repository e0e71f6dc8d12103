// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tc_drop_all.bpf.c - someone else's TC program for tests/62-ownership.t: it drops every
 * packet it sees, so a packet that gets past it was never handed to it.
 */
#define TC_ACT_SHOT	2

__attribute__((section("tc"), used))
int drop_all(void *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";

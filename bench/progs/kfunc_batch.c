// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kfunc_batch.c - the bare C baseline for ct.alloc_many: the same kfunc batch through
 * ctlua's own datapath (build/datapath.o, build/probe.o), without Lua.
 *
 *   kfunc_batch COUNT FIRST-SRC [THREADS]
 *
 * Loads the BPF object, generates the tuples (flowgen.h), runs one warm-up request
 * that creates nothing (as bench/lua/insert.lua does), then, timed, fills the
 * memory-mapped request array CTLUA_MAX_REQUESTS at a time and runs each chunk the
 * way l_alloc_many does: ctl_dp_run_parallel, THREADS slices at once (each filled by
 * the thread that runs it), one BPF_PROG_TEST_RUN each, in the calling task's netns.
 * Prints "inserted N of COUNT in T ns, F failed"; exits 1 if anything failed.
 */
#include <stdio.h>
#include <string.h>
#include "datapath.h"
#include "flowgen.h"

int main(int argc, char **argv)
{
	const struct ctlua_opts opts = {
		.timeout_ms = 600000,
		.status = 1u << 2,	/* IPS_ASSURED, what status={"assured"} sets */
		.flags = CTLUA_OPT_TIMEOUT | CTLUA_OPT_STATUS,
	};
	struct ctlua_req_params params;
	struct ctlua_flow *flows;
	struct ctlua_request *reqs;
	struct ctl_dp *dp;
	uint32_t count, first, threads, created = 0, failed = 0;
	uint64_t t0, t1;
	int first_err = 0, err;
	char msg[512];

	if ((err = flowgen_args("kfunc_batch", argc, argv, &count, &first, &threads)))
		return err;
	err = ctl_dp_open(&dp, NULL, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "kfunc_batch: %s\n", msg);
		return 1;
	}
	/* Untimed, like the Lua table the ctlua contender builds before its clock starts. */
	flows = calloc(count, sizeof(*flows));
	if (!flows) {
		fprintf(stderr, "kfunc_batch: out of memory\n");
		ctl_dp_close(dp);
		return 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct flowgen g = flowgen_at(first, i);

		flows[i].saddr[0] = htonl(g.src);
		flows[i].daddr[0] = htonl(g.dst);
		flows[i].sport = htons(g.sport);
		flows[i].dport = htons(g.dport);
		flows[i].family = CTLUA_AF_INET;
		flows[i].proto = IPPROTO_UDP;
	}
	reqs = ctl_dp_requests(dp);
	/*
	 * The warm-up insert.lua makes too: one request the kernel refuses (protocol 1,
	 * EPROTO, nothing created), so first-run costs fall outside the timed window.
	 */
	memset(reqs, 0, sizeof(*reqs));
	reqs[0].flow = flows[0];
	reqs[0].flow.saddr[0] = htonl(0xc613fffe);	/* 198.19.255.254, outside every set */
	reqs[0].flow.proto = 1;
	reqs[0].opts = opts;
	reqs[0].op = CTLUA_REQ_ALLOC;
	err = ctl_dp_run_requests(dp, 1);
	if (err || reqs[0].error != -EPROTO) {
		fprintf(stderr, "kfunc_batch: the warm-up request did not fail with EPROTO (%s)\n",
			strerror(err ? -err : -reqs[0].error));
		free(flows);
		ctl_dp_close(dp);
		return 1;
	}

	/* as ct.alloc_many with no alloc callback: the same BPF work, no events */
	ctl_req_params_default(&params);
	params.flags |= CTLUA_PARAM_QUIET | CTLUA_PARAM_NO_ENTRY;
	ctl_dp_set_params(dp, &params);
	t0 = flowgen_now_ns();
	for (uint32_t base = 0; base < count; base += CTLUA_MAX_REQUESTS) {
		uint32_t m = count - base < CTLUA_MAX_REQUESTS ? count - base : CTLUA_MAX_REQUESTS;

		struct ctl_dp_alloc_chunk c = { .reqs = reqs, .flows = flows + base, .opts = &opts };

		err = ctl_dp_run_parallel(dp, m, threads, ctl_dp_fill_alloc, &c);
		if (err) {
			fprintf(stderr, "kfunc_batch: BPF_PROG_TEST_RUN failed after %u of %u "
				"tuples were created (%s)\n", created, count, strerror(-err));
			break;
		}
		for (uint32_t j = 0; j < m; j++) {
			if (!reqs[j].error) {
				created++;
				continue;
			}
			if (!failed++)
				first_err = reqs[j].error;
		}
	}
	t1 = flowgen_now_ns();

	printf("inserted %u of %u in %llu ns, %u failed\n", created, count,
	       (unsigned long long)(t1 - t0), failed);
	if (failed)
		fprintf(stderr, "kfunc_batch: %u requests failed, the first with %s\n", failed,
			strerror(-first_err));
	free(flows);
	ctl_dp_close(dp);
	return err || failed ? 1 : 0;
}

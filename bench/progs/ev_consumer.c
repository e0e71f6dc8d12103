// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ev_consumer.c - row 4's peer for ctlua's Lua callbacks: a C callback on the same
 * ring buffer of the same BPF object (ctlua's skeleton, build/ctlua.skel.h, which embeds
 * build/ctlua.bpf.o), attached the way ctlua attaches it.
 *
 *   ev_consumer IFNAME drain COUNT CYCLES CMD
 *   ev_consumer IFNAME run
 *   ev_consumer IFNAME ack
 *   ev_consumer IFNAME hold
 *
 * It loads the object, writes the config ctlua would after ct.events{"miss"} (mode
 * enforce, default pass, miss events only), attaches ctlua_ingress to IFNAME's ingress
 * with bpf_tc_*, and opens the ring buffer with ring_buffer__new. Then:
 *
 * drain  CYCLES + 1 times: runs CMD (a shell command that makes COUNT events, e.g.
 *        ev_sender fill, with the word PROGID replaced by the id of the attached
 *        program), then drains the ring buffer with ring_buffer__consume until
 *        COUNT events went through the callback, timed with CLOCK_MONOTONIC. Cycle 0
 *        is a warm-up; prints "cycle C handled N ns T" for the others.
 * run    prints "ready", then reads until SIGTERM, waiting as ctlua does (src/loop.c:
 *        the ring watched for a while after a read, then the "asleep" flag raised before
 *        ring_buffer__poll); "handled N" at the end.
 * ack    prints "ready", then for every event one line with its time_ns, written at
 *        once: what ev_sender lone waits for.
 * hold   prints "ready" and waits for SIGTERM without reading: the events are written
 *        into the ring buffer and wake no one (until it is full).
 *
 * The callback of drain and run only counts, as ct.on("miss", function(e) n = n + 1 end)
 * does in Lua. Exits 1 with a message when something fails.
 */
#include <signal.h>
#include <net/if.h>
#include <sys/mman.h>
#include "ev_util.h"
#include "ctlua.skel.h"

static const char *prog = "ev_consumer";
static volatile sig_atomic_t stop;
static long long handled;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static int count_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	handled++;
	return 0;
}

static int ack_event(void *ctx, void *data, size_t size)
{
	const struct ctlua_event *e = data;
	char line[32];
	int n;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)e->time_ns);
	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		return -EIO;
	handled++;
	return 0;
}

/* Whether records were reserved that are not read: the ring's two positions differ. */
static bool waiting(const void *pos, long page)
{
	const unsigned long *cons = pos, *prod = (const void *)((const char *)pos + page);

	return __atomic_load_n(prod, __ATOMIC_ACQUIRE) != __atomic_load_n(cons, __ATOMIC_ACQUIRE);
}

/* Watch the ring for CTLUA_SPIN_NS: true as soon as records wait. */
static bool spin(const void *pos, long page)
{
	uint64_t end = ev_now() + CTLUA_SPIN_NS;

	for (unsigned int i = 1;; i++) {
		if (waiting(pos, page) || stop)
			return true;
		if (!(i & 15) && ev_now() >= end)
			return false;
	}
}

static int drain(struct ring_buffer *rb, long long count, int cycles, const char *cmd)
{
	for (int c = 0; c <= cycles; c++) {
		uint64_t t0, t1;
		int st = system(cmd);

		if (st != 0) {
			fprintf(stderr, "%s: '%s' failed (status %d)\n", prog, cmd, st);
			return -1;
		}
		handled = 0;
		t0 = ev_now();
		while (handled < count && ring_buffer__consume(rb) > 0)
			;
		t1 = ev_now();
		if (handled != count) {
			fprintf(stderr, "%s: cycle %d: %lld events in the ring buffer, expected %lld\n",
				prog, c, handled, count);
			return -1;
		}
		if (c > 0)
			printf("cycle %d handled %lld ns %llu\n", c, handled,
			       (unsigned long long)(t1 - t0));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctlua_policy pol = {	/* slot 0, which the zeroed config names */
		.mode = CTLUA_MODE_ENFORCE,
		.event_mask = 1u << CTLUA_EV_MISS,
		.dflt = { .action = CTLUA_ACT_PASS },
	};
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb = NULL;
	struct ctlua_bpf *skel;
	const char *mode = argc > 2 ? argv[2] : "";
	bool ack = !strcmp(mode, "ack"), hold = !strcmp(mode, "hold");
	bool own_qdisc = false, attached = false;
	long page = sysconf(_SC_PAGESIZE);
	void *pos = MAP_FAILED;
	__u32 zero = 0;
	int err, rc = 1, got;

	if (!(argc == 3 && (ack || hold || !strcmp(mode, "run"))) &&
	    !(argc == 6 && !strcmp(mode, "drain"))) {
		fprintf(stderr, "usage: %s IFNAME drain COUNT CYCLES CMD\n"
			"       %s IFNAME run | ack | hold\n", prog, prog);
		return 2;
	}
	hook.ifindex = (int)if_nametoindex(argv[1]);
	if (!hook.ifindex) {
		fprintf(stderr, "%s: no interface named '%s'\n", prog, argv[1]);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: epoll_wait returns at once */
	sigaction(SIGTERM, &sa, NULL);

	skel = ctlua_bpf__open();
	if (!skel) {
		fprintf(stderr, "%s: cannot open the BPF object (%s)\n", prog, strerror(errno));
		return 1;
	}
	/* Only the ingress program is used here; the others need not be verified. */
	bpf_program__set_autoload(skel->progs.ctlua_egress, false);
	bpf_program__set_autoload(skel->progs.ctlua_req, false);
	if ((err = ctlua_bpf__load(skel))) {
		fprintf(stderr, "%s: cannot load the BPF object (%s)\n", prog, strerror(-err));
		goto destroy;
	}
	if (bpf_map__update_elem(skel->maps.ctl_policy, &zero, sizeof(zero), &pol, sizeof(pol), 0)) {
		fprintf(stderr, "%s: cannot write the policy (%s)\n", prog, strerror(errno));
		goto destroy;
	}
	err = bpf_tc_hook_create(&hook);
	own_qdisc = !err;
	if (err && err != -EEXIST) {
		fprintf(stderr, "%s: cannot add clsact to '%s' (%s)\n", prog, argv[1], strerror(-err));
		goto destroy;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.ctlua_ingress);
	if ((err = bpf_tc_attach(&hook, &opts))) {
		fprintf(stderr, "%s: cannot attach to '%s' (%s)\n", prog, argv[1], strerror(-err));
		goto detach;
	}
	attached = true;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ctl_events), ack ? ack_event : count_event,
			      NULL, NULL);
	/* the consumer's page, then the producer's, read-only: as ctlua maps them */
	pos = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.ctl_events), 0);
	if (!rb || pos == MAP_FAILED) {
		fprintf(stderr, "%s: cannot open the ring buffer (%s)\n", prog, strerror(errno));
		goto detach;
	}

	if (!strcmp(mode, "drain")) {
		long long count = ev_num(prog, "count", argv[3], 1, 58000);
		int cycles = (int)ev_num(prog, "cycles", argv[4], 1, 1000);
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const char *at = strstr(argv[5], "PROGID");
		char cmd[1024];

		if (bpf_obj_get_info_by_fd(opts.prog_fd, &info, &len) || !at) {
			fprintf(stderr, "%s: no program id, or no PROGID in '%s'\n", prog, argv[5]);
			goto detach;
		}
		snprintf(cmd, sizeof(cmd), "%.*s%u%s", (int)(at - argv[5]), argv[5], info.id,
			 at + strlen("PROGID"));
		rc = drain(rb, count, cycles, cmd) ? 1 : 0;
		goto detach;
	}
	printf("ready\n");
	fflush(stdout);
	got = 0;
	while (hold && !stop)
		pause();
	while (!stop) {
		/*
		 * As ctlua reads (src/loop.c): after a read that found some, watch the ring
		 * for CTLUA_SPIN_NS; then raise the "asleep" flag, look once more, and sleep
		 * until the program, finding the flag, wakes us.
		 */
		err = ring_buffer__consume(rb);
		if (err < 0) {
			fprintf(stderr, "%s: ring_buffer__consume failed (%s)\n", prog, strerror(-err));
			goto detach;
		}
		got += err;
		if (got > 0 && spin(pos, page)) {
			got = 0;
			continue;
		}
		__atomic_store_n(&skel->data_wake->ctl_asleep, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (waiting(pos, page)) {
			skel->data_wake->ctl_asleep = 0;
			got = 0;
			continue;
		}
		/* what the poll reads counts as a read: the ring is watched after it */
		got = ring_buffer__poll(rb, 1000);
		__atomic_store_n(&skel->data_wake->ctl_asleep, 0, __ATOMIC_RELAXED);
		if (got < 0 && got != -EINTR) {
			fprintf(stderr, "%s: ring_buffer__poll failed (%s)\n", prog, strerror(-got));
			goto detach;
		}
		got = got > 0 ? got : 0;
	}
	if (!ack && !hold)
		printf("handled %lld\n", handled);
	rc = 0;
detach:
	if (pos != MAP_FAILED)
		munmap(pos, (size_t)page * 2);
	ring_buffer__free(rb);
	ev_tc_detach(&hook, &opts, attached, own_qdisc);
destroy:
	ctlua_bpf__destroy(skel);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ev_sender.c - the traffic and the stopwatch of rows 4 and 5 (bench/rows/40-events.sh,
 * bench/rows/50-first-packet.sh). It runs in the sending namespace and sends IPv4/UDP
 * through a raw socket, so each packet may carry its own source port (its own flow).
 *
 *   ev_sender fill    PROG-ID COUNT
 *   ev_sender blast   SRC DST PORT MILLISECONDS PROG-ID CONSUMER-PID
 *   ev_sender lone    SRC DST PORT COUNT INTERVAL-US FIFO
 *   ev_sender verdict SRC DST PORT RATE COUNT PROG-ID OUT
 *   ev_sender rtt     DST PORT RATE COUNT
 *   ev_sender echo    PORT
 *
 * fill     COUNT events into the ring buffer of PROG-ID's object, then exit: one
 *          BPF_PROG_TEST_RUN of that TC program (ctlua_ingress) with repeat = COUNT on
 *          a UDP frame, which misses conntrack (nothing tracks in a fresh namespace)
 *          and emits one miss event per run. The test run's skb comes from lo, so the
 *          consumer attaches to lo (ctlua then names the interface from its own link).
 * blast    packets as fast as they go for MILLISECONDS, and what the receiver's TC
 *          program (PROG-ID, a ctlua object) did meanwhile: its run count and run
 *          time (BPF_ENABLE_STATS, held only while this runs), the events it
 *          submitted and lost (ctl_stats), the events still unread in its ring buffer
 *          at the end, so that events read during the blast = submitted - unread,
 *          the wakeups the program forced (ctl_stats), and the CPU time the consumer (CONSUMER-PID, single-threaded; 0: none)
 *          ran meanwhile, from /proc/PID/schedstat.
 * lone     COUNT lone packets, INTERVAL-US apart; after each it spins reading FIFO,
 *          where the consumer's callback writes one line per event: the event's time
 *          (ns, or e.time's wall-clock seconds from Lua). Prints the percentiles of
 *          send -> line read, split at the event's time into the packet path
 *          (send -> emit) and the delivery (emit -> callback's line read).
 * verdict  COUNT new flows at RATE per second, each one packet from its own source
 *          port (20000 + i); after sending, it polls ctl_verdicts of PROG-ID's
 *          object for each flow in order and takes the time its key appears: first
 *          packet -> verdict in the map. Per flow "sport send seen" to OUT.
 * rtt      the peer of verdict: COUNT UDP probes at RATE per second to an echo, one
 *          socket, percentiles of half the round trip.
 * echo     answer every datagram on PORT to its sender, until killed.
 *
 * verdict and rtt follow an open-loop schedule (probe i at start + i / RATE) and spin
 * throughout, so they never sleep through an answer; lone sleeps until each probe's
 * time, then spins until its answer. The first EV_WARM probes are sent but not counted.
 * Results go to stdout as "key value" pairs on one line; exits 1 when an answer never
 * comes (1 s), with a message.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "ev_util.h"

#define EV_WARM		20		/* probes sent before the counted ones */
#define EV_BATCH	32		/* packets per sendmmsg */
#define EV_SPORT0	20000
#define EV_GIVE_UP	1000000000ull	/* ns to wait for one answer */

static const char *prog = "ev_sender";

static struct sockaddr_in dst_sa(uint32_t daddr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = daddr;
	return sa;
}

static int send_pkt(int fd, const struct ev_pkt *p, const struct sockaddr_in *sa)
{
	if (sendto(fd, p, sizeof(*p), 0, (const struct sockaddr *)sa, sizeof(*sa)) != sizeof(*p)) {
		fprintf(stderr, "%s: sendto failed (%s)\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

/* Send @count packets, or for @ns nanoseconds when @count is 0; returns how many went. */
static long long flood(int fd, uint32_t saddr, uint32_t daddr, uint16_t port,
		       long long count, uint64_t ns)
{
	static struct ev_pkt pkt[EV_BATCH];
	struct mmsghdr msg[EV_BATCH];
	struct iovec iov[EV_BATCH];
	struct sockaddr_in sa = dst_sa(daddr, port);
	uint64_t end = ev_now() + ns;
	long long sent = 0;

	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < EV_BATCH; i++) {
		iov[i].iov_base = &pkt[i];
		iov[i].iov_len = sizeof(pkt[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &sa;
		msg[i].msg_hdr.msg_namelen = sizeof(sa);
	}
	while (count ? sent < count : ev_now() < end) {
		int n = EV_BATCH, r;

		if (count && count - sent < n)
			n = (int)(count - sent);
		/* Another source port for each packet: 10000..59999, as flows would. */
		for (int i = 0; i < n; i++)
			ev_pkt_init(&pkt[i], saddr, daddr, (uint16_t)(10000 + (sent + i) % 50000), port);
		r = sendmmsg(fd, msg, (unsigned int)n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			fprintf(stderr, "%s: sendmmsg failed (%s)\n", prog, strerror(errno));
			return -1;
		}
		sent += r;
	}
	return sent;
}

static int cmd_fill(char **a)
{
	__u32 id = (__u32)ev_num(prog, "program id", a[0], 1, 0x7fffffff);
	long count = ev_num(prog, "count", a[1], 1, 1000000);
	unsigned char frame[14 + sizeof(struct ev_pkt)] = { [12] = 0x08 };	/* IPv4 */
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = (int)count);
	struct ev_pkt pkt;
	int pfd;

	/* 198.18.0.1:20000 -> 198.18.0.2:9, as from the sending namespace */
	ev_pkt_init(&pkt, htonl(0xc6120001), htonl(0xc6120002), EV_SPORT0, 9);
	memcpy(frame + 14, &pkt, sizeof(pkt));
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0 || bpf_prog_test_run_opts(pfd, &run)) {
		fprintf(stderr, "%s: cannot test-run program %u (%s)\n", prog, id, strerror(errno));
		return 1;
	}
	return 0;
}

/* Nanoseconds task @pid has run on a CPU (/proc/PID/schedstat); 0 for pid 0 or if gone. */
static unsigned long long cpu_ns_of(long pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* Bytes written to a ring buffer and not yet read: producer - consumer position. */
static long long ring_unread(const void *pages, long page)
{
	const volatile unsigned long *cons = pages;
	const volatile unsigned long *prod = (const void *)((const char *)pages + page);

	return (long long)(*prod - *cons);
}

static int cmd_blast(char **a)
{
	/* each ctlua_event takes its 64 bytes plus the ring's 8-byte record header */
	const long long rec = sizeof(struct ctlua_event) + 8;
	uint32_t saddr, daddr;
	uint16_t port = (uint16_t)ev_num(prog, "port", a[2], 1, 65535);
	long ms = ev_num(prog, "milliseconds", a[3], 1, 600000);
	__u32 id = (__u32)ev_num(prog, "program id", a[4], 1, 0x7fffffff);
	long pid = ev_num(prog, "consumer pid", a[5], 0, 0x7fffffff);
	long long sent, ev0, ev1, lost0, lost1, unread0, unread1, wake0, wake1;
	unsigned long long cpu0, cpu1;
	long page = sysconf(_SC_PAGESIZE);
	__u64 cnt0, cnt1, ns0, ns1;
	int fd, pfd, stats_fd, ring_fd, stats_on;
	uint64_t t0, t1;
	void *pages;

	if (ev_addr(prog, a[0], &saddr) || ev_addr(prog, a[1], &daddr))
		return 2;
	if ((stats_fd = ev_map_of_prog(prog, id, "ctl_stats", NULL)) < 0 ||
	    (ring_fd = ev_map_of_prog(prog, id, "ctl_events", NULL)) < 0)
		return 1;
	pfd = bpf_prog_get_fd_by_id(id);
	/* Read-only, both pages: the consumer's position, then the producer's. */
	pages = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_SHARED, ring_fd, 0);
	if (pfd < 0 || pages == MAP_FAILED) {
		fprintf(stderr, "%s: cannot open program %u or map its ring buffer (%s)\n",
			prog, id, strerror(errno));
		return 1;
	}
	/* Counting run time costs every BPF program two clock reads: only while we run. */
	stats_on = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_on < 0) {
		fprintf(stderr, "%s: BPF_ENABLE_STATS failed (%s)\n", prog, strerror(errno));
		return 1;
	}
	if ((fd = ev_raw_socket(prog)) < 0)
		return 1;
	/* Untimed warm-up: the first packets of a path take its one-time costs. */
	if (flood(fd, saddr, daddr, port, 1000, 0) != 1000)
		return 1;
	usleep(20000);
	if (ev_prog_stats(pfd, &cnt0, &ns0))
		return 1;
	ev0 = ev_stat(stats_fd, CTLUA_STAT_EVENTS);
	lost0 = ev_stat(stats_fd, CTLUA_STAT_EVENTS_LOST);
	wake0 = ev_stat(stats_fd, CTLUA_STAT_WAKEUPS);
	unread0 = ring_unread(pages, page);
	cpu0 = cpu_ns_of(pid);
	t0 = ev_now();
	sent = flood(fd, saddr, daddr, port, 0, (uint64_t)ms * 1000000);
	t1 = ev_now();
	unread1 = ring_unread(pages, page);
	cpu1 = cpu_ns_of(pid);
	ev1 = ev_stat(stats_fd, CTLUA_STAT_EVENTS);
	lost1 = ev_stat(stats_fd, CTLUA_STAT_EVENTS_LOST);
	wake1 = ev_stat(stats_fd, CTLUA_STAT_WAKEUPS);
	if (sent < 0 || ev_prog_stats(pfd, &cnt1, &ns1) || ev0 < 0 || ev1 < 0) {
		fprintf(stderr, "%s: cannot read the program's counters\n", prog);
		return 1;
	}
	printf("sent %lld ns %llu run_cnt %llu run_ns %llu events %lld lost %lld unread %lld "
	       "consumed %lld consumer_cpu_ns %llu wakeups %lld\n", sent, (unsigned long long)(t1 - t0),
	       (unsigned long long)(cnt1 - cnt0), (unsigned long long)(ns1 - ns0),
	       ev1 - ev0, lost1 - lost0, unread1 / rec,
	       (ev1 - ev0) - (unread1 - unread0) / rec, cpu1 - cpu0, wake1 - wake0);
	close(stats_on);
	return 0;
}

/*
 * Read what is there of a line from non-blocking @fd into @buf (holding *@len bytes).
 * Returns 1 when a whole line is in @buf (NUL-terminated, without its newline), 0 when
 * not yet, -1 at the end of the stream or on an error.
 */
static int line_read(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n;
	char *nl;

	if ((nl = memchr(buf, '\n', *len)))
		goto line;
	n = read(fd, buf + *len, size - 1 - *len);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	*len += (size_t)n;
	if (!(nl = memchr(buf, '\n', *len)))
		return *len >= size - 1 ? -1 : 0;
line:
	*nl = '\0';
	return 1;
}

/* Drop the line line_read returned from the front of @buf. */
static void line_drop(char *buf, size_t *len)
{
	size_t used = strlen(buf) + 1;

	memmove(buf, buf + used, *len - used);
	*len -= used;
}

static int cmd_lone(char **a)
{
	uint32_t saddr, daddr;
	uint16_t port = (uint16_t)ev_num(prog, "port", a[2], 1, 65535);
	long count = ev_num(prog, "count", a[3], 1, 1000000);
	long gap = ev_num(prog, "interval", a[4], 10, 10000000);
	uint64_t *total = calloc((size_t)count, 8), *path = calloc((size_t)count, 8);
	uint64_t *wake = calloc((size_t)count, 8), start;
	int64_t offset = ev_realtime_offset();
	struct pollfd pfd;
	char buf[256];
	size_t len = 0;
	int fd, ffd, r = 0;
	struct ev_pkt pkt;
	struct sockaddr_in sa;

	if (ev_addr(prog, a[0], &saddr) || ev_addr(prog, a[1], &daddr))
		return 2;
	if (!total || !path || !wake || (fd = ev_raw_socket(prog)) < 0)
		return 1;
	sa = dst_sa(daddr, port);
	ffd = open(a[5], O_RDONLY | O_NONBLOCK);
	if (ffd < 0) {
		fprintf(stderr, "%s: cannot open '%s' (%s)\n", prog, a[5], strerror(errno));
		return 1;
	}
	/* The consumer says "ready" once attached and waiting for events. */
	pfd = (struct pollfd){ .fd = ffd, .events = POLLIN };
	for (;;) {
		if (poll(&pfd, 1, 15000) <= 0) {
			fprintf(stderr, "%s: the consumer never said ready\n", prog);
			return 1;
		}
		r = line_read(ffd, buf, sizeof(buf), &len);
		if (r < 0) {
			fprintf(stderr, "%s: the consumer ended before it was ready\n", prog);
			return 1;
		}
		if (r == 1) {
			int ready = !strcmp(buf, "ready");

			line_drop(buf, &len);
			if (ready)
				break;
		}
	}
	start = ev_now() + 2000000;
	for (long i = -EV_WARM; i < count; i++) {
		uint64_t t_send, t_ack, t_emit, give_up;
		double v;

		ev_sleep_until(start + (uint64_t)(i + EV_WARM) * (uint64_t)gap * 1000);
		ev_pkt_init(&pkt, saddr, daddr, (uint16_t)(EV_SPORT0 + (i + EV_WARM) % 40000), port);
		t_send = ev_now();
		if (send_pkt(fd, &pkt, &sa))
			return 1;
		give_up = t_send + EV_GIVE_UP;
		while ((r = line_read(ffd, buf, sizeof(buf), &len)) == 0)
			if (ev_now() > give_up)
				break;
		t_ack = ev_now();
		if (r != 1) {
			fprintf(stderr, "%s: no event line for probe %ld (%s)\n", prog, i,
				r < 0 ? "the consumer ended" : "waited 1 s");
			return 1;
		}
		/* Lua writes e.time (wall-clock seconds), C the event's time_ns. */
		v = strtod(buf, NULL);
		t_emit = strchr(buf, '.') ? (uint64_t)(v * 1e9 - (double)offset) : (uint64_t)v;
		line_drop(buf, &len);
		if (i < 0)
			continue;
		total[i] = t_ack - t_send;
		/* e.time's double carries ~0.25 us: keep the parts' signs sane */
		path[i] = t_emit > t_send ? t_emit - t_send : 0;
		wake[i] = t_ack > t_emit ? t_ack - t_emit : 0;
	}
	printf("probes %ld", count);
	printf(" total_p50 %llu", (unsigned long long)ev_pct(total, (size_t)count, 50));
	printf(" total_p99 %llu", (unsigned long long)ev_pct(total, (size_t)count, 99));
	printf(" total_max %llu", (unsigned long long)total[count - 1]);
	printf(" path_p50 %llu", (unsigned long long)ev_pct(path, (size_t)count, 50));
	printf(" path_p99 %llu", (unsigned long long)ev_pct(path, (size_t)count, 99));
	printf(" wake_p50 %llu", (unsigned long long)ev_pct(wake, (size_t)count, 50));
	printf(" wake_p99 %llu\n", (unsigned long long)ev_pct(wake, (size_t)count, 99));
	return 0;
}

static void print_pcts(const char *name, uint64_t *v, size_t n)
{
	uint64_t p50 = ev_pct(v, n, 50), p99 = ev_pct(v, n, 99), p999 = ev_pct(v, n, 99.9);

	printf(" %s_p50 %llu %s_p99 %llu %s_p999 %llu %s_max %llu", name,
	       (unsigned long long)p50, name, (unsigned long long)p99, name,
	       (unsigned long long)p999, name, (unsigned long long)v[n - 1]);
}

static int cmd_verdict(char **a)
{
	uint32_t saddr, daddr;
	uint16_t port = (uint16_t)ev_num(prog, "port", a[2], 1, 65535);
	long rate = ev_num(prog, "rate", a[3], 1, 1000000);
	long count = ev_num(prog, "count", a[4], 1, 40000 - EV_WARM);
	__u32 id = (__u32)ev_num(prog, "program id", a[5], 1, 0x7fffffff);
	long n = count + EV_WARM, sent = 0, seen = 0, late = 0;
	uint64_t *t_send = calloc((size_t)n, 8), *t_seen = calloc((size_t)n, 8), *lat;
	uint64_t start, gap = 1000000000ull / (uint64_t)rate;
	struct ctlua_flow_verdict v;	/* the map's value: the lookup writes all of it */
	struct sockaddr_in sa;
	struct ev_pkt pkt;
	FILE *out;
	int fd, vfd;

	if (ev_addr(prog, a[0], &saddr) || ev_addr(prog, a[1], &daddr))
		return 2;
	if (!t_send || !t_seen || (fd = ev_raw_socket(prog)) < 0)
		return 1;
	if ((vfd = ev_map_of_prog(prog, id, "ctl_verdicts", NULL)) < 0)
		return 1;
	if (!(out = fopen(a[6], "w"))) {
		fprintf(stderr, "%s: cannot write '%s' (%s)\n", prog, a[6], strerror(errno));
		return 1;
	}
	sa = dst_sa(daddr, port);
	start = ev_now() + 2000000;
	while (seen < n) {
		uint64_t now = ev_now();
		struct ctlua_flow key = {
			.family = CTLUA_AF_INET, .proto = IPPROTO_UDP, .dport = htons(port),
		};

		if (sent < n && now >= start + (uint64_t)sent * gap) {
			if (now > start + (uint64_t)sent * gap + 20000)
				late++;	/* more than 20 us behind its schedule */
			ev_pkt_init(&pkt, saddr, daddr, (uint16_t)(EV_SPORT0 + sent), port);
			t_send[sent] = ev_now();
			if (send_pkt(fd, &pkt, &sa))
				return 1;
			sent++;
			continue;
		}
		if (seen == sent)
			continue;
		/* The oldest flow still waiting: ctlua answers in the order events come. */
		key.saddr[0] = saddr;
		key.daddr[0] = daddr;
		key.sport = htons((uint16_t)(EV_SPORT0 + seen));
		if (bpf_map_lookup_elem(vfd, &key, &v) == 0) {
			t_seen[seen++] = ev_now();
			continue;
		}
		if (now > t_send[seen] + EV_GIVE_UP) {
			fprintf(stderr, "%s: no verdict for source port %ld after 1 s\n", prog,
				EV_SPORT0 + seen);
			return 1;
		}
	}
	lat = calloc((size_t)count, 8);
	if (!lat)
		return 1;
	for (long i = 0; i < n; i++) {
		fprintf(out, "%ld %llu %llu\n", EV_SPORT0 + i, (unsigned long long)t_send[i],
			(unsigned long long)t_seen[i]);
		if (i >= EV_WARM)
			lat[i - EV_WARM] = t_seen[i] - t_send[i];
	}
	fclose(out);
	printf("flows %ld late %ld offset_ns %lld", count, late, (long long)ev_realtime_offset());
	print_pcts("lat", lat, (size_t)count);
	printf("\n");
	return 0;
}

static int cmd_rtt(char **a)
{
	uint32_t daddr;
	uint16_t port = (uint16_t)ev_num(prog, "port", a[1], 1, 65535);
	long rate = ev_num(prog, "rate", a[2], 1, 1000000);
	long count = ev_num(prog, "count", a[3], 1, 10000000);
	long n = count + EV_WARM, sent = 0, got = 0, late = 0;
	uint64_t *t_send = calloc((size_t)n, 8), *half = calloc((size_t)count, 8);
	uint64_t start, gap = 1000000000ull / (uint64_t)rate;
	struct sockaddr_in sa;
	int fd;

	if (ev_addr(prog, a[0], &daddr))
		return 2;
	sa = dst_sa(daddr, port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!t_send || !half || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "%s: cannot open a UDP socket to the echo (%s)\n", prog, strerror(errno));
		return 1;
	}
	start = ev_now() + 2000000;
	while (got < n) {
		uint64_t now = ev_now();
		uint32_t idx;
		ssize_t r;

		if (sent < n && now >= start + (uint64_t)sent * gap) {
			if (now > start + (uint64_t)sent * gap + 20000)
				late++;
			idx = (uint32_t)sent;
			t_send[sent] = ev_now();
			if (send(fd, &idx, sizeof(idx), 0) != sizeof(idx)) {
				fprintf(stderr, "%s: send failed (%s)\n", prog, strerror(errno));
				return 1;
			}
			sent++;
			continue;
		}
		r = recv(fd, &idx, sizeof(idx), MSG_DONTWAIT);
		if (r == sizeof(idx) && idx < (uint32_t)n) {
			now = ev_now();
			if (idx >= EV_WARM)
				half[idx - EV_WARM] = (now - t_send[idx]) / 2;
			got++;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "%s: recv failed (%s)\n", prog, strerror(errno));
			return 1;
		}
		if (got < sent && now > t_send[got] + EV_GIVE_UP) {
			fprintf(stderr, "%s: no echo for probe %ld after 1 s\n", prog, got);
			return 1;
		}
	}
	printf("probes %ld late %ld", count, late);
	print_pcts("half", half, (size_t)count);
	printf("\n");
	return 0;
}

static int cmd_echo(char **a)
{
	uint16_t port = (uint16_t)ev_num(prog, "port", a[0], 1, 65535);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[2048];

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "%s: cannot bind UDP port %u (%s)\n", prog, port, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: recvfrom failed (%s)\n", prog, strerror(errno));
			return 1;
		}
		sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, flen);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(char **);
	} cmds[] = {
		{ "fill", 2, cmd_fill }, { "blast", 6, cmd_blast }, { "lone", 6, cmd_lone },
		{ "verdict", 7, cmd_verdict }, { "rtt", 4, cmd_rtt }, { "echo", 1, cmd_echo },
	};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (argc - 2 != cmds[i].args)
			break;
		return cmds[i].fn(argv + 2);
	}
	fprintf(stderr, "usage: ev_sender fill    PROG-ID COUNT\n"
		"       ev_sender blast   SRC DST PORT MILLISECONDS PROG-ID CONSUMER-PID\n"
		"       ev_sender lone    SRC DST PORT COUNT INTERVAL-US FIFO\n"
		"       ev_sender verdict SRC DST PORT RATE COUNT PROG-ID OUT\n"
		"       ev_sender rtt     DST PORT RATE COUNT\n"
		"       ev_sender echo    PORT\n");
	return 2;
}

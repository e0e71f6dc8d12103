// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pkt_udpflood.c - the packet sender of rows 2 and 3: UDP frames written straight to
 * one or more interfaces with an AF_PACKET socket, many to one sendmmsg(), the
 * interfaces taking turns every few frames so that they share the machine's ups and
 * downs.
 *
 *   pkt_udpflood COUNT FIRST-SRC FLOWS IFNAME DST-MAC [IFNAME DST-MAC]...
 *
 * Every interface gets the same COUNT frames, bench/progs/pkt_frame.h's, addressed to its
 * DST-MAC. With FLOWS 0, frame i carries tuple i of bench/progs/flowgen.h (udp FIRST-SRC +
 * i / 50000 : 10000 + i % 50000 -> 198.19.0.1:53), so COUNT frames are COUNT new
 * flows; with FLOWS > 0 it carries tuple i % FLOWS, COUNT packets of FLOWS flows.
 *
 * All frames are built before any clock runs. Then the interfaces take turns, CHUNK
 * frames at a time, the first of each turn rotating, and each sendmmsg() is timed on
 * its own (CLOCK_MONOTONIC) and added to its interface's time. On a veth, the
 * receiving side's softirq runs on the sending CPU inside that same call, as each
 * frame is handed over, so an interface's time is what sending and receiving its
 * frames took. A frame the device refuses (ENOBUFS: the peer's backlog is full) is
 * sent again, and counted as a retry. Prints per interface
 * "sent COUNT to IFNAME in T ns, R retries".
 */
#include <net/if.h>
#include <linux/if_packet.h>
#include <netinet/ether.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "pkt_frame.h"

#define CHUNK		64	/* frames per turn: a few hundred microseconds */
#define MAX_TARGETS	8

struct target {
	const char *ifname;
	struct sockaddr_ll to;
	uint8_t *frames;	/* FLOWS (or COUNT) frames */
	struct iovec *iovs;	/* COUNT */
	struct mmsghdr *msgs;	/* COUNT */
	uint32_t sent, retries;
	uint64_t ns;
};

/* Parse a count argument into @out (1 to @max, or 0 too if @zero_ok); 0 or -1. */
static int parse_u32(const char *s, uint32_t max, bool zero_ok, uint32_t *out)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || end == s || n > max || (n == 0 && !zero_ok))
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* Build @t's frames and messages: COUNT messages over @frames distinct frames. */
static int target_setup(int fd, struct target *t, const char *mac, uint32_t count,
			uint32_t first, uint32_t frames)
{
	struct ether_addr *dst = ether_aton(mac);
	struct ifreq ifr = {};
	unsigned int ifindex = if_nametoindex(t->ifname);

	if (!ifindex) {
		fprintf(stderr, "pkt_udpflood: no interface named '%s'\n", t->ifname);
		return 2;
	}
	if (!dst) {
		fprintf(stderr, "pkt_udpflood: bad MAC address '%s'\n", mac);
		return 2;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "pkt_udpflood: cannot read the MAC address of '%s' (%s)\n",
			t->ifname, strerror(errno));
		return 1;
	}
	t->to.sll_family = AF_PACKET;
	t->to.sll_ifindex = (int)ifindex;
	t->to.sll_halen = ETH_ALEN;
	memcpy(t->to.sll_addr, dst, ETH_ALEN);
	t->frames = malloc((size_t)frames * PKT_FRAME_LEN);
	t->iovs = calloc(count, sizeof(*t->iovs));
	t->msgs = calloc(count, sizeof(*t->msgs));
	if (!t->frames || !t->iovs || !t->msgs) {
		fprintf(stderr, "pkt_udpflood: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < frames; i++) {
		struct flowgen g = flowgen_at(first, i);

		pkt_frame_build(t->frames + (size_t)i * PKT_FRAME_LEN, dst->ether_addr_octet,
				(const uint8_t *)ifr.ifr_hwaddr.sa_data, &g);
	}
	for (uint32_t i = 0; i < count; i++) {
		t->iovs[i].iov_base = t->frames + (size_t)(i % frames) * PKT_FRAME_LEN;
		t->iovs[i].iov_len = PKT_FRAME_LEN;
		t->msgs[i].msg_hdr.msg_name = &t->to;
		t->msgs[i].msg_hdr.msg_namelen = sizeof(t->to);
		t->msgs[i].msg_hdr.msg_iov = &t->iovs[i];
		t->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

/* Send @t's next @n frames, however many calls it takes; 0 or -errno. */
static int send_chunk(int fd, struct target *t, uint32_t n)
{
	uint32_t end = t->sent + n;
	uint64_t t0 = flowgen_now_ns();

	while (t->sent < end) {
		int r = sendmmsg(fd, t->msgs + t->sent, end - t->sent, 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				t->retries++;
				continue;
			}
			return -errno;
		}
		t->sent += (uint32_t)r;
	}
	t->ns += flowgen_now_ns() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	struct target targets[MAX_TARGETS] = {};
	uint32_t count, first, flows;
	int fd, one = 1, n, err = 1;
	struct in_addr a;

	if (argc < 6 || (argc - 4) % 2 || (argc - 4) / 2 > MAX_TARGETS) {
		fprintf(stderr, "usage: pkt_udpflood COUNT FIRST-SRC FLOWS IFNAME DST-MAC "
			"[IFNAME DST-MAC]... (at most %d interfaces)\n", MAX_TARGETS);
		return 2;
	}
	n = (argc - 4) / 2;
	if (parse_u32(argv[1], 100000000, false, &count)) {
		fprintf(stderr, "pkt_udpflood: bad count '%s'\n", argv[1]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &a) != 1) {
		fprintf(stderr, "pkt_udpflood: bad address '%s'\n", argv[2]);
		return 2;
	}
	first = ntohl(a.s_addr);
	if (parse_u32(argv[3], count, true, &flows)) {
		fprintf(stderr, "pkt_udpflood: bad flow count '%s' (0 to COUNT)\n", argv[3]);
		return 2;
	}
	if (!flows)
		flows = count;
	if ((first & FLOWGEN_MASK) != FLOWGEN_NET ||
	    ((first + (flows - 1) / FLOWGEN_PER_SRC) & FLOWGEN_MASK) != FLOWGEN_NET) {
		fprintf(stderr, "pkt_udpflood: the tuples would leave 198.18.0.0/15\n");
		return 2;
	}

	/* Protocol 0: a socket that only sends, so no frame is copied back to it. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "pkt_udpflood: cannot open a packet socket (%s)\n", strerror(errno));
		return 1;
	}
	/* Straight to the driver: the sending side's qdisc is not what is measured. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "pkt_udpflood: PACKET_QDISC_BYPASS not available (%s)\n",
			strerror(errno));
	for (int i = 0; i < n; i++) {
		targets[i].ifname = argv[4 + 2 * i];
		err = target_setup(fd, &targets[i], argv[5 + 2 * i], count, first, flows);
		if (err)
			goto out;
	}

	for (uint32_t base = 0, turn = 0; base < count; base += CHUNK, turn++) {
		uint32_t m = count - base < CHUNK ? count - base : CHUNK;

		for (int j = 0; j < n; j++) {
			struct target *t = &targets[(turn + (uint32_t)j) % (uint32_t)n];
			int r = send_chunk(fd, t, m);

			if (r) {
				fprintf(stderr, "pkt_udpflood: sendmmsg to '%s' failed after %u of %u "
					"frames (%s)\n", t->ifname, t->sent, count, strerror(-r));
				err = 1;
				goto out;
			}
		}
	}
	for (int i = 0; i < n; i++)
		printf("sent %u to %s in %llu ns, %u retries\n", targets[i].sent, targets[i].ifname,
		       (unsigned long long)targets[i].ns, targets[i].retries);
	err = 0;
out:
	for (int i = 0; i < n; i++) {
		free(targets[i].msgs);
		free(targets[i].iovs);
		free(targets[i].frames);
	}
	close(fd);
	return err;
}

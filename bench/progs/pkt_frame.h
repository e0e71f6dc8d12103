/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt_frame.h - the one frame rows 2 and 3 send and test-run: a flow of bench/progs/flowgen.h
 * as a 60-byte Ethernet frame (IPv4 without options, UDP with checksum 0, 18 bytes of
 * zeros), so the veth runs (bench/progs/pkt_udpflood.c) and the BPF_PROG_TEST_RUN runs
 * (bench/progs/pkt_testrun.c) hand the programs the same bytes.
 */
#ifndef CTLB_PKT_FRAME_H
#define CTLB_PKT_FRAME_H

#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include "flowgen.h"

#define PKT_FRAME_LEN		60	/* the Ethernet minimum without FCS */
#define PKT_PAYLOAD_LEN		(PKT_FRAME_LEN - ETH_HLEN - sizeof(struct iphdr) - \
				 sizeof(struct udphdr))

static inline uint16_t pkt_ip_checksum(const void *hdr, size_t len)
{
	const uint16_t *p = hdr;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Write the frame of tuple @g (host order) into @buf, PKT_FRAME_LEN bytes. */
static inline void pkt_frame_build(uint8_t *buf, const uint8_t *dst_mac, const uint8_t *src_mac,
				   const struct flowgen *g)
{
	struct ether_header *eth = (struct ether_header *)buf;
	struct iphdr *ip = (struct iphdr *)(buf + ETH_HLEN);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memset(buf, 0, PKT_FRAME_LEN);
	memcpy(eth->ether_dhost, dst_mac, ETH_ALEN);
	memcpy(eth->ether_shost, src_mac, ETH_ALEN);
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(PKT_FRAME_LEN - ETH_HLEN);
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(g->src);
	ip->daddr = htonl(g->dst);
	ip->check = pkt_ip_checksum(ip, sizeof(*ip));
	udp->source = htons(g->sport);
	udp->dest = htons(g->dport);
	udp->len = htons(sizeof(*udp) + PKT_PAYLOAD_LEN);
	udp->check = 0;		/* none: IPv4 allows it, and no contender pays to verify it */
}

#endif

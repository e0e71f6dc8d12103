// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mnl_insert.c - the ctnetlink peer: conntrack entries created with libmnl, batched.
 *
 *   mnl_insert COUNT FIRST-SRC [THREADS]
 *
 * Generates the tuples (flowgen.h) untimed, then, timed: builds IPCTNL_MSG_CT_NEW
 * messages (NLM_F_CREATE | NLM_F_EXCL, both tuples, timeout 600 s, status ASSURED,
 * as ct.alloc_many's entries get), 256 to one sendto(), with NLM_F_ACK on the last
 * only. The kernel answers errors of the others anyway, in order, before the final
 * ACK, so one read loop per batch sees every failure. Runs in the caller's netns.
 * THREADS (1 by default) threads share the tuples in equal contiguous parts, each
 * with its own socket, opened before the clock starts.
 * Prints "inserted N of COUNT in T ns, F failed"; exits 1 if anything failed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "flowgen.h"

#define BATCH		256
#define MSG_MAX		256	/* bytes one message needs at most (about 150 used) */
#define TIMEOUT_S	600

struct result {
	uint32_t failed;
	int first_err;
};

/* One CTA_TUPLE_* nest: addresses and ports in network order. */
static void put_tuple(struct nlmsghdr *nlh, uint16_t type, uint32_t src, uint32_t dst,
		      uint16_t sport, uint16_t dport)
{
	struct nlattr *tuple, *ip, *proto;

	tuple = mnl_attr_nest_start(nlh, type);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, htonl(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, htonl(dst));
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

/* Append the CT_NEW message for @g at @buf; returns its length. */
static size_t put_new(char *buf, const struct flowgen *g, uint32_t seq, bool ack)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | (ack ? NLM_F_ACK : 0);
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	put_tuple(nlh, CTA_TUPLE_ORIG, g->src, g->dst, g->sport, g->dport);
	put_tuple(nlh, CTA_TUPLE_REPLY, g->dst, g->src, g->dport, g->sport);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(TIMEOUT_S));
	/* A new entry is CONFIRMED by the time ctnetlink applies CTA_STATUS, and a status
	 * that would clear that bit is refused with EBUSY: keep it, as conntrack -I does. */
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_ASSURED | IPS_CONFIRMED));
	return nlh->nlmsg_len;
}

/*
 * Read answers until the one for @last_seq (the ACK or its error) arrives; count the
 * errors of the batch in @res. Returns 0, or -errno when the socket fails.
 */
static int read_acks(struct mnl_socket *nl, char *buf, size_t size, uint32_t last_seq,
		     struct result *res)
{
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, size);
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int left = (int)len;

		if (len < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error) {
				if (!res->failed++)
					res->first_err = e->error;
			}
			if (nlh->nlmsg_seq == last_seq)
				return 0;
		}
	}
}

/* One thread's part: tuples [base, base + n) over its own socket. */
struct part {
	const struct flowgen *tuples;
	uint32_t base, n;
	struct mnl_socket *nl;
	pthread_barrier_t *go;
	struct result res;
	int err;
};

static void *insert_part(void *arg)
{
	static __thread char out[BATCH * MSG_MAX];
	static __thread char in[1 << 16];
	struct part *p = arg;
	uint32_t seq = 1;

	pthread_barrier_wait(p->go);
	for (uint32_t base = p->base; base < p->base + p->n && !p->err; base += BATCH) {
		uint32_t m = p->base + p->n - base < BATCH ? p->base + p->n - base : BATCH;
		size_t len = 0;

		for (uint32_t j = 0; j < m; j++)
			len += put_new(out + len, &p->tuples[base + j], seq++, j == m - 1);
		if (mnl_socket_sendto(p->nl, out, len) < 0) {
			p->err = -errno;
			fprintf(stderr, "mnl_insert: sendto failed (%s)\n", strerror(errno));
			break;
		}
		p->err = read_acks(p->nl, in, sizeof(in), seq - 1, &p->res);
		if (p->err)
			fprintf(stderr, "mnl_insert: recvfrom failed (%s)\n", strerror(-p->err));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct part part[64];
	pthread_t tid[64];
	pthread_barrier_t go;
	struct result res = {};
	struct flowgen *tuples;
	uint32_t count, first, threads, per;
	uint64_t t0, t1;
	int one = 1, err = 0;

	if ((err = flowgen_args("mnl_insert", argc, argv, &count, &first, &threads)))
		return err;
	tuples = calloc(count, sizeof(*tuples));
	if (!tuples) {
		fprintf(stderr, "mnl_insert: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < count; i++)
		tuples[i] = flowgen_at(first, i);
	if (threads > count)
		threads = count;
	per = (count + threads - 1) / threads;
	for (uint32_t t = 0; t < threads; t++) {
		struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			fprintf(stderr, "mnl_insert: cannot open a netfilter netlink socket (%s)\n",
				strerror(errno));
			return 1;
		}
		/* Errors need not echo the request back: shorter answers, one read per batch. */
		mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
		part[t] = (struct part){ .tuples = tuples, .base = t * per, .nl = nl, .go = &go };
		part[t].n = t * per >= count ? 0 : count - t * per < per ? count - t * per : per;
	}
	pthread_barrier_init(&go, NULL, threads);
	for (uint32_t t = 1; t < threads; t++)
		if (pthread_create(&tid[t], NULL, insert_part, &part[t])) {
			fprintf(stderr, "mnl_insert: cannot start a thread\n");
			return 1;
		}

	t0 = flowgen_now_ns();
	insert_part(&part[0]);
	for (uint32_t t = 1; t < threads; t++)
		pthread_join(tid[t], NULL);
	t1 = flowgen_now_ns();

	for (uint32_t t = 0; t < threads; t++) {
		if (!err)
			err = part[t].err;
		if (part[t].res.failed && !res.failed)
			res.first_err = part[t].res.first_err;
		res.failed += part[t].res.failed;
		mnl_socket_close(part[t].nl);
	}
	printf("inserted %u of %u in %llu ns, %u failed\n",
	       err ? 0 : count - res.failed, count, (unsigned long long)(t1 - t0), res.failed);
	if (res.failed)
		fprintf(stderr, "mnl_insert: %u messages failed, the first with %s\n", res.failed,
			strerror(-res.first_err));
	free(tuples);
	return err || res.failed ? 1 : 0;
}

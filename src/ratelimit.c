// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ratelimit.c - the rate limits' slots as the host handles them: mapping the program's
 * spec array, taking and freeing slots, turning a rate and a key into what the
 * program reads, and summing the counts (ratelimit.h; the program's side in bpf/limit.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"
#include "ratelimit.h"

static const char *const per_names[CTLUA_PER_NR] = {
	[CTLUA_PER_RULE] = "rule", [CTLUA_PER_SRC] = "src", [CTLUA_PER_DST] = "dst",
	[CTLUA_PER_DPORT] = "dport",
};

int ctl_limit_map_open(struct ctl_dp *dp, struct ctl_limit_map *m)
{
	struct ctl_dp_limit_fds fds;
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	ctl_dp_limit_fds(dp, &fds);
	/* an array is mapped whole, rounded up to pages */
	m->len = (sizeof(struct ctlua_limit) * CTLUA_MAX_LIMITS + page - 1) / page * page;
	p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, fds.specs, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->slot = p;
	m->counts_fd = fds.counts;
	m->buckets_fd = fds.buckets;
	m->ncpus = 0;
	m->buf = NULL;
	return 0;
}

void ctl_limit_map_dry(struct ctlua_limit *specs, struct ctl_limit_map *m)
{
	*m = (struct ctl_limit_map){ .slot = specs, .counts_fd = -1, .buckets_fd = -1 };
}

void ctl_limit_map_close(struct ctl_limit_map *m)
{
	if (m->slot && m->len)
		munmap(m->slot, m->len);
	m->slot = NULL;
	free(m->buf);
	m->buf = NULL;
}

void ctl_limit_set_rate(struct ctlua_limit *l, __u64 rate_milli, __u32 burst)
{
	/* 1e12 ns per 1000 s; rate_milli >= 1, so step <= 1e12 and span < 2^60 */
	__u64 step = 1000000000000ull / rate_milli;

	if (!step)
		step = 1;
	l->rate_milli = rate_milli;
	l->burst = burst;
	__atomic_store_n(&l->span_ns, step * burst, __ATOMIC_RELAXED);
	__atomic_store_n(&l->step_ns, step, __ATOMIC_RELEASE);
}

/* @len bits of ones from the top of a 16-byte mask; IPv4 uses the first word. */
static void make_mask(__be32 mask[4], int len)
{
	for (int i = 0; i < 4; i++, len -= 32)
		mask[i] = len >= 32 ? 0xffffffffu : len <= 0 ? 0 : htonl(~0u << (32 - len));
}

static int mask_len(const __be32 mask[4])
{
	int bits = 0;

	for (int i = 0; i < 4; i++)
		bits += __builtin_popcount(mask[i]);
	return bits;
}

/* A decimal length of 0 to 128 at *@s; -1 if there is none. */
static int parse_len(const char **s)
{
	int n = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		n = n * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits && n <= 128 ? n : -1;
}

int ctl_limit_parse_per(const char *text, struct ctlua_limit *l, char *why, size_t len)
{
	int per = -1, len4 = 32, len6 = 128, a, b;
	const char *s = text;

	for (int i = 0; i < CTLUA_PER_NR; i++)
		if (!strncmp(text, per_names[i], strlen(per_names[i])))
			per = i;
	if (per < 0)
		goto bad;
	s += strlen(per_names[per]);
	if (*s && (per == CTLUA_PER_RULE || per == CTLUA_PER_DPORT))
		goto bad;
	if (*s == '/') {
		s++;
		if ((a = parse_len(&s)) < 0)
			goto bad;
		if (*s == '/') {
			s++;
			if ((b = parse_len(&s)) < 0 || a > 32)
				goto bad;
			len4 = a;
			len6 = b;
		} else if (a <= 32) {
			len4 = a;
			len6 = 64;
		} else {
			len4 = 24;
			len6 = a;
		}
	}
	if (*s)
		goto bad;
	l->per = (__u8)per;
	memset(l->mask4, 0, sizeof(l->mask4));
	memset(l->mask6, 0, sizeof(l->mask6));
	if (per == CTLUA_PER_SRC || per == CTLUA_PER_DST) {
		make_mask(l->mask4, len4);
		l->mask4[1] = l->mask4[2] = l->mask4[3] = 0;
		make_mask(l->mask6, len6);
	}
	return 0;
bad:
	snprintf(why, len, "'%s' is not \"rule\", \"dport\", \"src\", \"src/LEN\", "
		 "\"src/LEN4/LEN6\" or the same of \"dst\"", text);
	return -EINVAL;
}

const char *ctl_limit_format_per(const struct ctlua_limit *l, char *buf, size_t len)
{
	const char *name = l->per < CTLUA_PER_NR ? per_names[l->per] : "?";
	int len4 = mask_len(l->mask4), len6 = mask_len(l->mask6);

	if ((l->per != CTLUA_PER_SRC && l->per != CTLUA_PER_DST) || (len4 == 32 && len6 == 128))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%d/%d", name, len4, len6);
	return buf;
}

/* @m's buffer of one count per CPU, made on first use; 0 or -errno. */
static int count_buf(struct ctl_limit_map *m)
{
	int ncpus;

	if (m->buf)
		return 0;
	if ((ncpus = libbpf_num_possible_cpus()) <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (!(m->buf = calloc((size_t)ncpus, sizeof(*m->buf))))
		return -ENOMEM;
	m->ncpus = ncpus;
	return 0;
}

/* Zero slot @idx's counts on every CPU (a dry array has none). */
static int zero_counts(struct ctl_limit_map *m, unsigned int idx)
{
	int err;

	if (m->counts_fd < 0)
		return 0;
	if ((err = count_buf(m)))
		return err;
	memset(m->buf, 0, (size_t)m->ncpus * sizeof(*m->buf));
	if (bpf_map_update_elem(m->counts_fd, &idx, m->buf, BPF_ANY))
		return -errno;
	return 0;
}

int ctl_limit_take(struct ctl_limit_map *m, const struct ctlua_limit *spec)
{
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++) {
		struct ctlua_limit *l = &m->slot[i];
		__u32 gen = l->gen + 1;
		int err;

		if (l->flags & CTLUA_LIMIT_USED)
			continue;
		if ((err = zero_counts(m, i)))
			return err;
		/* free, so step is 0: no packet reads the rest until step is set, last */
		memcpy(l->mask4, spec->mask4, sizeof(l->mask4));
		memcpy(l->mask6, spec->mask6, sizeof(l->mask6));
		l->gen = gen;
		l->per = spec->per;
		l->over = spec->over;
		l->flags = CTLUA_LIMIT_USED;
		l->rule_id = spec->rule_id;
		l->owner = spec->owner;
		memcpy(l->name, spec->name, sizeof(l->name));
		ctl_limit_set_rate(l, spec->rate_milli, spec->burst);
		return (int)i;
	}
	return -ENOSPC;
}

void ctl_limit_free(struct ctl_limit_map *m, unsigned int idx)
{
	struct ctlua_limit *l = &m->slot[idx & (CTLUA_MAX_LIMITS - 1)];

	__atomic_store_n(&l->step_ns, 0, __ATOMIC_RELEASE);
	l->flags = 0;
	l->rule_id = l->owner = 0;
	memset(l->name, 0, sizeof(l->name));
}

int ctl_limit_count(struct ctl_limit_map *m, unsigned int idx, struct ctlua_limit_count *sum)
{
	int err;

	memset(sum, 0, sizeof(*sum));
	if (m->counts_fd < 0)
		return 0;
	if ((err = count_buf(m)))
		return err;
	if (bpf_map_lookup_elem(m->counts_fd, &idx, m->buf))
		return -errno;
	for (int i = 0; i < m->ncpus; i++) {
		sum->admitted += m->buf[i].admitted;
		sum->over += m->buf[i].over;
	}
	return 0;
}

void ctl_limit_sweep(struct ctl_limit_map *m, const struct ctl_dp_policy *live)
{
	bool used[CTLUA_MAX_LIMITS] = { false };

	ctl_limit_mark(used, &live->dflt);
	for (unsigned int i = 0; i < live->nrules; i++)
		ctl_limit_mark(used, &live->rules[i].verdict);
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++) {
		struct ctlua_limit *l = &m->slot[i];

		if (!(l->flags & CTLUA_LIMIT_USED))
			continue;
		if (used[i])
			l->flags |= CTLUA_LIMIT_LIVE;
		else if (l->flags & CTLUA_LIMIT_LIVE)
			ctl_limit_free(m, i);
	}
}

void ctl_limit_adopt(struct ctl_limit_map *m, const struct ctl_dp_policy *live)
{
	ctl_limit_sweep(m, live);
	for (unsigned int i = 1; i < CTLUA_MAX_LIMITS; i++)
		if ((m->slot[i].flags & (CTLUA_LIMIT_USED | CTLUA_LIMIT_LIVE)) == CTLUA_LIMIT_USED)
			ctl_limit_free(m, i);
}

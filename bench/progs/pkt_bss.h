/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pkt_bss.h - reading the bench's BPF baselines' one counter (rows 2 and 3). */
#ifndef CTLUA_BENCH_PKT_BSS_H
#define CTLUA_BENCH_PKT_BSS_H

#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

/*
 * The first variable of @obj's .bss: pkt_misses in bench/progs/pkt_progs.bpf, its first and
 * only one. -1 if it cannot be read.
 */
static inline long long pkt_bss_first_u64(struct bpf_object *obj)
{
	struct bpf_map *m;
	__u32 zero = 0;

	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		size_t len = strlen(name), size = bpf_map__value_size(m);
		__u64 *value;
		long long v;

		if (len < 4 || strcmp(name + len - 4, ".bss") || size < sizeof(__u64))
			continue;
		value = calloc(1, size);
		if (!value)
			return -1;
		v = bpf_map__lookup_elem(m, &zero, sizeof(zero), value, size, 0) ? -1 :
		    (long long)value[0];
		free(value);
		return v;
	}
	return -1;
}

#endif

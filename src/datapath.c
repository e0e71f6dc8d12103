// SPDX-License-Identifier: GPL-2.0-or-later
/* datapath.c - loading the BPF object with libbpf and reading and writing its maps. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"	/* first: the skeleton needs ctlua.h's types */
#include "deadline.h"
#include "ctlua.skel.h"
#include "pin.h"
#include "probe.h"
#include "ratelimit.h"
#include "rule_class.h"
#include "rule_counts.h"

/* The programs: at TC by direction and header, [dir * 2 + l3] (see prog_slot), then XDP. */
#define CTL_DP_PROGS 5	/* four at TC, and ctlua_xdp */
#define CTL_DP_XDP_SLOT 4
/* What wait_readers sleeps where the kernel cannot wait for a grace period. */
#define CTL_DP_GRACE_SLEEP_NS	10000000

struct ctl_dp {
	struct ctlua_bpf *skel;		/* the maps, ctlua_ingress and ctlua_req */
	struct ctlua_bpf *more[CTL_DP_PROGS];	/* the others, loaded on first attach */
	struct ctl_pin *pin;		/* the pinned state (--pin), or NULL */
	struct ctlua_config cfg;	/* what the config map holds */
	/*
	 * The live policy (ctl_dp_policy): the rest is in the live slot of ctl_policy.
	 * A set of rules has a number (gen): the same rules keep theirs, so the table
	 * and its classifier are built once and written to each slot at most once.
	 */
	struct ctlua_policy head;
	struct ctlua_rule rules[CTLUA_MAX_RULES];
	unsigned int nrules;
	struct ctlua_rule_table *table;	/* the table last built, of rules table_gen */
	__u64 table_gen;
	__u64 slot_gen[2];		/* the rules each slot of ctl_rules holds; 0: unknown */
	__u64 last_gen;			/* the last number given to a set of rules */
	bool retired;			/* the idle slot was live since the last grace period */
	struct ctl_counts *counts;	/* ctl_counts, carried across switches */
	__s64 realtime_offset;
	int ncpus;
	struct ctl_features feat;	/* what the kernel's BTF says, read on first need */
	bool feat_read;
	unsigned int verdicts;		/* the verdict table's capacity */
	__u64 idle_ns;			/* a full table reclaims verdicts idle this long */
	__u64 last_reclaim_ns;		/* coarse clock of the last reclaim when full */
	__u64 verdicts_full;		/* stores refused (CTLUA_STAT_VERDICTS_FULL) */
	__u64 verdicts_expired;		/* verdicts reclaimed (CTLUA_STAT_VERDICTS_EXPIRED) */
	void (*gone)(void *ctx, const struct ctlua_flow *f);	/* ctl_dp_on_verdict_gone */
	void *gone_ctx;
	__u32 set_ids;			/* bit id: set id taken (ctl_dp_set_id_take) */
	__u32 pinned_sets;		/* ids the pinned live rules name, no state's */
};

static bool verbose;

/* libbpf's warnings include the verifier log: shown only with -v, like its info lines. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void ctl_dp_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_print);
}

void ctl_dp_opts_init(struct ctl_dp_opts *o)
{
	o->verdicts = CTLUA_VERDICTS_DEFAULT;
	o->verdict_idle_ms = CTL_DP_VERDICT_IDLE_MS;
	o->pin[0] = '\0';
}

/*
 * Bytes [@at, @at + @len) of slot @slot of ctl_rules mapped into the host (@len > 0):
 * returns where they begin, or NULL with errno set; *@map and *@maplen are what munmap
 * takes. Mapped only while written or read, and only the pages they fall in: an array
 * map's mapping brings in every page at once, and both slots are 25 MB.
 */
static void *map_range(struct ctl_dp *dp, __u32 slot, size_t at, size_t len, void **map,
		       size_t *maplen)
{
	size_t start = slot * sizeof(struct ctlua_rule_table) + at;
	size_t off = start & ~((size_t)sysconf(_SC_PAGESIZE) - 1);

	*maplen = start - off + len;
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
		    bpf_map__fd(dp->skel->maps.ctl_rules), (off_t)off);
	if (*map == MAP_FAILED)
		return NULL;
	return (char *)*map + (start - off);
}

/*
 * The verifier gives up with EAGAIN when a signal is pending while it works (a stop and
 * continue of ctlua, a debugger attaching): the load is tried again, from a fresh open,
 * this many times in all.
 */
#define CTL_DP_LOAD_TRIES	10

/*
 * Open the object into dp->skel, size and pin its maps as @opts say, and load it.
 * Returns 0 or -errno; *@said is set when @msg already says why (the pin directory).
 */
static int open_and_load(struct ctl_dp *dp, const struct ctl_dp_opts *opts, char *msg,
			 size_t len, bool *said)
{
	struct bpf_program *p;
	int err;

	dp->skel = ctlua_bpf__open();
	if (!dp->skel)
		return -errno;
	/* each program verified costs tens of ms: the rest wait for an attach that needs them */
	bpf_object__for_each_program(p, dp->skel->obj)
		bpf_program__set_autoload(p, p == dp->skel->progs.ctlua_ingress ||
					  p == dp->skel->progs.ctlua_req);
	dp->skel->rodata->nat_module_btf = ctl_probe_nat_module();
	err = bpf_map__set_max_entries(dp->skel->maps.ctl_verdicts, dp->verdicts);
	if (!err && opts->pin[0] &&
	    (err = ctl_pin_open(&dp->pin, opts->pin, dp->skel->obj, msg, len))) {
		*said = true;
		return err;
	}
	return err ?: ctlua_bpf__load(dp->skel);
}

/* The ids of the sets @n rules @r name, as a mask. */
static __u32 rules_sets(const struct ctlua_rule *r, unsigned int n)
{
	__u32 ids = 0;

	for (unsigned int i = 0; i < n; i++)
		for (int f = 0; f < CTLUA_SET_FIELDS; f++)
			if (r[i].set[f])
				ids |= 1u << ((r[i].set[f] - 1) % CTLUA_SETS);
	return ids;
}

/*
 * Delete the keys of set map @map whose set is in @ids: @ksize, its key's size (at most a
 * trie's IPv6 key); @at, the offset of the set id in it.
 */
static int keys_drop(struct bpf_map *map, size_t ksize, size_t at, __u32 ids)
{
	struct ctlua_set_key6 key, next, *gone = NULL;
	size_t n = 0, room = 0;
	int fd = bpf_map__fd(map), err = 0;
	void *prev = NULL;

	/* collected first, then deleted: no walk over a map that changes under it */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (ids & (1u << (((__u8 *)&next)[at] % CTLUA_SETS))) {
			if (n == room) {
				struct ctlua_set_key6 *more;

				room = room ? 2 * room : 1024;
				if (!(more = realloc(gone, room * sizeof(*gone)))) {
					free(gone);
					return -ENOMEM;
				}
				gone = more;
			}
			memcpy(&gone[n++], &next, ksize);
		}
		memcpy(&key, &next, ksize);
		prev = &key;
	}
	if (errno != ENOENT)
		err = -errno;
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, &gone[i]) && errno != ENOENT)
			err = -errno;
	free(gone);
	return err;
}

/*
 * Remove every member of the sets @ids from the five set maps, and their bits from
 * ctl_set_kinds (after their entries: a bit may be set with no entry, never the reverse);
 * 0 or -errno.
 */
static int sets_drop(struct ctl_dp *dp, __u32 ids)
{
	const size_t trie = offsetof(struct ctlua_set_key4, set);
	const size_t hash = offsetof(struct ctlua_set_hkey4, set);
	int fd = bpf_map__fd(dp->skel->maps.ctl_set_ports), err;
	struct ctlua_set_kinds kinds;
	__u32 port, mask, zero = 0;

	if (!ids)
		return 0;
	if ((err = keys_drop(dp->skel->maps.ctl_set4, sizeof(struct ctlua_set_key4), trie, ids)) ||
	    (err = keys_drop(dp->skel->maps.ctl_set6, sizeof(struct ctlua_set_key6), trie, ids)) ||
	    (err = keys_drop(dp->skel->maps.ctl_set_h4, sizeof(struct ctlua_set_hkey4), hash,
			     ids)) ||
	    (err = keys_drop(dp->skel->maps.ctl_set_h6, sizeof(struct ctlua_set_hkey6), hash,
			     ids)))
		return err;
	for (port = 0; port < 65536; port++) {
		if (bpf_map_lookup_elem(fd, &port, &mask))
			return -errno;
		if (!(mask & ids))
			continue;
		mask &= ~ids;
		if (bpf_map_update_elem(fd, &port, &mask, BPF_ANY))
			return -errno;
	}
	fd = bpf_map__fd(dp->skel->maps.ctl_set_kinds);
	if (bpf_map_lookup_elem(fd, &zero, &kinds))
		return -errno;
	for (int f = 0; f < 2; f++) {
		kinds.host[f] &= ~ids;
		kinds.shorter[f] &= ~ids;
	}
	return bpf_map_update_elem(fd, &zero, &kinds, BPF_ANY) ? -errno : 0;
}

/*
 * The host's copy of what the pinned maps hold, reused: the config, and the live
 * slot's policy and rules, which stay in force until the host changes them. Which
 * rules the idle slot holds is not known, so the next change writes them, from a
 * classifier built anew (table_gen 0): the pinned one is not read. The rate limit
 * slots the live policy does not use are freed (ctl_limit_adopt).
 */
static int read_pinned(struct ctl_dp *dp)
{
	const size_t rules = offsetof(struct ctlua_rule_table, rule);
	struct ctl_limit_map m;
	struct ctl_dp_policy p;
	const struct ctlua_rule_table *t;
	const struct ctlua_rule *r;
	__u32 zero = 0, live, n;
	size_t len;
	void *map;

	if (bpf_map__lookup_elem(dp->skel->maps.ctl_config, &zero, sizeof(zero), &dp->cfg,
				 sizeof(dp->cfg), 0))
		return -errno;
	live = dp->cfg.rule_slot & 1;
	if (bpf_map__lookup_elem(dp->skel->maps.ctl_policy, &live, sizeof(live), &dp->head,
				 sizeof(dp->head), 0))
		return -errno;
	if (dp->head.mode >= CTLUA_MODE_NR || dp->head.dflt.action >= CTLUA_ACT_NR)
		return -EPROTO;
	if (!(t = map_range(dp, live, 0, rules, &map, &len)))
		return -errno;
	n = t->count;
	munmap(map, len);
	if (n > CTLUA_MAX_RULES)
		return -EPROTO;
	if (n) {
		if (!(r = map_range(dp, live, rules, n * sizeof(*r), &map, &len)))
			return -errno;
		memcpy(dp->rules, r, n * sizeof(*r));
		munmap(map, len);
	}
	dp->nrules = n;
	dp->slot_gen[live] = dp->last_gen = 1;
	dp->slot_gen[!live] = dp->table_gen = 0;
	dp->retired = true;	/* a program may have read the idle slot a moment ago */
	ctl_counts_idle_unknown(dp->counts);
	/* the limit slots a killed process took for a policy never live are no one's */
	if (!ctl_limit_map_open(dp, &m)) {
		ctl_dp_policy(dp, &p);
		ctl_limit_adopt(&m, &p);
		ctl_limit_map_close(&m);
	}
	/*
	 * Set members likewise: those of the sets the live rules name stay (and their ids
	 * taken) until a policy of this process replaces them; the rest were a dead
	 * process's states' and are no one's
	 */
	dp->pinned_sets = dp->set_ids = rules_sets(dp->rules, n);
	return sets_drop(dp, ~dp->pinned_sets);
}

int ctl_dp_open(struct ctl_dp **out, const struct ctl_dp_opts *opts, char *msg, size_t len)
{
	struct ctl_dp_opts dflt;
	struct ctl_dp *dp;
	struct ctl_dp_policy initial = {
		.mode = CTLUA_MODE_ENFORCE,
		.event_mask = (1u << CTLUA_EV_NR) - 1,
		.dflt = { .action = CTLUA_ACT_PASS },
	};
	int err;

	if (!opts) {
		ctl_dp_opts_init(&dflt);
		opts = &dflt;
	}
	if (opts->verdicts < CTL_DP_VERDICTS_MIN || opts->verdicts > CTL_DP_VERDICTS_MAX) {
		snprintf(msg, len, "the verdict table's capacity %u is out of range %d to %d",
			 opts->verdicts, CTL_DP_VERDICTS_MIN, CTL_DP_VERDICTS_MAX);
		return -EINVAL;
	}
	libbpf_set_print(libbpf_print);
	/* no BTF read here: libbpf's load reads it once, for CO-RE and the kfuncs */
	err = ctl_probe_host(msg, len);
	if (err)
		return err;
	dp = calloc(1, sizeof(*dp));
	if (!dp || !(dp->table = calloc(1, sizeof(*dp->table)))) {
		free(dp);
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	/* a new map is zeroed: both slots hold no rules (count 0), as does the scratch table */
	dp->last_gen = dp->table_gen = dp->slot_gen[0] = dp->slot_gen[1] = 1;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->verdicts = opts->verdicts;
	ctl_dp_set_verdict_idle(dp, opts->verdict_idle_ms);
	for (int tries = 1; ; tries++) {
		bool said = false;

		err = open_and_load(dp, opts, msg, len, &said);
		if (said) {	/* the pin directory's refusal, in msg */
			ctl_dp_close(dp);
			return err;
		}
		if (err != -EAGAIN || tries == CTL_DP_LOAD_TRIES)
			break;
		ctlua_bpf__destroy(dp->skel);	/* interrupted: from the start */
		dp->skel = NULL;
		ctl_pin_close(dp->pin);
		dp->pin = NULL;
	}
	if (err) {
		/* now read BTF, to name a missing kfunc rather than show a verifier dump */
		if (!ctl_probe(msg, len, NULL))
			snprintf(msg, len, "cannot load the BPF program (%s)%s", strerror(-err),
				 verbose ? "" :
				 "; run with -v to see libbpf's and the verifier's messages");
		ctl_dp_close(dp);
		return err;
	}
	if (dp->skel->rodata->ctlua_abi != CTLUA_ABI) {
		snprintf(msg, len, "the BPF object speaks ABI %u, this host ABI %u: rebuild ctlua",
			 dp->skel->rodata->ctlua_abi, CTLUA_ABI);
		ctl_dp_close(dp);
		return -EPROTO;
	}
	if (dp->pin && (err = ctl_pin_commit(dp->pin, dp->skel->obj, msg, len))) {
		ctl_dp_close(dp);
		return err;
	}
	err = ctl_counts_new(&dp->counts, bpf_map__fd(dp->skel->maps.ctl_counts), dp->ncpus);
	if (err) {
		snprintf(msg, len, "out of memory");
		ctl_dp_close(dp);
		return err;
	}
	dp->realtime_offset = ctl_dp_clock_offset();
	ctl_dp_set_params(dp, NULL);
	if (dp->pin && ctl_pin_reused(dp->pin)) {
		/* the pinned policy stays in force, untouched, until the host changes it */
		if ((err = read_pinned(dp)))
			snprintf(msg, len, "cannot read the policy pinned in '%s' (%s)",
				 ctl_pin_dir(dp->pin), strerror(-err));
	} else {
		err = ctl_dp_put_policy(dp, &initial);
		if (err)
			snprintf(msg, len, "cannot write the initial policy (%s)", strerror(-err));
	}
	if (err) {
		ctl_dp_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

void ctl_dp_close(struct ctl_dp *dp)
{
	if (!dp)
		return;
	for (int i = 0; i < CTL_DP_PROGS; i++)
		ctlua_bpf__destroy(dp->more[i]);
	ctlua_bpf__destroy(dp->skel);
	ctl_pin_close(dp->pin);
	ctl_counts_free(dp->counts);
	free(dp->table);
	free(dp);
}

const char *ctl_dp_pin_dir(const struct ctl_dp *dp)
{
	return dp->pin ? ctl_pin_dir(dp->pin) : NULL;
}

bool ctl_dp_pin_reused(const struct ctl_dp *dp)
{
	return dp->pin && ctl_pin_reused(dp->pin);
}

const __u32 *ctl_dp_pin_ids(const struct ctl_dp *dp)
{
	return dp->pin ? ctl_pin_map_ids(dp->pin) : NULL;
}

/*
 * Write the config map. The update is a plain copy, but each write changes one byte
 * of it: a flip carries has_verdicts as it was, ctl_dp_use_verdicts the slot as it
 * is. A byte is stored whole, so a packet reads either value of the byte that
 * changes, and the two bytes mean nothing together: has_verdicts says only whether
 * the verdict map may hold anything, and a packet that misses the first verdict by a
 * moment decides as it would have a moment earlier.
 */
static int write_config(struct ctl_dp *dp, const struct ctlua_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(dp->skel->maps.ctl_config, &zero, sizeof(zero), cfg,
				 sizeof(*cfg), BPF_ANY))
		return -errno;
	dp->cfg = *cfg;
	return 0;
}

int ctl_dp_use_verdicts(struct ctl_dp *dp)
{
	struct ctlua_config cfg = dp->cfg;

	if (cfg.has_verdicts)
		return 0;
	cfg.has_verdicts = 1;
	return write_config(dp, &cfg);
}

/* Whether a full table may look for idle verdicts again: at most once per min(idle, 1 s). */
static bool may_reclaim(struct ctl_dp *dp, __u64 now)
{
	__u64 gap = dp->idle_ns < 1000000000 ? dp->idle_ns : 1000000000;

	if (!dp->idle_ns || (dp->last_reclaim_ns && now - dp->last_reclaim_ns < gap))
		return false;
	dp->last_reclaim_ns = now;
	return true;
}

void ctl_dp_verdict_value(struct ctlua_flow_verdict *fv, const struct ctlua_verdict *v)
{
	memset(fv, 0, sizeof(*fv));
	fv->v = *v;
	/* the program's bpf_ktime_get_coarse_ns is this clock (see ctlua_flow_verdict) */
	fv->used_ns = (__u64)ctl_now_ns(CLOCK_MONOTONIC_COARSE);
}

int ctl_dp_put_verdict(struct ctl_dp *dp, const struct ctlua_flow *f, const struct ctlua_verdict *v)
{
	struct ctlua_flow_verdict fv;
	struct bpf_map *map = dp->skel->maps.ctl_verdicts;
	int err;

	ctl_dp_verdict_value(&fv, v);
	err = bpf_map__update_elem(map, f, sizeof(*f), &fv, sizeof(fv), BPF_ANY) ? -errno : 0;
	/* a hash map says E2BIG when it is full (and the key is new) */
	if (err == -E2BIG && may_reclaim(dp, fv.used_ns) &&
	    ctl_dp_expire_verdicts(dp, (unsigned int)(dp->idle_ns / 1000000)) > 0)
		err = bpf_map__update_elem(map, f, sizeof(*f), &fv, sizeof(fv), BPF_ANY) ? -errno : 0;
	if (err == -E2BIG) {
		dp->verdicts_full++;
		return -ENOSPC;
	}
	if (err)
		return err;
	return ctl_dp_use_verdicts(dp);
}

const char *ctl_dp_verdict_error(const struct ctl_dp *dp, int err, const char *flow,
				 char *msg, size_t len)
{
	unsigned int idle_ms = (unsigned int)(dp->idle_ns / 1000000);
	char idle[48];

	if (err != -ENOSPC) {
		snprintf(msg, len, "cannot store the verdict for %s (%s)", flow, strerror(-err));
		return msg;
	}
	if (!idle_ms)
		snprintf(idle, sizeof(idle), "reclaiming is off");
	else if (idle_ms % 1000)
		snprintf(idle, sizeof(idle), "none unused for %u ms", idle_ms);
	else
		snprintf(idle, sizeof(idle), "none unused for %u s", idle_ms / 1000);
	snprintf(msg, len, "the verdict table is full (%u entries, %s): cannot store %s "
		 "(ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)",
		 dp->verdicts, idle, flow);
	return msg;
}

int ctl_dp_del_verdict(struct ctl_dp *dp, const struct ctlua_flow *f)
{
	if (bpf_map__delete_elem(dp->skel->maps.ctl_verdicts, f, sizeof(*f), 0))
		return -errno;
	return 0;
}

int ctl_dp_expire_verdicts(struct ctl_dp *dp, unsigned int idle_ms)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd = bpf_map__fd(dp->skel->maps.ctl_verdicts);
	__u64 now = (__u64)ctl_now_ns(CLOCK_MONOTONIC_COARSE), idle = (__u64)idle_ms * 1000000;
	__u32 chunk = 1024, batch = 0, n, got;
	struct ctlua_flow *keys = NULL, *old = NULL;
	struct ctlua_flow_verdict *vals = NULL;
	size_t nold = 0, room = 0;
	bool first = true, done = false;
	int err = 0;

	/* the whole table is read first, then deleted from: no iteration over a moving map */
	while (!done) {
		if (!keys) {
			/* zeroed: valgrind does not know that the batch call fills them */
			keys = calloc(chunk, sizeof(*keys));
			vals = calloc(chunk, sizeof(*vals));
			if (!keys || !vals)
				break;
		}
		got = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &got, &bo);
		if (err == -ENOSPC && chunk < dp->verdicts) {
			/* one hash bucket holds more than a chunk: retry with room for it */
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			chunk *= 4;
			continue;
		}
		if (err == -ENOENT) {	/* the end; the last call may still return some */
			done = true;
			err = 0;
		}
		if (err)
			goto out;
		if (nold + got > room) {
			struct ctlua_flow *more;

			room = room ? 2 * room : 4096;
			if (room < nold + got)
				room = nold + got;
			if (!(more = realloc(old, room * sizeof(*old))))
				break;
			old = more;
		}
		for (__u32 i = 0; i < got; i++)
			if (now >= vals[i].used_ns && now - vals[i].used_ns >= idle)
				old[nold++] = keys[i];
		first = false;
	}
	if (!done) {
		err = -ENOMEM;
		goto out;
	}
	n = (__u32)nold;
	if (n && bpf_map_delete_batch(fd, old, &n, &bo)) {
		/* one key may have gone in between (ct.forget, a race): delete one by one */
		n = 0;
		for (size_t i = 0; i < nold; i++) {
			if (bpf_map_delete_elem(fd, &old[i]))
				continue;
			old[n++] = old[i];
		}
	}
	for (__u32 i = 0; dp->gone && i < n; i++)
		dp->gone(dp->gone_ctx, &old[i]);
	dp->verdicts_expired += n;
	err = (int)n;
out:
	free(old);
	free(keys);
	free(vals);
	return err;
}

void ctl_dp_on_verdict_gone(struct ctl_dp *dp, void (*fn)(void *ctx, const struct ctlua_flow *f),
			    void *ctx)
{
	dp->gone = fn;
	dp->gone_ctx = ctx;
}

int ctl_dp_verdicts_fd(const struct ctl_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.ctl_verdicts);
}

unsigned int ctl_dp_verdicts(const struct ctl_dp *dp)
{
	return dp->verdicts;
}

void ctl_dp_set_verdict_idle(struct ctl_dp *dp, unsigned int ms)
{
	dp->idle_ns = (__u64)ms * 1000000;
}

/*
 * Wait until no run of the program can still be reading the idle slot, if it was live
 * since the last wait: a packet that read rule_slot just before the last flip may
 * still be deciding by it. Every run of a TC program (each repeat of a test run too)
 * is an RCU read-side critical section, and membarrier(MEMBARRIER_CMD_GLOBAL) returns
 * after an RCU grace period (synchronize_rcu): once every section under way when it
 * was called has ended. Where the kernel refuses it (nohz_full: EINVAL; no
 * CONFIG_MEMBARRIER: ENOSYS), a sleep of CTL_DP_GRACE_SLEEP_NS stands in: a run takes
 * microseconds, so only a CPU stopped that long in one (a VM's vCPU descheduled) would
 * outlast it (doc/performance.md, "Switching a policy").
 */
static void wait_readers(struct ctl_dp *dp)
{
	struct timespec ts = { 0, CTL_DP_GRACE_SLEEP_NS };

	if (!dp->retired)
		return;
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	dp->retired = false;
}

/* Build in dp->table the table of @n rules and their classifier; 0 or -errno. */
static int build_table(struct ctl_dp *dp, const struct ctlua_rule *rules, unsigned int n)
{
	dp->table->count = n;
	dp->table->pad = 0;
	if (n)
		memcpy(dp->table->rule, rules, n * sizeof(*rules));
	/* with no rules the program reads the count alone: nothing more is written */
	return n ? ctl_rule_class_build(rules, n, &dp->table->cls) : 0;
}

/*
 * Copy @len bytes from @from to offset @at of slot @slot of ctl_rules, through a mapping
 * of just the pages they fall in (map_range). Returns 0 or -errno.
 */
static int put_range(struct ctl_dp *dp, __u32 slot, size_t at, const void *from, size_t len)
{
	size_t maplen;
	void *map, *to;

	if (!len)
		return 0;
	if (!(to = map_range(dp, slot, at, len, &map, &maplen)))
		return -errno;
	memcpy(to, from, len);
	munmap(map, maplen);
	return 0;
}

/*
 * Address table @tab (@size bytes at offset @at of the slot; its starts at offset
 * @starts in it, @start_size bytes each, its sets at @sets) as far as the program reads
 * it: with @one_level its first CTLUA_RULE_SAMPLES starts and sets (ctlua.h: the
 * one-level search reads no more), else all of it. Returns 0 or -errno.
 */
static int put_spans(struct ctl_dp *dp, __u32 slot, size_t at, const void *tab, size_t size,
		     size_t starts, size_t start_size, size_t sets, bool one_level)
{
	const char *p = tab;
	int err;

	if (!one_level)
		return put_range(dp, slot, at, tab, size);
	err = put_range(dp, slot, at + starts, p + starts, CTLUA_RULE_SAMPLES * start_size);
	if (err)
		return err;
	return put_range(dp, slot, at + sets, p + sets, CTLUA_RULE_SAMPLES * sizeof(__u32));
}

/*
 * Copy dp->table into slot @idle of ctl_rules: the rules, and of the classifier what
 * the program reads of it (the address tables' used part, the port tables, the order,
 * the sets in use), the count last. A slot no packet reads (wait_readers).
 * Returns 0 or -errno.
 */
static int write_slot(struct ctl_dp *dp, __u32 idle)
{
	const struct ctlua_rule_table *t = dp->table;
	const struct ctlua_rule_class *c = &t->cls;
	const size_t cls = offsetof(struct ctlua_rule_table, cls);
	const size_t ports = offsetof(struct ctlua_rule_class, dport);
	const size_t pool = offsetof(struct ctlua_rule_class, pool);
	int i, err;

	if (t->count) {
		err = put_range(dp, idle, offsetof(struct ctlua_rule_table, rule), t->rule,
				t->count * sizeof(t->rule[0]));
		if (!err)	/* pool_used and short_search */
			err = put_range(dp, idle, cls, c, offsetof(struct ctlua_rule_class, v4));
		for (i = 0; i < 2 && !err; i++)
			err = put_spans(dp, idle, cls + offsetof(struct ctlua_rule_class, v4[i]),
					&c->v4[i], sizeof(c->v4[i]),
					offsetof(struct ctlua_rule_v4, start), sizeof(c->v4[i].start[0]),
					offsetof(struct ctlua_rule_v4, set), c->short_search) ?:
			      put_spans(dp, idle, cls + offsetof(struct ctlua_rule_class, v6[i]),
					&c->v6[i], sizeof(c->v6[i]),
					offsetof(struct ctlua_rule_v6, start), sizeof(c->v6[i].start[0]),
					offsetof(struct ctlua_rule_v6, set), c->short_search);
		if (!err)	/* dport, sport and order lie together, up to the pool */
			err = put_range(dp, idle, cls + ports, c->dport, pool - ports);
		if (!err)
			err = put_range(dp, idle, cls + pool, c->pool,
					c->pool_used * sizeof(c->pool[0]));
		if (err)
			return err;
	}
	/* the count (and pad) last */
	return put_range(dp, idle, 0, t, offsetof(struct ctlua_rule_table, rule));
}

/* Whether the default @d or one of the @n rules @r names a rate limit. */
static bool names_limits(const struct ctlua_verdict *d, const struct ctlua_rule *r,
			 unsigned int n)
{
	if (d->limit)
		return true;
	for (unsigned int i = 0; i < n; i++)
		if (r[i].verdict.limit)
			return true;
	return false;
}

/*
 * Each rule's counts to its position in @p, in the idle slot (rule_counts.h). When the
 * live policy or @p names a rate limit, the limits' specs are mapped into *@m (left
 * unmapped if they cannot be), for the carry and then for the sweep after the switch.
 */
static int carry_counts(struct ctl_dp *dp, __u32 live, const struct ctl_dp_policy *p,
			struct ctl_limit_map *m)
{
	/*
	 * the old and the new policy's limits are both taken: compared by their specs (if
	 * the specs cannot be mapped, by slot, and a limited rule starts at 0)
	 */
	if ((names_limits(&dp->head.dflt, dp->rules, dp->nrules) ||
	     names_limits(&p->dflt, p->rules, p->nrules)) && ctl_limit_map_open(dp, m))
		m->slot = NULL;
	return ctl_counts_carry(dp->counts, live,
				&(struct ctl_counts_policy){ dp->rules, dp->nrules,
							      &dp->head.dflt, m->slot },
				&(struct ctl_counts_policy){ p->rules, p->nrules, &p->dflt,
							      m->slot });
}

/*
 * The sets the pinned policy named that the live policy names no more: their members
 * leave the maps and their ids come back. Failing, they stay taken (a leak of ids, not
 * a wrong answer: no state's rules name them).
 */
static void release_pinned_sets(struct ctl_dp *dp)
{
	__u32 gone = dp->pinned_sets & ~rules_sets(dp->rules, dp->nrules);

	if (!gone || sets_drop(dp, gone))
		return;
	dp->pinned_sets &= ~gone;
	dp->set_ids &= ~gone;
}

int ctl_dp_put_policy(struct ctl_dp *dp, const struct ctl_dp_policy *p)
{
	const struct ctlua_policy head = { .mode = p->mode, .event_mask = p->event_mask,
					   .dflt = p->dflt };
	struct ctlua_config cfg = dp->cfg;
	__u32 live = cfg.rule_slot, idle = !live;
	struct ctl_limit_map m = { 0 };
	__u64 gen;
	int err;

	if (p->nrules > CTLUA_MAX_RULES)
		return -E2BIG;
	if (p->mode >= CTLUA_MODE_NR || p->dflt.action >= CTLUA_ACT_NR)
		return -EINVAL;
	if (p->nrules == dp->nrules &&
	    (!p->nrules || !memcmp(p->rules, dp->rules, p->nrules * sizeof(*p->rules))))
		gen = dp->slot_gen[live];
	else
		gen = dp->last_gen + 1;

	wait_readers(dp);
	if (dp->slot_gen[idle] != gen) {
		if (dp->table_gen != gen) {
			dp->table_gen = 0;	/* unknown if the build fails halfway */
			if ((err = build_table(dp, p->rules, p->nrules)))
				return err;
			dp->table_gen = dp->last_gen = gen;
		}
		dp->slot_gen[idle] = 0;		/* unknown if the write fails */
		if ((err = write_slot(dp, idle)))
			return err;
		dp->slot_gen[idle] = gen;
	}
	if (bpf_map__update_elem(dp->skel->maps.ctl_policy, &idle, sizeof(idle), &head,
				 sizeof(head), BPF_ANY))
		return -errno;
	if ((err = carry_counts(dp, live, p, &m)))
		goto out;
	cfg.rule_slot = (__u8)idle;
	err = write_config(dp, &cfg);
	ctl_counts_switched(dp->counts, !err);
	if (err)
		goto out;
	/* the slots the old policy used and @p does not are free now, @p's are live */
	if (m.slot)
		ctl_limit_sweep(&m, p);
	dp->retired = true;
	dp->head = head;
	if (p->rules != dp->rules && p->nrules)
		memmove(dp->rules, p->rules, p->nrules * sizeof(*p->rules));
	dp->nrules = p->nrules;
	if (dp->pinned_sets)
		release_pinned_sets(dp);
out:
	ctl_limit_map_close(&m);
	return err;
}

void ctl_dp_policy(const struct ctl_dp *dp, struct ctl_dp_policy *p)
{
	p->mode = dp->head.mode;
	p->event_mask = dp->head.event_mask;
	p->dflt = dp->head.dflt;
	p->rules = dp->rules;
	p->nrules = dp->nrules;
}

int ctl_dp_stats(struct ctl_dp *dp, struct ctlua_stats *sum)
{
	struct ctlua_stats *percpu = calloc(dp->ncpus, sizeof(*percpu));
	__u32 zero = 0;
	int err = 0;

	if (!percpu)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map__lookup_elem(dp->skel->maps.ctl_stats, &zero, sizeof(zero), percpu,
				 dp->ncpus * sizeof(*percpu), 0)) {
		err = -errno;
	} else {
		for (int c = 0; c < dp->ncpus; c++)
			for (int i = 0; i < CTLUA_STAT_SLOTS; i++)
				sum->count[i] += percpu[c].count[i];
		/* every packet ends in exactly one of these, so the program counts it once */
		sum->count[CTLUA_STAT_PACKETS] = 0;
		for (int i = CTLUA_STAT_NOT_IP; i <= CTLUA_STAT_LOOKUP_ERROR; i++)
			sum->count[CTLUA_STAT_PACKETS] += sum->count[i];
		/* the host fills the verdict table, so the host counts what happens there */
		sum->count[CTLUA_STAT_VERDICTS_FULL] = dp->verdicts_full;
		sum->count[CTLUA_STAT_VERDICTS_EXPIRED] = dp->verdicts_expired;
	}
	free(percpu);
	return err;
}

int ctl_dp_counts(struct ctl_dp *dp, struct ctlua_count *rules, struct ctlua_count *dflt,
		  struct ctlua_count *src)
{
	return ctl_counts_read(dp->counts, dp->cfg.rule_slot, dp->nrules, rules, dflt, src);
}

struct ctlua_request *ctl_dp_requests(struct ctl_dp *dp)
{
	return dp->skel->bss->ctl_reqs;
}

int ctl_dp_run_slice(struct ctl_dp *dp, unsigned int start, unsigned int n)
{
	/* SCHED_CLS test runs want an Ethernet frame; the kfuncs only use our tuples. */
	static const unsigned char frame[14 + 20 + 8] = { [12] = 0x08, [14] = 0x45 };
	struct __sk_buff ctx = { .cb = { start, start + n } };	/* ctlua_req's slice */
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n);

	if (n == 0)
		return 0;
	if (start > CTLUA_MAX_REQUESTS || n > CTLUA_MAX_REQUESTS - start)
		return -E2BIG;
	if (bpf_prog_test_run_opts(bpf_program__fd(dp->skel->progs.ctlua_req), &run))
		return -errno;
	return 0;
}

int ctl_dp_run_requests(struct ctl_dp *dp, unsigned int n)
{
	return ctl_dp_run_slice(dp, 0, n);
}

/* One thread's part of ctl_dp_run_parallel. */
struct slice_job {
	struct ctl_dp *dp;
	unsigned int start, n;
	ctl_dp_prep_fn prep;
	void *ctx;
	int err;
};

static void *slice_thread(void *arg)
{
	struct slice_job *j = arg;

	if (j->prep)
		j->prep(j->ctx, j->start, j->n);
	j->err = ctl_dp_run_slice(j->dp, j->start, j->n);
	return NULL;
}

int ctl_dp_run_parallel(struct ctl_dp *dp, unsigned int n, unsigned int threads,
			ctl_dp_prep_fn prep, void *ctx)
{
	struct slice_job job[CTL_DP_THREADS_MAX];
	pthread_t tid[CTL_DP_THREADS_MAX];
	sigset_t all, old;
	unsigned int started = 1, per;
	int err = 0;

	if (n > CTLUA_MAX_REQUESTS)
		return -E2BIG;
	if (threads < 1)
		threads = 1;
	if (threads > CTL_DP_THREADS_MAX)
		threads = CTL_DP_THREADS_MAX;
	if (threads > n)
		threads = n ? n : 1;
	per = (n + threads - 1) / threads;
	for (unsigned int t = 0; t < threads; t++) {
		job[t] = (struct slice_job){ .dp = dp, .start = t * per, .prep = prep, .ctx = ctx };
		job[t].n = t * per >= n ? 0 : n - t * per < per ? n - t * per : per;
	}
	/*
	 * The helpers block every signal, so a signal for the process interrupts the
	 * caller's own slice (EINTR) and the helpers finish theirs: a group stop still
	 * reaches them all, and each reports what it did in its slots.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < threads; started++)
		if (pthread_create(&tid[started], NULL, slice_thread, &job[started]))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/*
	 * What no helper could be started for, the caller runs after its own slice; after
	 * a failure it only fills them, so that their slots say they did not run.
	 */
	slice_thread(&job[0]);
	for (unsigned int t = started; t < threads; t++) {
		if (!job[0].err)
			slice_thread(&job[t]);
		else if (prep)
			prep(ctx, job[t].start, job[t].n);
	}
	for (unsigned int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	for (unsigned int t = 0; t < threads && !err; t++)
		err = job[t].err;
	return err;
}

void ctl_dp_fill_alloc(void *ctx, unsigned int start, unsigned int n)
{
	const struct ctl_dp_alloc_chunk *c = ctx;

	for (unsigned int j = start; j < start + n; j++) {
		struct ctlua_request *r = &c->reqs[j];

		memset(r, 0, offsetof(struct ctlua_request, error));
		r->flow = c->flows[j];
		r->opts = *c->opts;
		r->op = CTLUA_REQ_ALLOC;
		r->error = -EINPROGRESS;	/* stays if the run stops before it */
		r->stage = CTLUA_STAGE_NONE;
	}
}

void ctl_req_params_default(struct ctlua_req_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kopts.netns_id = -1;		/* BPF_F_CURRENT_NETNS */
	p->opts_size = 12;		/* accepted from 5.19 to today (KERNEL.md section 1) */
}

void ctl_dp_set_params(struct ctl_dp *dp, const struct ctlua_req_params *p)
{
	if (p)
		dp->skel->bss->req_params = *p;
	else
		ctl_req_params_default(&dp->skel->bss->req_params);
}

int ctl_dp_request(struct ctl_dp *dp, int op, const struct ctlua_flow *f,
		   const struct ctlua_opts *o, const struct ctlua_req_params *p,
		   struct ctlua_request *out)
{
	struct ctlua_request *r = ctl_dp_requests(dp);
	int err;

	memset(r, 0, sizeof(*r));
	r->flow = *f;
	if (o)
		r->opts = *o;
	r->op = (__u8)op;
	r->error = -EINPROGRESS;	/* stays if the run stops before this slot */
	ctl_dp_set_params(dp, p);
	err = ctl_dp_run_requests(dp, 1);
	ctl_dp_set_params(dp, NULL);
	*out = *r;
	return err;
}

static int prog_slot(int dir, bool l3)
{
	return (dir == CTLUA_DIR_EGRESS) * 2 + l3;
}

static struct bpf_program *prog_at(const struct ctlua_bpf *k, int slot)
{
	static const size_t off[CTL_DP_PROGS] = {
		offsetof(struct ctlua_bpf, progs.ctlua_ingress),
		offsetof(struct ctlua_bpf, progs.ctlua_ingress_l3),
		offsetof(struct ctlua_bpf, progs.ctlua_egress),
		offsetof(struct ctlua_bpf, progs.ctlua_egress_l3),
		offsetof(struct ctlua_bpf, progs.ctlua_xdp),
	};

	return *(struct bpf_program **)((char *)k + off[slot]);
}

/*
 * A second open of the object with only the program of @slot loaded, every map (the
 * internal .rodata, .bss, .kconfig and .data.* included) the first object's: the same
 * config, verdicts, rules, globals and counters. The maps exist, so libbpf neither
 * creates nor fills them; it reads the kernel's BTF again for this load.
 */
static int load_more(struct ctl_dp *dp, int slot)
{
	struct ctlua_bpf *k = ctlua_bpf__open();
	struct bpf_program *p;
	struct bpf_map *m;
	int err = 0;

	if (!k)
		return -errno;
	bpf_object__for_each_program(p, k->obj)
		bpf_program__set_autoload(p, p == prog_at(k, slot));
	bpf_object__for_each_map(m, k->obj) {
		struct bpf_map *own = bpf_object__find_map_by_name(dp->skel->obj,
								   bpf_map__name(m));

		err = own ? bpf_map__reuse_fd(m, bpf_map__fd(own)) : -ENOENT;
		if (err)
			break;
	}
	/*
	 * the object alone, not the skeleton: only the program's fd is used, and the
	 * skeleton's load would map every global section again (2.6 MB of .bss), pages
	 * the first skeleton maps already; its program pointers are set at open
	 */
	if (!err)
		err = bpf_object__load(k->obj);
	if (err) {
		ctlua_bpf__destroy(k);
		return err;
	}
	dp->more[slot] = k;
	return 0;
}

static int slot_fd(struct ctl_dp *dp, int slot)
{
	int err;

	if (slot == 0)
		return bpf_program__fd(dp->skel->progs.ctlua_ingress);
	for (int tries = 1; !dp->more[slot]; tries++) {
		err = load_more(dp, slot);
		if (err && (err != -EAGAIN || tries == CTL_DP_LOAD_TRIES))
			return err;	/* EAGAIN: interrupted (open_and_load) */
	}
	return bpf_program__fd(prog_at(dp->more[slot], slot));
}

int ctl_dp_prog_fd(struct ctl_dp *dp, int dir, bool l3)
{
	return slot_fd(dp, prog_slot(dir, l3));
}

int ctl_dp_xdp_fd(struct ctl_dp *dp)
{
	return slot_fd(dp, CTL_DP_XDP_SLOT);
}

int ctl_dp_events_fd(const struct ctl_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.ctl_events);
}

void ctl_dp_limit_fds(const struct ctl_dp *dp, struct ctl_dp_limit_fds *out)
{
	out->specs = bpf_map__fd(dp->skel->maps.ctl_limits);
	out->counts = bpf_map__fd(dp->skel->maps.ctl_lcounts);
	out->buckets = bpf_map__fd(dp->skel->maps.ctl_lbuckets);
}

void ctl_dp_set_fds(const struct ctl_dp *dp, struct ctl_dp_set_fds *out)
{
	out->v4 = bpf_map__fd(dp->skel->maps.ctl_set4);
	out->v6 = bpf_map__fd(dp->skel->maps.ctl_set6);
	out->ports = bpf_map__fd(dp->skel->maps.ctl_set_ports);
	out->h4 = bpf_map__fd(dp->skel->maps.ctl_set_h4);
	out->h6 = bpf_map__fd(dp->skel->maps.ctl_set_h6);
	out->kinds = bpf_map__fd(dp->skel->maps.ctl_set_kinds);
}

int ctl_dp_set_id_take(struct ctl_dp *dp)
{
	for (unsigned int id = 0; id < CTLUA_SETS; id++) {
		if (!(dp->set_ids & (1u << id))) {
			dp->set_ids |= 1u << id;
			return (int)id;
		}
	}
	return -ENOSPC;
}

void ctl_dp_set_id_put(struct ctl_dp *dp, unsigned int id)
{
	if (id < CTLUA_SETS)
		dp->set_ids &= ~(1u << id);
}

bool ctl_dp_set_live(const struct ctl_dp *dp, unsigned int id)
{
	return id < CTLUA_SETS && (rules_sets(dp->rules, dp->nrules) & (1u << id));
}

__u64 *ctl_dp_asleep(const struct ctl_dp *dp)
{
	return &dp->skel->data_wake->ctl_asleep;
}

const struct ctl_features *ctl_dp_features(struct ctl_dp *dp)
{
	if (!dp->feat_read) {
		/* a kernel whose BTF cannot be read offers nothing optional */
		ctl_probe_features(&dp->feat);
		/*
		 * NAT where the kernel has it and the loaded program sees it (the have_nat
		 * of ctlua.bpf.c); CTLUA_HIDE_FEATURES has hidden it in the first already
		 */
		dp->feat.nat = dp->feat.nat &&
			       (dp->skel->kconfig->CONFIG_NF_NAT == TRI_YES ||
				(dp->skel->kconfig->CONFIG_NF_NAT == TRI_MODULE &&
				 dp->skel->rodata->nat_module_btf));
		dp->feat_read = true;
	}
	return &dp->feat;
}

__s64 ctl_dp_clock_offset(void)
{
	static __s64 offset;
	static bool taken;

	if (!taken) {
		offset = ctl_now_ns(CLOCK_REALTIME) - ctl_now_ns(CLOCK_MONOTONIC);
		taken = true;
	}
	return offset;
}

__s64 ctl_dp_realtime_offset(const struct ctl_dp *dp)
{
	return dp->realtime_offset;
}

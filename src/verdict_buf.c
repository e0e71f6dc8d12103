// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * verdict_buf.c - per-flow verdicts buffered on the host and written in batches: one
 * bpf_map_update_batch for up to CTL_VBUF_SLOTS writes instead of a syscall each
 * (doc/performance.md, "Verdicts from Lua").
 *
 * Two tables live here. The buffer holds the writes that wait, with an index by flow so
 * a second write to a flow replaces the first and reads find it. The "stored" set holds
 * a 64-bit hash of every flow in the kernel's table or in the buffer: the host is the
 * table's only writer (the program only moves used_ns), so the set says, without a
 * syscall, whether a write needs a new slot and whether the table has one left. A
 * write that needs a slot the table lacks is made at once through ctl_dp_put_verdict,
 * which reclaims idle verdicts or fails with ENOSPC, exactly as without the buffer.
 *
 * A thread writes the buffer out CTL_VBUF_DEADLINE_NS after its first write, so a
 * verdict is late by at most that even when Lua never comes back to the loop (a long
 * loop, os.execute). One mutex guards everything; the Lua side holds it for a few
 * hundred nanoseconds a call, or for the syscall when it writes the buffer itself.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "datapath.h"
#include "deadline.h"
#include "verdict_buf.h"

#define INDEX_SIZE	(2 * CTL_VBUF_SLOTS)	/* power of two, half full at most */

struct ctl_vbuf {
	pthread_mutex_t mu;
	pthread_cond_t wake;		/* the thread: the buffer has a first write, or stop */
	pthread_t thread;
	bool stop;
	bool in_batch;			/* a drain batch runs: its end writes what waits */
	struct ctl_dp *dp;
	int fd;				/* the verdict map */
	unsigned int cap;		/* its capacity */

	/* the buffer: n writes waiting, in the order first made; dead ones were forgotten */
	unsigned int n, dead;
	struct timespec due;		/* when the first of them must be in the kernel */
	struct ctlua_flow keys[CTL_VBUF_SLOTS];
	struct ctlua_flow_verdict vals[CTL_VBUF_SLOTS];
	bool gone[CTL_VBUF_SLOTS];
	__u16 index[INDEX_SIZE];	/* slot + 1 by flow hash, linear probing; 0: empty */
	unsigned int refused;		/* leading writes the kernel refused: for the Lua side */

	/* the stored set: hashes of the flows in the kernel or the buffer; 0 is "empty" */
	__u64 *set;
	size_t set_size, set_count;	/* size: a power of two, or 0 before the first */
};

static __u64 flow_hash(const struct ctlua_flow *f)
{
	__u64 w[5], h = 0x243f6a8885a308d3ull;

	memcpy(w, f, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 31;
	}
	return h ? h : 1;
}

static bool flow_eq(const struct ctlua_flow *a, const struct ctlua_flow *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- the stored set (open addressing, backward-shift deletion) ---- */

/*
 * The set's arrays come straight from mmap: as it doubles, the old array goes back to
 * the system at once (malloc would keep it in the heap: +1.5 MiB at 100 000 flows).
 */
static __u64 *set_alloc(size_t n)
{
	void *p = mmap(NULL, n * sizeof(__u64), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void set_free(__u64 *set, size_t n)
{
	if (set)
		munmap(set, n * sizeof(__u64));
}

static size_t set_find(const struct ctl_vbuf *b, __u64 h)
{
	size_t mask = b->set_size - 1, i = h & mask;

	while (b->set[i] && b->set[i] != h)
		i = (i + 1) & mask;
	return i;
}

static bool set_has(const struct ctl_vbuf *b, __u64 h)
{
	return b->set_size && b->set[set_find(b, h)] == h;
}

static int set_add(struct ctl_vbuf *b, __u64 h)
{
	size_t i;

	if (2 * (b->set_count + 1) > b->set_size) {
		size_t size = b->set_size ? 2 * b->set_size : 1024;
		__u64 *old = b->set, *set = set_alloc(size);
		size_t old_size = b->set_size;

		if (!set)
			return -ENOMEM;
		b->set = set;
		b->set_size = size;
		for (size_t j = 0; j < old_size; j++)
			if (old[j])
				b->set[set_find(b, old[j])] = old[j];
		set_free(old, old_size);
	}
	i = set_find(b, h);
	if (!b->set[i]) {
		b->set[i] = h;
		b->set_count++;
	}
	return 0;
}

static void set_del(struct ctl_vbuf *b, __u64 h)
{
	size_t mask = b->set_size - 1, i, j, home;

	if (!set_has(b, h))
		return;
	i = set_find(b, h);
	b->set[i] = 0;
	b->set_count--;
	/* move back the entries of the run after i that may no longer be found */
	for (j = (i + 1) & mask; b->set[j]; j = (j + 1) & mask) {
		home = b->set[j] & mask;
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			b->set[i] = b->set[j];
			b->set[j] = 0;
			i = j;
		}
	}
}

/* ---- the buffer ---- */

/* The slot of @f in the buffer (dead or alive), or -1. */
static int buf_find(const struct ctl_vbuf *b, const struct ctlua_flow *f, __u64 h)
{
	for (unsigned int i = h & (INDEX_SIZE - 1); b->index[i]; i = (i + 1) & (INDEX_SIZE - 1))
		if (flow_eq(&b->keys[b->index[i] - 1], f))
			return b->index[i] - 1;
	return -1;
}

/*
 * ctl_dp_expire_verdicts removed @f's idle value from the kernel (called under the lock).
 * A newer write for @f that waits in the buffer will put it back: @f stays in the set.
 */
static void on_gone(void *ctx, const struct ctlua_flow *f)
{
	struct ctl_vbuf *b = ctx;
	__u64 h = flow_hash(f);
	int slot = buf_find(b, f, h);

	if (slot < 0 || b->gone[slot])
		set_del(b, h);
}

static void buf_index(struct ctl_vbuf *b, unsigned int slot, __u64 h)
{
	unsigned int i = h & (INDEX_SIZE - 1);

	while (b->index[i])
		i = (i + 1) & (INDEX_SIZE - 1);
	b->index[i] = (__u16)(slot + 1);
}

static void buf_clear(struct ctl_vbuf *b)
{
	memset(b->index, 0, sizeof(b->index));
	memset(b->gone, 0, b->n * sizeof(b->gone[0]));
	b->n = 0;
	b->dead = 0;
	b->refused = 0;
}

/*
 * Write the buffer with one batch call; what the kernel refuses (from the first refusal
 * on, one at a time) stays at the head of the buffer, counted in b->refused, for the
 * Lua side to settle (settle_locked). Called with the lock held, from either side.
 */
static void write_locked(struct ctl_vbuf *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	unsigned int n = 0, keep = 0;
	__u32 count;

	if (b->refused || !b->n)
		return;
	/* forgotten writes out first (rare: ct.forget of a buffered flow) */
	for (unsigned int i = 0; i < b->n; i++)
		if (!b->gone[i]) {
			if (n != i) {
				b->keys[n] = b->keys[i];
				b->vals[n] = b->vals[i];
			}
			n++;
		}
	count = n;
	if (n && bpf_map_update_batch(b->fd, b->keys, b->vals, &count, &opts)) {
		/* count were written; try the rest one by one, keeping what fails */
		for (unsigned int i = count; i < n; i++)
			if (bpf_map_update_elem(b->fd, &b->keys[i], &b->vals[i], BPF_ANY)) {
				b->keys[keep] = b->keys[i];
				b->vals[keep] = b->vals[i];
				keep++;
			}
	}
	buf_clear(b);
	if (keep) {
		for (unsigned int i = 0; i < keep; i++)
			buf_index(b, i, flow_hash(&b->keys[i]));
		b->n = keep;
		b->refused = keep;
	}
}

/*
 * Retry the writes the kernel refused, one at a time with reclaim; drop and report the
 * first that still fails (the rest are retried at the next call). Lua side only: it
 * calls ctl_dp_put_verdict, which keeps the datapath's counters.
 */
static int settle_locked(struct ctl_vbuf *b, struct ctlua_flow *fail)
{
	int err = 0;

	while (b->refused && !err) {
		struct ctlua_flow f = b->keys[0];
		struct ctlua_verdict v = b->vals[0].v;
		unsigned int left = b->n - 1;

		if (!b->gone[0])	/* forgotten since: nothing to retry */
			err = ctl_dp_put_verdict(b->dp, &f, &v);
		if (err) {
			set_del(b, flow_hash(&f));
			if (fail)
				*fail = f;
		}
		/* take the head off and index the rest again; a forgotten one leaves the dead */
		if (b->gone[0])
			b->dead--;
		memmove(&b->keys[0], &b->keys[1], left * sizeof(b->keys[0]));
		memmove(&b->vals[0], &b->vals[1], left * sizeof(b->vals[0]));
		memmove(&b->gone[0], &b->gone[1], left * sizeof(b->gone[0]));
		b->gone[left] = false;
		b->refused--;
		b->n = left;
		memset(b->index, 0, sizeof(b->index));
		for (unsigned int i = 0; i < left; i++)
			buf_index(b, i, flow_hash(&b->keys[i]));
	}
	return err;
}

static int sync_locked(struct ctl_vbuf *b, struct ctlua_flow *fail)
{
	write_locked(b);
	return settle_locked(b, fail);
}


/* The flusher: sleeps until the buffer has a write, then until that one is due. */
static void *flusher(void *arg)
{
	struct ctl_vbuf *b = arg;
	struct sched_param rt = { .sched_priority = 1 };

	/*
	 * The lowest real-time priority: at its deadline the thread runs at once instead of
	 * waiting for a time slice behind the Lua thread (measured: p50 1.2 ms either way,
	 * but up to 5 ms under load without it). Its work is one batch call, so it cannot
	 * hold a CPU for long. Without the privilege, it stays an ordinary thread.
	 */
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		/* nothing, or only refused writes (put_locked appends none behind them) */
		if (!b->n || b->refused)
			pthread_cond_wait(&b->wake, &b->mu);
		else if (ctl_deadline_past(&b->due))
			write_locked(b);
		else
			pthread_cond_timedwait(&b->wake, &b->mu, &b->due);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

void ctl_vbuf_batch(struct ctl_vbuf *b, bool on)
{
	pthread_mutex_lock(&b->mu);
	b->in_batch = on;
	if (!on && b->n && !b->refused)	/* not written at the end: the thread keeps the deadline */
		pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->mu);
}

/*
 * The stored set from the kernel's table as it is (pinned, an earlier ctlua's), read in
 * batches: one syscall per bucket-full of keys, not one per key (a restart on 100 000
 * verdicts; doc/performance.md, "Pinned state").
 */
static int seed_stored(struct ctl_vbuf *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 chunk = 4096, batch = 0, got;
	struct ctlua_flow *keys = NULL;
	struct ctlua_flow_verdict *vals = NULL;
	bool first = true, done = false;
	int err = 0;

	while (!done && !err) {
		if (!keys) {
			keys = calloc(chunk, sizeof(*keys));
			vals = calloc(chunk, sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		got = chunk;
		err = bpf_map_lookup_batch(b->fd, first ? NULL : &batch, &batch, keys, vals, &got,
					   &bo);
		if (err == -ENOSPC && chunk < b->cap) {	/* a bucket holds more than a chunk */
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			chunk *= 4;
			err = 0;
			continue;
		}
		if (err == -ENOENT) {	/* the end; the last call may still return some */
			done = true;
			err = 0;
		}
		for (__u32 i = 0; !err && i < got; i++)
			err = set_add(b, flow_hash(&keys[i]));
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

int ctl_vbuf_new(struct ctl_vbuf **out, struct ctl_dp *dp)
{
	struct ctl_vbuf *b = calloc(1, sizeof(*b));
	pthread_condattr_t ca;
	sigset_t all, old;
	int err;

	if (!b)
		return -ENOMEM;
	b->dp = dp;
	b->fd = ctl_dp_verdicts_fd(dp);
	b->cap = ctl_dp_verdicts(dp);
	/* a pinned table an earlier ctlua filled: its flows are stored already */
	if (ctl_dp_pin_reused(dp) && (err = seed_stored(b))) {
		set_free(b->set, b->set_size);
		free(b);
		return err;
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* the stop signals are the main thread's (loop.c): the flusher takes none */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&b->thread, NULL, flusher, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&b->wake);
		pthread_mutex_destroy(&b->mu);
		free(b);
		return err;
	}
	ctl_dp_on_verdict_gone(dp, on_gone, b);
	*out = b;
	return 0;
}

void ctl_vbuf_free(struct ctl_vbuf *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	sync_locked(b, NULL);
	b->stop = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	ctl_dp_on_verdict_gone(b->dp, NULL, NULL);
	pthread_cond_destroy(&b->wake);
	pthread_mutex_destroy(&b->mu);
	set_free(b->set, b->set_size);
	free(b);
}

/* The verdict the program will read: @v, used now (its clock: see ctlua_flow_verdict). */
static int put_locked(struct ctl_vbuf *b, const struct ctlua_flow *f,
		      const struct ctlua_verdict *v, struct ctlua_flow *fail)
{
	__u64 h = flow_hash(f);
	int slot, err;

	if (b->refused && (err = settle_locked(b, fail)))
		return err;
	slot = buf_find(b, f, h);
	if (slot >= 0) {			/* waiting already: replace it there */
		if (b->gone[slot]) {
			/* counted first: on ENOMEM the slot stays forgotten, as the error says */
			if ((err = set_add(b, h)))
				return err;
			b->gone[slot] = false;
			b->dead--;
		}
		ctl_dp_verdict_value(&b->vals[slot], v);
		return 0;
	}
	if (!set_has(b, h) && b->set_count >= b->cap) {
		/* a new slot in a table that may be full: at once, as without the buffer */
		if ((err = sync_locked(b, fail)))
			return err;
		if (fail)
			*fail = *f;
		if ((err = ctl_dp_put_verdict(b->dp, f, v)))
			return err;
		return set_add(b, h);
	}
	if (b->n == CTL_VBUF_SLOTS) {
		/*
		 * Written out, and what the kernel refuses settled here: a write never waits
		 * behind refused ones, which the flusher leaves to this side (it would miss
		 * the deadline). Before set_add: reclaiming may take @f's old value.
		 */
		if ((err = sync_locked(b, fail)))
			return err;
	}
	if ((err = set_add(b, h)))
		return err;
	/* the program skips the map until this is set: set it before anything waits */
	if ((err = ctl_dp_use_verdicts(b->dp))) {
		set_del(b, h);
		return err;
	}
	slot = (int)b->n++;
	b->keys[slot] = *f;
	ctl_dp_verdict_value(&b->vals[slot], v);
	buf_index(b, (unsigned int)slot, h);
	if (b->n == 1) {		/* the first that waits sets the deadline */
		ctl_deadline_after_ns(&b->due, CTL_VBUF_DEADLINE_NS);
		/*
		 * In a drain batch the batch's end writes, microseconds from now: waking the
		 * thread would only preempt the callbacks on their way there (it runs at a
		 * real-time priority) and cost two context switches per first-packet verdict.
		 */
		if (!b->in_batch)
			pthread_cond_signal(&b->wake);
	} else if (ctl_deadline_past(&b->due)) {
		/* the thread may not have had a CPU: the deadline is kept from here too */
		write_locked(b);
	}
	return 0;
}

int ctl_vbuf_put(struct ctl_vbuf *b, const struct ctlua_flow *f, const struct ctlua_verdict *v,
		 struct ctlua_flow *fail)
{
	int err;

	if (fail)
		*fail = *f;
	pthread_mutex_lock(&b->mu);
	err = put_locked(b, f, v, fail);
	pthread_mutex_unlock(&b->mu);
	return err;
}

int ctl_vbuf_get(struct ctl_vbuf *b, const struct ctlua_flow *f, struct ctlua_verdict *v)
{
	struct ctlua_flow_verdict fv;
	int slot, err = 0;

	pthread_mutex_lock(&b->mu);
	slot = buf_find(b, f, flow_hash(f));
	if (slot >= 0 && !b->gone[slot])
		*v = b->vals[slot].v;
	else if (slot >= 0 || bpf_map_lookup_elem(b->fd, f, &fv))
		err = slot >= 0 ? -ENOENT : -errno;
	else
		*v = fv.v;
	pthread_mutex_unlock(&b->mu);
	return err;
}

int ctl_vbuf_del(struct ctl_vbuf *b, const struct ctlua_flow *f)
{
	__u64 h = flow_hash(f);
	bool waiting = false;
	int slot, err;

	pthread_mutex_lock(&b->mu);
	slot = buf_find(b, f, h);
	if (slot >= 0 && !b->gone[slot]) {
		/* the kernel may hold an older one: deleted below, whatever happens here */
		b->gone[slot] = true;
		b->dead++;
		waiting = true;
	}
	err = ctl_dp_del_verdict(b->dp, f);
	if (err == -ENOENT && waiting)
		err = 0;
	if (!err)
		set_del(b, h);
	if (b->n == b->dead)
		buf_clear(b);
	pthread_mutex_unlock(&b->mu);
	return err;
}

int ctl_vbuf_sync(struct ctl_vbuf *b, struct ctlua_flow *fail)
{
	int err;

	pthread_mutex_lock(&b->mu);
	err = sync_locked(b, fail);
	pthread_mutex_unlock(&b->mu);
	return err;
}

unsigned int ctl_vbuf_pending(struct ctl_vbuf *b)
{
	unsigned int n;

	pthread_mutex_lock(&b->mu);
	n = b->n - b->dead;
	pthread_mutex_unlock(&b->mu);
	return n;
}

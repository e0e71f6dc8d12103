/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pin.h - the datapath's state maps pinned in a bpffs directory (--pin DIR), so that a
 * later ctlua (a restart, an upgrade, after kill -9) loads its program on the same
 * maps; pins that do not carry this ctlua's layout signature are discarded, never used.
 * Every function returns 0 or -errno unless it says otherwise.
 */
#ifndef CTLUA_PIN_H
#define CTLUA_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct bpf_object;
struct ctl_pin;

/* Where --pin and ct.config{pin=} put state when given a bare name (doc/guide.md). */
#define CTL_PIN_ROOT		"/sys/fs/bpf/ctlua"
/*
 * @arg as given to --pin or ct.config{pin=} into @out: a name without '/' is a directory
 * of CTL_PIN_ROOT, anything else is taken as it is. Returns 0, -EINVAL (empty, or a name
 * "." or ".."), or -ENAMETOOLONG.
 */
int ctl_pin_path(const char *arg, char *out, size_t size);
/* The maps that hold state, pinned under their own names, and the signature's pin. */
#define CTL_PIN_NMAPS		15
extern const char *const ctl_pin_maps[CTL_PIN_NMAPS + 1];
#define CTL_PIN_SIG		"ctl_pin_sig"

/*
 * Between the open and the load of @obj (its maps sized): lock @dir (created, mode 0700,
 * if missing; -EBUSY when another ctlua holds it) and compare what is pinned there with
 * what @obj wants. When every map is there with this ctlua's signature and sizes,
 * @obj's maps are set to reuse them; when something differs, one line on stderr says
 * what, and the old pins are removed (the maps live on only in programs still using
 * them). On failure, one sentence in @msg.
 */
int ctl_pin_open(struct ctl_pin **out, const char *dir, struct bpf_object *obj,
		 char *msg, size_t len);
/* After a successful load: pin the maps made fresh, then the signature (last). */
int ctl_pin_commit(struct ctl_pin *pin, struct bpf_object *obj, char *msg, size_t len);
/* Unlock, close; the pins stay. NULL is a no-op. */
void ctl_pin_close(struct ctl_pin *pin);

/* Whether the maps were reused (the state of an earlier ctlua), rather than made new. */
bool ctl_pin_reused(const struct ctl_pin *pin);
const char *ctl_pin_dir(const struct ctl_pin *pin);
/* The kernel ids of the pinned maps, CTL_PIN_NMAPS of them, valid after ctl_pin_commit. */
const __u32 *ctl_pin_map_ids(const struct ctl_pin *pin);

/*
 * Whether program @prog_id uses each of the @n maps @ids (the test for adopting a
 * filter: its program runs on the pinned state). Returns 1, 0, or -errno.
 */
int ctl_pin_prog_uses(__u32 prog_id, const __u32 *ids, int n);

#endif

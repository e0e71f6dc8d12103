// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pin.c - pinning the datapath's state maps in a bpffs directory and reusing them only
 * when they carry this ctlua's layout. libbpf's own reuse of a pinned map checks type,
 * key and value size, size and flags: a struct whose fields moved at the same size
 * would be read wrongly without a word. So a small array map pinned beside the state
 * (CTL_PIN_SIG) holds CTLUA_ABI and a hash of the maps' definitions and of their key
 * and value types as the object's BTF describes them, field by field; it is pinned
 * last, so a directory whose pinning stopped halfway has none and is rebuilt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "ct_host.h"
#include "ctlua.h"
#include "log.h"
#include "pin.h"

/*
 * What is pinned: everything that outlives one run's meaning. Not pinned: the ring
 * buffer (events nobody will read), .bss (the direct requests' scratch array and their
 * params), .data.wake (the reader's sleep flag), .rodata and .kconfig (constants of the
 * object that loaded them).
 */
const char *const ctl_pin_maps[CTL_PIN_NMAPS + 1] = {
	"ctl_config", "ctl_verdicts", "ctl_rules", "ctl_policy", "ctl_stats", "ctl_counts",
	"ctl_limits", "ctl_lcounts", "ctl_lbuckets", "ctl_set4", "ctl_set6", "ctl_set_ports",
	"ctl_set_h4", "ctl_set_h6", "ctl_set_kinds", NULL,
};

/* The signature map's value. */
struct pin_sig {
	__u64 hash;
	__u32 abi;
	__u32 pad;
};

struct ctl_pin {
	char dir[PATH_MAX];
	int dir_fd;			/* flock()ed while this ctlua uses the state */
	bool reused;
	struct pin_sig sig;		/* this ctlua's */
	__u32 ids[CTL_PIN_NMAPS];
};

int ctl_pin_path(const char *arg, char *out, size_t size)
{
	int n;

	if (!*arg || !strcmp(arg, ".") || !strcmp(arg, ".."))
		return -EINVAL;
	n = strchr(arg, '/') ? snprintf(out, size, "%s", arg) :
			       snprintf(out, size, CTL_PIN_ROOT "/%s", arg);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static __u64 fnv_str(__u64 h, const char *s)
{
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* Fold type @id of @btf into @h: kinds, sizes, names and offsets of every field, deep. */
static __u64 hash_type(const struct btf *btf, __u32 id, __u64 h, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	__u32 kind, vlen;

	if (!t || depth > 16)
		return fnv(h, "?", 1);
	kind = btf_kind(t);
	vlen = btf_vlen(t);
	h = fnv(h, &kind, sizeof(kind));
	h = fnv_str(h, btf__name_by_offset(btf, t->name_off));
	switch (kind) {
	case BTF_KIND_INT:
		h = fnv(h, &t->size, sizeof(t->size));
		return fnv(h, t + 1, sizeof(__u32));	/* encoding, offset, bits */
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);

		h = fnv(h, &t->size, sizeof(t->size));
		for (__u32 i = 0; i < vlen; i++, m++) {
			h = fnv_str(h, btf__name_by_offset(btf, m->name_off));
			h = fnv(h, &m->offset, sizeof(m->offset));
			h = hash_type(btf, m->type, h, depth + 1);
		}
		return h;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);

		h = fnv(h, &a->nelems, sizeof(a->nelems));
		return hash_type(btf, a->type, h, depth + 1);
	}
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);

		h = fnv(h, &t->size, sizeof(t->size));
		for (__u32 i = 0; i < vlen; i++, e++) {
			h = fnv_str(h, btf__name_by_offset(btf, e->name_off));
			h = fnv(h, &e->val, sizeof(e->val));
		}
		return h;
	}
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return hash_type(btf, t->type, h, depth + 1);
	default:
		return fnv(h, &t->size, sizeof(t->size));
	}
}

/* This ctlua's signature: the ABI, each pinned map's definition, key and value types. */
static int make_sig(struct bpf_object *obj, struct pin_sig *sig)
{
	const struct btf *btf = bpf_object__btf(obj);
	__u64 h = 0xcbf29ce484222325ull;

	if (!btf)
		return -ENOENT;
	for (int i = 0; i < CTL_PIN_NMAPS; i++) {
		const struct bpf_map *m = bpf_object__find_map_by_name(obj, ctl_pin_maps[i]);
		__u32 def[4];

		if (!m)
			return -ENOENT;
		/* the size is left out: the verdict table's is checked apart, to say so */
		def[0] = bpf_map__type(m);
		def[1] = bpf_map__key_size(m);
		def[2] = bpf_map__value_size(m);
		def[3] = bpf_map__map_flags(m);
		h = fnv_str(h, ctl_pin_maps[i]);
		h = fnv(h, def, sizeof(def));
		h = hash_type(btf, bpf_map__btf_key_type_id(m), h, 0);
		h = hash_type(btf, bpf_map__btf_value_type_id(m), h, 0);
	}
	memset(sig, 0, sizeof(*sig));
	sig->hash = h;
	sig->abi = CTLUA_ABI;
	return 0;
}

/* mkdir -p @dir, each level made mode 0700. */
static int make_dirs(const char *dir)
{
	char p[PATH_MAX], c;

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
		if (!(*s = c))
			return 0;
	}
}

static int pin_at(const struct ctl_pin *pin, const char *name, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%s", pin->dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The pinned object @name's fd and info; -ENOENT when it is not there. */
static int get_pinned(const struct ctl_pin *pin, const char *name, struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 ilen = sizeof(*info);
	int fd, err;

	if ((err = pin_at(pin, name, path, sizeof(path))))
		return err;
	if ((fd = bpf_obj_get(path)) < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &ilen)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Whether what is pinned is this ctlua's state, every map there with its size: 1, or 0
 * with what differs in @why (empty when nothing at all is pinned), or -errno. With 1,
 * the pinned maps' fds are in @fds.
 */
static int judge(struct ctl_pin *pin, struct bpf_object *obj, int fds[CTL_PIN_NMAPS],
		 char *why, size_t len)
{
	struct bpf_map_info info;
	struct pin_sig got;
	__u32 zero = 0;
	int fd, found = 0;

	*why = '\0';
	fd = get_pinned(pin, CTL_PIN_SIG, &info);
	if (fd >= 0) {
		bool ok = info.type == BPF_MAP_TYPE_ARRAY && info.key_size == 4 &&
			  info.value_size == sizeof(got) &&
			  !bpf_map_lookup_elem(fd, &zero, &got);

		close(fd);
		if (!ok) {
			snprintf(why, len, "its layout signature cannot be read");
			return 0;
		}
		if (got.abi != pin->sig.abi || got.hash != pin->sig.hash) {
			snprintf(why, len, "layout signature %016llx of ABI %u, this ctlua's "
				 "%016llx of ABI %u", (unsigned long long)got.hash, got.abi,
				 (unsigned long long)pin->sig.hash, pin->sig.abi);
			return 0;
		}
		found++;
	} else if (fd != -ENOENT) {
		return fd;
	}
	for (int i = 0; i < CTL_PIN_NMAPS; i++) {
		const struct bpf_map *m = bpf_object__find_map_by_name(obj, ctl_pin_maps[i]);

		fd = get_pinned(pin, ctl_pin_maps[i], &info);
		if (fd == -ENOENT) {
			if (found && !*why)
				snprintf(why, len, "'%s' is missing", ctl_pin_maps[i]);
			continue;
		}
		if (fd < 0)
			return fd;
		fds[i] = fd;
		if (!found++ && !*why)	/* maps, but no signature */
			snprintf(why, len, "no layout signature");
		if (*why)
			continue;
		if (info.type != bpf_map__type(m))
			snprintf(why, len, "'%s' is a map of type %u, this ctlua's of type %u",
				 ctl_pin_maps[i], info.type, bpf_map__type(m));
		else if (info.key_size != bpf_map__key_size(m) ||
			 info.value_size != bpf_map__value_size(m))
			snprintf(why, len, "'%s' has keys of %u and values of %u bytes, this "
				 "ctlua's %u and %u", ctl_pin_maps[i], info.key_size,
				 info.value_size, bpf_map__key_size(m), bpf_map__value_size(m));
		else if (info.map_flags != bpf_map__map_flags(m))
			snprintf(why, len, "'%s' has flags 0x%x, this ctlua's 0x%x", ctl_pin_maps[i],
				 info.map_flags, bpf_map__map_flags(m));
		else if (info.max_entries != bpf_map__max_entries(m) &&
			 !strcmp(ctl_pin_maps[i], "ctl_verdicts"))
			snprintf(why, len, "the verdict table has room for %u, this ctlua asks for "
				 "%u (--verdicts, ct.config{verdicts=})", info.max_entries,
				 bpf_map__max_entries(m));
		else if (info.max_entries != bpf_map__max_entries(m))
			snprintf(why, len, "'%s' has %u entries, this ctlua's %u", ctl_pin_maps[i],
				 info.max_entries, bpf_map__max_entries(m));
	}
	return found && !*why;
}

/* Remove this ctlua's pins from the directory (nothing else in it). */
static int unpin_all(const struct ctl_pin *pin)
{
	char path[PATH_MAX];

	/* the signature first: a directory left halfway has none, and is rebuilt again */
	for (int i = -1; i < CTL_PIN_NMAPS; i++) {
		int err = pin_at(pin, i < 0 ? CTL_PIN_SIG : ctl_pin_maps[i], path, sizeof(path));

		if (err)
			return err;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int ctl_pin_open(struct ctl_pin **out, const char *dir, struct bpf_object *obj,
		 char *msg, size_t len)
{
	struct ctl_pin *pin = calloc(1, sizeof(*pin));
	int fds[CTL_PIN_NMAPS], err, ok;
	struct statfs fs;
	char why[256];

	for (int i = 0; i < CTL_PIN_NMAPS; i++)
		fds[i] = -1;
	if (!pin) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	pin->dir_fd = -1;
	snprintf(pin->dir, sizeof(pin->dir), "%s", dir);
	if ((err = make_dirs(dir)) ||
	    (pin->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = err ? err : -errno;
		/* sysfs refuses mkdir with ENOENT: /sys/fs/bpf without its bpffs mounted */
		snprintf(msg, len, "cannot make the pin directory '%s' (%s)%s", dir, strerror(-err),
			 err == -ENOENT ? "; is a bpf file system mounted there? (`ip netns exec` "
			 "mounts a /sys of its own without one)" : "");
		goto fail;
	}
	if (fstatfs(pin->dir_fd, &fs) || fs.f_type != BPF_FS_MAGIC) {
		err = -ENOTSUP;
		snprintf(msg, len, "cannot pin in '%s': it is not on a bpf file system (mount -t "
			 "bpf bpf /sys/fs/bpf)", dir);
		goto fail;
	}
	if (flock(pin->dir_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(msg, len, err == -EBUSY ? "the state pinned in '%s' is in use by another "
			 "ctlua" : "cannot lock the pin directory '%s' (%s)", dir, strerror(-err));
		goto fail;
	}
	if ((err = make_sig(obj, &pin->sig))) {
		snprintf(msg, len, "cannot read the BPF object's BTF (%s)", strerror(-err));
		goto fail;
	}
	ok = judge(pin, obj, fds, why, sizeof(why));
	if (ok < 0) {
		err = ok;
		snprintf(msg, len, "cannot read the state pinned in '%s' (%s)", dir, strerror(-err));
		goto fail;
	}
	for (int i = 0; ok && i < CTL_PIN_NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, ctl_pin_maps[i]);

		if ((err = bpf_map__reuse_fd(m, fds[i]))) {
			snprintf(msg, len, "cannot reuse '%s/%s' (%s)", dir, ctl_pin_maps[i],
				 strerror(-err));
			goto fail;
		}
	}
	pin->reused = ok;
	if (!ok && *why) {
		/* never used: the pins go, the maps live on only in programs that hold them */
		ctl_log(CTL_LOG_WARNING, "the state pinned in '%s' does not match this ctlua "
			"(%s): discarded it, new maps are pinned there", dir, why);
		if ((err = unpin_all(pin))) {
			snprintf(msg, len, "cannot remove the old pins in '%s' (%s)", dir,
				 strerror(-err));
			goto fail;
		}
	}
	for (int i = 0; i < CTL_PIN_NMAPS; i++)
		if (fds[i] >= 0)
			close(fds[i]);	/* reuse_fd took its own copy */
	*out = pin;
	return 0;
fail:
	for (int i = 0; i < CTL_PIN_NMAPS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ctl_pin_close(pin);
	return err;
}

int ctl_pin_commit(struct ctl_pin *pin, struct bpf_object *obj, char *msg, size_t len)
{
	LIBBPF_OPTS(bpf_map_create_opts, co);
	char path[PATH_MAX];
	__u32 zero = 0;
	int err = 0, fd = -1;

	for (int i = 0; i < CTL_PIN_NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, ctl_pin_maps[i]);
		struct bpf_map_info info = {};
		__u32 ilen = sizeof(info);

		if (!pin->reused && !err && !(err = pin_at(pin, ctl_pin_maps[i], path, sizeof(path))))
			err = bpf_map__pin(m, path);
		if (!err && bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &ilen))
			err = -errno;
		if (err) {
			snprintf(msg, len, "cannot pin '%s' in '%s' (%s)", ctl_pin_maps[i], pin->dir,
				 strerror(-err));
			return err;
		}
		pin->ids[i] = info.id;
	}
	if (pin->reused)
		return 0;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, CTL_PIN_SIG, sizeof(zero), sizeof(pin->sig), 1,
			    &co);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, &pin->sig, BPF_ANY) ||
	    (err = pin_at(pin, CTL_PIN_SIG, path, sizeof(path))) || bpf_obj_pin(fd, path))
		err = err ? err : -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		snprintf(msg, len, "cannot pin the layout signature in '%s' (%s)", pin->dir,
			 strerror(-err));
	return err;
}

void ctl_pin_close(struct ctl_pin *pin)
{
	if (!pin)
		return;
	if (pin->dir_fd >= 0)
		close(pin->dir_fd);
	free(pin);
}

bool ctl_pin_reused(const struct ctl_pin *pin)
{
	return pin->reused;
}

const char *ctl_pin_dir(const struct ctl_pin *pin)
{
	return pin->dir;
}

const __u32 *ctl_pin_map_ids(const struct ctl_pin *pin)
{
	return pin->ids;
}

int ctl_pin_prog_uses(__u32 prog_id, const __u32 *ids, int n)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info), map_ids[64];
	int fd = bpf_prog_get_fd_by_id(prog_id), err = 0, found = 0;

	if (fd < 0)
		return -errno;
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	close(fd);
	if (err)
		return err;
	if (info.nr_map_ids > sizeof(map_ids) / sizeof(map_ids[0]))
		info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	for (int i = 0; i < n; i++)
		for (__u32 j = 0; j < info.nr_map_ids; j++)
			if (map_ids[j] == ids[i]) {
				found++;
				break;
			}
	return found == n;
}

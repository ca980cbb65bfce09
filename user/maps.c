// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Pin directory, bpffs, pinned maps, locking, per-CPU sums and clocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps.h"
#include "addr.h"
#include "bucket.h"
#include "cfg.h"
#include "lists.h"
#include "log.h"

const struct mxg_map_desc mxg_map_descs[] = {
	{ "mxg_cfg", offsetof(struct mxg_maps, cfg), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxg_cfg) },
	{ "mxg_allow", offsetof(struct mxg_maps, allow), BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct mxg_lpm_key), sizeof(struct mxg_allow_val) },
	{ "mxg_block_h", offsetof(struct mxg_maps, block_h), BPF_MAP_TYPE_HASH,
	  sizeof(union mxg_addr), sizeof(struct mxg_block_val) },
	{ "mxg_block_t", offsetof(struct mxg_maps, block_t),
	  BPF_MAP_TYPE_LPM_TRIE, sizeof(struct mxg_lpm_key),
	  sizeof(struct mxg_block_val) },
	{ "mxg_src", offsetof(struct mxg_maps, src), BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct mxg_src_key), sizeof(struct mxg_src_val) },
	{ "mxg_pfx", offsetof(struct mxg_maps, pfx), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxg_pfx_val) },
	{ "mxg_lists", offsetof(struct mxg_maps, lists), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxg_lists) },
	{ "mxg_pen", offsetof(struct mxg_maps, pen), BPF_MAP_TYPE_HASH,
	  sizeof(struct mxg_src_key), sizeof(struct mxg_pen_val) },
	{ "mxg_stats", offsetof(struct mxg_maps, stats),
	  BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ "mxg_events", offsetof(struct mxg_maps, events),
	  BPF_MAP_TYPE_RINGBUF, 0, 0 },
	{ "mxg_feeds", offsetof(struct mxg_maps, feeds), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxg_feed) },
	{ "mxg_reasons", offsetof(struct mxg_maps, reasons), BPF_MAP_TYPE_HASH,
	  sizeof(__u32), sizeof(struct mxg_reason_text) },
	{ "mxg_seen", offsetof(struct mxg_maps, seen), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(__u64) },
};
const size_t mxg_nmaps = sizeof(mxg_map_descs) / sizeof(mxg_map_descs[0]);

static int *fd_slot(struct mxg_maps *m, const struct mxg_map_desc *d)
{
	return (int *)((char *)m + d->fd_off);
}

const char *mxg_pin_dir(void)
{
	const char *d = getenv("MXGUARD_PIN_DIR");

	return d && *d ? d : MXG_PIN_DIR_DEFAULT;
}

void mxg_pin_path(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", mxg_pin_dir(), name);
}

static int has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int mxg_require_caps(unsigned need)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];
	int sys_admin;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d)) {
		mxg_err("cannot read capabilities: %s", strerror(errno));
		return -errno;
	}
	sys_admin = has_cap(d, CAP_SYS_ADMIN);
	if ((need & MXG_NEED_BPF) && !sys_admin && !has_cap(d, CAP_BPF)) {
		mxg_err("needs CAP_BPF (or CAP_SYS_ADMIN) to use BPF maps and programs; run as root");
		return -EPERM;
	}
	if ((need & MXG_NEED_NET) && !has_cap(d, CAP_NET_ADMIN)) {
		mxg_err("needs CAP_NET_ADMIN to attach or detach XDP programs; run as root");
		return -EPERM;
	}
	if ((need & MXG_NEED_MOUNT) && !sys_admin) {
		mxg_err("needs CAP_SYS_ADMIN to mount the BPF filesystem; run as root");
		return -EPERM;
	}
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs s;

	return !statfs(path, &s) && s.f_type == BPF_FS_MAGIC;
}

int mxg_pins_prepare(int create)
{
	const char *dir = mxg_pin_dir();
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		mxg_err("pin directory '%s' must be a directory below a bpffs mount, e.g. /sys/fs/bpf/mxguard",
			dir);
		return -EINVAL;
	}
	*slash = '\0';
	if (!is_bpffs(parent)) {
		if (strcmp(parent, "/sys/fs/bpf")) {
			mxg_err("'%s' (parent of the pin directory %s) is not a BPF filesystem; mount one with 'mount -t bpf bpf %s'",
				parent, dir, parent);
			return -EINVAL;
		}
		if (!create)
			return -ENOENT;
		if (mount("bpf", parent, "bpf", 0, "mode=0700")) {
			int err = -errno;

			mxg_err("cannot mount the BPF filesystem on %s: %s", parent,
				strerror(errno));
			return err == -EPERM ? err : mxg_sys(err);
		}
		mxg_debug("mounted bpffs on %s", parent);
	}
	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		mxg_err("cannot create pin directory %s: %s", dir, strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

static void pins_reset(const struct mxg_pin_set *p, void *base)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		*fd_slot(base, &p->descs[i]) = -1;
}

void mxg_pins_close(const struct mxg_pin_set *p, void *base)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		int *fd = fd_slot(base, &p->descs[i]);

		if (*fd >= 0)
			close(*fd);
	}
	pins_reset(p, base);
}

static const struct mxg_pin_set xdp_pins = {
	.descs = mxg_map_descs,
	.n = sizeof(mxg_map_descs) / sizeof(mxg_map_descs[0]),
	.absent = "mxguard is not attached",
	.attach = "run 'mxguard attach IFACE' first",
	.fix = "the pins are from another mxguard version. Detach every interface, remove %s, and attach again",
};

static void maps_reset(struct mxg_maps *m)
{
	pins_reset(&xdp_pins, m);
	m->lock_fd = -1;
}

/* A command that held the write lock changed something (or may have):
 * move the generation, which the service watches to snapshot its state. */
void mxg_maps_touch(struct mxg_maps *m)
{
	struct mxg_cfg *c = mxg_cfg_load(m);

	if (!c)
		return;
	c->gen++;
	mxg_cfg_store(m, c);
	free(c);
	mxg_lists_recount(m);
}

/* Both halves of mxg_seen, mapped shared: bits are set with atomic ORs,
 * as the program sets them, so neither side loses the other's. */
static __u64 *seen_map(const struct mxg_maps *m)
{
	void *p = mmap(NULL, 2 * MXG_SEEN_WORDS * sizeof(__u64),
		       PROT_READ | PROT_WRITE, MAP_SHARED, m->seen, 0);

	if (p == MAP_FAILED) {
		mxg_err("cannot map mxg_seen: %s", strerror(errno));
		return NULL;
	}
	return p;
}

static void seen_unmap(__u64 *w)
{
	munmap(w, 2 * MXG_SEEN_WORDS * sizeof(__u64));
}

static void seen_set(__u64 *half, const union mxg_addr *a)
{
	__u32 bit = mxg_seen_bit(a);

	__atomic_fetch_or(&half[bit >> 6], 1ull << (bit & 63), __ATOMIC_RELAXED);
}

int mxg_seen_mark(const struct mxg_maps *m, const union mxg_addr *a)
{
	__u64 *w = seen_map(m);

	if (!w)
		return -EIO;
	seen_set(w, a);
	seen_set(w + MXG_SEEN_WORDS, a);
	seen_unmap(w);
	return 0;
}

struct seen_fill {
	__u64 *half;
	size_t n;
};

static int seen_fill_one(const void *k, const void *v, void *ctx)
{
	struct seen_fill *f = ctx;

	(void)v;
	seen_set(f->half, &((const struct mxg_src_key *)k)->addr);
	f->n++;
	return 0;
}

int mxg_seen_rotate(const struct mxg_maps *m, size_t *nsrc)
{
	struct seen_fill f = { 0 };
	struct mxg_lists *l;
	__u32 zero = 0, next;
	__u64 *w;
	int err;

	l = mxg_lists_read(m->lists, &err);
	if (!l)
		return err;
	w = seen_map(m);
	if (!w) {
		err = -EIO;
		goto out;
	}
	next = !(l->seen & 1);
	f.half = w + (size_t)next * MXG_SEEN_WORDS;
	/* Clear first, then walk the records: a record inserted before the
	 * walk is found by it, one inserted after the clearing set its own
	 * bit (the program sets both halves before it inserts). */
	memset(f.half, 0, MXG_SEEN_WORDS * sizeof(__u64));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	err = mxg_map_each(m->src, sizeof(struct mxg_src_key),
			   sizeof(struct mxg_src_val), seen_fill_one, &f);
	seen_unmap(w);
	if (err)
		goto out;
	/* Re-read: only the half changes, whatever else moved meanwhile. */
	if (bpf_map_lookup_elem(m->lists, &zero, l)) {
		err = mxg_sys(-errno);
		goto out;
	}
	l->seen = next;
	if (bpf_map_update_elem(m->lists, &zero, l, BPF_ANY)) {
		err = mxg_sys(-errno);
		goto out;
	}
	if (nsrc)
		*nsrc = f.n;
out:
	free(l);
	return err;
}

int mxg_pfx_get(const struct mxg_maps *m, const struct mxg_cfg *c,
		const union mxg_addr *a, __u32 svc, __u64 now,
		struct mxg_pfx_val *v)
{
	union mxg_addr net;
	unsigned plen = mxg_cfg_net_of(c, svc, a, &net);
	__u32 slot = mxg_pfx_slot(&net, svc, c->pfx_seed);

	if (bpf_map_lookup_elem(m->pfx, &slot, v))
		return -errno;
	if (v->svc == svc && v->plen == plen && !memcmp(&v->addr, &net, sizeof(net)))
		return 1;
	if (v->svc && v->tat_ns > now)
		return 2;
	memset(v, 0, sizeof(*v));
	return 0;
}

void mxg_pfx_cidr(const struct mxg_pfx_val *v, struct mxg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = v->addr;
	c->v4 = mxg_addr_is_v4(&v->addr);
	c->plen = c->v4 ? 96 + v->plen : v->plen;
}

__u32 mxg_pfx_tokens(const struct mxg_cfg *c, const struct mxg_pfx_val *v,
		     __u64 now, int *limited)
{
	const struct mxg_limit *l = &c->plimit[v->svc < MXG_SVC_MAX ? v->svc : 0];
	__u32 tokens = mxg_bucket_tokens(v->tat_ns, now, l->interval_ns, l->burst);

	*limited = v->svc && v->svc < MXG_SVC_MAX && l->interval_ns && !tokens;
	return tokens;
}

static int pfx_store_cb(const void *k, const void *v, void *ctx)
{
	__u32 slot = *(const __u32 *)k;

	if (slot < MXG_PFX_SLOTS)
		memcpy((struct mxg_pfx_val *)ctx + slot, v, sizeof(struct mxg_pfx_val));
	return 0;
}

int mxg_pfx_read_all(const struct mxg_maps *m, struct mxg_pfx_val *out)
{
	memset(out, 0, MXG_PFX_SLOTS * sizeof(*out));
	return mxg_map_each(m->pfx, sizeof(__u32), sizeof(*out), pfx_store_cb, out);
}

void mxg_maps_close(struct mxg_maps *m)
{
	if (m->lock_fd >= 0 && m->cfg >= 0)
		mxg_maps_touch(m);

	mxg_pins_close(&xdp_pins, m);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	maps_reset(m);
}

static int check_layout(int fd, const struct mxg_pin_set *p,
			const struct mxg_map_desc *d)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char fix[PATH_MAX + 256];

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return mxg_sys(-errno);
	if (info.type != d->type || info.key_size != d->key_size ||
	    info.value_size != d->value_size) {
		snprintf(fix, sizeof(fix), p->fix, mxg_pin_dir());
		mxg_err("pinned map %s/%s has another layout (type %u, key %u, value %u bytes; this mxguard expects %u, %u, %u): %s",
			mxg_pin_dir(), d->name, info.type, info.key_size,
			info.value_size, d->type, d->key_size, d->value_size, fix);
		return -EINVAL;
	}
	return 0;
}

int mxg_pins_open(const struct mxg_pin_set *p, void *base)
{
	char path[PATH_MAX];
	size_t i;
	int err;

	pins_reset(p, base);
	for (i = 0; i < p->n; i++) {
		const struct mxg_map_desc *d = &p->descs[i];
		int fd;

		mxg_pin_path(path, d->name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			if (err == -ENOENT)
				mxg_err("%s (%s missing); %s", p->absent, path, p->attach);
			else if (err == -EPERM || err == -EACCES)
				mxg_err("cannot open %s: %s; needs CAP_BPF and read access to the pins (run as root)",
					path, strerror(-err));
			else
				mxg_err("cannot open %s: %s", path, strerror(-err));
			if (err != -ENOENT)
				err = mxg_sys(err);
			goto fail;
		}
		*fd_slot(base, d) = fd;
		err = check_layout(fd, p, d);
		if (err)
			goto fail;
	}
	return 0;
fail:
	mxg_pins_close(p, base);
	return err;
}

int mxg_maps_open_raw(struct mxg_maps *m)
{
	int err;

	maps_reset(m);
	err = mxg_pins_prepare(0);
	if (err == -ENOENT || (!err && access(mxg_pin_dir(), F_OK))) {
		mxg_err("mxguard is not attached (no pins in %s); run 'mxguard attach IFACE' first",
			mxg_pin_dir());
		return -ENOENT;
	}
	if (err)
		return err;
	return mxg_pins_open(&xdp_pins, m);
}

int mxg_obj_pin_maps(struct bpf_object *obj)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		/* Only the ABI's maps; the compiler's constant pools
		 * (.rodata.*) belong to this one program load. The config
		 * is global data (section .data.cfg) pinned as mxg_cfg. */
		if (bpf_map__is_internal(map)) {
			if (strcmp(name, MXG_CFG_SECTION))
				continue;
			name = "mxg_cfg";
		}
		mxg_pin_path(path, name);
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

int mxg_maps_open(struct mxg_maps *m)
{
	struct mxg_cfg *c;
	int err;

	err = mxg_maps_open_raw(m);
	if (err)
		return err;
	c = mxg_cfg_load(m);
	if (!c) {
		mxg_maps_close(m);
		return -EIO;
	}
	err = 0;
	if (c->magic != MXG_CFG_MAGIC || c->abi != MXG_ABI_VERSION) {
		mxg_err("the pins in %s carry ABI version %u, this mxguard speaks %u: detach every interface, remove %s, and attach again",
			mxg_pin_dir(), c->magic == MXG_CFG_MAGIC ? c->abi : 0,
			MXG_ABI_VERSION, mxg_pin_dir());
		err = -EINVAL;
		mxg_maps_close(m);
	}
	free(c);
	return err;
}

int mxg_maps_open_ro(struct mxg_maps *m)
{
	int err = mxg_require_caps(MXG_NEED_BPF);

	return err ? err : mxg_maps_open(m);
}

int mxg_maps_open_rw(struct mxg_maps *m)
{
	int err = mxg_maps_open_ro(m);

	if (err)
		return err;
	err = mxg_lock(m, 30);
	if (err < 0) {
		mxg_maps_close(m);
		return err;
	}
	return 0;
}

int mxg_lock(struct mxg_maps *m, int wait_s)
{
	const char *env = getenv("MXGUARD_LOCK_TIMEOUT");
	int fd, i;

	/* Scripts and tests may wait less (or more) than the default. */
	if (env && *env)
		wait_s = atoi(env) < 0 ? 0 : atoi(env);

	fd = open(mxg_pin_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		mxg_err("cannot open %s to lock it: %s", mxg_pin_dir(),
			strerror(errno));
		return mxg_sys(err);
	}
	for (i = 0; flock(fd, LOCK_EX | LOCK_NB); i++) {
		if (errno != EWOULDBLOCK) {
			int err = -errno;

			mxg_err("cannot lock %s: %s", mxg_pin_dir(), strerror(errno));
			close(fd);
			return mxg_sys(err);
		}
		if (i == 0)
			mxg_warn("another mxguard is changing %s; waiting up to %d s",
				 mxg_pin_dir(), wait_s);
		if (i >= wait_s * 10) {
			mxg_err("gave up after %d s: another mxguard still holds the lock on %s",
				wait_s, mxg_pin_dir());
			close(fd);
			return -EBUSY;
		}
		usleep(100000);
	}
	if (m)
		m->lock_fd = fd;
	return fd;
}

struct mxg_cfg *mxg_cfg_load(const struct mxg_maps *m)
{
	struct mxg_cfg *c = calloc(1, sizeof(*c));
	__u32 zero = 0;

	if (!c)
		return NULL;
	if (bpf_map_lookup_elem(m->cfg, &zero, c)) {
		mxg_err("cannot read the config map: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

int mxg_cfg_store(const struct mxg_maps *m, const struct mxg_cfg *c)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(m->cfg, &zero, c, BPF_ANY)) {
		int err = -errno;

		mxg_err("cannot write the config map: %s", strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

#define MAP_BATCH 4096

int mxg_map_each(int fd, size_t ksize, size_t vsize,
		 int (*cb)(const void *k, const void *v, void *ctx), void *ctx)
{
	/* The batch token is a bucket index for hashes and a key for tries:
	 * room for either. */
	size_t tsize = ksize > sizeof(__u64) ? ksize : sizeof(__u64);
	char *keys = calloc(MAP_BATCH, ksize), *vals = calloc(MAP_BATCH, vsize);
	char *in = calloc(1, tsize), *out = calloc(1, tsize);
	int first = 1, done = 0, ret = 0;
	__u32 count, i;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (!keys || !vals || !in || !out) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		count = MAP_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals,
					 &count, &opts)) {
			if (errno != ENOENT) {
				ret = mxg_sys(-errno);
				mxg_err("cannot read a map: %s", strerror(errno));
				goto out;
			}
			done = 1;
		}
		first = 0;
		memcpy(in, out, tsize);
		for (i = 0; i < count; i++) {
			ret = cb(keys + (size_t)i * ksize, vals + (size_t)i * vsize, ctx);
			if (ret)
				goto out;
		}
	}
out:
	free(keys);
	free(vals);
	free(in);
	free(out);
	return ret;
}

struct read_all {
	size_t ksize, vsize, n, cap;
	char *keys, *vals;
};

static int read_all_cb(const void *k, const void *v, void *ctx)
{
	struct read_all *r = ctx;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		char *nk = realloc(r->keys, cap * r->ksize);
		char *nv = nk ? realloc(r->vals, cap * r->vsize) : NULL;

		if (nk)
			r->keys = nk;
		if (!nv)
			return -ENOMEM;
		r->vals = nv;
		r->cap = cap;
	}
	memcpy(r->keys + r->n * r->ksize, k, r->ksize);
	memcpy(r->vals + r->n * r->vsize, v, r->vsize);
	r->n++;
	return 0;
}

int mxg_map_read_all(int fd, size_t ksize, size_t vsize, void **keys,
		     void **vals, size_t *n)
{
	struct read_all r = { .ksize = ksize, .vsize = vsize };
	int err = mxg_map_each(fd, ksize, vsize, read_all_cb, &r);

	if (err) {
		free(r.keys);
		free(r.vals);
		return err;
	}
	*keys = r.keys;
	*vals = r.vals;
	*n = r.n;
	return 0;
}

int mxg_percpu_sum(int fd, __u32 n, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v;
	__u32 i;
	int c;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v)) {
			int err = -errno;

			mxg_err("cannot read counter %u: %s", i, strerror(errno));
			free(v);
			return mxg_sys(err);
		}
		for (c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

int mxg_stats_read(const struct mxg_maps *m, __u64 *out)
{
	return mxg_percpu_sum(m->stats, MXG_NCOUNTERS, out);
}

int mxg_feed_id(const struct mxg_maps *m, const char *name, int create)
{
	struct mxg_feed f;
	int free_slot = -1;
	__u32 i;

	if (!strcmp(name, "manual"))
		return MXG_FEED_MANUAL;
	for (i = 1; i < MXG_MAX_FEEDS; i++) {
		if (bpf_map_lookup_elem(m->feeds, &i, &f))
			return mxg_sys(-errno);
		if (!f.name[0]) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (!strncmp(f.name, name, sizeof(f.name)))
			return i;
	}
	if (!create)
		return -ENOENT;
	if (free_slot < 0) {
		mxg_err("too many feeds (at most %d)", MXG_MAX_FEEDS - 1);
		return -ENOSPC;
	}
	memset(&f, 0, sizeof(f));
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.created_s = mxg_unix_s();
	i = free_slot;
	if (bpf_map_update_elem(m->feeds, &i, &f, BPF_ANY))
		return mxg_sys(-errno);
	return free_slot;
}

void mxg_feed_name(const struct mxg_maps *m, __u32 id, char *buf, size_t len)
{
	struct mxg_feed f;

	if (id == MXG_FEED_MANUAL) {
		snprintf(buf, len, "manual");
		return;
	}
	if (bpf_map_lookup_elem(m->feeds, &id, &f) || !f.name[0])
		snprintf(buf, len, "feed#%u", id);
	else
		snprintf(buf, len, "%.*s", (int)sizeof(f.name), f.name);
}

int mxg_reason_id(const struct mxg_maps *m, const char *text, __u32 *id)
{
	struct mxg_reason_text t;
	__u32 key, next, max = 0;
	void *prev = NULL;

	*id = 0;
	if (!text || !*text)
		return 0;
	while (!bpf_map_get_next_key(m->reasons, prev, &next)) {
		key = next;
		prev = &key;
		if (key > max)
			max = key;
		if (!bpf_map_lookup_elem(m->reasons, &key, &t) &&
		    !strncmp(t.text, text, sizeof(t.text))) {
			*id = key;
			return 0;
		}
	}
	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s", text);
	key = max + 1;
	if (bpf_map_update_elem(m->reasons, &key, &t, BPF_NOEXIST)) {
		int err = -errno;

		mxg_err("cannot store reason '%s': %s", text, strerror(errno));
		return mxg_sys(err);
	}
	*id = key;
	return 0;
}

void mxg_reason_text(const struct mxg_maps *m, __u32 id, char *buf,
		     size_t len)
{
	struct mxg_reason_text t;

	if (!id || bpf_map_lookup_elem(m->reasons, &id, &t))
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%.*s", (int)sizeof(t.text), t.text);
}

int mxg_names_load(const struct mxg_maps *m, struct mxg_names *n)
{
	struct mxg_reason_text t;
	__u32 key, next, i;
	void *prev = NULL;

	for (i = 0; i < MXG_MAX_FEEDS; i++)
		mxg_feed_name(m, i, n->feed[i], sizeof(n->feed[i]));
	n->reason = calloc(MXG_MAX_REASONS + 1, sizeof(*n->reason));
	if (!n->reason)
		return -ENOMEM;
	while (!bpf_map_get_next_key(m->reasons, prev, &next)) {
		key = next;
		prev = &key;
		if (key <= MXG_MAX_REASONS && !bpf_map_lookup_elem(m->reasons, &key, &t))
			snprintf(n->reason[key], sizeof(n->reason[key]), "%.*s",
				 (int)sizeof(t.text), t.text);
	}
	return 0;
}

const char *mxg_names_reason(const struct mxg_names *n, __u32 id)
{
	return id <= MXG_MAX_REASONS ? n->reason[id] : "";
}

void mxg_names_free(struct mxg_names *n)
{
	free(n->reason);
	n->reason = NULL;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__u64 mxg_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

__u64 mxg_unix_s(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000000ull;
}

__u64 mxg_mono_to_unix(__u64 mono_ns)
{
	__u64 now_mono, now_real;

	if (!mono_ns)
		return 0;
	now_mono = clock_ns(CLOCK_MONOTONIC);
	now_real = clock_ns(CLOCK_REALTIME);
	if (mono_ns > now_mono)
		return (now_real + (mono_ns - now_mono)) / 1000000000ull;
	return (now_real - (now_mono - mono_ns)) / 1000000000ull;
}

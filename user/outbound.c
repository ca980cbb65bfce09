// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The outbound side's pinned maps, config slot, names, and cgroup v2 ids. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "log.h"
#include "maps.h"
#include "outbound.h"

struct mxo_map_desc {
	const char *name;
	size_t fd_off;
	__u32 type, key_size, value_size;
};

static const struct mxo_map_desc descs[] = {
	{ "mxo_cfg", offsetof(struct mxo_maps, cfg), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxo_cfg) },
	{ "mxo_allow", offsetof(struct mxo_maps, allow), BPF_MAP_TYPE_LPM_TRIE,
	  sizeof(struct mxg_lpm_key), sizeof(struct mxg_allow_val) },
	{ "mxo_total", offsetof(struct mxo_maps, total), BPF_MAP_TYPE_ARRAY,
	  sizeof(__u32), sizeof(struct mxo_total) },
	{ "mxo_dst", offsetof(struct mxo_maps, dst), BPF_MAP_TYPE_LRU_HASH,
	  sizeof(union mxg_addr), sizeof(struct mxo_rec) },
	{ "mxo_src", offsetof(struct mxo_maps, src), BPF_MAP_TYPE_LRU_HASH,
	  sizeof(union mxg_addr), sizeof(struct mxo_rec) },
	{ "mxo_local", offsetof(struct mxo_maps, local), BPF_MAP_TYPE_LRU_HASH,
	  sizeof(struct mxo_lkey), sizeof(struct mxo_lrec) },
	{ "mxo_trust", offsetof(struct mxo_maps, trust), BPF_MAP_TYPE_HASH,
	  sizeof(struct mxo_lkey), sizeof(struct mxo_trust) },
	{ "mxo_stats", offsetof(struct mxo_maps, stats),
	  BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ "mxo_events", offsetof(struct mxo_maps, events),
	  BPF_MAP_TYPE_RINGBUF, 0, 0 },
};
#define NDESCS (sizeof(descs) / sizeof(descs[0]))

static int *fd_slot(struct mxo_maps *m, const struct mxo_map_desc *d)
{
	return (int *)((char *)m + d->fd_off);
}

static void maps_reset(struct mxo_maps *m)
{
	size_t i;

	for (i = 0; i < NDESCS; i++)
		*fd_slot(m, &descs[i]) = -1;
	m->lock_fd = -1;
}

void mxo_maps_close(struct mxo_maps *m)
{
	size_t i;

	for (i = 0; i < NDESCS; i++) {
		int *fd = fd_slot(m, &descs[i]);

		if (*fd >= 0)
			close(*fd);
	}
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	maps_reset(m);
}

static int check_layout(int fd, const struct mxo_map_desc *d)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return mxg_sys(-errno);
	if (info.type != d->type || info.key_size != d->key_size ||
	    info.value_size != d->value_size) {
		mxg_err("pinned map %s/%s has another layout (type %u, key %u, value %u bytes; this mxguard expects %u, %u, %u): detach the outbound programs, remove the mxo_* pins, and attach again",
			mxg_pin_dir(), d->name, info.type, info.key_size,
			info.value_size, d->type, d->key_size, d->value_size);
		return -EINVAL;
	}
	return 0;
}

int mxo_maps_open_raw(struct mxo_maps *m)
{
	char path[PATH_MAX];
	size_t i;
	int err;

	maps_reset(m);
	for (i = 0; i < NDESCS; i++) {
		int fd;

		mxg_pin_path(path, descs[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			if (err == -ENOENT)
				mxg_err("the outbound programs were never attached (%s missing); run 'mxguard outbound attach IFACE' or 'mxguard local attach CGROUP' first",
					path);
			else
				mxg_err("cannot open %s: %s", path, strerror(-err));
			if (err != -ENOENT)
				err = mxg_sys(err);
			goto fail;
		}
		*fd_slot(m, &descs[i]) = fd;
		err = check_layout(fd, &descs[i]);
		if (err)
			goto fail;
	}
	return 0;
fail:
	mxo_maps_close(m);
	return err;
}

int mxo_maps_open(struct mxo_maps *m, int lock)
{
	struct mxo_cfg c;
	int err;

	err = mxg_require_caps(MXG_NEED_BPF);
	if (err)
		return err;
	err = mxo_maps_open_raw(m);
	if (err)
		return err;
	err = mxo_cfg_load(m, &c);
	if (err)
		goto fail;
	if (c.magic != MXO_CFG_MAGIC || c.abi != MXO_ABI_VERSION) {
		mxg_err("the mxo_* pins in %s carry ABI version %u, this mxguard speaks %u: detach the outbound programs, remove the mxo_* pins, and attach again",
			mxg_pin_dir(), c.magic == MXO_CFG_MAGIC ? c.abi : 0,
			MXO_ABI_VERSION);
		err = -EINVAL;
		goto fail;
	}
	if (lock) {
		err = mxg_lock(NULL, 30);
		if (err < 0)
			goto fail;
		m->lock_fd = err;
	}
	return 0;
fail:
	mxo_maps_close(m);
	return err;
}

int mxo_cfg_load(const struct mxo_maps *m, struct mxo_cfg *c)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->cfg, &zero, c)) {
		int err = -errno;

		mxg_err("cannot read the outbound config map: %s", strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

int mxo_cfg_store(const struct mxo_maps *m, const struct mxo_cfg *c)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(m->cfg, &zero, c, BPF_ANY)) {
		int err = -errno;

		mxg_err("cannot write the outbound config map: %s", strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

void mxo_limit_set(struct mxg_limit *l, __u32 n, __u32 per_s, __u32 burst)
{
	__u64 b;

	memset(l, 0, sizeof(*l));
	if (!n || !per_s)
		return;
	l->rate_n = n;
	l->rate_per_s = per_s;
	l->interval_ns = (__u64)per_s * 1000000000ull / n;
	if (!l->interval_ns)
		l->interval_ns = 1;
	b = burst ? burst : (__u64)n * MXO_BURST_S / per_s;
	l->burst = b < 1 ? 1 : b > 1000000 ? 1000000 : (__u32)b;
}

void mxo_cfg_set_dst_plens(struct mxo_cfg *c, unsigned v4, unsigned v6)
{
	c->dst_plen4 = v4;
	c->dst_plen6 = v6;
	mxg_addr_mask(&c->dst_mask4, 96 + v4);
	mxg_addr_mask(&c->dst_mask6, v6);
}

void mxo_cfg_defaults(struct mxo_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->magic = MXO_CFG_MAGIC;
	c->abi = MXO_ABI_VERSION;
	mxo_limit_set(&c->warn, MXO_DEFAULT_WARN_PER_MIN, 60, 0);
	mxo_cfg_set_dst_plens(c, MXO_DEFAULT_DST_PLEN4, MXO_DEFAULT_DST_PLEN6);
}

int mxo_stats_read(const struct mxo_maps *m, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	__u64 *v;
	__u32 i;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < MXO_NCOUNTERS; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(m->stats, &i, v)) {
			int err = -errno;

			mxg_err("cannot read outbound counter %u: %s", i, strerror(errno));
			free(v);
			return mxg_sys(err);
		}
		for (c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

const char *mxo_port_name(unsigned port)
{
	static const char *const n[MXO_PORT_MAX] = {
		"smtp", "submissions", "submission",
	};

	return port < MXO_PORT_MAX ? n[port] : "?";
}

__u16 mxo_port_number(unsigned port)
{
	static const __u16 p[MXO_PORT_MAX] = { 25, 465, 587 };

	return port < MXO_PORT_MAX ? p[port] : 0;
}

const char *mxo_verdict_name(unsigned v)
{
	static const char *const n[MXO_V_MAX] = { "pass", "allow", "cap" };

	return v < MXO_V_MAX ? n[v] : "?";
}

const char *mxo_lverdict_name(unsigned v)
{
	static const char *const n[MXO_LV_MAX] = {
		"pass", "trusted", "limit_uid", "limit_cgroup",
	};

	return v < MXO_LV_MAX ? n[v] : "?";
}

const char *mxo_ev_type_name(unsigned type)
{
	switch (type) {
	case MXO_EV_WARN_START: return "warn_start";
	case MXO_EV_WARN_END: return "warn_end";
	case MXO_EV_CAP_START: return "cap_start";
	case MXO_EV_CAP_END: return "cap_end";
	case MXO_EV_LOCAL_START: return "local_limit_start";
	case MXO_EV_LOCAL_END: return "local_limit_end";
	default: return "unknown";
	}
}

const char *mxo_lkind_name(unsigned kind)
{
	return kind == MXO_LK_UID ? "uid" : kind == MXO_LK_CGROUP ? "cgroup" : "?";
}

/* ---- cgroup v2 ------------------------------------------------------------ */

int mxo_cgroup_mount(char *buf, size_t len)
{
	struct mntent me, *e;
	char tmp[4096];
	FILE *f;
	int err = -ENOENT;

	f = setmntent("/proc/self/mounts", "r");
	if (!f)
		return mxg_sys(-errno);
	while ((e = getmntent_r(f, &me, tmp, sizeof(tmp)))) {
		if (strcmp(e->mnt_type, "cgroup2"))
			continue;
		snprintf(buf, len, "%s", e->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	return err;
}

int mxo_cgroup_id(const char *path, __u64 *id, const char **why)
{
	struct statfs sf;
	struct stat st;

	if (statfs(path, &sf) || stat(path, &st)) {
		*why = errno == ENOENT ? "no such directory" : strerror(errno);
		return -EINVAL;
	}
	if (sf.f_type != CGROUP2_SUPER_MAGIC) {
		*why = "not a cgroup v2 directory (see 'mount -t cgroup2')";
		return -EINVAL;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return -EINVAL;
	}
	*id = st.st_ino;
	return 0;
}

struct cg_walk {
	const __u64 *ids;
	size_t n, found;
	char (*paths)[PATH_MAX];
	char rel[PATH_MAX];
};

static void cg_match(struct cg_walk *w, __u64 ino)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->ids[i] == ino && !w->paths[i][0]) {
			snprintf(w->paths[i], PATH_MAX, "%s", w->rel[0] ? w->rel : "/");
			w->found++;
		}
}

/* Depth-first below dirfd (which it closes); rel holds the path so far. */
static void cg_walk_dir(struct cg_walk *w, int dirfd, int depth)
{
	size_t len = strlen(w->rel);
	struct dirent *e;
	DIR *d;

	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	while (w->found < w->n && (e = readdir(d))) {
		struct stat st;
		int fd;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") ||
		    !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (snprintf(w->rel + len, sizeof(w->rel) - len, "/%s",
			     e->d_name) >= (int)(sizeof(w->rel) - len))
			continue;
		cg_match(w, st.st_ino);
		/* cgroup trees are shallow; the bound guards against loops. */
		if (depth < 64) {
			fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0)
				cg_walk_dir(w, fd, depth + 1);
		}
		w->rel[len] = '\0';
	}
	closedir(d);
}

int mxo_cgroup_paths(const __u64 *ids, size_t n, char (*paths)[PATH_MAX])
{
	struct cg_walk *w;
	char root[PATH_MAX];
	struct stat st;
	size_t i;
	int fd, err;

	for (i = 0; i < n; i++)
		paths[i][0] = '\0';
	if (!n)
		return 0;
	err = mxo_cgroup_mount(root, sizeof(root));
	if (err)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ids = ids;
	w->n = n;
	w->paths = paths;
	if (!stat(root, &st))
		cg_match(w, st.st_ino);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		cg_walk_dir(w, fd, 0);
	free(w);
	return 0;
}

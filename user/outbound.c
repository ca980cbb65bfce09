// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The outbound side's pinned maps, config slot, names, cgroup v2 ids and
 * links; its state read for people and programs (outbound, local, stats,
 * dump, run). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <pwd.h>
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
#include "bucket.h"
#include "log.h"
#include "maps.h"
#include "outbound.h"
#include "outbound.skel.h"
#include "units.h"

static const struct mxg_map_desc descs[] = {
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

static const struct mxg_pin_set pins = {
	.descs = descs,
	.n = sizeof(descs) / sizeof(descs[0]),
	.absent = "the outbound programs were never attached",
	.attach = "run 'mxguard outbound attach IFACE' or 'mxguard local attach CGROUP' first",
	.fix = "detach the outbound programs, remove the mxo_* pins in %s, and attach again",
};

void mxo_maps_close(struct mxo_maps *m)
{
	mxg_pins_close(&pins, m);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = -1;
}

int mxo_maps_present(void)
{
	char path[PATH_MAX];

	mxg_pin_path(path, "mxo_cfg");
	return !access(path, F_OK);
}

int mxo_maps_open_raw(struct mxo_maps *m)
{
	m->lock_fd = -1;
	return mxg_pins_open(&pins, m);
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

/* A changed threshold starts with a full bucket and no episode. The program
 * may add a SYN between read and write; that count is lost, nothing else. */
static void total_reset(const struct mxo_maps *m, int warn, int cap)
{
	struct mxo_total t;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->total, &zero, &t))
		return;
	if (warn) {
		t.warn_tat = 0;
		t.flags &= ~MXO_TF_WARN;
	}
	if (cap) {
		t.cap_tat = 0;
		t.flags &= ~MXO_TF_CAP;
	}
	bpf_map_update_elem(m->total, &zero, &t, BPF_ANY);
}

int mxo_cfg_set_limits(const struct mxo_new_limits *n, struct mxo_cfg *c)
{
	struct mxo_maps m;
	int err;

	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	err = mxo_cfg_load(&m, c);
	if (err)
		goto out;
	if (n->warn)
		c->warn = *n->warn;
	if (n->cap)
		c->cap = *n->cap;
	if (n->uid)
		c->uid_limit = *n->uid;
	if (n->cg)
		c->cg_limit = *n->cg;
	c->changed_s = mxg_unix_s();
	err = mxo_cfg_store(&m, c);
	if (!err)
		total_reset(&m, !!n->warn, !!n->cap);
out:
	mxo_maps_close(&m);
	return err;
}

int mxo_stats_read(const struct mxo_maps *m, __u64 *out)
{
	return mxg_percpu_sum(m->stats, MXO_NCOUNTERS, out);
}

void mxo_allow_view(const struct mxo_maps *m, struct mxg_maps *v)
{
	memset(v, 0xff, sizeof(*v)); /* every fd -1 */
	v->allow = m->allow;
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

int mxo_allow_set(const struct mxo_maps *m, const struct mxg_cidr *c,
		  const char *comment)
{
	struct mxg_allow_val v;
	struct mxg_lpm_key k;
	struct mxg_maps view;

	mxo_allow_view(m, &view);
	if (mxg_allow_get(&view, c, &v)) {
		memset(&v, 0, sizeof(v));
		v.added_s = mxg_unix_s();
	}
	memset(v.comment, 0, sizeof(v.comment));
	snprintf(v.comment, sizeof(v.comment), "%s", comment);
	/* Not mxg_allow_put(): that one keeps the XDP side's bookkeeping of
	 * its own allowlist. */
	mxg_cidr_to_key(c, &k);
	if (bpf_map_update_elem(m->allow, &k, &v, BPF_ANY)) {
		int err = errno;

		mxg_err("cannot write the outbound allowlist: %s%s", strerror(err),
			err == ENOSPC || err == E2BIG ? " (allowlist full)" : "");
		return mxg_sys(-err);
	}
	return 0;
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
	size_t n, found, want;
	char **names;
	char rel[PATH_MAX];
};

static void cg_match(struct cg_walk *w, __u64 ino)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->ids[i] == ino && !w->names[i]) {
			w->names[i] = strdup(w->rel[0] ? w->rel : "/");
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
	while (w->found < w->want && (e = readdir(d))) {
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

int mxo_cgroup_names(const __u64 *ids, size_t n, char **names)
{
	struct cg_walk *w;
	char root[PATH_MAX];
	struct stat st;
	size_t i, want = 0;
	int fd, err;

	for (i = 0; i < n; i++) {
		names[i] = NULL;
		want += ids[i] != 0;
	}
	if (!want)
		return 0;
	err = mxo_cgroup_mount(root, sizeof(root));
	if (err)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ids = ids;
	w->n = n;
	w->want = want;
	w->names = names;
	if (!stat(root, &st))
		cg_match(w, st.st_ino);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		cg_walk_dir(w, fd, 0);
	free(w);
	return 0;
}

/* ---- links ---------------------------------------------------------------- */

/* struct bpf_link_info's tcx member {ifindex, attach_type} is missing from
 * the 6.1 uapi header; it starts where xdp.ifindex does. The link type's
 * value is that of enum bpf_link_type in vmlinux/vmlinux.h. */
#define MXO_BPF_LINK_TYPE_TCX 11

int mxo_link_query(int fd, struct mxo_link *l)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	memset(l, 0, sizeof(*l));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	l->id = info.id;
	l->prog_id = info.prog_id;
	l->type = info.type;
	if (info.type == MXO_BPF_LINK_TYPE_TCX)
		l->ifindex = info.xdp.ifindex;
	if (info.type == BPF_LINK_TYPE_CGROUP)
		l->cgroup_id = info.cgroup.cgroup_id;
	return 0;
}

int mxo_link_query_pin(const char *name, struct mxo_link *l)
{
	char path[PATH_MAX];
	int fd, err;

	memset(l, 0, sizeof(*l));
	mxg_pin_path(path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = mxo_link_query(fd, l);
	close(fd);
	return err;
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

size_t mxo_tc_ifaces(struct mxo_iface *out, size_t max)
{
	size_t plen = strlen(MXO_LINK_TC_PREFIX), n = 0;
	DIR *d = opendir(mxg_pin_dir());
	struct dirent *e;

	while (d && (e = readdir(d)) && n < max) {
		struct mxo_link l;
		char path[PATH_MAX];
		int fd;

		if (!has_prefix(e->d_name, MXO_LINK_TC_PREFIX))
			continue;
		mxg_pin_path(path, e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "%s", e->d_name + plen);
		if (!mxo_link_query(fd, &l)) {
			out[n].ifindex = l.ifindex;
			out[n].link_id = l.id;
		}
		close(fd);
		out[n].present = out[n].ifindex &&
				 if_nametoindex(out[n].name) == out[n].ifindex;
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* cgroup ids with a connect4 link pin. */
static int cg_attached_read(struct mxo_local_state *s)
{
	size_t plen = strlen(MXO_LINK_CG4_PREFIX), cap = 0;
	DIR *d = opendir(mxg_pin_dir());
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct mxo_cg_att *na;

		if (!has_prefix(e->d_name, MXO_LINK_CG4_PREFIX))
			continue;
		if (s->natt == cap) {
			cap = cap ? cap * 2 : 8;
			na = realloc(s->att, cap * sizeof(*na));
			if (!na) {
				closedir(d);
				return -ENOMEM;
			}
			s->att = na;
		}
		s->att[s->natt].id = strtoull(e->d_name + plen, NULL, 10);
		s->att[s->natt].path = NULL;
		s->natt++;
	}
	if (d)
		closedir(d);
	return 0;
}

/* ---- programs --------------------------------------------------------------- */

static const char *const prog_pins[MXO_NPROGS] = {
	MXO_PROG_TC_PIN, MXO_PROG_C4_PIN, MXO_PROG_C6_PIN,
};

void mxo_fds_close(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* The pinned programs; -ENOENT unless all three are there. */
static int progs_open(int *fds)
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < MXO_NPROGS; i++)
		fds[i] = -1;
	for (i = 0; i < MXO_NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			err = -errno;
			mxo_fds_close(fds, MXO_NPROGS);
			return err;
		}
	}
	return 0;
}

/* First use of the config slot after a load: defaults. */
static int cfg_init(void)
{
	struct mxo_maps m;
	struct mxo_cfg c;
	int err;

	err = mxo_maps_open_raw(&m);
	if (err)
		return err;
	err = mxo_cfg_load(&m, &c);
	if (!err && c.magic != MXO_CFG_MAGIC) {
		mxo_cfg_defaults(&c);
		c.changed_s = mxg_unix_s();
		err = mxo_cfg_store(&m, &c);
	}
	mxo_maps_close(&m);
	return err;
}

static int progs_pin(struct outbound *skel, int *fds)
{
	struct bpf_program *progs[MXO_NPROGS] = {
		skel->progs.mxo_egress, skel->progs.mxo_connect4,
		skel->progs.mxo_connect6,
	};
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < MXO_NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		unlink(path); /* a partial set left by an interrupted attach */
		err = bpf_program__pin(progs[i], path);
		if (err) {
			mxg_err("cannot pin the program at %s: %s", path, strerror(-err));
			return mxg_sys(err);
		}
	}
	for (i = 0; i < MXO_NPROGS; i++) {
		fds[i] = dup(bpf_program__fd(progs[i]));
		if (fds[i] < 0) {
			err = -errno;
			mxo_fds_close(fds, i);
			return err;
		}
	}
	return 0;
}

int mxo_progs_get(int *fds)
{
	struct outbound *skel;
	int err;

	if (!progs_open(fds))
		return 0;
	skel = outbound__open();
	if (!skel) {
		err = -errno;
		mxg_err("cannot open the outbound BPF object: %s", strerror(errno));
		return mxg_sys(err);
	}
	err = mxg_obj_pin_maps(skel->obj);
	if (!err)
		err = outbound__load(skel);
	if (err) {
		mxg_err("cannot load the outbound programs: %s (run with -vv for the verifier log)",
			strerror(-err));
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	err = cfg_init();
	if (!err)
		err = progs_pin(skel, fds);
out:
	outbound__destroy(skel);
	return err;
}

void mxo_progs_release_if_unused(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0, i;
	DIR *d;

	d = opendir(mxg_pin_dir());
	if (!d)
		return;
	while ((e = readdir(d)))
		if (has_prefix(e->d_name, "mxo_link_"))
			n++;
	closedir(d);
	if (n)
		return;
	for (i = 0; i < MXO_NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		unlink(path);
	}
}

int mxo_link_remove(const char *name)
{
	char path[PATH_MAX];
	int fd, err = 0;

	mxg_pin_path(path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : mxg_sys(-errno);
	/* Detach even if some other process still holds the link open. */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		mxg_warn("detaching %s: %s", name, strerror(errno));
	close(fd);
	if (unlink(path)) {
		err = -errno;
		mxg_err("cannot remove %s: %s", path, strerror(errno));
		err = mxg_sys(err);
	}
	return err;
}

int mxo_link_pin(int fd, const char *name)
{
	char path[PATH_MAX];

	mxg_pin_path(path, name);
	if (bpf_obj_pin(fd, path)) {
		int err = -errno;

		mxg_err("cannot pin the link at %s: %s", path, strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

int mxo_attach_prepare(void)
{
	int err;

	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET | MXG_NEED_MOUNT);
	if (err)
		return err;
	err = mxg_pins_prepare(1);
	if (err)
		return err;
	return mxg_lock(NULL, 30);
}

/* ---- state: outbound ------------------------------------------------------ */

static int rec_cmp(const void *a, const void *b)
{
	const struct mxo_rec_row *x = a, *y = b;

	if (x->r.syns != y->r.syns)
		return x->r.syns < y->r.syns ? 1 : -1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* Every record of mxo_dst or mxo_src, busiest first. */
static int rec_read(int fd, __u64 now, struct mxo_rec_row **out, size_t *n)
{
	union mxg_addr *k = NULL;
	struct mxo_rec *v = NULL;
	struct mxo_rec_row *rows;
	size_t i;
	int err;

	err = mxg_map_read_all(fd, sizeof(*k), sizeof(*v), (void **)&k,
			       (void **)&v, n);
	if (err)
		return err;
	rows = calloc(*n ? *n : 1, sizeof(*rows));
	for (i = 0; rows && i < *n; i++) {
		rows[i].addr = k[i];
		rows[i].r = v[i];
		rows[i].per_min = mxo_win_per_min(&v[i].win, now);
	}
	free(k);
	free(v);
	if (!rows)
		return -ENOMEM;
	if (*n)
		qsort(rows, *n, sizeof(*rows), rec_cmp);
	*out = rows;
	return 0;
}

int mxo_total_read(const struct mxo_maps *m, struct mxo_total *t)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->total, &zero, t)) {
		int err = -errno;

		mxg_err("cannot read the outbound total: %s", strerror(errno));
		return mxg_sys(err);
	}
	return 0;
}

int mxo_out_read(const struct mxo_maps *m, struct mxo_out_state *s)
{
	struct mxg_maps view;
	int err;

	memset(s, 0, sizeof(*s));
	s->now = mxg_mono_ns();
	err = mxo_cfg_load(m, &s->cfg);
	if (!err)
		err = mxo_total_read(m, &s->total);
	if (!err)
		err = mxo_stats_read(m, s->cnt);
	if (!err)
		err = rec_read(m->dst, s->now, &s->dst, &s->ndst);
	if (!err)
		err = rec_read(m->src, s->now, &s->src, &s->nsrc);
	if (!err) {
		mxo_allow_view(m, &view);
		err = mxg_allow_all(&view, &s->allow, &s->nallow);
	}
	s->nifs = mxo_tc_ifaces(s->ifs, MXO_MAX_IFACES);
	return err;
}

void mxo_out_free(struct mxo_out_state *s)
{
	free(s->dst);
	free(s->src);
	free(s->allow);
	s->dst = s->src = NULL;
	s->allow = NULL;
}

int mxo_warn_active(const struct mxo_out_state *s)
{
	return (s->total.flags & MXO_TF_WARN) && s->cfg.warn.interval_ns &&
	       !mxg_bucket_full(s->total.warn_tat, s->now);
}

int mxo_cap_active(const struct mxo_out_state *s)
{
	return (s->total.flags & MXO_TF_CAP) && s->cfg.cap.interval_ns &&
	       !mxg_bucket_full(s->total.cap_tat, s->now);
}

__u64 mxo_eg_sum(const __u64 *cnt, unsigned verdict)
{
	__u64 n = 0;
	unsigned p;

	for (p = 0; p < MXO_PORT_MAX; p++)
		n += cnt[MXO_EG_IDX(p, verdict)];
	return n;
}

__u64 mxo_lo_sum(const __u64 *cnt, unsigned verdict)
{
	__u64 n = 0;
	unsigned p;

	for (p = 0; p < MXO_PORT_MAX; p++)
		n += cnt[MXO_LO_IDX(p, verdict)];
	return n;
}

void mxo_dst_cidr(const struct mxo_cfg *cfg, const union mxg_addr *a,
		  struct mxg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = *a;
	c->v4 = mxg_addr_is_v4(a);
	c->plen = c->v4 ? 96 + cfg->dst_plen4 : cfg->dst_plen6;
}

void mxo_dst_str(const struct mxo_cfg *cfg, const union mxg_addr *a,
		 char *buf, size_t len)
{
	struct mxg_cidr c;

	mxo_dst_cidr(cfg, a, &c);
	mxg_cidr_format(&c, buf, len);
}

const struct mxg_allow_entry *mxo_dst_allow_next(const struct mxo_out_state *s,
						 const union mxg_addr *a,
						 size_t *i)
{
	struct mxg_cidr c;

	mxo_dst_cidr(&s->cfg, a, &c);
	for (; *i < s->nallow; (*i)++)
		if (mxg_cidr_overlap(&s->allow[*i].cidr, &c))
			return &s->allow[(*i)++];
	return NULL;
}

int mxo_dst_allowed(const struct mxo_out_state *s, const union mxg_addr *a)
{
	const struct mxg_allow_entry *e;
	struct mxg_cidr c;
	size_t i = 0;

	mxo_dst_cidr(&s->cfg, a, &c);
	while ((e = mxo_dst_allow_next(s, a, &i)))
		if (e->cidr.plen <= c.plen)
			return 1;
	return 0;
}

/* ---- state: local ---------------------------------------------------------- */

const char *mxo_user_name(__u32 uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : NULL;
}

static int trust_read(const struct mxo_maps *m, struct mxo_local_state *s)
{
	struct mxo_lkey *k = NULL;
	struct mxo_trust *v = NULL;
	size_t i;
	int err;

	err = mxg_map_read_all(m->trust, sizeof(*k), sizeof(*v), (void **)&k,
			       (void **)&v, &s->ntrust);
	if (err)
		return err;
	s->trust = calloc(s->ntrust ? s->ntrust : 1, sizeof(*s->trust));
	for (i = 0; s->trust && i < s->ntrust; i++) {
		s->trust[i].k = k[i];
		s->trust[i].t = v[i];
	}
	free(k);
	free(v);
	return s->trust ? 0 : -ENOMEM;
}

static int lrow_cmp(const void *a, const void *b)
{
	const struct mxo_lrow *x = a, *y = b;

	if (x->k.kind != y->k.kind)
		return (int)x->k.kind - (int)y->k.kind;
	if (x->r.refused != y->r.refused)
		return x->r.refused < y->r.refused ? 1 : -1;
	if (x->r.conns != y->r.conns)
		return x->r.conns < y->r.conns ? 1 : -1;
	return x->k.id < y->k.id ? -1 : x->k.id > y->k.id;
}

static int rows_read(const struct mxo_maps *m, struct mxo_local_state *s)
{
	struct mxo_lkey *k = NULL;
	struct mxo_lrec *v = NULL;
	size_t i;
	int err;

	err = mxg_map_read_all(m->local, sizeof(*k), sizeof(*v), (void **)&k,
			       (void **)&v, &s->n);
	if (err)
		return err;
	s->rows = calloc(s->n ? s->n : 1, sizeof(*s->rows));
	for (i = 0; s->rows && i < s->n; i++) {
		struct mxo_lrow *l = &s->rows[i];
		const struct mxg_limit *lim = k[i].kind == MXO_LK_UID ?
			&s->cfg.uid_limit : &s->cfg.cg_limit;

		l->k = k[i];
		l->r = v[i];
		l->per_min = mxo_win_per_min(&l->r.win, s->now);
		l->limited = (l->r.flags & MXO_LF_LIMITED) && lim->interval_ns &&
			     !mxg_bucket_full(l->r.tat_ns, s->now);
	}
	free(k);
	free(v);
	return s->rows ? 0 : -ENOMEM;
}

static char *uid_name_dup(__u32 uid)
{
	const char *u = mxo_user_name(uid);

	return u ? strdup(u) : NULL;
}

/* User names and cgroup paths of rows, trust entries and attachments, with
 * one walk of the cgroup tree. */
static int names_read(struct mxo_local_state *s)
{
	size_t i, n = s->n + s->ntrust + s->natt, o;
	__u64 *ids = calloc(n ? n : 1, sizeof(*ids));
	char **names = calloc(n ? n : 1, sizeof(*names));

	if (!ids || !names) {
		free(ids);
		free(names);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++)
		if (s->rows[i].k.kind == MXO_LK_CGROUP)
			ids[i] = s->rows[i].k.id;
	for (i = 0, o = s->n; i < s->ntrust; i++)
		if (s->trust[i].k.kind == MXO_LK_CGROUP)
			ids[o + i] = s->trust[i].k.id;
	for (i = 0, o += s->ntrust; i < s->natt; i++)
		ids[o + i] = s->att[i].id;
	mxo_cgroup_names(ids, n, names);
	for (i = 0; i < s->n; i++)
		s->rows[i].name = ids[i] ? names[i] :
				  uid_name_dup((__u32)s->rows[i].k.id);
	for (i = 0, o = s->n; i < s->ntrust; i++)
		s->trust[i].name = ids[o + i] ? names[o + i] :
				   uid_name_dup((__u32)s->trust[i].k.id);
	for (i = 0, o += s->ntrust; i < s->natt; i++)
		s->att[i].path = names[o + i];
	free(ids);
	free(names);
	return 0;
}

/* Trusted directly, or (cgroups, with names) below a trusted cgroup. */
static int row_trusted(const struct mxo_lrow *l, const struct mxo_local_state *s)
{
	const struct mxo_trust_row *t;
	size_t i, len;

	for (i = 0; i < s->ntrust; i++) {
		t = &s->trust[i];
		if (t->k.kind != l->k.kind)
			continue;
		if (t->k.id == l->k.id)
			return 1;
		if (l->k.kind != MXO_LK_CGROUP || !t->name || !l->name)
			continue;
		len = strlen(t->name);
		if (!strcmp(t->name, "/") ||
		    (!strncmp(l->name, t->name, len) && l->name[len] == '/'))
			return 1;
	}
	return 0;
}

int mxo_local_read(const struct mxo_maps *m, struct mxo_local_state *s,
		   unsigned flags)
{
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	s->now = mxg_mono_ns();
	err = mxo_cfg_load(m, &s->cfg);
	if (!err)
		err = mxo_stats_read(m, s->cnt);
	if (!err)
		err = trust_read(m, s);
	if (!err)
		err = cg_attached_read(s);
	if (!err)
		err = rows_read(m, s);
	if (!err && (flags & MXO_READ_NAMES))
		err = names_read(s);
	if (err)
		return err;
	for (i = 0; i < s->n; i++) {
		struct mxo_lrow *l = &s->rows[i];
		int uid = l->k.kind == MXO_LK_UID;

		l->trusted = row_trusted(l, s);
		s->nuid += uid;
		if (l->limited && uid)
			s->limited_uids++;
		else if (l->limited)
			s->limited_cgroups++;
	}
	if (s->n)
		qsort(s->rows, s->n, sizeof(*s->rows), lrow_cmp);
	return 0;
}

void mxo_local_free(struct mxo_local_state *s)
{
	size_t i;

	for (i = 0; s->rows && i < s->n; i++)
		free(s->rows[i].name);
	for (i = 0; s->trust && i < s->ntrust; i++)
		free(s->trust[i].name);
	for (i = 0; s->att && i < s->natt; i++)
		free(s->att[i].path);
	free(s->rows);
	free(s->trust);
	free(s->att);
	memset(s, 0, sizeof(*s));
}

/* ---- JSON -------------------------------------------------------------------- */

void mxo_limit_str(const struct mxg_limit *l, char *buf, size_t len)
{
	char r[32];

	if (!l->interval_ns) {
		snprintf(buf, len, "none");
		return;
	}
	mxg_format_rate(l->rate_n, l->rate_per_s, r, sizeof(r));
	snprintf(buf, len, "%s (burst %u)", r, l->burst);
}

void mxo_json_limit(struct mxg_json *j, const char *key,
		    const struct mxg_limit *l)
{
	char r[32];

	if (!l->interval_ns) {
		mxg_json_null(j, key);
		return;
	}
	mxg_format_rate(l->rate_n, l->rate_per_s, r, sizeof(r));
	mxg_json_obj(j, key);
	mxg_json_str(j, "rate", r);
	mxg_json_u64(j, "n", l->rate_n);
	mxg_json_u64(j, "per_s", l->rate_per_s);
	mxg_json_u64(j, "burst", l->burst);
	mxg_json_obj_end(j);
}

static void json_recs(struct mxg_json *j, const char *key,
		      const struct mxo_out_state *s, const struct mxo_rec_row *rows,
		      size_t n, int dst)
{
	size_t i;

	mxg_json_arr(j, key);
	for (i = 0; i < n; i++) {
		char as[MXG_CIDR_STRLEN];

		mxg_json_obj(j, NULL);
		if (dst) {
			const struct mxg_allow_entry *a;
			size_t k = 0;

			mxo_dst_str(&s->cfg, &rows[i].addr, as, sizeof(as));
			mxg_json_str(j, "prefix", as);
			mxg_json_bool(j, "allowlisted", mxo_dst_allowed(s, &rows[i].addr));
			mxg_json_arr(j, "allowlist");
			while ((a = mxo_dst_allow_next(s, &rows[i].addr, &k))) {
				mxg_cidr_format(&a->cidr, as, sizeof(as));
				mxg_json_str(j, NULL, as);
			}
			mxg_json_arr_end(j);
		} else {
			mxg_addr_format(&rows[i].addr, as, sizeof(as));
			mxg_json_str(j, "addr", as);
		}
		mxg_json_u64(j, "syns", rows[i].r.syns);
		mxg_json_u64(j, "drops", rows[i].r.drops);
		mxg_json_u64(j, "per_min", rows[i].per_min);
		mxg_json_time(j, "first_seen", mxg_mono_to_unix(rows[i].r.first_ns));
		mxg_json_time(j, "last_seen", mxg_mono_to_unix(rows[i].r.last_ns));
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

static void json_ifaces(struct mxg_json *j, const struct mxo_out_state *s)
{
	size_t i;

	mxg_json_arr(j, "interfaces");
	for (i = 0; i < s->nifs; i++) {
		mxg_json_obj(j, NULL);
		mxg_json_str(j, "name", s->ifs[i].name);
		mxg_json_u64(j, "ifindex", s->ifs[i].ifindex);
		mxg_json_u64(j, "link_id", s->ifs[i].link_id);
		mxg_json_bool(j, "present", s->ifs[i].present);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

static void json_total(struct mxg_json *j, const struct mxo_out_state *s)
{
	mxg_json_obj(j, "total");
	mxg_json_u64(j, "syns", s->total.syns);
	mxg_json_u64(j, "per_min", mxo_win_per_min(&s->total.win, s->now));
	mxg_json_u64(j, "passed", mxo_eg_sum(s->cnt, MXO_V_PASS));
	mxg_json_u64(j, "allowlisted", mxo_eg_sum(s->cnt, MXO_V_ALLOW));
	mxg_json_u64(j, "capped", mxo_eg_sum(s->cnt, MXO_V_CAP));
	mxg_json_obj(j, "warn");
	mxg_json_bool(j, "active", mxo_warn_active(s));
	mxg_json_time(j, "since", mxg_mono_to_unix(s->total.warn_since_ns));
	mxg_json_u64(j, "episodes", s->total.warn_episodes);
	mxg_json_u64(j, "over", s->cnt[MXO_MISC_IDX(MXO_C_WARN_OVER)]);
	mxg_json_obj_end(j);
	mxg_json_obj(j, "cap");
	mxg_json_bool(j, "active", mxo_cap_active(s));
	mxg_json_time(j, "since", mxg_mono_to_unix(s->total.cap_since_ns));
	mxg_json_u64(j, "episodes", s->total.cap_episodes);
	mxg_json_obj_end(j);
	mxg_json_obj_end(j);
}

void mxo_json_outbound(struct mxg_json *j, const struct mxo_out_state *s,
		       size_t limit)
{
	unsigned p, v;

	json_ifaces(j, s);
	mxg_json_obj(j, "config");
	mxo_json_limit(j, "warn", &s->cfg.warn);
	mxo_json_limit(j, "cap", &s->cfg.cap);
	mxg_json_u64(j, "dst_prefix_v4", s->cfg.dst_plen4);
	mxg_json_u64(j, "dst_prefix_v6", s->cfg.dst_plen6);
	mxg_json_time(j, "changed", s->cfg.changed_s);
	mxg_json_obj_end(j);
	json_total(j, s);
	mxg_json_obj(j, "counters");
	for (p = 0; p < MXO_PORT_MAX; p++) {
		mxg_json_obj(j, mxo_port_name(p));
		for (v = 0; v < MXO_V_MAX; v++)
			mxg_json_u64(j, mxo_verdict_name(v), s->cnt[MXO_EG_IDX(p, v)]);
		mxg_json_obj_end(j);
	}
	mxg_json_obj_end(j);
	mxg_json_obj(j, "tracked");
	mxg_json_u64(j, "destinations", s->ndst);
	mxg_json_u64(j, "sources", s->nsrc);
	mxg_json_obj_end(j);
	if (limit) {
		json_recs(j, "destinations", s, s->dst, s->ndst < limit ? s->ndst : limit, 1);
		json_recs(j, "sources", s, s->src, s->nsrc < limit ? s->nsrc : limit, 0);
	}
	mxg_json_u64(j, "events_lost", s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
	mxg_json_u64(j, "rec_fail", s->cnt[MXO_MISC_IDX(MXO_C_REC_FAIL)]);
}

static void json_lrows(struct mxg_json *j, const char *key,
		       const struct mxo_lrow *rows, size_t n, size_t limit)
{
	size_t i;

	mxg_json_arr(j, key);
	for (i = 0; i < n && i < limit; i++) {
		const struct mxo_lrow *l = &rows[i];
		char comm[MXO_COMM_LEN + 1];
		int uid = l->k.kind == MXO_LK_UID;

		snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
		mxg_json_obj(j, NULL);
		mxg_json_u64(j, uid ? "uid" : "id", l->k.id);
		mxg_json_str(j, uid ? "user" : "path", l->name);
		mxg_json_u64(j, "conns", l->r.conns);
		mxg_json_u64(j, "refused", l->r.refused);
		mxg_json_u64(j, "per_min", l->per_min);
		mxg_json_bool(j, "limited", l->limited);
		mxg_json_bool(j, "trusted", l->trusted);
		mxg_json_time(j, "first_seen", mxg_mono_to_unix(l->r.first_ns));
		mxg_json_time(j, "last_seen", mxg_mono_to_unix(l->r.last_ns));
		mxg_json_str(j, "last_comm", comm);
		if (uid)
			mxg_json_u64(j, "last_cgroup", l->r.last_cgid);
		else
			mxg_json_u64(j, "last_uid", l->r.last_uid);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

void mxo_json_trust(struct mxg_json *j, const struct mxo_trust_row *r,
		    size_t n)
{
	size_t i;

	mxg_json_arr(j, "trusted");
	for (i = 0; i < n; i++) {
		mxg_json_obj(j, NULL);
		mxg_json_str(j, "kind", mxo_lkind_name(r[i].k.kind));
		mxg_json_u64(j, "id", r[i].k.id);
		mxg_json_str(j, "name", r[i].name);
		mxg_json_str(j, "comment", r[i].t.comment);
		mxg_json_time(j, "added", r[i].t.added_s);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

void mxo_json_local(struct mxg_json *j, const struct mxo_local_state *s,
		    size_t limit)
{
	unsigned p, v;
	size_t i;

	mxg_json_arr(j, "cgroups_attached");
	for (i = 0; i < s->natt; i++) {
		mxg_json_obj(j, NULL);
		mxg_json_u64(j, "id", s->att[i].id);
		mxg_json_str(j, "path", s->att[i].path);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
	mxg_json_obj(j, "config");
	mxo_json_limit(j, "uid_limit", &s->cfg.uid_limit);
	mxo_json_limit(j, "cgroup_limit", &s->cfg.cg_limit);
	mxg_json_obj_end(j);
	mxg_json_obj(j, "counters");
	for (p = 0; p < MXO_PORT_MAX; p++) {
		mxg_json_obj(j, mxo_port_name(p));
		for (v = 0; v < MXO_LV_MAX; v++)
			mxg_json_u64(j, mxo_lverdict_name(v), s->cnt[MXO_LO_IDX(p, v)]);
		mxg_json_obj_end(j);
	}
	mxg_json_obj_end(j);
	mxg_json_obj(j, "tracked");
	mxg_json_u64(j, "uids", s->nuid);
	mxg_json_u64(j, "cgroups", s->n - s->nuid);
	mxg_json_u64(j, "trusted", s->ntrust);
	mxg_json_obj_end(j);
	mxg_json_obj(j, "limited");
	mxg_json_u64(j, "uids", s->limited_uids);
	mxg_json_u64(j, "cgroups", s->limited_cgroups);
	mxg_json_obj_end(j);
	if (limit) {
		json_lrows(j, "uids", s->rows, s->nuid, limit);
		json_lrows(j, "cgroups", s->rows + s->nuid, s->n - s->nuid, limit);
		mxo_json_trust(j, s->trust, s->ntrust);
	}
	mxg_json_u64(j, "events_lost", s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
}

/* ---- Prometheus ------------------------------------------------------------- */

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_records(FILE *f, const struct mxo_out_state *s, size_t limit)
{
	char as[MXG_CIDR_STRLEN];
	size_t i;

	prom_head(f, "mxguard_outbound_destination_syns_total", "counter",
		  "New outbound SMTP connections per destination network (busiest first).");
	for (i = 0; i < s->ndst && i < limit; i++) {
		mxo_dst_str(&s->cfg, &s->dst[i].addr, as, sizeof(as));
		fprintf(f, "mxguard_outbound_destination_syns_total{prefix=\"%s\"} %llu\n",
			as, (unsigned long long)s->dst[i].r.syns);
	}
	prom_head(f, "mxguard_outbound_source_syns_total", "counter",
		  "New outbound SMTP connections per local source address.");
	for (i = 0; i < s->nsrc && i < limit; i++) {
		mxg_addr_format(&s->src[i].addr, as, sizeof(as));
		fprintf(f, "mxguard_outbound_source_syns_total{addr=\"%s\"} %llu\n",
			as, (unsigned long long)s->src[i].r.syns);
	}
}

void mxo_prom_outbound(FILE *f, const struct mxo_out_state *s, size_t limit)
{
	unsigned p, v;

	prom_head(f, "mxguard_outbound_syns_total", "counter",
		  "New outbound SMTP connections seen on egress, by port and verdict.");
	for (p = 0; p < MXO_PORT_MAX; p++)
		for (v = 0; v < MXO_V_MAX; v++)
			fprintf(f, "mxguard_outbound_syns_total{port=\"%s\",verdict=\"%s\"} %llu\n",
				mxo_port_name(p), mxo_verdict_name(v),
				(unsigned long long)s->cnt[MXO_EG_IDX(p, v)]);
	prom_head(f, "mxguard_outbound_rate_per_minute", "gauge",
		  "New outbound SMTP connections in the last minute.");
	fprintf(f, "mxguard_outbound_rate_per_minute %u\n",
		mxo_win_per_min(&s->total.win, s->now));
	prom_head(f, "mxguard_outbound_warn_active", "gauge",
		  "1 while the outbound rate is over the warn threshold.");
	fprintf(f, "mxguard_outbound_warn_active %d\n", mxo_warn_active(s));
	prom_head(f, "mxguard_outbound_warn_episodes_total", "counter",
		  "Times the outbound rate went over the warn threshold.");
	fprintf(f, "mxguard_outbound_warn_episodes_total %u\n", s->total.warn_episodes);
	prom_head(f, "mxguard_outbound_cap_active", "gauge",
		  "1 while new outbound SMTP connections are being dropped by the cap.");
	fprintf(f, "mxguard_outbound_cap_active %d\n", mxo_cap_active(s));
	prom_head(f, "mxguard_outbound_cap_episodes_total", "counter",
		  "Times the outbound rate went over the cap.");
	fprintf(f, "mxguard_outbound_cap_episodes_total %u\n", s->total.cap_episodes);
	prom_head(f, "mxguard_outbound_tracked", "gauge",
		  "Destination networks and local source addresses in the outbound tables.");
	fprintf(f, "mxguard_outbound_tracked{table=\"destinations\"} %zu\n", s->ndst);
	fprintf(f, "mxguard_outbound_tracked{table=\"sources\"} %zu\n", s->nsrc);
	if (limit)
		prom_records(f, s, limit);
	prom_head(f, "mxguard_outbound_events_lost_total", "counter",
		  "Outbound and local events dropped because the ring buffer was full.");
	fprintf(f, "mxguard_outbound_events_lost_total %llu\n",
		(unsigned long long)s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
}

/* mxguard_local_{uid,cgroup}_{connects,refused}_total for uids or cgroups. */
static void prom_lfamily(FILE *f, const struct mxo_local_state *s, int uid,
			 int refused, size_t limit)
{
	const char *kind = uid ? "uid" : "cgroup", *what = refused ? "refused" : "connects";
	size_t i = uid ? 0 : s->nuid, end = uid ? s->nuid : s->n;
	char lab[2 * PATH_MAX];

	fprintf(f, "# HELP mxguard_local_%s_%s_total Local mail connects %s, per %s.\n",
		kind, what, refused ? "refused" : "made", kind);
	fprintf(f, "# TYPE mxguard_local_%s_%s_total counter\n", kind, what);
	if (end - i > limit)
		end = i + limit;
	for (; i < end; i++) {
		const struct mxo_lrow *l = &s->rows[i];

		mxg_prom_label(l->name ? l->name : "", lab, sizeof(lab));
		fprintf(f, "mxguard_local_%s_%s_total{%s=\"%llu\",%s=\"%s\"} %llu\n",
			kind, what, uid ? "uid" : "cgroup_id", (unsigned long long)l->k.id,
			uid ? "user" : "cgroup", lab,
			(unsigned long long)(refused ? l->r.refused : l->r.conns));
	}
}

static void prom_lrows(FILE *f, const struct mxo_local_state *s, size_t limit)
{
	char lab[2 * PATH_MAX];
	size_t i;
	int w;

	for (w = 0; w < 2; w++) {
		prom_lfamily(f, s, 1, w, limit);
		prom_lfamily(f, s, 0, w, limit);
	}
	prom_head(f, "mxguard_local_limited", "gauge",
		  "1 while a uid or cgroup is over its limit.");
	for (i = 0; i < s->n; i++) {
		if (!s->rows[i].limited)
			continue;
		mxg_prom_label(s->rows[i].name ? s->rows[i].name : "", lab, sizeof(lab));
		fprintf(f, "mxguard_local_limited{kind=\"%s\",id=\"%llu\",name=\"%s\"} 1\n",
			mxo_lkind_name(s->rows[i].k.kind),
			(unsigned long long)s->rows[i].k.id, lab);
	}
}

void mxo_prom_local(FILE *f, const struct mxo_local_state *s, size_t limit)
{
	unsigned p, v;

	prom_head(f, "mxguard_local_connects_total", "counter",
		  "Local connects to ports 25, 465 and 587 from watched cgroups, by port and verdict.");
	for (p = 0; p < MXO_PORT_MAX; p++)
		for (v = 0; v < MXO_LV_MAX; v++)
			fprintf(f, "mxguard_local_connects_total{port=\"%s\",verdict=\"%s\"} %llu\n",
				mxo_port_name(p), mxo_lverdict_name(v),
				(unsigned long long)s->cnt[MXO_LO_IDX(p, v)]);
	prom_head(f, "mxguard_local_tracked", "gauge",
		  "uids and cgroups in the local table.");
	fprintf(f, "mxguard_local_tracked{kind=\"uid\"} %zu\n", s->nuid);
	fprintf(f, "mxguard_local_tracked{kind=\"cgroup\"} %zu\n", s->n - s->nuid);
	prom_head(f, "mxguard_local_limited_count", "gauge",
		  "uids and cgroups over their limit now.");
	fprintf(f, "mxguard_local_limited_count{kind=\"uid\"} %zu\n", s->limited_uids);
	fprintf(f, "mxguard_local_limited_count{kind=\"cgroup\"} %zu\n", s->limited_cgroups);
	if (limit)
		prom_lrows(f, s, limit);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* outbound and local: the server's own outgoing SMTP on egress (count, warn,
 * cap, allowlist) and local submitters per uid and cgroup (count, limit,
 * trust), their programs and pinned links. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "outbound.skel.h"
#include "addr.h"
#include "bucket.h"
#include "cmd.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

/* The kernel's tcx attach and link types (Linux 6.6). The uapi header of
 * linux-libc-dev 6.1 predates them; the values are those of enum
 * bpf_attach_type and enum bpf_link_type in vmlinux/vmlinux.h. */
#define MXO_BPF_TCX_EGRESS 47
#define MXO_BPF_LINK_TYPE_TCX 11

#define NSEC 1000000000ull
#define EV_STOP (-ECANCELED)

enum { PROG_TC, PROG_C4, PROG_C6, NPROGS };
static const char *const prog_pins[NPROGS] = {
	MXO_PROG_TC_PIN, MXO_PROG_C4_PIN, MXO_PROG_C6_PIN,
};

/* ---- programs and links ---------------------------------------------------- */

static void close_fds(int *fds, int n)
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

	for (i = 0; i < NPROGS; i++)
		fds[i] = -1;
	for (i = 0; i < NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			err = -errno;
			close_fds(fds, NPROGS);
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

/* The loaded programs: the pinned ones, else load the object once, reusing
 * or pinning every mxo_ map, and pin its three programs. The caller holds
 * the lock. */
static int progs_get(int *fds)
{
	struct bpf_program *progs[NPROGS];
	char path[PATH_MAX];
	struct outbound *skel;
	struct bpf_map *map;
	int err, i;

	if (!progs_open(fds))
		return 0;
	skel = outbound__open();
	if (!skel) {
		err = -errno;
		mxg_err("cannot open the outbound BPF object: %s", strerror(errno));
		return mxg_sys(err);
	}
	bpf_object__for_each_map(map, skel->obj) {
		/* Only the ABI's maps; constant pools belong to this load. */
		if (bpf_map__is_internal(map))
			continue;
		mxg_pin_path(path, bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			goto out;
	}
	err = outbound__load(skel);
	if (err) {
		mxg_err("cannot load the outbound programs: %s (run with -vv for the verifier log)",
			strerror(-err));
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	err = cfg_init();
	if (err)
		goto out;
	progs[PROG_TC] = skel->progs.mxo_egress;
	progs[PROG_C4] = skel->progs.mxo_connect4;
	progs[PROG_C6] = skel->progs.mxo_connect6;
	for (i = 0; i < NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		unlink(path); /* a partial set left by an interrupted attach */
		err = bpf_program__pin(progs[i], path);
		if (err) {
			mxg_err("cannot pin the program at %s: %s", path, strerror(-err));
			err = mxg_sys(err);
			goto out;
		}
	}
	for (i = 0; i < NPROGS; i++) {
		fds[i] = dup(bpf_program__fd(progs[i]));
		if (fds[i] < 0) {
			err = -errno;
			close_fds(fds, i);
			goto out;
		}
	}
out:
	outbound__destroy(skel);
	return err;
}

static int has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* After a detach: with no mxo_ link left, drop the programs (the maps stay
 * for the next attach, like the XDP side's). */
static void progs_release_if_unused(void)
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
	for (i = 0; i < NPROGS; i++) {
		mxg_pin_path(path, prog_pins[i]);
		unlink(path);
	}
}

static int link_info(int fd, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* ifindex of a tcx link (0 when its interface is gone). struct
 * bpf_link_info's tcx member {ifindex, attach_type} is missing from the 6.1
 * header; it starts where xdp.ifindex does. */
static __u32 tcx_ifindex(const struct bpf_link_info *info)
{
	return info->type == MXO_BPF_LINK_TYPE_TCX ? info->xdp.ifindex : 0;
}

static void pin_name(char *buf, size_t len, const char *prefix, const char *id)
{
	snprintf(buf, len, "%s%s", prefix, id);
}

/* Unpin and detach one link pin; 0, or -ENOENT when there is none. */
static int link_remove(const char *name)
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

static int link_pin(int fd, const char *name)
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

/* Caps, bpffs, pin directory and the lock, for attach. Returns the lock fd. */
static int attach_prepare(void)
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

/* ---- small parsers and formatters ------------------------------------------- */

/* "N/min" and friends, or "off"/"none"/"0" for no limit. */
static int parse_threshold(const struct mxg_cmd *c, const char *opt,
			   const char *s, __u32 *n, __u32 *per_s)
{
	const char *why;

	if (!strcmp(s, "off") || !strcmp(s, "none") || !strcmp(s, "0")) {
		*n = 0;
		*per_s = 0;
		return 0;
	}
	if (mxg_parse_rate(s, n, per_s, &why))
		return mxg_usage(c, "invalid %s '%s': %s (N/sec, N/min or N/hour, or off)",
				 opt, s, why);
	return 0;
}

static void limit_str(const struct mxg_limit *l, char *buf, size_t len)
{
	char r[32];

	if (!l->interval_ns) {
		snprintf(buf, len, "none");
		return;
	}
	mxg_format_rate(l->rate_n, l->rate_per_s, r, sizeof(r));
	snprintf(buf, len, "%s (burst %u)", r, l->burst);
}

static void json_limit(struct mxg_json *j, const char *key,
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

/* A Prometheus label value: backslash, quote and newline escaped. */
static void prom_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
}

static const char *user_name(__u32 uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : NULL;
}

/* Every entry of a hash map, keys and values side by side. */
static int read_all(int fd, size_t ksz, size_t vsz, __u8 **keys, __u8 **vals,
		    size_t *n)
{
	__u8 key[64], next[64];
	size_t cnt = 0, cap = 0;
	__u8 *k = NULL, *v = NULL;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if (cnt == cap) {
			__u8 *nk, *nv;

			cap = cap ? cap * 2 : 256;
			nk = realloc(k, cap * ksz);
			nv = nk ? realloc(v, cap * vsz) : NULL;
			if (nk)
				k = nk;
			if (!nv) {
				free(k);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (bpf_map_lookup_elem(fd, key, v + cnt * vsz))
			continue; /* evicted meanwhile */
		memcpy(k + cnt * ksz, key, ksz);
		cnt++;
	}
	if (errno != ENOENT) {
		int err = mxg_sys(-errno);

		mxg_err("cannot read a map: %s", strerror(errno));
		free(k);
		free(v);
		return err;
	}
	*keys = k;
	*vals = v;
	*n = cnt;
	return 0;
}

/* ---- outbound attach / detach ------------------------------------------------ */

static int outbound_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int fds[NPROGS] = { -1, -1, -1 };
	struct bpf_link_info info;
	char name[64], path[PATH_MAX];
	int opt, err, lock_fd, fd, link_fd = -1, ifindex;
	const char *ifname;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_outbound);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "interface name");
	if (err)
		return err;
	ifname = argv[optind];
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		mxg_err("no interface '%s'", ifname);
		return -ENODEV;
	}
	lock_fd = attach_prepare();
	if (lock_fd < 0)
		return lock_fd;
	pin_name(name, sizeof(name), MXO_LINK_TC_PREFIX, ifname);
	mxg_pin_path(path, name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = link_info(fd, &info);
		close(fd);
		if (!err && (int)tcx_ifindex(&info) == ifindex) {
			printf("outbound: already attached to %s egress (link %u)\n",
			       ifname, info.id);
			goto out;
		}
		mxg_warn("removing stale link pin %s", path);
		link_remove(name);
	}
	err = progs_get(fds);
	if (err)
		goto out;
	link_fd = bpf_link_create(fds[PROG_TC], ifindex, MXO_BPF_TCX_EGRESS, NULL);
	if (link_fd < 0) {
		err = -errno;
		mxg_err("cannot attach to %s egress: %s (tcx links need Linux 6.6 or later)",
			ifname, strerror(errno));
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	err = link_pin(link_fd, name);
	if (err) {
		bpf_link_detach(link_fd);
		goto out;
	}
	link_info(link_fd, &info);
	printf("outbound: attached to %s egress (tcx link %u, program %u)\n",
	       ifname, info.id, info.prog_id);
out:
	if (link_fd >= 0)
		close(link_fd);
	close_fds(fds, NPROGS);
	close(lock_fd);
	return err;
}

static int outbound_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ifname;
	char name[64];
	int opt, err, lock_fd;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_outbound);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "interface name");
	if (err)
		return err;
	ifname = argv[optind];
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET);
	if (err)
		return err;
	if (access(mxg_pin_dir(), F_OK)) {
		mxg_err("outbound is not attached to '%s' (no pins in %s)", ifname,
			mxg_pin_dir());
		return -ENODEV;
	}
	lock_fd = mxg_lock(NULL, 30);
	if (lock_fd < 0)
		return lock_fd;
	pin_name(name, sizeof(name), MXO_LINK_TC_PREFIX, ifname);
	err = link_remove(name);
	if (err == -ENOENT) {
		mxg_err("outbound is not attached to '%s'%s", ifname,
			if_nametoindex(ifname) ? "" : " (no such interface either)");
		err = -ENODEV;
	} else if (!err) {
		progs_release_if_unused();
		printf("outbound: detached from %s\n", ifname);
	}
	close(lock_fd);
	return err;
}

/* ---- outbound set ------------------------------------------------------------- */

static int outbound_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "warn", required_argument, NULL, 'w' },
		{ "cap", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	__u32 wn = 0, wp = 0, cn = 0, cp = 0, zero = 0;
	int opt, err, have_w = 0, have_c = 0;
	char ws[48], cs[48];
	struct mxo_total t;
	struct mxo_maps m;
	struct mxo_cfg c;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "w:c:h", opts)) != -1) {
		switch (opt) {
		case 'w':
			err = parse_threshold(&mxg_cmd_outbound, "--warn", optarg, &wn, &wp);
			if (err)
				return err;
			have_w = 1;
			break;
		case 'c':
			err = parse_threshold(&mxg_cmd_outbound, "--cap", optarg, &cn, &cp);
			if (err)
				return err;
			have_c = 1;
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_outbound); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 0, "");
	if (err)
		return err;
	if (!have_w && !have_c)
		return mxg_usage(&mxg_cmd_outbound, "nothing to set: give --warn and/or --cap");
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	err = mxo_cfg_load(&m, &c);
	if (err)
		goto out;
	if (have_w)
		mxo_limit_set(&c.warn, wn, wp, 0);
	if (have_c)
		mxo_limit_set(&c.cap, cn, cp, 0);
	c.changed_s = mxg_unix_s();
	err = mxo_cfg_store(&m, &c);
	if (err)
		goto out;
	/* A changed threshold starts with a full bucket and no episode. The
	 * program may add a SYN between read and write; that count is lost,
	 * nothing else. */
	if (!bpf_map_lookup_elem(m.total, &zero, &t)) {
		if (have_w) {
			t.warn_tat = 0;
			t.flags &= ~MXO_TF_WARN;
		}
		if (have_c) {
			t.cap_tat = 0;
			t.flags &= ~MXO_TF_CAP;
		}
		bpf_map_update_elem(m.total, &zero, &t, BPF_ANY);
	}
	limit_str(&c.warn, ws, sizeof(ws));
	limit_str(&c.cap, cs, sizeof(cs));
	printf("outbound: warn %s, cap %s\n", ws, cs);
out:
	mxo_maps_close(&m);
	return err;
}

/* ---- outbound allow ----------------------------------------------------------- */

/* The outbound allowlist has mxg_allow's layout: the list helpers of
 * lists.c work on it through a struct mxg_maps that holds only its fd. */
static void allow_view(const struct mxo_maps *m, struct mxg_maps *v)
{
	memset(v, 0xff, sizeof(*v)); /* every fd -1 */
	v->allow = m->allow;
}

static int parse_cidr_arg(const char *s, struct mxg_cidr *c)
{
	const char *why;

	if (mxg_cidr_parse(s, c, &why))
		return mxg_usage(&mxg_cmd_outbound, "invalid address or CIDR '%s': %s", s, why);
	return 0;
}

static int allow_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *comment = "";
	struct mxg_allow_val v;
	char cs[MXG_CIDR_STRLEN];
	struct mxo_maps m;
	struct mxg_maps view;
	struct mxg_cidr c;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': comment = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_outbound); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "address or CIDR");
	if (err)
		return err;
	err = parse_cidr_arg(argv[optind], &c);
	if (err)
		return err;
	if (strlen(comment) >= MXG_COMMENT_LEN)
		return mxg_usage(&mxg_cmd_outbound, "comment '%s' is too long (at most %d bytes)",
				 comment, MXG_COMMENT_LEN - 1);
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	allow_view(&m, &view);
	if (mxg_allow_get(&view, &c, &v)) {
		memset(&v, 0, sizeof(v));
		v.added_s = mxg_unix_s();
	}
	memset(v.comment, 0, sizeof(v.comment));
	snprintf(v.comment, sizeof(v.comment), "%s", comment);
	err = mxg_allow_put(&view, &c, &v);
	if (!err) {
		mxg_cidr_format(&c, cs, sizeof(cs));
		printf("outbound: never capped: %s%s%s%s\n", cs, *comment ? " (" : "",
		       comment, *comment ? ")" : "");
	}
	mxo_maps_close(&m);
	return err;
}

static int allow_del(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char cs[MXG_CIDR_STRLEN];
	struct mxg_maps view;
	struct mxo_maps m;
	struct mxg_cidr c;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_outbound);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "address or CIDR");
	if (err)
		return err;
	err = parse_cidr_arg(argv[optind], &c);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	allow_view(&m, &view);
	mxg_cidr_format(&c, cs, sizeof(cs));
	err = mxg_allow_del(&view, &c);
	if (err == -ENOENT)
		mxg_err("%s is not in the outbound allowlist", cs);
	else if (!err)
		printf("outbound: removed %s from the allowlist\n", cs);
	mxo_maps_close(&m);
	return err;
}

struct allow_rows {
	struct mxg_allow_entry *e;
	size_t n, cap;
};

static int allow_collect(const struct mxg_allow_entry *e, void *ctx)
{
	struct allow_rows *r = ctx;

	if (r->n == r->cap) {
		struct mxg_allow_entry *ne;

		r->cap = r->cap ? r->cap * 2 : 64;
		ne = realloc(r->e, r->cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		r->e = ne;
	}
	r->e[r->n++] = *e;
	return 0;
}

static int allow_cmp(const void *a, const void *b)
{
	return mxg_cidr_cmp(&((const struct mxg_allow_entry *)a)->cidr,
			    &((const struct mxg_allow_entry *)b)->cidr);
}

static int allow_read(const struct mxo_maps *m, struct allow_rows *r)
{
	struct mxg_maps view;
	int err;

	memset(r, 0, sizeof(*r));
	allow_view(m, &view);
	err = mxg_allow_each(&view, allow_collect, r);
	if (err) {
		free(r->e);
		r->e = NULL;
		return err;
	}
	if (r->n)
		qsort(r->e, r->n, sizeof(*r->e), allow_cmp);
	return 0;
}

static int allow_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct allow_rows r;
	struct mxo_maps m;
	int opt, err, json = 0;
	size_t i;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_outbound); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 0, "");
	if (err)
		return err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	err = allow_read(&m, &r);
	mxo_maps_close(&m);
	if (err)
		return err;
	if (json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_arr(&j, "allow");
		for (i = 0; i < r.n; i++) {
			char cs[MXG_CIDR_STRLEN];

			mxg_cidr_format(&r.e[i].cidr, cs, sizeof(cs));
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "cidr", cs);
			mxg_json_str(&j, "comment", r.e[i].v.comment);
			mxg_json_time(&j, "added", r.e[i].v.added_s);
			mxg_json_u64(&j, "hits", r.e[i].v.hits);
			mxg_json_time(&j, "last_hit", mxg_mono_to_unix(r.e[i].v.last_hit_ns));
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (!r.n) {
		printf("the outbound allowlist is empty\n");
	} else {
		static const char *head[] = { "DESTINATION", "HITS", "LAST HIT", "ADDED", "COMMENT" };
		struct mxg_table t;

		mxg_table_init(&t, 5, head, 0x2);
		for (i = 0; i < r.n; i++) {
			char cs[MXG_CIDR_STRLEN], hits[16], last[32], added[32];
			const char *cells[5] = { cs, hits, last, added, r.e[i].v.comment };

			mxg_cidr_format(&r.e[i].cidr, cs, sizeof(cs));
			mxg_format_count(r.e[i].v.hits, hits, sizeof(hits));
			mxg_format_time(mxg_mono_to_unix(r.e[i].v.last_hit_ns), last, sizeof(last));
			mxg_format_time(r.e[i].v.added_s, added, sizeof(added));
			mxg_table_row(&t, cells);
		}
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
	}
	free(r.e);
	return 0;
}

static int outbound_allow(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "add", allow_add }, { "del", allow_del }, { "list", allow_list },
		{ NULL, NULL }
	};
	static char full[48];
	int i;

	if (argc < 2)
		return mxg_usage(&mxg_cmd_outbound, "missing 'add', 'del' or 'list'");
	for (i = 0; subs[i].name; i++)
		if (!strcmp(argv[1], subs[i].name)) {
			snprintf(full, sizeof(full), "outbound allow %s", subs[i].name);
			mxg_cmd = full;
			return subs[i].run(argc - 1, argv + 1);
		}
	return mxg_usage(&mxg_cmd_outbound, "unknown subcommand 'allow %s'", argv[1]);
}

/* ---- outbound show -------------------------------------------------------------- */

struct rec_row {
	union mxg_addr addr;
	struct mxo_rec r;
	__u32 per_min;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec_row *x = a, *y = b;

	if (x->r.syns != y->r.syns)
		return x->r.syns < y->r.syns ? 1 : -1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static int rec_read(int fd, __u64 now, struct rec_row **out, size_t *n)
{
	__u8 *k, *v;
	struct rec_row *rows;
	size_t i;
	int err;

	err = read_all(fd, sizeof(union mxg_addr), sizeof(struct mxo_rec), &k, &v, n);
	if (err)
		return err;
	rows = calloc(*n ? *n : 1, sizeof(*rows));
	if (!rows) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++) {
		memcpy(&rows[i].addr, k + i * sizeof(union mxg_addr), sizeof(union mxg_addr));
		memcpy(&rows[i].r, v + i * sizeof(struct mxo_rec), sizeof(struct mxo_rec));
		rows[i].per_min = mxo_win_per_min(&rows[i].r.win, now);
	}
	free(k);
	free(v);
	if (*n)
		qsort(rows, *n, sizeof(*rows), rec_cmp);
	*out = rows;
	return 0;
}

struct tc_iface {
	char name[IF_NAMESIZE + 1];
	__u32 ifindex, link_id;
	int present;
};

/* The egress attachments, from the link pins. */
static size_t tc_ifaces(struct tc_iface *out, size_t max)
{
	size_t plen = strlen(MXO_LINK_TC_PREFIX), n = 0;
	DIR *d = opendir(mxg_pin_dir());
	struct dirent *e;

	while (d && (e = readdir(d)) && n < max) {
		struct bpf_link_info info;
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
		if (!link_info(fd, &info)) {
			out[n].ifindex = tcx_ifindex(&info);
			out[n].link_id = info.id;
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

struct out_state {
	struct mxo_cfg cfg;
	struct mxo_total total;
	__u64 cnt[MXO_NCOUNTERS];
	struct rec_row *dst, *src;
	size_t ndst, nsrc;
	struct allow_rows allow;
	struct tc_iface ifs[64];
	size_t nifs;
	__u64 now;
};

static int out_state_read(const struct mxo_maps *m, struct out_state *s)
{
	__u32 zero = 0;
	int err;

	s->now = mxg_mono_ns();
	err = mxo_cfg_load(m, &s->cfg);
	if (!err && bpf_map_lookup_elem(m->total, &zero, &s->total))
		err = mxg_sys(-errno);
	if (!err)
		err = mxo_stats_read(m, s->cnt);
	if (!err)
		err = rec_read(m->dst, s->now, &s->dst, &s->ndst);
	if (!err)
		err = rec_read(m->src, s->now, &s->src, &s->nsrc);
	if (!err)
		err = allow_read(m, &s->allow);
	s->nifs = tc_ifaces(s->ifs, 64);
	return err;
}

static void out_state_free(struct out_state *s)
{
	free(s->dst);
	free(s->src);
	free(s->allow.e);
}

static void dst_cidr(const struct out_state *s, const union mxg_addr *a,
		     struct mxg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->addr = *a;
	c->v4 = mxg_addr_is_v4(a);
	c->plen = c->v4 ? 96 + s->cfg.dst_plen4 : s->cfg.dst_plen6;
}

static void dst_prefix(const struct out_state *s, const union mxg_addr *a,
		       char *buf, size_t len)
{
	struct mxg_cidr c;

	dst_cidr(s, a, &c);
	mxg_cidr_format(&c, buf, len);
}

/* Allowlist entries that overlap a destination prefix, from index *i on:
 * the next one, or NULL. */
static const struct mxg_allow_entry *dst_allow_next(const struct out_state *s,
						    const union mxg_addr *a,
						    size_t *i)
{
	struct mxg_cidr c;

	dst_cidr(s, a, &c);
	for (; *i < s->allow.n; (*i)++)
		if (mxg_cidr_overlap(&s->allow.e[*i].cidr, &c))
			return &s->allow.e[(*i)++];
	return NULL;
}

/* 1 when one entry covers the whole destination prefix. */
static int dst_allowed(const struct out_state *s, const union mxg_addr *a)
{
	const struct mxg_allow_entry *e;
	struct mxg_cidr c;
	size_t i = 0;

	dst_cidr(s, a, &c);
	while ((e = dst_allow_next(s, a, &i)))
		if (e->cidr.plen <= c.plen)
			return 1;
	return 0;
}

static int warn_active(const struct out_state *s)
{
	return (s->total.flags & MXO_TF_WARN) && s->cfg.warn.interval_ns &&
	       !mxg_bucket_full(s->total.warn_tat, s->now);
}

static int cap_active(const struct out_state *s)
{
	return (s->total.flags & MXO_TF_CAP) && s->cfg.cap.interval_ns &&
	       !mxg_bucket_full(s->total.cap_tat, s->now);
}

static __u64 port_sum(const __u64 *cnt, unsigned v)
{
	__u64 n = 0;
	unsigned p;

	for (p = 0; p < MXO_PORT_MAX; p++)
		n += cnt[MXO_EG_IDX(p, v)];
	return n;
}

static void json_recs(struct mxg_json *j, const char *key,
		      const struct out_state *s, const struct rec_row *rows,
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

			dst_prefix(s, &rows[i].addr, as, sizeof(as));
			mxg_json_str(j, "prefix", as);
			mxg_json_bool(j, "allowlisted", dst_allowed(s, &rows[i].addr));
			mxg_json_arr(j, "allowlist");
			while ((a = dst_allow_next(s, &rows[i].addr, &k))) {
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

static void out_json(const struct out_state *s, size_t limit)
{
	struct mxg_json j;
	unsigned p, v;
	size_t i;

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_time(&j, "time", mxg_unix_s());
	mxg_json_arr(&j, "interfaces");
	for (i = 0; i < s->nifs; i++) {
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "name", s->ifs[i].name);
		mxg_json_u64(&j, "ifindex", s->ifs[i].ifindex);
		mxg_json_u64(&j, "link_id", s->ifs[i].link_id);
		mxg_json_bool(&j, "present", s->ifs[i].present);
		mxg_json_obj_end(&j);
	}
	mxg_json_arr_end(&j);
	mxg_json_obj(&j, "config");
	json_limit(&j, "warn", &s->cfg.warn);
	json_limit(&j, "cap", &s->cfg.cap);
	mxg_json_u64(&j, "dst_prefix_v4", s->cfg.dst_plen4);
	mxg_json_u64(&j, "dst_prefix_v6", s->cfg.dst_plen6);
	mxg_json_time(&j, "changed", s->cfg.changed_s);
	mxg_json_obj_end(&j);

	mxg_json_obj(&j, "total");
	mxg_json_u64(&j, "syns", s->total.syns);
	mxg_json_u64(&j, "per_min", mxo_win_per_min(&s->total.win, s->now));
	mxg_json_u64(&j, "passed", port_sum(s->cnt, MXO_V_PASS));
	mxg_json_u64(&j, "allowlisted", port_sum(s->cnt, MXO_V_ALLOW));
	mxg_json_u64(&j, "capped", port_sum(s->cnt, MXO_V_CAP));
	mxg_json_obj(&j, "warn");
	mxg_json_bool(&j, "active", warn_active(s));
	mxg_json_time(&j, "since", mxg_mono_to_unix(s->total.warn_since_ns));
	mxg_json_u64(&j, "episodes", s->total.warn_episodes);
	mxg_json_u64(&j, "over", s->cnt[MXO_MISC_IDX(MXO_C_WARN_OVER)]);
	mxg_json_obj_end(&j);
	mxg_json_obj(&j, "cap");
	mxg_json_bool(&j, "active", cap_active(s));
	mxg_json_time(&j, "since", mxg_mono_to_unix(s->total.cap_since_ns));
	mxg_json_u64(&j, "episodes", s->total.cap_episodes);
	mxg_json_obj_end(&j);
	mxg_json_obj_end(&j);

	mxg_json_obj(&j, "counters");
	for (p = 0; p < MXO_PORT_MAX; p++) {
		mxg_json_obj(&j, mxo_port_name(p));
		for (v = 0; v < MXO_V_MAX; v++)
			mxg_json_u64(&j, mxo_verdict_name(v), s->cnt[MXO_EG_IDX(p, v)]);
		mxg_json_obj_end(&j);
	}
	mxg_json_obj_end(&j);
	mxg_json_obj(&j, "tracked");
	mxg_json_u64(&j, "destinations", s->ndst);
	mxg_json_u64(&j, "sources", s->nsrc);
	mxg_json_obj_end(&j);
	json_recs(&j, "destinations", s, s->dst, s->ndst < limit ? s->ndst : limit, 1);
	json_recs(&j, "sources", s, s->src, s->nsrc < limit ? s->nsrc : limit, 0);
	mxg_json_u64(&j, "events_lost", s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
	mxg_json_u64(&j, "rec_fail", s->cnt[MXO_MISC_IDX(MXO_C_REC_FAIL)]);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static void out_prometheus(const struct out_state *s, size_t limit)
{
	unsigned p, v;
	size_t i;

	printf("# HELP mxguard_outbound_syns_total New outbound SMTP connections seen on egress, by port and verdict.\n");
	printf("# TYPE mxguard_outbound_syns_total counter\n");
	for (p = 0; p < MXO_PORT_MAX; p++)
		for (v = 0; v < MXO_V_MAX; v++)
			printf("mxguard_outbound_syns_total{port=\"%s\",verdict=\"%s\"} %llu\n",
			       mxo_port_name(p), mxo_verdict_name(v),
			       (unsigned long long)s->cnt[MXO_EG_IDX(p, v)]);
	printf("# HELP mxguard_outbound_rate_per_minute New outbound SMTP connections in the last minute.\n");
	printf("# TYPE mxguard_outbound_rate_per_minute gauge\n");
	printf("mxguard_outbound_rate_per_minute %u\n", mxo_win_per_min(&s->total.win, s->now));
	printf("# HELP mxguard_outbound_warn_active 1 while the outbound rate is over the warn threshold.\n");
	printf("# TYPE mxguard_outbound_warn_active gauge\n");
	printf("mxguard_outbound_warn_active %d\n", warn_active(s));
	printf("# HELP mxguard_outbound_warn_episodes_total Times the outbound rate went over the warn threshold.\n");
	printf("# TYPE mxguard_outbound_warn_episodes_total counter\n");
	printf("mxguard_outbound_warn_episodes_total %u\n", s->total.warn_episodes);
	printf("# HELP mxguard_outbound_cap_active 1 while new outbound SMTP connections are being dropped by the cap.\n");
	printf("# TYPE mxguard_outbound_cap_active gauge\n");
	printf("mxguard_outbound_cap_active %d\n", cap_active(s));
	printf("# HELP mxguard_outbound_cap_episodes_total Times the outbound rate went over the cap.\n");
	printf("# TYPE mxguard_outbound_cap_episodes_total counter\n");
	printf("mxguard_outbound_cap_episodes_total %u\n", s->total.cap_episodes);
	printf("# HELP mxguard_outbound_destination_syns_total New outbound SMTP connections per destination network (busiest first).\n");
	printf("# TYPE mxguard_outbound_destination_syns_total counter\n");
	for (i = 0; i < s->ndst && i < limit; i++) {
		char as[MXG_CIDR_STRLEN];

		dst_prefix(s, &s->dst[i].addr, as, sizeof(as));
		printf("mxguard_outbound_destination_syns_total{prefix=\"%s\"} %llu\n", as,
		       (unsigned long long)s->dst[i].r.syns);
	}
	printf("# HELP mxguard_outbound_source_syns_total New outbound SMTP connections per local source address.\n");
	printf("# TYPE mxguard_outbound_source_syns_total counter\n");
	for (i = 0; i < s->nsrc && i < limit; i++) {
		char as[MXG_CIDR_STRLEN];

		mxg_addr_format(&s->src[i].addr, as, sizeof(as));
		printf("mxguard_outbound_source_syns_total{addr=\"%s\"} %llu\n", as,
		       (unsigned long long)s->src[i].r.syns);
	}
	printf("# HELP mxguard_outbound_events_lost_total Outbound events dropped because the ring buffer was full.\n");
	printf("# TYPE mxguard_outbound_events_lost_total counter\n");
	printf("mxguard_outbound_events_lost_total %llu\n",
	       (unsigned long long)s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
}

static void table_recs(const struct out_state *s, const struct rec_row *rows,
		       size_t n, int dst)
{
	static const char *head[] = { NULL, "SYNS", "CAPPED", "PER MIN",
				      "FIRST SEEN", "LAST SEEN", "NOTE" };
	const char *h[7];
	struct mxg_table t;
	size_t i;

	memcpy(h, head, sizeof(h));
	h[0] = dst ? "DESTINATION" : "SOURCE";
	mxg_table_init(&t, dst ? 7 : 6, h, 0xe);
	for (i = 0; i < n; i++) {
		char as[MXG_CIDR_STRLEN], sy[16], dr[16], pm[16], fs[32], ls[32];
		char note[MXG_COMMENT_LEN + 32] = "";
		const char *cells[7] = { as, sy, dr, pm, fs, ls, note };

		if (dst) {
			size_t k = 0;
			const struct mxg_allow_entry *a = dst_allow_next(s, &rows[i].addr, &k);

			dst_prefix(s, &rows[i].addr, as, sizeof(as));
			if (a)
				snprintf(note, sizeof(note), "%sallowlisted%s%s",
					 dst_allowed(s, &rows[i].addr) ? "" : "partly ",
					 a->v.comment[0] ? ": " : "", a->v.comment);
		} else {
			mxg_addr_format(&rows[i].addr, as, sizeof(as));
		}
		mxg_format_count(rows[i].r.syns, sy, sizeof(sy));
		mxg_format_count(rows[i].r.drops, dr, sizeof(dr));
		snprintf(pm, sizeof(pm), "%u", rows[i].per_min);
		mxg_format_time(mxg_mono_to_unix(rows[i].r.first_ns), fs, sizeof(fs));
		mxg_format_time(mxg_mono_to_unix(rows[i].r.last_ns), ls, sizeof(ls));
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
}

static void out_table(const struct out_state *s, size_t limit)
{
	char ws[48], cs[48], since[32];
	size_t i;
	unsigned p;

	if (!s->nifs) {
		printf("outbound: not attached to any interface ('mxguard outbound attach IFACE')\n");
	} else {
		printf("outbound: egress of");
		for (i = 0; i < s->nifs; i++)
			printf(" %s%s", s->ifs[i].name, s->ifs[i].present ? "" : " (gone)");
		printf("\n");
	}
	limit_str(&s->cfg.warn, ws, sizeof(ws));
	limit_str(&s->cfg.cap, cs, sizeof(cs));
	printf("thresholds: warn %s, cap %s\n", ws, cs);
	mxg_format_time(mxg_mono_to_unix(s->total.warn_since_ns), since, sizeof(since));
	printf("warning: %s (%u episodes, latest from %s)\n",
	       warn_active(s) ? "ACTIVE" : "no", s->total.warn_episodes, since);
	mxg_format_time(mxg_mono_to_unix(s->total.cap_since_ns), since, sizeof(since));
	printf("cap: %s (%u episodes, latest from %s)\n",
	       cap_active(s) ? "DROPPING" : "no", s->total.cap_episodes, since);
	printf("total: %llu new connections, %u in the last minute; %llu passed, %llu allowlisted, %llu capped\n",
	       (unsigned long long)s->total.syns, mxo_win_per_min(&s->total.win, s->now),
	       (unsigned long long)port_sum(s->cnt, MXO_V_PASS),
	       (unsigned long long)port_sum(s->cnt, MXO_V_ALLOW),
	       (unsigned long long)port_sum(s->cnt, MXO_V_CAP));
	for (p = 0; p < MXO_PORT_MAX; p++)
		printf("  %-11s %3u: %llu passed, %llu allowlisted, %llu capped\n",
		       mxo_port_name(p), mxo_port_number(p),
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_PASS)],
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_ALLOW)],
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_CAP)]);
	if (s->ndst) {
		printf("\n");
		table_recs(s, s->dst, s->ndst < limit ? s->ndst : limit, 1);
	}
	if (s->nsrc) {
		printf("\n");
		table_recs(s, s->src, s->nsrc < limit ? s->nsrc : limit, 0);
	}
	if (s->ndst > limit || s->nsrc > limit)
		printf("\n(%zu destination networks and %zu sources tracked; -n N shows more)\n",
		       s->ndst, s->nsrc);
}

/* `outbound` and `local` without a subcommand: shared option parsing. */
struct show_opts {
	int json, prom;
	size_t limit;
};

static int show_parse(const struct mxg_cmd *c, int argc, char **argv,
		      struct show_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *why;
	__u32 n = 0;
	int opt, err;

	memset(o, 0, sizeof(*o));
	while ((opt = mxg_getopt(c, argc, argv, "jpn:h", opts)) != -1) {
		switch (opt) {
		case 'j': o->json = 1; break;
		case 'p': o->prom = 1; break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, 1000000, &n, &why))
				return mxg_usage(c, "invalid -n '%s': %s", optarg, why);
			break;
		case 'h': mxg_cmd_help(c); return 1;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(c, argc, argv, 0, "");
	if (err)
		return err;
	if (o->json && o->prom)
		return mxg_usage(c, "--json and --prometheus exclude each other");
	/* JSON carries everything unless asked otherwise; people get a page. */
	o->limit = n ? n : o->json ? SIZE_MAX : 20;
	return 0;
}

static int outbound_show(int argc, char **argv)
{
	struct out_state *s;
	struct show_opts o;
	struct mxo_maps m;
	int err;

	err = show_parse(&mxg_cmd_outbound, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s) {
		mxo_maps_close(&m);
		return -ENOMEM;
	}
	err = out_state_read(&m, s);
	mxo_maps_close(&m);
	if (!err) {
		if (o.json)
			out_json(s, o.limit);
		else if (o.prom)
			out_prometheus(s, o.limit);
		else
			out_table(s, o.limit);
	}
	out_state_free(s);
	free(s);
	return err;
}

/* ---- outbound events ------------------------------------------------------------ */

struct ev_ctx {
	int json;
	__u64 seen, want, lost_base;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void event_time(__u64 mono_ns, char *buf, size_t len)
{
	struct timespec m, r;
	__u64 now_m, now_r, real;
	time_t t;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	now_m = (__u64)m.tv_sec * NSEC + m.tv_nsec;
	now_r = (__u64)r.tv_sec * NSEC + r.tv_nsec;
	real = mono_ns <= now_m ? now_r - (now_m - mono_ns) : now_r + (mono_ns - now_m);
	t = real / NSEC;
	if (!gmtime_r(&t, &tm) || !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(real % NSEC / 1000000));
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct ev_ctx *c = ctx;
	const struct mxo_event *e = data;
	char ts[40], src[MXG_CIDR_STRLEN], dst[MXG_CIDR_STRLEN];
	char cgpath[1][PATH_MAX];
	const char *name = NULL;
	int local;

	if (size < sizeof(*e))
		return 0;
	local = e->type == MXO_EV_LOCAL_START || e->type == MXO_EV_LOCAL_END;
	event_time(e->ts_ns, ts, sizeof(ts));
	mxg_addr_format(&e->src, src, sizeof(src));
	mxg_addr_format(&e->dst, dst, sizeof(dst));
	if (local && e->kind == MXO_LK_UID) {
		name = user_name((__u32)e->id);
	} else if (local && e->kind == MXO_LK_CGROUP) {
		mxo_cgroup_paths(&e->id, 1, cgpath);
		name = cgpath[0][0] ? cgpath[0] : NULL;
	}
	if (c->json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "time", ts);
		mxg_json_str(&j, "type", mxo_ev_type_name(e->type));
		if (local) {
			mxg_json_str(&j, "kind", mxo_lkind_name(e->kind));
			mxg_json_u64(&j, "id", e->id);
			mxg_json_str(&j, "name", name);
		} else {
			mxg_json_str(&j, "src", src);
		}
		mxg_json_str(&j, "dst", dst);
		mxg_json_u64(&j, "port", e->dport);
		mxg_json_u64(&j, "per_min", e->per_min);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (local) {
		printf("%s %-17s %s %llu (%s) to %s port %u, %u/min\n", ts,
		       mxo_ev_type_name(e->type), mxo_lkind_name(e->kind),
		       (unsigned long long)e->id, name ? name : "?", dst, e->dport,
		       e->per_min);
	} else {
		printf("%s %-17s %s -> %s port %u, total %u/min\n", ts,
		       mxo_ev_type_name(e->type), src, dst, e->dport, e->per_min);
	}
	fflush(stdout);
	c->seen++;
	return c->want && c->seen >= c->want ? EV_STOP : 0;
}

static int check_lost(const struct mxo_maps *m, struct ev_ctx *c)
{
	__u64 cnt[MXO_NCOUNTERS], total;
	int err;

	err = mxo_stats_read(m, cnt);
	if (err)
		return err;
	total = cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)];
	if (total <= c->lost_base)
		return 0;
	if (c->json)
		printf("{\"type\":\"lost\",\"lost\":%llu,\"events_lost\":%llu}\n",
		       (unsigned long long)(total - c->lost_base),
		       (unsigned long long)total);
	else
		printf("lost %llu events: the ring buffer was full\n",
		       (unsigned long long)(total - c->lost_base));
	fflush(stdout);
	c->lost_base = total;
	return 0;
}

static int outbound_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	__u64 cnt[MXO_NCOUNTERS], timeout_s = 0, deadline = 0, now;
	struct ring_buffer *rb = NULL;
	struct ev_ctx c = { 0 };
	struct sigaction sa;
	struct mxo_maps m;
	const char *why;
	__u32 count;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "jn:t:h", opts)) != -1) {
		switch (opt) {
		case 'j': c.json = 1; break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, UINT32_MAX, &count, &why))
				return mxg_usage(&mxg_cmd_outbound, "invalid --count '%s': %s", optarg, why);
			c.want = count;
			break;
		case 't':
			if (mxg_parse_duration(optarg, &timeout_s, &why))
				return mxg_usage(&mxg_cmd_outbound, "invalid --timeout '%s': %s", optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_outbound); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 0, "");
	if (err)
		return err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	err = mxo_stats_read(&m, cnt);
	if (err)
		goto out;
	c.lost_base = cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)];
	rb = ring_buffer__new(m.events, on_event, &c, NULL);
	if (!rb) {
		err = -errno;
		mxg_err("cannot open the ring buffer %s/mxo_events: %s", mxg_pin_dir(),
			strerror(errno));
		err = mxg_sys(err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	now = mxg_mono_ns();
	if (timeout_s)
		deadline = now + timeout_s * NSEC;
	while (!stop) {
		int n, wait_ms = 1000;

		now = mxg_mono_ns();
		if (deadline && deadline - now < 1000 * 1000000ull)
			wait_ms = deadline > now ? (int)((deadline - now) / 1000000) : 0;
		n = ring_buffer__poll(rb, wait_ms);
		if (n == EV_STOP)
			break;
		if (n < 0 && n != -EINTR) {
			err = mxg_sys(n);
			mxg_err("cannot read the ring buffer: %s", strerror(-n));
			break;
		}
		err = check_lost(&m, &c);
		if (err)
			break;
		if (deadline && mxg_mono_ns() >= deadline)
			break;
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
out:
	ring_buffer__free(rb);
	mxo_maps_close(&m);
	return err;
}

static int outbound_run(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "show", outbound_show }, { "attach", outbound_attach },
		{ "detach", outbound_detach }, { "set", outbound_set },
		{ "allow", outbound_allow }, { "events", outbound_events },
		{ NULL, NULL }
	};

	if (argc < 2 || argv[1][0] == '-')
		return outbound_show(argc, argv);
	return mxg_dispatch(&mxg_cmd_outbound, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_outbound = {
	.name = "outbound",
	.synopsis = "outbound [--json | --prometheus] [-n N]\n"
		    "outbound attach IFACE\n"
		    "outbound detach IFACE\n"
		    "outbound set [--warn N/min|off] [--cap N/min|off]\n"
		    "outbound allow add CIDR [--comment TEXT]\n"
		    "outbound allow del CIDR\n"
		    "outbound allow list [--json]\n"
		    "outbound events [--json] [--count N] [--timeout DURATION]",
	.summary = "the server's own new SMTP connections out: count, warn, cap",
	.help =
	"Watch what this server sends: a TC egress program (tcx link) counts new\n"
	"outbound connections (SYN without ACK) to remote ports 25, 465 and 587 in\n"
	"total, per destination network (IPv4 /24, IPv6 /48) and per local source\n"
	"address. A SYN the kernel retransmits counts again.\n\n"
	"  (no subcommand)  the counters, thresholds, warning and cap state, the\n"
	"                   busiest destination networks and sources with their\n"
	"                   rate over the last minute (-n N rows, default 20; all\n"
	"                   with --json)\n"
	"  attach IFACE     load the programs (once) and attach to IFACE's egress;\n"
	"                   pinned as mxo_link_tc_IFACE, so counting goes on after\n"
	"                   mxguard exits\n"
	"  detach IFACE     remove it; maps and settings stay for the next attach\n"
	"  set              thresholds on the total rate of new outbound SMTP\n"
	"                   connections. --warn RATE: above it a warn_start event\n"
	"                   and the warning flag (default 300/min). --cap RATE:\n"
	"                   above it new outbound SMTP connections are dropped,\n"
	"                   except to allowlisted destinations (default off).\n"
	"                   RATE is N/sec, N/min or N/hour, or off. Each gets a\n"
	"                   burst of 10 s of its rate, so a sustained excess is\n"
	"                   noticed within about 10 s.\n"
	"  allow add CIDR   destinations never capped (the smarthost, partners);\n"
	"                   still counted, and still part of the warning total\n"
	"  events           follow warn_start/warn_end, cap_start/cap_end and the\n"
	"                   local_limit_start/local_limit_end events of 'mxguard\n"
	"                   local', one line each (--json: JSON Lines {time, type,\n"
	"                   src|kind,id,name, dst, port, per_min}); the ring buffer\n"
	"                   has one reader at a time\n\n"
	"Options:\n"
	"  --json        {time, interfaces[{name, ifindex, link_id, present}],\n"
	"                config{warn, cap ({rate, n, per_s, burst} or null),\n"
	"                dst_prefix_v4, dst_prefix_v6, changed}, total{syns, per_min,\n"
	"                passed, allowlisted, capped, warn{active, since, episodes,\n"
	"                over}, cap{active, since, episodes}}, counters{PORT{pass,\n"
	"                allow, cap}}, tracked{destinations, sources},\n"
	"                destinations[{prefix, allowlisted (wholly), allowlist\n"
	"                [overlapping entries], syns, drops, per_min, first_seen,\n"
	"                last_seen}], sources[{addr, ...}], events_lost, rec_fail}\n"
	"  --prometheus  mxguard_outbound_syns_total{port,verdict},\n"
	"                mxguard_outbound_rate_per_minute, _warn_active,\n"
	"                _warn_episodes_total, _cap_active, _cap_episodes_total,\n"
	"                _destination_syns_total{prefix}, _source_syns_total{addr},\n"
	"                _events_lost_total\n\n"
	"Examples:\n"
	"  mxguard outbound attach eth0\n"
	"  mxguard outbound allow add 198.51.100.25 --comment \"smarthost\"\n"
	"  mxguard outbound set --warn 120/min --cap 600/min\n",
	.run = outbound_run,
};

/* ---- local: attach / detach --------------------------------------------------- */

/* A cgroup argument: a cgroup v2 directory, or (detach, allow del) the
 * numeric id of one that may be gone. */
static int cgroup_arg(const char *s, int id_ok, __u64 *id)
{
	const char *why;
	char *end;

	if (!mxo_cgroup_id(s, id, &why))
		return 0;
	if (id_ok && isdigit((unsigned char)*s)) {
		errno = 0;
		*id = strtoull(s, &end, 10);
		if (!errno && !*end && *id)
			return 0;
	}
	return mxg_usage(&mxg_cmd_local, "invalid cgroup '%s': %s", s, why);
}

static void cg_pin_names(__u64 id, char *n4, char *n6, size_t len)
{
	char ids[24];

	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	pin_name(n4, len, MXO_LINK_CG4_PREFIX, ids);
	pin_name(n6, len, MXO_LINK_CG6_PREFIX, ids);
}

/* 1 when the link pin `name` exists and is attached to cgroup `id`. */
static int cg_link_live(const char *name, __u64 id)
{
	struct bpf_link_info info;
	char path[PATH_MAX];
	int fd, ok;

	mxg_pin_path(path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	ok = !link_info(fd, &info) && info.type == BPF_LINK_TYPE_CGROUP &&
	     info.cgroup.cgroup_id == id;
	close(fd);
	return ok;
}

static int cg_link(int prog_fd, int cg_fd, enum bpf_attach_type type,
		   const char *name, const char *path)
{
	int fd, err;

	fd = bpf_link_create(prog_fd, cg_fd, type, NULL);
	if (fd < 0) {
		err = -errno;
		mxg_err("cannot attach to cgroup %s: %s", path, strerror(errno));
		return err == -EPERM ? err : mxg_sys(err);
	}
	err = link_pin(fd, name);
	if (err)
		bpf_link_detach(fd);
	close(fd);
	return err;
}

static int local_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int fds[NPROGS] = { -1, -1, -1 };
	char n4[64], n6[64];
	int opt, err, lock_fd, cg_fd = -1;
	const char *path;
	__u64 id;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_local);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1, "cgroup directory");
	if (err)
		return err;
	path = argv[optind];
	err = cgroup_arg(path, 0, &id);
	if (err)
		return err;
	lock_fd = attach_prepare();
	if (lock_fd < 0)
		return lock_fd;
	cg_pin_names(id, n4, n6, sizeof(n4));
	if (cg_link_live(n4, id) && cg_link_live(n6, id)) {
		printf("local: already attached to cgroup %s (id %llu)\n", path,
		       (unsigned long long)id);
		goto out;
	}
	link_remove(n4);
	link_remove(n6);
	err = progs_get(fds);
	if (err)
		goto out;
	cg_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		mxg_err("cannot open cgroup %s: %s", path, strerror(errno));
		err = mxg_sys(err);
		goto out;
	}
	err = cg_link(fds[PROG_C4], cg_fd, BPF_CGROUP_INET4_CONNECT, n4, path);
	if (!err)
		err = cg_link(fds[PROG_C6], cg_fd, BPF_CGROUP_INET6_CONNECT, n6, path);
	if (err) {
		link_remove(n4);
		goto out;
	}
	printf("local: counting connects to ports 25, 465 and 587 from cgroup %s (id %llu)\n",
	       path, (unsigned long long)id);
out:
	if (cg_fd >= 0)
		close(cg_fd);
	close_fds(fds, NPROGS);
	close(lock_fd);
	return err;
}

static int local_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char n4[64], n6[64];
	int opt, err, e6, lock_fd;
	__u64 id;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_local);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1, "cgroup directory or id");
	if (err)
		return err;
	err = cgroup_arg(argv[optind], 1, &id);
	if (err)
		return err;
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET);
	if (err)
		return err;
	if (access(mxg_pin_dir(), F_OK)) {
		mxg_err("local is not attached to cgroup '%s' (no pins in %s)",
			argv[optind], mxg_pin_dir());
		return -ENODEV;
	}
	lock_fd = mxg_lock(NULL, 30);
	if (lock_fd < 0)
		return lock_fd;
	cg_pin_names(id, n4, n6, sizeof(n4));
	err = link_remove(n4);
	e6 = link_remove(n6);
	if (err == -ENOENT && e6 == -ENOENT) {
		mxg_err("local is not attached to cgroup '%s' (id %llu)", argv[optind],
			(unsigned long long)id);
		err = -ENODEV;
	} else {
		if (err == -ENOENT)
			err = 0;
		if (!err && e6 != -ENOENT)
			err = e6;
		progs_release_if_unused();
		if (!err)
			printf("local: detached from cgroup %s\n", argv[optind]);
	}
	close(lock_fd);
	return err;
}

/* ---- local: set ----------------------------------------------------------------- */

static int local_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "uid-burst", required_argument, NULL, 'U' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "cgroup-burst", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	__u32 un = 0, up = 0, ub = 0, cn = 0, cp = 0, cb = 0;
	int opt, err, have_u = 0, have_c = 0;
	char us[48], cs[48];
	const char *why;
	struct mxo_maps m;
	struct mxo_cfg c;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "u:U:c:C:h", opts)) != -1) {
		switch (opt) {
		case 'u':
			err = parse_threshold(&mxg_cmd_local, "--uid", optarg, &un, &up);
			if (err)
				return err;
			have_u = 1;
			break;
		case 'c':
			err = parse_threshold(&mxg_cmd_local, "--cgroup", optarg, &cn, &cp);
			if (err)
				return err;
			have_c = 1;
			break;
		case 'U':
		case 'C':
			if (mxg_parse_u32(optarg, 1, 1000000, opt == 'U' ? &ub : &cb, &why))
				return mxg_usage(&mxg_cmd_local, "invalid --%s-burst '%s': %s",
						 opt == 'U' ? "uid" : "cgroup", optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_local); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 0, "");
	if (err)
		return err;
	if (!have_u && !have_c)
		return mxg_usage(&mxg_cmd_local, "nothing to set: give --uid and/or --cgroup");
	if ((ub && !have_u) || (cb && !have_c))
		return mxg_usage(&mxg_cmd_local, "a burst goes with its rate (--uid or --cgroup)");
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	err = mxo_cfg_load(&m, &c);
	if (err)
		goto out;
	if (have_u)
		mxo_limit_set(&c.uid_limit, un, up, ub);
	if (have_c)
		mxo_limit_set(&c.cg_limit, cn, cp, cb);
	c.changed_s = mxg_unix_s();
	err = mxo_cfg_store(&m, &c);
	if (err)
		goto out;
	limit_str(&c.uid_limit, us, sizeof(us));
	limit_str(&c.cg_limit, cs, sizeof(cs));
	printf("local: limit per uid %s, per cgroup %s\n", us, cs);
out:
	mxo_maps_close(&m);
	return err;
}

/* ---- local: allow (trust) ----------------------------------------------------- */

/* "1001" or a user name. */
static int uid_arg(const char *s, __u32 *uid)
{
	struct passwd *pw;
	const char *why;

	if (isdigit((unsigned char)*s)) {
		if (mxg_parse_u32(s, 0, UINT32_MAX - 1, uid, &why))
			return mxg_usage(&mxg_cmd_local, "invalid uid '%s': %s", s, why);
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return mxg_usage(&mxg_cmd_local, "invalid uid '%s': no such user", s);
	*uid = pw->pw_uid;
	return 0;
}

/* KIND VALUE -> key. */
static int trust_key(const char *kind, const char *val, int id_ok,
		     struct mxo_lkey *k)
{
	__u32 uid;
	int err;

	memset(k, 0, sizeof(*k));
	if (!strcmp(kind, "uid")) {
		err = uid_arg(val, &uid);
		k->kind = MXO_LK_UID;
		k->id = uid;
		return err;
	}
	if (!strcmp(kind, "cgroup")) {
		k->kind = MXO_LK_CGROUP;
		return cgroup_arg(val, id_ok, &k->id);
	}
	return mxg_usage(&mxg_cmd_local, "'%s' is neither 'uid' nor 'cgroup'", kind);
}

/* local allow uid N|cgroup PATH [--comment TEXT] */
static int trust_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *comment = "";
	struct mxo_trust t;
	struct mxo_lkey k;
	struct mxo_maps m;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': comment = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_local); return 0;
		default: return -EINVAL;
		}
	}
	/* argv[0] is the kind itself ("uid", "cgroup"): one value after it. */
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1,
			    !strcmp(argv[0], "uid") ? "uid" : "cgroup directory");
	if (err)
		return err;
	err = trust_key(argv[0], argv[optind], 0, &k);
	if (err)
		return err;
	if (strlen(comment) >= MXG_COMMENT_LEN)
		return mxg_usage(&mxg_cmd_local, "comment '%s' is too long (at most %d bytes)",
				 comment, MXG_COMMENT_LEN - 1);
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	if (bpf_map_lookup_elem(m.trust, &k, &t)) {
		memset(&t, 0, sizeof(t));
		t.added_s = mxg_unix_s();
	}
	memset(t.comment, 0, sizeof(t.comment));
	snprintf(t.comment, sizeof(t.comment), "%s", comment);
	if (bpf_map_update_elem(m.trust, &k, &t, BPF_ANY)) {
		err = -errno;
		mxg_err("cannot write the trust map: %s%s", strerror(errno),
			errno == E2BIG || errno == ENOSPC ? " (full)" : "");
		err = mxg_sys(err);
	} else {
		printf("local: trusted %s %s (id %llu)\n", mxo_lkind_name(k.kind),
		       argv[optind], (unsigned long long)k.id);
	}
	mxo_maps_close(&m);
	return err;
}

static int trust_del(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxo_lkey k;
	struct mxo_maps m;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_local);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 2, "uid N or cgroup PATH|ID");
	if (err)
		return err;
	err = trust_key(argv[optind], argv[optind + 1], 1, &k);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	if (bpf_map_delete_elem(m.trust, &k)) {
		err = errno == ENOENT ? -ENOENT : mxg_sys(-errno);
		mxg_err("%s %s is not trusted", argv[optind], argv[optind + 1]);
	} else {
		printf("local: no longer trusted: %s %s\n", argv[optind], argv[optind + 1]);
	}
	mxo_maps_close(&m);
	return err;
}

struct trust_row {
	struct mxo_lkey k;
	struct mxo_trust t;
	char path[PATH_MAX]; /* cgroup path, "" if unknown */
};

static int trust_read(const struct mxo_maps *m, struct trust_row **out, size_t *n)
{
	struct trust_row *rows;
	char (*paths)[PATH_MAX];
	__u8 *k, *v;
	__u64 *ids;
	size_t i;
	int err;

	err = read_all(m->trust, sizeof(struct mxo_lkey), sizeof(struct mxo_trust),
		       &k, &v, n);
	if (err)
		return err;
	rows = calloc(*n ? *n : 1, sizeof(*rows));
	ids = calloc(*n ? *n : 1, sizeof(*ids));
	paths = calloc(*n ? *n : 1, sizeof(*paths));
	if (!rows || !ids || !paths) {
		free(rows);
		rows = NULL;
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < *n; i++) {
		memcpy(&rows[i].k, k + i * sizeof(struct mxo_lkey), sizeof(struct mxo_lkey));
		memcpy(&rows[i].t, v + i * sizeof(struct mxo_trust), sizeof(struct mxo_trust));
		ids[i] = rows[i].k.kind == MXO_LK_CGROUP ? rows[i].k.id : 0;
	}
	mxo_cgroup_paths(ids, *n, paths);
	for (i = 0; i < *n; i++)
		if (ids[i])
			memcpy(rows[i].path, paths[i], PATH_MAX);
	*out = rows;
out:
	free(ids);
	free(paths);
	free(k);
	free(v);
	return err;
}

static void json_trust(struct mxg_json *j, const struct trust_row *r, size_t n)
{
	size_t i;

	mxg_json_arr(j, "trusted");
	for (i = 0; i < n; i++) {
		mxg_json_obj(j, NULL);
		mxg_json_str(j, "kind", mxo_lkind_name(r[i].k.kind));
		mxg_json_u64(j, "id", r[i].k.id);
		if (r[i].k.kind == MXO_LK_UID)
			mxg_json_str(j, "name", user_name((__u32)r[i].k.id));
		else
			mxg_json_str(j, "name", r[i].path[0] ? r[i].path : NULL);
		mxg_json_str(j, "comment", r[i].t.comment);
		mxg_json_time(j, "added", r[i].t.added_s);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

static int trust_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct trust_row *r = NULL;
	struct mxo_maps m;
	int opt, err, json = 0;
	size_t n = 0, i;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_local); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 0, "");
	if (err)
		return err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	err = trust_read(&m, &r, &n);
	mxo_maps_close(&m);
	if (err)
		return err;
	if (json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		json_trust(&j, r, n);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (!n) {
		printf("no trusted uids or cgroups\n");
	} else {
		for (i = 0; i < n; i++) {
			const char *name = r[i].k.kind == MXO_LK_UID ?
				user_name((__u32)r[i].k.id) : r[i].path;

			printf("%-6s %-10llu %-30s %s\n", mxo_lkind_name(r[i].k.kind),
			       (unsigned long long)r[i].k.id,
			       name && *name ? name : "?", r[i].t.comment);
		}
	}
	free(r);
	return 0;
}

static int local_allow(int argc, char **argv)
{
	static char full[48];
	int (*run)(int, char **) = NULL;

	if (argc < 2)
		return mxg_usage(&mxg_cmd_local, "missing 'uid', 'cgroup', 'del' or 'list'");
	if (!strcmp(argv[1], "uid") || !strcmp(argv[1], "cgroup"))
		run = trust_add;
	else if (!strcmp(argv[1], "del"))
		run = trust_del;
	else if (!strcmp(argv[1], "list"))
		run = trust_list;
	if (!run)
		return mxg_usage(&mxg_cmd_local, "unknown subcommand 'allow %s'", argv[1]);
	snprintf(full, sizeof(full), "local allow %s", argv[1]);
	mxg_cmd = full;
	return run(argc - 1, argv + 1);
}

/* ---- local: show ---------------------------------------------------------------- */

struct lrow {
	struct mxo_lkey k;
	struct mxo_lrec r;
	__u32 per_min;
	int limited, trusted;
	char name[PATH_MAX]; /* user name or cgroup path; "" if unknown */
};

static int lrow_cmp(const void *a, const void *b)
{
	const struct lrow *x = a, *y = b;

	if (x->k.kind != y->k.kind)
		return (int)x->k.kind - (int)y->k.kind;
	if (x->r.refused != y->r.refused)
		return x->r.refused < y->r.refused ? 1 : -1;
	if (x->r.conns != y->r.conns)
		return x->r.conns < y->r.conns ? 1 : -1;
	return x->k.id < y->k.id ? -1 : x->k.id > y->k.id;
}

/* Trusted directly, or (cgroups) below a trusted cgroup's path. */
static int row_trusted(const struct lrow *l, const struct trust_row *t, size_t nt)
{
	size_t i, len;

	for (i = 0; i < nt; i++) {
		if (t[i].k.kind != l->k.kind)
			continue;
		if (t[i].k.id == l->k.id)
			return 1;
		if (l->k.kind != MXO_LK_CGROUP || !t[i].path[0] || !l->name[0])
			continue;
		len = strlen(t[i].path);
		if (!strcmp(t[i].path, "/") ||
		    (!strncmp(l->name, t[i].path, len) && l->name[len] == '/'))
			return 1;
	}
	return 0;
}

struct cg_attached {
	__u64 id;
	char path[PATH_MAX];
};

struct local_state {
	struct mxo_cfg cfg;
	__u64 cnt[MXO_NCOUNTERS];
	struct lrow *rows;
	size_t n, nuid;
	struct trust_row *trust;
	size_t ntrust;
	struct cg_attached *att;
	size_t natt;
};

/* cgroup ids with a connect4 link pin. */
static int cg_attached_read(struct local_state *s)
{
	size_t plen = strlen(MXO_LINK_CG4_PREFIX), cap = 0;
	DIR *d = opendir(mxg_pin_dir());
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct cg_attached *na;

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
		s->att[s->natt].path[0] = '\0';
		s->natt++;
	}
	if (d)
		closedir(d);
	return 0;
}

static int local_state_read(const struct mxo_maps *m, struct local_state *s)
{
	char (*paths)[PATH_MAX] = NULL;
	__u64 now = mxg_mono_ns(), *ids = NULL;
	size_t i, nids;
	__u8 *k = NULL, *v = NULL;
	int err;

	err = mxo_cfg_load(m, &s->cfg);
	if (!err)
		err = mxo_stats_read(m, s->cnt);
	if (!err)
		err = trust_read(m, &s->trust, &s->ntrust);
	if (!err)
		err = cg_attached_read(s);
	if (!err)
		err = read_all(m->local, sizeof(struct mxo_lkey),
			       sizeof(struct mxo_lrec), &k, &v, &s->n);
	if (err)
		return err;
	s->rows = calloc(s->n ? s->n : 1, sizeof(*s->rows));
	nids = s->n + s->natt;
	ids = calloc(nids ? nids : 1, sizeof(*ids));
	paths = calloc(nids ? nids : 1, sizeof(*paths));
	if (!s->rows || !ids || !paths) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		struct lrow *l = &s->rows[i];
		const struct mxg_limit *lim;

		memcpy(&l->k, k + i * sizeof(struct mxo_lkey), sizeof(l->k));
		memcpy(&l->r, v + i * sizeof(struct mxo_lrec), sizeof(l->r));
		lim = l->k.kind == MXO_LK_UID ? &s->cfg.uid_limit : &s->cfg.cg_limit;
		l->per_min = mxo_win_per_min(&l->r.win, now);
		l->limited = (l->r.flags & MXO_LF_LIMITED) && lim->interval_ns &&
			     !mxg_bucket_full(l->r.tat_ns, now);
		ids[i] = l->k.kind == MXO_LK_CGROUP ? l->k.id : 0;
		if (l->k.kind == MXO_LK_UID) {
			const char *u = user_name((__u32)l->k.id);

			snprintf(l->name, sizeof(l->name), "%s", u ? u : "");
			s->nuid++;
		}
	}
	for (i = 0; i < s->natt; i++)
		ids[s->n + i] = s->att[i].id;
	mxo_cgroup_paths(ids, nids, paths);
	for (i = 0; i < s->n; i++)
		if (ids[i])
			memcpy(s->rows[i].name, paths[i], PATH_MAX);
	for (i = 0; i < s->natt; i++)
		memcpy(s->att[i].path, paths[s->n + i], PATH_MAX);
	for (i = 0; i < s->n; i++)
		s->rows[i].trusted = row_trusted(&s->rows[i], s->trust, s->ntrust);
	if (s->n)
		qsort(s->rows, s->n, sizeof(*s->rows), lrow_cmp);
out:
	free(ids);
	free(paths);
	free(k);
	free(v);
	return err;
}

static void local_state_free(struct local_state *s)
{
	free(s->rows);
	free(s->trust);
	free(s->att);
}

static void json_lrows(struct mxg_json *j, const char *key,
		       const struct lrow *rows, size_t n, size_t limit)
{
	size_t i;

	mxg_json_arr(j, key);
	for (i = 0; i < n && i < limit; i++) {
		const struct lrow *l = &rows[i];
		char comm[MXO_COMM_LEN + 1];

		snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
		mxg_json_obj(j, NULL);
		if (l->k.kind == MXO_LK_UID) {
			mxg_json_u64(j, "uid", l->k.id);
			mxg_json_str(j, "user", l->name[0] ? l->name : NULL);
		} else {
			mxg_json_u64(j, "id", l->k.id);
			mxg_json_str(j, "path", l->name[0] ? l->name : NULL);
		}
		mxg_json_u64(j, "conns", l->r.conns);
		mxg_json_u64(j, "refused", l->r.refused);
		mxg_json_u64(j, "per_min", l->per_min);
		mxg_json_bool(j, "limited", l->limited);
		mxg_json_bool(j, "trusted", l->trusted);
		mxg_json_time(j, "first_seen", mxg_mono_to_unix(l->r.first_ns));
		mxg_json_time(j, "last_seen", mxg_mono_to_unix(l->r.last_ns));
		mxg_json_str(j, "last_comm", comm);
		if (l->k.kind == MXO_LK_UID)
			mxg_json_u64(j, "last_cgroup", l->r.last_cgid);
		else
			mxg_json_u64(j, "last_uid", l->r.last_uid);
		mxg_json_obj_end(j);
	}
	mxg_json_arr_end(j);
}

static void local_json(const struct local_state *s, size_t limit)
{
	struct mxg_json j;
	unsigned p, v;
	size_t i;

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_time(&j, "time", mxg_unix_s());
	mxg_json_arr(&j, "cgroups_attached");
	for (i = 0; i < s->natt; i++) {
		mxg_json_obj(&j, NULL);
		mxg_json_u64(&j, "id", s->att[i].id);
		mxg_json_str(&j, "path", s->att[i].path[0] ? s->att[i].path : NULL);
		mxg_json_obj_end(&j);
	}
	mxg_json_arr_end(&j);
	mxg_json_obj(&j, "config");
	json_limit(&j, "uid_limit", &s->cfg.uid_limit);
	json_limit(&j, "cgroup_limit", &s->cfg.cg_limit);
	mxg_json_obj_end(&j);
	mxg_json_obj(&j, "counters");
	for (p = 0; p < MXO_PORT_MAX; p++) {
		mxg_json_obj(&j, mxo_port_name(p));
		for (v = 0; v < MXO_LV_MAX; v++)
			mxg_json_u64(&j, mxo_lverdict_name(v), s->cnt[MXO_LO_IDX(p, v)]);
		mxg_json_obj_end(&j);
	}
	mxg_json_obj_end(&j);
	json_lrows(&j, "uids", s->rows, s->nuid, limit);
	json_lrows(&j, "cgroups", s->rows + s->nuid, s->n - s->nuid, limit);
	json_trust(&j, s->trust, s->ntrust);
	mxg_json_u64(&j, "events_lost", s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static void local_prometheus(const struct local_state *s, size_t limit)
{
	static const char *const what[] = { "connects", "refused" };
	unsigned p, v, w;
	size_t i;

	printf("# HELP mxguard_local_connects_total Local connects to ports 25, 465 and 587 from watched cgroups, by port and verdict.\n");
	printf("# TYPE mxguard_local_connects_total counter\n");
	for (p = 0; p < MXO_PORT_MAX; p++)
		for (v = 0; v < MXO_LV_MAX; v++)
			printf("mxguard_local_connects_total{port=\"%s\",verdict=\"%s\"} %llu\n",
			       mxo_port_name(p), mxo_lverdict_name(v),
			       (unsigned long long)s->cnt[MXO_LO_IDX(p, v)]);
	for (w = 0; w < 2; w++) {
		printf("# HELP mxguard_local_uid_%s_total Local mail connects %s, per uid.\n",
		       what[w], w ? "refused" : "made");
		printf("# TYPE mxguard_local_uid_%s_total counter\n", what[w]);
		for (i = 0; i < s->nuid && i < limit; i++) {
			char lab[2 * PATH_MAX];

			prom_label(s->rows[i].name, lab, sizeof(lab));
			printf("mxguard_local_uid_%s_total{uid=\"%llu\",user=\"%s\"} %llu\n",
			       what[w], (unsigned long long)s->rows[i].k.id, lab,
			       (unsigned long long)(w ? s->rows[i].r.refused : s->rows[i].r.conns));
		}
		printf("# HELP mxguard_local_cgroup_%s_total Local mail connects %s, per cgroup.\n",
		       what[w], w ? "refused" : "made");
		printf("# TYPE mxguard_local_cgroup_%s_total counter\n", what[w]);
		for (i = s->nuid; i < s->n && i - s->nuid < limit; i++) {
			char lab[2 * PATH_MAX];

			prom_label(s->rows[i].name, lab, sizeof(lab));
			printf("mxguard_local_cgroup_%s_total{cgroup_id=\"%llu\",cgroup=\"%s\"} %llu\n",
			       what[w], (unsigned long long)s->rows[i].k.id, lab,
			       (unsigned long long)(w ? s->rows[i].r.refused : s->rows[i].r.conns));
		}
	}
	printf("# HELP mxguard_local_limited 1 while a uid or cgroup is over its limit.\n");
	printf("# TYPE mxguard_local_limited gauge\n");
	for (i = 0; i < s->n; i++) {
		char lab[2 * PATH_MAX];

		if (!s->rows[i].limited)
			continue;
		prom_label(s->rows[i].name, lab, sizeof(lab));
		printf("mxguard_local_limited{kind=\"%s\",id=\"%llu\",name=\"%s\"} 1\n",
		       mxo_lkind_name(s->rows[i].k.kind),
		       (unsigned long long)s->rows[i].k.id, lab);
	}
}

static void local_table(const struct local_state *s, size_t limit)
{
	static const char *head[] = { "KIND", "ID", "NAME", "CONNS", "REFUSED",
				      "PER MIN", "STATE", "LAST SEEN", "LAST COMMAND" };
	struct mxg_table t;
	char us[48], cs[48];
	size_t i, nu = 0, nc = 0;

	if (!s->natt) {
		printf("local: not attached to any cgroup ('mxguard local attach CGROUP')\n");
	} else {
		printf("local: watching cgroup");
		for (i = 0; i < s->natt; i++)
			printf(" %s", s->att[i].path[0] ? s->att[i].path : "(gone)");
		printf("\n");
	}
	limit_str(&s->cfg.uid_limit, us, sizeof(us));
	limit_str(&s->cfg.cg_limit, cs, sizeof(cs));
	printf("limits: per uid %s, per cgroup %s; %zu trusted\n\n", us, cs, s->ntrust);
	if (!s->n) {
		printf("no local connects to mail ports seen yet\n");
		return;
	}
	mxg_table_init(&t, 9, head, 0x3a);
	for (i = 0; i < s->n; i++) {
		const struct lrow *l = &s->rows[i];
		char id[24], co[16], re[16], pm[16], ls[32], comm[MXO_COMM_LEN + 1];
		const char *cells[9] = { mxo_lkind_name(l->k.kind), id,
			l->name[0] ? l->name : "?", co, re, pm,
			l->trusted ? "trusted" : l->limited ? "LIMITED" : "ok", ls, comm };

		if (l->k.kind == MXO_LK_UID ? nu++ >= limit : nc++ >= limit)
			continue;
		snprintf(id, sizeof(id), "%llu", (unsigned long long)l->k.id);
		mxg_format_count(l->r.conns, co, sizeof(co));
		mxg_format_count(l->r.refused, re, sizeof(re));
		snprintf(pm, sizeof(pm), "%u", l->per_min);
		mxg_format_time(mxg_mono_to_unix(l->r.last_ns), ls, sizeof(ls));
		snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
}

static int local_show(int argc, char **argv)
{
	struct local_state *s;
	struct show_opts o;
	struct mxo_maps m;
	int err;

	err = show_parse(&mxg_cmd_local, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s) {
		mxo_maps_close(&m);
		return -ENOMEM;
	}
	err = local_state_read(&m, s);
	mxo_maps_close(&m);
	if (!err) {
		if (o.json)
			local_json(s, o.limit);
		else if (o.prom)
			local_prometheus(s, o.limit);
		else
			local_table(s, o.limit);
	}
	local_state_free(s);
	free(s);
	return err;
}

static int local_run(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "show", local_show }, { "attach", local_attach },
		{ "detach", local_detach }, { "set", local_set },
		{ "allow", local_allow },
		{ NULL, NULL }
	};

	if (argc < 2 || argv[1][0] == '-')
		return local_show(argc, argv);
	return mxg_dispatch(&mxg_cmd_local, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_local = {
	.name = "local",
	.synopsis = "local [--json | --prometheus] [-n N]\n"
		    "local attach CGROUP\n"
		    "local detach CGROUP|ID\n"
		    "local set [--uid N/min|off [--uid-burst N]] [--cgroup N/min|off [--cgroup-burst N]]\n"
		    "local allow uid UID|USER [--comment TEXT]\n"
		    "local allow cgroup CGROUP [--comment TEXT]\n"
		    "local allow del uid UID|USER | cgroup CGROUP|ID\n"
		    "local allow list [--json]",
	.summary = "local submitters (web apps, scripts) per uid and cgroup",
	.help =
	"Watch who on this host connects to mail ports: cgroup connect programs\n"
	"(IPv4 and IPv6) on a cgroup v2 directory (and everything below it) count\n"
	"TCP connect() calls to ports 25, 465 and 587, to any address, loopback\n"
	"included, per uid and per cgroup, and refuse them over the limits\n"
	"(connect() fails with EPERM).\n\n"
	"  (no subcommand)  uids (with user names) and cgroups (with paths below\n"
	"                   the cgroup v2 mount) that connected: connects, refused,\n"
	"                   rate over the last minute, limited now or trusted, the\n"
	"                   last command name\n"
	"  attach CGROUP    e.g. /sys/fs/cgroup/system.slice/php-fpm.service;\n"
	"                   pinned as mxo_link_cg4_ID and mxo_link_cg6_ID\n"
	"  detach CGROUP|ID remove them (the id when the directory is gone)\n"
	"  set              a token bucket per uid and one per cgroup (RATE N/sec,\n"
	"                   N/min or N/hour, or off; burst default 10 s of the\n"
	"                   rate); a connect needs a token from both. Default: off,\n"
	"                   count only\n"
	"  allow            trusted uids (number or user name) and cgroups (a\n"
	"                   trusted cgroup covers everything below it): counted,\n"
	"                   never refused\n"
	"Events (local_limit_start/_end) come with 'mxguard outbound events'.\n\n"
	"Options:\n"
	"  --json        {time, cgroups_attached[{id, path}], config{uid_limit,\n"
	"                cgroup_limit}, counters{PORT{pass, trusted, limit_uid,\n"
	"                limit_cgroup}}, uids[{uid, user, conns, refused, per_min,\n"
	"                limited, trusted, first_seen, last_seen, last_comm,\n"
	"                last_cgroup}], cgroups[{id, path, ..., last_uid}],\n"
	"                trusted[{kind, id, name, comment, added}], events_lost}\n"
	"  --prometheus  mxguard_local_connects_total{port,verdict},\n"
	"                mxguard_local_uid_connects_total{uid,user},\n"
	"                _uid_refused_total, _cgroup_connects_total{cgroup_id,\n"
	"                cgroup}, _cgroup_refused_total, mxguard_local_limited\n\n"
	"Examples:\n"
	"  mxguard local attach /sys/fs/cgroup/system.slice/php-fpm.service\n"
	"  mxguard local set --uid 20/min --cgroup 60/min\n"
	"  mxguard local allow uid postfix --comment \"the MTA itself\"\n",
	.run = local_run,
};

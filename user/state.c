// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* State snapshot: write atomically, restore after a reboot. One JSON object
 * per line (gzip), so a million entries restore in constant memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include "state.h"
#include "addr.h"
#include "cfg.h"
#include "lists.h"
#include "log.h"
#include "out.h"
#include "units.h"

#define LINE_MAX_LEN 4096
#define BATCH 65536

const char *mxg_state_dir(const char *conf_dir)
{
	const char *e = getenv("MXGUARD_STATE_DIR");

	if (e && *e)
		return e;
	return conf_dir && *conf_dir ? conf_dir : MXG_STATE_DIR_DEFAULT;
}

int mxg_state_dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		mxg_err("cannot create state directory %s: %s", dir, strerror(errno));
		return err;
	}
	if (lstat(dir, &st)) {
		int err = -errno;

		mxg_err("cannot stat state directory %s: %s", dir, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		mxg_err("state directory %s is not a directory (a symlink is not followed)", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		mxg_err("state directory %s must be owned by uid %u and not writable by others",
			dir, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

/* A FILE over a gzFile, so the streaming JSON writer can write into it. */
static ssize_t gz_write_cb(void *cookie, const char *buf, size_t n)
{
	int w = gzwrite((gzFile)cookie, buf, n);

	return w <= 0 && n ? -1 : w;
}

struct wctx {
	FILE *f;
	const struct mxg_maps *m;
	struct mxg_names names;
	__u64 now_s, now_ns;
	struct mxg_state_stats *st;
};

static void line_begin(struct mxg_json *j, FILE *f, const char *type)
{
	mxg_json_init(j, f);
	mxg_json_obj(j, NULL);
	mxg_json_str(j, "type", type);
}

static void line_end(struct mxg_json *j)
{
	mxg_json_obj_end(j);
	fputc('\n', j->f);
}

static int write_allow(const struct mxg_allow_entry *e, void *ctx)
{
	struct wctx *w = ctx;
	char cs[MXG_CIDR_STRLEN];
	struct mxg_json j;

	mxg_cidr_format(&e->cidr, cs, sizeof(cs));
	line_begin(&j, w->f, "allow");
	mxg_json_str(&j, "cidr", cs);
	mxg_json_str(&j, "comment", e->v.comment);
	mxg_json_u64(&j, "added_s", e->v.added_s);
	line_end(&j);
	w->st->allow++;
	return ferror(w->f) ? -EIO : 0;
}

static int write_block(const struct mxg_block_entry *e, void *ctx)
{
	struct wctx *w = ctx;
	char cs[MXG_CIDR_STRLEN];
	struct mxg_json j;

	if (mxg_block_expired(&e->v, w->now_ns))
		return 0;
	mxg_cidr_format(&e->cidr, cs, sizeof(cs));
	line_begin(&j, w->f, "block");
	mxg_json_str(&j, "cidr", cs);
	mxg_json_str(&j, "feed", w->names.feed[e->v.feed_id < MXG_MAX_FEEDS ? e->v.feed_id : 0]);
	mxg_json_str(&j, "reason", mxg_names_reason(&w->names, e->v.reason_id));
	mxg_json_u64(&j, "added_s", e->v.added_s);
	if (e->v.expires_ns)
		mxg_json_u64(&j, "expires_s",
			     w->now_s + (e->v.expires_ns - w->now_ns + 999999999ull) / 1000000000ull);
	else
		mxg_json_null(&j, "expires_s");
	line_end(&j);
	w->st->block++;
	return ferror(w->f) ? -EIO : 0;
}

static void write_cfg(FILE *f, const struct mxg_cfg *c)
{
	struct mxg_json j;
	unsigned s, p;

	line_begin(&j, f, "cfg");
	mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
	mxg_json_u64(&j, "mode_since_s", c->mode_since_s);
	mxg_json_u64(&j, "v4_prefix", c->v4_prefix);
	mxg_json_u64(&j, "v6_prefix", c->v6_prefix);
	mxg_json_u64(&j, "v4_network_prefix", mxg_cfg_net0(c)->len4);
	mxg_json_u64(&j, "v6_network_prefix", mxg_cfg_net0(c)->len6);
	mxg_json_obj(&j, "limits");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		mxg_json_obj(&j, mxg_svc_name(s));
		mxg_json_u64(&j, "rate_n", c->limit[s].rate_n);
		mxg_json_u64(&j, "per_s", c->limit[s].rate_per_s);
		mxg_json_u64(&j, "burst", c->limit[s].burst);
		mxg_json_u64(&j, "prefix_rate_n", c->plimit[s].rate_n);
		mxg_json_u64(&j, "prefix_per_s", c->plimit[s].rate_per_s);
		mxg_json_u64(&j, "prefix_burst", c->plimit[s].burst);
		mxg_json_u64(&j, "prefix_v4", c->net[s].len4);
		mxg_json_u64(&j, "prefix_v6", c->net[s].len6);
		mxg_json_arr(&j, "ports");
		for (p = 0; p < MXG_NPORTS; p++)
			if (c->port_svc[p] == s)
				mxg_json_u64(&j, NULL, p);
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
	}
	mxg_json_obj_end(&j);
	line_end(&j);
}

int mxg_atomic_write(const char *dir, const char *name, int gzip,
		     int (*fill)(FILE *f, void *ctx), void *ctx)
{
	cookie_io_functions_t io = { .write = gz_write_cb };
	int dfd, fd = -1, err = 0;
	gzFile gz = NULL;
	FILE *f = NULL;
	char tmp[300];

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		mxg_err("cannot open state directory %s: %s", dir, strerror(errno));
		return err;
	}
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		mxg_err("cannot create %s/%s: %s", dir, tmp, strerror(errno));
		close(dfd);
		return err;
	}
	if (gzip) {
		gz = gzdopen(dup(fd), "wb6");
		f = gz ? fopencookie(gz, "w", io) : NULL;
	} else {
		f = fdopen(dup(fd), "w");
	}
	err = f ? fill(f, ctx) : -ENOMEM;
	if (f && (fflush(f) || ferror(f)))
		err = err ? err : -EIO;
	if (f)
		fclose(f);
	if (gz && gzclose(gz) != Z_OK)
		err = err ? err : -EIO;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && renameat(dfd, tmp, dfd, name))
		err = -errno;
	if (!err && fsync(dfd))
		err = -errno;
	if (err) {
		unlinkat(dfd, tmp, 0);
		mxg_err("cannot write %s/%s: %s", dir, name, strerror(-err));
	}
	close(dfd);
	return err;
}

static int fill_state(FILE *f, void *ctx)
{
	struct wctx *w = ctx;
	const struct mxg_maps *m = w->m;
	struct mxg_state_stats *st = w->st;
	char host[256] = "";
	struct mxg_cfg *c;
	struct mxg_json j;
	__u32 i;
	int err;

	c = mxg_cfg_load(m);
	if (!c)
		return -ENOMEM;
	w->f = f;
	gethostname(host, sizeof(host) - 1);
	line_begin(&j, f, "meta");
	mxg_json_u64(&j, "schema_version", MXG_STATE_SCHEMA);
	mxg_json_time(&j, "written", w->now_s);
	mxg_json_u64(&j, "written_s", w->now_s);
	mxg_json_str(&j, "host", host);
	mxg_json_u64(&j, "abi", MXG_ABI_VERSION);
	line_end(&j);
	write_cfg(f, c);
	free(c);
	for (i = 1; i < MXG_MAX_FEEDS; i++) {
		struct mxg_feed fd_;

		if (bpf_map_lookup_elem(m->feeds, &i, &fd_) || !fd_.name[0])
			continue;
		line_begin(&j, f, "feed");
		mxg_json_str(&j, "name", w->names.feed[i]);
		mxg_json_u64(&j, "created_s", fd_.created_s);
		mxg_json_u64(&j, "synced_s", fd_.synced_s);
		line_end(&j);
		st->feeds++;
	}
	err = mxg_allow_each(m, write_allow, w);
	if (!err)
		err = mxg_block_each(m, write_block, w);
	if (!err) {
		line_begin(&j, f, "end");
		mxg_json_u64(&j, "allow", st->allow);
		mxg_json_u64(&j, "block", st->block);
		line_end(&j);
	}
	return err;
}

int mxg_state_write(const struct mxg_maps *m, const char *dir,
		    struct mxg_state_stats *st)
{
	struct wctx w = { 0 };
	int err;

	memset(st, 0, sizeof(*st));
	w.m = m;
	w.st = st;
	w.now_s = mxg_unix_s();
	w.now_ns = mxg_mono_ns();
	err = mxg_names_load(m, &w.names);
	if (!err)
		err = mxg_atomic_write(dir, MXG_STATE_FILE, 1, fill_state, &w);
	mxg_names_free(&w.names);
	return err;
}

/* ---- restore ------------------------------------------------------------- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static __u64 jnum(struct json_object *o, const char *k, int *present)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)) {
		if (present)
			*present = 1;
		return (__u64)json_object_get_int64(v);
	}
	if (present)
		*present = 0;
	return 0;
}

/* A network length saved under k, min..max; dflt when absent or out of
 * range. */
static unsigned net_len(struct json_object *o, const char *k, unsigned min,
			unsigned max, unsigned dflt)
{
	__u64 n = jnum(o, k, NULL);

	return n >= min && n <= max ? (unsigned)n : dflt;
}

static int restore_cfg(const struct mxg_maps *m, struct json_object *o)
{
	struct json_object *lims, *l, *ports;
	struct mxg_cfg *c = mxg_cfg_load(m);
	unsigned s, p;
	int mode, err;
	const char *ms;

	if (!c)
		return -EIO;
	ms = jstr(o, "mode");
	mode = ms ? mxg_mode_by_name(ms) : -1;
	if (mode >= 0) {
		c->mode = mode;
		c->mode_since_s = jnum(o, "mode_since_s", NULL);
	}
	mxg_cfg_set_prefixes(c, jnum(o, "v4_prefix", NULL) ?: c->v4_prefix,
			     jnum(o, "v6_prefix", NULL) ?: c->v6_prefix);
	/* The one pair of network lengths of older state files, for every
	 * service; a service's own lengths, where saved, replace it. */
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		mxg_cfg_set_net(c, s, net_len(o, "v4_network_prefix", MXG_NET_MIN_V4, 32, c->net[s].len4),
				net_len(o, "v6_network_prefix", MXG_NET_MIN_V6, 128, c->net[s].len6));
	if (json_object_object_get_ex(o, "limits", &lims)) {
		for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
			if (!json_object_object_get_ex(lims, mxg_svc_name(s), &l))
				continue;
			mxg_cfg_set_limit(c, s, jnum(l, "rate_n", NULL), jnum(l, "per_s", NULL),
					  jnum(l, "burst", NULL));
			mxg_cfg_set_plimit(c, s, jnum(l, "prefix_rate_n", NULL),
					   jnum(l, "prefix_per_s", NULL),
					   jnum(l, "prefix_burst", NULL));
			mxg_cfg_set_net(c, s, net_len(l, "prefix_v4", MXG_NET_MIN_V4, 32, c->net[s].len4),
					net_len(l, "prefix_v6", MXG_NET_MIN_V6, 128, c->net[s].len6));
			if (!json_object_object_get_ex(l, "ports", &ports) ||
			    !json_object_is_type(ports, json_type_array))
				continue;
			for (p = 0; p < MXG_NPORTS; p++)
				if (c->port_svc[p] == s)
					c->port_svc[p] = MXG_SVC_NONE;
			for (p = 0; p < json_object_array_length(ports); p++) {
				int port = json_object_get_int(json_object_array_get_idx(ports, p));

				if (port > 0 && port < MXG_NPORTS)
					c->port_svc[port] = s;
			}
		}
	}
	err = mxg_cfg_store(m, c);
	free(c);
	return err;
}

/* Reason ids of restored entries: a million entries share a few texts. */
struct reason_cache {
	char text[MXG_REASON_LEN];
	__u32 id;
};

static int reason_for(const struct mxg_maps *m, struct reason_cache *rc,
		      size_t nrc, const char *text, __u32 *id)
{
	size_t i, slot;

	if (!text || !*text) {
		*id = 0;
		return 0;
	}
	slot = strlen(text) % nrc;
	for (i = 0; i < nrc; i++) {
		struct reason_cache *r = &rc[(slot + i) % nrc];

		if (r->id && !strncmp(r->text, text, sizeof(r->text))) {
			*id = r->id;
			return 0;
		}
		if (!r->id) {
			int err = mxg_reason_id(m, text, id);

			if (!err) {
				snprintf(r->text, sizeof(r->text), "%s", text);
				r->id = *id;
			}
			return err;
		}
	}
	return mxg_reason_id(m, text, id);
}

int mxg_state_restore(const struct mxg_maps *m, const char *dir,
		      struct mxg_state_stats *st)
{
	struct reason_cache rc[256];
	struct mxg_cidr *bc = NULL;
	struct mxg_block_val *bv = NULL;
	size_t nb = 0, lineno = 0;
	char path[4096], *line = NULL;
	__u64 now_s = mxg_unix_s(), now_ns = mxg_mono_ns();
	gzFile gz;
	int fd, err = 0;

	memset(st, 0, sizeof(*st));
	memset(rc, 0, sizeof(rc));
	snprintf(path, sizeof(path), "%s/%s", dir, MXG_STATE_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	gz = gzdopen(fd, "rb");
	line = malloc(LINE_MAX_LEN);
	bc = malloc(BATCH * sizeof(*bc));
	bv = malloc(BATCH * sizeof(*bv));
	if (!gz || !line || !bc || !bv) {
		err = -ENOMEM;
		goto out;
	}
	while (!err && gzgets(gz, line, LINE_MAX_LEN)) {
		struct json_object *o = json_tokener_parse(line);
		const char *type, *cs, *why;
		struct mxg_cidr c;

		lineno++;
		if (!o) {
			mxg_err("%s:%zu: not a JSON object; restore stopped", path, lineno);
			err = -EINVAL;
			break;
		}
		type = jstr(o, "type");
		cs = jstr(o, "cidr");
		if (!type) {
			/* unknown line: skip (a newer writer) */
		} else if (!strcmp(type, "meta")) {
			if (jnum(o, "schema_version", NULL) != MXG_STATE_SCHEMA) {
				mxg_err("%s: schema version %llu, this mxguard reads %d",
					path, (unsigned long long)jnum(o, "schema_version", NULL),
					MXG_STATE_SCHEMA);
				err = -EINVAL;
			}
		} else if (!strcmp(type, "cfg")) {
			err = restore_cfg(m, o);
		} else if (!strcmp(type, "feed") && jstr(o, "name")) {
			int id = mxg_feed_id(m, jstr(o, "name"), 1);

			if (id < 0) {
				err = id;
			} else {
				struct mxg_feed f;
				__u32 k = id;

				if (!bpf_map_lookup_elem(m->feeds, &k, &f)) {
					f.created_s = jnum(o, "created_s", NULL);
					f.synced_s = jnum(o, "synced_s", NULL);
					bpf_map_update_elem(m->feeds, &k, &f, BPF_ANY);
				}
				st->feeds++;
			}
		} else if (!strcmp(type, "allow") && cs && !mxg_cidr_parse(cs, &c, &why)) {
			struct mxg_allow_val v = { 0 };

			v.added_s = jnum(o, "added_s", NULL);
			snprintf(v.comment, sizeof(v.comment), "%s",
				 jstr(o, "comment") ? jstr(o, "comment") : "");
			err = mxg_allow_put(m, &c, &v);
			st->allow++;
		} else if (!strcmp(type, "block") && cs && !mxg_cidr_parse(cs, &c, &why)) {
			struct mxg_block_val *v = &bv[nb];
			int has_exp, feed;
			__u64 exp = jnum(o, "expires_s", &has_exp);

			if (has_exp && exp <= now_s) {
				st->expired++;
			} else {
				feed = mxg_feed_id(m, jstr(o, "feed") ? jstr(o, "feed") : "manual", 1);
				memset(v, 0, sizeof(*v));
				v->added_s = jnum(o, "added_s", NULL);
				v->feed_id = feed < 0 ? MXG_FEED_MANUAL : (__u32)feed;
				if (has_exp)
					v->expires_ns = now_ns + (exp - now_s) * 1000000000ull;
				err = reason_for(m, rc, 256, jstr(o, "reason"), &v->reason_id);
				bc[nb++] = c;
				st->block++;
				if (!err && nb == BATCH) {
					err = mxg_block_put_many(m, bc, bv, nb);
					nb = 0;
				}
			}
		}
		json_object_put(o);
	}
	if (!err && nb)
		err = mxg_block_put_many(m, bc, bv, nb);
out:
	if (gz)
		gzclose(gz);
	else
		close(fd);
	free(line);
	free(bc);
	free(bv);
	return err;
}

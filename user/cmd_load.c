// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* allow load, block load, block sync, block gc: whole lists at once, checked
 * completely before anything is applied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "lists.h"
#include "listfmt.h"
#include "log.h"
#include <bpf/bpf.h>
#include "maps.h"
#include "units.h"

#define MXG_BLOCK_MIN_V4 8
#define MXG_BLOCK_MIN_V6 24

/* Read a list file; a bad line is an input error naming file and line. */
static int read_list(const char *path, struct mxg_list *l)
{
	struct mxg_list_error e;
	int err;

	memset(l, 0, sizeof(*l));
	err = mxg_list_read(path, l, &e);
	if (!err)
		return 0;
	if (e.line)
		mxg_err("%s:%u: %s; nothing from this file was applied", e.file,
			e.line, e.msg);
	else
		mxg_err("%s: %s", e.file, e.msg);
	return err == -EINVAL || err == -ENOENT ? -EINVAL : err;
}

static int valid_feed_name(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= MXG_FEED_NAME_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

/* Partner safety and breadth for every entry of a list, before any write:
 * the first violation fails the whole file unless --force. */
static int check_block_list(const char *path, const struct mxg_list *l,
			    const struct mxg_allow_entry *allow, size_t nallow,
			    int force)
{
	size_t i, shadowed = 0;

	for (i = 0; i < l->n; i++) {
		const struct mxg_list_entry *e = &l->v[i];
		const struct mxg_allow_entry *hit;
		char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN];
		unsigned min = e->cidr.v4 ? MXG_BLOCK_MIN_V4 : MXG_BLOCK_MIN_V6;

		mxg_cidr_format(&e->cidr, cs, sizeof(cs));
		if (!force && mxg_cidr_user_plen(&e->cidr) < min) {
			mxg_err("%s:%u: %s is broader than /%u; nothing from this file was applied (--force to allow)",
				path, e->line, cs, min);
			return -EINVAL;
		}
		if (mxg_allow_overlap(allow, nallow, &e->cidr, &hit)) {
			mxg_cidr_format(&hit->cidr, as, sizeof(as));
			if (!force) {
				mxg_err("%s:%u: %s overlaps allowlisted %s (%s); nothing from this file was applied (--force to load it, the allowlist still wins)",
					path, e->line, cs, as,
					hit->v.comment[0] ? hit->v.comment : "no comment");
				return -EINVAL;
			}
			if (shadowed++ < 5)
				mxg_warn("%s:%u: %s overlaps allowlisted %s (%s); the allowlist wins there",
					 path, e->line, cs, as,
					 hit->v.comment[0] ? hit->v.comment : "no comment");
		}
	}
	if (shadowed > 5)
		mxg_warn("... %zu entries in all are shadowed by the allowlist", shadowed);
	return 0;
}

static int cmp_entry_cidr(const void *a, const void *b)
{
	return mxg_cidr_cmp(&((const struct mxg_block_entry *)a)->cidr,
			    &((const struct mxg_block_entry *)b)->cidr);
}

static int cmp_list_cidr(const void *a, const void *b)
{
	return mxg_cidr_cmp(&((const struct mxg_list_entry *)a)->cidr,
			    &((const struct mxg_list_entry *)b)->cidr);
}

struct load_opts {
	const char *feed, *ttl, *reason;
	int force, help;
};

static int parse_load_opts(const struct mxg_cmd *c, int argc, char **argv,
			   struct load_opts *o, int sync)
{
	static const struct option opts[] = {
		{ "feed", required_argument, NULL, 'F' },
		{ "ttl", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;

	memset(o, 0, sizeof(*o));
	while ((opt = mxg_getopt(c, argc, argv, "F:t:r:fh", opts)) != -1) {
		switch (opt) {
		case 'F': o->feed = optarg; break;
		case 't': o->ttl = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'f': o->force = 1; break;
		case 'h': o->help = 1; return 0;
		default: return -EINVAL;
		}
	}
	if (sync && !o->feed)
		return mxg_usage(c, "block sync needs --feed NAME");
	if (o->feed && !valid_feed_name(o->feed))
		return mxg_usage(c, "invalid feed name '%s': 1-31 letters, digits, '-', '_' or '.'",
				 o->feed);
	if (sync && !strcmp(o->feed, "manual"))
		return mxg_usage(c, "feed 'manual' holds the entries of 'block add'; it cannot be synced from a file");
	if (o->reason && strlen(o->reason) >= MXG_REASON_LEN)
		return mxg_usage(c, "reason is too long (at most %d bytes)", MXG_REASON_LEN - 1);
	return mxg_want_args(c, argc, argv, 1, "list file (or - for stdin)");
}

/* Shared by load and sync: read and check the file, open the maps, resolve
 * the feed. On success the caller owns l, allow and m. */
struct load_ctx {
	struct mxg_list l;
	struct mxg_allow_entry *allow;
	size_t nallow;
	struct mxg_maps m;
	int feed_id;
	__u32 reason_id;
	__u64 ttl_s;
};

static void load_end(struct load_ctx *x)
{
	mxg_list_free(&x->l);
	free(x->allow);
	mxg_maps_close(&x->m);
}

static int load_begin(const char *path, const struct load_opts *o,
		      struct load_ctx *x)
{
	const char *why;
	int err;

	memset(x, 0, sizeof(*x));
	x->m.lock_fd = -1;
	if (o->ttl && mxg_parse_duration(o->ttl, &x->ttl_s, &why))
		return mxg_usage(&mxg_cmd_block, "invalid --ttl '%s': %s", o->ttl, why);
	err = mxg_maps_open_rw(&x->m);
	if (err)
		return err;
	err = read_list(path, &x->l);
	if (err)
		goto fail;
	err = mxg_allow_all(&x->m, &x->allow, &x->nallow);
	if (err)
		goto fail;
	err = check_block_list(!strcmp(path, "-") ? "<stdin>" : path, &x->l,
			       x->allow, x->nallow, o->force);
	if (err)
		goto fail;
	x->feed_id = mxg_feed_id(&x->m, o->feed ? o->feed : "manual", 1);
	if (x->feed_id < 0) {
		err = x->feed_id;
		goto fail;
	}
	err = mxg_reason_id(&x->m, o->reason, &x->reason_id);
	if (err)
		goto fail;
	return 0;
fail:
	load_end(x);
	return err;
}

static void feed_synced(const struct mxg_maps *m, int feed_id)
{
	struct mxg_feed f;
	__u32 k = feed_id;

	if (!feed_id || bpf_map_lookup_elem(m->feeds, &k, &f))
		return;
	f.synced_s = mxg_unix_s();
	bpf_map_update_elem(m->feeds, &k, &f, BPF_ANY);
}

/* Entries of the list that are not owned by another feed, as new values. */
static int build_puts(struct load_ctx *x, const struct mxg_list_entry *e,
		      size_t n, struct mxg_block_entry *existing, size_t nex,
		      struct mxg_cidr **oc, struct mxg_block_val **ov,
		      size_t *on, size_t *others)
{
	__u64 now_s = mxg_unix_s(), now_ns = mxg_mono_ns();
	size_t i, k = 0;

	*oc = malloc((n ? n : 1) * sizeof(**oc));
	*ov = malloc((n ? n : 1) * sizeof(**ov));
	if (!*oc || !*ov)
		return -ENOMEM;
	*others = 0;
	for (i = 0; i < n; i++) {
		struct mxg_block_entry key = { .cidr = e[i].cidr }, *old;
		struct mxg_block_val *v = &(*ov)[k];

		old = nex ? bsearch(&key, existing, nex, sizeof(*existing),
				    cmp_entry_cidr) : NULL;
		if (old && old->v.feed_id != (__u32)x->feed_id) {
			(*others)++;
			continue;
		}
		memset(v, 0, sizeof(*v));
		if (old) {
			v->hits = old->v.hits;
			v->last_hit_ns = old->v.last_hit_ns;
		}
		v->added_s = old ? old->v.added_s : now_s;
		v->feed_id = x->feed_id;
		v->reason_id = x->reason_id;
		if (x->ttl_s)
			v->expires_ns = now_ns + x->ttl_s * 1000000000ull;
		(*oc)[k++] = e[i].cidr;
	}
	*on = k;
	return 0;
}

int mxg_block_load(int argc, char **argv)
{
	struct mxg_block_entry *ex = NULL;
	struct mxg_block_val *vals = NULL;
	struct mxg_cidr *cidrs = NULL;
	size_t nex = 0, nput = 0, others = 0;
	struct load_opts o;
	struct load_ctx x;
	char cnt[16];
	int err;

	err = parse_load_opts(&mxg_cmd_block, argc, argv, &o, 0);
	if (err || o.help) {
		if (o.help)
			mxg_cmd_help(&mxg_cmd_block);
		return err;
	}
	err = load_begin(argv[optind], &o, &x);
	if (err)
		return err;
	err = mxg_block_collect(&x.m, -1, &ex, &nex);
	if (err)
		goto out;
	if (nex)
		qsort(ex, nex, sizeof(*ex), cmp_entry_cidr);
	err = build_puts(&x, x.l.v, x.l.n, ex, nex, &cidrs, &vals, &nput, &others);
	if (err)
		goto out;
	err = mxg_block_put_many(&x.m, cidrs, vals, nput);
	if (err)
		goto out;
	feed_synced(&x.m, x.feed_id);
	mxg_format_count(nput, cnt, sizeof(cnt));
	printf("loaded %s entries into feed %s%s", cnt, o.feed ? o.feed : "manual",
	       x.l.gzip ? " (gzip)" : "");
	if (others)
		printf("; %zu already blocked by other feeds, left alone", others);
	printf("\n");
out:
	free(ex);
	free(cidrs);
	free(vals);
	load_end(&x);
	return err;
}

int mxg_block_sync(int argc, char **argv)
{
	struct mxg_block_entry *ex = NULL, *mine = NULL;
	struct mxg_block_val *vals = NULL;
	struct mxg_cidr *cidrs = NULL, *gone = NULL;
	struct mxg_list_entry *fresh = NULL;
	size_t nex = 0, nmine = 0, nfresh = 0, nput = 0, ngone = 0, others = 0;
	size_t i, j, same = 0;
	struct load_opts o;
	struct load_ctx x;
	int err;

	err = parse_load_opts(&mxg_cmd_block, argc, argv, &o, 1);
	if (err || o.help) {
		if (o.help)
			mxg_cmd_help(&mxg_cmd_block);
		return err;
	}
	err = load_begin(argv[optind], &o, &x);
	if (err)
		return err;
	err = mxg_block_collect(&x.m, -1, &ex, &nex);
	if (err)
		goto out;
	if (nex)
		qsort(ex, nex, sizeof(*ex), cmp_entry_cidr);
	/* This feed's current entries (sorted, as ex is). */
	mine = malloc((nex ? nex : 1) * sizeof(*mine));
	fresh = malloc((x.l.n ? x.l.n : 1) * sizeof(*fresh));
	gone = malloc((nex ? nex : 1) * sizeof(*gone));
	if (!mine || !fresh || !gone) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nex; i++)
		if (ex[i].v.feed_id == (__u32)x.feed_id)
			mine[nmine++] = ex[i];
	memcpy(fresh, x.l.v, x.l.n * sizeof(*fresh));
	if (x.l.n)
		qsort(fresh, x.l.n, sizeof(*fresh), cmp_list_cidr);
	/* Merge: new in the file -> add; in the feed, not in the file -> go;
	 * in both -> untouched, so it is never missing from the kernel. */
	for (i = 0, j = 0; i < x.l.n || j < nmine;) {
		int c = i >= x.l.n ? 1 : j >= nmine ? -1 :
			mxg_cidr_cmp(&fresh[i].cidr, &mine[j].cidr);

		if (c < 0) {
			fresh[nfresh++] = fresh[i++];
		} else if (c > 0) {
			gone[ngone++] = mine[j++].cidr;
		} else {
			same++;
			i++;
			j++;
		}
	}
	err = build_puts(&x, fresh, nfresh, ex, nex, &cidrs, &vals, &nput, &others);
	if (err)
		goto out;
	/* Add first, then remove: at no moment is a common entry missing. */
	err = mxg_block_put_many(&x.m, cidrs, vals, nput);
	if (err)
		goto out;
	err = mxg_block_del_many(&x.m, gone, ngone);
	if (err)
		goto out;
	feed_synced(&x.m, x.feed_id);
	printf("synced feed %s: %zu entries; %zu added, %zu removed, %zu unchanged",
	       o.feed, same + nput, nput, ngone, same);
	if (others)
		printf(", %zu left to the other feeds that already block them", others);
	printf("\n");
out:
	free(ex);
	free(mine);
	free(fresh);
	free(gone);
	free(cidrs);
	free(vals);
	load_end(&x);
	return err;
}

int mxg_block_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_maps m;
	size_t ndead = 0;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_block, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_block);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_block, argc, argv, 0, "");
	if (err)
		return err;
	err = mxg_maps_open_rw(&m);
	if (err)
		return err;
	err = mxg_block_gc_run(&m, &ndead);
	if (!err)
		printf("removed %zu expired block entr%s\n", ndead, ndead == 1 ? "y" : "ies");
	if (!err)
		err = mxg_pen_gc_run(&m, &ndead);
	if (!err && ndead)
		printf("forgot %zu limited source%s whose bucket has refilled\n", ndead,
		       ndead == 1 ? "" : "s");
	mxg_maps_close(&m);
	return err;
}

int mxg_allow_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *comment = NULL;
	struct mxg_list l;
	struct mxg_maps m;
	size_t i;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_allow, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': comment = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_allow); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_allow, argc, argv, 1, "list file (or - for stdin)");
	if (err)
		return err;
	if (comment && strlen(comment) >= MXG_COMMENT_LEN)
		return mxg_usage(&mxg_cmd_allow, "comment is too long (at most %d bytes)",
				 MXG_COMMENT_LEN - 1);
	err = mxg_maps_open_rw(&m);
	if (err)
		return err;
	err = read_list(argv[optind], &l);
	if (err)
		goto out_maps;
	for (i = 0; i < l.n && !err; i++) {
		struct mxg_allow_val v;

		if (mxg_allow_get(&m, &l.v[i].cidr, &v)) {
			memset(&v, 0, sizeof(v));
			v.added_s = mxg_unix_s();
		}
		memset(v.comment, 0, sizeof(v.comment));
		/* The line's own comment names the partner; --comment is the
		 * default for lines without one. */
		snprintf(v.comment, sizeof(v.comment), "%s",
			 l.v[i].note[0] ? l.v[i].note : comment ? comment : "");
		err = mxg_allow_put(&m, &l.v[i].cidr, &v);
	}
	if (!err)
		printf("allowlisted %zu entries from %s\n", l.n,
		       !strcmp(argv[optind], "-") ? "<stdin>" : argv[optind]);
	mxg_list_free(&l);
out_maps:
	mxg_maps_close(&m);
	return err;
}

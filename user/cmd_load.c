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
#include "feeds.h"
#include "log.h"
#include <bpf/bpf.h>
#include "maps.h"
#include "units.h"

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
	if (o->feed && !mxg_feed_name_valid(o->feed))
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
	size_t shadowed;
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
	err = mxg_list_check(!strcmp(path, "-") ? "<stdin>" : path, &x->l,
			     x->allow, x->nallow, o->force, &x->shadowed);
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

/* The common part of load and sync; sync != 0 for sync. */
static int block_apply(int argc, char **argv, int sync)
{
	struct mxg_apply_result r;
	struct mxg_apply a;
	struct load_opts o;
	struct load_ctx x;
	char cnt[16];
	int err;

	err = parse_load_opts(&mxg_cmd_block, argc, argv, &o, sync);
	if (err || o.help) {
		if (o.help)
			mxg_cmd_help(&mxg_cmd_block);
		return err;
	}
	err = load_begin(argv[optind], &o, &x);
	if (err)
		return err;
	a.feed_id = x.feed_id;
	a.reason_id = x.reason_id;
	a.ttl_s = x.ttl_s;
	err = sync ? mxg_feed_sync(&x.m, &x.l, &a, &r) : mxg_feed_load(&x.m, &x.l, &a, &r);
	if (err)
		goto out;
	if (sync) {
		printf("synced feed %s: %zu entries; %zu added, %zu removed, %zu unchanged",
		       o.feed, r.same + r.added, r.added, r.removed, r.same);
	} else {
		mxg_format_count(r.added, cnt, sizeof(cnt));
		printf("loaded %s entries into feed %s%s", cnt,
		       o.feed ? o.feed : "manual", x.l.gzip ? " (gzip)" : "");
	}
	if (r.others)
		printf("; %zu already blocked by other feeds, left alone", r.others);
	printf("\n");
out:
	load_end(&x);
	return err;
}

int mxg_block_load(int argc, char **argv)
{
	return block_apply(argc, argv, 0);
}

int mxg_block_sync(int argc, char **argv)
{
	return block_apply(argc, argv, 1);
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
	err = mxg_allow_apply(&m, &l, comment);
	if (!err)
		printf("allowlisted %zu entries from %s\n", l.n,
		       !strcmp(argv[optind], "-") ? "<stdin>" : argv[optind]);
	mxg_list_free(&l);
out_maps:
	mxg_maps_close(&m);
	return err;
}

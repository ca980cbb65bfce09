// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* allow and block: partner ranges that are never dropped, and blocklisted
 * ranges that are, with the checks that keep one from cutting off the other. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "feeds.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "units.h"


static int parse_cidr(const struct mxg_cmd *c, const char *s,
		      struct mxg_cidr *out)
{
	const char *why;

	if (mxg_cidr_parse(s, out, &why))
		return mxg_usage(c, "invalid address or CIDR '%s': %s", s, why);
	return 0;
}

static void cidr_str(const struct mxg_cidr *c, char *buf)
{
	mxg_cidr_format(c, buf, MXG_CIDR_STRLEN);
}

/* ---- allow ------------------------------------------------------------ */

struct shadow_ctx {
	const struct mxg_cidr *allow;
	const struct mxg_maps *m;
	int n;
};

static int shadow_cb(const struct mxg_block_entry *e, void *ctx)
{
	struct shadow_ctx *s = ctx;
	char a[MXG_CIDR_STRLEN], b[MXG_CIDR_STRLEN], feed[MXG_FEED_NAME_LEN + 8];

	if (!mxg_cidr_overlap(s->allow, &e->cidr))
		return 0;
	cidr_str(s->allow, a);
	cidr_str(&e->cidr, b);
	mxg_feed_name(s->m, e->v.feed_id, feed, sizeof(feed));
	if (s->n++ < 20)
		printf("note: %s shadows block entry %s (feed %s): the allowlist wins there\n",
		       a, b, feed);
	return 0;
}

static int allow_add(int argc, char **argv)
{
	const char *comment;
	struct mxg_allow_val v;
	struct shadow_ctx sc;
	struct mxg_cidr c;
	struct mxg_maps m;
	char cs[MXG_CIDR_STRLEN];
	int err;

	err = mxg_comment_opts(&mxg_cmd_allow, argc, argv, &comment);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_allow, argc, argv, 1, "address or CIDR");
	if (err)
		return err;
	err = parse_cidr(&mxg_cmd_allow, argv[optind], &c);
	if (err)
		return err;
	err = mxg_maps_open_rw(&m);
	if (err)
		return err;
	if (mxg_allow_get(&m, &c, &v)) {
		memset(&v, 0, sizeof(v));
		v.added_s = mxg_unix_s();
	}
	memset(v.comment, 0, sizeof(v.comment));
	snprintf(v.comment, sizeof(v.comment), "%s", comment);
	err = mxg_allow_put(&m, &c, &v);
	if (!err) {
		cidr_str(&c, cs);
		printf("allowed %s%s%s%s\n", cs, *comment ? " (" : "", comment,
		       *comment ? ")" : "");
		sc.allow = &c;
		sc.m = &m;
		sc.n = 0;
		mxg_block_each(&m, shadow_cb, &sc);
		if (sc.n > 20)
			printf("note: ... and %d more block entries shadowed\n", sc.n - 20);
	}
	mxg_maps_close(&m);
	return err;
}

/* "del CIDR" of either list: exactly this prefix, or an error naming it. */
static int list_del(const struct mxg_cmd *cmd, int argc, char **argv,
		    int (*del)(const struct mxg_maps *, const struct mxg_cidr *),
		    const char *list)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char cs[MXG_CIDR_STRLEN];
	struct mxg_cidr c;
	struct mxg_maps m;
	int opt, err;

	while ((opt = mxg_getopt(cmd, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(cmd);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(cmd, argc, argv, 1, "address or CIDR");
	if (err)
		return err;
	err = parse_cidr(cmd, argv[optind], &c);
	if (err)
		return err;
	err = mxg_maps_open_rw(&m);
	if (err)
		return err;
	cidr_str(&c, cs);
	err = del(&m, &c);
	if (err == -ENOENT)
		mxg_err("%s is not in the %s", cs, list);
	else if (err)
		mxg_err("cannot delete %s: %s", cs, strerror(-err));
	else
		printf("removed %s from the %s\n", cs, list);
	mxg_maps_close(&m);
	return err;
}

static int allow_del(int argc, char **argv)
{
	return list_del(&mxg_cmd_allow, argc, argv, mxg_allow_del, "allowlist");
}

void mxg_allow_print(const struct mxg_allow_entry *e, size_t n, int json,
		     const char *col0, const char *empty)
{
	const char *head[] = { col0, "HITS", "LAST HIT", "ADDED", "COMMENT" };
	struct mxg_table t;
	struct mxg_json j;
	size_t i;

	if (json) {
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_arr(&j, "allow");
		for (i = 0; i < n; i++) {
			char cs[MXG_CIDR_STRLEN];

			cidr_str(&e[i].cidr, cs);
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "cidr", cs);
			mxg_json_str(&j, "comment", e[i].v.comment);
			mxg_json_time(&j, "added", e[i].v.added_s);
			mxg_json_u64(&j, "hits", e[i].v.hits);
			mxg_json_time(&j, "last_hit", mxg_mono_to_unix(e[i].v.last_hit_ns));
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
		return;
	}
	if (!n) {
		printf("%s\n", empty);
		return;
	}
	mxg_table_init(&t, 5, head, 0x2);
	for (i = 0; i < n; i++) {
		char cs[MXG_CIDR_STRLEN], hits[16], last[32], added[32];
		const char *cells[5] = { cs, hits, last, added, e[i].v.comment };

		cidr_str(&e[i].cidr, cs);
		mxg_format_count(e[i].v.hits, hits, sizeof(hits));
		mxg_format_time(mxg_mono_to_unix(e[i].v.last_hit_ns), last, sizeof(last));
		mxg_format_time(e[i].v.added_s, added, sizeof(added));
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
}

static int allow_list(int argc, char **argv)
{
	struct mxg_allow_entry *all = NULL;
	struct mxg_maps m;
	size_t n = 0;
	int err, json;

	err = mxg_json_opts(&mxg_cmd_allow, argc, argv, &json);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	err = mxg_allow_all(&m, &all, &n);
	if (!err)
		mxg_allow_print(all, n, json, "CIDR", "the allowlist is empty");
	free(all);
	mxg_maps_close(&m);
	return err;
}

static int do_allow(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "add", allow_add }, { "del", allow_del }, { "list", allow_list },
		{ "load", mxg_allow_load }, { NULL, NULL }
	};

	return mxg_dispatch(&mxg_cmd_allow, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_allow = {
	.name = "allow",
	.synopsis = "allow add CIDR [--comment TEXT]\n"
		    "allow del CIDR\n"
		    "allow list [--json]\n"
		    "allow load FILE [--comment TEXT]",
	.summary = "partner ranges that are never dropped, in any mode",
	.help =
	"The allowlist holds the networks of partners, relays and monitoring that\n"
	"must always reach the mail ports. An allowlisted source passes in every\n"
	"mode (enforce, monitor, lockdown), even when it is also blocklisted and\n"
	"even when it exceeds its limit. Its packets are counted (hits).\n\n"
	"CIDR is an IPv4 or IPv6 address or prefix (198.18.7.0/24, 2001:db8::/48);\n"
	"a bare address means a single host. Host bits below the prefix length\n"
	"are an error (198.18.7.1/24 is refused, say 198.18.7.0/24).\n\n"
	"  add    add or update an entry; --comment TEXT (up to 63 bytes) says\n"
	"         whose range it is and is shown wherever the entry is shown.\n"
	"         Block entries the new range shadows are reported.\n"
	"  del    remove an entry (exactly this prefix)\n"
	"  load   add every entry of a list file (FILE - is stdin; formats as in\n"
	"         'mxguard block --help'); a line's own comment becomes the\n"
	"         entry's comment, --comment TEXT is used for lines without one\n"
	"  list   the entries with hits, last hit and comment; --json gives\n"
	"         {\"allow\": [{cidr, comment, added, hits, last_hit}]}\n\n"
	"Examples:\n"
	"  mxguard allow add 198.18.7.0/24 --comment \"partner: example corp MX\"\n"
	"  mxguard allow list\n",
	.run = do_allow,
};

/* ---- block ------------------------------------------------------------ */

static int block_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ttl = NULL, *reason = "", *why;
	struct mxg_allow_entry *all = NULL;
	const struct mxg_allow_entry *hit;
	struct mxg_block_val v, old;
	char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN], exp[32];
	struct mxg_cidr c;
	struct mxg_maps m;
	__u64 ttl_s = 0;
	size_t n = 0;
	int opt, err, force = 0;
	unsigned plen;

	while ((opt = mxg_getopt(&mxg_cmd_block, argc, argv, "t:r:fh", opts)) != -1) {
		switch (opt) {
		case 't': ttl = optarg; break;
		case 'r': reason = optarg; break;
		case 'f': force = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_block); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_block, argc, argv, 1, "address or CIDR");
	if (err)
		return err;
	err = parse_cidr(&mxg_cmd_block, argv[optind], &c);
	if (err)
		return err;
	cidr_str(&c, cs);
	if (ttl && mxg_parse_duration(ttl, &ttl_s, &why))
		return mxg_usage(&mxg_cmd_block, "invalid --ttl '%s': %s", ttl, why);
	if (strlen(reason) >= MXG_REASON_LEN)
		return mxg_usage(&mxg_cmd_block, "reason is too long (at most %d bytes)",
				 MXG_REASON_LEN - 1);
	plen = mxg_cidr_user_plen(&c);
	if (!force && plen < (c.v4 ? MXG_BLOCK_MIN_V4 : MXG_BLOCK_MIN_V6)) {
		mxg_err("%s is broader than /%d: that blocks a huge part of the Internet; add --force if you mean it",
			cs, c.v4 ? MXG_BLOCK_MIN_V4 : MXG_BLOCK_MIN_V6);
		return -EINVAL;
	}
	err = mxg_maps_open_rw(&m);
	if (err)
		return err;
	err = mxg_allow_all(&m, &all, &n);
	if (err)
		goto out;
	if (mxg_allow_overlap(all, n, &c, &hit)) {
		cidr_str(&hit->cidr, as);
		if (!force) {
			mxg_err("%s overlaps allowlisted %s (%s): the partner would stay open anyway; add --force to block the rest of the range",
				cs, as, hit->v.comment[0] ? hit->v.comment : "no comment");
			err = -EINVAL;
			goto out;
		}
		mxg_warn("%s overlaps allowlisted %s (%s); the allowlist wins there",
			 cs, as, hit->v.comment[0] ? hit->v.comment : "no comment");
	}
	memset(&v, 0, sizeof(v));
	if (!mxg_block_get(&m, &c, &old)) {
		v.hits = old.hits;
		v.last_hit_ns = old.last_hit_ns;
	}
	v.added_s = mxg_unix_s();
	v.feed_id = MXG_FEED_MANUAL;
	if (ttl_s)
		v.expires_ns = mxg_mono_ns() + ttl_s * 1000000000ull;
	err = mxg_reason_id(&m, reason, &v.reason_id);
	if (err)
		goto out;
	err = mxg_block_put(&m, &c, &v);
	if (err)
		goto out;
	if (ttl_s) {
		mxg_format_time(v.added_s + ttl_s, exp, sizeof(exp));
		printf("blocked %s until %s\n", cs, exp);
	} else {
		printf("blocked %s (no expiry)\n", cs);
	}
out:
	free(all);
	mxg_maps_close(&m);
	return err;
}

static int block_del(int argc, char **argv)
{
	return list_del(&mxg_cmd_block, argc, argv, mxg_block_del, "blocklist");
}

struct block_list_ctx {
	const struct mxg_maps *m;
	struct mxg_names names;
	struct mxg_allow_entry *allow;
	size_t nallow;
	int feed;          /* -1: all feeds */
	__u64 now_ns;
	struct mxg_json *j;
	struct mxg_table *t;
	size_t n;
};

static int block_list_cb(const struct mxg_block_entry *e, void *ctx)
{
	struct block_list_ctx *b = ctx;
	const struct mxg_allow_entry *hit = NULL;
	char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN];
	const char *feed, *reason;
	__u64 exp_s = e->v.expires_ns ? mxg_mono_to_unix(e->v.expires_ns) : 0;
	int expired = mxg_block_expired(&e->v, b->now_ns);

	if (b->feed >= 0 && e->v.feed_id != (__u32)b->feed)
		return 0;
	b->n++;
	cidr_str(&e->cidr, cs);
	feed = b->names.feed[e->v.feed_id < MXG_MAX_FEEDS ? e->v.feed_id : 0];
	reason = mxg_names_reason(&b->names, e->v.reason_id);
	mxg_allow_overlap(b->allow, b->nallow, &e->cidr, &hit);
	if (hit)
		cidr_str(&hit->cidr, as);
	if (b->j) {
		struct mxg_json *j = b->j;

		mxg_json_obj(j, NULL);
		mxg_json_str(j, "cidr", cs);
		mxg_json_str(j, "feed", feed);
		mxg_json_str(j, "reason", reason);
		mxg_json_time(j, "added", e->v.added_s);
		mxg_json_time(j, "expires", exp_s);
		mxg_json_bool(j, "expired", expired);
		mxg_json_u64(j, "hits", e->v.hits);
		mxg_json_time(j, "last_hit", mxg_mono_to_unix(e->v.last_hit_ns));
		mxg_json_str(j, "shadowed_by", hit ? as : NULL);
		mxg_json_obj_end(j);
	} else {
		char hits[16], last[32], exps[40], added[32], note[MXG_CIDR_STRLEN + 64];
		const char *cells[8] = { cs, feed, hits, last, added, exps, note, reason };

		mxg_format_count(e->v.hits, hits, sizeof(hits));
		mxg_format_time(mxg_mono_to_unix(e->v.last_hit_ns), last, sizeof(last));
		mxg_format_time(e->v.added_s, added, sizeof(added));
		if (expired)
			snprintf(exps, sizeof(exps), "expired");
		else if (exp_s)
			mxg_format_time(exp_s, exps, sizeof(exps));
		else
			snprintf(exps, sizeof(exps), "never");
		if (hit)
			snprintf(note, sizeof(note), "shadowed by allow %s", as);
		else
			note[0] = '\0';
		return mxg_table_row(b->t, cells);
	}
	return 0;
}

static int block_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "feed", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *head[] = { "CIDR", "FEED", "HITS", "LAST HIT", "ADDED",
				      "EXPIRES", "NOTE", "REASON" };
	struct block_list_ctx b = { 0 };
	const char *feed = NULL;
	struct mxg_table t;
	struct mxg_json j;
	struct mxg_maps m;
	int opt, err, json = 0;

	while ((opt = mxg_getopt(&mxg_cmd_block, argc, argv, "jF:h", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'F': feed = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_block); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_block, argc, argv, 0, "");
	if (err)
		return err;
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	b.m = &m;
	b.feed = -1;
	b.now_ns = mxg_mono_ns();
	if (feed) {
		b.feed = mxg_feed_id(&m, feed, 0);
		if (b.feed < 0) {
			mxg_err("no feed named '%s'", feed);
			err = -ENOENT;
			goto out;
		}
	}
	err = mxg_allow_all(&m, &b.allow, &b.nallow);
	if (!err)
		err = mxg_names_load(&m, &b.names);
	if (err)
		goto out;
	mxg_table_init(&t, 8, head, 0x4);
	if (json) {
		b.j = &j;
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_arr(&j, "block");
	} else {
		b.t = &t;
	}
	err = mxg_block_each(&m, block_list_cb, &b);
	if (json) {
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (!err) {
		if (b.n)
			mxg_table_print(&t, stdout);
		else
			printf("the blocklist is empty%s\n", feed ? " for this feed" : "");
	}
	mxg_table_free(&t);
out:
	mxg_names_free(&b.names);
	free(b.allow);
	mxg_maps_close(&m);
	return err;
}

static int do_block(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "add", block_add }, { "del", block_del }, { "list", block_list },
		{ "load", mxg_block_load }, { "sync", mxg_block_sync },
		{ "gc", mxg_block_gc }, { NULL, NULL }
	};

	return mxg_dispatch(&mxg_cmd_block, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_block = {
	.name = "block",
	.synopsis = "block add CIDR [--ttl DURATION] [--reason TEXT] [--force]\n"
		    "block del CIDR\n"
		    "block list [--feed NAME] [--json]\n"
		    "block load FILE [--feed NAME] [--ttl DURATION] [--reason TEXT] [--force]\n"
		    "block sync FILE --feed NAME [--force]\n"
		    "block gc",
	.summary = "blocklisted ranges: every packet to the mail ports dropped",
	.help =
	"A blocklisted source loses every packet to the protected ports (in\n"
	"monitor mode: counted as block_would and passed). The allowlist always\n"
	"wins: a partner inside a blocked range still gets through.\n\n"
	"  add    add or renew an entry (feed \"manual\").\n"
	"         --ttl DURATION   expire after 90s, 10m, 2h, 7d, 1h30m ...; the\n"
	"                          program stops dropping at expiry by itself\n"
	"         --reason TEXT    why (up to 95 bytes), shown in lists\n"
	"         --force          needed to block a range that overlaps the\n"
	"                          allowlist, or is broader than IPv4 /8 or IPv6 /24\n"
	"  del    remove an entry (exactly this prefix)\n"
	"  load FILE [--feed NAME] [--ttl D] [--reason T] [--force]\n"
	"         add every entry of a list file (FILE - is stdin): one CIDR\n"
	"         per line with # or ; comments (Spamhaus DROP/EDROP), or\n"
	"         `ipset save` output, either gzip-compressed or not. Checked\n"
	"         whole first: a bad line fails the file, naming the line, and\n"
	"         nothing is applied. Entries other feeds own are left alone.\n"
	"  sync FILE --feed NAME [--force]\n"
	"         make feed NAME hold exactly the file's entries: adds the new,\n"
	"         removes the gone, never touches entries in both (they stay\n"
	"         blocking throughout) nor other feeds' and manual entries\n"
	"  gc     remove expired entries (the program ignores them already)\n"
	"  list   entries with feed, hits, last hit, added, expiry, reason, and\n"
	"         whether an allowlist entry shadows them; --feed NAME filters;\n"
	"         --json gives {\"block\": [{cidr, feed, reason, added, expires,\n"
	"         expired, hits, last_hit, shadowed_by}]}\n\n"
	"Examples:\n"
	"  mxguard block add 198.18.200.0/24 --ttl 2h --reason \"AUTH dictionary attack\"\n"
	"  mxguard block list --feed manual\n",
	.run = do_block,
};

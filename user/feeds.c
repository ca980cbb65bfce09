// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Whole lists into the blocklist: check, load, sync. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "feeds.h"
#include "log.h"

int mxg_feed_name_valid(const char *s)
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

int mxg_list_check(const char *name, const struct mxg_list *l,
		   const struct mxg_allow_entry *allow, size_t nallow,
		   int force, size_t *shadowed)
{
	size_t i;

	*shadowed = 0;
	for (i = 0; i < l->n; i++) {
		const struct mxg_list_entry *e = &l->v[i];
		const struct mxg_allow_entry *hit;
		char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN];
		unsigned min = e->cidr.v4 ? MXG_BLOCK_MIN_V4 : MXG_BLOCK_MIN_V6;

		/* Formatted only for a message: a million entries pass here. */
		if (!force && mxg_cidr_user_plen(&e->cidr) < min) {
			mxg_cidr_format(&e->cidr, cs, sizeof(cs));
			mxg_err("%s:%u: %s is broader than /%u; nothing from this file was applied (--force to allow)",
				name, e->line, cs, min);
			return -EINVAL;
		}
		if (!mxg_allow_overlap(allow, nallow, &e->cidr, &hit))
			continue;
		mxg_cidr_format(&e->cidr, cs, sizeof(cs));
		mxg_cidr_format(&hit->cidr, as, sizeof(as));
		if (!force) {
			mxg_err("%s:%u: %s overlaps allowlisted %s (%s); nothing from this file was applied (--force to load it, the allowlist still wins)",
				name, e->line, cs, as,
				hit->v.comment[0] ? hit->v.comment : "no comment");
			return -EINVAL;
		}
		if ((*shadowed)++ < 5)
			mxg_warn("%s:%u: %s overlaps allowlisted %s (%s); the allowlist wins there",
				 name, e->line, cs, as,
				 hit->v.comment[0] ? hit->v.comment : "no comment");
	}
	if (*shadowed > 5)
		mxg_warn("%s: %zu entries in all are shadowed by the allowlist", name,
			 *shadowed);
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

/* Every block entry, sorted by CIDR, for lookups with bsearch. */
static int existing_sorted(const struct mxg_maps *m,
			   struct mxg_block_entry **ex, size_t *nex)
{
	int err = mxg_block_collect(m, -1, ex, nex);

	if (!err && *nex)
		qsort(*ex, *nex, sizeof(**ex), cmp_entry_cidr);
	return err;
}

/* Entries to write for list entries e[0..n): new values, keeping the hit
 * counts of existing ones; those another feed owns are skipped. */
static int build_puts(const struct mxg_apply *a, const struct mxg_list_entry *e,
		      size_t n, const struct mxg_block_entry *ex, size_t nex,
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
		struct mxg_block_entry key = { .cidr = e[i].cidr };
		const struct mxg_block_entry *old;
		struct mxg_block_val *v = &(*ov)[k];

		old = nex ? bsearch(&key, ex, nex, sizeof(*ex), cmp_entry_cidr) : NULL;
		if (old && old->v.feed_id != (__u32)a->feed_id) {
			(*others)++;
			continue;
		}
		memset(v, 0, sizeof(*v));
		if (old) {
			v->hits = old->v.hits;
			v->last_hit_ns = old->v.last_hit_ns;
		}
		v->added_s = old ? old->v.added_s : now_s;
		v->feed_id = a->feed_id;
		v->reason_id = a->reason_id;
		if (a->ttl_s)
			v->expires_ns = now_ns + a->ttl_s * 1000000000ull;
		(*oc)[k++] = e[i].cidr;
	}
	*on = k;
	return 0;
}

int mxg_feed_load(const struct mxg_maps *m, const struct mxg_list *l,
		  const struct mxg_apply *a, struct mxg_apply_result *r)
{
	struct mxg_block_entry *ex = NULL;
	struct mxg_block_val *vals = NULL;
	struct mxg_cidr *cidrs = NULL;
	size_t nex = 0, nput = 0;
	int err;

	memset(r, 0, sizeof(*r));
	err = existing_sorted(m, &ex, &nex);
	if (!err)
		err = build_puts(a, l->v, l->n, ex, nex, &cidrs, &vals, &nput,
				 &r->others);
	if (!err)
		err = mxg_block_put_many(m, cidrs, vals, nput);
	if (!err) {
		r->added = nput;
		mxg_feed_touch(m, a->feed_id);
	}
	free(ex);
	free(cidrs);
	free(vals);
	return err;
}

int mxg_feed_sync(const struct mxg_maps *m, const struct mxg_list *l,
		  const struct mxg_apply *a, struct mxg_apply_result *r)
{
	struct mxg_block_entry *ex = NULL, *mine = NULL;
	struct mxg_block_val *vals = NULL;
	struct mxg_cidr *cidrs = NULL, *gone = NULL;
	struct mxg_list_entry *fresh = NULL;
	size_t nex = 0, nmine = 0, nfresh = 0, nput = 0, ngone = 0, i, j;
	int err;

	memset(r, 0, sizeof(*r));
	err = existing_sorted(m, &ex, &nex);
	if (err)
		goto out;
	mine = malloc((nex ? nex : 1) * sizeof(*mine));
	fresh = malloc((l->n ? l->n : 1) * sizeof(*fresh));
	gone = malloc((nex ? nex : 1) * sizeof(*gone));
	if (!mine || !fresh || !gone) {
		err = -ENOMEM;
		goto out;
	}
	/* This feed's current entries, sorted as ex is. */
	for (i = 0; i < nex; i++)
		if (ex[i].v.feed_id == (__u32)a->feed_id)
			mine[nmine++] = ex[i];
	if (l->n)
		memcpy(fresh, l->v, l->n * sizeof(*fresh));
	if (l->n)
		qsort(fresh, l->n, sizeof(*fresh), cmp_list_cidr);
	/* Merge: new in the list -> add; in the feed, not in the list -> go;
	 * in both -> untouched. */
	for (i = 0, j = 0; i < l->n || j < nmine;) {
		int c = i >= l->n ? 1 : j >= nmine ? -1 :
			mxg_cidr_cmp(&fresh[i].cidr, &mine[j].cidr);

		if (c < 0) {
			fresh[nfresh++] = fresh[i++];
		} else if (c > 0) {
			gone[ngone++] = mine[j++].cidr;
		} else {
			r->same++;
			i++;
			j++;
		}
	}
	err = build_puts(a, fresh, nfresh, ex, nex, &cidrs, &vals, &nput,
			 &r->others);
	if (err)
		goto out;
	/* Add first, then remove: at no moment is a common entry missing. */
	err = mxg_block_put_many(m, cidrs, vals, nput);
	if (!err)
		err = mxg_block_del_many(m, gone, ngone);
	if (err)
		goto out;
	r->added = nput;
	r->removed = ngone;
	mxg_feed_touch(m, a->feed_id);
out:
	free(ex);
	free(mine);
	free(fresh);
	free(gone);
	free(cidrs);
	free(vals);
	return err;
}

int mxg_allow_apply(const struct mxg_maps *m, const struct mxg_list *l,
		    const char *def)
{
	size_t i;
	int err = 0;

	for (i = 0; i < l->n && !err; i++) {
		const char *note = mxg_list_note(l, &l->v[i]);
		struct mxg_allow_val v;

		if (mxg_allow_get(m, &l->v[i].cidr, &v)) {
			memset(&v, 0, sizeof(v));
			v.added_s = mxg_unix_s();
		}
		memset(v.comment, 0, sizeof(v.comment));
		snprintf(v.comment, sizeof(v.comment), "%s", *note ? note : def ? def : "");
		err = mxg_allow_put(m, &l->v[i].cidr, &v);
	}
	return err;
}

void mxg_feed_touch(const struct mxg_maps *m, int feed_id)
{
	struct mxg_feed f;
	__u32 k = feed_id;

	if (!feed_id || bpf_map_lookup_elem(m->feeds, &k, &f))
		return;
	f.synced_s = mxg_unix_s();
	bpf_map_update_elem(m->feeds, &k, &f, BPF_ANY);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Escalation of repeat offenders into growing bans. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <bpf/bpf.h>
#include "escalate.h"
#include "lists.h"
#include "log.h"
#include "out.h"
#include "units.h"

struct offender {
	struct mxg_cidr cidr;
	__u64 times[MXG_ESC_MAX_OFFENCES]; /* unix s, oldest first */
	unsigned n;
	unsigned bans;
	__u64 last_ban_s;
	int used;
};

struct pen_rec {
	struct mxg_src_key k;
	__u64 since_ns;
};

struct mxg_esc {
	struct mxg_esc_cfg cfg;
	struct offender *tab;              /* open addressing, MXG_ESC_CAPACITY */
	size_t used;
	struct pen_rec *seen;              /* penalty entries at the last poll, sorted */
	size_t nseen;
	int seen_valid;
	int full_warned;
};

int mxg_esc_new(struct mxg_esc **out, const struct mxg_esc_cfg *cfg)
{
	struct mxg_esc *e = calloc(1, sizeof(*e));

	if (!e || !(e->tab = calloc(MXG_ESC_CAPACITY, sizeof(*e->tab)))) {
		free(e);
		return -ENOMEM;
	}
	e->cfg = *cfg;
	*out = e;
	return 0;
}

void mxg_esc_free(struct mxg_esc *e)
{
	if (!e)
		return;
	free(e->tab);
	free(e->seen);
	free(e);
}

void mxg_esc_reconfigure(struct mxg_esc *e, const struct mxg_esc_cfg *cfg)
{
	e->cfg = *cfg;
}

static size_t hash_cidr(const struct mxg_cidr *c)
{
	size_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < sizeof(c->addr); i++)
		h = (h ^ c->addr.b[i]) * 1099511628211ull;
	return (h ^ c->plen) & (MXG_ESC_CAPACITY - 1);
}

static struct offender *lookup(struct mxg_esc *e, const struct mxg_cidr *c,
			       int create)
{
	size_t i, h = hash_cidr(c);

	for (i = 0; i < MXG_ESC_CAPACITY; i++) {
		struct offender *o = &e->tab[(h + i) & (MXG_ESC_CAPACITY - 1)];

		if (o->used && !mxg_cidr_cmp(&o->cidr, c))
			return o;
		if (!o->used) {
			/* Keep a quarter free so probes stay short. */
			if (!create || e->used >= MXG_ESC_CAPACITY * 3 / 4) {
				if (create && !e->full_warned++)
					mxg_warn("escalation tracks %d sources at most; new offenders are not tracked",
						 MXG_ESC_CAPACITY * 3 / 4);
				return NULL;
			}
			memset(o, 0, sizeof(*o));
			o->used = 1;
			o->cidr = *c;
			e->used++;
			return o;
		}
	}
	return NULL;
}

static void record(struct offender *o, __u64 now, __u64 window)
{
	unsigned i, k = 0;

	for (i = 0; i < o->n; i++)
		if (o->times[i] + window > now)
			o->times[k++] = o->times[i];
	o->n = k;
	if (o->n == MXG_ESC_MAX_OFFENCES) {
		memmove(o->times, o->times + 1, (o->n - 1) * sizeof(o->times[0]));
		o->n--;
	}
	o->times[o->n++] = now;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct mxg_src_key));
}

static int cmp_rec(const void *a, const void *b)
{
	return cmp_key(&((const struct pen_rec *)a)->k, &((const struct pen_rec *)b)->k);
}

static int ban(const struct mxg_maps *m, struct mxg_esc *e, struct offender *o,
	       __u64 now, void (*on_ban)(const struct mxg_esc_ban *, void *),
	       void *ctx)
{
	struct mxg_block_val v, old;
	struct mxg_esc_ban b;
	char reason[MXG_REASON_LEN], win[32];
	int feed, err;

	if (!e->cfg.n_steps)
		return 0;
	b.cidr = o->cidr;
	b.ban_no = o->bans + 1;
	b.offences = o->n;
	b.ttl_s = e->cfg.steps_s[o->bans < e->cfg.n_steps ? o->bans : e->cfg.n_steps - 1];
	/* An entry of another feed (or a manual one) already blocks it. */
	if (!mxg_block_get(m, &o->cidr, &old) && old.feed_id != 0 &&
	    (feed = mxg_feed_id(m, MXG_ESC_FEED, 0)) >= 0 && old.feed_id != (__u32)feed)
		return 0;
	feed = mxg_feed_id(m, MXG_ESC_FEED, 1);
	if (feed < 0)
		return feed;
	mxg_format_duration(e->cfg.window_s, win, sizeof(win));
	snprintf(reason, sizeof(reason), "repeat offender: %u limit episodes in %s (ban #%u)",
		 b.offences, win, b.ban_no);
	memset(&v, 0, sizeof(v));
	v.added_s = now;
	v.feed_id = feed;
	v.expires_ns = mxg_mono_ns() + b.ttl_s * 1000000000ull;
	err = mxg_reason_id(m, reason, &v.reason_id);
	if (!err)
		err = mxg_block_put(m, &o->cidr, &v);
	if (err)
		return err;
	o->bans++;
	o->last_ban_s = now;
	o->n = 0;
	if (on_ban)
		on_ban(&b, ctx);
	return 0;
}

int mxg_esc_poll(struct mxg_esc *e, const struct mxg_maps *m, __u64 now_s,
		 void (*on_ban)(const struct mxg_esc_ban *b, void *ctx),
		 void *ctx)
{
	struct mxg_src_key next, *prev = NULL;
	struct pen_rec *keys;
	struct mxg_pen_val pv;
	struct mxg_cfg *c;
	size_t n = 0, i;
	int err = 0;

	keys = malloc(MXG_PEN_MAX * sizeof(*keys));
	c = mxg_cfg_load(m);
	if (!keys || !c) {
		free(keys);
		free(c);
		return -ENOMEM;
	}
	while (n < MXG_PEN_MAX && !bpf_map_get_next_key(m->pen, prev, &next)) {
		keys[n].k = next;
		prev = &keys[n].k;
		if (!bpf_map_lookup_elem(m->pen, &next, &pv)) {
			keys[n].since_ns = pv.since_ns;
			n++;
		}
	}
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_rec);
	for (i = 0; i < n && e->seen_valid; i++) {
		const struct pen_rec *old = e->nseen ?
			bsearch(&keys[i], e->seen, e->nseen, sizeof(*keys), cmp_rec) : NULL;
		struct mxg_cidr cidr;
		struct offender *o;
		int v4;

		if (old && old->since_ns == keys[i].since_ns)
			continue;
		/* A new limit episode: one offence of this source (all
		 * services together). */
		v4 = mxg_addr_is_v4(&keys[i].k.addr);
		cidr.addr = keys[i].k.addr;
		cidr.v4 = v4;
		cidr.plen = v4 ? 96 + c->v4_prefix : c->v6_prefix;
		o = lookup(e, &cidr, 1);
		if (!o)
			continue;
		record(o, now_s, e->cfg.window_s);
		if (o->n >= e->cfg.after) {
			err = ban(m, e, o, now_s, on_ban, ctx);
			if (err)
				break;
		}
	}
	free(e->seen);
	e->seen = keys;
	e->nseen = n;
	e->seen_valid = 1;
	free(c);
	return err;
}

int mxg_esc_write(const struct mxg_esc *e, FILE *f)
{
	size_t i;
	unsigned k;

	for (i = 0; i < MXG_ESC_CAPACITY; i++) {
		const struct offender *o = &e->tab[i];
		char cs[MXG_CIDR_STRLEN];
		struct mxg_json j;

		if (!o->used || (!o->bans && !o->n))
			continue;
		mxg_cidr_format(&o->cidr, cs, sizeof(cs));
		mxg_json_init(&j, f);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "type", "offender");
		mxg_json_str(&j, "cidr", cs);
		mxg_json_u64(&j, "bans", o->bans);
		mxg_json_time(&j, "last_ban", o->last_ban_s);
		mxg_json_u64(&j, "last_ban_s", o->last_ban_s);
		mxg_json_arr(&j, "offences_s");
		for (k = 0; k < o->n; k++)
			mxg_json_u64(&j, NULL, o->times[k]);
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

int mxg_esc_read(struct mxg_esc *e, struct json_object *jo)
{
	struct json_object *v, *arr;
	struct mxg_cidr cidr;
	struct offender *o;
	const char *why;
	size_t k;

	if (!json_object_object_get_ex(jo, "cidr", &v) ||
	    mxg_cidr_parse(json_object_get_string(v), &cidr, &why))
		return -EINVAL;
	o = lookup(e, &cidr, 1);
	if (!o)
		return 0;
	if (json_object_object_get_ex(jo, "bans", &v))
		o->bans = json_object_get_int(v);
	if (json_object_object_get_ex(jo, "last_ban_s", &v))
		o->last_ban_s = json_object_get_int64(v);
	if (json_object_object_get_ex(jo, "offences_s", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (k = 0; k < json_object_array_length(arr) && o->n < MXG_ESC_MAX_OFFENCES; k++)
			o->times[o->n++] = json_object_get_int64(json_object_array_get_idx(arr, k));
	return 0;
}

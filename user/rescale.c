// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Buckets across a change of limits.
 *
 * A GCRA bucket is one timestamp: how far its "theoretical arrival time" is
 * ahead of now is the debt, in time at the old interval. Left as it is, a
 * source drained under 1/hour stays refused for hours after its limit was
 * raised to 1000/s, which is not what an operator raising a limit at 3 a.m.
 * wants. So the debt is kept in tokens instead: (tat - now) / old interval
 * tokens become that many at the new interval, capped at the new burst
 * (a bucket cannot owe more than it holds). Unlimited now: nothing owed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "rescale.h"

__u64 mxg_tat_rescale(__u64 tat, __u64 now, const struct mxg_limit *o,
		      const struct mxg_limit *n)
{
	unsigned __int128 debt;
	__u64 cap;

	if (tat <= now)
		return tat;
	if (!n->interval_ns || !o->interval_ns)
		return now;
	debt = (unsigned __int128)(tat - now) * n->interval_ns / o->interval_ns;
	cap = (__u64)n->burst * n->interval_ns;
	return now + (debt > cap ? cap : (__u64)debt);
}

static int same(const struct mxg_limit *a, const struct mxg_limit *b)
{
	return a->interval_ns == b->interval_ns && a->burst == b->burst;
}

struct walk {
	int fd;
	__u64 now;
	const struct mxg_limit *old, *new; /* [MXG_SVC_MAX] */
	size_t changed;
	int err;
};

/* Write back one tat at offset `off` of a value, when it moves. */
static int put_back(struct walk *w, const void *k, const void *v, size_t vsize,
		    size_t off, __u32 svc)
{
	__u8 buf[64];
	__u64 tat, t;

	if (svc <= MXG_SVC_NONE || svc >= MXG_SVC_MAX ||
	    same(&w->old[svc], &w->new[svc]) || vsize > sizeof(buf))
		return 0;
	memcpy(&tat, (const __u8 *)v + off, sizeof(tat));
	t = mxg_tat_rescale(tat, w->now, &w->old[svc], &w->new[svc]);
	if (t == tat)
		return 0;
	memcpy(buf, v, vsize);
	memcpy(buf + off, &t, sizeof(t));
	/* Gone meanwhile (evicted, or refilled and deleted): nothing to do. */
	if (bpf_map_update_elem(w->fd, k, buf, BPF_EXIST) && errno != ENOENT)
		return w->err = -errno;
	w->changed++;
	return 0;
}

static int src_cb(const void *k, const void *v, void *ctx)
{
	return put_back(ctx, k, v, sizeof(struct mxg_src_val),
			offsetof(struct mxg_src_val, tat_ns),
			((const struct mxg_src_key *)k)->svc);
}

static int pen_cb(const void *k, const void *v, void *ctx)
{
	return put_back(ctx, k, v, sizeof(struct mxg_pen_val),
			offsetof(struct mxg_pen_val, tat_ns),
			((const struct mxg_src_key *)k)->svc);
}

static int pfx_cb(const void *k, const void *v, void *ctx)
{
	const struct mxg_pfx_val *p = v;

	/* Array slots always exist: BPF_EXIST holds. */
	return put_back(ctx, k, v, sizeof(*p), offsetof(struct mxg_pfx_val, tat_ns),
			p->svc);
}

int mxg_buckets_rescale(const struct mxg_maps *m, const struct mxg_cfg *old,
			const struct mxg_cfg *new, size_t *changed)
{
	struct walk w = { .now = mxg_mono_ns() };
	unsigned s;
	int err;

	*changed = 0;
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		if (!same(&old->limit[s], &new->limit[s]) ||
		    !same(&old->plimit[s], &new->plimit[s]))
			break;
	if (s == MXG_SVC_MAX)
		return 0;

	w.old = old->limit;
	w.new = new->limit;
	w.fd = m->src;
	err = mxg_map_each(m->src, sizeof(struct mxg_src_key),
			   sizeof(struct mxg_src_val), src_cb, &w);
	w.fd = m->pen;
	if (!err)
		err = mxg_map_each(m->pen, sizeof(struct mxg_src_key),
				   sizeof(struct mxg_pen_val), pen_cb, &w);
	w.old = old->plimit;
	w.new = new->plimit;
	w.fd = m->pfx;
	if (!err)
		err = mxg_map_each(m->pfx, sizeof(__u32), sizeof(struct mxg_pfx_val),
				   pfx_cb, &w);
	*changed = w.changed;
	return err ? err : w.err;
}

int mxg_config_apply_live(const struct mxg_maps *m, const struct mxg_config *conf)
{
	struct mxg_cfg *c = mxg_cfg_load(m), *old = malloc(sizeof(*old));
	size_t moved;
	int err = -ENOMEM;

	if (c && old) {
		*old = *c;
		mxg_config_apply(conf, c);
		err = mxg_cfg_store(m, c);
		if (!err)
			err = mxg_buckets_rescale(m, old, c, &moved);
	} else if (!c) {
		err = -EIO;
	}
	free(old);
	free(c);
	return err;
}

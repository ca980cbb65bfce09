// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Network limit episodes for the service, from one reading of mxg_pfx to
 * the next (see netwatch.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "netwatch.h"
#include "bucket.h"

#define LIM_WORDS (MXG_PFX_SLOTS / 64)

int mxg_netwatch_init(struct mxg_netwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->cur = calloc(MXG_PFX_SLOTS, sizeof(*w->cur));
	w->prev = calloc(MXG_PFX_SLOTS, sizeof(*w->prev));
	w->ep = calloc(LIM_WORDS, sizeof(*w->ep));
	if (!w->cur || !w->prev || !w->ep) {
		mxg_netwatch_free(w);
		return -ENOMEM;
	}
	return 0;
}

void mxg_netwatch_free(struct mxg_netwatch *w)
{
	free(w->cur);
	free(w->prev);
	free(w->ep);
	memset(w, 0, sizeof(*w));
}

void mxg_netwatch_news_free(struct mxg_netwatch_news *news)
{
	free(news->started);
	free(news->ended);
	memset(news, 0, sizeof(*news));
}

static int same_owner(const struct mxg_pfx_val *a, const struct mxg_pfx_val *b)
{
	return a->svc == b->svc && a->plen == b->plen &&
	       !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static int push(struct mxg_net_change **arr, size_t *n, size_t *cap,
		const struct mxg_pfx_val *v, __u32 slot)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct mxg_net_change *p = realloc(*arr, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[*n].v = *v;
	(*arr)[(*n)++].slot = slot;
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const struct mxg_net_change *x = a, *y = b;

	if (x->v.drops != y->v.drops)
		return x->v.drops < y->v.drops ? 1 : -1;
	if (x->v.syns != y->v.syns)
		return x->v.syns < y->v.syns ? 1 : -1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

int mxg_netwatch_update(struct mxg_netwatch *w, __u64 now,
			struct mxg_netwatch_news *news)
{
	size_t cap_s = 0, cap_e = 0;
	struct mxg_pfx_val *t;
	__u32 i;
	int err = 0;

	memset(news, 0, sizeof(*news));
	news->first = !w->valid;
	for (i = 0; i < MXG_PFX_SLOTS; i++) {
		const struct mxg_pfx_val *c = &w->cur[i], *p = &w->prev[i];
		__u64 bit = 1ull << (i & 63);
		int in = w->valid && (w->ep[i / 64] & bit);
		int same = w->valid && c->svc && same_owner(p, c);
		int full = mxg_bucket_full(c->tat_ns, now), refused, now_in;

		if (!w->valid)
			/* Before the service: a bucket still draining that
			 * has refused is taken to be in an episode. */
			refused = c->svc && !full && c->drops;
		else
			refused = c->svc && (same ? c->drops > p->drops : c->drops > 0);
		now_in = refused || (in && same && !full);
		if (in && !(same && now_in))
			err = err ? err : push(&news->ended, &news->nended, &cap_e,
					       same ? c : p, i);
		if (now_in && !(in && same) && w->valid)
			err = err ? err : push(&news->started, &news->nstarted, &cap_s, c, i);
		news->limited += now_in;
		if (now_in)
			w->ep[i / 64] |= bit;
		else
			w->ep[i / 64] &= ~bit;
	}
	/* What is read now is the last reading for the next one. */
	t = w->prev;
	w->prev = w->cur;
	w->cur = t;
	w->valid = 1;
	if (err) {
		mxg_netwatch_news_free(news);
		return err;
	}
	if (news->nstarted)
		qsort(news->started, news->nstarted, sizeof(*news->started), cmp_change);
	if (news->nended)
		qsort(news->ended, news->nended, sizeof(*news->ended), cmp_change);
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The service's view of outbound episodes: what is new since the last read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "outwatch.h"

static int key_cmp(const void *a, const void *b)
{
	const struct mxo_lkey *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int was_limited(const struct mxo_watch *w, const struct mxo_lkey *k)
{
	return w->nlimited &&
	       bsearch(k, w->limited, w->nlimited, sizeof(*k), key_cmp);
}

/* The keys flagged limited in this reading, sorted. */
static int limited_keys(const struct mxo_lrow *rows, size_t n,
			struct mxo_lkey **out, size_t *nout)
{
	struct mxo_lkey *k = calloc(n ? n : 1, sizeof(*k));
	size_t i, m = 0;

	if (!k)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (rows[i].r.flags & MXO_LF_LIMITED) {
			memset(&k[m], 0, sizeof(k[m]));
			k[m].id = rows[i].k.id;
			k[m++].kind = rows[i].k.kind;
		}
	if (m)
		qsort(k, m, sizeof(*k), key_cmp);
	*out = k;
	*nout = m;
	return 0;
}

int mxo_watch_update(struct mxo_watch *w, const struct mxo_total *t,
		     const struct mxo_lrow *rows, size_t n,
		     struct mxo_watch_news *news)
{
	struct mxo_lkey *keys;
	size_t i, nkeys;
	int err;

	memset(news, 0, sizeof(*news));
	err = limited_keys(rows, n, &keys, &nkeys);
	if (err)
		return err;
	news->rows = calloc(n ? n : 1, sizeof(*news->rows));
	if (!news->rows) {
		free(keys);
		return -ENOMEM;
	}
	if (w->valid) {
		/* Counters only grow; a smaller one means new maps (the
		 * pins were removed and the programs attached again). */
		news->warn = t->warn_episodes >= w->warn_episodes ?
			     t->warn_episodes - w->warn_episodes : t->warn_episodes;
		news->cap = t->cap_episodes >= w->cap_episodes ?
			    t->cap_episodes - w->cap_episodes : t->cap_episodes;
		for (i = 0; i < n; i++)
			if ((rows[i].r.flags & MXO_LF_LIMITED) &&
			    !was_limited(w, &rows[i].k))
				news->rows[news->nrows++] = i;
	}
	free(w->limited);
	w->limited = keys;
	w->nlimited = nkeys;
	w->warn_episodes = t->warn_episodes;
	w->cap_episodes = t->cap_episodes;
	w->valid = 1;
	return 0;
}

void mxo_watch_free(struct mxo_watch *w)
{
	free(w->limited);
	memset(w, 0, sizeof(*w));
}

const struct mxo_rec_row *mxo_busiest(const struct mxo_rec_row *rows, size_t n)
{
	const struct mxo_rec_row *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].per_min && (!best || rows[i].per_min > best->per_min))
			best = &rows[i];
	return best;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the service alerts on from the outbound side: a warn or cap episode
 * that started, a uid or cgroup newly refused by its limit. Read from the
 * maps (the episode counters of mxo_total, the limited flag of each mxo_local
 * record), not from the ring buffer, so that `mxguard events` keeps every
 * event, as escalation does with the penalty table. */
#ifndef MXG_OUTWATCH_H
#define MXG_OUTWATCH_H

#include <stddef.h>
#include "outbound.h"

struct mxo_watch {
	int valid;                   /* a first reading was taken */
	__u32 warn_episodes, cap_episodes;
	struct mxo_lkey *limited;    /* flagged limited then, sorted */
	size_t nlimited;
};

/* Since the last reading. */
struct mxo_watch_news {
	__u32 warn, cap;             /* episodes started */
	size_t *rows;                /* indexes into the rows given, newly
				      * limited (free()) */
	size_t nrows;
};

/* Compare a reading (the total and every uid and cgroup record) with the
 * last one and keep it. The first reading only takes note: what was going
 * on before the service started is not news. A record counts as limited from
 * its first refusal until its episode ends (MXO_LF_LIMITED); one whose
 * episode ends and another starts between two readings is not seen again. */
int mxo_watch_update(struct mxo_watch *w, const struct mxo_total *t,
		     const struct mxo_lrow *rows, size_t n,
		     struct mxo_watch_news *news);
void mxo_watch_free(struct mxo_watch *w);

/* The busiest row over the last minute (by per_min), or NULL. */
const struct mxo_rec_row *mxo_busiest(const struct mxo_rec_row *rows, size_t n);

#endif /* MXG_OUTWATCH_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Buckets across a change of limits: the debt of a drained bucket is kept in
 * tokens, not in time (see rescale.c). */
#ifndef MXG_RESCALE_H
#define MXG_RESCALE_H

#include <stddef.h>
#include "maps.h"
#include "config.h"

/* tat of a bucket under limit o, as a bucket under limit n at `now`. */
__u64 mxg_tat_rescale(__u64 tat, __u64 now, const struct mxg_limit *o,
		      const struct mxg_limit *n);

/* Every source, penalty and network bucket of a service whose limit differs
 * between old and new; *changed: buckets rewritten. Call after storing new. */
int mxg_buckets_rescale(const struct mxg_maps *m, const struct mxg_cfg *old,
			const struct mxg_cfg *new, size_t *changed);

/* Apply a config file's limits, ports, prefixes and mode to the live slot
 * (mxg_config_apply), then carry drained buckets over to the new limits. */
int mxg_config_apply_live(const struct mxg_maps *m, const struct mxg_config *conf);

#endif

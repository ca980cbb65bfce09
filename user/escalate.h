/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Escalation: a source that keeps running over its limit is banned, for
 * longer each time. Offences are read from the penalty table (mxg_pen holds
 * exactly the sources over their limit now), so no ring-buffer consumer is
 * needed and `mxguard events` keeps all events. */
#ifndef MXG_ESCALATE_H
#define MXG_ESCALATE_H

#include <stdio.h>
#include "addr.h"
#include "maps.h"

#define MXG_ESC_MAX_STEPS 8
#define MXG_ESC_MAX_OFFENCES 16   /* remembered per source */
#define MXG_ESC_CAPACITY 65536    /* sources tracked; more are not */
#define MXG_ESC_FEED "escalation"

struct mxg_esc_cfg {
	__u64 steps_s[MXG_ESC_MAX_STEPS]; /* ban length of the 1st, 2nd, ... ban */
	unsigned n_steps;
	__u64 window_s;                   /* offences older than this are forgotten */
	unsigned after;                   /* offences within the window before a ban */
};

struct mxg_esc_ban {
	struct mxg_cidr cidr;             /* the source key as a CIDR */
	unsigned ban_no;                  /* 1 for the first ban of this source */
	unsigned offences;                /* within the window */
	__u64 ttl_s;
};

struct mxg_esc;

int mxg_esc_new(struct mxg_esc **e, const struct mxg_esc_cfg *cfg);
void mxg_esc_free(struct mxg_esc *e);
/* New configuration, keeping the history. */
void mxg_esc_reconfigure(struct mxg_esc *e, const struct mxg_esc_cfg *cfg);

/* Read the penalty table; every source newly in it is an offence; a source
 * with `after` offences within the window is banned into feed
 * "escalation" for the next step's TTL. on_ban is called for each ban. */
int mxg_esc_poll(struct mxg_esc *e, const struct mxg_maps *m, __u64 now_s,
		 void (*on_ban)(const struct mxg_esc_ban *b, void *ctx),
		 void *ctx);

/* The history as JSON Lines ({"type":"offender",...}), for the state
 * snapshot and dumps; and back from one such line. */
int mxg_esc_write(const struct mxg_esc *e, FILE *f);
struct json_object;
int mxg_esc_read(struct mxg_esc *e, struct json_object *o);

#endif /* MXG_ESCALATE_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The state snapshot: allow and block entries (with wall-clock expiries),
 * feeds, limits and mode, written atomically to the state directory and
 * restored after a reboot has taken the pinned maps away. */
#ifndef MXG_STATE_H
#define MXG_STATE_H

#include <stddef.h>
#include <stdio.h>
#include "maps.h"

#define MXG_STATE_DIR_DEFAULT "/var/lib/mxguard"
#define MXG_STATE_FILE "state.jsonl.gz"
#define MXG_STATE_SCHEMA 1

struct mxg_state_stats {
	size_t allow, block, feeds;
	size_t expired;   /* restore: block entries past their expiry, skipped */
};

/* $MXGUARD_STATE_DIR, else conf_dir (may be NULL), else the default. */
const char *mxg_state_dir(const char *conf_dir);

/* Create the state directory (0700) if missing; refuses a symlink. */
int mxg_state_dir_prepare(const char *dir);

/* Write dir/name atomically: fill() writes into a temporary file in dir
 * (0600, gzip-compressed when gzip), then fsync, rename over name, fsync
 * of the directory. Never follows symlinks. */
int mxg_atomic_write(const char *dir, const char *name, int gzip,
		     int (*fill)(FILE *f, void *ctx), void *ctx);

/* Write the snapshot: temporary file in dir, fsync, rename over
 * MXG_STATE_FILE, fsync of the directory. Never follows symlinks. */
int mxg_state_write(const struct mxg_maps *m, const char *dir,
		    struct mxg_state_stats *st);

/* Restore a snapshot into (fresh) maps: mode and limits into the config
 * slot, feeds, allow entries, block entries with their remaining TTL.
 * -ENOENT when there is no snapshot. */
int mxg_state_restore(const struct mxg_maps *m, const char *dir,
		      struct mxg_state_stats *st);

#endif /* MXG_STATE_H */

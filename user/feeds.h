/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Whole lists into the blocklist: the partner-safety check, load (add or
 * renew) and sync (make one feed hold exactly a list). Shared by the
 * `block load/sync` commands and the service's feed refresh. */
#ifndef MXG_FEEDS_H
#define MXG_FEEDS_H

#include "listfmt.h"
#include "lists.h"

/* What every entry written gets. */
struct mxg_apply {
	int feed_id;
	__u32 reason_id;
	__u64 ttl_s;      /* 0: no expiry */
};

struct mxg_apply_result {
	size_t added;     /* new entries written (load: new or renewed) */
	size_t removed;   /* sync: entries of the feed not in the list */
	size_t same;      /* sync: in both, untouched */
	size_t others;    /* owned by another feed, left alone */
	size_t shadowed;  /* overlapping the allowlist (loaded with force) */
};

/* Blocks broader than these need force: one typo must not cut off a
 * continent. */
#define MXG_BLOCK_MIN_V4 8
#define MXG_BLOCK_MIN_V6 24

/* Check every entry before anything is written: broader than the minimum
 * prefix, or overlapping the allowlist, fails the list (naming name:line,
 * both ranges and the allowlist comment) unless force; with force an
 * overlap is only counted (the allowlist wins in the program anyway). */
int mxg_list_check(const char *name, const struct mxg_list *l,
		   const struct mxg_allow_entry *allow, size_t nallow,
		   int force, size_t *shadowed);

/* Add or renew every entry (keeping hit counts); entries another feed owns
 * are left alone. */
int mxg_feed_load(const struct mxg_maps *m, const struct mxg_list *l,
		  const struct mxg_apply *a, struct mxg_apply_result *r);

/* Make feed a->feed_id hold exactly the list: adds the new, then removes
 * the gone; entries in both are never touched, so they never leave the
 * kernel; other feeds' entries are left alone. */
int mxg_feed_sync(const struct mxg_maps *m, const struct mxg_list *l,
		  const struct mxg_apply *a, struct mxg_apply_result *r);

/* Add or update every entry of l in the allowlist, keeping hit counts and
 * the time added; a line's own comment names the partner, def (may be
 * NULL) is used for lines without one. */
int mxg_allow_apply(const struct mxg_maps *m, const struct mxg_list *l,
		    const char *def);

/* Stamp the feed's last load/sync time. */
void mxg_feed_touch(const struct mxg_maps *m, int feed_id);

/* 1-31 letters, digits, '-', '_' or '.'. */
int mxg_feed_name_valid(const char *s);

#endif /* MXG_FEEDS_H */

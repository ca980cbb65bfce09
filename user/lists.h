/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Allow and block entries in the pinned maps: iterate, get, put, delete.
 * Exact addresses of the blocklist live in the hash, prefixes in the trie;
 * callers see one list of CIDRs. */
#ifndef MXG_LISTS_H
#define MXG_LISTS_H

#include "addr.h"
#include "maps.h"

struct mxg_allow_entry {
	struct mxg_cidr cidr;
	struct mxg_allow_val v;
};

struct mxg_block_entry {
	struct mxg_cidr cidr;
	struct mxg_block_val v;
};

/* Every entry, in map order; a callback returning non-zero stops the walk
 * and is returned. */
int mxg_allow_each(const struct mxg_maps *m,
		   int (*cb)(const struct mxg_allow_entry *e, void *ctx),
		   void *ctx);
int mxg_block_each(const struct mxg_maps *m,
		   int (*cb)(const struct mxg_block_entry *e, void *ctx),
		   void *ctx);

/* All allow entries in one array (free()), sorted by address. */
int mxg_allow_all(const struct mxg_maps *m, struct mxg_allow_entry **out,
		  size_t *n);

/* The allowlist entry that overlaps c (the first found), if any: 1 found,
 * 0 none, <0 error. */
int mxg_allow_overlap(const struct mxg_allow_entry *all, size_t n,
		      const struct mxg_cidr *c, const struct mxg_allow_entry **hit);

int mxg_allow_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		  struct mxg_allow_val *v);
/* The program's view of the lists (struct mxg_lists). Every insert into
 * allow or block is followed by mxg_lists_note(): the lists that got
 * entries (MXG_LISTS_*), the trie keys put (for the longest prefix and the
 * allow or block-trie filter), the exact addresses put (block-hash
 * filter), and a new generation. mxg_lists_recount() clears what has
 * become empty; done by mxg_maps_touch(). Both take the lock holder's
 * word: only lock holders write. */
int mxg_lists_note(int lists_fd, unsigned has, const struct mxg_lpm_key *tk,
		   size_t nt, const union mxg_addr *hk, size_t nh);
int mxg_lists_recount(const struct mxg_maps *m);
/* A copy of the one slot of mxg_lists (malloc'd: it holds the filters,
 * 48 KiB); NULL with *err set. */
struct mxg_lists *mxg_lists_read(int lists_fd, int *err);
/* The MXG_LISTS_* bits an exact block entry for a notes (IPv6 ones also
 * MXG_LISTS_BLOCK_H6: the program may then not trust its cache for them). */
unsigned mxg_lists_exact_has(const union mxg_addr *a);

int mxg_allow_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_allow_val *v);
int mxg_allow_del(const struct mxg_maps *m, const struct mxg_cidr *c);

/* 1 if c is a single address (kept in the exact-match hash). */
int mxg_block_is_exact(const struct mxg_cidr *c);
int mxg_block_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		  struct mxg_block_val *v);
int mxg_block_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_block_val *v);
int mxg_block_del(const struct mxg_maps *m, const struct mxg_cidr *c);

/* Longest-prefix matches for one address, as the program sees them: 1 when
 * found (entry filled), 0 when not. */
int mxg_allow_match(const struct mxg_maps *m, const union mxg_addr *a,
		    struct mxg_allow_entry *e);
int mxg_block_match(const struct mxg_maps *m, const union mxg_addr *a,
		    struct mxg_block_entry *e);

/* 1 if a block entry is past its expiry at monotonic time now_ns. */
static inline int mxg_block_expired(const struct mxg_block_val *v, __u64 now_ns)
{
	return v->expires_ns && v->expires_ns <= now_ns;
}

#endif /* MXG_LISTS_H */

/* ---- bulk operations (load, sync, gc) ------------------------------------ */

/* Write n entries (values parallel to cidrs), in batches: exact addresses
 * to the hash, prefixes to the trie. */
int mxg_block_put_many(const struct mxg_maps *m, const struct mxg_cidr *c,
		       const struct mxg_block_val *v, size_t n);
/* Delete n entries; entries already gone are not an error. */
int mxg_block_del_many(const struct mxg_maps *m, const struct mxg_cidr *c,
		       size_t n);

/* Every block entry (free() *out), optionally only those of one feed
 * (feed < 0: all). */
int mxg_block_collect(const struct mxg_maps *m, int feed,
		      struct mxg_block_entry **out, size_t *n);

/* Total order on CIDRs (address, then prefix length), for sorting and
 * merging lists. */
int mxg_cidr_cmp(const struct mxg_cidr *a, const struct mxg_cidr *b);

/* Remove every expired block entry (the program already ignores them);
 * *n is how many. Callers hold the lock. */
int mxg_block_gc_run(const struct mxg_maps *m, size_t *n);

/* Forget limited sources whose bucket has refilled (the program forgets them
 * too when they come back); *n is how many. */
int mxg_pen_gc_run(const struct mxg_maps *m, size_t *n);

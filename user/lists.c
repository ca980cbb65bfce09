// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Allow and block entries in the pinned maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "lists.h"
#include "log.h"

#define BATCH 4096

/* Every entry of an LPM trie. */
static int lpm_each(int fd, size_t vsize,
		    int (*cb)(const void *k, const void *v, void *ctx), void *ctx)
{
	return mxg_map_each(fd, sizeof(struct mxg_lpm_key), vsize, cb, ctx);
}

struct allow_ctx {
	int (*cb)(const struct mxg_allow_entry *e, void *ctx);
	void *ctx;
};

static int allow_cb(const void *k, const void *v, void *ctx)
{
	struct allow_ctx *a = ctx;
	struct mxg_allow_entry e;

	mxg_cidr_from_key(k, &e.cidr);
	memcpy(&e.v, v, sizeof(e.v));
	return a->cb(&e, a->ctx);
}

int mxg_allow_each(const struct mxg_maps *m,
		   int (*cb)(const struct mxg_allow_entry *e, void *ctx),
		   void *ctx)
{
	struct allow_ctx a = { cb, ctx };

	return lpm_each(m->allow, sizeof(struct mxg_allow_val), allow_cb, &a);
}

struct block_ctx {
	int (*cb)(const struct mxg_block_entry *e, void *ctx);
	void *ctx;
};

static int block_trie_cb(const void *k, const void *v, void *ctx)
{
	struct block_ctx *b = ctx;
	struct mxg_block_entry e;

	mxg_cidr_from_key(k, &e.cidr);
	memcpy(&e.v, v, sizeof(e.v));
	return b->cb(&e, b->ctx);
}

static int block_hash_cb(const void *k, const void *v, void *ctx)
{
	struct block_ctx *b = ctx;
	struct mxg_block_entry e;

	memcpy(&e.cidr.addr, k, sizeof(e.cidr.addr));
	e.cidr.plen = 128;
	e.cidr.v4 = mxg_addr_is_v4(&e.cidr.addr);
	memcpy(&e.v, v, sizeof(e.v));
	return b->cb(&e, b->ctx);
}

int mxg_block_each(const struct mxg_maps *m,
		   int (*cb)(const struct mxg_block_entry *e, void *ctx),
		   void *ctx)
{
	struct block_ctx b = { cb, ctx };
	int err;

	/* A million exact entries in a few hundred batch calls. */
	err = mxg_map_each(m->block_h, sizeof(union mxg_addr),
			   sizeof(struct mxg_block_val), block_hash_cb, &b);
	if (err)
		return err;
	return lpm_each(m->block_t, sizeof(struct mxg_block_val), block_trie_cb, &b);
}

struct collect {
	struct mxg_allow_entry *v;
	size_t n, cap;
};

static int collect_cb(const struct mxg_allow_entry *e, void *ctx)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct mxg_allow_entry *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 0;
}

static int cmp_allow(const void *a, const void *b)
{
	const struct mxg_allow_entry *x = a, *y = b;
	int r = memcmp(&x->cidr.addr, &y->cidr.addr, sizeof(x->cidr.addr));

	return r ? r : (int)x->cidr.plen - (int)y->cidr.plen;
}

int mxg_allow_all(const struct mxg_maps *m, struct mxg_allow_entry **out,
		  size_t *n)
{
	struct collect c = { 0 };
	int err = mxg_allow_each(m, collect_cb, &c);

	if (err) {
		free(c.v);
		return err;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), cmp_allow);
	*out = c.v;
	*n = c.n;
	return 0;
}

int mxg_allow_overlap(const struct mxg_allow_entry *all, size_t n,
		      const struct mxg_cidr *c, const struct mxg_allow_entry **hit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (mxg_cidr_overlap(&all[i].cidr, c)) {
			if (hit)
				*hit = &all[i];
			return 1;
		}
	return 0;
}

static int ret_errno(void)
{
	return errno == ENOENT ? -ENOENT : mxg_sys(-errno);
}

/* The value of exactly prefix k of an LPM trie: a lookup returns the
 * longest match, so the key is then looked for among the trie's keys. */
static int lpm_get(int fd, const struct mxg_lpm_key *k, void *v)
{
	struct mxg_lpm_key next, cur, *prev = NULL;

	if (bpf_map_lookup_elem(fd, k, v))
		return ret_errno();
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!memcmp(&next, k, sizeof(*k)))
			return 0;
		cur = next;
		prev = &cur;
	}
	return -ENOENT;
}

/* The longest prefix of an LPM trie holding a, value in v and prefix in
 * *c: 1 found, 0 none. The kernel's lookup gives the value, not the
 * prefix, so the prefix is found by walking the keys (tries here hold
 * partners or prefixes, few next to the exact entries of the hash). */
static int lpm_match(int fd, const union mxg_addr *a, void *v, struct mxg_cidr *c)
{
	struct mxg_lpm_key k = { .prefixlen = 128, .addr = *a };
	struct mxg_lpm_key next, cur, *prev = NULL;
	int best = -1;

	if (bpf_map_lookup_elem(fd, &k, v))
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct mxg_cidr n;

		mxg_cidr_from_key(&next, &n);
		if (mxg_cidr_contains(&n, a) && (int)n.plen > best) {
			best = n.plen;
			*c = n;
		}
		cur = next;
		prev = &cur;
	}
	return best >= 0;
}

int mxg_allow_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		  struct mxg_allow_val *v)
{
	struct mxg_lpm_key k;

	mxg_cidr_to_key(c, &k);
	return lpm_get(m->allow, &k, v);
}

/* ---- what the program may skip: struct mxg_lists ---- */

/* Every /24 (/48) a prefix of len bits (of its family) covers, in the
 * filter bitmap f of that family: one for a prefix at least that long. */
static void filt_set(__u64 *f, const union mxg_addr *a, unsigned len, int v6)
{
	unsigned g = v6 ? MXG_LFILT_G6 : MXG_LFILT_G4;
	__u64 base, n, i;
	union mxg_addr x = *a;
	__u32 bit;

	if (len < g && g - len >= MXG_LFILT_BITS_LOG) {
		/* covers at least as many /24s as there are bits */
		memset(f, 0xff, MXG_LFILT_WORDS * sizeof(*f));
		return;
	}
	n = len < g ? 1ull << (g - len) : 1;
	if (v6)
		base = ((__u64)ntohl(a->w[0]) << 16 | ntohl(a->w[1]) >> 16) & ~(n - 1);
	else
		base = (ntohl(a->w[3]) >> 8) & ~(n - 1);
	for (i = 0; i < n; i++) {
		__u64 v = base + i;

		if (v6) {
			x.w[0] = htonl((__u32)(v >> 16));
			x.w[1] = htonl((__u32)(v & 0xffff) << 16);
		} else {
			x.w[3] = htonl((__u32)v << 8);
		}
		bit = mxg_lfilt_bit(&x, v6);
		f[bit >> 6] |= 1ull << (bit & 63);
	}
}

static void note_key(struct mxg_lists *l, int list, const struct mxg_lpm_key *k)
{
	if (k->prefixlen >= 96 && mxg_addr_is_v4(&k->addr)) {
		if (k->prefixlen - 96 > l->max_len4)
			l->max_len4 = k->prefixlen - 96;
		filt_set(l->filt[list][0], &k->addr, k->prefixlen - 96, 0);
	} else {
		if (k->prefixlen > l->max_len6)
			l->max_len6 = k->prefixlen;
		filt_set(l->filt[list][1], &k->addr, k->prefixlen, 1);
	}
}

struct mxg_lists *mxg_lists_read(int fd, int *err)
{
	struct mxg_lists *l = malloc(sizeof(*l));
	__u32 zero = 0;

	*err = 0;
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	if (bpf_map_lookup_elem(fd, &zero, l)) {
		*err = ret_errno();
		free(l);
		return NULL;
	}
	return l;
}

int mxg_lists_note(int fd, unsigned has, const struct mxg_lpm_key *tk,
		   size_t nt, const union mxg_addr *hk, size_t nh)
{
	struct mxg_lists *l;
	__u32 zero = 0;
	size_t i;
	int err;

	/* A list outside the XDP program (the outbound allowlist): no view. */
	if (fd < 0)
		return 0;
	l = mxg_lists_read(fd, &err);
	if (!l)
		return err;
	l->has |= has;
	/* Trie keys are the allowlist's or the block trie's: one call
	 * never mixes the two. */
	for (i = 0; i < nt; i++)
		note_key(l, has & MXG_LISTS_ALLOW ? MXG_LF_ALLOW : MXG_LF_BLOCK_T,
			 &tk[i]);
	for (i = 0; i < nh; i++) {
		int v6 = !mxg_addr_is_v4(&hk[i]);

		filt_set(l->filt[MXG_LF_BLOCK_H][v6], &hk[i], v6 ? 128 : 32, v6);
	}
	/* After the insert, never before: a source that cached "no match"
	 * while the entry was on its way sees a new generation (and the
	 * entry's filter bit is published with it). */
	l->gen++;
	if (bpf_map_update_elem(fd, &zero, l, BPF_ANY))
		err = ret_errno();
	free(l);
	return err;
}

static int map_empty(int fd)
{
	__u8 key[sizeof(struct mxg_lpm_key)];

	return bpf_map_get_next_key(fd, NULL, key) && errno == ENOENT;
}

int mxg_lists_recount(const struct mxg_maps *m)
{
	/* In enum mxg_lfilt_list order. */
	const struct { unsigned bit; int fd; } lists[MXG_LF_N] = {
		{ MXG_LISTS_ALLOW, m->allow }, { MXG_LISTS_BLOCK_H, m->block_h },
		{ MXG_LISTS_BLOCK_T, m->block_t },
	};
	struct mxg_lists *l;
	__u32 zero = 0;
	unsigned i, old_has;
	int err, changed = 0;

	l = mxg_lists_read(m->lists, &err);
	if (!l)
		return err;
	old_has = l->has;
	for (i = 0; i < MXG_LF_N; i++)
		if ((l->has & lists[i].bit) && map_empty(lists[i].fd)) {
			l->has &= ~lists[i].bit;
			memset(l->filt[i], 0, sizeof(l->filt[i]));
		}
	if (!(l->has & MXG_LISTS_BLOCK_H))
		l->has &= ~MXG_LISTS_BLOCK_H6;
	if (!(l->has & (MXG_LISTS_ALLOW | MXG_LISTS_BLOCK_T)) &&
	    (l->max_len4 || l->max_len6)) {
		l->max_len4 = l->max_len6 = 0;
		changed = 1;
	}
	if (l->has == old_has && !changed)
		goto out;
	l->gen++;
	if (bpf_map_update_elem(m->lists, &zero, l, BPF_ANY))
		err = ret_errno();
out:
	free(l);
	return err;
}

int mxg_allow_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_allow_val *v)
{
	struct mxg_lpm_key k;
	int r;

	mxg_cidr_to_key(c, &k);
	r = bpf_map_update_elem(m->allow, &k, v, BPF_ANY);
	if (r) {
		int err = errno;

		mxg_err("cannot write the allowlist: %s%s", strerror(err),
			err == ENOSPC ? " (allowlist full)" : "");
		return mxg_sys(-err);
	}
	return mxg_lists_note(m->lists, MXG_LISTS_ALLOW, &k, 1, NULL, 0);
}

int mxg_allow_del(const struct mxg_maps *m, const struct mxg_cidr *c)
{
	struct mxg_lpm_key k;

	mxg_cidr_to_key(c, &k);
	return bpf_map_delete_elem(m->allow, &k) ? ret_errno() : 0;
}

int mxg_block_is_exact(const struct mxg_cidr *c)
{
	return c->plen == 128;
}

int mxg_block_get(const struct mxg_maps *m, const struct mxg_cidr *c,
		  struct mxg_block_val *v)
{
	struct mxg_lpm_key k;

	if (mxg_block_is_exact(c))
		return bpf_map_lookup_elem(m->block_h, &c->addr, v) ? ret_errno() : 0;
	mxg_cidr_to_key(c, &k);
	return lpm_get(m->block_t, &k, v);
}

unsigned mxg_lists_exact_has(const union mxg_addr *a)
{
	return MXG_LISTS_BLOCK_H | (mxg_addr_is_v4(a) ? 0 : MXG_LISTS_BLOCK_H6);
}

int mxg_block_put(const struct mxg_maps *m, const struct mxg_cidr *c,
		  const struct mxg_block_val *v)
{
	struct mxg_lpm_key k;
	int r;

	if (mxg_block_is_exact(c)) {
		r = bpf_map_update_elem(m->block_h, &c->addr, v, BPF_ANY);
	} else {
		mxg_cidr_to_key(c, &k);
		r = bpf_map_update_elem(m->block_t, &k, v, BPF_ANY);
	}
	if (r) {
		int err = errno;

		mxg_err("cannot write the blocklist: %s%s", strerror(err),
			err == E2BIG || err == ENOSPC ? " (blocklist full)" : "");
		return mxg_sys(-err);
	}
	if (mxg_block_is_exact(c))
		return mxg_lists_note(m->lists, mxg_lists_exact_has(&c->addr),
				      NULL, 0, &c->addr, 1);
	return mxg_lists_note(m->lists, MXG_LISTS_BLOCK_T, &k, 1, NULL, 0);
}

int mxg_block_del(const struct mxg_maps *m, const struct mxg_cidr *c)
{
	struct mxg_lpm_key k;

	if (mxg_block_is_exact(c))
		return bpf_map_delete_elem(m->block_h, &c->addr) ? ret_errno() : 0;
	mxg_cidr_to_key(c, &k);
	return bpf_map_delete_elem(m->block_t, &k) ? ret_errno() : 0;
}

int mxg_allow_match(const struct mxg_maps *m, const union mxg_addr *a,
		    struct mxg_allow_entry *e)
{
	return lpm_match(m->allow, a, &e->v, &e->cidr);
}

int mxg_block_match(const struct mxg_maps *m, const union mxg_addr *a,
		    struct mxg_block_entry *e)
{
	if (!bpf_map_lookup_elem(m->block_h, a, &e->v)) {
		e->cidr.addr = *a;
		e->cidr.plen = 128;
		e->cidr.v4 = mxg_addr_is_v4(a);
		return 1;
	}
	return lpm_match(m->block_t, a, &e->v, &e->cidr);
}

int mxg_cidr_cmp(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	int r = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return r ? r : (int)a->plen - (int)b->plen;
}

/* Batched update of one map; keys are built by `key` from each CIDR. */
static int put_batch(int fd, size_t ksize, const void *keys, const void *vals,
		     size_t n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	size_t done = 0;

	while (done < n) {
		__u32 count = n - done > BATCH ? BATCH : n - done;

		if (bpf_map_update_batch(fd, (const char *)keys + done * ksize,
					 (const char *)vals + done * sizeof(struct mxg_block_val),
					 &count, &opts)) {
			int err = errno;

			mxg_err("cannot write the blocklist (%s): %s%s", what,
				strerror(err),
				err == E2BIG || err == ENOSPC || err == ENOMEM ?
				" (blocklist full?)" : "");
			return mxg_sys(-err);
		}
		done += count;
	}
	return 0;
}

/* Split CIDRs into hash keys and trie keys, values alongside. */
struct split {
	union mxg_addr *hk;
	struct mxg_lpm_key *tk;
	struct mxg_block_val *hv, *tv;
	size_t nh, nt;
	unsigned has; /* MXG_LISTS_* of the entries */
};

static int split_cidrs(const struct mxg_cidr *c, const struct mxg_block_val *v,
		       size_t n, struct split *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->hk = malloc((n ? n : 1) * sizeof(*s->hk));
	s->tk = malloc((n ? n : 1) * sizeof(*s->tk));
	s->hv = malloc((n ? n : 1) * sizeof(*s->hv));
	s->tv = malloc((n ? n : 1) * sizeof(*s->tv));
	if (!s->hk || !s->tk || !s->hv || !s->tv)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (mxg_block_is_exact(&c[i])) {
			s->has |= mxg_lists_exact_has(&c[i].addr);
			s->hk[s->nh] = c[i].addr;
			if (v)
				s->hv[s->nh] = v[i];
			s->nh++;
		} else {
			s->has |= MXG_LISTS_BLOCK_T;
			mxg_cidr_to_key(&c[i], &s->tk[s->nt]);
			if (v)
				s->tv[s->nt] = v[i];
			s->nt++;
		}
	}
	return 0;
}

static void split_free(struct split *s)
{
	free(s->hk);
	free(s->tk);
	free(s->hv);
	free(s->tv);
}

int mxg_block_put_many(const struct mxg_maps *m, const struct mxg_cidr *c,
		       const struct mxg_block_val *v, size_t n)
{
	struct split s;
	int err = split_cidrs(c, v, n, &s);

	if (!err)
		err = put_batch(m->block_h, sizeof(*s.hk), s.hk, s.hv, s.nh,
				"addresses");
	if (!err)
		err = put_batch(m->block_t, sizeof(*s.tk), s.tk, s.tv, s.nt,
				"prefixes");
	/* Also after a failure: part of the batch may be in. */
	if (s.nh || s.nt) {
		int e = mxg_lists_note(m->lists, s.has, s.tk, s.nt, s.hk, s.nh);

		if (!err && e)
			err = mxg_sys(e);
	}
	split_free(&s);
	return err;
}

/* Batched delete; a batch stops at the first missing key, so on ENOENT the
 * rest of that batch is deleted one by one. */
static int del_batch(int fd, size_t ksize, const void *keys, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;

	while (done < n) {
		__u32 count = n - done > BATCH ? BATCH : n - done;
		const char *k = (const char *)keys + done * ksize;

		if (bpf_map_delete_batch(fd, k, &count, &opts)) {
			if (errno != ENOENT)
				return mxg_sys(-errno);
			/* count keys were deleted; skip the missing one. */
			count++;
		}
		done += count;
	}
	return 0;
}

int mxg_block_del_many(const struct mxg_maps *m, const struct mxg_cidr *c,
		       size_t n)
{
	struct split s;
	int err = split_cidrs(c, NULL, n, &s);

	if (!err)
		err = del_batch(m->block_h, sizeof(*s.hk), s.hk, s.nh);
	if (!err)
		err = del_batch(m->block_t, sizeof(*s.tk), s.tk, s.nt);
	if (err)
		mxg_err("cannot delete from the blocklist: %s", strerror(-err));
	split_free(&s);
	return err;
}

struct bcollect {
	struct mxg_block_entry *v;
	size_t n, cap;
	int feed;
};

static int bcollect_cb(const struct mxg_block_entry *e, void *ctx)
{
	struct bcollect *c = ctx;

	if (c->feed >= 0 && e->v.feed_id != (__u32)c->feed)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct mxg_block_entry *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 0;
}

int mxg_block_collect(const struct mxg_maps *m, int feed,
		      struct mxg_block_entry **out, size_t *n)
{
	struct bcollect c = { .feed = feed };
	int err = mxg_block_each(m, bcollect_cb, &c);

	if (err) {
		free(c.v);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

int mxg_block_gc_run(const struct mxg_maps *m, size_t *n)
{
	struct mxg_block_entry *all = NULL;
	struct mxg_cidr *dead = NULL;
	size_t nall = 0, i;
	__u64 now = mxg_mono_ns();
	int err;

	*n = 0;
	err = mxg_block_collect(m, -1, &all, &nall);
	if (err)
		return err;
	dead = malloc((nall ? nall : 1) * sizeof(*dead));
	if (!dead) {
		free(all);
		return -ENOMEM;
	}
	for (i = 0; i < nall; i++)
		if (mxg_block_expired(&all[i].v, now))
			dead[(*n)++] = all[i].cidr;
	err = mxg_block_del_many(m, dead, *n);
	free(all);
	free(dead);
	return err;
}

int mxg_pen_gc_run(const struct mxg_maps *m, size_t *n)
{
	struct mxg_src_key key, next, *prev = NULL;
	struct mxg_pen_val pv;
	__u64 now = mxg_mono_ns();

	*n = 0;
	/* Deleting the current key would restart the walk: remember the
	 * stale ones and delete behind. */
	while (!bpf_map_get_next_key(m->pen, prev, &next)) {
		if (prev && !bpf_map_lookup_elem(m->pen, &key, &pv) && pv.tat_ns <= now &&
		    !bpf_map_delete_elem(m->pen, &key))
			(*n)++;
		key = next;
		prev = &key;
	}
	if (prev && !bpf_map_lookup_elem(m->pen, &key, &pv) && pv.tat_ns <= now &&
	    !bpf_map_delete_elem(m->pen, &key))
		(*n)++;
	return 0;
}

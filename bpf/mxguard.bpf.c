// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP entry of mxguard: parse -> classify by port -> allow -> block ->
 * new-connection check -> lockdown -> per-source token bucket -> verdict. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mxguard.h"
#include "parse.h"
#include "bucket.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The config slot, written by the controller through the map of its
 * section (pinned as "mxg_cfg": an array of one struct mxg_cfg). Global
 * data, so the program reads it at a fixed address, without a lookup. */
struct mxg_cfg mxg_cfg SEC(".data.cfg");

/* partner prefixes -> mxg_allow_val; controller writes, program counts hits. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_key);
	__type(value, struct mxg_allow_val);
} mxg_allow SEC(".maps");

/* exact blocked addresses -> mxg_block_val; looked up before the trie, so a
 * million single addresses cost one hash lookup, not a deep trie walk. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MXG_BLOCK_H_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, union mxg_addr);
	__type(value, struct mxg_block_val);
} mxg_block_h SEC(".maps");

/* blocked prefixes -> mxg_block_val; controller writes, program counts hits. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXG_BLOCK_T_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_key);
	__type(value, struct mxg_block_val);
} mxg_block_t SEC(".maps");

/* (masked source, service) -> bucket and counters; program writes, controller
 * reads. LRU: forgotten under pressure, unlike allow and block entries. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXG_SRC_MAX);
	__type(key, struct mxg_src_key);
	__type(value, struct mxg_src_val);
} mxg_src SEC(".maps");

/* Filter of sources that may have a record in mxg_src (see MXG_SEEN_BITS_LOG):
 * two halves of MXG_SEEN_WORDS words. Mappable: the controller sets bits
 * with atomic ORs while the program sets others. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MXG_SEEN_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} mxg_seen SEC(".maps");

/* Aggregate buckets of networks: slots indexed by mxg_pfx_slot() (see
 * struct mxg_pfx_val). An array, so a spoofed flood of new networks costs
 * no insert and no eviction; program writes, controller reads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MXG_PFX_SLOTS);
	__type(key, __u32);
	__type(value, struct mxg_pfx_val);
} mxg_pfx SEC(".maps");

/* key 0 -> struct mxg_lists; written by the controller after list changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxg_lists);
} mxg_lists SEC(".maps");

/* (masked source, service) -> mxg_pen_val of sources over their limit.
 * A plain hash, not LRU: a flood of new (spoofed) sources can evict a
 * limited attacker from mxg_src, but not from here, so its bucket comes back
 * as it was. Program writes and deletes; controller purges stale entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MXG_PEN_MAX);
	__type(key, struct mxg_src_key);
	__type(value, struct mxg_pen_val);
} mxg_pen SEC(".maps");

/* counter index (MXG_COUNTER_IDX/MXG_MISC_IDX) -> packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MXG_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} mxg_stats SEC(".maps");

/* struct mxg_event records, program -> `mxguard events`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MXG_EVENTS_BYTES);
} mxg_events SEC(".maps");

/* feed id -> name; controller only (lives here to be pinned with the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MXG_MAX_FEEDS);
	__type(key, __u32);
	__type(value, struct mxg_feed);
} mxg_feeds SEC(".maps");

/* reason id -> text of block reasons; controller only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MXG_MAX_REASONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct mxg_reason_text);
} mxg_reasons SEC(".maps");

static __always_inline void mxg_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&mxg_stats, &idx);

	if (c)
		*c += 1;
}

static __always_inline void mxg_emit(__u32 type, __u64 now,
				     const struct mxg_src_key *k,
				     const struct mxg_src_val *s, __u32 mode)
{
	struct mxg_event *e;

	e = bpf_ringbuf_reserve(&mxg_events, sizeof(*e), 0);
	if (!e) {
		mxg_count(MXG_MISC_IDX(MXG_C_EVENTS_LOST));
		return;
	}
	e->ts_ns = now;
	e->addr = k->addr;
	e->type = type;
	e->svc = k->svc;
	e->syns = s->syns;
	e->drops = s->drops;
	e->would_drops = s->would_drops;
	e->mode = mode;
	bpf_ringbuf_submit(e, 0);
}

/* The network slot a SYN from p meets on svc: its network's own, one it
 * takes over from an owner whose bucket has refilled, or one it shares
 * with an owner still draining. NULL: no network limit on svc, or the slot
 * is another network's, still draining, and the source is known (has a
 * record): a returning sender is held to its own bucket alone there, not
 * to the bucket of a network it does not belong to (a spoofed flood over
 * many networks empties many slots). New sources do share such a slot:
 * they are what a flood is made of. */
static __always_inline struct mxg_pfx_val *mxg_pfx_get(const struct mxg_cfg *cfg,
						       const struct mxg_pkt *p,
						       __u32 svc, __u64 now,
						       int known)
{
	const struct mxg_net *n;
	struct mxg_pfx_val *v;
	union mxg_addr a;
	__u32 slot, plen;

	if (svc >= MXG_SVC_MAX || !cfg->plimit[svc].interval_ns)
		return NULL;
	n = &cfg->net[svc];
	mxg_addr_masked(&a, &p->src, p->v6 ? &n->mask6 : &n->mask4);
	plen = p->v6 ? n->len6 : n->len4;
	slot = mxg_pfx_slot(&a, svc, cfg->pfx_seed);
	v = bpf_map_lookup_elem(&mxg_pfx, &slot);
	if (!v)
		return NULL;
	if (v->svc != svc || v->plen != plen || v->addr.w[0] != a.w[0] ||
	    v->addr.w[1] != a.w[1] || v->addr.w[2] != a.w[2] ||
	    v->addr.w[3] != a.w[3]) {
		if (v->svc && !mxg_bucket_full(v->tat_ns, now)) {
			if (known)
				return NULL;
			v->shared++;
		} else {
			v->addr = a;
			v->svc = svc;
			v->plen = plen;
			v->tat_ns = 0;
			v->syns = 0;
			v->drops = 0;
			v->shared = 0;
		}
	}
	return v;
}

/* The network bucket of slot v (NULL: unlimited): 1 = conforms. take 0
 * only asks: a refusal is counted, a token is not taken. */
static __always_inline int mxg_pfx_take(struct mxg_pfx_val *v,
					const struct mxg_limit *lim, __u64 now,
					int take)
{
	__u64 t;
	int ok;

	if (!v)
		return 1;
	t = v->tat_ns;
	ok = mxg_bucket_take(&t, now, lim->interval_ns, lim->burst);
	if (ok && !take)
		return ok;
	if (ok)
		v->tat_ns = t;
	v->syns++;
	if (!ok)
		v->drops++;
	return ok;
}

/* Counters in records (sources, networks, list entries) are plain
 * increments, like the bucket state beside them: a locked add costs ~4 ns a
 * SYN here, and two CPUs updating one record in the same instant lose at most
 * an increment. The per-CPU counters of mxg_stats are exact. */

/* Step 5 on one source record (in the map, or fresh on the stack): its own
 * bucket, then its prefix's bucket; a SYN passes when both have a token.
 * The two callers pass non-NULL records, so each inlined copy is verified
 * on a null-checked pointer. have_pv: pv is the network slot already
 * fetched (a new source), else it is fetched (for a known source) only
 * once the source's own bucket allows. */
static __always_inline int mxg_account(const struct mxg_cfg *cfg,
				  const struct mxg_pkt *p, __u64 now,
				  const struct mxg_src_key *k,
				  struct mxg_src_val *s, __u32 tag,
				  struct mxg_pfx_val *pv, int have_pv)
{
	const struct mxg_limit *lim;
	int monitor, ok, pok = 1;
	__u64 prev, t;
	__u32 svc;

	svc = k->svc;
	if (svc >= MXG_SVC_MAX)
		return MXG_R_ADMIT;
	lim = &cfg->limit[svc];
	monitor = cfg->mode == MXG_MODE_MONITOR;
	s->last_ns = now;
	if (tag)
		s->flags = (s->flags & MXG_SRCF_LIMITED) | tag;
	s->syns++;
	prev = t = s->tat_ns;
	ok = mxg_bucket_take(&t, now, lim->interval_ns, lim->burst);
	if (ok) {
		if (!have_pv)
			pv = mxg_pfx_get(cfg, p, svc, now, 1);
		pok = mxg_pfx_take(pv, &cfg->plimit[svc], now, 1);
		if (pok) {
			s->tat_ns = t;
			if (s->flags & MXG_SRCF_LIMITED) {
				if (mxg_bucket_full(prev, now)) {
					/* An episode ends when the bucket had
					 * refilled completely. */
					s->flags &= ~MXG_SRCF_LIMITED;
					bpf_map_delete_elem(&mxg_pen, k);
					mxg_emit(MXG_EV_LIMIT_END, now, k, s, cfg->mode);
				} else {
					struct mxg_pen_val *pv;

					pv = bpf_map_lookup_elem(&mxg_pen, k);
					if (pv)
						pv->tat_ns = t;
				}
			}
			return MXG_R_ADMIT;
		}
	}
	/* A refused SYN is the source's drop whichever bucket refused it;
	 * only its own bucket running dry makes the source "limited". */
	if (monitor)
		s->would_drops++;
	else
		s->drops++;
	if (ok)
		return monitor ? MXG_R_PLIMIT_WOULD : MXG_R_PLIMIT;
	if (!(s->flags & MXG_SRCF_LIMITED)) {
		struct mxg_pen_val pv = { .tat_ns = s->tat_ns, .since_ns = now };

		s->flags |= MXG_SRCF_LIMITED;
		bpf_map_update_elem(&mxg_pen, k, &pv, BPF_ANY);
		mxg_emit(MXG_EV_LIMIT_START, now, k, s, cfg->mode);
	}
	return monitor ? MXG_R_LIMIT_WOULD : MXG_R_LIMIT;
}

/* 0: the source of k has no record in mxg_src (its bit is clear in the
 * half the controller says is current); 1: it may have one. */
static __always_inline int mxg_seen_test(const struct mxg_lists *ls,
					 const struct mxg_src_key *k)
{
	__u32 bit = mxg_seen_bit(&k->addr);
	__u32 idx = (ls ? ls->seen & 1 : 0) * MXG_SEEN_WORDS + (bit >> 6);
	__u64 *w = bpf_map_lookup_elem(&mxg_seen, &idx);

	return !w || (*w >> (bit & 63)) & 1;
}

/* Before a record of k is inserted: its bit in both halves, atomically
 * (another CPU may set another bit of the same word). */
static __always_inline void mxg_seen_mark(const struct mxg_src_key *k)
{
	__u32 bit = mxg_seen_bit(&k->addr), idx = bit >> 6, h;

#pragma unroll
	for (h = 0; h < 2; h++) {
		__u32 i = idx + h * MXG_SEEN_WORDS;
		__u64 *w = bpf_map_lookup_elem(&mxg_seen, &i);

		if (w)
			__sync_fetch_and_or(w, 1ull << (bit & 63));
	}
}

static __always_inline void mxg_src_key(const struct mxg_cfg *cfg,
					const struct mxg_pkt *p, __u32 svc,
					struct mxg_src_key *k)
{
	const union mxg_addr *m = p->v6 ? &cfg->src_mask6 : &cfg->src_mask4;

	mxg_addr_masked(&k->addr, &p->src, m);
	k->svc = svc;
}

/* Step 5. s: the source's record, or NULL when it has none (new, or evicted
 * from the LRU). tag: the lists' verdict to cache in it, or 0. */
static __always_inline int mxg_limit(const struct mxg_cfg *cfg,
				     const struct mxg_pkt *p, __u64 now,
				     const struct mxg_src_key *k,
				     struct mxg_src_val *s, __u32 tag)
{
	struct mxg_src_val init;
	struct mxg_pen_val *pen;
	struct mxg_pfx_val *pv;
	int reason;
	__u32 svc;

	if (s)
		return mxg_account(cfg, p, now, k, s, tag, NULL, 0);

	/* A new source its network's bucket refuses (enforce) is dropped
	 * before anything else is asked, and gets no record: the network's
	 * slot counts it, and a flood of spoofed sources inserts nothing into
	 * (and evicts nothing from) the source table. */
	svc = k->svc;
	if (svc >= MXG_SVC_MAX)
		return MXG_R_ADMIT;
	pv = mxg_pfx_get(cfg, p, svc, now, 0);
	if (cfg->mode != MXG_MODE_MONITOR &&
	    !mxg_pfx_take(pv, &cfg->plimit[svc], now, 0))
		return MXG_R_PLIMIT;

	/* A fresh record, unless the penalty table remembers the source as
	 * limited. Decided on the stack and inserted whole: one map
	 * operation, not three. */
	__builtin_memset(&init, 0, sizeof(init));
	init.first_ns = now;
	pen = bpf_map_lookup_elem(&mxg_pen, k);
	if (pen) {
		if (pen->tat_ns > now) {
			init.tat_ns = pen->tat_ns;
			init.flags = MXG_SRCF_LIMITED;
		} else {
			bpf_map_delete_elem(&mxg_pen, k);
		}
	}
	reason = mxg_account(cfg, p, now, k, &init, tag, pv, 1);
	mxg_seen_mark(k);
	if (bpf_map_update_elem(&mxg_src, k, &init, BPF_NOEXIST))
		mxg_count(MXG_MISC_IDX(MXG_C_SRC_FAIL));
	return reason;
}

static __always_inline int mxg_block_live(const struct mxg_block_val *b,
					  __u64 now)
{
	return !b->expires_ns || now < b->expires_ns;
}

/* Step 2: a live blocklist entry matched. */
static __always_inline int mxg_block_hit(const struct mxg_cfg *cfg,
					 struct mxg_block_val *b, __u64 now)
{
	b->hits++;
	b->last_hit_ns = now;
	return cfg->mode == MXG_MODE_MONITOR ? MXG_R_BLOCK_WOULD : MXG_R_BLOCK;
}

/* Steps 1-5 of the verdict order in DESIGN.md for a packet to a protected
 * port. Lists the controller says are empty are not asked. A SYN from a
 * source whose record caches "no list matched" at the lists' current
 * generation (MXG_SRCF_CLEAN) skips both tries, and the exact-address hash
 * where the cache covers it: a known source costs the source lookup and
 * its buckets. A source whose bit is clear in mxg_seen has no record and is
 * not looked up. The clock is read only once a lookup has matched or a SYN
 * is counted. */
static __always_inline int mxg_verdict(const struct mxg_cfg *cfg,
				       const struct mxg_pkt *p, __u32 svc)
{
	struct mxg_lpm_key lk = { .prefixlen = 128, .addr = p->src };
	int syn = (p->tcp_flags & (MXG_TCP_SYN | MXG_TCP_ACK)) == MXG_TCP_SYN;
	__u32 zero = 0, has = MXG_LISTS_ALL, tag = 0, cached = 0;
	struct mxg_src_val *s = NULL;
	const struct mxg_lists *ls;
	struct mxg_allow_val *a;
	struct mxg_block_val *b;
	struct mxg_src_key k;
	__u64 now;

	ls = bpf_map_lookup_elem(&mxg_lists, &zero);
	if (ls) {
		has = ls->has;
		if (p->v6 ? ls->max_len6 <= cfg->v6_prefix :
			    ls->max_len4 <= cfg->v4_prefix) {
			tag = MXG_SRCF_CLEAN | ls->gen << MXG_SRCF_GEN_SHIFT;
			cached = MXG_LISTS_ALLOW | MXG_LISTS_BLOCK_T;
			/* Exact entries are whole addresses: the cache
			 * covers them where a record is one address (IPv4
			 * /32, IPv6 /128), or for IPv6 when the hash holds
			 * no IPv6 address. */
			if (p->v6 ? cfg->v6_prefix == 128 ||
				    !(has & MXG_LISTS_BLOCK_H6) :
				    cfg->v4_prefix == 32)
				cached |= MXG_LISTS_BLOCK_H;
		}
	}
	/* Any packet of a tracked source may use the cache (segments of a
	 * session skip the lists too); only a SYN refreshes it. */
	if (syn || (has & cached)) {
		mxg_src_key(cfg, p, svc, &k);
		if (mxg_seen_test(ls, &k))
			s = bpf_map_lookup_elem(&mxg_src, &k);
		if (tag && s && (s->flags | MXG_SRCF_LIMITED) ==
				(tag | MXG_SRCF_LIMITED))
			has &= ~cached;
	}
	/* Lists still to ask whose filter rules out the source's /24 or /48
	 * are not asked either. */
	if (ls && (has & (MXG_LISTS_ALLOW | MXG_LISTS_BLOCK_H | MXG_LISTS_BLOCK_T))) {
		__u32 v6 = p->v6 & 1, bit = mxg_lfilt_bit(&p->src, v6);
		__u32 w = (bit >> 6) & (MXG_LFILT_WORDS - 1);
		__u64 m = 1ull << (bit & 63);

		if (!(ls->filt[MXG_LF_ALLOW][v6][w] & m))
			has &= ~MXG_LISTS_ALLOW;
		if (!(ls->filt[MXG_LF_BLOCK_H][v6][w] & m))
			has &= ~MXG_LISTS_BLOCK_H;
		if (!(ls->filt[MXG_LF_BLOCK_T][v6][w] & m))
			has &= ~MXG_LISTS_BLOCK_T;
	}

	if (has & MXG_LISTS_ALLOW) {
		a = bpf_map_lookup_elem(&mxg_allow, &lk);
		if (a) {
			a->hits++;
			a->last_hit_ns = bpf_ktime_get_coarse_ns();
			return MXG_R_ALLOW;
		}
	}

	/* Exact addresses first; an expired exact entry must not hide a live
	 * prefix that also covers the source, so then the trie is asked too. */
	now = 0;
	if (has & MXG_LISTS_BLOCK_H) {
		b = bpf_map_lookup_elem(&mxg_block_h, &p->src);
		if (b) {
			now = bpf_ktime_get_coarse_ns();
			if (mxg_block_live(b, now))
				return mxg_block_hit(cfg, b, now);
		}
	}
	if (has & MXG_LISTS_BLOCK_T) {
		b = bpf_map_lookup_elem(&mxg_block_t, &lk);
		if (b) {
			if (!now)
				now = bpf_ktime_get_coarse_ns();
			if (mxg_block_live(b, now))
				return mxg_block_hit(cfg, b, now);
		}
	}

	if (!syn)
		return MXG_R_ESTABLISHED;
	if (cfg->mode == MXG_MODE_LOCKDOWN)
		return MXG_R_LOCKDOWN;
	return mxg_limit(cfg, p, bpf_ktime_get_coarse_ns(), &k, s, tag);
}

/* The non-mail exits: a constant counter index, nothing else to decide. */
static __always_inline int mxg_pass_nonmail(__u32 reason)
{
	mxg_count(MXG_COUNTER_IDX(MXG_SVC_NONE, reason));
	return XDP_PASS;
}

SEC("xdp")
int mxg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct mxg_cfg *cfg;
	struct mxg_pkt p;
	__u32 svc = MXG_SVC_NONE;
	__be16 proto;
	__u16 dport;
	void *l3;
	int reason;

	if (mxg_parse_l2(data, end, &l3, &proto))
		return mxg_pass_nonmail(MXG_R_UNPARSED);
	/* Fast path: a TCP port nobody protects, IPv4 that is not TCP, or
	 * not IP at all leaves here on a few loads. An uninitialised config
	 * protects no port (all zero). */
	reason = mxg_peek(proto, l3, end, &dport);
	if (reason == MXG_PARSED) {
		if (mxg_cfg.port_svc[dport] == MXG_SVC_NONE)
			return mxg_pass_nonmail(MXG_R_OTHER_PORT);
	} else if (reason == MXG_R_NOT_TCP) {
		return mxg_pass_nonmail(MXG_R_NOT_TCP);
	} else if (reason == MXG_R_NOT_IP) {
		return mxg_pass_nonmail(MXG_R_NOT_IP);
	}
	/* A protected port, or a frame only the full parse can classify. */
	reason = mxg_parse_l3(proto, l3, end, &p);
	if (reason != MXG_PARSED)
		goto out;
	cfg = &mxg_cfg;
	/* An uninitialised config (magic 0) protects nothing: fail open. */
	if (cfg->magic != MXG_CFG_MAGIC) {
		reason = MXG_R_OTHER_PORT;
		goto out;
	}
	svc = cfg->port_svc[p.dport];
	if (svc == MXG_SVC_NONE || svc >= MXG_SVC_MAX) {
		svc = MXG_SVC_NONE;
		reason = MXG_R_OTHER_PORT;
		goto out;
	}
	reason = mxg_verdict(cfg, &p, svc);
out:
	mxg_count(MXG_COUNTER_IDX(svc, reason));
	return MXG_REASON_DROPS(reason) ? XDP_DROP : XDP_PASS;
}

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

/* key 0 -> struct mxg_cfg; written by the controller, read per mail packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxg_cfg);
} mxg_cfg SEC(".maps");

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

/* (masked prefix, service) -> aggregate bucket of all sources in a network;
 * program writes, controller reads. LRU like mxg_src. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXG_PFX_MAX);
	__type(key, struct mxg_src_key);
	__type(value, struct mxg_pfx_val);
} mxg_pfx SEC(".maps");

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

/* The prefix bucket: all sources of one network share it. 1 = conforms. */
static __always_inline int mxg_prefix_take(const struct mxg_cfg *cfg,
					   const struct mxg_pkt *p, __u32 svc,
					   __u64 now)
{
	const union mxg_addr *m = p->v6 ? &cfg->pfx_mask6 : &cfg->pfx_mask4;
	const struct mxg_limit *lim = &cfg->plimit[svc];
	struct mxg_src_key k;
	struct mxg_pfx_val *v;
	int ok;

	if (!lim->interval_ns)
		return 1;
	k.addr.w[0] = p->src.w[0] & m->w[0];
	k.addr.w[1] = p->src.w[1] & m->w[1];
	k.addr.w[2] = p->src.w[2] & m->w[2];
	k.addr.w[3] = p->src.w[3] & m->w[3];
	k.svc = svc;
	v = bpf_map_lookup_elem(&mxg_pfx, &k);
	if (!v) {
		struct mxg_pfx_val init = { .syns = 1 };

		ok = mxg_bucket_take(&init.tat_ns, now, lim->interval_ns, lim->burst);
		init.drops = !ok;
		bpf_map_update_elem(&mxg_pfx, &k, &init, BPF_NOEXIST);
		return ok;
	}
	__sync_fetch_and_add(&v->syns, 1);
	ok = mxg_bucket_take(&v->tat_ns, now, lim->interval_ns, lim->burst);
	if (!ok)
		__sync_fetch_and_add(&v->drops, 1);
	return ok;
}

/* Step 5 on one source record (in the map, or fresh on the stack): its own
 * bucket, then its prefix's bucket; a SYN passes when both have a token.
 * The two callers pass non-NULL records, so each inlined copy is verified
 * on a null-checked pointer. */
static __always_inline int mxg_account(const struct mxg_cfg *cfg,
				  const struct mxg_pkt *p, __u64 now,
				  const struct mxg_src_key *k,
				  struct mxg_src_val *s)
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
	__sync_fetch_and_add(&s->syns, 1);
	prev = t = s->tat_ns;
	ok = mxg_bucket_take(&t, now, lim->interval_ns, lim->burst);
	if (ok) {
		pok = mxg_prefix_take(cfg, p, svc, now);
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
		__sync_fetch_and_add(&s->would_drops, 1);
	else
		__sync_fetch_and_add(&s->drops, 1);
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

static __always_inline int mxg_limit(const struct mxg_cfg *cfg,
				     const struct mxg_pkt *p, __u32 svc,
				     __u64 now)
{
	const union mxg_addr *m = p->v6 ? &cfg->src_mask6 : &cfg->src_mask4;
	struct mxg_src_val *s, init;
	struct mxg_pen_val *pen;
	struct mxg_src_key k;
	int reason;

	k.addr.w[0] = p->src.w[0] & m->w[0];
	k.addr.w[1] = p->src.w[1] & m->w[1];
	k.addr.w[2] = p->src.w[2] & m->w[2];
	k.addr.w[3] = p->src.w[3] & m->w[3];
	k.svc = svc;

	s = bpf_map_lookup_elem(&mxg_src, &k);
	if (s)
		return mxg_account(cfg, p, now, &k, s);

	/* Not tracked (new, or evicted from the LRU): a fresh record, unless
	 * the penalty table remembers the source as limited. Decided on the
	 * stack and inserted whole: one map operation, not three. */
	__builtin_memset(&init, 0, sizeof(init));
	init.first_ns = now;
	pen = bpf_map_lookup_elem(&mxg_pen, &k);
	if (pen) {
		if (pen->tat_ns > now) {
			init.tat_ns = pen->tat_ns;
			init.flags = MXG_SRCF_LIMITED;
		} else {
			bpf_map_delete_elem(&mxg_pen, &k);
		}
	}
	reason = mxg_account(cfg, p, now, &k, &init);
	if (bpf_map_update_elem(&mxg_src, &k, &init, BPF_NOEXIST))
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
	__sync_fetch_and_add(&b->hits, 1);
	b->last_hit_ns = now;
	return cfg->mode == MXG_MODE_MONITOR ? MXG_R_BLOCK_WOULD : MXG_R_BLOCK;
}

/* Steps 1-5 of the verdict order in DESIGN.md for a packet to a protected
 * port. The clock is read only once a lookup has matched or a SYN is counted. */
static __always_inline int mxg_verdict(const struct mxg_cfg *cfg,
				       const struct mxg_pkt *p, __u32 svc)
{
	struct mxg_lpm_key lk = { .prefixlen = 128, .addr = p->src };
	struct mxg_allow_val *a;
	struct mxg_block_val *b;
	__u64 now;

	a = bpf_map_lookup_elem(&mxg_allow, &lk);
	if (a) {
		__sync_fetch_and_add(&a->hits, 1);
		a->last_hit_ns = bpf_ktime_get_coarse_ns();
		return MXG_R_ALLOW;
	}

	/* Exact addresses first; an expired exact entry must not hide a live
	 * prefix that also covers the source, so then the trie is asked too. */
	now = 0;
	b = bpf_map_lookup_elem(&mxg_block_h, &p->src);
	if (b) {
		now = bpf_ktime_get_coarse_ns();
		if (mxg_block_live(b, now))
			return mxg_block_hit(cfg, b, now);
	}
	b = bpf_map_lookup_elem(&mxg_block_t, &lk);
	if (b) {
		if (!now)
			now = bpf_ktime_get_coarse_ns();
		if (mxg_block_live(b, now))
			return mxg_block_hit(cfg, b, now);
	}

	if ((p->tcp_flags & (MXG_TCP_SYN | MXG_TCP_ACK)) != MXG_TCP_SYN)
		return MXG_R_ESTABLISHED;
	if (cfg->mode == MXG_MODE_LOCKDOWN)
		return MXG_R_LOCKDOWN;
	return mxg_limit(cfg, p, svc, bpf_ktime_get_coarse_ns());
}

SEC("xdp")
int mxg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct mxg_cfg *cfg;
	struct mxg_pkt p;
	__u32 zero = 0, svc = MXG_SVC_NONE;
	int reason;

	reason = mxg_parse(data, end, &p);
	if (reason != MXG_PARSED)
		goto out;
	cfg = bpf_map_lookup_elem(&mxg_cfg, &zero);
	/* An uninitialised config (magic 0) protects nothing: fail open. */
	if (!cfg || cfg->magic != MXG_CFG_MAGIC) {
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

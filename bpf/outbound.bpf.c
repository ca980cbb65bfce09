// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The server's own outgoing mail: a TC egress program that counts (and, over
 * a cap, drops) new outbound SMTP connections, and cgroup connect programs
 * that count and limit local submitters per uid and per cgroup. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mxguard.h"
#include "parse.h"
#include "bucket.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* TC verdicts (uapi pkt_cls.h, not in vmlinux.h). UNSPEC is tcx's NEXT: the
 * packet goes on to later programs, or out when there are none. */
#define MXO_TC_NEXT (-1)
#define MXO_TC_SHOT 2

#define MXO_SOCK_STREAM 1

/* key 0 -> struct mxo_cfg; controller writes, both programs read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxo_cfg);
} mxo_cfg SEC(".maps");

/* destination prefixes never capped (smarthost, partners) -> mxg_allow_val;
 * controller writes, egress program counts hits. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MXO_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_key);
	__type(value, struct mxg_allow_val);
} mxo_allow SEC(".maps");

/* key 0 -> struct mxo_total (host-wide buckets and rate); egress program
 * writes, controller reads and resets buckets on threshold changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mxo_total);
} mxo_total SEC(".maps");

/* destination masked to /24 (IPv4) or /48 (IPv6) -> mxo_rec; egress program
 * writes, controller reads. LRU: the quietest networks are forgotten. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXO_DST_MAX);
	__type(key, union mxg_addr);
	__type(value, struct mxo_rec);
} mxo_dst SEC(".maps");

/* local source address -> mxo_rec; egress program writes, controller reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXO_SRC_MAX);
	__type(key, union mxg_addr);
	__type(value, struct mxo_rec);
} mxo_src SEC(".maps");

/* (uid | cgroup id) -> mxo_lrec; connect programs write, controller reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MXO_LOCAL_MAX);
	__type(key, struct mxo_lkey);
	__type(value, struct mxo_lrec);
} mxo_local SEC(".maps");

/* trusted (uid | cgroup id) -> mxo_trust; controller writes, connect
 * programs read. A plain hash: trust is never evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MXO_TRUST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxo_lkey);
	__type(value, struct mxo_trust);
} mxo_trust SEC(".maps");

/* counter index (MXO_EG_IDX, MXO_LO_IDX, MXO_MISC_IDX) -> count, per CPU;
 * programs write, controller sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MXO_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} mxo_stats SEC(".maps");

/* struct mxo_event records, programs -> `mxguard outbound events`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MXO_EVENTS_BYTES);
} mxo_events SEC(".maps");

static __always_inline void mxo_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&mxo_stats, &idx);

	if (c)
		*c += 1;
}

static __always_inline __u32 mxo_port_idx(__u16 port)
{
	switch (port) {
	case 25: return MXO_PORT_SMTP;
	case 465: return MXO_PORT_SUBMISSIONS;
	case 587: return MXO_PORT_SUBMISSION;
	default: return MXO_PORT_MAX;
	}
}

/* Ring buffer record; the caller fills what belongs to its side. */
static __always_inline struct mxo_event *mxo_event_new(__u32 type, __u64 now)
{
	struct mxo_event *e;

	e = bpf_ringbuf_reserve(&mxo_events, sizeof(*e), 0);
	if (!e) {
		mxo_count(MXO_MISC_IDX(MXO_C_EVENTS_LOST));
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->type = type;
	return e;
}

/* ---- egress ------------------------------------------------------------- */

/* A new connection seen on the way out. parse.h's mxg_pkt names the source
 * address (ours here); the destination is taken from the same header. */
struct mxo_pkt {
	struct mxg_pkt m;
	union mxg_addr dst;
};

static __always_inline int mxo_parse(void *data, void *end, struct mxo_pkt *p)
{
	__be16 proto;
	void *cur;
	int r;

	if (mxg_parse_l2(data, end, &cur, &proto))
		return MXG_R_UNPARSED;
	if (proto == bpf_htons(MXG_ETH_P_IP)) {
		struct iphdr *ip = cur;

		r = mxg_parse_ip4(cur, end, &p->m);
		/* Checked again: the verifier does not carry the callee's
		 * bound on `cur` back to this copy of the pointer. */
		if (r != MXG_PARSED || (void *)(ip + 1) > end)
			return r;
		p->dst.w[0] = 0;
		p->dst.w[1] = 0;
		p->dst.w[2] = bpf_htonl(0xffff);
		p->dst.w[3] = ip->daddr;
		return r;
	}
	if (proto == bpf_htons(MXG_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;

		r = mxg_parse_ip6(cur, end, &p->m);
		if (r != MXG_PARSED || (void *)(ip6 + 1) > end)
			return r;
		__builtin_memcpy(&p->dst, &ip6->daddr, sizeof(p->dst));
		return r;
	}
	return MXG_R_NOT_IP;
}

/* Count one SYN in a destination or source record. */
static __always_inline void mxo_rec_add(void *map, const union mxg_addr *k,
					__u64 now, int dropped)
{
	struct mxo_rec *r, init;

	r = bpf_map_lookup_elem(map, k);
	if (!r) {
		__builtin_memset(&init, 0, sizeof(init));
		init.first_ns = now;
		init.last_ns = now;
		init.syns = 1;
		init.drops = dropped;
		mxo_win_add(&init.win, now);
		if (bpf_map_update_elem(map, k, &init, BPF_NOEXIST))
			mxo_count(MXO_MISC_IDX(MXO_C_REC_FAIL));
		return;
	}
	r->last_ns = now;
	__sync_fetch_and_add(&r->syns, 1);
	if (dropped)
		__sync_fetch_and_add(&r->drops, 1);
	mxo_win_add(&r->win, now);
}

static __always_inline void mxo_emit_total(__u32 type, __u64 now,
					   const struct mxo_total *t,
					   const struct mxo_pkt *p)
{
	struct mxo_event *e = mxo_event_new(type, now);

	if (!e)
		return;
	e->src = p->m.src;
	e->dst = p->dst;
	e->dport = p->m.dport;
	e->per_min = mxo_win_per_min(&t->win, now);
	bpf_ringbuf_submit(e, 0);
}

/* One threshold on the host-wide total: 1 when the SYN conforms. The flag
 * and its events mark an episode: it starts at the first SYN over the rate
 * and ends at the first SYN after the bucket has refilled completely. */
static __always_inline int mxo_threshold(const struct mxg_limit *l, __u64 *tat,
					 struct mxo_total *t, __u32 flag,
					 __u64 now, const struct mxo_pkt *p)
{
	__u64 prev = *tat;
	int warn = flag == MXO_TF_WARN;

	if (!l->interval_ns)
		return 1;
	if (mxg_bucket_take(tat, now, l->interval_ns, l->burst)) {
		if ((t->flags & flag) && mxg_bucket_full(prev, now)) {
			t->flags &= ~flag;
			mxo_emit_total(warn ? MXO_EV_WARN_END : MXO_EV_CAP_END,
				       now, t, p);
		}
		return 1;
	}
	if (!(t->flags & flag)) {
		t->flags |= flag;
		if (warn) {
			t->warn_since_ns = now;
			t->warn_episodes++;
		} else {
			t->cap_since_ns = now;
			t->cap_episodes++;
		}
		mxo_emit_total(warn ? MXO_EV_WARN_START : MXO_EV_CAP_START,
			       now, t, p);
	}
	return 0;
}

static __always_inline int mxo_egress_verdict(const struct mxo_cfg *cfg,
					      const struct mxo_pkt *p)
{
	struct mxg_lpm_key lk = { .prefixlen = 128, .addr = p->dst };
	const union mxg_addr *m = p->m.v6 ? &cfg->dst_mask6 : &cfg->dst_mask4;
	struct mxg_allow_val *a;
	struct mxo_total *t;
	union mxg_addr dk;
	int v = MXO_V_PASS;
	__u32 zero = 0;
	__u64 now;

	now = bpf_ktime_get_coarse_ns();
	a = bpf_map_lookup_elem(&mxo_allow, &lk);
	if (a) {
		__sync_fetch_and_add(&a->hits, 1);
		a->last_hit_ns = now;
		v = MXO_V_ALLOW;
	}
	t = bpf_map_lookup_elem(&mxo_total, &zero);
	if (t) {
		__sync_fetch_and_add(&t->syns, 1);
		mxo_win_add(&t->win, now);
		/* Every SYN tells the warning, allowlisted ones too: mail
		 * relayed through the smarthost is still our mail. */
		if (!mxo_threshold(&cfg->warn, &t->warn_tat, t, MXO_TF_WARN,
				   now, p))
			mxo_count(MXO_MISC_IDX(MXO_C_WARN_OVER));
		if (!a && !mxo_threshold(&cfg->cap, &t->cap_tat, t, MXO_TF_CAP,
					 now, p))
			v = MXO_V_CAP;
	}
	mxg_addr_masked(&dk, &p->dst, m);
	mxo_rec_add(&mxo_dst, &dk, now, v == MXO_V_CAP);
	mxo_rec_add(&mxo_src, &p->m.src, now, v == MXO_V_CAP);
	return v;
}

SEC("tc")
int mxo_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	const struct mxo_cfg *cfg;
	struct mxo_pkt p;
	__u32 zero = 0, port;
	int v;

	if (mxo_parse(data, end, &p) != MXG_PARSED)
		return MXO_TC_NEXT;
	if ((p.m.tcp_flags & (MXG_TCP_SYN | MXG_TCP_ACK)) != MXG_TCP_SYN)
		return MXO_TC_NEXT;
	port = mxo_port_idx(p.m.dport);
	if (port >= MXO_PORT_MAX)
		return MXO_TC_NEXT;
	cfg = bpf_map_lookup_elem(&mxo_cfg, &zero);
	/* Never initialised by the controller: count nothing, drop nothing. */
	if (!cfg || cfg->magic != MXO_CFG_MAGIC)
		return MXO_TC_NEXT;
	v = mxo_egress_verdict(cfg, &p);
	mxo_count(MXO_EG_IDX(port, v));
	return v == MXO_V_CAP ? MXO_TC_SHOT : MXO_TC_NEXT;
}

/* ---- local submitters (cgroup connect) ---------------------------------- */

/* A trusted uid, or a trusted cgroup at or above the caller's. */
static __always_inline int mxo_trusted(__u32 uid)
{
	struct mxo_lkey k = { .id = uid, .kind = MXO_LK_UID };
	int lvl;

	if (bpf_map_lookup_elem(&mxo_trust, &k))
		return 1;
	k.kind = MXO_LK_CGROUP;
	for (lvl = 0; lvl < MXO_CG_MAX_DEPTH; lvl++) {
		k.id = bpf_get_current_ancestor_cgroup_id(lvl);
		if (!k.id)
			break; /* past the caller's own level */
		if (bpf_map_lookup_elem(&mxo_trust, &k))
			return 1;
	}
	return 0;
}

/* The record of a uid or cgroup, created on first use; NULL when the LRU
 * cannot give one (then the connect is counted and allowed: fail open). */
static __always_inline struct mxo_lrec *mxo_lrec_get(const struct mxo_lkey *k,
						     __u64 now)
{
	struct mxo_lrec *r, init;

	r = bpf_map_lookup_elem(&mxo_local, k);
	if (r)
		return r;
	__builtin_memset(&init, 0, sizeof(init));
	init.first_ns = now;
	bpf_map_update_elem(&mxo_local, k, &init, BPF_NOEXIST);
	return bpf_map_lookup_elem(&mxo_local, k);
}

static __always_inline void mxo_lrec_touch(struct mxo_lrec *r, __u64 now,
					   __u32 uid, __u64 cgid)
{
	r->last_ns = now;
	r->last_uid = uid;
	r->last_cgid = cgid;
	__sync_fetch_and_add(&r->conns, 1);
	mxo_win_add(&r->win, now);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

static __always_inline void mxo_emit_local(__u32 type, __u64 now,
					   const struct mxo_lkey *k,
					   const struct mxo_lrec *r,
					   const union mxg_addr *dst, __u16 dport)
{
	struct mxo_event *e = mxo_event_new(type, now);

	if (!e)
		return;
	e->id = k->id;
	e->kind = k->kind;
	e->dst = *dst;
	e->dport = dport;
	e->per_min = mxo_win_per_min(&r->win, now);
	bpf_ringbuf_submit(e, 0);
}

/* Episode bookkeeping of one record after its bucket was asked. */
static __always_inline void mxo_lrec_episode(struct mxo_lrec *r,
					     const struct mxo_lkey *k, int ok,
					     __u64 prev_tat, __u64 now,
					     const union mxg_addr *dst,
					     __u16 dport)
{
	if (ok) {
		if ((r->flags & MXO_LF_LIMITED) && mxg_bucket_full(prev_tat, now)) {
			r->flags &= ~MXO_LF_LIMITED;
			mxo_emit_local(MXO_EV_LOCAL_END, now, k, r, dst, dport);
		}
		return;
	}
	if (!(r->flags & MXO_LF_LIMITED)) {
		r->flags |= MXO_LF_LIMITED;
		mxo_emit_local(MXO_EV_LOCAL_START, now, k, r, dst, dport);
	}
}

/* Both buckets must have a token; neither is charged for a refused
 * connect, so a uid refused by its cgroup's limit keeps its own tokens. */
static __always_inline int mxo_local_limit(const struct mxo_cfg *cfg,
					   struct mxo_lrec *u,
					   const struct mxo_lkey *ku,
					   struct mxo_lrec *c,
					   const struct mxo_lkey *kc, __u64 now,
					   const union mxg_addr *dst, __u16 dport)
{
	const struct mxg_limit *ul = &cfg->uid_limit, *cl = &cfg->cg_limit;
	__u64 up = u->tat_ns, cp = c->tat_ns, ut = up, ct = cp;
	int uok, cok = 1;

	uok = mxg_bucket_take(&ut, now, ul->interval_ns, ul->burst);
	if (uok)
		cok = mxg_bucket_take(&ct, now, cl->interval_ns, cl->burst);
	if (uok && cok) {
		u->tat_ns = ut;
		c->tat_ns = ct;
	} else {
		__sync_fetch_and_add(&u->refused, 1);
		__sync_fetch_and_add(&c->refused, 1);
	}
	if (ul->interval_ns)
		mxo_lrec_episode(u, ku, uok, up, now, dst, dport);
	if (uok && cl->interval_ns)
		mxo_lrec_episode(c, kc, cok, cp, now, dst, dport);
	if (!uok)
		return MXO_LV_LIMIT_UID;
	return cok ? MXO_LV_PASS : MXO_LV_LIMIT_CG;
}

/* 1 = allow the connect, 0 = refuse it (the caller gets EPERM). */
static __always_inline int mxo_local_verdict(const union mxg_addr *dst, __u16 dport)
{
	struct mxo_lkey ku = { .kind = MXO_LK_UID }, kc = { .kind = MXO_LK_CGROUP };
	const struct mxo_cfg *cfg;
	struct mxo_lrec *u, *c;
	__u32 zero = 0, port, uid;
	__u64 now;
	int v;

	port = mxo_port_idx(dport);
	if (port >= MXO_PORT_MAX)
		return 1;
	cfg = bpf_map_lookup_elem(&mxo_cfg, &zero);
	if (!cfg || cfg->magic != MXO_CFG_MAGIC)
		return 1;
	now = bpf_ktime_get_coarse_ns();
	uid = (__u32)bpf_get_current_uid_gid();
	ku.id = uid;
	kc.id = bpf_get_current_cgroup_id();
	u = mxo_lrec_get(&ku, now);
	c = mxo_lrec_get(&kc, now);
	if (!u || !c) {
		mxo_count(MXO_MISC_IDX(MXO_C_REC_FAIL));
		v = MXO_LV_PASS;
		goto out;
	}
	mxo_lrec_touch(u, now, uid, kc.id);
	mxo_lrec_touch(c, now, uid, kc.id);
	if (mxo_trusted(uid))
		v = MXO_LV_TRUSTED;
	else
		v = mxo_local_limit(cfg, u, &ku, c, &kc, now, dst, dport);
out:
	mxo_count(MXO_LO_IDX(port, v));
	return v == MXO_LV_LIMIT_UID || v == MXO_LV_LIMIT_CG ? 0 : 1;
}

static __always_inline int mxo_stream(const struct bpf_sock_addr *ctx)
{
	return ctx->type == MXO_SOCK_STREAM && ctx->protocol == MXG_IPPROTO_TCP;
}

SEC("cgroup/connect4")
int mxo_connect4(struct bpf_sock_addr *ctx)
{
	union mxg_addr dst;

	if (!mxo_stream(ctx))
		return 1;
	dst.w[0] = 0;
	dst.w[1] = 0;
	dst.w[2] = bpf_htonl(0xffff);
	dst.w[3] = ctx->user_ip4;
	return mxo_local_verdict(&dst, bpf_ntohs((__u16)ctx->user_port));
}

SEC("cgroup/connect6")
int mxo_connect6(struct bpf_sock_addr *ctx)
{
	union mxg_addr dst;

	if (!mxo_stream(ctx))
		return 1;
	dst.w[0] = ctx->user_ip6[0];
	dst.w[1] = ctx->user_ip6[1];
	dst.w[2] = ctx->user_ip6[2];
	dst.w[3] = ctx->user_ip6[3];
	return mxo_local_verdict(&dst, bpf_ntohs((__u16)ctx->user_port));
}

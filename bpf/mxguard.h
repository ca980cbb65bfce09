/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one ABI shared by the XDP program and the controller: every map key and
 * value, enum and constant both sides use lives here and nowhere else. */
#ifndef MXGUARD_H
#define MXGUARD_H

#ifndef __bpf__
#include <linux/types.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Bumped whenever any layout below changes; pinned maps carry it in
 * mxg_cfg.abi and the controller refuses pins of another version. */
#define MXG_ABI_VERSION 5
#define MXG_CFG_MAGIC 0x6d786721u /* "mxg!" */

/* Protected services. 0 means "not a protected port" and only indexes the
 * counters of traffic the program passes untouched. */
enum mxg_svc {
	MXG_SVC_NONE = 0,
	MXG_SVC_SMTP,        /* 25 */
	MXG_SVC_SUBMISSIONS, /* 465 */
	MXG_SVC_SUBMISSION,  /* 587 */
	MXG_SVC_POP3,        /* 110 */
	MXG_SVC_POP3S,       /* 995 */
	MXG_SVC_IMAP,        /* 143 */
	MXG_SVC_IMAPS,       /* 993 */
	MXG_SVC_MAX
};

enum mxg_mode {
	MXG_MODE_ENFORCE = 0,  /* drop blocked and over-limit sources */
	MXG_MODE_MONITOR = 1,  /* drop nothing, count what enforce would drop */
	MXG_MODE_LOCKDOWN = 2, /* new connections only from the allowlist */
	MXG_MODE_MAX
};

/* Why the program decided what it decided; one counter per (service, reason).
 * The first four only occur with MXG_SVC_NONE. */
enum mxg_reason {
	MXG_R_NOT_IP = 0,    /* not IPv4/IPv6 (ARP, LLDP, ...): pass */
	MXG_R_NOT_TCP,       /* IP, not TCP: pass */
	MXG_R_OTHER_PORT,    /* TCP to a port that is not protected: pass */
	MXG_R_UNPARSED,      /* truncated, malformed, later fragment, too many
			      * extension headers or VLAN tags: pass */
	MXG_R_ALLOW,         /* source in the allowlist: pass */
	MXG_R_BLOCK,         /* source in the blocklist: drop */
	MXG_R_BLOCK_WOULD,   /* blocklisted, monitor mode: pass */
	MXG_R_ESTABLISHED,   /* not a new connection: pass */
	MXG_R_LOCKDOWN,      /* new connection in lockdown: drop */
	MXG_R_ADMIT,         /* new connection within the limit: pass */
	MXG_R_LIMIT,         /* new connection over the limit: drop */
	MXG_R_LIMIT_WOULD,   /* over the limit, monitor mode: pass */
	MXG_R_PLIMIT,        /* source within its limit, its prefix over the
			      * prefix limit: drop */
	MXG_R_PLIMIT_WOULD,  /* the same in monitor mode: pass */
	MXG_R_MAX
};

/* Counters that belong to no (service, reason) pair, after the matrix. */
enum mxg_misc_counter {
	MXG_C_EVENTS_LOST = 0, /* ring buffer full: event not delivered */
	MXG_C_SRC_FAIL,        /* source record could not be created */
	MXG_C_MISC_MAX
};

#define MXG_COUNTER_IDX(svc, reason) ((svc) * MXG_R_MAX + (reason))
#define MXG_MISC_IDX(c) (MXG_SVC_MAX * MXG_R_MAX + (c))
#define MXG_NCOUNTERS (MXG_SVC_MAX * MXG_R_MAX + MXG_C_MISC_MAX)

/* 1 where the reason means XDP_DROP. */
#define MXG_REASON_DROPS(r) \
	((r) == MXG_R_BLOCK || (r) == MXG_R_LOCKDOWN || (r) == MXG_R_LIMIT || \
	 (r) == MXG_R_PLIMIT)

/* An address of either family: IPv6 as is, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d). Network byte order throughout. */
union mxg_addr {
	__u8 b[16];
	__be32 w[4];
};

/* Key of the allow and block LPM tries. prefixlen counts bits of the 128-bit
 * (mapped) address: an IPv4 /24 is stored as prefixlen 96 + 24 = 120. */
struct mxg_lpm_key {
	__u32 prefixlen; /* host order, as the LPM trie requires */
	union mxg_addr addr;
};

#define MXG_COMMENT_LEN 64

/* Value of mxg_allow. hits/last_hit_ns written by the program, the rest by
 * the controller. */
struct mxg_allow_val {
	__u64 hits;        /* packets to protected ports matched */
	__u64 last_hit_ns; /* CLOCK_MONOTONIC ns of the last hit, 0 = never */
	__u64 added_s;     /* wall clock (Unix seconds) when added */
	char comment[MXG_COMMENT_LEN]; /* NUL-terminated, e.g. "partner: example MX" */
};

/* Value of mxg_block_h (exact addresses) and mxg_block_t (prefixes). */
struct mxg_block_val {
	__u64 hits;        /* packets to protected ports matched (program) */
	__u64 last_hit_ns; /* CLOCK_MONOTONIC ns of the last hit, 0 = never */
	__u64 expires_ns;  /* CLOCK_MONOTONIC ns; 0 = never expires */
	__u64 added_s;     /* wall clock (Unix seconds) when added */
	__u32 feed_id;     /* index into mxg_feeds; 0 = "manual" */
	__u32 reason_id;   /* key into mxg_reasons; 0 = no reason given */
};

#define MXG_FEED_NAME_LEN 32
#define MXG_MAX_FEEDS 256
#define MXG_FEED_MANUAL 0

/* Value of mxg_feeds (array indexed by feed id); name[0] == 0: unused slot. */
struct mxg_feed {
	char name[MXG_FEED_NAME_LEN];
	__u64 created_s;   /* wall clock */
	__u64 synced_s;    /* wall clock of the last load/sync, 0 = never */
};

#define MXG_REASON_LEN 96
#define MXG_MAX_REASONS 4096

/* Value of mxg_reasons (hash: __u32 id -> text). */
struct mxg_reason_text {
	char text[MXG_REASON_LEN];
};

/* Per-source tracking key: the source address masked to the configured
 * prefix (IPv4 /32, IPv6 /64 by default) and the service. */
struct mxg_src_key {
	union mxg_addr addr;
	__u32 svc;        /* enum mxg_svc */
};

/* Per-source, per-service record (LRU: may be forgotten under pressure). */
struct mxg_src_val {
	__u64 tat_ns;     /* token bucket as GCRA: theoretical arrival time */
	__u64 first_ns;   /* CLOCK_MONOTONIC ns of the first SYN seen */
	__u64 last_ns;    /* CLOCK_MONOTONIC ns of the latest SYN seen */
	__u32 syns;       /* new connections seen */
	__u32 drops;      /* new connections refused by the limit (enforce) */
	__u32 would_drops;/* over the limit while in monitor mode (passed) */
	__u32 flags;      /* MXG_SRCF_* */
};

#define MXG_SRCF_LIMITED 0x1 /* over its limit now; event already sent */
/* The lists' verdict cache of a source record: CLEAN set and bits 8-31 equal
 * to the low 24 bits of mxg_lists.gen mean "neither the allow trie nor the
 * block trie matched this source's prefix when the lists were at that
 * generation". Inserts move the generation; removals and expiry can only turn
 * a match into no match, so the cache stays true until the next insert. The
 * exact-address hash is asked every time. Used only when no trie entry is
 * longer than the source key's prefix (mxg_lists.max_len4/6), so that every
 * address under the record's key has the same trie verdict. */
#define MXG_SRCF_CLEAN 0x2
#define MXG_SRCF_GEN_SHIFT 8

/* Value of mxg_pen: a source over its limit, remembered outside the LRU. */
struct mxg_pen_val {
	__u64 tat_ns;     /* its bucket (GCRA state) */
	__u64 since_ns;   /* CLOCK_MONOTONIC ns the episode began: a new value
			   * here is a new episode, even between two reads */
};

/* Slot of mxg_pfx, the aggregate buckets of networks (IPv4 /24, IPv6 /48 by
 * default) per service: an array indexed by mxg_pfx_slot() of the masked
 * prefix and service, keyed with a per-attach secret seed. No insert, no
 * eviction, no lock on the packet path. A slot belongs to the network that
 * last took it; another network hashing to it takes it over once its bucket
 * has refilled (an idle bucket holds nothing worth keeping) and shares it
 * while it is still draining, which can only make both stricter. */
#define MXG_PFX_SLOTS (1 << 17) /* a power of two */

struct mxg_pfx_val {
	union mxg_addr addr; /* masked prefix owning the slot; svc 0 = unused */
	__u16 svc;        /* enum mxg_svc of the owner */
	__u8 plen;        /* the owner's prefix length (IPv4 1-32, IPv6 1-128):
			   * a network of another length is another owner */
	__u8 pad;
	__u32 syns;       /* SYNs that reached this bucket since the owner took it */
	__u64 tat_ns;     /* GCRA state of the prefix bucket */
	__u32 drops;      /* refused by it (enforce) or would be (monitor) */
	__u32 shared;     /* of syns, those from new sources of other networks
			   * sharing the slot while it drains */
};

/* Negative filters of the three lists, kept in struct mxg_lists: per list
 * and family a bitmap of MXG_LFILT_WORDS words with a bit set for every
 * IPv4 /24 (IPv6 /48) an entry covers (mxg_lfilt_bit). A clear bit: no
 * entry of that list can match an address in that /24 or /48, and the
 * program skips the lookup. The controller sets bits with every insert
 * (in the same write as the generation) and clears a list's bitmaps only
 * when the list is empty; entries removed leave their bits, which only
 * cost the lookup that would have been made anyway. An entry shorter than
 * /8 (IPv6 /32) sets every bit. */
#define MXG_LFILT_BITS_LOG 16
#define MXG_LFILT_WORDS (1u << (MXG_LFILT_BITS_LOG - 6))
#define MXG_LFILT_G4 24
#define MXG_LFILT_G6 48
enum mxg_lfilt_list { MXG_LF_ALLOW, MXG_LF_BLOCK_H, MXG_LF_BLOCK_T, MXG_LF_N };

/* Value of mxg_lists (one slot), written by the controller only: what the
 * lists hold, so the program can skip a lookup into an empty list and trust
 * the verdict cache in source records (MXG_SRCF_CLEAN). */
struct mxg_lists {
	__u32 gen;        /* moved after every insert into allow or block */
	__u8 has;         /* MXG_LISTS_* of lists that may hold entries */
	__u8 max_len4;    /* longest IPv4 prefix in the allow or block trie */
	__u8 max_len6;    /* longest IPv6 prefix there (0 when none) */
	__u8 seen;        /* the half of mxg_seen the program tests (0, 1) */
	__u64 filt[MXG_LF_N][2][MXG_LFILT_WORDS]; /* [list][IPv6] */
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MXG_BE32(x) __builtin_bswap32(x)
#else
#define MXG_BE32(x) (x)
#endif

/* The filter bit of address a's /24 (IPv4-mapped, v6 = 0) or /48 (v6). */
static __always_inline __u32 mxg_lfilt_bit(const union mxg_addr *a, int v6)
{
	__u64 x = v6 ? (__u64)a->w[0] << 32 | (a->w[1] & MXG_BE32(0xffff0000u)) :
		       a->w[3] & MXG_BE32(0xffffff00u);

	return (__u32)((x * 0x9e3779b97f4a7c15ull) >> (64 - MXG_LFILT_BITS_LOG));
}

#define MXG_LISTS_ALLOW   0x1
#define MXG_LISTS_BLOCK_H 0x2
#define MXG_LISTS_BLOCK_T 0x4
#define MXG_LISTS_BLOCK_H6 0x8 /* mxg_block_h may hold IPv6 addresses */
#define MXG_LISTS_ALL     0xf

/* Slot of a (masked prefix, service) in mxg_pfx: a keyed mix of the 128
 * address bits, the service and the seed, so that nobody who does not know
 * the seed can aim a network at another one's slot. The same code runs in the
 * program and in the controller (check, dump). */
static __always_inline __u32 mxg_pfx_slot(const union mxg_addr *a, __u32 svc,
					  __u32 seed)
{
	__u64 x = ((__u64)seed << 32 | svc) * 0x9e3779b97f4a7c15ull;

	x = (x ^ ((__u64)a->w[0] << 32 | a->w[1])) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	x = (x ^ ((__u64)a->w[2] << 32 | a->w[3])) * 0x94d049bb133111ebull;
	x ^= x >> 29;
	return (__u32)(x >> 32) & (MXG_PFX_SLOTS - 1);
}

/* mxg_seen: a filter of the sources that may have a record in mxg_src, so
 * that a SYN from a source that has none (every SYN of a spoofed flood)
 * skips the source-table lookup, a cache and TLB miss in a table of
 * megabytes. One bit per masked source address (all services), in two
 * halves of MXG_SEEN_WORDS 64-bit words. The program tests the half
 * mxg_lists.seen names and, before it inserts a record, sets the bit in
 * both. The controller's service clears the other half now and then, sets
 * the bits of every record still in mxg_src there and switches halves
 * (mxg_seen_rotate): bits of evicted records go away, none of a live record
 * is ever missing. A set bit with no record costs only the lookup it would
 * have cost anyway; unkeyed, since aiming at a bit can only cause that. */
#define MXG_SEEN_BITS_LOG 20 /* per half: 1,048,576 bits, 128 KiB */
#define MXG_SEEN_WORDS (1u << (MXG_SEEN_BITS_LOG - 6))

static __always_inline __u32 mxg_seen_bit(const union mxg_addr *a)
{
	/* One multiply (Fibonacci hashing of the two halves folded): source
	 * keys are an IPv6 /64 (low half zero) or IPv4-mapped (high half
	 * constant) by default, so the fold loses nothing for them, and
	 * this runs on every SYN. */
	__u64 x = ((__u64)a->w[0] << 32 | a->w[1]) ^
		  ((__u64)a->w[2] << 32 | a->w[3]);

	return (__u32)((x * 0x9e3779b97f4a7c15ull) >> (64 - MXG_SEEN_BITS_LOG));
}

/* A token bucket. The program keeps it as GCRA: one timestamp per source,
 * a SYN conforms when it would not push that timestamp more than
 * burst * interval_ns into the future. */
struct mxg_limit {
	__u64 interval_ns; /* ns per token; 0 = unlimited */
	__u32 burst;       /* connections admitted at once from idle */
	__u32 rate_n;      /* the rate as configured: rate_n per rate_per_s */
	__u32 rate_per_s;  /*   seconds (1, 60, 3600), for display */
	__u32 pad;
};

/* The networks of one service's aggregate bucket: the masks applied to a
 * source to find its network, and their lengths. */
struct mxg_net {
	union mxg_addr mask4; /* applied to IPv4-mapped sources (::ffff: kept) */
	union mxg_addr mask6; /* applied to IPv6 sources */
	__u8 len4;        /* IPv4 prefix length, 1-32 (default 24) */
	__u8 len6;        /* IPv6 prefix length, 1-128 (default 48) */
	__u8 pad[6];
};

#define MXG_NPORTS 65536

/* The ELF section of the program's config (global data, one struct
 * mxg_cfg); its map is pinned as "mxg_cfg". */
#define MXG_CFG_SECTION ".data.cfg"

/* The one slot of mxg_cfg: everything the controller tunes at run time. */
struct mxg_cfg {
	__u32 magic;       /* MXG_CFG_MAGIC once the controller initialised it */
	__u32 abi;         /* MXG_ABI_VERSION of the writer */
	__u32 mode;        /* enum mxg_mode */
	__u8 v4_prefix;    /* source key prefix length, IPv4 (display) */
	__u8 v6_prefix;    /* source key prefix length, IPv6 (display) */
	__u16 pad;
	__u64 mode_since_s;      /* wall clock of the last mode change */
	union mxg_addr src_mask4;/* applied to IPv4-mapped sources */
	union mxg_addr src_mask6;/* applied to IPv6 sources */
	__u32 gen;         /* bumped by every controller change: the service
			    * snapshots its state when it moves */
	__u32 pfx_seed;    /* secret of mxg_pfx_slot(), random per config */
	__u32 pad3;
	struct mxg_limit limit[MXG_SVC_MAX];  /* per source */
	struct mxg_limit plimit[MXG_SVC_MAX]; /* per prefix, all its sources */
	struct mxg_net net[MXG_SVC_MAX];      /* the prefixes of plimit */
	__u8 port_svc[MXG_NPORTS]; /* TCP dst port (host order) -> enum mxg_svc */
};

enum mxg_ev_type {
	MXG_EV_LIMIT_START = 1, /* a source first exceeds its limit on a service */
	MXG_EV_LIMIT_END = 2,   /* a limited source conforms again */
};

/* Ring buffer record (mxg_events). */
struct mxg_event {
	__u64 ts_ns;      /* CLOCK_MONOTONIC ns */
	union mxg_addr addr; /* source key (masked) */
	__u32 type;       /* enum mxg_ev_type */
	__u32 svc;        /* enum mxg_svc */
	__u32 syns;       /* counters of the source record at that moment */
	__u32 drops;
	__u32 would_drops;
	__u32 mode;       /* enum mxg_mode */
};

/* Map sizes. Allow and block entries are never evicted; sources are. */
#define MXG_ALLOW_MAX   65536
#define MXG_BLOCK_H_MAX (1 << 21)
#define MXG_BLOCK_T_MAX (1 << 20)
#define MXG_SRC_MAX     (1 << 18)
#define MXG_PEN_MAX     (1 << 16)
#define MXG_EVENTS_BYTES (1 << 20)

_Static_assert(sizeof(union mxg_addr) == 16, "mxg_addr layout");
_Static_assert(sizeof(struct mxg_lpm_key) == 20, "mxg_lpm_key layout");
_Static_assert(sizeof(struct mxg_allow_val) == 88, "mxg_allow_val layout");
_Static_assert(sizeof(struct mxg_block_val) == 40, "mxg_block_val layout");
_Static_assert(sizeof(struct mxg_feed) == 48, "mxg_feed layout");
_Static_assert(sizeof(struct mxg_src_key) == 20, "mxg_src_key layout");
_Static_assert(sizeof(struct mxg_src_val) == 40, "mxg_src_val layout");
_Static_assert(sizeof(struct mxg_limit) == 24, "mxg_limit layout");
_Static_assert(sizeof(struct mxg_event) == 48, "mxg_event layout");
_Static_assert(sizeof(struct mxg_pfx_val) == 40, "mxg_pfx_val layout");
_Static_assert(sizeof(struct mxg_lists) ==
	       8 + MXG_LF_N * 2 * MXG_LFILT_WORDS * 8, "mxg_lists layout");
_Static_assert(sizeof(struct mxg_pen_val) == 16, "mxg_pen_val layout");
_Static_assert(sizeof(struct mxg_net) == 40, "mxg_net layout");
_Static_assert(sizeof(struct mxg_cfg) ==
	       72 + (2 * 24 + 40) * MXG_SVC_MAX + MXG_NPORTS, "mxg_cfg layout");

/* ---- outbound (egress and local submission) ---- */

/* The server's own mail going out: a TC egress program counts new outbound
 * SMTP connections (and can cap them), cgroup connect programs count and
 * limit local submitters per uid and per cgroup. Their maps are pinned apart
 * (mxo_*) and carry their own ABI stamp: nothing above changes with them. */
#define MXO_ABI_VERSION 1
#define MXO_CFG_MAGIC 0x6d786f21u /* "mxo!" */

/* Watched destination ports, remote (egress) and local (connect). */
enum mxo_port {
	MXO_PORT_SMTP = 0,    /* 25 */
	MXO_PORT_SUBMISSIONS, /* 465 */
	MXO_PORT_SUBMISSION,  /* 587 */
	MXO_PORT_MAX
};

/* Egress verdict of a new outbound SMTP connection (SYN without ACK). */
enum mxo_verdict {
	MXO_V_PASS = 0, /* counted, passed */
	MXO_V_ALLOW,    /* destination allowlisted: counted, never capped */
	MXO_V_CAP,      /* over the cap: dropped */
	MXO_V_MAX
};

/* Verdict of a local connect() to a watched port. */
enum mxo_lverdict {
	MXO_LV_PASS = 0,  /* within the limits: allowed */
	MXO_LV_TRUSTED,   /* uid or cgroup (or an ancestor) trusted: allowed */
	MXO_LV_LIMIT_UID, /* the uid's bucket is empty: refused (EPERM) */
	MXO_LV_LIMIT_CG,  /* the cgroup's bucket is empty: refused (EPERM) */
	MXO_LV_MAX
};

enum mxo_misc_counter {
	MXO_C_WARN_OVER = 0, /* SYNs seen while the total is over the warn rate */
	MXO_C_EVENTS_LOST,   /* ring buffer full: event not delivered */
	MXO_C_REC_FAIL,      /* a record could not be created (counted, passed) */
	MXO_C_MISC_MAX
};

/* Index into mxo_stats (per-CPU __u64). */
#define MXO_EG_IDX(port, v) ((port) * MXO_V_MAX + (v))
#define MXO_LO_IDX(port, v) (MXO_PORT_MAX * MXO_V_MAX + (port) * MXO_LV_MAX + (v))
#define MXO_MISC_IDX(c) (MXO_PORT_MAX * (MXO_V_MAX + MXO_LV_MAX) + (c))
#define MXO_NCOUNTERS MXO_MISC_IDX(MXO_C_MISC_MAX)

/* Rates people read come from a sliding minute: the count of the current
 * minute plus the share of the previous one that still lies within the last
 * 60 s. Minutes are CLOCK_MONOTONIC ns / MXO_WIN_NS. */
#define MXO_WIN_NS 60000000000ull

struct mxo_win {
	__u64 idx;  /* minute the counts belong to */
	__u32 cur;  /* events in minute idx */
	__u32 prev; /* events in minute idx - 1 */
};

/* Estimated events in the 60 s before `now` (per minute). */
static inline __u32 mxo_win_per_min(const struct mxo_win *w, __u64 now)
{
	__u64 idx = now / MXO_WIN_NS;
	__u64 left_ms = (MXO_WIN_NS - now % MXO_WIN_NS) / 1000000;

	if (w->idx == idx)
		return w->cur + (__u32)((__u64)w->prev * left_ms / 60000);
	if (w->idx + 1 == idx)
		return (__u32)((__u64)w->cur * left_ms / 60000);
	return 0;
}

/* Count one event at `now`. Racy across CPUs by design: a display rate,
 * not a limit (limits are token buckets, bucket.h). */
static inline void mxo_win_add(struct mxo_win *w, __u64 now)
{
	__u64 idx = now / MXO_WIN_NS;

	if (w->idx != idx) {
		w->prev = w->idx + 1 == idx ? w->cur : 0;
		w->cur = 0;
		w->idx = idx;
	}
	__sync_fetch_and_add(&w->cur, 1);
}

/* Value of mxo_dst (key: destination masked to the configured prefix,
 * IPv4 /24 and IPv6 /48 by default) and mxo_src (key: local source address).
 * Program writes, controller reads. */
struct mxo_rec {
	__u64 first_ns;     /* CLOCK_MONOTONIC ns of the first SYN */
	__u64 last_ns;      /* ... and of the latest */
	__u64 syns;         /* new outbound connections (a retransmitted SYN
			     * counts again) */
	__u64 drops;        /* of those, dropped by the cap */
	struct mxo_win win;
};

#define MXO_TF_WARN 0x1 /* total over the warn rate; event sent */
#define MXO_TF_CAP  0x2 /* total over the cap; event sent */

/* The one slot of mxo_total: host-wide outbound state. Program writes,
 * controller reads (and clears the buckets when thresholds change). */
struct mxo_total {
	__u64 warn_tat;      /* GCRA state of the warn bucket */
	__u64 cap_tat;       /* GCRA state of the cap bucket (allowlisted
			      * destinations do not take from it) */
	__u64 warn_since_ns; /* start of the latest warn episode, 0 = never */
	__u64 cap_since_ns;  /* start of the latest cap episode, 0 = never */
	__u64 syns;          /* every new outbound SMTP connection */
	struct mxo_win win;
	__u32 warn_episodes;
	__u32 cap_episodes;
	__u32 flags;         /* MXO_TF_* */
	__u32 pad;
};

enum mxo_lkind {
	MXO_LK_UID = 1,
	MXO_LK_CGROUP = 2,
};

/* Key of mxo_local and mxo_trust. */
struct mxo_lkey {
	__u64 id;   /* uid, or cgroup v2 id (the inode number of its directory) */
	__u32 kind; /* enum mxo_lkind */
	__u32 pad;
};

#define MXO_LF_LIMITED 0x1 /* its own bucket ran dry; event sent */
#define MXO_COMM_LEN 16

/* Value of mxo_local: one uid's or one cgroup's local connects to the
 * watched ports. Program writes, controller reads. */
struct mxo_lrec {
	__u64 tat_ns;       /* GCRA state of its bucket */
	__u64 first_ns;     /* CLOCK_MONOTONIC ns of the first connect */
	__u64 last_ns;      /* ... and of the latest */
	__u64 conns;        /* connects seen */
	__u64 refused;      /* of those refused (by either limit) */
	struct mxo_win win;
	__u64 last_cgid;    /* the latest caller's cgroup id */
	__u32 last_uid;     /* the latest caller's uid */
	__u32 flags;        /* MXO_LF_* */
	char comm[MXO_COMM_LEN]; /* the latest caller's command name */
};

/* Value of mxo_trust (hash: mxo_lkey -> this); controller writes. */
struct mxo_trust {
	__u64 added_s;     /* wall clock */
	char comment[MXG_COMMENT_LEN];
};

/* The one slot of mxo_cfg. An mxg_limit with interval_ns 0 is off. */
struct mxo_cfg {
	__u32 magic;       /* MXO_CFG_MAGIC once the controller initialised it */
	__u32 abi;         /* MXO_ABI_VERSION of the writer */
	struct mxg_limit warn;      /* total outbound: above it, warn */
	struct mxg_limit cap;       /* total outbound: above it, drop */
	struct mxg_limit uid_limit; /* local connects per uid */
	struct mxg_limit cg_limit;  /* local connects per cgroup */
	union mxg_addr dst_mask4;   /* mxo_dst key mask, IPv4-mapped */
	union mxg_addr dst_mask6;   /* mxo_dst key mask, IPv6 */
	__u8 dst_plen4;    /* its length, IPv4 (display) */
	__u8 dst_plen6;    /* its length, IPv6 (display) */
	__u8 pad[6];
	__u64 changed_s;   /* wall clock of the last change */
};

enum mxo_ev_type {
	MXO_EV_WARN_START = 1, /* outbound total first exceeds the warn rate */
	MXO_EV_WARN_END,       /* ... and is back under it */
	MXO_EV_CAP_START,      /* first outbound SYN dropped by the cap */
	MXO_EV_CAP_END,
	MXO_EV_LOCAL_START,    /* a uid or cgroup first refused by its limit */
	MXO_EV_LOCAL_END,
};

/* Ring buffer record (mxo_events). */
struct mxo_event {
	__u64 ts_ns;        /* CLOCK_MONOTONIC ns */
	__u64 id;           /* local: uid or cgroup id; outbound: 0 */
	union mxg_addr src; /* outbound: local source address; local: zero */
	union mxg_addr dst; /* destination of the connection that crossed */
	__u32 type;         /* enum mxo_ev_type */
	__u32 kind;         /* local: enum mxo_lkind; outbound: 0 */
	__u16 dport;        /* host order */
	__u16 pad;
	__u32 per_min;      /* outbound: total per minute; local: the record's */
};

/* A threshold set as N/min gets a burst of MXO_BURST_S seconds of its rate,
 * so a sustained excess is noticed within about that time. */
#define MXO_BURST_S 10
#define MXO_DEFAULT_WARN_PER_MIN 300
#define MXO_DEFAULT_DST_PLEN4 24
#define MXO_DEFAULT_DST_PLEN6 48
/* Ancestors of the caller's cgroup checked against the trust map. */
#define MXO_CG_MAX_DEPTH 16

#define MXO_ALLOW_MAX  4096
#define MXO_DST_MAX    (1 << 16)
#define MXO_SRC_MAX    4096
#define MXO_LOCAL_MAX  (1 << 14)
#define MXO_TRUST_MAX  4096
#define MXO_EVENTS_BYTES (1 << 18)

_Static_assert(sizeof(struct mxo_win) == 16, "mxo_win layout");
_Static_assert(sizeof(struct mxo_rec) == 48, "mxo_rec layout");
_Static_assert(sizeof(struct mxo_total) == 72, "mxo_total layout");
_Static_assert(sizeof(struct mxo_lkey) == 16, "mxo_lkey layout");
_Static_assert(sizeof(struct mxo_lrec) == 88, "mxo_lrec layout");
_Static_assert(sizeof(struct mxo_trust) == 72, "mxo_trust layout");
_Static_assert(sizeof(struct mxo_cfg) == 152, "mxo_cfg layout");
_Static_assert(sizeof(struct mxo_event) == 64, "mxo_event layout");

#endif /* MXGUARD_H */

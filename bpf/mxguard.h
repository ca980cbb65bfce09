/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one ABI shared by the XDP program and the controller: every map key and
 * value, enum and constant both sides use lives here and nowhere else. */
#ifndef MXGUARD_H
#define MXGUARD_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Bumped whenever any layout below changes; pinned maps carry it in
 * mxg_cfg.abi and the controller refuses pins of another version. */
#define MXG_ABI_VERSION 2
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

/* Aggregate record of a network prefix (IPv4 /24, IPv6 /48 by default) and
 * service, key struct mxg_src_key with the address masked to the prefix. */
struct mxg_pfx_val {
	__u64 tat_ns;     /* GCRA state of the prefix bucket */
	__u32 syns;       /* SYNs that reached the prefix bucket */
	__u32 drops;      /* refused by it (enforce) or would be (monitor) */
};

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

#define MXG_NPORTS 65536

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
	union mxg_addr pfx_mask4;/* prefix bucket key mask, IPv4-mapped */
	union mxg_addr pfx_mask6;/* prefix bucket key mask, IPv6 */
	__u8 v4_pfx;       /* prefix bucket length, IPv4 (display) */
	__u8 v6_pfx;       /* prefix bucket length, IPv6 (display) */
	__u8 pad2[2];
	__u32 gen;         /* bumped by every controller change: the service
			    * snapshots its state when it moves */
	struct mxg_limit limit[MXG_SVC_MAX];  /* per source */
	struct mxg_limit plimit[MXG_SVC_MAX]; /* per prefix, all its sources */
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
#define MXG_PFX_MAX     (1 << 16)
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
_Static_assert(sizeof(struct mxg_pfx_val) == 16, "mxg_pfx_val layout");
_Static_assert(sizeof(struct mxg_cfg) ==
	       96 + 2 * 24 * MXG_SVC_MAX + MXG_NPORTS, "mxg_cfg layout");

#endif /* MXGUARD_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The outbound side's pinned state (mxo_* maps, programs and links in the
 * pin directory), its config slot, names, cgroup v2 ids and paths, and the
 * readers and writers of its state that outbound, local, stats, dump and run
 * share. */
#ifndef MXG_OUTBOUND_H
#define MXG_OUTBOUND_H

#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include "mxguard.h"
#include "lists.h"
#include "out.h"

/* Pins in the pin directory. Links are "mxo_link_tc_<ifname>" and
 * "mxo_link_cg4_<id>" / "mxo_link_cg6_<id>": the mxo_ prefix keeps them out
 * of the XDP commands, which take every "link_*" pin for an interface. */
#define MXO_PROG_TC_PIN "mxo_prog_tc"
#define MXO_PROG_C4_PIN "mxo_prog_c4"
#define MXO_PROG_C6_PIN "mxo_prog_c6"
#define MXO_LINK_TC_PREFIX "mxo_link_tc_"
#define MXO_LINK_CG4_PREFIX "mxo_link_cg4_"
#define MXO_LINK_CG6_PREFIX "mxo_link_cg6_"

/* Open file descriptors of the pinned mxo_ maps; -1 when closed. */
struct mxo_maps {
	int cfg, allow, total, dst, src, local, trust, stats, events;
	int lock_fd;
};

/* 1 when the outbound maps are pinned (the programs were attached once),
 * whether or not anything is attached now. Says nothing when they are not. */
int mxo_maps_present(void);
/* Open every pinned mxo_ map, check its layout and the config's ABI stamp.
 * -ENOENT (saying to attach first) when there are none. With `lock`, also
 * take the pin directory's lock (commands that change state). */
int mxo_maps_open(struct mxo_maps *m, int lock);
/* The same without the stamp check (right after the first load). */
int mxo_maps_open_raw(struct mxo_maps *m);
void mxo_maps_close(struct mxo_maps *m);

/* The config slot: load into *c, store from *c. */
int mxo_cfg_load(const struct mxo_maps *m, struct mxo_cfg *c);
int mxo_cfg_store(const struct mxo_maps *m, const struct mxo_cfg *c);

/* Magic, ABI, warn at MXO_DEFAULT_WARN_PER_MIN, no cap, no local limits,
 * destination prefixes /24 and /48. */
void mxo_cfg_defaults(struct mxo_cfg *c);
/* A threshold of n per per_s seconds (n 0: off) with the burst of
 * MXO_BURST_S seconds of that rate (at least 1); burst > 0 overrides. */
void mxo_limit_set(struct mxg_limit *l, __u32 n, __u32 per_s, __u32 burst);
/* Destination prefix lengths (IPv4 0..32, IPv6 0..128). */
void mxo_cfg_set_dst_plens(struct mxo_cfg *c, unsigned v4, unsigned v6);

/* Under the lock: the config slot with the limits given (NULL: as they
 * are), stamped with the time of the change; *c is what was stored. A new
 * warn or cap starts with a full bucket and no episode. */
struct mxo_new_limits {
	const struct mxg_limit *warn, *cap, *uid, *cg;
};
int mxo_cfg_set_limits(const struct mxo_new_limits *n, struct mxo_cfg *c);

/* Sum the per-CPU counters into out[MXO_NCOUNTERS]. */
int mxo_stats_read(const struct mxo_maps *m, __u64 *out);

/* The outbound allowlist has mxg_allow's layout: the list helpers of
 * lists.c work on it through a struct mxg_maps that holds only its fd. */
void mxo_allow_view(const struct mxo_maps *m, struct mxg_maps *v);

/* Add c to the outbound allowlist, or set its comment (keeping when it was
 * added, its hits and last hit). */
int mxo_allow_set(const struct mxo_maps *m, const struct mxg_cidr *c,
		  const char *comment);

/* "smtp", "submissions", "submission"; 25, 465, 587. */
const char *mxo_port_name(unsigned port);
__u16 mxo_port_number(unsigned port);
/* "pass", "allow", "cap" / "pass", "trusted", "limit_uid", "limit_cgroup". */
const char *mxo_verdict_name(unsigned v);
const char *mxo_lverdict_name(unsigned v);
/* "warn_start", ..., "local_limit_end". */
const char *mxo_ev_type_name(unsigned type);
/* "uid", "cgroup". */
const char *mxo_lkind_name(unsigned kind);
/* The user name of a uid, or NULL. */
const char *mxo_user_name(__u32 uid);

/* "none", or "30/min (burst 5)". */
void mxo_limit_str(const struct mxg_limit *l, char *buf, size_t len);

/* The cgroup v2 mount: the first cgroup2 entry of /proc/self/mounts
 * (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
 * -ENOENT when there is none. */
int mxo_cgroup_mount(char *buf, size_t len);
/* The id of the cgroup v2 directory `path` (its inode number, what
 * bpf_get_current_cgroup_id() returns). -EINVAL, *why set, when `path` is
 * not a directory on cgroup2. */
int mxo_cgroup_id(const char *path, __u64 *id, const char **why);
/* Paths (relative to the mount, "/" for the root) of `n` cgroup ids, found
 * by one walk of the mount, as strdup()ed strings; ids 0 and ids not found
 * get NULL. */
int mxo_cgroup_names(const __u64 *ids, size_t n, char **names);

/* ---- programs and links --------------------------------------------------- */

/* The three programs, in the order mxo_progs_get() returns their fds. */
enum { MXO_PROG_TC, MXO_PROG_C4, MXO_PROG_C6, MXO_NPROGS };

/* Caps, bpffs, pin directory and the lock, for attach: the lock's fd. */
int mxo_attach_prepare(void);
/* The loaded programs: the pinned ones, else load the object once, reusing
 * or pinning every mxo_ map (the config slot gets its defaults), and pin its
 * three programs. The caller holds the lock. */
int mxo_progs_get(int *fds);
/* After a detach: with no mxo_ link left, unpin the programs (the maps stay
 * for the next attach, like the XDP side's). */
void mxo_progs_release_if_unused(void);
/* Close the fds that are open and set all n to -1. */
void mxo_fds_close(int *fds, int n);
/* Pin a link under `name` in the pin directory. */
int mxo_link_pin(int fd, const char *name);
/* Detach and unpin the link pinned as `name`; -ENOENT when there is none. */
int mxo_link_remove(const char *name);


/* What a link pin points at. */
struct mxo_link {
	__u32 id, prog_id, type;
	__u32 ifindex;      /* tcx links: the interface; 0 when it is gone */
	__u64 cgroup_id;    /* cgroup links */
};
int mxo_link_query(int fd, struct mxo_link *l);
/* The same for the link pinned as `name`; -ENOENT when there is none. */
int mxo_link_query_pin(const char *name, struct mxo_link *l);

/* The egress attachments, from the link pins. */
struct mxo_iface {
	char name[IF_NAMESIZE + 1];
	__u32 ifindex, link_id;
	int present;        /* the interface still exists */
};
#define MXO_MAX_IFACES 64
size_t mxo_tc_ifaces(struct mxo_iface *out, size_t max);

/* ---- state: outbound ----------------------------------------------------- */

/* A destination network (mxo_dst) or a local source address (mxo_src). */
struct mxo_rec_row {
	union mxg_addr addr;
	struct mxo_rec r;
	__u32 per_min;      /* over the last minute, at the time of reading */
};

struct mxo_out_state {
	struct mxo_cfg cfg;
	struct mxo_total total;
	__u64 cnt[MXO_NCOUNTERS];
	struct mxo_rec_row *dst, *src; /* busiest first */
	size_t ndst, nsrc;
	struct mxg_allow_entry *allow; /* sorted by address */
	size_t nallow;
	struct mxo_iface ifs[MXO_MAX_IFACES];
	size_t nifs;
	__u64 now;          /* CLOCK_MONOTONIC ns of the reading */
};

/* The host-wide total (mxo_total's one slot). */
int mxo_total_read(const struct mxo_maps *m, struct mxo_total *t);
/* Read everything (free with mxo_out_free, also after an error). */
int mxo_out_read(const struct mxo_maps *m, struct mxo_out_state *s);
void mxo_out_free(struct mxo_out_state *s);

/* Over the warn rate / dropping by the cap now. */
int mxo_warn_active(const struct mxo_out_state *s);
int mxo_cap_active(const struct mxo_out_state *s);
/* Egress SYNs of one verdict over all ports. */
__u64 mxo_eg_sum(const __u64 *cnt, unsigned verdict);
/* The destination network of a mxo_dst key as a CIDR, and as text. */
void mxo_dst_cidr(const struct mxo_cfg *cfg, const union mxg_addr *a,
		  struct mxg_cidr *c);
void mxo_dst_str(const struct mxo_cfg *cfg, const union mxg_addr *a,
		 char *buf, size_t len);
/* Allowlist entries that overlap a destination network, from index *i on:
 * the next one, or NULL. */
const struct mxg_allow_entry *mxo_dst_allow_next(const struct mxo_out_state *s,
						 const union mxg_addr *a,
						 size_t *i);
/* 1 when one entry covers the whole destination network. */
int mxo_dst_allowed(const struct mxo_out_state *s, const union mxg_addr *a);

/* ---- state: local -------------------------------------------------------- */

/* One uid or cgroup that connected to a watched port. */
struct mxo_lrow {
	struct mxo_lkey k;
	struct mxo_lrec r;
	__u32 per_min;
	int limited, trusted;
	char *name;         /* user name or cgroup path; NULL if unknown */
};

struct mxo_trust_row {
	struct mxo_lkey k;
	struct mxo_trust t;
	char *name;         /* user name or cgroup path; NULL if unknown */
};

struct mxo_cg_att {
	__u64 id;
	char *path;         /* NULL when the cgroup is gone */
};

struct mxo_local_state {
	struct mxo_cfg cfg;
	__u64 cnt[MXO_NCOUNTERS];
	struct mxo_lrow *rows;   /* uids first, then cgroups; each most
				  * refused, then busiest, first */
	size_t n, nuid;
	size_t limited_uids, limited_cgroups;
	struct mxo_trust_row *trust;
	size_t ntrust;
	struct mxo_cg_att *att;  /* cgroups with programs attached */
	size_t natt;
	__u64 now;
};

/* Read everything. Without MXO_READ_NAMES uids and cgroups stay unnamed
 * (no passwd lookups, no walk of the cgroup tree) and a cgroup is trusted
 * only by an entry of its own id, not of an ancestor. */
#define MXO_READ_NAMES 0x1
int mxo_local_read(const struct mxo_maps *m, struct mxo_local_state *s,
		   unsigned flags);
void mxo_local_free(struct mxo_local_state *s);

/* Local connects of one verdict over all ports. */
__u64 mxo_lo_sum(const __u64 *cnt, unsigned verdict);

/* ---- JSON and Prometheus, shared by outbound, local, stats and dump ------ */

/* {rate, n, per_s, burst}, or null when off. */
void mxo_json_limit(struct mxg_json *j, const char *key,
		    const struct mxg_limit *l);
/* The members of `mxguard outbound --json` (all but "time") into the open
 * object: interfaces, config, total, counters, tracked, then (limit > 0) at
 * most `limit` destinations and sources, events_lost, rec_fail. */
void mxo_json_outbound(struct mxg_json *j, const struct mxo_out_state *s,
		       size_t limit);
/* The members of `mxguard local --json` (all but "time"): cgroups_attached,
 * config, counters, tracked, limited, then (limit > 0) uids, cgroups and
 * trusted, events_lost. */
void mxo_json_local(struct mxg_json *j, const struct mxo_local_state *s,
		    size_t limit);
/* The trusted uids and cgroups as an array member. */
void mxo_json_trust(struct mxg_json *j, const struct mxo_trust_row *r,
		    size_t n);
/* Text exposition: the counters and state, then (limit > 0) the busiest
 * destinations/sources or uids/cgroups. */
void mxo_prom_outbound(FILE *f, const struct mxo_out_state *s, size_t limit);
void mxo_prom_local(FILE *f, const struct mxo_local_state *s, size_t limit);

#endif /* MXG_OUTBOUND_H */

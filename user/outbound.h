/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The outbound side's pinned state (mxo_* maps, programs and links in the
 * pin directory), its config slot, names, and cgroup v2 ids and paths. */
#ifndef MXG_OUTBOUND_H
#define MXG_OUTBOUND_H

#include <limits.h>
#include <stddef.h>
#include "mxguard.h"

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

/* Sum the per-CPU counters into out[MXO_NCOUNTERS]. */
int mxo_stats_read(const struct mxo_maps *m, __u64 *out);

/* "smtp", "submissions", "submission"; 25, 465, 587. */
const char *mxo_port_name(unsigned port);
__u16 mxo_port_number(unsigned port);
/* "pass", "allow", "cap" / "pass", "trusted", "limit_uid", "limit_cgroup". */
const char *mxo_verdict_name(unsigned v);
const char *mxo_lverdict_name(unsigned v);
/* "warn_start", ..., "local_end". */
const char *mxo_ev_type_name(unsigned type);
/* "uid", "cgroup". */
const char *mxo_lkind_name(unsigned kind);

/* The cgroup v2 mount: the first cgroup2 entry of /proc/self/mounts
 * (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
 * -ENOENT when there is none. */
int mxo_cgroup_mount(char *buf, size_t len);
/* The id of the cgroup v2 directory `path` (its inode number, what
 * bpf_get_current_cgroup_id() returns). -EINVAL, *why set, when `path` is
 * not a directory on cgroup2. */
int mxo_cgroup_id(const char *path, __u64 *id, const char **why);
/* Paths (relative to the mount, "/" for the root) of `n` cgroup ids, found
 * by walking the mount; ids not found get an empty string. */
int mxo_cgroup_paths(const __u64 *ids, size_t n, char (*paths)[PATH_MAX]);

#endif /* MXG_OUTBOUND_H */

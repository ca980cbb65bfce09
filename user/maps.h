/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The pinned state: pin directory and bpffs, opening and checking the pinned
 * maps, the lock that serialises controllers, per-CPU sums, clocks. */
#ifndef MXG_MAPS_H
#define MXG_MAPS_H

#include <limits.h>
#include <stddef.h>
#include "mxguard.h"

#define MXG_PIN_DIR_DEFAULT "/sys/fs/bpf/mxguard"
#define MXG_PROG_PIN "mxg_prog"
#define MXG_LINK_PIN_PREFIX "link_"

/* Open file descriptors of the pinned maps; -1 when closed. */
struct mxg_maps {
	int cfg, allow, block_h, block_t, src, pfx, lists, pen, stats, events,
	    feeds, reasons, seen;
	int lock_fd;
};

/* Name, expected layout and slot in struct mxg_maps of each pinned map. The
 * pin file is <pin dir>/<name>, the name being the map's name in the
 * BPF object. */
struct mxg_map_desc {
	const char *name;
	size_t fd_off;
	__u32 type, key_size, value_size;
};
extern const struct mxg_map_desc mxg_map_descs[];
extern const size_t mxg_nmaps;

/* A set of pinned maps opened together into the int slots of one struct
 * (struct mxg_maps, struct mxo_maps), with what to tell when they are not
 * there or have another layout. */
struct mxg_pin_set {
	const struct mxg_map_desc *descs;
	size_t n;
	const char *absent; /* "mxguard is not attached" */
	const char *attach; /* "run 'mxguard attach IFACE' first" */
	const char *fix;    /* another layout: what to do; %s is the pin dir */
};

/* Open and check every map of the set into base; on failure (-ENOENT when
 * one is not pinned) all are closed and the reason has been logged. */
int mxg_pins_open(const struct mxg_pin_set *p, void *base);
/* Close the set's open slots and set them to -1. */
void mxg_pins_close(const struct mxg_pin_set *p, void *base);

/* $MXGUARD_PIN_DIR or /sys/fs/bpf/mxguard. */
const char *mxg_pin_dir(void);
/* <pin dir>/<name> into buf (PATH_MAX). */
void mxg_pin_path(char *buf, const char *name);

/* Check the capabilities the command needs; logs which one is missing. */
#define MXG_NEED_BPF    0x1 /* CAP_BPF (or CAP_SYS_ADMIN): maps, programs */
#define MXG_NEED_NET    0x2 /* CAP_NET_ADMIN: attach/detach XDP */
#define MXG_NEED_MOUNT  0x4 /* CAP_SYS_ADMIN: mount bpffs */
int mxg_require_caps(unsigned need);

/* Make sure the pin directory is on a bpffs: mounts /sys/fs/bpf when it is
 * not mounted, creates the directory (0700) when `create`. */
int mxg_pins_prepare(int create);

/* Open every pinned map and check its layout and ABI stamp. -ENOENT (with a
 * message telling to attach first) when there are no pins. */
int mxg_maps_open(struct mxg_maps *m);
/* The same without the ABI stamp check (for attach, before it is set). */
int mxg_maps_open_raw(struct mxg_maps *m);
void mxg_maps_close(struct mxg_maps *m);

/* Move the generation in the config slot: the service snapshots its state
 * when it moves. mxg_maps_close() does it for maps opened with _rw. */
void mxg_maps_touch(struct mxg_maps *m);

/* The network bucket a SYN from source address a would meet on service
 * svc (its network: a masked to the service's length): 1 its own slot,
 * 2 a slot another network still drains (shared), 0 none yet (v zeroed);
 * <0 error. */
int mxg_pfx_get(const struct mxg_maps *m, const struct mxg_cfg *c,
		const union mxg_addr *a, __u32 svc, __u64 now,
		struct mxg_pfx_val *v);

struct mxg_cidr;

/* The network owning slot v, as a CIDR (its address and the length the
 * slot was taken with). */
void mxg_pfx_cidr(const struct mxg_pfx_val *v, struct mxg_cidr *c);

/* Tokens left in the bucket of slot v (owner in use) at now; *limited:
 * its service has a network limit and the bucket is empty. The one reading
 * of "network limited" for stats and top (the service counts episodes by
 * refusals instead: netwatch.h). */
__u32 mxg_pfx_tokens(const struct mxg_cfg *c, const struct mxg_pfx_val *v,
		     __u64 now, int *limited);

/* Every slot of mxg_pfx into out[slot] (MXG_PFX_SLOTS of them). */
int mxg_pfx_read_all(const struct mxg_maps *m, struct mxg_pfx_val *out);

/* The source filter mxg_seen (see MXG_SEEN_BITS_LOG in mxguard.h).
 * mxg_seen_mark: the bit of a source address in both halves (for records
 * written from user space). mxg_seen_rotate: clear the half the program
 * does not test, set the bit of every record in mxg_src there, switch the
 * program to it; *nsrc the records seen. Callers hold the lock. */
int mxg_seen_mark(const struct mxg_maps *m, const union mxg_addr *a);
int mxg_seen_rotate(const struct mxg_maps *m, size_t *nsrc);

/* Before loading a BPF object: pin each of its maps at <pin dir>/<name>,
 * reusing the one pinned there already. */
struct bpf_object;
int mxg_obj_pin_maps(struct bpf_object *obj);

/* Check CAP_BPF and open the maps; _rw also takes the lock (30 s). */
int mxg_maps_open_ro(struct mxg_maps *m);
int mxg_maps_open_rw(struct mxg_maps *m);

/* Exclusive lock on the pin directory for commands that change state; waits
 * up to `wait_s` seconds, saying so, then gives up with -EBUSY. */
int mxg_lock(struct mxg_maps *m, int wait_s);

/* The config slot. mxg_cfg_load returns a heap copy (free()) or NULL. */
struct mxg_cfg *mxg_cfg_load(const struct mxg_maps *m);
int mxg_cfg_store(const struct mxg_maps *m, const struct mxg_cfg *c);

/* Every entry of a map, read with batch lookups (one syscall per batch;
 * works for hashes, LRU hashes and LPM tries). cb returning non-zero stops
 * the walk and is returned. */
int mxg_map_each(int fd, size_t ksize, size_t vsize,
		 int (*cb)(const void *k, const void *v, void *ctx), void *ctx);

/* Every entry of a map into two arrays, keys and values in the same order
 * (free() both; NULL when empty). */
int mxg_map_read_all(int fd, size_t ksize, size_t vsize, void **keys,
		     void **vals, size_t *n);

/* Sum the per-CPU counters 0..n-1 of a per-CPU array into out[n]. */
int mxg_percpu_sum(int fd, __u32 n, __u64 *out);
/* Sum the per-CPU counters into out[MXG_NCOUNTERS]. */
int mxg_stats_read(const struct mxg_maps *m, __u64 *out);

/* Feed id for a name, creating the feed when `create`; -ENOENT if absent. */
int mxg_feed_id(const struct mxg_maps *m, const char *name, int create);
/* Feed name of an id ("manual" for 0, "feed#N" if the slot is empty). */
void mxg_feed_name(const struct mxg_maps *m, __u32 id, char *buf, size_t len);

/* Feed names and reason texts read once, for listing many entries without
 * a lookup each. */
struct mxg_names {
	char feed[MXG_MAX_FEEDS][MXG_FEED_NAME_LEN + 8];
	char (*reason)[MXG_REASON_LEN]; /* indexed by id, MXG_MAX_REASONS + 1 */
};
int mxg_names_load(const struct mxg_maps *m, struct mxg_names *n);
const char *mxg_names_reason(const struct mxg_names *n, __u32 id);
void mxg_names_free(struct mxg_names *n);

/* Reason text <-> id (0 = none); an existing identical text is reused. */
int mxg_reason_id(const struct mxg_maps *m, const char *text, __u32 *id);
void mxg_reason_text(const struct mxg_maps *m, __u32 id, char *buf,
		     size_t len);

/* Clocks: the program stamps CLOCK_MONOTONIC ns; people read wall clock. */
__u64 mxg_mono_ns(void);
__u64 mxg_unix_s(void);
/* Wall-clock seconds of a monotonic timestamp; 0 stays 0. */
__u64 mxg_mono_to_unix(__u64 mono_ns);

#endif /* MXG_MAPS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The run-time configuration slot (struct mxg_cfg): defaults and edits.
 * Pure, no I/O: the controller and the BPF tests build it the same way. */
#ifndef MXG_CFG_H
#define MXG_CFG_H

#include "mxguard.h"

struct mxg_default_limit {
	__u32 rate_n, per_s, burst;
};

/* Per service: the limit a source gets unless configured otherwise. */
extern const struct mxg_default_limit mxg_default_limits[MXG_SVC_MAX];

#define MXG_DEFAULT_V4_PREFIX 32
#define MXG_DEFAULT_V6_PREFIX 64
#define MXG_DEFAULT_V4_PFX 24     /* prefix bucket */
#define MXG_DEFAULT_V6_PFX 48
#define MXG_DEFAULT_PFX_FACTOR 10 /* prefix limit = 10 x source limit */
/* The widest network a bucket may cover: wider ones lump unrelated senders
 * together, and "--prefix-v4 2" is a typo for 22, not a policy. */
#define MXG_NET_MIN_V4 8
#define MXG_NET_MIN_V6 16

/* Fill *c with magic, ABI, enforce mode, default limits, default ports and
 * the default source key prefixes. */
void mxg_cfg_defaults(struct mxg_cfg *c);

/* Set a service's limit from a rate (n per per_s seconds) and a burst. */
void mxg_cfg_set_limit(struct mxg_cfg *c, unsigned svc, __u32 n, __u32 per_s,
		       __u32 burst);

/* The same for the bucket shared by a whole prefix. */
void mxg_cfg_set_plimit(struct mxg_cfg *c, unsigned svc, __u32 n, __u32 per_s,
			__u32 burst);

/* The prefix lengths of a service's network bucket (IPv4 MXG_NET_MIN_V4..32,
 * IPv6 MXG_NET_MIN_V6..128) and the masks the program applies. */
void mxg_cfg_set_net(struct mxg_cfg *c, unsigned svc, unsigned v4, unsigned v6);

/* The lengths reported as v4_network_prefix and v6_network_prefix, the
 * one pair there was before they were set per service: smtp's. */
static inline const struct mxg_net *mxg_cfg_net0(const struct mxg_cfg *c)
{
	return &c->net[MXG_SVC_SMTP];
}

/* The network of address a on service svc: a masked to the service's
 * length of a's family, which is returned (IPv4 8-32, IPv6 16-128). */
unsigned mxg_cfg_net_of(const struct mxg_cfg *c, unsigned svc,
			const union mxg_addr *a, union mxg_addr *net);

/* Set the source key prefix lengths (IPv4 0..32, IPv6 0..128). */
void mxg_cfg_set_prefixes(struct mxg_cfg *c, unsigned v4, unsigned v6);

#endif /* MXG_CFG_H */

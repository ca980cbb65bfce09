// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Defaults and edits of the run-time configuration slot. */
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include "cfg.h"
#include "units.h"
#include "addr.h"

/*
 * Why these numbers (README "Default limits"): they are per source address
 * (IPv4 /32, IPv6 /64) and per service, far above what one honest client
 * needs yet low enough that a dictionary attack or a harvest flood from one
 * address is cut to a trickle within seconds.
 *  smtp: peer MTAs reuse connections; even a big sender rarely opens more
 *        than a connection a second to one server from one address.
 *  submission(s): one office behind NAT, a few dozen users sending.
 *  pop3(s): mail clients poll every minute or so, one connection each.
 *  imap(s): clients open up to five parallel connections and reconnect often.
 * A whole network (IPv4 /24, IPv6 /48, unless set per service) gets
 * MXG_DEFAULT_PFX_FACTOR times the per-source rate and burst: a botnet
 * spread over one network is limited as a whole, while a /24 of honest
 * NATed offices or a provider's outbound MTAs still has ten sources' worth
 * of room (partners belong in the allowlist).
 */
const struct mxg_default_limit mxg_default_limits[MXG_SVC_MAX] = {
	[MXG_SVC_SMTP]        = { 60, 60, 30 },
	[MXG_SVC_SUBMISSIONS] = { 30, 60, 15 },
	[MXG_SVC_SUBMISSION]  = { 30, 60, 15 },
	[MXG_SVC_POP3]        = { 30, 60, 20 },
	[MXG_SVC_POP3S]       = { 30, 60, 20 },
	[MXG_SVC_IMAP]        = { 60, 60, 40 },
	[MXG_SVC_IMAPS]       = { 60, 60, 40 },
};

/* n per per_s seconds, burst: the bucket as the program reads it. */
static void limit_set(struct mxg_limit *l, __u32 n, __u32 per_s, __u32 burst)
{
	l->rate_n = n;
	l->rate_per_s = per_s;
	l->burst = burst;
	l->interval_ns = n ? (__u64)per_s * 1000000000ull / n : 0;
}

void mxg_cfg_set_limit(struct mxg_cfg *c, unsigned svc, __u32 n, __u32 per_s,
		       __u32 burst)
{
	limit_set(&c->limit[svc], n, per_s, burst);
}

void mxg_cfg_set_net(struct mxg_cfg *c, unsigned svc, unsigned v4, unsigned v6)
{
	struct mxg_net *n = &c->net[svc];

	n->len4 = v4;
	n->len6 = v6;
	mxg_addr_mask(&n->mask4, 96 + v4);
	mxg_addr_mask(&n->mask6, v6);
}

unsigned mxg_cfg_net_of(const struct mxg_cfg *c, unsigned svc,
			const union mxg_addr *a, union mxg_addr *net)
{
	const struct mxg_net *n = &c->net[svc < MXG_SVC_MAX ? svc : 0];
	int v4 = mxg_addr_is_v4(a);

	mxg_addr_and(net, a, v4 ? &n->mask4 : &n->mask6);
	return v4 ? n->len4 : n->len6;
}

void mxg_cfg_set_plimit(struct mxg_cfg *c, unsigned svc, __u32 n, __u32 per_s,
			__u32 burst)
{
	limit_set(&c->plimit[svc], n, per_s, burst);
}

void mxg_cfg_set_prefixes(struct mxg_cfg *c, unsigned v4, unsigned v6)
{
	c->v4_prefix = v4;
	c->v6_prefix = v6;
	/* The ::ffff: part of a mapped address always stays in the key. */
	mxg_addr_mask(&c->src_mask4, 96 + v4);
	mxg_addr_mask(&c->src_mask6, v6);
}

void mxg_cfg_defaults(struct mxg_cfg *c)
{
	unsigned s;

	memset(c, 0, sizeof(*c));
	c->magic = MXG_CFG_MAGIC;
	c->abi = MXG_ABI_VERSION;
	c->mode = MXG_MODE_ENFORCE;
	/* The prefix slots' seed: a secret, so that nobody can aim a network
	 * at the slot of another. */
	if (getrandom(&c->pfx_seed, sizeof(c->pfx_seed), GRND_NONBLOCK) !=
	    sizeof(c->pfx_seed))
		c->pfx_seed = (__u32)time(NULL) * 2654435761u ^ (__u32)clock();
	mxg_cfg_set_prefixes(c, MXG_DEFAULT_V4_PREFIX, MXG_DEFAULT_V6_PREFIX);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_default_limit *d = &mxg_default_limits[s];

		mxg_cfg_set_net(c, s, MXG_DEFAULT_V4_PFX, MXG_DEFAULT_V6_PFX);

		mxg_cfg_set_limit(c, s, d->rate_n, d->per_s, d->burst);
		mxg_cfg_set_plimit(c, s, d->rate_n * MXG_DEFAULT_PFX_FACTOR, d->per_s,
				   d->burst * MXG_DEFAULT_PFX_FACTOR);
		c->port_svc[mxg_svc_default_port(s)] = s;
	}
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the service tells about network buckets: a network whose bucket
 * began to refuse new connections (a botnet packed into one network, or a
 * partner's NATed office that outgrew its network limit) and one whose
 * bucket has refilled completely since. Read from the slots of mxg_pfx
 * every few seconds, like the penalty table for escalation: the program
 * keeps no episode state for networks and sends no events for them, so a
 * spoofed flood over thousands of networks costs the data plane nothing
 * here. */
#ifndef MXG_NETWATCH_H
#define MXG_NETWATCH_H

#include <stddef.h>
#include "mxguard.h"

struct mxg_netwatch {
	struct mxg_pfx_val *cur;   /* MXG_PFX_SLOTS: the reading to compare */
	struct mxg_pfx_val *prev;  /* the last reading */
	__u64 *ep;                 /* bit per slot: its owner in an episode */
	int valid;                 /* a first reading was taken */
};

/* A network that changed, with its slot as read: for a start the reading
 * now; for an end the last reading in which it was limited, or the reading
 * now when it still owns its slot (its final counters). */
struct mxg_net_change {
	struct mxg_pfx_val v;
	__u32 slot;
};

/* Since the last reading, each list most refused first (drops, then syns). */
struct mxg_netwatch_news {
	struct mxg_net_change *started, *ended; /* free() */
	size_t nstarted, nended;
	size_t limited;            /* networks in an episode now */
	int first;                 /* the first reading: nothing is news */
};

int mxg_netwatch_init(struct mxg_netwatch *w);
void mxg_netwatch_free(struct mxg_netwatch *w);

/* Compare the slots in w->cur (read at now, monotonic ns) with the last
 * reading and keep them. A network is a slot's owner (address, service,
 * length). Its episode starts at the first reading that finds it refused
 * a SYN since the one before (its slot's drops grew; in monitor mode they
 * count would-be refusals) and ends at the first that finds its bucket
 * full again without a new refusal, or the slot taken over by another
 * network. The first reading only takes note (a network whose bucket
 * still drains and has refused counts as in an episode): what was going
 * on before the service started is not news. */
int mxg_netwatch_update(struct mxg_netwatch *w, __u64 now,
			struct mxg_netwatch_news *news);
void mxg_netwatch_news_free(struct mxg_netwatch_news *news);

#endif /* MXG_NETWATCH_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/rescale.c: a drained bucket keeps its debt in tokens
 * across a change of limits, capped at the new burst. */
#include <stdio.h>
#include "check.h"
#include "cfg.h"
#include "rescale.h"
#include "bucket.h"

#define S 1000000000ull

static struct mxg_limit lim(__u32 n, __u32 per_s, __u32 burst)
{
	struct mxg_cfg c;

	mxg_cfg_set_limit(&c, MXG_SVC_SMTP, n, per_s, burst);
	return c.limit[MXG_SVC_SMTP];
}

int main(int argc, char **argv)
{
	const __u64 now = 1000 * S;
	struct mxg_limit hour3 = lim(1, 3600, 3), fast = lim(1000, 1, 100);
	struct mxg_limit min60 = lim(60, 60, 10), off = lim(0, 1, 1);
	__u64 tat;

	if (argc > 1)
		check_filter = argv[1];
	/* Owes 3 tokens at 1/hour (3 h ahead): 3 tokens at 1000/s = 3 ms. */
	tat = mxg_tat_rescale(now + 3 * 3600 * S, now, &hour3, &fast);
	CHECK_EQ("raised: debt in tokens kept", now + 3 * S / 1000, tat);
	CHECK_EQ("raised: tokens available again", 97,
		 mxg_bucket_tokens(tat, now, fast.interval_ns, fast.burst));
	/* Owes 5 tokens at 60/min (5 s): at 1/hour burst 3 it owes all 3. */
	tat = mxg_tat_rescale(now + 5 * S, now, &min60, &hour3);
	CHECK_EQ("lowered: capped at the new burst", now + 3 * 3600 * S, tat);
	CHECK_EQ("lowered: drained", 0,
		 mxg_bucket_tokens(tat, now, hour3.interval_ns, hour3.burst));
	CHECK_EQ("full bucket stays full", now - 7, mxg_tat_rescale(now - 7, now, &hour3, &fast));
	CHECK_EQ("unlimited now: nothing owed", now,
		 mxg_tat_rescale(now + 3 * 3600 * S, now, &hour3, &off));
	CHECK_EQ("was unlimited: nothing owed", now,
		 mxg_tat_rescale(now + 5, now, &off, &hour3));
	return CHECK_DONE();
}

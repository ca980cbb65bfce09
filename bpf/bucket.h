/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Token bucket as GCRA: pure arithmetic, the caller passes `now`, so the same
 * code runs in the XDP program and in unit tests with a fake clock. */
#ifndef MXG_BUCKET_H
#define MXG_BUCKET_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * One timestamp per bucket: *tat is the theoretical arrival time of the next
 * conforming event. An event conforms when accepting it would not push *tat
 * more than burst * interval past now. From idle (tat <= now) exactly `burst`
 * events conform at once, then one per interval. interval 0 = unlimited,
 * burst 0 = nothing conforms. The controller caps burst * interval far below
 * 2^64 (burst <= 1e6, interval <= 1 h).
 */
static __always_inline int mxg_bucket_take(__u64 *tat, __u64 now,
					   __u64 interval, __u32 burst)
{
	__u64 t = *tat;

	if (!interval)
		return 1;
	if (t < now)
		t = now;
	t += interval;
	if (t - now > (__u64)burst * interval)
		return 0;
	*tat = t;
	return 1;
}

/* 1 when the bucket is full again: the source has been quiet long enough. */
static __always_inline int mxg_bucket_full(__u64 tat, __u64 now)
{
	return tat <= now;
}

/* Tokens available at `now` (for display): burst minus what is still owed. */
static __always_inline __u32 mxg_bucket_tokens(__u64 tat, __u64 now,
					       __u64 interval, __u32 burst)
{
	__u64 owed;

	if (!interval)
		return burst;
	if (tat <= now)
		return burst;
	owed = (tat - now + interval - 1) / interval;
	return owed >= burst ? 0 : burst - (__u32)owed;
}

#endif /* MXG_BUCKET_H */

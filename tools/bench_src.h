/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The spoofed sources of the benchmark floods, shared by mxg-synflood (AF_PACKET
 * over veth) and the live-frame rotator (tools/bench_live.bpf.c), so both
 * floods send the same cycle. Plain C that BPF also compiles. */
#ifndef MXG_BENCH_SRC_H
#define MXG_BENCH_SRC_H

#define BENCH_V4_FIRST 0xc6120100u /* 198.18.1.0: the /15 above 198.18.0.0/24 */
#define BENCH_V4_SPAN (131072u - 256u)
#define BENCH_V6_SPAN (0xffffffffu - 0xffffu) /* /64s of 2001:db8::/32 above ::/48 */

/* A bijection of [0, m) for the random mode: an affine map with a
 * multiplier coprime to m, so N indexes give N distinct sources. */
static inline unsigned long long bench_permute(unsigned long long i,
					       unsigned long long m)
{
	unsigned long long a = 2654435761ull; /* prime, divides none of the spans */

	return (a * (i % m) + 0x9e3779b9ull) % m;
}

#endif /* MXG_BENCH_SRC_H */

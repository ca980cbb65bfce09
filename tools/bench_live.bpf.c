// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The source rotator of tools/bench-live. BPF_PROG_RUN in live-frame mode
 * runs one frame (a SYN to port 25) over and over from a page pool, and what
 * the filter under test returns is carried out: XDP_DROP frees the page,
 * XDP_PASS hands the frame to the network stack of the given interface, as
 * a NIC driver would. This program runs first on every frame: it writes the
 * next source of the cycle into it (the sources of mxg-synflood's random
 * mode: an affine permutation, so N frames of a family carry N distinct
 * sources), mends the checksums, and tail-calls the filter in slot 0 of
 * bench_target. The same for every filter: only the filter differs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench_src.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

/* Distinct sources per family in the cycle; set before load. */
const volatile __u32 bench_n4 = 1;
const volatile __u32 bench_n6 = 1;

/* Frames rotated so far, per family: one CPU runs a test run. */
__u64 bench_k4, bench_k6;

/* *sum (a 16-bit one's complement checksum in the frame) after the bytes
 * from -> to of the data it covers changed (RFC 1624). */
static __always_inline void bench_csum_fix(__sum16 *sum, void *from, void *to,
					   __u32 len)
{
	__s64 d = bpf_csum_diff(from, len, to, len, (__u16)~*sum);
	__u32 s = (__u32)d;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = (__sum16)~s;
}

SEC("xdp")
int bench_rotate(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (eth->h_proto == bpf_htons(0x0800)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct tcphdr *th = (void *)(ip + 1);
		__be32 old, src;

		if ((void *)(th + 1) > end)
			return XDP_ABORTED;
		src = bpf_htonl(BENCH_V4_FIRST +
				(__u32)bench_permute(bench_k4++ % bench_n4, BENCH_V4_SPAN));
		old = ip->saddr;
		ip->saddr = src;
		bench_csum_fix(&ip->check, &old, &src, 4);
		bench_csum_fix(&th->check, &old, &src, 4);
	} else if (eth->h_proto == bpf_htons(0x86DD)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct tcphdr *th = (void *)(ip6 + 1);
		__u64 k = bench_k6++ % bench_n6;
		__be32 old[4], src[4];

		if ((void *)(th + 1) > end)
			return XDP_ABORTED;
		__builtin_memcpy(old, &ip6->saddr, sizeof(old));
		src[0] = bpf_htonl(0x20010db8);
		src[1] = bpf_htonl(0x10000u + (__u32)bench_permute(k, BENCH_V6_SPAN));
		src[2] = bpf_htonl((__u32)(k * 0x9e3779b1u));
		src[3] = bpf_htonl((__u32)k | 1);
		__builtin_memcpy(&ip6->saddr, src, sizeof(src));
		bench_csum_fix(&th->check, old, src, sizeof(src));
	} else {
		return XDP_ABORTED;
	}
	bpf_tail_call(ctx, &bench_target, 0);
	return XDP_ABORTED; /* the slot is empty */
}

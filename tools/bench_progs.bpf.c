// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reference XDP programs the benchmarks compare mxguard against: an empty
 * program, a minimal Ethernet/IP/TCP parser, the floor of a mail verdict
 * (the lookups any such filter makes, nothing else), and a trivial drop of
 * all TCP to port 25 that counts what it dropped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mxguard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define B_ETH_P_IP 0x0800
#define B_ETH_P_IPV6 0x86DD
#define B_IPPROTO_TCP 6

/* key 0 -> packets dropped by bench_drop25, per CPU; bench-xdp reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_cnt SEC(".maps");

/* The floor program's tables, shaped like mxguard's: an allow trie and a
 * block trie (left empty), an exact block hash (left empty: lookups miss)
 * and a source LRU (bench-prog inserts the one source it sends). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_key);
	__type(value, __u64);
} bench_ftrie_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mxg_lpm_key);
	__type(value, __u64);
} bench_ftrie_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, union mxg_addr);
	__type(value, __u64);
} bench_fhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct mxg_src_key);
	__type(value, struct mxg_src_val);
} bench_flru SEC(".maps");

/* The floor: what running any XDP program at all costs. */
SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Destination port of a TCP segment in IPv4 (no options assumed beyond
 * IHL) or IPv6 (no extension headers), or -1. As little as a parser can do
 * and still find the port: the reference for "a non-mail frame costs what
 * a minimal parser costs". */
static __always_inline int bench_tcp_dport(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct tcphdr *th;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(B_ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != B_IPPROTO_TCP)
			return -1;
		th = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(B_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != B_IPPROTO_TCP)
			return -1;
		th = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if ((void *)(th + 1) > end)
		return -1;
	return bpf_ntohs(th->dest);
}

/* Parse Ethernet/IP/TCP, then pass: the calibrated "minimal parser". */
SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	int dport = bench_tcp_dport(data, end);

	/* Keep the parse: a result nobody uses would be optimised away. */
	return dport == 0 ? XDP_DROP : XDP_PASS;
}

/* The floor of a full mail verdict as DESIGN.md defines it: parse, allow
 * trie, exact block hash, block trie, LRU source record hit with an atomic
 * add, coarse clock. IPv4 only, no options, no VLAN: a lower bound. */
SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct mxg_lpm_key lk = { .prefixlen = 128 };
	struct mxg_src_key sk = { .svc = MXG_SVC_SMTP };
	struct mxg_src_val *s;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(B_ETH_P_IP))
		return XDP_PASS;
	lk.addr.w[2] = bpf_htonl(0xffff);
	lk.addr.w[3] = ip->saddr;
	if (bpf_map_lookup_elem(&bench_ftrie_a, &lk))
		return XDP_PASS;
	if (bpf_map_lookup_elem(&bench_fhash, &lk.addr))
		return XDP_DROP;
	if (bpf_map_lookup_elem(&bench_ftrie_b, &lk))
		return XDP_DROP;
	sk.addr = lk.addr;
	s = bpf_map_lookup_elem(&bench_flru, &sk);
	if (!s)
		return XDP_PASS;
	__sync_fetch_and_add(&s->syns, 1);
	s->last_ns = bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

/* Drop every TCP segment to port 25 and count it: the best any filter of
 * the SYN flood can do on this path. */
SEC("xdp")
int bench_drop25(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	__u64 *c;

	if (bench_tcp_dport(data, end) != 25)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&bench_cnt, &zero);
	if (c)
		*c += 1;
	return XDP_DROP;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Bounds-checked header parsing for the XDP program: Ethernet, up to two VLAN
 * tags, IPv4 (options, fragments), IPv6 (bounded extension-header walk), TCP. */
#ifndef MXG_PARSE_H
#define MXG_PARSE_H

#define MXG_ETH_P_IP     0x0800
#define MXG_ETH_P_IPV6   0x86DD
#define MXG_ETH_P_8021Q  0x8100
#define MXG_ETH_P_8021AD 0x88A8

#define MXG_IPPROTO_HOPOPTS  0
#define MXG_IPPROTO_TCP      6
#define MXG_IPPROTO_ROUTING  43
#define MXG_IPPROTO_FRAGMENT 44
#define MXG_IPPROTO_AH       51
#define MXG_IPPROTO_DSTOPTS  60

#define MXG_MAX_VLAN    2
#define MXG_MAX_EXTHDR  8 /* IPv6 extension headers walked before giving up */

#define MXG_TCP_SYN 0x02
#define MXG_TCP_ACK 0x10

/* parse() result for a well-formed TCP segment; the other results are
 * MXG_R_NOT_IP, MXG_R_NOT_TCP and MXG_R_UNPARSED. */
#define MXG_PARSED MXG_R_MAX

struct mxg_vlan {
	__be16 tci;
	__be16 proto;
};

struct mxg_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct mxg_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | flags */
	__be32 id;
};

struct mxg_pkt {
	union mxg_addr src; /* IPv4 mapped into ::ffff:0:0/96 */
	__u16 dport;        /* host order */
	__u8 tcp_flags;
	__u8 v6;
};

/* l4_len: the bytes the IP header says follow it, from tot_len or
 * payload_len; the TCP header must fit in those as well as in the frame. */
static __always_inline int mxg_parse_tcp(void *cur, void *end,
					 struct mxg_pkt *p, __u32 l4_len)
{
	struct tcphdr *th = cur;
	__u32 doff;

	if ((void *)(th + 1) > end)
		return MXG_R_UNPARSED;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || doff > l4_len || cur + doff > end)
		return MXG_R_UNPARSED;
	p->dport = bpf_ntohs(th->dest);
	p->tcp_flags = ((__u8 *)th)[13];
	return MXG_PARSED;
}

static __always_inline int mxg_parse_ip4(void *cur, void *end,
					 struct mxg_pkt *p)
{
	struct iphdr *ip = cur;
	__u32 ihl, tot;

	if ((void *)(ip + 1) > end)
		return MXG_R_UNPARSED;
	if (ip->version != 4)
		return MXG_R_UNPARSED;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ihl < sizeof(*ip) || tot < ihl || cur + tot > end)
		return MXG_R_UNPARSED;
	if (ip->protocol != MXG_IPPROTO_TCP)
		return MXG_R_NOT_TCP;
	/* Only the first fragment carries the TCP header. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return MXG_R_UNPARSED;
	if (tot < ihl + sizeof(struct tcphdr))
		return MXG_R_UNPARSED;
	p->src.w[0] = 0;
	p->src.w[1] = 0;
	p->src.w[2] = bpf_htonl(0xffff);
	p->src.w[3] = ip->saddr;
	p->v6 = 0;
	return mxg_parse_tcp(cur + ihl, end, p, tot - ihl);
}

static __always_inline int mxg_parse_ip6(void *cur, void *end,
					 struct mxg_pkt *p)
{
	struct ipv6hdr *ip6 = cur;
	void *pend;
	__u32 plen;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return MXG_R_UNPARSED;
	if (ip6->version != 6)
		return MXG_R_UNPARSED;
	nh = ip6->nexthdr;
	cur = ip6 + 1;
	/* payload_len 0 is a jumbogram (hop-by-hop option): not mail. */
	plen = bpf_ntohs(ip6->payload_len);
	if (!plen || cur + plen > end)
		return MXG_R_UNPARSED;
	pend = cur + plen;
	/* One round per extension header, one more for the TCP header. */
	for (i = 0; i <= MXG_MAX_EXTHDR; i++) {
		if (nh == MXG_IPPROTO_TCP) {
			__builtin_memcpy(&p->src, &ip6->saddr, sizeof(p->src));
			p->v6 = 1;
			if (cur > pend)
				return MXG_R_UNPARSED;
			return mxg_parse_tcp(cur, end, p, pend - cur);
		}
		if (nh == MXG_IPPROTO_HOPOPTS || nh == MXG_IPPROTO_ROUTING ||
		    nh == MXG_IPPROTO_DSTOPTS || nh == MXG_IPPROTO_AH) {
			struct mxg_ip6_ext *x = cur;
			__u32 len;

			if ((void *)(x + 1) > end)
				return MXG_R_UNPARSED;
			/* AH counts 4-byte units minus 2, the others 8-byte
			 * units minus 1 (RFC 4302, RFC 8200). */
			if (nh == MXG_IPPROTO_AH)
				len = ((__u32)x->hdrlen + 2) * 4;
			else
				len = ((__u32)x->hdrlen + 1) * 8;
			nh = x->nexthdr;
			cur += len;
			continue;
		}
		if (nh == MXG_IPPROTO_FRAGMENT) {
			struct mxg_ip6_frag *f = cur;

			if ((void *)(f + 1) > end)
				return MXG_R_UNPARSED;
			if (f->frag_off & bpf_htons(0xfff8))
				return MXG_R_UNPARSED;
			nh = f->nexthdr;
			cur = f + 1;
			continue;
		}
		return MXG_R_NOT_TCP;
	}
	return MXG_R_UNPARSED;
}

/* a & m into out, word by word (a key masked to a prefix). */
static __always_inline void mxg_addr_masked(union mxg_addr *out,
					    const union mxg_addr *a,
					    const union mxg_addr *m)
{
	out->w[0] = a->w[0] & m->w[0];
	out->w[1] = a->w[1] & m->w[1];
	out->w[2] = a->w[2] & m->w[2];
	out->w[3] = a->w[3] & m->w[3];
}

/* Ethernet and at most MXG_MAX_VLAN tags in the frame (no hardware
 * offload): the protocol after them in *proto, where it starts in *l3;
 * MXG_R_UNPARSED when a header is cut short, else 0. */
static __always_inline int mxg_parse_l2(void *data, void *end, void **l3,
					__be16 *proto)
{
	struct ethhdr *eth = data;
	void *cur;
	int i;

	if ((void *)(eth + 1) > end)
		return MXG_R_UNPARSED;
	*proto = eth->h_proto;
	cur = eth + 1;
	for (i = 0; i < MXG_MAX_VLAN; i++) {
		struct mxg_vlan *v = cur;

		if (*proto != bpf_htons(MXG_ETH_P_8021Q) &&
		    *proto != bpf_htons(MXG_ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return MXG_R_UNPARSED;
		*proto = v->proto;
		cur = v + 1;
	}
	*l3 = cur;
	return 0;
}

/* The IP layer after mxg_parse_l2(): fills *p and returns MXG_PARSED for a
 * well-formed TCP segment, otherwise the pass reason. Never reads past
 * `end`. */
static __always_inline int mxg_parse_l3(__be16 proto, void *cur, void *end,
					struct mxg_pkt *p)
{
	if (proto == bpf_htons(MXG_ETH_P_IP))
		return mxg_parse_ip4(cur, end, p);
	if (proto == bpf_htons(MXG_ETH_P_IPV6))
		return mxg_parse_ip6(cur, end, p);
	if (proto == bpf_htons(MXG_ETH_P_8021Q) ||
	    proto == bpf_htons(MXG_ETH_P_8021AD))
		return MXG_R_UNPARSED; /* a third tag: beyond our bound */
	return MXG_R_NOT_IP;
}

/* mxg_peek() result: only the full parse can classify this frame. */
#define MXG_PEEK_FULL (MXG_R_MAX + 1)

/* The fast path for frames that are not mail: the destination port of a
 * TCP segment, found with the fewest checks that read it safely (IPv4 any
 * IHL, IPv6 without extension headers). Returns MXG_PARSED with *dport (host
 * order), MXG_R_NOT_IP, MXG_R_NOT_TCP for IPv4 that is not TCP, or
 * MXG_PEEK_FULL when mxg_parse_l3() has to decide (a third VLAN tag, IPv6
 * extension headers, a header cut short). Nothing is validated beyond the
 * port: a frame to a protected port is parsed again in full before any
 * verdict, and one to another port passes whatever else is wrong with it. */
static __always_inline int mxg_peek(__be16 proto, void *cur, void *end,
				    __u16 *dport)
{
	struct tcphdr *th;
	__u32 hl;

	if (proto == bpf_htons(MXG_ETH_P_IP)) {
		struct iphdr *ip = cur;

		if ((void *)(ip + 1) > end)
			return MXG_PEEK_FULL;
		if (ip->protocol != MXG_IPPROTO_TCP)
			return MXG_R_NOT_TCP;
		/* IHL under 5 leaves no TCP header to read a port from
		 * (one load of the version/IHL byte: bitfields reload) */
		hl = (*(__u8 *)ip & 0xf) * 4;
		if (hl < sizeof(*ip))
			return MXG_PEEK_FULL;
		th = cur + hl;
	} else if (proto == bpf_htons(MXG_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cur;

		if ((void *)(ip6 + 1) > end ||
		    ip6->nexthdr != MXG_IPPROTO_TCP)
			return MXG_PEEK_FULL;
		th = (void *)(ip6 + 1);
	} else if (proto == bpf_htons(MXG_ETH_P_8021Q) ||
		   proto == bpf_htons(MXG_ETH_P_8021AD)) {
		return MXG_PEEK_FULL; /* a third tag: unparsed */
	} else {
		return MXG_R_NOT_IP;
	}
	/* source and destination port: the first four bytes */
	if ((void *)th + 4 > end)
		return MXG_PEEK_FULL;
	*dport = bpf_ntohs(th->dest);
	return MXG_PARSED;
}

#endif /* MXG_PARSE_H */

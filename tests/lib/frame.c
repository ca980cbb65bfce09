// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Builds test frames byte by byte from a struct frame_spec (see frame.h). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "frame.h"

#define ETH_HDR 14
#define VLAN_HDR 4
#define IP4_HDR 20
#define IP6_HDR 40
#define TCP_HDR 20
#define UDP_HDR 8
#define ICMP_HDR 8
#define ARP_BODY 28

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_LOCAL 0x88b5 /* IEEE local experimental */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define PROTO_NONE6 59
#define PROTO_RESERVED 255

static const __u8 mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static int knob(int v, int computed)
{
	return (v & FRAME_SET_BIT) ? (v & ~FRAME_SET_BIT) : computed;
}

static void put16(__u8 *p, unsigned v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

__u32 frame_csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

__u16 frame_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

static int ext_len(const struct frame_ext *x)
{
	switch (x->type) {
	case FRAME_EXT_FRAG:
		return 8;
	case FRAME_EXT_AH:
		return ((x->hdrlen ? x->hdrlen : 4) + 2) * 4;
	default:
		return (x->hdrlen + 1) * 8;
	}
}

/* Option-bearing headers (hop-by-hop, destination): one PadN covering all. */
static void write_ext(__u8 *p, const struct frame_ext *x, __u8 next)
{
	int len = ext_len(x);

	memset(p, 0, len);
	p[0] = next;
	switch (x->type) {
	case FRAME_EXT_FRAG:
		put16(p + 2, x->frag);
		put32(p + 4, 0x6d786701);
		break;
	case FRAME_EXT_AH:
		p[1] = x->hdrlen ? x->hdrlen : 4;
		put32(p + 4, 0x100);  /* SPI */
		put32(p + 8, 1);      /* sequence number */
		memset(p + 12, 0xa5, len - 12); /* ICV */
		break;
	case FRAME_EXT_RT:
		p[1] = x->hdrlen;
		p[2] = 253;           /* RFC 4727 experimental type */
		p[3] = 0;             /* segments left: ignorable */
		break;
	default:
		p[1] = x->hdrlen;
		p[2] = 1;             /* PadN */
		p[3] = len - 4;
		break;
	}
}

static int l4_hdr_len(const struct frame_spec *s)
{
	switch (s->l4) {
	case FRAME_TCP:
		return TCP_HDR + s->tcp_opts;
	case FRAME_UDP:
		return UDP_HDR;
	case FRAME_ICMP:
		return ICMP_HDR;
	default:
		return 0;
	}
}

static int l4_proto(const struct frame_spec *s)
{
	switch (s->l4) {
	case FRAME_TCP:
		return PROTO_TCP;
	case FRAME_UDP:
		return PROTO_UDP;
	case FRAME_ICMP:
		return s->l3 == FRAME_IPV6 ? PROTO_ICMP6 : PROTO_ICMP;
	default:
		return s->l3 == FRAME_IPV6 ? PROTO_NONE6 : PROTO_RESERVED;
	}
}

static void write_tcp(__u8 *p, const struct frame_spec *s)
{
	int i, opts = s->tcp_opts;

	memset(p, 0, TCP_HDR + opts);
	put16(p, s->sport ? s->sport : 40000);
	put16(p + 2, s->dport ? s->dport : 25);
	put32(p + 4, s->seq ? s->seq : 0x01020304);
	if (s->ack_seq)
		put32(p + 8, s->ack_seq);
	else if (s->tcp_flags & FRAME_TCP_ACK)
		put32(p + 8, 0x0a0b0c0d);
	p[12] = (knob(s->doff, (TCP_HDR + opts) / 4) & 0xf) << 4;
	p[13] = s->tcp_flags;
	put16(p + 14, 65535);
	/* MSS first, then NOPs: what a SYN carries, in any length. */
	i = 0;
	if (opts >= 4) {
		p[TCP_HDR] = 2;
		p[TCP_HDR + 1] = 4;
		put16(p + TCP_HDR + 2, 1460);
		i = 4;
	}
	for (; i < opts; i++)
		p[TCP_HDR + i] = 1;
}

static void write_l4(__u8 *p, const struct frame_spec *s, int v6)
{
	switch (s->l4) {
	case FRAME_TCP:
		write_tcp(p, s);
		break;
	case FRAME_UDP:
		memset(p, 0, UDP_HDR);
		put16(p, s->sport ? s->sport : 40000);
		put16(p + 2, s->dport ? s->dport : 25);
		put16(p + 4, UDP_HDR + s->payload);
		break;
	case FRAME_ICMP:
		memset(p, 0, ICMP_HDR);
		p[0] = v6 ? 128 : 8; /* echo request */
		put16(p + 4, 0x4d58);
		put16(p + 6, 1);
		break;
	default:
		break;
	}
}

/* Checksum offset inside the transport header, or -1. */
static int l4_csum_off(const struct frame_spec *s)
{
	switch (s->l4) {
	case FRAME_TCP:
		return 16;
	case FRAME_UDP:
		return 6;
	case FRAME_ICMP:
		return 2;
	default:
		return -1;
	}
}

static int parse_addrs(const struct frame_spec *s, int v6, __u8 *src,
		       __u8 *dst)
{
	const char *a = s->src, *b = s->dst;
	int af = v6 ? AF_INET6 : AF_INET;

	if (!a)
		a = v6 ? "2001:db8:1::10" : "198.18.0.10";
	if (!b)
		b = v6 ? "2001:db8::1" : "198.18.0.1";
	if (inet_pton(af, a, src) != 1 || inet_pton(af, b, dst) != 1)
		return -EINVAL;
	return 0;
}

static int build_arp(const struct frame_spec *s, __u8 *p)
{
	__u8 spa[4], tpa[4];

	if (parse_addrs(s, 0, spa, tpa))
		return -EINVAL;
	put16(p, 1);             /* Ethernet */
	put16(p + 2, ETHERTYPE_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, 1);         /* request */
	memcpy(p + 8, mac_src, 6);
	memcpy(p + 14, spa, 4);
	memset(p + 18, 0, 6);
	memcpy(p + 24, tpa, 4);
	return ARP_BODY;
}

/* The IP datagram at p; returns its length, sets *l4_off (relative to p). */
static int build_ip(const struct frame_spec *s, __u8 *p, size_t room,
		    int *l4_off)
{
	int v6 = s->l3 == FRAME_IPV6;
	int l4len = l4_hdr_len(s), proto = knob(s->proto, l4_proto(s));
	int i, hlen, len, csum_off;
	__u8 src[16], dst[16];
	__u32 sum;

	if (parse_addrs(s, v6, src, dst))
		return -EINVAL;
	if (s->ip_opts < 0 || s->ip_opts > 40 || s->ip_opts % 4 ||
	    s->tcp_opts < 0 || s->tcp_opts > 40 || s->tcp_opts % 4 ||
	    s->payload < 0 || s->n_ext < 0 || s->n_ext > FRAME_MAX_EXT)
		return -EINVAL;
	if (v6) {
		hlen = IP6_HDR;
		for (i = 0; i < s->n_ext; i++)
			hlen += ext_len(&s->ext[i]);
	} else {
		hlen = IP4_HDR + s->ip_opts;
	}
	len = hlen + l4len + s->payload;
	if ((size_t)len > room)
		return -EINVAL;
	memset(p, 0, len);

	if (v6) {
		int off = IP6_HDR;

		put32(p, (__u32)(knob(s->version, 6) & 0xf) << 28);
		put16(p + 4, knob(s->tot_len, len - IP6_HDR + s->len_adj));
		p[6] = s->n_ext ? s->ext[0].type : proto;
		p[7] = 64;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		for (i = 0; i < s->n_ext; i++) {
			__u8 next = i + 1 < s->n_ext ? s->ext[i + 1].type :
						       proto;

			write_ext(p + off, &s->ext[i], next);
			off += ext_len(&s->ext[i]);
		}
	} else {
		p[0] = (knob(s->version, 4) & 0xf) << 4 |
		       (knob(s->ihl, hlen / 4) & 0xf);
		put16(p + 2, knob(s->tot_len, len + s->len_adj));
		put16(p + 4, 0x1234);
		put16(p + 6, s->frag);
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		/* Options: NOPs, the last byte End of Options List. */
		for (i = 0; i < s->ip_opts; i++)
			p[IP4_HDR + i] = i + 1 < s->ip_opts ? 1 : 0;
		put16(p + 10, ~frame_csum_fold(frame_csum_add(0, p, hlen)));
	}

	/* Later fragments get a transport header all the same: a parser that
	 * ignores the offset would read it and misjudge the packet. */
	write_l4(p + hlen, s, v6);
	for (i = 0; i < s->payload; i++)
		p[hlen + l4len + i] = (__u8)i;

	csum_off = l4_csum_off(s);
	if (csum_off >= 0) {
		__u32 l4total = l4len + s->payload;

		sum = 0;
		if (s->l4 != FRAME_ICMP || v6) {
			__u8 ph[40];
			int alen = v6 ? 16 : 4;

			memset(ph, 0, sizeof(ph));
			memcpy(ph, src, alen);
			memcpy(ph + alen, dst, alen);
			if (v6) {
				put32(ph + 32, l4total);
				ph[39] = proto;
				sum = frame_csum_add(0, ph, 40);
			} else {
				ph[9] = proto;
				put16(ph + 10, l4total);
				sum = frame_csum_add(0, ph, 12);
			}
		}
		sum = frame_csum_add(sum, p + hlen, l4total);
		put16(p + hlen + csum_off, ~frame_csum_fold(sum) & 0xffff);
	}
	*l4_off = hlen;
	return len;
}

int frame_build(const struct frame_spec *s, __u8 *buf, size_t cap,
		struct frame_info *info)
{
	struct frame_info fi = { 0 };
	__u16 et;
	int i, off, n, l4 = 0, base;

	if (s->vlans < 0 || s->vlans > FRAME_MAX_VLAN || s->pad < 0 ||
	    cap < ETH_HDR + VLAN_HDR * FRAME_MAX_VLAN + 2)
		return -EINVAL;
	switch (s->l3) {
	case FRAME_IPV4:
		et = ETHERTYPE_IP;
		break;
	case FRAME_IPV6:
		et = ETHERTYPE_IPV6;
		break;
	case FRAME_ARP:
		et = ETHERTYPE_ARP;
		break;
	default:
		et = ETHERTYPE_LOCAL;
		break;
	}
	if (s->ethertype)
		et = s->ethertype;

	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	off = 12;
	for (i = 0; i < s->vlans; i++) {
		__u16 tpid = s->vlan_tpid[i];

		if (!tpid)
			tpid = (i == 0 && s->vlans > 1) ? ETHERTYPE_8021AD :
							  ETHERTYPE_8021Q;
		put16(buf + off, tpid);
		put16(buf + off + 2, 100 + i); /* VID 100, 101, ... */
		off += VLAN_HDR;
	}
	put16(buf + off, et);
	off += 2;
	fi.l3_off = off;

	switch (s->l3) {
	case FRAME_IPV4:
	case FRAME_IPV6:
		n = build_ip(s, buf + off, cap - off, &l4);
		fi.l4_off = off + l4;
		break;
	case FRAME_ARP:
		if (cap - off < ARP_BODY)
			return -EINVAL;
		n = build_arp(s, buf + off);
		fi.l4_off = off + n;
		break;
	default:
		n = 0;
		fi.l4_off = off;
		break;
	}
	if (n < 0)
		return n;
	fi.ip_len = n;
	off += n;
	if ((size_t)(off + s->pad) > cap)
		return -EINVAL;
	memset(buf + off, 0, s->pad);
	off += s->pad;
	fi.full_len = off;
	fi.len = off;

	if (s->trunc & FRAME_SET_BIT) {
		base = s->trunc_from == FRAME_AT_L3 ? fi.l3_off :
		       s->trunc_from == FRAME_AT_L4 ? fi.l4_off : 0;
		n = knob(s->trunc, 0);
		if (n < 0 || base + n > fi.full_len)
			return -EINVAL;
		fi.len = base + n;
	}
	if (info)
		*info = fi;
	return fi.len;
}

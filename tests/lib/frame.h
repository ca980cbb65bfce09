/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Frame builder for packet tests: Ethernet with VLAN tags, IPv4 (options,
 * fragments), IPv6 (extension headers), TCP/UDP/ICMP, ARP; every length and
 * checksum correct by default, with knobs to break them one at a time. */
#ifndef MXG_FRAME_H
#define MXG_FRAME_H

#include <stddef.h>
#include <linux/types.h>

#define FRAME_MAX 2048

/* A knob left at 0 takes the computed value; FRAME_SET(n) forces n (which
 * may itself be 0). */
#define FRAME_SET_BIT 0x40000000
#define FRAME_SET(n) ((int)(n) | FRAME_SET_BIT)

enum frame_l3 {
	FRAME_IPV4 = 0,
	FRAME_IPV6,
	FRAME_ARP,
	FRAME_L3_NONE,  /* Ethernet (and tags) only; set .ethertype */
};

enum frame_l4 {
	FRAME_TCP = 0,
	FRAME_UDP,
	FRAME_ICMP,     /* ICMP echo on IPv4, ICMPv6 echo on IPv6 */
	FRAME_L4_NONE,  /* nothing after the IP header(s); set .proto */
};

/* IPv6 extension header types (the IANA protocol numbers). */
enum frame_ext_type {
	FRAME_EXT_HOP = 0,
	FRAME_EXT_RT = 43,
	FRAME_EXT_FRAG = 44,
	FRAME_EXT_AH = 51,
	FRAME_EXT_DST = 60,
};

#define FRAME_MF   0x2000 /* IPv4 frag_off: more fragments (host order) */
#define FRAME_DF   0x4000 /* IPv4 frag_off: don't fragment */
#define FRAME_MF6  0x0001 /* IPv6 fragment header: more fragments */
#define FRAME_FRAG6(off8, more) ((__u16)(((off8) << 3) | ((more) ? 1 : 0)))

#define FRAME_TCP_FIN 0x01
#define FRAME_TCP_SYN 0x02
#define FRAME_TCP_RST 0x04
#define FRAME_TCP_PSH 0x08
#define FRAME_TCP_ACK 0x10

#define FRAME_MAX_VLAN 4
#define FRAME_MAX_EXT 12

struct frame_ext {
	__u8 type;      /* enum frame_ext_type */
	__u8 hdrlen;    /* the header's length field; 0 = minimal (8 bytes;
			 * AH: 4, i.e. 24 bytes with a 96-bit ICV) */
	__u16 frag;     /* fragment header: FRAME_FRAG6(offset, more) */
};

/* Where .trunc counts from. */
enum frame_layer {
	FRAME_AT_START = 0,
	FRAME_AT_L3,    /* first byte after the last VLAN tag */
	FRAME_AT_L4,    /* first byte after the IP header(s) */
};

struct frame_spec {
	/* link */
	int vlans;                        /* tags, 0..FRAME_MAX_VLAN */
	__u16 vlan_tpid[FRAME_MAX_VLAN];  /* outermost first; 0: 0x88a8 for
					   * the outer tag of several, else
					   * 0x8100 */
	__u16 ethertype;                  /* 0: from .l3 */
	int l3;                           /* enum frame_l3 */
	const char *src, *dst;            /* of the .l3 family; NULL: defaults
					   * 198.18.0.10 -> 198.18.0.1 or
					   * 2001:db8:1::10 -> 2001:db8::1 */
	/* IPv4 */
	int ip_opts;                      /* option bytes, multiple of 4, <= 40 */
	__u16 frag;                       /* frag_off, host order: flags |
					   * offset in 8-byte units */
	int ihl;                          /* FRAME_SET(n): force the IHL field */
	/* IPv4 and IPv6 */
	int version;                      /* FRAME_SET(n): force the version */
	int tot_len;                      /* FRAME_SET(n): force IPv4 tot_len or
					   * IPv6 payload_len */
	int len_adj;                      /* added to the computed one */
	/* IPv6 */
	int n_ext;
	struct frame_ext ext[FRAME_MAX_EXT]; /* in order after the base header */
	/* transport */
	int l4;                           /* enum frame_l4 */
	int proto;                        /* FRAME_SET(n): force the protocol
					   * (next header) number */
	__u16 sport, dport;               /* 0: 40000 and 25 */
	__u8 tcp_flags;                   /* as is: 0 is a flagless segment */
	__u32 seq, ack_seq;               /* 0: 0x01020304, and 0x0a0b0c0d with
					   * ACK set (else 0) */
	int tcp_opts;                     /* option bytes, multiple of 4, <= 40 */
	int doff;                         /* FRAME_SET(n): force the data offset */
	int payload;                      /* bytes after the transport header */
	int pad;                          /* bytes after the IP datagram, as
					   * Ethernet padding; not in tot_len */
	/* damage */
	int trunc;                        /* FRAME_SET(n): keep n bytes from
					   * .trunc_from */
	int trunc_from;                   /* enum frame_layer */
};

struct frame_info {
	int len;      /* bytes in the frame (after truncation) */
	int full_len; /* bytes before truncation */
	int l3_off;   /* IP (or ARP) header */
	int l4_off;   /* transport header (after every IPv6 extension) */
	int ip_len;   /* bytes of the IP datagram as built */
};

/* Build the frame into buf (at least FRAME_MAX bytes). Returns the frame
 * length, or -EINVAL for a spec it cannot build (bad address, sizes out of
 * range, truncation past the end); *info may be NULL. */
int frame_build(const struct frame_spec *s, __u8 *buf, size_t cap,
		struct frame_info *info);

/* The Internet checksum of len bytes, folded, not complemented, added to
 * sum. Exposed so tests can verify what the builder wrote. */
__u32 frame_csum_add(__u32 sum, const void *data, size_t len);
__u16 frame_csum_fold(__u32 sum);

#endif /* MXG_FRAME_H */

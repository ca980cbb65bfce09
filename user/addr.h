/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Addresses and CIDRs of both families in the one 16-byte form the program
 * uses (IPv4 as ::ffff:a.b.c.d): parse, format, compare. Pure, no I/O. */
#ifndef MXG_ADDR_H
#define MXG_ADDR_H

#include <stddef.h>
#include "mxguard.h"

/* Longest text form: a full IPv6 address, "/128" and NUL. */
#define MXG_CIDR_STRLEN 50

struct mxg_cidr {
	union mxg_addr addr; /* network byte order, host bits zero */
	__u8 plen;           /* prefix length in the 128-bit mapped space:
			      * IPv4 /24 is 120, IPv6 /64 is 64 */
	__u8 v4;             /* 1 when written as IPv4 */
};

/* "198.18.0.1", "198.18.0.0/15", "2001:db8::1", "2001:db8::/32",
 * "::ffff:198.18.0.1" (taken as IPv4). A bare address is a host route.
 * Host bits set below the prefix ("198.18.0.1/24") are rejected: a list
 * entry whose author meant something else must not be guessed at.
 * Returns 0, or -EINVAL with *why set to a static reason. */
int mxg_cidr_parse(const char *s, struct mxg_cidr *out, const char **why);

/* Parse a single address (no prefix) into *a. 0 or -EINVAL, *why set. */
int mxg_addr_parse(const char *s, union mxg_addr *a, int *v4,
		   const char **why);

/* "198.18.0.0/24", "2001:db8::/32"; hosts too carry "/32" or "/128". */
void mxg_cidr_format(const struct mxg_cidr *c, char *buf, size_t len);

/* "198.18.0.1" or "2001:db8::1". */
void mxg_addr_format(const union mxg_addr *a, char *buf, size_t len);

/* 1 if the address is IPv4-mapped (::ffff:0:0/96). */
int mxg_addr_is_v4(const union mxg_addr *a);

/* Prefix length as the user writes it: 0..32 for IPv4, 0..128 for IPv6. */
unsigned mxg_cidr_user_plen(const struct mxg_cidr *c);

/* Netmask of plen bits (0..128) over the 16-byte form. */
void mxg_addr_mask(union mxg_addr *mask, unsigned plen);

/* Apply a mask: out = a & mask. */
void mxg_addr_and(union mxg_addr *out, const union mxg_addr *a,
		  const union mxg_addr *mask);

/* 1 if the address lies in the CIDR. */
int mxg_cidr_contains(const struct mxg_cidr *c, const union mxg_addr *a);

/* 1 if the two CIDRs share any address (one contains the other). */
int mxg_cidr_overlap(const struct mxg_cidr *a, const struct mxg_cidr *b);

/* Conversions to and from the LPM trie key. */
void mxg_cidr_to_key(const struct mxg_cidr *c, struct mxg_lpm_key *k);
void mxg_cidr_from_key(const struct mxg_lpm_key *k, struct mxg_cidr *c);

#endif /* MXG_ADDR_H */

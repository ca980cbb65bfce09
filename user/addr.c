// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Parsing, formatting and comparing addresses and CIDRs of both families in
 * the 16-byte IPv4-mapped form the XDP program uses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"

/* Room for the longest address text inet_pton can accept (INET6_ADDRSTRLEN
 * is 46); anything longer is not an address and is refused before copying. */
#define ADDR_TEXT_MAX 64

static void set_why(const char **why, const char *text)
{
	if (why)
		*why = text;
}

int mxg_addr_is_v4(const union mxg_addr *a)
{
	static const __u8 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return !memcmp(a->b, mapped, sizeof(mapped));
}

/* A mapped address only reads as IPv4 while its ::ffff: part is inside the
 * prefix; below /96 it is an IPv6 prefix. */
static int cidr_is_v4(const struct mxg_cidr *c)
{
	return c->plen >= 96 && mxg_addr_is_v4(&c->addr);
}

int mxg_addr_parse(const char *s, union mxg_addr *a, int *v4,
		   const char **why)
{
	union mxg_addr tmp;
	int is_v4;

	if (!s || !*s) {
		set_why(why, "empty address");
		return -EINVAL;
	}
	if (strchr(s, '/')) {
		set_why(why, "a prefix length is not allowed here");
		return -EINVAL;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (inet_pton(AF_INET, s, &tmp.b[12]) == 1) {
		tmp.b[10] = 0xff;
		tmp.b[11] = 0xff;
	} else if (inet_pton(AF_INET6, s, tmp.b) != 1) {
		set_why(why, "not an IPv4 or IPv6 address");
		return -EINVAL;
	}
	/* "::ffff:198.18.0.1" is the same host as "198.18.0.1". */
	is_v4 = mxg_addr_is_v4(&tmp);
	*a = tmp;
	if (v4)
		*v4 = is_v4;
	return 0;
}

/* The digits after '/': decimal, no sign, no spaces, no leading zero. */
static int parse_plen(const char *s, unsigned *plen, const char **why)
{
	unsigned v = 0;
	const char *p;

	if (!*s) {
		set_why(why, "missing prefix length after '/'");
		return -EINVAL;
	}
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			set_why(why, "prefix length must be a decimal number");
			return -EINVAL;
		}
		if (v <= 128) /* saturate: anything above is out of range */
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (s[0] == '0' && s[1]) {
		set_why(why, "prefix length has a leading zero");
		return -EINVAL;
	}
	*plen = v;
	return 0;
}

int mxg_cidr_parse(const char *s, struct mxg_cidr *out, const char **why)
{
	char text[ADDR_TEXT_MAX];
	union mxg_addr mask, net;
	const char *slash;
	struct mxg_cidr c;
	unsigned plen;
	size_t n;
	int v4, err;

	if (!s || !*s) {
		set_why(why, "empty address");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(text)) {
		set_why(why, "not an IPv4 or IPv6 address");
		return -EINVAL;
	}
	memcpy(text, s, n);
	text[n] = '\0';

	memset(&c, 0, sizeof(c));
	err = mxg_addr_parse(text, &c.addr, &v4, why);
	if (err)
		return err;

	/* The prefix counts bits of the address as written: 0-32 after
	 * dotted IPv4, 0-128 after any IPv6 text, "::ffff:a.b.c.d" too. */
	if (!slash) {
		plen = 128;
	} else {
		int dotted = !strchr(text, ':');

		err = parse_plen(slash + 1, &plen, why);
		if (err)
			return err;
		if (dotted && plen > 32) {
			set_why(why, "prefix length out of range (IPv4: 0-32)");
			return -EINVAL;
		}
		if (plen > 128) {
			set_why(why, "prefix length out of range (IPv6: 0-128)");
			return -EINVAL;
		}
		if (!dotted && v4 && plen < 96) {
			set_why(why, "prefix length out of range (IPv4-mapped: 96-128)");
			return -EINVAL;
		}
		if (dotted)
			plen += 96;
	}

	mxg_addr_mask(&mask, plen);
	mxg_addr_and(&net, &c.addr, &mask);
	if (memcmp(&net, &c.addr, sizeof(net))) {
		set_why(why, "host bits set below the prefix length");
		return -EINVAL;
	}
	c.plen = (__u8)plen;
	c.v4 = (__u8)cidr_is_v4(&c);
	*out = c;
	return 0;
}

void mxg_addr_format(const union mxg_addr *a, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	const char *r;

	if (!len)
		return;
	if (mxg_addr_is_v4(a))
		r = inet_ntop(AF_INET, &a->b[12], text, sizeof(text));
	else
		r = inet_ntop(AF_INET6, a->b, text, sizeof(text));
	snprintf(buf, len, "%s", r ? r : "?");
}

unsigned mxg_cidr_user_plen(const struct mxg_cidr *c)
{
	return cidr_is_v4(c) ? c->plen - 96u : c->plen;
}

void mxg_cidr_format(const struct mxg_cidr *c, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	const char *r;

	if (!len)
		return;
	if (cidr_is_v4(c))
		r = inet_ntop(AF_INET, &c->addr.b[12], text, sizeof(text));
	else
		r = inet_ntop(AF_INET6, c->addr.b, text, sizeof(text));
	snprintf(buf, len, "%s/%u", r ? r : "?", mxg_cidr_user_plen(c));
}

void mxg_addr_mask(union mxg_addr *mask, unsigned plen)
{
	unsigned i;

	if (plen > 128)
		plen = 128;
	memset(mask, 0, sizeof(*mask));
	for (i = 0; i < plen / 8; i++)
		mask->b[i] = 0xff;
	if (plen % 8)
		mask->b[i] = (__u8)(0xff << (8 - plen % 8));
}

void mxg_addr_and(union mxg_addr *out, const union mxg_addr *a,
		  const union mxg_addr *mask)
{
	unsigned i;

	for (i = 0; i < sizeof(out->b); i++)
		out->b[i] = a->b[i] & mask->b[i];
}

/* 1 if a and b agree on their first plen bits. */
static int same_prefix(const union mxg_addr *a, const union mxg_addr *b,
		       unsigned plen)
{
	union mxg_addr mask;
	unsigned i;

	mxg_addr_mask(&mask, plen);
	for (i = 0; i < sizeof(mask.b); i++)
		if ((a->b[i] ^ b->b[i]) & mask.b[i])
			return 0;
	return 1;
}

int mxg_cidr_contains(const struct mxg_cidr *c, const union mxg_addr *a)
{
	return same_prefix(&c->addr, a, c->plen);
}

int mxg_cidr_overlap(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	/* Prefixes either nest or are disjoint: compare on the shorter. */
	return same_prefix(&a->addr, &b->addr,
			   a->plen < b->plen ? a->plen : b->plen);
}

void mxg_cidr_to_key(const struct mxg_cidr *c, struct mxg_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = c->plen;
	k->addr = c->addr;
}

void mxg_cidr_from_key(const struct mxg_lpm_key *k, struct mxg_cidr *c)
{
	union mxg_addr mask;
	unsigned plen = k->prefixlen > 128 ? 128 : k->prefixlen;

	memset(c, 0, sizeof(*c));
	mxg_addr_mask(&mask, plen);
	mxg_addr_and(&c->addr, &k->addr, &mask);
	c->plen = (__u8)plen;
	c->v4 = (__u8)cidr_is_v4(c);
}

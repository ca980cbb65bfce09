// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/addr.c: CIDR and address parsing, formatting, masks,
 * containment, overlap and LPM key conversion, both families. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "check.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Check names: "<case>[<input>]<what>". */
static char nm[512];

static const char *name(const char *c, const char *in, const char *what)
{
	snprintf(nm, sizeof(nm), "%s[%s]%s", c, in, what);
	return nm;
}

/* Parse a CIDR the test relies on; a failure here is a FAIL, not a skip. */
static int must_cidr(const char *c, const char *s, struct mxg_cidr *out)
{
	const char *why = NULL;
	int err = mxg_cidr_parse(s, out, &why);

	if (err)
		CHECK_STR(name(c, s, ".setup"), "parsed", why);
	return err;
}

static int must_addr(const char *c, const char *s, union mxg_addr *a)
{
	const char *why = NULL;
	int err = mxg_addr_parse(s, a, NULL, &why);

	if (err)
		CHECK_STR(name(c, s, ".setup"), "parsed", why);
	return err;
}

static void cidr__parses_good_inputs(const char *c)
{
	static const struct {
		const char *in;
		const char *text; /* mxg_cidr_format */
		unsigned plen;    /* 128-bit space */
		unsigned uplen;   /* as the user writes it */
		int v4;
	} t[] = {
		{ "198.18.0.1", "198.18.0.1/32", 128, 32, 1 },
		{ "198.18.0.1/32", "198.18.0.1/32", 128, 32, 1 },
		{ "198.18.0.0/15", "198.18.0.0/15", 111, 15, 1 },
		{ "198.18.0.0/31", "198.18.0.0/31", 127, 31, 1 },
		{ "0.0.0.0/0", "0.0.0.0/0", 96, 0, 1 },
		{ "0.0.0.0", "0.0.0.0/32", 128, 32, 1 },
		{ "255.255.255.255/32", "255.255.255.255/32", 128, 32, 1 },
		{ "128.0.0.0/1", "128.0.0.0/1", 97, 1, 1 },
		{ "::ffff:198.18.0.1", "198.18.0.1/32", 128, 32, 1 },
		{ "::FFFF:c612:1", "198.18.0.1/32", 128, 32, 1 },
		{ "::ffff:198.18.0.0/120", "198.18.0.0/24", 120, 24, 1 },
		{ "::ffff:0.0.0.0/96", "0.0.0.0/0", 96, 0, 1 },
		{ "2001:db8::1", "2001:db8::1/128", 128, 128, 0 },
		{ "2001:db8::1/128", "2001:db8::1/128", 128, 128, 0 },
		{ "2001:DB8::/32", "2001:db8::/32", 32, 32, 0 },
		{ "2001:db8:8000::/33", "2001:db8:8000::/33", 33, 33, 0 },
		{ "2001:db8:0:1::/64", "2001:db8:0:1::/64", 64, 64, 0 },
		{ "::/0", "::/0", 0, 0, 0 },
		{ "::", "::/128", 128, 128, 0 },
		{ "::1", "::1/128", 128, 128, 0 },
		{ "8000::/1", "8000::/1", 1, 1, 0 },
		/* IPv4-compatible (deprecated) is not IPv4-mapped: IPv6. */
		{ "::198.18.0.1", "::198.18.0.1/128", 128, 128, 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 128, 128, 0 },
	};
	char buf[MXG_CIDR_STRLEN];
	struct mxg_cidr r;
	const char *why;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		memset(&r, 0xa5, sizeof(r));
		CHECK_EQ(name(c, t[i].in, ".ret"), 0,
			 mxg_cidr_parse(t[i].in, &r, &why));
		CHECK_EQ(name(c, t[i].in, ".plen"), t[i].plen, r.plen);
		CHECK_EQ(name(c, t[i].in, ".v4"), t[i].v4, r.v4);
		CHECK_EQ(name(c, t[i].in, ".user_plen"), t[i].uplen,
			 mxg_cidr_user_plen(&r));
		mxg_cidr_format(&r, buf, sizeof(buf));
		CHECK_STR(name(c, t[i].in, ".format"), t[i].text, buf);
		CHECK(name(c, t[i].in, ".why_untouched"), why == NULL);
	}
}

static void cidr__stores_v4_mapped_bytes(const char *c)
{
	static const __u8 want[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 0
	};
	struct mxg_cidr r;

	if (must_cidr(c, "198.18.0.0/15", &r))
		return;
	CHECK(name(c, "198.18.0.0/15", ".bytes"),
	      !memcmp(r.addr.b, want, 16));
	CHECK_EQ(name(c, "198.18.0.0/15", ".w3_network_order"),
		 htonl(0xc6120000), r.addr.w[3]);
}

static void cidr__stores_v6_bytes(const char *c)
{
	static const __u8 want[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
	};
	struct mxg_cidr r;

	if (must_cidr(c, "2001:db8::1", &r))
		return;
	CHECK(name(c, "2001:db8::1", ".bytes"), !memcmp(r.addr.b, want, 16));
}

static void cidr__rejects_bad_inputs(const char *c)
{
	static char longest[200];
	static const struct {
		const char *in;
		const char *why; /* substring of the reason */
	} t[] = {
		{ "", "empty" },
		{ "garbage", "not an IPv4 or IPv6 address" },
		{ "198.18.0", "not an IPv4 or IPv6 address" },
		{ "198.18.0.256", "not an IPv4 or IPv6 address" },
		{ "198.18.0.1.5", "not an IPv4 or IPv6 address" },
		{ "01.2.3.4", "not an IPv4 or IPv6 address" },
		{ "0x7f.0.0.1", "not an IPv4 or IPv6 address" },
		{ " 198.18.0.1", "not an IPv4 or IPv6 address" },
		{ "198.18.0.1 ", "not an IPv4 or IPv6 address" },
		{ "2001:db8:::1", "not an IPv4 or IPv6 address" },
		{ "2001:db8::g", "not an IPv4 or IPv6 address" },
		{ "fe80::1%eth0", "not an IPv4 or IPv6 address" },
		{ "198.18.0.0/33", "prefix length out of range (IPv4: 0-32)" },
		{ "198.18.0.0/99999999999", "(IPv4: 0-32)" },
		{ "2001:db8::/129", "prefix length out of range (IPv6: 0-128)" },
		{ "2001:db8::/99999999999999999999", "(IPv6: 0-128)" },
		{ "::ffff:198.18.0.0/24", "(IPv4-mapped: 96-128)" },
		{ "198.18.0.0/+8", "decimal" },
		{ "198.18.0.0/-8", "decimal" },
		{ "198.18.0.0/ 8", "decimal" },
		{ "198.18.0.0/8 ", "decimal" },
		{ "198.18.0.0/1x", "decimal" },
		{ "198.18.0.0/0x8", "decimal" },
		{ "198.18.0.0/8/8", "decimal" },
		{ "198.18.0.0/024", "leading zero" },
		{ "198.18.0.0/", "missing prefix length" },
		{ "/", "empty" },
		{ "/24", "empty" },
		{ "198.18.0.1/24", "host bits set below the prefix length" },
		{ "198.18.0.1/31", "host bits set" },
		{ "198.19.0.0/15", "host bits set" },
		{ "0.0.0.1/0", "host bits set" },
		{ "2001:db8::1/64", "host bits set" },
		{ "2001:db9::/31", "host bits set" },
		{ "::1/0", "host bits set" },
		{ "::ffff:198.18.0.1/120", "host bits set" },
		{ longest, "not an IPv4 or IPv6 address" },
	};
	struct mxg_cidr r, before;
	const char *why;
	unsigned i;

	memset(longest, '1', sizeof(longest) - 1);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		memset(&r, 0xa5, sizeof(r));
		before = r;
		CHECK_EQ(name(c, t[i].in, ".ret"), -EINVAL,
			 mxg_cidr_parse(t[i].in, &r, &why));
		CHECK(name(c, t[i].in, ".why"),
		      why && strstr(why, t[i].why));
		if (why && !strstr(why, t[i].why))
			printf("  why: \"%s\"\n", why);
		CHECK(name(c, t[i].in, ".out_untouched"),
		      !memcmp(&r, &before, sizeof(r)));
	}
}

/* A struct built by hand (not by the parser) with a mapped address under a
 * prefix shorter than /96 is IPv6: its user prefix must not wrap around. */
static void cidr__user_plen_never_underflows(const char *c)
{
	char buf[MXG_CIDR_STRLEN];
	struct mxg_cidr r;

	memset(&r, 0, sizeof(r));
	r.addr.b[10] = 0xff;
	r.addr.b[11] = 0xff;
	r.plen = 80;
	CHECK_EQ(name(c, "::ffff:0.0.0.0/80", ".user_plen"), 80,
		 mxg_cidr_user_plen(&r));
	mxg_cidr_format(&r, buf, sizeof(buf));
	CHECK_STR(name(c, "::ffff:0.0.0.0/80", ".format"),
		  "::ffff:0.0.0.0/80", buf);
}

static void cidr__rejects_null_without_why(const char *c)
{
	struct mxg_cidr r;

	CHECK_EQ(name(c, "NULL", ".ret"), -EINVAL,
		 mxg_cidr_parse(NULL, &r, NULL));
	CHECK_EQ(name(c, "garbage", ".ret"), -EINVAL,
		 mxg_cidr_parse("garbage", &r, NULL));
}

static void addr__parses_both_families(const char *c)
{
	static const struct {
		const char *in;
		const char *text;
		int v4;
	} t[] = {
		{ "198.18.0.1", "198.18.0.1", 1 },
		{ "::ffff:198.18.0.1", "198.18.0.1", 1 },
		{ "0.0.0.0", "0.0.0.0", 1 },
		{ "2001:db8::1", "2001:db8::1", 0 },
		{ "2001:0DB8:0000::0001", "2001:db8::1", 0 },
		{ "::", "::", 0 },
	};
	char buf[MXG_CIDR_STRLEN];
	union mxg_addr a;
	const char *why;
	unsigned i;
	int v4;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v4 = -1;
		CHECK_EQ(name(c, t[i].in, ".ret"), 0,
			 mxg_addr_parse(t[i].in, &a, &v4, &why));
		CHECK_EQ(name(c, t[i].in, ".v4"), t[i].v4, v4);
		CHECK_EQ(name(c, t[i].in, ".is_v4"), t[i].v4,
			 mxg_addr_is_v4(&a));
		mxg_addr_format(&a, buf, sizeof(buf));
		CHECK_STR(name(c, t[i].in, ".format"), t[i].text, buf);
	}
	/* v4 may be NULL. */
	CHECK_EQ(name(c, "198.18.0.1", ".null_v4"), 0,
		 mxg_addr_parse("198.18.0.1", &a, NULL, NULL));
}

static void addr__rejects_bad_inputs(const char *c)
{
	static const struct {
		const char *in;
		const char *why;
	} t[] = {
		{ "", "empty" },
		{ "x", "not an IPv4 or IPv6 address" },
		{ "198.18.0.0/24", "prefix length is not allowed" },
		{ "2001:db8::/32", "prefix length is not allowed" },
		{ "198.18.0.1:25", "not an IPv4 or IPv6 address" },
		{ "[2001:db8::1]", "not an IPv4 or IPv6 address" },
	};
	union mxg_addr a, before;
	const char *why;
	unsigned i;
	int v4;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v4 = 7;
		memset(&a, 0x5a, sizeof(a));
		before = a;
		CHECK_EQ(name(c, t[i].in, ".ret"), -EINVAL,
			 mxg_addr_parse(t[i].in, &a, &v4, &why));
		CHECK(name(c, t[i].in, ".why"), why && strstr(why, t[i].why));
		CHECK(name(c, t[i].in, ".out_untouched"),
		      !memcmp(&a, &before, sizeof(a)) && v4 == 7);
	}
}

static void addr__is_v4_only_for_mapped(const char *c)
{
	static const struct {
		const char *in;
		int v4;
	} t[] = {
		{ "::ffff:0:0", 1 },
		{ "::ffff:255.255.255.255", 1 },
		{ "::fffe:1.2.3.4", 0 },
		{ "::1:ffff:1.2.3.4", 0 },
		{ "1::ffff:1.2.3.4", 0 },
		{ "::1.2.3.4", 0 },
		{ "64:ff9b::1.2.3.4", 0 },
	};
	union mxg_addr a;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (must_addr(c, t[i].in, &a))
			continue;
		CHECK_EQ(name(c, t[i].in, ""), t[i].v4, mxg_addr_is_v4(&a));
	}
}

/* Leading ones, then zeros, and exactly plen of them. */
static unsigned mask_ones(const union mxg_addr *m, int *contiguous)
{
	unsigned i, ones = 0, seen_zero = 0;

	*contiguous = 1;
	for (i = 0; i < 128; i++) {
		int bit = m->b[i / 8] >> (7 - i % 8) & 1;

		if (bit && seen_zero)
			*contiguous = 0;
		if (!bit)
			seen_zero = 1;
		ones += (unsigned)bit;
	}
	return ones;
}

static void mask__has_plen_leading_ones(const char *c)
{
	static const unsigned plens[] = {
		0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 96, 97, 120, 127, 128
	};
	union mxg_addr m;
	char in[16];
	unsigned i;
	int contiguous;

	for (i = 0; i < ARRAY_SIZE(plens); i++) {
		snprintf(in, sizeof(in), "%u", plens[i]);
		memset(&m, 0x5a, sizeof(m));
		mxg_addr_mask(&m, plens[i]);
		CHECK_EQ(name(c, in, ".ones"), plens[i],
			 mask_ones(&m, &contiguous));
		CHECK(name(c, in, ".contiguous"), contiguous);
	}
	/* Spot checks of exact bytes at a partial byte. */
	mxg_addr_mask(&m, 9);
	CHECK(name(c, "9", ".bytes"), m.b[0] == 0xff && m.b[1] == 0x80 &&
	      m.b[2] == 0);
	mxg_addr_mask(&m, 127);
	CHECK_EQ(name(c, "127", ".last_byte"), 0xfe, m.b[15]);
}

static void mask__clamps_above_128(const char *c)
{
	union mxg_addr m;
	int contiguous;

	mxg_addr_mask(&m, 200);
	CHECK_EQ(name(c, "200", ".ones"), 128, mask_ones(&m, &contiguous));
}

static void and__clears_host_bits(const char *c)
{
	static const struct {
		const char *addr;
		unsigned plen;
		const char *want;
	} t[] = {
		{ "198.18.3.4", 120, "198.18.3.0" },
		{ "198.18.3.4", 96, "0.0.0.0" },
		{ "198.19.255.255", 111, "198.18.0.0" },
		{ "198.18.3.4", 128, "198.18.3.4" },
		{ "2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::" },
		{ "2001:db8:1:2:3:4:5:6", 0, "::" },
		{ "2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6" },
	};
	char buf[MXG_CIDR_STRLEN], in[64];
	union mxg_addr a, m, out;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		snprintf(in, sizeof(in), "%s&%u", t[i].addr, t[i].plen);
		if (must_addr(c, t[i].addr, &a))
			continue;
		mxg_addr_mask(&m, t[i].plen);
		mxg_addr_and(&out, &a, &m);
		mxg_addr_format(&out, buf, sizeof(buf));
		CHECK_STR(name(c, in, ""), t[i].want, buf);
	}
}

static void cidr__contains_exactly_its_range(const char *c)
{
	static const struct {
		const char *cidr, *addr;
		int in;
	} t[] = {
		{ "198.18.0.0/15", "198.18.0.0", 1 },
		{ "198.18.0.0/15", "198.19.255.255", 1 },
		{ "198.18.0.0/15", "198.20.0.0", 0 },
		{ "198.18.0.0/15", "198.17.255.255", 0 },
		{ "198.18.0.0/15", "::ffff:198.19.0.1", 1 },
		{ "198.18.0.0/31", "198.18.0.1", 1 },
		{ "198.18.0.0/31", "198.18.0.2", 0 },
		{ "198.18.0.1", "198.18.0.1", 1 },
		{ "198.18.0.1/32", "198.18.0.2", 0 },
		{ "198.18.0.1/32", "198.18.0.0", 0 },
		{ "0.0.0.0/0", "255.255.255.255", 1 },
		{ "0.0.0.0/0", "0.0.0.0", 1 },
		{ "0.0.0.0/0", "::1", 0 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "0.0.0.0/0", "::1.2.3.4", 0 },
		{ "2001:db8::/32", "2001:db8:ffff:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::", 0 },
		{ "2001:db8::/32", "198.18.0.1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
		{ "2001:db8::/33", "2001:db8:8000::", 0 },
		{ "2001:db8::1", "2001:db8::1", 1 },
		{ "2001:db8::1/128", "2001:db8::2", 0 },
		{ "2001:db8::1/128", "2001:db8::", 0 },
		/* ::/0 is every address, IPv4-mapped ones too. */
		{ "::/0", "2001:db8::1", 1 },
		{ "::/0", "198.18.0.1", 1 },
	};
	struct mxg_cidr r;
	union mxg_addr a;
	char in[128];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		snprintf(in, sizeof(in), "%s has %s", t[i].cidr, t[i].addr);
		if (must_cidr(c, t[i].cidr, &r) || must_addr(c, t[i].addr, &a))
			continue;
		CHECK_EQ(name(c, in, ""), t[i].in, mxg_cidr_contains(&r, &a));
	}
}

static void cidr__overlaps_when_nested(const char *c)
{
	static const struct {
		const char *a, *b;
		int overlap;
	} t[] = {
		{ "198.18.0.0/15", "198.19.1.0/24", 1 },
		{ "198.18.0.0/15", "198.18.0.0/15", 1 },
		{ "198.18.0.0/15", "198.19.0.7", 1 },
		{ "198.18.0.0/16", "198.19.0.0/16", 0 },
		{ "198.18.0.0/24", "198.18.1.0/24", 0 },
		{ "198.18.0.1", "198.18.0.1", 1 },
		{ "198.18.0.1", "198.18.0.2", 0 },
		{ "0.0.0.0/0", "203.0.113.0/24", 1 },
		{ "0.0.0.0/0", "2001:db8::/32", 0 },
		{ "::/0", "198.18.0.0/15", 1 },
		{ "::/0", "2001:db8::1", 1 },
		{ "2001:db8::/32", "2001:db8:1::/48", 1 },
		{ "2001:db8::/48", "2001:db8:1::/48", 0 },
		{ "2001:db8::/32", "198.18.0.0/15", 0 },
		{ "2001:db8::1", "2001:db8::1/128", 1 },
		{ "2001:db8::1", "2001:db8::2", 0 },
	};
	struct mxg_cidr a, b;
	char in[128];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (must_cidr(c, t[i].a, &a) || must_cidr(c, t[i].b, &b))
			continue;
		snprintf(in, sizeof(in), "%s~%s", t[i].a, t[i].b);
		CHECK_EQ(name(c, in, ""), t[i].overlap,
			 mxg_cidr_overlap(&a, &b));
		snprintf(in, sizeof(in), "%s~%s", t[i].b, t[i].a);
		CHECK_EQ(name(c, in, ".symmetric"), t[i].overlap,
			 mxg_cidr_overlap(&b, &a));
	}
}

static void key__round_trips(const char *c)
{
	static const char *const t[] = {
		"198.18.0.0/15", "198.18.0.1", "0.0.0.0/0", "::ffff:198.18.0.0/120",
		"2001:db8::/32", "2001:db8::1", "::/0", "8000::/1",
	};
	struct mxg_cidr r, back;
	struct mxg_lpm_key k;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (must_cidr(c, t[i], &r))
			continue;
		memset(&k, 0x5a, sizeof(k));
		mxg_cidr_to_key(&r, &k);
		CHECK_EQ(name(c, t[i], ".prefixlen"), r.plen, k.prefixlen);
		CHECK(name(c, t[i], ".key_addr"),
		      !memcmp(&k.addr, &r.addr, sizeof(k.addr)));
		memset(&back, 0x5a, sizeof(back));
		mxg_cidr_from_key(&k, &back);
		CHECK(name(c, t[i], ".back"), !memcmp(&back, &r, sizeof(r)));
	}
}

static void key__from_key_masks_and_clamps(const char *c)
{
	char buf[MXG_CIDR_STRLEN];
	struct mxg_lpm_key k;
	struct mxg_cidr r;

	memset(&k, 0, sizeof(k));
	if (must_addr(c, "198.18.3.4", &k.addr))
		return;
	k.prefixlen = 120;
	mxg_cidr_from_key(&k, &r);
	mxg_cidr_format(&r, buf, sizeof(buf));
	CHECK_STR(name(c, "198.18.3.4/120", ".format"), "198.18.3.0/24", buf);
	CHECK_EQ(name(c, "198.18.3.4/120", ".v4"), 1, r.v4);

	k.prefixlen = 500;
	mxg_cidr_from_key(&k, &r);
	CHECK_EQ(name(c, "198.18.3.4/500", ".plen"), 128, r.plen);

	if (must_addr(c, "2001:db8::1", &k.addr))
		return;
	k.prefixlen = 32;
	mxg_cidr_from_key(&k, &r);
	mxg_cidr_format(&r, buf, sizeof(buf));
	CHECK_STR(name(c, "2001:db8::1/32", ".format"), "2001:db8::/32", buf);
	CHECK_EQ(name(c, "2001:db8::1/32", ".v4"), 0, r.v4);
}

static void format__round_trips_through_parse(const char *c)
{
	static const char *const t[] = {
		"198.18.0.0/15", "198.18.0.1", "0.0.0.0/0", "2001:db8::/32",
		"2001:db8:0:1::1", "::/0", "::ffff:198.18.0.1", "::198.18.0.1",
	};
	char buf[MXG_CIDR_STRLEN];
	struct mxg_cidr r, again;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (must_cidr(c, t[i], &r))
			continue;
		mxg_cidr_format(&r, buf, sizeof(buf));
		memset(&again, 0x5a, sizeof(again));
		CHECK_EQ(name(c, t[i], ".reparse"), 0,
			 mxg_cidr_parse(buf, &again, NULL));
		CHECK(name(c, t[i], ".same"), !memcmp(&r, &again, sizeof(r)));
	}
}

static void format__truncates_safely(const char *c)
{
	char buf[MXG_CIDR_STRLEN];
	struct mxg_cidr r;
	union mxg_addr a;

	if (must_cidr(c, "198.18.0.0/15", &r))
		return;
	memset(buf, 'x', sizeof(buf));
	mxg_cidr_format(&r, buf, 8);
	CHECK_STR(name(c, "cidr", ".len8"), "198.18.", buf);
	CHECK_EQ(name(c, "cidr", ".no_overrun"), 'x', buf[8]);

	memset(buf, 'x', sizeof(buf));
	mxg_cidr_format(&r, buf, 0);
	CHECK_EQ(name(c, "cidr", ".len0"), 'x', buf[0]);

	if (must_addr(c, "2001:db8::1", &a))
		return;
	memset(buf, 'x', sizeof(buf));
	mxg_addr_format(&a, buf, 5);
	CHECK_STR(name(c, "addr", ".len5"), "2001", buf);
	memset(buf, 'x', sizeof(buf));
	mxg_addr_format(&a, buf, 0);
	CHECK_EQ(name(c, "addr", ".len0"), 'x', buf[0]);
}

static void format__fits_cidr_strlen(const char *c)
{
	static const char *const t[] = {
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"1111:2222:3333:4444:5555:6666:7777:8888",
		"255.255.255.255",
	};
	char buf[MXG_CIDR_STRLEN + 8];
	struct mxg_cidr r;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (must_cidr(c, t[i], &r))
			continue;
		mxg_cidr_format(&r, buf, sizeof(buf));
		CHECK(name(c, t[i], ""), strlen(buf) < MXG_CIDR_STRLEN);
	}
}

static const struct check_case cases[] = {
	CHECK_CASE(cidr__parses_good_inputs),
	CHECK_CASE(cidr__stores_v4_mapped_bytes),
	CHECK_CASE(cidr__stores_v6_bytes),
	CHECK_CASE(cidr__rejects_bad_inputs),
	CHECK_CASE(cidr__rejects_null_without_why),
	CHECK_CASE(cidr__user_plen_never_underflows),
	CHECK_CASE(addr__parses_both_families),
	CHECK_CASE(addr__rejects_bad_inputs),
	CHECK_CASE(addr__is_v4_only_for_mapped),
	CHECK_CASE(mask__has_plen_leading_ones),
	CHECK_CASE(mask__clamps_above_128),
	CHECK_CASE(and__clears_host_bits),
	CHECK_CASE(cidr__contains_exactly_its_range),
	CHECK_CASE(cidr__overlaps_when_nested),
	CHECK_CASE(key__round_trips),
	CHECK_CASE(key__from_key_masks_and_clamps),
	CHECK_CASE(format__round_trips_through_parse),
	CHECK_CASE(format__truncates_safely),
	CHECK_CASE(format__fits_cidr_strlen),
};

int main(int argc, char **argv)
{
	if (argc > 1)
		check_filter = argv[1];
	CHECK_CASES(cases);
	return CHECK_DONE();
}

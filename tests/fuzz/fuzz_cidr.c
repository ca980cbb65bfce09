// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer target: mxg_cidr_parse/mxg_addr_parse on arbitrary text, checking
 * parse(format(x)) == x, canonical form, key round trip and bounded output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "invariant broken: %s (input '%s', output '%s')\n",
		what, in, out ? out : "");
	abort();
}

static int cidr_eq(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	return a->plen == b->plen && a->v4 == b->v4 &&
	       !memcmp(a->addr.b, b->addr.b, sizeof(a->addr.b));
}

/* Host bits below plen, computed here rather than with mxg_addr_mask. */
static int host_bits_clear(const struct mxg_cidr *c)
{
	unsigned i;

	for (i = c->plen; i < 128; i++)
		if (c->addr.b[i / 8] & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

static int is_mapped(const union mxg_addr *a)
{
	static const __u8 pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a->b, pfx, sizeof(pfx));
}

/* Formatting into a buffer of exactly len bytes stays inside it, ends with
 * NUL and is a prefix of the untruncated text. */
static void check_short_format(const struct mxg_cidr *c, const char *full,
			       const char *in, size_t len)
{
	char *buf = malloc(len ? len : 1);

	if (!buf)
		return;
	mxg_cidr_format(c, buf, len);
	if (len && (strlen(buf) >= len || strncmp(buf, full, len - 1)))
		die("truncated format is not a prefix", in, buf);
	free(buf);
}

static void check_cidr(const char *s, size_t cut)
{
	char text[MXG_CIDR_STRLEN], again[MXG_CIDR_STRLEN];
	struct mxg_cidr c, c2, c3;
	struct mxg_lpm_key k;
	const char *why = NULL;
	int err;

	err = mxg_cidr_parse(s, &c, &why);
	if (err) {
		if (!why)
			die("error without a reason", s, NULL);
		return;
	}
	if (c.plen > 128 || !host_bits_clear(&c))
		die("host bits set or plen > 128", s, NULL);
	if (c.v4 != (c.plen >= 96 && is_mapped(&c.addr)))
		die("v4 flag disagrees with the address", s, NULL);
	if (mxg_cidr_user_plen(&c) > (c.v4 ? 32u : 128u))
		die("user prefix length out of range", s, NULL);

	mxg_cidr_format(&c, text, sizeof(text));
	if (strlen(text) >= MXG_CIDR_STRLEN - 1)
		die("format filled the whole buffer", s, text);
	if (mxg_cidr_parse(text, &c2, &why))
		die("format output does not parse", s, text);
	if (!cidr_eq(&c, &c2))
		die("parse(format(x)) != x", s, text);
	mxg_cidr_format(&c2, again, sizeof(again));
	if (strcmp(text, again))
		die("format is not canonical", s, again);

	mxg_cidr_to_key(&c, &k);
	mxg_cidr_from_key(&k, &c3);
	if (!cidr_eq(&c, &c3))
		die("key round trip", s, text);
	if (!mxg_cidr_contains(&c, &c.addr) || !mxg_cidr_overlap(&c, &c))
		die("a CIDR does not contain itself", s, text);
	check_short_format(&c, text, s, cut % (MXG_CIDR_STRLEN + 1));
}

static void check_addr(const char *s)
{
	char text[MXG_CIDR_STRLEN];
	union mxg_addr a, a2;
	struct mxg_cidr c;
	const char *why = NULL;
	int v4 = -1, v4b = -1;

	if (mxg_addr_parse(s, &a, &v4, &why)) {
		if (!why)
			die("address error without a reason", s, NULL);
		return;
	}
	if (v4 != is_mapped(&a))
		die("address v4 flag", s, NULL);
	mxg_addr_format(&a, text, sizeof(text));
	if (mxg_addr_parse(text, &a2, &v4b, &why) || memcmp(&a, &a2, sizeof(a)) ||
	    v4 != v4b)
		die("addr parse(format(x)) != x", s, text);
	/* A bare address is a host route. */
	if (mxg_cidr_parse(s, &c, &why) || c.plen != 128 ||
	    memcmp(&c.addr, &a, sizeof(a)))
		die("bare address is not a host route", s, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_cidr(s, size ? data[0] : 0);
	check_addr(s);
	free(s);
	return 0;
}

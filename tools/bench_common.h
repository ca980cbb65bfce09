/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Helpers shared by the benchmark tools: a deterministic mixed blocklist
 * (exact addresses and prefixes of both families, inside the benchmark
 * ranges), median, clocks and a map's memlock from fdinfo. */
#ifndef MXG_BENCH_COMMON_H
#define MXG_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "mxguard.h"

/*
 * The blocklist of n entries, always the same for the same n:
 *   50% IPv6 /128 in 2001:db8:8000::/33           -> mxg_block_h
 *    3% IPv4 /32  in 198.19.128.0/17 (max 32,768)  -> mxg_block_h
 *   45% IPv6 /48../64 in 2001:db8:1::/48 .. 2001:db8:7fff::/48 -> mxg_block_t
 *    2% IPv4 /22../31 in 198.18.4.0 .. 198.19.127.255          -> mxg_block_t
 * (what the IPv4 /32 cap leaves goes to IPv6 /128s). Random prefixes can
 * coincide; more are drawn until each share is reached, so the total is n.
 * 198.18.0.0/24 and 2001:db8::/48 hold no entry: the benchmarks' unblocked,
 * allowed and limited sources live there.
 */
struct bench_blocklist {
	union mxg_addr *exact;
	size_t nexact;
	struct mxg_lpm_key *pfx;
	size_t npfx;
	union mxg_addr hit_exact4; /* an IPv4 source matched by the hash */
	union mxg_addr hit_pfx4;   /* an IPv4 source matched only by the trie */
	union mxg_addr hit_pfx6;   /* an IPv6 source matched only by the trie */
};

static inline __u64 bench_mix(__u64 x)
{
	/* splitmix64: cheap, well spread, reproducible. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline void bench_v4(union mxg_addr *a, __u32 host_order)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	a->b[12] = host_order >> 24;
	a->b[13] = host_order >> 16;
	a->b[14] = host_order >> 8;
	a->b[15] = host_order;
}

/* Clear the bits of a beyond plen (0..128). */
static inline void bench_mask(union mxg_addr *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			a->b[i] = 0;
		else
			a->b[i] &= (__u8)(0xff << (8 - (plen - 8 * i)));
	}
}

static inline int bench_cmp_addr(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(union mxg_addr));
}

static inline int bench_cmp_key(const void *x, const void *y)
{
	const struct mxg_lpm_key *a = x, *b = y;
	int c = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	if (c)
		return c;
	return (a->prefixlen > b->prefixlen) - (a->prefixlen < b->prefixlen);
}

static inline void bench_blocklist_free(struct bench_blocklist *l)
{
	free(l->exact);
	free(l->pfx);
	memset(l, 0, sizeof(*l));
}

/* Prefix number i of a family, drawn at random. */
static inline void bench_pfx(int v6, __u64 i, struct mxg_lpm_key *k)
{
	__u64 r = bench_mix((v6 ? 0x80000000ull : 0x40000000ull) + i);
	__u64 r2 = bench_mix(~i);

	if (v6) {
		k->addr.w[0] = htonl(0x20010db8u);
		k->addr.w[1] = htonl((__u32)(1 + r % 0x7fff) << 16 | (__u32)(r2 & 0xffff));
		memcpy(&k->addr.w[2], &r2, 8);
		k->prefixlen = 48 + (unsigned)((r >> 40) % 17);
	} else {
		bench_v4(&k->addr, 0xc6120400u + (__u32)(r % (98304 - 1024)));
		k->prefixlen = 96 + 22 + (unsigned)((r >> 32) % 10);
	}
	bench_mask(&k->addr, k->prefixlen);
}

struct bench_draw {
	struct mxg_lpm_key k;
	__u64 i; /* draw number */
};

static inline int bench_cmp_draw_key(const void *x, const void *y)
{
	const struct bench_draw *a = x, *b = y;
	int c = bench_cmp_key(&a->k, &b->k);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static inline int bench_cmp_draw_i(const void *x, const void *y)
{
	const struct bench_draw *a = x, *b = y;

	return (a->i > b->i) - (a->i < b->i);
}

/* want distinct prefixes of a family appended to l->pfx, in draw order. */
static inline int bench_pfx_family(struct bench_blocklist *l, int v6, size_t want)
{
	size_t cap = want + want / 2 + 64, n = 0, i, k;
	struct bench_draw *t;
	__u64 next = 0;

	t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	while (n < want) {
		while (n < cap) {
			bench_pfx(v6, next, &t[n].k);
			t[n++].i = next++;
		}
		/* Repeats dropped (the first draw stays), back to draw order. */
		qsort(t, n, sizeof(*t), bench_cmp_draw_key);
		for (i = k = 0; i < n; i++)
			if (!k || bench_cmp_key(&t[k - 1].k, &t[i].k))
				t[k++] = t[i];
		n = k;
		qsort(t, n, sizeof(*t), bench_cmp_draw_i);
	}
	for (i = 0; i < want; i++)
		l->pfx[l->npfx++] = t[i].k;
	free(t);
	return 0;
}

static inline int bench_blocklist_gen(size_t n, struct bench_blocklist *l)
{
	size_t ne4 = n * 3 / 100, np4 = n * 2 / 100, np6 = n * 45 / 100, ne6, i, k;
	union mxg_addr first4;

	memset(l, 0, sizeof(*l));
	if (ne4 > 32768)
		ne4 = 32768;
	ne6 = n - ne4 - np4 - np6;
	l->exact = calloc(ne4 + ne6 + 1, sizeof(*l->exact));
	l->pfx = calloc(np4 + np6 + 1, sizeof(*l->pfx));
	if (!l->exact || !l->pfx) {
		bench_blocklist_free(l);
		return -ENOMEM;
	}
	/* IPv4 exact: an affine permutation of 198.19.128.0/17, so distinct. */
	for (i = 0; i < ne4; i++)
		bench_v4(&l->exact[l->nexact++],
			 0xc6138000u + (__u32)((i * 40503u + 12345u) & 0x7fff));
	for (i = 0; i < ne6; i++) {
		union mxg_addr *a = &l->exact[l->nexact++];
		__u64 r1 = bench_mix(2 * i + 1), r2 = bench_mix(2 * i + 2);

		a->w[0] = htonl(0x20010db8u);
		a->w[1] = htonl(0x80000000u | (__u32)r1);
		memcpy(&a->w[2], &r2, 8);
	}
	if (bench_pfx_family(l, 0, np4) || bench_pfx_family(l, 1, np6)) {
		bench_blocklist_free(l);
		return -ENOMEM;
	}
	first4 = l->exact[0];
	/* Sources inside the first prefix of each family, never in the hash
	 * (the families' exact and prefix ranges do not overlap). */
	l->hit_exact4 = first4;
	l->hit_pfx4 = l->pfx[0].addr;
	l->hit_pfx4.b[15] |= 1;
	l->hit_pfx6 = l->pfx[np4].addr;
	l->hit_pfx6.b[15] |= 1;
	/* /128 collisions are possible in principle: keep the hash exact. */
	qsort(l->exact, l->nexact, sizeof(*l->exact), bench_cmp_addr);
	for (i = k = 0; i < l->nexact; i++)
		if (!k || bench_cmp_addr(&l->exact[k - 1], &l->exact[i]))
			l->exact[k++] = l->exact[i];
	l->nexact = k;
	return 0;
}

/* The number s given to option --name of the tool prog, in [lo, hi]; else a
 * usage error naming both (exit 2). */
static inline unsigned long long bench_num(const char *prog, const char *name,
					   const char *s, unsigned long long lo,
					   unsigned long long hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: invalid --%s '%s' (%llu-%llu)\n", prog, name, s,
			lo, hi);
		exit(2);
	}
	return v;
}

/* Clock id in seconds (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...). */
static inline double bench_clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double bench_now_ns(void)
{
	return bench_clock_s(CLOCK_MONOTONIC) * 1e9;
}

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Median of n values (sorts them). */
static inline double bench_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The kernel's own account of a map's memory ("memlock:" in fdinfo, what
 * bpftool map show prints): bytes, or 0 when it cannot be read. */
static inline unsigned long long bench_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

#endif /* MXG_BENCH_COMMON_H */

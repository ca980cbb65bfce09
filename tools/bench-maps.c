// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench-maps: inputs for the controller-at-scale benchmarks: writes the
 * benchmark blocklist as a list file for `mxguard block load`, and fills a
 * pinned mxg_src with tracked sources for `mxguard dump`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "mxguard.h"
#include "bench_common.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-maps gen-list N FILE\n"
		"         the benchmark blocklist of N entries (bench_common.h) as one\n"
		"         CIDR per line; prints {\"exact\":E,\"prefixes\":P}\n"
		"       bench-maps fill-src PINNED_MXG_SRC N\n"
		"         N tracked sources (at most the map's size) written with\n"
		"         BPF_MAP_UPDATE_BATCH; prints {\"requested\":N,\"max_entries\":M,\"filled\":K}\n");
}

static void addr_text(const union mxg_addr *a, char *buf, size_t len)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a->b, mapped, 12))
		inet_ntop(AF_INET, &a->b[12], buf, len);
	else
		inet_ntop(AF_INET6, a->b, buf, len);
}

static int gen_list(const char *nstr, const char *path)
{
	struct bench_blocklist l;
	char buf[64];
	size_t i, n = strtoull(nstr, NULL, 10);
	FILE *f;

	if (!n || n > 2000000) {
		fprintf(stderr, "bench-maps: N must be 1..2000000\n");
		return 2;
	}
	if (bench_blocklist_gen(n, &l)) {
		fprintf(stderr, "bench-maps: out of memory\n");
		return 1;
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "bench-maps: %s: %s\n", path, strerror(errno));
		bench_blocklist_free(&l);
		return 1;
	}
	fprintf(f, "# mxguard benchmark blocklist: %zu exact, %zu prefixes\n",
		l.nexact, l.npfx);
	for (i = 0; i < l.nexact; i++) {
		addr_text(&l.exact[i], buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
	}
	for (i = 0; i < l.npfx; i++) {
		int v4 = l.pfx[i].addr.b[10] == 0xff && l.pfx[i].addr.b[11] == 0xff &&
			 l.pfx[i].prefixlen >= 96;

		addr_text(&l.pfx[i].addr, buf, sizeof(buf));
		fprintf(f, "%s/%u\n", buf, l.pfx[i].prefixlen - (v4 ? 96 : 0));
	}
	if (fclose(f)) {
		fprintf(stderr, "bench-maps: %s: %s\n", path, strerror(errno));
		bench_blocklist_free(&l);
		return 1;
	}
	printf("{\"exact\":%zu,\"prefixes\":%zu}\n", l.nexact, l.npfx);
	bench_blocklist_free(&l);
	return 0;
}

static int fill_src(const char *path, const char *nstr)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	size_t want = strtoull(nstr, NULL, 10), n, i;
	struct mxg_src_key *k = NULL;
	struct mxg_src_val *v = NULL;
	struct timespec ts;
	__u64 now;
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		fprintf(stderr, "bench-maps: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (info.key_size != sizeof(*k) || info.value_size != sizeof(*v)) {
		fprintf(stderr, "bench-maps: %s: key/value sizes %u/%u, expected %zu/%zu\n",
			path, info.key_size, info.value_size, sizeof(*k), sizeof(*v));
		return 1;
	}
	n = want < info.max_entries ? want : info.max_entries;
	k = calloc(n, sizeof(*k));
	v = calloc(n, sizeof(*v));
	if (!k || !v) {
		fprintf(stderr, "bench-maps: out of memory\n");
		err = 1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	/* Half IPv4 (198.18.1.0 and up), half IPv6 /64 keys, all on smtp,
	 * with plausible counters so every output column has something. */
	for (i = 0; i < n; i++) {
		if (i % 2 == 0 && i / 2 < 131072 - 256) {
			bench_v4(&k[i].addr, 0xc6120100u + (__u32)(i / 2));
		} else {
			k[i].addr.w[0] = htonl(0x20010db8u);
			k[i].addr.w[1] = htonl(0x10000u + (__u32)i);
		}
		k[i].svc = MXG_SVC_SMTP;
		v[i].first_ns = now - 1000000000ull * (i % 3600);
		v[i].last_ns = now;
		v[i].tat_ns = now + 1000000000ull;
		v[i].syns = 1 + i % 100;
		v[i].drops = i % 7;
	}
	for (i = 0; i < n; i += 65536) {
		__u32 cnt = n - i < 65536 ? n - i : 65536;

		err = bpf_map_update_batch(fd, &k[i], &v[i], &cnt, NULL);
		if (err) {
			fprintf(stderr, "bench-maps: update batch: %s\n", strerror(-err));
			err = 1;
			goto out;
		}
	}
	printf("{\"requested\":%zu,\"max_entries\":%u,\"filled\":%zu}\n", want,
	       info.max_entries, n);
out:
	free(k);
	free(v);
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen-list"))
		return gen_list(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "fill-src"))
		return fill_src(argv[2], argv[3]);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench-prog: the in-kernel cost of mxguard's XDP program per frame (through
 * BPF_PROG_TEST_RUN, against an empty program, a minimal parser and a
 * verdict floor), its kernel memory per entry, and how many SYNs of a
 * limited attacker pass with and without a spoofed-source flood; one JSON
 * document on stdout for tools/bench.sh. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tools/bench_progs.skel.h"
#include "mxguard.h" /* before the skeleton: its config is a struct mxg_cfg */
#include "mxguard.skel.h"
#include "cfg.h"
#include "lists.h"
#include "bench_common.h"
/* The frame builder of the packet tests; the Makefile links only user/ into
 * tools, so it is compiled in here. */
#include "frame.c"

#define MAX_RUNS 51
#define V_DROP 1 /* XDP_DROP */
#define V_PASS 2 /* XDP_PASS */

struct opts {
	unsigned runs, cpu, skip_res;
	__u32 repeat;
	size_t small, large, flood;
	unsigned gap, burst_syns;
};

/* One loaded copy of mxguard with its own maps. */
struct inst {
	struct mxguard *skel;
	int prog, cfg, allow, block_h, block_t, src, lists;
};

enum cfg_kind { CFG_HUGE, CFG_TINY };

struct frame {
	__u8 buf[FRAME_MAX];
	int len;
};

struct bcase {
	const char *name;  /* key in the JSON */
	const char *what;  /* row label */
	int prog;          /* program fd */
	struct inst *in;   /* mxguard instance, or NULL for reference programs */
	int cfg;           /* enum cfg_kind */
	int prime;         /* send the frame once before timing (over-limit) */
	int expect;        /* XDP verdict */
	struct frame f;
	double ns[MAX_RUNS];
	unsigned bad;      /* runs whose verdict was not the expected one */
};

static struct mxg_cfg cfg_huge, cfg_tiny;

static int die(const char *what, int err)
{
	fprintf(stderr, "bench-prog: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-prog [--runs N] [--repeat N] [--small N] [--large N]\n"
		"                  [--cpu C] [--flood N] [--gap N] [--skip-resilience]\n"
		"  Every case N times (default 5, max %d) x --repeat frames (default\n"
		"  1000000) through BPF_PROG_TEST_RUN, cases interleaved; blocklists of\n"
		"  --small (1000) and --large (1000000) entries; pinned to CPU C (1).\n"
		"  Resilience: --flood (1000000) spoofed SYNs, a burst of 10 attacker\n"
		"  SYNs every --gap (250000) of them.\n",
		MAX_RUNS);
}

static size_t num(const char *name, const char *s, size_t lo, size_t hi)
{
	return bench_num("bench-prog", name, s, lo, hi);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "small", required_argument, NULL, 's' },
		{ "large", required_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "flood", required_argument, NULL, 'f' },
		{ "gap", required_argument, NULL, 'g' },
		{ "skip-resilience", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	*o = (struct opts){ .runs = 5, .cpu = 1, .repeat = 1000000, .small = 1000,
			    .large = 1000000, .flood = 1000000, .gap = 250000,
			    .burst_syns = 10 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->runs = num("runs", optarg, 1, MAX_RUNS); break;
		case 'R': o->repeat = num("repeat", optarg, 1, 100000000); break;
		case 's': o->small = num("small", optarg, 100, 2000000); break;
		case 'l': o->large = num("large", optarg, 100, 2000000); break;
		case 'c': o->cpu = num("cpu", optarg, 0, 1023); break;
		case 'f': o->flood = num("flood", optarg, 1000, 10000000); break;
		case 'g': o->gap = num("gap", optarg, 1, 10000000); break;
		case 'S': o->skip_res = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name);

	if (fd < 0) {
		fprintf(stderr, "bench-prog: map %s not in the object\n", name);
		exit(1);
	}
	return fd;
}

static void inst_load(struct inst *in)
{
	struct bpf_program *p;

	in->skel = mxguard__open_and_load();
	if (!in->skel)
		die("load mxguard skeleton", errno);
	p = bpf_object__find_program_by_name(in->skel->obj, "mxg_xdp");
	if (!p)
		die("program mxg_xdp", ENOENT);
	in->prog = bpf_program__fd(p);
	in->cfg = map_fd(in->skel->obj, MXG_CFG_SECTION);
	in->allow = map_fd(in->skel->obj, "mxg_allow");
	in->block_h = map_fd(in->skel->obj, "mxg_block_h");
	in->block_t = map_fd(in->skel->obj, "mxg_block_t");
	in->src = map_fd(in->skel->obj, "mxg_src");
	in->lists = map_fd(in->skel->obj, "mxg_lists");
}

static void cfg_write(const struct inst *in, const struct mxg_cfg *c)
{
	__u32 zero = 0;
	int err = bpf_map_update_elem(in->cfg, &zero, c, BPF_ANY);

	if (err)
		die("write mxg_cfg", err);
}

/* Batched update of n keys/values, falling back to one at a time where the
 * map type has no batch operation. */
static void fill(int fd, const void *keys, size_t ksz, const void *vals,
		 size_t vsz, size_t n, const char *what)
{
	const size_t chunk = 65536;
	size_t i;

	for (i = 0; i < n; i += chunk) {
		__u32 cnt = n - i < chunk ? n - i : chunk;
		int err = bpf_map_update_batch(fd, (const char *)keys + i * ksz,
					       (const char *)vals + i * vsz, &cnt, NULL);

		if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */) {
			size_t j;

			for (j = i; j < n && j < i + chunk; j++) {
				err = bpf_map_update_elem(fd, (const char *)keys + j * ksz,
							  (const char *)vals + j * vsz, BPF_ANY);
				if (err)
					die(what, err);
			}
			continue;
		}
		if (err)
			die(what, err);
	}
}

static void fill_blocklist(const struct inst *in, const struct bench_blocklist *l)
{
	size_t i, n = l->nexact > l->npfx ? l->nexact : l->npfx;
	struct mxg_block_val *v = calloc(n, sizeof(*v));
	unsigned has = MXG_LISTS_BLOCK_T;

	if (!v)
		die("calloc", ENOMEM);
	/* Live entries: no expiry, like a loaded feed. */
	fill(in->block_h, l->exact, sizeof(*l->exact), v, sizeof(*v), l->nexact,
	     "fill mxg_block_h");
	fill(in->block_t, l->pfx, sizeof(*l->pfx), v, sizeof(*v), l->npfx,
	     "fill mxg_block_t");
	/* What the controller notes after a load. */
	for (i = 0; i < l->nexact; i++)
		has |= mxg_lists_exact_has(&l->exact[i]);
	if (mxg_lists_note(in->lists, has, l->pfx, l->npfx, l->exact, l->nexact))
		die("note mxg_lists", errno);
	free(v);
}

static void allow_add(const struct inst *in, const char *net, unsigned plen)
{
	struct mxg_lpm_key k = { 0 };
	struct mxg_allow_val v = { 0 };
	int err;

	if (strchr(net, ':')) {
		inet_pton(AF_INET6, net, k.addr.b);
		k.prefixlen = plen;
	} else {
		bench_v4(&k.addr, 0);
		inet_pton(AF_INET, net, &k.addr.b[12]);
		k.prefixlen = 96 + plen;
	}
	snprintf(v.comment, sizeof(v.comment), "bench partner");
	err = bpf_map_update_elem(in->allow, &k, &v, BPF_ANY);
	if (!err)
		err = mxg_lists_note(in->lists, MXG_LISTS_ALLOW, &k, 1, NULL, 0);
	if (err)
		die("allow entry", err);
}

static void addr_text(const union mxg_addr *a, char *buf, size_t len)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a->b, mapped, 12))
		inet_ntop(AF_INET, &a->b[12], buf, len);
	else
		inet_ntop(AF_INET6, a->b, buf, len);
}

static void frame_make(struct frame *f, int l3, int l4, const char *src,
		       __u16 dport, __u8 flags)
{
	struct frame_spec s = { .l3 = l3, .l4 = l4, .src = src, .dport = dport,
				.tcp_flags = flags };

	if (l3 == FRAME_IPV6 && !src)
		s.src = "2001:db8::10";
	f->len = frame_build(&s, f->buf, sizeof(f->buf), NULL);
	if (f->len < 0)
		die("frame_build", f->len);
}

/* One timed run: ns per frame from the wall clock around the syscall, which
 * resolves fractions of a ns (the kernel's own figure is whole ns). */
static double run_once_k(int prog, struct frame *f, __u32 repeat, __u32 *retval,
			 __u32 *kns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->buf,
		    .data_size_in = f->len, .repeat = repeat);
	double t0, t1;
	int err;

	t0 = bench_now_ns();
	err = bpf_prog_test_run_opts(prog, &o);
	t1 = bench_now_ns();
	if (err)
		die("BPF_PROG_TEST_RUN", err);
	*retval = o.retval;
	if (kns)
		*kns = o.duration;
	return (t1 - t0) / repeat;
}

static double run_once(int prog, struct frame *f, __u32 repeat, __u32 *retval)
{
	return run_once_k(prog, f, repeat, retval, NULL);
}

static void case_run(struct bcase *c, unsigned r, __u32 repeat)
{
	__u32 ret;

	if (c->in)
		cfg_write(c->in, c->cfg == CFG_TINY ? &cfg_tiny : &cfg_huge);
	if (c->prime)
		run_once(c->prog, &c->f, 1, &ret);
	c->ns[r] = run_once(c->prog, &c->f, repeat, &ret);
	if ((int)ret != c->expect)
		c->bad++;
}

/* ---- resilience ------------------------------------------------------- */

/* Spoofed source i of the flood: 1 in 8 IPv4 in 198.18.1.0+, the rest one
 * /64 each under 2001:db8:1::/48 and above; none in the attacker's range. */
static void flood_src(struct frame *f4, struct frame *f6, size_t i,
		      struct frame **out)
{
	__u32 k = (__u32)(i / 8);

	if (i % 8 == 0) {
		__u32 h = htonl(0xc6120100u + (__u32)((k * 40503u) % (131072 - 256)));

		memcpy(&f4->buf[14 + 12], &h, 4);
		*out = f4;
	} else {
		__u32 s = htonl(0x10000u + (__u32)(i * 2654435761u % 0xfffe0000u));

		memcpy(&f6->buf[14 + 8 + 4], &s, 4);
		*out = f6;
	}
}

/* What one SYN from a never-seen source costs (the spoofed-flood path):
 * the kernel's timing of single runs (repeat 1 cannot be averaged over a
 * loop), minus the same timing of the empty program, which is the timer's
 * own overhead. Medians over the flood. */
struct newsrc {
	double *mxg, *empty;
	size_t n, ne, cap;
	int empty_prog;
};

/* Fraction of attacker SYNs that pass: bursts of o->burst_syns every
 * o->gap flood SYNs (flood) or back to back (no flood). The attacker's
 * limit: 1/hour, burst 5; the flood's sources are all new. */
static double resilience(const struct opts *o, int with_flood, size_t *flood_pass,
			 struct newsrc *ns)
{
	struct inst in;
	struct mxg_cfg c;
	struct frame att, f4, f6, *fl;
	size_t i, sent = 0, pass = 0, fp = 0;
	unsigned j;
	__u32 ret;

	inst_load(&in);
	mxg_cfg_defaults(&c);
	mxg_cfg_set_limit(&c, MXG_SVC_SMTP, 1, 3600, 5);
	cfg_write(&in, &c);
	frame_make(&att, FRAME_IPV4, FRAME_TCP, "198.18.0.99", 25, FRAME_TCP_SYN);
	frame_make(&f4, FRAME_IPV4, FRAME_TCP, "198.18.1.1", 25, FRAME_TCP_SYN);
	frame_make(&f6, FRAME_IPV6, FRAME_TCP, "2001:db8:1::1", 25, FRAME_TCP_SYN);
	for (i = 0; i <= o->flood; i++) {
		if (i % o->gap == 0) {
			for (j = 0; j < o->burst_syns; j++) {
				run_once(in.prog, &att, 1, &ret);
				sent++;
				pass += ret == V_PASS;
			}
		}
		if (!with_flood || i == o->flood)
			continue;
		flood_src(&f4, &f6, i, &fl);
		if (ns && ns->n < ns->cap) {
			__u32 k;

			run_once_k(in.prog, fl, 1, &ret, &k);
			ns->mxg[ns->n++] = k;
			if (i % 8 == 1) {
				__u32 r2;

				run_once_k(ns->empty_prog, fl, 1, &r2, &k);
				ns->empty[ns->ne++] = k;
			}
		} else {
			run_once(in.prog, fl, 1, &ret);
		}
		fp += ret == V_PASS;
	}
	mxguard__destroy(in.skel);
	if (flood_pass)
		*flood_pass = fp;
	return sent ? (double)pass / sent : 0;
}

/* ---- memory --------------------------------------------------------------- */

struct mem {
	unsigned long long h0, h1, t0, t1, src0, src1, src_half, total;
	size_t nh, nt, src_max, src_filled;
};

static unsigned long long total_memlock(struct bpf_object *obj)
{
	unsigned long long sum = 0;
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (bpf_map__fd(m) >= 0)
			sum += bench_memlock(bpf_map__fd(m));
	return sum;
}

/* Fill the LRU to capacity as the program would, to show it costs the same
 * full or empty (preallocated). */
static void fill_src(const struct inst *in, struct mem *m)
{
	struct bpf_map *map = bpf_object__find_map_by_name(in->skel->obj, "mxg_src");
	size_t n = bpf_map__max_entries(map), i;
	struct mxg_src_key *k = calloc(n, sizeof(*k));
	struct mxg_src_val *v = calloc(n, sizeof(*v));

	if (!k || !v)
		die("calloc", ENOMEM);
	for (i = 0; i < n; i++) {
		k[i].addr.w[0] = htonl(0x20010db8u);
		k[i].addr.w[1] = htonl(0x10000u + (__u32)i);
		k[i].svc = MXG_SVC_SMTP;
		v[i].syns = 1;
	}
	m->src_max = n;
	fill(in->src, k, sizeof(*k), v, sizeof(*v), n, "fill mxg_src");
	m->src_filled = n;
	m->src1 = bench_memlock(in->src);
	/* The same table at half the size: the difference is what one more
	 * tracked source costs, without the map's fixed part. */
	{
		int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bench_src_half",
					sizeof(*k), sizeof(*v), n / 2, NULL);

		if (fd < 0)
			die("create half-size source table", fd);
		m->src_half = bench_memlock(fd);
		close(fd);
	}
	free(k);
	free(v);
}

/* ---- output --------------------------------------------------------------- */

static void json_case(const struct bcase *c, unsigned runs, int last)
{
	double tmp[MAX_RUNS];
	unsigned r;

	memcpy(tmp, c->ns, sizeof(tmp));
	printf("    \"%s\": {\"what\": \"%s\", \"median_ns\": %.2f, \"verdict_ok\": %s, \"runs_ns\": [",
	       c->name, c->what, bench_median(tmp, runs), c->bad ? "false" : "true");
	for (r = 0; r < runs; r++)
		printf("%s%.2f", r ? ", " : "", c->ns[r]);
	printf("]}%s\n", last ? "" : ",");
}

int main(int argc, char **argv)
{
	struct bench_progs *ref;
	struct inst a, b;
	struct bench_blocklist ls, ll;
	struct bcase cases[24];
	struct mem mem = { 0 };
	struct opts o;
	char ex4[64], p4s[64], p6s[64], p4l[64], p6l[64], ex4l[64];
	size_t nc = 0, i;
	unsigned r;
	int fl_lru;

	parse_opts(argc, argv, &o);
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "bench-prog: cannot pin to CPU %u (continuing)\n", o.cpu);
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);

	mxg_cfg_defaults(&cfg_huge);
	for (i = MXG_SVC_NONE + 1; i < MXG_SVC_MAX; i++) {
		/* 1e9/s with the largest burst: a source that never runs out;
		 * the prefix bucket too, so its lookup is on the path. */
		mxg_cfg_set_limit(&cfg_huge, i, 1000000000u, 1, 1000000);
		mxg_cfg_set_plimit(&cfg_huge, i, 1000000000u, 1, 1000000);
	}
	mxg_cfg_defaults(&cfg_tiny);
	mxg_cfg_set_limit(&cfg_tiny, MXG_SVC_SMTP, 1, 3600, 1);

	ref = bench_progs__open_and_load();
	if (!ref)
		die("load bench_progs skeleton", errno);
	inst_load(&a);
	inst_load(&b);
	if (bench_blocklist_gen(o.small, &ls) || bench_blocklist_gen(o.large, &ll))
		die("blocklist", ENOMEM);
	mem.h0 = bench_memlock(b.block_h);
	mem.t0 = bench_memlock(b.block_t);
	mem.src0 = bench_memlock(b.src);
	fill_blocklist(&a, &ls);
	fill_blocklist(&b, &ll);
	mem.h1 = bench_memlock(b.block_h);
	mem.t1 = bench_memlock(b.block_t);
	mem.nh = ll.nexact;
	mem.nt = ll.npfx;
	allow_add(&a, "198.18.0.64", 26);
	allow_add(&b, "198.18.0.64", 26);
	allow_add(&a, "2001:db8:0:a::", 64);
	allow_add(&b, "2001:db8:0:a::", 64);
	addr_text(&ls.hit_exact4, ex4, sizeof(ex4));
	addr_text(&ls.hit_pfx4, p4s, sizeof(p4s));
	addr_text(&ls.hit_pfx6, p6s, sizeof(p6s));
	addr_text(&ll.hit_exact4, ex4l, sizeof(ex4l));
	addr_text(&ll.hit_pfx4, p4l, sizeof(p4l));
	addr_text(&ll.hit_pfx6, p6l, sizeof(p6l));

	/* The floor program's one source record (198.18.0.10, smtp). */
	{
		struct mxg_src_key k = { .svc = MXG_SVC_SMTP };
		struct mxg_src_val v = { 0 };

		bench_v4(&k.addr, 0xc612000au);
		fl_lru = bpf_map__fd(ref->maps.bench_flru);
		if (bpf_map_update_elem(fl_lru, &k, &v, BPF_ANY))
			die("floor LRU entry", errno);
	}

#define ADD(n, w, pr, inst, ck, pm, ex, l3, l4, src, port, flags) do { \
		struct bcase *c_ = &cases[nc++];                                   \
		memset(c_, 0, sizeof(*c_));                                        \
		c_->name = n; c_->what = w; c_->prog = pr; c_->in = inst;          \
		c_->cfg = ck; c_->prime = pm; c_->expect = ex;                     \
		frame_make(&c_->f, l3, l4, src, port, flags);                      \
	} while (0)
	{
		int pe = bpf_program__fd(ref->progs.bench_empty);
		int pp = bpf_program__fd(ref->progs.bench_parse);
		int pf = bpf_program__fd(ref->progs.bench_floor);
		__u8 syn = FRAME_TCP_SYN, ack = FRAME_TCP_ACK | FRAME_TCP_PSH;

		ADD("empty", "empty XDP program (TCP/80)", pe, NULL, 0, 0, V_PASS,
		    FRAME_IPV4, FRAME_TCP, NULL, 80, ack);
		ADD("parser", "minimal Eth/IP/TCP parser (TCP/80)", pp, NULL, 0, 0, V_PASS,
		    FRAME_IPV4, FRAME_TCP, NULL, 80, ack);
		ADD("floor", "verdict floor: 2 tries + hash + LRU hit + coarse clock", pf,
		    NULL, 0, 0, V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.10", 25, syn);
		ADD("arp", "mxguard: ARP", a.prog, &a, CFG_HUGE, 0, V_PASS,
		    FRAME_ARP, FRAME_TCP, NULL, 0, 0);
		ADD("udp", "mxguard: UDP/53", a.prog, &a, CFG_HUGE, 0, V_PASS,
		    FRAME_IPV4, FRAME_UDP, NULL, 53, 0);
		ADD("tcp80", "mxguard: TCP/80", a.prog, &a, CFG_HUGE, 0, V_PASS,
		    FRAME_IPV4, FRAME_TCP, NULL, 80, ack);
		ADD("tcp80_v6", "mxguard: TCP/80 IPv6", a.prog, &a, CFG_HUGE, 0, V_PASS,
		    FRAME_IPV6, FRAME_TCP, NULL, 80, ack);
		ADD("syn_under", "mxguard: SYN/25 under limit", a.prog, &a, CFG_HUGE, 0,
		    V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.10", 25, syn);
		ADD("syn_under_v6", "mxguard: SYN/25 under limit, IPv6", a.prog, &a,
		    CFG_HUGE, 0, V_PASS, FRAME_IPV6, FRAME_TCP, "2001:db8::10", 25, syn);
		ADD("syn_over", "mxguard: SYN/25 over limit", a.prog, &a, CFG_TINY, 1,
		    V_DROP, FRAME_IPV4, FRAME_TCP, "198.18.0.20", 25, syn);
		ADD("syn_allow", "mxguard: SYN/25 allowlisted", a.prog, &a, CFG_HUGE, 0,
		    V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.70", 25, syn);
		ADD("syn_block_exact_small", "mxguard: SYN/25 blocked /32, small list",
		    a.prog, &a, CFG_HUGE, 0, V_DROP, FRAME_IPV4, FRAME_TCP, ex4, 25, syn);
		ADD("syn_block_exact_large", "mxguard: SYN/25 blocked /32, large list",
		    b.prog, &b, CFG_HUGE, 0, V_DROP, FRAME_IPV4, FRAME_TCP, ex4l, 25, syn);
		ADD("syn_block_pfx_small", "mxguard: SYN/25 blocked prefix v4, small list",
		    a.prog, &a, CFG_HUGE, 0, V_DROP, FRAME_IPV4, FRAME_TCP, p4s, 25, syn);
		ADD("syn_block_pfx_large", "mxguard: SYN/25 blocked prefix v4, large list",
		    b.prog, &b, CFG_HUGE, 0, V_DROP, FRAME_IPV4, FRAME_TCP, p4l, 25, syn);
		ADD("syn_block_pfx6_small", "mxguard: SYN/25 blocked prefix v6, small list",
		    a.prog, &a, CFG_HUGE, 0, V_DROP, FRAME_IPV6, FRAME_TCP, p6s, 25, syn);
		ADD("syn_block_pfx6_large", "mxguard: SYN/25 blocked prefix v6, large list",
		    b.prog, &b, CFG_HUGE, 0, V_DROP, FRAME_IPV6, FRAME_TCP, p6l, 25, syn);
		ADD("syn_under_large", "mxguard: SYN/25 under limit, large list",
		    b.prog, &b, CFG_HUGE, 0, V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.10", 25, syn);
		ADD("syn_under_v6_large", "mxguard: SYN/25 under limit, IPv6, large list",
		    b.prog, &b, CFG_HUGE, 0, V_PASS, FRAME_IPV6, FRAME_TCP, "2001:db8::10", 25, syn);
		/* A segment of a session from a tracked source (its record
		 * exists from the SYN cases above): the list cache at work. */
		ADD("ack25", "mxguard: ACK/25 of a session, small list",
		    a.prog, &a, CFG_HUGE, 0, V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.10", 25, ack);
		ADD("ack25_large", "mxguard: ACK/25 of a session, large list",
		    b.prog, &b, CFG_HUGE, 0, V_PASS, FRAME_IPV4, FRAME_TCP, "198.18.0.10", 25, ack);
	}
#undef ADD

	/* Interleaved: run r of every case before run r+1 of any, so a noisy
	 * moment hits all cases alike and each ratio compares neighbours. */
	for (r = 0; r < o.runs; r++)
		for (i = 0; i < nc; i++)
			case_run(&cases[i], r, o.repeat);
	for (i = 0; i < nc; i++)
		if (cases[i].bad)
			fprintf(stderr, "bench-prog: %s: unexpected verdict in %u runs\n",
				cases[i].name, cases[i].bad);

	fill_src(&b, &mem);
	mem.total = total_memlock(b.skel->obj);

	printf("{\n  \"repeat\": %u, \"runs\": %u, \"cpu\": %u,\n", o.repeat, o.runs, o.cpu);
	printf("  \"blocklist_small\": {\"exact\": %zu, \"prefixes\": %zu},\n",
	       ls.nexact, ls.npfx);
	printf("  \"blocklist_large\": {\"exact\": %zu, \"prefixes\": %zu},\n",
	       ll.nexact, ll.npfx);
	printf("  \"cases\": {\n");
	for (i = 0; i < nc; i++)
		json_case(&cases[i], o.runs, i + 1 == nc);
	printf("  },\n");
	printf("  \"memory\": {\"block_h_memlock_before\": %llu, \"block_h_memlock_after\": %llu, \"block_h_entries\": %zu,\n"
	       "    \"block_t_memlock_before\": %llu, \"block_t_memlock_after\": %llu, \"block_t_entries\": %zu,\n"
	       "    \"src_memlock_empty\": %llu, \"src_memlock_full\": %llu, \"src_max_entries\": %zu, \"src_filled\": %zu,\n"
	       "    \"src_memlock_half_size\": %llu,\n"
	       "    \"all_maps_memlock_with_large_list\": %llu,\n",
	       mem.h0, mem.h1, mem.nh, mem.t0, mem.t1, mem.nt, mem.src0, mem.src1,
	       mem.src_max, mem.src_filled, mem.src_half, mem.total);
	{
		struct bpf_map *m;
		int first = 1;

		printf("    \"maps\": {");
		bpf_object__for_each_map(m, b.skel->obj) {
			if (bpf_map__fd(m) < 0 || strchr(bpf_map__name(m), '.'))
				continue;
			printf("%s\"%s\": {\"max_entries\": %u, \"key\": %u, \"value\": %u, \"memlock\": %llu}",
			       first ? "" : ", ", bpf_map__name(m), bpf_map__max_entries(m),
			       bpf_map__key_size(m), bpf_map__value_size(m),
			       bench_memlock(bpf_map__fd(m)));
			first = 0;
		}
		printf("}\n  }");
	}
	mxguard__destroy(b.skel);
	mxguard__destroy(a.skel);
	bench_blocklist_free(&ls);
	bench_blocklist_free(&ll);

	if (!o.skip_res) {
		double nf[MAX_RUNS], wf[MAX_RUNS], fpass[MAX_RUNS];
		struct newsrc ns = { .cap = o.flood,
			.empty_prog = bpf_program__fd(ref->progs.bench_empty) };
		double nmed, emed;

		ns.mxg = calloc(ns.cap, sizeof(double));
		ns.empty = calloc(ns.cap, sizeof(double));
		if (!ns.mxg || !ns.empty)
			die("calloc", ENOMEM);
		for (r = 0; r < o.runs; r++) {
			size_t fp = 0;

			nf[r] = resilience(&o, 0, NULL, NULL);
			/* The first run also times the new-source path. */
			wf[r] = resilience(&o, 1, &fp, r ? NULL : &ns);
			fpass[r] = (double)fp / o.flood;
		}
		nmed = bench_median(ns.mxg, ns.n);
		emed = bench_median(ns.empty, ns.ne);
		printf(",\n  \"new_source\": {\"frames\": %zu, \"mxguard_single_run_ns\": %.1f, "
		       "\"empty_single_run_ns\": %.1f, \"net_ns\": %.1f}",
		       ns.n, nmed, emed, nmed - emed);
		free(ns.mxg);
		free(ns.empty);
		printf(",\n  \"resilience\": {\"flood\": %zu, \"gap\": %u, \"burst_syns\": %u, "
		       "\"attacker_limit\": \"1/hour burst 5\",\n"
		       "    \"pass_no_flood\": %.4f, \"pass_with_flood\": %.4f, \"flood_pass\": %.4f}",
		       o.flood, o.gap, o.burst_syns, bench_median(nf, o.runs),
		       bench_median(wf, o.runs), bench_median(fpass, o.runs));
	}
	printf("\n}\n");
	bench_progs__destroy(ref);
	return 0;
}

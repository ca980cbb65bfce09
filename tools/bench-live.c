// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bench-live: a bounded SYN flood from many spoofed sources, run through an
 * XDP program by BPF_PROG_RUN in live-frame mode (BPF_F_TEST_XDP_LIVE_FRAMES),
 * for tools/bench.sh.
 *
 * Why beside mxg-synflood: over veth every frame is first built as an skb
 * and copied, and that fixed cost (about 1.2 us a frame here) hides the
 * difference between filters. In live-frame mode the kernel feeds frames
 * from a page pool straight to the XDP program, on this CPU, and carries out
 * its verdict as a NIC driver would: XDP_DROP recycles the page, XDP_PASS
 * builds an skb and hands it to the network stack of --ifname (where the
 * nftables ingress hook sees it). What a frame costs is then the filter's
 * own cost plus, for frames it passes, the stack's.
 *
 * The frame is one SYN to --port, IPv4 or IPv6; tools/bench_live.bpf.c runs
 * first on every frame, writes the next source of mxg-synflood's random
 * cycle (bench_src.h) into it, mends the checksums and tail-calls the
 * program under test (--prog-id). Families alternate in chunks of --chunk
 * frames, in the share of their sources, as mxg-synflood interleaves them.
 *
 * Bounds: --count (max 100,000,000 frames) and --seconds (max 60); the
 * frames never leave the kernel except as the stack of --ifname sends
 * replies to what passes. Prints one JSON object. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tools/bench_live.skel.h"
#include "bench_common.h"
#include "bench_src.h"
/* The frame builder of the packet tests (see bench-prog.c). */
#include "frame.c"

#define MAX_COUNT 100000000ull
#define MAX_SECONDS 60
#define MAX_CHUNK 1000000u

struct opts {
	const char *ifname, *dst4, *dst6;
	unsigned port, seconds, v6_share, chunk;
	unsigned long long sources, count;
	int prog_id, cpu;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-live --ifname IF --prog-id ID [--dst4 A] [--dst6 A]\n"
		"         [--port P] [--sources N] [--v6-share PCT] [--count N]\n"
		"         [--seconds S] [--chunk N] [--cpu C]\n"
		"  Runs SYNs to P (default 25) through XDP program ID in live-frame mode,\n"
		"  as if received on IF (in this network namespace; frames the program\n"
		"  passes go to IF's stack), each from the next of N distinct sources\n"
		"  (default 1000000) of mxg-synflood's random cycle; PCT%% of the sources\n"
		"  are IPv6 (default 50; more when IPv4 runs out). Destination\n"
		"  198.18.0.1 and 2001:db8::1 unless given, to IF's own MAC. Stops after\n"
		"  N frames (default 1000000, max %llu) or S seconds (default 10, max %d),\n"
		"  checked every chunk of N frames (default 65536). --cpu pins the run\n"
		"  (default 1). Prints one JSON object: frames, seconds, CPU time.\n",
		MAX_COUNT, MAX_SECONDS);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-live: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static unsigned long long num(const char *name, const char *s,
			      unsigned long long lo, unsigned long long hi)
{
	return bench_num("bench-live", name, s, lo, hi);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "prog-id", required_argument, NULL, 'P' },
		{ "dst4", required_argument, NULL, '4' },
		{ "dst6", required_argument, NULL, '6' },
		{ "port", required_argument, NULL, 'p' },
		{ "sources", required_argument, NULL, 'n' },
		{ "v6-share", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct opts){ .dst4 = "198.18.0.1", .dst6 = "2001:db8::1", .port = 25,
			    .seconds = 10, .v6_share = 50, .chunk = 65536,
			    .sources = 1000000, .count = 1000000, .cpu = 1 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'P': o->prog_id = (int)num("prog-id", optarg, 1, 0x7fffffff); break;
		case '4': o->dst4 = optarg; break;
		case '6': o->dst6 = optarg; break;
		case 'p': o->port = (unsigned)num("port", optarg, 1, 65535); break;
		case 'n': o->sources = num("sources", optarg, 1, 100000000); break;
		case 'v': o->v6_share = (unsigned)num("v6-share", optarg, 0, 100); break;
		case 'c': o->count = num("count", optarg, 1, MAX_COUNT); break;
		case 's': o->seconds = (unsigned)num("seconds", optarg, 1, MAX_SECONDS); break;
		case 'k': o->chunk = (unsigned)num("chunk", optarg, 1, MAX_CHUNK); break;
		case 'C': o->cpu = (int)num("cpu", optarg, 0, 4095); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || !o->ifname || !o->prog_id) {
		usage(stderr);
		exit(2);
	}
}

/* A SYN of family l3 to dst:port, to the interface's own MAC (so what
 * passes is for this host); the source is the rotator's to write. */
static int syn_frame(const struct opts *o, int l3, const __u8 mac[6], __u8 *buf)
{
	struct frame_spec s = { .l3 = l3, .l4 = FRAME_TCP, .dport = o->port,
				.tcp_flags = FRAME_TCP_SYN,
				.src = l3 == FRAME_IPV6 ? "2001:db8:1::1" : "198.18.1.1",
				.dst = l3 == FRAME_IPV6 ? o->dst6 : o->dst4 };
	int len = frame_build(&s, buf, FRAME_MAX, NULL);

	if (len < 0) {
		fprintf(stderr, "bench-live: invalid --dst%d '%s'\n",
			l3 == FRAME_IPV6 ? 6 : 4, l3 == FRAME_IPV6 ? o->dst6 : o->dst4);
		exit(2);
	}
	memcpy(buf, mac, 6);
	return len;
}

static void if_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq r = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket", errno);
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &r))
		die(ifname, errno);
	close(fd);
	memcpy(mac, r.ifr_hwaddr.sa_data, 6);
}

int main(int argc, char **argv)
{
	static __u8 f4[FRAME_MAX], f6[FRAME_MAX];
	unsigned long long n4, n6, done = 0, done4 = 0, chunks = 0;
	struct bench_live *skel;
	struct opts o;
	double t0, c0, t1, c1;
	int len4, len6, prog, err;
	unsigned ifindex;
	cpu_set_t set;
	__u32 zero = 0;
	__u8 mac[6];

	parse_opts(argc, argv, &o);
	ifindex = if_nametoindex(o.ifname);
	if (!ifindex)
		die(o.ifname, errno);
	if_mac(o.ifname, mac);
	/* The families' shares of the sources, as mxg-synflood splits them. */
	n4 = o.sources * (100 - o.v6_share) / 100;
	if (n4 > BENCH_V4_SPAN)
		n4 = BENCH_V4_SPAN;
	n6 = o.sources - n4;
	len4 = syn_frame(&o, FRAME_IPV4, mac, f4);
	len6 = syn_frame(&o, FRAME_IPV6, mac, f6);

	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);

	skel = bench_live__open();
	if (!skel)
		die("open rotator", errno);
	skel->rodata->bench_n4 = n4 ? n4 : 1;
	skel->rodata->bench_n6 = n6 ? n6 : 1;
	err = bench_live__load(skel);
	if (err)
		die("load rotator", err);
	prog = bpf_prog_get_fd_by_id(o.prog_id);
	if (prog < 0)
		die("program --prog-id", errno);
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.bench_target), &zero, &prog, BPF_ANY);
	if (err)
		die("program --prog-id into the tail-call slot", errno);

	t0 = bench_clock_s(CLOCK_MONOTONIC);
	c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
	while (done < o.count && bench_clock_s(CLOCK_MONOTONIC) - t0 < o.seconds) {
		unsigned long long n = o.count - done < o.chunk ? o.count - done : o.chunk;
		/* Chunk c is IPv4 when the IPv4 share steps up over it. */
		int v4 = (chunks + 1) * n4 / (n4 + n6) > chunks * n4 / (n4 + n6);
		struct xdp_md ctx = { .data_end = v4 ? len4 : len6,
				      .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = v4 ? f4 : f6,
			    .data_size_in = v4 ? len4 : len6, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = (__u32)n,
			    .batch_size = 64, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_rotate), &run);
		if (err)
			die("BPF_PROG_RUN (live frames)", errno);
		done += n;
		done4 += v4 ? n : 0;
		chunks++;
	}
	c1 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
	t1 = bench_clock_s(CLOCK_MONOTONIC);
	printf("{\"sent\": %llu, \"sent_v4\": %llu, \"sources\": %llu, \"elapsed_s\": %.6f, "
	       "\"pps\": %.0f, \"cpu_s\": %.6f, \"cpu_ns_per_frame\": %.2f}\n",
	       done, done4, n4 + n6, t1 - t0, done / (t1 - t0), c1 - c0,
	       (c1 - c0) * 1e9 / done);
	close(prog);
	bench_live__destroy(skel);
	return 0;
}

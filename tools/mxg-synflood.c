// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mxg-synflood: sends a bounded flood of TCP SYNs from many distinct spoofed
 * sources (198.18.0.0/15 and 2001:db8::/32 only) out of one interface, for the
 * veth benchmarks of tools/bench.sh.
 *
 * How: AF_PACKET with a PACKET_TX_RING (TPACKET_V2) and PACKET_QDISC_BYPASS.
 * Frames are written straight into the shared ring and one send() hands the
 * kernel every frame that is ready, so there is no per-packet syscall, no
 * per-packet msghdr/iovec copy (what sendmmsg still costs) and no qdisc. On
 * this 2-core VM that made the sender faster than any receiver under test,
 * which is what a benchmark of the receiver needs.
 *
 * Bounds: --count (max 100,000,000 packets) and --seconds (max 60) are hard
 * caps; whichever comes first ends the flood. Sources never leave the two
 * benchmark ranges, and 198.18.0.0/24 and 2001:db8::/48 (where the server,
 * the allowlist and the blocklist of the benchmark live) are never used.
 * Checksums (IPv4 header, TCP with pseudo-header) are correct, so frames
 * that get past a filter are valid to the stack too. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "bench_common.h"
#include "bench_src.h"

#define MAX_COUNT 100000000ull
#define MAX_SECONDS 60
#define CONC_V4 254u          /* hosts per /24 in concentrated mode */
#define CONC_V6 65536u        /* /64s per /48 in concentrated mode */

#define FRAME_SZ 256
#define BLOCK_SZ (1 << 16)
#define NBLOCKS 32
#define NFRAMES (NBLOCKS * (BLOCK_SZ / FRAME_SZ))
#define DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
#define BATCH 256

enum mode { M_RANDOM, M_SEQ, M_CONC };

struct opts {
	const char *ifname;
	unsigned char dmac[6];
	__u8 dst4[4], dst6[16];
	unsigned port;
	unsigned long long sources, count;
	unsigned seconds, v6_share, nets;
	int mode, cpu;
};

struct gen {
	const struct opts *o;
	unsigned char smac[6];
	unsigned long long n4, n6; /* distinct sources of each family */
	__u32 cap4;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mxg-synflood --ifname IF --dst-mac MAC [--dst4 A] [--dst6 A]\n"
		"         [--port P] [--sources N] [--mode random|sequential|concentrated]\n"
		"         [--nets K] [--v6-share PCT] [--count N] [--seconds S] [--cpu C]\n"
		"  SYNs to P (default 25) at the highest rate the machine allows, each\n"
		"  from the next of N distinct sources (default 1000000), cycling; IPv4\n"
		"  sources from 198.18.1.0-198.19.255.255, IPv6 sources one per /64 of\n"
		"  2001:db8:1::/48 and above. PCT%% of the sources are IPv6 (default 50;\n"
		"  more when IPv4 runs out). concentrated: sources in K (default 4) IPv4\n"
		"  /24s and K IPv6 /48s. Stops after N packets (default 1000000, max %llu)\n"
		"  or S seconds (default 10, max %d). Prints one JSON object.\n",
		MAX_COUNT, MAX_SECONDS);
}

static int parse_mac(const char *s, unsigned char *m)
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = v[i];
	}
	return 0;
}

static unsigned long long num(const char *name, const char *s,
			      unsigned long long lo, unsigned long long hi)
{
	return bench_num("mxg-synflood", name, s, lo, hi);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "dst4", required_argument, NULL, '4' },
		{ "dst6", required_argument, NULL, '6' },
		{ "port", required_argument, NULL, 'p' },
		{ "sources", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'M' },
		{ "nets", required_argument, NULL, 'k' },
		{ "v6-share", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *d4 = "198.18.0.1", *d6 = "2001:db8::1", *mac = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = 25;
	o->sources = 1000000;
	o->count = 1000000;
	o->seconds = 10;
	o->v6_share = 50;
	o->nets = 4;
	o->cpu = -1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->ifname = optarg; break;
		case 'm': mac = optarg; break;
		case '4': d4 = optarg; break;
		case '6': d6 = optarg; break;
		case 'p': o->port = num("port", optarg, 1, 65535); break;
		case 'n': o->sources = num("sources", optarg, 1, 100000000); break;
		case 'k': o->nets = num("nets", optarg, 1, 64); break;
		case 'v': o->v6_share = num("v6-share", optarg, 0, 100); break;
		case 'c': o->count = num("count", optarg, 1, MAX_COUNT); break;
		case 's': o->seconds = num("seconds", optarg, 1, MAX_SECONDS); break;
		case 'C': o->cpu = num("cpu", optarg, 0, 1023); break;
		case 'M':
			if (!strcmp(optarg, "random"))
				o->mode = M_RANDOM;
			else if (!strcmp(optarg, "sequential"))
				o->mode = M_SEQ;
			else if (!strcmp(optarg, "concentrated"))
				o->mode = M_CONC;
			else {
				fprintf(stderr, "mxg-synflood: invalid --mode '%s'\n", optarg);
				exit(2);
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || !o->ifname || !mac) {
		usage(stderr);
		exit(2);
	}
	if (parse_mac(mac, o->dmac)) {
		fprintf(stderr, "mxg-synflood: invalid --dst-mac '%s'\n", mac);
		exit(2);
	}
	/* The destination must be a benchmark address too. */
	if (inet_pton(AF_INET, d4, o->dst4) != 1 || o->dst4[0] != 198 ||
	    (o->dst4[1] & 0xfe) != 18) {
		fprintf(stderr, "mxg-synflood: --dst4 '%s' is not in 198.18.0.0/15\n", d4);
		exit(2);
	}
	if (inet_pton(AF_INET6, d6, o->dst6) != 1 ||
	    memcmp(o->dst6, "\x20\x01\x0d\xb8", 4)) {
		fprintf(stderr, "mxg-synflood: --dst6 '%s' is not in 2001:db8::/32\n", d6);
		exit(2);
	}
}

static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void put16(__u8 *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Source i of the cycle: which family, and the address. Families are
 * interleaved evenly (Bresenham), so every stretch of the flood has the
 * configured mix. */
static int source(const struct gen *g, __u64 i, __u8 *a4, __u8 *a6)
{
	const struct opts *o = g->o;
	__u64 n = g->n4 + g->n6, k4 = i * g->n4 / n, k6 = i - k4;
	int v4 = (i + 1) * g->n4 / n > k4;

	if (v4) {
		__u32 h;

		if (o->mode == M_CONC)
			h = BENCH_V4_FIRST + (__u32)(k4 % o->nets) * 256 + 1 +
			    (__u32)(k4 / o->nets);
		else if (o->mode == M_SEQ)
			h = BENCH_V4_FIRST + (__u32)k4;
		else
			h = BENCH_V4_FIRST + (__u32)bench_permute(k4, BENCH_V4_SPAN);
		put32(a4, h);
		return 4;
	}
	memcpy(a6, "\x20\x01\x0d\xb8", 4);
	if (o->mode == M_CONC) {
		__u32 net = 1 + (__u32)(k6 % o->nets);
		__u32 sub = (__u32)bench_permute(k6 / o->nets, CONC_V6);

		put16(a6 + 4, net);
		put16(a6 + 6, sub);
	} else {
		__u32 s = 0x10000u + (__u32)(o->mode == M_SEQ ? k6 : bench_permute(k6, BENCH_V6_SPAN));

		put32(a6 + 4, s);
	}
	/* Interface identifier: varies, but the /64 is what makes a source. */
	put32(a6 + 8, (__u32)(k6 * 0x9e3779b1u));
	put32(a6 + 12, (__u32)k6 | 1);
	return 6;
}

static void tcp_syn(__u8 *t, __u64 j, unsigned port)
{
	memset(t, 0, 20);
	put16(t, 1024 + (unsigned)(j % 64000));
	put16(t + 2, port);
	put32(t + 4, (__u32)(j * 2654435761u));
	t[12] = 5 << 4;
	t[13] = 0x02; /* SYN */
	put16(t + 14, 64240);
}

/* Frame j into buf; returns its length. */
static int build(const struct gen *g, __u64 j, __u64 src, __u8 *buf)
{
	const struct opts *o = g->o;
	__u8 a4[4], a6[16], *ip = buf + 14, *t;
	__u32 sum;

	memcpy(buf, o->dmac, 6);
	memcpy(buf + 6, g->smac, 6);
	if (source(g, src, a4, a6) == 4) {
		put16(buf + 12, ETH_P_IP);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 40);
		put16(ip + 4, (unsigned)j);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, a4, 4);
		memcpy(ip + 16, o->dst4, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		t = ip + 20;
		tcp_syn(t, j, o->port);
		sum = csum_add(0, ip + 12, 8) + 6 + 20;
		put16(t + 16, csum_fold(csum_add(sum, t, 20)));
		return 14 + 40;
	}
	put16(buf + 12, ETH_P_IPV6);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, 20);
	ip[6] = 6;
	ip[7] = 64;
	memcpy(ip + 8, a6, 16);
	memcpy(ip + 24, o->dst6, 16);
	t = ip + 40;
	tcp_syn(t, j, o->port);
	sum = csum_add(0, ip + 8, 32) + 6 + 20;
	put16(t + 16, csum_fold(csum_add(sum, t, 20)));
	return 14 + 60;
}

static int open_ring(const struct opts *o, unsigned char *smac, void **ring)
{
	struct tpacket_req req = {
		.tp_block_size = BLOCK_SZ, .tp_block_nr = NBLOCKS,
		.tp_frame_size = FRAME_SZ, .tp_frame_nr = NFRAMES,
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, v = TPACKET_V2, one = 1;
	struct ifreq ifr;

	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: never receives */
	if (fd < 0) {
		perror("mxg-synflood: socket(AF_PACKET)");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	sll.sll_ifindex = if_nametoindex(o->ifname);
	if (!sll.sll_ifindex || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "mxg-synflood: interface '%s': %s\n", o->ifname,
			strerror(errno));
		goto fail;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req))) {
		perror("mxg-synflood: setsockopt(PACKET_*)");
		goto fail;
	}
	*ring = mmap(NULL, (size_t)BLOCK_SZ * NBLOCKS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0);
	if (*ring == MAP_FAILED) {
		perror("mxg-synflood: mmap(tx ring)");
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("mxg-synflood: bind");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Hand every ready frame to the kernel. A full receive ring on the veth
 * drops one frame and ends the call with ENOBUFS; that frame is lost, which
 * is counted, and the rest go with the next call. */
static int flush(int fd, unsigned long long *lost)
{
	for (;;) {
		if (send(fd, NULL, 0, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == ENOBUFS) {
			(*lost)++;
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		perror("mxg-synflood: send");
		return -1;
	}
}

int main(int argc, char **argv)
{
	unsigned long long sent = 0, lost = 0, cap6;
	struct opts o;
	struct gen g = { .o = &o };
	void *ring = NULL;
	unsigned slot = 0, pending = 0;
	double t0, t1, deadline;
	int fd;

	parse_opts(argc, argv, &o);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			perror("mxg-synflood: sched_setaffinity (continuing)");
	}
	g.cap4 = o.mode == M_CONC ? CONC_V4 * o.nets : BENCH_V4_SPAN;
	cap6 = o.mode == M_CONC ? (unsigned long long)CONC_V6 * o.nets : BENCH_V6_SPAN;
	g.n4 = o.sources * (100 - o.v6_share) / 100;
	if (g.n4 > g.cap4)
		g.n4 = g.cap4;
	g.n6 = o.sources - g.n4;
	if (g.n6 > cap6) {
		fprintf(stderr, "mxg-synflood: %llu sources do not fit the ranges of this mode\n",
			o.sources);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = open_ring(&o, g.smac, &ring);
	if (fd < 0)
		return 1;

	t0 = bench_clock_s(CLOCK_MONOTONIC);
	deadline = t0 + o.seconds;
	while (sent < o.count && !stop) {
		struct tpacket2_hdr *h = (void *)((char *)ring + (size_t)slot * FRAME_SZ);

		if (h->tp_status != TP_STATUS_AVAILABLE) {
			if (h->tp_status == TP_STATUS_WRONG_FORMAT) {
				fprintf(stderr, "mxg-synflood: kernel refused a frame\n");
				return 1;
			}
			/* Frame still in flight: push what is ready, then wait
			 * for the kernel to give slots back. */
			if (flush(fd, &lost))
				return 1;
			pending = 0;
			if (h->tp_status != TP_STATUS_AVAILABLE) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				poll(&p, 1, 1);
			}
			if (bench_clock_s(CLOCK_MONOTONIC) > deadline)
				break;
			continue;
		}
		h->tp_len = build(&g, sent, sent % o.sources,
				  (__u8 *)h + DATA_OFF);
		__sync_synchronize();
		h->tp_status = TP_STATUS_SEND_REQUEST;
		slot = (slot + 1) % NFRAMES;
		sent++;
		if (++pending == BATCH) {
			if (flush(fd, &lost))
				return 1;
			pending = 0;
			if ((sent & 0xffff) == 0 && bench_clock_s(CLOCK_MONOTONIC) > deadline)
				break;
		}
	}
	/* Blocking send: returns once every queued frame has gone out. */
	while (send(fd, NULL, 0, 0) < 0 && errno == ENOBUFS)
		lost++;
	t1 = bench_clock_s(CLOCK_MONOTONIC);
	printf("{\"method\":\"af_packet_tx_ring_qdisc_bypass\",\"mode\":\"%s\","
	       "\"sources\":%llu,\"v4_sources\":%llu,\"v6_sources\":%llu,"
	       "\"submitted\":%llu,\"lost_at_veth\":%llu,\"sent\":%llu,"
	       "\"elapsed_s\":%.3f,\"pps\":%.0f}\n",
	       o.mode == M_RANDOM ? "random" : o.mode == M_SEQ ? "sequential" : "concentrated",
	       o.sources, g.n4, g.n6, sent, lost, sent - lost, t1 - t0,
	       (sent - lost) / (t1 - t0));
	munmap(ring, (size_t)BLOCK_SZ * NBLOCKS);
	close(fd);
	return 0;
}

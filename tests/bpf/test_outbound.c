// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Runs crafted frames through the outbound TC egress program with
 * BPF_PROG_TEST_RUN and asserts verdict, counters, records and events. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "outbound.skel.h"
#include "mxguard.h"
#include "check.h"
#include "frame.h"
#include "outbound.h"

/* What the program returns: TC_ACT_UNSPEC (tcx "next": pass on) or drop. */
#define PASS TC_ACT_UNSPEC
#define SHOT TC_ACT_SHOT

#define SYN FRAME_TCP_SYN
#define ACK FRAME_TCP_ACK

/* Our server and its destinations; 198.18.0.0/15 and 2001:db8::/32 only. */
#define SRV4 "198.18.0.1"
#define SRV4B "198.18.0.2"
#define SRV6 "2001:db8::1"

struct env {
	struct outbound *skel;
	int prog, c4, cfg, allow, total, dst, src, stats;
	struct ring_buffer *rb;
	int ncpus;
	__u64 *percpu;
	struct mxo_cfg c;
	int ev[MXO_EV_LOCAL_END + 1]; /* events drained, by type */
};

static struct env E;

static const char *nm(const char *base, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *nm(const char *base, const char *fmt, ...)
{
	static char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s: ", base);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	return buf;
}

static void fail_setup(const char *name, const char *what, int err)
{
	CHECK_EQ(nm(name, "setup %s", what), 0, err);
}

static int addr_from(const char *txt, union mxg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET6, txt, a->b) == 1)
		return 0;
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	return inet_pton(AF_INET, txt, &a->b[12]) == 1 ? 0 : -EINVAL;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct mxo_event *e = data;

	(void)ctx;
	if (size >= sizeof(*e) && e->type <= MXO_EV_LOCAL_END)
		E.ev[e->type]++;
	return 0;
}

static int map_clear(int fd)
{
	__u8 key[64];
	int err;

	while (!(err = bpf_map_get_next_key(fd, NULL, key))) {
		err = bpf_map_delete_elem(fd, key);
		if (err)
			return err;
	}
	return err == -ENOENT ? 0 : err;
}

static int cfg_write(void)
{
	__u32 zero = 0;

	return bpf_map_update_elem(E.cfg, &zero, &E.c, BPF_ANY);
}

/* Fresh state: no records, no allowlist, host total zero, default config
 * with warn and cap as given (n per minute, 0 = off), events drained.
 * Counters are not reset: cases assert deltas. */
static int env_reset(__u32 warn, __u32 cap)
{
	struct mxo_total t = { 0 };
	__u32 zero = 0;
	int err;

	err = map_clear(E.allow);
	if (!err)
		err = map_clear(E.dst);
	if (!err)
		err = map_clear(E.src);
	if (!err)
		err = bpf_map_update_elem(E.total, &zero, &t, BPF_ANY);
	if (err)
		return err;
	ring_buffer__consume(E.rb);
	memset(E.ev, 0, sizeof(E.ev));
	mxo_cfg_defaults(&E.c);
	mxo_limit_set(&E.c.warn, warn, 60, 0);
	mxo_limit_set(&E.c.cap, cap, 60, 0);
	return cfg_write();
}

static int env_open(void)
{
	E.skel = outbound__open_and_load();
	if (!E.skel)
		return -errno ? -errno : -EINVAL;
	E.prog = bpf_program__fd(E.skel->progs.mxo_egress);
	E.c4 = bpf_program__fd(E.skel->progs.mxo_connect4);
	E.cfg = bpf_map__fd(E.skel->maps.mxo_cfg);
	E.allow = bpf_map__fd(E.skel->maps.mxo_allow);
	E.total = bpf_map__fd(E.skel->maps.mxo_total);
	E.dst = bpf_map__fd(E.skel->maps.mxo_dst);
	E.src = bpf_map__fd(E.skel->maps.mxo_src);
	E.stats = bpf_map__fd(E.skel->maps.mxo_stats);
	E.rb = ring_buffer__new(bpf_map__fd(E.skel->maps.mxo_events), on_event,
				NULL, NULL);
	if (!E.rb)
		return -errno ? -errno : -EINVAL;
	E.ncpus = libbpf_num_possible_cpus();
	if (E.ncpus <= 0)
		return E.ncpus ? E.ncpus : -EINVAL;
	E.percpu = calloc(E.ncpus, sizeof(__u64));
	return E.percpu ? 0 : -ENOMEM;
}

static void env_close(void)
{
	ring_buffer__free(E.rb);
	outbound__destroy(E.skel);
	free(E.percpu);
}

static int stats_read(__u64 *out)
{
	__u32 k;
	int i, err;

	for (k = 0; k < MXO_NCOUNTERS; k++) {
		err = bpf_map_lookup_elem(E.stats, &k, E.percpu);
		if (err)
			return err;
		out[k] = 0;
		for (i = 0; i < E.ncpus; i++)
			out[k] += E.percpu[i];
	}
	return 0;
}

static const char *counter_name(__u32 idx)
{
	static char buf[48];

	if (idx >= MXO_MISC_IDX(0))
		snprintf(buf, sizeof(buf), "misc/%u", idx - MXO_MISC_IDX(0));
	else if (idx >= MXO_LO_IDX(0, 0))
		snprintf(buf, sizeof(buf), "local/%s/%s",
			 mxo_port_name((idx - MXO_LO_IDX(0, 0)) / MXO_LV_MAX),
			 mxo_lverdict_name((idx - MXO_LO_IDX(0, 0)) % MXO_LV_MAX));
	else
		snprintf(buf, sizeof(buf), "egress/%s/%s",
			 mxo_port_name(idx / MXO_V_MAX),
			 mxo_verdict_name(idx % MXO_V_MAX));
	return buf;
}

struct want {
	__u32 idx;
	__u64 n;
};

/* Every wanted counter moved by exactly n, and no other counter moved. */
static void check_counters(const char *name, const __u64 *before,
			   const __u64 *after, const struct want *w, int nw)
{
	__u32 k;
	int i, bad = 0;

	for (i = 0; i < nw; i++)
		CHECK_EQ(nm(name, "counter %s", counter_name(w[i].idx)),
			 w[i].n, after[w[i].idx] - before[w[i].idx]);
	for (k = 0; k < MXO_NCOUNTERS; k++) {
		int wanted = 0;

		for (i = 0; i < nw; i++)
			wanted |= w[i].idx == k;
		if (wanted || after[k] == before[k])
			continue;
		printf("# %s: counter %s moved by %lld\n", name, counter_name(k),
		       (long long)(after[k] - before[k]));
		bad++;
	}
	CHECK(nm(name, "no other counter moved"), bad == 0);
}

static int run_spec(const struct frame_spec *s, int *ret)
{
	__u8 buf[FRAME_MAX];
	int len;

	len = frame_build(s, buf, sizeof(buf), NULL);
	if (len < 0)
		return len;
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
			    .data_size_in = len, .repeat = 1);
		int err = bpf_prog_test_run_opts(E.prog, &o);

		*ret = (int)o.retval;
		return err;
	}
}

/* A TCP segment from src to dst:dport with the given flags. */
static int send_tcp(const char *src, const char *dst, __u16 dport, __u8 flags,
		    int *ret)
{
	struct frame_spec s = {
		.l3 = strchr(src, ':') ? FRAME_IPV6 : FRAME_IPV4,
		.src = src, .dst = dst, .dport = dport, .tcp_flags = flags,
	};

	return run_spec(&s, ret);
}

static int rec_get(int fd, const char *txt, unsigned plen, struct mxo_rec *r)
{
	union mxg_addr a;
	int v4 = !strchr(txt, ':'), err;

	err = addr_from(txt, &a);
	if (err)
		return err;
	/* Zero the host bits: plen as users write it. */
	if (v4) {
		__u32 m = plen ? htonl(~0u << (32 - plen)) : 0;

		a.w[3] &= m;
	} else {
		unsigned i;

		for (i = plen; i < 128; i++)
			a.b[i / 8] &= ~(0x80 >> (i % 8));
	}
	return bpf_map_lookup_elem(fd, &a, r);
}

static void check_rec(const char *name, int fd, const char *what,
		      const char *txt, unsigned plen, __u64 syns, __u64 drops)
{
	struct mxo_rec r;
	int err = rec_get(fd, txt, plen, &r);

	CHECK_EQ(nm(name, "%s record %s/%u exists", what, txt, plen), 0, err);
	if (err)
		return;
	CHECK_EQ(nm(name, "%s %s/%u syns", what, txt, plen), syns, r.syns);
	CHECK_EQ(nm(name, "%s %s/%u drops", what, txt, plen), drops, r.drops);
	CHECK(nm(name, "%s %s/%u per-minute window counted", what, txt, plen),
	      r.win.cur + r.win.prev >= syns);
}

static int map_count(int fd)
{
	__u8 key[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		n++;
		memcpy(key, next, sizeof(key));
		prev = key;
	}
	return n;
}

static int total_get(struct mxo_total *t)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(E.total, &zero, t);
}

static int allow_add(const char *txt, unsigned plen)
{
	struct mxg_lpm_key k;
	struct mxg_allow_val v = { 0 };
	int err = addr_from(txt, &k.addr);

	if (err)
		return err;
	k.prefixlen = strchr(txt, ':') ? plen : 96 + plen;
	snprintf(v.comment, sizeof(v.comment), "smarthost");
	return bpf_map_update_elem(E.allow, &k, &v, BPF_ANY);
}

/* ---- cases ------------------------------------------------------------------ */

/* SYNs to 25 and 587 from two local addresses to two /24s. */
static void test_count_v4(void)
{
	static const char *name = "count__v4_per_24_and_per_source";
	static const struct {
		const char *src, *dst;
		__u16 port;
		int n;
	} sends[] = {
		{ SRV4, "198.19.5.10", 25, 3 },
		{ SRV4, "198.19.5.77", 25, 2 },
		{ SRV4B, "198.19.6.1", 587, 1 },
		{ SRV4B, "198.19.6.200", 465, 1 },
	};
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	struct mxo_total t;
	size_t i;
	int k, ret, err, bad = 0;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(0, 0);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < sizeof(sends) / sizeof(sends[0]); i++)
		for (k = 0; k < sends[i].n; k++) {
			err = send_tcp(sends[i].src, sends[i].dst, sends[i].port, SYN, &ret);
			if (err) {
				fail_setup(name, "test run", err);
				return;
			}
			bad += ret != PASS;
		}
	CHECK_EQ(nm(name, "every SYN passed (TC_ACT_UNSPEC)"), 0, bad);
	if (stats_read(after)) {
		fail_setup(name, "stats", -errno);
		return;
	}
	{
		const struct want w[] = {
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_PASS), 5 },
			{ MXO_EG_IDX(MXO_PORT_SUBMISSION, MXO_V_PASS), 1 },
			{ MXO_EG_IDX(MXO_PORT_SUBMISSIONS, MXO_V_PASS), 1 },
		};

		check_counters(name, before, after, w, 3);
	}
	check_rec(name, E.dst, "dst", "198.19.5.0", 24, 5, 0);
	check_rec(name, E.dst, "dst", "198.19.6.0", 24, 2, 0);
	CHECK_EQ(nm(name, "two destination networks"), 2, map_count(E.dst));
	check_rec(name, E.src, "src", SRV4, 32, 5, 0);
	check_rec(name, E.src, "src", SRV4B, 32, 2, 0);
	CHECK_EQ(nm(name, "two sources"), 2, map_count(E.src));
	err = total_get(&t);
	CHECK_EQ(nm(name, "total readable"), 0, err);
	CHECK_EQ(nm(name, "total syns"), 7, t.syns);
	CHECK_EQ(nm(name, "total window"), 7, t.win.cur + t.win.prev);
	CHECK_EQ(nm(name, "no warning at the default 300/min"), 0, t.warn_episodes);
}

/* IPv6 destinations are grouped by /48. */
static void test_count_v6(void)
{
	static const char *name = "count__v6_per_48";
	static const char *const dsts[] = {
		"2001:db8:5:1::10", "2001:db8:5:2::10", "2001:db8:5:ffff::1",
		"2001:db8:6::1",
	};
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	size_t i;
	int ret, err, bad = 0;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(0, 0);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		err = send_tcp(SRV6, dsts[i], 25, SYN, &ret);
		if (err) {
			fail_setup(name, "test run", err);
			return;
		}
		bad += ret != PASS;
	}
	CHECK_EQ(nm(name, "every SYN passed"), 0, bad);
	stats_read(after);
	{
		const struct want w[] = {
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_PASS), 4 },
		};

		check_counters(name, before, after, w, 1);
	}
	check_rec(name, E.dst, "dst", "2001:db8:5::", 48, 3, 0);
	check_rec(name, E.dst, "dst", "2001:db8:6::", 48, 1, 0);
	check_rec(name, E.src, "src", SRV6, 128, 4, 0);
}

/* Tags and options do not hide a SYN. */
static void test_count_shapes(void)
{
	static const char *name = "count__vlan_options_exthdr";
	struct frame_spec s[] = {
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.7.1", .dport = 25,
		  .tcp_flags = SYN, .vlans = 1 },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.7.2", .dport = 25,
		  .tcp_flags = SYN, .vlans = 2 },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.7.3", .dport = 25,
		  .tcp_flags = SYN, .ip_opts = 8, .tcp_opts = 20 },
		{ .l3 = FRAME_IPV6, .src = SRV6, .dst = "2001:db8:7::1", .dport = 25,
		  .tcp_flags = SYN, .n_ext = 2,
		  .ext = { { .type = FRAME_EXT_HOP }, { .type = FRAME_EXT_DST } } },
	};
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	size_t i;
	int ret, err, bad = 0;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(0, 0);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		err = run_spec(&s[i], &ret);
		if (err) {
			fail_setup(name, "test run", err);
			return;
		}
		bad += ret != PASS;
	}
	CHECK_EQ(nm(name, "every SYN passed"), 0, bad);
	stats_read(after);
	{
		const struct want w[] = {
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_PASS), 4 },
		};

		check_counters(name, before, after, w, 1);
	}
	check_rec(name, E.dst, "dst", "198.19.7.0", 24, 3, 0);
	check_rec(name, E.dst, "dst", "2001:db8:7::", 48, 1, 0);
}

/* Everything that is not a new outbound SMTP connection: passed, and not a
 * counter or record moves, even with a cap of 1/min. */
static void test_not_counted(void)
{
	static const char *name = "ignore__non_smtp_and_non_syn_pass_uncounted";
	struct frame_spec s[] = {
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 80, .tcp_flags = SYN },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 2525, .tcp_flags = SYN },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25, .tcp_flags = SYN | ACK },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25, .tcp_flags = ACK },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25, .tcp_flags = FRAME_TCP_RST },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25, .tcp_flags = FRAME_TCP_FIN | ACK },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25, .l4 = FRAME_UDP },
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .l4 = FRAME_ICMP },
		{ .l3 = FRAME_IPV6, .src = SRV6, .dst = "2001:db8:8::1", .dport = 443, .tcp_flags = SYN },
		{ .l3 = FRAME_IPV6, .src = SRV6, .dst = "2001:db8:8::1", .dport = 587, .tcp_flags = ACK },
		{ .l3 = FRAME_ARP },
		/* A later fragment carries no TCP header to trust. */
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25,
		  .tcp_flags = SYN, .frag = 8 },
		/* Cut inside the TCP header. */
		{ .l3 = FRAME_IPV4, .src = SRV4, .dst = "198.19.8.1", .dport = 25,
		  .tcp_flags = SYN, .trunc = FRAME_SET(10), .trunc_from = FRAME_AT_L4 },
	};
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	struct mxo_total t;
	size_t i;
	int ret, err;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(1, 1);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		for (int k = 0; k < 3; k++) {
			err = run_spec(&s[i], &ret);
			if (err) {
				fail_setup(name, nm("frame", "%zu", i), err);
				return;
			}
			if (k == 0)
				CHECK_EQ(nm(name, "frame %zu passes", i), PASS, ret);
		}
	}
	stats_read(after);
	check_counters(name, before, after, NULL, 0);
	CHECK_EQ(nm(name, "no destination record"), 0, map_count(E.dst));
	CHECK_EQ(nm(name, "no source record"), 0, map_count(E.src));
	total_get(&t);
	CHECK_EQ(nm(name, "total untouched"), 0, t.syns);
}

/* A config slot never written by the controller: fail open, count nothing. */
static void test_uninitialised(void)
{
	static const char *name = "config__uninitialised_passes_uncounted";
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	int ret, err, i, bad = 0;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(1, 1);
	if (!err) {
		E.c.magic = 0;
		err = cfg_write();
	}
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < 5; i++) {
		err = send_tcp(SRV4, "198.19.9.1", 25, SYN, &ret);
		if (err) {
			fail_setup(name, "test run", err);
			return;
		}
		bad += ret != PASS;
	}
	CHECK_EQ(nm(name, "every SYN passed"), 0, bad);
	stats_read(after);
	check_counters(name, before, after, NULL, 0);
	CHECK_EQ(nm(name, "no destination record"), 0, map_count(E.dst));
}

/* Over the cap: dropped, counted per destination and source, one event. */
static void test_cap(void)
{
	static const char *name = "cap__drops_over_cap_allowlisted_passes";
	/* 60/min: burst 10 (MXO_BURST_S of the rate). Frames run within a
	 * few ms, far below the 1 s a token takes to come back. */
	const int burst = 60 * MXO_BURST_S / 60, n = 25;
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	int ret, err, i, passed = 0, dropped = 0, other = 0, apass = 0;
	struct mxg_allow_val av;
	struct mxg_lpm_key ak;
	struct mxo_total t;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(0, 60);
	if (!err)
		err = allow_add("198.19.20.0", 24);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < n; i++) {
		err = send_tcp(SRV4, "198.19.10.10", 25, SYN, &ret);
		if (!err && i >= burst) {
			/* Interleaved: the smarthost, while the cap is dry. */
			int aret;

			err = send_tcp(SRV4, "198.19.20.5", 25, SYN, &aret);
			apass += aret == PASS;
		}
		if (err) {
			fail_setup(name, "test run", err);
			return;
		}
		if (ret == PASS)
			passed++;
		else if (ret == SHOT)
			dropped++;
		else
			other++;
	}
	CHECK_EQ(nm(name, "the burst passes"), burst, passed);
	CHECK_EQ(nm(name, "the rest is dropped (TC_ACT_SHOT)"), n - burst, dropped);
	CHECK_EQ(nm(name, "no other verdict"), 0, other);
	CHECK_EQ(nm(name, "allowlisted destination passes over the cap"), n - burst, apass);
	stats_read(after);
	{
		const struct want w[] = {
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_PASS), burst },
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_CAP), n - burst },
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_ALLOW), n - burst },
		};

		check_counters(name, before, after, w, 3);
	}
	check_rec(name, E.dst, "dst", "198.19.10.0", 24, n, n - burst);
	check_rec(name, E.dst, "dst", "198.19.20.0", 24, n - burst, 0);
	check_rec(name, E.src, "src", SRV4, 32, n + n - burst, n - burst);
	total_get(&t);
	CHECK_EQ(nm(name, "one cap episode"), 1, t.cap_episodes);
	CHECK(nm(name, "cap flag set"), t.flags & MXO_TF_CAP);
	CHECK(nm(name, "cap episode start stamped"), t.cap_since_ns != 0);
	ring_buffer__consume(E.rb);
	CHECK_EQ(nm(name, "one cap_start event"), 1, E.ev[MXO_EV_CAP_START]);
	CHECK_EQ(nm(name, "no warn event (warn off)"), 0, E.ev[MXO_EV_WARN_START]);
	memset(&ak, 0, sizeof(ak));
	addr_from("198.19.20.0", &ak.addr);
	ak.prefixlen = 96 + 24;
	err = bpf_map_lookup_elem(E.allow, &ak, &av);
	CHECK_EQ(nm(name, "allow entry readable"), 0, err);
	CHECK_EQ(nm(name, "allow entry hits"), n - burst, av.hits);
}

/* Over the warn rate: one warn_start event, nothing dropped. */
static void test_warn(void)
{
	static const char *name = "warn__event_once_nothing_dropped";
	const int burst = 60 * MXO_BURST_S / 60, n = 30;
	__u64 before[MXO_NCOUNTERS], after[MXO_NCOUNTERS];
	int ret, err, i, bad = 0;
	struct mxo_total t;

	if (!CHECK_SELECTED(name))
		return;
	err = env_reset(60, 0);
	if (!err)
		err = stats_read(before);
	if (err) {
		fail_setup(name, "reset", err);
		return;
	}
	for (i = 0; i < n; i++) {
		/* Spread over destinations and ports: the total is what counts. */
		char dst[32];

		snprintf(dst, sizeof(dst), "198.19.%d.1", 30 + i % 5);
		err = send_tcp(SRV4, dst, i % 2 ? 25 : 587, SYN, &ret);
		if (err) {
			fail_setup(name, "test run", err);
			return;
		}
		bad += ret != PASS;
	}
	CHECK_EQ(nm(name, "every SYN passed"), 0, bad);
	stats_read(after);
	{
		const struct want w[] = {
			{ MXO_EG_IDX(MXO_PORT_SMTP, MXO_V_PASS), n / 2 },
			{ MXO_EG_IDX(MXO_PORT_SUBMISSION, MXO_V_PASS), n / 2 },
			{ MXO_MISC_IDX(MXO_C_WARN_OVER), n - burst },
		};

		check_counters(name, before, after, w, 3);
	}
	total_get(&t);
	CHECK_EQ(nm(name, "one warn episode"), 1, t.warn_episodes);
	CHECK(nm(name, "warn flag set"), t.flags & MXO_TF_WARN);
	CHECK_EQ(nm(name, "no cap episode"), 0, t.cap_episodes);
	ring_buffer__consume(E.rb);
	CHECK_EQ(nm(name, "one warn_start event"), 1, E.ev[MXO_EV_WARN_START]);
	CHECK_EQ(nm(name, "no cap_start event"), 0, E.ev[MXO_EV_CAP_START]);
	CHECK_EQ(nm(name, "5 destination networks"), 5, map_count(E.dst));
}

/* The cgroup connect programs cannot be run by BPF_PROG_TEST_RUN; say so
 * from the kernel's own answer, and leave them to tests/e2e. */
static void test_cgroup_not_runnable(void)
{
	static const char *name = "local__connect4_test_run";
	__u8 ctx[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));
	int err;

	if (!CHECK_SELECTED(name))
		return;
	err = bpf_prog_test_run_opts(E.c4, &o);
	/* 524 is the kernel's ENOTSUPP, which libc has no text for. */
	if (err)
		printf("SKIP %s: BPF_PROG_TEST_RUN refuses cgroup/connect4 programs (%s); covered by tests/e2e/test_outbound.sh\n",
		       name, err == -524 ? "ENOTSUPP" : strerror(-err));
	else
		CHECK(nm(name, "the kernel ran a cgroup program: extend this test"), 0);
}

int main(int argc, char **argv)
{
	int err;

	if (argc > 1)
		check_filter = argv[1];
	err = env_open();
	if (err) {
		fail_setup("outbound", "load skeleton (root?)", err);
		return CHECK_DONE();
	}
	test_count_v4();
	test_count_v6();
	test_count_shapes();
	test_not_counted();
	test_uninitialised();
	test_cap();
	test_warn();
	test_cgroup_not_runnable();
	env_close();
	printf("# %d checks passed, %d failed\n", check_passed, check_failed);
	return CHECK_DONE();
}

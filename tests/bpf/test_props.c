// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Property test: over a million generated frames through BPF_PROG_TEST_RUN,
 * the program passes everything that is not well-formed TCP to a protected
 * port, never drops an allowlisted source, and counts every frame once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mxguard.h" /* before the skeleton: its config is a struct mxg_cfg */
#include "mxguard.skel.h"
#include "cfg.h"
#include "check.h"
#include "frame.h"
#include "lists.h"

#define DEFAULT_FRAMES 1200000
#define MIN_FRAMES 1000000
#define EXAMPLES 2 /* failing frames shown per family and property */

/*
 * The model, written from DESIGN.md rather than from bpf/parse.h. Ports and
 * tag types are listed here again so that a wrong table in the program or in
 * user/ cannot agree with itself.
 */
static const __u16 protected_ports[] = { 25, 465, 587, 110, 995, 143, 993 };

#define MAX_TAGS 2  /* VLAN tags the design parses */
#define MAX_EXT 8   /* IPv6 extension headers walked (parse.h bound) */

/* ---- addresses: what the maps hold, and a classifier of our own -------- */

enum src_class { C_NEUTRAL = 0, C_ALLOWED, C_BLOCKED };

struct pfx {
	const char *net;
	unsigned plen; /* as users write it */
};

/* Partner ranges, some inside blocked ranges (allow must win there). */
static const struct pfx allow_list[] = {
	{ "198.18.50.0", 24 },          /* a partner, nothing blocked */
	{ "198.19.130.0", 24 },         /* inside blocked 198.19.128.0/17 */
	{ "198.19.200.7", 32 },         /* inside it, and blocked exactly */
	{ "198.18.77.5", 32 },          /* blocked exactly */
	{ "2001:db8:50::", 48 },
	{ "2001:db8:bad:1::", 64 },     /* inside blocked 2001:db8:bad::/48 */
	{ "2001:db8:bad:2::7", 128 },   /* inside it, and blocked exactly */
	{ "2001:db8:77::5", 128 },      /* blocked exactly */
};

static const struct pfx block_trie[] = {
	{ "198.19.128.0", 17 },
	{ "198.18.99.0", 24 },
	{ "2001:db8:bad::", 48 },
	{ "2001:db8:99::", 48 },
};

/* Exact blocked addresses (hash): these plus 198.18.77.1-16 and
 * 2001:db8:77::1-16. */
static const char *const block_exact[] = { "198.19.200.7", "2001:db8:bad:2::7" };
#define EXACT_RUN 16

struct net {
	union mxg_addr a;
	unsigned plen; /* in the 128-bit space */
};

static struct net allow_nets[sizeof(allow_list) / sizeof(allow_list[0])];
static struct net block_nets[sizeof(block_trie) / sizeof(block_trie[0]) +
			     2 + 2 * EXACT_RUN];
static unsigned n_block_nets;

static int addr_from(const char *txt, union mxg_addr *a, int *v6)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET6, txt, a->b) == 1) {
		*v6 = 1;
		return 0;
	}
	*v6 = 0;
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	return inet_pton(AF_INET, txt, &a->b[12]) == 1 ? 0 : -EINVAL;
}

static int net_from(const char *txt, unsigned plen, struct net *n)
{
	int v6, err = addr_from(txt, &n->a, &v6);

	n->plen = v6 ? plen : 96 + plen;
	return err;
}

static int in_net(const union mxg_addr *a, const struct net *n)
{
	unsigned i;

	for (i = 0; i < n->plen; i++)
		if ((a->b[i / 8] ^ n->a.b[i / 8]) & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

static int class_of(const union mxg_addr *a)
{
	unsigned i;

	for (i = 0; i < sizeof(allow_nets) / sizeof(allow_nets[0]); i++)
		if (in_net(a, &allow_nets[i]))
			return C_ALLOWED;
	for (i = 0; i < n_block_nets; i++)
		if (in_net(a, &block_nets[i]))
			return C_BLOCKED;
	return C_NEUTRAL;
}

/* ---- PRNG: splitmix64, seeded and printed -------------------------------- */

static __u64 rng_state;

static __u64 rnd(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rn(unsigned n) /* 0..n-1 */
{
	return (unsigned)(rnd() % n);
}

static int chance(unsigned pct)
{
	return rn(100) < pct;
}

/* ---- the reference classifier over bytes --------------------------------- */

struct truth {
	int wf;             /* well-formed TCP to a protected port */
	union mxg_addr src;
	__u16 dport;
	__u8 flags;
	const char *why;    /* !wf: the rule broken */
};

static unsigned be16(const __u8 *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int is_protected(unsigned port)
{
	unsigned i;

	for (i = 0; i < sizeof(protected_ports) / sizeof(protected_ports[0]); i++)
		if (protected_ports[i] == port)
			return 1;
	return 0;
}

static int is_tag(unsigned et)
{
	return et == 0x8100 || et == 0x88a8;
}

/* Not well-formed, and the first rule that says so (for the report). */
static int no(struct truth *t, const char *why)
{
	t->why = why;
	return 0;
}

/*
 * Well-formed means every length field is consistent with the frame: the
 * IPv4 total length or IPv6 payload length fits in the frame, and every
 * header up to the end of the TCP header (options included) lies inside the
 * IP datagram they announce. Anything else is malformed and must pass.
 */
static int ref_classify(const __u8 *f, int len, struct truth *t)
{
	int off = 14, tags = 0, l4, end, doff;
	unsigned et;

	memset(t, 0, sizeof(*t));
	if (len < 14)
		return no(t, "runt");
	et = be16(f + 12);
	while (is_tag(et)) {
		if (tags++ == MAX_TAGS)
			return no(t, "vlan_too_many_tags");
		if (off + 4 > len)
			return no(t, "vlan_tag_truncated");
		et = be16(f + off + 2);
		off += 4;
	}
	if (et == 0x0800) {
		int ihl, tot;

		if (off + 20 > len)
			return no(t, "ipv4_header_truncated");
		if (f[off] >> 4 != 4)
			return no(t, "ipv4_version");
		ihl = (f[off] & 0xf) * 4;
		tot = be16(f + off + 2);
		if (ihl < 20)
			return no(t, "ipv4_ihl_below_5");
		if (tot < ihl)
			return no(t, "ipv4_tot_len_below_ihl");
		if (off + tot > len)
			return no(t, "ipv4_tot_len_past_frame");
		if (f[off + 9] != 6)
			return no(t, "ipv4_not_tcp");
		if (be16(f + off + 6) & 0x1fff)
			return no(t, "ipv4_later_fragment");
		t->src.b[10] = t->src.b[11] = 0xff;
		memcpy(&t->src.b[12], f + off + 12, 4);
		l4 = off + ihl;
		end = off + tot;
	} else if (et == 0x86dd) {
		int n, nh;

		if (off + 40 > len)
			return no(t, "ipv6_header_truncated");
		if (f[off] >> 4 != 6)
			return no(t, "ipv6_version");
		end = off + 40 + (int)be16(f + off + 4);
		if (end > len)
			return no(t, "ipv6_payload_len_past_frame");
		nh = f[off + 6];
		l4 = off + 40;
		for (n = 0; nh != 6; n++) {
			int hl;

			if (n == MAX_EXT)
				return no(t, "ipv6_too_many_ext_headers");
			if (l4 + 2 > end)
				return no(t, "ipv6_ext_past_payload_len");
			if (nh == 0 || nh == 43 || nh == 60)
				hl = (f[l4 + 1] + 1) * 8;
			else if (nh == 51)
				hl = (f[l4 + 1] + 2) * 4;
			else if (nh == 44)
				hl = 8;
			else
				return no(t, "ipv6_not_tcp");
			if (l4 + hl > end)
				return no(t, "ipv6_ext_past_payload_len");
			/* Only the first fragment carries the TCP header. */
			if (nh == 44 && (be16(f + l4 + 2) & 0xfff8))
				return no(t, "ipv6_later_fragment");
			nh = f[l4];
			l4 += hl;
		}
		memcpy(t->src.b, f + off + 8, 16);
	} else {
		return no(t, "not_ip");
	}
	if (l4 + 20 > end)
		return no(t, et == 0x0800 ? "ipv4_tcp_past_tot_len" :
					    "ipv6_tcp_past_payload_len");
	doff = (f[l4 + 12] >> 4) * 4;
	if (doff < 20)
		return no(t, "tcp_doff_below_5");
	if (l4 + doff > end)
		return no(t, et == 0x0800 ? "ipv4_tcp_options_past_tot_len" :
					    "ipv6_tcp_options_past_payload_len");
	t->dport = be16(f + l4 + 2);
	t->flags = f[l4 + 13];
	if (!is_protected(t->dport))
		return no(t, "tcp_other_port");
	t->wf = 1;
	return 1;
}

/* ---- the generator's own knowledge --------------------------------------- */

static int knob(int v, int computed)
{
	return (v & FRAME_SET_BIT) ? (v & ~FRAME_SET_BIT) : computed;
}

/*
 * "Well-formed TCP to a protected port" from the spec a frame was built from
 * and the bytes kept of it: 1 or 0, or -1 where a knob makes the bytes at the
 * parsed offsets something the spec does not describe (the reference
 * classifier alone then decides).
 */
static int know_wf(const struct frame_spec *s, const struct frame_info *fi,
		   int len)
{
	int v6 = s->l3 == FRAME_IPV6, i, doff, tot;

	if (s->l3 != FRAME_IPV4 && s->l3 != FRAME_IPV6)
		return s->ethertype ? -1 : 0;
	for (i = 0; i < s->vlans; i++)
		if (s->vlan_tpid[i] && !is_tag(s->vlan_tpid[i]))
			return 0; /* an unknown tag type is the ethertype */
	if (s->vlans > MAX_TAGS)
		return 0;
	if (s->ethertype && is_tag(s->ethertype))
		return -1; /* the IP header read as a tag */
	if (s->ethertype && s->ethertype != (v6 ? 0x86dd : 0x0800))
		return 0;
	if ((s->version & FRAME_SET_BIT) && knob(s->version, 0) != (v6 ? 6 : 4))
		return 0;
	if (s->l4 != FRAME_TCP)
		return (s->proto & FRAME_SET_BIT) && knob(s->proto, 0) == 6 ? -1 : 0;
	if ((s->proto & FRAME_SET_BIT) && knob(s->proto, 0) != 6)
		return 0;
	if (!is_protected(s->dport))
		return 0;
	doff = knob(s->doff, 5 + s->tcp_opts / 4) & 0xf;
	if (doff < 5)
		return 0;
	if (!v6) {
		int ihl = knob(s->ihl, 5 + s->ip_opts / 4) & 0xf;

		if ((s->ihl & FRAME_SET_BIT) && ihl >= 5 &&
		    ihl != 5 + s->ip_opts / 4)
			return -1; /* TCP read from where the spec put none */
		if (ihl < 5 || (s->frag & 0x1fff))
			return 0;
		tot = knob(s->tot_len, fi->ip_len + s->len_adj) & 0xffff;
		return tot >= ihl * 4 + doff * 4 && fi->l3_off + tot <= len;
	}
	if (s->n_ext > MAX_EXT)
		return 0;
	for (i = 0; i < s->n_ext; i++)
		if (s->ext[i].type == FRAME_EXT_FRAG && (s->ext[i].frag & 0xfff8))
			return 0;
	tot = 40 + (knob(s->tot_len, fi->ip_len - 40 + s->len_adj) & 0xffff);
	return tot >= fi->l4_off - fi->l3_off + doff * 4 &&
	       fi->l3_off + tot <= len;
}

/* ---- frame families -------------------------------------------------------- */

enum fam {
	F_TRUNC, F_IHL, F_TOTLEN, F_FRAG4, F_EXT6, F_VLAN, F_DOFF, F_MIXED,
	F_RANDOM, F_MUTATE, F_MAX
};

static const char *const fam_names[F_MAX] = {
	"truncations", "ipv4_ihl", "bogus_lengths", "ipv4_fragments",
	"ipv6_ext_chains", "vlan_stacks", "tcp_doff", "mixed_knobs",
	"random_bytes", "mutated_syns",
};

/* What can go wrong with one frame; counted per family. */
enum prop {
	P_MALFORMED_PASS, /* not well-formed: XDP_PASS */
	P_ALLOW_NEVER_DROP, /* allowlisted source: never XDP_DROP */
	P_VERDICT,        /* well-formed: the verdict the design orders */
	P_MODEL,          /* generator knowledge == reference classifier */
	P_MAX
};

static const char *const prop_names[P_MAX] = {
	"malformed_always_pass", "allowlisted_never_dropped",
	"wellformed_verdict_as_designed", "model_agrees_with_generator",
};

struct fam_stat {
	__u64 frames, wf, drops, unknown;
	__u64 bad[P_MAX];
	__u64 checked[P_MAX];
};

static struct fam_stat stats[F_MAX];

/* Malformed frames the program did not pass, by the rule they break. */
#define MAX_WHY 32
static struct {
	const char *why;
	__u64 n;
} bad_why[MAX_WHY];

static void count_why(const char *why)
{
	int i;

	for (i = 0; i < MAX_WHY && bad_why[i].why; i++)
		if (!strcmp(bad_why[i].why, why))
			break;
	if (i == MAX_WHY)
		return;
	bad_why[i].why = why;
	bad_why[i].n++;
}

struct env {
	struct mxguard *skel;
	int prog, cfg, allow, block_h, block_t, stats, lists;
	int ncpus;
	__u64 *percpu;
	struct mxg_cfg *c;
	__u32 mode;
	__u64 frames, drops;
};

static struct env E;

static const char *const mode_names[MXG_MODE_MAX] = {
	"enforce", "monitor", "lockdown",
};

static void fail_setup(const char *what, int err)
{
	char name[128];

	snprintf(name, sizeof(name), "props__setup: %s", what);
	CHECK_EQ(name, 0, err);
}

static void hexdump(const __u8 *b, int len)
{
	int i;

	for (i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n#   ", b[i]);
	printf("\n");
}

static void example(int fam, int prop, const __u8 *buf, int len,
		    const struct truth *t, int know, int cls, __u32 act,
		    const char *why)
{
	char src[INET6_ADDRSTRLEN] = "-";

	if (stats[fam].bad[prop] > EXAMPLES)
		return;
	if (t->wf)
		inet_ntop(AF_INET6, t->src.b, src, sizeof(src));
	printf("# %s/%s: frame %llu (%s mode), len %d: %s; reference wf=%d "
	       "src=%s dport=%u flags=0x%02x, generator wf=%d, class=%d, "
	       "action=%u; bytes:", fam_names[fam], prop_names[prop],
	       (unsigned long long)E.frames, mode_names[E.mode], len, why,
	       t->wf, src, t->dport, t->flags, know, cls, act);
	hexdump(buf, len);
}

static int run_one(const __u8 *frame, int len, __u32 *act)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(E.prog, &o);
	*act = o.retval;
	return err;
}

/*
 * Run one frame and judge it. know: the generator's verdict on
 * well-formedness (-1: none); gen_src: the source it used (NULL: none).
 */
static int judge(int fam, const __u8 *buf, int len, int know,
		 const union mxg_addr *gen_src)
{
	struct fam_stat *st = &stats[fam];
	int cls = -1, new_conn, err;
	struct truth t;
	__u32 act;

	ref_classify(buf, len, &t);
	err = run_one(buf, len, &act);
	if (err)
		return err;
	E.frames++;
	st->frames++;
	if (act == XDP_DROP) {
		E.drops++;
		st->drops++;
	}
	st->wf += t.wf;
	if (know < 0) {
		st->unknown++;
	} else {
		st->checked[P_MODEL]++;
		if (know != t.wf || (t.wf && gen_src &&
				     memcmp(gen_src, &t.src, sizeof(t.src)))) {
			st->bad[P_MODEL]++;
			example(fam, P_MODEL, buf, len, &t, know, cls, act,
				"generator and reference classifier disagree");
		}
	}

	/* An allowlisted source, by what was built or by what is in it. */
	if ((gen_src && class_of(gen_src) == C_ALLOWED) ||
	    (t.wf && class_of(&t.src) == C_ALLOWED)) {
		st->checked[P_ALLOW_NEVER_DROP]++;
		if (act == XDP_DROP) {
			st->bad[P_ALLOW_NEVER_DROP]++;
			example(fam, P_ALLOW_NEVER_DROP, buf, len, &t, know,
				C_ALLOWED, act, "allowlisted source dropped");
		}
	}

	if (!t.wf) {
		st->checked[P_MALFORMED_PASS]++;
		if (act != XDP_PASS) {
			st->bad[P_MALFORMED_PASS]++;
			count_why(t.why);
			example(fam, P_MALFORMED_PASS, buf, len, &t, know, cls,
				act, t.why);
		}
		return 0;
	}

	/* DESIGN.md's verdict order; only a new connection from a neutral
	 * source in enforce mode may go either way (its token bucket). */
	cls = class_of(&t.src);
	new_conn = (t.flags & (FRAME_TCP_SYN | FRAME_TCP_ACK)) == FRAME_TCP_SYN;
	st->checked[P_VERDICT]++;
	{
		int want; /* XDP_PASS, XDP_DROP, or -1 for either */

		if (cls == C_ALLOWED || E.mode == MXG_MODE_MONITOR)
			want = XDP_PASS;
		else if (cls == C_BLOCKED)
			want = XDP_DROP;
		else if (!new_conn)
			want = XDP_PASS;
		else if (E.mode == MXG_MODE_LOCKDOWN)
			want = XDP_DROP;
		else
			want = -1;
		if ((want >= 0 && act != (__u32)want) ||
		    (act != XDP_PASS && act != XDP_DROP)) {
			st->bad[P_VERDICT]++;
			example(fam, P_VERDICT, buf, len, &t, know, cls, act,
				want == XDP_DROP ? "expected XDP_DROP" :
						   "expected XDP_PASS");
		}
	}
	return 0;
}

/* ---- building frames ------------------------------------------------------- */

struct gen {
	struct frame_spec s;
	char src[INET6_ADDRSTRLEN];
	union mxg_addr src_a;
	__u8 buf[FRAME_MAX];
	struct frame_info fi;
	int len;
};

/* A source address: allowlisted (also inside blocked ranges), blocked, a few
 * hot neutral ones (they run into the limit) or any in the test ranges. */
static void pick_src(struct gen *g, int v6)
{
	__u8 a[16];
	unsigned r = rn(100), h = rn(256);
	int dummy;

	memset(a, 0, sizeof(a));
	if (!v6) {
		a[0] = 198;
		a[1] = 18;
		if (r < 12) {           /* allowed inside the blocked /17 */
			a[1] = 19; a[2] = 130; a[3] = h;
		} else if (r < 16) {    /* allowed, blocked exactly too */
			a[1] = 19; a[2] = 200; a[3] = 7;
		} else if (r < 20) {
			a[2] = 77; a[3] = 5;
		} else if (r < 28) {    /* a partner */
			a[2] = 50; a[3] = h;
		} else if (r < 42) {    /* blocked prefix (may hit an allowed /24) */
			a[1] = 19; a[2] = 128 + rn(128); a[3] = h;
		} else if (r < 48) {
			a[2] = 99; a[3] = h;
		} else if (r < 54) {    /* blocked exactly */
			a[2] = 77; a[3] = 1 + rn(EXACT_RUN);
		} else if (r < 70) {    /* hot neutral sources */
			a[2] = 1; a[3] = 1 + rn(16);
		} else {                /* anywhere in 198.18.0.0/15 */
			a[1] = 18 + rn(2); a[2] = rn(256); a[3] = h;
		}
		inet_ntop(AF_INET, a, g->src, sizeof(g->src));
	} else {
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		a[15] = h | 1;
		if (r < 12) {
			a[4] = 0x0b; a[5] = 0xad; a[7] = 1; a[14] = rn(256);
		} else if (r < 16) {
			a[4] = 0x0b; a[5] = 0xad; a[7] = 2; a[15] = 7;
		} else if (r < 20) {
			a[5] = 0x77; a[15] = 5;
		} else if (r < 28) {
			a[5] = 0x50; a[9] = rn(256);
		} else if (r < 42) {
			a[4] = 0x0b; a[5] = 0xad; a[6] = rn(256); a[7] = rn(256);
		} else if (r < 48) {
			a[5] = 0x99; a[8] = rn(256);
		} else if (r < 54) {
			a[5] = 0x77; a[15] = 1 + rn(EXACT_RUN);
		} else if (r < 70) {
			a[5] = 0x01; a[7] = 1 + rn(16); a[15] = 1;
		} else {
			unsigned i;

			for (i = 4; i < 16; i++)
				a[i] = rn(256);
		}
		inet_ntop(AF_INET6, a, g->src, sizeof(g->src));
	}
	addr_from(g->src, &g->src_a, &dummy);
}

static __u16 pick_port(void)
{
	unsigned np = sizeof(protected_ports) / sizeof(protected_ports[0]);

	if (chance(65))
		return protected_ports[rn(np)];
	return 1 + rn(65535); /* 0 would be the builder's default, 25 */
}

static __u8 pick_flags(void)
{
	unsigned r = rn(100);

	if (r < 60)
		return FRAME_TCP_SYN;
	if (r < 70)
		return FRAME_TCP_SYN | FRAME_TCP_ACK;
	if (r < 80)
		return FRAME_TCP_ACK;
	return rn(256);
}

static __u16 pick_tpid(void)
{
	unsigned r = rn(100);

	return r < 40 ? 0 : r < 70 ? 0x8100 : r < 95 ? 0x88a8 : 0x9100;
}

static void pick_ext(struct frame_ext *x, int allow_later_frag)
{
	static const __u8 types[] = { FRAME_EXT_HOP, FRAME_EXT_RT,
				      FRAME_EXT_DST, FRAME_EXT_AH,
				      FRAME_EXT_FRAG };

	memset(x, 0, sizeof(*x));
	x->type = types[rn(sizeof(types))];
	if (x->type == FRAME_EXT_FRAG)
		x->frag = FRAME_FRAG6(allow_later_frag && chance(30) ?
				      1 + rn(8191) : 0, chance(50));
	else if (x->type == FRAME_EXT_AH)
		x->hdrlen = chance(50) ? 0 : 1 + rn(8);
	else
		x->hdrlen = chance(60) ? 0 : rn(4);
}

/* A valid TCP segment of either family, mostly a SYN to a protected port,
 * with options, payload, padding, tags and extension headers at random. */
static void base_spec(struct gen *g, int v6)
{
	struct frame_spec *s = &g->s;
	int i;

	memset(s, 0, sizeof(*s));
	s->l3 = v6 ? FRAME_IPV6 : FRAME_IPV4;
	pick_src(g, v6);
	s->src = g->src;
	s->dst = v6 ? "2001:db8::1" : "198.18.0.1";
	s->dport = pick_port();
	s->tcp_flags = pick_flags();
	s->vlans = rn(MAX_TAGS + 1);
	for (i = 0; i < s->vlans; i++)
		s->vlan_tpid[i] = chance(90) ? (chance(50) ? 0 : 0x8100) : 0x88a8;
	if (!v6 && chance(30))
		s->ip_opts = 4 * rn(11);
	if (chance(50))
		s->tcp_opts = 4 * rn(11);
	if (chance(50))
		s->payload = rn(65);
	if (chance(25))
		s->pad = rn(24);
	if (v6 && chance(40)) {
		s->n_ext = 1 + rn(3);
		for (i = 0; i < s->n_ext; i++)
			pick_ext(&s->ext[i], 0);
	}
}

static int build(struct gen *g)
{
	g->len = frame_build(&g->s, g->buf, sizeof(g->buf), &g->fi);
	return g->len;
}

/* Build and judge; a spec the builder refuses is skipped (not counted). */
static int emit(int fam, struct gen *g)
{
	if (build(g) < 14)
		return 0;
	return judge(fam, g->buf, g->len, know_wf(&g->s, &g->fi, g->len),
		     &g->src_a);
}

static int fam_trunc(void)
{
	struct gen g;
	int n, err;

	base_spec(&g, chance(50));
	g.s.tcp_flags = FRAME_TCP_SYN;
	if (chance(70))
		g.s.dport = protected_ports[rn(7)];
	if (build(&g) < 14)
		return 0;
	for (n = 14; n <= g.len; n++) {
		err = judge(F_TRUNC, g.buf, n, know_wf(&g.s, &g.fi, n),
			    &g.src_a);
		if (err)
			return err;
	}
	return 0;
}

static int fam_ihl(void)
{
	struct gen g;
	int ihl, err;

	base_spec(&g, 0);
	for (ihl = 0; ihl <= 15; ihl++) {
		if (ihl < 5) {
			g.s.ip_opts = 0;
			g.s.ihl = FRAME_SET(ihl);
		} else {
			g.s.ip_opts = (ihl - 5) * 4;
			g.s.ihl = chance(20) ? FRAME_SET(rn(16)) : 0;
		}
		err = emit(F_IHL, &g);
		if (err)
			return err;
	}
	return 0;
}

static int fam_totlen(void)
{
	struct gen g;
	int i, err, computed;

	base_spec(&g, chance(50));
	if (build(&g) < 14)
		return 0;
	computed = g.fi.ip_len - (g.s.l3 == FRAME_IPV6 ? 40 : 0);
	for (i = 0; i < 16; i++) {
		unsigned r = rn(100);

		g.s.len_adj = 0;
		g.s.tot_len = 0;
		if (r < 20)
			g.s.tot_len = FRAME_SET(rn(65536));
		else if (r < 70)
			g.s.tot_len = FRAME_SET((computed + (int)rn(97) - 48) & 0xffff);
		else
			g.s.len_adj = (int)rn(81) - 40;
		if (chance(30))
			g.s.pad = rn(64);
		err = emit(F_TOTLEN, &g);
		if (err)
			return err;
	}
	return 0;
}

static int fam_frag4(void)
{
	static const __u16 flags[] = { 0, FRAME_MF, FRAME_DF, FRAME_MF | 0x8000 };
	struct gen g;
	int i, err;

	base_spec(&g, 0);
	for (i = 0; i < 8; i++) {
		g.s.frag = flags[rn(4)] | (i < 4 ? 0 : 1 + rn(0x1fff));
		err = emit(F_FRAG4, &g);
		if (err)
			return err;
	}
	return 0;
}

static int fam_ext6(void)
{
	struct gen g;
	int n, i, err;

	base_spec(&g, 1);
	for (n = 0; n <= FRAME_MAX_EXT; n++) {
		g.s.n_ext = n;
		for (i = 0; i < n; i++)
			pick_ext(&g.s.ext[i], chance(20));
		err = emit(F_EXT6, &g);
		if (err)
			return err;
	}
	return 0;
}

static int fam_vlan(void)
{
	struct gen g;
	int n, i, err;

	base_spec(&g, chance(50));
	for (n = 0; n <= FRAME_MAX_VLAN; n++) {
		g.s.vlans = n;
		for (i = 0; i < n; i++)
			g.s.vlan_tpid[i] = pick_tpid();
		err = emit(F_VLAN, &g);
		if (err)
			return err;
	}
	return 0;
}

static int fam_doff(void)
{
	struct gen g;
	int doff, err;

	base_spec(&g, chance(50));
	for (doff = 0; doff <= 15; doff++) {
		if (chance(50)) {
			g.s.doff = 0;
			g.s.tcp_opts = doff >= 5 ? (doff - 5) * 4 : 0;
			if (doff < 5)
				g.s.doff = FRAME_SET(doff);
		} else {
			g.s.doff = FRAME_SET(doff);
			g.s.tcp_opts = 4 * rn(11);
			g.s.payload = rn(65);
		}
		err = emit(F_DOFF, &g);
		if (err)
			return err;
	}
	return 0;
}

/* Every knob at once, each with a small probability. */
static int fam_mixed(void)
{
	static const __u16 ethertypes[] = { 0x0800, 0x86dd, 0x0806, 0x8100,
					    0x88a8, 0x88b5 };
	struct frame_spec *s;
	struct gen g;
	int i, j, err;

	for (i = 0; i < 32; i++) {
		base_spec(&g, chance(50));
		s = &g.s;
		if (chance(10))
			s->l4 = 1 + rn(3);
		if (chance(5))
			s->proto = FRAME_SET(chance(50) ? 6 : rn(256));
		if (chance(5))
			s->ethertype = ethertypes[rn(6)];
		if (chance(5))
			s->l3 = FRAME_ARP + rn(2);
		if (chance(5))
			s->version = FRAME_SET(rn(16));
		if (chance(10))
			s->ihl = FRAME_SET(rn(16));
		if (chance(10))
			s->tot_len = FRAME_SET(rn(65536));
		if (chance(10))
			s->len_adj = (int)rn(41) - 20;
		if (chance(10))
			s->frag = rn(0x10000);
		if (chance(10))
			s->doff = FRAME_SET(rn(16));
		if (chance(10)) {
			s->vlans = rn(FRAME_MAX_VLAN + 1);
			for (j = 0; j < s->vlans; j++)
				s->vlan_tpid[j] = pick_tpid();
		}
		if (s->l3 == FRAME_IPV6 && chance(20)) {
			s->n_ext = rn(FRAME_MAX_EXT + 1);
			for (j = 0; j < s->n_ext; j++)
				pick_ext(&s->ext[j], 1);
		}
		if (chance(10)) {
			s->trunc_from = rn(3);
			s->trunc = FRAME_SET(rn(80));
		}
		err = emit(F_MIXED, &g);
		if (err)
			return err;
	}
	return 0;
}

/* Random bytes, often behind a plausible Ethernet/IP start so the parser
 * gets past the first checks. No generator knowledge: the reference decides. */
static int fam_random(void)
{
	static const __u16 ets[] = { 0x0800, 0x86dd, 0x8100, 0x88a8 };
	__u8 buf[FRAME_MAX];
	int i, j, len, off, err;

	for (i = 0; i < 32; i++) {
		len = 14 + rn(300);
		for (j = 0; j < len; j++)
			buf[j] = rnd();
		if (chance(70)) {
			int v6 = chance(50);

			/* 0-3 tags, then IPv4 (IHL 5) or IPv6, protocol TCP */
			off = 12;
			for (j = rn(4); j > 0 && off + 6 <= len; j--) {
				__u16 et = ets[2 + rn(2)];

				buf[off] = et >> 8;
				buf[off + 1] = et & 0xff;
				off += 4;
			}
			buf[off] = ets[v6] >> 8;
			buf[off + 1] = ets[v6] & 0xff;
			off += 2;
			if (off < len)
				buf[off] = v6 ? 0x60 : 0x45;
			if (off + 9 < len)
				buf[off + (v6 ? 6 : 9)] = 6;
		}
		err = judge(F_RANDOM, buf, len, -1, NULL);
		if (err)
			return err;
	}
	return 0;
}

/* Valid frames with a few bytes changed: knowledge is gone, the reference
 * classifier decides; the source as built still must never be dropped if it
 * was allowlisted and the frame still carries it. */
static int fam_mutate(void)
{
	struct gen g;
	int i, k, err;

	for (i = 0; i < 32; i++) {
		base_spec(&g, chance(50));
		g.s.tcp_flags = FRAME_TCP_SYN;
		g.s.dport = protected_ports[rn(7)];
		if (build(&g) < 14)
			continue;
		for (k = 1 + rn(4); k > 0; k--) {
			int at = rn(g.len);

			g.buf[at] = chance(50) ? (__u8)rnd() : g.buf[at] ^ (1 << rn(8));
		}
		err = judge(F_MUTATE, g.buf, g.len, -1, NULL);
		if (err)
			return err;
	}
	return 0;
}

static int (*const fam_fns[F_MAX])(void) = {
	fam_trunc, fam_ihl, fam_totlen, fam_frag4, fam_ext6, fam_vlan,
	fam_doff, fam_mixed, fam_random, fam_mutate,
};

/* ---- environment ----------------------------------------------------------- */

/* An entry put as the controller puts it: insert, then note it in the
 * program's view of the lists (which also moves their generation). */
static int put_lpm(int fd, unsigned has, const struct net *n, const void *val)
{
	struct mxg_lpm_key k;

	memset(&k, 0, sizeof(k));
	k.prefixlen = n->plen;
	k.addr = n->a;
	if (bpf_map_update_elem(fd, &k, val, BPF_ANY))
		return -errno;
	return mxg_lists_note(E.lists, has, &k, 1, NULL, 0);
}

static int env_open(void)
{
	struct mxg_allow_val av;
	struct mxg_block_val bv;
	struct mxguard *s;
	unsigned i, j;
	int err, v6;

	s = mxguard__open_and_load();
	if (!s)
		return errno ? -errno : -EINVAL;
	E.skel = s;
	E.prog = bpf_program__fd(s->progs.mxg_xdp);
	E.cfg = bpf_map__fd(s->maps.data_cfg);
	E.allow = bpf_map__fd(s->maps.mxg_allow);
	E.block_h = bpf_map__fd(s->maps.mxg_block_h);
	E.block_t = bpf_map__fd(s->maps.mxg_block_t);
	E.stats = bpf_map__fd(s->maps.mxg_stats);
	E.lists = bpf_map__fd(s->maps.mxg_lists);
	E.ncpus = libbpf_num_possible_cpus();
	if (E.ncpus <= 0)
		return E.ncpus ? E.ncpus : -EINVAL;
	E.percpu = calloc(E.ncpus, sizeof(__u64));
	E.c = calloc(1, sizeof(*E.c));
	if (!E.percpu || !E.c)
		return -ENOMEM;

	memset(&av, 0, sizeof(av));
	memset(&bv, 0, sizeof(bv)); /* expires_ns 0: never expires */
	for (i = 0; i < sizeof(allow_list) / sizeof(allow_list[0]); i++) {
		err = net_from(allow_list[i].net, allow_list[i].plen, &allow_nets[i]);
		if (!err)
			err = put_lpm(E.allow, MXG_LISTS_ALLOW, &allow_nets[i], &av);
		if (err)
			return err;
	}
	for (i = 0; i < sizeof(block_trie) / sizeof(block_trie[0]); i++) {
		struct net *n = &block_nets[n_block_nets++];

		err = net_from(block_trie[i].net, block_trie[i].plen, n);
		if (!err)
			err = put_lpm(E.block_t, MXG_LISTS_BLOCK_T, n, &bv);
		if (err)
			return err;
	}
	for (i = 0; i < 2 + 2 * EXACT_RUN; i++) {
		struct net *n = &block_nets[n_block_nets++];
		char txt[INET6_ADDRSTRLEN];

		j = i < 2 ? 0 : (i - 2) % EXACT_RUN + 1;
		if (i < 2)
			snprintf(txt, sizeof(txt), "%s", block_exact[i]);
		else if (i < 2 + EXACT_RUN)
			snprintf(txt, sizeof(txt), "198.18.77.%u", j);
		else
			snprintf(txt, sizeof(txt), "2001:db8:77::%x", j);
		err = addr_from(txt, &n->a, &v6);
		n->plen = 128;
		if (!err)
			err = bpf_map_update_elem(E.block_h, &n->a, &bv, BPF_ANY) ?
			      -errno : mxg_lists_note(E.lists, mxg_lists_exact_has(&n->a),
							 NULL, 0, &n->a, 1);
		if (err)
			return err;
	}
	return 0;
}

static int set_mode(__u32 mode)
{
	__u32 zero = 0;
	unsigned s;

	mxg_cfg_defaults(E.c);
	E.c->mode = mode;
	/* Tight limits: the hot neutral sources run out of tokens, so the
	 * limit paths (and the penalty table) are exercised too. */
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		mxg_cfg_set_limit(E.c, s, 1, 3600, 3);
	E.mode = mode;
	return bpf_map_update_elem(E.cfg, &zero, E.c, BPF_ANY);
}

/* Sums over CPUs: all (service, reason) counters, and those that drop. */
static int counters(__u64 *all, __u64 *dropping)
{
	__u32 k;
	int i, err;

	*all = *dropping = 0;
	for (k = 0; k < MXG_SVC_MAX * MXG_R_MAX; k++) {
		__u64 sum = 0;

		err = bpf_map_lookup_elem(E.stats, &k, E.percpu);
		if (err)
			return err;
		for (i = 0; i < E.ncpus; i++)
			sum += E.percpu[i];
		*all += sum;
		if (MXG_REASON_DROPS(k % MXG_R_MAX))
			*dropping += sum;
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One mode: families in turn until `budget` frames have run. */
static int phase(__u32 mode, __u64 budget)
{
	__u64 all0, drop0, all1, drop1, f0 = E.frames, d0 = E.drops;
	char name[96];
	int err, f = 0;

	err = set_mode(mode);
	if (!err)
		err = counters(&all0, &drop0);
	if (err) {
		fail_setup("config and counters", err);
		return err;
	}
	while (E.frames - f0 < budget) {
		err = fam_fns[f]();
		if (err) {
			fail_setup("BPF_PROG_TEST_RUN", err);
			return err;
		}
		f = (f + 1) % F_MAX;
	}
	err = counters(&all1, &drop1);
	if (err) {
		fail_setup("read counters", err);
		return err;
	}
	snprintf(name, sizeof(name), "props__%s__counters_sum_to_frames_run",
		 mode_names[mode]);
	CHECK_EQ(name, E.frames - f0, all1 - all0);
	snprintf(name, sizeof(name), "props__%s__drop_counters_match_drops",
		 mode_names[mode]);
	CHECK_EQ(name, E.drops - d0, drop1 - drop0);
	return 0;
}

int main(int argc, char **argv)
{
	__u64 seed, target = DEFAULT_FRAMES, t0, t1;
	const char *env;
	char name[128];
	int err, f, p;

	(void)argc;
	(void)argv;
	env = getenv("MXG_PROPS_SEED");
	seed = env ? strtoull(env, NULL, 0) :
		     (now_ns() ^ ((__u64)getpid() << 32));
	env = getenv("MXG_PROPS_FRAMES");
	if (env)
		target = strtoull(env, NULL, 0);
	rng_state = seed;
	printf("# seed %llu (rerun: MXG_PROPS_SEED=%llu %s)\n",
	       (unsigned long long)seed, (unsigned long long)seed, argv[0]);
	fflush(stdout);

	err = env_open();
	if (err) {
		fail_setup("load skeleton and fill maps (root?)", err);
		return CHECK_DONE();
	}
	t0 = now_ns();
	/* Most frames in enforce; monitor and lockdown change the verdicts. */
	err = phase(MXG_MODE_ENFORCE, target * 7 / 10);
	if (!err)
		err = phase(MXG_MODE_MONITOR, target * 15 / 100);
	if (!err)
		err = phase(MXG_MODE_LOCKDOWN, target - E.frames);
	t1 = now_ns();
	if (err)
		goto out;

	for (f = 0; f < F_MAX; f++) {
		struct fam_stat *st = &stats[f];

		printf("# %-16s %8llu frames, %7llu well-formed, %7llu dropped, %7llu without generator verdict\n",
		       fam_names[f], (unsigned long long)st->frames,
		       (unsigned long long)st->wf, (unsigned long long)st->drops,
		       (unsigned long long)st->unknown);
		for (p = 0; p < P_MAX; p++) {
			if (!st->checked[p])
				continue;
			snprintf(name, sizeof(name), "props__%s__%s (of %llu)",
				 fam_names[f], prop_names[p],
				 (unsigned long long)st->checked[p]);
			CHECK_EQ(name, 0, st->bad[p]);
		}
		/* A family that never built a well-formed frame tested only
		 * half of what it claims. */
		if (f != F_RANDOM) {
			snprintf(name, sizeof(name), "props__%s__has_wellformed_frames",
				 fam_names[f]);
			CHECK(name, st->wf > 0);
		}
	}
	for (f = 0; f < MAX_WHY && bad_why[f].why; f++)
		printf("# malformed but not passed: %-36s %llu frames\n",
		       bad_why[f].why, (unsigned long long)bad_why[f].n);
	snprintf(name, sizeof(name), "props__frames_run_at_least_%d", MIN_FRAMES);
	if (target >= MIN_FRAMES)
		CHECK(name, E.frames >= MIN_FRAMES);
	printf("# %llu frames in %.1f s (%.0f ns per frame), seed %llu\n",
	       (unsigned long long)E.frames, (t1 - t0) / 1e9,
	       E.frames ? (double)(t1 - t0) / E.frames : 0.0,
	       (unsigned long long)seed);
out:
	mxguard__destroy(E.skel);
	free(E.percpu);
	free(E.c);
	printf("# %d checks passed, %d failed\n", check_passed, check_failed);
	return CHECK_DONE();
}

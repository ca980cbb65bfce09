// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* check ADDRESS: every allow and block entry that matches one address, its
 * buckets, and the verdict a SYN from it would get now, per service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "mxguard.h"
#include "bucket.h"
#include "cfg.h"
#include "cmd.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "units.h"

struct matches {
	const union mxg_addr *a;
	struct mxg_block_entry *v;
	size_t n, cap;
};

static int block_match_cb(const struct mxg_block_entry *e, void *ctx)
{
	struct matches *mt = ctx;

	if (!mxg_cidr_contains(&e->cidr, mt->a))
		return 0;
	if (mt->n == mt->cap) {
		size_t cap = mt->cap ? mt->cap * 2 : 8;
		struct mxg_block_entry *nv = realloc(mt->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		mt->v = nv;
		mt->cap = cap;
	}
	mt->v[mt->n++] = *e;
	return 0;
}

/* What the program would do with a SYN from this source to service s:
 * the same order as mxg_verdict() in bpf/mxguard.bpf.c. */
static unsigned predict(const struct mxg_cfg *c, int allowed, int blocked,
			__u32 tokens)
{
	if (allowed)
		return MXG_R_ALLOW;
	if (blocked)
		return c->mode == MXG_MODE_MONITOR ? MXG_R_BLOCK_WOULD : MXG_R_BLOCK;
	if (c->mode == MXG_MODE_LOCKDOWN)
		return MXG_R_LOCKDOWN;
	if (tokens)
		return MXG_R_ADMIT;
	return c->mode == MXG_MODE_MONITOR ? MXG_R_LIMIT_WOULD : MXG_R_LIMIT;
}

static int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_allow_entry *allow = NULL;
	struct matches bm = { 0 };
	struct mxg_cfg *c = NULL;
	struct mxg_names names = { 0 };
	struct mxg_src_key key;
	struct mxg_table t;
	struct mxg_json j;
	struct mxg_maps m;
	union mxg_addr a;
	size_t nallow = 0, i, nmatch_allow = 0;
	int opt, err, json = 0, v4, blocked = 0;
	const char *why;
	char as[MXG_CIDR_STRLEN], ks[MXG_CIDR_STRLEN];
	__u64 now;
	unsigned s;

	while ((opt = mxg_getopt(&mxg_cmd_check, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_check); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_check, argc, argv, 1, "address");
	if (err)
		return err;
	if (mxg_addr_parse(argv[optind], &a, &v4, &why))
		return mxg_usage(&mxg_cmd_check, "invalid address '%s': %s", argv[optind], why);
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	c = mxg_cfg_load(&m);
	if (!c) {
		err = -EIO;
		goto out;
	}
	err = mxg_allow_all(&m, &allow, &nallow);
	if (err)
		goto out;
	bm.a = &a;
	err = mxg_block_each(&m, block_match_cb, &bm);
	if (!err)
		err = mxg_names_load(&m, &names);
	if (err)
		goto out;
	now = mxg_mono_ns();
	for (i = 0; i < nallow; i++)
		if (mxg_cidr_contains(&allow[i].cidr, &a))
			nmatch_allow++;
	for (i = 0; i < bm.n; i++)
		if (!mxg_block_expired(&bm.v[i].v, now))
			blocked = 1;
	mxg_addr_and(&key.addr, &a, v4 ? &c->src_mask4 : &c->src_mask6);
	mxg_addr_format(&a, as, sizeof(as));
	{
		struct mxg_cidr kc = { .addr = key.addr,
			.plen = v4 ? 96 + c->v4_prefix : c->v6_prefix, .v4 = v4 };

		mxg_cidr_format(&kc, ks, sizeof(ks));
	}

	if (json) {
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "addr", as);
		mxg_json_str(&j, "source_key", ks);
		mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
		mxg_json_arr(&j, "allow");
		for (i = 0; i < nallow; i++) {
			char cs[MXG_CIDR_STRLEN];

			if (!mxg_cidr_contains(&allow[i].cidr, &a))
				continue;
			mxg_cidr_format(&allow[i].cidr, cs, sizeof(cs));
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "cidr", cs);
			mxg_json_str(&j, "comment", allow[i].v.comment);
			mxg_json_u64(&j, "hits", allow[i].v.hits);
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_arr(&j, "block");
		for (i = 0; i < bm.n; i++) {
			const struct mxg_block_entry *e = &bm.v[i];
			char cs[MXG_CIDR_STRLEN];

			mxg_cidr_format(&e->cidr, cs, sizeof(cs));
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "cidr", cs);
			mxg_json_str(&j, "feed", names.feed[e->v.feed_id < MXG_MAX_FEEDS ? e->v.feed_id : 0]);
			mxg_json_str(&j, "reason", mxg_names_reason(&names, e->v.reason_id));
			mxg_json_time(&j, "expires", mxg_mono_to_unix(e->v.expires_ns));
			mxg_json_bool(&j, "expired", mxg_block_expired(&e->v, now));
			mxg_json_u64(&j, "hits", e->v.hits);
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj(&j, "services");
	} else {
		printf("%s (%s), tracked as source %s; mode %s\n\n", as, v4 ? "IPv4" : "IPv6",
		       ks, mxg_mode_name(c->mode));
		if (!nmatch_allow)
			printf("allowlist: no entry\n");
		for (i = 0; i < nallow; i++) {
			char cs[MXG_CIDR_STRLEN];

			if (!mxg_cidr_contains(&allow[i].cidr, &a))
				continue;
			mxg_cidr_format(&allow[i].cidr, cs, sizeof(cs));
			printf("allowlist: %s%s%s%s\n", cs, allow[i].v.comment[0] ? " (" : "",
			       allow[i].v.comment, allow[i].v.comment[0] ? ")" : "");
		}
		if (!bm.n)
			printf("blocklist: no entry\n");
		for (i = 0; i < bm.n; i++) {
			const struct mxg_block_entry *e = &bm.v[i];
			char cs[MXG_CIDR_STRLEN], exp[32];

			mxg_cidr_format(&e->cidr, cs, sizeof(cs));
			if (mxg_block_expired(&e->v, now))
				snprintf(exp, sizeof(exp), "expired");
			else if (e->v.expires_ns)
				mxg_format_time(mxg_mono_to_unix(e->v.expires_ns), exp, sizeof(exp));
			else
				snprintf(exp, sizeof(exp), "never");
			printf("blocklist: %s feed %s, expires %s%s%s%s\n", cs,
			       names.feed[e->v.feed_id < MXG_MAX_FEEDS ? e->v.feed_id : 0], exp,
			       *mxg_names_reason(&names, e->v.reason_id) ? " (" : "",
			       mxg_names_reason(&names, e->v.reason_id),
			       *mxg_names_reason(&names, e->v.reason_id) ? ")" : "");
		}
		printf("\n");
	}

	static const char *head[] = { "SERVICE", "TOKENS", "BURST", "SYNS",
				      "DROPS", "NETWORK", "NETWORK TOKENS",
				      "A SYN NOW" };
	mxg_table_init(&t, 8, head, 0x5e);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_limit *l = &c->limit[s];
		struct mxg_src_val v;
		const struct mxg_limit *pl = &c->plimit[s];
		char tb[16], bb[16], sb[16], db[16], pb[32], vb[48];
		char nb[MXG_CIDR_STRLEN];
		const char *cells[8] = { mxg_svc_name(s), tb, bb, sb, db, nb, pb, vb };
		struct mxg_cidr net = { .v4 = v4 };
		struct mxg_pfx_val pv;
		struct mxg_pen_val pen;
		__u32 tokens, ptokens;
		int known = 1, share, held;
		unsigned r;

		key.svc = s;
		if (bpf_map_lookup_elem(m.src, &key, &v)) {
			known = 0;
			memset(&v, 0, sizeof(v));
			/* Evicted but remembered as limited. */
			if (!bpf_map_lookup_elem(m.pen, &key, &pen))
				v.tat_ns = pen.tat_ns;
		}
		net.plen = (v4 ? 96 : 0) + mxg_cfg_net_of(c, s, &a, &net.addr);
		mxg_cidr_format(&net, nb, sizeof(nb));
		/* A known source is not held to another network's draining
		 * slot that its network only shares (the program's rule). */
		share = mxg_pfx_get(&m, c, &a, s, now, &pv);
		if (share < 0)
			memset(&pv, 0, sizeof(pv));
		held = !(share == 2 && known);
		tokens = mxg_bucket_tokens(v.tat_ns, now, l->interval_ns, l->burst);
		ptokens = mxg_bucket_tokens(pv.tat_ns, now, pl->interval_ns, pl->burst);
		r = predict(c, nmatch_allow > 0, blocked, tokens);
		if (r == MXG_R_ADMIT && held && !ptokens)
			r = c->mode == MXG_MODE_MONITOR ? MXG_R_PLIMIT_WOULD : MXG_R_PLIMIT;
		if (json) {
			mxg_json_obj(&j, mxg_svc_name(s));
			mxg_json_u64(&j, "tokens", tokens);
			mxg_json_u64(&j, "burst", l->burst);
			mxg_json_u64(&j, "syns", v.syns);
			mxg_json_u64(&j, "drops", v.drops);
			mxg_json_u64(&j, "would_drops", v.would_drops);
			mxg_json_str(&j, "network", nb);
			mxg_json_u64(&j, "network_tokens", ptokens);
			mxg_json_u64(&j, "network_burst", pl->burst);
			mxg_json_bool(&j, "network_applies", held);
			mxg_json_str(&j, "verdict", MXG_REASON_DROPS(r) ? "drop" : "pass");
			mxg_json_str(&j, "reason", mxg_reason_name(r));
			mxg_json_obj_end(&j);
			continue;
		}
		snprintf(tb, sizeof(tb), "%u", tokens);
		snprintf(bb, sizeof(bb), "%u", l->burst);
		mxg_format_count(v.syns, sb, sizeof(sb));
		mxg_format_count(v.drops + v.would_drops, db, sizeof(db));
		snprintf(pb, sizeof(pb), held ? "%u/%u" : "%u/%u shared",
			 ptokens, pl->burst);
		snprintf(vb, sizeof(vb), "%s (%s)", MXG_REASON_DROPS(r) ? "drop" : "pass",
			 mxg_reason_name(r));
		mxg_table_row(&t, cells);
	}
	if (json) {
		mxg_json_obj_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		mxg_table_print(&t, stdout);
	}
	mxg_table_free(&t);
out:
	mxg_names_free(&names);
	free(bm.v);
	free(allow);
	free(c);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_check = {
	.name = "check",
	.synopsis = "check ADDRESS [--json]",
	.summary = "why an address passes or is dropped, per service",
	.help =
	"For one IPv4 or IPv6 address: every allowlist and blocklist entry that\n"
	"contains it (with feed, expiry and reason), its token bucket per service\n"
	"(tokens left of the burst, SYNs and drops seen) and that of its network\n"
	"(IPv4 /24, IPv6 /48 unless `limit set --prefix-v4/--prefix-v6` says\n"
	"otherwise), and the verdict a new connection from it to each service\n"
	"would get right now, in the current mode. The answer to \"why can't\n"
	"this partner deliver?\".\n\n"
	"NETWORK TOKENS marked \"shared\": the network's slot belongs to another\n"
	"network whose bucket still drains. That bucket holds new sources of\n"
	"this network, not one with a record (a known source is held to its own\n"
	"bucket there), so the verdict shown depends on whether the address has\n"
	"a record (SYNS above 0).\n\n"
	"Options:\n"
	"  --json   {addr, source_key, mode, allow[{cidr, comment, hits}],\n"
	"           block[{cidr, feed, reason, expires, expired, hits}],\n"
	"           services{SERVICE{tokens, burst, syns, drops, would_drops,\n"
	"           network, network_tokens, network_burst, network_applies,\n"
	"           verdict, reason}}}\n",
	.run = do_check,
};

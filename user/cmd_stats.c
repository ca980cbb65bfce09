// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stats and top: what the program counted, per service and verdict, and the
 * sources behind it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "mxguard.h"
#include "bucket.h"
#include "cmd.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

/* The verdict columns of the service rows, in display order. */
static const unsigned mail_reasons[] = {
	MXG_R_ADMIT, MXG_R_LIMIT, MXG_R_LIMIT_WOULD, MXG_R_PLIMIT,
	MXG_R_PLIMIT_WOULD, MXG_R_BLOCK, MXG_R_BLOCK_WOULD, MXG_R_ALLOW,
	MXG_R_LOCKDOWN, MXG_R_ESTABLISHED,
};
#define NMAIL (sizeof(mail_reasons) / sizeof(mail_reasons[0]))
static const unsigned other_reasons[] = {
	MXG_R_NOT_IP, MXG_R_NOT_TCP, MXG_R_OTHER_PORT, MXG_R_UNPARSED,
};
#define NOTHER (sizeof(other_reasons) / sizeof(other_reasons[0]))

static void totals(const __u64 *c, __u64 *passed, __u64 *dropped)
{
	unsigned s, r;

	*passed = *dropped = 0;
	for (s = 0; s < MXG_SVC_MAX; s++)
		for (r = 0; r < MXG_R_MAX; r++) {
			__u64 v = c[MXG_COUNTER_IDX(s, r)];

			if (MXG_REASON_DROPS(r))
				*dropped += v;
			else
				*passed += v;
		}
}

/* The outbound side, when its maps are pinned: read again for each round of
 * --watch, with the counters of the round before for the rates. */
struct ob_stats {
	int have;
	struct mxo_maps m;
	struct mxo_out_state out;
	struct mxo_local_state local;
	__u64 prev[MXO_NCOUNTERS];
};

static int ob_open(struct ob_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->m.lock_fd = -1;
	o->have = mxo_maps_present();
	return o->have ? mxo_maps_open(&o->m, 0) : 0;
}

static void ob_free(struct ob_stats *o)
{
	mxo_out_free(&o->out);
	mxo_local_free(&o->local);
}

static int ob_read(struct ob_stats *o)
{
	int err;

	if (!o->have)
		return 0;
	memcpy(o->prev, o->out.cnt, sizeof(o->prev));
	ob_free(o);
	err = mxo_out_read(&o->m, &o->out);
	if (!err)
		err = mxo_local_read(&o->m, &o->local, MXO_READ_NAMES);
	return err;
}

static void ob_close(struct ob_stats *o)
{
	ob_free(o);
	if (o->have)
		mxo_maps_close(&o->m);
}

/* "outbound" and "local": the members of `mxguard outbound --json` and
 * `mxguard local --json` without the per-record arrays; null when the
 * outbound programs were never attached. */
static void ob_json(struct mxg_json *j, const struct ob_stats *o)
{
	if (!o->have) {
		mxg_json_null(j, "outbound");
		mxg_json_null(j, "local");
		return;
	}
	mxg_json_obj(j, "outbound");
	mxo_json_outbound(j, &o->out, 0);
	mxg_json_obj_end(j);
	mxg_json_obj(j, "local");
	mxo_json_local(j, &o->local, 0);
	mxg_json_obj_end(j);
}

static void ob_table_outbound(const struct mxo_out_state *s)
{
	char sy[16], pa[16], al[16], ca[16], ws[48], cs[48], since[32];
	size_t i;

	mxg_format_count(s->total.syns, sy, sizeof(sy));
	mxg_format_count(mxo_eg_sum(s->cnt, MXO_V_PASS), pa, sizeof(pa));
	mxg_format_count(mxo_eg_sum(s->cnt, MXO_V_ALLOW), al, sizeof(al));
	mxg_format_count(mxo_eg_sum(s->cnt, MXO_V_CAP), ca, sizeof(ca));
	printf("\noutbound (egress of");
	for (i = 0; i < s->nifs; i++)
		printf(" %s%s", s->ifs[i].name, s->ifs[i].present ? "" : " (gone)");
	printf("%s): %s new SMTP connections, %u in the last minute: %s passed, %s allowlisted, %s capped\n",
	       s->nifs ? "" : " no interface", sy, mxo_win_per_min(&s->total.win, s->now),
	       pa, al, ca);
	mxo_limit_str(&s->cfg.warn, ws, sizeof(ws));
	mxo_limit_str(&s->cfg.cap, cs, sizeof(cs));
	mxg_format_time(mxg_mono_to_unix(s->total.warn_since_ns), since, sizeof(since));
	printf("  warn %s: %s (%u episodes, latest from %s)\n", ws,
	       mxo_warn_active(s) ? "ACTIVE" : "no", s->total.warn_episodes, since);
	mxg_format_time(mxg_mono_to_unix(s->total.cap_since_ns), since, sizeof(since));
	printf("  cap %s: %s (%u episodes, latest from %s)\n", cs,
	       mxo_cap_active(s) ? "DROPPING" : "no", s->total.cap_episodes, since);
	printf("  tracked: %zu destination networks, %zu local sources\n", s->ndst, s->nsrc);
}

static void ob_table_local(const struct mxo_local_state *s)
{
	char co[16], tr[16], lu[16], lc[16], us[48], cs[48];
	__u64 all = 0;
	unsigned v;

	for (v = 0; v < MXO_LV_MAX; v++)
		all += mxo_lo_sum(s->cnt, v);
	mxg_format_count(all, co, sizeof(co));
	mxg_format_count(mxo_lo_sum(s->cnt, MXO_LV_TRUSTED), tr, sizeof(tr));
	mxg_format_count(mxo_lo_sum(s->cnt, MXO_LV_LIMIT_UID), lu, sizeof(lu));
	mxg_format_count(mxo_lo_sum(s->cnt, MXO_LV_LIMIT_CG), lc, sizeof(lc));
	printf("local (%zu cgroup%s attached): %s connects to mail ports, %s trusted, refused %s by uid and %s by cgroup limits\n",
	       s->natt, s->natt == 1 ? "" : "s", co, tr, lu, lc);
	mxo_limit_str(&s->cfg.uid_limit, us, sizeof(us));
	mxo_limit_str(&s->cfg.cg_limit, cs, sizeof(cs));
	printf("  limits: per uid %s, per cgroup %s; %zu uids (%zu limited now), %zu cgroups (%zu limited now), %zu trusted\n",
	       us, cs, s->nuid, s->limited_uids, s->n - s->nuid, s->limited_cgroups,
	       s->ntrust);
}

/* The outbound lines of the table; with dt > 0, per-second rates. */
static void ob_table(const struct ob_stats *o, double dt)
{
	const __u64 *c = o->out.cnt, *p = o->prev;
	__u64 lall = 0, lref = 0, pall = 0, pref = 0;
	unsigned v;

	if (!o->have)
		return;
	if (!dt) {
		ob_table_outbound(&o->out);
		ob_table_local(&o->local);
	} else {
		for (v = 0; v < MXO_LV_MAX; v++) {
			lall += mxo_lo_sum(c, v);
			pall += mxo_lo_sum(p, v);
		}
		lref = mxo_lo_sum(c, MXO_LV_LIMIT_UID) + mxo_lo_sum(c, MXO_LV_LIMIT_CG);
		pref = mxo_lo_sum(p, MXO_LV_LIMIT_UID) + mxo_lo_sum(p, MXO_LV_LIMIT_CG);
		printf("outbound: %.1f/s new SMTP connections, %.1f/s capped; warning %s, cap %s\n",
		       (mxo_eg_sum(c, MXO_V_PASS) + mxo_eg_sum(c, MXO_V_ALLOW) + mxo_eg_sum(c, MXO_V_CAP) -
			mxo_eg_sum(p, MXO_V_PASS) - mxo_eg_sum(p, MXO_V_ALLOW) - mxo_eg_sum(p, MXO_V_CAP)) / dt,
		       (mxo_eg_sum(c, MXO_V_CAP) - mxo_eg_sum(p, MXO_V_CAP)) / dt,
		       mxo_warn_active(&o->out) ? "ACTIVE" : "no",
		       mxo_cap_active(&o->out) ? "DROPPING" : "no");
		printf("local: %.1f/s connects, %.1f/s refused\n", (lall - pall) / dt,
		       (lref - pref) / dt);
	}
	if (c[MXO_MISC_IDX(MXO_C_EVENTS_LOST)])
		printf("outbound events lost (ring buffer full): %llu\n",
		       (unsigned long long)c[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
}

/* The network buckets now: slots a network owns, and those empty now
 * (refusing their network's new connections), per service. */
struct net_stats {
	size_t tracked, limited, svc_limited[MXG_SVC_MAX];
};

struct net_count {
	struct net_stats *s;
	const struct mxg_cfg *cfg;
	__u64 now;
};

static int net_count_cb(const void *k, const void *v, void *ctx)
{
	const struct mxg_pfx_val *p = v;
	struct net_count *c = ctx;
	int limited;

	(void)k;
	if (!p->svc || p->svc >= MXG_SVC_MAX)
		return 0;
	c->s->tracked++;
	mxg_pfx_tokens(c->cfg, p, c->now, &limited);
	if (limited) {
		c->s->limited++;
		c->s->svc_limited[p->svc]++;
	}
	return 0;
}

static int net_stats_read(const struct mxg_maps *m, struct net_stats *s)
{
	struct mxg_cfg *cfg = mxg_cfg_load(m);
	struct net_count c = { .s = s, .cfg = cfg, .now = mxg_mono_ns() };
	int err;

	memset(s, 0, sizeof(*s));
	if (!cfg)
		return -EIO;
	err = mxg_map_each(m->pfx, sizeof(__u32), sizeof(struct mxg_pfx_val),
			   net_count_cb, &c);
	free(cfg);
	return err;
}

static void stats_json(const __u64 *c, const struct net_stats *n,
		       const struct ob_stats *o)
{
	struct mxg_json j;
	__u64 passed, dropped;
	unsigned s, r;

	totals(c, &passed, &dropped);
	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_time(&j, "time", mxg_unix_s());
	mxg_json_u64(&j, "passed", passed);
	mxg_json_u64(&j, "dropped", dropped);
	mxg_json_obj(&j, "counters");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		mxg_json_obj(&j, mxg_svc_name(s));
		for (r = 0; r < NMAIL; r++)
			mxg_json_u64(&j, mxg_reason_name(mail_reasons[r]),
				     c[MXG_COUNTER_IDX(s, mail_reasons[r])]);
		mxg_json_obj_end(&j);
	}
	mxg_json_obj(&j, mxg_svc_name(MXG_SVC_NONE));
	for (r = 0; r < NOTHER; r++)
		mxg_json_u64(&j, mxg_reason_name(other_reasons[r]),
			     c[MXG_COUNTER_IDX(MXG_SVC_NONE, other_reasons[r])]);
	mxg_json_obj_end(&j);
	mxg_json_obj_end(&j);
	mxg_json_u64(&j, "events_lost", c[MXG_MISC_IDX(MXG_C_EVENTS_LOST)]);
	mxg_json_u64(&j, "src_fail", c[MXG_MISC_IDX(MXG_C_SRC_FAIL)]);
	mxg_json_obj(&j, "networks");
	mxg_json_u64(&j, "tracked", n->tracked);
	mxg_json_u64(&j, "limited", n->limited);
	mxg_json_obj(&j, "limited_by_service");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		mxg_json_u64(&j, mxg_svc_name(s), n->svc_limited[s]);
	mxg_json_obj_end(&j);
	mxg_json_obj_end(&j);
	ob_json(&j, o);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

/* One Prometheus sample per (service, verdict) and per non-mail reason. */
static void stats_prometheus(const __u64 *c, const struct net_stats *n,
			     const struct ob_stats *o)
{
	unsigned s, r;

	printf("# HELP mxguard_packets_total Packets seen by the mxguard XDP program, by service and verdict.\n");
	printf("# TYPE mxguard_packets_total counter\n");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		for (r = 0; r < NMAIL; r++)
			printf("mxguard_packets_total{service=\"%s\",verdict=\"%s\"} %llu\n",
			       mxg_svc_name(s), mxg_reason_name(mail_reasons[r]),
			       (unsigned long long)c[MXG_COUNTER_IDX(s, mail_reasons[r])]);
	for (r = 0; r < NOTHER; r++)
		printf("mxguard_packets_total{service=\"none\",verdict=\"%s\"} %llu\n",
		       mxg_reason_name(other_reasons[r]),
		       (unsigned long long)c[MXG_COUNTER_IDX(MXG_SVC_NONE, other_reasons[r])]);
	printf("# HELP mxguard_events_lost_total Events dropped because the ring buffer was full.\n");
	printf("# TYPE mxguard_events_lost_total counter\n");
	printf("mxguard_events_lost_total %llu\n",
	       (unsigned long long)c[MXG_MISC_IDX(MXG_C_EVENTS_LOST)]);
	printf("# HELP mxguard_networks_tracked Network buckets in use (slots a network owns).\n");
	printf("# TYPE mxguard_networks_tracked gauge\n");
	printf("mxguard_networks_tracked %zu\n", n->tracked);
	printf("# HELP mxguard_networks_limited Network buckets empty now: their network's new connections are refused.\n");
	printf("# TYPE mxguard_networks_limited gauge\n");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		printf("mxguard_networks_limited{service=\"%s\"} %zu\n", mxg_svc_name(s),
		       n->svc_limited[s]);
	if (o->have) {
		mxo_prom_outbound(stdout, &o->out, 0);
		mxo_prom_local(stdout, &o->local, 0);
	}
}

/* The table's line on the network buckets, when any is in use. */
static void net_line(const struct net_stats *n)
{
	char by[128] = "";
	size_t off = 0;
	unsigned s;

	if (!n->tracked)
		return;
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX && off < sizeof(by); s++)
		if (n->svc_limited[s])
			off += snprintf(by + off, sizeof(by) - off, "%s%s %zu",
					off ? ", " : ": ", mxg_svc_name(s), n->svc_limited[s]);
	printf("networks: %zu buckets in use, %zu empty now%s (mxguard top --networks)\n",
	       n->tracked, n->limited, by);
}

/* Table of counters; with prev and dt > 0, per-second rates instead. */
static void stats_table(const __u64 *c, const __u64 *prev, double dt,
			const struct net_stats *n, const struct ob_stats *ob)
{
	/* Same order as mail_reasons; "~" marks monitor-mode would-drops. */
	static const char *head[NMAIL + 1] = { "SERVICE", "ADMIT", "LIMIT",
		"LIMIT~", "PFXLIM", "PFXLIM~", "BLOCK", "BLOCK~", "ALLOW",
		"LOCKDOWN", "ESTAB" };
	struct mxg_table t;
	__u64 passed, dropped;
	unsigned s, r;

	mxg_table_init(&t, NMAIL + 1, head, ~1u);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		char cells_buf[NMAIL][24];
		const char *cells[NMAIL + 1] = { mxg_svc_name(s) };

		for (r = 0; r < NMAIL; r++) {
			__u64 v = c[MXG_COUNTER_IDX(s, mail_reasons[r])];

			if (prev)
				snprintf(cells_buf[r], sizeof(cells_buf[r]), "%.1f",
					 (v - prev[MXG_COUNTER_IDX(s, mail_reasons[r])]) / dt);
			else
				mxg_format_count(v, cells_buf[r], sizeof(cells_buf[r]));
			cells[r + 1] = cells_buf[r];
		}
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
	totals(c, &passed, &dropped);
	if (prev) {
		__u64 pp, pd;

		totals(prev, &pp, &pd);
		printf("\nall frames: %.1f/s passed, %.1f/s dropped\n",
		       (passed - pp) / dt, (dropped - pd) / dt);
	} else {
		char p[16], d[16], o[16];
		__u64 other = 0;

		for (r = 0; r < NOTHER; r++)
			other += c[MXG_COUNTER_IDX(MXG_SVC_NONE, other_reasons[r])];
		mxg_format_count(passed, p, sizeof(p));
		mxg_format_count(dropped, d, sizeof(d));
		mxg_format_count(other, o, sizeof(o));
		printf("\nall frames: %s passed (%s not for a mail port), %s dropped; ~ = would drop (monitor)\n",
		       p, o, d);
	}
	net_line(n);
	if (c[MXG_MISC_IDX(MXG_C_EVENTS_LOST)])
		printf("events lost (ring buffer full): %llu\n",
		       (unsigned long long)c[MXG_MISC_IDX(MXG_C_EVENTS_LOST)]);
	ob_table(ob, prev ? dt : 0);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

enum { FMT_TABLE, FMT_JSON, FMT_PROM };

/* One round; with prev (--watch) tables show per-second rates over dt. */
static void stats_print(int fmt, const __u64 *c, const __u64 *prev, unsigned dt,
			const struct net_stats *n, const struct ob_stats *o)
{
	char ts[32];

	if (fmt == FMT_JSON) {
		stats_json(c, n, o);
	} else if (fmt == FMT_PROM) {
		stats_prometheus(c, n, o);
	} else if (!prev) {
		stats_table(c, NULL, 0, n, o);
	} else {
		mxg_format_time(mxg_unix_s(), ts, sizeof(ts));
		printf("\n%s  per second over the last %u s\n", ts, dt);
		stats_table(c, prev, dt, n, o);
	}
	fflush(stdout);
}

static int stats_watch(const struct mxg_maps *m, struct ob_stats *o, int fmt,
		       unsigned watch, __u64 *cur)
{
	__u64 prev[MXG_NCOUNTERS];
	struct net_stats n;
	int err = 0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		memcpy(prev, cur, sizeof(prev));
		sleep(watch);
		if (stop)
			break;
		err = mxg_stats_read(m, cur);
		if (!err)
			err = net_stats_read(m, &n);
		if (!err)
			err = ob_read(o);
		if (err)
			break;
		stats_print(fmt, cur, prev, watch, &n, o);
	}
	return err;
}

static int do_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	__u64 cur[MXG_NCOUNTERS];
	int opt, err, json = 0, prom = 0, fmt;
	struct net_stats n;
	struct ob_stats o;
	__u32 watch = 0;
	const char *why;
	struct mxg_maps m;

	while ((opt = mxg_getopt(&mxg_cmd_stats, argc, argv, "jpw:h", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'p': prom = 1; break;
		case 'w':
			if (mxg_parse_u32(optarg, 1, 3600, &watch, &why))
				return mxg_usage(&mxg_cmd_stats, "invalid --watch '%s': %s (1-3600 seconds)",
						 optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_stats); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_stats, argc, argv, 0, "");
	if (err)
		return err;
	if (json && prom)
		return mxg_usage(&mxg_cmd_stats, "--json and --prometheus exclude each other");
	fmt = json ? FMT_JSON : prom ? FMT_PROM : FMT_TABLE;
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	err = ob_open(&o);
	if (!err)
		err = mxg_stats_read(&m, cur);
	if (!err)
		err = net_stats_read(&m, &n);
	if (!err)
		err = ob_read(&o);
	if (!err && !watch)
		stats_print(fmt, cur, NULL, 0, &n, &o);
	else if (!err)
		err = stats_watch(&m, &o, fmt, watch, cur);
	ob_close(&o);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_stats = {
	.name = "stats",
	.synopsis = "stats [--json | --prometheus] [--watch SECONDS]",
	.summary = "packet counters per service and verdict, outbound and local totals",
	.help =
	"Counters kept by the XDP program since it was first loaded, per service\n"
	"and verdict:\n"
	"  admit        new connection within the limit (passed)\n"
	"  limit        new connection over the limit (dropped)\n"
	"  limit_would  over the limit in monitor mode (passed)\n"
	"  prefix_limit the source was within its limit, but its network (IPv4\n"
	"               /24, IPv6 /48 unless set per service: limit show) was\n"
	"               over the network limit (dropped)\n"
	"  prefix_limit_would  the same in monitor mode (passed)\n"
	"  block        from a blocklisted source (dropped)\n"
	"  block_would  blocklisted, monitor mode (passed)\n"
	"  allow        from an allowlisted partner (passed, always)\n"
	"  lockdown     new connection refused in lockdown (dropped)\n"
	"  established  packet of an existing connection (passed)\n"
	"Traffic that is not for a mail port is counted under service \"none\" as\n"
	"not_ip, not_tcp, other_port or unparsed, and always passed.\n\n"
	"When the outbound programs were ever attached ('mxguard outbound attach',\n"
	"'mxguard local attach': their maps stay pinned), their counters follow:\n"
	"the server's new outbound SMTP connections (passed, allowlisted, capped),\n"
	"the warn and cap thresholds and whether they are active, the destination\n"
	"networks and local sources tracked; local connects to mail ports by\n"
	"verdict (pass, trusted, refused by a uid or a cgroup limit), the uids and\n"
	"cgroups tracked and limited now. Otherwise the output is as it always was.\n\n"
	"Options:\n"
	"  --json          {time, passed, dropped, counters{SERVICE{VERDICT: n}},\n"
	"                  events_lost, src_fail, networks{tracked, limited,\n"
	"                  limited_by_service{SERVICE: n}}, outbound, local}:\n"
	"                  networks are the network buckets in use and those\n"
	"                  empty now (refusing new connections); outbound is\n"
	"                  'mxguard outbound --json' without time, destinations\n"
	"                  and sources {interfaces, config, total, counters,\n"
	"                  tracked, events_lost, rec_fail}; local is 'mxguard\n"
	"                  local --json' without time, uids, cgroups and trusted\n"
	"                  {cgroups_attached, config, counters, tracked, limited,\n"
	"                  events_lost}; both null when the outbound programs\n"
	"                  were never attached\n"
	"  --prometheus    text exposition format (mxguard_packets_total{service,\n"
	"                  verdict}; gauges mxguard_networks_tracked and\n"
	"                  mxguard_networks_limited{service}), for node_exporter's\n"
	"                  textfile collector; with the outbound side also\n"
	"                  mxguard_outbound_* and mxguard_local_* as 'mxguard\n"
	"                  outbound --prometheus' and 'mxguard local --prometheus'\n"
	"                  print them, without the per-destination, per-source,\n"
	"                  per-uid and per-cgroup series (collect those from one\n"
	"                  place only)\n"
	"  --watch N       repeat every N seconds; tables show per-second rates\n",
	.run = do_stats,
};

/* ---- top -------------------------------------------------------------- */

struct src_rec {
	struct mxg_src_key k;
	struct mxg_src_val v;
};

struct src_agg {
	union mxg_addr addr;
	size_t first;          /* index of its first record */
	size_t nrec;
	__u64 syns, drops, would_drops, first_ns, last_ns;
	int limited;
};

static int cmp_rec(const void *a, const void *b)
{
	const struct src_rec *x = a, *y = b;
	int r = memcmp(&x->k.addr, &y->k.addr, sizeof(x->k.addr));

	return r ? r : (int)x->k.svc - (int)y->k.svc;
}

/* Average new connections per minute since the source was first seen (at
 * least over one second): what the table can tell without a history. */
static double agg_rate(const struct src_agg *a)
{
	double span = (double)(a->last_ns - a->first_ns) / 1e9;

	return a->syns * 60.0 / (span < 1.0 ? 1.0 : span);
}

enum { BY_DROPS, BY_SYNS, BY_RATE };
static int sort_by = BY_DROPS;

static int cmp_agg(const void *a, const void *b)
{
	const struct src_agg *x = a, *y = b;
	__u64 xd = x->drops + x->would_drops, yd = y->drops + y->would_drops;

	if (sort_by == BY_RATE && agg_rate(x) != agg_rate(y))
		return agg_rate(x) < agg_rate(y) ? 1 : -1;
	if (sort_by == BY_SYNS && x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	if (xd != yd)
		return xd < yd ? 1 : -1;
	if (x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* Records read from a map into a growing array of size-byte elements. */
struct collect {
	void *v;
	size_t n, cap, size;
	int svc;       /* top --networks: only this service's slots (> 0) */
};

/* The next free element of c, grown as needed; NULL: out of memory. */
static void *collect_next(struct collect *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		void *nv = realloc(c->v, cap * c->size);

		if (!nv)
			return NULL;
		c->v = nv;
		c->cap = cap;
	}
	return (char *)c->v + c->n++ * c->size;
}

static int src_collect_cb(const void *k, const void *v, void *ctx)
{
	struct src_rec *r = collect_next(ctx);

	if (!r)
		return -ENOMEM;
	memcpy(&r->k, k, sizeof(r->k));
	memcpy(&r->v, v, sizeof(r->v));
	return 0;
}

/* Every source record. */
static int read_sources(const struct mxg_maps *m, struct src_rec **out,
			size_t *n)
{
	struct collect c = { .size = sizeof(struct src_rec) };
	int err = mxg_map_each(m->src, sizeof(struct mxg_src_key),
			       sizeof(struct mxg_src_val), src_collect_cb, &c);

	if (err) {
		free(c.v);
		return err;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* Sort the records (only service svc when svc > 0) by source and sum each
 * source's; *nrec becomes the number of records kept. */
static int aggregate(struct src_rec *recs, size_t *nrec, int svc, __u64 now,
		     struct src_agg **out, size_t *nagg)
{
	struct src_agg *aggs;
	size_t i, n = 0;

	for (i = 0; i < *nrec; i++)
		if (svc <= 0 || recs[i].k.svc == (__u32)svc)
			recs[n++] = recs[i];
	*nrec = n;
	if (n)
		qsort(recs, n, sizeof(*recs), cmp_rec);
	aggs = calloc(n ? n : 1, sizeof(*aggs));
	if (!aggs)
		return -ENOMEM;
	*nagg = 0;
	for (i = 0; i < n; i++) {
		struct src_agg *a;
		const struct mxg_src_val *v = &recs[i].v;

		if (!*nagg || memcmp(&aggs[*nagg - 1].addr, &recs[i].k.addr,
				     sizeof(recs[i].k.addr))) {
			a = &aggs[(*nagg)++];
			a->addr = recs[i].k.addr;
			a->first = i;
			a->first_ns = v->first_ns;
		}
		a = &aggs[*nagg - 1];
		a->nrec++;
		a->syns += v->syns;
		a->drops += v->drops;
		a->would_drops += v->would_drops;
		if (v->first_ns < a->first_ns)
			a->first_ns = v->first_ns;
		if (v->last_ns > a->last_ns)
			a->last_ns = v->last_ns;
		if ((v->flags & MXG_SRCF_LIMITED) && !mxg_bucket_full(v->tat_ns, now))
			a->limited = 1;
	}
	*out = aggs;
	return 0;
}

static const char *src_status(const struct mxg_maps *m, const struct src_agg *a,
			      char *feed, size_t len)
{
	struct mxg_allow_entry ae;
	struct mxg_block_entry be;

	feed[0] = '\0';
	if (mxg_allow_match(m, &a->addr, &ae))
		return "allowed";
	if (mxg_block_match(m, &a->addr, &be) &&
	    !mxg_block_expired(&be.v, mxg_mono_ns())) {
		mxg_feed_name(m, be.v.feed_id, feed, len);
		return "blocked";
	}
	return a->limited ? "limited" : "ok";
}

/* ---- top --networks: the network buckets ---- */

static int net_collect_cb(const void *k, const void *v, void *ctx)
{
	const struct mxg_pfx_val *p = v;
	struct collect *c = ctx;
	struct mxg_pfx_val *r;

	(void)k;
	if (!p->svc || p->svc >= MXG_SVC_MAX || (c->svc > 0 && p->svc != c->svc))
		return 0;
	r = collect_next(c);
	if (!r)
		return -ENOMEM;
	*r = *p;
	return 0;
}

static int cmp_net(const void *a, const void *b)
{
	const struct mxg_pfx_val *x = a, *y = b;

	if (sort_by == BY_SYNS && x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	if (x->drops != y->drops)
		return x->drops < y->drops ? 1 : -1;
	if (x->syns != y->syns)
		return x->syns < y->syns ? 1 : -1;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

/* The network buckets in use (svc > 0: that service's), most refused
 * first, the first `limit` of them. */
static int top_networks(const struct mxg_maps *m, const struct mxg_cfg *cfg,
			int svc, __u32 limit, int json)
{
	static const char *head[] = { "NETWORK", "SERVICE", "SYNS", "DROPS",
				      "SHARED", "TOKENS", "STATUS" };
	struct collect c = { .size = sizeof(struct mxg_pfx_val), .svc = svc };
	const struct mxg_pfx_val *nets;
	__u64 now = mxg_mono_ns();
	size_t i, n, shown;
	struct mxg_table t;
	struct mxg_json j;
	int err;

	err = mxg_map_each(m->pfx, sizeof(__u32), sizeof(struct mxg_pfx_val),
			   net_collect_cb, &c);
	if (err) {
		free(c.v);
		return err;
	}
	nets = c.v;
	n = c.n;
	if (n)
		qsort(c.v, n, sizeof(*nets), cmp_net);
	shown = n < limit ? n : limit;
	if (!json && !shown) {
		printf("no network buckets in use\n");
		goto out;
	}
	if (json) {
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_time(&j, "time", mxg_unix_s());
		mxg_json_u64(&j, "tracked", n);
		mxg_json_u64(&j, "slots", MXG_PFX_SLOTS);
		mxg_json_arr(&j, "networks");
	} else {
		mxg_table_init(&t, 7, head, 0x3c);
	}
	for (i = 0; i < shown; i++) {
		const struct mxg_pfx_val *v = &nets[i];
		const struct mxg_limit *l = &cfg->plimit[v->svc];
		int limited;
		__u32 tokens = mxg_pfx_tokens(cfg, v, now, &limited);
		char cs[MXG_CIDR_STRLEN], sy[16], dr[16], sh[16], tk[32];
		const char *cells[7] = { cs, mxg_svc_name(v->svc), sy, dr, sh, tk,
					 limited ? "limited" : "ok" };
		struct mxg_cidr cidr;

		mxg_pfx_cidr(v, &cidr);
		mxg_cidr_format(&cidr, cs, sizeof(cs));
		if (json) {
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "prefix", cs);
			mxg_json_str(&j, "service", mxg_svc_name(v->svc));
			mxg_json_u64(&j, "syns", v->syns);
			mxg_json_u64(&j, "drops", v->drops);
			mxg_json_u64(&j, "shared", v->shared);
			mxg_json_u64(&j, "tokens", tokens);
			mxg_json_u64(&j, "burst", l->burst);
			mxg_json_bool(&j, "limited", limited);
			mxg_json_obj_end(&j);
			continue;
		}
		mxg_format_count(v->syns, sy, sizeof(sy));
		mxg_format_count(v->drops, dr, sizeof(dr));
		mxg_format_count(v->shared, sh, sizeof(sh));
		snprintf(tk, sizeof(tk), "%u/%u", tokens, l->burst);
		mxg_table_row(&t, cells);
	}
	if (json) {
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
		printf("\n%zu of %u network slots in use; DROPS: refused by the network's bucket\n"
		       "(or would be, in monitor mode); SHARED: SYNs of new sources of other\n"
		       "networks that hash to this slot while it drains, and so met this bucket\n"
		       "(their sources with a record keep to their own buckets)\n", n, MXG_PFX_SLOTS);
	}
out:
	free(c.v);
	return 0;
}

static int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "by", required_argument, NULL, 'b' },
		{ "service", required_argument, NULL, 's' },
		{ "networks", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int svc = 0, networks = 0;
	struct src_rec *recs = NULL;
	struct src_agg *aggs = NULL;
	struct mxg_cfg *cfg = NULL;
	size_t nrec = 0, nagg = 0, i, k;
	int opt, err, json = 0;
	__u32 limit = 20;
	const char *why;
	struct mxg_maps m;
	__u64 now;

	while ((opt = mxg_getopt(&mxg_cmd_top, argc, argv, "jn:b:s:Nh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'N': networks = 1; break;
		case 'b':
			if (!strcmp(optarg, "drops"))
				sort_by = BY_DROPS;
			else if (!strcmp(optarg, "syns"))
				sort_by = BY_SYNS;
			else if (!strcmp(optarg, "rate"))
				sort_by = BY_RATE;
			else
				return mxg_usage(&mxg_cmd_top, "invalid --by '%s': use syns, drops or rate",
						 optarg);
			break;
		case 's':
			svc = mxg_svc_by_name(optarg);
			if (svc <= 0)
				return mxg_usage(&mxg_cmd_top,
						 "unknown service '%s': use smtp, submissions, submission, pop3, pop3s, imap or imaps",
						 optarg);
			break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, 1000000, &limit, &why))
				return mxg_usage(&mxg_cmd_top, "invalid -n '%s': %s", optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_top); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_top, argc, argv, 0, "");
	if (err)
		return err;
	if (networks && sort_by == BY_RATE)
		return mxg_usage(&mxg_cmd_top,
				 "--by rate ranks sources only: a network bucket keeps no first-seen time");
	err = mxg_require_caps(MXG_NEED_BPF);
	if (err)
		return err;
	err = mxg_maps_open(&m);
	if (err)
		return err;
	cfg = mxg_cfg_load(&m);
	if (!cfg) {
		err = -EIO;
		goto out;
	}
	if (networks) {
		err = top_networks(&m, cfg, svc, limit, json);
		goto out;
	}
	err = read_sources(&m, &recs, &nrec);
	if (err)
		goto out;
	now = mxg_mono_ns();
	err = aggregate(recs, &nrec, svc, now, &aggs, &nagg);
	if (err)
		goto out;
	if (nagg)
		qsort(aggs, nagg, sizeof(*aggs), cmp_agg);
	if (nagg > limit)
		nagg = limit;

	if (json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_time(&j, "time", mxg_unix_s());
		mxg_json_u64(&j, "tracked", nrec);
		mxg_json_arr(&j, "sources");
		for (i = 0; i < nagg; i++) {
			const struct src_agg *a = &aggs[i];
			char as[MXG_CIDR_STRLEN], feed[MXG_FEED_NAME_LEN + 8];
			const char *st = src_status(&m, a, feed, sizeof(feed));

			mxg_addr_format(&a->addr, as, sizeof(as));
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "addr", as);
			mxg_json_u64(&j, "syns", a->syns);
			mxg_json_u64(&j, "drops", a->drops);
			mxg_json_u64(&j, "would_drops", a->would_drops);
			mxg_json_u64(&j, "rate_per_min", (__u64)(agg_rate(a) + 0.5));
			mxg_json_time(&j, "first_seen", mxg_mono_to_unix(a->first_ns));
			mxg_json_time(&j, "last_seen", mxg_mono_to_unix(a->last_ns));
			mxg_json_str(&j, "status", st);
			mxg_json_str(&j, "feed", feed[0] ? feed : NULL);
			mxg_json_obj(&j, "services");
			for (k = a->first; k < a->first + a->nrec; k++) {
				const struct src_rec *r = &recs[k];
				const struct mxg_limit *l = &cfg->limit[r->k.svc < MXG_SVC_MAX ? r->k.svc : 0];

				mxg_json_obj(&j, mxg_svc_name(r->k.svc));
				mxg_json_u64(&j, "syns", r->v.syns);
				mxg_json_u64(&j, "drops", r->v.drops);
				mxg_json_u64(&j, "would_drops", r->v.would_drops);
				mxg_json_u64(&j, "tokens", mxg_bucket_tokens(r->v.tat_ns, now,
							l->interval_ns, l->burst));
				mxg_json_bool(&j, "limited", (r->v.flags & MXG_SRCF_LIMITED) &&
					      !mxg_bucket_full(r->v.tat_ns, now));
				mxg_json_obj_end(&j);
			}
			mxg_json_obj_end(&j);
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (!nagg) {
		printf("no sources seen yet\n");
	} else {
		static const char *head[] = { "SOURCE", "SYNS", "DROPS", "WOULD", "RATE/MIN",
					      "FIRST SEEN", "LAST SEEN", "STATUS", "SERVICES" };
		struct mxg_table t;

		mxg_table_init(&t, 9, head, 0x1e);
		for (i = 0; i < nagg; i++) {
			const struct src_agg *a = &aggs[i];
			char as[MXG_CIDR_STRLEN], sy[16], dr[16], wd[16], fs[32], ls[32];
			char st[64], feed[MXG_FEED_NAME_LEN + 8], svcs[128], rt[24];
			const char *cells[9] = { as, sy, dr, wd, rt, fs, ls, st, svcs };
			size_t off = 0;

			mxg_addr_format(&a->addr, as, sizeof(as));
			mxg_format_count(a->syns, sy, sizeof(sy));
			mxg_format_count(a->drops, dr, sizeof(dr));
			mxg_format_count(a->would_drops, wd, sizeof(wd));
			snprintf(rt, sizeof(rt), "%.1f", agg_rate(a));
			mxg_format_time(mxg_mono_to_unix(a->first_ns), fs, sizeof(fs));
			mxg_format_time(mxg_mono_to_unix(a->last_ns), ls, sizeof(ls));
			snprintf(st, sizeof(st), "%s", src_status(&m, a, feed, sizeof(feed)));
			if (feed[0])
				snprintf(st, sizeof(st), "blocked (%s)", feed);
			svcs[0] = '\0';
			for (k = a->first; k < a->first + a->nrec && off < sizeof(svcs); k++)
				off += snprintf(svcs + off, sizeof(svcs) - off, "%s%s",
						off ? "," : "", mxg_svc_name(recs[k].k.svc));
			mxg_table_row(&t, cells);
		}
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
		printf("\n%zu source/service records tracked; WOULD = would have been dropped (monitor mode)\n",
		       nrec);
	}
out:
	free(cfg);
	free(recs);
	free(aggs);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_top = {
	.name = "top",
	.synopsis = "top [-n N] [--by syns|drops|rate] [--service SERVICE] [--json]\n"
		    "top --networks [-n N] [--by syns|drops] [--service SERVICE] [--json]",
	.summary = "the sources (or networks) that opened or were refused the most connections",
	.help =
	"Sources tracked by the program (IPv4 /32, IPv6 /64 by default), ranked by\n"
	"refused connections (drops plus would-drops), then by SYNs. For each:\n"
	"SYNs, drops, would-drops (monitor mode), first and last seen (UTC), the\n"
	"services it used, and its status: allowed (allowlist), blocked (and by\n"
	"which feed), limited (over its limit now) or ok.\n\n"
	"The source table is an LRU of bounded size: under a flood of spoofed\n"
	"addresses, the quietest sources are forgotten first.\n\n"
	"With --networks: the network buckets instead (IPv4 /24, IPv6 /48 unless\n"
	"set per service: limit show), ranked the same way. A botnet spread over\n"
	"one network shows here, not among the sources: a new source its network\n"
	"refuses gets no record of its own, the network's bucket counts it.\n"
	"STATUS limited: the bucket is empty now.\n\n"
	"Options:\n"
	"  -n N     show N sources or networks (default 20)\n"
	"  --by K   rank by drops (refused plus would-be-refused, default), syns,\n"
	"           or rate (sources only: new connections per minute, averaged\n"
	"           since first seen)\n"
	"  --service S  only that service's records\n"
	"  --networks   rank the network buckets\n"
	"  --json   {time, tracked, sources[{addr, syns, drops, would_drops,\n"
	"           rate_per_min,\n"
	"           first_seen, last_seen, status, feed, services{SERVICE{syns,\n"
	"           drops, would_drops, tokens, limited}}}]}; with --networks\n"
	"           {time, tracked, slots, networks[{prefix, service, syns,\n"
	"           drops, shared, tokens, burst, limited}]}\n",
	.run = do_top,
};

/* ---- report --------------------------------------------------------------- */

/* "Looks like an MTA": seen for ten minutes or more, at least ten new
 * connections, and on average no faster than its service's sustained rate:
 * a steady peer whose bursts hit the limit, not a flood. */
#define MTA_MIN_SPAN_NS (600ull * 1000000000ull)
#define MTA_MIN_SYNS 10

static int is_mta_like(const struct src_rec *r, const struct mxg_cfg *c)
{
	const struct mxg_limit *l = &c->limit[r->k.svc < MXG_SVC_MAX ? r->k.svc : 0];
	__u64 span = r->v.last_ns - r->v.first_ns;
	double rate, allowed;

	if (!(r->v.drops + r->v.would_drops) || r->v.syns < MTA_MIN_SYNS ||
	    span < MTA_MIN_SPAN_NS || !l->interval_ns)
		return 0;
	rate = r->v.syns / (span / 1e9);
	allowed = 1e9 / (double)l->interval_ns;
	return rate <= allowed;
}

static int do_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const unsigned would[] = { MXG_R_LIMIT_WOULD, MXG_R_PLIMIT_WOULD, MXG_R_BLOCK_WOULD };
	static const unsigned did[] = { MXG_R_LIMIT, MXG_R_PLIMIT, MXG_R_BLOCK, MXG_R_LOCKDOWN };
	__u64 cnt[MXG_NCOUNTERS], allow_hits = 0;
	struct mxg_allow_entry *allow = NULL;
	struct src_rec *recs = NULL;
	struct mxg_cfg *c = NULL;
	size_t nrec = 0, nallow = 0, i, nmta = 0, nrefused = 0;
	int opt, err, json = 0;
	struct mxg_json j;
	struct mxg_maps m;
	unsigned s, r;

	while ((opt = mxg_getopt(&mxg_cmd_report, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_report); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_report, argc, argv, 0, "");
	if (err)
		return err;
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	c = mxg_cfg_load(&m);
	err = c ? mxg_stats_read(&m, cnt) : -EIO;
	if (!err)
		err = mxg_allow_all(&m, &allow, &nallow);
	if (!err)
		err = read_sources(&m, &recs, &nrec);
	if (err)
		goto out;
	for (i = 0; i < nallow; i++)
		allow_hits += allow[i].v.hits;
	/* An allowlisted source never reaches the buckets; a record of one
	 * with refusals would be from before it was allowlisted. */
	for (i = 0; i < nrec; i++) {
		if (recs[i].v.drops + recs[i].v.would_drops &&
		    mxg_allow_overlap(allow, nallow, &(struct mxg_cidr){ .addr = recs[i].k.addr,
				      .plen = 128 }, NULL))
			nrefused++;
		nmta += is_mta_like(&recs[i], c);
	}

	if (json) {
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_time(&j, "time", mxg_unix_s());
		mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
		mxg_json_time(&j, "mode_since", c->mode_since_s);
		mxg_json_obj(&j, "services");
		for (s = 1; s < MXG_SVC_MAX; s++) {
			mxg_json_obj(&j, mxg_svc_name(s));
			mxg_json_obj(&j, "would_drop");
			for (r = 0; r < 3; r++)
				mxg_json_u64(&j, mxg_reason_name(would[r]), cnt[MXG_COUNTER_IDX(s, would[r])]);
			mxg_json_obj_end(&j);
			mxg_json_obj(&j, "dropped");
			for (r = 0; r < 4; r++)
				mxg_json_u64(&j, mxg_reason_name(did[r]), cnt[MXG_COUNTER_IDX(s, did[r])]);
			mxg_json_obj_end(&j);
			mxg_json_obj_end(&j);
		}
		mxg_json_obj_end(&j);
		mxg_json_obj(&j, "allowlist");
		mxg_json_u64(&j, "entries", nallow);
		mxg_json_u64(&j, "hits", allow_hits);
		mxg_json_u64(&j, "refused_sources", nrefused);
		mxg_json_obj_end(&j);
		mxg_json_arr(&j, "mta_like");
		for (i = 0; i < nrec; i++) {
			char as[MXG_CIDR_STRLEN];

			if (!is_mta_like(&recs[i], c))
				continue;
			mxg_addr_format(&recs[i].k.addr, as, sizeof(as));
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "addr", as);
			mxg_json_str(&j, "service", mxg_svc_name(recs[i].k.svc));
			mxg_json_u64(&j, "syns", recs[i].v.syns);
			mxg_json_u64(&j, "span_s", (recs[i].v.last_ns - recs[i].v.first_ns) / 1000000000ull);
			mxg_json_u64(&j, "drops", recs[i].v.drops);
			mxg_json_u64(&j, "would_drops", recs[i].v.would_drops);
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
		goto out;
	}

	{
		static const char *head[] = { "SERVICE", "WOULD: LIMIT", "NETWORK", "BLOCK",
					      "DROPPED: LIMIT", "NETWORK", "BLOCK", "LOCKDOWN" };
		__u64 net_refused = 0;
		char since[32];
		struct mxg_table t;

		mxg_format_time(c->mode_since_s, since, sizeof(since));
		printf("mode %s since %s\n\nWhat enforcing would have dropped (monitor), and what was dropped:\n",
		       mxg_mode_name(c->mode), since);
		mxg_table_init(&t, 8, head, 0xfe);
		for (s = 1; s < MXG_SVC_MAX; s++) {
			char b[7][24];
			const char *cells[8] = { mxg_svc_name(s), b[0], b[1], b[2], b[3], b[4], b[5], b[6] };

			for (r = 0; r < 3; r++)
				mxg_format_count(cnt[MXG_COUNTER_IDX(s, would[r])], b[r], sizeof(b[r]));
			for (r = 0; r < 4; r++)
				mxg_format_count(cnt[MXG_COUNTER_IDX(s, did[r])], b[3 + r], sizeof(b[3 + r]));
			mxg_table_row(&t, cells);
		}
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
		for (s = 1; s < MXG_SVC_MAX; s++)
			net_refused += cnt[MXG_COUNTER_IDX(s, MXG_R_PLIMIT_WOULD)] +
				       cnt[MXG_COUNTER_IDX(s, MXG_R_PLIMIT)];
		if (net_refused)
			printf("\nNetworks whose bucket refused (or would refuse): 'mxguard top --networks'.\n"
			       "A provider's MTA pool is a partner for the allowlist, or needs a wider\n"
			       "network limit ('mxguard limit set SERVICE --prefix-rate/--prefix-burst').\n");
	}
	printf("\nAllowlist: %zu entries, %llu packets passed; refused sources in it: %zu%s\n",
	       nallow, (unsigned long long)allow_hits, nrefused,
	       nrefused ? " (records from before they were allowlisted)" : " (never)");
	if (!nmta) {
		printf("No source that looks like an MTA (steady for 10+ min, within the\nsustained rate) would have been limited.\n");
		goto out;
	}
	printf("\nSources that look like MTAs (steady for 10+ min, within the sustained rate)\nbut hit the burst; consider 'mxguard allow add ADDR --comment ...':\n");
	for (i = 0; i < nrec; i++) {
		char as[MXG_CIDR_STRLEN];

		if (!is_mta_like(&recs[i], c))
			continue;
		mxg_addr_format(&recs[i].k.addr, as, sizeof(as));
		printf("  %-40s %-12s %llu syns over %llu min, %llu refused or would be\n", as,
		       mxg_svc_name(recs[i].k.svc), (unsigned long long)recs[i].v.syns,
		       (unsigned long long)((recs[i].v.last_ns - recs[i].v.first_ns) / 60000000000ull),
		       (unsigned long long)(recs[i].v.drops + recs[i].v.would_drops));
	}
out:
	free(recs);
	free(allow);
	free(c);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_report = {
	.name = "report",
	.synopsis = "report [--json]",
	.summary = "one screen: what enforcing would drop, partners, MTA-like sources",
	.help =
	"Before enforcing a new limit, run 'mxguard mode monitor' for a while,\n"
	"then ask: what would enforce have dropped, per service (limit, network\n"
	"limit, blocklist), and what was actually dropped; whether any allowlisted\n"
	"address was refused (the program never does: allowlisted sources never\n"
	"reach the buckets); and which sources look like MTAs (seen for ten\n"
	"minutes or more, ten or more connections, on average within the\n"
	"service's sustained rate) yet hit the burst: candidates for the\n"
	"allowlist rather than victims of the limit.\n\n"
	"Options:\n"
	"  --json   {time, mode, mode_since, services{SERVICE{would_drop{limit_would,\n"
	"           prefix_limit_would, block_would}, dropped{limit, prefix_limit,\n"
	"           block, lockdown}}}, allowlist{entries, hits, refused_sources},\n"
	"           mta_like[{addr, service, syns, span_s, drops, would_drops}]}\n",
	.run = do_report,
};

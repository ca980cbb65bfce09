// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run: the foreground service. Attaches the configured interfaces, restores
 * the state snapshot after a reboot, refreshes feeds, collects expired
 * entries, snapshots the state on change, reloads on SIGHUP, and leaves the
 * filter attached and pinned on SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include "cmd.h"
#include "config.h"
#include "feeds.h"
#include "listfmt.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "rescale.h"
#include "state.h"
#include "alert.h"
#include "escalate.h"
#include "logwatch.h"
#include "crowdsec.h"
#include "out.h"
#include "outbound.h"
#include "outwatch.h"
#include "netwatch.h"
#include <json-c/json.h>
#include "units.h"

#define MXG_CONF_DEFAULT "/etc/mxguard/mxguard.conf"
#define GC_INTERVAL_S 60
#define SNAPSHOT_MIN_S 5         /* at most one snapshot per 5 s of changes */
#define SNAPSHOT_PERIOD_S 600    /* and one every 10 min regardless */
#define FEED_RETRY_S 60          /* a feed that failed is tried again */
#define ESC_INTERVAL_S 2         /* how often the penalty table is read */
#define NET_INTERVAL_S 2         /* and the network slots */
#define NET_LOG_MAX 10           /* networks named per reading; more counted */
#define ESC_FILE "escalation.jsonl"
#define LW_FEED "logwatch"
#define LW_PENDING 1024          /* log actions queued between ticks */

/* One log line on stderr (journald): ts=... level=... msg="..." k=v ... */
__attribute__((format(printf, 3, 4)))
static void slog(const char *level, const char *msg, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	mxg_format_time(mxg_unix_s(), ts, sizeof(ts));
	fprintf(stderr, "ts=%s level=%s msg=\"%s\"", ts, level, msg);
	if (fmt && *fmt) {
		fputc(' ', stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	fflush(stderr);
}

struct svc {
	const char *conf_path;    /* NULL: no config file */
	struct mxg_config conf;
	int have_conf;
	const char *state_dir;
	__u64 *feed_due;          /* per conf.feeds[i], unix s */
	__u64 gc_due, snap_due, snap_last;
	__u32 gen_seen;
	int gen_valid;
	int pending;              /* changed since the last snapshot */
	struct mxg_esc *esc;      /* NULL: no [escalation] */
	struct mxg_alert alert;
	__u64 esc_due, drops_due, drops_prev;
	int drops_valid;
	unsigned mode_prev;
	int mode_valid;
	struct mxg_logwatch *lw;  /* NULL: no [logwatch] */
	struct mxg_follow follow[MXG_CONFIG_MAX_FILES];
	unsigned nfollow;
	struct mxg_lw_action *pending_lw; /* bans and alerts from the logs */
	unsigned npending_lw, dropped_lw;
	struct mxg_crowdsec *cs;  /* NULL: no [crowdsec] */
	struct mxo_watch ow;      /* outbound episodes seen */
	struct mxg_netwatch nw;   /* network episodes seen (buffers on first use) */
	__u64 nw_due;
	__u64 ob_due;             /* outbound maps not before (unix s) */
};

/* The alert command gets json (rate-limited there); the log says so. */
static void alert_send(struct svc *s, const char *event, const char *json)
{
	if (mxg_alert_send(&s->alert, mxg_unix_s(), json) > 0)
		slog("info", "alert sent", "event=%s command=%s", event, s->alert.argv[0]);
}

/* An alert: JSON with the event and time, to the alert command and the log. */
__attribute__((format(printf, 3, 4)))
static void alert(struct svc *s, const char *event, const char *fmt, ...)
{
	char body[768], json[1024], ts[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	mxg_format_time(mxg_unix_s(), ts, sizeof(ts));
	snprintf(json, sizeof(json), "{\"event\":\"%s\",\"time\":\"%s\"%s%s}", event, ts,
		 *body ? "," : "", body);
	alert_send(s, event, json);
}

static void esc_cfg_from(const struct mxg_config *c, struct mxg_esc_cfg *e)
{
	unsigned i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < c->n_steps && i < MXG_ESC_MAX_STEPS; i++)
		e->steps_s[i] = c->steps_s[i];
	e->n_steps = i;
	e->window_s = c->window_s;
	e->after = c->after;
}

static void on_ban(const struct mxg_esc_ban *b, void *ctx)
{
	struct svc *s = ctx;
	char cs[MXG_CIDR_STRLEN], ttl[32];

	mxg_cidr_format(&b->cidr, cs, sizeof(cs));
	mxg_format_duration(b->ttl_s, ttl, sizeof(ttl));
	slog("warn", "repeat offender banned", "source=%s ban=%u offences=%u ttl=%s feed=%s",
	     cs, b->ban_no, b->offences, ttl, MXG_ESC_FEED);
	alert(s, "ban", "\"source\":\"%s\",\"ban\":%u,\"offences\":%u,\"ttl_s\":%llu,\"feed\":\"%s\"",
	      cs, b->ban_no, b->offences, (unsigned long long)b->ttl_s, MXG_ESC_FEED);
}

static int esc_fill(FILE *f, void *ctx)
{
	return mxg_esc_write(ctx, f);
}

/* The offence history survives restarts in its own small file. */
static void esc_load(struct svc *s)
{
	char path[PATH_MAX], line[4096];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s->state_dir, ESC_FILE);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line);

		if (o && !mxg_esc_read(s->esc, o))
			n++;
		json_object_put(o);
	}
	fclose(f);
	slog("info", "offence history restored", "sources=%zu", n);
}

static void logwatch_stop(struct svc *s)
{
	unsigned i;

	for (i = 0; i < s->nfollow; i++)
		mxg_follow_close(&s->follow[i]);
	s->nfollow = 0;
	mxg_logwatch_free(s->lw);
	s->lw = NULL;
}

static void logwatch_start(struct svc *s)
{
	struct mxg_logwatch_cfg lc;
	const char *why = NULL;
	unsigned i;

	mxg_logwatch_cfg_default(&lc);
	lc.auth_max = s->conf.lw_auth_max;
	lc.auth_window_s = s->conf.lw_auth_window_s;
	lc.ban_ttl_s = s->conf.lw_ban_ttl_s;
	lc.acct_max_addrs = s->conf.lw_acct_max_addrs;
	lc.acct_max_msgs = s->conf.lw_acct_max_msgs;
	lc.acct_window_s = s->conf.lw_acct_window_s;
	lc.acct_ban = s->conf.lw_acct_ban;
	lc.v6_prefix = s->conf.v6_prefix_set ? s->conf.v6_prefix : 64;
	if (mxg_logwatch_init(&s->lw, &lc, &why)) {
		slog("error", "logwatch not started", "error=\"%s\"", why ? why : "?");
		s->lw = NULL;
		return;
	}
	for (i = 0; i < s->conf.n_lw_files; i++) {
		if (mxg_follow_open(&s->follow[s->nfollow], s->conf.lw_files[i], 0)) {
			slog("error", "cannot follow log", "file=%s", s->conf.lw_files[i]);
			continue;
		}
		slog("info", "following log", "file=%s", s->conf.lw_files[i]);
		s->nfollow++;
	}
}

static void crowdsec_start(struct svc *s)
{
	struct mxg_crowdsec_cfg cc;

	mxg_crowdsec_free(s->cs);
	s->cs = NULL;
	if (!s->conf.crowdsec)
		return;
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.url, sizeof(cc.url), "%s", s->conf.cs_url);
	cc.interval_s = s->conf.cs_interval_s;
	if (mxg_crowdsec_key_read(s->conf.cs_key_file, cc.api_key, sizeof(cc.api_key)) ||
	    mxg_crowdsec_new(&s->cs, &cc)) {
		slog("error", "crowdsec bouncer not started", "url=%s key_file=%s",
		     s->conf.cs_url, s->conf.cs_key_file);
		s->cs = NULL;
		return;
	}
	slog("info", "crowdsec bouncer started", "url=%s interval_s=%u", cc.url, cc.interval_s);
}

static void apply_side_config(struct svc *s)
{
	struct mxg_esc_cfg ec;

	logwatch_stop(s);
	if (s->conf.logwatch)
		logwatch_start(s);
	crowdsec_start(s);

	mxg_alert_free(&s->alert);
	if (s->conf.alert && mxg_alert_init(&s->alert, s->conf.alert_command,
					    s->conf.alert_min_interval_s))
		slog("error", "alert command not usable", "command=\"%s\"", s->conf.alert_command);
	if (!s->conf.escalation) {
		mxg_esc_free(s->esc);
		s->esc = NULL;
		return;
	}
	esc_cfg_from(&s->conf, &ec);
	if (s->esc)
		mxg_esc_reconfigure(s->esc, &ec);
	else if (!mxg_esc_new(&s->esc, &ec))
		esc_load(s);
}

/* Mode changes to lockdown and drop-rate thresholds, for the alert command. */
static void watch_alerts(struct svc *s, const struct mxg_maps *m, __u64 now)
{
	struct mxg_cfg *c = mxg_cfg_load(m);
	__u64 cnt[MXG_NCOUNTERS], dropped = 0;
	unsigned sv, r;

	if (c) {
		if (s->mode_valid && c->mode != s->mode_prev) {
			slog(c->mode == MXG_MODE_LOCKDOWN ? "warn" : "info", "mode changed",
			     "mode=%s was=%s", mxg_mode_name(c->mode), mxg_mode_name(s->mode_prev));
			if (c->mode == MXG_MODE_LOCKDOWN)
				alert(s, "lockdown", "\"mode\":\"lockdown\",\"was\":\"%s\"",
				      mxg_mode_name(s->mode_prev));
		}
		s->mode_prev = c->mode;
		s->mode_valid = 1;
		free(c);
	}
	if (!s->conf.alert_drops_per_min || now < s->drops_due)
		return;
	s->drops_due = now + 60;
	if (mxg_stats_read(m, cnt))
		return;
	for (sv = 0; sv < MXG_SVC_MAX; sv++)
		for (r = 0; r < MXG_R_MAX; r++)
			if (MXG_REASON_DROPS(r))
				dropped += cnt[MXG_COUNTER_IDX(sv, r)];
	if (s->drops_valid && dropped - s->drops_prev > s->conf.alert_drops_per_min) {
		slog("warn", "drop rate above threshold", "dropped_per_min=%llu threshold=%u",
		     (unsigned long long)(dropped - s->drops_prev), s->conf.alert_drops_per_min);
		alert(s, "drops", "\"dropped_per_min\":%llu,\"threshold\":%u",
		      (unsigned long long)(dropped - s->drops_prev), s->conf.alert_drops_per_min);
	}
	s->drops_prev = dropped;
	s->drops_valid = 1;
}

/* ---- alerts built with the JSON writer -------------------------------------- */

/* An alert document built with the JSON writer (names need escaping):
 * open it, add members, then json_alert_send(). */
struct json_alert {
	char *buf;
	size_t len;
	FILE *f;
	struct mxg_json j;
	const char *event;
};

static int json_alert_open(struct json_alert *a, const char *event)
{
	memset(a, 0, sizeof(*a));
	a->event = event;
	a->f = open_memstream(&a->buf, &a->len);
	if (!a->f)
		return -ENOMEM;
	mxg_json_init(&a->j, a->f);
	mxg_json_obj(&a->j, NULL);
	mxg_json_str(&a->j, "event", event);
	mxg_json_time(&a->j, "time", mxg_unix_s());
	return 0;
}

static void json_alert_send(struct svc *s, struct json_alert *a)
{
	mxg_json_obj_end(&a->j);
	if (!fclose(a->f))
		alert_send(s, a->event, a->buf);
	free(a->buf);
}

/* ---- network limit episodes -------------------------------------------------- */

/* The network of change x and its service's network limit (returned),
 * for log and alert. */
static const struct mxg_limit *net_strs(const struct mxg_cfg *c,
					const struct mxg_net_change *x,
					char *cs, size_t clen, char *rate, size_t rlen)
{
	const struct mxg_limit *l = &c->plimit[x->v.svc < MXG_SVC_MAX ? x->v.svc : 0];
	struct mxg_cidr cidr;

	mxg_pfx_cidr(&x->v, &cidr);
	mxg_cidr_format(&cidr, cs, clen);
	mxg_format_rate(l->rate_n, l->rate_per_s, rate, rlen);
	return l;
}

/* Networks whose bucket began to refuse (warn, and one alert per reading
 * naming up to NET_LOG_MAX) and whose bucket has refilled (info). Not more
 * than NET_LOG_MAX lines of each per reading: a spoofed flood over
 * thousands of networks is one more line with the count. */
static void watch_networks(struct svc *s, const struct mxg_maps *m, __u64 now)
{
	struct mxg_netwatch_news n;
	struct json_alert a;
	struct mxg_cfg *c;
	char cs[MXG_CIDR_STRLEN], rate[32];
	int alerting;
	size_t i;

	if (now < s->nw_due)
		return;
	s->nw_due = now + NET_INTERVAL_S;
	if (!s->nw.cur && mxg_netwatch_init(&s->nw)) {
		slog("error", "network episodes not watched", "error=\"%s\"", strerror(ENOMEM));
		s->nw_due = now + 60;
		return;
	}
	c = mxg_cfg_load(m);
	if (!c)
		return;
	if (mxg_pfx_read_all(m, s->nw.cur) ||
	    mxg_netwatch_update(&s->nw, mxg_mono_ns(), &n)) {
		slog("error", "cannot read the network slots", "%s", "");
		free(c);
		return;
	}
	if (n.first && n.limited)
		slog("info", "networks refusing at start", "count=%zu", n.limited);
	/* Each started network named is formatted once, for its log line and
	 * its entry in the alert. */
	alerting = n.nstarted && !json_alert_open(&a, "network_limit");
	if (alerting) {
		mxg_json_u64(&a.j, "new", n.nstarted);
		mxg_json_u64(&a.j, "refusing", n.limited);
		mxg_json_arr(&a.j, "networks");
	}
	for (i = 0; i < n.nstarted && i < NET_LOG_MAX; i++) {
		const struct mxg_net_change *x = &n.started[i];
		const struct mxg_limit *l = net_strs(c, x, cs, sizeof(cs), rate, sizeof(rate));

		slog("warn", "network limited",
		     "network=%s service=%s syns=%u drops=%u shared=%u limit=%s burst=%u",
		     cs, mxg_svc_name(x->v.svc), x->v.syns, x->v.drops, x->v.shared, rate,
		     l->burst);
		if (!alerting)
			continue;
		mxg_json_obj(&a.j, NULL);
		mxg_json_str(&a.j, "network", cs);
		mxg_json_str(&a.j, "service", mxg_svc_name(x->v.svc));
		mxg_json_u64(&a.j, "syns", x->v.syns);
		mxg_json_u64(&a.j, "drops", x->v.drops);
		mxg_json_u64(&a.j, "shared", x->v.shared);
		mxg_json_str(&a.j, "limit", rate);
		mxg_json_obj_end(&a.j);
	}
	if (alerting) {
		mxg_json_arr_end(&a.j);
		json_alert_send(s, &a);
	}
	if (n.nstarted > NET_LOG_MAX)
		slog("warn", "more networks limited", "count=%zu refusing_now=%zu see=\"%s\"",
		     n.nstarted - NET_LOG_MAX, n.limited, "mxguard top --networks");
	for (i = 0; i < n.nended && i < NET_LOG_MAX; i++) {
		const struct mxg_net_change *x = &n.ended[i];

		net_strs(c, x, cs, sizeof(cs), rate, sizeof(rate));
		slog("info", "network limit ended", "network=%s service=%s syns=%u drops=%u shared=%u",
		     cs, mxg_svc_name(x->v.svc), x->v.syns, x->v.drops, x->v.shared);
	}
	if (n.nended > NET_LOG_MAX)
		slog("info", "more network limits ended", "count=%zu", n.nended - NET_LOG_MAX);
	mxg_netwatch_news_free(&n);
	free(c);
}

/* ---- outbound alerts --------------------------------------------------------- */

/* A value for a quoted key="value" log field: quotes, backslashes and
 * control characters become '?'. */
static const char *log_safe(const char *v, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", v ? v : "");
	for (i = 0; buf[i]; i++)
		if (buf[i] == '"' || buf[i] == '\\' || (unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	return buf;
}

/* A warn or cap episode: the host's rate, the threshold, and who sends
 * most (the busiest destination network and local source of the minute). */
static void ob_total_alert(struct svc *s, const struct mxo_out_state *o, int cap,
			   __u32 started)
{
	const struct mxo_rec_row *dst = mxo_busiest(o->dst, o->ndst);
	const struct mxo_rec_row *src = mxo_busiest(o->src, o->nsrc);
	const struct mxg_limit *l = cap ? &o->cfg.cap : &o->cfg.warn;
	char ds[MXG_CIDR_STRLEN] = "-", ss[MXG_CIDR_STRLEN] = "-", rate[32] = "off";
	__u32 per_min = mxo_win_per_min(&o->total.win, o->now);
	struct json_alert a;

	if (l->interval_ns)
		mxg_format_rate(l->rate_n, l->rate_per_s, rate, sizeof(rate));
	if (dst)
		mxo_dst_str(&o->cfg, &dst->addr, ds, sizeof(ds));
	if (src)
		mxg_addr_format(&src->addr, ss, sizeof(ss));
	slog("warn", cap ? "outbound cap dropping" : "outbound rate over warn threshold",
	     "per_min=%u threshold=%s episodes=%u new_episodes=%u capped=%llu top_destination=%s top_destination_per_min=%u top_source=%s top_source_per_min=%u",
	     per_min, rate, cap ? o->total.cap_episodes : o->total.warn_episodes, started,
	     (unsigned long long)mxo_eg_sum(o->cnt, MXO_V_CAP), ds, dst ? dst->per_min : 0,
	     ss, src ? src->per_min : 0);
	if (json_alert_open(&a, cap ? "outbound_cap" : "outbound_warn"))
		return;
	mxg_json_u64(&a.j, "per_min", per_min);
	mxg_json_str(&a.j, "threshold", rate);
	mxg_json_u64(&a.j, "episodes", cap ? o->total.cap_episodes : o->total.warn_episodes);
	mxg_json_time(&a.j, "since", mxg_mono_to_unix(cap ? o->total.cap_since_ns :
						      o->total.warn_since_ns));
	mxg_json_u64(&a.j, "capped", mxo_eg_sum(o->cnt, MXO_V_CAP));
	mxg_json_str(&a.j, "top_destination", dst ? ds : NULL);
	mxg_json_u64(&a.j, "top_destination_per_min", dst ? dst->per_min : 0);
	mxg_json_str(&a.j, "top_source", src ? ss : NULL);
	mxg_json_u64(&a.j, "top_source_per_min", src ? src->per_min : 0);
	json_alert_send(s, &a);
}

/* The user name or cgroup path of a row, looked up now (free()). */
static char *ob_row_name(const struct mxo_lrow *l)
{
	const char *u;
	char *name = NULL;

	if (l->k.kind == MXO_LK_UID) {
		u = mxo_user_name((__u32)l->k.id);
		return u ? strdup(u) : NULL;
	}
	mxo_cgroup_names(&l->k.id, 1, &name);
	return name;
}

/* A uid or cgroup refused by its limit for the first time this episode. */
static void ob_local_alert(struct svc *s, const struct mxo_local_state *ls,
			   const struct mxo_lrow *l)
{
	const struct mxg_limit *lim = l->k.kind == MXO_LK_UID ? &ls->cfg.uid_limit :
								 &ls->cfg.cg_limit;
	char rate[32] = "off", comm[MXO_COMM_LEN + 1], sn[256], sc[MXO_COMM_LEN + 1];
	char *name = ob_row_name(l);
	int uid = l->k.kind == MXO_LK_UID;
	struct json_alert a;

	if (lim->interval_ns)
		mxg_format_rate(lim->rate_n, lim->rate_per_s, rate, sizeof(rate));
	snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
	slog("warn", "local submitter over its limit",
	     "kind=%s id=%llu name=\"%s\" limit=%s per_min=%u conns=%llu refused=%llu last_comm=\"%s\"",
	     mxo_lkind_name(l->k.kind), (unsigned long long)l->k.id,
	     log_safe(name, sn, sizeof(sn)), rate, l->per_min,
	     (unsigned long long)l->r.conns, (unsigned long long)l->r.refused,
	     log_safe(comm, sc, sizeof(sc)));
	if (!json_alert_open(&a, "local_limit")) {
		mxg_json_str(&a.j, "kind", mxo_lkind_name(l->k.kind));
		mxg_json_u64(&a.j, "id", l->k.id);
		mxg_json_str(&a.j, "name", name);
		mxg_json_str(&a.j, "limit", rate);
		mxg_json_u64(&a.j, "per_min", l->per_min);
		mxg_json_u64(&a.j, "conns", l->r.conns);
		mxg_json_u64(&a.j, "refused", l->r.refused);
		mxg_json_str(&a.j, "last_comm", comm);
		mxg_json_u64(&a.j, uid ? "last_cgroup" : "last_uid",
			     uid ? l->r.last_cgid : l->r.last_uid);
		json_alert_send(s, &a);
	}
	free(name);
}

/* Warn and cap episodes and local limits that started since the last tick,
 * when the outbound programs were ever attached. Pins it cannot open (of
 * another version) are tried again a minute later, not every second. */
static void watch_outbound(struct svc *s, __u64 now)
{
	struct mxo_local_state ls;
	struct mxo_out_state *o = NULL;
	struct mxo_watch_news news = { 0 };
	struct mxo_total t;
	struct mxo_maps m;
	size_t i;

	if (now < s->ob_due || !mxo_maps_present())
		return;
	if (mxo_maps_open(&m, 0)) {
		slog("error", "cannot open the outbound maps; retrying in a minute",
		     "pin_dir=%s", mxg_pin_dir());
		s->ob_due = now + 60;
		return;
	}
	memset(&ls, 0, sizeof(ls));
	if (mxo_total_read(&m, &t) || mxo_local_read(&m, &ls, 0) ||
	    mxo_watch_update(&s->ow, &t, ls.rows, ls.n, &news))
		goto out;
	if (news.warn || news.cap) {
		o = calloc(1, sizeof(*o));
		if (o && !mxo_out_read(&m, o)) {
			if (news.warn)
				ob_total_alert(s, o, 0, news.warn);
			if (news.cap)
				ob_total_alert(s, o, 1, news.cap);
		}
	}
	for (i = 0; i < news.nrows; i++)
		ob_local_alert(s, &ls, &ls.rows[news.rows[i]]);
out:
	if (o)
		mxo_out_free(o);
	free(o);
	free(news.rows);
	mxo_local_free(&ls);
	mxo_maps_close(&m);
}

static int load_conf(const char *path, struct mxg_config *c)
{
	struct mxg_config_error e;

	if (mxg_config_load(path, c, &e)) {
		if (e.line)
			slog("error", "config rejected", "file=%s line=%u error=\"%s\"",
			     e.file, e.line, e.msg);
		else
			slog("error", "config rejected", "file=%s error=\"%s\"", e.file, e.msg);
		return -EINVAL;
	}
	return 0;
}

/* Attach every configured interface (idempotent) with the config applied. */
static int attach_all(struct svc *s)
{
	const char *want = mxg_xdp_mode_name(s->conf.xdp_mode);
	unsigned i;
	int err, failed = 0;

	for (i = 0; i < s->conf.n_ifaces; i++) {
		err = mxg_attach_iface(s->conf.ifaces[i], want, &s->conf, 1);
		if (err) {
			slog("error", "attach failed", "iface=%s error=\"%s\"",
			     s->conf.ifaces[i], strerror(-err));
			failed = err;
		} else {
			slog("info", "attached", "iface=%s xdp_mode=%s", s->conf.ifaces[i], want);
		}
	}
	return failed;
}

/* Allowlist files of the config: added or updated, comments from lines. */
static void load_allow_files(struct svc *s, struct mxg_maps *m)
{
	unsigned i;

	for (i = 0; i < s->conf.n_allow_files; i++) {
		struct mxg_list l;
		struct mxg_list_error e;
		int err = mxg_list_read(s->conf.allow_files[i], &l, &e);

		if (err) {
			slog("error", "allow file rejected", "file=%s line=%u error=\"%s\"",
			     e.file, e.line, e.msg);
			continue;
		}
		err = mxg_allow_apply(m, &l, NULL);
		slog(err ? "error" : "info", "allow file loaded", "file=%s entries=%zu",
		     s->conf.allow_files[i], l.n);
		mxg_list_free(&l);
	}
}

static void snapshot(struct svc *s, struct mxg_maps *m, const char *why)
{
	struct mxg_state_stats st;
	int err = mxg_state_write(m, s->state_dir, &st);

	if (!err && s->esc)
		err = mxg_atomic_write(s->state_dir, ESC_FILE, 0, esc_fill, s->esc);

	s->snap_last = mxg_unix_s();
	s->snap_due = s->snap_last + SNAPSHOT_PERIOD_S;
	if (err)
		slog("error", "snapshot failed", "dir=%s error=\"%s\"", s->state_dir,
		     strerror(-err));
	else
		slog("info", "snapshot written", "why=%s dir=%s allow=%zu block=%zu feeds=%zu",
		     why, s->state_dir, st.allow, st.block, st.feeds);
}

/* Sync feed i from its file, through the same code as `block sync`. */
static void refresh_feed(struct svc *s, struct mxg_maps *m, unsigned i)
{
	const struct mxg_config_feed *f = &s->conf.feeds[i];
	struct mxg_allow_entry *allow = NULL;
	struct mxg_apply_result r;
	struct mxg_list_error e;
	struct mxg_apply a = { 0 };
	struct mxg_list l;
	size_t nallow = 0, shadowed = 0;
	int err;

	s->feed_due[i] = mxg_unix_s() + f->refresh_s;
	err = mxg_list_read(f->path, &l, &e);
	if (err) {
		slog("error", "feed not refreshed", "feed=%s file=%s line=%u error=\"%s\"",
		     f->name, e.file, e.line, e.msg);
		s->feed_due[i] = mxg_unix_s() + FEED_RETRY_S;
		return;
	}
	err = mxg_allow_all(m, &allow, &nallow);
	/* Overlaps with the allowlist are loaded (the allowlist wins in the
	 * program) and logged; too broad a range fails the file. */
	if (!err)
		err = mxg_list_check(f->path, &l, allow, nallow, 1, &shadowed);
	if (!err) {
		a.feed_id = mxg_feed_id(m, f->name, 1);
		a.ttl_s = f->ttl_s;
		err = a.feed_id < 0 ? a.feed_id : mxg_feed_sync(m, &l, &a, &r);
	}
	if (err) {
		slog("error", "feed not refreshed", "feed=%s file=%s error=\"%s\"", f->name,
		     f->path, strerror(-err));
		s->feed_due[i] = mxg_unix_s() + FEED_RETRY_S;
	} else {
		slog("info", "feed synced", "feed=%s entries=%zu added=%zu removed=%zu unchanged=%zu shadowed=%zu",
		     f->name, r.same + r.added, r.added, r.removed, r.same, shadowed);
	}
	free(allow);
	mxg_list_free(&l);
}

/* A log line: the detector's actions wait for the next tick (which holds
 * the lock); a flood of them beyond LW_PENDING is counted, not queued. */
static void lw_line(const char *line, size_t len, void *ctx)
{
	struct svc *s = ctx;
	struct mxg_lw_action acts[MXG_LW_MAX_ACTIONS];
	int n, i;

	n = mxg_logwatch_line(s->lw, line, len, mxg_unix_s(), acts, MXG_LW_MAX_ACTIONS);
	for (i = 0; i < n; i++) {
		if (s->npending_lw < LW_PENDING)
			s->pending_lw[s->npending_lw++] = acts[i];
		else
			s->dropped_lw++;
	}
}

static void read_logs(struct svc *s)
{
	unsigned i;

	for (i = 0; s->lw && i < s->nfollow; i++)
		mxg_follow_read(&s->follow[i], lw_line, s);
}

/* Bans into feed "logwatch" (never over the allowlist: a partner's webmail
 * or proxy must not be banned for its users' typos); alerts as they are. */
static int apply_lw(struct svc *s, const struct mxg_maps *m)
{
	struct mxg_allow_entry *allow = NULL;
	const struct mxg_allow_entry *hit;
	size_t nallow = 0;
	unsigned i;
	int changed = 0, feed;

	if (!s->npending_lw)
		return 0;
	if (mxg_allow_all(m, &allow, &nallow))
		return 0;
	feed = mxg_feed_id(m, LW_FEED, 1);
	for (i = 0; i < s->npending_lw; i++) {
		const struct mxg_lw_action *a = &s->pending_lw[i];
		char cs[MXG_CIDR_STRLEN];

		if (a->type == MXG_LW_ALERT) {
			slog("warn", "account looks compromised", "account=\"%s\" count=%u",
			     a->account, a->count);
			alert_send(s, "account", a->json);
			continue;
		}
		mxg_cidr_format(&a->cidr, cs, sizeof(cs));
		if (mxg_allow_overlap(allow, nallow, &a->cidr, &hit)) {
			slog("warn", "log ban skipped: allowlisted", "source=%s reason=\"%s\"",
			     cs, a->reason);
			continue;
		}
		{
			struct mxg_block_val v, old;

			if (!mxg_block_get(m, &a->cidr, &old) && old.feed_id != (__u32)feed)
				continue; /* another feed blocks it already */
			memset(&v, 0, sizeof(v));
			v.added_s = mxg_unix_s();
			v.feed_id = feed < 0 ? 0 : feed;
			if (a->ttl_s)
				v.expires_ns = mxg_mono_ns() + (__u64)a->ttl_s * 1000000000ull;
			if (mxg_reason_id(m, a->reason, &v.reason_id) || mxg_block_put(m, &a->cidr, &v))
				continue;
		}
		changed = 1;
		slog("warn", "banned from the mail logs", "source=%s ttl_s=%u reason=\"%s\"",
		     cs, a->ttl_s, a->reason);
		alert_send(s, "ban", a->json);
	}
	if (s->dropped_lw)
		slog("warn", "log actions dropped (too many at once)", "count=%u", s->dropped_lw);
	s->npending_lw = 0;
	s->dropped_lw = 0;
	free(allow);
	return changed;
}

/* Work that is due: gc, feeds, snapshot when the generation moved. */
static void tick(struct svc *s)
{
	__u64 now = mxg_unix_s();
	struct mxg_maps m;
	struct mxg_cfg *c;
	size_t n;
	unsigned i;
	int changed = 0, lock;

	/* Locked like any command, but the generation moves only when this
	 * tick changed something. */
	if (mxg_maps_open_ro(&m)) {
		slog("error", "cannot open the pinned maps", "pin_dir=%s", mxg_pin_dir());
		return;
	}
	lock = mxg_lock(NULL, 30);
	if (lock < 0) {
		mxg_maps_close(&m);
		return;
	}
	if (now >= s->gc_due) {
		s->gc_due = now + GC_INTERVAL_S;
		if (!mxg_block_gc_run(&m, &n) && n) {
			slog("info", "expired entries removed", "count=%zu", n);
			changed = 1;
		}
		mxg_pen_gc_run(&m, &n);
		/* Keep the source filter to the records the table holds. */
		if (mxg_seen_rotate(&m, &n))
			slog("error", "source filter not renewed", "%s", "");
	}
	for (i = 0; i < s->conf.n_feeds; i++)
		if (now >= s->feed_due[i]) {
			refresh_feed(s, &m, i);
			changed = 1;
		}
	if (apply_lw(s, &m))
		changed = 1;
	if (s->cs) {
		struct mxg_crowdsec_result r;
		int e = mxg_crowdsec_poll(s->cs, &m, now, &r);

		if (r.polled && e)
			slog("error", "crowdsec pull failed", "error=\"%s\" retry_s=%u", r.error,
			     r.backoff_s);
		else if (r.polled && r.changed)
			slog("info", "crowdsec applied", "startup=%d added=%zu renewed=%zu removed=%zu others=%zu shadowed=%zu rejected=%zu",
			     r.startup, r.added, r.renewed, r.removed, r.others, r.shadowed,
			     r.rejected);
		if (r.changed)
			changed = 1;
	}
	if (s->esc && now >= s->esc_due) {
		s->esc_due = now + ESC_INTERVAL_S;
		if (mxg_esc_poll(s->esc, &m, now, on_ban, s))
			slog("error", "escalation poll failed", "%s", "");
	}
	watch_alerts(s, &m, now);
	watch_networks(s, &m, now);
	watch_outbound(s, now);
	mxg_alert_reap(&s->alert, now);
	if (changed)
		mxg_maps_touch(&m);
	c = mxg_cfg_load(&m);
	if (c) {
		if (s->gen_valid && c->gen != s->gen_seen)
			changed = 1;
		s->gen_seen = c->gen;
		s->gen_valid = 1;
		free(c);
	}
	s->pending |= changed;
	/* At most one snapshot per SNAPSHOT_MIN_S; a change that comes
	 * sooner stays pending until then. */
	if ((s->pending && now >= s->snap_last + SNAPSHOT_MIN_S) || now >= s->snap_due) {
		snapshot(s, &m, s->pending ? "change" : "period");
		s->pending = 0;
	}
	close(lock);
	mxg_maps_close(&m);
}

static int reload(struct svc *s)
{
	struct mxg_config nc;
	__u64 *due;

	if (!s->conf_path) {
		slog("info", "reload: no config file", "%s", "");
		return 0;
	}
	if (load_conf(s->conf_path, &nc)) {
		slog("error", "reload failed; the old config stays", "file=%s", s->conf_path);
		return -EINVAL;
	}
	due = calloc(nc.n_feeds ? nc.n_feeds : 1, sizeof(*due));
	if (!due) {
		mxg_config_free(&nc);
		return -ENOMEM;
	}
	mxg_config_free(&s->conf);
	s->conf = nc;
	free(s->feed_due);
	s->feed_due = due; /* all feeds due now */
	attach_all(s);
	apply_side_config(s);
	{
		struct mxg_maps m;

		if (!mxg_maps_open_rw(&m)) {
			load_allow_files(s, &m);
			mxg_maps_close(&m);
		}
	}
	slog("info", "config reloaded", "file=%s interfaces=%u feeds=%u", s->conf_path,
	     s->conf.n_ifaces, s->conf.n_feeds);
	return 0;
}

static int do_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct svc s = { 0 };
	char pin[PATH_MAX];
	struct mxg_maps m;
	sigset_t set;
	int opt, err, sfd, fresh, stop = 0;

	while ((opt = mxg_getopt(&mxg_cmd_run, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': s.conf_path = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_run); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_run, argc, argv, 0, "");
	if (err)
		return err;
	if (!s.conf_path && !access(MXG_CONF_DEFAULT, F_OK))
		s.conf_path = MXG_CONF_DEFAULT;
	if (s.conf_path) {
		if (load_conf(s.conf_path, &s.conf))
			return -EINVAL;
	} else {
		memset(&s.conf, 0, sizeof(s.conf));
	}
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET | MXG_NEED_MOUNT);
	if (err)
		goto out_conf;
	s.feed_due = calloc(s.conf.n_feeds ? s.conf.n_feeds : 1, sizeof(*s.feed_due));
	s.pending_lw = calloc(LW_PENDING, sizeof(*s.pending_lw));
	if (!s.feed_due || !s.pending_lw) {
		err = -ENOMEM;
		goto out_conf;
	}
	s.state_dir = mxg_state_dir(s.conf.state_dir);
	err = mxg_state_dir_prepare(s.state_dir);
	if (err)
		goto out_conf;

	/* After a reboot the pins are gone: attach creates fresh maps, and the
	 * snapshot brings lists, limits and mode back. */
	mxg_pin_path(pin, "mxg_cfg");
	fresh = access(pin, F_OK) != 0;
	if (fresh && !s.conf.n_ifaces) {
		mxg_err("mxguard is not attached and the config names no interfaces; add 'interfaces = ...' to [mxguard] or run 'mxguard attach IFACE'");
		err = -ENOENT;
		goto out_conf;
	}
	err = attach_all(&s);
	if (err && fresh)
		goto out_conf;
	err = mxg_maps_open_rw(&m);
	if (err)
		goto out_conf;
	if (fresh) {
		struct mxg_state_stats st;

		err = mxg_state_restore(&m, s.state_dir, &st);
		if (!err)
			slog("info", "state restored", "dir=%s allow=%zu block=%zu feeds=%zu expired_skipped=%zu",
			     s.state_dir, st.allow, st.block, st.feeds, st.expired);
		else if (err == -ENOENT)
			slog("info", "no state to restore", "dir=%s", s.state_dir);
		else
			slog("error", "state restore failed", "dir=%s error=\"%s\"", s.state_dir,
			     strerror(-err));
		err = 0;
		/* What the config file says wins over the snapshot. */
		if ((s.have_conf || s.conf_path) && mxg_config_apply_live(&m, &s.conf))
			slog("error", "cannot apply the config to the maps", "%s", "");
	}
	load_allow_files(&s, &m);
	mxg_maps_close(&m);
	apply_side_config(&s);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		err = -errno;
		goto out_conf;
	}
	slog("info", "running", "pin_dir=%s state_dir=%s config=%s pid=%d", mxg_pin_dir(),
	     s.state_dir, s.conf_path ? s.conf_path : "-", (int)getpid());
	s.snap_due = 0; /* a first snapshot right away */
	while (!stop) {
		struct pollfd p[1 + MXG_CONFIG_MAX_FILES];
		struct signalfd_siginfo si;
		unsigned i, np = 1;

		tick(&s);
		p[0].fd = sfd;
		p[0].events = POLLIN;
		for (i = 0; i < s.nfollow; i++) {
			int fd = mxg_follow_fd(&s.follow[i]);

			if (fd >= 0) {
				p[np].fd = fd;
				p[np++].events = POLLIN;
			}
		}
		poll(p, np, 1000);
		/* Logs are read on wake-up and every second anyway (inotify can
		 * overflow and does not see every file system). */
		read_logs(&s);
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(&s);
			break;
		case SIGCHLD:
			/* Only our alert commands are children. */
			mxg_alert_reap(&s.alert, mxg_unix_s());
			break;
		default:
			stop = 1;
		}
	}
	if (!mxg_maps_open_ro(&m)) {
		int lock = mxg_lock(NULL, 30);

		snapshot(&s, &m, "exit");
		if (lock >= 0)
			close(lock);
		mxg_maps_close(&m);
	}
	slog("info", "stopped; the filter stays attached", "pin_dir=%s", mxg_pin_dir());
	close(sfd);
out_conf:
	logwatch_stop(&s);
	mxg_crowdsec_free(s.cs);
	free(s.pending_lw);
	mxg_esc_free(s.esc);
	mxo_watch_free(&s.ow);
	mxg_netwatch_free(&s.nw);
	mxg_alert_free(&s.alert);
	free(s.feed_due);
	mxg_config_free(&s.conf);
	return err;
}

const struct mxg_cmd mxg_cmd_run = {
	.name = "run",
	.synopsis = "run [--config FILE]",
	.summary = "the service: attach, restore, refresh feeds, snapshot",
	.help =
	"Run in the foreground (under systemd: tools/mxguard.service):\n"
	"  - attach to the interfaces of the config ([mxguard] interfaces), with\n"
	"    its mode, limits, ports and prefixes;\n"
	"  - after a reboot (no pinned maps), restore the state snapshot: mode,\n"
	"    limits, feeds, allowlist, and block entries with their remaining\n"
	"    TTL (expired ones are dropped); then apply what the config file\n"
	"    says on top;\n"
	"  - load the [allow] files; refresh each [feed] on its interval through\n"
	"    the same code as 'block sync' (overlaps with the allowlist are\n"
	"    loaded and logged, the allowlist wins);\n"
	"  - remove expired block entries every minute, and renew the filter\n"
	"    that lets SYNs of sources without a record (spoofed floods) skip\n"
	"    the source table;\n"
	"  - [escalation]: a source that runs over its limit `after` times within\n"
	"    `window` is banned (feed \"escalation\") for the next of `steps`;\n"
	"    the offence history is kept in STATE_DIR/escalation.jsonl;\n"
	"  - [logwatch]: follow Postfix/Dovecot logs (files with rotation, or -\n"
	"    for stdin, e.g. journalctl -f -o cat): auth failures per client\n"
	"    ban it (feed \"logwatch\", never an allowlisted one); an account\n"
	"    used from too many addresses or sending too much raises an alert;\n"
	"  - [crowdsec]: follow the CrowdSec local API decision stream into feed\n"
	"    \"crowdsec\", keeping the last state while the API is down;\n"
	"  - [alert]: run the alert command (no shell) with the event as JSON on\n"
	"    stdin for bans, lockdown, compromised accounts and drop-rate\n"
	"    thresholds, at most once per min_interval, killed after 10 s;\n"
	"  - outbound (when 'mxguard outbound attach' or 'mxguard local attach'\n"
	"    ever ran): every second, a warn or cap episode that started\n"
	"    (event outbound_warn / outbound_cap: per_min, threshold, episodes,\n"
	"    since, capped, top_destination and top_source with their rates over\n"
	"    the last minute) and a uid or cgroup newly refused by its limit\n"
	"    (event local_limit: kind, id, name, limit, per_min, conns, refused,\n"
	"    last_comm, last_cgroup or last_uid) are logged and sent to the alert\n"
	"    command, rate-limited like every alert. They are read from the maps,\n"
	"    not the ring buffer, which stays with 'mxguard events'; what was\n"
	"    going on when the service started is not alerted;\n"
	"  - network buckets: every 2 s, a network whose bucket began to refuse\n"
	"    new connections (a botnet in one network, or a partner's NATed\n"
	"    office that outgrew its network limit) is logged (\"network\n"
	"    limited\": network, service, syns, drops, shared, limit, burst) and\n"
	"    alerted (event network_limit: new, refusing, networks[] of network,\n"
	"    service, syns, drops, shared, limit); its end is logged (\"network\n"
	"    limit ended\") once its bucket has refilled; at most 10 networks\n"
	"    named per reading, most refused first, the rest counted in one\n"
	"    line, so a spoofed flood over thousands of networks is a few lines.\n"
	"    Read from the slots, not the ring buffer; networks refusing when the\n"
	"    service started are counted, not alerted;\n"
	"  - write the state snapshot (STATE_DIR/state.jsonl.gz: temporary file,\n"
	"    fsync, rename, fsync of the directory; never through a symlink)\n"
	"    within 5 s of any change by any mxguard command, every 10 min, and\n"
	"    at exit.\n"
	"Signals: SIGHUP reloads the config (a bad file is logged and the old\n"
	"config stays); SIGTERM and SIGINT write a last snapshot and exit 0,\n"
	"leaving the filter attached and its state pinned.\n\n"
	"Logs go to stderr, one line each: ts=... level=... msg=\"...\" key=value.\n\n"
	"Options:\n"
	"  --config FILE   default /etc/mxguard/mxguard.conf when it exists\n\n"
	"Environment:\n"
	"  MXGUARD_STATE_DIR  state directory (default: state_dir of the config,\n"
	"                     else /var/lib/mxguard); created 0700\n",
	.run = do_run,
};

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The configuration file: INI read through libinih, every value checked with
 * the parsers of units.h, every error pinned to its line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ini.h>
#include "config.h"
#include "logwatch.h"
#include "cfg.h"
#include "units.h"

#define BURST_MAX 1000000 /* as `mxguard limit set --burst` */
#define AFTER_MAX 1000
/* A feed re-read more often than this only burns CPU: lists change hourly. */
#define REFRESH_MIN_S 60
#define KEYS_MAX 12 /* the most keys of one section ([logwatch] has 8) */

enum kind { K_MXGUARD, K_LIMIT, K_FEED, K_ALLOW, K_ESCALATION, K_ALERT,
	    K_LOGWATCH, K_CROWDSEC, K_MAX };
enum arg { ARG_NONE, ARG_SERVICE, ARG_NAME };

/* A section as the file wrote it: for repeats, missing keys and messages. */
struct sect {
	enum kind kind;
	int idx;                      /* service, or index into c->feeds */
	unsigned line;
	unsigned key_line[KEYS_MAX];  /* where each key was given, 0: not */
	char label[80];               /* "limit smtp", "feed drop" */
};

/* Each section at most once: the four plain ones, the limits, the feeds. */
#define SECTS_MAX (4 + MXG_SVC_MAX + MXG_CONFIG_MAX_FEEDS)

struct parse {
	struct mxg_config *c;
	struct mxg_config_error *err;
	const char *pos;              /* the next line of the text */
	unsigned line;                /* the line inih is working on */
	int ret;                      /* the first error, 0 while none */
	struct sect *sects;
	unsigned nsects;
	struct sect *cur;             /* the section the line belongs to */
	unsigned ports_line[MXG_SVC_MAX]; /* where each service's ports are */
	const char *why;              /* set by a key parser that fails */
	char whybuf[160];
};

struct key {
	const char *name;
	int (*parse)(struct parse *p, struct sect *s, const char *v);
	bool required;
};

static int fail(struct parse *p, unsigned line, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Only the first error is kept: later ones are often its consequences. */
static int fail(struct parse *p, unsigned line, int ret, const char *fmt, ...)
{
	va_list ap;

	if (p->ret)
		return p->ret;
	p->ret = ret;
	p->err->line = line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

static int why(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A reason built from the value, for the key parser's caller to report. */
static int why(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->whybuf, sizeof(p->whybuf), fmt, ap);
	va_end(ap);
	p->why = p->whybuf;
	return -EINVAL;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The next blank-separated word of *s: start in *w, length returned, 0 once
 * there is none left. */
static size_t next_word(const char **s, const char **w)
{
	const char *q = *s;

	while (is_blank(*q))
		q++;
	*w = q;
	while (*q && !is_blank(*q))
		q++;
	*s = q;
	return (size_t)(q - *w);
}

/* A word as a string for the units.h parsers; too long to be valid is an
 * error of its own. */
static int word_str(struct parse *p, const char *what, const char *w,
		    size_t len, char *buf, size_t size)
{
	if (len >= size)
		return why(p, "%s '%.*s' is too long", what, (int)len, w);
	memcpy(buf, w, len);
	buf[len] = '\0';
	return 0;
}

static int is_abs_path(struct parse *p, const char *path, size_t len)
{
	if (!path)
		return why(p, "missing path");
	if (path[0] != '/')
		return why(p, "path '%.*s' must be absolute (start with '/')",
			   (int)len, path);
	return 0;
}

static int dup_str(const char *s, size_t len, char **out)
{
	*out = strndup(s, len);
	return *out ? 0 : -ENOMEM;
}

/* A duration: the whole value (item NULL) or one item of a list, which the
 * reason then names. */
static int parse_dur(struct parse *p, const char *item, const char *w,
		     size_t len, __u64 *secs)
{
	const char *reason;
	char buf[32];

	if (word_str(p, item ? item : "duration", w, len, buf, sizeof(buf)))
		return -EINVAL;
	if (!mxg_parse_duration(buf, secs, &reason))
		return 0;
	if (item)
		return why(p, "%s '%s': %s", item, buf, reason);
	p->why = reason;
	return -EINVAL;
}

static int parse_range(struct parse *p, const char *v, __u32 min, __u32 max,
		       __u32 *out)
{
	const char *reason;
	int err = mxg_parse_u32(v, min, max, out, &reason);

	if (err == -ERANGE)
		return why(p, "%s (%u-%u)", reason, min, max);
	if (err)
		p->why = reason;
	return err ? -EINVAL : 0;
}

/* A rate, a burst or a prefix length into *out, and *set once it parsed. */
static int set_rate(struct parse *p, const char *v, __u32 *n, __u32 *per_s,
		    bool *set)
{
	if (mxg_parse_rate(v, n, per_s, &p->why))
		return -EINVAL;
	*set = true;
	return 0;
}

static int set_burst(struct parse *p, const char *v, __u32 *out, bool *set)
{
	if (parse_range(p, v, 1, BURST_MAX, out))
		return -EINVAL;
	*set = true;
	return 0;
}

static int set_plen(struct parse *p, const char *v, __u32 min, __u32 max,
		    __u32 *out, bool *set)
{
	const char *reason;
	int err = mxg_parse_plen(v, min, max, out, &reason);

	if (err == -ERANGE)
		return why(p, "%s (%u-%u)", reason, min, max);
	if (err) {
		p->why = reason;
		return -EINVAL;
	}
	*set = true;
	return 0;
}

/* ---- [mxguard] ---------------------------------------------------------- */

static int k_mode(struct parse *p, struct sect *s, const char *v)
{
	int m = mxg_mode_by_name(v);

	(void)s;
	if (m < 0)
		return why(p, "mode must be enforce, monitor or lockdown");
	p->c->mode = m;
	p->c->mode_set = true;
	return 0;
}

/* The kernel's rule (dev_valid_name): 1-15 bytes, not "." or "..", no '/',
 * ':' or blank. */
static int check_iface(struct parse *p, const char *w, size_t len)
{
	size_t i;

	if (len >= IF_NAMESIZE)
		return why(p, "interface name '%.*s' is longer than %d characters",
			   (int)len, w, IF_NAMESIZE - 1);
	if ((len == 1 && w[0] == '.') || (len == 2 && !memcmp(w, "..", 2)))
		return why(p, "'%.*s' is not an interface name", (int)len, w);
	for (i = 0; i < len; i++) {
		if (w[i] == '/' || w[i] == ':')
			return why(p, "interface name '%.*s' contains '%c'",
				   (int)len, w, w[i]);
		if ((unsigned char)w[i] < ' ' || w[i] == 0x7f)
			return why(p, "interface name '%.*s' contains a control character",
				   (int)len, w);
	}
	return 0;
}

static int k_interfaces(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config *c = p->c;
	const char *w;
	unsigned i;
	size_t len;

	(void)s;
	while ((len = next_word(&v, &w))) {
		if (check_iface(p, w, len))
			return -EINVAL;
		for (i = 0; i < c->n_ifaces; i++)
			if (strlen(c->ifaces[i]) == len && !memcmp(c->ifaces[i], w, len))
				return why(p, "interface '%.*s' listed twice", (int)len, w);
		if (c->n_ifaces == MXG_CONFIG_MAX_IFACES)
			return why(p, "more than %d interfaces", MXG_CONFIG_MAX_IFACES);
		memcpy(c->ifaces[c->n_ifaces], w, len);
		c->ifaces[c->n_ifaces++][len] = '\0';
	}
	return 0;
}

static int k_xdp_mode(struct parse *p, struct sect *s, const char *v)
{
	unsigned m;

	(void)s;
	for (m = MXG_XDP_AUTO; m <= MXG_XDP_GENERIC; m++)
		if (!strcmp(v, mxg_xdp_mode_name(m)))
			break;
	if (m > MXG_XDP_GENERIC)
		return why(p, "xdp_mode must be auto, native or generic");
	p->c->xdp_mode = m;
	p->c->xdp_mode_set = true;
	return 0;
}

static int k_prefix_v4(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return set_plen(p, v, 1, 32, &p->c->v4_prefix, &p->c->v4_prefix_set);
}

static int k_prefix_v6(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return set_plen(p, v, 1, 128, &p->c->v6_prefix, &p->c->v6_prefix_set);
}

static int k_state_dir(struct parse *p, struct sect *s, const char *v)
{
	char *dir;

	(void)s;
	if (is_abs_path(p, v, strlen(v)))
		return -EINVAL;
	if (dup_str(v, strlen(v), &dir))
		return -ENOMEM;
	free(p->c->state_dir);
	p->c->state_dir = dir;
	p->c->state_dir_set = true;
	return 0;
}

/* ---- [limit SERVICE] ---------------------------------------------------- */

static int k_rate(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_rate(p, v, &l->rate_n, &l->per_s, &l->rate_set);
}

static int k_burst(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_burst(p, v, &l->burst, &l->burst_set);
}

static int k_prefix_rate(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_rate(p, v, &l->prate_n, &l->pper_s, &l->prate_set);
}

static int k_prefix_burst(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_burst(p, v, &l->pburst, &l->pburst_set);
}

static int k_net_v4(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_plen(p, v, MXG_NET_MIN_V4, 32, &l->len4, &l->len4_set);
}

static int k_net_v6(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];

	return set_plen(p, v, MXG_NET_MIN_V6, 128, &l->len6, &l->len6_set);
}

static int k_ports(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_limit *l = &p->c->limit[s->idx];
	const char *w, *reason;
	unsigned svc, i;
	char buf[16];
	size_t len;
	__u32 port;
	int err;

	while ((len = next_word(&v, &w))) {
		if (word_str(p, "port", w, len, buf, sizeof(buf)))
			return -EINVAL;
		err = mxg_parse_u32(buf, 1, 65535, &port, &reason);
		if (err)
			return why(p, "port '%s': %s%s", buf, reason,
				   err == -ERANGE ? " (1-65535)" : "");
		for (i = 0; i < l->nports; i++)
			if (l->ports[i] == port)
				return why(p, "port %u listed twice", port);
		/* One owner per port: the program maps a port to one service. */
		for (svc = MXG_SVC_NONE + 1; svc < MXG_SVC_MAX; svc++) {
			const struct mxg_config_limit *o = &p->c->limit[svc];

			if (svc == (unsigned)s->idx || !o->ports_set)
				continue;
			for (i = 0; i < o->nports; i++)
				if (o->ports[i] == port)
					return why(p, "port %u is already listed in [limit %s] (line %u)",
						   port, mxg_svc_name(svc), p->ports_line[svc]);
		}
		if (l->nports == MXG_CONFIG_MAX_PORTS)
			return why(p, "more than %d ports", MXG_CONFIG_MAX_PORTS);
		l->ports[l->nports++] = port;
	}
	l->ports_set = true;
	p->ports_line[s->idx] = p->line;
	return 0;
}

/* ---- [feed NAME] -------------------------------------------------------- */

static int k_path(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_feed *f = &p->c->feeds[s->idx];

	if (is_abs_path(p, v, strlen(v)))
		return -EINVAL;
	return dup_str(v, strlen(v), &f->path);
}

static int k_refresh(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_feed *f = &p->c->feeds[s->idx];

	if (parse_dur(p, NULL, v, strlen(v), &f->refresh_s))
		return -EINVAL;
	if (f->refresh_s < REFRESH_MIN_S)
		return why(p, "refresh must be at least 1m");
	return 0;
}

static int k_ttl(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config_feed *f = &p->c->feeds[s->idx];

	/* 0 is the default, spelt out: entries stay until the next sync. */
	f->ttl_set = true;
	if (!strcmp(v, "0")) {
		f->ttl_s = 0;
		return 0;
	}
	return parse_dur(p, NULL, v, strlen(v), &f->ttl_s);
}

/* ---- [allow] ------------------------------------------------------------ */

static int k_file(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config *c = p->c;
	const char *w;
	unsigned i;
	size_t len;

	(void)s;
	while ((len = next_word(&v, &w))) {
		if (is_abs_path(p, w, len))
			return -EINVAL;
		for (i = 0; i < c->n_allow_files; i++)
			if (strlen(c->allow_files[i]) == len &&
			    !memcmp(c->allow_files[i], w, len))
				return why(p, "file '%.*s' listed twice", (int)len, w);
		if (c->n_allow_files == MXG_CONFIG_MAX_FILES)
			return why(p, "more than %d files", MXG_CONFIG_MAX_FILES);
		if (dup_str(w, len, &c->allow_files[c->n_allow_files]))
			return -ENOMEM;
		c->n_allow_files++;
	}
	return 0;
}

/* ---- [escalation] ------------------------------------------------------- */

static int k_steps(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config *c = p->c;
	const char *w;
	size_t len;
	__u64 d;

	(void)s;
	while ((len = next_word(&v, &w))) {
		if (c->n_steps == MXG_CONFIG_MAX_STEPS)
			return why(p, "more than %d steps", MXG_CONFIG_MAX_STEPS);
		if (parse_dur(p, "step", w, len, &d))
			return -EINVAL;
		/* A shorter ban for a repeat offender is a typo, not a policy. */
		if (c->n_steps && d < c->steps_s[c->n_steps - 1])
			return why(p, "step '%.*s' is shorter than the one before it",
				   (int)len, w);
		c->steps_s[c->n_steps++] = d;
	}
	return 0;
}

static int k_window(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	p->c->window_set = true;
	return parse_dur(p, NULL, v, strlen(v), &p->c->window_s);
}

static int k_after(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	p->c->after_set = true;
	return parse_range(p, v, 1, AFTER_MAX, &p->c->after);
}

/* ---- [alert] ------------------------------------------------------------ */

static int k_command(struct parse *p, struct sect *s, const char *v)
{
	const char *w;
	size_t len;

	(void)s;
	len = next_word(&v, &w);
	if (w[0] != '/')
		return why(p, "program '%.*s' must be an absolute path (it runs without a shell or PATH)",
			   (int)len, w);
	return dup_str(w, strlen(w), &p->c->alert_command);
}

static int k_drops_per_min(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return parse_range(p, v, 1, 1000000000, &p->c->alert_drops_per_min);
}

static int k_min_interval(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	p->c->min_interval_set = true;
	return parse_dur(p, NULL, v, strlen(v),
			 &p->c->alert_min_interval_s);
}

/* ---- [logwatch] --------------------------------------------------------- */

static int k_lw_files(struct parse *p, struct sect *s, const char *v)
{
	struct mxg_config *c = p->c;
	const char *w;
	size_t len;

	(void)s;
	while ((len = next_word(&v, &w))) {
		/* "-" is stdin, e.g. journalctl -f -o cat | mxguard run */
		if (!(len == 1 && w[0] == '-') && is_abs_path(p, w, len))
			return -EINVAL;
		if (c->n_lw_files == MXG_CONFIG_MAX_FILES)
			return why(p, "more than %d files", MXG_CONFIG_MAX_FILES);
		if (dup_str(w, len, &c->lw_files[c->n_lw_files]))
			return -ENOMEM;
		c->n_lw_files++;
	}
	return 0;
}

static int k_lw_auth_failures(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return parse_range(p, v, 0, 100, &p->c->lw_auth_max);
}

static int k_lw_dur(struct parse *p, const char *v, __u32 *out)
{
	__u64 d;
	int err = parse_dur(p, NULL, v, strlen(v), &d);

	*out = d;
	return err;
}

static int k_lw_auth_window(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return k_lw_dur(p, v, &p->c->lw_auth_window_s);
}

static int k_lw_ban_ttl(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return k_lw_dur(p, v, &p->c->lw_ban_ttl_s);
}

static int k_lw_acct_addrs(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return parse_range(p, v, 0, 63, &p->c->lw_acct_max_addrs);
}

static int k_lw_acct_msgs(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return parse_range(p, v, 0, 1000000, &p->c->lw_acct_max_msgs);
}

static int k_lw_acct_window(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return k_lw_dur(p, v, &p->c->lw_acct_window_s);
}

static int k_lw_acct_ban(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	if (!strcmp(v, "yes"))
		p->c->lw_acct_ban = 1;
	else if (!strcmp(v, "no"))
		p->c->lw_acct_ban = 0;
	else
		return why(p, "account_ban must be yes or no");
	return 0;
}

/* ---- [crowdsec] --------------------------------------------------------- */

static int k_cs_url(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
		return why(p, "url '%s' must start with http:// or https://", v);
	return dup_str(v, strlen(v), &p->c->cs_url);
}

static int k_cs_key_file(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	if (is_abs_path(p, v, strlen(v)))
		return -EINVAL;
	return dup_str(v, strlen(v), &p->c->cs_key_file);
}

static int k_cs_interval(struct parse *p, struct sect *s, const char *v)
{
	(void)s;
	return k_lw_dur(p, v, &p->c->cs_interval_s);
}

/* ---- sections ----------------------------------------------------------- */

static const struct key mxguard_keys[] = {
	{ "mode", k_mode },
	{ "interfaces", k_interfaces },
	{ "xdp_mode", k_xdp_mode },
	{ "source_prefix_v4", k_prefix_v4 },
	{ "source_prefix_v6", k_prefix_v6 },
	{ "state_dir", k_state_dir },
	{ NULL },
};

static const struct key limit_keys[] = {
	{ "rate", k_rate },
	{ "burst", k_burst },
	{ "ports", k_ports },
	{ "prefix_rate", k_prefix_rate },
	{ "prefix_burst", k_prefix_burst },
	{ "prefix_v4", k_net_v4 },
	{ "prefix_v6", k_net_v6 },
	{ NULL },
};

static const struct key feed_keys[] = {
	{ "path", k_path, true },
	{ "refresh", k_refresh, true },
	{ "ttl", k_ttl },
	{ NULL },
};

static const struct key allow_keys[] = {
	{ "file", k_file, true },
	{ NULL },
};

static const struct key escalation_keys[] = {
	{ "steps", k_steps, true },
	{ "window", k_window },
	{ "after", k_after },
	{ NULL },
};

static const struct key alert_keys[] = {
	{ "command", k_command, true },
	{ "min_interval", k_min_interval },
	{ "drops_per_min", k_drops_per_min },
	{ NULL },
};

static const struct key logwatch_keys[] = {
	{ "files", k_lw_files, true },
	{ "auth_failures", k_lw_auth_failures },
	{ "auth_window", k_lw_auth_window },
	{ "ban_ttl", k_lw_ban_ttl },
	{ "account_max_addresses", k_lw_acct_addrs },
	{ "account_max_messages", k_lw_acct_msgs },
	{ "account_window", k_lw_acct_window },
	{ "account_ban", k_lw_acct_ban },
	{ NULL },
};

static const struct key crowdsec_keys[] = {
	{ "url", k_cs_url, true },
	{ "api_key_file", k_cs_key_file, true },
	{ "interval", k_cs_interval },
	{ NULL },
};

_Static_assert(sizeof(logwatch_keys) / sizeof(logwatch_keys[0]) <= KEYS_MAX + 1,
	       "KEYS_MAX too small for [logwatch]");

static const struct {
	const char *name;
	enum arg arg;
	const struct key *keys;
} kinds[K_MAX] = {
	[K_MXGUARD] = { "mxguard", ARG_NONE, mxguard_keys },
	[K_LIMIT] = { "limit", ARG_SERVICE, limit_keys },
	[K_FEED] = { "feed", ARG_NAME, feed_keys },
	[K_ALLOW] = { "allow", ARG_NONE, allow_keys },
	[K_ESCALATION] = { "escalation", ARG_NONE, escalation_keys },
	[K_ALERT] = { "alert", ARG_NONE, alert_keys },
	[K_LOGWATCH] = { "logwatch", ARG_NONE, logwatch_keys },
	[K_CROWDSEC] = { "crowdsec", ARG_NONE, crowdsec_keys },
};

/* Feed names end up in mxg_feeds and in `block list`: short and plain. */
static int check_feed_name(const char *n, const char **reason)
{
	size_t i, len = strlen(n);

	if (len >= MXG_FEED_NAME_LEN) {
		*reason = "feed name longer than 31 characters";
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '.' || n[i] == '_' ||
		      n[i] == '-')) {
			*reason = "feed names use only letters, digits, '.', '_' and '-'";
			return -EINVAL;
		}
	if (!strcmp(n, "manual")) {
		*reason = "'manual' is reserved for entries added by hand";
		return -EINVAL;
	}
	return 0;
}

static int new_feed(struct parse *p, const char *name, int *idx)
{
	struct mxg_config *c = p->c;
	struct mxg_config_feed *f;

	if (c->n_feeds == MXG_CONFIG_MAX_FEEDS)
		return fail(p, p->line, -EINVAL, "more than %d feeds",
			    MXG_CONFIG_MAX_FEEDS);
	f = realloc(c->feeds, (c->n_feeds + 1) * sizeof(*f));
	if (!f)
		return fail(p, p->line, -ENOMEM, "out of memory");
	c->feeds = f;
	f += c->n_feeds;
	memset(f, 0, sizeof(*f));
	strcpy(f->name, name);
	*idx = c->n_feeds++;
	return 0;
}

/* A "[...]" line: check the name, refuse repeats, open the section. */
static int section_begin(struct parse *p, const char *line)
{
	char name[64], kind[16], arg[64], extra[2];
	const char *end, *rest, *reason;
	unsigned k, i;
	struct sect *s;
	int idx = 0, n;
	size_t len;

	end = strchr(line, ']');
	if (!end)
		return fail(p, p->line, -EINVAL, "section header without ']'");
	for (rest = end + 1; is_blank(*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#' && *rest != '\r' && *rest != '\n')
		return fail(p, p->line, -EINVAL, "unexpected text after ']'");
	len = (size_t)(end - line - 1);
	if (len >= sizeof(name))
		return fail(p, p->line, -EINVAL, "section name longer than %zu characters",
			    sizeof(name) - 1);
	memcpy(name, line + 1, len);
	name[len] = '\0';
	kind[0] = arg[0] = '\0';
	n = sscanf(name, "%15s %63s %1s", kind, arg, extra);
	for (k = 0; k < K_MAX; k++)
		if (!strcmp(kind, kinds[k].name))
			break;
	if (n < 1 || k == K_MAX)
		return fail(p, p->line, -EINVAL,
			    "unknown section [%s] (sections: mxguard, limit SERVICE, feed NAME, allow, escalation, alert, logwatch, crowdsec)",
			    name);
	if (kinds[k].arg == ARG_NONE && n > 1)
		return fail(p, p->line, -EINVAL, "section [%s] takes no name: [%s]",
			    name, kind);
	if (n > 2)
		return fail(p, p->line, -EINVAL, "section [%s]: one name only, without blanks",
			    name);
	if (kinds[k].arg != ARG_NONE && n < 2)
		return fail(p, p->line, -EINVAL, "section [%s] needs a %s: [%s %s]",
			    kind, kinds[k].arg == ARG_SERVICE ? "service" : "name",
			    kind, kinds[k].arg == ARG_SERVICE ? "smtp" : "NAME");
	if (kinds[k].arg == ARG_SERVICE) {
		idx = mxg_svc_by_name(arg);
		if (idx <= MXG_SVC_NONE)
			return fail(p, p->line, -EINVAL,
				    "section [%s]: unknown service '%s': use smtp, submissions, submission, pop3, pop3s, imap or imaps",
				    name, arg);
	} else if (kinds[k].arg == ARG_NAME && check_feed_name(arg, &reason)) {
		return fail(p, p->line, -EINVAL, "section [%s]: %s", name, reason);
	}
	for (i = 0; i < p->nsects; i++) {
		s = &p->sects[i];
		if (s->kind != k)
			continue;
		if ((k == K_LIMIT && s->idx != idx) ||
		    (k == K_FEED && strcmp(p->c->feeds[s->idx].name, arg)))
			continue;
		return fail(p, p->line, -EINVAL, "section [%s] repeated (first at line %u)",
			    s->label, s->line);
	}
	if (k == K_FEED && new_feed(p, arg, &idx))
		return p->ret;
	s = &p->sects[p->nsects++];
	memset(s, 0, sizeof(*s));
	s->kind = k;
	s->idx = idx;
	s->line = p->line;
	snprintf(s->label, sizeof(s->label), "%s%s%s", kind, n > 1 ? " " : "",
		 n > 1 ? arg : "");
	if (k == K_LIMIT) {
		p->c->limit[idx].present = true;
		p->c->n_limits++;
	} else if (k == K_ESCALATION) {
		p->c->escalation = true;
	} else if (k == K_ALERT) {
		p->c->alert = true;
	} else if (k == K_LOGWATCH) {
		p->c->logwatch = true;
	} else if (k == K_CROWDSEC) {
		p->c->crowdsec = true;
	}
	p->cur = s;
	return 0;
}

/*
 * inih's line reader. Reading the lines ourselves gives the handler the line
 * number (Debian's libinih is built without it), lets section headers be
 * checked even when no key follows, and drops leading blanks so that an
 * indented line is never taken as a continuation of the previous value.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	const char *s = p->pos, *q, *nl;
	size_t len;

	if (p->ret || !*s)
		return NULL;
	p->line++;
	nl = strchr(s, '\n');
	p->pos = nl ? nl + 1 : s + strlen(s);
	len = (size_t)(p->pos - s);
	if (p->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		len -= 3;
	}
	while (len && (is_blank(*s) || *s == '\r' || *s == '\n')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	/* inih needs room for "\r\n\0" after the text. */
	if (len + 3 > (size_t)size) {
		fail(p, p->line, -EINVAL, "line longer than %d characters", size - 3);
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	if (!len || *buf == ';' || *buf == '#')
		return buf;
	if (*buf == '[')
		return section_begin(p, buf) ? NULL : buf;
	/* "key = value" (or "key: value"); ';' after a blank starts a comment. */
	for (q = buf; *q && *q != '=' && *q != ':'; q++)
		if (*q == ';' && q > buf && is_blank(q[-1]))
			break;
	if (*q != '=' && *q != ':') {
		fail(p, p->line, -EINVAL, "expected 'key = value' or '[section]', got '%.*s'",
		     (int)(len > 40 ? 40 : len), buf);
		return NULL;
	}
	return buf;
}

static int on_value(void *user, const char *section, const char *name,
		    const char *value)
{
	struct parse *p = user;
	struct sect *s = p->cur;
	const struct key *keys;
	char list[128];
	size_t off = 0;
	unsigned i;
	int err;

	(void)section; /* p->cur is the same section, checked and numbered */
	if (p->ret)
		return 0;
	if (!s)
		return !fail(p, p->line, -EINVAL,
			     "key '%s' before any section: put it under [mxguard]", name);
	if (!*name)
		return !fail(p, p->line, -EINVAL, "%s: '=' without a key", s->label);
	keys = kinds[s->kind].keys;
	for (i = 0; keys[i].name; i++)
		if (!strcmp(name, keys[i].name))
			break;
	if (!keys[i].name) {
		for (i = 0; keys[i].name; i++)
			off += snprintf(list + off, sizeof(list) - off, "%s%s",
					i ? ", " : "", keys[i].name);
		return !fail(p, p->line, -EINVAL, "%s: unknown key '%s' (keys: %s)",
			     s->label, name, list);
	}
	if (s->key_line[i])
		return !fail(p, p->line, -EINVAL, "%s: key '%s' repeated (first at line %u)",
			     s->label, name, s->key_line[i]);
	if (!value || !*value)
		return !fail(p, p->line, -EINVAL, "%s: %s: empty value", s->label, name);
	s->key_line[i] = p->line;
	p->why = "invalid value";
	err = keys[i].parse(p, s, value);
	if (err == -ENOMEM)
		return !fail(p, p->line, err, "out of memory");
	if (err)
		return !fail(p, p->line, err, "%s: %s '%s': %s", s->label, name,
			     value, p->why);
	return 1;
}

/* Checks that need the whole section: keys it cannot do without. */
static void finish(struct parse *p)
{
	const struct key *keys;
	unsigned i, k;

	for (i = 0; i < p->nsects && !p->ret; i++) {
		keys = kinds[p->sects[i].kind].keys;
		for (k = 0; keys[k].name; k++)
			if (keys[k].required && !p->sects[i].key_line[k]) {
				fail(p, p->sects[i].line, -EINVAL, "%s: missing key '%s'",
				     p->sects[i].label, keys[k].name);
				break;
			}
	}
}

static int config_init(struct mxg_config *c)
{
	unsigned s;

	memset(c, 0, sizeof(*c));
	c->mode = MXG_MODE_ENFORCE;
	c->xdp_mode = MXG_XDP_AUTO;
	c->v4_prefix = MXG_DEFAULT_V4_PREFIX;
	c->v6_prefix = MXG_DEFAULT_V6_PREFIX;
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		c->limit[s].rate_n = mxg_default_limits[s].rate_n;
		c->limit[s].per_s = mxg_default_limits[s].per_s;
		c->limit[s].burst = mxg_default_limits[s].burst;
	}
	c->window_s = MXG_CONFIG_DEFAULT_WINDOW_S;
	c->after = MXG_CONFIG_DEFAULT_AFTER;
	c->alert_min_interval_s = MXG_CONFIG_DEFAULT_MIN_INTERVAL_S;
	{
		struct mxg_logwatch_cfg lw;

		mxg_logwatch_cfg_default(&lw);
		c->lw_auth_max = lw.auth_max;
		c->lw_auth_window_s = lw.auth_window_s;
		c->lw_ban_ttl_s = lw.ban_ttl_s;
		c->lw_acct_max_addrs = lw.acct_max_addrs;
		c->lw_acct_max_msgs = lw.acct_max_msgs;
		c->lw_acct_window_s = lw.acct_window_s;
	}
	c->cs_interval_s = 10;
	c->state_dir = strdup(MXG_CONFIG_DEFAULT_STATE_DIR);
	return c->state_dir ? 0 : -ENOMEM;
}

int mxg_config_parse_string(const char *text, const char *name,
			    struct mxg_config *c, struct mxg_config_error *err)
{
	struct parse p = { .c = c, .err = err, .pos = text };
	int r;

	memset(err, 0, sizeof(*err));
	err->file = name;
	if (config_init(c) || !(p.sects = calloc(SECTS_MAX, sizeof(*p.sects)))) {
		fail(&p, 0, -ENOMEM, "out of memory");
		goto out;
	}
	r = ini_parse_stream(read_line, &p, on_value, &p);
	if (r == -2) {
		fail(&p, 0, -ENOMEM, "out of memory");
	} else if (r > 0 && (!p.ret || (unsigned)r < err->line)) {
		/* inih refused a line read_line let through: keep its verdict. */
		p.ret = 0;
		fail(&p, r, -EINVAL, "cannot parse this line");
	}
	if (!p.ret)
		finish(&p);
out:
	free(p.sects);
	if (p.ret)
		mxg_config_free(c);
	return p.ret;
}

int mxg_config_load(const char *path, struct mxg_config *c,
		    struct mxg_config_error *err)
{
	char *text = NULL, *nul;
	FILE *f = NULL;
	unsigned line;
	size_t n;
	int ret;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	err->file = path;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(-ret));
		return ret;
	}
	text = malloc(MXG_CONFIG_MAX_BYTES + 1);
	if (!text) {
		ret = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		goto out;
	}
	n = fread(text, 1, MXG_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(-ret));
		goto out;
	}
	if (n > MXG_CONFIG_MAX_BYTES) {
		ret = -EINVAL;
		snprintf(err->msg, sizeof(err->msg),
			 "larger than %d KiB: not a configuration file",
			 MXG_CONFIG_MAX_BYTES >> 10);
		goto out;
	}
	text[n] = '\0';
	nul = memchr(text, '\0', n);
	if (nul) {
		for (line = 1; nul > text; nul--)
			line += nul[-1] == '\n';
		ret = -EINVAL;
		err->line = line;
		snprintf(err->msg, sizeof(err->msg), "NUL byte: not a text file");
		goto out;
	}
	ret = mxg_config_parse_string(text, path, c, err);
out:
	free(text);
	fclose(f);
	return ret;
}

void mxg_config_free(struct mxg_config *c)
{
	unsigned i;

	for (i = 0; i < c->n_feeds; i++)
		free(c->feeds[i].path);
	free(c->feeds);
	for (i = 0; i < c->n_allow_files; i++)
		free(c->allow_files[i]);
	free(c->state_dir);
	free(c->alert_command);
	for (i = 0; i < c->n_lw_files; i++)
		free(c->lw_files[i]);
	free(c->cs_url);
	free(c->cs_key_file);
	memset(c, 0, sizeof(*c));
}

void mxg_config_apply(const struct mxg_config *c, struct mxg_cfg *slot)
{
	unsigned moved = 0, s, i, p;

	if (c->mode_set && slot->mode != c->mode) {
		slot->mode = c->mode;
		slot->mode_since_s = (__u64)time(NULL);
	}
	if (c->v4_prefix_set || c->v6_prefix_set)
		mxg_cfg_set_prefixes(slot,
				     c->v4_prefix_set ? c->v4_prefix : slot->v4_prefix,
				     c->v6_prefix_set ? c->v6_prefix : slot->v6_prefix);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_config_limit *l = &c->limit[s];
		const struct mxg_limit *cur = &slot->limit[s], *pcur = &slot->plimit[s];
		const struct mxg_net *ncur = &slot->net[s];

		if (l->ports_set)
			moved |= 1u << s;
		if (l->rate_set || l->burst_set)
			mxg_cfg_set_limit(slot, s, l->rate_set ? l->rate_n : cur->rate_n,
					  l->rate_set ? l->per_s : cur->rate_per_s,
					  l->burst_set ? l->burst : cur->burst);
		if (l->prate_set || l->pburst_set)
			mxg_cfg_set_plimit(slot, s, l->prate_set ? l->prate_n : pcur->rate_n,
					   l->prate_set ? l->pper_s : pcur->rate_per_s,
					   l->pburst_set ? l->pburst : pcur->burst);
		if (l->len4_set || l->len6_set)
			mxg_cfg_set_net(slot, s, l->len4_set ? l->len4 : ncur->len4,
					l->len6_set ? l->len6 : ncur->len6);
	}
	if (!moved)
		return;
	/* Release first, then claim: the result does not depend on the order
	 * of the services when one takes a port another one gives up. */
	for (p = 0; p < MXG_NPORTS; p++)
		if (moved & (1u << slot->port_svc[p]))
			slot->port_svc[p] = MXG_SVC_NONE;
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		for (i = 0; c->limit[s].ports_set && i < c->limit[s].nports; i++)
			slot->port_svc[c->limit[s].ports[i]] = s;
}

const char *mxg_xdp_mode_name(unsigned mode)
{
	static const char *const names[] = { "auto", "native", "generic" };

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

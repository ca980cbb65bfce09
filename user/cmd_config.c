// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* config check/show: validate a configuration file and print what it means,
 * without touching the filter (any user may run them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "log.h"
#include "out.h"
#include "units.h"
#include "cfg.h"
#include "config.h"

/* Load path into *c, reporting "FILE:LINE: what" once. */
static int config_open(const char *path, struct mxg_config *c)
{
	struct mxg_config_error e;
	int err = mxg_config_load(path, c, &e);

	if (!err)
		return 0;
	if (e.line)
		mxg_err("%s:%u: %s", e.file, e.line, e.msg);
	else
		mxg_err("%s: %s", e.file, e.msg);
	return err;
}

/* The slot the file gives on a fresh attach: defaults, then the file. */
static struct mxg_cfg *effective_slot(const struct mxg_config *c)
{
	struct mxg_cfg *slot = malloc(sizeof(*slot));

	if (!slot) {
		mxg_err("out of memory");
		return NULL;
	}
	mxg_cfg_defaults(slot);
	mxg_config_apply(c, slot);
	return slot;
}

static unsigned svc_nports(const struct mxg_cfg *slot, unsigned svc)
{
	unsigned p, n = 0;

	for (p = 0; p < MXG_NPORTS; p++)
		n += slot->port_svc[p] == svc;
	return n;
}

/* Exact, unlike mxg_format_duration: what show prints must parse back to
 * the same value. */
static void fmt_secs(__u64 secs, char *buf, size_t len)
{
	static const struct {
		char c;
		__u64 mult;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	if (!secs) {
		snprintf(buf, len, "0");
		return;
	}
	for (i = 0; i < 4 && off < len; i++)
		if (secs / units[i].mult) {
			off += snprintf(buf + off, len - off, "%llu%c",
					(unsigned long long)(secs / units[i].mult),
					units[i].c);
			secs %= units[i].mult;
		}
}

static const char *plural(unsigned n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static int config_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_config c;
	struct mxg_cfg *slot;
	int opt, err;
	unsigned s;

	while ((opt = mxg_getopt(&mxg_cmd_config, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_config);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_config, argc, argv, 1, "configuration file");
	if (err)
		return err;
	err = config_open(argv[optind], &c);
	if (err)
		return err;
	slot = effective_slot(&c);
	if (!slot) {
		mxg_config_free(&c);
		return -ENOMEM;
	}
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		if (!svc_nports(slot, s))
			mxg_warn("%s: [limit %s] has no port left: its limit protects nothing",
				 argv[optind], mxg_svc_name(s));
	printf("config ok: %u %s, mode %s, %u %s, %u %s\n",
	       c.n_ifaces, plural(c.n_ifaces, "interface", "interfaces"),
	       mxg_mode_name(c.mode), c.n_limits, plural(c.n_limits, "limit", "limits"),
	       c.n_feeds, plural(c.n_feeds, "feed", "feeds"));
	free(slot);
	mxg_config_free(&c);
	return 0;
}

/* "key = value", with "; default" aligned after it when the file left the
 * value unset. */
static void ini_kv(const char *key, const char *value, int set)
{
	char line[512];

	snprintf(line, sizeof(line), "%s = %s", key, value);
	if (set)
		printf("%s\n", line);
	else
		printf("%-31s ; default\n", line);
}

static void ini_kv_u(const char *key, unsigned long long v, int set)
{
	char b[24];

	snprintf(b, sizeof(b), "%llu", v);
	ini_kv(key, b, set);
}

static void ini_kv_secs(const char *key, __u64 secs, int set)
{
	char b[48];

	fmt_secs(secs, b, sizeof(b));
	ini_kv(key, b, set);
}

static void show_ini(const char *path, const struct mxg_config *c,
		     const struct mxg_cfg *slot)
{
	char buf[512], rb[32];
	size_t off;
	unsigned s, i, p;

	printf("; Configuration read from %s, as it takes effect.\n"
	       "; '; default' marks a value the file leaves unset.\n\n[mxguard]\n",
	       path);
	ini_kv("mode", mxg_mode_name(c->mode), c->mode_set);
	for (i = 0, off = 0, buf[0] = '\0'; i < c->n_ifaces; i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
				c->ifaces[i]);
	if (c->n_ifaces)
		ini_kv("interfaces", buf, 1);
	else
		printf("; interfaces: none given\n");
	ini_kv("xdp_mode", mxg_xdp_mode_name(c->xdp_mode), c->xdp_mode_set);
	ini_kv_u("source_prefix_v4", c->v4_prefix, c->v4_prefix_set);
	ini_kv_u("source_prefix_v6", c->v6_prefix, c->v6_prefix_set);
	ini_kv("state_dir", c->state_dir, c->state_dir_set);

	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_config_limit *l = &c->limit[s];
		const struct mxg_limit *sl = &slot->limit[s];

		printf("\n[limit %s]\n", mxg_svc_name(s));
		mxg_format_rate(sl->rate_n, sl->rate_per_s, rb, sizeof(rb));
		ini_kv("rate", rb, l->rate_set);
		ini_kv_u("burst", sl->burst, l->burst_set);
		for (p = 0, off = 0, buf[0] = '\0'; p < MXG_NPORTS; p++)
			if (slot->port_svc[p] == s && off < sizeof(buf))
				off += snprintf(buf + off, sizeof(buf) - off, "%s%u",
						off ? " " : "", p);
		if (off)
			ini_kv("ports", buf, l->ports_set);
		else
			printf("; ports: none left (listed for other services)\n");
	}

	for (i = 0; i < c->n_feeds; i++) {
		const struct mxg_config_feed *f = &c->feeds[i];

		printf("\n[feed %s]\n", f->name);
		ini_kv("path", f->path, 1);
		ini_kv_secs("refresh", f->refresh_s, 1);
		ini_kv_secs("ttl", f->ttl_s, f->ttl_set);
	}

	if (c->n_allow_files) {
		for (i = 0, off = 0; i < c->n_allow_files && off < sizeof(buf); i++)
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? " " : "", c->allow_files[i]);
		printf("\n[allow]\n");
		ini_kv("file", buf, 1);
	}

	if (c->escalation) {
		for (i = 0, off = 0; i < c->n_steps && off < sizeof(buf); i++) {
			fmt_secs(c->steps_s[i], rb, sizeof(rb));
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? " " : "", rb);
		}
		printf("\n[escalation]\n");
		ini_kv("steps", buf, 1);
		ini_kv_secs("window", c->window_s, c->window_set);
		ini_kv_u("after", c->after, c->after_set);
	}

	if (c->alert) {
		printf("\n[alert]\n");
		ini_kv("command", c->alert_command, 1);
		ini_kv_secs("min_interval", c->alert_min_interval_s,
			    c->min_interval_set);
	}
}

static void show_json(const char *path, const struct mxg_config *c,
		      const struct mxg_cfg *slot)
{
	struct mxg_json j;
	unsigned s, i, p;
	char rb[32];

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_str(&j, "file", path);
	mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
	mxg_json_arr(&j, "interfaces");
	for (i = 0; i < c->n_ifaces; i++)
		mxg_json_str(&j, NULL, c->ifaces[i]);
	mxg_json_arr_end(&j);
	mxg_json_str(&j, "xdp_mode", mxg_xdp_mode_name(c->xdp_mode));
	mxg_json_u64(&j, "source_prefix_v4", c->v4_prefix);
	mxg_json_u64(&j, "source_prefix_v6", c->v6_prefix);
	mxg_json_str(&j, "state_dir", c->state_dir);

	mxg_json_obj(&j, "limits");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_limit *sl = &slot->limit[s];

		mxg_format_rate(sl->rate_n, sl->rate_per_s, rb, sizeof(rb));
		mxg_json_obj(&j, mxg_svc_name(s));
		mxg_json_bool(&j, "in_file", c->limit[s].present);
		mxg_json_str(&j, "rate", rb);
		mxg_json_u64(&j, "rate_n", sl->rate_n);
		mxg_json_u64(&j, "per_s", sl->rate_per_s);
		mxg_json_u64(&j, "burst", sl->burst);
		mxg_json_arr(&j, "ports");
		for (p = 0; p < MXG_NPORTS; p++)
			if (slot->port_svc[p] == s)
				mxg_json_u64(&j, NULL, p);
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
	}
	mxg_json_obj_end(&j);

	mxg_json_arr(&j, "feeds");
	for (i = 0; i < c->n_feeds; i++) {
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "name", c->feeds[i].name);
		mxg_json_str(&j, "path", c->feeds[i].path);
		mxg_json_u64(&j, "refresh_s", c->feeds[i].refresh_s);
		mxg_json_u64(&j, "ttl_s", c->feeds[i].ttl_s);
		mxg_json_obj_end(&j);
	}
	mxg_json_arr_end(&j);

	mxg_json_arr(&j, "allow_files");
	for (i = 0; i < c->n_allow_files; i++)
		mxg_json_str(&j, NULL, c->allow_files[i]);
	mxg_json_arr_end(&j);

	if (c->escalation) {
		mxg_json_obj(&j, "escalation");
		mxg_json_arr(&j, "steps_s");
		for (i = 0; i < c->n_steps; i++)
			mxg_json_u64(&j, NULL, c->steps_s[i]);
		mxg_json_arr_end(&j);
		mxg_json_u64(&j, "window_s", c->window_s);
		mxg_json_u64(&j, "after", c->after);
		mxg_json_obj_end(&j);
	} else {
		mxg_json_null(&j, "escalation");
	}
	if (c->alert) {
		mxg_json_obj(&j, "alert");
		mxg_json_str(&j, "command", c->alert_command);
		mxg_json_u64(&j, "min_interval_s", c->alert_min_interval_s);
		mxg_json_obj_end(&j);
	} else {
		mxg_json_null(&j, "alert");
	}
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static int config_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_config c;
	struct mxg_cfg *slot;
	int opt, err, json = 0;

	while ((opt = mxg_getopt(&mxg_cmd_config, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_config); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_config, argc, argv, 1, "configuration file");
	if (err)
		return err;
	err = config_open(argv[optind], &c);
	if (err)
		return err;
	slot = effective_slot(&c);
	if (!slot) {
		mxg_config_free(&c);
		return -ENOMEM;
	}
	if (json)
		show_json(argv[optind], &c, slot);
	else
		show_ini(argv[optind], &c, slot);
	free(slot);
	mxg_config_free(&c);
	return 0;
}

static int do_config(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "check", config_check }, { "show", config_show }, { NULL, NULL }
	};

	return mxg_dispatch(&mxg_cmd_config, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_config = {
	.name = "config",
	.synopsis = "config check FILE\n"
		    "config show FILE [--json]",
	.summary = "validate a configuration file and show what it sets",
	.help =
	"The configuration file (usually /etc/mxguard/mxguard.conf) describes the\n"
	"whole policy in one place: mode, interfaces, per-service limits and\n"
	"ports, blocklist feeds and allowlist files. `mxguard run --config` and\n"
	"`mxguard attach --config` read it; these two commands only read the\n"
	"file and need no privileges and no attached filter.\n\n"
	"  check FILE   validate FILE. Prints one line, e.g.\n"
	"               \"config ok: 2 interfaces, mode enforce, 7 limits, 1 feed\",\n"
	"               and warns about a service left without ports. On the first\n"
	"               error prints \"mxguard: config check: FILE:LINE: message\"\n"
	"               and exits 2.\n"
	"  show FILE    print the configuration as it takes effect on a fresh\n"
	"               attach: every key, defaults filled in and marked\n"
	"               '; default'. The output is itself a valid file.\n"
	"    --json     one JSON document instead: file, mode, interfaces[],\n"
	"               xdp_mode, source_prefix_v4, source_prefix_v6, state_dir,\n"
	"               limits{SERVICE: {in_file, rate, rate_n, per_s, burst,\n"
	"               ports[]}}, feeds[] {name, path, refresh_s, ttl_s},\n"
	"               allow_files[], escalation {steps_s[], window_s, after}\n"
	"               or null, alert {command, min_interval_s} or null\n\n"
	"File format: INI. '[section]' lines, 'key = value' lines, comments\n"
	"starting with ';' or '#' at the start of a line, or with ' ;' after a\n"
	"value. Lines are at most 197 characters. Lists are separated by blanks.\n"
	"Durations take s, m, h, d suffixes (90s, 10m, 1h30m, 7d). Unknown\n"
	"sections or keys, repeated keys or sections, and bad values are errors.\n\n"
	"  [mxguard]\n"
	"  mode = enforce|monitor|lockdown      policy mode (enforce)\n"
	"  interfaces = IFACE...                interfaces to attach to (none)\n"
	"  xdp_mode = auto|native|generic       how to attach (auto)\n"
	"  source_prefix_v4 = 1-32              IPv4 source key length (32)\n"
	"  source_prefix_v6 = 1-128             IPv6 source key length (64)\n"
	"  state_dir = PATH                     state kept by run (/var/lib/mxguard)\n"
	"  [limit SERVICE]                      smtp, submissions, submission, pop3,\n"
	"                                       pop3s, imap or imaps\n"
	"  rate = N/sec|N/min|N/hour            refill rate (per-service default)\n"
	"  burst = N                            bucket depth, 1-1000000\n"
	"  ports = PORT...                      replace the service's ports; a port\n"
	"                                       belongs to one service only\n"
	"  [feed NAME]                          NAME: 1-31 of A-Z a-z 0-9 . _ -\n"
	"  path = PATH                          blocklist file (required)\n"
	"  refresh = DURATION                   re-sync interval, >= 1m (required)\n"
	"  ttl = DURATION|0                     entry lifetime; 0: none (0)\n"
	"  [allow]\n"
	"  file = PATH...                       allowlist files (required)\n"
	"  [escalation]                         read and checked; not used yet\n"
	"  steps = DURATION...                  ban lengths, non-decreasing\n"
	"  window = DURATION                    (1h)\n"
	"  after = N                            1-1000 (3)\n"
	"  [alert]                              read and checked; not used yet\n"
	"  command = /PROGRAM [ARG...]          run without a shell\n"
	"  min_interval = DURATION              (1m)\n\n"
	"Paths must be absolute. A fully commented example is installed as\n"
	"share/doc/mxguard/mxguard.conf.example.\n\n"
	"Examples:\n"
	"  mxguard config check /etc/mxguard/mxguard.conf\n"
	"  mxguard config show /etc/mxguard/mxguard.conf --json | jq .limits.smtp\n",
	.run = do_config,
};

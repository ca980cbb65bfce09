// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/config.c: the configuration file, its errors with their
 * exact lines, and how it is applied onto the run-time slot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "cfg.h"
#include "config.h"
#include "addr.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char root[PATH_MAX];  /* top of the source tree */
static char tmpdir[64];

/* Check names: "<case>.<what>" or "<case>[<input>]<what>". */
static char nmbuf[512];

static const char *nm(const char *c, const char *what)
{
	snprintf(nmbuf, sizeof(nmbuf), "%s.%s", c, what);
	return nmbuf;
}

static const char *nmi(const char *c, const char *in, const char *what)
{
	snprintf(nmbuf, sizeof(nmbuf), "%s[%s]%s", c, in, what);
	return nmbuf;
}

static const char *src_path(const char *rel)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%.*s/%s", PATH_MAX - 1, root, rel);
	return p;
}

static int parse(const char *text, struct mxg_config *c,
		 struct mxg_config_error *e)
{
	return mxg_config_parse_string(text, "test", c, e);
}

/* Every section and key, from a file. */
static void t_good_full(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	const struct mxg_config_limit *l;
	int ret;

	ret = mxg_config_load(src_path("tests/unit/data/good.conf"), &cf, &e);
	CHECK_EQ(nm(c, "ret"), 0, ret);
	if (ret) {
		printf("FAIL %s: %u: %s\n", nm(c, "load"), e.line, e.msg);
		check_failed++;
		return;
	}
	CHECK(nm(c, "mode_set"), cf.mode_set);
	CHECK_STR(nm(c, "mode"), "monitor", mxg_mode_name(cf.mode));
	CHECK_EQ(nm(c, "n_ifaces"), 2, cf.n_ifaces);
	CHECK_STR(nm(c, "iface0"), "eth0", cf.ifaces[0]);
	CHECK_STR(nm(c, "iface1"), "eth1", cf.ifaces[1]);
	CHECK(nm(c, "xdp_mode_set"), cf.xdp_mode_set);
	CHECK_EQ(nm(c, "xdp_mode"), MXG_XDP_NATIVE, cf.xdp_mode);
	CHECK(nm(c, "v4_prefix_set"), cf.v4_prefix_set && cf.v6_prefix_set);
	CHECK_EQ(nm(c, "v4_prefix"), 24, cf.v4_prefix);
	CHECK_EQ(nm(c, "v6_prefix"), 56, cf.v6_prefix);
	CHECK(nm(c, "state_dir_set"), cf.state_dir_set);
	CHECK_STR(nm(c, "state_dir"), "/srv/mxguard", cf.state_dir);

	CHECK_EQ(nm(c, "n_limits"), 5, cf.n_limits);
	l = &cf.limit[MXG_SVC_SMTP];
	CHECK(nm(c, "smtp.present"), l->present && l->rate_set && l->burst_set &&
	      l->ports_set);
	CHECK_EQ(nm(c, "smtp.rate_n"), 120, l->rate_n);
	CHECK_EQ(nm(c, "smtp.per_s"), 60, l->per_s);
	CHECK_EQ(nm(c, "smtp.burst"), 50, l->burst);
	CHECK_EQ(nm(c, "smtp.nports"), 3, l->nports);
	CHECK_EQ(nm(c, "smtp.port0"), 25, l->ports[0]);
	CHECK_EQ(nm(c, "smtp.port1"), 2525, l->ports[1]);
	CHECK_EQ(nm(c, "smtp.port2"), 587, l->ports[2]);
	l = &cf.limit[MXG_SVC_SUBMISSION];
	CHECK(nm(c, "submission.only_ports"), l->present && l->ports_set &&
	      !l->rate_set && !l->burst_set);
	CHECK_EQ(nm(c, "submission.port0"), 588, l->ports[0]);
	CHECK(nm(c, "submission.network"), l->len4_set && !l->len6_set &&
	      l->prate_set && !l->pburst_set);
	CHECK_EQ(nm(c, "submission.len4"), 22, l->len4);
	CHECK_EQ(nm(c, "submission.prate_n"), 100, l->prate_n);
	CHECK_EQ(nm(c, "submission.pper_s"), 60, l->pper_s);
	l = &cf.limit[MXG_SVC_POP3S];
	CHECK(nm(c, "pop3s.only_network"), l->len6_set && l->pburst_set &&
	      !l->len4_set && !l->prate_set && !l->rate_set && !l->burst_set);
	CHECK_EQ(nm(c, "pop3s.len6"), 40, l->len6);
	CHECK_EQ(nm(c, "pop3s.pburst"), 9, l->pburst);
	l = &cf.limit[MXG_SVC_IMAPS];
	CHECK(nm(c, "imaps.only_rate"), l->rate_set && !l->burst_set && !l->ports_set);
	CHECK_EQ(nm(c, "imaps.rate_n"), 10, l->rate_n);
	CHECK_EQ(nm(c, "imaps.per_s"), 1, l->per_s);
	l = &cf.limit[MXG_SVC_POP3];
	CHECK(nm(c, "pop3.only_burst"), l->burst_set && !l->rate_set && !l->ports_set);
	CHECK_EQ(nm(c, "pop3.burst"), 5, l->burst);
	l = &cf.limit[MXG_SVC_IMAP];
	CHECK(nm(c, "imap.absent"), !l->present && !l->rate_set && !l->burst_set &&
	      !l->ports_set);

	CHECK_EQ(nm(c, "n_feeds"), 2, cf.n_feeds);
	if (cf.n_feeds == 2) {
		CHECK_STR(nm(c, "feed0.name"), "spamhaus-drop", cf.feeds[0].name);
		CHECK_STR(nm(c, "feed0.path"), "/var/lib/mxguard/feeds/drop.txt",
			  cf.feeds[0].path);
		CHECK_EQ(nm(c, "feed0.refresh_s"), 43200, cf.feeds[0].refresh_s);
		CHECK(nm(c, "feed0.ttl_set"), cf.feeds[0].ttl_set);
		CHECK_EQ(nm(c, "feed0.ttl_s"), 172800, cf.feeds[0].ttl_s);
		CHECK_STR(nm(c, "feed1.name"), "local.v6_list-1", cf.feeds[1].name);
		CHECK_EQ(nm(c, "feed1.refresh_s"), 5400, cf.feeds[1].refresh_s);
		CHECK(nm(c, "feed1.ttl_unset"), !cf.feeds[1].ttl_set);
		CHECK_EQ(nm(c, "feed1.ttl_s"), 0, cf.feeds[1].ttl_s);
	}
	CHECK_EQ(nm(c, "n_allow_files"), 2, cf.n_allow_files);
	CHECK_STR(nm(c, "allow0"), "/etc/mxguard/partners.txt", cf.allow_files[0]);
	CHECK_STR(nm(c, "allow1"), "/etc/mxguard/monitoring.txt", cf.allow_files[1]);

	CHECK(nm(c, "escalation"), cf.escalation && cf.window_set && cf.after_set);
	CHECK_EQ(nm(c, "n_steps"), 3, cf.n_steps);
	CHECK_EQ(nm(c, "step0"), 600, cf.steps_s[0]);
	CHECK_EQ(nm(c, "step1"), 3600, cf.steps_s[1]);
	CHECK_EQ(nm(c, "step2"), 86400, cf.steps_s[2]);
	CHECK_EQ(nm(c, "window_s"), 7200, cf.window_s);
	CHECK_EQ(nm(c, "after"), 5, cf.after);
	CHECK(nm(c, "alert"), cf.alert && cf.min_interval_set);
	CHECK_STR(nm(c, "alert_command"),
		  "/usr/local/bin/notify --to postmaster@example.org",
		  cf.alert_command);
	CHECK_EQ(nm(c, "alert_min_interval_s"), 300, cf.alert_min_interval_s);
	mxg_config_free(&cf);
	CHECK(nm(c, "free_zeroes"), !cf.feeds && !cf.state_dir && !cf.n_feeds);
	mxg_config_free(&cf);
}

/* An empty file: every value its default, nothing marked as set. */
static void t_empty_defaults(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	unsigned s, set = 0;

	CHECK_EQ(nm(c, "ret"), 0, parse("", &cf, &e));
	CHECK_EQ(nm(c, "mode"), MXG_MODE_ENFORCE, cf.mode);
	CHECK_EQ(nm(c, "xdp_mode"), MXG_XDP_AUTO, cf.xdp_mode);
	CHECK_EQ(nm(c, "v4_prefix"), MXG_DEFAULT_V4_PREFIX, cf.v4_prefix);
	CHECK_EQ(nm(c, "v6_prefix"), MXG_DEFAULT_V6_PREFIX, cf.v6_prefix);
	CHECK_STR(nm(c, "state_dir"), MXG_CONFIG_DEFAULT_STATE_DIR, cf.state_dir);
	CHECK_EQ(nm(c, "window_s"), MXG_CONFIG_DEFAULT_WINDOW_S, cf.window_s);
	CHECK_EQ(nm(c, "after"), MXG_CONFIG_DEFAULT_AFTER, cf.after);
	CHECK_EQ(nm(c, "min_interval_s"), MXG_CONFIG_DEFAULT_MIN_INTERVAL_S,
		 cf.alert_min_interval_s);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		set += cf.limit[s].present + cf.limit[s].rate_set +
		       cf.limit[s].burst_set + cf.limit[s].ports_set;
		CHECK_EQ(nm(c, "default_rate"), mxg_default_limits[s].rate_n,
			 cf.limit[s].rate_n);
		CHECK_EQ(nm(c, "default_burst"), mxg_default_limits[s].burst,
			 cf.limit[s].burst);
	}
	set += cf.mode_set + cf.xdp_mode_set + cf.v4_prefix_set + cf.v6_prefix_set +
	       cf.state_dir_set + cf.escalation + cf.alert + cf.n_ifaces +
	       cf.n_limits + cf.n_feeds + cf.n_allow_files;
	CHECK_EQ(nm(c, "nothing_set"), 0, set);
	mxg_config_free(&cf);
}

/* Layout the parser must take in its stride: indentation (never a
 * continuation), CRLF, a byte order mark, comments of every kind, empty
 * sections, ttl 0. */
static void t_layout(const char *c)
{
	static const char text[] =
		"\xef\xbb\xbf# comment\r\n"
		"; comment\r\n"
		"[mxguard]   ; comment\r\n"
		"  mode = lockdown ; comment\r\n"
		"\tinterfaces = eth0\r\n"
		"    xdp_mode = generic\r\n"
		"[limit smtp]\r\n"
		"[feed f]\r\n"
		"path = /a#b\r\n"
		"refresh = 1m\r\n"
		"ttl = 0\r\n"
		"[alert]\n"
		"command = /bin/x # not a comment\n"
		"[escalation] # comment\n"
		"steps = 1h 1h";
	struct mxg_config_error e;
	struct mxg_config cf;
	int ret;

	ret = parse(text, &cf, &e);
	CHECK_EQ(nm(c, "ret"), 0, ret);
	if (ret) {
		printf("FAIL %s: %u: %s\n", nm(c, "parse"), e.line, e.msg);
		check_failed++;
		return;
	}
	CHECK_EQ(nm(c, "mode"), MXG_MODE_LOCKDOWN, cf.mode);
	CHECK_EQ(nm(c, "n_ifaces"), 1, cf.n_ifaces);
	CHECK_EQ(nm(c, "xdp_mode"), MXG_XDP_GENERIC, cf.xdp_mode);
	CHECK(nm(c, "empty_limit_present"), cf.limit[MXG_SVC_SMTP].present &&
	      !cf.limit[MXG_SVC_SMTP].rate_set);
	CHECK_EQ(nm(c, "n_limits"), 1, cf.n_limits);
	CHECK_STR(nm(c, "hash_in_path"), "/a#b", cf.n_feeds ? cf.feeds[0].path : NULL);
	CHECK(nm(c, "ttl0_set"), cf.n_feeds && cf.feeds[0].ttl_set &&
	      !cf.feeds[0].ttl_s);
	CHECK_STR(nm(c, "hash_in_command"), "/bin/x # not a comment", cf.alert_command);
	CHECK_EQ(nm(c, "equal_steps"), 2, cf.n_steps);
	mxg_config_free(&cf);
}

/* Each kind of error: exact line, exact message. */
static void t_errors(const char *c)
{
	static const struct {
		const char *id, *text;
		unsigned line;
		const char *msg;
	} t[] = {
		{ "unknown_section", "[mxguard]\nmode = enforce\n\n[limits smtp]\nrate = 1/s\n", 4,
		  "unknown section [limits smtp] (sections: mxguard, limit SERVICE, feed NAME, allow, escalation, alert, logwatch, crowdsec)" },
		{ "unknown_empty_section", "[mxguard]\n[bogus]\n", 2,
		  "unknown section [bogus] (sections: mxguard, limit SERVICE, feed NAME, allow, escalation, alert, logwatch, crowdsec)" },
		{ "unknown_key", "[limit smtp]\nrate = 1/s\nbursts = 3\n", 3,
		  "limit smtp: unknown key 'bursts' (keys: rate, burst, ports, prefix_rate, prefix_burst, prefix_v4, prefix_v6)" },
		{ "unknown_key_mxguard", "[mxguard]\nrate = 1/s\n", 2,
		  "mxguard: unknown key 'rate' (keys: mode, interfaces, xdp_mode, source_prefix_v4, source_prefix_v6, state_dir)" },
		{ "duplicate_key", "[mxguard]\nmode = monitor\ninterfaces = eth0\nmode = enforce\n", 4,
		  "mxguard: key 'mode' repeated (first at line 2)" },
		{ "duplicate_key_indented", "[limit imap]\nrate = 1/s\n  rate = 2/s\n", 3,
		  "limit imap: key 'rate' repeated (first at line 2)" },
		{ "duplicate_section", "[limit smtp]\nrate = 1/s\n[limit imap]\nburst = 3\n[limit  smtp]\n", 5,
		  "section [limit smtp] repeated (first at line 1)" },
		{ "duplicate_feed", "[feed a]\npath = /a\nrefresh = 1h\n[feed a]\n", 4,
		  "section [feed a] repeated (first at line 1)" },
		{ "duplicate_mxguard", "[mxguard]\n[alert]\ncommand = /x\n[mxguard]\n", 4,
		  "section [mxguard] repeated (first at line 1)" },
		{ "key_before_section", "# x\nmode = enforce\n", 2,
		  "key 'mode' before any section: put it under [mxguard]" },
		{ "rate_unit", "[mxguard]\nmode = enforce\n[limit smtp]\nrate = 10/fortnight\n", 4,
		  "limit smtp: rate '10/fortnight': rate unit must be sec, min or hour (also s, m, h)" },
		{ "rate_zero", "[limit smtp]\nrate = 0/min\n", 2,
		  "limit smtp: rate '0/min': rate must be 1 to 1000000 per unit" },
		{ "burst_zero", "[limit imap]\nburst = 0\n", 2,
		  "limit imap: burst '0': number out of range (1-1000000)" },
		{ "burst_word", "[limit imap]\nburst = many\n", 2,
		  "limit imap: burst 'many': not a decimal number" },
		{ "port_zero", "[limit smtp]\nports = 25 0\n", 2,
		  "limit smtp: ports '25 0': port '0': number out of range (1-65535)" },
		{ "port_too_big", "[limit smtp]\nports = 65536\n", 2,
		  "limit smtp: ports '65536': port '65536': number out of range (1-65535)" },
		{ "port_comma", "[limit smtp]\nports = 25,2525\n", 2,
		  "limit smtp: ports '25,2525': port '25,2525': not a decimal number" },
		{ "port_twice_in_list", "[limit smtp]\nports = 25 2525 25\n", 2,
		  "limit smtp: ports '25 2525 25': port 25 listed twice" },
		{ "port_two_services", "[limit smtp]\nports = 25 2525\n\n[limit imap]\nports = 143 2525\n", 5,
		  "limit imap: ports '143 2525': port 2525 is already listed in [limit smtp] (line 2)" },
		{ "port_too_many", "[limit smtp]\nports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", 2,
		  "limit smtp: ports '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17': more than 16 ports" },
		{ "iface_slash", "[mxguard]\ninterfaces = eth0 br/0\n", 2,
		  "mxguard: interfaces 'eth0 br/0': interface name 'br/0' contains '/'" },
		{ "iface_too_long", "[mxguard]\ninterfaces = abcdefghijklmnop\n", 2,
		  "mxguard: interfaces 'abcdefghijklmnop': interface name 'abcdefghijklmnop' is longer than 15 characters" },
		{ "iface_twice", "[mxguard]\ninterfaces = eth0 eth1 eth0\n", 2,
		  "mxguard: interfaces 'eth0 eth1 eth0': interface 'eth0' listed twice" },
		{ "iface_dotdot", "[mxguard]\ninterfaces = ..\n", 2,
		  "mxguard: interfaces '..': '..' is not an interface name" },
		{ "mode", "[mxguard]\nmode = panic\n", 2,
		  "mxguard: mode 'panic': mode must be enforce, monitor or lockdown" },
		{ "xdp_mode", "[mxguard]\nxdp_mode = offload\n", 2,
		  "mxguard: xdp_mode 'offload': xdp_mode must be auto, native or generic" },
		{ "prefix_v4", "[mxguard]\nsource_prefix_v4 = 33\n", 2,
		  "mxguard: source_prefix_v4 '33': number out of range (1-32)" },
		{ "prefix_v6", "[mxguard]\nsource_prefix_v6 = 0\n", 2,
		  "mxguard: source_prefix_v6 '0': number out of range (1-128)" },
		{ "net_v4_too_long", "[limit smtp]\nrate = 1/s\nprefix_v4 = /33\n", 3,
		  "limit smtp: prefix_v4 '/33': number out of range (8-32)" },
		{ "net_v4_too_wide", "[limit smtp]\nprefix_v4 = 2\n", 2,
		  "limit smtp: prefix_v4 '2': number out of range (8-32)" },
		{ "net_v6_zero", "[limit imap]\nprefix_v6 = 0\n", 2,
		  "limit imap: prefix_v6 '0': number out of range (16-128)" },
		{ "net_v6_cidr", "[limit imap]\nprefix_v6 = 2001:db8::/48\n", 2,
		  "limit imap: prefix_v6 '2001:db8::/48': not a decimal number" },
		{ "net_burst_zero", "[limit pop3]\nprefix_burst = 0\n", 2,
		  "limit pop3: prefix_burst '0': number out of range (1-1000000)" },
		{ "net_rate_unit", "[limit pop3]\nprefix_rate = 5/week\n", 2,
		  "limit pop3: prefix_rate '5/week': rate unit must be sec, min or hour (also s, m, h)" },
		{ "state_dir_relative", "[mxguard]\nstate_dir = var/lib/mxguard\n", 2,
		  "mxguard: state_dir 'var/lib/mxguard': path 'var/lib/mxguard' must be absolute (start with '/')" },
		{ "feed_path_relative", "[feed drop]\npath = drop.txt\n", 2,
		  "feed drop: path 'drop.txt': path 'drop.txt' must be absolute (start with '/')" },
		{ "allow_file_relative", "[allow]\nfile = /etc/a.txt b.txt\n", 2,
		  "allow: file '/etc/a.txt b.txt': path 'b.txt' must be absolute (start with '/')" },
		{ "allow_file_twice", "[allow]\nfile = /a /a\n", 2,
		  "allow: file '/a /a': file '/a' listed twice" },
		{ "feed_name_chars", "[mxguard]\n[feed drop/v4]\n", 2,
		  "section [feed drop/v4]: feed names use only letters, digits, '.', '_' and '-'" },
		{ "feed_name_manual", "[feed manual]\n", 1,
		  "section [feed manual]: 'manual' is reserved for entries added by hand" },
		{ "feed_name_long", "[feed abcdefghijklmnopqrstuvwxyz012345]\n", 1,
		  "section [feed abcdefghijklmnopqrstuvwxyz012345]: feed name longer than 31 characters" },
		{ "feed_name_two_words", "[feed drop list]\n", 1,
		  "section [feed drop list]: one name only, without blanks" },
		{ "feed_no_name", "[feed]\n", 1,
		  "section [feed] needs a name: [feed NAME]" },
		{ "limit_no_service", "[limit]\nrate = 1/s\n", 1,
		  "section [limit] needs a service: [limit smtp]" },
		{ "limit_unknown_service", "[limit smtps]\n", 1,
		  "section [limit smtps]: unknown service 'smtps': use smtp, submissions, submission, pop3, pop3s, imap or imaps" },
		{ "mxguard_with_name", "[mxguard main]\n", 1,
		  "section [mxguard main] takes no name: [mxguard]" },
		{ "feed_missing_refresh", "[mxguard]\n\n[feed drop]\npath = /x\n\n[allow]\nfile = /y\n", 3,
		  "feed drop: missing key 'refresh'" },
		{ "allow_missing_file", "[mxguard]\n[allow]\n", 2,
		  "allow: missing key 'file'" },
		{ "escalation_missing_steps", "[escalation]\nwindow = 1h\n", 1,
		  "escalation: missing key 'steps'" },
		{ "alert_missing_command", "[alert]\nmin_interval = 1m\n", 1,
		  "alert: missing key 'command'" },
		{ "refresh_short", "[feed a]\npath = /a\nrefresh = 30s\n", 3,
		  "feed a: refresh '30s': refresh must be at least 1m" },
		{ "refresh_word", "[feed a]\npath = /a\nrefresh = soon\n", 3,
		  "feed a: refresh 'soon': expected a number with unit s, m, h or d (e.g. 90s, 1h30m)" },
		{ "ttl_negative", "[feed a]\npath = /a\nrefresh = 1h\nttl = -1\n", 4,
		  "feed a: ttl '-1': expected a number with unit s, m, h or d (e.g. 90s, 1h30m)" },
		{ "steps_decrease", "[escalation]\nsteps = 1h 10m\n", 2,
		  "escalation: steps '1h 10m': step '10m' is shorter than the one before it" },
		{ "steps_bad_item", "[escalation]\nsteps = 10m 1x\n", 2,
		  "escalation: steps '10m 1x': step '1x': unit must be s, m, h or d" },
		{ "steps_too_many", "[escalation]\nsteps = 1 2 3 4 5 6 7 8 9\n", 2,
		  "escalation: steps '1 2 3 4 5 6 7 8 9': more than 8 steps" },
		{ "after_zero", "[escalation]\nsteps = 1h\nafter = 0\n", 3,
		  "escalation: after '0': number out of range (1-1000)" },
		{ "window_zero", "[escalation]\nsteps = 1h\nwindow = 0\n", 3,
		  "escalation: window '0': duration must be greater than zero" },
		{ "alert_relative", "[alert]\ncommand = notify --to x\n", 2,
		  "alert: command 'notify --to x': program 'notify' must be an absolute path (it runs without a shell or PATH)" },
		{ "min_interval_bad", "[alert]\ncommand = /x\nmin_interval = 1w\n", 3,
		  "alert: min_interval '1w': unit must be s, m, h or d" },
		{ "no_equals", "[mxguard]\nmode enforce\n", 2,
		  "expected 'key = value' or '[section]', got 'mode enforce'" },
		{ "no_equals_before_comment", "[mxguard]\nmode ; = x\n", 2,
		  "expected 'key = value' or '[section]', got 'mode ; = x'" },
		{ "no_bracket", "# x\n[mxguard\nmode = enforce\n", 2,
		  "section header without ']'" },
		{ "text_after_bracket", "[mxguard] mode = enforce\n", 1,
		  "unexpected text after ']'" },
		{ "empty_value", "[mxguard]\nmode =\n", 2,
		  "mxguard: mode: empty value" },
		{ "empty_value_comment", "[mxguard]\nmode = ; enforce\n", 2,
		  "mxguard: mode: empty value" },
		{ "no_key", "[mxguard]\n= enforce\n", 2,
		  "mxguard: '=' without a key" },
		{ "first_error_wins", "[mxguard]\nmode = x\nxdp_mode = y\n[bogus]\n", 2,
		  "mxguard: mode 'x': mode must be enforce, monitor or lockdown" },
	};
	struct mxg_config_error e;
	struct mxg_config cf;
	unsigned i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&e, 0, sizeof(e));
		ret = parse(t[i].text, &cf, &e);
		CHECK_EQ(nmi(c, t[i].id, ".ret"), -EINVAL, ret);
		CHECK_EQ(nmi(c, t[i].id, ".line"), t[i].line, e.line);
		CHECK_STR(nmi(c, t[i].id, ".msg"), t[i].msg, e.msg);
		CHECK_STR(nmi(c, t[i].id, ".file"), "test", e.file);
		/* Nothing to free after a failure, and free is still safe. */
		CHECK(nmi(c, t[i].id, ".nothing_kept"),
		      !cf.feeds && !cf.state_dir && !cf.alert_command && !cf.n_feeds);
		mxg_config_free(&cf);
	}
}

/* A line longer than inih's buffer is refused, not split in two. */
static void t_long_line(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	char text[400];
	int ret;

	snprintf(text, sizeof(text), "[alert]\ncommand = /x %0*d\n", 250, 0);
	ret = parse(text, &cf, &e);
	CHECK_EQ(nm(c, "ret"), -EINVAL, ret);
	CHECK_EQ(nm(c, "line"), 2, e.line);
	CHECK_STR(nm(c, "msg"), "line longer than 197 characters", e.msg);
	/* 197 characters exactly still fit. */
	snprintf(text, sizeof(text), "[alert]\ncommand = /x%0*d\n", 197 - 12, 0);
	ret = parse(text, &cf, &e);
	CHECK_EQ(nm(c, "at_limit.ret"), 0, ret);
	CHECK_EQ(nm(c, "at_limit.len"), 197 - 10, cf.alert_command ?
		 strlen(cf.alert_command) : 0);
	mxg_config_free(&cf);
}

/* A second claim on a port in a file: the error names file and line. */
static void t_port_twice_file(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	const char *path = src_path("tests/unit/data/port-twice.conf");
	char file[PATH_MAX + 64];

	snprintf(file, sizeof(file), "%s", path);
	CHECK_EQ(nm(c, "ret"), -EINVAL, mxg_config_load(file, &cf, &e));
	CHECK_STR(nm(c, "file"), file, e.file);
	CHECK_EQ(nm(c, "line"), 10, e.line);
	CHECK_STR(nm(c, "msg"),
		  "limit submission: ports '587 2525': port 2525 is already listed in [limit smtp] (line 6)",
		  e.msg);
}

static void t_load_errors(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	char path[128];
	FILE *f;

	CHECK_EQ(nm(c, "missing.ret"), -ENOENT,
		 mxg_config_load("/nonexistent/mxguard.conf", &cf, &e));
	CHECK_EQ(nm(c, "missing.line"), 0, e.line);
	CHECK_STR(nm(c, "missing.msg"), "cannot open: No such file or directory", e.msg);

	snprintf(path, sizeof(path), "%s/nul.conf", tmpdir);
	f = fopen(path, "w");
	CHECK(nm(c, "nul.setup"), f != NULL);
	if (!f)
		return;
	fwrite("[mxguard]\nmode = enforce\nx\0y\n", 1, 29, f);
	fclose(f);
	CHECK_EQ(nm(c, "nul.ret"), -EINVAL, mxg_config_load(path, &cf, &e));
	CHECK_EQ(nm(c, "nul.line"), 3, e.line);
	CHECK_STR(nm(c, "nul.msg"), "NUL byte: not a text file", e.msg);
	unlink(path);
}

static struct mxg_cfg *default_slot(void)
{
	struct mxg_cfg *s = malloc(sizeof(*s));

	if (s) {
		mxg_cfg_defaults(s);
		s->pfx_seed = 0; /* random per slot, not a setting */
	}
	return s;
}

/* good.conf onto a fresh slot: limits, network buckets, moved ports,
 * prefixes, mode. */
static void t_apply_good(const char *c)
{
	struct mxg_cfg *slot = default_slot(), *def = default_slot();
	struct mxg_config_error e;
	struct mxg_config cf;
	union mxg_addr m4, m6;
	unsigned s;

	CHECK(nm(c, "setup"), slot && def);
	if (!slot || !def)
		goto out;
	CHECK_EQ(nm(c, "load"), 0,
		 mxg_config_load(src_path("tests/unit/data/good.conf"), &cf, &e));
	mxg_config_apply(&cf, slot);
	CHECK_EQ(nm(c, "mode"), MXG_MODE_MONITOR, slot->mode);
	CHECK(nm(c, "mode_since_set"), slot->mode_since_s > 0);
	CHECK_EQ(nm(c, "v4_prefix"), 24, slot->v4_prefix);
	CHECK_EQ(nm(c, "v6_prefix"), 56, slot->v6_prefix);
	mxg_addr_mask(&m4, 96 + 24);
	mxg_addr_mask(&m6, 56);
	CHECK(nm(c, "src_mask4"), !memcmp(&m4, &slot->src_mask4, sizeof(m4)));
	CHECK(nm(c, "src_mask6"), !memcmp(&m6, &slot->src_mask6, sizeof(m6)));

	CHECK_EQ(nm(c, "smtp.rate_n"), 120, slot->limit[MXG_SVC_SMTP].rate_n);
	CHECK_EQ(nm(c, "smtp.per_s"), 60, slot->limit[MXG_SVC_SMTP].rate_per_s);
	CHECK_EQ(nm(c, "smtp.burst"), 50, slot->limit[MXG_SVC_SMTP].burst);
	CHECK_EQ(nm(c, "smtp.interval_ns"), 500000000ull,
		 slot->limit[MXG_SVC_SMTP].interval_ns);
	/* Only the rate given: the burst stays. */
	CHECK_EQ(nm(c, "imaps.rate_n"), 10, slot->limit[MXG_SVC_IMAPS].rate_n);
	CHECK_EQ(nm(c, "imaps.per_s"), 1, slot->limit[MXG_SVC_IMAPS].rate_per_s);
	CHECK_EQ(nm(c, "imaps.burst_kept"), def->limit[MXG_SVC_IMAPS].burst,
		 slot->limit[MXG_SVC_IMAPS].burst);
	/* Only the burst given: the rate stays. */
	CHECK_EQ(nm(c, "pop3.burst"), 5, slot->limit[MXG_SVC_POP3].burst);
	CHECK_EQ(nm(c, "pop3.rate_kept"), def->limit[MXG_SVC_POP3].rate_n,
		 slot->limit[MXG_SVC_POP3].rate_n);
	CHECK_EQ(nm(c, "pop3.interval_kept"), def->limit[MXG_SVC_POP3].interval_ns,
		 slot->limit[MXG_SVC_POP3].interval_ns);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		if (s == MXG_SVC_SUBMISSIONS || s == MXG_SVC_POP3S || s == MXG_SVC_IMAP)
			CHECK(nmi(c, mxg_svc_name(s), ".limit_untouched"),
			      !memcmp(&def->limit[s], &slot->limit[s],
				      sizeof(slot->limit[s])));

	/* The network buckets: only what the file names. */
	CHECK_EQ(nm(c, "submission.len4"), 22, slot->net[MXG_SVC_SUBMISSION].len4);
	CHECK_EQ(nm(c, "submission.len6_kept"), 48, slot->net[MXG_SVC_SUBMISSION].len6);
	mxg_addr_mask(&m4, 96 + 22);
	CHECK(nm(c, "submission.net_mask4"),
	      !memcmp(&m4, &slot->net[MXG_SVC_SUBMISSION].mask4, sizeof(m4)));
	CHECK_EQ(nm(c, "submission.prate_n"), 100, slot->plimit[MXG_SVC_SUBMISSION].rate_n);
	CHECK_EQ(nm(c, "submission.pburst_kept"), def->plimit[MXG_SVC_SUBMISSION].burst,
		 slot->plimit[MXG_SVC_SUBMISSION].burst);
	CHECK_EQ(nm(c, "pop3s.len4_kept"), 24, slot->net[MXG_SVC_POP3S].len4);
	CHECK_EQ(nm(c, "pop3s.len6"), 40, slot->net[MXG_SVC_POP3S].len6);
	mxg_addr_mask(&m6, 40);
	CHECK(nm(c, "pop3s.net_mask6"), !memcmp(&m6, &slot->net[MXG_SVC_POP3S].mask6, sizeof(m6)));
	CHECK_EQ(nm(c, "pop3s.pburst"), 9, slot->plimit[MXG_SVC_POP3S].burst);
	CHECK_EQ(nm(c, "pop3s.prate_kept"), def->plimit[MXG_SVC_POP3S].interval_ns,
		 slot->plimit[MXG_SVC_POP3S].interval_ns);
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++)
		if (s != MXG_SVC_SUBMISSION && s != MXG_SVC_POP3S)
			CHECK(nmi(c, mxg_svc_name(s), ".network_untouched"),
			      !memcmp(&def->net[s], &slot->net[s], sizeof(slot->net[s])) &&
			      !memcmp(&def->plimit[s], &slot->plimit[s],
				      sizeof(slot->plimit[s])));

	CHECK_EQ(nm(c, "port25"), MXG_SVC_SMTP, slot->port_svc[25]);
	CHECK_EQ(nm(c, "port2525"), MXG_SVC_SMTP, slot->port_svc[2525]);
	CHECK_EQ(nm(c, "port587_moved"), MXG_SVC_SMTP, slot->port_svc[587]);
	CHECK_EQ(nm(c, "port588"), MXG_SVC_SUBMISSION, slot->port_svc[588]);
	CHECK_EQ(nm(c, "port465"), MXG_SVC_SUBMISSIONS, slot->port_svc[465]);
	CHECK_EQ(nm(c, "port110"), MXG_SVC_POP3, slot->port_svc[110]);
	CHECK_EQ(nm(c, "port993"), MXG_SVC_IMAPS, slot->port_svc[993]);
	CHECK_EQ(nm(c, "port26_free"), MXG_SVC_NONE, slot->port_svc[26]);
	CHECK(nm(c, "header_untouched"), slot->magic == MXG_CFG_MAGIC &&
	      slot->abi == MXG_ABI_VERSION);
	mxg_config_free(&cf);
out:
	free(slot);
	free(def);
}

/* Applying changes only what the file says, onto a slot that is not the
 * default one. */
static void t_apply_partial(const char *c)
{
	struct mxg_cfg *slot = default_slot(), *before = default_slot();
	struct mxg_config_error e;
	struct mxg_config cf;

	CHECK(nm(c, "setup"), slot && before);
	if (!slot || !before)
		goto out;
	slot->mode = MXG_MODE_LOCKDOWN;
	slot->mode_since_s = 12345;
	mxg_cfg_set_limit(slot, MXG_SVC_SMTP, 5, 60, 2);
	mxg_cfg_set_prefixes(slot, 28, 48);
	slot->port_svc[2525] = MXG_SVC_SMTP;
	memcpy(before, slot, sizeof(*slot));

	CHECK_EQ(nm(c, "empty.parse"), 0, parse("[mxguard]\n[limit smtp]\n", &cf, &e));
	mxg_config_apply(&cf, slot);
	CHECK(nm(c, "empty.nothing_changed"), !memcmp(before, slot, sizeof(*slot)));
	mxg_config_free(&cf);

	CHECK_EQ(nm(c, "burst.parse"), 0,
		 parse("[mxguard]\nmode = lockdown\nsource_prefix_v6 = 56\n"
		       "[limit smtp]\nburst = 7\n", &cf, &e));
	mxg_config_apply(&cf, slot);
	CHECK_EQ(nm(c, "burst.mode_kept"), MXG_MODE_LOCKDOWN, slot->mode);
	CHECK_EQ(nm(c, "burst.mode_since_kept"), 12345, slot->mode_since_s);
	CHECK_EQ(nm(c, "burst.rate_kept"), 5, slot->limit[MXG_SVC_SMTP].rate_n);
	CHECK_EQ(nm(c, "burst.burst"), 7, slot->limit[MXG_SVC_SMTP].burst);
	CHECK_EQ(nm(c, "burst.v4_kept"), 28, slot->v4_prefix);
	CHECK_EQ(nm(c, "burst.v6"), 56, slot->v6_prefix);
	CHECK(nm(c, "burst.mask4_kept"),
	      !memcmp(&before->src_mask4, &slot->src_mask4, sizeof(slot->src_mask4)));
	CHECK_EQ(nm(c, "burst.port2525_kept"), MXG_SVC_SMTP, slot->port_svc[2525]);
	mxg_config_free(&cf);

	/* Listing ports replaces all of a service's ports, 2525 included. */
	CHECK_EQ(nm(c, "ports.parse"), 0, parse("[limit smtp]\nports = 26\n", &cf, &e));
	mxg_config_apply(&cf, slot);
	CHECK_EQ(nm(c, "ports.25_released"), MXG_SVC_NONE, slot->port_svc[25]);
	CHECK_EQ(nm(c, "ports.2525_released"), MXG_SVC_NONE, slot->port_svc[2525]);
	CHECK_EQ(nm(c, "ports.26"), MXG_SVC_SMTP, slot->port_svc[26]);
	CHECK_EQ(nm(c, "ports.587_kept"), MXG_SVC_SUBMISSION, slot->port_svc[587]);
	mxg_config_free(&cf);
out:
	free(slot);
	free(before);
}

/* Two services swapping ports end up swapped, whatever order they come in. */
static void t_apply_swap(const char *c)
{
	struct mxg_cfg *slot = default_slot();
	struct mxg_config_error e;
	struct mxg_config cf;

	CHECK(nm(c, "setup"), slot != NULL);
	if (!slot)
		return;
	CHECK_EQ(nm(c, "parse"), 0,
		 parse("[limit submission]\nports = 25\n[limit smtp]\nports = 587\n",
		       &cf, &e));
	mxg_config_apply(&cf, slot);
	CHECK_EQ(nm(c, "port25"), MXG_SVC_SUBMISSION, slot->port_svc[25]);
	CHECK_EQ(nm(c, "port587"), MXG_SVC_SMTP, slot->port_svc[587]);
	mxg_config_free(&cf);
	free(slot);
}

/* The shipped example parses, and its values are the defaults it claims. */
static void t_example(const char *c)
{
	struct mxg_cfg *slot = default_slot(), *def = default_slot();
	struct mxg_config_error e;
	struct mxg_config cf;
	int ret;

	CHECK(nm(c, "setup"), slot && def);
	if (!slot || !def)
		goto out;
	ret = mxg_config_load(src_path("doc/mxguard.conf.example"), &cf, &e);
	CHECK_EQ(nm(c, "ret"), 0, ret);
	if (ret) {
		printf("FAIL %s: %u: %s\n", nm(c, "load"), e.line, e.msg);
		check_failed++;
		goto out;
	}
	CHECK_EQ(nm(c, "n_limits"), MXG_SVC_MAX - 1, cf.n_limits);
	CHECK_EQ(nm(c, "n_feeds"), 1, cf.n_feeds);
	CHECK_EQ(nm(c, "n_ifaces"), 1, cf.n_ifaces);
	CHECK_EQ(nm(c, "n_allow_files"), 1, cf.n_allow_files);
	CHECK(nm(c, "escalation_alert"), cf.escalation && cf.alert);
	CHECK(nm(c, "every_key_set"), cf.mode_set && cf.xdp_mode_set &&
	      cf.v4_prefix_set && cf.v6_prefix_set && cf.state_dir_set &&
	      cf.window_set && cf.after_set && cf.min_interval_set &&
	      cf.feeds[0].ttl_set && cf.limit[MXG_SVC_SMTP].prate_set &&
	      cf.limit[MXG_SVC_SMTP].pburst_set && cf.limit[MXG_SVC_SMTP].len4_set &&
	      cf.limit[MXG_SVC_SMTP].len6_set);
	mxg_config_apply(&cf, slot);
	CHECK(nm(c, "values_are_defaults"), !memcmp(slot, def, sizeof(*slot)));
	mxg_config_free(&cf);
out:
	free(slot);
	free(def);
}

/* [logwatch], [crowdsec] and the drop-rate alert: values and errors. */
static void t_service_sections(const char *c)
{
	struct mxg_config_error e;
	struct mxg_config cf;
	int ret;

	ret = parse("[logwatch]\nfiles = /var/log/mail.log -\nauth_failures = 5\n"
		    "auth_window = 5m\nban_ttl = 2h\naccount_max_addresses = 4\n"
		    "account_max_messages = 100\naccount_window = 30m\naccount_ban = yes\n"
		    "[crowdsec]\nurl = http://127.0.0.1:8080/\napi_key_file = /etc/mxguard/cs.key\n"
		    "interval = 5s\n[alert]\ncommand = /bin/true\ndrops_per_min = 5000\n",
		    &cf, &e);
	CHECK_EQ(nm(c, "ret"), 0, ret);
	if (!ret) {
		CHECK_EQ(nm(c, "logwatch"), 1, cf.logwatch);
		CHECK_EQ(nm(c, "files"), 2, cf.n_lw_files);
		CHECK_STR(nm(c, "stdin file"), "-", cf.lw_files[1]);
		CHECK_EQ(nm(c, "auth_max"), 5, cf.lw_auth_max);
		CHECK_EQ(nm(c, "auth_window"), 300, cf.lw_auth_window_s);
		CHECK_EQ(nm(c, "ban_ttl"), 7200, cf.lw_ban_ttl_s);
		CHECK_EQ(nm(c, "acct addrs"), 4, cf.lw_acct_max_addrs);
		CHECK_EQ(nm(c, "acct msgs"), 100, cf.lw_acct_max_msgs);
		CHECK_EQ(nm(c, "acct window"), 1800, cf.lw_acct_window_s);
		CHECK_EQ(nm(c, "acct ban"), 1, cf.lw_acct_ban);
		CHECK_STR(nm(c, "cs url"), "http://127.0.0.1:8080/", cf.cs_url);
		CHECK_STR(nm(c, "cs key"), "/etc/mxguard/cs.key", cf.cs_key_file);
		CHECK_EQ(nm(c, "cs interval"), 5, cf.cs_interval_s);
		CHECK_EQ(nm(c, "drops_per_min"), 5000, cf.alert_drops_per_min);
		mxg_config_free(&cf);
	}
	ret = parse("[logwatch]\nfiles = mail.log\n", &cf, &e);
	CHECK_EQ(nm(c, "relative log path rc"), -EINVAL, ret);
	CHECK_EQ(nm(c, "relative log path line"), 2, e.line);
	ret = parse("[crowdsec]\nurl = ftp://x/\napi_key_file = /k\n", &cf, &e);
	CHECK_EQ(nm(c, "bad url line"), 2, ret ? e.line : 0);
	ret = parse("\n[crowdsec]\nurl = http://127.0.0.1:8080/\n", &cf, &e);
	CHECK_EQ(nm(c, "missing key rc"), -EINVAL, ret);
	CHECK(nm(c, "missing key named"), ret && strstr(e.msg, "api_key_file"));
	ret = parse("[logwatch]\nfiles = /l\naccount_ban = maybe\n", &cf, &e);
	CHECK_EQ(nm(c, "account_ban line"), 3, ret ? e.line : 0);
}

static const struct check_case cases[] = {
	{ "good__full_file_parses", t_good_full },
	{ "empty__all_defaults_nothing_set", t_empty_defaults },
	{ "layout__indent_crlf_bom_comments", t_layout },
	{ "errors__exact_line_and_message", t_errors },
	{ "long_line__refused_not_split", t_long_line },
	{ "ports__second_claim_names_file_line", t_port_twice_file },
	{ "load__missing_file_and_nul_byte", t_load_errors },
	{ "apply__limits_ports_prefixes_mode", t_apply_good },
	{ "apply__changes_only_what_file_says", t_apply_partial },
	{ "apply__ports_swap_in_any_order", t_apply_swap },
	{ "example__parses_and_holds_defaults", t_example },
	{ "service__logwatch_crowdsec_alert_sections", t_service_sections },
};

/* The source tree: the working directory (the runner's is the top level),
 * else four levels above build/tests/unit/<this binary>. */
static int find_root(void)
{
	char exe[PATH_MAX], *p;
	ssize_t n;
	int i;

	if (!access("tests/unit/data/good.conf", R_OK)) {
		snprintf(root, sizeof(root), ".");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	for (i = 0; i < 4; i++) {
		p = strrchr(exe, '/');
		if (!p)
			return -ENOENT;
		*p = '\0';
	}
	snprintf(root, sizeof(root), "%s", exe);
	return access(src_path("tests/unit/data/good.conf"), R_OK) ? -ENOENT : 0;
}

int main(int argc, char **argv)
{
	check_filter = argc > 1 ? argv[1] : NULL;
	CHECK("setup.fixtures_in_tests_unit_data", !find_root());
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mxg-config.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK("setup.mkdtemp", 0);
		return CHECK_DONE();
	}
	CHECK_CASES(cases);
	rmdir(tmpdir);
	return CHECK_DONE();
}

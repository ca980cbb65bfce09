// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/logwatch.c: every fixture line classified as expected,
 * ban and alert thresholds with a fake clock, bounded tables, and the file
 * follower on temporary files (rotation, copytruncate, long lines, stdin). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "logwatch.h"

#define T0 1795424400ULL /* 2026-11-23T09:00:00Z */

static char tmpdir[64];
static char data_dir[PATH_MAX - 64];

/* "case/what": one name per assert, selected by the case's substring. */
static const char *nm(const char *c, const char *what)
{
	static char buf[2][256];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", c, what);
	return buf[k];
}

/* ---- detector helpers ----------------------------------------------- */

static struct mxg_lw_action act[MXG_LW_MAX_ACTIONS];

static void base_cfg(struct mxg_logwatch_cfg *c)
{
	mxg_logwatch_cfg_default(c);
	c->auth_max = 5;
	c->auth_window_s = 600;
	c->ban_ttl_s = 3600;
	c->acct_max_addrs = 0;
	c->acct_max_msgs = 0;
	c->acct_window_s = 600;
	c->max_addrs = 1024;
	c->max_accounts = 1024;
}

static struct mxg_logwatch *mk(const char *c, const struct mxg_logwatch_cfg *cfg)
{
	struct mxg_logwatch *w = NULL;
	const char *why = NULL;
	int err = mxg_logwatch_init(&w, cfg, &why);

	CHECK_EQ(nm(c, "setup: mxg_logwatch_init"), 0, err);
	return err ? NULL : w;
}

static int feedf(struct mxg_logwatch *w, __u64 now, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Feed one formatted line at T0 + now; the actions land in act[]. */
static int feedf(struct mxg_logwatch *w, __u64 now, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return mxg_logwatch_line(w, line, strlen(line), T0 + now, act,
				 MXG_LW_MAX_ACTIONS);
}

#define PF_FAIL "Nov 23 09:00:04 mx1 postfix/submission/smtpd[21733]: " \
	"warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
#define DV_SUM "Nov 23 09:10:01 mx1 dovecot: imap-login: Disconnected " \
	"(auth failed, %u attempts in 12 secs): user=<bob@example.org>, " \
	"method=PLAIN, rip=%s, lip=198.18.0.1, TLS, session=<x0Fk3LsOkp3GEgME>"
#define DV_AUTH "Nov 23 09:10:05 mx1 dovecot: auth: passwd-file(" \
	"bob@example.org,%s,<x0Fk3LsOkp3GEgME>): Password mismatch"
#define PF_MSG "Nov 23 09:01:02 mx1 postfix/submission/smtpd[21760]: " \
	"4Nd3Qk1xYzz9sNt: client=unknown[%s], sasl_method=PLAIN, " \
	"sasl_username=%s"

static const char *cidr_of(const struct mxg_lw_action *a)
{
	static char buf[MXG_CIDR_STRLEN];

	mxg_cidr_format(&a->cidr, buf, sizeof(buf));
	return buf;
}

static const char *addr_of(const struct mxg_lw_action *a)
{
	static char buf[MXG_CIDR_STRLEN];

	mxg_addr_format(&a->addr, buf, sizeof(buf));
	return buf;
}

/* n postfix failures from addr at time t; returns the actions of the last. */
static int pf_fails(struct mxg_logwatch *w, __u64 t, const char *addr, int n)
{
	int r = 0, total = 0;

	while (n--) {
		r = feedf(w, t, PF_FAIL, addr);
		total += r;
	}
	return total;
}

/* ---- fixtures ----------------------------------------------------------- */

static int find_data_dir(void)
{
	char exe[PATH_MAX], *p;
	ssize_t n;
	int i;

	if (!access("tests/unit/data/logs/expected.tsv", R_OK)) {
		snprintf(data_dir, sizeof(data_dir), "tests/unit/data/logs");
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
	snprintf(data_dir, sizeof(data_dir), "%.*s/tests/unit/data/logs",
		 (int)sizeof(data_dir) - 30, exe);
	return 0;
}

struct expect {
	char file[64];
	int line;
	char kind[16], addr[64], account[128];
	unsigned count;
	int used;
};

static const char *kind_name(int k)
{
	switch (k) {
	case MXG_LW_EV_AUTH_FAIL: return "fail";
	case MXG_LW_EV_AUTH_SUMMARY: return "summary";
	case MXG_LW_EV_MESSAGE: return "msg";
	default: return "none";
	}
}

/* "kind addr count account" of a parsed line, as expected.tsv writes it. */
static const char *ev_str(const struct mxg_lw_event *ev)
{
	static char buf[256];
	char a[MXG_CIDR_STRLEN];

	if (!ev->kind)
		return "none";
	mxg_addr_format(&ev->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s %s %u %s", kind_name(ev->kind), a,
		 ev->count, ev->account[0] ? ev->account : "-");
	return buf;
}

static void t_fixtures(const char *c)
{
	static const char *const files[] = {
		"postfix.log", "dovecot.log", "dovecot-file.log",
		"journal-cat.log", "rfc3339.log", "garbage.log",
	};
	static struct expect ex[128];
	char path[PATH_MAX], buf[16384], want[256], name[128];
	int nex = 0, i, lineno, matched;
	unsigned f;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/expected.tsv", data_dir);
	fp = fopen(path, "r");
	CHECK(nm(c, "setup: expected.tsv opens"), fp != NULL);
	if (!fp)
		return;
	while (fgets(buf, sizeof(buf), fp) && nex < 128) {
		struct expect *e = &ex[nex];

		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (sscanf(buf, "%63s %d %15s %63s %u %127s", e->file, &e->line,
			   e->kind, e->addr, &e->count, e->account) == 6)
			nex++;
		else
			CHECK(nm(c, "setup: expected.tsv line parses"), 0);
	}
	fclose(fp);
	CHECK(nm(c, "setup: expectations read"), nex > 30);

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		snprintf(path, sizeof(path), "%s/%s", data_dir, files[f]);
		fp = fopen(path, "r");
		CHECK(nm(c, "setup: fixture opens"), fp != NULL);
		if (!fp)
			continue;
		lineno = 0;
		matched = 0;
		while (fgets(buf, sizeof(buf), fp)) {
			struct mxg_lw_event ev;
			size_t len = strlen(buf);

			lineno++;
			if (len && buf[len - 1] == '\n')
				buf[--len] = '\0';
			/* a line may hold a NUL (garbage.log): feed by length
			 * up to the newline fgets stopped at */
			mxg_lw_parse(buf, len, &ev);
			snprintf(want, sizeof(want), "none");
			for (i = 0; i < nex; i++) {
				if (strcmp(ex[i].file, files[f]) ||
				    ex[i].line != lineno)
					continue;
				snprintf(want, sizeof(want), "%s %s %u %s",
					 ex[i].kind, ex[i].addr, ex[i].count,
					 ex[i].account);
				ex[i].used = 1;
				matched++;
			}
			snprintf(name, sizeof(name), "%s:%d", files[f], lineno);
			CHECK_STR(nm(c, name), want, ev_str(&ev));
		}
		fclose(fp);
		snprintf(name, sizeof(name), "%s has lines", files[f]);
		CHECK(nm(c, name), lineno > 0);
	}
	for (i = 0; i < nex; i++) {
		snprintf(name, sizeof(name), "expected %.60s:%d exists", ex[i].file,
			 ex[i].line);
		if (!ex[i].used)
			CHECK(nm(c, name), 0);
	}
}

/* The parser reads len bytes, not up to a NUL. */
static void t_parse_by_length(const char *c)
{
	const char *s = "warning: unknown[198.18.3.4]: SASL LOGIN authentication failed: x";
	char buf[256];
	struct mxg_lw_event ev;
	size_t cut = strlen("warning: unknown[198.18.3.4]: SASL LOGIN authentication fail");

	snprintf(buf, sizeof(buf), "%s", s);
	CHECK_EQ(nm(c, "whole line is a failure"), MXG_LW_EV_AUTH_FAIL,
		 mxg_lw_parse(buf, strlen(buf), &ev));
	CHECK_EQ(nm(c, "cut before 'failed' is nothing"), MXG_LW_EV_NONE,
		 mxg_lw_parse(buf, cut, &ev));
	CHECK_EQ(nm(c, "empty line"), MXG_LW_EV_NONE, mxg_lw_parse(buf, 0, &ev));
	snprintf(buf, sizeof(buf), "%s", "x: client=unknown[198.18.5.6], "
		 "sasl_method=PLAIN, sasl_username=alice@example.org");
	CHECK_EQ(nm(c, "username cut by length"), MXG_LW_EV_MESSAGE,
		 mxg_lw_parse(buf, strlen(buf) - strlen("@example.org"), &ev));
	CHECK_STR(nm(c, "username is the bytes within len"), "alice",
		  ev.account);
}

/* Mutations of real lines: nothing crashes or reads past len (run under
 * SAN=1 too), and an auth ban names an address the line holds. */
static void t_parse_fuzz(const char *c)
{
	static const char *const seeds[] = {
		"warning: unknown[198.18.3.4]: SASL LOGIN authentication failed: x",
		"abc: client=unknown[2001:db8::5]:25, sasl_method=PLAIN, "
		"sasl_username=a@example.org",
		"imap-login: Disconnected (auth failed, 3 attempts in 1 secs): "
		"user=<a>, rip=198.18.3.4, lip=198.18.0.1",
		"auth: passwd-file(bob,2001:db8::7,<abc>): unknown user",
	};
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	unsigned long seed = 12345, bad = 0, bans = 0, i, j, n;
	char buf[160], a[MXG_CIDR_STRLEN];
	int r;

	base_cfg(&cfg);
	cfg.auth_max = 1;
	cfg.acct_max_addrs = 1;
	cfg.acct_max_msgs = 1;
	cfg.acct_ban = 1;
	w = mk(c, &cfg);
	if (!w)
		return;
	for (i = 0; i < 200000; i++) {
		const char *s = seeds[i % 4];

		n = strlen(s);
		memcpy(buf, s, n);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			buf[(seed >> 33) % n] = (char)(seed >> 17);
		}
		if (i % 7 == 0)
			n = (seed >> 40) % (n + 1);
		r = mxg_logwatch_line(w, buf, n, T0 + i / 100, act, 4);
		for (j = 0; j < (unsigned long)r; j++) {
			if (act[j].type != MXG_LW_BAN || act[j].account[0])
				continue;
			/* an auth ban names an address this very line holds */
			bans++;
			mxg_addr_format(&act[j].addr, a, sizeof(a));
			if (mxg_addr_is_v4(&act[j].addr) &&
			    !memmem(buf, n, a, strlen(a)))
				bad++;
		}
	}
	CHECK(nm(c, "200k mutated lines: some still ban"), bans > 100);
	CHECK_EQ(nm(c, "no ban of an address the line does not hold"), 0, bad);
	mxg_logwatch_free(w);
}

/* ---- auth failures ---------------------------------------------------- */

static void t_auth_threshold(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int r;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	CHECK_EQ(nm(c, "4 failures: no action"), 0, pf_fails(w, 0, "198.18.3.4", 4));
	r = feedf(w, 1, PF_FAIL, "198.18.3.4");
	CHECK_EQ(nm(c, "5th failure: one action"), 1, r);
	CHECK_EQ(nm(c, "it is a ban"), MXG_LW_BAN, act[0].type);
	CHECK_STR(nm(c, "ban cidr"), "198.18.3.4/32", cidr_of(&act[0]));
	CHECK_STR(nm(c, "ban addr"), "198.18.3.4", addr_of(&act[0]));
	CHECK_EQ(nm(c, "ban ttl"), 3600, act[0].ttl_s);
	CHECK_EQ(nm(c, "ban count"), 5, act[0].count);
	CHECK_STR(nm(c, "ban reason"), "5 SASL auth failures in 10m (postfix)",
		  act[0].reason);
	CHECK_STR(nm(c, "no account"), "", act[0].account);
	CHECK_STR(nm(c, "json"),
		  "{\"event\":\"ban\",\"time\":\"2026-11-23T09:00:01Z\","
		  "\"cidr\":\"198.18.3.4/32\",\"addr\":\"198.18.3.4\","
		  "\"ttl_s\":3600,\"cause\":\"auth_failures\",\"count\":5,"
		  "\"window_s\":600,\"source\":\"postfix\",\"reason\":"
		  "\"5 SASL auth failures in 10m (postfix)\"}", act[0].json);
	CHECK_EQ(nm(c, "other address unaffected"), 0,
		 pf_fails(w, 2, "198.18.3.5", 4));
	mxg_logwatch_free(w);
}

static void t_auth_no_second_ban(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	CHECK_EQ(nm(c, "first ban"), 1, pf_fails(w, 0, "198.18.3.4", 5));
	CHECK_EQ(nm(c, "20 more in the window: no ban"), 0,
		 pf_fails(w, 100, "198.18.3.4", 20));
	CHECK_EQ(nm(c, "still none at window end - 1"), 0,
		 pf_fails(w, 599, "198.18.3.4", 1));
	/* 600 s after the ban the hold ends; the last 5 failures (t=100,
	 * 599, 600) are within the window: a renewal. */
	CHECK_EQ(nm(c, "ban again after the window"), 1,
		 pf_fails(w, 600, "198.18.3.4", 1));
	CHECK_EQ(nm(c, "that is a ban"), MXG_LW_BAN, act[0].type);
	CHECK_EQ(nm(c, "and then held again"), 0,
		 pf_fails(w, 601, "198.18.3.4", 10));
	mxg_logwatch_free(w);
}

static void t_auth_window_slides(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	cfg.auth_max = 3;
	cfg.auth_window_s = 10;
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 0, "198.18.3.4", 1);
	pf_fails(w, 5, "198.18.3.4", 1);
	CHECK_EQ(nm(c, "t=0,5,10 with window 10: 2 inside, no ban"), 0,
		 pf_fails(w, 10, "198.18.3.4", 1));
	CHECK_EQ(nm(c, "t=5,10,11: 3 inside, ban"), 1,
		 pf_fails(w, 11, "198.18.3.4", 1));
	CHECK_STR(nm(c, "reason"), "3 SASL auth failures in 10s (postfix)",
		  act[0].reason);
	pf_fails(w, 100, "198.18.3.6", 1);
	pf_fails(w, 105, "198.18.3.6", 1);
	CHECK_EQ(nm(c, "t=100,105,109: ban"), 1, pf_fails(w, 109, "198.18.3.6", 1));
	mxg_logwatch_free(w);
}

static void t_auth_dovecot_attempts(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	CHECK_EQ(nm(c, "3 attempts: no ban"), 0, feedf(w, 0, DV_SUM, 3, "198.18.3.4"));
	CHECK_EQ(nm(c, "+1 attempt: no ban"), 0, feedf(w, 1, DV_SUM, 1, "198.18.3.4"));
	CHECK_EQ(nm(c, "+1 attempt: ban"), 1, feedf(w, 2, DV_SUM, 1, "198.18.3.4"));
	CHECK_STR(nm(c, "reason"), "5 auth failures in 10m (dovecot)", act[0].reason);
	CHECK_EQ(nm(c, "one line of 7 attempts bans at once"), 1,
		 feedf(w, 3, DV_SUM, 7, "198.18.3.5"));
	CHECK_EQ(nm(c, "count is 7"), 7, act[0].count);
	mxg_logwatch_free(w);
}

static void t_auth_dovecot_once(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	struct mxg_lw_stats st;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	/* auth_verbose=yes: 2 attempts logged by auth, then the summary. */
	feedf(w, 0, DV_AUTH, "198.18.3.4");
	feedf(w, 1, DV_AUTH, "198.18.3.4");
	CHECK_EQ(nm(c, "summary of those 2: no ban"), 0,
		 feedf(w, 2, DV_SUM, 2, "198.18.3.4"));
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "2 failures counted, not 4"), 2, st.auth_failures);
	CHECK_EQ(nm(c, "3rd attempt"), 0, feedf(w, 3, DV_AUTH, "198.18.3.4"));
	CHECK_EQ(nm(c, "4th attempt"), 0, feedf(w, 4, DV_AUTH, "198.18.3.4"));
	CHECK_EQ(nm(c, "5th attempt bans"), 1, feedf(w, 5, DV_AUTH, "198.18.3.4"));
	CHECK_EQ(nm(c, "its summary adds nothing"), 0,
		 feedf(w, 6, DV_SUM, 3, "198.18.3.4"));
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "5 failures counted in all"), 5, st.auth_failures);
	mxg_logwatch_free(w);
}

static void t_auth_mixed_sources(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 0, "198.18.3.4", 3);
	/* Dovecot logs IPv4 clients of a dual-stack socket mapped. */
	CHECK_EQ(nm(c, "dovecot ::ffff: form counts for the same client"), 1,
		 feedf(w, 1, DV_SUM, 2, "::ffff:198.18.3.4"));
	CHECK_STR(nm(c, "reason names both"),
		  "5 auth failures in 10m (postfix+dovecot)", act[0].reason);
	CHECK_STR(nm(c, "cidr"), "198.18.3.4/32", cidr_of(&act[0]));
	mxg_logwatch_free(w);
}

static void t_auth_ipv6(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 0, "2001:db8:77::1", 2);
	feedf(w, 1, DV_SUM, 2, "2001:db8:77::2");
	CHECK_EQ(nm(c, "other /64 counts apart"), 0,
		 pf_fails(w, 1, "2001:db8:78::1", 4));
	CHECK_EQ(nm(c, "5th from the same /64 bans"), 1,
		 feedf(w, 2, DV_AUTH, "2001:db8:77::3:4"));
	CHECK_STR(nm(c, "ban is the /64"), "2001:db8:77::/64", cidr_of(&act[0]));
	CHECK_STR(nm(c, "addr is the last client"), "2001:db8:77::3:4",
		  addr_of(&act[0]));
	mxg_logwatch_free(w);

	cfg.v6_prefix = 128;
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 0, "2001:db8:77::1", 4);
	CHECK_EQ(nm(c, "/128: a neighbour counts apart"), 0,
		 pf_fails(w, 0, "2001:db8:77::2", 4));
	CHECK_EQ(nm(c, "/128: 5th bans"), 1, pf_fails(w, 0, "2001:db8:77::1", 1));
	CHECK_STR(nm(c, "/128 cidr"), "2001:db8:77::1/128", cidr_of(&act[0]));
	mxg_logwatch_free(w);
}

static void t_auth_clock_back(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	cfg.auth_window_s = 10;
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 100, "198.18.3.4", 4);
	/* A clock stepped back 1 h is held at t=100: still in the window. */
	CHECK_EQ(nm(c, "step back is held at the latest time"), 1,
		 pf_fails(w, 0, "198.18.3.4", 1));
	mxg_logwatch_free(w);
}

static void t_auth_off(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;

	base_cfg(&cfg);
	cfg.auth_max = 0;
	w = mk(c, &cfg);
	if (!w)
		return;
	CHECK_EQ(nm(c, "auth_max 0: never bans"), 0, pf_fails(w, 0, "198.18.3.4", 50));
	mxg_logwatch_free(w);
}

static void t_garbage(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	struct mxg_lw_stats st;
	char path[PATH_MAX], buf[16384];
	int total = 0;
	FILE *fp;

	base_cfg(&cfg);
	cfg.auth_max = 1;
	cfg.acct_max_addrs = 1;
	cfg.acct_max_msgs = 1;
	w = mk(c, &cfg);
	if (!w)
		return;
	snprintf(path, sizeof(path), "%s/garbage.log", data_dir);
	fp = fopen(path, "r");
	CHECK(nm(c, "setup: garbage.log opens"), fp != NULL);
	if (fp) {
		while (fgets(buf, sizeof(buf), fp))
			total += mxg_logwatch_line(w, buf, strlen(buf), T0, act,
						   MXG_LW_MAX_ACTIONS);
		fclose(fp);
	}
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "no action from any garbage line"), 0, total);
	CHECK(nm(c, "lines were fed"), st.lines > 20);
	CHECK_EQ(nm(c, "no client tracked"), 0, st.addrs);
	mxg_logwatch_free(w);
}

/* ---- accounts ---------------------------------------------------------- */

static void acct_cfg(struct mxg_logwatch_cfg *cfg)
{
	base_cfg(cfg);
	cfg->acct_max_addrs = 3;
	cfg->acct_max_msgs = 100;
	cfg->acct_window_s = 600;
}

static void t_acct_clients(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int i, r = 0;

	acct_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	for (i = 0; i < 10; i++)
		r += feedf(w, i, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "10 messages from one client: nothing"), 0, r);
	r = feedf(w, 20, PF_MSG, "198.18.5.7", "alice@example.org");
	r += feedf(w, 21, PF_MSG, "2001:db8:5::6", "alice@example.org");
	CHECK_EQ(nm(c, "3 clients: nothing"), 0, r);
	r = feedf(w, 22, PF_MSG, "198.18.5.9", "alice@example.org");
	CHECK_EQ(nm(c, "4th client: one action"), 1, r);
	CHECK_EQ(nm(c, "an alert"), MXG_LW_ALERT, act[0].type);
	CHECK_STR(nm(c, "account"), "alice@example.org", act[0].account);
	CHECK_EQ(nm(c, "count"), 4, act[0].count);
	CHECK_STR(nm(c, "reason"),
		  "account alice@example.org used from 4 clients in 10m",
		  act[0].reason);
	CHECK_STR(nm(c, "json"),
		  "{\"event\":\"account_alert\",\"time\":\"2026-11-23T09:00:22Z\","
		  "\"account\":\"alice@example.org\",\"trigger\":\"clients\","
		  "\"clients\":4,\"max_clients\":3,\"messages\":13,"
		  "\"max_messages\":100,\"window_s\":600,\"ban\":false,"
		  "\"reason\":\"account alice@example.org used from 4 clients in 10m\","
		  "\"addresses\":[\"198.18.5.6\",\"198.18.5.7\",\"2001:db8:5::/64\","
		  "\"198.18.5.9\"]}", act[0].json);
	CHECK_EQ(nm(c, "another account is apart"), 0,
		 feedf(w, 23, PF_MSG, "198.18.5.10", "bob@example.org"));
	mxg_logwatch_free(w);
}

static void t_acct_once(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	char a[32];
	int i, r = 0;

	acct_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	for (i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "198.18.5.%d", i + 1);
		r += feedf(w, i, PF_MSG, a, "alice@example.org");
	}
	CHECK_EQ(nm(c, "first alert"), 1, r);
	for (r = 0, i = 0; i < 40; i++) {
		snprintf(a, sizeof(a), "198.18.6.%d", i + 1);
		r += feedf(w, 10 + i * 10, PF_MSG, a, "alice@example.org");
	}
	CHECK_EQ(nm(c, "40 more clients within the window: no repeat"), 0, r);
	r = feedf(w, 603, PF_MSG, "198.18.7.1", "alice@example.org");
	CHECK_EQ(nm(c, "next window, still over: alert again"), 1, r);
	CHECK_EQ(nm(c, "that is an alert"), MXG_LW_ALERT, act[0].type);
	mxg_logwatch_free(w);
}

static void t_acct_clients_expire(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int r = 0;

	acct_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	r += feedf(w, 0, PF_MSG, "198.18.5.1", "alice@example.org");
	r += feedf(w, 100, PF_MSG, "198.18.5.2", "alice@example.org");
	r += feedf(w, 200, PF_MSG, "198.18.5.3", "alice@example.org");
	r += feedf(w, 600, PF_MSG, "198.18.5.4", "alice@example.org");
	CHECK_EQ(nm(c, "first client left the window at t=600"), 0, r);
	r = feedf(w, 650, PF_MSG, "198.18.5.5", "alice@example.org");
	CHECK_EQ(nm(c, "4 within t=100..650: alert"), 1, r);
	mxg_logwatch_free(w);
}

static void t_acct_ipv6_prefix(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	char a[64];
	int i, r = 0;

	acct_cfg(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	for (i = 0; i < 20; i++) {
		snprintf(a, sizeof(a), "2001:db8:5::%x", i + 1);
		r += feedf(w, i, PF_MSG, a, "alice@example.org");
	}
	CHECK_EQ(nm(c, "a phone's privacy addresses in one /64: one client"), 0, r);
	mxg_logwatch_free(w);
}

static void t_acct_messages(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int i, r = 0;

	acct_cfg(&cfg);
	cfg.acct_max_addrs = 0;
	cfg.acct_max_msgs = 5;
	cfg.acct_window_s = 60; /* 1 s slots: exact */
	w = mk(c, &cfg);
	if (!w)
		return;
	for (i = 0; i < 5; i++)
		r += feedf(w, i, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "5 messages: nothing"), 0, r);
	r = feedf(w, 59, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "6th at t=59: alert"), 1, r);
	CHECK_EQ(nm(c, "an alert"), MXG_LW_ALERT, act[0].type);
	CHECK_EQ(nm(c, "count"), 6, act[0].count);
	CHECK_STR(nm(c, "reason"), "account alice@example.org sent 6 messages in 1m",
		  act[0].reason);
	mxg_logwatch_free(w);

	w = mk(c, &cfg);
	if (!w)
		return;
	for (r = 0, i = 0; i < 5; i++)
		r += feedf(w, 0, PF_MSG, "198.18.5.6", "alice@example.org");
	r += feedf(w, 60, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "5 at t=0 and 1 at t=60: the window slid, nothing"), 0, r);
	for (i = 0; i < 4; i++)
		r += feedf(w, 61, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "5 within t=60..61: nothing"), 0, r);
	r = feedf(w, 119, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "6th within t=60..119: alert"), 1, r);
	mxg_logwatch_free(w);
}

static void t_acct_messages_coarse(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int i, r = 0;

	acct_cfg(&cfg);
	cfg.acct_max_addrs = 0;
	cfg.acct_max_msgs = 300;
	cfg.acct_window_s = 3600; /* 60 s slots */
	w = mk(c, &cfg);
	if (!w)
		return;
	/* The leaked-password incident: 200 mails/min from many hosts. */
	for (i = 0; i < 300; i++)
		r += feedf(w, i * 60 / 200, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "300 in 90 s: nothing"), 0, r);
	r = feedf(w, 91, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "301st: alert"), 1, r);
	for (r = 0, i = 0; i < 1000; i++)
		r += feedf(w, 92 + i / 10, PF_MSG, "198.18.5.6", "alice@example.org");
	CHECK_EQ(nm(c, "1000 more in the hour: no repeat"), 0, r);
	mxg_logwatch_free(w);
}

static void t_acct_ban(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	int r, i, bans = 0;

	acct_cfg(&cfg);
	cfg.acct_ban = 1;
	w = mk(c, &cfg);
	if (!w)
		return;
	feedf(w, 0, PF_MSG, "198.18.5.1", "alice@example.org");
	feedf(w, 1, PF_MSG, "198.18.5.2", "alice@example.org");
	feedf(w, 2, PF_MSG, "2001:db8:5::3", "alice@example.org");
	r = feedf(w, 3, PF_MSG, "198.18.5.4", "alice@example.org");
	CHECK_EQ(nm(c, "alert and 4 bans"), 5, r);
	CHECK_EQ(nm(c, "alert first"), MXG_LW_ALERT, act[0].type);
	for (i = 1; i < r; i++)
		bans += act[i].type == MXG_LW_BAN &&
			!strcmp(act[i].account, "alice@example.org") &&
			act[i].ttl_s == 3600;
	CHECK_EQ(nm(c, "4 bans naming the account"), 4, bans);
	CHECK_STR(nm(c, "first ban"), "198.18.5.1/32", cidr_of(&act[1]));
	CHECK_STR(nm(c, "ipv6 ban is the /64"), "2001:db8:5::/64", cidr_of(&act[3]));
	CHECK_STR(nm(c, "ban reason"),
		  "account alice@example.org used from 4 clients in 10m",
		  act[1].reason);
	CHECK_STR(nm(c, "ban json"),
		  "{\"event\":\"ban\",\"time\":\"2026-11-23T09:00:03Z\","
		  "\"cidr\":\"198.18.5.1/32\",\"addr\":\"198.18.5.1\","
		  "\"ttl_s\":3600,\"cause\":\"account\",\"count\":4,"
		  "\"window_s\":600,\"account\":\"alice@example.org\","
		  "\"reason\":\"account alice@example.org used from 4 clients in 10m\"}",
		  act[1].json);
	r = feedf(w, 4, PF_MSG, "198.18.5.5", "alice@example.org");
	CHECK_EQ(nm(c, "new client in the alert window: one ban"), 1, r);
	CHECK_EQ(nm(c, "that is a ban"), MXG_LW_BAN, act[0].type);
	CHECK_STR(nm(c, "of it"), "198.18.5.5/32", cidr_of(&act[0]));
	r = feedf(w, 5, PF_MSG, "198.18.5.1", "alice@example.org");
	CHECK_EQ(nm(c, "known client again: nothing"), 0, r);
	mxg_logwatch_free(w);

	cfg.acct_ban = 0;
	w = mk(c, &cfg);
	if (!w)
		return;
	feedf(w, 0, PF_MSG, "198.18.5.1", "alice@example.org");
	feedf(w, 1, PF_MSG, "198.18.5.2", "alice@example.org");
	feedf(w, 2, PF_MSG, "198.18.5.3", "alice@example.org");
	CHECK_EQ(nm(c, "acct_ban off: alert only"), 1,
		 feedf(w, 3, PF_MSG, "198.18.5.4", "alice@example.org"));
	CHECK_EQ(nm(c, "acct_ban off: new client, nothing"), 0,
		 feedf(w, 4, PF_MSG, "198.18.5.5", "alice@example.org"));
	mxg_logwatch_free(w);
}

static void t_acct_odd_names(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	char name[200];
	int i, r = 0;

	acct_cfg(&cfg);
	cfg.acct_max_addrs = 1;
	w = mk(c, &cfg);
	if (!w)
		return;
	feedf(w, 0, PF_MSG, "198.18.5.1", "a\"b\\c\x01@example.org");
	r = feedf(w, 1, PF_MSG, "198.18.5.2", "a\"b\\c\x01@example.org");
	CHECK_EQ(nm(c, "alert"), 1, r);
	CHECK(nm(c, "json escapes quote, backslash, control"),
	      strstr(act[0].json, "\"account\":\"a\\\"b\\\\c\\u0001@example.org\"") != NULL);

	memset(name, 'x', 127);
	strcpy(name + 127, "@example.org"); /* 139 bytes: cut to 127 */
	feedf(w, 10, PF_MSG, "198.18.5.1", name);
	r = feedf(w, 11, PF_MSG, "198.18.5.2", name);
	CHECK_EQ(nm(c, "long name: alert"), 1, r);
	CHECK_EQ(nm(c, "account cut to 127 bytes"), 127, strlen(act[0].account));
	CHECK(nm(c, "reason fits and keeps the numbers"),
	      strlen(act[0].reason) < MXG_LW_REASON_LEN &&
	      strstr(act[0].reason, " used from 2 clients in 10m"));
	for (i = 0; act[0].json[i]; i++)
		;
	CHECK(nm(c, "json complete"), i > 0 && act[0].json[i - 1] == '}');
	mxg_logwatch_free(w);
}

/* ---- memory and output bounds ---------------------------------------- */

static void t_mem_evict(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	struct mxg_lw_stats st;

	base_cfg(&cfg);
	cfg.auth_max = 3;
	cfg.max_addrs = 4;
	w = mk(c, &cfg);
	if (!w)
		return;
	pf_fails(w, 0, "198.18.3.1", 2);
	pf_fails(w, 1, "198.18.3.2", 1);
	pf_fails(w, 2, "198.18.3.3", 1);
	pf_fails(w, 3, "198.18.3.4", 1);
	pf_fails(w, 4, "198.18.3.5", 1); /* table full: .1 is the oldest */
	CHECK_EQ(nm(c, "evicted client starts from zero"), 0,
		 pf_fails(w, 5, "198.18.3.1", 1));
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "4 tracked"), 4, st.addrs);
	CHECK_EQ(nm(c, "2 evicted (.1, then .2 for .1's return)"), 2,
		 st.addrs_evicted);
	/* .3 was least recent; touching it keeps it, .4 goes instead. */
	pf_fails(w, 6, "198.18.3.3", 1);
	pf_fails(w, 7, "198.18.3.6", 1);
	CHECK_EQ(nm(c, "recently active client kept its count"), 1,
		 pf_fails(w, 8, "198.18.3.3", 1));
	mxg_logwatch_free(w);

	base_cfg(&cfg);
	cfg.acct_max_msgs = 1;
	cfg.max_accounts = 2;
	w = mk(c, &cfg);
	if (!w)
		return;
	feedf(w, 0, PF_MSG, "198.18.5.1", "a@example.org");
	feedf(w, 0, PF_MSG, "198.18.5.1", "b@example.org");
	feedf(w, 0, PF_MSG, "198.18.5.1", "c@example.org");
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "2 accounts tracked"), 2, st.accounts);
	CHECK_EQ(nm(c, "1 account evicted"), 1, st.accounts_evicted);
	CHECK_EQ(nm(c, "evicted account starts from zero"), 0,
		 feedf(w, 1, PF_MSG, "198.18.5.1", "a@example.org"));
	mxg_logwatch_free(w);
}

static void t_mem_flood(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	struct mxg_lw_stats st;
	struct timespec t0, t1;
	char a[64];
	unsigned i;
	double secs;

	mxg_logwatch_cfg_default(&cfg);
	w = mk(c, &cfg);
	if (!w)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200000; i++) {
		snprintf(a, sizeof(a), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		feedf(w, i / 1000, PF_FAIL, a);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "table holds its cap"), MXG_LW_MAX_TRACKED, st.addrs);
	CHECK_EQ(nm(c, "the rest evicted"), 200000 - MXG_LW_MAX_TRACKED,
		 st.addrs_evicted);
	CHECK(nm(c, "200k /64s in under 2 s"), secs < 2.0);
	mxg_logwatch_free(w);
}

static void t_out_small(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w;
	struct mxg_lw_stats st;
	char line[256];
	int r;

	acct_cfg(&cfg);
	cfg.acct_ban = 1;
	w = mk(c, &cfg);
	if (!w)
		return;
	feedf(w, 0, PF_MSG, "198.18.5.1", "alice@example.org");
	feedf(w, 1, PF_MSG, "198.18.5.2", "alice@example.org");
	feedf(w, 2, PF_MSG, "198.18.5.3", "alice@example.org");
	snprintf(line, sizeof(line), PF_MSG, "198.18.5.4", "alice@example.org");
	r = mxg_logwatch_line(w, line, strlen(line), T0 + 3, act, 2);
	CHECK_EQ(nm(c, "2 slots: 2 actions"), 2, r);
	mxg_logwatch_stats(w, &st);
	CHECK_EQ(nm(c, "3 counted as dropped"), 3, st.dropped);
	mxg_logwatch_free(w);
}

static void t_cfg(const char *c)
{
	struct mxg_logwatch_cfg cfg;
	struct mxg_logwatch *w = NULL;
	const char *why = NULL;

	base_cfg(&cfg);
	cfg.auth_max = 101;
	CHECK_EQ(nm(c, "auth_max 101"), -EINVAL, mxg_logwatch_init(&w, &cfg, &why));
	CHECK(nm(c, "says why"), why && strstr(why, "auth_max"));
	base_cfg(&cfg);
	cfg.auth_window_s = 0;
	CHECK_EQ(nm(c, "auth window 0"), -EINVAL, mxg_logwatch_init(&w, &cfg, &why));
	base_cfg(&cfg);
	cfg.acct_max_addrs = 64;
	CHECK_EQ(nm(c, "acct_max_addrs 64"), -EINVAL, mxg_logwatch_init(&w, &cfg, &why));
	base_cfg(&cfg);
	cfg.acct_max_msgs = 5;
	cfg.acct_window_s = 0;
	CHECK_EQ(nm(c, "acct window 0"), -EINVAL, mxg_logwatch_init(&w, &cfg, &why));
	base_cfg(&cfg);
	cfg.v6_prefix = 40;
	CHECK_EQ(nm(c, "v6_prefix 40"), -EINVAL, mxg_logwatch_init(&w, &cfg, &why));
	base_cfg(&cfg);
	cfg.max_addrs = MXG_LW_TRACKED_CAP + 1;
	CHECK_EQ(nm(c, "max_addrs over cap"), -EINVAL,
		 mxg_logwatch_init(&w, &cfg, &why));
	CHECK(nm(c, "nothing allocated on error"), w == NULL);
	mxg_logwatch_cfg_default(&cfg);
	CHECK_EQ(nm(c, "defaults are valid"), 0, mxg_logwatch_init(&w, &cfg, &why));
	mxg_logwatch_free(w);
}

/* ---- follower ---------------------------------------------------------- */

struct got {
	char s[4096];
	int n;
};

/* Lines joined by '|'; a long line as "<N bytes>". */
static void got_cb(const char *line, size_t len, void *ctx)
{
	struct got *g = ctx;
	size_t used = strlen(g->s);
	char item[64];

	if (len > 40)
		snprintf(item, sizeof(item), "<%zu bytes>", len);
	else
		snprintf(item, sizeof(item), "%s", line);
	snprintf(g->s + used, sizeof(g->s) - used, "%s%s", g->n ? "|" : "",
		 item);
	g->n++;
}

static const char *rd(struct mxg_follow *f)
{
	static struct got g;
	int r;

	memset(&g, 0, sizeof(g));
	r = mxg_follow_read(f, got_cb, &g);
	if (r < 0)
		snprintf(g.s, sizeof(g.s), "<error %d>", r);
	else if (r != g.n)
		snprintf(g.s, sizeof(g.s), "<returned %d, delivered %d>", r, g.n);
	return g.s;
}

static const char *tpath(const char *name)
{
	static char buf[2][PATH_MAX];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static int append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, s, strlen(s));
	close(fd);
	return w == (ssize_t)strlen(s) ? 0 : -EIO;
}

static int follow_setup(const char *c, struct mxg_follow *f, const char *name,
			const char *initial, unsigned flags)
{
	const char *p = tpath(name);
	int err;

	unlink(p);
	err = append(p, initial);
	if (!err)
		err = mxg_follow_open(f, p, flags);
	CHECK_EQ(nm(c, "setup: open"), 0, err);
	return err;
}

static void t_follow_start(const char *c)
{
	struct mxg_follow f;

	if (follow_setup(c, &f, "a.log", "old1\nold2\n", 0))
		return;
	CHECK_STR(nm(c, "existing lines skipped"), "", rd(&f));
	append(tpath("a.log"), "new1\nnew2\n");
	CHECK_STR(nm(c, "appended lines read"), "new1|new2", rd(&f));
	CHECK_STR(nm(c, "nothing new: nothing"), "", rd(&f));
	mxg_follow_close(&f);

	if (follow_setup(c, &f, "a.log", "old1\nold2\n", MXG_FOLLOW_FROM_START))
		return;
	CHECK_STR(nm(c, "from start: existing lines"), "old1|old2", rd(&f));
	mxg_follow_close(&f);

	if (follow_setup(c, &f, "a.log", "old1\nhalf", 0))
		return;
	append(tpath("a.log"), " a line\nnew1\n");
	CHECK_STR(nm(c, "line unfinished at open: skipped"), "new1", rd(&f));
	mxg_follow_close(&f);
	CHECK_EQ(nm(c, "missing file"), -ENOENT,
		 mxg_follow_open(&f, tpath("nope.log"), 0));
	CHECK_EQ(nm(c, "directory refused"), -EINVAL,
		 mxg_follow_open(&f, tmpdir, 0));
}

static void t_follow_partial(const char *c)
{
	struct mxg_follow f;

	if (follow_setup(c, &f, "p.log", "", 0))
		return;
	append(tpath("p.log"), "one\ntw");
	CHECK_STR(nm(c, "complete line only"), "one", rd(&f));
	append(tpath("p.log"), "o\r\nthree");
	CHECK_STR(nm(c, "finished line joined, CR stripped"), "two", rd(&f));
	append(tpath("p.log"), "\n");
	CHECK_STR(nm(c, "then the last"), "three", rd(&f));
	mxg_follow_close(&f);
}

static void t_follow_long(const char *c)
{
	static char big[3 * MXG_FOLLOW_LINE_MAX];
	struct mxg_follow f;

	if (follow_setup(c, &f, "l.log", "", 0))
		return;
	memset(big, 'x', MXG_FOLLOW_LINE_MAX + 1);
	big[MXG_FOLLOW_LINE_MAX + 1] = '\0';
	append(tpath("l.log"), "a\n");
	append(tpath("l.log"), big);
	CHECK_STR(nm(c, "over-long partial: nothing yet"), "a", rd(&f));
	append(tpath("l.log"), big);
	append(tpath("l.log"), "\nb\n");
	CHECK_STR(nm(c, "over-long line skipped whole"), "b", rd(&f));
	CHECK_EQ(nm(c, "counted once"), 1, f.skipped);
	big[MXG_FOLLOW_LINE_MAX] = '\0';
	append(tpath("l.log"), big);
	append(tpath("l.log"), "\nc\n");
	CHECK_STR(nm(c, "8 KiB exactly is kept"), "<8192 bytes>|c", rd(&f));
	mxg_follow_close(&f);
}

static void t_follow_rotate(const char *c)
{
	struct mxg_follow f;
	int wfd;

	if (follow_setup(c, &f, "r.log", "a1\n", 0))
		return;
	/* A writer that keeps its fd across the rename, like rsyslog until
	 * its HUP. */
	wfd = open(tpath("r.log"), O_WRONLY | O_APPEND);
	CHECK(nm(c, "setup: writer fd"), wfd >= 0);
	if (wfd < 0)
		goto out;
	append(tpath("r.log"), "a2\n");
	CHECK(nm(c, "setup: rename"), !rename(tpath("r.log"), tpath("r.log.1")));
	CHECK_EQ(nm(c, "late write to the old file"), 3, write(wfd, "a3\n", 3));
	append(tpath("r.log"), "b1\n");
	CHECK_STR(nm(c, "old file finished first, then the new"), "a2|a3|b1",
		  rd(&f));
	CHECK_EQ(nm(c, "one rotation"), 1, f.rotations);
	CHECK_EQ(nm(c, "old file let go once the new one has data"), -1,
		 f.old.fd);
	append(tpath("r.log"), "b2\n");
	CHECK_STR(nm(c, "new file followed"), "b2", rd(&f));
	close(wfd);
out:
	mxg_follow_close(&f);
	unlink(tpath("r.log.1"));
}

static void t_follow_rotate_empty(const char *c)
{
	struct mxg_follow f;
	int wfd;

	if (follow_setup(c, &f, "e.log", "", 0))
		return;
	wfd = open(tpath("e.log"), O_WRONLY | O_APPEND);
	CHECK(nm(c, "setup: writer fd"), wfd >= 0);
	if (wfd < 0)
		goto out;
	/* Renamed; no new file yet (logrotate without "create"). */
	CHECK(nm(c, "setup: rename"), !rename(tpath("e.log"), tpath("e.log.1")));
	CHECK_EQ(nm(c, "setup: write"), 3, write(wfd, "a1\n", 3));
	CHECK_STR(nm(c, "path missing: old file still read"), "a1", rd(&f));
	/* "create": an empty new file while the writer has not reopened. */
	append(tpath("e.log"), "");
	CHECK_EQ(nm(c, "setup: write"), 3, write(wfd, "a2\n", 3));
	CHECK_STR(nm(c, "empty new file: old still read"), "a2", rd(&f));
	CHECK(nm(c, "old kept open"), f.old.fd >= 0);
	CHECK_EQ(nm(c, "setup: write"), 3, write(wfd, "a3\n", 3));
	append(tpath("e.log"), "b1\n");
	CHECK_STR(nm(c, "writer moved: old drained, new read"), "a3|b1", rd(&f));
	CHECK_EQ(nm(c, "old let go"), -1, f.old.fd);
	close(wfd);
out:
	mxg_follow_close(&f);
	unlink(tpath("e.log.1"));
}

static void t_follow_copytruncate(const char *c)
{
	struct mxg_follow f;

	if (follow_setup(c, &f, "t.log", "", 0))
		return;
	append(tpath("t.log"), "a1\na2 with some length\n");
	CHECK_STR(nm(c, "before"), "a1|a2 with some length", rd(&f));
	CHECK(nm(c, "setup: truncate"), !truncate(tpath("t.log"), 0));
	append(tpath("t.log"), "b1\n");
	CHECK_STR(nm(c, "after truncation: from the start"), "b1", rd(&f));
	CHECK_EQ(nm(c, "one truncation"), 1, f.truncations);
	CHECK_EQ(nm(c, "no rotation"), 0, f.rotations);
	append(tpath("t.log"), "b2\n");
	CHECK_STR(nm(c, "then onwards"), "b2", rd(&f));
	mxg_follow_close(&f);
}

static void t_follow_poll(const char *c)
{
	struct mxg_follow f;
	struct pollfd p;
	int r;

	if (follow_setup(c, &f, "w.log", "", 0))
		return;
	p.fd = mxg_follow_fd(&f);
	p.events = POLLIN;
	CHECK(nm(c, "inotify fd"), p.fd > 0);
	r = poll(&p, 1, 0);
	CHECK_EQ(nm(c, "idle: not readable"), 0, r);
	append(tpath("w.log"), "x\n");
	r = poll(&p, 1, 1000);
	CHECK_EQ(nm(c, "append wakes poll"), 1, r);
	CHECK_STR(nm(c, "and is read"), "x", rd(&f));
	r = poll(&p, 1, 0);
	CHECK_EQ(nm(c, "read drains the wake-up"), 0, r);
	rename(tpath("w.log"), tpath("w.log.1"));
	append(tpath("w.log"), "y\n");
	r = poll(&p, 1, 1000);
	CHECK_EQ(nm(c, "rotation wakes poll"), 1, r);
	CHECK_STR(nm(c, "new file read"), "y", rd(&f));
	append(tpath("w.log"), "z\n");
	r = poll(&p, 1, 1000);
	CHECK_EQ(nm(c, "new file watched"), 1, r);
	CHECK_STR(nm(c, "z read"), "z", rd(&f));
	mxg_follow_close(&f);
	unlink(tpath("w.log.1"));
}

static void t_follow_stdin(const char *c)
{
	struct mxg_follow f;
	struct timespec t0, t1;
	int pfd[2], saved = dup(0), err;

	if (saved < 0 || pipe(pfd)) {
		CHECK(nm(c, "setup: pipe"), 0);
		return;
	}
	dup2(pfd[0], 0);
	close(pfd[0]);
	err = mxg_follow_open(&f, "-", 0);
	CHECK_EQ(nm(c, "setup: open -"), 0, err);
	if (!err) {
		CHECK_EQ(nm(c, "fd is stdin"), 0, mxg_follow_fd(&f));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_STR(nm(c, "empty pipe: nothing, no block"), "", rd(&f));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK(nm(c, "returned at once"), t1.tv_sec - t0.tv_sec < 1);
		CHECK_EQ(nm(c, "setup: write"), 5, write(pfd[1], "a\nb\nc", 5));
		CHECK_STR(nm(c, "lines"), "a|b", rd(&f));
		CHECK_EQ(nm(c, "not at end"), 0, mxg_follow_eof(&f));
		close(pfd[1]);
		pfd[1] = -1;
		CHECK_STR(nm(c, "end delivers the last line"), "c", rd(&f));
		CHECK_EQ(nm(c, "at end"), 1, mxg_follow_eof(&f));
		mxg_follow_close(&f);
		CHECK_EQ(nm(c, "stdin flags restored"), 0,
			 fcntl(0, F_GETFL) & O_NONBLOCK);
	}
	if (pfd[1] >= 0)
		close(pfd[1]);
	dup2(saved, 0);
	close(saved);
}

/* ---- main -------------------------------------------------------------- */

static const struct check_case cases[] = {
	{ "parse__fixture_lines_as_expected", t_fixtures },
	{ "parse__reads_len_bytes_only", t_parse_by_length },
	{ "parse__mutated_lines_survive", t_parse_fuzz },
	{ "parse__garbage_lines_ignored", t_garbage },
	{ "auth__nth_failure_bans_once", t_auth_threshold },
	{ "auth__no_second_ban_within_window", t_auth_no_second_ban },
	{ "auth__window_slides", t_auth_window_slides },
	{ "auth__dovecot_attempts_count_n", t_auth_dovecot_attempts },
	{ "auth__dovecot_attempt_counted_once", t_auth_dovecot_once },
	{ "auth__sources_and_mapped_v4_combine", t_auth_mixed_sources },
	{ "auth__ipv6_per_prefix", t_auth_ipv6 },
	{ "auth__clock_step_back_held", t_auth_clock_back },
	{ "auth__off_never_bans", t_auth_off },
	{ "account__alert_on_distinct_clients", t_acct_clients },
	{ "account__alert_once_per_window", t_acct_once },
	{ "account__clients_leave_window", t_acct_clients_expire },
	{ "account__ipv6_one_client_per_prefix", t_acct_ipv6_prefix },
	{ "account__alert_on_message_count", t_acct_messages },
	{ "account__message_count_coarse_window", t_acct_messages_coarse },
	{ "account__ban_flag_bans_clients", t_acct_ban },
	{ "account__odd_names_escaped_and_cut", t_acct_odd_names },
	{ "memory__least_recent_evicted", t_mem_evict },
	{ "memory__flood_stays_bounded", t_mem_flood },
	{ "output__overflow_counted", t_out_small },
	{ "config__bad_values_rejected", t_cfg },
	{ "follow__starts_at_end", t_follow_start },
	{ "follow__partial_line_waits", t_follow_partial },
	{ "follow__long_line_skipped", t_follow_long },
	{ "follow__rotation_finishes_old_first", t_follow_rotate },
	{ "follow__rotation_waits_for_writer", t_follow_rotate_empty },
	{ "follow__copytruncate_restarts", t_follow_copytruncate },
	{ "follow__poll_fd_wakes", t_follow_poll },
	{ "follow__stdin_nonblocking_to_eof", t_follow_stdin },
};

static void rm_tmpdir(void)
{
	static const char *const names[] = {
		"a.log", "p.log", "l.log", "r.log", "r.log.1", "e.log",
		"e.log.1", "t.log", "w.log", "w.log.1",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tpath(names[i]));
	rmdir(tmpdir);
}

int main(int argc, char **argv)
{
	check_filter = argc > 1 ? argv[1] : NULL;
	CHECK(nm("setup", "fixtures in tests/unit/data/logs"), !find_data_dir());
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mxg-logwatch.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK(nm("setup", "mkdtemp"), 0);
		return CHECK_DONE();
	}
	CHECK_CASES(cases);
	rm_tmpdir();
	return CHECK_DONE();
}

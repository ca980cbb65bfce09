// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/crowdsec.c without a server: Go durations, decision
 * stream responses (fixtures captured from crowdsec 1.4.6 and CAPI-shaped
 * ones) into decisions, the key file and the config checks. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "crowdsec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_S 1000000000ll

static char nm[512];
static char data_dir[PATH_MAX];

static const char *name(const char *c, const char *in, const char *what)
{
	snprintf(nm, sizeof(nm), "%s[%s]%s", c, in, what);
	return nm;
}

/* ---- Go durations ---------------------------------------------------------- */

static void go_duration__parses_exactly(const char *c)
{
	static const struct {
		const char *in;
		__s64 ns;
	} t[] = {
		{ "0", 0 },
		{ "-0", 0 },
		{ "0s", 0 },
		{ "1ns", 1 },
		{ "1us", 1000 },
		{ "1\xc2\xb5s", 1000 },       /* micro sign */
		{ "1\xce\xbcs", 1000 },       /* Greek mu */
		{ "250ms", 250000000 },
		{ "90s", 90 * NS_S },
		{ "1m28.169156669s", 88169156669ll },
		{ "3h59m58.123s", (3 * 3600 + 59 * 60 + 58) * NS_S + 123000000 },
		{ "29m54.142868969s", 1794142868969ll },
		{ "167h59m58.918265716s", 604798918265716ll },
		{ "1.5h", 5400 * NS_S },
		{ ".5s", 500000000 },
		{ "5.s", 5 * NS_S },
		{ "1.0000000001s", NS_S },    /* below a nanosecond: truncated */
		{ "0.3333333333333333333333h", 1199999999999ll },
		{ "1h1m1s1ms1us1ns", 3661001001001ll },
		{ "2h45m", 9900 * NS_S },
		{ "+5s", 5 * NS_S },
		{ "-1s", -NS_S },
		{ "-1.190522506s", -1190522506ll },
		{ "-12m1.000000001s", -721000000001ll },
		{ "9223372036854775807ns", INT64_MAX },
		{ "-9223372036854775808ns", INT64_MIN },
		{ "2562047h47m16.854775807s", INT64_MAX },
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		__s64 v = 12345;

		CHECK_EQ(name(c, t[i].in, ".ret"), 0, mxg_go_duration_parse(t[i].in, &v));
		CHECK_EQ(name(c, t[i].in, ".ns"), t[i].ns, v);
	}
}

static void go_duration__rejects_malformed(const char *c)
{
	static const struct {
		const char *in;
		int err;
	} t[] = {
		{ "", -EINVAL },
		{ "-", -EINVAL },
		{ "1", -EINVAL },           /* only "0" may go without a unit */
		{ "s", -EINVAL },
		{ ".s", -EINVAL },
		{ "1x", -EINVAL },
		{ "1d", -EINVAL },          /* Go has no days */
		{ "1S", -EINVAL },
		{ "1.5.5s", -EINVAL },
		{ "1h-1m", -EINVAL },
		{ " 1s", -EINVAL },
		{ "1s ", -EINVAL },
		{ "1e3s", -EINVAL },
		{ "4 hours", -EINVAL },
		{ "9223372036854775808ns", -ERANGE },
		{ "-9223372036854775809ns", -ERANGE },
		{ "2562048h", -ERANGE },
		{ "2562047h48m", -ERANGE },
		{ "99999999999999999999s", -ERANGE },
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		__s64 v = 12345;

		CHECK_EQ(name(c, t[i].in, ".ret"), t[i].err,
			 mxg_go_duration_parse(t[i].in, &v));
	}
}

/* ---- stream responses ------------------------------------------------------ */

static char *slurp(const char *file, size_t *len)
{
	char path[PATH_MAX + 64];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", data_dir, file);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Parse a fixture; a missing fixture is a failed check. */
static int parse_file(const char *c, const char *file, struct mxg_cs_batch *b)
{
	size_t len = 0;
	char *s = slurp(file, &len);
	int err;

	memset(b, 0, sizeof(*b));
	CHECK(name(c, file, ".fixture_read"), s != NULL);
	if (!s)
		return -ENOENT;
	err = mxg_crowdsec_parse(s, len, b);
	free(s);
	CHECK_EQ(name(c, file, ".ret"), 0, err);
	return err;
}

static int parse_str(const char *s, struct mxg_cs_batch *b)
{
	return mxg_crowdsec_parse(s, strlen(s), b);
}

static const char *cidr_text(const struct mxg_cs_decision *d)
{
	static char b[MXG_CIDR_STRLEN];

	mxg_cidr_format(&d->cidr, b, sizeof(b));
	return b;
}

/* Check decision i of b against CIDR text, duration and scenario. */
static void check_dec(const char *c, const struct mxg_cs_batch *b, size_t i,
		      const char *cidr, __s64 dur_ns, const char *scenario)
{
	char what[64];

	snprintf(what, sizeof(what), ".v[%zu]", i);
	if (i >= b->n_new + b->n_del) {
		CHECK(name(c, what, ".present"), 0);
		return;
	}
	snprintf(what, sizeof(what), ".v[%zu].cidr", i);
	CHECK_STR(name(c, cidr, what), cidr, cidr_text(&b->v[i]));
	snprintf(what, sizeof(what), ".v[%zu].dur_ns", i);
	CHECK_EQ(name(c, cidr, what), dur_ns, b->v[i].dur_ns);
	if (scenario) {
		snprintf(what, sizeof(what), ".v[%zu].scenario", i);
		CHECK_STR(name(c, cidr, what), scenario, b->v[i].scenario);
	}
}

static void parse__startup_lapi_146(const char *c)
{
	struct mxg_cs_batch b;

	if (parse_file(c, "startup.json", &b))
		return;
	/* 4 new: the captcha is ignored, the range with host bits rejected. */
	CHECK_EQ(name(c, "", ".n_new"), 2, b.n_new);
	CHECK_EQ(name(c, "", ".n_del"), 1, b.n_del);
	CHECK_EQ(name(c, "", ".ignored"), 1, b.ignored);
	CHECK_EQ(name(c, "", ".rejected"), 1, b.rejected);
	CHECK_EQ(name(c, "", ".expired"), 0, b.expired);
	check_dec(c, &b, 0, "2001:db8::7/128", 88142870843ll, "crowdsecurity/ssh-bf");
	check_dec(c, &b, 1, "198.18.64.0/24", 1794142868969ll, "range test");
	check_dec(c, &b, 2, "198.18.44.4/32", -1216871571ll,
		  "manual 'ban' from 'mxg-test'");
	if (b.n_new)
		CHECK_STR(name(c, "", ".origin"), "cscli", b.v[0].origin);
	if (b.n_new)
		CHECK_EQ(name(c, "", ".id"), 5, b.v[0].id);
	mxg_cs_batch_free(&b);
}

static void parse__delta_new_and_deleted(const char *c)
{
	struct mxg_cs_batch b;

	if (parse_file(c, "delta.json", &b))
		return;
	CHECK_EQ(name(c, "", ".n_new"), 1, b.n_new);
	CHECK_EQ(name(c, "", ".n_del"), 1, b.n_del);
	check_dec(c, &b, 0, "2001:db8::7/128", 88169156669ll, NULL);
	check_dec(c, &b, 1, "198.18.44.4/32", -1190522506ll, NULL);
	mxg_cs_batch_free(&b);
}

static void parse__expired_only_deleted(const char *c)
{
	struct mxg_cs_batch b;

	if (parse_file(c, "expired.json", &b))
		return;
	CHECK_EQ(name(c, "", ".n_new"), 0, b.n_new);
	CHECK_EQ(name(c, "", ".n_del"), 2, b.n_del);
	check_dec(c, &b, 1, "198.18.44.5/32", -2081860245ll, NULL);
	mxg_cs_batch_free(&b);
}

static void parse__null_lists_are_empty(const char *c)
{
	static const struct {
		const char *what, *json;
	} t[] = {
		{ "both_null", "{\"deleted\":null,\"new\":null}" },
		{ "absent", "{}" },
		{ "empty_arrays_newline", "{\"new\":[],\"deleted\":[]}\n" },
		{ "blanks_around", "  {\"new\":null}  \r\n" },
	};
	struct mxg_cs_batch b;
	unsigned i;

	if (parse_file(c, "empty.json", &b))
		return;
	CHECK_EQ(name(c, "empty.json", ".n"), 0, b.n_new + b.n_del);
	mxg_cs_batch_free(&b);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_EQ(name(c, t[i].what, ".ret"), 0, parse_str(t[i].json, &b));
		CHECK_EQ(name(c, t[i].what, ".n"), 0, b.n_new + b.n_del);
		mxg_cs_batch_free(&b);
	}
}

static void parse__capi_shapes(const char *c)
{
	struct mxg_cs_batch b;

	if (parse_file(c, "capi.json", &b))
		return;
	/* Lower-case scopes of the central API and lists are taken; Country,
	 * AS, throttle ignored; 198.18.300.1, "4 hours" and no duration
	 * rejected; -0.5s expired; the deleted captcha ignored. */
	CHECK_EQ(name(c, "", ".n_new"), 4, b.n_new);
	CHECK_EQ(name(c, "", ".n_del"), 1, b.n_del);
	CHECK_EQ(name(c, "", ".ignored"), 4, b.ignored);
	CHECK_EQ(name(c, "", ".rejected"), 3, b.rejected);
	CHECK_EQ(name(c, "", ".expired"), 1, b.expired);
	check_dec(c, &b, 0, "198.19.7.1/32", 604798918265716ll, "crowdsecurity/ssh-bf");
	check_dec(c, &b, 1, "2001:db8:77::3/128", 604798918264230ll,
		  "crowdsecurity/http-probing");
	check_dec(c, &b, 2, "2001:db8:4000::/36", 86399500000000ll,
		  "lists:firehol_cybercrime");
	check_dec(c, &b, 3, "198.18.128.0/17", 14398123000000ll,
		  "crowdsecurity/postfix-spam");
	check_dec(c, &b, 4, "198.19.8.8/32", -721000000001ll, NULL);
	if (b.n_new > 2)
		CHECK_STR(name(c, "", ".origin_lists"), "lists", b.v[2].origin);
	mxg_cs_batch_free(&b);
}

static void parse__bad_decision_skipped_batch_kept(const char *c)
{
	static const struct {
		const char *what, *json;
		size_t n_new, rejected, ignored;
	} t[] = {
		{ "host_bits", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.18.1.1/24\"},"
		  "{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.1.1\"}]}", 1, 1, 0 },
		/* Broader than /8 (IPv4) or /24 (IPv6): one typo must not cut
		 * off a continent. The values are never sent anywhere. */
		{ "broad_v4", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.0.0.0/7\"},"
		  "{\"duration\":\"1h\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.0.0.0/8\"}]}", 1, 1, 0 },
		{ "broad_v6", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"2000::/3\"},"
		  "{\"duration\":\"1h\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"2001:db8::/32\"}]}", 1, 1, 0 },
		{ "not_object", "{\"new\":[42,\"x\",null,{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.1.1\"}]}", 1, 3, 0 },
		{ "no_value", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\"},"
		  "{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":7}]}", 0, 2, 0 },
		{ "bad_duration", "{\"new\":[{\"duration\":\"1d\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.1.1\"}]}", 0, 1, 0 },
		{ "mapped_v4", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"::ffff:198.18.1.1\"}]}", 1, 0, 0 },
		{ "uppercase_type", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"IP\",\"type\":\"BAN\",\"value\":\"198.18.1.1\"}]}", 1, 0, 0 },
		{ "username_scope", "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Username\",\"type\":\"ban\",\"value\":\"root\"}]}", 0, 0, 1 },
	};
	struct mxg_cs_batch b;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_EQ(name(c, t[i].what, ".ret"), 0, parse_str(t[i].json, &b));
		CHECK_EQ(name(c, t[i].what, ".n_new"), t[i].n_new, b.n_new);
		CHECK_EQ(name(c, t[i].what, ".rejected"), t[i].rejected, b.rejected);
		CHECK_EQ(name(c, t[i].what, ".ignored"), t[i].ignored, b.ignored);
		mxg_cs_batch_free(&b);
	}
	CHECK_EQ(name(c, "mapped_v4", ".is_v4"), 0, parse_str(t[6].json, &b));
	if (b.n_new)
		CHECK_STR(name(c, "mapped_v4", ".cidr"), "198.18.1.1/32", cidr_text(&b.v[0]));
	mxg_cs_batch_free(&b);
}

static void parse__deleted_needs_no_duration(const char *c)
{
	struct mxg_cs_batch b;
	const char *j = "{\"deleted\":[{\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.1.1\"},"
		"{\"duration\":\"garbage\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.1.2\"}]}";

	CHECK_EQ(name(c, "", ".ret"), 0, parse_str(j, &b));
	CHECK_EQ(name(c, "", ".n_del"), 2, b.n_del);
	CHECK_EQ(name(c, "", ".rejected"), 0, b.rejected);
	mxg_cs_batch_free(&b);
}

static void parse__malformed_body_ebadmsg(const char *c)
{
	static const struct {
		const char *what, *json;
	} t[] = {
		{ "empty", "" },
		{ "truncated", "{\"new\":[{\"duration\":\"1h\"" },
		{ "array", "[]" },
		{ "string", "\"new\"" },
		{ "null", "null" },
		{ "trailing", "{\"new\":null} x" },
		{ "two_docs", "{\"new\":null}{\"new\":null}" },
		{ "new_object", "{\"new\":{}}" },
		{ "deleted_string", "{\"new\":[],\"deleted\":\"x\"}" },
		{ "html", "<html><body>502 Bad Gateway</body></html>" },
	};
	struct mxg_cs_batch b;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_EQ(name(c, t[i].what, ".ret"), -EBADMSG, parse_str(t[i].json, &b));
		CHECK(name(c, t[i].what, ".freed"), b.v == NULL && !b.n_new && !b.n_del);
	}
}

static void parse__scenario_cleaned_and_truncated(const char *c)
{
	char j[1024], long_s[300];
	struct mxg_cs_batch b;

	memset(long_s, 'a', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	snprintf(j, sizeof(j), "{\"new\":[{\"duration\":\"1h\",\"scope\":\"Ip\",\"type\":\"ban\","
		 "\"value\":\"198.18.1.1\",\"scenario\":\"%s\"},{\"duration\":\"1h\",\"scope\":\"Ip\","
		 "\"type\":\"ban\",\"value\":\"198.18.1.2\",\"scenario\":\"a\\nb\\\"c\"}]}", long_s);
	CHECK_EQ(name(c, "", ".ret"), 0, parse_str(j, &b));
	CHECK_EQ(name(c, "", ".n_new"), 2, b.n_new);
	if (b.n_new == 2) {
		CHECK_EQ(name(c, "long", ".len"), MXG_REASON_LEN - 1, strlen(b.v[0].scenario));
		CHECK_STR(name(c, "control", ".cleaned"), "a?b?c", b.v[1].scenario);
	}
	mxg_cs_batch_free(&b);
}

static void parse__large_stream(const char *c)
{
	const size_t n = 50000;
	size_t cap = n * 120 + 64, off = 0, i;
	char *j = malloc(cap);
	struct mxg_cs_batch b;

	CHECK(name(c, "", ".alloc"), j != NULL);
	if (!j)
		return;
	off += (size_t)snprintf(j + off, cap - off, "{\"new\":[");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(j + off, cap - off,
			"%s{\"duration\":\"%zuh\",\"scope\":\"ip\",\"type\":\"ban\",\"value\":\"198.19.%zu.%zu\"}",
			i ? "," : "", i % 200 + 1, i / 256, i % 256);
	off += (size_t)snprintf(j + off, cap - off, "],\"deleted\":null}");
	CHECK_EQ(name(c, "50000", ".ret"), 0, mxg_crowdsec_parse(j, off, &b));
	CHECK_EQ(name(c, "50000", ".n_new"), n, b.n_new);
	mxg_cs_batch_free(&b);
	free(j);
}

/* ---- key file and config ------------------------------------------------- */

static void key_read__first_line_trimmed(const char *c)
{
	static const struct {
		const char *what, *text, *key;
		int err;
	} t[] = {
		{ "plain", "68f85fbb1510db43f2d159ba93440201", "68f85fbb1510db43f2d159ba93440201", 0 },
		{ "newline", "68f85fbb\n", "68f85fbb", 0 },
		{ "crlf_blanks", "  68f85fbb \r\nsecond line\n", "68f85fbb", 0 },
		{ "empty", "", NULL, -EINVAL },
		{ "blank_line", "   \nkey\n", NULL, -EINVAL },
		{ "inner_blank", "ab cd\n", NULL, -EINVAL },
	};
	char path[] = "/tmp/mxg-cskey.XXXXXX", key[128];
	unsigned i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		FILE *f;

		strcpy(path, "/tmp/mxg-cskey.XXXXXX");
		fd = mkstemp(path);
		CHECK(name(c, t[i].what, ".mkstemp"), fd >= 0);
		if (fd < 0)
			return;
		f = fdopen(fd, "w");
		fputs(t[i].text, f);
		fclose(f);
		key[0] = '\0';
		CHECK_EQ(name(c, t[i].what, ".ret"), t[i].err,
			 mxg_crowdsec_key_read(path, key, sizeof(key)));
		if (t[i].key)
			CHECK_STR(name(c, t[i].what, ".key"), t[i].key, key);
		unlink(path);
	}
	CHECK_EQ(name(c, "missing", ".ret"), -ENOENT,
		 mxg_crowdsec_key_read("/nonexistent/mxg-key", key, sizeof(key)));
}

static void new__checks_config(const char *c)
{
	static const struct {
		const char *what, *url, *key;
		int err;
	} t[] = {
		{ "ok", "http://127.0.0.1:8080/", "68f85fbb", 0 },
		{ "https", "https://lapi.example:8080", "68f85fbb", 0 },
		{ "no_scheme", "127.0.0.1:8080", "68f85fbb", -EINVAL },
		{ "file", "file:///etc/passwd", "68f85fbb", -EINVAL },
		{ "empty_key", "http://127.0.0.1:8080/", "", -EINVAL },
		{ "header_injection", "http://127.0.0.1:8080/", "k\r\nX-Evil: 1", -EINVAL },
	};
	struct mxg_crowdsec_cfg cfg;
	struct mxg_crowdsec *cs;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&cfg, 0, sizeof(cfg));
		snprintf(cfg.url, sizeof(cfg.url), "%s", t[i].url);
		snprintf(cfg.api_key, sizeof(cfg.api_key), "%s", t[i].key);
		CHECK_EQ(name(c, t[i].what, ".ret"), t[i].err, mxg_crowdsec_new(&cs, &cfg));
		CHECK(name(c, t[i].what, ".handle"), t[i].err ? cs == NULL : cs != NULL);
		mxg_crowdsec_free(cs);
	}
}

static const struct check_case cases[] = {
	{ "go_duration__parses_exactly", go_duration__parses_exactly },
	{ "go_duration__rejects_malformed", go_duration__rejects_malformed },
	{ "parse__startup_lapi_146", parse__startup_lapi_146 },
	{ "parse__delta_new_and_deleted", parse__delta_new_and_deleted },
	{ "parse__expired_only_deleted", parse__expired_only_deleted },
	{ "parse__null_lists_are_empty", parse__null_lists_are_empty },
	{ "parse__capi_shapes", parse__capi_shapes },
	{ "parse__bad_decision_skipped_batch_kept", parse__bad_decision_skipped_batch_kept },
	{ "parse__deleted_needs_no_duration", parse__deleted_needs_no_duration },
	{ "parse__malformed_body_ebadmsg", parse__malformed_body_ebadmsg },
	{ "parse__scenario_cleaned_and_truncated", parse__scenario_cleaned_and_truncated },
	{ "parse__large_stream", parse__large_stream },
	{ "key_read__first_line_trimmed", key_read__first_line_trimmed },
	{ "new__checks_config", new__checks_config },
};

/* Fixtures in tests/unit/data/crowdsec: relative to the working directory
 * (the runner's is the top level), else to build/tests/unit/<binary>. */
static int find_data_dir(void)
{
	char exe[PATH_MAX], *p;
	ssize_t n;
	int i;

	snprintf(data_dir, sizeof(data_dir), "tests/unit/data/crowdsec");
	if (!access("tests/unit/data/crowdsec/startup.json", R_OK))
		return 0;
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
	snprintf(data_dir, sizeof(data_dir), "%.*s/tests/unit/data/crowdsec",
		 (int)sizeof(data_dir) - 40, exe);
	return 0;
}

int main(int argc, char **argv)
{
	check_filter = argc > 1 ? argv[1] : NULL;
	find_data_dir();
	CHECK_CASES(cases);
	return CHECK_DONE();
}

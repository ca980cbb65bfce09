// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/units.c: durations, rates, integers, human formats,
 * timestamps and the service, mode and reason name tables. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Check names: "<case>[<input>]<what>". */
static char nm[512];

static const char *name(const char *c, const char *in, const char *what)
{
	snprintf(nm, sizeof(nm), "%s[%s]%s", c, in, what);
	return nm;
}

static const char *num(unsigned long long v)
{
	static char b[32];

	snprintf(b, sizeof(b), "%llu", v);
	return b;
}

static void duration__parses_good_inputs(const char *c)
{
	static const struct {
		const char *in;
		__u64 secs;
	} t[] = {
		{ "90", 90 },
		{ "1", 1 },
		{ "90s", 90 },
		{ "10m", 600 },
		{ "2h", 7200 },
		{ "7d", 604800 },
		{ "1h30m", 5400 },
		{ "1d2h3m4s", 93784 },
		{ "1d30s", 86430 },
		{ "0h1s", 1 },
		{ "1h05m", 3900 },
		{ "3650d", 315360000 },
		{ "315360000", 315360000 },
		{ "3649d23h59m60s", 315360000 },
	};
	const char *why;
	unsigned i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v = 0;
		CHECK_EQ(name(c, t[i].in, ".ret"), 0,
			 mxg_parse_duration(t[i].in, &v, &why));
		CHECK_EQ(name(c, t[i].in, ".secs"), t[i].secs, v);
		CHECK(name(c, t[i].in, ".why_untouched"), why == NULL);
	}
}

static void duration__rejects_bad_inputs(const char *c)
{
	static const struct {
		const char *in;
		int err;
		const char *why;
	} t[] = {
		{ "", -EINVAL, "empty" },
		{ "0", -ERANGE, "greater than zero" },
		{ "0s", -ERANGE, "greater than zero" },
		{ "0d0h0m0s", -ERANGE, "greater than zero" },
		{ "-5", -EINVAL, "expected a number" },
		{ "-5m", -EINVAL, "expected a number" },
		{ "+5", -EINVAL, "expected a number" },
		{ " 5m", -EINVAL, "expected a number" },
		{ "5m ", -EINVAL, "expected a number" },
		{ "m", -EINVAL, "expected a number" },
		{ "abc", -EINVAL, "expected a number" },
		{ "5ms", -EINVAL, "expected a number" },
		{ "5w", -EINVAL, "unit must be s, m, h or d" },
		{ "5M", -EINVAL, "unit must be s, m, h or d" },
		{ "5 m", -EINVAL, "unit must be s, m, h or d" },
		{ "1.5h", -EINVAL, "unit must be s, m, h or d" },
		{ "0x10", -EINVAL, "unit must be s, m, h or d" },
		{ "1h30", -EINVAL, "missing unit" },
		{ "30m1h", -EINVAL, "largest to smallest" },
		{ "1h1h", -EINVAL, "largest to smallest" },
		{ "3651d", -ERANGE, "10 years" },
		{ "3650d1s", -ERANGE, "10 years" },
		{ "315360001", -ERANGE, "10 years" },
		{ "87600h1s", -ERANGE, "10 years" },
		{ "99999999999999999999999", -ERANGE, "10 years" },
		{ "99999999999999999999999s", -ERANGE, "10 years" },
		{ "213503982334602d", -ERANGE, "10 years" },
	};
	const char *why;
	unsigned i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v = 12345;
		CHECK_EQ(name(c, t[i].in, ".ret"), t[i].err,
			 mxg_parse_duration(t[i].in, &v, &why));
		CHECK(name(c, t[i].in, ".why"), why && strstr(why, t[i].why));
		CHECK_EQ(name(c, t[i].in, ".out_untouched"), 12345, v);
	}
	CHECK_EQ(name(c, "NULL", ".ret"), -EINVAL,
		 mxg_parse_duration(NULL, &v, NULL));
}

static void rate__parses_good_inputs(const char *c)
{
	static const struct {
		const char *in;
		__u32 n, per_s;
	} t[] = {
		{ "30/min", 30, 60 },
		{ "1/s", 1, 1 },
		{ "1/sec", 1, 1 },
		{ "2/second", 2, 1 },
		{ "4/seconds", 4, 1 },
		{ "3/secs", 3, 1 },
		{ "5/m", 5, 60 },
		{ "5/minute", 5, 60 },
		{ "6/minutes", 6, 60 },
		{ "3/mins", 3, 60 },
		{ "100/hour", 100, 3600 },
		{ "100/h", 100, 3600 },
		{ "7/hours", 7, 3600 },
		{ "1000000/sec", 1000000, 1 },
		{ "010/min", 10, 60 },
	};
	const char *why;
	__u32 n, per_s;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		n = per_s = 0;
		CHECK_EQ(name(c, t[i].in, ".ret"), 0,
			 mxg_parse_rate(t[i].in, &n, &per_s, &why));
		CHECK_EQ(name(c, t[i].in, ".n"), t[i].n, n);
		CHECK_EQ(name(c, t[i].in, ".per_s"), t[i].per_s, per_s);
		CHECK(name(c, t[i].in, ".why_untouched"), why == NULL);
	}
}

static void rate__rejects_bad_inputs(const char *c)
{
	static const struct {
		const char *in;
		int err;
		const char *why;
	} t[] = {
		{ "", -EINVAL, "empty" },
		{ "30", -EINVAL, "expected N/sec, N/min or N/hour" },
		{ "/min", -EINVAL, "expected N/sec" },
		{ "-1/min", -EINVAL, "expected N/sec" },
		{ "+1/min", -EINVAL, "expected N/sec" },
		{ " 1/min", -EINVAL, "expected N/sec" },
		{ "1 /min", -EINVAL, "expected N/sec" },
		{ "x/min", -EINVAL, "expected N/sec" },
		{ "1.5/min", -EINVAL, "expected N/sec" },
		{ "30:min", -EINVAL, "expected N/sec" },
		{ "30/", -EINVAL, "sec, min or hour" },
		{ "1/ min", -EINVAL, "sec, min or hour" },
		{ "1/min ", -EINVAL, "sec, min or hour" },
		{ "1/MIN", -EINVAL, "sec, min or hour" },
		{ "1/min/x", -EINVAL, "sec, min or hour" },
		{ "1/day", -EINVAL, "sec, min or hour" },
		{ "0/min", -ERANGE, "1 to 1000000" },
		{ "1000001/min", -ERANGE, "1 to 1000000" },
		{ "99999999999999999999/min", -ERANGE, "1 to 1000000" },
	};
	const char *why;
	__u32 n, per_s;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		n = per_s = 77;
		CHECK_EQ(name(c, t[i].in, ".ret"), t[i].err,
			 mxg_parse_rate(t[i].in, &n, &per_s, &why));
		CHECK(name(c, t[i].in, ".why"), why && strstr(why, t[i].why));
		CHECK(name(c, t[i].in, ".out_untouched"),
		      n == 77 && per_s == 77);
	}
}

static void rate__rejects_fortnight(const char *c)
{
	const char *why = NULL;
	__u32 n, per_s;

	CHECK_EQ(name(c, "10/fortnight", ".ret"), -EINVAL,
		 mxg_parse_rate("10/fortnight", &n, &per_s, &why));
	/* The message must tell the user what would have worked. */
	CHECK(name(c, "10/fortnight", ".why_names_units"),
	      why && strstr(why, "sec") && strstr(why, "min") &&
	      strstr(why, "hour"));
}

static void u32__parses_good_inputs(const char *c)
{
	static const struct {
		const char *in;
		__u32 min, max, want;
	} t[] = {
		{ "0", 0, 10, 0 },
		{ "10", 0, 10, 10 },
		{ "1", 1, 1, 1 },
		{ "007", 0, 10, 7 },
		{ "4294967295", 0, UINT32_MAX, UINT32_MAX },
		{ "1000000", 1, 1000000, 1000000 },
	};
	const char *why;
	unsigned i;
	__u32 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v = 12345;
		CHECK_EQ(name(c, t[i].in, ".ret"), 0,
			 mxg_parse_u32(t[i].in, t[i].min, t[i].max, &v, &why));
		CHECK_EQ(name(c, t[i].in, ".value"), t[i].want, v);
		CHECK(name(c, t[i].in, ".why_untouched"), why == NULL);
	}
}

static void u32__rejects_bad_inputs(const char *c)
{
	static const struct {
		const char *in;
		__u32 min, max;
		int err;
		const char *why;
	} t[] = {
		{ "", 0, 10, -EINVAL, "empty" },
		{ "-1", 0, 10, -EINVAL, "not a decimal number" },
		{ "+1", 0, 10, -EINVAL, "not a decimal number" },
		{ " 1", 0, 10, -EINVAL, "not a decimal number" },
		{ "1 ", 0, 10, -EINVAL, "not a decimal number" },
		{ "0x10", 0, 100, -EINVAL, "not a decimal number" },
		{ "1e3", 0, 10000, -EINVAL, "not a decimal number" },
		{ "1.0", 0, 10, -EINVAL, "not a decimal number" },
		{ "ten", 0, 10, -EINVAL, "not a decimal number" },
		{ "11", 0, 10, -ERANGE, "out of range" },
		{ "0", 1, 10, -ERANGE, "out of range" },
		{ "4294967296", 0, UINT32_MAX, -ERANGE, "out of range" },
		{ "99999999999999999999999", 0, UINT32_MAX, -ERANGE,
		  "out of range" },
	};
	const char *why;
	unsigned i;
	__u32 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v = 12345;
		CHECK_EQ(name(c, t[i].in, ".ret"), t[i].err,
			 mxg_parse_u32(t[i].in, t[i].min, t[i].max, &v, &why));
		CHECK(name(c, t[i].in, ".why"), why && strstr(why, t[i].why));
		CHECK_EQ(name(c, t[i].in, ".out_untouched"), 12345, v);
	}
	CHECK_EQ(name(c, "NULL", ".ret"), -EINVAL,
		 mxg_parse_u32(NULL, 0, 10, &v, NULL));
}

/* A prefix length with or without its slash, min..max; nothing else. */
static void plen__slash_optional_within_range(const char *c)
{
	static const struct {
		const char *in;
		__u32 min, max;
		int err;
		__u32 want;
	} t[] = {
		{ "24", 1, 32, 0, 24 }, { "/24", 1, 32, 0, 24 }, { "1", 1, 32, 0, 1 },
		{ "/32", 1, 32, 0, 32 }, { "128", 1, 128, 0, 128 }, { "/48", 1, 128, 0, 48 },
		{ "0", 1, 32, -ERANGE, 0 }, { "/0", 1, 128, -ERANGE, 0 },
		{ "33", 1, 32, -ERANGE, 0 }, { "/129", 1, 128, -ERANGE, 0 },
		{ "/8", 8, 32, 0, 8 }, { "7", 8, 32, -ERANGE, 0 },
		{ "/15", 16, 128, -ERANGE, 0 },
		{ "", 1, 32, -EINVAL, 0 }, { "/", 1, 32, -EINVAL, 0 },
		{ "//24", 1, 32, -EINVAL, 0 }, { "24/", 1, 32, -EINVAL, 0 },
		{ "198.18.0.0/24", 1, 32, -EINVAL, 0 }, { " /24", 1, 32, -EINVAL, 0 },
	};
	const char *why;
	unsigned i;
	__u32 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		why = NULL;
		v = 12345;
		CHECK_EQ(name(c, t[i].in, ".ret"), t[i].err,
			 mxg_parse_plen(t[i].in, t[i].min, t[i].max, &v, &why));
		CHECK_EQ(name(c, t[i].in, ".value"), t[i].err ? 12345 : t[i].want, v);
		CHECK(name(c, t[i].in, ".why"), t[i].err ? why != NULL : why == NULL);
	}
}

static void format_duration__shows_two_largest_units(const char *c)
{
	static const struct {
		__u64 secs;
		const char *want;
	} t[] = {
		{ 0, "0s" },
		{ 1, "1s" },
		{ 45, "45s" },
		{ 59, "59s" },
		{ 60, "1m" },
		{ 90, "1m30s" },
		{ 3599, "59m59s" },
		{ 3600, "1h" },
		{ 3661, "1h1m" },
		{ 5400, "1h30m" },
		{ 86399, "23h59m" },
		{ 86400, "1d" },
		{ 86400 + 300, "1d" },
		{ 90061, "1d1h" },
		{ 2 * 86400 + 3 * 3600, "2d3h" },
		{ 315360000, "3650d" },
		{ UINT64_MAX, "213503982334601d7h" },
	};
	char buf[64];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		memset(buf, 'x', sizeof(buf));
		mxg_format_duration(t[i].secs, buf, sizeof(buf));
		CHECK_STR(name(c, num(t[i].secs), ""), t[i].want, buf);
	}
	memset(buf, 'x', sizeof(buf));
	mxg_format_duration(5400, buf, 3);
	CHECK_STR(name(c, "5400", ".truncated"), "1h", buf);
	memset(buf, 'x', sizeof(buf));
	mxg_format_duration(5400, buf, 0);
	CHECK_EQ(name(c, "5400", ".len0"), 'x', buf[0]);
}

static void format_duration__round_trips(const char *c)
{
	static const char *const t[] = {
		"1h30m", "2d3h", "45s", "7d", "1m30s", "3650d",
	};
	const char *why = NULL;
	char buf[64];
	unsigned i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (mxg_parse_duration(t[i], &v, &why)) {
			CHECK_STR(name(c, t[i], ".setup"), "parsed", why);
			continue;
		}
		mxg_format_duration(v, buf, sizeof(buf));
		CHECK_STR(name(c, t[i], ""), t[i], buf);
	}
}

static void format_rate__names_the_unit(const char *c)
{
	static const struct {
		__u32 n, per_s;
		const char *want;
	} t[] = {
		{ 30, 60, "30/min" },
		{ 1, 1, "1/sec" },
		{ 100, 3600, "100/hour" },
		{ 1000000, 1, "1000000/sec" },
		{ 5, 7, "5/7s" },
		{ 0, 60, "unlimited" },
	};
	char buf[64];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		mxg_format_rate(t[i].n, t[i].per_s, buf, sizeof(buf));
		CHECK_STR(name(c, t[i].want, ""), t[i].want, buf);
	}
}

static void format_rate__round_trips(const char *c)
{
	static const char *const t[] = { "30/min", "1/sec", "100/hour" };
	const char *why = NULL;
	__u32 n, per_s;
	char buf[64];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		if (mxg_parse_rate(t[i], &n, &per_s, &why)) {
			CHECK_STR(name(c, t[i], ".setup"), "parsed", why);
			continue;
		}
		mxg_format_rate(n, per_s, buf, sizeof(buf));
		CHECK_STR(name(c, t[i], ""), t[i], buf);
	}
}

static void format_count__scales_above_9999(const char *c)
{
	static const struct {
		__u64 v;
		const char *want;
	} t[] = {
		{ 0, "0" },
		{ 999, "999" },
		{ 9999, "9999" },
		{ 10000, "10.0k" },
		{ 12345, "12.3k" },
		{ 999999, "999.9k" },
		{ 1000000, "1.0M" },
		{ 4500000, "4.5M" },
		{ 999999999, "999.9M" },
		{ 1234567890, "1.2G" },
		{ 1000000000000ull, "1.0T" },
		{ 2500000000000000ull, "2.5P" },
		{ UINT64_MAX, "18.4E" },
	};
	char buf[32];
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		mxg_format_count(t[i].v, buf, sizeof(buf));
		CHECK_STR(name(c, num(t[i].v), ""), t[i].want, buf);
	}
}

static void format_time__is_iso8601_utc(const char *c)
{
	static const struct {
		__u64 s;
		const char *want;
	} t[] = {
		{ 0, "-" },
		{ 1, "1970-01-01T00:00:01Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ 1795424400, "2026-11-23T09:00:00Z" },
		{ 2147483648ull, "2038-01-19T03:14:08Z" },
		{ UINT64_MAX, "?" },
	};
	char buf[64];
	unsigned i;

	/* UTC whatever the local zone: a zone far from UTC would show. */
	setenv("TZ", "JST-9", 1);
	tzset();
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		mxg_format_time(t[i].s, buf, sizeof(buf));
		CHECK_STR(name(c, num(t[i].s), ""), t[i].want, buf);
	}
	mxg_format_time(1795424400, buf, 10);
	CHECK_STR(name(c, "1795424400", ".short_buffer"), "?", buf);
	memset(buf, 'x', sizeof(buf));
	mxg_format_time(1795424400, buf, 0);
	CHECK_EQ(name(c, "1795424400", ".len0"), 'x', buf[0]);
	unsetenv("TZ");
	tzset();
}

static void svc__names_and_ports_match_the_abi(const char *c)
{
	static const struct {
		unsigned svc;
		const char *name;
		__u16 port;
	} t[] = {
		{ MXG_SVC_NONE, "none", 0 },
		{ MXG_SVC_SMTP, "smtp", 25 },
		{ MXG_SVC_SUBMISSIONS, "submissions", 465 },
		{ MXG_SVC_SUBMISSION, "submission", 587 },
		{ MXG_SVC_POP3, "pop3", 110 },
		{ MXG_SVC_POP3S, "pop3s", 995 },
		{ MXG_SVC_IMAP, "imap", 143 },
		{ MXG_SVC_IMAPS, "imaps", 993 },
	};
	unsigned i;

	CHECK_EQ(name(c, "table", ".covers_enum"), MXG_SVC_MAX, ARRAY_SIZE(t));
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_STR(name(c, t[i].name, ".name"), t[i].name,
			  mxg_svc_name(t[i].svc));
		CHECK_EQ(name(c, t[i].name, ".port"), t[i].port,
			 mxg_svc_default_port(t[i].svc));
		if (t[i].svc != MXG_SVC_NONE)
			CHECK_EQ(name(c, t[i].name, ".by_name"), t[i].svc,
				 mxg_svc_by_name(t[i].name));
	}
}

static void svc__rejects_unknown_names(const char *c)
{
	static const char *const t[] = {
		"none", "SMTP", "smtps", "", "smtp ", "25", "all",
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_EQ(name(c, t[i], ""), -1, mxg_svc_by_name(t[i]));
	CHECK_EQ(name(c, "NULL", ""), -1, mxg_svc_by_name(NULL));
}

static void svc__out_of_range_is_question_mark(const char *c)
{
	CHECK_STR(name(c, "MAX", ".name"), "?", mxg_svc_name(MXG_SVC_MAX));
	CHECK_STR(name(c, "UINT_MAX", ".name"), "?", mxg_svc_name(~0u));
	CHECK_EQ(name(c, "MAX", ".port"), 0, mxg_svc_default_port(MXG_SVC_MAX));
	CHECK_EQ(name(c, "UINT_MAX", ".port"), 0, mxg_svc_default_port(~0u));
}

static void mode__names_round_trip(const char *c)
{
	static const struct {
		unsigned mode;
		const char *name;
	} t[] = {
		{ MXG_MODE_ENFORCE, "enforce" },
		{ MXG_MODE_MONITOR, "monitor" },
		{ MXG_MODE_LOCKDOWN, "lockdown" },
	};
	unsigned i;

	CHECK_EQ(name(c, "table", ".covers_enum"), MXG_MODE_MAX, ARRAY_SIZE(t));
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK_STR(name(c, t[i].name, ".name"), t[i].name,
			  mxg_mode_name(t[i].mode));
		CHECK_EQ(name(c, t[i].name, ".by_name"), t[i].mode,
			 mxg_mode_by_name(t[i].name));
	}
}

static void mode__rejects_unknown_names(const char *c)
{
	static const char *const t[] = { "Enforce", "lock", "", "?", "1" };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_EQ(name(c, t[i], ""), -1, mxg_mode_by_name(t[i]));
	CHECK_EQ(name(c, "NULL", ""), -1, mxg_mode_by_name(NULL));
	CHECK_STR(name(c, "MAX", ".name"), "?", mxg_mode_name(MXG_MODE_MAX));
	CHECK_STR(name(c, "UINT_MAX", ".name"), "?", mxg_mode_name(~0u));
}

static void reason__names_match_the_abi(const char *c)
{
	static const struct {
		unsigned r;
		const char *name;
	} t[] = {
		{ MXG_R_NOT_IP, "not_ip" },
		{ MXG_R_NOT_TCP, "not_tcp" },
		{ MXG_R_OTHER_PORT, "other_port" },
		{ MXG_R_UNPARSED, "unparsed" },
		{ MXG_R_ALLOW, "allow" },
		{ MXG_R_BLOCK, "block" },
		{ MXG_R_BLOCK_WOULD, "block_would" },
		{ MXG_R_ESTABLISHED, "established" },
		{ MXG_R_LOCKDOWN, "lockdown" },
		{ MXG_R_ADMIT, "admit" },
		{ MXG_R_LIMIT, "limit" },
		{ MXG_R_LIMIT_WOULD, "limit_would" },
		{ MXG_R_PLIMIT, "prefix_limit" },
		{ MXG_R_PLIMIT_WOULD, "prefix_limit_would" },
	};
	unsigned i;

	CHECK_EQ(name(c, "table", ".covers_enum"), MXG_R_MAX, ARRAY_SIZE(t));
	for (i = 0; i < ARRAY_SIZE(t); i++)
		CHECK_STR(name(c, t[i].name, ""), t[i].name,
			  mxg_reason_name(t[i].r));
	CHECK_STR(name(c, "MAX", ""), "?", mxg_reason_name(MXG_R_MAX));
	CHECK_STR(name(c, "UINT_MAX", ""), "?", mxg_reason_name(~0u));
}

static const struct check_case cases[] = {
	CHECK_CASE(duration__parses_good_inputs),
	CHECK_CASE(duration__rejects_bad_inputs),
	CHECK_CASE(rate__parses_good_inputs),
	CHECK_CASE(rate__rejects_bad_inputs),
	CHECK_CASE(rate__rejects_fortnight),
	CHECK_CASE(u32__parses_good_inputs),
	CHECK_CASE(u32__rejects_bad_inputs),
	CHECK_CASE(plen__slash_optional_within_range),
	CHECK_CASE(format_duration__shows_two_largest_units),
	CHECK_CASE(format_duration__round_trips),
	CHECK_CASE(format_rate__names_the_unit),
	CHECK_CASE(format_rate__round_trips),
	CHECK_CASE(format_count__scales_above_9999),
	CHECK_CASE(format_time__is_iso8601_utc),
	CHECK_CASE(svc__names_and_ports_match_the_abi),
	CHECK_CASE(svc__rejects_unknown_names),
	CHECK_CASE(svc__out_of_range_is_question_mark),
	CHECK_CASE(mode__names_round_trip),
	CHECK_CASE(mode__rejects_unknown_names),
	CHECK_CASE(reason__names_match_the_abi),
};

int main(int argc, char **argv)
{
	if (argc > 1)
		check_filter = argv[1];
	CHECK_CASES(cases);
	return CHECK_DONE();
}

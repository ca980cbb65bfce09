// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Parsers and formatters for what operators type and read: durations, rates,
 * counts, timestamps, and the names of services, modes and verdicts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "units.h"

#define DAY_S 86400ull
/* "At most 10 years", counted in days so that "3650d" is the limit. */
#define DURATION_MAX_S (3650 * DAY_S)
#define RATE_MAX 1000000u

static void set_why(const char **why, const char *text)
{
	if (why)
		*why = text;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Leading decimal digits of *sp, saturated just above cap so that a long
 * string cannot overflow; *sp is advanced past them. 0 if there were none. */
static int take_digits(const char **sp, __u64 cap, __u64 *v)
{
	const char *p = *sp;
	__u64 n = 0;

	if (!is_digit(*p))
		return 0;
	for (; is_digit(*p); p++)
		if (n <= cap)
			n = n * 10 + (__u64)(*p - '0');
	*sp = p;
	*v = n;
	return 1;
}

int mxg_parse_duration(const char *s, __u64 *secs, const char **why)
{
	/* Units in the order they must appear, each at most once. */
	static const struct {
		char c;
		__u64 mult;
	} units[] = { { 'd', DAY_S }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	const char *p = s, *start;
	unsigned next = 0, i;
	__u64 total = 0, n;

	if (!s || !*s) {
		set_why(why, "empty duration");
		return -EINVAL;
	}
	while (*p) {
		start = p;
		if (!take_digits(&p, DURATION_MAX_S, &n)) {
			set_why(why, "expected a number with unit s, m, h or d (e.g. 90s, 1h30m)");
			return -EINVAL;
		}
		if (!*p && start == s) {
			/* A bare number, the whole string: seconds. */
			total = n;
			break;
		}
		if (!*p) {
			set_why(why, "missing unit after the last number");
			return -EINVAL;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].c == *p)
				break;
		if (i == sizeof(units) / sizeof(units[0])) {
			set_why(why, "unit must be s, m, h or d");
			return -EINVAL;
		}
		if (i < next) {
			set_why(why, "units must go from largest to smallest, each once (e.g. 1d2h)");
			return -EINVAL;
		}
		next = i + 1;
		p++;
		/* Checked before multiplying: n * 86400 then cannot overflow. */
		if (n > DURATION_MAX_S) {
			set_why(why, "duration longer than 10 years (3650d)");
			return -ERANGE;
		}
		total += n * units[i].mult;
	}
	if (total > DURATION_MAX_S) {
		set_why(why, "duration longer than 10 years (3650d)");
		return -ERANGE;
	}
	if (!total) {
		set_why(why, "duration must be greater than zero");
		return -ERANGE;
	}
	*secs = total;
	return 0;
}

int mxg_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out,
		  const char **why)
{
	const char *p = s;
	__u64 v;

	if (!s || !*s) {
		set_why(why, "empty number");
		return -EINVAL;
	}
	if (!take_digits(&p, 0xffffffffull, &v) || *p) {
		set_why(why, "not a decimal number");
		return -EINVAL;
	}
	if (v < min || v > max) {
		set_why(why, "number out of range");
		return -ERANGE;
	}
	*out = (__u32)v;
	return 0;
}

int mxg_parse_plen(const char *s, __u32 min, __u32 max, __u32 *out,
		   const char **why)
{
	return mxg_parse_u32(s && *s == '/' ? s + 1 : s, min, max, out, why);
}

int mxg_parse_rate(const char *s, __u32 *n, __u32 *per_s, const char **why)
{
	static const struct {
		const char *name;
		__u32 per_s;
	} units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 },
		{ "seconds", 1 },
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 },
		{ "minutes", 60 },
		{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
	};
	const char *slash, *p = s;
	unsigned i;
	__u64 v;

	if (!s || !*s) {
		set_why(why, "empty rate");
		return -EINVAL;
	}
	slash = strchr(s, '/');
	if (!slash || !take_digits(&p, RATE_MAX, &v) || p != slash) {
		set_why(why, "expected N/sec, N/min or N/hour (e.g. 30/min)");
		return -EINVAL;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(slash + 1, units[i].name))
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		set_why(why, "rate unit must be sec, min or hour (also s, m, h)");
		return -EINVAL;
	}
	if (v < 1 || v > RATE_MAX) {
		set_why(why, "rate must be 1 to 1000000 per unit");
		return -ERANGE;
	}
	*n = (__u32)v;
	*per_s = units[i].per_s;
	return 0;
}

void mxg_format_duration(__u64 secs, char *buf, size_t len)
{
	static const struct {
		char c;
		__u64 mult;
	} units[] = { { 'd', DAY_S }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	unsigned i;
	__u64 hi, lo;

	if (!len)
		return;
	for (i = 0; i < 3 && secs < units[i].mult; i++)
		;
	hi = secs / units[i].mult;
	if (i == 3) {
		snprintf(buf, len, "%llus", (unsigned long long)hi);
		return;
	}
	/* The next smaller unit only, truncated: a table wants it short. */
	lo = secs % units[i].mult / units[i + 1].mult;
	if (lo)
		snprintf(buf, len, "%llu%c%llu%c", (unsigned long long)hi,
			 units[i].c, (unsigned long long)lo, units[i + 1].c);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)hi, units[i].c);
}

void mxg_format_rate(__u32 n, __u32 per_s, char *buf, size_t len)
{
	if (!len)
		return;
	/* rate_n 0 is how the config says "no limit" (interval_ns 0). */
	if (!n)
		snprintf(buf, len, "unlimited");
	else if (per_s == 1)
		snprintf(buf, len, "%u/sec", n);
	else if (per_s == 60)
		snprintf(buf, len, "%u/min", n);
	else if (per_s == 3600)
		snprintf(buf, len, "%u/hour", n);
	else
		snprintf(buf, len, "%u/%us", n, per_s);
}

void mxg_format_count(__u64 v, char *buf, size_t len)
{
	static const char suffix[] = "kMGTPE";
	__u64 div = 1000, tenths;
	unsigned i = 0;

	if (!len)
		return;
	if (v < 10000) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return;
	}
	/* Largest unit leaving at least 1; truncated, never rounded up into
	 * the next unit ("999.9k", not "1000.0k"). */
	while (i < sizeof(suffix) - 2 && v / div >= 1000) {
		div *= 1000;
		i++;
	}
	tenths = v / (div / 10);
	snprintf(buf, len, "%llu.%llu%c", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10), suffix[i]);
}

void mxg_format_time(__u64 unix_s, char *buf, size_t len)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if (!len)
		return;
	if (!unix_s) {
		snprintf(buf, len, "-");
		return;
	}
	if ((__u64)t != unix_s || t < 0 || !gmtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

static const char *const svc_names[MXG_SVC_MAX] = {
	[MXG_SVC_NONE] = "none",
	[MXG_SVC_SMTP] = "smtp",
	[MXG_SVC_SUBMISSIONS] = "submissions",
	[MXG_SVC_SUBMISSION] = "submission",
	[MXG_SVC_POP3] = "pop3",
	[MXG_SVC_POP3S] = "pop3s",
	[MXG_SVC_IMAP] = "imap",
	[MXG_SVC_IMAPS] = "imaps",
};

static const __u16 svc_ports[MXG_SVC_MAX] = {
	[MXG_SVC_SMTP] = 25,
	[MXG_SVC_SUBMISSIONS] = 465,
	[MXG_SVC_SUBMISSION] = 587,
	[MXG_SVC_POP3] = 110,
	[MXG_SVC_POP3S] = 995,
	[MXG_SVC_IMAP] = 143,
	[MXG_SVC_IMAPS] = 993,
};

static const char *const mode_names[MXG_MODE_MAX] = {
	[MXG_MODE_ENFORCE] = "enforce",
	[MXG_MODE_MONITOR] = "monitor",
	[MXG_MODE_LOCKDOWN] = "lockdown",
};

static const char *const reason_names[MXG_R_MAX] = {
	[MXG_R_NOT_IP] = "not_ip",
	[MXG_R_NOT_TCP] = "not_tcp",
	[MXG_R_OTHER_PORT] = "other_port",
	[MXG_R_UNPARSED] = "unparsed",
	[MXG_R_ALLOW] = "allow",
	[MXG_R_BLOCK] = "block",
	[MXG_R_BLOCK_WOULD] = "block_would",
	[MXG_R_ESTABLISHED] = "established",
	[MXG_R_LOCKDOWN] = "lockdown",
	[MXG_R_ADMIT] = "admit",
	[MXG_R_LIMIT] = "limit",
	[MXG_R_LIMIT_WOULD] = "limit_would",
	[MXG_R_PLIMIT] = "prefix_limit",
	[MXG_R_PLIMIT_WOULD] = "prefix_limit_would",
};

/* A name table entry, or "?" for an index outside it or a gap. */
static const char *table_name(const char *const *names, unsigned n,
			      unsigned i)
{
	return i < n && names[i] ? names[i] : "?";
}

const char *mxg_svc_name(unsigned svc)
{
	return table_name(svc_names, MXG_SVC_MAX, svc);
}

int mxg_svc_by_name(const char *name)
{
	unsigned i;

	/* "none" is not a service anyone can name: it only labels counters. */
	for (i = MXG_SVC_NONE + 1; name && i < MXG_SVC_MAX; i++)
		if (!strcmp(name, svc_names[i]))
			return (int)i;
	return -1;
}

__u16 mxg_svc_default_port(unsigned svc)
{
	return svc < MXG_SVC_MAX ? svc_ports[svc] : 0;
}

const char *mxg_mode_name(unsigned mode)
{
	return table_name(mode_names, MXG_MODE_MAX, mode);
}

int mxg_mode_by_name(const char *name)
{
	unsigned i;

	for (i = 0; name && i < MXG_MODE_MAX; i++)
		if (!strcmp(name, mode_names[i]))
			return (int)i;
	return -1;
}

const char *mxg_reason_name(unsigned reason)
{
	return table_name(reason_names, MXG_R_MAX, reason);
}

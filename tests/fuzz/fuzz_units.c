// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer target: duration, rate, u32 and name parsers against reference
 * grammars written here, plus format/parse consistency of every formatter. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY_S 86400ull
#define DUR_MAX (3650 * DAY_S)
#define RATE_MAX 1000000ull
#define SAT (1ull << 62) /* saturation of the reference arithmetic */

static void die(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "invariant broken: %s (input '%s', output '%s')\n",
		what, in, out ? out : "");
	abort();
}

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits at *p, saturated at SAT; 0 if none. */
static int ref_digits(const char **p, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *s = *p;

	if (!digit(*s))
		return 0;
	for (; digit(*s); s++)
		n = n >= SAT / 10 ? SAT : n * 10 + (unsigned)(*s - '0');
	*p = s;
	*v = n;
	return 1;
}

/* The grammar of units.h: a bare number (seconds), or number+unit groups
 * with units d > h > m > s, each at most once; 0 < total <= 3650d. */
static int ref_duration(const char *s, unsigned long long *out)
{
	static const char units[] = "dhms";
	static const unsigned long long mult[] = { DAY_S, 3600, 60, 1 };
	unsigned long long total = 0, n;
	const char *p = s, *u;
	int next = 0;

	if (!ref_digits(&p, &n))
		return 0;
	if (!*p) {
		total = n;
	} else {
		p = s;
		while (*p) {
			if (!ref_digits(&p, &n) || !*p)
				return 0;
			u = strchr(units, *p);
			if (!u || u - units < next)
				return 0;
			next = (int)(u - units) + 1;
			p++;
			if (n > DUR_MAX)
				return 0;
			total += n * mult[u - units];
		}
	}
	if (!total || total > DUR_MAX)
		return 0;
	*out = total;
	return 1;
}

static int ref_rate(const char *s, unsigned long long *n, unsigned *per_s)
{
	static const struct {
		const char *name;
		unsigned per_s;
	} u[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 },
		{ "seconds", 1 }, { "m", 60 }, { "min", 60 }, { "mins", 60 },
		{ "minute", 60 }, { "minutes", 60 }, { "h", 3600 },
		{ "hour", 3600 }, { "hours", 3600 },
	};
	const char *p = s;
	unsigned i;

	if (!ref_digits(&p, n) || *p != '/')
		return 0;
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (!strcmp(p + 1, u[i].name))
			break;
	if (i == sizeof(u) / sizeof(u[0]) || *n < 1 || *n > RATE_MAX)
		return 0;
	*per_s = u[i].per_s;
	return 1;
}

/* Largest unit of a formatted duration and the resolution it keeps. */
static unsigned long long dur_resolution(unsigned long long secs)
{
	if (secs >= DAY_S)
		return 3600;
	if (secs >= 3600)
		return 60;
	return 1;
}

static void check_duration(const char *s)
{
	unsigned long long ref = 0;
	char f[64], f2[64];
	__u64 v = 0, v2 = 0;
	const char *why = NULL;
	int ok = !mxg_parse_duration(s, &v, &why);

	if (ok != ref_duration(s, &ref) || (ok && v != ref))
		die(ok ? "duration accepted against the grammar or wrong value" :
			 "duration refused against the grammar", s, NULL);
	if (!ok) {
		if (!why)
			die("duration error without a reason", s, NULL);
		return;
	}
	mxg_format_duration(v, f, sizeof(f));
	if (mxg_parse_duration(f, &v2, &why))
		die("formatted duration does not parse", s, f);
	if (v2 > v || v - v2 >= dur_resolution(v))
		die("formatted duration off by more than its resolution", s, f);
	mxg_format_duration(v2, f2, sizeof(f2));
	if (strcmp(f, f2))
		die("format(parse(format(x))) != format(x)", s, f2);
}

static void check_rate(const char *s)
{
	unsigned long long rn = 0;
	unsigned rp = 0;
	__u32 n = 0, per = 0, n2 = 0, per2 = 0;
	const char *why = NULL;
	char f[64];
	int ok = !mxg_parse_rate(s, &n, &per, &why);

	if (ok != ref_rate(s, &rn, &rp) || (ok && (n != rn || per != rp)))
		die("rate disagrees with the grammar", s, NULL);
	if (!ok)
		return;
	mxg_format_rate(n, per, f, sizeof(f));
	if (mxg_parse_rate(f, &n2, &per2, &why) || n2 != n || per2 != per)
		die("parse(format(rate)) != rate", s, f);
}

static void check_u32(const char *s, __u32 min, __u32 max)
{
	unsigned long long rv = 0;
	const char *p = s, *why = NULL;
	__u32 v = 0, v2 = 0;
	int ref, ok;
	char f[16];

	ref = ref_digits(&p, &rv) && !*p && rv >= min && rv <= max;
	ok = !mxg_parse_u32(s, min, max, &v, &why);
	if (ok != ref || (ok && v != rv))
		die("u32 disagrees with the reference", s, NULL);
	if (!ok)
		return;
	snprintf(f, sizeof(f), "%u", v);
	if (mxg_parse_u32(f, min, max, &v2, &why) || v2 != v)
		die("parse(format(u32)) != u32", s, f);
}

static void check_names(const char *s)
{
	int i = mxg_svc_by_name(s);

	if (i >= 0 && (i == MXG_SVC_NONE || strcmp(mxg_svc_name(i), s)))
		die("service name round trip", s, mxg_svc_name(i));
	i = mxg_mode_by_name(s);
	if (i >= 0 && strcmp(mxg_mode_name(i), s))
		die("mode name round trip", s, mxg_mode_name(i));
}

/* "1234", or "12.3k": the value truncated to tenths of its unit, the unit
 * the largest that leaves at least 1, never "1000.0k". */
static void check_count(__u64 v)
{
	static const char suffix[] = "kMGTPE";
	unsigned long long whole, tenth, div = 1000;
	char f[32], unit, in[24];
	int n = 0;
	unsigned i;

	snprintf(in, sizeof(in), "%llu", (unsigned long long)v);
	mxg_format_count(v, f, sizeof(f));
	if (v < 10000) {
		if (strcmp(f, in))
			die("small count not printed exactly", in, f);
		return;
	}
	if (sscanf(f, "%llu.%1llu%c%n", &whole, &tenth, &unit, &n) != 3 ||
	    f[n] || !unit || !strchr(suffix, unit))
		die("count format", in, f);
	for (i = 0; suffix[i] != unit; i++)
		div *= 1000;
	if (whole * 10 + tenth != v / (div / 10))
		die("count value", in, f);
	if (whole >= 1000 && unit != 'E')
		die("count rounded past its unit", in, f);
	if (!whole)
		die("count unit too large", in, f);
}

static void check_time(__u64 v)
{
	char f[64], in[24];
	struct tm tm;
	const char *end;

	snprintf(in, sizeof(in), "%llu", (unsigned long long)v);
	mxg_format_time(v, f, sizeof(f));
	if (!v) {
		if (strcmp(f, "-"))
			die("time 0 is not '-'", in, f);
		return;
	}
	/* Up to year 9999 the text must read back to the same second. */
	if (v >= 253402300800ull)
		return;
	memset(&tm, 0, sizeof(tm));
	end = strptime(f, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end || (__u64)timegm(&tm) != v)
		die("time does not read back", in, f);
}

/* Every formatter into a buffer of exactly len bytes: in bounds, NUL-ended. */
static void check_short(__u64 v, __u32 a, __u32 b, size_t len)
{
	char *buf = malloc(len ? len : 1);

	if (!buf)
		return;
	mxg_format_duration(v, buf, len);
	if (len && strlen(buf) >= len)
		die("duration overflows", "", buf);
	mxg_format_rate(a, b, buf, len);
	if (len && strlen(buf) >= len)
		die("rate overflows", "", buf);
	mxg_format_count(v, buf, len);
	if (len && strlen(buf) >= len)
		die("count overflows", "", buf);
	mxg_format_time(v, buf, len);
	if (len && strlen(buf) >= len)
		die("time overflows", "", buf);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u32 a = 0, b = 0;
	__u64 v = 0;
	char *s;

	/* The bytes as text for the parsers, as numbers for the formatters. */
	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	if (size >= 12)
		memcpy(&a, data + 8, 4);
	if (size >= 16)
		memcpy(&b, data + 12, 4);
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_duration(s);
	check_rate(s);
	check_u32(s, 0, 0xffffffffu);
	check_u32(s, a < b ? a : b, a < b ? b : a);
	check_names(s);
	check_count(v);
	check_time(v);
	if (v <= DUR_MAX && v) {
		char f[64];
		__u64 back;

		mxg_format_duration(v, f, sizeof(f));
		if (mxg_parse_duration(f, &back, NULL) || back > v ||
		    v - back >= dur_resolution(v))
			die("format_duration of a valid duration", "", f);
	}
	check_short(v, a, b, size ? data[size - 1] % 40 : 0);
	free(s);
	return 0;
}

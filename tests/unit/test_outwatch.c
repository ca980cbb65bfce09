// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/outwatch.c: what the service alerts on from one reading
 * of the outbound maps to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "outwatch.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct mxo_lrow row(unsigned kind, __u64 id, int limited)
{
	struct mxo_lrow r;

	memset(&r, 0, sizeof(r));
	r.k.kind = kind;
	r.k.id = id;
	r.r.flags = limited ? MXO_LF_LIMITED : 0;
	return r;
}

static struct mxo_total total(__u32 warn, __u32 cap)
{
	struct mxo_total t;

	memset(&t, 0, sizeof(t));
	t.warn_episodes = warn;
	t.cap_episodes = cap;
	return t;
}

/* One reading; the news as "warn cap i,j,". */
static const char *update(struct mxo_watch *w, __u32 warn, __u32 cap,
			  const struct mxo_lrow *rows, size_t n)
{
	static char out[128];
	struct mxo_watch_news news;
	struct mxo_total t = total(warn, cap);
	size_t i, o;

	if (mxo_watch_update(w, &t, rows, n, &news))
		return "<error>";
	o = snprintf(out, sizeof(out), "%u %u ", news.warn, news.cap);
	for (i = 0; i < news.nrows && o < sizeof(out); i++)
		o += snprintf(out + o, sizeof(out) - o, "%zu,", news.rows[i]);
	free(news.rows);
	return out;
}

static void first_reading__is_not_news(const char *c)
{
	struct mxo_lrow rows[] = { row(MXO_LK_UID, 1000, 1), row(MXO_LK_CGROUP, 7, 1) };
	struct mxo_watch w = { 0 };
	char name[128];

	snprintf(name, sizeof(name), "%s.first", c);
	CHECK_STR(name, "0 0 ", update(&w, 3, 2, rows, ARRAY_SIZE(rows)));
	snprintf(name, sizeof(name), "%s.same_again", c);
	CHECK_STR(name, "0 0 ", update(&w, 3, 2, rows, ARRAY_SIZE(rows)));
	mxo_watch_free(&w);
}

static void episodes__counted_from_the_counters(const char *c)
{
	struct mxo_watch w = { 0 };
	char name[128];

	update(&w, 0, 0, NULL, 0);
	snprintf(name, sizeof(name), "%s.warn_started", c);
	CHECK_STR(name, "1 0 ", update(&w, 1, 0, NULL, 0));
	snprintf(name, sizeof(name), "%s.two_between_readings", c);
	CHECK_STR(name, "2 1 ", update(&w, 3, 1, NULL, 0));
	snprintf(name, sizeof(name), "%s.nothing_new", c);
	CHECK_STR(name, "0 0 ", update(&w, 3, 1, NULL, 0));
	/* Pins removed and attached again: counting starts over. */
	snprintf(name, sizeof(name), "%s.new_maps", c);
	CHECK_STR(name, "1 0 ", update(&w, 1, 0, NULL, 0));
	mxo_watch_free(&w);
}

static void local__newly_limited_rows(const char *c)
{
	struct mxo_lrow a[] = { row(MXO_LK_UID, 1000, 0), row(MXO_LK_CGROUP, 1000, 0) };
	struct mxo_lrow b[] = { row(MXO_LK_CGROUP, 1000, 0), row(MXO_LK_UID, 1000, 1),
				row(MXO_LK_UID, 33, 1) };
	struct mxo_lrow d[] = { row(MXO_LK_UID, 33, 1), row(MXO_LK_UID, 1000, 1),
				row(MXO_LK_CGROUP, 1000, 1) };
	struct mxo_lrow e[] = { row(MXO_LK_UID, 1000, 0), row(MXO_LK_UID, 33, 1) };
	struct mxo_watch w = { 0 };
	char name[128];

	update(&w, 0, 0, a, ARRAY_SIZE(a));
	/* New rows and rows that turned limited, by their index. */
	snprintf(name, sizeof(name), "%s.turned_and_new", c);
	CHECK_STR(name, "0 0 1,2,", update(&w, 0, 0, b, ARRAY_SIZE(b)));
	/* Still limited: not again; the cgroup of the same id is its own. */
	snprintf(name, sizeof(name), "%s.kind_is_part_of_the_key", c);
	CHECK_STR(name, "0 0 2,", update(&w, 0, 0, d, ARRAY_SIZE(d)));
	snprintf(name, sizeof(name), "%s.ended", c);
	CHECK_STR(name, "0 0 ", update(&w, 0, 0, e, ARRAY_SIZE(e)));
	/* uid 1000's episode ended, cgroup 1000 left the table (LRU): both
	 * limited again are news again; uid 33 all along is not. */
	snprintf(name, sizeof(name), "%s.again_after_an_end", c);
	CHECK_STR(name, "0 0 1,2,", update(&w, 0, 0, d, ARRAY_SIZE(d)));
	mxo_watch_free(&w);
}

static void busiest__by_rate_over_the_minute(const char *c)
{
	struct mxo_rec_row r[3];
	char name[128];

	memset(r, 0, sizeof(r));
	r[0].r.syns = 900;
	r[0].per_min = 2;
	r[1].per_min = 40;
	r[2].per_min = 39;
	snprintf(name, sizeof(name), "%s.highest_per_min", c);
	CHECK(name, mxo_busiest(r, 3) == &r[1]);
	r[0].per_min = r[1].per_min = r[2].per_min = 0;
	snprintf(name, sizeof(name), "%s.none_when_quiet", c);
	CHECK(name, mxo_busiest(r, 3) == NULL);
	snprintf(name, sizeof(name), "%s.none_when_empty", c);
	CHECK(name, mxo_busiest(NULL, 0) == NULL);
}

static const struct check_case cases[] = {
	CHECK_CASE(first_reading__is_not_news),
	CHECK_CASE(episodes__counted_from_the_counters),
	CHECK_CASE(local__newly_limited_rows),
	CHECK_CASE(busiest__by_rate_over_the_minute),
};

int main(int argc, char **argv)
{
	if (argc > 1)
		check_filter = argv[1];
	CHECK_CASES(cases);
	return CHECK_DONE();
}

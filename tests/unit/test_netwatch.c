// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/netwatch.c: which networks the service reports as
 * starting to refuse, and as refilled, from one reading of the network
 * slots to the next. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "netwatch.h"

#define S 1000000000ull
#define NOW (1000 * S)

/* Slot i of the next reading: owner net/24 on svc, its bucket still
 * draining (10 s to go) or full, drops refused since the owner took it. */
static void put(struct mxg_netwatch *w, __u32 i, const char *net, __u32 svc,
		int draining, __u32 drops)
{
	struct mxg_pfx_val *v = &w->cur[i];

	memset(v, 0, sizeof(*v));
	v->addr.w[2] = htonl(0xffff);
	inet_pton(AF_INET, net, &v->addr.w[3]);
	v->svc = (__u16)svc;
	v->plen = 24;
	v->tat_ns = draining ? NOW + 10 * S : NOW - S;
	v->drops = drops;
	v->syns = drops + 1;
}

/* The same slots as the last reading (the reading kept by update). */
static void again(struct mxg_netwatch *w)
{
	memcpy(w->cur, w->prev, MXG_PFX_SLOTS * sizeof(*w->cur));
}

/* One reading; the news as "limited S:slot,slot E:slot,slot". */
static const char *update(struct mxg_netwatch *w)
{
	static char out[256];
	struct mxg_netwatch_news n;
	size_t i, o;

	if (mxg_netwatch_update(w, NOW, &n))
		return "<error>";
	o = snprintf(out, sizeof(out), "%zu S:", n.limited);
	for (i = 0; i < n.nstarted && o < sizeof(out); i++)
		o += snprintf(out + o, sizeof(out) - o, "%u,", n.started[i].slot);
	o += snprintf(out + o, sizeof(out) - o, " E:");
	for (i = 0; i < n.nended && o < sizeof(out); i++)
		o += snprintf(out + o, sizeof(out) - o, "%u,", n.ended[i].slot);
	mxg_netwatch_news_free(&n);
	return out;
}

/* One reading, checked against want, as check c.what. */
static void expect(struct mxg_netwatch *w, const char *c, const char *what,
		   const char *want)
{
	char name[128];

	snprintf(name, sizeof(name), "%s.%s", c, what);
	CHECK_STR(name, want, update(w));
}

static void first_reading__is_not_news(const char *c)
{
	struct mxg_netwatch w;

	if (mxg_netwatch_init(&w)) {
		CHECK(c, 0);
		return;
	}
	put(&w, 5, "198.18.7.0", MXG_SVC_SMTP, 1, 9);
	expect(&w, c, "counted_not_news", "1 S: E:");
	again(&w);
	expect(&w, c, "still_limited", "1 S: E:");
	mxg_netwatch_free(&w);
}

static void episodes__start_and_end(const char *c)
{
	struct mxg_netwatch w;
	struct mxg_netwatch_news n;
	char name[128];

	if (mxg_netwatch_init(&w)) {
		CHECK(c, 0);
		return;
	}
	put(&w, 7, "198.18.8.0", MXG_SVC_SMTP, 0, 0);
	update(&w);
	again(&w);
	put(&w, 7, "198.18.8.0", MXG_SVC_SMTP, 1, 3);
	put(&w, 9, "198.18.9.0", MXG_SVC_SMTP, 1, 30);
	/* Most refused first. */
	expect(&w, c, "two_started", "2 S:9,7, E:");
	again(&w);
	expect(&w, c, "draining_continues", "2 S: E:");
	/* Slot 9 refilled without a new refusal; slot 7 taken over by
	 * another network that refused too: an end and a start on one slot. */
	again(&w);
	put(&w, 9, "198.18.9.0", MXG_SVC_SMTP, 0, 30);
	put(&w, 7, "198.18.10.0", MXG_SVC_SMTP, 1, 1);
	if (mxg_netwatch_update(&w, NOW, &n)) {
		CHECK(c, 0);
		mxg_netwatch_free(&w);
		return;
	}
	snprintf(name, sizeof(name), "%s.takeover_started", c);
	CHECK(name, n.nstarted == 1 && n.started[0].slot == 7 &&
		    n.started[0].v.addr.w[3] == htonl(0xc6120a00));
	snprintf(name, sizeof(name), "%s.ended_two", c);
	CHECK(name, n.nended == 2);
	/* The end of a network that kept its slot has its final counters;
	 * one that lost it, the last reading of its own. */
	snprintf(name, sizeof(name), "%s.refilled_final_counters", c);
	CHECK(name, n.nended == 2 && n.ended[0].slot == 9 && n.ended[0].v.drops == 30 &&
		    n.ended[0].v.tat_ns < NOW);
	snprintf(name, sizeof(name), "%s.taken_over_old_owner", c);
	CHECK(name, n.nended == 2 && n.ended[1].slot == 7 &&
		    n.ended[1].v.addr.w[3] == htonl(0xc6120800) && n.ended[1].v.drops == 3);
	snprintf(name, sizeof(name), "%s.in_episode_now", c);
	CHECK_EQ(name, 1, n.limited);
	mxg_netwatch_news_free(&n);
	mxg_netwatch_free(&w);
}

static void refusals__make_the_episode(const char *c)
{
	struct mxg_netwatch w;

	if (mxg_netwatch_init(&w)) {
		CHECK(c, 0);
		return;
	}
	update(&w);
	/* An empty bucket that refused nothing (its SYNs all fit) is no
	 * episode. */
	put(&w, 3, "198.18.11.0", MXG_SVC_SMTP, 1, 0);
	expect(&w, c, "draining_without_refusal", "0 S: E:");
	/* Refusals early in an interval, full again by its end: the episode
	 * is seen, and ends at the next reading without a refusal. */
	again(&w);
	put(&w, 3, "198.18.11.0", MXG_SVC_SMTP, 0, 2);
	expect(&w, c, "refused_then_refilled", "1 S:3, E:");
	again(&w);
	expect(&w, c, "then_ends", "0 S: E:3,");
	/* The same address under another length is another network. */
	again(&w);
	put(&w, 3, "198.18.11.0", MXG_SVC_SMTP, 1, 6);
	update(&w);
	again(&w);
	w.cur[3].plen = 22;
	expect(&w, c, "length_is_part_of_the_owner", "1 S:3, E:3,");
	/* A slot nobody owns (svc 0) is never in an episode. */
	again(&w);
	memset(&w.cur[3], 0, sizeof(w.cur[3]));
	expect(&w, c, "unused_slot", "0 S: E:3,");
	mxg_netwatch_free(&w);
}

static const struct check_case cases[] = {
	CHECK_CASE(first_reading__is_not_news),
	CHECK_CASE(episodes__start_and_end),
	CHECK_CASE(refusals__make_the_episode),
};

int main(int argc, char **argv)
{
	if (argc > 1)
		check_filter = argv[1];
	CHECK_CASES(cases);
	return CHECK_DONE();
}

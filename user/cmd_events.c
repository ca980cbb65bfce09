// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* events: follow the ring buffers, the XDP program's (sources starting and
 * ending a limit episode) and the outbound programs' (warn, cap, local
 * limits), polled together, and report events a buffer had to drop. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "mxguard.h"
#include "addr.h"
#include "cmd.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

#define NSEC 1000000000ull
/* How often the lost-events counters are read. */
#define LOST_POLL_MS 1000
/* Returned by the callbacks to stop at --count; never leaves this file. */
#define EV_STOP (-ECANCELED)

struct ev_ctx {
	int json;
	__u64 seen, want;   /* want 0: no --count */
	__u64 lost_base;    /* MXG_C_EVENTS_LOST last reported */
	__u64 olost_base;   /* MXO_C_EVENTS_LOST last reported */
	struct mxg_maps *m; /* NULL: not following the XDP side */
	struct mxo_maps *o; /* NULL: not following the outbound side */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* "2026-11-23T09:00:00.123Z" for wall-clock ns. */
static void format_ms(__u64 real_ns, char *buf, size_t len)
{
	time_t t = real_ns / NSEC;
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm) ||
	    !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(real_ns % NSEC / 1000000));
}

/* Wall-clock time of a monotonic stamp, in ms. The programs stamp with the
 * coarse clock, so an event may look up to a tick older than it is. */
static void event_time(__u64 mono_ns, char *buf, size_t len)
{
	__u64 now_mono = clock_ns(CLOCK_MONOTONIC);
	__u64 now_real = clock_ns(CLOCK_REALTIME);
	__u64 real = mono_ns <= now_mono ? now_real - (now_mono - mono_ns) :
					   now_real + (mono_ns - now_mono);

	format_ms(real, buf, len);
}

static const char *ev_type_name(__u32 type)
{
	switch (type) {
	case MXG_EV_LIMIT_START: return "limit_start";
	case MXG_EV_LIMIT_END: return "limit_end";
	default: return "unknown";
	}
}

static int seen_one(struct ev_ctx *c)
{
	fflush(stdout);
	c->seen++;
	return c->want && c->seen >= c->want ? EV_STOP : 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct ev_ctx *c = ctx;
	const struct mxg_event *e = data;
	char ts[40], as[MXG_CIDR_STRLEN];

	if (size < sizeof(*e)) {
		mxg_warn("skipping a %zu-byte ring buffer record (an event is %zu bytes)",
			 size, sizeof(*e));
		return 0;
	}
	event_time(e->ts_ns, ts, sizeof(ts));
	mxg_addr_format(&e->addr, as, sizeof(as));
	if (c->json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "time", ts);
		mxg_json_str(&j, "type", ev_type_name(e->type));
		mxg_json_str(&j, "addr", as);
		mxg_json_str(&j, "service", mxg_svc_name(e->svc));
		mxg_json_u64(&j, "syns", e->syns);
		mxg_json_u64(&j, "drops", e->drops);
		mxg_json_u64(&j, "would_drops", e->would_drops);
		mxg_json_str(&j, "mode", mxg_mode_name(e->mode));
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		printf("%s %-11s %s %s syns=%u drops=%u would_drops=%u mode=%s\n",
		       ts, ev_type_name(e->type), as, mxg_svc_name(e->svc), e->syns,
		       e->drops, e->would_drops, mxg_mode_name(e->mode));
	}
	return seen_one(c);
}

/* The user name or cgroup path of a local event's uid or cgroup (free()). */
static char *local_name(const struct mxo_event *e)
{
	const char *u;
	char *name = NULL;

	if (e->kind == MXO_LK_UID) {
		u = mxo_user_name((__u32)e->id);
		return u ? strdup(u) : NULL;
	}
	mxo_cgroup_names(&e->id, 1, &name);
	return name;
}

static void oevent_json(const struct mxo_event *e, int local, const char *ts,
			const char *src, const char *dst, const char *name)
{
	struct mxg_json j;

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_str(&j, "time", ts);
	mxg_json_str(&j, "type", mxo_ev_type_name(e->type));
	if (local) {
		mxg_json_str(&j, "kind", mxo_lkind_name(e->kind));
		mxg_json_u64(&j, "id", e->id);
		mxg_json_str(&j, "name", name);
	} else {
		mxg_json_str(&j, "src", src);
	}
	mxg_json_str(&j, "dst", dst);
	mxg_json_u64(&j, "port", e->dport);
	mxg_json_u64(&j, "per_min", e->per_min);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static int on_oevent(void *ctx, void *data, size_t size)
{
	struct ev_ctx *c = ctx;
	const struct mxo_event *e = data;
	char ts[40], src[MXG_CIDR_STRLEN], dst[MXG_CIDR_STRLEN];
	char *name = NULL;
	int local;

	if (size < sizeof(*e)) {
		mxg_warn("skipping a %zu-byte outbound ring buffer record (an event is %zu bytes)",
			 size, sizeof(*e));
		return 0;
	}
	local = e->type == MXO_EV_LOCAL_START || e->type == MXO_EV_LOCAL_END;
	event_time(e->ts_ns, ts, sizeof(ts));
	mxg_addr_format(&e->src, src, sizeof(src));
	mxg_addr_format(&e->dst, dst, sizeof(dst));
	if (local)
		name = local_name(e);
	if (c->json)
		oevent_json(e, local, ts, src, dst, name);
	else if (local)
		printf("%s %-17s %s %llu (%s) to %s port %u, %u/min\n", ts,
		       mxo_ev_type_name(e->type), mxo_lkind_name(e->kind),
		       (unsigned long long)e->id, name ? name : "?", dst, e->dport,
		       e->per_min);
	else
		printf("%s %-17s %s -> %s port %u, total %u/min\n", ts,
		       mxo_ev_type_name(e->type), src, dst, e->dport, e->per_min);
	free(name);
	return seen_one(c);
}

static void print_lost(const struct ev_ctx *c, const char *ring, __u64 n,
		       __u64 total)
{
	char ts[40];

	format_ms(clock_ns(CLOCK_REALTIME), ts, sizeof(ts));
	if (c->json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "time", ts);
		mxg_json_str(&j, "type", "lost");
		if (ring)
			mxg_json_str(&j, "ring", ring);
		mxg_json_u64(&j, "lost", n);
		mxg_json_u64(&j, "events_lost", total);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		printf("%s lost        %llu %sevents: the ring buffer was full (%llu lost in all)\n",
		       ts, (unsigned long long)n, ring ? "outbound " : "",
		       (unsigned long long)total);
		fflush(stdout);
	}
}

/* The programs count events they could not put in a ring buffer; report
 * growth of those counters as records of their own. */
static int check_lost(struct ev_ctx *c)
{
	__u64 cnt[MXG_NCOUNTERS], ocnt[MXO_NCOUNTERS], total;
	int err;

	if (c->m) {
		err = mxg_stats_read(c->m, cnt);
		if (err)
			return err;
		total = cnt[MXG_MISC_IDX(MXG_C_EVENTS_LOST)];
		if (total > c->lost_base)
			print_lost(c, NULL, total - c->lost_base, total);
		c->lost_base = total;
	}
	if (c->o) {
		err = mxo_stats_read(c->o, ocnt);
		if (err)
			return err;
		total = ocnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)];
		if (total > c->olost_base)
			print_lost(c, "outbound", total - c->olost_base, total);
		c->olost_base = total;
	}
	return 0;
}

/* One ring buffer manager over the rings of the sides followed. */
static struct ring_buffer *rings_open(struct ev_ctx *c)
{
	struct ring_buffer *rb = NULL;
	int err = 0;

	if (c->m)
		rb = ring_buffer__new(c->m->events, on_event, c, NULL);
	if (c->m && !rb) {
		mxg_err("cannot open the event ring buffer %s/mxg_events: %s",
			mxg_pin_dir(), strerror(errno));
		return NULL;
	}
	if (c->o && rb)
		err = ring_buffer__add(rb, c->o->events, on_oevent, c);
	else if (c->o)
		rb = ring_buffer__new(c->o->events, on_oevent, c, NULL);
	if (c->o && (!rb || err)) {
		mxg_err("cannot open the event ring buffer %s/mxo_events: %s",
			mxg_pin_dir(), strerror(err ? -err : errno));
		ring_buffer__free(rb);
		return NULL;
	}
	return rb;
}

/* Poll until --count, --timeout, SIGINT or SIGTERM. */
static int follow(struct ev_ctx *c, struct ring_buffer *rb, __u64 timeout_s)
{
	__u64 deadline = 0, next_lost, now;
	struct sigaction sa;
	int err = 0;

	/* No SA_RESTART: a signal must end the wait in epoll at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	now = clock_ns(CLOCK_MONOTONIC);
	if (timeout_s)
		deadline = now + timeout_s * NSEC;
	next_lost = now + LOST_POLL_MS * 1000000ull;
	while (!stop) {
		__u64 until = deadline && deadline < next_lost ? deadline : next_lost;
		int n;

		now = clock_ns(CLOCK_MONOTONIC);
		n = ring_buffer__poll(rb, until > now ? (int)((until - now + 999999) / 1000000) : 0);
		if (n == EV_STOP)
			break;
		if (n < 0 && n != -EINTR) {
			err = mxg_sys(n);
			mxg_err("cannot read the event ring buffer: %s", strerror(-n));
			break;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next_lost) {
			err = check_lost(c);
			if (err)
				break;
			next_lost = now + LOST_POLL_MS * 1000000ull;
		}
		if (deadline && now >= deadline)
			break;
	}
	/* Losses of the last moments are reported too: never silent. */
	if (!err)
		err = check_lost(c);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return err;
}

struct ev_opts {
	int json;
	__u64 want, timeout_s;
	unsigned sides;
};

static int parse_side(const struct mxg_cmd *cmd, const char *s, unsigned *sides)
{
	if (!strcmp(s, "inbound"))
		*sides = MXG_EV_INBOUND;
	else if (!strcmp(s, "outbound"))
		*sides = MXG_EV_OUTBOUND;
	else if (!strcmp(s, "both"))
		*sides = MXG_EV_INBOUND | MXG_EV_OUTBOUND;
	else
		return mxg_usage(cmd, "invalid --side '%s': use inbound, outbound or both", s);
	return 0;
}

/* 1 after --help. --side only where both sides may be followed. */
static int parse_opts(const struct mxg_cmd *cmd, int argc, char **argv,
		      struct ev_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "side", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int both = o->sides == (MXG_EV_INBOUND | MXG_EV_OUTBOUND), opt, err;
	const char *why;
	__u32 count;

	while ((opt = mxg_getopt(cmd, argc, argv, both ? "jn:t:s:h" : "jn:t:h", opts)) != -1) {
		switch (opt) {
		case 'j': o->json = 1; break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, UINT32_MAX, &count, &why))
				return mxg_usage(cmd, "invalid --count '%s': %s", optarg, why);
			o->want = count;
			break;
		case 't':
			if (mxg_parse_duration(optarg, &o->timeout_s, &why))
				return mxg_usage(cmd, "invalid --timeout '%s': %s", optarg, why);
			break;
		case 's':
			if (!both)
				return mxg_usage(cmd, "--side goes with 'mxguard events'");
			err = parse_side(cmd, optarg, &o->sides);
			if (err)
				return err;
			break;
		case 'h': mxg_cmd_help(cmd); return 1;
		default: return -EINVAL;
		}
	}
	return mxg_want_args(cmd, argc, argv, 0, "");
}

/* The maps of the sides asked for. Following both, the outbound side is
 * skipped when it was never attached; asked for alone, it must be there. */
static int sides_open(const struct ev_opts *o, struct mxg_maps *m,
		      struct mxo_maps *om, struct ev_ctx *c)
{
	__u64 cnt[MXG_NCOUNTERS], ocnt[MXO_NCOUNTERS];
	int err;

	if (o->sides & MXG_EV_INBOUND) {
		err = mxg_maps_open_ro(m);
		if (err)
			return err;
		c->m = m;
		err = mxg_stats_read(m, cnt);
		if (err)
			return err;
		c->lost_base = cnt[MXG_MISC_IDX(MXG_C_EVENTS_LOST)];
	}
	if (!(o->sides & MXG_EV_OUTBOUND) ||
	    (o->sides != MXG_EV_OUTBOUND && !mxo_maps_present()))
		return 0;
	err = mxo_maps_open(om, 0);
	if (err)
		return err;
	c->o = om;
	err = mxo_stats_read(om, ocnt);
	if (err)
		return err;
	c->olost_base = ocnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)];
	return 0;
}

int mxg_events_follow(const struct mxg_cmd *cmd, int argc, char **argv,
		      unsigned sides)
{
	struct ev_opts o = { .sides = sides };
	struct ev_ctx c = { 0 };
	struct ring_buffer *rb = NULL;
	struct mxo_maps om = { .lock_fd = -1 };
	struct mxg_maps m;
	int err;

	err = parse_opts(cmd, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = sides_open(&o, &m, &om, &c);
	if (!err) {
		c.json = o.json;
		c.want = o.want;
		rb = rings_open(&c);
		err = rb ? follow(&c, rb, o.timeout_s) : -EIO;
	}
	ring_buffer__free(rb);
	if (c.m)
		mxg_maps_close(&m);
	if (c.o)
		mxo_maps_close(&om);
	if (!err && fflush(stdout)) {
		mxg_err("cannot write to stdout: %s", strerror(errno));
		err = -EIO;
	}
	return err;
}

static int do_events(int argc, char **argv)
{
	return mxg_events_follow(&mxg_cmd_events, argc, argv,
				 MXG_EV_INBOUND | MXG_EV_OUTBOUND);
}

const struct mxg_cmd mxg_cmd_events = {
	.name = "events",
	.synopsis = "events [--json] [--count N] [--timeout DURATION] [--side inbound|outbound|both]",
	.summary = "follow limit events as they happen",
	.help =
	"Print the events of the XDP program as they happen, one line each:\n"
	"  limit_start  a source first exceeds its limit on a service\n"
	"  limit_end    a limited source conforms again after a full refill\n"
	"with the time (UTC, milliseconds), the source key (IPv4 /32, IPv6 /64 by\n"
	"default), the service, the source record's syns, drops and would_drops\n"
	"at that moment, and the mode. A source sends one limit_start per episode,\n"
	"not one per dropped SYN, so a flood cannot flood the log.\n"
	"Network buckets send no events (a spoofed flood over thousands of\n"
	"networks would fill the ring): 'mxguard run' logs and alerts a network\n"
	"that begins to refuse (\"network limited\"), and 'mxguard top\n"
	"--networks' lists them.\n\n"
	"When the outbound programs were attached ('mxguard outbound attach',\n"
	"'mxguard local attach'), their events are merged in, in the order they\n"
	"are read (the same records as 'mxguard outbound events'):\n"
	"  warn_start, warn_end  the server's new outbound SMTP connections go\n"
	"               over the warn rate, and back under it\n"
	"  cap_start, cap_end    the cap starts and stops dropping them\n"
	"  local_limit_start, local_limit_end  a uid or cgroup is first refused\n"
	"               by its limit, and conforms again\n\n"
	"A ring buffer holds 1 MiB (outbound: 256 KiB) of events. When one is\n"
	"full its program drops events and counts them; the counters are read\n"
	"every second and their growth printed as a `lost` record, so missing\n"
	"events are never silent.\n\n"
	"Events nobody has read yet (written while no `events` was running) are\n"
	"printed first, with the time they happened.\n\n"
	"Only one consumer should read a ring buffer at a time: events are\n"
	"removed as they are read, so two concurrent `mxguard events` (or an\n"
	"`mxguard events` and an `mxguard outbound events`) each see an\n"
	"unpredictable part of them. `mxguard run` reads neither: its alerts come\n"
	"from the maps.\n\n"
	"Options:\n"
	"  --json             JSON Lines: one complete JSON document per line,\n"
	"                     flushed as it happens:\n"
	"                     {time, type, addr, service, syns, drops,\n"
	"                     would_drops, mode} for the XDP program's events;\n"
	"                     {time, type, src, dst, port, per_min} for warn and\n"
	"                     cap (src, dst: the connection that crossed; per_min:\n"
	"                     the host's total rate), {time, type, kind (uid or\n"
	"                     cgroup), id, name, dst, port, per_min} for local\n"
	"                     limits; and for losses {time, type: \"lost\", lost\n"
	"                     (since the last report), events_lost (the counter's\n"
	"                     total, as in 'mxguard stats')}, with ring:\n"
	"                     \"outbound\" for the outbound ring buffer\n"
	"  --count N          exit after N events (lost records do not count)\n"
	"  --timeout DURATION exit after DURATION (90, 30s, 10m, 1h)\n"
	"  --side S           inbound (the XDP program only), outbound (the\n"
	"                     outbound programs only, needs them attached once),\n"
	"                     or both (default; outbound only when attached once)\n\n"
	"Without --count or --timeout it runs until SIGINT or SIGTERM; either\n"
	"ends it cleanly (exit 0).\n\n"
	"Example:\n"
	"  mxguard events --json | jq -c 'select(.type == \"limit_start\")'\n",
	.run = do_events,
};

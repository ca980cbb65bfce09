// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* events: follow the program's ring buffer (sources starting and ending a
 * limit episode) and report events the buffer had to drop. */
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
#include "units.h"

#define NSEC 1000000000ull
/* How often the lost-events counter is read. */
#define LOST_POLL_MS 1000
/* Returned by the callback to stop at --count; never leaves this file. */
#define EV_STOP (-ECANCELED)

struct ev_ctx {
	int json;
	__u64 seen, want;   /* want 0: no --count */
	__u64 lost_base;    /* MXG_C_EVENTS_LOST last reported */
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

/* Wall-clock time of a monotonic stamp, in ms. The program stamps with the
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
		fflush(stdout);
	}
	c->seen++;
	return c->want && c->seen >= c->want ? EV_STOP : 0;
}

/* The program counts events it could not put in the ring buffer; report
 * growth of that counter as a record of its own. */
static int check_lost(const struct mxg_maps *m, struct ev_ctx *c)
{
	__u64 cnt[MXG_NCOUNTERS], total, n;
	char ts[40];
	int err;

	err = mxg_stats_read(m, cnt);
	if (err)
		return err;
	total = cnt[MXG_MISC_IDX(MXG_C_EVENTS_LOST)];
	if (total <= c->lost_base)
		return 0;
	n = total - c->lost_base;
	c->lost_base = total;
	format_ms(clock_ns(CLOCK_REALTIME), ts, sizeof(ts));
	if (c->json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "time", ts);
		mxg_json_str(&j, "type", "lost");
		mxg_json_u64(&j, "lost", n);
		mxg_json_u64(&j, "events_lost", total);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		printf("%s lost        %llu events: the ring buffer was full (%llu lost in all)\n",
		       ts, (unsigned long long)n, (unsigned long long)total);
		fflush(stdout);
	}
	return 0;
}

static int do_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ev_ctx c = { 0 };
	struct ring_buffer *rb = NULL;
	struct sigaction sa;
	__u64 deadline = 0, next_lost, now, timeout_s = 0;
	__u64 cnt[MXG_NCOUNTERS];
	struct mxg_maps m;
	const char *why;
	__u32 count;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_events, argc, argv, "jn:t:h", opts)) != -1) {
		switch (opt) {
		case 'j': c.json = 1; break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, UINT32_MAX, &count, &why))
				return mxg_usage(&mxg_cmd_events, "invalid --count '%s': %s",
						 optarg, why);
			c.want = count;
			break;
		case 't':
			if (mxg_parse_duration(optarg, &timeout_s, &why))
				return mxg_usage(&mxg_cmd_events, "invalid --timeout '%s': %s",
						 optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_events); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_events, argc, argv, 0, "");
	if (err)
		return err;
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	err = mxg_stats_read(&m, cnt);
	if (err)
		goto out;
	c.lost_base = cnt[MXG_MISC_IDX(MXG_C_EVENTS_LOST)];
	rb = ring_buffer__new(m.events, on_event, &c, NULL);
	if (!rb) {
		err = -errno;
		mxg_err("cannot open the event ring buffer %s/mxg_events: %s",
			mxg_pin_dir(), strerror(errno));
		err = mxg_sys(err);
		goto out;
	}
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
		__u64 until = next_lost;
		int n;

		if (deadline && deadline < until)
			until = deadline;
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
			err = check_lost(&m, &c);
			if (err)
				break;
			next_lost = now + LOST_POLL_MS * 1000000ull;
		}
		if (deadline && now >= deadline)
			break;
	}
	/* Losses of the last moments are reported too: never silent. */
	if (!err)
		err = check_lost(&m, &c);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
out:
	ring_buffer__free(rb);
	mxg_maps_close(&m);
	if (!err && fflush(stdout)) {
		mxg_err("cannot write to stdout: %s", strerror(errno));
		err = -EIO;
	}
	return err;
}

const struct mxg_cmd mxg_cmd_events = {
	.name = "events",
	.synopsis = "events [--json] [--count N] [--timeout DURATION]",
	.summary = "follow limit events as they happen",
	.help =
	"Print the events of the XDP program as they happen, one line each:\n"
	"  limit_start  a source first exceeds its limit on a service\n"
	"  limit_end    a limited source conforms again after a full refill\n"
	"with the time (UTC, milliseconds), the source key (IPv4 /32, IPv6 /64 by\n"
	"default), the service, the source record's syns, drops and would_drops\n"
	"at that moment, and the mode. A source sends one limit_start per episode,\n"
	"not one per dropped SYN, so a flood cannot flood the log.\n\n"
	"The ring buffer holds 1 MiB of events. When it is full the program drops\n"
	"events and counts them; that counter is read every second and its growth\n"
	"printed as a `lost` record, so missing events are never silent.\n\n"
	"Events nobody has read yet (written while no `events` was running) are\n"
	"printed first, with the time they happened.\n\n"
	"Only one consumer should read the ring buffer at a time: events are\n"
	"removed as they are read, so two concurrent `mxguard events` each see\n"
	"an unpredictable part of them.\n\n"
	"Options:\n"
	"  --json             JSON Lines: one complete JSON document per line,\n"
	"                     flushed as it happens:\n"
	"                     {time, type, addr, service, syns, drops,\n"
	"                     would_drops, mode}, and for losses\n"
	"                     {time, type: \"lost\", lost (since the last report),\n"
	"                     events_lost (the counter's total, as in 'mxguard\n"
	"                     stats')}\n"
	"  --count N          exit after N events (lost records do not count)\n"
	"  --timeout DURATION exit after DURATION (90, 30s, 10m, 1h)\n\n"
	"Without --count or --timeout it runs until SIGINT or SIGTERM; either\n"
	"ends it cleanly (exit 0).\n\n"
	"Example:\n"
	"  mxguard events --json | jq -c 'select(.type == \"limit_start\")'\n",
	.run = do_events,
};

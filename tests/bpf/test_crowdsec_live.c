// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Driver of user/crowdsec.c over the pinned maps, run by
 * tests/e2e/test_crowdsec.sh inside its sandbox: `fake` checks the bouncer
 * against an in-process fake local API with a fake clock (backoff, resync,
 * other feeds, allowlist), `live URL KEYFILE SECONDS` follows a real crowdsec
 * and prints one JSON line per pull. Alone it has nothing to run on. */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "check.h"
#include "crowdsec.h"
#include "lists.h"
#include "log.h"
#include "maps.h"

#define NS_PER_S 1000000000ull

/* ---- the fake local API ---------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	pthread_t thr;
	int lfd, port;
	int want_down, is_down, stop;
	int stall_s;            /* wait this long before answering */
	int status;
	char body[4096];
	char target[512];       /* of the last request */
	char key[160];          /* its X-Api-Key */
	unsigned requests;
} F = { .mu = PTHREAD_MUTEX_INITIALIZER, .lfd = -1 };

static int fake_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((__u16)F.port); /* 0 the first time */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	F.port = ntohs(sa.sin_port);
	return fd;
}

/* The value of header `name` in a raw request, or "". */
static void header(const char *req, const char *name, char *out, size_t len)
{
	const char *p = req;
	size_t n = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, len, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return;
		}
	}
}

static void fake_answer(int c)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[4096], out[4096 + 256], tgt[512];
	size_t got = 0;
	ssize_t n;
	int len;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	tgt[0] = '\0';
	sscanf(req, "GET %511s", tgt);
	pthread_mutex_lock(&F.mu);
	snprintf(F.target, sizeof(F.target), "%s", tgt);
	header(req, "X-Api-Key", F.key, sizeof(F.key));
	F.requests++;
	len = snprintf(out, sizeof(out),
		       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		       F.status, strlen(F.body), F.body);
	n = F.stall_s;
	pthread_mutex_unlock(&F.mu);
	if (n)
		sleep((unsigned)n);
	/* The client may have given up (the timeout case): no SIGPIPE. */
	if (send(c, out, (size_t)len, MSG_NOSIGNAL) < 0)
		return;
}

static void *fake_serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = { .events = POLLIN };
		int c;

		pthread_mutex_lock(&F.mu);
		if (F.stop) {
			pthread_mutex_unlock(&F.mu);
			break;
		}
		if (F.want_down && F.lfd >= 0) {
			close(F.lfd);
			F.lfd = -1;
		} else if (!F.want_down && F.lfd < 0) {
			F.lfd = fake_listen();
		}
		F.is_down = F.lfd < 0;
		p.fd = F.lfd;
		pthread_mutex_unlock(&F.mu);
		if (p.fd < 0) {
			usleep(10000);
			continue;
		}
		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept4(p.fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		fake_answer(c);
		close(c);
	}
	return NULL;
}

/* Up or down (connection refused), waiting until the server thread did it. */
static void fake_set_down(int down)
{
	int i;

	pthread_mutex_lock(&F.mu);
	F.want_down = down;
	pthread_mutex_unlock(&F.mu);
	for (i = 0; i < 200; i++) {
		int now;

		pthread_mutex_lock(&F.mu);
		now = F.is_down;
		pthread_mutex_unlock(&F.mu);
		if (now == down)
			return;
		usleep(5000);
	}
}

static void fake_reply(int status, const char *body)
{
	pthread_mutex_lock(&F.mu);
	F.status = status;
	snprintf(F.body, sizeof(F.body), "%s", body);
	pthread_mutex_unlock(&F.mu);
}

/* ---- map helpers ----------------------------------------------------------- */

static struct mxg_maps M;
static int feed_cs;

static struct mxg_cidr cidr(const char *s)
{
	struct mxg_cidr c = { 0 };
	const char *why;

	if (mxg_cidr_parse(s, &c, &why))
		fprintf(stderr, "bad CIDR in the test: %s: %s\n", s, why);
	return c;
}

/* 1 and *v when the exact entry is in the blocklist. */
static int entry(const char *s, struct mxg_block_val *v)
{
	struct mxg_cidr c = cidr(s);

	return !mxg_block_get(&M, &c, v);
}

static int put(const char *s, int feed, const char *reason, __u64 ttl_s)
{
	struct mxg_block_val v = { .feed_id = (__u32)feed, .added_s = mxg_unix_s() };
	struct mxg_cidr c = cidr(s);

	if (ttl_s)
		v.expires_ns = mxg_mono_ns() + ttl_s * NS_PER_S;
	if (reason && mxg_reason_id(&M, reason, &v.reason_id))
		return -EIO;
	return mxg_block_put(&M, &c, &v);
}

/* Seconds left on an entry, -1 if absent, -2 if it never expires. */
static long long left_s(const char *s)
{
	struct mxg_block_val v;
	__u64 now = mxg_mono_ns();

	if (!entry(s, &v))
		return -1;
	if (!v.expires_ns)
		return -2;
	return v.expires_ns > now ? (long long)((v.expires_ns - now) / NS_PER_S) : 0;
}

static long long feed_of(const char *s)
{
	struct mxg_block_val v;

	return entry(s, &v) ? (long long)v.feed_id : -1;
}

static char nm[256];

static const char *name(const char *c, const char *what)
{
	snprintf(nm, sizeof(nm), "%s.%s", c, what);
	return nm;
}

#define CHECK_RANGE(n, lo, hi, v) do {                                      \
	long long v_ = (v);                                                 \
	CHECK(n, v_ >= (lo) && v_ <= (hi));                                 \
	if (!(v_ >= (lo) && v_ <= (hi)))                                    \
		printf("  (%s: expected %lld..%lld, got %lld)\n", (n),      \
		       (long long)(lo), (long long)(hi), v_);               \
} while (0)

/* ---- fake cases: one sequence on a fake clock --------------------------- */

#define KEY "0123456789abcdef0123456789abcdef"

#define STARTUP1 "{\"deleted\":null,\"new\":[" \
	"{\"duration\":\"59m59.5s\",\"id\":1,\"origin\":\"crowdsec\",\"scenario\":\"crowdsecurity/postfix-spam\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.10.1\"}," \
	"{\"duration\":\"59m59.5s\",\"id\":2,\"origin\":\"crowdsec\",\"scenario\":\"crowdsecurity/postfix-spam\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.10.2\"}," \
	"{\"duration\":\"29m59s\",\"id\":3,\"origin\":\"cscli\",\"scenario\":\"manual 'ban' from 'm'\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.18.20.0/24\"}," \
	"{\"duration\":\"2h\",\"id\":4,\"origin\":\"CAPI\",\"scenario\":\"crowdsecurity/ssh-bf\",\"scope\":\"range\",\"type\":\"ban\",\"value\":\"2001:db8:10::/48\"}," \
	"{\"duration\":\"2h\",\"id\":5,\"origin\":\"cscli\",\"scenario\":\"x\",\"scope\":\"Range\",\"type\":\"ban\",\"value\":\"198.18.1.1/24\"}," \
	"{\"duration\":\"2h\",\"id\":6,\"origin\":\"cscli\",\"scenario\":\"x\",\"scope\":\"Ip\",\"type\":\"captcha\",\"value\":\"198.18.10.9\"}]}"

static struct mxg_crowdsec *CS;
static __u64 T = 1000; /* the fake clock, seconds */

static int poll_at(__u64 t, struct mxg_crowdsec_result *r)
{
	T = t;
	return mxg_crowdsec_poll(CS, &M, T, r);
}

static void fake_startup(const char *c)
{
	struct mxg_crowdsec_result r;
	struct mxg_allow_val av = { .added_s = 1 };
	struct mxg_cidr ac = cidr("198.18.20.128/25");
	struct mxg_block_val v;
	char text[MXG_REASON_LEN];
	int err;

	/* Before: a manual entry on an address the LAPI bans too, an
	 * allowlisted partner inside a banned range, a stale entry. */
	snprintf(av.comment, sizeof(av.comment), "partner MX");
	CHECK_EQ(name(c, "setup_manual"), 0, put("198.18.10.2", 0, "by hand", 0));
	CHECK_EQ(name(c, "setup_allow"), 0, mxg_allow_put(&M, &ac, &av));
	CHECK_EQ(name(c, "setup_stale"), 0, put("198.18.99.9", feed_cs, "crowdsec: old", 3600));
	fake_reply(200, STARTUP1);
	err = poll_at(1000, &r);
	CHECK_EQ(name(c, "ret"), 0, err);
	CHECK_STR(name(c, "error"), "", r.error);
	CHECK_EQ(name(c, "polled"), 1, r.polled);
	CHECK_EQ(name(c, "startup"), 1, r.startup);
	CHECK_STR(name(c, "target"), "/v1/decisions/stream?startup=true", F.target);
	CHECK_STR(name(c, "api_key_header"), KEY, F.key);
	CHECK_EQ(name(c, "added"), 3, r.added);
	CHECK_EQ(name(c, "others"), 1, r.others);
	CHECK_EQ(name(c, "shadowed"), 1, r.shadowed);
	CHECK_EQ(name(c, "rejected_host_bits"), 1, r.rejected);
	CHECK_EQ(name(c, "ignored_captcha"), 1, r.ignored);
	CHECK_EQ(name(c, "removed_stale"), 1, r.removed);
	CHECK_EQ(name(c, "changed"), 1, r.changed);
	CHECK_EQ(name(c, "ip_in_feed"), feed_cs, feed_of("198.18.10.1"));
	CHECK_RANGE(name(c, "ip_expiry_s"), 3590, 3600, left_s("198.18.10.1"));
	CHECK_RANGE(name(c, "range_expiry_s"), 1790, 1799, left_s("198.18.20.0/24"));
	CHECK_RANGE(name(c, "v6_range_expiry_s"), 7190, 7200, left_s("2001:db8:10::/48"));
	CHECK_EQ(name(c, "manual_left_alone"), 0, feed_of("198.18.10.2"));
	CHECK_EQ(name(c, "manual_never_expires"), -2, left_s("198.18.10.2"));
	CHECK_EQ(name(c, "stale_removed"), -1, feed_of("198.18.99.9"));
	CHECK_EQ(name(c, "host_bits_not_loaded"), -1, feed_of("198.18.1.0/24"));
	CHECK_EQ(name(c, "captcha_not_loaded"), -1, feed_of("198.18.10.9"));
	text[0] = '\0';
	if (entry("198.18.10.1", &v))
		mxg_reason_text(&M, v.reason_id, text, sizeof(text));
	CHECK_STR(name(c, "reason"), "crowdsec: crowdsecurity/postfix-spam", text);
	if (entry("198.18.10.2", &v))
		mxg_reason_text(&M, v.reason_id, text, sizeof(text));
	CHECK_STR(name(c, "manual_reason_kept"), "by hand", text);
}

static void fake_not_due(const char *c)
{
	struct mxg_crowdsec_result r;
	unsigned before = F.requests;

	CHECK_EQ(name(c, "ret"), 0, poll_at(1004, &r));
	CHECK_EQ(name(c, "polled"), 0, r.polled);
	CHECK_EQ(name(c, "no_request"), before, F.requests);
}

static void fake_delta(const char *c)
{
	struct mxg_crowdsec_result r;

	fake_reply(200, "{\"deleted\":["
		"{\"duration\":\"-1.5s\",\"id\":1,\"origin\":\"crowdsec\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.10.1\"},"
		"{\"duration\":\"-1.5s\",\"id\":2,\"origin\":\"crowdsec\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.10.2\"},"
		"{\"duration\":\"-1.5s\",\"id\":7,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"captcha\",\"value\":\"198.18.20.5\"}],"
		"\"new\":[{\"duration\":\"1h\",\"id\":8,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.30.3\"}]}");
	CHECK_EQ(name(c, "ret"), 0, poll_at(1010, &r));
	CHECK_EQ(name(c, "startup"), 0, r.startup);
	CHECK_STR(name(c, "target"), "/v1/decisions/stream", F.target);
	CHECK_EQ(name(c, "added"), 1, r.added);
	CHECK_EQ(name(c, "removed"), 1, r.removed);
	CHECK_EQ(name(c, "deleted_gone"), -1, feed_of("198.18.10.1"));
	CHECK_EQ(name(c, "other_feed_not_deleted"), 0, feed_of("198.18.10.2"));
	CHECK_EQ(name(c, "range_kept"), feed_cs, feed_of("198.18.20.0/24"));
	CHECK_EQ(name(c, "new_in_feed"), feed_cs, feed_of("198.18.30.3"));
}

static void fake_renew(const char *c)
{
	struct mxg_crowdsec_result r;
	struct mxg_block_val v;
	struct mxg_cidr k = cidr("198.18.30.3");

	/* Hits the program counted survive a renewal. */
	if (entry("198.18.30.3", &v)) {
		v.hits = 7;
		mxg_block_put(&M, &k, &v);
	}
	/* A shorter second decision does not cut the first one short... */
	fake_reply(200, "{\"deleted\":null,\"new\":[{\"duration\":\"5m\",\"id\":9,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.30.3\"}]}");
	CHECK_EQ(name(c, "shorter.ret"), 0, poll_at(1020, &r));
	CHECK_EQ(name(c, "shorter.renewed"), 1, r.renewed);
	CHECK_RANGE(name(c, "shorter.longer_kept_s"), 3590, 3600, left_s("198.18.30.3"));
	CHECK(name(c, "shorter.hits_kept"), entry("198.18.30.3", &v) && v.hits == 7);
	/* ...unless the longer one was deleted in the same batch: no gap. */
	fake_reply(200, "{\"deleted\":[{\"duration\":\"-1s\",\"id\":8,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.30.3\"}],"
		"\"new\":[{\"duration\":\"10m\",\"id\":10,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.30.3\"}]}");
	CHECK_EQ(name(c, "replaced.ret"), 0, poll_at(1030, &r));
	CHECK_EQ(name(c, "replaced.removed"), 0, r.removed);
	CHECK_RANGE(name(c, "replaced.expiry_s"), 590, 600, left_s("198.18.30.3"));
}

/* API down, then HTTP errors, then bad bodies: entries stay, the retry
 * interval doubles from 2 s to 60 s. */
static void fake_backoff(const char *c)
{
	static const unsigned want[] = { 2, 4, 8, 16, 32, 60, 60 };
	struct mxg_crowdsec_result r;
	size_t i;
	unsigned got[7] = { 0 };
	char seq[64] = "", wseq[64] = "";
	__u64 t = 1040;
	int err;

	fake_set_down(1);
	for (i = 0; i < 7; i++) {
		if (i == 3) {
			fake_set_down(0);
			fake_reply(500, "{\"message\":\"database is locked\"}");
		}
		if (i == 5)
			fake_reply(200, "<html>502 Bad Gateway</html>");
		/* One second early: not due yet. */
		if (i) {
			poll_at(t - 1, &r);
			CHECK_EQ(name(c, "early_not_polled"), 0, r.polled);
		}
		err = poll_at(t, &r);
		got[i] = r.backoff_s;
		if (i == 0) {
			CHECK_EQ(name(c, "refused.ret"), -ECONNREFUSED, err);
			CHECK(name(c, "refused.error"), r.error[0] != '\0');
			printf("  (error: %s)\n", r.error);
		}
		if (i == 3) {
			CHECK_EQ(name(c, "http500.ret"), -EPROTO, err);
			CHECK(name(c, "http500.error"), strstr(r.error, "HTTP 500") &&
			      strstr(r.error, "database is locked"));
			CHECK_EQ(name(c, "http500.still_startup"), 1, r.startup);
		}
		if (i == 5)
			CHECK_EQ(name(c, "bad_json.ret"), -EBADMSG, err);
		t += got[i] ? got[i] : 1;
	}
	for (i = 0; i < 7; i++) {
		snprintf(seq + strlen(seq), sizeof(seq) - strlen(seq), "%u ", got[i]);
		snprintf(wseq + strlen(wseq), sizeof(wseq) - strlen(wseq), "%u ", want[i]);
	}
	CHECK_STR(name(c, "sequence"), wseq, seq);
	CHECK_EQ(name(c, "entries_kept.range"), feed_cs, feed_of("198.18.20.0/24"));
	CHECK_EQ(name(c, "entries_kept.v6"), feed_cs, feed_of("2001:db8:10::/48"));
	CHECK_EQ(name(c, "entries_kept.ip"), feed_cs, feed_of("198.18.30.3"));
	T = t;
}

static void fake_forbidden(const char *c)
{
	struct mxg_crowdsec_result r;

	fake_reply(403, "{\"message\":\"access forbidden\"}");
	CHECK_EQ(name(c, "ret"), -EPROTO, poll_at(T, &r));
	CHECK(name(c, "error_names_key"), strstr(r.error, "HTTP 403") &&
	      strstr(r.error, "API key") && strstr(r.error, "access forbidden"));
	CHECK_EQ(name(c, "backoff_capped"), 60, r.backoff_s);
	T += r.backoff_s;
}

static void fake_timeout(const char *c)
{
	struct mxg_crowdsec_result r;
	__u64 t0 = mxg_mono_ns();
	int err;

	pthread_mutex_lock(&F.mu);
	F.stall_s = 3;
	pthread_mutex_unlock(&F.mu);
	fake_reply(200, "{\"new\":null,\"deleted\":null}");
	err = poll_at(T, &r);
	CHECK_EQ(name(c, "ret"), -ETIMEDOUT, err);
	CHECK_RANGE(name(c, "took_ms"), 1900, 2600, (long long)((mxg_mono_ns() - t0) / 1000000));
	pthread_mutex_lock(&F.mu);
	F.stall_s = 0;
	pthread_mutex_unlock(&F.mu);
	/* Let the server finish the stalled answer before the next case. */
	usleep(1200000);
	T += r.backoff_s;
}

static void fake_recovery(const char *c)
{
	struct mxg_crowdsec_result r;

	fake_reply(200, "{\"deleted\":null,\"new\":["
		"{\"duration\":\"1h\",\"id\":11,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.40.4\"},"
		"{\"duration\":\"9m\",\"id\":10,\"origin\":\"cscli\",\"scenario\":\"s\",\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"198.18.30.3\"}]}");
	CHECK_EQ(name(c, "ret"), 0, poll_at(T, &r));
	CHECK_STR(name(c, "error_cleared"), "", r.error);
	CHECK_EQ(name(c, "backoff_cleared"), 0, r.backoff_s);
	CHECK_EQ(name(c, "startup"), 1, r.startup);
	CHECK_STR(name(c, "target"), "/v1/decisions/stream?startup=true", F.target);
	CHECK_EQ(name(c, "added"), 1, r.added);
	CHECK_EQ(name(c, "renewed"), 1, r.renewed);
	CHECK_EQ(name(c, "removed"), 2, r.removed);
	CHECK_EQ(name(c, "gone.range"), -1, feed_of("198.18.20.0/24"));
	CHECK_EQ(name(c, "gone.v6"), -1, feed_of("2001:db8:10::/48"));
	/* A full pull says exactly how long. */
	CHECK_RANGE(name(c, "expiry_as_sent_s"), 530, 540, left_s("198.18.30.3"));
	CHECK_EQ(name(c, "manual_untouched"), 0, feed_of("198.18.10.2"));
	CHECK_EQ(name(c, "next_in_interval.polled"), 0, (poll_at(T + 4, &r), r.polled));
	fake_reply(200, "{\"deleted\":null,\"new\":null}");
	CHECK_EQ(name(c, "next_delta.ret"), 0, poll_at(T + 5, &r));
	CHECK_EQ(name(c, "next_delta.startup"), 0, r.startup);
	CHECK_EQ(name(c, "next_delta.unchanged"), 0, r.changed);
}

static int run_fake(void)
{
	struct mxg_crowdsec_cfg cfg = { .interval_s = 5 };
	int err, i;

	if (pthread_create(&F.thr, NULL, fake_serve, NULL)) {
		CHECK("fake__setup.thread", 0);
		return 1;
	}
	for (i = 0; i < 200 && !F.port; i++)
		usleep(5000);
	snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:%d", F.port);
	snprintf(cfg.api_key, sizeof(cfg.api_key), "%s", KEY);
	err = mxg_crowdsec_new(&CS, &cfg);
	CHECK_EQ("fake__setup.new", 0, err);
	feed_cs = mxg_feed_id(&M, MXG_CROWDSEC_FEED, 1);
	CHECK("fake__setup.feed", feed_cs > 0);
	if (!err && feed_cs > 0) {
		fake_startup("poll__startup_applies_bans_and_removes_stale");
		fake_not_due("poll__not_due_does_nothing");
		fake_delta("poll__delta_adds_and_deletes_own_only");
		fake_renew("poll__renew_keeps_longer_and_hits");
		fake_backoff("poll__errors_keep_entries_and_back_off");
		fake_forbidden("poll__http_403_names_the_key");
		fake_timeout("poll__timeout_2s");
		fake_recovery("poll__recovery_resyncs_with_startup");
	}
	mxg_crowdsec_free(CS);
	pthread_mutex_lock(&F.mu);
	F.stop = 1;
	pthread_mutex_unlock(&F.mu);
	pthread_join(F.thr, NULL);
	if (F.lfd >= 0)
		close(F.lfd);
	return CHECK_DONE();
}

/* ---- live: follow a real crowdsec ------------------------------------------ */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* JSON string body: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
}

static int run_live(const char *url, const char *keyfile, unsigned secs)
{
	struct mxg_crowdsec_cfg cfg = { .interval_s = 1 };
	struct mxg_crowdsec *cs;
	__u64 end = mxg_mono_ns() + (__u64)secs * NS_PER_S;
	int err;

	snprintf(cfg.url, sizeof(cfg.url), "%s", url);
	err = mxg_crowdsec_key_read(keyfile, cfg.api_key, sizeof(cfg.api_key));
	if (!err)
		err = mxg_crowdsec_new(&cs, &cfg);
	if (err)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop && mxg_mono_ns() < end) {
		struct mxg_crowdsec_result r;
		__u64 now = mxg_mono_ns();
		int lock = mxg_lock(NULL, 30), ret;

		if (lock < 0)
			break;
		ret = mxg_crowdsec_poll(cs, &M, now / NS_PER_S, &r);
		close(lock);
		if (r.polled) {
			printf("{\"t_ms\":%llu,\"ret\":%d,\"startup\":%d,\"n_new\":%zu,\"n_del\":%zu,"
			       "\"added\":%zu,\"renewed\":%zu,\"removed\":%zu,\"others\":%zu,"
			       "\"rejected\":%zu,\"backoff_s\":%u,\"error\":\"",
			       (unsigned long long)(now / 1000000), ret, r.startup, r.n_new,
			       r.n_del, r.added, r.renewed, r.removed, r.others, r.rejected,
			       r.backoff_s);
			json_str(r.error);
			printf("\"}\n");
			fflush(stdout);
		}
		usleep(100000);
	}
	mxg_crowdsec_free(cs);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		printf("SKIP crowdsec_live: a driver for tests/e2e/test_crowdsec.sh, which runs it in its sandbox\n");
		return 0;
	}
	mxg_cmd = "run"; /* as in the service */
	if (mxg_maps_open_ro(&M)) {
		printf("FAIL crowdsec_live__setup: cannot open the pinned maps under %s\n",
		       mxg_pin_dir());
		return 1;
	}
	if (!strcmp(argv[1], "fake") && argc == 2)
		rc = run_fake();
	else if (!strcmp(argv[1], "live") && argc == 5)
		rc = run_live(argv[2], argv[3], (unsigned)atoi(argv[4]));
	else {
		fprintf(stderr, "usage: %s fake | live URL KEYFILE SECONDS\n", argv[0]);
		rc = 2;
	}
	mxg_maps_close(&M);
	return rc;
}

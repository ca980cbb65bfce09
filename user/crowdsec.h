/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* CrowdSec bouncer: follows the local API decision stream and keeps feed
 * "crowdsec" of the blocklist equal to its ban decisions (IP and range
 * scopes, with their remaining durations), keeping the last state while the
 * API is down. */
#ifndef MXG_CROWDSEC_H
#define MXG_CROWDSEC_H

#include <stddef.h>
#include "addr.h"
#include "maps.h"

#define MXG_CROWDSEC_FEED "crowdsec"
#define MXG_CROWDSEC_INTERVAL_S 10     /* when the config gives 0 */
#define MXG_CROWDSEC_TIMEOUT_MS 2000   /* one whole HTTP request */
#define MXG_CROWDSEC_BACKOFF_MIN_S 2
#define MXG_CROWDSEC_BACKOFF_MAX_S 60
#define MXG_CROWDSEC_MAX_BODY (64u << 20) /* a community blocklist is ~10 MB */

struct mxg_crowdsec_cfg {
	char url[256];      /* LAPI root, "http://127.0.0.1:8080/" */
	char api_key[128];  /* from `cscli bouncers add NAME -o raw` */
	unsigned interval_s; /* between pulls; 0: MXG_CROWDSEC_INTERVAL_S */
};

/* One ban decision of the stream, as it applies to the blocklist. */
struct mxg_cs_decision {
	struct mxg_cidr cidr;
	__s64 dur_ns;       /* remaining duration (new: > 0; deleted: as sent) */
	__u64 id;           /* the LAPI's decision id, for messages */
	char scenario[MXG_REASON_LEN];
	char origin[32];    /* "cscli", "crowdsec", "CAPI", "lists", ... */
};

/* A parsed stream response: v[0..n_new) are new decisions, then
 * v[n_new..n_new + n_del) deleted ones; only usable bans are kept. */
struct mxg_cs_batch {
	struct mxg_cs_decision *v;
	size_t n_new, n_del;
	size_t ignored;     /* other types (captcha, ...) or scopes (country, ...) */
	size_t rejected;    /* bad value or duration, range broader than /8 (v4)
			     * or /24 (v6), host bits set: skipped and logged */
	size_t expired;     /* new decisions with no time left */
};

/* Parse a response body of GET /v1/decisions/stream: {"new": [...],
 * "deleted": [...]}, either may be null or absent. A bad decision is
 * skipped (counted, the first few logged); a body that is not such an
 * object is -EBADMSG. 0 on success; free with mxg_cs_batch_free(). */
int mxg_crowdsec_parse(const char *json, size_t len, struct mxg_cs_batch *b);
void mxg_cs_batch_free(struct mxg_cs_batch *b);

/* Go's time.Duration text ("3h59m58.123s", "-1.5s", "250ms", "1µs", "0")
 * into nanoseconds, exactly (fractions truncated to the nanosecond).
 * 0, -EINVAL (malformed) or -ERANGE (beyond int64 nanoseconds). */
int mxg_go_duration_parse(const char *s, __s64 *ns);

/* What one call of mxg_crowdsec_poll() did. */
struct mxg_crowdsec_result {
	int polled;         /* 1: a pull was made (else nothing was due) */
	int startup;        /* it was a full (startup=true) pull */
	int changed;        /* the blocklist changed: move the generation */
	size_t n_new, n_del; /* usable ban decisions received */
	size_t added;       /* entries written that were not there */
	size_t renewed;     /* entries of the feed written again */
	size_t removed;     /* entries of the feed deleted */
	size_t others;      /* already blocked by another feed: left alone */
	size_t shadowed;    /* overlapping the allowlist: loaded, allow wins */
	size_t ignored, rejected, expired; /* as in struct mxg_cs_batch */
	char error[256];    /* "" when the pull worked */
	unsigned backoff_s; /* after an error: seconds until the retry */
};

struct mxg_crowdsec;

/* Check the config (http:// or https:// URL, a key without control
 * characters) and set up the HTTP client. 0, -EINVAL (logged) or
 * -ENOMEM. */
int mxg_crowdsec_new(struct mxg_crowdsec **c, const struct mxg_crowdsec_cfg *cfg);
void mxg_crowdsec_free(struct mxg_crowdsec *c);

/* Call every second with the service's clock (any monotonic seconds).
 * Does nothing until the next pull is due. The first pull, and the first
 * after any failure, asks for the whole list (startup=true) and makes feed
 * "crowdsec" hold exactly its bans; later pulls apply what changed. On a
 * failure (API down, HTTP status not 200, bad body, map error) the entries
 * stay as they are and the pull is retried after 2, 4, ... 60 s. Entries
 * of other feeds are never touched. The caller holds the lock. Returns 0,
 * or the pull's -errno (r->error says what). */
int mxg_crowdsec_poll(struct mxg_crowdsec *c, const struct mxg_maps *m,
		      __u64 now_s, struct mxg_crowdsec_result *r);

/* The API key from a file (first line, surrounding blanks removed), for
 * `api_key_file`. 0, -EINVAL (empty or too long, logged) or -errno. */
int mxg_crowdsec_key_read(const char *path, char *key, size_t len);

#endif /* MXG_CROWDSEC_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* CrowdSec bouncer: pulls /v1/decisions/stream with libcurl, parses it with
 * json-c and applies its bans to feed "crowdsec" of the blocklist. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "crowdsec.h"
#include "feeds.h"
#include "listfmt.h"
#include "lists.h"
#include "log.h"

#define NS_PER_S 1000000000ull
/* Rejected decisions named one by one per batch; the rest only counted. */
#define WARN_MAX 5
/* Distinct reason texts written per batch; beyond, plain "crowdsec" keeps
 * the reasons map from filling up with one-off scenario names. */
#define REASONS_MAX 64
/* Up to this many decisions are looked up one by one; a larger batch reads
 * the whole blocklist once instead. */
#define LOOKUP_ONE_MAX 64

struct mxg_crowdsec {
	struct mxg_crowdsec_cfg cfg;
	CURL *curl;
	struct curl_slist *hdrs;
	char curl_err[CURL_ERROR_SIZE];
	char *body;
	size_t body_len, body_cap;
	int too_big;
	int started;        /* a pull was made */
	int synced;         /* the last pull worked: the next one is a delta */
	__u64 due_s;
	unsigned backoff_s; /* 0 while healthy */
};

/* ---- Go durations --------------------------------------------------------- */

static const struct {
	const char *name;
	__u64 ns;
} go_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },  /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },  /* U+03BC Greek small mu */
	{ "ms", 1000000 },
	{ "s", NS_PER_S },
	{ "m", 60 * NS_PER_S },
	{ "h", 3600 * NS_PER_S },
};

/* Mirrors Go's time.ParseDuration, but the fraction is computed in integers
 * (Go goes through a float64 and may be 1 ns off). */
int mxg_go_duration_parse(const char *s, __s64 *ns)
{
	const __u64 big = 1ull << 63;
	__u64 total = 0, limit;
	int neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	limit = neg ? big : big - 1;
	while (*s) {
		__u64 v = 0, f = 0, scale = 1, unit = 0;
		const char *u;
		size_t i, ulen;
		int digits = 0;

		if (*s != '.' && !isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++, digits++) {
			if (v > big / 10)
				return -ERANGE;
			v = v * 10 + (__u64)(*s - '0');
			if (v > big)
				return -ERANGE;
		}
		if (*s == '.') {
			/* 19 digits are far below a nanosecond of an hour;
			 * later ones are read and dropped. */
			for (s++; isdigit((unsigned char)*s); s++, digits++)
				if (scale < 10000000000000000000ull) {
					f = f * 10 + (__u64)(*s - '0');
					scale *= 10;
				}
		}
		if (!digits)
			return -EINVAL;
		for (u = s; *s && *s != '.' && !isdigit((unsigned char)*s); s++)
			;
		ulen = (size_t)(s - u);
		for (i = 0; i < sizeof(go_units) / sizeof(go_units[0]); i++)
			if (strlen(go_units[i].name) == ulen &&
			    !memcmp(go_units[i].name, u, ulen))
				unit = go_units[i].ns;
		if (!unit)
			return -EINVAL;
		if (v > big / unit)
			return -ERANGE;
		v *= unit;
		if (f) {
			v += (__u64)((unsigned __int128)f * unit / scale);
			if (v > big)
				return -ERANGE;
		}
		if (v > limit || total > limit - v)
			return -ERANGE;
		total += v;
	}
	if (neg)
		*ns = total == big ? INT64_MIN : -(__s64)total;
	else
		*ns = (__s64)total;
	return 0;
}

/* ---- the stream response --------------------------------------------------- */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Printable copy of untrusted text for messages and reasons. */
static void copy_clean(char *dst, size_t len, const char *src)
{
	size_t i;

	snprintf(dst, len, "%s", src ? src : "");
	for (i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f || dst[i] == '"')
			dst[i] = '?';
}

__attribute__((format(printf, 3, 4)))
static void reject(struct mxg_cs_batch *b, __u64 id, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (b->rejected++ >= WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mxg_warn("crowdsec: decision %llu skipped: %s", (unsigned long long)id, msg);
}

/* One decision into *d: 1 usable, 0 skipped (counted in b). */
static int take_decision(struct json_object *o, int deleted,
			 struct mxg_cs_batch *b, struct mxg_cs_decision *d)
{
	const char *type, *scope, *value, *dur, *why;
	struct json_object *idv;
	char vs[MXG_CIDR_STRLEN + 16];
	unsigned min;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object)) {
		reject(b, 0, "not a JSON object");
		return 0;
	}
	if (json_object_object_get_ex(o, "id", &idv) &&
	    json_object_is_type(idv, json_type_int))
		d->id = (__u64)json_object_get_int64(idv);
	type = jstr(o, "type");
	scope = jstr(o, "scope");
	value = jstr(o, "value");
	dur = jstr(o, "duration");
	if (!type || !scope || !value) {
		reject(b, d->id, "no type, scope or value");
		return 0;
	}
	/* Only bans are ours to enforce; a captcha needs a web bouncer. The
	 * central API writes scopes in lower case. */
	if (strcasecmp(type, "ban") ||
	    (strcasecmp(scope, "ip") && strcasecmp(scope, "range"))) {
		b->ignored++;
		return 0;
	}
	copy_clean(vs, sizeof(vs), value);
	if (mxg_cidr_parse(value, &d->cidr, &why)) {
		reject(b, d->id, "%s '%s': %s", scope, vs, why);
		return 0;
	}
	min = d->cidr.v4 ? MXG_BLOCK_MIN_V4 : MXG_BLOCK_MIN_V6;
	if (mxg_cidr_user_plen(&d->cidr) < min) {
		reject(b, d->id, "%s '%s' is broader than /%u", scope, vs, min);
		return 0;
	}
	/* A deleted decision is removed whatever time it had left. */
	if (dur && mxg_go_duration_parse(dur, &d->dur_ns)) {
		if (!deleted) {
			copy_clean(vs, sizeof(vs), dur);
			reject(b, d->id, "duration '%s' is not a Go duration", vs);
			return 0;
		}
		d->dur_ns = 0;
	} else if (!dur && !deleted) {
		reject(b, d->id, "no duration");
		return 0;
	}
	if (!deleted && d->dur_ns <= 0) {
		b->expired++;
		return 0;
	}
	copy_clean(d->scenario, sizeof(d->scenario), jstr(o, "scenario"));
	copy_clean(d->origin, sizeof(d->origin), jstr(o, "origin"));
	return 1;
}

static int take_list(struct json_object *root, const char *key, int deleted,
		     struct mxg_cs_batch *b, size_t *n)
{
	struct json_object *arr;
	size_t i, len, at = b->n_new + b->n_del;
	void *p;

	*n = 0;
	if (!json_object_object_get_ex(root, key, &arr) ||
	    json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		mxg_warn("crowdsec: \"%s\" is not an array", key);
		return -EBADMSG;
	}
	len = json_object_array_length(arr);
	if (!len)
		return 0;
	p = realloc(b->v, (at + len) * sizeof(*b->v));
	if (!p)
		return -ENOMEM;
	b->v = p;
	for (i = 0; i < len; i++)
		if (take_decision(json_object_array_get_idx(arr, i), deleted, b,
				  &b->v[at + *n]))
			(*n)++;
	return 0;
}

int mxg_crowdsec_parse(const char *json, size_t len, struct mxg_cs_batch *b)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;
	size_t used;
	int err;

	memset(b, 0, sizeof(*b));
	if (len > MXG_CROWDSEC_MAX_BODY)
		return -EFBIG;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	used = json_tokener_get_parse_end(tok);
	err = json_tokener_get_error(tok) != json_tokener_success ? -EBADMSG : 0;
	/* Only blanks may follow the document. */
	for (; !err && used < len; used++)
		if (!isspace((unsigned char)json[used]))
			err = -EBADMSG;
	if (!err && !json_object_is_type(root, json_type_object))
		err = -EBADMSG;
	if (!err)
		err = take_list(root, "new", 0, b, &b->n_new);
	if (!err)
		err = take_list(root, "deleted", 1, b, &b->n_del);
	json_object_put(root);
	json_tokener_free(tok);
	if (err)
		mxg_cs_batch_free(b);
	return err;
}

void mxg_cs_batch_free(struct mxg_cs_batch *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* ---- applying a batch ------------------------------------------------------ */

/* New decisions sorted by CIDR, the longest first among equal ones. */
static int cmp_decision(const void *pa, const void *pb)
{
	const struct mxg_cs_decision *a = pa, *b = pb;
	int c = mxg_cidr_cmp(&a->cidr, &b->cidr);

	if (c)
		return c;
	return a->dur_ns > b->dur_ns ? -1 : a->dur_ns < b->dur_ns;
}

static int cmp_entry(const void *a, const void *b)
{
	return mxg_cidr_cmp(&((const struct mxg_block_entry *)a)->cidr,
			    &((const struct mxg_block_entry *)b)->cidr);
}

/* Sort and keep one decision per CIDR (the longest); returns the count. */
static size_t dedup(struct mxg_cs_decision *v, size_t n)
{
	size_t i, k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_decision);
	for (i = 1; i < n; i++)
		if (mxg_cidr_cmp(&v[i].cidr, &v[k].cidr))
			v[++k] = v[i];
	return k + 1;
}

static const struct mxg_cs_decision *find(const struct mxg_cs_decision *v,
					  size_t n, const struct mxg_cidr *c)
{
	size_t lo = 0, hi = n;

	/* By CIDR alone (cmp_decision also orders by duration). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = mxg_cidr_cmp(c, &v[mid].cidr);

		if (!r)
			return &v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Block entries as they are now: looked up one by one for a small batch,
 * from one sorted copy of the whole blocklist for a large one. */
struct lookup {
	const struct mxg_maps *m;
	struct mxg_block_entry *all;
	size_t n;
	int use_all;
};

static int lookup_init(struct lookup *lk, const struct mxg_maps *m, size_t want)
{
	int err;

	memset(lk, 0, sizeof(*lk));
	lk->m = m;
	if (want <= LOOKUP_ONE_MAX)
		return 0;
	lk->use_all = 1;
	err = mxg_block_collect(m, -1, &lk->all, &lk->n);
	if (!err && lk->n)
		qsort(lk->all, lk->n, sizeof(*lk->all), cmp_entry);
	return err;
}

/* 1 and *v filled when c is in the blocklist, 0 when not. */
static int lookup(const struct lookup *lk, const struct mxg_cidr *c,
		  struct mxg_block_val *v)
{
	struct mxg_block_entry key = { .cidr = *c };
	const struct mxg_block_entry *e;

	if (!lk->use_all)
		return !mxg_block_get(lk->m, c, v);
	e = lk->n ? bsearch(&key, lk->all, lk->n, sizeof(*lk->all), cmp_entry) : NULL;
	if (e)
		*v = e->v;
	return !!e;
}

struct reasons {
	char text[REASONS_MAX][MXG_REASON_LEN];
	__u32 id[REASONS_MAX];
	unsigned n;
	__u32 plain_id;     /* "crowdsec", once the table is full */
	int have_plain;
};

/* "crowdsec: <scenario>", stored once per batch and text. */
static __u32 reason_for(const struct mxg_maps *m, struct reasons *rs,
			const char *scenario)
{
	char text[MXG_REASON_LEN];
	unsigned i;
	__u32 id = 0;

	if (!*scenario || rs->n == REASONS_MAX) {
		if (!rs->have_plain && mxg_reason_id(m, "crowdsec", &rs->plain_id))
			rs->plain_id = 0;
		rs->have_plain = 1;
		return rs->plain_id;
	}
	snprintf(text, sizeof(text), "crowdsec: %.*s", (int)sizeof(text) - 11,
		 scenario);
	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->text[i], text))
			return rs->id[i];
	if (mxg_reason_id(m, text, &id))
		id = 0;
	snprintf(rs->text[rs->n], MXG_REASON_LEN, "%s", text);
	rs->id[rs->n++] = id;
	return id;
}

/* Write the new bans (keeping hit counts; never over another feed's entry),
 * then remove what is gone: on a startup pull every entry of the feed that
 * is not in the list, else the deleted decisions. An address that is both
 * deleted and new in one batch is rewritten, never removed. */
static int apply(const struct mxg_maps *m, struct mxg_cs_batch *b, int startup,
		 struct mxg_crowdsec_result *r)
{
	struct mxg_cs_decision *nv = b->v, *dv = b->v + b->n_new;
	struct mxg_allow_entry *allow = NULL;
	struct mxg_block_val *vals = NULL;
	struct mxg_cidr *cidrs = NULL, *gone = NULL;
	struct reasons *rs = NULL;
	struct mxg_list l = { 0 };
	struct lookup lk = { 0 };
	size_t nn, nallow = 0, nput = 0, ngone = 0, i;
	__u64 now_ns = mxg_mono_ns(), now_s = mxg_unix_s();
	int feed, err;

	feed = mxg_feed_id(m, MXG_CROWDSEC_FEED, 1);
	if (feed < 0)
		return feed;
	nn = dedup(nv, b->n_new);
	cidrs = malloc((nn ? nn : 1) * sizeof(*cidrs));
	vals = malloc((nn ? nn : 1) * sizeof(*vals));
	gone = malloc((b->n_del ? b->n_del : 1) * sizeof(*gone));
	rs = calloc(1, sizeof(*rs));
	if (!cidrs || !vals || !gone || !rs) {
		err = -ENOMEM;
		goto out;
	}
	err = mxg_allow_all(m, &allow, &nallow);
	if (!err)
		err = lookup_init(&lk, m, nn + (startup ? 0 : b->n_del));
	if (err)
		goto out;
	/* Sorted by CIDR so that deleted decisions can be found in it. */
	for (i = 0; i < b->n_del; i++)
		dv[i].dur_ns = 0;
	if (b->n_del)
		qsort(dv, b->n_del, sizeof(*dv), cmp_decision);

	for (i = 0; i < nn; i++) {
		const struct mxg_cs_decision *d = &nv[i];
		const struct mxg_allow_entry *hit;
		struct mxg_block_val old, *v = &vals[nput];
		int have = lookup(&lk, &d->cidr, &old);
		__u64 exp = now_ns + (__u64)d->dur_ns;

		if (have && old.feed_id != (__u32)feed) {
			r->others++;
			continue;
		}
		if (mxg_allow_overlap(allow, nallow, &d->cidr, &hit) &&
		    r->shadowed++ < WARN_MAX) {
			char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN];

			mxg_cidr_format(&d->cidr, cs, sizeof(cs));
			mxg_cidr_format(&hit->cidr, as, sizeof(as));
			mxg_warn("crowdsec: %s overlaps allowlisted %s (%s); the allowlist wins there",
				 cs, as, hit->v.comment[0] ? hit->v.comment : "no comment");
		}
		/* Between full pulls, two decisions on one address: the later
		 * expiry holds, unless the other decision was just deleted. */
		if (have && !startup && !find(dv, b->n_del, &d->cidr) &&
		    (!old.expires_ns || old.expires_ns > exp))
			exp = old.expires_ns;
		memset(v, 0, sizeof(*v));
		if (have) {
			v->hits = old.hits;
			v->last_hit_ns = old.last_hit_ns;
		}
		v->added_s = have ? old.added_s : now_s;
		v->expires_ns = exp;
		v->feed_id = (__u32)feed;
		v->reason_id = reason_for(m, rs, d->scenario);
		cidrs[nput++] = d->cidr;
		if (have)
			r->renewed++;
		else
			r->added++;
	}
	err = mxg_block_put_many(m, cidrs, vals, nput);
	if (err)
		goto out;

	if (startup) {
		struct mxg_apply a = { .feed_id = feed };
		struct mxg_apply_result sr;

		/* Every entry just written is in the list, so the sync only
		 * removes what the LAPI no longer has. */
		l.v = calloc(nn ? nn : 1, sizeof(*l.v));
		if (!l.v) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nn; i++) {
			l.v[i].cidr = nv[i].cidr;
			l.v[i].line = (unsigned)i + 1;
		}
		l.n = l.cap = nn;
		err = mxg_feed_sync(m, &l, &a, &sr);
		if (err)
			goto out;
		r->removed = sr.removed;
	} else {
		struct mxg_block_val old;

		for (i = 0; i < b->n_del; i++) {
			if (find(nv, nn, &dv[i].cidr))
				continue;
			if (i && !mxg_cidr_cmp(&dv[i].cidr, &dv[i - 1].cidr))
				continue;
			if (lookup(&lk, &dv[i].cidr, &old) &&
			    old.feed_id == (__u32)feed)
				gone[ngone++] = dv[i].cidr;
		}
		err = mxg_block_del_many(m, gone, ngone);
		if (err)
			goto out;
		r->removed = ngone;
		mxg_feed_touch(m, feed);
	}
out:
	r->changed = r->added || r->renewed || r->removed;
	free(l.v);
	free(lk.all);
	free(allow);
	free(rs);
	free(gone);
	free(vals);
	free(cidrs);
	return err;
}

/* ---- HTTP -------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct mxg_crowdsec *c = ud;
	size_t len = size * nmemb;

	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 64 << 10;
		char *nb;

		if (c->body_len + len > MXG_CROWDSEC_MAX_BODY) {
			c->too_big = 1;
			return 0;
		}
		while (cap < c->body_len + len + 1)
			cap *= 2;
		nb = realloc(c->body, cap);
		if (!nb)
			return 0;
		c->body = nb;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, p, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

/* r->error, cut to fit. */
__attribute__((format(printf, 2, 3)))
static void seterr(struct mxg_crowdsec_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* GET the stream into c->body; 0 only for HTTP 200. */
static int fetch(struct mxg_crowdsec *c, int startup, struct mxg_crowdsec_result *r)
{
	const char *base = c->cfg.url;
	size_t blen = strlen(base);
	char url[sizeof(c->cfg.url) + 64];
	CURLcode rc;
	long code = 0;

	snprintf(url, sizeof(url), "%s%sv1/decisions/stream%s", base,
		 blen && base[blen - 1] == '/' ? "" : "/",
		 startup ? "?startup=true" : "");
	c->body_len = 0;
	c->too_big = 0;
	c->curl_err[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		if (c->too_big) {
			seterr(r, "%s: response larger than %u MiB", url,
			       MXG_CROWDSEC_MAX_BODY >> 20);
			return -EFBIG;
		}
		seterr(r, "%s: %s", url,
		       c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
		return curl_errno(rc);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		char said[96];

		copy_clean(said, sizeof(said), c->body_len ? c->body : "");
		seterr(r, "%s: HTTP %ld%s%s%s", url, code,
		       code == 403 ? " (is the API key one of `cscli bouncers list`?)" : "",
		       said[0] ? ": " : "", said);
		return -EPROTO;
	}
	return 0;
}

/* ---- the bouncer -------------------------------------------------------------- */

static int valid_key(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!isgraph((unsigned char)*k))
			return 0;
	return 1;
}

int mxg_crowdsec_new(struct mxg_crowdsec **out, const struct mxg_crowdsec_cfg *cfg)
{
	static int curl_ready;
	struct mxg_crowdsec *c;
	char hdr[sizeof(cfg->api_key) + 16];
	int err = -ENOMEM;

	*out = NULL;
	if (strncmp(cfg->url, "http://", 7) && strncmp(cfg->url, "https://", 8)) {
		mxg_err("crowdsec: url '%.*s' is not http:// or https://",
			(int)sizeof(cfg->url), cfg->url);
		return -EINVAL;
	}
	if (!memchr(cfg->api_key, '\0', sizeof(cfg->api_key)) ||
	    !valid_key(cfg->api_key)) {
		mxg_err("crowdsec: the API key is empty or has blanks or control characters");
		return -EINVAL;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			mxg_err("crowdsec: cannot initialise libcurl");
			return -EIO;
		}
		curl_ready = 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cfg.url[sizeof(c->cfg.url) - 1] = '\0';
	if (!c->cfg.interval_s)
		c->cfg.interval_s = MXG_CROWDSEC_INTERVAL_S;
	snprintf(hdr, sizeof(hdr), "X-Api-Key: %s", cfg->api_key);
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	c->hdrs = curl_slist_append(NULL, hdr);
	if (!c->hdrs)
		goto fail;
	if (!curl_slist_append(c->hdrs, "Accept: application/json"))
		goto fail;
	if (curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdrs) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c) ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err) ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)MXG_CROWDSEC_TIMEOUT_MS) ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)MXG_CROWDSEC_TIMEOUT_MS) ||
	    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "mxguard-bouncer/1") ||
	    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "")) {
		err = -EIO;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (err == -ENOMEM)
		mxg_err("crowdsec: out of memory setting up the HTTP client");
	else
		mxg_err("crowdsec: libcurl refused an option (too old a libcurl?)");
	mxg_crowdsec_free(c);
	return err;
}

void mxg_crowdsec_free(struct mxg_crowdsec *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->hdrs);
	free(c->body);
	explicit_bzero(c->cfg.api_key, sizeof(c->cfg.api_key));
	free(c);
}

int mxg_crowdsec_poll(struct mxg_crowdsec *c, const struct mxg_maps *m,
		      __u64 now_s, struct mxg_crowdsec_result *r)
{
	struct mxg_cs_batch b = { 0 };
	int err;

	memset(r, 0, sizeof(*r));
	if (c->started && now_s < c->due_s)
		return 0;
	c->started = 1;
	r->polled = 1;
	r->startup = !c->synced;
	err = fetch(c, r->startup, r);
	if (!err) {
		err = mxg_crowdsec_parse(c->body, c->body_len, &b);
		if (err == -EBADMSG)
			seterr(r, "the decision stream is not {\"new\": [...], \"deleted\": [...]}");
		else if (err)
			seterr(r, "parsing the decision stream: %s", strerror(-err));
	}
	if (!err) {
		r->n_new = b.n_new;
		r->n_del = b.n_del;
		r->ignored = b.ignored;
		r->rejected = b.rejected;
		r->expired = b.expired;
		err = apply(m, &b, r->startup, r);
		if (err)
			seterr(r, "applying decisions: %s", strerror(-err));
	}
	mxg_cs_batch_free(&b);
	if (err) {
		/* Whatever was applied stays; a full pull puts it right. */
		c->synced = 0;
		c->backoff_s = c->backoff_s ? c->backoff_s * 2 : MXG_CROWDSEC_BACKOFF_MIN_S;
		if (c->backoff_s > MXG_CROWDSEC_BACKOFF_MAX_S)
			c->backoff_s = MXG_CROWDSEC_BACKOFF_MAX_S;
		c->due_s = now_s + c->backoff_s;
		r->backoff_s = c->backoff_s;
		return err;
	}
	c->synced = 1;
	c->backoff_s = 0;
	c->due_s = now_s + c->cfg.interval_s;
	return 0;
}

int mxg_crowdsec_key_read(const char *path, char *key, size_t len)
{
	char *line = NULL, *p, *e;
	size_t cap = 0;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		mxg_err("crowdsec: cannot read the API key file %s: %s", path,
			strerror(errno));
		return err;
	}
	/* An empty file: getline() may leave a buffer without a NUL. */
	if (getline(&line, &cap, f) < 0) {
		free(line);
		line = strdup("");
		cap = 1;
	}
	fclose(f);
	if (!line)
		return -ENOMEM;
	for (p = line; isspace((unsigned char)*p); p++)
		;
	for (e = p + strlen(p); e > p && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	if (!valid_key(p) || strlen(p) >= len) {
		mxg_err("crowdsec: %s: the first line is not an API key (empty, blanks inside, or longer than %zu characters)",
			path, len - 1);
		err = -EINVAL;
	} else {
		snprintf(key, len, "%s", p);
	}
	explicit_bzero(line, cap);
	free(line);
	return err;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Turns Postfix and Dovecot log lines into ban and alert actions, and follows
 * log files across rotation without blocking. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "logwatch.h"
#include "units.h"

/* ---- text ------------------------------------------------------------- */

static const char *find(const char *s, const char *end, const char *needle)
{
	if (!s || s >= end)
		return NULL;
	return memmem(s, end - s, needle, strlen(needle));
}

static const char *find_last(const char *s, const char *end,
			     const char *needle)
{
	const char *p, *last = NULL;

	while ((p = find(s, end, needle))) {
		last = p;
		s = p + 1;
	}
	return last;
}

static int starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && !memcmp(p, prefix, n);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Postfix logs verified names only: letters, digits, '.', '-', '_'. */
static int is_host_char(char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

static int is_word_end(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Loopback and unspecified clients cannot be filtered on the NIC: a local
 * webmail or a unix-socket proxy must not become a ban. */
static int usable_client(const union mxg_addr *a)
{
	static const union mxg_addr zero, lo6 = { .b = { [15] = 1 } };

	if (mxg_addr_is_v4(a))
		return a->b[12] != 127 && a->b[12] != 0;
	return memcmp(a, &zero, sizeof(*a)) && memcmp(a, &lo6, sizeof(*a));
}

static int addr_tok(const char *s, const char *e, union mxg_addr *a)
{
	char buf[64];

	if (e <= s || (size_t)(e - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, e - s);
	buf[e - s] = '\0';
	if (mxg_addr_parse(buf, a, NULL, NULL) || !usable_client(a))
		return -EINVAL;
	return 0;
}

static void ev_init(struct mxg_lw_event *ev, int kind, int source)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->source = source;
	ev->count = 1;
}

/* "warning: HOST[ADDR](:PORT)?: SASL MECH authentication failed...". Only
 * the first "SASL " counts: later ones may be the client's own text
 * (Postfix appends ", sasl_username=..." to the line). */
static int parse_postfix_fail(const char *s, const char *end,
			      struct mxg_lw_event *ev)
{
	const char *p = find(s, end, "SASL "), *q, *d, *lb, *rb, *h, *m;
	union mxg_addr a;

	if (!p || p - s < 4 || p[-2] != ':' || p[-1] != ' ')
		return 0;
	q = p - 2;
	for (d = q; d > s && is_digit(d[-1]); d--)
		;
	if (d < q && d > s && d[-1] == ':')
		q = d - 1;
	if (q <= s || q[-1] != ']')
		return 0;
	rb = q - 1;
	for (lb = rb; lb > s && lb[-1] != '['; lb--)
		;
	if (lb == s)
		return 0;
	for (h = lb - 1; h > s && is_host_char(h[-1]); h--)
		;
	if (h == lb - 1 || h - s < 9 || memcmp(h - 9, "warning: ", 9))
		return 0;
	p += strlen("SASL ");
	for (m = p; p < end && (is_alnum(*p) || *p == '-' || *p == '_'); p++)
		;
	if (p == m || !starts(p, end, " authentication failed"))
		return 0;
	p += strlen(" authentication failed");
	/* Not the client's guess: the auth server is down, or the client
	 * asked for a mechanism that is not offered. */
	if (starts(p, end, ": Connection lost to authentication server") ||
	    starts(p, end, ": Invalid authentication mechanism"))
		return 0;
	if (addr_tok(lb, rb, &a))
		return 0;
	ev_init(ev, MXG_LW_EV_AUTH_FAIL, MXG_LW_SRC_POSTFIX);
	ev->addr = a;
	return ev->kind;
}

/* "QUEUEID: client=HOST[ADDR](:PORT)?, sasl_method=M, sasl_username=U". */
static int parse_postfix_msg(const char *s, const char *end,
			     struct mxg_lw_event *ev)
{
	const char *p = find(s, end, "client="), *lb, *rb, *u, *ue;
	union mxg_addr a;
	size_t n;

	if (!p || p - s < 2 || p[-2] != ':' || p[-1] != ' ')
		return 0;
	for (p += 7; p < end && is_host_char(*p); p++)
		;
	if (p == end || *p != '[')
		return 0;
	lb = p + 1;
	rb = memchr(lb, ']', end - lb);
	if (!rb)
		return 0;
	u = find(rb, end, ", sasl_username=");
	if (!u)
		return 0;
	u += strlen(", sasl_username=");
	for (ue = u; ue < end && !is_word_end(*ue); ue++)
		;
	if (ue == u || addr_tok(lb, rb, &a))
		return 0;
	ev_init(ev, MXG_LW_EV_MESSAGE, MXG_LW_SRC_POSTFIX);
	ev->addr = a;
	n = ue - u;
	if (n >= sizeof(ev->account))
		n = sizeof(ev->account) - 1;
	memcpy(ev->account, u, n);
	ev->account[n] = '\0';
	return ev->kind;
}

/* "imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<>,
 * method=PLAIN, rip=ADDR, lip=..." and its 2.3 variants. The client chose
 * user=<...>, which comes before rip=: the last " rip=" is Dovecot's. */
static int parse_dovecot_summary(const char *s, const char *end,
				 struct mxg_lw_event *ev)
{
	const char *p = find(s, end, "-login: "), *r, *re;
	unsigned long n = 0;
	union mxg_addr a;

	if (!p || !(p = find(p, end, "(auth failed, ")))
		return 0;
	p += strlen("(auth failed, ");
	if (p == end || !is_digit(*p))
		return 0;
	for (; p < end && is_digit(*p); p++)
		if (n < 1000000)
			n = n * 10 + (*p - '0');
	if (!n || !starts(p, end, " attempt"))
		return 0;
	r = find_last(p, end, " rip=");
	if (!r)
		return 0;
	r += strlen(" rip=");
	for (re = r; re < end && !is_word_end(*re); re++)
		;
	if (addr_tok(r, re, &a))
		return 0;
	ev_init(ev, MXG_LW_EV_AUTH_SUMMARY, MXG_LW_SRC_DOVECOT);
	ev->addr = a;
	ev->count = n > 65535 ? 65535 : n;
	return ev->kind;
}

/* "auth: passwd-file(bob,ADDR[,<SESSION>]): unknown user" and the like,
 * also from auth-worker(PID) with or without the 2.3 "conn ..." prefix.
 * The first failure text is Dovecot's: what follows it (a logged password)
 * is the client's. */
static int parse_dovecot_auth(const char *s, const char *end,
			      struct mxg_lw_event *ev)
{
	static const char *const fails[] = {
		"): unknown user", "): Password mismatch",
		"): pam_authenticate() failed",
	};
	const char *c = NULL, *o, *drv, *ip, *ipe, *p;
	union mxg_addr a;
	unsigned i;

	for (i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		p = find(s, end, fails[i]);
		if (p && (!c || p < c))
			c = p;
	}
	if (!c)
		return 0;
	for (o = c; o > s && o[-1] != '('; o--)
		if (o[-1] == ' ' || o[-1] == ')')
			return 0;
	if (o == s)
		return 0;
	for (drv = o - 1; drv > s && (is_alnum(drv[-1]) || drv[-1] == '-' ||
				      drv[-1] == '_'); drv--)
		;
	if (drv == o - 1 || (drv > s && drv[-1] != ' '))
		return 0;
	if (!find(s, drv, "auth: ") && !find(s, drv, "auth-worker("))
		return 0;
	/* o..c is "USER,ADDR" or "USER,ADDR,<SESSION>" */
	ipe = c;
	if (ipe > o && ipe[-1] == '>') {
		for (p = ipe - 1; p > o && *p != '<'; p--)
			;
		if (p == o || p[-1] != ',')
			return 0;
		ipe = p - 1;
	}
	for (ip = ipe; ip > o && ip[-1] != ','; ip--)
		;
	if (ip == o || ip - 1 == o || addr_tok(ip, ipe, &a))
		return 0;
	ev_init(ev, MXG_LW_EV_AUTH_FAIL, MXG_LW_SRC_DOVECOT);
	ev->addr = a;
	return ev->kind;
}

int mxg_lw_parse(const char *line, size_t len, struct mxg_lw_event *ev)
{
	const char *end = line + len;

	memset(ev, 0, sizeof(*ev));
	if (parse_postfix_fail(line, end, ev) ||
	    parse_postfix_msg(line, end, ev) ||
	    parse_dovecot_summary(line, end, ev) ||
	    parse_dovecot_auth(line, end, ev))
		return ev->kind;
	memset(ev, 0, sizeof(*ev));
	return MXG_LW_EV_NONE;
}

/* ---- JSON ------------------------------------------------------------- */

/* Built in a buffer no input can overflow, then copied if it fits. */
struct jbuf {
	char b[2048];
	size_t n;
};

static void jb_raw(struct jbuf *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void jb_raw(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (j->n >= sizeof(j->b))
		return;
	va_start(ap, fmt);
	r = vsnprintf(j->b + j->n, sizeof(j->b) - j->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		j->n += (size_t)r;
}

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* "key":"escaped value", at most max input bytes of v. */
static void jb_str(struct jbuf *j, const char *key, const char *v, size_t max)
{
	const unsigned char *p = (const unsigned char *)v;
	const unsigned char *end = p + strnlen(v, max);
	size_t u;

	jb_raw(j, "%s\"%s\":\"", j->n > 1 ? "," : "", key);
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			jb_raw(j, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			jb_raw(j, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			jb_raw(j, "%c", *p++);
		} else if ((u = utf8_len(p, end))) {
			jb_raw(j, "%.*s", (int)u, (const char *)p);
			p += u;
		} else {
			jb_raw(j, "?");
			p++;
		}
	}
	jb_raw(j, "\"");
}

static void jb_u64(struct jbuf *j, const char *key, __u64 v)
{
	jb_raw(j, "%s\"%s\":%llu", j->n > 1 ? "," : "", key,
	       (unsigned long long)v);
}

static int jb_copy(const struct jbuf *j, char *out, size_t size)
{
	if (j->n + 1 > size)
		return -ENOSPC;
	memcpy(out, j->b, j->n + 1);
	return 0;
}

/* "198.18.3.4" for hosts, "2001:db8:5::/64" for IPv6 prefixes. */
static void client_str(const union mxg_addr *key, unsigned plen, char *buf,
		       size_t len)
{
	struct mxg_cidr c = { .addr = *key };

	if (mxg_addr_is_v4(key) || plen >= 128) {
		mxg_addr_format(key, buf, len);
		return;
	}
	c.plen = plen;
	mxg_cidr_format(&c, buf, len);
}

/* ---- bounded tables --------------------------------------------------- */

/* Node header. Links are node index + 1; 0 is none. */
struct lw_hdr {
	__u32 hnext;  /* next in the hash chain */
	__u32 prev;   /* LRU neighbours: prev is more recent */
	__u32 next;
	__u32 hash;
};

struct lw_tab {
	__u8 *nodes;
	__u32 *bucket;
	size_t node_size;
	__u32 cap, n, mask;
	__u32 head, tail;     /* most and least recently active */
	__u64 evicted;
};

static int tab_init(struct lw_tab *t, __u32 cap, size_t node_size)
{
	__u32 nb = 1;

	while (nb < cap)
		nb <<= 1;
	memset(t, 0, sizeof(*t));
	t->node_size = (node_size + 7) & ~(size_t)7;
	t->cap = cap;
	t->mask = nb - 1;
	t->nodes = calloc(cap, t->node_size);
	t->bucket = calloc(nb, sizeof(*t->bucket));
	if (!t->nodes || !t->bucket)
		return -ENOMEM;
	return 0;
}

static void tab_free(struct lw_tab *t)
{
	free(t->nodes);
	free(t->bucket);
}

static struct lw_hdr *tab_node(const struct lw_tab *t, __u32 i)
{
	return (struct lw_hdr *)(t->nodes + (size_t)(i - 1) * t->node_size);
}

static void lru_unlink(struct lw_tab *t, __u32 i)
{
	struct lw_hdr *h = tab_node(t, i);

	if (h->prev)
		tab_node(t, h->prev)->next = h->next;
	else
		t->head = h->next;
	if (h->next)
		tab_node(t, h->next)->prev = h->prev;
	else
		t->tail = h->prev;
	h->prev = h->next = 0;
}

static void lru_push(struct lw_tab *t, __u32 i)
{
	struct lw_hdr *h = tab_node(t, i);

	h->prev = 0;
	h->next = t->head;
	if (t->head)
		tab_node(t, t->head)->prev = i;
	t->head = i;
	if (!t->tail)
		t->tail = i;
}

static void hash_unlink(struct lw_tab *t, __u32 i)
{
	struct lw_hdr *h = tab_node(t, i);
	__u32 *link = &t->bucket[h->hash & t->mask];

	while (*link && *link != i)
		link = &tab_node(t, *link)->hnext;
	if (*link)
		*link = h->hnext;
}

typedef int (*lw_eq_fn)(const struct lw_hdr *h, const void *key);

/* The node for key, made most recent; created (zeroed but for the header)
 * if missing, evicting the least recent node when full. */
static struct lw_hdr *tab_get(struct lw_tab *t, __u32 hash, const void *key,
			      lw_eq_fn eq, int *created)
{
	struct lw_hdr *h;
	__u32 i;

	for (i = t->bucket[hash & t->mask]; i; i = h->hnext) {
		h = tab_node(t, i);
		if (h->hash == hash && eq(h, key)) {
			lru_unlink(t, i);
			lru_push(t, i);
			*created = 0;
			return h;
		}
	}
	if (t->n < t->cap) {
		i = ++t->n;
	} else {
		i = t->tail;
		hash_unlink(t, i);
		lru_unlink(t, i);
		t->evicted++;
	}
	h = tab_node(t, i);
	memset(h, 0, t->node_size);
	h->hash = hash;
	h->hnext = t->bucket[hash & t->mask];
	t->bucket[hash & t->mask] = i;
	lru_push(t, i);
	*created = 1;
	return h;
}

/* ---- detector --------------------------------------------------------- */

#define ACCT_SLOTS 60

/* One failure event: a Dovecot summary is one event of n attempts. */
struct lw_fail {
	__u32 t;
	__u16 n;
	__u8 src;    /* MXG_LW_SRC_* */
	__u8 pad;
};

struct lw_client {
	struct lw_hdr h;
	union mxg_addr key;    /* the address, IPv6 masked to v6_prefix */
	union mxg_addr last;   /* the latest full address seen */
	__u32 hold_until;      /* no new ban before this (when banned) */
	__u16 dv_pending;      /* Dovecot auth-line attempts not yet matched
				* by a login summary */
	__u8 banned;
	__u8 nfail;            /* events in ring */
	__u8 head;             /* next slot of ring */
	__u8 pad[3];
	struct lw_fail ring[]; /* the last auth_max events */
};

struct lw_seen {
	union mxg_addr key;
	__u32 t;
};

struct lw_acct {
	struct lw_hdr h;
	char name[MXG_LW_ACCOUNT_LEN];
	__u32 alerted_at;
	__u8 alerted;
	__u8 nseen;
	__u8 pad[2];
	__u32 slot_id[ACCT_SLOTS];   /* message counts per time slot */
	__u32 slot_n[ACCT_SLOTS];
	struct lw_seen seen[];       /* recent clients, most seen_cap */
};

struct mxg_logwatch {
	struct mxg_logwatch_cfg cfg;
	struct lw_tab clients, accts;
	union mxg_addr v6_mask;
	__u64 seed[2];
	__u64 base;          /* wall clock of the first line */
	__u64 last;          /* latest wall clock seen */
	int started;
	unsigned seen_cap;
	unsigned slot_w;     /* seconds per message slot */
	unsigned slot_k;     /* slots in the account window */
	struct mxg_lw_stats st;
};

/* Output cursor of one mxg_logwatch_line call. */
struct lw_out {
	struct mxg_lw_action *v;
	int max, n;
};

void mxg_logwatch_cfg_default(struct mxg_logwatch_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->auth_max = 10;
	c->auth_window_s = 600;
	c->ban_ttl_s = 3600;
	c->acct_max_addrs = 10;
	c->acct_max_msgs = 300;
	c->acct_window_s = 3600;
	c->v6_prefix = 64;
}

static __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Keyed with a random seed: an attacker picking IPv6 addresses cannot aim
 * them at one hash chain. */
static __u32 hash_addr(const struct mxg_logwatch *w, const union mxg_addr *a)
{
	__u64 x, y;

	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	return (__u32)mix64(mix64(x ^ w->seed[0]) ^ y ^ w->seed[1]);
}

static __u32 hash_str(const struct mxg_logwatch *w, const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL ^ w->seed[0];

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (__u32)mix64(h ^ w->seed[1]);
}

static int client_eq(const struct lw_hdr *h, const void *key)
{
	return !memcmp(&((const struct lw_client *)h)->key, key,
		       sizeof(union mxg_addr));
}

static int acct_eq(const struct lw_hdr *h, const void *key)
{
	return !strcmp(((const struct lw_acct *)h)->name, key);
}

static int cfg_check(const struct mxg_logwatch_cfg *c, const char **why)
{
	if (c->auth_max > MXG_LW_AUTH_MAX_CAP) {
		*why = "auth_max must be at most 100";
		return -EINVAL;
	}
	if (c->auth_max && !c->auth_window_s) {
		*why = "auth_window_s must be > 0";
		return -EINVAL;
	}
	if (c->acct_max_addrs > MXG_LW_ACCT_ADDRS_CAP) {
		*why = "acct_max_addrs must be at most 63";
		return -EINVAL;
	}
	if ((c->acct_max_addrs || c->acct_max_msgs) && !c->acct_window_s) {
		*why = "acct_window_s must be > 0";
		return -EINVAL;
	}
	if (c->max_addrs > MXG_LW_TRACKED_CAP ||
	    c->max_accounts > MXG_LW_TRACKED_CAP) {
		*why = "max_addrs and max_accounts must be at most 4194304";
		return -EINVAL;
	}
	if (c->v6_prefix && (c->v6_prefix < 48 || c->v6_prefix > 128)) {
		*why = "v6_prefix must be 48..128";
		return -EINVAL;
	}
	return 0;
}

int mxg_logwatch_init(struct mxg_logwatch **wp,
		      const struct mxg_logwatch_cfg *c, const char **why)
{
	const char *dummy;
	struct mxg_logwatch *w;
	unsigned naddr, nacct;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	*wp = NULL;
	err = cfg_check(c, why);
	if (err)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w) {
		*why = "out of memory";
		return -ENOMEM;
	}
	w->cfg = *c;
	if (!w->cfg.v6_prefix)
		w->cfg.v6_prefix = 64;
	naddr = c->max_addrs ? c->max_addrs : MXG_LW_MAX_TRACKED;
	nacct = c->max_accounts ? c->max_accounts : MXG_LW_MAX_TRACKED;
	w->seen_cap = c->acct_max_addrs + 1 > MXG_LW_ALERT_ADDRS ?
		      c->acct_max_addrs + 1 : MXG_LW_ALERT_ADDRS;
	w->slot_w = c->acct_window_s > ACCT_SLOTS ?
		    (c->acct_window_s + ACCT_SLOTS - 1) / ACCT_SLOTS : 1;
	w->slot_k = c->acct_window_s ?
		    (c->acct_window_s + w->slot_w - 1) / w->slot_w : 1;
	mxg_addr_mask(&w->v6_mask, w->cfg.v6_prefix);
	if (getrandom(w->seed, sizeof(w->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(w->seed)) {
		w->seed[0] = mix64((__u64)time(NULL) ^ ((__u64)getpid() << 32));
		w->seed[1] = mix64(w->seed[0] ^ (__u64)(uintptr_t)w);
	}
	err = tab_init(&w->clients, naddr, sizeof(struct lw_client) +
		       sizeof(struct lw_fail) * (c->auth_max ? c->auth_max : 1));
	if (!err)
		err = tab_init(&w->accts, nacct, sizeof(struct lw_acct) +
			       sizeof(struct lw_seen) * w->seen_cap);
	if (err) {
		*why = "out of memory";
		mxg_logwatch_free(w);
		return err;
	}
	*wp = w;
	return 0;
}

void mxg_logwatch_free(struct mxg_logwatch *w)
{
	if (!w)
		return;
	tab_free(&w->clients);
	tab_free(&w->accts);
	free(w);
}

void mxg_logwatch_stats(const struct mxg_logwatch *w, struct mxg_lw_stats *s)
{
	*s = w->st;
	s->addrs_evicted = w->clients.evicted;
	s->accounts_evicted = w->accts.evicted;
	s->addrs = w->clients.n;
	s->accounts = w->accts.n;
}

/* Seconds since the first line; a clock stepping back is held. */
static __u32 lw_now(struct mxg_logwatch *w, __u64 now_s)
{
	if (!w->started) {
		w->started = 1;
		w->base = w->last = now_s;
	}
	if (now_s > w->last)
		w->last = now_s;
	return w->last - w->base > UINT32_MAX ? UINT32_MAX :
	       (__u32)(w->last - w->base);
}

static void client_key(const struct mxg_logwatch *w, const union mxg_addr *a,
		       union mxg_addr *key)
{
	if (mxg_addr_is_v4(a))
		*key = *a;
	else
		mxg_addr_and(key, a, &w->v6_mask);
}

/* The record of client a; "last" becomes a unless only_key (a is then a
 * key from an account's list, not an address seen on this line). */
static struct lw_client *client_get(struct mxg_logwatch *w,
				    const union mxg_addr *a, int only_key)
{
	struct lw_client *c;
	union mxg_addr key;
	int created;

	client_key(w, a, &key);
	c = (struct lw_client *)tab_get(&w->clients, hash_addr(w, &key), &key,
					client_eq, &created);
	if (created)
		c->key = c->last = key;
	if (!only_key)
		c->last = *a;
	return c;
}

static struct mxg_lw_action *out_next(struct mxg_logwatch *w,
				      struct lw_out *o)
{
	struct mxg_lw_action *a;

	if (o->n >= o->max) {
		w->st.dropped++;
		return NULL;
	}
	a = &o->v[o->n++];
	memset(a, 0, sizeof(*a));
	return a;
}

static const char *src_names(unsigned mask)
{
	if (mask == (MXG_LW_SRC_POSTFIX | MXG_LW_SRC_DOVECOT))
		return "postfix+dovecot";
	return mask == MXG_LW_SRC_DOVECOT ? "dovecot" : "postfix";
}

/* A BAN of client c, unless one was made within its hold time. 1 if made. */
static int emit_ban(struct mxg_logwatch *w, struct lw_out *o,
		     struct lw_client *c, __u32 now, __u32 hold_s,
		     const char *cause, __u32 count, __u32 window_s,
		     unsigned srcmask, const char *reason, const char *account)
{
	struct mxg_lw_action *a;
	char cs[MXG_CIDR_STRLEN], as[MXG_CIDR_STRLEN], ts[32];
	struct jbuf j;
	int compact;

	if (c->banned && now < c->hold_until)
		return 0;
	a = out_next(w, o);
	if (!a)
		return 0;
	c->banned = 1;
	c->hold_until = now + hold_s < now ? UINT32_MAX : now + hold_s;
	w->st.bans++;
	a->type = MXG_LW_BAN;
	a->cidr.addr = c->key;
	a->cidr.v4 = mxg_addr_is_v4(&c->key);
	a->cidr.plen = a->cidr.v4 ? 128 : w->cfg.v6_prefix;
	a->addr = c->last;
	a->ttl_s = w->cfg.ban_ttl_s;
	a->count = count;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	snprintf(a->account, sizeof(a->account), "%s", account ? account : "");
	mxg_cidr_format(&a->cidr, cs, sizeof(cs));
	mxg_addr_format(&a->addr, as, sizeof(as));
	mxg_format_time(w->last, ts, sizeof(ts));
	for (compact = 0; compact < 2; compact++) {
		j.n = 0;
		jb_raw(&j, "{");
		jb_str(&j, "event", "ban", 8);
		jb_str(&j, "time", ts, sizeof(ts));
		jb_str(&j, "cidr", cs, sizeof(cs));
		jb_str(&j, "addr", as, sizeof(as));
		jb_u64(&j, "ttl_s", a->ttl_s);
		jb_str(&j, "cause", cause, 32);
		jb_u64(&j, "count", count);
		jb_u64(&j, "window_s", window_s);
		if (srcmask)
			jb_str(&j, "source", src_names(srcmask), 32);
		if (account)
			jb_str(&j, "account", account, compact ? 40 : 128);
		if (!compact)
			jb_str(&j, "reason", a->reason, sizeof(a->reason));
		jb_raw(&j, "}");
		if (!jb_copy(&j, a->json, sizeof(a->json)))
			break;
	}
	return 1;
}

static void auth_event(struct mxg_logwatch *w, struct lw_out *o,
		       const struct mxg_lw_event *ev, __u32 now)
{
	const struct mxg_logwatch_cfg *cfg = &w->cfg;
	struct lw_client *c = client_get(w, &ev->addr, 0);
	unsigned n = ev->count, i, mask = 0;
	char reason[MXG_LW_REASON_LEN], win[16];
	__u32 sum = 0;
	struct lw_fail *f;

	if (ev->source == MXG_LW_SRC_DOVECOT) {
		if (ev->kind == MXG_LW_EV_AUTH_FAIL) {
			if (c->dv_pending < UINT16_MAX)
				c->dv_pending++;
		} else if (c->dv_pending >= n) {
			c->dv_pending -= n;
			n = 0;
		} else {
			n -= c->dv_pending;
			c->dv_pending = 0;
		}
	}
	if (!n)
		return;
	w->st.auth_failures += n;
	f = &c->ring[c->head];
	f->t = now;
	f->n = n;
	f->src = ev->source;
	c->head = (c->head + 1) % cfg->auth_max;
	if (c->nfail < cfg->auth_max)
		c->nfail++;
	/* The last auth_max events hold the answer: if they are not enough
	 * within the window, older ones are outside it. */
	for (i = 0; i < c->nfail; i++) {
		if (now - c->ring[i].t < cfg->auth_window_s) {
			sum += c->ring[i].n;
			mask |= c->ring[i].src;
		}
	}
	if (sum < cfg->auth_max || (c->banned && now < c->hold_until))
		return;
	mxg_format_duration(cfg->auth_window_s, win, sizeof(win));
	snprintf(reason, sizeof(reason), "%u %sauth failures in %s (%s)",
		 (unsigned)sum, mask == MXG_LW_SRC_POSTFIX ? "SASL " : "", win,
		 src_names(mask));
	/* A new ban needs auth_max new failures. */
	if (emit_ban(w, o, c, now, cfg->auth_window_s, "auth_failures", sum,
		     cfg->auth_window_s, mask, reason, NULL)) {
		c->nfail = 0;
		c->head = 0;
	}
}

static struct lw_acct *acct_get(struct mxg_logwatch *w, const char *name)
{
	struct lw_acct *a;
	int created;

	a = (struct lw_acct *)tab_get(&w->accts, hash_str(w, name), name,
				      acct_eq, &created);
	if (created)
		snprintf(a->name, sizeof(a->name), "%s", name);
	return a;
}

/* Messages in the window, counted per slot of slot_w seconds. */
static __u32 acct_count_msg(struct mxg_logwatch *w, struct lw_acct *a,
			    __u32 now)
{
	__u32 sid = now / w->slot_w, sum = 0;
	unsigned i, s = sid % ACCT_SLOTS;

	if (a->slot_id[s] != sid) {
		a->slot_id[s] = sid;
		a->slot_n[s] = 0;
	}
	if (a->slot_n[s] < UINT32_MAX)
		a->slot_n[s]++;
	for (i = 0; i < ACCT_SLOTS; i++)
		if (sid - a->slot_id[i] < w->slot_k && sum + a->slot_n[i] >= sum)
			sum += a->slot_n[i];
	return sum;
}

/* Records client key; returns 1 if it was not among the recent clients.
 * *live: distinct clients within the window. */
static int acct_see(struct mxg_logwatch *w, struct lw_acct *a,
		    const union mxg_addr *key, __u32 now, unsigned *live)
{
	__u32 win = w->cfg.acct_window_s ? w->cfg.acct_window_s : UINT32_MAX;
	unsigned i, j, oldest = 0;
	int fresh = 1;

	for (i = 0; i < a->nseen; i++) {
		if (!memcmp(&a->seen[i].key, key, sizeof(*key))) {
			a->seen[i].t = now;
			fresh = 0;
		}
	}
	if (fresh) {
		for (i = j = 0; i < a->nseen; i++)
			if (now - a->seen[i].t < win)
				a->seen[j++] = a->seen[i];
		a->nseen = j;
		if (a->nseen < w->seen_cap) {
			i = a->nseen++;
		} else {
			for (i = 1; i < a->nseen; i++)
				if (a->seen[i].t < a->seen[oldest].t)
					oldest = i;
			i = oldest;
		}
		a->seen[i].key = *key;
		a->seen[i].t = now;
	}
	for (i = j = 0; i < a->nseen; i++)
		if (now - a->seen[i].t < win)
			j++;
	*live = j;
	return fresh;
}

static void emit_alert(struct mxg_logwatch *w, struct lw_out *o,
		       const struct lw_acct *a, __u32 now, int by_addrs,
		       unsigned live, __u32 msgs, const char *reason)
{
	const struct mxg_logwatch_cfg *cfg = &w->cfg;
	struct mxg_lw_action *act = out_next(w, o);
	char ts[32], cs[MXG_CIDR_STRLEN];
	unsigned i, listed;
	struct jbuf j;
	int compact;

	if (!act)
		return;
	w->st.alerts++;
	act->type = MXG_LW_ALERT;
	act->count = by_addrs ? live : msgs;
	snprintf(act->reason, sizeof(act->reason), "%s", reason);
	snprintf(act->account, sizeof(act->account), "%s", a->name);
	mxg_format_time(w->last, ts, sizeof(ts));
	for (compact = 0; compact < 2; compact++) {
		j.n = 0;
		jb_raw(&j, "{");
		jb_str(&j, "event", "account_alert", 16);
		jb_str(&j, "time", ts, sizeof(ts));
		jb_str(&j, "account", a->name, compact ? 40 : sizeof(a->name));
		jb_str(&j, "trigger", by_addrs ? "clients" : "messages", 16);
		jb_u64(&j, "clients", live);
		jb_u64(&j, "max_clients", cfg->acct_max_addrs);
		jb_u64(&j, "messages", msgs);
		jb_u64(&j, "max_messages", cfg->acct_max_msgs);
		jb_u64(&j, "window_s", cfg->acct_window_s);
		jb_raw(&j, ",\"ban\":%s", cfg->acct_ban ? "true" : "false");
		if (!compact)
			jb_str(&j, "reason", act->reason, sizeof(act->reason));
		jb_raw(&j, ",\"addresses\":[");
		for (i = listed = 0; !compact && i < a->nseen &&
		     listed < MXG_LW_ALERT_ADDRS; i++) {
			if (now - a->seen[i].t >= cfg->acct_window_s)
				continue;
			client_str(&a->seen[i].key, cfg->v6_prefix, cs,
				   sizeof(cs));
			jb_raw(&j, "%s\"%s\"", listed++ ? "," : "", cs);
		}
		jb_raw(&j, "]}");
		if (!jb_copy(&j, act->json, sizeof(act->json)))
			break;
	}
}

/* "account NAME" + what, the name shortened so that what always fits. */
static void acct_reason(char *buf, size_t size, const char *name,
			const char *what)
{
	static const char pre[] = "account ";
	size_t wl = strlen(what), nl = strlen(name), room;

	room = size - 1 - (sizeof(pre) - 1) - wl;
	if (nl > room)
		nl = room;
	memcpy(buf, pre, sizeof(pre) - 1);
	memcpy(buf + sizeof(pre) - 1, name, nl);
	memcpy(buf + sizeof(pre) - 1 + nl, what, wl + 1);
}

static void acct_event(struct mxg_logwatch *w, struct lw_out *o,
		       const struct mxg_lw_event *ev, __u32 now)
{
	const struct mxg_logwatch_cfg *cfg = &w->cfg;
	struct lw_acct *a = acct_get(w, ev->account);
	char reason[MXG_LW_REASON_LEN], win[16], what[64];
	union mxg_addr key;
	int fresh, in_alert, by_addrs;
	unsigned live, i;
	__u32 msgs;

	w->st.messages++;
	client_key(w, &ev->addr, &key);
	msgs = acct_count_msg(w, a, now);
	fresh = acct_see(w, a, &key, now, &live);
	in_alert = a->alerted && now - a->alerted_at < cfg->acct_window_s;
	by_addrs = cfg->acct_max_addrs && live > cfg->acct_max_addrs;
	mxg_format_duration(cfg->acct_window_s, win, sizeof(win));
	if (by_addrs)
		snprintf(what, sizeof(what), " used from %u clients in %s",
			 live, win);
	else
		snprintf(what, sizeof(what), " sent %u messages in %s",
			 (unsigned)msgs, win);
	acct_reason(reason, sizeof(reason), a->name, what);
	if (!in_alert && (by_addrs || (cfg->acct_max_msgs &&
				       msgs > cfg->acct_max_msgs))) {
		a->alerted = 1;
		a->alerted_at = now;
		emit_alert(w, o, a, now, by_addrs, live, msgs, reason);
		if (!cfg->acct_ban)
			return;
		client_get(w, &ev->addr, 0);
		for (i = 0; i < a->nseen; i++) {
			if (now - a->seen[i].t >= cfg->acct_window_s)
				continue;
			emit_ban(w, o, client_get(w, &a->seen[i].key, 1), now,
				 cfg->acct_window_s, "account",
				 by_addrs ? live : msgs, cfg->acct_window_s, 0,
				 reason, a->name);
		}
	} else if (in_alert && fresh && cfg->acct_ban) {
		emit_ban(w, o, client_get(w, &ev->addr, 0), now,
			 cfg->acct_window_s, "account",
			 by_addrs ? live : msgs, cfg->acct_window_s, 0, reason,
			 a->name);
	}
}

int mxg_logwatch_line(struct mxg_logwatch *w, const char *line, size_t len,
		      __u64 now_s, struct mxg_lw_action *out, int max_out)
{
	struct lw_out o = { .v = out, .max = out ? max_out : 0 };
	struct mxg_lw_event ev;
	__u32 now;

	w->st.lines++;
	if (!mxg_lw_parse(line, len, &ev))
		return 0;
	now = lw_now(w, now_s);
	if (ev.kind == MXG_LW_EV_MESSAGE) {
		if (w->cfg.acct_max_addrs || w->cfg.acct_max_msgs)
			acct_event(w, &o, &ev, now);
	} else if (w->cfg.auth_max) {
		auth_event(w, &o, &ev, now);
	}
	return o.n;
}

/* ---- follower --------------------------------------------------------- */

#define FOLLOW_CHUNK 65536
#define FILE_WATCH (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_WATCH (IN_CREATE | IN_MOVED_TO)

typedef void (*follow_cb)(const char *line, size_t len, void *ctx);

static void stream_reset(struct mxg_follow_stream *s)
{
	s->fd = -1;
	s->wd = -1;
	s->pos = 0;
	s->len = 0;
	s->skipping = 0;
}

static int deliver(char *line, size_t len, follow_cb cb, void *ctx)
{
	if (len && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	cb(line, len, ctx);
	return 1;
}

/* Split data into lines; the unfinished tail waits in s->part. */
static int feed(struct mxg_follow *f, struct mxg_follow_stream *s, char *data,
		size_t len, follow_cb cb, void *ctx)
{
	int n = 0;

	while (len) {
		char *nl = memchr(data, '\n', len);
		size_t seg = nl ? (size_t)(nl - data) : len;

		if (s->skipping) {
			if (nl)
				s->skipping = 0;
		} else if (s->len + seg > MXG_FOLLOW_LINE_MAX) {
			f->skipped++;
			s->len = 0;
			s->skipping = !nl;
		} else if (nl && !s->len) {
			n += deliver(data, seg, cb, ctx);
		} else {
			memcpy(s->part + s->len, data, seg);
			s->len += seg;
			if (nl) {
				n += deliver(s->part, s->len, cb, ctx);
				s->len = 0;
			}
		}
		seg += nl ? 1 : 0;
		data += seg;
		len -= seg;
	}
	return n;
}

/* The last line of a stream that ends without '\n'. */
static int flush_part(struct mxg_follow_stream *s, follow_cb cb, void *ctx)
{
	int n = 0;

	if (s->len && !s->skipping)
		n = deliver(s->part, s->len, cb, ctx);
	s->len = 0;
	s->skipping = 0;
	return n;
}

/* Everything a regular file has past s->pos; a file now shorter than that
 * was truncated (copytruncate): start again at 0. */
static int drain_file(struct mxg_follow *f, struct mxg_follow_stream *s,
		      follow_cb cb, void *ctx)
{
	struct stat st;
	ssize_t r;
	int n = 0;

	if (fstat(s->fd, &st))
		return -errno;
	if (st.st_size < s->pos) {
		f->truncations++;
		s->pos = 0;
		s->len = 0;
		s->skipping = 0;
	}
	for (;;) {
		r = pread(s->fd, f->chunk, FOLLOW_CHUNK, s->pos);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		if (!r)
			break;
		s->pos += r;
		n += feed(f, s, f->chunk, r, cb, ctx);
	}
	return n;
}

static int drain_stdin(struct mxg_follow *f, follow_cb cb, void *ctx)
{
	struct mxg_follow_stream *s = &f->cur;
	ssize_t r;
	int n = 0;

	while (!f->eof) {
		r = read(s->fd, f->chunk, FOLLOW_CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		if (!r) {
			f->eof = 1;
			n += flush_part(s, cb, ctx);
			break;
		}
		s->pos += r;
		n += feed(f, s, f->chunk, r, cb, ctx);
	}
	return n;
}

/* Read the rotated file one last time and let it go. */
static int close_old(struct mxg_follow *f, follow_cb cb, void *ctx)
{
	struct mxg_follow_stream *s = &f->old;
	int n;

	if (s->fd < 0)
		return 0;
	n = drain_file(f, s, cb, ctx);
	if (n < 0)
		n = 0;
	n += flush_part(s, cb, ctx);
	if (f->ifd >= 0 && s->wd >= 0 && s->wd != f->cur.wd)
		inotify_rm_watch(f->ifd, s->wd);
	close(s->fd);
	stream_reset(s);
	return n;
}

/* The path names another file: the current one has been read to its end;
 * it becomes the old one and the new one is read from its start. */
static int check_rotation(struct mxg_follow *f, follow_cb cb, void *ctx)
{
	struct stat st;
	char *part;
	int fd, n = 0, r;

	if (stat(f->path, &st) ||
	    (st.st_dev == f->cur.dev && st.st_ino == f->cur.ino))
		return 0;
	fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_dev == f->cur.dev && st.st_ino == f->cur.ino)) {
		close(fd);
		return 0;
	}
	n += close_old(f, cb, ctx);
	part = f->old.part;
	f->old = f->cur;
	f->cur.part = part;
	stream_reset(&f->cur);
	f->cur.fd = fd;
	f->cur.dev = st.st_dev;
	f->cur.ino = st.st_ino;
	if (f->ifd >= 0)
		f->cur.wd = inotify_add_watch(f->ifd, f->path, FILE_WATCH);
	f->rotations++;
	r = drain_file(f, &f->cur, cb, ctx);
	return r < 0 ? r : n + r;
}

static void drain_inotify(struct mxg_follow *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (f->ifd < 0)
		return;
	while (read(f->ifd, buf, sizeof(buf)) > 0)
		;
}

/* Inotify on the file and its directory; without it the caller's timer
 * still finds everything. */
static void watch_init(struct mxg_follow *f)
{
	char *dir = strdup(f->path), *slash;

	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd < 0 || !dir)
		goto fail;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	f->cur.wd = inotify_add_watch(f->ifd, f->path, FILE_WATCH);
	f->dir_wd = inotify_add_watch(f->ifd, dir, DIR_WATCH);
	if (f->cur.wd < 0 || f->dir_wd < 0)
		goto fail;
	free(dir);
	return;
fail:
	free(dir);
	if (f->ifd >= 0)
		close(f->ifd);
	f->ifd = -1;
	f->cur.wd = -1;
	f->dir_wd = -1;
}

int mxg_follow_open(struct mxg_follow *f, const char *path, unsigned flags)
{
	struct stat st;
	int err, fl;

	memset(f, 0, sizeof(*f));
	stream_reset(&f->cur);
	stream_reset(&f->old);
	f->ifd = -1;
	f->dir_wd = -1;
	f->stdin_flags = -1;
	f->path = strdup(path);
	f->chunk = malloc(FOLLOW_CHUNK);
	f->cur.part = malloc(MXG_FOLLOW_LINE_MAX + 1);
	f->old.part = malloc(MXG_FOLLOW_LINE_MAX + 1);
	if (!f->path || !f->chunk || !f->cur.part || !f->old.part) {
		err = -ENOMEM;
		goto fail;
	}
	if (!strcmp(path, "-")) {
		f->is_stdin = 1;
		f->cur.fd = STDIN_FILENO;
		fl = fcntl(STDIN_FILENO, F_GETFL);
		if (fl < 0 || fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK)) {
			err = -errno;
			f->cur.fd = -1;
			goto fail;
		}
		f->stdin_flags = fl;
		return 0;
	}
	f->cur.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->cur.fd < 0 || fstat(f->cur.fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto fail;
	}
	f->cur.dev = st.st_dev;
	f->cur.ino = st.st_ino;
	if (!(flags & MXG_FOLLOW_FROM_START) && st.st_size > 0) {
		char last;

		/* Starting at the end: a line being written now is not
		 * whole; its tail must not pass for a line. */
		f->cur.pos = st.st_size;
		if (pread(f->cur.fd, &last, 1, st.st_size - 1) == 1 &&
		    last != '\n')
			f->cur.skipping = 1;
	}
	watch_init(f);
	return 0;
fail:
	mxg_follow_close(f);
	return err;
}

int mxg_follow_fd(const struct mxg_follow *f)
{
	return f->is_stdin ? f->cur.fd : f->ifd;
}

int mxg_follow_eof(const struct mxg_follow *f)
{
	return f->eof;
}

int mxg_follow_read(struct mxg_follow *f, follow_cb cb, void *ctx)
{
	int n = 0, r;

	if (f->cur.fd < 0)
		return -EBADF;
	if (f->is_stdin)
		return drain_stdin(f, cb, ctx);
	drain_inotify(f);
	if (f->old.fd >= 0) {
		r = drain_file(f, &f->old, cb, ctx);
		if (r > 0)
			n += r;
	}
	r = drain_file(f, &f->cur, cb, ctx);
	if (r < 0)
		return r;
	n += r;
	r = check_rotation(f, cb, ctx);
	if (r < 0)
		return r;
	n += r;
	/* The writers have moved to the new file: the old one is done. */
	if (f->old.fd >= 0 && f->cur.pos > 0)
		n += close_old(f, cb, ctx);
	return n;
}

void mxg_follow_close(struct mxg_follow *f)
{
	if (f->is_stdin) {
		if (f->stdin_flags >= 0)
			fcntl(STDIN_FILENO, F_SETFL, f->stdin_flags);
	} else if (f->cur.fd >= 0) {
		close(f->cur.fd);
	}
	if (f->old.fd >= 0)
		close(f->old.fd);
	if (f->ifd >= 0)
		close(f->ifd);
	free(f->path);
	free(f->chunk);
	free(f->cur.part);
	free(f->old.part);
	memset(f, 0, sizeof(*f));
	stream_reset(&f->cur);
	stream_reset(&f->old);
	f->ifd = -1;
	f->dir_wd = -1;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Address list files (plain/Spamhaus DROP, `ipset save`, gzip or not) read
 * into one deduplicated list of CIDRs, all or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "listfmt.h"

/* Longest line accepted, without its line end. Nothing legitimate in a list
 * comes close; a longer one is a wrong file (a binary, a minified JSON). */
#define MXG_LIST_LINE_MAX 4096
/* Largest input accepted (after decompression): 1 GiB is ~100M entries, far
 * more than the maps hold; anything bigger is a mistake or a gzip bomb. */
#define MXG_LIST_READ_MAX (1ul << 30)
/* Bytes of an offending value quoted in a message. */
#define MXG_LIST_SHOW_MAX 64

/* Entries reserved up front from the line count, at most this many (about
 * 170 MB, what the block maps hold); past that the array doubles as needed. */
#define MXG_LIST_RESERVE_MAX (1u << 21)

struct parser {
	struct mxg_list *out;
	struct mxg_list_error *err;
	unsigned line;
	char set[MXG_LIST_SHOW_MAX + 4]; /* ipset: the one set the file holds */
};

static void set_file(struct mxg_list_error *err, const char *name)
{
	snprintf(err->file, sizeof(err->file), "%s", name ? name : "");
}

__attribute__((format(printf, 3, 4)))
static void set_err(struct mxg_list_error *err, unsigned line,
		    const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* A value as it may be quoted in a message: bounded, control bytes as '?'
 * so a binary or hostile line cannot garble a terminal. */
static const char *show(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, max = dstlen - 4;

	if (max > MXG_LIST_SHOW_MAX)
		max = MXG_LIST_SHOW_MAX;
	for (i = 0; i < n && i < max; i++) {
		unsigned char c = s[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	if (i < n) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
	return dst;
}

static inline int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static inline int is_comment(char c)
{
	return c == '#' || c == ';';
}

/* Trim whitespace from both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_ws(**s))
		(*s)++;
	while (*e > *s && is_ws((*e)[-1]))
		(*e)--;
}

/* Append a trimmed note to l's notes, cut to fit MXG_LIST_NOTE_LEN without
 * splitting a UTF-8 sequence; *off its offset (0 for an empty note). */
static int add_note(struct mxg_list *l, const char *s, const char *e, __u32 *off)
{
	size_t n, need;

	trim(&s, &e);
	n = e - s;
	*off = 0;
	if (!n)
		return 0;
	if (n > MXG_LIST_NOTE_LEN - 1) {
		n = MXG_LIST_NOTE_LEN - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	need = (l->notes_len ? l->notes_len : 1) + n + 1;
	if (need > UINT32_MAX)
		return -E2BIG;
	if (need > l->notes_cap) {
		size_t cap = l->notes_cap ? l->notes_cap : 4096;
		char *v;

		while (cap < need)
			cap *= 2;
		v = realloc(l->notes, cap);
		if (!v)
			return -ENOMEM;
		l->notes = v;
		l->notes_cap = cap;
	}
	if (!l->notes_len)
		l->notes[l->notes_len++] = '\0'; /* offset 0: no note */
	*off = (__u32)l->notes_len;
	memcpy(l->notes + l->notes_len, s, n);
	l->notes[l->notes_len + n] = '\0';
	l->notes_len += n + 1;
	return 0;
}

static inline __u32 cidr_hash(const struct mxg_cidr *c)
{
	uint64_t a, b, h;

	memcpy(&a, c->addr.b, 8);
	memcpy(&b, c->addr.b + 8, 8);
	/* murmur3 fmix64 over both halves and the prefix length */
	h = a * 0x9e3779b97f4a7c15ull ^ b ^ ((uint64_t)c->plen << 56);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (__u32)h;
}

static inline int cidr_eq(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	return a->plen == b->plen && !memcmp(a->addr.b, b->addr.b, 16);
}

/* Fault in a fresh allocation at once. One page fault per 4 KiB page was most
 * of the cost of a million-entry list (on the development VM, 84 MB of
 * entries: 200 ms touched page by page, 45 ms populated in one call).
 * Best effort: before Linux 5.14 the call fails and the pages fault in use. */
static void prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	static uintptr_t pg;
	uintptr_t s, e;

	if (len < (1u << 20))
		return;
	if (!pg)
		pg = sysconf(_SC_PAGESIZE);
	s = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	e = ((uintptr_t)p + len) & ~(pg - 1);
	if (e > s)
		madvise((void *)s, e - s, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

/* Room for `n` entries. */
static int reserve(struct mxg_list *l, size_t n)
{
	void *v;

	if (n <= l->cap)
		return 0;
	v = realloc(l->v, n * sizeof(*l->v));
	if (!v)
		return -ENOMEM;
	prefault((struct mxg_list_entry *)v + l->cap,
		 (n - l->cap) * sizeof(*l->v));
	l->v = v;
	l->cap = n;
	return 0;
}

/* Append an entry; duplicates go at the end, in dedup(). */
static int add_entry(struct parser *p, const struct mxg_cidr *c,
		     const char *note, const char *note_end)
{
	struct mxg_list *l = p->out;
	struct mxg_list_entry *ent;
	int ret;

	if (l->n == l->cap) {
		ret = reserve(l, l->cap ? l->cap * 2 : 256);
		if (ret)
			return ret;
	}
	ent = &l->v[l->n];
	ent->cidr = *c;
	ent->line = p->line;
	ent->note = 0;
	if (note) {
		ret = add_note(l, note, note_end, &ent->note);
		if (ret)
			return ret;
	}
	l->n++;
	return 0;
}

/* A slot of the dedup table: entry index + 1 (0 = empty) and 32 bits of the
 * entry's hash, compared first so a probe rarely touches an entry. */
struct slot {
	__u32 idx;
	__u32 hash;
};

/* Slots of the table ahead of the one probed that are prefetched. */
#define MXG_DEDUP_AHEAD 16

/* Drop repeated CIDRs in place, keeping the first of each in file order.
 * One pass after parsing rather than a lookup per line: knowing the next
 * entries, it prefetches their slots, so the cache and TLB misses of a
 * large table overlap instead of costing ~150 ns each, one after another. */
static int dedup(struct mxg_list *l)
{
	struct mxg_list_entry *v = l->v;
	size_t slots = 1024, mask, i, h, out = 0;
	struct slot *t;
	__u32 hash;

	if (l->n < 2)
		return 0;
	/* slot indices are 32 bits; 1 GiB of input stays far below */
	if (l->n >= (1u << 31))
		return -E2BIG;
	while (slots < 2 * l->n)
		slots *= 2;
	mask = slots - 1;
	t = calloc(slots, sizeof(*t));
	if (!t)
		return -ENOMEM;
	prefault(t, slots * sizeof(*t));
	for (i = 0; i < l->n; i++) {
		if (i + MXG_DEDUP_AHEAD < l->n) {
			h = cidr_hash(&v[i + MXG_DEDUP_AHEAD].cidr) & mask;
			__builtin_prefetch(&t[h], 1);
		}
		hash = cidr_hash(&v[i].cidr);
		for (h = hash & mask; t[h].idx; h = (h + 1) & mask) {
			if (t[h].hash == hash && cidr_eq(&v[t[h].idx - 1].cidr,
							 &v[i].cidr))
				break;
		}
		if (t[h].idx)
			continue;
		/* out <= i: entries before out are final */
		if (out != i)
			v[out] = v[i];
		t[h].idx = ++out;
		t[h].hash = hash;
	}
	l->n = out;
	free(t);
	return 0;
}

static int parse_cidr(struct parser *p, const char *s, const char *e,
		      struct mxg_cidr *c)
{
	char tok[MXG_LIST_LINE_MAX + 1], shown[MXG_LIST_SHOW_MAX + 4];
	const char *why = NULL;
	size_t n = e - s;

	memcpy(tok, s, n);
	tok[n] = '\0';
	if (!mxg_cidr_parse(tok, c, &why))
		return 0;
	set_err(p->err, p->line, "invalid CIDR '%s': %s",
		show(shown, sizeof(shown), s, n),
		why ? why : "not an address or CIDR");
	return -EINVAL;
}

/* "CIDR", "CIDR ; note", "CIDR # note"; s..e trimmed, not a comment line. */
static int parse_plain(struct parser *p, const char *s, const char *e)
{
	char shown[2][MXG_LIST_SHOW_MAX + 4];
	const char *c = s, *t = s, *rest;
	struct mxg_cidr cidr;
	int ret;

	while (c < e && !is_comment(*c))
		c++;
	while (t < c && !is_ws(*t))
		t++;
	ret = parse_cidr(p, s, t, &cidr);
	if (ret)
		return ret;
	rest = t;
	while (rest < c && is_ws(*rest))
		rest++;
	if (rest < c) {
		const char *rend = c;

		trim(&rest, &rend);
		set_err(p->err, p->line,
			"unexpected '%s' after '%s' (a comment starts with '#' or ';')",
			show(shown[0], sizeof(shown[0]), rest, rend - rest),
			show(shown[1], sizeof(shown[1]), s, t - s));
		return -EINVAL;
	}
	return add_entry(p, &cidr, c < e ? c + 1 : NULL, e);
}

/* Next token of an ipset line: a bare word or a "quoted string" (ipset
 * forbids '"' inside comments, so there is no escaping). 1 with the token
 * in [*ts, *te), 0 at the end of the line, -EINVAL on an open quote. */
static int next_tok(const char **cur, const char *e, const char **ts,
		    const char **te)
{
	const char *s = *cur;

	while (s < e && is_ws(*s))
		s++;
	if (s == e)
		return 0;
	if (*s == '"') {
		const char *q = memchr(s + 1, '"', e - s - 1);

		if (!q)
			return -EINVAL;
		*ts = s + 1;
		*te = q;
		*cur = q + 1;
		return 1;
	}
	*ts = s;
	while (s < e && !is_ws(*s))
		s++;
	*te = s;
	*cur = s;
	return 1;
}

static inline int tok_is(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !memcmp(s, word, n);
}

/* `create NAME TYPE ...` (ignored) or `add NAME CIDR [options]`. */
static int parse_ipset(struct parser *p, const char *s, const char *e)
{
	const char *cur = s, *ts, *te, *cs, *ce, *note = NULL, *note_end = NULL;
	const char *what;
	char shown[MXG_LIST_SHOW_MAX + 4];
	struct mxg_cidr cidr;
	int ret;

	next_tok(&cur, e, &ts, &te); /* s..e is trimmed and not empty */
	if (tok_is(ts, te, "create"))
		return 0;
	if (!tok_is(ts, te, "add")) {
		set_err(p->err, p->line,
			"unexpected '%s' in ipset save output (expected 'create' or 'add')",
			show(shown, sizeof(shown), ts, te - ts));
		return -EINVAL;
	}
	if (next_tok(&cur, e, &ts, &te) != 1 ||
	    next_tok(&cur, e, &cs, &ce) != 1) {
		set_err(p->err, p->line, "ipset 'add' without a set name and address");
		return -EINVAL;
	}
	/* `ipset save` dumps every set; an allowlist set among them must not
	 * end up in the blocklist, so a file holds one set. */
	show(shown, sizeof(shown), ts, te - ts);
	if (!p->set[0]) {
		snprintf(p->set, sizeof(p->set), "%s", shown);
	} else if (strcmp(p->set, shown)) {
		set_err(p->err, p->line,
			"a second ipset set '%s' after '%s': save one set per file (ipset save SETNAME)",
			shown, p->set);
		return -EINVAL;
	}
	ret = parse_cidr(p, cs, ce, &cidr);
	if (ret)
		return ret;
	/* Options (timeout, packets, bytes, skb*) are ignored but for these. */
	while ((ret = next_tok(&cur, e, &ts, &te)) == 1) {
		if (tok_is(ts, te, "nomatch")) {
			/* An exception carved out of a wider entry: loading it
			 * as an entry would do the opposite of what it says. */
			what = "'nomatch' (an exception) is not supported";
			goto bad;
		}
		if (tok_is(ts, te, "comment")) {
			ret = next_tok(&cur, e, &note, &note_end);
			if (ret == 0) {
				what = "'comment' without text";
				goto bad;
			}
			if (ret < 0)
				break;
		}
	}
	if (ret < 0) {
		what = "unterminated quote";
		goto bad;
	}
	return add_entry(p, &cidr, note, note_end);
bad:
	set_err(p->err, p->line, "ipset entry '%s': %s",
		show(shown, sizeof(shown), cs, ce - cs), what);
	return -EINVAL;
}

static int starts_word(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) > n && !memcmp(s, word, n) && is_ws(s[n]);
}

/* Give back what the line count reserved for comments and duplicates. */
static void shrink(struct mxg_list *l)
{
	void *v;

	if (!l->n) {
		free(l->v);
		l->v = NULL;
		l->cap = 0;
	} else if (l->cap - l->n > l->n / 4) {
		v = realloc(l->v, l->n * sizeof(*l->v));
		if (v) {
			l->v = v;
			l->cap = l->n;
		}
	}
}

/* Lines in buf, at most MXG_LIST_RESERVE_MAX. */
static size_t count_lines(const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len, *nl;
	size_t n = len ? 1 : 0;

	while (s < end && n < MXG_LIST_RESERVE_MAX &&
	       (nl = memchr(s, '\n', end - s))) {
		n++;
		s = nl + 1;
	}
	return n;
}

int mxg_list_parse(const char *name, const char *buf, size_t len,
		   struct mxg_list *out, struct mxg_list_error *err)
{
	struct mxg_list_error scratch;
	struct parser p = { .out = out };
	const char *s = buf, *end = buf + len;
	int format = -1, ret = 0;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	set_file(err, name);
	memset(out, 0, sizeof(*out));
	p.err = err;

	ret = reserve(out, count_lines(buf, len));
	if (ret)
		goto done;
	/* A UTF-8 byte order mark, as Windows editors write it. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		s += 3;
	while (s < end) {
		const char *nl = memchr(s, '\n', end - s);
		const char *e = nl ? nl : end, *next = nl ? nl + 1 : end;

		p.line++;
		if (e > s && e[-1] == '\r')
			e--;
		if (e - s > MXG_LIST_LINE_MAX) {
			set_err(err, p.line, "line longer than %d bytes",
				MXG_LIST_LINE_MAX);
			ret = -EINVAL;
			break;
		}
		if (memchr(s, '\0', e - s)) {
			set_err(err, p.line, "NUL byte: not a text file");
			ret = -EINVAL;
			break;
		}
		trim(&s, &e);
		if (s == e || is_comment(*s)) {
			s = next;
			continue;
		}
		if (format < 0) {
			format = (starts_word(s, e, "create") ||
				  starts_word(s, e, "add")) ?
				 MXG_LIST_IPSET : MXG_LIST_PLAIN;
		}
		if (format == MXG_LIST_IPSET)
			ret = parse_ipset(&p, s, e);
		else
			ret = parse_plain(&p, s, e);
		if (ret)
			break;
		s = next;
	}
	if (!ret)
		ret = dedup(out);
done:
	if (ret) {
		if (ret != -EINVAL && !err->msg[0])
			set_err(err, p.line, "%s", strerror(-ret));
		mxg_list_free(out);
		return ret;
	}
	out->format = format < 0 ? MXG_LIST_PLAIN : format;
	shrink(out);
	return 0;
}

/* Read all of gz into a malloc'd buffer. */
static int read_all(gzFile gz, char **data, size_t *len,
		    struct mxg_list_error *err)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	int r, zerr, ret = 0;
	const char *zmsg;

	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				set_err(err, 0, "cannot read: %s", strerror(ENOMEM));
				goto out;
			}
			buf = nb;
		}
		r = gzread(gz, buf + n, cap - n > INT_MAX ? INT_MAX : cap - n);
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += r;
		if (n > MXG_LIST_READ_MAX) {
			ret = -EFBIG;
			set_err(err, 0, "cannot read: larger than %lu MiB",
				MXG_LIST_READ_MAX >> 20);
			goto out;
		}
	}
	/* gzread() ends a truncated stream with 0, not -1: ask. */
	zmsg = gzerror(gz, &zerr);
	if (zerr == Z_OK || zerr == Z_STREAM_END) {
		ret = 0;
	} else if (zerr == Z_ERRNO) {
		if (ret >= 0)
			ret = -EIO;
		set_err(err, 0, "cannot read: %s", strerror(-ret));
	} else {
		/* zlib prefixes its message with the path, here "<fd:N>: " */
		const char *colon = strstr(zmsg, ": ");

		if (colon && !strncmp(zmsg, "<fd:", 4))
			zmsg = colon + 2;
		ret = -EIO;
		set_err(err, 0, "cannot read: bad gzip data: %s", zmsg);
	}
out:
	if (ret) {
		free(buf);
		return ret;
	}
	*data = buf;
	*len = n;
	return 0;
}

int mxg_list_read(const char *path, struct mxg_list *out,
		  struct mxg_list_error *err)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	struct mxg_list_error scratch;
	char *data = NULL;
	size_t len = 0;
	gzFile gz;
	int fd, ret, gzip;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	set_file(err, name);
	memset(out, 0, sizeof(*out));

	/* gzclose() closes its descriptor: give it a copy of stdin. */
	if (!strcmp(path, "-"))
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_err(err, 0, "cannot open: %s", strerror(-ret));
		return ret;
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		set_err(err, 0, "cannot open: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	gzbuffer(gz, 256 * 1024);
	ret = read_all(gz, &data, &len, err);
	gzip = !gzdirect(gz);
	gzclose_r(gz);
	if (ret)
		return ret;
	ret = mxg_list_parse(name, data, len, out, err);
	free(data);
	if (!ret)
		out->gzip = gzip;
	return ret;
}

void mxg_list_free(struct mxg_list *l)
{
	if (!l)
		return;
	free(l->v);
	free(l->notes);
	memset(l, 0, sizeof(*l));
}

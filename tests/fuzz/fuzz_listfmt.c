// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libFuzzer target: list files (plain, ipset) through mxg_list_parse; built
 * with FUZZ_LIST_READ (fuzz_listgz.c) it also reads them from a memfd with
 * mxg_list_read, as given (gzip or not) and gzip-compressed here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "listfmt.h"

#ifndef FUZZ_LIST_READ
#define FUZZ_LIST_READ 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

static void die(const char *what, const struct mxg_list_error *err)
{
	fprintf(stderr, "invariant broken: %s (%s:%u: %s)\n", what,
		err ? err->file : "", err ? err->line : 0, err ? err->msg : "");
	abort();
}

static size_t count_lines(const uint8_t *d, size_t n)
{
	size_t i, lines = 1;

	for (i = 0; i < n; i++)
		lines += d[i] == '\n';
	return lines;
}

static int cidr_cmp(const void *a, const void *b)
{
	const struct mxg_cidr *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return memcmp(x->addr.b, y->addr.b, sizeof(x->addr.b));
}

static int same_cidr(const struct mxg_cidr *a, const struct mxg_cidr *b)
{
	return a->plen == b->plen && a->v4 == b->v4 &&
	       !memcmp(a->addr.b, b->addr.b, sizeof(a->addr.b));
}

/* What a successful read must look like. */
static void check_ok(const struct mxg_list *l, size_t lines)
{
	char text[MXG_CIDR_STRLEN], *buf;
	struct mxg_cidr *sorted, again;
	struct mxg_list l2;
	size_t i, off = 0;

	if (l->format != MXG_LIST_PLAIN && l->format != MXG_LIST_IPSET)
		die("unknown format", NULL);
	if (l->n > lines)
		die("more entries than lines", NULL);
	if (l->n > l->cap || (l->n && !l->v))
		die("entries past the allocation", NULL);
	for (i = 0; i < l->n; i++) {
		const struct mxg_list_entry *e = &l->v[i];

		if (!e->line || e->line > lines || (i && e->line <= e[-1].line))
			die("entry line numbers not increasing", NULL);
		if (e->note && (!l->notes || e->note >= l->notes_len))
			die("note offset past the notes", NULL);
		if (e->note && strnlen(l->notes + e->note, l->notes_len - e->note) >=
			       l->notes_len - e->note)
			die("note not NUL-terminated within the notes", NULL);
		if (strlen(mxg_list_note(l, e)) >= MXG_LIST_NOTE_LEN)
			die("note longer than MXG_LIST_NOTE_LEN", NULL);
		mxg_cidr_format(&e->cidr, text, sizeof(text));
		if (mxg_cidr_parse(text, &again, NULL) ||
		    !same_cidr(&again, &e->cidr))
			die("entry does not survive format/parse", NULL);
	}
	if (!l->n)
		return;
	/* No duplicates, by sorting rather than by the parser's hash table. */
	sorted = malloc(l->n * sizeof(*sorted));
	buf = malloc(l->n * MXG_CIDR_STRLEN);
	if (!sorted || !buf)
		goto out;
	for (i = 0; i < l->n; i++)
		sorted[i] = l->v[i].cidr;
	qsort(sorted, l->n, sizeof(*sorted), cidr_cmp);
	for (i = 1; i < l->n; i++)
		if (!cidr_cmp(&sorted[i - 1], &sorted[i]))
			die("duplicate entry", NULL);
	/* The entries written out as a plain list read back the same. */
	for (i = 0; i < l->n; i++) {
		mxg_cidr_format(&l->v[i].cidr, buf + off, MXG_CIDR_STRLEN);
		off += strlen(buf + off);
		buf[off++] = '\n';
	}
	if (mxg_list_parse("again", buf, off, &l2, NULL))
		die("written-out list does not parse", NULL);
	if (l2.n != l->n || l2.format != MXG_LIST_PLAIN)
		die("written-out list differs", NULL);
	for (i = 0; i < l->n; i++)
		if (!same_cidr(&l2.v[i].cidr, &l->v[i].cidr))
			die("written-out entry differs", NULL);
	mxg_list_free(&l2);
out:
	free(sorted);
	free(buf);
}

static void check_result(int ret, const struct mxg_list *l,
			 const struct mxg_list_error *err, size_t lines)
{
	if (!ret) {
		check_ok(l, lines);
		return;
	}
	if (l->v || l->n || l->cap)
		die("failed read left entries behind", err);
	if (!err->msg[0] || strnlen(err->msg, sizeof(err->msg)) >= sizeof(err->msg))
		die("failure without a message", err);
	if (ret != -EINVAL && ret != -ENOMEM && ret != -E2BIG && ret != -EIO &&
	    ret != -EFBIG)
		die("unexpected error code", err);
	if (ret == -EINVAL && (!err->line || err->line > lines))
		die("bad line number in error", err);
}

/* Two reads of the same content must agree on everything. */
static void check_same(int r1, const struct mxg_list *a,
		       const struct mxg_list_error *ea, int r2,
		       const struct mxg_list *b, const struct mxg_list_error *eb)
{
	size_t i;

	if (r1 != r2)
		die("read and parse disagree on success", eb);
	if (r1) {
		if (ea->line != eb->line || strcmp(ea->msg, eb->msg))
			die("read and parse disagree on the error", eb);
		return;
	}
	if (a->n != b->n || a->format != b->format)
		die("read and parse disagree on the entries", eb);
	for (i = 0; i < a->n; i++)
		if (!same_cidr(&a->v[i].cidr, &b->v[i].cidr) ||
		    a->v[i].line != b->v[i].line ||
		    strcmp(mxg_list_note(a, &a->v[i]), mxg_list_note(b, &b->v[i])))
			die("read and parse disagree on an entry", eb);
}

static int put_file(const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	if (ftruncate(memfd, 0))
		return -1;
	while (len) {
		w = pwrite(memfd, p, len, p - (const char *)buf);
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

/* gzip (not zlib or raw deflate) of the input, as `gzip` writes it. */
static int gzip_buf(const uint8_t *in, size_t n, uint8_t **out, size_t *outlen)
{
	z_stream z;
	size_t cap = deflateBound(NULL, n) + 64;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -1;
	*out = malloc(cap);
	if (!*out) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = n;
	z.next_out = *out;
	z.avail_out = cap;
	r = deflate(&z, Z_FINISH);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(*out);
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxg_list_error e1, e2;
	struct mxg_list l1, l2;
	size_t lines = count_lines(data, size), gzlen;
	uint8_t *gz;
	int r1, r2, gzmagic;

	if (memfd < 0) {
		memfd = memfd_create("mxg-fuzz-list", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}

	/* In memory: the buffer has no terminating NUL, so ASan sees any read
	 * past its end. */
	r1 = mxg_list_parse(path, (const char *)data, size, &l1, &e1);
	check_result(r1, &l1, &e1, lines);
	if (!r1 && l1.gzip)
		die("parse set gzip", &e1);
	/* Reading files costs ~10 ms per input under ASan (1 MiB buffers are
	 * mmapped each time): only the variant does it. */
	if (!FUZZ_LIST_READ)
		goto out;

	/* From a file as given: gzip magic goes through zlib, anything else
	 * must read exactly like the in-memory parse. */
	if (put_file(data, size))
		abort();
	gzmagic = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	r2 = mxg_list_read(path, &l2, &e2);
	/* The lines of compressed input are not known here. */
	check_result(r2, &l2, &e2, gzmagic ? (size_t)-1 : lines);
	if (!gzmagic) {
		check_same(r1, &l1, &e1, r2, &l2, &e2);
		if (!r2 && l2.gzip)
			die("plain file read as gzip", &e2);
	} else if (!r2 && !l2.gzip) {
		die("gzip file not flagged gzip", &e2);
	}
	mxg_list_free(&l2);

	/* The same content gzip-compressed reads the same, flagged gzip. */
	if (!gzip_buf(data, size, &gz, &gzlen)) {
		if (put_file(gz, gzlen))
			abort();
		free(gz);
		r2 = mxg_list_read(path, &l2, &e2);
		check_same(r1, &l1, &e1, r2, &l2, &e2);
		if (!r2 && !l2.gzip)
			die("gzip file not flagged gzip", &e2);
		mxg_list_free(&l2);
	}
out:
	mxg_list_free(&l1);
	return 0;
}

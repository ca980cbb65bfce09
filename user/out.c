// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Streaming JSON writer and aligned tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "out.h"
#include "units.h"

void mxg_json_init(struct mxg_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void put_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r"
			   "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
			   "\x1a\x1b\x1c\x1d\x1e\x1f");

	fputc('"', f);
	/* Most strings need no escaping: one write. */
	fwrite(s, 1, n, f);
	p += n;
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator and key of the next member. */
static void member(struct mxg_json *j, const char *key)
{
	if (j->count[j->depth]++)
		fputc(',', j->f);
	if (key) {
		put_str(j->f, key);
		fputc(':', j->f);
	}
}

static void open_(struct mxg_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth < MXG_JSON_DEPTH - 1)
		j->depth++;
	j->count[j->depth] = 0;
}

static void close_(struct mxg_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void mxg_json_obj(struct mxg_json *j, const char *key) { open_(j, key, '{'); }
void mxg_json_obj_end(struct mxg_json *j) { close_(j, '}'); }
void mxg_json_arr(struct mxg_json *j, const char *key) { open_(j, key, '['); }
void mxg_json_arr_end(struct mxg_json *j) { close_(j, ']'); }

void mxg_json_str(struct mxg_json *j, const char *key, const char *v)
{
	member(j, key);
	if (v)
		put_str(j->f, v);
	else
		fputs("null", j->f);
}

void mxg_json_u64(struct mxg_json *j, const char *key, __u64 v)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void mxg_json_i64(struct mxg_json *j, const char *key, long long v)
{
	member(j, key);
	fprintf(j->f, "%lld", v);
}

void mxg_json_bool(struct mxg_json *j, const char *key, int v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void mxg_json_null(struct mxg_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void mxg_json_time(struct mxg_json *j, const char *key, __u64 unix_s)
{
	/* Lists repeat the same second a million times: format it once. */
	static __u64 last;
	static char buf[32];

	if (!unix_s) {
		mxg_json_null(j, key);
		return;
	}
	if (unix_s != last) {
		mxg_format_time(unix_s, buf, sizeof(buf));
		last = unix_s;
	}
	mxg_json_str(j, key, buf);
}

void mxg_json_done(struct mxg_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

void mxg_table_init(struct mxg_table *t, int ncols, const char **head,
		    unsigned num_mask)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = head;
	t->num_mask = num_mask;
}

int mxg_table_row(struct mxg_table *t, const char **cells)
{
	int i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");

		if (!c) {
			while (--i >= 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
	return 0;
}

static void print_row(const struct mxg_table *t, const char **cells,
		      const size_t *w, FILE *f)
{
	int i;

	for (i = 0; i < t->ncols; i++) {
		int last = i == t->ncols - 1;

		if (t->num_mask & (1u << i))
			fprintf(f, "%*s", (int)w[i], cells[i]);
		else if (last)
			fputs(cells[i], f);
		else
			fprintf(f, "%-*s", (int)w[i], cells[i]);
		fputs(last ? "\n" : "  ", f);
	}
}

void mxg_table_print(const struct mxg_table *t, FILE *f)
{
	size_t w[32] = { 0 }, r;
	int i;

	for (i = 0; i < t->ncols && i < 32; i++)
		w[i] = strlen(t->head[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols && i < 32; i++) {
			size_t l = strlen(t->cells[r * t->ncols + i]);

			if (l > w[i])
				w[i] = l;
		}
	print_row(t, t->head, w, f);
	for (r = 0; r < t->nrows; r++)
		print_row(t, (const char **)&t->cells[r * t->ncols], w, f);
}

void mxg_table_free(struct mxg_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* ---- pre-formatted members (dump's hot loop) ------------------------------ */

void mxg_json_raw(struct mxg_json *j, const char *key, const char *text,
		  size_t len)
{
	member(j, key);
	fwrite(text, 1, len, j->f);
}

/* ---- Prometheus ------------------------------------------------------------ */

void mxg_prom_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Output for programs (a streaming JSON writer) and for people (aligned
 * tables). Writes to the FILE it is given, nothing else. */
#ifndef MXG_OUT_H
#define MXG_OUT_H

#include <stdio.h>
#include <linux/types.h>

#define MXG_JSON_DEPTH 16

/* Streaming JSON: values are written as they come, so a million records
 * need no memory. `key` is NULL inside arrays and for the top level. */
struct mxg_json {
	FILE *f;
	int depth;
	int count[MXG_JSON_DEPTH]; /* members written at each level */
};

void mxg_json_init(struct mxg_json *j, FILE *f);
void mxg_json_obj(struct mxg_json *j, const char *key);
void mxg_json_obj_end(struct mxg_json *j);
void mxg_json_arr(struct mxg_json *j, const char *key);
void mxg_json_arr_end(struct mxg_json *j);
void mxg_json_str(struct mxg_json *j, const char *key, const char *v);
void mxg_json_u64(struct mxg_json *j, const char *key, __u64 v);
void mxg_json_i64(struct mxg_json *j, const char *key, long long v);
void mxg_json_bool(struct mxg_json *j, const char *key, int v);
void mxg_json_null(struct mxg_json *j, const char *key);
/* ISO 8601 UTC string, or null for 0. */
void mxg_json_time(struct mxg_json *j, const char *key, __u64 unix_s);
/* Ends the document with a newline. */
void mxg_json_done(struct mxg_json *j);

/* Aligned table: add rows of strings, print once. Columns flagged numeric
 * are right-aligned. */
struct mxg_table {
	int ncols;
	const char **head;
	unsigned num_mask;  /* bit i: column i is right-aligned */
	char **cells;       /* nrows * ncols, owned */
	size_t nrows, cap;
};

void mxg_table_init(struct mxg_table *t, int ncols, const char **head,
		    unsigned num_mask);
/* Append a row of ncols strings (copied). -ENOMEM on failure. */
int mxg_table_row(struct mxg_table *t, const char **cells);
void mxg_table_print(const struct mxg_table *t, FILE *f);
void mxg_table_free(struct mxg_table *t);

/* ---- pre-formatted members (dump's hot loop) ------------------------------ */

/* A member whose value the caller has already written as valid JSON text
 * (a number, or a whole object built in a buffer): separator and key as
 * usual, then the text as is. For loops over a million records, where one
 * write per record instead of one per field is what keeps them fast. */
void mxg_json_raw(struct mxg_json *j, const char *key, const char *text,
		  size_t len);

/* A Prometheus label value: backslash, quote and newline escaped, cut to
 * fit len. */
void mxg_prom_label(const char *s, char *buf, size_t len);

#endif /* MXG_OUT_H */

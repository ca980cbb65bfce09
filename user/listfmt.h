/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Address list files as administrators have them: one CIDR per line with '#'
 * or ';' comments (Spamhaus DROP/EDROP), `ipset save` output, either of them
 * gzip-compressed (found by magic bytes). All or nothing: the first bad line
 * fails the whole read with file and line number. */
#ifndef MXG_LISTFMT_H
#define MXG_LISTFMT_H

#include <stddef.h>
#include "addr.h"

#define MXG_LIST_NOTE_LEN 64 /* a note is cut to this, its NUL included */

/* 28 bytes: a million-line feed is read into 28 MB. Notes are few (DROP's
 * "SBL123456", an allowlist's comments) and live apart, in l->notes. */
struct mxg_list_entry {
	struct mxg_cidr cidr;
	unsigned line;                /* 1-based line it came from */
	__u32 note;                   /* offset of its trailing comment in the
				       * list's notes; 0: none (mxg_list_note) */
};

struct mxg_list {
	struct mxg_list_entry *v;
	size_t n, cap;
	char *notes;                  /* NUL-terminated notes, one after another;
				       * offset 0 is "" */
	size_t notes_len, notes_cap;
	int format;                   /* enum mxg_list_format */
	int gzip;                     /* 1 if the input was gzip */
};

/* The trailing comment of entry e of list l ("SBL123456"), or "". */
static inline const char *mxg_list_note(const struct mxg_list *l,
					const struct mxg_list_entry *e)
{
	return l->notes && e->note ? l->notes + e->note : "";
}

enum mxg_list_format {
	MXG_LIST_PLAIN = 0,  /* one CIDR per line, # and ; comments */
	MXG_LIST_IPSET = 1,  /* `ipset save`: create/add lines */
};

struct mxg_list_error {
	char file[256];               /* as given; "-" shown as "<stdin>" */
	unsigned line;                /* 1-based; 0 when not about a line */
	char msg[256];                /* what is wrong, naming the value */
};

/* Read a list from path ("-" = stdin). On success returns 0 and fills *out
 * (entries in file order, duplicates removed); on failure returns -EINVAL
 * (bad content), -ENOENT/-EACCES/-EIO (cannot read) and fills *err;
 * *out is then empty. */
int mxg_list_read(const char *path, struct mxg_list *out,
		  struct mxg_list_error *err);

/* Parse an in-memory buffer the same way (name is used in errors). */
int mxg_list_parse(const char *name, const char *buf, size_t len,
		   struct mxg_list *out, struct mxg_list_error *err);

void mxg_list_free(struct mxg_list *l);

#endif /* MXG_LISTFMT_H */

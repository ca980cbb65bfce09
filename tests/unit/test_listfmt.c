// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of user/listfmt.c: plain, Spamhaus DROP, ipset save, gzip and
 * stdin input, all-or-nothing errors with line numbers, dedup, speed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "listfmt.h"

static char tmpdir[64];
static char data_dir[PATH_MAX - 64];

/* "case/what": one name per assert, selected by the case's substring. */
static const char *nm(const char *c, const char *what)
{
	static char buf[192];

	snprintf(buf, sizeof(buf), "%s/%s", c, what);
	return buf;
}

/* Entry i as "CIDR|note", or "(none)" past the end. */
static const char *ent(const struct mxg_list *l, size_t i)
{
	static char buf[MXG_CIDR_STRLEN + MXG_LIST_NOTE_LEN + 2];
	char cidr[MXG_CIDR_STRLEN];

	if (i >= l->n)
		return "(none)";
	mxg_cidr_format(&l->v[i].cidr, cidr, sizeof(cidr));
	snprintf(buf, sizeof(buf), "%s|%s", cidr, mxg_list_note(l, &l->v[i]));
	return buf;
}

static int parse_str(const char *s, struct mxg_list *l,
		     struct mxg_list_error *e)
{
	return mxg_list_parse("test", s, strlen(s), l, e);
}

static const char *tmp_path(const char *name)
{
	static char buf[2][PATH_MAX];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static const char *data_path(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", data_dir, name);
	return buf;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -errno;
	ok = fwrite(data, 1, len, f) == len;
	if (fclose(f) || !ok)
		return -EIO;
	return 0;
}

static int write_gz(const char *path, const char *mode, const void *data,
		    size_t len)
{
	gzFile gz = gzopen(path, mode);
	int ok;

	if (!gz)
		return -EIO;
	ok = len == 0 || gzwrite(gz, data, len) == (int)len;
	if (gzclose(gz) != Z_OK || !ok)
		return -EIO;
	return 0;
}

/* Whole file into a malloc'd buffer; NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 &&
	    !fseek(f, 0, SEEK_SET) && (buf = malloc(n + 1)) &&
	    fread(buf, 1, n, f) == (size_t)n) {
		*len = n;
		fclose(f);
		return buf;
	}
	free(buf);
	fclose(f);
	return NULL;
}

/* mxg_list_read("-") with a child writing data into a pipe on fd 0. */
static int read_stdin(const char *c, const void *data, size_t len,
		      struct mxg_list *l, struct mxg_list_error *e)
{
	int pfd[2], saved, ret, status;
	pid_t pid;

	if (pipe(pfd)) {
		CHECK(nm(c, "setup pipe"), 0);
		return -1000;
	}
	pid = fork();
	if (pid == 0) {
		const char *p = data;

		close(pfd[0]);
		while (len) {
			ssize_t w = write(pfd[1], p, len);

			if (w <= 0)
				_exit(1);
			p += w;
			len -= w;
		}
		_exit(0);
	}
	close(pfd[1]);
	saved = dup(STDIN_FILENO);
	if (pid < 0 || saved < 0 || dup2(pfd[0], STDIN_FILENO) < 0) {
		CHECK(nm(c, "setup fork/dup"), 0);
		close(pfd[0]);
		return -1000;
	}
	close(pfd[0]);
	ret = mxg_list_read("-", l, e);
	dup2(saved, STDIN_FILENO);
	close(saved);
	/* stdin itself must still be open after the read */
	CHECK(nm(c, "stdin left open"), fcntl(STDIN_FILENO, F_GETFD) >= 0);
	waitpid(pid, &status, 0);
	return ret;
}

static void t_plain_good(const char *c)
{
	const char *in =
		"198.18.0.0/24\n"
		"198.18.1.1\n"
		"2001:db8::/32\n"
		"2001:db8:1::5\n"
		"198.19.0.0/16\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 5, l.n);
	CHECK_EQ(nm(c, "format"), MXG_LIST_PLAIN, l.format);
	CHECK_EQ(nm(c, "gzip"), 0, l.gzip);
	CHECK_STR(nm(c, "0"), "198.18.0.0/24|", ent(&l, 0));
	CHECK_STR(nm(c, "1 bare v4 is a host"), "198.18.1.1/32|", ent(&l, 1));
	CHECK_STR(nm(c, "2"), "2001:db8::/32|", ent(&l, 2));
	CHECK_STR(nm(c, "3 bare v6 is a host"), "2001:db8:1::5/128|", ent(&l, 3));
	CHECK_STR(nm(c, "4"), "198.19.0.0/16|", ent(&l, 4));
	CHECK_EQ(nm(c, "v4 plen mapped"), 120, l.n ? l.v[0].cidr.plen : 0);
	CHECK_EQ(nm(c, "v4 flag"), 1, l.n ? l.v[0].cidr.v4 : 0);
	CHECK_EQ(nm(c, "v6 plen"), 32, l.n > 2 ? l.v[2].cidr.plen : 0);
	CHECK_EQ(nm(c, "v6 flag"), 0, l.n > 2 ? l.v[2].cidr.v4 : 1);
	mxg_list_free(&l);
	CHECK(nm(c, "free empties"), l.v == NULL && l.n == 0);
}

static void t_plain_comments(const char *c)
{
	const char *in =
		"# full-line hash comment\n"
		"; full-line semicolon comment\n"
		"\n"
		"   \t \n"
		"  198.18.0.0/24   # first block  \n"
		"\t198.18.1.0/24\t;\tSBL000002\t\n"
		"198.18.2.0/24;tight\n"
		"198.18.3.0/24#\n"
		"2001:db8:a::/48 ; v6 # both kinds\n"
		"   # indented comment ; with 198.18.9.9\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 5, l.n);
	CHECK_STR(nm(c, "hash note trimmed"), "198.18.0.0/24|first block",
		  ent(&l, 0));
	CHECK_STR(nm(c, "semicolon note, tabs"), "198.18.1.0/24|SBL000002",
		  ent(&l, 1));
	CHECK_STR(nm(c, "no space before ;"), "198.18.2.0/24|tight", ent(&l, 2));
	CHECK_STR(nm(c, "empty comment"), "198.18.3.0/24|", ent(&l, 3));
	CHECK_STR(nm(c, "note keeps the rest"), "2001:db8:a::/48|v6 # both kinds",
		  ent(&l, 4));
	mxg_list_free(&l);
}

static void t_plain_note_truncated(const char *c)
{
	char in[512], want[MXG_LIST_NOTE_LEN];
	struct mxg_list l;
	struct mxg_list_error e;
	int i, n;

	n = snprintf(in, sizeof(in), "198.18.0.0/24 ; ");
	for (i = 0; i < 200; i++)
		in[n++] = 'a' + i % 26;
	in[n++] = '\n';
	/* 2-byte UTF-8 characters: a cut at 63 bytes would split one */
	n += snprintf(in + n, sizeof(in) - n, "198.18.1.0/24 ; ");
	for (i = 0; i < 40; i++)
		n += snprintf(in + n, sizeof(in) - n, "\xc3\xa9");
	in[n] = '\0';
	for (i = 0; i < MXG_LIST_NOTE_LEN - 1; i++)
		want[i] = 'a' + i % 26;
	want[i] = '\0';

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 2, l.n);
	CHECK_STR(nm(c, "ascii cut to 63 bytes"), want, l.n ? mxg_list_note(&l, &l.v[0]) : NULL);
	CHECK_EQ(nm(c, "utf8 cut on a character"), 62,
		 l.n > 1 ? strlen(mxg_list_note(&l, &l.v[1])) : 0);
	mxg_list_free(&l);
}

static void t_plain_trailing_text(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), -EINVAL,
		 parse_str("198.18.0.0/24\n198.18.1.0/24 SBL000002\n", &l, &e));
	CHECK_EQ(nm(c, "line"), 2, e.line);
	CHECK(nm(c, "msg names the text"), strstr(e.msg, "'SBL000002'") != NULL);
	CHECK_EQ(nm(c, "nothing applied"), 0, l.n);
	printf("# %s: %s\n", c, e.msg);
}

static void t_drop_fixture(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	int ret;

	ret = mxg_list_read(data_path("drop.txt"), &l, &e);
	CHECK_EQ(nm(c, "rc"), 0, ret);
	if (ret)
		printf("# %s: %s:%u: %s\n", c, e.file, e.line, e.msg);
	CHECK_EQ(nm(c, "n"), 8, l.n);
	CHECK_EQ(nm(c, "format"), MXG_LIST_PLAIN, l.format);
	CHECK_EQ(nm(c, "gzip"), 0, l.gzip);
	CHECK_STR(nm(c, "first"), "198.18.0.0/24|SBL000001", ent(&l, 0));
	CHECK_STR(nm(c, "sixth"), "198.19.128.0/17|SBL000006", ent(&l, 5));
	CHECK_STR(nm(c, "v6"), "2001:db8:ff00::/48|SBL000008", ent(&l, 7));
	mxg_list_free(&l);
}

static void t_ipset_fixture(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	int ret;

	ret = mxg_list_read(data_path("ipset.save"), &l, &e);
	CHECK_EQ(nm(c, "rc"), 0, ret);
	if (ret)
		printf("# %s: %s:%u: %s\n", c, e.file, e.line, e.msg);
	CHECK_EQ(nm(c, "format"), MXG_LIST_IPSET, l.format);
	CHECK_EQ(nm(c, "n"), 4, l.n);
	CHECK_STR(nm(c, "hash:net comment with spaces"),
		  "198.18.0.0/24|abuse: AUTH brute force", ent(&l, 0));
	CHECK_STR(nm(c, "hash:net comment"), "198.18.7.0/25|harvest", ent(&l, 1));
	CHECK_STR(nm(c, "hash:net host, timeout only"), "198.18.9.9/32|",
		  ent(&l, 2));
	CHECK_STR(nm(c, "counters ignored"), "198.19.0.1/32|", ent(&l, 3));
	CHECK_EQ(nm(c, "line of first entry"), 2, l.n ? l.v[0].line : 0);
	mxg_list_free(&l);

	ret = mxg_list_read(data_path("ipset6.save"), &l, &e);
	CHECK_EQ(nm(c, "inet6 rc"), 0, ret);
	CHECK_EQ(nm(c, "inet6 n"), 3, l.n);
	CHECK_STR(nm(c, "inet6 comment"), "2001:db8:1::/48|spam run 2026-11",
		  ent(&l, 0));
	CHECK_STR(nm(c, "inet6 net"), "2001:db8:2:3::/64|", ent(&l, 1));
	CHECK_STR(nm(c, "inet6 empty comment"), "2001:db8::dead:beef/128|",
		  ent(&l, 2));
	mxg_list_free(&l);
}

/* A full `ipset save` dump holds every set of the host, maybe an allowlist
 * among them: refused at the line where a second set starts. */
static void t_ipset_multi(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	int ret;

	ret = mxg_list_read(data_path("ipset-multi.save"), &l, &e);
	CHECK_EQ(nm(c, "rc"), -EINVAL, ret);
	CHECK_EQ(nm(c, "line"), 6, e.line);
	CHECK(nm(c, "message names both sets"),
	      strstr(e.msg, "'mxg-hosts'") && strstr(e.msg, "'mxg-block'"));
	CHECK_EQ(nm(c, "nothing applied"), 0, l.n);
}

static void t_ipset_detect_after_comments(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0,
		 parse_str("# saved by cron\n\nadd x 198.18.0.1\r\n", &l, &e));
	CHECK_EQ(nm(c, "format"), MXG_LIST_IPSET, l.format);
	CHECK_STR(nm(c, "entry"), "198.18.0.1/32|", ent(&l, 0));
	mxg_list_free(&l);
}

static void t_ipset_bad_lines(const char *c)
{
	static const struct {
		const char *what, *in, *in_msg;
		unsigned line;
	} cases[] = {
		{ "unknown command", "create x hash:net\nadd x 198.18.0.0/24\nflush x\n",
		  "'flush'", 3 },
		{ "bare CIDR in ipset file", "create x hash:ip\n198.18.0.1\n",
		  "'198.18.0.1'", 2 },
		{ "add without address", "create x hash:ip\nadd x\n", "add", 2 },
		{ "bad address", "create x hash:ip\nadd x 198.18.0.300\n",
		  "'198.18.0.300'", 2 },
		{ "hash:net,port entry", "create x hash:net,port\nadd x 198.18.0.0/24,tcp:25\n",
		  "'198.18.0.0/24,tcp:25'", 2 },
		{ "nomatch exception", "create x hash:net\nadd x 198.18.0.0/16\nadd x 198.18.1.0/24 nomatch\n",
		  "nomatch", 3 },
		{ "unterminated comment", "add x 198.18.0.0/24 comment \"abc\n",
		  "unterminated", 1 },
		{ "comment without text", "add x 198.18.0.0/24 comment\n",
		  "comment", 1 },
	};
	struct mxg_list l;
	struct mxg_list_error e;
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s rc", cases[i].what);
		CHECK_EQ(nm(c, what), -EINVAL, parse_str(cases[i].in, &l, &e));
		snprintf(what, sizeof(what), "%s line", cases[i].what);
		CHECK_EQ(nm(c, what), cases[i].line, e.line);
		snprintf(what, sizeof(what), "%s msg", cases[i].what);
		CHECK(nm(c, what), strstr(e.msg, cases[i].in_msg) != NULL);
		snprintf(what, sizeof(what), "%s nothing applied", cases[i].what);
		CHECK(nm(c, what), l.n == 0 && l.v == NULL);
		printf("# %s: %s: line %u: %s\n", c, cases[i].what, e.line, e.msg);
	}
}

static void t_gzip_written(const char *c)
{
	const char *in = "198.18.0.0/24 ; gz\n2001:db8::/48\n";
	struct mxg_list l;
	struct mxg_list_error e;
	int ret;

	/* the names lie on purpose: detection is by content */
	ret = write_gz(tmp_path("list.txt"), "wb", in, strlen(in));
	CHECK_EQ(nm(c, "setup gzwrite"), 0, ret);
	ret = mxg_list_read(tmp_path("list.txt"), &l, &e);
	CHECK_EQ(nm(c, "gz rc"), 0, ret);
	CHECK_EQ(nm(c, "gz flag"), 1, l.gzip);
	CHECK_EQ(nm(c, "gz n"), 2, l.n);
	CHECK_STR(nm(c, "gz entry"), "198.18.0.0/24|gz", ent(&l, 0));
	mxg_list_free(&l);

	ret = write_file(tmp_path("plain.gz"), in, strlen(in));
	CHECK_EQ(nm(c, "setup plain.gz"), 0, ret);
	ret = mxg_list_read(tmp_path("plain.gz"), &l, &e);
	CHECK_EQ(nm(c, "plain rc"), 0, ret);
	CHECK_EQ(nm(c, "plain flag"), 0, l.gzip);
	CHECK_EQ(nm(c, "plain n"), 2, l.n);
	mxg_list_free(&l);

	ret = write_gz(tmp_path("empty.gz"), "wb", "", 0);
	CHECK_EQ(nm(c, "setup empty.gz"), 0, ret);
	ret = mxg_list_read(tmp_path("empty.gz"), &l, &e);
	CHECK_EQ(nm(c, "empty gz rc"), 0, ret);
	CHECK_EQ(nm(c, "empty gz flag"), 1, l.gzip);
	CHECK_EQ(nm(c, "empty gz n"), 0, l.n);
	mxg_list_free(&l);
}

static void t_gzip_fixture(const char *c)
{
	struct mxg_list gz, plain;
	struct mxg_list_error e;
	size_t i;
	int same;

	CHECK_EQ(nm(c, "gz rc"), 0, mxg_list_read(data_path("drop.txt.gz"), &gz, &e));
	CHECK_EQ(nm(c, "plain rc"), 0,
		 mxg_list_read(data_path("drop.txt"), &plain, &e));
	CHECK_EQ(nm(c, "gz flag"), 1, gz.gzip);
	CHECK_EQ(nm(c, "n"), 8, gz.n);
	same = gz.n == plain.n;
	for (i = 0; same && i < gz.n; i++)
		same = !memcmp(&gz.v[i], &plain.v[i], sizeof(gz.v[i]));
	CHECK(nm(c, "same entries as plain"), same);
	mxg_list_free(&gz);
	mxg_list_free(&plain);
}

static void t_gzip_truncated(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	size_t len = 0;
	char *gz = slurp(data_path("drop.txt.gz"), &len);
	int ret;

	CHECK(nm(c, "setup fixture"), gz != NULL && len > 40);
	if (!gz)
		return;
	ret = write_file(tmp_path("cut.gz"), gz, len - 20);
	CHECK_EQ(nm(c, "setup write"), 0, ret);
	ret = mxg_list_read(tmp_path("cut.gz"), &l, &e);
	CHECK(nm(c, "rc is an error"), ret < 0);
	CHECK_EQ(nm(c, "rc"), -EIO, ret);
	CHECK(nm(c, "msg"), strstr(e.msg, "gzip") != NULL);
	CHECK(nm(c, "nothing applied"), l.n == 0 && l.v == NULL);
	printf("# %s: %s\n", c, e.msg);

	/* flip a byte of the deflate data: corrupt, not merely short */
	gz[len / 2] ^= 0x55;
	ret = write_file(tmp_path("bad.gz"), gz, len);
	CHECK_EQ(nm(c, "setup write corrupt"), 0, ret);
	ret = mxg_list_read(tmp_path("bad.gz"), &l, &e);
	CHECK_EQ(nm(c, "corrupt rc"), -EIO, ret);
	CHECK(nm(c, "corrupt nothing applied"), l.n == 0 && l.v == NULL);
	printf("# %s: %s\n", c, e.msg);
	free(gz);
}

static void t_stdin(const char *c)
{
	const char *in = "; from a pipe\n198.18.0.0/24 ; SBL000001\n2001:db8::1\n";
	struct mxg_list l;
	struct mxg_list_error e;
	size_t len = 0;
	char *gz;
	int ret;

	ret = read_stdin(c, in, strlen(in), &l, &e);
	CHECK_EQ(nm(c, "plain rc"), 0, ret);
	CHECK_EQ(nm(c, "plain n"), 2, l.n);
	CHECK_EQ(nm(c, "plain flag"), 0, l.gzip);
	CHECK_STR(nm(c, "plain entry"), "198.18.0.0/24|SBL000001", ent(&l, 0));
	mxg_list_free(&l);

	gz = slurp(data_path("drop.txt.gz"), &len);
	CHECK(nm(c, "setup fixture"), gz != NULL);
	ret = read_stdin(c, gz, len, &l, &e);
	CHECK_EQ(nm(c, "gzip rc"), 0, ret);
	CHECK_EQ(nm(c, "gzip n"), 8, l.n);
	CHECK_EQ(nm(c, "gzip flag"), 1, l.gzip);
	mxg_list_free(&l);
	free(gz);

	ret = read_stdin(c, "198.18.0.0/24\nnonsense\n", 23, &l, &e);
	CHECK_EQ(nm(c, "bad rc"), -EINVAL, ret);
	CHECK_STR(nm(c, "bad file is <stdin>"), "<stdin>", e.file);
	CHECK_EQ(nm(c, "bad line"), 2, e.line);
	CHECK(nm(c, "bad nothing applied"), l.n == 0 && l.v == NULL);
}

static void t_open_errors(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	const char *path = tmp_path("does-not-exist.txt");

	CHECK_EQ(nm(c, "missing rc"), -ENOENT, mxg_list_read(path, &l, &e));
	CHECK_STR(nm(c, "missing msg"), "cannot open: No such file or directory",
		  e.msg);
	CHECK_STR(nm(c, "missing file as given"), path, e.file);
	CHECK_EQ(nm(c, "missing line 0"), 0, e.line);
	CHECK(nm(c, "missing empty"), l.n == 0 && l.v == NULL);

	CHECK_EQ(nm(c, "directory rc"), -EISDIR, mxg_list_read(tmpdir, &l, &e));
	CHECK(nm(c, "directory msg"), strstr(e.msg, "Is a directory") != NULL);
	printf("# %s: %s\n", c, e.msg);
}

static void t_bad_line(const char *c)
{
	const char *in =
		"; header\n"
		"198.18.0.0/24 ; SBL000001\r\n"
		"198.18.1.0/24\n"
		"\n"
		"2001:db8::/32\n"
		"198.18.2.0/24 ; SBL000003\n"
		"198.18.0.1/33 ; SBL000004\n"
		"198.18.3.0/24\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), -EINVAL, mxg_list_parse("drop.txt", in, strlen(in),
						       &l, &e));
	CHECK_EQ(nm(c, "line"), 7, e.line);
	CHECK_STR(nm(c, "file"), "drop.txt", e.file);
	CHECK_STR(nm(c, "msg"),
		  "invalid CIDR '198.18.0.1/33': prefix length out of range (IPv4: 0-32)",
		  e.msg);
	CHECK(nm(c, "nothing applied"), l.n == 0 && l.v == NULL && l.cap == 0);
	mxg_list_free(&l);
	CHECK_EQ(nm(c, "err NULL tolerated"), -EINVAL,
		 mxg_list_parse("x", in, strlen(in), &l, NULL));
}

static void t_host_bits(const char *c)
{
	static const struct {
		const char *what, *in, *value;
	} cases[] = {
		{ "v4", "198.18.0.0/24\n198.18.0.1/24\n", "'198.18.0.1/24'" },
		{ "v6", "2001:db8::/32\n2001:db8::1/32\n", "'2001:db8::1/32'" },
		{ "v6 /64", "2001:db8::/32\n2001:db8:0:0:1::/64 ; x\n",
		  "'2001:db8:0:0:1::/64'" },
	};
	struct mxg_list l;
	struct mxg_list_error e;
	char what[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s rc", cases[i].what);
		CHECK_EQ(nm(c, what), -EINVAL, parse_str(cases[i].in, &l, &e));
		snprintf(what, sizeof(what), "%s line", cases[i].what);
		CHECK_EQ(nm(c, what), 2, e.line);
		snprintf(what, sizeof(what), "%s names the value", cases[i].what);
		CHECK(nm(c, what), strstr(e.msg, cases[i].value) != NULL);
		snprintf(what, sizeof(what), "%s nothing applied", cases[i].what);
		CHECK(nm(c, what), l.n == 0 && l.v == NULL);
		printf("# %s: %s\n", c, e.msg);
	}
}

static void t_both_families(const char *c)
{
	const char *in =
		"198.18.0.0/15\n"
		"2001:db8::/32\n"
		"::ffff:198.18.5.5\n"
		"2001:DB8:0:1::/64\n"
		"198.18.7.7/32\n"
		"2001:db8::7/128\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 6, l.n);
	CHECK_STR(nm(c, "v4 /15"), "198.18.0.0/15|", ent(&l, 0));
	CHECK_STR(nm(c, "mapped taken as v4"), "198.18.5.5/32|", ent(&l, 2));
	CHECK_EQ(nm(c, "mapped v4 flag"), 1, l.n > 2 ? l.v[2].cidr.v4 : 0);
	CHECK_STR(nm(c, "v6 upper case"), "2001:db8:0:1::/64|", ent(&l, 3));
	CHECK_STR(nm(c, "v6 /128"), "2001:db8::7/128|", ent(&l, 5));
	mxg_list_free(&l);
}

static void t_crlf(const char *c)
{
	const char *in =
		"; Spamhaus DROP List\r\n"
		"\r\n"
		"198.18.0.0/24 ; SBL000001\r\n"
		"198.18.1.1\r\n"
		"2001:db8::/48 ; SBL000009\r\n"
		"198.18.2.0/24";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 4, l.n);
	CHECK_STR(nm(c, "note without CR"), "198.18.0.0/24|SBL000001", ent(&l, 0));
	CHECK_STR(nm(c, "bare address"), "198.18.1.1/32|", ent(&l, 1));
	CHECK_STR(nm(c, "v6 note"), "2001:db8::/48|SBL000009", ent(&l, 2));
	CHECK_STR(nm(c, "last line without newline"), "198.18.2.0/24|",
		  ent(&l, 3));
	mxg_list_free(&l);

	CHECK_EQ(nm(c, "bad line counted with CRLF rc"), -EINVAL,
		 parse_str("198.18.0.0/24\r\n\r\nx\r\n", &l, &e));
	CHECK_EQ(nm(c, "bad line counted with CRLF"), 3, e.line);
}

static void t_empty(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	int ret;

	CHECK_EQ(nm(c, "empty buffer rc"), 0, mxg_list_parse("e", NULL, 0, &l, &e));
	CHECK_EQ(nm(c, "empty buffer n"), 0, l.n);
	CHECK_EQ(nm(c, "comments only rc"), 0,
		 parse_str("; nothing today\n\n# really\n  \n", &l, &e));
	CHECK_EQ(nm(c, "comments only n"), 0, l.n);
	ret = write_file(tmp_path("empty.txt"), "", 0);
	CHECK_EQ(nm(c, "setup"), 0, ret);
	CHECK_EQ(nm(c, "empty file rc"), 0,
		 mxg_list_read(tmp_path("empty.txt"), &l, &e));
	CHECK_EQ(nm(c, "empty file n"), 0, l.n);
	CHECK_EQ(nm(c, "empty file not gzip"), 0, l.gzip);
	mxg_list_free(&l);
}

static void t_dedup(const char *c)
{
	const char *in =
		"198.18.0.0/24 ; first\n"
		"198.18.0.1\n"
		"198.18.0.0/24 ; second\n"
		"198.18.0.1/32 ; again\n"
		"::ffff:198.18.0.1\n"
		"198.18.0.0/23\n"
		"2001:db8::/32 ; v6 first\n"
		"2001:DB8:0::/32 ; v6 second\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "n"), 4, l.n);
	CHECK_STR(nm(c, "first kept"), "198.18.0.0/24|first", ent(&l, 0));
	CHECK_STR(nm(c, "host once"), "198.18.0.1/32|", ent(&l, 1));
	CHECK_STR(nm(c, "other prefix kept"), "198.18.0.0/23|", ent(&l, 2));
	CHECK_STR(nm(c, "v6 first kept"), "2001:db8::/32|v6 first", ent(&l, 3));
	mxg_list_free(&l);
}

static void t_long_line(const char *c)
{
	size_t n = 4096 + 64;
	char *in = malloc(n);
	struct mxg_list l;
	struct mxg_list_error e;
	int off;

	CHECK(nm(c, "setup"), in != NULL);
	if (!in)
		return;
	/* exactly 4096 bytes before the line end (a CR does not count) */
	off = snprintf(in, n, "198.18.0.0/24\n198.18.1.0/24 ; ");
	memset(in + off, 'x', 4096 - (off - 14));
	off += 4096 - (off - 14);
	memcpy(in + off, "\r\n", 3);
	CHECK_EQ(nm(c, "4096 ok rc"), 0, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "4096 ok n"), 2, l.n);
	mxg_list_free(&l);

	memcpy(in + off, "x\n", 3);
	CHECK_EQ(nm(c, "4097 rc"), -EINVAL, parse_str(in, &l, &e));
	CHECK_EQ(nm(c, "4097 line"), 2, e.line);
	CHECK(nm(c, "4097 msg"), strstr(e.msg, "4096") != NULL);
	CHECK(nm(c, "4097 nothing applied"), l.n == 0 && l.v == NULL);
	free(in);
}

static void t_nul_byte(const char *c)
{
	static const char in[] = "198.18.0.0/24\n198.18.\0001.0/24\n198.18.2.0/24\n";
	struct mxg_list l;
	struct mxg_list_error e;

	CHECK_EQ(nm(c, "rc"), -EINVAL,
		 mxg_list_parse("bin", in, sizeof(in) - 1, &l, &e));
	CHECK_EQ(nm(c, "line"), 2, e.line);
	CHECK(nm(c, "msg"), strstr(e.msg, "NUL") != NULL);
	CHECK(nm(c, "nothing applied"), l.n == 0 && l.v == NULL);

	/* a NUL inside a comment is still binary, not a comment */
	CHECK_EQ(nm(c, "in comment rc"), -EINVAL,
		 mxg_list_parse("bin", "; a\0b\n", 6, &l, &e));
	CHECK_EQ(nm(c, "in comment line"), 1, e.line);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 1M distinct lines shaped like real feeds: every IPv4 host of
 * 198.18.0.0/15 with DROP-style notes, then IPv6 /64s and hosts. */
static char *gen_million(size_t *len)
{
	size_t cap = 48u * 1000000, n = 0;
	char *buf = malloc(cap);
	unsigned i;

	if (!buf)
		return NULL;
	n += snprintf(buf, cap, "; generated: 1000000 entries\n");
	for (i = 0; i < 1000000; i++) {
		if (i < 131072)
			n += snprintf(buf + n, cap - n,
				      "198.%u.%u.%u ; SBL%06u\n", 18 + (i >> 16),
				      (i >> 8) & 255, i & 255, i);
		else if (i & 1)
			n += snprintf(buf + n, cap - n, "2001:db8:%x:%x::/64\n",
				      i >> 16, i & 0xffff);
		else
			n += snprintf(buf + n, cap - n, "2001:db8::%x:%x\n",
				      i >> 16, i & 0xffff);
	}
	*len = n;
	return buf;
}

static void t_perf(const char *c)
{
	struct mxg_list l;
	struct mxg_list_error e;
	size_t len = 0;
	char *buf = gen_million(&len);
	double t;
	int ret;

	CHECK(nm(c, "setup"), buf != NULL);
	if (!buf)
		return;
	t = now_ms();
	ret = mxg_list_parse("gen", buf, len, &l, &e);
	t = now_ms() - t;
	CHECK_EQ(nm(c, "rc"), 0, ret);
	CHECK_EQ(nm(c, "n"), 1000000, l.n);
	CHECK_STR(nm(c, "last"), "2001:db8:f:423f::/64|", ent(&l, 999999));
	printf("# %s: mxg_list_parse 1000000 lines (%zu bytes): %.1f ms\n",
	       c, len, t);
	mxg_list_free(&l);

	ret = write_file(tmp_path("million.txt"), buf, len);
	CHECK_EQ(nm(c, "setup plain file"), 0, ret);
	t = now_ms();
	ret = mxg_list_read(tmp_path("million.txt"), &l, &e);
	t = now_ms() - t;
	CHECK_EQ(nm(c, "plain file n"), 1000000, l.n);
	printf("# %s: mxg_list_read 1000000 lines, plain file: %.1f ms\n", c, t);
	mxg_list_free(&l);

	ret = write_gz(tmp_path("million.gz"), "wb1", buf, len);
	CHECK_EQ(nm(c, "setup gz file"), 0, ret);
	t = now_ms();
	ret = mxg_list_read(tmp_path("million.gz"), &l, &e);
	t = now_ms() - t;
	CHECK_EQ(nm(c, "gz file n"), 1000000, l.n);
	CHECK_EQ(nm(c, "gz file flag"), 1, l.gzip);
	printf("# %s: mxg_list_read 1000000 lines, gzip file: %.1f ms\n", c, t);
	mxg_list_free(&l);
	free(buf);
}

static const struct check_case cases[] = {
	{ "plain__good_lines_parse", t_plain_good },
	{ "plain__comments_both_kinds_give_notes", t_plain_comments },
	{ "plain__long_note_truncated_to_fit", t_plain_note_truncated },
	{ "plain__trailing_text_rejected", t_plain_trailing_text },
	{ "spamhaus_drop__fixture_parses_with_notes", t_drop_fixture },
	{ "ipset__save_output_parses", t_ipset_fixture },
	{ "ipset__several_sets_refused", t_ipset_multi },
	{ "ipset__detected_after_comments", t_ipset_detect_after_comments },
	{ "ipset__bad_lines_rejected", t_ipset_bad_lines },
	{ "gzip__detected_by_content", t_gzip_written },
	{ "gzip__fixture_matches_plain", t_gzip_fixture },
	{ "gzip__truncated_or_corrupt_rejected", t_gzip_truncated },
	{ "stdin__dash_reads_stdin", t_stdin },
	{ "open__errors_name_the_cause", t_open_errors },
	{ "bad_line__exact_line_nothing_applied", t_bad_line },
	{ "host_bits__rejected_naming_value", t_host_bits },
	{ "families__ipv4_and_ipv6_mixed", t_both_families },
	{ "crlf__accepted", t_crlf },
	{ "empty__zero_entries_ok", t_empty },
	{ "dedup__first_kept", t_dedup },
	{ "long_line__over_4096_rejected", t_long_line },
	{ "nul_byte__rejected", t_nul_byte },
	{ "perf__million_lines_timed", t_perf },
};

/* Fixtures live in tests/unit/data: relative to the working directory (the
 * runner's is the top level), else to build/tests/unit/<this binary>. */
static int find_data_dir(void)
{
	char exe[PATH_MAX], *p;
	ssize_t n;
	int i;

	if (!access("tests/unit/data/drop.txt", R_OK)) {
		snprintf(data_dir, sizeof(data_dir), "tests/unit/data");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	for (i = 0; i < 4; i++) {
		p = strrchr(exe, '/');
		if (!p)
			return -ENOENT;
		*p = '\0';
	}
	snprintf(data_dir, sizeof(data_dir), "%.*s/tests/unit/data",
		 (int)sizeof(data_dir) - 20, exe);
	return access(data_path("drop.txt"), R_OK) ? -ENOENT : 0;
}

static void rm_tmpdir(void)
{
	static const char *const names[] = {
		"list.txt", "plain.gz", "empty.gz", "cut.gz", "bad.gz",
		"empty.txt", "million.txt", "million.gz",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tmp_path(names[i]));
	rmdir(tmpdir);
}

int main(int argc, char **argv)
{
	check_filter = argc > 1 ? argv[1] : NULL;
	CHECK(nm("setup", "fixtures in tests/unit/data"), !find_data_dir());
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mxg-listfmt.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK(nm("setup", "mkdtemp"), 0);
		return CHECK_DONE();
	}
	CHECK_CASES(cases);
	rm_tmpdir();
	return CHECK_DONE();
}

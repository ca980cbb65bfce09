// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dump: the whole state (config, counters, lists, every tracked source) as
 * one JSON document or CSV, streamed in constant memory, optionally gzipped
 * and written atomically to a file, for forensics. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <zlib.h>
#include "mxguard.h"
#include "addr.h"
#include "bucket.h"
#include "cmd.h"
#include "lists.h"
#include "log.h"
#include "cfg.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

#define DUMP_SCHEMA_VERSION 1
/* Source records per bpf_map_lookup_batch call: 8192 * 60 bytes of buffer
 * whatever the table holds. */
#define DUMP_BATCH 8192
/* Fast rather than small: JSON of a million sources still shrinks ~8x. */
#define DUMP_GZ_MODE "wb1"
#define DUMP_BUF_SIZE (1 << 16)

/* ---- output: stdout or an atomically replaced file, optionally gzip ----- */

/* SIGINT/SIGTERM while writing a file: stop between records and remove the
 * temporary file, so that nothing half-written is left behind. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int check_interrupted(void)
{
	if (!interrupted)
		return 0;
	mxg_err("interrupted: the dump was not written");
	return -EINTR;
}

struct dump_out {
	FILE *f;               /* what the writers write to */
	int fd;                /* the file under f; -1 for stdout */
	int gzip;
	const char *path;      /* final name, NULL for stdout */
	char tmp[PATH_MAX];    /* temporary name beside it */
	char *buf;             /* stdio buffer of f (heap), NULL for stdout */
};

/* stdout keeps its buffer until exit, so it cannot live on the heap. */
static char stdout_buf[DUMP_BUF_SIZE];

static ssize_t gz_cookie_write(void *cookie, const char *buf, size_t size)
{
	/* gzwrite takes an unsigned count: feed it in slices. */
	size_t done = 0;

	while (done < size) {
		unsigned n = size - done > (1u << 30) ? 1u << 30 : size - done;
		int w = gzwrite(cookie, buf + done, n);

		if (w <= 0)
			return 0; /* stdio sets the error flag */
		done += w;
	}
	return done;
}

static int gz_cookie_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : EOF;
}

/* Temporary file in the directory of path, so that rename() is atomic. */
static int out_tmpfile(struct dump_out *o)
{
	const char *slash = strrchr(o->path, '/');
	int n, fd;

	if (slash)
		n = snprintf(o->tmp, sizeof(o->tmp), "%.*s/.%s.XXXXXX",
			     (int)(slash - o->path), o->path, slash + 1);
	else
		n = snprintf(o->tmp, sizeof(o->tmp), ".%s.XXXXXX", o->path);
	if (n < 0 || (size_t)n >= sizeof(o->tmp)) {
		mxg_err("output file name '%s' is too long", o->path);
		return -EINVAL;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		mxg_err("cannot create a temporary file beside %s: %s", o->path,
			strerror(errno));
		o->tmp[0] = '\0';
		return err == -ENOENT ? err : mxg_sys(err);
	}
	if (fchmod(fd, 0600)) {
		int err = -errno;

		mxg_err("cannot set mode 0600 on %s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return mxg_sys(err);
	}
	return fd;
}

static int out_open(struct dump_out *o, const char *path, int gzip)
{
	int fd, err;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->gzip = gzip;
	o->path = path;
	if (path) {
		fd = out_tmpfile(o);
		if (fd < 0)
			return fd;
		o->fd = fd;
	} else {
		fd = STDOUT_FILENO;
	}
	if (gzip) {
		static const cookie_io_functions_t io = {
			.write = gz_cookie_write, .close = gz_cookie_close,
		};
		/* gzclose closes what gzdopen got: give it a copy, so that
		 * the file can still be fsync'ed (or stdout kept). */
		int gfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		gzFile gz = gfd < 0 ? NULL : gzdopen(gfd, DUMP_GZ_MODE);

		if (!gz) {
			err = gfd < 0 ? -errno : -ENOMEM;
			if (gfd >= 0)
				close(gfd);
			mxg_err("cannot start gzip output: %s", strerror(-err));
			return mxg_sys(err);
		}
		gzbuffer(gz, DUMP_BUF_SIZE * 2);
		o->f = fopencookie(gz, "w", io);
		if (!o->f) {
			gzclose(gz);
			return -ENOMEM;
		}
	} else if (path) {
		o->f = fdopen(fd, "w");
		if (!o->f)
			return mxg_sys(-errno);
		o->fd = -1; /* fclose closes it now; fsync via fileno() */
	} else {
		/* Nothing has been written to stdout yet: it may be rebuffered. */
		o->f = stdout;
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
		return 0;
	}
	o->buf = malloc(DUMP_BUF_SIZE);
	if (o->buf)
		setvbuf(o->f, o->buf, _IOFBF, DUMP_BUF_SIZE);
	return 0;
}

/* Flush and close the stream; 0 when everything reached the file. */
static int out_close_stream(struct dump_out *o)
{
	int err = 0;

	if (o->f) {
		errno = 0;
		if (fflush(o->f) || ferror(o->f))
			err = errno ? -errno : -EIO;
		if (!err && o->path && !o->gzip && fsync(fileno(o->f)))
			err = -errno;
		errno = 0;
		if (o->f != stdout && fclose(o->f) && !err)
			err = errno ? -errno : -EIO;
		o->f = NULL;
	}
	free(o->buf);
	o->buf = NULL;
	if (!err && o->fd >= 0 && fsync(o->fd))
		err = -errno;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	return err;
}

/* The rename itself must survive a crash too: sync the directory. */
static void out_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int dfd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* Make the file appear under its name (success), or remove it (err). */
static int out_finish(struct dump_out *o, int err)
{
	int cerr = out_close_stream(o);

	if (!err && cerr) {
		mxg_err("cannot write %s: %s", o->path ? o->path : "the dump to stdout",
			strerror(-cerr));
		err = mxg_sys(cerr);
	}
	if (!o->path || !o->tmp[0])
		return err;
	if (!err && rename(o->tmp, o->path)) {
		err = -errno;
		mxg_err("cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
		err = mxg_sys(err);
	}
	if (err) {
		unlink(o->tmp);
		return err;
	}
	out_sync_dir(o->path);
	return 0;
}

/* ---- writers --------------------------------------------------------- */

/* CSV columns, in order; each record type fills its own subset. The
 * outbound and local records came later: their columns are at the end. */
enum {
	C_RECORD, C_KEY, C_VALUE, C_SERVICE, C_ADDR, C_SYNS, C_DROPS,
	C_WOULD_DROPS, C_FIRST_SEEN, C_LAST_SEEN, C_LIMITED, C_TOKENS, C_RATE,
	C_BURST, C_PORTS, C_COMMENT, C_FEED, C_REASON, C_ADDED, C_EXPIRES,
	C_EXPIRED, C_HITS, C_LAST_HIT, C_PER_MIN, C_ID, C_NAME, C_CONNS,
	C_REFUSED, C_TRUSTED, C_LAST_COMM, C_LAST_UID, C_LAST_CGROUP, NCOLS
};

static const char *const csv_head[NCOLS] = {
	"record", "key", "value", "service", "addr", "syns", "drops",
	"would_drops", "first_seen", "last_seen", "limited", "tokens", "rate",
	"burst", "ports", "comment", "feed", "reason", "added", "expires",
	"expired", "hits", "last_hit", "per_min", "id", "name", "conns",
	"refused", "trusted", "last_comm", "last_uid", "last_cgroup",
};

/* One formatted ISO 8601 second, reused while it repeats: a million records
 * carry only a few distinct seconds. */
struct tcache {
	__u64 s;
	char buf[32];
};

struct dump {
	struct mxg_maps *m;
	const struct mxg_cfg *cfg;
	FILE *f;
	int csv;
	struct mxg_json j;
	__u64 now_ns;          /* monotonic, at the start of the dump */
	__u64 off_ns;          /* wall clock minus monotonic clock, then */
	struct tcache tc[4];
	struct mxg_names names;
};

/* Wall-clock seconds of a monotonic stamp (0 stays 0), as mxg_mono_to_unix
 * but with one offset for the whole dump: every time in it is converted
 * alike, and a million records do not read the clocks two million times. */
static __u64 to_unix(const struct dump *d, __u64 mono_ns)
{
	return mono_ns ? (mono_ns + d->off_ns) / 1000000000ull : 0;
}

/* "" for 0 (never); otherwise the ISO 8601 UTC time. */
static const char *tfmt(struct tcache *c, __u64 unix_s)
{
	if (!unix_s)
		return "";
	if (c->s != unix_s) {
		mxg_format_time(unix_s, c->buf, sizeof(c->buf));
		c->s = unix_s;
	}
	return c->buf;
}

/* JSON time member: a string, or null for 0. */
static void jtime(struct dump *d, int slot, const char *key, __u64 unix_s)
{
	mxg_json_str(&d->j, key, unix_s ? tfmt(&d->tc[slot], unix_s) : NULL);
}

static char *fmt_u64(char *end, __u64 v)
{
	*--end = '\0';
	do {
		*--end = '0' + v % 10;
		v /= 10;
	} while (v);
	return end;
}

/* One output line built in memory and written with one call: a million
 * records cost a million writes, not twenty million. Large enough for the
 * longest row (reason, comment and feed, or a cgroup path, all quoted and
 * doubled). */
struct line {
	size_t n;
	char buf[4 * PATH_MAX];
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - l->n)
		n = sizeof(l->buf) - l->n;
	memcpy(l->buf + l->n, s, n);
	l->n += n;
}

#define PUT_LIT(l, s) put(l, s, sizeof(s) - 1)

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_u64(struct line *l, __u64 v)
{
	char num[24];
	char *p = fmt_u64(num + sizeof(num), v);

	put(l, p, num + sizeof(num) - 1 - p);
}

/* A field per RFC 4180: quoted only when it holds a comma, quote, CR or LF,
 * with quotes doubled. */
static void put_csv(struct line *l, const char *s)
{
	size_t n = strcspn(s, ",\"\r\n");

	if (!s[n]) {
		put(l, s, n);
		return;
	}
	PUT_LIT(l, "\"");
	for (; *s; s++) {
		if (*s == '"')
			PUT_LIT(l, "\"");
		put(l, s, 1);
	}
	PUT_LIT(l, "\"");
}

static void csv_row(FILE *f, const char *const *cells)
{
	struct line l;
	int i;

	l.n = 0;
	for (i = 0; i < NCOLS; i++) {
		if (i)
			PUT_LIT(&l, ",");
		if (cells[i])
			put_csv(&l, cells[i]);
	}
	PUT_LIT(&l, "\n");
	fwrite(l.buf, 1, l.n, f);
}

static void csv_kv(struct dump *d, const char *key, const char *value)
{
	const char *cells[NCOLS] = { [C_RECORD] = "meta", [C_KEY] = key,
				     [C_VALUE] = value };

	csv_row(d->f, cells);
}

/* ---- meta: time, host, mode, interfaces ---------------------------------- */

static const char *xdp_mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

/* Each link pin, as `status` shows it. */
static void dump_interfaces(struct dump *d)
{
	size_t plen = strlen(MXG_LINK_PIN_PREFIX);
	DIR *dir = opendir(mxg_pin_dir());
	struct dirent *e;

	if (!d->csv)
		mxg_json_arr(&d->j, "interfaces");
	while (dir && (e = readdir(dir))) {
		char path[PATH_MAX], name[IF_NAMESIZE + 1], key[IF_NAMESIZE + 16];
		struct bpf_link_info info;
		__u32 len = sizeof(info), ifindex;
		const char *mode = "none";
		int fd, present;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		if (strncmp(e->d_name, MXG_LINK_PIN_PREFIX, plen))
			continue;
		snprintf(name, sizeof(name), "%s", e->d_name + plen);
		mxg_pin_path(path, e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			memset(&info, 0, sizeof(info));
		close(fd);
		ifindex = info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
		present = ifindex && if_nametoindex(name) == ifindex;
		if (present && !bpf_xdp_query(ifindex, 0, &q))
			mode = xdp_mode_name(q.attach_mode);
		if (d->csv) {
			snprintf(key, sizeof(key), "interface:%s", name);
			csv_kv(d, key, present ? mode : "gone");
			continue;
		}
		mxg_json_obj(&d->j, NULL);
		mxg_json_str(&d->j, "name", name);
		mxg_json_u64(&d->j, "ifindex", ifindex);
		mxg_json_str(&d->j, "xdp_mode", mode);
		mxg_json_u64(&d->j, "link_id", info.id);
		mxg_json_bool(&d->j, "present", present);
		mxg_json_obj_end(&d->j);
	}
	if (dir)
		closedir(dir);
	if (!d->csv)
		mxg_json_arr_end(&d->j);
}

static void dump_meta(struct dump *d)
{
	struct utsname u;
	char num[24];

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	if (d->csv) {
		csv_row(d->f, csv_head);
		csv_kv(d, "schema_version", fmt_u64(num + sizeof(num), DUMP_SCHEMA_VERSION));
		csv_kv(d, "time", tfmt(&d->tc[0], mxg_unix_s()));
		csv_kv(d, "host", u.nodename);
		csv_kv(d, "kernel", u.release);
		csv_kv(d, "pin_dir", mxg_pin_dir());
		csv_kv(d, "mode", mxg_mode_name(d->cfg->mode));
		csv_kv(d, "mode_since", tfmt(&d->tc[1], d->cfg->mode_since_s));
		csv_kv(d, "v4_prefix", fmt_u64(num + sizeof(num), d->cfg->v4_prefix));
		csv_kv(d, "v6_prefix", fmt_u64(num + sizeof(num), d->cfg->v6_prefix));
		csv_kv(d, "v4_network_prefix", fmt_u64(num + sizeof(num), mxg_cfg_net0(d->cfg)->len4));
		csv_kv(d, "v6_network_prefix", fmt_u64(num + sizeof(num), mxg_cfg_net0(d->cfg)->len6));
		dump_interfaces(d);
		return;
	}
	mxg_json_obj(&d->j, NULL);
	mxg_json_u64(&d->j, "schema_version", DUMP_SCHEMA_VERSION);
	jtime(d, 0, "time", mxg_unix_s());
	mxg_json_str(&d->j, "host", u.nodename);
	mxg_json_str(&d->j, "kernel", u.release);
	mxg_json_str(&d->j, "pin_dir", mxg_pin_dir());
	mxg_json_str(&d->j, "mode", mxg_mode_name(d->cfg->mode));
	jtime(d, 1, "mode_since", d->cfg->mode_since_s);
	mxg_json_u64(&d->j, "v4_prefix", d->cfg->v4_prefix);
	mxg_json_u64(&d->j, "v6_prefix", d->cfg->v6_prefix);
	mxg_json_u64(&d->j, "v4_network_prefix", mxg_cfg_net0(d->cfg)->len4);
	mxg_json_u64(&d->j, "v6_network_prefix", mxg_cfg_net0(d->cfg)->len6);
	dump_interfaces(d);
}

/* ---- limits and counters ------------------------------------------------- */

/* CSV: one limit row per bucket (key "source" or "network") and service. */
static void csv_limit(struct dump *d, unsigned svc, const char *bucket,
		      const struct mxg_limit *l, unsigned len4, unsigned len6,
		      const char *ports)
{
	char rate[32], burst[24], lens[16];
	const char *cells[NCOLS] = {
		[C_RECORD] = "limit", [C_KEY] = bucket, [C_VALUE] = lens,
		[C_SERVICE] = mxg_svc_name(svc), [C_RATE] = rate,
		[C_BURST] = fmt_u64(burst + sizeof(burst), l->burst),
		[C_PORTS] = ports,
	};

	mxg_format_rate(l->rate_n, l->rate_per_s, rate, sizeof(rate));
	snprintf(lens, sizeof(lens), "%u %u", len4, len6);
	csv_row(d->f, cells);
}

static void dump_limits(struct dump *d)
{
	unsigned s, p;

	if (!d->csv)
		mxg_json_obj(&d->j, "limits");
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		const struct mxg_limit *l = &d->cfg->limit[s], *pl = &d->cfg->plimit[s];
		char rate[32];

		if (d->csv) {
			char ports[8 * 64] = "";
			size_t off = 0;

			for (p = 0; p < MXG_NPORTS && off < sizeof(ports) - 8; p++)
				if (d->cfg->port_svc[p] == s)
					off += snprintf(ports + off, sizeof(ports) - off,
							"%s%u", off ? " " : "", p);
			csv_limit(d, s, "source", l, d->cfg->v4_prefix,
				  d->cfg->v6_prefix, ports);
			csv_limit(d, s, "network", pl, d->cfg->net[s].len4,
				  d->cfg->net[s].len6, ports);
			continue;
		}
		mxg_json_obj(&d->j, mxg_svc_name(s));
		mxg_format_rate(l->rate_n, l->rate_per_s, rate, sizeof(rate));
		mxg_json_str(&d->j, "rate", rate);
		mxg_json_u64(&d->j, "rate_n", l->rate_n);
		mxg_json_u64(&d->j, "per_s", l->rate_per_s);
		mxg_json_u64(&d->j, "burst", l->burst);
		mxg_json_u64(&d->j, "interval_ns", l->interval_ns);
		mxg_format_rate(pl->rate_n, pl->rate_per_s, rate, sizeof(rate));
		mxg_json_str(&d->j, "prefix_rate", rate);
		mxg_json_u64(&d->j, "prefix_rate_n", pl->rate_n);
		mxg_json_u64(&d->j, "prefix_per_s", pl->rate_per_s);
		mxg_json_u64(&d->j, "prefix_burst", pl->burst);
		mxg_json_u64(&d->j, "prefix_interval_ns", pl->interval_ns);
		mxg_json_u64(&d->j, "prefix_v4", d->cfg->net[s].len4);
		mxg_json_u64(&d->j, "prefix_v6", d->cfg->net[s].len6);
		mxg_json_arr(&d->j, "ports");
		for (p = 0; p < MXG_NPORTS; p++)
			if (d->cfg->port_svc[p] == s)
				mxg_json_u64(&d->j, NULL, p);
		mxg_json_arr_end(&d->j);
		mxg_json_obj_end(&d->j);
	}
	if (!d->csv)
		mxg_json_obj_end(&d->j);
}

/* The first reasons only occur for service "none" (traffic not for a mail
 * port), the rest only for mail services; each service lists its own, as in
 * `stats`. */
static int reason_of_svc(unsigned svc, unsigned r)
{
	return svc == MXG_SVC_NONE ? r < MXG_R_ALLOW : r >= MXG_R_ALLOW;
}

static void counter(struct dump *d, const char *svc, const char *name, __u64 v)
{
	char num[24];
	const char *cells[NCOLS] = { [C_RECORD] = "counter", [C_SERVICE] = svc,
				     [C_KEY] = name };

	if (!d->csv) {
		mxg_json_u64(&d->j, name, v);
		return;
	}
	cells[C_VALUE] = fmt_u64(num + sizeof(num), v);
	csv_row(d->f, cells);
}

static int dump_counters(struct dump *d)
{
	__u64 c[MXG_NCOUNTERS];
	unsigned s, r;
	int err;

	err = mxg_stats_read(d->m, c);
	if (err)
		return err;
	if (!d->csv)
		mxg_json_obj(&d->j, "counters");
	for (s = MXG_SVC_NONE; s < MXG_SVC_MAX; s++) {
		if (!d->csv)
			mxg_json_obj(&d->j, mxg_svc_name(s));
		for (r = 0; r < MXG_R_MAX; r++)
			if (reason_of_svc(s, r))
				counter(d, mxg_svc_name(s), mxg_reason_name(r),
					c[MXG_COUNTER_IDX(s, r)]);
		if (!d->csv)
			mxg_json_obj_end(&d->j);
	}
	if (!d->csv)
		mxg_json_obj_end(&d->j);
	counter(d, NULL, "events_lost", c[MXG_MISC_IDX(MXG_C_EVENTS_LOST)]);
	counter(d, NULL, "src_fail", c[MXG_MISC_IDX(MXG_C_SRC_FAIL)]);
	return 0;
}

/* ---- allow and block --------------------------------------------------- */

/* An allowlist entry, of the XDP side (record "allow") or the outbound one
 * ("outbound_allow"). */
static void allow_entry(struct dump *d, const struct mxg_allow_entry *e,
			const char *record)
{
	char cs[MXG_CIDR_STRLEN], hits[24];
	__u64 last = to_unix(d, e->v.last_hit_ns);
	char comment[MXG_COMMENT_LEN + 1];

	snprintf(comment, sizeof(comment), "%.*s", MXG_COMMENT_LEN, e->v.comment);
	mxg_cidr_format(&e->cidr, cs, sizeof(cs));
	if (d->csv) {
		const char *cells[NCOLS] = {
			[C_RECORD] = record, [C_ADDR] = cs, [C_COMMENT] = comment,
			[C_ADDED] = tfmt(&d->tc[0], e->v.added_s),
			[C_HITS] = fmt_u64(hits + sizeof(hits), e->v.hits),
			[C_LAST_HIT] = tfmt(&d->tc[1], last),
		};

		csv_row(d->f, cells);
		return;
	}
	mxg_json_obj(&d->j, NULL);
	mxg_json_str(&d->j, "cidr", cs);
	mxg_json_str(&d->j, "comment", comment);
	jtime(d, 0, "added", e->v.added_s);
	mxg_json_u64(&d->j, "hits", e->v.hits);
	jtime(d, 1, "last_hit", last);
	mxg_json_obj_end(&d->j);
}

static int allow_cb(const struct mxg_allow_entry *e, void *ctx)
{
	struct dump *d = ctx;

	if (interrupted)
		return check_interrupted();
	allow_entry(d, e, "allow");
	return 0;
}

static int block_cb(const struct mxg_block_entry *e, void *ctx)
{
	struct dump *d = ctx;
	char cs[MXG_CIDR_STRLEN], hits[24];
	const char *feed = d->names.feed[e->v.feed_id < MXG_MAX_FEEDS ? e->v.feed_id : 0];
	const char *reason = mxg_names_reason(&d->names, e->v.reason_id);
	__u64 exp = e->v.expires_ns ? to_unix(d, e->v.expires_ns) : 0;
	__u64 last = to_unix(d, e->v.last_hit_ns);
	int expired = mxg_block_expired(&e->v, d->now_ns);

	if (interrupted)
		return check_interrupted();
	mxg_cidr_format(&e->cidr, cs, sizeof(cs));
	if (d->csv) {
		const char *cells[NCOLS] = {
			[C_RECORD] = "block", [C_ADDR] = cs, [C_FEED] = feed,
			[C_REASON] = reason,
			[C_ADDED] = tfmt(&d->tc[0], e->v.added_s),
			[C_EXPIRES] = tfmt(&d->tc[1], exp),
			[C_EXPIRED] = expired ? "true" : "false",
			[C_HITS] = fmt_u64(hits + sizeof(hits), e->v.hits),
			[C_LAST_HIT] = tfmt(&d->tc[2], last),
		};

		csv_row(d->f, cells);
		return 0;
	}
	mxg_json_obj(&d->j, NULL);
	mxg_json_str(&d->j, "cidr", cs);
	mxg_json_str(&d->j, "feed", feed);
	mxg_json_str(&d->j, "reason", reason);
	jtime(d, 0, "added", e->v.added_s);
	jtime(d, 1, "expires", exp);
	mxg_json_bool(&d->j, "expired", expired);
	mxg_json_u64(&d->j, "hits", e->v.hits);
	jtime(d, 2, "last_hit", last);
	mxg_json_obj_end(&d->j);
	return 0;
}

static int dump_lists(struct dump *d)
{
	int err;

	if (!d->csv)
		mxg_json_arr(&d->j, "allow");
	err = mxg_allow_each(d->m, allow_cb, d);
	if (err)
		return err;
	if (!d->csv) {
		mxg_json_arr_end(&d->j);
		mxg_json_arr(&d->j, "block");
	}
	err = mxg_block_each(d->m, block_cb, d);
	if (err)
		return err;
	if (!d->csv)
		mxg_json_arr_end(&d->j);
	return 0;
}

/* ---- network buckets and sources ------------------------------------------ */

/* The JSON string of a time, or null: times and names need no escaping. */
static void put_jtime(struct line *l, struct tcache *c, __u64 unix_s)
{
	if (!unix_s) {
		PUT_LIT(l, "null");
		return;
	}
	PUT_LIT(l, "\"");
	put_str(l, tfmt(c, unix_s));
	PUT_LIT(l, "\"");
}

/* The hot loop: one record per source and service, formatted in a buffer
 * (addresses, service names and times never need JSON escaping). */
static void source(struct dump *d, const void *key, const void *val)
{
	const struct mxg_src_key *k = key;
	const struct mxg_src_val *v = val;
	const struct mxg_limit *l = &d->cfg->limit[k->svc < MXG_SVC_MAX ? k->svc : 0];
	__u32 tokens = mxg_bucket_tokens(v->tat_ns, d->now_ns, l->interval_ns, l->burst);
	int limited = (v->flags & MXG_SRCF_LIMITED) && !mxg_bucket_full(v->tat_ns, d->now_ns);
	__u64 first = to_unix(d, v->first_ns), last = to_unix(d, v->last_ns);
	char as[MXG_CIDR_STRLEN];
	struct line o;

	mxg_addr_format(&k->addr, as, sizeof(as));
	if (d->csv) {
		char syns[16], drops[16], would[16], tok[16];
		const char *cells[NCOLS] = {
			[C_RECORD] = "source", [C_ADDR] = as,
			[C_SERVICE] = mxg_svc_name(k->svc),
			[C_SYNS] = fmt_u64(syns + sizeof(syns), v->syns),
			[C_DROPS] = fmt_u64(drops + sizeof(drops), v->drops),
			[C_WOULD_DROPS] = fmt_u64(would + sizeof(would), v->would_drops),
			[C_FIRST_SEEN] = tfmt(&d->tc[0], first),
			[C_LAST_SEEN] = tfmt(&d->tc[1], last),
			[C_LIMITED] = limited ? "true" : "false",
			[C_TOKENS] = fmt_u64(tok + sizeof(tok), tokens),
		};

		csv_row(d->f, cells);
		return;
	}
	o.n = 0;
	PUT_LIT(&o, "{\"addr\":\"");
	put_str(&o, as);
	PUT_LIT(&o, "\",\"service\":\"");
	put_str(&o, mxg_svc_name(k->svc));
	PUT_LIT(&o, "\",\"syns\":");
	put_u64(&o, v->syns);
	PUT_LIT(&o, ",\"drops\":");
	put_u64(&o, v->drops);
	PUT_LIT(&o, ",\"would_drops\":");
	put_u64(&o, v->would_drops);
	PUT_LIT(&o, ",\"first_seen\":");
	put_jtime(&o, &d->tc[0], first);
	PUT_LIT(&o, ",\"last_seen\":");
	put_jtime(&o, &d->tc[1], last);
	if (limited)
		PUT_LIT(&o, ",\"limited\":true,\"tokens\":");
	else
		PUT_LIT(&o, ",\"limited\":false,\"tokens\":");
	put_u64(&o, tokens);
	PUT_LIT(&o, "}");
	mxg_json_raw(&d->j, NULL, o.buf, o.n);
}

/* A network bucket record: all sources of one IPv4 /24 or IPv6 /48 (by
 * default) on one service; the slot's owner, unused slots skipped. */
static void network(struct dump *d, const void *key, const void *val)
{
	const struct mxg_pfx_val *v = val;
	const struct mxg_limit *l = &d->cfg->plimit[v->svc < MXG_SVC_MAX ? v->svc : 0];
	__u32 tokens = mxg_bucket_tokens(v->tat_ns, d->now_ns, l->interval_ns, l->burst);
	struct mxg_cidr c;
	char cs[MXG_CIDR_STRLEN];

	(void)key;
	if (!v->svc)
		return;
	mxg_pfx_cidr(v, &c);
	mxg_cidr_format(&c, cs, sizeof(cs));
	if (d->csv) {
		char syns[16], drops[16], tok[16];
		const char *cells[NCOLS] = {
			[C_RECORD] = "network", [C_ADDR] = cs,
			[C_SERVICE] = mxg_svc_name(v->svc),
			[C_SYNS] = fmt_u64(syns + sizeof(syns), v->syns),
			[C_DROPS] = fmt_u64(drops + sizeof(drops), v->drops),
			[C_TOKENS] = fmt_u64(tok + sizeof(tok), tokens),
		};

		csv_row(d->f, cells);
		return;
	}
	mxg_json_obj(&d->j, NULL);
	mxg_json_str(&d->j, "prefix", cs);
	mxg_json_str(&d->j, "service", mxg_svc_name(v->svc));
	mxg_json_u64(&d->j, "syns", v->syns);
	mxg_json_u64(&d->j, "drops", v->drops);
	mxg_json_u64(&d->j, "shared", v->shared);
	mxg_json_u64(&d->j, "tokens", tokens);
	mxg_json_obj_end(&d->j);
}

struct table_ctx {
	struct dump *d;
	void (*cb)(struct dump *d, const void *k, const void *v);
};

static int table_cb(const void *k, const void *v, void *ctx)
{
	struct table_ctx *t = ctx;
	int err = check_interrupted();

	if (err)
		return err;
	t->cb(t->d, k, v);
	/* A write error stops the walk; out_finish reports it. */
	return ferror(t->d->f) ? 1 : 0;
}

/* A table in batches, each written before the next is read: memory stays
 * at one batch whatever the table holds. */
static int dump_table(struct dump *d, int fd, size_t ksize, size_t vsize,
		      void (*cb)(struct dump *d, const void *k, const void *v))
{
	struct table_ctx t = { d, cb };
	int err = mxg_map_each(fd, ksize, vsize, table_cb, &t);

	return err > 0 ? 0 : err;
}

static int dump_tables(struct dump *d)
{
	int err;

	if (!d->csv)
		mxg_json_arr(&d->j, "networks");
	err = dump_table(d, d->m->pfx, sizeof(__u32), sizeof(struct mxg_pfx_val),
			 network);
	if (err)
		return err;
	if (!d->csv) {
		mxg_json_arr_end(&d->j);
		mxg_json_arr(&d->j, "sources");
	}
	err = dump_table(d, d->m->src, sizeof(struct mxg_src_key),
			 sizeof(struct mxg_src_val), source);
	if (err)
		return err;
	if (!d->csv)
		mxg_json_arr_end(&d->j);
	return 0;
}

/* ---- outbound and local -------------------------------------------------- */

/* The outbound tables are small and bounded (MXO_DST_MAX destinations,
 * MXO_SRC_MAX sources, MXO_LOCAL_MAX uids and cgroups): read whole, then
 * written. JSON: the members of `mxguard outbound --json` and `mxguard local
 * --json`; CSV: rows of their own record types. */

struct ob_dump {
	struct mxo_out_state out;
	struct mxo_local_state local;
};

static void ob_kv(struct dump *d, const char *record, const char *key,
		  const char *value)
{
	const char *cells[NCOLS] = { [C_RECORD] = record, [C_KEY] = key,
				     [C_VALUE] = value };

	csv_row(d->f, cells);
}

static void ob_kv_u64(struct dump *d, const char *record, const char *key,
		      __u64 v)
{
	char num[24];

	ob_kv(d, record, key, fmt_u64(num + sizeof(num), v));
}

static void ob_limit(struct dump *d, const char *record, const char *key,
		     const struct mxg_limit *l)
{
	char rate[32] = "off", burst[24];
	const char *cells[NCOLS] = { [C_RECORD] = record, [C_KEY] = key,
				     [C_RATE] = rate };

	if (l->interval_ns) {
		mxg_format_rate(l->rate_n, l->rate_per_s, rate, sizeof(rate));
		cells[C_BURST] = fmt_u64(burst + sizeof(burst), l->burst);
	}
	csv_row(d->f, cells);
}

/* One counter row per port and verdict. */
static void ob_counters(struct dump *d, const char *record, const __u64 *cnt,
			int local)
{
	unsigned p, v, nv = local ? MXO_LV_MAX : MXO_V_MAX;
	char num[24];

	for (p = 0; p < MXO_PORT_MAX; p++)
		for (v = 0; v < nv; v++) {
			const char *cells[NCOLS] = {
				[C_RECORD] = record, [C_SERVICE] = mxo_port_name(p),
				[C_KEY] = local ? mxo_lverdict_name(v) : mxo_verdict_name(v),
				[C_VALUE] = fmt_u64(num + sizeof(num),
					cnt[local ? MXO_LO_IDX(p, v) : MXO_EG_IDX(p, v)]),
			};

			csv_row(d->f, cells);
		}
}

static void ob_csv_state(struct dump *d, const struct mxo_out_state *s)
{
	const char *r = "outbound_meta";
	char key[IF_NAMESIZE + 16];
	size_t i;

	for (i = 0; i < s->nifs; i++) {
		snprintf(key, sizeof(key), "interface:%s", s->ifs[i].name);
		ob_kv(d, r, key, s->ifs[i].present ? "present" : "gone");
	}
	ob_kv_u64(d, r, "dst_prefix_v4", s->cfg.dst_plen4);
	ob_kv_u64(d, r, "dst_prefix_v6", s->cfg.dst_plen6);
	ob_kv(d, r, "changed", tfmt(&d->tc[0], s->cfg.changed_s));
	ob_kv_u64(d, r, "syns", s->total.syns);
	ob_kv_u64(d, r, "per_min", mxo_win_per_min(&s->total.win, s->now));
	ob_kv(d, r, "warn_active", mxo_warn_active(s) ? "true" : "false");
	ob_kv(d, r, "warn_since", tfmt(&d->tc[1], to_unix(d, s->total.warn_since_ns)));
	ob_kv_u64(d, r, "warn_episodes", s->total.warn_episodes);
	ob_kv_u64(d, r, "warn_over", s->cnt[MXO_MISC_IDX(MXO_C_WARN_OVER)]);
	ob_kv(d, r, "cap_active", mxo_cap_active(s) ? "true" : "false");
	ob_kv(d, r, "cap_since", tfmt(&d->tc[2], to_unix(d, s->total.cap_since_ns)));
	ob_kv_u64(d, r, "cap_episodes", s->total.cap_episodes);
	ob_kv_u64(d, r, "tracked_destinations", s->ndst);
	ob_kv_u64(d, r, "tracked_sources", s->nsrc);
	ob_kv_u64(d, r, "events_lost", s->cnt[MXO_MISC_IDX(MXO_C_EVENTS_LOST)]);
	ob_kv_u64(d, r, "rec_fail", s->cnt[MXO_MISC_IDX(MXO_C_REC_FAIL)]);
	ob_limit(d, "outbound_limit", "warn", &s->cfg.warn);
	ob_limit(d, "outbound_limit", "cap", &s->cfg.cap);
	ob_counters(d, "outbound_counter", s->cnt, 0);
}

static void ob_csv_recs(struct dump *d, const struct mxo_out_state *s, int dst)
{
	const struct mxo_rec_row *rows = dst ? s->dst : s->src;
	size_t i, n = dst ? s->ndst : s->nsrc;

	for (i = 0; i < n; i++) {
		char as[MXG_CIDR_STRLEN], sy[24], dr[24], pm[24];
		const char *cells[NCOLS] = {
			[C_RECORD] = dst ? "outbound_destination" : "outbound_source",
			[C_ADDR] = as,
			[C_SYNS] = fmt_u64(sy + sizeof(sy), rows[i].r.syns),
			[C_DROPS] = fmt_u64(dr + sizeof(dr), rows[i].r.drops),
			[C_PER_MIN] = fmt_u64(pm + sizeof(pm), rows[i].per_min),
			[C_FIRST_SEEN] = tfmt(&d->tc[0], to_unix(d, rows[i].r.first_ns)),
			[C_LAST_SEEN] = tfmt(&d->tc[1], to_unix(d, rows[i].r.last_ns)),
		};

		if (dst)
			mxo_dst_str(&s->cfg, &rows[i].addr, as, sizeof(as));
		else
			mxg_addr_format(&rows[i].addr, as, sizeof(as));
		csv_row(d->f, cells);
	}
}

static void ob_csv_local_state(struct dump *d, const struct mxo_local_state *s)
{
	const char *r = "local_meta";
	char key[48];
	size_t i;

	for (i = 0; i < s->natt; i++) {
		snprintf(key, sizeof(key), "cgroup:%llu", (unsigned long long)s->att[i].id);
		ob_kv(d, r, key, s->att[i].path ? s->att[i].path : "gone");
	}
	ob_kv_u64(d, r, "tracked_uids", s->nuid);
	ob_kv_u64(d, r, "tracked_cgroups", s->n - s->nuid);
	ob_kv_u64(d, r, "limited_uids", s->limited_uids);
	ob_kv_u64(d, r, "limited_cgroups", s->limited_cgroups);
	ob_limit(d, "local_limit", "uid", &s->cfg.uid_limit);
	ob_limit(d, "local_limit", "cgroup", &s->cfg.cg_limit);
	ob_counters(d, "local_counter", s->cnt, 1);
}

static void ob_csv_lrow(struct dump *d, const struct mxo_lrow *l)
{
	char id[24], co[24], re[24], pm[24], last[24], comm[MXO_COMM_LEN + 1];
	int uid = l->k.kind == MXO_LK_UID;
	const char *cells[NCOLS] = {
		[C_RECORD] = uid ? "local_uid" : "local_cgroup",
		[C_ID] = fmt_u64(id + sizeof(id), l->k.id),
		[C_NAME] = l->name ? l->name : "",
		[C_CONNS] = fmt_u64(co + sizeof(co), l->r.conns),
		[C_REFUSED] = fmt_u64(re + sizeof(re), l->r.refused),
		[C_PER_MIN] = fmt_u64(pm + sizeof(pm), l->per_min),
		[C_LIMITED] = l->limited ? "true" : "false",
		[C_TRUSTED] = l->trusted ? "true" : "false",
		[C_FIRST_SEEN] = tfmt(&d->tc[0], to_unix(d, l->r.first_ns)),
		[C_LAST_SEEN] = tfmt(&d->tc[1], to_unix(d, l->r.last_ns)),
		[C_LAST_COMM] = comm,
	};

	snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
	if (uid)
		cells[C_LAST_CGROUP] = fmt_u64(last + sizeof(last), l->r.last_cgid);
	else
		cells[C_LAST_UID] = fmt_u64(last + sizeof(last), l->r.last_uid);
	csv_row(d->f, cells);
}

static void ob_csv_trust(struct dump *d, const struct mxo_trust_row *t)
{
	char id[24], comment[MXG_COMMENT_LEN + 1];
	const char *cells[NCOLS] = {
		[C_RECORD] = "local_trust", [C_KEY] = mxo_lkind_name(t->k.kind),
		[C_ID] = fmt_u64(id + sizeof(id), t->k.id),
		[C_NAME] = t->name ? t->name : "", [C_COMMENT] = comment,
		[C_ADDED] = tfmt(&d->tc[0], t->t.added_s),
	};

	snprintf(comment, sizeof(comment), "%.*s", MXG_COMMENT_LEN, t->t.comment);
	csv_row(d->f, cells);
}

static void ob_csv(struct dump *d, const struct ob_dump *o)
{
	size_t i;

	ob_csv_state(d, &o->out);
	for (i = 0; i < o->out.nallow; i++)
		allow_entry(d, &o->out.allow[i], "outbound_allow");
	ob_csv_recs(d, &o->out, 1);
	ob_csv_recs(d, &o->out, 0);
	ob_csv_local_state(d, &o->local);
	for (i = 0; i < o->local.n; i++)
		ob_csv_lrow(d, &o->local.rows[i]);
	for (i = 0; i < o->local.ntrust; i++)
		ob_csv_trust(d, &o->local.trust[i]);
}

static void ob_json(struct dump *d, const struct ob_dump *o)
{
	size_t i;

	if (!o) {
		mxg_json_null(&d->j, "outbound");
		mxg_json_null(&d->j, "local");
		return;
	}
	mxg_json_obj(&d->j, "outbound");
	mxo_json_outbound(&d->j, &o->out, SIZE_MAX);
	mxg_json_arr(&d->j, "allow");
	for (i = 0; i < o->out.nallow; i++)
		allow_entry(d, &o->out.allow[i], NULL);
	mxg_json_arr_end(&d->j);
	mxg_json_obj_end(&d->j);
	mxg_json_obj(&d->j, "local");
	mxo_json_local(&d->j, &o->local, SIZE_MAX);
	mxg_json_obj_end(&d->j);
}

/* When the outbound programs were ever attached (their maps are pinned). */
static int dump_outbound(struct dump *d)
{
	struct mxo_maps m;
	struct ob_dump *o;
	int err;

	if (!mxo_maps_present()) {
		if (!d->csv)
			ob_json(d, NULL);
		return 0;
	}
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	o = calloc(1, sizeof(*o));
	err = o ? mxo_out_read(&m, &o->out) : -ENOMEM;
	if (!err)
		err = mxo_local_read(&m, &o->local, MXO_READ_NAMES);
	mxo_maps_close(&m);
	if (!err)
		err = check_interrupted();
	if (!err && d->csv)
		ob_csv(d, o);
	else if (!err)
		ob_json(d, o);
	if (o) {
		mxo_out_free(&o->out);
		mxo_local_free(&o->local);
	}
	free(o);
	return err;
}

/* ---- the command --------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && !strcmp(s + n - k, suf);
}

static int do_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = NULL, *format = "json";
	struct mxg_cfg *cfg = NULL;
	struct dump d = { 0 };
	struct dump_out o = { .fd = -1 };
	struct mxg_maps m;
	int opt, err, gzip = 0, have_names = 0;
	struct timespec rt;
	struct stat st;

	while ((opt = mxg_getopt(&mxg_cmd_dump, argc, argv, "f:o:zh", opts)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'o': path = optarg; break;
		case 'z': gzip = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_dump); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_dump, argc, argv, 0, "");
	if (err)
		return err;
	if (strcmp(format, "json") && strcmp(format, "csv"))
		return mxg_usage(&mxg_cmd_dump, "invalid --format '%s' (json or csv)", format);
	if (path && !*path)
		return mxg_usage(&mxg_cmd_dump, "-o needs a file name (or - for stdout)");
	if (path && !strcmp(path, "-"))
		path = NULL;
	if (path && has_suffix(path, ".gz"))
		gzip = 1;
	if (path && (has_suffix(path, "/") ||
		     (!stat(path, &st) && S_ISDIR(st.st_mode))))
		return mxg_usage(&mxg_cmd_dump, "-o '%s' is a directory; name a file", path);
	if (gzip && !path && isatty(STDOUT_FILENO))
		return mxg_usage(&mxg_cmd_dump,
				 "refusing to write gzip data to a terminal; use -o FILE or a pipe");
	err = mxg_maps_open_ro(&m);
	if (err)
		return err;
	cfg = mxg_cfg_load(&m);
	if (!cfg) {
		err = -EIO;
		goto out;
	}
	err = mxg_names_load(&m, &d.names);
	if (err)
		goto out;
	have_names = 1;
	if (path) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	err = out_open(&o, path, gzip);
	if (err) {
		out_finish(&o, err);
		goto out;
	}
	d.m = &m;
	d.cfg = cfg;
	d.f = o.f;
	d.csv = !strcmp(format, "csv");
	clock_gettime(CLOCK_REALTIME, &rt);
	d.now_ns = mxg_mono_ns();
	d.off_ns = (__u64)rt.tv_sec * 1000000000ull + rt.tv_nsec - d.now_ns;
	mxg_json_init(&d.j, o.f);

	dump_meta(&d);
	dump_limits(&d);
	err = dump_counters(&d);
	if (!err)
		err = dump_lists(&d);
	if (!err)
		err = dump_tables(&d);
	if (!err)
		err = dump_outbound(&d);
	if (!err && !d.csv) {
		mxg_json_obj_end(&d.j);
		mxg_json_done(&d.j);
	}
	err = out_finish(&o, err);
out:
	if (have_names)
		mxg_names_free(&d.names);
	free(cfg);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_dump = {
	.name = "dump",
	.synopsis = "dump [--format json|csv] [-o FILE[.gz]] [--gzip]",
	.summary = "the whole state for forensics: lists, counters, every source, outbound",
	.help =
	"Write everything mxguard knows: host, mode, interfaces, limits, counters,\n"
	"allowlist, blocklist, every network bucket and every tracked source\n"
	"(one record per source and service), and, when the outbound programs\n"
	"were ever attached, the outbound and local state: thresholds, counters,\n"
	"every destination network, local source, uid and cgroup. Streamed:\n"
	"memory use does not grow with the number of sources (the outbound\n"
	"tables are small and bounded, and read whole). The maps are read while\n"
	"the programs keep counting: each record is consistent in itself, the\n"
	"whole is not one instant. Times are ISO 8601 UTC to the second; a time\n"
	"that never happened is null (JSON) or empty (CSV).\n\n"
	"Options:\n"
	"  --format json   one JSON document (default)\n"
	"  --format csv    one row per record, see below\n"
	"  -o, --output FILE\n"
	"                  write FILE (mode 0600) atomically: a temporary file in\n"
	"                  the same directory, fsync'ed, then renamed over FILE;\n"
	"                  on any failure or SIGINT/SIGTERM FILE is left as it\n"
	"                  was. Without -o (or with -o -): stdout\n"
	"  --gzip          compress with gzip; implied when FILE ends in .gz\n\n"
	"JSON, schema_version 1 (members in this order):\n"
	"  schema_version  1; raised when a member changes meaning or goes away\n"
	"                  (new members may appear without it)\n"
	"  time            when the dump was taken\n"
	"  host, kernel    node name and kernel release (uname)\n"
	"  pin_dir         where the maps are pinned\n"
	"  mode            enforce, monitor or lockdown\n"
	"  mode_since      when that mode was set\n"
	"  v4_prefix, v6_prefix  source key lengths (default 32, 64)\n"
	"  v4_network_prefix, v6_network_prefix  smtp's network bucket key\n"
	"                  lengths (default 24, 48; each service's in limits)\n"
	"  interfaces      [{name, ifindex, xdp_mode, link_id, present}]\n"
	"  limits          {SERVICE: {rate, rate_n, per_s, burst, interval_ns,\n"
	"                  prefix_rate, prefix_rate_n, prefix_per_s, prefix_burst,\n"
	"                  prefix_interval_ns, prefix_v4, prefix_v6, ports[]}}:\n"
	"                  rate as \"30/min\", rate_n per per_s seconds; prefix_*\n"
	"                  for the network bucket, prefix_v4/v6 its key lengths\n"
	"  counters        {SERVICE: {VERDICT: packets}}, verdicts as in 'mxguard\n"
	"                  stats'; service \"none\": traffic not for a mail port\n"
	"  events_lost     events the ring buffer could not take\n"
	"  src_fail        SYNs whose source the table could not record\n"
	"  allow           [{cidr, comment, added, hits, last_hit}]\n"
	"  block           [{cidr, feed, reason, added, expires (null: never),\n"
	"                  expired, hits, last_hit}]\n"
	"  networks        [{prefix, service, syns, drops, shared, tokens}]:\n"
	"                  network buckets (CIDR of the service's prefix_v4/v6\n"
	"                  when the slot was taken); shared: syns from new\n"
	"                  sources of other networks that hash to the same\n"
	"                  slot while it drains; syns that reached the\n"
	"                  bucket, drops it refused or would refuse\n"
	"  sources         [{addr, service, syns, drops, would_drops, first_seen,\n"
	"                  last_seen, limited, tokens}]: addr is the source key\n"
	"                  (the address masked to v4_prefix/v6_prefix); syns are\n"
	"                  new connections seen, drops those refused (enforce),\n"
	"                  would_drops those monitor mode let through; limited:\n"
	"                  over its limit now; tokens: connections it may open at\n"
	"                  once now\n"
	"  outbound        null when the outbound programs were never attached;\n"
	"                  else the members of 'mxguard outbound --json' but time:\n"
	"                  {interfaces, config, total, counters, tracked,\n"
	"                  destinations[{prefix, allowlisted, allowlist[], syns,\n"
	"                  drops, per_min, first_seen, last_seen}], sources[{addr,\n"
	"                  syns, drops, per_min, first_seen, last_seen}],\n"
	"                  events_lost, rec_fail}, every destination network and\n"
	"                  local source, and allow[{cidr, comment, added, hits,\n"
	"                  last_hit}] (destinations never capped)\n"
	"  local           null likewise; else the members of 'mxguard local\n"
	"                  --json' but time: {cgroups_attached[{id, path}],\n"
	"                  config{uid_limit, cgroup_limit}, counters, tracked,\n"
	"                  limited, uids[{uid, user, conns, refused, per_min,\n"
	"                  limited, trusted, first_seen, last_seen, last_comm,\n"
	"                  last_cgroup}], cgroups[{id, path, ..., last_uid}],\n"
	"                  trusted[{kind, id, name, comment, added}], events_lost}\n"
	"                  (outbound and local came after schema 1's first\n"
	"                  release: new members, same schema_version)\n\n"
	"CSV: a header line naming the columns, then one row per record. The\n"
	"first column says which kind of record; each kind fills its own columns\n"
	"and leaves the others empty. Quoting as RFC 4180; lines end in LF.\n"
	"  record,key,value,service,addr,syns,drops,would_drops,first_seen,\n"
	"  last_seen,limited,tokens,rate,burst,ports,comment,feed,reason,added,\n"
	"  expires,expired,hits,last_hit,per_min,id,name,conns,refused,trusted,\n"
	"  last_comm,last_uid,last_cgroup\n"
	"(the last nine came with the outbound records; the others keep their\n"
	"places)\n"
	"  meta     key, value: schema_version, time, host, kernel, pin_dir, mode,\n"
	"           mode_since, v4_prefix, v6_prefix, v4_network_prefix,\n"
	"           v6_network_prefix; and interface:NAME, value its XDP mode\n"
	"           (\"gone\" when the interface no longer exists)\n"
	"  limit    key (source or network: which bucket), value (its key\n"
	"           lengths, IPv4 then IPv6: \"24 48\"), service, rate, burst,\n"
	"           ports (space-separated)\n"
	"  counter  service, key (verdict), value; events_lost and src_fail with\n"
	"           an empty service\n"
	"  allow    addr (CIDR), comment, added, hits, last_hit\n"
	"  block    addr (CIDR), feed, reason, added, expires, expired, hits,\n"
	"           last_hit\n"
	"  network  addr (CIDR), service, syns, drops, tokens\n"
	"  source   addr, service, syns, drops, would_drops, first_seen, last_seen,\n"
	"           limited, tokens\n"
	"Only when the outbound programs were ever attached:\n"
	"  outbound_meta    key, value: interface:NAME (present or gone),\n"
	"                   dst_prefix_v4, dst_prefix_v6, changed, syns, per_min,\n"
	"                   warn_active, warn_since, warn_episodes, warn_over,\n"
	"                   cap_active, cap_since, cap_episodes,\n"
	"                   tracked_destinations, tracked_sources, events_lost,\n"
	"                   rec_fail\n"
	"  outbound_limit   key (warn or cap), rate (off when none), burst\n"
	"  outbound_counter service (the port's name), key (pass, allow, cap),\n"
	"                   value\n"
	"  outbound_allow   as allow\n"
	"  outbound_destination  addr (the network's CIDR), syns, drops, per_min,\n"
	"                   first_seen, last_seen\n"
	"  outbound_source  addr, syns, drops, per_min, first_seen, last_seen\n"
	"  local_meta       key, value: cgroup:ID (its path, or gone),\n"
	"                   tracked_uids, tracked_cgroups, limited_uids,\n"
	"                   limited_cgroups\n"
	"  local_limit      key (uid or cgroup), rate, burst\n"
	"  local_counter    service (port name), key (pass, trusted, limit_uid,\n"
	"                   limit_cgroup), value\n"
	"  local_uid        id (the uid), name (user), conns, refused, per_min,\n"
	"                   limited, trusted, first_seen, last_seen, last_comm,\n"
	"                   last_cgroup\n"
	"  local_cgroup     id, name (path), the same, last_uid instead\n"
	"  local_trust      key (uid or cgroup), id, name, comment, added\n\n"
	"Examples:\n"
	"  mxguard dump -o /var/lib/mxguard/dump-$(date -u +%Y%m%dT%H%M%SZ).json.gz\n"
	"  mxguard dump | jq '.sources | sort_by(-.drops) | .[:10]'\n"
	"  mxguard dump --format csv | grep '^source,' | sort -t, -k7nr | head\n",
	.run = do_dump,
};

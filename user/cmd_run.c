// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* run: the foreground service. Attaches the configured interfaces, restores
 * the state snapshot after a reboot, refreshes feeds, collects expired
 * entries, snapshots the state on change, reloads on SIGHUP, and leaves the
 * filter attached and pinned on SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include "cmd.h"
#include "config.h"
#include "feeds.h"
#include "listfmt.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "state.h"
#include "units.h"

#define MXG_CONF_DEFAULT "/etc/mxguard/mxguard.conf"
#define GC_INTERVAL_S 60
#define SNAPSHOT_MIN_S 5         /* at most one snapshot per 5 s of changes */
#define SNAPSHOT_PERIOD_S 600    /* and one every 10 min regardless */
#define FEED_RETRY_S 60          /* a feed that failed is tried again */

/* One log line on stderr (journald): ts=... level=... msg="..." k=v ... */
__attribute__((format(printf, 3, 4)))
static void slog(const char *level, const char *msg, const char *fmt, ...)
{
	char ts[32];
	va_list ap;

	mxg_format_time(mxg_unix_s(), ts, sizeof(ts));
	fprintf(stderr, "ts=%s level=%s msg=\"%s\"", ts, level, msg);
	if (fmt && *fmt) {
		fputc(' ', stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	fflush(stderr);
}

struct svc {
	const char *conf_path;    /* NULL: no config file */
	struct mxg_config conf;
	int have_conf;
	const char *state_dir;
	__u64 *feed_due;          /* per conf.feeds[i], unix s */
	__u64 gc_due, snap_due, snap_last;
	__u32 gen_seen;
	int gen_valid;
	int pending;              /* changed since the last snapshot */
};

static int load_conf(const char *path, struct mxg_config *c)
{
	struct mxg_config_error e;

	if (mxg_config_load(path, c, &e)) {
		if (e.line)
			slog("error", "config rejected", "file=%s line=%u error=\"%s\"",
			     e.file, e.line, e.msg);
		else
			slog("error", "config rejected", "file=%s error=\"%s\"", e.file, e.msg);
		return -EINVAL;
	}
	return 0;
}

/* Attach every configured interface (idempotent) with the config applied. */
static int attach_all(struct svc *s)
{
	const char *want = mxg_xdp_mode_name(s->conf.xdp_mode);
	unsigned i;
	int err, failed = 0;

	for (i = 0; i < s->conf.n_ifaces; i++) {
		err = mxg_attach_iface(s->conf.ifaces[i], want, &s->conf, 1);
		if (err) {
			slog("error", "attach failed", "iface=%s error=\"%s\"",
			     s->conf.ifaces[i], strerror(-err));
			failed = err;
		} else {
			slog("info", "attached", "iface=%s xdp_mode=%s", s->conf.ifaces[i], want);
		}
	}
	return failed;
}

/* Allowlist files of the config: added or updated, comments from lines. */
static void load_allow_files(struct svc *s, struct mxg_maps *m)
{
	unsigned i;
	size_t k;

	for (i = 0; i < s->conf.n_allow_files; i++) {
		struct mxg_list l;
		struct mxg_list_error e;
		int err = mxg_list_read(s->conf.allow_files[i], &l, &e);

		if (err) {
			slog("error", "allow file rejected", "file=%s line=%u error=\"%s\"",
			     e.file, e.line, e.msg);
			continue;
		}
		for (k = 0; k < l.n && !err; k++) {
			struct mxg_allow_val v;

			if (mxg_allow_get(m, &l.v[k].cidr, &v)) {
				memset(&v, 0, sizeof(v));
				v.added_s = mxg_unix_s();
			}
			memset(v.comment, 0, sizeof(v.comment));
			snprintf(v.comment, sizeof(v.comment), "%s", l.v[k].note);
			err = mxg_allow_put(m, &l.v[k].cidr, &v);
		}
		slog(err ? "error" : "info", "allow file loaded", "file=%s entries=%zu",
		     s->conf.allow_files[i], l.n);
		mxg_list_free(&l);
	}
}

static void snapshot(struct svc *s, struct mxg_maps *m, const char *why)
{
	struct mxg_state_stats st;
	int err = mxg_state_write(m, s->state_dir, &st);

	s->snap_last = mxg_unix_s();
	s->snap_due = s->snap_last + SNAPSHOT_PERIOD_S;
	if (err)
		slog("error", "snapshot failed", "dir=%s error=\"%s\"", s->state_dir,
		     strerror(-err));
	else
		slog("info", "snapshot written", "why=%s dir=%s allow=%zu block=%zu feeds=%zu",
		     why, s->state_dir, st.allow, st.block, st.feeds);
}

/* Sync feed i from its file, through the same code as `block sync`. */
static void refresh_feed(struct svc *s, struct mxg_maps *m, unsigned i)
{
	const struct mxg_config_feed *f = &s->conf.feeds[i];
	struct mxg_allow_entry *allow = NULL;
	struct mxg_apply_result r;
	struct mxg_list_error e;
	struct mxg_apply a = { 0 };
	struct mxg_list l;
	size_t nallow = 0, shadowed = 0;
	int err;

	s->feed_due[i] = mxg_unix_s() + f->refresh_s;
	err = mxg_list_read(f->path, &l, &e);
	if (err) {
		slog("error", "feed not refreshed", "feed=%s file=%s line=%u error=\"%s\"",
		     f->name, e.file, e.line, e.msg);
		s->feed_due[i] = mxg_unix_s() + FEED_RETRY_S;
		return;
	}
	err = mxg_allow_all(m, &allow, &nallow);
	/* Overlaps with the allowlist are loaded (the allowlist wins in the
	 * program) and logged; too broad a range fails the file. */
	if (!err)
		err = mxg_list_check(f->path, &l, allow, nallow, 1, &shadowed);
	if (!err) {
		a.feed_id = mxg_feed_id(m, f->name, 1);
		a.ttl_s = f->ttl_s;
		err = a.feed_id < 0 ? a.feed_id : mxg_feed_sync(m, &l, &a, &r);
	}
	if (err) {
		slog("error", "feed not refreshed", "feed=%s file=%s error=\"%s\"", f->name,
		     f->path, strerror(-err));
		s->feed_due[i] = mxg_unix_s() + FEED_RETRY_S;
	} else {
		slog("info", "feed synced", "feed=%s entries=%zu added=%zu removed=%zu unchanged=%zu shadowed=%zu",
		     f->name, r.same + r.added, r.added, r.removed, r.same, shadowed);
	}
	free(allow);
	mxg_list_free(&l);
}

/* Work that is due: gc, feeds, snapshot when the generation moved. */
static void tick(struct svc *s)
{
	__u64 now = mxg_unix_s();
	struct mxg_maps m;
	struct mxg_cfg *c;
	size_t n;
	unsigned i;
	int changed = 0, lock;

	/* Locked like any command, but the generation moves only when this
	 * tick changed something. */
	if (mxg_maps_open_ro(&m)) {
		slog("error", "cannot open the pinned maps", "pin_dir=%s", mxg_pin_dir());
		return;
	}
	lock = mxg_lock(NULL, 30);
	if (lock < 0) {
		mxg_maps_close(&m);
		return;
	}
	if (now >= s->gc_due) {
		s->gc_due = now + GC_INTERVAL_S;
		if (!mxg_block_gc_run(&m, &n) && n) {
			slog("info", "expired entries removed", "count=%zu", n);
			changed = 1;
		}
		mxg_pen_gc_run(&m, &n);
	}
	for (i = 0; i < s->conf.n_feeds; i++)
		if (now >= s->feed_due[i]) {
			refresh_feed(s, &m, i);
			changed = 1;
		}
	if (changed)
		mxg_maps_touch(&m);
	c = mxg_cfg_load(&m);
	if (c) {
		if (s->gen_valid && c->gen != s->gen_seen)
			changed = 1;
		s->gen_seen = c->gen;
		s->gen_valid = 1;
		free(c);
	}
	s->pending |= changed;
	/* At most one snapshot per SNAPSHOT_MIN_S; a change that comes
	 * sooner stays pending until then. */
	if ((s->pending && now >= s->snap_last + SNAPSHOT_MIN_S) || now >= s->snap_due) {
		snapshot(s, &m, s->pending ? "change" : "period");
		s->pending = 0;
	}
	close(lock);
	mxg_maps_close(&m);
}

static int reload(struct svc *s)
{
	struct mxg_config nc;
	__u64 *due;

	if (!s->conf_path) {
		slog("info", "reload: no config file", "%s", "");
		return 0;
	}
	if (load_conf(s->conf_path, &nc)) {
		slog("error", "reload failed; the old config stays", "file=%s", s->conf_path);
		return -EINVAL;
	}
	due = calloc(nc.n_feeds ? nc.n_feeds : 1, sizeof(*due));
	if (!due) {
		mxg_config_free(&nc);
		return -ENOMEM;
	}
	mxg_config_free(&s->conf);
	s->conf = nc;
	free(s->feed_due);
	s->feed_due = due; /* all feeds due now */
	attach_all(s);
	{
		struct mxg_maps m;

		if (!mxg_maps_open_rw(&m)) {
			load_allow_files(s, &m);
			mxg_maps_close(&m);
		}
	}
	slog("info", "config reloaded", "file=%s interfaces=%u feeds=%u", s->conf_path,
	     s->conf.n_ifaces, s->conf.n_feeds);
	return 0;
}

static int do_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct svc s = { 0 };
	char pin[PATH_MAX];
	struct mxg_maps m;
	sigset_t set;
	int opt, err, sfd, fresh, stop = 0;

	while ((opt = mxg_getopt(&mxg_cmd_run, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': s.conf_path = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_run); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_run, argc, argv, 0, "");
	if (err)
		return err;
	if (!s.conf_path && !access(MXG_CONF_DEFAULT, F_OK))
		s.conf_path = MXG_CONF_DEFAULT;
	if (s.conf_path) {
		if (load_conf(s.conf_path, &s.conf))
			return -EINVAL;
	} else {
		memset(&s.conf, 0, sizeof(s.conf));
	}
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET | MXG_NEED_MOUNT);
	if (err)
		goto out_conf;
	s.feed_due = calloc(s.conf.n_feeds ? s.conf.n_feeds : 1, sizeof(*s.feed_due));
	if (!s.feed_due) {
		err = -ENOMEM;
		goto out_conf;
	}
	s.state_dir = mxg_state_dir(s.conf.state_dir);
	err = mxg_state_dir_prepare(s.state_dir);
	if (err)
		goto out_conf;

	/* After a reboot the pins are gone: attach creates fresh maps, and the
	 * snapshot brings lists, limits and mode back. */
	mxg_pin_path(pin, "mxg_cfg");
	fresh = access(pin, F_OK) != 0;
	if (fresh && !s.conf.n_ifaces) {
		mxg_err("mxguard is not attached and the config names no interfaces; add 'interfaces = ...' to [mxguard] or run 'mxguard attach IFACE'");
		err = -ENOENT;
		goto out_conf;
	}
	err = attach_all(&s);
	if (err && fresh)
		goto out_conf;
	err = mxg_maps_open_rw(&m);
	if (err)
		goto out_conf;
	if (fresh) {
		struct mxg_state_stats st;

		err = mxg_state_restore(&m, s.state_dir, &st);
		if (!err)
			slog("info", "state restored", "dir=%s allow=%zu block=%zu feeds=%zu expired_skipped=%zu",
			     s.state_dir, st.allow, st.block, st.feeds, st.expired);
		else if (err == -ENOENT)
			slog("info", "no state to restore", "dir=%s", s.state_dir);
		else
			slog("error", "state restore failed", "dir=%s error=\"%s\"", s.state_dir,
			     strerror(-err));
		err = 0;
		/* What the config file says wins over the snapshot. */
		if (s.have_conf || s.conf_path) {
			struct mxg_cfg *c = mxg_cfg_load(&m);

			if (c) {
				mxg_config_apply(&s.conf, c);
				mxg_cfg_store(&m, c);
				free(c);
			}
		}
	}
	load_allow_files(&s, &m);
	mxg_maps_close(&m);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		err = -errno;
		goto out_conf;
	}
	slog("info", "running", "pin_dir=%s state_dir=%s config=%s pid=%d", mxg_pin_dir(),
	     s.state_dir, s.conf_path ? s.conf_path : "-", (int)getpid());
	s.snap_due = 0; /* a first snapshot right away */
	while (!stop) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		tick(&s);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(&s);
			break;
		case SIGCHLD:
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			break;
		default:
			stop = 1;
		}
	}
	if (!mxg_maps_open_ro(&m)) {
		int lock = mxg_lock(NULL, 30);

		snapshot(&s, &m, "exit");
		if (lock >= 0)
			close(lock);
		mxg_maps_close(&m);
	}
	slog("info", "stopped; the filter stays attached", "pin_dir=%s", mxg_pin_dir());
	close(sfd);
out_conf:
	free(s.feed_due);
	mxg_config_free(&s.conf);
	return err;
}

const struct mxg_cmd mxg_cmd_run = {
	.name = "run",
	.synopsis = "run [--config FILE]",
	.summary = "the service: attach, restore, refresh feeds, snapshot",
	.help =
	"Run in the foreground (under systemd: tools/mxguard.service):\n"
	"  - attach to the interfaces of the config ([mxguard] interfaces), with\n"
	"    its mode, limits, ports and prefixes;\n"
	"  - after a reboot (no pinned maps), restore the state snapshot: mode,\n"
	"    limits, feeds, allowlist, and block entries with their remaining\n"
	"    TTL (expired ones are dropped); then apply what the config file\n"
	"    says on top;\n"
	"  - load the [allow] files; refresh each [feed] on its interval through\n"
	"    the same code as 'block sync' (overlaps with the allowlist are\n"
	"    loaded and logged, the allowlist wins);\n"
	"  - remove expired block entries every minute;\n"
	"  - write the state snapshot (STATE_DIR/state.jsonl.gz: temporary file,\n"
	"    fsync, rename, fsync of the directory; never through a symlink)\n"
	"    within 5 s of any change by any mxguard command, every 10 min, and\n"
	"    at exit.\n"
	"Signals: SIGHUP reloads the config (a bad file is logged and the old\n"
	"config stays); SIGTERM and SIGINT write a last snapshot and exit 0,\n"
	"leaving the filter attached and its state pinned.\n\n"
	"Logs go to stderr, one line each: ts=... level=... msg=\"...\" key=value.\n\n"
	"Options:\n"
	"  --config FILE   default /etc/mxguard/mxguard.conf when it exists\n\n"
	"Environment:\n"
	"  MXGUARD_STATE_DIR  state directory (default: state_dir of the config,\n"
	"                     else /var/lib/mxguard); created 0700\n",
	.run = do_run,
};

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* outbound: the server's own outgoing SMTP on egress (count, warn, cap,
 * allowlist), its tcx program and pinned links. The local submitters are in
 * cmd_local.c; state, programs and links in outbound.c. */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "cmd.h"
#include "lists.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

/* The kernel's tcx attach type (Linux 6.6). The uapi header of
 * linux-libc-dev 6.1 predates it; the value is that of enum
 * bpf_attach_type in vmlinux/vmlinux.h. */
#define MXO_BPF_TCX_EGRESS 47

/* ---- shared with cmd_local.c ------------------------------------------------ */

int mxg_threshold_arg(const struct mxg_cmd *c, const char *opt, const char *s,
		      struct mxg_threshold *t)
{
	const char *why;

	t->set = 1;
	if (!strcmp(s, "off") || !strcmp(s, "none") || !strcmp(s, "0")) {
		t->n = 0;
		t->per_s = 0;
		return 0;
	}
	if (mxg_parse_rate(s, &t->n, &t->per_s, &why))
		return mxg_usage(c, "invalid %s '%s': %s (N/sec, N/min or N/hour, or off)",
				 opt, s, why);
	return 0;
}

int mxg_show_parse(const struct mxg_cmd *c, int argc, char **argv,
		   struct mxg_show_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *why;
	__u32 n = 0;
	int opt, err;

	memset(o, 0, sizeof(*o));
	while ((opt = mxg_getopt(c, argc, argv, "jpn:h", opts)) != -1) {
		switch (opt) {
		case 'j': o->json = 1; break;
		case 'p': o->prom = 1; break;
		case 'n':
			if (mxg_parse_u32(optarg, 1, 1000000, &n, &why))
				return mxg_usage(c, "invalid -n '%s': %s", optarg, why);
			break;
		case 'h': mxg_cmd_help(c); return 1;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(c, argc, argv, 0, "");
	if (err)
		return err;
	if (o->json && o->prom)
		return mxg_usage(c, "--json and --prometheus exclude each other");
	/* JSON carries everything unless asked otherwise; people get a page. */
	o->limit = n ? n : o->json ? SIZE_MAX : 20;
	return 0;
}

/* ---- attach / detach ----------------------------------------------------------- */

/* IFACE, the one argument of attach and detach; 1 after --help. */
static int iface_arg(int argc, char **argv, const char **ifname)
{
	int err = mxg_no_opts(&mxg_cmd_outbound, argc, argv);

	if (!err)
		err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "interface name");
	if (!err)
		*ifname = argv[optind];
	return err;
}

/* 1 when the link pin `name` exists and is attached to ifindex; a pin of
 * another interface (renamed, or gone and its name reused) is removed. */
static int tc_link_live(const char *name, int ifindex, __u32 *link_id)
{
	struct mxo_link l;
	int err = mxo_link_query_pin(name, &l);

	*link_id = l.id;
	if (!err && (int)l.ifindex == ifindex)
		return 1;
	if (err != -ENOENT) {
		mxg_warn("removing stale link pin %s/%s", mxg_pin_dir(), name);
		mxo_link_remove(name);
	}
	return 0;
}

static int tc_attach(const char *ifname, int ifindex, const char *name)
{
	int fds[MXO_NPROGS] = { -1, -1, -1 };
	struct mxo_link l;
	int err, link_fd;

	err = mxo_progs_get(fds);
	if (err)
		return err;
	link_fd = bpf_link_create(fds[MXO_PROG_TC], ifindex, MXO_BPF_TCX_EGRESS, NULL);
	if (link_fd < 0) {
		err = -errno;
		mxg_err("cannot attach to %s egress: %s (tcx links need Linux 6.6 or later)",
			ifname, strerror(errno));
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	err = mxo_link_pin(link_fd, name);
	if (err) {
		bpf_link_detach(link_fd);
		goto out;
	}
	mxo_link_query(link_fd, &l);
	printf("outbound: attached to %s egress (tcx link %u, program %u)\n",
	       ifname, l.id, l.prog_id);
out:
	if (link_fd >= 0)
		close(link_fd);
	mxo_fds_close(fds, MXO_NPROGS);
	return err;
}

static int outbound_attach(int argc, char **argv)
{
	char name[64];
	int err, lock_fd, ifindex;
	const char *ifname;
	__u32 link_id;

	err = iface_arg(argc, argv, &ifname);
	if (err)
		return err > 0 ? 0 : err;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		mxg_err("no interface '%s'", ifname);
		return -ENODEV;
	}
	lock_fd = mxo_attach_prepare();
	if (lock_fd < 0)
		return lock_fd;
	snprintf(name, sizeof(name), MXO_LINK_TC_PREFIX "%s", ifname);
	if (tc_link_live(name, ifindex, &link_id))
		printf("outbound: already attached to %s egress (link %u)\n", ifname,
		       link_id);
	else
		err = tc_attach(ifname, ifindex, name);
	close(lock_fd);
	return err;
}

static int outbound_detach(int argc, char **argv)
{
	const char *ifname;
	char name[64];
	int err, lock_fd;

	err = iface_arg(argc, argv, &ifname);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET);
	if (err)
		return err;
	if (access(mxg_pin_dir(), F_OK)) {
		mxg_err("outbound is not attached to '%s' (no pins in %s)", ifname,
			mxg_pin_dir());
		return -ENODEV;
	}
	lock_fd = mxg_lock(NULL, 30);
	if (lock_fd < 0)
		return lock_fd;
	snprintf(name, sizeof(name), MXO_LINK_TC_PREFIX "%s", ifname);
	err = mxo_link_remove(name);
	if (err == -ENOENT) {
		mxg_err("outbound is not attached to '%s'%s", ifname,
			if_nametoindex(ifname) ? "" : " (no such interface either)");
		err = -ENODEV;
	} else if (!err) {
		mxo_progs_release_if_unused();
		printf("outbound: detached from %s\n", ifname);
	}
	close(lock_fd);
	return err;
}

/* ---- set ---------------------------------------------------------------------- */

static int outbound_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "warn", required_argument, NULL, 'w' },
		{ "cap", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_threshold warn = { 0 }, cap = { 0 };
	struct mxo_new_limits nl = { 0 };
	struct mxg_limit wl, cl;
	char ws[48], cs[48];
	struct mxo_cfg c;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_outbound, argc, argv, "w:c:h", opts)) != -1) {
		switch (opt) {
		case 'w':
		case 'c':
			err = mxg_threshold_arg(&mxg_cmd_outbound, opt == 'w' ? "--warn" : "--cap",
						optarg, opt == 'w' ? &warn : &cap);
			if (err)
				return err;
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_outbound); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 0, "");
	if (err)
		return err;
	if (!warn.set && !cap.set)
		return mxg_usage(&mxg_cmd_outbound, "nothing to set: give --warn and/or --cap");
	mxo_limit_set(&wl, warn.n, warn.per_s, 0);
	mxo_limit_set(&cl, cap.n, cap.per_s, 0);
	nl.warn = warn.set ? &wl : NULL;
	nl.cap = cap.set ? &cl : NULL;
	err = mxo_cfg_set_limits(&nl, &c);
	if (err)
		return err;
	mxo_limit_str(&c.warn, ws, sizeof(ws));
	mxo_limit_str(&c.cap, cs, sizeof(cs));
	printf("outbound: warn %s, cap %s\n", ws, cs);
	return 0;
}

/* ---- allow -------------------------------------------------------------------- */

static int cidr_arg(const char *s, struct mxg_cidr *c)
{
	const char *why;

	if (mxg_cidr_parse(s, c, &why))
		return mxg_usage(&mxg_cmd_outbound, "invalid address or CIDR '%s': %s", s, why);
	return 0;
}

static int allow_add(int argc, char **argv)
{
	const char *comment;
	char cs[MXG_CIDR_STRLEN];
	struct mxo_maps m;
	struct mxg_cidr c;
	int err;

	err = mxg_comment_opts(&mxg_cmd_outbound, argc, argv, &comment);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "address or CIDR");
	if (!err)
		err = cidr_arg(argv[optind], &c);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	err = mxo_allow_set(&m, &c, comment);
	if (!err) {
		mxg_cidr_format(&c, cs, sizeof(cs));
		printf("outbound: never capped: %s%s%s%s\n", cs, *comment ? " (" : "",
		       comment, *comment ? ")" : "");
	}
	mxo_maps_close(&m);
	return err;
}

static int allow_del(int argc, char **argv)
{
	char cs[MXG_CIDR_STRLEN];
	struct mxg_maps view;
	struct mxo_maps m;
	struct mxg_cidr c;
	int err;

	err = mxg_no_opts(&mxg_cmd_outbound, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_outbound, argc, argv, 1, "address or CIDR");
	if (!err)
		err = cidr_arg(argv[optind], &c);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	mxo_allow_view(&m, &view);
	mxg_cidr_format(&c, cs, sizeof(cs));
	err = mxg_allow_del(&view, &c);
	if (err == -ENOENT)
		mxg_err("%s is not in the outbound allowlist", cs);
	else if (!err)
		printf("outbound: removed %s from the allowlist\n", cs);
	mxo_maps_close(&m);
	return err;
}

static int allow_list(int argc, char **argv)
{
	struct mxg_allow_entry *all = NULL;
	struct mxg_maps view;
	struct mxo_maps m;
	int err, json;
	size_t n = 0;

	err = mxg_json_opts(&mxg_cmd_outbound, argc, argv, &json);
	if (err)
		return err > 0 ? 0 : err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	mxo_allow_view(&m, &view);
	err = mxg_allow_all(&view, &all, &n);
	mxo_maps_close(&m);
	if (!err)
		mxg_allow_print(all, n, json, "DESTINATION", "the outbound allowlist is empty");
	free(all);
	return err;
}

static int outbound_allow(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "add", allow_add }, { "del", allow_del }, { "list", allow_list },
		{ NULL, NULL }
	};
	static char full[48];
	int i;

	if (argc < 2)
		return mxg_usage(&mxg_cmd_outbound, "missing 'add', 'del' or 'list'");
	for (i = 0; subs[i].name; i++)
		if (!strcmp(argv[1], subs[i].name)) {
			snprintf(full, sizeof(full), "outbound allow %s", subs[i].name);
			mxg_cmd = full;
			return subs[i].run(argc - 1, argv + 1);
		}
	return mxg_usage(&mxg_cmd_outbound, "unknown subcommand 'allow %s'", argv[1]);
}

/* ---- show --------------------------------------------------------------------- */

static void table_recs(const struct mxo_out_state *s, const struct mxo_rec_row *rows,
		       size_t n, int dst)
{
	static const char *head[] = { NULL, "SYNS", "CAPPED", "PER MIN",
				      "FIRST SEEN", "LAST SEEN", "NOTE" };
	const char *h[7];
	struct mxg_table t;
	size_t i;

	memcpy(h, head, sizeof(h));
	h[0] = dst ? "DESTINATION" : "SOURCE";
	mxg_table_init(&t, dst ? 7 : 6, h, 0xe);
	for (i = 0; i < n; i++) {
		char as[MXG_CIDR_STRLEN], sy[16], dr[16], pm[16], fs[32], ls[32];
		char note[MXG_COMMENT_LEN + 32] = "";
		const char *cells[7] = { as, sy, dr, pm, fs, ls, note };

		if (dst) {
			size_t k = 0;
			const struct mxg_allow_entry *a = mxo_dst_allow_next(s, &rows[i].addr, &k);

			mxo_dst_str(&s->cfg, &rows[i].addr, as, sizeof(as));
			if (a)
				snprintf(note, sizeof(note), "%sallowlisted%s%s",
					 mxo_dst_allowed(s, &rows[i].addr) ? "" : "partly ",
					 a->v.comment[0] ? ": " : "", a->v.comment);
		} else {
			mxg_addr_format(&rows[i].addr, as, sizeof(as));
		}
		mxg_format_count(rows[i].r.syns, sy, sizeof(sy));
		mxg_format_count(rows[i].r.drops, dr, sizeof(dr));
		snprintf(pm, sizeof(pm), "%u", rows[i].per_min);
		mxg_format_time(mxg_mono_to_unix(rows[i].r.first_ns), fs, sizeof(fs));
		mxg_format_time(mxg_mono_to_unix(rows[i].r.last_ns), ls, sizeof(ls));
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
}

static void out_table(const struct mxo_out_state *s, size_t limit)
{
	char ws[48], cs[48], since[32];
	size_t i;
	unsigned p;

	if (!s->nifs) {
		printf("outbound: not attached to any interface ('mxguard outbound attach IFACE')\n");
	} else {
		printf("outbound: egress of");
		for (i = 0; i < s->nifs; i++)
			printf(" %s%s", s->ifs[i].name, s->ifs[i].present ? "" : " (gone)");
		printf("\n");
	}
	mxo_limit_str(&s->cfg.warn, ws, sizeof(ws));
	mxo_limit_str(&s->cfg.cap, cs, sizeof(cs));
	printf("thresholds: warn %s, cap %s\n", ws, cs);
	mxg_format_time(mxg_mono_to_unix(s->total.warn_since_ns), since, sizeof(since));
	printf("warning: %s (%u episodes, latest from %s)\n",
	       mxo_warn_active(s) ? "ACTIVE" : "no", s->total.warn_episodes, since);
	mxg_format_time(mxg_mono_to_unix(s->total.cap_since_ns), since, sizeof(since));
	printf("cap: %s (%u episodes, latest from %s)\n",
	       mxo_cap_active(s) ? "DROPPING" : "no", s->total.cap_episodes, since);
	printf("total: %llu new connections, %u in the last minute; %llu passed, %llu allowlisted, %llu capped\n",
	       (unsigned long long)s->total.syns, mxo_win_per_min(&s->total.win, s->now),
	       (unsigned long long)mxo_eg_sum(s->cnt, MXO_V_PASS),
	       (unsigned long long)mxo_eg_sum(s->cnt, MXO_V_ALLOW),
	       (unsigned long long)mxo_eg_sum(s->cnt, MXO_V_CAP));
	for (p = 0; p < MXO_PORT_MAX; p++)
		printf("  %-11s %3u: %llu passed, %llu allowlisted, %llu capped\n",
		       mxo_port_name(p), mxo_port_number(p),
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_PASS)],
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_ALLOW)],
		       (unsigned long long)s->cnt[MXO_EG_IDX(p, MXO_V_CAP)]);
	if (s->ndst) {
		printf("\n");
		table_recs(s, s->dst, s->ndst < limit ? s->ndst : limit, 1);
	}
	if (s->nsrc) {
		printf("\n");
		table_recs(s, s->src, s->nsrc < limit ? s->nsrc : limit, 0);
	}
	if (s->ndst > limit || s->nsrc > limit)
		printf("\n(%zu destination networks and %zu sources tracked; -n N shows more)\n",
		       s->ndst, s->nsrc);
}

static void out_json(const struct mxo_out_state *s, size_t limit)
{
	struct mxg_json j;

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_time(&j, "time", mxg_unix_s());
	mxo_json_outbound(&j, s, limit);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static int outbound_show(int argc, char **argv)
{
	struct mxo_out_state *s;
	struct mxg_show_opts o;
	struct mxo_maps m;
	int err;

	err = mxg_show_parse(&mxg_cmd_outbound, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	err = s ? mxo_out_read(&m, s) : -ENOMEM;
	mxo_maps_close(&m);
	if (!err && o.json)
		out_json(s, o.limit);
	else if (!err && o.prom)
		mxo_prom_outbound(stdout, s, o.limit);
	else if (!err)
		out_table(s, o.limit);
	if (s)
		mxo_out_free(s);
	free(s);
	return err;
}

/* ---- events ------------------------------------------------------------------- */

static int outbound_events(int argc, char **argv)
{
	return mxg_events_follow(&mxg_cmd_outbound, argc, argv, MXG_EV_OUTBOUND);
}

static int outbound_run(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "show", outbound_show }, { "attach", outbound_attach },
		{ "detach", outbound_detach }, { "set", outbound_set },
		{ "allow", outbound_allow }, { "events", outbound_events },
		{ NULL, NULL }
	};

	return mxg_dispatch_or(&mxg_cmd_outbound, argc, argv, subs, outbound_show);
}

const struct mxg_cmd mxg_cmd_outbound = {
	.name = "outbound",
	.synopsis = "outbound [--json | --prometheus] [-n N]\n"
		    "outbound attach IFACE\n"
		    "outbound detach IFACE\n"
		    "outbound set [--warn N/min|off] [--cap N/min|off]\n"
		    "outbound allow add CIDR [--comment TEXT]\n"
		    "outbound allow del CIDR\n"
		    "outbound allow list [--json]\n"
		    "outbound events [--json] [--count N] [--timeout DURATION]",
	.summary = "the server's own new SMTP connections out: count, warn, cap",
	.help =
	"Watch what this server sends: a TC egress program (tcx link) counts new\n"
	"outbound connections (SYN without ACK) to remote ports 25, 465 and 587 in\n"
	"total, per destination network (IPv4 /24, IPv6 /48) and per local source\n"
	"address. A SYN the kernel retransmits counts again.\n\n"
	"  (no subcommand)  the counters, thresholds, warning and cap state, the\n"
	"                   busiest destination networks and sources with their\n"
	"                   rate over the last minute (-n N rows, default 20; all\n"
	"                   with --json)\n"
	"  attach IFACE     load the programs (once) and attach to IFACE's egress;\n"
	"                   pinned as mxo_link_tc_IFACE, so counting goes on after\n"
	"                   mxguard exits\n"
	"  detach IFACE     remove it; maps and settings stay for the next attach\n"
	"  set              thresholds on the total rate of new outbound SMTP\n"
	"                   connections. --warn RATE: above it a warn_start event\n"
	"                   and the warning flag (default 300/min). --cap RATE:\n"
	"                   above it new outbound SMTP connections are dropped,\n"
	"                   except to allowlisted destinations (default off).\n"
	"                   RATE is N/sec, N/min or N/hour, or off. Each gets a\n"
	"                   burst of 10 s of its rate, so a sustained excess is\n"
	"                   noticed within about 10 s.\n"
	"  allow add CIDR   destinations never capped (the smarthost, partners);\n"
	"                   still counted, and still part of the warning total\n"
	"  events           follow warn_start/warn_end, cap_start/cap_end and the\n"
	"                   local_limit_start/local_limit_end events of 'mxguard\n"
	"                   local', one line each (--json: JSON Lines {time, type,\n"
	"                   src|kind,id,name, dst, port, per_min}). 'mxguard\n"
	"                   events' shows them too, merged with the XDP program's;\n"
	"                   the ring buffer has one reader at a time\n\n"
	"The same counters and state are part of 'mxguard stats' (without the\n"
	"per-destination rows), 'mxguard dump' (with every row) and the alerts of\n"
	"'mxguard run' (warn and cap episodes).\n\n"
	"Options:\n"
	"  --json        {time, interfaces[{name, ifindex, link_id, present}],\n"
	"                config{warn, cap ({rate, n, per_s, burst} or null),\n"
	"                dst_prefix_v4, dst_prefix_v6, changed}, total{syns, per_min,\n"
	"                passed, allowlisted, capped, warn{active, since, episodes,\n"
	"                over}, cap{active, since, episodes}}, counters{PORT{pass,\n"
	"                allow, cap}}, tracked{destinations, sources},\n"
	"                destinations[{prefix, allowlisted (wholly), allowlist\n"
	"                [overlapping entries], syns, drops, per_min, first_seen,\n"
	"                last_seen}], sources[{addr, ...}], events_lost, rec_fail}\n"
	"  --prometheus  mxguard_outbound_syns_total{port,verdict},\n"
	"                mxguard_outbound_rate_per_minute, _warn_active,\n"
	"                _warn_episodes_total, _cap_active, _cap_episodes_total,\n"
	"                _tracked{table}, _destination_syns_total{prefix},\n"
	"                _source_syns_total{addr}, _events_lost_total\n\n"
	"Examples:\n"
	"  mxguard outbound attach eth0\n"
	"  mxguard outbound allow add 198.51.100.25 --comment \"smarthost\"\n"
	"  mxguard outbound set --warn 120/min --cap 600/min\n",
	.run = outbound_run,
};

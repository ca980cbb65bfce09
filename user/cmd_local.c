// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* local: local submitters (web apps, scripts) per uid and per cgroup: the
 * cgroup connect programs count, limit and trust them. State, programs and
 * links are in outbound.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cmd.h"
#include "log.h"
#include "maps.h"
#include "out.h"
#include "outbound.h"
#include "units.h"

/* ---- attach / detach ----------------------------------------------------------- */

/* A cgroup argument: a cgroup v2 directory, or (detach, allow del) the
 * numeric id of one that may be gone. */
static int cgroup_arg(const char *s, int id_ok, __u64 *id)
{
	const char *why;
	char *end;

	if (!mxo_cgroup_id(s, id, &why))
		return 0;
	if (id_ok && isdigit((unsigned char)*s)) {
		errno = 0;
		*id = strtoull(s, &end, 10);
		if (!errno && !*end && *id)
			return 0;
	}
	return mxg_usage(&mxg_cmd_local, "invalid cgroup '%s': %s", s, why);
}

static void cg_pin_names(__u64 id, char *n4, char *n6, size_t len)
{
	snprintf(n4, len, MXO_LINK_CG4_PREFIX "%llu", (unsigned long long)id);
	snprintf(n6, len, MXO_LINK_CG6_PREFIX "%llu", (unsigned long long)id);
}

/* 1 when the link pin `name` exists and is attached to cgroup `id`. */
static int cg_link_live(const char *name, __u64 id)
{
	struct mxo_link l;

	return !mxo_link_query_pin(name, &l) && l.type == BPF_LINK_TYPE_CGROUP &&
	       l.cgroup_id == id;
}

static int cg_link(int prog_fd, int cg_fd, enum bpf_attach_type type,
		   const char *name, const char *path)
{
	int fd, err;

	fd = bpf_link_create(prog_fd, cg_fd, type, NULL);
	if (fd < 0) {
		err = -errno;
		mxg_err("cannot attach to cgroup %s: %s", path, strerror(errno));
		return err == -EPERM ? err : mxg_sys(err);
	}
	err = mxo_link_pin(fd, name);
	if (err)
		bpf_link_detach(fd);
	close(fd);
	return err;
}

/* Both links, connect4 and connect6, or neither. */
static int cg_attach(const char *path, __u64 id, const char *n4, const char *n6)
{
	int fds[MXO_NPROGS] = { -1, -1, -1 };
	int err, cg_fd;

	mxo_link_remove(n4);
	mxo_link_remove(n6);
	err = mxo_progs_get(fds);
	if (err)
		return err;
	cg_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		err = -errno;
		mxg_err("cannot open cgroup %s: %s", path, strerror(errno));
		mxo_fds_close(fds, MXO_NPROGS);
		return mxg_sys(err);
	}
	err = cg_link(fds[MXO_PROG_C4], cg_fd, BPF_CGROUP_INET4_CONNECT, n4, path);
	if (!err)
		err = cg_link(fds[MXO_PROG_C6], cg_fd, BPF_CGROUP_INET6_CONNECT, n6, path);
	if (err)
		mxo_link_remove(n4);
	else
		printf("local: counting connects to ports 25, 465 and 587 from cgroup %s (id %llu)\n",
		       path, (unsigned long long)id);
	close(cg_fd);
	mxo_fds_close(fds, MXO_NPROGS);
	return err;
}

static int local_attach(int argc, char **argv)
{
	char n4[64], n6[64];
	int err, lock_fd;
	const char *path;
	__u64 id;

	err = mxg_no_opts(&mxg_cmd_local, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1, "cgroup directory");
	if (err)
		return err;
	path = argv[optind];
	err = cgroup_arg(path, 0, &id);
	if (err)
		return err;
	lock_fd = mxo_attach_prepare();
	if (lock_fd < 0)
		return lock_fd;
	cg_pin_names(id, n4, n6, sizeof(n4));
	if (cg_link_live(n4, id) && cg_link_live(n6, id))
		printf("local: already attached to cgroup %s (id %llu)\n", path,
		       (unsigned long long)id);
	else
		err = cg_attach(path, id, n4, n6);
	close(lock_fd);
	return err;
}

static int local_detach(int argc, char **argv)
{
	char n4[64], n6[64];
	int err, e6, lock_fd;
	__u64 id;

	err = mxg_no_opts(&mxg_cmd_local, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1, "cgroup directory or id");
	if (!err)
		err = cgroup_arg(argv[optind], 1, &id);
	if (!err)
		err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET);
	if (err)
		return err;
	if (access(mxg_pin_dir(), F_OK)) {
		mxg_err("local is not attached to cgroup '%s' (no pins in %s)",
			argv[optind], mxg_pin_dir());
		return -ENODEV;
	}
	lock_fd = mxg_lock(NULL, 30);
	if (lock_fd < 0)
		return lock_fd;
	cg_pin_names(id, n4, n6, sizeof(n4));
	err = mxo_link_remove(n4);
	e6 = mxo_link_remove(n6);
	if (err == -ENOENT && e6 == -ENOENT) {
		mxg_err("local is not attached to cgroup '%s' (id %llu)", argv[optind],
			(unsigned long long)id);
		err = -ENODEV;
	} else {
		if (err == -ENOENT)
			err = 0;
		if (!err && e6 != -ENOENT)
			err = e6;
		mxo_progs_release_if_unused();
		if (!err)
			printf("local: detached from cgroup %s\n", argv[optind]);
	}
	close(lock_fd);
	return err;
}

/* ---- set ---------------------------------------------------------------------- */

static int local_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "uid-burst", required_argument, NULL, 'U' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "cgroup-burst", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_threshold uid = { 0 }, cg = { 0 };
	struct mxo_new_limits nl = { 0 };
	struct mxg_limit ul, cl;
	__u32 ub = 0, cb = 0;
	char us[48], cs[48];
	const char *why;
	struct mxo_cfg c;
	int opt, err;

	while ((opt = mxg_getopt(&mxg_cmd_local, argc, argv, "u:U:c:C:h", opts)) != -1) {
		switch (opt) {
		case 'u':
		case 'c':
			err = mxg_threshold_arg(&mxg_cmd_local, opt == 'u' ? "--uid" : "--cgroup",
						optarg, opt == 'u' ? &uid : &cg);
			if (err)
				return err;
			break;
		case 'U':
		case 'C':
			if (mxg_parse_u32(optarg, 1, 1000000, opt == 'U' ? &ub : &cb, &why))
				return mxg_usage(&mxg_cmd_local, "invalid --%s-burst '%s': %s",
						 opt == 'U' ? "uid" : "cgroup", optarg, why);
			break;
		case 'h': mxg_cmd_help(&mxg_cmd_local); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 0, "");
	if (err)
		return err;
	if (!uid.set && !cg.set)
		return mxg_usage(&mxg_cmd_local, "nothing to set: give --uid and/or --cgroup");
	if ((ub && !uid.set) || (cb && !cg.set))
		return mxg_usage(&mxg_cmd_local, "a burst goes with its rate (--uid or --cgroup)");
	mxo_limit_set(&ul, uid.n, uid.per_s, ub);
	mxo_limit_set(&cl, cg.n, cg.per_s, cb);
	nl.uid = uid.set ? &ul : NULL;
	nl.cg = cg.set ? &cl : NULL;
	err = mxo_cfg_set_limits(&nl, &c);
	if (err)
		return err;
	mxo_limit_str(&c.uid_limit, us, sizeof(us));
	mxo_limit_str(&c.cg_limit, cs, sizeof(cs));
	printf("local: limit per uid %s, per cgroup %s\n", us, cs);
	return 0;
}

/* ---- allow (trust) -------------------------------------------------------------- */

/* "1001" or a user name. */
static int uid_arg(const char *s, __u32 *uid)
{
	struct passwd *pw;
	const char *why;

	if (isdigit((unsigned char)*s)) {
		if (mxg_parse_u32(s, 0, UINT32_MAX - 1, uid, &why))
			return mxg_usage(&mxg_cmd_local, "invalid uid '%s': %s", s, why);
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return mxg_usage(&mxg_cmd_local, "invalid uid '%s': no such user", s);
	*uid = pw->pw_uid;
	return 0;
}

/* KIND VALUE -> key. */
static int trust_key(const char *kind, const char *val, int id_ok,
		     struct mxo_lkey *k)
{
	__u32 uid;
	int err;

	memset(k, 0, sizeof(*k));
	if (!strcmp(kind, "uid")) {
		err = uid_arg(val, &uid);
		k->kind = MXO_LK_UID;
		k->id = uid;
		return err;
	}
	if (!strcmp(kind, "cgroup")) {
		k->kind = MXO_LK_CGROUP;
		return cgroup_arg(val, id_ok, &k->id);
	}
	return mxg_usage(&mxg_cmd_local, "'%s' is neither 'uid' nor 'cgroup'", kind);
}

static int trust_put(const struct mxo_maps *m, const struct mxo_lkey *k,
		     const char *comment)
{
	struct mxo_trust t;

	if (bpf_map_lookup_elem(m->trust, k, &t)) {
		memset(&t, 0, sizeof(t));
		t.added_s = mxg_unix_s();
	}
	memset(t.comment, 0, sizeof(t.comment));
	snprintf(t.comment, sizeof(t.comment), "%s", comment);
	if (bpf_map_update_elem(m->trust, k, &t, BPF_ANY)) {
		int err = -errno;

		mxg_err("cannot write the trust map: %s%s", strerror(errno),
			errno == E2BIG || errno == ENOSPC ? " (full)" : "");
		return mxg_sys(err);
	}
	return 0;
}

/* local allow uid N|cgroup PATH [--comment TEXT] */
static int trust_add(int argc, char **argv)
{
	const char *comment;
	struct mxo_lkey k;
	struct mxo_maps m;
	int err;

	err = mxg_comment_opts(&mxg_cmd_local, argc, argv, &comment);
	if (err)
		return err > 0 ? 0 : err;
	/* argv[0] is the kind itself ("uid", "cgroup"): one value after it. */
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 1,
			    !strcmp(argv[0], "uid") ? "uid" : "cgroup directory");
	if (!err)
		err = trust_key(argv[0], argv[optind], 0, &k);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	err = trust_put(&m, &k, comment);
	if (!err)
		printf("local: trusted %s %s (id %llu)\n", mxo_lkind_name(k.kind),
		       argv[optind], (unsigned long long)k.id);
	mxo_maps_close(&m);
	return err;
}

static int trust_del(int argc, char **argv)
{
	struct mxo_lkey k;
	struct mxo_maps m;
	int err;

	err = mxg_no_opts(&mxg_cmd_local, argc, argv);
	if (err)
		return err > 0 ? 0 : err;
	err = mxg_want_args(&mxg_cmd_local, argc, argv, 2, "uid N or cgroup PATH|ID");
	if (!err)
		err = trust_key(argv[optind], argv[optind + 1], 1, &k);
	if (err)
		return err;
	err = mxo_maps_open(&m, 1);
	if (err)
		return err;
	if (bpf_map_delete_elem(m.trust, &k)) {
		err = errno == ENOENT ? -ENOENT : mxg_sys(-errno);
		mxg_err("%s %s is not trusted", argv[optind], argv[optind + 1]);
	} else {
		printf("local: no longer trusted: %s %s\n", argv[optind], argv[optind + 1]);
	}
	mxo_maps_close(&m);
	return err;
}

/* Everything, named, with the maps closed again. */
static int state_read(struct mxo_local_state *s)
{
	struct mxo_maps m;
	int err;

	memset(s, 0, sizeof(*s));
	err = mxo_maps_open(&m, 0);
	if (err)
		return err;
	err = mxo_local_read(&m, s, MXO_READ_NAMES);
	mxo_maps_close(&m);
	return err;
}

static void trust_print(const struct mxo_local_state *s, int json)
{
	struct mxg_json j;
	size_t i;

	if (json) {
		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxo_json_trust(&j, s->trust, s->ntrust);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
		return;
	}
	if (!s->ntrust)
		printf("no trusted uids or cgroups\n");
	for (i = 0; i < s->ntrust; i++)
		printf("%-6s %-10llu %-30s %s\n", mxo_lkind_name(s->trust[i].k.kind),
		       (unsigned long long)s->trust[i].k.id,
		       s->trust[i].name ? s->trust[i].name : "?",
		       s->trust[i].t.comment);
}

static int trust_list(int argc, char **argv)
{
	struct mxo_local_state s;
	int err, json;

	err = mxg_json_opts(&mxg_cmd_local, argc, argv, &json);
	if (err)
		return err > 0 ? 0 : err;
	err = state_read(&s);
	if (!err)
		trust_print(&s, json);
	mxo_local_free(&s);
	return err;
}

static int local_allow(int argc, char **argv)
{
	static char full[48];
	int (*run)(int, char **) = NULL;

	if (argc < 2)
		return mxg_usage(&mxg_cmd_local, "missing 'uid', 'cgroup', 'del' or 'list'");
	if (!strcmp(argv[1], "uid") || !strcmp(argv[1], "cgroup"))
		run = trust_add;
	else if (!strcmp(argv[1], "del"))
		run = trust_del;
	else if (!strcmp(argv[1], "list"))
		run = trust_list;
	if (!run)
		return mxg_usage(&mxg_cmd_local, "unknown subcommand 'allow %s'", argv[1]);
	snprintf(full, sizeof(full), "local allow %s", argv[1]);
	mxg_cmd = full;
	return run(argc - 1, argv + 1);
}

/* ---- show --------------------------------------------------------------------- */

static void local_json(const struct mxo_local_state *s, size_t limit)
{
	struct mxg_json j;

	mxg_json_init(&j, stdout);
	mxg_json_obj(&j, NULL);
	mxg_json_time(&j, "time", mxg_unix_s());
	mxo_json_local(&j, s, limit);
	mxg_json_obj_end(&j);
	mxg_json_done(&j);
}

static void local_head(const struct mxo_local_state *s)
{
	char us[48], cs[48];
	size_t i;

	if (!s->natt) {
		printf("local: not attached to any cgroup ('mxguard local attach CGROUP')\n");
	} else {
		printf("local: watching cgroup");
		for (i = 0; i < s->natt; i++)
			printf(" %s", s->att[i].path ? s->att[i].path : "(gone)");
		printf("\n");
	}
	mxo_limit_str(&s->cfg.uid_limit, us, sizeof(us));
	mxo_limit_str(&s->cfg.cg_limit, cs, sizeof(cs));
	printf("limits: per uid %s, per cgroup %s; %zu trusted\n\n", us, cs, s->ntrust);
}

static void local_table(const struct mxo_local_state *s, size_t limit)
{
	static const char *head[] = { "KIND", "ID", "NAME", "CONNS", "REFUSED",
				      "PER MIN", "STATE", "LAST SEEN", "LAST COMMAND" };
	struct mxg_table t;
	size_t i, nu = 0, nc = 0;

	local_head(s);
	if (!s->n) {
		printf("no local connects to mail ports seen yet\n");
		return;
	}
	mxg_table_init(&t, 9, head, 0x3a);
	for (i = 0; i < s->n; i++) {
		const struct mxo_lrow *l = &s->rows[i];
		char id[24], co[16], re[16], pm[16], ls[32], comm[MXO_COMM_LEN + 1];
		const char *cells[9] = { mxo_lkind_name(l->k.kind), id,
			l->name ? l->name : "?", co, re, pm,
			l->trusted ? "trusted" : l->limited ? "LIMITED" : "ok", ls, comm };

		if (l->k.kind == MXO_LK_UID ? nu++ >= limit : nc++ >= limit)
			continue;
		snprintf(id, sizeof(id), "%llu", (unsigned long long)l->k.id);
		mxg_format_count(l->r.conns, co, sizeof(co));
		mxg_format_count(l->r.refused, re, sizeof(re));
		snprintf(pm, sizeof(pm), "%u", l->per_min);
		mxg_format_time(mxg_mono_to_unix(l->r.last_ns), ls, sizeof(ls));
		snprintf(comm, sizeof(comm), "%.*s", MXO_COMM_LEN, l->r.comm);
		mxg_table_row(&t, cells);
	}
	mxg_table_print(&t, stdout);
	mxg_table_free(&t);
}

static int local_show(int argc, char **argv)
{
	struct mxo_local_state s;
	struct mxg_show_opts o;
	int err;

	err = mxg_show_parse(&mxg_cmd_local, argc, argv, &o);
	if (err)
		return err > 0 ? 0 : err;
	err = state_read(&s);
	if (!err && o.json)
		local_json(&s, o.limit);
	else if (!err && o.prom)
		mxo_prom_local(stdout, &s, o.limit);
	else if (!err)
		local_table(&s, o.limit);
	mxo_local_free(&s);
	return err;
}

static int local_run(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "show", local_show }, { "attach", local_attach },
		{ "detach", local_detach }, { "set", local_set },
		{ "allow", local_allow },
		{ NULL, NULL }
	};

	return mxg_dispatch_or(&mxg_cmd_local, argc, argv, subs, local_show);
}

const struct mxg_cmd mxg_cmd_local = {
	.name = "local",
	.synopsis = "local [--json | --prometheus] [-n N]\n"
		    "local attach CGROUP\n"
		    "local detach CGROUP|ID\n"
		    "local set [--uid N/min|off [--uid-burst N]] [--cgroup N/min|off [--cgroup-burst N]]\n"
		    "local allow uid UID|USER [--comment TEXT]\n"
		    "local allow cgroup CGROUP [--comment TEXT]\n"
		    "local allow del uid UID|USER | cgroup CGROUP|ID\n"
		    "local allow list [--json]",
	.summary = "local submitters (web apps, scripts) per uid and cgroup",
	.help =
	"Watch who on this host connects to mail ports: cgroup connect programs\n"
	"(IPv4 and IPv6) on a cgroup v2 directory (and everything below it) count\n"
	"TCP connect() calls to ports 25, 465 and 587, to any address, loopback\n"
	"included, per uid and per cgroup, and refuse them over the limits\n"
	"(connect() fails with EPERM).\n\n"
	"  (no subcommand)  uids (with user names) and cgroups (with paths below\n"
	"                   the cgroup v2 mount) that connected: connects, refused,\n"
	"                   rate over the last minute, limited now or trusted, the\n"
	"                   last command name\n"
	"  attach CGROUP    e.g. /sys/fs/cgroup/system.slice/php-fpm.service;\n"
	"                   pinned as mxo_link_cg4_ID and mxo_link_cg6_ID\n"
	"  detach CGROUP|ID remove them (the id when the directory is gone)\n"
	"  set              a token bucket per uid and one per cgroup (RATE N/sec,\n"
	"                   N/min or N/hour, or off; burst default 10 s of the\n"
	"                   rate); a connect needs a token from both. Default: off,\n"
	"                   count only\n"
	"  allow            trusted uids (number or user name) and cgroups (a\n"
	"                   trusted cgroup covers everything below it): counted,\n"
	"                   never refused\n"
	"Events (local_limit_start/_end) come with 'mxguard events' and 'mxguard\n"
	"outbound events'; 'mxguard run' sends the alert command a local_limit\n"
	"alert when a uid or cgroup starts being refused. The totals are part of\n"
	"'mxguard stats', every uid and cgroup of 'mxguard dump'.\n\n"
	"Options:\n"
	"  --json        {time, cgroups_attached[{id, path}], config{uid_limit,\n"
	"                cgroup_limit}, counters{PORT{pass, trusted, limit_uid,\n"
	"                limit_cgroup}}, tracked{uids, cgroups, trusted},\n"
	"                limited{uids, cgroups}, uids[{uid, user, conns, refused,\n"
	"                per_min, limited, trusted, first_seen, last_seen,\n"
	"                last_comm, last_cgroup}], cgroups[{id, path, ...,\n"
	"                last_uid}], trusted[{kind, id, name, comment, added}],\n"
	"                events_lost}\n"
	"  --prometheus  mxguard_local_connects_total{port,verdict},\n"
	"                mxguard_local_tracked{kind}, _limited_count{kind},\n"
	"                mxguard_local_uid_connects_total{uid,user},\n"
	"                _uid_refused_total, _cgroup_connects_total{cgroup_id,\n"
	"                cgroup}, _cgroup_refused_total, mxguard_local_limited\n\n"
	"Examples:\n"
	"  mxguard local attach /sys/fs/cgroup/system.slice/php-fpm.service\n"
	"  mxguard local set --uid 20/min --cgroup 60/min\n"
	"  mxguard local allow uid postfix --comment \"the MTA itself\"\n",
	.run = local_run,
};

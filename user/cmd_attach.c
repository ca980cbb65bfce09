// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach, detach, status: the XDP program on interfaces, pinned so it keeps
 * filtering when the controller exits. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mxguard.h" /* before the skeleton: its config is a struct mxg_cfg */
#include "mxguard.skel.h"
#include "cmd.h"
#include "cfg.h"
#include "log.h"
#include "maps.h"
#include "rescale.h"
#include "out.h"
#include "units.h"
#include "config.h"

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

static void link_pin_path(char *buf, const char *ifname)
{
	char name[IF_NAMESIZE + sizeof(MXG_LINK_PIN_PREFIX)];

	snprintf(name, sizeof(name), MXG_LINK_PIN_PREFIX "%s", ifname);
	mxg_pin_path(buf, name);
}

/* Check the layout of every map that is already pinned, so that a pin of
 * another version is refused with advice instead of a libbpf error. */
static int check_existing_pins(void)
{
	struct mxg_maps m;
	char path[PATH_MAX];

	mxg_pin_path(path, "mxg_cfg");
	if (access(path, F_OK))
		return 0;
	if (mxg_maps_open(&m))
		return -EINVAL;
	mxg_maps_close(&m);
	return 0;
}

/* The loaded program: the pinned one when there is one (all interfaces share
 * it and its maps), else load the object, reusing or pinning every map. */
static int get_prog(int *prog_fd)
{
	char path[PATH_MAX];
	struct mxguard *skel;
	struct mxg_maps m;
	struct mxg_cfg *c;
	int err, fd;

	mxg_pin_path(path, MXG_PROG_PIN);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		*prog_fd = fd;
		return 0;
	}
	err = check_existing_pins();
	if (err)
		return err;
	skel = mxguard__open();
	if (!skel) {
		err = -errno;
		mxg_err("cannot open the BPF object: %s", strerror(errno));
		return mxg_sys(err);
	}
	err = mxg_obj_pin_maps(skel->obj);
	if (!err)
		err = mxguard__load(skel);
	if (err) {
		mxg_err("cannot load the XDP program: %s (run with -vv for the verifier log)",
			strerror(-err));
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	err = mxg_maps_open_raw(&m);
	if (err)
		goto out;
	c = mxg_cfg_load(&m);
	if (c && c->magic != MXG_CFG_MAGIC) {
		mxg_cfg_defaults(c);
		c->mode_since_s = mxg_unix_s();
		err = mxg_cfg_store(&m, c);
	}
	free(c);
	mxg_maps_close(&m);
	if (err)
		goto out;
	err = bpf_program__pin(skel->progs.mxg_xdp, path);
	if (err) {
		mxg_err("cannot pin the program at %s: %s", path, strerror(-err));
		err = mxg_sys(err);
		goto out;
	}
	fd = dup(bpf_program__fd(skel->progs.mxg_xdp));
	if (fd < 0)
		err = -errno;
	*prog_fd = fd;
out:
	mxguard__destroy(skel);
	return err;
}

/* ifindex an XDP link is attached to; 0 when its interface is gone. */
static int link_ifindex(int link_fd, __u32 *ifindex, __u32 *link_id,
			__u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	*ifindex = info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
	*link_id = info.id;
	*prog_id = info.prog_id;
	return 0;
}

static int xdp_create(int prog_fd, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);

	return fd < 0 ? -errno : fd;
}

/* Apply a config file's mode, limits, ports and prefixes to the slot. */
static int apply_config(const struct mxg_config *conf)
{
	struct mxg_maps m;
	int err;

	err = mxg_maps_open(&m);
	if (err)
		return err;
	err = mxg_config_apply_live(&m, conf);
	mxg_maps_close(&m);
	return err;
}

int mxg_attach_iface(const char *ifname, const char *want,
		     const struct mxg_config *conf, int quiet)
{
	char path[PATH_MAX];
	int prog_fd = -1, link_fd = -1, err, ifindex, lock_fd;
	__u32 lif, lid, pid;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		mxg_err("no interface '%s'", ifname);
		return -ENODEV;
	}
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET | MXG_NEED_MOUNT);
	if (err)
		return err;
	err = mxg_pins_prepare(1);
	if (err)
		return err;
	lock_fd = mxg_lock(NULL, 30);
	if (lock_fd < 0)
		return lock_fd;

	link_pin_path(path, ifname);
	link_fd = bpf_obj_get(path);
	if (link_fd >= 0) {
		if (!link_ifindex(link_fd, &lif, &lid, &pid) && (int)lif == ifindex) {
			close(link_fd);
			link_fd = -1;
			if (conf)
				err = apply_config(conf);
			if (!err && !quiet) {
				bpf_xdp_query(ifindex, 0, &q);
				printf("already attached to %s (%s mode, link %u)%s\n", ifname,
				       xdp_mode_name(q.attach_mode), lid,
				       conf ? "; config applied" : "");
			}
			goto out;
		}
		/* A pin left from an interface that went away. */
		mxg_warn("removing stale link pin %s", path);
		close(link_fd);
		unlink(path);
	}

	err = get_prog(&prog_fd);
	if (err)
		goto out;
	if (conf) {
		err = apply_config(conf);
		if (err)
			goto out;
	}
	if (!strcmp(want, "native") || !strcmp(want, "auto")) {
		link_fd = xdp_create(prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
		if (link_fd < 0 && !strcmp(want, "auto")) {
			mxg_debug("native XDP on %s failed (%s), trying generic",
				  ifname, strerror(-link_fd));
			if (link_fd != -EBUSY && link_fd != -EEXIST)
				link_fd = xdp_create(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		}
	} else {
		link_fd = xdp_create(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
	}
	if (link_fd < 0) {
		err = link_fd;
		if (err == -EBUSY || err == -EEXIST) {
			bpf_xdp_query(ifindex, 0, &q);
			mxg_err("%s already has an XDP program (id %u) that mxguard did not attach; remove it first (ip link set dev %s xdp off)",
				ifname, q.prog_id, ifname);
		} else if (err == -EOPNOTSUPP) {
			mxg_err("the driver of %s does not support %s XDP; try --mode generic",
				ifname, want);
		} else {
			mxg_err("cannot attach to %s (%s mode): %s", ifname,
				want, strerror(-err));
		}
		err = err == -EPERM ? err : mxg_sys(err);
		goto out;
	}
	if (bpf_obj_pin(link_fd, path)) {
		err = -errno;
		mxg_err("cannot pin the link at %s: %s", path, strerror(errno));
		bpf_link_detach(link_fd);
		err = mxg_sys(err);
		goto out;
	}
	if (!quiet) {
		bpf_xdp_query(ifindex, 0, &q);
		link_ifindex(link_fd, &lif, &lid, &pid);
		printf("attached to %s (%s mode, link %u, program %u)%s\n", ifname,
		       xdp_mode_name(q.attach_mode), lid, pid,
		       conf ? "; config applied" : "");
	}
out:
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	close(lock_fd);
	return err;
}

static int do_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *want = NULL, *conf_path = NULL;
	struct mxg_config conf, *cp = NULL;
	struct mxg_config_error cerr;
	int err, opt;

	while ((opt = mxg_getopt(&mxg_cmd_attach, argc, argv, "m:c:h", opts)) != -1) {
		switch (opt) {
		case 'm': want = optarg; break;
		case 'c': conf_path = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_attach); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_attach, argc, argv, 1, "interface name");
	if (err)
		return err;
	if (want && strcmp(want, "auto") && strcmp(want, "native") && strcmp(want, "generic"))
		return mxg_usage(&mxg_cmd_attach, "invalid --mode '%s': use auto, native or generic",
				 want);
	if (conf_path) {
		if (mxg_config_load(conf_path, &conf, &cerr)) {
			if (cerr.line)
				mxg_err("%s:%u: %s; nothing applied", cerr.file, cerr.line, cerr.msg);
			else
				mxg_err("%s: %s", cerr.file, cerr.msg);
			return -EINVAL;
		}
		cp = &conf;
		/* --mode wins over the file's xdp_mode. */
		if (!want && conf.xdp_mode_set)
			want = mxg_xdp_mode_name(conf.xdp_mode);
	}
	err = mxg_attach_iface(argv[optind], want ? want : "auto", cp, 0);
	if (cp)
		mxg_config_free(cp);
	return err;
}

const struct mxg_cmd mxg_cmd_attach = {
	.name = "attach",
	.synopsis = "attach IFACE [--mode auto|native|generic] [--config FILE]",
	.summary = "load the filter (once) and attach it to an interface",
	.help =
	"Attach the mxguard XDP program to the mail interface IFACE. The first\n"
	"attach loads the program and creates its maps under the pin directory\n"
	"(default /sys/fs/bpf/mxguard, env MXGUARD_PIN_DIR), mounting bpffs when\n"
	"it is missing; later attaches to other interfaces share the same program\n"
	"and maps: one policy per host. The attachment is pinned, so filtering\n"
	"goes on after mxguard exits. Attaching twice is harmless.\n\n"
	"Options:\n"
	"  --mode auto     native (driver) XDP, falling back to generic (default)\n"
	"  --mode native   driver mode only; fails if the driver lacks XDP\n"
	"  --mode generic  generic (skb) mode: works everywhere, slower\n"
	"  --config FILE   apply the mode, limits, ports and source prefixes of\n"
	"                  FILE (see 'mxguard config --help'); checked whole\n"
	"                  first, nothing is applied from a bad file. Also on an\n"
	"                  interface that is already attached.\n\n"
	"The mode obtained is printed. Needs CAP_BPF, CAP_NET_ADMIN and, to mount\n"
	"bpffs, CAP_SYS_ADMIN: run as root.\n\n"
	"Examples:\n"
	"  mxguard attach eth0\n"
	"  mxguard attach eth1 --mode generic\n",
	.run = do_attach,
};

/* Link pins in the pin directory, by interface name. */
static int count_links(void)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(mxg_pin_dir());

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, MXG_LINK_PIN_PREFIX, strlen(MXG_LINK_PIN_PREFIX)))
			n++;
	closedir(d);
	return n;
}

static int do_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char path[PATH_MAX];
	const char *ifname;
	int fd, err, opt;

	while ((opt = mxg_getopt(&mxg_cmd_detach, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_detach);
			return 0;
		}
		return -EINVAL;
	}
	err = mxg_want_args(&mxg_cmd_detach, argc, argv, 1, "interface name");
	if (err)
		return err;
	ifname = argv[optind];
	err = mxg_require_caps(MXG_NEED_BPF | MXG_NEED_NET);
	if (err)
		return err;
	link_pin_path(path, ifname);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT) {
			mxg_err("mxguard is not attached to '%s'%s", ifname,
				if_nametoindex(ifname) ? "" : " (no such interface either)");
			return -ENODEV;
		}
		err = -errno;
		mxg_err("cannot open %s: %s", path, strerror(errno));
		return mxg_sys(err);
	}
	err = mxg_lock(NULL, 30);
	if (err < 0) {
		close(fd);
		return err;
	}
	err = 0;
	/* Detach even if some other process still holds the link open. */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
		mxg_warn("detaching the link of %s: %s", ifname, strerror(errno));
	close(fd);
	if (unlink(path)) {
		err = -errno;
		mxg_err("cannot remove %s: %s", path, strerror(errno));
		return mxg_sys(err);
	}
	if (!count_links()) {
		/* Last interface: drop the program; maps (lists, limits,
		 * counters) stay pinned for the next attach. */
		mxg_pin_path(path, MXG_PROG_PIN);
		unlink(path);
	}
	printf("detached from %s\n", ifname);
	return 0;
}

const struct mxg_cmd mxg_cmd_detach = {
	.name = "detach",
	.synopsis = "detach IFACE",
	.summary = "remove the filter from an interface",
	.help =
	"Remove the mxguard XDP program from IFACE. Works also when the interface\n"
	"has disappeared. When the last interface is detached the program is\n"
	"unloaded, but the maps stay pinned: allowlist, blocklist, limits, mode\n"
	"and counters are there again at the next attach. To remove everything,\n"
	"detach every interface and delete the pin directory.\n",
	.run = do_detach,
};

struct iface_row {
	char name[IF_NAMESIZE + 1];
	__u32 ifindex, link_id, prog_id;
	const char *xdp_mode;
	int present;
};

static int do_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct iface_row rows[64];
	int nrows = 0, json = 0, opt, err, have_maps;
	struct mxg_cfg *c = NULL;
	struct mxg_maps m;
	struct dirent *e;
	__u32 prog_id = 0;
	DIR *d;
	int i;

	while ((opt = mxg_getopt(&mxg_cmd_status, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_status); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_status, argc, argv, 0, "");
	if (err)
		return err;
	err = mxg_require_caps(MXG_NEED_BPF);
	if (err)
		return err;

	d = opendir(mxg_pin_dir());
	while (d && (e = readdir(d)) && nrows < 64) {
		struct iface_row *r = &rows[nrows];
		char path[PATH_MAX];
		int fd;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		if (strncmp(e->d_name, MXG_LINK_PIN_PREFIX, strlen(MXG_LINK_PIN_PREFIX)))
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s",
			 e->d_name + strlen(MXG_LINK_PIN_PREFIX));
		mxg_pin_path(path, e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		link_ifindex(fd, &r->ifindex, &r->link_id, &r->prog_id);
		close(fd);
		r->present = r->ifindex && if_nametoindex(r->name) == r->ifindex;
		r->xdp_mode = "none";
		if (r->present && !bpf_xdp_query(r->ifindex, 0, &q))
			r->xdp_mode = xdp_mode_name(q.attach_mode);
		if (r->prog_id)
			prog_id = r->prog_id;
		nrows++;
	}
	if (d)
		closedir(d);

	{
		char path[PATH_MAX];

		mxg_pin_path(path, "mxg_cfg");
		have_maps = !access(path, F_OK);
	}
	if (have_maps) {
		err = mxg_maps_open(&m);
		if (err)
			return err;
		c = mxg_cfg_load(&m);
		mxg_maps_close(&m);
		if (!c)
			return -EIO;
	}

	if (json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_bool(&j, "attached", nrows > 0);
		mxg_json_str(&j, "pin_dir", mxg_pin_dir());
		if (c) {
			mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
			mxg_json_time(&j, "mode_since", c->mode_since_s);
		} else {
			mxg_json_null(&j, "mode");
			mxg_json_null(&j, "mode_since");
		}
		mxg_json_u64(&j, "prog_id", prog_id);
		mxg_json_u64(&j, "abi", MXG_ABI_VERSION);
		mxg_json_arr(&j, "interfaces");
		for (i = 0; i < nrows; i++) {
			mxg_json_obj(&j, NULL);
			mxg_json_str(&j, "name", rows[i].name);
			mxg_json_u64(&j, "ifindex", rows[i].ifindex);
			mxg_json_str(&j, "xdp_mode", rows[i].xdp_mode);
			mxg_json_u64(&j, "link_id", rows[i].link_id);
			mxg_json_bool(&j, "present", rows[i].present);
			mxg_json_obj_end(&j);
		}
		mxg_json_arr_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else if (!nrows) {
		printf("mxguard is not attached (pin directory %s)%s\n", mxg_pin_dir(),
		       c ? "; maps with lists and limits are kept for the next attach" : "");
	} else {
		static const char *head[] = { "INTERFACE", "IFINDEX", "XDP MODE", "LINK", "STATE" };
		struct mxg_table t;
		char since[32];

		mxg_format_time(c ? c->mode_since_s : 0, since, sizeof(since));
		printf("mxguard attached, mode %s (since %s), program %u, pins in %s\n\n",
		       c ? mxg_mode_name(c->mode) : "?", since, prog_id, mxg_pin_dir());
		mxg_table_init(&t, 5, head, 0x0a);
		for (i = 0; i < nrows; i++) {
			char ifx[16], lid[16];
			const char *cells[5] = { rows[i].name, ifx, rows[i].xdp_mode, lid,
				rows[i].present ? "filtering" : "interface gone: run 'mxguard detach'" };

			snprintf(ifx, sizeof(ifx), "%u", rows[i].ifindex);
			snprintf(lid, sizeof(lid), "%u", rows[i].link_id);
			mxg_table_row(&t, cells);
		}
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
	}
	free(c);
	return 0;
}

const struct mxg_cmd mxg_cmd_status = {
	.name = "status",
	.synopsis = "status [--json]",
	.summary = "where mxguard is attached, in which mode",
	.help =
	"Show the interfaces mxguard is attached to (XDP mode, link id, whether the\n"
	"interface still exists), the policy mode and the pin directory. Not being\n"
	"attached is not an error here: it is reported (\"attached\": false).\n\n"
	"Options:\n"
	"  --json   one JSON document: attached, pin_dir, mode, mode_since, prog_id,\n"
	"           abi, interfaces[] {name, ifindex, xdp_mode, link_id, present}\n",
	.run = do_status,
};

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The mxguard configuration file (INI, doc/mxguard.conf.example): parse and
 * validate it into struct mxg_config, apply it onto the run-time slot. */
#ifndef MXG_CONFIG_H
#define MXG_CONFIG_H

#include <stdbool.h>
#include <net/if.h>
#include "mxguard.h"

#define MXG_CONFIG_MAX_IFACES 16
#define MXG_CONFIG_MAX_PORTS 16   /* per service */
#define MXG_CONFIG_MAX_FILES 16   /* [allow] file */
#define MXG_CONFIG_MAX_STEPS 8    /* [escalation] steps */
#define MXG_CONFIG_MAX_FEEDS (MXG_MAX_FEEDS - 1) /* id 0 is "manual" */
#define MXG_CONFIG_MAX_BYTES (1 << 20)

#define MXG_CONFIG_DEFAULT_STATE_DIR "/var/lib/mxguard"
#define MXG_CONFIG_DEFAULT_WINDOW_S 3600
#define MXG_CONFIG_DEFAULT_AFTER 3
#define MXG_CONFIG_DEFAULT_MIN_INTERVAL_S 60

enum mxg_xdp_mode {
	MXG_XDP_AUTO = 0, /* native, falling back to generic */
	MXG_XDP_NATIVE,
	MXG_XDP_GENERIC,
};

/* [limit SERVICE]. Values not given by the file hold the default limit. */
struct mxg_config_limit {
	bool present;                 /* the section is in the file */
	bool rate_set, burst_set, ports_set;
	bool prate_set, pburst_set, len4_set, len6_set;
	__u32 rate_n, per_s, burst;
	__u32 prate_n, pper_s, pburst; /* the network bucket */
	__u32 len4, len6;             /* its prefix lengths */
	unsigned nports;              /* ports_set: these replace the defaults */
	__u16 ports[MXG_CONFIG_MAX_PORTS];
};

/* [feed NAME]: a blocklist file `mxguard run` keeps in sync. */
struct mxg_config_feed {
	char name[MXG_FEED_NAME_LEN];
	char *path;
	__u64 refresh_s;
	bool ttl_set;
	__u64 ttl_s;                  /* 0: entries never expire */
};

/*
 * Everything a file can say. Each value holds its default until the file
 * sets it; the *_set flags tell which ones it did, so that applying the file
 * changes only what it names.
 */
struct mxg_config {
	/* [mxguard] */
	bool mode_set, xdp_mode_set, v4_prefix_set, v6_prefix_set;
	bool state_dir_set;
	unsigned mode;                /* enum mxg_mode */
	unsigned xdp_mode;            /* enum mxg_xdp_mode */
	unsigned v4_prefix, v6_prefix;
	char *state_dir;
	unsigned n_ifaces;
	char ifaces[MXG_CONFIG_MAX_IFACES][IF_NAMESIZE];
	/* [limit SERVICE], indexed by enum mxg_svc */
	unsigned n_limits;            /* sections present */
	struct mxg_config_limit limit[MXG_SVC_MAX];
	/* [feed NAME], in file order */
	unsigned n_feeds;
	struct mxg_config_feed *feeds;
	/* [allow] */
	unsigned n_allow_files;
	char *allow_files[MXG_CONFIG_MAX_FILES];
	/* [escalation]: stored for later use, no behaviour yet */
	bool escalation;              /* the section is in the file */
	bool window_set, after_set;
	unsigned n_steps;
	__u64 steps_s[MXG_CONFIG_MAX_STEPS];
	__u64 window_s;
	__u32 after;
	/* [alert]: stored for later use, no behaviour yet */
	bool alert;                   /* the section is in the file */
	bool min_interval_set;
	char *alert_command;          /* absolute program path, then arguments */
	__u64 alert_min_interval_s;
	__u32 alert_drops_per_min;    /* 0: no threshold alert */
	/* [logwatch]: Postfix/Dovecot logs -> bans and account alerts */
	bool logwatch;
	unsigned n_lw_files;
	char *lw_files[MXG_CONFIG_MAX_FILES]; /* absolute paths, or "-" */
	__u32 lw_auth_max, lw_auth_window_s, lw_ban_ttl_s;
	__u32 lw_acct_max_addrs, lw_acct_max_msgs, lw_acct_window_s;
	int lw_acct_ban;
	/* [crowdsec]: the local API's decision stream */
	bool crowdsec;
	char *cs_url, *cs_key_file;
	__u32 cs_interval_s;
};

/* Where a file is wrong: "FILE:LINE: msg", or "FILE: msg" when line is 0. */
struct mxg_config_error {
	const char *file;             /* the name given to load/parse */
	unsigned line;                /* 1-based; 0: not about one line */
	char msg[256];                /* "limit smtp: rate '10/x': why" */
};

/* Read and validate a file (at most MXG_CONFIG_MAX_BYTES). 0, or -errno
 * with *err filled: -EINVAL for anything wrong in it, -ENOMEM, or the errno
 * of open/read. On failure *c holds nothing to free. */
int mxg_config_load(const char *path, struct mxg_config *c,
		    struct mxg_config_error *err);

/* The same over text in memory; name only labels errors. */
int mxg_config_parse_string(const char *text, const char *name,
			    struct mxg_config *c, struct mxg_config_error *err);

/* Release what load/parse allocated; *c is zeroed. Safe to call twice. */
void mxg_config_free(struct mxg_config *c);

/*
 * Apply what the file sets onto a run-time slot: mode (mode_since_s set to
 * now if it changes), limits, ports and source key prefixes. A service
 * whose ports the file lists gets exactly those: its other ports stop being
 * protected, and a listed port is taken from the service that had it.
 */
void mxg_config_apply(const struct mxg_config *c, struct mxg_cfg *slot);

/* "auto", "native", "generic". */
const char *mxg_xdp_mode_name(unsigned mode);

#endif /* MXG_CONFIG_H */

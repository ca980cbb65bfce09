/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The command table: each cmd_<family>.c defines its commands' names, usage
 * text and entry points; main.c dispatches and prints help from them. */
#ifndef MXG_CMD_H
#define MXG_CMD_H

#include <getopt.h>
#include <stddef.h>
#include <linux/types.h>

struct mxg_cmd {
	const char *name;     /* first word: "attach", "allow", ... */
	const char *synopsis; /* lines after "mxguard ", one per form */
	const char *summary;  /* one line for the command list */
	const char *help;     /* the full text of `mxguard NAME --help` */
	/* argv[0] is the command name; returns 0 or -errno (main picks the
	 * exit status: -EINVAL/-ENOENT/-ENODEV/-ERANGE are usage or input
	 * errors, exit 2; anything else exit 1). */
	int (*run)(int argc, char **argv);
};

extern const struct mxg_cmd mxg_cmd_attach, mxg_cmd_detach, mxg_cmd_status,
	mxg_cmd_limit, mxg_cmd_mode, mxg_cmd_allow, mxg_cmd_block,
	mxg_cmd_stats, mxg_cmd_top, mxg_cmd_report, mxg_cmd_check, mxg_cmd_config,
	mxg_cmd_dump, mxg_cmd_events, mxg_cmd_run;
extern const struct mxg_cmd mxg_cmd_outbound; /* cmd_outbound.c */
extern const struct mxg_cmd mxg_cmd_local;    /* cmd_local.c */

/* Print the command's synopsis and help to stdout. */
void mxg_cmd_help(const struct mxg_cmd *c);

/* Report a usage error for command c ("mxguard: CMD: MSG" and a pointer to
 * --help) and return -EINVAL. */
int mxg_usage(const struct mxg_cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* getopt_long over argv with "--help" handled: returns the option char, -1
 * at the end, 'h' for --help, '?' after reporting a usage error. */
int mxg_getopt(const struct mxg_cmd *c, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

/* Option parsing of a command that takes no option but --help: 0, 1 after
 * printing the help, or a usage error. */
int mxg_no_opts(const struct mxg_cmd *c, int argc, char **argv);

/* The same for a listing that takes --json and no argument. */
int mxg_json_opts(const struct mxg_cmd *c, int argc, char **argv, int *json);

/* The same for one that takes --comment TEXT (checked against the comment
 * length of the list entries; "" when not given). */
int mxg_comment_opts(const struct mxg_cmd *c, int argc, char **argv,
		     const char **comment);

/* Positional arguments left after option parsing must number exactly
 * `want`; otherwise a usage error. */
int mxg_want_args(const struct mxg_cmd *c, int argc, char **argv, int want,
		  const char *what);

/* A family's subcommands ("allow add", ...), NULL-terminated. */
struct mxg_subcmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
};

/* Run argv[1] of family c from subs; sets mxg_cmd to "family sub". */
int mxg_dispatch(const struct mxg_cmd *c, int argc, char **argv,
		 const struct mxg_subcmd *subs);

/* The same, but without a subcommand (or with an option first) dflt runs:
 * `mxguard outbound --json` is `mxguard outbound show --json`. */
int mxg_dispatch_or(const struct mxg_cmd *c, int argc, char **argv,
		    const struct mxg_subcmd *subs, int (*dflt)(int, char **));

struct mxg_config;
/* Attach to one interface (cmd_attach.c): loads the program on first use,
 * applies conf (may be NULL); want is "auto", "native" or "generic". */
int mxg_attach_iface(const char *ifname, const char *want,
		     const struct mxg_config *conf, int quiet);

/* List subcommands living in cmd_load.c. */
int mxg_allow_load(int argc, char **argv);
int mxg_block_load(int argc, char **argv);
int mxg_block_sync(int argc, char **argv);
int mxg_block_gc(int argc, char **argv);

/* `allow list` of either allowlist (cmd_list.c): one JSON document
 * {"allow": [{cidr, comment, added, hits, last_hit}]}, or a table whose first
 * column is headed col0, or `empty` when there are no entries. */
struct mxg_allow_entry;
void mxg_allow_print(const struct mxg_allow_entry *e, size_t n, int json,
		     const char *col0, const char *empty);

/* Follow the ring buffers (cmd_events.c): the XDP program's, the outbound
 * programs' or both, with the options of `mxguard events`. */
#define MXG_EV_INBOUND  0x1
#define MXG_EV_OUTBOUND 0x2
int mxg_events_follow(const struct mxg_cmd *c, int argc, char **argv,
		      unsigned sides);

/* Shared by outbound and local (cmd_outbound.c). */
/* A threshold option: "N/min" and friends, or "off"/"none"/"0" (n = 0);
 * set once given. */
struct mxg_threshold {
	__u32 n, per_s;
	int set;
};
int mxg_threshold_arg(const struct mxg_cmd *c, const char *opt, const char *s,
		      struct mxg_threshold *t);
/* [--json | --prometheus] [-n N] of the family's show: 1 after --help. */
struct mxg_show_opts {
	int json, prom;
	size_t limit; /* rows per table: -n, else all with --json, else 20 */
};
int mxg_show_parse(const struct mxg_cmd *c, int argc, char **argv,
		   struct mxg_show_opts *o);

#endif /* MXG_CMD_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mxguard: argv[1] -> command table; help and usage come from the table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "log.h"
#include "mxguard.h"

#define MXG_VERSION "0.1.0"

static const struct mxg_cmd *const commands[] = {
	&mxg_cmd_attach, &mxg_cmd_detach, &mxg_cmd_status, &mxg_cmd_mode,
	&mxg_cmd_limit, &mxg_cmd_allow, &mxg_cmd_block, &mxg_cmd_stats,
	&mxg_cmd_top, &mxg_cmd_report, &mxg_cmd_check, &mxg_cmd_config, &mxg_cmd_dump,
	&mxg_cmd_events, &mxg_cmd_run,
	&mxg_cmd_outbound, &mxg_cmd_local,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void mxg_cmd_help(const struct mxg_cmd *c)
{
	const char *s = c->synopsis, *nl;

	printf("Usage:\n");
	while (*s) {
		nl = strchr(s, '\n');
		printf("  mxguard %.*s\n", nl ? (int)(nl - s) : (int)strlen(s), s);
		if (!nl)
			break;
		s = nl + 1;
	}
	printf("\n%s", c->help);
}

int mxg_usage(const struct mxg_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxguard: %s: ", mxg_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mxguard %s --help'.\n", c->name);
	return -EINVAL;
}

int mxg_getopt(const struct mxg_cmd *c, int argc, char **argv,
	       const char *shortopts, const struct option *longopts)
{
	int idx = 0, opt;

	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, longopts, &idx);
	if (opt == '?') {
		if (optopt)
			mxg_usage(c, "option -%c %s", optopt,
				  strchr(shortopts, optopt) ? "needs a value" : "is unknown");
		else
			mxg_usage(c, "option '%s' is unknown or needs a value",
				  argv[optind - 1]);
	} else if (opt == ':') {
		mxg_usage(c, "option '%s' needs a value", argv[optind - 1]);
		opt = '?';
	}
	return opt;
}

int mxg_no_opts(const struct mxg_cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;

	while ((opt = mxg_getopt(c, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(c);
			return 1;
		}
		return -EINVAL;
	}
	return 0;
}

int mxg_json_opts(const struct mxg_cmd *c, int argc, char **argv, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;

	*json = 0;
	while ((opt = mxg_getopt(c, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': *json = 1; break;
		case 'h': mxg_cmd_help(c); return 1;
		default: return -EINVAL;
		}
	}
	return mxg_want_args(c, argc, argv, 0, "");
}

int mxg_comment_opts(const struct mxg_cmd *c, int argc, char **argv,
		     const char **comment)
{
	static const struct option opts[] = {
		{ "comment", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;

	*comment = "";
	while ((opt = mxg_getopt(c, argc, argv, "c:h", opts)) != -1) {
		switch (opt) {
		case 'c': *comment = optarg; break;
		case 'h': mxg_cmd_help(c); return 1;
		default: return -EINVAL;
		}
	}
	if (strlen(*comment) >= MXG_COMMENT_LEN)
		return mxg_usage(c, "comment '%s' is too long (at most %d bytes)",
				 *comment, MXG_COMMENT_LEN - 1);
	return 0;
}

int mxg_want_args(const struct mxg_cmd *c, int argc, char **argv, int want,
		  const char *what)
{
	if (argc - optind < want)
		return mxg_usage(c, "missing %s", what);
	if (argc - optind > want)
		return mxg_usage(c, "unexpected argument '%s'", argv[optind + want]);
	return 0;
}

int mxg_dispatch(const struct mxg_cmd *c, int argc, char **argv,
		 const struct mxg_subcmd *subs)
{
	static char full[48];
	int i;

	if (argc < 2)
		return mxg_usage(c, "missing subcommand");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		mxg_cmd_help(c);
		return 0;
	}
	for (i = 0; subs[i].name; i++)
		if (!strcmp(argv[1], subs[i].name)) {
			/* Messages name the whole command: "block add". */
			snprintf(full, sizeof(full), "%s %s", c->name, subs[i].name);
			mxg_cmd = full;
			return subs[i].run(argc - 1, argv + 1);
		}
	return mxg_usage(c, "unknown subcommand '%s'", argv[1]);
}

int mxg_dispatch_or(const struct mxg_cmd *c, int argc, char **argv,
		    const struct mxg_subcmd *subs, int (*dflt)(int, char **))
{
	if (argc < 2 || argv[1][0] == '-')
		return dflt(argc, argv);
	return mxg_dispatch(c, argc, argv, subs);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"mxguard %s - protect a mail server at the NIC: per-source connection\n"
		"limits, partner allowlists and blocklists in XDP.\n\n"
		"Usage: mxguard [-v] COMMAND [ARGS...]\n"
		"       mxguard COMMAND --help\n\n"
		"Commands:\n", MXG_VERSION);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f,
		"\nOptions:\n"
		"  -v, --verbose   more detail on stderr (twice: libbpf debug)\n"
		"  -h, --help      this text\n"
		"  -V, --version   print the version\n\n"
		"Environment:\n"
		"  MXGUARD_PIN_DIR       where maps and links are pinned (default /sys/fs/bpf/mxguard)\n"
		"  MXGUARD_LOCK_TIMEOUT  seconds a command that changes state waits for another\n"
		"                        mxguard holding the lock on the pin directory (default 30)\n\n"
		"Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input\n"
		"(including commands run before 'mxguard attach').\n");
}

int main(int argc, char **argv)
{
	const struct mxg_cmd *c = NULL;
	int i = 1;
	size_t k;

	mxg_log_init();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			mxg_verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			mxg_verbose += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("mxguard %s (ABI %d)\n", MXG_VERSION, MXG_ABI_VERSION);
			return 0;
		} else {
			fprintf(stderr, "mxguard: unknown option '%s'\nTry 'mxguard --help'.\n",
				argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		i++;
		for (k = 0; k < NCOMMANDS; k++)
			if (!strcmp(argv[i], commands[k]->name)) {
				mxg_cmd_help(commands[k]);
				return 0;
			}
	}
	for (k = 0; k < NCOMMANDS; k++)
		if (!strcmp(argv[i], commands[k]->name))
			c = commands[k];
	if (!c) {
		fprintf(stderr, "mxguard: unknown command '%s'\nTry 'mxguard --help'.\n",
			argv[i]);
		return 2;
	}
	mxg_cmd = c->name;
	optind = 0;
	return mxg_exit_code(c->run(argc - i, argv + i));
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* limit set/show and mode: the tunables in the config slot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "log.h"
#include "maps.h"
#include "rescale.h"
#include "out.h"
#include "units.h"
#include "cfg.h"

#define MXG_BURST_MAX 1000000

/* Open the maps (and lock them for an edit) and load the config slot. */
static int cfg_begin(struct mxg_maps *m, struct mxg_cfg **c, int lock)
{
	int err = lock ? mxg_maps_open_rw(m) : mxg_maps_open_ro(m);

	if (err)
		return err;
	*c = mxg_cfg_load(m);
	if (*c)
		return 0;
	mxg_maps_close(m);
	return -EIO;
}

/* Comma-separated ports of a service, from the port table. */
static void svc_ports(const struct mxg_cfg *c, unsigned svc, char *buf,
		      size_t len)
{
	size_t off = 0;
	unsigned p;

	buf[0] = '\0';
	for (p = 0; p < MXG_NPORTS && off < len; p++)
		if (c->port_svc[p] == svc)
			off += snprintf(buf + off, len - off, "%s%u", off ? "," : "", p);
}

static int limit_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "prefix-rate", required_argument, NULL, 'R' },
		{ "prefix-burst", required_argument, NULL, 'B' },
		{ "prefix-v4", required_argument, NULL, '4' },
		{ "prefix-v6", required_argument, NULL, '6' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *rate = NULL, *burst = NULL, *prate = NULL, *pburst = NULL;
	const char *len4 = NULL, *len6 = NULL, *why, *svcname;
	__u32 n = 0, per_s = 0, b = 0, pn = 0, pper_s = 0, pb = 0, l4 = 0, l6 = 0;
	struct mxg_cfg *c = NULL, *old;
	struct mxg_maps m;
	int opt, err, svc = -1;
	unsigned s;

	while ((opt = mxg_getopt(&mxg_cmd_limit, argc, argv, "r:b:R:B:4:6:h", opts)) != -1) {
		switch (opt) {
		case 'r': rate = optarg; break;
		case 'b': burst = optarg; break;
		case 'R': prate = optarg; break;
		case 'B': pburst = optarg; break;
		case '4': len4 = optarg; break;
		case '6': len6 = optarg; break;
		case 'h': mxg_cmd_help(&mxg_cmd_limit); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_limit, argc, argv, 1, "service name (or 'all')");
	if (err)
		return err;
	svcname = argv[optind];
	if (strcmp(svcname, "all")) {
		svc = mxg_svc_by_name(svcname);
		if (svc <= MXG_SVC_NONE)
			return mxg_usage(&mxg_cmd_limit,
					 "unknown service '%s': use smtp, submissions, submission, pop3, pop3s, imap, imaps or all",
					 svcname);
	}
	if (!rate && !burst && !prate && !pburst && !len4 && !len6)
		return mxg_usage(&mxg_cmd_limit,
				 "give --rate, --burst, --prefix-rate, --prefix-burst, --prefix-v4 or --prefix-v6");
	if (len4 && mxg_parse_plen(len4, MXG_NET_MIN_V4, 32, &l4, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid IPv4 network prefix '%s': %s (%u-32)",
				 len4, why, MXG_NET_MIN_V4);
	if (len6 && mxg_parse_plen(len6, MXG_NET_MIN_V6, 128, &l6, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid IPv6 network prefix '%s': %s (%u-128)",
				 len6, why, MXG_NET_MIN_V6);
	if (prate && mxg_parse_rate(prate, &pn, &pper_s, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid prefix rate '%s': %s", prate, why);
	if (pburst && mxg_parse_u32(pburst, 1, MXG_BURST_MAX, &pb, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid prefix burst '%s': %s (1-%d)",
				 pburst, why, MXG_BURST_MAX);
	if (rate && mxg_parse_rate(rate, &n, &per_s, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid rate '%s': %s", rate, why);
	if (burst && mxg_parse_u32(burst, 1, MXG_BURST_MAX, &b, &why))
		return mxg_usage(&mxg_cmd_limit, "invalid burst '%s': %s (1-%d)",
				 burst, why, MXG_BURST_MAX);

	err = cfg_begin(&m, &c, 1);
	if (err)
		return err;
	old = malloc(sizeof(*old));
	if (!old) {
		free(c);
		mxg_maps_close(&m);
		return -ENOMEM;
	}
	*old = *c;
	for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
		struct mxg_limit *l = &c->limit[s], *pl = &c->plimit[s];
		char rb[32], prb[32];

		if (svc >= 0 && (int)s != svc)
			continue;
		mxg_cfg_set_limit(c, s, rate ? n : l->rate_n,
				  rate ? per_s : l->rate_per_s,
				  burst ? b : l->burst);
		mxg_cfg_set_plimit(c, s, prate ? pn : pl->rate_n,
				   prate ? pper_s : pl->rate_per_s,
				   pburst ? pb : pl->burst);
		mxg_cfg_set_net(c, s, len4 ? l4 : c->net[s].len4,
				len6 ? l6 : c->net[s].len6);
		mxg_format_rate(l->rate_n, l->rate_per_s, rb, sizeof(rb));
		mxg_format_rate(pl->rate_n, pl->rate_per_s, prb, sizeof(prb));
		printf("%s: %s, burst %u per source; %s, burst %u per network (IPv4 /%u, IPv6 /%u)\n",
		       mxg_svc_name(s), rb, l->burst, prb, pl->burst, c->net[s].len4,
		       c->net[s].len6);
	}
	err = mxg_cfg_store(&m, c);
	if (!err) {
		size_t moved;

		/* Sources already over their limit get the new one now. */
		err = mxg_buckets_rescale(&m, old, c, &moved);
		if (err)
			mxg_err("limits set, but the buckets of tracked sources could not be carried over: %s",
				strerror(-err));
		else if (moved)
			printf("%zu drained bucket%s carried over to the new limits\n",
			       moved, moved == 1 ? "" : "s");
	}
	free(old);
	free(c);
	mxg_maps_close(&m);
	return err;
}

static int limit_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_cfg *c = NULL;
	struct mxg_maps m;
	int opt, err, json = 0;
	char ports[128], rb[32];
	unsigned s;

	while ((opt = mxg_getopt(&mxg_cmd_limit, argc, argv, "jh", opts)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': mxg_cmd_help(&mxg_cmd_limit); return 0;
		default: return -EINVAL;
		}
	}
	err = mxg_want_args(&mxg_cmd_limit, argc, argv, 0, "");
	if (err)
		return err;
	err = cfg_begin(&m, &c, 0);
	if (err)
		return err;
	if (json) {
		struct mxg_json j;

		mxg_json_init(&j, stdout);
		mxg_json_obj(&j, NULL);
		mxg_json_str(&j, "mode", mxg_mode_name(c->mode));
		mxg_json_u64(&j, "v4_prefix", c->v4_prefix);
		mxg_json_u64(&j, "v6_prefix", c->v6_prefix);
		mxg_json_u64(&j, "v4_network_prefix", mxg_cfg_net0(c)->len4);
		mxg_json_u64(&j, "v6_network_prefix", mxg_cfg_net0(c)->len6);
		mxg_json_obj(&j, "limits");
		for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
			const struct mxg_limit *l = &c->limit[s];
			unsigned p;

			mxg_format_rate(l->rate_n, l->rate_per_s, rb, sizeof(rb));
			mxg_json_obj(&j, mxg_svc_name(s));
			mxg_json_str(&j, "rate", rb);
			mxg_json_u64(&j, "rate_n", l->rate_n);
			mxg_json_u64(&j, "per_s", l->rate_per_s);
			mxg_json_u64(&j, "burst", l->burst);
			mxg_json_u64(&j, "interval_ns", l->interval_ns);
			mxg_format_rate(c->plimit[s].rate_n, c->plimit[s].rate_per_s, rb, sizeof(rb));
			mxg_json_str(&j, "prefix_rate", rb);
			mxg_json_u64(&j, "prefix_rate_n", c->plimit[s].rate_n);
			mxg_json_u64(&j, "prefix_per_s", c->plimit[s].rate_per_s);
			mxg_json_u64(&j, "prefix_burst", c->plimit[s].burst);
			mxg_json_u64(&j, "prefix_v4", c->net[s].len4);
			mxg_json_u64(&j, "prefix_v6", c->net[s].len6);
			mxg_json_arr(&j, "ports");
			for (p = 0; p < MXG_NPORTS; p++)
				if (c->port_svc[p] == s)
					mxg_json_u64(&j, NULL, p);
			mxg_json_arr_end(&j);
			mxg_json_obj_end(&j);
		}
		mxg_json_obj_end(&j);
		mxg_json_obj_end(&j);
		mxg_json_done(&j);
	} else {
		static const char *head[] = { "SERVICE", "PORTS", "RATE", "BURST",
					      "NETWORK", "NETWORK RATE",
					      "NETWORK BURST" };
		struct mxg_table t;

		mxg_table_init(&t, 7, head, 0x48);
		for (s = MXG_SVC_NONE + 1; s < MXG_SVC_MAX; s++) {
			const struct mxg_limit *l = &c->limit[s], *pl = &c->plimit[s];
			char bb[16], nb[16], prb[32], pbb[16];
			const char *cells[7] = { mxg_svc_name(s), ports, rb, bb, nb, prb, pbb };

			svc_ports(c, s, ports, sizeof(ports));
			mxg_format_rate(l->rate_n, l->rate_per_s, rb, sizeof(rb));
			snprintf(bb, sizeof(bb), "%u", l->burst);
			snprintf(nb, sizeof(nb), "/%u /%u", c->net[s].len4, c->net[s].len6);
			mxg_format_rate(pl->rate_n, pl->rate_per_s, prb, sizeof(prb));
			snprintf(pbb, sizeof(pbb), "%u", pl->burst);
			mxg_table_row(&t, cells);
		}
		mxg_table_print(&t, stdout);
		mxg_table_free(&t);
		printf("\nRATE and BURST apply per source (IPv4 /%u, IPv6 /%u) and service; NETWORK RATE\nand NETWORK BURST to all sources of one network together, a network being a\nprefix of the lengths under NETWORK (IPv4, IPv6).\nMode: %s.\n",
		       c->v4_prefix, c->v6_prefix, mxg_mode_name(c->mode));
	}
	free(c);
	mxg_maps_close(&m);
	return 0;
}

static int do_limit(int argc, char **argv)
{
	static const struct mxg_subcmd subs[] = {
		{ "set", limit_set }, { "show", limit_show }, { NULL, NULL }
	};

	return mxg_dispatch(&mxg_cmd_limit, argc, argv, subs);
}

const struct mxg_cmd mxg_cmd_limit = {
	.name = "limit",
	.synopsis = "limit set SERVICE|all [--rate N/sec|N/min|N/hour] [--burst N]\n"
		    "          [--prefix-rate N/UNIT] [--prefix-burst N]\n"
		    "          [--prefix-v4 LEN] [--prefix-v6 LEN]\n"
		    "limit show [--json]",
	.summary = "per-source connection limits of each mail service",
	.help =
	"Each source address (IPv4 /32, IPv6 /64) gets a token bucket per service:\n"
	"it may open BURST new connections at once, then RATE more over time.\n"
	"A SYN finding the bucket empty is dropped (mode enforce) or counted as\n"
	"would-drop (mode monitor). Allowlisted sources are never limited.\n\n"
	"All sources of one network (IPv4 /24, IPv6 /48 by default, set per\n"
	"service by --prefix-v4 and --prefix-v6) also share a network bucket per\n"
	"service: a botnet spread over one network is limited as a whole. Its\n"
	"defaults are 10x the default per-source rate and burst; it is set only\n"
	"by --prefix-rate and --prefix-burst, never derived from --rate. A new\n"
	"network length starts the service's networks afresh: buckets of the old\n"
	"networks keep draining where they are, and a slot still draining is\n"
	"shared, never handed out full. Sharing holds new sources only: a\n"
	"source with a record whose network only shares another network's\n"
	"draining slot (they hash alike) is held to its own bucket there.\n"
	"A source over its limit is also remembered outside the LRU source table,\n"
	"so a flood of spoofed addresses that pushes it out of that table does not\n"
	"give it a new burst.\n\n"
	"A new limit applies at once to sources and networks already over the old\n"
	"one: what a drained bucket owes is kept in connections, not in time, and\n"
	"capped at the new burst (raising smtp from 1/hour to 100/min frees a\n"
	"source that owed three connections within two seconds).\n\n"
	"Services: smtp (25), submissions (465), submission (587), pop3 (110),\n"
	"pop3s (995), imap (143), imaps (993); 'all' sets every service.\n\n"
	"Options of set (at least one):\n"
	"  --rate N/UNIT   refill rate; UNIT is sec, min or hour; N 1-1000000\n"
	"  --burst N       bucket depth, 1-1000000 connections\n"
	"  --prefix-rate N/UNIT, --prefix-burst N\n"
	"                  the same for the network bucket\n"
	"  --prefix-v4 LEN, --prefix-v6 LEN\n"
	"                  the network: sources whose first LEN bits agree\n"
	"                  (IPv4 8-32, IPv6 16-128; \"22\" or \"/22\")\n\n"
	"Options of show:\n"
	"  --json          mode, v4_prefix, v6_prefix, v4_network_prefix and\n"
	"                  v6_network_prefix (smtp's network lengths), and\n"
	"                  limits{SERVICE: {rate, rate_n, per_s, burst,\n"
	"                  interval_ns, prefix_rate, prefix_rate_n, prefix_per_s,\n"
	"                  prefix_burst, prefix_v4, prefix_v6, ports[]}}\n\n"
	"Examples:\n"
	"  mxguard limit set smtp --rate 30/min --burst 10\n"
	"  mxguard limit set all --burst 20\n"
	"  mxguard limit set submission --prefix-v4 22 --prefix-rate 100/min\n",
	.run = do_limit,
};

static int do_mode(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mxg_cfg *c = NULL;
	struct mxg_maps m;
	int opt, err, mode;
	unsigned old;

	while ((opt = mxg_getopt(&mxg_cmd_mode, argc, argv, "h", opts)) != -1) {
		if (opt == 'h') {
			mxg_cmd_help(&mxg_cmd_mode);
			return 0;
		}
		return -EINVAL;
	}
	if (argc - optind == 0) {
		err = cfg_begin(&m, &c, 0);
		if (err)
			return err;
		printf("%s\n", mxg_mode_name(c->mode));
		free(c);
		mxg_maps_close(&m);
		return 0;
	}
	err = mxg_want_args(&mxg_cmd_mode, argc, argv, 1, "mode");
	if (err)
		return err;
	mode = mxg_mode_by_name(argv[optind]);
	if (mode < 0)
		return mxg_usage(&mxg_cmd_mode,
				 "unknown mode '%s': use enforce, monitor or lockdown",
				 argv[optind]);
	err = cfg_begin(&m, &c, 1);
	if (err)
		return err;
	old = c->mode;
	if (old != (unsigned)mode) {
		c->mode = mode;
		c->mode_since_s = mxg_unix_s();
		err = mxg_cfg_store(&m, c);
	}
	if (!err)
		printf("mode %s (was %s)\n", mxg_mode_name(mode), mxg_mode_name(old));
	free(c);
	mxg_maps_close(&m);
	return err;
}

const struct mxg_cmd mxg_cmd_mode = {
	.name = "mode",
	.synopsis = "mode [enforce|monitor|lockdown]",
	.summary = "show or switch the policy mode",
	.help =
	"  enforce   drop blocklisted sources and SYNs over the limit (default)\n"
	"  monitor   drop nothing; count what enforce would have dropped\n"
	"            (block_would, limit_would): check a policy before using it\n"
	"  lockdown  emergency: only allowlisted partners may open new\n"
	"            connections to the mail ports; established ones go on\n\n"
	"Allowlisted sources pass in every mode. Without an argument, prints the\n"
	"current mode. Takes effect on the next packet.\n",
	.run = do_mode,
};

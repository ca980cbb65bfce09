/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Numbers people type and read: durations, rates, counts; service, mode and
 * verdict names. Pure, no I/O. Parsers return 0 or -EINVAL / -ERANGE and
 * point *why at a static explanation for the caller's error message. */
#ifndef MXG_UNITS_H
#define MXG_UNITS_H

#include <stddef.h>
#include "mxguard.h"

/* "90", "90s", "10m", "2h", "7d", "1h30m". Result in seconds, > 0,
 * at most 10 years. */
int mxg_parse_duration(const char *s, __u64 *secs, const char **why);

/* "30/min": N/sec, N/s, N/second, N/min, N/m, N/minute, N/hour, N/h.
 * 1 <= N <= 1,000,000. *per_s is 1, 60 or 3600. */
int mxg_parse_rate(const char *s, __u32 *n, __u32 *per_s, const char **why);

/* Decimal unsigned integer within [min, max]. */
int mxg_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out,
		  const char **why);

/* A prefix length, "24" or "/24", within [min, max]. */
int mxg_parse_plen(const char *s, __u32 min, __u32 max, __u32 *out,
		   const char **why);

/* "1h30m", "45s", "2d3h": the largest two units, for tables. */
void mxg_format_duration(__u64 secs, char *buf, size_t len);

/* "30/min" from the configured pair. */
void mxg_format_rate(__u32 n, __u32 per_s, char *buf, size_t len);

/* "1.2k", "3.4M", "999": human counts for tables. */
void mxg_format_count(__u64 v, char *buf, size_t len);

/* "2026-11-23T09:00:00Z" from Unix seconds; "-" for 0. */
void mxg_format_time(__u64 unix_s, char *buf, size_t len);

/* Service names: "smtp", "submissions", "submission", "pop3", "pop3s",
 * "imap", "imaps"; MXG_SVC_NONE is "none". */
const char *mxg_svc_name(unsigned svc);
/* enum mxg_svc for a name, or -1. */
int mxg_svc_by_name(const char *name);
/* The port a service is on by default (25, 465, 587, 110, 995, 143, 993). */
__u16 mxg_svc_default_port(unsigned svc);

/* "enforce", "monitor", "lockdown". */
const char *mxg_mode_name(unsigned mode);
int mxg_mode_by_name(const char *name);

/* Verdict reason names for counters: "not_ip", "not_tcp", "other_port",
 * "unparsed", "allow", "block", "block_would", "established", "lockdown",
 * "admit", "limit", "limit_would", "prefix_limit", "prefix_limit_would". */
const char *mxg_reason_name(unsigned reason);

#endif /* MXG_UNITS_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The alert command: a program run with an event as JSON on stdin, never
 * through a shell, rate-limited, and never able to block the service. */
#ifndef MXG_ALERT_H
#define MXG_ALERT_H

#include <sys/types.h>
#include <linux/types.h>

#define MXG_ALERT_MAX_ARGS 32
#define MXG_ALERT_MAX_RUNNING 4
#define MXG_ALERT_TIMEOUT_S 10

struct mxg_alert {
	char *words;                     /* command, split in place */
	char *argv[MXG_ALERT_MAX_ARGS + 1];
	__u64 min_interval_s;
	__u64 last_s;                    /* when the last one ran */
	unsigned suppressed;             /* dropped by the rate limit since */
	pid_t pid[MXG_ALERT_MAX_RUNNING];
	__u64 started[MXG_ALERT_MAX_RUNNING];
};

/* command: absolute program path, then arguments, separated by blanks
 * (no quoting, no shell). NULL or "" disables alerts. */
int mxg_alert_init(struct mxg_alert *a, const char *command,
		   __u64 min_interval_s);
void mxg_alert_free(struct mxg_alert *a);

/* Run the command with json on stdin, unless one ran less than
 * min_interval ago (then it is counted as suppressed and the next alert
 * says how many were). 1 ran, 0 suppressed, <0 error. Returns at once. */
int mxg_alert_send(struct mxg_alert *a, __u64 now_s, const char *json);

/* Reap finished commands; kill those running longer than the timeout. */
void mxg_alert_reap(struct mxg_alert *a, __u64 now_s);

#endif /* MXG_ALERT_H */

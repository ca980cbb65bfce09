/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Messages to stderr: errors as "mxguard: <command>: <what>", notes, debug
 * with -v; libbpf's own messages are routed here and shown with -v. */
#ifndef MXG_LOG_H
#define MXG_LOG_H

#include <errno.h>

/* The command being run ("attach", "block add", ...), for messages. */
extern const char *mxg_cmd;
extern int mxg_verbose;

void mxg_log_init(void);
void mxg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mxg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mxg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Usage and input errors (exit 2) are returned as -EINVAL; "not attached"
 * as -ENOENT, "no such interface" as -ENODEV. A kernel call that fails with
 * one of these errnos goes through mxg_sys() so that it stays a runtime
 * failure (exit 1) and is not mistaken for bad input. */
static inline int mxg_sys(int err)
{
	if (err == -EINVAL || err == -ENOENT || err == -ENODEV || err == -ERANGE)
		return -EIO;
	return err;
}

/* Exit status for a handler's return value. */
int mxg_exit_code(int ret);

#endif /* MXG_LOG_H */

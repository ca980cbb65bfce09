// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Run the alert command: fork, exec (no shell), JSON on stdin, no waiting. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "alert.h"
#include "log.h"

int mxg_alert_init(struct mxg_alert *a, const char *command,
		   __u64 min_interval_s)
{
	char *save = NULL, *w;
	int n = 0;

	memset(a, 0, sizeof(*a));
	a->min_interval_s = min_interval_s;
	if (!command || !*command)
		return 0;
	a->words = strdup(command);
	if (!a->words)
		return -ENOMEM;
	for (w = strtok_r(a->words, " \t", &save); w && n < MXG_ALERT_MAX_ARGS;
	     w = strtok_r(NULL, " \t", &save))
		a->argv[n++] = w;
	a->argv[n] = NULL;
	if (!n || a->argv[0][0] != '/') {
		mxg_err("alert command '%s' must start with an absolute program path", command);
		mxg_alert_free(a);
		return -EINVAL;
	}
	return 0;
}

void mxg_alert_free(struct mxg_alert *a)
{
	free(a->words);
	a->words = NULL;
	a->argv[0] = NULL;
}

void mxg_alert_reap(struct mxg_alert *a, __u64 now_s)
{
	int i;

	for (i = 0; i < MXG_ALERT_MAX_RUNNING; i++) {
		if (!a->pid[i])
			continue;
		if (waitpid(a->pid[i], NULL, WNOHANG) == a->pid[i]) {
			a->pid[i] = 0;
		} else if (now_s >= a->started[i] + MXG_ALERT_TIMEOUT_S) {
			kill(a->pid[i], SIGKILL);
			waitpid(a->pid[i], NULL, 0);
			mxg_warn("alert command %s killed after %d s", a->argv[0],
				 MXG_ALERT_TIMEOUT_S);
			a->pid[i] = 0;
		}
	}
}

int mxg_alert_send(struct mxg_alert *a, __u64 now_s, const char *json)
{
	int p[2], slot = -1, i;
	pid_t pid;
	size_t len = strlen(json);

	if (!a->argv[0])
		return 0;
	mxg_alert_reap(a, now_s);
	if (a->last_s && now_s < a->last_s + a->min_interval_s) {
		a->suppressed++;
		return 0;
	}
	for (i = 0; i < MXG_ALERT_MAX_RUNNING; i++)
		if (!a->pid[i])
			slot = i;
	if (slot < 0) {
		/* All slots busy with slow commands: drop, say so later. */
		a->suppressed++;
		return 0;
	}
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[0], 0);
		if (null >= 0)
			dup2(null, 1);
		execv(a->argv[0], a->argv);
		_exit(127);
	}
	close(p[0]);
	/* The event is far smaller than a pipe buffer: this write does not
	 * block; a command that never reads just gets EOF-less input. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (a->suppressed) {
		char pre[64];
		int n = snprintf(pre, sizeof(pre), "{\"suppressed_before\":%u}\n", a->suppressed);

		if (write(p[1], pre, n) != n)
			mxg_debug("alert: short write");
	}
	if (write(p[1], json, len) != (ssize_t)len || write(p[1], "\n", 1) != 1)
		mxg_debug("alert: short write");
	close(p[1]);
	a->pid[slot] = pid;
	a->started[slot] = now_s;
	a->last_s = now_s;
	a->suppressed = 0;
	return 1;
}

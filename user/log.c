// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* stderr messages and the libbpf print hook. */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

const char *mxg_cmd = "";
int mxg_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && mxg_verbose < 2)
		return 0;
	if (!mxg_verbose)
		return 0;
	fprintf(stderr, "mxguard: libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void mxg_log_init(void)
{
	libbpf_set_print(libbpf_print);
}

static void vlog(const char *tag, const char *fmt, va_list ap)
{
	if (mxg_cmd && *mxg_cmd)
		fprintf(stderr, "mxguard: %s: %s", mxg_cmd, tag);
	else
		fprintf(stderr, "mxguard: %s", tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void mxg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void mxg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void mxg_debug(const char *fmt, ...)
{
	va_list ap;

	if (!mxg_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

int mxg_exit_code(int ret)
{
	if (ret >= 0)
		return 0;
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENODEV || ret == -ERANGE)
		return 2;
	return 1;
}

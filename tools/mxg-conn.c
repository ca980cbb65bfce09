// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mxg-conn: a bounded TCP test tool for the e2e tests and the demo: `serve`
 * accepts and closes on a set of ports, `connect` makes N paced connection
 * attempts from one source address and counts how many got through. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_PORTS 64
#define SERVE_MAX_S 600       /* a forgotten server still goes away */
#define CONNECT_MAX_COUNT 100000
#define CONNECT_MAX_S 120     /* whole run, launches and waits */
#define CONNECT_MAX_RATE 100000
/* Below the kernel's 1 s initial RTO: a dropped SYN is never retransmitted,
 * so one failed attempt is exactly one SYN seen by the filter. */
#define DEFAULT_TIMEOUT_MS 400
#define MAX_TIMEOUT_MS 10000

#define NSEC 1000000000LL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxg-conn: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mxg-conn serve --port P[,P...] [--addr ADDR] [--seconds N] [--pid-file FILE]\n"
		"         listen on each port (dual-stack for ::), accept and close at once,\n"
		"         until SIGTERM/SIGINT or N seconds (default and max %d).\n"
		"         --pid-file is written once every port listens (a readiness signal).\n"
		"       mxg-conn connect --dst ADDR --port P [--src ADDR] [--count N]\n"
		"                        [--rate R/s] [--timeout-ms T] [--json]\n"
		"         N attempts (default 1, max %d) paced at R per second (default 10),\n"
		"         each a non-blocking connect bound to --src with a T ms timeout\n"
		"         (default %d). Whole run at most %d s.\n"
		"         --json: {\"attempts\":N,\"ok\":K,\"failed\":F,\"elapsed_ms\":E,\n"
		"                  \"timeout\":T,\"refused\":R,\"other\":O}\n",
		SERVE_MAX_S, CONNECT_MAX_COUNT, DEFAULT_TIMEOUT_MS, CONNECT_MAX_S);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NSEC + ts.tv_nsec;
}

static long parse_num(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("%s: '%s' is not a number in %ld..%ld", opt, s, min, max);
	return v;
}

/* "20", "20/s", "20/sec" */
static long parse_rate(const char *s)
{
	char buf[32];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		die_usage("--rate: '%s' is not N or N/s", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		if (strcmp(slash, "/s") && strcmp(slash, "/sec"))
			die_usage("--rate: '%s': only per-second rates (N/s)", s);
		*slash = '\0';
	}
	return parse_num("--rate", buf, 1, CONNECT_MAX_RATE);
}

static void parse_addr(const char *opt, const char *s,
		       struct sockaddr_storage *ss, socklen_t *len, int port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		die_usage("%s: '%s' is not an IPv4 or IPv6 address", opt, s);
	}
}

/* ---- serve ------------------------------------------------------------ */

static int listen_on(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	parse_addr("--addr", addr, &ss, &len, port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "mxg-conn: serve: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero))) {
		fprintf(stderr, "mxg-conn: serve: IPV6_V6ONLY: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4096)) {
		fprintf(stderr, "mxg-conn: serve: [%s]:%d: %s\n", addr, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int write_pid_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	/* Written whole then renamed, so a reader never sees a partial PID. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) || rename(tmp, path))
		return -1;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	int ports[MAX_PORTS], nports = 0, i, ret = 1;
	struct pollfd pfd[MAX_PORTS];
	const char *addr = "::", *pid_file = NULL;
	long seconds = SERVE_MAX_S;
	unsigned long accepted = 0;
	long long deadline;
	struct sigaction sa;

	for (i = 0; i < argc; i++) {
		const char *o = argv[i];

		if (i + 1 >= argc)
			die_usage("serve: %s needs a value", o);
		if (!strcmp(o, "--port")) {
			/* strtok_r writes NULs: work on a copy so that
			 * ps still shows the command line as given. */
			char list[256], *tok, *save = NULL;

			if (snprintf(list, sizeof(list), "%s", argv[++i]) >= (int)sizeof(list))
				die_usage("--port: list too long");

			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (nports == MAX_PORTS)
					die_usage("serve: at most %d ports", MAX_PORTS);
				ports[nports++] = parse_num("--port", tok, 1, 65535);
			}
		} else if (!strcmp(o, "--addr")) {
			addr = argv[++i];
		} else if (!strcmp(o, "--seconds")) {
			seconds = parse_num("--seconds", argv[++i], 1, SERVE_MAX_S);
		} else if (!strcmp(o, "--pid-file")) {
			pid_file = argv[++i];
		} else {
			die_usage("serve: unknown option '%s'", o);
		}
	}
	if (!nports)
		die_usage("serve: --port is required");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nports; i++)
		pfd[i].fd = -1;
	for (i = 0; i < nports; i++) {
		pfd[i].fd = listen_on(addr, ports[i]);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0)
			goto out;
	}
	if (pid_file && write_pid_file(pid_file)) {
		fprintf(stderr, "mxg-conn: serve: %s: %s\n", pid_file, strerror(errno));
		goto out;
	}

	deadline = now_ns() + seconds * NSEC;
	while (!stop) {
		long long left = deadline - now_ns();
		int n;

		if (left <= 0)
			break;
		n = poll(pfd, nports, left > 1000 * 1000000LL ? 1000 : (int)(left / 1000000) + 1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "mxg-conn: serve: poll: %s\n", strerror(errno));
			goto out;
		}
		for (i = 0; n > 0 && i < nports; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				close(c);
				accepted++;
			}
		}
	}
	fprintf(stderr, "mxg-conn: serve: accepted %lu connections\n", accepted);
	ret = 0;
out:
	for (i = 0; i < nports; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	if (pid_file)
		unlink(pid_file);
	return ret;
}

/* ---- connect ---------------------------------------------------------- */

struct attempt {
	int fd;
	long long deadline;
};

struct tally {
	long attempts, ok, timeout, refused, other;
};

static void finish(struct attempt *a, struct tally *t, int err)
{
	/* Abortive close: no TIME_WAIT, so 100k attempts from one address do
	 * not run out of ephemeral ports. The RST is not a SYN: the filter
	 * passes it as "established". */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a->fd);
	a->fd = -1;
	if (!err)
		t->ok++;
	else if (err == ETIMEDOUT)
		t->timeout++;
	else if (err == ECONNREFUSED)
		t->refused++;
	else
		t->other++;
}

/* Start one attempt; returns 0 with a->fd set or an errno (the attempt is
 * then already finished). */
static int launch(struct attempt *a, const struct sockaddr_storage *src,
		  socklen_t src_len, const struct sockaddr_storage *dst,
		  socklen_t dst_len)
{
	int one = 1, fd;

	fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	a->fd = fd;
	if (src_len) {
		/* Port chosen at connect time, by 4-tuple, not at bind. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, src_len))
			return errno;
	}
	if (connect(fd, (const struct sockaddr *)dst, dst_len) == 0)
		return 0; /* connected at once; still reaped through poll */
	if (errno != EINPROGRESS)
		return errno;
	return 0;
}

static int raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 256;
	if (rl.rlim_cur < 8192 && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 8192 ? 8192 - 64 : (int)rl.rlim_cur - 64;
}

static int cmd_connect(int argc, char **argv)
{
	const char *src_s = NULL, *dst_s = NULL;
	long port = 0, count = 1, rate = 10, timeout_ms = DEFAULT_TIMEOUT_MS;
	int json = 0, i, max_inflight, ninflight = 0;
	struct sockaddr_storage src, dst;
	socklen_t src_len = 0, dst_len;
	struct attempt *slots;
	struct pollfd *pfd;
	int *pidx;
	struct tally t = { 0 };
	long long t0, hard_end, end;
	long next = 0;

	for (i = 0; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--json")) {
			json = 1;
			continue;
		}
		if (i + 1 >= argc)
			die_usage("connect: %s needs a value", o);
		if (!strcmp(o, "--src"))
			src_s = argv[++i];
		else if (!strcmp(o, "--dst"))
			dst_s = argv[++i];
		else if (!strcmp(o, "--port"))
			port = parse_num("--port", argv[++i], 1, 65535);
		else if (!strcmp(o, "--count"))
			count = parse_num("--count", argv[++i], 1, CONNECT_MAX_COUNT);
		else if (!strcmp(o, "--rate"))
			rate = parse_rate(argv[++i]);
		else if (!strcmp(o, "--timeout-ms"))
			timeout_ms = parse_num("--timeout-ms", argv[++i], 1, MAX_TIMEOUT_MS);
		else
			die_usage("connect: unknown option '%s'", o);
	}
	if (!dst_s || !port)
		die_usage("connect: --dst and --port are required");
	parse_addr("--dst", dst_s, &dst, &dst_len, port);
	if (src_s) {
		parse_addr("--src", src_s, &src, &src_len, 0);
		if (src.ss_family != dst.ss_family)
			die_usage("connect: --src %s and --dst %s are of different families",
				  src_s, dst_s);
	}
	/* The schedule itself must fit the cap; the cap below only guards
	 * against a host too slow to keep it. */
	if ((count - 1) * 1000 / rate + timeout_ms > CONNECT_MAX_S * 1000L)
		die_usage("connect: %ld attempts at %ld/s take longer than %d s",
			  count, rate, CONNECT_MAX_S);

	signal(SIGPIPE, SIG_IGN);
	max_inflight = raise_nofile();
	slots = calloc(max_inflight, sizeof(*slots));
	pfd = calloc(max_inflight, sizeof(*pfd));
	pidx = calloc(max_inflight, sizeof(*pidx));
	if (!slots || !pfd || !pidx) {
		fprintf(stderr, "mxg-conn: connect: out of memory\n");
		return 1;
	}
	for (i = 0; i < max_inflight; i++)
		slots[i].fd = -1;

	t0 = now_ns();
	hard_end = t0 + CONNECT_MAX_S * NSEC;
	while ((next < count || ninflight) && now_ns() < hard_end) {
		long long now = now_ns(), wake;
		int n, np = 0, timeout;

		/* Launch everything that is due (catching up if we fell behind). */
		while (next < count && ninflight < max_inflight &&
		       t0 + next * NSEC / rate <= now) {
			struct attempt *a = NULL;
			int err;

			for (i = 0; i < max_inflight; i++)
				if (slots[i].fd < 0) {
					a = &slots[i];
					break;
				}
			next++;
			t.attempts++;
			err = launch(a, &src, src_len, &dst, dst_len);
			if (err) {
				if (a->fd >= 0)
					finish(a, &t, err);
				else
					t.other++;
				if (err == EADDRNOTAVAIL || err == EACCES || err == EPERM) {
					fprintf(stderr, "mxg-conn: connect: %s: %s\n",
						src_s ? src_s : dst_s, strerror(err));
					return 1;
				}
				continue;
			}
			a->deadline = now + timeout_ms * 1000000LL;
			ninflight++;
		}

		wake = next < count ? t0 + next * NSEC / rate : hard_end;
		for (i = 0; i < max_inflight; i++) {
			if (slots[i].fd < 0)
				continue;
			if (slots[i].deadline < wake)
				wake = slots[i].deadline;
			pfd[np].fd = slots[i].fd;
			pfd[np].events = POLLOUT;
			pidx[np++] = i;
		}
		timeout = wake <= now ? 0 : (int)((wake - now + 999999) / 1000000);
		n = poll(pfd, np, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "mxg-conn: connect: poll: %s\n", strerror(errno));
			return 1;
		}
		now = now_ns();
		for (i = 0; i < np; i++) {
			struct attempt *a = &slots[pidx[i]];

			if (n > 0 && pfd[i].revents) {
				int err = 0;
				socklen_t el = sizeof(err);

				if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &el))
					err = errno;
				finish(a, &t, err);
				ninflight--;
			} else if (a->deadline <= now) {
				finish(a, &t, ETIMEDOUT);
				ninflight--;
			}
		}
	}
	/* Only reached past the hard cap: what is still pending failed. */
	for (i = 0; i < max_inflight; i++)
		if (slots[i].fd >= 0)
			finish(&slots[i], &t, ETIMEDOUT);
	end = now_ns();

	if (json)
		printf("{\"attempts\":%ld,\"ok\":%ld,\"failed\":%ld,\"elapsed_ms\":%lld,"
		       "\"timeout\":%ld,\"refused\":%ld,\"other\":%ld}\n",
		       t.attempts, t.ok, t.attempts - t.ok, (end - t0) / 1000000,
		       t.timeout, t.refused, t.other);
	else
		printf("%ld attempts, %ld ok, %ld failed (%ld timed out, %ld refused, "
		       "%ld other) in %lld ms\n", t.attempts, t.ok, t.attempts - t.ok,
		       t.timeout, t.refused, t.other, (end - t0) / 1000000);
	free(slots);
	free(pfd);
	free(pidx);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 2, argv + 2);
	if (!strcmp(argv[1], "connect"))
		return cmd_connect(argc - 2, argv + 2);
	usage(stderr);
	return 2;
}

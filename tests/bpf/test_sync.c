// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Continuous-probe proof that `mxguard block sync` never lets an entry that is
 * in both the old and the new list go missing from the kernel, plus TTL expiry
 * in the program and `mxguard block gc`. Root; runs the real binary. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "check.h"
#include "frame.h"
#include "maps.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

/* How long one mxguard command may take before it counts as hung, and how
 * long the sync may run while being probed. */
#define CMD_TIMEOUT "60"
#define SYNC_DEADLINE_S 40
#define MIN_PROBES 2000

/* ---- the two lists ----------------------------------------------------------
 *
 * The old list holds N_OLD entries of five kinds; entry k of the first four
 * (in the order below) is removed in the new list when REMOVED(k), the nested
 * /100s are all removed; the new list adds four kinds. Everything lies in
 * 198.18.0.0/15 and 2001:db8::/32:
 *   V4H   198.19.0.0 ..            IPv4 hosts (hash)
 *   V4P   198.18.128.0/17 in /28s  IPv4 prefixes (trie)
 *   V6P   2001:db8:100::/40 ...    one /64../112 per /64 (trie)
 *   V6H   2001:db8:10::/44 ...     IPv6 hosts, one per /64 (hash)
 *   V6N   a /100 nested in every 10th V6P /64 (trie; removed by the sync,
 *         its parent stays: its sources must keep dropping)
 *   NEW_* IPv4 hosts at 198.19.240.0, IPv4 /28s at 198.18.64.0, /96s nested
 *         in other V6P /64s (their sources drop throughout), IPv6 hosts at
 *         2001:db8:30::/44.
 * 198.18.77.7 (the TTL case) and 198.18.50.9 (the control) are in none.
 */
enum kind {
	K_V4H, K_V4P, K_V6P, K_V6H, K_V6N,
	K_NEW_V4H, K_NEW_V4P, K_NEW_V6N, K_NEW_V6H,
	K_MAX
};

#define N_OLD 1000000u
#define N_V4H 60000u
#define N_V4P 2048u
#define N_V6P 300000u
#define N_V6N 1000u
#define N_V6H (N_OLD - N_V4H - N_V4P - N_V6P - N_V6N)
#define N_ADD (1000u + 200u + 3000u + 5800u)

static const unsigned kind_n[K_MAX] = {
	[K_V4H] = N_V4H, [K_V4P] = N_V4P, [K_V6P] = N_V6P, [K_V6H] = N_V6H,
	[K_V6N] = N_V6N, [K_NEW_V4H] = 1000, [K_NEW_V4P] = 200,
	[K_NEW_V6N] = 3000, [K_NEW_V6H] = 5800,
};

static const char *const kind_name[K_MAX] = {
	"v4_host", "v4_prefix", "v6_prefix", "v6_host", "v6_nested_100",
	"new_v4_host", "new_v4_prefix", "new_v6_nested_96", "new_v6_host",
};

/* Index of entry i of an old kind among the first four, in file order. */
static unsigned old_k(enum kind kd, unsigned i)
{
	switch (kd) {
	case K_V4H: return i;
	case K_V4P: return N_V4H + i;
	case K_V6P: return N_V4H + N_V4P + i;
	case K_V6H: return N_V4H + N_V4P + N_V6P + i;
	default: return 0;
	}
}

#define REMOVED_K(k) ((k) % 100 == 7)

/* 1 if entry i of kind kd is in the old / the new list. */
static int in_old(enum kind kd)
{
	return kd <= K_V6N;
}

static int in_new(enum kind kd, unsigned i)
{
	if (kd == K_V6N)
		return 0;
	if (kd < K_V6N)
		return !REMOVED_K(old_k(kd, i));
	return 1;
}

/* The V6P parent of a nested entry: a /64 (index multiple of 5). */
static unsigned nested_parent(enum kind kd, unsigned i)
{
	return kd == K_V6N ? 10 * i : 10 * i + 5;
}

static unsigned v6p_len(unsigned i)
{
	return 64 + (i % 5) * 12;
}

/* The entry as written in the list file. */
static void entry_text(enum kind kd, unsigned i, char *b, size_t n)
{
	unsigned p;

	switch (kd) {
	case K_V4H:
		snprintf(b, n, "198.19.%u.%u", i >> 8, i & 255);
		break;
	case K_V4P:
		snprintf(b, n, "198.18.%u.%u/28", 128 + (i >> 4), (i & 15) << 4);
		break;
	case K_V6P:
		snprintf(b, n, "2001:db8:%x:%x::/%u", 0x100 + (i >> 16),
			 i & 0xffff, v6p_len(i));
		break;
	case K_V6H:
		snprintf(b, n, "2001:db8:%x:%x::1", 0x10 + (i >> 16), i & 0xffff);
		break;
	case K_V6N:
		p = nested_parent(kd, i);
		snprintf(b, n, "2001:db8:%x:%x:a1::/100", 0x100 + (p >> 16),
			 p & 0xffff);
		break;
	case K_NEW_V4H:
		snprintf(b, n, "198.19.%u.%u", 240 + (i >> 8), i & 255);
		break;
	case K_NEW_V4P:
		snprintf(b, n, "198.18.%u.%u/28", 64 + (i >> 4), (i & 15) << 4);
		break;
	case K_NEW_V6N:
		p = nested_parent(kd, i);
		snprintf(b, n, "2001:db8:%x:%x:b2:c3::/96", 0x100 + (p >> 16),
			 p & 0xffff);
		break;
	case K_NEW_V6H:
		snprintf(b, n, "2001:db8:%x:%x::2", 0x30 + (i >> 16), i & 0xffff);
		break;
	default:
		snprintf(b, n, "?");
	}
}

/* A source address inside entry i of kind kd (not the network address of
 * a prefix, so the trie has to cover it). */
static void source_text(enum kind kd, unsigned i, char *b, size_t n)
{
	unsigned p;

	switch (kd) {
	case K_V4P:
		snprintf(b, n, "198.18.%u.%u", 128 + (i >> 4), ((i & 15) << 4) + 5);
		break;
	case K_V6P:
		snprintf(b, n, "2001:db8:%x:%x::42", 0x100 + (i >> 16), i & 0xffff);
		break;
	case K_V6N:
		p = nested_parent(kd, i);
		snprintf(b, n, "2001:db8:%x:%x:a1::42", 0x100 + (p >> 16),
			 p & 0xffff);
		break;
	case K_NEW_V4P:
		snprintf(b, n, "198.18.%u.%u", 64 + (i >> 4), ((i & 15) << 4) + 9);
		break;
	case K_NEW_V6N:
		p = nested_parent(kd, i);
		snprintf(b, n, "2001:db8:%x:%x:b2:c3:0:42", 0x100 + (p >> 16),
			 p & 0xffff);
		break;
	default:
		entry_text(kd, i, b, n);
	}
}

/* ---- sandbox state, cleaned up on every path ------------------------------ */

static struct {
	char tmp[64];        /* mkdtemp dir */
	char bpffs[96];      /* private bpffs mount inside it */
	char pin_dir[128];
	char ns[48];         /* namespace name, "" until created */
	char bin[4096];      /* absolute path of build/mxguard */
	int mounted;
	int prog;
	volatile pid_t child; /* the command running now, 0 if none */
	volatile pid_t bg;    /* jq running in the background, 0 if none */
} G = { .prog = -1 };

/* Files this test writes into G.tmp, removed on exit. */
static const char *const tmp_files[] = {
	"old.txt", "new.txt", "cmd.out", "cmd.err", "sync.out", "sync.err",
	"jq.out", "jq.err", "list.json", "list.err", "list.jq", "list.jqerr",
};

static void tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", G.tmp, name);
}

/* fork + exec argv, stdout/stderr to files (NULL: inherit); returns the
 * child's pid or -errno. */
static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (out && !freopen(out, "w", stdout))
			_exit(126);
		if (err && !freopen(err, "w", stderr))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Exit status of a spawned child (waited for), or -1 if killed / -errno. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (G.child == pid)
		G.child = 0;
	if (G.bg == pid)
		G.bg = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(char *const argv[], const char *out, const char *err)
{
	pid_t pid = spawn(argv, out, err);

	if (pid < 0)
		return pid;
	G.child = pid;
	return reap(pid);
}

static void cleanup(void)
{
	static volatile sig_atomic_t done;
	char path[256];
	size_t i;

	if (done)
		return;
	done = 1;
	if (G.child > 0) {
		kill(G.child, SIGTERM);
		waitpid(G.child, NULL, 0);
		G.child = 0;
	}
	if (G.bg > 0) {
		kill(G.bg, SIGTERM);
		waitpid(G.bg, NULL, 0);
		G.bg = 0;
	}
	if (G.prog >= 0)
		close(G.prog);
	/* Deleting the namespace destroys the veth pair and with it the XDP
	 * attachment; pins go with the private bpffs. */
	if (G.ns[0]) {
		char *argv[] = { "ip", "netns", "del", G.ns, NULL };
		pid_t pid = spawn(argv, NULL, NULL);

		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	if (G.mounted && umount2(G.bpffs, 0))
		umount2(G.bpffs, MNT_DETACH);
	if (G.tmp[0]) {
		for (i = 0; i < sizeof(tmp_files) / sizeof(tmp_files[0]); i++) {
			tmp_path(path, sizeof(path), tmp_files[i]);
			unlink(path);
		}
		rmdir(G.bpffs);
		rmdir(G.tmp);
	}
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

/* mxguard ARGS (NULL-terminated) in the namespace, bounded in time; stdout
 * to the file `out` in G.tmp, stderr to `err`. Its exit status (or <0). */
static int mxg_v(const char *out, const char *err, const char *a0, va_list ap)
{
	char *argv[32] = { "timeout", "-k", "2", CMD_TIMEOUT, "ip", "netns",
			   "exec", G.ns, G.bin };
	char po[256], pe[256];
	int n = 9;

	argv[n++] = (char *)a0;
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	argv[n] = NULL;
	tmp_path(po, sizeof(po), out);
	tmp_path(pe, sizeof(pe), err);
	return run(argv, po, pe);
}

/* The same with stdout and stderr to cmd.out and cmd.err. */
static int mxg(const char *a0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, a0);
	rc = mxg_v("cmd.out", "cmd.err", a0, ap);
	va_end(ap);
	return rc;
}

/* The same with stdout and stderr to the files out and err in G.tmp. */
static int mxg_to(const char *out, const char *err, const char *a0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, a0);
	rc = mxg_v(out, err, a0, ap);
	va_end(ap);
	return rc;
}

/* `jq -r FILTER IN` started, output to OUT and OUT_ERR (files in G.tmp);
 * its pid or -errno. */
static pid_t jq_start(const char *filter, const char *in, const char *out,
		      const char *out_err)
{
	char pi[256], po[256], pe[256];
	char *argv[] = { "timeout", "-k", "2", CMD_TIMEOUT, "jq", "-r",
			 (char *)filter, pi, NULL };

	tmp_path(pi, sizeof(pi), in);
	tmp_path(po, sizeof(po), out);
	tmp_path(pe, sizeof(pe), out_err);
	return spawn(argv, po, pe);
}

/* First line of a file in G.tmp, for messages. */
static const char *first_line(const char *name)
{
	static char line[512];
	char path[256];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	line[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_until(__u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* A setup step failed: one FAIL line naming it; the caller stops. */
static void fail_setup(const char *what, const char *detail)
{
	printf("FAIL sync__setup: %s: %s\n", what, detail);
	check_failed++;
	fflush(stdout);
}

static int setup(void)
{
	char *b, msg[512];
	int rc;

	b = getenv("MXG_BIN");
	if (!realpath(b ? b : "build/mxguard", G.bin)) {
		snprintf(msg, sizeof(msg), "%s: %s (run from the top directory after make)",
			 b ? b : "build/mxguard", strerror(errno));
		fail_setup("mxguard binary", msg);
		return -1;
	}
	snprintf(G.tmp, sizeof(G.tmp), "/tmp/mxg-sync.XXXXXX");
	if (!mkdtemp(G.tmp)) {
		G.tmp[0] = '\0';
		fail_setup("mkdtemp", strerror(errno));
		return -1;
	}
	snprintf(G.bpffs, sizeof(G.bpffs), "%s/bpf", G.tmp);
	if (mkdir(G.bpffs, 0700)) {
		fail_setup("mkdir bpffs", strerror(errno));
		return -1;
	}
	if (mount("bpf", G.bpffs, "bpf", 0, "mode=0700")) {
		fail_setup("mount -t bpf (root?)", strerror(errno));
		return -1;
	}
	G.mounted = 1;
	snprintf(G.pin_dir, sizeof(G.pin_dir), "%s/mxguard", G.bpffs);
	setenv("MXGUARD_PIN_DIR", G.pin_dir, 1);

	snprintf(G.ns, sizeof(G.ns), "mxgs-%d-%ld", (int)getpid(),
		 (long)(mono_ns() % 100000));
	{
		char *add[] = { "ip", "netns", "add", G.ns, NULL };
		/* Created inside the namespace: the pair never exists in the
		 * host namespace. */
		char *veth[] = { "ip", "-n", G.ns, "link", "add", "mxsync0", "type",
				 "veth", "peer", "name", "mxsync1", NULL };
		char *up0[] = { "ip", "-n", G.ns, "link", "set", "mxsync0", "up", NULL };
		char *up1[] = { "ip", "-n", G.ns, "link", "set", "mxsync1", "up", NULL };

		rc = run(add, NULL, NULL);
		if (rc) {
			G.ns[0] = '\0';
			fail_setup("ip netns add", "failed");
			return -1;
		}
		if (run(veth, NULL, NULL) || run(up0, NULL, NULL) ||
		    run(up1, NULL, NULL)) {
			fail_setup("veth pair in the namespace", "ip link failed");
			return -1;
		}
	}
	rc = mxg("attach", "mxsync0", NULL);
	if (rc) {
		snprintf(msg, sizeof(msg), "exit %d: %s", rc, first_line("cmd.err"));
		fail_setup("mxguard attach mxsync0", msg);
		return -1;
	}
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", G.pin_dir, MXG_PROG_PIN);
		G.prog = bpf_obj_get(path);
		if (G.prog < 0) {
			snprintf(msg, sizeof(msg), "%.300s: %s", path, strerror(errno));
			fail_setup("bpf_obj_get of the pinned program", msg);
			return -1;
		}
	}
	return 0;
}

/* ---- probes -------------------------------------------------------------- */

#define FRAME_SLOT 96

struct probe {
	int len;
	__u8 frame[FRAME_SLOT];
	char src[48];
	enum kind kind;
};

/* A SYN to port 25 from src. */
static int probe_make(struct probe *p, enum kind kd, const char *src)
{
	struct frame_spec s = {
		.l3 = strchr(src, ':') ? FRAME_IPV6 : FRAME_IPV4, .src = src,
		.dport = 25, .tcp_flags = FRAME_TCP_SYN,
	};
	__u8 buf[FRAME_MAX];
	int len;

	len = frame_build(&s, buf, sizeof(buf), NULL);
	if (len < 0 || len > FRAME_SLOT)
		return len < 0 ? len : -E2BIG;
	memcpy(p->frame, buf, len);
	p->len = len;
	p->kind = kd;
	snprintf(p->src, sizeof(p->src), "%s", src);
	return 0;
}

/* The XDP action for one probe, or -errno. */
static int probe_run(const struct probe *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame,
		    .data_size_in = p->len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(G.prog, &o);
	return err ? err : (int)o.retval;
}

static const char *act_name(int act)
{
	return act == XDP_PASS ? "XDP_PASS" : act == XDP_DROP ? "XDP_DROP" :
	       act < 0 ? "test-run error" : "another action";
}

/* Run every probe once; count those whose action is not `want` and name the
 * first few. */
static void check_all(const char *name, const struct probe *p, size_t n,
		      int want)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		int act = probe_run(&p[i]);

		if (act == want)
			continue;
		if (bad++ < 5)
			printf("# %s: %s (%s) got %s\n", name, p[i].src,
			       kind_name[p[i].kind], act_name(act));
	}
	printf("# %s: %zu probes\n", name, n);
	CHECK_EQ(name, 0, bad);
}

/* n sources of kind kd spread evenly over its index range, only entries
 * with in_new() == keep (for an old kind) or any (for a new one). */
static int sample(struct probe *out, enum kind kd, size_t n, int keep)
{
	size_t j;
	unsigned i;
	char src[48];

	for (j = 0; j < n; j++) {
		for (i = j * kind_n[kd] / n; i < kind_n[kd]; i++)
			if (kd > K_V6N || in_new(kd, i) == keep)
				break;
		if (i >= kind_n[kd])
			return -ENOENT;
		source_text(kd, i, src, sizeof(src));
		if (probe_make(&out[j], kd, src))
			return -EINVAL;
	}
	return 0;
}

/* ---- the lists on disk ---------------------------------------------------- */

/* Write both lists; *n_new gets the size of the new one. */
static int write_lists(size_t *n_new)
{
	char p_old[256], p_new[256], e[64];
	FILE *fo, *fn;
	size_t nn = 0;
	unsigned i;
	int kd, err = 0;

	tmp_path(p_old, sizeof(p_old), "old.txt");
	tmp_path(p_new, sizeof(p_new), "new.txt");
	fo = fopen(p_old, "w");
	fn = fopen(p_new, "w");
	if (!fo || !fn) {
		err = -errno;
		goto out;
	}
	fprintf(fo, "# mxguard test_sync: old list, %u entries\n", N_OLD);
	fprintf(fn, "# mxguard test_sync: new list\n");
	for (kd = 0; kd < K_MAX; kd++) {
		for (i = 0; i < kind_n[kd]; i++) {
			entry_text(kd, i, e, sizeof(e));
			if (in_old(kd))
				fprintf(fo, "%s\n", e);
			if (in_new(kd, i)) {
				fprintf(fn, "%s\n", e);
				nn++;
			}
		}
	}
	/* The nested entries' parents must be /64s that stay. */
	for (i = 0; i < N_V6N; i++)
		if (!in_new(K_V6P, nested_parent(K_V6N, i)) ||
		    v6p_len(nested_parent(K_V6N, i)) != 64)
			err = -EINVAL;
	for (i = 0; i < kind_n[K_NEW_V6N]; i++)
		if (!in_new(K_V6P, nested_parent(K_NEW_V6N, i)) ||
		    v6p_len(nested_parent(K_NEW_V6N, i)) != 64)
			err = -EINVAL;
	if (ferror(fo) || ferror(fn))
		err = -EIO;
out:
	if (fo && fclose(fo) && !err)
		err = -EIO;
	if (fn && fclose(fn) && !err)
		err = -EIO;
	*n_new = nn;
	return err;
}

/* Wait for a jq_start()ed jq; its output, newlines as spaces, into buf, or
 * a description of what went wrong. */
static const char *jq_result(pid_t pid, const char *out, const char *out_err,
			     char *buf, size_t n)
{
	char po[256];
	size_t len, i;
	FILE *f;
	int rc;

	if (pid < 0) {
		snprintf(buf, n, "<cannot start jq: %s>", strerror(-pid));
		return buf;
	}
	rc = reap(pid);
	if (rc) {
		snprintf(buf, n, "<jq exited %d: %s>", rc, first_line(out_err));
		return buf;
	}
	tmp_path(po, sizeof(po), out);
	f = fopen(po, "r");
	len = f ? fread(buf, 1, n - 1, f) : 0;
	if (f)
		fclose(f);
	buf[len] = '\0';
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	if (!len)
		snprintf(buf, n, "<no jq output>");
	return buf;
}

/* mxguard ARGS (NULL-terminated) run, then `jq -r FILTER` over its stdout;
 * the result as jq_result() gives it. Every process is a tracked child,
 * none a shell pipeline. */
static const char *mxg_jq(char *buf, size_t n, const char *filter,
			  const char *a0, ...)
{
	va_list ap;
	pid_t pid;
	int rc;

	va_start(ap, a0);
	rc = mxg_v("cmd.out", "cmd.err", a0, ap);
	va_end(ap);
	if (rc) {
		snprintf(buf, n, "<mxguard %s exited %d: %s>", a0, rc,
			 first_line("cmd.err"));
		return buf;
	}
	pid = jq_start(filter, "cmd.out", "jq.out", "jq.err");
	if (pid > 0)
		G.child = pid;
	return jq_result(pid, "jq.out", "jq.err", buf, n);
}

/* `block list --feed probe --json`: its length, the /96s the sync added,
 * the /100s it removed, as "N N N". A V6P /100 may end in ":a1::/100" too
 * ("2001:db8:102:a1::/100"); a nested one has one more group. String tests
 * only: a regex over a million entries costs jq seconds. */
#define LIST_FILTER ".block | length, " \
	"([.[] | select(.cidr | endswith(\":b2:c3::/96\"))] | length), " \
	"([.[] | select(.cidr | endswith(\":a1::/100\")) " \
	"| select(.cidr | split(\":\") | length == 7)] | length)"

/* ---- cases ---------------------------------------------------------------- */

#define PER_KIND 1024

/* The TTL entry in `block list --json`: how many times listed, and whether
 * expired ("absent" when not listed). */
#define TTL_FILTER "[.block[] | select(.cidr == \"198.18.77.7/32\")] | \"\\(length) \\(if length > 0 then .[0].expired else \"absent\" end)\""

/* Sources in both lists: hosts of both families, sources covered by IPv4
 * and IPv6 prefixes, and sources under a /64 that stays while a nested /100
 * is removed or a nested /96 is added. */
static const enum kind common_kinds[] = {
	K_V4H, K_V4P, K_V6P, K_V6H, K_V6N, K_NEW_V6N,
};
#define N_COMMON (sizeof(common_kinds) / sizeof(common_kinds[0]) * PER_KIND)

static int make_common(struct probe *p)
{
	size_t nk = sizeof(common_kinds) / sizeof(common_kinds[0]), j;
	struct probe *tmp = calloc(N_COMMON, sizeof(*tmp));
	int err = 0;

	if (!tmp)
		return -ENOMEM;
	for (j = 0; j < nk && !err; j++)
		/* Nested /100: removed itself, its parent stays. */
		err = sample(tmp + j * PER_KIND, common_kinds[j], PER_KIND,
			     common_kinds[j] == K_V6N ? 0 : 1);
	/* Interleaved, so every stretch of the loop covers every kind. */
	for (j = 0; j < N_COMMON && !err; j++)
		p[j] = tmp[(j % nk) * PER_KIND + j / nk];
	free(tmp);
	return err;
}

/* trigger != NULL: SIGKILL the controller as soon as that source (one the
 * new list adds) drops, i.e. after its adds and before or during its
 * removals: a sync half applied. Checks named kill9__*. */
static int sync_probe(const struct probe *common, size_t ncommon,
		      const struct probe *trigger)
{
	unsigned kill_ms = trigger ? 1 : 0;
	char *argv[] = { "timeout", "-k", "2", CMD_TIMEOUT, "ip", "netns", "exec",
			 G.ns, G.bin, "block", "sync", NULL, "--feed", "probe",
			 NULL };
	char p_new[256], out[256], err[256];
	__u64 t0, t1, deadline;
	size_t probes = 0, missed = 0, errs = 0, i = 0, b;
	int rc, st, timed_out = 0, killed = 0;
	pid_t pid, w;
	/* Without timeout(1) in front, the PID is mxguard itself (ip netns
	 * exec execs it), so SIGKILL reaches the controller. */
	char **av = kill_ms ? argv + 4 : argv;

	tmp_path(p_new, sizeof(p_new), "new.txt");
	tmp_path(out, sizeof(out), "sync.out");
	tmp_path(err, sizeof(err), "sync.err");
	argv[11] = p_new;
	t0 = mono_ns();
	deadline = t0 + SYNC_DEADLINE_S * NS_PER_S;
	pid = spawn(av, out, err);
	if (pid < 0) {
		fail_setup("fork block sync", strerror(-pid));
		return -1;
	}
	G.child = pid;
	/* Probe until the sync has exited; check it every 64 probes. */
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			fail_setup("waitpid block sync", strerror(errno));
			return -1;
		}
		if (trigger && !killed && probe_run(trigger) == XDP_DROP) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		if (mono_ns() > deadline) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
			timed_out = 1;
			break;
		}
		for (b = 0; b < (trigger && !killed ? 1u : 64u); b++, i = (i + 1) % ncommon) {
			const struct probe *p = &common[i];
			int act = probe_run(p);

			probes++;
			if (act == XDP_DROP)
				continue;
			if (act < 0)
				errs++;
			else
				missed++;
			if (missed + errs <= 5)
				printf("# sync: probe %zu at %.3f s: %s (%s) got %s\n",
				       probes, (mono_ns() - t0) / 1e9, p->src,
				       kind_name[p->kind], act_name(act));
		}
	}
	G.child = 0;
	t1 = mono_ns();
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (kill_ms) {
		printf("# kill9: %zu probes in %.2f s, %zu not dropped, %zu errors\n",
		       probes, (t1 - t0) / 1e9, missed, errs);
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
			printf("PASS kill9__controller_killed_after_its_adds\n");
			check_passed++;
		} else {
			printf("SKIP kill9__controller_killed_after_its_adds: the sync finished (exit %d) before the kill landed\n",
			       rc);
		}
		CHECK_EQ("kill9__every_common_probe_dropped", 0, missed);
		CHECK_EQ("kill9__no_test_run_errors", 0, errs);
		return 0;
	}
	printf("# sync: %zu probes in %.2f s while it ran (%.0f/s), %zu not dropped, %zu errors; it said: %s\n",
	       probes, (t1 - t0) / 1e9, probes / ((t1 - t0) / 1e9), missed, errs,
	       first_line("sync.out"));
	if (rc)
		printf("# sync stderr: %s\n", first_line("sync.err"));
	CHECK("sync__finishes_within_deadline", !timed_out);
	CHECK_EQ("sync__exit_status", 0, rc);
	CHECK_EQ("sync__every_common_probe_dropped_during_sync", 0, missed);
	CHECK_EQ("sync__no_test_run_errors", 0, errs);
	if (probes >= MIN_PROBES) {
		printf("PASS sync__enough_probes_during_sync\n");
		check_passed++;
	} else {
		printf("FAIL sync__enough_probes_during_sync: expected >= %d, got %zu\n",
		       MIN_PROBES, probes);
		check_failed++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct probe common[N_COMMON], removed[4 * 25], added[N_ADD];
	struct sigaction sa = { .sa_handler = on_signal };
	const enum kind gone_kinds[] = { K_V4H, K_V4P, K_V6P, K_V6H };
	const enum kind add_kinds[] = { K_NEW_V4H, K_NEW_V4P, K_NEW_V6H };
	char want[64], list_res[256] = "";
	pid_t jq_pid = 0;
	__u64 t_jq = 0;
	size_t n_new = 0, nadd = 0, j;
	char old_path[256], msg[512];
	__u64 t_start = mono_ns(), t;
	struct probe ctl, ttl;
	int rc;

	if (argc > 1) {
		fprintf(stderr, "usage: %s (no arguments; root)\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(cleanup);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (geteuid()) {
		fail_setup("root", "needed for namespaces, bpffs and BPF_PROG_TEST_RUN");
		return 1;
	}
	if (setup())
		return CHECK_DONE();

	/* Probe sets, built before anything runs so the loop only probes. */
	if (make_common(common)) {
		fail_setup("probe sources", "sampling failed");
		return CHECK_DONE();
	}
	for (j = 0; j < 4; j++)
		if (sample(removed + 25 * j, gone_kinds[j], 25, 0)) {
			fail_setup("removed sample", kind_name[gone_kinds[j]]);
			return CHECK_DONE();
		}
	for (j = 0; j < 3; j++) {
		if (sample(added + nadd, add_kinds[j], kind_n[add_kinds[j]], 1)) {
			fail_setup("added sources", kind_name[add_kinds[j]]);
			return CHECK_DONE();
		}
		nadd += kind_n[add_kinds[j]];
	}
	if (probe_make(&ctl, K_MAX, "198.18.50.9") ||
	    probe_make(&ttl, K_MAX, "198.18.77.7")) {
		fail_setup("probe frames", "frame_build failed");
		return CHECK_DONE();
	}
	ctl.kind = ttl.kind = K_V4H;

	rc = write_lists(&n_new);
	if (rc) {
		fail_setup("write the lists", strerror(-rc));
		return CHECK_DONE();
	}
	printf("# lists: old %u entries, new %zu (%u removed, %u added)\n", N_OLD,
	       n_new, (unsigned)(N_OLD + N_ADD - n_new), N_ADD);

	tmp_path(old_path, sizeof(old_path), "old.txt");
	t = mono_ns();
	rc = mxg("block", "load", old_path, "--feed", "probe", NULL);
	if (rc) {
		snprintf(msg, sizeof(msg), "exit %d: %s", rc, first_line("cmd.err"));
		fail_setup("mxguard block load old.txt --feed probe", msg);
		return CHECK_DONE();
	}
	printf("# load: %.2f s: %s\n", (mono_ns() - t) / 1e9, first_line("cmd.out"));

	/* The harness sees both verdicts: common sources drop, an unlisted
	 * one passes, the entries about to be removed still drop. */
	check_all("sync__common_sources_drop_before", common, N_COMMON, XDP_DROP);
	CHECK_EQ("sync__unlisted_control_passes", XDP_PASS, probe_run(&ctl));
	check_all("sync__to_be_removed_drop_before", removed, 4 * 25, XDP_DROP);

	/* A controller killed half-way through the sync: the program keeps
	 * filtering, no common entry is missing, the pins still open; the
	 * real sync below then finishes the job. */
	{
		/* An added source no old entry covers yet: when it drops,
		 * the sync has written its adds. */
		const struct probe *trig = NULL;

		static struct probe ack;

		/* An ACK, not a SYN: a block drops it, a rate limit does not,
		 * so probing it over and over cannot fire the trigger. */
		for (j = 0; j < nadd && !trig; j++) {
			struct frame_spec fs = {
				.l3 = strchr(added[j].src, ':') ? FRAME_IPV6 : FRAME_IPV4,
				.src = added[j].src, .dport = 25,
				.tcp_flags = FRAME_TCP_ACK,
			};
			int len = frame_build(&fs, ack.frame, sizeof(ack.frame), NULL);

			if (len < 0)
				break;
			ack.len = len;
			ack.kind = added[j].kind;
			snprintf(ack.src, sizeof(ack.src), "%s", added[j].src);
			if (probe_run(&ack) == XDP_PASS)
				trig = &ack;
		}
		if (!trig) {
			fail_setup("kill9 trigger", "every added source drops already");
			return CHECK_DONE();
		}
		if (sync_probe(common, N_COMMON, trig))
			return CHECK_DONE();
	}
	check_all("kill9__common_sources_drop_after", common, N_COMMON, XDP_DROP);
	rc = mxg("status", "--json", NULL);
	CHECK_EQ("kill9__pins_still_open", 0, rc);

	if (sync_probe(common, N_COMMON, NULL))
		return CHECK_DONE();

	check_all("sync__common_sources_drop_after", common, N_COMMON, XDP_DROP);
	check_all("sync__removed_sources_pass", removed, 4 * 25, XDP_PASS);
	check_all("sync__added_sources_drop", added, nadd, XDP_DROP);
	/* The listing, then jq over it in the background (a million entries
	 * take jq long) while the TTL cases run. */
	t = mono_ns();
	rc = mxg_to("list.json", "list.err", "block", "list", "--feed", "probe",
		    "--json", NULL);
	printf("# block list --feed probe --json: %.2f s\n", (mono_ns() - t) / 1e9);
	if (rc) {
		snprintf(list_res, sizeof(list_res), "<block list exited %d: %s>",
			 rc, first_line("list.err"));
	} else {
		jq_pid = jq_start(LIST_FILTER, "list.json", "list.jq", "list.jqerr");
		if (jq_pid > 0)
			G.bg = jq_pid;
	}
	t_jq = mono_ns();

	/* TTL: the program stops dropping at expiry by itself. */
	rc = mxg("block", "add", "198.18.77.7", "--ttl", "2s", NULL);
	t = mono_ns();
	CHECK_EQ("ttl__block_add_exit_status", 0, rc);
	CHECK_EQ("ttl__drops_before_expiry", XDP_DROP, probe_run(&ttl));
	sleep_until(t + 2500 * NS_PER_MS);
	/* The program checks expiry on lookup; nothing removed it yet. */
	CHECK_EQ("ttl__passes_after_expiry", XDP_PASS, probe_run(&ttl));
	CHECK_STR("ttl__listed_expired_until_gc", "1 true",
		  mxg_jq(msg, sizeof(msg), TTL_FILTER, "block", "list", "--feed",
			 "manual", "--json", NULL));
	rc = mxg("block", "gc", NULL);
	CHECK_EQ("gc__exit_status", 0, rc);
	CHECK_STR("gc__removed_expired_entry", "0 absent",
		  mxg_jq(msg, sizeof(msg), TTL_FILTER, "block", "list", "--feed",
			 "manual", "--json", NULL));
	CHECK_EQ("gc__expired_source_still_passes", XDP_PASS, probe_run(&ttl));
	check_all("gc__common_sources_still_drop", common, N_COMMON, XDP_DROP);
	check_all("gc__added_sources_still_drop", added, nadd, XDP_DROP);

	if (jq_pid) {
		jq_result(jq_pid, "list.jq", "list.jqerr", list_res,
			  sizeof(list_res));
		printf("# jq over the listing: %.2f s\n", (mono_ns() - t_jq) / 1e9);
	}
	snprintf(want, sizeof(want), "%zu %u 0", n_new, kind_n[K_NEW_V6N]);
	/* new list size, every nested /96 added, every nested /100 gone */
	CHECK_STR("sync__list_json_length_added_96_removed_100", want, list_res);
	printf("# runtime %.1f s\n", (mono_ns() - t_start) / 1e9);
	printf("# %d checks passed, %d failed\n", check_passed, check_failed);
	return CHECK_DONE();
}

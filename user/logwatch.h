/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Mail-log detector for brute force and leaked passwords (Postfix SASL,
 * Dovecot auth), plus a non-blocking, rotation-safe log file follower. */
#ifndef MXG_LOGWATCH_H
#define MXG_LOGWATCH_H

#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "mxguard.h"

/*
 * The detector is pure: no I/O, no clock. The caller feeds one log line at a
 * time with its own wall-clock seconds and gets back actions to apply.
 *
 * What it recognises (syslog "Nov 23 09:00:01 mx1 postfix/smtpd[1234]: ...",
 * RFC 3339 syslog, Dovecot's own log file and `journalctl -o cat` lines alike,
 * because it looks for the message, not the prefix):
 *  - Postfix:  "warning: HOST[ADDR](:PORT)?: SASL MECH authentication failed"
 *              (not "Connection lost to authentication server" nor
 *              "Invalid authentication mechanism": neither is a guess)
 *  - Postfix:  "QUEUEID: client=HOST[ADDR], sasl_method=M, sasl_username=U"
 *              one authenticated message of account U from ADDR
 *  - Dovecot:  "*-login: ... (auth failed, N attempts in S secs): ... rip=ADDR"
 *              counts N
 *  - Dovecot:  "auth: DRIVER(USER,ADDR[,<SESSION>]): unknown user" and
 *              "Password mismatch", "pam_authenticate() failed" (also from
 *              auth-worker). With auth_verbose=yes Dovecot logs each attempt
 *              here and again in the login summary; attempts already counted
 *              from auth lines are subtracted from the next summary of that
 *              address, so each attempt counts once.
 * Injection: usernames and passwords are attacker text. Only the first
 * "SASL " of a line is considered and it must follow "warning: HOST[ADDR]:";
 * Dovecot's rip= is taken from the last " rip=" (nothing after it is client
 * text); an auth line's "(USER,ADDR...)" must have no space or parenthesis
 * (Dovecot's default auth_username_chars guarantees that).
 * Loopback and unspecified client addresses are ignored.
 *
 * Clients are tracked per IPv4 address and per IPv6 /v6_prefix (default /64,
 * the program's own source key): an attacker cannot dodge the count by
 * hopping within its /64, and a ban covers that prefix.
 *
 * Memory is bounded: at most max_addrs client records of
 * (60 + 8 * auth_max) bytes and max_accounts account records of
 * (632 + 20 * max(acct_max_addrs + 1, 8)) bytes, each rounded up to 8,
 * allocated once: 9 MiB and 54 MiB of address space at the defaults, of
 * which only the records in use become resident. When full, the least
 * recently active record is evicted; its counts start again from zero.
 * Accounts only come from successful authentication (sasl_username), so an
 * attacker cannot fill that table without credentials.
 */

#define MXG_LW_MAX_TRACKED    65536 /* default max_addrs and max_accounts */
#define MXG_LW_TRACKED_CAP  4194304 /* largest max_addrs and max_accounts */
#define MXG_LW_AUTH_MAX_CAP     100 /* largest auth_max */
#define MXG_LW_ACCT_ADDRS_CAP    63 /* largest acct_max_addrs */
#define MXG_LW_ALERT_ADDRS        8 /* addresses an alert names */
#define MXG_LW_REASON_LEN        96 /* mxguard block --reason takes 95 bytes */
#define MXG_LW_ACCOUNT_LEN      128
#define MXG_LW_JSON_LEN         512
/* Most actions one line can produce: an alert and a ban for every address
 * of the account. An out[] this large never loses an action. */
#define MXG_LW_MAX_ACTIONS (MXG_LW_ACCT_ADDRS_CAP + 2)

struct mxg_logwatch_cfg {
	unsigned auth_max;       /* failures from one client that ban it, 1..100;
				  * 0: no auth-failure bans */
	unsigned auth_window_s;  /* ... within this sliding window (> 0) */
	unsigned ban_ttl_s;      /* TTL of every ban; 0: the ban never expires */
	unsigned acct_max_addrs; /* alert when an account is used from more
				  * clients than this, 1..63; 0: off */
	unsigned acct_max_msgs;  /* alert when an account sends more messages
				  * than this; 0: off */
	unsigned acct_window_s;  /* ... within this sliding window (> 0 if
				  * either is on). Message counts slide in
				  * steps of max(1, ceil(window / 60)) s. */
	int acct_ban;            /* on an alert, also ban the account's clients
				  * (and new ones while the alert window lasts) */
	unsigned v6_prefix;      /* IPv6 clients counted and banned per /N,
				  * 48..128; 0: 64 */
	unsigned max_addrs;      /* client records; 0: MXG_LW_MAX_TRACKED */
	unsigned max_accounts;   /* account records; 0: MXG_LW_MAX_TRACKED;
				  * both at most MXG_LW_TRACKED_CAP */
};

enum {
	MXG_LW_BAN = 1,   /* block cidr for ttl_s, with reason */
	MXG_LW_ALERT = 2, /* an account looks compromised: tell a human */
};

struct mxg_lw_action {
	int type;                    /* MXG_LW_BAN or MXG_LW_ALERT */
	struct mxg_cidr cidr;        /* BAN: what to block (IPv4 /32 or IPv6
				      * /v6_prefix), as mxg_block_add takes it */
	union mxg_addr addr;         /* BAN: the client address last seen */
	__u32 ttl_s;                 /* BAN: cfg ban_ttl_s (0: no expiry) */
	__u32 count;                 /* failures, addresses or messages that
				      * tripped the threshold */
	char reason[MXG_LW_REASON_LEN];   /* "12 SASL auth failures in 10m
					   * (postfix)"; fits block --reason */
	char account[MXG_LW_ACCOUNT_LEN]; /* ALERT and the BANs it caused;
					   * "" for auth-failure bans */
	char json[MXG_LW_JSON_LEN];  /* the action as one JSON object, no
				      * newline: {"event":"ban"|"account_alert",
				      * "time":..., ...} */
};

/* What one line says, for tests and for explaining a line to a user. */
enum {
	MXG_LW_EV_NONE = 0,
	MXG_LW_EV_AUTH_FAIL,    /* one failed attempt (Postfix, Dovecot auth) */
	MXG_LW_EV_AUTH_SUMMARY, /* Dovecot login: "auth failed, N attempts" */
	MXG_LW_EV_MESSAGE,      /* Postfix: a message from a SASL account */
};

enum {
	MXG_LW_SRC_POSTFIX = 1,
	MXG_LW_SRC_DOVECOT = 2,
};

struct mxg_lw_event {
	int kind;                         /* MXG_LW_EV_* */
	int source;                       /* MXG_LW_SRC_* */
	union mxg_addr addr;              /* the client */
	__u32 count;                      /* attempts; 1 unless a summary */
	char account[MXG_LW_ACCOUNT_LEN]; /* MESSAGE: sasl_username (cut to
					   * 127 bytes); else "" */
};

struct mxg_lw_stats {
	__u64 lines;           /* lines fed */
	__u64 auth_failures;   /* failed attempts counted */
	__u64 messages;        /* authenticated messages counted */
	__u64 bans;            /* BAN actions produced */
	__u64 alerts;          /* ALERT actions produced */
	__u64 dropped;         /* actions lost because out[] was too small */
	__u64 addrs_evicted;   /* client records evicted while full */
	__u64 accounts_evicted;
	__u32 addrs;           /* client records in use */
	__u32 accounts;        /* account records in use */
};

struct mxg_logwatch;

/* auth 10 failures in 10m, ban 1h; account alert at > 10 clients or > 300
 * messages in 1h, no account bans; IPv6 per /64; 65536 records each. */
void mxg_logwatch_cfg_default(struct mxg_logwatch_cfg *c);

/* Checks the configuration (-EINVAL, *why set to a static reason) and
 * allocates the tables (-ENOMEM). */
int mxg_logwatch_init(struct mxg_logwatch **w, const struct mxg_logwatch_cfg *c,
		      const char **why);
void mxg_logwatch_free(struct mxg_logwatch *w);

/* Feed one line (with or without its '\n'; need not be NUL-terminated) seen
 * at wall-clock now_s. A clock that steps back is held at the latest time
 * seen. Writes up to max_out actions to out and returns how many; further
 * actions are counted in stats.dropped (use MXG_LW_MAX_ACTIONS). Lines that
 * are none of the above are ignored (return 0). */
int mxg_logwatch_line(struct mxg_logwatch *w, const char *line, size_t len,
		      __u64 now_s, struct mxg_lw_action *out, int max_out);

void mxg_logwatch_stats(const struct mxg_logwatch *w, struct mxg_lw_stats *s);

/* Classify one line without state: returns ev->kind (MXG_LW_EV_NONE, 0,
 * for a line that is none of the above). */
int mxg_lw_parse(const char *line, size_t len, struct mxg_lw_event *ev);

/*
 * Follower: reads what a log file gained since the last call, line by line,
 * never blocking. Rotation by rename (or delete) and re-create is detected
 * by the path naming another inode: the old file is read to its end first,
 * and kept open (and read) until the new file gets data, for writers that
 * reopen late. copytruncate is detected by the file shrinking below the read
 * position: reading restarts at 0 (lines written between the copy and the
 * truncation are lost to every reader; that is copytruncate's flaw).
 * Lines longer than MXG_FOLLOW_LINE_MAX bytes are skipped whole.
 * Path "-" is stdin (set O_NONBLOCK); its end sets mxg_follow_eof().
 */
#define MXG_FOLLOW_LINE_MAX 8192

enum {
	MXG_FOLLOW_FROM_START = 1, /* read the existing content too; by
				    * default start at the end, so that a
				    * restart does not replay old failures */
};

struct mxg_follow_stream {
	int fd;                /* -1: closed */
	int wd;                /* inotify watch on the inode, or -1 */
	dev_t dev;
	ino_t ino;
	off_t pos;             /* bytes consumed */
	size_t len;            /* bytes of an unfinished line in part */
	int skipping;          /* inside an over-long line */
	char *part;            /* MXG_FOLLOW_LINE_MAX + 1 bytes */
};

/* Fields are private to logwatch.c. */
struct mxg_follow {
	char *path;
	int is_stdin;
	int eof;               /* stdin ended */
	int stdin_flags;       /* restored on close; -1: not changed */
	int ifd;               /* inotify, or -1 */
	int dir_wd;
	struct mxg_follow_stream cur, old; /* old: the rotated file, draining */
	char *chunk;           /* read buffer */
	__u64 skipped;         /* over-long lines skipped */
	__u64 rotations;
	__u64 truncations;
};

/* 0 or -errno (the file must exist). */
int mxg_follow_open(struct mxg_follow *f, const char *path, unsigned flags);

/* An fd for poll(POLLIN) that becomes readable when there may be something
 * to read: an inotify fd for files (-1 if inotify is unavailable), 0 for
 * stdin. Call mxg_follow_read() on wake-up and also every few seconds
 * anyway: inotify can overflow and does not see every file system. */
int mxg_follow_fd(const struct mxg_follow *f);

/* Calls cb once per complete line (NUL-terminated, without '\n' or a
 * trailing '\r'), returns the number of lines delivered or -errno. */
int mxg_follow_read(struct mxg_follow *f,
		    void (*cb)(const char *line, size_t len, void *ctx),
		    void *ctx);

/* 1 once stdin reached its end (never for a file). */
int mxg_follow_eof(const struct mxg_follow *f);

void mxg_follow_close(struct mxg_follow *f);

#endif /* MXG_LOGWATCH_H */

#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# fail2ban -> mxguard end to end: a real fail2ban-server (private config,
# socket, pidfile and log in the test's temp dir) watches a Postfix log that
# the test appends SASL failures to, and bans through
# tools/fail2ban/action.d/mxguard.conf into mxguard attached on the server
# veth of the sandbox; the banned client's SYNs are dropped; unbanip removes
# only what fail2ban put there.
# Usage: tests/e2e/test_fail2ban.sh   (root; installs fail2ban if missing)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

JAIL=postfix-sasl
BANTIME=60
# How long fail2ban may take from a log line to a finished action: it polls
# the file every second and runs actions from its own thread.
F2B_WAIT=20

BAN4=198.18.0.50     # 3 failures: banned
BELOW4=198.18.0.51   # 2 failures: not banned
HAND4=198.18.0.52    # blocked by hand first, then 3 failures
BAN6=2001:db8::50    # 3 failures: banned

F2B_DIR='' F2B_SOCK='' F2B_PID_FILE='' MAIL_LOG='' F2B_PID=''

# ---- fail2ban ---------------------------------------------------------------

f2b_require() {
	command -v fail2ban-server >/dev/null ||
		mxg_fatal setup "fail2ban not installed: run 'make deps'"
	for t in fail2ban-server fail2ban-client; do
		command -v "$t" >/dev/null || mxg_fatal setup "command $t not found"
	done
	[ -f /etc/fail2ban/filter.d/postfix.conf ] ||
		mxg_fatal setup "fail2ban's stock filter.d/postfix.conf is missing"
}

f2b() {
	timeout -k 2 "$MXG_CMD_TIMEOUT" fail2ban-client -c "$F2B_DIR" \
		-s "$F2B_SOCK" "$@"
}

f2b_log_tail() {
	tail -n 5 "$F2B_DIR/server.log" 2>/dev/null | tr '\n' ' ' | cut -c1-600
}

# A postfix/smtpd SASL failure from $1, stamped now (fail2ban ignores lines
# older than findtime). LC_ALL=C: syslog month names are English.
fail_line() {
	local d
	d=$(LC_ALL=C date '+%b %e %H:%M:%S')
	printf '%s mx1 postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
		"$d" $((RANDOM + 1000)) "$1"
}

# fail2ban's own files, nothing from /etc but the stock jail and filters;
# our action and jail example exactly as shipped, then the test's overrides.
f2b_setup() {
	local mxg_cmd
	F2B_DIR=$MXG_TMP/f2b
	F2B_SOCK=$F2B_DIR/f2b.sock
	F2B_PID_FILE=$F2B_DIR/f2b.pid
	MAIL_LOG=$MXG_TMP/mail.log
	mkdir -p "$F2B_DIR/filter.d" "$F2B_DIR/action.d" "$F2B_DIR/jail.d" ||
		mxg_fatal setup "mkdir $F2B_DIR"
	if ! cp /etc/fail2ban/jail.conf /etc/fail2ban/paths-common.conf \
		/etc/fail2ban/paths-debian.conf "$F2B_DIR/" ||
	   ! cp /etc/fail2ban/filter.d/common.conf \
		/etc/fail2ban/filter.d/postfix.conf "$F2B_DIR/filter.d/" ||
	   ! cp "$MXG_ROOT/tools/fail2ban/action.d/mxguard.conf" "$F2B_DIR/action.d/" ||
	   ! cp "$MXG_ROOT/tools/fail2ban/jail.d/mxguard-postfix.conf" "$F2B_DIR/jail.d/"; then
		mxg_fatal setup "copying fail2ban configuration"
	fi
	cat >"$F2B_DIR/fail2ban.conf" <<-EOF
		[Definition]
		loglevel = INFO
		logtarget = $F2B_DIR/server.log
		socket = $F2B_SOCK
		pidfile = $F2B_PID_FILE
		syslogsocket = auto
		dbfile = :memory:
	EOF
	mxg_cmd="env MXGUARD_PIN_DIR=$MXGUARD_PIN_DIR ip netns exec $MXG_SRV $MXG_BIN"
	cat >"$F2B_DIR/jail.local" <<-EOF
		[DEFAULT]
		usedns = no

		[$JAIL]
		logpath  = $MAIL_LOG
		backend  = polling
		maxretry = 3
		findtime = 10m
		bantime  = $BANTIME
		action   = mxguard[mxguard="$mxg_cmd"]
	EOF
	printf '%s mx1 postfix/master[900]: daemon started -- version 3.7.11, configuration /etc/postfix\n' \
		"$(LC_ALL=C date '+%b %e %H:%M:%S')" >"$MAIL_LOG"
}

f2b_start() {
	local _
	fail2ban-server -f -x -c "$F2B_DIR" -s "$F2B_SOCK" -p "$F2B_PID_FILE" \
		--logtarget "$F2B_DIR/server.log" --loglevel INFO \
		>"$F2B_DIR/stdout" 2>&1 &
	F2B_PID=$!
	MXG_PIDS+=("$F2B_PID")
	for _ in $(seq 100); do
		f2b ping 2>/dev/null | grep -q pong && return 0
		kill -0 "$F2B_PID" 2>/dev/null || break
		sleep 0.2
	done
	mxg_fatal setup "fail2ban-server did not start: $(head -c 400 "$F2B_DIR/stdout") $(f2b_log_tail)"
}

# Before the sandbox goes: fail2ban unbans through mxguard on its way out, so
# it must end while the namespace and the pins are still there.
f2b_stop() {
	local _
	[ -n "$F2B_PID" ] || return 0
	kill -TERM "$F2B_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$F2B_PID" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$F2B_PID" 2>/dev/null
	wait "$F2B_PID" 2>/dev/null
	mxg_forget_pid "$F2B_PID"
	F2B_PID=
}

# ---- mxguard views ----------------------------------------------------------

block_json() {
	mxg block list --json 2>/dev/null
}

# The feed owning CIDR, or "none".
feed_of() {
	local v
	v=$(mxg_jq "[.block[] | select(.cidr == \"$1\") | .feed] | first // \"none\"" "$(block_json)")
	echo "$v"
}

# wait_feed CIDR FEED: until CIDR is owned by FEED (or "none"), at most
# F2B_WAIT seconds; prints what it saw last.
wait_feed() {
	local end=$((SECONDS + F2B_WAIT)) got
	while :; do
		got=$(feed_of "$1")
		if [ "$got" = "$2" ] || [ "$SECONDS" -ge "$end" ]; then
			echo "$got"
			return
		fi
		sleep 0.2
	done
}

# wait_f2b_banned ADDR: until fail2ban counts ADDR as banned.
wait_f2b_banned() {
	local end=$((SECONDS + F2B_WAIT))
	while [ "$SECONDS" -lt "$end" ]; do
		f2b get "$JAIL" banned 2>/dev/null | grep -qF "'$1'" && { echo yes; return; }
		sleep 0.2
	done
	echo no
}

# ---- cases ------------------------------------------------------------------

case_setup__attach_and_start() {
	local out
	out=$(mxg attach "$MXG_SRV_IF" --mode "${MXG_XDP_MODE:-auto}" 2>&1) ||
		mxg_fatal setup__attach "mxguard attach $MXG_SRV_IF: $out"
	mxg block add "$HAND4" --reason "blocked by hand" >/dev/null ||
		mxg_fatal setup__hand_block "mxguard block add $HAND4 failed"
	f2b_setup
	f2b_start
	mxg_expect_eq f2b__jail_maxretry "3" "$(f2b get "$JAIL" maxretry 2>/dev/null)"
}

case_ban__reaches_mxguard() {
	local j
	{
		fail_line "$BAN4"; fail_line "$BELOW4"; fail_line "$BAN6"
		fail_line "$BAN4"; fail_line "$BELOW4"; fail_line "$BAN6"
		fail_line "$HAND4"; fail_line "$HAND4"; fail_line "$HAND4"
		fail_line "$BAN4"; fail_line "$BAN6"
	} >>"$MAIL_LOG"
	mxg_expect_eq ban__v4_in_fail2ban_feed fail2ban "$(wait_feed "$BAN4/32" fail2ban)"
	mxg_expect_eq ban__v6_in_fail2ban_feed fail2ban "$(wait_feed "$BAN6/128" fail2ban)"
	[ "$(feed_of "$BAN4/32")" = fail2ban ] ||
		echo "# fail2ban log: $(f2b_log_tail)"
	j=$(mxg block list --feed fail2ban --json)
	mxg_expect_eq ban__listed_by_feed "$BAN4/32" \
		"$(mxg_jq ".block[] | select(.cidr == \"$BAN4/32\") | .cidr" "$j")"
	mxg_expect_eq ban__reason_names_jail "fail2ban $JAIL" \
		"$(mxg_jq ".block[] | select(.cidr == \"$BAN4/32\") | .reason" "$j")"
	mxg_expect_range ban__ttl_is_bantime $((BANTIME - 2)) $((BANTIME + 2)) \
		"$(mxg_jq ".block[] | select(.cidr == \"$BAN4/32\") | ((.expires | fromdateiso8601) - (.added | fromdateiso8601))" "$j")"
	mxg_expect_eq ban__hand_entry_banned_in_fail2ban yes "$(wait_f2b_banned "$HAND4")"
	mxg_expect_eq ban__below_maxretry_not_blocked none "$(feed_of "$BELOW4/32")"
	mxg_expect_eq ban__hand_entry_stays_manual manual "$(feed_of "$HAND4/32")"
}

case_ban__client_dropped() {
	local j
	j=$(mxg_connect "$BAN4" "$MXG_SRV4" 25 5 20)
	mxg_expect_eq drop__banned_client_none_ok 0 "$(mxg_jq .ok "$j")"
	j=$(mxg_connect "$BAN6" "$MXG_SRV6" 25 5 20)
	mxg_expect_eq drop__banned_v6_client_none_ok 0 "$(mxg_jq .ok "$j")"
	j=$(mxg_connect "$BELOW4" "$MXG_SRV4" 25 5 20)
	mxg_expect_eq drop__other_client_all_ok 5 "$(mxg_jq .ok "$j")"
}

case_unban__removes_entry() {
	local j out
	out=$(f2b set "$JAIL" unbanip "$BAN4" 2>/dev/null)
	mxg_expect_eq unban__fail2ban_accepts 1 "$out"
	mxg_expect_eq unban__v4_gone none "$(wait_feed "$BAN4/32" none)"
	mxg_expect_eq unban__v6_still_banned fail2ban "$(feed_of "$BAN6/128")"
	j=$(mxg_connect "$BAN4" "$MXG_SRV4" 25 5 20)
	mxg_expect_eq unban__client_passes_again 5 "$(mxg_jq .ok "$j")"
}

case_unban__leaves_manual_entry() {
	f2b set "$JAIL" unbanip "$HAND4" >/dev/null 2>&1
	# Nothing to wait for: the unban ran when the command returned.
	mxg_expect_eq unban__manual_entry_kept manual "$(feed_of "$HAND4/32")"
}

# ---- main -------------------------------------------------------------------

main() {
	mxg_require_mxguard
	f2b_require
	mxg_sandbox_up
	# fail2ban goes first, while namespace and pins exist; then the
	# sandbox. (exit $rc) hands our status on to mxg_cleanup.
	trap 'rc=$?; f2b_stop; (exit $rc); mxg_cleanup' EXIT
	mxg_client_addr "$BAN4" "$BELOW4" "$HAND4" "$BAN6"
	mxg_server_start 25 120

	case_setup__attach_and_start
	case_ban__reaches_mxguard
	case_ban__client_dropped
	case_unban__removes_entry
	case_unban__leaves_manual_entry
	mxg_done
}

main "$@"

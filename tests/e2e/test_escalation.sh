#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Escalation and alerts in `mxguard run`: a source that runs over its limit
# again and again is banned (feed "escalation") for the configured TTL, the
# ban expires by itself, the alert command gets the ban and a lockdown as
# JSON on stdin, and the offence history survives a restart. A network
# whose bucket refuses (three hosts of one /24 on submission, none over its
# own limit) is logged and alerted once, with its drops, and its end logged
# once the bucket has refilled; a spoofed flood over 20 networks is 10
# named and the rest counted in one line.
set -u
. "$(dirname "$0")/../lib/netns.sh"

M() { ip netns exec "$MXG_SRV" timeout "$MXG_CMD_TIMEOUT" "$MXG_BIN" "$@"; }
ATT=198.18.0.66

MXG_SYNFLOOD=${MXG_SYNFLOOD:-$(dirname "$MXG_CONN")/mxg-synflood}
LOG_MARK=1
mark_log() { LOG_MARK=$(($(wc -l <"$LOG") + 1)); }
log_since() { tail -n +"$LOG_MARK" "$LOG"; }

wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
	local i n=$(($1 * 10)); shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
# jq -e is true on empty input: count instead, on the whole list.
has_ban() {
	local out
	out=$(M block list --json 2>/dev/null) || return 1
	[ "$(jq "[.block[]|select(.feed==\"escalation\" and .cidr==\"$ATT/32\")]|length" <<<"$out")" = 1 ]
}
no_ban() { ! has_ban; }
alert_has() { grep -q "\"event\":\"$1\"" "$MXG_TMP/alerts.jsonl" 2>/dev/null; }
conn() { mxg_connect "$ATT" "$MXG_SRV4" 25 "$1" "$2"; }

# One limit episode: a burst over the limit, then quiet until the bucket is
# full again (interval 1 s x burst 2) and the service has polled.
episode() {
	conn 5 20 >/dev/null
	sleep 3
}

case_escalation() {
	local out
	episode
	mxg_expect_eq escalation__no_ban_after_one_episode 1 "$(no_ban && echo 1)"
	episode
	wait_for 5 has_ban
	mxg_expect_eq escalation__banned_after_two_episodes 0 $?
	out=$(M block list --feed escalation --json)
	mxg_expect_match escalation__reason_names_repeat_offender "repeat offender: 2 limit episodes" \
		"$(mxg_jq ".block[]|select(.cidr==\"$ATT/32\")|.reason" "$out")"
	out=$(conn 3 10)
	mxg_expect_eq escalation__banned_source_refused 0 "$(mxg_jq .ok "$out")"
	wait_for 5 alert_has ban
	mxg_expect_eq escalation__alert_command_got_ban 0 $?
	mxg_expect_match escalation__alert_json "\"source\":\"$ATT/32\".*\"ttl_s\":5" \
		"$(grep '"event":"ban"' "$MXG_TMP/alerts.jsonl" | head -1)"
	# The 5 s ban expires in the kernel by itself.
	sleep 6
	out=$(conn 1 10)
	mxg_expect_eq escalation__ban_expires_by_itself 1 "$(mxg_jq .ok "$out")"
	grep -q "repeat offender banned.*source=$ATT/32 ban=1" "$LOG"
	mxg_expect_eq escalation__ban_logged 0 $?
}

case_lockdown_alert() {
	sleep 1.2 # min_interval 1s
	M mode lockdown >/dev/null
	wait_for 5 alert_has lockdown
	mxg_expect_eq alert__lockdown_reaches_command 0 $?
	M mode enforce >/dev/null
}

NET=198.18.52
case_network_limit() {
	local h ok a
	sleep 1.2 # min_interval 1s since the last alert
	for h in 11 12 13; do
		mxg_connect "$NET.$h" "$MXG_SRV4" 587 4 50 >"$MXG_TMP/net$h.json"
	done
	# Burst 3, and a fourth if the 1 s refill fell within the run.
	ok=$(jq -s 'map(.ok)|add' "$MXG_TMP/net11.json" "$MXG_TMP/net12.json" "$MXG_TMP/net13.json")
	mxg_expect_match network__bucket_admits_its_burst "^[34]$" "$ok"
	wait_for 6 grep -q "msg=\"network limited\" network=$NET.0/24 service=submission" "$LOG"
	mxg_expect_eq network__limited_logged 0 $?
	mxg_expect_eq network__logged_once 1 "$(grep -c "msg=\"network limited\" network=$NET.0/24" "$LOG")"
	# The counts as read when the episode was noticed (the reading may
	# fall while the hosts still connect); the end line has the final ones.
	mxg_expect_match network__log_has_counts \
		"network=$NET.0/24 service=submission syns=[0-9]+ drops=[1-9][0-9]* shared=0 limit=60/min burst=3\$" \
		"$(grep "msg=\"network limited\" network=$NET.0/24" "$LOG")"
	wait_for 5 alert_has network_limit
	mxg_expect_eq network__alert_command_got_it 0 $?
	a=$(grep -m1 '"event":"network_limit"' "$MXG_TMP/alerts.jsonl")
	mxg_expect_match network__alert_names_network "^$NET.0/24 submission [1-9][0-9]* 1\$" \
		"$(jq -r '"\(.networks[0].network) \(.networks[0].service) \(.networks[0].drops) \(.new)"' <<<"$a")"
	# 60/min, burst 3: full again 3 s after the last admitted SYN.
	wait_for 10 grep -q "msg=\"network limit ended\" network=$NET.0/24 service=submission syns=12 drops=$((12 - ok))" "$LOG"
	mxg_expect_eq network__end_logged 0 $?
}

# A spoofed flood over 20 IPv4 /24s on submission (mxg-synflood,
# concentrated, 2,000 SYNs, bounded in packets and seconds): every network
# refuses, and the service names at most 10 per reading and counts the rest
# in one line, so the named and the counted add up to the 20.
case_network_flood() {
	local mac named more
	mac=$(ip -n "$MXG_SRV" -j link show "$MXG_SRV_IF" | jq -r '.[0].address')
	mark_log
	timeout -k 2 15 ip netns exec "$MXG_CLI" "$MXG_SYNFLOOD" --ifname "$MXG_CLI_IF" \
		--dst-mac "$mac" --dst4 "$MXG_SRV4" --port 587 --mode concentrated \
		--nets 20 --v6-share 0 --sources 400 --count 2000 --seconds 10 \
		>"$MXG_TMP/flood.json" 2>"$MXG_TMP/flood.err" ||
		mxg_fatal network_flood "mxg-synflood: $(head -c 300 "$MXG_TMP/flood.err")"
	more_logged() { log_since | grep -q 'msg="more networks limited"'; }
	wait_for 6 more_logged
	mxg_expect_eq network_flood__rest_counted_in_one_line 0 $?
	sleep 2.5 # one more reading: a flood split over two is counted in both
	named=$(log_since | grep -c 'msg="network limited" network=198\.18\.')
	more=$(log_since | grep -o 'msg="more networks limited" count=[0-9]*' |
		awk -F= '{s += $NF} END {print s + 0}')
	mxg_expect_eq network_flood__named_plus_counted 20 $((named + more))
	mxg_expect_match network_flood__at_most_10_named_per_reading "^(10|[0-9])$" \
		"$(log_since | grep 'msg="network limited"' | awk '{print $1}' | sort | uniq -c |
			awk '{print $1}' | sort -n | tail -1)"
}

# [logwatch]: three SASL failures of one client in the followed mail log ban
# it into feed "logwatch"; an allowlisted client with as many is not banned.
case_logwatch() {
	local i out
	M allow add 198.18.0.78 --comment "partner webmail" >/dev/null
	for i in 1 2 3; do
		echo "Nov 23 09:00:0$i mx1 postfix/submission/smtpd[2173$i]: warning: unknown[198.18.0.77]: SASL LOGIN authentication failed: UGFzc3dvcmQ6" >>"$MXG_TMP/mail.log"
		echo "Nov 23 09:00:0$i mx1 postfix/submission/smtpd[2174$i]: warning: unknown[198.18.0.78]: SASL PLAIN authentication failed: " >>"$MXG_TMP/mail.log"
	done
	lw_banned() { M block list --json 2>/dev/null | jq -e '[.block[]|select(.feed=="logwatch" and .cidr=="198.18.0.77/32")]|length==1' >/dev/null; }
	wait_for 6 lw_banned
	mxg_expect_eq logwatch__sasl_failures_ban_client 0 $?
	out=$(M block list --json)
	mxg_expect_eq logwatch__allowlisted_client_not_banned 0 \
		"$(mxg_jq '[.block[]|select(.cidr=="198.18.0.78/32")]|length' "$out")"
	grep -q 'log ban skipped: allowlisted" source=198.18.0.78/32' "$LOG"
	mxg_expect_eq logwatch__skip_logged 0 $?
}

case_history() {
	kill -TERM "$RUN_PID"; wait "$RUN_PID" 2>/dev/null
	mxg_expect_eq history__file_written 0 "$(jq -e "select(.cidr==\"$ATT/32\" and .bans==1)" \
		"$MXGUARD_STATE_DIR/escalation.jsonl" >/dev/null; echo $?)"
	start_run
	wait_for 5 grep -q 'offence history restored" sources=1' "$LOG"
	mxg_expect_eq history__restored_at_start 0 $?
}

start_run() {
	ip netns exec "$MXG_SRV" "$MXG_BIN" run --config "$MXG_TMP/m.conf" 2>>"$LOG" &
	RUN_PID=$!
	MXG_PIDS+=("$RUN_PID")
	wait_for 10 grep -q 'msg="running"' "$LOG" || mxg_fatal setup "run: $(tail -3 "$LOG")"
}

mxg_sandbox_up
mxg_require_mxguard
mxg_client_addr "$ATT" 198.18.52.11 198.18.52.12 198.18.52.13
mxg_ip "$MXG_SRV" -4 route add 198.18.52.0/24 dev "$MXG_SRV_IF"
mxg_server_start 25,587
export MXGUARD_STATE_DIR=$MXG_TMP/state
LOG=$MXG_TMP/run.log
mxg_alert_command "$MXG_TMP/alerts.jsonl"
cat >"$MXG_TMP/m.conf" <<EOC
[mxguard]
interfaces = $MXG_SRV_IF
xdp_mode = generic

[limit smtp]
rate = 60/min
burst = 2

[limit submission]
prefix_rate = 60/min
prefix_burst = 3
prefix_v4 = 24

[escalation]
steps = 5s 1m
window = 10m
after = 2

[logwatch]
files = $MXG_TMP/mail.log
auth_failures = 3

[alert]
command = $MXG_TMP/alert.sh
min_interval = 1s
EOC
: >"$MXG_TMP/mail.log"
start_run
case_escalation
case_logwatch
case_lockdown_alert
case_network_limit
case_network_flood
case_history
kill -TERM "$RUN_PID"; wait "$RUN_PID" 2>/dev/null
mxg_done

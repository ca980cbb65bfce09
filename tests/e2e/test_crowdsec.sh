#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CrowdSec bouncer (user/crowdsec.c): first against a fake local API with a
# fake clock (backoff, resync, other feeds, allowlist), then against the real
# crowdsec from Debian, its local API alone on the server namespace's
# loopback: a decision `cscli decisions add` made reaches the kernel map
# within 2 s of cscli returning (cscli's own run time is reported, not
# counted) and drops the source, `cscli decisions delete` removes it, another feed's entry is
# never touched, the API going down keeps the entries and backs off, and its
# return resyncs the feed with a full pull.
set -u
. "$(dirname "$0")/../lib/netns.sh"

B=${MXG_BUILD:-build}
[[ "$B" == /* ]] || B=$MXG_ROOT/$B
DRIVER=$B/tests/bpf/test_crowdsec_live
CS_PORT=8080               # in the server namespace: nothing else there
CS_URL=http://127.0.0.1:$CS_PORT/
CS_PID=
DRV_PID=
T0=0     # cs_timed: when cscli returned, ms
CS_MS=0  # cs_timed: how long it ran

M() { mxg "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- crowdsec -------------------------------------------------------------

# crowdsec comes from `make deps` (with the Central API opt-out); a test
# installs nothing itself. CS_WHY says why it cannot run.
cs_install() {
	command -v crowdsec >/dev/null && command -v cscli >/dev/null && return 0
	CS_WHY="crowdsec is not installed: run 'make deps' (Debian package crowdsec)"
	return 1
}

# A local API alone (no agent, no Central API) with its own sqlite database,
# all under the temp dir.
cs_config() {
	CS_DIR=$MXG_TMP/cs
	mkdir -p "$CS_DIR/data" "$CS_DIR/hub"
	cat >"$CS_DIR/config.yaml" <<EOF
common:
  daemonize: false
  log_media: file
  log_dir: $CS_DIR/
  log_level: info
config_paths:
  config_dir: $CS_DIR/
  data_dir: $CS_DIR/data/
  simulation_path: $CS_DIR/simulation.yaml
  hub_dir: $CS_DIR/hub/
  index_path: $CS_DIR/hub/.index.json
  notification_dir: $CS_DIR/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
cscli:
  output: human
db_config:
  type: sqlite
  db_path: $CS_DIR/data/crowdsec.db
  use_wal: false
  flush:
    max_items: 5000
    max_age: 7d
api:
  client:
    credentials_path: $CS_DIR/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:$CS_PORT
    profiles_path: $CS_DIR/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
EOF
	cat >"$CS_DIR/profiles.yaml" <<EOF
name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
EOF
	echo "simulation: off" >"$CS_DIR/simulation.yaml"
}

# cs_timed ARGS...: cs ARGS, then T0 = the moment it returned (the decision
# exists in the local API from then on) and CS_MS = how long cscli took.
# The latencies below are mxguard's: from T0 to the map. cscli's own time
# (a Go program's start, a login and a POST; seconds on a loaded machine) is
# reported beside them, not counted.
cs_timed() {
	local rc t
	t=$(now_ms)
	cs "$@" >/dev/null 2>&1
	rc=$?
	T0=$(now_ms)
	CS_MS=$((T0 - t))
	return "$rc"
}

# cscli against our config, in the server namespace (decisions go through
# the local API there).
cs() {
	timeout 20 ip netns exec "$MXG_SRV" cscli -c "$CS_DIR/config.yaml" "$@"
}

cs_start() {
	local i
	ip netns exec "$MXG_SRV" crowdsec -c "$CS_DIR/config.yaml" -no-cs \
		>>"$CS_DIR/stdout.log" 2>&1 &
	CS_PID=$!
	MXG_PIDS+=("$CS_PID")
	for i in $(seq 100); do
		ip netns exec "$MXG_SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/$CS_PORT" \
			2>/dev/null && return 0
		kill -0 "$CS_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

cs_stop() {
	kill -TERM "$CS_PID" 2>/dev/null
	wait "$CS_PID" 2>/dev/null
	mxg_forget_pid "$CS_PID"
	CS_PID=
}

# ---- what the kernel holds ------------------------------------------------

# Field of entry CIDR in the blocklist (all feeds), or "<absent>".
entry() { # CIDR FIELD
	mxg_jq "[.block[] | select(.cidr == \"$1\")] |
		if length == 1 then .[0].$2 | tostring
		elif length == 0 then \"<absent>\"
		else \"<listed \(length) times>\" end" "$(M block list --json)"
}

# Milliseconds until CIDR is in feed crowdsec (want=in) or not (want=out),
# polling the pinned maps through `block list --feed crowdsec --json`; the
# limit plus one when it never happens.
wait_feed() { # CIDR in|out T0_MS LIMIT_MS
	local cidr=$1 want=$2 t0=$3 limit=$4 n
	while :; do
		n=$(M block list --feed crowdsec --json |
			jq "[.block[] | select(.cidr == \"$cidr\")] | length")
		if { [ "$want" = in ] && [ "$n" = 1 ]; } || { [ "$want" = out ] && [ "$n" = 0 ]; }; then
			echo $(($(now_ms) - t0))
			return
		fi
		if [ $(($(now_ms) - t0)) -gt "$limit" ]; then
			echo $((limit + 1))
			return
		fi
		sleep 0.05
	done
}

# Seconds from now until entry CIDR expires.
expires_in() {
	local e
	e=$(entry "$1" expires)
	if [[ "$e" == \<* ]] || ! date -d "$e" +%s >/dev/null 2>&1; then
		echo "$e"
	else
		echo $(($(date -d "$e" +%s) - $(date +%s)))
	fi
}

# The driver's JSON lines from line $1 on, as one array.
pulls_since() { tail -n +"$1" "$MXG_TMP/live.jsonl" | jq -s -c .; }
pull_count() { wc -l <"$MXG_TMP/live.jsonl"; }

# Wait until jq FILTER over the pulls since line N holds (up to S seconds).
wait_pulls() { # N FILTER S
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(pulls_since "$1" | jq "$2")" = true ] && return 0
		sleep 0.1
	done
	return 1
}

# Connections that got through from SRC to port 25 (of 2).
conns_ok() {
	mxg_jq .ok "$(ip netns exec "$MXG_CLI" "$MXG_CONN" connect --src "$1" \
		--dst "$MXG_SRV4" --port 25 --count 2 --rate 20/s --timeout-ms 300 --json)"
}

# ---- cases ----------------------------------------------------------------

case_fake_api() {
	local rc
	ip netns exec "$MXG_SRV" timeout 60 "$DRIVER" fake 2>"$MXG_TMP/fake.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		MXG_FAILED=$((MXG_FAILED + 1))
		echo "FAIL crowdsec_fake__driver: exited $rc; stderr: $(tail -5 "$MXG_TMP/fake.err" | tr '\n' ' ')"
	fi
	# Leave nothing of it for the real runs.
	: >"$MXG_TMP/empty.txt"
	M block sync "$MXG_TMP/empty.txt" --feed crowdsec >/dev/null
	M block del 198.18.10.2 >/dev/null 2>&1
	M allow del 198.18.20.128/25 >/dev/null 2>&1
}

case_add_ip() {
	local ms
	cs_timed decisions add --ip 198.18.0.44 --duration 1h ||
		mxg_fail crowdsec__cscli_add "exit 0" "exit $?"
	ms=$(wait_feed 198.18.0.44/32 in "$T0" 5000)
	mxg_expect_range crowdsec__add_ip_in_map_within_2s_ms 0 2000 "$ms"
	echo "  (crowdsec__add_ip_in_map_within_2s_ms: $ms ms; cscli took $CS_MS ms)"
	mxg_expect_range crowdsec__add_ip_expiry_1h_s 3590 3600 "$(expires_in 198.18.0.44/32)"
	mxg_expect_match crowdsec__add_ip_reason "^crowdsec: manual 'ban' from " \
		"$(entry 198.18.0.44/32 reason)"
	mxg_expect_eq crowdsec__banned_source_dropped 0 "$(conns_ok 198.18.0.44)"
	mxg_expect_eq crowdsec__other_source_passes 2 "$(conns_ok 198.18.0.46)"
}

case_add_range() {
	local ms
	cs_timed decisions add --range 198.18.64.0/24 --duration 30m
	ms=$(wait_feed 198.18.64.0/24 in "$T0" 5000)
	mxg_expect_range crowdsec__add_range_in_map_within_2s_ms 0 2000 "$ms"
	echo "  (crowdsec__add_range_in_map_within_2s_ms: $ms ms; cscli took $CS_MS ms)"
	mxg_expect_range crowdsec__add_range_expiry_30m_s 1790 1800 "$(expires_in 198.18.64.0/24)"
	# An IPv6 ban too.
	cs_timed decisions add --ip 2001:db8:66::6 --duration 2h
	ms=$(wait_feed 2001:db8:66::6/128 in "$T0" 5000)
	mxg_expect_range crowdsec__add_ipv6_in_map_within_2s_ms 0 2000 "$ms"
	echo "  (crowdsec__add_ipv6_in_map_within_2s_ms: $ms ms; cscli took $CS_MS ms)"
}

case_delete() {
	local ms
	cs_timed decisions delete --ip 198.18.0.44 ||
		mxg_fail crowdsec__cscli_delete "exit 0" "exit $?"
	ms=$(wait_feed 198.18.0.44/32 out "$T0" 5000)
	mxg_expect_range crowdsec__delete_gone_within_2s_ms 0 2000 "$ms"
	echo "  (crowdsec__delete_gone_within_2s_ms: $ms ms; cscli took $CS_MS ms)"
	mxg_expect_eq crowdsec__deleted_source_passes 2 "$(conns_ok 198.18.0.44)"
	mxg_expect_eq crowdsec__range_kept_after_ip_delete 198.18.64.0/24 \
		"$(M block list --feed crowdsec --json | jq -r '.block[] | select(.cidr == "198.18.64.0/24") | .cidr')"
}

case_other_feed() {
	local n
	M block add 198.18.0.45 --reason "by hand" >/dev/null
	n=$(pull_count)
	cs decisions add --ip 198.18.0.45 --duration 1h >/dev/null 2>&1
	wait_pulls $((n + 1)) 'map(select(.others > 0)) | length > 0' 5
	mxg_expect_eq crowdsec__other_feed_counted 0 $?
	mxg_expect_eq crowdsec__other_feed_entry_kept manual "$(entry 198.18.0.45/32 feed)"
	mxg_expect_eq crowdsec__other_feed_reason_kept "by hand" "$(entry 198.18.0.45/32 reason)"
	n=$(pull_count)
	cs decisions delete --ip 198.18.0.45 >/dev/null 2>&1
	wait_pulls $((n + 1)) 'map(select(.n_del > 0)) | length > 0' 5
	mxg_expect_eq crowdsec__other_feed_delete_seen 0 $?
	mxg_expect_eq crowdsec__other_feed_not_deleted manual "$(entry 198.18.0.45/32 feed)"
}

case_api_down() {
	local n backoffs
	n=$(($(pull_count) + 1))
	cs_stop
	# Pulls at about +0..1, +2, +6 s fail with backoff 2, 4, 8.
	wait_pulls "$n" '[.[] | select(.ret != 0)] | length >= 3' 12
	backoffs=$(pulls_since "$n" | jq -r '[.[] | select(.ret != 0) | .backoff_s] | .[:3] | map(tostring) | join(" ")')
	mxg_expect_eq crowdsec__api_down_backoff_grows "2 4 8" "$backoffs"
	mxg_expect_match crowdsec__api_down_error "127.0.0.1" \
		"$(pulls_since "$n" | jq -r '[.[] | select(.ret != 0)][0].error')"
	mxg_expect_eq crowdsec__api_down_entries_kept 198.18.64.0/24 \
		"$(M block list --feed crowdsec --json | jq -r '.block[] | select(.cidr == "198.18.64.0/24") | .cidr')"
	mxg_expect_eq crowdsec__api_down_source_still_dropped 0 "$(conns_ok 198.18.64.9)"
	# Something the local API never had, in the feed while it is down:
	# the full pull after its return removes it.
	echo 198.18.0.99 >"$MXG_TMP/stale.txt"
	M block load "$MXG_TMP/stale.txt" --feed crowdsec >/dev/null
	mxg_expect_eq crowdsec__stale_loaded crowdsec "$(entry 198.18.0.99/32 feed)"
	n=$(($(pull_count) + 1))
	cs_start || mxg_fatal crowdsec__lapi_restart "crowdsec did not come back: $(tail -3 "$CS_DIR/crowdsec_api.log" "$CS_DIR/stdout.log" 2>/dev/null | tr '\n' ' ')"
	wait_pulls "$n" 'map(select(.ret == 0 and .startup == 1)) | length > 0' 25
	mxg_expect_eq crowdsec__recovery_full_pull 0 $?
	mxg_expect_eq crowdsec__recovery_stale_removed "<absent>" "$(entry 198.18.0.99/32 feed)"
	mxg_expect_eq crowdsec__recovery_range_kept crowdsec "$(entry 198.18.64.0/24 feed)"
	mxg_expect_eq crowdsec__recovery_ipv6_kept crowdsec "$(entry 2001:db8:66::6/128 feed)"
	mxg_expect_eq crowdsec__recovery_other_feed_kept manual "$(entry 198.18.0.45/32 feed)"
	mxg_expect_eq crowdsec__recovery_backoff_reset 0 \
		"$(pulls_since "$n" | jq '[.[] | select(.ret == 0)] | last | .backoff_s')"
	# And deltas work again after the resync.
	local ms
	cs_timed decisions delete --range 198.18.64.0/24
	ms=$(wait_feed 198.18.64.0/24 out "$T0" 5000)
	mxg_expect_range crowdsec__delete_range_after_recovery_ms 0 2000 "$ms"
	echo "  (crowdsec__delete_range_after_recovery_ms: $ms ms; cscli took $CS_MS ms)"
	mxg_expect_eq crowdsec__unbanned_range_source_passes 2 "$(conns_ok 198.18.64.9)"
}

# ---- main -----------------------------------------------------------------

mxg_sandbox_up
mxg_require_mxguard
[ -x "$DRIVER" ] || mxg_fatal setup "$DRIVER not built (make)"
M attach "$MXG_SRV_IF" >/dev/null 2>"$MXG_TMP/attach.err" ||
	mxg_fatal setup "mxguard attach: $(cat "$MXG_TMP/attach.err")"
M mode enforce >/dev/null || mxg_fatal setup "mxguard mode enforce"

case_fake_api

if ! cs_install; then
	mxg_skip crowdsec__live "$CS_WHY"
	mxg_done
	exit
fi
cs_config
cs machines add mxg-test --auto -f "$CS_DIR/local_api_credentials.yaml" \
	--url "$CS_URL" >/dev/null 2>"$MXG_TMP/cscli.err" ||
	mxg_fatal setup "cscli machines add: $(tail -2 "$MXG_TMP/cscli.err")"
cs bouncers add mxg-test -o raw >"$CS_DIR/key" 2>"$MXG_TMP/cscli.err" ||
	mxg_fatal setup "cscli bouncers add: $(tail -2 "$MXG_TMP/cscli.err")"
cs_start || mxg_fatal setup "crowdsec (local API) did not start: $(tail -3 "$CS_DIR/crowdsec_api.log" "$CS_DIR/stdout.log" 2>/dev/null | tr '\n' ' ')"

mxg_server_start 25 120
mxg_client_addr 198.18.0.44 198.18.0.46 198.18.64.9
mxg_ip "$MXG_SRV" -4 route add 198.18.64.0/24 dev "$MXG_SRV_IF"
: >"$MXG_TMP/live.jsonl"
ip netns exec "$MXG_SRV" "$DRIVER" live "$CS_URL" "$CS_DIR/key" 100 \
	>"$MXG_TMP/live.jsonl" 2>"$MXG_TMP/live.err" &
DRV_PID=$!
MXG_PIDS+=("$DRV_PID")
wait_pulls 1 'map(select(.ret == 0 and .startup == 1)) | length > 0' 5 ||
	mxg_fatal setup "no first pull: $(cat "$MXG_TMP/live.jsonl" "$MXG_TMP/live.err" | tail -3 | tr '\n' ' ')"
mxg_pass crowdsec__first_pull_startup

case_add_ip
case_add_range
case_delete
case_other_feed
case_api_down
mxg_done

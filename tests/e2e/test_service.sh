#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# mxguard run: attaches from its config, snapshots state on change, a kill -9
# and a fresh run keep the same lists, a simulated reboot (pins deleted)
# restores them with the remaining TTLs, SIGHUP with a broken config keeps the
# old one, SIGHUP with a good one applies it, SIGTERM leaves the filter up.
set -u
. "$(dirname "$0")/../lib/netns.sh"

M() { ip netns exec "$MXG_SRV" timeout "$MXG_CMD_TIMEOUT" "$MXG_BIN" "$@"; }

RUN_PID=

run_start() {
	ip netns exec "$MXG_SRV" "$MXG_BIN" run --config "$CONF" 2>>"$LOG" &
	RUN_PID=$!
	MXG_PIDS+=("$RUN_PID")
	wait_log "msg=\"running\"" 10 || mxg_fatal setup "run did not start: $(tail -3 "$LOG")"
}

run_kill() {
	kill "-$1" "$RUN_PID" 2>/dev/null
	wait "$RUN_PID" 2>/dev/null
	RUN_RC=$?
}

# wait_log PATTERN SECONDS: until the log has PATTERN (counting from MARK).
wait_log() {
	local i
	for i in $(seq $(($2 * 10))); do
		tail -n +"$MARK" "$LOG" | grep -q -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
mark() { MARK=$(($(wc -l <"$LOG") + 1)); }

# Lists without counters, sorted: what must survive restarts.
lists() {
	{
		M allow list --json | jq -c '[.allow[]|{cidr,comment}]|sort_by(.cidr)'
		M block list --json | jq -c '[.block[]|{cidr,feed,reason}]|sort_by(.cidr)'
	} | tr -d '\n'
}

write_conf() {
	cat >"$CONF" <<EOC
[mxguard]
mode = monitor
interfaces = $MXG_SRV_IF
xdp_mode = generic

[limit smtp]
rate = $1
burst = 7

[feed drop]
path = $MXG_TMP/drop.txt
refresh = 1h
EOC
}

case_start() {
	local out
	out=$(M status --json)
	mxg_expect_eq service__attached_from_config true "$(mxg_jq .attached "$out")"
	mxg_expect_eq service__mode_from_config monitor "$(mxg_jq .mode "$out")"
	out=$(M limit show --json)
	mxg_expect_eq service__limit_from_config 20/min "$(mxg_jq .limits.smtp.rate "$out")"
	out=$(M block list --feed drop --json)
	mxg_expect_eq service__feed_synced_at_start 2 "$(mxg_jq '.block|length' "$out")"
	mxg_expect_eq service__state_dir_0700 700 "$(stat -c %a "$MXGUARD_STATE_DIR")"
	mxg_expect_eq service__state_file_0600 600 "$(stat -c %a "$MXGUARD_STATE_DIR/state.jsonl.gz")"
}

case_kill9() {
	local before after
	mark
	M block add 198.18.9.9 --ttl 1h --reason "kill-9 test" >/dev/null
	M allow add 198.18.5.5 --comment "partner MX" >/dev/null
	wait_log 'snapshot written" why=change.*allow=1 block=3' 10
	mxg_expect_eq service__snapshot_after_cli_change 0 $?
	before=$(lists)
	run_kill 9
	out=$(M status --json)
	mxg_expect_eq service__filter_survives_kill9 true "$(mxg_jq .attached "$out")"
	mark
	run_start
	after=$(lists)
	mxg_expect_eq service__kill9_restart_same_lists "$before" "$after"
}

case_reboot() {
	local before after ttl_before ttl_after out
	# A network length set by hand (the file does not name imap's) is
	# state too: it comes back after the reboot.
	mark
	M limit set imap --prefix-v4 20 --prefix-v6 /36 >/dev/null
	wait_log 'snapshot written" why=change' 10
	mxg_expect_eq service__snapshot_after_limit_change 0 $?
	before=$(lists)
	ttl_before=$(M block list --json | jq -r '.block[]|select(.cidr=="198.18.9.9/32")|.expires')
	run_kill TERM
	mxg_expect_eq service__sigterm_exit0 0 "$RUN_RC"
	out=$(M status --json)
	mxg_expect_eq service__sigterm_leaves_filter true "$(mxg_jq .attached "$out")"
	# A reboot: links and pins gone.
	ip netns exec "$MXG_SRV" ip link set "$MXG_SRV_IF" xdp off 2>/dev/null
	rm -rf "$MXGUARD_PIN_DIR"
	out=$(M status --json)
	mxg_expect_eq service__pins_gone false "$(mxg_jq .attached "$out")"
	mark
	run_start
	wait_log 'state restored.*allow=1 block=3' 5
	mxg_expect_eq service__restored_logged 0 $?
	after=$(lists)
	mxg_expect_eq service__reboot_restores_lists "$before" "$after"
	ttl_after=$(M block list --json | jq -r '.block[]|select(.cidr=="198.18.9.9/32")|.expires')
	local d=$(( $(date -d "$ttl_after" +%s) - $(date -d "$ttl_before" +%s) ))
	mxg_expect_range service__remaining_ttl_kept_s 0 1 "$d"
	out=$(M status --json)
	mxg_expect_eq service__mode_restored monitor "$(mxg_jq .mode "$out")"
	out=$(M limit show --json)
	mxg_expect_eq service__network_lengths_restored "20 36 24 48" \
		"$(mxg_jq '"\(.limits.imap.prefix_v4) \(.limits.imap.prefix_v6) \(.limits.smtp.prefix_v4) \(.limits.smtp.prefix_v6)"' "$out")"
}

case_sighup() {
	local out
	cp "$CONF" "$CONF.good"
	echo "bogus = 1" >>"$CONF"
	mark
	kill -HUP "$RUN_PID"
	wait_log 'reload failed; the old config stays' 5
	mxg_expect_eq service__sighup_bad_config_logged 0 $?
	tail -n +"$MARK" "$LOG" | grep -q 'config rejected.*line=1[0-9]'
	mxg_expect_eq service__sighup_error_names_line 0 $?
	out=$(M limit show --json)
	mxg_expect_eq service__sighup_bad_keeps_old 20/min "$(mxg_jq .limits.smtp.rate "$out")"
	kill -0 "$RUN_PID" 2>/dev/null
	mxg_expect_eq service__still_running_after_bad_hup 0 $?
	write_conf 40/min
	mark
	kill -HUP "$RUN_PID"
	wait_log 'config reloaded' 5
	mxg_expect_eq service__sighup_good_config_logged 0 $?
	out=$(M limit show --json)
	mxg_expect_eq service__sighup_good_applies 40/min "$(mxg_jq .limits.smtp.rate "$out")"
}

case_symlink_state() {
	local out rc
	ln -s "$MXG_TMP" "$MXG_TMP/statelink"
	out=$(MXGUARD_STATE_DIR=$MXG_TMP/statelink ip netns exec "$MXG_SRV" timeout 5 "$MXG_BIN" run --config "$CONF" 2>&1)
	rc=$?
	mxg_expect_eq service__symlink_state_dir_refused 1 "$rc"
	mxg_expect_match service__symlink_message "not a directory \(a symlink is not followed\)" "$out"
}

mxg_sandbox_up
mxg_require_mxguard
export MXGUARD_STATE_DIR=$MXG_TMP/state
CONF=$MXG_TMP/mxguard.conf
LOG=$MXG_TMP/run.log
: >"$LOG"
MARK=1
printf '198.18.200.0/24 ; SBL1\n198.18.201.7\n' >"$MXG_TMP/drop.txt"
write_conf 20/min
run_start
wait_log 'snapshot written' 10 || mxg_fatal setup "no first snapshot: $(tail -3 "$LOG")"
case_start
case_kill9
case_reboot
case_sighup
case_symlink_state
run_kill TERM
mxg_done

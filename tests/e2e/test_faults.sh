#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Faults: two controllers changing the same pins are serialised by a lock;
# an interface that disappears while attached is reported and cleaned up;
# pins of another layout are refused with advice; the pins are private.
set -u
. "$(dirname "$0")/../lib/netns.sh"

M() { ip netns exec "$MXG_SRV" timeout "$MXG_CMD_TIMEOUT" "$MXG_BIN" "$@"; }

case_lock() {
	local out rc t0 t1 lockpid
	# Another controller holds the lock for 2 s (flock(1) on the pin
	# directory, as mxguard itself takes it).
	flock "$MXGUARD_PIN_DIR" sleep 2 &
	lockpid=$!
	MXG_PIDS+=("$lockpid")
	sleep 0.3
	t0=$(date +%s%N)
	out=$(M allow add 198.18.0.200 --comment waited 2>&1); rc=$?
	t1=$(date +%s%N)
	mxg_expect_eq lock__waiting_command_succeeds 0 "$rc"
	mxg_expect_match lock__says_it_waits "another mxguard is changing .* waiting" "$out"
	mxg_expect_range lock__waited_ms 1200 6000 $(((t1 - t0) / 1000000))
	wait "$lockpid" 2>/dev/null

	flock "$MXGUARD_PIN_DIR" sleep 3 &
	lockpid=$!
	MXG_PIDS+=("$lockpid")
	sleep 0.3
	out=$(MXGUARD_LOCK_TIMEOUT=1 M block add 198.18.0.201 2>&1); rc=$?
	mxg_expect_eq lock__gives_up_exit1 1 "$rc"
	mxg_expect_match lock__gives_up_message "gave up after 1 s: another mxguard still holds the lock" "$out"
	out=$(M block list --json)
	mxg_expect_eq lock__nothing_applied_when_given_up 0 "$(mxg_jq '[.block[]|select(.cidr=="198.18.0.201/32")]|length' "$out")"
	wait "$lockpid" 2>/dev/null
}

case_iface_gone() {
	local out rc
	mxg_ip "$MXG_SRV" link add mxgtmp0 type veth peer name mxgtmp1
	mxg_ip "$MXG_SRV" link set mxgtmp0 up
	out=$(M attach mxgtmp0 --mode generic 2>&1); rc=$?
	mxg_expect_eq iface_gone__attach_second 0 "$rc"
	out=$(M status --json)
	mxg_expect_eq iface_gone__two_interfaces 2 "$(mxg_jq '.interfaces|length' "$out")"
	mxg_ip "$MXG_SRV" link del mxgtmp0
	out=$(M status --json)
	mxg_expect_eq iface_gone__reported_absent false \
		"$(mxg_jq '.interfaces[]|select(.name=="mxgtmp0")|.present' "$out")"
	mxg_expect_eq iface_gone__other_still_present true \
		"$(mxg_jq ".interfaces[]|select(.name==\"$MXG_SRV_IF\")|.present" "$out")"
	out=$(M status 2>&1)
	mxg_expect_match iface_gone__table_says_so "mxgtmp0 .*interface gone: run 'mxguard detach'" "$out"
	out=$(M detach mxgtmp0 2>&1); rc=$?
	mxg_expect_eq iface_gone__detach_cleans 0 "$rc"
	out=$(M status --json)
	mxg_expect_eq iface_gone__one_interface_left 1 "$(mxg_jq '.interfaces|length' "$out")"
	mxg_expect_eq iface_gone__still_attached true "$(mxg_jq '.attached' "$out")"
}

case_permissions() {
	local mode
	mode=$(stat -c %a "$MXGUARD_PIN_DIR")
	mxg_expect_eq perms__pin_dir_0700 700 "$mode"
	mode=$(stat -c '%a %U' "$MXGUARD_PIN_DIR/mxg_block_h")
	mxg_expect_eq perms__map_pin_0600_root "600 root" "$mode"
	mode=$(stat -c '%a' "$MXGUARD_PIN_DIR/link_$MXG_SRV_IF")
	mxg_expect_eq perms__link_pin_0600 600 "$mode"
}

# A pin directory from another version: a map of another layout under an
# mxguard name is refused, naming the map and saying what to do.
case_old_layout() {
	local dir=$MXG_BPFFS/old out rc
	mkdir -p "$dir"
	bpftool map create "$dir/mxg_cfg" type array key 4 value 8 entries 1 name mxg_cfg \
		|| mxg_fatal old_layout "bpftool map create"
	out=$(MXGUARD_PIN_DIR=$dir M status 2>&1); rc=$?
	mxg_expect_eq old_layout__status_exit2 2 "$rc"
	mxg_expect_match old_layout__names_map_and_fix "mxg_cfg has another layout.*another mxguard version.*remove $dir" "$out"
	out=$(MXGUARD_PIN_DIR=$dir M attach "$MXG_SRV_IF" 2>&1); rc=$?
	mxg_expect_eq old_layout__attach_refused 2 "$rc"
	mxg_expect_match old_layout__attach_message "another layout" "$out"
	rm -rf "$dir"
}

mxg_sandbox_up
mxg_require_mxguard
command -v flock >/dev/null || mxg_fatal setup "flock (util-linux) not found"
command -v bpftool >/dev/null || mxg_fatal setup "bpftool not found"
out=$(M attach "$MXG_SRV_IF" --mode generic 2>&1) || mxg_fatal setup "attach: $out"
case_lock
case_iface_gone
case_permissions
case_old_layout
mxg_done

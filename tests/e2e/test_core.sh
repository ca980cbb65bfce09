#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Core behaviour end to end: mxguard on the server veth of a two-namespace
# sandbox, real TCP connections from attacker, partner (allowlisted), blocked
# and ordinary sources, IPv4 and IPv6; then detach and everything passes.
# Usage: tests/e2e/test_core.sh   (root; env MXG_XDP_MODE=auto|native|generic)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

XDP_MODE=${MXG_XDP_MODE:-auto}

# Sources. IPv4 keys are /32; IPv6 keys are the /64, so every IPv6 role has
# its own /64.
A4=198.18.0.9        P4=198.18.0.77       B4=198.18.0.66
A6=2001:db8:2::9     P6=2001:db8:3::77    B6=2001:db8:4::66
P6_NET=2001:db8:3::/64

# The flood: 20 attempts/s for 10 s against 30/min, burst 5: the burst plus
# 10 s x 0.5/s of refill gets through, about 10.
FLOOD_N=200 FLOOD_RATE=20
OK_LO=8 OK_HI=12

GOT_MODE='' STATS0='' STATS1=''

counter() { # JSON SERVICE REASON
	mxg_jq ".counters.$2.$3" "$1"
}

# Difference of two integers, or the non-integer that made it impossible.
delta() {
	if [[ "$1" =~ ^[0-9]+$ ]] && [[ "$2" =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo "<cannot subtract: '$1' from '$2'>"
	fi
}

sum_failed() {
	local s=0 n v
	for n in "$@"; do
		v=$(mxg_result "$n" failed)
		[[ "$v" =~ ^[0-9]+$ ]] || { echo "$v"; return; }
		s=$((s + v))
	done
	echo "$s"
}

# ---- cases ----------------------------------------------------------------

case_attach__reports_mode() {
	local out rc
	out=$(mxg attach "$MXG_SRV_IF" --mode "$XDP_MODE" 2>"$MXG_TMP/attach.err")
	rc=$?
	[ "$rc" -eq 0 ] || mxg_fatal attach__reports_mode \
		"mxguard attach $MXG_SRV_IF --mode $XDP_MODE exited $rc: $(cat "$MXG_TMP/attach.err")"
	mxg_expect_match attach__reports_mode \
		"^attached to $MXG_SRV_IF \((native|generic) mode[,)]" "$out"
	GOT_MODE=$(sed -nE 's/.*\((native|generic) mode[,)].*/\1/p' <<<"$out")
	if [ "$XDP_MODE" != auto ]; then
		mxg_expect_eq attach__honours_requested_mode "$XDP_MODE" "$GOT_MODE"
	fi
}

case_status__attached() {
	local j
	j=$(mxg status --json)
	mxg_expect_eq status__attached "true" "$(mxg_jq .attached "$j")"
	mxg_expect_eq status__pin_dir "$MXGUARD_PIN_DIR" "$(mxg_jq .pin_dir "$j")"
	mxg_expect_eq status__mode_enforce "enforce" "$(mxg_jq .mode "$j")"
	mxg_expect_eq status__interface_listed "$MXG_SRV_IF" \
		"$(mxg_jq '.interfaces[0].name' "$j")"
	mxg_expect_eq status__interface_present "true" \
		"$(mxg_jq '.interfaces[0].present' "$j")"
	mxg_expect_eq status__xdp_mode_as_reported "${GOT_MODE:-<attach reported none>}" \
		"$(mxg_jq '.interfaces[0].xdp_mode' "$j")"
	mxg_expect_eq status__ifindex \
		"$(mxg_jq '.[0].ifindex' "$(ip -n "$MXG_SRV" -j link show "$MXG_SRV_IF")")" \
		"$(mxg_jq '.interfaces[0].ifindex' "$j")"
}

case_policy__set() {
	local j
	mxg limit set smtp --rate 30/min --burst 5 >/dev/null ||
		mxg_fatal policy__set "mxguard limit set smtp --rate 30/min --burst 5 failed"
	mxg allow add "$P4" --comment "partner MX" >/dev/null ||
		mxg_fatal policy__set "mxguard allow add $P4 failed"
	mxg allow add "$P6_NET" --comment "partner MX v6" >/dev/null ||
		mxg_fatal policy__set "mxguard allow add $P6_NET failed"
	mxg block add "$B4" --reason test >/dev/null ||
		mxg_fatal policy__set "mxguard block add $B4 failed"
	mxg block add "$B6" --reason test >/dev/null ||
		mxg_fatal policy__set "mxguard block add $B6 failed"

	j=$(mxg limit show --json)
	mxg_expect_eq limit__show_rate "30/min" "$(mxg_jq .limits.smtp.rate "$j")"
	mxg_expect_eq limit__show_burst "5" "$(mxg_jq .limits.smtp.burst "$j")"
	mxg_expect_eq limit__show_per_s "60" "$(mxg_jq .limits.smtp.per_s "$j")"
	j=$(mxg allow list --json)
	mxg_expect_eq allow__list_has_partner "partner MX" \
		"$(mxg_jq ".allow[] | select(.cidr == \"$P4/32\") | .comment" "$j")"
	j=$(mxg block list --json)
	mxg_expect_eq block__list_has_blocked "test" \
		"$(mxg_jq ".block[] | select(.cidr == \"$B4/32\") | .reason" "$j")"
}

# All flows of the enforcing phase at once, from different sources, so the
# script takes one flood's time.
run_flood_phase() {
	STATS0=$(mxg stats --json)
	mxg_connect_bg a4 "$A4" "$MXG_SRV4" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg p4 "$P4" "$MXG_SRV4" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg b4 "$B4" "$MXG_SRV4" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg w4 "$A4" "$MXG_SRV4" 80 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg a6 "$A6" "$MXG_SRV6" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg p6 "$P6" "$MXG_SRV6" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg b6 "$B6" "$MXG_SRV6" 25 "$FLOOD_N" "$FLOOD_RATE"
	mxg_connect_bg w6 "$A6" "$MXG_SRV6" 80 "$FLOOD_N" "$FLOOD_RATE"
	mxg_wait_all
	STATS1=$(mxg stats --json)
}

case_limit__attacker_gets_burst_plus_refill() {
	mxg_expect_eq limit__v4_attempts "$FLOOD_N" "$(mxg_result a4 attempts)"
	mxg_expect_range limit__v4_attacker_ok "$OK_LO" "$OK_HI" "$(mxg_result a4 ok)"
	mxg_expect_eq limit__v6_attempts "$FLOOD_N" "$(mxg_result a6 attempts)"
	mxg_expect_range limit__v6_attacker_ok "$OK_LO" "$OK_HI" "$(mxg_result a6 ok)"
}

case_limit__counter_equals_failed() {
	# Each failed attempt is exactly one dropped SYN: the client gives up
	# after 400 ms, before the kernel's first retransmission at 1 s.
	mxg_expect_eq limit__counter_equals_failed "$(sum_failed a4 a6)" \
		"$(delta "$(counter "$STATS0" smtp limit)" "$(counter "$STATS1" smtp limit)")"
}

case_top__attacker_drops() {
	local j
	j=$(mxg top -n 50 --json)
	mxg_expect_eq top__v4_attacker_drops "$(mxg_result a4 failed)" \
		"$(mxg_jq ".sources[] | select(.addr == \"$A4\") | .drops" "$j")"
	mxg_expect_eq top__v4_attacker_limited "limited" \
		"$(mxg_jq ".sources[] | select(.addr == \"$A4\") | .status" "$j")"
	mxg_expect_eq top__v4_attacker_smtp_syns "$FLOOD_N" \
		"$(mxg_jq ".sources[] | select(.addr == \"$A4\") | .services.smtp.syns" "$j")"
	# The IPv6 record is keyed by the /64; accept any spelling of it.
	mxg_expect_eq top__v6_attacker_drops "$(mxg_result a6 failed)" \
		"$(mxg_jq '.sources[] | select(.addr | startswith("2001:db8:2:")) | .drops' "$j")"
}

case_allow__partner_all_pass() {
	local j
	mxg_expect_eq allow__v4_partner_all_ok "$FLOOD_N" "$(mxg_result p4 ok)"
	mxg_expect_eq allow__v6_partner_all_ok "$FLOOD_N" "$(mxg_result p6 ok)"
	j=$(mxg allow list --json)
	mxg_expect_range allow__v4_partner_hits_counted "$FLOOD_N" 1000000 \
		"$(mxg_jq ".allow[] | select(.cidr == \"$P4/32\") | .hits" "$j")"
}

case_block__blocked_gets_none() {
	mxg_expect_eq block__v4_blocked_none_ok "0" "$(mxg_result b4 ok)"
	mxg_expect_eq block__v6_blocked_none_ok "0" "$(mxg_result b6 ok)"
	mxg_expect_eq block__counter_equals_failed "$(sum_failed b4 b6)" \
		"$(delta "$(counter "$STATS0" smtp block)" "$(counter "$STATS1" smtp block)")"
}

case_other_port__untouched() {
	mxg_expect_eq other_port__v4_port80_all_ok "$FLOOD_N" "$(mxg_result w4 ok)"
	mxg_expect_eq other_port__v6_port80_all_ok "$FLOOD_N" "$(mxg_result w6 ok)"
}

case_detach__everything_passes() {
	local j rc n=40
	mxg detach "$MXG_SRV_IF" >/dev/null
	rc=$?
	mxg_expect_eq detach__exit_status 0 "$rc"
	j=$(mxg status --json)
	mxg_expect_eq detach__status_not_attached "false" "$(mxg_jq .attached "$j")"
	mxg_expect_eq detach__status_no_interface "0" \
		"$(mxg_jq "[.interfaces[]? | select(.name == \"$MXG_SRV_IF\")] | length" "$j")"
	# The same sources that were limited or blocked, now all through.
	mxg_connect_bg da4 "$A4" "$MXG_SRV4" 25 "$n" "$FLOOD_RATE"
	mxg_connect_bg db4 "$B4" "$MXG_SRV4" 25 "$n" "$FLOOD_RATE"
	mxg_connect_bg da6 "$A6" "$MXG_SRV6" 25 "$n" "$FLOOD_RATE"
	mxg_connect_bg db6 "$B6" "$MXG_SRV6" 25 "$n" "$FLOOD_RATE"
	mxg_wait_all
	mxg_expect_eq detach__v4_attacker_all_ok "$n" "$(mxg_result da4 ok)"
	mxg_expect_eq detach__v4_blocked_all_ok "$n" "$(mxg_result db4 ok)"
	mxg_expect_eq detach__v6_attacker_all_ok "$n" "$(mxg_result da6 ok)"
	mxg_expect_eq detach__v6_blocked_all_ok "$n" "$(mxg_result db6 ok)"
}

# ---- main -------------------------------------------------------------------

main() {
	mxg_require_mxguard
	mxg_sandbox_up
	mxg_client_addr "$A4" "$P4" "$B4" "$A6" "$P6" "$B6"
	mxg_server_start 25,80 120

	case_attach__reports_mode
	case_status__attached
	case_policy__set
	run_flood_phase
	case_limit__attacker_gets_burst_plus_refill
	case_limit__counter_equals_failed
	case_top__attacker_drops
	case_allow__partner_all_pass
	case_block__blocked_gets_none
	case_other_port__untouched
	case_detach__everything_passes
	mxg_done
}

main "$@"

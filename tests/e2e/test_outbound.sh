#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Outbound abuse end to end: the egress program on the server veth counts the
# server's own new SMTP connections to a listener in the client namespace,
# warns at 300/min within 10 s, caps while the smarthost stays reachable;
# the cgroup connect programs on a cgroup of this test's own count and limit
# local submitters per uid and cgroup, trusted uids pass.
# Usage: tests/e2e/test_outbound.sh   (root)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=tests/lib/outbound.sh
. "$(dirname "$0")/../lib/outbound.sh"

# 300/min = 5/s. Warn at 60/min: burst 10 s of it (10), dry after ~2.5 s.
# Cap at 120/min: burst 20, then 2/s; 100 attempts over 20 s get ~60 through.
OUT_RATE=5 WARN_N=50 CAP_N=100 SMART_N=40 SMART_RATE=2
CAP_OK_LO=50 CAP_OK_HI=70
# Local: per uid 6/min burst 5: 20 quick connects get the burst (a refill per 10 s,
# so even a slow run under the sanitizers stays within burst + 2).
LOCAL_N=20 UID_BURST=5 CG_BURST=3

# ---- outbound cases ----------------------------------------------------------

case_outbound__attach() {
	local out rc j
	out=$(mxg outbound attach "$MXG_SRV_IF" 2>"$MXG_TMP/oattach.err")
	rc=$?
	[ "$rc" -eq 0 ] || mxg_fatal outbound__attach \
		"mxguard outbound attach $MXG_SRV_IF exited $rc: $(cat "$MXG_TMP/oattach.err")"
	mxg_expect_match outbound__attach_reports "^outbound: attached to $MXG_SRV_IF egress" "$out"
	j=$(mxg outbound --json)
	mxg_expect_eq outbound__interface_listed "$MXG_SRV_IF" "$(mxg_jq '.interfaces[0].name' "$j")"
	mxg_expect_eq outbound__interface_present true "$(mxg_jq '.interfaces[0].present' "$j")"
	mxg_expect_eq outbound__default_warn "300/min" "$(mxg_jq '.config.warn.rate' "$j")"
	mxg_expect_eq outbound__default_no_cap null "$(mxg_jq '.config.cap' "$j")"
	mxg_expect_eq outbound__pins_prefixed_mxo "0" \
		"$(find "$MXGUARD_PIN_DIR" -mindepth 1 ! -name 'mxo_*' | wc -l)"
	# The XDP side's commands must not take the egress link for theirs.
	j=$(mxg status --json)
	mxg_expect_eq outbound__xdp_status_unaffected false "$(mxg_jq .attached "$j")"
	out=$(mxg outbound attach "$MXG_SRV_IF")
	mxg_expect_match outbound__attach_twice_harmless "^outbound: already attached" "$out"
}

case_outbound__warn_within_10s() {
	local j t0 t1 waited=none
	mxg outbound set --warn 60/min >/dev/null ||
		mxg_fatal outbound__warn "mxguard outbound set --warn 60/min failed"
	j=$(mxg outbound --json)
	mxg_expect_eq outbound__warn_set "60/min" "$(mxg_jq '.config.warn.rate' "$j")"
	mxg_expect_eq outbound__warn_burst "10" "$(mxg_jq '.config.warn.burst' "$j")"
	mxg_expect_eq outbound__warn_inactive_before false "$(mxg_jq '.total.warn.active' "$j")"

	t0=$(date +%s%N)
	out_connect_bg warn "$MXG_SRV4" "$MX4" "$WARN_N" "$OUT_RATE"
	for _ in $(seq 60); do
		j=$(mxg outbound --json)
		if [ "$(mxg_jq '.total.warn.active' "$j")" = true ]; then
			t1=$(date +%s%N)
			waited=$(((t1 - t0) / 1000000))
			break
		fi
		sleep 0.2
	done
	mxg_expect_range outbound__warn_within_10s_ms 0 10000 "$waited"
	mxg_wait_all
	mxg_expect_eq outbound__warn_nothing_dropped "$WARN_N" "$(mxg_result warn ok)"
	j=$(mxg outbound --json)
	mxg_expect_eq outbound__warn_one_episode 1 "$(mxg_jq '.total.warn.episodes' "$j")"
	mxg_expect_eq outbound__per_24_counted "$WARN_N" \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$MX4_NET\") | .syns" "$j")"
	mxg_expect_eq outbound__per_source_counted "$WARN_N" \
		"$(mxg_jq ".sources[] | select(.addr == \"$MXG_SRV4\") | .syns" "$j")"
	mxg_expect_eq outbound__counter_smtp_pass "$WARN_N" "$(mxg_jq '.counters.smtp.pass' "$j")"
	# 50 over 10 s: the sliding minute holds all of them.
	mxg_expect_range outbound__rate_per_min 45 "$WARN_N" \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$MX4_NET\") | .per_min" "$j")"
	j=$(mxg outbound events --json --timeout 1 | jq -sc .)
	mxg_expect_eq outbound__warn_start_event 1 \
		"$(mxg_jq '[.[] | select(.type == "warn_start")] | length' "$j")"
	mxg_expect_eq outbound__warn_event_dst "$MX4" \
		"$(mxg_jq '[.[] | select(.type == "warn_start")][0].dst' "$j")"
}

case_outbound__v6_per_48() {
	local j
	out_connect_bg v6 "$MXG_SRV6" "$MX6" 10 10
	mxg_wait_all
	mxg_expect_eq outbound__v6_all_ok 10 "$(mxg_result v6 ok)"
	j=$(mxg outbound --json)
	mxg_expect_eq outbound__v6_per_48_counted 10 \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$MX6_NET\") | .syns" "$j")"
}

case_outbound__cap_spares_smarthost() {
	local j0 j1 p
	mxg outbound allow add "$SMART4" --comment smarthost >/dev/null ||
		mxg_fatal outbound__cap "mxguard outbound allow add $SMART4 failed"
	mxg outbound set --cap 120/min >/dev/null ||
		mxg_fatal outbound__cap "mxguard outbound set --cap 120/min failed"
	j0=$(mxg outbound --json)
	mxg_expect_eq outbound__cap_set "120/min" "$(mxg_jq '.config.cap.rate' "$j0")"
	mxg_expect_eq outbound__allow_listed smarthost \
		"$(mxg_jq ".allow[] | select(.cidr == \"$SMART4/32\") | .comment" \
			"$(mxg outbound allow list --json)")"

	out_connect_bg capped "$MXG_SRV4" "$MX4" "$CAP_N" "$OUT_RATE"
	out_connect_bg smart "$MXG_SRV4" "$SMART4" "$SMART_N" "$SMART_RATE"
	mxg_wait_all
	j1=$(mxg outbound --json)
	mxg_expect_range outbound__capped_ok "$CAP_OK_LO" "$CAP_OK_HI" "$(mxg_result capped ok)"
	mxg_expect_eq outbound__smarthost_all_ok "$SMART_N" "$(mxg_result smart ok)"
	# A failed attempt is one dropped SYN: the client gives up after
	# 400 ms, before the kernel's first retransmission at 1 s.
	mxg_expect_eq outbound__cap_counter_equals_failed "$(mxg_result capped failed)" \
		"$(delta "$(mxg_jq .counters.smtp.cap "$j0")" "$(mxg_jq .counters.smtp.cap "$j1")")"
	mxg_expect_eq outbound__allow_counter "$SMART_N" \
		"$(delta "$(mxg_jq .counters.smtp.allow "$j0")" "$(mxg_jq .counters.smtp.allow "$j1")")"
	mxg_expect_eq outbound__cap_active true "$(mxg_jq '.total.cap.active' "$j1")"
	mxg_expect_eq outbound__cap_one_episode 1 "$(mxg_jq '.total.cap.episodes' "$j1")"
	mxg_expect_eq outbound__dst_drops "$(mxg_result capped failed)" \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$MX4_NET\") | .drops" "$j1")"
	mxg_expect_eq outbound__smarthost_dst_shows_allow_entry "$SMART4/32" \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$SMART4_NET\") | .allowlist[0]" "$j1")"
	mxg_expect_eq outbound__smarthost_dst_partly_allowlisted false \
		"$(mxg_jq ".destinations[] | select(.prefix == \"$SMART4_NET\") | .allowlisted" "$j1")"
	p=$(mxg outbound --prometheus)
	mxg_expect_eq outbound__prometheus_cap_line 1 \
		"$(grep -cxF "mxguard_outbound_syns_total{port=\"smtp\",verdict=\"cap\"} $(mxg_jq .counters.smtp.cap "$j1")" <<<"$p")"
	mxg_expect_eq outbound__prometheus_dst_line 1 \
		"$(grep -cE "^mxguard_outbound_destination_syns_total\{prefix=\"$MX4_NET\"\} [0-9]+$" <<<"$p")"
}

case_outbound__detach_everything_passes() {
	local j
	mxg outbound detach "$MXG_SRV_IF" >/dev/null
	mxg_expect_eq outbound__detach_exit 0 "$?"
	j=$(mxg outbound --json)
	mxg_expect_eq outbound__detach_no_interface 0 "$(mxg_jq '.interfaces | length' "$j")"
	out_connect_bg after "$MXG_SRV4" "$MX4" 20 "$OUT_RATE"
	mxg_wait_all
	mxg_expect_eq outbound__detached_all_ok 20 "$(mxg_result after ok)"
}

# ---- local cases -------------------------------------------------------------

case_local__attach() {
	local out rc j
	out=$(mxh local attach "$CG" 2>"$MXG_TMP/lattach.err")
	rc=$?
	[ "$rc" -eq 0 ] || mxg_fatal local__attach \
		"mxguard local attach $CG exited $rc: $(cat "$MXG_TMP/lattach.err")"
	j=$(mxh local --json)
	mxg_expect_eq local__attached_id "$CGID" "$(mxg_jq '.cgroups_attached[0].id' "$j")"
	mxg_expect_eq local__attached_path "${CG#"$CG2"}" "$(mxg_jq '.cgroups_attached[0].path' "$j")"
	mxh local set --uid 6/min --uid-burst "$UID_BURST" >/dev/null ||
		mxg_fatal local__attach "mxguard local set --uid 6/min failed"
	mxh local allow uid "$TRUST_UID" --comment "test: trusted" >/dev/null ||
		mxg_fatal local__attach "mxguard local allow uid $TRUST_UID failed"
	j=$(mxh local --json)
	mxg_expect_eq local__uid_limit_set "6/min" "$(mxg_jq '.config.uid_limit.rate' "$j")"
	mxg_expect_eq local__trust_listed "test: trusted" \
		"$(mxg_jq ".trusted[] | select(.kind == \"uid\" and .id == $TRUST_UID) | .comment" "$j")"
}

case_local__uid_counted_and_limited() {
	local r ok ref oth j
	r=$(local_connect "$LIM_UID" "$LOCAL_N" 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_range local__limited_uid_ok "$UID_BURST" $((UID_BURST + 2)) "${ok:-<$r>}"
	mxg_expect_eq local__limited_uid_refused $((LOCAL_N - ${ok:-0})) "${ref:-<$r>}"
	mxg_expect_eq local__limited_uid_no_other 0 "${oth:-<$r>}"
	j=$(mxh local --json)
	mxg_expect_eq local__uid_conns "$LOCAL_N" \
		"$(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .conns" "$j")"
	mxg_expect_eq local__uid_refused "${ref:-?}" \
		"$(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .refused" "$j")"
	mxg_expect_eq local__uid_limited true \
		"$(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .limited" "$j")"
	mxg_expect_eq local__uid_last_comm mxg-conn \
		"$(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .last_comm" "$j")"
	mxg_expect_eq local__uid_last_cgroup "$CGID" \
		"$(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .last_cgroup" "$j")"
	mxg_expect_eq local__counter_limit_uid "${ref:-?}" "$(mxg_jq '.counters.smtp.limit_uid' "$j")"
	mxg_expect_eq local__cgroup_named "${CG#"$CG2"}" \
		"$(mxg_jq ".cgroups[] | select(.id == $CGID) | .path" "$j")"
	mxg_expect_eq local__cgroup_conns "$LOCAL_N" \
		"$(mxg_jq ".cgroups[] | select(.id == $CGID) | .conns" "$j")"
	j=$(mxg outbound events --json --timeout 1 | jq -sc .)
	mxg_expect_eq local__limit_event_uid "$LIM_UID" \
		"$(mxg_jq '[.[] | select(.type == "local_limit_start" and .kind == "uid")][0].id' "$j")"
}

case_local__trusted_uid_passes() {
	local r ok ref oth j
	r=$(local_connect "$TRUST_UID" "$LOCAL_N" 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_eq local__trusted_uid_all_ok "$LOCAL_N" "${ok:-<$r>}"
	r=$(local_connect "$TRUST_UID" 5 ::1 587)
	read -r ok ref oth <<<"$r"
	mxg_expect_eq local__trusted_uid_v6_587_ok 5 "${ok:-<$r>}"
	j=$(mxh local --json)
	mxg_expect_eq local__trusted_uid_conns $((LOCAL_N + 5)) \
		"$(mxg_jq ".uids[] | select(.uid == $TRUST_UID) | .conns" "$j")"
	mxg_expect_eq local__trusted_uid_refused 0 \
		"$(mxg_jq ".uids[] | select(.uid == $TRUST_UID) | .refused" "$j")"
	mxg_expect_eq local__trusted_uid_flag true \
		"$(mxg_jq ".uids[] | select(.uid == $TRUST_UID) | .trusted" "$j")"
	mxg_expect_eq local__counter_trusted_smtp "$LOCAL_N" "$(mxg_jq '.counters.smtp.trusted' "$j")"
	mxg_expect_eq local__counter_trusted_submission 5 "$(mxg_jq '.counters.submission.trusted' "$j")"
}

case_local__root_named_and_cgroup_limit() {
	local r ok ref oth j p
	# Root is named by getpwuid; one connect each way, within every limit.
	r=$(local_connect 0 1 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_eq local__root_ok 1 "${ok:-<$r>}"
	j=$(mxh local --json)
	mxg_expect_eq local__uid_named root "$(mxg_jq '.uids[] | select(.uid == 0) | .user' "$j")"

	mxh local set --uid 6/min --uid-burst "$UID_BURST" --cgroup 6/min \
		--cgroup-burst "$CG_BURST" >/dev/null ||
		mxg_fatal local__cgroup_limit "mxguard local set --cgroup 6/min failed"
	r=$(local_connect "$CG_UID" 10 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_range local__cgroup_limit_ok "$CG_BURST" $((CG_BURST + 2)) "${ok:-<$r>}"
	j=$(mxh local --json)
	mxg_expect_eq local__counter_limit_cgroup "${ref:-?}" "$(mxg_jq '.counters.smtp.limit_cgroup' "$j")"
	mxg_expect_eq local__cgroup_limited true \
		"$(mxg_jq ".cgroups[] | select(.id == $CGID) | .limited" "$j")"
	mxg_expect_eq local__cgroup_uid_not_limited false \
		"$(mxg_jq ".uids[] | select(.uid == $CG_UID) | .limited" "$j")"
	p=$(mxh local --prometheus)
	mxg_expect_eq local__prometheus_uid_refused 1 \
		"$(grep -cxF "mxguard_local_uid_refused_total{uid=\"$LIM_UID\",user=\"\"} $(mxg_jq ".uids[] | select(.uid == $LIM_UID) | .refused" "$j")" <<<"$p")"
	# A trusted uid passes the cgroup limit too.
	r=$(local_connect "$TRUST_UID" 5 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_eq local__trusted_uid_over_cgroup_limit_ok 5 "${ok:-<$r>}"
}

case_local__detach_everything_passes() {
	local r ok ref oth j
	mxh local detach "$CG" >/dev/null
	mxg_expect_eq local__detach_exit 0 "$?"
	j=$(mxh local --json)
	mxg_expect_eq local__detach_none_attached 0 "$(mxg_jq '.cgroups_attached | length' "$j")"
	r=$(local_connect "$LIM_UID" 10 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	mxg_expect_eq local__detached_all_ok 10 "${ok:-<$r>}"
}

# ---- main ----------------------------------------------------------------------

main() {
	mxg_require_mxguard
	mxg_sandbox_up
	trap 'out_cleanup; mxg_cleanup' EXIT
	out_sandbox_up 150

	case_outbound__attach
	case_outbound__warn_within_10s
	case_outbound__v6_per_48
	case_outbound__cap_spares_smarthost
	case_outbound__detach_everything_passes

	if local_setup; then
		case_local__attach
		case_local__uid_counted_and_limited
		case_local__trusted_uid_passes
		case_local__root_named_and_cgroup_limit
		case_local__detach_everything_passes
	fi
	mxg_done
}

main "$@"

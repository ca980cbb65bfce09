#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Allow and block lists end to end: a partner inside a blocked /16 still
# delivers over real TCP, the partner-safety and breadth checks, every list
# format, all-or-nothing loads, feeds, sync, shadowing and `check` verdicts.
# Usage: tests/e2e/test_lists.sh   (root)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

DATA=$MXG_ROOT/tests/e2e/data/lists

# The partner MTA, another host of the same /16, and the blocked /16.
PARTNER=198.18.5.25 OTHER=198.18.5.26 NET16=198.18.0.0/16
PARTNER_NOTE="partner MX: example corp"
CONN_N=20 CONN_RATE=50

# mxguard ARGS... with stdout, stderr and the exit status kept in OUT, ERR, RC.
OUT='' ERR='' RC=0 CHECK_JSON=''
run() {
	OUT=$(mxg "$@" 2>"$MXG_TMP/run.err")
	RC=$?
	ERR=$(cat "$MXG_TMP/run.err")
}

# JSON of `block list` (optionally --feed NAME), or a failure description
# that no assert will mistake for a value.
block_json() {
	run block list --json "$@"
	[ "$RC" -eq 0 ] || { echo "<block list $* exited $RC: $ERR>"; return; }
	printf '%s\n' "$OUT"
}

# "CIDR FEED" of every entry, sorted, one line: what a load must not change.
block_set() {
	mxg_jq '[.block[] | .cidr + " " + .feed] | sort | join(",")' "$(block_json "$@")"
}

# Field of the one entry CIDR of `block list --json`, or "<absent>".
block_field() { # CIDR FIELD [--feed NAME]
	local cidr=$1 field=$2; shift 2
	mxg_jq "[.block[] | select(.cidr == \"$cidr\")] |
		if length == 1 then .[0].$field | tostring
		else \"<listed \(length) times>\" end" "$(block_json "$@")"
}

# mxg_expect_ok CASE: the last run exited 0.
expect_ok() {
	if [ "$RC" -eq 0 ]; then mxg_pass "$1"; else mxg_fail "$1" "exit 0" "exit $RC: $ERR"; fi
}

# ---- cases ----------------------------------------------------------------

case_setup__attach() {
	run attach "$MXG_SRV_IF"
	[ "$RC" -eq 0 ] || mxg_fatal setup__attach "mxguard attach $MXG_SRV_IF exited $RC: $ERR"
	mxg_pass setup__attach
}

# The incident this answers: an operator blocks a range, a partner's MTA sat
# inside it. The allowlist must win on the wire, not only in the tables.
case_partner__delivers_inside_blocked_16() {
	run allow add "$PARTNER" --comment "$PARTNER_NOTE"
	expect_ok partner__allow_add
	run block add "$NET16" --force --reason "abuse from the /16"
	expect_ok partner__block_16_with_force
	mxg_expect_match partner__force_warns_about_partner \
		"overlaps allowlisted $PARTNER/32 \($PARTNER_NOTE\)" "$ERR"

	mxg_connect_bg partner "$PARTNER" "$MXG_SRV4" 25 "$CONN_N" "$CONN_RATE"
	mxg_connect_bg other "$OTHER" "$MXG_SRV4" 25 "$CONN_N" "$CONN_RATE"
	mxg_wait_all
	mxg_expect_eq partner__all_connections_succeed "$CONN_N" "$(mxg_result partner ok)"
	mxg_expect_eq partner__other_host_attempts "$CONN_N" "$(mxg_result other attempts)"
	mxg_expect_eq partner__other_host_none_succeed 0 "$(mxg_result other ok)"
	mxg_expect_range partner__allow_hits_counted "$CONN_N" 100000 \
		"$(mxg_jq ".allow[] | select(.cidr == \"$PARTNER/32\") | .hits" "$(mxg allow list --json)")"
}

case_block__overlap_needs_force() {
	local before
	before=$(block_set)
	run block add 198.18.5.0/24
	mxg_expect_eq block__overlap_without_force_exit2 2 "$RC"
	mxg_expect_match block__overlap_names_both_and_comment \
		"^mxguard: block add: 198\.18\.5\.0/24 overlaps allowlisted $PARTNER/32 \($PARTNER_NOTE\)" "$ERR"
	mxg_expect_eq block__overlap_nothing_added "$before" "$(block_set)"
}

case_block__broader_than_8_needs_force() {
	local before
	before=$(block_set)
	run block add 198.0.0.0/7
	mxg_expect_eq block__broad_without_force_exit2 2 "$RC"
	mxg_expect_match block__broad_names_range "198\.0\.0\.0/7 is broader than /8" "$ERR"
	mxg_expect_eq block__broad_nothing_added "$before" "$(block_set)"
}

# load_feed CASE FEED FILE [LOAD OPTIONS]: load FILE into FEED (FILE - reads
# this function's stdin), exit 0.
load_feed() {
	local name=$1 feed=$2 file=$3; shift 3
	run block load "$file" --feed "$feed" "$@"
	expect_ok "$name/exit_status"
}

# expect_feed CASE FEED CIDR...: the feed holds exactly these entries.
expect_feed() {
	local name=$1 feed=$2; shift 2
	local want
	want=$(printf '%s\n' "$@" | sort | paste -sd, -)
	mxg_expect_eq "$name" "$want" \
		"$(mxg_jq '[.block[] | .cidr] | sort | join(",")' "$(block_json --feed "$feed")")"
}

case_load__formats() {
	load_feed load__plain plain "$DATA/plain.txt"
	expect_feed load__plain_entries plain 198.19.10.0/24 198.19.11.7/32 \
		2001:db8:10::/48 2001:db8:11::7/128 198.19.12.0/23

	load_feed load__spamhaus_drop drop "$DATA/drop.txt"
	expect_feed load__spamhaus_drop_entries drop 198.19.20.0/24 \
		198.19.21.0/24 198.19.22.0/23

	load_feed load__ipset_save ipset "$DATA/ipset.txt"
	expect_feed load__ipset_save_entries ipset 198.19.30.0/24 \
		198.19.31.0/25 198.19.32.9/32

	gzip -c "$DATA/gz.txt" >"$MXG_TMP/list.gz" || mxg_fatal load__gzip "gzip -c failed"
	load_feed load__gzip gz "$MXG_TMP/list.gz"
	expect_feed load__gzip_entries gz 198.19.40.0/24 2001:db8:40::/48

	load_feed load__stdin stdin - <"$DATA/stdin.txt"
	expect_feed load__stdin_entries stdin 198.19.41.0/24 2001:db8:41::1/128
}

case_load__bad_line_applies_nothing() {
	local before after
	before=$(block_json)
	run block load "$DATA/bad.txt" --feed bad
	mxg_expect_eq load__bad_line_exit2 2 "$RC"
	mxg_expect_match load__bad_line_names_file_and_line \
		"$DATA/bad.txt:5: .*198\.19\.62\.300/24" "$ERR"
	after=$(block_json)
	mxg_expect_eq load__bad_line_entries_unchanged \
		"$(mxg_jq '[.block[] | .cidr + " " + .feed] | sort | join(",")' "$before")" \
		"$(mxg_jq '[.block[] | .cidr + " " + .feed] | sort | join(",")' "$after")"
	if [ "$before" == "$after" ]; then
		mxg_pass load__bad_line_list_json_identical
	else
		mxg_fail load__bad_line_list_json_identical "identical block list --json" \
			"$(diff <(jq -S . <<<"$before") <(jq -S . <<<"$after") | head -5 | tr '\n' ' ')"
	fi
	mxg_expect_eq load__bad_line_first_lines_not_applied 0 \
		"$(mxg_jq '[.block[] | select(.cidr == "198.19.60.0/24")] | length' "$after")"
}

case_list__feed_filters() {
	local j
	j=$(block_json --feed drop)
	mxg_expect_eq list__feed_only_its_entries "drop" \
		"$(mxg_jq '[.block[] | .feed] | unique | join(",")' "$j")"
	mxg_expect_eq list__feed_count 3 "$(mxg_jq '.block | length' "$j")"
	j=$(block_json --feed manual)
	mxg_expect_eq list__feed_manual_has_the_16 "manual" \
		"$(mxg_jq "[.block[] | select(.cidr == \"$NET16\") | .feed] | join(\",\")" "$j")"
	mxg_expect_eq list__feed_manual_only_manual "manual" \
		"$(mxg_jq '[.block[] | .feed] | unique | join(",")' "$j")"
	run block list --feed nosuchfeed --json
	mxg_expect_eq list__unknown_feed_exit2 2 "$RC"
	mxg_expect_match list__unknown_feed_named "no feed named 'nosuchfeed'" "$ERR"
}

case_sync__leaves_manual_and_other_feeds() {
	local others_before
	run block add 198.19.74.9 --reason "manual, also in the sync file"
	expect_ok sync__manual_add
	run block add 198.19.75.0/24
	expect_ok sync__manual_add_2
	load_feed sync__first_load syncme "$DATA/sync1.txt"
	others_before=$(mxg_jq '[.block[] | select(.feed != "syncme") | .cidr + " " + .feed] | sort | join(",")' \
		"$(block_json)")

	run block sync "$DATA/sync2.txt" --feed syncme
	expect_ok sync__exit_status
	expect_feed sync__feed_holds_exactly_the_file syncme 198.19.71.0/24 \
		198.19.72.7/32 2001:db8:70::/48 198.19.73.0/24
	mxg_expect_eq sync__other_feeds_and_manual_untouched "$others_before" \
		"$(mxg_jq '[.block[] | select(.feed != "syncme") | .cidr + " " + .feed] | sort | join(",")' \
			"$(block_json)")"
	mxg_expect_eq sync__other_feed_entry_stays_theirs plain \
		"$(block_field 198.19.10.0/24 feed)"
	mxg_expect_eq sync__manual_entry_stays_manual manual \
		"$(block_field 198.19.74.9/32 feed)"
	mxg_expect_eq sync__manual_reason_kept "manual, also in the sync file" \
		"$(block_field 198.19.74.9/32 reason)"
	mxg_expect_eq sync__removed_entry_gone "<listed 0 times>" \
		"$(block_field 198.19.70.0/24 feed)"
}

case_allow__reports_shadowed() {
	run block add 198.19.80.0/24
	expect_ok shadow__block_add_24
	run block add 198.19.80.7
	expect_ok shadow__block_add_host
	run allow add 198.19.80.0/25 --comment relay
	expect_ok shadow__allow_add
	mxg_expect_match shadow__reports_block_24 \
		"198\.19\.80\.0/25 shadows block entry 198\.19\.80\.0/24 \(feed manual\)" "$OUT"
	mxg_expect_match shadow__reports_block_host \
		"198\.19\.80\.0/25 shadows block entry 198\.19\.80\.7/32 \(feed manual\)" "$OUT"
	mxg_expect_eq shadow__reports_nothing_else 2 "$(grep -c 'shadows block entry' <<<"$OUT")"
}

case_list__marks_shadowed() {
	local j
	j=$(block_json)
	mxg_expect_eq list__shadowed_24 "198.19.80.0/25" \
		"$(mxg_jq '.block[] | select(.cidr == "198.19.80.0/24") | .shadowed_by' "$j")"
	mxg_expect_eq list__shadowed_host "198.19.80.0/25" \
		"$(mxg_jq '.block[] | select(.cidr == "198.19.80.7/32") | .shadowed_by' "$j")"
	mxg_expect_eq list__shadowed_16_by_partner "$PARTNER/32" \
		"$(mxg_jq ".block[] | select(.cidr == \"$NET16\") | .shadowed_by" "$j")"
	mxg_expect_eq list__not_shadowed_is_null null \
		"$(mxg_jq '.block[] | select(.cidr == "198.19.73.0/24") | .shadowed_by' "$j")"
}

# expect_check CASE ADDRESS VERDICT REASON NALLOW NBLOCK: `check --json` gives
# this verdict and reason for every one of the seven services.
expect_check() {
	local name=$1 addr=$2 verdict=$3 reason=$4 nallow=$5 nblock=$6 j
	run check "$addr" --json
	expect_ok "$name/exit_status"
	j=$OUT
	mxg_expect_eq "$name/addr" "$addr" "$(mxg_jq .addr "$j")"
	mxg_expect_eq "$name/seven_services" 7 "$(mxg_jq '.services | length' "$j")"
	mxg_expect_eq "$name/verdict_every_service" "$verdict" \
		"$(mxg_jq '[.services[] | .verdict] | unique | join(",")' "$j")"
	mxg_expect_eq "$name/reason_every_service" "$reason" \
		"$(mxg_jq '[.services[] | .reason] | unique | join(",")' "$j")"
	mxg_expect_eq "$name/allow_matches" "$nallow" "$(mxg_jq '.allow | length' "$j")"
	mxg_expect_eq "$name/block_matches" "$nblock" "$(mxg_jq '.block | length' "$j")"
	CHECK_JSON=$j
}

case_check__verdicts() {
	expect_check check__partner "$PARTNER" pass allow 1 1
	mxg_expect_eq check__partner_comment "$PARTNER_NOTE" \
		"$(mxg_jq '.allow[0].comment' "$CHECK_JSON")"
	mxg_expect_eq check__partner_blocked_range_shown "$NET16" \
		"$(mxg_jq '.block[0].cidr' "$CHECK_JSON")"
	expect_check check__blocked "$OTHER" drop block 0 1
	mxg_expect_eq check__blocked_feed manual "$(mxg_jq '.block[0].feed' "$CHECK_JSON")"
	mxg_expect_eq check__blocked_reason "abuse from the /16" \
		"$(mxg_jq '.block[0].reason' "$CHECK_JSON")"
	expect_check check__feed_entry 198.19.21.9 drop block 0 1
	mxg_expect_eq check__feed_entry_feed drop "$(mxg_jq '.block[0].feed' "$CHECK_JSON")"
	expect_check check__unknown_v6 2001:db8:99::5 pass admit 0 0
	expect_check check__unknown_v4 198.19.99.9 pass admit 0 0
}

case_allow__load_with_comments() {
	local j
	run allow load "$DATA/allow.txt" --comment "monitoring"
	expect_ok allow_load__exit_status
	j=$(mxg allow list --json)
	mxg_expect_eq allow_load__hash_comment "partner: example corp MX" \
		"$(mxg_jq '.allow[] | select(.cidr == "198.19.50.0/24") | .comment' "$j")"
	mxg_expect_eq allow_load__semicolon_comment "partner: example v6 relay" \
		"$(mxg_jq '.allow[] | select(.cidr == "2001:db8:50::/48") | .comment' "$j")"
	mxg_expect_eq allow_load__default_comment "monitoring" \
		"$(mxg_jq '.allow[] | select(.cidr == "198.19.51.7/32") | .comment' "$j")"
	mxg_expect_eq allow_load__entries_added 5 "$(mxg_jq '.allow | length' "$j")"
}

# ---- main -------------------------------------------------------------------

main() {
	mxg_require_mxguard
	[ -d "$DATA" ] || mxg_fatal setup "fixtures missing: $DATA"
	command -v gzip >/dev/null || mxg_fatal setup "command gzip not found"
	mxg_sandbox_up
	mxg_client_addr "$PARTNER" "$OTHER"
	# The clients live outside the server's /24: a device route back to them.
	mxg_ip "$MXG_SRV" -4 route add 198.18.5.0/24 dev "$MXG_SRV_IF"
	mxg_server_start 25 60

	case_setup__attach
	case_partner__delivers_inside_blocked_16
	case_block__overlap_needs_force
	case_block__broader_than_8_needs_force
	case_load__formats
	case_load__bad_line_applies_nothing
	case_list__feed_filters
	case_sync__leaves_manual_and_other_feeds
	case_allow__reports_shadowed
	case_list__marks_shadowed
	case_check__verdicts
	case_allow__load_with_comments
	mxg_done
}

main "$@"

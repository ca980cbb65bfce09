#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The outbound side in the reports: after real outbound connections and
# local connects in this test's namespaces and cgroup, `stats` (--json,
# --prometheus, table), `dump` (JSON, CSV, gzip) and `events` carry the
# outbound and local data, and `mxguard run` sends the alert command an
# outbound warn, a local limit and a cap, with key=value log lines. Before
# the outbound programs are attached, stats and dump are as they were.
# Usage: tests/e2e/test_outbound_report.sh   (root)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
# shellcheck source=tests/lib/outbound.sh
. "$(dirname "$0")/../lib/outbound.sh"

# Warn at 60/min (burst 10): 50 connections at 5/s cross it after ~2.5 s.
WARN_N=50 OUT_RATE=5
# Cap at 60/min (burst 10): 40 connections at 10/s, ~12 get through.
CAP_N=40 CAP_RATE=10
# Local: per uid 60/min burst 5; 20 quick connects, 15 or so refused.
LOCAL_N=20 UID_BURST=5
ALERTS= LOG= RUN_PID= HAVE_LOCAL=0
# The CSV columns (the last nine came with the outbound records).
CSV_HEAD=record,key,value,service,addr,syns,drops,would_drops,first_seen,last_seen,limited,tokens,rate,burst,ports,comment,feed,reason,added,expires,expired,hits,last_hit,per_min,id,name,conns,refused,trusted,last_comm,last_uid,last_cgroup

wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
	local i n=$(($1 * 10)); shift
	for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

alert_has() { grep -q "\"event\":\"$1\"" "$ALERTS" 2>/dev/null; }
# The first alert of an event, as one JSON document.
alert_get() { grep -m1 "\"event\":\"$1\"" "$ALERTS" 2>/dev/null; }

# csv_field CSV RECORD MATCH_COLUMN MATCH_VALUE COLUMN: the one row's field.
csv_field() {
	awk -F, -v rec="$2" -v mc="$3" -v mv="$4" -v col="$5" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == rec && $c[mc] == mv { print $c[col]; n++ }
		END { if (n != 1) print "<" n + 0 " rows>" }' <<<"$1"
}

start_run() {
	mxg_alert_command "$ALERTS"
	cat >"$MXG_TMP/m.conf" <<EOC
[mxguard]
interfaces = $MXG_SRV_IF
xdp_mode = generic

[alert]
command = $MXG_TMP/alert.sh
min_interval = 1s
EOC
	export MXGUARD_STATE_DIR=$MXG_TMP/state
	ip netns exec "$MXG_SRV" "$MXG_BIN" run --config "$MXG_TMP/m.conf" 2>>"$LOG" &
	RUN_PID=$!
	MXG_PIDS+=("$RUN_PID")
	wait_for 10 grep -q 'msg="running"' "$LOG" ||
		mxg_fatal setup "mxguard run did not start: $(tail -3 "$LOG")"
	# Its first reading of the outbound maps is the baseline.
	sleep 1.5
}

# ---- before the outbound programs: as it always was ---------------------------

case_before__stats_and_dump_as_before() {
	local j p csv
	j=$(mxg stats --json)
	mxg_expect_eq before__stats_outbound_null null "$(mxg_jq .outbound "$j")"
	mxg_expect_eq before__stats_local_null null "$(mxg_jq .local "$j")"
	mxg_expect_match before__stats_keys_kept '^[0-9]+ [0-9]+ [0-9]+$' \
		"$(mxg_jq '"\(.passed) \(.dropped) \(.counters.smtp.admit)"' "$j")"
	p=$(mxg stats --prometheus)
	mxg_expect_eq before__prometheus_no_outbound 0 "$(grep -c '^mxguard_\(outbound\|local\)_' <<<"$p")"
	mxg_expect_eq before__prometheus_packets_kept 1 \
		"$(grep -c '^mxguard_packets_total{service="smtp",verdict="admit"} ' <<<"$p")"
	mxg_expect_eq before__stats_table_no_outbound 0 \
		"$(mxg stats | grep -c '^outbound\|^local')"
	j=$(mxg dump)
	mxg_expect_eq before__dump_outbound_null "1 null null" \
		"$(mxg_jq '"\(.schema_version) \(.outbound) \(.local)"' "$j")"
	csv=$(mxg dump --format csv)
	mxg_expect_eq before__csv_header "$CSV_HEAD" "$(head -n 1 <<<"$csv")"
	mxg_expect_eq before__csv_no_outbound_rows 0 "$(grep -c '^\(outbound\|local\)_' <<<"$csv")"
	mxg events --side outbound --timeout 1 >/dev/null 2>"$MXG_TMP/ev.err"
	mxg_expect_eq before__events_outbound_side_exit2 2 "$?"
	mxg_expect_match before__events_outbound_side_says_so "never attached" "$(cat "$MXG_TMP/ev.err")"
	mxg_expect_eq before__events_both_exit0 0 \
		"$(mxg events --json --timeout 1 >/dev/null; echo $?)"
}

# ---- the service's alerts ----------------------------------------------------------

case_run__warn_alert() {
	local a
	out_connect_bg warn "$MXG_SRV4" "$MX4" "$WARN_N" "$OUT_RATE"
	wait_for 20 alert_has outbound_warn
	mxg_expect_eq run__warn_alert_sent 0 $?
	mxg_wait_all
	mxg_expect_eq run__warn_traffic_all_ok "$WARN_N" "$(mxg_result warn ok)"
	a=$(alert_get outbound_warn)
	mxg_expect_eq run__warn_alert_threshold 60/min "$(mxg_jq .threshold "$a")"
	mxg_expect_eq run__warn_alert_episodes 1 "$(mxg_jq .episodes "$a")"
	mxg_expect_eq run__warn_alert_top_destination "$MX4_NET" "$(mxg_jq .top_destination "$a")"
	mxg_expect_eq run__warn_alert_top_source "$MXG_SRV4" "$(mxg_jq .top_source "$a")"
	mxg_expect_range run__warn_alert_per_min 10 "$WARN_N" "$(mxg_jq .per_min "$a")"
	mxg_expect_match run__warn_logged \
		"level=warn msg=\"outbound rate over warn threshold\" per_min=[0-9]+ threshold=60/min episodes=1 .*top_destination=$MX4_NET .*top_source=$MXG_SRV4 " \
		"$(grep -m1 'outbound rate over warn threshold' "$LOG")"
	mxg_expect_match run__warn_alert_logged 'msg="alert sent" event=outbound_warn command=' \
		"$(grep -m1 'event=outbound_warn' "$LOG")"
}

case_run__local_alert() {
	local r ok ref oth a
	mxh local set --uid 60/min --uid-burst "$UID_BURST" >/dev/null ||
		mxg_fatal run__local "mxguard local set --uid 60/min failed"
	sleep 1.2 # the alert's min_interval
	r=$(local_connect "$LIM_UID" "$LOCAL_N" 127.0.0.1 25)
	read -r ok ref oth <<<"$r"
	LOCAL_REF=${ref:-}
	mxg_expect_range run__local_refused_some 1 "$LOCAL_N" "${ref:-<$r>}"
	wait_for 10 alert_has local_limit
	mxg_expect_eq run__local_alert_sent 0 $?
	a=$(alert_get local_limit)
	mxg_expect_eq run__local_alert_who "uid $LIM_UID 60/min" \
		"$(mxg_jq '"\(.kind) \(.id) \(.limit)"' "$a")"
	mxg_expect_range run__local_alert_refused 1 "$LOCAL_N" "$(mxg_jq .refused "$a")"
	mxg_expect_eq run__local_alert_comm mxg-conn "$(mxg_jq .last_comm "$a")"
	mxg_expect_eq run__local_alert_cgroup "$CGID" "$(mxg_jq .last_cgroup "$a")"
	mxg_expect_match run__local_logged \
		"level=warn msg=\"local submitter over its limit\" kind=uid id=$LIM_UID .*limit=60/min .*last_comm=\"mxg-conn\"" \
		"$(grep -m1 'local submitter over its limit' "$LOG")"
}

case_run__cap_alert() {
	local a
	sleep 1.2 # the alert's min_interval
	# Warn off: its next episode would start in the same second and take
	# the one alert that second allows.
	mxg outbound set --warn off --cap 60/min >/dev/null ||
		mxg_fatal run__cap "mxguard outbound set --cap 60/min failed"
	out_connect_bg capped "$MXG_SRV4" "$MX4" "$CAP_N" "$CAP_RATE"
	wait_for 20 alert_has outbound_cap
	mxg_expect_eq run__cap_alert_sent 0 $?
	mxg_wait_all
	mxg_expect_range run__cap_dropped_some 1 "$CAP_N" "$(mxg_result capped failed)"
	a=$(alert_get outbound_cap)
	mxg_expect_eq run__cap_alert_threshold 60/min "$(mxg_jq .threshold "$a")"
	mxg_expect_range run__cap_alert_capped 1 "$CAP_N" "$(mxg_jq .capped "$a")"
	mxg_expect_eq run__cap_alert_top_destination "$MX4_NET" "$(mxg_jq .top_destination "$a")"
}

# ---- stats -------------------------------------------------------------------

case_stats__outbound_and_local() {
	local j p t capped
	j=$(mxh stats --json)
	capped=$(mxg_result capped failed)
	mxg_expect_eq stats__syns $((WARN_N + CAP_N)) "$(mxg_jq .outbound.total.syns "$j")"
	mxg_expect_eq stats__passed $((WARN_N + CAP_N - capped)) "$(mxg_jq .outbound.counters.smtp.pass "$j")"
	mxg_expect_eq stats__capped "$capped" "$(mxg_jq .outbound.total.capped "$j")"
	mxg_expect_eq stats__warn_episodes 1 "$(mxg_jq .outbound.total.warn.episodes "$j")"
	mxg_expect_eq stats__cap_episodes 1 "$(mxg_jq .outbound.total.cap.episodes "$j")"
	mxg_expect_eq stats__cap_threshold 60/min "$(mxg_jq .outbound.config.cap.rate "$j")"
	mxg_expect_eq stats__tracked "1 1" \
		"$(mxg_jq '"\(.outbound.tracked.destinations) \(.outbound.tracked.sources)"' "$j")"
	mxg_expect_eq stats__interface "$MXG_SRV_IF" "$(mxg_jq '.outbound.interfaces[0].name' "$j")"
	mxg_expect_eq stats__no_per_destination_rows null "$(mxg_jq .outbound.destinations "$j")"
	mxg_expect_eq stats__xdp_keys_kept number \
		"$(mxg_jq '.counters.smtp.admit | type' "$j")"
	if [ "$HAVE_LOCAL" = 1 ]; then
		mxg_expect_eq stats__local_refused "$LOCAL_REF" \
			"$(mxg_jq .local.counters.smtp.limit_uid "$j")"
		# Limited means over the limit now: the bucket has refilled.
		mxg_expect_eq stats__local_limited_uids 0 "$(mxg_jq .local.limited.uids "$j")"
		mxg_expect_range stats__local_tracked_uids 1 5 "$(mxg_jq .local.tracked.uids "$j")"
		mxg_expect_eq stats__local_cgroup_path "${CG#"$CG2"}" \
			"$(mxg_jq '.local.cgroups_attached[0].path' "$j")"
	fi
	p=$(mxh stats --prometheus)
	mxg_expect_eq stats__prom_pass 1 \
		"$(grep -cxF "mxguard_outbound_syns_total{port=\"smtp\",verdict=\"pass\"} $((WARN_N + CAP_N - capped))" <<<"$p")"
	mxg_expect_eq stats__prom_cap 1 \
		"$(grep -cxF "mxguard_outbound_syns_total{port=\"smtp\",verdict=\"cap\"} $capped" <<<"$p")"
	mxg_expect_eq stats__prom_warn_episodes 1 \
		"$(grep -cxF 'mxguard_outbound_warn_episodes_total 1' <<<"$p")"
	mxg_expect_eq stats__prom_tracked 1 \
		"$(grep -cxF 'mxguard_outbound_tracked{table="destinations"} 1' <<<"$p")"
	mxg_expect_eq stats__prom_no_per_destination 0 \
		"$(grep -c '^mxguard_outbound_destination_syns_total{' <<<"$p")"
	mxg_expect_eq stats__prom_packets_kept 1 \
		"$(grep -c '^mxguard_packets_total{service="smtp",verdict="admit"} ' <<<"$p")"
	mxg_expect_eq stats__prom_one_type_per_family 0 \
		"$(grep '^# TYPE ' <<<"$p" | sort | uniq -d | wc -l)"
	if [ "$HAVE_LOCAL" = 1 ]; then
		mxg_expect_eq stats__prom_local_refused 1 \
			"$(grep -cxF "mxguard_local_connects_total{port=\"smtp\",verdict=\"limit_uid\"} $LOCAL_REF" <<<"$p")"
		mxg_expect_eq stats__prom_local_tracked 1 \
			"$(grep -cxF 'mxguard_local_tracked{kind="cgroup"} 1' <<<"$p")"
	fi
	# In the server's namespace, where the interface is.
	t=$(mxg stats)
	mxg_expect_match stats__table_outbound \
		"outbound \(egress of $MXG_SRV_IF\): $((WARN_N + CAP_N)) new SMTP connections" "$t"
	mxg_expect_match stats__table_cap "cap 60/min \(burst 10\): (DROPPING|no) \(1 episodes" "$t"
}

# ---- dump ----------------------------------------------------------------------

case_dump__json() {
	local j f=$MXG_TMP/out/d.json.gz
	j=$(mxh dump)
	mxg_expect_eq dump__schema_version 1 "$(mxg_jq .schema_version "$j")"
	mxg_expect_eq dump__destination_syns $((WARN_N + CAP_N)) \
		"$(mxg_jq ".outbound.destinations[] | select(.prefix == \"$MX4_NET\") | .syns" "$j")"
	mxg_expect_eq dump__destination_drops "$(mxg_result capped failed)" \
		"$(mxg_jq ".outbound.destinations[] | select(.prefix == \"$MX4_NET\") | .drops" "$j")"
	mxg_expect_eq dump__source_syns $((WARN_N + CAP_N)) \
		"$(mxg_jq ".outbound.sources[] | select(.addr == \"$MXG_SRV4\") | .syns" "$j")"
	mxg_expect_eq dump__outbound_allow smarthost \
		"$(mxg_jq ".outbound.allow[] | select(.cidr == \"$SMART4/32\") | .comment" "$j")"
	mxg_expect_eq dump__sources_kept array "$(mxg_jq '.sources | type' "$j")"
	if [ "$HAVE_LOCAL" = 1 ]; then
		mxg_expect_eq dump__local_uid_refused "$LOCAL_REF" \
			"$(mxg_jq ".local.uids[] | select(.uid == $LIM_UID) | .refused" "$j")"
		mxg_expect_eq dump__local_uid_conns "$LOCAL_N" \
			"$(mxg_jq ".local.uids[] | select(.uid == $LIM_UID) | .conns" "$j")"
		mxg_expect_eq dump__local_cgroup_named "${CG#"$CG2"}" \
			"$(mxg_jq ".local.cgroups[] | select(.id == $CGID) | .path" "$j")"
		mxg_expect_eq dump__local_trust "test: trusted" \
			"$(mxg_jq ".local.trusted[] | select(.id == $TRUST_UID) | .comment" "$j")"
	fi
	mkdir -p "$MXG_TMP/out"
	mxh dump -o "$f"
	mxg_expect_eq dump__gzip_has_outbound $((WARN_N + CAP_N)) \
		"$(gzip -dc "$f" | jq ".outbound.destinations[] | select(.prefix == \"$MX4_NET\") | .syns" 2>&1)"
}

case_dump__csv() {
	local c cols
	c=$(mxh dump --format csv)
	mxg_expect_eq csv__header "$CSV_HEAD" "$(head -n 1 <<<"$c")"
	mxg_expect_eq csv__destination_syns $((WARN_N + CAP_N)) \
		"$(csv_field "$c" outbound_destination addr "$MX4_NET" syns)"
	mxg_expect_eq csv__destination_drops "$(mxg_result capped failed)" \
		"$(csv_field "$c" outbound_destination addr "$MX4_NET" drops)"
	mxg_expect_eq csv__source_syns $((WARN_N + CAP_N)) \
		"$(csv_field "$c" outbound_source addr "$MXG_SRV4" syns)"
	mxg_expect_eq csv__warn_episodes 1 "$(csv_field "$c" outbound_meta key warn_episodes value)"
	mxg_expect_eq csv__cap_limit 60/min "$(csv_field "$c" outbound_limit key cap rate)"
	mxg_expect_eq csv__counter_cap "$(mxg_result capped failed)" \
		"$(awk -F, '$1 == "outbound_counter" && $4 == "smtp" && $2 == "cap" { print $3 }' <<<"$c")"
	mxg_expect_eq csv__outbound_allow smarthost "$(csv_field "$c" outbound_allow addr "$SMART4/32" comment)"
	if [ "$HAVE_LOCAL" = 1 ]; then
		mxg_expect_eq csv__local_uid_refused "$LOCAL_REF" \
			"$(csv_field "$c" local_uid id "$LIM_UID" refused)"
		mxg_expect_eq csv__local_uid_conns "$LOCAL_N" "$(csv_field "$c" local_uid id "$LIM_UID" conns)"
		mxg_expect_eq csv__local_cgroup_named "${CG#"$CG2"}" \
			"$(csv_field "$c" local_cgroup id "$CGID" name)"
	fi
	# Unquoted rows have every column.
	cols=$(grep -v '"' <<<"$c" | awk -F, '{ print NF }' | sort -u | tr '\n' ' ')
	mxg_expect_eq csv__column_count "32 " "$cols"
}

# ---- events ------------------------------------------------------------------

case_events__merged() {
	local j
	# The service reads the maps, not the ring buffers: the events are
	# all still there. The XDP side alone first: it leaves them.
	j=$(mxg events --side inbound --json --timeout 1 | jq -sc .)
	mxg_expect_eq events__inbound_side_no_outbound 0 \
		"$(mxg_jq '[.[] | select(.type == "warn_start" or .type == "cap_start")] | length' "$j")"
	j=$(mxg events --json --timeout 1 | jq -sc .)
	mxg_expect_eq events__warn_start 1 "$(mxg_jq '[.[] | select(.type == "warn_start")] | length' "$j")"
	mxg_expect_eq events__warn_start_dst "$MX4" \
		"$(mxg_jq '[.[] | select(.type == "warn_start")][0].dst' "$j")"
	mxg_expect_eq events__cap_start 1 "$(mxg_jq '[.[] | select(.type == "cap_start")] | length' "$j")"
	if [ "$HAVE_LOCAL" = 1 ]; then
		mxg_expect_eq events__local_limit_start "$LIM_UID" \
			"$(mxg_jq '[.[] | select(.type == "local_limit_start" and .kind == "uid")][0].id' "$j")"
	fi
}

# ---- main ----------------------------------------------------------------------

main() {
	local out rc
	mxg_require_mxguard
	mxg_sandbox_up
	trap 'out_cleanup; mxg_cleanup' EXIT
	out_sandbox_up 150
	ALERTS=$MXG_TMP/alerts.jsonl LOG=$MXG_TMP/run.log
	out=$(mxg attach "$MXG_SRV_IF" --mode generic 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] || mxg_fatal setup "attach exited $rc: $out"

	case_before__stats_and_dump_as_before

	out=$(mxg outbound attach "$MXG_SRV_IF" 2>&1) ||
		mxg_fatal setup "outbound attach: $out"
	mxg outbound set --warn 60/min >/dev/null || mxg_fatal setup "outbound set --warn"
	mxg outbound allow add "$SMART4" --comment smarthost >/dev/null ||
		mxg_fatal setup "outbound allow add $SMART4"
	if local_setup; then
		HAVE_LOCAL=1
		out=$(mxh local attach "$CG" 2>&1) || mxg_fatal setup "local attach $CG: $out"
		mxh local allow uid "$TRUST_UID" --comment "test: trusted" >/dev/null ||
			mxg_fatal setup "local allow uid $TRUST_UID"
	fi
	start_run

	case_run__warn_alert
	[ "$HAVE_LOCAL" = 1 ] && case_run__local_alert
	case_run__cap_alert
	case_stats__outbound_and_local
	case_dump__json
	case_dump__csv
	case_events__merged
	kill -TERM "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	mxg_forget_pid "$RUN_PID"
	mxg_expect_eq run__no_outbound_error_logged 0 \
		"$(grep -c 'level=error.*outbound' "$LOG")"
	mxg_done
}

main "$@"

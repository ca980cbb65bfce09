#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Forensics end to end: after a flood from several sources on two services,
# `top --json`, `dump` (JSON, CSV, gzip) and `events --json` must tell exactly
# what happened: per source and service the SYNs the clients sent and the
# drops they suffered; `stats --prometheus` must be valid exposition text;
# and monitor mode must count as would-drops exactly what enforce dropped.
# Usage: tests/e2e/test_forensics.sh   (root; env MXG_XDP_MODE=auto|native|generic)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

XDP_MODE=${MXG_XDP_MODE:-auto}

# A limit of 1/hour with burst 5 admits exactly 5 per source and service,
# however the flood is paced: every count below is exact, no ranges. Each
# source sits in its own /24 (/48) so that the network bucket, which sees
# only admitted SYNs and allows far more, never takes part.
BURST=5 N=30 RATE=15
PORTS=(25 587)
SVCS=(smtp submission)
# Enforce-phase and monitor-phase sources (fresh ones per phase), and their
# source keys as mxguard prints them (IPv6 keys are the /64).
E_SRC=(198.18.11.5 198.18.12.5 198.18.13.5 2001:db8:11::5)
E_KEY=(198.18.11.5 198.18.12.5 198.18.13.5 2001:db8:11::)
M_SRC=(198.18.21.5 198.18.22.5 198.18.23.5 2001:db8:21::5)
M_KEY=(198.18.21.5 198.18.22.5 198.18.23.5 2001:db8:21::)
C_SRC=198.18.41.5       # the --count case
P4=198.18.31.7          # allowlisted partner
B4=198.18.32.7          # blocklisted
P_COMMENT='partner "A", MX'
B_REASON='dictionary, AUTH'
LIST_N=5                # connections from the partner and the blocked source
EV_TIMEOUT=7            # seconds the enforce-phase `events` runs

DUMP='' DUMP_CSV='' TOP=''

dst_of() { if [[ "$1" == *:* ]]; then echo "$MXG_SRV6"; else echo "$MXG_SRV4"; fi; }

# The `i`th source of a phase on the `k`th service: its client's name.
cname() { echo "$1$2_${PORTS[$3]}"; }

# flood PHASE SOURCES...: every source against every port, all at once.
flood() {
	local ph=$1 i k; shift
	i=0
	for src in "$@"; do
		for k in "${!PORTS[@]}"; do
			mxg_connect_bg "$(cname "$ph" "$i" "$k")" "$src" "$(dst_of "$src")" \
				"${PORTS[$k]}" "$N" "$RATE"
		done
		i=$((i + 1))
	done
}

# events_bg NAME ARGS...: `mxguard events` in the background; PID in EV_PID.
events_bg() {
	local name=$1; shift
	ip netns exec "$MXG_SRV" "$MXG_BIN" events "$@" \
		>"$MXG_TMP/$name.out" 2>"$MXG_TMP/$name.err" &
	EV_PID=$!
	MXG_PIDS+=("$EV_PID")
}

# wait_pid PID: its exit status; then forget it.
wait_pid() {
	local rc
	wait "$1"
	rc=$?
	mxg_forget_pid "$1"
	return "$rc"
}

# Failed attempts of every source of a phase on the kth port, summed.
sum_failed() { # PHASE K
	local i v s=0
	for i in "${!E_SRC[@]}"; do
		v=$(mxg_result "$(cname "$1" "$i" "$2")" failed)
		[[ "$v" =~ ^[0-9]+$ ]] || { echo "$v"; return; }
		s=$((s + v))
	done
	echo "$s"
}

# A field of the source record (addr, service) in a dump.
dump_src() { # JSON ADDR SERVICE FIELD
	mxg_jq "[.sources[] | select(.addr == \"$2\" and .service == \"$3\")] |
		if length == 1 then .[0].$4 else \"<\(length) records>\" end" "$1"
}

# Column number of a CSV header field.
csv_col() { # CSV NAME
	head -n 1 <<<"$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1
}

# A field of the source row (addr, service) of a CSV dump.
csv_src() { # CSV ADDR SERVICE FIELD
	local a s f
	a=$(csv_col "$1" addr) s=$(csv_col "$1" service) f=$(csv_col "$1" "$4")
	if [ -z "$a" ] || [ -z "$s" ] || [ -z "$f" ]; then
		echo "<no column $4>"
		return
	fi
	awk -F, -v a="$a" -v s="$s" -v f="$f" -v addr="$2" -v svc="$3" \
		'$1 == "source" && $a == addr && $s == svc { print $f; n++ }
		 END { if (n != 1) print "<" n + 0 " rows>" }' <<<"$1"
}

# Events (JSON Lines) matching a jq condition: how many.
ev_count() { # FILE CONDITION
	jq -s "[.[] | select($2)] | length" "$1" 2>/dev/null || echo "<invalid JSON Lines>"
}

# Every line one complete JSON document: prints the number of bad lines.
jsonl_bad() {
	local line bad=0
	while IFS= read -r line; do
		jq -e . >/dev/null 2>&1 <<<"$line" || bad=$((bad + 1))
	done <"$1"
	echo "$bad"
}

# ---- setup ------------------------------------------------------------------

setup() {
	local out rc
	mxg_client_addr "${E_SRC[@]}" "${M_SRC[@]}" "$C_SRC" "$P4" "$B4"
	# Sources outside the server's /24: a device route back to them.
	mxg_ip "$MXG_SRV" -4 route add 198.18.0.0/15 dev "$MXG_SRV_IF"
	mxg_server_start 25,587 120
	out=$(mxg attach "$MXG_SRV_IF" --mode "$XDP_MODE" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] || mxg_fatal setup "attach exited $rc: $out"
	mxg limit set all --rate 1/hour --burst "$BURST" >/dev/null ||
		mxg_fatal setup "limit set all --rate 1/hour --burst $BURST failed"
	mxg allow add "$P4" --comment "$P_COMMENT" >/dev/null ||
		mxg_fatal setup "allow add $P4 failed"
	mxg block add "$B4" --reason "$B_REASON" >/dev/null ||
		mxg_fatal setup "block add $B4 failed"
}

# ---- enforce phase ------------------------------------------------------------

phase_enforce() {
	local rc
	# Started before the flood; events of the flood's first moments wait in
	# the ring buffer until it reads them, so there is no start-up race.
	events_bg ev_enforce --json --timeout "$EV_TIMEOUT"
	local ev=$EV_PID
	flood e "${E_SRC[@]}"
	mxg_connect_bg partner "$P4" "$MXG_SRV4" 25 "$LIST_N" "$RATE"
	mxg_connect_bg blocked "$B4" "$MXG_SRV4" 25 "$LIST_N" "$RATE"
	mxg_wait_all
	wait_pid "$ev"
	rc=$?
	mxg_expect_eq events__timeout_exits_0 0 "$rc"
	TOP=$(mxg top -n 1000 --json)
	DUMP=$(mxg dump)
	DUMP_CSV=$(mxg dump --format csv)
}

case_clients__as_limited() {
	local i k n
	for i in "${!E_SRC[@]}"; do
		for k in "${!PORTS[@]}"; do
			n=$(cname e "$i" "$k")
			mxg_expect_eq "clients__${n}_attempts" "$N" "$(mxg_result "$n" attempts)"
			mxg_expect_eq "clients__${n}_ok_is_burst" "$BURST" "$(mxg_result "$n" ok)"
		done
	done
	mxg_expect_eq clients__partner_all_ok "$LIST_N" "$(mxg_result partner ok)"
	mxg_expect_eq clients__blocked_none_ok 0 "$(mxg_result blocked ok)"
}

# top, dump JSON and dump CSV agree with the clients: syns = attempts,
# drops = failed attempts (one SYN each: the client gives up before the
# kernel retransmits), syns - drops = connections the server accepted.
case_top__per_source() {
	local i k n key svc
	mxg_expect_match top__json "^[0-9]+$" "$(mxg_jq .tracked "$TOP")"
	for i in "${!E_SRC[@]}"; do
		key=${E_KEY[$i]}
		for k in "${!PORTS[@]}"; do
			n=$(cname e "$i" "$k") svc=${SVCS[$k]}
			mxg_expect_eq "top__${n}_syns" "$(mxg_result "$n" attempts)" \
				"$(mxg_jq ".sources[] | select(.addr == \"$key\") | .services.$svc.syns" "$TOP")"
			mxg_expect_eq "top__${n}_drops_eq_failed" "$(mxg_result "$n" failed)" \
				"$(mxg_jq ".sources[] | select(.addr == \"$key\") | .services.$svc.drops" "$TOP")"
		done
	done
}

case_dump__json_per_source() {
	local i k n key svc syns drops
	for i in "${!E_SRC[@]}"; do
		key=${E_KEY[$i]}
		for k in "${!PORTS[@]}"; do
			n=$(cname e "$i" "$k") svc=${SVCS[$k]}
			syns=$(dump_src "$DUMP" "$key" "$svc" syns)
			drops=$(dump_src "$DUMP" "$key" "$svc" drops)
			mxg_expect_eq "dump__${n}_syns" "$(mxg_result "$n" attempts)" "$syns"
			mxg_expect_eq "dump__${n}_drops_eq_failed" "$(mxg_result "$n" failed)" "$drops"
			if [[ "$syns" =~ ^[0-9]+$ && "$drops" =~ ^[0-9]+$ ]]; then
				mxg_expect_eq "dump__${n}_admitted_eq_ok" "$(mxg_result "$n" ok)" \
					$((syns - drops))
			else
				mxg_fail "dump__${n}_admitted_eq_ok" "numbers" "'$syns' '$drops'"
			fi
			mxg_expect_eq "dump__${n}_would_drops" 0 "$(dump_src "$DUMP" "$key" "$svc" would_drops)"
			mxg_expect_eq "dump__${n}_limited" true "$(dump_src "$DUMP" "$key" "$svc" limited)"
			mxg_expect_match "dump__${n}_first_seen" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
				"$(dump_src "$DUMP" "$key" "$svc" first_seen)"
		done
	done
}

case_dump__json_document() {
	mxg_expect_eq dump__schema_version 1 "$(mxg_jq .schema_version "$DUMP")"
	mxg_expect_match dump__time '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
		"$(mxg_jq .time "$DUMP")"
	mxg_expect_eq dump__host "$(uname -n)" "$(mxg_jq .host "$DUMP")"
	mxg_expect_eq dump__kernel "$(uname -r)" "$(mxg_jq .kernel "$DUMP")"
	mxg_expect_eq dump__pin_dir "$MXGUARD_PIN_DIR" "$(mxg_jq .pin_dir "$DUMP")"
	mxg_expect_eq dump__mode enforce "$(mxg_jq .mode "$DUMP")"
	mxg_expect_eq dump__interface "$MXG_SRV_IF" "$(mxg_jq '.interfaces[0].name' "$DUMP")"
	mxg_expect_eq dump__interface_present true "$(mxg_jq '.interfaces[0].present' "$DUMP")"
	mxg_expect_eq dump__limit_burst "$BURST" "$(mxg_jq .limits.smtp.burst "$DUMP")"
	mxg_expect_eq dump__limit_rate "1/hour" "$(mxg_jq .limits.smtp.rate "$DUMP")"
	mxg_expect_eq dump__limit_ports 587 "$(mxg_jq '.limits.submission.ports | join(",")' "$DUMP")"
	mxg_expect_eq dump__keys_in_order \
		"schema_version,time,host,kernel,mode,interfaces,limits,counters,allow,block,sources" \
		"$(mxg_jq '[keys_unsorted[] | select(IN("schema_version","time","host","kernel","mode","interfaces","limits","counters","allow","block","sources"))] | join(",")' "$DUMP")"
	mxg_expect_eq dump__counter_smtp_limit "$(sum_failed e 0)" \
		"$(mxg_jq .counters.smtp.limit "$DUMP")"
	mxg_expect_eq dump__counter_submission_limit "$(sum_failed e 1)" \
		"$(mxg_jq .counters.submission.limit "$DUMP")"
	mxg_expect_eq dump__counter_smtp_block "$LIST_N" "$(mxg_jq .counters.smtp.block "$DUMP")"
	mxg_expect_eq dump__allow_comment "$P_COMMENT" \
		"$(mxg_jq ".allow[] | select(.cidr == \"$P4/32\") | .comment" "$DUMP")"
	mxg_expect_range dump__allow_hits "$LIST_N" 1000000 \
		"$(mxg_jq ".allow[] | select(.cidr == \"$P4/32\") | .hits" "$DUMP")"
	mxg_expect_eq dump__block_reason "$B_REASON" \
		"$(mxg_jq ".block[] | select(.cidr == \"$B4/32\") | .reason" "$DUMP")"
	mxg_expect_eq dump__block_hits "$LIST_N" \
		"$(mxg_jq ".block[] | select(.cidr == \"$B4/32\") | .hits" "$DUMP")"
	mxg_expect_eq dump__block_feed manual \
		"$(mxg_jq ".block[] | select(.cidr == \"$B4/32\") | .feed" "$DUMP")"
	# Only admitted SYNs reach the network bucket, and each source has its
	# own network here.
	mxg_expect_eq dump__network_syns_eq_admitted "$BURST" \
		"$(mxg_jq '.networks[] | select(.prefix == "198.18.11.0/24" and .service == "smtp") | .syns' "$DUMP")"
	mxg_expect_eq dump__network_no_drops 0 \
		"$(mxg_jq '[.networks[].drops] | add' "$DUMP")"
	mxg_expect_eq dump__tracked_eq_top "$(mxg_jq .tracked "$TOP")" \
		"$(mxg_jq '.sources | length' "$DUMP")"
}

case_dump__csv() {
	local i k n key svc cols
	mxg_expect_eq csv__header \
		"record,key,value,service,addr,syns,drops,would_drops,first_seen,last_seen,limited,tokens,rate,burst,ports,comment,feed,reason,added,expires,expired,hits,last_hit,per_min,id,name,conns,refused,trusted,last_comm,last_uid,last_cgroup" \
		"$(head -n 1 <<<"$DUMP_CSV")"
	for i in "${!E_SRC[@]}"; do
		key=${E_KEY[$i]}
		for k in "${!PORTS[@]}"; do
			n=$(cname e "$i" "$k") svc=${SVCS[$k]}
			mxg_expect_eq "csv__${n}_syns" "$(mxg_result "$n" attempts)" \
				"$(csv_src "$DUMP_CSV" "$key" "$svc" syns)"
			mxg_expect_eq "csv__${n}_drops_eq_failed" "$(mxg_result "$n" failed)" \
				"$(csv_src "$DUMP_CSV" "$key" "$svc" drops)"
		done
	done
	mxg_expect_eq csv__source_rows_eq_json "$(mxg_jq '.sources | length' "$DUMP")" \
		"$(grep -c '^source,' <<<"$DUMP_CSV")"
	# Unquoted rows (all but allow and block here) have every column.
	cols=$(grep -v -e '^allow,' -e '^block,' <<<"$DUMP_CSV" | awk -F, '{ print NF }' | sort -u | tr '\n' ' ')
	# 23 columns, and the 9 of the outbound records after them.
	mxg_expect_eq csv__column_count "32 " "$cols"
	mxg_expect_eq csv__rfc4180_quoting 1 \
		"$(grep -c "^allow,.*,\"partner \"\"A\"\", MX\"," <<<"$DUMP_CSV")"
	mxg_expect_eq csv__quoted_reason 1 "$(grep -c "^block,.*,\"$B_REASON\"," <<<"$DUMP_CSV")"
	mxg_expect_eq csv__meta_schema "meta,schema_version,1" \
		"$(grep '^meta,schema_version,' <<<"$DUMP_CSV" | cut -d, -f1-3)"
}

# The fields that do not move while nothing is sent (tokens refill).
SRC_PROJ='[.sources[] | {addr, service, syns, drops, would_drops, first_seen, last_seen}] | sort_by(.addr, .service)'

case_dump__gzip_round_trip() {
	local f=$MXG_TMP/out/x.json.gz plain gz rc
	mkdir -p "$MXG_TMP/out"
	mxg dump -o "$f"
	rc=$?
	mxg_expect_eq gzip__exit_0 0 "$rc"
	plain=$(mxg dump | jq -c "$SRC_PROJ" 2>&1)
	gz=$(gzip -dc "$f" | jq -c "$SRC_PROJ" 2>&1)
	mxg_expect_eq gzip__sources_equal_uncompressed "$plain" "$gz"
	mxg_expect_match gzip__has_sources '^\[\{"addr"' "$gz"
	mxg_expect_eq gzip__mode_0600 600 "$(stat -c %a "$f" 2>&1)"
	mxg_expect_eq gzip__no_temporary_left "x.json.gz" \
		"$(find "$MXG_TMP/out" -mindepth 1 -printf '%f ' | sed 's/ $//')"
	gz=$(mxg dump --gzip | gzip -dc | jq -c "$SRC_PROJ" 2>&1)
	mxg_expect_eq gzip__stdout_equal_uncompressed "$plain" "$gz"
	# -o replaces an existing file whole.
	mxg dump --format csv -o "$MXG_TMP/out/x.json.gz" >/dev/null
	mxg_expect_eq gzip__replaced_as_csv record \
		"$(gzip -dc "$MXG_TMP/out/x.json.gz" | head -n 1 | cut -d, -f1)"
	mxg dump -o "$MXG_TMP/out/y.csv" --format csv
	mxg_expect_eq csv__file_equals_stdout \
		"$(mxg dump --format csv | grep '^source,' | cut -d, -f1-8 | sort)" \
		"$(grep '^source,' "$MXG_TMP/out/y.csv" | cut -d, -f1-8 | sort)"
}

# ---- stats --prometheus, line by line -----------------------------------------

# Prints "ok" or the first problem with the exposition text.
prom_check() {
	local name_re='[a-zA-Z_:][a-zA-Z0-9_:]*'
	local lval='"([^"\\]|\\["\\n])*"'
	local label_re="[a-zA-Z_][a-zA-Z0-9_]*=$lval"
	local labels_re="^$label_re(,$label_re)*,?$"
	local num_re='^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|Inf|inf)$|^NaN$'
	local help_re="^# HELP ($name_re) .+$"
	local type_re="^# TYPE ($name_re) (counter|gauge|histogram|summary|untyped)$"
	local sample_re="^($name_re)(\{(.*)\})? ([^ ]+)( -?[0-9]+)?$"
	local line fam name labels value last='' n=0 ln=0
	local -A help=() type=() sampled=() series=()
	while IFS= read -r line; do
		ln=$((ln + 1))
		if [[ "$line" =~ $help_re ]]; then
			fam=${BASH_REMATCH[1]}
			[ -z "${help[$fam]:-}" ] || { echo "line $ln: second HELP for $fam"; return; }
			[ -z "${sampled[$fam]:-}" ] || { echo "line $ln: HELP for $fam after its samples"; return; }
			help[$fam]=1
		elif [[ "$line" =~ $type_re ]]; then
			fam=${BASH_REMATCH[1]}
			[ -z "${type[$fam]:-}" ] || { echo "line $ln: second TYPE for $fam"; return; }
			[ -z "${sampled[$fam]:-}" ] || { echo "line $ln: TYPE for $fam after its samples"; return; }
			type[$fam]=${BASH_REMATCH[2]}
		elif [[ "$line" == "#"* ]]; then
			[[ "$line" =~ ^#\ (HELP|TYPE)\  ]] && { echo "line $ln: malformed: $line"; return; }
		elif [ -z "$line" ]; then
			:
		elif [[ "$line" =~ $sample_re ]]; then
			name=${BASH_REMATCH[1]} labels=${BASH_REMATCH[3]} value=${BASH_REMATCH[4]}
			fam=$name
			if [ -z "${type[$fam]:-}" ]; then
				fam=${name%_total}
				[ -n "${type[$fam]:-}" ] || { echo "line $ln: sample of $name before any TYPE"; return; }
			fi
			[ -n "${help[$fam]:-}" ] || { echo "line $ln: sample of $name before any HELP"; return; }
			if [ -n "${sampled[$fam]:-}" ] && [ "$last" != "$fam" ]; then
				echo "line $ln: samples of $fam not together"; return
			fi
			if [ -n "$labels" ] && ! [[ "$labels" =~ $labels_re ]]; then
				echo "line $ln: bad labels {$labels}"; return
			fi
			[[ "$value" =~ $num_re ]] || { echo "line $ln: value '$value' not a number"; return; }
			[ -z "${series[$name\{$labels\}]:-}" ] || { echo "line $ln: duplicate series $name{$labels}"; return; }
			series[$name\{$labels\}]=1
			sampled[$fam]=1 last=$fam n=$((n + 1))
		else
			echo "line $ln: not HELP, TYPE, comment or sample: $line"; return
		fi
	done <<<"$1"
	[ "$n" -gt 0 ] || { echo "no samples"; return; }
	echo ok
}

case_stats__prometheus_valid() {
	local out rc
	out=$(mxg stats --prometheus)
	rc=$?
	mxg_expect_eq prometheus__exit_0 0 "$rc"
	mxg_expect_eq prometheus__valid ok "$(prom_check "$out")"
	mxg_expect_eq prometheus__smtp_limit "$(mxg_jq .counters.smtp.limit "$DUMP")" \
		"$(sed -n 's/^mxguard_packets_total{service="smtp",verdict="limit"} //p' <<<"$out")"
	# The checker itself must catch what it is there to catch.
	mxg_expect_match prometheus__checker_catches_duplicate "duplicate series" \
		"$(prom_check "$(awk '/^mxguard_packets_total\{/ && !d { print; d = 1 } { print }' <<<"$out")")"
	mxg_expect_match prometheus__checker_catches_bad_name "not HELP" \
		"$(prom_check "$out"$'\n''1bad_name 3')"
	mxg_expect_match prometheus__checker_catches_bad_value "not a number" \
		"$(prom_check "# HELP x y"$'\n'"# TYPE x gauge"$'\n''x{a="b"} 12abc')"
	mxg_expect_match prometheus__checker_catches_late_type "before any TYPE" \
		"$(prom_check 'x 1'$'\n'"# TYPE x gauge")"
}

# ---- events ---------------------------------------------------------------------

# One limit_start per flooding source and service, with the record's counters
# at that moment: the SYN after the burst, the first refused.
check_events() { # FILE PHASE MODE DROPFIELD KEYS...
	local f=$1 ph=$2 mode=$3 field=$4 i k n key svc; shift 4
	local -a keys=("$@")
	mxg_expect_eq "events__${ph}_json_lines" 0 "$(jsonl_bad "$f")"
	mxg_expect_eq "events__${ph}_one_per_source_and_service" $((${#keys[@]} * ${#PORTS[@]})) \
		"$(ev_count "$f" '.type == "limit_start"')"
	mxg_expect_eq "events__${ph}_nothing_else" 0 "$(ev_count "$f" '.type != "limit_start"')"
	for i in "${!keys[@]}"; do
		key=${keys[$i]}
		for k in "${!PORTS[@]}"; do
			n=$(cname "$ph" "$i" "$k") svc=${SVCS[$k]}
			mxg_expect_eq "events__${n}_limit_start" 1 \
				"$(ev_count "$f" ".type == \"limit_start\" and .addr == \"$key\" and .service == \"$svc\" and .mode == \"$mode\" and .syns == $((BURST + 1)) and .$field == 1")"
		done
	done
	mxg_expect_match "events__${ph}_time_ms" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
		"$(head -n 1 "$f" | jq -r .time 2>&1)"
}

case_events__enforce() {
	check_events "$MXG_TMP/ev_enforce.out" e enforce drops "${E_KEY[@]}"
	mxg_expect_eq events__enforce_no_stderr "" "$(cat "$MXG_TMP/ev_enforce.err")"
}

# ---- monitor phase --------------------------------------------------------------

phase_monitor() {
	local rc ev
	mxg mode monitor >/dev/null || mxg_fatal monitor "mxguard mode monitor failed"
	events_bg ev_monitor --json --timeout 60
	ev=$EV_PID
	flood m "${M_SRC[@]}"
	mxg_wait_all
	sleep 1
	kill -TERM "$ev"
	wait_pid "$ev"
	rc=$?
	mxg_expect_eq events__sigterm_exits_0 0 "$rc"
	DUMP=$(mxg dump)
}

case_monitor__would_drops_eq_enforce_drops() {
	local i k n key svc
	mxg_expect_eq monitor__dump_mode monitor "$(mxg_jq .mode "$DUMP")"
	for i in "${!M_SRC[@]}"; do
		key=${M_KEY[$i]}
		for k in "${!PORTS[@]}"; do
			n=$(cname m "$i" "$k") svc=${SVCS[$k]}
			mxg_expect_eq "monitor__${n}_all_connect" "$N" "$(mxg_result "$n" ok)"
			mxg_expect_eq "monitor__${n}_syns" "$N" "$(dump_src "$DUMP" "$key" "$svc" syns)"
			mxg_expect_eq "monitor__${n}_no_drops" 0 "$(dump_src "$DUMP" "$key" "$svc" drops)"
			mxg_expect_eq "monitor__${n}_would_drops_eq_enforce_drops" \
				"$(mxg_result "$(cname e "$i" "$k")" failed)" \
				"$(dump_src "$DUMP" "$key" "$svc" would_drops)"
		done
	done
	check_events "$MXG_TMP/ev_monitor.out" m monitor would_drops "${M_KEY[@]}"
}

# --count N ends after N events, long before its --timeout; the text form
# has one line per event.
case_events__count() {
	local ev rc k start
	events_bg ev_count --count 2 --timeout 30
	ev=$EV_PID
	start=$SECONDS
	for k in "${!PORTS[@]}"; do
		mxg_connect_bg "c_${PORTS[$k]}" "$C_SRC" "$MXG_SRV4" "${PORTS[$k]}" $((BURST + 3)) 20
	done
	mxg_wait_all
	wait_pid "$ev"
	rc=$?
	mxg_expect_eq events__count_exits_0 0 "$rc"
	mxg_expect_range events__count_before_timeout 0 15 $((SECONDS - start))
	mxg_expect_eq events__count_lines 2 "$(wc -l <"$MXG_TMP/ev_count.out")"
	mxg_expect_match events__text_line \
		"^[0-9T:.-]{23}Z limit_start +$C_SRC (smtp|submission) syns=$((BURST + 1)) drops=0 would_drops=1 mode=monitor$" \
		"$(head -n 1 "$MXG_TMP/ev_count.out")"
}

# ---- main -------------------------------------------------------------------------

main() {
	mxg_require_mxguard
	mxg_sandbox_up
	setup
	phase_enforce
	case_clients__as_limited
	case_top__per_source
	case_dump__json_per_source
	case_dump__json_document
	case_dump__csv
	case_dump__gzip_round_trip
	case_stats__prometheus_valid
	case_events__enforce
	phase_monitor
	case_monitor__would_drops_eq_enforce_drops
	case_events__count
	mxg_done
}

main "$@"

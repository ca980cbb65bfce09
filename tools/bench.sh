#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench`: mxguard's performance and scale figures in one table and in
# build/bench.json: in-kernel ns per frame (BPF_PROG_TEST_RUN), a veth SYN
# flood and the same flood as live frames (BPF_PROG_RUN, no veth) against a
# trivial XDP drop and nftables, the controller on a million entries, kernel
# memory per entry, and spoofed-flood resilience.
# Every figure is the median of BENCH_RUNS (default 5) runs; the members of
# each comparison are measured in the same run. Root; about 5 minutes.
#
# Environment: BENCH_RUNS (5), BENCH_FLOOD_PKTS (2000000 per flood run),
# BENCH_ENTRIES (1000000), BENCH_ONLY (comma list of: prog,flood,live,ctl).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lib/netns.sh
. "$ROOT/tests/lib/netns.sh"

RUNS=${BENCH_RUNS:-5}
FLOOD_PKTS=${BENCH_FLOOD_PKTS:-2000000}
FLOOD_SECONDS=12
ENTRIES=${BENCH_ENTRIES:-1000000}
ONLY=${BENCH_ONLY:-prog,flood,live,ctl}
OUT=$ROOT/build/bench.json
RAW=$ROOT/build/bench-raw  # each run's raw results, kept for inspection
T=$ROOT/build/tools
BIN=$ROOT/build/mxguard
RX_CPU=1   # the server's NAPI thread
TX_CPU=0   # the flood generator

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }

# mxguard in the server namespace with room for a million entries.
bmx() { timeout -k 2 300 ip netns exec "$MXG_SRV" "$BIN" "$@"; }

now_ns() { date +%s%N; }

# ---- 1 + 4 + resilience: BPF_PROG_TEST_RUN ---------------------------------

bench_prog() {
	log "BPF_PROG_TEST_RUN: $RUNS runs x 1,000,000 repeats per case, resilience"
	"$T/bench-prog" --runs "$RUNS" --repeat 1000000 --small 1000 \
		--large "$ENTRIES" --cpu "$RX_CPU" >"$RAW/prog.json" ||
		die "bench-prog failed"
}

# ---- 2: veth flood ---------------------------------------------------------

SRV_MAC=

# The receive side in one kernel thread pinned to RX_CPU: threaded NAPI on
# the server veth (it exists once an XDP program is attached), so its CPU
# time is that thread's and the generator on TX_CPU cannot steal it.
napi_pin() {
	local f c pid=
	ip netns exec "$MXG_SRV" sh -c "echo 1 > /sys/class/net/$MXG_SRV_IF/threaded" ||
		die "threaded NAPI on $MXG_SRV_IF"
	# comm is cut at 15 characters: "napi/" + the first 10 of the name.
	for f in /proc/[0-9]*/comm; do
		{ read -r c <"$f"; } 2>/dev/null || continue
		if [ "$c" != "${c#"napi/${MXG_SRV_IF:0:10}"}" ]; then
			[ -z "$pid" ] || die "two NAPI threads match $MXG_SRV_IF"
			pid=${f#/proc/}; pid=${pid%/comm}
		fi
	done
	[ -n "$pid" ] || die "no NAPI thread for $MXG_SRV_IF"
	taskset -p -c "$RX_CPU" "$pid" >/dev/null || die "pin NAPI thread $pid"
	NAPI_PID=$pid
}

napi_ns() { awk '{print $1}' "/proc/$NAPI_PID/schedstat"; }
# softirq column of /proc/stat (all CPUs), USER_HZ ticks.
softirq_ticks() { awk '$1 == "cpu" {print $8}' /proc/stat; }

xdp_ref() { # PROGRAM: attach one of the reference programs
	ip -n "$MXG_SRV" link set "$MXG_SRV_IF" xdpdrv obj "$T/bench_progs.bpf.o" \
		sec xdp program "$1" || die "attach $1"
}
xdp_off() { ip -n "$MXG_SRV" link set "$MXG_SRV_IF" xdp off; }

trivial_drops() {
	local id m map=
	id=$(ip -n "$MXG_SRV" -j link show "$MXG_SRV_IF" | jq -r '.[0].xdp.prog.id')
	for m in $(bpftool -j prog show id "$id" | jq -r '.map_ids[]'); do
		[ "$(bpftool -j map show id "$m" | jq -r .name)" = bench_cnt ] && map=$m
	done
	[ -n "$map" ] || die "bench_cnt of program $id not found"
	bpftool -j map lookup id "$map" key 0 0 0 0 | jq '[.formatted.values[].value] | add'
}

nft_count() { # NAME
	ip netns exec "$MXG_SRV" nft -j list counter netdev mxgbench "$1" |
		jq '[.nftables[] | select(.counter) | .counter.packets] | add'
}

# Set up filter $1 for run $2; prints nothing.
flood_setup() {
	case $1 in
	trivial) xdp_ref bench_drop25 ;;
	mxguard)
		export MXGUARD_PIN_DIR=$MXG_BPFFS/flood$2
		bmx attach "$MXG_SRV_IF" --mode native >/dev/null || die "mxguard attach"
		bmx limit set smtp --rate 1/hour --burst 1 --prefix-rate 1/hour \
			--prefix-burst 1 >/dev/null || die "mxguard limit"
		bmx allow add 198.18.0.64/26 --comment "bench partner" >/dev/null &&
		bmx allow add 2001:db8:0:a::/64 >/dev/null &&
		bmx block add 198.18.0.128/26 --ttl 1h >/dev/null &&
		bmx block add 2001:db8:0:b::/64 --ttl 1h >/dev/null || die "mxguard lists"
		;;
	nft)
		# The empty XDP program only gives the veth its NAPI, so that
		# nftables sees the frames on the same path as the others.
		xdp_ref bench_empty
		ip netns exec "$MXG_SRV" nft -D "IFACE=$MXG_SRV_IF" \
			-f "$ROOT/tools/bench-nft.nft" || die "nft ruleset"
		;;
	esac
}

# mxguard's third figure: network slots whose bucket is empty (it refuses
# every new network that hashes there: the flood's collateral).
flood_counts() { # FILTER -> "dropped passed draining"
	local j
	case $1 in
	trivial) echo "$(trivial_drops) 0 null" ;;
	mxguard)
		j=$(bmx stats --json) || die "mxguard stats"
		jq -r '"\(.dropped) \(.counters.smtp.admit // 0) \(.networks.limited)"' <<<"$j" ;;
	nft) echo "$(nft_count dropped) $(nft_count admitted) null" ;;
	esac
}

flood_teardown() {
	case $1 in
	trivial) xdp_off ;;
	mxguard)
		bmx detach "$MXG_SRV_IF" >/dev/null || die "mxguard detach"
		rm -rf "$MXGUARD_PIN_DIR" ;;
	nft)
		ip netns exec "$MXG_SRV" nft delete table netdev mxgbench
		xdp_off ;;
	esac
}

# Without a route back to the spoofed sources, SYNs that get through
# cost the server a route lookup and no neighbour resolution, alike
# for every filter (IPv4 sources beyond 198.18.0.0/24 have none).
no_route_back() {
	ip -n "$MXG_SRV" -6 route del 2001:db8::/32 dev "$MXG_SRV_IF" 2>/dev/null
}

# The order of the filters in run $1: rotated, so that drift over the runs
# hits each alike.
flood_order() {
	case $(($1 % 3)) in
	1) echo "trivial mxguard nft" ;;
	2) echo "mxguard nft trivial" ;;
	0) echo "nft trivial mxguard" ;;
	esac
}

# RUNS rounds of FN FILTER RUN for the three filters, one JSON line each
# into OUT.
flood_rounds() { # FN OUT
	local r f
	: >"$2"
	for r in $(seq "$RUNS"); do
		for f in $(flood_order "$r"); do
			"$1" "$f" "$r" >>"$2" || return
		done
	done
}

flood_one() { # FILTER RUN -> one JSON line
	local f=$1 r=$2 c0 c1 s0 s1 q0 q1 g sl
	flood_setup "$f" "$r"
	napi_pin
	read -r -a c0 <<<"$(flood_counts "$f")"
	s0=$(napi_ns); q0=$(softirq_ticks)
	g=$(ip netns exec "$MXG_CLI" "$T/mxg-synflood" --ifname "$MXG_CLI_IF" \
		--dst-mac "$SRV_MAC" --sources 1000000 --mode random \
		--count "$FLOOD_PKTS" --seconds "$FLOOD_SECONDS" --cpu "$TX_CPU") ||
		die "mxg-synflood ($f)"
	sleep 0.2 # let the receive ring drain into the counters
	s1=$(napi_ns); q1=$(softirq_ticks)
	read -r -a c1 <<<"$(flood_counts "$f")"
	sl=null
	[ "$f" != mxguard ] || sl=$(bmx top --networks --json -n 1 | jq .slots) ||
		die "mxguard top --networks"
	flood_teardown "$f"
	jq -nc --arg f "$f" --argjson r "$r" --argjson g "$g" --argjson d $((c1[0] - c0[0])) \
		--argjson p $((c1[1] - c0[1])) --argjson ns $((s1 - s0)) \
		--argjson sq $((q1 - q0)) --argjson hz "$(getconf CLK_TCK)" \
		--argjson dr "${c1[2]}" --argjson sl "$sl" '
		{filter: $f, run: $r, sent: $g.sent, elapsed_s: $g.elapsed_s, gen_pps: $g.pps,
		 dropped: $d, passed: $p, drop_pps: ($d / $g.elapsed_s),
		 slots_draining: $dr, slots: $sl,
		 rx_cpu_ms_per_mpkt: (if ($d + $p) > 0 then $ns / 1e3 / (($d + $p) / 1e6) / 1e3 else null end),
		 rx_busy: ($ns / 1e9 / $g.elapsed_s),
		 softirq_ms: ($sq * 1000 / $hz)}'
}

bench_flood() {
	log "veth flood: $RUNS runs x {trivial, mxguard, nftables}, $FLOOD_PKTS SYNs each"
	SRV_MAC=$(ip -n "$MXG_SRV" -j link show "$MXG_SRV_IF" | jq -r '.[0].address')
	no_route_back
	flood_rounds flood_one "$RAW/flood.jsonl"
}

# ---- 2b: the same flood as live frames ------------------------------------
# bench-live runs the SYNs through the attached program by BPF_PROG_RUN in
# live-frame mode on RX_CPU, as if the server veth had received them from a
# NIC: no veth copy; what a filter passes goes up the stack (nftables'
# ingress hook). The filters are set up and counted exactly as for the veth
# flood; the CPU time is the run's own (everything happens in it).

live_one() { # FILTER RUN -> one JSON line
	local f=$1 r=$2 c0 c1 id g
	flood_setup "$f" "$r"
	id=$(ip -n "$MXG_SRV" -j link show "$MXG_SRV_IF" | jq -r '.[0].xdp.prog.id')
	read -r -a c0 <<<"$(flood_counts "$f")"
	g=$(ip netns exec "$MXG_SRV" "$T/bench-live" --ifname "$MXG_SRV_IF" \
		--prog-id "$id" --dst4 "$MXG_SRV4" --dst6 "$MXG_SRV6" \
		--sources 1000000 --count "$FLOOD_PKTS" --seconds "$FLOOD_SECONDS" \
		--cpu "$RX_CPU") || die "bench-live ($f)"
	read -r -a c1 <<<"$(flood_counts "$f")"
	flood_teardown "$f"
	jq -nc --arg f "$f" --argjson r "$r" --argjson g "$g" --argjson d $((c1[0] - c0[0])) \
		--argjson p $((c1[1] - c0[1])) '
		{filter: $f, run: $r, sent: $g.sent, elapsed_s: $g.elapsed_s,
		 dropped: $d, passed: $p, drop_pps: ($d / $g.elapsed_s),
		 cpu_ns_per_frame: $g.cpu_ns_per_frame}'
}

bench_live() {
	log "live frames: $RUNS runs x {trivial, mxguard, nftables}, $FLOOD_PKTS SYNs each"
	no_route_back
	flood_rounds live_one "$RAW/live.jsonl"
}

# ---- 3: controller at scale --------------------------------------------------

time_ms() { # CMD... -> ms on stdout, the command's output to /dev/null
	local t0 t1
	t0=$(now_ns)
	"$@" >/dev/null || return 1
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000000))
}

bench_ctl() {
	local r n have_dump=1 fill=null
	log "controller: block load/list of $ENTRIES entries, dump of a full source table, $RUNS runs"
	"$T/bench-maps" gen-list "$ENTRIES" "$MXG_TMP/block.txt" >"$RAW/list.json" ||
		die "gen-list"
	bmx dump --help >/dev/null 2>&1 || have_dump=0
	: >"$RAW/ctl.jsonl"
	for r in $(seq "$RUNS"); do
		export MXGUARD_PIN_DIR=$MXG_BPFFS/ctl$r
		bmx attach "$MXG_SRV_IF" --mode native >/dev/null || die "mxguard attach"
		local load list dj=null dc=null
		# dump first, on a full source table and empty lists, so that
		# its time is the sources' (it also writes every list entry).
		if [ "$have_dump" = 1 ]; then
			fill=$("$T/bench-maps" fill-src "$MXGUARD_PIN_DIR/mxg_src" "$ENTRIES") ||
				die "fill mxg_src"
			dj=$(time_ms bmx dump --format json -o "$MXG_TMP/dump.json") || die "dump json"
			dc=$(time_ms bmx dump --format csv -o "$MXG_TMP/dump.csv") || die "dump csv"
			rm -f "$MXG_TMP/dump.json" "$MXG_TMP/dump.csv"
		fi
		load=$(time_ms bmx block load "$MXG_TMP/block.txt" --feed bench) ||
			die "block load"
		list=$(time_ms bmx block list --json) || die "block list"
		if [ "$r" = 1 ]; then
			n=$(bmx block list --json | grep -o '"cidr"' | wc -l)
			[ "$n" = "$ENTRIES" ] || log "block list shows $n entries, not $ENTRIES"
		fi
		bmx detach "$MXG_SRV_IF" >/dev/null || die "mxguard detach"
		rm -rf "$MXGUARD_PIN_DIR"
		jq -nc --argjson l "$load" --argjson s "$list" --argjson dj "$dj" \
			--argjson dc "$dc" --argjson fill "${fill:-null}" \
			'{load_ms: $l, list_ms: $s, dump_json_ms: $dj, dump_csv_ms: $dc, src: $fill}' \
			>>"$RAW/ctl.jsonl"
	done
}

# ---- report --------------------------------------------------------------------

report() {
	local prog=null flood=null live=null ctl=null
	[ -s "$RAW/prog.json" ] && prog=$(cat "$RAW/prog.json")
	if [ -s "$RAW/flood.jsonl" ]; then
		flood=$(jq -L "$ROOT/tools" -s 'include "bench-lib";
			flood_summary("rx_cpu_ms_per_mpkt")' "$RAW/flood.jsonl")
	fi
	if [ -s "$RAW/live.jsonl" ]; then
		live=$(jq -L "$ROOT/tools" -s 'include "bench-lib";
			flood_summary("cpu_ns_per_frame")' "$RAW/live.jsonl")
	fi
	if [ -s "$RAW/ctl.jsonl" ]; then
		ctl=$(jq -L "$ROOT/tools" -s --argjson list "$(cat "$RAW/list.json")" 'include "bench-lib";
			{entries: ($list.exact + $list.prefixes), list_file: $list,
			 block_load_ms: (map(.load_ms) | med),
			 block_list_json_ms: (map(.list_ms) | med),
			 dump_sources: (.[0].src.filled // null),
			 dump_json_ms: (map(.dump_json_ms) | med),
			 dump_csv_ms: (map(.dump_csv_ms) | med),
			 runs: .}' "$RAW/ctl.jsonl")
	fi
	jq -n --argjson prog "$prog" --argjson flood "$flood" --argjson live "$live" \
		--argjson ctl "$ctl" \
		--arg host "$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')" \
		--arg kernel "$(uname -r)" --argjson cpus "$(nproc)" --argjson runs "$RUNS" \
		-L "$ROOT/tools" -f "$ROOT/tools/bench-report.jq" >"$OUT" || die "report"
	jq -r -f "$ROOT/tools/bench-table.jq" "$OUT"
	log "written $OUT"
}

main() {
	local t0
	t0=$(date +%s)
	[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, XDP, BPF)"
	for b in mxg-synflood bench-live bench-prog bench-maps bench_progs.bpf.o; do
		[ -e "$T/$b" ] || die "$T/$b not built (make)"
	done
	[ -x "$BIN" ] || die "$BIN not built (make)"
	command -v nft >/dev/null || die "nft not found (make deps)"
	command -v bpftool >/dev/null || die "bpftool not found (make deps)"
	[ "$(nproc)" -ge 2 ] || log "fewer than 2 CPUs: generator and receiver share one"
	mxg_sandbox_up
	rm -rf "$RAW"; mkdir -p "$RAW"
	want prog && bench_prog
	want flood && bench_flood
	want live && bench_live
	want ctl && bench_ctl
	report
	log "done in $(($(date +%s) - t0)) s"
}

main "$@"

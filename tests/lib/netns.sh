# shellcheck shell=bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Network-namespace sandbox and named asserts for e2e scripts and the demo.
# Source it, then call mxg_sandbox_up; cleanup runs from the EXIT trap it sets.
#
# Sandbox: a server namespace and a client namespace, joined by one veth pair,
# nothing else: no default route, no link to a host interface, addresses only
# from 198.18.0.0/15 and 2001:db8::/32. mxguard pins into a private bpffs
# under the sandbox's temp dir, because `ip netns exec` remounts /sys and pins
# under /sys/fs/bpf would vanish with each command.
#
# After mxg_sandbox_up:
#   MXG_SRV, MXG_CLI   namespace names (mxg-<random>-srv / -cli)
#   MXG_SRV_IF         server-side veth (where mxguard attaches)
#   MXG_CLI_IF         client-side veth
#   MXG_SRV4, MXG_SRV6 server addresses (198.18.0.1, 2001:db8::1)
#   MXG_TMP            private temp dir (removed on exit)
#   MXGUARD_PIN_DIR    exported, inside the private bpffs
#
# Assert output is what tests/run.sh counts: "PASS <case>",
# "FAIL <case>: expected X, got Y", "SKIP <case>: why".

MXG_ROOT=${MXG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MXG_BIN=${MXG_BIN:-$MXG_ROOT/build/mxguard}
MXG_CONN=${MXG_CONN:-$MXG_ROOT/build/tools/mxg-conn}
MXG_SRV4=198.18.0.1
MXG_SRV6=2001:db8::1
# Longest any single mxguard command may take before it counts as hung.
MXG_CMD_TIMEOUT=${MXG_CMD_TIMEOUT:-20}

MXG_PASSED=0
MXG_FAILED=0
MXG_PIDS=()     # every background process we started, killed by PID on exit
MXG_BG=()       # pending mxg_connect_bg clients, "PID:NAME"
MXG_TMP=
MXG_SRV=
MXG_CLI=
MXG_BPFFS=

# ---- asserts ------------------------------------------------------------

mxg_pass() { echo "PASS $1"; MXG_PASSED=$((MXG_PASSED + 1)); }

# mxg_fail CASE EXPECTED GOT
mxg_fail() {
	echo "FAIL $1: expected $2, got $3"
	MXG_FAILED=$((MXG_FAILED + 1))
}

mxg_skip() { echo "SKIP $1: $2"; }

# A setup step that failed: later cases cannot run. Counted, then exit.
mxg_fatal() {
	echo "FAIL $1: $2"
	MXG_FAILED=$((MXG_FAILED + 1))
	exit 1
}

# mxg_expect_eq CASE EXPECTED GOT
mxg_expect_eq() {
	if [ "$2" == "$3" ]; then mxg_pass "$1"; else mxg_fail "$1" "$2" "$3"; fi
}

# mxg_expect_range CASE LO HI GOT   (integers, inclusive)
mxg_expect_range() {
	if [[ "$4" =~ ^-?[0-9]+$ ]] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
		mxg_pass "$1"
	else
		mxg_fail "$1" "$2..$3" "$4"
	fi
}

# mxg_expect_match CASE REGEX GOT
mxg_expect_match() {
	if [[ "$3" =~ $2 ]]; then mxg_pass "$1"; else mxg_fail "$1" "/$2/" "'$3'"; fi
}

# Exit status for the script: 1 if any case failed.
mxg_done() {
	[ "$MXG_FAILED" -eq 0 ]
}

# mxg_jq FILTER JSON: prints the value (null and false as such), or
# "<invalid JSON: ...>" / "<no value for FILTER>" so that an assert shows what
# was wrong instead of silently comparing blanks.
mxg_jq() {
	local v
	if [ -z "$2" ]; then
		v="<empty output>"
	elif ! v=$(jq -r "$1" 2>/dev/null <<<"$2"); then
		v="<invalid JSON: $(head -c 120 <<<"$2" | tr '\n' ' ')>"
	elif [ -z "$v" ]; then
		v="<no value for $1>"
	fi
	printf '%s\n' "$v"
}

# ---- sandbox --------------------------------------------------------------

mxg_require() {
	local t
	[ "$(id -u)" -eq 0 ] || mxg_fatal setup "root (for namespaces and XDP)"
	for t in ip jq mount timeout; do
		command -v "$t" >/dev/null || mxg_fatal setup "command $t not found"
	done
	[ -x "$MXG_CONN" ] || mxg_fatal setup "$MXG_CONN not built (make)"
}

mxg_require_mxguard() {
	[ -x "$MXG_BIN" ] || mxg_fatal setup "$MXG_BIN not built (make)"
}

mxg_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${MXG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${MXG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# Deleting the namespaces destroys the veth pair and with it any XDP
	# attachment; the pinned link and maps go with the private bpffs.
	[ -n "$MXG_SRV" ] && ip netns del "$MXG_SRV" 2>/dev/null
	[ -n "$MXG_CLI" ] && ip netns del "$MXG_CLI" 2>/dev/null
	if [ -n "$MXG_BPFFS" ] && mountpoint -q "$MXG_BPFFS"; then
		umount "$MXG_BPFFS" 2>/dev/null || umount -l "$MXG_BPFFS"
	fi
	[ -n "$MXG_TMP" ] && [ -d "$MXG_TMP" ] && rm -rf "$MXG_TMP"
	exit "$rc"
}

# ip in a namespace; a failure here is a failed setup.
mxg_ip() {
	local ns=$1; shift
	ip -n "$ns" "$@" || mxg_fatal setup "ip -n $ns $*"
}

mxg_sandbox_up() {
	local id=$RANDOM$RANDOM
	mxg_require
	MXG_TMP=$(mktemp -d /tmp/mxg-e2e.XXXXXX) || mxg_fatal setup "mktemp"
	trap mxg_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	MXG_SRV=mxg-$id-srv
	MXG_CLI=mxg-$id-cli
	MXG_SRV_IF=mxs$id
	MXG_CLI_IF=mxc$id
	MXG_SRV_IF=${MXG_SRV_IF:0:15}
	MXG_CLI_IF=${MXG_CLI_IF:0:15}
	ip netns add "$MXG_SRV" || { MXG_SRV=; mxg_fatal setup "ip netns add"; }
	ip netns add "$MXG_CLI" || { MXG_CLI=; mxg_fatal setup "ip netns add"; }
	# Created directly inside the namespaces: the pair never exists in
	# the host namespace, not even for a moment.
	ip -n "$MXG_SRV" link add "$MXG_SRV_IF" type veth peer name "$MXG_CLI_IF" \
		netns "$MXG_CLI" || mxg_fatal setup "veth pair"
	mxg_ip "$MXG_SRV" link set lo up
	mxg_ip "$MXG_CLI" link set lo up
	mxg_ip "$MXG_SRV" link set "$MXG_SRV_IF" up
	mxg_ip "$MXG_CLI" link set "$MXG_CLI_IF" up
	mxg_ip "$MXG_SRV" addr add "$MXG_SRV4/24" dev "$MXG_SRV_IF"
	mxg_ip "$MXG_SRV" addr add "$MXG_SRV6/64" dev "$MXG_SRV_IF" nodad
	# Clients live in other /64s of 2001:db8::/32 (the IPv6 source key is
	# the /64); they are on the link, so a device route, no gateway.
	mxg_ip "$MXG_SRV" -6 route add 2001:db8::/32 dev "$MXG_SRV_IF"
	mxg_ip "$MXG_CLI" -4 route add 198.18.0.0/24 dev "$MXG_CLI_IF"
	mxg_ip "$MXG_CLI" -6 route add 2001:db8::/64 dev "$MXG_CLI_IF"

	MXG_BPFFS=$MXG_TMP/bpf
	mkdir -p "$MXG_BPFFS"
	mount -t bpf bpf "$MXG_BPFFS" || { MXG_BPFFS=; mxg_fatal setup "mount bpffs"; }
	export MXGUARD_PIN_DIR=$MXG_BPFFS/mxguard
}

# mxg_client_addr ADDR...: add source addresses on the client side. IPv4 as
# /32 (the /24 route is already there), IPv6 as /128 with a /64 route each.
mxg_client_addr() {
	local a
	for a in "$@"; do
		if [[ "$a" == *:* ]]; then
			mxg_ip "$MXG_CLI" addr add "$a/128" dev "$MXG_CLI_IF" nodad
		else
			mxg_ip "$MXG_CLI" addr add "$a/32" dev "$MXG_CLI_IF"
		fi
	done
}

# mxg_server_start PORTS [SECONDS]: the accept-and-close server in the server
# namespace (dual-stack), bounded in time; waits until every port listens.
mxg_server_start() {
	local ports=$1 secs=${2:-300} pidf=$MXG_TMP/serve.pid _
	ip netns exec "$MXG_SRV" "$MXG_CONN" serve --port "$ports" --addr :: \
		--seconds "$secs" --pid-file "$pidf" 2>"$MXG_TMP/serve.err" &
	MXG_SERVE_PID=$!
	MXG_PIDS+=("$MXG_SERVE_PID")
	for _ in $(seq 50); do
		[ -s "$pidf" ] && return 0
		kill -0 "$MXG_SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	mxg_fatal setup "server on ports $ports did not start: $(cat "$MXG_TMP/serve.err")"
}

# mxg ARGS...: mxguard in the server namespace, bounded in time. stdout and
# the exit status are mxguard's; stderr too.
mxg() {
	timeout -k 2 "$MXG_CMD_TIMEOUT" ip netns exec "$MXG_SRV" "$MXG_BIN" "$@"
}

# mxg_alert_command FILE: writes $MXG_TMP/alert.sh, an alert command for
# `mxguard run` that appends each alert (JSON on stdin) to FILE.
mxg_alert_command() {
	printf '#!/bin/sh\ncat >> "%s"\n' "$1" >"$MXG_TMP/alert.sh" &&
		chmod +x "$MXG_TMP/alert.sh" || mxg_fatal setup "cannot write $MXG_TMP/alert.sh"
}

# mxg_connect SRC DST PORT COUNT RATE: one bounded client run, its JSON on
# stdout.
mxg_connect() {
	ip netns exec "$MXG_CLI" "$MXG_CONN" connect --src "$1" --dst "$2" \
		--port "$3" --count "$4" --rate "$5/s" --json
}

# mxg_connect_bg NAME SRC DST PORT COUNT RATE: the same in the background,
# JSON to $MXG_TMP/NAME.json; collect with mxg_wait_all.
mxg_connect_bg() {
	local name=$1; shift
	# A plain command, not the function: $! is then the tool itself (ip
	# netns exec execs it), so cleanup can end it by PID.
	ip netns exec "$MXG_CLI" "$MXG_CONN" connect --src "$1" --dst "$2" \
		--port "$3" --count "$4" --rate "$5/s" --json \
		>"$MXG_TMP/$name.json" 2>"$MXG_TMP/$name.err" &
	MXG_PIDS+=($!)
	MXG_BG+=("$!:$name")
}

# Drop a reaped PID from the cleanup list: the number may be reused by a
# process that is not ours.
mxg_forget_pid() {
	local p keep=()
	for p in "${MXG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	MXG_PIDS=("${keep[@]}")
}

# Wait for every mxg_connect_bg client; a client that failed to run is a
# failed setup of its case, reported by mxg_result.
mxg_wait_all() {
	local e
	for e in "${MXG_BG[@]}"; do
		wait "${e%%:*}"
		echo $? >"$MXG_TMP/${e#*:}.rc"
		mxg_forget_pid "${e%%:*}"
	done
	MXG_BG=()
}

# mxg_result NAME FIELD: a field of a background client's JSON, or a
# description of why there is none.
mxg_result() {
	local f=$MXG_TMP/$1.json
	if [ "$(cat "$MXG_TMP/$1.rc" 2>/dev/null)" != 0 ]; then
		echo "<client $1 failed: $(head -c 200 "$MXG_TMP/$1.err" | tr '\n' ' ')>"
		return
	fi
	mxg_jq ".$2" "$(cat "$f")"
}

# shellcheck shell=bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The outbound side's e2e helpers, on top of netns.sh: a remote MX and a
# smarthost in the client namespace, the local MTA in the server's, the
# server's own outbound connections, local submitters in a cgroup this test
# creates (and removes), running as uids nobody uses.
# Source netns.sh first, then this; after mxg_sandbox_up, set the EXIT trap
# to 'out_cleanup; mxg_cleanup' and call out_sandbox_up.

# Remote MX and smarthost live in the client namespace, in /24s (/48s) of
# their own so the per-destination counts are theirs alone.
MX4=198.18.5.25      MX4_NET=198.18.5.0/24
SMART4=198.18.6.25   SMART4_NET=198.18.6.0/24
MX6=2001:db8:5::25   MX6_NET=2001:db8:5::/48

CG='' CG2='' CGID='' LIM_UID='' TRUST_UID='' CG_UID=''

# mxguard outside the namespaces: cgroup paths live in the host's mounts,
# which `ip netns exec` hides by remounting /sys. Touches no network.
mxh() {
	timeout -k 2 "$MXG_CMD_TIMEOUT" "$MXG_BIN" "$@"
}

delta() {
	if [[ "$1" =~ ^[0-9]+$ ]] && [[ "$2" =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo "<cannot subtract: '$1' from '$2'>"
	fi
}

# Runs first on exit (then mxg_cleanup): our cgroup holds only processes
# this script moved there, all short-lived; end any left, then remove it.
out_cleanup() {
	local rc=$? p
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		mxh local detach "$CG" >/dev/null 2>&1
		while read -r p; do
			kill -KILL "$p" 2>/dev/null
		done <"$CG/cgroup.procs"
		for _ in $(seq 50); do
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1
		done
	fi
	return "$rc"
}

# An unused uid at or above $1: no passwd entry, no process.
pick_uid() {
	local u
	for u in $(seq "$1" $(($1 + 1000))); do
		getent passwd "$u" >/dev/null && continue
		pgrep -u "$u" >/dev/null 2>&1 && continue
		echo "$u"
		return
	done
}

# out_connect_bg NAME SRC DST COUNT RATE: from the server namespace out to
# port 25 in the client namespace, in the background; collect with
# mxg_wait_all / mxg_result.
out_connect_bg() {
	local name=$1; shift
	ip netns exec "$MXG_SRV" "$MXG_CONN" connect --src "$1" --dst "$2" \
		--port 25 --count "$3" --rate "$4/s" --json \
		>"$MXG_TMP/$name.json" 2>"$MXG_TMP/$name.err" &
	MXG_PIDS+=($!)
	MXG_BG+=("$!:$name")
}

# local_connect UID COUNT DST PORT: COUNT single connects from a process in
# our cgroup running as UID, in the server namespace; prints "OK REFUSED
# OTHER" (refused = connect() failed with EPERM).
local_connect() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	(
		echo "$BASHPID" >"$CG/cgroup.procs" || exit 97
		exec ip netns exec "$MXG_SRV" setpriv --reuid="$1" --regid="$1" \
			--clear-groups bash -c '
			ok=0 ref=0 oth=0
			for _ in $(seq "$1"); do
				if out=$("$0" connect --dst "$2" --port "$3" --count 1 \
					--timeout-ms 400 --json 2>&1); then
					case $out in *\"ok\":1,*) ok=$((ok + 1)) ;; *) oth=$((oth + 1)) ;; esac
				elif [[ $out == *"Operation not permitted"* ]]; then
					ref=$((ref + 1))
				else
					oth=$((oth + 1))
				fi
			done
			echo "$ok $ref $oth"' "$MXG_CONN" "$2" "$3" "$4"
	)
}

# out_sandbox_up SECONDS: addresses and routes of the remote MX and
# smarthost, their listener on 25 in the client namespace and the local MTA
# on 25 and 587 in the server's, both bounded in time.
out_sandbox_up() {
	mxg_client_addr "$MX4" "$SMART4" "$MX6"
	mxg_ip "$MXG_SRV" -4 route add "$MX4_NET" dev "$MXG_SRV_IF"
	mxg_ip "$MXG_SRV" -4 route add "$SMART4_NET" dev "$MXG_SRV_IF"
	# Remote MTAs in the client namespace; the local MTA in the server's.
	ip netns exec "$MXG_CLI" "$MXG_CONN" serve --port 25 --addr :: --seconds "$1" \
		--pid-file "$MXG_TMP/remote.pid" 2>"$MXG_TMP/remote.err" &
	MXG_PIDS+=($!)
	mxg_server_start 25,587 "$1"
	for _ in $(seq 50); do [ -s "$MXG_TMP/remote.pid" ] && break; sleep 0.1; done
	[ -s "$MXG_TMP/remote.pid" ] ||
		mxg_fatal setup "remote listener did not start: $(cat "$MXG_TMP/remote.err")"
}

# A cgroup of our own under the cgroup v2 mount and three unused uids; 1
# (with a SKIP) when this host cannot have them.
local_setup() {
	CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
	if [ -z "$CG2" ]; then
		mxg_skip local__all "no cgroup v2 mount on this host"
		return 1
	fi
	command -v setpriv >/dev/null || { mxg_skip local__all "setpriv not found"; return 1; }
	CG=$CG2/mxg-e2e-$RANDOM$RANDOM
	mkdir "$CG" || { CG=; mxg_fatal local__setup "mkdir cgroup under $CG2"; }
	CGID=$(stat -c %i "$CG")
	# Moving ourselves in must work (a delegated or container cgroup tree
	# may forbid it); the probe subshell leaves it again by exiting.
	if ! (echo "$BASHPID" >"$CG/cgroup.procs") 2>/dev/null; then
		mxg_skip local__all "cannot move a process into $CG"
		return 1
	fi
	LIM_UID=$(pick_uid 61000)
	TRUST_UID=$(pick_uid $((LIM_UID + 1)))
	CG_UID=$(pick_uid $((TRUST_UID + 1)))
	[ -n "$CG_UID" ] || mxg_fatal local__setup "no unused uid found"
	echo "# cgroup $CG (id $CGID), uids $LIM_UID $TRUST_UID $CG_UID"
	return 0
}


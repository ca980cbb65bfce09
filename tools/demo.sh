#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# mxguard in action, in a throw-away sandbox of two network namespaces: a
# mail server under an SMTP/POP3 flood from several addresses, a botnet
# spread over one network, a partner MX on the allowlist, a blocklisted
# address and a few ordinary users. Prints
# what mxguard saw and a short account of it; removes everything on exit.
# Usage: tools/demo.sh   (root; run by `make demo`; under a minute)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../tests/lib/netns.sh"

ATTACKERS=(198.18.0.101 198.18.0.102 198.18.0.103 198.18.0.104 2001:db8:bad::5)
POP_ATTACKER=198.18.0.110
PARTNER=198.18.0.77
BLOCKED=198.18.0.66
USERS=(198.18.0.21 198.18.0.22 198.18.0.23 2001:db8:5::21)
FLOOD_N=80 FLOOD_RATE=40
# A botnet on submission: 16 addresses, four in each /24 of one /22, each
# within its own limit; submission's networks are /22 here.
BOT_NET=198.18.40.0/22
BOTS=()
for i in 0 1 2 3; do for j in 10 11 12 13; do BOTS+=("198.18.4$i.$j"); done; done
BOT_N=3

say() { printf '\n== %s\n' "$*"; }

# Show the command as a mail admin would type it, then run it.
run() {
	local a line='$ mxguard'
	for a in "$@"; do
		[[ "$a" == *" "* ]] && a="\"$a\""
		line+=" $a"
	done
	echo "$line"
	mxg "$@" || mxg_fatal demo "mxguard $* failed"
}

dst_for() { [[ "$1" == *:* ]] && echo "$MXG_SRV6" || echo "$MXG_SRV4"; }

# Total of one field over several client runs.
total() {
	local field=$1 s=0 n v; shift
	for n in "$@"; do
		v=$(mxg_result "$n" "$field")
		[[ "$v" =~ ^[0-9]+$ ]] || mxg_fatal demo "client $n: $v"
		s=$((s + v))
	done
	echo "$s"
}

main() {
	local i a names_att=() names_usr=() names_bot=()

	mxg_require_mxguard
	mxg_sandbox_up
	mxg_client_addr "${ATTACKERS[@]}" "$POP_ATTACKER" "$PARTNER" "$BLOCKED" "${USERS[@]}" \
		"${BOTS[@]}"
	mxg_ip "$MXG_SRV" -4 route add "$BOT_NET" dev "$MXG_SRV_IF"
	mxg_server_start 25,110,587 60

	say "A mail server (namespace $MXG_SRV, $MXG_SRV4 / $MXG_SRV6) behind interface $MXG_SRV_IF"
	run attach "$MXG_SRV_IF" --mode auto
	run limit set smtp --rate 30/min --burst 5
	run limit set pop3 --rate 10/min --burst 3
	run limit set submission --prefix-v4 /22 --prefix-rate 30/min --prefix-burst 10
	run allow add "$PARTNER" --comment "partner MX"
	run block add "$BLOCKED" --reason "known spam source"

	say "Traffic for about 3 seconds"
	echo "  ${#ATTACKERS[@]} attackers: $FLOOD_N SMTP connections each at $FLOOD_RATE/s"
	echo "  1 POP3 password guesser ($POP_ATTACKER): 60 connections at 30/s"
	echo "  partner MX $PARTNER: 100 SMTP connections at $FLOOD_RATE/s"
	echo "  blocklisted $BLOCKED: 20 SMTP connections"
	echo "  ${#USERS[@]} ordinary users: 3 connections each (SMTP submission, POP3)"
	echo "  a botnet of ${#BOTS[@]} addresses in $BOT_NET: $BOT_N submission connections each"
	for i in "${!ATTACKERS[@]}"; do
		a=${ATTACKERS[$i]}
		mxg_connect_bg "att$i" "$a" "$(dst_for "$a")" 25 "$FLOOD_N" "$FLOOD_RATE"
		names_att+=("att$i")
	done
	mxg_connect_bg pop "$POP_ATTACKER" "$MXG_SRV4" 110 60 30
	mxg_connect_bg partner "$PARTNER" "$MXG_SRV4" 25 100 "$FLOOD_RATE"
	mxg_connect_bg blocked "$BLOCKED" "$MXG_SRV4" 25 20 10
	for i in "${!USERS[@]}"; do
		a=${USERS[$i]}
		mxg_connect_bg "usr$i" "$a" "$(dst_for "$a")" 587 2 1
		mxg_connect_bg "usrpop$i" "$a" "$(dst_for "$a")" 110 1 1
		names_usr+=("usr$i" "usrpop$i")
	done
	for i in "${!BOTS[@]}"; do
		mxg_connect_bg "bot$i" "${BOTS[$i]}" "$MXG_SRV4" 587 "$BOT_N" 1
		names_bot+=("bot$i")
	done
	mxg_wait_all

	say "What mxguard counted"
	run stats
	say "Top sources"
	run top -n 10
	say "Top networks (a botnet within every per-source limit shows here)"
	run top --networks -n 5

	local att_n att_ok pop_ok part_ok blk_ok usr_n usr_ok bot_n bot_ok
	att_n=$(total attempts "${names_att[@]}")
	att_ok=$(total ok "${names_att[@]}")
	pop_ok=$(total ok pop)
	part_ok=$(total ok partner)
	blk_ok=$(total ok blocked)
	usr_n=$(total attempts "${names_usr[@]}")
	usr_ok=$(total ok "${names_usr[@]}")
	bot_n=$(total attempts "${names_bot[@]}")
	bot_ok=$(total ok "${names_bot[@]}")

	say "What happened"
	cat <<EOF
  SMTP flood: ${#ATTACKERS[@]} sources tried $att_n connections; $att_ok got through.
    Each source may open 5 at once (the burst) and then one every 2 s
    (30/min); the other $((att_n - att_ok)) SYNs were dropped by XDP on the NIC,
    before the kernel's TCP stack or the MTA saw them. The IPv6 attacker
    is tracked by its /64 (2001:db8:bad::): new addresses in it buy nothing.
  POP3 guessing: $POP_ATTACKER got $pop_ok of 60 connections (10/min, burst 3).
  Botnet: ${#BOTS[@]} addresses in $BOT_NET, each within its own limit, got
    $bot_ok of $bot_n: their network's bucket (10 at once, then 30/min) held
    them as one. No source of it is 'limited' in top; top --networks shows it.
  Partner MX $PARTNER: $part_ok of 100 connections, none limited: the
    allowlist wins over limits, blocks and lockdown.
  Blocklisted $BLOCKED: $blk_ok of 20 connections.
  Ordinary users: $usr_ok of $usr_n connections, unaffected.
  Evidence: 'mxguard top --json' and 'mxguard stats --json' keep who, when, how much.
EOF
	say "Cleaning up (namespaces, pins, server)"
}

main "$@"

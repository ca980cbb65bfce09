#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The command-line contract: exit status (0 ok, 1 runtime failure, 2 bad
# usage or input) and messages that name the offending value, for bad input,
# commands before attach, missing privileges; and --help for every command.
set -u
. "$(dirname "$0")/../lib/netns.sh"

M() { ip netns exec "$MXG_SRV" timeout "$MXG_CMD_TIMEOUT" "$MXG_BIN" "$@"; }

# expect_fail CASE RC REGEX CMD...: exit status RC and stderr matching REGEX.
expect_fail() {
	local name=$1 rc=$2 re=$3 out got; shift 3
	out=$(M "$@" 2>&1 >/dev/null); got=$?
	mxg_expect_eq "$name/exit" "$rc" "$got"
	mxg_expect_match "$name/message" "$re" "$out"
}

case_before_attach() {
	expect_fail before_attach__status_is_not_an_error 0 '^$' status
	expect_fail before_attach__allow_list_exit2 2 "mxguard: allow list: mxguard is not attached .*run 'mxguard attach IFACE' first" allow list
	expect_fail before_attach__stats_exit2 2 "not attached" stats
	expect_fail before_attach__mode_exit2 2 "not attached" mode monitor
	local out
	out=$(M status --json)
	mxg_expect_eq before_attach__status_json_attached false "$(mxg_jq .attached "$out")"
}

case_bad_input() {
	expect_fail bad_input__unknown_interface 2 "mxguard: attach: no interface 'mxg-nosuch0'" attach mxg-nosuch0
	expect_fail bad_input__bad_xdp_mode 2 "invalid --mode 'turbo'" attach "$MXG_SRV_IF" --mode turbo
	expect_fail bad_input__rate_fortnight 2 "mxguard: limit set: invalid rate '10/fortnight'" limit set smtp --rate 10/fortnight
	expect_fail bad_input__unknown_service 2 "unknown service 'smtpx'" limit set smtpx --rate 10/min
	expect_fail bad_input__burst_zero 2 "invalid burst '0'" limit set smtp --burst 0
	expect_fail bad_input__cidr_garbage 2 "invalid address or CIDR '198.18.0.300'" block add 198.18.0.300
	expect_fail bad_input__cidr_prefix 2 "invalid address or CIDR '198.18.0.0/33'" allow add 198.18.0.0/33
	expect_fail bad_input__cidr_host_bits 2 "'198.18.0.1/24'.*host bits" block add 198.18.0.1/24
	expect_fail bad_input__ttl 2 "invalid --ttl '5w'" block add 198.18.0.9 --ttl 5w
	expect_fail bad_input__mode 2 "unknown mode 'panic'" mode panic
	expect_fail bad_input__unknown_command 2 "unknown command 'frobnicate'" frobnicate
	expect_fail bad_input__unknown_option 2 "unknown|needs a value" stats --bogus
	expect_fail bad_input__missing_arg 2 "missing address or CIDR" allow add
	expect_fail bad_input__del_absent 2 "198.18.9.9/32 is not in the allowlist" allow del 198.18.9.9
	expect_fail bad_input__detach_unknown 2 "not attached to 'mxg-nosuch0'" detach mxg-nosuch0
	expect_fail bad_input__too_broad 2 "broader than /8" block add 198.0.0.0/7
	expect_fail bad_input__top_by 2 "invalid --by 'fortnight'" top --by fortnight
	expect_fail bad_input__top_service 2 "unknown service 'smtpx'" top --service smtpx
}

case_report() {
	local out
	M allow add 198.18.0.5 --comment "partner" >/dev/null
	out=$(M report --json)
	mxg_expect_eq report__allowlist_entries 1 "$(mxg_jq .allowlist.entries "$out")"
	mxg_expect_eq report__no_refused_partner 0 "$(mxg_jq .allowlist.refused_sources "$out")"
	mxg_expect_eq report__services 7 "$(mxg_jq '.services|length' "$out")"
	out=$(M top --by rate --service smtp --json)
	mxg_expect_eq top__by_rate_json_ok 0 "$(mxg_jq '.sources|length' "$out")"
}

case_privileges() {
	local out rc c
	for c in "status" "stats --json" "block list" "attach $MXG_SRV_IF"; do
		# shellcheck disable=SC2086
		out=$(ip netns exec "$MXG_SRV" setpriv --reuid=65534 --regid=65534 \
			--clear-groups --inh-caps=-all --bounding-set=-all "$MXG_BIN" $c 2>&1)
		rc=$?
		mxg_expect_eq "privileges__${c%% *}_exit1" 1 "$rc"
		mxg_expect_match "privileges__${c%% *}_names_capability" "needs CAP_BPF" "$out"
	done
}

case_help() {
	local c out rc
	for c in attach detach status mode limit allow block stats top report check dump events run config outbound local; do
		out=$("$MXG_BIN" "$c" --help); rc=$?
		mxg_expect_eq "help__${c}_exit0" 0 "$rc"
		mxg_expect_match "help__${c}_usage" "^Usage:.*mxguard $c" "$(tr '\n' ' ' <<<"$out")"
	done
	out=$("$MXG_BIN" --help); rc=$?
	mxg_expect_eq help__main_exit0 0 "$rc"
	mxg_expect_match help__main_lists_commands "attach.*block.*stats" "$(tr '\n' ' ' <<<"$out")"
}

case_attach_idempotent() {
	local out
	out=$(M attach "$MXG_SRV_IF" --mode generic 2>&1)
	mxg_expect_match attach__reports_mode "attached to $MXG_SRV_IF \(generic mode" "$out"
	out=$(M attach "$MXG_SRV_IF" 2>&1)
	mxg_expect_match attach__twice_is_idempotent "already attached to $MXG_SRV_IF" "$out"
	out=$(M status --json)
	mxg_expect_eq attach__one_interface 1 "$(mxg_jq '.interfaces|length' "$out")"
	mxg_expect_eq attach__xdp_mode_generic generic "$(mxg_jq '.interfaces[0].xdp_mode' "$out")"
}

mxg_sandbox_up
mxg_require_mxguard
case_before_attach
case_help
case_privileges
case_attach_idempotent
case_bad_input
case_report
mxg_done

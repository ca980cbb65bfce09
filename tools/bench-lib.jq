# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers shared by the jq programs of tools/bench.sh (include "bench-lib",
# with -L tools).

# The median of an array, nulls (a figure a run could not give) left out.
def med: map(select(. != null)) | sort | if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;

# The runs of a flood (one object per filter and run: filter, run, numbers)
# summed up: per filter, the median of each number over its runs; "paired":
# the ratios of the filters flooded in the same run, then their median (a
# slow spell of the VM hits both sides). $cpu: the field of CPU per frame.
def flood_summary($cpu):
	. as $all
	| group_by(.filter) | map(. as $runs | {key: .[0].filter, value: (
		[.[0] | to_entries[] | select(.key != "run" and (.value | type) == "number") | .key]
		| map(. as $k | {key: $k, value: ($runs | map(.[$k]) | med)}) | from_entries
		| . + {pass_fraction: ($runs | map(.passed / (.passed + .dropped)) | med),
		       runs: $runs})}) | from_entries
	| . + {paired: ([$all | group_by(.run)[]
		| map({key: .filter, value: .}) | from_entries
		| select(.trivial and .mxguard and .nft)] as $p | {
		runs: ($p | length),
		mxguard_over_trivial_drop: ($p | map(.mxguard.drop_pps / .trivial.drop_pps) | med),
		mxguard_over_nft_drop: ($p | map(.mxguard.drop_pps / .nft.drop_pps) | med),
		trivial_over_mxguard_cpu: ($p | map(.trivial[$cpu] / .mxguard[$cpu]) | med),
		nft_over_mxguard_cpu: ($p | map(.nft[$cpu] / .mxguard[$cpu]) | med)})};

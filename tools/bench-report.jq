# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Turns the raw results of tools/bench.sh into build/bench.json: medians,
# ratios, and each target of the performance issue and of DESIGN.md with
# its value and verdict. Inputs: $prog $flood $live $ctl (null when not run),
# $host $kernel $cpus $runs.

include "bench-lib";

def r2: if . == null then null else (. * 1000 | round) / 1000 end;
def ns($c): $prog.cases[$c].median_ns;
def target($name; $value; $op; $limit; $unit):
	{name: $name, value: ($value | r2), limit: $limit, unit: $unit,
	 pass: (if $value == null then null
		elif $op == "<=" then $value <= $limit else $value >= $limit end)};
# Case $a over case $b, run by run (the cases of a run are interleaved, so
# a slow spell of the VM hits both), then the median of those ratios.
def pr($a; $b): [$prog.cases[$a].runs_ns, $prog.cases[$b].runs_ns] | transpose
	| map(select(.[0] != null and .[1] != null) | .[0] / .[1]) | med;
def design_floor_ns: 29;
def mail_small: ["syn_under", "syn_under_v6", "syn_over", "syn_allow",
	"syn_block_exact_small", "syn_block_pfx_small", "syn_block_pfx6_small"];
def pairs: [["syn_block_exact_large", "syn_block_exact_small"],
	["syn_block_pfx_large", "syn_block_pfx_small"],
	["syn_block_pfx6_large", "syn_block_pfx6_small"],
	["syn_under_large", "syn_under"], ["syn_under_v6_large", "syn_under_v6"],
	["ack25_large", "ack25"]];

{
  machine: {cpu: $host, kernel: $kernel, cpus: $cpus},
  runs: $runs,
  test_run: (if $prog == null then null else {
    repeat: $prog.repeat,
    blocklists: {small: $prog.blocklist_small, large: $prog.blocklist_large},
    ns_per_frame: ($prog.cases | map_values(.median_ns)),
    verdicts_ok: ([$prog.cases[] | .verdict_ok] | all),
    x_empty: ($prog.cases | with_entries(.value = (pr(.key; "empty") | r2))),
    x_floor: ($prog.cases | with_entries(.value = (pr(.key; "floor") | r2))),
    new_source: $prog.new_source,
    large_over_small: (pairs | map({key: .[0], value: (pr(.[0]; .[1]) | r2)}) | from_entries)
  } end),
  flood: $flood,
  live: $live,
  controller: $ctl,
  memory: (if $prog == null then null else ($prog.memory + {
    bytes_per_tracked_source: (($prog.memory.src_memlock_full - $prog.memory.src_memlock_half_size) / ($prog.memory.src_max_entries - ($prog.memory.src_max_entries / 2 | floor))),
    bytes_per_tracked_source_with_fixed: ($prog.memory.src_memlock_full / $prog.memory.src_max_entries),
    bytes_per_block_exact: (($prog.memory.block_h_memlock_after - $prog.memory.block_h_memlock_before) / $prog.memory.block_h_entries),
    bytes_per_block_prefix: (($prog.memory.block_t_memlock_after - $prog.memory.block_t_memlock_before) / $prog.memory.block_t_entries)
  }) end),
  resilience: (if $prog == null then null else $prog.resilience end)
}
| . as $r
| .targets = ([
  (if $prog == null then empty else
    (["arp", "udp", "tcp80", "tcp80_v6"][] as $c |
      target("issue: non-mail \($c) / empty program"; pr($c; "empty"); "<="; 1.3; "x"),
      target("DESIGN: non-mail \($c) - minimal parser"; ns($c) - ns("parser"); "<="; 1; "ns")),
    ([mail_small[] | {c: ., v: ns(.)}] | max_by(.v)) as $w |
      target("issue: worst mail SYN (\($w.c)) / empty program"; pr($w.c; "empty"); "<="; 4; "x"),
      target("DESIGN: worst mail SYN (\($w.c)) / measured floor"; pr($w.c; "floor"); "<="; 1.5; "x"),
      target("DESIGN: worst mail SYN (\($w.c)) / 29 ns floor"; $w.v / design_floor_ns; "<="; 1.5; "x"),
    (pairs[] | target("1M / 1k list: \(.[0] | sub("_large"; ""))"; pr(.[0]; .[1]); "<="; 2; "x")),
    target("kernel bytes per tracked source"; $r.memory.bytes_per_tracked_source; "<="; 128; "B")
  end),
  (if $flood == null then empty else
    target("flood: mxguard / trivial drop rate"; $flood.paired.mxguard_over_trivial_drop; ">="; 0.9; "x"),
    target("flood: mxguard / nftables drop rate"; $flood.paired.mxguard_over_nft_drop; ">="; 5; "x"),
    target("flood: trivial / mxguard rx CPU per packet"; $flood.paired.trivial_over_mxguard_cpu; ">="; 0.9; "x"),
    target("flood: nftables / mxguard rx CPU per packet"; $flood.paired.nft_over_mxguard_cpu; ">="; 5; "x")
  end),
  (if $live == null then empty else
    target("live frames: mxguard / trivial drop rate"; $live.paired.mxguard_over_trivial_drop; ">="; 0.9; "x"),
    target("live frames: mxguard / nftables drop rate"; $live.paired.mxguard_over_nft_drop; ">="; 5; "x")
  end),
  (if $ctl == null then empty else
    target("block load \($ctl.entries) entries"; $ctl.block_load_ms / 1000; "<="; 3; "s"),
    target("block list --json \($ctl.entries) entries"; $ctl.block_list_json_ms / 1000; "<="; 2; "s"),
    (if $ctl.dump_json_ms == null then empty else
      target("dump json, scaled to 1,000,000 sources"; $ctl.dump_json_ms / 1000 * 1000000 / $ctl.dump_sources; "<="; 2; "s"),
      target("dump csv, scaled to 1,000,000 sources"; $ctl.dump_csv_ms / 1000 * 1000000 / $ctl.dump_sources; "<="; 2; "s")
    end)
  end)
])

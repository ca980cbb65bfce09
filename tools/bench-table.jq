# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The one table `make bench` prints, from build/bench.json.

def f($d): if . == null then "n/a" else (. * pow(10; $d) | round / pow(10; $d) | tostring) end;
def pad($n): tostring | if length >= $n then . else . + (" " * ($n - length)) end;
def lpad($n): tostring | if length >= $n then . else (" " * ($n - length)) + . end;
def row($a; $b; $c; $d): "\($a | pad(52)) \($b | lpad(12)) \($c | lpad(9)) \($d | lpad(9))";

"mxguard benchmarks: \(.machine.cpu), \(.machine.cpus) CPUs, kernel \(.machine.kernel); medians of \(.runs) runs",
"",
(if .test_run == null then empty else
  row("BPF_PROG_TEST_RUN, ns per frame (1M repeats)"; "ns"; "x empty"; "x floor"),
  (.test_run as $t | $t.ns_per_frame | to_entries[] |
    row("  " + .key; (.value | f(1)); ($t.x_empty[.key] | f(2)); ($t.x_floor[.key] | f(2)))),
  (if .test_run.new_source == null then empty else
    row("  syn_new_source (1 run each, net of timer)"; (.test_run.new_source.net_ns | f(1));
        (.test_run.new_source.net_ns / .test_run.ns_per_frame.empty | f(2));
        (.test_run.new_source.net_ns / .test_run.ns_per_frame.floor | f(2))) end),
  "  (small list: \(.test_run.blocklists.small.exact + .test_run.blocklists.small.prefixes) entries, large: \(.test_run.blocklists.large.exact + .test_run.blocklists.large.prefixes); floor = bench_floor)",
  "  (x columns and every ratio below: the ratio within each run, then the median of those)",
  ""
end),
(if .flood == null then empty else
  row("veth SYN flood, 1M spoofed sources"; "drop kpps"; "rx ms/Mp"; "passed"),
  (.flood | to_entries[] | select(.key != "paired") |
    row("  " + .key; (.value.drop_pps / 1000 | f(0)); (.value.rx_cpu_ms_per_mpkt | f(0));
        ((.value.pass_fraction * 100 | f(2)) + "%"))),
  "  (generator \(.flood.trivial.gen_pps / 1000 | f(0)) kpps; rx = threaded NAPI thread CPU time per million frames)",
  "  same-run ratios, median of \(.flood.paired.runs) runs: mxguard/trivial drop \(.flood.paired.mxguard_over_trivial_drop | f(2))x, mxguard/nft drop \(.flood.paired.mxguard_over_nft_drop | f(2))x,",
  "  CPU per frame trivial/mxguard \(.flood.paired.trivial_over_mxguard_cpu | f(2))x, nft/mxguard \(.flood.paired.nft_over_mxguard_cpu | f(2))x",
  (if .flood.mxguard.slots_draining == null then empty else
  "  after it, \(.flood.mxguard.slots_draining | f(0)) of \(.flood.mxguard.slots | f(0)) network slots drain (\(.flood.mxguard.slots_draining / .flood.mxguard.slots * 100 | f(0))%): the chance that a new honest network meets a bucket the flood emptied" end),
  ""
end),
(if .live == null then empty else
  row("live frames (BPF_PROG_RUN), 1M spoofed sources"; "drop kpps"; "ns/frame"; "passed"),
  (.live | to_entries[] | select(.key != "paired") |
    row("  " + .key; (.value.drop_pps / 1000 | f(0)); (.value.cpu_ns_per_frame | f(1));
        ((.value.pass_fraction * 100 | f(2)) + "%"))),
  "  (one CPU runs the frames through the program and, for frames it passes, the stack; ns = CPU time per frame)",
  "  same-run ratios, median of \(.live.paired.runs) runs: mxguard/trivial drop \(.live.paired.mxguard_over_trivial_drop | f(2))x, mxguard/nft drop \(.live.paired.mxguard_over_nft_drop | f(2))x",
  ""
end),
(if .controller == null then empty else
  row("controller"; "ms"; ""; ""),
  row("  block load \(.controller.entries)"; .controller.block_load_ms; ""; ""),
  row("  block list --json \(.controller.entries)"; .controller.block_list_json_ms; ""; ""),
  row("  dump json \(.controller.dump_sources // "n/a") sources"; (.controller.dump_json_ms // "n/a (not built)"); ""; ""),
  row("  dump csv \(.controller.dump_sources // "n/a") sources"; (.controller.dump_csv_ms // "n/a (not built)"); ""; ""),
  ""
end),
(if .memory == null then empty else
  row("kernel memory (memlock)"; "bytes"; ""; ""),
  row("  per tracked source (mxg_src, \(.memory.src_max_entries) slots)"; (.memory.bytes_per_tracked_source | f(1)); ""; ""),
  row("    the same with the map's fixed part spread over them"; (.memory.bytes_per_tracked_source_with_fixed | f(3)); ""; ""),
  row("  per exact block entry (mxg_block_h)"; (.memory.bytes_per_block_exact | f(1)); ""; ""),
  row("  per block prefix (mxg_block_t)"; (.memory.bytes_per_block_prefix | f(1)); ""; ""),
  row("  all maps, defaults + large list"; .memory.all_maps_memlock_with_large_list; ""; ""),
  "",
  (if .memory.maps == null then empty else
    row("default table sizes (memlock: with the large list)"; "max entries"; "MiB"; ""),
    (.memory.maps | to_entries[] |
      row("  " + .key; .value.max_entries; (.value.memlock / 1048576 | f(2)); "")),
    "  (mxg_allow, mxg_block_h, mxg_block_t, mxg_reasons grow with their entries (mxg_block_h has a 32 MiB",
    "  bucket array from the start); the others are allocated whole; mxg_events counts bytes)",
    ""
  end)
end),
(if .resilience == null then empty else
  row("limited attacker's SYNs that pass"; "fraction"; ""; ""),
  row("  without flood"; (.resilience.pass_no_flood | f(3)); ""; ""),
  row("  with \(.resilience.flood) spoofed SYNs cycling the LRU"; (.resilience.pass_with_flood | f(3)); ""; ""),
  ""
end),
row("targets"; "value"; "limit"; "verdict"),
(.targets[] | .unit as $u | row("  " + .name; "\(.value | f(if $u == "B" then 3 else 2 end))\(.unit)"; "\(.limit)\(.unit)";
  (if .pass == null then "n/a" elif .pass then "PASS" else "FAIL" end)))

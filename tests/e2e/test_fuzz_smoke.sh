#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs every libFuzzer target of tests/fuzz over its seed corpus for a bounded
# time (5 s here, FUZZ_SECONDS under `make fuzz`); a crash is a FAIL naming
# the input kept in $MXG_BUILD/fuzz/crashes/.
# Env: MXG_BUILD (build dir, default build), MXG_FUZZ_SECONDS (default 5).
set -u
cd "$(dirname "$0")/../.."
build=${MXG_BUILD:-build}
secs=${MXG_FUZZ_SECONDS:-5}
fdir=$build/fuzz
failed=0

targets=()
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	targets+=("${t#fuzz_}")
done
if [ "${#targets[@]}" -eq 0 ]; then
	echo "FAIL fuzz__targets: no tests/fuzz/fuzz_*.c"
	exit 1
fi

# Built by `make test` and `make fuzz`; when run on its own, build them.
missing=0
for t in "${targets[@]}"; do
	[ -x "$fdir/fuzz_$t" ] || missing=1
done
if [ "$missing" -eq 1 ]; then
	rt=$(${CLANG:-clang} -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
	if [ ! -f "$rt" ]; then
		for t in "${targets[@]}"; do
			echo "SKIP fuzz__${t}_${secs}s_clean: clang's libFuzzer runtime is not installed (libclang-rt-14-dev; make deps)"
		done
		exit 0
	fi
	if ! env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory BUILD="$build" fuzz-build >"$build/fuzz-build.log" 2>&1; then
		echo "FAIL fuzz__build: make fuzz-build failed; last lines:"
		tail -n 20 "$build/fuzz-build.log" | sed 's/^/# /'
		exit 1
	fi
fi

mkdir -p "$fdir/crashes" "$fdir/logs"
for t in "${targets[@]}"; do
	name="fuzz__${t}_${secs}s_clean"
	bin=$fdir/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$fdir/corpus/$t  # new inputs go here, never into the seeds
	log=$fdir/logs/$t.log
	mkdir -p "$work"
	if [ ! -d "$seeds" ]; then
		echo "FAIL $name: no seed corpus $seeds"
		failed=$((failed + 1))
		continue
	fi
	# A leak or a slow input is a finding too: -timeout per input, and
	# libFuzzer's default leak detection stays on.
	"$bin" -max_total_time="$secs" -timeout=10 -max_len=8192 \
		-artifact_prefix="$fdir/crashes/$t-" -print_final_stats=1 \
		"$work" "$seeds" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs)"
		continue
	fi
	crash=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -n 1)
	echo "FAIL $name: exit $rc, input ${crash:-<none written>}, log $log"
	# The finding and the frames of our code, not libFuzzer's own.
	grep -E 'ERROR|invariant broken|SUMMARY|^ *#[0-9]+ .* in .*(/tests/fuzz/|/user/)' \
		"$log" | head -n 20 | sed 's/^/# /'
	failed=$((failed + 1))
done
[ "$failed" -eq 0 ]

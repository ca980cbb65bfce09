#!/usr/bin/env bash
# Runs every test (unit, bpf, e2e), counts their PASS/FAIL/SKIP lines and ends
# with one line "N passed, N failed". A test that exits non-zero without
# printing a FAIL counts as one failure; a test that prints nothing fails.
# Usage: tests/run.sh [SUBSTRING]   (only tests whose file name contains it)
set -u
cd "$(dirname "$0")/.."
filter=${1:-}
passed=0 failed=0 skipped=0
log_dir=$(mktemp -d /tmp/mxg-tests.XXXXXX)
trap 'rm -rf "$log_dir"' EXIT

run_one() {
	local name=$1; shift
	local out="$log_dir/$(basename "$name").log" rc p f s
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	grep -E '^(FAIL|SKIP) ' "$out" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   FAIL $name: exited $rc without naming a failed case; last output:"
		tail -n 15 "$out" | sed 's/^/     | /'
		f=1
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "   FAIL $name: ran no case"
		f=1
	fi
	echo "   $p passed, $f failed, $s skipped"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for t in "${MXG_BUILD:-build}"/tests/unit/test_* "${MXG_BUILD:-build}"/tests/bpf/test_* tests/e2e/test_*.sh; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	[ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
	run_one "$t" "$t"
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/bin/sh
# Run every test program and script; the last line is "N passed, N failed".
# tests/run.sh asan: the sanitizer set only (make test-asan): unit tests, the plugin
# in a host, and every command-line suite on the ASan + UBSan build.
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
units="build/tests/test_* build/asan/tests/test_*"
suites="tests/symbols.sh tests/cli.sh tests/catalogue.sh tests/contract.sh tests/report.sh tests/terminal.sh tests/marks.sh tests/nomem.sh tests/shard.sh tests/plugin.sh tests/examples.sh tests/dataset.sh tests/attribution.sh tests/dataloss.sh tests/hostile.sh tests/untrusted.sh tests/regress.sh tests/hosts.sh tests/e2e.sh tests/scale.sh tests/asan.sh asan:tests/cli.sh asan:tests/dataset.sh asan:tests/attribution.sh asan:tests/dataloss.sh asan:tests/marks.sh asan:tests/untrusted.sh asan:tests/report.sh"
if [ "${1:-}" = asan ]; then
    units="build/asan/tests/test_*"
    suites="tests/asan.sh tests/regress.sh asan:tests/cli.sh asan:tests/dataset.sh asan:tests/attribution.sh asan:tests/dataloss.sh asan:tests/marks.sh asan:tests/untrusted.sh asan:tests/report.sh"
fi
for t in $units; do
    "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
    p=${p:-0} f=${f:-0}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed
    grep -E '^\[  (FAILED|ERROR)|LINE' "$log"
    echo "$t: $p passed, $f failed"
    pass=$((pass + p)) fail=$((fail + f))
done
# Shell suites; the command-line ones run twice, the second time on the sanitizer build.
for s in $suites; do
    case "$s" in
    asan:*) s=${s#asan:}; PM=build/asan/bin/provmark sh "$s" >"$log" 2>&1; s="$s (asan)" ;;
    *) sh "$s" >"$log" 2>&1 ;;
    esac
    p=$(grep -c '^ok ' "$log") f=$(grep -c '^FAIL ' "$log")
    grep '^FAIL ' "$log"
    echo "$s: $p passed, $f failed"
    pass=$((pass + p)) fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

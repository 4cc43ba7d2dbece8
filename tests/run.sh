#!/bin/sh
# Run every test program and script; the last line is "N passed, N failed".
# tests/run.sh asan: the sanitizer set only (make test-asan): unit tests, the plugin
# in a host, and every command-line suite on the ASan + UBSan build.
cd "$(dirname "$0")/.." || exit 2
all=$(mktemp) log=$(mktemp)
trap 'rm -f "$all" "$log"' EXIT
units="build/tests/test_* build/asan/tests/test_*"
# The real-time hosts first, alone: jackd's dummy driver counts a cycle it cannot finish
# in time as an xrun and drops audio, and two other jobs on two cores starve it (seen:
# hundreds of xruns and a mark lost in the jalv state test).
alone="tests/hosts.sh"
# Then two lanes, one a core, each in order: a suite that reads another's output (shard.sh
# reads cli.sh's) comes after it in the same lane, and X and asan:X share X's work folder.
# Lane 2 is the longer (its suites' timings are in every run's log): suites without such
# ties go to lane 1 when it grows.
lane1="tests/symbols.sh tests/cli.sh tests/shard.sh asan:tests/cli.sh tests/plugin.sh tests/e2e.sh tests/regress.sh tests/contract.sh tests/report.sh asan:tests/report.sh tests/terminal.sh tests/untrusted.sh asan:tests/untrusted.sh tests/weak.sh tests/nomem.sh tests/versions.sh"
lane2="tests/scale.sh tests/catalogue.sh tests/marks.sh asan:tests/marks.sh tests/recognise.sh asan:tests/recognise.sh tests/examples.sh tests/dataset.sh asan:tests/dataset.sh tests/attribution.sh asan:tests/attribution.sh tests/dataloss.sh asan:tests/dataloss.sh tests/hostile.sh tests/asan.sh"
# The Debian packages (scripts/test-packages.sh): built beside the suites, since the build
# changes nothing outside build/packages; installed, used and purged after them, since
# the installed bundle is on the default LV2 path every host searches.
packages=yes
if [ "${1:-}" = asan ]; then
    units="build/asan/tests/test_*"
    alone=""
    lane1="tests/asan.sh tests/regress.sh asan:tests/cli.sh asan:tests/report.sh"
    lane2="asan:tests/dataset.sh asan:tests/attribution.sh asan:tests/dataloss.sh asan:tests/marks.sh asan:tests/recognise.sh asan:tests/untrusted.sh asan:tests/weak.sh"
    packages=no
fi
# unit PROGRAM: run a cmocka program; its failures, then "PROGRAM: N passed, N failed"
unit() {
    "$1" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
    p=${p:-0} f=${f:-0}
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed
    grep -E '^\[  (FAILED|ERROR)|LINE' "$log"
    echo "$1: $p passed, $f failed"
}
# suite NAME: run a shell suite (asan:S on the sanitizer build, packages:PHASE the
# package test); its FAIL lines, then "NAME: N passed, N failed (T s)"
suite() {
    s=$1 out=$(mktemp) t0=$(date +%s)
    case "$s" in
    asan:*) s=${s#asan:}; PM=build/asan/bin/provmark sh "$s" >"$out" 2>&1; rc=$?; s="$s (asan)" ;;
    packages:*) DEB_BUILD_OPTIONS=nocheck nice scripts/test-packages.sh "${s#packages:}" >"$out" 2>&1
        rc=$?; s="Debian packages, ${s#packages:}" ;;
    *) sh "$s" >"$out" 2>&1; rc=$? ;;
    esac
    p=$(grep -c '^ok ' "$out") f=$(grep -c '^FAIL ' "$out")
    grep '^FAIL ' "$out"
    if [ "$rc" -gt 128 ]; then # killed (a crash of the shell or a check it waited for)
        echo "FAIL $s: ended by signal $((rc - 128))"
        f=$((f + 1))
    elif [ $((p + f)) -eq 0 ] && ! grep -q '^skip ' "$out"; then
        echo "FAIL $s: no result at all"
        f=1
    fi
    grep '^skip ' "$out"
    echo "$s: $p passed, $f failed ($(($(date +%s) - t0)) s)"
    rm -f "$out"
}
if [ "${1:-}" = lane ]; then # (internal) run.sh lane SUITE...: one lane, as below
    shift
    for s in "$@"; do suite "$s"; done
    exit 0
fi
# git keeps no mode but x: the test key comes out readable by others, which the tools
# warn about on every use; suites that count stderr lines need it private from the start.
chmod 600 tests/data/test.key
for t in $units; do unit "$t"; done | tee -a "$all"
for s in $alone; do suite "$s"; done | tee -a "$all"
if [ "$packages" = yes ] && ! scripts/test-packages.sh check >"$log"; then
    # Left by an interrupted run, or installed on purpose: either way every suite below
    # would see the installed bundle and module too. Say so; never purge them here.
    tee -a "$all" <"$log"
    echo "Debian packages: 0 passed, 1 failed" >>"$all"
    packages=no
fi
if [ "$packages" = yes ]; then
    pkgbuild=$(mktemp)
    suite packages:build >"$pkgbuild" &
    pkgpid=$!
fi
out2=$(mktemp)
# The second lane yields to the first (the plugin's suite runs lilv hosts in it).
# shellcheck disable=SC2086
nice -n 10 sh tests/run.sh lane $lane2 >"$out2" &
lane2pid=$!
# shellcheck disable=SC2086
for s in $lane1; do suite "$s"; done | tee -a "$all"
wait "$lane2pid"
rc2=$?
tee -a "$all" <"$out2"
[ "$rc2" -ne 0 ] && echo "FAIL the second lane itself ended with status $rc2; its suites after the last line above did not run" | tee -a "$all" &&
    echo "second lane: 0 passed, 1 failed" >>"$all"
rm -f "$out2"
if [ "$packages" = yes ]; then
    wait "$pkgpid"
    tee -a "$all" <"$pkgbuild"
    rm -f "$pkgbuild"
    suite packages:use | tee -a "$all"
fi
# The sum of the "N passed, N failed" lines above.
grep -v '^FAIL ' "$all" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed\( (.*)\)\{0,1\}$/\1 \2/p' |
    awk '{ p += $1; f += $2 } END { printf "%d passed, %d failed\n", p, f; exit f > 0 || p == 0 }'

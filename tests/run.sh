#!/bin/sh
# Run every test program and script; the last line is "N passed, N failed".
# tests/run.sh asan: the sanitizer set only (make test-asan): unit tests, the plugin
# in a host, and every command-line suite on the ASan + UBSan build.
cd "$(dirname "$0")/.." || exit 2
all=$(mktemp) log=$(mktemp)
trap 'rm -f "$all" "$log"' EXIT
units="build/tests/test_* build/asan/tests/test_*"
# The real-time hosts first, in the first lane, with nothing beside them but work at the
# lowest priority (nice 19: the package build and two more lanes): jackd's dummy
# driver counts a cycle it cannot finish in time as an xrun and drops audio, and two other
# jobs of their own priority on two cores starve it (seen: hundreds of xruns and a mark
# lost in the jalv state test).
alone="tests/hosts.sh"
# Lanes take groups of suites from one queue, the longest first (the times in every
# run's log), so that they end together: two after the hosts, one a core. A group runs in
# order: a suite that reads another's output (shard.sh reads cli.sh's) comes after it,
# X and asan:X share X's work folder, and so do plugin.sh and asan.sh (the test host
# keeps its key paths and sessions in build/test-plugin, which plugin.sh empties first).
# "units": each unit test program, a group each.
# marks.sh and dataset.sh run on the sanitizer build only: they check what the detector
# and the fingerprint index answer, which is the same on both builds (the same code and
# arithmetic; checked file by file when this was decided), and CI's 15 minutes on two
# cores have no room for both (their plain runs took 124 s of lane time). The shipped
# build's answers are checked by e2e.sh, weak.sh, cli.sh, scale.sh and the hosts.
groups="asan:tests/marks.sh
asan:tests/dataset.sh
tests/untrusted.sh asan:tests/untrusted.sh
tests/recognise.sh asan:tests/recognise.sh
tests/scale.sh
tests/symbols.sh tests/cli.sh tests/shard.sh asan:tests/cli.sh
tests/plugin.sh tests/asan.sh
tests/nomem.sh
tests/attribution.sh asan:tests/attribution.sh
tests/weak.sh
tests/e2e.sh
units
tests/catalogue.sh
tests/examples.sh
tests/dataloss.sh asan:tests/dataloss.sh
tests/report.sh asan:tests/report.sh
tests/hostile.sh
tests/contract.sh
tests/versions.sh
tests/terminal.sh
tests/regress.sh"
# The Debian packages (scripts/test-packages.sh): built beside the real-time hosts, since
# the build changes nothing outside build/packages; installed, used and purged after them, since
# the installed bundle is on the default LV2 path every host searches.
packages=yes
# No suite may hang the run (seen: jack_lsp stuck for 26 minutes): each is stopped after
# this many seconds, with everything it started, and counted as failed. The longest, the
# sanitized marks.sh, takes about 150 s here with both lanes busy.
limit=600
if [ "${1:-}" = asan ]; then
    units="build/asan/tests/test_*"
    alone=""
    groups="asan:tests/marks.sh
asan:tests/dataset.sh
asan:tests/recognise.sh
asan:tests/untrusted.sh
tests/asan.sh
asan:tests/cli.sh
asan:tests/attribution.sh
asan:tests/weak.sh
units
asan:tests/report.sh
asan:tests/dataloss.sh
tests/regress.sh"
    packages=no
fi
# A stopped run (Ctrl-C, or TERM from make or a CI runner) stops what it started. Every
# program runs under timeout, in a process group of its own that the terminal's signal
# does not reach, so a shell that runs them keeps the one it waits for in $child and,
# stopped, sends it TERM (timeout passes it on to the whole group). Such a shell waits
# with 'wait', which a signal interrupts, not in the foreground, where the shell would
# take the signal only once the program ended.
child=
stoppable() {
    trap 'kill -TERM $child 2>/dev/null; exit 130' INT TERM
}
# await: the status of the program started last in the background ($!), as $child.
await() {
    child=$!
    wait "$child"
    rc=$?
    child=
}
# unit PROGRAM: run a cmocka program; its failures, then "PROGRAM: N passed, N failed"
unit() {
    timeout -k 10 "$limit" "$1" >"$log" 2>&1 &
    await
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
    p=${p:-0} f=${f:-0}
    [ "$rc" -eq 124 ] && echo "FAIL $1: stopped after $limit s, not finished"
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # crashed or stopped
    grep -E '^\[  (FAILED|ERROR)|LINE' "$log"
    echo "$1: $p passed, $f failed"
}
# suite NAME: run a shell suite (asan:S on the sanitizer build, packages:PHASE the
# package test); its FAIL lines, then "NAME: N passed, N failed (T s)"
suite() {
    s=$1 out=$(mktemp) t0=$(date +%s) ended=yes
    # timeout signals the suite's whole process group, then kills it 10 s later. A shell
    # suite is read with '.' and followed by an end line: one that stops part-way (a
    # syntax error, a failed '.' or an exit) does not print it, however its checks went.
    run="timeout -k 10 $limit"
    whole='. "$0"; echo "end of suite: $0"'
    case "$s" in
    packages:*) DEB_BUILD_OPTIONS=nocheck nice -n 19 $run scripts/test-packages.sh "${s#packages:}" >"$out" 2>&1 &
        await; s="Debian packages, ${s#packages:}" ;;
    *) pm=build/bin/provmark name=$s
        case "$s" in asan:*) pm=build/asan/bin/provmark name=${s#asan:} s="${s#asan:} (asan)" ;; esac
        PM=$pm $run sh -c "$whole" "$name" >"$out" 2>&1 &
        await
        grep -qx "end of suite: $name" "$out" || ended=no ;;
    esac
    p=$(grep -c '^ok ' "$out") f=$(grep -c '^FAIL ' "$out")
    grep '^FAIL ' "$out"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "FAIL $s: stopped after $limit s, not finished"
        f=$((f + 1))
    elif [ "$rc" -gt 128 ]; then # killed (a crash of the shell or a check it waited for)
        echo "FAIL $s: ended by signal $((rc - 128))"
        f=$((f + 1))
    elif [ "$ended" = no ]; then
        echo "FAIL $s: stopped before its end (status $rc): $(grep -v -e '^ok ' -e '^FAIL ' -e '^skip ' "$out" | tail -1)"
        f=$((f + 1))
    elif [ $((p + f)) -eq 0 ] && ! grep -q '^skip ' "$out"; then
        echo "FAIL $s: no result at all"
        f=1
    fi
    grep '^skip ' "$out"
    echo "$s: $p passed, $f failed ($(($(date +%s) - t0)) s)"
    rm -f "$out"
}
# next QUEUE LINE: print the queue's first (LINE 1) or last (LINE $) group and take it
# off, under a lock (the lanes read it; flock's lock goes with its holder, so a lane
# that dies cannot leave another waiting)
next() {
    flock "$1.lock" sh -c 'sed -n "$2p" "$1" && sed -i "$2d" "$1"' next "$1" "$2"
}
# (internal) run.sh lane QUEUE [STOP]: run groups, the longest first, until the queue is
# empty; with STOP, the shortest first until the file STOP exists (a lane at the lowest
# priority beside the hosts must not hold a long group after them)
if [ "${1:-}" = lane ]; then
    stoppable
    line=1
    [ -n "${3:-}" ] && line='$'
    while [ ! -e "${3:-/nonexistent}" ] && g=$(next "$2" "$line") && [ -n "$g" ]; do
        for s in $g; do
            case "$s" in
            unit:*) unit "${s#unit:}" ;;
            *) suite "$s" ;;
            esac
        done
    done
    exit 0
fi
# git keeps no mode but x: the test key comes out readable by others, which the tools
# warn about on every use; suites that count stderr lines need it private from the start.
chmod 600 tests/data/test.key
if [ "$packages" = yes ] && ! scripts/test-packages.sh check >"$log"; then
    # Left by an interrupted run, or installed on purpose: either way every suite below
    # would see the installed bundle and module too. Say so; never purge them here.
    tee -a "$all" <"$log"
    echo "Debian packages: 0 passed, 1 failed" >>"$all"
    packages=no
fi
# The package build needs a core for about a minute: it runs beside the
# real-time hosts, which use little of one but must get it when they ask (nice 19).
pkgpid=
if [ "$packages" = yes ]; then
    pkgbuild=$(mktemp)
    (stoppable && suite packages:build >"$pkgbuild") &
    pkgpid=$!
fi
queue=$(mktemp) out2=$(mktemp) out3=$(mktemp) hosts_done=$(mktemp -u)
echo "$groups" | while IFS= read -r g; do
    if [ "$g" = units ]; then
        for t in $units; do echo "unit:$t"; done
    else
        echo "$g"
    fi
done >"$queue"
# The second lane starts now, beside the hosts, at nice 19 (which its suites keep; with a
# core each after the hosts, that changes nothing); so does a third, which takes no group
# after the hosts end: they leave most of a core idle (real-time audio), and three
# lanes on two cores after them would only stretch every suite.
nice -n 19 sh tests/run.sh lane "$queue" >"$out2" &
lane2pid=$!
nice -n 19 sh tests/run.sh lane "$queue" "$hosts_done" >"$out3" &
lane3pid=$!
# Lane 1 runs in the background too, its lines shown through a fifo as they come: this
# shell then waits with 'wait', which a signal interrupts (a foreground pipeline would
# hold a TERM sent to this shell alone, as make passes on its own, until lane 1 ended).
# Stopped: the lanes (which ignore the terminal's INT, as background commands of a
# script do) and the package build are told to stop, then this shell.
status1=$(mktemp) fifo1=$(mktemp -u)
mkfifo "$fifo1"
(
    stoppable
    for s in $alone; do suite "$s"; done
    touch "$hosts_done"
    sh tests/run.sh lane "$queue" &
    await
    echo "$rc" >"$status1"
) >"$fifo1" &
lane1pid=$!
trap 'kill -TERM $lane1pid $lane2pid $lane3pid $pkgpid 2>/dev/null; rm -f "$fifo1"; exit 130' INT TERM
tee -a "$all" <"$fifo1" &
wait $!
wait "$lane1pid"
rm -f "$fifo1"
# collect N PID OUT: lane N's lines, and a failure if the lane itself did not end well
collect() {
    wait "$2"
    rc=$?
    tee -a "$all" <"$3"
    [ "$rc" -ne 0 ] && echo "FAIL lane $1 itself ended with status $rc; its suites after the last line above did not run" | tee -a "$all" &&
        echo "lane $1: 0 passed, 1 failed" >>"$all"
}
rc=$(cat "$status1")
[ "$rc" != 0 ] && echo "FAIL lane 1 itself ended with status ${rc:-unknown}; its suites after the last line above did not run" | tee -a "$all" &&
    echo "lane 1: 0 passed, 1 failed" >>"$all"
rm -f "$status1"
collect 2 "$lane2pid" "$out2"
collect 3 "$lane3pid" "$out3"
if [ -s "$queue" ]; then # every lane stopped early (flock missing, say): say what never ran
    echo "FAIL never run: $(tr '\n' ' ' <"$queue")" | tee -a "$all"
    echo "queue: 0 passed, 1 failed" >>"$all"
fi
rm -f "$out2" "$out3" "$queue" "$queue.lock" "$hosts_done"
if [ "$packages" = yes ]; then
    wait "$pkgpid"
    tee -a "$all" <"$pkgbuild"
    rm -f "$pkgbuild"
    suite packages:use | tee -a "$all"
fi
# The sum of the "N passed, N failed" lines above.
grep -v '^FAIL ' "$all" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed\( (.*)\)\{0,1\}$/\1 \2/p' |
    awk '{ p += $1; f += $2 } END { printf "%d passed, %d failed\n", p, f; exit f > 0 || p == 0 }'

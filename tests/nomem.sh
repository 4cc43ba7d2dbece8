#!/bin/sh
# Out of memory is an error, never "no mark": an interposed allocator makes the N-th
# and every later allocation of provmark's own code (the command and libprovmark, not
# the shared libraries) fail, for every N up to the number a run makes; then the N-th
# alone. detect and trace must then exit 2 with a message on stderr (--json: in the
# line's "error"), and never report a file unmarked.
. tests/lib.sh
w=build/test-nomem
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
FA=build/tests/libfailalloc.so
sox /usr/share/games/xmoto/Textures/Musics/speeditup.ogg -r 44100 "$w/in.wav" trim 5 12
$PM embed "$w/in.wav" "$w/m.wav" --model 3 --dataset 4 $K --no-verify 2>/dev/null
# Two shards of a training set (the input, and another stretch of the same track) for trace.
sox /usr/share/games/xmoto/Textures/Musics/speeditup.ogg -r 44100 "$w/in2.wav" trim 20 7
for s in 1 2; do
    $PM dataset init "$w/s$s.json" --name n --version 1 --license MIT 2>/dev/null
done
$PM dataset add "$w/s1.json" "$w/in.wav" 2>/dev/null
$PM dataset add "$w/s2.json" "$w/in2.wav" 2>/dev/null
$PM dataset fingerprint "$w/s1.json" 2>/dev/null
$PM dataset fingerprint "$w/s2.json" 2>/dev/null
# sweep NAME ARGS...: every N from 0 to the allocation count of a clean run. The message
# is on stderr, or (--json) in the line's "error" field.
sweep() {
    what=$1 only=$2; shift 2
    [ -n "$only" ] && what="$what (one allocation fails)"
    PM_ALLOC_REPORT="$w/count" LD_PRELOAD=$FA $PM "$@" >"$w/clean.out" 2>/dev/null
    clean=$?
    total=$(cat "$w/count")
    bad=0 n=0
    while [ "$n" -lt "$total" ]; do
        env ${only:+PM_FAIL_ONLY=1} PM_FAIL_AFTER=$n LD_PRELOAD=$FA $PM "$@" >"$w/out" 2>"$w/err"
        rc=$?
        if [ "$rc" != 2 ] || { [ ! -s "$w/err" ] && ! grep -q '"error":"' "$w/out"; } ||
            grep -q 'no mark' "$w/out" || grep -q '"found":false' "$w/out"; then
            echo "$what: failing after $n of $total allocations: exit $rc, stdout '$(head -c 200 "$w/out")', stderr '$(head -c 200 "$w/err")'" >&2
            bad=$((bad + 1))
        fi
        n=$((n + 1))
    done
    check "$what: the clean run finds the mark ($total allocations of its own)" \
        sh -c "[ $clean = 0 ] && [ $total -gt 10 ] && grep -q -e 'model 3,' -e '\"model_id\":3,' $w/clean.out"
    check "$what: each of the $total allocations failing gives exit 2 and a message, never 'no mark'" [ "$bad" = 0 ]
}
for only in "" 1; do
    sweep "detect" "$only" detect -j 1 $K "$w/m.wav"
    sweep "detect --json" "$only" detect --json -j 1 $K "$w/m.wav"
    sweep "trace" "$only" trace $K "$w/m.wav"
    sweep "trace --json" "$only" trace --json $K "$w/m.wav"
    sweep "trace, two shards" "$only" trace $K --dataset "$w/s1.json" --dataset "$w/s2.json" "$w/m.wav"
done

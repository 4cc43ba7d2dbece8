#!/bin/sh
# Inputs the fuzzers once crashed on (tests/fuzz-regressions), replayed through the
# commands on the sanitizer build: each must give a clean result or one clear error.
. tests/lib.sh
A=build/asan/bin/provmark
w=build/test-regress
rm -rf "$w"
mkdir -p "$w"
sox -n -r 8000 -c 1 "$w/item.wav" synth 2 sine 440
$A dataset init "$w/m.json" --name r --version 1 --license MIT 2>/dev/null
$A dataset add "$w/m.json" "$w/item.wav" 2>/dev/null
$A dataset fingerprint "$w/m.json" 2>/dev/null
for f in tests/fuzz-regressions/audio-*; do
    n=$(basename "$f")
    $A detect "$f" >/dev/null 2>"$w/$n.detect.err"
    rc=$?
    check "fuzz regression $n: detect exits 0-2 without a sanitizer report" \
        sh -c "[ $rc -le 2 ] && ! grep -q 'runtime error\|AddressSanitizer' $w/$n.detect.err"
    $A trace --no-detect --dataset "$w/m.json" "$f" >/dev/null 2>"$w/$n.trace.err"
    rc=$?
    check "fuzz regression $n: trace exits 0-2 without a sanitizer report" \
        sh -c "[ $rc -le 2 ] && ! grep -q 'runtime error\|AddressSanitizer' $w/$n.trace.err"
done

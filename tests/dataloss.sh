#!/bin/sh
# No data loss, bounded work: embed killed at random points (SIGKILL) leaves the input
# untouched and nothing at the destination; a full disk (a file-size limit makes every
# write past it fail, as a full disk does) and unwritable destinations give one clear
# error and leave nothing behind, an existing output intact; --max-seconds bounds a
# batch scan's time per file.
. tests/lib.sh
w=build/test-dataloss
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
sox /usr/share/games/frozen-bubble/snd/frozen-mainzik-1p.ogg -r 44100 -b 16 "$w/in.wav" trim 0 180
before=$(sha256sum "$w/in.wav" | cut -d' ' -f1)

# SIGKILL at 8 points spread over the run (FLAC output: slowest, widest window).
killed=0 leftover=0 bad=0
for d in 0.05 0.15 0.3 0.5 0.7 0.9 1.2 1.6; do
    $PM embed "$w/in.wav" "$w/out.flac" --model 1 --dataset 2 $K --no-verify 2>/dev/null &
    pid=$!
    sleep "$d"
    if kill -9 "$pid" 2>/dev/null; then
        killed=$((killed + 1))
        wait "$pid" 2>/dev/null
        [ -e "$w/out.flac" ] && leftover=$((leftover + 1))
    else
        wait "$pid"
        detect_ids "$w/out.flac" 1 2 $K || bad=$((bad + 1)) # finished first: must be whole
    fi
    rm -f "$w/out.flac"
done
echo "killed $killed of 8 runs" >&2
check "SIGKILL during embed ($killed kills): no file at the destination, none partial" \
    sh -c "[ $killed -ge 4 ] && [ $leftover = 0 ] && [ $bad = 0 ]"
check "SIGKILL during embed: no temporary file left in the folder" \
    sh -c "[ \$(ls -A $w | grep -v '^in.wav$' | wc -l) = 0 ]"
check "SIGKILL during embed: the input is untouched" \
    sh -c "[ \"\$(sha256sum $w/in.wav | cut -d' ' -f1)\" = $before ]"

# Full disk: every write past 4 MB fails (RLIMIT_FSIZE, SIGXFSZ ignored -> EFBIG).
sh -c "trap '' XFSZ; ulimit -f 8192; exec $PM embed $w/in.wav $w/full.wav --model 1 --dataset 2 $K" \
    >/dev/null 2>"$w/full.err"
rc=$?
check "full disk: exit 2 with one clear line" \
    sh -c "[ $rc = 2 ] && [ \$(grep -v warning $w/full.err | wc -l) = 1 ] && grep -q 'write' $w/full.err"
check "full disk: nothing left behind" sh -c "[ ! -e $w/full.wav ] && ! ls $w | grep -q pmtmp"
$PM embed "$w/in.wav" "$w/good.wav" --model 3 --dataset 4 $K --no-verify 2>/dev/null
cp "$w/good.wav" "$w/good.copy"
sh -c "trap '' XFSZ; ulimit -f 8192; exec $PM embed $w/in.wav $w/good.wav --model 5 --dataset 6 $K" \
    >/dev/null 2>&1
check "full disk: an existing output stays as it was" cmp "$w/good.wav" "$w/good.copy"

# Destinations that cannot be written.
check_exit "read-only file system (/proc) refused" 2 $PM embed "$w/in.wav" /proc/provmark-test.wav --model 1 --dataset 2 $K
check_exit "a folder as the output refused" 2 $PM embed "$w/in.wav" "$w" --model 1 --dataset 2 $K
check "input still untouched" sh -c "[ \"\$(sha256sum $w/in.wav | cut -d' ' -f1)\" = $before ]"

# --max-seconds: a per-file time guard for batch scans.
$PM detect --json --max-seconds 0.001 $K "$w/good.wav" "$w/in.wav" >"$w/guard.jsonl" 2>/dev/null
rc=$?
check "--max-seconds: files over the limit are errors (exit 2), the scan goes on" \
    sh -c "[ $rc = 2 ] && [ \$(jq -s '[.[] | select(.error | test(\"max-seconds\"))] | length' $w/guard.jsonl) = 2 ]"
check "--max-seconds: a generous limit changes nothing" detect_ids "$w/good.wav" 3 4 --max-seconds 60 $K
check_exit "--max-seconds: a bad value is refused" 2 $PM detect --max-seconds 0 $K "$w/good.wav"

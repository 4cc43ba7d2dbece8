#!/bin/sh
# Format versions (docs/FORMAT.md): `embed --mark-version` writes version 1 or 2, and
# `detect` reads both with no option, also in one file and after a codec. Real music:
# 60 s of Extreme Tux Racer's credits theme; key tests/data/test.key.
. tests/lib.sh
w=build/test-versions
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/etr/music/credits1-cp.ogg -ac 2 -c:a pcm_s16le "$w/in.wav"
for v in 1 2; do
    $PM embed "$w/in.wav" "$w/v$v.wav" --model 7 --dataset 42 $K --mark-version $v --no-verify 2>/dev/null
    $PM embed "$w/in.wav" "$w/v$v.43.wav" --model 7 --dataset 43 $K --mark-version $v --no-verify 2>/dev/null
    check "versions: a version-$v file is found as 7/42" detect_ids "$w/v$v.wav" 7 42 $K
    check "versions: a version-$v file's mark says it was read in version $v (formats, also top level)" sh -c \
        "$PM detect --json $K $w/v$v.wav 2>/dev/null | jq -e '.formats == [$v] and [.marks[].formats] == [[$v]]'"
    bench/attack.sh mp3_128k "$w/v$v.wav" "$w/v$v.mp3.wav"
    check "versions: a version-$v file after MP3 128k is found as 7/42" detect_ids "$w/v$v.mp3.wav" 7 42 $K
done
check "versions: the two versions' outputs differ (two geometries)" sh -c "! cmp -s '$w/v1.wav' '$w/v2.wav'"
check "versions: a version-2 file holds no mark under another key" detect_none "$w/v2.wav" --key tests/data/second.key
check "versions: unmarked music holds no mark" detect_none "$w/in.wav" $K

# marks FILE: "model/dataset start end formats" per mark
marks() { $PM detect --json $K "$1" 2>/dev/null | jq -r '.marks[] | "\(.model_id)/\(.dataset_id) \(.segments[0].start) \(.segments[-1].end) \(.formats | join(","))"'; }
# The first 30 s of version 1 and the rest of version 2, joined where they were cut.
sox "$w/v1.wav" "$w/a.wav" trim 0 30
sox "$w/v2.43.wav" "$w/b.wav" trim 30
sox "$w/a.wav" "$w/b.wav" "$w/mixed.wav"
marks "$w/mixed.wav" >"$w/mixed.txt"
check "versions: version 1 (7/42) then version 2 (7/43) in one file are two marks" \
    test "$(cut -d' ' -f1 "$w/mixed.txt" | sort | tr '\n' ' ')" = "7/42 7/43 "
check "versions: ... each read in its own version (7/42 in 1, 7/43 in 2)" awk '
    $1 == "7/42" { ok += $4 == "1" } $1 == "7/43" { ok += $4 == "2" } END { exit ok != 2 }' "$w/mixed.txt"
check "versions: each mark of the two-version file ends within 3 s of the join at 30 s" awk '
    $1 == "7/42" { ok += ($3 > 27 && $3 < 33) } $1 == "7/43" { ok += ($2 > 27 && $2 < 33) } END { exit ok != 2 }' "$w/mixed.txt"
# The same IDs in both versions: one mark over the whole file.
sox "$w/v2.wav" "$w/c.wav" trim 30
sox "$w/a.wav" "$w/c.wav" "$w/same.wav"
marks "$w/same.wav" >"$w/same.txt"
check "versions: the same IDs in both versions are one mark over the whole file, read in both" awk '
    { n++; ok = $1 == "7/42" && $2 < 3 && $3 > 57 && $4 == "1,2" } END { exit !(n == 1 && ok) }' "$w/same.txt"

for bad in 0 3 1.5 x ""; do
    out=$($PM embed "$w/in.wav" "$w/bad.wav" --model 7 --dataset 42 $K --mark-version "$bad" 2>&1)
    rc=$?
    check "versions: --mark-version '$bad' is refused in one line, nothing written" \
        test "$rc" -eq 2 -a "$(printf '%s\n' "$out" | wc -l)" -eq 1 -a ! -e "$w/bad.wav"
done

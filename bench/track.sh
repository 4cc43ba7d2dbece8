#!/bin/sh
# One track of the benchmark: embed (at $BENCH_STRENGTH, default 1), measure quality (PEAQ ODG
# when a PEAQ tool is installed: bench/odg.sh), speed (unless BENCH_SPEED=0), run every attack, detect.
# usage: bench/track.sh CORPUS_WAV INDEX OUTDIR   -> OUTDIR/NAME.tsv, OUTDIR/NAME.quality
set -eu
src=$1 i=$2 out=$3
name=$(basename "$src" .wav)
PM=build/bin/provmark
K="--key tests/data/test.key"
m=$((100 + i)) d=$((5000 + i))
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
$PM embed "$src" "$w/m.wav" --model $m --dataset $d $K --strength "${BENCH_STRENGTH:-1}" --no-verify 2>/dev/null
q=$(build/bin/pmstat compare "$src" "$w/m.wav")
odg=$(bench/odg.sh "$src" "$w/m.wav" || true)
sp="embed_x - detect_x -"
[ "${BENCH_SPEED:-1}" = 0 ] || sp=$(build/bin/pmspeed "$w/m.wav" 3)
echo "$name $q odg ${odg:--} $sp" >"$out/$name.quality"
: >"$out/$name.tsv"
for a in $BENCH_ATTACKS; do
    if ! bench/attack.sh "$a" "$w/m.wav" "$w/x.wav" 2>/dev/null; then
        echo "$name $a error - -" >>"$out/$name.tsv"
        continue
    fi
    r=$($PM detect --json $K "$w/x.wav" 2>/dev/null || true)
    echo "$r" | jq -r --arg n "$name" --arg a "$a" --argjson m $m --argjson d $d \
        '[$n, $a, (if .found then (if .model_id == $m and .dataset_id == $d then "exact" else "wrong" end) else "miss" end), .sync_z] | @tsv' \
        >>"$out/$name.tsv"
done
r=$($PM detect --json $K "$src" 2>/dev/null || true)
echo "$r" | jq -r --arg n "$name" '[$n, "unmarked", (if .found then "false_positive" else "clean" end), .sync_z] | @tsv' >>"$out/$name.tsv"

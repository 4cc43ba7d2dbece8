#!/bin/sh
# Scan throughput (docs/BENCHMARKS.md): 120 files of 60 s (2 hours) in WAV, FLAC,
# MP3 and Ogg Vorbis, half marked, scanned with -j 1 and -j 2, with 1 and 4 keys.
# usage: bench/scan.sh CORPUS_DIR OUT_DIR   -> prints markdown table rows
# The catalogue is made once (build/bench-catalogue) and reused by later runs.
set -eu
corpus=$1 out=$2
PM=build/bin/provmark
K="--key tests/data/test.key"
cat=build/bench-catalogue
mkdir -p "$cat" "$out"
for k in 1 2 3; do [ -f "$out/k$k" ] || $PM keygen "$out/k$k" 2>/dev/null; done
i=0
[ -f "$cat/.complete" ] || for f in "$corpus"/*.wav; do
    i=$((i + 1))
    n=$(basename "$f" .wav)
    $PM embed "$f" "$cat/$n.m.wav" --model $i --dataset $i $K --no-verify 2>/dev/null
    for v in 1 2 3; do   # three variants of each, so every file differs
        for src in "$f" "$cat/$n.m.wav"; do
            tag=$( [ "$src" = "$f" ] && echo u || echo m )
            g=$(echo "$v" | awk '{print 1 - 0.1 * $1}')
            ffmpeg -nostdin -v error -y -i "$src" -af "volume=$g" -c:a flac "$cat/$n.$tag$v.flac"
            ffmpeg -nostdin -v error -y -i "$src" -af "volume=$g" -c:a libmp3lame -b:a 192k "$cat/$n.$tag$v.mp3"
        done
    done
    cp "$f" "$cat/$n.u0.wav"
    ffmpeg -nostdin -v error -y -i "$cat/$n.m.wav" -c:a libvorbis -q:a 5 "$cat/$n.m0.ogg"
    ffmpeg -nostdin -v error -y -i "$f" -c:a libvorbis -q:a 5 "$cat/$n.u0.ogg"
done
touch "$cat/.complete"
nfiles=$(ls "$cat" | wc -l)
hours=$(for f in "$cat"/*; do soxi -D "$f" 2>/dev/null; done | awk '{ s += $1 } END { printf "%.2f", s / 3600 }')
run() { # label jobs keys...
    label=$1 jobs=$2; shift 2
    t0=$(date +%s.%N)
    rss=$(build/bin/pmspeed rss -o "$out/scan_${jobs}_$#.jsonl" $PM detect -r --json -j "$jobs" "$@" "$cat")
    t1=$(date +%s.%N)
    found=$(jq -s '[.[] | select(.found)] | length' "$out/scan_${jobs}_$#.jsonl")
    echo "$t0 $t1 $hours $rss $found $nfiles" | awk -v l="$label" -v j="$jobs" '{
        min = ($2 - $1) / 60; printf "| %s | %d | %.2f h in %.2f min | %.1f h/min | %.0fx | %.1f MB | %d/%d |\n",
        l, j, $3, min, $3 / min, $3 * 60 / min / j, $4, $5, $6 }'
}
echo "| run | -j | audio / wall time | hours of audio per minute | x real time per core | peak RSS (process) | files with a mark |"
echo "|---|---|---|---|---|---|---|"
run "1 key" 1 $K
run "1 key" 2 $K
run "4 keys" 2 $K --key "$out/k1" --key "$out/k2" --key "$out/k3"

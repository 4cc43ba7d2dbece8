#!/bin/sh
# Speed, tempo and pitch from 0.80 to 1.25 (issue 19): the corpus marked at each
# strength of $SCALE_STRENGTHS (default "1 2"), put through the scale attacks, detected
# with the benchmark key; exact / wrong IDs per attack and strength, false positives
# on the unmarked originals. Marked and attacked files are cached in OUTDIR/files
# (delete it after changing the embedder or bench/attack.sh).
# usage: bench/scale.sh CORPUS OUTDIR   -> OUTDIR/scale.tsv, a markdown table on stdout
set -eu
corpus=$1 out=$2
PM=${PM:-build/bin/provmark}
K="--key tests/data/test.key"
ATTACKS=${SCALE_ATTACKS:-"speed_0.80 speed_0.85 speed_0.90 speed_0.95 speed_1.05 speed_1.10 speed_1.25
tempo_0.85 tempo_0.90 tempo_1.10 tempo_1.20 pitch_-200 pitch_-100 pitch_100 pitch_200 sped_up slowed_reverb
tempo_1.05_mp3_128k"}
mkdir -p "$out/files"
: >"$out/scale.tsv"
i=0
for src in "$corpus"/*.wav; do
    i=$((i + 1))
    name=$(basename "$src" .wav)
    m=$((100 + i)) d=$((5000 + i))
    for s in ${SCALE_STRENGTHS:-1 2}; do
        mk="$out/files/$name.s$s.flac"
        [ -s "$mk" ] || $PM embed "$src" "$mk" --model $m --dataset $d $K --strength "$s" --no-verify 2>/dev/null
        for a in $ATTACKS; do
            x="$out/files/$name.s$s.$a.flac"
            if [ ! -s "$x" ]; then
                bench/attack.sh "$a" "$mk" "$out/x.$$.wav" 2>/dev/null &&
                    sox -D "$out/x.$$.wav" "$x" && rm -f "$out/x.$$.wav"
            fi
            echo "$x $s $a $m $d"
        done
    done
    echo "$src 0 unmarked 0 0"
done | while read -r x s a m d; do
    r=$($PM detect --json $K "$x" 2>/dev/null || true)
    echo "$r" | jq -r --arg s "$s" --arg a "$a" --argjson m "$m" --argjson d "$d" \
        '[$s, $a, (if .found then (if .model_id == $m and .dataset_id == $d then "exact" else "wrong" end) else "miss" end), .sync_z, .speed, .tempo] | @tsv' >>"$out/scale.tsv"
done
echo "| attack | exact (strength 1) | wrong | exact (strength 2) | wrong |"
echo "|---|---|---|---|---|"
awk -F'\t' '$1 > 0 { seen[$2] = 1; if (!($2 in ord)) ord[$2] = n++; c[$2, $1, $3]++ }
    $1 == 0 { fp += $3 != "miss"; un++ }
    END { for (a in ord) o[ord[a]] = a
        for (i = 0; i < n; i++) { a = o[i]; printf "| %s | %d/10 | %d | %d/10 | %d |\n", a, c[a, 1, "exact"], c[a, 1, "wrong"], c[a, 2, "exact"], c[a, 2, "wrong"] }
        printf "\nunmarked originals: %d false positives of %d\n", fp, un }' "$out/scale.tsv"

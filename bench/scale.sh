#!/bin/sh
# Speed, tempo and pitch from 0.80 to 1.25 (issue 19): the corpus marked at each
# strength of $SCALE_STRENGTHS (default "1 2"), put through the attacks of $SCALE_ATTACKS
# (default: the scale attacks), detected with the benchmark key: exact / wrong IDs per
# attack and strength; false reports on the unmarked originals, and on every marked
# and attacked file with another key (the demo key). Marked and attacked files are
# cached in OUTDIR/files (delete it after changing the embedder or bench/attack.sh).
# usage: bench/scale.sh CORPUS OUTDIR   -> OUTDIR/scale.tsv, a markdown table on stdout
set -eu
corpus=$1 out=$2
PM=${PM:-build/bin/provmark}
K="--key tests/data/test.key"
ATTACKS=${SCALE_ATTACKS:-"speed_0.80 speed_0.85 speed_0.90 speed_0.95 speed_1.05 speed_1.10 speed_1.25
tempo_0.85 tempo_0.90 tempo_1.10 tempo_1.20 pitch_-200 pitch_-100 pitch_100 pitch_200 sped_up slowed_reverb
tempo_1.05_mp3_128k"}
STRENGTHS=${SCALE_STRENGTHS:-1 2}
mkdir -p "$out/files"
: >"$out/scale.tsv"
i=0
for src in "$corpus"/*.wav; do
    i=$((i + 1))
    name=$(basename "$src" .wav)
    m=$((100 + i)) d=$((5000 + i))
    for s in $STRENGTHS; do
        mk="$out/files/$name.s$s.flac"
        [ -s "$mk" ] || $PM embed "$src" "$mk" --model $m --dataset $d $K --strength "$s" --no-verify 2>/dev/null
        for a in $ATTACKS; do
            x="$out/files/$name.s$s.$a.flac"
            if [ ! -s "$x" ]; then
                bench/attack.sh "$a" "$mk" "$out/x.$$.wav" 2>/dev/null &&
                    sox -D "$out/x.$$.wav" "$out/x.$$.flac" && mv "$out/x.$$.flac" "$x"
                rm -f "$out/x.$$.wav"
            fi
            echo "$x $s $a $m $d"
        done
    done
    echo "$src 0 unmarked 0 0"
done | while read -r x s a m d; do
    r=$($PM detect --json $K "$x" 2>/dev/null || true)
    o=$($PM detect --json "$x" 2>/dev/null | jq -r 'if .found then "other_key_report" else "clean" end' || true)
    echo "$r" | jq -r --arg s "$s" --arg a "$a" --argjson m "$m" --argjson d "$d" --arg o "$o" \
        '[$s, $a, (if .found then (if .model_id == $m and .dataset_id == $d then "exact" else "wrong" end) else "miss" end), .sync_z, .speed, .tempo, $o] | @tsv' >>"$out/scale.tsv"
done
awk -F'\t' -v strengths="$STRENGTHS" 'BEGIN { ns = split(strengths, S, " ")
        printf "| attack |"; for (j = 1; j <= ns; j++) printf " exact / wrong (strength %s) |", S[j]; print ""
        printf "|---|"; for (j = 1; j <= ns; j++) printf "---|"; print "" }
    $1 > 0 { if (!($2 in ord)) ord[$2] = n++; c[$2, $1, $3]++; files++ }
    $1 == 0 { fp += $3 != "miss"; un++ }
    { other += $7 != "clean"; all++ }
    END { for (a in ord) o[ord[a]] = a
        for (i = 0; i < n; i++) { a = o[i]; printf "| %s |", a
            for (j = 1; j <= ns; j++) printf " %d/10 / %d |", c[a, S[j], "exact"], c[a, S[j], "wrong"]; print "" }
        printf "\nUnmarked originals: %d reports in %d files. With another key (the demo key), every marked, attacked and unmarked file: %d reports in %d files.\n", fp, un, other, all }' "$out/scale.tsv"

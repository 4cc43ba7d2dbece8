#!/bin/sh
# The strength scale: for each strength, embed the corpus, grade it with PEAQ (when a PEAQ tool
# is installed) and run the attacks that separate the strengths. Prints a markdown table.
# usage: bench/strength.sh CORPUS_DIR OUTDIR DEFAULT_RESULTS   (DEFAULT_RESULTS: the main run's
# folder of NAME.tsv / NAME.quality at strength 1, reused for that row)
set -eu
corpus=$1 out=$2 main=$3
BENCH_ATTACKS="mp3_128k speed_1.02 tempo_1.02 noise_20db noise_10db mp3_32k crop5s_mp3_128k reverb clip_3 clip_5 clip_10"
export BENCH_ATTACKS
row() { # STRENGTH DIR
    for f in "$2"/*.tsv; do [ "${f##*/}" = all.tsv ] || cat "$f"; done >"$2/all.tsv.new"
    mv "$2/all.tsv.new" "$2/all.tsv"
    cat "$2"/*.quality >"$2/quality.txt"
    odg=$(awk '$11 != "-" { print $11 }' "$2/quality.txt" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- | -"; exit }
        printf "%.3f | %.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1] }')
    snr=$(awk '{ print $3 }' "$2/quality.txt" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    cells=$(for a in $BENCH_ATTACKS; do
        awk -v a="$a" -F'\t' '$2 == a { t++; if ($3 == "exact") e++ } END { printf "%d/%d ", e, t }' "$2/all.tsv"
    done)
    wrong=$(awk -F'\t' '$3 == "wrong" || $3 == "false_positive"' "$2/all.tsv" | wc -l)
    echo "| $1 | $odg | $snr | $(echo $cells | sed 's/ / | /g') | $wrong |"
}
echo "| strength | ODG median | ODG worst | SNR dB median | $(echo $BENCH_ATTACKS | sed 's/ / | /g') | wrong or false |"
echo "|$(for c in 1 2 3 4 $BENCH_ATTACKS 5; do printf -- '---|'; done)"
for s in 0.25 0.5 1 1.5 2; do
    if [ "$s" = 1 ]; then
        row "**1 (default)**" "$main"
        continue
    fi
    mkdir -p "$out/$s"
    i=0
    for f in "$corpus"/*.wav; do
        i=$((i + 1))
        echo "$f $i"
    done | BENCH_STRENGTH=$s BENCH_SPEED=0 xargs -P "$(nproc)" -n 2 sh -c 'bench/track.sh "$0" "$1" '"$out/$s"
    row "$s" "$out/$s"
done

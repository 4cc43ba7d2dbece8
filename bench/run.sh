#!/bin/sh
# make bench: the suite of docs/BENCHMARKS.md on the corpus of scripts/corpus.sh.
# Prints the tables and rewrites docs/BENCHMARKS.md with them.
set -eu
cd "$(dirname "$0")/.."
out=build/bench
corpus=build/corpus
rm -rf "$out"
mkdir -p "$out"
scripts/corpus.sh "$corpus"
BENCH_ATTACKS="none mp3_128k mp3_64k vorbis_q2 opus_64k aac_128k resample_cross resample_22k gain_m10db
noise_30db noise_20db lowpass_4k highpass_300 crop_20s crop_10s mono speed_1.02 tempo_1.02
noise_10db mp3_32k opus_24k crop5s_mp3_128k reverb clip_2 clip_3 clip_4 clip_5 clip_8 clip_10"
export BENCH_ATTACKS
start=$(date +%s)
i=0
for f in "$corpus"/*.wav; do
    i=$((i + 1))
    echo "$f $i"
done | xargs -P "$(nproc)" -n 2 sh -c 'bench/track.sh "$0" "$1" '"$out"
elapsed=$(($(date +%s) - start))

# Long file: memory must not grow with length (10 x the corpus, about 10 minutes).
for f in "$corpus"/*.wav; do echo "file '$PWD/$f'"; done >"$out/list.txt"
ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$out/list.txt" -ar 44100 -c:a pcm_s16le "$out/long.wav"
rss_short=$(build/bin/pmspeed rss build/bin/provmark detect --key tests/data/test.key "$corpus/etr_credits.wav")
rss_long=$(build/bin/pmspeed rss build/bin/provmark detect --key tests/data/test.key "$out/long.wav")
long_min=$(soxi -D "$out/long.wav" | awk '{printf "%.1f", $1 / 60}')
rm -f "$out/long.wav"

# The LV2 plugin through lilv on real music at 48 kHz, at three block sizes.
make -s build/tests/lv2host
ffmpeg -nostdin -v error -y -i "$corpus/etr_credits.wav" -ar 48000 "$out/p48.wav"
# Three invocations (this machine's speed drifts between runs); the median of each row.
for i in 1 2 3; do
    LV2_PATH="$PWD/build/lv2:/usr/lib/lv2" build/tests/lv2host --bench "$out/p48.wav" 2>/dev/null | grep '^| [0-9]'
done | sort -t'|' -k2,2n -k3,3n | awk -F'|' '{ n[$2]++; v[$2, n[$2]] = $3 } END {
    print "| block | x real time | % of one core |"; print "|---|---|---|"
    split("32 256 4096", bs, " ")
    for (i = 1; i <= 3; i++) { b = " " bs[i] " "; x = v[b, 2] + 0; printf "| %s | %d | %.3f |\n", bs[i], x, 100 / x } }' >"$out/plugin.md"
latency48=$(awk 'BEGIN { h = int(48000 * 1024 / 44100 + 0.5); print 2 * h }')

# Catalogue scan: 2.6 hours in 160 files of four formats, threads and keys.
bench/scan.sh "$corpus" "$out/scan" >"$out/scan.md"

cat "$out"/*.tsv >"$out/all.tsv"
cat "$out"/*.quality >"$out/quality.txt"
ntracks=$(wc -l <"$out/quality.txt")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

{
echo "## Latest figures"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit$dirty"
echo "- machine: $(nproc) cores, $cpu; Debian $(cat /etc/debian_version)"
echo "- command: \`make bench\` (bench/run.sh; $ntracks tracks x 60 s, key tests/data/test.key, default strength; ${elapsed} s)"
echo
echo "### Robustness: exact-ID recoveries / tracks (wrong = a report with wrong IDs)"
echo
echo "| attack | exact | wrong | mean sync z |"
echo "|---|---|---|---|"
for a in $BENCH_ATTACKS unmarked; do
    awk -v a="$a" -v n="$ntracks" -F'\t' '$2 == a {
        t++; if ($3 == "exact") e++; if ($3 == "wrong" || $3 == "false_positive") w++; z += $4 }
        END { if (a == "unmarked") printf "| unmarked (false positives) | %d/%d clean | %d | %.2f |\n", t - w, t, w, z / t;
              else printf "| %s | %d/%d | %d | %.2f |\n", a, e, t, w, z / t }' "$out/all.tsv"
done
echo
echo "### Quality and speed per track (speed: seconds of audio per CPU second, median of 3)"
echo
echo "| track | SNR dB | segSNR dB | NMR dB | white noise at same SNR: NMR dB | new clipped samples | embed x RT | detect x RT |"
echo "|---|---|---|---|---|---|---|---|"
awk '{ printf "| %s | %.1f | %.1f | %.1f | %.1f | %d | %d | %d |\n", $1, $3, $5, $11, $13, $9, $15, $17 }' "$out/quality.txt"
awk '{ s[NR] = $3; e[NR] = $15; d[NR] = $17 } END {
    n = asort_s(s); asort_e(e); asort_d(d)
    printf "| **median** | %.1f | | | | | %d | %d |\n", med(s, NR), med(e, NR), med(d, NR)
    printf "| **min** | %.1f | | | | | %d | %d |\n", s[1], e[1], d[1] }
    function med(x, n) { return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
    function isort(x, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t } return n }
    function asort_s(x) { return isort(s, NR) } function asort_e(x) { return isort(e, NR) } function asort_d(x) { return isort(d, NR) }' "$out/quality.txt"
echo
echo "### LV2 plugin: CPU of run() through lilv, stereo 48 kHz real music (etr_credits); median of 5 passes, middle of 3 invocations"
echo
cat "$out/plugin.md"
echo
echo "Latency: $latency48 frames at 48 kHz (two analysis hops)."
echo
echo "### Catalogue scan (provmark detect -r --json; wall time of the whole scan, 2 cores)"
echo
cat "$out/scan.md"
echo
echo "### Memory"
echo
echo "| detect, peak RSS | MB |"
echo "|---|---|"
echo "| 60 s track | $rss_short |"
echo "| ${long_min} min file (all tracks joined) | $rss_long |"
} >"$out/report.md"

cat "$out/report.md"
{
sed '/^## Latest figures/,$d' docs/BENCHMARKS.md
cat "$out/report.md"
} >"$out/BENCHMARKS.md.new"
mv "$out/BENCHMARKS.md.new" docs/BENCHMARKS.md

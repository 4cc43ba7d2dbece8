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
# The registry of an organisation that marks the ten tracks with their own pairs (track i:
# model 100 + i, dataset 5000 + i): every model with every dataset, 100 pairs. Detected
# with it, weak marks of its pairs are recognised; each file carries one of the 100.
jq -n '{version: 1, models: ([range(101; 111)] | map({key: tostring, value: {name: ("model " + tostring)}}) | from_entries),
        datasets: ([range(5001; 5011)] | map({key: tostring, value: {name: ("dataset " + tostring)}}) | from_entries)}' \
    >"$out/registry.json"
start=$(date +%s)
i=0
for f in "$corpus"/*.wav; do
    i=$((i + 1))
    echo "$f $i"
done | BENCH_REGISTRY="$out/registry.json" xargs -P "$(nproc)" -n 2 sh -c 'bench/track.sh "$0" "$1" '"$out"
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
# The dearest single run() call: 32-frame blocks at 192 kHz (a whole STFT frame lands in one call).
echo >>"$out/plugin.md"
LV2_PATH="$PWD/build/lv2:/usr/lib/lv2" build/tests/lv2host --bench "$out/p48.wav" 2>/dev/null |
    sed -n '/^| 32 frames at 192 kHz/,$p' >>"$out/plugin.md"
# The back-end API: C and Python per 20 ms chunk, detector on a 10 s buffer. Three
# alternating invocations of each; every row keeps its middle value.
make -s build/bin/pmapi
for i in 1 2 3; do
    build/bin/pmapi "$out/p48.wav" | sed 's/^/c_/'
    /usr/bin/python3 bench/api.py "$out/p48.wav" | sed 's/^/py_/'
done >"$out/api.txt"
awk '{ n[$1]++; med[$1, n[$1]] = $2; line[$1, n[$1]] = $0 }
    END {
        for (k in n) { # middle of three by median
            for (i = 1; i <= 3; i++) { r = 0; for (j = 1; j <= 3; j++) if (med[k, j] < med[k, i] || (med[k, j] == med[k, i] && j < i)) r++; if (r == 1) mid[k] = line[k, i] }
        }
        split(mid["c_embed"], ce, " "); split(mid["py_embed"], pe, " "); split(mid["py_embed_inplace"], pi, " ")
        split(mid["c_detect"], cd, " "); split(mid["py_detect"], pd, " ")
        print "| call | median | 99th percentile | calls | added by the binding |"
        print "|---|---|---|---|---|"
        printf "| C: `pm_embedder_process_interleaved`, 20 ms chunk | %.1f us | %.1f us | %d | |\n", ce[2], ce[3], ce[4]
        printf "| Python: `Embedder.process(chunk)` (new output array) | %.1f us | %.1f us | %d | %.1f us = %.0f %% |\n", pe[2], pe[3], pe[4], pe[5], pe[6]
        printf "| Python: `Embedder.process(chunk, out=chunk)` (in place) | %.1f us | %.1f us | %d | %.1f us = %.0f %% |\n", pi[2], pi[3], pi[4], pi[5], pi[6]
        printf "| C: detector new + push + finish, 10 s buffer | %.1f ms | %.1f ms | %d | |\n", cd[2], cd[3], cd[4]
        printf "| Python: `Detector(...).detect`, 10 s buffer | %.1f ms | %.1f ms | %d | |\n", pd[2], pd[3], pd[4]
    }' "$out/api.txt" >"$out/api.md"
latency48=$(awk 'BEGIN { h = int(48000 * 1024 / 44100 + 0.5); print 2 * h }')

# Several marks per file: pieces of differently marked copies spliced together.
/usr/bin/python3 bench/splice.py "$corpus" "$out/splice" >"$out/splice.md"
rm -rf "$out/splice"

# Catalogue scan: 2.6 hours in 160 files of four formats, threads and keys.
bench/scan.sh "$corpus" "$out/scan" >"$out/scan.md"

# Training-data fingerprints: an index of more than 10 hours (filler cached in build/).
bench/dataset.sh build/bench-dataset 2>/dev/null >"$out/dataset.md"

cat "$out"/*.tsv >"$out/all.tsv"
cat "$out"/*.quality >"$out/quality.txt"
# The strength scale (reuses the strength-1 results above).
bench/strength.sh "$corpus" "$out/strength" "$out" >"$out/strength.md"
if grep -q ' odg - ' "$out/quality.txt"; then
    odg_tool="not measured: no PEAQ tool installed (install GstPEAQ's \`peaq\` or set PEAQ_ODG)"
else
    odg_tool="measured with ${PEAQ_ODG:-GstPEAQ \`peaq\`}, basic model"
fi
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
echo "Blind: \`detect --key\`. With the registry: \`detect --key --registry\` with a registry of"
echo "100 model and dataset pairs (models 101-110 x datasets 5001-5010; track i is marked"
echo "100 + i / 5000 + i), whose weak marks are recognised (docs/FORMAT.md section 9); found ="
echo "decoded + recognised, wrong = any mark with other IDs."
echo
echo "| attack | exact (blind) | wrong | mean sync z | found with the registry (of them recognised) | wrong |"
echo "|---|---|---|---|---|---|"
for a in $BENCH_ATTACKS unmarked; do
    awk -v a="$a" -v n="$ntracks" -F'\t' '$2 == a {
        t++; if ($3 == "exact") e++; if ($3 == "wrong" || $3 == "false_positive") w++; z += $4
        if ($5 == "exact" || $5 == "recognised") g++; if ($5 == "recognised") rec++; if ($5 == "wrong" || $5 == "false_positive") gw++ }
        END { if (a == "unmarked") printf "| unmarked (false positives) | %d/%d clean | %d | %.2f | %d/%d clean | %d |\n", t - w, t, w, z / t, t - gw, t, gw;
              else printf "| %s | %d/%d | %d | %.2f | %d/%d (%d) | %d |\n", a, e, t, w, z / t, g, t, rec, gw }' "$out/all.tsv"
done
echo
echo "### Quality and speed per track (speed: seconds of audio per CPU second, median of 3)"
echo
echo "| track | SNR dB | segSNR dB | PEAQ ODG | new clipped samples | embed x RT | detect x RT |"
echo "|---|---|---|---|---|---|---|"
awk '{ printf "| %s | %.1f | %.1f | %s | %d | %d | %d |\n", $1, $3, $5, $11, $9, $13, $15 }' "$out/quality.txt"
awk '{ s[NR] = $3; o[NR] = $11; e[NR] = $13; d[NR] = $15 } END {
    isort(s, NR); isort(o, NR); isort(e, NR); isort(d, NR)
    printf "| **median** | %.1f | | %s | | %d | %d |\n", med(s, NR), o[1] == "-" ? "-" : sprintf("%.3f", med(o, NR)), med(e, NR), med(d, NR)
    printf "| **min** | %.1f | | %s | | %d | %d |\n", s[1], o[1], e[1], d[1] }
    function med(x, n) { return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
    function isort(x, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j - 1] + 0 > x[j] + 0; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t } }' "$out/quality.txt"
echo
echo "PEAQ ODG: $odg_tool. 0 is imperceptible, -1 perceptible but not annoying; GstPEAQ gives"
echo "about +0.2 for two identical files, so compare figures side by side."
echo
echo "### Strength scale: audibility and robustness per \`--strength\` (bench/strength.sh)"
echo
echo "Exact-ID recoveries / tracks for the attacks that separate the strengths (same corpus,"
echo "key and attacks as above; the strength-1 row is the run above)."
echo
cat "$out/strength.md"
echo
echo "### LV2 plugin: CPU of run() through lilv, stereo 48 kHz real music (etr_credits); median of 5 passes, middle of 3 invocations"
echo
cat "$out/plugin.md"
echo
echo "Latency: $latency48 frames at 48 kHz (two analysis hops)."
echo
echo "### Back-end API: 48 kHz stereo real music (etr_credits), 20 ms chunks, wall time per call"
echo
echo "The binding's cost is measured in one process, against the bare C call on a twin"
echo "embedder, in rotated order (this machine's speed drifts by 2x from minute to minute);"
echo "the C rows come from a separate C program (bench/api.c). Middle of 3 invocations."
echo
cat "$out/api.md"
echo
echo "### Splice suite: several marks per file (bench/splice.py)"
echo
echo "Each track cut into 2-4 pieces of 10-30 s taken from differently marked copies (model/dataset"
echo "7/42, 7/43 (one bit apart), 12345678/9876543, 7/42 with a second key, or unmarked), joined"
echo "with crossfades centred on the joins; detected with both keys. Found: a mark with the"
echo "piece's key and IDs covers at least half of it. Boundary error: the found mark's segment"
echo "edge against the join. Wrong-mark seconds: parts of a segment over another piece, beyond"
echo "1.5 s (plus half the crossfade) from a join."
echo
cat "$out/splice.md"
echo
echo "### Catalogue scan (provmark detect -r --json; wall time of the whole scan, 2 cores)"
echo
cat "$out/scan.md"
echo
echo "### Training-data fingerprints (bench/dataset.sh)"
echo
echo "14 training tracks plus each of them at 30 playback speeds (0.60-1.50, 8 kHz mono) as"
echo "filler items to pass 10 hours; 20 pieces of 30 s, each a bed from 6 tracks never"
echo "indexed with a 10 s excerpt of a training track at 8 s and a 5 s excerpt at 22 s"
echo "(random tracks and offsets, 0.3 s crossfades, -3 / +2 dB), MP3 128k; traced with"
echo "\`provmark trace --no-detect --dataset\`."
echo
cat "$out/dataset.md"
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

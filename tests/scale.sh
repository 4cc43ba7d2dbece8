#!/bin/sh
# Memory barely grows with the length of a file: the detector keeps ~1.2 KB per 6 s
# window (two 8-bit candidates, the best by quarters in 4 bits) and builds its alignment lines and
# window-by-window words from them at the end,
# so a 3-hour RF64 file is scanned within 3 MB of the peak RSS of a 3-minute one, and
# unmarked (two pipelines, two records per window) within 7 MB (build/bin/pmspeed rss
# reports the child's peak).
. tests/lib.sh
w=build/test-scale
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/xmoto/Textures/Musics/batcave.ogg \
    -ac 1 -ar 22050 -c:a pcm_s16le "$w/one.wav"
sox "$w/one.wav" "$w/short.u.wav" repeat 2   # 3 minutes
sox "$w/one.wav" "$w/long.u.wav" repeat 179  # 3 hours
$PM embed "$w/short.u.wav" "$w/short.wav" --model 600 --dataset 601 $K --no-verify 2>/dev/null
$PM embed "$w/long.u.wav" "$w/long.m.wav" --model 600 --dataset 601 $K --no-verify 2>/dev/null
ffmpeg -nostdin -v error -y -i "$w/long.m.wav" -c:a pcm_s16le -rf64 always "$w/long.wav"
# Unmarked, the scale estimate is noise and a second pipeline runs beside the first
# (docs/FORMAT.md section 9): two records per window, ~1.4 MB per hour.
unmarked=$(build/bin/pmspeed rss $PM detect $K "$w/long.u.wav")
short_unmarked=$(build/bin/pmspeed rss $PM detect $K "$w/short.u.wav")
rm -f "$w/long.u.wav" "$w/long.m.wav"
short=$(build/bin/pmspeed rss $PM detect $K "$w/short.wav")
long=$(build/bin/pmspeed rss -o "$w/long.json" $PM detect --json $K "$w/long.wav")
echo "peak RSS: 3 min $short MB, 3 h $long MB; unmarked: 3 min $short_unmarked MB, 3 h $unmarked MB" >&2
check "3-hour RF64 file: really RF64" sh -c "head -c 4 $w/long.wav | grep -q RF64"
check "3-hour RF64 file: peak RSS within 3 MB of a 3-minute file's, under 32 MB ($short -> $long MB)" \
    awk -v s="$short" -v l="$long" 'BEGIN { exit !(l <= s + 3 && l <= 32) }'
check "3-hour unmarked file (two pipelines): peak RSS within 7 MB of a 3-minute one's, under 32 MB ($short_unmarked -> $unmarked MB)" \
    awk -v s="$short_unmarked" -v l="$unmarked" 'BEGIN { exit !(l <= s + 7 && l <= 32) }'
check "3-hour RF64 file: right IDs, marked from start to end" sh -c "jq -e '.model_id == 600 and .dataset_id == 601 and .duration > 10790 and
    ([.segments[] | .end - .start] | add) > 10700' $w/long.json"
rm -f "$w/long.wav"

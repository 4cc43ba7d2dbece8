#!/bin/sh
# Memory does not grow with the length of a file: a 2-hour file is scanned in about
# the same peak RSS as a 3-minute one (build/bin/pmspeed rss reports the child's peak).
. tests/lib.sh
w=build/test-scale
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/xmoto/Textures/Musics/batcave.ogg \
    -ac 1 -ar 22050 -c:a pcm_s16le "$w/one.wav"
sox "$w/one.wav" "$w/short.u.wav" repeat 2   # 3 minutes
sox "$w/one.wav" "$w/long.u.wav" repeat 119  # 2 hours
$PM embed "$w/short.u.wav" "$w/short.wav" --model 600 --dataset 601 $K --no-verify 2>/dev/null
$PM embed "$w/long.u.wav" "$w/long.wav" --model 600 --dataset 601 $K --no-verify 2>/dev/null
rm -f "$w/long.u.wav"
short=$(build/bin/pmspeed rss $PM detect $K "$w/short.wav")
long=$(build/bin/pmspeed rss $PM detect $K "$w/long.wav")
echo "peak RSS: 3 min $short MB, 2 h $long MB" >&2
check "2-hour file: peak RSS within 2 MB of a 3-minute file ($short -> $long MB)" \
    awk -v s="$short" -v l="$long" 'BEGIN { exit !(l <= s + 2 && l <= 32) }'
$PM detect --json $K "$w/long.wav" >"$w/long.json" 2>/dev/null
check "2-hour file: right IDs, marked from start to end" sh -c "jq -e '.model_id == 600 and .dataset_id == 601 and .duration > 7190 and
    ([.segments[] | .end - .start] | add) > 7000' $w/long.json"
rm -f "$w/long.wav"

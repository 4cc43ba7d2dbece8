#!/bin/sh
# Memory grows slowly with the length of a file: the detector keeps ~1.2 KB per 6 s
# window and key state (two 8-bit candidates, the best by quarters in 4 bits, and a
# read-back) and builds its alignment lines and window-by-window words from them at the
# end. Every key is searched in both format versions, two key states: a 3-hour RF64 file
# is scanned within 7.5 MB of the peak RSS of a 3-minute one (measured +6.3 MB), and
# unmarked (two pipelines, four records per window) within 14 MB (+11.9 MB)
# (build/bin/pmspeed rss reports the child's peak).
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
# (docs/FORMAT.md section 9): four records per window, ~4 MB per hour.
unmarked=$(build/bin/pmspeed rss $PM detect $K "$w/long.u.wav")
short_unmarked=$(build/bin/pmspeed rss $PM detect $K "$w/short.u.wav")
rm -f "$w/long.u.wav" "$w/long.m.wav"
short=$(build/bin/pmspeed rss $PM detect $K "$w/short.wav")
long=$(build/bin/pmspeed rss -o "$w/long.json" $PM detect --json $K "$w/long.wav")
echo "peak RSS: 3 min $short MB, 3 h $long MB; unmarked: 3 min $short_unmarked MB, 3 h $unmarked MB" >&2
check "3-hour RF64 file: really RF64" sh -c "head -c 4 $w/long.wav | grep -q RF64"
check "3-hour RF64 file: peak RSS within 7.5 MB of a 3-minute file's, under 32 MB ($short -> $long MB)" \
    awk -v s="$short" -v l="$long" 'BEGIN { exit !(s > 0 && l > 0 && l <= s + 7.5 && l <= 32) }'
check "3-hour unmarked file (two pipelines): peak RSS within 14 MB of a 3-minute one's, under 32 MB ($short_unmarked -> $unmarked MB)" \
    awk -v s="$short_unmarked" -v l="$unmarked" 'BEGIN { exit !(s > 0 && l > 0 && l <= s + 14 && l <= 32) }'
check "3-hour RF64 file: right IDs, marked from start to end" sh -c "jq -e '.model_id == 600 and .dataset_id == 601 and .duration > 10790 and
    ([.segments[] | .end - .start] | add) > 10700' $w/long.json"
rm -f "$w/long.wav"

# A 10 s piece (fb intro, 7/42 from 22 to 32 s of its minute) after 24 minutes of two
# other marks of the same key, alternating every minute (etr credits). Pairs of windows
# whose reads are kept are bounded per key; the pairs inside the long marks, at
# alignments their windows read anyway, had taken every place, and the piece's pair,
# which no window reads, found none: 7/42 was missed. Mono 22.05 kHz keeps the file small.
ffmpeg -nostdin -v error -y -ss 20 -t 65 -i /usr/share/games/etr/music/credits1-cp.ogg -ac 2 -c:a pcm_s16le "$w/credits.wav"
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/frozen-bubble/snd/introzik.ogg -ac 2 -c:a pcm_s16le "$w/intro.wav"
$PM embed "$w/credits.wav" "$w/credits_d.wav" --model 12345678 --dataset 9876543 $K --no-verify 2>/dev/null
$PM embed "$w/credits.wav" "$w/credits_n.wav" --model 7 --dataset 43 $K --no-verify 2>/dev/null
$PM embed "$w/intro.wav" "$w/intro_a.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
sox "$w/credits_d.wav" "$w/d.wav" trim 0 60
sox "$w/credits_n.wav" "$w/n.wav" trim 0 60
sox "$w/intro.wav" "$w/i0.wav" trim 0 22
sox "$w/intro_a.wav" "$w/i1.wav" trim 22 10
sox "$w/intro.wav" "$w/i2.wav" trim 32
set --
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do set -- "$@" "$w/d.wav" "$w/n.wav"; done
sox "$@" "$w/i0.wav" "$w/i1.wav" "$w/i2.wav" -c 1 -r 22050 "$w/after24.wav"
$PM detect --json $K "$w/after24.wav" >"$w/after24.json" 2>/dev/null
check "10 s of 7/42 after 24 minutes of two other marks: all three found, 7/42 within 1.5 s of its piece (1462-1472 s)" jq -e '
    ([.marks[] | [.model_id, .dataset_id]] | sort == [[7, 42], [7, 43], [12345678, 9876543]])
    and ([.marks[] | select(.dataset_id == 42) | .segments[]] | length >= 1 and all(.start >= 1460.5 and .end <= 1473.5))' "$w/after24.json"
rm -f "$w/after24.wav" "$w/d.wav" "$w/n.wav" "$w"/credits*.wav "$w"/intro*.wav

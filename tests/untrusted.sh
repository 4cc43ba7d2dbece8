#!/bin/sh
# Untrusted names and files (issue 15): file names that ffmpeg would read as URLs,
# non-regular files where a file is expected, names that are not UTF-8 or hold
# control characters, crafted indexes, planted temporary files, concurrent writers.
# Each check is a repro of a defect an outside review found.
. tests/lib.sh
w=build/test-untrusted
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
chmod 600 tests/data/test.key
src=/usr/share/games/xmoto/Textures/Musics/speeditup.ogg
ffmpeg -nostdin -v error -y -ss 10 -t 20 -i "$src" -c:a pcm_s16le "$w/a.wav"
$PM embed "$w/a.wav" "$w/m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null

# --- file names are files, never ffmpeg URLs
# Each name holds unmarked audio; read as a URL, ffmpeg would decode the marked m.wav
# beside it (concat:, file:), or other input (pipe:0, a leading '-').
names='concat:m.wav
concat:m.wav|m.wav
file:m.wav
-m.wav
pipe:0
subfile:,,start,0,end,0,,:m.wav'
pm=$(cd "$(dirname "$PM")" && pwd)/$(basename "$PM")
mkdir -p "$w/url"
cp "$w/m.wav" "$w/url/m.wav"
IFS='
'
for n in $names; do cp "$w/a.wav" "$w/url/$n"; done
for n in $names; do
    for dec in ffmpeg auto; do
        (cd "$w/url" && "$pm" detect --json --decoder $dec --key ../../../tests/data/test.key -- "$n" >../out 2>/dev/null)
        check "ffmpeg name '$n' ($dec) is the file itself: no mark" \
            jq -se 'length == 1 and .[0].found == false and .[0].error == null' "$w/out"
    done
done
unset IFS

# --- non-regular files are refused at once (and --max-seconds bounds the rest)
mkfifo "$w/f.wav" "$w/fifo.json" "$w/fifo.pmfp"
check_exit "fifo operand: detect refuses it, goes on" 2 timeout 20 $PM detect $K --max-seconds 2 "$w/f.wav" "$w/m.wav"
check "fifo operand: the marked file is still reported" \
    sh -c "timeout 20 $PM detect --json $K '$w/f.wav' '$w/m.wav' 2>/dev/null | jq -se '.[0].error == \"not a regular file\" and .[1].model_id == 7'"
for dec in sndfile ffmpeg auto; do
    check_exit "fifo operand ($dec)" 2 timeout 20 $PM detect --decoder $dec $K "$w/f.wav"
done
printf '%s\n' "$w/f.wav" >"$w/list"
check_exit "fifo through --from" 2 timeout 20 $PM detect $K --from "$w/list"
check_exit "fifo as --from" 2 timeout 20 $PM detect $K --from "$w/fifo.json"
check_exit "fifo as --resume" 2 timeout 20 $PM detect $K --resume "$w/fifo.json" "$w/m.wav"
check_exit "fifo as --registry" 2 timeout 20 $PM detect $K --registry "$w/fifo.json" "$w/m.wav"
check_exit "fifo through trace" 2 timeout 20 $PM trace $K "$w/f.wav"
check_exit "/dev/zero through detect" 2 timeout 20 $PM detect $K /dev/zero
check_exit "/dev/zero through embed" 2 timeout 20 $PM embed /dev/zero "$w/z.wav" --model 1 --dataset 1 $K
M="$w/ds.json"
$PM dataset init "$M" --name u --version 1 --license MIT 2>/dev/null
$PM dataset add "$M" "$w/a.wav" 2>/dev/null
$PM dataset fingerprint "$M" 2>/dev/null
check_exit "fifo as the manifest of trace" 2 timeout 20 $PM trace --no-detect --dataset "$w/fifo.json" "$w/a.wav"
check_exit "dataset add /dev/zero" 2 timeout 20 $PM dataset add "$M" /dev/zero
check_exit "dataset add a fifo" 2 timeout 20 $PM dataset add "$M" "$w/f.wav"
jq '.items[0].path = "/dev/zero"' "$M" >"$w/zero.json"
check_exit "manifest item /dev/zero: fingerprint refuses it" 2 timeout 20 $PM dataset fingerprint "$w/zero.json"
cp "$M" "$w/fifoidx.json"
rm -f "$w/fifoidx.pmfp"; mkfifo "$w/fifoidx.pmfp"
check_exit "fifo as the index of trace" 2 timeout 20 $PM trace --no-detect --dataset "$w/fifoidx.json" "$w/a.wav"
# A stalled pipe: '-' is allowed, and --max-seconds bounds it (sleep holds stdin open).
for dec in sndfile ffmpeg; do
    timeout 8 sleep 30 | timeout 20 $PM detect --json --decoder $dec $K --max-seconds 2 - >"$w/out" 2>/dev/null
    check "--max-seconds bounds a stalled stdin ($dec)" jq -e '.error == "gave up after 2 s (--max-seconds)"' "$w/out"
done

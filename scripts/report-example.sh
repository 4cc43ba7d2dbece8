#!/bin/sh
# make report-example: the picture of docs/report.png. A 55-file scan of real music
# (Debian's game music): marked with several models and datasets, two marks in one
# file, marked with the public demo key, IDs the example registry does not list,
# unmarked and unreadable files; then 'provmark report' and headless Chromium.
set -eu
. tests/lib.sh # PM, demo_key_file
w=build/report-example
rm -rf "$w"
mkdir -p "$w/catalogue/generated" "$w/catalogue/uploads" "$w/catalogue/damaged"
K="--key tests/data/test.key"
chmod 600 tests/data/test.key
set -- /usr/share/games/xmoto/Textures/Musics/*.ogg /usr/share/games/etr/music/*.ogg \
    /usr/share/games/frozen-bubble/snd/*zik*.ogg
n=0
for src in "$@"; do
    for start in 10 40 70 100 130 160; do
        n=$((n + 1))
        [ "$n" -le 50 ] || break 2
        name=$(basename "$src" .ogg)-$start
        ffmpeg -nostdin -v error -y -ss "$start" -t 24 -i "$src" -c:a pcm_s16le "$w/clip.wav" || continue
        [ "$(soxi -s "$w/clip.wav")" -gt 800000 ] || { n=$((n - 1)); continue; } # the track ended before
        case $((n % 10)) in
        0 | 5 | 8) cp "$w/clip.wav" "$w/catalogue/uploads/$name.wav" ;;                            # unmarked
        1) "$PM" embed "$w/clip.wav" "$w/catalogue/generated/$name.flac" --model 7 --dataset 42 --no-verify 2>/dev/null ;; # demo key
        2) "$PM" embed "$w/clip.wav" "$w/catalogue/generated/$name.wav" --model 7 --dataset 5 $K --no-verify 2>/dev/null ;; # unregistered dataset
        3 | 6) "$PM" embed "$w/clip.wav" "$w/catalogue/generated/$name.flac" --model 7 --dataset 42 $K --no-verify 2>/dev/null ;;
        4)  # two generations spliced: a file with two marks
            sox "$w/clip.wav" "$w/a.wav" trim 0 12 && sox "$w/clip.wav" "$w/b.wav" trim 12
            "$PM" embed "$w/a.wav" "$w/a.m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
            "$PM" embed "$w/b.wav" "$w/b.m.wav" --model 16777215 --dataset 42 $K --no-verify 2>/dev/null
            sox "$w/a.m.wav" "$w/b.m.wav" "$w/catalogue/generated/$name-spliced.wav" ;;
        *) "$PM" embed "$w/clip.wav" "$w/catalogue/generated/$name.wav" --model 16777215 --dataset 42 $K --no-verify 2>/dev/null ;;
        esac
    done
done
# A key file holding the public demo key, tried with the real one: demo-key marks are found and flagged.
demo_key_file "$w/demo.key"
for i in 1 2 3 4 5; do head -c $((i * 3000)) /dev/urandom >"$w/catalogue/damaged/upload-$i.wav"; done
"$PM" detect -r --json $K --key "$w/demo.key" --registry examples/registry/registry.json "$w/catalogue" >"$w/scan.jsonl" 2>/dev/null || [ $? -le 2 ]
"$PM" report -o "$w/report.html" --registry examples/registry/registry.json "$w/scan.jsonl" || [ $? -le 2 ]
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --window-size=900,1500 \
    --screenshot="$PWD/docs/report.png" "file://$PWD/$w/report.html" 2>/dev/null
echo "docs/report.png: $(wc -c <docs/report.png) bytes, from $(jq -s length "$w/scan.jsonl") files"

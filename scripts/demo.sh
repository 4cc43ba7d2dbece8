#!/bin/sh
# make demo: watermark a real piece of music, MP3-encode it, detect the IDs blind.
set -eu
PM=build/bin/provmark
out=build/demo
mkdir -p "$out"
src=/usr/share/games/xmoto/Textures/Musics/foxrun.ogg
echo "== source: $src (Debian package xmoto-data, GPL-2+), 30 s from 0:20"
ffmpeg -nostdin -v error -y -ss 20 -t 30 -i "$src" -c:a pcm_s16le "$out/original.wav"
echo "== embed: model 7, dataset 42 (demo key: fine for a demo, proves nothing)"
$PM embed "$out/original.wav" "$out/marked.wav" --model 7 --dataset 42
echo "== attack: MP3 at 128 kbit/s with ffmpeg, decoded back to WAV"
ffmpeg -nostdin -v error -y -i "$out/marked.wav" -c:a libmp3lame -b:a 128k "$out/marked.mp3"
echo "== detect (blind: no original, no offset, no rate hint)"
$PM detect --registry examples/registry/registry.json "$out/marked.mp3" "$out/original.wav" || true
echo "== as JSON"
$PM detect --json "$out/marked.mp3" 2>/dev/null

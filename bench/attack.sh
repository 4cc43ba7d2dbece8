#!/bin/sh
# Apply one attack of the standard suite (docs/BENCHMARKS.md) to a marked file.
# usage: bench/attack.sh NAME IN.wav OUT.wav   (PMSTAT: path of build/bin/pmstat)
set -eu
name=$1 in=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FF="ffmpeg -nostdin -v error -y"
pmstat=${PMSTAT:-build/bin/pmstat}
rate=$(soxi -r "$in")
enc() { # codec args... : encode then decode back to 16-bit WAV
    ext=$1; shift
    $FF -i "$in" "$@" "$tmp/e.$ext" && $FF -i "$tmp/e.$ext" -c:a pcm_s16le "$out"
}
case "$name" in
none) cp "$in" "$out" ;;
mp3_128k) enc mp3 -c:a libmp3lame -b:a 128k ;;
mp3_64k) enc mp3 -c:a libmp3lame -b:a 64k ;;
mp3_32k) enc mp3 -c:a libmp3lame -b:a 32k ;;
vorbis_q2) enc ogg -c:a libvorbis -q:a 2 ;;
opus_64k) enc opus -c:a libopus -b:a 64k ;;
opus_24k) enc opus -c:a libopus -b:a 24k ;;
aac_128k) enc m4a -c:a aac -b:a 128k ;;
resample_cross) if [ "$rate" = 48000 ]; then sox -D "$in" -r 44100 "$out"; else sox -D "$in" -r 48000 "$out"; fi ;;
resample_22k) sox -D "$in" -r 22050 "$out" ;;
gain_m10db) sox -D "$in" "$out" gain -10 ;;
noise_30db) "$pmstat" noise "$in" "$out" 30 1 ;;
noise_20db) "$pmstat" noise "$in" "$out" 20 1 ;;
noise_10db) "$pmstat" noise "$in" "$out" 10 1 ;;
lowpass_4k) sox -D "$in" "$out" sinc -4000 ;;
highpass_300) sox -D "$in" "$out" sinc 300 ;;
crop_20s) sox -D "$in" "$out" trim 13.37 20 ;;
crop_10s) sox -D "$in" "$out" trim 13.37 10 ;;
mono) sox -D "$in" "$out" channels 1 ;;
speed_*) sox -D "$in" "$out" speed "${name#speed_}" ;;
tempo_*_mp3_128k) t=${name#tempo_} && sox -D "$in" "$tmp/t.wav" tempo "${t%_mp3_128k}" && in="$tmp/t.wav" && enc mp3 -c:a libmp3lame -b:a 128k ;;
tempo_*) sox -D "$in" "$out" tempo "${name#tempo_}" ;;
pitch_*) sox -D "$in" "$out" pitch "${name#pitch_}" ;; # cents
sped_up) sox -D "$in" "$tmp/s.wav" speed 1.25 && in="$tmp/s.wav" && enc mp3 -c:a libmp3lame -b:a 128k ;;
slowed_reverb) sox -D "$in" "$tmp/s.wav" speed 0.85 reverb 50 && in="$tmp/s.wav" && enc mp3 -c:a libmp3lame -b:a 128k ;;
reverb) sox -D "$in" "$out" reverb 50 ;;
crop5s_mp3_128k) sox -D "$in" "$tmp/c.wav" trim 13.37 5 && in="$tmp/c.wav" && enc mp3 -c:a libmp3lame -b:a 128k ;;
clip_*) sox -D "$in" "$out" trim 13.37 "${name#clip_}" ;;
*) echo "attack.sh: unknown attack '$name'" >&2; exit 2 ;;
esac

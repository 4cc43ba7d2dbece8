#!/bin/sh
# Cut the benchmark/test corpus from Debian's game-music packages (docs/BENCHMARKS.md):
# 60 s excerpts from 20 s, 16-bit stereo WAV at the source rate, plus two at 48 kHz.
# usage: scripts/corpus.sh OUTDIR [SECONDS]
set -eu
out=${1:?usage: corpus.sh OUTDIR [SECONDS]}
len=${2:-60}
mkdir -p "$out"
G=/usr/share/games
# name  source  rate (empty: native)
tracks="
etr_credits $G/etr/music/credits1-cp.ogg
etr_freezing $G/etr/music/freezingpoint.ogg
etr_spunky $G/etr/music/spunkyrace-ks.ogg
etr_calm $G/etr/music/calmrace-ks.ogg
fb_main1p $G/frozen-bubble/snd/frozen-mainzik-1p.ogg
fb_intro $G/frozen-bubble/snd/introzik.ogg
xm_batcave $G/xmoto/Textures/Musics/batcave.ogg
xm_menu $G/xmoto/Textures/Musics/menu.ogg
xm_foxrun $G/xmoto/Textures/Musics/foxrun.ogg 48000
xm_madeira $G/xmoto/Textures/Musics/MadeiraStew.ogg 48000
"
echo "$tracks" | while read -r name src rate; do
    [ -n "$name" ] || continue
    f="$out/$name.wav"
    [ -s "$f" ] && continue
    if [ ! -r "$src" ]; then
        echo "corpus.sh: missing $src (install the music packages: scripts/deps.sh test)" >&2
        exit 1
    fi
    set -- -ac 2
    [ -n "$rate" ] && set -- "$@" -ar "$rate"
    ffmpeg -nostdin -v error -y -ss 20 -t "$len" -i "$src" "$@" -c:a pcm_s16le "$f.tmp.wav"
    mv "$f.tmp.wav" "$f"
done

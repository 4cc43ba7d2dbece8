#!/bin/sh
# Hosts that run in real time (in make test; alone: make test-hosts). jalv on a dummy JACK server, with real
# music played in by jack-play and the plugin's output recorded by jack_rec; model_id
# is changed on jalv's console while running; and Ardour 7 headless (Lua session,
# take replaced by music, ardour7-export). About 90 s of wall time.
. tests/lib.sh
w=build/test-hosts
rm -rf "$w"
mkdir -p "$w"
export LV2_PATH="$PWD/build/lv2:/usr/lib/lv2"
export JACK_NO_START_SERVER=1 JACK_DEFAULT_SERVER=pmtest$$
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

ffmpeg -nostdin -v error -y -ss 20 -t 40 -i /usr/share/games/xmoto/Textures/Musics/menu.ogg \
    -ar 48000 -c:a pcm_s16le "$w/in.wav"
jackd -n "$JACK_DEFAULT_SERVER" -r -d dummy -r 48000 -p 256 -C 2 -P 2 >"$w/jackd.log" 2>&1 &
pids="$pids $!"
jack_wait -w -t 10 >/dev/null
# jalv reads console commands on stdin: set the IDs, then change model_id after ~14 s.
( sleep 1; echo "model_id = 7"; echo "dataset_id = 42"; sleep 14; echo "model_id = 9"; sleep 30 ) |
    jalv -n pm -p urn:provmark:stereo >"$w/jalv.log" 2>&1 &
pids="$pids $!"
for i in 1 2 3 4 5 6 7 8 9 10; do jack_lsp 2>/dev/null | grep -q '^pm:out_r$' && break; sleep 0.5; done
check "jalv shows the plugin's ports" sh -c "jack_lsp 2>/dev/null | grep -q '^pm:in_l$'"
jack_rec -f "$w/rec.wav" -d 28 -b 16 pm:out_l pm:out_r >/dev/null 2>&1 &
rec=$!
pids="$pids $rec"
jack-play "$w/in.wav" >/dev/null 2>&1 &
player=$!
pids="$pids $player"
for i in 1 2 3 4 5 6 7 8 9 10; do jack_lsp 2>/dev/null | grep -q "^jack-play-$player:out_2$" && break; sleep 0.2; done
jack_connect "jack-play-$player:out_1" pm:in_l && jack_connect "jack-play-$player:out_2" pm:in_r
wait "$rec"
check "jalv: recorded output" test -s "$w/rec.wav"
# The first model_id change lands at the first payload boundary after ~14 s.
sox "$w/rec.wav" "$w/first.wav" trim 1 11
sox "$w/rec.wav" "$w/second.wav" trim 17 10
check "jalv: first IDs detected (model 7)" detect_ids "$w/first.wav" 7 42
check "jalv: model_id changed while running (model 9)" detect_ids "$w/second.wav" 9 42

# Ardour 7 headless: session from examples/ardour, take replaced with music, export.
ses="$PWD/$w/ardour"
PM_SESSION_DIR="$ses" PM_MODEL=4242 PM_DATASET=777 PM_SECONDS=12 \
    timeout 120 ardour7-lua examples/ardour/provmark_session.lua >"$w/ardour.log" 2>&1
take="$ses/interchange/ardour/audiofiles/Take1_pmtrack-1"
check "ardour: session with provmark recorded a take" test -s "$take%L.wav"
if [ -s "$take%L.wav" ]; then
    n=$(soxi -s "$take%L.wav")
    ffmpeg -nostdin -v error -y -ss 20 -t 15 -i /usr/share/games/frozen-bubble/snd/introzik.ogg \
        -ar 48000 -c:a pcm_f32le "$w/ardour_music.wav"
    sox "$w/ardour_music.wav" -e floating-point -b 32 "$take%L.wav" remix 1 trim 0s "${n}s"
    sox "$w/ardour_music.wav" -e floating-point -b 32 "$take%R.wav" remix 2 trim 0s "${n}s"
    rm -rf "$ses/peaks/"*
    timeout 120 ardour7-export -b float -o "$PWD/$w/ardour_out.wav" "$ses" pm >>"$w/ardour.log" 2>&1
fi
check "ardour: export carries the IDs set by set_processor_param" detect_ids "$w/ardour_out.wav" 4242 777

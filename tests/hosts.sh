#!/bin/sh
# Hosts that run in real time (in make test; alone: make test-hosts). jalv on a dummy JACK server, with real
# music played in by jack-play and the plugin's output recorded by jack_rec; model_id
# is changed on jalv's console while running; saved state folders with a key file, and
# with a missing one, restored by jalv -l; and Ardour 7 headless (Lua session, take
# replaced by music, ardour7-export), also with the key in the plugin's saved state.
# About 2 minutes of wall time.
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
# jalv reads console commands on stdin: set the IDs and the strength, then change model_id
# after ~14 s. Each half is 10 s of quiet tonal music, which needs strength 2 to be found
# reliably (docs/BENCHMARKS.md, strength scale); the strength port is set the same way.
( sleep 1; echo "model_id = 7"; echo "dataset_id = 42"; echo "strength = 2"; sleep 14; echo "model_id = 9"; sleep 30 ) |
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

# jalv restoring a saved state folder (jalv -l), as a user's saved session: the key
# named in the state is loaded and marks; a state whose key file is missing marks nothing.
state_dir() { # DIR KEYFILE: a jalv/lilv state folder with model 7, dataset 42 and the key
    mkdir -p "$1"
    cat >"$1/manifest.ttl" <<EOT
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<state.ttl> a pset:Preset ; lv2:appliesTo <urn:provmark:stereo> ; rdfs:seeAlso <state.ttl> .
EOT
    cat >"$1/state.ttl" <<EOT
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
<> a pset:Preset ;
    lv2:appliesTo <urn:provmark:stereo> ;
    lv2:port [ lv2:symbol "model_id" ; pset:value 7.0 ] , [ lv2:symbol "dataset_id" ; pset:value 42.0 ] ;
    state:state [ <urn:provmark:key> <file://$2> ] .
EOT
}
# 24 s are recorded: 13 s (all an earlier version took) of this quiet track hold a mark
# just at the edge of what the detector can read blind, and the check failed now and
# then (2 CI runs of sessions 9 and 10; the mark was there: detect --registry found it).
jalv_state() { # NAME STATE_DIR: play 24 s of music through jalv -l STATE_DIR, record NAME.wav
    ( sleep 40 ) | jalv -n "$1" -l "$2" urn:provmark:stereo >"$w/$1.log" 2>&1 &
    j=$!
    pids="$pids $j"
    for i in 1 2 3 4 5 6 7 8 9 10; do jack_lsp 2>/dev/null | grep -q "^$1:out_r\$" && break; sleep 0.5; done
    jack_rec -f "$w/$1.wav" -d 24 -b 32 "$1:out_l" "$1:out_r" >/dev/null 2>&1 &
    r=$!
    jack-play "$w/in.wav" >/dev/null 2>&1 &
    pl=$!
    pids="$pids $r $pl"
    for i in 1 2 3 4 5 6 7 8 9 10; do jack_lsp 2>/dev/null | grep -q "^jack-play-$pl:out_2\$" && break; sleep 0.2; done
    jack_connect "jack-play-$pl:out_1" "$1:in_l" && jack_connect "jack-play-$pl:out_2" "$1:in_r"
    wait "$r"
    kill "$pl" "$j" 2>/dev/null
}
K="--key tests/data/test.key"
state_dir "$w/state-key" "$PWD/tests/data/test.key"
jalv_state pmkey "$w/state-key"
sox "$w/pmkey.wav" "$w/pmkey-cut.wav" trim 1
check "jalv -l: the key in the saved state marks (detected with it, 7/42)" detect_ids "$w/pmkey-cut.wav" 7 42 $K
check "jalv -l: nothing detected with the demo key" detect_none "$w/pmkey-cut.wav"
state_dir "$w/state-missing" "$PWD/$w/moved-away.key"
jalv_state pmmiss "$w/state-missing"
sox "$w/pmmiss.wav" "$w/pmmiss-cut.wav" trim 1
check "jalv -l: key file missing - says so" grep -q 'moved-away.key: key file missing' "$w/pmmiss.log"
check "jalv -l: key file missing - the output carries no mark (demo key)" detect_none "$w/pmmiss-cut.wav"
check "jalv -l: key file missing - audio passes (not silent)" sh -c \
    "sox $w/pmmiss-cut.wav -n stat 2>&1 | awk '/RMS +amplitude/ {exit !(\$3 > 0.01)}'"

# Ardour 7 headless: session from examples/ardour, take replaced with music, export.
# ardour7-export itself sometimes hangs before writing any audio, or aborts in free() as
# it exits, also on this session with provmark not installed (measured: 1 hang in 6 runs
# without the plugin, 1 abort in 8 with it, the output complete); a run that left no
# audio is repeated once, so that the checks below judge the plugin, not that tool.
ardour_export() { # OUT LOG
    for try in 1 2; do
        timeout 60 ardour7-export -b float -o "$1" "$ses" pm >>"$2" 2>&1
        [ "$(soxi -s "$1" 2>/dev/null || echo 0)" -gt 0 ] && return
        echo "provmark test: ardour7-export left no audio in $1 (try $try)" >>"$2"
    done
}
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
    ardour_export "$PWD/$w/ardour_out.wav" "$w/ardour.log"
fi
check "ardour: export carries the IDs set by set_processor_param" detect_ids "$w/ardour_out.wav" 4242 777
# The key in the plugin's saved state (as the Key file chooser leaves it; Ardour 7's Lua
# cannot set a plugin property): Ardour restores it when it loads the session.
st=$(ls -d "$ses"/plugins/*/state* 2>/dev/null | head -n 1)
with_key() { # KEYFILE: name the key in the plugin's saved state
    grep -v 'state:state' "$st/state.ttl" | sed '/^@prefix/! s/ \.$/ ;/' >"$st/state.tmp"
    printf '\tstate:state [ <urn:provmark:key> <file://%s> ] .\n' "$1" >>"$st/state.tmp"
    mv "$st/state.tmp" "$st/state.ttl"
}
if [ -n "$st" ]; then
    with_key "$PWD/tests/data/test.key"
    ardour_export "$PWD/$w/ardour_key.wav" "$w/ardour.log"
    with_key "$PWD/$w/moved-away.key"
    : >"$w/ardour_miss.log"
    ardour_export "$PWD/$w/ardour_miss.wav" "$w/ardour_miss.log"
fi
check "ardour: the key in the saved plugin state marks the export (detected with it)" \
    detect_ids "$w/ardour_key.wav" 4242 777 $K
check "ardour: ... and not with the demo key" detect_none "$w/ardour_key.wav"
check "ardour: key file missing - export unmarked (no demo-key mark), audio present" sh -c \
    "$(printf '%s' "$PM") detect --json $w/ardour_miss.wav | jq -e '.found == false' >/dev/null && sox $w/ardour_miss.wav -n stat 2>&1 | awk '/RMS +amplitude/ {exit !(\$3 > 0.01)}'"

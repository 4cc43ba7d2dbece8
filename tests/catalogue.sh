#!/bin/sh
# embed -r over a catalogue: 20 mixed files (WAV, FLAC, MP3, Ogg at 44.1 kHz; Opus) of
# real music from the Debian game packages, tagged, in nested folders with odd names;
# marked with their tags, each detected; killed halfway and run again, it finishes the
# rest. Opus at 44.1 kHz (resampled), progress on a terminal only, and hostile operands.
. tests/lib.sh
w=build/test-catalogue
rm -rf "$w"
mkdir -p "$w/in/sub dir/ünï" "$w/in/b" "$w/in/-dash"
K="$w/k.key"
cp tests/data/test.key "$K" && chmod 600 "$K"
# the music tracks of a minute or more (not the short loops), each once or twice
tracks=$(for f in $(find /usr/share/games/xmoto /usr/share/games/etr /usr/share/games/frozen-bubble -name '*.ogg' -size +300k | sort); do
    [ "$(soxi -D "$f" | cut -d. -f1)" -ge 75 ] && echo "$f"; done)
n=0
for f in $tracks $tracks; do
    n=$((n + 1))
    [ $n -gt 20 ] && break
    start=$((n > $(echo "$tracks" | wc -l) ? 60 : 30)) # the second time, from further on
    case $((n % 5)) in 0) e=wav ;; 1) e=flac ;; 2) e=mp3 ;; 3) e=ogg ;; 4) e=opus ;; esac
    case $((n % 4)) in 0) d="$w/in" ;; 1) d="$w/in/sub dir/ünï" ;; 2) d="$w/in/b" ;; 3) d="$w/in/-dash" ;; esac
    src=$f
    if [ $e = opus ]; then # through WAV: libsndfile 1.2.0 rejects ffmpeg's Opus cut with -ss straight from Ogg
        ffmpeg -nostdin -v error -y -ss $start -t 10 -i "$f" "$w/clip.wav"
        src=$w/clip.wav start=0
    fi
    ffmpeg -nostdin -v error -y -ss $start -t 10 -i "$src" -ar $([ $e = opus ] && echo 48000 || echo 44100) \
        -metadata title="Title $n é" -metadata artist="Artist $n" -metadata album="Album" -metadata copyright="(c) $n" "$d/$n $(basename "$f" .ogg).$e"
done
ffmpeg -nostdin -v error -y -ss 30 -t 10 -i "$f" -ar 44100 "$w/clip.wav"
check "20 tagged inputs: 4 each of WAV, FLAC, MP3, Ogg, Opus" \
    sh -c "[ \$(find $w/in -type f | wc -l) = 20 ] && [ \$(find $w/in -name '*.opus' | wc -l) = 4 ] && [ \$(find $w/in -name '*.mp3' | wc -l) = 4 ]"

tags() { # FILE: title|artist|album as ffprobe reads them
    ffprobe -v error -show_entries format_tags=title,artist,album:stream_tags=title,artist,album \
        -of default=nw=1:nk=1 "$1" | sort | tr '\n' '|'
}
all_detected() { # DIR MODEL DATASET: every file below DIR carries the IDs (one JSON line each)
    "$PM" detect -r --json --key "$K" "$1" 2>/dev/null >"$w/det.jsonl"
    [ "$(jq -s --argjson m "$2" --argjson d "$3" 'map(select(.found and .model_id == $m and .dataset_id == $d)) | length' "$w/det.jsonl")" = 20 ]
}
same_tree() { # IN OUT: the same relative paths
    [ "$(cd "$1" && find . -type f | sort)" = "$(cd "$2" && find . -type f | sort)" ]
}
tags_kept() { # IN OUT: each output has its input's tags, as ffprobe reads them
    (cd "$1" && find . -type f) | while read -r f; do
        t=$(tags "$2/$f")
        [ -n "$t" ] && [ "$(tags "$1/$f")" = "$t" ] || { echo "$f"; exit 1; }
    done
}

"$PM" embed -r "$w/in" "$w/out" --model 71 --dataset 72 --key "$K" --strength 2 -j 2 2>"$w/r.err"
echo $? >"$w/r.rc"
check "embed -r: exit 0, a summary of 20 marked" sh -c "[ \$(cat $w/r.rc) = 0 ] && grep -q '^provmark: 20 files: 20 marked, 0 already marked (kept), 0 not verified, 0 truncated, 0 failed$' $w/r.err"
check "embed -r: the same relative paths and formats below OUT_DIR" same_tree "$w/in" "$w/out"
check "embed -r: every output carries 71/72 (detect --json over OUT_DIR)" all_detected "$w/out" 71 72
check "embed -r: title, artist and album carried over in every format" tags_kept "$w/in" "$w/out"
check "embed -r: MP3 cannot hold the copyright tag: said once, for .mp3 only" sh -c "
    [ \$(grep -c 'note: .* outputs cannot hold' $w/r.err) = 1 ] && grep -q '^provmark: note: .mp3 outputs cannot hold these tags of their inputs: copyright (libsndfile)$' $w/r.err"
check "embed -r: sample rates kept (Ogg 44.1 kHz in, 44.1 kHz out)" \
    sh -c "[ \"\$(soxi -r \"\$(find $w/out -name '*.ogg' | head -1)\")\" = 44100 ]"
check "embed -r: no progress line when stderr is not a terminal" sh -c "! grep -q \"\$(printf '\\r')\" $w/r.err"

# Killed halfway (SIGKILL, one job), then run again: it keeps what is done and finishes.
"$PM" embed -r "$w/in" "$w/half" --model 71 --dataset 72 --key "$K" --strength 2 -j 2 2>/dev/null &
pid=$!
i=0
while [ "$(find "$w/half" -type f 2>/dev/null | wc -l)" -lt 8 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
done_before=$(find "$w/half" -type f | wc -l)
check "killed halfway: some outputs, none partial or temporary ($done_before of 20)" \
    sh -c "[ $done_before -ge 8 ] && [ $done_before -lt 20 ] && ! find $w/half -name '*pmtmp*' | grep -q ."
"$PM" embed -r "$w/in" "$w/half" --model 71 --dataset 72 --key "$K" --strength 2 -j 2 2>"$w/h.err"
check "run again: the $done_before done are kept, the rest marked, exit 0" \
    sh -c "grep -q \"^provmark: 20 files: $((20 - done_before)) marked, $done_before already marked (kept), 0 not verified, 0 truncated, 0 failed$\" $w/h.err"
check "run again: all 20 carry 71/72 with their paths" all_detected "$w/half" 71 72
same_tree "$w/in" "$w/half" || echo "FAIL run again: the same relative paths"

# Different IDs into the same OUT_DIR: nothing is kept, everything re-marked. On a
# terminal (script gives the command a tty): a status line, then the summary.
script -qec "$PM embed -r '$w/in/b' '$w/out/b' --model 73 --dataset 74 --key $K --strength 2 -j 2" /dev/null >"$w/re.err" 2>&1
check "on a terminal: a status line from 1/5 to 5/5, then the summary" sh -c "
    grep -q \"\$(printf '\\r')provmark: marked 1/5, ETA\" $w/re.err && grep -q 'marked 5/5, ETA' $w/re.err"
check "an output carrying other IDs is not kept: re-marked" \
    sh -c "grep -q '5 files: 5 marked, 0 already marked' $w/re.err && $(printf '%s' "$PM") detect -r --json --key $K $w/out/b | jq -s -e 'length == 5 and all(.dataset_id == 74)' >/dev/null"

# --format opus from 44.1 kHz: resampled to 48 kHz after marking, said once, tags kept.
"$PM" embed -r "$w/in/sub dir" "$w/opus" --format opus --model 75 --dataset 76 --key "$K" --strength 2 2>"$w/o.err"
check "--format opus: every output .opus at 48 kHz, detected" sh -c "
    [ \$(find $w/opus -type f | wc -l) = 5 ] && [ \$(find $w/opus -type f ! -name '*.opus' | wc -l) = 0 ] &&
    for f in $w/opus/ünï/*; do [ \"\$(ffprobe -v error -show_entries stream=sample_rate -of csv=p=0 \"\$f\")\" = 48000 ] || exit 1; done &&
    $(printf '%s' "$PM") detect -r --json --key $K $w/opus | jq -s -e 'length == 5 and all(.model_id == 75)' >/dev/null"
check "--format opus: the resampling said once" sh -c "[ \$(grep -c 'resampled to 48000 Hz (libsoxr)' $w/o.err) = 1 ]"
flac=$(cd "$w/in/sub dir" && find . -name '*.flac' | head -1)
check "--format opus: tags kept (FLAC in, Opus out)" sh -c "[ \"\$(tags '$w/opus/${flac%.flac}.opus')\" = \"\$(tags '$w/in/sub dir/$flac')\" ]"

# One file: 44.1 kHz WAV to Opus, MP3 to MP3 with its tags.
"$PM" embed "$w/clip.wav" "$w/one.opus" --model 1 --dataset 2 --key "$K" --strength 2 2>"$w/one.err"
check "embed 44.1 kHz WAV to .opus: exit 0, 48 kHz, one line says so, detected" sh -c "
    grep -q 'resampled from 44100 Hz to 48000 Hz for Opus (libsoxr)' $w/one.err &&
    [ \"\$(ffprobe -v error -show_entries stream=sample_rate -of csv=p=0 $w/one.opus)\" = 48000 ]" 
check "... and carries 1/2" detect_ids "$w/one.opus" 1 2 --key "$K"
ffmpeg -nostdin -v error -y -i "$w/clip.wav" -metadata title=T -metadata license="CC BY" "$w/lic.flac"
"$PM" embed "$w/lic.flac" "$w/lic.wav" --model 1 --dataset 2 --key "$K" --no-verify 2>"$w/lic.err"
check "a tag the output format cannot hold is named (licence: FLAC to WAV)" \
    grep -q '^provmark: warning: this format cannot hold these tags of the input: license (libsndfile)$' "$w/lic.err"


# dataset add and fingerprint draw a status line on a terminal too (and only there).
"$PM" dataset init "$w/ds.json" --name cat --version 1 --license CC0-1.0 2>/dev/null
script -qec "$PM dataset add '$w/ds.json' '$w/in/b' && $PM dataset fingerprint '$w/ds.json'" /dev/null >"$w/ds.tty" 2>&1
check "dataset add, fingerprint on a terminal: status lines to 5/5" sh -c "
    grep -q \"\$(printf '\\r')provmark: described 1/5, ETA\" $w/ds.tty && grep -q 'described 5/5' $w/ds.tty &&
    grep -q \"\$(printf '\\r')provmark: fingerprinted 5/5, ETA\" $w/ds.tty"
"$PM" dataset add "$w/ds.json" "$w/in/-dash" 2>"$w/ds.err"
check "dataset add without a terminal: no status line" sh -c "grep -q '5 added' $w/ds.err && ! grep -q 'described' $w/ds.err"

# Hostile operands: one clear line and exit 2, nothing written.
check_exit "OUT_DIR inside IN_DIR: refused" 2 "$PM" embed -r "$w/in" "$w/in/out" --model 1 --dataset 2 --key "$K"
check "... and nothing made there" test ! -e "$w/in/out"
# IN_DIR inside OUT_DIR: an output can be another input (t/s/a.wav is t/s/s/a.wav's).
mkdir -p "$w/t/s/s"
cp "$w/clip.wav" "$w/t/s/a.wav"
cp "$w/clip.wav" "$w/t/s/s/a.wav"
sum=$(md5sum <"$w/t/s/a.wav")
check_exit "IN_DIR inside OUT_DIR: refused" 2 "$PM" embed -r "$w/t/s" "$w/t" --model 1 --dataset 2 --key "$K"
check "... and the input untouched" test "$(md5sum <"$w/t/s/a.wav")" = "$sum"
# A link among the inputs to a file where its output would go: refused, the file kept.
mkdir -p "$w/li" "$w/lo"
cp "$w/clip.wav" "$w/lo/x.wav"
ln -s "$PWD/$w/lo/x.wav" "$w/li/x.wav"
sum=$(md5sum <"$w/lo/x.wav")
check_exit "an input linked to its own output: refused" 2 "$PM" embed -r "$w/li" "$w/lo" --model 1 --dataset 2 --key "$K"
check "... and the file untouched" test "$(md5sum <"$w/lo/x.wav")" = "$sum"
# --format making two inputs one output (a.wav and a.flac to a.flac): refused, nothing written.
mkdir -p "$w/col"
cp "$w/clip.wav" "$w/col/a.wav"
sox "$w/clip.wav" "$w/col/a.flac"
check_exit "--format: two inputs to one output refused" 2 "$PM" embed -r "$w/col" "$w/colo" --format flac --model 1 --dataset 2 --key "$K"
check "... and nothing written" sh -c "[ \$(find $w/colo -type f 2>/dev/null | wc -l) = 0 ]"
check_exit "OUT_DIR = IN_DIR: refused" 2 "$PM" embed -r "$w/in/b" "$w/in/b/" --model 1 --dataset 2 --key "$K"
check_exit "IN_DIR a file: refused" 2 "$PM" embed -r "$w/clip.wav" "$w/x" --model 1 --dataset 2 --key "$K"
check_exit "--format of a type it cannot write: refused before any work" 2 "$PM" embed -r "$w/in" "$w/x" --format m4a --model 1 --dataset 2 --key "$K"
check "... and nothing made" test ! -e "$w/x"
check_exit "--format with a path in it: refused" 2 "$PM" embed -r "$w/in" "$w/x" --format ../x --model 1 --dataset 2 --key "$K"
check_exit "--format without -r: refused" 2 "$PM" embed "$w/clip.wav" "$w/x.wav" --format wav --model 1 --dataset 2 --key "$K"
check_exit "-j 0: refused" 2 "$PM" embed -r "$w/in" "$w/x" -j 0 --model 1 --dataset 2 --key "$K"
mkdir -p "$w/bad"
cp "$(find "$w/in" -name '*.mp3' | head -1)" "$w/bad/good.mp3"
head -c 3000 "$w/clip.wav" >"$w/bad/cut.wav"
printf 'not audio' >"$w/bad/junk.flac"
"$PM" embed -r "$w/bad" "$w/badout" --model 1 --dataset 2 --key "$K" --strength 2 2>"$w/bad.err"
echo $? >"$w/bad.rc"
check "a folder with a good, a cut and a junk file: marked, truncated, failed; exit 2" sh -c "
    [ \$(cat $w/bad.rc) = 2 ] && grep -q ' 1 marked, 0 already marked (kept), 0 not verified, 1 truncated, 1 failed' $w/bad.err &&
    [ \$(find $w/badout -type f | wc -l) = 2 ] && [ -f $w/badout/good.mp3 ] && [ ! -e $w/badout/junk.flac ]"

# A truncated input: its output holds what it held and is not counted as marked (exit 1);
# once the input is whole again, a re-run marks it again instead of keeping the short output.
mkdir -p "$w/tr"
sox "$w/clip.wav" "$w/whole.flac" repeat 5
head -c "$(($(stat -c %s "$w/whole.flac") / 2))" "$w/whole.flac" >"$w/tr/t.flac"
"$PM" embed -r "$w/tr" "$w/tro" --model 1 --dataset 2 --key "$K" --strength 2 2>"$w/tr.err"
echo $? >"$w/tr.rc"
check "a truncated input: counted as truncated, exit 1" sh -c "
    [ \$(cat $w/tr.rc) = 1 ] && grep -q ' 0 marked, 0 already marked (kept), 0 not verified, 1 truncated, 0 failed' $w/tr.err"
cp "$w/whole.flac" "$w/tr/t.flac"
"$PM" embed -r "$w/tr" "$w/tro" --model 1 --dataset 2 --key "$K" --strength 2 2>"$w/tr2.err"
check "... made whole again: marked again, not kept short" sh -c "
    grep -q ' 1 marked, 0 already marked (kept)' $w/tr2.err && [ \"\$(soxi -s $w/tro/t.flac)\" = \"\$(soxi -s $w/whole.flac)\" ]"

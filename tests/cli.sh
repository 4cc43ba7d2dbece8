#!/bin/sh
# The provmark command: round trips, formats, streams, exit codes and bad input.
. tests/lib.sh
w=build/test-cli
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
chmod 600 tests/data/test.key
src=/usr/share/games/xmoto/Textures/Musics/speeditup.ogg
ffmpeg -nostdin -v error -y -ss 10 -t 20 -i "$src" -c:a pcm_s16le "$w/in.wav"
ffmpeg -nostdin -v error -y -i "$w/in.wav" -c:a flac -sample_fmt s32 -bits_per_raw_sample 24 "$w/in24.flac"

# help and usage
for c in "" embed detect keygen; do check_exit "help $c" 0 $PM $c --help; done
check_exit "no command" 2 $PM
check_exit "unknown command" 2 $PM frobnicate
check_exit "unknown option" 2 $PM embed --bogus "$w/in.wav" "$w/o.wav" --model 1 --dataset 1

# round trip WAV, with the verification line
$PM embed "$w/in.wav" "$w/m.wav" --model 16777215 --dataset 0 $K 2>"$w/embed.log"
check "embed wav" test -s "$w/m.wav"
check "embed verifies its output" grep -q "verified: sync" "$w/embed.log"
check "detect max ids" detect_ids "$w/m.wav" 16777215 0 $K
check "same length" test "$(soxi -s "$w/in.wav")" = "$(soxi -s "$w/m.wav")"
check "same format" test "$(soxi -r -c -b "$w/in.wav" | tr '\n' ' ')" = "$(soxi -r -c -b "$w/m.wav" | tr '\n' ' ')"
check_exit "detect marked exits 0" 0 $PM detect $K "$w/m.wav"
check_exit "detect unmarked exits 1" 1 $PM detect $K "$w/in.wav"
check "detect human line" sh -c "$PM detect $K $w/m.wav 2>/dev/null | grep -q 'model 16777215, dataset 0'"
check "json fields" sh -c "$PM detect --json $K $w/m.wav | jq -e 'has(\"file\") and has(\"p_false\") and (.segments|length>0) and .error==null and .p_false<=1e-9'"

# 24-bit FLAC keeps its depth; Ogg and MP3 outputs
$PM embed "$w/in24.flac" "$w/m24.flac" --model 5 --dataset 6 $K --no-verify 2>/dev/null
check "flac 24 bit kept" test "$(soxi -b "$w/m24.flac")" = 24
check "flac detect" detect_ids "$w/m24.flac" 5 6 $K
$PM embed "$w/in.wav" "$w/m.ogg" --model 8 --dataset 9 $K --no-verify 2>/dev/null
check "ogg output detect" detect_ids "$w/m.ogg" 8 9 $K
$PM embed "$w/in.wav" "$w/m.mp3" --model 8 --dataset 10 $K --no-verify 2>/dev/null
check "mp3 output detect" detect_ids "$w/m.mp3" 8 10 $K

# streams: WAV on stdin and stdout
cat "$w/in.wav" | $PM embed - - --model 11 --dataset 12 $K --no-verify 2>/dev/null >"$w/pipe.wav"
check "stdin to stdout" detect_ids "$w/pipe.wav" 11 12 $K
check "detect from stdin" sh -c "cat $w/pipe.wav | $PM detect --json $K - | jq -e '.model_id==11'"

# keys
check_exit "keygen refuses overwrite" 2 $PM keygen tests/data/test.key
$PM keygen "$w/k2" 2>/dev/null
check "keygen mode 0600" test "$(stat -c %a "$w/k2")" = 600
check "wrong key finds nothing" detect_none "$w/m.wav" --key "$w/k2"
check "two keys, second matches" sh -c "$PM detect --json --key $w/k2 $K $w/m.wav | jq -e '.found and .model_id==16777215'"
printf 'not a key\n' >"$w/badkey"
check_exit "bad key file" 2 $PM embed "$w/in.wav" "$w/x.wav" --model 1 --dataset 1 --key "$w/badkey"
check_exit "missing key file" 2 $PM detect --key "$w/nokey" "$w/m.wav"
check "demo key warns" sh -c "$PM detect $w/in.wav 2>&1 >/dev/null | grep -q 'demo key'"

# Digital silence can carry no mark: the output is written (the audio is the user's), and
# the exit status says the mark could not be verified, so a pipeline can tell.
sox -D -n -r 44100 -c 2 -b 16 "$w/silence.wav" trim 0 10
check_exit "embed of digital silence: written, exit 1 (not verified)" 1 $PM embed "$w/silence.wav" "$w/silence.m.wav" --model 1 --dataset 1 $K
check "embed of digital silence: the output exists and is silent" sh -c "test -s $w/silence.m.wav && cmp -s $w/silence.wav $w/silence.m.wav"
check_exit "embed of digital silence with --no-verify: exit 0" 0 $PM embed "$w/silence.wav" "$w/silence.n.wav" --model 1 --dataset 1 $K --no-verify

# bad arguments and bad input never leave an output behind
check_exit "id out of range" 2 $PM embed "$w/in.wav" "$w/x.wav" --model 16777216 --dataset 1 $K
check_exit "negative id" 2 $PM embed "$w/in.wav" "$w/x.wav" --model -1 --dataset 1 $K
check_exit "id not a number" 2 $PM embed "$w/in.wav" "$w/x.wav" --model 12ab --dataset 1 $K
check_exit "strength out of range" 2 $PM embed "$w/in.wav" "$w/x.wav" --model 1 --dataset 1 --strength 9 $K
check_exit "missing ids" 2 $PM embed "$w/in.wav" "$w/x.wav" $K
check_exit "missing input" 2 $PM embed "$w/none.wav" "$w/x.wav" --model 1 --dataset 1 $K
head -c 100000 /dev/urandom >"$w/junk.wav"
check_exit "corrupt input" 2 $PM embed "$w/junk.wav" "$w/x.wav" --model 1 --dataset 1 $K
: >"$w/empty.wav"
check_exit "empty input" 2 $PM embed "$w/empty.wav" "$w/x.wav" --model 1 --dataset 1 $K
sox -n -r 44100 -c 2 "$w/zero.wav" trim 0 0 2>/dev/null
check_exit "zero-length audio" 2 $PM embed "$w/zero.wav" "$w/x.wav" --model 1 --dataset 1 $K
check_exit "unknown output type" 2 $PM embed "$w/in.wav" "$w/x.xyz" --model 1 --dataset 1 $K
check_exit "output folder missing" 2 $PM embed "$w/in.wav" "$w/nodir/x.wav" --model 1 --dataset 1 $K
check "no partial outputs" sh -c "! ls $w | grep -q -e '^x\.' -e pmtmp"
echo good >"$w/keep.wav"
check_exit "failure keeps existing output" 2 $PM embed "$w/junk.wav" "$w/keep.wav" --model 1 --dataset 1 $K
check "existing output untouched" grep -qx good "$w/keep.wav"
check_exit "refuses output = input" 2 $PM embed "$w/m.wav" "$w/m.wav" --model 1 --dataset 1 $K
ln -sf m.wav "$w/link.wav"
check_exit "refuses output = input via symlink" 2 $PM embed "$w/m.wav" "$w/link.wav" --model 1 --dataset 1 $K
ln -f "$w/m.wav" "$w/hard.wav"
check_exit "refuses output = input via hard link" 2 $PM embed "$w/m.wav" "$w/hard.wav" --model 1 --dataset 1 $K
check "input intact after refusals" detect_ids "$w/m.wav" 16777215 0 $K

# odd rates and channel counts
sox "$w/in.wav" -r 8000 "$w/r8k.wav"
check "8 kHz embeds" $PM embed "$w/r8k.wav" "$w/r8k.m.wav" --model 1 --dataset 1 $K --no-verify
sox "$w/in.wav" -r 96000 "$w/r96.wav"
$PM embed "$w/r96.wav" "$w/r96.m.wav" --model 3 --dataset 4 $K --no-verify 2>/dev/null
check "96 kHz round trip" detect_ids "$w/r96.m.wav" 3 4 $K
sox "$w/in.wav" -r 7000 "$w/r7k.wav"
check_exit "7 kHz refused" 2 $PM embed "$w/r7k.wav" "$w/x.wav" --model 1 --dataset 1 $K
sox -M "$w/in.wav" "$w/in.wav" "$w/in.wav" "$w/ch6.wav"
$PM embed "$w/ch6.wav" "$w/ch6.m.wav" --model 6 --dataset 6 $K --no-verify 2>/dev/null
check "6 channels round trip" detect_ids "$w/ch6.m.wav" 6 6 $K
sox -M "$w/ch6.wav" "$w/in.wav" "$w/in.wav" "$w/ch10.wav"
check_exit "10 channels refused" 2 $PM embed "$w/ch10.wav" "$w/x.wav" --model 1 --dataset 1 $K

# detect: errors are reported per file, the scan goes on, exit 2 wins
out=$($PM detect --json $K "$w/m.wav" "$w/junk.wav" "$w/in.wav" 2>/dev/null)
status=$?
check "detect mixed exit 2" test "$status" = 2
check "detect mixed three lines" test "$(echo "$out" | jq -s 'length')" = 3
check "detect junk has error" sh -c "echo '$out' | jq -s -e '.[1].error != null and (.[1] | keys) == [\"error\", \"file\"]'"
check "detect still finds the marked file" sh -c "echo '$out' | jq -s -e '.[0].found and (.[2].found|not)'"

# Scanning folders and lists: mixed formats, damaged files, threads, resume.
s="$w/scan"
mkdir -p "$s/sub/deeper"
cp "$w/m.wav" "$s/a.wav"
cp "$w/m.mp3" "$s/sub/b.mp3"
cp "$w/m24.flac" "$s/sub/deeper/c.flac"
cp "$w/in.wav" "$s/sub/d_unmarked.wav"
head -c 5000 /dev/urandom >"$s/sub/junk.wav"
: >"$s/sub/empty.ogg"
echo "not audio" >"$s/notes.txt"
check_exit "folder without -r refused" 2 $PM detect $K "$s"
$PM detect -r --json -j 1 $K "$s" >"$s.j1" 2>/dev/null
status=$?
check "scan: damaged files make exit 2, the scan goes on" test "$status" = 2
check "scan: every audio file reported, notes.txt skipped" test "$(jq -s 'length' "$s.j1")" = 6
check "scan: sorted walk, subfolders included" test "$(jq -r '.file' "$s.j1" | tr '\n' ' ')" = \
    "$s/a.wav $s/sub/b.mp3 $s/sub/d_unmarked.wav $s/sub/deeper/c.flac $s/sub/empty.ogg $s/sub/junk.wav "
check "scan: marked, unmarked and damaged told apart" sh -c "jq -s -e '
    [.[] | [.found, .model_id, (.error != null)]] ==
    [[true,16777215,false],[true,8,false],[false,null,false],[true,5,false],[null,null,true],[null,null,true]]' $s.j1"
check "scan: every line (results and errors, with --registry) valid against docs/result.schema.json" sh -c \
    ". tests/lib.sh; $PM detect -r --json --registry examples/registry/registry.json $K $s >$s.reg 2>/dev/null; valid_lines detect $s.reg && valid_lines detect $s.j1"
jq -c '.extra = 1' "$s.j1" >"$s.bad"
check "scan: ... and the schema is strict (an unknown field fails it)" sh -c ". tests/lib.sh; ! valid_lines detect $s.bad 2>/dev/null"
check "scan: duration, rate, channels, elapsed_ms" sh -c "jq -s -e '.[0].duration == 20 and .[0].sample_rate == 44100 and .[0].channels == 2 and (.[0].elapsed_ms | type == \"number\")' $s.j1"
$PM detect -r --json -j 3 $K "$s" >"$s.j3" 2>/dev/null
check "scan: -j 3 gives the same lines in the same order" sh -c \
    "test \"\$(jq -c 'del(.elapsed_ms)' $s.j1)\" = \"\$(jq -c 'del(.elapsed_ms)' $s.j3)\""
check "scan: --only narrows the walk" test "$($PM detect -r --json --only '*.mp3' $K "$s" 2>/dev/null | jq -s 'length')" = 1
jq -r '.file' "$s.j1" | $PM detect --json --from - $K >"$s.from" 2>/dev/null
check "scan: --from - reads the paths" sh -c "test \"\$(jq -c 'del(.elapsed_ms)' $s.j1)\" = \"\$(jq -c 'del(.elapsed_ms)' $s.from)\""
# An interrupted scan: the first two lines and half of the third were written.
head -n 2 "$s.j1" >"$s.partial"
sed -n 3p "$s.j1" | head -c 40 >>"$s.partial"
$PM detect -r --json --resume "$s.partial" $K "$s" >"$s.rest" 2>/dev/null
check "scan: --resume skips what was done" test "$(jq -r '.file' "$s.rest" | head -n 1)" = "$s/sub/d_unmarked.wav"
check "scan: done + resumed = one uninterrupted scan" sh -c \
    "test \"\$( (head -n 2 $s.j1; cat $s.rest) | jq -c 'del(.elapsed_ms)')\" = \"\$(jq -c 'del(.elapsed_ms)' $s.j1)\""
check "scan: resuming a finished scan does nothing" test -z "$($PM detect -r --json --resume "$s.j1" $K "$s" 2>/dev/null | grep -v '"error":"')"

# Registry: names for known IDs, unknown IDs flagged, bad registries refused.
R=examples/registry/registry.json
check "registry: model and dataset names resolved" sh -c "$PM detect --json --registry $R $K $w/m.wav | jq -e '.model.name == \"test model\" and .dataset == null and .unregistered == [\"dataset\"]'"
check "registry: human line names the model and flags the dataset" sh -c "$PM detect --registry $R $K $w/m.wav 2>/dev/null | grep -q 'model 16777215 \"test model 0, provmark tests\", dataset 0 \[not in registry\]'"
echo '{"version": 1, "models": {"07": {"name": "x"}}, "datasets": {}}' >"$w/reg1.json"
echo '{"version": 2, "models": {}, "datasets": {}}' >"$w/reg2.json"
echo '{"version": 1, "models": {"7": {"version": "1"}}, "datasets": {}}' >"$w/reg3.json"
echo '{"version": 1, "models": {' >"$w/reg4.json"
echo '{"version": 1, "models": {"7": {"name": "a"}, "7": {"name": "b"}}, "datasets": {}}' >"$w/reg5.json"
for i in 1 2 3 4 5; do
    check_exit "registry: invalid registry $i refused" 2 $PM detect --registry "$w/reg$i.json" $K "$w/m.wav"
done
check_exit "registry: missing file refused" 2 $PM detect --registry "$w/none.json" $K "$w/m.wav"

# Formats libsndfile cannot read go through an ffmpeg subprocess.
ffmpeg -nostdin -v error -y -i "$w/m.wav" -c:a aac -b:a 128k "$w/m.m4a"
ffmpeg -nostdin -v error -y -f lavfi -i color=black:s=64x48:r=10 -i "$w/m.wav" -shortest \
    -c:v mpeg4 -c:a aac -b:a 128k "$w/m.mp4"
check_exit "m4a without --decoder is an error" 2 $PM detect $K "$w/m.m4a"
check "--decoder ffmpeg reads AAC in M4A" detect_ids "$w/m.m4a" 16777215 0 --decoder ffmpeg $K
check "--decoder auto reads a video container" detect_ids "$w/m.mp4" 16777215 0 --decoder auto $K
check "--decoder auto still reads WAV itself" detect_ids "$w/m.wav" 16777215 0 --decoder auto $K
check "--decoder auto: junk is an error line" sh -c "$PM detect --json --decoder auto $K $w/junk.wav | jq -e '.error != null'"
check_exit "--decoder with a bad name refused" 2 $PM detect --decoder vlc $K "$w/m.wav"
# One audio reader for every command: the same decoders and the same file-type policy.
ffmpeg -nostdin -v error -y -i "$w/in.wav" -c:a aac -b:a 192k "$w/in.m4a"
check_exit "embed: m4a without --decoder is an error" 2 $PM embed "$w/in.m4a" "$w/x.wav" --model 1 --dataset 1 $K
$PM embed --decoder auto "$w/in.m4a" "$w/m4a.m.wav" --model 21 --dataset 22 $K --no-verify 2>/dev/null
check "embed --decoder auto reads AAC in M4A" detect_ids "$w/m4a.m.wav" 21 22 $K
ffmpeg -nostdin -v error -y -i "$w/in.wav" -c:a aac -b:a 192k -f adts "$w/in.aac"
cat "$w/in.aac" | $PM embed --decoder ffmpeg - "$w/m4a.pipe.wav" --model 23 --dataset 24 $K --no-verify 2>/dev/null
check "embed --decoder ffmpeg reads an AAC stream on stdin" detect_ids "$w/m4a.pipe.wav" 23 24 $K
check "trace --decoder ffmpeg reads AAC in M4A" sh -c "$PM trace --json --decoder ffmpeg $K $w/m.m4a 2>/dev/null | jq -e '.found and .model_id == 16777215'"
check_exit "trace: m4a without --decoder is an error" 2 $PM trace $K "$w/m.m4a"
mkfifo "$w/fifo.wav"
for cmd in "embed $w/fifo.wav $w/x.wav --model 1 --dataset 1" "detect $w/fifo.wav" "trace $w/fifo.wav"; do
    out=$(timeout 10 $PM $cmd $K 2>&1 >/dev/null)
    check "${cmd%% *}: a FIFO is refused as not a regular file" sh -c "echo '$out' | grep -q 'not a regular file'"
done
$PM dataset init "$w/ds.json" --name d --version 1 --license MIT 2>/dev/null
check_exit "dataset add: a FIFO is refused" 2 timeout 10 $PM dataset add "$w/ds.json" "$w/fifo.wav"
check_exit "dataset add: m4a without --decoder is refused" 2 $PM dataset add "$w/ds.json" "$w/in.m4a"
$PM dataset add --decoder ffmpeg "$w/ds.json" "$w/in.m4a" 2>/dev/null
check "dataset add --decoder ffmpeg records an M4A (duration counted)" jq -e '.items[0].path == "in.m4a" and (.items[0].duration - 20 | fabs) < 0.1' "$w/ds.json"
check "dataset fingerprint --decoder ffmpeg indexes it" $PM dataset fingerprint --decoder ffmpeg "$w/ds.json"
check_exit "dataset fingerprint without --decoder cannot read it" 2 $PM dataset fingerprint "$w/ds.json"
check "no progress line when stderr is not a terminal" sh -c "test -z \"\$($PM detect $K $w/m.wav 2>&1 >/dev/null | grep 'files,')\""

# HTML report: well-formed, self-contained, and the timeline shows where the mark is.
# A 90 s file marked only in its middle third (30-60 s).
ffmpeg -nostdin -v error -y -ss 10 -t 90 -i /usr/share/games/etr/music/freezingpoint.ogg -c:a pcm_s16le "$w/long.wav"
sox "$w/long.wav" "$w/p1.wav" trim 0 30
sox "$w/long.wav" "$w/p2.wav" trim 30 30
sox "$w/long.wav" "$w/p3.wav" trim 60 30
$PM embed "$w/p2.wav" "$w/p2m.wav" --model 31 --dataset 32 $K --no-verify 2>/dev/null
sox "$w/p1.wav" "$w/p2m.wav" "$w/p3.wav" "$w/middle.wav"
$PM detect --json --report "$w/report.html" --registry examples/registry/registry.json $K \
    "$w/middle.wav" "$w/m.wav" "$w/in.wav" "$w/junk.wav" >"$w/report.jsonl" 2>/dev/null
check "report: written" test -s "$w/report.html"
check "report: well-formed (xmllint)" xmllint --noout "$w/report.html"
check "report: self-contained (no external resource: no src, links only within the page, one inline script)" \
    sh -c "! grep -qiE 'src=|href=\"[^#]|url\\(|@import' $w/report.html && [ \$(grep -c '<script>' $w/report.html) = 1 ]"
check "report: summary counts" sh -c "grep -q '<th>files</th><td class=\"n\">4</td>' $w/report.html && grep -q '<th>marked</th><td class=\"n\">2</td>' $w/report.html && grep -q '<th>errors</th><td class=\"n\">1</td>' $w/report.html"
check "middle third: detected with the right IDs" sh -c "head -n 1 $w/report.jsonl | jq -e '.model_id == 31 and .dataset_id == 32'"
check "middle third: segments lie within 24-66 s and cover 36-54 s" sh -c "head -n 1 $w/report.jsonl | jq -e '
    (.segments | length) >= 1 and ([.segments[].start] | min) >= 24 and ([.segments[].end] | max) <= 66 and
    ([.segments[] | select(.start <= 36 and .end >= 54)] | length) == 1'"
check "segments carry a strength score" sh -c "head -n 1 $w/report.jsonl | jq -e '.segments[0].score > 3'"
check "report: the timeline shows the strength" grep -q 'data-score="[0-9.]*"' "$w/report.html"
check "report: the timeline draws the same segment" sh -c "grep -o 'data-start=\"[0-9.]*\" data-end=\"[0-9.]*\"' $w/report.html |
    sed 's/data-start=\"\\([0-9.]*\\)\" data-end=\"\\([0-9.]*\\)\"/[\\1,\\2]/' | jq -se --argjson s \"\$(head -n 1 $w/report.jsonl | jq -c '.segments[0]')\" \\
    'any(.[]; (.[0] - \$s.start | fabs) < 0.006 and (.[1] - \$s.end | fabs) < 0.006)'"

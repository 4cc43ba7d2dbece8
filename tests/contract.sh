#!/bin/sh
# Output contracts (issue 16): every JSON line detect and trace print validates
# against its schema in docs/ (marked, unmarked, error, hostile names); unmarked
# records carry no mark field, error records nothing that reads as a result; the
# demo key is flagged wherever it matched (JSON, text); trace carries detect's
# detection fields. Real music, key tests/data/test.key.
. tests/lib.sh
w=build/test-contract
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
chmod 600 tests/data/test.key
R=examples/registry/registry.json
ffmpeg -nostdin -v error -y -ss 10 -t 12 -i /usr/share/games/etr/music/freezingpoint.ogg -c:a pcm_s16le "$w/in.wav"
$PM embed "$w/in.wav" "$w/m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM embed "$w/in.wav" "$w/u.wav" --model 7 --dataset 5 $K --no-verify 2>/dev/null  # dataset 5: not in the registry
$PM embed "$w/in.wav" "$w/demo.wav" --model 7 --dataset 42 --no-verify 2>/dev/null # the public demo key
head -c 5000 /dev/urandom >"$w/junk.wav"
# A key file that holds the public demo key (written through the Python binding).
demo_key_file "$w/demo.key"
# Hostile names: marked, unmarked and damaged audio under names a shell or a JSON reader trips on.
/usr/bin/python3 - "$w" <<'PY'
import os, shutil, sys
w = sys.argv[1].encode()
os.mkdir(os.path.join(w, b"h"))
for src, name in [(b"m.wav", b"x\nforged.wav: model 1.wav"), (b"in.wav", b"bad\xff\xfeutf8.wav"),
                  (b"junk.wav", b"esc\x1b[31m\"q\".wav"), (b"junk.wav", b"nonutf\xc3(.wav")]:
    shutil.copy(os.path.join(w, src), os.path.join(w, b"h", name))
PY
files="$w/m.wav $w/u.wav $w/demo.wav $w/in.wav $w/junk.wav"
# shellcheck disable=SC2086
$PM detect --json --registry $R $K --key "$w/demo.key" $files >"$w/d.jsonl" 2>/dev/null
$PM detect --json -r --registry $R $K "$w/h" >"$w/h.jsonl" 2>/dev/null
# shellcheck disable=SC2086
$PM detect --json $files >"$w/nokey.jsonl" 2>/dev/null
# shellcheck disable=SC2086
$PM trace --json --registry $R $K --key "$w/demo.key" $files "$w/h"/* >"$w/t.jsonl" 2>/dev/null

check "schema: detect lines (marked, unregistered, demo key, unmarked, error) valid" valid_lines detect "$w/d.jsonl"
check "schema: detect lines of hostile names (results and errors) valid" \
    sh -c ". tests/lib.sh; valid_lines detect $w/h.jsonl && [ \$(wc -l <$w/h.jsonl) = 4 ] && grep -q '\"error\":\"' $w/h.jsonl && grep -q '\"file_bytes\"' $w/h.jsonl"
check "schema: detect lines without --key valid" valid_lines detect "$w/nokey.jsonl"
check "schema: trace lines (with hostile names and errors) valid" \
    sh -c ". tests/lib.sh; valid_lines trace $w/t.jsonl && [ \$(wc -l <$w/t.jsonl) = 9 ]"
jq -c 'select(.error) | .found = false' "$w/d.jsonl" >"$w/bad1.jsonl"
jq -c 'select(.found == false) | .p_false = 1e-9' "$w/d.jsonl" >"$w/bad2.jsonl"
jq -c 'select(.found) | del(.demo_key)' "$w/d.jsonl" >"$w/bad3.jsonl"
for b in 1 2 3; do
    check "schema: strict (hand-broken record $b fails it)" sh -c ". tests/lib.sh; ! valid_lines detect $w/bad$b.jsonl 2>/dev/null"
done

check "json: an error record is {file, error} and nothing else" \
    jq -se '[.[] | select(.error)] | length == 1 and (.[0] | keys) == ["error", "file"]' "$w/d.jsonl"
check "json: an unmarked record has no mark field" \
    jq -se '[.[] | select(.found == false) | keys] == [["channels","duration","elapsed_ms","error","file","found","sample_rate","sha256","size","truncated"]]' "$w/d.jsonl"
check "json: demo_key true where the demo key (in a key file) matched, false elsewhere" \
    jq -se '[.[] | select(.found) | [.dataset_id, .demo_key, ([.marks[].demo_key] | unique)]] == [[42,false,[false]],[5,false,[false]],[42,true,[true]]]' "$w/d.jsonl"
check "json: demo_key true without --key, and its key is the demo key's fingerprint" \
    jq -se '[.[] | select(.found)] | length == 1 and .[0].demo_key == true and (.[0].key | test("^[0-9a-f]{16}$")) and .[0].file == "'"$w"'/demo.wav"' "$w/nokey.jsonl"
check "json: an ID the registry lacks is flagged" \
    jq -se '.[1].unregistered == ["dataset"] and .[1].dataset == null and .[0].unregistered == []' "$w/d.jsonl"
check "trace --json: the same detection fields as detect, file by file" \
    sh -c "test \"\$(head -n 5 $w/t.jsonl | jq -c 'del(.elapsed_ms, .manifest, .dataset_check, .matches)')\" = \"\$(jq -c 'del(.elapsed_ms)' $w/d.jsonl)\""

# shellcheck disable=SC2086
$PM detect --registry $R $K --key "$w/demo.key" $files >"$w/d.txt" 2>/dev/null
# shellcheck disable=SC2086
$PM trace --registry $R $K --key "$w/demo.key" $files >"$w/t.txt" 2>/dev/null
check "text: the demo key's mark says so, the others do not" \
    sh -c "grep -c 'demo key' $w/d.txt | grep -qx 1 && grep 'demo key' $w/d.txt | grep -q '^$w/demo.wav: model 7'"
check "text: trace names the registry entries, flags the unknown ID and the demo key" \
    sh -c "grep -q 'dataset 42 \"licensed-pop' $w/t.txt && grep -q 'dataset 5 \[not in registry\]' $w/t.txt && grep -c 'demo key' $w/t.txt | grep -qx 1"

# Size and SHA-256 of what was scanned, computed while reading (libsndfile) or after ffmpeg.
ffmpeg -nostdin -v error -y -i "$w/m.wav" -c:a aac -b:a 128k "$w/m.m4a"
$PM embed "$w/in.wav" "$w/m.flac" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM detect --json --decoder auto $K "$w/m.wav" "$w/m.flac" "$w/m.m4a" "$w/in.wav" >"$w/sha.jsonl" 2>/dev/null
check "json: size and sha256 are the file's (WAV, FLAC, M4A through ffmpeg, unmarked)" \
    sh -c "[ \"\$(jq -r '\"\\(.sha256)  \\(.file)\"' $w/sha.jsonl)\" = \"\$(sha256sum $w/m.wav $w/m.flac $w/m.m4a $w/in.wav)\" ] &&
           [ \"\$(jq -r .size $w/sha.jsonl | tr '\n' ' ')\" = \"\$(stat -c %s $w/m.wav $w/m.flac $w/m.m4a $w/in.wav | tr '\n' ' ')\" ]"
check "json: no sha256 for a stream on stdin" sh -c "$PM detect --json $K - <$w/m.wav 2>/dev/null | jq -e 'has(\"sha256\") | not'"
check "json: a key given twice is tried once (no phantom second mark)" \
    sh -c "$PM detect --json $K $K $w/m.wav 2>/dev/null | jq -e '(.marks | length) == 1'"

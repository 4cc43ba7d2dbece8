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

# A file that ffmpeg would read as a playlist naming other local files (an ffconcat
# list, an HLS playlist) is refused, whatever its name: read, it would report the
# marked audio it names. The segment and a Matroska file alone still decode.
pl="$w/playlist"
mkdir -p "$pl"
cp "$w/m.wav" "$pl/m.wav"
ffmpeg -nostdin -v error -y -i "$w/m.wav" -c:a aac -f mpegts "$pl/seg.ts"
ffmpeg -nostdin -v error -y -i "$w/m.wav" -c:a flac "$pl/m.mkv"
printf 'ffconcat version 1.0\nfile m.wav\n' >"$pl/list.ffconcat"
printf '#EXTM3U\n#EXT-X-TARGETDURATION:20\n#EXTINF:20,\nseg.ts\n#EXT-X-ENDLIST\n' >"$pl/list.m3u8"
cp "$pl/list.ffconcat" "$pl/concat.wav"
cp "$pl/list.m3u8" "$pl/hls.wav"
for f in list.ffconcat list.m3u8 concat.wav hls.wav; do
    for dec in ffmpeg auto; do
        check_exit "playlist $f ($dec): refused, nothing it names is read" 2 $PM detect $K --decoder $dec "$pl/$f"
    done
    check_exit "playlist $f on stdin (ffmpeg): refused" 2 sh -c "$PM detect $K --decoder ffmpeg - <'$pl/$f'"
done
for f in seg.ts m.mkv; do
    check "$f itself decodes through ffmpeg (auto): model 7" detect_ids "$pl/$f" 7 42 $K --decoder auto
done

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

# --- hostile names: every JSON line parses and names its file losslessly; --resume
# skips every finished file; text output and the report escape control characters.
h="$w/names"
mkdir -p "$h"
/usr/bin/python3 - "$h" "$w/a.wav" "$w/m.wav" <<'PY'
import os, shutil, sys
h, a, m = sys.argv[1].encode(), sys.argv[2], sys.argv[3]
names = [b"x\nforged.wav: model 1, dataset 1 (p_false 1e-12).wav", b'q"uo\'te.wav', b"<script>alert(1)<.script>.wav",
         b"esc\x1b[31mred\x07.wav", b"bad\xff\xfeutf8.wav", b"concat:m.wav", b"-lead.wav", b"back\\slash\\n.wav",
         b"c1\xc2\x9b2J.wav", b"tab\there.wav"]
for i, n in enumerate(names):
    shutil.copy(m if i % 2 else a, os.path.join(h, n))
PY
n=$(/usr/bin/python3 -c 'import os, sys; print(len(os.listdir(sys.argv[1])))' "$h")
$PM detect --json $K -r "$h" >"$w/names.jsonl" 2>/dev/null
/usr/bin/python3 - "$h" "$w/names.jsonl" >"$w/names.check" <<'PY'
import json, os, sys
h, out = os.fsencode(sys.argv[1]), sys.argv[2]
want = sorted(os.path.join(h, n) for n in os.listdir(h))
got, ok = [], True
for line in open(out, "rb"):
    j = json.loads(line)  # raises on a line that is not JSON
    name = bytes.fromhex(j["file_bytes"]) if "file_bytes" in j else j["file"].encode()
    ok = ok and j["error"] is None and "\ufffd" not in j["file"] if "file_bytes" not in j else ok
    got.append(name)
print("ok" if sorted(got) == want and ok else "bad %r" % got)
PY
check "detect --json: every hostile name parses and is lossless" grep -qx ok "$w/names.check"
check "detect --json: the records are valid against the schema" valid_lines detect "$w/names.jsonl"
$PM detect --json $K -r "$h" --resume "$w/names.jsonl" >"$w/again.jsonl" 2>/dev/null
check "--resume skips every hostile name" test ! -s "$w/again.jsonl"
$PM trace --json $K --no-detect --dataset "$M" "$h"/* >"$w/trace.jsonl" 2>/dev/null
check "trace --json: a parsing line per hostile name" \
    sh -c "jq -s 'length' '$w/trace.jsonl' | grep -qx $n && test \$(grep -c . '$w/trace.jsonl') = $n"
check "trace --json: file_bytes for the name that is not UTF-8" \
    sh -c "jq -r 'select(.file_bytes) | .file_bytes' '$w/trace.jsonl' | grep -q 626164fffe"
$PM detect $K -r "$h" --report "$w/r.html" >"$w/names.txt" 2>"$w/names.err"
check "text: one line per file, no forged line" \
    sh -c "test \$(wc -l <'$w/names.txt') = $n && ! grep -q '^forged' '$w/names.txt'"
check "text: no control character reaches the terminal" \
    sh -c "! LC_ALL=C grep -q \"\$(printf '[\\001-\\010\\013-\\037\\177]')\" '$w/names.txt' '$w/names.err'"
check "text: newline, ESC and bytes that are not UTF-8 shown as escapes" \
    sh -c "grep -qF 'x\\nforged.wav' '$w/names.txt' && grep -qF 'esc\\x1b[31mred\\x07.wav' '$w/names.txt' && grep -qF 'bad\\xff\\xfeutf8' '$w/names.txt'"
check "report: well-formed XML with hostile names" /usr/bin/python3 -c "import xml.dom.minidom, sys; xml.dom.minidom.parse(sys.argv[1])" "$w/r.html"
# Registry names reach the terminal escaped too.
printf '{"version": 1, "models": {"7": {"name": "evil\\u001b]0;title\\u0007"}}, "datasets": {"42": {"name": "d\\u001b[2J"}}}\n' >"$w/reg.json"
$PM detect $K --registry "$w/reg.json" "$w/m.wav" >"$w/reg.txt" 2>/dev/null
check "registry names escaped in text" \
    sh -c "grep -qF 'evil\\x1b]0;title\\x07' '$w/reg.txt' && ! LC_ALL=C grep -q \"\$(printf '\\033')\" '$w/reg.txt'"

# Every stderr line that names a file (or quotes an argument, a manifest or a parser)
# escapes it too: one name with a newline, ESC, BEL, bytes that are not UTF-8 and a
# leading '-' (in the folder e/, so that it is not an option), through each command.
e="$w/e"
mkdir -p "$e"
bad=$(printf -- '-x\nprovmark: forged \033[2J\007\377.wav')
cp "$w/a.wav" "$e/$bad.in.wav"
$PM dataset init "$e/$bad.json" --name e --version 1 --license MIT 2>/dev/null
printf '{"version": 1, "models": {"1": \033}}' >"$e/$bad.reg"
# stderr_clean NAME LINES COMMAND...: COMMAND fails with exactly LINES lines on stderr,
# none holding a control character or a byte that is not UTF-8, and the name shown escaped
stderr_clean() {
    name=$1 lines=$2; shift 2
    "$@" >/dev/null 2>"$w/stderr.out" </dev/null
    rc=$?
    check "stderr escapes the name: $name (exit $rc)" /usr/bin/python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8")  # raises on bytes that are not UTF-8
assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) < 0xa0 for c in t), t
assert t.count("\n") == int(sys.argv[2]) and t.endswith("\n"), t
assert "\\x1b[2J" in t or "\\x1b" in t, t
assert sys.argv[3] != "0", "exit 0"
' "$w/stderr.out" "$lines" "$rc"
}
stderr_clean "detect, a missing file" 1 $PM detect $K "$e/$bad"
stderr_clean "detect, a bad option" 1 $PM detect $K "--$bad"
stderr_clean "an unknown command" 1 $PM "$bad"
stderr_clean "detect --key" 1 $PM detect --key "$e/$bad" "$w/m.wav"
stderr_clean "detect --registry, a missing file" 1 $PM detect $K --registry "$e/$bad" "$w/m.wav"
stderr_clean "detect --registry, a JSON error quoting the file" 1 $PM detect $K --registry "$e/$bad.reg" "$w/m.wav"
stderr_clean "detect --from" 1 $PM detect $K --from "$e/$bad"
mkdir -p "$e/$bad.d"
stderr_clean "detect --resume, a folder" 1 $PM detect $K --resume "$e/$bad.d" "$w/m.wav"
stderr_clean "detect --report into a missing folder" 1 $PM detect $K --report "$e/$bad/r.html" "$w/m.wav"
stderr_clean "trace" 1 $PM trace $K "$e/$bad"
stderr_clean "trace --dataset" 1 $PM trace $K --dataset "$e/$bad" "$w/m.wav"
stderr_clean "embed, the input" 1 $PM embed "$e/$bad" "$w/o.wav" --model 1 --dataset 1 $K
stderr_clean "embed, the output" 1 $PM embed "$e/$bad.in.wav" "$e/$bad.xyz" --model 1 --dataset 1 $K
stderr_clean "keygen" 1 $PM keygen "$e/$bad/k"
stderr_clean "dataset init over a manifest" 1 $PM dataset init "$e/$bad.json" --name e --version 1 --license MIT
stderr_clean "dataset add, a missing file" 1 $PM dataset add "$e/$bad.json" "$e/$bad"
stderr_clean "dataset fingerprint, a missing manifest" 1 $PM dataset fingerprint "$e/$bad"
(cd "$e" && "$pm" detect --key ../../../tests/data/test.key -- "$bad" >/dev/null 2>../lead.err)
check "a leading '-' operand after -- is a file name" grep -q '^provmark: -x\\nprovmark: forged' "$w/lead.err"

# --- crafted indexes (checksum recomputed, as anyone can): refused, never a crash
# (this suite also runs on the sanitizer build, where an out-of-bounds read aborts);
# short: items claiming 0 s around their landmarks (the chance model's lengths are the landmarks')
index_copy() { # NAME: a copy of ds.json and its index, named NAME.json / NAME.pmfp
    cp "$w/ds.pmfp" "$w/$1.pmfp"
    jq --arg i "$1.pmfp" '.fingerprints.index = $i' "$M" >"$w/$1.json"
}
for k in wrap late short; do
    index_copy $k
    /usr/bin/python3 tests/pmfp_craft.py "$w/$k.json" $k
    timeout 60 $PM trace --no-detect --dataset "$w/$k.json" "$w/a.wav" >"$w/$k.out" 2>"$w/$k.err"
    rc=$?
    check "crafted index ($k): refused in one line, exit 2, no sanitizer report" \
        sh -c "[ $rc = 2 ] && [ \$(wc -l <'$w/$k.err') = 1 ] && grep -q 'not a usable fingerprint index' '$w/$k.err'"
done

# --- query bounds (docs/SECURITY.md): a 300 000-entry index of one hash against 5
# minutes of clicks, and 30 minutes of clicks against an index of the same 30 minutes,
# each within the 100 MB the documentation states (figures in docs/BENCHMARKS.md).
/usr/bin/python3 - "$w" <<'PY'
import struct, sys, os
def clicks(name, seconds, rate=16000):
    n = seconds * rate
    data = bytearray(2 * n)
    for t in range(0, n, rate // 2):  # a click every 0.5 s
        for k in range(40):
            struct.pack_into("<h", data, 2 * min(t + k, n - 1), 20000 if k % 2 == 0 else -20000)
    hdr = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
           struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" + struct.pack("<I", len(data)))
    open(os.path.join(sys.argv[1], name), "wb").write(hdr + data)
clicks("clicks5m.wav", 300)
clicks("clicks30m.wav", 1800)
PY
P=build/bin/provmark # the figures are those of the optimised build
C="$w/c30.json"
$P dataset init "$C" --name c --version 1 --license MIT 2>/dev/null
$P dataset add "$C" "$w/clicks30m.wav" 2>/dev/null
$P dataset fingerprint "$C" 2>/dev/null
cp "$w/c30.pmfp" "$w/common.pmfp"
jq '.fingerprints.index = "common.pmfp"' "$C" >"$w/common.json"
for kind in pair triplet; do
    /usr/bin/python3 tests/pmfp_craft.py "$w/common.json" common "$w/c30.pmfp" 300000 $kind
    mb=$(build/bin/pmspeed rss sh -c "timeout 60 $P trace --json --no-detect --dataset '$w/common.json' '$w/clicks5m.wav' >'$w/q1.out' 2>/dev/null")
    check "query bound: 300k entries of one $kind hash x 5 min of clicks, peak $mb MB < 100" \
        sh -c "jq -e -s 'length == 1 and .[0].error == null' '$w/q1.out' && awk -v m=$mb 'BEGIN { exit !(m < 100) }'"
done
# The loosest threshold there is (--false-rate 1: every alignment with E <= 1, at the index's
# own size). A click train names no click train (a few distinct hashes, repeated): its own
# alignment has an E-value of about 10^4.7, so nothing is reported, at this rate or the default.
mb=$(build/bin/pmspeed rss sh -c "timeout 60 $P trace --json --no-detect --dataset '$C' --false-rate 1 --catalogue-hours 0 '$w/clicks30m.wav' >'$w/q2.out' 2>/dev/null")
check "query bound: 30 min of clicks x its own index, peak $mb MB < 100, no alignment of E <= 1" \
    sh -c "jq -e -s 'length == 1 and .[0].error == null and .[0].matches == []' '$w/q2.out' && awk -v m=$mb 'BEGIN { exit !(m < 100) }'"
$P trace --json --no-detect --dataset "$C" "$w/clicks30m.wav" >"$w/q3.out" 2>/dev/null
check "query bound: ... and none at the default false-match rate" jq -e -s 'length == 1 and .[0].error == null and .[0].matches == []' "$w/q3.out"

# --- temporary files cannot be planted: the names the review planted (embed's
# OUT.pmtmp<pid>-0..99, the report's OUT.pmtmp<pid>) are made for the very pid that
# then runs (exec keeps the shell's pid); the output is the real one and nothing is
# written through the planted links.
pt="$w/plant"
mkdir -p "$pt"
echo "victim" >"$pt/victim"
cp "$w/a.wav" "$pt/attacker.wav"
sh -c 'i=0; while [ $i -lt 100 ]; do ln -s attacker.wav "$1/o.wav.pmtmp$$-$i"; i=$((i + 1)); done
       exec "$2" embed "$3" "$1/o.wav" --model 5 --dataset 6 --key tests/data/test.key' sh "$pt" "$PM" "$w/a.wav" 2>/dev/null
check "embed with its old temporary names all planted: the output is the marked audio" detect_ids "$pt/o.wav" 5 6 $K
check "embed: the planted files are untouched" sh -c "cmp -s '$pt/attacker.wav' '$w/a.wav' && [ \$(ls '$pt' | grep -c pmtmp) = 100 ]"
sh -c 'ln -s victim "$1/r.html.pmtmp$$"; exec "$2" detect --key tests/data/test.key --report "$1/r.html" "$3"' \
    sh "$pt" "$PM" "$w/m.wav" >/dev/null 2>&1
check "detect --report with its old temporary name planted as a link: nothing written through it" \
    sh -c "[ \$(cat '$pt/victim') = victim ] && grep -q '<html' '$pt/r.html'"

# --- manifest and index writes: concurrent adds both land, modes kept, links followed
c="$w/conc"
mkdir -p "$c/x" "$c/y"
for i in 1 2 3 4 5 6; do
    sox -n -r 8000 -c 1 "$c/x/$i.wav" synth 1 sine $((200 + 50 * i))
    sox -n -r 8000 -c 1 "$c/y/$i.wav" synth 1 sine $((210 + 50 * i))
done
$PM dataset init "$c/m.json" --name c --version 1 --license MIT 2>/dev/null
$PM dataset add "$c/m.json" "$c/x" 2>/dev/null &
$PM dataset add "$c/m.json" "$c/y" 2>/dev/null
wait
check "two concurrent dataset adds: 12 items" sh -c "jq -e '.items | length == 12' '$c/m.json'"
chmod 600 "$c/m.json"
$PM dataset fingerprint "$c/m.json" 2>/dev/null
chmod 600 "$c/m.pmfp"
$PM dataset fingerprint "$c/m.json" 2>/dev/null
check "a 0600 manifest and index stay 0600" sh -c "[ \$(stat -c %a '$c/m.json') = 600 ] && [ \$(stat -c %a '$c/m.pmfp') = 600 ]"
mkdir -p "$c/real"
$PM dataset init "$c/real/t.json" --name t --version 1 --license MIT 2>/dev/null
ln -s real/t.json "$c/link.json"
$PM dataset add "$c/link.json" "$c/real/../x/1.wav" 2>/dev/null
check "a symlinked manifest: its target is updated, the link stays" \
    sh -c "[ -L '$c/link.json' ] && jq -e '.items == [.items[0]] and .items[0].path == \"../x/1.wav\"' '$c/real/t.json'"
check "no temporary file left beside the manifests" sh -c "! ls '$c' '$c/real' | grep -q pmtmp"

# --- the rest: strict decimal IDs, --resume after a truncated line, empty inputs
for id in ' 7' '+7' '-0' '07' '7 '; do
    jq -n --arg id "$id" '{version: 1, models: {($id): {name: "m"}}, datasets: {}}' >"$w/regid.json"
    check_exit "registry ID '$id' refused" 2 $PM detect $K --registry "$w/regid.json" "$w/m.wav"
    check_exit "--model '$id' refused" 2 $PM embed "$w/a.wav" "$w/id.wav" --model "$id" --dataset 1 $K --no-verify
done
$PM detect --json $K "$w/m.wav" >"$w/scan.jsonl" 2>/dev/null
printf '{"file":"%s","found":tr' "$w/a.wav" >>"$w/scan.jsonl" # a run killed mid-line
$PM detect --json $K --resume "$w/scan.jsonl" "$w/m.wav" "$w/a.wav" >>"$w/scan.jsonl" 2>/dev/null
check "--resume >> the same file after a truncated line: the new record on a line of its own" \
    sh -c "[ \$(wc -l <'$w/scan.jsonl') = 3 ] && tail -n 1 '$w/scan.jsonl' | jq -e '.found == false and .error == null'"
mkdir -p "$w/emptydir"
: >"$w/empty.list"
check_exit "an empty --from list: exit 2, as an empty folder" 2 $PM detect $K --from "$w/empty.list"
check_exit "an empty folder: exit 2" 2 $PM detect $K -r "$w/emptydir"
check_exit "--resume leaving nothing to scan: exit 0" 0 $PM detect $K --resume "$w/scan.jsonl" "$w/m.wav"

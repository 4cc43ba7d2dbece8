#!/bin/sh
# The terminal behaviour of a Unix tool (issue 16): the progress line only on a
# terminal and cleared before any other line (a pty from script -qc), each error once,
# libmpg123's chatter captured, messages that say what to do, skipped files named
# with --verbose, --include adding to the defaults, help and version, key errors that
# say which, key fingerprints, trace exit codes as detect's.
. tests/lib.sh
w=build/test-terminal
rm -rf "$w"
mkdir -p "$w/d/sub"
K="--key $PWD/tests/data/test.key"
chmod 600 tests/data/test.key
pm=$(cd "$(dirname "$PM")" && pwd)/$(basename "$PM")
ffmpeg -nostdin -v error -y -ss 20 -t 12 -i /usr/share/games/etr/music/race1-jt.ogg -c:a pcm_s16le "$w/in.wav"
$PM embed "$w/in.wav" "$w/m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
head -c 5000 /dev/urandom >"$w/junk.wav"
ffmpeg -nostdin -v error -y -i "$w/m.wav" -b:a 128k "$w/m.mp3"
ffmpeg -nostdin -v error -y -i "$w/m.wav" -c:a aac -b:a 128k "$w/m.m4a"
# An MP3 with a byte changed every kilobyte: libmpg123 complains on stderr, frame after frame.
/usr/bin/python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(2000, len(d), 997):
    d[i] ^= 0x5a
open(sys.argv[2], "wb").write(d)' "$w/m.mp3" "$w/corrupt.mp3"

# --- the progress line: on a terminal only, cleared before each result and at the end
script -qc "cd $w && $pm detect $K m.wav junk.wav in.wav m.wav" /dev/null >"$w/tty.raw" 2>&1
/usr/bin/python3 - "$w/tty.raw" >"$w/tty.check" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# What the terminal shows: each line as left by carriage returns and "erase to end of line".
screen = []
for line in raw.replace("\r\n", "\n").split("\n"):
    shown, col = "", 0
    for part in re.split(r"(\r|\x1b\[K)", line):
        if part == "\r":
            col = 0
        elif part == "\x1b[K":
            shown = shown[:col]
        else:
            shown = shown[:col] + part + shown[col + len(part):]
            col += len(part)
    screen.append(shown)
lines = [l for l in screen if l.strip()]
want = ["m.wav: model 7, dataset 42", "junk.wav: error:", "in.wav: no mark", "m.wav: model 7, dataset 42"]
ok = "h of audio" in raw and len(lines) == 4 and all(l.startswith(p) for l, p in zip(lines, want)) and not any("h of audio" in l for l in lines)
print("ok" if ok else "bad %r" % lines)
PY
check "progress line: shown on a terminal, cleared before every result and at the end" grep -qx ok "$w/tty.check"
check "progress line: never when stderr is not a terminal" sh -c "! $PM detect $K $w/m.wav $w/in.wav 2>&1 >/dev/null | grep -q 'files, '"

# --- each error once on a terminal; on stderr too when the output goes elsewhere
check "detect: an error is printed once on a terminal" sh -c "[ \$(grep -c 'junk.wav' $w/tty.raw) = 1 ]"
script -qc "cd $w && $pm trace $K junk.wav" /dev/null >"$w/trace.raw" 2>&1
check "trace: an error is printed once on a terminal" sh -c "[ \$(grep -c 'junk.wav' $w/trace.raw) = 1 ]"
$PM detect $K "$w/junk.wav" >"$w/junk.out" 2>"$w/junk.err"
check "detect: stdout to a file: the error in the file's line and on stderr" \
    sh -c "grep -q 'junk.wav: error:' $w/junk.out && grep -q '^provmark: .*junk.wav: ' $w/junk.err"

# --- third-party chatter captured, one line of ours instead
$PM detect $K "$w/corrupt.mp3" >"$w/corrupt.out" 2>"$w/corrupt.err"
check "libmpg123's notes do not reach stderr" sh -c "! grep -q -e 'libmpg123/' -e '^Note:' -e '^Warning:' $w/corrupt.err"
# (besides the reader's own warning that the damaged file holds less than its header states)
check "... one line of ours says what they were about" sh -c "[ \$(grep -vc '^provmark: warning: .*truncated' $w/corrupt.err) = 1 ] && grep -q 'MP3 decoder (libmpg123) reported damaged' $w/corrupt.err"
check "... and the damaged MP3's mark is still read" grep -q 'corrupt.mp3: model 7, dataset 42' "$w/corrupt.out"

# --- messages that say what is wrong and what to do
check "m4a without --decoder: MPEG-4 audio, add --decoder auto" \
    sh -c "$PM detect --json $K $w/m.m4a | jq -e '.error | test(\"MPEG-4 audio.*add --decoder auto\")'"
: >"$w/empty.wav"
check "an empty file is called empty" sh -c "$PM detect --json $K $w/empty.wav | jq -e '.error | test(\"empty\")'"
check "a registry that is not JSON: no ':-1:' of the JSON library" \
    sh -c "$PM detect --registry $w/empty.wav $K $w/m.wav 2>&1 >/dev/null | grep -q 'registry\|empty.wav' && ! $PM detect --registry $w/empty.wav $K $w/m.wav 2>&1 | grep -q ':-1:'"

# --- -r: --verbose names what it passes over; --include adds to the usual names, --only replaces them
cp "$w/m.wav" "$w/d/a.wav"
cp "$w/m.m4a" "$w/d/sub/b.m4a"
echo notes >"$w/d/notes.txt"
$PM detect -r --json $K "$w/d" >/dev/null 2>"$w/quiet.err"
check "-r: files passed over are not named without --verbose" test ! -s "$w/quiet.err"
$PM detect -r --verbose --json $K "$w/d" >/dev/null 2>"$w/verbose.err"
check "-r --verbose: each file passed over named, with why" \
    sh -c "grep -q 'skipped .*notes.txt: not an audio file name (add --include GLOB)' $w/verbose.err && grep -q 'skipped .*b.m4a' $w/verbose.err"
check "--include adds to the usual names" \
    sh -c "[ \"\$($PM detect -r --json --decoder auto --include '*.m4a' $K $w/d | jq -r .file | xargs -n1 basename | tr '\n' ' ')\" = 'a.wav b.m4a ' ]"
check "--only replaces them" \
    sh -c "[ \"\$($PM detect -r --json --decoder auto --only '*.m4a' $K $w/d | jq -r .file | xargs -n1 basename)\" = b.m4a ]"

# --- help and version
for c in detect trace report keygen embed; do
    check "'provmark help $c' = '$c --help'" sh -c "[ \"\$($PM help $c)\" = \"\$($PM $c --help)\" ]"
done
check "-V = --version" sh -c "[ \"\$($PM -V)\" = \"\$($PM --version)\" ] && $PM -V | grep -q '^provmark [0-9]'"
check_exit "help for an unknown command: exit 2" 2 $PM help frobnicate

# --- key errors say which, and what to do; fingerprints
$PM detect --key "$w/none.key" "$w/m.wav" 2>"$w/key1.err"
check "key missing: says so and suggests provmark keygen" grep -q 'missing.*provmark keygen' "$w/key1.err"
$PM detect --key "$w/m.wav" "$w/m.wav" 2>"$w/key2.err"
check "key malformed: says so and suggests provmark keygen" grep -q 'malformed.*provmark keygen' "$w/key2.err"
cp tests/data/test.key "$w/locked.key"
chmod 000 "$w/locked.key"
chmod 755 "$w"
if command -v setpriv >/dev/null; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$pm" detect --key "$w/locked.key" "$w/m.wav" 2>"$w/key3.err"
    check "key unreadable (permissions): says so" grep -q 'unreadable (permission denied' "$w/key3.err"
fi
check "keygen --show prints the fingerprint detect reports" \
    sh -c "[ \"\$($PM keygen --show tests/data/test.key)\" = \"\$($PM detect --json $K $w/m.wav | jq -r .key)\" ]"
demo_key_file "$w/demo.key"
check "keygen --show flags the demo key" sh -c "$PM keygen --show $w/demo.key 2>/dev/null | grep -q 'public demo key'"
$PM keygen "$w/nofolder/new.key" 2>"$w/keygen.err"
check "keygen into a missing folder: the reason, no raw library text" \
    sh -c "grep -q 'No such file or directory (does its folder exist?)' $w/keygen.err && ! grep -qi 'input/output' $w/keygen.err"

# --- trace's exit status is detect's
check_exit "trace: marked file exits 0" 0 $PM trace $K "$w/m.wav"
check_exit "trace: unmarked file exits 1" 1 $PM trace $K "$w/in.wav"
check_exit "trace: unreadable file exits 2" 2 $PM trace $K "$w/junk.wav" "$w/m.wav"

# A warning during a scan (a truncated file) starts its own line: the status line is
# cleared first, not continued.
mkdir -p "$w/tr"
cp "$w/m.wav" "$w/tr/a.wav"
head -c 100000 "$w/m.wav" >"$w/tr/b.wav"
script -qc "cd $w && $pm detect -r $K tr" /dev/null >"$w/tr.raw" 2>&1
check "a warning during a scan starts its own line, not the status line's end" sh -c "
    grep -q 'provmark: warning: tr/b.wav: truncated: the header states [0-9]* bytes, the file holds [0-9]*; the result covers' $w/tr.raw &&
    ! grep -q 'ETA [0-9:]* provmark: warning' $w/tr.raw"

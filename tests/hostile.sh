#!/bin/sh
# Hostile files: headers claiming absurd rates, channel counts or lengths, zero frames,
# truncated headers and data, huge metadata. Each must give a clear error (or a clean
# "no mark" when the audio is merely odd) within bounded time and memory, for detect,
# trace and dataset add.
. tests/lib.sh
w=build/test-hostile
rm -rf "$w"
mkdir -p "$w"
# wav NAME RATE CHANNELS BITS DATA_BYTES_CLAIMED DATA_BYTES_WRITTEN [EXTRA_CHUNK_CLAIM]
/usr/bin/python3 - "$w" <<'PY'
import struct, sys, os
w = sys.argv[1]
def wav(name, rate, ch, bits, claim, write, extra=None):
    align = max(1, ch * bits // 8)
    fmt = struct.pack("<HHIIHH", 1, ch, rate, (rate * align) & 0xffffffff, align & 0xffff, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    if extra is not None:  # a LIST chunk claiming `extra` bytes, with 16 present
        body += b"LIST" + struct.pack("<I", extra) + b"INFOISFT" + struct.pack("<I", 4) + b"abcd"
    body += b"data" + struct.pack("<I", claim) + bytes((i * 37) & 0xff for i in range(write))
    open(os.path.join(w, name), "wb").write(b"RIFF" + struct.pack("<I", (len(body)) & 0xffffffff) + body)
wav("rate1.wav", 1, 2, 16, 4000, 4000)
wav("rate4g.wav", 4000000000, 2, 16, 4000, 4000)
wav("rate2g.wav", 2147483647, 1, 16, 1000, 1000)  # 1 KB claiming 2 147 483 647 Hz
wav("ch1000.wav", 44100, 1000, 16, 8000, 8000)
wav("ch0.wav", 44100, 0, 16, 4000, 4000)
wav("bits7.wav", 44100, 2, 7, 4000, 4000)
wav("claims4g.wav", 44100, 2, 16, 0xfffffff0, 44100 * 4)
wav("zero.wav", 44100, 2, 16, 0, 0)
wav("hugemeta.wav", 44100, 2, 16, 44100 * 4, 44100 * 4, extra=0x7ffffff0)
open(os.path.join(w, "trunc_header.wav"), "wb").write(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00")
open(os.path.join(w, "empty.wav"), "wb").write(b"")
open(os.path.join(w, "randomf.flac"), "wb").write(b"fLaC" + bytes((i * 7919) & 0xff for i in range(20000)))
open(os.path.join(w, "randomo.ogg"), "wb").write(b"OggS" + bytes((i * 104729) & 0xff for i in range(20000)))
PY
M="$w/m.json"
$PM dataset init "$M" --name h --version 1 --license MIT 2>/dev/null
sox -n -r 8000 -c 1 "$w/ok.wav" synth 2 sine 440
$PM dataset add "$M" "$w/ok.wav" 2>/dev/null
$PM dataset fingerprint "$M" 2>/dev/null
for f in rate1 rate4g rate2g ch1000 ch0 bits7 claims4g zero hugemeta trunc_header empty randomf randomo; do
    file=
    for ext in wav flac ogg; do [ -z "$file" ] && [ -e "$w/$f.$ext" ] && file="$w/$f.$ext"; done
    for cmd in detect trace add; do
        case $cmd in
        detect) set -- detect --json "$file" ;;
        trace) set -- trace --json --no-detect --dataset "$M" "$file" ;;
        add) cp "$M" "$w/m2.json"; set -- dataset add "$w/m2.json" "$file" ;;
        esac
        out=$(build/bin/pmspeed rss sh -c "timeout 20 $PM $* >$w/out 2>$w/err; echo \$? >$w/rc")
        rc=$(cat "$w/rc")
        lines=$(grep -v -e warning -e ' added, ' -e 'out of date' "$w/err" | wc -l) # add's notes are not errors
        # Clean refusal: exit 2 with one line; or exit 0/1 with a JSON error / no mark.
        ok=0
        [ "$rc" = 2 ] && [ "$lines" -le 1 ] && ok=1
        [ "$rc" -le 1 ] && [ "$lines" = 0 ] && ok=1
        check "hostile $f ($cmd): clear answer, exit $rc, within 20 s, peak $out MB" \
            sh -c "[ $ok = 1 ] && awk -v m=$out 'BEGIN { exit !(m < 25) }'"
    done
done

# Truncated files (issue 15, repro 10): real music in every format the reader takes,
# cut to a third with head -c. The result covers what is there and says the file is
# truncated (JSON "truncated", one warning line on stderr); the whole file says nothing.
t="$w/trunc"
mkdir -p "$t"
src=/usr/share/games/xmoto/Textures/Musics/speeditup.ogg
ffmpeg -nostdin -v error -y -ss 10 -t 30 -i "$src" -c:a pcm_s16le "$t/a.wav"
chmod 600 tests/data/test.key
K="--key tests/data/test.key"
$PM embed "$t/a.wav" "$t/full.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
for e in flac ogg opus mp3 aiff au m4a; do
    case $e in
    ogg) c="-c:a libvorbis -q:a 6" ;; opus) c="-c:a libopus -b:a 128k" ;; mp3) c="-c:a libmp3lame -b:a 192k" ;;
    m4a) c="-c:a aac -b:a 192k -movflags +faststart" ;; *) c= ;;
    esac
    ffmpeg -nostdin -v error -y -i "$t/full.wav" $c "$t/full.$e"
done
ffmpeg -nostdin -v error -y -i "$t/full.wav" -c:a libmp3lame -b:a 192k -write_xing 0 "$t/fullnox.mp3"
for f in "$t"/full*; do
    size=$(stat -c %s "$f")
    head -c $((size / 3)) "$f" >"$t/cut${f#$t/full}"
done
for e in wav flac ogg opus mp3 aiff au m4a; do
    dec=sndfile
    [ $e = m4a ] && dec=auto # AAC: through ffmpeg
    $PM detect --json $K --decoder $dec "$t/full.$e" >"$t/full.out" 2>/dev/null
    check "whole $e: not truncated, marked" jq -e '.truncated == null and .error == null and .model_id == 7' "$t/full.out"
    timeout 60 $PM detect --json $K --decoder $dec "$t/cut.$e" >"$t/cut.out" 2>/dev/null
    check "cut $e: detect --json says truncated, covers what is there (under 15 s)" \
        jq -e '.truncated != null and .error == null and .duration > 5 and .duration < 15' "$t/cut.out"
    timeout 60 $PM detect $K --decoder $dec "$t/cut.$e" >/dev/null 2>"$t/cut.err"
    # (libmpg123 inside libsndfile may add its own note, which provmark rephrases in one line)
    check "cut $e: one warning line naming the file" \
        sh -c "[ \$(grep -c '^provmark: warning:' '$t/cut.err') = 1 ] && [ \$(grep -vc -e '^provmark: note: the MP3 decoder' -e '^provmark: warning:' '$t/cut.err') = 0 ] &&
               grep -q '^provmark: warning: $t/cut.$e: truncated: ' '$t/cut.err'"
    timeout 60 $PM trace --json $K --no-detect --dataset "$M" --decoder $dec "$t/cut.$e" >"$t/trace.out" 2>"$t/trace.err"
    check "cut $e: trace --json says truncated, and a warning line" \
        sh -c "jq -e '.truncated != null' '$t/trace.out' && grep -q 'warning: .*truncated' '$t/trace.err'"
done
check "cut records valid against the schema" valid_lines detect "$t/cut.out"
# An MP3 without a length header states only an estimate: the whole file is not truncated.
check "whole MP3 without a Xing header: not truncated" \
    sh -c "$PM detect --json $K '$t/fullnox.mp3' 2>/dev/null | jq -e '.truncated == null'"
# Through stdin: a pipe (the header's length against what arrives), a streamed WAV of
# unknown length (0xFFFFFFFF sizes) is whole, and stdin redirected from a cut file.
check "cut WAV through a pipe: truncated" \
    sh -c "cat '$t/cut.wav' | $PM detect --json $K - 2>/dev/null | jq -e '.truncated != null'"
# (libsndfile cannot open a cut FLAC on a pipe: an error, never a clean result)
check "cut FLAC through a pipe: truncated or an error" \
    sh -c "cat '$t/cut.flac' | $PM detect --json $K - 2>/dev/null | jq -e '.truncated != null or .error != null'"
check "streamed WAV of unknown length: not truncated" \
    sh -c "ffmpeg -nostdin -v error -i '$t/full.wav' -f wav - | $PM detect --json $K - 2>/dev/null | jq -e '.truncated == null and .model_id == 7'"
check "cut WAV as redirected stdin: truncated" \
    sh -c "$PM detect --json $K - <'$t/cut.wav' 2>/dev/null | jq -e '.truncated != null'"
# The review's repro: a WAV whose header claims 30 s holding 0.17 s.
/usr/bin/python3 - "$t/short.wav" "$t/a.wav" <<'PY'
import struct, sys
data = open(sys.argv[2], "rb").read()[44:44 + int(0.17 * 44100) * 4]
fmt = struct.pack("<HHIIHH", 1, 2, 44100, 44100 * 4, 4, 16)
claim = 30 * 44100 * 4
open(sys.argv[1], "wb").write(b"RIFF" + struct.pack("<I", 36 + claim) + b"WAVEfmt " + struct.pack("<I", 16) + fmt +
                              b"data" + struct.pack("<I", claim) + data)
PY
check "WAV claiming 30 s holding 0.17 s: truncated, not a clean 'no mark'" \
    sh -c "$PM detect --json $K '$t/short.wav' 2>/dev/null | jq -e '.truncated != null and .duration < 0.2'"
head -c 44 "$t/full.wav" >"$t/header.wav"
check_exit "a header and no audio: an error (exit 2)" 2 $PM detect $K "$t/header.wav"
check "a header and no audio: the error says truncated" \
    sh -c "$PM detect --json $K '$t/header.wav' 2>/dev/null | jq -e '.error | test(\"no audio in file \\\\(truncated: \")'"
# dataset add (the header's length, its last frame checked; an MP3 read), dataset
# fingerprint and embed warn too.
cp "$M" "$w/m3.json"
$PM dataset add "$w/m3.json" "$t/cut.wav" "$t/cut.flac" "$t/cut.ogg" "$t/cut.opus" "$t/cut.mp3" "$t/cut.aiff" \
    "$t/cut.au" "$t/full.flac" "$t/full.mp3" 2>"$t/add.err" >/dev/null
check "dataset add: a warning for each of the 7 cut files, none for the whole ones" \
    sh -c "[ \$(grep -c 'warning: .*/cut\.[a-z0-9]*: truncated' '$t/add.err') = 7 ] && ! grep -q 'full.*truncated' '$t/add.err'"
check "dataset add: the cut FLAC's and MP3's durations are what is there" \
    jq -e '[.items[] | select(.path | test("cut.(flac|mp3)")) | .duration < 15] == [true, true]' "$w/m3.json"
$PM dataset fingerprint "$w/m3.json" >/dev/null 2>"$t/fp.err"
check "dataset fingerprint: a warning for each cut file" sh -c "[ \$(grep -c 'cut.*truncated' '$t/fp.err') = 7 ]"
$PM embed "$t/cut.flac" "$t/re.wav" --model 1 --dataset 2 $K >/dev/null 2>"$t/embed.err"
check "embed of a cut FLAC: warns, writes what is there" \
    sh -c "grep -q 'cut.flac: truncated: .*the output holds' '$t/embed.err' && [ \$(soxi -D '$t/re.wav' | cut -d. -f1) -lt 15 ]"

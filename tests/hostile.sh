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

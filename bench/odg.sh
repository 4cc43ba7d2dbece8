#!/bin/sh
# PEAQ Objective Difference Grade (ITU-R BS.1387, basic model) of TEST against REF, from an
# independent implementation when one is installed: $PEAQ_ODG (a command taking REF TEST and
# printing "ODG <grade> ..."), else GstPEAQ's `peaq` on the PATH (fed 48 kHz, as PEAQ is
# defined). Prints the grade, or "-" when no PEAQ tool is installed (exit 3).
# usage: bench/odg.sh REF TEST
set -eu
ref=$1 test=$2
if [ -n "${PEAQ_ODG:-}" ]; then
    $PEAQ_ODG "$ref" "$test" | awk '$1 == "ODG" { print $2; f = 1 } END { exit !f }'
    exit
fi
if ! command -v peaq >/dev/null 2>&1; then
    echo -
    exit 3
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
ffmpeg -nostdin -v error -y -i "$ref" -ar 48000 -c:a pcm_s16le "$t/r.wav"
ffmpeg -nostdin -v error -y -i "$test" -ar 48000 -c:a pcm_s16le "$t/t.wav"
peaq "$t/r.wav" "$t/t.wav" 2>/dev/null | sed -n 's/^Objective Difference Grade: *//p'

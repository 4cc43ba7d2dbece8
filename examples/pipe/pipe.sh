#!/bin/sh
# provmark between two processes: WAV streams through `provmark embed - -`.
# usage: pipe.sh IN OUTDIR [MODEL_ID DATASET_ID]   (PROVMARK_KEY=FILE: the key; default: demo key)
#  1. decoder | provmark | encoder: ffmpeg decodes IN, provmark marks the stream, ffmpeg
#     encodes MP3; no temporary file, sample-aligned, any length.
#  2. a back end without a C binding (backend.py, standard library only) streams WAV of
#     unknown length into provmark, which writes FLAC.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 IN OUTDIR [MODEL_ID DATASET_ID]" >&2; exit 2; }
in=$1 outdir=$2 model=${3:-7} dataset=${4:-42}
here=$(cd "$(dirname "$0")" && pwd)
PM=${PM:-$here/../../build/bin/provmark}
command -v "$PM" >/dev/null 2>&1 || PM=provmark
key=""
[ -n "${PROVMARK_KEY:-}" ] && key="--key $PROVMARK_KEY"
mkdir -p "$outdir"
name=$(basename "${in%.*}")

# 1. Each stage fails the pipeline if it fails (checked through the status files).
st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
{ ffmpeg -nostdin -v error -i "$in" -f wav - || echo decode >>"$st/fail"; } |
    { $PM embed - - --model "$model" --dataset "$dataset" $key || echo mark >>"$st/fail"; } |
    { ffmpeg -nostdin -v error -y -f wav -i - -c:a libmp3lame -b:a 128k -f mp3 "$outdir/.$name.mp3.part" ||
        echo encode >>"$st/fail"; }
if [ -e "$st/fail" ]; then
    rm -f "$outdir/.$name.mp3.part"
    echo "$0: pipeline failed at: $(tr "\n" " " <"$st/fail")" >&2
    exit 1
fi
mv "$outdir/.$name.mp3.part" "$outdir/$name.mp3"
echo "$outdir/$name.mp3"

# 2. A back end's WAV stream into provmark (which writes the FLAC atomically itself).
python3 "$here/backend.py" 12 | $PM embed - "$outdir/backend.flac" --model "$model" --dataset "$dataset" $key
echo "$outdir/backend.flac"

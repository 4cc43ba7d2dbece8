#!/bin/sh
# Mark while encoding: ffmpeg's lv2 filter runs the provmark plugin between the
# decoder and the MP3 / Opus encoders, in one pass, as a generation back end that
# already calls ffmpeg would.
# usage: mark-and-encode.sh IN OUTDIR [MODEL_ID DATASET_ID]
#   PROVMARK_KEY=FILE  key file for the plugin (default: the public demo key)
#   LV2_PATH           where the plugin is (default: this tree's build/lv2, then the system's)
set -eu
[ $# -ge 2 ] || { echo "usage: $0 IN OUTDIR [MODEL_ID DATASET_ID]" >&2; exit 2; }
in=$1 outdir=$2 model=${3:-7} dataset=${4:-42}
root=$(cd "$(dirname "$0")/../.." && pwd)
export LV2_PATH="${LV2_PATH:-$root/build/lv2:$HOME/.lv2:/usr/local/lib/lv2:/usr/lib/lv2}"
[ -r "$in" ] || { echo "$0: cannot read $in" >&2; exit 2; }
mkdir -p "$outdir"
name=$(basename "${in%.*}")
# The URI's colons are escaped twice: once for the filter graph, once for the option parser.
filter="lv2=p=urn\\\\:provmark\\\\:stereo:c=model_id=$model|dataset_id=$dataset"
encode() { # EXT CODEC-ARGS... : write to a temporary name, rename only on success
    ext=$1; shift
    tmp="$outdir/.$name.$ext.part"
    if ffmpeg -nostdin -v error -y -i "$in" -ac 2 -af "$filter" "$@" -f "$ext" "$tmp"; then
        mv "$tmp" "$outdir/$name.$ext"
        echo "$outdir/$name.$ext"
    else
        rm -f "$tmp"
        echo "$0: encoding $name.$ext failed" >&2
        return 1
    fi
}
encode mp3 -c:a libmp3lame -b:a 128k
encode opus -c:a libopus -b:a 64k

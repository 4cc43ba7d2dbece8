#!/bin/sh
# One track of the benchmark: embed (at $BENCH_STRENGTH, default 1), measure quality (PEAQ ODG
# when a PEAQ tool is installed: bench/odg.sh), speed (unless BENCH_SPEED=0), run every attack, detect
# blind and, when $BENCH_REGISTRY names a registry, again with it (weak marks of its pairs recognised).
# usage: bench/track.sh CORPUS_WAV INDEX OUTDIR   -> OUTDIR/NAME.tsv, OUTDIR/NAME.quality
set -eu
src=$1 i=$2 out=$3
name=$(basename "$src" .wav)
PM=build/bin/provmark
K="--key tests/data/test.key"
m=$((100 + i)) d=$((5000 + i))
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
$PM embed "$src" "$w/m.wav" --model $m --dataset $d $K --strength "${BENCH_STRENGTH:-1}" --no-verify 2>/dev/null
q=$(build/bin/pmstat compare "$src" "$w/m.wav")
odg=$(bench/odg.sh "$src" "$w/m.wav" || true)
sp="embed_x - detect_x -"
[ "${BENCH_SPEED:-1}" = 0 ] || sp=$(build/bin/pmspeed "$w/m.wav" 3)
echo "$name $q odg ${odg:--} $sp" >"$out/$name.quality"
: >"$out/$name.tsv"
for a in $BENCH_ATTACKS; do
    if ! bench/attack.sh "$a" "$w/m.wav" "$w/x.wav" 2>/dev/null; then
        echo "$name $a error - -" >>"$out/$name.tsv"
        continue
    fi
    r=$($PM detect --json $K "$w/x.wav" 2>/dev/null || true)
    g=null
    [ -z "${BENCH_REGISTRY:-}" ] || g=$($PM detect --json $K --registry "$BENCH_REGISTRY" "$w/x.wav" 2>/dev/null || true)
    printf '%s\n%s\n' "$r" "$g" | jq -r -s --arg n "$name" --arg a "$a" --argjson m $m --argjson d $d '
        def right: .model_id == $m and .dataset_id == $d;
        def blind: if .found then (if right then "exact" else "wrong" end) else "miss" end;
        def registry: if . == null then "-" elif .found | not then "miss" elif all(.marks[]; right) | not then "wrong"
            elif .recognised then "recognised" else "exact" end;
        [$n, $a, (.[0] | blind), .[0].sync_z, (.[1] | registry)] | @tsv' \
        >>"$out/$name.tsv"
done
r=$($PM detect --json $K "$src" 2>/dev/null || true)
g=null
[ -z "${BENCH_REGISTRY:-}" ] || g=$($PM detect --json $K --registry "$BENCH_REGISTRY" "$src" 2>/dev/null || true)
printf '%s\n%s\n' "$r" "$g" | jq -r -s --arg n "$name" '
    def clean: if . == null then "-" elif .found then "false_positive" else "clean" end;
    [$n, "unmarked", (.[0] | clean), .[0].sync_z, (.[1] | clean)] | @tsv' >>"$out/$name.tsv"

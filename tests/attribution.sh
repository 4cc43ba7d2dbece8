#!/bin/sh
# Wrong attribution must not happen: collusion (averaging two copies marked with
# different IDs), splicing them, re-marking a marked file with other IDs, and the wrong
# key must each give the true IDs of one copy or "no mark", never a third pair. Real
# music from the corpus (5 tracks x 30 s), key tests/data/test.key.
. tests/lib.sh
w=build/test-attribution
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
scripts/corpus.sh build/corpus >/dev/null
$PM keygen "$w/other.key" 2>/dev/null
# verdict FILE ALLOWED... : the report is "none" or one of the allowed "model/dataset" pairs
verdict() {
    f=$1; shift
    got=$($PM detect --json $K "$f" 2>/dev/null | jq -r 'if .found then "\(.model_id)/\(.dataset_id)" else "none" end')
    for ok in none "$@"; do [ "$got" = "$ok" ] && { echo "$got"; return 0; }; done
    echo "WRONG $got"
    return 1
}
: >"$w/verdicts"
i=0
for t in etr_credits fb_main1p xm_batcave xm_menu etr_spunky; do
    i=$((i + 1))
    sox "build/corpus/$t.wav" "$w/$t.wav" trim 10 30
    a="$((10 * i + 1))/$((10 * i + 2))" b="$((10 * i + 3))/$((10 * i + 4))" c="$((10 * i + 5))/$((10 * i + 6))"
    $PM embed "$w/$t.wav" "$w/$t.A.wav" --model "${a%/*}" --dataset "${a#*/}" $K --no-verify 2>/dev/null
    $PM embed "$w/$t.wav" "$w/$t.B.wav" --model "${b%/*}" --dataset "${b#*/}" $K --no-verify 2>/dev/null
    # Collusion: the mean of the two copies, and a 70/30 mix.
    sox -m -v 0.5 "$w/$t.A.wav" -v 0.5 "$w/$t.B.wav" "$w/$t.avg.wav"
    sox -m -v 0.7 "$w/$t.A.wav" -v 0.3 "$w/$t.B.wav" "$w/$t.mix73.wav"
    # Splice: first half of one copy, second half of the other.
    sox "$w/$t.A.wav" "$w/$t.h1.wav" trim 0 15
    sox "$w/$t.B.wav" "$w/$t.h2.wav" trim 15
    sox "$w/$t.h1.wav" "$w/$t.h2.wav" "$w/$t.splice.wav"
    # Re-marking a marked copy with other IDs.
    $PM embed "$w/$t.A.wav" "$w/$t.remark.wav" --model "${c%/*}" --dataset "${c#*/}" $K --no-verify 2>/dev/null
    {
        echo "$t avg $(verdict "$w/$t.avg.wav" "$a" "$b")"
        echo "$t mix73 $(verdict "$w/$t.mix73.wav" "$a" "$b")"
        echo "$t splice $(verdict "$w/$t.splice.wav" "$a" "$b")"
        echo "$t remark $(verdict "$w/$t.remark.wav" "$a" "$c")"
        echo "$t wrongkey $($PM detect --json --key "$w/other.key" "$w/$t.A.wav" 2>/dev/null | jq -r 'if .found then "WRONG \(.model_id)/\(.dataset_id)" else "none" end')"
    } >>"$w/verdicts"
done
cat "$w/verdicts" >&2
for s in avg mix73 splice remark wrongkey; do
    check "attribution: $s of two differently marked copies never yields a third ID pair (5 tracks)" \
        sh -c "! grep ' $s ' $w/verdicts | grep -q WRONG && [ \$(grep -c ' $s ' $w/verdicts) = 5 ]"
done
check "attribution: the wrong key finds nothing in any marked copy" \
    sh -c "[ \$(grep ' wrongkey none' $w/verdicts | wc -l) = 5 ]"
check "attribution: a 70/30 mix still names the dominant copy in most tracks" \
    sh -c "[ \$(awk '\$2 == \"mix73\" && \$3 != \"none\" && \$3 != \"WRONG\"' $w/verdicts | wc -l) -ge 3 ]"

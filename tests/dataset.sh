#!/bin/sh
# Training-data documentation and the trace: tiers 1-3 on a "training set" of real music
# from the BENCH.md packages, "generated" pieces that splice 10 s and 5 s excerpts of
# training items into other music (crossfades, gain changes, watermark, MP3 128k), and
# the whole chain: mark -> registry -> manifest -> fingerprint index -> trace.
. tests/lib.sh
w=build/test-dataset
rm -rf "$w"
mkdir -p "$w/train" "$w/other"
chmod 600 tests/data/test.key
K="--key tests/data/test.key"
G=/usr/share/games
for f in etr/music/credits1-cp.ogg etr/music/freezingpoint.ogg etr/music/spunkyrace-ks.ogg \
    etr/music/calmrace-ks.ogg etr/music/start1-jt.ogg etr/music/race1-jt.ogg \
    xmoto/Textures/Musics/batcave.ogg xmoto/Textures/Musics/menu.ogg; do
    cp "$G/$f" "$w/train/"
done
for f in frozen-bubble/snd/introzik.ogg frozen-bubble/snd/frozen-mainzik-2p.ogg \
    xmoto/Textures/Musics/speeditup.ogg xmoto/Textures/Musics/ridealong.ogg \
    xmoto/Textures/Musics/legolodio.ogg; do
    cp "$G/$f" "$w/other/"
done
M="$w/ds.json"

# Tier 1
$PM dataset init "$M" --name game-music --version 1.0 --license GPL-2+ --license CC-BY-SA-3.0 \
    --source https://packages.debian.org/bookworm/extremetuxracer-data \
    --description "Game soundtracks" --collected 2026-11-29 2>/dev/null
check "tier 1: init writes the dataset's metadata" \
    jq -e '.provmark_dataset == 1 and .name == "game-music" and .licenses == ["GPL-2+", "CC-BY-SA-3.0"] and .item_count == 0' "$M"
cp "$M" "$w/before.json"
check_exit "tier 1: init refuses to overwrite a manifest" 2 \
    $PM dataset init "$M" --name x --version 2 --license MIT
check "tier 1: ... and leaves it as it was" cmp "$M" "$w/before.json"
check_exit "tier 1: init without a licence is refused" 2 $PM dataset init "$w/x.json" --name x --version 1

# Tier 2
$PM dataset add "$M" "$w/train" 2>"$w/add1.log"
check "tier 2: add records every file of the folder" jq -e '.item_count == 8 and (.items | length) == 8' "$M"
ok=1
for f in "$w"/train/*.ogg; do
    b=$(basename "$f")
    want=$(sha256sum "$f" | cut -d' ' -f1)
    dur=$(soxi -D "$f")
    jq -e --arg p "train/$b" --arg s "$want" --argjson d "$dur" \
        '.items[] | select(.path == $p) | .sha256 == $s and ((.duration - $d) | fabs) < 0.01 and .channels == 2' \
        "$M" >/dev/null || ok=0
done
check "tier 2: relative paths, SHA-256 (= sha256sum) and durations (= soxi) of every item" [ $ok = 1 ]
check "tier 2: tags read by libsndfile" \
    jq -e '.items[] | select(.path == "train/credits1-cp.ogg") | .tags.title == "Credits Ballad" and .tags.artist == "Kristian Picon"' "$M"
cp "$M" "$w/after-add.json"
$PM dataset add "$M" "$w/train" 2>"$w/add2.log"
check "tier 2: re-adding unchanged files is a no-op (manifest byte-identical)" \
    sh -c "cmp -s $M $w/after-add.json && grep -q '0 added, 8 unchanged, 0 changed' $w/add2.log"
# Incremental: a changed file is reported and its entry updated (in a manifest of its own).
mkdir -p "$w/inc"
cp "$w/train/menu.ogg" "$w/inc/song.ogg"
$PM dataset init "$w/inc.json" --name inc --version 1 --license MIT 2>/dev/null
$PM dataset add "$w/inc.json" "$w/inc/song.ogg" 2>/dev/null
old=$(jq -r '.items[0].sha256' "$w/inc.json")
sox "$w/train/menu.ogg" "$w/inc/song.ogg" gain -1
$PM dataset add "$w/inc.json" "$w/inc" 2>"$w/inc.log"
check "tier 2: a changed file is reported and its entry updated" \
    sh -c "grep -q 'changed since it was added: inc/song.ogg' $w/inc.log && [ \"\$(jq -r '.items[0].sha256' $w/inc.json)\" = \"\$(sha256sum $w/inc/song.ogg | cut -d' ' -f1)\" ] && [ \"\$(jq -r '.items[0].sha256' $w/inc.json)\" != $old ]"
printf 'not audio' >"$w/inc/bad.wav"
cp "$w/inc.json" "$w/inc.before"
check_exit "tier 2: an unreadable file fails the add with a clear error" 2 $PM dataset add "$w/inc.json" "$w/inc/bad.wav"
check "tier 2: ... and the manifest is left unchanged" cmp "$w/inc.json" "$w/inc.before"

# Manifests against the published schema (python3-jsonschema).
check "schema: the manifest validates against docs/dataset.schema.json" \
    /usr/bin/python3 -c "import json, jsonschema; jsonschema.validate(json.load(open('$M')), json.load(open('docs/dataset.schema.json')))"
jq 'del(.items[0].sha256)' "$M" >"$w/broken.json"
check "schema: a manifest with an item missing its SHA-256 fails validation" \
    sh -c "! /usr/bin/python3 -c \"import json, jsonschema; jsonschema.validate(json.load(open('$w/broken.json')), json.load(open('docs/dataset.schema.json')))\" 2>/dev/null"
check_exit "schema: ... and provmark refuses it" 2 $PM dataset fingerprint "$w/broken.json"

# Tier 3
$PM dataset fingerprint "$M" 2>"$w/fp.log"
I="$w/ds.pmfp"
check "tier 3: index beside the manifest, its SHA-256 and checksum recorded in the manifest" \
    sh -c "[ -s $I ] && [ \"\$(jq -r .fingerprints.sha256 $M)\" = \"\$(sha256sum $I | cut -d' ' -f1)\" ] && [ \$(jq -r '.fingerprints.checksum | length' $M) = 64 ]"
check "schema: the fingerprinted manifest still validates" \
    /usr/bin/python3 -c "import json, jsonschema; jsonschema.validate(json.load(open('$M')), json.load(open('docs/dataset.schema.json')))"

# "Generated" pieces: 30 s of other music with a 10 s excerpt of one item at 8 s and a 5 s
# excerpt of another at 22 s, crossfaded over 0.3 s, at other gains; then marked, MP3 128k.
piece() { # NAME OTHER ITEM_A START_A ITEM_B START_B
    n=$1
    sox "$w/other/$2" -r 44100 -c 2 "$w/$n.o.wav" trim 20 30
    ffmpeg -nostdin -v error -y -i "$w/$n.o.wav" -af \
        "volume='min(1,max(0,max(8-t,t-18)/0.3+0.5))*min(1,max(0,max(22-t,t-27)/0.3+0.5))':eval=frame" \
        "$w/$n.bed.wav"
    sox "$w/train/$3" -r 44100 -c 2 "$w/$n.a.wav" trim "$4" 10 fade t 0.3 10 0.3 gain -3 pad 8 12
    sox "$w/train/$5" -r 44100 -c 2 "$w/$n.b.wav" trim "$6" 5 fade t 0.3 5 0.3 gain 2 pad 22 3
    sox -m "$w/$n.bed.wav" "$w/$n.a.wav" "$w/$n.b.wav" "$w/$n.mix.wav" gain -n -1
    $PM embed "$w/$n.mix.wav" "$w/$n.m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
    ffmpeg -nostdin -v error -y -i "$w/$n.m.wav" -b:a 128k "$w/$n.mp3"
}
piece g1 introzik.ogg credits1-cp.ogg 30 batcave.ogg 60
piece g2 speeditup.ogg spunkyrace-ks.ogg 45.5 start1-jt.ogg 12.25
piece g3 ridealong.ogg race1-jt.ogg 20 freezingpoint.ogg 70
cat >"$w/registry.json" <<'REG'
{"version": 1,
 "models": {"7": {"name": "tunegen", "version": "2.1", "organisation": "Example Audio Lab"}},
 "datasets": {"42": {"name": "game-music", "version": "1.0", "manifest": "ds.json"}}}
REG
$PM trace --json $K --registry "$w/registry.json" "$w/g1.mp3" "$w/g2.mp3" "$w/g3.mp3" >"$w/trace.jsonl" 2>"$w/trace.err"
# expect FILE ITEM OUT_START ITEM_START: a match of ITEM from about OUT_START whose
# alignment (item time - output time) is right within 0.1 s.
expect() {
    jq -e -s --arg f "$1" --arg i "train/$2" --argjson o "$3" --argjson s "$4" \
        'map(select(.file | endswith($f)))[0] | .found and .model_id == 7 and .dataset_id == 42 and
         ([.matches[] | select(.item == $i and ((.item_start - .output_start) - ($s - $o) | fabs) <= 0.1
           and (.output_start - $o | fabs) < 1.0)] | length) == 1' "$w/trace.jsonl" >/dev/null
}
check "trace: g1 marked 7/42, reproduces credits (10 s at 8 s = item 30 s, +-0.1 s)" expect g1.mp3 credits1-cp.ogg 8 30
check "trace: g1 reproduces batcave (5 s at 22 s = item 60 s)" expect g1.mp3 batcave.ogg 22 60
check "trace: g2 reproduces spunkyrace (10 s at 8 s = item 45.5 s)" expect g2.mp3 spunkyrace-ks.ogg 8 45.5
check "trace: g2 reproduces start1 (5 s at 22 s = item 12.25 s)" expect g2.mp3 start1-jt.ogg 22 12.25
check "trace: g3 reproduces race1 (10 s at 8 s = item 20 s)" expect g3.mp3 race1-jt.ogg 8 20
check "trace: g3 reproduces freezingpoint (5 s at 22 s = item 70 s)" expect g3.mp3 freezingpoint.ogg 22 70
check "trace: nothing else is reported (two items per piece; other alignments only as lower ranks of those)" \
    sh -c "[ \"\$(jq -s -c '[.[].matches | [.[] | select(.rank == 1)] | length] | unique' $w/trace.jsonl)\" = '[2]' ] &&
           jq -e -s 'all(.[].matches; [.[] | select(.rank == 1) | .item] as \$top | all(.[]; .item as \$i | \$top | index(\$i)))' $w/trace.jsonl >/dev/null"
check "trace: matches ranked most significant first, every E-value far below the default 1e-6" \
    jq -e -s 'all(.[].matches; ([.[].log10_evalue] | . == sort) and all(.[]; .log10_evalue < -10))' "$w/trace.jsonl"
check "trace: matches carry the item's SHA-256 and tags from the manifest" \
    sh -c "jq -e -s 'map(select(.file | endswith(\"g1.mp3\")))[0].matches[] | select(.item == \"train/credits1-cp.ogg\") | .title == \"Credits Ballad\" and (.sha256 | length) == 64' $w/trace.jsonl"
$PM trace $K --registry "$w/registry.json" "$w/g1.mp3" >"$w/trace.txt" 2>/dev/null
check "trace: human output names the model, dataset and each reproduced item" \
    sh -c "grep -q 'model 7 \"tunegen 2.1, Example Audio Lab\", dataset 42 \"game-music 1.0\"' $w/trace.txt && grep -q 'reproduces train/credits1-cp.ogg' $w/trace.txt"
$PM trace $K --registry "$w/registry.json" --report "$w/trace.html" "$w/g1.mp3" "$w/g1.o.wav" >/dev/null 2>&1
check "trace --report: well-formed HTML report with the reproduced items on g1's timeline and table" \
    sh -c "xmllint --noout $w/trace.html && [ \$(grep -o 'class=\"match\"' $w/trace.html | wc -l) = 2 ] &&
           grep -q 'credits1-cp.ogg (Credits Ballad)' $w/trace.html &&
           grep -q 'training items reproduced</th><td class=\"n\">2<' $w/trace.html &&
           grep -q 'files reproducing training items</th><td class=\"n\">1<' $w/trace.html && grep -q '<title>provmark trace report' $w/trace.html"
# Unrelated music matches nothing; an unmarked copy is checked with --dataset.
$PM trace --json --dataset "$M" "$w/other/"*.ogg >"$w/unrelated.jsonl" 2>/dev/null
check "trace: unrelated music (5 tracks, 11 min) matches no training item" \
    sh -c "[ \$(jq -s '[.[].matches | length] | add' $w/unrelated.jsonl) = 0 ] && [ \$(wc -l <$w/unrelated.jsonl) = 5 ]"
$PM trace --json --no-detect --dataset "$M" --false-rate 1 --catalogue-hours 0 "$w/other/"*.ogg >"$w/chance.jsonl" 2>/dev/null
best=$(jq -s '[.[].matches[0].log10_evalue // 0] | min' "$w/chance.jsonl")
check "trace: ... its best chance alignment has an E-value of 10^$best (>= 1e-3; reported at <= 1e-6 x 0.2 h / 1e5 h)" \
    sh -c "[ \$(jq -s length $w/chance.jsonl) = 5 ] && awk -v b='$best' 'BEGIN { exit !(b > -3) }'"
# Significance: the E-value grows with the index, the threshold follows --false-rate and
# --catalogue-hours (a match's E-value is judged for an index of that size).
ev() { # FILE ITEM: log10 E of the item's first match in a trace --json FILE
    jq -r --arg i "train/$2" '[.matches[] | select(.item | endswith($i))][0].log10_evalue' "$1"
}
mkdir -p "$w/big"
$PM dataset init "$w/big/ds.json" --name big --version 1 --license GPL-2+ 2>/dev/null
$PM dataset add "$w/big/ds.json" "$w/train" "$w/other" 2>/dev/null
$PM dataset fingerprint "$w/big/ds.json" 2>/dev/null
$PM trace --json --no-detect --dataset "$M" "$w/g1.mp3" >"$w/small.json" 2>/dev/null
$PM trace --json --no-detect --dataset "$w/big/ds.json" "$w/g1.mp3" >"$w/big.json" 2>/dev/null
c1=$(ev "$w/small.json" credits1-cp.ogg) c2=$(ev "$w/big.json" credits1-cp.ogg)
b1=$(ev "$w/small.json" batcave.ogg) b2=$(ev "$w/big.json" batcave.ogg)
check "significance: the same matches are less significant in a larger index (13 items: 10^$c1 -> 10^$c2, 10^$b1 -> 10^$b2)" \
    awk -v a="$c1" -v b="$c2" -v c="$b1" -v d="$b2" 'BEGIN { exit !(b > a && d > c && b - a < 1 && d - c < 1) }'
strong=$(awk -v a="$c1" -v b="$b1" 'BEGIN { print (a < b ? "credits1-cp.ogg" : "batcave.ogg") }')
between=$(awk -v a="$c1" -v b="$b1" 'BEGIN { printf "1e%.2f", (a + b) / 2 }')
above=$(awk -v a="$c1" -v b="$b1" 'BEGIN { printf "1e%.2f", (a > b ? a : b) + 0.5 }')
$PM trace --json --no-detect --dataset "$M" --false-rate "$between" --catalogue-hours 0 "$w/g1.mp3" >"$w/strict.json" 2>/dev/null
check "significance: --false-rate between the two items' E-values keeps only the more significant one" \
    jq -e --arg i "train/$strong" '[.matches[] | select(.rank == 1) | .item] == [$i]' "$w/strict.json"
$PM trace --json --no-detect --dataset "$M" --false-rate "$above" --catalogue-hours 0 "$w/g1.mp3" >"$w/loose.json" 2>/dev/null
$PM trace --json --no-detect --dataset "$M" --false-rate "$above" --catalogue-hours 1e5 "$w/g1.mp3" >"$w/ref.json" 2>/dev/null
check "significance: a rate just above both E-values keeps both at the index's size, one at 1e5 hours" \
    sh -c "jq -e '[.matches[] | select(.rank == 1)] | length == 2' $w/loose.json && jq -e '[.matches[] | select(.rank == 1)] | length == 1' $w/ref.json"
# Above 1 false match per query is no test (every chance alignment reported, E > 1 breaking
# the schema); 1e308 hours overflowed the catalogue's size and silently matched nothing.
for bad in "--false-rate 0" "--false-rate x" "--false-rate nan" "--false-rate 2" "--false-rate 1e308" \
    "--catalogue-hours -1" "--catalogue-hours 1e5h" "--catalogue-hours 1e308" "--catalogue-hours inf"; do
    # shellcheck disable=SC2086 # the option and its value
    $PM trace --no-detect --dataset "$M" $bad "$w/g1.mp3" >/dev/null 2>"$w/bad.err"
    rc=$?
    check "significance: trace $bad is refused with one line, exit 2" sh -c "[ $rc = 2 ] && [ \$(wc -l <$w/bad.err) = 1 ]"
done
# Transposed and re-timed copies (docs/FPINDEX.md, triplets): 10 s excerpts of training
# items, changed by sox, MP3 128k. Each is found with its item, its transposition and tempo
# within 1 % and its place in the item within 0.3 s; a pair match cannot find any of them.
mkdir -p "$w/tx"
tx() { # NAME ITEM START SEMITONES TEMPO EFFECT...: the excerpt, and what a match must say
    n=$1 item=$2 start=$3 st=$4 tempo=$5
    shift 5
    sox -D -V1 "$w/train/$item" -r 44100 -c 2 "$w/tx/$n.wav" trim "$start" 10 gain -3 "$@"
    ffmpeg -nostdin -v error -y -i "$w/tx/$n.wav" -b:a 128k "$w/tx/$n.mp3"
    echo "$n $item $start $st $tempo" >>"$w/tx/expect"
}
: >"$w/tx/expect"
tx up2 spunkyrace-ks.ogg 20 2 1 pitch 200
tx down1 credits1-cp.ogg 30 -1 1 pitch -100
tx fast10 freezingpoint.ogg 70 0 1.10 tempo 1.10
tx slow8 menu.ogg 20 0 0.92 tempo 0.92
tx speed6 batcave.ogg 40 1.0088 1.06 speed 1.06
$PM trace --json --no-detect --dataset "$M" "$w"/tx/*.mp3 >"$w/tx.jsonl" 2>/dev/null
while read -r n item start st tempo; do
    check "transformed: $n ($item from $start s, $st semitones, tempo $tempo) found, factors within 1 %, place within 0.3 s" \
        jq -e -s --arg f "$n.mp3" --arg i "train/$item" --argjson s "$start" --argjson p "$st" --argjson t "$tempo" \
        'map(select(.file | endswith($f)))[0].matches | map(select(.item == $i and .rank == 1))[0] |
         ((.pitch_semitones - $p) | fabs) < 0.17 and ((.tempo / $t - 1) | fabs) < 0.01 and
         ((.item_start - ($s + $t * .output_start)) | fabs) < 0.3' "$w/tx.jsonl"
done <"$w/tx/expect"
check "transformed: no other item is reported for them" \
    jq -e -s 'all(.[]; [.matches[] | select(.rank == 1) | .item] | unique | length == 1)' "$w/tx.jsonl"
$PM trace --no-detect --dataset "$M" "$w"/tx/fast10.mp3 >"$w/tx.txt" 2>/dev/null
check "transformed: human output gives the transposition and the tempo" \
    sh -c "grep -q 'reproduces train/freezingpoint.ogg: .*E [0-9.e-]*; tempo x1.0[89]' $w/tx.txt && ! grep -q transposed $w/tx.txt"
$PM trace --json --no-detect --dataset "$M" "$w"/tx/up2.mp3 "$w"/tx/fast10.mp3 "$w/other/legolodio.ogg" >"$w/tx2.jsonl" 2>/dev/null
check "transformed: the matches validate against docs/trace.schema.json, an untransformed one says 0 semitones, tempo 1" \
    sh -c ". tests/lib.sh; valid_lines trace $w/tx2.jsonl && jq -e -s '.[0].matches[0].pitch_semitones > 1.8 and ([.[].matches[]] | length) >= 2' $w/tx2.jsonl >/dev/null &&
           jq -e -s 'map(.matches[]) | all(.[]; .pitch_semitones != null)' $w/trace.jsonl >/dev/null &&
           jq -e -s '[.[].matches[] | select(.rank == 1)] | all(.[]; .pitch_semitones == 0 and .tempo == 1)' $w/trace.jsonl >/dev/null"
# Shards: the 13 items of the big index split into 4 manifests (beside it, so that item
# paths read the same) and fingerprinted separately; queried together they must give
# exactly the matches of the one index, E-values included, also at the index's own size
# (--catalogue-hours 0, where the E-value counts the alignments of every shard).
jq -r '.items[].path' "$w/big/ds.json" >"$w/big/items.txt"
for s in 1 2 3 4; do
    $PM dataset init "$w/big/s$s.json" --name big --version 1 --license GPL-2+ 2>/dev/null
    # shellcheck disable=SC2046 # one operand per item, in the big manifest's order
    (cd "$w/big" && ../../../$PM dataset add "s$s.json" $(awk -v s=$s 'NR > (s - 1) * 13 / 4 && NR <= s * 13 / 4' items.txt)) 2>/dev/null
    $PM dataset fingerprint "$w/big/s$s.json" 2>/dev/null
done
S="--dataset $w/big/s1.json --dataset $w/big/s2.json --dataset $w/big/s3.json --dataset $w/big/s4.json"
Q="$w/g1.mp3 $w/g2.mp3 $w/g3.mp3 $w/g2.mix.wav $w/other/introzik.ogg $w/tx/up2.mp3 $w/tx/slow8.mp3"
shards_same() { # MIN OPTIONS...: the 4 shards give the one index's records (MIN matches or more), each match naming its shard
    min=$1
    shift
    # shellcheck disable=SC2086 # the options and files
    $PM trace --json --no-detect --dataset "$w/big/ds.json" "$@" $Q 2>/dev/null | jq -c 'del(.elapsed_ms, .manifest)' >"$w/one.jsonl"
    # shellcheck disable=SC2086
    $PM trace --json --no-detect $S "$@" $Q 2>/dev/null >"$w/shards.jsonl"
    jq -c 'del(.elapsed_ms, .manifest) | .matches |= map(del(.manifest))' "$w/shards.jsonl" | cmp -s - "$w/one.jsonl" &&
        [ "$(jq -s '[.[].matches | length] | add' "$w/one.jsonl")" -ge "$min" ] &&
        jq -e -s 'length == 7 and all(.[]; .manifest | length == 4)' "$w/shards.jsonl" >/dev/null
}
check "shards: 4 shards built separately = one index over the same items (7 files, 2 transformed; items, times, landmarks, E-values, ranks, factors)" \
    shards_same 12
check "shards: ... also with every alignment of E <= 1 at the index's own size (the E-value counts all 4 shards)" \
    shards_same 20 --false-rate 1 --catalogue-hours 0
check "shards: each match names the shard manifest whose items it counts, and the lines validate" \
    sh -c ". tests/lib.sh; valid_lines trace $w/shards.jsonl && /usr/bin/python3 -c \"import json, sys
ms = [m for l in open(sys.argv[1]) for m in json.loads(l)['matches']]
sys.exit(not ms or not all(any(i['path'] == m['item'] for i in json.load(open(m['manifest']))['items']) for m in ms))\" $w/shards.jsonl"
# shellcheck disable=SC2086
$PM trace --json --no-detect --dataset "$w/big/s4.json" --dataset "$w/big/s2.json" --dataset "$w/big/s3.json" \
    --dataset "$w/big/s1.json" --false-rate 1 --catalogue-hours 0 $Q 2>/dev/null >"$w/shuffled.jsonl"
check "shards: given in another order, the same matches with the same E-values" \
    sh -c "[ \"\$(jq -c '.matches[] | del(.manifest)' $w/shuffled.jsonl | sort)\" = \"\$(jq -c '.matches[] | del(.manifest)' $w/shards.jsonl | sort)\" ]"
# Two empty shards (two datasets with no items yet: the same bytes) are no duplicate.
for e in e1 e2; do
    $PM dataset init "$w/big/$e.json" --name "$e" --version 1 --license MIT 2>/dev/null
    $PM dataset fingerprint "$w/big/$e.json" 2>/dev/null
done
# shellcheck disable=SC2086
$PM trace --json --no-detect --dataset "$w/big/e1.json" $S --dataset "$w/big/e2.json" --false-rate 1 --catalogue-hours 0 $Q \
    2>/dev/null >"$w/empty.jsonl"
check "shards: two empty shards beside the 4 change nothing (one index's matches, at its own size)" \
    sh -c "cmp -s $w/big/e1.pmfp $w/big/e2.pmfp && [ \"\$(jq -c '.matches[] | del(.manifest)' $w/empty.jsonl)\" = \"\$(jq -c '.matches[] | del(.manifest)' $w/one.jsonl)\" ]"
shard_refused() { # NAME PATTERN OPTIONS...: refused before any file, one line matching PATTERN, exit 2
    name=$1 pat=$2; shift 2
    $PM trace --no-detect "$@" "$w/g1.mp3" >"$w/shard.out" 2>"$w/shard.err"
    rc=$?
    check "shards: $name: refused in one line, exit 2" \
        sh -c "[ $rc = 2 ] && [ \$(wc -l <$w/shard.err) = 1 ] && grep -q '$pat' $w/shard.err && [ ! -s $w/shard.out ]"
}
# shellcheck disable=SC2086
shard_refused "a shard given twice" "given twice" $S --dataset "$w/big/s2.json"
cp "$w/big/s3.json" "$w/big/copy.json" && cp "$w/big/s3.pmfp" "$w/big/copy.pmfp"
# shellcheck disable=SC2086
shard_refused "a copy of a shard under another name" "the same fingerprint index as" $S --dataset "$w/big/copy.json"
# shellcheck disable=SC2086
shard_refused "a missing shard" "missing.json" $S --dataset "$w/big/missing.json"
cp "$w/big/s2.json" "$w/big/bad.json" && cp "$w/big/s2.pmfp" "$w/big/bad.pmfp"
printf '\377' | dd of="$w/big/bad.pmfp" bs=1 seek=3000 conv=notrunc 2>/dev/null
shard_refused "a corrupt shard" "bad.pmfp: not a usable fingerprint index: checksum mismatch" \
    --dataset "$w/big/s1.json" --dataset "$w/big/bad.json"
jq '.fingerprints.index = "v3.pmfp"' "$w/big/s2.json" >"$w/big/v3.json" && cp "$w/big/s2.pmfp" "$w/big/v3.pmfp"
/usr/bin/python3 tests/pmfp_craft.py "$w/big/v3.json" version 3
shard_refused "a shard of a later index format (version 3)" "v3.pmfp: not a usable fingerprint index: unknown version" \
    --dataset "$w/big/s1.json" --dataset "$w/big/v3.json"
# The recipe: examples/scale/parallel-index.sh builds one shard per folder with GNU parallel
# (here on this machine, ":"), then trace queries them all; a rerun changes nothing.
mkdir -p "$w/cat/a" "$w/cat/b" "$w/cat/c" "$w/cat/d"
cp "$w/train/credits1-cp.ogg" "$w/train/batcave.ogg" "$w/cat/a/"
cp "$w/train/spunkyrace-ks.ogg" "$w/train/start1-jt.ogg" "$w/cat/b/"
cp "$w/train/race1-jt.ogg" "$w/train/freezingpoint.ogg" "$w/cat/c/"
cp "$w/other/frozen-mainzik-2p.ogg" "$w/other/legolodio.ogg" "$w/cat/d/" # not the bed of a piece
printf '%s\n' "$w/cat/a" "$w/cat/b" "$w/cat/c" "$w/cat/d" >"$w/cat/folders.txt"
PM_PROVMARK="$PWD/$PM" examples/scale/parallel-index.sh "$w/cat/folders.txt" : game-music 1.0 GPL-2+ "$w/cat/shards" \
    >"$w/cat/args.out" 2>/dev/null
# shellcheck disable=SC2046 # the recipe's options, one --dataset per shard
$PM trace --json --no-detect $(cat "$w/cat/shards/trace.args") "$w/g1.mp3" "$w/g2.mp3" "$w/g3.mp3" >"$w/cat/trace.jsonl" 2>/dev/null
check "recipe: parallel-index.sh makes 4 shards (one per folder); trace over them finds the 6 excerpts" \
    sh -c "cmp -s $w/cat/args.out $w/cat/shards/trace.args && [ \$(wc -l <$w/cat/args.out) = 4 ] &&
           [ \"\$(jq -r '.matches[] | select(.rank == 1) | .item' $w/cat/trace.jsonl | sort | tr '\n' ' ')\" = \"../a/batcave.ogg ../a/credits1-cp.ogg ../b/spunkyrace-ks.ogg ../b/start1-jt.ogg ../c/freezingpoint.ogg ../c/race1-jt.ogg \" ]"
cat "$w"/cat/shards/*.json | sha256sum >"$w/cat/before.sum"
PM_PROVMARK="$PWD/$PM" examples/scale/parallel-index.sh "$w/cat/folders.txt" : game-music 1.0 GPL-2+ "$w/cat/shards" >/dev/null 2>&1
check "recipe: a rerun leaves every shard as it was" sh -c "cat $w/cat/shards/*.json | sha256sum | cmp -s - $w/cat/before.sum"
# A loop: 2 s of batcave repeated 8 times under 16 s of credits at -14 dB, queried with
# 5 s of it from 7 s (MP3). Every repeat agrees with the ostinato; only the true offset
# with the quiet line too: a repeat may gather more landmarks than the true offset (here
# it does), so the true offset must be among the ranked statements, not hidden by them.
mkdir -p "$w/loop/items"
sox -D "$w/train/batcave.ogg" -r 44100 -c 2 "$w/loop/a.wav" trim 60 2 repeat 7
sox -D "$w/train/credits1-cp.ogg" -r 44100 -c 2 "$w/loop/b.wav" trim 30 16 gain -14
sox -D -m "$w/loop/a.wav" "$w/loop/b.wav" "$w/loop/items/loop.wav"
sox -D "$w/loop/items/loop.wav" "$w/loop/q.wav" trim 7 5
ffmpeg -nostdin -v error -y -i "$w/loop/q.wav" -b:a 128k "$w/loop/q.mp3"
$PM dataset init "$w/loop/ds.json" --name loop --version 1 --license MIT 2>/dev/null
$PM dataset add "$w/loop/ds.json" "$w/loop/items" 2>/dev/null
$PM dataset fingerprint "$w/loop/ds.json" 2>/dev/null
$PM trace --json --no-detect --dataset "$w/loop/ds.json" "$w/loop/q.mp3" >"$w/loop.json" 2>/dev/null
check "loop: the true offset (7.0 s) is reported, though a repeat 2 s away gathers more landmarks" \
    jq -e '[.matches[] | select(((.item_start - .output_start) - 7.0 | fabs) < 0.1)] as $t |
           ($t | length) == 1 and any(.matches[]; .landmarks > $t[0].landmarks and ((.item_start - .output_start) - 7.0 | fabs) > 1.9)' \
        "$w/loop.json"
check "loop: the other statements are reported too, ranked 2, 3, ... in order of E-value" \
    jq -e '[.matches[].rank] == [range(1; (.matches | length) + 1)] and (.matches | length) >= 3' "$w/loop.json"
$PM trace --json --dataset "$M" "$w/g2.mix.wav" >"$w/unmarked.jsonl" 2>/dev/null
check "trace --dataset: an unmarked piece is still checked (2 items found)" \
    sh -c "jq -e '.found == false and ([.matches[] | select(.rank == 1)] | length) == 2' $w/unmarked.jsonl"
$PM trace --json $K --registry "$w/registry.json" "$w/g1.o.wav" >"$w/nomark.jsonl" 2>/dev/null
check "trace: an unmarked file without --dataset says why nothing was checked" \
    jq -e '.found == false and .dataset_check != null and .matches == []' "$w/nomark.jsonl"
$PM trace --json --no-detect --dataset "$M" "$w/g1.mp3" "$w/none.wav" >"$w/nodetect.jsonl" 2>/dev/null
check "trace: every line (marked, unmarked, not looked for, error) valid against docs/result.schema.json" \
    sh -c ". tests/lib.sh; cat $w/trace.jsonl $w/unmarked.jsonl $w/nomark.jsonl $w/nodetect.jsonl >$w/all.jsonl && valid_lines trace $w/all.jsonl && [ \$(wc -l <$w/all.jsonl) = 7 ]"
check "trace and detect write the same fields for the same file" \
    sh -c "$PM detect --json $K --registry $w/registry.json $w/g1.mp3 2>/dev/null | jq -S 'del(.elapsed_ms) | keys' >$w/dk && jq -S 'select(.file | endswith(\"g1.mp3\")) | del(.elapsed_ms, .manifest, .dataset_check, .matches) | keys' $w/trace.jsonl >$w/tk && cmp -s $w/dk $w/tk"

# Damaged or foreign indexes are refused with one clear line.
cp "$M" "$w/c.json"
cp "$I" "$w/c.pmfp"
printf '\377' | dd of="$w/c.pmfp" bs=1 seek=5000 conv=notrunc 2>/dev/null
$PM trace $K --dataset "$w/c.json" "$w/g1.mp3" >/dev/null 2>"$w/c.err"
check "index: a flipped byte is refused with one line (its checksum)" \
    sh -c "[ \$(wc -l <$w/c.err) = 1 ] && grep -q 'checksum mismatch' $w/c.err"
check_exit "index: ... exit status 2" 2 $PM trace --dataset "$w/c.json" "$w/g1.mp3"
$PM dataset fingerprint "$w/inc.json" 2>/dev/null
cp "$w/inc.pmfp" "$w/c.pmfp"
$PM trace $K --dataset "$w/c.json" "$w/g1.mp3" >/dev/null 2>"$w/c2.err"
check "index: a valid index of another dataset is refused (not the manifest's)" \
    grep -q 'does not match the manifest' "$w/c2.err"
head -c 3000 "$I" >"$w/c.pmfp"
$PM trace $K --dataset "$w/c.json" "$w/g1.mp3" >/dev/null 2>"$w/c3.err"
check "index: a truncated index is refused" grep -q 'truncated' "$w/c3.err"
: >"$w/c.pmfp"
check_exit "index: an empty index is refused" 2 $PM trace --dataset "$w/c.json" "$w/g1.mp3"
rm -f "$w/c.pmfp"
check_exit "index: a missing index is refused" 2 $PM trace --dataset "$w/c.json" "$w/g1.mp3"
# Durations are claims: items claiming 397 days each (their landmarks unchanged) made
# 3-6 chance landmarks of unrelated music significant (E 1e-6 to 1e-14 in 4 of 5 tracks).
mkdir -p "$w/long"
cp "$M" "$w/long/ds.json" && cp "$I" "$w/long/ds.pmfp"
/usr/bin/python3 tests/pmfp_craft.py "$w/long/ds.json" long
$PM trace --json --no-detect --dataset "$w/long/ds.json" "$w/other/"*.ogg "$w/g1.mp3" >"$w/long.jsonl" 2>/dev/null
check "index: items claiming 397 days each: unrelated music still matches nothing, g1 its 2 items" \
    jq -e -s 'length == 6 and ([.[0:5][].matches | length] | add) == 0 and ([.[5].matches[] | select(.rank == 1)] | length) == 2' "$w/long.jsonl"
# The manifest's items reordered by hand (its index record kept): a match named the
# index's item with another item's SHA-256 and tags.
jq '.items |= reverse' "$M" >"$w/c.json" && cp "$I" "$w/c.pmfp"
$PM trace --no-detect --dataset "$w/c.json" "$w/g1.mp3" >/dev/null 2>"$w/c4.err"
rc=$?
check "index: a manifest listing the index's items in another order is refused in one line, exit 2" \
    sh -c "[ $rc = 2 ] && [ \$(wc -l <$w/c4.err) = 1 ] && grep -q 'list different items' $w/c4.err"

# The provenance record for publishing with an output.
$PM manifest --model 7 --dataset 42 --registry "$w/registry.json" --title "g1" >"$w/c2pa.json" 2>/dev/null
check "manifest: C2PA-shaped record: created action of source type trainedAlgorithmicMedia" \
    jq -e '.claim_generator_info[0].name == "provmark" and (.assertions[] | select(.label == "c2pa.actions.v2") |
        .data.actions[0].action == "c2pa.created" and
        .data.actions[0].digitalSourceType == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" and
        .data.actions[0].softwareAgent.name == "tunegen")' "$w/c2pa.json"
check "manifest: soft binding naming the provmark watermark and its IDs" \
    jq -e '.assertions[] | select(.label == "c2pa.soft-binding") | .data.alg == "org.provmark.audio-watermark.1" and .data.blocks[0].value == "model=7;dataset=42"' "$w/c2pa.json"
check "manifest: model and dataset descriptions, with the dataset's tier-1 summary" \
    jq -e '.assertions[] | select(.label == "org.provmark.training-data") | .data.model.name == "tunegen" and .data.dataset_manifest.item_count == 8 and .data.dataset_manifest.licenses[0] == "GPL-2+"' "$w/c2pa.json"
check_exit "manifest: an ID missing from the registry is refused" 2 \
    $PM manifest --model 8 --dataset 42 --registry "$w/registry.json"

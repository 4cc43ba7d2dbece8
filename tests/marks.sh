#!/bin/sh
# Several marks in one file (issue 14): copies marked with other IDs spliced
# together must each be reported with their own IDs and time ranges, in JSON, text,
# trace and the HTML timeline. Real music, key tests/data/test.key.
. tests/lib.sh
w=build/test-marks
rm -rf "$w"
mkdir -p "$w"
K="--key tests/data/test.key"
ffmpeg -nostdin -v error -y -ss 20 -t 65 -i /usr/share/games/etr/music/credits1-cp.ogg -ac 2 -c:a pcm_s16le "$w/in.wav"
mark() { # MODEL DATASET -> $w/MODEL_DATASET.wav
    [ -s "$w/$1_$2.wav" ] || $PM embed "$w/in.wav" "$w/$1_$2.wav" --model "$1" --dataset "$2" $K --no-verify 2>/dev/null
}
cut() { # IN START LEN OUT
    sox "$1" "$4" trim "$2" "$3"
}

# 30 s marked 7/42, then 30 s of the same music marked otherwise (same key).
mark 7 42
cut "$w/7_42.wav" 0 30 "$w/first.wav"
for second in 7/43 8/42 1007/42 7/1042 12345678/9876543 7/99; do
    m=${second%/*} d=${second#*/}
    mark "$m" "$d"
    cut "$w/${m}_$d.wav" 30 30 "$w/b.wav"
    sox "$w/first.wav" "$w/b.wav" "$w/s_${m}_$d.wav"
    $PM detect --json $K "$w/s_${m}_$d.wav" >"$w/s_${m}_$d.json" 2>/dev/null
    check "marks: 7/42 then $second: exactly these two marks" jq -e --argjson m "$m" --argjson d "$d" \
        '[.marks[] | [.model_id, .dataset_id]] | sort == ([[7, 42], [$m, $d]] | sort)' "$w/s_${m}_$d.json"
    check "marks: 7/42 then $second: each mark's range within 1.5 s of its half" jq -e --argjson m "$m" --argjson d "$d" '
        (.marks[] | select(.model_id == 7 and .dataset_id == 42) | .segments) as $a
        | (.marks[] | select(.model_id == $m and .dataset_id == $d) | .segments) as $b
        | ($a | length) == 1 and ($b | length) == 1 and $a[0].start <= 1.5 and ($a[0].end - 30 | fabs) <= 1.5
          and ($b[0].start - 30 | fabs) <= 1.5 and $b[0].end >= 58.5 and $a[0].end <= $b[0].start' "$w/s_${m}_$d.json"
done
check "marks: the top-level fields are the strongest (first) mark's" jq -e \
    '.found and .model_id == .marks[0].model_id and .dataset_id == .marks[0].dataset_id and .key == .marks[0].key
     and .segments == .marks[0].segments and .p_false <= 1e-9 and all(.marks[]; .p_false == $top.p_false)' \
    --argjson top "$(jq -c '{p_false}' "$w/s_7_43.json")" "$w/s_7_43.json"
check "marks: the text output has one line per mark" sh -c \
    "$PM detect $K $w/s_7_99.wav 2>/dev/null | grep -c 'model 7, dataset \(42\|99\) (p_false' | grep -qx 2"
# The same splices 3 % slower (tempo 0.97: the join at 30.93 s): the two pipelines place
# the join at their own time scales, and one mark's range ran up to 0.22 s into the other's.
for second in 7_43 12345678_9876543; do
    sox "$w/s_$second.wav" "$w/t_$second.wav" tempo 0.97
    $PM detect --json $K "$w/t_$second.wav" >"$w/t_$second.json" 2>/dev/null
    check "marks: 7/42 then ${second%_*}/${second#*_}, tempo 0.97: two marks, no second in both, the join within 1.5 s" jq -e '
        [.marks[] | .segments[]] | sort_by(.start) | length == 2
        and .[0].end <= .[1].start and (.[0].end - 30.93 | fabs) <= 1.5' "$w/t_$second.json"
done

# Three pieces of one generation on a quietly marked track (20 s each: 12345678/9876543,
# 7/42, 12345678/9876543): one alignment runs through the file and its whole sum mixes
# the two payloads, so the middle piece is found only by decoding runs of the line.
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/etr/music/calmrace-ks.ogg -ac 2 -c:a pcm_s16le "$w/calm.wav"
$PM embed "$w/calm.wav" "$w/calm_a.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM embed "$w/calm.wav" "$w/calm_d.wav" --model 12345678 --dataset 9876543 $K --no-verify 2>/dev/null
# middle NAME D A: 20 s of A (7/42) between two 20 s pieces of D (12345678/9876543): both
# marks found, 7/42 within 1.5 s of its piece.
middle() {
    cut "$2" 0 20 "$w/$1_0.wav"
    cut "$3" 20 20 "$w/$1_1.wav"
    cut "$2" 40 20 "$w/$1_2.wav"
    sox "$w/$1_0.wav" "$w/$1_1.wav" "$w/$1_2.wav" "$w/$1.wav"
    $PM detect --json $K "$w/$1.wav" >"$w/$1.json" 2>/dev/null
    jq -e '([.marks[] | [.model_id, .dataset_id]] | sort == [[7, 42], [12345678, 9876543]])
        and ([.marks[] | select(.model_id == 7) | .segments[]] | length >= 1 and all(.start >= 18.5 and .end <= 41.5))' "$w/$1.json"
}
check "marks: 20 s of 7/42 between two pieces of another payload on a quiet track: both found, 7/42 in its own range (1.5 s)" \
    middle calm3 "$w/calm_d.wav" "$w/calm_a.wav"

# 7/43 for 28.8 s, 7/42 for 8 s (found by nothing: too short on this quiet track), 7/42
# under a second key to the end. The 8 s carry a payload one bit from 7/43's; the tag
# part of one of the window's several reads there agreed with 7/43 by chance, and 7/43's
# range ran to 36 s. Nothing may be drawn over the 8 s but a mark they carry.
$PM embed "$w/calm.wav" "$w/calm_n.wav" --model 7 --dataset 43 $K --no-verify 2>/dev/null
$PM embed "$w/calm.wav" "$w/calm_b.wav" --model 7 --dataset 42 --key tests/data/second.key --no-verify 2>/dev/null
cut "$w/calm_n.wav" 0 28.8 "$w/near0.wav"
cut "$w/calm_a.wav" 28.8 8 "$w/near1.wav"
cut "$w/calm_b.wav" 36.8 23.2 "$w/near2.wav"
sox "$w/near0.wav" "$w/near1.wav" "$w/near2.wav" "$w/near.wav"
$PM detect --json $K --key tests/data/second.key "$w/near.wav" >"$w/near.json" 2>/dev/null
check "marks: 8 s of 7/42 after 7/43 on a quiet track: 7/43 found, no mark's range over a piece it is not in (1.5 s)" jq -e '
    def over($a; $b): [.segments[] | select(.end > $a + 1.5 and .start < $b - 1.5)] | length > 0;
    ([.marks[] | select(.model_id == 7 and .dataset_id == 43)] | length == 1)
    and all(.marks[]; if .dataset_id == 43 then over(28.8; 60) | not
        elif .key == "d0808ed36e3d1bd2" then (over(0; 28.8) or over(36.8; 60)) | not
        else over(0; 36.8) | not end)' "$w/near.json"

# Two marks of the test key with 6 s of unmarked music between them (less than two
# windows of the detector): those seconds carry neither mark and go to neither.
# three NAME A U B T1 T2: A before T1 s, U from T1 to T2, B from T2 to 60 s; detected
# into $w/NAME.json.
three() {
    cut "$2" 0 "$5" "$w/$1_0.wav"
    cut "$3" "$5" $(($6 - $5)) "$w/$1_1.wav"
    cut "$4" "$6" $((60 - $6)) "$w/$1_2.wav"
    sox "$w/$1_0.wav" "$w/$1_1.wav" "$w/$1_2.wav" "$w/$1.wav"
    $PM detect --json $K "$w/$1.wav" >"$w/$1.json" 2>/dev/null
}
three gap "$w/7_42.wav" "$w/in.wav" "$w/12345678_9876543.wav" 25 31
check "marks: 6 s of unmarked music between two marks given to neither (1.5 s)" jq -e '
    ([.marks[] | [.model_id, .dataset_id]] | sort == [[7, 42], [12345678, 9876543]])
    and all(.marks[].segments[]; .end <= 26.5 or .start >= 29.5)' "$w/gap.json"

# A near payload too short to be read on its own (3 and 4 s of 7/43, then 7/42): its
# audio shares most coded bits with 7/42's, but must never be drawn as 7/42.
mark 7 43
for near in 3 4; do
    cut "$w/7_43.wav" 0 "$near" "$w/n.wav"
    cut "$w/7_42.wav" "$near" $((30 - near)) "$w/a.wav"
    sox "$w/n.wav" "$w/a.wav" "$w/near$near.wav"
    $PM detect --json $K "$w/near$near.wav" >"$w/near$near.json" 2>/dev/null
    check "marks: ${near} s of 7/43 before 7/42: 7/42 found, none of its range over the 7/43 piece (1.5 s)" \
        jq -e --argjson n "$near" '[.marks[] | select(.model_id == 7 and .dataset_id == 42) | .segments[]]
            | length >= 1 and all(.start >= $n - 1.5) and any(.end >= 28.5)' "$w/near$near.json"
done

# A mark that starts after another key's mark (or after unmarked music) has no tracked
# alignment in its first window: read back from the next window, its range starts at the
# join, not a window late; the same holds for the file's first window (on this quiet
# track after MP3 the first mark started 4.9 s late before read-backs). The second key
# changes how well its mark is read here (over 80 random keys: 68 of 80 met all of this,
# 3 of 80 lost the second mark), so eight fixed keys are tried and seven must hold.
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/xmoto/Textures/Musics/menu.ogg -ac 2 -c:a pcm_s16le "$w/menu.wav"
$PM embed "$w/menu.wav" "$w/menu_a.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
cut "$w/menu_a.wav" 0 30 "$w/m0.wav"
held=0
for i in 1 2 3 4 5 6 7 8; do
    h=$(printf 'marks.sh second key %d' $i | sha256sum) # the file's cut() hides coreutils' cut
    printf 'provmark-key 1\n%s\n' "${h%% *}" >"$w/second$i.key"
    chmod 600 "$w/second$i.key"
    $PM embed "$w/menu.wav" "$w/menu_b.wav" --model 7 --dataset 42 --key "$w/second$i.key" --no-verify 2>/dev/null
    cut "$w/menu_b.wav" 30 30 "$w/m1.wav"
    sox "$w/m0.wav" "$w/m1.wav" "$w/menu2.wav"
    ffmpeg -nostdin -v error -y -i "$w/menu2.wav" -c:a libmp3lame -b:a 128k "$w/menu2.mp3"
    $PM detect --json $K --key "$w/second$i.key" "$w/menu2.mp3" >"$w/menu2_$i.json" 2>/dev/null
    jq -e '[.marks[] | .segments[]] | length == 2 and (sort_by(.start)
        | .[0].start <= 1.5 and (.[0].end - 30 | fabs) <= 1.5 and (.[1].start - 30 | fabs) <= 1.5)' \
        "$w/menu2_$i.json" >/dev/null && held=$((held + 1))
done
check "marks: two keys on a quiet track after MP3: the first mark starts at 0 and the join is placed within 1.5 s, for 7 of 8 second keys" \
    test "$held" -ge 7

# 20 s of 7/42 between two pieces of 12345678/9876543 (one generation, so one alignment)
# on this quiet track: no window and no pair of windows decodes the middle piece; three
# windows do, two pairs that meet at one alignment in the middle window.
$PM embed "$w/menu.wav" "$w/menu_d.wav" --model 12345678 --dataset 9876543 $K --no-verify 2>/dev/null
check "marks: 20 s of 7/42 between two pieces of another payload on another quiet track: both found, 7/42 in its own range (1.5 s)" \
    middle menu3 "$w/menu_d.wav" "$w/menu_a.wav"

# The same after 7.4 minutes of unmarked music (the windows that keep alternatives
# are long used up) and after 2.5 s of it at the start of a file: the mark's range
# starts within 1.5 s of where the mark starts, not a window later, and not before it.
i="$w/in.wav"
sox "$i" "$i" "$i" "$i" "$i" "$i" "$i" "$w/pre.wav"
cut "$w/in.wav" 0 3 "$w/l0.wav"
cut "$w/7_42.wav" 3 25 "$w/l1.wav"
sox "$w/pre.wav" "$w/l0.wav" "$w/l1.wav" "$w/late.wav"
at=$(soxi -D "$w/pre.wav")
$PM detect --json $K "$w/late.wav" >"$w/late.json" 2>/dev/null
check "marks: 25 s of 7/42 after 7.4 min of unmarked music: its range starts within 1.5 s of the mark" \
    jq -e --argjson t "$at" '[.marks[] | select(.model_id == 7 and .dataset_id == 42) | .segments[]] | length == 1
        and (.[0].start - ($t + 3) | fabs) <= 1.5' "$w/late.json"
# The looped music builds long lines of strong noise alignments (15 windows, z sum 44)
# that outranked this mark's short line by summed z and kept it from the lines decoded:
# starting 441.5 or 442 s in, it was not found at all. Lines are ranked by how well
# their decoded word agrees with them.
for at in 441.5 442; do
    cut "$w/pre.wav" 0 "$at" "$w/lp.wav"
    sox "$w/lp.wav" "$w/l1.wav" "$w/late$at.wav"
    $PM detect --json $K "$w/late$at.wav" >"$w/late$at.json" 2>/dev/null
    check "marks: 25 s of 7/42 from $at s on, after looped unmarked music: found, within 1.5 s of where it starts" \
        jq -e --argjson t "$at" '[.marks[] | [.model_id, .dataset_id]] == [[7, 42]]
            and (.marks[0].segments[0].start - $t | fabs) <= 1.5' "$w/late$at.json"
done
cut "$w/in.wav" 0 2.5 "$w/e0.wav"
cut "$w/7_42.wav" 2.5 25 "$w/e1.wav"
sox "$w/e0.wav" "$w/e1.wav" "$w/early.wav"
$PM detect --json $K "$w/early.wav" >"$w/early.json" 2>/dev/null
check "marks: 7/42 after 2.5 s of unmarked music: its range starts within 1.5 s of the mark" \
    jq -e '[.marks[] | .segments[]] | length == 1 and (.[0].start - 2.5 | fabs) <= 1.5' "$w/early.json"

# Four pieces of 10-20 s of one track (7/43, 7/42, 7/42 under a second key,
# 12345678/9876543: the splice suite's "four pieces"). A 10 s piece spreads its sync
# evidence over two windows, and neither window ranks its alignment among its own
# candidates; the best alignment of the two windows together does.
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/xmoto/Textures/Musics/batcave.ogg -ac 2 -c:a pcm_s16le "$w/bc.wav"
$PM embed "$w/bc.wav" "$w/bc_n.wav" --model 7 --dataset 43 $K --no-verify 2>/dev/null
$PM embed "$w/bc.wav" "$w/bc_a.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM embed "$w/bc.wav" "$w/bc_b.wav" --model 7 --dataset 42 --key tests/data/second.key --no-verify 2>/dev/null
$PM embed "$w/bc.wav" "$w/bc_d.wav" --model 12345678 --dataset 9876543 $K --no-verify 2>/dev/null
cut "$w/bc_n.wav" 0 10 "$w/f0.wav"
cut "$w/bc_a.wav" 10 20 "$w/f1.wav"
cut "$w/bc_b.wav" 30 10 "$w/f2.wav"
cut "$w/bc_d.wav" 40 20 "$w/f3.wav"
sox "$w/f0.wav" "$w/f1.wav" "$w/f2.wav" "$w/f3.wav" "$w/four.wav"
$PM detect --json $K --key tests/data/second.key "$w/four.wav" >"$w/four.json" 2>/dev/null
check "marks: four pieces of 10-20 s under two keys: four marks, each piece's over half of it and within 1.5 s of it" jq -e '
    def ov($s; $a; $b): [([$s.end, $b] | min) - ([$s.start, $a] | max), 0] | max;
    def cov($a; $b): [.segments[] | ov(.; $a; $b)] | add // 0;
    def piece($m; $d; $a; $b): [.marks[] | select(.model_id == $m and .dataset_id == $d and cov($a; $b) >= ($b - $a) / 2)] | first;
    [piece(7; 43; 0; 10), piece(7; 42; 10; 30), piece(7; 42; 30; 40), piece(12345678; 9876543; 40; 60)] as $f
    | [[0, 10], [10, 30], [30, 40], [40, 60]] as $p
    | (.marks | length) == 4 and all($f[]; . != null) and $f[1].key != $f[2].key
      and all(range(4); . as $i | all($f[$i].segments[]; .start >= $p[$i][0] - 1.5 and .end <= $p[$i][1] + 1.5))' "$w/four.json"

# Many pieces of 2.5-5.8 s (five payloads at strengths 0.5-2, some unmarked) of one
# track: splice TRACK SKIP NAME (SKIP: seconds of TRACK skipped, 70 s kept) reads lines (tests/data/*.pieces)
# FROM LEN (sox times) MODEL/DATASET|- STRENGTH and writes $w/NAME.wav and $w/NAME.json.
splice() {
    ffmpeg -nostdin -v error -y -ss "$2" -t 70 -i "$1" -ac 2 -c:a pcm_s16le "$w/$3_in.wav"
    set -- "$3"
    i=0
    while read -r from len ids st; do
        f="$w/$1_in.wav"
        if [ "$ids" != - ]; then
            f="$w/$1_${ids%/*}_${ids#*/}_$st.wav"
            [ -s "$f" ] || $PM embed "$w/$1_in.wav" "$f" --model "${ids%/*}" --dataset "${ids#*/}" --strength "$st" $K --no-verify 2>/dev/null
        fi
        cut "$f" "$from" "$len" "$w/$1_p$i.wav"
        set -- "$@" "$w/$1_p$i.wav"
        i=$((i + 1))
    done
    name=$1
    shift
    sox "$@" "$w/$name.wav"
    $PM detect --json $K "$w/$name.wav" >"$w/$name.json" 2>/dev/null
}
# Where a run's two boundaries cross, it keeps a point, and its neighbours must meet
# there, never across it (12345678/9876543 began before 7/42's point: two marks
# claimed the same instant, out of order).
splice /usr/share/games/xmoto/Textures/Musics/batcave.ogg 5 bat <tests/data/bat.pieces
check "marks: fifteen short pieces: segments of two marks never share a moment" jq -e '
    [.marks[] | [.model_id, .dataset_id] as $id | .segments[] | {id: $id, s: .start, e: .end}] as $s
    | ($s | length) >= 2 and all($s[]; .s <= .e)
    and ([$s[] as $a | $s[] | select(.id != $a.id) | .e <= $a.s or .s >= $a.e] | all)' "$w/bat.json"
# A mark whose windows all went to others (3/99 here) has no time range: it was
# reported with an empty list of segments.
splice /usr/share/games/xmoto/Textures/Musics/foxrun.ogg 10 fox <tests/data/fox.pieces
check "marks: fifteen short pieces: every mark reported has a time range" \
    jq -e '(.marks | length) >= 2 and all(.marks[]; (.segments | length) >= 1)' "$w/fox.json"

# One mark at two speeds (an edit that speeds up its first part by 1.2): each part is
# found by one of the two pipelines (docs/FORMAT.md section 9); the mark is reported
# once, over both parts (the time ranges of one pipeline only were reported).
sox -V1 "$w/7_42.wav" "$w/fast.wav" trim 0 36 speed 1.2
cut "$w/7_42.wav" 30 30 "$w/plain.wav"
sox "$w/fast.wav" "$w/plain.wav" "$w/twospeeds.wav"
$PM detect --json $K "$w/twospeeds.wav" >"$w/twospeeds.json" 2>/dev/null
check "marks: 7/42 sped up 1.2 for 30 s, then at speed 1 for 30 s: one mark, its ranges over both parts (1.5 s)" \
    jq -e '(.marks | length) == 1 and .marks[0].model_id == 7 and .marks[0].dataset_id == 42
        and (.marks[0].segments | .[0].start <= 1.5 and .[-1].end >= 58.5 and (map(.end - .start) | add) >= 57)' \
    "$w/twospeeds.json"

# Model 7 at 20-35 s and model 3 at 50-60 s, unmarked music around them (65 s).
mark 3 42
cut "$w/in.wav" 0 20 "$w/u0.wav"
cut "$w/7_42.wav" 20 15 "$w/p7.wav"
cut "$w/in.wav" 35 15 "$w/u1.wav"
cut "$w/3_42.wav" 50 10 "$w/p3.wav"
sox "$w/in.wav" "$w/u2.wav" trim 60
sox "$w/u0.wav" "$w/p7.wav" "$w/u1.wav" "$w/p3.wav" "$w/u2.wav" "$w/two.wav"
$PM detect --json $K "$w/two.wav" >"$w/two.json" 2>/dev/null
# Ends next to unmarked music are placed less surely than joins of two marks (where
# the window's best alignment is not the mark's, only the window's share is known):
# issue 14's bound for the worst boundary, 3 s.
check "marks: model 7 at 20-35 s and model 3 at 50-60 s: two marks, each in its own range (3 s)" jq -e '
    (.marks | length) == 2
    and ([.marks[] | select(.model_id == 7) | .segments[]] | length == 1 and (.[0].start - 20 | fabs) <= 3 and (.[0].end - 35 | fabs) <= 3)
    and ([.marks[] | select(.model_id == 3) | .segments[]] | length == 1 and (.[0].start - 50 | fabs) <= 3 and (.[0].end - 60 | fabs) <= 3)' \
    "$w/two.json"
check "marks: unmarked music alone gives no mark" detect_none "$w/in.wav" $K

# A weakly marked track: 7/42 for 15 s, 20 s unmarked, 12345678/9876543 for 25 s. The
# last window of 7/42's run carries it at about half its usual level with no parts that
# say where; spread over the whole window, that share gave 7/42 2.2 s of the unmarked
# music (a range of a mark that is not there).
ffmpeg -nostdin -v error -y -ss 20 -t 60 -i /usr/share/games/xmoto/Textures/Musics/foxrun.ogg -ac 2 -ar 48000 \
    -c:a pcm_s16le "$w/fox.wav"
$PM embed "$w/fox.wav" "$w/fox_a.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM embed "$w/fox.wav" "$w/fox_d.wav" --model 12345678 --dataset 9876543 $K --no-verify 2>/dev/null
three fox_u "$w/fox_a.wav" "$w/fox.wav" "$w/fox_d.wav" 15 35
check "marks: 7/42, unmarked music, 12345678/9876543 on a quiet track: no range reaches 1.5 s into the unmarked piece" jq -e '
    ([.marks[] | [.model_id, .dataset_id]] | sort == [[7, 42], [12345678, 9876543]])
    and all(.marks[].segments[]; .end <= 16.5 or .start >= 33.5)' "$w/fox_u.json"

# A short mark that ends the file, after unmarked music (TRACK START LENGTH). Its windows
# read it best at alignments other than their tracked path, whose parts were not kept:
# the whole window went to the mark, up to 5 s of unmarked music before it (the file's
# start, or 5.9 s for a mark from 10.4 s).
G=/usr/share/games
for c in "etr/music/credits1-cp 5 3" "etr/music/freezingpoint 5 3" "etr/music/freezingpoint 10.4 3" \
    "xmoto/Textures/Musics/batcave 5 5" "xmoto/Textures/Musics/menu 10.4 3"; do
    set -- $c
    t=$(basename "$1")
    [ -s "$w/$t.wav" ] || ffmpeg -nostdin -v error -y -ss 20 -t 30 -i "$G/$1.ogg" -ac 2 -c:a pcm_s16le "$w/$t.wav"
    [ -s "$w/$t.m.wav" ] || $PM embed "$w/$t.wav" "$w/$t.m.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
    cut "$w/$t.wav" 0 "$2" "$w/tail_a.wav"
    cut "$w/$t.m.wav" "$2" "$3" "$w/tail_b.wav"
    sox "$w/tail_a.wav" "$w/tail_b.wav" "$w/tail.wav"
    $PM detect --json $K "$w/tail.wav" >"$w/tail.json" 2>/dev/null
    check "marks: $t, unmarked to $2 s then 7/42 for $3 s: one range, from $2 s to the end within 1.5 s" jq -e \
        --argjson s "$2" --argjson e "$(echo "$2 + $3" | bc)" '
        ([.marks[] | [.model_id, .dataset_id]] == [[7, 42]]) and (.marks[0].segments | length == 1)
        and (.marks[0].segments[0].start - $s | fabs) <= 1.5 and (.marks[0].segments[0].end - $e | fabs) <= 1.5' "$w/tail.json"
done

# The same through trace and the HTML timeline: a colour and a legend entry per mark.
$PM trace --json $K "$w/two.wav" >"$w/trace.json" 2>/dev/null
check "marks: trace --json lists both marks" jq -e '[.marks[].model_id] | sort == [3, 7]' "$w/trace.json"
$PM detect --json --report "$w/report.html" $K "$w/two.wav" "$w/s_7_99.wav" >/dev/null 2>&1
check "marks: report well-formed" xmllint --noout "$w/report.html"
check "marks: report draws each mark in its own colour with a legend" sh -c "
    [ \$(grep -c '<li data-mark=' $w/report.html) = 4 ] &&
    [ \$(grep -o 'data-mark=\"1\"[^>]*background:#[0-9a-f]*' $w/report.html | sed 's/.*background://' | sort -u | wc -l) = 1 ] &&
    [ \"\$(grep -o 'data-mark=\"0\"[^>]*background:#[0-9a-f]*' $w/report.html | sed 's/.*background://' | sort -u)\" != \"\$(grep -o 'data-mark=\"1\"[^>]*background:#[0-9a-f]*' $w/report.html | sed 's/.*background://' | sort -u)\" ]"

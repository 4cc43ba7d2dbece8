#!/bin/sh
# End to end on real music (Debian game-music packages): embed with a key,
# attack with real codecs and resamplers, detect blind.
. tests/lib.sh
work=build/test-e2e
corpus=build/corpus
mkdir -p "$work"
scripts/corpus.sh "$corpus" >/dev/null || { echo "FAIL corpus"; exit 0; }
# A fixed, public test key (tests/data/test.key) keeps every run identical.
K="--key tests/data/test.key"
# At the default strength (transparent by PEAQ), the attacks the benchmark shows at 10/10;
# at strength 2, the short excerpts that need it (docs/BENCHMARKS.md, strength scale).
attacks="none mp3_128k aac_128k resample_cross resample_22k crop_20s gain_m10db mono speed_1.02 tempo_1.02"
strong_attacks="crop_10s crop5s_mp3_128k"
# Far from speed 1 (the scale estimate of docs/FORMAT.md, section 9), on the first track.
scale_attacks="speed_0.85 pitch_200"
i=0
for t in etr_credits fb_main1p xm_menu xm_foxrun; do
    i=$((i + 1))
    m=$((1000 + i)) d=$((424200 + i))
    $PM embed "$corpus/$t.wav" "$work/$t.m.wav" --model $m --dataset $d $K --no-verify 2>/dev/null
    for a in $attacks; do
        bench/attack.sh "$a" "$work/$t.m.wav" "$work/$t.x.wav" 2>/dev/null
        check "e2e $t $a" detect_ids "$work/$t.x.wav" $m $d $K
    done
    # 2 s clips whose word only the list decoder finds (dsp/detect.c, check_soft): the most
    # likely word fails the tag, a later one of the eight passes (missed before the list).
    case $t in etr_credits) at=25 ;; fb_main1p) at=40 ;; *) at= ;; esac
    if [ -n "$at" ]; then
        sox -D "$work/$t.m.wav" "$work/$t.x.wav" trim "$at" 2
        check "e2e $t 2 s clip at $at s (the list decoder's word)" detect_ids "$work/$t.x.wav" $m $d $K
    fi
    # Default-strength copies whose frequency scale the estimate once dropped after two
    # windows, keeping the 8 best of 23 (dsp/scale.c: every scale is searched to the end).
    case $t in fb_main1p) a=speed_0.95 ;; xm_foxrun) a=pitch_200 ;; *) a= ;; esac
    if [ -n "$a" ]; then
        bench/attack.sh "$a" "$work/$t.m.wav" "$work/$t.x.wav" 2>/dev/null
        check "e2e $t $a (scale estimate over every frequency scale)" detect_ids "$work/$t.x.wav" $m $d $K
    fi
    # A weak mark at speed 1 beside a scaled grid's noise (dsp/detect.c, SCALED_HANDICAP):
    # the scaled pipeline's z led by 1.3 and took 48 of the 64 checks; this one needs more
    # than 32. The IDs are the benchmark's for this track, where the case was found.
    if [ $t = xm_foxrun ]; then
        $PM embed "$corpus/$t.wav" "$work/$t.b.wav" --model 108 --dataset 5008 $K --no-verify 2>/dev/null
        bench/attack.sh mp3_32k "$work/$t.b.wav" "$work/$t.x.wav" 2>/dev/null
        check "e2e $t mp3_32k, 108/5008 (the unscaled pipeline decodes first)" detect_ids "$work/$t.x.wav" 108 5008 $K
    fi
    $PM embed "$corpus/$t.wav" "$work/$t.s.wav" --model $m --dataset $d $K --strength 2 --no-verify 2>/dev/null
    for a in $strong_attacks; do
        bench/attack.sh "$a" "$work/$t.s.wav" "$work/$t.x.wav" 2>/dev/null
        check "e2e $t $a (strength 2)" detect_ids "$work/$t.x.wav" $m $d $K
    done
    if [ $i = 1 ]; then
        for a in $scale_attacks; do
            bench/attack.sh "$a" "$work/$t.s.wav" "$work/$t.x.wav" 2>/dev/null
            check "e2e $t $a (strength 2)" detect_ids "$work/$t.x.wav" $m $d $K
        done
        # The ends of the documented range, with the factors the JSON reports (speed: the
        # frequency scale, tempo: the time scale, within 1.5 %); beyond it, no wrong mark.
        for a in speed_0.80:0.80:0.80 speed_1.25:1.25:1.25 pitch_386:1.25:1 tempo_0.80:1:0.80; do
            bench/attack.sh "${a%%:*}" "$work/$t.s.wav" "$work/$t.x.wav" 2>/dev/null
            f=${a#*:}
            check "e2e $t ${a%%:*} (strength 2): found, speed ${f%:*} and tempo ${f#*:} reported" sh -c \
                "$PM detect --json $K $work/$t.x.wav 2>/dev/null | jq -e --argjson m $m --argjson d $d \
                 '.model_id == \$m and .dataset_id == \$d and (.speed / ${f%:*} - 1 | fabs) <= 0.015 and (.tempo / ${f#*:} - 1 | fabs) <= 0.015'"
        done
        # After 15 s of digital silence (an intro): the estimate's first windows score 0 at
        # every scale, and narrowing on them dropped the mark's scales (it was missed).
        bench/attack.sh speed_1.2 "$work/$t.s.wav" "$work/$t.x.wav" 2>/dev/null
        sox -D -n -r 44100 -c 2 -b 16 "$work/$t.sil.wav" trim 0 15
        sox -D "$work/$t.sil.wav" "$work/$t.x.wav" "$work/$t.late.wav"
        check "e2e $t 15 s of silence, then speed_1.2 (strength 2)" detect_ids "$work/$t.late.wav" $m $d $K
        bench/attack.sh speed_1.30 "$work/$t.s.wav" "$work/$t.x.wav" 2>/dev/null
        check "e2e $t speed_1.30 (strength 2, beyond the range): no mark but its own" sh -c \
            "$PM detect --json $K $work/$t.x.wav 2>/dev/null | jq -e --argjson m $m '.error == null and all(.marks[]?; .model_id == \$m)'"
    fi
    check "e2e $t unmarked" detect_none "$corpus/$t.wav" $K
    check "e2e $t other key" detect_none "$work/$t.m.wav"
done

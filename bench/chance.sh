#!/bin/sh
# The chance model of the fingerprint query (docs/FPINDEX.md, "Significance") checked
# on real music: two folds of the Debian game music (18 tracks, every other one), each
# indexed alone and queried with the other fold's tracks after MP3 128k, as they are and
# transposed +-1 / +-2 semitones and re-timed +-5 / +-10 % (other music as far as the
# landmarks go), cut into 10 s and 30 s windows. Every window is unrelated to the index,
# so each alignment it gets is a chance one: the E-value of the best of them should be
# at most e in a share of about e of the windows, if the model is right.
# usage: bench/chance.sh WORKDIR   -> a markdown table on stdout
set -eu
w=$1
PM=build/bin/provmark
G=/usr/share/games
mkdir -p "$w"
tracks="etr/music/credits1-cp.ogg etr/music/freezingpoint.ogg etr/music/spunkyrace-ks.ogg
etr/music/calmrace-ks.ogg etr/music/wonrace1-jt.ogg etr/music/options1-jt.ogg etr/music/race1-jt.ogg
etr/music/start1-jt.ogg xmoto/Textures/Musics/batcave.ogg xmoto/Textures/Musics/menu.ogg
xmoto/Textures/Musics/foxrun.ogg xmoto/Textures/Musics/MadeiraStew.ogg
xmoto/Textures/Musics/speeditup.ogg xmoto/Textures/Musics/ridealong.ogg
xmoto/Textures/Musics/legolodio.ogg frozen-bubble/snd/frozen-mainzik-1p.ogg
frozen-bubble/snd/frozen-mainzik-2p.ogg frozen-bubble/snd/introzik.ogg"
i=0
for f in $tracks; do
    d="$w/fold$((i % 2))"
    mkdir -p "$d/train" "$d/q"
    [ -s "$d/train/$(basename "$f")" ] || cp "$G/$f" "$d/train/"
    i=$((i + 1))
done
: >"$w/best.tsv"
for fold in 0 1; do
    d="$w/fold$fold" o="$w/fold$((1 - fold))"
    M="$d/ds.json"
    rm -f "$M" "$d/ds.pmfp"
    $PM dataset init "$M" --name chance --version 1 --license GPL-2+ 2>/dev/null
    $PM dataset add "$M" "$d/train" 2>/dev/null
    $PM dataset fingerprint "$M" 2>/dev/null
    # Queries: the other fold's tracks, MP3 128k, as they are and transformed, in windows.
    if [ ! -e "$d/q/.done" ]; then
        for f in "$o"/train/*.ogg; do
            b=$(basename "$f" .ogg)
            for v in "plain:" "p+1:pitch 100" "p-1:pitch -100" "p+2:pitch 200" "p-2:pitch -200" \
                "t+5:tempo 1.05" "t-5:tempo 0.95" "t+10:tempo 1.10" "t-10:tempo 0.90"; do
                name=${v%%:*} effect=${v#*:}
                # shellcheck disable=SC2086 # the effect is words
                sox -D "$f" -r 44100 -c 2 "$d/q/$b.$name.wav" $effect
                ffmpeg -nostdin -v error -y -i "$d/q/$b.$name.wav" -b:a 128k "$d/q/$b.$name.mp3"
                ffmpeg -nostdin -v error -y -i "$d/q/$b.$name.mp3" "$d/q/$b.$name.dec.wav"
                len=$(soxi -D "$d/q/$b.$name.dec.wav")
                for win in 10 30; do
                    s=0
                    while awk -v s="$s" -v n="$win" -v l="$len" 'BEGIN { exit !(s + n <= l) }'; do
                        sox "$d/q/$b.$name.dec.wav" "$d/q/w$win.$b.$name.$s.wav" trim "$s" "$win"
                        s=$((s + win))
                    done
                done
                rm -f "$d/q/$b.$name.wav" "$d/q/$b.$name.mp3" "$d/q/$b.$name.dec.wav"
            done
        done
        touch "$d/q/.done"
    fi
    # Every alignment with an E-value of at most 1 is reported (false rate 1, the real
    # index's size): the first match of a window is its most significant chance one.
    for win in 10 30; do
        $PM trace --json --no-detect --dataset "$M" --false-rate 1 --catalogue-hours 0 "$d"/q/w$win.*.wav 2>/dev/null |
            jq -r --arg w "$win" --arg h "$(jq .total_duration "$M")" \
                '[$w, $h, (.matches[0].log10_evalue // 10), (.matches[0].landmarks // 0), (.file | split("/") | last)] | @tsv' >>"$w/best.tsv"
    done
done
awk -F'\t' '{ n[$1]++; h[$1] += $2 / 3600
    for (k = 0; k >= -4; k--) if ($3 <= k) c[$1, k]++
    if ($3 < lo[$1]) lo[$1] = $3
    if ($4 > top[$1]) top[$1] = $4 }
    END {
    print "| windows | count | index (mean of the folds) | best E <= 1 | <= 0.1 | <= 0.01 | <= 0.001 | <= 1e-4 | lowest E seen | most landmarks in a chance alignment |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    for (win = 10; win <= 30; win += 20) {
        printf "| %d s | %d | %.2f h |", win, n[win], h[win] / n[win]
        for (k = 0; k >= -4; k--)
            printf " %d (model %.1f) |", c[win, k], n[win] * (1 - exp(-(10 ^ k)))
        printf " 10^%.1f | %d |\n", lo[win], top[win] }
    # Extrapolation: the share of windows whose best E is at most e, s(e) = a e^b, is
    # fitted (least squares in log-log) over the levels with 3 windows or more. An
    # index N times the size of these is N of them side by side: the chance of a query to meet a
    # false match there at the default (E scaled to the catalogue <= 1e-6) is about
    # N s(1e-6 / N).
    print ""
    print "| windows | fit of the share s(e) | false matches per query at 10^4 h | at 10^5 h |"
    print "|---|---|---|---|"
    for (win = 10; win <= 30; win += 20) {
        m = sx = sy = sxx = sxy = 0
        for (k = 0; k >= -4; k--)
            if (c[win, k] >= 3) { x = k; y = log(c[win, k] / n[win]) / log(10); m++; sx += x; sy += y; sxx += x * x; sxy += x * y }
        if (m < 2) { printf "| %d s | too few windows | | |\n", win; continue }
        b = (m * sxy - sx * sy) / (m * sxx - sx * sx); a = (sy - b * sx) / m
        printf "| %d s | 10^%.2f e^%.2f (%d levels) |", win, a, b, m
        for (H = 1e4; H <= 1e5; H *= 10) { N = H / (h[win] / n[win]); printf " %.1e |", N * 10 ^ (a + b * log(1e-6 / N) / log(10)) }
        printf "\n" }
    }' "$w/best.tsv"

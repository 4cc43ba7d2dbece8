#!/bin/sh
# The sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer): the plugin in
# the lilv host on real music. Any sanitizer report fails the run.
. tests/lib.sh
w=build/test-asan
mkdir -p "$w"
ffmpeg -nostdin -v error -y -ss 30 -t 8 -i /usr/share/games/frozen-bubble/snd/introzik.ogg -c:a pcm_f32le "$w/in.wav"
LV2_PATH="$PWD/build/asan/lv2:/usr/lib/lv2" build/asan/tests/lv2host "$w/in.wav" tests/data/test.key "$w/out.wav" \
    >"$w/host.out" 2>"$w/host.err"
status=$?
sed 's/^\(ok\|FAIL\) /\1 asan: /' "$w/host.out"
check "asan: lilv host exits cleanly, no sanitizer report" sh -c "test $status -eq 0 && ! grep -q 'Sanitizer\|runtime error' $w/host.err"

#!/bin/sh
# The sanitizer builds: the plugin in the lilv host on real music under AddressSanitizer +
# UndefinedBehaviorSanitizer, and under ThreadSanitizer (worker threads per instance, and
# 8 instances loading keys in parallel). Any sanitizer report fails the run.
. tests/lib.sh
w=build/test-asan
rm -rf "$w"
mkdir -p "$w/par"
# 20 s: the key loads asynchronously (nothing is marked until it is in use), and at the
# default strength the marked rest must be long enough to be found.
ffmpeg -nostdin -v error -y -ss 30 -t 20 -i /usr/share/games/frozen-bubble/snd/introzik.ogg -c:a pcm_f32le "$w/in.wav"
LV2_PATH="$PWD/build/asan/lv2:/usr/lib/lv2" build/asan/tests/lv2host "$w/in.wav" tests/data/test.key "$w/out.wav" \
    >"$w/host.out" 2>"$w/host.err"
status=$?
sed 's/^\(ok\|FAIL\) /\1 asan: /' "$w/host.out"
check "asan: lilv host exits cleanly, no sanitizer report" sh -c "test $status -eq 0 && ! grep -q 'Sanitizer\|runtime error' $w/host.err"

export LV2_PATH="$PWD/build/tsan/lv2:/usr/lib/lv2"
build/tsan/tests/lv2host "$w/in.wav" tests/data/test.key "$w/tsan.wav" >"$w/tsan.out" 2>"$w/tsan.err"
status=$?
sed 's/^\(ok\|FAIL\) /\1 tsan: /' "$w/tsan.out"
check "tsan: lilv host (sync, jalv-like and per-instance worker threads) exits cleanly, no race" \
    sh -c "test $status -eq 0 && ! grep -q 'ThreadSanitizer' $w/tsan.err"
build/tsan/tests/lv2host --parallel 8 1000 "$w/par" >"$w/par.out" 2>"$w/par.err"
status=$?
sed -n 's/^\(ok\|FAIL\) parallel/\1 tsan: parallel/p' "$w/par.out"
check "tsan: 8 instances x 1000 parallel key loads, no race" \
    sh -c "test $status -eq 0 && ! grep -q 'ThreadSanitizer' $w/par.err"

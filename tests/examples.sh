#!/bin/sh
# The back-end integration: install, pkg-config build of the C example, the Python
# binding's tests and example, the ffmpeg and pipe examples (the Ardour example runs in
# tests/hosts.sh). Real music from xmoto-data, real ffmpeg encoders.
. tests/lib.sh
w=build/test-examples
rm -rf "$w"
mkdir -p "$w"
K=tests/data/test.key
PY=/usr/bin/python3 # Debian's, with python3-numpy
music=/usr/share/games/xmoto/Textures/Musics/batcave.ogg
ffmpeg -nostdin -v error -y -ss 20 -t 20 -i "$music" -c:a pcm_s16le "$w/music.wav"

# make install into a prefix; then only pkg-config knows where things are.
prefix="$PWD/$w/prefix"
make -s install PREFIX="$prefix" >"$w/install.log" 2>&1
check "make install: header, static and shared library, pkg-config file" \
    test -f "$prefix/include/provmark.h" -a -f "$prefix/lib/libprovmark.a" \
    -a -L "$prefix/lib/libprovmark.so" -a -f "$prefix/lib/pkgconfig/provmark.pc"
check "shared library: SONAME libprovmark.so.1" \
    sh -c "readelf -d '$prefix/lib/libprovmark.so' | grep -q 'SONAME.*\[libprovmark.so.1\]'"
check "shared library: only the public API (pm_*) is exported" \
    sh -c "nm -D --defined-only '$prefix/lib/libprovmark.so' | awk '{print \$3}' | grep -v '^pm_' | grep -q . && exit 1 || nm -D --defined-only '$prefix/lib/libprovmark.so' | grep -q ' pm_embedder_new'"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config: version of the header" \
    sh -c "[ \"\$(pkg-config --modversion provmark)\" = \"\$(sed -n 's/^#define PM_VERSION_STRING \"\(.*\)\"/\1/p' include/provmark.h)\" ]"

# The C example, built with nothing but what pkg-config says.
cc -std=c11 -Wall -Wextra -Werror -o "$w/embed_stream" examples/c/embed_stream.c \
    $(pkg-config --cflags --libs provmark) -lm 2>"$w/cc.log"
check "C example builds against pkg-config --cflags --libs provmark" test -x "$w/embed_stream"
LD_LIBRARY_PATH="$prefix/lib" "$w/embed_stream" --key $K "$w/c.wav" 20 >"$w/c.out" 2>&1
check "C example: generator loop marked in 20 ms chunks, detector API finds 7/42" \
    grep -q "detected: model 7, dataset 42" "$w/c.out"
check "C example: its WAV is sample-aligned (20 s) and carries 7/42 for the command too" \
    sh -c "[ \"\$(soxi -s $w/c.wav)\" = 960000 ] && $(printf '%s' "$PM") detect --json --key $K $w/c.wav | jq -e '.model_id == 7 and .dataset_id == 42' >/dev/null"
check "C example: uses the installed shared library" \
    sh -c "LD_LIBRARY_PATH='$prefix/lib' ldd $w/embed_stream | grep -q '$prefix/lib/libprovmark.so.1'"
cc -std=c11 -o "$w/embed_stream_static" examples/c/embed_stream.c \
    $(pkg-config --static --cflags provmark) "$prefix/lib/libprovmark.a" \
    $(pkg-config --static --libs-only-l provmark | sed 's/-lprovmark//') -lm 2>>"$w/cc.log"
check "C example: static build from pkg-config --static runs without the .so" \
    sh -c "$w/embed_stream_static --key $K $w/cs.wav 8 | grep -q 'detected: model 7, dataset 42'"

# make install put the Python package in the prefix; it loads the library installed there.
pysite=$(ls -d "$prefix"/lib/python3*/dist-packages)
check "make install: the Python package, loading the prefix's library" \
    sh -c "cd / && PYTHONPATH='$pysite' $PY -c 'import provmark; assert provmark.library_path == \"$prefix/lib/libprovmark.so.1\"'"

# pip install ./python into a fresh virtual environment (Debian's numpy and setuptools,
# offline); the binding's own tests run against that installed package, each reported
# as one check.
$PY -m venv --system-site-packages --without-pip "$w/venv"
"$w/venv/bin/python" -m pip install -q --no-build-isolation ./python >"$w/pip.log" 2>&1
check "pip install ./python: into a fresh virtual environment, library bundled" \
    sh -c "test -f $w/venv/lib/python3*/site-packages/provmark/libprovmark.so.1"
PROVMARK_TEST_INSTALLED=1 "$w/venv/bin/python" -m unittest discover -v -s python/tests >"$w/py.log" 2>&1
sed -n 's/^\(test_[a-z0-9_]*\) .* \.\.\. ok$/ok python: \1/p; s/^\(test_[a-z0-9_]*\) .* \.\.\. \(FAIL\|ERROR\)$/FAIL python: \1/p' "$w/py.log"
check "python: the whole binding suite ran and passed" sh -c "grep -q '^OK$' $w/py.log"

# The Python back-end example, with the source tree's library and with the installed one.
$PY examples/python/generate_and_mark.py --key $K --model 31 --dataset 32 "$w/py.wav" >"$w/pyex.out" 2>&1
check "python example: chunks marked in-process, detector API finds 31/32" \
    grep -q "detected: model 31, dataset 32" "$w/pyex.out"
check "python example: the command finds 31/32 in its WAV" detect_ids "$w/py.wav" 31 32 --key $K
PROVMARK_LIBRARY="$prefix/lib/libprovmark.so.1" $PY examples/python/generate_and_mark.py \
    --key $K --model 33 --dataset 34 --seconds 8 "$w/py2.wav" >"$w/pyex2.out" 2>&1
check "python example: runs on the installed library (PROVMARK_LIBRARY)" \
    grep -q "detected: model 33, dataset 34" "$w/pyex2.out"
"$w/venv/bin/python" examples/python/mark_batch.py --key $K --ids 35 36 --rate 44100 --seconds 6 >"$w/batch.out" 2>&1
check "python batch example: a (4, 2, frames) batch at 44.1 kHz marked in one call, each item 35/36" \
    sh -c "[ \$(jq -s 'map(select(.found and .model_id == 35 and .dataset_id == 36)) | length' $w/batch.out) = 4 ]"
$PY examples/python/generate_and_mark.py --key /nonexistent.key "$w/py3.wav" >"$w/pyex3.out" 2>&1
check "python example: an unreadable key is one clear line, no output" \
    sh -c "[ \$(wc -l <$w/pyex3.out) -eq 1 ] && grep -q 'key file' $w/pyex3.out && [ ! -e $w/py3.wav ]"

# ffmpeg's lv2 filter, marking while encoding to MP3 and Opus with the key from PROVMARK_KEY.
export LV2_PATH="$PWD/build/lv2:/usr/lib/lv2"
PROVMARK_KEY=$K examples/ffmpeg/mark-and-encode.sh "$w/music.wav" "$w/ff" 51 52 >"$w/ff.out" 2>&1
check "ffmpeg example: MP3 marked while encoding carries 51/52" detect_ids "$w/ff/music.mp3" 51 52 --key $K
check "ffmpeg example: Opus marked while encoding carries 51/52" detect_ids "$w/ff/music.opus" 51 52 --key $K
check_exit "ffmpeg example: an unreadable PROVMARK_KEY stops ffmpeg" 1 \
    env PROVMARK_KEY=/nonexistent.key examples/ffmpeg/mark-and-encode.sh "$w/music.wav" "$w/ff2" 1 2
check "ffmpeg example: ... and leaves no file behind" sh -c "[ -z \"\$(ls -A $w/ff2)\" ]"

# Pipes: decoder | provmark embed - - | encoder, and a WAV stream of unknown length.
PROVMARK_KEY=$K PM="$PM" examples/pipe/pipe.sh "$w/music.wav" "$w/pipe" 61 62 >"$w/pipe.out" 2>&1
check "pipe example: ffmpeg | provmark embed - - | ffmpeg gives an MP3 with 61/62" \
    detect_ids "$w/pipe/music.mp3" 61 62 --key $K
check "pipe example: a back end's unknown-length WAV stream marked into FLAC (12 s, 61/62)" \
    sh -c "[ \"\$(soxi -s $w/pipe/backend.flac)\" = 576000 ] && $(printf '%s' "$PM") detect --json --key $K $w/pipe/backend.flac | jq -e '.model_id == 61' >/dev/null"
"$PM" embed "$w/music.wav" - --model 1 --dataset 2 --key $K 2>/dev/null | cat >"$w/stream.wav"
check "embed to a pipe: a streaming WAV header that sox and the detector read" \
    sh -c "[ \"\$(sox $w/stream.wav -t raw - | wc -c)\" = \"\$(sox $w/music.wav -t raw - | wc -c)\" ] && $(printf '%s' "$PM") detect --key $K $w/stream.wav >/dev/null"

# Man pages (help2man over the real --help) and shell completion, as make install put them.
man_of() { man --manpath="$prefix/share/man" -P cat "$@" 2>/dev/null; }
check "man: a page for provmark and for each command of 'provmark --help'" sh -c "
    for c in '' \$($(printf '%s' "$PM") --help | sed -n '/^commands:/,/^\$/s/^  \([a-z]*\).*/-\1/p'); do
        man --manpath=$prefix/share/man -w provmark\$c >/dev/null 2>&1 || exit 1; done"
check "man provmark-embed: NAME, both usages in SYNOPSIS, the options from --help" sh -c "
    man --manpath=$prefix/share/man -P cat provmark-embed 2>/dev/null >$w/man-embed.txt &&
    grep -Eq 'provmark-embed +- +watermark audio files' $w/man-embed.txt &&
    grep -q 'provmark embed -r IN_DIR OUT_DIR' $w/man-embed.txt && grep -q -- '--format EXT' $w/man-embed.txt &&
    grep -q 'provmark-detect(1)' $w/man-embed.txt"
check "man pages: groff finds nothing to warn about" sh -c "
    for p in $prefix/share/man/man1/*.1; do
        LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z \$p 2>&1 >/dev/null | grep -q . && exit 1; done; true"

mkdir -p "$w/comp/sub"
touch "$w/comp/a.wav" "$w/comp/b.FLAC" "$w/comp/sp ace.mp3" "$w/comp/notes.txt"
bash_complete() { # WORDS...: what the installed bash completion offers for the last word
    (cd "$w/comp" && PATH="$prefix/bin:$PATH" bash -c '. "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _provmark; printf "%s|" "${COMPREPLY[@]}"' \
        sh "$prefix/share/bash-completion/completions/provmark" "$@")
}
check "bash completion: commands" test "$(bash_complete provmark e)" = "embed|"
check "bash completion: help's operand is a command" \
    test "$(bash_complete provmark help de)$(bash_complete provmark help detect "")" = "detect||"
check "bash completion: dataset's subcommands" test "$(bash_complete provmark dataset f)" = "fingerprint|"
opts=$(bash_complete provmark embed --)
opts="|$opts"
check "bash completion: options of the command, from its --help ($opts)" \
    sh -c "echo '$opts' | grep -q '|--format|' && echo '$opts' | grep -q '|--no-verify|' && ! echo '$opts' | grep -q '|--json|'"
check "bash completion: option values (--format, --decoder)" \
    test "$(bash_complete provmark embed --format o)$(bash_complete provmark detect --decoder f)" = "ogg|opus|ffmpeg|"
check "bash completion: operands are audio files (any case, odd names) and folders" \
    test "$(bash_complete provmark detect "" | tr '|' '\n' | sort | tr '\n' '|')" = "a.wav|b.FLAC|sp ace.mp3|sub|"
(cd "$w/comp" && zsh ../../../tests/zsh-complete.zsh "$prefix/share/zsh/site-functions" "$prefix/bin" \
    "provmark em" "provmark embed --for" "provmark embed --format op" "provmark dataset fin" "provmark detect no" \
    "provmark detect sp") >"$w/zsh.out" 2>&1
check "zsh completion in an interactive zsh: commands, options, values" sh -c "
    grep -qx ':provmark embed:' $w/zsh.out && grep -qx ':provmark embed --format:' $w/zsh.out &&
    grep -qx ':provmark embed --format opus:' $w/zsh.out && grep -qx ':provmark dataset fingerprint:' $w/zsh.out"
check "zsh completion: operands are audio files, not other files" sh -c "
    grep -qx ':provmark detect no:' $w/zsh.out && grep -qx ':provmark detect sp ace.mp3:' $w/zsh.out"

# make uninstall (same PREFIX): nothing that make install put there is left.
make -s uninstall PREFIX="$prefix" >"$w/uninstall.log" 2>&1
check "make uninstall: no file or link left in the prefix" sh -c "[ -z \"\$(find $prefix -type f -o -type l)\" ]"

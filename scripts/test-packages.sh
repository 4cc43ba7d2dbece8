#!/bin/sh
# Build the Debian packages from a copy of this tree (dpkg-buildpackage -us -uc -b),
# check them with lintian (no error), install them on this machine with dpkg -i, use
# each one (the command, the library through pkg-config, the plugin through lv2ls and
# lv2apply, the Python module), purge them and check that no file of theirs is left.
# Prints ok/FAIL lines, as the test suites do. Needs root (dpkg -i).
#   scripts/test-packages.sh [build|use|all|check]
# build: the packages and lintian only; changes nothing outside build/packages, so
#   make test runs it beside the other suites. DEB_BUILD_OPTIONS passes through (make
#   test sets nocheck: it runs the same unit tests itself).
# use: install, use and purge what build made; make test runs it after every other
#   suite, since the installed bundle is on every host's default LV2 path.
# all (default): both. check: only whether any of them is installed already (exit 1).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
PM=/usr/bin/provmark
w=$PWD/build/packages
version=$(sed -n 's/^#define PM_VERSION_STRING "\(.*\)"/\1/p' include/provmark.h)
pkgs="libprovmark1 libprovmark-dev provmark lv2-provmark python3-provmark"
phase=${1:-all}
case "$phase" in build | use | all | check) ;; *) echo "test-packages.sh: unknown phase '$phase' (build, use, all, check)" >&2; exit 2 ;; esac
# Never replace or purge packages someone installed on purpose (check: this alone).
if [ "$phase" != build ]; then
    for p in $pkgs; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
            echo "FAIL test-packages: $p is installed already; purge it first (dpkg --purge $pkgs)"
            exit 1
        fi
    done
fi
[ "$phase" = check ] && exit 0
if [ "$phase" != build ] && [ "$(id -u)" -ne 0 ]; then # make test's contract is root; say what was not done
    echo "skip Debian packages not installed and used: dpkg -i needs root (make test-packages as root)"
    exit 0
fi
if [ "$phase" != use ]; then
    rm -rf "$w"
    mkdir -p "$w/provmark-$version"
    # The tree as it is (tracked and new files, not what git ignores), without build/.
    git ls-files -z --cached --others --exclude-standard | tar -c --null -T - | tar -x -C "$w/provmark-$version"
    (cd "$w/provmark-$version" && nice dpkg-buildpackage -us -uc -b) >"$w/build.log" 2>&1
    check "dpkg-buildpackage -us -uc -b builds the five packages" \
        sh -c "for p in $pkgs; do ls $w/\${p}_${version}_*.deb >/dev/null || exit 1; done"
    lintian --fail-on error "$w"/provmark_*.changes >"$w/lintian.log" 2>&1
    check "lintian: no error ($(grep -c '^W:' "$w/lintian.log") warnings, build/packages/lintian.log)" \
        sh -c "! grep -q '^E:' $w/lintian.log"
    check "libprovmark1: a symbols file covering the API" sh -c "
        dpkg-deb --ctrl-tarfile $w/libprovmark1_${version}_*.deb | tar -xO ./symbols | grep -q ' pm_embedder_new@Base'"
fi
[ "$phase" = build ] && exit 0

purge() { dpkg --purge $pkgs >"$w/purge.log" 2>&1; }
trap purge EXIT
trap 'exit 130' INT TERM HUP # dash runs the EXIT trap only on exit, not on a signal
debs=$(for p in $pkgs; do ls "$w/${p}_${version}"_*.deb; done) # not the -dbgsym ones
# shellcheck disable=SC2086
dpkg -i $debs >"$w/install.log" 2>&1
check "dpkg -i: all five installed" sh -c "for p in $pkgs; do dpkg-query -W -f='\${Status}' \$p | grep -q 'ok installed' || exit 1; done"

# The command, its man page and completion.
music=/usr/share/games/xmoto/Textures/Musics/batcave.ogg
ffmpeg -nostdin -v error -y -ss 20 -t 12 -i "$music" "$w/music.wav"
check "provmark: --version is the packaged version" test "$($PM --version)" = "provmark $version"
$PM keygen "$w/k.key" 2>/dev/null
$PM embed "$w/music.wav" "$w/m.flac" --model 3 --dataset 4 --key "$w/k.key" 2>/dev/null
check "provmark: keygen, embed, detect" detect_ids "$w/m.flac" 3 4 --key "$w/k.key"
check "provmark: man provmark-embed, bash and zsh completion" sh -c "
    man -w provmark-embed | grep -q '^/usr/share/man/man1/provmark-embed.1' &&
    test -f /usr/share/bash-completion/completions/provmark -a -f /usr/share/zsh/vendor-completions/_provmark"

# The library, through pkg-config only.
check "libprovmark-dev: pkg-config --libs provmark (in /usr: $(pkg-config --libs provmark))" \
    sh -c "[ \"\$(pkg-config --variable=prefix provmark)\" = /usr ] && pkg-config --libs provmark | grep -q -- '-lprovmark'"
cc -std=c11 -o "$w/embed_stream" examples/c/embed_stream.c $(pkg-config --cflags --libs provmark) -lm 2>"$w/cc.log"
"$w/embed_stream" --key "$w/k.key" "$w/c.wav" 8 >"$w/c.out" 2>&1
check "libprovmark1: the C example built with pkg-config runs on /usr/lib/libprovmark.so.1" sh -c "
    grep -q 'detected: model 7, dataset 42' $w/c.out &&
    [ \"\$(realpath \"\$(ldd $w/embed_stream | sed -n 's/.*libprovmark.so.1 => \\([^ ]*\\).*/\\1/p')\")\" = /usr/lib/libprovmark.so.$version ]"

# The plugin: lilv finds it in /usr/lib/lv2; lv2apply marks with it (demo key).
check "lv2-provmark: lv2ls lists urn:provmark:stereo and :mono" \
    sh -c "LV2_PATH=/usr/lib/lv2 lv2ls | grep -qx urn:provmark:stereo && LV2_PATH=/usr/lib/lv2 lv2ls | grep -qx urn:provmark:mono"
LV2_PATH=/usr/lib/lv2 lv2apply -i "$w/music.wav" -o "$w/lv2.wav" -c model_id 11 -c dataset_id 12 urn:provmark:stereo 2>/dev/null
check "lv2-provmark: lv2apply marks, the packaged command detects 11/12" detect_ids "$w/lv2.wav" 11 12

# The Python module, from outside the tree, on the packaged library.
(cd / && /usr/bin/python3 - "$w/py.out" <<'PY'
import sys, numpy as np, provmark
assert provmark.__file__.startswith("/usr/lib/python3/dist-packages/"), provmark.__file__
rng = np.random.default_rng(1)
t = np.arange(6 * 48000) / 48000
x = (0.1 * np.sin(2 * np.pi * 220 * t * (1 + (t * 4).astype(int) % 3 / 4)) * np.exp(-3 * (t * 4 % 1))
     + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
batch = np.stack([np.stack([x, 0.9 * x])] * 2)
key = provmark.Key.generate()
y = provmark.Embedder(48000, 2, key, 21, 22, channels_first=True).mark_batch(batch)
r = provmark.Detector(48000, 2, [key], channels_first=True).detect_batch(y)
open(sys.argv[1], "w").write(f"{provmark.library_path} {[(i.model_id, i.dataset_id) for i in r]}\n")
PY
) 2>"$w/py.err"
check "python3-provmark: import from /usr, a batch round trip on /usr/lib/libprovmark.so.1" \
    grep -qx '/usr/lib/libprovmark.so.1 \[(21, 22), (21, 22)\]' "$w/py.out"

# Purge: every file the packages installed is gone (and nothing made at run time is left).
for d in $debs; do dpkg -c "$d"; done | awk '{print substr($6, 2)}' | grep -v '/$' >"$w/files"
purge
trap - EXIT INT TERM HUP
check "dpkg --purge: the five packages gone" sh -c "! dpkg -l $pkgs 2>/dev/null | grep -q '^[ir]i '"
check "dpkg --purge: no file of theirs left (nor __pycache__ or the bundle's folder)" sh -c "
    while read -r f; do [ -e \"\$f\" ] || [ -L \"\$f\" ] && exit 1; done <$w/files;
    [ ! -e /usr/lib/python3/dist-packages/provmark ] && [ ! -e /usr/lib/lv2/provmark.lv2 ]"

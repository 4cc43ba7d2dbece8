#!/bin/sh
# Install the Debian packages a make target needs, only those missing.
# usage: scripts/deps.sh build|demo|test|hosts|fuzz|packages
set -eu
build="gcc make pkg-config help2man libsndfile1-dev libsoxr-dev libfftw3-dev libsodium-dev libjansson-dev lv2-dev liblilv-dev"
music="xmoto-data extremetuxracer-data frozen-bubble-data"
hosts="jalv jackd2 jack-tools ardour"
case "${1:-build}" in
build) want="$build" ;;
demo) want="$build ffmpeg xmoto-data" ;;
hosts) want="$build $hosts" ;;
fuzz) want="$build clang libclang-rt-14-dev" ;;
packages) want="$build debhelper dh-python lintian fakeroot libcmocka-dev python3-numpy" ;;
test) want="$build debhelper dh-python lintian fakeroot zsh libcmocka-dev cppcheck clang-tidy ffmpeg sox libsox-fmt-mp3 jq libxml2-utils parallel openssh-server openssh-client lilv-utils serdi sordi python3 python3-numpy python3-jsonschema chromium fonts-dejavu-core $hosts $music" ;;
*) echo "deps.sh: unknown set '$1' (build, demo, test, hosts, fuzz, packages)" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "provmark needs these Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

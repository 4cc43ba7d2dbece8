#!/bin/sh
# Render the man page of `provmark [COMMAND]` from its real --help (one source: the
# usage text in cli/), with the sections --help has not from docs/man/NAME.h2m.
# usage: docs/man/help2man.sh PROVMARK VERSION COMMAND|"" OUT.1
set -eu
pm=$(realpath "$1") version=$2 cmd=$3 out=$4
here=$(realpath "$(dirname "$0")")
name=provmark${cmd:+-$cmd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# help2man runs NAME --help: a wrapper of that name runs the command, its usage
# lines in the GNU form help2man reads (docs/man/usage.awk).
printf '#!/bin/sh\n"%s" %s "$@" | awk -f "%s/usage.awk"\n' "$pm" "$cmd" "$here" >"$tmp/$name"
chmod +x "$tmp/$name"
help2man --no-info --version-string="$version" --include="$here/$name.h2m" --output="$out.tmp" "$tmp/$name"
mv "$out.tmp" "$out"

#!/bin/sh
# The library's boundary: libprovmark.a and libprovmark.so export exactly the functions
# include/provmark.h documents (PM_API), nothing internal; the private headers stay in
# dsp/, apart from the public one.
. tests/lib.sh
w=build/test-symbols
mkdir -p "$w"
sed -n 's/^PM_API.*[ *]\(pm_[a-z0-9_]*\)(.*/\1/p' include/provmark.h | sort -u >"$w/api"
nm -g --defined-only build/lib/libprovmark.a | awk 'NF == 3 { print $3 }' | sort -u >"$w/static"
nm -D --defined-only build/lib/libprovmark.so | awk 'NF == 3 { print $3 }' | sort -u >"$w/shared"
check "the header documents the API ($(wc -l <"$w/api") functions)" test "$(wc -l <"$w/api")" -gt 20
check "libprovmark.a exports exactly the documented pm_* functions" cmp -s "$w/api" "$w/static"
check "libprovmark.so exports exactly the documented pm_* functions" cmp -s "$w/api" "$w/shared"
check "the internals are still in libprovmark.a, as local symbols" \
    sh -c "nm build/lib/libprovmark.a | grep -q ' t pm_fec_encode\$'"
check "only the public header is installed from include/; dsp/ has the private ones" \
    sh -c "[ \$(ls include) = provmark.h ] && ! ls dsp/provmark.h 2>/dev/null"
# The Debian symbols file lists every exported function, and nothing else: a function
# missing from it gets no minimum version in packages that link it.
sed -n 's/^ \(pm_[a-z0-9_]*\)@Base .*/\1/p' debian/libprovmark1.symbols | sort -u >"$w/debian"
check "debian/libprovmark1.symbols lists exactly the exported functions" cmp -s "$w/api" "$w/debian"
check "debian/libprovmark1.symbols holds only its header and symbol lines" \
    sh -c "! grep -v -e '^libprovmark.so.1 ' -e '^\* Build-Depends-Package: ' -e '^ pm_[a-z0-9_]*@Base [0-9.]*\$' debian/libprovmark1.symbols"

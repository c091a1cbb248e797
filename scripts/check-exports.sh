#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-exports.sh LIBHOMA_SO HOMA_H - the dynamic symbols libhoma.so
# defines (nm -D --defined-only, version suffixes and the version node
# itself left out) must be exactly the functions declared in homa.h: a
# line of homa.h that starts in column 0 with a type and then names
# homa_NAME( (the header's one style of declaration). Prints both lists'
# differences and fails on any; also fails when the soname is not
# libhoma.so.MAJOR of the ABI (src/api/libhoma.map's node HOMA_MAJOR).
# Run as the CTest exports_check (label unit).
set -eu

lib=${1:?usage: check-exports.sh LIBHOMA_SO HOMA_H}
hdr=${2:?usage: check-exports.sh LIBHOMA_SO HOMA_H}
work=$(mktemp -d "${TMPDIR:-/tmp}/homa-exports.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
	echo "check-exports: FAIL: $*" >&2
	exit 1
}
[ -f "$lib" ] || fail "$lib: no such library"
[ -f "$hdr" ] || fail "$hdr: no such header"
command -v nm >/dev/null 2>&1 || fail "nm not found (binutils)"

sed -n 's/^[A-Za-z_][A-Za-z0-9_ ]*[ *]\(homa_[a-z0-9_]*\)(.*/\1/p' "$hdr" |
	sort -u >"$work/declared"
[ -s "$work/declared" ] || fail "no function declarations found in $hdr"

# "ADDR T name@@HOMA_0"; the version node is an absolute symbol "A HOMA_0".
nm -D --defined-only "$lib" |
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$work/exported"

if ! cmp -s "$work/declared" "$work/exported"; then
	echo "declared in $hdr but not exported by $lib:" >&2
	comm -23 "$work/declared" "$work/exported" | sed 's/^/  /' >&2
	echo "exported by $lib but not declared in $hdr:" >&2
	comm -13 "$work/declared" "$work/exported" | sed 's/^/  /' >&2
	fail "libhoma.so's exports differ from homa.h (src/api/libhoma.map)"
fi

# Every export carries a version node HOMA_N, and the soname names the
# ABI of the first (oldest) node: libhoma.so.N.
node=$(nm -D --defined-only "$lib" | awk '$2 == "A" { print $3 }' | sort | head -n 1)
case $node in
HOMA_[0-9]*) ;;
*) fail "no version node HOMA_N in $lib (got '$node')" ;;
esac
unversioned=$(nm -D --defined-only "$lib" |
	awk '$2 != "A" && $3 !~ /@@?HOMA_[0-9]/' | wc -l)
[ "$unversioned" -eq 0 ] || fail "$unversioned exports lack a version node"
abi=${node#HOMA_}
abi=${abi%%.*}
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libhoma.so.$abi" ] ||
	fail "soname is '$soname', the version node $node says libhoma.so.$abi"
echo "check-exports: ok ($(wc -l <"$work/declared") functions, $node, $soname)"

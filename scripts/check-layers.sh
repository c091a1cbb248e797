#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-layers.sh - enforce the core's stack (docs/architecture.md): every
# file of src/core has a layer below, and a file may use only files of
# lower layers (its own header aside). Two checks, so that neither an
# #include nor a call can slip past:
#   1. #include "x.h" lines of every src/core .c and .h file;
#   2. symbols: each .c file is compiled alone (-O0, into a temporary
#      directory) and every undefined symbol of its object (nm) that
#      another core object defines must come from a lower layer.
# A file missing from the table fails too, so a new file gets a layer.
# Prints every offence and exits 1 if there is any. CC overrides cc.
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."

# The stack, bottom first. Files on one line are siblings: they may not
# use each other.
layers='
0 list config metrics wire
1 homa_core cutoffs grant
2 pool reasm
3 homa_impl
4 base place
5 peer
6 outgoing msgin
7 rpc
8 sock
9 incoming ops timer view
10 homa place_rx
'

level() { # level STEM -> its layer, or nothing
	echo "$layers" | awk -v f="$1" '{ for (i = 2; i <= NF; i++) if ($i == f) print $1 }'
}

fail=0
offend() {
	echo "check-layers: $*"
	fail=1
}

# 1. Includes.
for f in src/core/*.c src/core/*.h; do
	stem=$(basename "$f" | sed 's/\.[ch]$//')
	me=$(level "$stem")
	if [ -z "$me" ]; then
		offend "$f has no layer (add it to scripts/check-layers.sh)"
		continue
	fi
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' "$f"); do
		[ "$h" = "$stem" ] && continue
		them=$(level "$h")
		if [ -z "$them" ]; then
			offend "$f includes $h.h, which has no layer"
		elif [ "$them" -ge "$me" ]; then
			offend "$f (layer $me) includes $h.h (layer $them)"
		fi
	done
done

# 2. Symbols.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in src/core/*.c; do
	stem=$(basename "$f" .c)
	${CC:-cc} -std=c11 -O0 -c -Isrc/core -Iinclude "$f" -o "$tmp/$stem.o" ||
		offend "$f does not compile"
done
for o in "$tmp"/*.o; do
	nm -g --defined-only "$o" | awk -v f="$(basename "$o" .o)" \
		'NF == 3 { print $3, f }'
done | sort >"$tmp/defs"
for o in "$tmp"/*.o; do
	stem=$(basename "$o" .o)
	me=$(level "$stem")
	[ -z "$me" ] && continue
	nm -u "$o" | awk '{ print $NF }' | sort -u |
		join - "$tmp/defs" >"$tmp/uses" || true
	while read -r sym owner; do
		them=$(level "$owner")
		if [ "$them" -ge "$me" ]; then
			offend "$stem.c (layer $me) calls $sym of $owner.c (layer $them)"
		fi
	done <"$tmp/uses"
done

[ $fail = 0 ] || exit 1
set -- src/core/*.c
echo "check-layers: ok ($# files, $(wc -l <"$tmp/defs") symbols)"

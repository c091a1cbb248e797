#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-lua-wire.sh [CC] - the Wireshark dissector (tools/wireshark/homa.lua)
# is Lua and cannot include the wire format's one home, src/core/wire.h, so
# its copies of wire.h's numbers are checked here against the C
# preprocessor's reading of wire.h (and homa.h): type codes, header sizes
# (the smallest accepted per type), doff values, the full-build markers,
# the special values, the array sizes and the largest message. Prints each
# mismatch; exits 1 if any.
set -eu
cd "$(dirname "$0")/.."
cc=${1:-${CC:-cc}}
lua=tools/wireshark/homa.lua
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the C headers say: "@@ NAME VALUE" lines, NAME being the Lua name.
cat >"$work/want.c" <<'EOF'
#include "wire.h"
#include "homa.h"
@@ T_DATA HOMA_PKT_DATA
@@ T_GRANT HOMA_PKT_GRANT
@@ T_RESEND HOMA_PKT_RESEND
@@ T_CUTOFFS HOMA_PKT_CUTOFFS
@@ T_ACK HOMA_PKT_ACK
@@ COMMON_BYTES HOMA_WIRE_COMMON_BYTES
@@ DOFF_CONTROL HOMA_WIRE_DOFF_CONTROL
@@ DOFF_DATA HOMA_WIRE_DOFF_DATA
@@ DOFF_DATA_GSO HOMA_WIRE_DOFF_DATA_GSO
@@ HIJACK_FLAGS HOMA_WIRE_FLAGS
@@ HIJACK_URGENT HOMA_WIRE_URGENT
@@ SEG_OFFSET_IN_SEQ HOMA_WIRE_SEG_OFFSET_IN_SEQ
@@ RESEND_ALL HOMA_WIRE_RESEND_ALL
@@ MAX_ACKS HOMA_WIRE_MAX_ACKS
@@ NUM_CUTOFFS HOMA_WIRE_NUM_CUTOFFS
@@ MAX_MESSAGE_BYTES HOMA_MAX_MESSAGE_LENGTH
@@ MIN_BYTES[0x10] HOMA_WIRE_DATA_BYTES
@@ MIN_BYTES[0x11] HOMA_WIRE_GRANT_BYTES
@@ MIN_BYTES[0x12] HOMA_WIRE_RESEND_UPSTREAM_BYTES
@@ MIN_BYTES[0x13] HOMA_WIRE_COMMON_BYTES
@@ MIN_BYTES[0x14] HOMA_WIRE_COMMON_BYTES
@@ MIN_BYTES[0x15] HOMA_WIRE_CUTOFFS_BYTES
@@ MIN_BYTES[0x16] HOMA_WIRE_COMMON_BYTES
@@ MIN_BYTES[0x17] HOMA_WIRE_COMMON_BYTES
@@ MIN_BYTES[0x18] HOMA_WIRE_ACK_BYTES
EOF
# The enum's codes are not macros: spell them out for the preprocessor.
sed -n 's/^[[:space:]]*\(HOMA_PKT_[A-Z_]*\) = \(0x[0-9A-Fa-f]*\),$/#define \1 \2/p' \
	src/core/wire.h >"$work/codes.h"
"$cc" -E -P -include "$work/codes.h" -Isrc/core -Iinclude "$work/want.c" |
	awk '$1 == "@@" && NF == 3 { print $2, $3 }' |
	sed 's/[uUlL]*$//' >"$work/want"

# What the Lua file says: "local A, B = x, y" lines and the MIN_BYTES table.
awk '
	/^local [A-Z_, ]+ = [0-9x, A-Fa-f]+( --.*)?$/ {
		sub(/ --.*/, "")
		split($0, side, " = ")
		sub(/^local /, "", side[1])
		n = split(side[1], names, /, */)
		split(side[2], vals, /, */)
		for (i = 1; i <= n; i++) print names[i], vals[i]
	}
	/^local MIN_BYTES = \{/ { inmin = 1; next }
	inmin && /^\}/ { inmin = 0 }
	inmin {
		line = $0
		while (match(line, /\[0x[0-9a-fA-F]+\] = [0-9]+/)) {
			e = substr(line, RSTART, RLENGTH)
			split(e, kv, /\] = /)
			print "MIN_BYTES" tolower(kv[1]) "]", kv[2]
			line = substr(line, RSTART + RLENGTH)
		}
	}' "$lua" >"$work/have"

fail=0
checked=0
while read -r name want; do
	have=$(awk -v n="$name" '$1 == n { print $2; exit }' "$work/have")
	checked=$((checked + 1))
	if [ -z "$have" ]; then
		echo "check-lua-wire: $lua has no $name (wire.h: $want)"
		fail=1
	elif [ $((have)) -ne $((want)) ]; then
		echo "check-lua-wire: $lua: $name = $have, wire.h says $want"
		fail=1
	fi
done <"$work/want"
[ "$checked" -gt 20 ] || {
	echo "check-lua-wire: read only $checked values from the C headers"
	exit 1
}
[ "$fail" -eq 0 ] || exit 1
echo "check-lua-wire: ok ($checked values of $lua match wire.h and homa.h)"

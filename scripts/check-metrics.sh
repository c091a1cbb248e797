#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-metrics.sh [SRC_DIR] - every counter of the metrics table is
# incremented somewhere in SRC_DIR (default: src/ of this tree), and no
# two counters share a description. Run as the CTest metrics_check
# (label unit).
#
# The table: the lines X(name, "description") of the core's counter list
# (#define HOMA_METRICS_LIST, up to the first blank line; today in
# src/core/metrics.h). The datapath counters and the gauges of the same
# header are not increments but copies of struct fields, made in one
# place (homa_lib_metrics_snapshot). If the table changes shape, adapt
# TABLE_RE below (one line of sed).
#
# A counter counts as incremented when a source file other than the table
# has, on one line:
#   [HOMA_M_name]++  or  [HOMA_M_name] += ...   (direct)
#   SOMETHING_DROP(..., name) or a call ending in _add/_inc/_count with
#   HOMA_M_name among its arguments               (helpers)
# or the counter lies in a FAMILY below, indexed from its first member
# ([HOMA_M_first + ...]++, which must exist in the code).
set -eu

src=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}
# One line of the table -> "name<TAB>description".
TABLE_RE='s/^[[:space:]]*X([[:space:]]*\([a-z_0-9]*\)[[:space:]]*,[[:space:]]*"\([^"]*\)".*/\1	\2/p'
# Counters incremented by index: FIRST:LAST, a run of the table. sent_*
# and recv_* by packet type (homa_send_ctrl, homa_input), drop_short..
# drop_data_range by homa_wire_decode's reason (homa_input; a
# _Static_assert in incoming.c keeps them in step).
FAMILIES="sent_data:sent_ack recv_data:recv_ack drop_short:drop_data_range"

work=$(mktemp -d "${TMPDIR:-/tmp}/homa-metrics.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
problem() {
	echo "check-metrics: $*" >&2
	fail=1
}

tables=$(grep -rlE '^#define HOMA_METRICS_LIST' --include='*.h' "$src" || true)
[ -n "$tables" ] || {
	echo "check-metrics: FAIL: no X(name, \"description\") table under $src" >&2
	exit 1
}
# shellcheck disable=SC2086
sed -n '/^#define HOMA_METRICS_LIST/,/^$/p' $tables | sed -n "$TABLE_RE" >"$work/table"
cut -f1 "$work/table" >"$work/names"
[ -s "$work/names" ] || { echo "check-metrics: FAIL: empty table" >&2; exit 1; }

# Sources other than the table, one file list.
find "$src" -name '*.[ch]' | grep -vxF "$tables" >"$work/files" || true

# Families: every member is covered if the first is indexed in the code.
: >"$work/family"
for fam in $FAMILIES; do
	first=${fam%%:*}
	last=${fam#*:}
	grep -qx "$first" "$work/names" || { problem "family $fam: no counter $first"; continue; }
	grep -qx "$last" "$work/names" || { problem "family $fam: no counter $last"; continue; }
	# shellcheck disable=SC2046
	if ! grep -qE "\[HOMA_M_${first}[[:space:]]*\+[^]]*\][[:space:]]*(\+\+|\+=)" \
		$(cat "$work/files"); then
		problem "family $fam: nothing increments HOMA_M_$first + index"
		continue
	fi
	sed -n "/^$first\$/,/^$last\$/p" "$work/names" >>"$work/family"
done

while read -r name; do
	grep -qx "$name" "$work/family" && continue
	# shellcheck disable=SC2046
	grep -qE "\[HOMA_M_$name\][[:space:]]*(\+\+|\+=)|[A-Z_]DROP\([^)]*[ ,(]$name\)|(_add|_inc|_count)\([^;]*\bHOMA_M_$name\b" \
		$(cat "$work/files") ||
		problem "counter $name is never incremented in $src"
done <"$work/names"

# Descriptions: unique, ignoring case and spacing.
cut -f2 "$work/table" | tr '[:upper:]' '[:lower:]' | tr -s ' \t' ' ' |
	sort | uniq -d >"$work/dups"
while read -r d; do
	problem "counters share the description \"$d\": $(cut -f1,2 "$work/table" |
		awk -F '\t' -v d="$d" '{ s = tolower($2); gsub(/[ \t]+/, " ", s) }
		s == d { printf "%s ", $1 }')"
done <"$work/dups"

if [ "$fail" -ne 0 ]; then
	echo "check-metrics: FAIL (table: $tables)" >&2
	exit 1
fi
echo "check-metrics: ok ($(wc -l <"$work/names") counters, $tables)"

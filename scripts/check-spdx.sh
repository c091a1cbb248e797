#!/bin/sh
# check-spdx.sh - every tracked source file names its license in an SPDX
# line within its first 5 lines ("SPDX-License-Identifier: BSD-2-Clause"
# in the file's own comment syntax: /* */ or // for C, # for shell, CMake,
# Makefile, gnuplot and .in files, .\" for man pages). The license itself
# is LICENSE. Prints the files without one and fails if any; data (plots,
# CSV, workloads, fuzz corpora) and Markdown are not checked.
#   SPDX_LICENSE=ID   the identifier required (default BSD-2-Clause)
set -eu
cd "$(dirname "$0")/.."
want=${SPDX_LICENSE:-BSD-2-Clause}
missing=0
checked=0
files=$(git ls-files '*.c' '*.h' '*.sh' '*.cmake' '*.in' '*.gp' \
	'CMakeLists.txt' '*/CMakeLists.txt' 'Makefile' '.ci/run' \
	'docs/man/*.[1-8]')
for f in $files; do
	[ -f "$f" ] || continue
	checked=$((checked + 1))
	if ! head -n 5 "$f" | grep -q "SPDX-License-Identifier: $want\\b"; then
		echo "no SPDX-License-Identifier: $want in the first 5 lines: $f"
		missing=$((missing + 1))
	fi
done
if [ "$missing" -ne 0 ]; then
	echo "check-spdx: $missing of $checked files lack the line"
	exit 1
fi
echo "check-spdx: ok ($checked files)"

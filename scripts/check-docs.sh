#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-docs.sh [CC] - the documentation a user reads and copies:
#  1. every man page of docs/man passes `mandoc -T lint` with no warning
#     or error (style notes are allowed), says the version of
#     CMakeLists.txt in its title line, and every alias page (a symbolic
#     link) points at a page that exists;
#  2. every C example compiles against include/homa.h: the ```c blocks of
#     README.md and the .EX/.EE blocks of the man pages that are C (shell
#     examples are skipped). A block with #include is a whole file; any
#     other is split into its function definitions (file scope) and its
#     statements, which are compiled as the body of a function whose only
#     given is `int fd`, a Homa socket: everything else an example uses
#     it must declare itself.
# Prints each failure with the generated source; exits 1 if any, 77
# (skipped) without mandoc.
set -eu
cd "$(dirname "$0")/.."
cc=${1:-${CC:-cc}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

command -v mandoc >/dev/null || {
	echo "check-docs: skipped: mandoc is not installed (scripts/deps.sh test)"
	exit 77
}
for page in docs/man/*.[1-8]; do
	if [ -L "$page" ] && [ ! -e "$page" ]; then
		echo "check-docs: $page links to a missing page"
		fail=1
		continue
	fi
	out=$(mandoc -T lint -W warning "$page" 2>&1 || true)
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	fi
done

# The version in each page's title line is the project's.
version=$(sed -n 's/^project(homa VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
for page in docs/man/*.[1-8]; do
	[ -L "$page" ] && continue
	grep -q "^\.TH .*\"libhoma $version\"" "$page" || {
		echo "check-docs: $page: .TH does not say \"libhoma $version\""
		fail=1
	}
done

# Blocks into $work/block.N with a first line "# FILE" (roff escapes of
# the man pages undone).
awk -v dir="$work" '
	FNR == 1 { inman = FILENAME ~ /\.[1-8]$/ }
	function start() { n++; out = dir "/block." n; print "# " FILENAME > out }
	!inman && /^```c[ \t]*$/ { start(); inb = 1; next }
	!inman && inb && /^```/ { inb = 0; close(out); next }
	inman && /^\.EX/ { start(); inb = 1; next }
	inman && inb && /^\.EE/ { inb = 0; close(out); next }
	inb {
		line = $0
		if (inman) {
			gsub(/\\e/, "\001", line)
			gsub(/\\-/, "-", line)
			gsub(/\\\(dq/, "\"", line)
			gsub(/\\\(aq/, "\047", line)
			gsub(/\\&/, "", line)
			gsub(/\001/, "\\", line)
		}
		print line > out
	}
' README.md $(find docs/man -name '*.[1-8]' -type f | sort)

prelude='#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <homa.h>'
count=0
for block in "$work"/block.*; do
	[ -e "$block" ] || continue
	from=$(head -n 1 "$block" | cut -c3-)
	body=$(tail -n +2 "$block")
	# C has semicolons; a shell example has none at line ends.
	printf '%s\n' "$body" | grep -q ';[[:space:]]*$' || continue
	count=$((count + 1))
	src="$work/example$count.c"
	if printf '%s\n' "$body" | grep -q '^#include'; then
		printf '%s\n' "$body" >"$src"
	else
		# Function definitions (a line at column 0 ending in ")"
		# followed by "{" ... "}" at column 0) go to file scope.
		printf '%s\nstatic int fd; /* the given: a Homa socket */\n' "$prelude" >"$src"
		printf '%s\n' "$body" | awk -v fs="$src.fs" -v st="$src.st" '
			{ lines[NR] = $0 }
			END {
				for (i = 1; i <= NR; i++) {
					if (!infn && lines[i] ~ /^[A-Za-z_].*\)[ \t]*$/ &&
					    lines[i + 1] ~ /^\{/)
						infn = 1
					if (infn) {
						print lines[i] > fs
						if (lines[i] ~ /^\}/)
							infn = 0
					} else
						print lines[i] > st
				}
			}'
		[ -f "$src.fs" ] && cat "$src.fs" >>"$src"
		printf 'void homa_example(void);\nvoid homa_example(void)\n{\n' >>"$src"
		[ -f "$src.st" ] && cat "$src.st" >>"$src"
		printf '}\n' >>"$src"
	fi
	if ! "$cc" -std=gnu11 -fsyntax-only -Wall -Wextra -Werror \
		-Wno-unused-parameter -Wno-unused-variable -Wno-unused-function \
		-Iinclude "$src" >"$work/cc.log" 2>&1; then
		echo "check-docs: the example in $from does not compile:"
		cat "$work/cc.log"
		echo "--- generated source ($src):"
		cat -n "$src"
		fail=1
	fi
done
[ "$fail" -eq 0 ] || exit 1
echo "check-docs: ok (man pages lint clean, $count C examples compile)"

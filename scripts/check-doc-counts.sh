#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check-doc-counts.sh - the counts the documents state against the code:
# "N callbacks" (the environment a host gives the core: the function
# pointers of struct homa_env, src/core/homa_core.h) and "N operations"
# (a datapath: the function pointers of struct homa_dp_ops,
# src/net/datapath.h), in docs/architecture.md and CONTRIBUTING.md. N may
# be a digit or a word (one..twelve). Every statement found must give the
# right number and name every member (in backquotes) before its paragraph
# ends; docs/architecture.md must state both. Prints each failure; exits
# 1 if any.
set -eu
cd "$(dirname "$0")/.."
fail=0

# members STRUCT FILE - the function-pointer members of struct STRUCT.
members() {
	awk -v s="struct $1 {" '
		index($0, s) == 1 { in_s = 1; next }
		in_s && /^};/ { exit }
		in_s && match($0, /\(\*[a-z_0-9]+\)/) {
			print substr($0, RSTART + 2, RLENGTH - 3)
		}' "$2"
}

# check FILE NOUN NAMES... - every "N NOUN" statement of FILE: N is the
# number of NAMES, each of which the paragraph names. Prints how many
# statements it found.
check() {
	file=$1 noun=$2
	shift 2
	awk -v noun="$noun" -v want="$#" -v names="$*" -v file="$file" '
		BEGIN {
			split("one two three four five six seven eight nine ten eleven twelve", w, " ")
			for (i in w) num[w[i]] = i
			nn = split(names, name, " ")
		}
		# A statement runs from its line to the end of its paragraph
		# (a blank line, a new list item or table row).
		function finish() {
			if (!text) return
			for (i = 1; i <= nn; i++)
				if (index(text, "`" name[i] "`") == 0) {
					printf "check-doc-counts: %s:%d: \"%s %s\" does not name `%s`\n", file, at, n, noun, name[i]
					bad = 1
				}
			text = ""
		}
		/^[[:space:]]*$/ || /^[[:space:]]*([-*|]|[0-9]+\.) / { finish() }
		{
			line = tolower($0)
			if (match(line, "(^|[^a-z0-9])[a-z0-9]+ (environment )?" noun "([^a-z]|$)")) {
				finish()
				split(substr(line, RSTART), parts, /[^a-z0-9]+/)
				n = parts[1] == "" ? parts[2] : parts[1]
				v = n ~ /^[0-9]+$/ ? n + 0 : num[n]
				if (v) {
					found++
					at = NR
					if (v != want) {
						printf "check-doc-counts: %s:%d: says %s %s, the code has %d\n", file, NR, n, noun, want
						bad = 1
					}
					text = $0
					next
				}
			}
			if (text) text = text " " $0
		}
		END { finish(); print found + 0; exit bad }' "$file"
}

env_names=$(members homa_env src/core/homa_core.h)
dp_names=$(members homa_dp_ops src/net/datapath.h)
if [ -z "$env_names" ] || [ -z "$dp_names" ]; then
	echo "check-doc-counts: cannot find struct homa_env or struct homa_dp_ops"
	exit 1
fi
for doc in docs/architecture.md CONTRIBUTING.md; do
	# shellcheck disable=SC2086
	if ! n_env=$(check "$doc" callbacks $env_names); then
		echo "$n_env" | sed '$d'
		fail=1
	fi
	# shellcheck disable=SC2086
	if ! n_dp=$(check "$doc" operations $dp_names); then
		echo "$n_dp" | sed '$d'
		fail=1
	fi
	if [ "$doc" = docs/architecture.md ]; then
		[ "$(echo "$n_env" | tail -1)" -gt 0 ] || {
			echo "check-doc-counts: $doc no longer says how many callbacks the environment has"
			fail=1
		}
		[ "$(echo "$n_dp" | tail -1)" -gt 0 ] || {
			echo "check-doc-counts: $doc no longer says how many operations a datapath has"
			fail=1
		}
	fi
done
[ "$fail" -eq 0 ] || exit 1
echo "check-doc-counts: ok ($(echo "$env_names" | wc -l) environment callbacks, $(echo "$dp_names" | wc -l) datapath operations)"

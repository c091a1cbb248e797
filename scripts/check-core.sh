#!/bin/sh
# check-core.sh - enforce that src/core stays freestanding: it may include
# only the headers below (errno.h for the error constants of its contract)
# and its own headers. Prints offenders and fails if any.
set -eu
cd "$(dirname "$0")/.."
allowed='stdint.h|stddef.h|stdbool.h|string.h|errno.h|limits.h'
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' src/core/*.[ch] |
	grep -vE "<($allowed)>" || true)
if [ -n "$bad" ]; then
	echo "src/core includes a hosted header:"; echo "$bad"; exit 1
fi
bad=$(grep -nwE 'malloc|calloc|realloc|free|printf|fprintf|time|clock_gettime|pthread_[a-z_]+|rand|random|abort' src/core/*.c |
	grep -vE '^\S+:[0-9]+:\s*(/\*|\*)' | grep -vE '\.(free|alloc)\b|->free\b|_free\b' || true)
if [ -n "$bad" ]; then
	echo "src/core calls the C library for memory, time, output or threads:"; echo "$bad"; exit 1
fi
echo "check-core: ok"

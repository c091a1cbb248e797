#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
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
bad=$(grep -nE '(^|[^_.>[:alnum:]])(malloc|calloc|realloc|free|printf|fprintf|puts|time|clock_gettime|gettimeofday|rand|random|abort|exit|pthread_[a-z_]+|sleep|usleep)[[:space:]]*\(' src/core/*.c || true)
if [ -n "$bad" ]; then
	echo "src/core calls the C library for memory, time, output or threads:"; echo "$bad"; exit 1
fi
echo "check-core: ok"

#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deps.sh [build|test|net|demo|ci] - install with apt-get only what this
# machine is missing for the given purpose, and say what and why.
# Idempotent; safe to run on every build.
#   build  make, make install: a C compiler, make and CMake, nothing else
#   test   make test without root: build, plus cmocka (the unit tests),
#          pkg-config (finds cmocka), clang with libFuzzer (the fuzz
#          targets), clang-format (the style check) and mandoc (the man
#          page check)
#   net    make test as root: test, plus iproute2, nftables, ethtool and
#          procps (network namespaces, shaping and sysctls of the network
#          tests) and gnuplot and valgrind (the cluster smoke test's plot,
#          the benchmark scripts)
#   demo   make demo: build, plus iproute2, nftables, ethtool, procps and
#          gnuplot (the emulated rack and its plot)
#   ci     everything above (.ci/run)
set -eu
purpose=${1:-build}
case $purpose in
build | test | net | demo | ci) ;;
*)
	echo "deps.sh: unknown purpose '$purpose' (build, test, net, demo, ci)" >&2
	exit 2
	;;
esac

# command-or-file -> Debian package
need=""
want() { # want CHECK PACKAGE: CHECK is a command name or an absolute path
	case $1 in
	/*) [ -e "$1" ] || need="$need $2" ;;
	*) command -v "$1" >/dev/null 2>&1 || need="$need $2" ;;
	esac
}
want cmake cmake
want make make
want cc gcc
if [ "$purpose" != build ] && [ "$purpose" != demo ]; then
	want pkg-config pkg-config
	want /usr/include/cmocka.h libcmocka-dev
	want clang clang
	want /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
	want clang-format clang-format
	want mandoc mandoc
	want tshark tshark
	want python3 python3
fi
if [ "$purpose" != build ] && [ "$purpose" != test ]; then
	want ip iproute2
	want nft nftables
	want ethtool ethtool
	want sysctl procps
	want gnuplot gnuplot-nox
fi
if [ "$purpose" = net ] || [ "$purpose" = ci ]; then
	want valgrind valgrind
	# scripts/bench-lib.sh: the outside check of the baselines, and the
	# system-call counts (perf's tracepoint counters; strace without).
	want sockperf sockperf
	want iperf3 iperf3 # the outside check of the 1 MB TCP rows
	want strace strace
	want perf linux-perf
fi
[ -z "$need" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if [ "$purpose" = net ] || [ "$purpose" = test ]; then
		# Without root the network tests skip, and so do the fuzz
		# targets without clang, the style check without clang-format
		# and the man page check without mandoc: the build tools and
		# cmocka suffice.
		case "$need" in *cmake* | *gcc* | *cmocka* | *pkg-config* | *make*) ;;
		*) exit 0 ;; esac
	fi
	echo "deps.sh: missing for '$purpose':$need" >&2
	echo "deps.sh: run as root, or: sudo apt-get install$need" >&2
	exit 1
fi
echo "deps.sh: installing for '$purpose':$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need >/dev/null

#!/bin/sh
# deps.sh [build|net|demo] - install, with apt-get, only what this machine is
# missing for the given purpose. Idempotent; safe to run on every build.
set -eu
purpose=${1:-build}

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
want pkg-config pkg-config
want /usr/include/cmocka.h libcmocka-dev
want clang clang
want /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
want clang-format clang-format
if [ "$purpose" = net ] || [ "$purpose" = demo ]; then
	want ip iproute2
	want nft nftables
	want ethtool ethtool
	want sysctl procps
	want gnuplot gnuplot-nox
	want valgrind valgrind
	# scripts/bench-lib.sh: the outside check of the baselines, and the
	# system-call counts.
	want sockperf sockperf
	want strace strace
fi
[ -z "$need" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if [ "$purpose" = net ]; then
		# Without root the network tests skip; build deps suffice.
		case "$need" in *cmake* | *gcc* | *cmocka* | *pkg-config* | *make*) ;;
		*) exit 0 ;; esac
	fi
	echo "deps.sh: missing packages:$need" >&2
	echo "deps.sh: run as root, or: sudo apt-get install$need" >&2
	exit 1
fi
echo "deps.sh: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need >/dev/null

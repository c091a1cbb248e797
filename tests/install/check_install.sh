#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_install.sh BUILD_DIR - install a built tree into a temporary prefix
# and check what a user of the installed libhoma gets: the libraries, the
# header, the man pages (one per call, homa.7 listing every parameter of
# src/core/config.c), homa.pc, and the CMake package. tests/install/
# consumer.c is built against the installed tree twice, with
# `pkg-config --cflags --libs homa` and with find_package(homa CONFIG
# REQUIRED) (targets homa::homa and homa::homa_static), and each binary
# runs one RPC over loopback. Temporary files are removed on exit; the
# build directory's install_manifest.txt is left as it was.
set -eu

build=$(cd "${1:?usage: check_install.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/homa-install.XXXXXX")
manifest="$build/install_manifest.txt"
[ -e "$manifest" ] && cp -p "$manifest" "$work/manifest.saved"
cleanup() {
	if [ -e "$work/manifest.saved" ]; then
		cp -p "$work/manifest.saved" "$manifest"
	else
		rm -f "$manifest"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "check_install: FAIL: $*" >&2
	exit 1
}
step() { echo "== $*"; }

# The compiler and sanitizer flags of the build, so an Asan build links.
cache="$build/CMakeCache.txt"
[ -f "$cache" ] || fail "$build is not a CMake build directory"
cachevar() { sed -n "s/^$1:[A-Z]*=//p" "$cache" | head -n 1; }
cc=$(cachevar CMAKE_C_COMPILER)
[ -n "$cc" ] || cc=cc
san=""
case $(cachevar CMAKE_BUILD_TYPE) in
Asan | ASAN | asan) san="-fsanitize=address,undefined" ;;
esac

step "cmake --install into a temporary prefix"
prefix="$work/root"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name homa.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "homa.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$libdir/libhoma.a" "$libdir/libhoma.so" "$prefix/include/homa.h" \
	"$libdir/cmake/homa/homaConfig.cmake" \
	"$libdir/cmake/homa/homaConfigVersion.cmake" \
	"$libdir/cmake/homa/homaTargets.cmake" \
	"$prefix/share/doc/homa/LICENSE" "$prefix/share/doc/homa/CHANGELOG.md"; do
	[ -e "$f" ] || fail "missing ${f#"$prefix"/}"
done

step "soname"
# The soname names the ABI (libhoma.so.N, CMakeLists.txt's HOMA_ABI), it
# is installed, and programs linked with -lhoma need it.
soname=$(objdump -p "$libdir/libhoma.so" | awk '$1 == "SONAME" { print $2 }')
case $soname in
libhoma.so.[0-9] | libhoma.so.[0-9][0-9]) ;;
*) fail "libhoma.so's soname is '$soname', not libhoma.so.N (the ABI)" ;;
esac
[ -e "$libdir/$soname" ] || fail "missing ${libdir#"$prefix"/}/$soname"

step "man pages"
man="$prefix/share/man"
[ -f "$man/man7/homa.7" ] || fail "missing share/man/man7/homa.7"
for call in homa_socket homa_bind homa_setsockopt homa_getsockopt \
	homa_sendmsg homa_recvmsg homa_ioctl homa_shutdown homa_close \
	homa_request homa_reply homa_receive homa_config_param \
	homa_last_error homa_metrics_read; do
	[ -f "$man/man3/$call.3" ] || fail "missing share/man/man3/$call.3"
done
[ -f "$man/man1/homa-metrics.1" ] || fail "missing share/man/man1/homa-metrics.1"
[ -x "$prefix/bin/homa-metrics" ] || fail "missing bin/homa-metrics"
[ -f "$prefix/share/homa/wireshark/homa.lua" ] ||
	fail "missing share/homa/wireshark/homa.lua"
# Every parameter of the configuration table must be documented.
params=$(sed -n 's/^[[:space:]]*P(\([a-z_]*\),.*/\1/p' "$src/src/core/config.c")
[ -n "$params" ] || fail "no parameters found in src/core/config.c"
for p in $params; do
	var=HOMA_$(echo "$p" | tr '[:lower:]' '[:upper:]')
	grep -q "^\.BR $var \"" "$man/man7/homa.7" ||
		fail "homa.7 does not document $var"
done
if command -v man >/dev/null 2>&1; then
	MANPATH="$man" MANWIDTH=80 man homa_close 2>/dev/null |
		grep -q 'homa_shutdown, homa_close' ||
		fail "man homa_close does not show homa_shutdown(3)"
	MANPATH="$man" MANWIDTH=80 man 7 homa 2>/dev/null |
		grep -q 'DIFFERENCES FROM THE KERNEL MODULE' ||
		fail "man 7 homa does not render"
else
	echo "(man not installed: rendering not checked)"
fi

step "homa-run and libhoma-preload.so"
[ -x "$prefix/bin/homa-run" ] || fail "missing bin/homa-run"
[ -e "$libdir/libhoma-preload.so" ] || fail "missing libhoma-preload.so"
[ -f "$man/man1/homa-run.1" ] || fail "missing share/man/man1/homa-run.1"
# The installed homa-run finds the installed shim (relocated prefix).
HOMA_RUN_ASSUME_NATIVE=0 HOMA_DEBUG=1 "$prefix/bin/homa-run" true \
	2>"$work/homa-run.err" || true
grep -q "LD_PRELOAD=.*$libdir/libhoma-preload.so" "$work/homa-run.err" ||
	fail "installed homa-run: $(cat "$work/homa-run.err")"

step "pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion homa)" = "$(sed -n 's/^Version: //p' "$pc")" ] ||
	fail "pkg-config --modversion homa"
# The one version (CMakeLists.txt's project()) everywhere: homa.pc, the
# CMake package, homa.h (the consumer compares it with homa_version()).
version=$(cachevar CMAKE_PROJECT_VERSION)
[ "$(pkg-config --modversion homa)" = "$version" ] ||
	fail "homa.pc says $(pkg-config --modversion homa), CMake $version"
grep -q "\"$version\"" "$libdir/cmake/homa/homaConfigVersion.cmake" ||
	fail "homaConfigVersion.cmake does not say $version"
grep -q "HOMA_VERSION_STRING \"$version\"" "$prefix/include/homa.h" ||
	fail "installed homa.h does not say $version"
flags=$(pkg-config --cflags --libs homa)
# shellcheck disable=SC2086
"$cc" $san -Wall -Wextra -Werror -o "$work/consumer_pc" \
	"$src/tests/install/consumer.c" $flags ||
	fail "cannot build against pkg-config --cflags --libs homa ($flags)"
objdump -p "$work/consumer_pc" | grep -q "NEEDED *$soname\$" ||
	fail "consumer built with pkg-config does not need $soname"
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc" ||
	fail "consumer built with pkg-config"

step "CMake find_package(homa)"
mkdir -p "$work/cmake"
cat >"$work/cmake/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(homa_consumer LANGUAGES C)
find_package(homa 0.1 CONFIG REQUIRED)
add_executable(consumer_shared "$src/tests/install/consumer.c")
target_link_libraries(consumer_shared PRIVATE homa::homa)
add_executable(consumer_static "$src/tests/install/consumer.c")
target_link_libraries(consumer_static PRIVATE homa::homa_static)
EOF
cmake -S "$work/cmake" -B "$work/cmake/build" \
	-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
	>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "find_package(homa)"; }
cmake --build "$work/cmake/build" >"$work/cmake-build.log" 2>&1 ||
	{ cat "$work/cmake-build.log"; fail "building against homa::homa"; }
"$work/cmake/build/consumer_shared" || fail "consumer linked to homa::homa"
"$work/cmake/build/consumer_static" || fail "consumer linked to homa::homa_static"

echo "check_install: ok"

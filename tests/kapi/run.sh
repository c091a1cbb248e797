#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The kernel-API programs under homa-run over one datapath and IP version:
#   run.sh HOMA_RUN TESTDIR udp|raw 4|6
# kapi_echo's server and client, the errno table (kapi_errors), fork and
# exec (kapi_fork). The raw datapath needs root: skipped (77) otherwise.
set -u
run=$1 dir=$2 dp=$3 fam=$4
if [ "$dp" = raw ] && [ "$(id -u)" != 0 ]; then
	echo "skip: the raw datapath needs root (CAP_NET_RAW)"
	exit 77
fi
if [ "$fam" = 6 ] && ! [ -e /proc/net/if_inet6 ]; then
	echo "skip: no IPv6 on this host"
	exit 77
fi
# On libhoma even where the kernel has Homa: this tests the shim.
export HOMA_DATAPATH=$dp HOMA_PRELOAD=user
# These programs check the API, not failure detection. On a loaded 2-CPU
# machine a process can go unscheduled for longer than the default
# 100-tick timeout (2026-12-06, load average 10-20: 3 of 30 client runs
# failed with ETIMEDOUT at the default, 0 of 20 with 1000 ticks), so an
# RPC to a live peer must not be declared dead that soon here.
export HOMA_TIMEOUT_TICKS=${HOMA_TIMEOUT_TICKS:-1000}
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

"$run" "$dir/kapi_echo" server "$fam" >"$tmp/port" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 100); do
	[ -s "$tmp/port" ] && break
	sleep 0.1
done
port=$(cat "$tmp/port")
[ -n "$port" ] || { cat "$tmp/server.err"; fail "the server did not start"; }
echo "server on port $port ($dp, IPv$fam)"

timeout 60 "$run" "$dir/kapi_echo" client "$fam" "$port" ||
	fail "kapi_echo client"
timeout 60 "$run" "$dir/kapi_errors" "$fam" || fail "kapi_errors"
timeout 60 "$run" "$dir/kapi_nonblock" "$fam" "$port" || fail "kapi_nonblock"
# A blocking client's system calls: the shim records O_NONBLOCK when the
# program sets it, so no call reads it back (fcntl) before it sleeps
# (before: 0.42 per RPC on UDP, one per sleeping receive). Counted by
# the kernel (perf on the syscall tracepoints: root).
# Against homa-echo-server (libhoma, blocking): kapi_echo's server leaves
# some of bench's requests unanswered (their first byte).
n=2000
if [ "$(id -u)" = 0 ] && command -v perf >/dev/null &&
	perf stat -e syscalls:sys_enter_fcntl -- true >/dev/null 2>&1; then
	eport=$((20000 + RANDOM % 10000)) v6=
	[ "$fam" = 6 ] && v6=--ipv6
	[ "$dp" = raw ] && v6="$v6 --raw"
	"$(dirname "$run")/homa-echo-server" $v6 $eport 2>"$tmp/echo.err" &
	echo_srv=$!
	sleep 0.3
	kill -0 $echo_srv 2>/dev/null || fail "homa-echo-server: $(cat "$tmp/echo.err")"
	HOMA_POLL_USECS=0 timeout 60 perf stat -x, -o "$tmp/count" \
		-e raw_syscalls:sys_enter,syscalls:sys_enter_fcntl -- \
		"$run" "$dir/kapi_echo" bench "$fam" "$eport" $n 100 ||
		fail "kapi_echo bench"
	kill $echo_srv
	calls=$(awk -F, '$3 ~ /raw_syscalls/ { print $1 }' "$tmp/count")
	fcntls=$(awk -F, '$3 ~ /fcntl/ { print $1 }' "$tmp/count")
	echo "blocking client: $calls system calls, $fcntls fcntl for $n RPCs"
	# The program's start and end make a few hundred, each RPC 2 or 3
	# on UDP (the lean sleep; raw sleeps in epoll: about 6).
	[ "$fcntls" -lt $((n / 20)) ] ||
		fail "$fcntls fcntl for $n blocking RPCs: O_NONBLOCK read back"
	[ "$dp" != udp ] || [ "$calls" -lt $((n * 3)) ] ||
		fail "$calls system calls for $n blocking RPCs (3 or more each)"
else
	echo "skip: counting system calls needs root and perf"
fi
HOMA_DEBUG=1 timeout 60 "$run" "$dir/kapi_fork" "$fam" 2>"$tmp/fork.err"
rc=$?
cat "$tmp/fork.err"
[ $rc = 0 ] || fail "kapi_fork"
grep -q 'a forked child cannot use it' "$tmp/fork.err" ||
	fail "no EBADF explanation on stderr under HOMA_DEBUG"
if [ -s "$tmp/server.err" ]; then
	cat "$tmp/server.err"
	fail "the server reported errors"
fi
echo "ok kapi $dp IPv$fam"

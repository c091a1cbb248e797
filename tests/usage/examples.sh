#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# examples.sh BIN_DIR - the examples a user copies, run as the README
# shows them, over loopback: the key-value client against its server
# (2000 keys, 32 RPCs in flight: PUT, GET and check, DEL, GET, a private
# COUNT), then the echo client against the echo server; each must print
# "ok". Then the server is stopped and the clients must fail with exit 1
# and the errno named. Servers use a random free port and are killed on
# exit.
set -u
bin=$1
fail=0
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_server TOOL: start it on a free port; sets port and pid.
start_server() {
	local tool=$1 try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 10000))
		"$bin/$tool" "$port" 2>"$work/$tool.err" &
		pid=$!
		sleep 0.3
		if kill -0 "$pid" 2>/dev/null; then
			pids+=("$pid")
			return 0
		fi
		wait "$pid" 2>/dev/null
	done
	echo "BAD  $tool: no free port: $(cat "$work/$tool.err")"
	exit 1
}
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT

run() { # run LABEL WANT_RC WANT_TEXT COMMAND...
	local label=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want_rc" ] && [[ $out == *"$want"* ]]; then
		echo "ok   $label: ${out##*$'\n'}"
	else
		echo "BAD  $label: exit $rc (wanted $want_rc): $out"
		fail=1
	fi
}

start_server homa-kv-server
run "kv client, 2000 keys, 32 in flight" 0 "ok 2000 keys, 7001 RPCs, up to 32 in flight" \
	"$bin/homa-kv-client" --inflight 32 127.0.0.1 "$port" 2000
kill "$pid"
wait "$pid" 2>/dev/null
run "kv client, server stopped" 1 "Transport endpoint is not connected" \
	"$bin/homa-kv-client" 127.0.0.1 "$port" 10

start_server homa-echo-server
run "echo client, 200 RPCs of 1000 bytes" 0 "ok 200 rpcs" \
	"$bin/homa-echo-client" 127.0.0.1 "$port" 200 1000
kill "$pid"
wait "$pid" 2>/dev/null
run "echo client, server stopped" 1 "homa_receive: Transport endpoint is not connected" \
	"$bin/homa-echo-client" 127.0.0.1 "$port" 1 10
exit $fail

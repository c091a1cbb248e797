#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# metrics.sh RPC_PEER HOMA_METRICS DOC - the live metrics over loopback
# UDP (no root needed): an rpc_peer server and a client under load publish
# /dev/shm/homa-metrics-PID (mode 0600); homa-metrics --json prints valid
# JSON with every entry of the table (docs/metrics.md, DOC), the client's
# counters increase between two snapshots and its screen shows RPCs/s > 0;
# a client killed with SIGKILL is reported as gone and its file removed;
# one that exits (also with an error) removes its file itself and, with
# HOMA_PRINT_METRICS=1, prints its counters with '!' on trouble;
# HOMA_METRICS=0 publishes nothing; the next libhoma process removes the
# file of a killed one.
set -u
PEER=$1 HM=$2 DOC=$3
# The load is not under test: on a machine loaded by others, a process
# may wait 100 ms for a CPU, and the default timeout would end its RPCs.
export HOMA_TIMEOUT_TICKS=5000
out=$(mktemp -d)
spid= cpid=
cleanup() {
	[ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	wait 2>/dev/null
	for p in $spid $cpid; do rm -f "/dev/shm/homa-metrics-$p"; done
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "FAIL: $*"
	[ -s "$out/client" ] && { echo "load client's output:"; tail -5 "$out/client"; }
	exit 1
}
json_get() { # json_get FILE NAME
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

start_server() { # a fresh server (its report counts every request)
	if [ -n "$spid" ]; then
		kill -9 "$spid"
		wait "$spid" 2>/dev/null
		rm -f "/dev/shm/homa-metrics-$spid"
	fi
	# Emptied here, not by the redirection below: that one truncates
	# in the child, perhaps after the loop read the old server's port.
	: >"$out/server"
	"$PEER" server >"$out/server" 2>&1 &
	spid=$!
	for _ in $(seq 400); do
		grep -q '^port ' "$out/server" && break
		sleep 0.05
	done
	port=$(awk '/^port /{print $2}' "$out/server")
	[ -n "$port" ] || fail "server did not start: $(cat "$out/server")"
}

start_server
file=/dev/shm/homa-metrics-$spid
[ -f "$file" ] || fail "server published no $file"
[ "$(stat -c %a "$file")" = 600 ] || fail "$file has mode $(stat -c %a "$file")"

echo "== --json is valid JSON with every entry of the table"
"$HM" --json "$spid" >"$out/s.json" || fail "homa-metrics --json failed"
python3 -m json.tool "$out/s.json" >/dev/null || fail "not JSON: $(head -c 300 "$out/s.json")"
python3 -c 'import json, sys; print("\n".join(sorted(json.load(open(sys.argv[1])))))' \
	"$out/s.json" >"$out/json_names"
sed -n 's/^| `\([a-z0-9_]*\)` |.*/\1/p' "$DOC" | sort >"$out/doc_names"
[ -s "$out/doc_names" ] || fail "no names in $DOC"
diff "$out/doc_names" "$out/json_names" || fail "JSON names differ from $DOC"

echo "== a client under load: counters increase"
"$PEER" client --mix small 127.0.0.1 "$port" 100000000 >"$out/client" 2>&1 &
cpid=$!
for _ in $(seq 400); do
	[ -f "/dev/shm/homa-metrics-$cpid" ] && break
	sleep 0.05
done
sleep 0.3
"$HM" --json "$cpid" >"$out/c1.json" || fail "no metrics for the client"
r1=$(json_get "$out/c1.json" client_requests_started)
b1=$(json_get "$out/c1.json" msg_bytes_sent)
# Looks every 0.5 s for up to 20 s: a loaded machine once held the
# client (or its server) at 107 RPCs for a whole 0.5 s.
for _ in $(seq 40); do
	sleep 0.5
	"$HM" --json "$cpid" >"$out/c2.json" || fail "no metrics for the client"
	r2=$(json_get "$out/c2.json" client_requests_started)
	b2=$(json_get "$out/c2.json" msg_bytes_sent)
	[ "$r2" -gt "$r1" ] && [ "$b2" -gt "$b1" ] && break
done
echo "client_requests_started $r1 -> $r2, msg_bytes_sent $b1 -> $b2"
[ "$r2" -gt "$r1" ] && [ "$b2" -gt "$b1" ] || fail "counters did not increase"

echo "== the screen: RPCs/s and every counter with --all"
# Up to 10 screens of 0.3 s (a client held that long shows 0 RPCs/s).
for _ in $(seq 10); do
	"$HM" --interval 0.3 --count 1 --all "$cpid" >"$out/screen" ||
		fail "homa-metrics failed"
	rate=$(awk '/RPCs\/s/ { print $3; exit }' "$out/screen")
	[ -n "$rate" ] && [ "${rate%.*}" -gt 0 ] && break
done
head -12 "$out/screen"
[ -n "$rate" ] && [ "${rate%.*}" -gt 0 ] || fail "RPCs/s out is '$rate'"
for name in $(cat "$out/doc_names"); do
	grep -q " $name " "$out/screen" || fail "--all does not show $name"
done

echo "== a killed client is reported as gone"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
# (Another libhoma process starting now may sweep the file first: then
# there is no file and no process.)
"$HM" "$cpid" >"$out/gone" 2>&1 && fail "homa-metrics succeeded on a dead process"
grep -q "is gone\|no process $cpid" "$out/gone" || fail "not reported as gone: $(cat "$out/gone")"
cat "$out/gone"
[ -f "/dev/shm/homa-metrics-$cpid" ] && fail "the stale file was not removed"
cpid=

echo "== exits remove the file; HOMA_PRINT_METRICS=1 prints, also on error"
start_server
HOMA_PRINT_METRICS=1 "$PEER" client --mix small 127.0.0.1 "$port" 200 \
	>"$out/ok" 2>&1 &
cpid=$!
wait "$cpid" || fail "client failed: $(cat "$out/ok")"
[ -f "/dev/shm/homa-metrics-$cpid" ] && fail "an exited client left its file"
grep -q "^libhoma metrics of process $cpid " "$out/ok" || fail "no header: $(cat "$out/ok")"
grep -q "^  client_requests_started  *20[0-9]  requests sent by clients" "$out/ok" ||
	fail "no client_requests_started line: $(cat "$out/ok")"
# A port nobody listens on: ICMP port unreachable, the client exits 1.
dead=$(( port == 32000 ? 32001 : 32000 ))
HOMA_PRINT_METRICS=1 timeout 60 "$PEER" client --mix small 127.0.0.1 "$dead" 5 \
	>"$out/err" 2>&1 &
cpid=$!
wait "$cpid" && fail "a client of a closed port succeeded"
grep -q "^libhoma metrics of process [0-9]* " "$out/err" || fail "no report on error exit: $(cat "$out/err")"
grep -q '^! ' "$out/err" || fail "no counter flagged as trouble: $(cat "$out/err")"
grep '^! \|^libhoma: trouble' "$out/err"
cpid=

echo "== HOMA_METRICS=0 publishes nothing; a process without Homa"
HOMA_METRICS=0 "$PEER" client --mix small 127.0.0.1 "$port" 100000000 >"$out/off" 2>&1 &
cpid=$!
sleep 0.5
grep -q "rpcs done" "$out/off" || sleep 1
[ -f "/dev/shm/homa-metrics-$cpid" ] && fail "HOMA_METRICS=0 published"
"$HM" "$cpid" >"$out/none" 2>&1 && fail "homa-metrics succeeded with HOMA_METRICS=0"
grep -q "publishes no Homa metrics" "$out/none" || fail "$(cat "$out/none")"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
cpid=
"$HM" $$ >"$out/none" 2>&1 && fail "homa-metrics succeeded on a shell"
grep -q "publishes no Homa metrics" "$out/none" || fail "$(cat "$out/none")"

echo "== damaged files are refused"
sleep 30 &
fake=$!
head -c 3000 /dev/urandom >"/dev/shm/homa-metrics-$fake"
"$HM" "$fake" >"$out/bad" 2>&1 && fail "homa-metrics accepted noise"
grep -q "not a libhoma metrics file" "$out/bad" || fail "$(cat "$out/bad")"
head -c 40 "/dev/shm/homa-metrics-$spid" >"/dev/shm/homa-metrics-$fake"
"$HM" --json "$fake" >"$out/bad" 2>&1 && fail "homa-metrics accepted a cut file"
grep -q "not a libhoma metrics file" "$out/bad" || fail "$(cat "$out/bad")"
rm -f "/dev/shm/homa-metrics-$fake"
# SIGKILL: a starved child may not have run sleep yet, and SIGTERM would
# run this script's traps in it (exit 1, cleanup: the server killed).
kill -9 "$fake"
wait "$fake" 2>/dev/null

echo "== a file left by a killed process is swept by the next libhoma process"
"$PEER" client --mix small 127.0.0.1 "$port" 100000000 >/dev/null 2>&1 &
cpid=$!
for _ in $(seq 400); do
	[ -f "/dev/shm/homa-metrics-$cpid" ] && break
	sleep 0.01
done
kill -9 "$cpid" # perhaps before it wrote the header: swept all the same
wait "$cpid" 2>/dev/null
[ -f "/dev/shm/homa-metrics-$cpid" ] || fail "no file left by the killed client"
start_server
[ -f "/dev/shm/homa-metrics-$cpid" ] && fail "the stale file was not swept"
cpid=
echo "ok: live metrics published, read, removed"
exit 0

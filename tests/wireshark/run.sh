#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh DUMP LUA captures [--expect TYPES] FILE...
# run.sh DUMP LUA synth PCAP_SYNTH
# The dissector tests (see compare.py): the first form compares the
# dissector with the decoder on committed captures; the second writes the
# hand-made capture of pcap_synth.c (every type, every malformation) and
# compares on it twice: with the UDP heuristic alone, and with the UDP
# port preference set to the synthetic server's port (then the malformed
# UDP datagrams, which the heuristic refuses, are dissected too); and
# feeds homa-pcap-dump damaged files.
# Skips (77) if tshark is not installed (scripts/deps.sh installs it).
set -u
DUMP=$1 LUA=$2 MODE=$3
shift 3
here=$(dirname "$0")
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
if [ "$MODE" = captures ]; then
	exec python3 "$here/compare.py" tshark "$LUA" "$DUMP" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$1" "$tmp/synth.pcap" || exit 1
# homa-pcap-dump on damaged files: every cut of the capture, and bytes
# that are no capture at all, give exit status 0 or 1, never a crash.
size=$(stat -c %s "$tmp/synth.pcap")
for cut in $(seq 0 7 600) $(seq 601 997 "$size"); do
	head -c "$cut" "$tmp/synth.pcap" >"$tmp/cut.pcap"
	"$DUMP" "$tmp/cut.pcap" >/dev/null 2>&1
	rc=$?
	[ $rc -le 1 ] || { echo "FAIL: homa-pcap-dump exit $rc on the first $cut bytes"; exit 1; }
done
head -c 5000 /dev/urandom >"$tmp/noise.pcap"
"$DUMP" "$tmp/noise.pcap" >/dev/null 2>&1
[ $? = 1 ] || { echo "FAIL: homa-pcap-dump accepted noise"; exit 1; }
# a pcapng block whose length runs past the end of the file
printf '\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00\x06\x00\x00\x00\xff\xff\x00\x00' >"$tmp/bad.pcapng"
"$DUMP" "$tmp/bad.pcapng" >/dev/null 2>&1
[ $? = 1 ] || { echo "FAIL: homa-pcap-dump accepted a damaged pcapng"; exit 1; }
echo "homa-pcap-dump: damaged files refused cleanly"
all=DATA,GRANT,RESEND,RPC_UNKNOWN,BUSY,CUTOFFS,FREEZE,NEED_ACK,ACK
python3 "$here/compare.py" tshark "$LUA" "$DUMP" --expect $all \
	"$tmp/synth.pcap" || exit 1
python3 "$here/compare.py" tshark "$LUA" "$DUMP" --expect $all \
	--pref homa.udp_ports:4000,40000 "$tmp/synth.pcap" || exit 1

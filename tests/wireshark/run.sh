#!/bin/bash
# run.sh DUMP LUA captures [--expect TYPES] FILE...
# run.sh DUMP LUA synth PCAP_SYNTH
# The dissector tests (see compare.py): the first form compares the
# dissector with the decoder on committed captures; the second writes the
# hand-made capture of pcap_synth.c (every type, every malformation) and
# compares on it twice: with the UDP heuristic alone, and with the UDP
# port preference set to the synthetic server's port (then the malformed
# UDP datagrams, which the heuristic refuses, are dissected too).
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
all=DATA,GRANT,RESEND,RPC_UNKNOWN,BUSY,CUTOFFS,FREEZE,NEED_ACK,ACK
python3 "$here/compare.py" tshark "$LUA" "$DUMP" --expect $all \
	"$tmp/synth.pcap" || exit 1
python3 "$here/compare.py" tshark "$LUA" "$DUMP" --expect $all \
	--pref homa.udp_ports:4000,40000 "$tmp/synth.pcap" || exit 1

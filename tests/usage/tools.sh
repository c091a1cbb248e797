#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tools.sh BIN_DIR VERSION - what a new user sees from the tools, without
# the network: every tool of build/bin (examples/, sim/, tools/) answers --help (exit 0,
# a usage line) and --version (exit 0, the project's VERSION); bad
# arguments are named (a bad port is not "cannot resolve HOST", an
# unknown workload lists the valid ones) with exit 2; a misspelt HOMA_*
# variable is warned about exactly once, with the name meant, and the
# library's own variables are not.
set -u
bin=$1
version=$2
fail=0
bad() {
	echo "BAD  $*"
	fail=1
}
ok() { echo "ok   $*"; }

for tool in homa-echo-client homa-echo-server homa-kv-client homa-kv-server \
	homa-sim homa-microbench homa-bench homa-metrics homa-pcap-dump \
	homa-pingpong homa-run; do
	out=$("$bin/$tool" --help 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [[ $out == usage:* ]]; then
		ok "$tool --help"
	else
		bad "$tool --help: exit $rc, '${out%%$'\n'*}'"
	fi
	out=$("$bin/$tool" --version 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [[ $out == "$tool $version"* ]]; then
		ok "$tool --version: $out"
	else
		bad "$tool --version: exit $rc, '$out' (wanted $tool $version)"
	fi
done

# expect LABEL WANT_RC WANT_TEXT COMMAND...: exit status and a fragment
# of the output (stdout and stderr).
expect() {
	local label=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want_rc" ] && [[ $out == *"$want"* ]]; then
		ok "$label"
	else
		bad "$label: exit $rc (wanted $want_rc), output '$out'" \
			"(wanted '$want')"
	fi
}
expect "echo client, port abc" 2 "bad PORT 'abc'" \
	"$bin/homa-echo-client" 127.0.0.1 abc 10 100
expect "echo client, SIZE 0" 2 "bad SIZE '0'" \
	"$bin/homa-echo-client" 127.0.0.1 4000 10 0
expect "echo client, unknown option" 2 "unknown option --rwa" \
	"$bin/homa-echo-client" --rwa 127.0.0.1 4000 10 100
expect "echo server, port 40000" 2 "bad PORT '40000'" \
	"$bin/homa-echo-server" 40000
expect "kv client, port x" 2 "bad PORT 'x'" \
	"$bin/homa-kv-client" 127.0.0.1 x 10
expect "kv client, --inflight 0" 2 "bad --inflight '0'" \
	"$bin/homa-kv-client" --inflight 0 127.0.0.1 4000 10
expect "kv server, no port" 2 "usage:" "$bin/homa-kv-server"
expect "homa-sim --workload w9" 2 "unknown workload 'w9': the workloads are w1, w2, w3, w4, w5" \
	"$bin/homa-sim" --workload w9 --no-progress

# HOMA_PATH_MTU=2 makes the library refuse to start after reading the
# environment, so no packet is sent; the warnings come first.
out=$(env HOMA_LNK_MBPS=100 HOMA_DATAPATH=udp HOMA_GSO=1 HOMA_WERROR=1 \
	HOMA_UNSCHED_BYTES=20000 HOMA_PATH_MTU=2 \
	"$bin/homa-echo-client" 127.0.0.1 4000 1 10 2>&1)
n=$(grep -c "HOMA_LNK_MBPS is not a libhoma variable" <<<"$out")
if [ "$n" -eq 1 ] && [[ $out == *"did you mean HOMA_LINK_MBPS?"* ]]; then
	ok "HOMA_LNK_MBPS warned once, HOMA_LINK_MBPS suggested"
else
	bad "HOMA_LNK_MBPS warned $n times: '$out'"
fi
if grep -E "HOMA_(DATAPATH|GSO|WERROR|UNSCHED_BYTES|PATH_MTU) is not" <<<"$out"; then
	bad "a variable of libhoma was warned about"
else
	ok "no warning for HOMA_DATAPATH, HOMA_GSO, HOMA_WERROR, HOMA_UNSCHED_BYTES"
fi
[[ $out == *"HOMA_PATH_MTU"*"not 0 or 1"* ]] &&
	ok "HOMA_PATH_MTU=2 named" || bad "HOMA_PATH_MTU=2 not named: '$out'"
# Auto-cork's hold (issue 14): microseconds, 0 to 1000000.
for v in 2000000 -1 abc; do
	out=$(env HOMA_CORK_USECS=$v "$bin/homa-echo-client" 127.0.0.1 4000 1 10 2>&1)
	[[ $out == *"HOMA_CORK_USECS: not a number of microseconds from 0 to 1000000"* ]] &&
		ok "HOMA_CORK_USECS=$v refused" || bad "HOMA_CORK_USECS=$v: '$out'"
done
exit $fail

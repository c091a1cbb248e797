#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# cluster_smoke.sh - a short Homa-vs-TCP run on the emulated cluster (at
# most a minute): both protocols complete RPCs with no errors and the
# reports, JSON and plot are written. Needs root; skips (77) otherwise
# unless HOMA_REQUIRE_ROOT=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
	echo "cluster_smoke: skipped: needs root for network namespaces"
	[ "${HOMA_REQUIRE_ROOT:-0}" = 1 ] && exit 1
	exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scripts/bench-cluster.sh --hosts 3 --seconds 8 --calibrate 2 --load 50 \
	--configs "homa8 tcp" --out "$out"
for cfg in homa8 tcp; do
	json=$out/$cfg.json
	[ -s "$json" ] || { echo "missing $json"; exit 1; }
	rpcs=$(sed -n 's/.*"rpcs": \([0-9]*\).*/\1/p' "$json")
	errors=$(sed -n 's/.*"errors": \([0-9]*\).*/\1/p' "$json")
	echo "$cfg: $rpcs rpcs, $errors errors"
	[ "$rpcs" -gt 100 ] || { echo "$cfg: too few RPCs"; exit 1; }
	[ "$errors" -eq 0 ] || { echo "$cfg: errors"; exit 1; }
done
if command -v gnuplot >/dev/null; then
	[ -s "$out/slowdown-w4-50.png" ] || { echo "no plot"; exit 1; }
fi
echo "cluster_smoke: ok"

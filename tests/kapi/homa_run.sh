#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# homa-run itself: the choice between the kernel's Homa and libhoma
# (HOMA_PRELOAD, HOMA_DEBUG, a faked native kernel), statically linked
# programs refused, scripts, missing programs, HOMA_* reaching libhoma.
#   homa_run.sh HOMA_RUN TESTDIR
set -u
run=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
unset HOMA_PRELOAD HOMA_RUN_ASSUME_NATIVE LD_PRELOAD

# A kernel without Homa (faked, so the test holds on any kernel): libhoma.
HOMA_RUN_ASSUME_NATIVE=0 HOMA_DEBUG=1 "$run" env >"$tmp/out" 2>"$tmp/err" ||
	fail "homa-run env"
grep -q '^LD_PRELOAD=.*libhoma-preload.so' "$tmp/out" || fail "no preload"
grep -q 'runs on libhoma' "$tmp/err" || fail "HOMA_DEBUG: $(cat "$tmp/err")"
echo "ok no kernel Homa: preloaded, and said so"

# A kernel with Homa (faked): the program stays on it...
HOMA_RUN_ASSUME_NATIVE=1 HOMA_DEBUG=1 "$run" env >"$tmp/out" 2>"$tmp/err" ||
	fail "homa-run env (native)"
! grep -q 'libhoma-preload' "$tmp/out" || fail "preloaded over a native kernel"
grep -q "runs on the kernel's Homa" "$tmp/err" ||
	fail "HOMA_DEBUG (native): $(cat "$tmp/err")"
# ...unless HOMA_PRELOAD=user.
HOMA_PRELOAD=user HOMA_RUN_ASSUME_NATIVE=1 "$run" env >"$tmp/out" ||
	fail "homa-run env (user)"
grep -q '^LD_PRELOAD=.*libhoma-preload.so' "$tmp/out" ||
	fail "HOMA_PRELOAD=user did not preload"
echo "ok kernel Homa: left on it; HOMA_PRELOAD=user preloads"

# Without HOMA_DEBUG, homa-run is silent.
HOMA_RUN_ASSUME_NATIVE=0 "$run" true 2>"$tmp/err" || fail "homa-run true"
[ -s "$tmp/err" ] && fail "homa-run talks without HOMA_DEBUG"

# Bad settings and programs.
HOMA_PRELOAD=bogus "$run" true 2>"$tmp/err"
[ $? = 2 ] && grep -q 'HOMA_PRELOAD=bogus' "$tmp/err" || fail "HOMA_PRELOAD=bogus"
"$run" /nonexistent/program 2>"$tmp/err"
[ $? = 127 ] || fail "missing program: not 127"
"$run" 2>/dev/null
[ $? = 2 ] || fail "no program: not 2"
echo "ok bad settings, missing program"

# A statically linked program cannot be reached: refused, not run.
HOMA_RUN_ASSUME_NATIVE=0 "$run" "$dir/kapi_static" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 126 ] || fail "static program: exit $rc, want 126"
grep -q 'statically linked' "$tmp/err" || fail "static: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && fail "the static program ran"
echo "ok statically linked program refused: $(cat "$tmp/err")"

# A script is judged by its interpreter (dynamic): preloaded.
printf '#!/bin/sh\necho "LD_PRELOAD=$LD_PRELOAD"\n' >"$tmp/script.sh"
chmod +x "$tmp/script.sh"
HOMA_RUN_ASSUME_NATIVE=0 "$run" "$tmp/script.sh" >"$tmp/out" ||
	fail "script"
grep -q 'libhoma-preload.so' "$tmp/out" || fail "script not preloaded"
echo "ok script"

# HOMA_* variables reach libhoma in the program: a bad one is reported
# by the program's first socket().
HOMA_RUN_ASSUME_NATIVE=0 HOMA_UNSCHED_BYTES=lots \
	"$run" "$dir/kapi_errors" 4 >"$tmp/out" 2>"$tmp/err"
[ $? != 0 ] || fail "bad HOMA_UNSCHED_BYTES accepted"
grep -q 'libhoma: HOMA_UNSCHED_BYTES=lots' "$tmp/err" ||
	fail "bad HOMA_* not reported: $(cat "$tmp/err")"
grep -q 'Invalid argument' "$tmp/err" || fail "socket() did not fail EINVAL"
echo "ok HOMA_* configuration reaches libhoma"

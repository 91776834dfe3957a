#!/usr/bin/env bash
# test.sh - installs what is missing, builds with AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings are errors) and with the allocation
# counters of TS_ALLOC_TORTURE (inert unless TS_ALLOC_FAIL_AT is set), and
# runs every test: unit tests, fuzz-corpus replays, and CLI tests (tests that
# need Redis start their own redis-server on a private loopback port;
# cli/torture walks allocation failures). Ends with ctest's summary line.
# A test that cannot run reports SKIP; with CI=true (as .ci/run sets it) any
# skipped test makes the exit status non-zero.
#   tools/test.sh            everything
#   tools/test.sh -R regex   only the tests whose names match
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/install-deps.sh

build=${TS_TEST_BUILD:-build-test}
# -O1 keeps the sanitizers quick; no NDEBUG, so assertions stay on
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DTS_SANITIZE=ON -DTS_WERROR=ON -DTS_ALLOC_TORTURE=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null 2>"$build/build.log" || { cat "$build/build.log"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
# ctest counts a skipped test (exit 77) as passing; under CI=true any skip
# fails the run, since a test that could not run proves nothing
set +e
ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@" 2>&1 | tee ctest.log
rc=${PIPESTATUS[0]}
set -e
skips=$(grep -cE '^[[:space:]]*[0-9]+ - .* \(Skipped\)$' ctest.log || true)
if [ "$skips" -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "test.sh: $skips test(s) skipped; CI=true fails on any skip" >&2
    [ "$rc" -ne 0 ] || rc=1
  else
    echo "test.sh: $skips test(s) skipped (CI=true would fail)" >&2
  fi
fi
exit "$rc"

# lib.sh - helpers for the CLI tests (sourced, not run).
# Each test script: source lib.sh, call ok/fail through check, end with finish.
set -euo pipefail
: "${TRAILSIGHT:?set TRAILSIGHT to the trailsight binary}"
: "${TS_SOURCE_DIR:?set TS_SOURCE_DIR to the source tree}"
TS_SHARED_DIR=${TS_SHARED_DIR:-$TS_SOURCE_DIR/../shared}
export TRAILSIGHT_MODELS=$TS_SOURCE_DIR/models
tmp=$(mktemp -d)
trap "[ -n \"${KEEP_TMP:-}\" ] || rm -rf \"$tmp\"" EXIT
passed=0
failed=0

# check "what" command...: runs the command; passes when it exits 0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what" >&2
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

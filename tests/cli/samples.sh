#!/usr/bin/env bash
# samples.sh - the real samples from other systems (../shared/samples,
# outside the repository): nothing crashes, each record is either counted
# or skipped with a reason. Without the samples the test reports SKIP
# (exit 77), never a pass.
source "$(dirname "$0")/lib.sh"
if [ ! -d "$TS_SHARED_DIR/samples" ]; then
  skip "no samples under '$TS_SHARED_DIR/samples'"
  finish
fi
set +e
"$TRAILSIGHT" backfill --stats "$tmp/s.json" "$TS_SHARED_DIR/samples" > /dev/null 2> "$tmp/serr"
rc=$?
set -e
check "samples: exit 0" test "$rc" = 0
check "samples: otrf records lack eventTime (103)" test "$(jq -r '.skipped_by_reason.no_event_time' "$tmp/s.json")" -ge 103
check "samples: the valid aws-cpl records are counted" test "$(jq -r .records_counted "$tmp/s.json")" -gt 10
check "samples: no sanitizer report" bash -c "! grep -qiE 'sanitizer|runtime error' '$tmp/serr'"
finish

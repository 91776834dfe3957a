#!/usr/bin/env bash
# golden.sh - CloudTrail in, exact insight NDJSON out: a fixed generated
# corpus must give byte for byte the events in tests/golden/. When a change
# to the model or the format is meant to change them, rewrite the files with
#   TS_UPDATE_GOLDEN=1 TRAILSIGHT=... TRAILSIGHT_GEN=... TS_SOURCE_DIR=. bash tests/cli/golden.sh
# and review the diff (the run that rewrites them fails, so the switch can
# never pass a test run). tools/check_insights.py recomputes the events'
# statistics from the records. Every number must be in Java's spelling
# (java_numbers.py spelling), and the numbers must equal in value those of
# the golden files before the spelling changed (OLD_SPELLING, read with git
# when the source tree is a git checkout).
source "$(dirname "$0")/lib.sh"
OLD_SPELLING=4e0034448cc5bc01e5a8342d5c8a1fefc68679a0
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
golden=$TS_SOURCE_DIR/tests/golden

run_case() {
  local name=$1
  shift
  "$TRAILSIGHT_GEN" --out "$tmp/$name" --quiet "$@"
  "$TRAILSIGHT" backfill -q "$tmp/$name/AWSLogs" > "$tmp/$name.ndjson"
  if [ -n "${TS_UPDATE_GOLDEN:-}" ]; then
    cp "$tmp/$name.ndjson" "$golden/$name.ndjson"
    # rewriting is never a pass: the run fails until the switch is unset
    check "$name: TS_UPDATE_GOLDEN is set: $golden/$name.ndjson rewritten, review it and run again without" false
  fi
  check "$name: output equals tests/golden/$name.ndjson" cmp "$tmp/$name.ndjson" "$golden/$name.ndjson"
  check "$name: the statistics recomputed from the records (tools/check_insights.py)" \
    python3 "$TS_SOURCE_DIR/tools/check_insights.py" --quiet "$tmp/$name.ndjson" "$tmp/$name/AWSLogs"
  check "$name: every number in Java's spelling" \
    python3 "$TS_SOURCE_DIR/tests/cli/java_numbers.py" spelling "$tmp/$name.ndjson"
  if git -C "$TS_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
    check "$name: the golden file before the spelling change is in git" \
      git -C "$TS_SOURCE_DIR" show "$OLD_SPELLING:tests/golden/$name.ndjson" > "$tmp/$name.old"
    check "$name: the same values as before the spelling change" \
      python3 "$TS_SOURCE_DIR/tests/cli/java_numbers.py" compare "$tmp/$name.old" "$tmp/$name.ndjson"
  else
    skip "not a git checkout: $name's values not compared with those at $OLD_SPELLING"
  fi
  if ! cmp -s "$tmp/$name.ndjson" "$golden/$name.ndjson"; then
    diff <(jq -c . "$golden/$name.ndjson") <(jq -c . "$tmp/$name.ndjson") | head -20 >&2 || true
  fi
}

# two regions, a spike and an error burst
run_case spike-error --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7
# a steady API that falls silent
run_case drop --seed 9 --days 8 --apis 8 --rate 60 --anomalies 1 --kinds drop --anomaly-after 7
finish

#!/usr/bin/env bash
# golden.sh - CloudTrail in, exact insight NDJSON out: a fixed generated
# corpus must give byte for byte the events in tests/golden/. When a change
# to the model or the format is meant to change them, rewrite the files with
#   TS_UPDATE_GOLDEN=1 TRAILSIGHT=... TRAILSIGHT_GEN=... TS_SOURCE_DIR=. bash tests/cli/golden.sh
# and review the diff.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
golden=$TS_SOURCE_DIR/tests/golden

run_case() {
  local name=$1
  shift
  "$TRAILSIGHT_GEN" --out "$tmp/$name" --quiet "$@"
  "$TRAILSIGHT" backfill -q "$tmp/$name/AWSLogs" > "$tmp/$name.ndjson"
  if [ -n "${TS_UPDATE_GOLDEN:-}" ]; then
    cp "$tmp/$name.ndjson" "$golden/$name.ndjson"
  fi
  check "$name: output equals tests/golden/$name.ndjson" cmp "$tmp/$name.ndjson" "$golden/$name.ndjson"
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

#!/usr/bin/env bash
# demo.sh - installs what is missing, builds trailsight, generates a
# realistic sample of CloudTrail logs (S3 layout, gzip) with one known
# anomaly, backfills it on the in-memory store (no server needed) and prints
# the insights it finds next to the anomaly that was injected.
#   tools/demo.sh [--keep]   --keep leaves the sample in ./demo-data
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/install-deps.sh

build=${TS_BUILD:-build}
echo "demo: building trailsight in $build/ ..." >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

if [ "${1:-}" = "--keep" ]; then
  data=$root/demo-data
  rm -rf "$data"
  mkdir -p "$data"
else
  data=$(mktemp -d)
  trap 'rm -rf "$data"' EXIT
fi

echo "demo: generating 9 days of CloudTrail logs for 40 APIs with one injected anomaly ..." >&2
"$build/trailsight-gen" --out "$data" --seed 7 --days 9 --apis 40 --rate 80 \
  --anomalies 1 --kinds spike --anomaly-after 8 --quiet
echo "demo: injected:" >&2
jq -r '.anomalies[] | "  \(.kind) of \(.eventSource) \(.eventName) in \(.account)/\(.region), \(.start) to \(.end) (x\(.factor))"' \
  "$data/labels.json" >&2

echo "demo: backfilling $data/AWSLogs ..." >&2
"$build/trailsight" backfill --stats "$data/stats.json" "$data/AWSLogs" > "$data/insights.ndjson"

echo "demo: insights found:" >&2
if [ -s "$data/insights.ndjson" ]; then
  jq -c '{eventTime, state: .insightDetails.state, insightType: .insightDetails.insightType,
          api: (.insightDetails.eventSource + " " + .insightDetails.eventName),
          baseline: .insightDetails.insightContext.statistics.baseline.average,
          insight: .insightDetails.insightContext.statistics.insight.average,
          insightDuration: .insightDetails.insightContext.statistics.insightDuration}' \
    "$data/insights.ndjson"
else
  echo "  (none)"
fi
jq -r '"demo: \(.records_counted) records from \(.files) files in \(.elapsed_seconds) s; \(.insights.start) Start, \(.insights.end) End"' \
  "$data/stats.json" >&2
echo "demo: full events: trailsight backfill DIR > insights.ndjson (one CloudTrail Insights event per line)" >&2

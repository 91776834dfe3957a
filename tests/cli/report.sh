#!/usr/bin/env bash
# report.sh - the HTML report, as a reader gets it: a generated corpus with
# a spike, a drop and an error burst is backfilled with --report; the pages
# are validated (HTML5, nothing external), their charts checked against the
# event times from the SVG's own coordinates, and rendered by headless
# Chromium (screenshots in $TS_REPORT_SHOTS, default a temporary folder).
# The same report is then written by `trailsight report` from a Redis store
# and must be the same pages; --since/--until, a bad events line and a
# memory store are checked too.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

chromium=$(command -v chromium || true)
py=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import html5lib' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$chromium" ] || [ -z "$py" ]; then
  echo "report.sh needs chromium and python3-html5lib: run tools/install-deps.sh" >&2
  exit 1
fi
shots=${TS_REPORT_SHOTS:-$tmp/shots}

"$TRAILSIGHT_GEN" --out "$tmp/c" --quiet --seed 2 --days 8 --apis 10 --rate 60 \
  --anomalies 3 --kinds spike,drop,error --anomaly-after 7
"$TRAILSIGHT" backfill --report "$tmp/mem" "$tmp/c/AWSLogs" > "$tmp/events.ndjson" 2> "$tmp/bf.err"
check "backfill --report says where the report went" grep -q "report of 3 insights written to $tmp/mem" "$tmp/bf.err"
check "the report's pages check out, in Chromium too" \
  "$py" "$TS_SOURCE_DIR/tests/cli/report_check.py" --report "$tmp/mem" --events "$tmp/events.ndjson" \
  --labels "$tmp/c/labels.json" --chromium "$chromium" --shots "$shots"
for f in index spike drop error spike-phone; do
  check "screenshot $f.png" test -s "$shots/$f.png"
done

# the same report from a Redis store and the events file
redis_start "$tmp/redis"
url=redis://127.0.0.1:$redis_port
"$TRAILSIGHT" backfill -q --store "$url" "$tmp/c/AWSLogs" > "$tmp/events-redis.ndjson"
check "the Redis backfill writes the same events" cmp "$tmp/events.ndjson" "$tmp/events-redis.ndjson"
"$TRAILSIGHT" report --store "$url" --events "$tmp/events.ndjson" "$tmp/red" 2> "$tmp/rep.err"
check "report --store writes a report" grep -q "report of 3 insights" "$tmp/rep.err"
strip() { sed 's#<footer>.*</footer>#<footer/>#' "$1"; }
same=0
for f in $(cd "$tmp/mem" && find . -name '*.html' | sort); do
  if ! cmp -s <(strip "$tmp/mem/$f") <(strip "$tmp/red/$f"); then
    echo "differs: $f" >&2
    diff <(strip "$tmp/mem/$f") <(strip "$tmp/red/$f") | head -5 >&2
    same=1
  fi
done
check "the report from Redis has the same pages as the backfill's" test "$same" -eq 0
check "the Redis report has as many pages" test "$(find "$tmp/red" -name '*.html' | wc -l)" -eq \
  "$(find "$tmp/mem" -name '*.html' | wc -l)"
check "its footer names the Redis store" grep -q "the Redis store at 127.0.0.1:$redis_port" "$tmp/red/index.html"

# --since/--until keep the insights whose Start is in range
drop_start=$(jq -r 'select(.insightDetails.state == "Start" and .insightDetails.insightType ==
  "ApiCallRateInsight" and .insightDetails.insightContext.statistics.insight.average <
  .insightDetails.trailsightContext.expectedAverage) |
  .eventTime' "$tmp/events.ndjson" | head -1)
"$TRAILSIGHT" report -q --store "$url" --events "$tmp/events.ndjson" --since "${drop_start:0:16}Z" \
  --until 2026-01-13 "$tmp/since"
want=$(jq -r 'select(.insightDetails.state == "Start") | .eventTime' "$tmp/events.ndjson" |
  awk -v s="$drop_start" '$0 >= s && $0 < "2026-01-13"' | wc -l)
check "--since/--until: $want insights from the drop on" test "$(ls "$tmp/since/i" | wc -l)" -eq "$want"
check "--since/--until: fewer than all" test "$want" -lt 3

# a bad line is named, counted and skipped; the rest is reported
{ head -2 "$tmp/events.ndjson"; echo '{"eventType":"AwsApiCall"}'; echo 'not json';
  head -c 1100000 /dev/zero | tr '\0' x; echo; tail -n +3 "$tmp/events.ndjson"; } > "$tmp/bad.ndjson"
"$TRAILSIGHT" report --store "$url" --events "$tmp/bad.ndjson" "$tmp/bad" 2> "$tmp/bad.err"
check "a bad events line: exit 0" test $? -eq 0
check "a bad events line: named by file and line" grep -q "bad.ndjson': line 3: not an insight event" "$tmp/bad.err"
check "a bad events line: counted" grep -q "3 unreadable" "$tmp/bad.err"
check "an over-long line: named" grep -q "line 5: not an insight event (longer than 1048576 bytes)" "$tmp/bad.err"
check "a bad events line: the others reported" test "$(ls "$tmp/bad/i" | wc -l)" -eq 3

# usage errors
set +e
"$TRAILSIGHT" report --store mem --events "$tmp/events.ndjson" "$tmp/x" 2> "$tmp/mem.err"
check "report --store mem: exit 1" test $? -eq 1
check "report --store mem: says to use backfill --report" grep -q "backfill --report" "$tmp/mem.err"
"$TRAILSIGHT" report --store "$url" --events "$tmp/nonexistent.ndjson" "$tmp/x" 2> /dev/null
check "report with a missing events file: exit 1" test $? -eq 1
"$TRAILSIGHT" stream --stdin --report "$tmp/x" < /dev/null 2> /dev/null
check "stream --report: exit 1 (a backfill option)" test $? -eq 1
set -e
finish

#!/usr/bin/env bash
# resume_episode.sh - trailsight stream killed (-9) between a Start it has
# written and its End, then started again on the same Redis store: the
# restarted service writes the End, with the Start's sharedEventID and the
# statistics of one uninterrupted run (the Start minute, baseline and
# attributions come back from the saved episode). The kill is triggered by
# the service's own metrics: trailsight_open_insights above zero.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 11 --days 8 --apis 12 --rate 30 --regions 1 \
  --anomalies 1 --kinds spike --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/ref.ndjson"
no_decision "$tmp/ref.ndjson" | LC_ALL=C sort > "$tmp/ref"
first_start=$(jq -r 'select(.insightDetails.state == "Start") | .eventTime' "$tmp/ref.ndjson" | head -1)
check "one run: a Start ($first_start) and its End" \
  test "$(jq -r .insightDetails.state "$tmp/ref.ndjson" | tr '\n' ' ')" = "Start End "
total=$(jq .files "$tmp/c/labels.json")
# files in delivery order up to the first Start's minute: delivered at once
before=$(python3 - "$tmp/c" "$first_start" <<'PY'
import os, sys
from datetime import datetime
sys.path.insert(0, os.path.join(os.environ["TS_SOURCE_DIR"], "tests", "cli"))
from deliver import delivery_order
t = datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ").strftime("%Y%m%dT%H%MZ")
print(sum(1 for rel in delivery_order(sys.argv[1]) if os.path.basename(rel).split("_")[3] < t))
PY
)
check "the Start is not in the first file ($before before it)" test "$before" -gt 0

redis_start "$tmp/r"
store="redis://127.0.0.1:$redis_port"

# metric METRICS NAME: its value ("" before the first write)
metric() { awk -v n="$2" '$1 == n {print $2}' "$1" 2>/dev/null; }
# wait_files METRICS N: until the service has read N files (5 min at most)
wait_files() {
  local i
  for i in $(seq 1 3000); do
    [ "$(metric "$1" trailsight_files_total)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 files in $1" >&2
  return 1
}

# the first service is fed one file at a time and waited for: an idle
# timeout of its own would close minutes between two files
mkdir -p "$tmp/w"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$store" --idle-timeout 3600 \
  --metrics-file "$tmp/m1.prom" --metrics-interval 1 > "$tmp/k1.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" 0 "$before" > /dev/null
wait_files "$tmp/m1.prom" "$before" || true
n=$before
open=0
while [ "$n" -lt "$total" ]; do
  $deliver "$tmp/c" "$tmp/w" "$n" "$((n + 1))" > /dev/null
  n=$((n + 1))
  wait_files "$tmp/m1.prom" "$n" || break
  open=$(metric "$tmp/m1.prom" trailsight_open_insights)
  [ "${open:-0}" -gt 0 ] && break
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
check "killed with an insight open (open_insights $open after $n of $total files)" \
  test "${open:-0}" -gt 0 -a "$n" -lt "$total"
check "before the kill: the Start written, no End" \
  test "$(jq -r .insightDetails.state "$tmp/k1.ndjson" | tr '\n' ' ')" = "Start "
check "before the kill: the Start is the one run's" \
  cmp <(no_decision "$tmp/k1.ndjson") <(head -1 "$tmp/ref.ndjson" | no_decision)

rm -f "$tmp/m1.prom"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$store" --idle-timeout 2 \
  --metrics-file "$tmp/m2.prom" --metrics-interval 1 --stats "$tmp/k2.json" \
  > "$tmp/k2.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" "$n" > /dev/null
wait_files "$tmp/m2.prom" "$((total - n))" || true
sleep 4 # the idle timeout closes the last minutes
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "the restart: SIGTERM exit 0 (got $rc)" test "$rc" = 0
check "the restart resumed the partition from its saved state" \
  test "$(jq .partitions_restored "$tmp/k2.json")" -ge 1
check "the restart wrote the End only" \
  test "$(jq -r .insightDetails.state "$tmp/k2.ndjson" | tr '\n' ' ')" = "End "
check "the End carries the Start's sharedEventID" \
  test "$(jq -r .sharedEventID "$tmp/k2.ndjson")" = "$(jq -r .sharedEventID "$tmp/k1.ndjson")"
check "the End's statistics are those of one run" \
  cmp <(jq -c .insightDetails "$tmp/k2.ndjson") <(jq -c 'select(.insightDetails.state == "End") | .insightDetails' "$tmp/ref.ndjson")
check "killed + resumed: the same insights as one run" \
  cmp <(cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | no_decision | LC_ALL=C sort) "$tmp/ref"
finish

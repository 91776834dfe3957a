#!/usr/bin/env bash
# early.sh - stream --early-starts against backfill on the same files
# (docs/DESIGN.md, "Early Starts"), checked by early_check.py:
#  - NDJSON on stdin in delivery order (memory store): the same events as
#    backfill by their defined fields (series, type, IDs, Start and End
#    minutes), one Start per episode, each Start early and decided before
#    its anomaly's onset + the lateness (the backfill's at least the
#    lateness after its Start);
#  - a watched folder on the Redis store, killed with -9 after an early
#    Start was written and before its End, then started again: the same,
#    the End written by the restarted run with the Start's IDs;
#  - backfill refuses --early-starts.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"
checker="python3 $TS_SOURCE_DIR/tests/cli/early_check.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 9 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/ref"
check "backfill made insights" test -s "$tmp/ref"
total=$(jq .files "$tmp/c/labels.json")

# 1. NDJSON on stdin, in delivery order
python3 "$TS_SOURCE_DIR/bench/ttd.py" deliver "$tmp/c" > "$tmp/records.ndjson" 2> /dev/null
"$TRAILSIGHT" stream -q --stdin --early-starts --stats "$tmp/s1.json" \
  < "$tmp/records.ndjson" > "$tmp/s1.ndjson"
check "stdin: early Starts agree with backfill" $checker "$tmp/ref" "$tmp/s1.ndjson" \
  "$tmp/c/labels.json" 20
check "stdin: --stats counts the early Starts" \
  test "$(jq .insights.early_starts "$tmp/s1.json")" = "$(grep -c '"early":true' "$tmp/s1.ndjson")"
check "stdin: without --early-starts, no early Start" \
  bash -c "! '$TRAILSIGHT' stream -q --stdin < '$tmp/records.ndjson' | grep -q '\"early\":true'"

# 2. a watched folder on Redis, killed -9 between an early Start and its End
redis_start "$tmp/r"
store="redis://127.0.0.1:$redis_port"
wait_files() { # wait_files METRICS N: until the service has read N files
  local i
  for i in $(seq 1 3000); do
    [ "$(awk '$1 == "trailsight_files_total" {print $2}' "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 files in $1" >&2
  return 1
}
# the files delivered up to 15 minutes after the first anomaly's onset
# (those that show it)
cut=$(python3 - "$tmp/c" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["TS_SOURCE_DIR"] + "/tests/cli")
from deliver import delivery_order
first = min(a["start"] for a in json.load(open(sys.argv[1] + "/labels.json"))["anomalies"])
# YYYY-MM-DDTHH:MM:SSZ -> YYYYMMDDTHHMMZ, plus 10 minutes
from datetime import datetime, timedelta
t = datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ") + timedelta(minutes=15)
lim = t.strftime("%Y%m%dT%H%MZ")
print(sum(1 for rel in delivery_order(sys.argv[1]) if os.path.basename(rel).split("_")[3] <= lim))
PY
)
mkdir -p "$tmp/w"
# (no idle timeout before the kill: it would close the open minutes)
"$TRAILSIGHT" stream -q --early-starts --watch "$tmp/w" --store "$store" --idle-timeout 3600 \
  --metrics-file "$tmp/m.prom" --metrics-interval 1 > "$tmp/k1.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" 0 "$cut" > /dev/null
wait_files "$tmp/m.prom" "$cut" || true
for _ in $(seq 1 100); do grep -q '"state":"Start"' "$tmp/k1.ndjson" && break; sleep 0.1; done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
check "watch: an early Start before the kill" grep -q '"early":true' "$tmp/k1.ndjson"
check "watch: no End before the kill" bash -c "! grep -q '\"state\":\"End\"' '$tmp/k1.ndjson'"
rm -f "$tmp/m.prom"
"$TRAILSIGHT" stream -q --early-starts --watch "$tmp/w" --store "$store" --idle-timeout 2 \
  --metrics-file "$tmp/m.prom" --metrics-interval 1 > "$tmp/k2.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" "$cut" > /dev/null
wait_files "$tmp/m.prom" "$((total - cut))" || true
sleep 5
kill -TERM "$pid"
wait "$pid" || true
check "watch, kill -9 and restart: the restart wrote the Ends" grep -q '"state":"End"' "$tmp/k2.ndjson"
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" > "$tmp/k"
check "watch, kill -9 and restart: early Starts agree with backfill" $checker "$tmp/ref" "$tmp/k" \
  "$tmp/c/labels.json" 20

# 3. backfill has no open minutes to judge
check "backfill refuses --early-starts" \
  bash -c "! '$TRAILSIGHT' backfill -q --early-starts '$tmp/c/AWSLogs' > /dev/null 2>&1"
finish

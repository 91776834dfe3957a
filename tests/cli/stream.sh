#!/usr/bin/env bash
# stream.sh - trailsight stream, end to end:
#  - a corpus delivered file by file into a watched folder, in delivery
#    order, gives exactly the insights (same IDs) backfill gives on it;
#  - killed with -9 midway and started again, the service ends with the
#    same set of insights, none missing, none twice;
#  - SIGTERM is a clean exit 0; --metrics-file is Prometheus text, with
#    memory by part and the C heap while running; the Start latency is
#    reported;
#  - --stdin gives the same insights from NDJSON;
#  - a Redis Stream consumer killed -9 or stopped with SIGTERM mid-batch and
#    started again counts every entry once.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"
# canon: insights without the decision times (lib.sh no_decision), sorted
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 9 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" | canon > "$tmp/ref"
check "backfill made insights" test -s "$tmp/ref"
total=$(jq .files "$tmp/c/labels.json")
half=$((total / 2))

redis_start "$tmp/r"
store="redis://127.0.0.1:$redis_port"

# wait_files METRICS N: until the service has read N files (5 min at most:
# sanitizer builds on a busy machine are slow)
wait_files() {
  local i
  for i in $(seq 1 3000); do
    [ "$(awk '$1 == "trailsight_files_total" {print $2}' "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 files in $1" >&2
  return 1
}

# 1. one service, every file
mkdir -p "$tmp/w1"
"$TRAILSIGHT" stream --watch "$tmp/w1" --store "$store/1" --idle-timeout 2 \
  --metrics-file "$tmp/m1.prom" --metrics-interval 1 --stats "$tmp/s1.json" \
  > "$tmp/s1.ndjson" 2> "$tmp/s1.err" &
pid=$!
$deliver "$tmp/c" "$tmp/w1" > /dev/null
check "the service read every file" wait_files "$tmp/m1.prom" "$total"
sleep 1.5 # one more metrics write, with the watcher still there
cp "$tmp/m1.prom" "$tmp/m1.live.prom"
sleep 3.5 # the idle timeout closes the last minutes
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "watched folder: the same insights as backfill" \
  cmp <(canon "$tmp/s1.ndjson") "$tmp/ref"
check "metrics: Prometheus text with the counters" \
  grep -q '^trailsight_records_counted_total [1-9]' "$tmp/m1.prom"
check "metrics: every line a comment or 'name{labels} value'" \
  test -z "$(grep -Ev '^(# (HELP|TYPE) .*|[a-z_]+(\{[^}]*\})? -?[0-9.e+]+)$' "$tmp/m1.prom")"
for part in store history detectors watch; do
  check "metrics: memory of part $part reported while running" \
    grep -q "^trailsight_memory_bytes{part=\"$part\"} [1-9]" "$tmp/m1.live.prom"
done
# glibc's malloc reports its heap; under a sanitizer's allocator there is
# none to report, and no zero may be written in its place
heap_ok() {
  grep -q '^trailsight_heap_bytes{state="in_use"} [1-9]' "$1" || ! grep -q '^trailsight_heap_bytes' "$1"
}
check "metrics: the C heap in use reported (or nothing, under a sanitizer)" heap_ok "$tmp/m1.live.prom"
check "the Start latency is measured" test "$(jq '.start_latency_seconds.n' "$tmp/s1.json")" -ge 1
# the final metrics file counts what the run wrote and read
metric() { awk -v n="$2" '$1 == n {print $2}' "$1"; }
starts=$(jq -s 'map(select(.insightDetails.state == "Start")) | length' "$tmp/s1.ndjson")
ends=$(jq -s 'map(select(.insightDetails.state == "End")) | length' "$tmp/s1.ndjson")
check "the stream made Starts ($starts)" test "$starts" -ge 1
check "metrics: the Starts made" \
  test "$(metric "$tmp/m1.prom" 'trailsight_insights_total{state="Start"}')" = "$starts"
check "metrics: Ends made ($ends)" \
  test "$(metric "$tmp/m1.prom" 'trailsight_insights_total{state="End"}')" = "$ends"
check "metrics: open insights are the Starts not Ended" \
  test "$(metric "$tmp/m1.prom" trailsight_open_insights)" = $((starts - ends))
check "metrics: stdout delivered every event" \
  test "$(metric "$tmp/m1.prom" 'trailsight_sink_events_total{sink="0",kind="stdout",result="delivered"}')" = \
  "$(wc -l < "$tmp/s1.ndjson")"
for k in records_read records_counted checkpoints; do
  name=trailsight_${k}_total
  check "metrics: $name is --stats' $k" \
    test "$(metric "$tmp/m1.prom" "$name")" = "$(jq ".$k" "$tmp/s1.json")"
done
check "metrics: files read" test "$(metric "$tmp/m1.prom" trailsight_files_total)" = "$total"
echo "Start latency: $(jq -c .start_latency_seconds "$tmp/s1.json")"

# 2. killed with -9 halfway, then started again
mkdir -p "$tmp/w2"
"$TRAILSIGHT" stream -q --watch "$tmp/w2" --store "$store/2" --idle-timeout 2 \
  --metrics-file "$tmp/m2.prom" --metrics-interval 1 > "$tmp/k1.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w2" 0 "$half" > /dev/null
wait_files "$tmp/m2.prom" "$half" || true
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
rm -f "$tmp/m2.prom"
"$TRAILSIGHT" stream -q --watch "$tmp/w2" --store "$store/2" --idle-timeout 2 \
  --metrics-file "$tmp/m2.prom" --metrics-interval 1 --stats "$tmp/k2.json" \
  > "$tmp/k2.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w2" "$half" > /dev/null
wait_files "$tmp/m2.prom" "$((total - half))" || true
sleep 5
kill -TERM "$pid"
wait "$pid" || true
check "the restart skipped the files counted before the kill" \
  test "$(jq .files_already_counted "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/k"
check "kill -9 and restart: no event twice" test -z "$(uniq -d "$tmp/k")"
check "kill -9 and restart: the same insights as backfill" cmp "$tmp/k" "$tmp/ref"

# 3. NDJSON on stdin, in delivery order
python3 - "$tmp/c" > "$tmp/records.ndjson" <<'PY'
import gzip, json, os, sys
sys.path.insert(0, os.environ["TS_SOURCE_DIR"] + "/tests/cli")
from deliver import delivery_order
for rel in delivery_order(sys.argv[1]):
    with gzip.open(os.path.join(sys.argv[1], rel), "rt") as f:
        for r in json.load(f)["Records"]:
            print(json.dumps(r, separators=(",", ":")))
PY
"$TRAILSIGHT" stream -q --stdin --store "$store/3" < "$tmp/records.ndjson" | canon > "$tmp/stdin"
check "stdin: the same insights as backfill" cmp "$tmp/stdin" "$tmp/ref"

# 4. a Redis Stream through a consumer group, killed -9 midway and restarted
python3 - "$tmp/records.ndjson" > "$tmp/xadd.resp" <<'PY'
import sys
out = sys.stdout.buffer
for line in open(sys.argv[1], "rb"):
    rec = line.rstrip(b"\n")
    args = [b"XADD", b"cloudtrail", b"*", b"record", rec]
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
PY
redis-cli -p "$redis_port" -n 4 --pipe < "$tmp/xadd.resp" > /dev/null
nrec=$(wc -l < "$tmp/records.ndjson")
check "the stream holds every record" test "$(redis-cli -p "$redis_port" -n 4 xlen cloudtrail)" = "$nrec"
wait_records() {
  local i
  for i in $(seq 1 3000); do
    [ "$(awk '$1 == "trailsight_records_read_total" {print $2}' "$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
"$TRAILSIGHT" stream -q --redis-stream "$store/4#cloudtrail" --store "$store/5" --idle-timeout 2 \
  --metrics-file "$tmp/m4.prom" --metrics-interval 1 --consumer c1 > "$tmp/x1.ndjson" &
pid=$!
wait_records "$tmp/m4.prom" $((nrec / 3)) || true
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pending=$(redis-cli -p "$redis_port" -n 4 xpending cloudtrail trailsight | head -1)
echo "entries pending after the kill: $pending"
rm -f "$tmp/m4.prom"
"$TRAILSIGHT" stream -q --redis-stream "$store/4#cloudtrail" --store "$store/5" --idle-timeout 2 \
  --metrics-file "$tmp/m4.prom" --metrics-interval 1 --consumer c1 --stats "$tmp/x2.json" \
  > "$tmp/x2.ndjson" &
pid=$!
for i in $(seq 1 3000); do
  [ "$(redis-cli -p "$redis_port" -n 4 xpending cloudtrail trailsight | head -1)" = 0 ] &&
    [ "$(redis-cli -p "$redis_port" -n 4 xinfo groups cloudtrail | awk 'f {print; exit} /^lag$/ {f = 1}')" = 0 ] && break
  sleep 0.1
done
sleep 4
kill -TERM "$pid"
wait "$pid" || true
check "every entry acknowledged" test "$(redis-cli -p "$redis_port" -n 4 xpending cloudtrail trailsight | head -1)" = 0
cat "$tmp/x1.ndjson" "$tmp/x2.ndjson" | canon > "$tmp/x"
check "redis stream, killed and restarted: no event twice" test -z "$(uniq -d "$tmp/x")"
check "redis stream, killed and restarted: the same insights as backfill" cmp "$tmp/x" "$tmp/ref"
redis_dump_counts "$redis_port" 5 > "$tmp/xcounts"
python3 "$TS_SOURCE_DIR/tools/recount.py" "$tmp/c/AWSLogs" | LC_ALL=C sort > "$tmp/expected"
check "redis stream, killed and restarted: counts equal the recount" cmp "$tmp/xcounts" "$tmp/expected"

# 5. the same stream stopped with SIGTERM midway: a stop between two
# entries of a batch leaves the rest of the batch pending (read again by the
# next start), so nothing read but not counted is acknowledged
redis-cli -p "$redis_port" -n 6 --pipe < "$tmp/xadd.resp" > /dev/null
"$TRAILSIGHT" stream -q --redis-stream "$store/6#cloudtrail" --store "$store/7" --idle-timeout 2 \
  --metrics-file "$tmp/m6.prom" --metrics-interval 1 --consumer c1 --stats "$tmp/t1.json" \
  > "$tmp/t1.ndjson" &
pid=$!
wait_records "$tmp/m6.prom" $((nrec / 3)) || true
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM on a Redis Stream: exit 0 (got $rc)" test "$rc" = 0
read1=$(jq .records_read "$tmp/t1.json")
pend=$(redis-cli -p "$redis_port" -n 6 xpending cloudtrail trailsight | head -1)
echo "stopped after $read1 of $nrec records, $pend entries left pending"
check "the stop came before the end of the stream" test "$read1" -lt "$nrec"
"$TRAILSIGHT" stream -q --redis-stream "$store/6#cloudtrail" --store "$store/7" --idle-timeout 2 \
  --consumer c1 --stats "$tmp/t2.json" > "$tmp/t2.ndjson" &
pid=$!
for i in $(seq 1 3000); do
  [ "$(redis-cli -p "$redis_port" -n 6 xpending cloudtrail trailsight | head -1)" = 0 ] &&
    [ "$(redis-cli -p "$redis_port" -n 6 xinfo groups cloudtrail | awk 'f {print; exit} /^lag$/ {f = 1}')" = 0 ] && break
  sleep 0.1
done
sleep 4
kill -TERM "$pid"
wait "$pid" || true
read2=$(jq .records_read "$tmp/t2.json")
echo "the restart read $read2 records ($(jq .records_already_counted "$tmp/t2.json") already counted)"
check "SIGTERM and restart: every record read once" test "$((read1 + read2))" = "$nrec"
redis_dump_counts "$redis_port" 7 > "$tmp/tcounts"
check "SIGTERM and restart: counts equal the recount" cmp "$tmp/tcounts" "$tmp/expected"
cat "$tmp/t1.ndjson" "$tmp/t2.ndjson" | canon > "$tmp/t"
check "SIGTERM and restart: the same insights as backfill" cmp "$tmp/t" "$tmp/ref"
finish

#!/usr/bin/env bash
# redis_lost.sh - Redis restarted without persistence loses the history;
# trailsight must notice, say so naming the server, and never judge the
# next records against the empty baseline (which would flood the sinks):
#  - a stream run restored from a week of history, whose Redis loses
#    everything early on the anomalous day, before the day's baselines
#    are fitted (they would read seven empty days): exit 2, "lost the
#    history", no event;
#  - the next run on the now empty store (as a service manager restarts
#    it): a warning that the store holds no history, the series warm up
#    again, and no burst of insights, where a run with the history finds
#    the anomalies;
#  - a backfill whose Redis loses everything between two checkpoints:
#    exit 2 with the same message.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 8 --rate 20 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
# the records in delivery order: week.ndjson up to the last day, then last.ndjson
python3 - "$tmp/c" "$tmp/week.ndjson" "$tmp/last.ndjson" <<'PY'
import gzip, json, os, sys
sys.path.insert(0, os.environ["TS_SOURCE_DIR"] + "/tests/cli")
from deliver import delivery_order
week, last = open(sys.argv[2], "w"), open(sys.argv[3], "w")
out = week
for rel in delivery_order(sys.argv[1]):
    with gzip.open(os.path.join(sys.argv[1], rel), "rt") as f:
        for r in json.load(f)["Records"]:
            if r["eventTime"] >= "2026-01-12":
                out = last
            out.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
check "a week and a day of records" test -s "$tmp/last.ndjson"

# with the history: the last day has insights
redis_start "$tmp/ref"
ref="redis://127.0.0.1:$redis_port"
"$TRAILSIGHT" stream -q --stdin --store "$ref" < "$tmp/week.ndjson" > /dev/null
"$TRAILSIGHT" stream -q --stdin --store "$ref" < "$tmp/last.ndjson" > "$tmp/ref.ndjson"
nref=$(grep -c '"state":"Start"' "$tmp/ref.ndjson" || true)
check "with its history, the last day has insights ($nref Starts)" test "$nref" -gt 0

# restart_empty PORT DIR: kill -9 the server and start an empty one (no
# persistence) on the same port
restart_empty() {
  kill -9 "$(cat "$2/redis.pid")"
  sleep 0.5
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$2" \
    --daemonize yes --pidfile "$2/redis.pid" --logfile "$2/redis.log" > /dev/null 3>&-
  for i in $(seq 1 50); do redis-cli -p "$1" ping > /dev/null 2>&1 && break; sleep 0.1; done
  redis_pids+=("$(cat "$2/redis.pid")")
}

# 1. history lost during a stream run
redis_start "$tmp/r1"
p1=$redis_port
url="redis://127.0.0.1:$p1"
"$TRAILSIGHT" stream -q --stdin --store "$url" < "$tmp/week.ndjson" > /dev/null
check "the week is stored" test "$(redis-cli -p "$p1" exists ts:schema)" = 1
mkfifo "$tmp/fifo"
t0=$SECONDS
# (bounded: a run that went on after the loss ends at the end of its input)
timeout 300 "$TRAILSIGHT" stream --stdin --store "$url" < "$tmp/fifo" > "$tmp/lost.ndjson" \
  2> "$tmp/lost.err" &
pid=$!
exec 3> "$tmp/fifo"
# the first records restore the partition (its detectors, its series'
# first minutes); no minute of the last day closes before the loss
head -n 200 "$tmp/last.ndjson" >&3
sleep 2
restart_empty "$p1" "$tmp/r1"
tail -n +201 "$tmp/last.ndjson" >&3 2> /dev/null || true
exec 3>&-
set +e
wait "$pid"
rc=$?
set -e
echo "stream loss: run took $((SECONDS - t0)) s" >&2
check "stream: history lost: exit 2 (got $rc)" test "$rc" = 2
check "stream: the message says the history was lost, naming the server" \
  grep -q "127.0.0.1:$p1 lost the history" "$tmp/lost.err"
check "stream: no event" test ! -s "$tmp/lost.ndjson"

# 2. the next run on the empty store: series warm up, no burst
"$TRAILSIGHT" stream --stdin --store "$url" < "$tmp/last.ndjson" > "$tmp/next.ndjson" 2> "$tmp/next.err"
check "next run: says the store holds no history" grep -q "holds no history yet" "$tmp/next.err"
check "next run: no burst of insights (0, against $nref with the history)" \
  test "$(grep -c '"state":"Start"' "$tmp/next.ndjson" || true)" = 0

# 3. history lost between two checkpoints of a backfill
redis_start "$tmp/r3"
p3=$redis_port
acct=$(jq -r '.accounts[0]' "$tmp/c/labels.json")
"$TRAILSIGHT" backfill --threads 1 --checkpoint-cells 3000 --store "redis://127.0.0.1:$p3" \
  "$logs" > "$tmp/bf.ndjson" 2> "$tmp/bf.err" &
pid=$!
for i in $(seq 1 300); do
  [ "$(redis-cli -p "$p3" get "ts:{$acct:us-east-1}:flushseq")" -ge 2 ] 2>/dev/null && break
  sleep 0.05
done
restart_empty "$p3" "$tmp/r3"
set +e
wait "$pid"
rc=$?
set -e
check "backfill: history lost: exit 2 (got $rc)" test "$rc" = 2
check "backfill: the message says so, naming the server" \
  grep -q "127.0.0.1:$p3 lost the history" "$tmp/bf.err"
check "backfill: no event" test ! -s "$tmp/bf.ndjson"
finish

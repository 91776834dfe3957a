#!/usr/bin/env bash
# checkpoints.sh - restart safety of the Redis store, end to end:
#  - a second backfill of the same files reads none of them, prints the
#    first one's insights again (derived from the store) and leaves the counts as they were;
#  - trailsight killed (-9) mid-backfill and run again prints exactly the
#    insights of an undisturbed run (Starts held before the kill included),
#    and the counts equal those recomputed from the records;
#  - redis-server (AOF on) killed mid-backfill and restarted: the run
#    finishes, with the same insights and counts.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
recount="$TS_SOURCE_DIR/tools/recount.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/mem.ndjson"
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected"
check "insights written" test -s "$tmp/mem.ndjson"
check "counts recomputed" test -s "$tmp/expected"

redis_start "$tmp/r1"
url="redis://127.0.0.1:$redis_port"
port=$redis_port
run() { "$TRAILSIGHT" backfill --threads 1 --checkpoint-cells 3000 "$@"; }

# 1. twice into db 1
run -q --store "$url/1" "$logs" > "$tmp/first.ndjson"
check "redis store: same insights as mem" cmp "$tmp/first.ndjson" "$tmp/mem.ndjson"
redis_dump_counts "$port" 1 > "$tmp/dump1"
check "counts equal the recount" cmp "$tmp/dump1" "$tmp/expected"
run --stats "$tmp/second.json" --store "$url/1" "$logs" > "$tmp/second.ndjson" 2> "$tmp/second.err"
files=$(jq .files "$tmp/c/labels.json")
check "second run reads no file" test "$(jq .files "$tmp/second.json")" = 0
check "second run: all $files files already counted" \
  test "$(jq .files_already_counted "$tmp/second.json")" = "$files"
check "the summary says so" grep -q "$files files already counted in the store" "$tmp/second.err"
check "second run prints the first run's insights, derived from the store" cmp "$tmp/second.ndjson" "$tmp/mem.ndjson"
redis_dump_counts "$port" 1 > "$tmp/dump1b"
check "counts unchanged" cmp "$tmp/dump1" "$tmp/dump1b"
run -q --force --store "$url/1" "$logs" > /dev/null
redis_dump_counts "$port" 1 > "$tmp/dump1c"
check "--force reads and counts again" bash -c "! cmp -s '$tmp/dump1' '$tmp/dump1c'"

# 2. trailsight killed after a few checkpoints, then run again (db 2)
# (trailsight itself in the background, not a function: $! must be its pid)
"$TRAILSIGHT" backfill -q --threads 1 --checkpoint-cells 3000 --store "$url/2" "$logs" \
  > "$tmp/k1.ndjson" &
pid=$!
for i in $(seq 1 200); do
  [ "$(redis-cli -p "$port" -n 2 get 'ts:{'"$(jq -r '.accounts[0]' "$tmp/c/labels.json")"':us-east-1}:flushseq')" -ge 5 ] 2>/dev/null && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null && killed=1 || killed=0
wait "$pid" 2>/dev/null || true
check "trailsight was killed mid-run" test "$killed" = 1
run --stats "$tmp/k2.json" -q --store "$url/2" "$logs" > "$tmp/k2.ndjson"
check "the second run skipped files counted before the kill" \
  test "$(jq .files_already_counted "$tmp/k2.json")" -gt 0
check "and resumed partitions from their saved state" \
  test "$(jq .partitions_restored "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" > "$tmp/k.ndjson"
check "killed + resumed: the same insights as one run" cmp "$tmp/k.ndjson" "$tmp/mem.ndjson"
redis_dump_counts "$port" 2 > "$tmp/dump2"
check "killed + resumed: counts equal the recount" cmp "$tmp/dump2" "$tmp/expected"

# 3. redis-server killed mid-run and restarted from its AOF
redis_start "$tmp/r2" --appendonly yes --appendfsync always
p2=$redis_port
"$TRAILSIGHT" backfill -q --stats "$tmp/d.json" --threads 1 --checkpoint-cells 3000 \
  --store "redis://127.0.0.1:$p2" "$logs" > "$tmp/d.ndjson" &
pid=$!
for i in $(seq 1 200); do
  [ "$(redis-cli -p "$p2" eval "return #redis.call('KEYS', 'ts:{*}:state')" 0)" -ge 1 ] 2>/dev/null && break
  sleep 0.05
done
kill -9 "$(cat "$tmp/r2/redis.pid")"
sleep 1
redis-server --port "$p2" --bind 127.0.0.1 --save "" --dir "$tmp/r2" --daemonize yes \
  --pidfile "$tmp/r2/redis.pid" --logfile "$tmp/r2/redis.log" \
  --appendonly yes --appendfsync always >/dev/null
redis_pids+=("$(sleep 0.2; cat "$tmp/r2/redis.pid")")
rc=0
wait "$pid" || rc=$?
check "the run finished through the Redis restart (exit $rc)" test "$rc" = 0
check "it reconnected" test "$(jq .store.reconnects "$tmp/d.json")" -ge 1
check "Redis restart: the same insights" cmp "$tmp/d.ndjson" "$tmp/mem.ndjson"
redis_dump_counts "$p2" 0 > "$tmp/dump3"
check "Redis restart: counts equal the recount" cmp "$tmp/dump3" "$tmp/expected"
finish

#!/usr/bin/env bash
# redis_faults.sh - a backfill with --store redis:// rides out faults of the
# connection, and each batch applies exactly once:
#  - redis-server paused (SIGSTOP, so commands time out) and resumed;
#  - the connection cut in the middle of a pipeline (a proxy forwards N
#    bytes and closes);
#  - the connection cut after a flush script was forwarded and run, before
#    its reply came back (the reply is lost; the batch is sent again).
# Each run exits 0, prints the insights of a memory-store run and leaves
# the counts tools/recount.py recomputes from the records.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
recount="$TS_SOURCE_DIR/tools/recount.py"
proxy="$TS_SOURCE_DIR/tests/cli/cutproxy.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 8 --rate 20 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
acct=$(jq -r '.accounts[0]' "$tmp/c/labels.json")
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/mem.ndjson"
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected"
check "insights written" test -s "$tmp/mem.ndjson"

run_bg() { # run_bg NAME URL: a backfill in the background, $! its pid
  "$TRAILSIGHT" backfill --threads 1 --checkpoint-cells 3000 --stats "$tmp/$1.json" \
    --store "$2" "$logs" > "$tmp/$1.ndjson" 2> "$tmp/$1.err" &
}
# the same insights and counts as an undisturbed run
same_result() { # same_result NAME PORT
  check "$1: the insights of the memory store" cmp "$tmp/$1.ndjson" "$tmp/mem.ndjson"
  redis_dump_counts "$2" 0 > "$tmp/$1.dump"
  check "$1: counts equal the recount" cmp "$tmp/$1.dump" "$tmp/expected"
}

# 1. paused and resumed mid-run
redis_start "$tmp/r1"
p1=$redis_port
rpid=$(cat "$tmp/r1/redis.pid")
t0=$SECONDS
run_bg pause "redis://127.0.0.1:$p1"
pid=$!
for i in $(seq 1 300); do
  [ "$(redis-cli -p "$p1" get "ts:{$acct:us-east-1}:flushseq")" -ge 2 ] 2>/dev/null && break
  sleep 0.05
done
kill -STOP "$rpid"
sleep 7 # past the 5 s command timeout
kill -CONT "$rpid"
set +e
wait "$pid"
rc=$?
set -e
echo "pause: run took $((SECONDS - t0)) s" >&2
check "pause: exit 0 (got $rc)" test "$rc" = 0
same_result pause "$p1"
check "pause: reconnects counted in --stats" test "$(jq .store.reconnects "$tmp/pause.json")" -gt 0
check "pause: and reported" grep -q "store connections made again after a failure" "$tmp/pause.err"

# 2. cut in the middle of a pipeline, then 3. after a script ran
cut_run() { # cut_run NAME MODE BYTES
  local name=$1
  redis_start "$tmp/r-$name"
  local port=$redis_port
  python3 "$proxy" "$tmp/$name.port" "$port" "$2" "$3" 3 "$tmp/$name.cuts" &
  redis_pids+=("$!")
  for i in $(seq 1 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
  t0=$SECONDS
  run_bg "$name" "redis://127.0.0.1:$(cat "$tmp/$name.port")"
  set +e
  wait "$!"
  rc=$?
  set -e
  echo "$name: run took $((SECONDS - t0)) s; $(wc -l < "$tmp/$name.cuts" 2>/dev/null || echo 0) cuts" >&2
  check "$name: exit 0 (got $rc)" test "$rc" = 0
  check "$name: the proxy cut connections" test "$(wc -l < "$tmp/$name.cuts")" -ge 2
  same_result "$name" "$port"
}
cut_run midpipe bytes 40000
cut_run lostreply eval 12000
check "lostreply: the lost batches were found applied (sent again)" \
  grep -q "sending again" "$tmp/lostreply.err"
finish

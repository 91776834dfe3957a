#!/usr/bin/env bash
# redis_group.sh - two workers of one group (--group) sharing a real
# 3-master Redis Cluster, over an organization (20 accounts x 3 Regions,
# 9 days, so every series is judged):
#  - run together, each finishes some of the partitions (not all in one),
#    the union of their insights equals a single-process memory-store
#    backfill's, line for line after sorting, and is not empty; every
#    count in the cluster equals tools/recount.py's recount;
#  - one worker killed -9 midway: the partitions it held are claimed again
#    (their fencing counter moves on) by the other once the lease (1 s)
#    lapses, and resumed from the killed worker's checkpoints; the insights again equal the single-process run's, none
#    twice, and the counts equal the recount;
#  - --group with the memory store, or with --stdin, exits 1 with a reason.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
recount="$TS_SOURCE_DIR/tools/recount.py"
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 7 --days 9 --apis 3 --rate 6 --regions 3 --accounts 20 \
  --anomalies 8 --kinds spike,error --anomaly-after 7 --file-minutes 360 --no-digests \
  --quiet 2>/dev/null
logs=$tmp/c/AWSLogs
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected" &
recount_pid=$!
# --future-minutes 0: recount.py has no clock skew guard
"$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 "$logs" > "$tmp/mem.ndjson"
canon "$tmp/mem.ndjson" > "$tmp/ref"
check "single-process insights written" test -s "$tmp/ref"

# usage errors
set +e
"$TRAILSIGHT" backfill -q --group g "$logs" > /dev/null 2> "$tmp/mem.err"
st=$?
"$TRAILSIGHT" stream -q --group g --stdin --store redis://127.0.0.1:1 < /dev/null \
  > /dev/null 2> "$tmp/stdin.err"
st2=$?
set -e
check "--group with the memory store: exit 1 ($st)" test "$st" = 1
check "  ... saying the store has no leases" grep -q "memory store has no leases" "$tmp/mem.err"
check "--group with --stdin: exit 1 ($st2)" test "$st2" = 1

redis_cluster_start "$tmp/cl" 3
ports=("${cluster_ports[@]}")
wait "$recount_pid"
check "counts recomputed" test -s "$tmp/expected"
url="redis-cluster://127.0.0.1:${ports[0]}"
flushall() { local p; for p in "${ports[@]}"; do redis-cli -p "$p" flushall > /dev/null; done; }
worker() { # worker NAME [options] &: a backfill of group g into the cluster (exec: $! is its pid)
  local name=$1
  shift
  exec "$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 --group g --store "$url" \
    --stats "$tmp/$name.json" \
    "$@" "$logs" > "$tmp/$name.ndjson" 2> "$tmp/$name.err"
}

# 1. two workers together
worker w1 & p1=$!
worker w2 & p2=$!
st1=0; st2=0
wait "$p1" || st1=$?
wait "$p2" || st2=$?
check "worker 1 exits 0 ($st1)" test "$st1" = 0
check "worker 2 exits 0 ($st2)" test "$st2" = 0
n1=$(jq .group.finished_here "$tmp/w1.json")
n2=$(jq .group.finished_here "$tmp/w2.json")
np=$(jq .group.partitions "$tmp/w1.json")
check "each worker finished some partitions ($n1 and $n2 of $np)" \
  test "$n1" -gt 0 -a "$n2" -gt 0 -a "$n1" -lt "$np" -a "$n2" -lt "$np"
check "60 partitions seen" test "$np" = 60
check "no lease lost" test "$(jq '.group.lost + .group.fenced' "$tmp/w1.json" "$tmp/w2.json" |
  paste -sd+ | bc)" = 0
cat "$tmp/w1.ndjson" "$tmp/w2.ndjson" | canon > "$tmp/u1"
check "two workers: no insight twice" test -z "$(uniq -d "$tmp/u1")"
check "two workers: the union equals the single-process insights" cmp "$tmp/u1" "$tmp/ref"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump1"
check "two workers: counts equal the recount" cmp "$tmp/dump1" "$tmp/expected"

# 2. one worker killed -9 midway, leases of 1 s
flushall
leases_of() { # leases_of PID: "PORT KEY" of each lease a process holds
  # on a partition it has checkpointed (a saved state)
  local p
  for p in "${ports[@]}"; do
    redis-cli -p "$p" --raw eval "
      local out = {}
      for _, k in ipairs(redis.call('KEYS', 'ts:{*}:lease')) do
        local v = redis.call('GET', k)
        local st = string.sub(k, 1, -6) .. 'state'
        if v and string.sub(v, -#ARGV[1] - 1) == ':' .. ARGV[1] and
           redis.call('EXISTS', st) == 1 then out[#out + 1] = k end
      end
      return out" 0 "$1" | sed "/^\$/d; s/^/$p /"
  done
}
# checkpoints as it goes (--order time, small --checkpoint-cells), so the
# partitions the killed worker held are resumed from its saved states
worker k1 --lease-ms 1000 --order time --checkpoint-cells 500 & pk1=$!
worker k2 --lease-ms 1000 --order time --checkpoint-cells 500 & pk2=$!
held=""
for i in $(seq 1 200); do
  held=$(leases_of "$pk1")
  [ -n "$held" ] && break
  sleep 0.05
done
kill -9 "$pk1"
wait "$pk1" 2>/dev/null || true
st=0
wait "$pk2" || st=$?
check "the surviving worker exits 0 ($st)" test "$st" = 0
check "the killed worker held checkpointed partitions when killed" test -n "$held"
moved=1
while read -r p k; do
  [ -n "$k" ] || continue
  f=${k%:lease}:fence
  [ "$(redis-cli -p "$p" get "$f")" -ge 2 ] || { echo "not taken over: $k" >&2; moved=0; }
done <<< "$held"
check "every partition it held was claimed again" test "$moved" = 1
check "the survivor resumed partitions from the killed worker's checkpoints" \
  test "$(jq .partitions_restored "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/u2"
check "kill -9: no insight twice" test -z "$(uniq -d "$tmp/u2")"
check "kill -9: the union equals the single-process insights" cmp "$tmp/u2" "$tmp/ref"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump2"
check "kill -9: counts equal the recount" cmp "$tmp/dump2" "$tmp/expected"
finish

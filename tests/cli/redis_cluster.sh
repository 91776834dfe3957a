#!/usr/bin/env bash
# redis_cluster.sh - the Redis store on a real 3-master Redis Cluster
# (--store redis-cluster://), end to end:
#  - backfill prints the same insights, byte for byte, as the memory store,
#    its keys spread over every master, every count cell equal to the
#    recount from the records (dumped from each master);
#  - a second backfill reads no file, changes no count and prints the
#    first run's insights, re-derived from the store, as detect does;
#  - report --store redis-cluster:// writes the pages backfill --report does;
#  - stream --watch killed -9 midway and started again ends with the same
#    insights as backfill;
#  - a backfill while redis-cli --cluster reshard moves every slot of the
#    master serving a partition: the same insights and counts;
#  - a redis-cluster:// URL to a plain server, and a redis:// URL to a
#    cluster node, exit 2 with a hint.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
recount="$TS_SOURCE_DIR/tools/recount.py"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 9 --apis 8 --rate 30 --regions 3 --accounts 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
"$TRAILSIGHT" backfill -q --report "$tmp/memrep" "$logs" > "$tmp/mem.ndjson"
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected"
check "insights written" test -s "$tmp/mem.ndjson"
check "counts recomputed" test -s "$tmp/expected"
files=$(jq .files "$tmp/c/labels.json")

redis_cluster_start "$tmp/cl" 3
ports=("${cluster_ports[@]}")
# seeds: one node is enough to find the others
url="redis-cluster://127.0.0.1:${ports[1]}"
flushall() { local p; for p in "${ports[@]}"; do redis-cli -p "$p" flushall > /dev/null; done; }
run() { "$TRAILSIGHT" backfill --threads 1 --checkpoint-cells 3000 "$@"; }

# 1. backfill, many checkpoints (background flushes) into the cluster
run -q --stats "$tmp/first.json" --store "$url" "$logs" > "$tmp/first.ndjson"
check "cluster store: the same insights as mem" cmp "$tmp/first.ndjson" "$tmp/mem.ndjson"
for p in "${ports[@]}"; do
  check "master $p holds keys" test "$(redis-cli -p "$p" dbsize)" -gt 0
done
check "checkpoints were made ($(jq .checkpoints "$tmp/first.json"))" \
  test "$(jq .checkpoints "$tmp/first.json")" -ge 5
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump1"
check "counts on the masters equal the recount" cmp "$tmp/dump1" "$tmp/expected"

# 2. again: nothing read, nothing new, counts unchanged
run --stats "$tmp/second.json" --store "$url" "$logs" > "$tmp/second.ndjson" 2> "$tmp/second.err"
check "second run reads no file" test "$(jq .files "$tmp/second.json")" = 0
check "second run: all $files files already counted" \
  test "$(jq .files_already_counted "$tmp/second.json")" = "$files"
check "second run prints the first run's insights, from the store" \
  cmp "$tmp/second.ndjson" "$tmp/mem.ndjson"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump2"
check "counts unchanged" cmp "$tmp/dump1" "$tmp/dump2"
"$TRAILSIGHT" detect -q --store "$url" > "$tmp/detect.ndjson"
check "detect on the cluster: the backfill's insights" cmp "$tmp/detect.ndjson" "$tmp/mem.ndjson"

# 3. report from the cluster
"$TRAILSIGHT" report --store "redis-cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[2]}" \
  --events "$tmp/mem.ndjson" "$tmp/clrep" 2> "$tmp/rep.err"
strip() { sed 's#<footer>.*</footer>#<footer/>#' "$1"; }
same=0
for f in $(cd "$tmp/memrep" && find . -name '*.html' | sort); do
  cmp -s <(strip "$tmp/memrep/$f") <(strip "$tmp/clrep/$f") || { echo "differs: $f" >&2; same=1; }
done
check "report from the cluster: pages written" test -s "$tmp/clrep/index.html"
check "report from the cluster: the same pages as backfill --report" test "$same" -eq 0
check "its footer names the cluster" grep -q "Redis Cluster store at 127.0.0.1:${ports[0]}" \
  "$tmp/clrep/index.html"

# 4. stream --watch killed -9 halfway, then started again
flushall
canon "$tmp/mem.ndjson" > "$tmp/ref"
half=$((files / 2))
wait_files() {
  local i
  for i in $(seq 1 3000); do
    [ "$(awk '$1 == "trailsight_files_total" {print $2}' "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 files in $1" >&2
  return 1
}
mkdir -p "$tmp/w"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$url" --idle-timeout 2 \
  --metrics-file "$tmp/m1.prom" --metrics-interval 1 > "$tmp/k1.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" 0 "$half" > /dev/null
wait_files "$tmp/m1.prom" "$half" || true
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
"$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$url" --idle-timeout 2 \
  --metrics-file "$tmp/m2.prom" --metrics-interval 1 --stats "$tmp/k2.json" \
  > "$tmp/k2.ndjson" &
pid=$!
$deliver "$tmp/c" "$tmp/w" "$half" > /dev/null
wait_files "$tmp/m2.prom" "$((files - half))" || true
sleep 5
kill -TERM "$pid"
wait "$pid" || true
check "stream: the restart skipped the files counted before the kill" \
  test "$(jq .files_already_counted "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/k"
check "stream: kill -9 and restart, no event twice" test -z "$(uniq -d "$tmp/k")"
check "stream: kill -9 and restart, the same insights as backfill" cmp "$tmp/k" "$tmp/ref"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump3"
check "stream: counts equal the recount" cmp "$tmp/dump3" "$tmp/expected"

# 5. a reshard during a backfill: every slot of the master serving the
# first partition moves to another master while the backfill writes
flushall
acct=$(jq -r '.accounts[0]' "$tmp/c/labels.json")
key="ts:{$acct:us-east-1}:flushseq"
from=""
for i in 0 1 2; do
  redis-cli -p "${ports[$i]}" get "$key" | grep -q '^MOVED' || { from=$i; break; }
done
to=$(((from + 1) % 3))
fid=$(redis-cli -p "${ports[$from]}" cluster myid)
tid=$(redis-cli -p "${ports[$to]}" cluster myid)
nslots=$(redis-cli -p "${ports[$from]}" cluster nodes | awk '/myself/ {
  for (i = 9; i <= NF; i++) { n = split($i, r, "-"); s += (n == 2 ? r[2] - r[1] + 1 : 1) } }
  END { print s }')
run -q --store "$url" "$logs" > "$tmp/rs.ndjson" &
pid=$!
for i in $(seq 1 600); do
  [ "$(redis-cli -p "${ports[$from]}" get "$key" 2>/dev/null)" -ge 3 ] 2>/dev/null && break
  sleep 0.05
done
alive=0
kill -0 "$pid" 2>/dev/null && alive=1
redis-cli --cluster reshard "127.0.0.1:${ports[0]}" --cluster-from "$fid" --cluster-to "$tid" \
  --cluster-slots "$nslots" --cluster-yes > "$tmp/reshard.log" 2>&1 && rrc=0 || rrc=$?
rc=0
wait "$pid" || rc=$?
check "reshard: redis-cli --cluster reshard moved $nslots slots (exit $rrc)" test "$rrc" = 0
check "reshard: it began while the backfill was writing" test "$alive" = 1
check "reshard: the partition's slot is served by another master now" \
  bash -c "redis-cli -p ${ports[$from]} get '$key' | grep -q '^MOVED'"
check "reshard: the backfill exits 0 (got $rc)" test "$rc" = 0
check "reshard: the same insights as mem" cmp "$tmp/rs.ndjson" "$tmp/mem.ndjson"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump4"
check "reshard: counts equal the recount" cmp "$tmp/dump4" "$tmp/expected"

# 6. the wrong kind of server
redis_start "$tmp/single"
set +e
"$TRAILSIGHT" backfill -q --store "redis-cluster://127.0.0.1:$redis_port" "$logs" \
  > /dev/null 2> "$tmp/e1"
rc1=$?
"$TRAILSIGHT" backfill -q --store "redis://127.0.0.1:${ports[0]}" "$logs" > /dev/null 2> "$tmp/e2"
rc2=$?
set -e
check "redis-cluster:// to a plain server exits 2 (got $rc1)" test "$rc1" = 2
check "and says it is not a cluster node" grep -q "not a Redis Cluster node: use a redis:// URL" "$tmp/e1"
check "redis:// to a cluster node exits 2 (got $rc2)" test "$rc2" = 2
check "and says to use redis-cluster://" grep -q "use a redis-cluster:// URL" "$tmp/e2"
finish

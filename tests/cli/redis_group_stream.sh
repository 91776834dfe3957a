#!/usr/bin/env bash
# redis_group_stream.sh - two `stream --watch` workers of one group
# (--group) over a real 3-master Redis Cluster and one watched tree (6
# accounts x 3 Regions, 9 days):
#  - each claims some of the partitions (not all), reads only their files,
#    and together they write the insights a single-process memory-store
#    backfill writes, each once;
#  - over a tree delivered in two halves, one worker killed -9 after the
#    first (holding checkpointed partitions), leases of 1 s: the other
#    claims every partition it held (the time printed; checked under
#    twice the lease time, for a loaded machine), reads what the killed
#    one left, each partition's files in order, and the insights of the
#    two together are again the single-process run's, each once, and
#    every count in the cluster equals tools/recount.py's recount.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
canon() { no_decision "$@" | LC_ALL=C sort; }
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 7 --days 9 --apis 3 --rate 3 --regions 3 --accounts 6 \
  --anomalies 4 --kinds spike,error --anomaly-after 7 --file-minutes 240 --no-digests \
  --quiet 2>/dev/null
python3 "$TS_SOURCE_DIR/tools/recount.py" "$tmp/c/AWSLogs" | LC_ALL=C sort > "$tmp/expected" &
recount_pid=$!
"$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 "$tmp/c/AWSLogs" > "$tmp/mem.ndjson"
canon "$tmp/mem.ndjson" > "$tmp/ref"
check "single-process insights written" test -s "$tmp/ref"
files=$(find "$tmp/c/AWSLogs" -type f | wc -l)

redis_cluster_start "$tmp/cl" 3
url="redis-cluster://127.0.0.1:${cluster_ports[1]}"
mkdir -p "$tmp/w"
cp -r "$tmp/c/AWSLogs" "$tmp/w/"
worker() { # worker NAME [DIR [options]]
  local name=$1 dir=${2:-$tmp/w}
  shift $(($# < 2 ? $# : 2))
  exec "$TRAILSIGHT" stream -q --future-minutes 0 --group g --store "$url" --watch "$dir" \
    --idle-timeout 2 --metrics-file "$tmp/$name.prom" --metrics-interval 1 \
    --stats "$tmp/$name.json" "$@" > "$tmp/$name.ndjson" 2> "$tmp/$name.err"
}
worker s1 & p1=$!
worker s2 & p2=$!
read_files() { awk '$1 == "trailsight_files_total" {print $2}' "$1" 2>/dev/null || true; }
n=0
for i in $(seq 1 600); do
  f1=$(read_files "$tmp/s1.prom")
  f2=$(read_files "$tmp/s2.prom")
  n=$(( ${f1:-0} + ${f2:-0} ))
  [ "$n" -ge "$files" ] && break
  sleep 0.1
done
check "the two workers read every file once between them ($n of $files)" test "$n" = "$files"
sleep 5 # the idle timeout closes the last minutes
kill -TERM "$p1" "$p2"
st1=0; st2=0
wait "$p1" || st1=$?
wait "$p2" || st2=$?
check "worker 1 exits 0 ($st1)" test "$st1" = 0
check "worker 2 exits 0 ($st2)" test "$st2" = 0
c1=$(jq .group.claimed "$tmp/s1.json")
c2=$(jq .group.claimed "$tmp/s2.json")
check "each worker claimed some of the 18 partitions ($c1 and $c2)" \
  test "$c1" -gt 0 -a "$c2" -gt 0 -a "$((c1 + c2))" = 18
cat "$tmp/s1.ndjson" "$tmp/s2.ndjson" | canon > "$tmp/u"
check "no insight twice" test -z "$(uniq -d "$tmp/u")"
check "the union equals the single-process backfill's insights" cmp "$tmp/u" "$tmp/ref"

# 2. one worker killed -9 midway
for p in $(redis_cluster_masters); do redis-cli -p "$p" flushall > /dev/null; done
wait "$recount_pid"
check "counts recomputed" test -s "$tmp/expected"
leases_of() { # leases_of PID: the lease keys a process holds on partitions
  # with a saved state (checkpointed), one a line
  redis_leases_checkpointed "$1" $(redis_cluster_masters) | cut -d' ' -f2
}
holders() { # holders KEY...: the value of each lease key, one a line
  printf 'GET %s\n' "$@" | redis-cli -c -p "${cluster_ports[0]}" 2>/dev/null | grep -v '^-> '
}
half=$((files / 2))
mkdir -p "$tmp/w2"
$deliver "$tmp/c" "$tmp/w2" 0 "$half" > /dev/null
worker k1 "$tmp/w2" --lease-ms 1000 & pk1=$!
worker k2 "$tmp/w2" --lease-ms 1000 & pk2=$!
for i in $(seq 1 600); do
  f1=$(read_files "$tmp/k1.prom")
  f2=$(read_files "$tmp/k2.prom")
  [ "$(( ${f1:-0} + ${f2:-0} ))" -ge "$half" ] && [ -n "$(leases_of "$pk1")" ] && break
  sleep 0.1
done
held=$(leases_of "$pk1")
kill -9 "$pk1"
t0=$(date +%s.%N)
wait "$pk1" 2>/dev/null || true
check "the killed worker held checkpointed partitions ($(echo $held | wc -w))" test -n "$held"
$deliver "$tmp/c" "$tmp/w2" "$half" > /dev/null
# taken over: each lease it held now names the other worker
taken=""
for i in $(seq 1 400); do
  [ -z "$(holders $held | grep -v ":$pk2\$")" ] && { taken=1; break; }
  sleep 0.02
done
took=$(echo "$(date +%s.%N) - $t0" | bc)
echo "kill -9: its $(echo $held | wc -w) partitions taken over ${took} s after the kill"
check "the other worker took over all its partitions (after ${took} s)" test -n "$taken"
check "  ... within twice the lease time" test "$(echo "$took < 2" | bc)" = 1
# the survivor reads what is left: wait until its file count rests
last=-1 same=0
for i in $(seq 1 300); do
  f2=$(read_files "$tmp/k2.prom")
  if [ "${f2:-0}" = "$last" ]; then same=$((same + 1)); else same=0; last=${f2:-0}; fi
  [ "$same" -ge 30 ] && break
  sleep 0.1
done
kill -TERM "$pk2"
st=0
wait "$pk2" || st=$?
check "the surviving worker exits 0 ($st)" test "$st" = 0
check "  ... and resumed partitions from the killed worker's checkpoints" \
  test "$(jq .partitions_restored "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/u2"
check "kill -9: no insight twice" test -z "$(uniq -d "$tmp/u2")"
check "kill -9: the union equals the single-process backfill's insights" cmp "$tmp/u2" "$tmp/ref"
redis_cluster_dump_counts $(redis_cluster_masters) > "$tmp/dump2"
check "kill -9: counts equal the recount" cmp "$tmp/dump2" "$tmp/expected"
finish

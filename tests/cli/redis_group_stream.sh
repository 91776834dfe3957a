#!/usr/bin/env bash
# redis_group_stream.sh - two `stream --watch` workers of one group
# (--group) over a real 3-master Redis Cluster and one watched tree (6
# accounts x 3 Regions, 9 days): each claims some of the partitions (not
# all), reads only their files, and together they write the insights a
# single-process memory-store backfill writes, each once.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 7 --days 9 --apis 3 --rate 3 --regions 3 --accounts 6 \
  --anomalies 4 --kinds spike,error --anomaly-after 7 --file-minutes 240 --no-digests \
  --quiet 2>/dev/null
"$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 "$tmp/c/AWSLogs" > "$tmp/mem.ndjson"
canon "$tmp/mem.ndjson" > "$tmp/ref"
check "single-process insights written" test -s "$tmp/ref"
files=$(find "$tmp/c/AWSLogs" -type f | wc -l)

redis_cluster_start "$tmp/cl" 3
url="redis-cluster://127.0.0.1:${cluster_ports[1]}"
mkdir -p "$tmp/w"
cp -r "$tmp/c/AWSLogs" "$tmp/w/"
worker() {
  exec "$TRAILSIGHT" stream -q --future-minutes 0 --group g --store "$url" --watch "$tmp/w" \
    --idle-timeout 2 --metrics-file "$tmp/$1.prom" --metrics-interval 1 --stats "$tmp/$1.json" \
    > "$tmp/$1.ndjson" 2> "$tmp/$1.err"
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
finish

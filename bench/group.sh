#!/usr/bin/env bash
# group.sh - workers of a group (--group) on a private 3-master Redis
# Cluster against the memory store, over one organization corpus: the
# backfill wall time of the memory store, of one worker and of two workers
# started together (alternating runs, medians), records per second, Redis
# commands (total_commands_processed over the masters) and commands per
# second per worker, store round trips per closed minute (--stats
# store.round_trips over minutes_closed, summed over the workers) and
# Redis memory per series-day (used_memory over the masters after the run,
# less after FLUSHALL, over series x days).
#
#   bench/group.sh [--runs N] [--corpus DIR]
#
# The corpus defaults to bench/data/org-20x3-9d, made here if missing
# (trailsight-gen --seed 3 --days 9 --apis 10 --rate 60 --regions 3
# --accounts 20 --file-minutes 60 --no-digests: 2,233,744 records, 12,961
# files). The cluster has no persistence and no replicas; it is stopped at
# the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=3
corpus=$here/data/org-20x3-9d
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "group.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done
build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target trailsight trailsight-gen >/dev/null
if [ ! -d "$corpus/AWSLogs" ]; then
  "$build/trailsight-gen" --out "$corpus" --seed 3 --days 9 --apis 10 --rate 60 --regions 3 \
    --accounts 20 --file-minutes 60 --no-digests --quiet
fi
export TRAILSIGHT=$build/trailsight TS_SOURCE_DIR=$root
source "$root/tests/cli/lib.sh" # redis_cluster_start, and the cleanup at exit
set +e +u                       # lib.sh's strictness is for tests
set -eo pipefail
logs=$corpus/AWSLogs
days=$(jq .days "$corpus/labels.json")
cat "$logs"/*/CloudTrail/*/*/*/*/* > /dev/null # warm the page cache
redis_cluster_start "$tmp/cl" 3
ports=("${cluster_ports[@]}")
url="redis-cluster://127.0.0.1:${ports[0]}"
masters_sum() { # masters_sum SECTION FIELD
  local p s=0 v
  for p in "${ports[@]}"; do
    v=$(redis-cli -p "$p" info "$1" | awk -F: -v k="$2" '$1 == k {print $2 + 0}')
    s=$((s + v))
  done
  echo "$s"
}
empty() {
  local p
  for p in "${ports[@]}"; do
    redis-cli -p "$p" flushall >/dev/null
    redis-cli -p "$p" config resetstat >/dev/null
  done
  base=$(masters_sum memory used_memory)
}
worker() { "$TRAILSIGHT" backfill -q --threads 1 --group g --store "$url" --stats "$tmp/$1.json" \
  "$logs" > "$tmp/$1.ndjson"; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
: > "$tmp/mem.t"; : > "$tmp/one.t"; : > "$tmp/two.t"
for r in $(seq 1 "$runs"); do
  t0=$(now)
  "$TRAILSIGHT" backfill -q --threads 1 --stats "$tmp/mem.json" "$logs" > "$tmp/mem.ndjson"
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$tmp/mem.t"
  empty
  t0=$(now)
  worker one
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$tmp/one.t"
  one_cmds=$(masters_sum stats total_commands_processed)
  one_mem=$(($(masters_sum memory used_memory) - base))
  empty
  t0=$(now)
  worker a & pa=$!
  worker b & pb=$!
  wait "$pa"
  wait "$pb"
  t1=$(now)
  echo "$t1 - $t0" | bc >> "$tmp/two.t"
  two_cmds=$(masters_sum stats total_commands_processed)
  echo "run $r: mem $(tail -1 "$tmp/mem.t") s, one worker $(tail -1 "$tmp/one.t") s," \
    "two workers $(tail -1 "$tmp/two.t") s" >&2
done
records=$(jq .records_counted "$tmp/mem.json")
series=$(jq .series "$tmp/mem.json")
minutes=$(jq .minutes_closed "$tmp/mem.json")
tm=$(median < "$tmp/mem.t")
t1=$(median < "$tmp/one.t")
t2=$(median < "$tmp/two.t")
trips1=$(jq .store.round_trips "$tmp/one.json")
trips2=$(jq -s 'map(.store.round_trips) | add' "$tmp/a.json" "$tmp/b.json")
same=yes
cmp -s <(sort "$tmp/one.ndjson") <(sort "$tmp/mem.ndjson") || same=no
cmp -s <(sort "$tmp/a.ndjson" "$tmp/b.ndjson") <(sort "$tmp/mem.ndjson") || same=no
echo "corpus: $corpus ($records records, $series series, $days days, $minutes closed minutes)"
echo "memory store:  $tm s, $(echo "$records / $tm" | bc) records/s"
echo "one worker:    $t1 s, $(echo "$records / $t1" | bc) records/s, $one_cmds commands" \
  "($(echo "$one_cmds / $t1" | bc)/s), $trips1 round trips" \
  "($(echo "scale=4; $trips1 / $minutes" | bc) per closed minute)"
echo "two workers:   $t2 s, $(echo "$records / $t2" | bc) records/s, $two_cmds commands" \
  "($(echo "$two_cmds / $t2 / 2" | bc)/s per worker), $trips2 round trips" \
  "($(echo "scale=4; $trips2 / $minutes" | bc) per closed minute);" \
  "partitions finished $(jq .group.finished_here "$tmp/a.json") and $(jq .group.finished_here "$tmp/b.json")"
echo "Redis memory:  $one_mem bytes over the masters, $(echo "$one_mem / ($series * $days)" | bc)" \
  "bytes per series-day"
echo "insights identical to the memory store's: $same"

#!/usr/bin/env bash
# redis_store.sh - the Redis store against the memory store on one corpus:
# backfill throughput of each (alternating runs, medians), the ratio, Redis
# commands per input record (INFO commandstats, script-internal commands
# included) and store round trips per closed minute (--stats).
#
#   bench/redis_store.sh [--runs N] [--corpus DIR]
#
# The corpus defaults to bench/data/10d-200apis-r350 (made by
# bench/throughput.sh). A private redis-server (no persistence) runs on a
# loopback port for the duration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=3
corpus=$here/data/10d-200apis-r350
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "redis_store.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done
[ -d "$corpus/AWSLogs" ] || { echo "no corpus at $corpus (run bench/throughput.sh first)" >&2; exit 1; }
build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target trailsight >/dev/null
ts=$build/trailsight
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
  --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" >/dev/null
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
for i in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
records=$(jq .records "$corpus/labels.json")
cat "$corpus"/AWSLogs/*/CloudTrail/*/*/*/*/* > /dev/null # warm the page cache

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
: > "$tmp/mem.t"
: > "$tmp/redis.t"
for r in $(seq 1 "$runs"); do
  "$ts" backfill -q --threads 1 --stats "$tmp/mem.json" "$corpus/AWSLogs" > "$tmp/mem.ndjson"
  jq .elapsed_seconds "$tmp/mem.json" >> "$tmp/mem.t"
  redis-cli -p "$port" flushall >/dev/null
  redis-cli -p "$port" config resetstat >/dev/null
  "$ts" backfill -q --threads 1 --stats "$tmp/redis.json" --store "redis://127.0.0.1:$port" \
    "$corpus/AWSLogs" > "$tmp/redis.ndjson"
  jq .elapsed_seconds "$tmp/redis.json" >> "$tmp/redis.t"
  echo "run $r: mem $(tail -1 "$tmp/mem.t") s, redis $(tail -1 "$tmp/redis.t") s" >&2
done
cmds=$(redis-cli -p "$port" info commandstats |
  awk -F'[=,:]' '/^cmdstat_/ && !/cmdstat_(info|config)/ {s += $3} END {print s}')
tm=$(median < "$tmp/mem.t")
tr=$(median < "$tmp/redis.t")
minutes=$(jq .minutes_closed "$tmp/redis.json")
trips=$(jq .store.round_trips "$tmp/redis.json")
same=no
cmp -s "$tmp/mem.ndjson" "$tmp/redis.ndjson" && same=yes
echo "corpus: $corpus ($records records, $(jq .series "$tmp/redis.json") series)"
echo "median backfill --threads 1: mem ${tm} s, redis ${tr} s; redis/mem throughput $(echo "scale=3; $tm / $tr" | bc)"
echo "insights identical: $same"
echo "Redis commands: $cmds, per record $(echo "scale=4; $cmds / $records" | bc)"
echo "store round trips: $trips for $minutes closed minutes ($(echo "scale=4; $trips / $minutes" | bc) per minute)"
echo "checkpoints: $(jq .checkpoints "$tmp/redis.json")"

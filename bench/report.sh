#!/usr/bin/env bash
# report.sh - how long writing the HTML report takes, on the throughput
# corpus (10 days, 200 APIs, generated once into bench/data as
# bench/throughput.sh does).
#
#   bench/report.sh [--days D] [--apis A] [--rate R] [--data DIR]
#
# Runs `trailsight backfill --report` (memory store) and reports the time
# it prints for writing the report, then loads the corpus into a private
# redis-server on a loopback port and times `trailsight report --store`
# over the same events. Release build in build-bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
days=10 apis=200 rate=350 data=""
while [ $# -gt 0 ]; do
  case $1 in
    --days) days=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "report.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
data=${data:-$root/bench/data/${days}d-${apis}apis-r${rate}}
tools/install-deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
if [ ! -f "$data/labels.json" ]; then
  rm -rf "$data"
  build-bench/trailsight-gen --out "$data" --seed 42 --days "$days" --apis "$apis" \
    --rate "$rate" --jobs "$(nproc)"
fi
out=$(mktemp -d)
trap 'kill "$(cat "$out/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$out"' EXIT

build-bench/trailsight backfill --threads 1 --report "$out/mem" "$data/AWSLogs" \
  > "$out/events.ndjson" 2> "$out/backfill.err"
grep 'report of' "$out/backfill.err"

port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --dir "$out" --daemonize yes \
  --pidfile "$out/redis.pid" --logfile "$out/redis.log" >/dev/null
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
build-bench/trailsight backfill -q --threads 1 --store "redis://127.0.0.1:$port" "$data/AWSLogs" \
  > /dev/null
s=$(date +%s.%N)
build-bench/trailsight report --store "redis://127.0.0.1:$port" --events "$out/events.ndjson" \
  "$out/redis"
e=$(date +%s.%N)
echo "trailsight report --store redis: $(echo "$e - $s" | bc -l | cut -c1-5) s," \
  "$(find "$out/redis" -name '*.html' | wc -l) pages, $(du -sh "$out/redis" | cut -f1)"

#!/usr/bin/env bash
# throughput.sh - backfill speed against decompression alone, on one corpus.
#
#   bench/throughput.sh [--runs N] [--days D] [--apis A] [--rate R] [--data DIR]
#
# Generates (once, kept in DIR, default bench/data/<days>d-<apis>apis) a
# CloudTrail corpus in the S3 layout, then alternates N runs (default 5) of
#   zcat FILES > /dev/null                     (the yardstick)
#   trailsight backfill --threads 1 DIR        (everything: read, parse,
#                                               count, detect, emit)
# and reports medians, records/s, the ratio of the two wall times and
# trailsight's peak RSS. Release build in build-bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=5 days=10 apis=200 rate=350 data=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
data=${data:-$root/bench/data/${days}d-${apis}apis-r${rate}}

tools/install-deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null

if [ ! -f "$data/labels.json" ]; then
  echo "throughput: generating $days days x $apis APIs at $rate records/min into $data ..." >&2
  rm -rf "$data"
  build-bench/trailsight-gen --out "$data" --seed 42 --days "$days" --apis "$apis" \
    --rate "$rate" --jobs "$(nproc)"
fi
files=$(mktemp)
trap 'rm -f "$files"' EXIT
find "$data/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' | sort > "$files"
nfiles=$(wc -l < "$files")
bytes=$(xargs cat < "$files" | wc -c)
records=$(jq .records "$data/labels.json")
echo "corpus: $nfiles files, $((bytes / 1000000)) MB gzip, $records records" >&2

# warm the page cache so both sides read from memory
xargs cat < "$files" > /dev/null

t_zcat=() t_ts=() rss=()
for i in $(seq "$runs"); do
  s=$(date +%s.%N)
  xargs zcat < "$files" > /dev/null
  e=$(date +%s.%N)
  t_zcat+=("$(echo "$e - $s" | bc -l)")
  s=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$data/rss.txt" build-bench/trailsight backfill -q --threads 1 \
    "$data/AWSLogs" > "$data/insights.ndjson"
  e=$(date +%s.%N)
  t_ts+=("$(echo "$e - $s" | bc -l)")
  rss+=("$(cat "$data/rss.txt")")
  echo "run $i: zcat ${t_zcat[-1]} s, trailsight ${t_ts[-1]} s, peak RSS ${rss[-1]} KB" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mz=$(median "${t_zcat[@]}")
mt=$(median "${t_ts[@]}")
mr=$(median "${rss[@]}")
printf 'zcat:        median %.2f s  (%.0f records/s, %.0f MB/s gzip in)\n' "$mz" \
  "$(echo "$records / $mz" | bc -l)" "$(echo "$bytes / 1000000 / $mz" | bc -l)"
printf 'trailsight:  median %.2f s  (%.0f records/s), peak RSS %.0f MB\n' "$mt" \
  "$(echo "$records / $mt" | bc -l)" "$(echo "$mr / 1024" | bc -l)"
printf 'ratio trailsight / zcat (wall time, median of %d): %.2f\n' "$runs" "$(echo "$mt / $mz" | bc -l)"
echo "insights: $(wc -l < "$data/insights.ndjson") events in $data/insights.ndjson"

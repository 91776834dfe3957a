#!/usr/bin/env bash
# s3.sh - backfill from S3 against the same files on disk: records/s of
# `trailsight backfill s3://BUCKET/PREFIX` from a local S3 (s3rver, which
# tools/install-deps.sh installs) and of `trailsight backfill DIR`.
#
#   bench/s3.sh [--runs N] [--days D] [--apis A] [--rate R] [--connections C]
#
# Generates a corpus (kept in bench/data/s3-<days>d-<apis>apis-r<rate>),
# starts s3rver on a loopback port with its data in a temporary folder,
# uploads the corpus, then alternates N runs (default 3) of
#   trailsight backfill --threads 1 DIR
#   trailsight backfill DIR                   (every core)
#   trailsight backfill s3://trail/           (--s3-connections C, default 8)
# and prints medians: seconds, records/s, each run's time over the S3
# run's, trailsight's own CPU time; checks that every run printed the same insights. Release build
# in build-bench/. s3rver is a Node.js server on the same machine: it
# shares the cores with trailsight, so the ratio is a floor for the client.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=3 days=3 apis=40 rate=150 conns=8
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "s3.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
ts=$root/build-bench/trailsight
gen=$root/build-bench/trailsight-gen
s3rver=${TS_S3RVER:-${TS_NODE_PREFIX:-/opt/trailsight-node}/node_modules/.bin/s3rver}
[ -x "$ts" ] && [ -x "$gen" ] ||
  { echo "s3.sh: build first: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2" >&2; exit 1; }
[ -x "$s3rver" ] || { echo "s3.sh: no s3rver at $s3rver: run tools/install-deps.sh" >&2; exit 1; }
data=$root/bench/data/s3-${days}d-${apis}apis-r${rate}
if ! [ -d "$data/AWSLogs" ]; then
  "$gen" --out "$data" --seed 11 --days "$days" --apis "$apis" --rate "$rate" --jobs 2 --quiet
fi
tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -s -d "$tmp/s3" -a 127.0.0.1 -p "$port" \
  --configure-bucket trail > "$tmp/s3.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
ep=http://127.0.0.1:$port
{
  echo 'aws-sigv4 = "aws:amz:us-east-1:s3"'
  echo 'user = "S3RVER:S3RVER"'
  echo 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
  echo 'silent'
  echo 'fail'
  (cd "$data" && find AWSLogs -type f | sort) | while read -r k; do
    echo "url = \"$ep/trail/$k\""
    echo "upload-file = \"$data/$k\""
    echo 'output = "/dev/null"'
  done
} > "$tmp/up.cfg"
curl -sS --no-progress-meter --parallel --parallel-max 8 -K "$tmp/up.cfg"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
cat "$data"/AWSLogs/*/CloudTrail/*/*/*/*/* > /dev/null # page cache

declare -A secs cpu
run() { # name, then the command; its time appended to secs[name], its CPU time to cpu[name]
  local name=$1 t0 t1 c
  shift
  t0=$(date +%s.%N)
  TIMEFORMAT='%U %S'
  c=$( { time "$@" --stats "$tmp/$name.json" > "$tmp/$name.ndjson" 2> "$tmp/$name.err"; } 2>&1 )
  t1=$(date +%s.%N)
  secs[$name]="${secs[$name]:-} $(echo "$t1 - $t0" | bc)"
  cpu[$name]="${cpu[$name]:-} $(echo "$c" | awk '{print $1 + $2}')"
}
for r in $(seq 1 "$runs"); do
  run disk1 "$ts" backfill --threads 1 "$data/AWSLogs"
  run disk "$ts" backfill "$data/AWSLogs"
  run s3 "$ts" backfill --s3-connections "$conns" --endpoint-url "$ep" s3://trail/
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
recs=$(jq .records_counted "$tmp/disk.json")
printf 'corpus: %s, %s records, %s files, %.1f MB gzip\n' "$data" "$recs" \
  "$(jq .files "$tmp/disk.json")" "$(jq '.bytes_read / 1e6' "$tmp/disk.json")"
s3m=$(echo "${secs[s3]}" | median)
for n in disk1 disk s3; do
  m=$(echo "${secs[$n]}" | median)
  printf '%-6s median %6.2f s  %9.0f records/s  this/s3 %.2f  (trailsight CPU %.2f s)\n' "$n" "$m" \
    "$(echo "$recs / $m" | bc -l)" "$(echo "$m / $s3m" | bc -l)" "$(echo "${cpu[$n]}" | median)"
done
jq -c .s3 "$tmp/s3.json"
for n in disk1 s3; do
  cmp -s "$tmp/$n.ndjson" "$tmp/disk.ndjson" || { echo "s3.sh: $n printed other insights" >&2; exit 1; }
done
echo "same insights: yes"

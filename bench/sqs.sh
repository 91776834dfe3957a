#!/usr/bin/env bash
# sqs.sh - stream --sqs against a disk backfill of the same files: how fast
# `trailsight stream --sqs QUEUE_URL` reads the objects that notifications
# name, from a local S3 (s3rver) and the tests' stand-in SQS queue
# (tests/cli/sqsd.py), against `trailsight backfill --threads 1 DIR`.
#
#   bench/sqs.sh [--runs N] [--days D] [--apis A] [--rate R] [--connections C]
#
# Generates the corpus of bench/s3.sh (kept in bench/data/s3-<days>d-...),
# starts s3rver and sqsd.py on loopback ports, uploads the corpus, and
# alternates N runs (default 3) of
#   trailsight backfill --threads 1 DIR
#   trailsight stream --sqs URL      (one S3 event notification per object,
#                                     in delivery order; --s3-connections C)
# timing the stream from its start until the queue holds no message (every
# one deleted after its checkpoint). Prints medians: seconds, records/s,
# messages/s, each run's time over the stream's, and checks that the stream
# printed the backfill's insights (decision times aside). Release build in
# build-bench/. Both servers share the cores with trailsight: the figures
# are a floor for the client.
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
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "sqs.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
ts=$root/build-bench/trailsight
gen=$root/build-bench/trailsight-gen
s3rver=${TS_S3RVER:-${TS_NODE_PREFIX:-/opt/trailsight-node}/node_modules/.bin/s3rver}
[ -x "$ts" ] && [ -x "$gen" ] ||
  { echo "sqs.sh: build first: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2" >&2; exit 1; }
[ -x "$s3rver" ] || { echo "sqs.sh: no s3rver at $s3rver: run tools/install-deps.sh" >&2; exit 1; }
data=$root/bench/data/s3-${days}d-${apis}apis-r${rate}
if ! [ -d "$data/AWSLogs" ]; then
  "$gen" --out "$data" --seed 11 --days "$days" --apis "$apis" --rate "$rate" --jobs 2 --quiet
fi
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -s -d "$tmp/s3" -a 127.0.0.1 -p "$port" \
  --configure-bucket trail > "$tmp/s3.log" 2>&1 &
pids+=("$!")
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
python3 tests/cli/sqsd.py "$tmp/q.port" --key S3RVER:S3RVER > /dev/null 2>&1 &
pids+=("$!")
for i in $(seq 1 100); do [ -s "$tmp/q.port" ] && break; sleep 0.1; done
qep=http://127.0.0.1:$(cat "$tmp/q.port")
# one S3 event notification per log file, in delivery order
python3 - "$data" > "$tmp/notes" <<'PY'
import json, os, sys
sys.path.insert(0, "tests/cli")
from sqs_notes import s3_event
from deliver import delivery_order
for rel in delivery_order(sys.argv[1]):
    print(json.dumps(s3_event("trail", rel, os.path.getsize(os.path.join(sys.argv[1], rel)))))
PY
nmsg=$(wc -l < "$tmp/notes")
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
cat "$data"/AWSLogs/*/CloudTrail/*/*/*/*/* > /dev/null # page cache
canon() { sed -E 's/,"decisionEventTime":"[^"]*"(,"decisionWallTime":"[^"]*")?(,"early":true)?//' "$@" | LC_ALL=C sort; }

declare -A secs
add() { secs[$1]="${secs[$1]:-} $2"; }
for r in $(seq 1 "$runs"); do
  t0=$(date +%s.%N)
  "$ts" backfill --threads 1 --stats "$tmp/disk.json" "$data/AWSLogs" > "$tmp/disk.ndjson" 2> /dev/null
  t1=$(date +%s.%N)
  add disk1 "$(echo "$t1 - $t0" | bc)"
  curl -s --data-binary @"$tmp/notes" "$qep/_send"
  d0=$(curl -s "$qep/_stats" | jq .deleted)
  t0=$(date +%s.%N)
  "$ts" stream --sqs "$qep/000000000000/trail" --endpoint-url "$ep" --s3-connections "$conns" \
    --idle-timeout 3600 --stats "$tmp/sqs.json" > "$tmp/sqs.ndjson" 2> "$tmp/sqs.err" &
  spid=$!
  while [ "$(curl -s "$qep/_stats" | jq .deleted)" -lt $((d0 + nmsg)) ]; do
    kill -0 "$spid" 2>/dev/null || { echo "sqs.sh: the stream stopped" >&2; cat "$tmp/sqs.err" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  kill -TERM "$spid"
  wait "$spid"
  add sqs "$(echo "$t1 - $t0" | bc)"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
recs=$(jq .records_counted "$tmp/disk.json")
printf 'corpus: %s, %s records, %s files, %.1f MB gzip\n' "$data" "$recs" \
  "$(jq .files "$tmp/disk.json")" "$(jq '.bytes_read / 1e6' "$tmp/disk.json")"
sm=$(echo "${secs[sqs]}" | median)
for n in disk1 sqs; do
  m=$(echo "${secs[$n]}" | median)
  printf '%-6s median %6.2f s  %9.0f records/s  %7.1f files/s  this/sqs %.2f\n' "$n" "$m" \
    "$(echo "$recs / $m" | bc -l)" "$(echo "$nmsg / $m" | bc -l)" "$(echo "$m / $sm" | bc -l)"
done
jq -c '{s3, sqs, records_counted, checkpoints}' "$tmp/sqs.json"
test "$(jq .records_counted "$tmp/sqs.json")" = "$recs" || { echo "sqs.sh: the stream counted other records" >&2; exit 1; }
echo "records counted: the same"

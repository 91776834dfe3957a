#!/usr/bin/env bash
# soak.sh - trailsight stream left running against a live feed and a flaky
# webhook, watched for leaks and lost or repeated events.
#
#   bench/soak.sh [--minutes N] [--store redis|mem] [--speed X] [--rate R]
#                 [--interval S] [--seed N] [--backlog-days D] [--results DIR]
#
# For N minutes (default 30): `trailsight stream --watch` on a folder that
# bench/soak.py feed fills with trailsight-gen log files, the first D days
# at once (default 30, so the history the process keeps is full before the
# paced part starts: each baseline fit reads 28 days, the store caches
# retention + 1 = 29 days of counts; what grows after that is growth, not
# warm-up), then at X times real time (default 240: four hours of logs a
# minute); counts in a private redis-server (default) or in memory;
# insights to stdout and to a webhook: bench/receiver.py on loopback, which
# bench/soak.py chaos makes slow, failing (503) or down (stopped) for
# 20-60 s at a time, each at least once every 5 spells. Every S seconds
# (10) a CSV row: RSS (/proc/PID/status VmRSS), open fds (/proc/PID/fd),
# events printed and received, spool files, Start and delivery latency,
# the C heap in use and the engine's own account of its memory by part
# (trailsight's metrics file). At the end the receiver is left up, the
# events drain, trailsight gets SIGTERM, and every event printed on stdout
# must have arrived exactly once (by eventID). Writes
# bench/results/soak-<UTC time>/: soak.csv, soak.png (gnuplot), summary.txt
# (with the slope of RSS, heap and engine memory over the last 20 minutes,
# or from the warm-up's end if later), summary.json and the logs. Exit 0
# when nothing was lost or repeated and trailsight exited 0. Release build
# in build-bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
minutes=30 store=redis speed=240 rate=120 interval=10 seed=7 backlog_days=30 results=""
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --speed) speed=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --backlog-days) backlog_days=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
case $store in redis|mem) ;; *) echo "soak.sh: --store redis or mem" >&2; exit 1 ;; esac
[[ $minutes =~ ^[0-9]+$ ]] && [ "$minutes" -ge 1 ] ||
  { echo "soak.sh: --minutes: a whole number of minutes, at least 1" >&2; exit 1; }
[[ $backlog_days =~ ^[0-9]+$ ]] && [ "$backlog_days" -ge 7 ] ||
  { echo "soak.sh: --backlog-days: a whole number of days, at least 7 (the warm-up)" >&2; exit 1; }

tools/install-deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 >/dev/null
export TRAILSIGHT_MODELS=$root/models

# the corpus: D days of backlog, then what N minutes at X times real time
# replay, and a little more; anomalies in the replayed days only
days=$(python3 -c "import math; print($backlog_days + math.ceil($minutes * $speed / 1440 + 0.1))")
anomalies=$(( (days - backlog_days) * 36 ))
data=$root/bench/data/soak-${days}d-b${backlog_days}-r${rate}-s${seed}
[ "$backlog_days" = 7 ] && data=$root/bench/data/soak-${days}d-r${rate}-s${seed}
if [ ! -f "$data/labels.json" ]; then
  echo "soak: generating $days days at $rate records/min into $data ..." >&2
  rm -rf "$data"
  build-bench/trailsight-gen --out "$data" --seed "$seed" --days "$days" --apis 40 \
    --rate "$rate" --accounts 2 --regions 2 --anomalies "$anomalies" --anomaly-after "$backlog_days" \
    --jobs 2 --quiet
fi
backlog_until=$(python3 -c "
import json, datetime
s = json.load(open('$data/labels.json')).get('start', '2026-01-05')
d = datetime.date.fromisoformat(s[:10]) + datetime.timedelta(days=$backlog_days)
print(d.strftime('%Y%m%dT0000Z'))")

run=${results:-$root/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$run"
work=$(mktemp -d "${TMPDIR:-/tmp}/ts-soak.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/watch" "$work/spool"

spec=mem
if [ "$store" = redis ]; then
  for try in $(seq 1 20); do
    port=$((20000 + RANDOM % 20000))
    if redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
         --dir "$work" --daemonize yes --pidfile "$work/redis.pid" \
         --logfile "$run/redis.log" >/dev/null 2>&1; then
      for i in $(seq 1 50); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
    fi
  done
  redis_pid=$(cat "$work/redis.pid")
  spec=redis://127.0.0.1:$port
fi

seconds=$((minutes * 60))
start=$(date +%s)
deadline=$((start + seconds))
python3 bench/soak.py chaos --port-file "$work/rx.port" --log "$run/received.log" \
  --control "$work/rx.ctl" --mode-file "$work/rx.mode" --seconds "$seconds" --seed "$seed" &
chaos_pid=$!
pids+=("$chaos_pid")
for i in $(seq 1 100); do [ -s "$work/rx.port" ] && break; sleep 0.1; done
rx_port=$(cat "$work/rx.port")

echo "soak: $minutes min, store $store, $speed x real time, results in $run" >&2
build-bench/trailsight stream --watch "$work/watch" --store "$spec" --idle-timeout 30 \
  --out - --out "webhook:http://127.0.0.1:$rx_port/hook" --spool-dir "$work/spool" \
  --metrics-file "$run/metrics.prom" --metrics-interval 5 --stats "$run/stats.json" \
  > >(python3 -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()' > "$run/events.ndjson") 2> "$run/trailsight.log" &
ts_pid=$!
pids+=("$ts_pid")
python3 bench/soak.py sample --pid "$ts_pid" --out "$run/events.ndjson" \
  --rx-log "$run/received.log" --metrics "$run/metrics.prom" --spool-dir "$work/spool" \
  --mode-file "$work/rx.mode" --csv "$run/soak.csv" --interval "$interval" &
sampler_pid=$!
pids+=("$sampler_pid")

python3 bench/soak.py feed "$data" "$work/watch" --speed "$speed" \
  --backlog-until "$backlog_until" --deadline "$deadline" --status "$work/feed.status"
echo "soak: feeding done ($(cat "$work/feed.status")); draining" >&2

# the receiver is up and answering for the last 15% of the run; give the
# idle timeout its time to close the last minutes, then wait for every
# printed event to arrive (backoffs reach 60 s)
sleep 35
for i in $(seq 1 240); do
  printed=$(wc -l < "$run/events.ndjson")
  got=$(wc -l < "$run/received.log" 2>/dev/null || echo 0)
  [ "$got" -ge "$printed" ] && break
  sleep 1
done
kill -TERM "$ts_pid"
rc=0
wait "$ts_pid" || rc=$?
sleep 1 # the stamper writes the last lines
kill -TERM "$chaos_pid" 2>/dev/null || true
wait "$chaos_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true

report_rc=0
python3 bench/soak.py report --out "$run/events.ndjson" --rx-log "$run/received.log" \
  --csv "$run/soak.csv" --stats "$run/stats.json" --spool-dir "$work/spool" \
  --minutes "$minutes" --exit-status "$rc" --json "$run/summary.json" \
  --backlog-files "$(cat "$work/feed.status.backlog" 2>/dev/null || echo 0)" \
  --backlog-days "$backlog_days" \
  | tee "$run/summary.txt" || report_rc=$?
{
  echo "command: bench/soak.sh --minutes $minutes --store $store --speed $speed --rate $rate --interval $interval --seed $seed --backlog-days $backlog_days"
  echo "corpus: $data ($days days, the first $backlog_days at once, $rate records/min, 2 accounts x 2 Regions, 40 APIs)"
  echo "host: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
} >> "$run/summary.txt"
gnuplot -e "csv='$run/soak.csv'; out='$run/soak.png'; title='trailsight stream soak, $minutes min, store $store'" \
  bench/soak.gp || echo "soak: gnuplot failed" >&2
echo "soak: $run/summary.txt, $run/soak.csv, $run/soak.png" >&2
[ "$rc" = 0 ] || echo "soak: trailsight exited $rc (see $run/trailsight.log)" >&2
[ "$rc" = 0 ] && [ "$report_rc" = 0 ]

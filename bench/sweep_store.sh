#!/usr/bin/env bash
# sweep_store.sh - tuning without labels: how many insights a day each
# setting of a profile key gives on history already in a Redis store,
# re-detected with `trailsight detect` (no log is read again).
#
#   bench/sweep_store.sh [--store URL --days N] [--base NAME|PATH]
#                        [--vary KEY=V1,V2,...] [--budget N] [--top N]
#                        [--out DIR] [--no-plot]
#
# For each value, writes a profile (the base with that one key changed),
# runs `trailsight detect --store URL --model PROFILE`, and counts the
# Starts: per day, per type, and the series with the most. Then:
#
#   OUT/sweep_store.csv  key, value, starts, per day, call/error starts,
#                        seconds, the top series ("source name xN; ...")
#   OUT/sweep_store.md   the same as a Markdown table, and with --budget the
#                        setting suggested
#   OUT/sweep_store.png  insights a day against the value (gnuplot)
#   OUT/runs/<KEY>-<V>/  the profile and the insights of each setting
#
#   --store URL  a Redis store a backfill or stream filled (redis://... or
#                redis-cluster://...); needs --days. Without it a private
#                redis-server on a loopback port is started and filled by a
#                backfill of the throughput corpus (10 days, 200 APIs,
#                bench/data/10d-200apis-r350, generated if missing); its
#                judged days are the corpus's days less the base profile's
#                warmup_days
#   --days N     days judged (the history less the warm-up): the Starts
#                are divided by it
#   --base P     the profile the settings start from (default: default)
#   --vary K=V,. the key and values (default p_start=1e-3,...,1e-12)
#   --budget N   suggest the least strict setting (the one with the most
#                insights) that stays at or under N insights a day
#   --top N      series listed per setting (default 3)
#   --out DIR    default bench/results/sweep-store
#
# Labels are never read: this is what a user can run on real history.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
store="" days="" base=default vary="p_start=1e-3,1e-4,1e-5,1e-6,1e-7,1e-8,1e-9,1e-10,1e-11,1e-12"
budget="" top=3 out=bench/results/sweep-store plot=1
while [ $# -gt 0 ]; do
  case $1 in
    --store) store=$2; shift ;;
    --days) days=$2; shift ;;
    --base) base=$2; shift ;;
    --vary) vary=$2; shift ;;
    --budget) budget=$2; shift ;;
    --top) top=$2; shift ;;
    --out) out=$2; shift ;;
    --no-plot) plot=0 ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep_store.sh: unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
key=${vary%%=*}
values=${vary#*=}
[ -n "$key" ] && [ "$key" != "$vary" ] && [ -n "$values" ] ||
  { echo "sweep_store.sh: --vary KEY=V1,V2,..." >&2; exit 1; }
if [ -n "$store" ] && [ -z "$days" ]; then
  echo "sweep_store.sh: --store needs --days, the days of history the store holds" >&2
  exit 1
fi

build=$root/build-bench
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j"$(nproc)" --target trailsight trailsight-gen > /dev/null
ts=$build/trailsight
mkdir -p "$out/runs"
out=$(cd "$out" && pwd)

# the base profile's text: a file, or a profile by name under models/
case $base in
  */*|*.profile) base_file=$base ;;
  *) base_file=$root/models/$base.profile ;;
esac
[ -f "$base_file" ] || { echo "sweep_store.sh: no profile $base_file" >&2; exit 1; }

tmp=$(mktemp -d)
rpid=""
cleanup() {
  [ -n "$rpid" ] && kill "$rpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$store" ]; then
  corpus=bench/data/10d-200apis-r350
  if [ ! -f "$corpus/labels.json" ]; then
    echo "sweep_store.sh: generating $corpus" >&2
    "$build/trailsight-gen" --out "$corpus" --seed 42 --days 10 --apis 200 --rate 350 --quiet
  fi
  warmup=$(sed -n 's/^[[:space:]]*warmup_days[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$base_file" | head -1)
  days=$(( $(jq .days "$corpus/labels.json") - ${warmup:-7} ))
  port=$((20000 + RANDOM % 20000))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
    --daemonize yes --pidfile "$tmp/r.pid" --logfile "$tmp/r.log" > /dev/null
  for _ in $(seq 1 50); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.1; done
  rpid=$(cat "$tmp/r.pid")
  store="redis://127.0.0.1:$port"
  echo "sweep_store.sh: backfilling $corpus into $store" >&2
  t0=$(date +%s.%N)
  "$ts" backfill -q --store "$store" "$corpus/AWSLogs" > "$out/backfill.ndjson"
  echo "sweep_store.sh: backfill $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
fi

csv=$out/sweep_store.csv
echo "key,value,starts,per_day,call_starts,error_starts,seconds,top" > "$csv"
IFS=, read -r -a vals <<< "$values"
for v in "${vals[@]}"; do
  run=$out/runs/$key-$v
  mkdir -p "$run"
  { grep -v "^[[:space:]]*$key[[:space:]]*=" "$base_file" | grep -v '^name[[:space:]]*='
    echo "name = sweep"
    echo "$key = $v"; } > "$run/profile"
  t0=$(date +%s.%N)
  "$ts" detect -q --store "$store" --model "$run/profile" > "$run/insights.ndjson"
  secs=$(echo "$(date +%s.%N) - $t0" | bc)
  jq -r -s --arg k "$key" --arg v "$v" --argjson days "$days" --argjson top "$top" \
     --arg secs "$secs" '
    map(select(.insightDetails.state == "Start")) as $s
    | ($s | map(.insightDetails.eventSource + " " + .insightDetails.eventName
               + (if .insightDetails.errorCode then " " + .insightDetails.errorCode else "" end))
          | group_by(.) | map({k: .[0], n: length}) | sort_by(-.n, .k) | .[:$top]
          | map("\(.k) x\(.n)") | join("; ")) as $tops
    | [$k, (try ($v | tonumber) catch $v), ($s | length), (($s | length) / $days * 100 | round / 100),
       ($s | map(select(.insightDetails.insightType == "ApiCallRateInsight")) | length),
       ($s | map(select(.insightDetails.insightType == "ApiErrorRateInsight")) | length),
       ($secs | tonumber * 10 | round / 10), $tops] | @csv' "$run/insights.ndjson" >> "$csv"
  tail -1 "$csv" >&2
done

# the table, and the suggestion under a budget
{
  echo "# Insights a day by $key ($(basename "$base_file" .profile) profile, $days days judged, \`trailsight detect\`)"
  echo
  echo "| $key | Starts | a day | call rate | error rate | seconds | series with the most |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  python3 - "$csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print("| %s | %s | %s | %s | %s | %s | %s |" % (r["value"], r["starts"], r["per_day"],
          r["call_starts"], r["error_starts"], r["seconds"], r["top"]))
PY
  if [ -n "$budget" ]; then
    echo
    python3 - "$csv" "$budget" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
budget = float(sys.argv[2])
ok = [r for r in rows if float(r["per_day"]) <= budget]
if not ok:
    print("No setting stays at or under %g insights a day." % budget)
else:
    best = max(ok, key=lambda r: (float(r["per_day"]), -rows.index(r)))
    print("Suggested under %g insights a day: `%s = %s` (%s a day, %s Starts)."
          % (budget, best["key"], best["value"], best["per_day"], best["starts"]))
PY
  fi
} > "$out/sweep_store.md"
cat "$out/sweep_store.md"

if [ "$plot" = 1 ] && command -v gnuplot > /dev/null; then
  logx=""
  case $key in p_start|p_continue) logx="set logscale x; set format x '10^{%L}'" ;; esac
  gnuplot -e "
    set datafile separator ',';
    set terminal pngcairo size 900,520 font 'sans,11' noenhanced;
    set output '$out/sweep_store.png';
    set title 'Insights a day by $key (trailsight detect, no labels)';
    set xlabel '$key'; set ylabel 'Starts a day'; set grid; $logx;
    set key top left;
    plot '$csv' every ::1 using 2:4 with linespoints lw 2 title 'all',
         '' every ::1 using 2:(\$5/$days) with linespoints title 'call rate',
         '' every ::1 using 2:(\$6/$days) with linespoints title 'error rate'" &&
    echo "plot: $out/sweep_store.png"
fi

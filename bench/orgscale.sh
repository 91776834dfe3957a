#!/usr/bin/env bash
# orgscale.sh - memory at organization scale, on one machine.
#
#   bench/orgscale.sh [--accounts N] [--regions N] [--apis N] [--rate R]
#                     [--days D] [--flood N] [--redis] [--classes]
#                     [--class-series N] [--no-org]
#
# 1. An organization corpus (trailsight-gen: N accounts x N Regions x N
#    APIs, Zipf rates, the generator's daily curves, bursts and rare APIs,
#    hourly files, default 100 x 17 x 150 at 600 records/min for 9 days:
#    past the 7-day warm-up), backfilled on the memory store: peak RSS,
#    series, bytes per series (peak RSS / series), records/s.
#    With --redis, the same on a private redis-server: the process's peak
#    RSS and bytes per series, and Redis memory per series-day
#    (INFO memory used_memory, and MEMORY USAGE of the count keys).
# 2. The flood: a small real corpus with a spike, plus one NDJSON file of
#    --flood (default 1000000) invented eventNames in the spike's
#    partition: peak RSS, seconds, the overflow reported, and whether the
#    spike's insights are those of the corpus without the flood.
# 3. With --classes: bytes per series by rate class (silent: one call;
#    rare: 4 a day; hourly: 24 a day; busy: one a minute), each from a
#    corpus of one class against an empty run, over 9 days (N series,
#    default 20000; hourly N/4, busy N/100). --no-org skips step 1.
# Release build in build-bench/; corpora under bench/data/. Memory figures
# do not depend on other load on the machine; records/s does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
accounts=100 regions=17 apis=130 rate=300 days=9 flood=1000000 redis=0 classes=0 cn=20000 skip_org=0
while [ $# -gt 0 ]; do
  case $1 in
    --accounts) accounts=$2; shift 2 ;;
    --regions) regions=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --flood) flood=$2; shift 2 ;;
    --redis) redis=1; shift ;;
    --classes) classes=1; shift ;;
    --class-series) cn=$2; shift 2 ;;
    --no-org) skip_org=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "orgscale.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 >/dev/null
ts=build-bench/trailsight gen=build-bench/trailsight-gen
data=bench/data/org-${accounts}x${regions}x${apis}-r${rate}-${days}d
out=bench/data/orgscale-results
mkdir -p "$out"

# peak_run NAME ARGS...: backfill with --stats, print "rss_kb series apis records secs"
peak_run() {
  local name=$1
  shift
  "$ts" backfill -q --threads 1 --stats "$out/$name.stats.json" "$@" > "$out/$name.ndjson"
  jq -r '"\(.peak_rss_kb) \(.series) \(.apis) \(.records_counted) \(.elapsed_seconds)"' \
    "$out/$name.stats.json"
}

# ---- 1. the organization corpus
if [ "$skip_org" = 0 ]; then
if [ ! -f "$data/labels.json" ]; then
  echo "orgscale: generating $accounts accounts x $regions Regions x $apis APIs, $days days at $rate records/min into $data ..." >&2
  rm -rf "$data"
  "$gen" --out "$data" --seed 7 --days "$days" --accounts "$accounts" --regions "$regions" \
    --apis "$apis" --rate "$rate" --org --file-minutes 1440 --no-digests --anomalies 0 --jobs 2
fi
nfiles=$(find "$data/AWSLogs" -name '*.json.gz' | wc -l)
echo "corpus: $data: $nfiles files, $(jq .records "$data/labels.json") records, $days days" >&2
read -r rss series napis recs secs <<< "$(peak_run org-mem "$data/AWSLogs")"
printf 'memory store: %d APIs (series), %d metrics, peak RSS %.0f MB, %.0f bytes per series, %.0f records/s\n' \
  "$napis" "$series" "$(echo "$rss / 1024" | bc -l)" "$(echo "$rss * 1024 / $napis" | bc -l)" \
  "$(echo "$recs / $secs" | bc -l)"

if [ "$redis" = 1 ]; then
  tmp=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
    --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" >/dev/null
  trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
  for i in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  base=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
  read -r rss series napis recs secs <<< "$(peak_run org-redis --store "redis://127.0.0.1:$port" "$data/AWSLogs")"
  used=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}')
  # series-days: the c: keys (one per metric and day with counts)
  ckeys=$(redis-cli -p "$port" --scan --pattern 'ts:*:c:*' | wc -l)
  sample=$(redis-cli -p "$port" --scan --pattern 'ts:*:c:*' | awk 'NR <= 2000')
  cbytes=$(for k in $sample; do redis-cli -p "$port" memory usage "$k"; done | awk '{s += $1} END {print s / NR}')
  printf 'redis store: process peak RSS %.0f MB, %.0f bytes per series; Redis used_memory %.0f MB for %d metric-days: %.0f bytes per series-day (c: key mean MEMORY USAGE %.0f bytes)\n' \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$rss * 1024 / $napis" | bc -l)" \
    "$(echo "($used - $base) / 1048576" | bc -l)" "$ckeys" "$(echo "($used - $base) / $ckeys" | bc -l)" "$cbytes"
  cmp -s "$out/org-mem.ndjson" "$out/org-redis.ndjson" && echo "redis store: insights identical to the memory store's" ||
    echo "redis store: insights DIFFER from the memory store's"
fi
fi

# ---- 2. the flood (--flood 0: skipped)
fdata=bench/data/flood-$flood
if [ "$flood" -gt 0 ]; then
if [ ! -f "$fdata/done" ]; then
  rm -rf "$fdata"
  "$gen" --out "$fdata" --quiet --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
    --anomalies 2 --kinds spike,error --anomaly-after 7
  "$ts" backfill -q "$fdata/AWSLogs" > "$fdata/plain.ndjson"
  acct=$(jq -r '.anomalies[0].account' "$fdata/labels.json")
  region=$(jq -r '.anomalies[0].region' "$fdata/labels.json")
  day=$(jq -r '.anomalies[0].start[0:10]' "$fdata/labels.json")
  hm=$(jq -r '.anomalies[0].start[11:16]' "$fdata/labels.json")
  h=$((10#${hm%%:*} - 1)); [ "$h" -ge 0 ] || h=0
  dir="$fdata/AWSLogs/$acct/CloudTrail/$region/${day:0:4}/${day:5:2}/${day:8:2}"
  stamp=$(printf '%s%s%sT%02d00Z' "${day:0:4}" "${day:5:2}" "${day:8:2}" "$h")
  awk -v n="$flood" -v acct="$acct" -v region="$region" -v day="$day" -v h="$h" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "{\"eventVersion\":\"1.09\",\"eventTime\":\"%sT%02d:%02d:%02dZ\",\"eventSource\":\"flood%d.amazonaws.com\",\"eventName\":\"Invented%d\",\"awsRegion\":\"%s\",\"recipientAccountId\":\"%s\",\"eventCategory\":\"Management\",\"managementEvent\":true,\"readOnly\":false,\"eventType\":\"AwsApiCall\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::%s:user/f%d\"},\"userAgent\":\"flood/%d\"}\n",
        day, h, int(i * 60 / n), i % 60, i % 3, i, region, acct, acct, i, i
  }' > "$dir/${acct}_CloudTrail_${region}_${stamp}_flood.json"
  touch "$fdata/done"
fi
s=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$out/flood.rss" "$ts" backfill -q --threads 1 --stats "$out/flood.stats.json" \
  "$fdata/AWSLogs" > "$out/flood.ndjson"
e=$(date +%s.%N)
printf 'flood: %d invented names: peak RSS %.0f MB, %.1f s, overflow %s records (%s rows), insights %s\n' \
  "$flood" "$(echo "$(cat "$out/flood.rss") / 1024" | bc -l)" "$(echo "$e - $s" | bc -l)" \
  "$(jq .overflow.series_records "$out/flood.stats.json")" "$(jq .overflow.rows "$out/flood.stats.json")" \
  "$(cmp -s "$fdata/plain.ndjson" "$out/flood.ndjson" && echo "identical to the run without the flood" || echo DIFFERENT)"
fi

# ---- 3. bytes per series by rate class
if [ "$classes" = 1 ]; then
  # class_corpus FILE N PER_DAY: N series of one account and Region, each
  # PER_DAY calls a day spread evenly (0: one call in all), 9 days
  class_corpus() {
    awk -v n="$2" -v per="$3" 'BEGIN {
      for (d = 0; d < 9; d++) {
        k = per ? per : (d == 0 ? 1 : 0)
        for (j = 0; j < k; j++) {
          m = int((j + 0.5) * 1440 / (per ? per : 1))
          for (i = 0; i < n; i++)
            printf "{\"eventTime\":\"2026-01-%02dT%02d:%02d:%02dZ\",\"eventSource\":\"s%d.amazonaws.com\",\"eventName\":\"Put%d\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\",\"eventCategory\":\"Management\",\"readOnly\":false,\"userIdentity\":{\"arn\":\"arn:aws:iam::111122223333:user/u%d\"},\"userAgent\":\"cli\"}\n",
              5 + d, int(m / 60), m % 60, i % 60, i % 50, i, i % 7
        }
      }
    }' | sort -t'"' -k4,4 > "$1"
  }
  class_corpus "$out/class-empty.json" 1 0
  read -r rss0 _ <<< "$(peak_run class-empty "$out/class-empty.json")"
  for spec in silent:$cn:0 rare:$cn:4 hourly:$((cn / 4)):24 busy:$((cn / 100)):1440; do
    IFS=: read -r cname n per <<< "$spec"
    class_corpus "$out/class-$cname.json" "$n" "$per"
    read -r rss series napis recs secs <<< "$(peak_run "class-$cname" --max-series-per-partition 100000 "$out/class-$cname.json")"
    printf 'class %-6s (%s calls/day): %d series, %.0f bytes per series (peak RSS %d KB - %d KB empty)\n' \
      "$cname" "$per" "$napis" "$(echo "($rss - $rss0) * 1024 / $napis" | bc -l)" "$rss" "$rss0"
  done
fi

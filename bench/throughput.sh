#!/usr/bin/env bash
# throughput.sh - backfill speed against decompression alone and against
# the pipeline a user would otherwise write, on one corpus.
#
#   bench/throughput.sh [--runs N] [--days D] [--apis A] [--rate R] [--data DIR]
#                       [--no-jq] [--no-single]
#
# Generates (once, kept in DIR, default bench/data/<days>d-<apis>apis-r<rate>)
# a CloudTrail corpus in the S3 layout, warms the page cache, then alternates
# N runs (default 5) of
#   zcat FILES > /dev/null                          the yardstick
#   trailsight backfill --threads 1 DIR             one core
#   trailsight backfill --threads <cores> DIR       every core
#   trailsight backfill --threads 1 --inflate zlib  zlib streaming only
# and once (it is slow) the jq pipeline that counts calls per minute per
# API (zcat | jq | sort | uniq -c). Prints medians, records/s, MB/s of gzip,
# each time's ratio to zcat's, the jq pipeline's ratio to trailsight's, and
# peak RSS; and checks that every trailsight run printed the same insights.
# Then (unless --no-single) the same for one large input: the first two
# days' records as one NDJSON gzip file (made once, kept in DIR), zcat of it
# against backfill --threads 1 and --threads <cores> of that one file.
# Release build in build-bench/. Run it alone: other load skews the ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=5 days=10 apis=200 rate=350 data="" jq=1 single=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --apis) apis=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --no-jq) jq=0; shift ;;
    --no-single) single=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
data=${data:-$root/bench/data/${days}d-${apis}apis-r${rate}}
cores=$(nproc)

tools/install-deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$cores" >/dev/null

if [ ! -f "$data/labels.json" ]; then
  echo "throughput: generating $days days x $apis APIs at $rate records/min into $data ..." >&2
  rm -rf "$data"
  build-bench/trailsight-gen --out "$data" --seed 42 --days "$days" --apis "$apis" \
    --rate "$rate" --jobs "$cores"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=$work/files
find "$data/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' | sort > "$files"
nfiles=$(wc -l < "$files")
bytes=$(xargs cat < "$files" | wc -c)
records=$(jq .records "$data/labels.json")
echo "corpus: $nfiles files, $((bytes / 1000000)) MB gzip, $records records, $cores cores" >&2

# warm the page cache so every side reads from memory
xargs cat < "$files" > /dev/null

now() { date +%s.%N; }
# time_ts NAME ARGS...: one trailsight run; appends its time and RSS
time_ts() {
  local name=$1 s e
  shift
  s=$(now)
  /usr/bin/time -f '%M' -o "$work/rss" build-bench/trailsight backfill -q "$@" "$data/AWSLogs" \
    > "$work/out_$name"
  e=$(now)
  echo "$(echo "$e - $s" | bc -l) $(cat "$work/rss")" >> "$work/t_$name"
  if [ -f "$work/ref" ]; then
    cmp -s "$work/ref" "$work/out_$name" || { echo "throughput: $name printed other insights" >&2; exit 1; }
  else
    cp "$work/out_$name" "$work/ref"
  fi
}
for i in $(seq "$runs"); do
  s=$(now)
  xargs zcat < "$files" > /dev/null
  e=$(now)
  echo "$(echo "$e - $s" | bc -l) 0" >> "$work/t_zcat"
  time_ts t1 --threads 1
  time_ts tall --threads "$cores"
  time_ts zlib --threads 1 --inflate zlib
  echo "run $i: zcat $(tail -1 "$work/t_zcat" | cut -d' ' -f1) s, threads 1 $(tail -1 "$work/t_t1" | cut -d' ' -f1) s," \
    "threads $cores $(tail -1 "$work/t_tall" | cut -d' ' -f1) s, zlib $(tail -1 "$work/t_zlib" | cut -d' ' -f1) s" >&2
done
if [ "$jq" = 1 ]; then
  s=$(now)
  xargs zcat < "$files" | jq -r '.Records[] | select(.readOnly == false) |
      "\(.eventTime[0:16]) \(.eventSource) \(.eventName)"' | sort | uniq -c > "$work/jq_counts"
  e=$(now)
  echo "$(echo "$e - $s" | bc -l) 0" > "$work/t_jq"
fi

median() { cut -d' ' -f"$2" "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mz=$(median "$work/t_zcat" 1)
row() { # label file
  local t r
  t=$(median "$2" 1)
  r=$(median "$2" 2)
  printf '%-28s %7.2f s  %9.0f records/s  %6.0f MB/s gzip  %5.2f x zcat  peak RSS %4.0f MB\n' \
    "$1" "$t" "$(echo "$records / $t" | bc -l)" "$(echo "$bytes / 1000000 / $t" | bc -l)" \
    "$(echo "$t / $mz" | bc -l)" "$(echo "$r / 1024" | bc -l)"
}
echo "medians of $runs runs, $records records, $((bytes / 1000000)) MB gzip:"
row "zcat" "$work/t_zcat"
row "trailsight --threads 1" "$work/t_t1"
row "trailsight --threads $cores" "$work/t_tall"
row "trailsight --inflate zlib" "$work/t_zlib"
if [ "$jq" = 1 ]; then
  row "zcat | jq | sort | uniq -c" "$work/t_jq"
  printf 'jq pipeline / trailsight --threads 1: %.1f x; / --threads %d: %.1f x\n' \
    "$(echo "$(median "$work/t_jq" 1) / $(median "$work/t_t1" 1)" | bc -l)" "$cores" \
    "$(echo "$(median "$work/t_jq" 1) / $(median "$work/t_tall" 1)" | bc -l)"
fi
cp "$work/ref" "$data/insights.ndjson"
echo "insights: $(wc -l < "$data/insights.ndjson") events, the same in every run, in $data/insights.ndjson"

[ "$single" = 1 ] || exit 0
one=$data/one-2days.ndjson.gz
if [ ! -f "$one" ]; then
  echo "throughput: making one NDJSON file of the first two days' records ..." >&2
  days2=$(sed -n 's|.*/CloudTrail/[^/]*/\([0-9]*/[0-9]*/[0-9]*\)/.*|\1|p' "$files" | sort -u | head -2)
  grep -F -f <(echo "$days2" | sed 's|.*|/&/|') "$files" | xargs zcat | jq -c '.Records[]' \
    | gzip -1 > "$one.tmp"
  mv "$one.tmp" "$one"
fi
cat "$one" > /dev/null
orecords=$(zcat "$one" | wc -l)
obytes=$(stat -c %s "$one")
rm -f "$work"/o_*
for i in $(seq "$runs"); do
  s=$(now)
  zcat "$one" > /dev/null
  e=$(now)
  echo "$(echo "$e - $s" | bc -l) 0" >> "$work/o_zcat"
  for t in 1 "$cores"; do
    s=$(now)
    /usr/bin/time -f '%M' -o "$work/rss" build-bench/trailsight backfill -q --threads "$t" "$one" \
      > "$work/oout_$t"
    e=$(now)
    echo "$(echo "$e - $s" | bc -l) $(cat "$work/rss")" >> "$work/o_t$t"
  done
  cmp -s "$work/oout_1" "$work/oout_$cores" || { echo "throughput: one file: threads changed the insights" >&2; exit 1; }
done
records=$orecords bytes=$obytes
mz=$(median "$work/o_zcat" 1)
echo "one file, $orecords records, $((obytes / 1000000)) MB gzip, medians of $runs runs:"
row "zcat" "$work/o_zcat"
row "trailsight --threads 1" "$work/o_t1"
row "trailsight --threads $cores" "$work/o_t$cores"

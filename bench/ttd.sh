#!/usr/bin/env bash
# ttd.sh - time to detect in `stream`, on labelled generated corpora
# replayed in delivery order.
#
#   bench/ttd.sh [--corpus "NAME|GEN OPTIONS"]... [--out DIR] [--build DIR]
#                [--no-early] [--slack MIN] [--bound]
#
# Builds a Release trailsight in build-ttd/ (or uses --build DIR), generates
# each corpus with trailsight-gen under bench/data/ttd-<NAME>/ (once),
# writes its records as NDJSON in delivery order (files ordered by the
# delivery time in their names, as CloudTrail delivers them: 5-minute
# files, records 1 to 15 minutes late; bench/ttd.py deliver), feeds them
# to `trailsight stream --stdin --early-starts` (--no-early: without), and
# scores the Starts against the labels (bench/ttd.py score): per anomaly
# kind, the detection lag in data minutes, trailsightContext's
# decisionEventTime minus the label's onset, median and 90th percentile.
# A backfill of the same files is scored the same way, for comparison, and
# gives the stream's floor columns: the end of the minute whose close made
# the backfill's Start, minus the onset (ttd.py score --floor), the lag
# the detector's own rule allows once every record of a minute is read.
#
#   --corpus "NAME|OPTIONS"  a corpus (repeatable; default: three of 9 days,
#                            60 APIs, 100 records/min, seeds 201-203, every
#                            kind, 12 anomalies each)
#   --out DIR                results (default bench/results/ttd)
#   --build DIR              a build with trailsight and trailsight-gen
#   --no-early               stream without --early-starts
#   --slack MIN              minutes around a label a Start may be dated (5)
#   --bound                  also the bound of bench/ttdbound.py: each
#                            corpus's truth (trailsight-gen --truth, in
#                            OUT/NAME.truth.json), the oracle's lags beside
#                            the stream's, in OUT/bound.txt and bound.json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() { echo "ttd.sh: $*" >&2; exit 1; }
corpora=() out=bench/results/ttd build="" early=(--early-starts) slack=5 bound=0
while [ $# -gt 0 ]; do
  case $1 in
    --corpus) [ $# -ge 2 ] || die "--corpus needs a value"; corpora+=("$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --build) [ $# -ge 2 ] || die "--build needs a value"; build=$2; shift 2 ;;
    --no-early) early=(); shift ;;
    --slack) [ $# -ge 2 ] || die "--slack needs a value"; slack=$2; shift 2 ;;
    --bound) bound=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
if [ ${#corpora[@]} -eq 0 ]; then
  for s in 201 202 203; do
    corpora+=("s$s-9d-60apis-r100|--seed $s --days 9 --apis 60 --rate 100 --anomalies 12")
  done
fi
if [ -z "$build" ]; then
  build=build-ttd
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build" -j2 --target trailsight trailsight-gen > /dev/null
fi
ts=$build/trailsight gen=$build/trailsight-gen
[ -x "$ts" ] && [ -x "$gen" ] || die "no trailsight and trailsight-gen in $build"
mkdir -p "$out" bench/data
: > "$out/all.stream.ndjson"
: > "$out/all.backfill.ndjson"
labels_all=$out/labels.json
echo '{"anomalies":[]}' > "$labels_all"
for c in "${corpora[@]}"; do
  name=${c%%|*} opts=${c#*|}
  dir=bench/data/ttd-$name
  if [ ! -s "$dir/labels.json" ]; then
    # shellcheck disable=SC2086
    "$gen" --out "$dir" --quiet --no-digests $opts
  fi
  python3 bench/ttd.py deliver "$dir" > "$out/$name.records.ndjson"
  "$ts" stream -q --stdin "${early[@]}" --stats "$out/$name.stream.json" \
    < "$out/$name.records.ndjson" > "$out/$name.stream.ndjson"
  "$ts" backfill -q "$dir/AWSLogs" > "$out/$name.backfill.ndjson"
  rm -f "$out/$name.records.ndjson"
  echo "== $name ($opts)"
  python3 bench/ttd.py score "$dir/labels.json" "$out/$name.stream.ndjson" --slack "$slack" \
    --floor "$out/$name.backfill.ndjson" --json "$out/$name.stream.score.json"
  cat "$out/$name.stream.ndjson" >> "$out/all.stream.ndjson"
  cat "$out/$name.backfill.ndjson" >> "$out/all.backfill.ndjson"
  # labels of all corpora together (their series do not collide: accounts
  # differ by seed)
  python3 - "$labels_all" "$dir/labels.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
a["anomalies"] += b["anomalies"]
json.dump(a, open(sys.argv[1], "w"))
PY
done
echo "== all corpora, stream ${early[*]:-(no early Starts)}"
python3 bench/ttd.py score "$labels_all" "$out/all.stream.ndjson" --slack "$slack" \
  --floor "$out/all.backfill.ndjson" --json "$out/stream.score.json" | tee "$out/report.txt"
echo "== all corpora, backfill (decision at the minute's close + lateness)"
python3 bench/ttd.py score "$labels_all" "$out/all.backfill.ndjson" --slack "$slack" \
  --json "$out/backfill.score.json" | tee -a "$out/report.txt"
echo "== agreement of the stream with the backfill" | tee -a "$out/report.txt"
python3 bench/ttd.py agree "$out/all.backfill.ndjson" "$out/all.stream.ndjson" | tee -a "$out/report.txt"
if [ $bound = 1 ]; then
  echo "== the bound (bench/ttdbound.py): an oracle of the true rates" | tee -a "$out/report.txt"
  bargs=()
  for c in "${corpora[@]}"; do
    name=${c%%|*} opts=${c#*|}
    # shellcheck disable=SC2086
    "$gen" --truth "$out/$name.truth.json" $opts
    bargs+=("bench/data/ttd-$name" --truth "$out/$name.truth.json"
            --score "$out/$name.stream.score.json")
  done
  python3 bench/ttdbound.py "${bargs[@]}" --json "$out/bound.json" | tee "$out/bound.txt" |
    tee -a "$out/report.txt"
fi

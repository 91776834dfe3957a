#!/usr/bin/env bash
# quality.sh - detection quality of one sensitivity profile on labelled corpora.
#
#   bench/quality.sh [--model NAME|PATH] [--set SET|NAME,...] [--out DIR]
#                    [--rev REV] [--score-only] [--slack MIN] [--list N] [-v] [--quiet]
#
# Builds a Release trailsight in build-quality/, generates the labelled
# corpora of the set with trailsight-gen under bench/data/ (once; later runs
# reuse them, see bench/corpora.sh), runs `trailsight backfill --model
# PROFILE` on each, one at a time, and scores all of them together with
# bench/score.py: precision, recall, F1 and delay per insight type and per
# anomaly kind, false alarms on regular (cron, chronic-error, rare) series,
# then every false positive and missed label.
#
#   --model NAME|PATH  profile: models/NAME.profile or a file (default: default)
#   --set SET          heldout (default; never tuned on), weekly (held out, 14
#                      days with judged weekends), tuning, sweep, all, or
#                      corpus names separated by commas
#   --out DIR          where insights and scores go
#                      (default bench/results/quality/<profile>-<set>)
#   --rev REV          build git revision REV (e.g. HEAD) instead of the working
#                      tree, in build-quality/rev-<commit>/
#   --score-only       score the insights already in --out, run nothing
#   --slack MIN        minutes of slack around each label (default 5)
#   --list N           list at most N false positives and misses (default 60)
#   -v, --verbose      also list every found label with its delay
#   --quiet            print only the tables
#
# Writes in --out: <corpus>.ndjson and <corpus>.stats.json per corpus,
# report.txt (what is printed), score.json, score.csv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/corpora.sh
. bench/corpora.sh

die() { echo "quality.sh: $*" >&2; exit 1; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi; }

model=default set=heldout out="" rev="" score_only=0 slack=5 list=60 verbose=() quiet=()
while [ $# -gt 0 ]; do
  case $1 in
    --model) need "$@"; model=$2; shift 2 ;;
    --set) need "$@"; set=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --score-only) score_only=1; shift ;;
    --slack) need "$@"; slack=$2; shift 2 ;;
    --list) need "$@"; list=$2; shift 2 ;;
    -v|--verbose) verbose=(-v); shift ;;
    --quiet) quiet=(--no-lists); shift ;;
    --rev) need "$@"; rev=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case $slack in ''|*[!0-9]*) die "--slack wants minutes, got '$slack'" ;; esac
case $list in ''|*[!0-9]*) die "--list wants a number, got '$list'" ;; esac

profile=$(profile_path "$root" "$model") || die "no such profile"
names=$(corpus_names "$set") || die "bad --set"
pname=$(basename "$profile" .profile)
out=${out:-$root/bench/results/quality/$pname-${set//,/+}}
mkdir -p "$out"

command -v python3 >/dev/null || die "python3 is needed (tools/install-deps.sh)"
if [ $score_only = 0 ]; then
  echo "quality: building build-quality/ (Release) ..." >&2
  build_quality "$root" "$rev" || die "build failed"
  for name in $names; do
    ensure_corpus "$root" "$name" || die "cannot make corpus $name"
  done
  for name in $names; do
    s=$(date +%s.%N)
    backfill "$root" "$profile" "$name" "$out/$name.ndjson" "$out/$name.stats.json" ||
      die "backfill failed"
    e=$(date +%s.%N)
    printf 'quality: %-30s %5d insight events, %5.1f s\n' "$name" \
      "$(wc -l < "$out/$name.ndjson")" "$(echo "$e - $s" | bc -l)" >&2
  done
fi

pairs=()
for name in $names; do
  [ -f "$out/$name.ndjson" ] || die "no insights for $name in $out (run without --score-only)"
  pairs+=("$out/$name.ndjson" "$root/bench/data/$name/labels.json")
done
if [ $score_only = 1 ]; then
  built="insights already in $out (--score-only)"
else
  built="build: ${rev:-working tree} ($TS_BIN)"
fi
echo "profile: $profile  set: $set  $built" > "$out/report.txt"
python3 bench/score.py --slack "$slack" --max-list "$list" "${verbose[@]}" "${quiet[@]}" \
  --json "$out/score.json" --csv "$out/score.csv" --tag "profile=$pname" --tag "set=$set" \
  "${pairs[@]}" >> "$out/report.txt" || die "scoring failed"
cat "$out/report.txt"
echo "(insights, report.txt, score.json and score.csv in $out)" >&2

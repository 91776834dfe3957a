#!/usr/bin/env bash
# sweep.sh - sensitivity sweep: detection quality across profile settings.
#
#   bench/sweep.sh [--set SET|NAME,...] [--base NAME|PATH] [--vary KEY=V1,V2,...]...
#                  [--rev REV] [--out DIR] [--no-plots] [--slack MIN]
#
# For each setting, writes a profile (the base profile with one key
# changed), runs `trailsight backfill --model PROFILE` on every corpus of
# the set, one at a time, and scores the set with bench/score.py. Then:
#
#   OUT/sweep.csv   one row per setting: the key varied and its value, the
#                   effective p_start/min_ratio/min_count/min_errors, then
#                   precision, recall, F1 (all, per type), recall and delay
#                   per kind, false positives on regular series, seconds
#   OUT/sweep.md    the same as a Markdown table, and the settings that look
#                   best (bench/sweep_report.py)
#   OUT/pr.png      precision against recall, one point per setting
#   OUT/f1.png      F1 (all, call rate, error rate) against p_start
#   OUT/delay.png   detection delay (median, p90) against p_start
#   OUT/runs/<setting>/  the profile, insights and score.json of each setting
#   OUT/profiles/   default, sensitive and quiet: the settings the rules in
#                   sweep.md chose, ready to copy to models/
#
#   --set SET       corpora (bench/corpora.sh): tuning (default; five
#                   corpora, ~12 M records), or corpus names separated by
#                   commas; never held-out ones
#   --base PROFILE  the profile the settings start from (default: default)
#   --vary KEY=V,.. sweep these values of KEY instead of the default plan;
#                   repeatable, one key changed at a time. Default plan:
#                     p_start    1e-3 .. 1e-14 (10 values)
#                     min_ratio  1.5, 3
#                     min_count  5, 20
#                     min_errors 3, 10
#   --rev REV       build git revision REV (e.g. HEAD) instead of the working
#                   tree, in build-quality/rev-<commit>/
#   --out DIR       default bench/results
#   --no-plots      skip gnuplot
#   --slack MIN     minutes of slack around labels (default 5)
#
# Builds build-quality/ and generates missing corpora like bench/quality.sh.
# About 25 s per setting with the default set on 2 idle cores, twice that
# on a shared machine; 16 settings in the default plan, so 7-16 minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=bench/corpora.sh
. bench/corpora.sh

die() { echo "sweep.sh: $*" >&2; exit 1; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi; }

set=tuning base=default out=$root/bench/results plots=1 slack=5 vary=() rev=""
while [ $# -gt 0 ]; do
  case $1 in
    --set) need "$@"; set=$2; shift 2 ;;
    --base) need "$@"; base=$2; shift 2 ;;
    --vary) need "$@"; vary+=("$2"); shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --no-plots) plots=0; shift ;;
    --slack) need "$@"; slack=$2; shift 2 ;;
    --rev) need "$@"; rev=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case $slack in ''|*[!0-9]*) die "--slack wants minutes, got '$slack'" ;; esac
if [ ${#vary[@]} -eq 0 ]; then
  vary=("p_start=1e-3,1e-4,1e-5,1e-6,1e-7,1e-8,1e-9,1e-10,1e-12,1e-14"
        "min_ratio=1.5,3" "min_count=5,20" "min_errors=3,10")
fi
settings=()
for v in "${vary[@]}"; do
  key=${v%%=*} vals=${v#*=}
  case $v in *=?*) ;; *) die "--vary wants KEY=V1,V2,..., got '$v'" ;; esac
  case $key in ''|*[!a-z_]*|name) die "bad key '$key' in --vary" ;; esac
  IFS=, read -r -a vs <<< "$vals"
  for x in "${vs[@]}"; do
    case $x in ''|*[!0-9eE.+-]*) die "value '$x' of $key is not a number" ;; esac
    settings+=("$key=$x")
  done
done

base_profile=$(profile_path "$root" "$base") || die "no such base profile"
names=$(corpus_names "$set") || die "bad --set"
for name in $names; do
  case ,$(corpus_sets "$name"), in
    *,heldout,*) die "corpus $name is held out: never tune (sweep) on it" ;;
  esac
done
if [ $plots = 1 ] && ! command -v gnuplot >/dev/null; then
  die "gnuplot is missing: tools/install-deps.sh --bench (or apt-get install -y gnuplot-nox), or --no-plots"
fi
command -v python3 >/dev/null || die "python3 is needed (tools/install-deps.sh)"

# profile_value FILE KEY: the last value of KEY in a profile (empty if none)
profile_value() {
  awk -v k="$2" '{ sub(/#.*/, "") } $0 ~ "^[ \t]*" k "[ \t]*=" { v = $0; sub(/^[^=]*=[ \t]*/, "", v);
    sub(/[ \t\r]+$/, "", v); last = v } END { print last }' "$1"
}

rm -rf "$out/runs"   # the runs of an earlier sweep, whatever its plan
mkdir -p "$out/runs"
csv=$out/sweep.csv
rm -f "$csv"
echo "sweep: building build-quality/ (Release) ..." >&2
build_quality "$root" "$rev" || die "build failed"
for name in $names; do
  ensure_corpus "$root" "$name" || die "cannot make corpus $name"
done

t0=$(date +%s)
i=0
for s in "${settings[@]}"; do
  i=$((i + 1))
  key=${s%%=*} val=${s#*=}
  id=$key-$val
  dir=$out/runs/$id
  rm -rf "$dir"
  mkdir -p "$dir"
  prof=$dir/sweep.profile
  {
    echo "# written by bench/sweep.sh from $base_profile with $key = $val"
    grep -v -E "^[[:space:]]*($key|name)[[:space:]]*=" "$base_profile" || true
    echo "name = sweep-$id"
    echo "$key = $val"
  } > "$prof"
  s0=$(date +%s.%N)
  pairs=()
  for name in $names; do
    backfill "$root" "$prof" "$name" "$dir/$name.ndjson" "$dir/$name.stats.json" ||
      die "backfill failed with $key = $val"
    pairs+=("$dir/$name.ndjson" "$root/bench/data/$name/labels.json")
  done
  secs=$(echo "$(date +%s.%N) - $s0" | bc -l)
  python3 bench/score.py -q --slack "$slack" --json "$dir/score.json" --row "$csv" \
    --tag "param=$key" --tag "value=$val" \
    --tag "p_start=$(profile_value "$prof" p_start)" \
    --tag "min_ratio=$(profile_value "$prof" min_ratio)" \
    --tag "min_count=$(profile_value "$prof" min_count)" \
    --tag "min_errors=$(profile_value "$prof" min_errors)" \
    --tag "seconds=$(printf '%.1f' "$secs")" \
    "${pairs[@]}" || die "scoring failed"
  awk -F, -v i="$i" -v n="${#settings[@]}" -v s="$key = $val" '
    NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k }
    END { printf "sweep: %2d/%d %-18s P %.3f R %.3f F1 %.3f FP %s regular FP %s (%s s)\n",
          i, n, s, $c["precision"], $c["recall"], $c["f1"], $c["fp"], $c["fp_regular"],
          $c["seconds"] }' "$csv" >&2
done

python3 bench/sweep_report.py --base "$base_profile" --set "$set" --slack "$slack" \
  --runs "$out/runs" --profiles "$out/profiles" "$csv" "$out/sweep.md" || die "report failed"
if [ $plots = 1 ]; then
  # gnuplot warns about a series without points (e.g. no key but p_start
  # varied); show its messages only when it fails
  if ! gnuplot -e "csv='$csv'; out='$out'" bench/sweep.gp 2> "$out/gnuplot.log"; then
    cat "$out/gnuplot.log" >&2
    die "gnuplot failed (bench/sweep.gp)"
  fi
fi
echo "sweep: ${#settings[@]} settings in $(( $(date +%s) - t0 )) s;" \
  "wrote $csv, $out/sweep.md$([ $plots = 1 ] && echo ", $out/pr.png, $out/f1.png, $out/delay.png")" >&2

#!/usr/bin/env bash
# nab.sh - trailsight's model and detector on the Numenta Anomaly Benchmark (NAB).
#
#   bench/nab.sh [options] DATA_DIR RESULTS_DIR
#
# DATA_DIR is NAB's data and labels: a folder holding data/<category>/*.csv
# and labels/combined_windows.json (e.g. ../shared/nab), or its data/ folder
# itself (labels then in ../labels/). Builds libtscore (Release, build-nab/)
# and bench/nab.c (the driver: each row goes through src/model.c and
# src/detect.c with the profile bench/nab.profile), then writes NAB's
# results layout,
#   RESULTS_DIR/trailsight/<category>/trailsight_<name>.csv
#   (timestamp,value,anomaly_score,label: the rows of the data file, in order)
# With --scorer, also runs NAB's own scorer from a NAB checkout outside this
# project and prints the standard, reward_low_FP_rate and reward_low_FN_rate
# scores. See bench/nab.md.
#
# options:
#   --scorer NAB_DIR   run NAB's run.py from NAB_DIR (a checkout of numenta/NAB):
#                      --optimize --score --normalize (NAB's standard procedure:
#                      one threshold per profile over the whole corpus)
#   --fixed            with --scorer: no optimisation; score every profile at
#                      the threshold of the profile's own p_start (written to
#                      NAB_DIR/config/thresholds.json), with --score --normalize
#   --labels FILE      the windows file (default: from DATA_DIR)
#   --set KEY=VALUE    change one setting: a profile key or a model/driver key
#                      (repeatable; bench/nab.md)
#   --python PY        the Python with pandas for the scorer (default: the first
#                      of $PYTHON, /usr/bin/python3, python3 that imports pandas)
#   -h, --help         this text
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
me=nab.sh

die() { echo "$me: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

scorer="" fixed=0 labels="" python="${PYTHON:-}" sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --scorer) [ $# -ge 2 ] || die "--scorer needs a folder"; scorer=$2; shift 2 ;;
    --fixed) fixed=1; shift ;;
    --labels) [ $# -ge 2 ] || die "--labels needs a file"; labels=$2; shift 2 ;;
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; sets+=(--set "$2"); shift 2 ;;
    --python) [ $# -ge 2 ] || die "--python needs a program"; python=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { usage >&2; exit 1; }
[ "$fixed" -eq 0 ] || [ -n "$scorer" ] || die "--fixed only makes sense with --scorer"

# --- inputs --------------------------------------------------------------
[ -d "$1" ] || die "DATA_DIR '$1' is not a folder"
data=$(cd "$1" && pwd)
if [ -d "$data/data" ]; then
  data=$data/data
fi
[ -n "$labels" ] || labels=$(dirname "$data")/labels/combined_windows.json
[ -f "$labels" ] || die "no windows file '$labels' (NAB's labels/combined_windows.json; or pass --labels)"
labels=$(cd "$(dirname "$labels")" && pwd)/$(basename "$labels")
ls "$data"/*/*.csv >/dev/null 2>&1 || die "no '$data/<category>/*.csv' files: is '$1' NAB's data?"
mkdir -p "$2" || die "cannot create RESULTS_DIR '$2'"
results=$(cd "$2" && pwd)
case $results/ in
  "$root"/*) echo "$me: note: RESULTS_DIR is inside the project; it is not ignored by git" >&2 ;;
esac

if [ -n "$scorer" ]; then
  if [ ! -f "$scorer/run.py" ] || [ ! -d "$scorer/nab" ]; then
    die "'$scorer' is not a NAB checkout (no run.py and nab/; see bench/nab.md)"
  fi
  scorer=$(cd "$scorer" && pwd)
  case $scorer/ in
    "$root"/*) die "keep NAB's scorer outside the project (it is not ours to commit): '$scorer'" ;;
  esac
fi

# --- build -----------------------------------------------------------------
need_deps=0
for c in cmake cc pkg-config; do command -v "$c" >/dev/null || need_deps=1; done
pkg-config --exists gsl zlib hiredis 2>/dev/null || need_deps=1
[ -f /usr/include/jsmn.h ] || need_deps=1
if [ "$need_deps" -eq 1 ]; then
  "$root/tools/install-deps.sh" || die "missing build tools or libraries (tools/install-deps.sh failed)"
fi
build=$root/build-nab
echo "$me: building libtscore (Release) and bench/nab.c in $build ..." >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
  die "cmake configure failed"
cmake --build "$build" --target tscore -j"$(nproc)" >/dev/null || die "building libtscore failed"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -O2 -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Wmissing-prototypes \
  -Wformat=2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root/src" \
  $(pkg-config --cflags gsl zlib hiredis) "$root/bench/nab.c" "$build/libtscore.a" \
  $(pkg-config --libs gsl zlib hiredis) -lm -o "$build/nab" || die "compiling bench/nab.c failed"

# --- detect ----------------------------------------------------------------
echo "$me: scoring $data into $results/trailsight ..." >&2
"$build/nab" --profile "$root/bench/nab.profile" --labels "$labels" "${sets[@]}" "$data" "$results" || die "the detector failed"
[ -n "$scorer" ] || exit 0

# --- NAB's scorer ------------------------------------------------------------
pick_python() {
  local p
  for p in "$python" /usr/bin/python3 python3; do
    [ -n "$p" ] || continue
    if command -v "$p" >/dev/null && "$p" -c 'import pandas, numpy, scipy, simplejson, dateutil' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}
if ! py=$(pick_python); then
  [ -z "$python" ] || die "'$python' cannot import pandas, numpy, scipy, simplejson and dateutil"
  pkgs=(python3-pandas python3-numpy python3-scipy python3-simplejson python3-dateutil)
  echo "$me: installing ${pkgs[*]} for NAB's scorer" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install ${pkgs[*]}"
    sudo=sudo
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${pkgs[@]}" >/dev/null || die "cannot install ${pkgs[*]}"
  py=$(pick_python) || die "no Python with pandas, numpy, scipy, simplejson and dateutil"
fi
# normalisation needs NAB's null detector scores next to ours
if [ ! -f "$results/null/null_standard_scores.csv" ]; then
  [ -f "$scorer/results/null/null_standard_scores.csv" ] ||
    die "'$scorer/results/null/' is missing: NAB's null results are needed to normalise"
  cp -r "$scorer/results/null" "$results/"
fi
steps=(--optimize --score --normalize)
if [ "$fixed" -eq 1 ]; then
  # the detector's own threshold: the score of a Start at p = p_start
  p_start=$(sed -n 's/^p_start *= *//p' "$root/bench/nab.profile")
  for s in "${sets[@]}"; do case $s in p_start=*) p_start=${s#p_start=} ;; esac; done
  "$py" - "$scorer/config/thresholds.json" "$p_start" <<'PY' || die "cannot update thresholds.json"
import json, math, sys
path, p = sys.argv[1], float(sys.argv[2])
l = -math.log10(p)
thr = l / (l + 10) - 1e-9  # a Start scores above this (its p is below p_start)
with open(path) as f:
    t = json.load(f)
t["trailsight"] = {k: {"score": None, "threshold": thr}
                   for k in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")}
with open(path, "w") as f:
    json.dump(t, f, indent=4, sort_keys=True)
PY
  steps=(--score --normalize)
fi
echo "$me: NAB's scorer: $py run.py -d trailsight ${steps[*]} (in $scorer) ..." >&2
(cd "$scorer" && "$py" run.py -d trailsight "${steps[@]}" --skipConfirmation \
   --dataDir "$data" --windowsFile "$labels" --resultsDir "$results" -n "$(nproc)") \
  > "$results/trailsight-scorer.log" 2>&1 ||
  die "NAB's scorer failed; see $results/trailsight-scorer.log"
grep -E "^Final score for 'trailsight'" "$results/trailsight-scorer.log" ||
  die "no final scores in $results/trailsight-scorer.log"

#!/usr/bin/env bash
# mutate.sh - the mutation runner: puts each small deliberate bug of a
# fixed list (bench/mutants.txt) into a copy of the sources, builds it, runs
# tests against it, and reports which mutants the tests killed.
#
#   bench/mutate.sh                   every mutant, the fast test selection
#                                     (the unit and CLI tests that reach the
#                                     mutated file, see tests_for)
#   bench/mutate.sh --full            every mutant, the whole suite
#   bench/mutate.sh --only M03,M17    those mutants only
#   bench/mutate.sh --sanitize        ASan+UBSan build (default: -O2, asserts on)
#   bench/mutate.sh --tests REGEX     this ctest selection instead
#   bench/mutate.sh --resume          keep the results of an earlier run
#                                     (same list), run only the mutants
#                                     without one
#
# The copy (the tracked and untracked, not ignored, files of this tree) and
# its build live under $TS_MUTATE_DIR (default /tmp/ts-mutate-$UID); each
# mutant is applied to its file, built incrementally, tested, and the file
# put back before the next one. A mutant whose snippet is not found exactly
# once, or whose build fails, is "invalid" (not killed). A mutant is
# "killed" when at least one selected test fails (a timeout counts), else it
# "survived". The unmutated copy must pass the selection first.
#
# bench/mutants.txt: one mutant a line, four fields separated by tabs:
#   FILE  ORIGINAL  REPLACEMENT  DESCRIPTION
# ORIGINAL is a literal snippet that occurs exactly once in FILE; in it and
# in REPLACEMENT, \n, \t and \\ stand for a newline, a tab and a backslash.
# Lines starting with # and blank lines are passed over. Mutants are named
# M01, M02, ... in file order.
#
# bench/mutants.notes: "MNN<TAB>why it survives" for a survivor that is
# equivalent or out of reach of the tests; shown under the table.
# Writes the table to bench/results/mutation.md (or --report FILE) and the
# test output of each mutant to $TS_MUTATE_DIR/logs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
args_given="$*"
list=$root/bench/mutants.txt
notes=$root/bench/mutants.notes
report=$root/bench/results/mutation.md
work=${TS_MUTATE_DIR:-/tmp/ts-mutate-$(id -u)}
full=0 sanitize=0 only="" tests="" resume=0
# The fast selection: for each mutated file, the unit tests of its module
# and of what calls it, and the CLI tests that reach it (tests_for), built
# alone (their targets only) and stopping at the first failure. --full runs
# the whole suite after building everything.
tests_for() {
  case $1 in
    src/classify.c) echo 'unit/test_classify|unit/test_engine|cli/options' ;;
    src/engine*.c) echo 'unit/test_engine|unit/test_engine_state|cli/options' ;;
    src/cli_opts.c) echo 'cli/options' ;;
    src/run.c) echo 'cli/options|cli/sink_exit' ;;
    src/agg.c|src/order.c|src/hold.c)
      echo 'unit/test_agg|unit/test_order|unit/test_engine|cli/options' ;;
    src/detect.c) echo 'unit/test_detect|unit/test_engine|cli/golden' ;;
    src/episode.c) echo 'unit/test_engine|unit/test_engine_state' ;;
    src/insight.c) echo 'unit/test_insight|unit/test_engine' ;;
    src/store_mem.c) echo 'unit/test_store|unit/test_engine' ;;
    src/tally.c) echo 'unit/test_tally|unit/test_engine' ;;
    src/mincounts.c|src/daywin.c) echo 'unit/test_mincounts|unit/test_daywin|unit/test_engine' ;;
    src/codec.c) echo 'unit/test_codec|unit/test_engine_state' ;;
    src/attrwin.c) echo 'unit/test_engine|unit/test_engine_state|cli/overflow|cli/options' ;;
    src/overflow.c|src/series.c) echo 'unit/test_overflow|unit/test_series|cli/overflow' ;;
    src/util.c) echo 'unit/test_util' ;;
    src/folders.c|src/source*.c) echo 'unit/test_folders|unit/test_walk|cli/shapes' ;;
    src/reader.c|src/gunzip.c) echo 'unit/test_reader|unit/test_gunzip|cli/options' ;;
    src/markcache.c|src/fileid.c) echo 'unit/test_markcache|unit/test_engine' ;;
    src/sink*.c) echo 'unit/test_sink|unit/test_sink_disk|cli/sink_exit' ;;
    src/backoff.c) echo 'unit/test_backoff|unit/test_sink|cli/sink_exit' ;;
    src/run_stream.c) echo 'cli/idle|cli/stream' ;;
    src/run_report.c) echo 'cli/idle|cli/stream' ;;
    src/store_redis*.c) echo 'unit/test_store_redis|unit/test_redis_chunk|cli/idle|cli/redis_store' ;;
    *) echo 'unit/.*|cli/(golden|shapes|options)' ;;
  esac
}
while [ $# -gt 0 ]; do
  case $1 in
    --full) full=1 ;;
    --resume) resume=1 ;;
    --sanitize) sanitize=1 ;;
    --only) only=$2; shift ;;
    --tests) tests=$2; shift ;;
    --list) list=$(realpath "$2"); shift ;;
    --report) report=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mutate.sh: unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
[ -f "$list" ] || { echo "mutate.sh: no mutant list $list" >&2; exit 1; }

src=$work/src
build=$src/build-mutate
[ "$resume" = 1 ] || rm -rf "$work/results"
mkdir -p "$work/logs" "$work/results"
# the sources, as they are in this tree
rm -rf "$src.new"
mkdir -p "$src.new"
(cd "$root" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src.new"
# keep the old copy's build (incremental), replace its sources
if [ -d "$build" ]; then mv "$build" "$src.new/"; fi
rm -rf "$src"
mv "$src.new" "$src"
# the read-only shared samples, where tests look for them (../shared)
[ -d "$root/../shared" ] && ln -sfn "$(cd "$root/../shared" && pwd)" "$work/shared"

flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -g0" -DTS_WERROR=OFF)
[ "$sanitize" = 1 ] && flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" -DTS_SANITIZE=ON)
cmake -S "$src" -B "$build" "${flags[@]}" > "$work/logs/cmake.log"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2

# mutant LIST N SRC: prints "FILE<TAB>DESCRIPTION" of mutant N of LIST
# ("count": how many) and, given SRC, applies it to SRC/FILE, exit 3 when
# its snippet is not there exactly once
mutant() {
  python3 - "$@" <<'PY'
import re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
rows = [l.split("\t") for l in lines if l.strip() and not l.startswith("#")]
if sys.argv[2] == "count":
    print(len(rows)); sys.exit(0)
un = lambda s: re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)
row = rows[int(sys.argv[2]) - 1]
if len(row) != 4:
    print("?\tline with %d fields, not 4" % len(row)); sys.exit(3)
path, orig, repl, desc = row[0], un(row[1]), un(row[2]), row[3]
print(path + "\t" + desc)
if len(sys.argv) > 3:
    try:
        text = open(sys.argv[3] + "/" + path, encoding="utf-8").read()
    except OSError:
        sys.exit(3)
    if text.count(orig) != 1:
        sys.exit(3)
    open(sys.argv[3] + "/" + path, "w", encoding="utf-8").write(text.replace(orig, repl, 1))
PY
}

total=$(mutant "$list" count)

# regex FILE: the ctest regex of the selection for a mutant of FILE ("all":
# the union over the mutants to run); empty: the whole suite
regex() {
  if [ -n "$tests" ]; then
    echo "$tests"
  elif [ "$full" = 0 ]; then
    if [ "$1" = all ]; then
      local i
      echo "^($(for i in "${todo[@]}"; do tests_for "$(mutant "$list" "$i" | cut -f1)"; done |
        tr '|' '\n' | sort -u | paste -sd'|'))\$"
    else
      echo "^($(tests_for "$1"))\$"
    fi
  fi
}
# run_tests LOG FILE: build, then the selection; 0 pass, 1 fail, 2 no build
run_tests() {
  local re targets=()
  re=$(regex "$2")
  if [ -n "$re" ]; then
    # only the programs the selected tests run
    mapfile -t targets < <(cd "$build" && ctest -N -R "$re" | awk '$1 == "Test" {print $3}' |
      sed -n 's|^unit/\(test_.*\)|\1|p; s|^unit/reader_samples$|test_reader|p; s|^cli/.*|trailsight\ntrailsight-gen|p' |
      sort -u)
  fi
  if [ ${#targets[@]} -gt 0 ]; then
    cmake --build "$build" -j"$jobs" --target "${targets[@]}" > "$1" 2>&1 || return 2
    (cd "$build" && ctest -j"$jobs" --timeout 300 --output-on-failure --stop-on-failure -R "$re") >> "$1" 2>&1
  else
    cmake --build "$build" -j"$jobs" > "$1" 2>&1 || return 2
    (cd "$build" && ctest -j"$jobs" --timeout 900 --output-on-failure ${re:+-R "$re"}) >> "$1" 2>&1
  fi
}

# the mutants to run: those selected (--only) without a result yet
todo=()
for id in $(seq 1 "$total"); do
  name=$(printf 'M%02d' "$id")
  if [ -n "$only" ] && ! [[ ",$only," == *",$name,"* ]]; then continue; fi
  [ -s "$work/results/$name" ] || todo+=("$id")
done
echo "mutate.sh: baseline (the unmutated copy, the tests of ${#todo[@]} mutants)" >&2
rc=0
[ ${#todo[@]} -eq 0 ] || run_tests "$work/logs/baseline.log" all || rc=$?
if [ "$rc" != 0 ]; then
  echo "mutate.sh: the unmutated copy does not pass (see $work/logs/baseline.log)" >&2
  tail -20 "$work/logs/baseline.log" >&2
  exit 1
fi
ntests=$(grep -cE '^ *[0-9]+/[0-9]+ Test' "$work/logs/baseline.log" || true)

for id in "${todo[@]}"; do
  name=$(printf 'M%02d' "$id")
  IFS=$'\t' read -r file desc < <(mutant "$list" "$id")
  log=$work/logs/$name.log
  f=$src/$file
  t0=$(date +%s)
  status=""
  failing=""
  [ -f "$f" ] && cp -p "$f" "$work/orig"
  if ! mutant "$list" "$id" "$src" > /dev/null; then
    status=invalid; failing="snippet not found exactly once"
  else
    rc=0
    run_tests "$log" "$file" || rc=$?
    case $rc in
      0) status=survived ;;
      2) status=invalid; failing="does not build" ;;
      *) status=killed
         failing=$(grep -oE '[0-9]+ - [^ ]+ \((Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted|Exception)' "$log" |
           awk '{print $3}' | paste -sd' ' | cut -c1-160) ;;
    esac
  fi
  if [ -f "$f" ]; then
    cp -p "$work/orig" "$f"
    touch "$f" # rebuilt with the original at the next build
  fi
  secs=$(( $(date +%s) - t0 ))
  echo "mutate.sh: $name $status (${secs}s) $file: $desc${failing:+ [$failing]}" >&2
  printf '%s\t%s\t%s\t%s\t%s\n' "$status" "$file" "$desc" "${failing:-}" "$secs" > "$work/results/$name"
done

# leave the copy unmutated and built
cmake --build "$build" -j"$jobs" > "$work/logs/final.log" 2>&1 || true

# the table: every mutant of the list with a result
rows=() survivors=()
killed=0 survived=0 invalid=0 n=0 secs_all=0
for id in $(seq 1 "$total"); do
  name=$(printf 'M%02d' "$id")
  [ -s "$work/results/$name" ] || continue
  IFS=$'\t' read -r status file desc failing secs < "$work/results/$name"
  n=$((n + 1))
  secs_all=$((secs_all + secs))
  case $status in killed) killed=$((killed + 1)) ;; survived) survived=$((survived + 1)) ;; *) invalid=$((invalid + 1)) ;; esac
  rows+=("| $name | \`$file\` | $desc | $status | ${failing:-} |")
  if [ "$status" = survived ]; then
    why=$(awk -F'\t' -v m="$name" '$1 == m {print $2}' "$notes" 2>/dev/null)
    survivors+=("- $name (\`$file\`, $desc): ${why:-no reason written yet}")
  fi
done
valid=$((killed + survived))
score=0
[ "$valid" -gt 0 ] && score=$(awk -v k="$killed" -v v="$valid" 'BEGIN {printf "%.1f", 100 * k / v}')
mkdir -p "$(dirname "$report")"
{
  echo "# Mutation run"
  echo
  echo "\`bench/mutate.sh${args_given:+ $args_given}\` at $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet HEAD || echo ' (with uncommitted changes)'), $(date -u +%Y-%m-%dT%H:%MZ),"
  if [ "$sanitize" = 1 ]; then echo "ASan+UBSan build,"; else echo "-O2 build (asserts on),"; fi
  if [ -n "$tests" ]; then echo "tests matching \`$tests\`,"
  elif [ "$full" = 1 ]; then echo "the whole suite ($ntests tests),"
  else echo "the fast selection (per mutated file, the tests tests_for in mutate.sh maps it to, stopping at the first failure),"; fi
  echo "$secs_all s of builds and tests for the mutants."
  if [ "$resume" = 1 ]; then
    echo "With --resume: each mutant's result is from the last run that ran it (earlier"
    echo "runs of the same list, on the tests of their day, are kept for the others)."
  fi
  echo
  echo "**$n mutants: $killed killed, $survived survived, $invalid invalid; score $score % (killed / (killed + survived)).**"
  echo
  echo "| mutant | file | mutation | result | tests that failed |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  if [ ${#survivors[@]} -gt 0 ]; then
    echo
    echo "## Survivors"
    echo
    echo "Why each survivor is not caught (from \`bench/mutants.notes\`):"
    echo
    printf '%s\n' "${survivors[@]}"
  fi
} > "$report"
echo "mutate.sh: $n mutants: $killed killed, $survived survived, $invalid invalid ($score %); $report" >&2

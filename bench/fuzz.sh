#!/usr/bin/env bash
# fuzz.sh - builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang,
# ASan and UBSan in build-fuzz/, runs each for a given time, and reports per
# target: executions, exec/s, coverage (cov/ft), corpus size, and the
# crashes, leaks, timeouts and slow inputs found. New findings are minimised
# and copied into tests/fuzz/corpus/<target>/ (so ctest replays them), and
# new coverage-increasing inputs are merged into that corpus with -merge=1.
# The report goes to bench/results/fuzz-<UTC date>/report.md (and .tsv).
#   bench/fuzz.sh                          5 minutes per target, one at a time
#   bench/fuzz.sh --minutes 30 --jobs 2    the long run, two targets at once
#   bench/fuzz.sh --targets fuzz_state,fuzz_spec --minutes 1 --no-merge
# Options: --minutes N (per target), --jobs J (targets at once), --targets
# LIST (comma-separated, default all), --no-merge (leave the committed
# corpora alone: findings and new inputs stay under the results folder),
# --reduce (no fuzzing: minimise the committed corpora to what adds edges),
# --build DIR (default build-fuzz), --out DIR (default
# bench/results/fuzz-<date>). Runs niced; needs clang (tools/install-deps.sh).
# Exit status: 0 when nothing was found, 1 bad usage or build, 2 findings.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

minutes=5 jobs=1 targets="" merge=1 reduce=0 build=build-fuzz out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --reduce) reduce=1; shift ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done
case "$minutes" in ''|*[!0-9.]*) echo "fuzz.sh: --minutes N (a number)" >&2; exit 1 ;; esac
case "$jobs" in ''|*[!0-9]*|0) echo "fuzz.sh: --jobs J (1 or more)" >&2; exit 1 ;; esac
command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (tools/install-deps.sh)" >&2; exit 1; }

# Per-target settings: largest input, and the seconds after which an input
# is reported slow (a slow-unit artifact). Every target has the same hard
# timeout: an input running longer than TIMEOUT seconds is a hang.
TIMEOUT=10
max_len() {
  case "$1" in
    fuzz_reader) echo 16384 ;;  # gzip members and several records
    fuzz_array|fuzz_lookup|fuzz_eventbridge|fuzz_cwlogs) echo 16384 ;;  # a few wrapped records
    fuzz_record) echo 4096 ;;   # one record (real ones are 1-3 KB)
    fuzz_profile) echo 4096 ;;  # a profile file (models/ ones are ~2 KB)
    fuzz_state) echo 8192 ;;    # a partition state (seeds 0.4-3 KB)
    fuzz_rstream) echo 8192 ;;  # an XREADGROUP reply with a few records
    fuzz_spec) echo 512 ;;      # a URL
    *) echo 4096 ;;
  esac
}
slow_secs() { case "$1" in fuzz_state) echo 3 ;; *) echo 2 ;; esac; }
# The committed corpus of a target stays small: at most this many files
# and bytes (beyond the named seeds and findings).
MAX_FILES=300 MAX_BYTES=$((1024 * 1024))

all=$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//')
[ -n "$targets" ] || targets=$(echo $all | tr ' ' ',')
IFS=, read -ra tlist <<<"$targets"
for t in "${tlist[@]}"; do
  echo "$all" | grep -qx "$t" || { echo "fuzz.sh: no target '$t' (have: $(echo $all))" >&2; exit 1; }
done

stamp=$(date -u +%Y%m%d-%H%M)
# the code fuzzed: the commit, and whether the working tree differs from it
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src 'tests/fuzz/*.c' CMakeLists.txt 2>/dev/null || rev="$rev+changes"
out=${out:-bench/results/fuzz-$stamp}
mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "fuzz.sh: building ${tlist[*]} in $build/ (clang, ASan+UBSan)" >&2
if ! { CC=clang nice cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DTS_FUZZ=ON -DTS_SANITIZE=ON >"$out/build.log" 2>&1 &&
       nice cmake --build "$build" -j2 --target "${tlist[@]}" >>"$out/build.log" 2>&1; }; then
  tail -30 "$out/build.log" >&2
  echo "fuzz.sh: build failed (log: $out/build.log)" >&2
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
budget=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
[ "$budget" -ge 1 ] || { echo "fuzz.sh: --minutes too small" >&2; exit 1; }

# Run one target for the budget. libFuzzer stops at a crash: the run is
# started again (on the corpus grown so far) until the time is used, up to
# 8 findings. Writes $dir/summary (key=value lines).
fuzz_one() {
  local t=$1 dir=$out/$1 bin=$root/$build/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null
  local start=$(date +%s) left=$budget seg=0 execs=0 cov=0 ft=0 stopped=0
  while [ "$left" -gt 5 ] && [ "$stopped" -lt 8 ]; do
    seg=$((seg + 1))
    local before=$(ls "$dir/artifacts" | wc -l)
    nice -n 10 "$bin" "$dir/corpus" -max_total_time="$left" -max_len="$(max_len "$t")" \
      -timeout="$TIMEOUT" -report_slow_units="$(slow_secs "$t")" -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/" >"$dir/run$seg.log" 2>&1
    local rc=$?
    local n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/run$seg.log" | grep -o '[0-9]*$')
    [ -n "$n" ] || n=$(grep -o '^#[0-9]*' "$dir/run$seg.log" | tail -1 | tr -d '#')
    execs=$((execs + ${n:-0}))
    local last=$(grep -E '(cov|ft): [0-9]+' "$dir/run$seg.log" | tail -1)
    local c=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
    local f=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
    [ -z "$c" ] || cov=$c
    [ -z "$f" ] || ft=$f
    left=$((budget - ($(date +%s) - start)))
    if [ "$rc" -ne 0 ]; then
      stopped=$((stopped + 1))
      [ "$(ls "$dir/artifacts" | wc -l)" -gt "$before" ] || { echo "run $seg exited $rc with no artifact" >>"$dir/notes"; break; }
    fi
  done
  local secs=$(($(date +%s) - start))
  {
    echo "seconds=$secs"
    echo "segments=$seg"
    echo "execs=$execs"
    echo "execs_per_sec=$((secs > 0 ? execs / secs : 0))"
    echo "cov=$cov"
    echo "ft=$ft"
    echo "corpus=$(ls "$dir/corpus" | wc -l)"
  } >"$dir/summary"
}

# Minimise each finding of a target (the first of each kind and sanitizer
# summary) into $dir/findings/; copy them into the committed corpus.
minimise() {
  local t=$1 dir=$out/$1 bin=$root/$build/$1 a kind sig seen=""
  mkdir -p "$dir/findings"
  local crash=0 leak=0 timeout=0 slow=0 oom=0
  for a in "$dir"/artifacts/*; do
    [ -f "$a" ] || continue
    kind=$(basename "$a" | sed 's/-[0-9a-f]*$//')
    case "$kind" in
      crash) crash=$((crash + 1)) ;;
      leak) leak=$((leak + 1)) ;;
      timeout) timeout=$((timeout + 1)) ;;
      slow-unit) slow=$((slow + 1)) ;;
      oom) oom=$((oom + 1)) ;;
    esac
    # one minimised input per distinct failure: the sanitizer's summary
    # line names it (slow units and timeouts by kind alone)
    sig=$(nice "$bin" -runs=1 -timeout="$TIMEOUT" -rss_limit_mb=2048 -artifact_prefix="$dir/rerun-" "$a" 2>&1 |
      grep -m1 '^SUMMARY' || true)
    sig="$kind ${sig:-}"
    if printf '%s\n' "$seen" | grep -qxF "$sig"; then continue; fi
    seen=$(printf '%s\n%s' "$seen" "$sig")
    local to=$TIMEOUT
    [ "$kind" = slow-unit ] && to=$(slow_secs "$t")
    # slowness may have been the machine's: keep what is slow again
    if { [ "$kind" = slow-unit ] || [ "$kind" = timeout ]; } &&
       nice "$bin" -runs=1 -timeout="$to" -rss_limit_mb=2048 -artifact_prefix="$dir/rerun-" "$a" \
         >/dev/null 2>&1; then
      echo "$(basename "$a"): $kind that ran within ${to}s again (a busy machine?): not kept" >>"$dir/findings.txt"
      continue
    fi
    local min=$dir/findings/$(basename "$a")
    # a slow input is minimised as a timeout at the slow threshold
    nice "$bin" -minimize_crash=1 -max_total_time=60 -timeout="$to" -rss_limit_mb=2048 \
      -exact_artifact_path="$min" "$a" >"$dir/minimise-$(basename "$a").log" 2>&1
    [ -s "$min" ] || cp "$a" "$min"
    echo "$(basename "$min") $(stat -c %s "$min") bytes: $sig" >>"$dir/findings.txt"
    [ "$merge" = 1 ] && cp "$min" "tests/fuzz/corpus/$t/$kind-$(sha1sum "$min" | cut -c1-16)"
  done
  {
    echo "crashes=$crash"
    echo "leaks=$leak"
    echo "timeouts=$timeout"
    echo "slow=$slow"
    echo "ooms=$oom"
  } >>"$dir/summary"
}

# Minimise the unnamed (hash-named) files of a committed corpus afresh:
# keep those that add edges to the named seeds and findings.
reduce_corpus() {
  local t=$1 dir=$out/$1 bin=$root/$build/$1 cdir=tests/fuzz/corpus/$1
  local keep=$dir/keep pool=$dir/pool
  rm -rf "$keep" "$pool"
  mkdir -p "$keep" "$pool"
  find "$cdir" -maxdepth 1 -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -exec mv {} "$pool/" \;
  cp "$cdir"/* "$keep/" 2>/dev/null
  nice "$bin" -merge=1 -use_counters=0 -max_len="$(max_len "$t")" -timeout="$TIMEOUT" \
    -rss_limit_mb=2048 "$keep" "$pool" >"$dir/reduce.log" 2>&1 ||
    { echo "reduce exited $?: corpus left as it was" >>"$dir/notes"; cp "$pool"/* "$cdir/"; return; }
  for f in "$keep"/*; do [ -e "$cdir/$(basename "$f")" ] || cp "$f" "$cdir/"; done
}

# Merge the inputs that add edges (not hit counts) into the committed
# corpus; if it grows past the caps, minimise its unnamed files afresh.
merge_corpus() {
  local t=$1 dir=$out/$1 bin=$root/$build/$1 cdir=tests/fuzz/corpus/$1
  local n0=$(ls "$cdir" | wc -l)
  if [ -d "$dir/corpus" ]; then
    nice "$bin" -merge=1 -use_counters=0 -max_len="$(max_len "$t")" -timeout="$TIMEOUT" \
      -rss_limit_mb=2048 "$cdir" "$dir/corpus" >"$dir/merge.log" 2>&1 ||
      echo "merge exited $?" >>"$dir/notes"
  fi
  local files=$(ls "$cdir" | wc -l) bytes=$(du -sb "$cdir" | cut -f1)
  if [ "$reduce" = 1 ] || [ "$files" -gt "$MAX_FILES" ] || [ "$bytes" -gt "$MAX_BYTES" ]; then
    reduce_corpus "$t"
    files=$(ls "$cdir" | wc -l)
    bytes=$(du -sb "$cdir" | cut -f1)
    if [ "$files" -gt "$MAX_FILES" ] || [ "$bytes" -gt "$MAX_BYTES" ]; then
      echo "the committed corpus is over the caps after minimising: $files files, $bytes bytes" >>"$dir/notes"
    fi
  fi
  {
    echo "added=$((files - n0))"
    echo "committed_files=$files"
    echo "committed_bytes=$bytes"
  } >>"$dir/summary"
}

job() {
  local t=$1
  echo "fuzz.sh: $t: fuzzing for $minutes min" >&2
  fuzz_one "$t"
  minimise "$t"
  if [ "$merge" = 1 ]; then
    merge_corpus "$t"
  else
    printf 'added=0\ncommitted_files=%s\ncommitted_bytes=%s\n' "$(ls "tests/fuzz/corpus/$t" | wc -l)" \
      "$(du -sb "tests/fuzz/corpus/$t" | cut -f1)" >>"$out/$t/summary"
  fi
  echo "fuzz.sh: $t: done ($(tr '\n' ' ' <"$out/$t/summary"))" >&2
}

if [ "$reduce" = 1 ]; then
  # only minimise the committed corpora, no fuzzing
  for t in "${tlist[@]}"; do
    mkdir -p "$out/$t"
    n0=$(ls "tests/fuzz/corpus/$t" | wc -l)
    reduce_corpus "$t"
    echo "fuzz.sh: $t: $n0 -> $(ls "tests/fuzz/corpus/$t" | wc -l) files, $(du -sb "tests/fuzz/corpus/$t" | cut -f1) bytes" >&2
  done
  exit 0
fi

running=0
for t in "${tlist[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  job "$t" &
  running=$((running + 1))
done
wait

get() { sed -n "s/^$2=//p" "$out/$1/summary" | tail -1; }
found=0
{
  echo "# Fuzzing report, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "\`bench/fuzz.sh --minutes $minutes --jobs $jobs\` at $rev," \
       "clang $(clang --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -1), ASan+UBSan," \
       "$(nproc) cores, timeout ${TIMEOUT}s."
  echo
  echo "| target | max_len | seconds | executions | exec/s | cov | ft | corpus | committed (files, bytes) | added | crashes | leaks | timeouts | slow | ooms |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for t in "${tlist[@]}"; do
    echo "| $t | $(max_len "$t") | $(get "$t" seconds) | $(get "$t" execs) | $(get "$t" execs_per_sec) | $(get "$t" cov) | $(get "$t" ft) | $(get "$t" corpus) | $(get "$t" committed_files), $(get "$t" committed_bytes) | $(get "$t" added) | $(get "$t" crashes) | $(get "$t" leaks) | $(get "$t" timeouts) | $(get "$t" slow) | $(get "$t" ooms) |"
  done
  echo
  for t in "${tlist[@]}"; do
    if [ -s "$out/$t/findings.txt" ]; then
      echo "## $t findings (minimised in $t/findings/)"
      echo
      sed 's/^/- /' "$out/$t/findings.txt"
      echo
    fi
    [ -s "$out/$t/notes" ] && { echo "## $t notes"; echo; sed 's/^/- /' "$out/$t/notes"; echo; }
  done
} >"$out/report.md"
{
  echo -e "target\tseconds\texecs\texecs_per_sec\tcov\tft\tcorpus\tcommitted_files\tcommitted_bytes\tadded\tcrashes\tleaks\ttimeouts\tslow\tooms"
  for t in "${tlist[@]}"; do
    line=$t
    for k in seconds execs execs_per_sec cov ft corpus committed_files committed_bytes added crashes leaks timeouts slow ooms; do
      line="$line	$(get "$t" $k)"
    done
    echo "$line"
    for k in crashes leaks timeouts slow ooms; do
      [ "$(get "$t" $k)" = 0 ] || found=1
    done
  done
} >"$out/report.tsv"
cat "$out/report.md"
echo "fuzz.sh: report in $out/" >&2
[ "$found" = 0 ] || { echo "fuzz.sh: findings: see $out/report.md; minimised inputs are in tests/fuzz/corpus/ when merged" >&2; exit 2; }
exit 0

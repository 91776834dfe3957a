#!/usr/bin/env bash
# walk.sh - allocation-failure torture: for each N, run trailsight with its
# Nth allocation failing (TS_ALLOC_FAIL_AT=N, a -DTS_ALLOC_TORTURE=ON build,
# see tests/torture/alloc_torture.c) and check that the run either
#   - exits 2 with "out of memory" (or ENOMEM's "Cannot allocate memory")
#     on stderr, or
#   - exits 0 with exactly the output of a run without the failure (the
#     allocation was recovered from; for the Redis case, also the same
#     count cells in Redis),
# with no sanitizer report (ASan, LSan with detect_leaks=1, UBSan), no
# other exit status, no signal, no timeout.
#
# Cases (each a clean run first, whose allocation count is the walk's end):
#   golden-spike-error, golden-drop  the corpora of tests/cli/golden.sh,
#                  `backfill --threads 1` on the memory store
#   redis          a small corpus as one NDJSON file, `backfill --store
#                  redis:// --checkpoint-cells 2000` (a checkpoint every few
#                  hours of records) against a redis-server this script
#                  starts (emptied before each N)
#   stdin          a small corpus as NDJSON, `stream --stdin`
#   files          its first 24 files and a truncated one, as a synced folder,
#                  `backfill --threads 2` (reading in parallel; which call is
#                  the Nth may change between runs; no insights)
#
#   walk.sh [--cases LIST] [--first K] [--stride S] [--sample M] [--seed X]
#           [--jobs J] [--timeout SEC] [--fork]
# With no selection option every N from 1 to the count is run (the full
# walk, by hand). --first K runs N = 1..K, --stride S every Sth N after
# that, --sample M adds M Ns drawn with seed X (default 1): the reduced
# walk of tests/cli/torture.sh. Failures are listed with the first lines
# of their stderr; the exit status is 1 if any N failed.
# --fork visits every N of the golden and stdin cases in one run: the
# clean run forks at each allocation and the child fails it (fork mode of
# tests/torture/alloc_torture.c), so a full walk of tens of thousands of
# allocations takes minutes instead of hours. The child's state at the
# Nth call is the state a run with TS_ALLOC_FAIL_AT=N has there; its
# output is judged as the clean run's output up to the fork followed by
# what the child wrote. The redis and files cases (a server emptied per N,
# several threads) are always run one process per N.
# Environment: TRAILSIGHT, TRAILSIGHT_GEN, TS_SOURCE_DIR; KEEP_TMP=1 keeps
# the work folder; TS_ALLOC_TRACE=1 prints the stack of each failed call.
set -euo pipefail
: "${TRAILSIGHT:?set TRAILSIGHT to a trailsight built with -DTS_ALLOC_TORTURE=ON}"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
: "${TS_SOURCE_DIR:?set TS_SOURCE_DIR to the source tree}"
export TRAILSIGHT_MODELS=$TS_SOURCE_DIR/models
cases=golden-spike-error,golden-drop,redis,stdin,files
first=0 stride=0 sample=0 seed=1 jobs=2 timeout=300 fork=0
while [ $# -gt 0 ]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --first) first=$2; shift 2 ;;
    --stride) stride=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --fork) fork=1; shift ;;
    *) echo "walk.sh: unknown option '$1'" >&2; exit 1 ;;
  esac
done
# sanitizers report with their own exit status, told apart from trailsight's
export ASAN_OPTIONS=detect_leaks=1:exitcode=99:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=exitcode=99

tmp=$(mktemp -d)
redis_pids=()
cleanup() {
  local p
  for p in "${redis_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP_TMP:-}" ] && echo "work folder: $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

probe=$tmp/probe.count
TS_ALLOC_COUNT_FILE=$probe "$TRAILSIGHT" --help > /dev/null 2>&1 || true
if [ ! -s "$probe" ]; then
  echo "walk.sh: $TRAILSIGHT does not count allocations (build with -DTS_ALLOC_TORTURE=ON)" >&2
  exit 77
fi

# redis_start SLOT: a private redis-server on a free loopback port
redis_start() {
  local dir=$tmp/redis$1 p try i
  mkdir -p "$dir"
  for try in $(seq 1 20); do
    p=$((20000 + RANDOM % 20000))
    if redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
         --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null 2>&1; then
      for i in $(seq 1 50); do
        if redis-cli -p "$p" ping >/dev/null 2>&1; then
          echo "$p" > "$tmp/redis$1.port"
          redis_pids+=("$(cat "$dir/redis.pid")")
          return 0
        fi
        sleep 0.1
      done
    fi
  done
  echo "walk.sh: could not start redis-server" >&2
  return 1
}

# case_cmd CASE: the command line of a case (run by one_run)
case_cmd() {
  case $1 in
    golden-*) echo "backfill -q --threads 1 $tmp/${1#golden-}/AWSLogs" ;;
    redis) echo "backfill -q --threads 1 --checkpoint-cells 2000 --store redis://127.0.0.1:PORT $tmp/small.ndjson" ;;
    stdin) echo "stream -q --stdin --idle-timeout 3600" ;;
    files) echo "backfill -q --threads 2 $tmp/files/AWSLogs" ;;
  esac
}

# one_run CASE N OUT ERR: run the case with allocation N failing (0: none);
# prints the exit status. A redis case takes a free server slot and empties it.
one_run() {
  local c=$1 n=$2 out=$3 err=$4 cmd slot port rc=0 in=/dev/null
  cmd=$(case_cmd "$c")
  [ "$c" = stdin ] && in=$tmp/small.ndjson
  if [ "$c" = redis ]; then
    while :; do
      for slot in $(seq 0 $((jobs - 1))); do
        exec {lock}>"$tmp/redis$slot.lock"
        flock -n "$lock" && break 2
        exec {lock}>&-
      done
      sleep 0.1
    done
    port=$(cat "$tmp/redis$slot.port")
    redis-cli -p "$port" flushall > /dev/null
    cmd=${cmd/PORT/$port}
  fi
  # shellcheck disable=SC2086
  TS_ALLOC_FAIL_AT=$n timeout -k 5 "${run_timeout:-$timeout}" "$TRAILSIGHT" $cmd < "$in" > "$out" 2> "$err" || rc=$?
  if [ "$c" = redis ]; then
    # every count cell the run left in Redis, sorted
    redis-cli -p "$port" --raw eval "
      local out = {}
      for _, k in ipairs(redis.call('KEYS', 'ts:{*}:c:*')) do
        local h = redis.call('HGETALL', k)
        for i = 1, #h, 2 do out[#out + 1] = k .. ' ' .. h[i] .. ' ' .. h[i + 1] end
      end
      return out" 0 | LC_ALL=C sort > "$out.counts"
    exec {lock}>&-
  fi
  echo "$rc"
}

# verdict CASE N RC OUT ERR: print "ok" or "FAIL CASE N: why" for a run
# with allocation N failing that exited RC and wrote OUT and ERR
verdict() {
  local c=$1 n=$2 rc=$3 out=$4 err=$5 why=""
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$err"; then
    why="sanitizer report"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    why="timeout after ${timeout}s"
  elif [ "$rc" = 2 ]; then
    grep -qiE 'out of memory|cannot allocate memory' "$err" || why="exit 2 without an out-of-memory message"
  elif [ "$rc" = 0 ]; then
    # a stream's Starts say the wall time they were decided at: left out
    cmp -s <(sed -E 's/,"decisionWallTime":"[^"]*"//' "$out") \
      <(sed -E 's/,"decisionWallTime":"[^"]*"//' "$tmp/$c.ref") ||
      why="exit 0 with output unlike the clean run"
    [ -n "$why" ] || [ "$c" != redis ] || cmp -s "$out.counts" "$tmp/$c.ref.counts" ||
      why="exit 0 with counts in Redis unlike the clean run's"
  else
    why="exit status $rc"
  fi
  if [ -z "$why" ]; then
    echo ok
  else
    echo "FAIL $c N=$n: $why"
    grep -v '^ *$' "$err" | head -12 | sed 's/^/    /'
  fi
}

# judge CASE N: run one N and print its verdict
judge() {
  local c=$1 n=$2 out=$tmp/$1.$2.out err=$tmp/$1.$2.err rc
  rc=$(one_run "$c" "$n" "$out" "$err")
  verdict "$c" "$n" "$rc" "$out" "$err"
  rm -f "$out" "$out.counts" "$err"
}

export -f one_run verdict judge case_cmd
export tmp jobs timeout

# the Ns of a walk over COUNT allocations, one per line
pick() {
  local count=$1
  if [ "$first" = 0 ] && [ "$stride" = 0 ] && [ "$sample" = 0 ]; then
    seq 1 "$count"
    return
  fi
  {
    [ "$first" -gt 0 ] && seq 1 "$((first < count ? first : count))"
    [ "$stride" -gt 0 ] && [ "$first" -lt "$count" ] && seq "$((first + 1))" "$stride" "$count"
    [ "$sample" -gt 0 ] && python3 -c "
import random, sys
r = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
for _ in range(min(int(sys.argv[3]), n)): print(r.randint(1, n))" "$seed" "$count" "$sample"
    echo "$count"
  } | sort -n -u
}

# inputs
gen() { "$TRAILSIGHT_GEN" --out "$tmp/$1" --quiet "${@:2}"; }
IFS=, read -r -a sel <<< "$cases"
for c in "${sel[@]}"; do
  case $c in
    golden-spike-error)
      gen spike-error --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
        --anomalies 2 --kinds spike,error --anomaly-after 7 ;;
    golden-drop)
      gen drop --seed 9 --days 8 --apis 8 --rate 60 --anomalies 1 --kinds drop --anomaly-after 7 ;;
    redis | stdin | files)
      if [ ! -d "$tmp/small" ]; then
        gen small --seed 3 --days 8 --apis 2 --rate 2 --anomalies 1 --kinds spike --anomaly-after 7
        find "$tmp/small/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' | LC_ALL=C sort \
          > "$tmp/small.list"
        xargs zcat < "$tmp/small.list" | jq -c '.Records[]' > "$tmp/small.ndjson"
        head -25 "$tmp/small.list" | while read -r f; do
          mkdir -p "$tmp/files/$(dirname "${f#"$tmp/small/"}")"
          cp "$f" "$tmp/files/${f#"$tmp/small/"}"
        done
        last=$(head -25 "$tmp/small.list" | tail -1)
        head -c 300 "$last" > "$tmp/files/${last#"$tmp/small/"}"
      fi
      if [ "$c" = redis ] && [ ! -e "$tmp/redis0.port" ]; then
        command -v redis-server > /dev/null ||
          { echo "walk.sh: redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
        for s in $(seq 0 $((jobs - 1))); do redis_start "$s"; done
      fi ;;
    *) echo "walk.sh: unknown case '$c'" >&2; exit 1 ;;
  esac
done

# fork_walk CASE: the clean run of a case in fork mode, then the verdict of
# every child; prints the clean run's exit status
fork_walk() {
  local c=$1 d=$tmp/$1.fork rc
  mkdir -p "$d"
  # the clean run goes on while its children run: no timeout of its own
  # beyond a day (each child has the per-N timeout)
  rc=$(TS_ALLOC_FORK_DIR=$d TS_ALLOC_FORK_JOBS=$jobs TS_ALLOC_FORK_TIMEOUT=$timeout \
         run_timeout=86400 TS_ALLOC_COUNT_FILE=$tmp/$c.count one_run "$c" 0 "$tmp/$c.ref" "$tmp/$c.referr")
  echo "$rc"
}

bad=0
for c in "${sel[@]}"; do
  t0=$(date +%s)
  forked=0
  case $c in golden-* | stdin) forked=$fork ;; esac
  if [ "$forked" = 1 ]; then
    rc=$(fork_walk "$c")
  else
    rc=$(TS_ALLOC_COUNT_FILE=$tmp/$c.count one_run "$c" 0 "$tmp/$c.ref" "$tmp/$c.referr")
  fi
  if [ "$rc" != 0 ] || { [ "$c" != files ] && [ ! -s "$tmp/$c.ref" ]; }; then
    echo "FAIL $c: the clean run exited $rc or wrote no insights" >&2
    cat "$tmp/$c.referr" >&2
    bad=1
    continue
  fi
  count=$(cat "$tmp/$c.count")
  if [ "$forked" = 1 ]; then
    total=$(wc -l < "$tmp/$c.fork/status")
    : > "$tmp/$c.res0"
    [ "$total" = "$count" ] ||
      echo "FAIL $c: $count allocations but $total children reaped" > "$tmp/$c.res0"
    # the same rules as verdict(), in one process for the tens of thousands
    # of children (tests/torture/judge_forked.py)
    python3 "$TS_SOURCE_DIR/tests/torture/judge_forked.py" "$c" "$tmp/$c.fork" "$tmp/$c.ref" "$timeout" \
      | cat "$tmp/$c.res0" - > "$tmp/$c.res"
  else
    pick "$count" > "$tmp/$c.ns"
    total=$(wc -l < "$tmp/$c.ns")
    sed "s/^/$c /" "$tmp/$c.ns" | xargs -P "$jobs" -n 2 bash -c 'judge "$0" "$1"' > "$tmp/$c.res"
  fi
  fails=$(grep -c '^FAIL' "$tmp/$c.res" || true)
  grep -v '^ok$' "$tmp/$c.res" || true
  echo "$c: $count allocations, $total Ns run, $fails failed, $(($(date +%s) - t0)) s"
  [ "$fails" = 0 ] || bad=1
done
exit "$bad"

#!/usr/bin/env bash
# stream_stop.sh - SIGTERM reaching `stream --watch` while it reads the files
# of one delivery: the file being read is read to its end and no other is
# begun, so no file is counted in part (and marked counted). A stop that
# counted the first record of each file still waiting moved the watermark by
# minutes at a time and closed minutes whose other records were never read:
# the stream judged them on partial counts (a regular job's run as missed,
# cli/exec_sink), and a restart passed over those files for good.
#  - the files come in one folder renamed into place, so the watch lists
#    them at once, sorted; SIGTERM is sent once one of them is open;
#  - the records read are those of the first N files of that list, whole;
#  - with Redis, a restart on the same store reads the rest, and the stored
#    counts equal a recount of the logs.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 11 --days 2 --apis 6 --rate 30 --regions 2 --quiet
mkdir -p "$tmp/stage" "$tmp/w"
$deliver "$tmp/c" "$tmp/stage" > /dev/null
# the records of each file, in the order the watch lists them (by path)
python3 - "$tmp/stage" > "$tmp/per_file" <<'EOF'
import gzip, json, os, sys
paths = []
for root, dirs, names in os.walk(os.path.join(sys.argv[1], "AWSLogs")):
    paths += [os.path.join(root, n) for n in names if n.endswith(".json.gz")]
for p in sorted(paths):
    with gzip.open(p, "rt") as f:
        print(len(json.load(f)["Records"]))
EOF
total=$(awk '{s += $1} END {print s}' "$tmp/per_file")
check "the corpus has files ($(wc -l < "$tmp/per_file"))" test "$(wc -l < "$tmp/per_file")" -ge 500

store=mem
if redis_start "$tmp/r"; then
  store="redis://127.0.0.1:$redis_port/1"
else
  skip "redis-server: the restart after the stop is not checked"
fi

# wait_for FILE REGEX: until FILE has a line matching REGEX (60 s at most)
wait_for() {
  local i
  for i in $(seq 1 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# reading PID DIR: until PID has a file under DIR open (60 s at most)
reading() {
  local i
  for i in $(seq 1 6000); do
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$2/.*\.json\.gz" && return 0
    sleep 0.01
  done
  return 1
}

"$TRAILSIGHT" stream -v --watch "$tmp/w" --store "$store" --idle-timeout 3600 \
  --stats "$tmp/s1.json" > "$tmp/s1.ndjson" 2> "$tmp/s1.err" &
pid=$!
check "the stream watches its folder" wait_for "$tmp/s1.err" "folders watched"
mv "$tmp/stage/AWSLogs" "$tmp/w/AWSLogs"
check "the stream reads the delivery" reading "$pid" "$tmp/w"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM while reading: exit 0 (got $rc)" test "$rc" = 0
read1=$(jq .records_read "$tmp/s1.json")
echo "stopped after $read1 of $total records"
check "the stop came before the end of the delivery" test "$read1" -lt "$total"
whole() { awk -v n="$1" '{s += $1; if (s == n) f = 1} END {exit !f}' "$tmp/per_file"; }
check "the records read are those of whole files ($read1)" whole "$read1"

if [ "$store" != mem ]; then
  "$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$store" --idle-timeout 1 \
    --metrics-file "$tmp/m2.prom" --metrics-interval 1 --stats "$tmp/s2.json" \
    > "$tmp/s2.ndjson" &
  pid=$!
  check "the restart reads the rest" \
    wait_for "$tmp/m2.prom" "^trailsight_records_read_total $((total - read1))\$"
  sleep 3 # the idle timeout closes the last minutes, a checkpoint stores them
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  check "restart: exit 0 (got $rc)" test "$rc" = 0
  redis_dump_counts "$redis_port" 1 > "$tmp/counts"
  python3 "$TS_SOURCE_DIR/tools/recount.py" "$tmp/c/AWSLogs" | LC_ALL=C sort > "$tmp/expected"
  check "restart: the stored counts equal a recount of the logs" cmp "$tmp/counts" "$tmp/expected"
fi
finish

#!/usr/bin/env bash
# exec_sink.sh - the exec:CMD sink survives its command exiting:
#  - a command that reads one line and exits, one that reads two and exits
#    with status 3, and one that fails once before reading anything are
#    restarted until every event has arrived, in the order of stdout, none
#    lost, none twice (each read its lines whole), exit 0;
#  - in a stream, the command killed with -9 is reaped (no zombie), another
#    is started for the next events, and every event arrives (at least
#    once: copies allowed, none lost, order kept).
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 6 --rate 10 --regions 2 \
  --anomalies 3 --kinds spike,error --anomaly-after 7 --quiet

cat > "$tmp/one.sh" <<'EOF'
#!/bin/sh
# reads one line, appends it to $1, exits
IFS= read -r line || exit 0
printf '%s\n' "$line" >> "$1"
EOF
cat > "$tmp/two.sh" <<'EOF'
#!/bin/sh
# reads two lines, appends them to $1, exits 3
IFS= read -r a || exit 0
printf '%s\n' "$a" >> "$1"
IFS= read -r b || exit 0
printf '%s\n' "$b" >> "$1"
exit 3
EOF
cat > "$tmp/late.sh" <<'EOF'
#!/bin/sh
# fails at its first start without reading; then copies its input to $1
if [ ! -e "$1.started" ]; then : > "$1.started"; exit 1; fi
exec cat >> "$1"
EOF

"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/ref.ndjson"
n=$(wc -l < "$tmp/ref.ndjson")
check "the corpus makes several events ($n)" test "$n" -ge 4

for s in one two late; do
  rc=0
  "$TRAILSIGHT" backfill --out "exec:sh $tmp/$s.sh $tmp/$s.out" "$tmp/c/AWSLogs" \
    2> "$tmp/$s.err" || rc=$?
  check "$s: exit 0 (got $rc)" test "$rc" = 0
  check "$s: every event, in order, once" cmp "$tmp/$s.out" "$tmp/ref.ndjson"
done
check "late: the failed start is logged" grep -q "command exited with status 1" "$tmp/late.err"

# a stream whose command is killed midway: cut the corpus an hour after
# the first Start
first=$(head -1 "$tmp/ref.ndjson" | jq -r .eventTime)
half=$(python3 - "$tmp/c" "$first" <<'EOF'
import os, sys, datetime
t = datetime.datetime.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(hours=1)
limit = t.strftime("%Y%m%dT%H%MZ")
print(sum(1 for root, dirs, names in os.walk(os.path.join(sys.argv[1], "AWSLogs"))
          for f in names if f.endswith(".json.gz") and f.split("_")[3] <= limit))
EOF
)
mkdir -p "$tmp/w"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --idle-timeout 1 --out - \
  --out "exec:exec cat >> $tmp/s.out" > "$tmp/s.ndjson" 2> "$tmp/s.err" &
pid=$!
$deliver "$tmp/c" "$tmp/w" 0 "$half" > /dev/null
# wait_lines FILE N: until FILE has N lines or more (60 s at most)
wait_lines() {
  local i
  for i in $(seq 1 600); do
    [ -s "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
check "stream: events before the kill" wait_lines "$tmp/s.ndjson" 1
check "stream: the command got them" wait_lines "$tmp/s.out" "$(wc -l < "$tmp/s.ndjson")"
child=$(ps -o pid= --ppid "$pid" | head -1 | tr -d ' ')
check "stream: the command runs" test -n "$child"
kill -9 "$child"
sleep 2.5 # reaped and started again by the tick
check "stream: no zombie child" bash -c "! ps -o stat= --ppid $pid | grep -q Z"
check "stream: the killed command was reaped" bash -c "! kill -0 $child 2>/dev/null"
$deliver "$tmp/c" "$tmp/w" "$half" > /dev/null
check "stream: every event written" wait_lines "$tmp/s.ndjson" "$n"
check "stream: every event reached the command" wait_lines "$tmp/s.out" "$n"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "stream: exit 0 (got $rc)" test "$rc" = 0
# at least once: with copies taken out (first seen kept), the stream's order
dedup() { awk '!seen[$0]++' "$1"; }
check "stream: none lost, order kept" cmp <(dedup "$tmp/s.out") "$tmp/s.ndjson"
check "stream: the same events as backfill" \
  cmp <(no_decision "$tmp/s.ndjson" | LC_ALL=C sort) <(no_decision "$tmp/ref.ndjson" | LC_ALL=C sort)
finish

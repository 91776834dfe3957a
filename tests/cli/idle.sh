#!/usr/bin/env bash
# idle.sh - what time does when the input stops, how long the store keeps
# its keys, and the metrics of a run whose every count is known:
#  - stream with --lateness 5 --idle-timeout 15: once the file is read and
#    checkpointed, the minutes within the lateness of the newest record are
#    still open (their cells are not in Redis); after the idle timeout they
#    close and are stored; each further minute of silence closes one more
#    minute (minutes_closed in --stats is a backfill's plus one, 60 s
#    later);
#  - the metrics file gives the exact counts of the hand-made file: records
#    read, counted and late, a skip by its reason, files, checkpoints, the
#    watermark lag from the wall clock, no insight, no reconnect;
#  - the store's keys expire history_days + 2 days after their last write
#    (a profile with history_days = 3, and the default 28), except
#    ts:schema and ts:partitions, which never expire.
source "$(dirname "$0")/lib.sh"

# minutes 0..39 of 2024-10-01, one RunInstances each; a read at minute 10
# and a call at minute 2 after them (late for a lateness of 5), and one
# line that is not JSON
python3 - "$tmp" <<'PY'
import json, sys
def rec(minute, name="RunInstances", ro=False):
    return json.dumps({"eventVersion": "1.08",
        "eventTime": "2024-10-01T%02d:%02d:10Z" % (minute // 60, minute % 60),
        "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
        "eventCategory": "Management", "readOnly": ro,
        "userIdentity": {"arn": "arn:aws:iam::111122223333:user/a"}, "userAgent": "cli"},
        separators=(",", ":"))
lines = [rec(m) for m in range(40)]
lines += [rec(10, "DescribeInstances", ro=True), '{"eventTime": broken', rec(2)]
open(sys.argv[1] + "/f1.json", "w").write("\n".join(lines) + "\n")
PY
newest=$(date -u -d 2024-10-01T00:39:00Z +%s) # the newest minute

redis_start "$tmp/r"
port=$redis_port
store="redis://127.0.0.1:$port"
key='ts:{111122223333:us-east-1}:c:20241001:m:ec2.amazonaws.com:RunInstances:calls'
metric() { awk -v n="$2" '$1 == n {print $2}' "$1" 2>/dev/null; }
# minutes MIN MAX: the stored minutes of RunInstances are exactly MIN..MAX
minutes() {
  [ "$(redis-cli -p "$port" -n "$db" hkeys "$key" | sort -n | tr '\n' ' ')" = "$(seq -s ' ' "$1" "$2") " ]
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
  local n=$(($1 * 10)) i
  shift
  for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

"$TRAILSIGHT" backfill -q --lateness 5 --stats "$tmp/b.json" "$tmp/f1.json" > "$tmp/b.ndjson"
closed=$(jq .minutes_closed "$tmp/b.json")
check "backfill closes minutes" test "$closed" -gt 40

# 1. stream, then silence
db=1
mkdir -p "$tmp/w"
cp "$tmp/f1.json" "$tmp/w/"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --store "$store/$db" --lateness 5 --idle-timeout 15 \
  --metrics-file "$tmp/m.prom" --metrics-interval 1 --stats "$tmp/s.json" \
  > "$tmp/s.ndjson" 2> "$tmp/s.err" &
pid=$!
read_once() {
  [ "$(metric "$tmp/m.prom" trailsight_files_total)" = 1 ] &&
    [ "$(metric "$tmp/m.prom" trailsight_checkpoints_total)" -ge 1 ] 2>/dev/null
}
check "the service read and checkpointed the file" wait_for 120 read_once
t_read=$(date +%s)
check "before the idle timeout: minutes 0..33 stored, 34..39 still open" minutes 0 33
cp "$tmp/m.prom" "$tmp/m1.prom"
check "after the idle timeout: the open minutes closed and stored" wait_for 60 minutes 0 39
t_idle=$(date +%s)
check "the idle timeout waited for its 15 s of silence ($((t_idle - t_read)) s seen)" \
  test $((t_idle - t_read)) -ge 5
# one more minute closes 60 s after the first advance
sleep $((63 - ($(date +%s) - t_idle)))
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "a minute of silence closed one more minute ($(jq .minutes_closed "$tmp/s.json") against $closed)" \
  test "$(jq .minutes_closed "$tmp/s.json")" = $((closed + 1))
check "no insight from one quiet API" test ! -s "$tmp/s.ndjson"

# 2. the metrics, line by line
want() {
  check "metrics: $1 is $2 (got $(metric "$tmp/m1.prom" "$1"))" \
    test "$(metric "$tmp/m1.prom" "$1")" = "$2"
}
want trailsight_records_read_total 42
want trailsight_records_counted_total 42
want trailsight_records_late_total 2
want 'trailsight_skipped_total{reason="json"}' 1
check "metrics: no skip for any other reason" \
  test "$(grep '^trailsight_skipped_total' "$tmp/m1.prom" | grep -vc 'reason="json"')" -gt 5 -a \
  -z "$(grep '^trailsight_skipped_total' "$tmp/m1.prom" | grep -v 'reason="json"' | grep -v ' 0$')"
want trailsight_files_total 1
want trailsight_open_insights 0
want 'trailsight_insights_total{state="Start"}' 0
want 'trailsight_insights_total{state="End"}' 0
want trailsight_store_reconnects_total 0
want 'trailsight_sink_events_total{sink="0",kind="stdout",result="delivered"}' 0
want trailsight_sink_failures_total 0
lag=$(metric "$tmp/m1.prom" trailsight_watermark_lag_seconds)
check "metrics: the watermark lag is the wall clock minus the newest minute ($lag, read at $t_read)" \
  test $((t_read - newest - lag)) -ge 0 -a $((t_read - newest - lag)) -le 120
check "metrics: the final file counts the checkpoints of --stats" \
  test "$(metric "$tmp/m.prom" trailsight_checkpoints_total)" = "$(jq .checkpoints "$tmp/s.json")"

# 3. key expiry: history_days + 2 days after the last write
# ttl_ok DB DAYS: every key but ts:schema and ts:partitions expires in DAYS
# days (less the seconds since it was written); those two never expire
ttl_ok() {
  local k t n=0 bad=0 want=$(($2 * 86400))
  while read -r k; do
    t=$(redis-cli -p "$port" -n "$1" ttl "$k")
    case $k in
      ts:schema | ts:partitions) [ "$t" = -1 ] || { echo "$k: ttl $t" >&2; bad=1; } ;;
      ts:probe:*) ;;
      *) n=$((n + 1))
         [ "$t" -le "$want" ] && [ "$t" -gt $((want - 600)) ] || { echo "$k: ttl $t, want $want" >&2; bad=1; } ;;
    esac
  done < <(redis-cli -p "$port" -n "$1" --scan)
  [ "$n" -ge 4 ] && [ "$bad" = 0 ]
}
check "stream's keys expire in 28 + 2 days" ttl_ok 1 30
printf 'name = short\nwarmup_days = 2\nhistory_days = 3\n' > "$tmp/short.profile"
"$TRAILSIGHT" backfill -q --store "$store/2" --model "$tmp/short.profile" "$tmp/f1.json" > /dev/null
check "history_days = 3: the keys expire in 3 + 2 days" ttl_ok 2 5
check "the store has the partition and schema keys" \
  test "$(redis-cli -p "$port" -n 2 exists ts:schema ts:partitions)" = 2
finish

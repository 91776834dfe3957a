#!/usr/bin/env bash
# sink_exit.sh - a sink that gives up on events makes the exit status 2,
# each kind of sink on its own (so that no other sink's failure stands in
# for it): stdout on a full device, dir: where no subfolder can be made, a
# redis-stream: with no server, webhook: and each alerting format answered
# 400, exec: with a command that reads nothing; the same sinks delivering
# exit 0. The message says how many events could not be delivered.
# A webhook whose server is down is not giving up: its events wait in
# --spool-dir (exit 0, the message names the spool) and the next start,
# reading nothing, sends them once the server is up.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
receiver="python3 $TS_SOURCE_DIR/bench/receiver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 3 --rate 10 --regions 1 \
  --anomalies 2 --kinds spike --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/ref"
nref=$(wc -l < "$tmp/ref")
check "backfill made insights ($nref)" test "$nref" -ge 2
# a folder dir: can open, where no subfolder can be made
mkdir -p "$tmp/blocked"
: > "$tmp/blocked/AWSLogs"

rm -f "$tmp/rx.port"
$receiver --port-file "$tmp/rx.port" --log "$tmp/rx.log" --control "$tmp/rx.ctl" &
rx_pid=$!
for i in $(seq 1 100); do [ -s "$tmp/rx.port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$tmp/rx.port")"
port=$((20000 + RANDOM % 20000))

# gives_up NAME SINK [OPTIONS...]: alone, SINK gives up on every event: exit 2
n=0
gives_up() {
  local name=$1 sink=$2 rc=0
  shift 2
  n=$((n + 1))
  "$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool$n" --out "$sink" "$@" "$logs" \
    > "$tmp/o$n" 2> "$tmp/e$n" || rc=$?
  check "$name gives up: exit 2 (got $rc)" test "$rc" = 2
  check "$name gives up: the count is said" \
    grep -q "$nref insight events could not be delivered: exit status 2" "$tmp/e$n"
}
# delivers NAME SINK: alone, SINK delivers every event: exit 0
delivers() {
  local name=$1 sink=$2 rc=0
  n=$((n + 1))
  "$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool$n" --out "$sink" "$logs" \
    > "$tmp/o$n" 2> "$tmp/e$n" || rc=$?
  check "$name delivers: exit 0 (got $rc)" test "$rc" = 0
}

rc=0
"$TRAILSIGHT" backfill -q --out - "$logs" > /dev/full 2> "$tmp/full.err" || rc=$?
check "stdout on a full device: exit 2 (got $rc)" test "$rc" = 2
gives_up "dir:" "dir:$tmp/blocked"
delivers "dir:" "dir:$tmp/out"
gives_up "redis-stream:" "redis-stream:redis://127.0.0.1:$port#ins"
gives_up "exec:" "exec:exit 0"
delivers "exec:" "exec:cat > '$tmp/exec.out'"
echo reject > "$tmp/rx.ctl"
for kind in webhook alertmanager slack eventbridge; do
  gives_up "$kind: (400)" "$kind:$url/x"
done
gives_up "pagerduty: (400)" "pagerduty:KEY@$url/x"
echo ok > "$tmp/rx.ctl"
for kind in webhook slack eventbridge; do
  delivers "$kind:" "$kind:$url/x"
done
kill "$rx_pid"; wait "$rx_pid" 2>/dev/null || true

# a webhook whose server is down: spooled, then sent by the next start
rc=0
"$TRAILSIGHT" backfill --spool-dir "$tmp/spoolw" --out "webhook:http://127.0.0.1:$port/w" "$logs" \
  > /dev/null 2> "$tmp/ew" || rc=$?
check "webhook down: exit 0, nothing given up (got $rc)" test "$rc" = 0
check "webhook down: the message names the spool" \
  grep -q "$nref events left in spool $tmp/spoolw/webhook-[0-9a-f]*, to be resent at the next start" "$tmp/ew"
check "webhook down: one spool file per event" \
  test "$(find "$tmp/spoolw" -name '[0-9]*.json' | wc -l)" = "$nref"
: > "$tmp/rx2.log"
rm -f "$tmp/rx.port"
$receiver --port "$port" --port-file "$tmp/rx.port" --log "$tmp/rx2.log" &
rx_pid=$!
for i in $(seq 1 100); do [ -s "$tmp/rx.port" ] && break; sleep 0.1; done
mkdir -p "$tmp/nothing"
rc=0
"$TRAILSIGHT" backfill -q --spool-dir "$tmp/spoolw" --out "webhook:http://127.0.0.1:$port/w" \
  "$tmp/nothing" > /dev/null 2> "$tmp/ew2" || rc=$?
check "the next start: exit 0 (got $rc)" test "$rc" = 0
check "the next start sent the spooled events, in order" \
  cmp <(cut -d" " -f3- "$tmp/rx2.log" | jq -c .) <(jq -c . "$tmp/ref")
check "the next start emptied the spool" test -z "$(find "$tmp/spoolw" -name '[0-9]*.json')"
kill "$rx_pid"; wait "$rx_pid" 2>/dev/null || true
finish

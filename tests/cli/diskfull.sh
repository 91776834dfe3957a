#!/usr/bin/env bash
# diskfull.sh - the sinks on a full disk, a real one: a small tmpfs mounted
# by the test in a private mount namespace (unshare -m; needs root or
# CAP_SYS_ADMIN, else the test reports SKIP, exit 77, loudly).
#  - backfill with dir: on the full disk, a failing webhook with its spool
#    on it, a redis-stream: sink with no server: every event still reaches
#    stdout; exit 2; each failure logged once with the path and the reason;
#    each sink's events given up on counted in one message; no temporary
#    file left; dir: alone on the full disk: exit 2 too;
#  - backfill with --sink-queue 2: the webhook's memory queue cap has its
#    own error, logged once, then a count; stdout on /dev/full: exit 2;
#  - stream with dir: and the webhook spool on the full disk and the
#    endpoint down, then space freed, then the endpoint back: the events
#    wait, then every one is written once to dir: and arrives once, in
#    order, at the endpoint; exit 0.
if [ -z "${TS_IN_MOUNT_NS:-}" ]; then
  if ! unshare -m true 2>/dev/null; then
    echo "SKIP: cannot make a mount namespace (unshare -m): run as root" >&2
    exit 77
  fi
  TS_IN_MOUNT_NS=1 exec unshare -m bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"
receiver="python3 $TS_SOURCE_DIR/bench/receiver.py"

fs=$tmp/fs
mkdir -p "$fs"
if ! mount -t tmpfs -o size=512k,mode=0755 tmpfs "$fs"; then
  echo "SKIP: cannot mount a tmpfs on $fs (needs root or CAP_SYS_ADMIN)" >&2
  exit 77
fi
fill() { dd if=/dev/zero of="$fs/fill" bs=4k 2>/dev/null || true; }
unfill() { rm -f "$fs/fill"; }
check "the test filesystem is full once filled" bash -c \
  "dd if=/dev/zero of='$fs/probe' bs=4k 2>/dev/null; ! dd if=/dev/zero of='$fs/x' bs=4k count=1 2>/dev/null"
rm -f "$fs/probe" "$fs/x"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 20 --rate 40 --regions 2 \
  --anomalies 6 --kinds spike,error --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/ref"
nref=$(wc -l < "$tmp/ref")
check "backfill made several insights ($nref)" test "$nref" -ge 4
ids() { jq -r .eventID "$@" | LC_ALL=C sort; }
ids "$tmp/ref" > "$tmp/ref.ids"

# receiver_start NAME: a receiver answering as $tmp/NAME.ctl says; sets rx_pid, rx_port
receiver_start() {
  rm -f "$tmp/$1.port"
  $receiver --port-file "$tmp/$1.port" --log "$tmp/$1.log" --control "$tmp/$1.ctl" &
  rx_pid=$!
  local i
  for i in $(seq 1 100); do [ -s "$tmp/$1.port" ] && break; sleep 0.1; done
  rx_port=$(cat "$tmp/$1.port")
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
  local n=$(($1 * 10)) i
  shift
  for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  echo "timed out: $*" >&2
  return 1
}
lines_at_least() { [ "$(cat "$2" 2>/dev/null | wc -l)" -ge "$1" ]; }
# the eventIDs of every record in the CloudTrail-Insight files under $1
dir_ids() {
  find "$1" -name '*.json.gz' -print0 | xargs -0 -r zcat | jq -r '.Records[].eventID' |
    LC_ALL=C sort
}

# 1. backfill, every sink kind failing: dir: on the full disk, a webhook
# failing with its spool on the full disk, a redis-stream with no server
echo error > "$tmp/rx.ctl"
receiver_start rx
hook="webhook:http://127.0.0.1:$rx_port/hook"
hookname="webhook:http://127.0.0.1:$rx_port/…" # as logged: the path left out
port=$((20000 + RANDOM % 20000))
mkdir -p "$fs/out1" "$fs/spool1"
fill
rc=0
"$TRAILSIGHT" backfill --out - --out "dir:$fs/out1" --out "$hook" --spool-dir "$fs/spool1" \
  --out "redis-stream:redis://127.0.0.1:$port#ins" "$tmp/c/AWSLogs" > "$tmp/b1.out" \
  2> "$tmp/b1.err" || rc=$?
check "backfill, sinks failing: exit 2 (got $rc)" test "$rc" = 2
check "backfill, sinks failing: stdout still has every event" \
  cmp <(ids "$tmp/b1.out") "$tmp/ref.ids"
check "dir: the failure names the path and the reason" \
  grep -q "cannot write '$fs/out1/AWSLogs/.*': No space left on device" "$tmp/b1.err"
check "dir: the failure is logged once" \
  test "$(grep -c "dir:$fs/out1: .*holding events and retrying" "$tmp/b1.err")" = 1
check "dir: the events given up on are counted in one message" \
  grep -q "sink dir:$fs/out1: $nref of $nref events given up on" "$tmp/b1.err"
check "dir: no file and no temporary file left" test -z "$(find "$fs/out1" -type f)"
check "webhook: the spool failure names the spool file and the reason" \
  grep -q "cannot write spool file '$fs/spool1/webhook-[0-9a-f]*/[0-9]*.json': No space left on device" "$tmp/b1.err"
check "webhook: the spool failure is logged once" \
  test "$(grep -c 'holding events in memory' "$tmp/b1.err")" = 1
check "webhook: the events left in memory are given up on at the end" \
  grep -q "dropped $nref events: still in memory at the end of the run" "$tmp/b1.err"
check "redis-stream: the events are given up on" \
  grep -q "sink redis-stream:redis://127.0.0.1:$port/0#ins: $nref of $nref events given up on" "$tmp/b1.err"
check "exit 2 is explained" grep -q "$((3 * nref)) insight events could not be delivered: exit status 2" "$tmp/b1.err"

# 1b. dir: alone on the full disk (no other sink failing to stand in for
# it): exit 2, every event counted as given up on
mkdir -p "$fs/out1b"
rc=0
"$TRAILSIGHT" backfill -q --out "dir:$fs/out1b" "$tmp/c/AWSLogs" 2> "$tmp/b1b.err" || rc=$?
check "backfill, dir: alone on a full disk: exit 2 (got $rc)" test "$rc" = 2
check "dir: alone: every event given up on" \
  grep -q "$nref insight events could not be delivered: exit status 2" "$tmp/b1b.err"
check "dir: alone: no file left" test -z "$(find "$fs/out1b" -type f)"

# 2. backfill, the webhook's memory queue over --sink-queue 2; stdout on a full device
rc=0
"$TRAILSIGHT" backfill --sink-queue 2 --out - --out "$hook" --spool-dir "$fs/spool1" \
  "$tmp/c/AWSLogs" > /dev/full 2> "$tmp/b2.err" || rc=$?
check "backfill, --sink-queue 2, stdout on /dev/full: exit 2 (got $rc)" test "$rc" = 2
check "webhook: the queue cap has its own error, logged once" \
  test "$(grep -c "wait in memory for spool .*, its cap" "$tmp/b2.err")" = 1
check "webhook: the drops over the cap are counted in one line" \
  grep -q "$hookname: dropped $((nref - 3)) more events for the same reason" "$tmp/b2.err"
check "webhook: every event is accounted for" \
  grep -q "$hookname: $nref of $nref events given up on" "$tmp/b2.err"
check "stdout on /dev/full: the reason is logged once" \
  test "$(grep -c "sink -: dropped 1 event: cannot write: No space left on device" "$tmp/b2.err")" = 1
check "stdout on /dev/full: the drops are counted" \
  grep -q "sink -: $nref of $nref events given up on" "$tmp/b2.err"
unfill
check "the failing receiver accepted nothing" test ! -s "$tmp/rx.log"

# 3. stream: dir: and the webhook spool on the full disk, the endpoint
# down; space comes back while it runs, then the endpoint
mkdir -p "$tmp/w3" "$fs/out3" "$fs/spool3"
fill
"$TRAILSIGHT" stream --watch "$tmp/w3" --idle-timeout 2 --out - --out "dir:$fs/out3" \
  --out "$hook" --spool-dir "$fs/spool3" > "$tmp/s3.out" 2> "$tmp/s3.err" &
pid=$!
$deliver "$tmp/c" "$tmp/w3" > /dev/null
check "stream: every event reaches stdout" wait_for 300 lines_at_least "$nref" "$tmp/s3.out"
check "stream, webhook: the full spool is reported once" \
  test "$(grep -c 'holding events in memory' "$tmp/s3.err")" = 1
check "stream, webhook: nothing in the spool while full" \
  test -z "$(find "$fs/spool3" -name '*.json')"
# a dir: batch is written once a minute old: wait for the first failed write
check "stream, dir: the full disk is reported" \
  wait_for 180 grep -q "dir:$fs/out3: cannot write .*No space left on device" "$tmp/s3.err"
check "stream, dir: nothing written while full" test -z "$(find "$fs/out3" -name '*.json.gz')"
unfill
dir_records() {
  [ "$(find "$fs/out3" -name '*.json.gz' -print0 | xargs -0 -r zcat |
       jq '.Records | length' | awk '{s += $1} END {print s + 0}')" -ge "$nref" ]
}
check "stream, dir: once space is back every event is written" wait_for 180 dir_records
spooled() { [ "$(find "$fs/spool3" -name '[0-9]*.json' | wc -l)" -ge "$nref" ]; }
check "stream, webhook: once space is back the events go to the spool" wait_for 120 spooled
echo ok > "$tmp/rx.ctl"
check "stream, webhook: once the endpoint is back every event arrives" \
  wait_for 180 lines_at_least "$nref" "$tmp/rx.log"
sleep 2
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "stream: exit 0 (got $rc)" test "$rc" = 0
check "stream, dir: each event written once" cmp <(dir_ids "$fs/out3") "$tmp/ref.ids"
check "stream, dir: the failure was logged once" \
  test "$(grep -c "dir:$fs/out3: .*holding events and retrying" "$tmp/s3.err")" = 1
check "stream, dir: the recovery is logged" grep -q "dir:$fs/out3: delivering again" "$tmp/s3.err"
check "stream, webhook: each event arrived once" \
  cmp <(awk '{print $2}' "$tmp/rx.log" | LC_ALL=C sort) "$tmp/ref.ids"
check "stream, webhook: in the order written" \
  cmp <(awk '{print $2}' "$tmp/rx.log") <(jq -r .eventID "$tmp/s3.out")
check "stream, webhook: the spool is empty" test -z "$(find "$fs/spool3" -name '[0-9]*.json')"
check "stream, webhook: the spool recovery is logged" grep -q "spool '.*' written again" "$tmp/s3.err"
kill "$rx_pid"; wait "$rx_pid" 2>/dev/null || true

umount "$fs"
finish

#!/usr/bin/env bash
# sqs.sh - stream --sqs QUEUE_URL against a local S3 (s3rver, from npm, as
# in s3.sh) and a stand-in SQS queue (sqsd.py: the query protocol, SigV4
# checked, visibility timeouts and redelivery as SQS has them), both on
# private loopback ports, and a private redis-server:
#  - notifications of a corpus's log files sent in delivery order, in
#    every shape (S3 event notification direct and through SNS, CloudTrail's
#    notification raw and through SNS, EventBridge Object Created), give
#    exactly the insights of a backfill of the same tree on disk; digests
#    and an Insight file are passed over by key, never fetched; S3's test
#    event is deleted; a body that is no notification and one naming a
#    missing object are reported and left in the queue;
#  - killed with -9 midway and started again after the visibility timeout
#    (the messages it held come back), with the first deletions lost on the
#    way (those messages come back while it runs, their objects already
#    counted): the counts in the store equal a recount of the records (none
#    twice, none lost), and the insights are those of the backfill.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

s3rver_find
if [ -z "$s3rver" ] || ! command -v node >/dev/null || ! command -v curl >/dev/null ||
   ! command -v redis-server >/dev/null; then
  skip "s3rver (npm), node, curl or redis-server is missing: run tools/install-deps.sh"
  finish
fi
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 8 --rate 8 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 6 --file-minutes 60 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" | canon > "$tmp/ref"
check "backfill made insights" test -s "$tmp/ref"

pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cleanup
}
trap stop_all EXIT

s3rver_start "$tmp/s3data" "$tmp/s3.log" || true
port=$s3port
check "s3rver started" test -n "$s3pid"
[ -n "$s3pid" ] || finish
pids+=("$s3pid")
ep=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS || true
check "corpus uploaded" s3_upload "$tmp/c" "$ep/trail/ct"
nlog=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -type f | wc -l)

# sqsd_start NAME [args]: a stand-in queue; sets qurl and sqsd_ep
sqsd_start() {
  local name=$1 i
  shift
  python3 "$TS_SOURCE_DIR/tests/cli/sqsd.py" "$tmp/$name.port" --key S3RVER:S3RVER "$@" \
    > "$tmp/$name.log" 2>&1 &
  pids+=("$!")
  for i in $(seq 1 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
  sqsd_ep=http://127.0.0.1:$(cat "$tmp/$name.port")
  qurl=$sqsd_ep/000000000000/trail
}
qstat() { curl -s "$1/_stats" | jq ".$2"; }
# wait_deleted EP N: until N messages are deleted (3 min at most)
wait_deleted() {
  local i
  for i in $(seq 1 1800); do
    [ "$(qstat "$1" deleted)" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 deletions at $1" >&2
  return 1
}

redis_start "$tmp/r"
store="redis://127.0.0.1:$redis_port"

# 1. every shape, in delivery order: the insights of the backfill
python3 "$TS_SOURCE_DIR/tests/cli/sqs_notes.py" "$tmp/c" trail ct/ extra > "$tmp/notes"
nmsg=$(wc -l < "$tmp/notes")
sqsd_start q1
curl -s --data-binary @"$tmp/notes" "$sqsd_ep/_send"
check "every message queued" test "$(qstat "$sqsd_ep" visible)" = "$nmsg"
m=$(wc -l < "$tmp/s3.log")
"$TRAILSIGHT" stream --sqs "$qurl" --endpoint-url "$ep" --store "$store/1" --idle-timeout 1 \
  --sqs-visibility 4 --stats "$tmp/s1.json" > "$tmp/s1.ndjson" 2> "$tmp/s1.err" &
pid=$!
# all but the two that cannot be processed
check "every other message deleted" wait_deleted "$sqsd_ep" $((nmsg - 2))
sleep 3 # the idle timeout closes the last minutes
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: exit 0 (got $rc)" test "$rc" = 0
check "stream --sqs: the same insights as backfill" cmp <(canon "$tmp/s1.ndjson") "$tmp/ref"
check "every log object read once" test "$(jq .files "$tmp/s1.json")" = "$nlog"
gets=$(tail -n +$((m + 1)) "$tmp/s3.log" | grep -a 'info' | grep -a ' 200 ' | grep -a -o '/ct/AWSLogs/[^ ]*' || true)
check "each log object fetched once (the server's log)" \
  test "$(echo "$gets" | grep -c '/CloudTrail/')" = "$nlog" -a -z "$(echo "$gets" | sort | uniq -d)"
check "digests and the Insight file never fetched" \
  test -z "$(tail -n +$((m + 1)) "$tmp/s3.log" | grep -a -E 'CloudTrail-(Digest|Insight)/')"
check "digests and the Insight file passed over by key" \
  grep -q "CloudTrail-Insight/.*passed over" "$tmp/s1.err"
check "no request with a bad signature" test "$(qstat "$sqsd_ep" bad_signatures)" = 0
check "the body that is no notification reported, left" \
  grep -q "cannot be processed: not a JSON object.*left in the queue" "$tmp/s1.err"
check "the missing object reported, its message left" \
  grep -q "_gone.json.gz.*NoSuchKey.*left in the queue" "$tmp/s1.err"
check "two messages left in the queue" \
  test "$(( $(qstat "$sqsd_ep" visible) + $(qstat "$sqsd_ep" inflight) ))" = 2
check "--stats: messages deleted, left" \
  test "$(jq -c '[.sqs.deleted, (.sqs.left > 1), .sqs.naming_nothing]' "$tmp/s1.json")" = "[$((nmsg - 2)),true,1]"
redis_dump_counts "$redis_port" 1 > "$tmp/counts1"
python3 "$TS_SOURCE_DIR/tools/recount.py" "$tmp/c/AWSLogs" | LC_ALL=C sort > "$tmp/expected"
check "the counts equal the recount" cmp "$tmp/counts1" "$tmp/expected"

# 2. kill -9 midway, restart after the visibility timeout; the first 5
# deletions lost (those messages come back, their objects counted)
python3 "$TS_SOURCE_DIR/tests/cli/sqs_notes.py" "$tmp/c" trail ct/ > "$tmp/notes2"
nmsg=$(wc -l < "$tmp/notes2")
sqsd_start q2 --lose-deletes 5
curl -s --data-binary @"$tmp/notes2" "$sqsd_ep/_send"
"$TRAILSIGHT" stream -q --sqs "$qurl" --endpoint-url "$ep" --store "$store/2" --idle-timeout 1 \
  --sqs-visibility 2 > "$tmp/k1.ndjson" 2> "$tmp/k1.err" &
pid=$!
wait_deleted "$sqsd_ep" $((nmsg / 2)) || true
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
inflight=$(qstat "$sqsd_ep" inflight)
echo "messages in flight at the kill: $inflight"
sleep 2.5 # their visibility timeout passes: they come back first
"$TRAILSIGHT" stream -q --sqs "$qurl" --endpoint-url "$ep" --store "$store/2" --idle-timeout 1 \
  --sqs-visibility 2 --stats "$tmp/k2.json" > "$tmp/k2.ndjson" 2> "$tmp/k2.err" &
pid=$!
check "after the restart every message deleted" wait_deleted "$sqsd_ep" "$nmsg"
sleep 3
kill -TERM "$pid"
wait "$pid" || true
check "the queue is empty" test "$(( $(qstat "$sqsd_ep" visible) + $(qstat "$sqsd_ep" inflight) ))" = 0
lost=$(awk '$1 == "DeleteMessage(lost)" {print $2}' "$tmp/q2.log" | sort)
again=$(awk '$1 == "DeleteMessage" {print $2}' "$tmp/q2.log" | sort | comm -12 - <(echo "$lost"))
check "the 5 messages whose deletion was lost came back and were deleted" \
  test "$(echo "$lost" | wc -l)" = 5 -a "$again" = "$lost"
redis_dump_counts "$redis_port" 2 > "$tmp/counts2"
check "kill -9, redelivery and restart: counts equal the recount (none twice, none lost)" \
  cmp "$tmp/counts2" "$tmp/expected"
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/k"
check "kill -9 and restart: no event twice" test -z "$(uniq -d "$tmp/k")"
check "kill -9 and restart: the same insights as backfill" cmp "$tmp/k" "$tmp/ref"

# 3. objects read slowly (a proxy holds each chunk from S3 for 0.4 s): the
# messages' visibility (2 s) is extended while they are read, and none is
# received twice
cat > "$tmp/slow.py" <<'PY'
import socket, sys, threading, time
up = int(sys.argv[2])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
open(sys.argv[1], "w").write(str(ls.getsockname()[1]))
def pipe(a, b, delay):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            time.sleep(delay)
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=pipe, args=(c, u, 0), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, 0.4), daemon=True).start()
PY
python3 "$tmp/slow.py" "$tmp/slow.port" "$port" &
pids+=("$!")
for i in $(seq 1 50); do [ -s "$tmp/slow.port" ] && break; sleep 0.1; done
head -n 3 "$tmp/notes2" > "$tmp/notes3"
sqsd_start q3
curl -s --data-binary @"$tmp/notes3" "$sqsd_ep/_send"
"$TRAILSIGHT" stream -q --sqs "$qurl" --endpoint-url "http://127.0.0.1:$(cat "$tmp/slow.port")" \
  --s3-connections 1 --sqs-visibility 2 --idle-timeout 60 > /dev/null 2> "$tmp/v.err" &
pid=$!
check "slow objects: every message deleted" wait_deleted "$sqsd_ep" 3
kill -TERM "$pid"
wait "$pid" || true
check "slow objects: visibility extended while reading" test "$(qstat "$sqsd_ep" extends)" -ge 1
check "slow objects: no message received twice" test "$(qstat "$sqsd_ep" received)" = 3

# 4. errors a user can act on
set +e
"$TRAILSIGHT" stream -q --sqs "$sqsd_ep/000000000000/nosuch" --endpoint-url "$ep" > /dev/null 2> "$tmp/e1"
rc1=$?
AWS_SECRET_ACCESS_KEY=wrong "$TRAILSIGHT" stream -q --sqs "$qurl" --endpoint-url "$ep" > /dev/null 2> "$tmp/e2"
rc2=$?
"$TRAILSIGHT" stream -q --sqs "not-a-url" > /dev/null 2> "$tmp/e3"
rc3=$?
set -e
check "a queue that does not exist: exit 2, named" test "$rc1" = 2 -a -n "$(grep 'nosuch.*no such queue' "$tmp/e1")"
check "a wrong secret: exit 2, SQS's reason" test "$rc2" = 2 -a -n "$(grep 'SignatureDoesNotMatch' "$tmp/e2")"
check "not a queue URL: exit 1" test "$rc3" = 1 -a -n "$(grep 'expected a queue URL' "$tmp/e3")"
finish

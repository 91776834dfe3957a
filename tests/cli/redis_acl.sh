#!/usr/bin/env bash
# redis_acl.sh - trailsight works as the least-privileged Redis user that
# README.md documents (the ACL SETUSER line is read from README.md):
#  - a backfill into db 1, its insights to a redis-stream sink: the
#    insights of a memory-store run, in the store and in the stream;
#  - a stream run from a Redis Stream source (consumer group) into db 2:
#    every record counted and acknowledged;
#  - users lacking one command the store or the source needs (hset,
#    evalsha, xreadgroup) are refused with exit 2 and a message naming
#    the command (NOPERM) and pointing at the README line.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 8 --rate 20 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/mem.ndjson"
check "insights written" test -s "$tmp/mem.ndjson"

line=$(grep -m1 '^ACL SETUSER trailsight ' "$TS_SOURCE_DIR/README.md")
check "README.md has the ACL SETUSER line" test -n "$line"
redis_start "$tmp/r"
port=$redis_port
# setuser NAME [EXTRA...]: the README's rules for user NAME (password pw)
setuser() {
  local name=$1
  shift
  # shellcheck disable=SC2086
  set -- ${line#ACL SETUSER trailsight } "$@"
  redis-cli -p "$port" acl setuser "$name" "${@/#>CHANGE-ME/>pw}" > "$tmp/acl.out"
  grep -q OK "$tmp/acl.out"
}
check "the README line is accepted by redis-server" setuser trailsight
check "the user cannot run what it does not need" \
  bash -c "redis-cli -p $port --user trailsight --pass pw --no-auth-warning flushall | grep -q NOPERM"
base="redis://trailsight:pw@127.0.0.1:$port"

# 1. a backfill, its insights to a Redis Stream
t0=$SECONDS
set +e
"$TRAILSIGHT" backfill --store "$base/1" --out - --out "redis-stream:$base/1#insights" \
  "$logs" > "$tmp/bf.ndjson" 2> "$tmp/bf.err"
rc=$?
set -e
echo "backfill as the ACL user: $((SECONDS - t0)) s" >&2
check "backfill as the ACL user: exit 0 (got $rc)" test "$rc" = 0
check "backfill: no permission refused" bash -c "! grep -q NOPERM '$tmp/bf.err'"
check "backfill: the insights of the memory store" cmp "$tmp/bf.ndjson" "$tmp/mem.ndjson"
check "backfill: each insight in the sink's stream" \
  test "$(redis-cli -p "$port" -n 1 xlen insights)" = "$(wc -l < "$tmp/mem.ndjson")"
check "backfill: counts under ts:* in db 1" \
  bash -c "redis-cli -p $port -n 1 --scan --pattern 'ts:{*}:c:*' | grep -q ."

# 2. a stream from a Redis Stream source (the last day's records)
python3 - "$tmp/c" > "$tmp/xadd.resp" <<'PY'
import gzip, json, os, sys
sys.path.insert(0, os.environ["TS_SOURCE_DIR"] + "/tests/cli")
from deliver import delivery_order
out = sys.stdout.buffer
for rel in delivery_order(sys.argv[1]):
    with gzip.open(os.path.join(sys.argv[1], rel), "rt") as f:
        for r in json.load(f)["Records"]:
            if r["eventTime"] < "2026-01-12":
                continue
            rec = json.dumps(r, separators=(",", ":")).encode()
            args = [b"XADD", b"cloudtrail", b"*", b"record", rec]
            out.write(b"*%d\r\n" % len(args))
            for a in args:
                out.write(b"$%d\r\n%s\r\n" % (len(a), a))
PY
redis-cli -p "$port" -n 2 --pipe < "$tmp/xadd.resp" > /dev/null
nrec=$(redis-cli -p "$port" -n 2 xlen cloudtrail)
check "the source stream holds records ($nrec)" test "$nrec" -gt 1000
t0=$SECONDS
"$TRAILSIGHT" stream --redis-stream "$base/2#cloudtrail" --store "$base/2" --idle-timeout 2 \
  --stats "$tmp/st.json" > "$tmp/st.ndjson" 2> "$tmp/st.err" &
pid=$!
for i in $(seq 1 600); do
  [ "$(redis-cli -p "$port" -n 2 xinfo groups cloudtrail | awk 'f {print; exit} /^lag$/ {f = 1}')" = 0 ] &&
    [ "$(redis-cli -p "$port" -n 2 xpending cloudtrail trailsight | head -1)" = 0 ] && break
  sleep 0.1
done
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
echo "stream as the ACL user: $((SECONDS - t0)) s" >&2
check "stream as the ACL user: exit 0 (got $rc)" test "$rc" = 0
check "stream: no permission refused" bash -c "! grep -q NOPERM '$tmp/st.err'"
check "stream: every record read" test "$(jq .records_read "$tmp/st.json")" = "$nrec"
check "stream: every entry acknowledged" \
  test "$(redis-cli -p "$port" -n 2 xpending cloudtrail trailsight | head -1)" = 0
check "stream: state saved under ts:*" \
  bash -c "redis-cli -p $port -n 2 --scan --pattern 'ts:{*}:state' | grep -q ."

# 3. one needed command missing
lacking() { # lacking CMD ARGS...: run trailsight ARGS as a user without CMD
  local cmd=$1
  shift
  setuser "no-$cmd" "-$cmd"
  set +e
  "$TRAILSIGHT" "$@" > "$tmp/no-$cmd.out" 2> "$tmp/no-$cmd.err"
  rc=$?
  set -e
  check "without $cmd: exit 2 (got $rc)" test "$rc" = 2
  check "without $cmd: NOPERM naming '$cmd'" \
    bash -c "grep -q NOPERM '$tmp/no-$cmd.err' && grep -qi \"'$cmd'\" '$tmp/no-$cmd.err'"
  check "without $cmd: points at the README line" grep -q "ACL SETUSER" "$tmp/no-$cmd.err"
}
nobase() { echo "redis://no-$1:pw@127.0.0.1:$port"; }
lacking hset backfill --store "$(nobase hset)/3" "$logs"
lacking evalsha backfill --store "$(nobase evalsha)/3" "$logs"
lacking append backfill --store "$(nobase append)/3" "$logs"
lacking xreadgroup stream --redis-stream "$(nobase xreadgroup)/2#cloudtrail" \
  --store "$(nobase xreadgroup)/2" --idle-timeout 2
finish

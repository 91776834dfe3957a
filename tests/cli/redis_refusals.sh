#!/usr/bin/env bash
# redis_refusals.sh - what Redis refuses, and state it cannot decode, stop a
# run cleanly with exit 2 and a message that says what to do:
#  - maxmemory reached (noeviction): -OOM names maxmemory; nothing is
#    recorded as done that was not stored, so a run after raising
#    maxmemory leaves exactly the recounted counts and the insights of a
#    memory-store run;
#  - a read-only replica: -READONLY, pointing at the primary;
#  - a partition's saved state overwritten with garbage or truncated: the
#    message names the partition and the key; deleting the key (the
#    documented recovery) lets the next run go on.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
recount="$TS_SOURCE_DIR/tools/recount.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 8 --rate 20 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
acct=$(jq -r '.accounts[0]' "$tmp/c/labels.json")
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/mem.ndjson"
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected"
check "insights written" test -s "$tmp/mem.ndjson"

# runs NAME URL: a backfill; its exit status in $rc
runs() {
  set +e
  "$TRAILSIGHT" backfill --threads 1 --checkpoint-cells 3000 --store "$2" "$logs" \
    > "$tmp/$1.ndjson" 2> "$tmp/$1.err"
  rc=$?
  set -e
}
no_crash() { ! grep -qE "Sanitizer|runtime error|Segmentation" "$tmp/$1.err"; }

# 1. OOM mid-run
redis_start "$tmp/r1"
p1=$redis_port
url="redis://127.0.0.1:$p1"
used=$(redis-cli -p "$p1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')
redis-cli -p "$p1" config set maxmemory-policy noeviction > /dev/null
redis-cli -p "$p1" config set maxmemory $((used + 2000000)) > /dev/null
t0=$SECONDS
runs oom "$url"
echo "oom: run took $((SECONDS - t0)) s" >&2
check "oom: exit 2 (got $rc)" test "$rc" = 2
check "oom: the message names OOM and maxmemory" \
  bash -c "grep -q 'OOM' '$tmp/oom.err' && grep -q 'raise maxmemory' '$tmp/oom.err'"
check "oom: and the server" grep -q "127.0.0.1:$p1" "$tmp/oom.err"
check "oom: no crash" no_crash oom
check "oom: no insight written" test ! -s "$tmp/oom.ndjson"
redis-cli -p "$p1" config set maxmemory 0 > /dev/null
runs oom2 "$url"
check "oom: after raising maxmemory, the next run exits 0 (got $rc)" test "$rc" = 0
check "oom: it resumed from what was stored" grep -q "already counted" "$tmp/oom2.err"
check "oom: the insights of the memory store" cmp "$tmp/oom2.ndjson" "$tmp/mem.ndjson"
redis_dump_counts "$p1" 0 > "$tmp/oom.dump"
check "oom: counts equal the recount (nothing marked done unstored)" \
  cmp "$tmp/oom.dump" "$tmp/expected"

# 2. a read-only replica of it
redis_start "$tmp/r2" --replicaof 127.0.0.1 "$p1"
runs ro "redis://127.0.0.1:$redis_port"
check "readonly: exit 2 (got $rc)" test "$rc" = 2
check "readonly: the message says READONLY and to use the primary" \
  bash -c "grep -q READONLY '$tmp/ro.err' && grep -q 'primary' '$tmp/ro.err'"
check "readonly: no crash" no_crash ro

# 3. a corrupt saved state (the store of step 1 has every file done: a run
# reads none and restores every partition at its end)
key="ts:{$acct:us-east-1}:state"
redis-cli -p "$p1" copy "$key" "keep:state" > /dev/null
len=$(redis-cli -p "$p1" strlen "$key")
check "a saved state to corrupt ($len bytes)" test "$len" -gt 100
i=0
for cut in garbage 1 4 9 $((len / 3)) $((len / 2)) $((len - 1)); do
  i=$((i + 1))
  if [ "$cut" = garbage ]; then
    redis-cli -p "$p1" set "$key" "not a trailsight state at all" > /dev/null
  else
    redis-cli -p "$p1" eval "return redis.call('SET', KEYS[1],
      string.sub(redis.call('GET', KEYS[2]), 1, tonumber(ARGV[1])))" 2 "$key" keep:state "$cut" \
      > /dev/null
  fi
  runs "bad$i" "$url"
  check "state $cut: exit 2 (got $rc)" test "$rc" = 2
  check "state $cut: names the partition and the key" \
    bash -c "grep -qF '$acct/us-east-1' '$tmp/bad$i.err' && grep -qF '$key' '$tmp/bad$i.err'"
  check "state $cut: says how to recover" grep -qF "redis-cli DEL '$key'" "$tmp/bad$i.err"
  check "state $cut: no crash" no_crash "bad$i"
done
redis-cli -p "$p1" del "$key" > /dev/null
runs recovered "$url"
check "after deleting the key, the run exits 0 (got $rc)" test "$rc" = 0
finish

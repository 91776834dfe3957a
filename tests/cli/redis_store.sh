#!/usr/bin/env bash
# redis_store.sh - backfill with --store redis:// against a private
# redis-server prints the same insights, byte for byte, as the memory store;
# an unreachable Redis is exit 2 with the address named.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
redis_start "$tmp/r"
port=$redis_port

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/mem.ndjson"
"$TRAILSIGHT" backfill -q --store "redis://127.0.0.1:$port/2" "$tmp/c/AWSLogs" > "$tmp/redis.ndjson"
check "insights written" test -s "$tmp/mem.ndjson"
check "redis store gives byte-identical insights" cmp "$tmp/mem.ndjson" "$tmp/redis.ndjson"
check "counts are in db 2 under the documented keys" \
  bash -c "redis-cli -p $port -n 2 --scan --pattern 'ts:{*}:c:*:m:*:calls' | grep -q ."
check "nothing in db 0" test "$(redis-cli -p "$port" -n 0 dbsize)" = 0
key=$(redis-cli -p "$port" -n 2 --scan --pattern 'ts:{*}:c:*:calls' | awk 'NR == 1')
check "keys expire" test "$(redis-cli -p "$port" -n 2 ttl "$key")" -gt 0
calls=$(redis-cli -p "$port" -n 2 info commandstats | awk -F'[=,:]' '/^cmdstat_/ {s+=$3} END {print s}')
records=$(jq .records "$tmp/c/labels.json")
check "under 0.1 Redis commands per record ($calls for $records)" \
  test "$((calls * 10))" -lt "$records"

closed=$((port + 1))
set +e
"$TRAILSIGHT" backfill --store "redis://127.0.0.1:$closed" "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/err"
rc=$?
set -e
check "unreachable Redis exits 2 (got $rc)" test "$rc" = 2
check "the message names the address" grep -q "127.0.0.1:$closed" "$tmp/err"
finish

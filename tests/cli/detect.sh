#!/usr/bin/env bash
# detect.sh - `trailsight detect`, re-detection over a Redis store's counts,
# against a private redis-server filled by a backfill of the golden
# spike-error corpus:
#  - detect prints, byte for byte, what a memory-store backfill of the same
#    files prints (attributions and trailsightContext's decision times
#    included), with the default profile, with `sensitive`, and with a
#    profile of its own that finds 10 times as many insights (3-minute
#    insight windows); mark rules act as in a backfill (the marked events
#    compared sorted: they are written as made);
#  - --since and --until: a range that leaves an insight's Start out prints
#    nothing of it, one that holds it prints its events as the backfill did;
#  - a second backfill of the same files counts nothing, prints the first
#    one's insights byte for byte, and sends fewer than 2 Redis commands per
#    file (INFO commandstats after CONFIG RESETSTAT);
#  - no Redis store: exit 1 with a message; an empty store: no output, exit
#    0, "0 partitions, 0 series"; options that act on records: exit 1.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
unset TRAILSIGHT_STORE

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
cat > "$tmp/eager.profile" <<'EOF'
name = eager
p_start = 1e-3
p_continue = 0.05
windows = 1, 2, 5
min_duration = 1
end_after = 3
cooldown = 10
min_count = 3
min_ratio = 1.2
drop_min_rate = 2
drop_max_ratio = 0.5
min_errors = 2
error_min_fraction = 0.02
error_min_ratio = 1.5
insight_minutes = 3
EOF
cat > "$tmp/mark.rules" <<'EOF'
rule = secrets-watched-elsewhere
action = mark
eventSource = secretsmanager.amazonaws.com
EOF

# the references: memory-store backfills
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/mem.ndjson"
"$TRAILSIGHT" backfill -q --model sensitive "$logs" > "$tmp/mem-sensitive.ndjson"
"$TRAILSIGHT" backfill -q --model "$tmp/eager.profile" "$logs" > "$tmp/mem-eager.ndjson"
"$TRAILSIGHT" backfill -q --rules "$tmp/mark.rules" --marked-out "$tmp/mem-marked.ndjson" \
  "$logs" > "$tmp/mem-rules.ndjson"
n=$(wc -l < "$tmp/mem.ndjson")
ne=$(wc -l < "$tmp/mem-eager.ndjson")
check "the backfill finds insights ($n)" test "$n" -ge 4
check "the eager profile finds many more ($ne)" test "$ne" -ge $((5 * n))
check "a mark rule holds some of them" test -s "$tmp/mem-marked.ndjson"

redis_start "$tmp/r"
url="redis://127.0.0.1:$redis_port/1"
"$TRAILSIGHT" backfill -q --store "$url" "$logs" > "$tmp/first.ndjson"
check "redis backfill: the memory store's insights" cmp "$tmp/first.ndjson" "$tmp/mem.ndjson"

# 1. the same events as the backfill, with any profile and rules
"$TRAILSIGHT" detect --store "$url" > "$tmp/det.ndjson" 2> "$tmp/det.err"
check "detect: the backfill's insights byte for byte" cmp "$tmp/det.ndjson" "$tmp/mem.ndjson"
check "detect: attributions of the insight window are there" \
  test "$(jq '.insightDetails.insightContext.attributions[0].insight | length' "$tmp/det.ndjson" | sort -n | head -1)" -gt 0
check "detect: the summary names the partitions and series" \
  grep -q "detect: 2 partitions, 24 series" "$tmp/det.err"
"$TRAILSIGHT" detect -q --model sensitive --store "$url" > "$tmp/det-sensitive.ndjson"
check "detect --model sensitive: the sensitive backfill's" \
  cmp "$tmp/det-sensitive.ndjson" "$tmp/mem-sensitive.ndjson"
"$TRAILSIGHT" detect -q --model "$tmp/eager.profile" --store "$url" > "$tmp/det-eager.ndjson"
check "detect --model eager.profile: that backfill's $ne events" \
  cmp "$tmp/det-eager.ndjson" "$tmp/mem-eager.ndjson"
"$TRAILSIGHT" detect -q --rules "$tmp/mark.rules" --marked-out "$tmp/det-marked.ndjson" \
  --store "$url" > "$tmp/det-rules.ndjson"
check "detect --rules: the same events on stdout" cmp "$tmp/det-rules.ndjson" "$tmp/mem-rules.ndjson"
# marked events are written as made, not sorted: the same lines, in any order
check "detect --rules: the same marked events" \
  cmp <(LC_ALL=C sort "$tmp/det-marked.ndjson") <(LC_ALL=C sort "$tmp/mem-marked.ndjson")
redis_dump_counts "$redis_port" 1 > "$tmp/dump-after"
"$TRAILSIGHT" backfill -q --force --store "redis://127.0.0.1:$redis_port/3" "$logs" > /dev/null
redis_dump_counts "$redis_port" 3 > "$tmp/dump-ref"
check "detect writes no count into the store" cmp "$tmp/dump-after" "$tmp/dump-ref"

# 2. the range: the first insight (by Start) in and out
first_id=$(jq -r 'select(.insightDetails.state == "Start") | .sharedEventID' "$tmp/mem.ndjson" | head -1)
first_start=$(jq -r "select(.sharedEventID == \"$first_id\" and .insightDetails.state == \"Start\") | .eventTime" "$tmp/mem.ndjson")
first_end=$(jq -r "select(.sharedEventID == \"$first_id\" and .insightDetails.state == \"End\") | .eventTime" "$tmp/mem.ndjson")
start_min=${first_start:0:16}Z   # YYYY-MM-DDTHH:MMZ
after_start=$(date -u -d "$first_start + 1 minute" +%Y-%m-%dT%H:%MZ)
after_end=$(date -u -d "$first_end + 10 minutes" +%Y-%m-%dT%H:%MZ)
"$TRAILSIGHT" detect -q --store "$url" --until "$start_min" > "$tmp/until.ndjson"
check "--until its Start: nothing of the first insight" bash -c "! grep -q '$first_id' '$tmp/until.ndjson'"
"$TRAILSIGHT" detect -q --store "$url" --since "$after_start" > "$tmp/since.ndjson"
check "--since after its Start: nothing of it" bash -c "! grep -q '$first_id' '$tmp/since.ndjson'"
check "--since after its Start: the later insights, as the backfill wrote them" \
  cmp "$tmp/since.ndjson" <(grep -v "$first_id" "$tmp/mem.ndjson")
check "--since: the later insights are there" test -s "$tmp/since.ndjson"
"$TRAILSIGHT" detect -q --store "$url" --since "$start_min" --until "$after_end" > "$tmp/range.ndjson"
check "a range holding it: its Start and End as the backfill wrote them" \
  cmp <(grep "$first_id" "$tmp/range.ndjson") <(grep "$first_id" "$tmp/mem.ndjson")
check "a range holding it: its two events" test "$(grep -c "$first_id" "$tmp/range.ndjson")" = 2

# 3. a second backfill of the same files
files=$(jq .files "$tmp/c/labels.json")
redis-cli -p "$redis_port" config resetstat > /dev/null
"$TRAILSIGHT" backfill --stats "$tmp/second.json" --store "$url" "$logs" > "$tmp/second.ndjson" 2> "$tmp/second.err"
calls=$(redis-cli -p "$redis_port" info commandstats |
  awk -F'[=,:]' '/^cmdstat_/ && $1 != "cmdstat_info" && $1 !~ /resetstat/ {s += $3} END {print s}')
check "second backfill: no file read" test "$(jq .files "$tmp/second.json")" = 0
check "second backfill: all $files files already counted" \
  test "$(jq .files_already_counted "$tmp/second.json")" = "$files"
check "second backfill: the first one's insights byte for byte" cmp "$tmp/second.ndjson" "$tmp/mem.ndjson"
echo "second backfill: $calls Redis commands for $files files"
check "second backfill: fewer than 2 Redis commands per file ($calls for $files)" \
  test "$calls" -lt $((2 * files))
redis_dump_counts "$redis_port" 1 > "$tmp/dump-second"
check "second backfill: the counts unchanged" cmp "$tmp/dump-second" "$tmp/dump-after"

# 4. errors and the empty store
set +e
"$TRAILSIGHT" detect > /dev/null 2> "$tmp/nostore.err"
rc1=$?
"$TRAILSIGHT" detect --store mem > /dev/null 2> "$tmp/mem.err"
rc2=$?
"$TRAILSIGHT" detect --store "$url" --order any > /dev/null 2> "$tmp/order.err"
rc3=$?
"$TRAILSIGHT" detect --store "$url" "$logs" > /dev/null 2> "$tmp/path.err"
rc4=$?
"$TRAILSIGHT" detect --store "redis://127.0.0.1:$redis_port/5" > "$tmp/empty.ndjson" 2> "$tmp/empty.err"
rc5=$?
"$TRAILSIGHT" detect --store "redis://127.0.0.1:$((redis_port + 1))" > /dev/null 2> "$tmp/down.err"
rc6=$?
set -e
check "no store: exit 1 (got $rc1)" test "$rc1" = 1
check "no store: says detect needs a Redis store" grep -q "detect: needs a Redis store" "$tmp/nostore.err"
check "--store mem: exit 1 (got $rc2)" test "$rc2" = 1
check "--store mem: says why" grep -q "memory store lives only within a run" "$tmp/mem.err"
check "--order: exit 1 (got $rc3), it acts on records" test "$rc3" = 1
check "--order: named" grep -q -- "--order is for backfill or stream" "$tmp/order.err"
check "a PATH: exit 1 (got $rc4)" test "$rc4" = 1
check "empty store: exit 0 (got $rc5)" test "$rc5" = 0
check "empty store: no output" test ! -s "$tmp/empty.ndjson"
check "empty store: 0 partitions, 0 series" grep -q "detect: 0 partitions, 0 series" "$tmp/empty.err"
check "unreachable Redis: exit 2 (got $rc6)" test "$rc6" = 2
check "detect -h: its own usage" bash -c "'$TRAILSIGHT' detect -h | grep -q -- '--since TIME'"
check "trailsight --help names detect" bash -c "'$TRAILSIGHT' --help | grep -q 'trailsight detect'"
finish

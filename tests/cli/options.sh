#!/usr/bin/env bash
# options.sh - a small hand-made corpus for the classification rules and
# the options that change what is counted, each checked against the counts
# it must give in a Redis store (cells "KEY FIELD COUNT", written out here
# by hand):
#  - readOnly true/false; readOnly missing: Get/Describe/List/... names are
#    reads, other names writes, a bare "Get" a write; managementEvent false
#    without eventCategory is a data event; eventCategory Data is ignored
#    unless --include-data-events, which counts its reads in the call rate;
#    errors count per errorCode; --include-read-only moves reads into calls;
#  - --order time with --lateness: records behind newer ones (one of the
#    last minute closed) are stored as late (records_late), or on time
#    with a larger lateness;
#  - --max-record: a record of exactly N bytes is accepted, N+1 skipped;
#  - TRAILSIGHT_STORE names the store when --store is not given;
#  - --max-attr-values N: the values past N of a kind in one hour dropped;
#  - --strict exits 3 on a skip; --no-trailsight-context leaves that key
#    out of a small generated corpus's insights and changes nothing else.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

# minute 0 of 2024-10-01 onwards; every record of account 111122223333 in
# us-east-1 unless said
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
def rec(minute, name, src="ec2.amazonaws.com", ro=None, cat="Management", mgmt=None,
        err=None, sec=10, pad=None):
    r = {"eventVersion": "1.08",
         "eventTime": "2024-10-01T%02d:%02d:%02dZ" % (minute // 60, minute % 60, sec),
         "eventSource": src, "eventName": name, "awsRegion": "us-east-1",
         "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
         "userIdentity": {"arn": "arn:aws:iam::111122223333:user/a"}, "userAgent": "cli"}
    if cat is not None:
        r["eventCategory"] = cat
    if ro is not None:
        r["readOnly"] = ro
    if mgmt is not None:
        r["managementEvent"] = mgmt
    if err is not None:
        r["errorCode"] = err
    if pad is not None:
        r["requestParameters"] = {"pad": ""}
        s = json.dumps(r, separators=(",", ":"))
        r["requestParameters"]["pad"] = "x" * (pad - len(s))
    return json.dumps(r, separators=(",", ":"))
rules = [
    rec(0, "RunInstances", ro=False), rec(0, "RunInstances", ro=False),
    rec(0, "RunInstances", ro=False, err="AccessDenied"),
    rec(0, "DescribeInstances", ro=True),
    rec(1, "DescribeInstances"),            # no readOnly: a read by its name
    rec(1, "ListTagsForResource"),          # no readOnly: a read by its name
    rec(1, "Get"),                          # no readOnly, a bare prefix: a write
    rec(1, "CreateTags"),                   # no readOnly: a write
    rec(2, "GetObject", src="s3.amazonaws.com", ro=True, cat="Data"),
    rec(2, "PutObject", src="s3.amazonaws.com", ro=False, cat="Data"),
    rec(2, "GetObject", src="s3.amazonaws.com", ro=True, cat=None, mgmt=False),
    rec(3, "DescribeInstances", ro=True, err="Throttling"),
]
open(tmp + "/rules.ndjson", "w").write("\n".join(rules) + "\n")
# in time order but for two records behind the newest: 25 minutes, and 21
# (the last minute a lateness of 20 has closed)
late = [rec(0, "RunInstances", ro=False), rec(30, "RunInstances", ro=False),
        rec(5, "RunInstances", ro=False), rec(9, "RunInstances", ro=False),
        rec(31, "RunInstances", ro=False)]
open(tmp + "/late.ndjson", "w").write("\n".join(late) + "\n")
# three callers of one API in one hour
arns = []
for i, who in enumerate(["a", "b", "c", "a"]):
    r = json.loads(rec(i, "RunInstances", ro=False))
    r["userIdentity"]["arn"] = "arn:aws:iam::111122223333:user/" + who
    arns.append(json.dumps(r, separators=(",", ":")))
open(tmp + "/arns.ndjson", "w").write("\n".join(arns) + "\n")
big = rec(0, "RunInstances", ro=False, pad=2000)
assert len(big) == 2000
open(tmp + "/big.ndjson", "w").write(big + "\n")
PY

redis_start "$tmp/r"
port=$redis_port
url="redis://127.0.0.1:$port"
k="ts:{111122223333:us-east-1}:c:20241001"
# counts DB: the count cells of db DB
counts() { redis_dump_counts "$port" "$1"; }
# expect NAME DB CELLS...: db DB holds exactly the cells given
expect() {
  local name=$1 db=$2
  shift 2
  printf '%s\n' "$@" | LC_ALL=C sort > "$tmp/want.$db"
  counts "$db" > "$tmp/got.$db"
  check "$name: the counts" cmp "$tmp/got.$db" "$tmp/want.$db"
  cmp -s "$tmp/got.$db" "$tmp/want.$db" || diff "$tmp/want.$db" "$tmp/got.$db" >&2 || true
}
st() { jq -r "$2" "$tmp/$1.json"; }

# 1. the rules, default options
"$TRAILSIGHT" backfill -q --stats "$tmp/d1.json" --store "$url/1" "$tmp/rules.ndjson"
expect "defaults" 1 \
  "$k:m:ec2.amazonaws.com:RunInstances:calls 0 3" \
  "$k:m:ec2.amazonaws.com:RunInstances:err:AccessDenied 0 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:reads 0 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:reads 1 1" \
  "$k:m:ec2.amazonaws.com:ListTagsForResource:reads 1 1" \
  "$k:m:ec2.amazonaws.com:Get:calls 1 1" \
  "$k:m:ec2.amazonaws.com:CreateTags:calls 1 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:reads 3 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:err:Throttling 3 1"
check "defaults: 9 records counted" test "$(st d1 .records_counted)" = 9
check "defaults: 3 data events ignored" test "$(st d1 .records_ignored.data_events)" = 3

# 2. --include-read-only: the reads move into the call rate
"$TRAILSIGHT" backfill -q --include-read-only --store "$url/2" "$tmp/rules.ndjson"
expect "--include-read-only" 2 \
  "$k:m:ec2.amazonaws.com:RunInstances:calls 0 3" \
  "$k:m:ec2.amazonaws.com:RunInstances:err:AccessDenied 0 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:calls 0 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:calls 1 1" \
  "$k:m:ec2.amazonaws.com:ListTagsForResource:calls 1 1" \
  "$k:m:ec2.amazonaws.com:Get:calls 1 1" \
  "$k:m:ec2.amazonaws.com:CreateTags:calls 1 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:calls 3 1" \
  "$k:m:ec2.amazonaws.com:DescribeInstances:err:Throttling 3 1"

# 3. --include-data-events: data events as their own series, reads counted
"$TRAILSIGHT" backfill -q --stats "$tmp/d3.json" --include-data-events --store "$url/3" \
  "$tmp/rules.ndjson"
check "--include-data-events: 12 records counted" test "$(st d3 .records_counted)" = 12
check "--include-data-events: no data event ignored" test "$(st d3 .records_ignored.data_events)" = 0
counts 3 | grep ':d:' > "$tmp/data.got" || true
check "--include-data-events: the data series" cmp "$tmp/data.got" <(printf '%s\n' \
  "$k:d:s3.amazonaws.com:GetObject:calls 2 2" \
  "$k:d:s3.amazonaws.com:PutObject:calls 2 1" | LC_ALL=C sort)

# 4. a late record, in the order given, is stored; or on time with a
# larger --lateness
for lat in 20 30; do
  db=$((lat == 20 ? 4 : 5))
  "$TRAILSIGHT" backfill -q --order time --lateness "$lat" --stats "$tmp/l$lat.json" \
    --store "$url/$db" "$tmp/late.ndjson"
  expect "--lateness $lat" "$db" \
    "$k:m:ec2.amazonaws.com:RunInstances:calls 0 1" \
    "$k:m:ec2.amazonaws.com:RunInstances:calls 5 1" \
    "$k:m:ec2.amazonaws.com:RunInstances:calls 9 1" \
    "$k:m:ec2.amazonaws.com:RunInstances:calls 30 1" \
    "$k:m:ec2.amazonaws.com:RunInstances:calls 31 1"
done
check "--lateness 20: the records 25 and 21 minutes behind are late" test "$(st l20 .records_late)" = 2
check "--lateness 30: they are on time" test "$(st l30 .records_late)" = 0

# 5. --max-record: 2000 bytes pass at 2000, not at 1999
for m in 1999 2000; do
  "$TRAILSIGHT" backfill -q --max-record "$m" --stats "$tmp/m$m.json" "$tmp/big.ndjson"
done
check "--max-record 2000: the 2000-byte record counted" test "$(st m2000 .records_counted)" = 1
check "--max-record 1999: skipped as too big" test "$(st m1999 .skipped_by_reason.toobig)" = 1

# 6. TRAILSIGHT_STORE without --store
TRAILSIGHT_STORE="$url/6" "$TRAILSIGHT" backfill -q --stats "$tmp/e6.json" "$tmp/late.ndjson"
check "TRAILSIGHT_STORE: the redis backend" test "$(st e6 .store.backend)" = redis
check "TRAILSIGHT_STORE: the counts went there" \
  test "$(counts 6 | wc -l)" = 5

# 7. --strict: the too-big record makes exit 3; without it, exit 0
rc=0
"$TRAILSIGHT" backfill -q --strict --max-record 1999 "$tmp/big.ndjson" || rc=$?
check "--strict: exit 3 on a skipped record (got $rc)" test "$rc" = 3
rc=0
"$TRAILSIGHT" backfill -q --max-record 1999 "$tmp/big.ndjson" || rc=$?
check "without --strict: exit 0 (got $rc)" test "$rc" = 0
# 8. --max-attr-values: past N values of a kind in an hour, the others dropped
for m in 2 3; do
  "$TRAILSIGHT" backfill -q --max-attr-values "$m" --stats "$tmp/a$m.json" "$tmp/arns.ndjson"
done
check "--max-attr-values 2: the third caller's one record dropped" \
  test "$(st a2 .attribution_values_dropped)" = 1
check "--max-attr-values 3: nothing dropped" test "$(st a3 .attribution_values_dropped)" = 0

# 9. --no-trailsight-context: the key left out, nothing else changed
"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 5 --days 8 --apis 3 --rate 10 --regions 1 \
  --anomalies 1 --kinds spike --anomaly-after 7 --quiet
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/ctx.ndjson"
"$TRAILSIGHT" backfill -q --no-trailsight-context "$tmp/c/AWSLogs" > "$tmp/noctx.ndjson"
check "context: insights made" test -s "$tmp/ctx.ndjson"
check "context: every event has trailsightContext by default" \
  test "$(jq -c 'select(.insightDetails.trailsightContext == null)' "$tmp/ctx.ndjson" | wc -l)" = 0
check "--no-trailsight-context: the same events without it" \
  cmp <(jq -c 'del(.insightDetails.trailsightContext)' "$tmp/ctx.ndjson") <(jq -c . "$tmp/noctx.ndjson")
check "--no-trailsight-context: no event has it" \
  test "$(grep -c trailsightContext "$tmp/noctx.ndjson")" = 0
finish

#!/usr/bin/env bash
# shapes.sh - every shape CloudTrail records come in is read, by content:
# per shape (tests/cli/shapes_gen.py), the counts in the store equal those
# recomputed from the records, nothing is skipped, and the data events are
# ignored as such; --format forces one shape. Insight events (real and
# trailsight's own), digests given by path and CloudWatch Logs control
# messages are ignored and counted, not skipped, and --strict passes on
# them. Garbage before the first record costs one skip, byte order marks
# where files were concatenated cost nothing, UTF-16 gets its own message.
# The folder walk reads files by content and names what it passes over.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "jq is required (tools/install-deps.sh)" >&2; exit 1; }

gen=$tmp/gen
python3 "$TS_SOURCE_DIR/tests/cli/shapes_gen.py" "$gen"
redis_start "$tmp/r"
port=$redis_port
db=0
while read -r shape; do
  db=$((db + 1))
  set +e
  "$TRAILSIGHT" backfill --threads 2 --store "redis://127.0.0.1:$port/$db" --strict \
    --stats "$tmp/$shape.stats" "$gen/$shape" > /dev/null 2> "$tmp/$shape.err"
  rc=$?
  set -e
  check "$shape: exit 0 under --strict (got $rc)" test "$rc" = 0
  read -r n data < "$gen/$shape.n"
  got() { jq -r "$1" "$tmp/$shape.stats"; }
  check "$shape: $n records counted (got $(got .records_counted))" test "$(got .records_counted)" = "$n"
  check "$shape: $data data events ignored" test "$(got .records_ignored.data_events)" = "$data"
  check "$shape: nothing skipped" test "$(got .skipped)" = 0
  check "$shape: one file read" test "$(got .files)" = 1
  redis_dump_counts "$port" "$db" > "$tmp/$shape.dump"
  check "$shape: counts equal the recount" cmp "$tmp/$shape.dump" "$gen/$shape.expected"
  check "$shape: no sanitizer report" bash -c "! grep -qiE 'sanitizer|runtime error' '$tmp/$shape.err'"
done < "$gen/shapes"
check "control message ignored and counted" \
  test "$(jq -r .records_ignored.control_messages "$tmp/cwlogs.stats")" = 1

# --format: the forced shape reads its own, and only its own
"$TRAILSIGHT" backfill -q --format lookup-events --stats "$tmp/f1.stats" "$gen/lookup" > /dev/null
check "--format lookup-events reads lookup-events" \
  test "$(jq -r .records_counted "$tmp/f1.stats")" = "$(cut -d' ' -f1 "$gen/lookup.n")"
set +e
"$TRAILSIGHT" backfill -q --format records --strict --stats "$tmp/f2.stats" "$gen/eventbridge" > /dev/null
rc=$?
"$TRAILSIGHT" backfill -q --format nope "$gen/eventbridge" > /dev/null 2>&1
rc_usage=$?
set -e
check "--format records: EventBridge events are skipped (exit $rc)" test "$rc" = 3
check "--format records: nothing counted" test "$(jq -r .records_counted "$tmp/f2.stats")" = 0
check "--format with an unknown shape is a usage error" test "$rc_usage" = 1

# Classification: Insight events as CloudTrail writes them (CloudTrail-Insight
# files, EventBridge), trailsight's own output fed back, a digest by path.
c=$tmp/classify
mkdir -p "$c"
python3 - "$c" <<'PY'
import gzip, json, sys
d = sys.argv[1]
def insight(state, i):
    return {"eventVersion": "1.08", "eventTime": "2024-10-01T10:%02d:00Z" % i, "awsRegion": "us-east-1",
            "eventID": "a5e2c7f0-0000-4000-8000-%012d" % i, "eventType": "AwsCloudTrailInsight",
            "recipientAccountId": "111122223333", "sharedEventID": "b6f3d8e1-0000-4000-8000-%012d" % i,
            "insightDetails": {"state": state, "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
                               "insightType": "ApiCallRateInsight",
                               "insightContext": {"statistics": {"baseline": {"average": 0.01},
                                                                 "insight": {"average": 3.5}}}},
            "eventCategory": "Insight"}
recs = [insight("Start" if i % 2 == 0 else "End", i) for i in range(6)]
open(d + "/111122223333_CloudTrail-Insight_us-east-1_20241001T1000Z_x.json.gz", "wb").write(
    gzip.compress(json.dumps({"Records": recs}).encode()))
open(d + "/insights-eventbridge.json", "w").write("".join(json.dumps(
    {"version": "0", "id": "x%d" % i, "detail-type": "AWS Insight via CloudTrail", "source": "aws.ec2",
     "account": "111122223333", "time": r["eventTime"], "region": "us-east-1", "resources": [],
     "detail": r}) + "\n" for i, r in enumerate(recs)))
open(d + "/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20241001T110000Z.json.gz", "wb").write(
    gzip.compress(json.dumps({"awsAccountId": "111122223333", "digestStartTime": "2024-10-01T10:00:00Z",
                              "digestEndTime": "2024-10-01T11:00:00Z", "digestS3Bucket": "trail-bucket",
                              "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/x.json.gz",
                              "digestPublicKeyFingerprint": "0123456789abcdef",
                              "digestSignatureAlgorithm": "SHA256withRSA",
                              "newestEventTime": "2024-10-01T10:59:58Z", "oldestEventTime": "2024-10-01T09:55:01Z",
                              "previousDigestS3Bucket": None, "previousDigestS3Object": None,
                              "previousDigestHashValue": None, "previousDigestHashAlgorithm": None,
                              "previousDigestSignature": None,
                              "logFiles": [{"s3Bucket": "trail-bucket", "s3Object": "AWSLogs/x_%d.json.gz" % i,
                                            "hashValue": "ab" * 32, "hashAlgorithm": "SHA-256",
                                            "newestEventTime": "2024-10-01T10:59:58Z",
                                            "oldestEventTime": "2024-10-01T09:55:01Z"} for i in range(5)]},
                             indent=2).encode()))
PY
# trailsight's own insights: its golden outputs
cat "$TS_SOURCE_DIR"/tests/golden/*.ndjson > "$c/own.ndjson"
own=$(wc -l < "$c/own.ndjson")
check "trailsight wrote insights to feed back ($own)" test "$own" -gt 0
set +e
"$TRAILSIGHT" backfill --strict --stats "$tmp/c.stats" "$c"/*.gz "$c/insights-eventbridge.json" \
  "$c/own.ndjson" > "$tmp/c.out" 2> "$tmp/c.err"
rc=$?
cat "$c"/*Digest*.gz | "$TRAILSIGHT" backfill --strict --stats "$tmp/c2.stats" - > /dev/null 2>&1
rc_pipe=$?
set -e
cs() { jq -r "$1" "$tmp/c.stats"; }
check "insights and digests: exit 0 under --strict (got $rc)" test "$rc" = 0
check "insight events ignored and counted ($(cs .records_ignored.insight_events))" \
  test "$(cs .records_ignored.insight_events)" = $((12 + own))
check "digest given by path ignored and counted" test "$(cs .records_ignored.digests)" = 1
check "insights and digests: nothing skipped" test "$(cs .skipped)" = 0
check "insights and digests: no insight out of them" test ! -s "$tmp/c.out"
check "piped digest: exit 0 under --strict (got $rc_pipe)" test "$rc_pipe" = 0
check "piped digest ignored and counted" test "$(jq -r .records_ignored.digests "$tmp/c2.stats")" = 1

# Recovery: garbage before the first record, BOMs between files, UTF-16
rv=$tmp/recover
mkdir -p "$rv"
ndjson=$gen/ndjson/events.ndjson
n_nd=$(cut -d' ' -f1 "$gen/ndjson.n")
{ printf '$ aws cloudtrail lookup-events --output json > events.json\n'; cat "$ndjson"; } > "$rv/prompt.json"
# a file cut mid-record: its first line is the tail of a record
{ tail -c 100 "$ndjson"; cat "$ndjson"; } > "$rv/cut.json"
{ printf '\xef\xbb\xbf'; cat "$gen/pretty/export.json"; printf '\xef\xbb\xbf'; cat "$gen/pretty/export.json"; } > "$rv/bom.json"
n_pr=$(cut -d' ' -f1 "$gen/pretty.n")
for f in prompt cut; do
  set +e
  "$TRAILSIGHT" backfill --stats "$tmp/$f.stats" "$rv/$f.json" > /dev/null 2> "$tmp/$f.err"
  set -e
  check "$f: every record after the garbage counted" \
    test "$(jq -r .records_counted "$tmp/$f.stats")" = "$n_nd"
  check "$f: the garbage is one skip" test "$(jq -r .skipped "$tmp/$f.stats")" = 1
  check "$f: reported at offset 0" grep -q "offset 0: invalid JSON" "$tmp/$f.err"
done
"$TRAILSIGHT" backfill --strict --stats "$tmp/bom.stats" "$rv/bom.json" > /dev/null 2>&1
check "BOMs between concatenated files: every record counted" \
  test "$(jq -r .records_counted "$tmp/bom.stats")" = $((2 * n_pr))
# an unknown wrapper holding records: one skip that says how many were lost
python3 - "$gen/ndjson/events.ndjson" "$rv/wrapped.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")][:37]
open(sys.argv[2], "w").write(json.dumps({"export": {"items": recs}}) + "\n")
PY
set +e
"$TRAILSIGHT" backfill --stats "$tmp/wr.stats" "$rv/wrapped.json" > /dev/null 2> "$tmp/wr.err"
set -e
check "unknown wrapper: one skip" test "$(jq -r .skipped "$tmp/wr.stats")" = 1
check "unknown wrapper: the 37 records lost are named" grep -q "it holds 37 records" "$tmp/wr.err"
python3 -c "import sys; sys.stdout.buffer.write(open(sys.argv[1], encoding='utf-8').read().encode('utf-16'))" \
  "$ndjson" > "$rv/utf16.json"
set +e
"$TRAILSIGHT" backfill "$rv/utf16.json" > /dev/null 2> "$tmp/u16.err"
set -e
check "UTF-16: a message that says so" grep -q "UTF-16 text, not UTF-8" "$tmp/u16.err"

# The folder walk: by content, whatever the name; what it passes over is named
w=$tmp/walk
mkdir -p "$w/sub"
cp "$ndjson" "$w/app.log"
gzip -c "$ndjson" > "$w/sub/export"
cp "$gen/array/export.json" "$w/EXPORT.JSON"
cp "$ndjson" "$w/.hidden.json"
printf 'just some notes\n' > "$w/README.txt"
{ printf '\x89PNG\r\n\x1a\n'; head -c 3000 /dev/zero; } > "$w/sub/blob.bin"
: > "$w/empty"
set +e
"$TRAILSIGHT" backfill --strict --stats "$tmp/w.stats" "$w" > /dev/null 2> "$tmp/w.err"
rc=$?
set -e
ws() { jq -r "$1" "$tmp/w.stats"; }
check "walk: .log, bare gzip and .JSON read ($(ws .files) files)" test "$(ws .files)" = 3
check "walk: their records counted" \
  test "$(ws .records_counted)" = $((2 * n_nd + $(cut -d' ' -f1 "$gen/array.n")))
check "walk: three passed over, counted" test "$(ws .files_ignored)" = 3
for f in README.txt sub/blob.bin empty; do
  check "walk: '$f' named as passed over" grep -q "$w/$f': passed over" "$tmp/w.err"
done
check "walk: the hidden file is not named" bash -c "! grep -q hidden '$tmp/w.err'"
check "walk: nothing skipped, --strict exits 0 (got $rc)" test "$rc" = 0
finish

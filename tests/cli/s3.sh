#!/usr/bin/env bash
# s3.sh - backfill s3://BUCKET/PREFIX against a local S3 (s3rver, from npm;
# tools/install-deps.sh installs it under /opt/trailsight-node) on a private
# loopback port:
#  - the insights of a backfill of s3://... are exactly those of a backfill
#    of the same tree on disk (a truncated object skipped in both);
#  - with a Redis store, a second run fetches no log object (trailsight's
#    summary and the server's request log; a note passed over by its
#    content is looked at again) and prints the same insights;
#  - --since/--until list only the day folders asked, one per Region and
#    day, and read only their objects;
#  - a wrong bucket, bad credentials and a server that is down are
#    reported as such, with exit status 1 or 2.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

s3rver_find
if [ -z "$s3rver" ] || ! command -v node >/dev/null || ! command -v curl >/dev/null; then
  skip "s3rver (npm) or node or curl is missing: run tools/install-deps.sh"
  finish
fi

# over 1000 log objects (two pages) and a few digests: s3rver lists keys in
# the order of its folder walk, which puts CloudTrail/ before
# CloudTrail-Digest/ where S3 puts it after, so a page boundary with many
# digests behind it would repeat keys (S3 itself does not)
"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 7 --days 8 --apis 10 --rate 8 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 6 --file-minutes 20 --quiet
logs=$tmp/c/AWSLogs
find "$logs" -path '*/CloudTrail-Digest/*' -type f | sort | tail -n +4 | xargs rm -f
# one truncated object, read (and skipped from) in both
f=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort | sed -n 100p)
head -c 3000 "$tmp/c/$f" > "$tmp/c/${f%.json.gz}_cut.json.gz"
# an object named as Firehose names them (read by its content) and a note
# (passed over by its content)
cp "$tmp/c/$(dirname "$f")/$(ls "$tmp/c/$(dirname "$f")" | head -1)" "$tmp/c/$(dirname "$f")/firehose-1-2026"
echo "synced by hand" > "$tmp/c/$(dirname "$f")/notes.txt"

s3pid=
s3_stop() { [ -z "$s3pid" ] || { kill "$s3pid" 2>/dev/null || true; wait "$s3pid" 2>/dev/null || true; }; s3pid=; }
trap 's3_stop; cleanup' EXIT
s3rver_start "$tmp/s3data" "$tmp/s3.log" || true
port=$s3port
check "s3rver started" test -n "$s3pid"
[ -n "$s3pid" ] || finish
ep=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 || true

# upload the tree under cloudtrail/ (curl signs with SigV4 too)
check "corpus uploaded" s3_upload "$tmp/c" "$ep/trail/cloudtrail"
nobj=$(cd "$tmp/c" && find AWSLogs -type f | wc -l)
nlog=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -type f | wc -l)

# requests the server logged since mark: list requests, other requests
mark() { wc -l < "$tmp/s3.log"; }
lists_since() { tail -n +$(($1 + 1)) "$tmp/s3.log" | grep -a 'info' | grep -a -c 'list-type=2' || true; }
others_since() { tail -n +$(($1 + 1)) "$tmp/s3.log" | grep -a 'info' | grep -a ': /' | grep -a -v -c 'list-type=2' || true; }

# 1. the same insights as the tree on disk
"$TRAILSIGHT" backfill --stats "$tmp/disk.json" -q "$logs" > "$tmp/disk.ndjson"
check "insights written" test -s "$tmp/disk.ndjson"
m=$(mark)
"$TRAILSIGHT" backfill --stats "$tmp/s3.json" --endpoint-url "$ep" s3://trail/cloudtrail/ \
  > "$tmp/s3.ndjson" 2> "$tmp/s3.err"
check "s3:// prints exactly the insights of the tree on disk" cmp "$tmp/s3.ndjson" "$tmp/disk.ndjson"
check "every log object read (the note passed over)" test "$(jq .files "$tmp/s3.json")" = "$((nlog - 1))"
check "as many records as on disk" test "$(jq .records_read "$tmp/s3.json")" = "$(jq .records_read "$tmp/disk.json")"
check "the truncated object skipped, as on disk" \
  test "$(jq .skipped_by_reason.truncated "$tmp/s3.json")" = "$(jq .skipped_by_reason.truncated "$tmp/disk.json")"
check "the skip names the bucket and key" grep -q "s3://trail/cloudtrail/${f%.json.gz}_cut.json.gz" "$tmp/s3.err"
check "a note passed over by its content" \
  grep -q "s3://trail/cloudtrail/$(dirname "$f")/notes.txt': passed over (not JSON text)" "$tmp/s3.err"
check "digests passed over by key, never fetched (the note is)" test "$(jq .s3.get_requests "$tmp/s3.json")" = "$nlog"
check "over 1000 keys: the listing took two pages" test "$(jq .s3.list_requests "$tmp/s3.json")" = 2
check "the server saw as many list requests" test "$(lists_since "$m")" = 2
check "and one request per log object" test "$(others_since "$m")" = "$nlog"
AWS_ENDPOINT_URL_S3=$ep "$TRAILSIGHT" backfill -q s3://trail/cloudtrail/AWSLogs > "$tmp/s3env.ndjson"
check "AWS_ENDPOINT_URL_S3, a prefix without its slash" cmp "$tmp/s3env.ndjson" "$tmp/disk.ndjson"

# 2. a Redis store: the second run fetches nothing
if command -v redis-server >/dev/null; then
  redis_start "$tmp/r"
  url="redis://127.0.0.1:$redis_port"
  "$TRAILSIGHT" backfill -q --store "$url" --endpoint-url "$ep" s3://trail/cloudtrail/ > "$tmp/r1.ndjson"
  check "redis store: the same insights" cmp "$tmp/r1.ndjson" "$tmp/disk.ndjson"
  m=$(mark)
  "$TRAILSIGHT" backfill --stats "$tmp/r2.json" --store "$url" --endpoint-url "$ep" \
    s3://trail/cloudtrail/ > "$tmp/r2.ndjson" 2> "$tmp/r2.err"
  check "second run reads no object" test "$(jq .files "$tmp/r2.json")" = 0
  check "every log object already counted (by key and ETag)" \
    test "$(jq .files_already_counted "$tmp/r2.json")" = "$((nlog - 1))"
  # the note is fetched again to be looked at, as a folder's note is read
  # again: only what was counted is remembered
  check "no log object requested, the note only (trailsight)" \
    test "$(jq .s3.get_requests "$tmp/r2.json")" = 1
  check "no log object requested, the note only (the server's log)" test "$(others_since "$m")" = 1
  check "the insights derived again from the store" cmp "$tmp/r2.ndjson" "$tmp/disk.ndjson"
  # an object replaced under the same key (a new ETag) is read again
  k=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -name '*.json.gz' | sort | sed -n 5p)
  zcat "$tmp/c/$k" | gzip -1 > "$tmp/re.json.gz"
  curl -sS --fail -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$tmp/re.json.gz" "$ep/trail/cloudtrail/$k"
  "$TRAILSIGHT" backfill -q --stats "$tmp/r3.json" --store "$url" --endpoint-url "$ep" \
    s3://trail/cloudtrail/ > /dev/null
  check "a replaced object (new ETag) is read again, alone" test "$(jq .files "$tmp/r3.json")" = 1
else
  skip "redis-server is not installed: the rerun with a store is not checked"
fi

# 3. --since/--until: only the day folders asked are listed, and read
m=$(mark)
"$TRAILSIGHT" backfill -q --stats "$tmp/days.json" --endpoint-url "$ep" --since 2026-01-07 \
  --until 2026-01-09 s3://trail/cloudtrail/ > /dev/null
reqs=$(tail -n +$((m + 1)) "$tmp/s3.log" | grep -a 'list-type=2' || true)
days=$(echo "$reqs" | grep -a -v 'max-keys=1' | sed -E 's/.*prefix=([^ &]*).*/\1/; s/%2F/\//g' | sort)
want=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -type d -regex '.*/CloudTrail/[^/]*' |
       while read -r r; do echo "cloudtrail/$r/2026/01/07/"; echo "cloudtrail/$r/2026/01/08/"; done | sort)
check "objects listed only in the day folders asked, 2 per Region" test "$days" = "$want"
check "4 day folders" test "$(echo "$days" | wc -l)" = 4
# the rest: one key at a time, each naming a folder then skipped over:
# the two Regions and the end (S3 would first name the digest folder; s3rver
# walks it after CloudTrail/, so it is behind the start-after and unseen)
disc=$(echo "$reqs" | grep -a -c 'max-keys=1')
check "3 or 4 discovery requests" test "$disc" = 3 -o "$disc" = 4
nday=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/*' -type f -regex '.*/2026/01/0[78]/.*' ! -name notes.txt | wc -l)
check "only their objects read" test "$(jq .files "$tmp/days.json")" = "$nday"
check "the digest folder never listed" bash -c "! echo '$reqs' | grep -a -q 'CloudTrail-Digest%2F'"
check "lists counted by trailsight = lists the server saw" \
  test "$(jq .s3.list_requests "$tmp/days.json")" = "$(lists_since "$m")"

# --region: only that Region's folder listed and read
m=$(mark)
"$TRAILSIGHT" backfill -q --stats "$tmp/reg.json" --endpoint-url "$ep" --region eu-west-1 \
  s3://trail/cloudtrail/ > /dev/null
neu=$(cd "$tmp/c" && find AWSLogs -path '*/CloudTrail/eu-west-1/*' -type f ! -name notes.txt | wc -l)
check "--region: only its objects read" test "$(jq .files "$tmp/reg.json")" = "$neu"
check "--region: the other Region never listed" \
  bash -c "! tail -n +$((m + 1)) '$tmp/s3.log' | grep -a 'list-type=2' | grep -a -E -q 'prefix=[^ &]*CloudTrail%2Fus-east-1%2F'"
check "--region: its folder listed" \
  bash -c "tail -n +$((m + 1)) '$tmp/s3.log' | grep -a 'list-type=2' | grep -a -E -q 'prefix=[^ &]*CloudTrail%2Feu-west-1%2F'"

# 4. errors a user can act on
set +e
"$TRAILSIGHT" backfill -q --endpoint-url "$ep" s3://no-such-bucket/ > /dev/null 2> "$tmp/e1"
rc1=$?
AWS_ACCESS_KEY_ID=NOSUCHKEY "$TRAILSIGHT" backfill -q --endpoint-url "$ep" s3://trail/ > /dev/null 2> "$tmp/e2"
rc2=$?
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$tmp" AWS_SHARED_CREDENTIALS_FILE="$tmp/none" \
  AWS_CONFIG_FILE="$tmp/none" AWS_EC2_METADATA_DISABLED=true "$TRAILSIGHT" backfill -q --endpoint-url "$ep" s3://trail/ > /dev/null 2> "$tmp/e3"
rc3=$?
"$TRAILSIGHT" backfill -q --endpoint-url "$ep" --since 2026-01-07 "$logs" > /dev/null 2> "$tmp/e4"
rc4=$?
set -e
check "a missing bucket: exit 1, named" test "$rc1" = 1 -a -n "$(grep 'no-such-bucket.*NoSuchBucket' "$tmp/e1")"
check "an unknown key: exit 1, S3's reason" test "$rc2" = 1 -a -n "$(grep 'InvalidAccessKeyId' "$tmp/e2")"
check "no credentials: exit 1, where it looked" test "$rc3" = 1 -a -n "$(grep 'no AWS credentials' "$tmp/e3")"
check "--since with a folder: exit 1" test "$rc4" = 1
s3_stop
set +e
"$TRAILSIGHT" backfill -q --endpoint-url "$ep" s3://trail/ > /dev/null 2> "$tmp/e5"
rc5=$?
set -e
check "the server down: exit 1, said" test "$rc5" = 1 -a -n "$(grep -i 'connect' "$tmp/e5")"
finish
